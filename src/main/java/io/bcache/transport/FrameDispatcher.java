package io.bcache.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Hands the payload frames of an authenticated connection to the {@link TransportListener}, and
 * reports the connection gone when it closes. Frames still in flight on a connection that was
 * replaced are dropped: the listener only hears from a peer's current connection.
 */
final class FrameDispatcher extends ChannelInboundHandlerAdapter {

  private final TransportListener listener;
  private final PeerConnections connections;
  private final TransportCounters counters;

  FrameDispatcher(TransportListener listener, PeerConnections connections, TransportCounters counters) {
    this.listener = listener;
    this.connections = connections;
    this.counters = counters;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf frame = (ByteBuf) msg;
    try {
      Channel channel = ctx.channel();
      Long peerId = channel.attr(ConnectionAttributes.PEER_ID).get();
      if (peerId == null || !connections.isCurrent(peerId, channel)) {
        return;
      }
      counters.framesReceived.increment();
      listener.frameReceived(peerId, frame.nioBuffer());
    } finally {
      frame.release();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    connections.deactivate(ctx.channel());
    ctx.fireChannelInactive();
  }
}
