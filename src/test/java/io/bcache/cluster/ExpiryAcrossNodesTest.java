package io.bcache.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.Factory;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableCacheEntryListenerConfiguration;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.event.CacheEntryEvent;
import javax.cache.event.CacheEntryExpiredListener;
import javax.cache.expiry.AccessedExpiryPolicy;
import javax.cache.expiry.CreatedExpiryPolicy;
import javax.cache.expiry.ExpiryPolicy;
import javax.cache.expiry.ModifiedExpiryPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An entry's absolute expiry time travels with each change, so every node lets it go at the
 * same moment, and an update that moves it moves it everywhere; an access that extends it (an
 * access-based policy) extends it only on the node that read it. Reads on the peer use
 * {@code containsKey}, which is not an access.
 */
@Timeout(120)
class ExpiryAcrossNodesTest {

  private static final long TTL_MILLIS = 3_000;
  private static final javax.cache.expiry.Duration TTL = new javax.cache.expiry.Duration(TimeUnit.MILLISECONDS, TTL_MILLIS);
  private static final Duration CONVERGE = Duration.ofSeconds(30);
  /** The expiries node b heard, as "key=value". */
  static final List<String> EXPIRED_ON_B = new CopyOnWriteArrayList<>();

  private InJvmCluster cluster;

  @BeforeEach
  void startZooKeeper() throws Exception {
    cluster = InJvmCluster.start("expiry");
  }

  @AfterEach
  void stopEverything() throws Exception {
    cluster.close();
  }

  private Cache<String, String>[] twoNodes(Factory<? extends ExpiryPolicy> policy) {
    MutableConfiguration<String, String> configuration = new MutableConfiguration<String, String>()
        .setTypes(String.class, String.class).setExpiryPolicyFactory(policy);
    @SuppressWarnings("unchecked")
    Cache<String, String>[] caches = new Cache[] {
        cluster.node("a").createCache("c", configuration), cluster.node("b").createCache("c", configuration)};
    return caches;
  }

  @Test
  void anEntryExpiresOnEveryNodeAtTheTimeItWasWrittenWith() {
    Cache<String, String>[] nodes = twoNodes(CreatedExpiryPolicy.factoryOf(TTL));
    long written = putOnAUntilOnB(nodes, "v");

    await().atMost(CONVERGE).until(() -> !nodes[0].containsKey("k"));
    assertThat(nodes[1].containsKey("k")).isFalse();
    assertThat(System.currentTimeMillis() - written).isGreaterThanOrEqualTo(TTL_MILLIS);
  }

  @Test
  void anUpdateThatMovesTheExpiryMovesItOnEveryNode() {
    Cache<String, String>[] nodes = twoNodes(ModifiedExpiryPolicy.factoryOf(TTL));
    long written = putOnAUntilOnB(nodes, "v1");
    untilMillisAfter(written, TTL_MILLIS / 2);
    long updated = System.currentTimeMillis();
    nodes[0].put("k", "v2");
    await().atMost(CONVERGE).until(() -> "v2".equals(peek(nodes[1])));

    untilMillisAfter(written, TTL_MILLIS + 200); // past the first expiry, before the second
    assertThat(nodes[1].containsKey("k")).as("b still holds it past the expiry it was written with").isTrue();
    assertThat(System.currentTimeMillis()).isLessThan(updated + TTL_MILLIS);
    await().atMost(CONVERGE).until(() -> !nodes[1].containsKey("k"));
    assertThat(System.currentTimeMillis() - updated).isGreaterThanOrEqualTo(TTL_MILLIS);
  }

  @Test
  void anAccessExtendsTheExpiryOnlyWhereItHappened() {
    Cache<String, String>[] nodes = twoNodes(AccessedExpiryPolicy.factoryOf(TTL));
    long written = putOnAUntilOnB(nodes, "v");
    untilMillisAfter(written, TTL_MILLIS / 2);
    long accessed = System.currentTimeMillis();
    assertThat(nodes[0].get("k")).isEqualTo("v"); // extends a's expiry, not b's

    await().atMost(CONVERGE).until(() -> !nodes[1].containsKey("k"));
    assertThat(System.currentTimeMillis()).as("b let it go at the expiry it was written with")
        .isLessThan(accessed + TTL_MILLIS);
    assertThat(nodes[0].containsKey("k")).as("a, where it was read, still holds it").isTrue();
  }

  @Test
  void anAccessDoesNotTravelWithASnapshot() {
    MutableConfiguration<String, String> configuration = new MutableConfiguration<String, String>()
        .setTypes(String.class, String.class).setExpiryPolicyFactory(AccessedExpiryPolicy.factoryOf(TTL));
    CacheManager nodeB = cluster.node("b"); // a member with no copy of the cache yet
    Cache<String, String> a = cluster.node("a").createCache("c", configuration);
    long written = System.currentTimeMillis();
    a.put("k", "v");
    untilMillisAfter(written, TTL_MILLIS / 2);
    long accessed = System.currentTimeMillis();
    assertThat(a.get("k")).isEqualTo("v"); // extends a's expiry, not the one its write set

    // b's copy comes from a snapshot of a's: the change a sent when it wrote found no copy on b
    Cache<String, String> b = nodeB.createCache("c", configuration);
    await().atMost(Duration.ofMillis(TTL_MILLIS / 2)).until(() -> b.containsKey("k"));

    await().atMost(CONVERGE).until(() -> !b.containsKey("k"));
    assertThat(System.currentTimeMillis()).as("b let it go at the expiry its write set")
        .isLessThan(accessed + TTL_MILLIS);
    assertThat(a.containsKey("k")).as("a, where it was read, still holds it").isTrue();
  }

  @Test
  void anUpdateThatKeepsTheExpiryCarriesTheOneItHasWhereItWasMade() {
    Cache<String, String>[] nodes = twoNodes(AccessedExpiryPolicy.factoryOf(TTL)); // an update keeps it
    long written = putOnAUntilOnB(nodes, "v1");
    untilMillisAfter(written, TTL_MILLIS / 2);
    long accessed = System.currentTimeMillis();
    assertThat(nodes[0].get("k")).isEqualTo("v1");
    assertThat(nodes[1].get("k")).isEqualTo("v1");

    untilMillisAfter(written, TTL_MILLIS + 300); // past the expiry the put set, before the reads' ones
    nodes[0].put("k", "v2");

    await().atMost(CONVERGE).until(() -> "v2".equals(peek(nodes[1])));
    assertThat(System.currentTimeMillis()).isLessThan(accessed + TTL_MILLIS);
  }

  @Test
  void aValueExpiredWhenItArrivesReplacesTheOlderOneAndIsHeardToExpire() {
    Cache<String, String>[] nodes = twoNodes(FactoryBuilder.factoryOf(ExpiresOnUpdate.class));
    EXPIRED_ON_B.clear();
    nodes[1].registerCacheEntryListener(new MutableCacheEntryListenerConfiguration<>(
        FactoryBuilder.factoryOf(ExpiredRecorder.class), null, true, false));
    putOnAUntilOnB(nodes, "v1");

    nodes[0].put("k", "v2"); // an update that expires at once: already over when it reaches b

    // heard without a read on b, which would find the entry expired and fire the event itself
    await().atMost(CONVERGE).until(() -> EXPIRED_ON_B.contains("k=v1")); // the value b held expired
    assertThat(nodes[1].containsKey("k")).isFalse();
  }

  /** Records the expiries it hears. */
  public static final class ExpiredRecorder implements CacheEntryExpiredListener<String, String> {
    @Override
    public void onExpired(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      events.forEach(event -> EXPIRED_ON_B.add(event.getKey() + "=" + event.getValue()));
    }
  }

  /** Eternal once created; an update expires the entry at once. */
  public static final class ExpiresOnUpdate implements ExpiryPolicy {
    @Override
    public javax.cache.expiry.Duration getExpiryForCreation() {
      return javax.cache.expiry.Duration.ETERNAL;
    }

    @Override
    public javax.cache.expiry.Duration getExpiryForAccess() {
      return null;
    }

    @Override
    public javax.cache.expiry.Duration getExpiryForUpdate() {
      return javax.cache.expiry.Duration.ZERO;
    }
  }

  /** Puts "k" on node a and waits until node b holds it; returns when the put was made. */
  private static long putOnAUntilOnB(Cache<String, String>[] nodes, String value) {
    long written = System.currentTimeMillis();
    nodes[0].put("k", value);
    await().atMost(CONVERGE).until(() -> nodes[1].containsKey("k"));
    return written;
  }

  /** The value b holds, without an access: through iteration. */
  private static String peek(Cache<String, String> cache) {
    for (Cache.Entry<String, String> entry : cache) {
      if (entry.getKey().equals("k")) {
        return entry.getValue();
      }
    }
    return null;
  }

  private static void untilMillisAfter(long start, long millis) {
    await().pollInterval(Duration.ofMillis(10)).atMost(Duration.ofMillis(millis + 5_000))
        .until(() -> System.currentTimeMillis() >= start + millis);
  }
}
