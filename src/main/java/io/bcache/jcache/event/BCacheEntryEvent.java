package io.bcache.jcache.event;

import javax.cache.Cache;
import javax.cache.event.CacheEntryEvent;
import javax.cache.event.EventType;

/** An entry event as delivered to listeners. */
public final class BCacheEntryEvent<K, V> extends CacheEntryEvent<K, V> {

  private static final long serialVersionUID = 1L;

  private final K key;
  private final transient EventValue<V> value;
  private final transient EventValue<V> oldValue;
  private final boolean oldValueAvailable;

  private BCacheEntryEvent(Cache<K, V> source, EventType type, K key, EventValue<V> value, EventValue<V> oldValue,
      boolean oldValueAvailable) {
    super(source, type);
    this.key = key;
    this.value = value;
    this.oldValue = oldValue;
    this.oldValueAvailable = oldValueAvailable;
  }

  public static <K, V> BCacheEntryEvent<K, V> created(Cache<K, V> source, K key, EventValue<V> value) {
    return new BCacheEntryEvent<>(source, EventType.CREATED, key, value, null, false);
  }

  public static <K, V> BCacheEntryEvent<K, V> updated(Cache<K, V> source, K key, EventValue<V> value,
      EventValue<V> oldValue) {
    return new BCacheEntryEvent<>(source, EventType.UPDATED, key, value, oldValue, true);
  }

  /** A removal; the removed value is both the value and the old value, as listeners expect. */
  public static <K, V> BCacheEntryEvent<K, V> removed(Cache<K, V> source, K key, EventValue<V> oldValue) {
    return new BCacheEntryEvent<>(source, EventType.REMOVED, key, oldValue, oldValue, true);
  }

  /** An expiry; the expired value is both the value and the old value. */
  public static <K, V> BCacheEntryEvent<K, V> expired(Cache<K, V> source, K key, EventValue<V> oldValue) {
    return new BCacheEntryEvent<>(source, EventType.EXPIRED, key, oldValue, oldValue, true);
  }

  @Override
  public K getKey() {
    return key;
  }

  @Override
  public V getValue() {
    return value == null ? null : value.get();
  }

  @Override
  public V getOldValue() {
    return oldValue == null ? null : oldValue.get();
  }

  @Override
  public boolean isOldValueAvailable() {
    return oldValueAvailable;
  }

  @Override
  public <T> T unwrap(Class<T> clazz) {
    if (clazz.isInstance(this)) {
      return clazz.cast(this);
    }
    throw new IllegalArgumentException("cannot unwrap an entry event to " + clazz.getName());
  }

  @Override
  public String toString() {
    return getEventType() + "[" + key + "=" + value + (oldValueAvailable ? ", old=" + oldValue : "") + "]";
  }
}
