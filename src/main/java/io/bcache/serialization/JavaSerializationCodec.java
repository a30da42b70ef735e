package io.bcache.serialization;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;

/**
 * Java serialization, with classes resolved through the cache manager's class loader and,
 * when given, every deserialized class checked by an {@link ObjectInputFilter}.
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
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot serialize a " + value.getClass().getName() + ": " + e, e);
    }
  }

  @Override
  public Object decode(byte[] bytes, ClassLoader classLoader) {
    return decode(bytes, 0, classLoader);
  }

  /** Deserializes the stream that starts at {@code offset} in {@code bytes}. */
  Object decode(byte[] bytes, int offset, ClassLoader classLoader) {
    String[] refused = new String[1];
    InputStream stream = new ByteArrayInputStream(bytes, offset, bytes.length - offset);
    try (ObjectInputStream in = new LoaderAwareInputStream(stream, classLoader)) {
      if (filter != null) {
        // remembers what was refused: the JDK's exception only says "filter status: REJECTED",
        // and a user needs the class name to extend the allow-list
        in.setObjectInputFilter(info -> {
          ObjectInputFilter.Status status = filter.checkInput(info);
          if (status == ObjectInputFilter.Status.REJECTED && refused[0] == null) {
            refused[0] = filter.describeRejection(info);
          }
          return status;
        });
      }
      return in.readObject();
    } catch (ClassNotFoundException | IOException e) {
      if (refused[0] != null) {
        throw new IllegalArgumentException("cannot deserialize: " + refused[0], e);
      }
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
