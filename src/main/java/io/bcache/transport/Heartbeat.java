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
  /**
   * Whether the last idle check found the connection not being read: the first check after
   * reading resumes may come before what waited in the socket is read, and is not held against
   * the peer (it gets a whole timeout from there).
   */
  private boolean notReadAtLastCheck;

  Heartbeat(Duration idleTimeout) {
    this.idleTimeout = idleTimeout;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (!(evt instanceof IdleStateEvent idle)) {
      ctx.fireUserEventTriggered(evt);
    } else if (idle.state() == IdleState.WRITER_IDLE) {
      ctx.writeAndFlush(EMPTY_FRAME, ctx.voidPromise());
    } else if (idle.state() == IdleState.READER_IDLE) {
      // a connection this node stopped reading, to catch up on what it sent, is silent by
      // choice: it is judged again once read, as the idle events keep coming
      boolean notRead = !ctx.channel().config().isAutoRead();
      boolean justResumed = notReadAtLastCheck;
      notReadAtLastCheck = notRead;
      if (!notRead && !justResumed) {
        LOG.warn("closing connection {}: nothing received for {} ms",
            ConnectionAttributes.describe(ctx.channel()), idleTimeout.toMillis());
        ctx.close();
      }
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    notReadAtLastCheck = false;
    if (msg instanceof ByteBuf frame && !frame.isReadable()) {
      frame.release();
      return; // a heartbeat: its arrival was all it had to say
    }
    ctx.fireChannelRead(msg);
  }
}
