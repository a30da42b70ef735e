package io.bcache.replication;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The orphan events whose orphans each cache here holds (see {@link ReplicationCore}'s class
 * comment): per cache, per node that raised events, how many of its events. Counts only grow,
 * and a node's own events count for every cache it has.
 *
 * <p>The count is kept per cache because a full snapshot brings its sender's orphans only for the
 * caches it sends. A count per node for the whole replica let a node take a full snapshot from a
 * peer that did not have one of its caches, count the peer's events as its own, and never ask
 * the node that held that cache's orphans (seed 25730).
 */
final class OrphanEvents {

  private final long self;
  private long raised;
  private final Map<String, Map<Long, Long>> held = new HashMap<>();

  OrphanEvents(long self) {
    this.self = self;
  }

  /**
   * This node's own event: a full snapshot it took was abandoned after it applied entries, or
   * the sender of one it completed dropped before the stream brought what it sent from above its
   * watermarks.
   */
  void raise() {
    raised++;
  }

  /** What this node advertises for {@code caches} (those it has complete): per cache, per node. */
  Map<String, Map<Long, Long>> advertised(Set<String> caches) {
    Map<String, Map<Long, Long>> advertised = new TreeMap<>();
    for (String cacheName : caches) {
      Map<Long, Long> events = new TreeMap<>(held.getOrDefault(cacheName, Map.of()));
      if (raised > 0) {
        events.put(self, raised);
      }
      if (!events.isEmpty()) {
        advertised.put(cacheName, events);
      }
    }
    return advertised;
  }

  /**
   * A full snapshot completed: it brought its sender's orphans for {@code received}, the caches
   * here that it sent whole, and the sender's advertised events say which those were.
   */
  void snapshotCompleted(Map<String, Map<Long, Long>> senderEvents, Set<String> received) {
    for (String cacheName : received) {
      Map<Long, Long> events = senderEvents.get(cacheName);
      if (events == null) {
        continue;
      }
      Map<Long, Long> counts = held.computeIfAbsent(cacheName, name -> new HashMap<>());
      events.forEach((node, count) -> {
        if (node != self) {
          counts.merge(node, count, Math::max);
        }
      });
    }
  }

  /** A cache was created here (or created again): it holds no orphan pulled so far. */
  void cacheCreated(String cacheName) {
    held.remove(cacheName);
  }

  /**
   * Whether a peer advertising these events holds orphans that a cache here lacks: only a full
   * snapshot from it brings them.
   */
  boolean lacksAnyOf(Map<String, Map<Long, Long>> peerEvents, Set<String> here) {
    for (Map.Entry<String, Map<Long, Long>> cache : peerEvents.entrySet()) {
      if (!here.contains(cache.getKey())) {
        continue;
      }
      Map<Long, Long> counts = held.getOrDefault(cache.getKey(), Map.of());
      for (Map.Entry<Long, Long> e : cache.getValue().entrySet()) {
        if (e.getKey() != self && e.getValue() > counts.getOrDefault(e.getKey(), 0L)) {
          return true;
        }
      }
    }
    return false;
  }
}
