package io.bcache.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

/** Counts the bytes that cross the socket in each direction; first in the pipeline. */
@Sharable
final class ByteCounter extends ChannelDuplexHandler {

  private final TransportCounters counters;

  ByteCounter(TransportCounters counters) {
    this.counters = counters;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf buf) {
      counters.bytesReceived.add(buf.readableBytes());
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof ByteBuf buf) {
      counters.bytesSent.add(buf.readableBytes());
    }
    ctx.write(msg, promise);
  }
}
