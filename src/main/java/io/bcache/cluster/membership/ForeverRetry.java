package io.bcache.cluster.membership;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.curator.RetryPolicy;
import org.apache.curator.RetrySleeper;

/**
 * Retries a ZooKeeper operation for as long as the membership is open, sleeping an exponentially
 * growing, jittered time that never exceeds a maximum. Curator's own policies stop after a number
 * of attempts; a cache node must instead outlive any ZooKeeper outage.
 */
final class ForeverRetry implements RetryPolicy {

  private static final int MAX_SHIFT = 16;

  private final long baseSleepMillis;
  private final long maxSleepMillis;
  private final BooleanSupplier stopped;

  /** @param stopped true once retrying must end (the membership is closing) */
  ForeverRetry(long baseSleepMillis, long maxSleepMillis, BooleanSupplier stopped) {
    this.baseSleepMillis = Math.max(1, baseSleepMillis);
    this.maxSleepMillis = Math.max(this.baseSleepMillis, maxSleepMillis);
    this.stopped = stopped;
  }

  @Override
  public boolean allowRetry(int retryCount, long elapsedTimeMs, RetrySleeper sleeper) {
    if (stopped.getAsBoolean()) {
      return false;
    }
    try {
      sleeper.sleepFor(sleepMillis(retryCount), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
    return !stopped.getAsBoolean();
  }

  /** The pause before attempt {@code retryCount + 1}: between half and all of the capped backoff. */
  long sleepMillis(int retryCount) {
    long ceiling = Math.min(maxSleepMillis, baseSleepMillis << Math.min(Math.max(retryCount, 0), MAX_SHIFT));
    return ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
  }
}
