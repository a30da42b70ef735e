package io.bcache.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GoneOriginsTest {

  private static final long SELF = 1;
  private static final long GRACE = 1_000;

  private final GoneOrigins gone = new GoneOrigins(SELF, GRACE);

  @Test
  void anOriginAbsentForTheGraceIsGoneAndOneStillAMemberNever() {
    gone.membersAre(Set.of(SELF, 2L));
    assertThat(gone.retire(List.of(SELF, 2L, 3L), 0)).isEmpty(); // 3's absence starts
    assertThat(gone.retire(List.of(SELF, 2L, 3L), GRACE - 1)).isEmpty();
    assertThat(gone.retire(List.of(SELF, 2L, 3L), GRACE)).containsExactly(3L);
    assertThat(gone.isGone(3)).isTrue();
    assertThat(gone.isGone(2)).isFalse();
    assertThat(gone.isGone(SELF)).isFalse();
    assertThat(gone.members()).containsExactly(2L);
    assertThat(gone.retire(List.of(3L), 10 * GRACE)).isEmpty(); // retired once
  }

  @Test
  void nothingIsGoneWhileTheMembersAreUnknownAndAbsencesPauseMeanwhile() {
    assertThat(gone.retire(List.of(3L), 0)).isEmpty(); // never told the members: no judgement
    gone.membersAre(Set.of(2L));
    gone.retire(List.of(3L), 0);
    gone.membersUnknown(GRACE / 2); // absent for half the grace so far
    assertThat(gone.retire(List.of(3L), 5 * GRACE)).isEmpty();
    assertThat(gone.members()).containsExactly(2L); // as last known: none may be left out
    gone.membersAre(Set.of(2L));
    assertThat(gone.retire(List.of(3L), 5 * GRACE)).isEmpty(); // its clock resumes here
    assertThat(gone.retire(List.of(3L), 5 * GRACE + GRACE / 2 - 1)).isEmpty();
    assertThat(gone.retire(List.of(3L), 5 * GRACE + GRACE / 2)).containsExactly(3L);
  }

  @Test
  void anOriginBackBeforeTheGraceStartsAfreshWhenItLeavesAgain() {
    gone.membersAre(Set.of(2L));
    gone.retire(List.of(3L), 0);
    gone.membersUnknown(GRACE / 2);
    gone.membersAre(Set.of(2L, 3L)); // back
    gone.membersAre(Set.of(2L));
    gone.retire(List.of(3L), GRACE);
    assertThat(gone.retire(List.of(3L), 2 * GRACE - 1)).isEmpty();
    assertThat(gone.retire(List.of(3L), 2 * GRACE)).containsExactly(3L);
  }

  @Test
  void aFormerMemberThatNeverWroteIsGoneTooAndOneThatComesBackIsNotGoneAnyMore() {
    gone.membersAre(Set.of(2L, 4L));
    gone.membersAre(Set.of(2L));
    gone.retire(List.of(), 0);
    assertThat(gone.retire(List.of(), GRACE)).containsExactly(4L);
    gone.membersAre(Set.of(2L, 4L));
    assertThat(gone.isGone(4)).isFalse();
  }
}
