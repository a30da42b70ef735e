package io.bcache.replication;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Per origin, how far this node has processed that origin's changes without a gap: the highest
 * contiguous seq, and the highest HLC among those changes. "Processed" means handed to the
 * replicas, whatever they did with it (applied, stale, or no such cache).
 *
 * <p>One entry per origin ever seen; origins are node ids, one per process start.
 */
final class VersionVector {

  /** One origin's watermark, updated in place: advancing it is done once per change. */
  private static final class Mark {
    long seq;
    long hlc;
  }

  private final Map<Long, Mark> marks = new HashMap<>();
  /**
   * The origin looked up last and its mark: a stream brings one origin's changes in runs, so
   * most lookups skip boxing the id and hashing it.
   */
  private long lastOrigin;
  private Mark lastMark;

  Watermark get(long origin) {
    Mark mark = find(origin);
    return mark == null ? Watermark.NONE : new Watermark(mark.seq, mark.hlc);
  }

  long seq(long origin) {
    Mark mark = find(origin);
    return mark == null ? 0 : mark.seq;
  }

  long hlc(long origin) {
    Mark mark = find(origin);
    return mark == null ? 0 : mark.hlc;
  }

  /** Records that {@code change} (the next of its origin) was processed. */
  void advance(Change change) {
    Mark mark = findOrCreate(change.origin());
    mark.seq = change.seq();
    mark.hlc = Math.max(mark.hlc, change.hlc());
  }

  /** Takes over a peer's watermark for an origin, if it is ahead of ours. */
  boolean adopt(long origin, Watermark theirs) {
    if (theirs.seq() <= seq(origin)) {
      return false;
    }
    Mark mark = findOrCreate(origin);
    mark.seq = theirs.seq();
    mark.hlc = Math.max(mark.hlc, theirs.hlc());
    return true;
  }

  Map<Long, Long> seqs() {
    Map<Long, Long> seqs = new HashMap<>(marks.size() * 2);
    marks.forEach((origin, mark) -> seqs.put(origin, mark.seq));
    return seqs;
  }

  Map<Long, Watermark> watermarks() {
    Map<Long, Watermark> copy = new HashMap<>(marks.size() * 2);
    marks.forEach((origin, mark) -> copy.put(origin, new Watermark(mark.seq, mark.hlc)));
    return Sorted.copyOf(copy);
  }

  /** The origins this vector knows (a view). */
  Set<Long> origins() {
    return marks.keySet();
  }

  int size() {
    return marks.size();
  }

  private Mark find(long origin) {
    if (lastMark != null && lastOrigin == origin) {
      return lastMark;
    }
    Mark mark = marks.get(origin);
    if (mark != null) {
      lastOrigin = origin;
      lastMark = mark;
    }
    return mark;
  }

  private Mark findOrCreate(long origin) {
    Mark mark = find(origin);
    if (mark == null) {
      mark = new Mark();
      marks.put(origin, mark);
      lastOrigin = origin;
      lastMark = mark;
    }
    return mark;
  }
}
