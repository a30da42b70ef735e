package io.bcache.replication;

/**
 * Every bound and period of a {@link ReplicationCore}. Each queue and buffer of the core has its
 * bound here.
 *
 * @param maxBatchChanges most changes per {@code ChangeBatch} message
 * @param maxBatchBytes most change bytes (see {@link Change#weight()}) per batch or snapshot
 *     chunk; keep it well below the transport's frame limit
 * @param flushDelayMillis how long a change may wait in a peer queue for a batch to fill
 * @param maxQueuedChanges bound of each peer's outbound queue; on overflow the queue is dropped
 *     and the peer is left to resynchronize
 * @param backlogMaxChanges bound of the backlog of recent changes, all origins together; with
 *     {@code backlogMaxBytes}, also of the changes this node holds, as they arrive, while a full
 *     snapshot comes in (past it they are dropped and pulled again afterwards)
 * @param backlogMaxBytes byte bound of the backlog
 * @param maxCatchUpChanges most changes sent in answer to one backlog request
 * @param antiEntropyMillis period of the digest exchange that repairs whatever was missed
 * @param requestTimeoutMillis how long to wait for an answer before asking again
 * @param snapshotWindow most snapshot chunks sent and not yet acknowledged, per transfer
 * @param maxSnapshotSenders most snapshots this node streams at once; a full snapshot asked
 *     beyond them is refused, a cache's waits in line for up to two anti-entropy periods
 * @param snapshotRetransmitMillis when unacknowledged snapshot chunks are sent again
 * @param snapshotTimeoutMillis a transfer that makes no progress this long is abandoned
 * @param tombstoneGraceMillis how long replicas keep tombstones; a partition longer than this can
 *     bring removed keys back (see {@link ReplicationCore})
 * @param purgeIntervalMillis period of tombstone collection
 * @param reorderToleranceMillis how far out of HLC order this node's writers may publish; see
 *     {@link ReplicationCore} on snapshots and evicted keys
 * @param slowPeerMillis how long a peer whose queue is past half its bound may hold local writers
 *     back (see {@link ReplicationCore#localChangeAllowance()}) before it is cut over to resync
 * @param maxRememberedVersions most versions applied from snapshots that its version vector does
 *     not cover (snapshots that did not complete, a full snapshot's entries written during its
 *     pass) which this node remembers, per cache, until the vector covers them, so that it never
 *     applies one twice and pushes back a key evicted in between; size it for the largest
 *     cache snapshot expected (16 to 32 bytes per version, held only while such versions are
 *     pending, so the total grows with the number of caches that have some)
 * @param loadTimeoutMillis how long a miss routed to its key's owner (cluster-wide loads) waits
 *     for the owner's answer before the node loads the key itself
 */
public record ReplicationConfig(
    int maxBatchChanges,
    int maxBatchBytes,
    long flushDelayMillis,
    int maxQueuedChanges,
    int backlogMaxChanges,
    long backlogMaxBytes,
    int maxCatchUpChanges,
    long antiEntropyMillis,
    long requestTimeoutMillis,
    int snapshotWindow,
    int maxSnapshotSenders,
    long snapshotRetransmitMillis,
    long snapshotTimeoutMillis,
    long tombstoneGraceMillis,
    long purgeIntervalMillis,
    long reorderToleranceMillis,
    long slowPeerMillis,
    int maxRememberedVersions,
    long loadTimeoutMillis) {

  /** Production defaults. */
  public static final ReplicationConfig DEFAULT = new ReplicationConfig(
      512, 1 << 20, 2, 65_536, 200_000, 256L << 20, 20_000, 1_000, 5_000,
      32, 2, 2_000, 30_000, 600_000, 30_000, 2_000, 500, 1 << 20, 30_000);

  public ReplicationConfig {
    requirePositive(maxBatchChanges, "maxBatchChanges");
    requirePositive(maxBatchBytes, "maxBatchBytes");
    requireNotNegative(flushDelayMillis, "flushDelayMillis");
    requirePositive(maxQueuedChanges, "maxQueuedChanges");
    requirePositive(backlogMaxChanges, "backlogMaxChanges");
    requirePositive(backlogMaxBytes, "backlogMaxBytes");
    requirePositive(maxCatchUpChanges, "maxCatchUpChanges");
    requirePositive(antiEntropyMillis, "antiEntropyMillis");
    requirePositive(requestTimeoutMillis, "requestTimeoutMillis");
    requireNotNegative(slowPeerMillis, "slowPeerMillis");
    requirePositive(snapshotWindow, "snapshotWindow");
    requireNotNegative(maxSnapshotSenders, "maxSnapshotSenders");
    requirePositive(snapshotRetransmitMillis, "snapshotRetransmitMillis");
    requirePositive(snapshotTimeoutMillis, "snapshotTimeoutMillis");
    requirePositive(tombstoneGraceMillis, "tombstoneGraceMillis");
    requirePositive(purgeIntervalMillis, "purgeIntervalMillis");
    requireNotNegative(reorderToleranceMillis, "reorderToleranceMillis");
    requirePositive(maxRememberedVersions, "maxRememberedVersions");
    requirePositive(loadTimeoutMillis, "loadTimeoutMillis");
  }

  private static void requirePositive(long value, String name) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, was " + value);
    }
  }

  private static void requireNotNegative(long value, String name) {
    if (value < 0) {
      throw new IllegalArgumentException(name + " must not be negative, was " + value);
    }
  }

  public ReplicationConfig withBatching(int changes, int bytes, long flushDelay) {
    Builder b = new Builder(this);
    b.maxBatchChanges = changes;
    b.maxBatchBytes = bytes;
    b.flushDelayMillis = flushDelay;
    return b.build();
  }

  public ReplicationConfig withQueues(int queuedChanges, int backlogChanges, long backlogBytes,
      int catchUpChanges) {
    Builder b = new Builder(this);
    b.maxQueuedChanges = queuedChanges;
    b.backlogMaxChanges = backlogChanges;
    b.backlogMaxBytes = backlogBytes;
    b.maxCatchUpChanges = catchUpChanges;
    return b.build();
  }

  public ReplicationConfig withTimers(long antiEntropy, long requestTimeout, long retransmit,
      long snapshotTimeout) {
    Builder b = new Builder(this);
    b.antiEntropyMillis = antiEntropy;
    b.requestTimeoutMillis = requestTimeout;
    b.snapshotRetransmitMillis = retransmit;
    b.snapshotTimeoutMillis = snapshotTimeout;
    return b.build();
  }

  public ReplicationConfig withSnapshots(int window, int senders) {
    Builder b = new Builder(this);
    b.snapshotWindow = window;
    b.maxSnapshotSenders = senders;
    return b.build();
  }

  public ReplicationConfig withTombstones(long grace, long purgeInterval) {
    Builder b = new Builder(this);
    b.tombstoneGraceMillis = grace;
    b.purgeIntervalMillis = purgeInterval;
    return b.build();
  }

  public ReplicationConfig withReorderTolerance(long millis) {
    Builder b = new Builder(this);
    b.reorderToleranceMillis = millis;
    return b.build();
  }

  public ReplicationConfig withSlowPeer(long millis) {
    Builder b = new Builder(this);
    b.slowPeerMillis = millis;
    return b.build();
  }

  /** A mutable copy of every component: the one place the withers list them all. */
  private static final class Builder {
    int maxBatchChanges;
    int maxBatchBytes;
    long flushDelayMillis;
    int maxQueuedChanges;
    int backlogMaxChanges;
    long backlogMaxBytes;
    int maxCatchUpChanges;
    long antiEntropyMillis;
    long requestTimeoutMillis;
    int snapshotWindow;
    int maxSnapshotSenders;
    long snapshotRetransmitMillis;
    long snapshotTimeoutMillis;
    long tombstoneGraceMillis;
    long purgeIntervalMillis;
    long reorderToleranceMillis;
    long slowPeerMillis;
    int maxRememberedVersions;
    long loadTimeoutMillis;

    Builder(ReplicationConfig c) {
      maxBatchChanges = c.maxBatchChanges;
      maxBatchBytes = c.maxBatchBytes;
      flushDelayMillis = c.flushDelayMillis;
      maxQueuedChanges = c.maxQueuedChanges;
      backlogMaxChanges = c.backlogMaxChanges;
      backlogMaxBytes = c.backlogMaxBytes;
      maxCatchUpChanges = c.maxCatchUpChanges;
      antiEntropyMillis = c.antiEntropyMillis;
      requestTimeoutMillis = c.requestTimeoutMillis;
      snapshotWindow = c.snapshotWindow;
      maxSnapshotSenders = c.maxSnapshotSenders;
      snapshotRetransmitMillis = c.snapshotRetransmitMillis;
      snapshotTimeoutMillis = c.snapshotTimeoutMillis;
      tombstoneGraceMillis = c.tombstoneGraceMillis;
      purgeIntervalMillis = c.purgeIntervalMillis;
      reorderToleranceMillis = c.reorderToleranceMillis;
      slowPeerMillis = c.slowPeerMillis;
      maxRememberedVersions = c.maxRememberedVersions;
      loadTimeoutMillis = c.loadTimeoutMillis;
    }

    ReplicationConfig build() {
      return new ReplicationConfig(maxBatchChanges, maxBatchBytes, flushDelayMillis,
          maxQueuedChanges, backlogMaxChanges, backlogMaxBytes, maxCatchUpChanges,
          antiEntropyMillis, requestTimeoutMillis, snapshotWindow, maxSnapshotSenders,
          snapshotRetransmitMillis, snapshotTimeoutMillis, tombstoneGraceMillis,
          purgeIntervalMillis, reorderToleranceMillis, slowPeerMillis, maxRememberedVersions,
          loadTimeoutMillis);
    }
  }
}
