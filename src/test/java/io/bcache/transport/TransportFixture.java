package io.bcache.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;

/** Starts transports on 127.0.0.1 for a test and closes them all afterwards. */
final class TransportFixture implements AutoCloseable {

  static final String CLUSTER = "test-cluster";
  private static final AtomicLong NEXT_ID = new AtomicLong(1_000);

  private final List<PeerTransport> transports = new ArrayList<>();

  static long nextId() {
    return NEXT_ID.getAndIncrement();
  }

  /** Awaitility, polling fast, never longer than ten seconds. */
  static ConditionFactory eventually() {
    return Awaitility.await().pollInterval(Duration.ofMillis(10)).atMost(Duration.ofSeconds(10));
  }

  static TransportConfig.Builder config(long nodeId) {
    return TransportConfig.builder(nodeId, CLUSTER)
        .bind("127.0.0.1", 0)
        .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200));
  }

  Node start(long nodeId) {
    return start(nodeId, UnaryOperator.identity());
  }

  Node start(long nodeId, UnaryOperator<TransportConfig.Builder> settings) {
    return start(settings.apply(config(nodeId)).build());
  }

  Node start(TransportConfig config) {
    RecordingListener listener = new RecordingListener();
    PeerTransport transport = new PeerTransport(config, listener);
    transports.add(transport);
    int port = transport.start().getPort();
    return new Node(config.nodeId(), port, transport, listener);
  }

  /** Connects {@code a} to {@code b} and waits until both see the connection. */
  static void connect(Node a, Node b) {
    a.transport().connectTo(b.id(), "127.0.0.1", b.port());
    eventually().until(() -> a.transport().isConnected(b.id()) && b.transport().isConnected(a.id()));
  }

  /** Sends a frame each way and waits for both to arrive: the pair really works. */
  static void assertExchangesFrames(Node a, Node b) {
    int fromA = b.listener().frameCount(a.id());
    int fromB = a.listener().frameCount(b.id());
    assertThat(a.transport().send(b.id(), new byte[] {1, 2, 3})).isTrue();
    assertThat(b.transport().send(a.id(), new byte[] {4, 5})).isTrue();
    eventually().until(() -> b.listener().frameCount(a.id()) == fromA + 1
        && a.listener().frameCount(b.id()) == fromB + 1);
    assertThat(b.listener().framesFrom(a.id()).get(fromA)).containsExactly(1, 2, 3);
    assertThat(a.listener().framesFrom(b.id()).get(fromB)).containsExactly(4, 5);
  }

  @Override
  public void close() {
    transports.forEach(PeerTransport::close);
  }

  /** A started transport and what its listener heard. */
  record Node(long id, int port, PeerTransport transport, RecordingListener listener) {
  }
}
