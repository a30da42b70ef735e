package io.bcache.jcache;

import io.bcache.config.BCacheSettings;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.WeakHashMap;

/** The cache managers of one provider, one per class loader and URI. */
final class ManagerRegistry {

  private final Map<ClassLoader, Map<URI, BCacheManager>> managers = new WeakHashMap<>();

  /**
   * The open manager for {@code uri} and {@code classLoader}, made if there is none. One still
   * closing is waited for until it has left the cluster: until then it holds what a new manager
   * for the URI may need (the port {@code bcache.bind} fixes).
   */
  BCacheManager getOrCreate(BCacheCachingProvider provider, URI uri, ClassLoader classLoader,
      Properties properties) {
    for (;;) {
      BCacheManager closing;
      synchronized (this) {
        Map<URI, BCacheManager> byUri = managers.computeIfAbsent(classLoader, cl -> new HashMap<>());
        BCacheManager manager = byUri.get(uri);
        if (manager != null && !manager.isClosed()) {
          return manager;
        }
        if (manager == null || manager.hasLeftCluster()) {
          BCacheSettings settings = BCacheSettings.resolve(uri, classLoader, properties);
          manager = new BCacheManager(provider, this, uri, classLoader, properties, settings);
          byUri.put(uri, manager); // the closing one, if any, forgets only itself
          return manager;
        }
        closing = manager;
      }
      if (!closing.awaitLeftCluster()) {
        released(closing); // asked for by the close itself: a new manager it is, at once
      }
    }
  }

  /** Closes every manager; each is forgotten once its close is over. */
  void closeAll() {
    List<BCacheManager> all = new ArrayList<>();
    synchronized (this) {
      managers.values().forEach(byUri -> all.addAll(byUri.values()));
    }
    all.forEach(BCacheManager::close);
  }

  /** Closes the managers of one class loader. */
  void closeAll(ClassLoader classLoader) {
    List<BCacheManager> all = new ArrayList<>();
    synchronized (this) {
      Map<URI, BCacheManager> byUri = managers.get(classLoader);
      if (byUri != null) {
        all.addAll(byUri.values());
      }
    }
    all.forEach(BCacheManager::close);
  }

  /** Closes one manager, if there is one for {@code uri} and {@code classLoader}. */
  void close(URI uri, ClassLoader classLoader) {
    BCacheManager manager;
    synchronized (this) {
      Map<URI, BCacheManager> byUri = managers.get(classLoader);
      manager = byUri == null ? null : byUri.get(uri);
    }
    if (manager != null) {
      manager.close();
    }
  }

  /** Forgets a manager that closed, so the next request creates a new one. */
  synchronized void released(BCacheManager manager) {
    ClassLoader classLoader = manager.getClassLoader();
    Map<URI, BCacheManager> byUri = managers.get(classLoader);
    if (byUri != null && byUri.get(manager.getURI()) == manager) {
      byUri.remove(manager.getURI());
      if (byUri.isEmpty()) {
        managers.remove(classLoader);
      }
    }
  }
}
