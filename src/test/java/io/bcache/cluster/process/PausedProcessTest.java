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
 * A node process frozen with SIGSTOP (every socket stays open, nothing answers) while the others
 * keep writing, then SIGCONT: it converges on the same contents as the others.
 */
class PausedProcessTest extends ProcessClusterTestBase {

  /** Below the 10 s heartbeat idle timeout and the 10 s ZooKeeper session: nobody notices. */
  private static final Duration SHORT_PAUSE = Duration.ofSeconds(3);
  /** Past the idle timeout and the ZooKeeper session: the peers drop it, and it must resync. */
  private static final Duration LONG_PAUSE = Duration.ofSeconds(15);

  @Test
  @Timeout(180)
  void aShortlyPausedNodeCatchesUp() {
    pauseWhileOthersWrite(SHORT_PAUSE);
  }

  @Test
  @Timeout(180)
  void aNodePausedPastTheIdleTimeoutCatchesUp() {
    pauseWhileOthersWrite(LONG_PAUSE);
  }

  private void pauseWhileOthersWrite(Duration pause) {
    Map<String, String> model = new HashMap<>();
    List<NodeProcess> nodes = threeNodesHolding(model, "before-", 500);
    NodeProcess a = nodes.get(0);
    NodeProcess b = nodes.get(1);
    NodeProcess c = nodes.get(2);

    c.pause();
    long pausedAt = System.nanoTime();
    putMany(a, model, "paused-a-", 1_500);
    putMany(b, model, "paused-b-", 1_500);
    for (int i = 0; i < 100; i++) {
      String key = "before-" + (i * 3);
      assertThat(b.remove(key)).isTrue();
      model.remove(key);
    }
    a.put("before-1", "overwritten-while-c-sleeps");
    model.put("before-1", "overwritten-while-c-sleeps");
    // keep writing, a batch every half second, for as long as the pause is meant to last
    AtomicInteger round = new AtomicInteger();
    await().atMost(pause.plusSeconds(60)).pollInSameThread().pollInterval(Duration.ofMillis(500))
        .until(() -> {
          int r = round.getAndIncrement();
          putMany(r % 2 == 0 ? a : b, model, "round-" + r + "-", 100);
          return System.nanoTime() - pausedAt >= pause.toNanos();
        });
    c.resume();

    awaitContents(model, a, b, c);
    assertThat(c.get("before-1")).isEqualTo("overwritten-while-c-sleeps");
    assertThat(c.get("before-3")).isNull();

    // and the resumed node replicates its own writes again
    c.put("after-resume", "yes");
    model.put("after-resume", "yes");
    awaitContents(model, a, b, c);
  }
}
