package io.bcache.replication;

import java.util.Arrays;
import java.util.function.LongUnaryOperator;

/**
 * Versions (origin, hlc) applied from snapshot transfers that the version vector does not cover
 * yet (transfers that did not complete, and a full snapshot's entries written during its pass),
 * bounded. A transfer that is abandoned and retried, or overtaken by the stream, would otherwise
 * apply the same version twice, and the second time push back a key evicted in between. Beyond
 * the bound versions are no longer remembered, and that protection lapses for them.
 *
 * <p>A joining node consults this set once per snapshot entry, so it is an open-addressing
 * table of two {@code long} arrays (linear probing, at most half full): no object per version
 * and no boxing, where a {@code HashSet} of records was the largest cost of a join. The
 * versions of the transfer in progress are only appended to a log ({@link #record}): a transfer
 * never carries a version twice, so they need no lookup until another transfer or the stream
 * asks, and a transfer that completes usually drops them all ({@link #removeAtOrBelow}) without
 * ever hashing them.
 */
final class VersionSet {

  /** Marks a free slot; versions are hybrid logical clock readings, which are positive. */
  private static final long FREE = Long.MIN_VALUE;
  private static final int MIN_CAPACITY = 16;

  private final int max;
  private long[] origins;
  private long[] hlcs;
  private int size;
  /** Versions of the transfer {@link #loggedTransfer}, as (origin, hlc) pairs, not yet in the table. */
  private long[] log = new long[0];
  private int logged;
  private long loggedTransfer;

  VersionSet(int max) {
    this.max = max;
    allocate(MIN_CAPACITY);
  }

  void add(long origin, long hlc) {
    settle();
    insert(origin, hlc);
  }

  /**
   * Remembers a version applied by snapshot transfer {@code transferId}. Versions of one
   * transfer are only logged; those of an earlier transfer are settled into the table first.
   */
  void record(long transferId, long origin, long hlc) {
    if (logged > 0 && transferId != loggedTransfer) {
      settle();
    }
    if (size + logged >= max || hlc == FREE) {
      return;
    }
    loggedTransfer = transferId;
    if (2 * logged == log.length) {
      log = Arrays.copyOf(log, Math.max(64, 2 * log.length));
    }
    log[2 * logged] = origin;
    log[2 * logged + 1] = hlc;
    logged++;
  }

  /**
   * Whether a version was applied by an earlier transfer than {@code transferId} (the caller's
   * own transfer carries each version once, so its log need not be searched).
   */
  boolean containsBefore(long transferId, long origin, long hlc) {
    if (logged > 0 && transferId != loggedTransfer) {
      settle();
    }
    return size > 0 && hlcs[slotOf(origin, hlc)] != FREE;
  }

  private void insert(long origin, long hlc) {
    if (size >= max || hlc == FREE) {
      return;
    }
    if (2 * (size + 1) > hlcs.length) {
      rehash(2 * hlcs.length, null);
    }
    int slot = slotOf(origin, hlc);
    if (hlcs[slot] == FREE) {
      origins[slot] = origin;
      hlcs[slot] = hlc;
      size++;
    }
  }

  boolean contains(long origin, long hlc) {
    settle();
    return size > 0 && hlcs[slotOf(origin, hlc)] != FREE;
  }

  /** Forgets a version, returning whether it was remembered. */
  boolean remove(long origin, long hlc) {
    settle();
    if (size == 0) {
      return false;
    }
    int slot = slotOf(origin, hlc);
    if (hlcs[slot] == FREE) {
      return false;
    }
    closeGap(slot);
    size--;
    return true;
  }

  /** Forgets the versions of each origin at or below {@code floor(origin)}; shrinks the table. */
  void removeAtOrBelow(LongUnaryOperator floor) {
    int keptLogged = 0;
    for (int i = 0; i < logged; i++) {
      long origin = log[2 * i];
      long hlc = log[2 * i + 1];
      if (hlc > floor.applyAsLong(origin)) {
        log[2 * keptLogged] = origin;
        log[2 * keptLogged + 1] = hlc;
        keptLogged++;
      }
    }
    logged = keptLogged;
    settle();
    if (size == 0) {
      return;
    }
    int kept = 0;
    for (int i = 0; i < hlcs.length; i++) {
      if (hlcs[i] != FREE && hlcs[i] > floor.applyAsLong(origins[i])) {
        kept++;
      }
    }
    int capacity = MIN_CAPACITY;
    while (capacity < 2 * kept) {
      capacity <<= 1;
    }
    rehash(capacity, floor);
  }

  /** Remembers every version {@code other} remembers (within this set's bound). */
  void addAll(VersionSet other) {
    other.settle();
    settle();
    for (int i = 0; i < other.hlcs.length; i++) {
      if (other.hlcs[i] != FREE) {
        insert(other.origins[i], other.hlcs[i]);
      }
    }
  }

  void clear() {
    size = 0;
    logged = 0;
    log = new long[0];
    allocate(MIN_CAPACITY);
  }

  boolean isEmpty() {
    return size() == 0;
  }

  int size() {
    return size + logged;
  }

  /** Moves the logged versions into the table. */
  private void settle() {
    if (logged == 0) {
      return;
    }
    int pending = logged;
    logged = 0;
    for (int i = 0; i < pending; i++) {
      insert(log[2 * i], log[2 * i + 1]);
    }
    log = new long[0];
  }

  /** The slot holding this version, or the free slot where it would go. */
  private int slotOf(long origin, long hlc) {
    int mask = hlcs.length - 1;
    int slot = home(origin, hlc, mask);
    while (hlcs[slot] != FREE && (hlcs[slot] != hlc || origins[slot] != origin)) {
      slot = (slot + 1) & mask;
    }
    return slot;
  }

  /**
   * Frees {@code slot} and moves back each later entry of its probe run that could not be found
   * past the new hole (backward-shift deletion, so lookups never need tombstones).
   */
  private void closeGap(int slot) {
    int mask = hlcs.length - 1;
    int hole = slot;
    int next = slot;
    while (true) {
      next = (next + 1) & mask;
      if (hlcs[next] == FREE) {
        break;
      }
      int home = home(origins[next], hlcs[next], mask);
      // the entry at next may fill the hole unless its home lies cyclically in (hole, next]
      boolean homeAfterHole = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next);
      if (!homeAfterHole) {
        origins[hole] = origins[next];
        hlcs[hole] = hlcs[next];
        hole = next;
      }
    }
    hlcs[hole] = FREE;
  }

  /** Rebuilds the table at {@code capacity}, dropping the versions at or below {@code floor}. */
  private void rehash(int capacity, LongUnaryOperator floor) {
    long[] oldOrigins = origins;
    long[] oldHlcs = hlcs;
    allocate(capacity);
    size = 0;
    int mask = capacity - 1;
    for (int i = 0; i < oldHlcs.length; i++) {
      long hlc = oldHlcs[i];
      if (hlc == FREE || (floor != null && hlc <= floor.applyAsLong(oldOrigins[i]))) {
        continue;
      }
      int slot = home(oldOrigins[i], hlc, mask);
      while (hlcs[slot] != FREE) {
        slot = (slot + 1) & mask;
      }
      origins[slot] = oldOrigins[i];
      hlcs[slot] = hlc;
      size++;
    }
  }

  private void allocate(int capacity) {
    origins = new long[capacity];
    hlcs = new long[capacity];
    Arrays.fill(hlcs, FREE);
  }

  /**
   * Mixes both halves: timestamps taken in the same millisecond by a few origins differ only in
   * their low bits, and must still spread over the table.
   */
  private static int home(long origin, long hlc, int mask) {
    long h = origin * 0x9E3779B97F4A7C15L + hlc * 0xC2B2AE3D27D4EB4FL;
    return (int) (h ^ (h >>> 29) ^ (h >>> 47)) & mask;
  }
}
