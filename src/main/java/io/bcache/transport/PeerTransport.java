package io.bcache.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves authenticated, length-framed payloads between the nodes of one cluster over TCP: it
 * sends {@code byte[]}s and hands what arrives to its {@link TransportListener} as a view of
 * the receive buffer. It knows nothing of what the payloads mean.
 *
 * <p>It listens for peers and keeps a connection to each peer it is told about, redialing with
 * exponential backoff until told to {@link #forget} it. Each pair of nodes shares exactly one
 * connection, whichever side dialed. A connection carries payloads only after both sides proved
 * they belong to the same cluster (and, with a secret, that they know it); a peer that breaks
 * the protocol loses its connection and nothing else.
 *
 * <p>{@link #send} never blocks and never queues without bound: when a peer cannot keep up, it
 * returns {@code false} and the caller should treat the peer as needing a resync.
 *
 * <p>All network work and every {@link TransportListener} call run on one I/O thread,
 * {@code bcache-transport-<nodeId>-io}, which {@link #executor()} also offers to the user of the
 * transport; connections are accepted on {@code bcache-transport-<nodeId>-accept}. Both are
 * daemon threads. Other methods are thread-safe.
 */
public final class PeerTransport implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PeerTransport.class);

  private enum State { NEW, STARTED, CLOSED }

  private final TransportConfig config;
  private final TransportCounters counters = new TransportCounters();
  private final PeerConnections connections;
  private final TransportListener listener;
  private State state = State.NEW;
  private EventLoopGroup acceptGroup;
  private final EventLoopGroup ioGroup;
  private final EventLoop ioLoop;
  private ChannelGroup channels;
  private Channel serverChannel;
  private Redialer redialer;

  public PeerTransport(TransportConfig config, TransportListener listener) {
    this.config = Objects.requireNonNull(config, "config");
    this.listener = Objects.requireNonNull(listener, "listener");
    this.connections = new PeerConnections(listener);
    // created now (its thread starts with its first task) so that the executor exists before start
    this.ioGroup = new NioEventLoopGroup(1, new TransportThreads(config.nodeId(), "io"));
    this.ioLoop = ioGroup.next();
  }

  /**
   * The I/O thread, as an executor: a task run there is ordered with every listener call and
   * never races one. A caller that keeps its state on this thread needs no locks and no thread
   * hand-off between a frame arriving and its answer being written. Tasks must not block.
   * Usable from construction until {@link #close()}.
   */
  public ScheduledExecutorService executor() {
    return ioLoop;
  }

  /**
   * Binds the listening socket and starts the I/O threads.
   *
   * @return the address bound, with the actual port when the configured port was 0
   * @throws IllegalStateException if already started or closed
   * @throws UncheckedIOException if the address cannot be bound
   */
  public synchronized InetSocketAddress start() {
    if (state != State.NEW) {
      throw new IllegalStateException("transport " + state.name().toLowerCase(Locale.ROOT));
    }
    acceptGroup = new NioEventLoopGroup(1, new TransportThreads(config.nodeId(), "accept"));
    channels = new DefaultChannelGroup("bcache-transport-" + config.nodeId(), ioLoop);
    PeerChannelInitializer initializer = new PeerChannelInitializer(config, channels, listener, connections, counters);
    WriteBufferWaterMark waterMark =
        new WriteBufferWaterMark(config.writeHighWaterMark() / 2, config.writeHighWaterMark());
    Bootstrap dialer = new Bootstrap()
        .group(ioGroup)
        .channel(NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.handshakeTimeout().toMillis())
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
        .option(ChannelOption.MESSAGE_SIZE_ESTIMATOR, FrameSizeEstimator.INSTANCE)
        .handler(initializer);
    redialer = new Redialer(dialer, ioLoop, connections, config);
    connections.observer(redialer);
    ServerBootstrap server = new ServerBootstrap()
        .group(acceptGroup, ioGroup)
        .channel(NioServerSocketChannel.class)
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
        .childOption(ChannelOption.MESSAGE_SIZE_ESTIMATOR, FrameSizeEstimator.INSTANCE)
        .childHandler(initializer);
    ChannelFuture bound = server.bind(config.bindHost(), config.bindPort()).awaitUninterruptibly();
    if (!bound.isSuccess()) {
      shutDownThreads();
      state = State.CLOSED;
      throw new UncheckedIOException("cannot listen for peers on " + config.bindHost() + ":" + config.bindPort()
          + ": " + bound.cause().getMessage(), asIoException(bound.cause()));
    }
    serverChannel = bound.channel();
    state = State.STARTED;
    InetSocketAddress address = (InetSocketAddress) serverChannel.localAddress();
    LOG.info("node {} listening for peers of cluster '{}' on {}{}{}", config.nodeName(), config.clusterName(),
        address, config.hasSecret() ? " (secret required)" : "", config.tls().isPresent() ? " (TLS)" : "");
    return address;
  }

  /**
   * Keeps a connection to {@code peerId} at {@code host:port}: dials now, and again with backoff
   * after every failure or disconnect, until {@link #forget(long) forgotten}. Calling it again
   * for a known peer only changes the address of the next dial.
   *
   * @throws IllegalStateException if the transport is not started
   * @throws IllegalArgumentException if {@code peerId} is this node's own id, or the port is
   *     not 1 to 65535
   */
  public void connectTo(long peerId, String host, int port) {
    Objects.requireNonNull(host, "host");
    if (peerId == config.nodeId()) {
      throw new IllegalArgumentException("cannot connect to this node's own id " + peerId);
    }
    if (port <= 0 || port > 65_535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
    EventLoop loop = startedLoop();
    loop.execute(() -> redialer.connectTo(peerId, host, port));
  }

  /** Stops redialing {@code peerId} and closes its connection, if any. */
  public void forget(long peerId) {
    EventLoop loop;
    synchronized (this) {
      if (state != State.STARTED) {
        return;
      }
      loop = ioLoop;
    }
    loop.execute(() -> redialer.forget(peerId));
  }

  /**
   * Queues {@code payload} for {@code peerId} and returns at once. The transport may read the
   * array after this returns: do not change it.
   *
   * @return {@code false}, and nothing queued, when there is no authenticated connection to the
   *     peer or when more than the write high-water mark is already queued for it (the peer is
   *     slow); {@code true} when queued, which does not mean delivered
   * @throws IllegalArgumentException if the payload is empty or larger than the max frame size
   */
  public boolean send(long peerId, byte[] payload) {
    if (payload.length == 0 || payload.length > config.maxFrameSize()) {
      throw new IllegalArgumentException("payload of " + payload.length + " bytes; must be 1 to "
          + config.maxFrameSize());
    }
    Channel channel = connections.channel(peerId);
    if (channel == null || !channel.isActive() || !channel.isWritable()) {
      return false;
    }
    channel.writeAndFlush(payload, channel.voidPromise());
    counters.framesSent.increment();
    return true;
  }

  /**
   * Stops or resumes reading from {@code peerId}'s connection: for a listener that takes frames in
   * faster than it acts on them, so that TCP pushes back on the peer instead of frames piling up
   * here. A new connection to the peer starts out reading. Call on {@link #executor()}.
   */
  public void readFrom(long peerId, boolean reading) {
    Channel channel = connections.channel(peerId);
    if (channel != null) {
      channel.config().setAutoRead(reading);
    }
  }

  /** Whether an authenticated connection to {@code peerId} is open. */
  public boolean isConnected(long peerId) {
    return connections.isConnected(peerId);
  }

  /** The peers with an authenticated connection, as of now. */
  public Set<Long> connectedPeers() {
    return connections.peers();
  }

  /** This node's counters, for metrics. */
  public TransportStats stats() {
    return counters.snapshot();
  }

  /** The configuration this transport runs with. */
  public TransportConfig config() {
    return config;
  }

  /**
   * Closes every connection and the listening socket and stops the threads. Frames already
   * accepted by {@link #send} get up to the configured close timeout to be written. The listener
   * hears nothing more once this starts. Idempotent; must not be called from a listener.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (state != State.STARTED) {
        if (state == State.NEW) {
          ioGroup.shutdownGracefully(0, config.closeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        }
        state = State.CLOSED;
        return;
      }
      if (ioLoop.inEventLoop()) {
        throw new IllegalStateException("close() must not be called from the transport's I/O thread");
      }
      state = State.CLOSED;
    }
    connections.startClosing();
    long deadline = System.nanoTime() + config.closeTimeout().toNanos();
    serverChannel.close().awaitUninterruptibly(remainingMillis(deadline));
    ioLoop.submit(redialer::close).awaitUninterruptibly(remainingMillis(deadline));
    flushAll(deadline);
    channels.close().awaitUninterruptibly(remainingMillis(deadline));
    shutDownThreads();
    LOG.info("node {} transport closed", config.nodeName());
  }

  /** Waits, until the deadline, for every queued frame to be written. */
  private void flushAll(long deadline) {
    List<ChannelFuture> flushed = new ArrayList<>();
    for (Channel channel : channels) {
      // completes after everything written before it: the write queue is FIFO
      flushed.add(channel.writeAndFlush(Unpooled.EMPTY_BUFFER));
    }
    for (ChannelFuture future : flushed) {
      if (!future.awaitUninterruptibly(remainingMillis(deadline))) {
        LOG.warn("node {}: frames to {} not written within the close timeout", config.nodeName(),
            ConnectionAttributes.describe(future.channel()));
      }
    }
  }

  private void shutDownThreads() {
    long quietMillis = 0;
    long timeoutMillis = config.closeTimeout().toMillis();
    acceptGroup.shutdownGracefully(quietMillis, timeoutMillis, TimeUnit.MILLISECONDS);
    ioGroup.shutdownGracefully(quietMillis, timeoutMillis, TimeUnit.MILLISECONDS);
    acceptGroup.terminationFuture().awaitUninterruptibly(timeoutMillis);
    ioGroup.terminationFuture().awaitUninterruptibly(timeoutMillis);
  }

  private synchronized EventLoop startedLoop() {
    if (state != State.STARTED) {
      throw new IllegalStateException("transport is " + state.name().toLowerCase(Locale.ROOT));
    }
    return ioLoop;
  }

  private static long remainingMillis(long deadlineNanos) {
    return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
  }

  private static IOException asIoException(Throwable cause) {
    return cause instanceof IOException io ? io : new IOException(cause);
  }
}
