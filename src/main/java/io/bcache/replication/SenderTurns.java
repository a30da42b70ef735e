package io.bcache.replication;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Who gets a free snapshot sender. A node streams at most {@code maxSnapshotSenders} snapshots at
 * once and refuses the requests past that; a refused requester asks again later (at a digest),
 * and the sender that freed up went to whichever request came first. One requester's always came
 * second: it was refused for good while the others' syncs waited on it (convergence seed 911122,
 * once the stream was held through full snapshots). Refused requesters therefore wait their turn
 * in the order they were first refused, and a free sender goes to the first of them that asks
 * again; one that has not asked again for a while loses its place.
 */
final class SenderTurns {

  /** Requesters refused, in the order of their first refusal, each until when it keeps its place. */
  private final Map<Long, Long> waiting = new LinkedHashMap<>();

  /**
   * Whether {@code peer} may take one of {@code freeSenders} now: only if fewer requesters wait
   * ahead of it. If not, it keeps (or takes) its place for {@code keepMillis} more.
   */
  boolean mayServe(long peer, int freeSenders, long nowMillis, long keepMillis) {
    waiting.values().removeIf(until -> until < nowMillis);
    int ahead = 0;
    for (long waiter : waiting.keySet()) {
      if (waiter == peer) {
        break;
      }
      ahead++;
    }
    if (ahead < freeSenders) {
      waiting.remove(peer);
      return true;
    }
    waiting.put(peer, nowMillis + keepMillis); // an existing place keeps its order
    return false;
  }

  /** A requester whose connection dropped waits no longer. */
  void forget(long peer) {
    waiting.remove(peer);
  }
}
