package io.bcache.jcache.processor;

/** What an entry processor's calls on a {@link javax.cache.processor.MutableEntry} add up to. */
public enum MutableEntryOperation {
  /** Nothing observable. */
  NONE,
  /** The value was read. */
  ACCESS,
  /** The value was loaded by read-through and must be stored (without the writer). */
  LOAD,
  /** A new value for an absent entry. */
  CREATE,
  /** A new value for a present entry. */
  UPDATE,
  /** The present entry is removed. */
  REMOVE
}
