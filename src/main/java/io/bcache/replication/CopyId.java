package io.bcache.replication;

import java.util.Comparator;

/**
 * One node's copy of a cache: the node, and how many copies of the cache it had before this one
 * (a cache closed and created again is a new copy). Orphan events are counted per copy, since
 * the orphans of a node's events stay in the copy that held them: a count per node could not say
 * that a new copy lacks those of the events raised before it (see {@link OrphanEvents}).
 *
 * @param node the node's id
 * @param copy how many copies of the cache the node had before this one
 */
record CopyId(long node, int copy) implements Comparable<CopyId> {

  private static final Comparator<CopyId> ORDER =
      Comparator.comparingLong(CopyId::node).thenComparingInt(CopyId::copy);

  CopyId {
    if (copy < 0) {
      throw new IllegalArgumentException("negative copy number " + copy);
    }
  }

  @Override
  public int compareTo(CopyId other) {
    return ORDER.compare(this, other);
  }
}
