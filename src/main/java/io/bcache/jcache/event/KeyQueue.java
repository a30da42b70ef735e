package io.bcache.jcache.event;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One listener's deliveries for one key, run one at a time in the order their operations took
 * their places. An operation takes its place while it holds the key's lock and fills it once
 * the lock is released, so the listener hears the key's operations in the order they took
 * effect, whichever thread gets to deliver first.
 *
 * <p>A place is either awaited or not. An awaited place (a synchronous listener's event of a
 * local operation) is run by the thread that made the operation, which waits for it: a
 * synchronous listener runs on the caller's thread, as it would without a queue. Any other
 * place (an asynchronous listener's event, or any listener's event of a peer's change) runs on
 * the listener's lane, one at a time with its other such deliveries. A queue with no place left
 * removes itself from its listener's map.
 */
final class KeyQueue {

  private static final Logger LOG = LoggerFactory.getLogger(KeyQueue.class);

  /** A delivery's place in a queue: taken first, filled later. */
  static final class Place {
    private final KeyQueue queue;
    private Runnable delivery;
    private boolean filled;
    private boolean done;
    private Throwable failure;
    /** The thread that waits for this place and runs it, if it is awaited. */
    private Thread owner;

    private Place(KeyQueue queue) {
      this.queue = queue;
    }

    KeyQueue queue() {
      return queue;
    }
  }

  private final Object key;
  private final Map<Object, KeyQueue> queues;
  private final Executor executor;
  private final ArrayDeque<Place> places = new ArrayDeque<>(2);
  /** Whether a thread drains the queue, or a drain is scheduled. */
  private boolean running;
  /** The thread running a delivery, if any. */
  private Thread drainer;
  /** Removed from the map: takes no more places. */
  private boolean retired;

  KeyQueue(Object key, Map<Object, KeyQueue> queues, Executor executor) {
    this.key = key;
    this.queues = queues;
    this.executor = executor;
  }

  /** Takes the next place, or {@code null} if this queue is retired: ask the map again. */
  synchronized Place take() {
    if (retired) {
      return null;
    }
    Place place = new Place(this);
    places.add(place);
    return place;
  }

  /**
   * Fills a place with its delivery ({@code null}: nothing to deliver), which runs on the
   * executor once every place before it has run.
   */
  void fill(Place place, Runnable delivery) {
    boolean start;
    synchronized (this) {
      place.delivery = delivery;
      place.filled = true;
      start = claim(null);
    }
    if (start) {
      schedule();
    }
  }

  /** Fills a place whose delivery this thread runs in {@link #await}. */
  synchronized void fillAwaited(Place place, Runnable delivery) {
    place.delivery = delivery;
    place.filled = true;
    place.owner = Thread.currentThread();
  }

  /**
   * Returns once a place filled by {@link #fillAwaited} has run, on this thread, rethrowing
   * what its delivery threw. A delivery of this queue running on this thread already (a
   * listener that writes the key it hears about) has the new one run at once, out of turn:
   * waiting for its turn would wait for itself.
   */
  void await(Place place) {
    boolean interrupted = false;
    try {
      for (;;) {
        boolean nested = false;
        synchronized (this) {
          for (;;) {
            if (place.done) {
              break;
            }
            if (drainer == Thread.currentThread()) {
              places.remove(place);
              place.done = true;
              nested = true;
              break;
            }
            if (claim(Thread.currentThread())) {
              break;
            }
            interrupted |= waitUninterruptibly(0);
          }
        }
        if (nested) {
          place.delivery.run();
          return;
        }
        if (place.done) {
          break;
        }
        drain(Thread.currentThread(), place);
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    if (place.failure instanceof Error error) {
      throw error;
    }
    if (place.failure != null) {
      throw (RuntimeException) place.failure;
    }
  }

  /**
   * Blocks until every place taken so far has run, running those it may here; used when the
   * cache closes. A delivery of this queue that closes the cache (a listener closing its cache
   * or manager) does not wait for it: it would wait for itself.
   */
  void awaitIdle() {
    Thread self = Thread.currentThread();
    boolean interrupted = false;
    try {
      for (;;) {
        synchronized (this) {
          if (drainer == self || (places.isEmpty() && !running)) {
            return;
          }
          if (!claim(self)) {
            interrupted |= waitUninterruptibly(1000);
            continue;
          }
        }
        drain(self, null);
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Claims the queue for a drain by {@code runner} ({@code null}: the executor) if it is idle and
   * its head is filled and may run there: not awaited, or awaited by {@code runner}. A head its
   * owner must run wakes the owner instead; an empty queue retires.
   */
  private boolean claim(Thread runner) {
    if (running) {
      return false;
    }
    Place head;
    while ((head = places.peek()) != null && head.filled && head.delivery == null) {
      places.poll(); // nothing to deliver
      head.done = true;
    }
    if (head == null) {
      retired = true;
      queues.remove(key, this);
      notifyAll();
      return false;
    }
    if (!head.filled) {
      return false;
    }
    if (head.owner != null && head.owner != runner) {
      notifyAll(); // its owner runs it
      return false;
    }
    running = true;
    return true;
  }

  /**
   * Runs, in order, the places {@code runner} may run, after claiming the queue, until one it
   * may not (or an unfilled one) is at the head, or until {@code last} has run. What follows is
   * handed on: to the executor, or to the owner of the place at the head.
   */
  private void drain(Thread runner, Place last) {
    for (;;) {
      Place next;
      boolean handOn = false;
      synchronized (this) {
        next = places.peek();
        if ((last != null && last.done) || next == null || !next.filled
            || (next.owner != null && next.owner != runner)) {
          running = false;
          drainer = null;
          handOn = claim(null);
          notifyAll();
          next = null;
        } else {
          places.poll();
          drainer = Thread.currentThread();
        }
      }
      if (next == null) {
        if (handOn) {
          schedule();
        }
        return;
      }
      try {
        if (next.delivery != null) {
          next.delivery.run();
        }
      } catch (RuntimeException | Error e) {
        next.failure = e; // for the operation that waits for it; the queue goes on either way
        if (next.owner == null) {
          LOG.warn("an event delivery failed", e);
        }
      }
      synchronized (this) {
        next.done = true;
        notifyAll();
      }
    }
  }

  /** Drains the claimed queue on the listener's lane. */
  private void schedule() {
    executor.execute(() -> drain(null, null));
  }

  /** Waits on this queue's monitor; returns whether the thread was interrupted meanwhile. */
  private boolean waitUninterruptibly(long millis) {
    try {
      wait(millis);
      return false;
    } catch (InterruptedException e) {
      return true; // the delivery waited for is bounded by listeners: waited for all the same
    }
  }
}
