package io.bcache.replication;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
  /** Per origin, the highest seq a completed transfer covered: a peer not past it adds nothing. */
  final Map<Long, Long> coveredSeq = new HashMap<>();
  /**
   * Per origin, versions inside {@link #missing} that the stream brought here while the cache
   * existed: the gaps on either side of them were merged into one range.
   */
  private final Map<Long, List<HlcRange>> processed = new HashMap<>();
  /** Versions applied by earlier, incomplete transfers of this sync: not applied again. */
  final VersionSet applied;
  InboundSnapshot transfer;
  /** Best-effort pulls so far (no peer could cover the gaps): which peer is asked next. */
  int bestEffortPulls;
  /**
   * Those of them that a busy peer refused: they taught nothing, so only the others space the
   * next pulls out.
   */
  int refusedPulls;
  long nextBestEffortMillis = Long.MIN_VALUE;
  /** Whether this sync has asked a peer for a snapshot yet. */
  boolean asked;
  /**
   * Per origin whose own copy, asked for its own writes, did not claim to hold them all (it had
   * closed the cache, or was fetching them back itself): when it may be asked that way again.
   * Meanwhile the other sources get their turn.
   */
  final Map<Long, Long> ownCopyRetryAt = new HashMap<>();
  /**
   * Origins whose copy, asked for its own writes, left out a newer version of another origin that
   * this cache still misses: asked again, such a copy is asked for every range still missing, so
   * that the newer version comes with it, until such an answer completes. Dropped when asked
   * instead, it was lost to a refusal: two copies asking one busy origin took turns being refused
   * their request for everything, and neither ever got the newer version (convergence seed 904334
   * under an earlier orphan rule)
   */
  final Set<Long> askWhole = new HashSet<>();
  /**
   * Per peer whose last answer left out versions newer than asked that this node has not
   * processed yet (per origin, the newest): until the stream brings them, that peer would give
   * the same answer, and it is not asked again.
   */
  final Map<Long, Map<Long, Long>> waitingForStream = new HashMap<>();
  /**
   * Per origin whose missing range is asked of every member once (an origin gone for good, or
   * this node for its writes to an earlier incarnation of the cache), the members that have not
   * answered yet: once every one of them has, nothing more of it can come, and the range is
   * given up.
   */
  private final Map<Long, Set<Long>> toAsk = new HashMap<>();

  CacheSync(String cacheName, int maxRemembered) {
    this.cacheName = cacheName;
    this.applied = new VersionSet(maxRemembered);
  }

  /**
   * Records what a completed snapshot with these watermarks covered of the ranges it was asked
   * for; returns whether done. A range that grew while the snapshot ran (a full snapshot added
   * gaps) is covered only as far as it was asked: counting the whole of it lost the versions
   * above what was asked (seed 3559).
   */
  boolean covered(Map<Long, Watermark> watermarks, Map<Long, HlcRange> asked) {
    missing.entrySet().removeIf(e -> {
      Watermark mark = watermarks.get(e.getKey());
      HlcRange request = asked.get(e.getKey());
      if (mark == null || request == null) {
        return false;
      }
      HlcRange range = e.getValue();
      if (request.after() > range.after()) {
        return false; // what it covered lies above versions still missing: asked again later
      }
      if (mark.seq() >= neededSeq.get(e.getKey()) && request.upTo() >= range.upTo()) {
        return true;
      }
      if (request.upTo() >= range.upTo()) {
        coveredSeq.merge(e.getKey(), mark.seq(), Math::max);
      }
      long after = Math.max(range.after(), Math.min(mark.hlc(), request.upTo()));
      if (after >= range.upTo()) {
        return true;
      }
      e.setValue(new HlcRange(after, range.upTo()));
      return false;
    });
    neededSeq.keySet().retainAll(missing.keySet());
    return missing.isEmpty();
  }

  /**
   * Adds a gap of {@code origin} (versions skipped by adopted watermarks) to what is missing. One
   * range then spans it and any older gap; what lies between them reached the cache through the
   * stream, and is remembered so that a snapshot for the span does not apply it again (an entry
   * evicted here since would come back: seed 8651).
   */
  void addGap(long origin, HlcRange gap) {
    HlcRange current = missing.get(origin);
    if (current == null) {
      missing.put(origin, gap);
      return;
    }
    HlcRange lower = current.after() <= gap.after() ? current : gap;
    HlcRange upper = lower == current ? gap : current;
    if (upper.after() > lower.upTo()) {
      processed.computeIfAbsent(origin, o -> new ArrayList<>())
          .add(new HlcRange(lower.upTo(), upper.after()));
    }
    missing.put(origin, new HlcRange(lower.after(), Math.max(lower.upTo(), upper.upTo())));
  }

  /** Whether the stream brought this version of {@code origin} here, inside a span of gaps. */
  boolean processedHere(long origin, long hlc) {
    List<HlcRange> ranges = processed.get(origin);
    if (ranges != null) {
      for (HlcRange range : ranges) {
        if (range.contains(hlc)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * What is still missing of {@code origin} is asked of each of these members once more, and
   * then given up: nothing more of it can come than what they hold. Returns whether the sync is
   * done.
   */
  boolean askEveryMember(long origin, Set<Long> members) {
    if (missing.containsKey(origin)) {
      toAsk.put(origin, new HashSet<>(members));
      bestEffortPulls = 0; // the members are asked soon, not at the spacing reached so far
      refusedPulls = 0;
      nextBestEffortMillis = Long.MIN_VALUE;
    }
    return giveUpAnswered();
  }

  /** Members that joined since: each is asked once too about every range asked of every member. */
  void membersJoined(Set<Long> members) {
    toAsk.values().forEach(waiting -> waiting.addAll(members));
  }

  /** A member is gone for good itself: it is not waited for. Returns whether the sync is done. */
  boolean memberGone(long member) {
    toAsk.values().forEach(members -> members.remove(member));
    return giveUpAnswered();
  }

  /**
   * A transfer from {@code peer} asked for these origins' ranges completed: it sent all it held
   * of them. Returns whether the sync is done.
   */
  boolean answered(long peer, Set<Long> origins) {
    for (long origin : origins) {
      Set<Long> members = toAsk.get(origin);
      if (members != null) {
        members.remove(peer);
      }
    }
    return giveUpAnswered();
  }

  /** Whether {@code peer} is still to be asked about a range asked of every member. */
  boolean stillToAsk(long peer) {
    for (Set<Long> members : toAsk.values()) {
      if (members.contains(peer)) {
        return true;
      }
    }
    return false;
  }

  /** Gives up the ranges asked of every member that every member has answered for. */
  private boolean giveUpAnswered() {
    toAsk.entrySet().removeIf(e -> {
      if (!missing.containsKey(e.getKey())) {
        return true; // covered meanwhile
      }
      if (!e.getValue().isEmpty()) {
        return false;
      }
      missing.remove(e.getKey());
      neededSeq.remove(e.getKey());
      coveredSeq.remove(e.getKey());
      processed.remove(e.getKey());
      return true;
    });
    return missing.isEmpty();
  }

  /** Whether a peer can cover some of what is still missing, going by its digest. */
  boolean partlyCoveredBy(PeerState peer) {
    for (Map.Entry<Long, HlcRange> e : missing.entrySet()) {
      if (peer.knownSeq(e.getKey()) > coveredSeq.getOrDefault(e.getKey(), 0L)) {
        return true;
      }
    }
    return false;
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
