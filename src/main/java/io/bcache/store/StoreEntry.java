package io.bcache.store;

/**
 * One versioned mapping held by a {@link BoundedStore}.
 *
 * <p>An entry is immutable except for its access-driven expiry time and its position in the
 * store's recency list: every write installs a new entry, so a reader always sees a value,
 * version and expiry that belong together. A {@code null} value marks a tombstone: a removal
 * that replication keeps, with its version, so that older state cannot bring the key back.
 *
 * <p>Only entries made by {@link #touchable} let an access move their expiry: they also keep the
 * expiry their write set, which is what replication sends, since access-based expiry stays on
 * the node where the access happened. A cache with no access-based expiry makes plain entries
 * and does not pay for the second time.
 */
public sealed class StoreEntry {

  /** Expiry time of an entry that never expires. */
  public static final long ETERNAL = Long.MAX_VALUE;

  final Object key;
  final Object value;
  final long version;
  final long origin;
  volatile long expireAt;

  // recency list links; guarded by the store's eviction lock
  StoreEntry prev;
  StoreEntry next;
  boolean linked;

  /**
   * @param key the stored key
   * @param value the stored value, or {@code null} for a tombstone
   * @param version the hybrid logical clock timestamp of the write that made this entry
   * @param origin the id of the node where that write happened (tie-break for equal versions)
   * @param expireAt absolute expiry time in epoch milliseconds, or {@link #ETERNAL}
   */
  public StoreEntry(Object key, Object value, long version, long origin, long expireAt) {
    this.key = key;
    this.value = value;
    this.version = version;
    this.origin = origin;
    this.expireAt = expireAt;
  }

  /**
   * An entry whose expiry an access may move ({@link #setExpireAt}), which keeps
   * {@code expireAt}, the time its write set, apart as {@link #writtenExpireAt()}.
   */
  public static StoreEntry touchable(Object key, Object value, long version, long origin, long expireAt) {
    return new Touchable(key, value, version, origin, expireAt);
  }

  public Object key() {
    return key;
  }

  /** The stored value (possibly a serialized form), or {@code null} for a tombstone. */
  public Object value() {
    return value;
  }

  public long version() {
    return version;
  }

  public long origin() {
    return origin;
  }

  public long expireAt() {
    return expireAt;
  }

  /**
   * The expiry time the write that made this entry set, which replication sends: an access may
   * have moved {@link #expireAt()} since, on this node only.
   */
  public long writtenExpireAt() {
    return expireAt;
  }

  /**
   * Changes the expiry time in place, for access-based expiry, which stays local.
   *
   * @throws UnsupportedOperationException unless the entry was made by {@link #touchable}
   */
  public void setExpireAt(long expireAt) {
    throw new UnsupportedOperationException("the expiry of an entry not made touchable cannot move");
  }

  public boolean isTombstone() {
    return value == null;
  }

  /** Whether the entry has expired at {@code nowMillis}; never true for an eternal entry. */
  public boolean isExpired(long nowMillis) {
    long at = expireAt;
    return at != ETERNAL && at <= nowMillis;
  }

  /** Whether this entry's version wins over {@code other}'s: last writer wins, node id breaks ties. */
  public boolean isNewerThan(StoreEntry other) {
    return other == null || isNewer(version, origin, other.version, other.origin);
  }

  /** Last-writer-wins order on versions: the larger clock reading, then the larger node id. */
  public static boolean isNewer(long version, long origin, long otherVersion, long otherOrigin) {
    return version > otherVersion || (version == otherVersion && origin > otherOrigin);
  }

  @Override
  public String toString() {
    return "StoreEntry[" + key + (value == null ? " (tombstone)" : "") + " v" + version + "@" + origin + "]";
  }

  private static final class Touchable extends StoreEntry {
    private final long writtenExpireAt;

    Touchable(Object key, Object value, long version, long origin, long expireAt) {
      super(key, value, version, origin, expireAt);
      this.writtenExpireAt = expireAt;
    }

    @Override
    public long writtenExpireAt() {
      return writtenExpireAt;
    }

    @Override
    public void setExpireAt(long expireAt) {
      this.expireAt = expireAt;
    }
  }
}
