package io.bcache.replication;

/**
 * A frame that does not decode to a valid message: unknown version or type, truncated, a length
 * out of bounds, or bytes left over. The transport closes the connection it came from.
 */
public final class MalformedMessageException extends Exception {

  private static final long serialVersionUID = 1L;

  public MalformedMessageException(String message) {
    super(message);
  }
}
