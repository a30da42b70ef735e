package io.bcache.jcache;

import io.bcache.store.ClearMark;
import io.bcache.store.StoreEntry;

/**
 * Where every local mutation of a cache leaves it: the one narrow seam between the JCache
 * surface and replication. A standalone node uses {@link #NONE}.
 *
 * <p>Called on the writing thread, after the store was updated and outside any per-key lock;
 * may wait briefly while replication catches up (its intake is bounded), never indefinitely. The copy that made the change is passed along, not
 * just its name: a write racing {@code Cache.close()} may reach the sink after the cache was
 * created again, and must then be told from the new copy's own writes.
 */
interface ChangeSink {

  /** The sink of a standalone node: changes go nowhere. */
  ChangeSink NONE = new ChangeSink() {
    @Override
    public void publish(BCache<?, ?> copy, StoreEntry entry) {
    }

    @Override
    public void publishClear(BCache<?, ?> copy, ClearMark clear) {
    }
  };

  /**
   * Publishes a local change.
   *
   * @param copy the cache whose store the change was made to
   * @param entry the new versioned entry; a tombstone for a removal
   */
  void publish(BCache<?, ?> copy, StoreEntry entry);

  /**
   * Publishes a local clear of a whole cache.
   *
   * @param copy the cache cleared
   * @param clear the clear's version: every replica drops what is not newer
   */
  void publishClear(BCache<?, ?> copy, ClearMark clear);
}
