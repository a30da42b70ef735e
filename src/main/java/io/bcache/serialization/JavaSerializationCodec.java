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

  private final ObjectInputFilter filter;

  /** A codec that accepts every class; for copies of values that never left this process. */
  public JavaSerializationCodec() {
    this(null);
  }

  /** A codec that deserializes only what {@code filter} allows; {@code null} allows all. */
  public JavaSerializationCodec(ObjectInputFilter filter) {
    this.filter = filter;
  }

  @Override
  public byte[] encode(Object value) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(value);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot serialize a " + value.getClass().getName() + ": " + e, e);
    }
    return bytes.toByteArray();
  }

  @Override
  public Object decode(byte[] bytes, ClassLoader classLoader) {
    try (ObjectInputStream in = new LoaderAwareInputStream(new ByteArrayInputStream(bytes), classLoader)) {
      if (filter != null) {
        in.setObjectInputFilter(filter);
      }
      return in.readObject();
    } catch (ClassNotFoundException | IOException e) {
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
