package io.bcache.jcache;

import io.bcache.config.BCacheSettings;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.WeakHashMap;
import javax.cache.CacheManager;
import javax.cache.configuration.OptionalFeature;
import javax.cache.spi.CachingProvider;

/**
 * The bcache JSR-107 caching provider.
 *
 * <p>Found by {@code Caching.getCachingProvider()} (it is registered as a service), by its class
 * name, and by the short name {@code "bcache"} (a class of exactly that name delegates to this
 * one). A provider hands out one {@link CacheManager} per URI and class loader. As JSR-107
 * requires, providers that {@code Caching} made for different class loaders keep separate
 * managers.
 */
public final class BCacheCachingProvider implements CachingProvider {

  /** The URI of the default cache manager. */
  public static final URI DEFAULT_URI = URI.create("bcache:default");

  // class loader -> (URI -> manager)
  private final Map<ClassLoader, Map<URI, BCacheManager>> managers = new WeakHashMap<>();

  /** Creates a provider; normally done by {@link javax.cache.Caching}. */
  public BCacheCachingProvider() {
  }

  @Override
  public CacheManager getCacheManager(URI uri, ClassLoader classLoader, Properties properties) {
    URI managerUri = uri == null ? getDefaultURI() : uri;
    ClassLoader managerLoader = classLoader == null ? getDefaultClassLoader() : classLoader;
    synchronized (managers) {
      Map<URI, BCacheManager> byUri = managers.computeIfAbsent(managerLoader, cl -> new HashMap<>());
      BCacheManager manager = byUri.get(managerUri);
      if (manager == null || manager.isClosed()) {
        Properties given = properties == null ? getDefaultProperties() : properties;
        BCacheSettings settings = BCacheSettings.resolve(managerUri, managerLoader, given);
        manager = new BCacheManager(this, managerUri, managerLoader, given, settings);
        byUri.put(managerUri, manager);
      }
      return manager;
    }
  }

  @Override
  public CacheManager getCacheManager(URI uri, ClassLoader classLoader) {
    return getCacheManager(uri, classLoader, getDefaultProperties());
  }

  @Override
  public CacheManager getCacheManager() {
    return getCacheManager(getDefaultURI(), getDefaultClassLoader(), getDefaultProperties());
  }

  @Override
  public ClassLoader getDefaultClassLoader() {
    ClassLoader context = Thread.currentThread().getContextClassLoader();
    return context != null ? context : BCacheCachingProvider.class.getClassLoader();
  }

  @Override
  public URI getDefaultURI() {
    return DEFAULT_URI;
  }

  @Override
  public Properties getDefaultProperties() {
    return new Properties();
  }

  @Override
  public void close() {
    List<BCacheManager> all = new ArrayList<>();
    synchronized (managers) {
      managers.values().forEach(byUri -> all.addAll(byUri.values()));
      managers.clear();
    }
    all.forEach(BCacheManager::close);
  }

  @Override
  public void close(ClassLoader classLoader) {
    ClassLoader managerLoader = classLoader == null ? getDefaultClassLoader() : classLoader;
    Map<URI, BCacheManager> byUri;
    synchronized (managers) {
      byUri = managers.remove(managerLoader);
    }
    if (byUri != null) {
      byUri.values().forEach(BCacheManager::close);
    }
  }

  @Override
  public void close(URI uri, ClassLoader classLoader) {
    URI managerUri = uri == null ? getDefaultURI() : uri;
    ClassLoader managerLoader = classLoader == null ? getDefaultClassLoader() : classLoader;
    BCacheManager manager = null;
    synchronized (managers) {
      Map<URI, BCacheManager> byUri = managers.get(managerLoader);
      if (byUri != null) {
        manager = byUri.remove(managerUri);
        if (byUri.isEmpty()) {
          managers.remove(managerLoader);
        }
      }
    }
    if (manager != null) {
      manager.close();
    }
  }

  @Override
  public boolean isSupported(OptionalFeature optionalFeature) {
    return optionalFeature == OptionalFeature.STORE_BY_REFERENCE;
  }

  /** Forgets a manager that closed itself, so the next request creates a new one. */
  void released(BCacheManager manager) {
    synchronized (managers) {
      Map<URI, BCacheManager> byUri = managers.get(manager.getClassLoaderOrNull());
      if (byUri != null && byUri.get(manager.getURI()) == manager) {
        byUri.remove(manager.getURI());
        if (byUri.isEmpty()) {
          managers.remove(manager.getClassLoaderOrNull());
        }
      }
    }
  }
}
