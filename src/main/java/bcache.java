import io.bcache.jcache.BCacheCachingProvider;
import java.net.URI;
import java.util.Properties;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.OptionalFeature;
import javax.cache.spi.CachingProvider;

/**
 * The bcache provider under its short name, so that {@code Caching.getCachingProvider("bcache")}
 * (and Hibernate's {@code hibernate.javax.cache.provider=bcache}) works literally: cache-api
 * resolves a provider name it has not seen by loading a class of exactly that name.
 *
 * <p>Every call goes to the {@link BCacheCachingProvider} that {@code Caching} holds for its
 * default class loader, so the short name, the class name and {@code Caching.getCachingProvider()}
 * all give the same cache managers.
 */
public final class bcache implements CachingProvider {

  private volatile CachingProvider delegate;

  /** Creates the provider; normally done by {@link Caching}. */
  public bcache() {
  }

  private CachingProvider delegate() {
    CachingProvider provider = delegate;
    if (provider == null) {
      provider = Caching.getCachingProvider(BCacheCachingProvider.class.getName(), Caching.getDefaultClassLoader());
      delegate = provider;
    }
    return provider;
  }

  @Override
  public CacheManager getCacheManager(URI uri, ClassLoader classLoader, Properties properties) {
    return delegate().getCacheManager(uri, classLoader, properties);
  }

  @Override
  public ClassLoader getDefaultClassLoader() {
    return delegate().getDefaultClassLoader();
  }

  @Override
  public URI getDefaultURI() {
    return delegate().getDefaultURI();
  }

  @Override
  public Properties getDefaultProperties() {
    return delegate().getDefaultProperties();
  }

  @Override
  public CacheManager getCacheManager(URI uri, ClassLoader classLoader) {
    return delegate().getCacheManager(uri, classLoader);
  }

  @Override
  public CacheManager getCacheManager() {
    return delegate().getCacheManager();
  }

  @Override
  public void close() {
    delegate().close();
  }

  @Override
  public void close(ClassLoader classLoader) {
    delegate().close(classLoader);
  }

  @Override
  public void close(URI uri, ClassLoader classLoader) {
    delegate().close(uri, classLoader);
  }

  @Override
  public boolean isSupported(OptionalFeature optionalFeature) {
    return delegate().isSupported(optionalFeature);
  }
}
