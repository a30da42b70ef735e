package io.bcache.replication;

import io.bcache.replication.Message.BacklogMiss;
import io.bcache.replication.Message.BacklogRequest;
import io.bcache.replication.Message.ChangeBatch;
import io.bcache.replication.Message.Digest;
import io.bcache.replication.Message.LoadRequest;
import io.bcache.replication.Message.LoadResponse;
import io.bcache.replication.Message.SnapshotAck;
import io.bcache.replication.Message.SnapshotChunk;
import io.bcache.replication.Message.SnapshotRefused;
import io.bcache.replication.Message.SnapshotRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replication logic of one node: sequencing and shipping local changes, applying remote ones
 * in order, and repairing whatever the network lost. Pure logic: the clock, the scheduler, the
 * network and the replicas are injected, and every method must be called from one thread (the
 * scheduler's tasks included), so the core holds no locks and the simulator runs it unchanged.
 *
 * <h2>Ordering</h2>
 * Each origin numbers its changes 1, 2, 3... A node applies an origin's change only when it is the
 * next one ({@code seq == applied + 1}); LWW on (hlc, origin) then decides whether the replica
 * keeps it. Earlier seqs are duplicates. A later seq reveals a gap: it is left alone and the
 * missing range is asked of the peer that sent it, from that peer's backlog. Every processed
 * change goes into this node's backlog too, so any peer can fill another's gap.
 *
 * <h2>Repair</h2>
 * Every {@code antiEntropyMillis} each node sends each peer a {@link Digest} of its version vector.
 * A node that sees it lacks changes asks for them ({@link BacklogRequest}); the peer answers from
 * its backlog and ends with its own digest, so the requester asks again if it is still behind.
 * When the backlog no longer covers the gap ({@link BacklogMiss}), the node asks that peer for a
 * full snapshot: every cache streamed in acknowledged chunks while both keep serving, after which
 * the node adopts the snapshot's watermarks. Once the network heals and writes stop, every gap is
 * thus closed within a few anti-entropy periods plus one snapshot transfer.
 *
 * <h2>Snapshots and evicted keys</h2>
 * A replica may have evicted a key it received, and sync must not push it back unless it is
 * written again. Snapshot entries carry (hlc, origin) but no seq, so a node recognises the
 * versions it has already processed by timestamp: it keeps, per origin, the highest HLC among the
 * changes it processed contiguously, and skips snapshot entries at or below it. This is exact when
 * each node publishes its own changes in increasing HLC order, which the simulator does. Writers
 * on several threads may publish slightly out of order (a write ticks the clock, then publishes
 * after the store was updated); {@code reorderToleranceMillis} then widens the window of entries
 * that are applied anyway, so that no unseen write is skipped, at the price that a key evicted
 * within that window before the snapshot may come back. Out-of-order publishes are counted in
 * {@link ReplicationMetrics#outOfOrderPublishes()}. While a full snapshot is coming in, the node
 * holds incoming changes (as many as its backlog holds) and applies them once it ends, against the
 * watermarks it adopted, so no version is applied twice; past that it drops them and pulls them
 * again afterwards.
 * Orphans (below) are remembered the same way, so one received again is not applied twice.
 *
 * <h2>Orphans and why the nodes converge</h2>
 * Call an entry a node holds <em>covered</em> when its version is at or below the node's
 * watermark for its origin (or the node is its origin). Stream changes are covered once
 * processed, a completed full snapshot is covered by the watermarks it makes the node adopt, and a
 * cache snapshot only fills ranges the node had already processed. Covered state spreads through
 * the version vectors alone: a node behind another pulls the gap from its backlog, or a full
 * snapshot when the backlog no longer holds it. The exceptions are full snapshots: one that is
 * abandoned (its sender crashed, was cut off or stalled) after it applied entries, which the node
 * keeps without adopting the sender's watermarks; and one that completed, whose entries written
 * during the pass lie above the watermarks it adopted, until the stream brings them. If no other
 * node has those versions in order (the sender may have been their only holder) no vector will
 * ever ask for them. Such entries are <em>orphans</em>. Rolling them back would need the
 * replaced versions, for as many entries as a snapshot holds; instead they spread:
 * <ul>
 * <li>the node counts an <em>orphan event</em> of its own (for a completed snapshot, once its
 * sender's connection drops while such entries are still not covered); each node keeps, per
 * cache and per copy of it on the node that raised them ({@link CopyId}), the highest event
 * count whose orphans that cache holds ({@link OrphanEvents}; its own events count for each of
 * its caches, from the copy's creation on), and sends that map for its complete caches in every
 * {@link Digest};</li>
 * <li>a full snapshot sends the sender's orphans (entries above its own watermarks, any origin
 * but itself) whatever their version, still within the requested ranges, and its last chunk
 * carries the sender's event map as of the start, which the receiver merges on completion for
 * the caches the snapshot held whole: by then those hold, or have newer versions than,
 * everything the sender held as orphans in them, since events only come from transfers that
 * already applied their entries. A cache the sender did not send gets nothing: counting the
 * sender's events for it too once left it without orphans that only another node held; and
 * one the sender did not send whole (it sends only orphans for a cache it was still fetching), or
 * that missed some of the entries meanwhile (created again, or held past their bound), does not
 * count them either: if the snapshot applied orphans to it, the node raises an event of its
 * own, as for an abandoned snapshot;</li>
 * <li>a node that sees a peer's digest with a higher count for one of its caches asks that peer
 * for a full snapshot. For a node that is caught up that snapshot is small: only entries above
 * its own watermarks are sent;</li>
 * <li>a cache created here missed the orphans pulled before it existed, so it starts with no
 * counts, and the node pulls them again from whoever holds them; created again, it also lost
 * the orphans of this node's own earlier events, which count for the closed copy: the node pulls
 * them back like any other node's, and no peer can take them from the new copy.</li>
 * </ul>
 * Convergence (the simulator's check a): once faults stop, finitely many events exist, the counts
 * only grow, and every node pulls from any peer with a higher count for a cache it has and the
 * peer has complete, so the live nodes end with the same counts for each cache; by induction
 * along the snapshots that carried each event, every node then holds (or has superseded) every
 * orphan any live node still holds in its caches, and every covered entry by the vector argument
 * above. A full snapshot that is itself abandoned raises a new event at its receiver, so
 * no entry escapes the rule. Last writer wins (check b): every path applies an entry only if its
 * version beats the one held, and no path drops a version some live node holds, so each key ends
 * with the largest version received anywhere. A node with an in-flight inbound snapshot may send
 * its entries as orphans to a third node, which then gets them again through the stream; the
 * versions remembered from snapshots (below) keep that from pushing back an evicted key, within
 * their bound.
 *
 * <h2>Tombstones</h2>
 * A removal travels as a change with a {@code null} value and leaves a versioned tombstone, which
 * the replicas keep for {@code tombstoneGraceMillis}; the core then has them purged. A write older
 * than a removal loses to the tombstone as long as it arrives within the grace period. A node cut
 * off for longer than the grace period (or a write whose timestamp lags by more than it) can bring
 * a removed key back: after the purge nothing remembers the removal, so the older value is
 * applied as new and spreads. The grace period must therefore exceed the longest partition that
 * is expected to heal, and the backlog/snapshot repair must finish within it.
 *
 * <h2>Bounded memory</h2>
 * Each peer's outbound queue holds at most {@code maxQueuedChanges}; when it overflows (a slow or
 * paused peer) the queue is dropped and the stream to that peer suspended until its next digest,
 * and the peer repairs from the backlog or a snapshot. The backlog is bounded by count and bytes,
 * catch-up answers by {@code maxCatchUpChanges}, snapshots by their window and sender count.
 */
public final class ReplicationCore {

  private static final Logger LOG = LoggerFactory.getLogger(ReplicationCore.class);
  /** How soon a snapshot chunk the connection refused (its buffer was full) is offered again. */
  private static final long REFUSED_CHUNK_RETRY_MILLIS = 1;
  /** Anti-entropy periods before an origin whose copy lacked its writes is asked for them again. */
  private static final int OWN_COPY_RETRY_PERIODS = 4;

  private final long nodeId;
  private final ReplicationConfig config;
  private final LocalReplicas replicas;
  private final PeerNetwork network;
  private final Scheduler scheduler;
  private final LongSupplier clockMillis;
  private final HybridLogicalClock hlc;

  private final VersionVector applied = new VersionVector();
  private final Backlog backlog;
  private final Map<Long, PeerState> peers = new LinkedHashMap<>();
  private final Map<Long, OutboundSnapshot> outbound = new LinkedHashMap<>();
  /**
   * Snapshot requests that came while every sender was busy, oldest first, at most one per peer
   * (its latest): each is served as a sender frees up, or refused once it has waited an
   * anti-entropy period, so that its requester asks elsewhere.
   */
  private final Map<Long, WaitingRequest> waitingRequests = new LinkedHashMap<>();
  private final Map<String, CacheSync> cacheSyncs = new TreeMap<>();
  /**
   * Every cache ever created here (one that no longer exists was closed: this node's writes to it
   * are gone from here, its peers may hold them), with this node's own watermark up to which its
   * copy lacks this node's writes: {@link Watermark#NONE} for a cache created here once (a node
   * wrote nothing to a cache it never had), this node's watermark at the latest creation for one
   * closed and created again (its copy holds only the writes made since).
   */
  private final Map<String, Watermark> ownMissingAtCreation = new HashMap<>();
  /**
   * Per cache created again, the versions replayed into its new copy from the backlog
   * ({@link #replayBacklog}): no snapshot applies them again. At most the backlog's bound each,
   * kept until the fetch of what the copy missed is over.
   */
  private final Map<String, VersionSet> replayedFromBacklog = new HashMap<>();
  /**
   * Per cache, the newest clear this node has seen (from any origin, by any path): a copy created
   * again starts from it, since the backlog may have dropped it and the node that cleared may be
   * gone (clears seed 45124).
   */
  private final Map<String, Change> latestClears = new HashMap<>();
  private final ReplicationMetrics metrics = new ReplicationMetrics();
  /**
   * Versions applied from full snapshots that the version vector does not cover yet, by cache: a
   * cache closed and created again no longer holds what was applied to its earlier copy.
   */
  private final Map<String, VersionSet> appliedFromSnapshots = new HashMap<>();
  /**
   * Orphan events whose orphans each cache here holds: per copy of the cache on the node that
   * raised them, how many times that node was left holding versions no vector covers (see the
   * class comment).
   */
  private final OrphanEvents orphanEvents;
  private final LoadRouting loads;

  private long lastLocalHlc = Long.MIN_VALUE;
  private long nextRequestId;
  /** A full snapshot is needed because some peer's backlog no longer covers a gap. */
  private boolean fullSyncNeeded;
  private long fullSyncSource = -1;
  private long fullSyncAttempts;
  private InboundSnapshot fullSync;
  /**
   * Per sender of a completed full snapshot that applied versions here above the watermarks it
   * made this node adopt (written during its pass), the newest of them per origin: until the
   * stream brings them, that sender may be their only other holder.
   */
  private final Map<Long, Map<Long, Long>> uncoveredBySender = new HashMap<>();
  /** Stream batches that arrived while the running full snapshot comes in, in arrival order. */
  private final List<HeldBatch> heldDuringFullSync = new ArrayList<>();
  private int heldChanges;
  private long heldBytes;

  private record HeldBatch(long peerId, ChangeBatch batch) {}

  private record WaitingRequest(SnapshotRequest request, long sinceMillis) {}

  private Scheduler.Cancellable antiEntropyTimer;
  private Scheduler.Cancellable purgeTimer;
  private boolean closed;
  private final GoneOrigins goneOrigins;

  /**
   * @param nodeId this node's id, the origin of its changes
   * @param config bounds and periods
   * @param replicas this node's caches
   * @param network sends to connected peers
   * @param scheduler runs the core's timers on the core's thread
   * @param clockMillis wall-clock milliseconds, for timeouts and tombstone expiry
   * @param hlc this node's clock, moved past every remote version applied
   */
  public ReplicationCore(long nodeId, ReplicationConfig config, LocalReplicas replicas,
      PeerNetwork network, Scheduler scheduler, LongSupplier clockMillis, HybridLogicalClock hlc) {
    this.nodeId = nodeId;
    this.orphanEvents = new OrphanEvents(nodeId);
    this.config = Objects.requireNonNull(config);
    this.replicas = Objects.requireNonNull(replicas);
    this.network = Objects.requireNonNull(network);
    this.scheduler = Objects.requireNonNull(scheduler);
    this.clockMillis = Objects.requireNonNull(clockMillis);
    this.hlc = Objects.requireNonNull(hlc);
    this.backlog = new Backlog(config.backlogMaxChanges(), config.backlogMaxBytes());
    this.loads = new LoadRouting(nodeId, network, scheduler, replicas, config.loadTimeoutMillis());
    this.goneOrigins = new GoneOrigins(nodeId, config.tombstoneGraceMillis());
  }

  /** Arms the periodic anti-entropy and tombstone purge. */
  public void start() {
    if (antiEntropyTimer == null && !closed) {
      antiEntropyTimer = scheduler.schedule(config.antiEntropyMillis(), this::antiEntropyRound);
      purgeTimer = scheduler.schedule(config.purgeIntervalMillis(), this::purgeRound);
    }
  }

  /** Stops the timers; call {@link #flush()} first to hand pending changes to the network. */
  public void close() {
    closed = true;
    heldDuringFullSync.clear(); // nothing more is applied here
    waitingRequests.clear(); // nor served: a sender freed as the connections drop stays idle
    loads.close();
    cancel(antiEntropyTimer);
    cancel(purgeTimer);
    peers.values().forEach(PeerState::cancelFlush);
  }

  public long nodeId() {
    return nodeId;
  }

  // ---------------------------------------------------------------- local changes

  /**
   * Publishes a local mutation that the local replica already holds: assigns its seq, keeps it in
   * the backlog and queues it for every connected peer.
   *
   * @param change the change, with this node as origin and its version set; {@code seq} ignored
   * @return the change as sequenced
   */
  public Change publishLocal(Change change) {
    if (change.origin() != nodeId) {
      throw new IllegalArgumentException("origin " + change.origin() + " is not this node");
    }
    if (change.hlc() <= lastLocalHlc) {
      metrics.outOfOrderPublishes++;
    }
    lastLocalHlc = Math.max(lastLocalHlc, change.hlc());
    Change sequenced = change.withSeq(applied.seq(nodeId) + 1);
    noteClear(sequenced);
    applied.advance(sequenced);
    backlog.append(sequenced);
    metrics.changesPublished++;
    for (PeerState peer : peers.values()) {
      if (!peer.resync) {
        enqueue(peer, sequenced);
      }
    }
    return sequenced;
  }

  /**
   * Tells the core that a cache now exists on this node. If the node had already processed
   * changes (for any cache), peers may hold entries of this cache that it will never see again
   * through the stream; it asks a peer for a snapshot of that cache. While a full snapshot comes
   * in, the entries it brought for the cache before the cache existed are applied now (they are
   * held, within the backlog's byte bound, for a cache created just after its node joined). A
   * cache created here before (and closed since) also misses this node's own writes published up
   * to now: the new copy first gets what the backlog still holds of it, and the rest is asked of
   * every member. The core sees the copy only from here on ({@link LocalReplicas#admit}); a second
   * announcement of the same copy changes nothing.
   */
  public void localCacheCreated(String cacheName) {
    if (!replicas.admit(cacheName)) {
      return; // announced before, by the creation of a copy closed since: nothing new here
    }
    // a new copy: the orphans pulled so far, and those of this node's own earlier events, are
    // not in it; pulled again from whoever holds them
    orphanEvents.cacheCreated(cacheName);
    boolean createdAgain = ownMissingAtCreation.containsKey(cacheName);
    ownMissingAtCreation.put(cacheName, createdAgain ? applied.get(nodeId) : Watermark.NONE);
    if (createdAgain) {
      // forgotten first: what follows applies to the new copy (eviction seed 47056)
      appliedFromSnapshots.remove(cacheName); // applied to the closed copy: not held any more
      replayedFromBacklog.put(cacheName, replayBacklog(cacheName));
    }
    if (fullSync != null) {
      if (createdAgain) {
        // what the running full snapshot applied to the closed copy is gone: once it completes,
        // its watermarks claim those versions, so the cache is fetched again then; what it
        // applies to the new copy from now on (held entries included) is not fetched twice; what
        // it applied to the closed copy is not in the new one (convergence seed 488506)
        fullSync.cachesMissed.add(cacheName);
        fullSync.appliedAfterMiss.remove(cacheName);
      }
      applyHeldEntries(fullSync, cacheName); // what the running full snapshot brought before
    }
    fetchMissed(cacheName, false);
  }

  /**
   * Asks a peer for what a cache here misses from before it was created: every version this node
   * had processed by then, of every origin (its own too, if the cache was closed here before).
   * Also called again for a cache whose entries a full snapshot dropped while it ran: then the
   * versions that the same copy's earlier syncs applied stay applied.
   */
  private void fetchMissed(String cacheName, boolean sameCopy) {
    if (sameCopy) {
      orphanEvents.pulledLost(cacheName); // dropped with the entries: pulled again
    }
    CacheSync sync = new CacheSync(cacheName, config.maxRememberedVersions());
    Map<Long, Watermark> processed = new TreeMap<>(applied.watermarks());
    // this node's own writes to the cache were made here while it existed, unless an earlier copy
    // of it was closed here: then those up to its creation are missing (and no later one, which
    // the new copy got, or evicted: eviction seed 17975)
    processed.put(nodeId, ownMissingAtCreation.getOrDefault(cacheName, Watermark.NONE));
    for (Map.Entry<Long, Watermark> e : processed.entrySet()) {
      if (e.getValue().seq() > 0) {
        sync.missing.put(e.getKey(), new HlcRange(Long.MIN_VALUE, e.getValue().hlc()));
        sync.neededSeq.put(e.getKey(), e.getValue().seq());
      }
    }
    VersionSet replayed = replayedFromBacklog.get(cacheName);
    if (replayed != null) {
      sync.applied.addAll(replayed);
    }
    // a sync still running for the cache is over: this one starts from what is here now
    CacheSync previous = cacheSyncs.remove(cacheName);
    if (previous != null) {
      if (previous.transfer != null) {
        send(previous.transfer.peerId, new SnapshotRefused(previous.transfer.requestId));
      }
      if (sameCopy) {
        sync.applied.addAll(previous.applied); // applied again, an entry evicted since came back
      }
    }
    for (long origin : List.copyOf(sync.missing.keySet())) {
      // this node's own writes to the cache are missing only if an earlier incarnation of it was
      // closed here: only the peers' copies hold them now. Each member is asked once and then
      // the range is given up; waiting until it was covered could never end unless a peer had
      // every one of this node's writes, and a node with an incomplete cache serves no full
      // snapshot (seed 533 livelocked). The same holds for an origin gone for good
      if (origin == nodeId || goneOrigins.isGone(origin)) {
        sync.askEveryMember(origin, goneOrigins.members());
      }
    }
    if (sync.missing.isEmpty()) {
      syncEnded(cacheName);
      return;
    }
    cacheSyncs.put(cacheName, sync);
    startCacheSync(sync);
  }

  /**
   * A cache's sync ended: the versions replayed into its copy from the backlog are not needed
   * any more, unless a full snapshot that was running when the cache was created fetches it
   * again once it completes; that fetch must not apply again what this sync applied to the
   * copy either (an entry evicted since came back: eviction seed 487702).
   */
  private void syncEnded(String cacheName) {
    CacheSync ended = cacheSyncs.remove(cacheName);
    if (fullSync == null || !fullSync.cachesMissed.contains(cacheName)) {
      replayedFromBacklog.remove(cacheName);
    } else if (ended != null && replicas.cacheNames().contains(cacheName)) {
      int bound = config.maxRememberedVersions();
      fullSync.appliedAfterMiss.computeIfAbsent(cacheName, name -> new VersionSet(bound))
          .addAll(ended.applied);
    }
  }

  /**
   * Applies to a cache created again what this node's backlog still holds of it, of every origin,
   * and returns the versions it applied. Its own writes are the point: a peer asked for them may
   * not have them yet, and one that was behind would only get them from this backlog after it
   * answered (simulator seeds 456 and 584, with caches closed and created again). The rest comes
   * along so that the new copy does not hold an own write that a later removal or clear, also
   * here, replaced (clears seed 107: the copy brought back keys another node's clear removed).
   * Writes older than half the tombstone grace are left out, as for a peer's catch-up: a removal
   * newer than one of them may have been purged. Every fetch of what this copy missed remembers
   * the versions, so that no snapshot applies one again after it was evicted (eviction seed
   * 3436); a gap found later lies above them.
   */
  private VersionSet replayBacklog(String cacheName) {
    VersionSet replayed = new VersionSet(config.maxRememberedVersions());
    for (Change change : heldOutsideCopy(cacheName)) {
      replicas.apply(change);
      replayed.add(change.origin(), change.hlc());
    }
    return replayed;
  }

  /**
   * What this node still holds of a cache apart from its copy: the newest clear it saw of it
   * (first: the writes it replaced must not come back), then the backlog's changes to it in
   * arrival order, but for writes and removals older than half the tombstone grace (clears are
   * kept whatever their age).
   */
  private List<Change> heldOutsideCopy(String cacheName) {
    List<Change> changes = new ArrayList<>();
    backlog.copyCache(cacheName, changes);
    long oldestAllowed = oldestReplayable();
    changes.removeIf(change -> !change.isClear() && change.hlc() < oldestAllowed);
    Change clear = latestClears.get(cacheName);
    if (clear != null) {
      changes.add(0, clear);
    }
    return changes;
  }

  /** Hands every queued change to the network now, without waiting for batches to fill. */
  public void flush() {
    for (PeerState peer : peers.values()) {
      flushPeer(peer);
    }
  }

  /** Changes queued for peers and not yet accepted by the network. */
  public int pendingCount() {
    int pending = 0;
    for (PeerState peer : peers.values()) {
      pending += peer.queue.size();
    }
    return pending;
  }

  /**
   * Whether every connected peer has acknowledged every change published here: its latest
   * digest covers this node's newest change. A node closing waits for this, asking with
   * {@link #requestAcknowledgements()}. What a streaming peer was handed is not enough: a peer
   * drops stream changes while it takes a full snapshot or while a gap comes before them, and
   * asks for them again only as long as this node is there to answer.
   */
  public boolean ownChangesDelivered() {
    long published = applied.seq(nodeId);
    for (PeerState peer : peers.values()) {
      if (peer.knownSeq(nodeId) < published) {
        return false;
      }
    }
    return true;
  }

  /**
   * Asks each peer that has not acknowledged every change published here for its digest now,
   * rather than at its next anti-entropy round: a backlog request for this node's changes past
   * the newest, which the peer answers with its digest alone. A peer cut over to resync resumes
   * its stream on that digest and is sent what it lacks, which a later answer acknowledges.
   */
  public void requestAcknowledgements() {
    long published = applied.seq(nodeId);
    for (PeerState peer : peers.values()) {
      if (peer.knownSeq(nodeId) < published) {
        send(peer.id, new BacklogRequest(Map.of(nodeId, published + 1)));
      }
    }
  }

  // ---------------------------------------------------------------- peers

  /**
   * The cluster's members (node ids) as the membership now sees them. An origin absent from them
   * for the tombstone grace is gone for good: a gap of its versions that no copy can fill is
   * given up once every member has sent what it holds of it, instead of being asked for forever.
   * Without this (and after {@link #membersUnknown()}) no origin is ever taken for gone.
   */
  public void membersAre(Set<Long> members) {
    Set<Long> joined = new TreeSet<>(members);
    joined.removeAll(goneOrigins.members());
    joined.remove(nodeId);
    goneOrigins.membersAre(members);
    if (!joined.isEmpty()) {
      // a range asked of every member is asked of one that joined meanwhile too: it may have
      // got versions from a member whose copy was closed since, and is then their only holder
      // (convergence seed 287436: a node's own writes, given up after the one member asked had
      // answered while refilling its copy created again)
      cacheSyncs.values().forEach(sync -> sync.membersJoined(joined));
    }
  }

  /** The membership cannot see the cluster for now (ZooKeeper unreachable): no one is gone. */
  public void membersUnknown() {
    goneOrigins.membersUnknown(clockMillis.getAsLong());
  }

  /** A connection to a peer is established (or re-established). */
  public void peerUp(long peerId) {
    if (peerId == nodeId) {
      return;
    }
    PeerState old = peers.remove(peerId);
    if (old != null) {
      dropPeer(old);
    }
    PeerState peer = new PeerState(peerId);
    peers.put(peerId, peer);
    send(peerId, digest());
  }

  /** The connection to a peer is lost: its queue and the transfers with it are dropped. */
  public void peerDown(long peerId) {
    PeerState peer = peers.remove(peerId);
    if (peer != null) {
      dropPeer(peer);
    }
  }

  private void dropPeer(PeerState peer) {
    loads.peerDown(peer.id);
    peer.cancelFlush();
    peer.queue.clear();
    waitingRequests.remove(peer.id);
    if (outbound.remove(peer.id) != null) {
      metrics.snapshotsAbandoned++;
      serveWaitingRequests();
    }
    boolean raised = false;
    if (fullSync != null && fullSync.peerId == peer.id) {
      raised = noteOrphans(fullSync);
      fullSync = null;
      metrics.snapshotsAbandoned++;
    }
    Map<Long, Long> uncovered = uncoveredBySender.remove(peer.id);
    if (!raised && uncovered != null && !covered(uncovered)) {
      // its full snapshot brought versions written during the pass that the stream has not
      // brought yet: should it have crashed before they left it, this node holds them alone,
      // and peers that kept the versions they replaced must pull them (seed 264194)
      raiseOrphanEvent();
    }
    for (CacheSync sync : cacheSyncs.values()) {
      if (sync.transfer != null && sync.transfer.peerId == peer.id) {
        sync.transfer = null;
        metrics.snapshotsAbandoned++;
      }
    }
    if (fullSync == null) {
      releaseHeldBatches();
    }
  }

  /** Handles a message from a connected peer. */
  public void onMessage(long peerId, Message message) {
    PeerState peer = peers.get(peerId);
    if (peer == null || closed) {
      return;
    }
    if (message instanceof ChangeBatch m) {
      onChangeBatch(peer, m);
    } else if (message instanceof Digest m) {
      onDigest(peer, m);
    } else if (message instanceof BacklogRequest m) {
      onBacklogRequest(peer, m);
    } else if (message instanceof BacklogMiss m) {
      onBacklogMiss(peer, m);
    } else if (message instanceof SnapshotRequest m) {
      onSnapshotRequest(peer, m);
    } else if (message instanceof SnapshotChunk m) {
      onSnapshotChunk(peer, m);
    } else if (message instanceof SnapshotAck m) {
      onSnapshotAck(peer, m);
    } else if (message instanceof SnapshotRefused m) {
      onSnapshotRefused(peer, m);
    } else if (message instanceof LoadRequest m) {
      loads.onRequest(peer.id, m);
    } else if (message instanceof LoadResponse m) {
      loads.onResponse(peer.id, m);
    }
  }

  /**
   * Routes a read-through miss of {@code key} in a cache that loads cluster-wide to the key's
   * owner among this node and the connected peers that have the cache complete (see
   * {@link LoadRouting}); {@code answer} is called once, on this core's thread.
   */
  public void routeLoad(String cacheName, byte[] key, Consumer<LoadResult> answer) {
    if (closed) {
      answer.accept(LoadResult.LOAD_HERE);
      return;
    }
    List<Long> holders = new ArrayList<>();
    for (PeerState peer : peers.values()) {
      if (peer.lastDigest != null && peer.lastDigest.cacheNames().contains(cacheName)) {
        holders.add(peer.id);
      }
    }
    loads.route(cacheName, key, holders, answer);
  }

  // ---------------------------------------------------------------- stream

  /**
   * How many more local changes to {@link #publishLocal publish} now; the caller holds the rest
   * back, and its writers wait. A peer whose connection is full fills its queue; once that queue
   * is half its bound, the peer holds local changes back, so that a peer merely slower than this
   * node's writers slows them down instead of dropping to a resync, which costs far more than the
   * stream. A peer that stays there for {@code slowPeerMillis} (paused, or slower for good) is cut
   * over to resync, as when its queue overflows, and holds nothing back any more. The caller asks
   * again shortly while the answer is 0.
   */
  public int localChangeAllowance() {
    int half = config.maxQueuedChanges() / 2;
    int allowance = Integer.MAX_VALUE;
    for (PeerState peer : peers.values()) {
      if (peer.resync) {
        continue;
      }
      int depth = peer.queue.size();
      if (depth < half) {
        peer.slowSince = PeerState.NOT_SLOW;
        allowance = Math.min(allowance, half - depth);
      } else if (peer.slowSince == PeerState.NOT_SLOW) {
        peer.slowSince = clockMillis.getAsLong();
        allowance = 0;
      } else if (clockMillis.getAsLong() - peer.slowSince >= config.slowPeerMillis()) {
        cutOverToResync(peer);
      } else {
        allowance = 0;
      }
    }
    return allowance;
  }

  private void enqueue(PeerState peer, Change change) {
    if (peer.queue.size() >= config.maxQueuedChanges()) {
      cutOverToResync(peer);
      return;
    }
    peer.queue.addLast(change);
    if (peer.connectionFull) {
      return; // the retry already scheduled sends it
    }
    if (peer.queue.size() >= config.maxBatchChanges()) {
      flushPeer(peer);
    } else if (peer.flushTimer == null) {
      peer.flushTimer = scheduler.schedule(config.flushDelayMillis(), () -> {
        peer.flushTimer = null;
        if (peers.get(peer.id) == peer) {
          flushPeer(peer);
        }
      });
    }
  }

  /** A slow or paused peer: stop buffering for it; it repairs from the backlog or a snapshot. */
  private void cutOverToResync(PeerState peer) {
    peer.queue.clear();
    peer.cancelFlush();
    peer.resync = true;
    peer.slowSince = PeerState.NOT_SLOW;
    peer.overflows++;
    metrics.queueOverflows++;
  }

  private void flushPeer(PeerState peer) {
    peer.cancelFlush();
    while (!peer.queue.isEmpty()) {
      int count = 0;
      int bytes = 0;
      List<Change> batch = new ArrayList<>(Math.min(peer.queue.size(), config.maxBatchChanges()));
      while (count < peer.queue.size() && count < config.maxBatchChanges()) {
        Change next = peer.queue.get(count);
        if (count > 0 && bytes + next.weight() > config.maxBatchBytes()) {
          break;
        }
        batch.add(next);
        bytes += next.weight();
        count++;
      }
      if (!network.send(peer.id, new ChangeBatch(batch))) {
        // the connection is full: keep the queue (it is bounded) and try again shortly
        peer.connectionFull = true;
        peer.flushTimer = scheduler.schedule(Math.max(1, config.flushDelayMillis()), () -> {
          peer.flushTimer = null;
          if (peers.get(peer.id) == peer) {
            flushPeer(peer);
          }
        });
        return;
      }
      for (int i = 0; i < count; i++) {
        peer.queue.removeFirst();
      }
      countSent(peer, count, bytes);
    }
  }

  private void countSent(PeerState peer, int changes, long bytes) {
    peer.changesSent += changes;
    peer.bytesSent += bytes;
    metrics.changesSent += changes;
    metrics.bytesSent += bytes;
  }

  private void onChangeBatch(PeerState peer, ChangeBatch batch) {
    peer.changesReceived += batch.changes().size();
    metrics.changesReceived += batch.changes().size();
    if (fullSync != null) {
      holdDuringFullSync(peer.id, batch);
      return;
    }
    applyBatch(peer, batch.changes());
  }

  /**
   * A batch that arrives while a full snapshot comes in waits for it to end: the watermarks it
   * makes this node adopt tell which of the batch's changes are new. Dropped instead, to be
   * pulled again afterwards, the stream and every answer to a pull went to waste for as long as
   * full snapshots followed one another (traced in convergence seed 911122, where a node so
   * learnt of a removal only after its tombstone was purged). As many are held as the backlog
   * holds, where they go once applied; the batches past that are dropped, and the gap they leave
   * is pulled.
   */
  private void holdDuringFullSync(long peerId, ChangeBatch batch) {
    long bytes = 0;
    for (Change change : batch.changes()) {
      bytes += change.weight();
    }
    if (heldChanges + batch.changes().size() > config.backlogMaxChanges()
        || heldBytes + bytes > config.backlogMaxBytes()) {
      metrics.changesDroppedDuringSync += batch.changes().size();
      return;
    }
    heldDuringFullSync.add(new HeldBatch(peerId, batch));
    heldChanges += batch.changes().size();
    heldBytes += bytes;
  }

  /**
   * Applies the batches held while a full snapshot came in, now that it ended: those of a peer no
   * longer connected too (its changes are in hand; its origin may have crashed). A change older
   * than a backlog replays (half the tombstone grace) is not applied, for the same reason: a
   * removal that replaced it may have had its tombstone purged by now, here or on the snapshot's
   * sender before its pass reached the key (a full snapshot that keeps making progress may run
   * for any time), and it would come back. The gap it leaves is pulled, and so falls back to a
   * snapshot, which carries the writes as state.
   *
   * <p>Removals and clears are kept whatever their age (they bring nothing back), and those that
   * such a gap, or one the stream left, keeps from being processed in order are applied ahead of
   * it: a snapshot carries a removal only while its tombstone lives, and the one that repairs the
   * gap may come after that (convergence seed 911122: a node's full snapshots ran for 2 s, the
   * removal it held sat behind an older write it dropped, and no copy still had the removal when
   * the node asked). Until the vector covers such a removal it is an orphan, as a full
   * snapshot's entries written during the pass are (see the class comment): if the peer that
   * sent it drops first, or has already, this node may be the only one left that holds it.
   */
  private void releaseHeldBatches() {
    List<HeldBatch> held = List.copyOf(heldDuringFullSync);
    heldDuringFullSync.clear();
    heldChanges = 0;
    heldBytes = 0;
    long oldestAllowed = oldestReplayable();
    boolean orphaned = false;
    for (HeldBatch batch : held) {
      List<Change> kept = new ArrayList<>(batch.batch().changes().size());
      for (Change change : batch.batch().changes()) {
        if (change.value() == null || change.hlc() >= oldestAllowed) {
          kept.add(change);
        } else {
          metrics.changesDroppedDuringSync++;
        }
      }
      if (kept.isEmpty()) {
        continue;
      }
      PeerState peer = peers.get(batch.peerId());
      applyBatch(peer, kept);
      Map<Long, Long> ahead = new TreeMap<>();
      for (Change change : kept) {
        if (change.value() == null && change.origin() != nodeId
            && change.seq() > applied.seq(change.origin()) && applyAheadOfOrder(change)) {
          ahead.merge(change.origin(), change.hlc(), Math::max);
        }
      }
      if (ahead.isEmpty()) {
        continue;
      }
      if (peer == null) {
        orphaned = true;
      } else {
        noteUncovered(peer.id, ahead);
      }
    }
    if (orphaned) {
      raiseOrphanEvent();
    }
  }

  /**
   * Applies a removal or clear before the versions of its origin that precede it, and remembers
   * it, so that it is not applied again when its turn comes or a snapshot carries it. Returns
   * whether this cache exists here (if not, the cache's sync fetches it once it does).
   */
  private boolean applyAheadOfOrder(Change erasure) {
    noteClear(erasure);
    ApplyResult result = replicas.apply(erasure);
    if (result == ApplyResult.NO_SUCH_CACHE) {
      return false;
    }
    if (result == ApplyResult.APPLIED) {
      metrics.changesApplied++;
    }
    rememberedFor(erasure.cacheName()).add(erasure.origin(), erasure.hlc());
    return true;
  }

  /**
   * Notes versions that a peer's transfer or batch brought here above the vector, newest per
   * origin: should the peer drop before the vector covers them, this node raises an orphan event.
   */
  private void noteUncovered(long peerId, Map<Long, Long> newestByOrigin) {
    if (!newestByOrigin.isEmpty()) {
      Map<Long, Long> held = uncoveredBySender.computeIfAbsent(peerId, id -> new HashMap<>());
      newestByOrigin.forEach((origin, hlc) -> held.merge(origin, hlc, Math::max));
    }
  }

  /** Applies a peer's changes in seq order; {@code peer} is null if it is no longer connected. */
  private void applyBatch(PeerState peer, List<Change> changes) {
    // the clock passes the batch's newest version before any of it is applied (and readable
    // here): once per batch rather than once per change, each time an atomic update
    long newest = Long.MIN_VALUE;
    for (Change change : changes) {
      newest = Math.max(newest, change.hlc());
    }
    hlc.observe(newest);
    Map<Long, Long> gaps = null;
    for (Change change : changes) {
      metrics.bytesReceived += change.weight();
      if (change.origin() == nodeId || change.seq() == 0) {
        continue;
      }
      long next = applied.seq(change.origin()) + 1;
      if (change.seq() < next) {
        metrics.duplicatesIgnored++;
      } else if (change.seq() > next) {
        metrics.gapsDetected++;
        if (gaps == null) {
          gaps = new TreeMap<>();
        }
        gaps.putIfAbsent(change.origin(), next);
      } else {
        process(change);
      }
    }
    if (gaps != null && peer != null) {
      pull(peer, gaps);
    }
  }

  /** Remembers a clear as its cache's newest, if it is (see {@link #latestClears}). */
  private void noteClear(Change change) {
    if (change.isClear() && ownMissingAtCreation.containsKey(change.cacheName())) {
      latestClears.merge(change.cacheName(), change.withSeq(0),
          (held, now) -> now.isNewerThan(held) ? now : held);
    }
  }

  /** Hands the next change of its origin to the replicas and records it as processed. */
  private void process(Change change) {
    noteClear(change);
    VersionSet remembered = appliedFromSnapshots.get(change.cacheName());
    if (remembered != null && remembered.remove(change.origin(), change.hlc())) {
      metrics.snapshotEntriesSkipped++; // a snapshot transfer applied it already
    } else if (replicas.apply(change) == ApplyResult.APPLIED) {
      metrics.changesApplied++;
    }
    applied.advance(change);
    backlog.append(change);
  }

  // ---------------------------------------------------------------- catch-up

  /**
   * This node's version vector and its complete caches: a cache still waiting for the changes it
   * missed before it was created here is not advertised, so that no peer copies its gaps. Origins
   * gone for good are left out: the vector gains one origin per node start, and every digest to
   * every peer carried them all. No peer can still lack the versions of an origin gone for the
   * tombstone grace unless it was cut off that long, past which convergence is not promised
   * anyway (and one that learns of such a version from a cache snapshot pulls it from the
   * sender). This node keeps them in its own vector, to recognise their versions in snapshots.
   */
  private Digest digest() {
    Set<String> complete = completeCaches();
    Map<Long, Long> versions = applied.seqs();
    versions.keySet().removeIf(goneOrigins::isGone);
    return new Digest(versions, complete, orphanEvents.advertised(complete));
  }

  /** The caches here that miss no change from before they were created. */
  private Set<String> completeCaches() {
    Set<String> complete = new TreeSet<>(replicas.cacheNames());
    complete.removeAll(cacheSyncs.keySet());
    return complete;
  }

  private void onDigest(PeerState peer, Digest digest) {
    peer.previousDigest = peer.lastDigest;
    peer.lastDigest = digest;
    // the peer answers every backlog request with its digest: the request is done
    peer.pullDeadline = Long.MIN_VALUE;
    // and it is listening: resume the stream if it had been cut over to resync, and send it what
    // its dropped queue held rather than wait for it to find the gap an exchange later
    if (peer.resync) {
      peer.resync = false;
      long has = digest.versions().getOrDefault(nodeId, 0L);
      if (has < applied.seq(nodeId)) {
        onBacklogRequest(peer, new BacklogRequest(Map.of(nodeId, has + 1)));
      }
    }
    if (orphanEvents.lacksAnyOf(digest.orphans(), replicas.cacheNames())) {
      // the peer holds orphans this node has not pulled yet: only a full snapshot carries them
      fullSyncNeeded = true;
      if (fullSync == null) {
        fullSyncSource = peer.id;
      }
      startFullSync();
    }
    pullIfBehind(peer);
    for (CacheSync sync : cacheSyncs.values()) {
      if (sync.transfer == null) {
        startCacheSync(sync);
      }
    }
  }

  /**
   * Whether this node holds {@code entry} above its own version vector: an orphan, left by an
   * abandoned full snapshot (or pulled in from another node's orphans).
   */
  private boolean isOrphan(Change entry) {
    return entry.origin() != nodeId && entry.hlc() > applied.hlc(entry.origin());
  }

  /**
   * Asks a peer for the changes it had processed and this node has not. Compared with the digest
   * before its latest, once there is one: under a steady stream the latest digest is always a
   * little ahead of what has arrived here (changes still queued or on the wire), and pulling that
   * difference only fetched them twice (4-8% of a benchmark's changes were duplicates); what is
   * still missing an exchange later was lost. A gap the stream reveals is pulled at once.
   */
  private void pullIfBehind(PeerState peer) {
    if (fullSync != null || peer.lastDigest == null) {
      return;
    }
    Digest reference = peer.previousDigest != null ? peer.previousDigest : peer.lastDigest;
    Map<Long, Long> missing = new TreeMap<>();
    reference.versions().forEach((origin, seq) -> {
      long have = applied.seq(origin);
      if (origin != nodeId && seq > have) {
        missing.put(origin, have + 1);
      }
    });
    if (!missing.isEmpty()) {
      pull(peer, missing);
    }
  }

  /** Asks a peer for changes from its backlog, unless a request to it is still outstanding. */
  private void pull(PeerState peer, Map<Long, Long> fromSeq) {
    long now = clockMillis.getAsLong();
    if (now < peer.pullDeadline) {
      return;
    }
    if (send(peer.id, new BacklogRequest(fromSeq))) {
      peer.pullDeadline = now + config.requestTimeoutMillis();
    }
  }

  private void onBacklogRequest(PeerState peer, BacklogRequest request) {
    List<Change> changes = new ArrayList<>();
    Set<Long> misses = new TreeSet<>();
    int budget = config.maxCatchUpChanges();
    for (Map.Entry<Long, Long> e : request.fromSeq().entrySet()) {
      long origin = e.getKey();
      long from = Math.max(1, e.getValue());
      if (from > applied.seq(origin)) {
        continue; // nothing newer here
      }
      // up to what this node processed: an answer that stopped at the backlog's newest change of
      // the origin, short of a watermark adopted from a snapshot since, looked complete, and the
      // peer asked again at every digest for versions that never came (clears seed 41074 with
      // caches closed and created again: the node that held them alone had taken them from a
      // snapshot, and their origin had crashed)
      if (!backlog.covers(origin, from, applied.seq(origin)) || tooOldToReplay(origin, from)) {
        misses.add(origin);
      } else if (budget > 0) {
        budget -= backlog.copy(origin, from, budget, changes);
      }
    }
    sendBatches(peer, changes);
    if (!misses.isEmpty()) {
      metrics.backlogMisses++;
      send(peer.id, new BacklogMiss(misses));
    }
    send(peer.id, digest());
  }

  /**
   * Whether the backlog's change of {@code origin} at {@code seq} is too old to be replayed: a
   * removal newer than it, from another origin, may have reached the requester first and had its
   * tombstone purged there (a tombstone lives a grace period from the removal's own time), and
   * the change would then bring the key back (simulator eviction seed 3205: a node that joined
   * 3.3 s after a removal caught up on it and on an older write from two backlogs, the grace
   * being 3 s there). Half the grace period leaves the other half for the answer to travel and
   * for clock skew; the requester repairs older gaps from a snapshot, which carries state.
   */
  private boolean tooOldToReplay(long origin, long seq) {
    return backlog.hlcAt(origin, seq).orElse(Long.MAX_VALUE) < oldestReplayable();
  }

  /**
   * The oldest timestamp a change may have to be replayed anywhere: from the backlog to a peer,
   * into a copy created again, or from what was held through a full snapshot. Half the tombstone
   * grace, which leaves the other half for clocks apart.
   */
  private long oldestReplayable() {
    return HybridLogicalClock.timestampOf(
        clockMillis.getAsLong() - config.tombstoneGraceMillis() / 2);
  }

  private void sendBatches(PeerState peer, List<Change> changes) {
    int start = 0;
    while (start < changes.size()) {
      int end = start;
      int bytes = 0;
      while (end < changes.size() && end - start < config.maxBatchChanges()) {
        int weight = changes.get(end).weight();
        if (end > start && bytes + weight > config.maxBatchBytes()) {
          break;
        }
        bytes += weight;
        end++;
      }
      if (!network.send(peer.id, new ChangeBatch(changes.subList(start, end)))) {
        return; // the requester asks again after its timeout
      }
      countSent(peer, end - start, bytes);
      start = end;
    }
  }

  private void onBacklogMiss(PeerState peer, BacklogMiss miss) {
    fullSyncNeeded = true;
    fullSyncSource = peer.id;
    startFullSync();
  }

  // ---------------------------------------------------------------- snapshots, receiving side

  private void startFullSync() {
    if (!fullSyncNeeded || fullSync != null || peers.isEmpty()) {
      return;
    }
    PeerState source = peers.get(fullSyncSource);
    if (source == null) {
      // rotate, so that a peer that keeps refusing does not hold the sync up
      List<PeerState> candidates = new ArrayList<>(peers.values());
      source = candidates.get((int) (fullSyncAttempts % candidates.size()));
    }
    fullSyncAttempts++;
    Map<Long, HlcRange> ranges = new TreeMap<>();
    for (Map.Entry<Long, Watermark> e : applied.watermarks().entrySet()) {
      ranges.put(e.getKey(), new HlcRange(seenUpTo(e.getKey()), Long.MAX_VALUE));
    }
    long requestId = nextRequestId(source.id);
    InboundSnapshot transfer =
        new InboundSnapshot(source.id, requestId, null, clockMillis.getAsLong());
    if (send(source.id, new SnapshotRequest(requestId, null, ranges))) {
      fullSync = transfer;
      // the source streams one snapshot per requester: this request ends any cache snapshot it
      // was sending here, which would otherwise wait for its timeout
      for (CacheSync sync : cacheSyncs.values()) {
        if (sync.transfer != null && sync.transfer.peerId == source.id) {
          sync.transfer = null;
          metrics.snapshotsAbandoned++;
        }
      }
      LOG.debug("node {} requests full snapshot {} from {}", name(nodeId), requestId, name(source.id));
    }
  }

  /**
   * The timestamp up to which this node has surely processed an origin's versions; snapshot
   * entries at or below it are not applied (see the class comment).
   */
  private long seenUpTo(long origin) {
    if (origin == nodeId) {
      return Long.MAX_VALUE; // every own version was processed here first
    }
    if (applied.seq(origin) == 0) {
      return Long.MIN_VALUE;
    }
    long tolerance = HybridLogicalClock.timestampOf(config.reorderToleranceMillis());
    return applied.hlc(origin) - tolerance;
  }

  /**
   * Asks a peer for what a cache sync still misses: all of it from a peer advertising the cache
   * complete and far enough along; failing that, one origin's range from that origin itself,
   * whose own copy holds every write it made to the cache (it made them while the cache existed
   * there), complete or not; failing that, whatever a peer advertising the cache covers. Without
   * the second source, nodes whose copies all have gaps could wait on each other for good while
   * refusing full snapshots to a node that advertises the cache but is behind (seed 1504).
   */
  private void startCacheSync(CacheSync sync) {
    if (sync.transfer != null) {
      return;
    }
    PeerState source = null;
    Map<Long, HlcRange> ranges = sync.missing;
    // a peer streams one snapshot per requester: asking a peer that is sending one here would
    // cancel it, and caches created together then cancelled each other until their tombstones
    // were purged (seed 1386); such a peer is asked once its transfer ends
    // nor is a peer asked again whose last answer named versions this node has yet to process:
    // it would answer the same. Asked at every digest, an origin so kept busy refused the other
    // nodes' snapshots, which the stream waited on (convergence seed 911122). No stream brings
    // an origin gone for good: a peer is asked again at once for its versions, and each answer
    // pulls them (a wait on them lasted for good once that pull was lost; found in review)
    sync.waitingForStream.values().removeIf(waitFor -> covered(waitFor)
        || waitFor.keySet().stream().anyMatch(goneOrigins::isGone));
    List<PeerState> idle = new ArrayList<>();
    for (PeerState peer : peers.values()) {
      if (!receivingFrom(peer.id) && !sync.waitingForStream.containsKey(peer.id)) {
        idle.add(peer);
      }
    }
    for (PeerState peer : idle) {
      if (peer.hasCache(sync.cacheName) && sync.coveredBy(peer)) {
        source = peer;
        break;
      }
    }
    if (source == null) {
      for (PeerState peer : idle) {
        HlcRange own = sync.missing.get(peer.id);
        // an origin whose copy claimed nothing of its own writes (it had closed the cache, or was
        // fetching them back itself) is asked again once it advertises the cache or a few periods
        // later: asked at every round instead, the other sources never got a turn, and a sync
        // outlasted the tombstone grace (seed 16470 with caches closed and created again)
        long retryAt = sync.ownCopyRetryAt.getOrDefault(peer.id, Long.MIN_VALUE);
        if (own != null && peer.lastDigest != null
            && (clockMillis.getAsLong() >= retryAt || peer.hasCache(sync.cacheName))) {
          source = peer;
          ranges = sync.askWhole.contains(peer.id) ? sync.missing : Map.of(peer.id, own);
          break;
        }
      }
    }
    if (source == null) {
      for (PeerState peer : idle) {
        // a peer not past what earlier transfers covered would cover nothing, again and again
        if (peer.hasCache(sync.cacheName) && sync.partlyCoveredBy(peer)) {
          source = peer;
          break;
        }
      }
    }
    boolean bestEffort = false;
    if (source == null) {
      source = bestEffortSource(sync, idle);
      bestEffort = true;
    }
    if (source == null) {
      return;
    }
    long requestId = nextRequestId(source.id);
    if (send(source.id, new SnapshotRequest(requestId, sync.cacheName, ranges))) {
      sync.transfer =
          new InboundSnapshot(source.id, requestId, sync.cacheName, clockMillis.getAsLong());
      sync.asked = true;
      sync.transfer.ranges = Map.copyOf(ranges);
      sync.transfer.bestEffort = bestEffort;
      // this node's own earlier writes reach a peer's copy through the stream too (from this
      // node's backlog, to a peer that was behind): its answer counts once it had caught up
      sync.transfer.ownWritesCaughtUp =
          source.knownSeq(nodeId) >= sync.neededSeq.getOrDefault(nodeId, Long.MAX_VALUE);
      LOG.debug("node {} requests snapshot {} of cache {} from {} for {}", name(nodeId), requestId,
          sync.cacheName, name(source.id), ranges);
    }
  }

  /**
   * No peer can cover the gaps: their origin is gone (or cut off) and every copy of the cache
   * that is left has gaps of its own, or none covers the versions the origin sent only here
   * before it went. The peers' copies, gaps or not, may still hold some of those versions, and
   * they must spread for the copies to converge (seeds 2726, 4057): ask each peer in turn for
   * what it holds in the missing ranges; a snapshot serves that without claiming to cover it, so
   * the sync stays open, asking less and less often, until the membership shows the origin gone
   * for good ({@link #membersAre}): then every member is asked once more, first, and the range is
   * given up once all have answered. Asking only the connected peers gave up during partitions,
   * while a cut-off peer still held versions (seeds 185 and 481 of an earlier attempt).
   */
  private PeerState bestEffortSource(CacheSync sync, List<PeerState> idle) {
    long now = clockMillis.getAsLong();
    List<PeerState> candidates = new ArrayList<>();
    for (PeerState peer : idle) {
      if (peer.lastDigest != null) {
        candidates.add(peer);
      }
    }
    if (candidates.isEmpty() || now < sync.nextBestEffortMillis) {
      return null;
    }
    // members still to answer for a range asked of every member come first: after them, it is
    // given up. One busy sending another snapshot here is waited for: asking the others again
    // instead spaced the pulls out until it was asked only after the tombstone grace (seed 74255)
    List<PeerState> toAsk = candidates.stream().filter(peer -> sync.stillToAsk(peer.id)).toList();
    if (toAsk.isEmpty() && peers.keySet().stream().anyMatch(sync::stillToAsk)) {
      return null;
    }
    int spread = candidates.size();
    if (!toAsk.isEmpty()) {
      candidates = toAsk;
    }
    PeerState source = candidates.get(sync.bestEffortPulls % candidates.size());
    int answered = Math.max(0, sync.bestEffortPulls - sync.refusedPulls);
    sync.nextBestEffortMillis =
        now + (config.antiEntropyMillis() << Math.min(answered / spread, 5));
    sync.bestEffortPulls++;
    return source;
  }

  /** Whether a snapshot transfer from this peer to this node is running. */
  private boolean receivingFrom(long peerId) {
    if (fullSync != null && fullSync.peerId == peerId) {
      return true;
    }
    for (CacheSync sync : cacheSyncs.values()) {
      if (sync.transfer != null && sync.transfer.peerId == peerId) {
        return true;
      }
    }
    return false;
  }

  /**
   * Starts the cache syncs that have not asked anyone yet, after a transfer ended. One that did
   * ask already waits for the next digest: asking again at once after a transfer that covered
   * nothing would loop as fast as the network answers.
   */
  private void startIdleCacheSyncs() {
    for (CacheSync sync : List.copyOf(cacheSyncs.values())) {
      if (sync.transfer == null && !sync.asked) {
        startCacheSync(sync);
      }
    }
  }

  private void onSnapshotChunk(PeerState peer, SnapshotChunk chunk) {
    InboundSnapshot transfer = findInbound(peer.id, chunk.requestId());
    if (transfer == null) {
      send(peer.id, new SnapshotRefused(chunk.requestId())); // stale transfer: stop sending it
      return;
    }
    if (chunk.index() != transfer.nextIndex) {
      // ahead of the next one (a reordering link): keep it, within the window, for when the gap
      // is filled; behind (a duplicate or a retransmit): drop it
      if (chunk.index() > transfer.nextIndex
          && chunk.index() < transfer.nextIndex + config.snapshotWindow()) {
        transfer.ahead.put(chunk.index(), chunk);
      }
      send(peer.id, new SnapshotAck(chunk.requestId(), transfer.nextIndex));
      return;
    }
    applyChunk(peer, transfer, chunk);
    // chunks that had arrived early follow, as long as they are contiguous
    SnapshotChunk next;
    while (findInbound(peer.id, chunk.requestId()) == transfer
        && (next = transfer.ahead.remove(transfer.nextIndex)) != null) {
      applyChunk(peer, transfer, next);
    }
  }

  private void applyChunk(PeerState peer, InboundSnapshot transfer, SnapshotChunk chunk) {
    transfer.ahead.headMap(transfer.nextIndex, true).clear();
    CacheSync sync = transfer.cacheName == null ? null : cacheSyncs.get(transfer.cacheName);
    // a chunk holds runs of one cache's entries: its set is looked up once per run
    String rememberedName = null;
    VersionSet remembered = sync == null ? null : sync.applied;
    for (Change entry : chunk.changes()) {
      if (sync == null && !entry.cacheName().equals(rememberedName)) {
        rememberedName = entry.cacheName();
        remembered = rememberedFor(rememberedName);
      }
      if (wantsSnapshotEntry(entry, sync)
          && !remembered.containsBefore(transfer.requestId, entry.origin(), entry.hlc())) {
        hlc.observe(entry.hlc());
        applySnapshotEntry(transfer, remembered, entry.seq() == 0 ? entry : entry.withSeq(0));
      } else {
        metrics.snapshotEntriesSkipped++;
      }
    }
    transfer.nextIndex++;
    transfer.lastProgressMillis = clockMillis.getAsLong();
    send(peer.id, new SnapshotAck(chunk.requestId(), transfer.nextIndex));
    if (chunk.last()) {
      completeInbound(peer, transfer, sync, chunk);
    }
  }

  private void applySnapshotEntry(InboundSnapshot transfer, VersionSet remembered, Change entry) {
    noteClear(entry);
    ApplyResult result = replicas.apply(entry);
    if (result == ApplyResult.NO_SUCH_CACHE) {
      // not applied: a later transfer must not skip it as applied once the cache exists
      if (transfer.cacheName == null) {
        transfer.hold(entry, config.backlogMaxBytes());
      } else {
        transfer.cachesMissed.add(entry.cacheName());
      }
      return;
    }
    if (result == ApplyResult.APPLIED) {
      metrics.changesApplied++;
      transfer.applied(entry.cacheName(), entry.origin(), entry.hlc());
    }
    remembered.record(transfer.requestId, entry.origin(), entry.hlc());
    if (!transfer.cachesMissed.isEmpty() && transfer.cachesMissed.contains(entry.cacheName())) {
      int bound = config.maxRememberedVersions();
      transfer.appliedAfterMiss.computeIfAbsent(entry.cacheName(), name -> new VersionSet(bound))
          .add(entry.origin(), entry.hlc());
    }
  }

  /** The versions full snapshots applied to a cache here that the vector does not cover yet. */
  private VersionSet rememberedFor(String cacheName) {
    return appliedFromSnapshots.computeIfAbsent(cacheName,
        name -> new VersionSet(config.maxRememberedVersions()));
  }

  /** Whether the version vector covers each of these newest versions, by origin. */
  private boolean covered(Map<Long, Long> newestByOrigin) {
    for (Map.Entry<Long, Long> e : newestByOrigin.entrySet()) {
      if (e.getValue() > applied.hlc(e.getKey())) {
        return false;
      }
    }
    return true;
  }

  /** Applies what a full snapshot held for a cache that did not exist when they arrived. */
  private void applyHeldEntries(InboundSnapshot transfer, String cacheName) {
    for (Change entry : transfer.release(cacheName)) {
      applySnapshotEntry(transfer, rememberedFor(cacheName), entry);
    }
  }

  private boolean wantsSnapshotEntry(Change entry, CacheSync sync) {
    if (sync != null) {
      HlcRange range = sync.missing.get(entry.origin());
      return range != null && range.contains(entry.hlc())
          && !sync.processedHere(entry.origin(), entry.hlc());
    }
    return entry.hlc() > seenUpTo(entry.origin());
  }

  private void completeInbound(PeerState sender, InboundSnapshot transfer, CacheSync sync,
      SnapshotChunk last) {
    Map<Long, Watermark> watermarks = last.watermarks();
    Set<String> sent = last.caches();
    metrics.snapshotsReceived++;
    LOG.debug("node {} completed snapshot {} from {} with watermarks {}", name(nodeId),
        transfer.requestId, name(transfer.peerId), watermarks);
    if (sync != null) {
      sync.transfer = null;
      Map<Long, Watermark> asked = new TreeMap<>(watermarks);
      asked.keySet().retainAll(transfer.ranges.keySet());
      // a version the sender left out and the stream has not brought may have replaced one
      // asked for (a newer write, a removal or a clear, of any origin): what was asked is asked
      // again, or else, should the sender crash before that version left it, this node would
      // hold neither while another copy kept the replaced one (clears seeds 48588, 48629)
      // asked of the origin itself for its own writes only
      boolean ownWritesOfSender = transfer.ranges.keySet().equals(Set.of(transfer.peerId));
      sync.askWhole.remove(transfer.peerId);
      Map<Long, Long> gonePulls = new TreeMap<>();
      // the versions the stream must bring here before this sender can answer otherwise
      Map<Long, Long> waitFor = new TreeMap<>();
      for (Map.Entry<Long, Long> left : last.newerThanAsked().entrySet()) {
        long origin = left.getKey();
        HlcRange stillMissing = sync.missing.get(origin);
        if (ownWritesOfSender && stillMissing != null
            && stillMissing.contains(left.getValue())
            && !sync.processedHere(origin, left.getValue())) {
          // a version this cache still misses replaced one asked for. Counted on to come with
          // its origin's range, it was lost when the only copy that held it closed (its origin
          // had crashed), and this copy alone lacked the key (seed 178867): the sender is asked
          // again, for every range still missing, and sends that version with them
          asked.clear();
          sync.askWhole.add(transfer.peerId);
        }
        if (left.getValue() > applied.hlc(origin)) {
          asked.clear();
          waitFor.merge(origin, left.getValue(), Math::max);
          if (goneOrigins.isGone(origin)) {
            // no stream brings an origin gone for good, and no digest names it: asked again and
            // again, the same snapshot came back at every round, for good (clears seed 41074)
            gonePulls.put(origin, applied.seq(origin) + 1);
          }
        }
      }
      if (!gonePulls.isEmpty()) {
        pull(sender, gonePulls);
      }
      if (waitFor.isEmpty()) {
        sync.waitingForStream.remove(transfer.peerId);
      } else {
        sync.waitingForStream.put(transfer.peerId, waitFor);
      }
      if (ownWritesOfSender) {
        // did its copy claim to hold them all?
        if (watermarks.containsKey(transfer.peerId)) {
          sync.ownCopyRetryAt.remove(transfer.peerId);
        } else {
          sync.ownCopyRetryAt.put(transfer.peerId,
              clockMillis.getAsLong() + OWN_COPY_RETRY_PERIODS * config.antiEntropyMillis());
        }
      }
      sync.covered(asked, transfer.ranges);
      Set<Long> answeredFor = new HashSet<>(transfer.ranges.keySet());
      if (!transfer.ownWritesCaughtUp) {
        answeredFor.remove(nodeId);
      }
      if (sync.answered(transfer.peerId, answeredFor)) {
        syncEnded(sync.cacheName);
      }
      startIdleCacheSyncs(); // this sender is free for the next one
      return;
    }
    // entries held for caches created meanwhile whose creation has not reached the core yet
    for (String cacheName : transfer.heldCaches()) {
      if (replicas.cacheNames().contains(cacheName)) {
        applyHeldEntries(transfer, cacheName);
      }
    }
    fullSync = null;
    fullSyncNeeded = false;
    // the snapshot carried every orphan the sender held in the caches it sent: the caches here
    // among them hold the sender's events now, except those whose entries were dropped meanwhile
    Set<String> received = new HashSet<>(sent);
    received.retainAll(replicas.cacheNames());
    received.removeAll(transfer.cachesMissed);
    orphanEvents.snapshotCompleted(last.orphans(), received);
    // a full snapshot holds only the caches its sender had when it started (its last chunk names
    // them): for any other cache here, the versions the adopted watermarks skip must still come
    // from a peer that has it (seed 1378). The sender's digest is no substitute: it may name a
    // cache created since the start (seed 2240), or omit one it held but was still fetching when
    // it last sent a digest, whose versions this node then applied twice (seed 2010)
    Map<Long, HlcRange> skipped = new TreeMap<>();
    Map<Long, Long> skippedSeq = new TreeMap<>();
    watermarks.forEach((origin, mark) -> {
      long seenBefore = seenUpTo(origin);
      if (origin != nodeId && applied.adopt(origin, mark) && mark.hlc() > seenBefore) {
        skipped.put(origin, new HlcRange(seenBefore, mark.hlc()));
        skippedSeq.put(origin, mark.seq());
      }
    });
    if (!skipped.isEmpty()) {
      for (String cacheName : replicas.cacheNames()) {
        if (!sent.contains(cacheName)) {
          // an abandoned full snapshot may have applied some of them: forgotten below, they would
          // be applied again by the cache's snapshot, and an entry evicted since came back (10030)
          CacheSync gaps = addCacheGaps(cacheName, skipped, skippedSeq);
          gaps.applied.addAll(rememberedFor(cacheName));
        }
      }
      cacheSyncs.values().removeIf(gapped -> gapped.missing.isEmpty() && gapped.transfer == null);
    }
    // a cache the sender did not send whole (it sent only its orphans), or that missed entries
    // meanwhile, lacks some of the sender's orphans, so the sender's events do not count for it:
    // those it got are orphans no count names, and only an event of this node's own makes peers
    // pull them (convergence seed 641925, once events were counted per copy). The sender's own
    // writes from above the watermarks are none: the stream brings them, and should the sender
    // drop first, the check on its drop raises (an event for them here sent every peer to pull
    // a full snapshot for nothing, and so set off convergence seed 904334's endless cache syncs)
    Set<String> uncounted = new HashSet<>(replicas.cacheNames());
    uncounted.removeAll(received);
    long senderId = sender.id;
    if (transfer.appliedAbove(uncounted,
        origin -> origin == senderId ? Long.MAX_VALUE : applied.hlc(origin))) {
      raiseOrphanEvent();
    }
    // what the adopted watermarks cover can come neither from the stream nor a snapshot again
    appliedFromSnapshots.values().forEach(remembered -> remembered.removeAtOrBelow(this::seenUpTo));
    appliedFromSnapshots.values().removeIf(VersionSet::isEmpty);
    uncoveredBySender.values().removeIf(this::covered);
    Map<Long, Long> uncovered = transfer.appliedAbove(applied::hlc);
    noteUncovered(sender.id, uncovered);
    // a cache created while the transfer ran lost the entries that came before it, and the
    // adopted watermarks claim them: fetch that cache as if it were created now
    Set<String> existing = replicas.cacheNames();
    for (String cacheName : transfer.cachesMissed) {
      if (existing.contains(cacheName)) {
        fetchMissed(cacheName, true);
        CacheSync fetch = cacheSyncs.get(cacheName);
        VersionSet alreadyApplied = transfer.appliedAfterMiss.get(cacheName);
        if (fetch != null && alreadyApplied != null) {
          fetch.applied.addAll(alreadyApplied);
        }
      }
    }
    // versions replayed into a copy are needed only while a fetch of what it missed runs
    replayedFromBacklog.keySet().retainAll(cacheSyncs.keySet());
    // changes that arrived during the transfer were held: apply them, and fetch what is missing
    for (PeerState peer : peers.values()) {
      peer.pullDeadline = Long.MIN_VALUE;
    }
    releaseHeldBatches();
    for (PeerState peer : peers.values()) {
      pullIfBehind(peer);
    }
  }

  /** Records versions a cache here still misses, merged into its sync if it has one; returns it. */
  private CacheSync addCacheGaps(String cacheName, Map<Long, HlcRange> ranges,
      Map<Long, Long> seqs) {
    CacheSync sync = cacheSyncs.computeIfAbsent(cacheName,
        name -> new CacheSync(name, config.maxRememberedVersions()));
    ranges.forEach(sync::addGap);
    seqs.forEach((origin, seq) -> sync.neededSeq.merge(origin, seq, Math::max));
    for (long origin : ranges.keySet()) {
      if (goneOrigins.isGone(origin)) {
        sync.askEveryMember(origin, goneOrigins.members()); // asked of every member again
      }
    }
    LOG.debug("node {} cache {} still misses {}", name(nodeId), cacheName, ranges);
    return sync;
  }

  private InboundSnapshot findInbound(long peerId, long requestId) {
    if (fullSync != null && fullSync.peerId == peerId && fullSync.requestId == requestId) {
      return fullSync;
    }
    for (CacheSync sync : cacheSyncs.values()) {
      InboundSnapshot transfer = sync.transfer;
      if (transfer != null && transfer.peerId == peerId && transfer.requestId == requestId) {
        return transfer;
      }
    }
    return null;
  }

  private void onSnapshotRefused(PeerState peer, SnapshotRefused refused) {
    OutboundSnapshot sending = outbound.get(peer.id);
    if (sending != null && sending.requestId == refused.requestId()) {
      outbound.remove(peer.id);
      metrics.snapshotsAbandoned++;
      serveWaitingRequests();
      return;
    }
    WaitingRequest waiting = waitingRequests.get(peer.id);
    if (waiting != null && waiting.request().requestId() == refused.requestId()) {
      waitingRequests.remove(peer.id); // its requester gave up on it
      return;
    }
    InboundSnapshot transfer = findInbound(peer.id, refused.requestId());
    if (transfer != null) {
      abandonInbound(transfer);
      CacheSync sync = transfer.cacheName == null ? null : cacheSyncs.get(transfer.cacheName);
      if (sync != null && transfer.bestEffort && transfer.nextIndex == 0) {
        // the peer was busy sending another snapshot: the pull taught nothing, so the next
        // candidate is asked a period after it, and it does not count towards the spacing.
        // Counted, the refusals of busy senders stretched the spacing until a node asking every
        // member for its own writes asked the last one after the settle time (convergence seed
        // 911122); asking the same busy peer again instead, at every digest, kept an idle one
        // that held the versions from being asked (found in review)
        sync.refusedPulls++;
        sync.nextBestEffortMillis = Math.min(sync.nextBestEffortMillis,
            transfer.lastProgressMillis + config.antiEntropyMillis());
      }
    }
  }

  /**
   * A full snapshot is abandoned after it applied entries: some may stay above every version
   * vector for good (their sender may be gone). This node announces a new orphan event, so that
   * every other node pulls a full snapshot from it (or from a node that already did).
   */
  private boolean noteOrphans(InboundSnapshot transfer) {
    if (transfer.entriesApplied == 0) {
      return false;
    }
    raiseOrphanEvent();
    return true;
  }

  /** Announces that this node may hold versions no vector covers: every peer pulls them from it. */
  private void raiseOrphanEvent() {
    orphanEvents.raise();
    metrics.orphanEvents++;
  }

  private void abandonInbound(InboundSnapshot transfer) {
    metrics.snapshotsAbandoned++;
    if (transfer == fullSync) {
      noteOrphans(transfer);
      fullSync = null; // still needed: retried at the next anti-entropy round
      fullSyncSource = -1;
      releaseHeldBatches();
    } else {
      CacheSync sync = cacheSyncs.get(transfer.cacheName);
      if (sync != null && sync.transfer == transfer) {
        sync.transfer = null;
      }
    }
  }

  // ---------------------------------------------------------------- snapshots, sending side

  private void onSnapshotRequest(PeerState peer, SnapshotRequest request) {
    if (request.requestId() <= peer.lastSnapshotRequestId) {
      // a copy of a request already served, duplicated or delayed on the way. Serving it again
      // restarted the pass over the store under the same id, and the requester took chunks of
      // both passes for one: it dropped the second pass's first chunks as duplicates, yet
      // adopted its watermarks, which covered a write only those chunks held (seed 3425)
      return;
    }
    peer.lastSnapshotRequestId = request.requestId();
    OutboundSnapshot previous = outbound.remove(peer.id);
    if (previous != null) {
      metrics.snapshotsAbandoned++; // the peer gave up on it and asks again
    }
    waitingRequests.remove(peer.id); // superseded, as is a transfer under way
    if (outbound.size() >= config.maxSnapshotSenders()
        && (request.isFull() || config.maxSnapshotSenders() == 0)) {
      // a full snapshot's requester turns to its next source when refused; kept in line here,
      // it came back to this busy node at every digest (its backlog miss named this node) and
      // waited for it while an idle peer held the same (found in review)
      send(peer.id, new SnapshotRefused(request.requestId()));
      return;
    }
    // a cache's, first come, first served: refused at once while the senders were busy, a node
    // that asks only at digests lost every sender that freed up to a peer whose fetches follow
    // one another at once, for as long as it had fetches. Waiting, the request holds no place
    // that a requester which moved on could block
    waitingRequests.put(peer.id, new WaitingRequest(request, clockMillis.getAsLong()));
    serveWaitingRequests();
  }

  /** Serves the waiting requests, oldest first, while a sender is free. */
  private void serveWaitingRequests() {
    for (var it = waitingRequests.entrySet().iterator();
        it.hasNext() && outbound.size() < config.maxSnapshotSenders(); ) {
      Map.Entry<Long, WaitingRequest> waiting = it.next();
      it.remove();
      serveSnapshot(peers.get(waiting.getKey()), waiting.getValue().request());
    }
  }

  /**
   * Refuses the requests that waited an anti-entropy period (one or two, by the round's phase):
   * their requesters may find a sender free elsewhere, and one that still needs this node asks
   * again at the digest that follows.
   */
  private void refuseLongWaitingRequests(long now) {
    for (var it = waitingRequests.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Long, WaitingRequest> waiting = it.next();
      if (now - waiting.getValue().sinceMillis() >= config.antiEntropyMillis()) {
        it.remove();
        send(waiting.getKey(), new SnapshotRefused(waiting.getValue().request().requestId()));
      }
    }
  }

  private void serveSnapshot(PeerState peer, SnapshotRequest request) {
    // a cache with gaps of its own would hand them on as if covered by the watermarks: a full
    // snapshot leaves such caches out (but for their orphans) and its last chunk does not name
    // them, so the receiver fetches them elsewhere; refusing the whole snapshot instead kept a
    // node whose gap no live peer can fill (its origin crashed) from ever serving one, and a
    // node that needed one from it stayed behind for good (seeds 3559, 4057). A cache snapshot
    // claims no watermark for the origins this copy has gaps for (nor, for a cache this node does
    // not have, for any origin but itself), yet sends what it holds of them in the asked ranges:
    // when their origin is gone, copies with gaps may be all that is left of its writes (2726)
    Map<Long, Watermark> bounds = applied.watermarks();
    Map<Long, Watermark> watermarks = bounds;
    boolean absentHere = !request.isFull() && !replicas.cacheNames().contains(request.cacheName());
    // a copy not admitted yet may hold writes of this node too: served as one closed here
    boolean closedHere = absentHere && (ownMissingAtCreation.containsKey(request.cacheName())
        || replicas.awaitsAdmission(request.cacheName()));
    if (!request.isFull()) {
      CacheSync ownGaps = cacheSyncs.get(request.cacheName());
      if (absentHere) {
        // a node that never had the cache wrote nothing to it, so it covers its own range; one
        // that closed it may have, and claiming that range lost those writes for the requester
        watermarks = new TreeMap<>(watermarks);
        watermarks.keySet().retainAll(closedHere ? Set.of() : Set.of(nodeId));
      } else if (ownGaps != null) {
        watermarks = new TreeMap<>(watermarks);
        watermarks.keySet().removeAll(ownGaps.missing.keySet());
      }
    }
    Set<String> complete = completeCaches();
    OutboundSnapshot transfer = new OutboundSnapshot(peer.id, request, watermarks, bounds, complete,
        orphanEvents.advertised(complete), this::isOrphan, replicas, config,
        clockMillis.getAsLong());
    if (closedHere) {
      // a copy closed here still holds, in the backlog, what it would get back if created again:
      // answering with nothing, it counted as having answered, and a requester asking every
      // member for its own writes gave up one that only this backlog held (seed 98099)
      transfer.serveFirst(heldOutsideCopy(request.cacheName()));
    }
    LOG.debug("node {} serves snapshot {} of {} to {}", name(nodeId), request.requestId(),
        request.isFull() ? "all caches" : request.cacheName(), name(peer.id));
    outbound.put(peer.id, transfer);
    pumpSnapshot(transfer);
  }

  /**
   * A new id for a snapshot asked of {@code peerId}: increasing, and of the parity that the pair's
   * order gives this node, so that it never equals the id of a snapshot that peer asks of this
   * node. A refusal names only the id, and either side sends one: with equal ids, a node that
   * ended the snapshot it was sending took the refusal for one of its own transfers, and two
   * copies asking each other for their gaps cancelled each other's transfers for good
   * (convergence seed 3626).
   */
  private long nextRequestId(long peerId) {
    nextRequestId++;
    return 2 * nextRequestId + (nodeId < peerId ? 0 : 1);
  }

  /** Sends what a transfer can; if the connection refused a chunk, tries again shortly. */
  private void pumpSnapshot(OutboundSnapshot transfer) {
    transfer.pump(network, clockMillis.getAsLong());
    if (transfer.hasRefused() && !transfer.retryScheduled) {
      transfer.retryScheduled = true;
      scheduler.schedule(REFUSED_CHUNK_RETRY_MILLIS, () -> {
        transfer.retryScheduled = false;
        if (outbound.get(transfer.peerId) == transfer) {
          pumpSnapshot(transfer);
        }
      });
    }
  }

  private void onSnapshotAck(PeerState peer, SnapshotAck ack) {
    OutboundSnapshot transfer = outbound.get(peer.id);
    if (transfer == null || transfer.requestId != ack.requestId()) {
      return;
    }
    if (transfer.copyReplaced()) {
      // the cache was closed here during the pass, and the rest would come from a copy that is
      // gone: asked for this node's writes to it once this node created it again, the
      // requester answered without those that this transfer brought it only afterwards, and
      // they were given up here while its copy held them (convergence seed 279898). It asks
      // again, of the new copy or another
      outbound.remove(peer.id);
      metrics.snapshotsAbandoned++;
      send(peer.id, new SnapshotRefused(transfer.requestId));
      serveWaitingRequests();
      return;
    }
    if (transfer.acknowledge(ack.nextIndex(), network, clockMillis.getAsLong())) {
      outbound.remove(peer.id);
      metrics.snapshotsSent++;
      serveWaitingRequests();
    } else if (transfer.hasRefused()) {
      pumpSnapshot(transfer);
    }
  }

  // ---------------------------------------------------------------- timers

  private void antiEntropyRound() {
    if (closed) {
      return;
    }
    long now = clockMillis.getAsLong();
    // transfers that stalled: retransmit, or give up and start over
    for (var it = outbound.values().iterator(); it.hasNext(); ) {
      OutboundSnapshot transfer = it.next();
      if (now - transfer.lastProgressMillis >= config.snapshotTimeoutMillis()) {
        it.remove();
        metrics.snapshotsAbandoned++;
        send(transfer.peerId, new SnapshotRefused(transfer.requestId));
      } else {
        transfer.retransmitIfDue(network, now, config.snapshotRetransmitMillis());
      }
    }
    serveWaitingRequests();
    refuseLongWaitingRequests(now); // just before the digest, at which a requester asks again
    Digest digest = digest();
    for (PeerState peer : peers.values()) {
      send(peer.id, digest);
    }
    if (fullSync != null && now - fullSync.lastProgressMillis >= config.snapshotTimeoutMillis()) {
      InboundSnapshot stalled = fullSync;
      abandonInbound(stalled);
      send(stalled.peerId, new SnapshotRefused(stalled.requestId));
    }
    retireGoneOrigins(now);
    Set<String> existing = replicas.cacheNames();
    for (CacheSync sync : List.copyOf(cacheSyncs.values())) {
      InboundSnapshot transfer = sync.transfer;
      boolean closedHere = !existing.contains(sync.cacheName);
      if (transfer != null && (closedHere
          || now - transfer.lastProgressMillis >= config.snapshotTimeoutMillis())) {
        abandonInbound(transfer);
        send(transfer.peerId, new SnapshotRefused(transfer.requestId));
      }
      if (closedHere) {
        // nothing to fetch into: peers stop serving it, and created again, it starts anew
        syncEnded(sync.cacheName);
      } else {
        startCacheSync(sync);
      }
    }
    startFullSync();
    antiEntropyTimer = scheduler.schedule(config.antiEntropyMillis(), this::antiEntropyRound);
  }

  /**
   * Origins absent from the members for the grace are gone for good: each cache sync asks every
   * member once more for what it holds of their missing versions, and then gives them up; and
   * as members, they are no longer waited for.
   */
  private void retireGoneOrigins(long now) {
    for (long origin : goneOrigins.retire(applied.origins(), now)) {
      LOG.debug("node {}: origin {} is gone for good", name(nodeId), name(origin));
      for (CacheSync sync : List.copyOf(cacheSyncs.values())) {
        sync.memberGone(origin);
        if (sync.askEveryMember(origin, goneOrigins.members())) {
          syncEnded(sync.cacheName);
          if (sync.transfer != null) {
            send(sync.transfer.peerId, new SnapshotRefused(sync.transfer.requestId));
          }
          LOG.info("node {}: cache {} gave up the versions of nodes gone for good that no member"
              + " holds", name(nodeId), sync.cacheName);
        }
      }
    }
  }

  private void purgeRound() {
    if (closed) {
      return;
    }
    long horizon = clockMillis.getAsLong() - config.tombstoneGraceMillis();
    replicas.purgeTombstones(HybridLogicalClock.timestampOf(horizon));
    purgeTimer = scheduler.schedule(config.purgeIntervalMillis(), this::purgeRound);
  }

  private boolean send(long peerId, Message message) {
    return network.send(peerId, message);
  }

  private static void cancel(Scheduler.Cancellable timer) {
    if (timer != null) {
      timer.cancel();
    }
  }

  // ---------------------------------------------------------------- observation

  public ReplicationMetrics metrics() {
    return metrics;
  }

  /** The changes queued for a peer, 0 if it is not connected. */
  public int queueDepth(long peerId) {
    PeerState peer = peers.get(peerId);
    return peer == null ? 0 : peer.queue.size();
  }

  /** Queue depth per connected peer. */
  public Map<Long, Integer> queueDepths() {
    Map<Long, Integer> depths = new LinkedHashMap<>();
    peers.forEach((id, peer) -> depths.put(id, peer.queue.size()));
    return depths;
  }

  /** Whether the stream to a peer is suspended after its queue overflowed. */
  public boolean isResyncing(long peerId) {
    PeerState peer = peers.get(peerId);
    return peer != null && peer.resync;
  }

  /** The connected peers. */
  public Set<Long> peers() {
    return Set.copyOf(peers.keySet());
  }

  /** Per origin, the highest seq processed without a gap (this node's own included). */
  public Map<Long, Long> versionVector() {
    return applied.seqs();
  }

  public int backlogSize() {
    return backlog.size();
  }

  public long backlogBytes() {
    return backlog.bytes();
  }

  /** Snapshots being streamed to peers now. */
  public int activeSnapshotSenders() {
    return outbound.size();
  }

  /** The most unacknowledged chunks of any outgoing snapshot. */
  public int maxUnackedChunks() {
    int max = 0;
    for (OutboundSnapshot transfer : outbound.values()) {
      max = Math.max(max, transfer.unackedChunks());
    }
    return max;
  }

  /** Whether a full snapshot is being received, or needed and not yet started. */
  public boolean isSyncing() {
    return fullSync != null || fullSyncNeeded || !cacheSyncs.isEmpty();
  }

  /**
   * A snapshot of this core's state and of each connected peer's queue and lag; see
   * {@link PeerStatus} for what each figure means.
   */
  public ReplicationStatus status() {
    long now = clockMillis.getAsLong();
    long published = applied.seq(nodeId);
    List<PeerStatus> statuses = new ArrayList<>(peers.size());
    for (PeerState peer : peers.values()) {
      long acknowledged = Math.min(peer.knownSeq(nodeId), published);
      long unacknowledged = published - acknowledged;
      long lag = 0;
      if (unacknowledged > 0) {
        // the backlog may have dropped the oldest ones: then the newest own change, which is
        // unacknowledged too, gives a lower bound
        long oldest = backlog.hlcAtOrAfter(nodeId, acknowledged + 1).orElse(lastLocalHlc);
        // a clock pushed ahead by a peer's timestamps can put a change slightly in the future
        lag = Math.max(0, now - HybridLogicalClock.physicalMillis(oldest));
      }
      statuses.add(new PeerStatus(peer.id, peer.queue.size(), unacknowledged, lag, peer.resync,
          peer.changesSent, peer.changesReceived));
    }
    return new ReplicationStatus(now, statuses, metrics.changesPublished, metrics.changesApplied,
        metrics.queueOverflows, metrics.snapshotsSent, metrics.snapshotsReceived, isSyncing());
  }

  /** A node id as logs, ZooKeeper and the cluster MXBean show it: 16 hex digits. */
  private static String name(long nodeId) {
    return HexFormat.of().toHexDigits(nodeId);
  }

  /** Bytes sent per peer (approximate, see {@link Change#weight()}). */
  public Map<Long, Long> bytesSentPerPeer() {
    Map<Long, Long> bytes = new HashMap<>();
    peers.forEach((id, peer) -> bytes.put(id, peer.bytesSent));
    return bytes;
  }
}
