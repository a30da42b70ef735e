package io.bcache.jcache.event;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The order in which one synchronous listener hears, per key, the operations made on this node,
 * which it hears on their own threads. An operation takes its turn while it holds its key's
 * lock, so the turns of one key follow the order the operations took effect; before delivering,
 * its thread waits until every earlier turn of the key has ended.
 *
 * <p>Some threads do not wait, and deliver at once: one inside a listener's delivery (a listener
 * writing its cache, whose earlier turns may wait for the very delivery it is in), one holding a
 * key's lock or a load (a processor or loader writing, which a delivery may be blocked on), and
 * one with nothing to deliver to this listener. Their turns end without waiting, but a later
 * turn still waits for the turns before them. A wait is bounded too: a listener blocked on a
 * lock that a thread waiting here holds would otherwise hang both; after {@link #MAX_WAIT_NANOS}
 * the thread delivers anyway, logged, and what comes after it no longer waits for the turns it
 * gave up on.
 */
final class KeyTurns {

  private static final Logger LOG = LoggerFactory.getLogger(KeyTurns.class);

  /** How long a delivery waits for the key's earlier ones before it goes ahead of them. */
  static final long MAX_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);

  /** Each key's latest turn, while it or one before it has not ended. */
  private final ConcurrentHashMap<Object, Turn> latest = new ConcurrentHashMap<>();

  /** Takes the next turn of {@code key}; called while the operation holds the key's lock. */
  Turn take(Object key) {
    Turn turn = new Turn(key);
    Turn previous = latest.put(key, turn);
    turn.previous = previous == null ? null : previous.unended();
    return turn;
  }

  /** Whether no turn of any key is outstanding (for tests). */
  boolean isEmpty() {
    return latest.isEmpty();
  }

  /** One operation's place in the order of its key's deliveries to this listener. */
  final class Turn {
    private final Object key;
    /** The latest earlier turn of the key that had not ended when last looked at, or none. */
    private volatile Turn previous;
    private boolean ended; // guarded by this

    private Turn(Object key) {
      this.key = key;
    }

    /**
     * Waits until every earlier turn of the key has ended, or gives up on them after
     * {@link #MAX_WAIT_NANOS}. The calling thread took this turn and is not one that must not wait.
     */
    void awaitPrevious() {
      awaitPrevious(MAX_WAIT_NANOS);
    }

    /** {@link #awaitPrevious()}, giving up after {@code maxWaitNanos}. */
    void awaitPrevious(long maxWaitNanos) {
      long deadline = System.nanoTime() + maxWaitNanos;
      boolean interrupted = false;
      try {
        for (Turn earlier = previous; earlier != null; earlier = earlier.previous) {
          interrupted |= earlier.awaitEnd(deadline);
          if (!earlier.hasEnded()) {
            LOG.warn("a synchronous listener's earlier delivery of key {} has not ended after {} ms;"
                + " delivering a later event of the key ahead of it (is that listener blocked on a"
                + " lock the writing thread holds?)", key, TimeUnit.NANOSECONDS.toMillis(maxWaitNanos));
            break;
          }
        }
      } finally {
        previous = null; // all ended, or given up on: later turns wait for this one only
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }

    /** Ends this turn; the key's later turns may deliver once every turn before it ended too. */
    void end() {
      synchronized (this) {
        ended = true;
        notifyAll();
      }
      // the key's latest turn may have ended first (one that did not wait): forget the key only
      // once no turn of it is left, else a new turn would not wait for one still delivering
      latest.computeIfPresent(key, (k, last) -> last.unended() == null ? null : last);
    }

    /** This turn if it has not ended, else the latest earlier one that has not: what to wait for. */
    private Turn unended() {
      Turn turn = this;
      while (turn != null && turn.hasEnded()) {
        turn = turn.previous;
      }
      return turn;
    }

    private synchronized boolean hasEnded() {
      return ended;
    }

    /** Waits until this turn ends or the deadline passes; returns whether it was interrupted. */
    private synchronized boolean awaitEnd(long deadline) {
      boolean interrupted = false;
      long left;
      while (!ended && (left = deadline - System.nanoTime()) > 0) {
        try {
          TimeUnit.NANOSECONDS.timedWait(this, left);
        } catch (InterruptedException e) {
          interrupted = true; // a delivery's order does not bend to an interrupt; kept for later
        }
      }
      return interrupted;
    }
  }
}
