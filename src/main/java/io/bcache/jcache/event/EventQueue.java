package io.bcache.jcache.event;

import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One listener's deliveries that no operation waits for (an asynchronous listener's, and any
 * listener's of a change from a peer), run one at a time on a shared executor in the order
 * their places were taken. An operation takes its place while it holds its key's lock and
 * fills it once the lock is released, so the listener hears the operations of one key in the
 * order they took effect. No caller ever waits here: a queue whose next place is not filled
 * yet stops, and the operation that fills it starts the queue again.
 */
final class EventQueue {

  private static final Logger LOG = LoggerFactory.getLogger(EventQueue.class);

  /**
   * The queue each thread closing a cache waits for, to tell a wait that would close a cycle:
   * two listeners closing each other's caches from their deliveries would wait for each other.
   */
  private static final ConcurrentHashMap<Thread, EventQueue> AWAITED_BY = new ConcurrentHashMap<>();
  /** Bounds the walk along waits; real chains are a few closes long. */
  private static final int MAX_WAIT_CHAIN = 64;
  /** How often a waiting close looks again for a cycle formed after it began to wait. */
  private static final long CYCLE_CHECK_MILLIS = 100;

  /** A delivery's place in the queue: taken first, filled later. */
  static final class Place {
    private Runnable delivery;
    private boolean filled;
  }

  private final Executor executor;
  private final ArrayDeque<Place> places = new ArrayDeque<>();
  /** Whether a drain runs or is scheduled. */
  private boolean running;
  /** The thread running a delivery, if any. */
  private volatile Thread drainer;

  EventQueue(Executor executor) {
    this.executor = executor;
  }

  /** Takes the next place; it must be filled, or every later delivery waits for good. */
  synchronized Place take() {
    Place place = new Place();
    places.add(place);
    return place;
  }

  /**
   * Fills a place with its delivery ({@code null}: nothing to deliver), which runs once every
   * place before it has run.
   */
  void fill(Place place, Runnable delivery) {
    synchronized (this) {
      place.delivery = delivery;
      place.filled = true;
      if (running) {
        return;
      }
      if (!readyToRun()) {
        notifyAll(); // perhaps empty now: a close waiting for it goes on
        return;
      }
      running = true;
    }
    try {
      executor.execute(this::drain);
    } catch (RejectedExecutionException e) {
      drain(); // the manager's executor is shut down already: here, rather than never
    } catch (RuntimeException | Error e) {
      synchronized (this) {
        running = false; // the next fill tries again
      }
      throw e;
    }
  }

  /** Whether the head is filled; drops the filled places with nothing to deliver first. */
  private boolean readyToRun() {
    Place head;
    while ((head = places.peek()) != null && head.filled && head.delivery == null) {
      places.poll();
    }
    return head != null && head.filled;
  }

  private void drain() {
    for (;;) {
      Place next;
      synchronized (this) {
        if (!readyToRun()) {
          running = false;
          drainer = null;
          notifyAll();
          return;
        }
        next = places.poll();
        drainer = Thread.currentThread();
      }
      try {
        next.delivery.run();
      } catch (Throwable e) { // even one thrown undeclared: the queue must go on
        LOG.warn("an event delivery failed", e);
      }
    }
  }

  /**
   * Blocks until every place taken so far has run; used when the cache closes. It does not wait
   * for a delivery that is itself waiting, through closes, for the calling thread (a listener
   * closing its own cache or manager, two listeners closing each other's caches), nor when the
   * calling thread holds a key's lock or a load (a processor or writer closing a cache), which
   * a delivery may be blocked on. The deliveries queued then still run, after it.
   */
  synchronized void awaitIdle() {
    if (ThreadMark.HELD_KEYS.isSet()) {
      return;
    }
    Thread self = Thread.currentThread();
    AWAITED_BY.put(self, this);
    boolean interrupted = false;
    boolean cycleSeen = false;
    try {
      while (running || !places.isEmpty()) {
        if (!running) {
          readyToRun(); // drops what has nothing to deliver; an unfilled place is waited for
          if (places.isEmpty()) {
            break;
          }
        }
        // looked at again after every wait: the other side of a cycle may start waiting later.
        // A longer chain is read link by link while it may change, so it counts once seen twice
        int links = linksBackTo(self);
        if (links == 0 || (links > 0 && cycleSeen)) {
          return;
        }
        cycleSeen = links > 0;
        try {
          wait(CYCLE_CHECK_MILLIS);
        } catch (InterruptedException e) {
          interrupted = true; // bounded by the listener's deliveries: waited for all the same
        }
      }
    } finally {
      AWAITED_BY.remove(self);
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * How many other closing threads lie between this queue's running delivery and {@code thread}:
   * 0 if the delivery runs on {@code thread} itself, 1 if its thread waits to close a cache whose
   * delivery runs on {@code thread}, and so on; -1 if the chain of waits does not lead there.
   */
  private int linksBackTo(Thread thread) {
    EventQueue queue = this;
    for (int links = 0; links < MAX_WAIT_CHAIN && queue != null; links++) {
      Thread delivering = queue.drainer;
      if (delivering == null) {
        return -1;
      }
      if (delivering == thread) {
        return links;
      }
      queue = AWAITED_BY.get(delivering);
    }
    return -1;
  }
}
