package io.bcache.jcache;

import java.io.Closeable;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes the user's customizations (loaders, writers, expiry policies, listeners, filters) that
 * implement {@link Closeable}, as JSR-107 requires when their cache closes. A failure is logged:
 * one customization failing must not keep the others open.
 */
public final class Closeables {

  private static final Logger LOG = LoggerFactory.getLogger(Closeables.class);

  private Closeables() {
  }

  /** Closes {@code resource} if it is {@link Closeable}; logs and swallows a failure. */
  public static void closeQuietly(Object resource) {
    if (resource instanceof Closeable) {
      try {
        ((Closeable) resource).close();
      } catch (IOException | RuntimeException e) {
        LOG.warn("failed to close {}", resource, e);
      }
    }
  }
}
