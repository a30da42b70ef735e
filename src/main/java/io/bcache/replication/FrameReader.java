package io.bcache.replication;

import java.util.Arrays;

/** Reads big-endian values from a frame, failing on truncation instead of running past its end. */
final class FrameReader {

  private final byte[] frame;
  private int pos;

  FrameReader(byte[] frame) {
    this.frame = frame;
  }

  int remaining() {
    return frame.length - pos;
  }

  byte readByte() throws MalformedMessageException {
    require(1);
    return frame[pos++];
  }

  int readInt() throws MalformedMessageException {
    require(4);
    int v = ((frame[pos] & 0xff) << 24) | ((frame[pos + 1] & 0xff) << 16)
        | ((frame[pos + 2] & 0xff) << 8) | (frame[pos + 3] & 0xff);
    pos += 4;
    return v;
  }

  long readLong() throws MalformedMessageException {
    long high = readInt() & 0xffffffffL;
    return (high << 32) | (readInt() & 0xffffffffL);
  }

  /** Reads {@code length} bytes; the caller has checked that {@code length} is not negative. */
  byte[] readBytes(int length) throws MalformedMessageException {
    require(length);
    byte[] bytes = Arrays.copyOfRange(frame, pos, pos + length);
    pos += length;
    return bytes;
  }

  private void require(int bytes) throws MalformedMessageException {
    if (bytes > frame.length - pos) {
      throw new MalformedMessageException("truncated: needed " + bytes + " bytes, "
          + (frame.length - pos) + " left");
    }
  }
}
