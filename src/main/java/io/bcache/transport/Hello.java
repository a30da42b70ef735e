package io.bcache.transport;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The first frame each side sends. Its payload, big-endian:
 *
 * <pre>
 *   magic        4 bytes   "BCH1" (0x42 0x43 0x48 0x31)
 *   version      2 bytes   {@link #PROTOCOL_VERSION}
 *   flags        1 byte    bit 0: a PROOF frame follows (the sender has a secret); others 0
 *   clusterLen   1 byte    1..255
 *   cluster      clusterLen bytes, UTF-8
 *   nodeId       8 bytes
 *   addressee    8 bytes   from the side that dialed, the node it meant to reach; 0 from the other
 *   nonce        32 bytes  fresh from SecureRandom for every connection
 * </pre>
 */
record Hello(short version, boolean hasSecret, String clusterName, long nodeId, long addressee, byte[] nonce) {

  static final byte[] MAGIC = {'B', 'C', 'H', '1'};
  /** 2: the dialer proves first, a proof names its role, and the dialer names the addressee. */
  static final short PROTOCOL_VERSION = 2;
  static final int NONCE_BYTES = 32;
  static final int FLAG_PROOF_FOLLOWS = 1;
  /** The largest possible HELLO; frames before authentication are held to it. */
  static final int MAX_BYTES = 4 + 2 + 1 + 1 + TransportConfig.MAX_CLUSTER_NAME_BYTES + 8 + 8 + NONCE_BYTES;

  byte[] encode() {
    byte[] cluster = clusterName.getBytes(StandardCharsets.UTF_8);
    ByteBuffer out = ByteBuffer.allocate(4 + 2 + 1 + 1 + cluster.length + 8 + 8 + NONCE_BYTES);
    out.put(MAGIC)
        .putShort(version)
        .put((byte) (hasSecret ? FLAG_PROOF_FOLLOWS : 0))
        .put((byte) cluster.length)
        .put(cluster)
        .putLong(nodeId)
        .putLong(addressee)
        .put(nonce);
    return out.array();
  }

  /**
   * Parses a HELLO; checks only its shape, not whether this node accepts it.
   *
   * @throws ProtocolViolationException if the frame is not a well-formed HELLO
   */
  static Hello decode(byte[] frame) {
    ByteBuffer in = ByteBuffer.wrap(frame);
    try {
      byte[] magic = new byte[MAGIC.length];
      in.get(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new ProtocolViolationException("bad magic, not a bcache peer");
      }
      short version = in.getShort();
      int flags = in.get();
      if ((flags & ~FLAG_PROOF_FOLLOWS) != 0) {
        throw new ProtocolViolationException("malformed HELLO: unknown flags " + flags);
      }
      int clusterLength = in.get() & 0xFF;
      if (clusterLength == 0) {
        throw new ProtocolViolationException("malformed HELLO: empty cluster name");
      }
      byte[] cluster = new byte[clusterLength];
      in.get(cluster);
      long nodeId = in.getLong();
      long addressee = in.getLong();
      byte[] nonce = new byte[NONCE_BYTES];
      in.get(nonce);
      if (in.hasRemaining()) {
        throw new ProtocolViolationException("malformed HELLO: " + in.remaining() + " trailing bytes");
      }
      return new Hello(version, (flags & FLAG_PROOF_FOLLOWS) != 0, utf8(cluster), nodeId, addressee, nonce);
    } catch (BufferUnderflowException e) {
      throw new ProtocolViolationException("malformed HELLO: truncated at " + frame.length + " bytes");
    }
  }

  private static String utf8(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new ProtocolViolationException("malformed HELLO: cluster name is not UTF-8");
    }
  }
}
