package io.bcache.transport;

import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;

/**
 * A hand-driven peer on a plain socket, to say exactly the wrong (or right) thing to a node.
 * Loopback only.
 */
final class RawPeer implements Closeable {

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Socket socket;
  private final DataInputStream in;
  private final DataOutputStream out;

  RawPeer(int port) throws IOException {
    socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setSoTimeout(5_000);
    in = new DataInputStream(socket.getInputStream());
    out = new DataOutputStream(socket.getOutputStream());
  }

  void writeRaw(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  void writeFrame(byte[] frame) throws IOException {
    out.writeInt(frame.length);
    out.write(frame);
    out.flush();
  }

  byte[] readFrame() throws IOException {
    int length = in.readInt();
    byte[] frame = new byte[length];
    in.readFully(frame);
    return frame;
  }

  /** Completes a handshake as node {@code nodeId}, as a correctly configured peer would. */
  void handshake(long nodeId, String cluster, byte[] secret) throws IOException {
    byte[] nonce = new byte[Hello.NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    // addressed to nobody in particular (0), as a dialer that does not know the node's id
    writeFrame(new Hello(Hello.PROTOCOL_VERSION, secret != null, cluster, nodeId, 0, nonce).encode());
    Hello theirs = Hello.decode(readFrame());
    if (secret != null) {
      writeFrame(Proof.compute(secret, Proof.Role.DIALER, cluster, nodeId, nonce, theirs.nonce(), theirs.nodeId()));
      byte[] proof = readFrame();
      byte[] expected = Proof.compute(secret, Proof.Role.ACCEPTOR, cluster, theirs.nodeId(), theirs.nonce(), nonce,
          nodeId);
      if (!Arrays.equals(proof, expected)) {
        throw new IOException("node sent a wrong proof");
      }
    }
    if (nodeId < theirs.nodeId()) {
      writeFrame(HandshakeHandler.ACCEPT);
    } else if (!Arrays.equals(readFrame(), HandshakeHandler.ACCEPT)) {
      throw new IOException("node did not accept the connection");
    }
  }

  /**
   * Forwards every frame this peer reads to {@code other}, on a daemon thread, until either
   * connection closes.
   */
  void relayFramesTo(RawPeer other) {
    Thread relay = new Thread(() -> {
      try {
        socket.setSoTimeout(0);
        for (;;) {
          other.writeFrame(readFrame());
        }
      } catch (IOException e) {
        // one end closed: done
      }
    }, "raw-peer-relay");
    relay.setDaemon(true);
    relay.start();
  }

  /** Reads and discards until the node closes the connection; false if it stays open that long. */
  boolean closedByPeerWithin(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    InputStream stream = socket.getInputStream();
    byte[] sink = new byte[8192];
    while (System.nanoTime() < deadline) {
      socket.setSoTimeout((int) Math.max(1, Duration.ofNanos(deadline - System.nanoTime()).toMillis()));
      try {
        if (stream.read(sink) < 0) {
          return true;
        }
      } catch (SocketTimeoutException e) {
        return false;
      } catch (SocketException | EOFException e) {
        return true; // reset
      }
    }
    return false;
  }

  /** Reads and discards everything until the connection closes; for draining a paused peer. */
  void drainUntilClosed() {
    byte[] sink = new byte[64 * 1024];
    try {
      socket.setSoTimeout(0);
      InputStream stream = socket.getInputStream();
      while (stream.read(sink) >= 0) {
        // discard
      }
    } catch (IOException e) {
      // closed: done
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
