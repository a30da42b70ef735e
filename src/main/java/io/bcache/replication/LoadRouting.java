package io.bcache.replication;

import io.bcache.replication.Message.LoadRequest;
import io.bcache.replication.Message.LoadResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * Cluster-wide loads: a read-through miss on a cache that loads cluster-wide is routed to the
 * key's owner, which loads it once for every node that asks (its own loads of the key are
 * deduplicated, so one load per key per cluster however many nodes miss together), stores it,
 * and answers with the stored entry; the entry also replicates to every node as any write does.
 *
 * <p>The owner of a key is chosen by rendezvous hashing over this node and the connected peers
 * whose digest lists the cache: every node that sees the same members picks the same owner, and a
 * member joining or leaving moves only the keys it wins or held. While members disagree (a peer
 * just connected or lost) two owners may each load a key once. A node that owns the key, finds no
 * owner to ask, or loses its owner or its answer in time is told to load the key itself, so a
 * miss always ends in a load somewhere.
 *
 * <p>Runs on the core's thread, like the core that holds it; the owner's load runs elsewhere
 * (see {@link LocalReplicas#loadForPeer}), and its answer comes back through the scheduler.
 */
final class LoadRouting {

  private final long nodeId;
  private final PeerNetwork network;
  private final Scheduler scheduler;
  private final LocalReplicas replicas;
  private final long timeoutMillis;
  private final Map<Long, Pending> pending = new HashMap<>();
  private long nextRequestId;

  private record Pending(long ownerId, Consumer<LoadResult> answer, Scheduler.Cancellable timeout) {
  }

  LoadRouting(long nodeId, PeerNetwork network, Scheduler scheduler, LocalReplicas replicas,
      long timeoutMillis) {
    this.nodeId = nodeId;
    this.network = network;
    this.scheduler = scheduler;
    this.replicas = replicas;
    this.timeoutMillis = timeoutMillis;
  }

  /**
   * Routes a miss of {@code key} to its owner among this node and {@code holders} (peers that
   * have the cache); {@code answer} is called once, on the core's thread.
   */
  void route(String cacheName, byte[] key, Collection<Long> holders, Consumer<LoadResult> answer) {
    long owner = ownerOf(key, holders);
    if (owner == nodeId) {
      answer.accept(LoadResult.LOAD_HERE);
      return;
    }
    long requestId = ++nextRequestId;
    if (!network.send(owner, new LoadRequest(requestId, cacheName, key))) {
      answer.accept(LoadResult.LOAD_HERE);
      return;
    }
    Scheduler.Cancellable timeout = scheduler.schedule(timeoutMillis, () -> answer(requestId, LoadResult.LOAD_HERE));
    pending.put(requestId, new Pending(owner, answer, timeout));
  }

  /** Loads a key for a peer that routed its miss here, and answers once the load is done. */
  void onRequest(long peerId, LoadRequest request) {
    CompletionStage<LoadResult> load;
    try {
      load = replicas.loadForPeer(request.cacheName(), request.key());
    } catch (RuntimeException e) {
      load = CompletableFuture.failedFuture(e);
    }
    load.whenComplete((result, failure) -> {
      LoadResult answer = failure != null ? LoadResult.failed(String.valueOf(failure))
          : result != null ? result : LoadResult.LOAD_HERE;
      scheduler.schedule(0, () -> network.send(peerId, new LoadResponse(request.requestId(), answer)));
    });
  }

  void onResponse(long peerId, LoadResponse response) {
    Pending request = pending.get(response.requestId());
    if (request != null && request.ownerId() == peerId) {
      answer(response.requestId(), response.result());
    }
  }

  /** The owner's connection is gone: whoever waits on it loads the key itself. */
  void peerDown(long peerId) {
    List<Long> orphaned = new ArrayList<>();
    pending.forEach((id, request) -> {
      if (request.ownerId() == peerId) {
        orphaned.add(id);
      }
    });
    orphaned.forEach(id -> answer(id, LoadResult.LOAD_HERE));
  }

  /** Closing: every waiting miss loads its key itself. */
  void close() {
    new ArrayList<>(pending.keySet()).forEach(id -> answer(id, LoadResult.LOAD_HERE));
  }

  private void answer(long requestId, LoadResult result) {
    Pending request = pending.remove(requestId);
    if (request != null) {
      request.timeout().cancel();
      request.answer().accept(result);
    }
  }

  /** Rendezvous hashing: the candidate whose mix with the key scores highest owns it. */
  long ownerOf(byte[] key, Collection<Long> holders) {
    long keyHash = Arrays.hashCode(key) * 0x9E3779B97F4A7C15L;
    long owner = nodeId;
    long best = score(nodeId, keyHash);
    for (long candidate : holders) {
      long score = score(candidate, keyHash);
      if (score > best || (score == best && candidate > owner)) {
        owner = candidate;
        best = score;
      }
    }
    return owner;
  }

  private static long score(long node, long keyHash) {
    long h = (node ^ keyHash) * 0xC2B2AE3D27D4EB4FL;
    h ^= h >>> 31;
    h *= 0x9E3779B97F4A7C15L;
    return h ^ (h >>> 29);
  }
}
