package io.bcache.replication;

import java.util.Arrays;

/** A growable big-endian byte sink that refuses to grow past a frame limit. */
final class FrameWriter {

  private final int maxBytes;
  private byte[] buf = new byte[256];
  private int size;

  FrameWriter(int maxBytes) {
    this.maxBytes = maxBytes;
  }

  void writeByte(int b) {
    ensure(1);
    buf[size++] = (byte) b;
  }

  void writeInt(int v) {
    ensure(4);
    buf[size++] = (byte) (v >>> 24);
    buf[size++] = (byte) (v >>> 16);
    buf[size++] = (byte) (v >>> 8);
    buf[size++] = (byte) v;
  }

  void writeLong(long v) {
    writeInt((int) (v >>> 32));
    writeInt((int) v);
  }

  void writeBytes(byte[] bytes) {
    ensure(bytes.length);
    System.arraycopy(bytes, 0, buf, size, bytes.length);
    size += bytes.length;
  }

  /** The bytes written; the writer's own array when it was sized exactly, so it is done after this. */
  byte[] toByteArray() {
    return size == buf.length ? buf : Arrays.copyOf(buf, size);
  }

  /**
   * Makes room for {@code more} bytes at once, so that a message whose size is known is written
   * without growing the array step by step. Beyond the frame limit it does nothing: the writes
   * that follow fail with the limit's message.
   */
  void reserve(long more) {
    long needed = size + more;
    if (needed > buf.length && needed <= maxBytes) {
      buf = Arrays.copyOf(buf, (int) needed);
    }
  }

  private void ensure(int more) {
    long needed = (long) size + more;
    if (needed > maxBytes) {
      throw new IllegalArgumentException("message exceeds the frame limit of " + maxBytes + " bytes");
    }
    if (needed > buf.length) {
      buf = Arrays.copyOf(buf, (int) Math.min(maxBytes, Math.max(needed, 2L * buf.length)));
    }
  }
}
