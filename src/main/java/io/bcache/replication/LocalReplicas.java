package io.bcache.replication;

import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * This node's copies of its caches, as the replication core sees them: the JCache layer in
 * production, a simulated bounded LRU in tests. Called only from the core's thread.
 *
 * <p>Eviction is the replica's own business and is never reported to the core.
 */
public interface LocalReplicas {

  /**
   * Applies a change from another node if its version ({@code hlc}, {@code origin}) is newer than
   * the one held for the key, live or tombstone; a removal leaves a tombstone with its version.
   * A {@linkplain Change#isClear clear} removes every entry of its cache not newer than it, and
   * the replica ignores changes not newer than its latest clear from then on.
   */
  ApplyResult apply(Change change);

  /**
   * Iterates the live entries and tombstones of one cache, weakly consistent, each as a change
   * carrying its own hlc, origin and expiry, and {@code seq} 0 (it is state, not log); the
   * cache's latest clear, if any, comes first. Empty for a cache this node does not have.
   */
  Iterator<Change> snapshot(String cacheName);

  /** The names of the caches that exist on this node, as far as the core has admitted them. */
  Set<String> cacheNames();

  /**
   * The core takes in the creation of a cache, on its thread, before it does anything else about
   * it ({@link ReplicationCore#localCacheCreated}). A copy created since the cache's last
   * admission stays out of {@link #cacheNames}, {@link #apply}, {@link #snapshot} and
   * {@link #copyOf} until admitted: whatever the core did before (a snapshot it counted as
   * received, an orphan event) belongs to the copy it knew of, and must not be lost with it or
   * land in a copy it takes for a new one.
   *
   * @return {@code false} if the cache's current copy was admitted already: its creation was
   *     announced twice (a copy closed before its own announcement ran, whose name the next copy
   *     took), and the core must not take the copy for a new one again
   */
  boolean admit(String cacheName);

  /**
   * Whether the cache has a copy here that the core has not admitted yet: its writes, made on
   * this node, may already have reached the core.
   */
  boolean awaitsAdmission(String cacheName);

  /**
   * This node's copy of a cache as an object compared by identity, which a cache closed and
   * created again does not share with its earlier copy; {@code null} if the cache does not exist
   * here. A full snapshot names a cache as sent whole only if its copy stayed the same
   * throughout: a copy closed meanwhile may have been sent in part.
   */
  Object copyOf(String cacheName);

  /** Forgets the tombstones whose version timestamp is older than {@code olderThanHlc}. */
  void purgeTombstones(long olderThanHlc);

  /**
   * Loads a key for a peer that routed its read-through miss here (cluster-wide loads): through
   * the cache's loader, deduplicated with this node's own loads of the key, storing the value as
   * a local load does (so it replicates). Must not block the caller: the load runs elsewhere,
   * and the stage may complete on any thread. {@link LoadResult#LOAD_HERE} declines (no such
   * cache here, or it does not read through).
   */
  CompletionStage<LoadResult> loadForPeer(String cacheName, byte[] key);
}
