package io.bcache.serialization;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Whatever bytes a peer sends as a value, decoding them ends in a value or an IllegalArgumentException. */
class CorruptedValuesTest {

  private final WireCodec codec = new WireCodec(new AllowListFilter(List.of(JdkAllowListTest.Color.class.getName()),
      64L << 20));

  @Test
  void valuesWithBytesChangedDecodeOrAreRefused() {
    Random random = new Random(20_240_229); // fixed: a failure reproduces
    List<String> outcomes = new ArrayList<>();
    for (Object value : JdkAllowListTest.commonValues()) {
      byte[] honest = codec.encode(value);
      for (int i = 0; i < 100; i++) {
        byte[] bytes = honest.clone();
        for (int changes = 1 + random.nextInt(3); changes > 0; changes--) {
          int at = 1 + random.nextInt(bytes.length - 1);
          bytes[at] = random.nextBoolean() ? (byte) random.nextInt() : (byte) (bytes[at] + 1 - 2 * random.nextInt(2));
        }
        outcomes.add(outcome(bytes));
      }
      for (int cut = 1; cut < honest.length; cut += 1 + honest.length / 20) {
        outcomes.add(outcome(java.util.Arrays.copyOf(honest, cut)));
      }
    }
    assertThat(outcomes).allMatch(outcome -> outcome.equals("decoded") || outcome.equals("refused"));
    assertThat(outcomes).contains("refused");
  }

  private String outcome(byte[] bytes) {
    try {
      codec.decode(bytes, null);
      return "decoded";
    } catch (IllegalArgumentException e) {
      return "refused";
    } catch (Throwable e) {
      return "threw " + e;
    }
  }
}
