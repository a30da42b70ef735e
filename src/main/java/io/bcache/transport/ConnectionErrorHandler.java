package io.bcache.transport;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Last in the pipeline: whatever went wrong on a connection closes that connection and nothing
 * else. A protocol violation is logged as one line; a broken socket is routine and logged at
 * debug; anything else is a bug and logged with its stack trace.
 */
@Sharable
final class ConnectionErrorHandler extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(ConnectionErrorHandler.class);
  private static final AttributeKey<Boolean> FAILED = AttributeKey.valueOf("bcache.failed");

  private final long nodeId;
  private final TransportCounters counters;

  ConnectionErrorHandler(long nodeId, TransportCounters counters) {
    this.nodeId = nodeId;
    this.counters = counters;
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (ctx.channel().attr(FAILED).setIfAbsent(Boolean.TRUE) != null) {
      return; // the first failure already closed it; the rest are echoes
    }
    String connection = ConnectionAttributes.describe(ctx.channel());
    ProtocolViolationException violation = violation(cause);
    if (violation != null) {
      counters.rejectedConnections.increment();
      LOG.warn("node {} rejected connection {}: {}", nodeId, connection, violation.getMessage());
    } else if (cause instanceof IOException) {
      LOG.debug("node {}: connection {} broke: {}", nodeId, connection, cause.toString());
    } else {
      counters.rejectedConnections.increment();
      LOG.warn("node {} closed connection {} after an unexpected error", nodeId, connection, cause);
    }
    ctx.close();
  }

  private static ProtocolViolationException violation(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof ProtocolViolationException violation) {
        return violation;
      }
    }
    return null;
  }
}
