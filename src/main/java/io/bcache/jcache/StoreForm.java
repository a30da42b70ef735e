package io.bcache.jcache;

import io.bcache.serialization.Immutables;
import io.bcache.serialization.ValueCodec;

/**
 * How a cache keeps keys and values: by reference, or by value (JSR-107's default), where the
 * cache holds its own copy that callers can neither see nor change.
 *
 * <p>By value, an immutable value is kept as it is, a byte array as a private copy (copied
 * again on each read), and any other mutable value is kept serialized:
 * each read deserializes a fresh copy (one step, where serialize-then-deserialize copying takes
 * two), and the bytes are what replication sends anyway. Mutable keys are kept as private
 * copies, since the map must compare them.
 */
abstract class StoreForm {

  static final StoreForm BY_REFERENCE = new StoreForm() {
    @Override
    Object keyToStore(Object key) {
      return key;
    }

    @Override
    Object keyFromStore(Object storedKey) {
      return storedKey;
    }

    @Override
    Object toStore(Object value) {
      return value;
    }

    @Override
    Object fromStore(Object stored) {
      return stored;
    }
  };

  static StoreForm byValue(ValueCodec codec, ClassLoader classLoader) {
    return new ByValue(codec, classLoader);
  }

  /** The key as the store keeps it. */
  abstract Object keyToStore(Object key);

  /** A key from the store, as a caller may hold it. */
  abstract Object keyFromStore(Object storedKey);

  /** The value as the store keeps it. */
  abstract Object toStore(Object value);

  /** A value from the store, as a caller may hold it. */
  abstract Object fromStore(Object stored);

  /** Bytes kept for a mutable value stored by value. */
  static final class Serialized {
    final byte[] bytes;

    Serialized(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Serialized && java.util.Arrays.equals(bytes, ((Serialized) o).bytes);
    }

    @Override
    public int hashCode() {
      return java.util.Arrays.hashCode(bytes);
    }
  }

  private static final class ByValue extends StoreForm {
    private final ValueCodec codec;
    private final ClassLoader classLoader;

    ByValue(ValueCodec codec, ClassLoader classLoader) {
      this.codec = codec;
      this.classLoader = classLoader;
    }

    @Override
    Object keyToStore(Object key) {
      return Immutables.isImmutable(key) ? key : codec.decode(codec.encode(key), classLoader);
    }

    @Override
    Object keyFromStore(Object storedKey) {
      return keyToStore(storedKey);
    }

    @Override
    Object toStore(Object value) {
      if (Immutables.isImmutable(value)) {
        return value;
      }
      if (value instanceof byte[]) {
        return ((byte[]) value).clone();
      }
      return new Serialized(codec.encode(value));
    }

    @Override
    Object fromStore(Object stored) {
      if (stored instanceof Serialized) {
        return codec.decode(((Serialized) stored).bytes, classLoader);
      }
      return stored instanceof byte[] ? ((byte[]) stored).clone() : stored;
    }
  }
}
