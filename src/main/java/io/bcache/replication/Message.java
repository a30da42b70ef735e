package io.bcache.replication;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What replication cores say to each other. Encoded by {@link MessageCodec}; the transport carries
 * the bytes between authenticated peers.
 *
 * <p>The protocol is pull-based for repairs: each side periodically sends a {@link Digest}, and a
 * side that sees it lacks changes asks for them ({@link BacklogRequest}), falling back to a
 * {@link SnapshotRequest} when the peer's backlog no longer covers the gap ({@link BacklogMiss}).
 */
public sealed interface Message {

  /** Changes in origin-seq order per origin: the live stream, or the answer to a backlog request. */
  record ChangeBatch(List<Change> changes) implements Message {
    public ChangeBatch {
      changes = List.copyOf(changes);
    }
  }

  /**
   * The sender's contiguous version vector (origin to highest seq applied without gaps), the
   * caches it has complete, and the orphan events whose orphans each of them holds (cache name to
   * node id to count, see {@link ReplicationCore}). Sent periodically and when a connection
   * comes up.
   */
  record Digest(Map<Long, Long> versions, Set<String> cacheNames,
      Map<String, Map<CopyId, Long>> orphans) implements Message {
    public Digest {
      versions = Sorted.copyOf(versions);
      cacheNames = Sorted.copyOf(cacheNames);
      orphans = Sorted.copyOfNested(orphans);
    }

    public Digest(Map<Long, Long> versions, Set<String> cacheNames) {
      this(versions, cacheNames, Map.of());
    }
  }

  /**
   * Asks for every change of each origin from the given seq on, from the receiver's backlog. The
   * receiver answers with change batches, a {@link BacklogMiss} for the origins its backlog does
   * not cover, then its {@link Digest} so the requester knows whether to ask again.
   */
  record BacklogRequest(Map<Long, Long> fromSeq) implements Message {
    public BacklogRequest {
      fromSeq = Sorted.copyOf(fromSeq);
    }
  }

  /** The origins whose requested range the sender's backlog no longer holds. */
  record BacklogMiss(Set<Long> origins) implements Message {
    public BacklogMiss {
      origins = Sorted.copyOf(origins);
    }
  }

  /**
   * Asks for a snapshot of one cache ({@code cacheName}) or of every cache ({@code null}),
   * restricted per origin to the versions in {@code ranges}. For a full snapshot an origin not in
   * {@code ranges} is sent whole; for a one-cache snapshot it is not sent at all.
   */
  record SnapshotRequest(long requestId, String cacheName, Map<Long, HlcRange> ranges)
      implements Message {
    public SnapshotRequest {
      ranges = Sorted.copyOf(ranges);
    }

    public boolean isFull() {
      return cacheName == null;
    }
  }

  /**
   * One chunk of a snapshot, numbered from 0. The last chunk carries the watermarks the sender
   * had when the snapshot started: every change up to them is reflected in the snapshot; the
   * orphan events it had incorporated then (see {@link ReplicationCore}); for a full snapshot,
   * the caches it held, which are the caches it had when it started; and for a one-cache
   * snapshot, per origin, the newest version within the watermarks that it left out as not asked
   * for (newer than the range asked, or of an origin not asked), which may have replaced a
   * version that was.
   */
  record SnapshotChunk(long requestId, int index, List<Change> changes, boolean last,
      Map<Long, Watermark> watermarks, Map<String, Map<CopyId, Long>> orphans, Set<String> caches,
      Map<Long, Long> newerThanAsked) implements Message {
    public SnapshotChunk {
      changes = List.copyOf(changes);
      watermarks = Sorted.copyOf(watermarks);
      orphans = Sorted.copyOfNested(orphans);
      caches = Sorted.copyOf(caches);
      newerThanAsked = Sorted.copyOf(newerThanAsked);
    }

    public SnapshotChunk(long requestId, int index, List<Change> changes, boolean last,
        Map<Long, Watermark> watermarks, Map<String, Map<CopyId, Long>> orphans, Set<String> caches) {
      this(requestId, index, changes, last, watermarks, orphans, caches, Map.of());
    }

    public SnapshotChunk(long requestId, int index, List<Change> changes, boolean last,
        Map<Long, Watermark> watermarks, Map<String, Map<CopyId, Long>> orphans) {
      this(requestId, index, changes, last, watermarks, orphans, Set.of());
    }

    public SnapshotChunk(long requestId, int index, List<Change> changes, boolean last,
        Map<Long, Watermark> watermarks) {
      this(requestId, index, changes, last, watermarks, Map.of());
    }
  }

  /** Cumulative acknowledgement: every chunk before {@code nextIndex} was received in order. */
  record SnapshotAck(long requestId, int nextIndex) implements Message {
  }

  /** The sender will not serve (or stopped serving) that snapshot; ask again later or elsewhere. */
  record SnapshotRefused(long requestId) implements Message {
  }

  /** Asks the receiver, the owner of {@code key}, to load it for the sender (cluster-wide loads). */
  record LoadRequest(long requestId, String cacheName, byte[] key) implements Message {
    public LoadRequest {
      Objects.requireNonNull(cacheName, "cacheName");
      if (key.length == 0) {
        throw new IllegalArgumentException("empty key");
      }
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof LoadRequest r && requestId == r.requestId && cacheName.equals(r.cacheName)
          && Arrays.equals(key, r.key);
    }

    @Override
    public int hashCode() {
      return Long.hashCode(requestId) * 31 + Arrays.hashCode(key);
    }

    @Override
    public String toString() {
      return "LoadRequest[" + requestId + " " + cacheName + " key=" + key.length + "B]";
    }
  }

  /** The owner's answer to a {@link LoadRequest}. */
  record LoadResponse(long requestId, LoadResult result) implements Message {
    public LoadResponse {
      Objects.requireNonNull(result, "result");
    }
  }
}
