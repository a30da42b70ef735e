package io.bcache.transport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A TCP relay on 127.0.0.1 that forwards every connection it accepts to one target port. It
 * keeps a copy of all the bytes that passed through, both ways: what an eavesdropper on the wire
 * would see. It can also {@linkplain #partition() partition}: like a network that drops every
 * packet, it then holds what it has read, forwards nothing and connects nothing, so the two
 * ends see silence (not a reset) until they give up on the connection themselves, or until the
 * relay {@linkplain #heal() heals} and delivers what it held. Closing it closes every socket and
 * so ends its threads.
 */
public final class LoopbackRelay implements AutoCloseable {

  private final ServerSocket server;
  private final int targetPort;
  private final ByteArrayOutputStream seen = new ByteArrayOutputStream();
  private final List<Socket> sockets = new ArrayList<>();
  private boolean partitioned;
  private volatile boolean closed;

  /** A relay to {@code targetPort} on 127.0.0.1, listening on a free port of its own. */
  public LoopbackRelay(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::acceptAll, "relay-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** The port the relay listens on: what peers must be told to dial. */
  public int port() {
    return server.getLocalPort();
  }

  /** Everything relayed so far, both directions interleaved. */
  public byte[] seen() {
    synchronized (seen) {
      return seen.toByteArray();
    }
  }

  /** Stops forwarding, on open connections and new ones alike, until {@link #heal()}. */
  public synchronized void partition() {
    partitioned = true;
  }

  /** Forwards again, starting with whatever was held. */
  public synchronized void heal() {
    partitioned = false;
    notifyAll();
  }

  /** Returns once the relay is not partitioned; false if it was closed meanwhile. */
  private synchronized boolean awaitConnected() {
    while (partitioned && !closed) {
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return !closed;
  }

  private void acceptAll() {
    try {
      while (true) {
        Socket client = server.accept();
        track(client);
        Thread connector = new Thread(() -> connect(client), "relay-connect");
        connector.setDaemon(true);
        connector.start();
      }
    } catch (IOException closedServer) {
      // the relay was closed
    }
  }

  /** Connects an accepted client to the target once the relay is not partitioned. */
  private void connect(Socket client) {
    if (!awaitConnected()) {
      closeQuietly(client);
      return;
    }
    try {
      Socket target = new Socket(InetAddress.getLoopbackAddress(), targetPort);
      track(target);
      pump(client, target);
      pump(target, client);
    } catch (IOException refused) {
      closeQuietly(client);
    }
  }

  private void track(Socket socket) {
    boolean late;
    synchronized (sockets) {
      sockets.add(socket);
      late = closed;
    }
    if (late) {
      closeQuietly(socket);
    }
  }

  private void pump(Socket from, Socket to) {
    Thread pump = new Thread(() -> {
      byte[] buffer = new byte[8192];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        for (int n; awaitConnected() && (n = in.read(buffer)) > 0; ) {
          synchronized (seen) {
            seen.write(buffer, 0, n);
          }
          if (!awaitConnected()) { // bytes read as the partition began are held, not dropped
            break;
          }
          out.write(buffer, 0, n);
        }
      } catch (IOException closedSocket) {
        // either side closed
      } finally {
        closeQuietly(from);
        closeQuietly(to);
      }
    }, "relay-pump");
    pump.setDaemon(true);
    pump.start();
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      notifyAll();
    }
    closeQuietly(server);
    synchronized (sockets) {
      sockets.forEach(LoopbackRelay::closeQuietly);
    }
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception ignored) {
      // closing anyway
    }
  }
}
