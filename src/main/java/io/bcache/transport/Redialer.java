package io.bcache.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps dialing the peers this node was asked to connect to, with exponential backoff, until the
 * peer is connected (by either side's dial) or forgotten. Confined to the I/O thread.
 *
 * <p>The backoff starts over only when a connection that lasted is lost: one closed soon after
 * it was authenticated (a peer whose messages this node rejects, say) is redialed ever more
 * slowly, not ten times a second for as long as the fault lasts.
 */
final class Redialer implements PeerConnections.Observer {

  private static final Logger LOG = LoggerFactory.getLogger(Redialer.class);

  /** A peer to keep connected, and the state of dialing it. */
  private static final class Target {
    String host;
    int port;
    final Backoff backoff;
    ScheduledFuture<?> scheduled;
    Channel dialing;
    /** When the peer's current connection was authenticated; 0 while it has none. */
    long connectedAtNanos;

    Target(String host, int port, Backoff backoff) {
      this.host = host;
      this.port = port;
      this.backoff = backoff;
    }
  }

  private final Bootstrap bootstrap;
  private final EventLoop loop;
  private final PeerConnections connections;
  private final long backoffMinMillis;
  private final long backoffMaxMillis;
  /** How long a connection must last for its loss to start the backoff over. */
  private final long stableNanos;
  private final Map<Long, Target> targets = new HashMap<>();
  private boolean closed;

  Redialer(Bootstrap bootstrap, EventLoop loop, PeerConnections connections, TransportConfig config) {
    this.bootstrap = bootstrap;
    this.loop = loop;
    this.connections = connections;
    this.backoffMinMillis = config.reconnectBackoffMin().toMillis();
    this.backoffMaxMillis = config.reconnectBackoffMax().toMillis();
    this.stableNanos = config.heartbeatInterval().toNanos();
  }

  void connectTo(long peerId, String host, int port) {
    assert loop.inEventLoop();
    if (closed) {
      return;
    }
    Target target = targets.get(peerId);
    if (target == null) {
      target = new Target(host, port, new Backoff(backoffMinMillis, backoffMaxMillis));
      targets.put(peerId, target);
      dial(peerId, target);
    } else {
      // the next dial goes to the new address; a live connection stays as it is
      target.host = host;
      target.port = port;
    }
  }

  void forget(long peerId) {
    assert loop.inEventLoop();
    Target target = targets.remove(peerId);
    if (target != null) {
      cancel(target);
    }
    Channel channel = connections.channel(peerId);
    if (channel != null) {
      channel.close();
    }
  }

  void close() {
    assert loop.inEventLoop();
    closed = true;
    targets.values().forEach(Redialer::cancel);
    targets.clear();
  }

  @Override
  public void connected(long peerId) {
    Target target = targets.get(peerId);
    if (target != null) {
      target.connectedAtNanos = System.nanoTime();
    }
  }

  @Override
  public void lost(long peerId) {
    Target target = targets.get(peerId);
    if (target != null) {
      if (target.connectedAtNanos != 0 && System.nanoTime() - target.connectedAtNanos >= stableNanos) {
        target.backoff.reset();
      }
      target.connectedAtNanos = 0;
      scheduleDial(peerId, target);
    }
  }

  private void scheduleDial(long peerId, Target target) {
    if (closed || targets.get(peerId) != target || target.scheduled != null || target.dialing != null
        || connections.isConnected(peerId)) {
      return;
    }
    long delay = target.backoff.nextDelayMillis();
    LOG.debug("redialing node {} at {}:{} in {} ms", peerId, target.host, target.port, delay);
    target.scheduled = loop.schedule(() -> {
      target.scheduled = null;
      dial(peerId, target);
    }, delay, TimeUnit.MILLISECONDS);
  }

  private void dial(long peerId, Target target) {
    if (closed || targets.get(peerId) != target || connections.isConnected(peerId)) {
      return;
    }
    Channel channel = bootstrap.clone()
        .attr(ConnectionAttributes.DIALED_PEER, peerId)
        .connect(target.host, target.port)
        .addListener(f -> {
          if (!f.isSuccess()) {
            LOG.debug("dialing node {} at {}:{} failed: {}", peerId, target.host, target.port, f.cause().toString());
          }
        })
        .channel();
    target.dialing = channel;
    // a failed connect closes the channel too: one place decides whether to dial again
    channel.closeFuture().addListener(f -> {
      if (target.dialing == channel) {
        target.dialing = null;
      }
      scheduleDial(peerId, target);
    });
  }

  private static void cancel(Target target) {
    if (target.scheduled != null) {
      target.scheduled.cancel(false);
      target.scheduled = null;
    }
    if (target.dialing != null) {
      target.dialing.close();
      target.dialing = null;
    }
  }
}
