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
  /**
   * Per cache created again here: how many of this node's own events were raised before it was,
   * whose orphans went with the closed copy. The node asks peers for them until a full snapshot
   * brings a peer's count for this node that reaches it (convergence seed 641314).
   */
  private final Map<String, Long> ownLostAtCreation = new HashMap<>();

  OrphanEvents(long self) {
    this.self = self;
  }

  /**
   * This node's own event: a full snapshot it took was abandoned after it applied entries, the
   * sender of one it completed dropped before the stream brought what it sent from above its
   * watermarks, or a cache created again got back the orphans of this node's earlier events.
   */
  void raise() {
    raised++;
  }

  /** What this node advertises for {@code caches} (those it has complete): per cache, per node. */
  Map<String, Map<Long, Long>> advertised(Set<String> caches) {
    Map<String, Map<Long, Long>> advertised = new TreeMap<>();
    for (String cacheName : caches) {
      Map<Long, Long> events = new TreeMap<>(held.getOrDefault(cacheName, Map.of()));
      // all of this node's own, even by a copy that lost some: counting fewer would keep the
      // orphans of its later events from spreading while no peer gives the lost ones back
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
   *
   * @return whether a cache created again got back all the orphans of this node's own events it
   *     lacked. Peers that took a full snapshot of it meanwhile count those events as theirs
   *     though they got none of their orphans (this node advertises all its own events, see
   *     {@link #advertised}); the caller raises a new event so that they pull again (seed 641925)
   */
  boolean snapshotCompleted(Map<String, Map<Long, Long>> senderEvents, Set<String> received) {
    boolean ownBack = false;
    for (String cacheName : received) {
      Map<Long, Long> events = senderEvents.get(cacheName);
      if (events == null) {
        continue;
      }
      Map<Long, Long> counts = held.computeIfAbsent(cacheName, name -> new HashMap<>());
      Long ownLost = ownLostAtCreation.get(cacheName);
      events.forEach((node, count) -> {
        if (node != self || ownLost != null) { // own: only back from a peer into a new copy
          counts.merge(node, count, Math::max);
        }
      });
      if (ownLost != null && counts.getOrDefault(self, 0L) >= ownLost) {
        ownLostAtCreation.remove(cacheName);
        ownBack = true;
      }
    }
    return ownBack;
  }

  /** A cache was created here (or created again): it holds no orphan pulled so far. */
  void cacheCreated(String cacheName) {
    held.remove(cacheName);
  }

  /**
   * A cache was created again here: the orphans this node's own events left in the closed copy
   * are gone too, and must come back from a peer that pulled them.
   */
  void cacheCreatedAgain(String cacheName) {
    held.remove(cacheName);
    if (raised > 0) {
      ownLostAtCreation.put(cacheName, raised);
    }
  }

  /**
   * Whether a cache created again still lacks orphans of this node's own events that a peer
   * counting {@code peerCount} of them holds.
   */
  private boolean lacksOwn(String cacheName, long peerCount) {
    if (!ownLostAtCreation.containsKey(cacheName)) {
      return false; // in every cache it has had all along, or all back
    }
    return peerCount > held.getOrDefault(cacheName, Map.of()).getOrDefault(self, 0L);
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
        boolean lacks = e.getKey() == self
            ? lacksOwn(cache.getKey(), e.getValue())
            : e.getValue() > counts.getOrDefault(e.getKey(), 0L);
        if (lacks) {
          return true;
        }
      }
    }
    return false;
  }
}
