package io.bcache.jcache.event;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Runs tasks one at a time, in submission order, on a shared executor: a listener's deliveries
 * that no operation waits for run one at a time, in about the order they were made, without a
 * thread of their own.
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
    try {
      executor.execute(this::drain);
    } catch (RejectedExecutionException e) {
      drain(); // the manager's executor is shut down already: here, rather than never
    }
  }

  /** Whether the current thread runs this executor's tasks, so that waiting for them would wait for itself. */
  synchronized boolean runsOnCurrentThread() {
    return drainer == Thread.currentThread();
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
}
