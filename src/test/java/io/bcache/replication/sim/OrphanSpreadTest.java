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
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Full snapshots on cores driven by hand. The orphan mechanism: a full snapshot is abandoned after
 * it applied entries whose only holder then crashes, and those entries still reach the third
 * node, also when the third node first met a node that did not have their cache. And a cache
 * created on the joining node while its full snapshot runs still gets the entries that arrived
 * before it existed: held until then, or fetched again past their bound.
 */
class OrphanSpreadTest {

  private static final long A = 1;
  private static final long B = 2;
  private static final long C = 3;
  private static final long D = 4;
  private static final String CACHE = "users";

  private final MessageCodec codec = new MessageCodec(CodecLimits.DEFAULT);
  private final ArrayDeque<Object[]> wire = new ArrayDeque<>();
  private final Map<Long, ReplicationCore> cores = new LinkedHashMap<>();
  private final Map<Long, SimReplica> replicas = new LinkedHashMap<>();
  private final Set<Long> crashed = new HashSet<>();
  /** Each node's next anti-entropy round, armed by the core's start. */
  private final Map<Long, Runnable> antiEntropy = new HashMap<>();
  private long now = 1_700_000_000_000L;
  /** The bound of the caches that nodes created from now on hold. */
  private int maxEntries = 1_000;

  /** One entry per chunk, one chunk in flight, a backlog of two changes. */
  private ReplicationConfig config = ReplicationConfig.DEFAULT
      .withBatching(1, 4096, 1)
      .withQueues(64, 2, 1L << 20, 16)
      .withSnapshots(1, 2);

  private void node(long id) {
    node(id, true);
  }

  private void node(long id, boolean withCache) {
    SimReplica replica = new SimReplica("node" + id);
    if (withCache) {
      replica.createCache(CACHE, maxEntries);
    }
    ReplicationCore core = new ReplicationCore(id, config, replica,
        (peer, message) -> {
          // through the codec, as on a real link; new messages queue behind those in flight
          wire.addLast(new Object[] {id, peer, codec.encode(message)});
          return true;
        },
        (delay, task) -> {
          // no timers: every step below is driven by messages, or by an anti-entropy round run
          // by hand
          if (delay == config.antiEntropyMillis()) {
            antiEntropy.put(id, task);
          }
          return () -> { };
        },
        () -> now, new HybridLogicalClock(() -> now));
    if (withCache) {
      core.localCacheCreated(CACHE);
    }
    core.start();
    cores.put(id, core);
    replicas.put(id, replica);
  }

  /** Runs a node's next anti-entropy round: it sends its digest to every peer. */
  private void antiEntropyRound(long id) {
    antiEntropy.remove(id).run();
  }

  /**
   * B keeps three of A's six entries from a full snapshot that is abandoned when A crashes:
   * orphans, which B alone holds, and an orphan event of B's own.
   */
  private void orphansOnBAlone() throws Exception {
    node(A);
    node(B);
    for (int i = 0; i < 6; i++) {
      write(A, "k" + i, "v" + i);
    }
    connect(A, B);
    run(3);
    crashed.add(A);
    cores.get(B).peerDown(A);
  }

  /** The node's application closes the cache and creates it again, and its core hears of it. */
  private void createAgain(long id) {
    replicas.get(id).dropCache(CACHE);
    replicas.get(id).createCache(CACHE, 1_000);
    cores.get(id).localCacheCreated(CACHE);
  }

  /** Runs an anti-entropy round on each node, then delivers everything, {@code rounds} times. */
  private void antiEntropyRounds(int rounds, long... ids) throws Exception {
    for (int round = 0; round < rounds; round++) {
      for (long id : ids) {
        antiEntropyRound(id);
      }
      run(-1);
    }
  }

  private void connect(long a, long b) {
    cores.get(a).peerUp(b);
    cores.get(b).peerUp(a);
  }

  private void write(long id, String key, String value) {
    cores.get(id).publishLocal(writeUnpublished(id, key, value));
  }

  /** A write in the node's store that its core has not been handed yet (a writer between the two). */
  private Change writeUnpublished(long id, String key, String value) {
    return writeUnpublished(id, CACHE, key, value);
  }

  private Change writeUnpublished(long id, String cache, String key, String value) {
    now++;
    HybridLogicalClock clock = new HybridLogicalClock(() -> now);
    Change change = Change.put(cache, key.getBytes(StandardCharsets.UTF_8),
        value.getBytes(StandardCharsets.UTF_8), clock.tick(), id, Change.ETERNAL);
    replicas.get(id).writeLocal(change);
    return change;
  }

  /** Delivers messages in order; stops early once {@code chunksToB} chunks from A reached B. */
  private void run(int chunksToB) throws Exception {
    run(A, B, chunksToB);
  }

  /** Delivers messages in order; stops early once {@code chunksTo} chunks from one node reached another. */
  private void run(long sender, long receiver, int chunksTo) throws Exception {
    int chunks = 0;
    while (!wire.isEmpty()) {
      Object[] envelope = wire.removeFirst();
      long from = (long) envelope[0];
      long to = (long) envelope[1];
      if (crashed.contains(from) || crashed.contains(to)) {
        continue;
      }
      Message message = codec.decode((byte[]) envelope[2]);
      cores.get(to).onMessage(from, message);
      if (from == sender && to == receiver && message instanceof Message.SnapshotChunk
          && ++chunks == chunksTo) {
        return;
      }
    }
  }

  @Test
  void entriesOfAnAbandonedSnapshotReachEveryNode() throws Exception {
    node(A);
    node(B);
    node(C);
    for (int i = 0; i < 6; i++) {
      write(A, "k" + i, "v" + i); // A alone: its backlog keeps only the last two
    }
    connect(A, B);
    run(3); // B misses the backlog, pulls a full snapshot from A and gets three entries of it
    assertThat(replicas.get(B).contents(CACHE)).hasSize(3);

    crashed.add(A); // ... and A, their only other holder, crashes before the snapshot ends
    cores.get(B).peerDown(A);
    assertThat(cores.get(B).metrics().orphanEvents()).isEqualTo(1);
    assertThat(cores.get(B).versionVector()).doesNotContainKey(A); // no vector covers them

    connect(B, C);
    run(-1); // C sees B's orphan event in its digest and pulls a full snapshot from B

    assertThat(replicas.get(C).contents(CACHE)).isEqualTo(replicas.get(B).contents(CACHE))
        .containsOnlyKeys("k0", "k1", "k2");
    assertThat(cores.get(C).isSyncing()).isFalse();
    assertThat(cores.get(C).metrics().snapshotsReceived()).isEqualTo(1);
    assertThat(cores.get(B).metrics().snapshotsSent()).isEqualTo(1);
  }

  @Test
  void aWriteNewerThanTheSnapshotsWatermarksReachesEveryNodeWhenItsSenderCrashes() throws Exception {
    node(A);
    node(C);
    connect(A, C);
    for (int i = 0; i < 6; i++) {
      write(A, "k" + i, "v" + i);
    }
    run(-1);
    writeUnpublished(A, "k5", "v5 again"); // above A's watermarks when the snapshot starts
    node(B);
    connect(A, B);
    run(-1); // B misses the backlog and takes a full snapshot from A
    assertThat(cores.get(B).isSyncing()).isFalse();
    assertThat(replicas.get(B).contents(CACHE)).hasSize(6);

    crashed.add(A); // A crashes before the write left it: B alone holds it
    cores.get(B).peerDown(A);
    cores.get(C).peerDown(A);
    assertThat(cores.get(B).metrics().orphanEvents()).isEqualTo(1);
    connect(B, C);
    run(-1); // C sees B's event and pulls the write, which replaces the version C kept

    assertThat(replicas.get(C).contents(CACHE)).isEqualTo(replicas.get(B).contents(CACHE)).hasSize(6);
    assertThat(new String(replicas.get(C).contents(CACHE).get("k5").value(), StandardCharsets.UTF_8))
        .isEqualTo("v5 again");
  }

  @Test
  void aWriteTheSnapshotSentAheadOfTheStreamDoesNotBringBackTheKeyEvictedSince() throws Exception {
    node(A);
    for (int i = 0; i < 6; i++) {
      write(A, "k" + i, "v" + i);
    }
    Change late = writeUnpublished(A, "k0", "v0 again"); // the snapshot sends k0 first
    maxEntries = 6;
    node(B);
    connect(A, B);
    run(-1); // the full snapshot brings the write ahead of the stream
    assertThat(new String(replicas.get(B).contents(CACHE).get("k0").value(), StandardCharsets.UTF_8))
        .isEqualTo("v0 again");
    write(B, "b0", "w"); // and B evicts it, its eldest entry
    run(-1);
    assertThat(replicas.get(B).contents(CACHE)).doesNotContainKey("k0");
    cores.get(A).publishLocal(late);
    run(-1); // the stream brings the write again: skipped, so k0 stays evicted

    assertThat(replicas.get(B).contents(CACHE)).doesNotContainKey("k0").hasSize(6);
    assertThat(replicas.get(B).violations()).isEmpty();
    assertThat(cores.get(B).metrics().snapshotEntriesSkipped()).isEqualTo(1);
    cores.get(B).peerDown(A);
    assertThat(cores.get(B).metrics().orphanEvents()).isZero(); // the stream covered it
  }

  @Test
  void aCacheCreatedWhileAFullSnapshotRunsGetsTheEntriesThatCameBeforeIt() throws Exception {
    node(A);
    node(B, false); // B's application has not created the cache yet when B joins
    for (int i = 0; i < 6; i++) {
      write(A, "k" + i, "v" + i);
    }
    connect(A, B);
    run(2); // two entries of A's full snapshot reach B, which has no such cache: held

    replicas.get(B).createCache(CACHE, 1_000);
    cores.get(B).localCacheCreated(CACHE); // applies the two held entries
    assertThat(replicas.get(B).contents(CACHE)).hasSize(2);
    run(-1); // the rest of the snapshot

    assertThat(replicas.get(B).contents(CACHE)).isEqualTo(replicas.get(A).contents(CACHE)).hasSize(6);
    assertThat(cores.get(B).isSyncing()).isFalse();
    assertThat(cores.get(B).metrics().snapshotsReceived()).isEqualTo(1); // no second transfer
    assertThat(cores.get(A).metrics().snapshotsSent()).isEqualTo(1);
  }

  @Test
  void aCacheWhoseHeldEntriesOutgrewTheirBoundIsFetchedAgainOnceTheSnapshotEnds() throws Exception {
    config = config.withQueues(64, 2, 100, 16); // a byte bound that holds one entry, not two
    node(A);
    node(B, false);
    for (int i = 0; i < 6; i++) {
      write(A, "k" + i, "v" + i);
    }
    connect(A, B);
    run(2); // the first entry is held, the second outgrows the bound: both dropped

    replicas.get(B).createCache(CACHE, 1_000);
    cores.get(B).localCacheCreated(CACHE); // nothing adopted yet: no range to ask for
    assertThat(replicas.get(B).contents(CACHE)).isEmpty();
    run(-1); // the rest of the snapshot; its watermarks claim the dropped entries: fetched again

    assertThat(replicas.get(B).contents(CACHE)).isEqualTo(replicas.get(A).contents(CACHE)).hasSize(6);
    assertThat(cores.get(B).isSyncing()).isFalse();
    assertThat(cores.get(B).metrics().snapshotsReceived()).isEqualTo(2); // the full one, then the cache
  }

  @Test
  void aCacheCreatedAgainPullsItsNodesOwnOrphansFromTheirHolderNotFromACopyOfTheNewCopy()
      throws Exception {
    orphansOnBAlone();
    node(C);
    connect(B, C);
    run(-1); // C pulls them: C holds the orphans of B's event, and B's copy is their only other

    createAgain(B); // the orphans are gone from B, and no vector brings them back
    run(-1);
    node(D); // D joins and meets B's new copy
    connect(B, D);
    run(-1);
    antiEntropyRound(D); // B hears from D before it hears from C again
    run(-1);
    connect(C, D);
    antiEntropyRounds(2, B, C, D); // one for the digests, one for a need noted meanwhile

    assertThat(replicas.get(C).contents(CACHE)).containsOnlyKeys("k0", "k1", "k2");
    assertThat(replicas.get(B).contents(CACHE)).isEqualTo(replicas.get(C).contents(CACHE));
    assertThat(replicas.get(D).contents(CACHE)).isEqualTo(replicas.get(C).contents(CACHE));
  }

  @Test
  void orphansACopyGotWithoutItsSendersEventsSpreadFromIt() throws Exception {
    orphansOnBAlone();
    node(C);
    connect(B, C);
    run(B, C, 1); // C pulls them; after the first, C closes the cache and creates it again
    createAgain(C);
    run(-1); // so C's new copy holds the other two, but not all of B's orphans: no count of B's
    assertThat(replicas.get(C).contents(CACHE)).containsOnlyKeys("k1", "k2");
    assertThat(cores.get(C).metrics().orphanEvents()).isEqualTo(1); // an event of its own instead
    antiEntropyRound(B);
    run(-1); // B retries the full snapshot it lost with A, from C; C pulls B's orphans from B

    createAgain(B); // C is now the only holder of the orphans
    antiEntropyRounds(2, B, C);

    assertThat(replicas.get(B).contents(CACHE)).isEqualTo(replicas.get(C).contents(CACHE))
        .containsOnlyKeys("k0", "k1", "k2");
  }

  @Test
  void orphansAppliedToANewCopyBeforeItsCoreHearsOfItStillSpread() throws Exception {
    orphansOnBAlone();
    node(D, false); // B retries its full snapshot from D, which has no cache: B is done syncing
    connect(B, D);
    run(-1);
    antiEntropyRound(B);
    run(-1);
    crashed.add(D);
    cores.get(B).peerDown(D);
    replicas.get(B).createCache("later", 1_000);
    cores.get(B).localCacheCreated("later");
    cores.get(B).publishLocal(writeUnpublished(B, "later", "b0", "w")); // sent after users
    node(C);
    connect(B, C);
    run(B, C, 1); // C pulls B's orphans; after the first, C's application closes the cache
    replicas.get(C).dropCache(CACHE); // and creates it again, and the core takes two more
    replicas.get(C).createCache(CACHE, 1_000); // chunks before it hears of the new copy
    run(B, C, 2);
    cores.get(C).localCacheCreated(CACHE);
    run(-1);

    createAgain(B); // the orphans must come back from C
    antiEntropyRounds(3, B, C);
    assertThat(replicas.get(B).contents(CACHE)).isEqualTo(replicas.get(C).contents(CACHE))
        .isNotEmpty();
  }

  @Test
  void orphansReachACacheThatTheSnapshotsSenderDidNotHave() throws Exception {
    node(A);
    node(B);
    node(D, false); // D's application never creates the cache
    for (int i = 0; i < 6; i++) {
      write(A, "k" + i, "v" + i);
    }
    connect(A, B);
    run(3); // B keeps three entries of an abandoned full snapshot: orphans, and an event
    crashed.add(A);
    cores.get(B).peerDown(A);
    connect(B, D);
    run(-1); // D pulls B's orphans, drops them (no such cache) and takes B's event all the same

    node(C); // C has the cache and meets D first
    connect(C, D);
    run(-1); // D's snapshot could not bring the cache's orphans: C does not count B's event as had
    assertThat(replicas.get(C).contents(CACHE)).isEmpty();
    connect(B, C);
    run(-1); // so B's digest still shows C an event it lacks, and C pulls the orphans from B

    assertThat(replicas.get(C).contents(CACHE)).isEqualTo(replicas.get(B).contents(CACHE))
        .containsOnlyKeys("k0", "k1", "k2");
    assertThat(cores.get(C).isSyncing()).isFalse();
    assertThat(cores.get(D).metrics().snapshotsSent()).isZero(); // C never asked D in vain
  }
}
