package io.bcache.replication.sim;

import io.bcache.replication.Change;
import io.bcache.replication.HybridLogicalClock;
import io.bcache.replication.Message;
import io.bcache.replication.ReplicationConfig;
import io.bcache.replication.ReplicationCore;
import io.bcache.replication.Scheduler;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * One deterministic run: several replication cores in one thread over a simulated network and
 * clock, a random workload and random faults, all drawn from one seed; then the faults stop, the
 * network heals, the run continues for a bounded settle time and the invariants are checked.
 *
 * <p>Three families: {@link Family#CONVERGENCE} with replicas large enough that nothing is
 * evicted, so contents must be identical everywhere and equal to the last writer's;
 * {@link Family#CLEARS}, the same with a few whole-cache clears among the writes, after which a
 * key holds its last write only if that write is newer than the cache's last clear; and
 * {@link Family#EVICTION} with small replicas, where contents legitimately differ and the check is
 * that sync never pushes an evicted key back.
 */
public final class Simulation {

  /** Which invariants a run checks. */
  public enum Family {
    CONVERGENCE, EVICTION, CLEARS;

    /** Whether nothing is evicted, so that every live node must end with the same contents. */
    boolean converges() {
      return this != EVICTION;
    }
  }

  static final List<String> CACHES = List.of("users", "orders", "late");
  static final String LATE_CACHE = "late";

  private final long seed;
  private final Family family;
  private final SplittableRandom random;
  private final EventLoop loop = new EventLoop();
  private final SimNetwork network;
  private final ReplicationConfig config;
  private final List<Node> nodes = new ArrayList<>();
  private final List<Write> history = new ArrayList<>();
  /** The clears, as writes without key or value. */
  private final List<Write> clearHistory = new ArrayList<>();
  private final List<String> failures = new ArrayList<>();
  private final Set<Long> connected = new HashSet<>();
  private final Set<Long> cutLinks = new HashSet<>();
  private final int replicaBound;
  private final int keyCount;
  private final long faultEnd;
  private final long settleEnd;
  private int[] partitionSide;
  private long convergedAt = -1;

  /** One write in the workload, for the last-writer-wins check. */
  record Write(String cache, String key, byte[] value, long hlc, long origin) {
  }

  /** One incarnation of a simulated node; a restart is a new Node with a new id. */
  final class Node {
    final int index;
    final long id;
    final long skew;
    final HybridLogicalClock hlc;
    final SimReplica replica;
    final ReplicationCore core;
    boolean alive = true;
    long pausedUntil;

    Node(int index, long id, long skew) {
      this.index = index;
      this.id = id;
      this.skew = skew;
      this.hlc = new HybridLogicalClock(this::clock);
      this.replica = new SimReplica("node" + index + "/" + id);
      Scheduler scheduler = (delay, task) -> loop.after(delay, guarded(task));
      this.core = new ReplicationCore(id, config, replica,
          (peerId, message) -> send(this, peerId, message), scheduler, this::clock, hlc);
    }

    long clock() {
      return 1_700_000_000_000L + loop.now() + skew;
    }

    /** Runs a timer task only while this incarnation lives, later if it is paused. */
    Runnable guarded(Runnable task) {
      return new Runnable() {
        @Override
        public void run() {
          if (!alive) {
            return;
          }
          if (pausedUntil > loop.now()) {
            loop.at(pausedUntil, this);
            return;
          }
          task.run();
        }
      };
    }

    boolean usable() {
      return alive && pausedUntil <= loop.now();
    }
  }

  public Simulation(long seed, Family family) {
    this.seed = seed;
    this.family = family;
    this.random = new SplittableRandom(seed);
    SimReplica.now = loop::now;
    boolean fifo = random.nextBoolean();
    this.network = new SimNetwork(loop, random, fifo, 16 + random.nextInt(48), 1,
        2 + random.nextInt(20));
    this.network.setReceiver(new SimNetwork.Receiver() {
      @Override
      public long pausedUntil(int node) {
        return nodes.get(node).pausedUntil;
      }

      @Override
      public void deliver(int from, int to, Message message) {
        Node sender = nodes.get(from);
        Node target = nodes.get(to);
        if (target.alive && sender.alive) {
          target.core.onMessage(sender.id, message);
        }
      }
    });
    int backlog = random.nextBoolean() ? 10 + random.nextInt(40) : 500 + random.nextInt(2000);
    this.config = ReplicationConfig.DEFAULT
        .withBatching(1 + random.nextInt(16), 4096, 1 + random.nextInt(5))
        .withQueues(8 + random.nextInt(64), backlog, 1L << 20, 4 + random.nextInt(60))
        .withTimers(100, 300, 150, 1_000)
        .withSnapshots(1 + random.nextInt(4), 1 + random.nextInt(2))
        .withTombstones(3_000, 100 + random.nextInt(300))
        .withReorderTolerance(0);
    this.keyCount = 5 + random.nextInt(40);
    this.replicaBound = family == Family.EVICTION ? 2 + random.nextInt(8) : 1_000;
    this.faultEnd = 1_000 + random.nextInt(2_000);
    this.settleEnd = faultEnd + 6_000;
  }

  /** Runs the simulation; returns the failures (empty when every invariant held). */
  public List<String> run() {
    int nodeCount = 3 + random.nextInt(3);
    partitionSide = new int[64];
    for (int i = 0; i < nodeCount; i++) {
      Node node = addNode();
      createCaches(node, i == 0 || random.nextInt(3) > 0);
    }
    scheduleLateCaches();
    updateConnections();
    scheduleWorkload();
    scheduleFaults();
    scheduleReopens();
    loop.at(faultEnd, this::heal);
    try {
      loop.runUntil(faultEnd, this::checkBounds);
      for (long t = faultEnd + 100; t <= settleEnd && failures.isEmpty(); t += 100) {
        loop.runUntil(t, this::checkBounds);
        if (convergedAt < 0 && family.converges() && contentsDiffer() == null) {
          convergedAt = t - faultEnd;
        }
      }
      if (failures.isEmpty()) {
        checkFinalState();
      }
    } catch (RuntimeException | AssertionError e) {
      failures.add("exception at t=" + loop.now() + ": " + e);
      StackTraceElement[] trace = e.getStackTrace();
      for (int i = 0; i < Math.min(8, trace.length); i++) {
        failures.add("    at " + trace[i]);
      }
    }
    return failures;
  }

  /** Simulated milliseconds from the heal until contents were identical, or -1. */
  public long convergedAfterMillis() {
    return convergedAt;
  }

  // ---------------------------------------------------------------- nodes and topology

  private Node addNode() {
    long id;
    do {
      id = random.nextLong(1, Long.MAX_VALUE);
    } while (idTaken(id));
    Node node = new Node(nodes.size(), id, random.nextLong(-50, 51));
    nodes.add(node);
    tr("node" + node.index + " id=" + id + " started");
    node.core.start();
    updateMembership();
    return node;
  }

  /**
   * What ZooKeeper shows every live node: the live nodes. A crashed node leaves the list at once
   * (its session ends); partitions and pauses do not touch it (the simulated network is between
   * the nodes only).
   */
  private void updateMembership() {
    Set<Long> members = new HashSet<>();
    for (Node node : liveNodes()) {
      members.add(node.id);
    }
    for (Node node : liveNodes()) {
      node.core.membersAre(members);
    }
  }

  private boolean idTaken(long id) {
    for (Node node : nodes) {
      if (node.id == id) {
        return true;
      }
    }
    return false;
  }

  static void tr(String what) {
    if (SimReplica.TRACE != null) {
      System.out.println("t=" + SimReplica.now.getAsLong() + " SIM " + what);
    }
  }

  private void createCaches(Node node, boolean withLate) {
    tr("node" + node.index + " creates caches withLate=" + withLate);
    for (String cache : CACHES) {
      if (withLate || !cache.equals(LATE_CACHE)) {
        node.replica.createCache(cache, replicaBound);
        node.core.localCacheCreated(cache);
      }
    }
  }

  private void scheduleLateCaches() {
    for (Node node : List.copyOf(nodes)) {
      if (!node.replica.hasCache(LATE_CACHE)) {
        loop.at(random.nextLong(faultEnd / 2), () -> {
          if (node.alive) {
            tr("node" + node.index + " creates late");
            node.replica.createCache(LATE_CACHE, replicaBound);
            node.core.localCacheCreated(LATE_CACHE);
          }
        });
      }
    }
  }

  private static long pair(int a, int b) {
    return ((long) Math.min(a, b) << 32) | Math.max(a, b);
  }

  private boolean shouldConnect(Node a, Node b) {
    return a.alive && b.alive && !cutLinks.contains(pair(a.index, b.index))
        && partitionSide[a.index] == partitionSide[b.index];
  }

  /** Brings connections up and down to match liveness, cut links and the partition. */
  private void updateConnections() {
    for (Node a : nodes) {
      for (Node b : nodes) {
        if (a.index >= b.index) {
          continue;
        }
        long pair = pair(a.index, b.index);
        boolean want = shouldConnect(a, b);
        if (want != connected.contains(pair)) {
          tr("link node" + a.index + "-node" + b.index + (want ? " up" : " down"));
        }
        if (want && connected.add(pair)) {
          network.setUp(a.index, b.index, true);
          network.setUp(b.index, a.index, true);
          a.core.peerUp(b.id);
          b.core.peerUp(a.id);
        } else if (!want && connected.remove(pair)) {
          network.setUp(a.index, b.index, false);
          network.setUp(b.index, a.index, false);
          if (a.alive) {
            a.core.peerDown(b.id);
          }
          if (b.alive) {
            b.core.peerDown(a.id);
          }
        }
      }
    }
  }

  private boolean send(Node from, long peerId, Message message) {
    for (Node to : nodes) {
      if (to.id == peerId) {
        return network.send(from.index, to.index, message);
      }
    }
    return false;
  }

  // ---------------------------------------------------------------- workload

  private void scheduleWorkload() {
    int writes = 20 + random.nextInt(130);
    for (int i = 0; i < writes; i++) {
      long at = random.nextLong(faultEnd);
      int writer = random.nextInt(64);
      int cache = random.nextInt(CACHES.size());
      int key = random.nextInt(keyCount);
      boolean remove = random.nextInt(5) == 0;
      long ttl = random.nextInt(4) == 0 ? 60_000 + random.nextInt(60_000) : -1;
      int serial = i;
      loop.at(at, () -> write(writer, CACHES.get(cache), "k" + key, remove, ttl, serial));
    }
    int clears = family == Family.CLEARS ? 1 + random.nextInt(4) : 0;
    for (int i = 0; i < clears; i++) {
      long at = random.nextLong(faultEnd);
      int writer = random.nextInt(64);
      int cache = random.nextInt(CACHES.size());
      loop.at(at, () -> clear(writer, CACHES.get(cache)));
    }
  }

  private void clear(int writerPick, String cacheName) {
    Node node = pickWriter(writerPick, cacheName);
    if (node == null) {
      return;
    }
    Change change = Change.clear(cacheName, node.hlc.tick(), node.id);
    node.replica.writeLocal(change);
    node.core.publishLocal(change);
    clearHistory.add(new Write(cacheName, null, null, change.hlc(), node.id));
  }

  /** The {@code pick}-th (modulo) usable node that has the cache, or {@code null}. */
  private Node pickWriter(int pick, String cacheName) {
    List<Node> candidates = new ArrayList<>();
    for (Node node : nodes) {
      if (node.usable() && node.replica.hasCache(cacheName)) {
        candidates.add(node);
      }
    }
    return candidates.isEmpty() ? null : candidates.get(pick % candidates.size());
  }

  private void write(int writerPick, String cacheName, String key, boolean remove, long ttl,
      int serial) {
    Node node = pickWriter(writerPick, cacheName);
    if (node == null) {
      return;
    }
    long hlc = node.hlc.tick();
    byte[] keyBytes = key.getBytes(StandardCharsets.UTF_8);
    byte[] value = ("v" + serial + "@" + node.index).getBytes(StandardCharsets.UTF_8);
    Change change = remove
        ? Change.remove(cacheName, keyBytes, hlc, node.id)
        : Change.put(cacheName, keyBytes, value, hlc, node.id,
            ttl < 0 ? Change.ETERNAL : node.clock() + ttl);
    node.replica.writeLocal(change);
    node.core.publishLocal(change);
    history.add(new Write(cacheName, key, change.value(), hlc, node.id));
  }

  /**
   * Caches closed on a node and created there again a moment later: the node's own earlier
   * writes to them are then held only by its peers. Drawn from numbers of their own, so that
   * every other draw of a seed, and so every run that passed or failed before, stays as it was.
   */
  private void scheduleReopens() {
    SplittableRandom draws = new SplittableRandom(seed ^ 0x5DEECE66DL);
    int reopens = draws.nextInt(3);
    for (int i = 0; i < reopens; i++) {
      long at = draws.nextLong(faultEnd);
      int pick = draws.nextInt(64);
      String cacheName = CACHES.get(draws.nextInt(CACHES.size()));
      long closedFor = draws.nextInt(300);
      loop.at(at, () -> reopen(pick, cacheName, closedFor));
    }
  }

  private void reopen(int pick, String cacheName, long closedFor) {
    Node node = pickWriter(pick, cacheName);
    if (node == null) {
      return;
    }
    tr("node" + node.index + " closes " + cacheName + " for " + closedFor + " ms");
    node.replica.dropCache(cacheName);
    loop.after(closedFor, () -> {
      if (node.alive) {
        tr("node" + node.index + " creates " + cacheName + " again");
        node.replica.createCache(cacheName, replicaBound);
        node.core.localCacheCreated(cacheName);
      }
    });
  }

  // ---------------------------------------------------------------- faults

  private void scheduleFaults() {
    int faults = random.nextInt(8);
    for (int i = 0; i < faults; i++) {
      long at = random.nextLong(faultEnd);
      long duration = 50 + random.nextInt(900);
      int kind = random.nextInt(6);
      int target = random.nextInt(64);
      int other = random.nextInt(64);
      int splitMask = random.nextInt();
      loop.at(at, () -> fault(kind, target, other, splitMask, duration));
    }
  }

  private void fault(int kind, int targetPick, int otherPick, int splitMask, long duration) {
    List<Node> live = new ArrayList<>();
    for (Node node : nodes) {
      if (node.alive) {
        live.add(node);
      }
    }
    if (live.size() < 2) {
      return;
    }
    Node target = live.get(targetPick % live.size());
    Node other = live.get(otherPick % live.size());
    tr("fault kind=" + kind + " target=node" + target.index + " other=node" + other.index
        + " mask=" + Integer.toBinaryString(splitMask) + " duration=" + duration);
    switch (kind) {
      case 0 -> { // partition into two sides
        for (Node node : nodes) {
          partitionSide[node.index] = (splitMask >>> (node.index % 32)) & 1;
        }
        updateConnections();
        loop.after(duration, () -> {
          java.util.Arrays.fill(partitionSide, 0);
          updateConnections();
        });
      }
      case 1 -> { // cut one link
        if (target != other) {
          long pair = pair(target.index, other.index);
          cutLinks.add(pair);
          updateConnections();
          loop.after(duration, () -> {
            cutLinks.remove(pair);
            updateConnections();
          });
        }
      }
      case 2 -> { // crash, and restart later as a new node with an empty replica
        target.alive = false;
        updateConnections();
        updateMembership();
        loop.after(duration, () -> {
          Node restarted = addNode();
          // the application creates its caches after it started the node: while the node's
          // full snapshot may already be arriving
          long createAfter = random.nextInt(4) == 0 ? 0 : random.nextInt(300);
          loop.after(createAfter, () -> {
            if (restarted.alive) {
              createCaches(restarted, true);
            }
          });
          updateConnections();
        });
      }
      case 3 -> // pause the process: it reads nothing and runs no timer for a while
          target.pausedUntil = Math.max(target.pausedUntil, loop.now() + duration);
      case 4 -> { // a lossy period
        network.dropRate = 0.05 + random.nextDouble() * 0.25;
        loop.after(duration, () -> network.dropRate = 0);
      }
      default -> { // a period of duplicates
        network.duplicateRate = 0.1 + random.nextDouble() * 0.3;
        loop.after(duration, () -> network.duplicateRate = 0);
      }
    }
  }

  /** The end of the faults: the network heals and every paused process resumes. */
  private void heal() {
    tr("heal");
    network.dropRate = 0;
    network.duplicateRate = 0;
    java.util.Arrays.fill(partitionSide, 0);
    cutLinks.clear();
    for (Node node : nodes) {
      node.pausedUntil = Math.min(node.pausedUntil, loop.now());
    }
    updateConnections();
  }

  // ---------------------------------------------------------------- invariants

  /** (d) every queue and buffer within its bound, after every event. */
  private void checkBounds() {
    if (!failures.isEmpty()) {
      return;
    }
    for (Node node : nodes) {
      if (!node.alive) {
        continue;
      }
      ReplicationCore core = node.core;
      core.queueDepths().forEach((peer, depth) -> {
        if (depth > config.maxQueuedChanges()) {
          failures.add("node" + node.index + " queue to " + peer + " holds " + depth);
        }
      });
      if (core.backlogSize() > config.backlogMaxChanges()) {
        failures.add("node" + node.index + " backlog holds " + core.backlogSize());
      }
      if (core.backlogBytes() > config.backlogMaxBytes() && core.backlogSize() > 1) {
        failures.add("node" + node.index + " backlog bytes " + core.backlogBytes());
      }
      if (core.activeSnapshotSenders() > config.maxSnapshotSenders()) {
        failures.add("node" + node.index + " streams " + core.activeSnapshotSenders()
            + " snapshots");
      }
      if (core.maxUnackedChunks() > config.snapshotWindow()) {
        failures.add("node" + node.index + " has " + core.maxUnackedChunks()
            + " unacknowledged chunks");
      }
      if (!node.replica.violations().isEmpty()) {
        failures.addAll(node.replica.violations());
      }
    }
    for (Node a : nodes) {
      for (Node b : nodes) {
        if (a != b && network.inFlight(a.index, b.index) > network.linkCapacity) {
          failures.add("link " + a.index + "->" + b.index + " over capacity");
        }
      }
    }
  }

  private List<Node> liveNodes() {
    List<Node> live = new ArrayList<>();
    for (Node node : nodes) {
      if (node.alive) {
        live.add(node);
      }
    }
    return live;
  }

  /** (a) the first difference in live contents between two live nodes, or {@code null}. */
  private String contentsDiffer() {
    List<Node> live = liveNodes();
    Node first = live.get(0);
    for (String cache : CACHES) {
      Map<String, SimReplica.Entry> expected = first.replica.contents(cache);
      for (Node node : live.subList(1, live.size())) {
        Map<String, SimReplica.Entry> actual = node.replica.contents(cache);
        if (!expected.equals(actual)) {
          return "cache " + cache + " differs: node" + first.index + " " + expected + " vs node"
              + node.index + " " + actual;
        }
      }
    }
    return null;
  }

  private void checkFinalState() {
    for (Node node : liveNodes()) {
      if (node.core.pendingCount() != 0) {
        failures.add("node" + node.index + " still has " + node.core.pendingCount()
            + " changes queued after the settle time");
      }
      failures.addAll(node.replica.violations()); // (c) resurrection, (e) evicted key pushed back
      if (node.core.isSyncing()) {
        failures.add("(f) node" + node.index + " still syncing after the settle time");
      }
    }
    if (!family.converges()) {
      return;
    }
    String difference = contentsDiffer();
    if (difference != null) {
      failures.add("(a) not converged " + (settleEnd - faultEnd) + " ms after the heal: "
          + difference);
      return;
    }
    checkLastWriterWins();
  }

  /**
   * (b) every key holds the newest write, by (hlc, origin), among the writes that survived (that
   * some live node received); (c) in particular a removal stays removed.
   */
  private void checkLastWriterWins() {
    List<Node> live = liveNodes();
    Map<String, Write> newest = newestSurviving(history, live, write -> write.cache() + "/" + write.key());
    Map<String, Write> lastClear = newestSurviving(clearHistory, live, Write::cache);
    for (Map.Entry<String, Write> e : newest.entrySet()) {
      Write write = e.getValue();
      Write clear = lastClear.get(write.cache());
      boolean cleared = clear != null
          && !Change.isNewer(write.hlc(), write.origin(), clear.hlc(), clear.origin());
      for (Node node : live) {
        SimReplica.Entry held = node.replica.contents(write.cache()).get(write.key());
        if (cleared) {
          if (held != null) {
            failures.add("(b) node" + node.index + " holds " + held + " for " + e.getKey()
                + " after the clear v" + clear.hlc() + "@" + clear.origin() + " removed it");
            return;
          }
          continue;
        }
        boolean ok = write.value() == null
            ? held == null
            : held != null && held.hlc() == write.hlc() && held.origin() == write.origin()
                && java.util.Arrays.equals(held.value(), write.value());
        if (!ok) {
          failures.add("(b) node" + node.index + " holds " + held + " for " + e.getKey()
              + " but the last writer wrote "
              + (write.value() == null ? "a removal" : new String(write.value(),
                  StandardCharsets.UTF_8)) + " v" + write.hlc() + "@" + write.origin());
          return;
        }
      }
    }
  }

  /** Per id, the newest write (by version) that some live node received. */
  private static Map<String, Write> newestSurviving(List<Write> writes, List<Node> live,
      java.util.function.Function<Write, String> id) {
    Map<String, Write> newest = new TreeMap<>();
    for (Write write : writes) {
      if (live.stream().noneMatch(node -> node.replica.hasSeen(write.hlc(), write.origin()))) {
        continue;
      }
      newest.merge(id.apply(write), write, (current, candidate) ->
          Change.isNewer(candidate.hlc(), candidate.origin(), current.hlc(), current.origin())
              ? candidate : current);
    }
    return newest;
  }

  @Override
  public String toString() {
    return "Simulation[seed=" + seed + ", family=" + family + ", nodes=" + nodes.size()
        + ", writes=" + history.size() + ", fifo=" + network.fifo + ", backlog="
        + config.backlogMaxChanges() + "]";
  }

  String describe() {
    StringBuilder out = new StringBuilder(toString()).append('\n');
    for (Node node : nodes) {
      out.append("  node").append(node.index).append(" id=").append(node.id)
          .append(node.alive ? "" : " (crashed)")
          .append(" vv=").append(node.alive ? node.core.versionVector() : "-")
          .append(" snapshots in/out=")
          .append(node.core.metrics().snapshotsReceived()).append('/')
          .append(node.core.metrics().snapshotsSent())
          .append(" resyncs=").append(node.core.metrics().resyncCount())
          .append(" evictions=").append(node.replica.evictions()).append('\n');
    }
    return out.toString();
  }

  static String nodeName(Node node) {
    return "node" + Objects.requireNonNull(node).index;
  }
}
