package io.bcache.replication;

import java.util.ArrayList;
import java.util.Arrays;
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
  /** Entries this transfer has applied so far: if it is abandoned, they may be orphans. */
  long entriesApplied;
  /**
   * Per origin ({@link #appliedOrigins}, {@link #originCount} of them), the newest version this
   * transfer applied: unbounded, unlike the versions remembered, and two arrays with the last
   * origin's index at hand since a joiner notes every entry it applies.
   */
  private long[] appliedOrigins = new long[4];
  private long[] newestApplied = new long[4];
  private int originCount;
  private int lastOrigin;
  long lastProgressMillis;

  InboundSnapshot(long peerId, long requestId, String cacheName, long nowMillis) {
    this.peerId = peerId;
    this.requestId = requestId;
    this.cacheName = cacheName;
    this.lastProgressMillis = nowMillis;
  }

  /** Notes that this transfer applied a version to a replica here. */
  void applied(long origin, long hlc) {
    entriesApplied++;
    int i = lastOrigin;
    if (i >= originCount || appliedOrigins[i] != origin) {
      i = 0;
      while (i < originCount && appliedOrigins[i] != origin) {
        i++;
      }
      if (i == originCount) {
        if (i == appliedOrigins.length) {
          appliedOrigins = Arrays.copyOf(appliedOrigins, 2 * i);
          newestApplied = Arrays.copyOf(newestApplied, 2 * i);
        }
        appliedOrigins[i] = origin;
        newestApplied[i] = Long.MIN_VALUE;
        originCount++;
      }
      lastOrigin = i;
    }
    newestApplied[i] = Math.max(newestApplied[i], hlc);
  }

  /** Per origin, the newest version this transfer applied, if above {@code floor(origin)}. */
  Map<Long, Long> appliedAbove(LongUnaryOperator floor) {
    Map<Long, Long> above = new HashMap<>();
    for (int i = 0; i < originCount; i++) {
      if (newestApplied[i] > floor.applyAsLong(appliedOrigins[i])) {
        above.put(appliedOrigins[i], newestApplied[i]);
      }
    }
    return above;
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
