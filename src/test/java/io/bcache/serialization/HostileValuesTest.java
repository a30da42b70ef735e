package io.bcache.serialization;

import static java.io.ObjectStreamConstants.SC_SERIALIZABLE;
import static java.io.ObjectStreamConstants.SC_WRITE_METHOD;
import static java.io.ObjectStreamConstants.STREAM_MAGIC;
import static java.io.ObjectStreamConstants.STREAM_VERSION;
import static java.io.ObjectStreamConstants.TC_ARRAY;
import static java.io.ObjectStreamConstants.TC_BLOCKDATA;
import static java.io.ObjectStreamConstants.TC_CLASSDESC;
import static java.io.ObjectStreamConstants.TC_ENDBLOCKDATA;
import static java.io.ObjectStreamConstants.TC_NULL;
import static java.io.ObjectStreamConstants.TC_OBJECT;
import static java.io.ObjectStreamConstants.TC_REFERENCE;
import static java.io.ObjectStreamConstants.TC_STRING;
import static java.io.ObjectStreamConstants.baseWireHandle;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ObjectStreamClass;
import java.io.ObjectStreamField;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Values a hostile peer could send: each is refused, as any value the allow-list refuses is
 * ({@link IllegalArgumentException} from the codec), without the work or the memory it asks for.
 */
class HostileValuesTest {

  /** The limit the manager runs with. */
  private static final long MAX_WIRE_VALUE_BYTES = 64L << 20;

  private final WireCodec codec = new WireCodec(new AllowListFilter(List.of(), MAX_WIRE_VALUE_BYTES));

  // ------------------------------------------------------------------ arrays larger than the value

  @Test
  void aPrimitiveArrayLongerThanItsBytesIsRefusedBeforeItIsAllocated() {
    byte[] value = codec.encode(new long[4]);
    // the stream ends with the array's length and its 4 longs: declare 64 Mi longs (512 MiB)
    int lengthAt = value.length - 4 * Long.BYTES - Integer.BYTES;
    writeInt(value, lengthAt, 0x4000000);

    assertRefused(value, "array of 67108864");
  }

  @Test
  void aListDeclaringMoreElementsThanItsBytesIsRefusedBeforeItsArrayIsAllocated() {
    // a well-formed ArrayList of one element whose size field says 64 Mi: ArrayList.readObject
    // would allocate an Object[64 Mi] (256 MiB or more) before reading the element
    byte[] value = tagged(nestedLists(1, 0x4000000));

    assertRefused(value, "array of 67108864 elements");
  }

  @Test
  void aMapDeclaringMoreMappingsThanItsBytesIsRefusedBeforeItsTableIsAllocated() {
    // one mapping, declared as 32 Mi: HashMap.readObject would allocate a table of 64 Mi slots
    byte[] value = tagged(mapDeclaring(0x2000000));

    assertRefused(value, "array of 67108864 elements");
  }

  @Test
  void arraysThatEachFitButTogetherOutgrowTheValueAreRefused() {
    // nested lists, each declaring as many elements as a single array may have for a value of
    // this length: each list allocates its array before it reads the next list
    byte[] probe = tagged(nestedLists(10, 0));
    int each = 4 * (probe.length - 1);
    byte[] value = tagged(nestedLists(10, each));

    assertRefused(value, "arrays of ");
  }

  @Test
  void largeHonestArraysAndCollectionsStillDecode() {
    byte[] megabyte = new byte[1 << 20];
    megabyte[megabyte.length - 1] = 7;
    assertThat((byte[]) ((Object[]) codec.decode(codec.encode(new Object[] {megabyte}), null))[0]).isEqualTo(megabyte);
    long[] longs = new long[100_000];
    longs[99_999] = 42;
    assertThat((long[]) codec.decode(codec.encode(longs), null)).isEqualTo(longs);

    List<Integer> list = new ArrayList<>();
    for (int i = 0; i < 100_000; i++) {
      list.add(i);
    }
    assertThat(codec.decode(codec.encode(list), null)).isEqualTo(list);
    List<Object> nulls = new ArrayList<>();
    for (int i = 0; i < 100_000; i++) {
      nulls.add(null);
    }
    assertThat(codec.decode(codec.encode(nulls), null)).isEqualTo(nulls);

    HashMap<String, Integer> map = new HashMap<>();
    for (int i = 0; i < 100_000; i++) {
      map.put("k" + i, i);
    }
    assertThat(codec.decode(codec.encode(map), null)).isEqualTo(map);
    HashMap<Integer, Integer> sparse = new HashMap<>(16, 0.25f); // the largest table per mapping
    sparse.put(1, 1);
    assertThat(codec.decode(codec.encode(sparse), null)).isEqualTo(sparse);
  }

  // ------------------------------------------------------------------ objects shared to multiply hashing

  @Test
  void classDescriptorsNestedInClassAnnotationsAreRefused() {
    // ObjectInputStream reads objects in a class annotation, each with class descriptors of its
    // own: nesting that costs stack without adding depth
    byte[] value = tagged(stream(out -> {
      out.writeByte(TC_OBJECT);
      out.writeByte(TC_CLASSDESC);
      out.writeUTF(ArrayList.class.getName());
      out.writeLong(ObjectStreamClass.lookup(ArrayList.class).getSerialVersionUID());
      out.writeByte(SC_SERIALIZABLE | SC_WRITE_METHOD);
      out.writeShort(0);
      out.writeByte(TC_STRING); // the annotation holds an object
      out.writeUTF("annotation");
      out.writeByte(TC_ENDBLOCKDATA);
      out.writeByte(TC_NULL);
      out.writeByte(TC_ENDBLOCKDATA);
    }));

    assertRefusedOrRead(value);
  }

  @Test
  void aLongChainOfSuperclassesGivenByReferenceIsRefusedQuickly() {
    // an Object[] of bare class descriptors, each naming the one before as its superclass: the
    // chains grow by one per descriptor, and copying each whole was quadratic in time and memory
    int descriptors = 16_000;
    byte[] value = tagged(stream(out -> {
      out.writeByte(TC_ARRAY);
      classDesc(out, Object[].class, SC_SERIALIZABLE);
      out.writeInt(descriptors);
      for (int i = 0; i < descriptors; i++) {
        out.writeByte(TC_CLASSDESC);
        out.writeUTF(Object.class.getName());
        out.writeLong(0);
        out.writeByte(SC_SERIALIZABLE);
        out.writeShort(0);
        out.writeByte(TC_ENDBLOCKDATA);
        if (i == 0) {
          out.writeByte(TC_NULL);
        } else {
          out.writeByte(TC_REFERENCE);
          out.writeInt(baseWireHandle + 1 + i); // the descriptor before: after the array's and the array
        }
      }
    }));
    assertThat(value.length).isGreaterThan(500_000);

    assertTimeoutPreemptively(Duration.ofSeconds(2), () -> assertRefusedOrRead(value));
  }

  // ------------------------------------------------------------------ classes that act when hashed

  @Test
  void urlsAreRefusedTheirHashCodeResolvesTheHost() throws Exception {
    // the URLDNS gadget: reading a set of URLs hashes each, and URL.hashCode looks the host up
    Set<Object> set = new HashSet<>();
    set.add(new URL("http://127.0.0.1/")); // an address: hashing it here looks nothing up
    byte[] value = codec.encode(set);

    assertRefused(value, "class java.net.URL is not allowed");
    URI uri = URI.create("http://example.invalid/");
    assertThat(codec.decode(codec.encode(new HashSet<>(Set.of(uri))), null)).isEqualTo(Set.of(uri));
  }

  // ------------------------------------------------------------------ failures inside reading

  @Test
  void aListThatContainsItselfInASetIsRefusedNotThrownAsAnError() {
    List<Object> itself = new ArrayList<>();
    Set<Object> set = new HashSet<>();
    set.add(itself); // hashed while empty
    itself.add(itself); // reading the set hashes a list that holds itself: endless recursion
    byte[] value = codec.encode(set);

    assertRefused(value, "StackOverflowError");
  }

  @Test
  void aMapOfProxyWithAnOddNumberOfKeysAndValuesIsRefusedNotThrownAsAnError() {
    // List.of's serial proxy, retagged as Map.of's: reading it throws InternalError
    byte[] value = codec.encode(List.of("a", "b", "c"));
    int tagAt = indexOf(value, new byte[] {'t', 'a', 'g', TC_ENDBLOCKDATA, TC_NULL}) + 5;
    writeInt(value, tagAt, 3); // CollSer.IMM_MAP

    assertRefused(value, "InternalError");
  }

  @Test
  void anExceptionFromAHashCodeWhileReadingIsRefused() {
    WireCodec allowing = new WireCodec(new AllowListFilter(List.of(Fragile.class.getName()), MAX_WIRE_VALUE_BYTES));
    Set<Object> set = new HashSet<>();
    set.add(new Fragile());
    byte[] value = allowing.encode(set);

    assertThatThrownBy(() -> allowing.decode(value, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("cannot deserialize")
        .hasMessageContaining("NullPointerException");
  }

  /** A hash code that needs a field deserialization does not restore. */
  static final class Fragile implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private transient Object cached = "cached";

    @Override
    public int hashCode() {
      return cached.hashCode();
    }

    @Override
    public boolean equals(Object other) {
      return other == this;
    }
  }

  // ------------------------------------------------------------------ helpers

  /** Crafted but harmless: read, or refused as the codec refuses; nothing else escapes. */
  private void assertRefusedOrRead(byte[] value) {
    try {
      codec.decode(value, null);
    } catch (IllegalArgumentException refused) {
      assertThat(refused).hasMessageStartingWith("cannot deserialize");
    }
  }

  private void assertRefused(byte[] value, String reason) {
    assertThatThrownBy(() -> codec.decode(value, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("cannot deserialize")
        .hasMessageContaining(reason);
  }


  /** {@code stream} as the wire codec sends a serialized value: behind its tag. */
  static byte[] tagged(byte[] stream) {
    byte[] value = new byte[stream.length + 1];
    System.arraycopy(stream, 0, value, 1, stream.length);
    return value; // tag 0: a serialization stream
  }

  static int indexOf(byte[] bytes, byte[] pattern) {
    outer:
    for (int i = 0; i + pattern.length <= bytes.length; i++) {
      for (int j = 0; j < pattern.length; j++) {
        if (bytes[i + j] != pattern[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("pattern not found");
  }

  static void writeInt(byte[] bytes, int at, int value) {
    for (int i = 0; i < 4; i++) {
      bytes[at + i] = (byte) (value >>> (24 - 8 * i));
    }
  }

  /**
   * A well-formed stream of {@code levels} ArrayLists, each holding the next (the innermost holds
   * a string), each with its size field set to {@code declared}.
   */
  static byte[] nestedLists(int levels, int declared) {
    return stream(out -> {
      for (int i = 0; i < levels; i++) {
        out.writeByte(TC_OBJECT);
        if (i == 0) {
          classDesc(out, ArrayList.class, SC_SERIALIZABLE | SC_WRITE_METHOD);
        } else {
          out.writeByte(TC_REFERENCE);
          out.writeInt(baseWireHandle); // the class descriptor
        }
        out.writeInt(declared); // size, the field ArrayList sizes its array by
        out.writeByte(TC_BLOCKDATA);
        out.writeByte(4);
        out.writeInt(declared); // the capacity it reads and ignores
      }
      out.writeByte(TC_STRING);
      out.writeUTF("innermost");
      for (int i = 0; i < levels; i++) {
        out.writeByte(TC_ENDBLOCKDATA);
      }
    });
  }

  /** A well-formed stream of a HashMap with one mapping that declares {@code declared} mappings. */
  static byte[] mapDeclaring(int declared) {
    return stream(out -> {
      out.writeByte(TC_OBJECT);
      classDesc(out, HashMap.class, SC_SERIALIZABLE | SC_WRITE_METHOD);
      out.writeFloat(0.75f); // loadFactor
      out.writeInt(12); // threshold
      out.writeByte(TC_BLOCKDATA);
      out.writeByte(8);
      out.writeInt(16); // buckets
      out.writeInt(declared); // mappings
      out.writeByte(TC_STRING);
      out.writeUTF("key");
      out.writeByte(TC_STRING);
      out.writeUTF("value");
      out.writeByte(TC_ENDBLOCKDATA);
    });
  }

  /** A class descriptor for a class with primitive fields only and no serializable superclass. */
  static void classDesc(DataOutputStream out, Class<?> type, int flags) throws IOException {
    ObjectStreamClass desc = ObjectStreamClass.lookup(type);
    out.writeByte(TC_CLASSDESC);
    out.writeUTF(desc.getName());
    out.writeLong(desc.getSerialVersionUID());
    out.writeByte(flags);
    out.writeShort(desc.getFields().length);
    for (ObjectStreamField field : desc.getFields()) {
      out.writeByte(field.getTypeCode());
      out.writeUTF(field.getName());
    }
    out.writeByte(TC_ENDBLOCKDATA); // no class annotation
    out.writeByte(TC_NULL); // no serializable superclass
  }

  interface StreamWriter {
    void write(DataOutputStream out) throws IOException;
  }

  static byte[] stream(StreamWriter contents) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeShort(STREAM_MAGIC);
      out.writeShort(STREAM_VERSION);
      contents.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  @Test
  void aKeyThatHoldsItselfIsRefusedAsAKeyAndReadAsAValue() {
    List<Object> itself = new ArrayList<>();
    itself.add("first");
    itself.add(itself); // its hashCode never ends
    byte[] bytes = codec.encode(itself);

    assertThatThrownBy(() -> codec.decodeKey(bytes, null)).isInstanceOf(IllegalArgumentException.class);
    assertThat((List<?>) codec.decode(bytes, null)).hasSize(2);
  }
}
