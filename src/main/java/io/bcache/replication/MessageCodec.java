package io.bcache.replication;

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
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns {@link Message}s into frames and back. Pure and stateless apart from its limits.
 *
 * <p>Layout, big-endian: a protocol version byte, a type byte, then the body. Strings are an int
 * byte count (-1 for {@code null}) and UTF-8; byte arrays an int count (-1 for {@code null}) and
 * the bytes. Change lists start with a table of the cache names they use, so a name is written
 * once per message and each change refers to it by index.
 *
 * <p>Decoding is strict: every declared length is checked against both the limits and the bytes
 * actually left in the frame before anything is allocated, so a huge declared length fails fast
 * instead of exhausting the heap.
 */
public final class MessageCodec {

  /**
   * Version of the replication protocol; a frame of another version is rejected. 2: digests and
   * the last snapshot chunk end with the sender's orphan events (a seq map), appended to the
   * layout of version 1; a version-1 peer would read them as trailing bytes. 3: the last snapshot
   * chunk ends with the caches a full snapshot held (a name list), appended likewise. 4: the
   * orphan events are counted per cache (a count of caches, each a name and a seq map). 5: a
   * change with an empty key and no value clears its cache ({@link Change#clear}); load requests
   * and responses (cluster-wide loads); the last snapshot chunk ends with the versions it left
   * out as newer than asked (a seq map of origin to HLC). 6: orphan events are counted per copy
   * of a cache on a node ({@link CopyId}: node id, copy number, count) instead of per node.
   */
  public static final byte PROTOCOL_VERSION = 6;

  /** A copy's orphan events on the wire: node id, copy number, count. */
  private static final int COPY_EVENT_BYTES = 8 + 4 + 8;

  static final byte CHANGE_BATCH = 1;
  static final byte DIGEST = 2;
  static final byte BACKLOG_REQUEST = 3;
  static final byte BACKLOG_MISS = 4;
  static final byte SNAPSHOT_REQUEST = 5;
  static final byte SNAPSHOT_CHUNK = 6;
  static final byte SNAPSHOT_ACK = 7;
  static final byte SNAPSHOT_REFUSED = 8;
  static final byte LOAD_REQUEST = 9;
  static final byte LOAD_RESPONSE = 10;
  /** A loader failure travels as text, cut to this many UTF-8 bytes. */
  static final int MAX_FAILURE_BYTES = 2048;

  private final CodecLimits limits;

  public MessageCodec(CodecLimits limits) {
    this.limits = limits;
  }

  public CodecLimits limits() {
    return limits;
  }

  /** A change's bytes besides its key and value: name index, two lengths, four longs. */
  private static final int CHANGE_FIXED_BYTES = 4 + 4 + 4 + 4 * 8;

  /**
   * Encodes a message.
   *
   * @throws IllegalArgumentException if the message exceeds the limits (the frame would be
   *     rejected by the receiver)
   */
  public byte[] encode(Message message) {
    FrameWriter out = new FrameWriter(limits.maxFrameBytes());
    out.writeByte(PROTOCOL_VERSION);
    if (message instanceof ChangeBatch m) {
      out.writeByte(CHANGE_BATCH);
      writeChanges(out, m.changes(), 0);
    } else if (message instanceof Digest m) {
      out.writeByte(DIGEST);
      writeCount(out, m.versions().size());
      m.versions().forEach((origin, seq) -> {
        out.writeLong(origin);
        out.writeLong(seq);
      });
      writeCount(out, m.cacheNames().size());
      m.cacheNames().forEach(name -> writeName(out, name));
      writeOrphans(out, m.orphans());
    } else if (message instanceof BacklogRequest m) {
      out.writeByte(BACKLOG_REQUEST);
      writeCount(out, m.fromSeq().size());
      m.fromSeq().forEach((origin, seq) -> {
        out.writeLong(origin);
        out.writeLong(seq);
      });
    } else if (message instanceof BacklogMiss m) {
      out.writeByte(BACKLOG_MISS);
      writeCount(out, m.origins().size());
      m.origins().forEach(out::writeLong);
    } else if (message instanceof SnapshotRequest m) {
      out.writeByte(SNAPSHOT_REQUEST);
      out.writeLong(m.requestId());
      if (m.cacheName() == null) {
        out.writeInt(-1);
      } else {
        writeName(out, m.cacheName());
      }
      writeCount(out, m.ranges().size());
      m.ranges().forEach((origin, range) -> {
        out.writeLong(origin);
        out.writeLong(range.after());
        out.writeLong(range.upTo());
      });
    } else if (message instanceof SnapshotChunk m) {
      out.writeByte(SNAPSHOT_CHUNK);
      out.writeLong(m.requestId());
      out.writeInt(m.index());
      out.writeByte(m.last() ? 1 : 0);
      writeChanges(out, m.changes(), trailerBytes(m));
      writeCount(out, m.watermarks().size());
      m.watermarks().forEach((origin, mark) -> {
        out.writeLong(origin);
        out.writeLong(mark.seq());
        out.writeLong(mark.hlc());
      });
      writeOrphans(out, m.orphans());
      writeCount(out, m.caches().size());
      m.caches().forEach(name -> writeName(out, name));
      writeSeqMap(out, m.newerThanAsked());
    } else if (message instanceof SnapshotAck m) {
      out.writeByte(SNAPSHOT_ACK);
      out.writeLong(m.requestId());
      out.writeInt(m.nextIndex());
    } else if (message instanceof SnapshotRefused m) {
      out.writeByte(SNAPSHOT_REFUSED);
      out.writeLong(m.requestId());
    } else if (message instanceof LoadRequest m) {
      out.writeByte(LOAD_REQUEST);
      out.writeLong(m.requestId());
      writeName(out, m.cacheName());
      if (m.key().length > limits.maxKeyBytes()) {
        throw new IllegalArgumentException("key of " + m.key().length + " bytes is too long");
      }
      out.writeInt(m.key().length);
      out.writeBytes(m.key());
    } else if (message instanceof LoadResponse m) {
      out.writeByte(LOAD_RESPONSE);
      out.writeLong(m.requestId());
      LoadResult result = m.result();
      out.writeByte((byte) result.kind().ordinal());
      if (result.kind() == LoadResult.Kind.LOADED) {
        writeChanges(out, List.of(result.entry()), 0);
      } else if (result.kind() == LoadResult.Kind.FAILED) {
        byte[] text = utf8Within(result.failure(), MAX_FAILURE_BYTES);
        out.writeInt(text.length);
        out.writeBytes(text);
      }
    } else {
      throw new IllegalArgumentException("unknown message " + message);
    }
    return out.toByteArray();
  }

  /** Decodes one frame, which must hold exactly one message. */
  public Message decode(byte[] frame) throws MalformedMessageException {
    return decode(ByteBuffer.wrap(frame));
  }

  /**
   * Decodes the remaining bytes of {@code frame}, which must hold exactly one message, without
   * moving its position. The message shares nothing with the buffer, so a transport may reuse
   * the buffer once this returns.
   */
  public Message decode(ByteBuffer frame) throws MalformedMessageException {
    if (frame.remaining() > limits.maxFrameBytes()) {
      throw new MalformedMessageException("frame of " + frame.remaining() + " bytes exceeds "
          + limits.maxFrameBytes());
    }
    FrameReader in = new FrameReader(frame);
    byte version = in.readByte();
    if (version != PROTOCOL_VERSION) {
      throw new MalformedMessageException("unsupported protocol version " + version);
    }
    byte type = in.readByte();
    Message message = switch (type) {
      case CHANGE_BATCH -> new ChangeBatch(readChanges(in));
      case DIGEST -> readDigest(in);
      case BACKLOG_REQUEST -> new BacklogRequest(readSeqMap(in));
      case BACKLOG_MISS -> readBacklogMiss(in);
      case SNAPSHOT_REQUEST -> readSnapshotRequest(in);
      case SNAPSHOT_CHUNK -> readSnapshotChunk(in);
      case SNAPSHOT_ACK -> new SnapshotAck(in.readLong(), readIndex(in));
      case SNAPSHOT_REFUSED -> new SnapshotRefused(in.readLong());
      case LOAD_REQUEST -> readLoadRequest(in);
      case LOAD_RESPONSE -> readLoadResponse(in);
      default -> throw new MalformedMessageException("unknown message type " + type);
    };
    if (in.remaining() != 0) {
      throw new MalformedMessageException(in.remaining() + " trailing bytes after " + message
          .getClass().getSimpleName());
    }
    return message;
  }

  private void writeCount(FrameWriter out, int count) {
    if (count > limits.maxElements()) {
      throw new IllegalArgumentException(count + " elements exceed " + limits.maxElements());
    }
    out.writeInt(count);
  }

  private void writeName(FrameWriter out, String name) {
    byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
    if (bytes.length > limits.maxCacheNameBytes()) {
      throw new IllegalArgumentException("cache name of " + bytes.length + " bytes is too long");
    }
    out.writeInt(bytes.length);
    out.writeBytes(bytes);
  }

  /**
   * The bytes a snapshot chunk holds after its changes, so that the frame is allocated once at
   * its exact size: growing a quarter-megabyte chunk for its last few bytes would double it, and
   * trimming it copy it once more.
   */
  static long trailerBytes(SnapshotChunk m) {
    long bytes = 4 + 24L * m.watermarks().size();
    bytes += 4;
    for (Map.Entry<String, Map<CopyId, Long>> e : m.orphans().entrySet()) {
      bytes += nameBytes(e.getKey()) + 4 + (long) COPY_EVENT_BYTES * e.getValue().size();
    }
    bytes += 4;
    for (String name : m.caches()) {
      bytes += nameBytes(name);
    }
    return bytes + seqMapBytes(m.newerThanAsked());
  }

  private static long nameBytes(String name) {
    return 4 + name.getBytes(StandardCharsets.UTF_8).length;
  }

  private static long seqMapBytes(Map<Long, Long> map) {
    return 4 + 16L * map.size();
  }

  /** Writes changes, with room reserved for {@code bytesAfter} more bytes the message holds after them. */
  private void writeChanges(FrameWriter out, List<Change> changes, long bytesAfter) {
    // a batch usually holds one cache's changes: the name is looked up only when it changes
    Map<String, Integer> names = new LinkedHashMap<>();
    long bytes = 8; // the two counts
    String name = null;
    for (Change change : changes) {
      if (change.cacheName() != name) {
        name = change.cacheName();
        names.putIfAbsent(name, names.size());
      }
      bytes += CHANGE_FIXED_BYTES + change.key().length + (change.value() == null ? 0 : change.value().length);
    }
    for (String cacheName : names.keySet()) {
      bytes += nameBytes(cacheName);
    }
    out.reserve(bytes + bytesAfter);
    writeCount(out, names.size());
    names.keySet().forEach(cacheName -> writeName(out, cacheName));
    writeCount(out, changes.size());
    name = null;
    int nameIndex = -1;
    for (Change change : changes) {
      if (change.key().length > limits.maxKeyBytes()) {
        throw new IllegalArgumentException("key of " + change.key().length + " bytes is too long");
      }
      if (change.value() != null && change.value().length > limits.maxValueBytes()) {
        throw new IllegalArgumentException(
            "value of " + change.value().length + " bytes is too long");
      }
      if (change.cacheName() != name) {
        name = change.cacheName();
        nameIndex = names.get(name);
      }
      out.writeInt(nameIndex);
      out.writeInt(change.key().length);
      out.writeBytes(change.key());
      if (change.value() == null) {
        out.writeInt(-1);
      } else {
        out.writeInt(change.value().length);
        out.writeBytes(change.value());
      }
      out.writeLong(change.hlc());
      out.writeLong(change.origin());
      out.writeLong(change.seq());
      out.writeLong(change.expireAt());
    }
  }

  private List<Change> readChanges(FrameReader in) throws MalformedMessageException {
    int nameCount = readCount(in, 4);
    String[] names = new String[nameCount];
    Set<String> distinct = new HashSet<>();
    for (int i = 0; i < nameCount; i++) {
      names[i] = readName(in);
      if (!distinct.add(names[i])) {
        throw new MalformedMessageException("duplicate cache name in table");
      }
    }
    // smallest change: index, key length, value length, four longs
    int count = readCount(in, 4 + 4 + 4 + 32);
    List<Change> changes = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int nameIndex = in.readInt();
      if (nameIndex < 0 || nameIndex >= nameCount) {
        throw new MalformedMessageException("cache name index " + nameIndex + " out of range");
      }
      byte[] key = in.readBytes(readLength(in, limits.maxKeyBytes(), "key"));
      int valueLength = in.readInt();
      byte[] value;
      if (valueLength == -1) {
        value = null;
      } else if (valueLength < 0 || valueLength > limits.maxValueBytes()) {
        throw new MalformedMessageException("value length " + valueLength + " out of range");
      } else {
        value = in.readBytes(valueLength);
      }
      if (key.length == 0 && value != null) {
        throw new MalformedMessageException("a change with an empty key carries a value");
      }
      long hlc = in.readLong();
      long origin = in.readLong();
      long seq = in.readLong();
      if (seq < 0) {
        throw new MalformedMessageException("negative seq " + seq);
      }
      long expireAt = in.readLong();
      changes.add(new Change(names[nameIndex], key, value, hlc, origin, seq, expireAt));
    }
    return changes;
  }

  private LoadRequest readLoadRequest(FrameReader in) throws MalformedMessageException {
    long requestId = in.readLong();
    String cacheName = readName(in);
    int keyLength = readLength(in, limits.maxKeyBytes(), "key");
    if (keyLength == 0) {
      throw new MalformedMessageException("load request for an empty key");
    }
    return new LoadRequest(requestId, cacheName, in.readBytes(keyLength));
  }

  private LoadResponse readLoadResponse(FrameReader in) throws MalformedMessageException {
    long requestId = in.readLong();
    int kind = in.readByte();
    LoadResult.Kind[] kinds = LoadResult.Kind.values();
    if (kind < 0 || kind >= kinds.length) {
      throw new MalformedMessageException("unknown load result " + kind);
    }
    LoadResult result = switch (kinds[kind]) {
      case LOADED -> {
        List<Change> changes = readChanges(in);
        if (changes.size() != 1 || changes.get(0).value() == null) {
          throw new MalformedMessageException("a loaded result must hold one entry with a value");
        }
        yield LoadResult.loaded(changes.get(0));
      }
      case FAILED -> LoadResult.failed(decodeUtf8(in.readBytes(readLength(in, MAX_FAILURE_BYTES, "failure"))));
      case ABSENT -> LoadResult.ABSENT;
      case LOAD_HERE -> LoadResult.LOAD_HERE;
    };
    return new LoadResponse(requestId, result);
  }

  private Digest readDigest(FrameReader in) throws MalformedMessageException {
    Map<Long, Long> versions = readSeqMap(in);
    Set<String> names = readNameSet(in, "digest");
    return new Digest(versions, names, readOrphans(in));
  }

  /** A count and that many distinct cache names; {@code where} names the message for errors. */
  private Set<String> readNameSet(FrameReader in, String where) throws MalformedMessageException {
    int count = readCount(in, 4);
    Set<String> names = new HashSet<>();
    for (int i = 0; i < count; i++) {
      if (!names.add(readName(in))) {
        throw new MalformedMessageException("duplicate cache name in " + where);
      }
    }
    return names;
  }

  private void writeSeqMap(FrameWriter out, Map<Long, Long> map) {
    writeCount(out, map.size());
    map.forEach((origin, seq) -> {
      out.writeLong(origin);
      out.writeLong(seq);
    });
  }

  /**
   * Orphan events per cache: a count of caches, each a name and a count of copies, each a node id,
   * a copy number and a count of events.
   */
  private void writeOrphans(FrameWriter out, Map<String, Map<CopyId, Long>> orphans) {
    writeCount(out, orphans.size());
    orphans.forEach((cacheName, events) -> {
      writeName(out, cacheName);
      writeCount(out, events.size());
      events.forEach((copy, raised) -> {
        out.writeLong(copy.node());
        out.writeInt(copy.copy());
        out.writeLong(raised);
      });
    });
  }

  private Map<String, Map<CopyId, Long>> readOrphans(FrameReader in)
      throws MalformedMessageException {
    int count = readCount(in, 8);
    Map<String, Map<CopyId, Long>> orphans = new HashMap<>();
    for (int i = 0; i < count; i++) {
      String cacheName = readName(in);
      if (orphans.put(cacheName, readCopyEvents(in)) != null) {
        throw new MalformedMessageException("duplicate cache name in orphan events");
      }
    }
    return orphans;
  }

  private Map<CopyId, Long> readCopyEvents(FrameReader in) throws MalformedMessageException {
    int count = readCount(in, COPY_EVENT_BYTES);
    Map<CopyId, Long> events = new HashMap<>();
    for (int i = 0; i < count; i++) {
      long node = in.readLong();
      int copy = in.readInt();
      long raised = in.readLong();
      if (copy < 0 || raised < 0) {
        throw new MalformedMessageException("negative copy number or event count");
      }
      if (events.put(new CopyId(node, copy), raised) != null) {
        throw new MalformedMessageException("duplicate copy " + node + "/" + copy);
      }
    }
    return events;
  }

  private Map<Long, Long> readSeqMap(FrameReader in) throws MalformedMessageException {
    int count = readCount(in, 16);
    Map<Long, Long> map = new HashMap<>();
    for (int i = 0; i < count; i++) {
      long origin = in.readLong();
      long seq = in.readLong();
      if (seq < 0) {
        throw new MalformedMessageException("negative seq " + seq);
      }
      if (map.put(origin, seq) != null) {
        throw new MalformedMessageException("duplicate origin " + origin);
      }
    }
    return map;
  }

  private BacklogMiss readBacklogMiss(FrameReader in) throws MalformedMessageException {
    int count = readCount(in, 8);
    Set<Long> origins = new HashSet<>();
    for (int i = 0; i < count; i++) {
      if (!origins.add(in.readLong())) {
        throw new MalformedMessageException("duplicate origin");
      }
    }
    return new BacklogMiss(origins);
  }

  private SnapshotRequest readSnapshotRequest(FrameReader in) throws MalformedMessageException {
    long requestId = in.readLong();
    String cacheName = readNullableName(in);
    int count = readCount(in, 24);
    Map<Long, HlcRange> ranges = new HashMap<>();
    for (int i = 0; i < count; i++) {
      long origin = in.readLong();
      HlcRange range = new HlcRange(in.readLong(), in.readLong());
      if (ranges.put(origin, range) != null) {
        throw new MalformedMessageException("duplicate origin " + origin);
      }
    }
    return new SnapshotRequest(requestId, cacheName, ranges);
  }

  private SnapshotChunk readSnapshotChunk(FrameReader in) throws MalformedMessageException {
    long requestId = in.readLong();
    int index = readIndex(in);
    byte last = in.readByte();
    if (last != 0 && last != 1) {
      throw new MalformedMessageException("bad boolean " + last);
    }
    List<Change> changes = readChanges(in);
    int count = readCount(in, 24);
    Map<Long, Watermark> marks = new HashMap<>();
    for (int i = 0; i < count; i++) {
      long origin = in.readLong();
      long seq = in.readLong();
      long hlc = in.readLong();
      if (seq < 0) {
        throw new MalformedMessageException("negative seq " + seq);
      }
      if (marks.put(origin, new Watermark(seq, hlc)) != null) {
        throw new MalformedMessageException("duplicate origin " + origin);
      }
    }
    Map<String, Map<CopyId, Long>> orphans = readOrphans(in);
    Set<String> caches = readNameSet(in, "snapshot chunk");
    Map<Long, Long> newerThanAsked = readSeqMap(in);
    return new SnapshotChunk(requestId, index, changes, last == 1, marks, orphans, caches, newerThanAsked);
  }

  private static int readIndex(FrameReader in) throws MalformedMessageException {
    int index = in.readInt();
    if (index < 0) {
      throw new MalformedMessageException("negative chunk index " + index);
    }
    return index;
  }

  /** Reads an element count, bounded by the limits and by what the frame can still hold. */
  private int readCount(FrameReader in, int minElementBytes) throws MalformedMessageException {
    int count = in.readInt();
    if (count < 0 || count > limits.maxElements()
        || (long) count * minElementBytes > in.remaining()) {
      throw new MalformedMessageException("element count " + count + " out of range");
    }
    return count;
  }

  private static int readLength(FrameReader in, int max, String what)
      throws MalformedMessageException {
    int length = in.readInt();
    if (length < 0 || length > max) {
      throw new MalformedMessageException(what + " length " + length + " out of range");
    }
    return length;
  }

  private String readName(FrameReader in) throws MalformedMessageException {
    return decodeUtf8(in.readBytes(readLength(in, limits.maxCacheNameBytes(), "cache name")));
  }

  private String readNullableName(FrameReader in) throws MalformedMessageException {
    int length = in.readInt();
    if (length == -1) {
      return null;
    }
    if (length < 0 || length > limits.maxCacheNameBytes()) {
      throw new MalformedMessageException("cache name length " + length + " out of range");
    }
    return decodeUtf8(in.readBytes(length));
  }

  /** {@code text} in UTF-8, cut short (at a character, each at most 3 bytes) to fit {@code max}. */
  private static byte[] utf8Within(String text, int max) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    return bytes.length <= max ? bytes
        : text.substring(0, Math.min(text.length(), max / 3)).getBytes(StandardCharsets.UTF_8);
  }

  private static String decodeUtf8(byte[] bytes) throws MalformedMessageException {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new MalformedMessageException("cache name is not valid UTF-8");
    }
  }
}
