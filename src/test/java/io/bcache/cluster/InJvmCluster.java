package io.bcache.cluster;

import io.bcache.jcache.management.ClusterMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.spi.CachingProvider;
import javax.management.JMX;
import javax.management.ObjectName;
import org.apache.curator.test.TestingServer;

/**
 * A real ZooKeeper on 127.0.0.1 and the nodes of one bcache cluster in this JVM, each a
 * {@code CacheManager} configured only through the public {@code bcache.*} properties. Closing
 * it closes every node, then ZooKeeper, whatever failed before.
 */
public final class InJvmCluster implements AutoCloseable {

  private static final String SECRET = "s3cret";

  private final TestingServer zookeeper;
  private final String name;
  private final CachingProvider provider = Caching.getCachingProvider("bcache");
  private final List<CacheManager> managers = new ArrayList<>();

  private InJvmCluster(TestingServer zookeeper, String name) {
    this.zookeeper = zookeeper;
    this.name = name;
  }

  /** Starts ZooKeeper for a cluster named {@code namePrefix} plus a random suffix. */
  public static InJvmCluster start(String namePrefix) throws Exception {
    return new InJvmCluster(new TestingServer(0, true),
        namePrefix + "-" + UUID.randomUUID().toString().substring(0, 8));
  }

  /**
   * A port on 127.0.0.1 that was free a moment ago, for a node that must bind a known port (its
   * peers are told another one, or a process is started with it).
   */
  public static int freeLoopbackPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** The cluster's {@code bcache.cluster.name}. */
  public String name() {
    return name;
  }

  /**
   * Starts a node with URI {@code <nodeName>-<cluster name>}: ZooKeeper, the cluster's name and
   * secret, a free port on 127.0.0.1, then {@code extra}, which may override any of them.
   */
  public CacheManager node(String nodeName, Properties extra) {
    Properties properties = new Properties();
    properties.setProperty("bcache.zookeeper.connect", zookeeper.getConnectString());
    properties.setProperty("bcache.cluster.name", name);
    properties.setProperty("bcache.bind", "127.0.0.1:0");
    properties.setProperty("bcache.secret", SECRET);
    properties.putAll(extra);
    return closeWithCluster(provider.getCacheManager(URI.create(nodeName + "-" + name),
        provider.getDefaultClassLoader(), properties));
  }

  public CacheManager node(String nodeName) {
    return node(nodeName, new Properties());
  }

  /** The node's cluster MXBean, found by its documented name as an operator would. */
  public static ClusterMXBean clusterBean(CacheManager manager) throws Exception {
    ObjectName name = new ObjectName("io.bcache:type=Cluster,CacheManager="
        + manager.getURI().toString().replaceAll("[,:=\n]", "."));
    return JMX.newMXBeanProxy(ManagementFactory.getPlatformMBeanServer(), name, ClusterMXBean.class);
  }

  /** Closes {@code manager} when the cluster closes; returns it. */
  public CacheManager closeWithCluster(CacheManager manager) {
    managers.add(manager);
    return manager;
  }

  @Override
  public void close() throws Exception {
    try {
      for (CacheManager manager : managers) {
        manager.close();
      }
    } finally {
      zookeeper.close();
    }
  }
}
