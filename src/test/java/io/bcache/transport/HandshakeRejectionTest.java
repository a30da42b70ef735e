package io.bcache.transport;

import static io.bcache.transport.TransportFixture.assertExchangesFrames;
import static io.bcache.transport.TransportFixture.connect;
import static io.bcache.transport.TransportFixture.eventually;
import static io.bcache.transport.TransportFixture.nextId;
import static org.assertj.core.api.Assertions.assertThat;

import io.bcache.transport.TransportFixture.Node;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every way a connection can be wrong is rejected and closed, and the node goes on serving
 * correctly configured peers.
 */
class HandshakeRejectionTest {

  private static final String SECRET = "correct horse battery staple";
  private static final Duration CLOSED_WITHIN = Duration.ofSeconds(5);

  private final TransportFixture nodes = new TransportFixture();
  private Node node;

  @BeforeEach
  void startNode() {
    node = nodes.start(nextId(), this::secured);
  }

  @AfterEach
  void closeNodes() {
    nodes.close();
  }

  private TransportConfig.Builder secured(TransportConfig.Builder settings) {
    return settings.secret(SECRET).handshakeTimeout(Duration.ofMillis(300));
  }

  @Test
  void correctPeerIsAccepted() {
    assertStillServes();
    assertThat(node.transport().stats().rejectedConnections()).isZero();
  }

  @Test
  void anAddressNowHeldByAnotherNodeIsNotCountedAsARejection() {
    long gone = nextId(); // the node that was at this address
    Node dialer = nodes.start(nextId(), this::secured);

    dialer.transport().connectTo(gone, "127.0.0.1", node.port());

    // it reaches the node there now, and both see it is not the one dialed, and close:
    // redialing with backoff until told to forget it, as the membership does for a member gone
    long hello = 4 + hello(gone, TransportFixture.CLUSTER).length;
    eventually().until(() -> node.transport().stats().bytesReceived() >= 2 * hello); // it dialed again
    dialer.transport().forget(gone);
    assertThat(dialer.transport().stats().rejectedConnections()).isZero();
    assertThat(node.transport().stats().rejectedConnections()).isZero();
    assertThat(dialer.listener().events()).isEmpty();
    assertThat(node.listener().events()).isEmpty();
    assertStillServes();
  }

  /**
   * Without a secret nothing else stops the node dialed from completing such a connection, and
   * it then replaced the live connection from the same dialer: every redial of the old id cut
   * the two nodes apart.
   */
  @Test
  void redialsOfAnIdNoLongerAtAnAddressLeaveTheLiveConnectionAlone() {
    Node open = nodes.start(nextId());
    Node dialer = nodes.start(nextId());
    connect(dialer, open);
    long gone = nextId();

    dialer.transport().connectTo(gone, "127.0.0.1", open.port());

    eventually().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10)).until(() ->
        open.listener().disconnects(dialer.id()) == 0 && dialer.listener().disconnects(open.id()) == 0);
    dialer.transport().forget(gone);
    assertThat(open.transport().stats().rejectedConnections()).isZero();
    assertExchangesFrames(dialer, open);
  }

  @Test
  void wrongSecretIsRejected() {
    assertMisconfiguredPeerRejected(nodes.start(nextId(), settings -> settings.secret("wrong")));
  }

  @Test
  void missingSecretIsRejected() {
    assertMisconfiguredPeerRejected(nodes.start(nextId()));
  }

  @Test
  void nodeWithoutSecretRejectsPeerWithOne() {
    Node open = nodes.start(nextId());
    Node secured = nodes.start(nextId(), this::secured);

    secured.transport().connectTo(open.id(), "127.0.0.1", open.port());

    eventually().until(() -> open.transport().stats().rejectedConnections() >= 1);
    secured.transport().forget(open.id());
    assertThat(open.listener().events()).isEmpty();
    assertThat(secured.listener().events()).isEmpty();
  }

  @Test
  void wrongClusterIsRejected() {
    long id = nextId();
    Node stranger = nodes.start(TransportConfig.builder(id, "another-cluster").secret(SECRET)
        .bind("127.0.0.1", 0).reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200)).build());
    assertMisconfiguredPeerRejected(stranger);
  }

  @Test
  void garbageStreamIsRejected() throws Exception {
    assertRawPeerRejected(peer -> peer.writeRaw(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
  }

  @Test
  void wellFramedGarbageIsRejected() throws Exception {
    assertRawPeerRejected(peer -> peer.writeFrame("not a bcache hello".getBytes(StandardCharsets.US_ASCII)));
  }

  @Test
  void truncatedHelloIsRejected() throws Exception {
    byte[] hello = hello(nextId(), TransportFixture.CLUSTER);
    assertRawPeerRejected(peer -> peer.writeFrame(Arrays.copyOf(hello, hello.length - 1)));
  }

  @Test
  void wrongProtocolVersionIsRejected() throws Exception {
    byte[] hello = hello(nextId(), TransportFixture.CLUSTER);
    hello[5] = 99;
    assertRawPeerRejected(peer -> peer.writeFrame(hello));
  }

  @Test
  void ownNodeIdIsRejected() throws Exception {
    assertRawPeerRejected(peer -> peer.writeFrame(hello(node.id(), TransportFixture.CLUSTER)));
  }

  @Test
  void forgedProofIsRejected() throws Exception {
    assertRawPeerRejected(peer -> {
      peer.writeFrame(hello(nextId(), TransportFixture.CLUSTER));
      peer.writeFrame(new byte[Proof.BYTES]);
    });
  }

  /**
   * A stranger connects to two nodes, hands each the other's HELLO and relays whatever they send:
   * each node takes the other for the dialer, so neither proves anything until it has checked
   * a proof the other will never send first.
   */
  @Test
  void aStrangerRelayingTwoNodesProofsPassesAsNeither() throws Exception {
    Node other = nodes.start(nextId(), this::secured);
    try (RawPeer toNode = new RawPeer(node.port()); RawPeer toOther = new RawPeer(other.port())) {
      byte[] nodeHello = toNode.readFrame();
      byte[] otherHello = toOther.readFrame();
      toNode.writeFrame(otherHello);
      toOther.writeFrame(nodeHello);
      toNode.relayFramesTo(toOther);
      toOther.relayFramesTo(toNode);

      eventually().until(() -> node.transport().stats().rejectedConnections() == 1
          && other.transport().stats().rejectedConnections() == 1);
    }
    assertThat(node.listener().events()).isEmpty();
    assertThat(other.listener().events()).isEmpty();
    assertStillServes();
  }

  @Test
  void frameDeclaringOneGibibyteBeforeHandshakeIsRejected() throws Exception {
    assertRawPeerRejected(peer -> peer.writeRaw(ByteBuffer.allocate(4).putInt(1 << 30).array()));
  }

  @Test
  void frameDeclaringOneGibibyteAfterHandshakeIsRejected() throws Exception {
    long id = nextId();
    try (RawPeer peer = new RawPeer(node.port())) {
      peer.handshake(id, TransportFixture.CLUSTER, SECRET.getBytes(StandardCharsets.UTF_8));
      eventually().until(() -> node.transport().isConnected(id));

      peer.writeRaw(ByteBuffer.allocate(4).putInt(1 << 30).array());

      assertThat(peer.closedByPeerWithin(CLOSED_WITHIN)).isTrue();
    }
    eventually().until(() -> node.listener().disconnects(id) == 1);
    assertThat(node.transport().stats().rejectedConnections()).isEqualTo(1);
    assertStillServes();
  }

  @Test
  void framesArrivingWithARefusedOneAreNotDelivered() throws Exception {
    long id = nextId();
    try (RawPeer peer = new RawPeer(node.port())) {
      peer.handshake(id, TransportFixture.CLUSTER, SECRET.getBytes(StandardCharsets.UTF_8));
      eventually().until(() -> node.transport().isConnected(id));
      byte[] refused = RecordingListener.REFUSED;
      byte[] next = {9, 9};
      // one write, so the node reads both frames at once
      peer.writeRaw(ByteBuffer.allocate(4 + refused.length + 4 + next.length)
          .putInt(refused.length).put(refused).putInt(next.length).put(next).array());

      assertThat(peer.closedByPeerWithin(CLOSED_WITHIN)).isTrue();
    }
    eventually().until(() -> node.listener().disconnects(id) == 1);
    assertThat(node.listener().frameCount(id)).isZero();
    assertThat(node.transport().stats().rejectedConnections()).isEqualTo(1);
  }

  @Test
  void aHostHoldsOnlySoManyHandshakesOpenAtOnce() throws Exception {
    Node patient = nodes.start(nextId(),
        settings -> settings.secret(SECRET).handshakeTimeout(Duration.ofSeconds(30)));
    List<RawPeer> silent = new ArrayList<>();
    try {
      for (int i = 0; i < HandshakeAdmission.MAX_PER_ADDRESS; i++) {
        silent.add(new RawPeer(patient.port()));
      }
      for (RawPeer peer : silent) {
        peer.readFrame(); // the node's HELLO: it accepted this one and waits for the handshake
      }

      try (RawPeer oneTooMany = new RawPeer(patient.port())) {
        assertThat(oneTooMany.closedByPeerWithin(CLOSED_WITHIN)).as("closed at once").isTrue();
      }
      assertThat(patient.transport().stats().rejectedConnections()).isEqualTo(1);
    } finally {
      for (RawPeer peer : silent) {
        peer.close();
      }
    }
    // the slots free as the silent ones go: a real peer from the same host gets in
    Node good = nodes.start(nextId(), this::secured);
    connect(good, patient);
    assertExchangesFrames(good, patient);
  }

  @Test
  void silentClientIsClosedAfterTheHandshakeTimeout() throws Exception {
    assertRawPeerRejected(peer -> { });
  }

  private void assertMisconfiguredPeerRejected(Node misconfigured) {
    misconfigured.transport().connectTo(node.id(), "127.0.0.1", node.port());

    // the node rejects the dialer's hello or proof; the dialer, which proves first, may reject
    // the node's hello too (a moment later) or see only its connection closed
    eventually().until(() -> node.transport().stats().rejectedConnections() >= 1);
    misconfigured.transport().forget(node.id());
    assertThat(node.listener().events()).isEmpty();
    assertThat(misconfigured.listener().events()).isEmpty();
    assertStillServes();
  }

  private void assertRawPeerRejected(RawAction misbehaviour) throws Exception {
    try (RawPeer peer = new RawPeer(node.port())) {
      misbehaviour.apply(peer);
      assertThat(peer.closedByPeerWithin(CLOSED_WITHIN)).as("closed by the node").isTrue();
    }
    eventually().until(() -> node.transport().stats().rejectedConnections() == 1);
    assertThat(node.listener().events()).isEmpty();
    assertStillServes();
  }

  /** A correctly configured peer still connects and exchanges frames. */
  private void assertStillServes() {
    Node good = nodes.start(nextId(), this::secured);
    connect(good, node);
    assertExchangesFrames(good, node);
  }

  private static byte[] hello(long nodeId, String cluster) {
    byte[] nonce = new byte[Hello.NONCE_BYTES];
    return new Hello(Hello.PROTOCOL_VERSION, true, cluster, nodeId, 0, nonce).encode();
  }

  @FunctionalInterface
  private interface RawAction {
    void apply(RawPeer peer) throws Exception;
  }
}
