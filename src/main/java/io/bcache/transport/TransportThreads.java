package io.bcache.transport;

import io.netty.util.concurrent.FastThreadLocalThread;
import java.util.concurrent.ThreadFactory;

/** Names the transport's threads after their node and role, and never keeps the JVM alive. */
final class TransportThreads implements ThreadFactory {

  private final String name;

  TransportThreads(long nodeId, String role) {
    this.name = "bcache-transport-" + TransportConfig.nodeName(nodeId) + "-" + role;
  }

  @Override
  public Thread newThread(Runnable task) {
    Thread thread = new FastThreadLocalThread(task, name);
    thread.setDaemon(true);
    return thread;
  }
}
