package io.bcache.serialization;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The codec for keys and values that cross the wire: strings, longs, integers and byte arrays
 * are written as a tag byte and their bytes (no serialization stream to build or parse, and
 * nothing to filter);
 * everything else is Java serialization behind a tag, read back only through the allow-list
 * filter and the limits that follow from each value's length.
 */
public final class WireCodec implements ValueCodec {

  private static final byte SERIALIZED = 0;
  private static final byte STRING = 1;
  private static final byte LONG = 2;
  private static final byte INTEGER = 3;
  private static final byte BYTES = 4;

  private final JavaSerializationCodec serialization;

  /** @param filter checks every class deserialized from the wire */
  public WireCodec(AllowListFilter filter) {
    this.serialization = new JavaSerializationCodec(filter);
  }

  /**
   * A codec that deserializes every class: only for bytes this process made itself or already
   * read once through a filtering codec, such as a store-by-value cache's private copies.
   */
  public static WireCodec trusted() {
    return new WireCodec(null);
  }

  @Override
  public byte[] encode(Object value) {
    if (value instanceof String) {
      byte[] utf8 = ((String) value).getBytes(StandardCharsets.UTF_8);
      return tagged(STRING, utf8);
    }
    if (value instanceof Long) {
      return ByteBuffer.allocate(9).put(LONG).putLong((Long) value).array();
    }
    if (value instanceof Integer) {
      return ByteBuffer.allocate(5).put(INTEGER).putInt((Integer) value).array();
    }
    if (value instanceof byte[]) {
      return tagged(BYTES, (byte[]) value);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(128);
    out.write(SERIALIZED);
    serialization.writeTo(value, out);
    return out.toByteArray();
  }

  /** Whether {@code bytes} encode a byte array: bytes whose decoding is a plain copy, nothing to check. */
  public static boolean isByteArray(byte[] bytes) {
    return bytes.length > 0 && bytes[0] == BYTES;
  }

  /** Whether {@code bytes} hold a serialization stream (rather than a fast-path value). */
  public static boolean isSerialized(byte[] bytes) {
    return bytes.length > 0 && bytes[0] == SERIALIZED;
  }

  @Override
  public Object decode(byte[] bytes, ClassLoader classLoader) {
    return decode(bytes, classLoader, false);
  }

  @Override
  public Object decodeKey(byte[] bytes, ClassLoader classLoader) {
    return decode(bytes, classLoader, true);
  }

  private Object decode(byte[] bytes, ClassLoader classLoader, boolean key) {
    if (bytes.length == 0) {
      throw new IllegalArgumentException("empty value");
    }
    ByteBuffer buffer = ByteBuffer.wrap(bytes, 1, bytes.length - 1);
    switch (bytes[0]) {
      case STRING:
        return new String(bytes, 1, bytes.length - 1, StandardCharsets.UTF_8);
      case LONG:
        requireLength(bytes, 9);
        return buffer.getLong();
      case INTEGER:
        requireLength(bytes, 5);
        return buffer.getInt();
      case BYTES:
        return Arrays.copyOfRange(bytes, 1, bytes.length);
      case SERIALIZED:
        return serialization.decode(bytes, 1, classLoader, key);
      default:
        throw new IllegalArgumentException("unknown value tag " + bytes[0]);
    }
  }

  private static void requireLength(byte[] bytes, int length) {
    if (bytes.length != length) {
      throw new IllegalArgumentException("value of tag " + bytes[0] + " must be " + length + " bytes, was " + bytes.length);
    }
  }

  private static byte[] tagged(byte tag, byte[] body) {
    byte[] out = new byte[body.length + 1];
    out[0] = tag;
    System.arraycopy(body, 0, out, 1, body.length);
    return out;
  }
}
