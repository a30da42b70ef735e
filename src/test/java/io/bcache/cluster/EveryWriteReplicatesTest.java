package io.bcache.cluster;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import javax.cache.Cache;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.integration.CacheLoader;
import javax.cache.integration.CompletionListenerFuture;
import javax.cache.processor.MutableEntry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every way the JCache API changes a cache reaches the other node: each operation runs on node a
 * against a cache both nodes hold ({@code k0..k4 = v}), then node b must hold exactly what a
 * holds. Eviction and expiry are local by design and not among them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(180)
class EveryWriteReplicatesTest {

  private static final Duration CONVERGE = Duration.ofSeconds(30);

  private InJvmCluster cluster;
  private javax.cache.CacheManager a;
  private javax.cache.CacheManager b;

  @BeforeAll
  void startTwoNodes() throws Exception {
    cluster = InJvmCluster.start("every-write");
    a = cluster.node("a");
    b = cluster.node("b");
  }

  @AfterAll
  void stopEverything() throws Exception {
    cluster.close();
  }

  static Stream<Arguments> operations() {
    return Stream.of(
        op("put", c -> c.put("k9", "new")),
        op("put over a value", c -> c.put("k1", "new")),
        op("putIfAbsent", c -> c.putIfAbsent("k9", "new")),
        op("getAndPut", c -> c.getAndPut("k1", "new")),
        op("putAll", c -> c.putAll(Map.of("k1", "new", "k8", "new", "k9", "new"))),
        op("replace", c -> c.replace("k1", "new")),
        op("replace if equal", c -> c.replace("k1", "v", "new")),
        op("getAndReplace", c -> c.getAndReplace("k1", "new")),
        op("remove", c -> c.remove("k1")),
        op("remove if equal", c -> c.remove("k1", "v")),
        op("getAndRemove", c -> c.getAndRemove("k1")),
        op("removeAll(keys)", c -> c.removeAll(Set.of("k1", "k2"))),
        op("removeAll()", Cache::removeAll),
        op("clear", Cache::clear),
        op("invoke setting a value", c -> c.invoke("k9", (MutableEntry<String, String> e, Object... x) -> {
          e.setValue("new");
          return null;
        })),
        op("invoke removing", c -> c.invoke("k1", (MutableEntry<String, String> e, Object... x) -> {
          e.remove();
          return null;
        })),
        op("invokeAll", c -> c.invokeAll(Set.of("k1", "k9"), (MutableEntry<String, String> e, Object... x) -> {
          e.setValue("new");
          return null;
        })),
        op("iterator remove", c -> {
          var it = c.iterator();
          it.next();
          it.remove();
        }),
        op("read-through get", c -> c.get("k9")),
        op("read-through getAll", c -> c.getAll(Set.of("k8", "k9"))),
        op("loadAll replacing", c -> {
          CompletionListenerFuture done = new CompletionListenerFuture(); // loadAll returns at once
          c.loadAll(Set.of("k1", "k9"), true, done);
          try {
            done.get(30, TimeUnit.SECONDS);
          } catch (Exception e) {
            throw new AssertionError("loadAll did not complete", e);
          }
        }));
  }

  private static Arguments op(String name, Consumer<Cache<String, String>> operation) {
    return Arguments.of(name, operation);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("operations")
  void theOtherNodeEndsUpHoldingTheSame(String name, Consumer<Cache<String, String>> operation) {
    String cacheName = "op-" + name.replaceAll("[^A-Za-z]", "");
    MutableConfiguration<String, String> configuration = new MutableConfiguration<String, String>()
        .setTypes(String.class, String.class)
        .setReadThrough(true)
        .setCacheLoaderFactory(FactoryBuilder.factoryOf(Loader.class));
    Cache<String, String> onA = a.createCache(cacheName, configuration);
    Cache<String, String> onB = b.createCache(cacheName, configuration);
    for (int i = 0; i < 5; i++) {
      onA.put("k" + i, "v");
    }
    await().atMost(CONVERGE).until(() -> contents(onB).size() == 5);

    operation.accept(onA);

    Map<String, String> expected = contents(onA);
    await().atMost(CONVERGE).until(() -> contents(onB).equals(expected));
  }

  /** What a node holds, read by iteration, which neither loads nor changes anything. */
  private static Map<String, String> contents(Cache<String, String> cache) {
    Map<String, String> held = new HashMap<>();
    cache.forEach(entry -> held.put(entry.getKey(), entry.getValue()));
    return held;
  }

  /** Loads {@code loaded-<key>} for any key. */
  public static final class Loader implements CacheLoader<String, String> {
    @Override
    public String load(String key) {
      return "loaded-" + key;
    }

    @Override
    public Map<String, String> loadAll(Iterable<? extends String> keys) {
      Map<String, String> loaded = new HashMap<>();
      keys.forEach(key -> loaded.put(key, load(key)));
      return loaded;
    }
  }
}
