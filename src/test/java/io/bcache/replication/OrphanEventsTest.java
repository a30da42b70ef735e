package io.bcache.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OrphanEventsTest {

  private static final long SELF = 1;
  private static final CopyId OTHER = new CopyId(2, 0);
  private static final CopyId OWN = new CopyId(SELF, 0);
  private static final CopyId OWN_NEXT = new CopyId(SELF, 1);
  private static final Set<String> HERE = Set.of("users", "orders");

  private final OrphanEvents events = new OrphanEvents(SELF);

  @BeforeEach
  void createCaches() {
    HERE.forEach(events::cacheCreated);
  }

  @Test
  void ownEventsCountForEveryCacheAdvertised() {
    assertThat(events.advertised(HERE)).isEmpty();
    events.raise();
    events.raise();
    assertThat(events.advertised(HERE))
        .containsEntry("users", Map.of(OWN, 2L))
        .containsEntry("orders", Map.of(OWN, 2L));
  }

  @Test
  void aCopyCountsOnlyTheOwnEventsRaisedSinceItWasCreated() {
    events.raise();
    events.cacheCreated("late"); // its first copy: no orphan of the earlier event is in it
    events.raise();
    assertThat(events.advertised(Set.of("late"))).containsEntry("late", Map.of(OWN, 1L));
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
  void countsOnlyGrowAndIgnoreThisCopysOwnEvents() {
    events.snapshotCompleted(Map.of("users", Map.of(OTHER, 3L, OWN, 5L)), HERE);
    events.snapshotCompleted(Map.of("users", Map.of(OTHER, 2L)), HERE);
    assertThat(events.advertised(HERE)).isEqualTo(Map.of("users", Map.of(OTHER, 3L)));
    // a peer that took this copy's own events sends them back: nothing to pull for them
    assertThat(events.lacksAnyOf(Map.of("users", Map.of(OWN, 5L)), HERE)).isFalse();
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
  void orphansDroppedWithACopysEntriesArePulledAgain() {
    events.snapshotCompleted(Map.of("users", Map.of(OTHER, 3L)), HERE);
    events.pulledLost("users");
    assertThat(events.lacksAnyOf(Map.of("users", Map.of(OTHER, 3L)), HERE)).isTrue();
  }

  @Test
  void aCacheCreatedAgainPullsBackTheOrphansOfThisNodesEarlierEventsLikeAnyOthers() {
    events.raise();
    events.cacheCreated("users");
    events.raise();
    // the new copy claims only the event raised since: a peer taking a full snapshot of it
    // cannot count the earlier one as had
    assertThat(events.advertised(Set.of("users"))).isEqualTo(Map.of("users", Map.of(OWN_NEXT, 1L)));
    // a peer that took the earlier event from the closed copy holds its orphans: pull them
    assertThat(events.lacksAnyOf(Map.of("users", Map.of(OWN, 1L)), HERE)).isTrue();
    events.snapshotCompleted(Map.of("users", Map.of(OWN, 1L, OWN_NEXT, 1L)), HERE);
    assertThat(events.lacksAnyOf(Map.of("users", Map.of(OWN, 1L)), HERE)).isFalse();
    assertThat(events.advertised(Set.of("users")))
        .isEqualTo(Map.of("users", Map.of(OWN, 1L, OWN_NEXT, 1L)));
    // the other cache kept its copy, and all of this node's events
    assertThat(events.advertised(Set.of("orders"))).isEqualTo(Map.of("orders", Map.of(OWN, 2L)));
  }

  @Test
  void aCopyNumberThisNodeNeverHadIsNoReasonToPull() {
    assertThat(events.lacksAnyOf(Map.of("users", Map.of(new CopyId(SELF, 7), 1L)), HERE)).isFalse();
  }
}
