package io.bcache.replication;

import java.util.concurrent.CompletionStage;

/**
 * A node's replication, as the JCache layer sees it: where local changes go and how the node
 * leaves. Implemented by the cluster layer, which owns the sockets, the membership and the one
 * thread the {@link ReplicationCore} runs on.
 */
public interface Replicator extends AutoCloseable {

  /**
   * Hands over a local change, already versioned, for every peer. Called on the writing thread
   * after the local store changed; may block briefly when replication falls behind (the intake
   * is bounded), never indefinitely.
   *
   * @return {@code false} if the node is leaving or has left the cluster: the change stays here
   */
  boolean publish(Change change);

  /**
   * What one change may carry to the peers: the longest key, value and cache name they accept.
   * Whatever is larger cannot leave this node.
   */
  CodecLimits limits();

  /**
   * Tells replication that a cache now exists here, so that peers' state for it is fetched;
   * called before the application gets the cache. Writes this node published before count as
   * made to an earlier copy of the cache, if one was closed here. A write that counts as the new
   * copy's was handed over after this call began, so its publisher sees everything done before
   * this call, the close of the earlier copy included (the JCache layer relies on it to give the
   * new copy a write that raced {@code Cache.close()}).
   */
  void cacheCreated(String cacheName);

  /**
   * Routes a read-through miss to the key's owner (cluster-wide loads). The stage completes
   * once, with {@link LoadResult#LOAD_HERE} when this node is to load the key itself.
   *
   * @param key the key's wire encoding
   */
  CompletionStage<LoadResult> routeLoad(String cacheName, byte[] key);

  /**
   * A snapshot of this node's membership, connections and replication, for monitoring. Callable
   * from any thread; waits a bounded time for the replication thread and never fails: if that
   * thread is too busy to answer in time, the replication part is the last one taken (its
   * {@link ReplicationStatus#takenAtMillis()} tells how old it is).
   */
  ClusterStatus status();

  /** Flushes pending changes to the peers (waiting a bounded time), leaves the cluster and releases everything. */
  @Override
  void close();
}
