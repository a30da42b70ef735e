package io.bcache.jcache.event;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;

/**
 * Runs tasks one at a time, in submission order, on a shared executor: an asynchronous
 * listener sees its events in the order they happened without owning a thread.
 */
final class SerialExecutor implements Executor {

  private final Executor executor;
  private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
  private boolean running;
  /** The thread running the tasks while {@link #running}. */
  private Thread drainer;

  SerialExecutor(Executor executor) {
    this.executor = executor;
  }

  @Override
  public void execute(Runnable task) {
    synchronized (this) {
      tasks.add(task);
      if (running) {
        return;
      }
      running = true;
    }
    executor.execute(this::drain);
  }

  private void drain() {
    for (;;) {
      Runnable task;
      synchronized (this) {
        task = tasks.poll();
        if (task == null) {
          running = false;
          drainer = null;
          notifyAll();
          return;
        }
        drainer = Thread.currentThread();
      }
      task.run();
    }
  }

  /**
   * Blocks until no task is queued or running; used when the cache closes. A task that closes
   * the cache itself (a listener closing its cache or manager) does not wait: it would wait for
   * itself. The tasks queued behind it then still run, after it.
   */
  synchronized void awaitIdle() {
    if (Thread.currentThread() == drainer) {
      return;
    }
    boolean interrupted = false;
    while (running) {
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
