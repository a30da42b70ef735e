package io.bcache.cluster.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A node process that joins late receives the full state: 100,000 entries. */
class LateJoinerProcessTest extends ProcessClusterTestBase {

  private static final int ENTRIES = 100_000;

  @Test
  @Timeout(240)
  void aLateJoinerReceivesOneHundredThousandEntries() {
    List<NodeProcess> nodes = startNodes("a", "b");
    NodeProcess a = nodes.get(0);
    NodeProcess b = nodes.get(1);
    Map<String, String> model = new HashMap<>();
    awaitMesh(a, b);
    model.put("mesh-a", "up");
    model.put("mesh-b", "up");

    putMany(a, model, "k", ENTRIES - 2);
    assertThat(model).hasSize(ENTRIES);
    awaitContents(model, a, b);

    NodeProcess late = startNode("late");
    awaitContents(model, a, b, late);
    assertThat(late.count()).isEqualTo(ENTRIES);
    assertThat(late.get("k0")).isEqualTo(NodeMain.valueOf("k0"));
    assertThat(late.get("k54321")).isEqualTo(NodeMain.valueOf("k54321"));
    assertThat(late.get("k" + (ENTRIES - 3))).isEqualTo(NodeMain.valueOf("k" + (ENTRIES - 3)));
  }
}
