package io.bcache.cluster.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.bcache.cluster.InJvmCluster;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A node's peer port, chosen through the public {@code bcache.bind} property, is sent garbage, an
 * oversized frame and a peer with the wrong secret: each is turned away and the node keeps serving.
 */
class PeerPortRejectionProcessTest extends ProcessClusterTestBase {

  @Test
  @Timeout(180)
  void garbageAnOversizedFrameAndAWrongSecretAreRejectedAndTheNodeKeepsServing() throws Exception {
    int port = InJvmCluster.freeLoopbackPort();
    NodeProcess a = launch("a", "127.0.0.1:" + port, NodeMain.DEFAULT_SECRET);
    NodeProcess b = launch("b");
    a.awaitReady();
    b.awaitReady();
    Map<String, String> model = new HashMap<>();
    awaitMesh(a, b);
    model.put("mesh-a", "up");
    model.put("mesh-b", "up");

    byte[] garbage = new byte[4096];
    new Random(42).nextBytes(garbage);
    assertThat(closedByPeer(port, garbage)).as("garbage closes the connection").isTrue();

    byte[] oversized = ByteBuffer.allocate(4 + 64).putInt(Integer.MAX_VALUE - 8).array();
    assertThat(closedByPeer(port, oversized)).as("an oversized frame closes the connection").isTrue();

    // a node of the same cluster that does not know the secret: it finds a and b through
    // ZooKeeper, and they find it; every handshake between them fails
    NodeProcess intruder = launch("intruder", "127.0.0.1:0", "not-the-secret").awaitReady();
    intruder.put("intruder-key", "should-stay-local");

    putMany(a, model, "after-a-", 500);
    putMany(b, model, "after-b-", 500);
    awaitContents(model, a, b);
    // a weak check by nature (replication is asynchronous), made after a and b converged on
    // writes made after the intruder's
    assertThat(a.get("intruder-key")).isNull();
    assertThat(b.get("intruder-key")).isNull();
    assertThat(intruder.get("after-a-1")).isNull();
    assertThat(intruder.count()).isEqualTo(1);

    // the node that was attacked still serves its peer, both ways
    a.put("still-serving", "a");
    b.put("still-serving-too", "b");
    model.put("still-serving", "a");
    model.put("still-serving-too", "b");
    awaitContents(model, a, b);
  }


  /** Sends {@code bytes} and reports whether the node then closed the connection within 20 s. */
  private static boolean closedByPeer(int port, byte[] bytes) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      try {
        out.write(bytes);
        out.flush();
      } catch (SocketException e) {
        return true; // closed while we were still writing
      }
      InputStream in = socket.getInputStream();
      byte[] buffer = new byte[8192];
      long deadline = System.nanoTime() + 20_000_000_000L;
      while (System.nanoTime() < deadline) { // bounded: the node may first send its own hello
        int read;
        try {
          read = in.read(buffer);
        } catch (SocketTimeoutException e) {
          return false;
        } catch (SocketException e) {
          return true; // reset
        }
        if (read < 0) {
          return true;
        }
      }
      return false;
    }
  }
}
