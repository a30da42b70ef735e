package io.bcache.replication;

/**
 * Upper bounds the {@link MessageCodec} enforces on what it encodes and decodes, so that a hostile
 * or corrupt frame can never make a node allocate more than the frame's own size.
 *
 * @param maxFrameBytes the largest frame accepted, matching the transport's frame limit
 * @param maxKeyBytes the largest serialized key
 * @param maxValueBytes the largest serialized value
 * @param maxCacheNameBytes the longest cache name, in UTF-8 bytes
 * @param maxElements the most elements in any one list, map or set of a message
 */
public record CodecLimits(int maxFrameBytes, int maxKeyBytes, int maxValueBytes,
    int maxCacheNameBytes, int maxElements) {

  /** 16 MiB frames, 64 KiB keys, 8 MiB values, 1 KiB names, 1 Mi elements. */
  public static final CodecLimits DEFAULT =
      new CodecLimits(16 << 20, 64 << 10, 8 << 20, 1 << 10, 1 << 20);

  public CodecLimits {
    if (maxFrameBytes < 64 || maxKeyBytes < 1 || maxValueBytes < 0 || maxCacheNameBytes < 1
        || maxElements < 1) {
      throw new IllegalArgumentException("limits too small: " + this);
    }
  }
}
