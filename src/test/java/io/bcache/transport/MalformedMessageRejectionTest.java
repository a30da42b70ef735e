package io.bcache.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.bcache.cluster.InJvmCluster;
import io.bcache.jcache.management.ClusterMXBean;
import io.bcache.replication.MessageCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Properties;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.MutableConfiguration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A peer that passes the handshake and then sends a message the node cannot decode loses its
 * connection, counted as a rejection, and the node keeps replicating with its other peers.
 */
@Timeout(120)
class MalformedMessageRejectionTest {

  private static final Duration CONVERGE = Duration.ofSeconds(30);
  /** The secret {@link InJvmCluster} gives its nodes. */
  private static final byte[] SECRET = "s3cret".getBytes(StandardCharsets.UTF_8);

  private InJvmCluster cluster;

  @BeforeEach
  void startZooKeeper() throws Exception {
    cluster = InJvmCluster.start("malformed");
  }

  @AfterEach
  void stopEverything() throws Exception {
    cluster.close();
  }

  @Test
  void anAuthenticatedPeerSendingAMessageTheNodeCannotReadIsCutOff() throws Exception {
    int port = InJvmCluster.freeLoopbackPort();
    Properties bound = new Properties();
    bound.setProperty("bcache.bind", "127.0.0.1:" + port);
    CacheManager attacked = cluster.node("a", bound);
    Cache<String, String> a = attacked.createCache("c", new MutableConfiguration<String, String>());
    Cache<String, String> b = cluster.node("b").createCache("c", new MutableConfiguration<String, String>());
    ClusterMXBean bean = InJvmCluster.clusterBean(attacked);
    long rejectedBefore = bean.getRejectedConnections();

    try (RawPeer peer = new RawPeer(port)) {
      peer.handshake(0x7a11_0000_0000_0001L, cluster.name(), SECRET); // passes: the right secret
      peer.writeFrame(new byte[] {MessageCodec.PROTOCOL_VERSION, 99}); // no such message type

      // well inside the 10 s a silent peer is given before its connection is closed anyway
      assertThat(peer.closedByPeerWithin(Duration.ofSeconds(5))).as("connection closed").isTrue();
    }
    assertThat(bean.getRejectedConnections()).isGreaterThan(rejectedBefore);

    a.put("after", "1");
    b.put("from-b", "2");
    await().atMost(CONVERGE).until(() -> "1".equals(b.get("after")) && "2".equals(a.get("from-b")));
  }
}
