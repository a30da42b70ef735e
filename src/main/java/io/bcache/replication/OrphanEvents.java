package io.bcache.replication;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The orphan events whose orphans each cache here holds (see {@link ReplicationCore}'s class
 * comment): per cache, per copy of it on the node that raised them ({@link CopyId}), how many of
 * the events that node raised while that copy existed. Counts only grow. The copy here holds the
 * orphans of all this node's events raised since it was created, and of those it pulled.
 *
 * <p>The count is kept per cache because a full snapshot brings its sender's orphans only for the
 * caches it sends. A count per node for the whole replica let a node take a full snapshot from a
 * peer that did not have one of its caches, count the peer's events as its own, and never ask
 * the node that held that cache's orphans (seed 25730).
 *
 * <p>It is kept per copy because a cache closed here and created again lost the orphans of this
 * node's earlier events, which only peers that pulled them still hold. Counted per node, the new
 * copy could only claim them all, and a peer that took a full snapshot of it then counted them
 * without holding them, and could even be the one this node pulled them "back" from; counted per
 * copy, the earlier copy's events are pulled like any other node's (convergence seeds 641314,
 * 641925).
 */
final class OrphanEvents {

  private final long self;
  private long raised;
  /** Per cache here: its copy, and how many events this node had raised when it was created. */
  private final Map<String, OwnCopy> copies = new HashMap<>();
  /** Per cache: the events of other copies whose orphans it holds. */
  private final Map<String, Map<CopyId, Long>> held = new HashMap<>();

  private record OwnCopy(CopyId id, long raisedBefore) {
  }

  OrphanEvents(long self) {
    this.self = self;
  }

  /**
   * This node's own event: a full snapshot it took was abandoned after it applied entries, or the
   * sender of one it completed dropped before the stream brought what it sent from above its
   * watermarks.
   */
  void raise() {
    raised++;
  }

  /**
   * A cache was created here (or created again): a new copy, which holds the orphans of this
   * node's events from now on, and none of those pulled so far.
   */
  void cacheCreated(String cacheName) {
    OwnCopy before = copies.get(cacheName);
    int copy = before == null ? 0 : before.id().copy() + 1;
    copies.put(cacheName, new OwnCopy(new CopyId(self, copy), raised));
    held.remove(cacheName);
  }

  /**
   * The cache's entries fetched so far are gone (a full snapshot dropped them while it ran): the
   * orphans it pulled with them too.
   */
  void pulledLost(String cacheName) {
    held.remove(cacheName);
  }

  /** What this node advertises for {@code caches} (those it has complete): per cache, per copy. */
  Map<String, Map<CopyId, Long>> advertised(Set<String> caches) {
    Map<String, Map<CopyId, Long>> advertised = new TreeMap<>();
    for (String cacheName : caches) {
      Map<CopyId, Long> events = new TreeMap<>(held.getOrDefault(cacheName, Map.of()));
      OwnCopy own = copies.get(cacheName);
      if (own != null && raised > own.raisedBefore()) {
        events.put(own.id(), raised - own.raisedBefore());
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
  void snapshotCompleted(Map<String, Map<CopyId, Long>> senderEvents, Set<String> received) {
    for (String cacheName : received) {
      Map<CopyId, Long> events = senderEvents.get(cacheName);
      if (events == null) {
        continue;
      }
      Map<CopyId, Long> counts = held.computeIfAbsent(cacheName, name -> new HashMap<>());
      events.forEach((copy, count) -> {
        if (!isOwnSince(cacheName, copy)) {
          counts.merge(copy, count, Math::max);
        }
      });
    }
  }

  /**
   * Whether a peer advertising these events holds orphans that a cache here lacks: only a full
   * snapshot from it brings them.
   */
  boolean lacksAnyOf(Map<String, Map<CopyId, Long>> peerEvents, Set<String> here) {
    for (Map.Entry<String, Map<CopyId, Long>> cache : peerEvents.entrySet()) {
      String cacheName = cache.getKey();
      if (!here.contains(cacheName)) {
        continue;
      }
      Map<CopyId, Long> counts = held.getOrDefault(cacheName, Map.of());
      for (Map.Entry<CopyId, Long> e : cache.getValue().entrySet()) {
        if (!isOwnSince(cacheName, e.getKey()) && e.getValue() > counts.getOrDefault(e.getKey(), 0L)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Whether the events of {@code copy} are this node's own for the copy here, which holds their
   * orphans by definition. A later copy number than this node ever had is treated the same:
   * only a broken peer sends one, and nothing could bring it.
   */
  private boolean isOwnSince(String cacheName, CopyId copy) {
    OwnCopy own = copies.get(cacheName);
    return copy.node() == self && (own == null || copy.copy() >= own.id().copy());
  }
}
