package io.bcache.serialization;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.Serializable;
import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Values caches hold pass the limits that stop hostile ones. */
class OrdinaryValuesTest {

  private final WireCodec codec = new WireCodec(new AllowListFilter(List.of(
      Item.class.getName(), CacheEntry.class.getName(), Status.class.getName(), Order.class.getName(),
      Person.class.getName(), Address.class.getName(), Node.class.getName(), Blob.class.getName()), 64L << 20));

  @Test
  void collectionsNestedAFewLevelsDeep() {
    Map<String, Map<String, List<Set<Integer>>>> nested = new HashMap<>();
    for (int i = 0; i < 20; i++) {
      Map<String, List<Set<Integer>>> inner = new TreeMap<>();
      for (int j = 0; j < 10; j++) {
        inner.put("k" + j, List.of(new HashSet<>(Set.of(i, 100 + j)), Set.of(i * j)));
      }
      nested.put("k" + i, inner);
    }
    assertThat(roundTrip(nested)).isEqualTo(nested);
  }

  @Test
  void aHibernateLikeEntryOfDisassembledState() {
    Serializable[] embedded = {"Main Street 1", 1000L};
    Serializable[] state = {42L, "A title", new Timestamp(0), new BigDecimal("9.99"), Status.ACTIVE, embedded,
        new ArrayList<>(List.of(1L, 2L, 3L)), null};
    Item item = new Item(new CacheEntry(state, "Book", 3), 3, 12345L);

    Item read = (Item) roundTrip(item);
    assertThat(read.value.disassembledState).isEqualTo(state);
    assertThat(read.value.subclass).isEqualTo("Book");
  }

  @Test
  void aRecordHoldingAListOfMaps() {
    List<Map<String, Object>> lines = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      Map<String, Object> line = new LinkedHashMap<>();
      line.put("sku", UUID.randomUUID());
      line.put("price", new BigDecimal(i + ".50"));
      line.put("tags", List.of("a", "b"));
      line.put("shipped", LocalDate.of(2024, 1, 1 + i % 28));
      lines.add(line);
    }
    Order order = new Order("o-1", Instant.EPOCH, lines);
    assertThat(roundTrip(order)).isEqualTo(order);
  }

  @Test
  void objectsSharedTheWayDataSharesThem() {
    Address home = new Address("Main Street 1", List.of("line 2"));
    Person person = new Person("ann", home, home);
    Person read = (Person) roundTrip(person);
    assertThat(read.work).isSameAs(read.home);

    // 200 orders of one customer, and one list under ten keys
    List<Person> sameCustomer = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      sameCustomer.add(new Person("order " + i, home, new Address("Depot " + i, List.of())));
    }
    assertThat((List<?>) roundTrip(sameCustomer)).hasSize(200);
    List<String> shared = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      shared.add("member " + i);
    }
    Map<String, List<String>> groups = new HashMap<>();
    for (int i = 0; i < 10; i++) {
      groups.put("group " + i, shared);
    }
    assertThat(roundTrip(groups)).isEqualTo(groups);
  }

  @Test
  void aTreeWhoseChildrenPointBackAtTheirParent() {
    Node root = new Node("root", null);
    for (int i = 0; i < 10; i++) {
      Node child = new Node("child " + i, root);
      root.children.add(child);
      for (int j = 0; j < 10; j++) {
        child.children.add(new Node("leaf " + j, child));
      }
    }
    Node read = (Node) roundTrip(root);
    assertThat(read.children).hasSize(10);
    assertThat(read.children.get(3).children.get(4).parent).isSameAs(read.children.get(3));
  }

  @Test
  void objectsNestedUpToTheDepthLimit() {
    // List.of and the unmodifiable wrappers take two levels each: 31 levels of List.of fit
    Object lists = "innermost";
    for (int i = 0; i < 31; i++) {
      lists = List.of(lists);
    }
    assertThat(roundTrip(lists)).isEqualTo(lists);

    assertThat(roundTrip(nestedArrayLists(64))).isEqualTo(nestedArrayLists(64));
    byte[] tooDeep = codec.encode(nestedArrayLists(65));
    assertThatThrownBy(() -> codec.decode(tooDeep, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nested deeper than 64");
  }

  @Test
  void longStringsClassObjectsAndWriteObjectDataOfAnySize() {
    String text = "x".repeat(100_000) + "é";
    List<Object> values = new ArrayList<>(List.of(text, String.class, int.class, long[].class, Status.class));
    assertThat(roundTrip(values)).isEqualTo(values);

    Blob blob = new Blob(new byte[10_000], List.of("after the bytes"));
    blob.bytes[9_999] = 9;
    Blob read = (Blob) roundTrip(blob);
    assertThat(read.bytes).isEqualTo(blob.bytes);
    assertThat(read.tail).isEqualTo(blob.tail);
  }

  private Object roundTrip(Object value) {
    return codec.decode(codec.encode(value), null);
  }

  private static List<Object> nestedArrayLists(int levels) {
    List<Object> list = new ArrayList<>(List.of("innermost"));
    for (int i = 1; i < levels; i++) {
      list = new ArrayList<>(List.of(list));
    }
    return list;
  }

  enum Status { ACTIVE }

  /** Shaped like Hibernate's read-write cache item around a standard cache entry. */
  static final class Item implements Serializable {
    private static final long serialVersionUID = 1L;
    final CacheEntry value;
    final Object version;
    final long timestamp;

    Item(CacheEntry value, Object version, long timestamp) {
      this.value = value;
      this.version = version;
      this.timestamp = timestamp;
    }
  }

  static final class CacheEntry implements Serializable {
    private static final long serialVersionUID = 1L;
    final Serializable[] disassembledState;
    final String subclass;
    final Object version;

    CacheEntry(Serializable[] disassembledState, String subclass, Object version) {
      this.disassembledState = disassembledState;
      this.subclass = subclass;
      this.version = version;
    }
  }

  record Order(String id, Instant placed, List<Map<String, Object>> lines) implements Serializable {
  }

  static final class Person implements Serializable {
    private static final long serialVersionUID = 1L;
    final String name;
    final Address home;
    final Address work;

    Person(String name, Address home, Address work) {
      this.name = name;
      this.home = home;
      this.work = work;
    }
  }

  record Address(String street, List<String> extra) implements Serializable {
  }

  /** Writes its own data: raw bytes (long block data) and then an object. */
  static final class Blob implements Serializable {
    private static final long serialVersionUID = 1L;
    transient byte[] bytes;
    transient Object tail;

    Blob(byte[] bytes, Object tail) {
      this.bytes = bytes;
      this.tail = tail;
    }

    private void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
      out.defaultWriteObject();
      out.writeInt(bytes.length);
      out.write(bytes);
      out.writeObject(tail);
    }

    private void readObject(java.io.ObjectInputStream in) throws java.io.IOException, ClassNotFoundException {
      in.defaultReadObject();
      bytes = new byte[in.readInt()];
      in.readFully(bytes);
      tail = in.readObject();
    }
  }

  static final class Node implements Serializable {
    private static final long serialVersionUID = 1L;
    final String name;
    final Node parent;
    final List<Node> children = new ArrayList<>();

    Node(String name, Node parent) {
      this.name = name;
      this.parent = parent;
    }
  }

  @Test
  void aGraphTooDeepToSerializeIsAValueThatCannotBeSerialized() {
    Object node = "end";
    for (int i = 0; i < 500_000; i++) {
      node = new Object[] {node}; // each array nests the one before
    }
    Object tooDeep = node;

    assertThatThrownBy(() -> codec.encode(tooDeep)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot serialize");
  }
}
