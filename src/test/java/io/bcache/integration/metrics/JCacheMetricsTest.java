package io.bcache.integration.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.cache.JCacheMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.util.Properties;
import java.util.UUID;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.spi.CachingProvider;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Micrometer's {@link JCacheMetrics} reads a bcache cache's JSR-107 statistics MXBean through the
 * platform MBean server and reports the exact counts of a known sequence of operations, LRU
 * evictions included. Micrometer finds the bean by a name it builds itself
 * ({@code CacheManager=<uri with ':' replaced by '.'>,Cache=<name>}) and silently reports 0 when
 * no bean has that name, so every count asserted here is non-zero.
 */
@Timeout(60)
class JCacheMetricsTest {

  private static final String CACHE = "bounded";

  private CacheManager manager;
  private SimpleMeterRegistry registry;

  @BeforeEach
  void openManager() {
    CachingProvider provider = Caching.getCachingProvider("bcache");
    Properties properties = new Properties();
    properties.setProperty("bcache.cache." + CACHE + ".maxEntries", "3");
    // a ':' in the URI, as in every real one: both sides must replace it the same way
    manager = provider.getCacheManager(URI.create("bcache:metrics-" + UUID.randomUUID()),
        JCacheMetricsTest.class.getClassLoader(), properties);
    registry = new SimpleMeterRegistry();
  }

  @AfterEach
  void closeManager() {
    registry.close();
    manager.close();
  }

  private Cache<String, String> boundedCacheWithStatistics() {
    return manager.createCache(CACHE, new MutableConfiguration<String, String>()
        .setTypes(String.class, String.class)
        .setStatisticsEnabled(true));
  }

  /**
   * Puts a, b, c (3 puts, at the bound); reads a (hit) and x (miss); puts d and e, which evict
   * the least recently used b, then c (2 puts, 2 evictions); reads b (miss: evicted); removes a
   * (1 removal) and the absent z (no removal).
   */
  private static void knownSequence(Cache<String, String> cache) {
    cache.put("a", "1");
    cache.put("b", "2");
    cache.put("c", "3");
    assertThat(cache.get("a")).isEqualTo("1");
    assertThat(cache.get("x")).isNull();
    cache.put("d", "4");
    cache.put("e", "5");
    assertThat(cache.get("b")).isNull();
    assertThat(cache.remove("a")).isTrue();
    assertThat(cache.remove("z")).isFalse();
  }

  @Test
  void monitorReportsHitsMissesPutsRemovalsAndLruEvictions() {
    Cache<String, String> cache = boundedCacheWithStatistics();
    JCacheMetrics.monitor(registry, cache, "app", "test");

    knownSequence(cache);

    Tags tags = Tags.of("cache", CACHE, "app", "test");
    assertThat(registry.get("cache.gets").tags(tags).tag("result", "hit").functionCounter().count())
        .isEqualTo(1.0);
    assertThat(registry.get("cache.gets").tags(tags).tag("result", "miss").functionCounter().count())
        .isEqualTo(2.0);
    assertThat(registry.get("cache.puts").tags(tags).functionCounter().count()).isEqualTo(5.0);
    assertThat(registry.get("cache.evictions").tags(tags).functionCounter().count()).isEqualTo(2.0);
    // monitor(...) registers removals as a gauge
    assertThat(registry.get("cache.removals").tags(tags).gauge().value()).isEqualTo(1.0);
    // the evictions really were the least recently used entries
    assertThat(cache.containsKey("b")).isFalse();
    assertThat(cache.containsKey("c")).isFalse();
    assertThat(cache.containsKey("d")).isTrue();
    assertThat(cache.containsKey("e")).isTrue();
  }

  @Test
  void theBinderAsConstructedReportsRemovalsAsACounterAndFollowsLaterOperations() {
    Cache<String, String> cache = boundedCacheWithStatistics();
    new JCacheMetrics<>(cache, Tags.empty()).bindTo(registry);

    knownSequence(cache);
    // d and e are left; 10 more puts: the first fills the bound of 3, each of the other 9 evicts
    for (int i = 0; i < 10; i++) {
      cache.put("more-" + i, "v");
    }

    Tags tags = Tags.of("cache", CACHE);
    assertThat(registry.get("cache.removals").tags(tags).functionCounter().count()).isEqualTo(1.0);
    assertThat(registry.get("cache.puts").tags(tags).functionCounter().count()).isEqualTo(15.0);
    assertThat(registry.get("cache.evictions").tags(tags).functionCounter().count()).isEqualTo(11.0);
  }

  @Test
  void theStatisticsBeanIsRegisteredUnderTheNameMicrometerBuilds() throws Exception {
    Cache<String, String> cache = boundedCacheWithStatistics();
    // Micrometer's rule, from its source: the manager URI with ':' replaced by '.', the cache
    // name as it is
    ObjectName micrometers = new ObjectName("javax.cache:type=CacheStatistics,CacheManager="
        + manager.getURI().toString().replace(':', '.') + ",Cache=" + cache.getName());
    assertThat(ManagementFactory.getPlatformMBeanServer().isRegistered(micrometers)).isTrue();

    manager.enableStatistics(CACHE, false);
    assertThat(ManagementFactory.getPlatformMBeanServer().isRegistered(micrometers)).isFalse();
  }

  @Test
  void aCacheWhoseNameAnObjectNameCannotHoldStillHasItsBeans() throws Exception {
    String name = "quoted \"*?\" name";
    Cache<String, String> cache = manager.createCache(name, new MutableConfiguration<String, String>()
        .setStatisticsEnabled(true).setManagementEnabled(true));
    String suffix = ",CacheManager=" + manager.getURI().toString().replace(':', '.') + ",Cache=quoted .... name";
    ObjectName statistics = new ObjectName("javax.cache:type=CacheStatistics" + suffix);
    ObjectName configuration = new ObjectName("javax.cache:type=CacheConfiguration" + suffix);

    cache.put("k", "v");
    assertThat(ManagementFactory.getPlatformMBeanServer().getAttribute(statistics, "CachePuts")).isEqualTo(1L);
    assertThat(ManagementFactory.getPlatformMBeanServer().isRegistered(configuration)).isTrue();

    manager.destroyCache(name);
    assertThat(ManagementFactory.getPlatformMBeanServer().isRegistered(statistics)).isFalse();
    assertThat(ManagementFactory.getPlatformMBeanServer().isRegistered(configuration)).isFalse();
  }
}
