package io.bcache.replication;

import io.bcache.config.BCacheSettings;

/**
 * Starts a node's {@link Replicator}. Found with {@link java.util.ServiceLoader}, so that the
 * JCache layer needs no compile-time link to the cluster layer (and its Netty and Curator).
 */
public interface ReplicatorFactory {

  /**
   * Joins the cluster the settings name and starts replicating.
   *
   * @param nodeId this node's id
   * @param clock this node's hybrid logical clock, moved past every remote version applied
   * @param settings the node's resolved settings (ZooKeeper, cluster name, bind, secret...)
   * @param replicas this node's caches
   */
  Replicator start(long nodeId, HybridLogicalClock clock, BCacheSettings settings, LocalReplicas replicas);
}
