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
 *   clusterLen      1 byte
 *   cluster         clusterLen bytes, UTF-8
 *   proverId        8 bytes, big-endian: the node sending the proof
 *   proverNonce     32 bytes: the nonce in the prover's HELLO
 *   verifierNonce   32 bytes: the nonce in the verifier's HELLO
 *   verifierId      8 bytes, big-endian
 * </pre>
 *
 * <p>Both nonces bind the proof to this connection (no replay); the order of the ids and nonces
 * makes each side's proof different (no reflection). The secret itself never crosses the wire.
 */
final class Proof {

  static final int BYTES = 32;
  private static final byte[] CONTEXT = "bcache-auth".getBytes(StandardCharsets.US_ASCII);
  private static final String ALGORITHM = "HmacSHA256";

  private Proof() {
  }

  static byte[] compute(byte[] secret, String cluster, long proverId, byte[] proverNonce,
      byte[] verifierNonce, long verifierId) {
    byte[] clusterBytes = cluster.getBytes(StandardCharsets.UTF_8);
    ByteBuffer input = ByteBuffer.allocate(CONTEXT.length + 1 + clusterBytes.length + 8
        + proverNonce.length + verifierNonce.length + 8);
    input.put(CONTEXT)
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
