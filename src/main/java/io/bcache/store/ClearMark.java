package io.bcache.store;

/**
 * The version of the latest replicated clear a store applied: every entry not newer than it is
 * gone, and no such entry may come back.
 *
 * @param version the clear's hybrid logical clock timestamp
 * @param origin the id of the node where the clear happened (tie-break for equal versions)
 */
public record ClearMark(long version, long origin) {

  /** Whether the clear removes what version ({@code otherVersion}, {@code otherOrigin}) wrote. */
  public boolean covers(long otherVersion, long otherOrigin) {
    return !StoreEntry.isNewer(otherVersion, otherOrigin, version, origin);
  }

  /** Whether the clear removes {@code entry}: the entry's version is not newer than the clear's. */
  public boolean covers(StoreEntry entry) {
    return covers(entry.version, entry.origin);
  }

  /** Whether this clear comes after {@code other} ({@code null}: none) in last-writer-wins order. */
  public boolean isNewerThan(ClearMark other) {
    return other == null || !other.covers(version, origin);
  }
}
