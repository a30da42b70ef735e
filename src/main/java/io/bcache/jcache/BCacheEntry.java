package io.bcache.jcache;

import java.util.Objects;
import javax.cache.Cache;

/** An immutable key-value pair handed out by a cache's iterator. */
public final class BCacheEntry<K, V> implements Cache.Entry<K, V> {

  private final K key;
  private final V value;

  public BCacheEntry(K key, V value) {
    this.key = Objects.requireNonNull(key);
    this.value = Objects.requireNonNull(value);
  }

  @Override
  public K getKey() {
    return key;
  }

  @Override
  public V getValue() {
    return value;
  }

  @Override
  public <T> T unwrap(Class<T> clazz) {
    if (clazz.isInstance(this)) {
      return clazz.cast(this);
    }
    throw new IllegalArgumentException("cannot unwrap a cache entry to " + clazz.getName());
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Cache.Entry)) {
      return false;
    }
    Cache.Entry<?, ?> other = (Cache.Entry<?, ?>) o;
    return key.equals(other.getKey()) && value.equals(other.getValue());
  }

  @Override
  public int hashCode() {
    return key.hashCode() ^ value.hashCode();
  }

  @Override
  public String toString() {
    return key + "=" + value;
  }

}
