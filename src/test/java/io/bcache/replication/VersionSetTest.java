package io.bcache.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class VersionSetTest {

  private record Version(long origin, long hlc) {}

  @Test
  void behavesLikeASetUnderRandomAddsRemovesAndFloors() {
    for (int seed = 0; seed < 50; seed++) {
      Random random = new Random(seed);
      // small bounds keep the table small, so probe runs wrap around its end
      int max = 1 + random.nextInt(seed % 2 == 0 ? 12 : 5_000);
      int range = 2 * max + 10;
      VersionSet set = new VersionSet(max);
      Set<Version> model = new HashSet<>();
      // few origins and clustered timestamps, as a snapshot's versions are: long probe runs
      long[] origins = {random.nextLong(), random.nextLong(), random.nextLong()};
      for (int op = 0; op < 20_000; op++) {
        Version v = new Version(origins[random.nextInt(origins.length)], 1 + random.nextInt(range));
        int kind = random.nextInt(100);
        if (kind < 60) {
          set.add(v.origin(), v.hlc());
          if (model.size() < max) {
            model.add(v);
          }
        } else if (kind < 75) {
          // a transfer logs a version it applied; transfers take turns, as retries do
          long transfer = 1 + (op / 500) % 3;
          if (!model.contains(v)) {
            assertThat(set.containsBefore(transfer, v.origin(), v.hlc())).isFalse();
            set.record(transfer, v.origin(), v.hlc());
            if (model.size() < max) {
              model.add(v);
            }
          }
        } else if (kind < 95) {
          assertThat(set.remove(v.origin(), v.hlc())).as("seed %d remove %s", seed, v).isEqualTo(model.remove(v));
        } else if (kind < 96) {
          long floor = random.nextInt(range);
          set.removeAtOrBelow(origin -> origin == origins[0] ? floor : 0);
          model.removeIf(m -> m.hlc() <= (m.origin() == origins[0] ? floor : 0));
        }
        Version probe = new Version(origins[random.nextInt(origins.length)], 1 + random.nextInt(range));
        assertThat(set.contains(probe.origin(), probe.hlc())).as("seed %d contains %s", seed, probe)
            .isEqualTo(model.contains(probe));
        assertThat(set.size()).isEqualTo(model.size());
      }
      for (Version v : model) {
        assertThat(set.contains(v.origin(), v.hlc())).isTrue();
      }
      set.clear();
      assertThat(set.size()).isZero();
      assertThat(set.contains(origins[0], 1)).isFalse();
    }
  }

  @Test
  void aTransfersOwnVersionsAreLoggedAndSeenByTheNextTransfer() {
    VersionSet set = new VersionSet(100);
    for (long hlc = 1; hlc <= 10; hlc++) {
      set.record(1, 7, hlc);
    }
    assertThat(set.size()).isEqualTo(10);
    assertThat(set.containsBefore(1, 7, 3)).as("its own transfer is not searched").isFalse();
    assertThat(set.containsBefore(2, 7, 3)).as("a later transfer sees it").isTrue();
    assertThat(set.containsBefore(2, 7, 11)).isFalse();
    set.record(2, 7, 11);
    assertThat(set.contains(7, 11)).isTrue();
  }

  @Test
  void aCompletedTransfersVersionsAtOrBelowTheFloorAreDroppedUnhashed() {
    VersionSet set = new VersionSet(100);
    set.add(9, 50);
    for (long hlc = 1; hlc <= 10; hlc++) {
      set.record(1, 7, hlc);
    }
    set.removeAtOrBelow(origin -> origin == 7 ? 8 : 0);
    assertThat(set.size()).isEqualTo(3);
    assertThat(set.contains(7, 8)).isFalse();
    assertThat(set.contains(7, 9)).isTrue();
    assertThat(set.contains(9, 50)).isTrue();
  }

  @Test
  void addAllTakesTheOtherSetsTableAndLog() {
    VersionSet other = new VersionSet(100);
    other.add(1, 10);
    other.record(7, 2, 20);
    VersionSet set = new VersionSet(100);
    set.record(8, 3, 30);
    set.addAll(other);
    assertThat(set.size()).isEqualTo(3);
    assertThat(set.containsBefore(9, 1, 10)).isTrue();
    assertThat(set.containsBefore(9, 2, 20)).isTrue();
    assertThat(set.containsBefore(9, 3, 30)).isTrue();
  }

  @Test
  void stopsRememberingAtItsBound() {
    VersionSet set = new VersionSet(3);
    for (long hlc = 1; hlc <= 10; hlc++) {
      set.add(7, hlc);
    }
    assertThat(set.size()).isEqualTo(3);
    assertThat(set.contains(7, 3)).isTrue();
    assertThat(set.contains(7, 4)).isFalse();
    set.record(5, 8, 1);
    assertThat(set.size()).isEqualTo(3);
  }
}
