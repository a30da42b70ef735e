package io.bcache.jcache;

import java.net.URI;
import java.util.Properties;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.OptionalFeature;
import javax.cache.spi.CachingProvider;

/**
 * The bcache JSR-107 caching provider.
 *
 * <p>It is registered as a service under its short name: the class {@code bcache} extends this
 * one, so {@code Caching.getCachingProvider()}, {@code Caching.getCachingProvider("bcache")} and
 * Hibernate's or Spring's {@code provider=bcache} all get the same instance. A provider hands out
 * one {@link CacheManager} per URI and class loader; as JSR-107 requires, the providers that
 * {@code Caching} keeps for different class loaders keep separate managers.
 *
 * <p>When {@code Caching} instantiates this class under its fully qualified name, the instance
 * shares the managers of the {@code bcache} provider of {@code Caching}'s default class loader,
 * so that name gives the same managers too. (cache-api then lists two providers for that class
 * loader, and {@code Caching.getCachingProvider()} without a name refuses to choose: prefer the
 * short name.)
 */
public class BCacheCachingProvider implements CachingProvider {

  /** The URI of the default cache manager. */
  public static final URI DEFAULT_URI = URI.create("bcache:default");

  /** The short name the provider is registered under. */
  public static final String SHORT_NAME = "bcache";

  private volatile ManagerRegistry registry;

  /** Creates a provider; normally done by {@link Caching}. */
  public BCacheCachingProvider() {
    if (getClass() != BCacheCachingProvider.class) {
      registry = new ManagerRegistry();
    }
  }

  private ManagerRegistry registry() {
    ManagerRegistry shared = registry;
    if (shared == null) {
      // made by Caching under the class name: share the registered provider's managers
      CachingProvider primary = Caching.getCachingProvider(SHORT_NAME, Caching.getDefaultClassLoader());
      shared = ((BCacheCachingProvider) primary).registry();
      registry = shared;
    }
    return shared;
  }

  @Override
  public CacheManager getCacheManager(URI uri, ClassLoader classLoader, Properties properties) {
    return registry().getOrCreate(this,
        uri == null ? getDefaultURI() : uri,
        classLoader == null ? getDefaultClassLoader() : classLoader,
        properties == null ? getDefaultProperties() : properties);
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
    registry().closeAll();
  }

  @Override
  public void close(ClassLoader classLoader) {
    registry().closeAll(classLoader == null ? getDefaultClassLoader() : classLoader);
  }

  @Override
  public void close(URI uri, ClassLoader classLoader) {
    registry().close(uri == null ? getDefaultURI() : uri,
        classLoader == null ? getDefaultClassLoader() : classLoader);
  }

  @Override
  public boolean isSupported(OptionalFeature optionalFeature) {
    return optionalFeature == OptionalFeature.STORE_BY_REFERENCE;
  }
}
