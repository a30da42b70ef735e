package io.bcache.replication;

import java.util.Arrays;
import java.util.Objects;

/**
 * One replicated mutation of one key: the unit the core logs, ships and applies.
 *
 * <p>Keys and values are opaque bytes. A {@code null} value is a removal, which replicas keep as
 * a versioned tombstone. The version is ({@code hlc}, {@code origin}): last writer wins, and the
 * origin's node id breaks ties between equal timestamps. {@code seq} numbers the origin's changes
 * 1, 2, 3... in the order its core published them; a change read from a replica's state rather
 * than from the log carries {@code seq} 0.
 *
 * <p>A change with an empty key {@linkplain #clear clears} its whole cache: every entry whose
 * version is older than the clear's goes, and the cache ignores older changes from then on.
 * Encoded keys are never empty (a key's encoding starts with its type), so the two never meet.
 *
 * @param cacheName the cache the key belongs to
 * @param key the serialized key
 * @param value the serialized value, or {@code null} for a removal
 * @param hlc the hybrid logical clock timestamp of the write
 * @param origin the id of the node where the write happened
 * @param seq the origin's sequence number, or 0 when unknown (snapshot state)
 * @param expireAt absolute expiry in epoch milliseconds, {@link #ETERNAL} for none
 */
public record Change(String cacheName, byte[] key, byte[] value, long hlc, long origin, long seq,
    long expireAt) {

  /** Expiry of a change that never expires. */
  public static final long ETERNAL = Long.MAX_VALUE;

  private static final byte[] NO_KEY = new byte[0];

  public Change {
    Objects.requireNonNull(cacheName, "cacheName");
    Objects.requireNonNull(key, "key");
    if (key.length == 0 && value != null) {
      throw new IllegalArgumentException("a clear (empty key) carries no value");
    }
    if (seq < 0) {
      throw new IllegalArgumentException("negative seq " + seq);
    }
  }

  /** A live write of {@code value}, not yet sequenced. */
  public static Change put(String cacheName, byte[] key, byte[] value, long hlc, long origin,
      long expireAt) {
    return new Change(cacheName, key, Objects.requireNonNull(value, "value"), hlc, origin, 0,
        expireAt);
  }

  /** A removal, not yet sequenced. */
  public static Change remove(String cacheName, byte[] key, long hlc, long origin) {
    return new Change(cacheName, key, null, hlc, origin, 0, ETERNAL);
  }

  /**
   * A clear of the whole cache, not yet sequenced: on every replica it removes each entry whose
   * version is older than ({@code hlc}, {@code origin}), and older changes are ignored after it.
   */
  public static Change clear(String cacheName, long hlc, long origin) {
    return new Change(cacheName, NO_KEY, null, hlc, origin, 0, ETERNAL);
  }

  /** Whether this change clears its cache rather than writing one key. */
  public boolean isClear() {
    return key.length == 0;
  }

  /** Whether this change removes its key (a clear is not a removal). */
  public boolean isRemoval() {
    return value == null && key.length > 0;
  }

  /** This change with its origin sequence number set. */
  public Change withSeq(long newSeq) {
    return new Change(cacheName, key, value, hlc, origin, newSeq, expireAt);
  }

  /** Whether this change's version wins over {@code other}'s: last writer wins, origin breaks ties. */
  public boolean isNewerThan(Change other) {
    return isNewer(hlc, origin, other.hlc, other.origin);
  }

  /** Last-writer-wins order on versions: larger HLC, then larger origin id. */
  public static boolean isNewer(long hlc, long origin, long otherHlc, long otherOrigin) {
    return hlc > otherHlc || (hlc == otherHlc && origin > otherOrigin);
  }

  /** Approximate payload size, used for byte bounds on queues, batches and the backlog. */
  public int weight() {
    return 48 + cacheName.length() + key.length + (value == null ? 0 : value.length);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Change c
        && hlc == c.hlc && origin == c.origin && seq == c.seq && expireAt == c.expireAt
        && cacheName.equals(c.cacheName) && Arrays.equals(key, c.key)
        && Arrays.equals(value, c.value);
  }

  @Override
  public int hashCode() {
    int h = cacheName.hashCode();
    h = 31 * h + Arrays.hashCode(key);
    h = 31 * h + Arrays.hashCode(value);
    h = 31 * h + Long.hashCode(hlc);
    h = 31 * h + Long.hashCode(origin);
    h = 31 * h + Long.hashCode(seq);
    return 31 * h + Long.hashCode(expireAt);
  }

  @Override
  public String toString() {
    return "Change[" + cacheName + (isClear() ? " clear" : " key=" + key.length + "B"
        + (value == null ? " removal" : " value=" + value.length + "B"))
        + " v" + hlc + "@" + origin + " #" + seq + "]";
  }
}
