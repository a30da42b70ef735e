package io.bcache.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.bcache.jcache.management.ClusterMXBean;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableCacheEntryListenerConfiguration;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEvent;
import javax.cache.event.CacheEntryRemovedListener;
import javax.cache.event.CacheEntryUpdatedListener;
import javax.cache.event.EventType;
import javax.cache.integration.CacheWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Several nodes in one JVM, joined through a real ZooKeeper, replicating over real TCP on
 * 127.0.0.1; everything through the JCache API and the bcache.* properties.
 */
@Timeout(120)
class ClusterReplicationTest {

  private static final Duration CONVERGE = Duration.ofSeconds(30);

  private InJvmCluster cluster;

  @BeforeEach
  void startZooKeeper() throws Exception {
    cluster = InJvmCluster.start("test");
  }

  @AfterEach
  void stopEverything() throws Exception {
    cluster.close();
  }

  private CacheManager node(String name) {
    return node(name, new Properties());
  }

  private CacheManager node(String name, Properties extra) {
    Properties properties = new Properties();
    properties.setProperty("bcache.maxEntries", "100000");
    properties.putAll(extra);
    return cluster.node(name, properties);
  }

  private static Cache<String, String> cache(CacheManager manager) {
    return manager.createCache("users", new MutableConfiguration<String, String>().setTypes(String.class, String.class));
  }

  @Test
  void writesOnOneNodeBecomeVisibleOnEveryOther() {
    Cache<String, String> a = cache(node("a"));
    Cache<String, String> b = cache(node("b"));
    Cache<String, String> c = cache(node("c"));

    a.put("k1", "v1");
    await().atMost(CONVERGE).until(() -> "v1".equals(b.get("k1")) && "v1".equals(c.get("k1")));

    b.put("k1", "v2");
    await().atMost(CONVERGE).until(() -> "v2".equals(a.get("k1")) && "v2".equals(c.get("k1")));

    c.remove("k1");
    await().atMost(CONVERGE).until(() -> !a.containsKey("k1") && !b.containsKey("k1"));
  }

  @Test
  void aRemoteChangeFiresLocalListenersButNotTheLocalWriter() {
    Cache<String, String> a = cache(node("a"));
    CacheManager managerB = node("b");
    RecordingListener.EVENTS.clear();
    CountingWriter.WRITES.set(0);
    MutableConfiguration<String, String> config = new MutableConfiguration<String, String>()
        .setTypes(String.class, String.class)
        .setWriteThrough(true)
        .setCacheWriterFactory(FactoryBuilder.factoryOf(CountingWriter.class))
        .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
            FactoryBuilder.factoryOf(RecordingListener.class), null, true, true));
    Cache<String, String> b = managerB.createCache("users", config);

    a.put("k", "one");
    a.put("k", "two");
    a.remove("k");

    await().atMost(CONVERGE).until(() -> RecordingListener.EVENTS.size() >= 3);
    assertThat(RecordingListener.EVENTS).containsExactly(EventType.CREATED, EventType.UPDATED, EventType.REMOVED);
    assertThat(b.containsKey("k")).isFalse();
    assertThat(CountingWriter.WRITES).hasValue(0);
  }

  @Test
  void aLateJoinerReceivesTheWholeState() {
    Cache<String, String> a = cache(node("a"));
    int count = 20_000;
    for (int i = 0; i < count; i++) {
      a.put("key-" + i, "value-" + i);
    }
    a.remove("key-7");

    Cache<String, String> late = cache(node("late"));
    await().atMost(CONVERGE).untilAsserted(() -> assertThat(countEntries(late)).isEqualTo(count - 1));
    assertThat(late.get("key-12345")).isEqualTo("value-12345");
    assertThat(late.containsKey("key-7")).isFalse();
  }

  @Test
  void aClearEmptiesEveryNodeWithoutEventsAndLaterWritesStay() {
    Cache<String, String> a = cache(node("a"));
    Cache<String, String> b = cache(node("b"));
    Cache<String, String> c = cache(node("c"));
    putNumbered(a, "k", "v", 100);
    awaitEntries(100, b, c);
    RecordingListener.EVENTS.clear();
    c.registerCacheEntryListener(new MutableCacheEntryListenerConfiguration<>(
        FactoryBuilder.factoryOf(RecordingListener.class), null, false, true));

    b.clear();
    assertThat(countEntries(b)).isZero();
    awaitEntries(0, a, c);

    // writes after the clear replicate as before, also to a node that joins later
    c.put("after", "v");
    await().atMost(CONVERGE).until(() -> "v".equals(a.get("after")) && "v".equals(b.get("after")));
    Cache<String, String> late = cache(node("late"));
    await().atMost(CONVERGE).until(() -> "v".equals(late.get("after")));
    assertThat(countEntries(late)).isEqualTo(1);
    // a clear fires no event, here or elsewhere: c heard only its own put
    assertThat(RecordingListener.EVENTS).containsExactly(EventType.CREATED);
  }

  @Test
  void eachNodeKeepsItsOwnBoundAndEvictionStaysLocal() {
    Properties small = new Properties();
    small.setProperty("bcache.maxEntries", "10000");
    small.setProperty("bcache.cache.users.maxEntries", "100");
    Cache<String, String> bounded = cache(node("small", small));
    Cache<String, String> big = cache(node("big"));

    putNumbered(big, "k", "v", 1_000);
    await().atMost(CONVERGE).until(() -> "v999".equals(bounded.get("k999")));
    assertThat(countEntries(bounded)).isEqualTo(100);
    // the small node's evictions never reach the big one
    assertThat(countEntries(big)).isEqualTo(1_000);
  }

  @Test
  void aCacheClosedOnOneNodeAndCreatedAgainHoldsEverythingItsPeersHold() {
    CacheManager managerA = node("a");
    Cache<String, String> a = cache(managerA);
    Cache<String, String> b = cache(node("b"));
    putNumbered(a, "from-a-", "v", 1_000);
    awaitEntries(1_000, b);

    a.close(); // JCache: the contents of a closed cache may still be available, here from the peers
    putNumbered(b, "from-b-", "w", 100);
    Cache<String, String> again = cache(managerA);

    // A's own earlier writes come back too (here from A's backlog, which still holds them; those
    // that only a peer's copy or backlog holds come from there: CacheSyncTest)
    await().atMost(CONVERGE).untilAsserted(() -> assertThat(countEntries(again)).isEqualTo(1_100));
    assertThat(again.get("from-a-7")).isEqualTo("v7");
    assertThat(again.get("from-b-7")).isEqualTo("w7");
  }

  @Test
  void aWriteThatRacedTheCloseOfItsCacheReachesTheCopyCreatedAgainAsWellAsThePeers() throws Exception {
    CacheManager managerA = node("a");
    HeldWriter.entered = new CountDownLatch(1);
    HeldWriter.release = new CountDownLatch(1);
    // the closed copy keeps the caller's arrays (by reference), the new one their encodings (by
    // value): the change must leave in the form of the copy that made it
    Cache<String, byte[]> a = managerA.createCache("blobs", new MutableConfiguration<String, byte[]>()
        .setTypes(String.class, byte[].class)
        .setStoreByValue(false)
        .setWriteThrough(true)
        .setCacheWriterFactory(FactoryBuilder.factoryOf(HeldWriter.class)));
    Cache<String, byte[]> b = blobs(node("b"));
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread writer = new Thread(() -> {
      try {
        a.putAll(Map.of("raced", new byte[] {1, 2, 3})); // waits in the cache writer, then
      } catch (Throwable e) {                             // writes to the closed copy
        failure.set(e);
      }
    });
    writer.start();
    assertThat(HeldWriter.entered.await(30, TimeUnit.SECONDS)).isTrue();

    a.close();
    Cache<String, byte[]> again = blobs(managerA);
    HeldWriter.release.countDown();
    writer.join(TimeUnit.SECONDS.toMillis(30));
    assertThat(writer.isAlive()).isFalse();
    assertThat(failure.get()).isNull();

    // the change left after the new copy existed: the peers get it, and so must the new copy,
    // which would otherwise take it for one of its own writes and never ask for it
    await().atMost(CONVERGE).until(() -> b.get("raced") != null);
    assertThat(b.get("raced")).containsExactly(1, 2, 3);
    assertThat(again.get("raced")).containsExactly(1, 2, 3);
  }

  private static Cache<String, byte[]> blobs(CacheManager manager) {
    return manager.createCache("blobs", new MutableConfiguration<String, byte[]>().setTypes(String.class, byte[].class));
  }

  @Test
  void aCacheDestroyedOnOneNodeAndCreatedAgainHoldsOnlyWhatWasWrittenAfterTheDestroy() {
    CacheManager managerA = node("a");
    Cache<String, String> a = cache(managerA);
    Cache<String, String> b = cache(node("b"));
    putNumbered(a, "before-", "v", 500);
    awaitEntries(500, b);

    managerA.destroyCache("users"); // a clear, on every node, then A's copy closes
    awaitEntries(0, b);
    putNumbered(b, "after-", "w", 100);
    Cache<String, String> again = cache(managerA);
    again.put("again", "x");

    // A's own earlier writes are asked for like any cache created again, and none is left
    await().atMost(CONVERGE).untilAsserted(() -> {
      assertThat(countEntries(again)).isEqualTo(101);
      assertThat(countEntries(b)).isEqualTo(101);
    });
    assertThat(again.get("before-7")).isNull();
    assertThat(again.get("after-7")).isEqualTo("w7");
    assertThat(b.get("again")).isEqualTo("x");
  }

  @Test
  void aCleanCloseLosesNoWrite() {
    CacheManager managerA = node("a");
    Cache<String, String> a = cache(managerA);
    Cache<String, String> b = cache(node("b"));
    awaitConnected(a, b);

    int count = 5_000;
    for (int i = 0; i < count; i++) {
      a.put("k" + i, "v" + i);
    }
    managerA.close();

    // close() returned after handing every change to the network; b applies what it received
    await().atMost(CONVERGE).untilAsserted(() -> assertThat(countEntries(b)).isEqualTo(count + 1));
  }

  @Test
  void everyWriteThatReturnedWhileItsManagerClosedReachesThePeer() throws Exception {
    Properties roomy = new Properties(); // room for every write, however many get made
    roomy.setProperty("bcache.maxEntries", "1000000");
    CacheManager managerA = node("a", roomy);
    Cache<String, String> a = cache(managerA);
    Cache<String, String> b = cache(node("b", roomy));
    awaitConnected(a, b);

    // a writer goes on while another thread closes the manager: a write either fails (the cache
    // is closed) or reaches b
    int bound = 900_000;
    AtomicInteger made = new AtomicInteger(); // k0 up to this one (excluded) were written
    CountDownLatch writing = new CountDownLatch(1);
    Thread writer = new Thread(() -> {
      for (int i = 0; i < bound; i++) {
        try {
          a.put("k" + i, "v");
        } catch (IllegalStateException closed) {
          return;
        }
        made.set(i + 1);
        if (i == 1_000) {
          writing.countDown();
        }
      }
    });
    writer.start();
    assertThat(writing.await(30, TimeUnit.SECONDS)).isTrue();
    managerA.close();
    writer.join(TimeUnit.MINUTES.toMillis(1));

    int written = made.get();
    assertThat(written).as("writes made before the close").isLessThan(bound);
    await().atMost(CONVERGE).untilAsserted(() -> {
      for (int i = 0; i < written; i++) {
        assertThat(b.containsKey("k" + i)).as("k" + i + " of " + written).isTrue();
      }
    });
  }

  @Test
  void aManagerAskedForWhileItsPredecessorLeavesTakesOverItsFixedPort() throws Exception {
    Properties fixedPort = new Properties();
    fixedPort.setProperty("bcache.bind", "127.0.0.1:" + InJvmCluster.freeLoopbackPort());
    CacheManager first = node("a", fixedPort);
    Cache<String, String> a = cache(first);
    Cache<String, String> b = cache(node("b"));
    putNumbered(a, "k", "v", 20_000); // b holds them only once it has acknowledged them all
    await().atMost(CONVERGE).until(() -> b.containsKey("k19999"));

    Thread closer = new Thread(first::close);
    closer.start();
    await().atMost(CONVERGE).until(first::isClosed); // the close began: the node is leaving
    CacheManager second = node("a", fixedPort); // same URI and port: made once the first has left

    assertThat(second).isNotSameAs(first);
    Cache<String, String> again = cache(second);
    again.put("after", "reopened");
    await().atMost(CONVERGE).until(() -> "reopened".equals(b.get("after")));
    closer.join(TimeUnit.MINUTES.toMillis(1));
  }

  @Test
  void aWriteStillUnderWayWhenItsNodeHasLeftFailsInsteadOfReturning() throws Exception {
    HeldWriter.entered = new CountDownLatch(1);
    HeldWriter.release = new CountDownLatch(1);
    CacheManager managerA = node("a");
    Cache<String, String> a = managerA.createCache("users", new MutableConfiguration<String, String>()
        .setTypes(String.class, String.class).setWriteThrough(true)
        .setCacheWriterFactory(FactoryBuilder.factoryOf(HeldWriter.class)));
    CacheManager managerB = node("b");
    Cache<String, String> b = cache(managerB);
    awaitConnected(a, b);

    // a put whose writer is slow is under way while a's manager closes and the node leaves
    CompletableFuture<Void> slowPut = CompletableFuture.runAsync(() -> a.put("slow", "v"));
    assertThat(HeldWriter.entered.await(30, TimeUnit.SECONDS)).isTrue();
    Thread closer = new Thread(managerA::close);
    closer.start();
    ClusterMXBean beanB = InJvmCluster.clusterBean(managerB);
    await().atMost(CONVERGE).until(() -> beanB.getConnectedPeerCount() == 0);
    HeldWriter.release.countDown();

    // it cannot reach b any more: the caller is told, rather than the put returning
    assertThatThrownBy(() -> slowPut.get(30, TimeUnit.SECONDS))
        .hasCauseInstanceOf(IllegalStateException.class);
    closer.join(TimeUnit.MINUTES.toMillis(1));
    assertThat(b.containsKey("slow")).isFalse();
  }

  @Test
  void aCleanCloseWaitsForAPeerStillCatchingUp() throws Exception {
    CacheManager managerA = node("a");
    Cache<String, String> a = cache(managerA);
    int count = 20_000;
    Map<String, String> entries = new HashMap<>();
    for (int i = 0; i < count; i++) {
      entries.put("k" + i, "v" + i);
    }
    a.putAll(entries);

    // b connects, and a closes while b is still taking a's entries in: they are nowhere else, so
    // a must not leave before b has acknowledged them all
    Cache<String, String> b = cache(node("b"));
    ClusterMXBean beanA = InJvmCluster.clusterBean(managerA);
    await().atMost(CONVERGE).until(() -> beanA.getConnectedPeerCount() == 1);
    managerA.close();

    await().atMost(CONVERGE).untilAsserted(() -> assertThat(countEntries(b)).isEqualTo(count));
  }

  @Test
  void valuesFromPeersAreDeserializedOnlyThroughTheAllowList() throws Exception {
    MutableConfiguration<String, Object> config = new MutableConfiguration<String, Object>()
        .setTypes(String.class, Object.class);
    Cache<String, Object> writer = node("writer").createCache("objects", config);
    CacheManager strictNode = node("strict");
    Cache<String, Object> strict = strictNode.createCache("objects", config);
    Properties allowing = new Properties();
    allowing.setProperty("bcache.serialization.allow", Point.class.getName());
    CacheManager allowingNode = node("allowing", allowing);
    Cache<String, Object> allowed = allowingNode.createCache("objects", config);

    writer.put("p", new Point(1, 2));
    writer.put("s", "plain string");

    await().atMost(CONVERGE).until(() -> "plain string".equals(strict.get("s")) && "plain string".equals(allowed.get("s")));
    await().atMost(CONVERGE).until(() -> new Point(1, 2).equals(allowed.get("p")));
    // the node without the class on its list refused that change, says so, and kept serving
    assertThat(strict.containsKey("p")).isFalse();
    assertThat(InJvmCluster.clusterBean(strictNode).getRefusedChanges()).isPositive();
    assertThat(InJvmCluster.clusterBean(allowingNode).getRefusedChanges()).isZero();
    writer.put("s2", "after");
    await().atMost(CONVERGE).until(() -> "after".equals(strict.get("s2")));
  }

  @Test
  void aListenerThatWritesWhileHandlingARemoteChangeIsReplicatedToo() {
    Cache<String, String> a = cache(node("a"));
    MutableConfiguration<String, String> config = new MutableConfiguration<String, String>()
        .setTypes(String.class, String.class)
        .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
            FactoryBuilder.factoryOf(EchoListener.class), null, false, true));
    node("b").createCache("users", config);

    putNumbered(a, "k", "v", 200);
    await().atMost(CONVERGE).until(() -> "v199".equals(a.get("echo-k199")) && "v0".equals(a.get("echo-k0")));
  }

  /** Answers every created entry whose key is not an echo with an echo entry, from inside the event. */
  public static final class EchoListener implements CacheEntryCreatedListener<String, String> {
    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      for (CacheEntryEvent<? extends String, ? extends String> event : events) {
        if (!event.getKey().startsWith("echo-")) {
          @SuppressWarnings("unchecked")
          Cache<String, String> source = (Cache<String, String>) event.getSource();
          source.put("echo-" + event.getKey(), event.getValue());
        }
      }
    }
  }

  /** A value class that is not a JDK type. */
  public record Point(int x, int y) implements java.io.Serializable {
  }

  /** Puts {@code keyPrefix + i} with {@code valuePrefix + i}, for i from 0 to {@code count - 1}. */
  /** Writes on {@code a} until a write reaches {@code b}: the two nodes are connected. */
  private static void awaitConnected(Cache<String, String> a, Cache<String, String> b) {
    await().atMost(CONVERGE).until(() -> {
      a.put("warm", "up");
      return "up".equals(b.get("warm"));
    });
  }

  private static void putNumbered(Cache<String, String> cache, String keyPrefix, String valuePrefix,
      int count) {
    for (int i = 0; i < count; i++) {
      cache.put(keyPrefix + i, valuePrefix + i);
    }
  }

  /** Waits until each of these caches holds exactly {@code count} entries. */
  @SafeVarargs
  private static void awaitEntries(int count, Cache<String, String>... caches) {
    await().atMost(CONVERGE).until(() -> Arrays.stream(caches).allMatch(cache -> countEntries(cache) == count));
  }

  private static int countEntries(Cache<String, String> cache) {
    int n = 0;
    for (Cache.Entry<String, String> ignored : cache) {
      n++;
    }
    return n;
  }

  /** Records the types of the events it sees, across every cache that uses it. */
  public static final class RecordingListener implements CacheEntryCreatedListener<String, String>,
      CacheEntryUpdatedListener<String, String>, CacheEntryRemovedListener<String, String> {
    static final List<EventType> EVENTS = new CopyOnWriteArrayList<>();

    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      events.forEach(e -> EVENTS.add(e.getEventType()));
    }

    @Override
    public void onUpdated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      events.forEach(e -> EVENTS.add(e.getEventType()));
    }

    @Override
    public void onRemoved(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      events.forEach(e -> EVENTS.add(e.getEventType()));
    }
  }

  /** Says a writer was entered, then waits (at most a minute) until the test lets it go. */
  private static void holdUntilReleased(CountDownLatch entered, CountDownLatch release) {
    entered.countDown();
    try {
      if (!release.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("never released");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A cache writer whose {@code writeAll}, and {@code write} of the key "slow", wait until the test lets them go. */
  public static final class HeldWriter implements CacheWriter<Object, Object> {
    static volatile CountDownLatch entered;
    static volatile CountDownLatch release;

    @Override
    public void write(Cache.Entry<?, ?> entry) {
      if (entry.getKey().equals("slow")) {
        holdUntilReleased(entered, release);
      }
    }

    @Override
    public void writeAll(java.util.Collection<Cache.Entry<?, ?>> entries) {
      holdUntilReleased(entered, release);
      entries.clear();
    }

    @Override
    public void delete(Object key) {
    }

    @Override
    public void deleteAll(java.util.Collection<?> keys) {
      keys.clear();
    }
  }

  /** Counts the writes that reach it. */
  public static final class CountingWriter implements CacheWriter<String, String> {
    static final AtomicInteger WRITES = new AtomicInteger();

    @Override
    public void write(Cache.Entry<? extends String, ? extends String> entry) {
      WRITES.incrementAndGet();
    }

    @Override
    public void writeAll(java.util.Collection<Cache.Entry<? extends String, ? extends String>> entries) {
      WRITES.addAndGet(entries.size());
      entries.clear();
    }

    @Override
    public void delete(Object key) {
      WRITES.incrementAndGet();
    }

    @Override
    public void deleteAll(java.util.Collection<?> keys) {
      WRITES.addAndGet(keys.size());
      keys.clear();
    }
  }
}
