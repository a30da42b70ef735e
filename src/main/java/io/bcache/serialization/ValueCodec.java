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
}
