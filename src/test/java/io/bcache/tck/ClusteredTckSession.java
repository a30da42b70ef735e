package io.bcache.tck;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.spi.CachingProvider;
import org.apache.curator.test.TestingServer;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the TCK against a node that is a member of a live cluster: before any TCK class runs it
 * starts a ZooKeeper and two peer nodes, and sets the {@code bcache.*} system properties so that
 * every cache manager the TCK creates joins that cluster. Registered only on the clustered TCK
 * run's class path (tck/clustered).
 */
public final class ClusteredTckSession implements LauncherSessionListener {

  private static final Logger LOG = LoggerFactory.getLogger(ClusteredTckSession.class);
  private static final String CLUSTER = "tck";

  private TestingServer zookeeper;
  private final List<CacheManager> peers = new ArrayList<>();

  @Override
  public void launcherSessionOpened(LauncherSession session) {
    try {
      zookeeper = new TestingServer(0, true);
    } catch (Exception e) {
      throw new IllegalStateException("cannot start ZooKeeper for the clustered TCK", e);
    }
    System.setProperty("bcache.zookeeper.connect", zookeeper.getConnectString());
    System.setProperty("bcache.cluster.name", CLUSTER);
    System.setProperty("bcache.bind", "127.0.0.1:0");

    CachingProvider provider = Caching.getCachingProvider("bcache");
    for (String name : List.of("tck-peer-1", "tck-peer-2")) {
      CacheManager peer = provider.getCacheManager(URI.create(name), ClusteredTckSession.class.getClassLoader(),
          new Properties());
      // a cache the peers share with each other, so the cluster really replicates meanwhile
      Cache<String, String> shared = peer.createCache("tck-peers", new MutableConfiguration<>());
      shared.put(name, "alive");
      peers.add(peer);
    }
    LOG.info("clustered TCK: ZooKeeper at {}, peers {}", zookeeper.getConnectString(), peers);
  }

  @Override
  public void launcherSessionClosed(LauncherSession session) {
    peers.forEach(CacheManager::close);
    try {
      if (zookeeper != null) {
        zookeeper.close();
      }
    } catch (Exception e) {
      LOG.warn("ZooKeeper did not stop cleanly", e);
    }
  }
}
