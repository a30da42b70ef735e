package io.bcache.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits the byte stream into frames: a 4-byte big-endian length, then that many bytes, emitted
 * as a retained slice of the receive buffer, not a copy; the handler that consumes a frame
 * releases it. A declared length above the limit fails the connection as soon as the
 * length is read, so a peer can never make this node allocate or buffer more than the limit.
 *
 * <p>Once the connection failed, nothing more is decoded: a read can hold several frames, and
 * those after the one that failed the connection must not reach the handshake or the listener
 * while the close is under way.
 *
 * <p>The limit starts at the size of a HELLO, so an unauthenticated peer can make this node hold
 * a few hundred bytes at most; the handshake raises it once the peer is verified.
 */
final class FrameDecoder extends ByteToMessageDecoder {

  static final int HEADER_BYTES = 4;

  private int maxFrameSize;
  private boolean failed;

  FrameDecoder(int maxFrameSize) {
    this.maxFrameSize = maxFrameSize;
  }

  void maxFrameSize(int bytes) {
    this.maxFrameSize = bytes;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (failed || ctx.channel().attr(ConnectionAttributes.FAILED).get() != null) {
      // the connection is closing; whatever else arrives is the same peer's
      in.skipBytes(in.readableBytes());
      return;
    }
    if (in.readableBytes() < HEADER_BYTES) {
      return;
    }
    int length = in.getInt(in.readerIndex());
    if (length < 0 || length > maxFrameSize) {
      failed = true;
      in.skipBytes(in.readableBytes());
      throw new ProtocolViolationException("frame declares " + Integer.toUnsignedLong(length)
          + " bytes, more than the limit of " + maxFrameSize);
    }
    if (in.readableBytes() < HEADER_BYTES + length) {
      return;
    }
    in.skipBytes(HEADER_BYTES);
    out.add(in.readRetainedSlice(length));
  }
}
