package io.bcache.replication;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * An immutable snapshot of one cluster node: its membership as seen in ZooKeeper, its
 * connections' counters and its replication state. Returned by {@link Replicator#status()}.
 *
 * @param nodeId this node's id
 * @param clusterName the cluster's name ({@code bcache.cluster.name})
 * @param members the members registered in ZooKeeper as this node last saw them, this node
 *     always included, in ascending id order
 * @param zooKeeperConnected whether this node is connected to ZooKeeper now; while it is not,
 *     {@code members} is frozen and the connected peers keep replicating
 * @param replication the replication core's state; see its {@code takenAtMillis} for its age
 * @param rejectedConnections connections this node closed for a protocol violation or a failed
 *     handshake (garbage, oversized frames, wrong cluster, wrong secret)
 * @param bytesSent bytes written to peer sockets, framing, handshakes and heartbeats included
 * @param bytesReceived bytes read from peer sockets, framing, handshakes and heartbeats included
 */
public record ClusterStatus(long nodeId, String clusterName, SortedSet<Long> members,
    boolean zooKeeperConnected, ReplicationStatus replication, long rejectedConnections,
    long bytesSent, long bytesReceived) {

  public ClusterStatus {
    members = Collections.unmodifiableSortedSet(new TreeSet<>(members));
  }

  /** The connected peers' ids, in the order they connected. */
  public Set<Long> connectedPeers() {
    Set<Long> ids = new LinkedHashSet<>();
    replication.peers().forEach(peer -> ids.add(peer.peerId()));
    return Collections.unmodifiableSet(ids);
  }
}
