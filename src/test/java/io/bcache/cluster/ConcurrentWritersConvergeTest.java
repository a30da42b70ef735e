package io.bcache.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.bcache.jcache.management.ClusterMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.MutableConfiguration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every node writes at once, from several threads, to the same few keys, through every kind of
 * JCache write: once the writers stop, all nodes hold the same contents. Local writers tick the
 * clock and publish on different threads while the peers' changes to the same keys are applied,
 * which no single-writer test exercises.
 */
@Timeout(180)
class ConcurrentWritersConvergeTest {

  private static final int NODES = 3;
  private static final int THREADS_PER_NODE = 2;
  private static final int KEYS = 200;
  private static final int OPS_PER_THREAD = 15_000;
  private static final long MAX_WRITING_MILLIS = 20_000;
  private static final Duration CONVERGE = Duration.ofSeconds(60);

  private InJvmCluster cluster;
  private ExecutorService writers;

  @BeforeEach
  void start() throws Exception {
    cluster = InJvmCluster.start("concurrent");
    writers = Executors.newFixedThreadPool(NODES * THREADS_PER_NODE);
  }

  @AfterEach
  void stop() throws Exception {
    writers.shutdownNow();
    assertThat(writers.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    cluster.close();
  }

  @Test
  void nodesWritingTheSameKeysAtOnceEndIdentical() throws Exception {
    List<Cache<String, String>> caches = new ArrayList<>();
    List<ClusterMXBean> beans = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      CacheManager manager = cluster.node("n" + i, new Properties());
      caches.add(manager.createCache("shared",
          new MutableConfiguration<String, String>().setTypes(String.class, String.class)));
      beans.add(InJvmCluster.clusterBean(manager));
    }
    await().atMost(CONVERGE).until(() -> beans.stream().allMatch(b -> b.getConnectedPeerCount() == NODES - 1));

    AtomicLong ops = new AtomicLong();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MAX_WRITING_MILLIS);
    List<Future<?>> running = new ArrayList<>();
    for (int n = 0; n < NODES; n++) {
      for (int t = 0; t < THREADS_PER_NODE; t++) {
        Cache<String, String> cache = caches.get(n);
        String writer = "n" + n + "t" + t;
        long seed = 31L * n + t;
        running.add(writers.submit(() -> write(cache, writer, seed, deadline, ops)));
      }
    }
    for (Future<?> writer : running) {
      writer.get();
    }
    assertThat(ops.get()).isPositive();

    await().atMost(CONVERGE).untilAsserted(() -> {
      Map<String, String> first = contents(caches.get(0));
      for (int i = 1; i < NODES; i++) {
        assertThat(contents(caches.get(i))).as("node n%d against n0", i).isEqualTo(first);
      }
    });
    await().atMost(CONVERGE).until(() -> beans.stream().noneMatch(ClusterMXBean::isSyncing));
  }

  /** One writer: random writes of every kind, bounded in count and in time. */
  private static void write(Cache<String, String> cache, String writer, long seed, long deadline,
      AtomicLong ops) {
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = 0; i < OPS_PER_THREAD && System.nanoTime() - deadline < 0; i++) {
      String key = "k" + random.nextInt(KEYS);
      String value = writer + "-" + i;
      if (random.nextInt(5_000) == 0) {
        cache.clear(); // replicates as one change of its own, racing the other nodes' writes
        ops.incrementAndGet();
        continue;
      }
      switch (random.nextInt(10)) {
        case 0 -> cache.remove(key);
        case 1 -> cache.replace(key, value);
        case 2 -> cache.putIfAbsent(key, value);
        case 3 -> cache.getAndPut(key, value);
        case 4 -> cache.invoke(key, (entry, arguments) -> {
          entry.setValue((String) arguments[0]);
          return null;
        }, value);
        case 5 -> {
          Map<String, String> batch = new HashMap<>();
          for (int b = 0; b < 5; b++) {
            batch.put("k" + random.nextInt(KEYS), value + "/" + b);
          }
          cache.putAll(batch);
        }
        case 6 -> cache.removeAll(new HashSet<>(List.of(key, "k" + random.nextInt(KEYS))));
        case 7 -> cache.getAndRemove(key);
        default -> cache.put(key, value);
      }
      ops.incrementAndGet();
    }
  }

  private static Map<String, String> contents(Cache<String, String> cache) {
    Map<String, String> contents = new HashMap<>();
    for (Cache.Entry<String, String> entry : cache) {
      contents.put(entry.getKey(), entry.getValue());
    }
    return contents;
  }
}
