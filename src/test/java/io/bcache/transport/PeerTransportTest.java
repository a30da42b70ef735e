package io.bcache.transport;

import static io.bcache.transport.TransportFixture.assertExchangesFrames;
import static io.bcache.transport.TransportFixture.connect;
import static io.bcache.transport.TransportFixture.eventually;
import static io.bcache.transport.TransportFixture.nextId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.bcache.transport.TransportFixture.Node;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PeerTransportTest {

  private final TransportFixture nodes = new TransportFixture();

  @AfterEach
  void closeNodes() {
    nodes.close();
  }

  @Test
  void aPortAlreadyTakenFailsTheStartSayingWhyAndTheNextStartWorks() throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      TransportConfig config = TransportFixture.config(nextId()).bind("127.0.0.1", taken.getLocalPort()).build();
      PeerTransport transport = new PeerTransport(config, new RecordingListener());

      assertThatThrownBy(transport::start).isInstanceOf(UncheckedIOException.class)
          .hasMessageContaining("127.0.0.1:" + taken.getLocalPort()).hasMessageContaining("in use");
      transport.close();
    }
    Node after = nodes.start(nextId());
    Node peer = nodes.start(nextId());
    connect(after, peer);
    assertExchangesFrames(after, peer);
  }

  @Test
  void connectedPeersExchangeFramesBothWays() {
    Node a = nodes.start(nextId());
    Node b = nodes.start(nextId());
    connect(a, b);

    assertThat(a.transport().connectedPeers()).containsExactly(b.id());
    assertThat(b.transport().connectedPeers()).containsExactly(a.id());
    assertThat(a.listener().events()).containsExactly("connected " + b.id());
    assertThat(b.listener().events()).containsExactly("connected " + a.id());
    assertExchangesFrames(a, b);
  }

  @Test
  void largestFrameArrivesIntact() {
    Node a = nodes.start(nextId());
    Node b = nodes.start(nextId());
    connect(a, b);
    byte[] large = new byte[a.transport().config().maxFrameSize()];
    new Random(42).nextBytes(large);

    assertThat(a.transport().send(b.id(), large)).isTrue();
    assertThat(b.transport().send(a.id(), large)).isTrue();

    eventually().until(() -> b.listener().frameCount(a.id()) == 1 && a.listener().frameCount(b.id()) == 1);
    assertThat(b.listener().framesFrom(a.id()).get(0)).isEqualTo(large);
    assertThat(a.listener().framesFrom(b.id()).get(0)).isEqualTo(large);
    assertThatThrownBy(() -> a.transport().send(b.id(), new byte[large.length + 1]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aConnectionNotReadPushesBackOnItsSenderUntilItIsReadAgain() throws Exception {
    Node a = nodes.start(nextId(), settings -> settings.writeHighWaterMark(256 * 1024));
    Node b = nodes.start(nextId());
    connect(a, b);
    b.transport().executor().submit(() -> b.transport().readFrom(a.id(), false)).get();

    byte[] frame = new byte[64 * 1024];
    int sent = 0;
    while (sent < 10_000 && a.transport().send(b.id(), frame)) { // socket buffers, then the mark
      sent++;
    }
    assertThat(sent).as("the sender was pushed back").isLessThan(10_000);
    int received = b.listener().frameCount(a.id());
    await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
        .until(() -> b.listener().frameCount(a.id()) == received);
    assertThat(received).isLessThan(sent);

    b.transport().executor().submit(() -> b.transport().readFrom(a.id(), true)).get();
    int all = sent;
    eventually().until(() -> b.listener().frameCount(a.id()) == all);
  }

  @Test
  void manySmallFramesArriveInOrder() {
    Node a = nodes.start(nextId());
    Node b = nodes.start(nextId());
    connect(a, b);
    int count = 20_000;

    int sent = 0;
    for (int i = 0; i < count; i++) {
      if (a.transport().send(b.id(), ByteBuffer.allocate(4).putInt(i).array())) {
        sent++;
      }
      b.transport().send(a.id(), ByteBuffer.allocate(4).putInt(i).array());
    }

    assertThat(sent).as("a fast peer never looks slow").isEqualTo(count);
    eventually().until(() -> b.listener().frameCount(a.id()) == count && a.listener().frameCount(b.id()) == count);
    assertInOrder(b.listener().framesFrom(a.id()), count);
    assertInOrder(a.listener().framesFrom(b.id()), count);
    assertThat(a.transport().stats().framesSent()).isEqualTo(count);
    assertThat(b.transport().stats().framesReceived()).isEqualTo(count);
    assertThat(b.transport().stats().bytesReceived()).isGreaterThan(8L * count);
  }

  @Test
  void simultaneousDialsKeepExactlyOneConnection() {
    for (int round = 0; round < 10; round++) {
      Node a = nodes.start(nextId());
      Node b = nodes.start(nextId());

      a.transport().connectTo(b.id(), "127.0.0.1", b.port());
      b.transport().connectTo(a.id(), "127.0.0.1", a.port());

      eventually().until(() -> a.transport().isConnected(b.id()) && b.transport().isConnected(a.id()));
      // frames sent at once must not be lost to a duplicate being closed
      for (int i = 1; i <= 50; i++) {
        assertThat(a.transport().send(b.id(), new byte[] {(byte) i})).isTrue();
        assertThat(b.transport().send(a.id(), new byte[] {(byte) i})).isTrue();
      }
      eventually().until(() -> a.listener().frameCount(b.id()) == 50 && b.listener().frameCount(a.id()) == 50);
      eventually().during(Duration.ofMillis(100)).until(() ->
          a.transport().isConnected(b.id()) && b.transport().isConnected(a.id()));
      assertThat(a.listener().events()).as("round %d", round).containsExactly("connected " + b.id());
      assertThat(b.listener().events()).as("round %d", round).containsExactly("connected " + a.id());
    }
  }

  @Test
  void restartedPeerIsRedialed() {
    Node a = nodes.start(nextId());
    long bId = nextId();
    Node b = nodes.start(bId);
    connect(a, b);

    b.transport().close();
    eventually().until(() -> a.listener().disconnects(bId) == 1);
    assertThat(a.transport().isConnected(bId)).isFalse();
    assertThat(a.transport().send(bId, new byte[] {1})).isFalse();

    Node restarted = nodes.start(bId, settings -> settings.bind("127.0.0.1", b.port()));
    eventually().until(() -> a.transport().isConnected(bId) && restarted.transport().isConnected(a.id()));
    assertThat(a.listener().events())
        .containsExactly("connected " + bId, "disconnected " + bId, "connected " + bId);
    assertExchangesFrames(a, restarted);
  }

  @Test
  void peerRedialingWhileItsOldConnectionLingersReplacesIt() throws Exception {
    Node a = nodes.start(nextId());
    long peerId = nextId(); // higher than a's: a decides which connection lives
    try (RawPeer first = new RawPeer(a.port())) {
      first.handshake(peerId, TransportFixture.CLUSTER, null);
      eventually().until(() -> a.transport().isConnected(peerId));

      // the peer believes the first connection dead and dials again (half-open on a's side)
      try (RawPeer second = new RawPeer(a.port())) {
        second.handshake(peerId, TransportFixture.CLUSTER, null);

        assertThat(first.closedByPeerWithin(Duration.ofSeconds(5))).as("old connection closed").isTrue();
        eventually().until(() -> a.listener().events().size() == 3);
        assertThat(a.listener().events())
            .containsExactly("connected " + peerId, "disconnected " + peerId, "connected " + peerId);
        second.writeFrame(new byte[] {42});
        eventually().until(() -> a.listener().frameCount(peerId) == 1);
      }
    }
  }

  @Test
  void forgottenPeerIsDisconnectedAndNotRedialed() {
    Node a = nodes.start(nextId());
    Node b = nodes.start(nextId());
    connect(a, b);

    a.transport().forget(b.id());

    eventually().until(() -> a.listener().disconnects(b.id()) == 1 && b.listener().disconnects(a.id()) == 1);
    eventually().during(Duration.ofMillis(300)).until(() -> !a.transport().isConnected(b.id()));
    assertThat(a.listener().connects(b.id())).isEqualTo(1);
  }

  @Test
  void sendWithoutConnectionReturnsFalse() {
    Node a = nodes.start(nextId());

    assertThat(a.transport().send(nextId(), new byte[] {1})).isFalse();
    assertThat(a.transport().isConnected(nextId())).isFalse();
    assertThat(a.transport().connectedPeers()).isEmpty();
  }

  /**
   * A peer that turns every connection away right after the handshake (here its listener rejects
   * the connection itself; in a cluster, a message it cannot read) is redialed ever more slowly:
   * only a connection that lasted starts the backoff over.
   */
  @Test
  void aPeerThatClosesEveryConnectionAtOnceIsRedialedEverMoreSlowly() {
    RecordingListener rejecting = new RecordingListener() {
      @Override
      public void peerConnected(long peerId) {
        super.peerConnected(peerId);
        throw new FrameRejectedException("this peer is turned away");
      }
    };
    TransportConfig rejectingConfig = TransportFixture.config(nextId()).build();
    PeerTransport rejector = new PeerTransport(rejectingConfig, rejecting);
    try {
      int port = rejector.start().getPort();
      Node a = nodes.start(nextId(), c -> c.reconnectBackoff(Duration.ofMillis(50), Duration.ofSeconds(5)));
      long start = System.nanoTime();
      a.transport().connectTo(rejectingConfig.nodeId(), "127.0.0.1", port);
      eventually().until(() -> rejecting.connects(a.id()) >= 2); // turned away, redialed

      eventually().until(() -> System.nanoTime() - start >= Duration.ofSeconds(3).toNanos());
      // 50, 100, 200, 400, 800 and 1,600 ms apart: 7 dials at most in 3 s; 30 or more at a
      // constant 50 ms (plus a handshake)
      assertThat(rejecting.connects(a.id())).isBetween(2L, 8L);
      assertThat(rejector.stats().rejectedConnections()).isGreaterThanOrEqualTo(2);
    } finally {
      rejector.close();
    }
  }

  @Test
  void slowPeerMakesSendRefuseInsteadOfBuffering() throws Exception {
    int highWaterMark = 256 * 1024;
    Node a = nodes.start(nextId(), settings -> settings.writeHighWaterMark(highWaterMark));
    long slowId = nextId();
    try (RawPeer slow = new RawPeer(a.port())) {
      slow.handshake(slowId, TransportFixture.CLUSTER, null);
      eventually().until(() -> a.transport().isConnected(slowId));

      // the slow peer reads nothing: kernel buffers fill, then the transport's own
      byte[] frame = new byte[64 * 1024];
      long accepted = 0;
      for (int i = 0; i < 4_096 && a.transport().send(slowId, frame); i++) {
        accepted += frame.length;
      }
      assertThat(a.transport().send(slowId, frame)).isFalse();
      assertThat(accepted).as("bytes accepted for a peer that reads nothing").isLessThan(64L * 1024 * 1024);
      eventually().during(Duration.ofMillis(200)).until(() -> !a.transport().send(slowId, frame));
      assertThat(a.transport().isConnected(slowId)).as("slow is not dead").isTrue();

      // once the peer reads again, sending resumes
      Thread reader = new Thread(slow::drainUntilClosed, "slow-peer-reader");
      reader.setDaemon(true);
      reader.start();
      eventually().until(() -> a.transport().send(slowId, frame));
    }
  }

  @Test
  void closeFlushesQueuedFramesReleasesThePortAndStopsThreads() throws IOException {
    Node a = nodes.start(nextId());
    Node b = nodes.start(nextId());
    connect(a, b);
    int count = 2_000;
    for (int i = 0; i < count; i++) {
      assertThat(a.transport().send(b.id(), new byte[1024])).isTrue();
    }

    a.transport().close();

    eventually().until(() -> b.listener().frameCount(a.id()) == count);
    eventually().until(() -> b.listener().disconnects(a.id()) == 1);
    assertThat(a.listener().disconnects(b.id())).as("no callbacks after close").isZero();
    eventually().until(() -> transportThreads(a.id()).isEmpty());
    try (ServerSocket rebound = new ServerSocket()) {
      rebound.setReuseAddress(true);
      rebound.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), a.port()));
    }
    assertThat(transportThreads(b.id())).allMatch(Thread::isDaemon).hasSize(2);
    // Netty 4.1 notifies event-loop termination on its non-daemon globalEventExecutor thread,
    // which stops by itself after a second without work
    eventually().until(() -> Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.isAlive()
        && !t.isDaemon() && t.getName().matches("(?i).*(netty|eventloop|globalEventExecutor|bcache).*")));
    assertThat(a.transport().send(b.id(), new byte[] {1})).isFalse();
    assertThatThrownBy(() -> a.transport().connectTo(b.id(), "127.0.0.1", b.port()))
        .isInstanceOf(IllegalStateException.class);
    a.transport().close(); // idempotent
  }

  private static List<Thread> transportThreads(long nodeId) {
    String prefix = "bcache-transport-" + HexFormat.of().toHexDigits(nodeId) + "-"; // as the MXBean shows it
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith(prefix) && t.isAlive())
        .toList();
  }

  private static void assertInOrder(List<byte[]> frames, int count) {
    assertThat(frames).hasSize(count);
    for (int i = 0; i < count; i++) {
      assertThat(ByteBuffer.wrap(frames.get(i)).getInt()).isEqualTo(i);
    }
  }
}
