package io.bcache.store;

/** Told about every entry the store drops to stay within its bound. Eviction is local: never replicated. */
@FunctionalInterface
public interface EvictionListener {

  EvictionListener NONE = entry -> { };

  /** Called after {@code entry} left the store, outside any per-key lock, on the evicting thread. */
  void onEviction(StoreEntry entry);
}
