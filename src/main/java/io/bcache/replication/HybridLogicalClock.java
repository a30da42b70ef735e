package io.bcache.replication;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A hybrid logical clock: timestamps that follow wall-clock milliseconds but never go backwards
 * and always move past every timestamp this node has seen, so that causally later writes get
 * larger versions even across nodes whose clocks disagree.
 *
 * <p>A timestamp packs the physical time in milliseconds into the upper 48 bits and a logical
 * counter into the lower 16. The wall clock is injected so that the simulator can drive it.
 */
public final class HybridLogicalClock {

  private static final int LOGICAL_BITS = 16;

  private final LongSupplier wallClockMillis;
  private final AtomicLong last = new AtomicLong();

  public HybridLogicalClock(LongSupplier wallClockMillis) {
    this.wallClockMillis = wallClockMillis;
  }

  /** A clock on the system's wall time. */
  public static HybridLogicalClock system() {
    return new HybridLogicalClock(System::currentTimeMillis);
  }

  /** Returns a timestamp greater than every one returned or observed before. */
  public long tick() {
    long physical = wallClockMillis.getAsLong() << LOGICAL_BITS;
    for (;;) {
      long previous = last.get();
      long next = Math.max(previous + 1, physical);
      if (last.compareAndSet(previous, next)) {
        return next;
      }
    }
  }

  /** Moves this clock past a timestamp received from another node. */
  public void observe(long remote) {
    for (;;) {
      long previous = last.get();
      if (remote <= previous || last.compareAndSet(previous, remote)) {
        return;
      }
    }
  }

  /** The wall-clock milliseconds encoded in {@code timestamp}. */
  public static long physicalMillis(long timestamp) {
    return timestamp >>> LOGICAL_BITS;
  }

  /** The smallest timestamp at wall-clock time {@code millis}: every later write is above it. */
  public static long timestampOf(long millis) {
    return millis << LOGICAL_BITS;
  }
}
