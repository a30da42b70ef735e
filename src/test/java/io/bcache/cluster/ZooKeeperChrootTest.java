package io.bcache.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.spi.CachingProvider;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A chroot in {@code bcache.zookeeper.connect} ({@code host:port/apps/orders}) keeps the
 * cluster's registrations under that path, which need not exist beforehand: ZooKeeper's own
 * chroot would need it, and registering failed without it.
 */
@Timeout(120)
class ZooKeeperChrootTest {

  static {
    // the ZooKeeper client logs every refused connection with its stack trace
    System.setProperty("org.slf4j.simpleLogger.log.org.apache.zookeeper", "error");
  }

  @Test
  void nodesRegisterUnderAChrootThatDidNotExistAndReplicate() throws Exception {
    try (TestingServer zookeeper = new TestingServer(0, true)) {
      String connect = zookeeper.getConnectString() + "/apps/orders";
      try (CacheManager a = node("chroot-a", connect, "chrooted");
          CacheManager b = node("chroot-b", connect, "chrooted")) {
        assertReplicatesAndBothRegisteredUnder(zookeeper, a, b, "/apps/orders/bcache/chrooted/members");
      }
    }
  }

  @Test
  void aManagerWithAChrootStartsWhileZooKeeperIsDownAndJoinsOnceItIsBack() throws Exception {
    try (TestingServer zookeeper = new TestingServer(0, true)) {
      String connect = zookeeper.getConnectString() + "/apps/late";
      zookeeper.stop();

      // it waits out the connection timeout and registers in the background, as without a chroot
      // (it once hung here, creating the chroot on the calling thread until ZooKeeper came back)
      CompletableFuture<CacheManager> starting = CompletableFuture.supplyAsync(() ->
          node("chroot-late-a", connect, "late"));
      try (CacheManager a = starting.get(30, TimeUnit.SECONDS)) {
        zookeeper.restart();
        try (CacheManager b = node("chroot-late-b", connect, "late")) {
          assertReplicatesAndBothRegisteredUnder(zookeeper, a, b, "/apps/late/bcache/late/members");
        }
      }
    }
  }

  /** A clustered cache manager named {@code uri}, through the public API only. */
  private static CacheManager node(String uri, String zookeeperConnect, String cluster) {
    CachingProvider provider = Caching.getCachingProvider("bcache");
    Properties properties = new Properties();
    properties.setProperty("bcache.zookeeper.connect", zookeeperConnect);
    properties.setProperty("bcache.cluster.name", cluster);
    return provider.getCacheManager(URI.create(uri), provider.getDefaultClassLoader(), properties);
  }

  /** A put on {@code a} reaches {@code b}; both are registered under {@code membersPath} and nowhere else. */
  private static void assertReplicatesAndBothRegisteredUnder(TestingServer zookeeper, CacheManager a, CacheManager b,
      String membersPath) throws Exception {
    Cache<String, String> onA = a.createCache("c", new MutableConfiguration<String, String>());
    Cache<String, String> onB = b.createCache("c", new MutableConfiguration<String, String>());

    onA.put("k", "v");

    await().atMost(Duration.ofSeconds(30)).until(() -> "v".equals(onB.get("k")));
    try (CuratorFramework root =
        CuratorFrameworkFactory.newClient(zookeeper.getConnectString(), new RetryOneTime(100))) {
      root.start();
      assertThat(root.getChildren().forPath(membersPath)).hasSize(2);
      assertThat(root.checkExists().forPath("/bcache")).isNull();
    }
  }
}
