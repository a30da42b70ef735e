package io.bcache.jcache.management;

import io.bcache.replication.ClusterStatus;
import io.bcache.replication.PeerStatus;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link ClusterMXBean} of one node, and its registration in the platform MBean server.
 * Every attribute read takes a fresh {@link ClusterStatus} from the node's replication.
 */
public final class ClusterBean implements ClusterMXBean {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterBean.class);
  private static final HexFormat HEX = HexFormat.of();

  private final Supplier<ClusterStatus> status;
  private final LongSupplier refusedChanges;
  private volatile ObjectName registeredAs;

  private ClusterBean(Supplier<ClusterStatus> status, LongSupplier refusedChanges) {
    this.status = status;
    this.refusedChanges = refusedChanges;
  }

  /**
   * Registers a node's bean under {@code io.bcache:type=Cluster,CacheManager=<uri>}, or with
   * {@code ,Node=<node id>} appended when another node of the same URI holds that name. A
   * registration that fails is logged, not thrown: monitoring must not stop a node from starting.
   */
  public static ClusterBean register(URI managerUri, long nodeId, Supplier<ClusterStatus> status,
      LongSupplier refusedChanges) {
    ClusterBean bean = new ClusterBean(Objects.requireNonNull(status), Objects.requireNonNull(refusedChanges));
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    String base = "io.bcache:type=Cluster,CacheManager=" + MBeanRegistrar.safe(managerUri.toString());
    for (String text : List.of(base, base + ",Node=" + id(nodeId))) {
      try {
        ObjectName name = new ObjectName(text);
        server.registerMBean(bean, name);
        bean.registeredAs = name;
        return bean;
      } catch (InstanceAlreadyExistsException e) {
        // another node with this URI (another class loader): try the name with the node id
      } catch (MalformedObjectNameException e) {
        LOG.warn("cannot register the cluster MBean: invalid name {}", text, e);
        return bean;
      } catch (JMException e) {
        LOG.warn("cannot register the cluster MBean {}", text, e);
        return bean;
      }
    }
    LOG.warn("cannot register the cluster MBean of node {}: its names are taken", id(nodeId));
    return bean;
  }

  /** The name this bean is registered under, or {@code null} if it is not registered. */
  public ObjectName objectName() {
    return registeredAs;
  }

  /** Removes the registration, if any. Idempotent. */
  public void unregister() {
    ObjectName name = registeredAs;
    registeredAs = null;
    if (name == null) {
      return;
    }
    try {
      ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
    } catch (InstanceNotFoundException e) {
      // already gone
    } catch (JMException e) {
      LOG.warn("cannot unregister the cluster MBean {}", name, e);
    }
  }

  private static String id(long nodeId) {
    return HEX.toHexDigits(nodeId);
  }

  private static List<String> ids(Iterable<Long> nodeIds) {
    List<String> ids = new ArrayList<>();
    nodeIds.forEach(nodeId -> ids.add(id(nodeId)));
    return ids;
  }

  private static <T> Map<String, T> perPeer(ClusterStatus snapshot, Function<PeerStatus, T> figure) {
    Map<String, T> values = new LinkedHashMap<>();
    for (PeerStatus peer : snapshot.replication().peers()) {
      values.put(id(peer.peerId()), figure.apply(peer));
    }
    return values;
  }

  @Override
  public String getNodeId() {
    return id(status.get().nodeId());
  }

  @Override
  public String getClusterName() {
    return status.get().clusterName();
  }

  @Override
  public List<String> getMembers() {
    return ids(status.get().members());
  }

  @Override
  public int getMemberCount() {
    return status.get().members().size();
  }

  @Override
  public boolean isZooKeeperConnected() {
    return status.get().zooKeeperConnected();
  }

  @Override
  public List<String> getConnectedPeers() {
    return ids(status.get().connectedPeers());
  }

  @Override
  public int getConnectedPeerCount() {
    return status.get().replication().peers().size();
  }

  @Override
  public Map<String, Integer> getQueueDepths() {
    return perPeer(status.get(), PeerStatus::queueDepth);
  }

  @Override
  public Map<String, Long> getUnacknowledgedChanges() {
    return perPeer(status.get(), PeerStatus::unacknowledgedChanges);
  }

  @Override
  public Map<String, Long> getReplicationLagMillis() {
    return perPeer(status.get(), PeerStatus::lagMillis);
  }

  @Override
  public long getMaxReplicationLagMillis() {
    long max = 0;
    for (PeerStatus peer : status.get().replication().peers()) {
      max = Math.max(max, peer.lagMillis());
    }
    return max;
  }

  @Override
  public List<String> getResyncingPeers() {
    List<String> resyncing = new ArrayList<>();
    for (PeerStatus peer : status.get().replication().peers()) {
      if (peer.resyncing()) {
        resyncing.add(id(peer.peerId()));
      }
    }
    return resyncing;
  }

  @Override
  public long getResyncs() {
    return status.get().replication().resyncs();
  }

  @Override
  public long getSnapshotsSent() {
    return status.get().replication().snapshotsSent();
  }

  @Override
  public long getSnapshotsReceived() {
    return status.get().replication().snapshotsReceived();
  }

  @Override
  public boolean isSyncing() {
    return status.get().replication().syncing();
  }

  @Override
  public long getChangesPublished() {
    return status.get().replication().changesPublished();
  }

  @Override
  public long getChangesApplied() {
    return status.get().replication().changesApplied();
  }

  @Override
  public long getRefusedChanges() {
    return refusedChanges.getAsLong();
  }

  @Override
  public long getRejectedConnections() {
    return status.get().rejectedConnections();
  }

  @Override
  public long getBytesSent() {
    return status.get().bytesSent();
  }

  @Override
  public long getBytesReceived() {
    return status.get().bytesReceived();
  }

  @Override
  public long getStatusAgeMillis() {
    return Math.max(0, System.currentTimeMillis() - status.get().replication().takenAtMillis());
  }
}
