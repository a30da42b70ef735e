import io.bcache.jcache.BCacheCachingProvider;

/**
 * The bcache provider under its short name, so that {@code Caching.getCachingProvider("bcache")}
 * (and Hibernate's {@code hibernate.javax.cache.provider=bcache}) works literally: cache-api
 * resolves a provider name by loading a class of exactly that name. This is the class registered
 * as the {@link javax.cache.spi.CachingProvider} service.
 */
public final class bcache extends BCacheCachingProvider {

  /** Creates the provider; normally done by {@link javax.cache.Caching}. */
  public bcache() {
  }
}
