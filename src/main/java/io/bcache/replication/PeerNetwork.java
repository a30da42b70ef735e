package io.bcache.replication;

/**
 * Sends messages to connected peers on behalf of the core: the transport in production (which
 * encodes with {@link MessageCodec}), a simulated network in tests.
 *
 * <p>Delivery is best effort: a message accepted here may still be lost with its connection, and
 * the core repairs such losses through anti-entropy.
 */
@FunctionalInterface
public interface PeerNetwork {

  /**
   * Hands a message to the peer's connection without blocking.
   *
   * @return {@code false} if it was not accepted (no connection, or the connection's outbound
   *     buffer is full); the core then keeps or drops the data and retries later
   */
  boolean send(long peerId, Message message);
}
