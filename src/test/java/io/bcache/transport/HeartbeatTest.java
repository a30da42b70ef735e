package io.bcache.transport;

import static io.bcache.transport.TransportFixture.assertExchangesFrames;
import static io.bcache.transport.TransportFixture.connect;
import static io.bcache.transport.TransportFixture.eventually;
import static io.bcache.transport.TransportFixture.nextId;
import static org.assertj.core.api.Assertions.assertThat;

import io.bcache.transport.TransportFixture.Node;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateEvent;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HeartbeatTest {

  private final TransportFixture nodes = new TransportFixture();

  @AfterEach
  void closeNodes() {
    nodes.close();
  }

  private static TransportConfig.Builder fastHeartbeat(TransportConfig.Builder settings) {
    return settings.heartbeat(Duration.ofMillis(50), Duration.ofMillis(250));
  }

  @Test
  void quietConnectionStaysUp() {
    Node a = nodes.start(nextId(), HeartbeatTest::fastHeartbeat);
    Node b = nodes.start(nextId(), HeartbeatTest::fastHeartbeat);
    connect(a, b);

    eventually().during(Duration.ofMillis(750)).until(() ->
        a.transport().isConnected(b.id()) && b.transport().isConnected(a.id()));
    assertThat(a.listener().events()).containsExactly("connected " + b.id());
    assertThat(b.listener().frameCount(a.id())).as("heartbeats are not frames").isZero();
  }

  @Test
  void silentPeerIsDisconnected() throws Exception {
    Node a = nodes.start(nextId(), HeartbeatTest::fastHeartbeat);
    long silentId = nextId();
    try (RawPeer silent = new RawPeer(a.port())) {
      silent.handshake(silentId, TransportFixture.CLUSTER, null);
      eventually().until(() -> a.transport().isConnected(silentId));

      // it reads (so it is not merely slow) but never writes
      eventually().until(() -> a.listener().disconnects(silentId) == 1);

      assertThat(silent.closedByPeerWithin(Duration.ofSeconds(5))).isTrue();
    }
  }

  @Test
  void theFirstIdleCheckAfterReadingResumesIsNotHeldAgainstThePeer() {
    EmbeddedChannel channel = new EmbeddedChannel(new Heartbeat(Duration.ofMillis(250)));
    channel.config().setAutoRead(false);
    channel.pipeline().fireUserEventTriggered(IdleStateEvent.READER_IDLE_STATE_EVENT);
    assertThat(channel.isOpen()).as("not read: silent by choice").isTrue();

    // reading resumes; the check may come before what waited in the socket is read
    channel.config().setAutoRead(true);
    channel.pipeline().fireUserEventTriggered(IdleStateEvent.READER_IDLE_STATE_EVENT);
    assertThat(channel.isOpen()).as("just resumed").isTrue();

    channel.pipeline().fireUserEventTriggered(IdleStateEvent.READER_IDLE_STATE_EVENT);
    assertThat(channel.isOpen()).as("a whole timeout since, and still nothing").isFalse();
  }

  @Test
  void aConnectionThisNodeStoppedReadingIsNotTakenForDead() throws Exception {
    Node a = nodes.start(nextId(), HeartbeatTest::fastHeartbeat);
    Node b = nodes.start(nextId(), HeartbeatTest::fastHeartbeat);
    connect(a, b);
    b.transport().executor().submit(() -> b.transport().readFrom(a.id(), false)).get();

    // several idle timeouts without reading a's heartbeats
    eventually().during(Duration.ofMillis(750)).until(() ->
        a.transport().isConnected(b.id()) && b.transport().isConnected(a.id()));
    assertThat(b.listener().events()).containsExactly("connected " + a.id());

    b.transport().executor().submit(() -> b.transport().readFrom(a.id(), true)).get();
    assertExchangesFrames(a, b);
  }
}
