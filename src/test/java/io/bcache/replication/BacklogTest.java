package io.bcache.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a backlog gives back for a peer's catch-up is what went in, per origin. */
class BacklogTest {

  @Test
  void aChangeComesBackWithEveryFieldWhateverItsCacheAndKind() {
    Backlog backlog = new Backlog(100, Long.MAX_VALUE);
    Change put = new Change("users", new byte[] {1, 2}, new byte[] {3, 4, 5}, 77, 9, 1, 12_345);
    Change removal = new Change("orders", new byte[] {6}, null, 78, 9, 2, Change.ETERNAL);
    Change emptyValue = new Change("users", new byte[] {7}, new byte[0], 79, 9, 3, Change.ETERNAL);
    Change clear = Change.clear("orders", 80, 9).withSeq(4);
    backlog.append(put);
    backlog.append(removal);
    backlog.append(emptyValue);
    backlog.append(clear);

    List<Change> out = new ArrayList<>();
    assertThat(backlog.copy(9, 1, 10, out)).isEqualTo(4);
    assertThat(out).containsExactly(put, removal, emptyValue, clear);
    assertThat(out.get(3).isClear()).isTrue();
    assertThat(backlog.hlcAt(9, 2)).hasValue(78);
    assertThat(backlog.bytes())
        .isEqualTo(put.weight() + removal.weight() + emptyValue.weight() + clear.weight());
  }

  @Test
  void interleavedOriginsEachKeepTheirOwnRun() {
    Backlog backlog = new Backlog(6, Long.MAX_VALUE);
    for (long seq = 1; seq <= 5; seq++) {
      for (long origin = 1; origin <= 3; origin++) {
        backlog.append(new Change("c", new byte[] {(byte) origin}, new byte[] {(byte) seq},
            seq * 10 + origin, origin, seq, Change.ETERNAL));
      }
    }
    for (long origin = 1; origin <= 3; origin++) {
      assertThat(backlog.covers(origin, 4, 5)).isTrue();
      assertThat(backlog.covers(origin, 3, 5)).isFalse();
      assertThat(backlog.hlcAtOrAfter(origin, 1)).hasValue(40 + origin);
    }
  }
}
