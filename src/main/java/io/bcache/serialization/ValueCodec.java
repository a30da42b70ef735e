package io.bcache.serialization;

/** Turns keys and values into bytes and back: for store-by-value copies and for the wire. */
public interface ValueCodec {

  /**
   * Serializes {@code value}.
   *
   * @throws IllegalArgumentException if the value cannot be serialized
   */
  byte[] encode(Object value);

  /**
   * Deserializes bytes made by {@link #encode}, resolving classes through {@code classLoader}.
   *
   * @throws IllegalArgumentException if the bytes cannot be deserialized or are not allowed
   */
  Object decode(byte[] bytes, ClassLoader classLoader);

  /**
   * Deserializes bytes made by {@link #encode} that a cache uses as a key, which it hashes: a
   * codec that judges how much hashing a value costs counts the key's own hash too.
   *
   * @throws IllegalArgumentException if the bytes cannot be deserialized or are not allowed
   */
  default Object decodeKey(byte[] bytes, ClassLoader classLoader) {
    return decode(bytes, classLoader);
  }
}
