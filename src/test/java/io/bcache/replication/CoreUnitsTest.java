package io.bcache.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The HLC, last-writer-wins order and the backlog's bounds. */
class CoreUnitsTest {

  @Test
  void hlcNeverGoesBackwardsAndMovesPastObservedTimestamps() {
    long[] wall = {1_000};
    HybridLogicalClock clock = new HybridLogicalClock(() -> wall[0]);
    long first = clock.tick();
    wall[0] = 900; // the wall clock steps back
    long second = clock.tick();
    assertThat(second).isGreaterThan(first);
    clock.observe(HybridLogicalClock.timestampOf(5_000));
    assertThat(clock.tick()).isGreaterThan(HybridLogicalClock.timestampOf(5_000));
    assertThat(HybridLogicalClock.physicalMillis(HybridLogicalClock.timestampOf(1234)))
        .isEqualTo(1234);
  }

  @Test
  void lastWriterWinsWithOriginTieBreak() {
    Change older = Change.put("c", new byte[] {1}, new byte[] {1}, 10, 5, Change.ETERNAL);
    Change newer = Change.put("c", new byte[] {1}, new byte[] {2}, 11, 1, Change.ETERNAL);
    Change tieHigherOrigin = Change.remove("c", new byte[] {1}, 10, 6);
    assertThat(newer.isNewerThan(older)).isTrue();
    assertThat(older.isNewerThan(newer)).isFalse();
    assertThat(tieHigherOrigin.isNewerThan(older)).isTrue();
    assertThat(older.isNewerThan(tieHigherOrigin)).isFalse();
    assertThat(older.isNewerThan(older)).isFalse();
  }

  private static Change sequenced(long origin, long seq) {
    return new Change("c", new byte[] {(byte) seq}, new byte[10], seq << 16, origin, seq,
        Change.ETERNAL);
  }

  @Test
  void backlogKeepsTheNewestChangesWithinItsCountBound() {
    Backlog backlog = new Backlog(5, Long.MAX_VALUE);
    for (long seq = 1; seq <= 8; seq++) {
      backlog.append(sequenced(1, seq));
      backlog.append(sequenced(2, seq));
      assertThat(backlog.size()).isLessThanOrEqualTo(5);
    }
    assertThat(backlog.covers(1, 6, 8)).isFalse(); // only 7 and 8 of origin 1 are left
    assertThat(backlog.covers(1, 7, 8)).isTrue();
    assertThat(backlog.covers(2, 6, 8)).isTrue();
    List<Change> out = new ArrayList<>();
    assertThat(backlog.copy(2, 6, 10, out)).isEqualTo(3);
    assertThat(out).extracting(Change::seq).containsExactly(6L, 7L, 8L);
    assertThat(backlog.hlcAt(2, 7)).hasValue(7L << 16);
    assertThat(backlog.hlcAtOrAfter(2, 7)).hasValue(7L << 16);
    assertThat(backlog.hlcAtOrAfter(2, 1)).hasValue(6L << 16); // the oldest of origin 2 still held
    assertThat(backlog.hlcAtOrAfter(2, 9)).isEmpty();
  }

  @Test
  void backlogRespectsItsByteBoundAndRestartsARunAfterAGap() {
    int weight = sequenced(1, 1).weight();
    Backlog backlog = new Backlog(1_000, 3L * weight);
    for (long seq = 1; seq <= 10; seq++) {
      backlog.append(sequenced(1, seq));
      assertThat(backlog.bytes()).isLessThanOrEqualTo(3L * weight);
    }
    assertThat(backlog.covers(1, 9, 12)).isFalse(); // 11 and 12 came as a snapshot watermark
    backlog.append(sequenced(1, 20)); // adopted a snapshot watermark in between
    assertThat(backlog.covers(1, 10, 20)).isFalse();
    assertThat(backlog.covers(1, 20, 20)).isTrue();
    assertThat(backlog.covers(1, 20, 25)).isFalse(); // and then another, up to 25
  }

  @Test
  void aCacheSyncCountsAsCoveredOnlyTheRangesItAskedFor() {
    CacheSync sync = new CacheSync("c", 16);
    sync.missing.put(7L, new HlcRange(Long.MIN_VALUE, 50));
    sync.neededSeq.put(7L, 3L);
    java.util.Map<Long, HlcRange> asked = java.util.Map.copyOf(sync.missing);
    // while the snapshot runs, a full snapshot adds versions up to 100 to the gap
    sync.missing.put(7L, new HlcRange(Long.MIN_VALUE, 100));
    sync.neededSeq.put(7L, 5L);
    // the sender is past all of it, but sent only what was asked: up to 50
    boolean done = sync.covered(java.util.Map.of(7L, new Watermark(5, 100)), asked);
    assertThat(done).isFalse();
    assertThat(sync.missing).containsEntry(7L, new HlcRange(50, 100));
    assertThat(sync.covered(java.util.Map.of(7L, new Watermark(5, 100)),
        java.util.Map.copyOf(sync.missing))).isTrue();
  }

  @Test
  void aCacheSyncSpanningTwoGapsSkipsWhatTheStreamBroughtBetweenThem() {
    CacheSync sync = new CacheSync("c", 16);
    sync.addGap(7L, new HlcRange(Long.MIN_VALUE, 50)); // processed before the cache existed
    // the stream then brought 51..80 into the cache; a full snapshot's watermarks skip 81..100
    sync.addGap(7L, new HlcRange(80, 100));

    assertThat(sync.missing).containsEntry(7L, new HlcRange(Long.MIN_VALUE, 100));
    assertThat(sync.processedHere(7L, 40)).isFalse();
    assertThat(sync.processedHere(7L, 51)).isTrue();
    assertThat(sync.processedHere(7L, 80)).isTrue();
    assertThat(sync.processedHere(7L, 81)).isFalse();
    assertThat(sync.processedHere(8L, 60)).isFalse(); // another origin's versions

    sync.addGap(7L, new HlcRange(90, 120)); // overlapping gaps leave nothing in between
    assertThat(sync.missing).containsEntry(7L, new HlcRange(Long.MIN_VALUE, 120));
    assertThat(sync.processedHere(7L, 95)).isFalse();
  }
}
