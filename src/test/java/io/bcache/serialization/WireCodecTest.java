package io.bcache.serialization;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.Serializable;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WireCodecTest {

  private final WireCodec codec = new WireCodec(new AllowListFilter(List.of(), 1 << 20));

  @Test
  void fastPathTypesRoundTrip() {
    for (Object value : new Object[] {"héllo", "", 42L, Long.MIN_VALUE, 7, Integer.MAX_VALUE}) {
      assertThat(codec.decode(codec.encode(value), null)).isEqualTo(value);
    }
    byte[] bytes = {1, 2, 3};
    byte[] decoded = (byte[]) codec.decode(codec.encode(bytes), null);
    assertThat(decoded).containsExactly(1, 2, 3).isNotSameAs(bytes);
  }

  @Test
  void jdkValueTypesPassTheAllowList() {
    List<Object> list = new ArrayList<>(List.of("a", 1, new BigDecimal("1.5")));
    assertThat(codec.decode(codec.encode(list), null)).isEqualTo(list);
    assertThat(codec.decode(codec.encode(Map.of("k", 1L)), null)).isEqualTo(Map.of("k", 1L));
  }

  @Test
  void aClassNotOnTheListIsRefusedBeforeItIsBuilt() {
    byte[] bytes = codec.encode(new Gadget());
    assertThatThrownBy(() -> codec.decode(bytes, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot deserialize")
        .hasMessageContaining("class " + Gadget.class.getName() + " is not allowed");
    assertThat(Gadget.constructed).isZero();

    WireCodec allowing = new WireCodec(new AllowListFilter(List.of(Gadget.class.getName()), 1 << 20));
    assertThat(allowing.decode(bytes, null)).isInstanceOf(Gadget.class);
  }

  @Test
  void malformedInputIsRejected() {
    assertThatThrownBy(() -> codec.decode(new byte[0], null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> codec.decode(new byte[] {99, 1}, null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> codec.decode(new byte[] {2, 1, 2}, null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> codec.decode(new byte[] {0, 1, 2, 3}, null)).isInstanceOf(IllegalArgumentException.class);
  }

  /** Stands for any class an attacker might name in a stream. */
  static final class Gadget implements Serializable {
    private static final long serialVersionUID = 1L;
    static int constructed;

    private Object readResolve() {
      constructed++;
      return this;
    }
  }
}
