package io.bcache.transport;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.NotSslRecordException;
import java.io.IOException;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Last in the pipeline: whatever went wrong on a connection closes that connection and nothing
 * else. A protocol violation, a frame the listener rejected or a failed TLS handshake is logged
 * as one line; a broken socket is routine and logged at debug; anything else is a bug and logged
 * with its stack trace.
 */
@Sharable
final class ConnectionErrorHandler extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(ConnectionErrorHandler.class);

  private final String nodeName;
  private final TransportCounters counters;

  ConnectionErrorHandler(long nodeId, TransportCounters counters) {
    this.nodeName = TransportConfig.nodeName(nodeId);
    this.counters = counters;
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (ctx.channel().attr(ConnectionAttributes.FAILED).setIfAbsent(Boolean.TRUE) != null) {
      return; // the first failure already closed it; the rest are echoes
    }
    String connection = ConnectionAttributes.describe(ctx.channel());
    RuntimeException violation = rejectionIn(cause);
    SSLException tls = causeOfType(cause, SSLException.class);
    if (violation != null) {
      counters.rejectedConnections.increment();
      LOG.warn("node {} rejected connection {}: {}", nodeName, connection, violation.getMessage());
    } else if (tls != null) {
      // not TLS, a certificate the trust store does not lead to, no certificate at all
      counters.rejectedConnections.increment();
      // Netty's message for bytes that are not TLS dumps them all
      String reason = tls instanceof NotSslRecordException ? "the peer does not speak TLS" : tls.getMessage();
      LOG.warn("node {} rejected connection {}: TLS failed: {}", nodeName, connection, reason);
    } else if (cause instanceof IOException) {
      LOG.debug("node {}: connection {} broke: {}", nodeName, connection, cause.toString());
    } else {
      counters.rejectedConnections.increment();
      LOG.warn("node {} closed connection {} after an unexpected error", nodeName, connection, cause);
    }
    ctx.close();
  }

  /** The peer's fault in {@code cause}, if it is one: broken protocol, or a frame the listener refused. */
  private static RuntimeException rejectionIn(Throwable cause) {
    RuntimeException violation = causeOfType(cause, ProtocolViolationException.class);
    return violation != null ? violation : causeOfType(cause, FrameRejectedException.class);
  }

  private static <T extends Throwable> T causeOfType(Throwable cause, Class<T> type) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }
}
