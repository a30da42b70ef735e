package io.bcache.replication;

/**
 * How far a node has applied one origin's changes: every change up to {@code seq}, contiguously,
 * and {@code hlc} the highest timestamp among them.
 */
public record Watermark(long seq, long hlc) {

  /** Nothing applied yet. */
  public static final Watermark NONE = new Watermark(0, 0);

  public Watermark {
    if (seq < 0) {
      throw new IllegalArgumentException("negative seq " + seq);
    }
  }
}
