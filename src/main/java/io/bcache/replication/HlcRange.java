package io.bcache.replication;

/**
 * The versions of one origin a snapshot should carry: timestamps in ({@code after}, {@code upTo}].
 */
public record HlcRange(long after, long upTo) {

  /** Every version of the origin. */
  public static final HlcRange ALL = new HlcRange(Long.MIN_VALUE, Long.MAX_VALUE);

  public boolean contains(long hlc) {
    return hlc > after && hlc <= upTo;
  }
}
