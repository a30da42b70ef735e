package io.bcache.jcache.processor;

import java.util.Objects;
import java.util.function.Function;
import javax.cache.processor.MutableEntry;

/**
 * The entry an {@link javax.cache.processor.EntryProcessor} works on. It records the net effect
 * of the processor's calls, which the cache applies atomically when the processor returns.
 */
public final class BMutableEntry<K, V> implements MutableEntry<K, V> {

  private final K key;
  private final boolean existedBefore;
  private final Function<K, V> loader;
  private V value;
  private boolean present;
  private MutableEntryOperation operation = MutableEntryOperation.NONE;

  /**
   * @param key the entry's key
   * @param value the current value, or {@code null} if absent
   * @param loader loads an absent value on {@code getValue()} (read-through), or {@code null}
   */
  public BMutableEntry(K key, V value, Function<K, V> loader) {
    this.key = key;
    this.value = value;
    this.present = value != null;
    this.existedBefore = present;
    this.loader = loader;
  }

  @Override
  public K getKey() {
    return key;
  }

  @Override
  public V getValue() {
    if (operation == MutableEntryOperation.NONE) {
      if (present) {
        operation = MutableEntryOperation.ACCESS;
      } else if (loader != null) {
        V loaded = loader.apply(key);
        if (loaded != null) {
          value = loaded;
          present = true;
          operation = MutableEntryOperation.LOAD;
        }
      }
    }
    return value;
  }

  @Override
  public boolean exists() {
    return present;
  }

  @Override
  public void remove() {
    value = null;
    present = false;
    // removing what the processor itself created or loaded leaves nothing to do; any other
    // remove reaches the writer, even for an absent entry, since the writer's store may hold it
    operation = (operation == MutableEntryOperation.CREATE || operation == MutableEntryOperation.LOAD)
        && !existedBefore ? MutableEntryOperation.NONE : MutableEntryOperation.REMOVE;
  }

  @Override
  public void setValue(V newValue) {
    Objects.requireNonNull(newValue, "value");
    value = newValue;
    present = true;
    operation = existedBefore ? MutableEntryOperation.UPDATE : MutableEntryOperation.CREATE;
  }

  /** The entry's value as the processor left it, without counting as a read. */
  public V currentValue() {
    return value;
  }

  /** The net effect of the processor's calls. */
  public MutableEntryOperation operation() {
    return operation;
  }

  @Override
  public <T> T unwrap(Class<T> clazz) {
    if (clazz.isInstance(this)) {
      return clazz.cast(this);
    }
    throw new IllegalArgumentException("cannot unwrap a mutable entry to " + clazz.getName());
  }
}
