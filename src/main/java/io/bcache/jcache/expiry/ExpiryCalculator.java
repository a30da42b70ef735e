package io.bcache.jcache.expiry;

import io.bcache.store.StoreEntry;
import javax.cache.expiry.CreatedExpiryPolicy;
import javax.cache.expiry.Duration;
import javax.cache.expiry.EternalExpiryPolicy;
import javax.cache.expiry.ExpiryPolicy;
import javax.cache.expiry.ModifiedExpiryPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a cache's {@link ExpiryPolicy} into absolute expiry times, as JSR-107 specifies: the
 * policy is asked on every creation, update and access; a {@code null} answer leaves the
 * expiry unchanged; an exception from the policy is logged and treated like {@code null}
 * (eternal for a creation).
 *
 * <p>The built-in policies whose access duration is always {@code null} are recognised, so
 * that a read of an eternal entry neither asks the policy nor reads the clock.
 */
public final class ExpiryCalculator {

  private static final Logger LOG = LoggerFactory.getLogger(ExpiryCalculator.class);

  /** Returned by {@link #onAccess} and {@link #onUpdate} when the expiry stays as it is. */
  public static final long UNCHANGED = Long.MIN_VALUE;

  private final ExpiryPolicy policy;
  private final boolean accessChangesExpiry;

  public ExpiryCalculator(ExpiryPolicy policy) {
    this.policy = policy;
    Class<?> type = policy.getClass();
    this.accessChangesExpiry = !(type == EternalExpiryPolicy.class
        || type == CreatedExpiryPolicy.class || type == ModifiedExpiryPolicy.class);
  }

  public ExpiryPolicy policy() {
    return policy;
  }

  /** Whether a read may change an entry's expiry, so that reads must consult the policy. */
  public boolean accessChangesExpiry() {
    return accessChangesExpiry;
  }

  /** The expiry time of a new entry created at {@code now}; {@code <= now} means already expired. */
  public long onCreation(long now) {
    Duration duration;
    try {
      duration = policy.getExpiryForCreation();
    } catch (RuntimeException e) {
      LOG.warn("expiry policy failed on creation; the entry will not expire", e);
      return StoreEntry.ETERNAL;
    }
    return duration == null ? StoreEntry.ETERNAL : toExpireAt(duration, now);
  }

  /** The expiry time of an entry updated at {@code now}, or {@link #UNCHANGED}. */
  public long onUpdate(long now) {
    Duration duration;
    try {
      duration = policy.getExpiryForUpdate();
    } catch (RuntimeException e) {
      LOG.warn("expiry policy failed on update; expiry left unchanged", e);
      return UNCHANGED;
    }
    return duration == null ? UNCHANGED : toExpireAt(duration, now);
  }

  /** The expiry time of an entry read at {@code now}, or {@link #UNCHANGED}. */
  public long onAccess(long now) {
    if (!accessChangesExpiry) {
      return UNCHANGED;
    }
    Duration duration;
    try {
      duration = policy.getExpiryForAccess();
    } catch (RuntimeException e) {
      LOG.warn("expiry policy failed on access; expiry left unchanged", e);
      return UNCHANGED;
    }
    return duration == null ? UNCHANGED : toExpireAt(duration, now);
  }

  /** Applies access-based expiry to a live entry that was just read. */
  public void touch(StoreEntry entry, long now) {
    long at = onAccess(now);
    if (at != UNCHANGED) {
      entry.setExpireAt(at);
    }
  }

  private static long toExpireAt(Duration duration, long now) {
    if (duration.isEternal()) {
      return StoreEntry.ETERNAL;
    }
    if (duration.isZero()) {
      return now;
    }
    long millis = duration.getTimeUnit().toMillis(duration.getDurationAmount());
    long at = now + Math.max(millis, 1);
    return at < now ? StoreEntry.ETERNAL - 1 : at; // overflow: as good as never
  }
}
