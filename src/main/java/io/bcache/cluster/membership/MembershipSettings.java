package io.bcache.cluster.membership;

import java.time.Duration;
import org.apache.curator.utils.PathUtils;

/**
 * The tunables of a {@link Membership}; {@link #defaults()} suits production and the
 * {@code with...} methods derive variants (tests use short timeouts).
 *
 * @param sessionTimeout how long ZooKeeper keeps this node registered after losing touch with
 *     it: a crashed node is seen to leave after about this long
 * @param connectionTimeout how long {@link Membership#start()} waits for the first registration
 *     and a ZooKeeper operation waits for a connection before it is retried
 * @param baseRetrySleep the first pause between retries of a failed ZooKeeper operation
 * @param maxRetrySleep the longest pause between retries; retries never stop while open
 * @param basePath the ZooKeeper folder holding every cluster's members
 */
public record MembershipSettings(Duration sessionTimeout, Duration connectionTimeout,
    Duration baseRetrySleep, Duration maxRetrySleep, String basePath) {

  /** The base path used unless told otherwise. */
  public static final String DEFAULT_BASE_PATH = "/bcache";

  /** @throws IllegalArgumentException if a duration is not positive or the path is not absolute */
  public MembershipSettings {
    positive("sessionTimeout", sessionTimeout);
    positive("connectionTimeout", connectionTimeout);
    positive("baseRetrySleep", baseRetrySleep);
    positive("maxRetrySleep", maxRetrySleep);
    if (basePath == null || basePath.equals("/")) {
      throw new IllegalArgumentException("basePath must be a folder below the root, was " + basePath);
    }
    PathUtils.validatePath(basePath);
  }

  /** 10 s session, 5 s connection, retries from 100 ms up to 5 s, under {@code /bcache}. */
  public static MembershipSettings defaults() {
    return new MembershipSettings(Duration.ofSeconds(10), Duration.ofSeconds(5),
        Duration.ofMillis(100), Duration.ofSeconds(5), DEFAULT_BASE_PATH);
  }

  public MembershipSettings withSessionTimeout(Duration timeout) {
    return new MembershipSettings(timeout, connectionTimeout, baseRetrySleep, maxRetrySleep, basePath);
  }

  public MembershipSettings withConnectionTimeout(Duration timeout) {
    return new MembershipSettings(sessionTimeout, timeout, baseRetrySleep, maxRetrySleep, basePath);
  }

  public MembershipSettings withRetrySleep(Duration base, Duration max) {
    return new MembershipSettings(sessionTimeout, connectionTimeout, base, max, basePath);
  }

  public MembershipSettings withBasePath(String path) {
    return new MembershipSettings(sessionTimeout, connectionTimeout, baseRetrySleep, maxRetrySleep, path);
  }

  private static void positive(String name, Duration value) {
    if (value == null || value.isZero() || value.isNegative() || value.toMillis() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(name + " must be a positive number of milliseconds, was " + value);
    }
  }
}
