package io.bcache.jcache.event;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
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
 * turn still waits for the turns before them. Such a thread first delivers its own earlier
 * turns of the key that have not begun, so that a listener rewriting the key it hears of does
 * not make the other listeners hear the second write before the first. No thread ever waits
 * for a turn it took itself, which only it could end: it delivers it first if its events are
 * readied (a batch of loads readies them all before delivering any), or passes it.
 *
 * <p>A wait is bounded too: a listener blocked on a lock that a thread waiting here holds would
 * otherwise hang both. When the key's oldest unended turn stays so for {@link #MAX_WAIT_NANOS},
 * the thread waiting for it gives up on it, logged, and no turn waits for it any more: the later
 * ones deliver ahead of it, in their order.
 */
final class KeyTurns {

  private static final Logger LOG = LoggerFactory.getLogger(KeyTurns.class);

  /** How long a delivery waits for the key's earlier ones before it goes ahead of them. */
  static final long MAX_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);

  /** Each key's latest turn, while it or one before it is not settled (ended or given up on). */
  private final ConcurrentHashMap<Object, Turn> latest = new ConcurrentHashMap<>();

  /** Takes the next turn of {@code key}; called while the operation holds the key's lock. */
  Turn take(Object key) {
    Turn turn = new Turn(key);
    Turn previous = latest.put(key, turn);
    turn.previous = previous == null ? null : previous.unsettled();
    return turn;
  }

  /** Whether no turn of any key is outstanding (for tests). */
  boolean isEmpty() {
    return latest.isEmpty();
  }

  /** One operation's place in the order of its key's deliveries to this listener. */
  final class Turn {
    private final Object key;
    /** The thread that took it and delivers it (or has a write it makes deliver it first). */
    private final Thread owner = Thread.currentThread();
    /** The latest earlier turn of the key that was not settled when last looked at, or none. */
    private volatile Turn previous;
    private boolean ended; // guarded by this
    /** Given up on by a later turn that waited for it too long: nothing waits for it any more. */
    private boolean abandoned; // guarded by this
    /** What this turn delivers, once its operation is about to deliver to any listener. */
    private Runnable delivery; // guarded by this
    /** Whether its delivery has begun, by its operation or by a write a listener made. */
    private boolean claimed; // guarded by this
    /** How its delivery failed when a write a listener made ran it. */
    private Throwable failure; // guarded by this

    private Turn(Object key) {
      this.key = key;
    }

    /**
     * Readies what this turn delivers, before its operation delivers to any listener: a write
     * that one of them makes on the same key delivers it first (see {@link #deliverOwnEarlier}).
     */
    synchronized void prepare(Runnable delivery) {
      if (!claimed && !ended) {
        this.delivery = delivery;
      }
    }

    /** Claims this turn's delivery for its operation; {@code false} if it has been run already. */
    synchronized boolean claim() {
      if (claimed) {
        return false;
      }
      claimed = true;
      return true;
    }

    /** Throws what the delivery run ahead by a listener's write threw, if it did. */
    void rethrowFailure() {
      Throwable thrown;
      synchronized (this) {
        thrown = failure;
      }
      if (thrown instanceof Error error) {
        throw error;
      }
      if (thrown != null) {
        throw (RuntimeException) thrown;
      }
    }

    /**
     * For a write made from a listener's delivery, which does not wait: delivers first, oldest
     * first, the key's earlier turns that this same thread took and whose delivery has not
     * begun (a listener rewriting the key it hears of: the other listeners then hear the first
     * write before the second), as long as no other thread's turn comes before them.
     */
    void deliverOwnEarlier() {
      ArrayDeque<Turn> earlier = new ArrayDeque<>();
      for (Turn turn = previous; turn != null; turn = turn.previous) {
        if (!turn.isSettled()) {
          earlier.addFirst(turn);
        }
      }
      Thread self = Thread.currentThread();
      for (Turn turn : earlier) {
        if (turn.owner != self || !turn.deliverAhead()) {
          return; // another thread's, or not ready, or under way (the delivery this write is made from)
        }
      }
    }

    /**
     * Runs this turn's readied delivery on the calling thread (its own, for a later turn of the
     * same thread), unless it has begun or is not readied; returns whether it did.
     */
    private boolean deliverAhead() {
      Runnable run;
      synchronized (this) {
        if (claimed || ended || delivery == null) {
          return false;
        }
        claimed = true;
        run = delivery;
      }
      try {
        run.run();
      } catch (RuntimeException | Error e) {
        synchronized (this) {
          failure = e; // its operation throws it, as if it had delivered it itself
        }
      } finally {
        end();
      }
      return true;
    }

    /**
     * Waits until every earlier turn of the key has ended, but gives up on one that stays the
     * oldest for {@link #MAX_WAIT_NANOS}. The calling thread took this turn and is not one that
     * must not wait.
     */
    void awaitPrevious() {
      awaitPrevious(MAX_WAIT_NANOS);
    }

    /**
     * {@link #awaitPrevious()}, giving up after {@code maxWaitNanos}. The bound runs for the
     * oldest earlier turn only, from when this thread began to wait for it: a slow listener on a
     * busy key makes the later writers wait longer, one delivery at a time, without making them
     * give up. A turn given up on is given up by every thread that waits for it, so the turns
     * after it still deliver in their order.
     */
    void awaitPrevious(long maxWaitNanos) {
      boolean interrupted = false;
      List<Turn> passed = null; // this thread's own, which it cannot deliver now
      try {
        Thread self = Thread.currentThread();
        Turn oldest;
        while ((oldest = oldestUnsettled(passed)) != null) {
          if (oldest.owner == self) {
            // never waited for: it could only end on this very thread. Delivered first if
            // readied (a batch's earlier load), else passed
            if (!oldest.deliverAhead()) {
              passed = passed == null ? new ArrayList<>(1) : passed;
              passed.add(oldest);
            }
            continue;
          }
          interrupted |= oldest.awaitSettled(System.nanoTime() + maxWaitNanos);
          if (oldest.abandonIfUnsettled()) {
            LOG.warn("a synchronous listener's earlier delivery of key {} has not ended after {} ms;"
                + " delivering the later ones ahead of it (is that listener blocked on a lock a"
                + " writing thread holds?)", key, TimeUnit.NANOSECONDS.toMillis(maxWaitNanos));
          }
        }
      } finally {
        // all settled but those passed: later turns wait for this one, and for them (the
        // newest passed one leads to the older ones); their thread ends them, unwaited for
        previous = passed == null ? null : passed.get(passed.size() - 1);
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }

    /**
     * The oldest earlier turn of the key not settled yet (the one delivering, or stuck), but
     * those {@code passed}.
     */
    private Turn oldestUnsettled(List<Turn> passed) {
      Turn oldest = null;
      for (Turn turn = previous; turn != null; turn = turn.previous) {
        if (!turn.isSettled() && (passed == null || !passed.contains(turn))) {
          oldest = turn;
        }
      }
      return oldest;
    }

    /** Ends this turn; the key's later turns may deliver once every turn before it ended too. */
    void end() {
      synchronized (this) {
        ended = true;
        delivery = null; // its events, which later turns linking here would keep
        notifyAll();
      }
      forgetKeyIfSettled();
    }

    /** Gives up on this turn unless it has ended; returns whether it did. */
    private boolean abandonIfUnsettled() {
      synchronized (this) {
        if (ended || abandoned) {
          return false;
        }
        abandoned = true;
        notifyAll();
      }
      forgetKeyIfSettled();
      return true;
    }

    /**
     * Forgets the key once none of its turns is left to wait for. The latest turn may settle
     * before earlier ones (one that did not wait), and a new turn must still wait for those.
     */
    private void forgetKeyIfSettled() {
      latest.computeIfPresent(key, (k, last) -> last.unsettled() == null ? null : last);
    }

    /** This turn if it is not settled, else the latest earlier one that is not: what to wait for. */
    private Turn unsettled() {
      Turn turn = this;
      while (turn != null && turn.isSettled()) {
        turn = turn.previous;
      }
      return turn;
    }

    private synchronized boolean isSettled() {
      return ended || abandoned;
    }

    /** Waits until this turn settles or the deadline passes; returns whether it was interrupted. */
    private synchronized boolean awaitSettled(long deadline) {
      boolean interrupted = false;
      long left;
      while (!ended && !abandoned && (left = deadline - System.nanoTime()) > 0) {
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
