package io.bcache.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.spi.CachingProvider;
import org.apache.curator.test.TestingServer;
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

  private TestingServer zookeeper;
  private final List<CacheManager> managers = new ArrayList<>();
  private Cache<String, String> small;
  private Cache<String, String> large;

  @BeforeEach
  void startTwoNodes() throws Exception {
    zookeeper = new TestingServer(0, true);
    String cluster = "absent-" + UUID.randomUUID().toString().substring(0, 8);
    small = node(cluster, "small", 1).createCache("users", new MutableConfiguration<>());
    large = node(cluster, "large", 1000).createCache("users", new MutableConfiguration<>());
  }

  @AfterEach
  void stopEverything() throws Exception {
    managers.forEach(CacheManager::close);
    zookeeper.close();
  }

  private CacheManager node(String cluster, String name, int bound) {
    Properties properties = new Properties();
    properties.setProperty("bcache.zookeeper.connect", zookeeper.getConnectString());
    properties.setProperty("bcache.cluster.name", cluster);
    properties.setProperty("bcache.bind", "127.0.0.1:0");
    properties.setProperty("bcache.cache.users.maxEntries", String.valueOf(bound));
    CachingProvider provider = Caching.getCachingProvider("bcache");
    CacheManager manager = provider.getCacheManager(URI.create(name + "-" + cluster),
        provider.getDefaultClassLoader(), properties);
    managers.add(manager);
    return manager;
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
}
