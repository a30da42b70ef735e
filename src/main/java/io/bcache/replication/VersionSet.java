package io.bcache.replication;

import java.util.HashSet;
import java.util.Set;

/**
 * Versions (origin, hlc) applied from snapshot transfers that did not complete, bounded. A
 * transfer that is abandoned and retried, or overtaken by the stream, would otherwise apply the
 * same version twice, and the second time push back a key evicted in between. Beyond the bound
 * versions are no longer remembered, and that protection lapses for them.
 */
final class VersionSet {

  private record Version(long origin, long hlc) {
    /**
     * Mixes both halves: a record's default hash of timestamps taken in the same millisecond
     * by a few origins lands in few buckets, and lookups then walk treeified bins.
     */
    @Override
    public int hashCode() {
      long h = origin * 0x9E3779B97F4A7C15L + hlc * 0xC2B2AE3D27D4EB4FL;
      return (int) (h ^ (h >>> 29) ^ (h >>> 47));
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Version && ((Version) o).origin == origin && ((Version) o).hlc == hlc;
    }
  }

  private final int max;
  private final Set<Version> versions = new HashSet<>();

  VersionSet(int max) {
    this.max = max;
  }

  void add(long origin, long hlc) {
    if (versions.size() < max) {
      versions.add(new Version(origin, hlc));
    }
  }

  boolean contains(long origin, long hlc) {
    return !versions.isEmpty() && versions.contains(new Version(origin, hlc));
  }

  /** Forgets a version, returning whether it was remembered. */
  boolean remove(long origin, long hlc) {
    return !versions.isEmpty() && versions.remove(new Version(origin, hlc));
  }

  /** Forgets the versions of each origin at or below {@code floor(origin)}. */
  void removeAtOrBelow(java.util.function.LongUnaryOperator floor) {
    versions.removeIf(v -> v.hlc() <= floor.applyAsLong(v.origin()));
  }

  void clear() {
    versions.clear();
  }

  int size() {
    return versions.size();
  }
}
