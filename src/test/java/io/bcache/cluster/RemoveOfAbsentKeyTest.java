package io.bcache.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Properties;
import java.util.Set;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.expiry.CreatedExpiryPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An unconditional remove on a node that does not hold the key (here: evicted by its own small
 * bound) still removes it from the nodes that do. Hibernate relies on this: it invalidates an
 * entity by removing its key on the node that changed it, whatever that node holds.
 */
@Timeout(60)
class RemoveOfAbsentKeyTest {

  private static final Duration CONVERGE = Duration.ofSeconds(20);

  private InJvmCluster cluster;
  private CacheManager smallManager;
  private CacheManager largeManager;
  private Cache<String, String> small;
  private Cache<String, String> large;

  @BeforeEach
  void startTwoNodes() throws Exception {
    cluster = InJvmCluster.start("absent");
    smallManager = node("small", 1);
    largeManager = node("large", 1000);
    small = smallManager.createCache("users", new MutableConfiguration<>());
    large = largeManager.createCache("users", new MutableConfiguration<>());
  }

  @AfterEach
  void stopEverything() throws Exception {
    cluster.close();
  }

  private CacheManager node(String name, int bound) {
    Properties properties = new Properties();
    properties.setProperty("bcache.maxEntries", String.valueOf(bound));
    return cluster.node(name, properties);
  }

  /** Puts k1 then k2 on the small node: k1 is evicted there and lives on the large node only. */
  private void k1OnlyOnTheLargeNode() {
    small.put("k1", "v1");
    small.put("k2", "v2");
    await().atMost(CONVERGE).until(() -> "v1".equals(large.get("k1")) && "v2".equals(large.get("k2")));
    assertThat(small.containsKey("k1")).isFalse();
  }

  @Test
  void removeOfAKeyEvictedHereRemovesItElsewhere() {
    k1OnlyOnTheLargeNode();
    assertThat(small.remove("k1")).isFalse();
    await().atMost(CONVERGE).until(() -> !large.containsKey("k1"));
    assertThat(large.get("k2")).isEqualTo("v2");
  }

  @Test
  void getAndRemoveAndRemoveAllOfKeysEvictedHereRemoveThemElsewhere() {
    k1OnlyOnTheLargeNode();
    assertThat(small.getAndRemove("k1")).isNull();
    await().atMost(CONVERGE).until(() -> !large.containsKey("k1"));

    large.put("k3", "v3");
    await().atMost(CONVERGE).until(() -> "v3".equals(small.get("k3"))); // k2 evicted on small
    assertThat(small.containsKey("k2")).isFalse();
    small.removeAll(Set.of("k2", "k3"));
    await().atMost(CONVERGE).until(() -> !large.containsKey("k2") && !large.containsKey("k3"));
  }

  @Test
  void anEntryProcessorRemovingAKeyEvictedHereRemovesItElsewhere() {
    k1OnlyOnTheLargeNode();
    small.invoke("k1", (entry, arguments) -> {
      entry.remove();
      return null;
    });
    await().atMost(CONVERGE).until(() -> !large.containsKey("k1"));
    assertThat(large.get("k2")).isEqualTo("v2");
  }

  /**
   * A write that expires as it is created leaves no value; where the writing node did not hold
   * the key, the nodes that do must not keep the older value either.
   */
  @Test
  void aWriteExpiringOnCreationOfAKeyEvictedHereRemovesItElsewhere() {
    Cache<String, String> expiring = smallManager.createCache("expiring", new MutableConfiguration<String, String>()
        .setExpiryPolicyFactory(CreatedExpiryPolicy.factoryOf(javax.cache.expiry.Duration.ZERO)));
    Cache<String, String> keeping = largeManager.createCache("expiring", new MutableConfiguration<>());
    keeping.put("k1", "v1");
    await().atMost(CONVERGE).until(() -> expiring.containsKey("k1"));
    keeping.put("k2", "v2"); // reaches the small node and evicts k1 there
    await().atMost(CONVERGE).until(() -> expiring.containsKey("k2") && !expiring.containsKey("k1"));

    expiring.put("k1", "v1b");

    await().atMost(CONVERGE).until(() -> !keeping.containsKey("k1"));
    assertThat(keeping.get("k2")).isEqualTo("v2");
  }
}
