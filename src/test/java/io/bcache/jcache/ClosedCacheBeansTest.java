package io.bcache.jcache;

import static org.assertj.core.api.Assertions.assertThat;

import io.bcache.jcache.management.MBeanRegistrar;
import java.lang.management.ManagementFactory;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.MutableConfiguration;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A closed copy of a cache never registers its MXBeans again: when another thread closes a copy
 * before its creating thread started it, the start must not put the closed copy's beans in place
 * of those of the copy created since.
 */
class ClosedCacheBeansTest {

  private final CacheManager manager = PublicApiTestSupport.newManager();
  private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();
  private final MutableConfiguration<String, String> config = new MutableConfiguration<String, String>()
      .setManagementEnabled(true).setStatisticsEnabled(true);

  @AfterEach
  void close() {
    manager.close();
  }

  private ObjectName beanOf(MBeanRegistrar.Kind kind) {
    return MBeanRegistrar.objectName(kind, manager.getURI(), "users");
  }

  @Test
  void aCopyStartedAfterItsCloseLeavesTheNewCopysBeansInPlace() throws Exception {
    Cache<String, String> closedBeforeStarted = manager.createCache("users", config);
    closedBeforeStarted.close();
    assertThat(server.isRegistered(beanOf(MBeanRegistrar.Kind.STATISTICS))).isFalse();
    Cache<String, String> current = manager.createCache("users", config);
    current.put("k", "v");

    ((BCache<?, ?>) closedBeforeStarted).start(); // its creating thread, late

    assertThat(server.getAttribute(beanOf(MBeanRegistrar.Kind.STATISTICS), "CachePuts")).isEqualTo(1L);
    current.close();
    assertThat(server.isRegistered(beanOf(MBeanRegistrar.Kind.STATISTICS))).isFalse();
    assertThat(server.isRegistered(beanOf(MBeanRegistrar.Kind.CONFIGURATION))).isFalse();
  }
}
