package io.bcache.replication;

import java.util.HashMap;
import java.util.Map;

/**
 * Per origin, how far this node has processed that origin's changes without a gap: the highest
 * contiguous seq, and the highest HLC among those changes. "Processed" means handed to the
 * replicas, whatever they did with it (applied, stale, or no such cache).
 *
 * <p>One entry per origin ever seen; origins are node ids, one per process start.
 */
final class VersionVector {

  private final Map<Long, Watermark> marks = new HashMap<>();

  Watermark get(long origin) {
    return marks.getOrDefault(origin, Watermark.NONE);
  }

  long seq(long origin) {
    return get(origin).seq();
  }

  /** Records that {@code change} (the next of its origin) was processed. */
  void advance(Change change) {
    Watermark mark = get(change.origin());
    marks.put(change.origin(),
        new Watermark(change.seq(), Math.max(mark.hlc(), change.hlc())));
  }

  /** Takes over a peer's watermark for an origin, if it is ahead of ours. */
  boolean adopt(long origin, Watermark theirs) {
    Watermark ours = get(origin);
    if (theirs.seq() <= ours.seq()) {
      return false;
    }
    marks.put(origin, new Watermark(theirs.seq(), Math.max(ours.hlc(), theirs.hlc())));
    return true;
  }

  Map<Long, Long> seqs() {
    Map<Long, Long> seqs = new HashMap<>(marks.size() * 2);
    marks.forEach((origin, mark) -> seqs.put(origin, mark.seq()));
    return seqs;
  }

  Map<Long, Watermark> watermarks() {
    return Sorted.copyOf(marks);
  }

  int size() {
    return marks.size();
  }
}
