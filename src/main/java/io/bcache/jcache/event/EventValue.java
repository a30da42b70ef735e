package io.bcache.jcache.event;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.Function;

/**
 * A value an entry event carries: one the operation had as an object, or one the cache keeps in
 * its stored form (a by-value cache's encoding), decoded only when a listener asks for it, on the
 * listener's thread. So a listener that reads only keys costs no decoding, and a peer's change
 * heard by listeners is not decoded on the thread that applies replication.
 */
public final class EventValue<V> {

  private final Object stored;
  private final Function<Object, ? extends V> decoder;
  /** The value, once known; several listeners may ask at once, and may each decode it. */
  private volatile V value;

  private EventValue(V value, Object stored, Function<Object, ? extends V> decoder) {
    this.value = value;
    this.stored = stored;
    this.decoder = decoder;
  }

  /** A value the operation already has as an object. */
  public static <V> EventValue<V> of(V value) {
    return new EventValue<>(value, null, null);
  }

  /** A value in its stored form, which {@code decoder} turns into the value when it is asked for. */
  public static <V> EventValue<V> stored(Object stored, Function<Object, ? extends V> decoder) {
    return new EventValue<>(null, stored, decoder);
  }

  V get() {
    V known = value;
    if (known == null && decoder != null) {
      V decoded = decoder.apply(stored);
      // listeners asking at once each decode; all get the first copy published, so a listener
      // asking twice gets one object, and a removal's value is its old value
      @SuppressWarnings("unchecked")
      V first = (V) VALUE.compareAndExchange(this, null, decoded);
      known = first == null ? decoded : first;
    }
    return known;
  }

  /** The value if known, without decoding it (which may fail, or be costly, in a log line). */
  @Override
  public String toString() {
    V known = value;
    return known != null || decoder == null ? String.valueOf(known) : "(not decoded)";
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
