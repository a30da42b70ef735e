package io.bcache.replication;

/** A snapshot this node is receiving: which peer sends it and how far it got. */
final class InboundSnapshot {

  final long peerId;
  final long requestId;
  /** The one cache asked for, or {@code null} for all of them. */
  final String cacheName;
  int nextIndex;
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
