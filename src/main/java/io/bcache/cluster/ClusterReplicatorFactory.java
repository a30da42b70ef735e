package io.bcache.cluster;

import io.bcache.config.BCacheSettings;
import io.bcache.replication.HybridLogicalClock;
import io.bcache.replication.LocalReplicas;
import io.bcache.replication.Replicator;
import io.bcache.replication.ReplicatorFactory;

/** The {@link ReplicatorFactory} service: ZooKeeper membership, Netty transport. */
public final class ClusterReplicatorFactory implements ReplicatorFactory {

  @Override
  public Replicator start(long nodeId, HybridLogicalClock clock, BCacheSettings settings, LocalReplicas replicas) {
    return ClusterReplicator.start(nodeId, clock, settings, replicas);
  }
}
