package io.bcache.replication;

/**
 * Runs a task later on the replication core's thread. Injected so that the simulator drives time.
 * Callable from any thread: an owner's load for a peer finishes elsewhere and hands its answer
 * back to the core through it (see {@link LoadRouting}).
 */
@FunctionalInterface
public interface Scheduler {

  /** Schedules {@code task} to run once, {@code delayMillis} from now (0 = as soon as possible). */
  Cancellable schedule(long delayMillis, Runnable task);

  /** A scheduled task that may still be called off. */
  @FunctionalInterface
  interface Cancellable {
    /** Prevents the task from running if it has not run yet; harmless otherwise. */
    void cancel();
  }
}
