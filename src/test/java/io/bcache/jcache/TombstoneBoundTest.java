package io.bcache.jcache;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.Properties;
import java.util.UUID;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.spi.CachingProvider;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * On a cluster node every remove leaves a tombstone, even of a key the node never held; the
 * tombstones of a cache stay within a quarter above its bound instead of piling up for the
 * whole grace period.
 */
@Timeout(60)
class TombstoneBoundTest {

  @Test
  void removingKeysThatAreNotHereKeepsTombstonesNearTheBound() throws Exception {
    try (TestingServer zookeeper = new TestingServer(0, true)) {
      Properties properties = new Properties();
      properties.setProperty("bcache.zookeeper.connect", zookeeper.getConnectString());
      properties.setProperty("bcache.cluster.name", "tombstones-" + UUID.randomUUID());
      properties.setProperty("bcache.cache.users.maxEntries", "100");
      CachingProvider provider = Caching.getCachingProvider("bcache");
      CacheManager manager = provider.getCacheManager(URI.create("tombstone-bound"),
          provider.getDefaultClassLoader(), properties);
      try {
        Cache<String, String> users = manager.createCache("users", new MutableConfiguration<>());
        BCache<?, ?> replica = users.unwrap(BCache.class);
        for (int i = 0; i < 50; i++) {
          users.remove("absent-" + i);
        }
        assertThat(replica.tombstoneCount()).as("below the bound nothing is dropped").isEqualTo(50);

        for (int i = 50; i < 10_000; i++) {
          users.remove("absent-" + i);
          assertThat(replica.tombstoneCount()).isLessThanOrEqualTo(125);
        }
        assertThat(replica.tombstoneCount()).isGreaterThanOrEqualTo(100);
        // the newest removals are the ones kept: the last one's tombstone is still there to replace
        long before = replica.tombstoneCount();
        users.put("absent-9999", "back");
        assertThat(replica.tombstoneCount()).isEqualTo(before - 1);
        assertThat(users.get("absent-9999")).isEqualTo("back");
      } finally {
        manager.close();
      }
    }
  }
}
