package io.bcache.replication;

/** A snapshot this node is receiving: which peer sends it and how far it got. */
final class InboundSnapshot {

  final long peerId;
  final long requestId;
  /** The one cache asked for, or {@code null} for all of them. */
  final String cacheName;
  /**
   * For a cache snapshot, the origins asked for: only their watermarks count as covered when it
   * completes (the sender may know more origins than it was asked to send).
   */
  java.util.Set<Long> origins = java.util.Set.of();
  int nextIndex;
  /**
   * Chunks that arrived ahead of {@link #nextIndex} (the link reordered them), by index; at most
   * the sender's window of them, so that a reordering link does not cost a retransmit round each.
   */
  final java.util.TreeMap<Integer, Message.SnapshotChunk> ahead = new java.util.TreeMap<>();
  /**
   * Caches that had entries in this transfer before they existed here (created while it ran):
   * the watermarks it completes with cover those entries, so they must be fetched again.
   */
  final java.util.Set<String> cachesMissed = new java.util.HashSet<>();
  /**
   * Versions this transfer applied to a cache after it had missed entries for it: the cache's
   * fetch after completion must not apply them again (a key evicted since would come back).
   */
  final java.util.Map<String, VersionSet> appliedAfterMiss = new java.util.HashMap<>();
  /** Entries this transfer has applied so far: if it is abandoned, they may be orphans. */
  long entriesApplied;
  long lastProgressMillis;

  InboundSnapshot(long peerId, long requestId, String cacheName, long nowMillis) {
    this.peerId = peerId;
    this.requestId = requestId;
    this.cacheName = cacheName;
    this.lastProgressMillis = nowMillis;
  }
}
