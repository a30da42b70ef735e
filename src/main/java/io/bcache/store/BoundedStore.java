package io.bcache.store;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiFunction;

/**
 * A concurrent map of versioned entries bounded by an entry count, evicting the least recently
 * used entry first.
 *
 * <p>Reads never lock: they look the key up in a {@link ConcurrentHashMap} and record the access
 * in an {@link AccessBuffer}. Writes are atomic per key through {@link #compute}; afterwards the
 * writer takes the eviction lock, replays the buffered reads into the recency list, moves its
 * entry to the head and evicts from the tail until the live count is within the bound. Once
 * a write returns, its own insertion has been accounted for, so the bound holds whenever no
 * write is in flight.
 *
 * <p>Tombstones live in the map (so that replication can compare versions) but not in the
 * recency list, and do not count towards the bound; {@link #trimTombstones} bounds them
 * separately, and {@link #purgeTombstones} collects them once their grace period is over. Both
 * walk an index of the tombstoned keys, never the whole map: the purge runs on the replication
 * thread, and a walk over a million live entries there would stall every change behind it.
 *
 * <p>A replicated clear ({@link #clearUpTo}) removes every entry not newer than its version and
 * leaves a {@link ClearMark}: a write whose version the mark covers does not stay, so an older
 * change that arrives late, or a local write that raced the clear, cannot outlive it.
 */
public final class BoundedStore {

  private final ConcurrentHashMap<Object, StoreEntry> map;
  private final AccessBuffer reads = new AccessBuffer();
  private final WriteBuffer writes = new WriteBuffer();
  private static final int WRITE_BATCH = 64;
  private final ReentrantLock evictionLock = new ReentrantLock();
  private final EvictionListener evictionListener;
  private volatile long maxEntries;
  /**
   * The keys whose mapping is a tombstone. Changed inside the map's compute for that key, so it
   * follows the mapping exactly even when writers of one key race.
   */
  private final Set<Object> tombstoneKeys = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean trimmingTombstones = new AtomicBoolean();
  private volatile ClearMark clearMark;

  // recency list: head is the most recently used; guarded by evictionLock
  private StoreEntry head;
  private StoreEntry tail;
  private long linkedCount;

  /**
   * @param maxEntries the bound on live entries, at least 1
   * @param evictionListener told about every evicted entry
   */
  public BoundedStore(long maxEntries, EvictionListener evictionListener) {
    if (maxEntries < 1) {
      throw new IllegalArgumentException("maxEntries must be at least 1, was " + maxEntries);
    }
    this.maxEntries = maxEntries;
    this.evictionListener = evictionListener;
    this.map = new ConcurrentHashMap<>((int) Math.min(maxEntries, 1 << 16));
  }

  public long maxEntries() {
    return maxEntries;
  }

  /**
   * Returns the entry for {@code key}, live, expired or tombstone, recording the access of a
   * live one for the LRU order; {@code null} if there is none.
   */
  public StoreEntry get(Object key) {
    StoreEntry entry = map.get(key);
    if (entry != null && entry.value != null && reads.record(entry)) {
      tryDrainReads();
    }
    return entry;
  }

  /** Returns the entry for {@code key} without counting it as a use. */
  public StoreEntry peek(Object key) {
    return map.get(key);
  }

  /** Counts a use of {@code entry} for the LRU order (for reads that did not go through {@link #get}). */
  public void touch(StoreEntry entry) {
    if (entry.value != null && reads.record(entry)) {
      tryDrainReads();
    }
  }

  /**
   * Atomically replaces the entry for {@code key} with what {@code remapping} returns for the
   * current one ({@code null} when absent). Returning the current entry unchanged is a no-op;
   * returning {@code null} removes the mapping. The function runs under the key's lock, so it
   * must be short and must not touch this store.
   *
   * @return the entry now mapped, or {@code null}
   */
  public StoreEntry compute(Object key, BiFunction<Object, StoreEntry, StoreEntry> remapping) {
    StoreEntry[] previous = new StoreEntry[1];
    StoreEntry result = map.compute(key, (k, current) -> {
      previous[0] = current;
      StoreEntry next = remapping.apply(k, current);
      indexTombstone(k, current, next);
      return next;
    });
    if (result != previous[0]) {
      afterWrite(key, previous[0], result);
    }
    if (result != null && droppedByClear(key, result)) {
      return null;
    }
    return result;
  }

  /**
   * Removes {@code written} again if a clear that had already passed its key covers it (a write
   * that raced the clear, or arrived late); returns whether it did.
   */
  private boolean droppedByClear(Object key, StoreEntry written) {
    ClearMark mark = clearMark;
    return mark != null && mark.covers(written) && remove(key, written);
  }

  /**
   * Maps {@code key} to the live {@code entry} if it has no mapping at all (not even a
   * tombstone): the same as a {@link #compute} that installs {@code entry} when the current one
   * is {@code null}, for the common case of a key arriving for the first time (a joining node
   * takes in every key so), without the objects a compute costs.
   *
   * @return {@code null} if {@code entry} is now mapped (or was, until a clear that had already
   *     passed this key removed it); otherwise the entry already mapped, which is left as it is
   */
  public StoreEntry putIfAbsent(Object key, StoreEntry entry) {
    if (entry.value == null) {
      throw new IllegalArgumentException("a tombstone goes through compute, which indexes it");
    }
    StoreEntry existing = map.putIfAbsent(key, entry);
    if (existing != null) {
      return existing;
    }
    afterWrite(key, null, entry);
    droppedByClear(key, entry);
    return null;
  }

  /** Removes the mapping for {@code key} only if it is exactly {@code expected}. */
  public boolean remove(Object key, StoreEntry expected) {
    boolean[] removed = new boolean[1];
    map.computeIfPresent(key, (k, current) -> {
      if (current != expected) {
        return current;
      }
      removed[0] = true;
      indexTombstone(k, current, null);
      return null;
    });
    if (removed[0]) {
      afterWrite(key, expected, null);
    }
    return removed[0];
  }

  /** Weakly consistent iteration over all entries, tombstones and expired ones included. */
  public Iterator<StoreEntry> iterator() {
    return map.values().iterator();
  }

  /** The number of mappings, tombstones and not-yet-collected expired entries included. */
  public int mappingCount() {
    return map.size();
  }

  /** The number of live entries counted against the bound. */
  public long liveCount() {
    List<StoreEntry> evicted;
    long count;
    evictionLock.lock();
    try {
      evicted = maintain(null);
      count = linkedCount;
    } finally {
      evictionLock.unlock();
    }
    notifyEvicted(evicted);
    return count;
  }

  /** Tombstones in the map; exact once concurrent writes have returned. */
  public long tombstoneCount() {
    return tombstoneKeys.size();
  }

  /** Drops the tombstones whose version is below {@code olderThanVersion}; touches no live entry. */
  public void purgeTombstones(long olderThanVersion) {
    for (Object key : tombstoneKeys) {
      StoreEntry entry = map.get(key);
      if (entry != null && entry.isTombstone() && entry.version < olderThanVersion) {
        remove(key, entry);
      }
    }
  }

  /**
   * Keeps the tombstones within the bound: past it by a quarter, the oldest go, down to the
   * bound. One thread trims at a time; others carry on. Without it, removals of keys a replica
   * does not hold (each leaves a tombstone) would grow the heap for the whole grace period.
   */
  public void trimTombstones() {
    long bound = maxEntries;
    if (tombstoneKeys.size() - bound <= bound / 4 || !trimmingTombstones.compareAndSet(false, true)) {
      return;
    }
    try {
      long[] versions = new long[(int) Math.min(Integer.MAX_VALUE - 8, tombstoneKeys.size() + 64)];
      int count = 0;
      for (Iterator<Object> it = tombstoneKeys.iterator(); it.hasNext() && count < versions.length; ) {
        StoreEntry entry = map.get(it.next());
        if (entry != null && entry.isTombstone()) {
          versions[count++] = entry.version;
        }
      }
      if (count > bound) {
        Arrays.sort(versions, 0, count);
        purgeTombstones(versions[count - (int) bound]); // keeps the newest `bound`
      }
    } finally {
      trimmingTombstones.set(false);
    }
  }

  /** Keeps {@link #tombstoneKeys} in step with a mapping change; called under the key's lock. */
  private void indexTombstone(Object key, StoreEntry before, StoreEntry after) {
    boolean was = before != null && before.isTombstone();
    boolean is = after != null && after.isTombstone();
    if (was != is) {
      if (is) {
        tombstoneKeys.add(key);
      } else {
        tombstoneKeys.remove(key);
      }
    }
  }

  /**
   * Applies a replicated clear: removes every entry, live or tombstone, whose version is not
   * newer than {@code mark}'s, without telling anyone, and keeps {@code mark} so that such
   * entries cannot come back. Entries newer than the clear (written after it elsewhere) stay.
   *
   * @return whether {@code mark} is newer than the clear this store had applied before
   */
  public boolean clearUpTo(ClearMark mark) {
    synchronized (this) { // two clears at once: the newer mark must stay
      if (!mark.isNewerThan(clearMark)) {
        return false;
      }
      clearMark = mark;
    }
    for (StoreEntry entry : map.values()) {
      if (mark.covers(entry)) {
        remove(entry.key, entry);
      }
    }
    return true;
  }

  /** The latest replicated clear this store applied, or {@code null}. */
  public ClearMark clearMark() {
    return clearMark;
  }

  /** Whether an entry of this version would be removed by the clear already applied. */
  public boolean isCleared(long version, long origin) {
    ClearMark mark = clearMark;
    return mark != null && mark.covers(version, origin);
  }

  /** Drops every entry without telling anyone; for {@code clear()} and close. */
  public void clear() {
    evictionLock.lock();
    try {
      map.clear();
      tombstoneKeys.clear();
      reads.discard();
      writes.drainTo(write -> { });
      for (StoreEntry e = head; e != null; ) {
        StoreEntry next = e.next;
        e.prev = e.next = null;
        e.linked = false;
        e = next;
      }
      head = tail = null;
      linkedCount = 0;
    } finally {
      evictionLock.unlock();
    }
  }

  /**
   * Accounts for a write in the recency list and, when it added a live entry, evicts down to the
   * bound before returning.
   *
   * <p>Only a write that adds a live entry can push the count over the bound. Replacements and
   * removals merely reorder or shorten the list, so they wait in the write buffer (writers never
   * queue up behind the lock for them) until an insertion or a full batch applies them. The
   * order of one thread's reads and writes is kept exact: a write is deferred only when the
   * thread has no reads waiting, buffered writes are applied before buffered reads, and an
   * insertion applies its own change after both.
   */
  private void afterWrite(Object key, StoreEntry previous, StoreEntry current) {
    WriteBuffer.Write write = new WriteBuffer.Write(key, previous, current);
    boolean adds = current != null && current.value != null && (previous == null || previous.value == null);
    if (!adds && !reads.hasPendingOfCurrentThread() && writes.size() < WRITE_BATCH && writes.offer(write)) {
      return;
    }
    if (evictionLock.tryLock()) {
      List<StoreEntry> evicted;
      try {
        evicted = maintain(write);
      } finally {
        evictionLock.unlock();
      }
      notifyEvicted(evicted);
    } else {
      // another thread holds the lock: hand the write over; the holder drains again after
      // unlocking whenever writes are left, so it is not stranded
      while (!writes.offer(write)) {
        List<StoreEntry> evicted;
        evictionLock.lock(); // full: the holder is far behind; help it instead of spinning
        try {
          evicted = maintain(null);
        } finally {
          evictionLock.unlock();
        }
        notifyEvicted(evicted);
      }
    }
    while (!writes.isEmpty() && evictionLock.tryLock()) {
      List<StoreEntry> evicted;
      try {
        evicted = maintain(null);
      } finally {
        evictionLock.unlock();
      }
      notifyEvicted(evicted);
    }
  }

  private void notifyEvicted(List<StoreEntry> evicted) {
    if (evicted != null) {
      for (StoreEntry victim : evicted) {
        evictionListener.onEviction(victim);
      }
    }
  }

  /**
   * Applies buffered writes, then buffered reads, then {@code latest} (if any) to the recency
   * list, and evicts down to the bound. Caller holds the lock.
   */
  private List<StoreEntry> maintain(WriteBuffer.Write latest) {
    writes.drainTo(this::apply);
    reads.drainTo(this::moveToHead);
    if (latest != null) {
      apply(latest);
    }
    List<StoreEntry> evicted = null;
    while (linkedCount > maxEntries) {
      StoreEntry victim = tail;
      unlink(victim);
      if (map.remove(victim.key, victim)) {
        if (evicted == null) {
          evicted = new ArrayList<>(2);
        }
        evicted.add(victim);
      }
    }
    return evicted;
  }

  private void apply(WriteBuffer.Write write) {
    if (write.previous() != null) {
      unlink(write.previous());
    }
    StoreEntry current = write.current();
    // a later write may already have replaced this entry; then that write links its own
    if (current != null && current.value != null && !current.linked && map.get(write.key()) == current) {
      linkAtHead(current);
    }
  }

  private void tryDrainReads() {
    if (evictionLock.tryLock()) {
      List<StoreEntry> evicted;
      try {
        evicted = maintain(null); // buffered writes first: they came before these reads
      } finally {
        evictionLock.unlock();
      }
      notifyEvicted(evicted);
    }
  }

  private void moveToHead(StoreEntry entry) {
    if (entry.linked && head != entry) {
      unlink(entry);
      linkAtHead(entry);
    }
  }

  private void linkAtHead(StoreEntry entry) {
    entry.prev = null;
    entry.next = head;
    if (head != null) {
      head.prev = entry;
    } else {
      tail = entry;
    }
    head = entry;
    entry.linked = true;
    linkedCount++;
  }

  private void unlink(StoreEntry entry) {
    if (!entry.linked) {
      return;
    }
    StoreEntry prev = entry.prev;
    StoreEntry next = entry.next;
    if (prev != null) {
      prev.next = next;
    } else {
      head = next;
    }
    if (next != null) {
      next.prev = prev;
    } else {
      tail = prev;
    }
    entry.prev = entry.next = null;
    entry.linked = false;
    linkedCount--;
  }
}
