package io.bcache.replication;

/**
 * Counters of one {@link ReplicationCore}. Written on the core's thread only; read them from
 * there too, or accept slightly stale values.
 */
public final class ReplicationMetrics {

  long changesPublished;
  long changesSent;
  long bytesSent;
  long changesReceived;
  long bytesReceived;
  long changesApplied;
  long duplicatesIgnored;
  long gapsDetected;
  long changesDroppedDuringSync;
  long queueOverflows;
  long backlogMisses;
  long snapshotsSent;
  long snapshotsReceived;
  long snapshotsAbandoned;
  long orphanEvents;
  long snapshotEntriesSkipped;
  long outOfOrderPublishes;

  /** Local changes published through this core. */
  public long changesPublished() {
    return changesPublished;
  }

  /** Changes handed to the network, stream and catch-up together (snapshots not included). */
  public long changesSent() {
    return changesSent;
  }

  /** Approximate bytes of the changes sent (keys, values and headers, before framing). */
  public long bytesSent() {
    return bytesSent;
  }

  /** Changes received in batches, duplicates included. */
  public long changesReceived() {
    return changesReceived;
  }

  public long bytesReceived() {
    return bytesReceived;
  }

  /** Remote changes (stream, catch-up and snapshot) that a replica applied. */
  public long changesApplied() {
    return changesApplied;
  }

  public long duplicatesIgnored() {
    return duplicatesIgnored;
  }

  /** Changes that arrived ahead of a gap and were left for catch-up. */
  public long gapsDetected() {
    return gapsDetected;
  }

  /**
   * Changes that arrived while a full snapshot came in and were not applied when it ended: past
   * the bound on those held, or by then older than a backlog replays. Pulled again afterwards, or
   * brought by a snapshot.
   */
  public long changesDroppedDuringSync() {
    return changesDroppedDuringSync;
  }

  /** How many times a peer's queue overflowed and the peer was cut over to resync. */
  public long resyncCount() {
    return queueOverflows;
  }

  /** Backlog requests this node could not serve because its backlog no longer covered them. */
  public long backlogMisses() {
    return backlogMisses;
  }

  public long snapshotsSent() {
    return snapshotsSent;
  }

  public long snapshotsReceived() {
    return snapshotsReceived;
  }

  /**
   * Orphan events this node announced: full snapshots abandoned after applying entries, and
   * senders of completed ones that dropped while what they sent from above their watermarks was
   * not covered yet.
   */
  public long orphanEvents() {
    return orphanEvents;
  }

  public long snapshotsAbandoned() {
    return snapshotsAbandoned;
  }

  /** Snapshot entries not applied because this node had already seen their version. */
  public long snapshotEntriesSkipped() {
    return snapshotEntriesSkipped;
  }

  /** Local changes published with a timestamp below an earlier one's (see ReplicationCore). */
  public long outOfOrderPublishes() {
    return outOfOrderPublishes;
  }
}
