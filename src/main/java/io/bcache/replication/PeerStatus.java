package io.bcache.replication;

/**
 * What one node knows about its replication to one connected peer, at one moment.
 *
 * <p>"Acknowledged" means reported back: every digest a peer sends (on connecting, every
 * anti-entropy period and after each catch-up answer) carries, per origin, the highest sequence
 * number it has processed without a gap. A change this node published is acknowledged by a peer
 * once a digest from that peer covers its sequence number. The figures below therefore include up
 * to one anti-entropy period (1 s by default) of reporting delay, and return to 0 once the peer has
 * caught up and reported so.
 *
 * @param peerId the peer's node id
 * @param queueDepth changes waiting in this node's outbound queue for the peer, not yet handed
 *     to the connection (bounded; an overflow drops the queue and sets {@code resyncing})
 * @param unacknowledgedChanges changes published on this node that the peer has not acknowledged:
 *     this node's latest sequence number minus the one the peer's latest digest reports for it
 * @param lagMillis how long the oldest change published here and not acknowledged by the peer has
 *     been waiting: now minus the wall-clock part of its hybrid logical timestamp, 0 when every
 *     change is acknowledged. When the bounded backlog of recent changes no longer holds that
 *     change, the age of the oldest unacknowledged one it still holds, or else of the newest change
 *     published here: a lower bound (such a peer repairs with a snapshot)
 * @param resyncing whether the stream to the peer is suspended after its queue overflowed, until
 *     the peer repairs from the backlog or a snapshot
 * @param changesSent changes sent to the peer (stream and catch-up, not snapshots) on this
 *     connection
 * @param changesReceived changes received from the peer in batches on this connection
 */
public record PeerStatus(long peerId, int queueDepth, long unacknowledgedChanges, long lagMillis,
    boolean resyncing, long changesSent, long changesReceived) {
}
