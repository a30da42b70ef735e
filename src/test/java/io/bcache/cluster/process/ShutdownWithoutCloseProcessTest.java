package io.bcache.cluster.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A node whose JVM ends in an orderly way without anyone closing its CacheManager (the
 * application calls {@code System.exit}, or the process gets SIGTERM) leaves the cluster at once,
 * as a closed one does, rather than when its ZooKeeper session expires (10 s), and hands every
 * write it accepted to its peers: the provider's shutdown hook flushes and leaves.
 */
class ShutdownWithoutCloseProcessTest extends ProcessClusterTestBase {

  private static final int ENTRIES = 20_000;
  private static final Duration LEFT_WITHIN = Duration.ofSeconds(5);

  @ParameterizedTest
  @EnumSource(NodeProcess.Ending.class)
  @Timeout(180)
  void theNodeLeavesAtOnceAndEveryWriteItMadeReachesThePeers(NodeProcess.Ending ending) {
    Map<String, String> model = new HashMap<>();
    List<NodeProcess> nodes = threeNodesHolding(model, "early-", 200);
    NodeProcess a = nodes.get(0);
    NodeProcess b = nodes.get(1);
    NodeProcess c = nodes.get(2);

    putMany(a, model, "k", ENTRIES);
    assertThat(b.members()).isEqualTo(3);
    a.end(ending); // right behind the writes
    assertThat(a.isAlive()).isFalse();

    // well before the session of a's ZooKeeper client could expire
    await().atMost(LEFT_WITHIN).until(() -> b.members() == 2 && c.members() == 2);
    awaitContents(model, b, c);
  }
}
