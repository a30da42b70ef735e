package io.bcache.transport;

import static io.bcache.transport.TransportFixture.assertExchangesFrames;
import static io.bcache.transport.TransportFixture.connect;
import static io.bcache.transport.TransportFixture.eventually;
import static io.bcache.transport.TransportFixture.nextId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bcache.transport.TransportFixture.Node;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Mutual TLS between peers: nodes holding the cluster's certificate talk, encrypted; a node
 * without TLS, a node whose certificate is not trusted, and plaintext bytes are each rejected
 * on that connection alone, and the node goes on serving good peers.
 */
class TlsTransportTest {

  private static final String SECRET = "correct horse battery staple";
  private static final Duration CLOSED_WITHIN = Duration.ofSeconds(5);
  private static final byte[] MARKER = "a value no eavesdropper may read".getBytes(StandardCharsets.US_ASCII);

  private final TransportFixture nodes = new TransportFixture();
  private final TestKeyStores stores = TestKeyStores.get();
  private Node node;

  @BeforeEach
  void startNode() {
    node = nodes.start(nextId(), this::tls);
  }

  @AfterEach
  void closeNodes() {
    nodes.close();
  }

  private TransportConfig.Builder tls(TransportConfig.Builder settings) {
    return settings.tls(stores.clusterTls()).secret(SECRET).handshakeTimeout(Duration.ofSeconds(2));
  }

  @Test
  void nodesHoldingTheClusterCertificateConnect() {
    assertStillServes();
    assertThat(node.transport().stats().rejectedConnections()).isZero();
  }

  @Test
  void aTrustStoreOfItsOwnWorksToo() {
    Node separate = nodes.start(nextId(), settings -> tls(settings).tls(PeerTls.fromKeyStores(stores.cluster(),
        password(), stores.clusterTrust(), password())));
    connect(separate, node);
    assertExchangesFrames(separate, node);
  }

  @Test
  void aNodeWithoutTlsIsRejected() {
    Node plain = nodes.start(nextId(), settings -> settings.secret(SECRET));
    assertDialRejected(plain, node, node);
  }

  @Test
  void aNodeWithoutTlsRejectsATlsNode() {
    Node plain = nodes.start(nextId(), settings -> settings.secret(SECRET));
    assertDialRejected(node, plain, plain);
  }

  @Test
  void anUntrustedCertificateIsRejectedWhicheverSideDials() {
    // the rogue trusts the cluster's certificate; the cluster does not trust the rogue's
    Node rogue = nodes.start(nextId(), settings -> tls(settings).tls(stores.rogueTls()));
    assertDialRejected(rogue, node, node);
    assertDialRejected(node, rogue, node);
  }

  /**
   * {@code dialer} dials {@code target}; {@code rejecting} counts the rejection, neither side
   * reports the peer, and the node under test still serves good peers.
   */
  private void assertDialRejected(Node dialer, Node target, Node rejecting) {
    long before = rejecting.transport().stats().rejectedConnections();
    List<String> dialerHeard = List.copyOf(dialer.listener().events());
    List<String> targetHeard = List.copyOf(target.listener().events());
    dialer.transport().connectTo(target.id(), "127.0.0.1", target.port());

    eventually().until(() -> rejecting.transport().stats().rejectedConnections() > before);
    dialer.transport().forget(target.id());
    assertThat(dialer.listener().events()).isEqualTo(dialerHeard);
    assertThat(target.listener().events()).isEqualTo(targetHeard);
    assertStillServes();
  }

  @Test
  void plaintextOnATlsPortIsRejected() throws Exception {
    try (RawPeer peer = new RawPeer(node.port())) {
      // a bcache hello in the clear, as a node without TLS sends it
      peer.writeFrame(new Hello(Hello.PROTOCOL_VERSION, true, TransportFixture.CLUSTER, nextId(), 0,
          new byte[Hello.NONCE_BYTES]).encode());
      assertThat(peer.closedByPeerWithin(CLOSED_WITHIN)).as("closed by the node").isTrue();
    }
    eventually().until(() -> node.transport().stats().rejectedConnections() == 1);
    assertThat(node.listener().events()).isEmpty();
    assertStillServes();
  }

  @Test
  void theWireCarriesNoPlaintext() throws Exception {
    byte[] wire = relayedBytes(this::tls);
    assertThat(wire).hasSizeGreaterThan(2 * MARKER.length);
    assertThat(holds(wire, MARKER)).as("the marker is on the wire").isFalse();
  }

  @Test
  void withoutTlsTheSameRelaySeesTheFrames() throws Exception {
    // the control for the test above: the marker would be seen if it travelled in the clear
    Node plainNode = nodes.start(nextId(), settings -> settings.secret(SECRET));
    assertThat(holds(relayedBytes(plainNode, settings -> settings.secret(SECRET)), MARKER)).isTrue();
  }

  @Test
  void storesThatCannotServeFailNamingTheFile() throws Exception {
    Path missing = stores.cluster().resolveSibling("missing.p12");
    assertThatThrownBy(() -> PeerTls.fromKeyStores(missing, password(), null, null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("missing.p12");
    assertThatThrownBy(() -> PeerTls.fromKeyStores(stores.cluster(), "wrong".toCharArray(), null, null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cluster.p12");
    assertThatThrownBy(() -> PeerTls.fromKeyStores(stores.clusterTrust(), password(), null, null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds no private key");
    Path empty = stores.cluster().resolveSibling("empty-" + System.nanoTime() + ".p12");
    KeyStore none = KeyStore.getInstance("PKCS12");
    none.load(null, null);
    try (OutputStream out = Files.newOutputStream(empty)) {
      none.store(out, password());
    }
    assertThatThrownBy(() -> PeerTls.fromKeyStores(stores.cluster(), password(), empty, password()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds no certificate");
    Files.delete(empty);
  }

  private byte[] relayedBytes(UnaryOperator<TransportConfig.Builder> settings) throws Exception {
    return relayedBytes(node, settings);
  }

  /** Connects a new node to {@code target} through a relay, sends the marker both ways. */
  private byte[] relayedBytes(Node target, UnaryOperator<TransportConfig.Builder> settings) throws Exception {
    try (LoopbackRelay relay = new LoopbackRelay(target.port())) {
      Node dialer = nodes.start(nextId(), settings);
      dialer.transport().connectTo(target.id(), "127.0.0.1", relay.port());
      eventually().until(() -> dialer.transport().isConnected(target.id()) && target.transport().isConnected(dialer.id()));
      assertThat(dialer.transport().send(target.id(), MARKER)).isTrue();
      assertThat(target.transport().send(dialer.id(), MARKER)).isTrue();
      eventually().until(() -> target.listener().frameCount(dialer.id()) == 1
          && dialer.listener().frameCount(target.id()) == 1);
      assertThat(target.listener().framesFrom(dialer.id()).get(0)).containsExactly(MARKER);
      return relay.seen();
    }
  }

  /** A good peer still connects and exchanges frames. */
  private void assertStillServes() {
    Node good = nodes.start(nextId(), this::tls);
    connect(good, node);
    assertExchangesFrames(good, node);
  }

  private static boolean holds(byte[] bytes, byte[] sequence) {
    outer:
    for (int i = 0; i + sequence.length <= bytes.length; i++) {
      for (int j = 0; j < sequence.length; j++) {
        if (bytes[i + j] != sequence[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  private static char[] password() {
    return TestKeyStores.PASSWORD.toCharArray();
  }
}
