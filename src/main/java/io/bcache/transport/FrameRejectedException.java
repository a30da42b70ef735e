package io.bcache.transport;

/**
 * Thrown by a {@link TransportListener} for a frame it cannot accept from an authenticated peer
 * (a message it cannot decode): the transport closes that peer's connection and logs the reason
 * as a rejection, as it does a protocol violation during the handshake. The peer redials, and
 * whatever the connection carried is caught up as after any drop.
 */
public final class FrameRejectedException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public FrameRejectedException(String reason) {
    super(reason, null, false, false); // the reason says everything: no stack trace to fill
  }
}
