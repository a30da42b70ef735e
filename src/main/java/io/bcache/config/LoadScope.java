package io.bcache.config;

import java.util.Locale;

/**
 * How widely a read-through cache deduplicates the loads of a missing key.
 *
 * <p>{@link #NODE}: once per key per node, however many threads miss it together; nodes missing
 * the same key at the same time each load it. {@link #CLUSTER}: once per key per cluster: a miss
 * is routed to the key's owner among the live members that have the cache, which loads the key
 * once for everyone who asks; the loaded value replicates as any write. A standalone node loads
 * per node whatever the scope.
 */
public enum LoadScope {
  NODE, CLUSTER;

  /** The scope a property value names ({@code node} or {@code cluster}, any case). */
  public static LoadScope parse(String property, String value) {
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(property + " must be 'node' or 'cluster', was '" + value + "'");
    }
  }
}
