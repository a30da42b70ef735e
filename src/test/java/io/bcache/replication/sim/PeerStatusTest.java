package io.bcache.replication.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.bcache.replication.Change;
import io.bcache.replication.HybridLogicalClock;
import io.bcache.replication.Message;
import io.bcache.replication.PeerStatus;
import io.bcache.replication.ReplicationConfig;
import io.bcache.replication.ReplicationCore;
import io.bcache.replication.ReplicationStatus;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link ReplicationCore#status()} on two cores driven by hand, with a hand-moved clock: queue
 * depth, unacknowledged changes and lag per peer, before sending, after sending, after the
 * peer's digest, with a backlog too small to hold the oldest change, and after a queue overflow.
 */
class PeerStatusTest {

  private static final long A = 1;
  private static final long B = 2;
  private static final String CACHE = "users";

  private final ArrayDeque<Object[]> wire = new ArrayDeque<>();
  private final Map<Long, ReplicationCore> cores = new HashMap<>();
  private final Map<Long, SimReplica> replicas = new HashMap<>();
  private static final long FLUSH_MILLIS = 5;
  private static final long ANTI_ENTROPY_MILLIS = ReplicationConfig.DEFAULT.antiEntropyMillis();

  /** Timers of both cores, {delay, task}, fired only by {@link #fire(long)}. */
  private final List<Object[]> timers = new ArrayList<>();
  private boolean linksOpen = true;
  private long now = 1_700_000_000_000L;

  private void node(long id, ReplicationConfig config) {
    SimReplica replica = new SimReplica("node" + id);
    replica.createCache(CACHE, 1_000);
    ReplicationCore core = new ReplicationCore(id, config, replica,
        (peer, message) -> linksOpen && wire.add(new Object[] {id, peer, message}),
        (delay, task) -> {
          Object[] timer = {delay, task};
          timers.add(timer);
          return () -> timers.remove(timer);
        },
        () -> now, new HybridLogicalClock(() -> now));
    core.localCacheCreated(CACHE);
    core.start();
    cores.put(id, core);
    replicas.put(id, replica);
  }

  /** Queues of up to 4 changes, batches of 100 sent by the flush timer. */
  private void twoConnectedNodes(int backlogChanges) {
    ReplicationConfig config = ReplicationConfig.DEFAULT
        .withBatching(100, 1 << 20, FLUSH_MILLIS)
        .withQueues(4, backlogChanges, 1L << 20, 100);
    node(A, config);
    node(B, config);
    cores.get(A).peerUp(B);
    cores.get(B).peerUp(A);
    deliver(); // the digests each side sends on connecting
  }

  private void write(long id, String key) {
    Change change = Change.put(CACHE, key.getBytes(StandardCharsets.UTF_8),
        "v".getBytes(StandardCharsets.UTF_8), HybridLogicalClock.timestampOf(now), id, Change.ETERNAL);
    replicas.get(id).writeLocal(change);
    cores.get(id).publishLocal(change);
  }

  private void deliver() {
    int bound = 10_000;
    while (!wire.isEmpty() && bound-- > 0) {
      Object[] envelope = wire.removeFirst();
      cores.get((long) envelope[1]).onMessage((long) envelope[0], (Message) envelope[2]);
    }
  }

  /** Runs the pending timers armed with {@code delay} (flush or anti-entropy). */
  private void fire(long delay) {
    for (Object[] timer : List.copyOf(timers)) {
      // a timer an earlier one cancelled meanwhile is no longer in the list
      if ((long) timer[0] == delay && timers.remove(timer)) {
        ((Runnable) timer[1]).run();
      }
    }
  }

  private PeerStatus statusOf(long node, long peer) {
    ReplicationStatus status = cores.get(node).status();
    assertThat(status.takenAtMillis()).isEqualTo(now);
    return status.peers().stream().filter(p -> p.peerId() == peer).findFirst().orElseThrow();
  }

  @Test
  void queueDepthUnacknowledgedChangesAndLagFollowTheStreamAndThePeersDigests() {
    twoConnectedNodes(100);
    assertThat(statusOf(A, B)).isEqualTo(new PeerStatus(B, 0, 0, 0, false, 0, 0));

    write(A, "k1"); // at t0
    now += 10;
    write(A, "k2"); // at t0 + 10
    now += 30;
    // waiting for the flush timer: queued, unacknowledged, the oldest 40 ms old
    assertThat(statusOf(A, B)).isEqualTo(new PeerStatus(B, 2, 2, 40, false, 0, 0));

    fire(FLUSH_MILLIS); // the flush hands both to the connection
    now += 5;
    assertThat(statusOf(A, B)).isEqualTo(new PeerStatus(B, 0, 2, 45, false, 2, 0));

    deliver(); // B applies them but says nothing until its next digest
    assertThat(statusOf(A, B).unacknowledgedChanges()).isEqualTo(2);
    assertThat(statusOf(B, A).changesReceived()).isEqualTo(2);

    fire(ANTI_ENTROPY_MILLIS); // B's digest reports A's seq 2
    deliver();
    assertThat(statusOf(A, B)).isEqualTo(new PeerStatus(B, 0, 0, 0, false, 2, 0));
    assertThat(cores.get(A).status().changesPublished()).isEqualTo(2);
    assertThat(cores.get(B).status().changesApplied()).isEqualTo(2);
  }

  @Test
  void lagIsALowerBoundOnceTheBacklogDroppedTheOldestUnacknowledgedChange() {
    twoConnectedNodes(3);
    linksOpen = false; // the connection refuses: everything stays queued
    long start = now;
    for (int i = 0; i < 4; i++) {
      write(A, "k" + i); // at start, start + 100, start + 200, start + 300
      now += 100;
    }
    // the backlog holds 3: the change of start is gone, the one of start + 100 is its oldest
    PeerStatus status = statusOf(A, B);
    assertThat(status.unacknowledgedChanges()).isEqualTo(4);
    assertThat(status.queueDepth()).isEqualTo(4);
    assertThat(status.lagMillis()).isEqualTo(now - (start + 100));
  }

  @Test
  void anOverflowingQueueIsDroppedAndCountedAsAResync() {
    twoConnectedNodes(100);
    linksOpen = false;
    for (int i = 0; i < 5; i++) {
      write(A, "k" + i); // the fifth overflows the queue of 4
    }
    PeerStatus status = statusOf(A, B);
    assertThat(status.resyncing()).isTrue();
    assertThat(status.queueDepth()).isZero();
    assertThat(status.unacknowledgedChanges()).isEqualTo(5);
    assertThat(cores.get(A).status().resyncs()).isEqualTo(1);

    // the link drains: B's next digest ends the resync, and B catches up from A's backlog; the
    // digest after that acknowledges everything
    linksOpen = true;
    fire(ANTI_ENTROPY_MILLIS);
    deliver();
    assertThat(statusOf(A, B).resyncing()).isFalse();
    assertThat(replicas.get(B).contents(CACHE)).hasSize(5);
    fire(ANTI_ENTROPY_MILLIS);
    deliver();
    status = statusOf(A, B);
    assertThat(status.resyncing()).isFalse();
    assertThat(status.unacknowledgedChanges()).isZero();
    assertThat(replicas.get(B).contents(CACHE)).hasSize(5);
  }

  @Test
  void aPeerWhoseConnectionIsFullHoldsLocalChangesBackThenIsCutOverToResync() {
    twoConnectedNodes(100); // queues of 4: local changes are held back from 2 queued on
    ReplicationCore a = cores.get(A);
    long slowPeerMillis = ReplicationConfig.DEFAULT.slowPeerMillis();
    assertThat(a.localChangeAllowance()).isEqualTo(2);

    linksOpen = false; // B's connection is full
    write(A, "k1");
    write(A, "k2");
    fire(FLUSH_MILLIS); // refused: both stay queued, and a retry is armed
    assertThat(a.localChangeAllowance()).isZero();
    now += slowPeerMillis - 1;
    assertThat(a.localChangeAllowance()).isZero();

    linksOpen = true; // it drains in time: the stream goes on, nothing is held back
    fire(FLUSH_MILLIS);
    assertThat(statusOf(A, B).queueDepth()).isZero();
    assertThat(a.localChangeAllowance()).isEqualTo(2);

    linksOpen = false; // full again, and for good this time
    write(A, "k3");
    write(A, "k4");
    fire(FLUSH_MILLIS);
    assertThat(a.localChangeAllowance()).isZero();
    now += slowPeerMillis;
    assertThat(a.localChangeAllowance()).isEqualTo(Integer.MAX_VALUE); // B no longer holds anything back
    PeerStatus status = statusOf(A, B);
    assertThat(status.resyncing()).isTrue();
    assertThat(status.queueDepth()).isZero();
  }

  @Test
  void aStreamingPeerHasItsChangesOnlyOnceItAcknowledgesThem() {
    twoConnectedNodes(100);
    ReplicationCore a = cores.get(A);
    assertThat(a.ownChangesDelivered()).isTrue();

    write(A, "k1");
    fire(FLUSH_MILLIS);
    deliver();
    // handed over and applied there, but a peer may drop what it was streamed (see below)
    assertThat(replicas.get(B).contents(CACHE)).hasSize(1);
    assertThat(a.ownChangesDelivered()).isFalse();

    a.requestAcknowledgements(); // answered with B's digest alone
    deliver();
    assertThat(a.ownChangesDelivered()).isTrue();
  }

  /**
   * A peer taking a full snapshot drops what the stream brings meanwhile and asks for it later,
   * from the digests of a node that must still be there: until it has acknowledged it, the
   * change is not delivered.
   */
  @Test
  void aPeerTakingASnapshotHasWhatItDroppedMeanwhileOnlyOnceItAcknowledgesIt() {
    ReplicationConfig config = ReplicationConfig.DEFAULT.withBatching(10, 1 << 20, FLUSH_MILLIS)
        .withQueues(1000, 2, 1L << 20, 100).withSnapshots(2, 2); // a backlog of 2: B needs a snapshot
    node(A, config);
    node(B, config);
    for (int i = 0; i < 200; i++) {
      write(A, "k" + i);
    }
    ReplicationCore a = cores.get(A);
    ReplicationCore b = cores.get(B);
    a.peerUp(B);
    b.peerUp(A);
    for (int steps = 0; steps < 50 && !wire.isEmpty() && !(b.isSyncing() && a.activeSnapshotSenders() > 0); steps++) {
      Object[] envelope = wire.removeFirst();
      cores.get((long) envelope[1]).onMessage((long) envelope[0], (Message) envelope[2]);
    }
    assertThat(b.isSyncing()).isTrue();
    now += 1;
    write(A, "late"); // streamed to B while it takes the snapshot in
    a.flush();

    for (int round = 0; round < 50 && !a.ownChangesDelivered(); round++) {
      fire(ANTI_ENTROPY_MILLIS);
      deliver();
      a.requestAcknowledgements();
      deliver();
      assertThat(!a.ownChangesDelivered() || replicas.get(B).contents(CACHE).size() == 201)
          .as("delivered only once B holds everything").isTrue();
    }
    assertThat(a.ownChangesDelivered()).isTrue();
    assertThat(replicas.get(B).contents(CACHE)).hasSize(201);
  }

  @Test
  void aPeerCutOverToResyncHasItsChangesOnlyOnceItAcknowledgesThem() {
    twoConnectedNodes(100);
    ReplicationCore a = cores.get(A);
    linksOpen = false;
    for (int i = 0; i < 5; i++) {
      write(A, "k" + i); // the fifth overflows the queue of 4: B is cut over, its queue dropped
    }
    linksOpen = true;
    assertThat(a.ownChangesDelivered()).isFalse();

    a.requestAcknowledgements(); // B answers with its digest: A resumes the stream and sends the 5
    deliver();
    assertThat(replicas.get(B).contents(CACHE)).hasSize(5);
    assertThat(a.ownChangesDelivered()).as("applied there, not acknowledged yet").isFalse();

    a.requestAcknowledgements();
    deliver();
    assertThat(a.ownChangesDelivered()).isTrue();
  }

  @Test
  void aPeerThatConnectedAfterTheWritesHasThemOnlyOnceItAcknowledgesThem() {
    ReplicationConfig config = ReplicationConfig.DEFAULT.withBatching(100, 1 << 20, FLUSH_MILLIS);
    node(A, config);
    node(B, config);
    write(A, "k1");
    write(A, "k2");
    ReplicationCore a = cores.get(A);
    a.peerUp(B);
    cores.get(B).peerUp(A);
    assertThat(a.ownChangesDelivered()).as("nothing to stream, but B lacks both").isFalse();

    deliver(); // the digests on connecting: B sees it lacks A's changes and pulls them
    assertThat(replicas.get(B).contents(CACHE)).hasSize(2);
    assertThat(a.ownChangesDelivered()).isFalse();

    a.requestAcknowledgements();
    deliver();
    assertThat(a.ownChangesDelivered()).isTrue();
  }
}
