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
 *
 * <p>Replaying every read is what makes an exact LRU expensive: each one relinks list nodes
 * that other cores are reading. So when a drain finds reads from more than one thread, the
 * buffer switches to sampling and records one read in {@value #SAMPLE} per thread, as a
 * concurrent cache must; it goes back to recording every read once drains have seen a single
 * reader for a while. Recency among concurrent readers is approximate either way.
 */
final class AccessBuffer {

  private static final int STRIPE_BITS = 4;
  private static final int STRIPES = 1 << STRIPE_BITS;
  private static final int SLOTS = 32; // power of two
  private static final int DRAIN_THRESHOLD = SLOTS / 2;
  private static final int SAMPLE = 16; // power of two
  private static final int CALM_DRAINS_TO_STOP_SAMPLING = 8;

  private final Stripe[] stripes = new Stripe[STRIPES];
  private volatile boolean sampling;
  private int calmDrains; // guarded by the eviction lock
  // set by a reader that records, cleared by a drain: every added key drains first (the new
  // entry's place depends on the reads before it), and a drain with nothing recorded since the
  // last one skips the stripes, one cache line each. Written only when it changes, so readers
  // on different stripes do not contend for it; a reader's own later drain always sees it set,
  // and another thread's read seen late is drained late, as a lossy buffer may.
  private boolean recorded;

  AccessBuffer() {
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new Stripe();
    }
  }

  /** Records a read of {@code entry}; returns true when the caller should try to drain. */
  boolean record(StoreEntry entry) {
    long threadId = Thread.currentThread().getId();
    Stripe stripe = stripes[stripeOf(threadId)];
    if (sampling && (++stripe.skipped & (SAMPLE - 1)) != 0) {
      return false;
    }
    if (stripe.lastReader != threadId) {
      // a second thread reading through this stripe: readers are concurrent
      if (stripe.lastReader != 0) {
        sampling = true;
      }
      stripe.lastReader = threadId;
    }
    int written = stripe.written;
    if (written != stripe.drained && stripe.slots[(written - 1) & (SLOTS - 1)] == entry) {
      return false; // the same entry again: recording it twice in a row changes no order
    }
    stripe.slots[written & (SLOTS - 1)] = entry;
    stripe.written = written + 1;
    // ask for a drain once per DRAIN_THRESHOLD reads, not on every read while the lock is busy:
    // a failed tryLock still pulls the lock's cache line away from its holder
    int pending = written + 1 - stripe.drained;
    boolean drainDue = pending >= DRAIN_THRESHOLD && (pending & (DRAIN_THRESHOLD - 1)) == 0;
    if (drainDue || !recorded) {
      recorded = true;
    }
    return drainDue;
  }

  /** Spreads thread ids (often consecutive, often sharing low bits) over the stripes. */
  private static int stripeOf(long threadId) {
    return (int) ((threadId * 0x9E3779B97F4A7C15L) >>> (64 - STRIPE_BITS));
  }

  /** Whether the calling thread's stripe holds reads not yet replayed. */
  boolean hasPendingOfCurrentThread() {
    Stripe stripe = stripes[stripeOf(Thread.currentThread().getId())];
    return stripe.written != stripe.drained;
  }

  /** Hands every recorded read, oldest first per stripe, to {@code sink}. Caller holds the eviction lock. */
  void drainTo(java.util.function.Consumer<StoreEntry> sink) {
    if (!recorded) {
      noteDrain(0);
      return;
    }
    discardOrDrain(sink);
  }

  /** Forgets every recorded read, seen as recorded or not. Caller holds the eviction lock. */
  void discard() {
    discardOrDrain(entry -> { });
  }

  private void discardOrDrain(java.util.function.Consumer<StoreEntry> sink) {
    recorded = false;
    int activeStripes = 0;
    for (Stripe stripe : stripes) {
      int written = stripe.written;
      if (written != stripe.drained) {
        activeStripes++;
      }
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
    noteDrain(activeStripes);
  }

  /** Samples while drains find more than one thread's reads; stops once they have not for a while. */
  private void noteDrain(int activeStripes) {
    if (activeStripes > 1) {
      sampling = true;
      calmDrains = 0;
    } else if (sampling && ++calmDrains >= CALM_DRAINS_TO_STOP_SAMPLING) {
      sampling = false;
      for (Stripe stripe : stripes) {
        stripe.lastReader = 0;
      }
    }
  }

  /** A ring of recorded reads, padded against false sharing with its neighbours. */
  @SuppressWarnings("unused")
  private static final class Stripe {
    long p0, p1, p2, p3, p4, p5, p6;
    final StoreEntry[] slots = new StoreEntry[SLOTS];
    int written;
    int drained;
    int skipped;
    long lastReader;
    long q0, q1, q2, q3, q4, q5, q6;
  }
}
