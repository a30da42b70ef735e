package io.bcache.jcache;

import static org.assertj.core.api.Assertions.assertThat;

import io.bcache.jcache.management.MBeanRegistrar;
import java.lang.management.ManagementFactory;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.CompleteConfiguration;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.spi.CachingProvider;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A copy of a cache registers and unregisters only its own MXBeans: when another thread closes a
 * copy before its creating thread started it, the start must not put the closed copy's beans in
 * place of those of the copy created since; and a copy that registered none must not remove, as
 * it closes, those another copy registered under the same name, nor one whose beans another
 * copy replaced. And a bean is registered exactly while its flag says so, whichever threads turn
 * it on and off.
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

  @Test
  void aCopyWhoseBeansAnotherManagersReplacedLeavesThoseInPlaceWhenItCloses() throws Exception {
    // another manager of the same URI (another class loader): the beans' names are the same
    CacheManager other = PublicApiTestSupport.provider()
        .getCacheManager(manager.getURI(), PublicApiTestSupport.freshClassLoader());
    try {
      Cache<String, String> last = closeAfterAnotherReplacedItsBeans(other);
      other.enableStatistics("users", false);
      assertThat(server.isRegistered(beanOf(MBeanRegistrar.Kind.STATISTICS))).isFalse();
      last.close();
      assertThat(server.isRegistered(beanOf(MBeanRegistrar.Kind.CONFIGURATION))).isFalse();
    } finally {
      other.close();
    }
  }

  @Test
  void aCopyWhoseBeansAnotherCopyOfTheProviderReplacedLeavesThoseInPlaceWhenItCloses()
      throws Exception {
    try (URLClassLoader copy = providerCopy()) {
      CachingProvider otherProvider =
          (CachingProvider) copy.loadClass("bcache").getConstructor().newInstance();
      assertThat(otherProvider.getClass().getSuperclass()).isNotSameAs(BCacheCachingProvider.class);
      CacheManager other = otherProvider.getCacheManager(manager.getURI(), copy);
      try {
        closeAfterAnotherReplacedItsBeans(other);
      } finally {
        other.close();
      }
    }
  }

  /**
   * Creates users on this test's manager, then on {@code other}, whose copy's beans replace the
   * first's, closes the first, and checks that the beans still there are the other copy's.
   */
  private Cache<String, String> closeAfterAnotherReplacedItsBeans(CacheManager other) throws Exception {
    Cache<String, String> first = manager.createCache("users", config);
    Cache<String, String> last = other.createCache("users", config);
    last.put("k", "v");

    first.close();

    assertThat(server.getAttribute(beanOf(MBeanRegistrar.Kind.STATISTICS), "CachePuts")).isEqualTo(1L);
    assertThat(server.isRegistered(beanOf(MBeanRegistrar.Kind.CONFIGURATION))).isTrue();
    return last;
  }

  /**
   * A class loader with a copy of its own of the provider's classes (as two web applications
   * that each bundle bcache have); everything else, {@code javax.cache} included, comes from the
   * test's loader.
   */
  private static URLClassLoader providerCopy() {
    URL classes = BCacheCachingProvider.class.getProtectionDomain().getCodeSource().getLocation();
    return new URLClassLoader("bcache-copy", new URL[] {classes}, PublicApiTestSupport.testClassLoader()) {
      @Override
      protected Class<?> loadClass(String className, boolean resolve) throws ClassNotFoundException {
        if (!className.equals("bcache") && !className.startsWith("io.bcache.")) {
          return super.loadClass(className, resolve);
        }
        synchronized (getClassLoadingLock(className)) {
          Class<?> loaded = findLoadedClass(className);
          if (loaded != null) {
            return loaded;
          }
          try {
            return findClass(className);
          } catch (ClassNotFoundException notInMain) {
            return super.loadClass(className, resolve); // a test class
          }
        }
      }
    };
  }

  @Test
  void statisticsAndManagementTurnedOnAndOffAtOnceLeaveTheBeansAsTheFlagsSay() throws Exception {
    Cache<String, String> cache = manager.createCache("users", new MutableConfiguration<>());
    ExecutorService two = Executors.newFixedThreadPool(2);
    try {
      for (int round = 0; round < 5_000; round++) {
        CyclicBarrier together = new CyclicBarrier(2);
        Future<?> on = two.submit(() -> {
          together.await();
          manager.enableStatistics("users", true);
          manager.enableManagement("users", true);
          return null;
        });
        Future<?> off = two.submit(() -> {
          together.await();
          manager.enableStatistics("users", false);
          manager.enableManagement("users", false);
          return null;
        });
        on.get(10, TimeUnit.SECONDS);
        off.get(10, TimeUnit.SECONDS);

        CompleteConfiguration<?, ?> now = cache.getConfiguration(CompleteConfiguration.class);
        assertThat(server.isRegistered(beanOf(MBeanRegistrar.Kind.STATISTICS)))
            .as("statistics bean after round %d", round).isEqualTo(now.isStatisticsEnabled());
        assertThat(server.isRegistered(beanOf(MBeanRegistrar.Kind.CONFIGURATION)))
            .as("configuration bean after round %d", round).isEqualTo(now.isManagementEnabled());
      }
    } finally {
      two.shutdownNow();
    }
  }

  @Test
  void aCopyThatNeverRegisteredItsBeansLeavesAnotherManagersInPlaceWhenItCloses() throws Exception {
    // another manager of the same URI (another class loader): the beans' names are the same
    CacheManager other = PublicApiTestSupport.provider()
        .getCacheManager(manager.getURI(), PublicApiTestSupport.freshClassLoader());
    try {
      assertThat(other).isNotSameAs(manager);
      other.createCache("users", config);
      Cache<String, String> quiet = manager.createCache("users", new MutableConfiguration<>());

      quiet.close();

      assertThat(server.isRegistered(beanOf(MBeanRegistrar.Kind.STATISTICS))).isTrue();
      assertThat(server.isRegistered(beanOf(MBeanRegistrar.Kind.CONFIGURATION))).isTrue();
    } finally {
      other.close();
    }
  }
}
