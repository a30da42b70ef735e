package io.bcache.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bcache.jcache.BCacheConfiguration;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.spi.CachingProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hibernate's update-timestamps region is never bounded: {@code bcache.maxEntries} does not
 * apply to it, a {@code bcache.cache.<it>.maxEntries} property fails the manager, and a bound
 * given in code fails {@code createCache}. Other names, however close, keep the usual bound.
 */
@Timeout(60)
class UpdateTimestampsRegionBoundTest {

  private static final String TIMESTAMPS = "default-update-timestamps-region";

  private final List<CacheManager> managers = new ArrayList<>();

  @AfterEach
  void closeManagers() {
    managers.forEach(CacheManager::close);
  }

  private static BCacheSettings settings(String... keyValues) {
    Properties properties = new Properties();
    for (int i = 0; i < keyValues.length; i += 2) {
      properties.setProperty(keyValues[i], keyValues[i + 1]);
    }
    return BCacheSettings.of(properties);
  }

  @ParameterizedTest
  @ValueSource(strings = {TIMESTAMPS, "myapp." + TIMESTAMPS, "a.b.c." + TIMESTAMPS,
      "org.hibernate.cache.spi.UpdateTimestampsCache", "myapp.org.hibernate.cache.spi.UpdateTimestampsCache"})
  void theTimestampsRegionIsUnboundedWhateverTheDefault(String name) {
    BCacheSettings settings = settings("bcache.maxEntries", "2");
    assertThat(BCacheSettings.isNeverEvicted(name)).isTrue();
    assertThat(settings.maxEntriesFor(name)).isEqualTo(BCacheSettings.UNBOUNDED);
  }

  @ParameterizedTest
  @ValueSource(strings = {"my" + TIMESTAMPS, TIMESTAMPS + ".x", TIMESTAMPS + "-2", "default-query-results-region",
      "io.example.Book", "UpdateTimestampsCache"})
  void otherNamesKeepTheirBound(String name) {
    BCacheSettings settings = settings("bcache.maxEntries", "2", "bcache.cache." + name + ".maxEntries", "7");
    assertThat(BCacheSettings.isNeverEvicted(name)).isFalse();
    assertThat(settings.maxEntriesFor(name)).isEqualTo(7);
    assertThat(settings("bcache.maxEntries", "2").maxEntriesFor(name)).isEqualTo(2);
  }

  @ParameterizedTest
  @ValueSource(strings = {TIMESTAMPS, "myapp." + TIMESTAMPS})
  void aPropertyBoundingTheTimestampsRegionFailsFastNamingIt(String name) {
    String property = "bcache.cache." + name + ".maxEntries";
    assertThatThrownBy(() -> settings(property, "100"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(property)
        .hasMessageContaining("update-timestamps");
  }

  @Test
  void aBoundInCodeIsRefusedForTheTimestampsRegionOnly() {
    assertThatThrownBy(() -> BCacheSettings.checkBound("myapp." + TIMESTAMPS, 100))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("myapp." + TIMESTAMPS);
    BCacheSettings.checkBound(TIMESTAMPS, BCacheSettings.UNBOUNDED);
    BCacheSettings.checkBound("io.example.Book", 100);
  }

  private CacheManager manager(Properties properties) {
    CachingProvider provider = Caching.getCachingProvider("bcache");
    CacheManager manager = provider.getCacheManager(URI.create("timestamps-" + UUID.randomUUID()),
        provider.getDefaultClassLoader(), properties);
    managers.add(manager);
    return manager;
  }

  private static int count(Cache<?, ?> cache) {
    int n = 0;
    for (Cache.Entry<?, ?> ignored : cache) {
      n++;
    }
    return n;
  }

  @Test
  void throughJCacheTheTimestampsRegionKeepsEveryEntryWhileAnotherCacheEvicts() {
    Properties properties = new Properties();
    properties.setProperty("bcache.maxEntries", "3");
    CacheManager manager = manager(properties);
    Cache<String, Long> timestamps = manager.createCache("myapp." + TIMESTAMPS, new MutableConfiguration<>());
    Cache<String, Long> other = manager.createCache("myapp.io.example.Book", new MutableConfiguration<>());
    for (int i = 0; i < 500; i++) {
      timestamps.put("TABLE_" + i, (long) i);
      other.put("k" + i, (long) i);
    }
    assertThat(count(timestamps)).isEqualTo(500);
    assertThat(count(other)).isEqualTo(3);
    @SuppressWarnings("unchecked")
    BCacheConfiguration<String, Long> resolved = timestamps.getConfiguration(BCacheConfiguration.class);
    assertThat(resolved.getMaxEntries()).isEqualTo(BCacheSettings.UNBOUNDED);
  }

  @Test
  void createCacheRefusesABoundForTheTimestampsRegion() {
    CacheManager manager = manager(new Properties());
    assertThatThrownBy(() -> manager.createCache(TIMESTAMPS, new BCacheConfiguration<String, Long>().setMaxEntries(10)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(TIMESTAMPS);
    assertThat(manager.getCache(TIMESTAMPS)).isNull();
    // the resolved configuration of such a cache may be copied to create it elsewhere
    Cache<String, Long> created = manager.createCache(TIMESTAMPS,
        new BCacheConfiguration<String, Long>().setMaxEntries(BCacheSettings.UNBOUNDED));
    assertThat(created.getConfiguration(BCacheConfiguration.class).getMaxEntries()).isEqualTo(BCacheSettings.UNBOUNDED);
  }

  @Test
  void getCacheManagerFailsOnAPropertyBoundingTheTimestampsRegion() {
    Properties properties = new Properties();
    properties.setProperty("bcache.cache." + TIMESTAMPS + ".maxEntries", "10");
    assertThatThrownBy(() -> manager(properties))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bcache.cache." + TIMESTAMPS + ".maxEntries");
  }
}
