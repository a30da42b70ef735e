package io.bcache.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The exact bytes of HELLO and PROOF, as the protocol documents them. */
class HandshakeMessagesTest {

  private static final byte[] SECRET = "s3cret".getBytes(StandardCharsets.UTF_8);

  @Test
  void helloLayout() {
    byte[] nonce = new byte[32];
    Arrays.fill(nonce, (byte) 0xAB);

    byte[] bytes = new Hello((short) 2, true, "prod", 0x0102030405060708L, 0x1112131415161718L, nonce).encode();

    ByteBuffer expected = ByteBuffer.allocate(4 + 2 + 1 + 1 + 4 + 8 + 8 + 32)
        .put(new byte[] {'B', 'C', 'H', '1'})
        .putShort((short) 2)
        .put((byte) 1)
        .put((byte) 4).put("prod".getBytes(StandardCharsets.UTF_8))
        .putLong(0x0102030405060708L)
        .putLong(0x1112131415161718L)
        .put(nonce);
    assertThat(bytes).isEqualTo(expected.array());
    Hello decoded = Hello.decode(bytes);
    assertThat(decoded.clusterName()).isEqualTo("prod");
    assertThat(decoded.nodeId()).isEqualTo(0x0102030405060708L);
    assertThat(decoded.addressee()).isEqualTo(0x1112131415161718L);
    assertThat(decoded.hasSecret()).isTrue();
    assertThat(decoded.nonce()).isEqualTo(nonce);
  }

  @Test
  void helloWithTrailingBytesOrUnknownFlagsIsMalformed() {
    byte[] hello = new Hello((short) 2, false, "c", 1, 0, new byte[32]).encode();
    byte[] longer = Arrays.copyOf(hello, hello.length + 1);
    byte[] flagged = hello.clone();
    flagged[6] = 2;

    assertThatThrownBy(() -> Hello.decode(longer)).isInstanceOf(ProtocolViolationException.class);
    assertThatThrownBy(() -> Hello.decode(flagged)).isInstanceOf(ProtocolViolationException.class);
  }

  @Test
  void proofIsAnHmacOverTheDocumentedBytes() throws Exception {
    byte[] proverNonce = new byte[32];
    byte[] verifierNonce = new byte[32];
    Arrays.fill(proverNonce, (byte) 1);
    Arrays.fill(verifierNonce, (byte) 2);
    ByteBuffer input = ByteBuffer.allocate(11 + 1 + 1 + 4 + 8 + 32 + 32 + 8)
        .put("bcache-auth".getBytes(StandardCharsets.US_ASCII))
        .put((byte) 'D')
        .put((byte) 4).put("prod".getBytes(StandardCharsets.UTF_8))
        .putLong(7).put(proverNonce).put(verifierNonce).putLong(9);
    javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
    mac.init(new javax.crypto.spec.SecretKeySpec(SECRET, "HmacSHA256"));

    assertThat(Proof.compute(SECRET, Proof.Role.DIALER, "prod", 7, proverNonce, verifierNonce, 9))
        .isEqualTo(mac.doFinal(input.array()));
  }

  @Test
  void eachSideProvesSomethingDifferent() {
    byte[] nonceA = new byte[32];
    byte[] nonceB = new byte[32];
    nonceB[0] = 1;

    byte[] fromA = Proof.compute(SECRET, Proof.Role.DIALER, "c", 1, nonceA, nonceB, 2);
    byte[] fromB = Proof.compute(SECRET, Proof.Role.ACCEPTOR, "c", 2, nonceB, nonceA, 1);
    byte[] fromAAccepting = Proof.compute(SECRET, Proof.Role.ACCEPTOR, "c", 1, nonceA, nonceB, 2);

    assertThat(fromA).hasSize(Proof.BYTES).isNotEqualTo(fromB).isNotEqualTo(fromAAccepting);
    assertThat(Proof.matches(fromA, Proof.compute(SECRET, Proof.Role.DIALER, "c", 1, nonceA, nonceB, 2))).isTrue();
    assertThat(Proof.matches(fromA, Proof.compute("other".getBytes(StandardCharsets.UTF_8), Proof.Role.DIALER, "c",
        1, nonceA, nonceB, 2))).isFalse();
  }

  @Test
  void aPeersClusterNameIsLoggedOnOneLine() {
    assertThat(HandshakeHandler.printable("prod\r\nWARN forged line\u2028x\u0000")).isEqualTo(
        "prod\\u000d\\u000aWARN forged line\\u2028x\\u0000");
    assertThat(HandshakeHandler.printable("caf\u00e9 \ud83d\ude00")).isEqualTo("caf\u00e9 \ud83d\ude00");
  }
}
