package io.bcache.replication.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.bcache.replication.Change;
import io.bcache.replication.CodecLimits;
import io.bcache.replication.HybridLogicalClock;
import io.bcache.replication.Message;
import io.bcache.replication.MessageCodec;
import io.bcache.replication.ReplicationConfig;
import io.bcache.replication.ReplicationCore;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Cache syncs (a cache created on a node after it processed changes for it) on cores driven by
 * hand, with no timers: whatever a sync needs must happen through messages alone.
 */
class CacheSyncTest {

  private static final long A = 1;
  private static final long B = 2;
  private static final List<String> CACHES = List.of("users", "orders");

  private final MessageCodec codec = new MessageCodec(CodecLimits.DEFAULT);
  private final ArrayDeque<Object[]> wire = new ArrayDeque<>();
  private final Map<Long, ReplicationCore> cores = new LinkedHashMap<>();
  private final Map<Long, SimReplica> replicas = new LinkedHashMap<>();
  private long now = 1_700_000_000_000L;

  /** One entry per chunk, one chunk in flight, a backlog that holds every change. */
  private final ReplicationConfig config = ReplicationConfig.DEFAULT
      .withBatching(1, 4096, 1)
      .withQueues(64, 1_000, 1L << 20, 1_000)
      .withSnapshots(1, 2);

  private void node(long id, boolean withCaches) {
    SimReplica replica = new SimReplica("node" + id);
    ReplicationCore core = new ReplicationCore(id, config, replica,
        (peer, message) -> {
          wire.addLast(new Object[] {id, peer, codec.encode(message)});
          return true;
        },
        (delay, task) -> () -> { },
        () -> now, new HybridLogicalClock(() -> now));
    cores.put(id, core);
    replicas.put(id, replica);
    if (withCaches) {
      createCaches(id);
    }
  }

  private void createCaches(long id) {
    for (String cache : CACHES) {
      replicas.get(id).createCache(cache, 1_000);
      cores.get(id).localCacheCreated(cache);
    }
  }

  private void write(long id, String cache, String key, String value) {
    now++;
    HybridLogicalClock clock = new HybridLogicalClock(() -> now);
    Change change = value == null
        ? Change.remove(cache, key.getBytes(StandardCharsets.UTF_8), clock.tick(), id)
        : Change.put(cache, key.getBytes(StandardCharsets.UTF_8),
            value.getBytes(StandardCharsets.UTF_8), clock.tick(), id, Change.ETERNAL);
    replicas.get(id).writeLocal(change);
    cores.get(id).publishLocal(change);
  }

  private void run() throws Exception {
    while (!wire.isEmpty()) {
      Object[] envelope = wire.removeFirst();
      Message message = codec.decode((byte[]) envelope[2]);
      cores.get((long) envelope[1]).onMessage((long) envelope[0], message);
    }
  }

  @Test
  void cachesCreatedTogetherAreFetchedOneAfterTheOtherFromTheSamePeer() throws Exception {
    node(A, true);
    node(B, false); // B's application creates its caches after B caught up
    for (int i = 0; i < 4; i++) {
      write(A, "users", "k" + i, "u" + i);
      write(A, "orders", "k" + i, "o" + i);
    }
    write(A, "orders", "k0", null); // a tombstone B must get from the snapshot too
    cores.get(A).peerUp(B);
    cores.get(B).peerUp(A);
    run(); // B catches up from A's backlog: every change arrives while B has no such cache
    assertThat(cores.get(B).versionVector()).containsEntry(A, 9L);

    createCaches(B); // two cache syncs, both of which only A can serve
    run();

    // A streams one snapshot per requester: had B asked for both at once, the second request
    // would have cancelled the first, which then waits for its timeout (no timers here: forever)
    for (String cache : CACHES) {
      assertThat(replicas.get(B).contents(cache)).isEqualTo(replicas.get(A).contents(cache));
    }
    assertThat(replicas.get(B).held("orders", "k0")).isNotNull(); // the tombstone
    assertThat(cores.get(B).isSyncing()).isFalse();
    assertThat(cores.get(B).metrics().snapshotsReceived()).isEqualTo(2);
    assertThat(cores.get(A).metrics().snapshotsAbandoned()).isZero();
  }
}
