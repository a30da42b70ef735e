package io.bcache.cluster.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.curator.test.TestingServer;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * A real ZooKeeper ({@link TestingServer}, 127.0.0.1) in the test JVM and bcache nodes as separate
 * JVM processes ({@link NodeProcess}); every process a test started is killed after it.
 */
abstract class ProcessClusterTestBase {

  /** How long a convergence may take on a slow, shared two-core machine. */
  static final Duration CONVERGE = Duration.ofSeconds(60);
  static final int MAX_ENTRIES = 200_000;

  TestingServer zookeeper;
  String cluster;
  private final List<NodeProcess> nodes = new ArrayList<>();

  @BeforeEach
  void startZooKeeper() throws Exception {
    zookeeper = new TestingServer(0, true);
    cluster = getClass().getSimpleName() + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  @AfterEach
  void stopEverything() throws Exception {
    try {
      for (NodeProcess node : nodes) {
        node.destroy();
      }
    } finally {
      zookeeper.close();
    }
  }

  /** Starts the nodes in parallel JVMs and waits until each has joined. */
  List<NodeProcess> startNodes(String... names) {
    List<NodeProcess> started = new ArrayList<>();
    for (String name : names) {
      started.add(launch(name));
    }
    started.forEach(NodeProcess::awaitReady);
    return started;
  }

  NodeProcess startNode(String name) {
    return launch(name).awaitReady();
  }

  /** Starts a node without waiting for it; call {@link NodeProcess#awaitReady()}. */
  NodeProcess launch(String name, String... extraArgs) {
    NodeProcess node = NodeProcess.start(zookeeper.getConnectString(), cluster, name, MAX_ENTRIES, extraArgs);
    nodes.add(node);
    return node;
  }

  static ConditionFactory awaitConvergence() {
    return await().atMost(CONVERGE).pollInSameThread().pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(500));
  }

  /** Waits until every node holds exactly {@code expected}: same count, same keys and values. */
  static void awaitContents(Map<String, String> expected, NodeProcess... nodes) {
    String digest = ContentDigest.of(expected);
    awaitConvergence().untilAsserted(() -> {
      for (NodeProcess node : nodes) {
        assertThat(node.digest()).as("contents of %s (count:sum), expecting %d entries", node, expected.size())
            .isEqualTo(digest);
      }
    });
  }

  /**
   * Nodes a, b and c, connected to each other, all holding {@code count} entries written on a
   * under {@code prefix}: where every three-node scenario starts.
   */
  List<NodeProcess> threeNodesHolding(Map<String, String> model, String prefix, int count) {
    List<NodeProcess> nodes = startMeshedNodes(model, "a", "b", "c");
    putMany(nodes.get(0), model, prefix, count);
    awaitContents(model, nodes.toArray(new NodeProcess[0]));
    return nodes;
  }

  /**
   * Starts the named nodes and waits until each sees the others' writes; the mesh keys those
   * writes leave are recorded in {@code model}.
   */
  List<NodeProcess> startMeshedNodes(Map<String, String> model, String... names) {
    List<NodeProcess> nodes = startNodes(names);
    awaitMesh(nodes.toArray(new NodeProcess[0]));
    nodes.forEach(node -> model.put("mesh-" + node.name(), "up"));
    return nodes;
  }

  /** Makes sure every node sees writes of every other one before a test's real work begins. */
  static void awaitMesh(NodeProcess... nodes) {
    for (NodeProcess writer : nodes) {
      writer.put("mesh-" + writer.name(), "up");
    }
    awaitConvergence().untilAsserted(() -> {
      for (NodeProcess reader : nodes) {
        for (NodeProcess writer : nodes) {
          assertThat(reader.get("mesh-" + writer.name())).as("%s sees the write of %s", reader, writer)
              .isEqualTo("up");
        }
      }
    });
  }

  /** Records in {@code model} what {@code putmany prefix count} writes. */
  static void putMany(NodeProcess node, Map<String, String> model, String prefix, int count) {
    node.putMany(prefix, count);
    for (int i = 0; i < count; i++) {
      String key = prefix + i;
      model.put(key, NodeMain.valueOf(key));
    }
  }

  static String describe(NodeProcess... nodes) {
    return Arrays.toString(nodes);
  }
}
