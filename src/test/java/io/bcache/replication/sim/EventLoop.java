package io.bcache.replication.sim;

import io.bcache.replication.Scheduler;
import java.util.PriorityQueue;

/** Simulated time: a queue of tasks ordered by due time, then by the order they were scheduled. */
final class EventLoop {

  private final PriorityQueue<Event> queue = new PriorityQueue<>();
  private long now;
  private long scheduled;

  long now() {
    return now;
  }

  Scheduler.Cancellable at(long time, Runnable task) {
    Event event = new Event(Math.max(time, now), scheduled++, task);
    queue.add(event);
    return () -> event.cancelled = true;
  }

  Scheduler.Cancellable after(long delay, Runnable task) {
    return at(now + Math.max(0, delay), task);
  }

  /** Runs every task due up to {@code time}, calling {@code afterEach} after each one. */
  void runUntil(long time, Runnable afterEach) {
    while (!queue.isEmpty() && queue.peek().time <= time) {
      Event event = queue.poll();
      if (event.cancelled) {
        continue;
      }
      now = event.time;
      event.task.run();
      afterEach.run();
    }
    now = Math.max(now, time);
  }

  private static final class Event implements Comparable<Event> {
    final long time;
    final long order;
    final Runnable task;
    boolean cancelled;

    Event(long time, long order, Runnable task) {
      this.time = time;
      this.order = order;
      this.task = task;
    }

    @Override
    public int compareTo(Event o) {
      int byTime = Long.compare(time, o.time);
      return byTime != 0 ? byTime : Long.compare(order, o.order);
    }
  }
}
