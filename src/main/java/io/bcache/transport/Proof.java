package io.bcache.transport;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The PROOF frame: 32 bytes, HMAC-SHA256 keyed with the shared secret over
 *
 * <pre>
 *   "bcache-auth"   11 bytes, ASCII
 *   role            1 byte: 'D' from the side that dialed, 'A' from the side that accepted
 *   clusterLen      1 byte
 *   cluster         clusterLen bytes, UTF-8
 *   proverId        8 bytes, big-endian: the node sending the proof
 *   proverNonce     32 bytes: the nonce in the prover's HELLO
 *   verifierNonce   32 bytes: the nonce in the verifier's HELLO
 *   verifierId      8 bytes, big-endian
 * </pre>
 *
 * <p>Both nonces bind the proof to this connection (no replay); the role and the order of the ids
 * and nonces make each side's proof different (no reflection). The dialer proves first and the
 * acceptor answers only a proof it has verified, so a stranger cannot make a node prove anything:
 * otherwise one could relay a node's proof to another node, posing as the first (see
 * {@link HandshakeHandler}). The secret itself never crosses the wire.
 */
final class Proof {

  static final int BYTES = 32;

  /** Which end of the connection proves: the two ends' proofs differ even with equal ids. */
  enum Role {
    DIALER('D'), ACCEPTOR('A');

    private final byte tag;

    Role(char tag) {
      this.tag = (byte) tag;
    }
  }

  private static final byte[] CONTEXT = "bcache-auth".getBytes(StandardCharsets.US_ASCII);
  private static final String ALGORITHM = "HmacSHA256";

  private Proof() {
  }

  static byte[] compute(byte[] secret, Role prover, String cluster, long proverId, byte[] proverNonce,
      byte[] verifierNonce, long verifierId) {
    byte[] clusterBytes = cluster.getBytes(StandardCharsets.UTF_8);
    ByteBuffer input = ByteBuffer.allocate(CONTEXT.length + 1 + 1 + clusterBytes.length + 8
        + proverNonce.length + verifierNonce.length + 8);
    input.put(CONTEXT)
        .put(prover.tag)
        .put((byte) clusterBytes.length)
        .put(clusterBytes)
        .putLong(proverId)
        .put(proverNonce)
        .put(verifierNonce)
        .putLong(verifierId);
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(new SecretKeySpec(secret, ALGORITHM));
      return mac.doFinal(input.array());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(ALGORITHM + " is required by every Java platform", e);
    }
  }

  /** Whether {@code received} is the proof {@code expected}; constant time. */
  static boolean matches(byte[] expected, byte[] received) {
    return MessageDigest.isEqual(expected, received);
  }
}
