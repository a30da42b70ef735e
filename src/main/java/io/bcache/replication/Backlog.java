package io.bcache.replication;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The recent changes this node processed, from every origin, bounded by count and bytes, oldest
 * dropped first. Any node can thus fill another's gap, even when the gap's origin has crashed.
 *
 * <p>Per origin the backlog holds a run of consecutive seqs; when a change does not follow the
 * origin's run (the node adopted a snapshot's watermark in between), the run restarts from it.
 */
final class Backlog {

  private final int maxChanges;
  private final long maxBytes;
  private final ChangeRing arrivalOrder = new ChangeRing();
  private final Map<Long, ChangeRing> byOrigin = new HashMap<>();
  /** The run appended to last and its origin: changes come in runs of one origin's. */
  private long lastOrigin;
  private ChangeRing lastRun;
  private long bytes;

  Backlog(int maxChanges, long maxBytes) {
    this.maxChanges = maxChanges;
    this.maxBytes = maxBytes;
  }

  /** Appends a sequenced change, dropping the oldest changes beyond the bounds. */
  void append(Change change) {
    ChangeRing run = runOf(change.origin());
    if (!run.isEmpty() && run.last().seq() + 1 != change.seq()) {
      run.clear();
    }
    run.addLast(change);
    arrivalOrder.addLast(change);
    bytes += change.weight();
    while (arrivalOrder.size() > maxChanges || (bytes > maxBytes && arrivalOrder.size() > 1)) {
      evictOldest();
    }
  }

  /**
   * Whether every change of {@code origin} from {@code fromSeq} through {@code toSeq} is here. A
   * node that adopted a snapshot's watermark has processed seqs its backlog never held, past the
   * end of the origin's run as well as before its start.
   */
  boolean covers(long origin, long fromSeq, long toSeq) {
    ChangeRing run = byOrigin.get(origin);
    return run != null && !run.isEmpty()
        && run.first().seq() <= fromSeq && toSeq <= run.last().seq();
  }

  /**
   * Adds to {@code out} the changes of {@code origin} from {@code fromSeq} on, at most
   * {@code max}; the caller has checked {@link #covers}. Returns how many were added.
   */
  int copy(long origin, long fromSeq, int max, List<Change> out) {
    ChangeRing run = byOrigin.get(origin);
    if (run == null || run.isEmpty()) {
      return 0;
    }
    int start = (int) (fromSeq - run.first().seq());
    int end = Math.min(run.size(), start + max);
    for (int i = start; i < end; i++) {
      out.add(run.get(i));
    }
    return Math.max(0, end - start);
  }

  /** Adds to {@code out} every change of {@code cacheName} the backlog holds, in arrival order. */
  void copyCache(String cacheName, List<Change> out) {
    for (int i = 0; i < arrivalOrder.size(); i++) {
      Change change = arrivalOrder.get(i);
      if (change.cacheName().equals(cacheName)) {
        out.add(change);
      }
    }
  }

  /** The HLC of the change of {@code origin} with {@code seq}, if the backlog holds it. */
  OptionalLong hlcAt(long origin, long seq) {
    ChangeRing run = byOrigin.get(origin);
    if (run == null || run.isEmpty() || seq < run.first().seq() || seq > run.last().seq()) {
      return OptionalLong.empty();
    }
    return OptionalLong.of(run.get((int) (seq - run.first().seq())).hlc());
  }

  /**
   * The HLC of the change of {@code origin} with the smallest seq at or above {@code seq} that the
   * backlog holds, if any.
   */
  OptionalLong hlcAtOrAfter(long origin, long seq) {
    ChangeRing run = byOrigin.get(origin);
    if (run == null || run.isEmpty() || seq > run.last().seq()) {
      return OptionalLong.empty();
    }
    return hlcAt(origin, Math.max(seq, run.first().seq()));
  }

  int size() {
    return arrivalOrder.size();
  }

  long bytes() {
    return bytes;
  }

  private ChangeRing runOf(long origin) {
    if (lastRun == null || lastOrigin != origin) {
      lastRun = byOrigin.computeIfAbsent(origin, o -> new ChangeRing());
      lastOrigin = origin;
    }
    return lastRun;
  }

  private void evictOldest() {
    Change oldest = arrivalOrder.removeFirst();
    bytes -= oldest.weight();
    ChangeRing run = byOrigin.get(oldest.origin());
    if (run != null && !run.isEmpty() && run.first() == oldest) {
      run.removeFirst();
      if (run.isEmpty()) {
        byOrigin.remove(oldest.origin());
        if (run == lastRun) {
          lastRun = null;
        }
      }
    }
  }
}
