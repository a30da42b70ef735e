package io.bcache.jcache.event;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One listener's deliveries, run one at a time in the order their operations took their places.
 * An operation takes its place while it holds its key's lock and fills it once the lock is
 * released, so the events of one key reach the listener in the order the operations took
 * effect, whichever thread gets to deliver first. Deliveries run on a shared executor, or on the
 * thread of a synchronous listener's operation, which waits for its own.
 */
final class EventQueue {

  private static final Logger LOG = LoggerFactory.getLogger(EventQueue.class);

  /** A delivery's place in the queue: taken first, filled later. */
  static final class Place {
    private Runnable delivery;
    private boolean filled;
    private boolean done;
    private Throwable failure;
    private boolean awaited;
  }

  private final Executor executor;
  private final ArrayDeque<Place> places = new ArrayDeque<>();
  /** Whether a thread drains the queue, or a drain is scheduled. */
  private boolean running;
  /** The thread running a delivery, if any. */
  private Thread drainer;

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
   * Fills a place with its delivery ({@code null}: nothing to deliver), which runs on the
   * executor once every place before it has run.
   */
  void fill(Place place, Runnable delivery) {
    boolean start;
    synchronized (this) {
      place.delivery = delivery;
      place.filled = true;
      start = claimIfReady();
    }
    if (start) {
      schedule();
    }
  }

  /**
   * Fills a place with its delivery and returns once the delivery has run, rethrowing what it
   * threw. It runs on this thread when the queue is idle; a delivery running on this thread
   * already (a listener that writes to its own cache) gets the new one at once, as waiting
   * for it would wait for itself.
   */
  void fillAndAwait(Place place, Runnable delivery) {
    boolean nested;
    boolean drainHere = false;
    synchronized (this) {
      place.delivery = delivery;
      place.filled = true;
      place.awaited = true;
      nested = drainer == Thread.currentThread();
      if (nested) {
        places.remove(place);
        place.done = true;
      } else {
        drainHere = claimIfReady();
      }
    }
    if (nested) {
      delivery.run();
      return;
    }
    if (drainHere) {
      drainUntil(place);
    }
    synchronized (this) {
      boolean interrupted = false;
      while (!place.done) {
        try {
          wait();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
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

  /** Claims the queue for a drain if it is idle and its head is filled; drops empty places first. */
  private boolean claimIfReady() {
    if (running) {
      return false;
    }
    Place head;
    while ((head = places.peek()) != null && head.filled && head.delivery == null) {
      places.poll();
      head.done = true;
    }
    if (head == null || !head.filled) {
      return false;
    }
    running = true;
    return true;
  }

  /**
   * Runs the filled places in order until the queue is empty or its head not yet filled, or
   * until {@code last} has run: what follows it is then handed to the executor.
   */
  private void drainUntil(Place last) {
    for (;;) {
      Place next;
      synchronized (this) {
        if (last != null && last.done) {
          running = false;
          drainer = null;
          notifyAll();
          if (!claimIfReady()) {
            return;
          }
          next = null;
        } else {
          next = places.peek();
          if (next == null || !next.filled) {
            running = false;
            drainer = null;
            notifyAll();
            return;
          }
          places.poll();
          drainer = Thread.currentThread();
        }
      }
      if (next == null) {
        schedule(); // the rest, claimed above
        return;
      }
      try {
        if (next.delivery != null) {
          next.delivery.run();
        }
      } catch (RuntimeException | Error e) {
        next.failure = e; // for the operation that waits for it; the queue goes on either way
        if (!next.awaited) {
          LOG.warn("an event delivery failed", e);
        }
      }
      synchronized (this) {
        next.done = true;
        notifyAll();
      }
    }
  }

  /** Drains the claimed queue on the executor; here, if the executor is shut down already. */
  private void schedule() {
    try {
      executor.execute(() -> drainUntil(null));
    } catch (RejectedExecutionException e) {
      drainUntil(null);
    }
  }

  /**
   * Blocks until every place taken so far has run; used when the cache closes. A delivery that
   * closes the cache itself (a listener closing its cache or manager) does not wait: it would
   * wait for itself. The deliveries queued behind it then still run, after it.
   */
  synchronized void awaitIdle() {
    if (Thread.currentThread() == drainer) {
      return;
    }
    boolean interrupted = false;
    while (running || !places.isEmpty()) {
      try {
        wait(1000);
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
