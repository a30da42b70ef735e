package io.bcache.serialization;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;

/**
 * Java serialization, with classes resolved through the cache manager's class loader. Given an
 * {@link AllowListFilter}, every stream is read through a filter of its own (the allow-list, and
 * array bounds that follow from the value's length); a value refused or failing while it is read
 * is an {@link IllegalArgumentException}.
 */
public final class JavaSerializationCodec implements ValueCodec {

  private final AllowListFilter filter;

  /** A codec that accepts every class; for copies of values that never left this process. */
  public JavaSerializationCodec() {
    this(null);
  }

  /** A codec that deserializes only what {@code filter} allows; {@code null} allows all. */
  public JavaSerializationCodec(AllowListFilter filter) {
    this.filter = filter;
  }

  @Override
  public byte[] encode(Object value) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
    writeTo(value, bytes);
    return bytes.toByteArray();
  }

  /** Appends {@code value}'s serialization stream to {@code bytes} (after a caller's header, say). */
  void writeTo(Object value, ByteArrayOutputStream bytes) {
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(value);
    } catch (IOException | RuntimeException | StackOverflowError e) {
      // (an object graph too deep to serialize on this thread's stack, or one whose writeObject
      // throws, as a collection changed meanwhile by another thread does, is a value that cannot
      // be serialized, like any other, not an error for the caller's thread to die of)
      throw new IllegalArgumentException(
          "cannot serialize a " + value.getClass().getName() + ": " + e, e);
    }
  }

  @Override
  public Object decode(byte[] bytes, ClassLoader classLoader) {
    return decode(bytes, 0, classLoader, false);
  }

  @Override
  public Object decodeKey(byte[] bytes, ClassLoader classLoader) {
    return decode(bytes, 0, classLoader, true);
  }

  /**
   * Deserializes the stream that starts at {@code offset} in {@code bytes}; a {@code key} is also
   * hashed once, as the store will.
   */
  Object decode(byte[] bytes, int offset, ClassLoader classLoader, boolean key) {
    int length = bytes.length - offset;
    ValueFilter check = null;
    if (filter != null) {
      // a filter per value: its limits follow from the value's length, and it remembers what it
      // refused (the JDK's exception only says "filter status: REJECTED")
      check = new ValueFilter(filter, length);
    }
    InputStream stream = new ByteArrayInputStream(bytes, offset, length);
    try (ObjectInputStream in = new LoaderAwareInputStream(stream, classLoader)) {
      if (check != null) {
        in.setObjectInputFilter(check);
      }
      Object decoded = in.readObject();
      if (key) {
        decoded.hashCode(); // the store hashes a key: one that holds itself overflows here, refused
      }
      return decoded;
    } catch (ClassNotFoundException | IOException e) {
      if (check != null && check.rejection() != null) {
        throw new IllegalArgumentException("cannot deserialize: " + check.rejection(), e);
      }
      throw new IllegalArgumentException("cannot deserialize: " + e, e);
    } catch (RuntimeException | StackOverflowError | InternalError | LinkageError e) {
      // what reading bad data can throw besides IOException: from a readObject or readResolve
      // (Map.of's serial proxy throws InternalError for an odd number of keys and values), from
      // hashing what it read (a hashCode that fails on a deserialized object, a list that
      // contains itself), or from a listed class this node cannot link. The value is at fault,
      // and what was unwound held nothing but this decode's own objects
      throw new IllegalArgumentException("cannot deserialize: " + e, e);
    }
  }

  /** Resolves classes through a given loader instead of the caller's. */
  private static final class LoaderAwareInputStream extends ObjectInputStream {
    private final ClassLoader classLoader;

    LoaderAwareInputStream(InputStream in, ClassLoader classLoader) throws IOException {
      super(in);
      this.classLoader = classLoader;
    }

    @Override
    protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
      if (classLoader == null) {
        return super.resolveClass(desc);
      }
      try {
        return Class.forName(desc.getName(), false, classLoader);
      } catch (ClassNotFoundException e) {
        return super.resolveClass(desc); // primitives and JDK classes
      }
    }
  }

}
