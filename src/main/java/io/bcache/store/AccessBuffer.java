package io.bcache.store;

/**
 * Records reads so that the recency list can be reordered later, under the eviction lock,
 * instead of taking a lock on every read.
 *
 * <p>The buffer is striped by thread id so that concurrent readers mostly write to different
 * cache lines. Each stripe is a small ring written with plain stores by its readers and
 * drained by whichever thread holds the eviction lock. The buffer is lossy by design: when
 * threads share a stripe or a stripe overflows before it is drained, some reads are not
 * recorded and the order among hot entries becomes approximate. A single thread's reads are
 * never lost, because a reader drains its stripe when it fills up and nobody else holds the
 * lock, so single-threaded use sees exact LRU order.
 */
final class AccessBuffer {

  private static final int STRIPES = 16; // power of two
  private static final int SLOTS = 32; // power of two
  private static final int DRAIN_THRESHOLD = SLOTS / 2;

  private final Stripe[] stripes = new Stripe[STRIPES];

  AccessBuffer() {
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new Stripe();
    }
  }

  /** Records a read of {@code entry}; returns true when the caller should try to drain. */
  boolean record(StoreEntry entry) {
    Stripe stripe = stripes[(int) Thread.currentThread().getId() & (STRIPES - 1)];
    int written = stripe.written;
    if (written != stripe.drained && stripe.slots[(written - 1) & (SLOTS - 1)] == entry) {
      return false; // the same entry again: recording it twice in a row changes no order
    }
    stripe.slots[written & (SLOTS - 1)] = entry;
    stripe.written = written + 1;
    return written + 1 - stripe.drained >= DRAIN_THRESHOLD;
  }

  /** Hands every recorded read, oldest first per stripe, to {@code sink}. Caller holds the eviction lock. */
  void drainTo(java.util.function.Consumer<StoreEntry> sink) {
    for (Stripe stripe : stripes) {
      int written = stripe.written;
      int from = Math.max(stripe.drained, written - SLOTS);
      for (int i = from; i < written; i++) {
        int slot = i & (SLOTS - 1);
        StoreEntry entry = stripe.slots[slot];
        if (entry != null) {
          stripe.slots[slot] = null;
          sink.accept(entry);
        }
      }
      stripe.drained = written;
    }
  }

  /** A ring of recorded reads, padded against false sharing with its neighbours. */
  @SuppressWarnings("unused")
  private static final class Stripe {
    long p0, p1, p2, p3, p4, p5, p6;
    final StoreEntry[] slots = new StoreEntry[SLOTS];
    int written;
    int drained;
    long q0, q1, q2, q3, q4, q5, q6;
  }
}
