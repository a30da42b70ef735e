package io.bcache.bench.cluster;

import io.bcache.jcache.BCache;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;

/**
 * A bcache node: one {@code CacheManager} (one cluster member) with one cache, reached only
 * through the JCache API, configured with the public {@code bcache.*} properties.
 */
final class BcacheNode implements NodeBackend {

  /** The cluster MXBean attributes printed after each step. */
  private static final String[] DIAGNOSTICS =
      {"Resyncs", "SnapshotsSent", "SnapshotsReceived", "BytesReceived"};

  private final Map<String, String> options;
  private CacheManager manager;
  private Cache<String, byte[]> cache;
  private BCache<?, ?> local;

  /** The password of the benchmark's throwaway TLS key store. */
  static final String TLS_PASSWORD = "benchmark";

  BcacheNode(Map<String, String> options) {
    this.options = options;
  }

  @Override
  public void start() throws Exception {
    Properties properties = new Properties();
    properties.setProperty("bcache.zookeeper.connect", options.get("zk"));
    properties.setProperty("bcache.cluster.name", options.get("cluster"));
    properties.setProperty("bcache.bind", "127.0.0.1:0");
    properties.setProperty("bcache.maxEntries", options.get("maxEntries"));
    if (options.containsKey("tlsKeyStore")) {
      properties.setProperty("bcache.tls.keyStore", options.get("tlsKeyStore"));
      properties.setProperty("bcache.tls.keyStorePassword", TLS_PASSWORD);
    }
    manager = Caching.getCachingProvider("bcache").getCacheManager(
        new URI("bench-" + options.get("name")), BcacheNode.class.getClassLoader(), properties);
    MutableConfiguration<String, byte[]> configuration = new MutableConfiguration<String, byte[]>()
        .setTypes(String.class, byte[].class)
        .setStoreByValue(Boolean.parseBoolean(options.get("storeByValue")));
    cache = manager.createCache(ClusterNode.CACHE_NAME, configuration);
    local = cache.unwrap(BCache.class);
  }

  @Override
  public void put(String key, byte[] value) {
    cache.put(key, value);
  }

  @Override
  public void putAll(Map<String, byte[]> entries) {
    cache.putAll(entries);
  }

  @Override
  public boolean contains(String key) {
    return cache.containsKey(key);
  }

  @Override
  public byte[] get(String key) {
    return cache.get(key);
  }

  @Override
  public long localSize() {
    return local.size();
  }

  /** Reads the node's cluster MXBean, as an operator would. */
  @Override
  public String diagnostics() {
    try {
      MBeanServer server = ManagementFactory.getPlatformMBeanServer();
      ObjectName name = new ObjectName("io.bcache:type=Cluster,CacheManager="
          + ObjectName.quote(manager.getURI().toString()));
      Set<ObjectName> found = server.queryNames(name, null);
      if (found.isEmpty()) {
        found = server.queryNames(new ObjectName("io.bcache:type=Cluster,*"), null);
      }
      StringBuilder out = new StringBuilder();
      for (ObjectName bean : found) {
        for (String attribute : DIAGNOSTICS) {
          out.append(' ').append(attribute).append('=').append(server.getAttribute(bean, attribute));
        }
      }
      return out.toString().trim();
    } catch (JMException e) {
      return "diagnostics=" + e.getClass().getSimpleName();
    }
  }

  @Override
  public void close() {
    if (manager != null) {
      manager.close(); // flushes pending changes and leaves the membership
    }
  }
}
