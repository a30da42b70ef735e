package io.bcache.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OrphanEventsTest {

  private static final long SELF = 1;
  private static final long OTHER = 2;
  private static final Set<String> HERE = Set.of("users", "orders");

  private final OrphanEvents events = new OrphanEvents(SELF);

  @Test
  void ownEventsCountForEveryCacheAdvertised() {
    assertThat(events.advertised(HERE)).isEmpty();
    events.raise();
    events.raise();
    assertThat(events.advertised(HERE))
        .containsEntry("users", Map.of(SELF, 2L))
        .containsEntry("orders", Map.of(SELF, 2L));
  }

  @Test
  void aSnapshotBringsItsSendersEventsOnlyForTheCachesItSent() {
    events.snapshotCompleted(Map.of("users", Map.of(OTHER, 3L), "orders", Map.of(OTHER, 3L)),
        Set.of("users"));
    assertThat(events.advertised(HERE)).containsOnlyKeys("users");
    assertThat(events.lacksAnyOf(Map.of("users", Map.of(OTHER, 3L)), HERE)).isFalse();
    assertThat(events.lacksAnyOf(Map.of("users", Map.of(OTHER, 4L)), HERE)).isTrue();
    assertThat(events.lacksAnyOf(Map.of("orders", Map.of(OTHER, 1L)), HERE)).isTrue();
  }

  @Test
  void countsOnlyGrowAndIgnoreThisNodesOwnEvents() {
    events.snapshotCompleted(Map.of("users", Map.of(OTHER, 3L, SELF, 5L)), HERE);
    events.snapshotCompleted(Map.of("users", Map.of(OTHER, 2L)), HERE);
    assertThat(events.advertised(HERE)).isEqualTo(Map.of("users", Map.of(OTHER, 3L)));
    // a peer that took this node's own events sends them back: nothing to pull for them
    assertThat(events.lacksAnyOf(Map.of("users", Map.of(SELF, 5L)), HERE)).isFalse();
  }

  @Test
  void aCacheThisNodeDoesNotHaveIsNoReasonToPull() {
    assertThat(events.lacksAnyOf(Map.of("other", Map.of(OTHER, 3L)), HERE)).isFalse();
  }

  @Test
  void aCacheCreatedAgainHoldsNoneOfWhatItsFormerCopyHeld() {
    events.snapshotCompleted(Map.of("users", Map.of(OTHER, 3L)), HERE);
    events.cacheCreated("users");
    assertThat(events.advertised(HERE)).isEmpty();
    assertThat(events.lacksAnyOf(Map.of("users", Map.of(OTHER, 3L)), HERE)).isTrue();
  }

  @Test
  void aCacheCreatedAgainPullsBackTheOrphansOfThisNodesOwnEvents() {
    events.raise();
    events.cacheCreatedAgain("users");
    // a peer that took this node's own event before the cache closed here holds its orphans
    assertThat(events.lacksAnyOf(Map.of("users", Map.of(SELF, 1L)), HERE)).isTrue();
    assertThat(events.snapshotCompleted(Map.of("users", Map.of(SELF, 1L)), HERE)).isTrue();
    assertThat(events.lacksAnyOf(Map.of("users", Map.of(SELF, 1L)), HERE)).isFalse();
    // advertised all along, so that the orphans of its later events keep spreading
    assertThat(events.advertised(HERE)).containsEntry("users", Map.of(SELF, 1L));
  }

  @Test
  void aCacheCreatedAgainSaysOnceWhenItsOwnOrphansAreAllBack() {
    events.raise();
    events.raise();
    events.cacheCreatedAgain("users");
    // a peer holding the orphans of only the first event: not all back yet
    assertThat(events.snapshotCompleted(Map.of("users", Map.of(SELF, 1L)), HERE)).isFalse();
    assertThat(events.snapshotCompleted(Map.of("orders", Map.of(SELF, 2L)), HERE)).isFalse();
    assertThat(events.snapshotCompleted(Map.of("users", Map.of(SELF, 2L)), HERE)).isTrue();
    // the caller raises a new event then; later snapshots bring nothing this node lacked
    assertThat(events.snapshotCompleted(Map.of("users", Map.of(SELF, 2L)), HERE)).isFalse();
  }
}
