package io.bcache.replication;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.LongUnaryOperator;

/** A snapshot this node is receiving: which peer sends it and how far it got. */
final class InboundSnapshot {

  final long peerId;
  final long requestId;
  /** The one cache asked for, or {@code null} for all of them. */
  final String cacheName;
  /**
   * For a cache snapshot, the ranges asked for: only their origins' watermarks count as covered
   * when it completes (the sender may know more origins than it was asked to send), and only
   * within these ranges (the cache's gaps may have grown since it was asked).
   */
  Map<Long, HlcRange> ranges = Map.of();
  int nextIndex;
  /**
   * Chunks that arrived ahead of {@link #nextIndex} (the link reordered them), by index; at most
   * the sender's window of them, so that a reordering link does not cost a retransmit round each.
   */
  final TreeMap<Integer, Message.SnapshotChunk> ahead = new TreeMap<>();
  /**
   * Caches whose entries in this transfer were dropped because they did not exist here and the
   * held entries ({@link #hold}) would have outgrown their bound: the watermarks the transfer
   * completes with cover those entries, so a cache among them that exists by then is fetched again.
   */
  final Set<String> cachesMissed = new HashSet<>();
  /**
   * Versions this transfer applied to a cache after it had missed entries for it: the cache's
   * fetch after completion must not apply them again (a key evicted since would come back).
   */
  final Map<String, VersionSet> appliedAfterMiss = new HashMap<>();
  /**
   * Entries of a full snapshot for caches that do not exist here (yet), by cache: a node joins
   * when its cache manager opens, and its application creates the caches a moment later, while
   * the snapshot is already streaming. Applied when the cache is created; bounded by bytes.
   */
  private final Map<String, List<Change>> held = new HashMap<>();
  private long heldBytes;
  /**
   * For a cache snapshot that asked for this node's own writes: whether its sender had processed
   * all of them (by its digest) when asked, so that its copy holds whatever of them it ever will.
   */
  boolean ownWritesCaughtUp;
  /** For a cache snapshot: whether it is one of its sync's spaced best-effort pulls. */
  boolean bestEffort;
  /** Entries this transfer has applied so far: if it is abandoned, they may be orphans. */
  long entriesApplied;
  /** Per origin, the newest version this transfer applied: unbounded, unlike those remembered. */
  private final NewestVersions newestApplied = new NewestVersions();
  /**
   * The same per cache here that the transfer applied to: a cache that the sender's orphan events
   * do not count for (see {@link ReplicationCore}) holds orphans no count names if one of these
   * lies above the watermarks adopted. The cache of the last entry is at hand: a snapshot sends
   * its caches one after the other.
   */
  private final Map<String, NewestVersions> newestAppliedByCache = new HashMap<>();
  private String lastCache;
  private NewestVersions lastCacheNewest;
  long lastProgressMillis;

  InboundSnapshot(long peerId, long requestId, String cacheName, long nowMillis) {
    this.peerId = peerId;
    this.requestId = requestId;
    this.cacheName = cacheName;
    this.lastProgressMillis = nowMillis;
  }

  /** Notes that this transfer applied a version to a replica here. */
  void applied(String cacheName, long origin, long hlc) {
    entriesApplied++;
    newestApplied.note(origin, hlc);
    if (!cacheName.equals(lastCache)) {
      lastCacheNewest = newestAppliedByCache.computeIfAbsent(cacheName, name -> new NewestVersions());
    }
    lastCache = cacheName; // the same string as the next entry's, more often than not
    lastCacheNewest.note(origin, hlc);
  }

  /** Per origin, the newest version this transfer applied, if above {@code floor(origin)}. */
  Map<Long, Long> appliedAbove(LongUnaryOperator floor) {
    return newestApplied.above(floor);
  }

  /** Whether this transfer applied to one of {@code caches} a version above {@code floor(origin)}. */
  boolean appliedAbove(Set<String> caches, LongUnaryOperator floor) {
    for (String cacheName : caches) {
      NewestVersions newest = newestAppliedByCache.get(cacheName);
      if (newest != null && newest.anyAbove(floor)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Holds an entry of a cache that does not exist here until the cache is created or the
   * transfer ends. Beyond {@code maxBytes} held in all, the cache's held entries are dropped and
   * it is marked missed instead, as are its later entries.
   */
  void hold(Change entry, long maxBytes) {
    String cache = entry.cacheName();
    if (cachesMissed.contains(cache)) {
      return;
    }
    if (heldBytes + entry.weight() > maxBytes) {
      release(cache);
      cachesMissed.add(cache);
      return;
    }
    held.computeIfAbsent(cache, name -> new ArrayList<>()).add(entry);
    heldBytes += entry.weight();
  }

  /** Takes the entries held for a cache, in arrival order (empty if none). */
  List<Change> release(String cacheName) {
    List<Change> entries = held.remove(cacheName);
    if (entries == null) {
      return List.of();
    }
    for (Change entry : entries) {
      heldBytes -= entry.weight();
    }
    return entries;
  }

  /** The caches with held entries. */
  Set<String> heldCaches() {
    return Set.copyOf(held.keySet());
  }
}
