package io.bcache.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps an authenticated connection honest: sends an empty frame when this side has been quiet,
 * and closes the connection when the peer has been silent too long (dead, paused, or cut off
 * without a FIN), so the peer is reported disconnected instead of silently lost.
 */
final class Heartbeat extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(Heartbeat.class);
  static final byte[] EMPTY_FRAME = new byte[0];

  private final Duration idleTimeout;

  Heartbeat(Duration idleTimeout) {
    this.idleTimeout = idleTimeout;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (!(evt instanceof IdleStateEvent idle)) {
      ctx.fireUserEventTriggered(evt);
    } else if (idle.state() == IdleState.WRITER_IDLE) {
      ctx.writeAndFlush(EMPTY_FRAME, ctx.voidPromise());
    } else if (idle.state() == IdleState.READER_IDLE && ctx.channel().config().isAutoRead()) {
      // (a connection this node stopped reading, to catch up on what it sent, is silent by
      // choice: it is judged again once read, as the idle events keep coming)
      LOG.warn("closing connection {}: nothing received for {} ms",
          ConnectionAttributes.describe(ctx.channel()), idleTimeout.toMillis());
      ctx.close();
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf frame && !frame.isReadable()) {
      frame.release();
      return; // a heartbeat: its arrival was all it had to say
    }
    ctx.fireChannelRead(msg);
  }
}
