package io.bcache.replication;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongUnaryOperator;

/**
 * Per origin, the newest version noted. Unbounded (one slot per origin), and two arrays with the
 * last origin's index at hand, since a joining node notes every entry it applies and a snapshot
 * brings long runs of one origin.
 */
final class NewestVersions {

  private long[] origins = new long[4];
  private long[] newest = new long[4];
  private int count;
  private int last;

  void note(long origin, long hlc) {
    int i = last;
    if (i >= count || origins[i] != origin) {
      i = 0;
      while (i < count && origins[i] != origin) {
        i++;
      }
      if (i == count) {
        if (i == origins.length) {
          origins = Arrays.copyOf(origins, 2 * i);
          newest = Arrays.copyOf(newest, 2 * i);
        }
        origins[i] = origin;
        newest[i] = Long.MIN_VALUE;
        count++;
      }
      last = i;
    }
    newest[i] = Math.max(newest[i], hlc);
  }

  /** Per origin, the newest version noted, if above {@code floor(origin)}. */
  Map<Long, Long> above(LongUnaryOperator floor) {
    Map<Long, Long> above = new HashMap<>();
    for (int i = 0; i < count; i++) {
      if (newest[i] > floor.applyAsLong(origins[i])) {
        above.put(origins[i], newest[i]);
      }
    }
    return above;
  }

  /** Whether a version noted lies above {@code floor(origin)}. */
  boolean anyAbove(LongUnaryOperator floor) {
    for (int i = 0; i < count; i++) {
      if (newest[i] > floor.applyAsLong(origins[i])) {
        return true;
      }
    }
    return false;
  }
}
