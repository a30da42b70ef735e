package io.bcache.serialization;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.Externalizable;
import java.io.IOException;
import java.io.ObjectInput;
import java.io.ObjectInputStream;
import java.io.ObjectOutput;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Honest values whose objects refer back to an object that holds them, as real
 * {@code ObjectOutputStream} output: each decodes, as a value and as a key.
 */
class BackReferencesTest {

  private final WireCodec codec = new WireCodec(new AllowListFilter(List.of(Child.class.getName(), Parent.class.getName(),
      ExternalParent.class.getName(), Playlist.class.getName(), Order.class.getName(),
      Step.class.getName()),
      64L << 20));

  @Test
  void aWriteObjectParentOfChildrenThatNameIt() {
    Parent parent = new Parent();
    for (int i = 0; i < 10; i++) {
      parent.children.add(new Child("c" + i, parent));
    }
    Parent read = (Parent) codec.decode(codec.encode(parent), null);
    assertThat(read.children).hasSize(10).allSatisfy(child -> assertThat(child.parent).isSameAs(read));
  }

  @Test
  void anExternalizableParentOfChildrenThatNameIt() {
    ExternalParent parent = new ExternalParent();
    for (int i = 0; i < 10; i++) {
      parent.children.add(new Child("c" + i, parent));
    }
    ExternalParent read = (ExternalParent) codec.decode(codec.encode(parent), null);
    assertThat(read.children).hasSize(10).allSatisfy(child -> assertThat(child.parent).isSameAs(read));
  }

  @Test
  void aMapOfNodesThatNameTheMap() {
    Map<String, Object> registry = new HashMap<>();
    for (int i = 0; i < 10; i++) {
      registry.put("n" + i, new Child("n" + i, registry));
    }
    Map<?, ?> read = (Map<?, ?>) codec.decode(codec.encode(registry), null);
    assertThat(read).hasSize(10);
    assertThat(((Child) read.get("n3")).parent).isSameAs(read);
  }

  @Test
  void aListSubclassOfTracksThatNameIt() {
    Playlist playlist = new Playlist();
    for (int i = 0; i < 20; i++) {
      playlist.add(new Child("t" + i, playlist));
    }
    Playlist read = (Playlist) codec.decode(codec.encode(playlist), null);
    assertThat(read).hasSize(20).allSatisfy(track -> assertThat(track.parent).isSameAs(read));
  }

  @Test
  void aListOfMembersThatEachHoldTheList() {
    List<Child> group = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      group.add(new Child("m" + i, group));
    }
    List<?> read = (List<?>) codec.decode(codec.encode(group), null);
    assertThat(read).hasSize(20).allSatisfy(member -> assertThat(((Child) member).parent).isSameAs(read));
  }

  @Test
  void anOrderWhoseLinesNameItAfterItsCustomerIsRead() {
    // the order's fields are set only once both are read: a line naming the order does not
    // carry the customer read before it
    Order order = new Order();
    for (int i = 0; i < 200; i++) {
      order.customer.add(new Child("address " + i, null));
    }
    for (int i = 0; i < 500; i++) {
      order.lines.add(new Child("line " + i, order));
    }
    Order read = (Order) codec.decode(codec.encode(order), null);
    assertThat(read.lines).hasSize(500).allSatisfy(line -> assertThat(line.parent).isSameAs(read));
  }

  @Test
  void aValueSharingOneLargeObjectUnderManyKeysDecodes() {
    // only a key is hashed as a whole: a map of 2,000 aliases of one 300-node object hashes only
    // the aliases as it is read
    List<Object> nodes = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      nodes.add(new Child("node " + i, null));
    }
    Map<String, Object> aliases = new HashMap<>();
    for (int i = 0; i < 2_000; i++) {
      aliases.put("alias " + i, nodes);
    }
    byte[] bytes = codec.encode(aliases);

    assertThat((Map<?, ?>) codec.decode(bytes, null)).hasSize(2_000);
    assertThat((Map<?, ?>) codec.decodeKey(bytes, null)).hasSize(2_000);
  }

  @Test
  void aValueOfStepsEachNamingTheOneBeforeDecodes() {
    List<Step> steps = new ArrayList<>();
    Step previous = null;
    for (int i = 0; i < 1_000; i++) {
      previous = new Step("step " + i, previous);
      steps.add(previous);
    }
    byte[] bytes = codec.encode(steps);

    assertThat(codec.decode(bytes, null)).isEqualTo(steps);
    assertThat(codec.decodeKey(bytes, null)).isEqualTo(steps);
  }

  @Test
  void aWriteObjectWithoutDefaultWriteObjectDecodes() {
    WireCodec allowing = new WireCodec(new AllowListFilter(List.of(NoDefaults.class.getName()), 64L << 20));
    NoDefaults value = new NoDefaults("name", 7);

    assertThat(allowing.decode(allowing.encode(value), null)).usingRecursiveComparison().isEqualTo(value);
  }

  /** Writes its fields itself, without defaultWriteObject, which ObjectInputStream tolerates. */
  static final class NoDefaults implements Serializable {
    private static final long serialVersionUID = 1L;
    private String name;
    private int count;

    NoDefaults(String name, int count) {
      this.name = name;
      this.count = count;
    }

    private void writeObject(ObjectOutputStream out) throws IOException {
      out.writeUTF(name);
      out.writeInt(count);
    }

    private void readObject(ObjectInputStream in) throws IOException {
      name = in.readUTF();
      count = in.readInt();
    }
  }

  record Step(String name, Step previous) implements Serializable {}


  /** An object that names what holds it; hashed by identity. */
  static final class Child implements Serializable {
    private static final long serialVersionUID = 1L;
    final String name;
    final Object parent;

    Child(String name, Object parent) {
      this.name = name;
      this.parent = parent;
    }
  }

  static final class Parent implements Serializable {
    private static final long serialVersionUID = 1L;
    transient List<Child> children = new ArrayList<>();

    private void writeObject(ObjectOutputStream out) throws IOException {
      out.defaultWriteObject();
      out.writeInt(children.size());
      for (Child child : children) {
        out.writeObject(child);
      }
    }

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
      in.defaultReadObject();
      children = new ArrayList<>();
      for (int i = in.readInt(); i > 0; i--) {
        children.add((Child) in.readObject());
      }
    }
  }

  public static final class ExternalParent implements Externalizable {
    final List<Child> children = new ArrayList<>();

    public ExternalParent() {}

    @Override
    public void writeExternal(ObjectOutput out) throws IOException {
      out.writeInt(children.size());
      for (Child child : children) {
        out.writeObject(child);
      }
    }

    @Override
    public void readExternal(ObjectInput in) throws IOException, ClassNotFoundException {
      for (int i = in.readInt(); i > 0; i--) {
        children.add((Child) in.readObject());
      }
    }
  }

  static final class Playlist extends ArrayList<Child> {
    private static final long serialVersionUID = 1L;

    @Override
    public boolean equals(Object other) {
      return other == this;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(this);
    }
  }

  static final class Order implements Serializable {
    private static final long serialVersionUID = 1L;
    final List<Child> customer = new ArrayList<>();
    final List<Child> lines = new ArrayList<>();
  }
}
