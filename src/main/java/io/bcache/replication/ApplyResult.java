package io.bcache.replication;

/** What a replica did with a change the core asked it to apply. */
public enum ApplyResult {
  /** The change's version was newer than the one held (or none was held): it is now held. */
  APPLIED,
  /** The replica holds a version at least as new: the change was ignored (last writer wins). */
  STALE,
  /** No cache of that name exists on this node: changes apply only to a cache of the same name. */
  NO_SUCH_CACHE
}
