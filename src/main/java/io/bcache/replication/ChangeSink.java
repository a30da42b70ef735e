package io.bcache.replication;

import io.bcache.store.ClearMark;
import io.bcache.store.StoreEntry;

/**
 * Where every local mutation of a cache leaves it: the one narrow seam between the JCache
 * surface and replication. A standalone node uses {@link #NONE}.
 *
 * <p>Implementations must not block: they are called on the writing thread, after the store
 * was updated and outside any per-key lock.
 */
public interface ChangeSink {

  /** The sink of a standalone node: changes go nowhere. */
  ChangeSink NONE = new ChangeSink() {
    @Override
    public void publish(String cacheName, StoreEntry entry) {
    }

    @Override
    public void publishClear(String cacheName, ClearMark clear) {
    }
  };

  /**
   * Publishes a local change.
   *
   * @param cacheName the cache the change belongs to
   * @param entry the new versioned entry; a tombstone for a removal
   */
  void publish(String cacheName, StoreEntry entry);

  /**
   * Publishes a local clear of a whole cache.
   *
   * @param cacheName the cache cleared
   * @param clear the clear's version: every replica drops what is not newer
   */
  void publishClear(String cacheName, ClearMark clear);
}
