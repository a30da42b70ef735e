package io.bcache.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bcache.replication.Message.BacklogMiss;
import io.bcache.replication.Message.BacklogRequest;
import io.bcache.replication.Message.ChangeBatch;
import io.bcache.replication.Message.Digest;
import io.bcache.replication.Message.LoadRequest;
import io.bcache.replication.Message.LoadResponse;
import io.bcache.replication.Message.SnapshotAck;
import io.bcache.replication.Message.SnapshotChunk;
import io.bcache.replication.Message.SnapshotRefused;
import io.bcache.replication.Message.SnapshotRequest;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MessageCodecTest {

  private final MessageCodec codec = new MessageCodec(CodecLimits.DEFAULT);

  private static Change change(String cache, String key, String value, long seq) {
    return new Change(cache, key.getBytes(), value == null ? null : value.getBytes(), 42L << 16,
        7, seq, value == null ? Change.ETERNAL : 1234);
  }

  static List<Message> samples() {
    Change put = change("users", "k1", "v1", 3);
    Change removal = change("orders", "k2", null, 4);
    Map<Long, HlcRange> ranges = new HashMap<>();
    ranges.put(7L, new HlcRange(Long.MIN_VALUE, 99));
    return List.of(
        new ChangeBatch(List.of(put, removal, change("users", "k3", "", 5),
            Change.clear("orders", 43L << 16, 7).withSeq(6))),
        new ChangeBatch(List.of()),
        new Digest(Map.of(7L, 4L, 9L, 0L), Set.of("users", "orders")),
        new BacklogRequest(Map.of(7L, 1L)),
        new BacklogMiss(Set.of(7L, 8L)),
        new SnapshotRequest(5, null, Map.of()),
        new SnapshotRequest(6, "users", ranges),
        new SnapshotChunk(5, 0, List.of(put.withSeq(0)), false, Map.of()),
        new SnapshotChunk(5, 1, List.of(), true, Map.of(7L, new Watermark(4, 42L << 16))),
        // orphan events per cache: in every digest, and in the last chunk of a full snapshot
        new Digest(Map.of(7L, 4L), Set.of("users"),
            Map.of("users", Map.of(copy(7, 0), 2L, copy(9, 1), 1L), "orders", Map.of(copy(9, 0), 1L))),
        new SnapshotChunk(5, 2, List.of(removal.withSeq(0)), true,
            Map.of(7L, new Watermark(4, 42L << 16)),
            Map.of("users", Map.of(copy(7, 0), 3L, copy(7, 2), 1L, copy(8, 0), 1L))),
        // and the caches a full snapshot held
        new SnapshotChunk(5, 3, List.of(), true, Map.of(7L, new Watermark(4, 42L << 16)),
            Map.of(), Set.of("users", "orders")),
        // and, for a one-cache snapshot, the versions newer than asked
        new SnapshotChunk(6, 0, List.of(), true, Map.of(7L, new Watermark(4, 42L << 16)),
            Map.of(), Set.of(), Map.of(7L, 43L << 16, 9L, 44L << 16)),
        new SnapshotAck(5, 2),
        new SnapshotRefused(5),
        // cluster-wide loads
        new LoadRequest(9, "users", "k1".getBytes()),
        new LoadResponse(9, LoadResult.loaded(put.withSeq(0))),
        new LoadResponse(9, LoadResult.ABSENT),
        new LoadResponse(9, LoadResult.LOAD_HERE),
        new LoadResponse(9, LoadResult.failed("no such row: k1 \u00e9")));
  }

  private static CopyId copy(long node, int copy) {
    return new CopyId(node, copy);
  }

  @Test
  void roundTripsEveryMessage() throws Exception {
    for (Message message : samples()) {
      assertThat(codec.decode(codec.encode(message))).isEqualTo(message);
    }
  }

  @Test
  void aSnapshotChunksTrailerIsSizedExactly() {
    Change put = change("users", "k1", "v1", 1).withSeq(0);
    SnapshotChunk bare = new SnapshotChunk(5, 0, List.of(put), true, Map.of());
    SnapshotChunk full = new SnapshotChunk(5, 0, List.of(put), true,
        Map.of(7L, new Watermark(4, 42L << 16), 8L, new Watermark(1, 40L << 16)),
        Map.of("users", Map.of(copy(7, 0), 3L), "été", Map.of(copy(8, 0), 1L, copy(9, 3), 2L)),
        Set.of("users", "orders"), Map.of(7L, 43L << 16));
    int emptyTrailer = 4 * 4; // four counts of zero

    assertThat(codec.encode(full).length - codec.encode(bare).length + emptyTrailer)
        .isEqualTo(MessageCodec.trailerBytes(full));
    assertThat(MessageCodec.trailerBytes(bare)).isEqualTo(emptyTrailer);
  }

  @Test
  void rejectsEveryTruncation() {
    for (Message message : samples()) {
      byte[] frame = codec.encode(message);
      for (int length = 0; length < frame.length; length++) {
        byte[] truncated = Arrays.copyOf(frame, length);
        assertThatThrownBy(() -> codec.decode(truncated))
            .as("%s cut at %d", message, length)
            .isInstanceOf(MalformedMessageException.class);
      }
    }
  }

  @Test
  void rejectsTrailingBytesUnknownTypesAndVersions() {
    byte[] frame = codec.encode(new SnapshotAck(1, 1));
    assertThatThrownBy(() -> codec.decode(Arrays.copyOf(frame, frame.length + 1)))
        .isInstanceOf(MalformedMessageException.class).hasMessageContaining("trailing");
    byte[] unknownType = frame.clone();
    unknownType[1] = 99;
    assertThatThrownBy(() -> codec.decode(unknownType))
        .isInstanceOf(MalformedMessageException.class).hasMessageContaining("type");
    byte[] otherVersion = frame.clone();
    otherVersion[0] = 1; // version 1 had no orphan maps
    assertThatThrownBy(() -> codec.decode(otherVersion))
        .isInstanceOf(MalformedMessageException.class).hasMessageContaining("version");
    otherVersion[0] = (byte) (MessageCodec.PROTOCOL_VERSION + 1);
    assertThatThrownBy(() -> codec.decode(otherVersion))
        .isInstanceOf(MalformedMessageException.class).hasMessageContaining("version");
  }

  @Test
  void rejectsHugeAndNegativeLengthsWithoutAllocating() {
    for (int declared : new int[] {Integer.MAX_VALUE, -2, 1 << 30}) {
      // a change batch whose name table declares a huge count
      ByteBuffer names = ByteBuffer.allocate(6).put(MessageCodec.PROTOCOL_VERSION)
          .put(MessageCodec.CHANGE_BATCH).putInt(declared);
      assertThatThrownBy(() -> codec.decode(names.array()))
          .isInstanceOf(MalformedMessageException.class);
      // one change whose key length is huge
      ByteBuffer key = ByteBuffer.allocate(64).put(MessageCodec.PROTOCOL_VERSION)
          .put(MessageCodec.CHANGE_BATCH).putInt(1).putInt(1).put((byte) 'c').putInt(1)
          .putInt(0).putInt(declared);
      assertThatThrownBy(() -> codec.decode(key.array()))
          .isInstanceOf(MalformedMessageException.class);
    }
  }

  @Test
  void rejectsBadIndexesBooleansAndDuplicates() {
    byte[] chunk = codec.encode(new SnapshotChunk(1, 0, List.of(), true, Map.of()));
    chunk[2 + 8 + 4] = 2; // the "last" flag
    assertThatThrownBy(() -> codec.decode(chunk)).isInstanceOf(MalformedMessageException.class);

    ByteBuffer digest = ByteBuffer.allocate(2 + 4 + 32 + 4).put(MessageCodec.PROTOCOL_VERSION)
        .put(MessageCodec.DIGEST).putInt(2).putLong(7).putLong(1).putLong(7).putLong(2).putInt(0);
    assertThatThrownBy(() -> codec.decode(digest.array()))
        .isInstanceOf(MalformedMessageException.class).hasMessageContaining("duplicate");

    byte[] batch = codec.encode(new ChangeBatch(List.of(change("c", "k", "v", 1))));
    batch[2 + 4 + 4 + 1 + 4 + 3] = 5; // name index beyond the table
    assertThatThrownBy(() -> codec.decode(batch)).isInstanceOf(MalformedMessageException.class);
  }

  @Test
  void rejectsAClearThatCarriesAValue() {
    // one change of cache "c": empty key, a one-byte value
    ByteBuffer frame = ByteBuffer.allocate(2 + 4 + 4 + 1 + 4 + 4 + 4 + 4 + 1 + 32)
        .put(MessageCodec.PROTOCOL_VERSION).put(MessageCodec.CHANGE_BATCH)
        .putInt(1).putInt(1).put((byte) 'c').putInt(1)
        .putInt(0).putInt(0).putInt(1).put((byte) 'v')
        .putLong(1).putLong(7).putLong(1).putLong(Change.ETERNAL);
    assertThatThrownBy(() -> codec.decode(frame.array()))
        .isInstanceOf(MalformedMessageException.class).hasMessageContaining("empty key");
    assertThatThrownBy(() -> new Change("c", new byte[0], new byte[1], 1, 7, 1, Change.ETERNAL))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void rejectsMalformedLoadMessages() throws Exception {
    byte[] response = codec.encode(new LoadResponse(9, LoadResult.ABSENT));
    response[2 + 8] = 9; // no such outcome
    assertThatThrownBy(() -> codec.decode(response))
        .isInstanceOf(MalformedMessageException.class).hasMessageContaining("load result");
    // a loaded outcome whose entry is a removal
    byte[] removal = codec.encode(new ChangeBatch(List.of(change("users", "k", null, 0))));
    byte[] loadedRemoval = ByteBuffer.allocate(2 + 8 + 1 + removal.length - 2)
        .put(MessageCodec.PROTOCOL_VERSION).put(MessageCodec.LOAD_RESPONSE).putLong(9)
        .put((byte) LoadResult.Kind.LOADED.ordinal()).put(removal, 2, removal.length - 2).array();
    assertThatThrownBy(() -> codec.decode(loadedRemoval))
        .isInstanceOf(MalformedMessageException.class).hasMessageContaining("one entry");
    byte[] request = codec.encode(new LoadRequest(9, "c", new byte[] {1}));
    request[2 + 8 + 4 + 1 + 3] = 0; // key length 0
    assertThatThrownBy(() -> codec.decode(Arrays.copyOf(request, request.length - 1)))
        .isInstanceOf(MalformedMessageException.class).hasMessageContaining("empty key");
    // a failure's text is cut to its bound on the way out
    LoadResponse longFailure = new LoadResponse(9, LoadResult.failed("x".repeat(10_000)));
    assertThat(((LoadResponse) codec.decode(codec.encode(longFailure))).result().failure())
        .hasSizeLessThanOrEqualTo(MessageCodec.MAX_FAILURE_BYTES);
  }

  @Test
  void rejectsGarbageInOrphanMaps() {
    // a digest: no versions, no caches, then the orphan map
    ByteBuffer negativeCount = ByteBuffer.allocate(2 + 12).put(MessageCodec.PROTOCOL_VERSION)
        .put(MessageCodec.DIGEST).putInt(0).putInt(0).putInt(-5);
    assertThatThrownBy(() -> codec.decode(negativeCount.array()))
        .isInstanceOf(MalformedMessageException.class);
    ByteBuffer hugeCount = ByteBuffer.allocate(2 + 12).put(MessageCodec.PROTOCOL_VERSION)
        .put(MessageCodec.DIGEST).putInt(0).putInt(0).putInt(Integer.MAX_VALUE);
    assertThatThrownBy(() -> codec.decode(hugeCount.array()))
        .isInstanceOf(MalformedMessageException.class);
    ByteBuffer duplicateCache = ByteBuffer.allocate(2 + 12 + 18).put(MessageCodec.PROTOCOL_VERSION)
        .put(MessageCodec.DIGEST).putInt(0).putInt(0).putInt(2)
        .putInt(1).put((byte) 'u').putInt(0).putInt(1).put((byte) 'u').putInt(0);
    assertThatThrownBy(() -> codec.decode(duplicateCache.array()))
        .isInstanceOf(MalformedMessageException.class).hasMessageContaining("duplicate");
    ByteBuffer negativeEvents = ByteBuffer.allocate(2 + 12 + 9 + 20).put(MessageCodec.PROTOCOL_VERSION)
        .put(MessageCodec.DIGEST).putInt(0).putInt(0).putInt(1).putInt(1).put((byte) 'u').putInt(1)
        .putLong(7).putInt(0).putLong(-1);
    assertThatThrownBy(() -> codec.decode(negativeEvents.array()))
        .isInstanceOf(MalformedMessageException.class).hasMessageContaining("negative");
    ByteBuffer negativeCopy = ByteBuffer.allocate(2 + 12 + 9 + 20).put(MessageCodec.PROTOCOL_VERSION)
        .put(MessageCodec.DIGEST).putInt(0).putInt(0).putInt(1).putInt(1).put((byte) 'u').putInt(1)
        .putLong(7).putInt(-1).putLong(1);
    assertThatThrownBy(() -> codec.decode(negativeCopy.array()))
        .isInstanceOf(MalformedMessageException.class).hasMessageContaining("negative");
    ByteBuffer duplicateCopy = ByteBuffer.allocate(2 + 12 + 9 + 40).put(MessageCodec.PROTOCOL_VERSION)
        .put(MessageCodec.DIGEST).putInt(0).putInt(0).putInt(1).putInt(1).put((byte) 'u').putInt(2)
        .putLong(7).putInt(1).putLong(1).putLong(7).putInt(1).putLong(2);
    assertThatThrownBy(() -> codec.decode(duplicateCopy.array()))
        .isInstanceOf(MalformedMessageException.class).hasMessageContaining("duplicate");
    // a last chunk whose orphan map is cut off, or followed by garbage
    byte[] chunk = codec.encode(new SnapshotChunk(5, 0, List.of(), true, Map.of(),
        Map.of("users", Map.of(copy(7, 0), 3L))));
    assertThatThrownBy(() -> codec.decode(Arrays.copyOf(chunk, chunk.length - 8)))
        .isInstanceOf(MalformedMessageException.class);
    assertThatThrownBy(() -> codec.decode(Arrays.copyOf(chunk, chunk.length + 3)))
        .isInstanceOf(MalformedMessageException.class);
  }

  @Test
  void survivesRandomCorruption() {
    SplittableRandom random = new SplittableRandom(1);
    for (Message message : samples()) {
      byte[] frame = codec.encode(message);
      for (int i = 0; i < 2_000; i++) {
        byte[] corrupt = frame.clone();
        corrupt[random.nextInt(corrupt.length)] = (byte) random.nextInt(256);
        try {
          codec.decode(corrupt);
        } catch (MalformedMessageException expected) {
          // rejected cleanly; anything else (OOM, runtime exception) fails the test
        }
      }
    }
  }

  @Test
  void refusesToEncodeBeyondItsLimits() {
    MessageCodec small = new MessageCodec(new CodecLimits(1024, 16, 16, 16, 4));
    assertThatThrownBy(() -> small.encode(new ChangeBatch(List.of(change("c", "k", "x".repeat(17), 1)))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> small.encode(new BacklogMiss(Set.of(1L, 2L, 3L, 4L, 5L))))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
