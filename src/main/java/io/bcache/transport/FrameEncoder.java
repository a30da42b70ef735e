package io.bcache.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

/** Writes a {@code byte[]} as one frame: its 4-byte big-endian length, then its bytes. */
@Sharable
final class FrameEncoder extends MessageToByteEncoder<byte[]> {

  static final FrameEncoder INSTANCE = new FrameEncoder();

  private FrameEncoder() {
    super(byte[].class);
  }

  @Override
  protected ByteBuf allocateBuffer(ChannelHandlerContext ctx, byte[] msg, boolean preferDirect) {
    return ctx.alloc().ioBuffer(FrameDecoder.HEADER_BYTES + msg.length);
  }

  @Override
  protected void encode(ChannelHandlerContext ctx, byte[] msg, ByteBuf out) {
    out.writeInt(msg.length).writeBytes(msg);
  }
}
