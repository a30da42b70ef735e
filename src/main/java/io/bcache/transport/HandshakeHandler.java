package io.bcache.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateHandler;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticates a new connection before anything else may use it, then steps aside.
 *
 * <p>Both sides send a {@link Hello} and check the other's; with a secret, the side that dialed
 * sends its {@link Proof} and the side that accepted answers with its own only once it has
 * verified the dialer's. Were both to prove on demand, a stranger could connect to two nodes,
 * hand each the other's HELLO and relay their proofs, and so pass as either. The side with the
 * lower node id then decides whether this connection is the one to keep (see
 * {@link PeerConnections}) and, if so, sends {@link #ACCEPT}; the higher side waits for it.
 * Only then is the peer reported connected and payload frames let through. Anything else, or
 * nothing within the handshake timeout, fails the connection.
 */
final class HandshakeHandler extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(HandshakeHandler.class);

  /** The frame the deciding side sends to keep a connection: ASCII "BCOK". */
  static final byte[] ACCEPT = {'B', 'C', 'O', 'K'};

  private static final SecureRandom RANDOM = new SecureRandom();

  private enum Step { HELLO, PROOF, ACCEPT }

  private final TransportConfig config;
  private final PeerConnections connections;
  private final FrameDecoder decoder;
  private final HandshakeAdmission admission;
  private final byte[] nonce = new byte[Hello.NONCE_BYTES];
  private Step step = Step.HELLO;
  private Hello peer;
  private ScheduledFuture<?> timeout;

  HandshakeHandler(TransportConfig config, PeerConnections connections, FrameDecoder decoder,
      HandshakeAdmission admission) {
    this.config = config;
    this.admission = admission;
    this.connections = connections;
    this.decoder = decoder;
    RANDOM.nextBytes(nonce);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    long millis = config.handshakeTimeout().toMillis();
    timeout = ctx.executor().schedule(() -> ctx.fireExceptionCaught(
        new ProtocolViolationException("no handshake within " + millis + " ms")), millis, TimeUnit.MILLISECONDS);
    Long dialed = ctx.channel().attr(ConnectionAttributes.DIALED_PEER).get();
    ctx.writeAndFlush(new Hello(Hello.PROTOCOL_VERSION, config.hasSecret(), config.clusterName(),
        config.nodeId(), dialed == null ? 0 : dialed, nonce).encode());
    ctx.fireChannelActive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cancelTimeout();
    admission.release(ctx.channel()); // authenticated, or closing
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cancelTimeout();
    LOG.debug("connection {} closed during the handshake", ConnectionAttributes.describe(ctx.channel()));
    ctx.fireChannelInactive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf buf = (ByteBuf) msg;
    byte[] frame; // a few dozen bytes at most before authentication: copied out and released
    try {
      frame = ByteBufUtil.getBytes(buf);
    } finally {
      buf.release();
    }
    switch (step) {
      case HELLO -> onHello(ctx, frame);
      case PROOF -> onProof(ctx, frame);
      case ACCEPT -> onAccept(ctx, frame);
      default -> throw new AssertionError(step);
    }
  }

  private void onHello(ChannelHandlerContext ctx, byte[] frame) {
    Hello hello = Hello.decode(frame);
    if (hello.version() != Hello.PROTOCOL_VERSION) {
      throw new ProtocolViolationException("peer speaks protocol version " + hello.version()
          + ", this node speaks " + Hello.PROTOCOL_VERSION);
    }
    if (!hello.clusterName().equals(config.clusterName())) {
      throw new ProtocolViolationException("peer is in cluster '" + printable(hello.clusterName())
          + "', this node is in '" + config.clusterName() + "'");
    }
    if (hello.nodeId() == config.nodeId()) {
      throw new ProtocolViolationException("peer claims this node's own id " + config.nodeName());
    }
    Long dialed = ctx.channel().attr(ConnectionAttributes.DIALED_PEER).get();
    long meant = dialed != null ? dialed : hello.addressee(); // 0: a dialer that did not say
    long reached = dialed != null ? hello.nodeId() : config.nodeId();
    if (meant != 0 && meant != reached) {
      // routine, not a misconfigured peer: the node dialed is gone (crashed, restarted with a new
      // id) and another took its address; the membership soon stops the redials. Both ends
      // close: the one dialed must not let this connection replace a live one to the dialer
      LOG.info("node {}: connection {} was dialed to reach node {} at this address, where node {} is now",
          config.nodeName(), ConnectionAttributes.describe(ctx.channel()), TransportConfig.nodeName(meant),
          TransportConfig.nodeName(reached));
      ctx.channel().attr(ConnectionAttributes.FAILED).set(Boolean.TRUE);
      ctx.close();
      return;
    }
    if (hello.hasSecret() != config.hasSecret()) {
      throw new ProtocolViolationException(config.hasSecret()
          ? "peer has no secret, this node requires one"
          : "peer requires a secret, this node has none");
    }
    peer = hello;
    ctx.channel().attr(ConnectionAttributes.PEER_ID).set(hello.nodeId());
    if (!config.hasSecret()) {
      verified(ctx);
      return;
    }
    step = Step.PROOF;
    if (ConnectionAttributes.dialedByThisNode(ctx.channel())) {
      ctx.writeAndFlush(ownProof(Proof.Role.DIALER));
    }
  }

  private void onProof(ChannelHandlerContext ctx, byte[] frame) {
    if (frame.length != Proof.BYTES) {
      throw new ProtocolViolationException("malformed PROOF of " + frame.length + " bytes");
    }
    boolean dialer = ConnectionAttributes.dialedByThisNode(ctx.channel());
    byte[] expected = Proof.compute(config.secretBytes(), dialer ? Proof.Role.ACCEPTOR : Proof.Role.DIALER,
        config.clusterName(), peer.nodeId(), peer.nonce(), nonce, config.nodeId());
    if (!Proof.matches(expected, frame)) {
      throw new ProtocolViolationException("proof failed: the peer does not know the secret");
    }
    if (!dialer) {
      ctx.writeAndFlush(ownProof(Proof.Role.ACCEPTOR));
    }
    verified(ctx);
  }

  private byte[] ownProof(Proof.Role role) {
    return Proof.compute(config.secretBytes(), role, config.clusterName(), config.nodeId(), nonce, peer.nonce(),
        peer.nodeId());
  }

  private void verified(ChannelHandlerContext ctx) {
    Channel channel = ctx.channel();
    long peerId = peer.nodeId();
    long dialerId = ConnectionAttributes.dialedByThisNode(channel) ? config.nodeId() : peerId;
    channel.attr(ConnectionAttributes.DIALER_ID).set(dialerId);
    if (config.nodeId() > peerId) {
      step = Step.ACCEPT;
      return;
    }
    if (!connections.accepts(peerId, dialerId)) {
      LOG.debug("closing duplicate connection {}: node {} is already connected",
          ConnectionAttributes.describe(channel), peerId);
      ctx.close();
      return;
    }
    ctx.writeAndFlush(ACCEPT);
    complete(ctx);
  }

  private void onAccept(ChannelHandlerContext ctx, byte[] frame) {
    if (!Arrays.equals(frame, ACCEPT)) {
      throw new ProtocolViolationException("expected ACCEPT, got a frame of " + frame.length + " bytes");
    }
    complete(ctx);
  }

  private void complete(ChannelHandlerContext ctx) {
    cancelTimeout();
    decoder.maxFrameSize(config.maxFrameSize());
    ctx.pipeline().replace(this, "idle", new IdleStateHandler(config.idleTimeout().toMillis(),
        config.heartbeatInterval().toMillis(), 0, TimeUnit.MILLISECONDS));
    ctx.pipeline().addAfter("idle", "heartbeat", new Heartbeat(config.idleTimeout()));
    LOG.debug("authenticated connection {}", ConnectionAttributes.describe(ctx.channel()));
    connections.activate(ctx.channel(), peer.nodeId());
  }

  /** {@code text} from an unauthenticated peer, with control characters escaped: one log line. */
  static String printable(String text) {
    StringBuilder out = new StringBuilder(text.length());
    text.codePoints().forEach(c -> {
      if (Character.isISOControl(c) || c == 0x2028 || c == 0x2029) {
        out.append(String.format(Locale.ROOT, "\\u%04x", c));
      } else {
        out.appendCodePoint(c);
      }
    });
    return out.toString();
  }

  private void cancelTimeout() {
    if (timeout != null) {
      timeout.cancel(false);
      timeout = null;
    }
  }
}
