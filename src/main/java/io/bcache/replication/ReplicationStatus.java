package io.bcache.replication;

import java.util.List;

/**
 * An immutable snapshot of a {@link ReplicationCore}'s state, taken on the core's thread by
 * {@link ReplicationCore#status()}.
 *
 * @param takenAtMillis the core's clock when the snapshot was taken
 * @param peers the connected peers, in the order they connected
 * @param changesPublished local changes published since the node started
 * @param changesApplied remote changes (stream, catch-up and snapshots) a local replica applied
 * @param resyncs how many times a peer's queue overflowed and the peer was cut over to resync
 * @param snapshotsSent full or per-cache snapshots this node completed sending
 * @param snapshotsReceived full or per-cache snapshots this node completed receiving
 * @param syncing whether this node is receiving a snapshot, or needs one and has not started it
 */
public record ReplicationStatus(long takenAtMillis, List<PeerStatus> peers, long changesPublished,
    long changesApplied, long resyncs, long snapshotsSent, long snapshotsReceived, boolean syncing) {

  public ReplicationStatus {
    peers = List.copyOf(peers);
  }
}
