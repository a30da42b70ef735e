package io.bcache.replication;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Reads big-endian values from a frame, failing on truncation instead of running past its end.
 * The frame is read in place (it may be a view of the transport's receive buffer); only the
 * byte arrays a message keeps are copied out of it.
 */
final class FrameReader {

  private final ByteBuffer frame;
  private final int end;
  private int pos;

  /** Reads the frame's remaining bytes, without moving its position. */
  FrameReader(ByteBuffer frame) {
    this.frame = frame.order() == ByteOrder.BIG_ENDIAN ? frame : frame.duplicate().order(ByteOrder.BIG_ENDIAN);
    this.pos = frame.position();
    this.end = frame.limit();
  }

  int remaining() {
    return end - pos;
  }

  byte readByte() throws MalformedMessageException {
    require(1);
    return frame.get(pos++);
  }

  int readInt() throws MalformedMessageException {
    require(4);
    int v = frame.getInt(pos);
    pos += 4;
    return v;
  }

  long readLong() throws MalformedMessageException {
    require(8);
    long v = frame.getLong(pos);
    pos += 8;
    return v;
  }

  /** Reads {@code length} bytes; the caller has checked that {@code length} is not negative. */
  byte[] readBytes(int length) throws MalformedMessageException {
    require(length);
    byte[] bytes = new byte[length];
    frame.get(pos, bytes);
    pos += length;
    return bytes;
  }

  private void require(int bytes) throws MalformedMessageException {
    if (bytes > end - pos) {
      throw new MalformedMessageException("truncated: needed " + bytes + " bytes, " + (end - pos) + " left");
    }
  }
}
