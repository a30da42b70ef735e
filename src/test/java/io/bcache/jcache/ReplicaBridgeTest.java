package io.bcache.jcache;

import static org.assertj.core.api.Assertions.assertThat;

import io.bcache.replication.ApplyResult;
import io.bcache.replication.Change;
import io.bcache.replication.ClusterStatus;
import io.bcache.replication.CodecLimits;
import io.bcache.replication.HlcRange;
import io.bcache.replication.HybridLogicalClock;
import io.bcache.replication.LoadResult;
import io.bcache.replication.Message;
import io.bcache.replication.ReplicationConfig;
import io.bcache.replication.ReplicationCore;
import io.bcache.replication.Replicator;
import io.bcache.serialization.WireCodec;
import io.bcache.store.StoreEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.MutableConfiguration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Replication sees a cache's copy only once its core has admitted it: the manager shows a new
 * copy before the replication thread hears of its creation, and what the core does in between
 * (a snapshot it counts as received, an orphan event it raises) belongs to the copy it knows of.
 * The core here is driven by hand on this test's thread, as the replication thread would.
 */
class ReplicaBridgeTest {

  private static final long PEER = 42;

  private final CacheManager manager = PublicApiTestSupport.newManager();
  private final BCacheManager bcm = manager.unwrap(BCacheManager.class);
  private final WireCodec codec = WireCodec.trusted();
  private final ReplicaBridge bridge = new ReplicaBridge(bcm, codec);
  private final HybridLogicalClock hlc = HybridLogicalClock.system();
  private final List<Message> sent = new ArrayList<>();
  private final ReplicationCore core = new ReplicationCore(bcm.nodeId(), ReplicationConfig.DEFAULT,
      bridge, (peer, message) -> sent.add(message), (delay, task) -> () -> { },
      System::currentTimeMillis, hlc);
  /** What writers handed to replication and its thread has not taken in yet. */
  private final List<Change> intake = new ArrayList<>();
  private final MutableConfiguration<String, String> config =
      new MutableConfiguration<String, String>().setStoreByValue(false);

  @AfterEach
  void close() {
    manager.close();
  }

  private Change put(String key, String value, long version) {
    return Change.put("users", codec.encode(key), codec.encode(value), version, 7, Change.ETERNAL);
  }

  /** The replication thread takes in what writers handed over. */
  private void takeInIntake() {
    intake.forEach(core::publishLocal);
    intake.clear();
  }

  @Test
  void aCopyIsHiddenFromReplicationUntilAdmitted() {
    Cache<String, String> first = manager.createCache("users", config);
    assertThat(bridge.cacheNames()).isEmpty();
    assertThat(bridge.copyOf("users")).isNull();
    assertThat(bridge.awaitsAdmission("users")).isTrue();
    assertThat(bridge.apply(put("k", "v1", 1L << 16))).isEqualTo(ApplyResult.NO_SUCH_CACHE);
    assertThat(bridge.snapshot("users").hasNext()).isFalse();

    assertThat(bridge.admit("users")).isTrue();
    assertThat(bridge.admit("users")).isFalse(); // announced twice: nothing new
    assertThat(bridge.cacheNames()).containsExactly("users");
    assertThat(bridge.apply(put("k", "v1", 2L << 16))).isEqualTo(ApplyResult.APPLIED);
    assertThat(first.get("k")).isEqualTo("v1");
    Object admitted = bridge.copyOf("users");

    first.close(); // closed and created again: the new copy is not the admitted one
    Cache<String, String> second = manager.createCache("users", config);
    assertThat(bridge.cacheNames()).isEmpty();
    assertThat(bridge.apply(put("k", "v2", 3L << 16))).isEqualTo(ApplyResult.NO_SUCH_CACHE);
    assertThat(second.get("k")).isNull();

    assertThat(bridge.admit("users")).isTrue();
    assertThat(bridge.copyOf("users")).isNotNull().isNotSameAs(admitted);
    assertThat(bridge.apply(put("k", "v2", 4L << 16))).isEqualTo(ApplyResult.APPLIED);
    assertThat(second.get("k")).isEqualTo("v2");
  }

  @Test
  void aWriteThatRacedTheCloseReachesTheNewCopyBeforeItsAdmission() {
    bridge.attach(new Replicator() {
      @Override
      public boolean publish(Change change) {
        intake.add(change);
        return true;
      }

      @Override
      public CodecLimits limits() {
        return CodecLimits.DEFAULT;
      }

      @Override
      public void cacheCreated(String cacheName) {
      }

      @Override
      public CompletionStage<LoadResult> routeLoad(String cacheName, byte[] key) {
        return CompletableFuture.completedFuture(LoadResult.LOAD_HERE);
      }

      @Override
      public ClusterStatus status() {
        return null;
      }

      @Override
      public void close() {
      }
    });
    Cache<String, String> first = manager.createCache("users", config);
    core.localCacheCreated("users");
    // a writer's put is in the first copy; it hands the change over only after the close
    StoreEntry written = new StoreEntry("k", "v", hlc.tick(), bcm.nodeId(), StoreEntry.ETERNAL);
    first.close();
    Cache<String, String> second = manager.createCache("users", config);
    takeInIntake(); // the creation's task takes in the intake first: the write is not there yet

    bridge.publish((BCache<?, ?>) first, written); // the writer hands it over, then looks
    core.localCacheCreated("users"); // the same task admits the new copy
    takeInIntake(); // counted among the new copy's own writes: no replay brings it there

    assertThat(second.get("k")).isEqualTo("v");
  }

  @Test
  void aCopyNotAdmittedYetIsServedAsOneThatMayHoldThisNodesWrites() {
    Cache<String, String> users = manager.createCache("users", config);
    // another thread got the cache before its creation reached replication, and wrote to it
    users.put("k", "v");
    StoreEntry held = ((BCache<?, ?>) users).replicaEntries().next();
    core.publishLocal(Change.put("users", codec.encode("k"), codec.encode("v"), held.version(),
        bcm.nodeId(), Change.ETERNAL));

    core.peerUp(PEER); // a peer that created the cache asks for this node's writes to it
    core.onMessage(PEER, new Message.SnapshotRequest(7, "users",
        Map.of(bcm.nodeId(), new HlcRange(Long.MIN_VALUE, held.version()))));

    List<Message.SnapshotChunk> chunks = sent.stream()
        .filter(m -> m instanceof Message.SnapshotChunk).map(m -> (Message.SnapshotChunk) m).toList();
    assertThat(chunks).isNotEmpty();
    assertThat(chunks.get(chunks.size() - 1).last()).isTrue();
    assertThat(chunks.stream().flatMap(c -> c.changes().stream()).map(c -> codec.decode(c.key(), null)))
        .containsExactly("k"); // what the backlog holds of them, whatever the watermarks claim
  }

  @Test
  void anOrphanEventRaisedBetweenTwoAnnouncementsOfOneCopyStaysAdvertised() {
    Cache<String, String> first = manager.createCache("users", config);
    core.localCacheCreated("users");
    first.close();
    Cache<String, String> second = manager.createCache("users", config); // announced late
    second.close();
    Cache<String, String> third = manager.createCache("users", config);
    core.localCacheCreated("users"); // the third copy's announcement comes first

    // a full snapshot applies an entry of an origin gone for good, then its sender drops
    core.peerUp(PEER);
    core.onMessage(PEER, new Message.BacklogMiss(Set.of(PEER)));
    long requestId = sent.stream().filter(m -> m instanceof Message.SnapshotRequest)
        .map(m -> ((Message.SnapshotRequest) m).requestId()).findFirst().orElseThrow();
    Change orphan = Change.put("users", codec.encode("k"), codec.encode("v"), hlc.tick(), 77,
        Change.ETERNAL);
    core.onMessage(PEER, new Message.SnapshotChunk(requestId, 0, List.of(orphan), false, Map.of(),
        Map.of(), Set.of()));
    core.peerDown(PEER); // abandoned after it applied an entry: an orphan event of this node's own
    assertThat(third.get("k")).isEqualTo("v");

    core.localCacheCreated("users"); // the second copy's announcement, late: nothing new

    sent.clear();
    core.peerUp(PEER + 1);
    Message.Digest digest = (Message.Digest) sent.stream().filter(m -> m instanceof Message.Digest)
        .findFirst().orElseThrow();
    assertThat(digest.orphans()).containsKey("users"); // so that every peer pulls the orphan
  }
}
