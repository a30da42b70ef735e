package io.bcache.transport;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Bounds the accepted connections still in their handshake, per remote address: a host that
 * opens connections and never completes them (a flood, or a stuck process) holds at most
 * {@link #MAX_PER_ADDRESS} of this node's sockets at a time, each for at most the handshake
 * timeout, so it cannot exhaust the node's file descriptors or crowd out real peers from other
 * hosts. A connection past the bound is closed at once; a peer redials with backoff. Connections
 * this node dials are not counted.
 */
final class HandshakeAdmission {

  /** Far above what a cluster's nodes on one host open at once (one per node and direction). */
  static final int MAX_PER_ADDRESS = 16;

  private static final AttributeKey<InetAddress> ADMITTED = AttributeKey.valueOf("bcache.admitted");

  private final ConcurrentMap<InetAddress, Integer> pending = new ConcurrentHashMap<>();

  /**
   * Counts {@code channel}, just accepted, against its remote address, until {@link #release} or
   * its close; false, counting nothing, if that address already has the most pending.
   */
  boolean admit(Channel channel) {
    InetAddress address = ((InetSocketAddress) channel.remoteAddress()).getAddress();
    boolean[] admitted = {false};
    pending.compute(address, (key, count) -> {
      int now = count == null ? 0 : count;
      if (now >= MAX_PER_ADDRESS) {
        return count;
      }
      admitted[0] = true;
      return now + 1;
    });
    if (admitted[0]) {
      channel.attr(ADMITTED).set(address);
      channel.closeFuture().addListener(closed -> release(channel));
    }
    return admitted[0];
  }

  /** The handshake of {@code channel} is over (done or failed); counted once whatever calls it. */
  void release(Channel channel) {
    InetAddress address = channel.attr(ADMITTED).getAndSet(null);
    if (address != null) {
      pending.computeIfPresent(address, (key, count) -> count == 1 ? null : count - 1);
    }
  }
}
