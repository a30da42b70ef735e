package io.bcache.jcache.management;

import java.util.List;
import java.util.Map;

/**
 * Monitoring view of one cluster node (a cache manager with {@code bcache.zookeeper.connect}
 * set), registered in the platform MBean server while the node is open as
 * <pre>io.bcache:type=Cluster,CacheManager=&lt;manager URI&gt;</pre>
 * with the URI's {@code ,} {@code :} {@code =} and newlines replaced by {@code .}, as in the
 * JSR-107 cache MXBeans' names (URI {@code bcache:default} gives
 * {@code io.bcache:type=Cluster,CacheManager=bcache.default}). Should a second manager with the
 * same URI be a node in the same JVM (another class loader), its bean gets
 * {@code ,Node=<node id>} appended. A standalone node registers none.
 *
 * <p>Node ids are written as 16 lowercase hex digits, as in the members' ZooKeeper znodes
 * ({@code /bcache/<cluster>/members/<node id>}). Every attribute is read from a fresh snapshot of
 * the node, taken on its replication thread; if that thread does not answer within a second,
 * the replication figures are the last ones taken, and {@link #getStatusAgeMillis()} tells how
 * old they are.
 *
 * <p>"Acknowledged" below: every digest a peer sends (on connecting, then every second, and
 * after each catch-up answer) reports, per origin node, the highest sequence number it has
 * processed without a gap. A change published here is acknowledged by a peer once a digest from
 * that peer covers it. Queue depth and lag therefore include up to one digest period of reporting
 * delay and return to 0 once a peer has caught up and said so.
 */
public interface ClusterMXBean {

  /** This node's id, new at every start. */
  String getNodeId();

  /** The cluster's name, {@code bcache.cluster.name}. */
  String getClusterName();

  /**
   * The ids of the cluster's members as registered in ZooKeeper, this node included, in
   * ascending order. While ZooKeeper is unreachable the list is the last one seen.
   */
  List<String> getMembers();

  /** The number of {@link #getMembers() members}, this node included. */
  int getMemberCount();

  /** Whether this node is connected to ZooKeeper now. */
  boolean isZooKeeperConnected();

  /** The ids of the peers this node has an authenticated connection with, in connection order. */
  List<String> getConnectedPeers();

  /** The number of {@link #getConnectedPeers() connected peers}. */
  int getConnectedPeerCount();

  /**
   * Per connected peer: changes waiting in this node's outbound queue for it, not yet handed to
   * the connection. Bounded (65,536). Past half of that the peer holds this node's writers back
   * for at most 500 ms; a peer still behind then, or whose queue overflows, has its queue dropped,
   * which counts a {@link #getResyncs() resync}.
   */
  Map<String, Integer> getQueueDepths();

  /**
   * Per connected peer: changes published on this node that the peer has not acknowledged yet
   * (this node's latest sequence number minus the one the peer's latest digest reports).
   */
  Map<String, Long> getUnacknowledgedChanges();

  /**
   * Per connected peer, the replication lag in milliseconds: how long the oldest change
   * published on this node that the peer has not acknowledged has been waiting (now minus the
   * wall-clock part of the change's hybrid logical timestamp); 0 when the peer has acknowledged
   * every change. If the bounded backlog of recent changes no longer holds that change, the
   * figure is a lower bound (the age of the oldest unacknowledged change still held); such a
   * peer repairs from a snapshot.
   */
  Map<String, Long> getReplicationLagMillis();

  /** The largest of {@link #getReplicationLagMillis()}, 0 without peers. */
  long getMaxReplicationLagMillis();

  /**
   * The peers whose stream is suspended after they were cut over to resync (their queue
   * overflowed, or they held this node's writers back for 500 ms); each repairs from the backlog
   * or a snapshot, and its stream resumes at its next digest.
   */
  List<String> getResyncingPeers();

  /**
   * How many times, since this node started, a peer was cut over to resync: its queue overflowed,
   * or it held this node's writers back for 500 ms.
   */
  long getResyncs();

  /** Snapshots (full or of one cache) this node completed sending to a peer. */
  long getSnapshotsSent();

  /** Snapshots (full or of one cache) this node completed receiving from a peer. */
  long getSnapshotsReceived();

  /** Whether this node is receiving a snapshot, or needs one and has not started it yet. */
  boolean isSyncing();

  /** Local changes (puts, removals, loads, entry-processor results) published to the cluster since start. */
  long getChangesPublished();

  /** Changes from peers that a local cache applied (stream, catch-up and snapshots). */
  long getChangesApplied();

  /**
   * Changes from peers refused since start because their key or value cannot be deserialized
   * here (a class not on the allow-list, or a value the codec refuses): each leaves this node
   * without a write the others have, so anything above 0 calls for a look at the log.
   */
  long getRefusedChanges();

  /**
   * Connections this node closed for a protocol violation or a failed handshake: garbage, an
   * oversized frame, another cluster's name, a wrong or missing secret, a failed TLS handshake
   * (no TLS, or a certificate the trust store does not lead to), whichever side dialed.
   */
  long getRejectedConnections();

  /** Bytes written to peer sockets since start: frames, handshakes and heartbeats. */
  long getBytesSent();

  /** Bytes read from peer sockets since start: frames, handshakes and heartbeats. */
  long getBytesReceived();

  /**
   * How old the replication figures are, in milliseconds: near 0, unless the replication thread
   * was too busy to answer within a second and the last snapshot was used.
   */
  long getStatusAgeMillis();
}
