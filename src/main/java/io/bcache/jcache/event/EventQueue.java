package io.bcache.jcache.event;

import java.util.ArrayDeque;
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

  /** Set while the thread runs deliveries from a queue, any listener's. */
  private static final ThreadLocal<Boolean> DELIVERING = new ThreadLocal<>();

  /** A delivery's place in the queue: taken first, filled later. */
  static final class Place {
    private Runnable delivery;
    private boolean filled;
  }

  private final Executor executor;
  private final ArrayDeque<Place> places = new ArrayDeque<>();
  /** Whether a drain runs or is scheduled. */
  private boolean running;

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
    boolean nested = DELIVERING.get() != null; // run here by a delivery whose executor was shut down
    DELIVERING.set(Boolean.TRUE);
    try {
      for (;;) {
        Place next;
        synchronized (this) {
          if (!readyToRun()) {
            running = false;
            notifyAll();
            return;
          }
          next = places.poll();
        }
        try {
          next.delivery.run();
        } catch (RuntimeException | Error e) {
          LOG.warn("an event delivery failed", e);
        }
      }
    } finally {
      if (!nested) {
        DELIVERING.remove();
      }
    }
  }

  /**
   * Blocks until every place taken so far has run; used when the cache closes. A close made from
   * a delivery (a listener closing its cache or manager, or another cache) does not wait: it could
   * be waiting for itself, or for a delivery that is itself closing this delivery's cache. The
   * deliveries queued then still run, after it.
   */
  synchronized void awaitIdle() {
    if (DELIVERING.get() != null) {
      return;
    }
    boolean interrupted = false;
    while (running || !places.isEmpty()) {
      if (!running) {
        readyToRun(); // drops what has nothing to deliver; an unfilled place is waited for
        if (places.isEmpty()) {
          break;
        }
      }
      try {
        wait(1000);
      } catch (InterruptedException e) {
        interrupted = true; // bounded by the listener's deliveries: waited for all the same
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
