package io.bcache.jcache;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When the JVM shuts down (an orderly exit, or SIGTERM) with clustered cache managers still
 * open, flushes their pending changes to the peers and leaves the cluster, as
 * {@code CacheManager.close()} would: the writes a node accepted are not lost because nobody
 * closed it, and peers see it leave at once instead of when its ZooKeeper session expires. It
 * leaves the caches, their loaders and listeners to whoever closes the manager. One JVM hook,
 * registered while any such manager is open (unless {@code bcache.shutdownHook=false}).
 */
final class ClusterShutdownHook {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterShutdownHook.class);
  private static final Set<BCacheManager> OPEN = new LinkedHashSet<>();
  private static Thread hook;

  private ClusterShutdownHook() {
  }

  static synchronized void register(BCacheManager manager) {
    if (hook == null) {
      Thread leaving = new Thread(ClusterShutdownHook::leaveAll, "bcache-shutdown");
      try {
        Runtime.getRuntime().addShutdownHook(leaving);
      } catch (IllegalStateException shuttingDown) {
        // a manager opened while the JVM shuts down: nothing will run a hook now; its owner's
        // close() (if any) is what makes it leave
        LOG.warn("the JVM is shutting down: {} gets no shutdown hook", manager);
        return;
      }
      hook = leaving;
    }
    OPEN.add(manager);
  }

  static synchronized void unregister(BCacheManager manager) {
    if (!OPEN.remove(manager) || !OPEN.isEmpty()) {
      return;
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or about to: it finds this manager gone or already left
    }
    hook = null;
  }

  private static void leaveAll() {
    List<BCacheManager> managers;
    synchronized (ClusterShutdownHook.class) {
      managers = new ArrayList<>(OPEN);
    }
    managers.forEach(BCacheManager::leaveCluster);
  }
}
