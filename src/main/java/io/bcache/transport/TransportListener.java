package io.bcache.transport;

import java.nio.ByteBuffer;

/**
 * Receives what a {@link PeerTransport} learns about its peers.
 *
 * <p>All calls come from the transport's single I/O thread, so for one peer they arrive in
 * order: {@code peerConnected}, its frames, then {@code peerDisconnected}. Implementations must
 * not block; a method that throws closes that peer's connection ({@link FrameRejectedException}
 * for a frame the peer should not have sent, logged as a rejection; anything else as a bug).
 */
public interface TransportListener {

  /** An authenticated connection to {@code peerId} is up; {@link PeerTransport#send} now works. */
  void peerConnected(long peerId);

  /**
   * A frame arrived from {@code peerId}. The buffer is a view of the connection's receive
   * buffer, valid only during this call: a listener copies out what it keeps.
   */
  void frameReceived(long peerId, ByteBuffer payload);

  /**
   * The connection to {@code peerId} is gone; frames sent before may or may not have arrived.
   * Not called for connections closed by {@link PeerTransport#close()}.
   */
  void peerDisconnected(long peerId);
}
