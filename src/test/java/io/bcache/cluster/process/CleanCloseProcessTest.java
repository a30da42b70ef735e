package io.bcache.cluster.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A node that writes and then closes its CacheManager loses none of those writes. */
class CleanCloseProcessTest extends ProcessClusterTestBase {

  private static final int ENTRIES = 20_000;

  @Test
  @Timeout(180)
  void everyWriteMadeBeforeCloseReachesThePeers() {
    Map<String, String> model = new HashMap<>();
    List<NodeProcess> nodes = threeNodesHolding(model, "early-", 200);
    NodeProcess a = nodes.get(0);
    NodeProcess b = nodes.get(1);
    NodeProcess c = nodes.get(2);

    // removes, then a burst and an overwrite with close() right behind them
    for (int i = 0; i < 100; i++) {
      assertThat(a.remove("early-" + i)).isTrue();
      model.remove("early-" + i);
    }
    putMany(a, model, "k", ENTRIES);
    a.put("k7", "last-word");
    model.put("k7", "last-word");
    a.closeCleanly(); // answers only after CacheManager.close() returned; then the JVM exits 0
    assertThat(a.isAlive()).isFalse();

    awaitContents(model, b, c);
    assertThat(b.get("k7")).isEqualTo("last-word");
    assertThat(c.get("early-5")).isNull();
  }
}
