package io.bcache.cluster.membership;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MemberCodecTest {

  private static final String NAME = "00000000000004d2";

  @Test
  void roundTrips() {
    Member member = new Member(1234, "127.0.0.1", 7400, 3);

    byte[] data = MemberCodec.encode(member);

    assertThat(new String(data, StandardCharsets.UTF_8)).isEqualTo(
        "# bcache member\nformat=1\nnodeId=00000000000004d2\nhost=127.0.0.1\nport=7400\nprotocol=3\n");
    assertThat(MemberCodec.decode(NAME, data)).isEqualTo(member);
  }

  @Test
  void roundTripsExtremeIdsAndIpv6() {
    for (long id : new long[] {0, 1, Long.MAX_VALUE, -1, Long.MIN_VALUE}) {
      Member member = new Member(id, "fe80::1%eth0", 65_535, Integer.MAX_VALUE);
      String name = MemberCodec.nodeName(id);

      assertThat(name).hasSize(16).matches("[0-9a-f]{16}");
      assertThat(MemberCodec.decode(name, MemberCodec.encode(member))).isEqualTo(member);
    }
  }

  @Test
  void skipsCommentsBlankLinesAndUnknownKeys() {
    String text = "format=1\n\n# note\nzone=eu-1\nprotocol=1\nport=1\nhost=a.example\nnodeId=" + NAME;

    assertThat(MemberCodec.decode(NAME, bytes(text))).isEqualTo(new Member(1234, "a.example", 1, 1));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "",
      "garbage",
      "format=2\nnodeId=00000000000004d2\nhost=h\nport=1\nprotocol=1",
      "nodeId=00000000000004d2\nhost=h\nport=1\nprotocol=1",
      "format=1\nnodeId=00000000000004d3\nhost=h\nport=1\nprotocol=1",
      "format=1\nnodeId=00000000000004D2\nhost=h\nport=1\nprotocol=1",
      "format=1\nnodeId=00000000000004d2\nhost=h\nport=0\nprotocol=1",
      "format=1\nnodeId=00000000000004d2\nhost=h\nport=65536\nprotocol=1",
      "format=1\nnodeId=00000000000004d2\nhost=h\nport=-1\nprotocol=1",
      "format=1\nnodeId=00000000000004d2\nhost=h\nport=99999999999\nprotocol=1",
      "format=1\nnodeId=00000000000004d2\nhost=h\nport=1\nprotocol=0",
      "format=1\nnodeId=00000000000004d2\nhost=\nport=1\nprotocol=1",
      "format=1\nnodeId=00000000000004d2\nhost=h h\nport=1\nprotocol=1",
      "format=1\nnodeId=00000000000004d2\nhost=h\r\nport=1\nprotocol=1",
      "format=1\nnodeId=00000000000004d2\nhost=h\nhost=i\nport=1\nprotocol=1",
      "format=1\nnodeId=00000000000004d2\nhost=h\nport=1",
      "format=1\nnodeId=00000000000004d2\nhost=h\nport=1\nprotocol=1\n=x",
  })
  void rejectsMalformedData(String text) {
    assertThatThrownBy(() -> MemberCodec.decode(NAME, bytes(text)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void rejectsNullOversizedAndNonUtf8Data() {
    byte[] oversized = bytes(new String(MemberCodec.encode(new Member(1234, "h", 1, 1)), StandardCharsets.UTF_8)
        + "#" + "x".repeat(MemberCodec.MAX_BYTES));
    byte[] latin1 = "format=1\nhost=h\u00e9".getBytes(StandardCharsets.ISO_8859_1);

    for (byte[] data : new byte[][] {null, oversized, latin1}) {
      assertThatThrownBy(() -> MemberCodec.decode(NAME, data)).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"4d2", "00000000000004D2", "000000000000004d2", "members", "_c_x-0000000001"})
  void rejectsNamesThatAreNotNodeIds(String name) {
    byte[] data = MemberCodec.encode(new Member(1234, "h", 1, 1));

    assertThatThrownBy(() -> MemberCodec.decode(name, data)).isInstanceOf(IllegalArgumentException.class);
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
