package io.bcache.replication;

import io.bcache.replication.Message.SnapshotChunk;
import io.bcache.replication.Message.SnapshotRequest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * Streams one snapshot to one peer while this node keeps serving: chunks of bounded size, at most
 * a window of them unacknowledged, resent when acknowledgements stop coming.
 *
 * <p>The watermarks are taken when the transfer starts. A cache snapshot sends only entries whose
 * version is at or below its origin's watermark: it then reflects exactly the changes up to the
 * watermarks (for keys this node still holds), and a later write reaches the receiver through the
 * stream or its backlog. A full snapshot sends later entries too, since the version the
 * watermarks claim for such a key is no longer here to send; the receiver remembers them, so the
 * stream's copy is not applied twice. It also sends its orphans: entries this node holds above
 * its own version vector (left by an abandoned transfer, see {@link ReplicationCore}), which no
 * stream will ever carry, whatever their version.
 */
final class OutboundSnapshot {

  final long peerId;
  final long requestId;
  private final SnapshotRequest request;
  /** The watermarks this snapshot claims: every change up to them is reflected in it. */
  private final Map<Long, Watermark> watermarks;
  /**
   * This node's own watermarks: above them, the receiver gets an entry through the stream, and a
   * cache snapshot leaves it out. A cache snapshot may send entries of origins it claims nothing
   * for.
   */
  private final Map<Long, Watermark> bounds;
  private final Map<String, Map<CopyId, Long>> orphans;
  private final Predicate<Change> orphan;
  private final LocalReplicas replicas;
  private final int maxChanges;
  private final int maxBytes;
  private final int window;
  private final Iterator<String> cacheNames;
  /**
   * For a full snapshot, the caches it holds: those this node had complete when it started. Of
   * the others (their copies here still miss versions) it sends only orphans.
   */
  private final Set<String> fullCaches;
  /**
   * The copies this snapshot sends, as they were when the pass began: those of
   * {@link #fullCaches} (one that changed is not named as sent whole), or the one cache's
   * ({@code null} if this node had none).
   */
  private final Map<String, Object> copies = new HashMap<>();
  private Iterator<Change> entries = Collections.emptyIterator();
  private Change pending;

  private final ArrayDeque<SnapshotChunk> unacked = new ArrayDeque<>();
  /** How many of the unacknowledged chunks, from the front, the network has taken. */
  private int handedOver;
  private int nextIndex;
  private boolean producedLast;
  /** For a one-cache snapshot: per origin, the newest claimed version left out as not asked for. */
  private final Map<Long, Long> newerThanAsked = new HashMap<>();
  long lastProgressMillis;
  long lastSendMillis;
  boolean retryScheduled;

  OutboundSnapshot(long peerId, SnapshotRequest request, Map<Long, Watermark> watermarks,
      Map<Long, Watermark> bounds, Set<String> completeCaches,
      Map<String, Map<CopyId, Long>> orphans, Predicate<Change> orphan, LocalReplicas replicas,
      ReplicationConfig config, long nowMillis) {
    this.orphans = orphans;
    this.orphan = orphan;
    this.peerId = peerId;
    this.requestId = request.requestId();
    this.request = request;
    this.watermarks = watermarks;
    this.bounds = bounds;
    this.replicas = replicas;
    this.maxChanges = config.maxBatchChanges();
    this.maxBytes = config.maxBatchBytes();
    this.window = config.snapshotWindow();
    this.fullCaches = request.isFull() ? Set.copyOf(completeCaches) : Set.of();
    for (String cache : request.isFull() ? fullCaches : Set.of(request.cacheName())) {
      copies.put(cache, replicas.copyOf(cache));
    }
    this.cacheNames = request.isFull()
        ? List.copyOf(new TreeSet<>(replicas.cacheNames())).iterator()
        : List.of(request.cacheName()).iterator();
    this.lastProgressMillis = nowMillis;
    this.lastSendMillis = nowMillis;
  }

  /**
   * Sends these changes first, before the copy's entries, filtered the same way: what a node
   * that closed the cache still holds of it.
   */
  void serveFirst(List<Change> changes) {
    entries = changes.iterator();
  }

  /**
   * Sends the chunks the network refused before, then new ones while the window has room; stops
   * at the first one the network refuses (its connection is full), which {@link #hasRefused}
   * then reports so that the caller retries soon rather than at the next retransmission.
   */
  void pump(PeerNetwork network, long nowMillis) {
    int index = 0;
    for (SnapshotChunk chunk : unacked) {
      if (index++ < handedOver) {
        continue;
      }
      if (!network.send(peerId, chunk)) {
        return;
      }
      handedOver++;
      lastSendMillis = nowMillis;
    }
    while (!producedLast && unacked.size() < window) {
      SnapshotChunk chunk = nextChunk();
      unacked.addLast(chunk);
      if (!network.send(peerId, chunk)) {
        return;
      }
      handedOver++;
      lastSendMillis = nowMillis;
    }
  }

  /** Whether this one-cache snapshot's copy was closed (perhaps created again) since it began. */
  boolean copyReplaced() {
    Object atStart = request.isFull() ? null : copies.get(request.cacheName());
    return atStart != null && replicas.copyOf(request.cacheName()) != atStart;
  }

  /** Whether a chunk is waiting because the network refused it. */
  boolean hasRefused() {
    return handedOver < unacked.size();
  }

  /** Takes a cumulative acknowledgement; returns whether the transfer is complete. */
  boolean acknowledge(int ackedUpTo, PeerNetwork network, long nowMillis) {
    boolean progress = false;
    while (!unacked.isEmpty() && unacked.peekFirst().index() < ackedUpTo) {
      unacked.removeFirst();
      handedOver = Math.max(0, handedOver - 1);
      progress = true;
    }
    if (progress) {
      lastProgressMillis = nowMillis;
    }
    if (isDone()) {
      return true;
    }
    pump(network, nowMillis);
    return false;
  }

  boolean isDone() {
    return producedLast && unacked.isEmpty();
  }

  /** Resends the unacknowledged chunks if none was sent for {@code retransmitMillis}. */
  void retransmitIfDue(PeerNetwork network, long nowMillis, long retransmitMillis) {
    if (unacked.isEmpty() || nowMillis - lastSendMillis < retransmitMillis) {
      return;
    }
    lastSendMillis = nowMillis;
    handedOver = 0;
    for (SnapshotChunk chunk : unacked) {
      if (!network.send(peerId, chunk)) {
        return;
      }
      handedOver++;
    }
  }

  int unackedChunks() {
    return unacked.size();
  }

  private SnapshotChunk nextChunk() {
    List<Change> changes = new ArrayList<>();
    int bytes = 0;
    while (changes.size() < maxChanges && bytes < maxBytes) {
      Change next = nextEntry();
      if (next == null) {
        producedLast = true;
        break;
      }
      if (!changes.isEmpty() && bytes + next.weight() > maxBytes) {
        pending = next;
        break;
      }
      changes.add(next);
      bytes += next.weight();
    }
    if (!producedLast && pending == null) {
      // the chunk filled up exactly: look ahead so that an empty final chunk is not needed
      pending = nextEntry();
      producedLast = pending == null;
    }
    return new SnapshotChunk(requestId, nextIndex++, changes, producedLast,
        producedLast ? watermarks : Map.of(), producedLast ? orphans : Map.of(),
        producedLast ? sentWhole() : Set.of(), producedLast ? newerThanAsked : Map.of());
  }

  /**
   * The caches this full snapshot sent whole: those complete when it began whose copy is still
   * the same. A cache closed during the pass (and perhaps created again) was sent in part, and
   * naming it made the receiver adopt watermarks for versions it never got (seed 1391 of the
   * simulator's closed-and-created-again caches).
   */
  private Set<String> sentWhole() {
    Set<String> whole = new TreeSet<>();
    for (String cache : fullCaches) {
      Object copy = copies.get(cache);
      if (copy != null && copy == replicas.copyOf(cache)) {
        whole.add(cache);
      }
    }
    return whole;
  }

  /** The next entry the request asks for, or {@code null} when there are no more. */
  private Change nextEntry() {
    if (pending != null) {
      Change next = pending;
      pending = null;
      return next;
    }
    for (;;) {
      while (entries.hasNext()) {
        Change entry = entries.next();
        if (wanted(entry)) {
          return entry.seq() == 0 ? entry : entry.withSeq(0);
        }
      }
      if (!cacheNames.hasNext()) {
        return null;
      }
      String cacheName = cacheNames.next();
      // a one-cache snapshot of a cache this node did not have when it began sends only what
      // serveFirst gave it, not a copy created since, which holds what was served first again
      // (a duplicate the receiver took for a new version and pushed back after evicting the
      // first: eviction seed 244727)
      boolean absentAtStart = !request.isFull() && copies.get(cacheName) == null;
      entries = absentAtStart ? Collections.emptyIterator() : replicas.snapshot(cacheName);
    }
  }

  private boolean wanted(Change entry) {
    HlcRange range = request.ranges().get(entry.origin());
    if (request.isFull() && orphan.test(entry)) {
      // no version vector covers an orphan: the snapshot is the only way it spreads
      return range == null || range.contains(entry.hlc());
    }
    if (request.isFull() && !fullCaches.contains(entry.cacheName())) {
      return false; // not named in the last chunk: the receiver fetches this cache elsewhere
    }
    Watermark mark = bounds.get(entry.origin());
    if (!request.isFull() && (range == null || entry.hlc() > range.upTo())) {
      if (mark != null && entry.hlc() <= mark.hlc()) {
        // left out as not asked for, it may have replaced a version that was: the receiver
        // counts the ranges covered once its stream has brought this one too, which it can
        // pull from this node's backlog since the watermarks claim it
        newerThanAsked.merge(entry.origin(), entry.hlc(), Math::max);
      }
      return false;
    }
    if (mark == null || entry.hlc() > mark.hlc()) {
      // written after the watermarks: the stream brings it, which a cache snapshot leaves it
      // to. A full snapshot sends it too: should this node crash before the write left it, the
      // receiver held neither it nor the older version the watermarks claim, while the other
      // nodes kept that one (convergence seed 264194)
      return request.isFull() && (range == null || range.contains(entry.hlc()));
    }
    if (range == null) {
      return request.isFull();
    }
    return range.contains(entry.hlc());
  }
}
