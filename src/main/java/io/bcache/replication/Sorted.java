package io.bcache.replication;

import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Unmodifiable sorted copies. Messages use them instead of {@code Map.copyOf}, whose iteration
 * order changes from one JVM run to the next, so that the simulator replays a seed exactly.
 */
final class Sorted {

  private Sorted() {
  }

  static <K extends Comparable<K>, V> Map<K, V> copyOf(Map<K, V> map) {
    return Collections.unmodifiableMap(new TreeMap<>(map));
  }

  /** A sorted, unmodifiable copy of a map of maps, the inner maps copied too. */
  static <K extends Comparable<K>, L extends Comparable<L>, V> Map<K, Map<L, V>> copyOfNested(
      Map<K, Map<L, V>> map) {
    TreeMap<K, Map<L, V>> copy = new TreeMap<>();
    map.forEach((key, inner) -> copy.put(key, copyOf(inner)));
    return Collections.unmodifiableMap(copy);
  }

  static <E extends Comparable<E>> Set<E> copyOf(Set<E> set) {
    return Collections.unmodifiableSet(new TreeSet<>(set));
  }
}
