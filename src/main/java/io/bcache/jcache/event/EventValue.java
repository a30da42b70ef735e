package io.bcache.jcache.event;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.Function;

/**
 * A value an entry event carries, as the cache keeps it (in a by-value cache, a mutable value's
 * encoding), decoded only when a listener asks for it, on the listener's thread. So a listener
 * that reads only keys costs no decoding, a peer's change heard by listeners is not decoded on the
 * thread that applies replication, and a listener never holds the caller's own object.
 */
public final class EventValue<V> {

  private final Object stored;
  private final Function<Object, ? extends V> decoder;
  /** The value, once a listener asked for it. */
  private volatile V value;

  private EventValue(Object stored, Function<Object, ? extends V> decoder) {
    this.stored = stored;
    this.decoder = decoder;
  }

  /** A value in its stored form, which {@code decoder} turns into the value when it is asked for. */
  public static <V> EventValue<V> stored(Object stored, Function<Object, ? extends V> decoder) {
    return new EventValue<>(stored, decoder);
  }

  V get() {
    V known = value;
    if (known == null) {
      V decoded = decoder.apply(stored);
      // listeners asking at once each decode; all get the first copy published, so a listener
      // asking twice gets one object, and a removal's value is its old value
      @SuppressWarnings("unchecked")
      V first = (V) VALUE.compareAndExchange(this, null, decoded);
      known = first == null ? decoded : first;
    }
    return known;
  }

  /** The value if decoded already, without decoding it (which may fail, or be costly, in a log line). */
  @Override
  public String toString() {
    V known = value;
    return known != null ? String.valueOf(known) : "(not decoded)";
  }

  private static final VarHandle VALUE;

  static {
    try {
      VALUE = MethodHandles.lookup().findVarHandle(EventValue.class, "value", Object.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }
}
