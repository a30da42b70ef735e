package io.bcache.transport;

import io.netty.channel.Channel;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one authenticated connection per peer, and the rule that keeps it one.
 *
 * <p>When two connections to the same peer authenticate (both nodes dialed at once, or a peer
 * redialed while this node still holds the old connection), the node with the lower id decides
 * which one lives and tells the other side with an ACCEPT; the other side only ever activates a
 * connection it was told to. The decider keeps the connection it already has, unless the new one
 * was dialed by the same node as the old one: a node only redials when it believes its
 * connection is dead, so the new one replaces it.
 *
 * <p>Mutations run on the transport's single I/O thread; lookups are safe from any thread.
 */
final class PeerConnections {

  private static final Logger LOG = LoggerFactory.getLogger(PeerConnections.class);

  /** Told when a peer gains or loses its connection; called on the I/O thread. */
  interface Observer {
    void connected(long peerId);

    void lost(long peerId);
  }

  private final Map<Long, Channel> active = new ConcurrentHashMap<>();
  private final TransportListener listener;
  private Observer observer;
  private volatile boolean closing;

  PeerConnections(TransportListener listener) {
    this.listener = listener;
  }

  void observer(Observer observer) {
    this.observer = observer;
  }

  /** Whether the decider should keep a new connection to {@code peerId} dialed by {@code dialerId}. */
  boolean accepts(long peerId, long dialerId) {
    Channel current = active.get(peerId);
    return current == null || !current.isActive()
        || current.attr(ConnectionAttributes.DIALER_ID).get() == dialerId;
  }

  /** Makes {@code channel} the connection to {@code peerId}, replacing (and closing) any other. */
  void activate(Channel channel, long peerId) {
    Channel previous = active.put(peerId, channel);
    if (previous != null && previous != channel) {
      LOG.debug("connection {} replaces {}", ConnectionAttributes.describe(channel),
          ConnectionAttributes.describe(previous));
      previous.close();
      notifyDisconnected(peerId);
    }
    if (observer != null) {
      observer.connected(peerId);
    }
    if (!closing) {
      listener.peerConnected(peerId);
    }
  }

  /** Called when {@code channel} closed; reports the peer lost if it was its connection. */
  void deactivate(Channel channel) {
    Long peerId = channel.attr(ConnectionAttributes.PEER_ID).get();
    if (peerId != null && active.remove(peerId, channel)) {
      notifyDisconnected(peerId);
      if (observer != null) {
        observer.lost(peerId);
      }
    }
  }

  private void notifyDisconnected(long peerId) {
    if (!closing) {
      listener.peerDisconnected(peerId);
    }
  }

  /** Whether frames read from {@code channel} may reach the listener. */
  boolean isCurrent(long peerId, Channel channel) {
    return active.get(peerId) == channel;
  }

  /** The connection to {@code peerId}, or {@code null}. */
  Channel channel(long peerId) {
    return active.get(peerId);
  }

  boolean isConnected(long peerId) {
    Channel channel = active.get(peerId);
    return channel != null && channel.isActive();
  }

  Set<Long> peers() {
    return Set.copyOf(active.keySet());
  }

  /** From now on the listener hears nothing more: the transport is shutting down. */
  void startClosing() {
    closing = true;
  }
}
