package io.bcache.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.MessageSizeEstimator;

/**
 * Sizes outbound messages for the write-buffer water marks. Netty's default counts a
 * {@code byte[]} as 8 bytes, so frames queued from other threads would not count towards the
 * high-water mark until encoded; this counts a frame as what it will take on the wire.
 */
final class FrameSizeEstimator implements MessageSizeEstimator {

  static final FrameSizeEstimator INSTANCE = new FrameSizeEstimator();

  private static final Handle HANDLE = msg -> {
    if (msg instanceof byte[] frame) {
      return FrameDecoder.HEADER_BYTES + frame.length;
    }
    if (msg instanceof ByteBuf buf) {
      return buf.readableBytes();
    }
    return 8;
  };

  private FrameSizeEstimator() {
  }

  @Override
  public Handle newHandle() {
    return HANDLE;
  }
}
