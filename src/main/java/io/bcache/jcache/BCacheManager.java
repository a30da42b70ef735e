package io.bcache.jcache;

import io.bcache.config.BCacheSettings;
import io.bcache.jcache.event.ThreadMark;
import io.bcache.jcache.management.ClusterBean;
import io.bcache.replication.HybridLogicalClock;
import io.bcache.replication.NodeId;
import io.bcache.replication.Replicator;
import io.bcache.replication.ReplicatorFactory;
import io.bcache.serialization.AllowListFilter;
import io.bcache.serialization.WireCodec;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.ServiceLoader;
import java.util.Set;
import java.lang.ref.WeakReference;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.cache.Cache;
import javax.cache.CacheException;
import javax.cache.CacheManager;
import javax.cache.configuration.Configuration;
import javax.cache.spi.CachingProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bcache cache manager: one node. Its caches share the node's id and hybrid logical clock,
 * which version every change they make.
 */
public final class BCacheManager implements CacheManager {

  private static final Logger LOG = LoggerFactory.getLogger(BCacheManager.class);
  private static final long MAX_WIRE_VALUE_BYTES = 64L << 20;

  private final BCacheCachingProvider provider;
  private final ManagerRegistry registry;
  private final URI uri;
  private final WeakReference<ClassLoader> classLoader;
  private final Properties properties;
  private final BCacheSettings settings;
  private final ConcurrentHashMap<String, BCache<?, ?>> caches = new ConcurrentHashMap<>();
  private final long nodeId = NodeId.random();
  private final HybridLogicalClock clock = HybridLogicalClock.system();
  private final ChangeSink changeSink;
  private final Replicator replicator;
  /** Between this manager's caches and replication; {@code null} on a standalone node. */
  private final ReplicaBridge bridge;
  /** The node's cluster MXBean; {@code null} on a standalone node. */
  private final ClusterBean clusterBean;
  /** The manager whose executor runs the current thread, if any. */
  private static final ThreadLocal<BCacheManager> EXECUTOR_OF = new ThreadLocal<>();

  private final ExecutorService executor;
  private volatile boolean closed;
  /** The thread running {@link #close()}, once it started. */
  private volatile Thread closingThread;
  private final CountDownLatch leftCluster = new CountDownLatch(1);

  BCacheManager(BCacheCachingProvider provider, ManagerRegistry registry, URI uri, ClassLoader classLoader, Properties properties,
      BCacheSettings settings) {
    this.provider = provider;
    this.registry = registry;
    this.uri = uri;
    this.classLoader = new WeakReference<>(classLoader);
    this.properties = properties;
    this.settings = settings;
    this.executor = Executors.newCachedThreadPool(executorThreads("bcache-" + uri, this));
    if (settings.zookeeperConnect().isPresent()) {
      ReplicaBridge bridge = new ReplicaBridge(this,
          new WireCodec(new AllowListFilter(settings.serializationAllowList(), MAX_WIRE_VALUE_BYTES)));
      this.changeSink = bridge;
      this.replicator = startReplication(bridge);
      bridge.attach(replicator);
      this.bridge = bridge;
      this.clusterBean = ClusterBean.register(uri, nodeId, replicator::status, bridge::refusedChanges);
      if (settings.shutdownHook()) {
        ClusterShutdownHook.register(this);
      }
    } else {
      this.changeSink = ChangeSink.NONE;
      this.replicator = null;
      this.bridge = null;
      this.clusterBean = null;
    }
  }

  private Replicator startReplication(ReplicaBridge bridge) {
    Iterator<ReplicatorFactory> factories = ServiceLoader.load(ReplicatorFactory.class,
        BCacheManager.class.getClassLoader()).iterator();
    if (!factories.hasNext()) {
      throw new CacheException(BCacheSettings.ZOOKEEPER_CONNECT + " is set but no replication is on the class path");
    }
    return factories.next().start(nodeId, clock, settings, bridge);
  }

  /** The cache of that name, for replication; {@code null} if this node has none. */
  BCache<?, ?> cacheForReplication(String cacheName) {
    return caches.get(cacheName);
  }

  /** The names of this node's caches, for replication. */
  Set<String> cacheNamesForReplication() {
    return Set.copyOf(caches.keySet());
  }

  @Override
  public CachingProvider getCachingProvider() {
    return provider;
  }

  @Override
  public URI getURI() {
    return uri;
  }

  @Override
  public ClassLoader getClassLoader() {
    return classLoader.get();
  }

  @Override
  public Properties getProperties() {
    return properties;
  }

  /** The resolved {@code bcache.*} settings of this node. */
  public BCacheSettings settings() {
    return settings;
  }

  /** This node's id, unique per process start. */
  public long nodeId() {
    return nodeId;
  }

  HybridLogicalClock clock() {
    return clock;
  }

  ChangeSink changeSink() {
    return changeSink;
  }

  /** Routes loads to their owners (cluster-wide loads); {@code null} on a standalone node. */
  ReplicaBridge bridge() {
    return bridge;
  }

  ExecutorService executor() {
    return executor;
  }

  @Override
  public <K, V, C extends Configuration<K, V>> Cache<K, V> createCache(String cacheName, C configuration) {
    requireOpen();
    Objects.requireNonNull(cacheName, "cacheName");
    Objects.requireNonNull(configuration, "configuration");
    if (bridge != null) {
      bridge.checkCacheName(cacheName);
    }
    BCache<?, ?>[] created = new BCache<?, ?>[1];
    caches.compute(cacheName, (name, existing) -> {
      if (existing != null) {
        throw new CacheException("cache '" + name + "' already exists");
      }
      BCacheConfiguration<K, V> resolved = new BCacheConfiguration<>(configuration);
      if (resolved.getMaxEntries() == BCacheConfiguration.UNSET) {
        resolved.setMaxEntries(settings.maxEntriesFor(name));
      } else {
        BCacheSettings.checkBound(name, resolved.getMaxEntries());
      }
      if (resolved.getLoadScope() == null) {
        resolved.setLoadScope(settings.loadScopeFor(name));
      }
      created[0] = new BCache<>(this, name, resolved);
      return created[0];
    });
    if (closed) {
      // the manager began to close after the check above: its close may not have seen this
      // cache, which would then stay open on a closed manager
      created[0].close();
      throw new IllegalStateException("cache manager " + uri + " is closed");
    }
    created[0].start();
    if (replicator != null) {
      replicator.cacheCreated(cacheName);
    }
    @SuppressWarnings("unchecked")
    Cache<K, V> cache = (Cache<K, V>) created[0];
    return cache;
  }

  @Override
  public <K, V> Cache<K, V> getCache(String cacheName, Class<K> keyType, Class<V> valueType) {
    requireOpen();
    Objects.requireNonNull(cacheName, "cacheName");
    Objects.requireNonNull(keyType, "keyType");
    Objects.requireNonNull(valueType, "valueType");
    BCache<?, ?> cache = caches.get(cacheName);
    if (cache == null) {
      return null;
    }
    Configuration<?, ?> configuration = cache.getConfiguration(Configuration.class);
    if (!configuration.getKeyType().isAssignableFrom(keyType)
        || !configuration.getValueType().isAssignableFrom(valueType)) {
      throw new ClassCastException("cache '" + cacheName + "' has types <" + configuration.getKeyType().getName()
          + ", " + configuration.getValueType().getName() + ">, not <" + keyType.getName() + ", "
          + valueType.getName() + ">");
    }
    @SuppressWarnings("unchecked")
    Cache<K, V> typed = (Cache<K, V>) cache;
    return typed;
  }

  @Override
  public <K, V> Cache<K, V> getCache(String cacheName) {
    requireOpen();
    Objects.requireNonNull(cacheName, "cacheName");
    @SuppressWarnings("unchecked")
    Cache<K, V> cache = (Cache<K, V>) caches.get(cacheName);
    return cache;
  }

  @Override
  public Iterable<String> getCacheNames() {
    requireOpen();
    return Collections.unmodifiableList(new ArrayList<>(caches.keySet()));
  }

  @Override
  public void destroyCache(String cacheName) {
    requireOpen();
    Objects.requireNonNull(cacheName, "cacheName");
    BCache<?, ?> cache = caches.get(cacheName);
    if (cache != null) {
      cache.clear();
      cache.close();
    }
  }

  @Override
  public void enableManagement(String cacheName, boolean enabled) {
    requireOpen();
    Objects.requireNonNull(cacheName, "cacheName");
    BCache<?, ?> cache = caches.get(cacheName);
    if (cache != null) {
      cache.setManagementEnabled(enabled);
    }
  }

  @Override
  public void enableStatistics(String cacheName, boolean enabled) {
    requireOpen();
    Objects.requireNonNull(cacheName, "cacheName");
    BCache<?, ?> cache = caches.get(cacheName);
    if (cache != null) {
      cache.setStatisticsEnabled(enabled);
    }
  }

  /** Called by a cache when it closes, so that the manager no longer hands it out. */
  void released(BCache<?, ?> cache) {
    caches.remove(cache.getName(), cache);
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      closingThread = Thread.currentThread();
    }
    try {
      closeEverything();
    } finally {
      leftCluster.countDown();
      registry.released(this);
    }
  }

  private void closeEverything() {
    if (clusterBean != null) {
      clusterBean.unregister();
    }
    // no operation begins once the node starts to leave: a write then would stay here, where
    // the caller took it for made; those under way go with the flush
    List<BCache<?, ?>> closing = new ArrayList<>();
    for (BCache<?, ?> cache : caches.values()) {
      if (cache.refuseOperations()) {
        closing.add(cache);
      }
    }
    leaveCluster();
    // a new manager for the URI may start now: its node would have run beside this one while it
    // still left the cluster (and held its port)
    leftCluster.countDown();
    for (BCache<?, ?> cache : closing) {
      try {
        cache.release();
      } catch (RuntimeException e) {
        LOG.warn("failed to close cache {}", cache.getName(), e);
      }
    }
    caches.clear();
    executor.shutdown();
    BCacheManager runningOn = EXECUTOR_OF.get();
    if (runningOn == this || (runningOn != null && runningOn.closed) || ThreadMark.HELD_KEYS.isSet()) {
      // a listener or completion callback closing its own manager: the executor ends once it
      // returns, and waiting would wait for this very thread; one closing another manager while
      // its own closes: a listener of that one may be closing this thread's manager, waiting for
      // this thread in turn; a processor or writer closing it: an executor thread may be blocked
      // on the key this thread holds. The listeners' deliveries were waited for, cycles aside
      return;
    }
    try {
      if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      executor.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Waits until a closing manager has left the cluster, unless this thread is the one closing
   * it (something the close calls asks for a manager of the same URI). Its caches may still be
   * closing: the wait is not for them, as they wait for their listeners, and a listener may be
   * the one asking.
   *
   * @return whether the node has left
   */
  boolean awaitLeftCluster() {
    if (Thread.currentThread() == closingThread) {
      return false;
    }
    boolean interrupted = false;
    try {
      for (;;) {
        try {
          leftCluster.await();
          return true;
        } catch (InterruptedException e) {
          interrupted = true; // leaving is bounded in time: wait for it all the same
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Whether this manager, closing, has left the cluster (or never was in one). */
  boolean hasLeftCluster() {
    return leftCluster.getCount() == 0;
  }

  /** Flushes pending changes to the peers, then leaves the cluster; idempotent. */
  void leaveCluster() {
    if (replicator == null) {
      return;
    }
    try {
      replicator.close();
    } catch (RuntimeException e) {
      LOG.warn("failed to leave the cluster cleanly", e);
    }
    // only now: a JVM shutdown that starts while this thread is leaving waits for it in the hook
    ClusterShutdownHook.unregister(this);
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  @Override
  public <T> T unwrap(Class<T> clazz) {
    if (clazz.isInstance(this)) {
      return clazz.cast(this);
    }
    throw new IllegalArgumentException("cannot unwrap a cache manager to " + clazz.getName());
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("cache manager " + uri + " is closed");
    }
  }

  /** Daemon threads that know they run {@code owner}'s executor (see {@link #close()}). */
  private static ThreadFactory executorThreads(String prefix, BCacheManager owner) {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(() -> {
        EXECUTOR_OF.set(owner);
        runnable.run();
      }, prefix + "-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  @Override
  public String toString() {
    return "BCacheManager[" + uri + ", node " + HexFormat.of().toHexDigits(nodeId) + "]";
  }
}
