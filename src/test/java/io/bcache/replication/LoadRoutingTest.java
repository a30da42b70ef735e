package io.bcache.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.bcache.replication.Message.LoadRequest;
import io.bcache.replication.Message.LoadResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/** Routing a read-through miss to its key's owner, on a router driven by hand. */
class LoadRoutingTest {

  private static final long SELF = 10;
  private static final long P1 = 20;
  private static final long P2 = 30;

  private final List<Object[]> sent = new ArrayList<>();
  private final List<Runnable> timers = new ArrayList<>();
  private final List<LoadResult> answers = new ArrayList<>();
  private CompletableFuture<LoadResult> peerLoad = CompletableFuture.completedFuture(LoadResult.ABSENT);
  private final LoadRouting routing = router(SELF);

  private LoadRouting router(long nodeId) {
    PeerNetwork network = (peer, message) -> sent.add(new Object[] {peer, message});
    Scheduler scheduler = (delay, task) -> {
      timers.add(task);
      return () -> timers.remove(task);
    };
    LocalReplicas replicas = new LocalReplicas() {
      @Override
      public ApplyResult apply(Change change) {
        throw new UnsupportedOperationException();
      }

      @Override
      public Iterator<Change> snapshot(String cacheName) {
        throw new UnsupportedOperationException();
      }

      @Override
      public Set<String> cacheNames() {
        return Set.of("users");
      }

      @Override
      public boolean admit(String cacheName) {
        return true;
      }

      @Override
      public boolean awaitsAdmission(String cacheName) {
        return false;
      }

      @Override
      public Object copyOf(String cacheName) {
        return "users".equals(cacheName) ? this : null;
      }

      @Override
      public void purgeTombstones(long olderThanHlc) {
      }

      @Override
      public CompletionStage<LoadResult> loadForPeer(String cacheName, byte[] key) {
        return peerLoad;
      }
    };
    return new LoadRouting(nodeId, network, scheduler, replicas, 30_000);
  }

  private static byte[] key(int i) {
    return ("key-" + i).getBytes(StandardCharsets.UTF_8);
  }

  /** A key that {@code owner} owns among this node, P1 and P2. */
  private byte[] keyOwnedBy(long owner) {
    for (int i = 0; ; i++) {
      if (routing.ownerOf(key(i), List.of(P1, P2)) == owner) {
        return key(i);
      }
    }
  }

  private void runTimers() {
    new ArrayList<>(timers).forEach(task -> {
      timers.remove(task);
      task.run();
    });
  }

  @Test
  void everyNodeThatSeesTheSameMembersPicksTheSameOwnerAndOwnersShareTheKeys() {
    LoadRouting p1 = router(P1);
    LoadRouting p2 = router(P2);
    Map<Long, Integer> owned = new HashMap<>();
    for (int i = 0; i < 3_000; i++) {
      long owner = routing.ownerOf(key(i), List.of(P1, P2));
      assertThat(p1.ownerOf(key(i), List.of(SELF, P2))).isEqualTo(owner);
      assertThat(p2.ownerOf(key(i), List.of(P1, SELF))).isEqualTo(owner);
      owned.merge(owner, 1, Integer::sum);
      // a member leaving moves only the keys it owned
      long without = routing.ownerOf(key(i), List.of(P1));
      if (owner != P2) {
        assertThat(without).isEqualTo(owner);
      }
    }
    assertThat(owned.keySet()).containsExactlyInAnyOrder(SELF, P1, P2);
    owned.values().forEach(count -> assertThat(count).isBetween(800, 1_200));
  }

  @Test
  void aKeyThisNodeOwnsOrNoPeerHoldsIsLoadedHere() {
    routing.route("users", keyOwnedBy(SELF), List.of(P1, P2), answers::add);
    routing.route("users", key(1), List.of(), answers::add);
    assertThat(answers).containsExactly(LoadResult.LOAD_HERE, LoadResult.LOAD_HERE);
    assertThat(sent).isEmpty();
  }

  @Test
  void theOwnersAnswerEndsTheWaitAndAnotherPeersIsIgnored() {
    byte[] key = keyOwnedBy(P1);
    routing.route("users", key, List.of(P1, P2), answers::add);
    assertThat(sent).hasSize(1);
    assertThat(sent.get(0)[0]).isEqualTo(P1);
    LoadRequest request = (LoadRequest) sent.get(0)[1];
    assertThat(request.key()).isEqualTo(key);

    Change entry = Change.put("users", key, new byte[] {1}, 99, P1, Change.ETERNAL);
    routing.onResponse(P2, new LoadResponse(request.requestId(), LoadResult.ABSENT));
    assertThat(answers).isEmpty();
    routing.onResponse(P1, new LoadResponse(request.requestId(), LoadResult.loaded(entry)));
    routing.onResponse(P1, new LoadResponse(request.requestId(), LoadResult.ABSENT)); // a duplicate
    assertThat(answers).containsExactly(LoadResult.loaded(entry));
    assertThat(timers).isEmpty(); // the timeout was called off
  }

  @Test
  void aSilentOrLostOwnerOrClosingLeavesTheLoadToThisNode() {
    routing.route("users", keyOwnedBy(P1), List.of(P1, P2), answers::add);
    runTimers(); // no answer in time
    routing.route("users", keyOwnedBy(P2), List.of(P1, P2), answers::add);
    routing.peerDown(P2);
    routing.route("users", keyOwnedBy(P1), List.of(P1, P2), answers::add);
    routing.close();
    assertThat(answers).containsExactly(LoadResult.LOAD_HERE, LoadResult.LOAD_HERE, LoadResult.LOAD_HERE);
  }

  @Test
  void theOwnerAnswersOnceItsLoadIsDoneOnTheCoresThread() {
    peerLoad = new CompletableFuture<>();
    routing.onRequest(P1, new LoadRequest(7, "users", key(1)));
    assertThat(sent).isEmpty();
    peerLoad.completeExceptionally(new IllegalStateException("boom"));
    assertThat(sent).isEmpty(); // not from the loader's thread: through the scheduler
    runTimers();
    assertThat(sent).hasSize(1);
    LoadResponse response = (LoadResponse) sent.get(0)[1];
    assertThat(response.requestId()).isEqualTo(7);
    assertThat(response.result().kind()).isEqualTo(LoadResult.Kind.FAILED);
    assertThat(response.result().failure()).contains("boom");
  }
}
