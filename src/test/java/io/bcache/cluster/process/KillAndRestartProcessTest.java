package io.bcache.cluster.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * kill -9 of one of three node processes, writes meanwhile, and a restart that catches up; and
 * kill -9 of a writer in the middle of its writes.
 */
class KillAndRestartProcessTest extends ProcessClusterTestBase {

  @Test
  @Timeout(240)
  void theSurvivorsKeepReplicatingAndARestartedNodeCatchesUp() {
    Map<String, String> model = new HashMap<>();
    List<NodeProcess> nodes = threeNodesHolding(model, "before-", 1_000);
    NodeProcess a = nodes.get(0);
    NodeProcess b = nodes.get(1);
    NodeProcess c = nodes.get(2);

    c.kill();
    assertThat(c.isAlive()).isFalse();

    // both survivors write, overwrite and remove while c is dead; nothing waits for c
    putMany(a, model, "from-a-", 1_500);
    putMany(b, model, "from-b-", 1_500);
    b.put("before-1", "rewritten-by-b");
    model.put("before-1", "rewritten-by-b");
    for (int i = 0; i < 50; i++) {
      assertThat(a.remove("before-" + (100 + i))).isTrue();
      model.remove("before-" + (100 + i));
    }
    awaitContents(model, a, b);

    // a new process, so a new node id, under a new name
    NodeProcess restarted = startNode("c-restarted");
    awaitContents(model, a, b, restarted);
    assertThat(restarted.get("before-1")).isEqualTo("rewritten-by-b");
    assertThat(restarted.get("before-120")).isNull();
    assertThat(restarted.get("from-b-1499")).isEqualTo(NodeMain.valueOf("from-b-1499"));

    // and it takes part as a writer again
    restarted.put("after-restart", "yes");
    model.put("after-restart", "yes");
    awaitContents(model, a, b, restarted);
  }

  @Test
  @Timeout(240)
  void aWriterKilledMidStreamLeavesTheSurvivorsIdenticalAndNotSyncing() {
    List<NodeProcess> nodes = threeNodesHolding(new HashMap<>(), "before-", 100);
    NodeProcess a = nodes.get(0);
    NodeProcess b = nodes.get(1);
    NodeProcess c = nodes.get(2);
    CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
      try {
        a.putMany("k", 150_000);
      } catch (RuntimeException killedMeanwhile) {
        // expected: a dies before it answers
      }
    });

    await().atMost(CONVERGE).pollInterval(Duration.ofMillis(1)).until(() -> b.count() >= 30_000);
    a.kill();
    writing.join();

    // whatever of a's writes left it, both survivors end up with the same, and say they are done
    await().atMost(CONVERGE).until(() -> b.digest().equals(c.digest()) && !b.syncing() && !c.syncing());
    assertThat(b.count()).isGreaterThanOrEqualTo(30_000 + 100);
  }
}
