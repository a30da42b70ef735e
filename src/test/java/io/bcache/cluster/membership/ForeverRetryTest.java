package io.bcache.cluster.membership;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.RetrySleeper;
import org.junit.jupiter.api.Test;

class ForeverRetryTest {

  private final List<Long> slept = new CopyOnWriteArrayList<>();
  private final RetrySleeper sleeper = (time, unit) -> slept.add(unit.toMillis(time));

  @Test
  void backsOffExponentiallyUpToTheMaximumAndNeverGivesUp() {
    ForeverRetry retry = new ForeverRetry(100, 5_000, () -> false);

    for (int attempt = 0; attempt < 10_000; attempt += 37) {
      long sleep = retry.sleepMillis(attempt);
      long ceiling = Math.min(5_000, 100L << Math.min(attempt, 16));
      assertThat(sleep).isBetween(ceiling / 2, ceiling);
    }
    assertThat(retry.allowRetry(Integer.MAX_VALUE, Long.MAX_VALUE, sleeper)).isTrue();
    assertThat(slept).singleElement().satisfies(ms -> assertThat(ms).isBetween(2_500L, 5_000L));
  }

  @Test
  void stopsOnceTheMembershipCloses() {
    AtomicBoolean closed = new AtomicBoolean();
    ForeverRetry retry = new ForeverRetry(1, 1, closed::get);

    assertThat(retry.allowRetry(0, 0, sleeper)).isTrue();
    closed.set(true);

    assertThat(retry.allowRetry(1, 1, sleeper)).isFalse();
    assertThat(slept).hasSize(1);
  }

  @Test
  void anInterruptedSleepEndsRetrying() {
    ForeverRetry retry = new ForeverRetry(1, 1, () -> false);
    RetrySleeper interrupted = (time, unit) -> {
      throw new InterruptedException();
    };

    assertThat(retry.allowRetry(0, 0, interrupted)).isFalse();
    assertThat(Thread.interrupted()).isTrue();
  }

  @Test
  void sleepsAreCountedInMilliseconds() throws InterruptedException {
    new ForeverRetry(8, 8, () -> false).allowRetry(0, 0, sleeper);

    assertThat(slept).singleElement().satisfies(ms -> assertThat(ms).isBetween(4L, 8L));
    assertThat(TimeUnit.MILLISECONDS.toMillis(slept.get(0))).isEqualTo(slept.get(0));
  }
}
