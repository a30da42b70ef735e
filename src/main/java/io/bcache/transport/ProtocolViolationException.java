package io.bcache.transport;

import io.netty.handler.codec.DecoderException;

/**
 * A peer broke the protocol: the expected way for a connection to be rejected. It carries no
 * stack trace because the reason says everything; the connection is logged once and closed.
 * (A {@link DecoderException} so that Netty's decoders pass it through unwrapped.)
 */
final class ProtocolViolationException extends DecoderException {

  ProtocolViolationException(String reason) {
    super(reason);
  }

  @Override
  public synchronized Throwable fillInStackTrace() {
    return this;
  }
}
