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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Cache syncs (a cache created on a node after it processed changes for it) on cores driven by
 * hand, with no timers: whatever a sync needs must happen through messages alone.
 */
class CacheSyncTest {

  private static final long A = 1;
  private static final long B = 2;
  private static final long C = 3;
  private static final long D = 4;
  private static final List<String> CACHES = List.of("users", "orders");

  private final MessageCodec codec = new MessageCodec(CodecLimits.DEFAULT);
  private final ArrayDeque<Object[]> wire = new ArrayDeque<>();
  private final Map<Long, ReplicationCore> cores = new LinkedHashMap<>();
  private final Map<Long, SimReplica> replicas = new LinkedHashMap<>();
  private long now = 1_700_000_000_000L;
  /** Timer tasks per node, run only when a test fires them. */
  private final Map<Long, List<Runnable>> timers = new LinkedHashMap<>();
  private final Map<Long, Runnable> nextRound = new LinkedHashMap<>();
  /** Messages held back, by link ("from>to") and type, until released. */
  private final Map<String, Class<? extends Message>> holds = new LinkedHashMap<>();
  private final Map<String, ArrayDeque<Object[]>> held = new LinkedHashMap<>();
  private final java.util.Set<Long> crashed = new java.util.HashSet<>();
  /** Messages delivered, by link ("from>to") and type. */
  private final Map<String, Integer> deliveries = new LinkedHashMap<>();

  /** One entry per chunk, one chunk in flight, a backlog that holds every change. */
  private ReplicationConfig config = ReplicationConfig.DEFAULT
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
        (delay, task) -> {
          timers.computeIfAbsent(id, n -> new ArrayList<>()).add(task);
          return () -> { };
        },
        () -> now, new HybridLogicalClock(() -> now));
    cores.put(id, core);
    replicas.put(id, replica);
    if (withCaches) {
      createCaches(id);
    }
  }

  private void createCaches(long id) {
    createCaches(id, CACHES);
  }

  private void createCaches(long id, List<String> caches) {
    createCaches(id, caches, 1_000);
  }

  private void createCaches(long id, List<String> caches, int maxEntries) {
    for (String cache : caches) {
      replicas.get(id).createCache(cache, maxEntries);
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

  private void hold(long from, long to, Class<? extends Message> type) {
    holds.put(from + ">" + to, type);
  }

  /** Stops holding a link's messages back and delivers those held, with what follows. */
  private void release(long from, long to) throws Exception {
    holds.remove(from + ">" + to);
    ArrayDeque<Object[]> messages = held.remove(from + ">" + to);
    if (messages != null) {
      wire.addAll(messages);
    }
    run();
  }

  /** Delivers the messages a link holds back, and holds back those that follow them. */
  private void deliverHeld(long from, long to) throws Exception {
    for (Object[] envelope : held.remove(from + ">" + to)) {
      cores.get(to).onMessage(from, codec.decode((byte[]) envelope[2]));
    }
    run();
  }

  /**
   * Runs a core's next anti-entropy round: the first is the timer that start() arms first, each
   * next one the last timer its round armed.
   */
  private void antiEntropyRound(long id) {
    Runnable round = nextRound.get(id);
    if (round == null) {
      int armed = timers.getOrDefault(id, List.of()).size();
      cores.get(id).start();
      round = timers.get(id).get(armed);
    }
    round.run();
    List<Runnable> armed = timers.get(id);
    nextRound.put(id, armed.get(armed.size() - 1));
  }

  private void run() throws Exception {
    for (int delivered = 0; !wire.isEmpty(); delivered++) {
      // the cores must fall quiet by themselves: a ping-pong of requests fails the test, not hangs it
      assertThat(delivered).as("messages delivered without the cores falling quiet").isLessThan(100_000);
      Object[] envelope = wire.removeFirst();
      if (crashed.contains((long) envelope[0]) || crashed.contains((long) envelope[1])) {
        continue;
      }
      Message message = codec.decode((byte[]) envelope[2]);
      String link = envelope[0] + ">" + envelope[1];
      if (holds.containsKey(link) && holds.get(link).isInstance(message)) {
        held.computeIfAbsent(link, l -> new ArrayDeque<>()).addLast(envelope);
        continue;
      }
      deliveries.merge(link + " " + message.getClass().getSimpleName(), 1, Integer::sum);
      cores.get((long) envelope[1]).onMessage((long) envelope[0], message);
    }
  }

  /** How many messages of a type the cores delivered from one node to another so far. */
  private int delivered(long from, long to, Class<? extends Message> type) {
    return deliveries.getOrDefault(from + ">" + to + " " + type.getSimpleName(), 0);
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

  @Test
  void changesOlderThanHalfTheTombstoneGraceAreNotReplayedFromTheBacklog() throws Exception {
    node(A, true);
    for (int i = 0; i < 3; i++) {
      write(A, "users", "k" + i, "u" + i);
    }
    node(B, true);
    cores.get(A).peerUp(B);
    cores.get(B).peerUp(A);
    run(); // recent changes: B catches up from A's backlog
    assertThat(cores.get(B).versionVector()).containsEntry(A, 3L);
    assertThat(cores.get(B).metrics().snapshotsReceived()).isZero();

    // a removal newer than one of these changes may by now have had its tombstone purged on a
    // node that saw it first: replaying the older change there would bring the key back
    now += config.tombstoneGraceMillis() / 2 + 1_000;
    node(C, true);
    cores.get(A).peerUp(C);
    cores.get(C).peerUp(A);
    run();

    assertThat(cores.get(A).metrics().backlogMisses()).isEqualTo(1);
    assertThat(cores.get(C).metrics().snapshotsReceived()).isEqualTo(1); // state, not history
    assertThat(replicas.get(C).contents("users")).isEqualTo(replicas.get(A).contents("users"));
    assertThat(cores.get(C).versionVector()).containsEntry(A, 3L);
  }

  /**
   * Nodes A and B hold three writes of A; C joins and takes a full snapshot from A, which stalls
   * (its backlog of two cannot serve C), connected to B meanwhile. A gets none of B's writes, so
   * that its snapshot cannot carry them.
   */
  private void joinerTakingAFullSnapshotFromAWhileBWrites() throws Exception {
    config = config.withQueues(64, 2, 1L << 20, 1_000);
    node(A, true);
    node(B, true);
    connect(A, B);
    for (int i = 0; i < 3; i++) {
      write(A, "users", "a" + i, "v");
    }
    run();
    joinStalledOnAFullSnapshotFromA();
    hold(B, A, Message.ChangeBatch.class);
  }

  /**
   * C joins with the given caches besides its usual ones and asks A for a full snapshot (A's
   * backlog of two cannot serve it), which stalls; then C connects to B.
   */
  private void joinStalledOnAFullSnapshotFromA(String... moreCaches) throws Exception {
    node(C, true);
    createCaches(C, List.of(moreCaches));
    hold(A, C, Message.SnapshotChunk.class);
    connect(A, C);
    run();
    connect(B, C);
  }

  @Test
  void changesThatArriveDuringAFullSnapshotAreAppliedOnceItEnds() throws Exception {
    joinerTakingAFullSnapshotFromAWhileBWrites();
    write(B, "users", "b0", "v"); // reaches C while the snapshot runs
    run();

    release(A, C);

    // dropped as it arrived, b0 would wait for B's next digest to be pulled
    assertThat(replicas.get(C).contents("users")).containsOnlyKeys("a0", "a1", "a2", "b0");
    assertThat(cores.get(C).metrics().changesDroppedDuringSync()).isZero();
    assertThat(cores.get(C).isSyncing()).isFalse();
  }

  @Test
  void changesPastWhatANodeHoldsDuringAFullSnapshotArePulledAfterwards() throws Exception {
    joinerTakingAFullSnapshotFromAWhileBWrites(); // C holds two changes at most, as its backlog
    write(B, "users", "b0", "v");
    write(B, "users", "b1", "v");
    write(B, "users", "b2", "v"); // one more than C holds: dropped
    run();
    release(A, C);
    assertThat(cores.get(C).metrics().changesDroppedDuringSync()).isEqualTo(1);
    assertThat(replicas.get(C).contents("users")).containsOnlyKeys("a0", "a1", "a2", "b0", "b1");

    antiEntropyRound(B);
    run();
    antiEntropyRound(B); // C pulls what it still misses an exchange later
    run();
    assertThat(replicas.get(C).contents("users"))
        .containsOnlyKeys("a0", "a1", "a2", "b0", "b1", "b2");
  }

  @Test
  void aChangeHeldThroughALongFullSnapshotDoesNotUndoARemovalPurgedMeanwhile() throws Exception {
    // a backlog of two, so that a joiner pulls a snapshot
    config = config.withQueues(64, 2, 1L << 20, 1_000);
    node(A, true);
    node(B, true);
    createCaches(A, List.of("zzz")); // streamed last, so that the snapshot is still running
    createCaches(B, List.of("zzz"));
    connect(A, B);
    for (int i = 0; i < 3; i++) {
      write(A, "orders", "a" + i, "v");
    }
    write(A, "zzz", "z", "v");
    write(A, "users", "k", "a");
    run();
    joinStalledOnAFullSnapshotFromA("zzz");
    hold(B, A, Message.ChangeBatch.class);
    write(B, "users", "k", "w"); // reaches C, which holds it through the snapshot, but not A
    run();
    write(A, "users", "k", null); // a removal newer than w
    run();
    release(B, A); // w reaches A after the removal, and loses to it
    for (int chunks = 0; !isTombstone(replicas.get(C).held("users", "k")); chunks++) {
      assertThat(chunks).isLessThan(50);
      deliverHeld(A, C); // the snapshot brings C the removal, and goes on
    }
    now += config.tombstoneGraceMillis() + 1; // the snapshot outlasts the grace
    purgeTombstones(0, A, B, C);

    release(A, C); // the snapshot ends: w, held all along, is older than a backlog replays
    threeRoundsOf(A, B, C);

    assertThat(replicas.get(C).violations()).isEmpty();
    assertThat(replicas.get(C).contents("users")).doesNotContainKey("k");
  }

  @Test
  void aHeldChangeDoesNotUndoARemovalTheSnapshotsSenderPurgedBeforeItsPass() throws Exception {
    threeConnectedWithABacklogOfTwo(D);
    for (int i = 0; i < 3; i++) {
      write(A, "orders", "a" + i, "v");
    }
    run();
    joinStalledOnAFullSnapshotFromA(); // C is not connected to D
    write(B, "users", "k", "w"); // reaches C, which holds it
    run();
    long wMillis = now;
    write(D, "users", "k", null); // r, newer: reaches A and B, never C's stream
    run();
    now = wMillis + config.tombstoneGraceMillis() - 10;
    purgeTombstones(50, A, B, D); // clocks 50 ms ahead of C's
    for (int chunks = 0; cores.get(C).isSyncing() && held.containsKey(A + ">" + C); chunks++) {
      assertThat(chunks).isLessThan(50);
      deliverHeld(A, C);
    }
    release(A, C);
    threeRoundsOf(A, B, C, D);
    // applied at w's age, w would come back: r never reached C, and its sender had purged it
    // before its pass reached k
    assertThat(replicas.get(A).contents("users")).doesNotContainKey("k");
    assertThat(replicas.get(C).contents("users")).doesNotContainKey("k");
  }

  @Test
  void aCopyCreatedAgainDoesNotReplayAWriteWhoseRemovalItsBacklogDropped() throws Exception {
    threeConnectedWithABacklogOfTwo(C);
    hold(B, C, Message.ChangeBatch.class);
    write(B, "users", "k", "w"); // reaches A, not C yet
    run();
    long wMillis = now;
    write(A, "users", "k", null); // r, newer: reaches B and C
    run();
    release(B, C); // w reaches C after r and loses; C's backlog [r, w]
    write(A, "orders", "x", "v"); // C's backlog [w, x]: r gone from it
    run();
    assertThat(replicas.get(C).contents("users")).doesNotContainKey("k");
    now = wMillis + config.tombstoneGraceMillis() - 10; // w is 10 ms inside C's grace
    // A and B, whose clocks run 50 ms ahead of C's, purged r
    purgeTombstones(50, A, B);
    closeAndCreateAgain(C, "users");
    run();
    threeRoundsOf(A, B, C);
    // replayed from a backlog at w's age, w would come back where r is purged (half the grace
    // leaves a margin for clocks apart)
    assertThat(replicas.get(A).contents("users")).doesNotContainKey("k");
    assertThat(replicas.get(C).contents("users")).doesNotContainKey("k");
  }

  @Test
  void aRemovalHeldThroughALongFullSnapshotIsAppliedWhateverItsAge() throws Exception {
    heldThroughASnapshotThatRunsForNearlyTheGrace(false);
    // dropped and pulled, r would have come as a miss, then a snapshot without it: k = v stays
    assertThat(replicas.get(C).contents("orders")).doesNotContainKey("k");
    assertThat(cores.get(C).metrics().changesDroppedDuringSync()).isZero();
  }

  @Test
  void aRemovalHeldBehindAWriteTooOldToApplyIsAppliedAheadOfIt() throws Exception {
    heldThroughASnapshotThatRunsForNearlyTheGrace(true);
    // behind w's gap, r would have waited for the snapshot that fills it, which lacks it
    assertThat(replicas.get(C).contents("orders")).doesNotContainKey("k");
    assertThat(replicas.get(C).contents("users")).containsOnlyKeys("a0", "a1", "a2", "b");
    assertThat(replicas.get(C).violations()).isEmpty();
  }

  @Test
  void aRemovalAppliedAheadOfAGapNoPeerCanFillSpreadsAsAnOrphan() throws Exception {
    removalAheadOfAGapWhoseOriginCrashes(true);
  }

  @Test
  void aRemovalAppliedAheadOfAGapSpreadsAsAnOrphanIfItsSenderDropsBeforeFillingIt()
      throws Exception {
    removalAheadOfAGapWhoseOriginCrashes(false);
  }

  @Test
  void aPullRefusedByABusyPeerGoesToAnotherThatHoldsTheVersions() throws Exception {
    long e = 5;
    config = config.withQueues(64, 2, 1L << 20, 1_000) // a backlog of two
        .withSnapshots(1, 1); // B streams one snapshot at a time, and refuses more
    node(A, false);
    createCaches(A, List.of("users"));
    node(B, false);
    node(C, false);
    node(e, false);
    connect(A, B);
    connect(A, C);
    connect(A, e);
    connect(B, C);
    connect(C, e);
    run();
    write(A, "users", "k0", "u0"); // B, C and E have no users yet: they keep nothing
    run();
    hold(B, A, Message.SnapshotRequest.class);
    hold(e, A, Message.SnapshotRequest.class);
    createCaches(B, List.of("users")); // B and E ask A for k0: A never gets the requests
    createCaches(e, List.of("users"));
    write(A, "users", "k1", "u1");
    write(A, "users", "k2", "u2");
    run();
    crash(A);
    node(D, true);
    hold(B, D, Message.SnapshotChunk.class);
    connect(B, D); // D is behind B's backlog: B streams it a full snapshot, which stalls
    run();

    createCaches(C, List.of("users")); // no peer can cover A's versions: C asks B first
    run();
    for (int round = 0; round < 5; round++) {
      now += config.antiEntropyMillis();
      antiEntropyRound(B);
      antiEntropyRound(e);
      run();
      antiEntropyRound(C);
      run();
    }

    // asked again and again while busy, B kept C from asking E, which held k1 and k2 all along
    assertThat(replicas.get(C).contents("users")).containsOnlyKeys("k1", "k2");
  }

  @Test
  void aNodeThatAsksAtDigestsIsServedBetweenTheFetchesOfOneThatAsksAtOnce() throws Exception {
    config = config.withSnapshots(1, 1); // A streams one snapshot at a time
    List<String> fetchedByD = List.of("c0", "c1", "c2");
    node(A, true);
    createCaches(A, fetchedByD);
    for (String cache : List.of("users", "c0", "c1", "c2")) {
      write(A, cache, "k0", "v");
      write(A, cache, "k1", "v");
    }
    node(C, false);
    node(D, false);
    connect(A, C);
    connect(A, D);
    run(); // C and D catch up from A's backlog, keeping nothing: they have no caches yet
    hold(A, D, Message.SnapshotChunk.class);
    createCaches(D, fetchedByD); // D fetches each from A, the next as soon as one ends
    createCaches(C, List.of("users")); // C asks A while A streams to D
    run();
    assertThat(replicas.get(C).contents("users")).isEmpty();

    int fetchesEndedWithoutC = 0;
    for (String cache : fetchedByD) {
      now += config.antiEntropyMillis();
      antiEntropyRound(A); // C asks again at each of A's digests
      run();
      while (!replicas.get(D).contents(cache).equals(replicas.get(A).contents(cache))) {
        deliverHeld(A, D);
      }
      if (replicas.get(C).contents("users").isEmpty()) {
        fetchesEndedWithoutC++;
      }
    }

    // refused whenever it asked, C waited until D had fetched every cache; now A serves it
    // as soon as D's first fetch ends
    assertThat(fetchesEndedWithoutC).isZero();
    assertThat(replicas.get(C).contents("users")).isEqualTo(replicas.get(A).contents("users"));
    assertThat(cores.get(C).isSyncing()).isFalse();
  }

  @Test
  void aClosedCoreStartsNoSnapshotWhenASenderFreesUp() throws Exception {
    config = config.withSnapshots(1, 1); // A streams one snapshot at a time
    node(A, true);
    createCaches(A, List.of("c0"));
    write(A, "users", "k0", "v");
    write(A, "c0", "k0", "v");
    node(C, false);
    node(D, false);
    connect(A, C);
    connect(A, D);
    run();
    hold(A, D, Message.SnapshotChunk.class);
    createCaches(D, List.of("c0")); // A streams c0 to D, which stalls
    createCaches(C, List.of("users")); // C's request waits in line
    run();
    int chunksBefore = delivered(A, C, Message.SnapshotChunk.class);
    cores.get(A).close(); // A leaves; its connections drop afterwards
    cores.get(A).peerDown(D);
    run();

    assertThat(delivered(A, C, Message.SnapshotChunk.class)).isEqualTo(chunksBefore);
  }

  @Test
  void aFullSyncAskedOfABusyPeerGoesToAnIdleOneThatHoldsTheSame() throws Exception {
    config = config.withQueues(64, 2, 1L << 20, 1_000) // a backlog of two
        .withSnapshots(1, 1); // A streams one snapshot at a time
    node(A, true);
    node(B, true);
    connect(A, B);
    for (int i = 0; i < 3; i++) {
      write(A, "users", "a" + i, "v");
    }
    run();
    node(D, true);
    hold(A, D, Message.SnapshotChunk.class);
    connect(A, D); // D is behind A's backlog: A streams it a full snapshot, which stalls
    run();
    node(C, true);
    connect(A, C); // C too needs a full snapshot, and asks A first
    run();
    connect(B, C); // B is idle and holds everything A does
    run();
    now += config.antiEntropyMillis();
    antiEntropyRound(A);
    antiEntropyRound(B);
    antiEntropyRound(C);
    run();

    assertThat(replicas.get(C).contents("users")).containsOnlyKeys("a0", "a1", "a2");
    assertThat(cores.get(C).isSyncing()).isFalse();
  }

  /**
   * A and B, with backlogs of two, hold A's orders k = v and three users; C joins and takes a
   * full snapshot from A, which stalls once its pass has read both caches, k = v among them.
   */
  private void joinerStalledOnASnapshotThatReadK() throws Exception {
    config = config.withQueues(64, 2, 1L << 20, 1_000); // a backlog of two
    node(A, true);
    node(B, true);
    connect(A, B);
    write(A, "orders", "k", "v");
    for (int i = 0; i < 3; i++) {
      write(A, "users", "a" + i, "v");
    }
    run();
    joinStalledOnAFullSnapshotFromA();
  }

  /**
   * C joins, taking a full snapshot from A; B writes x, which no node gets, then removes k (r),
   * which only C gets, and holds through the snapshot; B crashes before the snapshot ends if
   * {@code crashFirst}, else after it, before it answers C's pull of x. Once r is applied ahead
   * of the gap no peer can fill, it must spread as an orphan, or it stays on C alone.
   */
  private void removalAheadOfAGapWhoseOriginCrashes(boolean crashFirst) throws Exception {
    joinerStalledOnASnapshotThatReadK();
    hold(B, A, Message.ChangeBatch.class);
    hold(B, C, Message.ChangeBatch.class);
    write(B, "users", "x", "w"); // lost on every link
    run();
    held.remove(B + ">" + C);
    holds.remove(B + ">" + C);
    write(B, "orders", "k", null); // r reaches C alone, which holds it behind x's gap
    run();
    hold(C, B, Message.BacklogRequest.class);
    if (crashFirst) {
      crash(B);
    }
    release(A, C); // the snapshot ends, and C applies r ahead of the gap
    if (!crashFirst) {
      crash(B);
    }
    threeRoundsOf(A, C);

    assertThat(replicas.get(C).contents("orders")).doesNotContainKey("k");
    assertThat(replicas.get(A).contents("orders")).isEqualTo(replicas.get(C).contents("orders"));
    assertThat(replicas.get(A).contents("users")).isEqualTo(replicas.get(C).contents("users"));
  }

  /**
   * C joins, taking a full snapshot from A that has read k = v when B removes k (r), after
   * writing b = w first if {@code writeFirst}; C holds B's changes through the snapshot, which
   * runs for nearly the tombstone grace. Then every other copy purges r, and B answers C's pull
   * of whatever C dropped.
   */
  private void heldThroughASnapshotThatRunsForNearlyTheGrace(boolean writeFirst) throws Exception {
    joinerStalledOnASnapshotThatReadK();
    if (writeFirst) {
      write(B, "users", "b", "w");
    }
    write(B, "orders", "k", null); // r reaches A, and C, which holds it
    run();
    hold(C, B, Message.BacklogRequest.class);
    now += config.tombstoneGraceMillis() - 10;
    release(A, C); // the snapshot ends: w and r are older than a backlog replays
    now += 20;
    purgeTombstones(0, A, B); // r is gone from every copy but C's
    release(C, B); // a miss: C takes another snapshot, which has neither w nor r
    threeRoundsOf(A, B, C);
  }

  @Test
  void aPullRefusedByABusyPeerIsAskedAgainAtTheNextRound() throws Exception {
    config = config.withQueues(64, 2, 1L << 20, 1_000) // a backlog of two
        .withSnapshots(1, 1); // B streams one snapshot at a time, and refuses more
    originCrashedLeavingBWithAGap("k1", "k2");
    node(D, true);
    hold(B, D, Message.SnapshotChunk.class);
    connect(B, D); // D is behind B's backlog: B streams it a full snapshot, which stalls
    run();

    createCaches(C, List.of("users")); // no peer can cover A's versions: C asks B what it holds
    run();
    for (int round = 0; round < 5; round++) { // refused, again and again, while B is busy
      now += config.antiEntropyMillis();
      antiEntropyRound(B); // a pull that waited a period is refused
      run();
      antiEntropyRound(C);
      run();
    }
    assertThat(replicas.get(C).contents("users")).isEmpty();
    release(B, D);
    now += config.antiEntropyMillis();
    antiEntropyRound(C);
    run();

    // counted as pulls, the refusals had spaced the next one out to seven rounds
    assertThat(replicas.get(C).contents("users")).containsOnlyKeys("k1", "k2");
  }

  /** Nodes A, B and {@code third}, each connected to the others, with backlogs of two changes. */
  private void threeConnectedWithABacklogOfTwo(long third) {
    config = config.withQueues(64, 2, 1L << 20, 1_000);
    node(A, true);
    node(B, true);
    node(third, true);
    connect(A, B);
    connect(A, third);
    connect(B, third);
  }

  /** The nodes purge the tombstones past the grace, by clocks {@code aheadMillis} ahead. */
  private void purgeTombstones(long aheadMillis, long... nodes) {
    for (long node : nodes) {
      replicas.get(node).purgeTombstones(
          HybridLogicalClock.timestampOf(now + aheadMillis - config.tombstoneGraceMillis()));
    }
  }

  /** Three anti-entropy rounds of each of the nodes in turn, each followed by what it sends. */
  private void threeRoundsOf(long... nodes) throws Exception {
    for (int round = 0; round < 3; round++) {
      for (long node : nodes) {
        antiEntropyRound(node);
        run();
      }
    }
  }

  private static boolean isTombstone(SimReplica.Entry entry) {
    return entry != null && entry.value() == null;
  }

  @Test
  void aCacheTheSenderCreatedDuringAFullSnapshotIsFetchedAfterwards() throws Exception {
    config = config.withQueues(64, 2, 1L << 20, 1_000); // a backlog of two: joiners pull snapshots
    node(A, false);
    createCaches(A, List.of("users"));
    node(B, false); // B runs no cache yet
    node(C, false);
    createCaches(C, List.of("users"));
    for (int i = 0; i < 6; i++) {
      write(A, "users", "k" + i, "u" + i);
    }
    cores.get(A).peerUp(B);
    cores.get(B).peerUp(A);
    run(); // B pulls a full snapshot from A: its watermarks, none of its entries
    assertThat(cores.get(B).versionVector()).containsEntry(A, 6L);

    hold(B, C, Message.SnapshotChunk.class);
    cores.get(B).peerUp(C);
    cores.get(C).peerUp(B);
    run(); // C is behind B, B's backlog lacks A's changes: C asks B for a full snapshot
    assertThat(held).isNotEmpty(); // B listed no cache when the transfer started

    createCaches(B, List.of("users")); // B fetches the cache from A and advertises it complete
    run();
    antiEntropyRound(B); // B's digest names users now
    run();

    release(B, C); // the snapshot ends: it held nothing of users, whatever B's digest says
    antiEntropyRound(C); // which starts C's fetch
    run();
    assertThat(replicas.get(C).contents("users")).isEqualTo(replicas.get(A).contents("users"))
        .hasSize(6);
    assertThat(cores.get(C).isSyncing()).isFalse();
  }

  @Test
  void aCacheTheSenderWasStillFetchingWhenItLastSentADigestIsNotFetchedTwice() throws Exception {
    config = config.withQueues(64, 2, 1L << 20, 1_000); // a backlog of two: joiners pull snapshots
    node(A, false);
    createCaches(A, List.of("users"));
    node(B, false);
    node(C, false);
    createCaches(C, List.of("users"), 2); // C keeps two entries and evicts the rest
    for (int i = 0; i < 6; i++) {
      write(A, "users", "k" + i, "u" + i);
    }
    cores.get(A).peerUp(B);
    cores.get(B).peerUp(A);
    run(); // B pulls a full snapshot from A: its watermarks, none of its entries

    hold(A, B, Message.SnapshotChunk.class);
    createCaches(B, List.of("users")); // B fetches users from A: held up for now
    run();
    hold(C, B, Message.SnapshotRequest.class);
    cores.get(B).peerUp(C);
    cores.get(C).peerUp(B);
    run(); // B's digest does not name users yet; C asks B for a full snapshot: held up too

    release(A, B); // B has users complete now, and sends C no digest
    release(C, B); // B serves C a full snapshot that holds users
    antiEntropyRound(B);
    run();
    antiEntropyRound(C);
    run();

    // C applied every entry of users from the snapshot (and evicted four): fetching users again
    // because B's digest had not named it would push the evicted keys back
    assertThat(replicas.get(C).violations()).isEmpty();
    assertThat(replicas.get(C).contents("users")).hasSize(2);
    assertThat(cores.get(C).isSyncing()).isFalse();
    assertThat(cores.get(C).metrics().snapshotsReceived()).isEqualTo(1);
  }

  @Test
  void aNodeWhoseCacheCanNeverBeCompletedStillServesAFullSnapshotOfTheOthers() throws Exception {
    config = config.withQueues(64, 2, 1L << 20, 1_000); // a backlog of two: joiners pull snapshots
    node(A, true);
    node(B, false);
    createCaches(B, List.of("users")); // B's application creates orders later
    cores.get(A).peerUp(B);
    cores.get(B).peerUp(A);
    for (int i = 0; i < 3; i++) {
      write(A, "users", "k" + i, "u" + i);
      write(A, "orders", "k" + i, "o" + i); // B has no orders yet: it processes them, keeps none
    }
    run();
    crashed.add(A); // the only complete copy of orders is gone
    cores.get(B).peerDown(A);
    createCaches(B, List.of("orders")); // a sync no live peer can complete
    assertThat(cores.get(B).isSyncing()).isTrue();

    node(C, true);
    cores.get(B).peerUp(C);
    cores.get(C).peerUp(B);
    run(); // C is behind and B's backlog lacks A's first changes: C asks B for a full snapshot
    antiEntropyRound(C);
    run();

    // B serves users and leaves orders out: C adopts B's vector and keeps fetching orders
    assertThat(cores.get(C).metrics().snapshotsReceived()).isGreaterThanOrEqualTo(1);
    assertThat(cores.get(C).versionVector()).containsEntry(A, 6L);
    assertThat(replicas.get(C).contents("users")).isEqualTo(replicas.get(B).contents("users"))
        .hasSize(3);
    assertThat(replicas.get(C).contents("orders")).isEmpty();
  }

  @Test
  void copiesThatAllHaveGapsForACrashedOriginStillShareWhatTheyHoldOfIt() throws Exception {
    originCrashedLeavingBWithAGap("k1"); // A held the only complete copy

    createCaches(C, List.of("users")); // no peer can cover A's versions: C asks B what it holds
    run();

    assertThat(replicas.get(B).contents("users")).containsOnlyKeys("k1");
    assertThat(replicas.get(C).contents("users")).isEqualTo(replicas.get(B).contents("users"));
    assertThat(cores.get(C).isSyncing()).isTrue(); // k0 may be somewhere: C keeps asking
  }

  /**
   * A, the only node with users at first, writes k0, which B and C process without the cache;
   * B then creates users and asks A for k0, a request A never gets; A writes {@code laterKeys},
   * which reach B's new cache, and crashes. No live node can fill B's gap.
   */
  private void originCrashedLeavingBWithAGap(String... laterKeys) throws Exception {
    node(A, false);
    createCaches(A, List.of("users"));
    node(B, false);
    node(C, false);
    connect(A, B);
    connect(A, C);
    connect(B, C);
    run();
    write(A, "users", "k0", "u0"); // B and C have no users yet: they process it, keep nothing
    run();
    hold(B, A, Message.SnapshotRequest.class);
    createCaches(B, List.of("users")); // B asks A for k0: A never gets the request
    for (String key : laterKeys) {
      write(A, "users", key, "u" + key.substring(1));
    }
    run();
    crash(A);
  }

  @Test
  void aGapOfAnOriginGoneForGoodIsGivenUpOnceEveryMemberSentWhatItHolds() throws Exception {
    originCrashedLeavingBWithAGap("k1");
    createCaches(C, List.of("users"));
    run();
    assertThat(cores.get(B).isSyncing()).isTrue();
    assertThat(cores.get(C).isSyncing()).isTrue();

    // A's registration is gone; once it has been gone for the grace, A never writes again
    membersAre(Set.of(B, C, D), B, C); // D: a member that never wrote, and never connected
    antiEntropyRound(B);
    assertThat(digestOnWire(B).versions()).containsKey(A);
    antiEntropyRound(C);
    run();
    assertThat(cores.get(C).isSyncing()).isTrue(); // absent, not gone yet
    now += config.tombstoneGraceMillis();
    antiEntropyRound(B);
    antiEntropyRound(C);
    run();
    assertThat(cores.get(C).isSyncing()).isTrue(); // B answered; D has yet to

    // D leaves; once gone for the grace too, it is not waited for
    membersForTheGrace(Set.of(B, C), B, C);
    run();

    // each asked the other member once more for A's versions, then gave them up
    assertThat(cores.get(B).isSyncing()).isFalse();
    assertThat(cores.get(C).isSyncing()).isFalse();
    assertThat(replicas.get(B).contents("users")).containsOnlyKeys("k1");
    assertThat(replicas.get(C).contents("users")).isEqualTo(replicas.get(B).contents("users"));
    // and digests stop carrying the gone origin: one per node start, sent every period
    antiEntropyRound(B);
    assertThat(cores.get(B).versionVector()).containsKey(A);
    assertThat(digestOnWire(B).versions()).doesNotContainKey(A);
  }

  /** The first digest from {@code id} waiting on the wire. */
  private Message.Digest digestOnWire(long id) throws Exception {
    for (Object[] envelope : wire) {
      if ((long) envelope[0] == id && codec.decode((byte[]) envelope[2]) instanceof Message.Digest digest) {
        return digest;
      }
    }
    throw new AssertionError("no digest from " + id + " on the wire");
  }

  @Test
  void aGoneOriginsGapWaitsForEveryMemberEvenOneThatCannotBeReachedYet() throws Exception {
    node(A, false);
    createCaches(A, List.of("users"));
    node(B, false);
    node(C, false);
    node(D, false);
    createCaches(D, List.of("users"));
    connect(A, B);
    connect(A, C);
    connect(B, C);
    connect(A, D); // D is cut off from B and C
    run();
    write(A, "users", "k0", "u0"); // of the copies left after A, only D's holds it
    run();
    crash(A);
    createCaches(C, List.of("users"));
    run();
    membersAre(Set.of(B, C, D), B, C, D);
    antiEntropyRound(C);
    now += config.tombstoneGraceMillis();
    antiEntropyRound(C);
    run();
    antiEntropyRound(C);
    run();

    // B answered and holds nothing of A's; D is a member still to answer: C waits for it
    assertThat(cores.get(C).isSyncing()).isTrue();
    assertThat(replicas.get(C).contents("users")).isEmpty();

    connect(C, D);
    run();
    antiEntropyRound(C);
    run();
    assertThat(cores.get(C).isSyncing()).isFalse();
    assertThat(replicas.get(C).contents("users")).isEqualTo(replicas.get(D).contents("users"))
        .containsOnlyKeys("k0");
  }

  @Test
  void aCacheClosedAndCreatedAgainGetsItsOwnEarlierWritesBackFromThePeers() throws Exception {
    twoMembers();
    for (int i = 0; i < 3; i++) {
      write(A, "users", "a" + i, "u" + i);
    }
    run();
    replicas.get(A).dropCache("users"); // the application closes the cache on A
    write(B, "users", "b0", "v"); // A processes it as no such cache
    run();

    createCaches(A, List.of("users")); // and creates it again
    run();
    antiEntropyRound(B);
    antiEntropyRound(A);
    run();

    // only B's copy held A's earlier writes: asked of every member, they are A's again
    assertThat(replicas.get(A).contents("users")).isEqualTo(replicas.get(B).contents("users"))
        .containsOnlyKeys("a0", "a1", "a2", "b0");
    assertThat(cores.get(A).isSyncing()).isFalse();
  }

  /** Nodes A and B with every cache, connected, each knowing both as the members. */
  private void twoMembers() {
    node(A, true);
    node(B, true);
    connect(A, B);
    membersAre(Set.of(A, B), A, B);
  }

  /** The application on {@code id} closes the cache and creates it again. */
  private void closeAndCreateAgain(long id, String cache) {
    replicas.get(id).dropCache(cache);
    createCaches(id, List.of(cache));
  }

  private void connect(long a, long b) {
    cores.get(a).peerUp(b);
    cores.get(b).peerUp(a);
  }

  private void crash(long id) {
    crashed.add(id);
    for (Map.Entry<Long, ReplicationCore> e : cores.entrySet()) {
      if (e.getKey() != id) {
        e.getValue().peerDown(id);
      }
    }
  }

  private void membersAre(Set<Long> members, long... nodes) {
    for (long node : nodes) {
      cores.get(node).membersAre(members);
    }
  }

  /** Tells the nodes the member list, then lets the tombstone grace pass, a round either side. */
  private void membersForTheGrace(Set<Long> members, long... nodes) {
    membersAre(members, nodes);
    for (long node : nodes) {
      antiEntropyRound(node);
    }
    now += config.tombstoneGraceMillis();
    for (long node : nodes) {
      antiEntropyRound(node);
    }
  }

  @Test
  void aNodeThatTookAnOriginsChangesFromASnapshotAnswersABacklogRequestForThemWithAMiss()
      throws Exception {
    config = config.withQueues(64, 2, 1L << 20, 1_000); // a backlog of two
    node(A, true);
    node(B, true);
    node(C, true);
    connect(A, B);
    connect(A, C);
    write(A, "users", "k0", "u0"); // B and C both hold it, in their backlogs too
    run();
    cores.get(A).peerDown(B);
    cores.get(A).peerDown(C);
    for (int i = 1; i <= 5; i++) {
      write(A, "users", "k" + i, "u" + i); // reaching neither
    }
    connect(A, B);
    run(); // A's backlog lacks 2 to 4: B takes a full snapshot, and A's watermark with it
    assertThat(cores.get(B).versionVector()).containsEntry(A, 6L);
    crash(A);

    connect(B, C);
    run(); // C asks B for A's changes from 2: B's backlog holds A's 1 and nothing after it

    // answered with nothing, C would have asked again at every digest, for changes that never came
    assertThat(cores.get(B).metrics().backlogMisses()).isEqualTo(1);
    assertThat(replicas.get(C).contents("users")).isEqualTo(replicas.get(B).contents("users"))
        .hasSize(6);
    assertThat(cores.get(C).versionVector()).containsEntry(A, 6L);
  }

  @Test
  void aVersionOfAGoneOriginThatASnapshotLeftOutIsPulledNotAskedForAtEveryRound()
      throws Exception {
    // A's registration is gone, for the grace: B and C leave it out of their digests
    goneOriginsLastWriteReachedOnlyB(false);
    assertThat(cores.get(C).versionVector()).containsEntry(A, 1L); // no digest names A's 2

    // B's snapshot leaves v1 out, as newer than C asked for: C pulls it from B's backlog once,
    // where asking for the snapshot again brought the same answer at every round
    createCaches(C, List.of("users"));
    run();
    assertThat(replicas.get(C).contents("users")).isEqualTo(replicas.get(B).contents("users"))
        .containsOnlyKeys("k0");
    assertThat(cores.get(C).isSyncing()).isFalse();
    assertThat(cores.get(B).metrics().snapshotsSent()).isLessThanOrEqualTo(2);
  }

  @Test
  void aCacheSnapshotWhoseCopyIsClosedDuringThePassIsRefusedAndAskedAgain() throws Exception {
    twoMembers();
    for (int i = 0; i < 4; i++) {
      write(A, "users", "a" + i, "u" + i);
    }
    run();
    antiEntropyRound(A); // B last heard from A that its copy holds everything
    run();
    hold(A, B, Message.SnapshotChunk.class);
    closeAndCreateAgain(B, "users"); // B closes users and creates it again: it asks A
    run(); // A's first chunk is on its way
    closeAndCreateAgain(A, "users"); // and A closes its copy during the pass
    release(A, B); // B acknowledges the first chunk: A refuses the rest
    assertThat(cores.get(A).metrics().snapshotsAbandoned()).isEqualTo(1);
    assertThat(cores.get(B).metrics().snapshotsReceived()).isZero();

    for (int round = 0; round < 10; round++) {
      now += config.antiEntropyMillis(); // copies that claimed nothing are asked again later
      antiEntropyRound(A);
      antiEntropyRound(B);
      run();
    }
    assertThat(replicas.get(B).contents("users")).isEqualTo(replicas.get(A).contents("users"))
        .containsOnlyKeys("a0", "a1", "a2", "a3");
    assertThat(cores.get(A).isSyncing()).isFalse();
    assertThat(cores.get(B).isSyncing()).isFalse();
  }

  @Test
  void aCacheClosedTwiceDuringAFullSnapshotFetchesWhatTheSnapshotGaveTheCopyItClosed()
      throws Exception {
    config = config.withQueues(64, 2, 1L << 20, 1_000); // a backlog of two: B pulls a snapshot
    node(A, true);
    for (int i = 0; i < 6; i++) {
      write(A, "users", "k" + i, "v" + i);
    }
    node(B, false);
    createCaches(B, List.of("users"));
    hold(A, B, Message.SnapshotChunk.class);
    connect(A, B);
    run(); // B asks A for a full snapshot; its first chunks wait on the way

    closeAndCreateAgain(B, "users"); // the snapshot's entries for users are fetched again after it
    deliverHeld(A, B); // some entries reach the new copy
    assertThat(replicas.get(B).contents("users")).isNotEmpty();
    closeAndCreateAgain(B, "users"); // which is closed too
    release(A, B); // the snapshot completes and B fetches users from A

    // the entries the closed copy had got were taken for applied to the new one, and skipped
    assertThat(replicas.get(B).contents("users")).isEqualTo(replicas.get(A).contents("users"))
        .hasSize(6);
    assertThat(cores.get(B).isSyncing()).isFalse();
  }

  @Test
  void whatAFetchThatEndedDuringAFullSnapshotAppliedIsNotAppliedAgainOnceItCompletes()
      throws Exception {
    config = config.withQueues(64, 2, 1L << 20, 1_000) // backlogs of two: B pulls a snapshot
        .withReorderTolerance(0); // as the simulator: versions seen are skipped exactly
    node(A, true);
    node(B, true);
    node(C, true);
    connect(A, B);
    connect(A, C);
    connect(B, C);
    for (int i = 0; i < 6; i++) {
      write(A, "users", "k" + i, "v" + i);
    }
    run();
    disconnect(A, B);
    disconnect(A, C);
    disconnect(B, C);
    replicas.get(B).dropCache("users"); // B's application closes users
    for (int i = 6; i < 10; i++) {
      write(A, "users", "k" + i, "v" + i); // past what A's backlog holds, and not on C
    }
    run();
    hold(A, B, Message.SnapshotChunk.class);
    connect(A, B);
    run(); // B asks A for a full snapshot, which waits on the way
    assertThat(held).isNotEmpty();
    connect(B, C);
    run();

    // users created again, bounded to three entries: C, not busy sending to B, fills the copy
    // with what B had processed of it (and no more), which ends that fetch; the copy evicts the
    // oldest entries
    createCaches(B, List.of("users"), 3);
    run();
    assertThat(replicas.get(B).contents("users")).hasSize(3);
    release(A, B); // the full snapshot completes: the copy fetches what its watermarks skip

    // the versions the ended fetch applied, evicted since, were not applied again
    assertThat(replicas.get(B).violations()).isEmpty();
    assertThat(replicas.get(B).contents("users")).hasSize(3);
    assertThat(cores.get(B).isSyncing()).isFalse();
  }

  private void disconnect(long a, long b) {
    cores.get(a).peerDown(b);
    cores.get(b).peerDown(a);
  }

  @Test
  void aNodeThatClosedACacheAnswersForItWithWhatItsBacklogHolds() throws Exception {
    node(A, true);
    config = config.withQueues(64, 2, 1L << 20, 1_000); // B's backlog holds two changes
    node(B, true);
    connect(A, B);
    membersAre(Set.of(A, B), A, B);
    write(B, "users", "k0", "v0");
    run();
    replicas.get(A).dropCache("users"); // A's application closes users: k0 stays in A's backlog
    write(B, "orders", "o1", "v1"); // and leaves B's
    write(B, "orders", "o2", "v2");
    run();
    antiEntropyRound(A); // A's digest: it has processed every write of B's
    run();

    closeAndCreateAgain(B, "users"); // B closes users and creates it again
    run();
    antiEntropyRound(A);
    antiEntropyRound(B);
    run();

    // A, the one member B asks for its earlier writes, holds no copy of users: an empty answer
    // counted as all it held, and B gave k0 up for good
    assertThat(replicas.get(B).contents("users")).containsOnlyKeys("k0");
    assertThat(cores.get(B).isSyncing()).isFalse();
  }

  @Test
  void aCacheCreatedAgainAsksForItsOwnWritesAMemberThatJoinedMeanwhile() throws Exception {
    config = config.withQueues(64, 2, 1L << 20, 1_000); // backlogs of two changes
    twoMembers();
    write(A, "users", "a0", "v0");
    run();
    node(C, true);
    connect(B, C);
    run(); // C pulls a0 from B's backlog
    write(B, "orders", "o1", "v1"); // ... which no backlog holds from now on
    write(B, "orders", "o2", "v2");
    run();

    antiEntropyRound(B); // A last heard from B that its copy holds everything
    run();
    hold(C, B, Message.SnapshotChunk.class); // B's refill from C stalls
    closeAndCreateAgain(B, "users"); // B closes users and creates it again
    closeAndCreateAgain(A, "users"); // and so does A, which asks B, its one member, for a0
    membersAre(Set.of(A, B, C), A, B, C); // C joins A's view of the members
    run(); // B answers from a copy that lacks a0: C, not yet connected to A, alone holds it
    assertThat(replicas.get(A).contents("users")).isEmpty();

    connect(A, C);
    release(C, B);
    for (int round = 0; round < 3; round++) {
      antiEntropyRound(A);
      antiEntropyRound(B);
      antiEntropyRound(C);
      run();
    }

    assertThat(replicas.get(A).contents("users")).isEqualTo(replicas.get(C).contents("users"))
        .isEqualTo(replicas.get(B).contents("users")).containsOnlyKeys("a0");
    assertThat(cores.get(A).isSyncing()).isFalse();
    assertThat(cores.get(B).isSyncing()).isFalse();
  }

  @Test
  void aSnapshotRequestDeliveredTwiceIsServedOnce() throws Exception {
    node(A, true);
    node(B, false);
    for (int i = 0; i < 3; i++) {
      write(A, "users", "k" + i, "u" + i);
    }
    cores.get(A).peerUp(B);
    cores.get(B).peerUp(A);
    run();
    hold(B, A, Message.SnapshotRequest.class);
    createCaches(B, List.of("users"));
    run();
    Object[] request = held.get(B + ">" + A).peekFirst();
    held.get(B + ">" + A).addLast(request.clone()); // the network delivers it twice

    release(B, A);

    // served again, the copy would restart the pass over A's store under the same request id,
    // and B would take chunks of two passes for one (seed 3425)
    assertThat(cores.get(A).metrics().snapshotsAbandoned()).isZero();
    assertThat(cores.get(A).metrics().snapshotsSent()).isEqualTo(1);
    assertThat(replicas.get(B).contents("users")).isEqualTo(replicas.get(A).contents("users")).hasSize(3);
    assertThat(cores.get(B).isSyncing()).isFalse();
  }

  @Test
  void antiEntropyPullsWhatIsStillMissingAnExchangeLaterNotWhatIsInFlight() throws Exception {
    node(A, true);
    node(B, true);
    cores.get(A).peerUp(B);
    cores.get(B).peerUp(A);
    write(A, "users", "k0", "u0");
    run();
    antiEntropyRound(A);
    run(); // B has a digest of A's to compare the next one with

    hold(A, B, Message.ChangeBatch.class);
    write(A, "users", "k1", "u1"); // on its way to B
    antiEntropyRound(A); // A's digest overtakes it
    run();
    release(A, B);

    // pulling k1 because the digest named it would have fetched it twice
    assertThat(cores.get(B).metrics().duplicatesIgnored()).isZero();
    assertThat(cores.get(B).metrics().changesReceived()).isEqualTo(2);
    assertThat(replicas.get(B).contents("users")).containsOnlyKeys("k0", "k1");

    hold(A, B, Message.ChangeBatch.class);
    write(A, "users", "k2", "u2");
    run();
    held.clear(); // lost on the way
    holds.clear();
    antiEntropyRound(A); // may be in flight still: not pulled yet
    run();
    assertThat(replicas.get(B).contents("users")).doesNotContainKey("k2");
    antiEntropyRound(A); // still missing an exchange later: lost, so pulled
    run();
    assertThat(replicas.get(B).contents("users")).containsKey("k2");
  }
  @Test
  void aSnapshotThatLeftOutAVersionTheStreamNeverBroughtDoesNotCoverTheRange() throws Exception {
    node(A, true);
    node(B, true);
    node(C, false); // C runs no cache yet
    for (long[] pair : new long[][] {{A, B}, {A, C}}) {
      cores.get(pair[0]).peerUp(pair[1]);
      cores.get(pair[1]).peerUp(pair[0]);
    }
    write(A, "users", "k1", "v1");
    run(); // B applies it; C processes it without the cache

    hold(A, B, Message.ChangeBatch.class);
    hold(A, C, Message.ChangeBatch.class);
    write(A, "users", "k1", "v2"); // replaces v1 on A, reaches nobody yet
    createCaches(C, List.of("users")); // C asks A, its one peer, for users up to v1
    run();
    // A's snapshot left v2 out as newer than asked, and C's stream has not brought it: v1 is
    // gone from A, so the range is not covered
    assertThat(replicas.get(C).contents("users")).isEmpty();
    assertThat(cores.get(C).isSyncing()).isTrue();

    // A crashes before v2 leaves it: B's v1 is all that is left, and C must end with it too
    crashed.add(A);
    held.clear();
    holds.clear();
    cores.get(B).peerDown(A);
    cores.get(C).peerDown(A);
    cores.get(B).peerUp(C);
    cores.get(C).peerUp(B);
    run();
    antiEntropyRound(B);
    antiEntropyRound(C);
    run();
    assertThat(replicas.get(C).contents("users")).isEqualTo(replicas.get(B).contents("users"))
        .containsOnlyKeys("k1");
    assertThat(cores.get(C).isSyncing()).isFalse();
  }

  @Test
  void aPeerWhoseAnswerNamedVersionsTheStreamHasNotBroughtIsAskedAgainOnlyOnceItHas()
      throws Exception {
    node(A, true);
    node(C, false); // C runs no cache yet
    connect(A, C);
    write(A, "users", "k1", "v1");
    run(); // C processes it without the cache
    hold(A, C, Message.ChangeBatch.class);
    hold(C, A, Message.BacklogRequest.class);
    write(A, "users", "k1", "v2"); // replaces v1 on A, and does not reach C yet
    createCaches(C, List.of("users")); // C asks A for users up to v1; A leaves v2 out
    run();
    assertThat(delivered(C, A, Message.SnapshotRequest.class)).isEqualTo(1);

    for (int round = 0; round < 3; round++) {
      antiEntropyRound(A);
      run();
    }
    // A would answer the same until v2 reaches C: asked at each of its digests, it was kept busy
    assertThat(delivered(C, A, Message.SnapshotRequest.class)).isEqualTo(1);
    assertThat(cores.get(C).isSyncing()).isTrue();

    release(A, C); // v2 arrives
    release(C, A);
    antiEntropyRound(A);
    run();
    assertThat(delivered(C, A, Message.SnapshotRequest.class)).isEqualTo(2);
    assertThat(replicas.get(C).contents("users")).isEqualTo(replicas.get(A).contents("users"));
    assertThat(cores.get(C).isSyncing()).isFalse();
  }

  @Test
  void aPeerThatLeftOutAVersionOfAnOriginGoneForGoodIsAskedAgainIfItsPullIsLost()
      throws Exception {
    goneOriginsLastWriteReachedOnlyB(false);
    write(B, "users", "b0", "w"); // C processes it without the cache
    run();
    hold(C, B, Message.BacklogRequest.class); // the pull of A's last write is lost on the way
    createCaches(C, List.of("users")); // B's answer leaves A's k0 = v1 out, above C's vector
    run();
    held.clear();
    holds.clear();
    tenRoundsOf(B, C);

    assertThat(cores.get(C).isSyncing()).isFalse();
    assertThat(replicas.get(C).contents("users")).isEqualTo(replicas.get(B).contents("users"));
  }

  @Test
  void aPeerThatLeftOutAVersionOfAnOriginThatWentForGoodSinceIsAskedAgain() throws Exception {
    goneOriginsLastWriteReachedOnlyB(true);
    assertThat(cores.get(C).isSyncing()).isTrue(); // B's answer left A's k0 = v1 out
    disconnect(B, C);
    membersForTheGrace(Set.of(B, C), B, C); // A's range is now asked of every member: B
    connect(B, C);
    run();
    tenRoundsOf(B, C);

    assertThat(cores.get(C).isSyncing()).isFalse();
    assertThat(replicas.get(C).contents("users")).isEqualTo(replicas.get(B).contents("users"));
  }

  /**
   * A's last write, k0 = v1, reaches B only, and A crashes. C, which runs no cache yet, creates
   * users at once if {@code createAtOnce}; else A is first gone for good on B and C, which
   * connect only then (so that C lags B on A's versions, which no digest names any more).
   */
  private void goneOriginsLastWriteReachedOnlyB(boolean createAtOnce) throws Exception {
    node(A, true);
    node(B, true);
    node(C, false);
    connect(A, B);
    connect(A, C);
    if (createAtOnce) {
      connect(B, C);
    }
    membersAre(Set.of(A, B, C), A, B, C);
    write(A, "users", "k0", "v0");
    run(); // B applies it; C processes it without the cache
    hold(A, C, Message.ChangeBatch.class);
    write(A, "users", "k0", "v1"); // reaches B only
    run();
    crash(A);
    held.clear();
    holds.clear();
    if (createAtOnce) {
      createCaches(C, List.of("users"));
      run();
    } else {
      membersForTheGrace(Set.of(B, C), B, C);
      connect(B, C);
      run();
    }
  }

  /** Ten anti-entropy periods, each a round of every one of the nodes, and what they send. */
  private void tenRoundsOf(long... nodes) throws Exception {
    for (int round = 0; round < 10; round++) {
      now += config.antiEntropyMillis();
      for (long node : nodes) {
        antiEntropyRound(node);
      }
      run();
    }
  }

  @Test
  void copiesAskingAnOriginForEverythingKeepAskingSoWhenItIsBusyWithTheOther() throws Exception {
    config = config.withSnapshots(1, 1); // A streams one snapshot at a time, and refuses more
    node(A, true);
    node(D, true);
    node(B, false); // B and C process every write before they create users
    node(C, false);
    for (long[] pair : new long[][] {{A, B}, {A, C}, {A, D}, {D, B}, {D, C}}) {
      connect(pair[0], pair[1]);
    }
    write(A, "users", "k", "a");
    run();
    write(D, "users", "k", "d"); // replaces A's version everywhere
    run();
    hold(D, A, Message.ChangeBatch.class);
    write(D, "users", "j", "d"); // reaches B and C but not A, whose copy so covers not all of D's
    run();
    crash(D);
    holds.clear();
    held.clear();
    antiEntropyRound(A);
    run();

    // B and C each ask A, the origin, for its own writes; the answer leaves out the version of D
    // that replaced A's k, so each must then ask A for everything it misses. B asks first and is
    // answered; C, refused as A is busy with B, has not learned that yet
    createCaches(B, List.of("users"));
    createCaches(C, List.of("users"));
    run();

    // each round, the copy that still asks A for its own writes only is served slowly, and the
    // one that asks for everything is refused meanwhile: given up at the refusal, asking for
    // everything went from one copy to the other at every round, and neither ever got k
    long[] order = {C, B};
    for (int round = 0; round < 4; round++) {
      long first = order[round % 2];
      long second = order[(round + 1) % 2];
      hold(A, second, Message.Digest.class);
      hold(A, first, Message.SnapshotChunk.class);
      antiEntropyRound(A);
      run(); // first asks A, which starts serving it
      release(A, second); // second asks A while A is busy with first
      release(A, first);
    }

    // (j is lost with D: only D's copy held it)
    for (long copy : new long[] {B, C}) {
      assertThat(replicas.get(copy).contents("users")).containsOnlyKeys("k");
      assertThat(replicas.get(copy).contents("users").get("k").origin()).isEqualTo(D);
    }
  }
}
