package io.bcache.jcache;

import io.bcache.config.LoadScope;
import java.util.Objects;
import javax.cache.configuration.CompleteConfiguration;
import javax.cache.configuration.Configuration;
import javax.cache.configuration.MutableConfiguration;

/**
 * A cache configuration with bcache's own settings, for code that creates caches itself.
 *
 * <p>Settings left unset here come from the manager's properties: the bound from
 * {@code bcache.cache.<name>.maxEntries}, else {@code bcache.maxEntries}; the load scope from
 * {@code bcache.cache.<name>.loads}, else {@code bcache.loads}. A setting made here wins over
 * both. {@code cache.getConfiguration(BCacheConfiguration.class)} returns the resolved
 * configuration of a cache, whatever configuration it was created with.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public class BCacheConfiguration<K, V> extends MutableConfiguration<K, V> {

  private static final long serialVersionUID = 1L;

  /** The value of {@link #getMaxEntries()} while no bound is set. */
  public static final long UNSET = 0;

  private long maxEntries = UNSET;
  private LoadScope loadScope;

  /** A configuration with the JSR-107 defaults and no bcache settings. */
  public BCacheConfiguration() {
  }

  /** A copy of {@code configuration}, including bcache settings when it has them. */
  public BCacheConfiguration(Configuration<K, V> configuration) {
    super(complete(configuration));
    if (configuration instanceof BCacheConfiguration) {
      this.maxEntries = ((BCacheConfiguration<K, V>) configuration).maxEntries;
      this.loadScope = ((BCacheConfiguration<K, V>) configuration).loadScope;
    }
  }

  /** The most entries the cache holds, or {@link #UNSET}. */
  public long getMaxEntries() {
    return maxEntries;
  }

  /**
   * Bounds the cache to {@code maxEntries} entries; the least recently used goes first.
   * {@code createCache} refuses a bound for Hibernate's update-timestamps region with an
   * {@link IllegalArgumentException}: bcache never evicts from it (see
   * {@link io.bcache.config.BCacheSettings#isNeverEvicted}).
   *
   * @throws IllegalArgumentException if {@code maxEntries} is less than 1
   */
  public BCacheConfiguration<K, V> setMaxEntries(long maxEntries) {
    if (maxEntries < 1) {
      throw new IllegalArgumentException("maxEntries must be at least 1, was " + maxEntries);
    }
    this.maxEntries = maxEntries;
    return this;
  }

  /** How widely read-through loads are deduplicated, or {@code null} while unset. */
  public LoadScope getLoadScope() {
    return loadScope;
  }

  /**
   * Sets how widely read-through loads of a missing key are deduplicated: per node, or per
   * cluster by routing each miss to the key's owner (see {@link LoadScope}).
   */
  public BCacheConfiguration<K, V> setLoadScope(LoadScope loadScope) {
    this.loadScope = Objects.requireNonNull(loadScope, "loadScope");
    return this;
  }

  private static <K, V> CompleteConfiguration<K, V> complete(Configuration<K, V> configuration) {
    if (configuration instanceof CompleteConfiguration) {
      return (CompleteConfiguration<K, V>) configuration;
    }
    MutableConfiguration<K, V> basic = new MutableConfiguration<>();
    basic.setTypes(configuration.getKeyType(), configuration.getValueType());
    basic.setStoreByValue(configuration.isStoreByValue());
    return basic;
  }

  @Override
  public boolean equals(Object o) {
    return super.equals(o) && (!(o instanceof BCacheConfiguration<?, ?> other)
        || (other.maxEntries == maxEntries && other.loadScope == loadScope));
  }

  @Override
  public int hashCode() {
    return 31 * (31 * super.hashCode() + Long.hashCode(maxEntries)) + Objects.hashCode(loadScope);
  }
}
