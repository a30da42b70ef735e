package io.bcache.transport;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the pipeline of every connection, dialed or accepted, and adds the connection to the
 * transport's channel group so that closing the transport reaches it even mid-handshake:
 *
 * <pre>
 *   (accepted connections past HandshakeAdmission's bound per address are closed at once)
 *   bytes      ByteCounter             counts wire bytes
 *   tls        SslHandler              mutual TLS, when configured
 *   frames     FrameDecoder            length-prefixed frames in, size-limited
 *   encoder    FrameEncoder            length-prefixed frames out
 *   flush      FlushConsolidation      batches the flushes of many small frames
 *   handshake  HandshakeHandler        replaced by idle + heartbeat once authenticated
 *   dispatch   FrameDispatcher         payload frames to the listener
 *   errors     ConnectionErrorHandler  any failure closes this connection only
 * </pre>
 */
final class PeerChannelInitializer extends ChannelInitializer<SocketChannel> {

  private static final Logger LOG = LoggerFactory.getLogger(PeerChannelInitializer.class);

  private final TransportConfig config;
  private final ChannelGroup channels;
  private final TransportListener listener;
  private final PeerConnections connections;
  private final TransportCounters counters;
  private final ByteCounter byteCounter;
  private final ConnectionErrorHandler errorHandler;
  private final HandshakeAdmission admission = new HandshakeAdmission();

  PeerChannelInitializer(TransportConfig config, ChannelGroup channels, TransportListener listener,
      PeerConnections connections, TransportCounters counters) {
    this.config = config;
    this.channels = channels;
    this.listener = listener;
    this.connections = connections;
    this.counters = counters;
    this.byteCounter = new ByteCounter(counters);
    this.errorHandler = new ConnectionErrorHandler(config.nodeId(), counters);
  }

  @Override
  protected void initChannel(SocketChannel channel) {
    // an accepted channel has the listening channel as its parent; a dialed one has none
    boolean dialed = channel.parent() == null;
    if (!dialed && !admission.admit(channel)) {
      counters.rejectedConnections.increment();
      LOG.debug("node {} closed connection from {}: {} handshakes from there are pending already",
          config.nodeName(), channel.remoteAddress(), HandshakeAdmission.MAX_PER_ADDRESS);
      channel.close();
      return;
    }
    channels.add(channel);
    FrameDecoder decoder = new FrameDecoder(Hello.MAX_BYTES);
    ChannelPipeline pipeline = channel.pipeline();
    pipeline.addLast("bytes", byteCounter);
    config.tls().ifPresent(tls -> pipeline.addLast("tls", tls.newHandler(dialed, config.handshakeTimeout())));
    pipeline.addLast("frames", decoder);
    pipeline.addLast("encoder", FrameEncoder.INSTANCE);
    pipeline.addLast("flush", new FlushConsolidationHandler(
        FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
    pipeline.addLast("handshake", new HandshakeHandler(config, connections, decoder, admission));
    pipeline.addLast("dispatch", new FrameDispatcher(listener, connections, counters));
    pipeline.addLast("errors", errorHandler);
  }
}
