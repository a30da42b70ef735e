package io.bcache.replication;

import io.bcache.replication.Message.Digest;

/** What the core knows about one connected peer: its outbound queue and its repair state. */
final class PeerState {

  static final long NOT_SLOW = Long.MIN_VALUE;

  final long id;
  /** Local changes waiting to be batched to this peer; bounded by the config. */
  final ChangeRing queue = new ChangeRing();
  /**
   * Set when the queue overflowed: the stream to this peer is suspended, and it repairs from the
   * backlog or a snapshot, until its next digest shows it is listening again.
   */
  boolean resync;
  Scheduler.Cancellable flushTimer;
  /**
   * Set while the connection to this peer refused a batch (it is full) until the retry: meanwhile
   * new changes only queue, rather than each building a batch the connection would refuse again.
   */
  boolean connectionFull;
  /** Since when (clock millis) the queue has been past half its bound, or {@link #NOT_SLOW}. */
  long slowSince = NOT_SLOW;
  /** A backlog request to this peer is outstanding until this time. */
  long pullDeadline = Long.MIN_VALUE;
  /** The newest snapshot request this peer sent here; its ids only grow. */
  long lastSnapshotRequestId;
  /** The peer's latest digest, or {@code null} before the first. */
  Digest lastDigest;
  /**
   * The digest before {@link #lastDigest}, or {@code null}: what the peer had processed at least
   * one exchange ago, which a live stream has delivered here by now unless a change was lost.
   */
  Digest previousDigest;

  long changesSent;
  long bytesSent;
  long changesReceived;
  long overflows;

  PeerState(long id) {
    this.id = id;
  }

  boolean hasCache(String cacheName) {
    return lastDigest != null && lastDigest.cacheNames().contains(cacheName);
  }

  long knownSeq(long origin) {
    return lastDigest == null ? 0 : lastDigest.versions().getOrDefault(origin, 0L);
  }

  void cancelFlush() {
    if (flushTimer != null) {
      flushTimer.cancel();
      flushTimer = null;
    }
    connectionFull = false;
  }
}
