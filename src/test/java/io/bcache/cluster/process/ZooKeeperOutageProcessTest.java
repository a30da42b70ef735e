package io.bcache.cluster.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * ZooKeeper stopped under a running cluster of three node processes: they keep replicating to
 * each other; once it is back, a new node joins and catches up.
 */
class ZooKeeperOutageProcessTest extends ProcessClusterTestBase {

  /** Longer than the nodes' 10 s ZooKeeper session, so their sessions are lost, not just suspended. */
  private static final Duration OUTAGE = Duration.ofSeconds(15);

  @Test
  @Timeout(240)
  void theNodesReplicateWithoutZooKeeperAndANewNodeJoinsOnceItIsBack() throws Exception {
    Map<String, String> model = new HashMap<>();
    List<NodeProcess> nodes = threeNodesHolding(model, "before-", 500);
    NodeProcess a = nodes.get(0);
    NodeProcess b = nodes.get(1);
    NodeProcess c = nodes.get(2);

    zookeeper.stop();
    long stoppedAt = System.nanoTime();
    putMany(a, model, "down-a-", 1_000);
    putMany(b, model, "down-b-", 1_000);
    c.put("before-1", "written-by-c-without-zookeeper");
    model.put("before-1", "written-by-c-without-zookeeper");
    assertThat(c.remove("before-2")).isTrue();
    model.remove("before-2");
    awaitContents(model, a, b, c);
    // keep writing on every node while ZooKeeper stays away past the session timeout
    AtomicInteger round = new AtomicInteger();
    await().atMost(OUTAGE.plusSeconds(60)).pollInSameThread().pollInterval(Duration.ofMillis(500))
        .until(() -> {
          int r = round.getAndIncrement();
          putMany(nodes.get(r % 3), model, "outage-" + r + "-", 50);
          return System.nanoTime() - stoppedAt >= OUTAGE.toNanos();
        });
    awaitContents(model, a, b, c); // still without ZooKeeper

    zookeeper.restart();
    NodeProcess d = startNode("d");
    awaitContents(model, a, b, c, d);
    assertThat(d.get("before-1")).isEqualTo("written-by-c-without-zookeeper");

    // the membership is whole again: the new node's writes reach the old ones, and theirs reach it
    d.put("from-d", "after-restart");
    model.put("from-d", "after-restart");
    putMany(a, model, "after-a-", 200);
    awaitContents(model, a, b, c, d);

    // the sessions the nodes lost are restored by the restarted server and expire there one
    // session timeout later, with their ephemeral registrations: keep writing through that
    long restartedAt = System.nanoTime();
    List<NodeProcess> four = List.of(a, b, c, d);
    AtomicInteger later = new AtomicInteger();
    await().atMost(OUTAGE.plusSeconds(60)).pollInSameThread().pollInterval(Duration.ofMillis(500))
        .until(() -> {
          int r = later.getAndIncrement();
          putMany(four.get(r % 4), model, "later-" + r + "-", 50);
          return System.nanoTime() - restartedAt >= OUTAGE.toNanos();
        });
    awaitContents(model, a, b, c, d);
    NodeProcess e = startNode("e");
    e.put("from-e", "last");
    model.put("from-e", "last");
    awaitContents(model, a, b, c, d, e);
  }
}
