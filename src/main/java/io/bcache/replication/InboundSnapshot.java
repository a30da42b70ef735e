package io.bcache.replication;

/** A snapshot this node is receiving: which peer sends it and how far it got. */
final class InboundSnapshot {

  final long peerId;
  final long requestId;
  /** The one cache asked for, or {@code null} for all of them. */
  final String cacheName;
  int nextIndex;
  long lastProgressMillis;

  InboundSnapshot(long peerId, long requestId, String cacheName, long nowMillis) {
    this.peerId = peerId;
    this.requestId = requestId;
    this.cacheName = cacheName;
    this.lastProgressMillis = nowMillis;
  }
}
