package io.bcache.transport;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Delays between dials of one peer: doubling from a minimum to a maximum, with up to 20% random
 * jitter so that nodes that lost each other together do not redial in lockstep. Not thread-safe.
 */
final class Backoff {

  private final long minMillis;
  private final long maxMillis;
  private long nextMillis;

  Backoff(long minMillis, long maxMillis) {
    this.minMillis = minMillis;
    this.maxMillis = maxMillis;
    this.nextMillis = minMillis;
  }

  /** The delay before the next dial; each call doubles the one after, up to the maximum. */
  long nextDelayMillis() {
    long delay = nextMillis;
    nextMillis = Math.min(maxMillis, nextMillis * 2);
    long jitter = delay / 5;
    long jittered = delay - jitter + ThreadLocalRandom.current().nextLong(2 * jitter + 1);
    return Math.min(maxMillis, jittered);
  }

  /** Back to the minimum, after a connection that lasted. */
  void reset() {
    nextMillis = minMillis;
  }
}
