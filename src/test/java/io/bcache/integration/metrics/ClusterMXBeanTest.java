package io.bcache.integration.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.bcache.cluster.InJvmCluster;
import io.bcache.jcache.management.ClusterMXBean;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.spi.CachingProvider;
import javax.management.JMX;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three nodes in one JVM, joined through a real ZooKeeper and replicating over real TCP on
 * 127.0.0.1; each node's cluster MXBean is read only through the platform MBean server, under its
 * documented name {@code io.bcache:type=Cluster,CacheManager=<uri, JSR-107 quoting>}.
 */
@Timeout(120)
class ClusterMXBeanTest {

  private static final Duration CONVERGE = Duration.ofSeconds(30);
  private static final MBeanServer SERVER = ManagementFactory.getPlatformMBeanServer();

  private InJvmCluster cluster;

  @BeforeEach
  void startZooKeeper() throws Exception {
    cluster = InJvmCluster.start("metrics");
  }

  @AfterEach
  void stopEverything() throws Exception {
    cluster.close();
  }

  private CacheManager node(String name, String bind) {
    Properties properties = new Properties();
    properties.setProperty("bcache.bind", bind);
    return cluster.node("bcache:" + name, properties);
  }

  private static Cache<String, String> cache(CacheManager manager) {
    return manager.createCache("users", new MutableConfiguration<String, String>().setTypes(String.class, String.class));
  }

  /** The documented name: the URI with {@code , : =} and newlines replaced by {@code .}. */
  private static ObjectName clusterName(CacheManager manager) throws Exception {
    return new ObjectName("io.bcache:type=Cluster,CacheManager="
        + manager.getURI().toString().replaceAll("[,:=\n]", "."));
  }

  private static ClusterMXBean bean(CacheManager manager) throws Exception {
    ObjectName name = clusterName(manager);
    assertThat(SERVER.isRegistered(name)).as("%s is registered", name).isTrue();
    return JMX.newMXBeanProxy(SERVER, name, ClusterMXBean.class);
  }

  @Test
  void eachNodeReportsMembersPeersTrafficAndDrainsItsQueuesOnceConverged() throws Exception {
    CacheManager managerA = node("a", "127.0.0.1:0");
    CacheManager managerB = node("b", "127.0.0.1:0");
    CacheManager managerC = node("c", "127.0.0.1:0");
    Cache<String, String> a = cache(managerA);
    Cache<String, String> b = cache(managerB);
    Cache<String, String> c = cache(managerC);
    ClusterMXBean beanA = bean(managerA);
    ClusterMXBean beanB = bean(managerB);
    ClusterMXBean beanC = bean(managerC);
    List<ClusterMXBean> beans = List.of(beanA, beanB, beanC);

    await().atMost(CONVERGE).untilAsserted(() -> {
      for (ClusterMXBean bean : beans) {
        assertThat(bean.getMemberCount()).isEqualTo(3);
        assertThat(bean.getConnectedPeerCount()).isEqualTo(2);
      }
    });
    List<String> ids = List.of(beanA.getNodeId(), beanB.getNodeId(), beanC.getNodeId());
    assertThat(ids).allMatch(id -> id.matches("[0-9a-f]{16}")).doesNotHaveDuplicates();
    for (ClusterMXBean bean : beans) {
      assertThat(bean.getClusterName()).isEqualTo(cluster.name());
      assertThat(bean.getMembers()).containsExactlyInAnyOrderElementsOf(ids);
      List<String> others = new ArrayList<>(ids);
      others.remove(bean.getNodeId());
      assertThat(bean.getConnectedPeers()).containsExactlyInAnyOrderElementsOf(others);
      assertThat(bean.getQueueDepths()).containsOnlyKeys(others);
      assertThat(bean.isZooKeeperConnected()).isTrue();
      assertThat(bean.getStatusAgeMillis()).isLessThan(1_000);
    }

    long sentBefore = beanA.getBytesSent();
    long receivedByB = beanB.getBytesReceived();
    long receivedByC = beanC.getBytesReceived();
    long publishedBefore = beanA.getChangesPublished();
    String value = "x".repeat(10_000);
    int puts = 100; // about 1 MB of values; heartbeats add a few bytes a second
    for (int i = 0; i < puts; i++) {
      a.put("k" + i, value);
    }
    await().atMost(CONVERGE).until(() -> value.equals(b.get("k99")) && value.equals(c.get("k99")));
    assertThat(beanA.getChangesPublished()).isEqualTo(publishedBefore + puts);
    assertThat(beanA.getBytesSent() - sentBefore).isGreaterThan(2L * puts * value.length());
    await().atMost(CONVERGE).untilAsserted(() -> {
      assertThat(beanB.getBytesReceived() - receivedByB).isGreaterThan((long) puts * value.length());
      assertThat(beanC.getBytesReceived() - receivedByC).isGreaterThan((long) puts * value.length());
      assertThat(beanB.getChangesApplied()).isGreaterThanOrEqualTo(puts);
    });

    // converged: nothing queued, and once each peer's next digest arrived, nothing unacknowledged
    await().atMost(CONVERGE).untilAsserted(() -> {
      for (ClusterMXBean bean : beans) {
        assertThat(bean.getQueueDepths().values()).hasSize(2).containsOnly(0);
        assertThat(bean.getUnacknowledgedChanges().values()).hasSize(2).containsOnly(0L);
        assertThat(bean.getReplicationLagMillis().values()).hasSize(2).containsOnly(0L);
        assertThat(bean.getMaxReplicationLagMillis()).isZero();
      }
    });
    assertThat(beanA.getResyncs()).isZero();
    assertThat(beanA.getResyncingPeers()).isEmpty();
    assertThat(beanA.isSyncing()).isFalse();

    // the docs' example: Micrometer gauges over the MXBean proxy
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try {
      ClusterMXBean cluster = JMX.newMXBeanProxy(ManagementFactory.getPlatformMBeanServer(),
          clusterName(managerA), ClusterMXBean.class);
      Gauge.builder("bcache.cluster.members", cluster, ClusterMXBean::getMemberCount)
          .register(registry);
      Gauge.builder("bcache.cluster.replication.lag", cluster, ClusterMXBean::getMaxReplicationLagMillis)
          .baseUnit("milliseconds")
          .register(registry);
      assertThat(registry.get("bcache.cluster.members").gauge().value()).isEqualTo(3.0);
      assertThat(registry.get("bcache.cluster.replication.lag").gauge().value()).isZero();
    } finally {
      registry.close();
    }
  }

  @Test
  void aGarbageConnectionToTheNodesPortIsCountedAsRejected() throws Exception {
    int port = InJvmCluster.freeLoopbackPort();
    CacheManager target = node("target", "127.0.0.1:" + port);
    ClusterMXBean bean = bean(target);
    assertThat(bean.getRejectedConnections()).isZero();

    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
      OutputStream out = socket.getOutputStream();
      // its first four bytes read as a frame length far above the limit
      out.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      await().atMost(CONVERGE).until(() -> bean.getRejectedConnections() == 1);
    }
  }

  @Test
  void theBeanLivesAsLongAsTheNodeAndAStandaloneNodeHasNone() throws Exception {
    CacheManager clustered = node("short-lived", "127.0.0.1:0");
    ObjectName name = clusterName(clustered);
    assertThat(SERVER.isRegistered(name)).isTrue();
    assertThat(JMX.newMXBeanProxy(SERVER, name, ClusterMXBean.class).getMemberCount()).isEqualTo(1);

    clustered.close();
    assertThat(SERVER.isRegistered(name)).isFalse();

    CachingProvider provider = Caching.getCachingProvider("bcache");
    CacheManager standalone = cluster.closeWithCluster(provider.getCacheManager(
        URI.create("bcache:standalone-" + cluster.name()), provider.getDefaultClassLoader(), new Properties()));
    cache(standalone).put("k", "v");
    assertThat(SERVER.queryNames(new ObjectName("io.bcache:type=Cluster,CacheManager="
        + standalone.getURI().toString().replace(':', '.') + ",*"), null)).isEmpty();
    assertThat(SERVER.isRegistered(clusterName(standalone))).isFalse();
  }

  @Test
  void aBusyReplicationThreadDelaysOneReadAtMostAndTheFiguresSayHowOldTheyAre() throws Exception {
    MutableConfiguration<String, Object> byReference = new MutableConfiguration<String, Object>().setStoreByValue(false);
    Cache<String, Object> a = node("a", "127.0.0.1:0").createCache("values", byReference);
    // b deserializes a change from a on its replication thread: this value's readObject holds it
    Properties allowBlockingValue = new Properties();
    allowBlockingValue.setProperty("bcache.serialization.allow", BlockingValue.class.getName());
    CacheManager managerB = cluster.node("bcache:b", allowBlockingValue);
    managerB.createCache("values", byReference);
    ClusterMXBean beanB = bean(managerB);
    await().atMost(CONVERGE).until(() -> beanB.getConnectedPeerCount() == 1);
    BlockingValue.release = new CountDownLatch(1);
    BlockingValue.entered = new CountDownLatch(1);
    try {
      a.put("k", new BlockingValue());
      assertThat(BlockingValue.entered.await(30, TimeUnit.SECONDS)).isTrue();

      long start = System.nanoTime();
      for (int i = 0; i < 10; i++) {
        assertThat(beanB.getConnectedPeerCount()).isEqualTo(1); // from the last snapshot
      }
      // one read waited for the thread (a second at most); the others did not wait again
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
      await().atMost(CONVERGE).until(() -> beanB.getStatusAgeMillis() >= 1_000);
    } finally {
      BlockingValue.release.countDown();
    }
    await().atMost(CONVERGE).until(() -> beanB.getStatusAgeMillis() < 1_000);
    assertThat(beanB.getChangesApplied()).isEqualTo(1);
  }

  /** Holds the thread that deserializes it until released (30 s at most), when armed. */
  public static final class BlockingValue implements Serializable {
    private static final long serialVersionUID = 1L;
    static volatile CountDownLatch entered = new CountDownLatch(0);
    static volatile CountDownLatch release = new CountDownLatch(0);

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
      in.defaultReadObject();
      entered.countDown();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

}
