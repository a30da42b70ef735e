package io.bcache.replication;

import java.util.HashMap;
import java.util.Map;

/**
 * A cache created here after this node had already processed changes for it (as "no such
 * cache"): those changes must come from a peer's copy of the cache. Per origin, the versions
 * still missing are a timestamp range ending at what this node had processed when the cache was
 * created; a snapshot from a peer that had not processed as much covers only part of the range,
 * and the rest is asked of another peer later.
 *
 * <p>Versions above the range reach the new cache through the stream as usual, so no version is
 * applied twice and nothing evicted from the new cache is pushed back into it.
 */
final class CacheSync {

  final String cacheName;
  /** Per origin, the versions still missing. */
  final Map<Long, HlcRange> missing = new HashMap<>();
  /** Per origin, the seq processed when the cache was created: a peer at or past it covers all. */
  final Map<Long, Long> neededSeq = new HashMap<>();
  /** Versions applied by earlier, incomplete transfers of this sync: not applied again. */
  final VersionSet applied;
  InboundSnapshot transfer;
  /** Whether this sync has asked a peer for a snapshot yet. */
  boolean asked;

  CacheSync(String cacheName, int maxRemembered) {
    this.cacheName = cacheName;
    this.applied = new VersionSet(maxRemembered);
  }

  /** Records what a completed snapshot with these watermarks covered; returns whether done. */
  boolean covered(Map<Long, Watermark> watermarks) {
    missing.entrySet().removeIf(e -> {
      Watermark mark = watermarks.get(e.getKey());
      if (mark == null) {
        return false;
      }
      if (mark.seq() >= neededSeq.get(e.getKey())) {
        return true;
      }
      HlcRange range = e.getValue();
      long after = Math.max(range.after(), mark.hlc());
      if (after >= range.upTo()) {
        return true;
      }
      e.setValue(new HlcRange(after, range.upTo()));
      return false;
    });
    neededSeq.keySet().retainAll(missing.keySet());
    return missing.isEmpty();
  }

  /** Whether a peer that has processed {@code seqs} can cover everything still missing. */
  boolean coveredBy(PeerState peer) {
    for (Map.Entry<Long, Long> e : neededSeq.entrySet()) {
      if (peer.knownSeq(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }
}
