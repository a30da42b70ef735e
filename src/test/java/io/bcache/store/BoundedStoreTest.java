package io.bcache.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BoundedStoreTest {

  private final List<StoreEntry> evicted = new CopyOnWriteArrayList<>();

  private static StoreEntry entry(Object key, Object value) {
    return new StoreEntry(key, value, 1, 1, StoreEntry.ETERNAL);
  }

  private static void put(BoundedStore store, Object key) {
    store.compute(key, (k, current) -> entry(k, "v" + k));
  }

  private Set<Object> keys(BoundedStore store) {
    Set<Object> keys = new HashSet<>();
    store.iterator().forEachRemaining(e -> keys.add(e.key()));
    return keys;
  }

  @Test
  void evictsTheLeastRecentlyUsedEntryFirst() {
    BoundedStore store = new BoundedStore(3, evicted::add);
    put(store, "a");
    put(store, "b");
    put(store, "c");
    store.get("a");
    put(store, "d");
    assertThat(keys(store)).containsExactlyInAnyOrder("a", "c", "d");
    assertThat(evicted).extracting(StoreEntry::key).containsExactly("b");
  }

  @Test
  void manyReadsBetweenWritesKeepExactOrderOnOneThread() {
    BoundedStore store = new BoundedStore(100, evicted::add);
    for (int i = 0; i < 100; i++) {
      put(store, i);
    }
    // read every key in reverse order, far more reads than one access buffer stripe holds
    for (int round = 0; round < 3; round++) {
      for (int i = 99; i >= 0; i--) {
        store.get(i);
      }
    }
    for (int i = 100; i < 110; i++) {
      put(store, i);
    }
    // now key 99 was read least recently, then 98, ...
    List<Object> gone = new ArrayList<>();
    evicted.forEach(e -> gone.add(e.key()));
    assertThat(gone).containsExactly(99, 98, 97, 96, 95, 94, 93, 92, 91, 90);
  }

  @Test
  void anOverwriteCountsAsAUse() {
    BoundedStore store = new BoundedStore(2, evicted::add);
    put(store, "a");
    put(store, "b");
    put(store, "a");
    put(store, "c");
    assertThat(keys(store)).containsExactlyInAnyOrder("a", "c");
  }

  @Test
  void overwritesAndReadsKeepTheirOrderAcrossDeferredMaintenance() {
    BoundedStore store = new BoundedStore(3, evicted::add);
    put(store, "a");
    put(store, "b");
    put(store, "c");
    put(store, "a"); // an overwrite: its relinking may be deferred
    store.get("b"); // ... but it still happened before this read
    put(store, "d"); // order now c, a, b, d: c goes
    put(store, "e"); // then a
    assertThat(evicted).extracting(StoreEntry::key).containsExactly("c", "a");
    assertThat(keys(store)).containsExactlyInAnyOrder("b", "d", "e");
  }

  @Test
  void aLongRunOfOverwritesKeepsExactOrder() {
    BoundedStore store = new BoundedStore(200, evicted::add);
    for (int i = 0; i < 200; i++) {
      put(store, i);
    }
    for (int i = 199; i >= 0; i--) {
      put(store, i); // overwrite in reverse: 0 is now the most recent
    }
    for (int i = 200; i < 205; i++) {
      put(store, i);
    }
    assertThat(evicted).extracting(StoreEntry::key).containsExactly(199, 198, 197, 196, 195);
  }

  @Test
  void peekDoesNotCountAsAUse() {
    BoundedStore store = new BoundedStore(2, evicted::add);
    put(store, "a");
    put(store, "b");
    store.peek("a");
    put(store, "c");
    assertThat(keys(store)).containsExactlyInAnyOrder("b", "c");
  }

  @Test
  void tombstonesDoNotCountAgainstTheBound() {
    BoundedStore store = new BoundedStore(2, evicted::add);
    put(store, "a");
    store.compute("a", (k, current) -> new StoreEntry(k, null, 2, 1, StoreEntry.ETERNAL));
    put(store, "b");
    put(store, "c");
    assertThat(store.liveCount()).isEqualTo(2);
    assertThat(store.peek("a").isTombstone()).isTrue();
    assertThat(evicted).isEmpty();
  }

  @Test
  void removeTakesOnlyTheExpectedEntry() {
    BoundedStore store = new BoundedStore(2, evicted::add);
    put(store, "a");
    StoreEntry first = store.peek("a");
    put(store, "a");
    assertThat(store.remove("a", first)).isFalse();
    assertThat(store.remove("a", store.peek("a"))).isTrue();
    assertThat(store.liveCount()).isZero();
  }

  @Test
  void aFailingRemappingChangesNothing() {
    BoundedStore store = new BoundedStore(2, evicted::add);
    put(store, "a");
    StoreEntry before = store.peek("a");
    assertThatThrownBy(() -> store.compute("a", (k, current) -> {
      throw new IllegalStateException("writer failed");
    })).isInstanceOf(IllegalStateException.class);
    assertThat(store.peek("a")).isSameAs(before);
    assertThat(store.liveCount()).isEqualTo(1);
  }

  @Test
  void theBoundHoldsUnderConcurrentWritersAndReaders() throws Exception {
    int bound = 500;
    BoundedStore store = new BoundedStore(bound, evicted::add);
    int threads = 4;
    int perThread = 20_000;
    CyclicBarrier start = new CyclicBarrier(threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int base = t * perThread;
        done.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < perThread; i++) {
            put(store, base + i);
            store.get(base + i / 2);
            if (i % 7 == 0) {
              StoreEntry e = store.peek(base + i);
              if (e != null) {
                store.remove(base + i, e);
              }
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    // removals interleave with evictions, so the store may sit just below the bound
    long live = store.liveCount();
    assertThat(live).isBetween(bound - (long) threads, (long) bound);
    assertThat(keys(store)).hasSize((int) live);
    assertThat(store.mappingCount()).isEqualTo((int) live);
    // the recency list and the map still agree: fresh keys fill it to exactly the bound
    for (int i = 0; i < bound; i++) {
      put(store, "fresh" + i);
    }
    assertThat(store.liveCount()).isEqualTo(bound);
    assertThat(keys(store)).hasSize(bound).allMatch(k -> k.toString().startsWith("fresh"));
  }

  private static void bury(BoundedStore store, Object key, long version) {
    store.compute(key, (k, current) -> new StoreEntry(k, null, version, 1, StoreEntry.ETERNAL));
  }

  @Test
  void purgeDropsOnlyTombstonesOlderThanTheHorizon() {
    BoundedStore store = new BoundedStore(10, evicted::add);
    put(store, "live");
    bury(store, "old", 5);
    bury(store, "recent", 10);
    assertThat(store.tombstoneCount()).isEqualTo(2);

    store.purgeTombstones(8);

    assertThat(keys(store)).containsExactlyInAnyOrder("live", "recent");
    assertThat(store.tombstoneCount()).isEqualTo(1);
    put(store, "recent"); // a write over a tombstone takes it out of the purge's reach
    store.purgeTombstones(Long.MAX_VALUE);
    assertThat(keys(store)).containsExactlyInAnyOrder("live", "recent");
    assertThat(store.tombstoneCount()).isZero();
  }

  @Test
  void trimKeepsTheNewestTombstonesWithinTheBound() {
    BoundedStore store = new BoundedStore(4, evicted::add);
    put(store, "live");
    for (int i = 1; i <= 6; i++) {
      bury(store, "t" + i, i);
    }

    store.trimTombstones();

    assertThat(keys(store)).containsExactlyInAnyOrder("live", "t3", "t4", "t5", "t6");
    assertThat(store.tombstoneCount()).isEqualTo(4);
  }

  @Test
  void rejectsABoundBelowOne() {
    assertThatThrownBy(() -> new BoundedStore(0, EvictionListener.NONE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxEntries");
  }
  private static StoreEntry versioned(Object key, Object value, long version, long origin) {
    return new StoreEntry(key, value, version, origin, StoreEntry.ETERNAL);
  }

  @Test
  void aClearRemovesWhatIsNotNewerAndKeepsOlderWritesOut() {
    BoundedStore store = new BoundedStore(100, evicted::add);
    store.compute("old", (k, c) -> versioned(k, "v", 10, 1));
    store.compute("tie", (k, c) -> versioned(k, "v", 20, 5)); // same version, lower origin
    store.compute("gone", (k, c) -> versioned(k, null, 15, 1)); // a tombstone
    store.compute("new", (k, c) -> versioned(k, "v", 21, 1));

    assertThat(store.clearUpTo(new ClearMark(20, 7))).isTrue();
    assertThat(keys(store)).containsExactly("new");
    assertThat(store.tombstoneCount()).isZero();
    assertThat(store.liveCount()).isEqualTo(1);
    assertThat(evicted).isEmpty(); // a clear is not an eviction

    // a write the clear covers (it raced the clear, or arrived late) does not stay
    assertThat(store.compute("late", (k, c) -> versioned(k, "v", 19, 9))).isNull();
    assertThat(store.isCleared(19, 9)).isTrue();
    assertThat(store.isCleared(20, 8)).isFalse();
    assertThat(store.compute("after", (k, c) -> versioned(k, "v", 22, 1))).isNotNull();
    assertThat(keys(store)).containsExactlyInAnyOrder("new", "after");

    // an older clear changes nothing, a newer one moves the mark
    assertThat(store.clearUpTo(new ClearMark(5, 1))).isFalse();
    assertThat(store.clearMark()).isEqualTo(new ClearMark(20, 7));
    assertThat(store.clearUpTo(new ClearMark(21, 1))).isTrue();
    assertThat(keys(store)).containsExactly("after");
  }

  @Test
  void putIfAbsentMapsOnlyAKeyWithNoMappingAndCountsItAgainstTheBound() {
    BoundedStore store = new BoundedStore(2, evicted::add);
    StoreEntry held = versioned("a", "v1", 10, 1);
    assertThat(store.putIfAbsent("a", held)).isNull();
    store.compute("b", (k, c) -> versioned(k, null, 11, 1)); // a tombstone is a mapping too

    assertThat(store.putIfAbsent("a", versioned("a", "v2", 12, 1))).isSameAs(held);
    assertThat(store.putIfAbsent("b", versioned("b", "v", 12, 1)).isTombstone()).isTrue();
    assertThat(store.peek("a")).isSameAs(held);

    assertThat(store.putIfAbsent("c", versioned("c", "v", 13, 1))).isNull();
    assertThat(store.putIfAbsent("d", versioned("d", "v", 14, 1))).isNull();
    assertThat(store.liveCount()).isEqualTo(2);
    assertThat(evicted).extracting(StoreEntry::key).containsExactly("a");
    assertThatThrownBy(() -> store.putIfAbsent("e", versioned("e", null, 15, 1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void putIfAbsentOfAWriteAClearCoversDoesNotStay() {
    BoundedStore store = new BoundedStore(100, evicted::add);
    store.clearUpTo(new ClearMark(20, 7));

    assertThat(store.putIfAbsent("late", versioned("late", "v", 19, 9))).isNull();
    assertThat(store.peek("late")).isNull();
    assertThat(store.putIfAbsent("after", versioned("after", "v", 21, 1))).isNull();
    assertThat(keys(store)).containsExactly("after");
    assertThat(store.liveCount()).isEqualTo(1);
  }
}
