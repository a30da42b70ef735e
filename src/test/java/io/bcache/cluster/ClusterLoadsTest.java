package io.bcache.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.bcache.jcache.management.ClusterMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.expiry.AccessedExpiryPolicy;
import javax.cache.integration.CacheLoader;
import javax.cache.integration.CacheLoaderException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Cluster-wide loads ({@code bcache.loads=cluster}): three nodes in one JVM, a
 * real ZooKeeper and TCP on 127.0.0.1, many threads on every node missing the same key at once.
 */
@Timeout(120)
class ClusterLoadsTest {

  private static final Duration CONVERGE = Duration.ofSeconds(30);
  private static final int THREADS_PER_NODE = 334; // 1,002 threads in all

  private InJvmCluster cluster;
  private final List<CacheManager> managers = new ArrayList<>();
  private final List<Cache<String, String>> caches = new ArrayList<>();

  @BeforeEach
  void startThreeNodes() throws Exception {
    SlowLoader.LOADS.clear();
    SlowLoader.LOADED_ON.clear();
    cluster = InJvmCluster.start("loads");
    // both caches load cluster-wide
    for (String name : List.of("a", "b", "c")) {
      Properties properties = new Properties();
      properties.setProperty("bcache.loads", "cluster");
      CacheManager manager = cluster.node(name, properties);
      managers.add(manager);
      caches.add(manager.createCache("users", new MutableConfiguration<String, String>()
          .setTypes(String.class, String.class)
          .setReadThrough(true)
          .setCacheLoaderFactory(FactoryBuilder.factoryOf(SlowLoader.class))));
    }
    awaitDigestsNaming(caches);
  }

  /**
   * Waits until every node has heard, from each peer, a digest sent after the peer's copy of
   * these caches existed: a write on each node, acknowledged by every peer.
   */
  private <V> void awaitDigestsNaming(List<Cache<String, V>> copies) throws Exception {
    for (int i = 0; i < copies.size(); i++) {
      copies.get(i).remove("ready-" + i);
    }
    for (CacheManager manager : managers) {
      ClusterMXBean bean = InJvmCluster.clusterBean(manager);
      await().atMost(CONVERGE).until(() -> bean.getUnacknowledgedChanges().size() == 2
          && bean.getUnacknowledgedChanges().values().stream().allMatch(n -> n == 0));
    }
  }

  @AfterEach
  void stopEverything() throws Exception {
    cluster.close();
  }

  /** Every thread of every node gets {@code key} at the same moment; returns what each got. */
  private List<String> missTogether(String key) throws Exception {
    return missTogether(cache -> cache.get(key), Set.of(key));
  }

  /**
   * Every thread of every node runs {@code read} at the same moment; returns what each got. The
   * loader is held until every thread is blocked inside {@code read} and each of {@code keys}
   * is being loaded, so they all miss together.
   */
  private <T> List<T> missTogether(Function<Cache<String, String>, T> read, Set<String> keys) throws Exception {
    List<Thread> threads = new CopyOnWriteArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(THREADS_PER_NODE * caches.size(), task -> {
      Thread thread = new Thread(task);
      threads.add(thread);
      return thread;
    });
    SlowLoader.gate = new CountDownLatch(1);
    try {
      CountDownLatch start = new CountDownLatch(1);
      AtomicInteger inRead = new AtomicInteger();
      List<Future<T>> results = new ArrayList<>();
      for (Cache<String, String> cache : caches) {
        for (int t = 0; t < THREADS_PER_NODE; t++) {
          results.add(pool.submit(() -> {
            start.await();
            inRead.incrementAndGet();
            return read.apply(cache);
          }));
        }
      }
      start.countDown();
      await().atMost(CONVERGE).until(() -> inRead.get() == results.size()
          && SlowLoader.LOADS.keySet().containsAll(keys)
          && threads.stream().allMatch(t -> t.getState() == Thread.State.WAITING
              || t.getState() == Thread.State.TIMED_WAITING));
      SlowLoader.gate.countDown();
      List<T> values = new ArrayList<>();
      for (Future<T> result : results) {
        values.add(result.get(60, TimeUnit.SECONDS));
      }
      return values;
    } finally {
      SlowLoader.gate.countDown();
      SlowLoader.gate = null;
      pool.shutdownNow();
    }
  }

  @Test
  void getAllOnEveryNodeAtOnceLoadsEachKeyOnceInTheCluster() throws Exception {
    Set<String> keys = new HashSet<>();
    for (int i = 0; i < 12; i++) {
      keys.add("g" + i); // owned by all three nodes
    }
    Map<String, String> expected = new HashMap<>();
    keys.forEach(key -> expected.put(key, "value-of-" + key));

    List<Map<String, String>> results = missTogether(cache -> cache.getAll(keys), keys);

    assertThat(results).hasSize(THREADS_PER_NODE * 3).allSatisfy(result -> assertThat(result).isEqualTo(expected));
    for (String key : keys) {
      assertThat(SlowLoader.LOADS.get(key)).as("loads of %s", key).hasValue(1);
    }
  }

  @Test
  void aThousandThreadsOnThreeNodesMissingOneKeyLoadItOnceInTheCluster() throws Exception {
    for (String key : List.of("k1", "k2", "k3", "k4")) { // owned by different nodes
      List<String> values = missTogether(key);
      assertThat(values).hasSize(THREADS_PER_NODE * 3).containsOnly("value-of-" + key);
      assertThat(SlowLoader.LOADS.get(key)).as("loads of %s", key).hasValue(1);
    }
    // the loaded values replicated: every node holds them without loading again
    for (Cache<String, String> cache : caches) {
      await().atMost(CONVERGE).until(() -> cache.containsKey("k4"));
      assertThat(cache.get("k1")).isEqualTo("value-of-k1");
    }
    assertThat(SlowLoader.LOADS.get("k1")).hasValue(1);
  }

  @Test
  void theOwnersLoaderFailureAndAbsenceReachTheAskingNode() throws Exception {
    for (String key : List.of("missing-1", "missing-2", "missing-3")) {
      assertThat(missTogether(key)).containsOnlyNulls();
      assertThat(SlowLoader.LOADS.get(key)).hasValue(1);
    }
    for (Cache<String, String> cache : caches) {
      assertThatThrownBy(() -> cache.get("fail-" + caches.indexOf(cache)))
          .isInstanceOf(CacheLoaderException.class).hasMessageContaining("no database");
    }
  }

  /**
   * The owner answers a load as a read: with the expiry its copy has, which reads there moved
   * past the one the load set; that one has passed, and the asking node would load again.
   */
  @Test
  void theOwnerAnswersWithTheExpiryItsReadsKeptAlive() throws Exception {
    long ttlMillis = 2_000;
    MutableConfiguration<String, String> touched = new MutableConfiguration<String, String>()
        .setTypes(String.class, String.class)
        .setReadThrough(true)
        .setCacheLoaderFactory(FactoryBuilder.factoryOf(SlowLoader.class))
        .setExpiryPolicyFactory(AccessedExpiryPolicy.factoryOf(
            new javax.cache.expiry.Duration(TimeUnit.MILLISECONDS, ttlMillis)));
    List<Cache<String, String>> copies = new ArrayList<>();
    for (CacheManager manager : managers) {
      copies.add(manager.createCache("touched", touched));
    }
    awaitDigestsNaming(copies);
    Cache<String, String> a = copies.get(0);
    Cache<String, String> b = copies.get(1);
    Cache<String, String> c = copies.get(2);
    // a key c does not own: c's miss is loaded elsewhere, not on this thread
    String key = null;
    long loaded = 0;
    for (int i = 0; key == null; i++) {
      loaded = System.currentTimeMillis();
      assertThat(c.get("t" + i)).isEqualTo("value-of-t" + i);
      if (SlowLoader.LOADED_ON.get("t" + i) != Thread.currentThread()) {
        key = "t" + i;
      }
    }
    String k = key;
    await().atMost(CONVERGE).until(() -> a.containsKey(k) && b.containsKey(k));
    // a and b (one of them the owner) keep it alive with reads; c lets it expire
    for (long at : new long[] {ttlMillis / 2, ttlMillis * 9 / 10}) {
      untilMillisAfter(loaded, at);
      assertThat(a.get(k)).isEqualTo("value-of-" + k);
      assertThat(b.get(k)).isEqualTo("value-of-" + k);
    }
    untilMillisAfter(loaded, ttlMillis + 500); // c's copy is over; a's and b's last until 3.8 s
    assertThat(c.containsKey(k)).isFalse();

    assertThat(c.get(k)).isEqualTo("value-of-" + k);
    assertThat(SlowLoader.LOADS.get(k)).as("loads of %s", k).hasValue(1);
  }

  private static void untilMillisAfter(long start, long millis) {
    await().pollInterval(Duration.ofMillis(10)).atMost(Duration.ofMillis(millis + 5_000))
        .until(() -> System.currentTimeMillis() >= start + millis);
  }

  @Test
  void aNodeLoadsItselfWhenTheOwnerLeaves() throws Exception {
    managers.get(2).close(); // node c leaves
    caches.remove(2);
    for (int i = 0; i < 20; i++) { // some of these c owned
      String key = "after-" + i;
      assertThat(caches.get(i % 2).get(key)).isEqualTo("value-of-" + key);
      assertThat(SlowLoader.LOADS.get(key)).hasValue(1);
    }
  }

  @Test
  void aValueTheAskingNodeRefusesIsLoadedThereInstead() throws Exception {
    // no node lists Point in bcache.serialization.allow: an owner's answer is refused elsewhere
    List<Cache<String, Point>> points = new ArrayList<>();
    for (CacheManager manager : managers) {
      points.add(manager.createCache("points", new MutableConfiguration<String, Point>()
          .setTypes(String.class, Point.class)
          .setReadThrough(true)
          .setCacheLoaderFactory(FactoryBuilder.factoryOf(PointLoader.class))));
    }
    awaitDigestsNaming(points);
    for (int i = 0; i < 12; i++) {
      for (Cache<String, Point> cache : points) {
        assertThat(cache.get("p" + i)).isEqualTo(new Point(i, i));
      }
    }
  }

  /** A value class outside the JDK, so outside the default allow-list. */
  public record Point(int x, int y) implements java.io.Serializable {
  }

  /** Loads points; keys are "p" and a number. */
  public static final class PointLoader implements CacheLoader<String, Point> {
    @Override
    public Point load(String key) {
      int i = Integer.parseInt(key.substring(1));
      return new Point(i, i);
    }

    @Override
    public Map<String, Point> loadAll(Iterable<? extends String> keys) {
      Map<String, Point> values = new HashMap<>();
      keys.forEach(key -> values.put(key, load(key)));
      return values;
    }
  }

  /** Counts its loads; while a test holds the gate, a load waits for it to open. */
  public static final class SlowLoader implements CacheLoader<String, String> {
    static final Map<String, AtomicInteger> LOADS = new ConcurrentHashMap<>();
    /** The thread that loaded each key last. */
    static final Map<String, Thread> LOADED_ON = new ConcurrentHashMap<>();
    static volatile CountDownLatch gate;

    @Override
    public String load(String key) {
      LOADS.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
      LOADED_ON.put(key, Thread.currentThread());
      if (key.startsWith("fail-")) {
        throw new CacheLoaderException("no database for " + key);
      }
      CountDownLatch held = gate;
      try {
        if (held != null && !held.await(60, TimeUnit.SECONDS)) {
          throw new CacheLoaderException("the test never opened the gate");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return key.startsWith("missing-") ? null : "value-of-" + key;
    }

    @Override
    public Map<String, String> loadAll(Iterable<? extends String> keys) {
      Map<String, String> values = new HashMap<>();
      keys.forEach(key -> values.put(key, load(key)));
      return values;
    }
  }
}
