package io.bcache.jcache;

import io.bcache.serialization.Immutables;
import io.bcache.serialization.WireCodec;

/**
 * How a cache keeps keys and values: by reference, or by value (JSR-107's default), where the
 * cache holds its own copy that callers can neither see nor change.
 *
 * <p>By value, an immutable value is kept as it is and any mutable one (a byte array included)
 * as its wire encoding: each read decodes a fresh copy (one step, where serialize-then-deserialize
 * copying takes two), and the very same array is what replication sends and what a change from
 * a peer brings, so a replicated write is neither copied nor kept twice. A by-value store thus
 * never holds a caller's array: every {@code byte[]} in it is an encoding. Mutable keys are kept
 * as private copies, since the map must compare them.
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

    @Override
    byte[] toWire(Object stored, WireCodec wire) {
      return wire.encode(stored);
    }

    @Override
    Object fromWire(byte[] bytes, WireCodec wire, ClassLoader classLoader) {
      return wire.decode(bytes, classLoader);
    }
  };

  /** @param local the codec of the cache's own copies, which need no allow-list */
  static StoreForm byValue(WireCodec local, ClassLoader classLoader) {
    return new ByValue(local, classLoader);
  }

  /** The key as the store keeps it. */
  abstract Object keyToStore(Object key);

  /** A key from the store, as a caller may hold it. */
  abstract Object keyFromStore(Object storedKey);

  /** The value as the store keeps it. */
  abstract Object toStore(Object value);

  /** A value from the store, as a caller may hold it. */
  abstract Object fromStore(Object stored);

  /** The wire encoding of a stored value; the caller must not change the array. */
  abstract byte[] toWire(Object stored, WireCodec wire);

  /**
   * A value from the wire, checked by {@code wire}'s allow-list wherever it would be
   * deserialized, as the store keeps it; the store may keep {@code bytes} themselves.
   */
  abstract Object fromWire(byte[] bytes, WireCodec wire, ClassLoader classLoader);

  private static final class ByValue extends StoreForm {
    private final WireCodec codec;
    private final ClassLoader classLoader;

    ByValue(WireCodec codec, ClassLoader classLoader) {
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
      return Immutables.isImmutable(value) ? value : codec.encode(value);
    }

    @Override
    Object fromStore(Object stored) {
      return stored instanceof byte[] ? codec.decode((byte[]) stored, classLoader) : stored;
    }

    @Override
    byte[] toWire(Object stored, WireCodec wire) {
      return stored instanceof byte[] ? (byte[]) stored : wire.encode(stored);
    }

    @Override
    Object fromWire(byte[] bytes, WireCodec wire, ClassLoader classLoader) {
      if (WireCodec.isByteArray(bytes)) {
        return bytes; // nothing to check, and already the form this store keeps
      }
      Object value = wire.decode(bytes, classLoader); // the allow-list's check
      return Immutables.isImmutable(value) ? value : bytes;
    }
  }
}
