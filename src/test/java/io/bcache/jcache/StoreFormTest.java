package io.bcache.jcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bcache.serialization.AllowListFilter;
import io.bcache.serialization.WireCodec;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StoreFormTest {

  private final ClassLoader loader = getClass().getClassLoader();
  private final StoreForm byValue = StoreForm.byValue(WireCodec.trusted(), loader);
  private final WireCodec wire = new WireCodec(new AllowListFilter(List.of(), 1 << 20));

  @Test
  void byValueAMutableValueIsKeptAsTheBytesReplicationSendsAndReadAsAFreshCopy() {
    byte[] value = {1, 2, 3};
    Object stored = byValue.toStore(value);
    value[0] = 9; // the caller's array is not the cache's
    byte[] onTheWire = byValue.toWire(stored, wire);
    assertThat(onTheWire).isSameAs(stored); // sent as kept: no copy per change

    byte[] read = (byte[]) byValue.fromStore(stored);
    assertThat(read).containsExactly(1, 2, 3);
    read[1] = 9;
    assertThat((byte[]) byValue.fromStore(stored)).containsExactly(1, 2, 3);
  }

  @Test
  void byValueAValueFromAPeerIsKeptAsItArrivedWhenItIsMutable() {
    byte[] bytesFromPeer = wire.encode(new byte[] {4, 5});
    assertThat(byValue.fromWire(bytesFromPeer, wire, loader)).isSameAs(bytesFromPeer);

    byte[] listFromPeer = wire.encode(new ArrayList<>(List.of("a")));
    Object stored = byValue.fromWire(listFromPeer, wire, loader);
    assertThat(stored).isSameAs(listFromPeer);
    assertThat(byValue.fromStore(stored)).isEqualTo(List.of("a"));
  }

  @Test
  void byValueAnImmutableValueFromAPeerIsKeptDecoded() {
    assertThat(byValue.fromWire(wire.encode("text"), wire, loader)).isEqualTo("text");
    assertThat(byValue.fromWire(wire.encode(42L), wire, loader)).isEqualTo(42L);
  }

  @Test
  void aValueFromAPeerStillPassesTheAllowListInEitherForm() {
    byte[] boxFromPeer = wire.encode(new Box(1));
    assertThatThrownBy(() -> byValue.fromWire(boxFromPeer, wire, loader))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(Box.class.getName());
    assertThatThrownBy(() -> StoreForm.BY_REFERENCE.fromWire(boxFromPeer, wire, loader))
        .isInstanceOf(IllegalArgumentException.class);

    WireCodec allowing = new WireCodec(new AllowListFilter(List.of(Box.class.getName()), 1 << 20));
    Object stored = byValue.fromWire(boxFromPeer, allowing, loader);
    assertThat(stored).isSameAs(boxFromPeer);
    assertThat(((Box) byValue.fromStore(stored)).n).isEqualTo(1);
  }

  @Test
  void byReferenceEncodesForTheWireAndDecodesFromIt() {
    byte[] value = {7};
    byte[] onTheWire = StoreForm.BY_REFERENCE.toWire(value, wire);
    assertThat(onTheWire).isNotSameAs(value);
    assertThat((byte[]) StoreForm.BY_REFERENCE.fromWire(onTheWire, wire, loader)).containsExactly(7);
  }

  /** A mutable value whose class is not on the default allow-list. */
  static final class Box implements Serializable {
    private static final long serialVersionUID = 1L;
    int n;

    Box(int n) {
      this.n = n;
    }
  }
}
