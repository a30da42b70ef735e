package io.bcache.replication;

import java.util.Objects;

/**
 * What became of a read-through miss routed to its key's owner (cluster-wide loads): the owner
 * loaded a value, found none, or its loader failed; or the requester is to load the key itself
 * (it owns the key, the owner declined or is gone, or no answer came in time).
 *
 * @param kind which of these
 * @param entry for {@link Kind#LOADED}: the loaded entry as the owner stored it, version included
 * @param failure for {@link Kind#FAILED}: the owner's loader failure, as text
 */
public record LoadResult(Kind kind, Change entry, String failure) {

  /** The outcomes of a routed load. */
  public enum Kind {
    /** The owner loaded the key and stored {@link #entry()}, which replicates as any write. */
    LOADED,
    /** The owner's loader had no value for the key. */
    ABSENT,
    /** The owner's loader failed; {@link #failure()} says how. */
    FAILED,
    /** Load the key here. */
    LOAD_HERE
  }

  public static final LoadResult ABSENT = new LoadResult(Kind.ABSENT, null, null);
  public static final LoadResult LOAD_HERE = new LoadResult(Kind.LOAD_HERE, null, null);

  public LoadResult {
    Objects.requireNonNull(kind, "kind");
    if ((kind == Kind.LOADED) != (entry != null) || (kind == Kind.FAILED) != (failure != null)) {
      throw new IllegalArgumentException("a " + kind + " result with entry " + entry + " and failure " + failure);
    }
    if (entry != null && (entry.isClear() || entry.value() == null)) {
      throw new IllegalArgumentException("a loaded entry must hold a value: " + entry);
    }
  }

  public static LoadResult loaded(Change entry) {
    return new LoadResult(Kind.LOADED, entry, null);
  }

  public static LoadResult failed(String failure) {
    return new LoadResult(Kind.FAILED, null, failure);
  }
}
