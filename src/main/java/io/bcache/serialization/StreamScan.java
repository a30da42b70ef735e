package io.bcache.serialization;

import static java.io.ObjectStreamConstants.SC_BLOCK_DATA;
import static java.io.ObjectStreamConstants.SC_ENUM;
import static java.io.ObjectStreamConstants.SC_EXTERNALIZABLE;
import static java.io.ObjectStreamConstants.SC_SERIALIZABLE;
import static java.io.ObjectStreamConstants.SC_WRITE_METHOD;
import static java.io.ObjectStreamConstants.STREAM_MAGIC;
import static java.io.ObjectStreamConstants.STREAM_VERSION;
import static java.io.ObjectStreamConstants.TC_ARRAY;
import static java.io.ObjectStreamConstants.TC_BLOCKDATA;
import static java.io.ObjectStreamConstants.TC_BLOCKDATALONG;
import static java.io.ObjectStreamConstants.TC_CLASS;
import static java.io.ObjectStreamConstants.TC_CLASSDESC;
import static java.io.ObjectStreamConstants.TC_ENDBLOCKDATA;
import static java.io.ObjectStreamConstants.TC_ENUM;
import static java.io.ObjectStreamConstants.TC_LONGSTRING;
import static java.io.ObjectStreamConstants.TC_NULL;
import static java.io.ObjectStreamConstants.TC_OBJECT;
import static java.io.ObjectStreamConstants.TC_PROXYCLASSDESC;
import static java.io.ObjectStreamConstants.TC_REFERENCE;
import static java.io.ObjectStreamConstants.TC_STRING;
import static java.io.ObjectStreamConstants.baseWireHandle;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * A pass over a value's serialization stream before any of it is deserialized, for what an
 * {@link java.io.ObjectInputFilter} cannot see: which object a back reference points to.
 *
 * <p>Reading a {@code HashSet} or {@code HashMap} hashes its elements, and hashing a collection
 * hashes everything in it. A stream can refer to one object many times, so a few hundred bytes
 * can describe sets nested a few dozen levels deep, each holding several of the sets of the level
 * below, which hashing then visits an exponential number of times (SerialDOS). Limiting the depth
 * does not stop it, as {@code k} sets per level make {@code k^depth} visits. So the scan gives
 * every object a weight, the objects hashing it could visit: itself plus the weights of what its
 * fields, array elements and {@code writeObject} data refer to, a shared object counted once per
 * reference. A reference to an object still being read (one that encloses it) counts 1 in that
 * weight: a hash that went around such a cycle would recurse until {@code StackOverflowError},
 * which the codec refuses. But hashing it while that object is still being read visits what the
 * object holds so far, so each object also has a second weight that counts this, less what comes
 * back through the object that holds it; what reading hashes is counted with that one. A class
 * level's fields count towards their object only once the level is read, as
 * {@code ObjectInputStream} sets them only then. It adds up the weights of what reading the
 * stream hashes (the elements of hash-based collections and {@code Set.of}, the keys of
 * hash-based maps, the {@code writeObject} data of classes it does not know) and, for a key, of
 * the key itself, which the cache hashes, and refuses a value whose total exceeds
 * {@code 8 * length + 1024}. An honest value sharing little stays far below: each object takes a
 * few bytes, and counts once per hash-based collection around it. What passes costs work in
 * proportion to the value's length.
 *
 * <p>A value can be refused that would have read quickly: one that shares a large part many
 * times, or whose hashed elements refer to a collection still being read that holds them (each
 * counts the collection as read so far). Such values are rare in caches; the limit above leaves
 * them room.
 *
 * <p>The same pass refuses, before any class is loaded, a class the allow-list does not name, an
 * object nested deeper than {@link AllowListFilter#MAX_DEPTH}, and anything that is not a stream
 * {@code ObjectOutputStream.writeObject} writes for one value (proxies, resets, exceptions,
 * objects in class annotations, the pre-1.2 externalizable format). It reads each byte once,
 * keeps a few bytes per object, and recurses as deep as the objects nest plus one chain of at
 * most 64 superclasses.
 */
final class StreamScan {

  /** Objects hashing may visit per byte of value; see the class comment. */
  private static final long WORK_PER_BYTE = 8;
  /** Room for small values, whose class descriptors take most of their bytes. */
  private static final long WORK_FLOOR = 1024;
  /** Longest chain of serializable superclasses accepted. */
  private static final int MAX_SUPERCLASSES = 64;
  private static final long SATURATED = Long.MAX_VALUE / 4;

  /** What reading a class's {@code writeObject} data hashes: nothing, its keys, or all of it. */
  private static final int HASHES_NOTHING = 0;
  private static final int HASHES_KEYS = 1;
  private static final int HASHES_ALL = 2;
  /** Hash-based maps, whose {@code writeObject} data alternate key and value. */
  private static final Set<String> KEYED = Set.of("java.util.HashMap", "java.util.Hashtable",
      "java.util.concurrent.ConcurrentHashMap");
  /**
   * JDK classes whose {@code readObject} reads objects but hashes none; a class not named here
   * or in {@link #KEYED} is taken to hash all its {@code writeObject} data, as {@code HashSet}
   * and {@code CollSer} ({@code Set.of}) do.
   */
  private static final Set<String> UNHASHED = Set.of("java.util.ArrayList", "java.util.LinkedList",
      "java.util.ArrayDeque", "java.util.PriorityQueue", "java.util.TreeMap", "java.util.TreeSet",
      "java.util.IdentityHashMap", "java.util.EnumMap", "java.util.Calendar",
      "java.util.concurrent.CopyOnWriteArrayList", "java.util.concurrent.ConcurrentLinkedQueue",
      "java.util.concurrent.ConcurrentLinkedDeque", "java.util.concurrent.ConcurrentSkipListMap");

  private static final Set<String> PRIMITIVES = Set.of("boolean", "byte", "char", "short", "int", "long",
      "float", "double", "void");

  private static final byte OBJECT = 0;
  private static final byte STRING = 1;
  private static final byte DESCRIPTOR = 2;
  /** An object or array still being read: on the stack, at one depth. */
  private static final byte OPEN = 3;
  /** Rows for the depths objects are read at, and one for their parts. */
  private static final int ROWS = AllowListFilter.MAX_DEPTH + 2;

  private final byte[] bytes;
  private final int end;
  private final AllowListFilter allowList;
  private int pos;
  /**
   * Per handle: what it is, and its weight, or for a class descriptor its index in
   * {@link #descriptors}; and its weight counting what objects still being read held then.
   */
  private byte[] kinds = new byte[32];
  private long[] weights = new long[32];
  private long[] highs = new long[32];
  /** The handle of the object being read at each depth. */
  private final int[] openAt = new int[ROWS];
  /**
   * For what was last read at each depth, how much of its weight hashing it now would visit
   * through a reference to the object still being read at each depth above.
   */
  private final long[][] pulls = new long[ROWS][ROWS];
  /** The weight, counting what objects still being read hold, of what was last read. */
  private long lastHigh;
  private final List<Descriptor> descriptors = new ArrayList<>();
  private int handles;
  private long hashed;

  /** Whether the stream is a key, which the cache hashes once it is read. */
  private final boolean key;

  private StreamScan(byte[] bytes, int offset, AllowListFilter allowList, boolean key) {
    this.key = key;
    this.bytes = bytes;
    this.pos = offset;
    this.end = bytes.length;
    this.allowList = allowList;
  }

  /**
   * Why the stream starting at {@code offset} must not be deserialized, or {@code null} if the
   * scan found nothing against it; {@code key} if it is a key, whose own weight counts too.
   */
  static String problem(byte[] bytes, int offset, AllowListFilter allowList, boolean key) {
    StreamScan scan = new StreamScan(bytes, offset, allowList, key);
    try {
      scan.stream();
      return null;
    } catch (Refused e) {
      return e.getMessage();
    }
  }

  private void stream() {
    long length = end - pos;
    if (u2() != (STREAM_MAGIC & 0xFFFF) || u2() != STREAM_VERSION) {
      throw new Refused("not a serialization stream");
    }
    content(1);
    long work = key ? add(hashed, lastHigh) : hashed;
    long budget = WORK_PER_BYTE * length + WORK_FLOOR;
    if (work > budget) {
      throw new Refused("objects shared so often that hashing them visits " + (work >= SATURATED ? "over " : "")
          + work + " objects, more than the " + budget + " a value of " + length + " bytes may");
    }
  }

  /**
   * Reads one object, array, string, enum or class, or a reference or null; returns its weight,
   * leaves in {@link #lastHigh} the weight hashing it now would visit, and in {@code pulls[depth]}
   * how much of that comes through objects still being read.
   */
  private long content(int depth) {
    Arrays.fill(pulls[depth], 0, depth, 0);
    lastHigh = 1;
    int tc = u1();
    if (tc == TC_NULL) {
      lastHigh = 0;
      return 0;
    }
    if (tc == TC_STRING || tc == TC_LONGSTRING) {
      string(tc);
      return 1;
    }
    // as deep as ObjectInputStream's filter sees: it is not asked about nulls and strings
    if (depth > AllowListFilter.MAX_DEPTH) {
      throw new Refused("objects nested deeper than " + AllowListFilter.MAX_DEPTH);
    }
    switch (tc) {
      case TC_REFERENCE:
        return reference(depth, handle());
      case TC_CLASS:
        if (classDesc(depth) == null) {
          throw new Refused("a class object without a class");
        }
        newHandle(OBJECT, 1);
        return 1;
      case TC_CLASSDESC:
        pos--;
        classDesc(depth);
        return 1;
      case TC_ENUM:
        return enumConstant(depth);
      case TC_ARRAY:
        return array(depth);
      case TC_OBJECT:
        return object(depth);
      default:
        throw new Refused("unexpected stream element 0x" + Integer.toHexString(tc));
    }
  }

  /**
   * A reference: to a finished object, its weights; to one still being read (which encloses the
   * reference), 1. Hashing that object from inside itself would recurse until
   * {@code StackOverflowError}, which the codec refuses, so a hash that ends visits it once; but
   * hashing the reference now, while the object is still being read, visits what it holds so
   * far, and that is its weight for {@link #lastHigh}.
   */
  private long reference(int depth, int handle) {
    if (kinds[handle] == DESCRIPTOR) {
      return 1;
    }
    if (kinds[handle] == OPEN) {
      for (int above = 1; above < depth; above++) {
        if (openAt[above] == handle) {
          lastHigh = highs[handle];
          pulls[depth][above] = highs[handle];
          return 1;
        }
      }
      throw new Refused("a reference to an object still being read that does not enclose it");
    }
    lastHigh = highs[handle];
    return weights[handle];
  }

  private long object(int depth) {
    Descriptor desc = classDesc(depth);
    if (desc == null || desc.isEnum()) {
      throw new Refused("an object without a class");
    }
    int handle = open(depth);
    if ((desc.flags & SC_EXTERNALIZABLE) != 0) {
      if ((desc.flags & SC_BLOCK_DATA) == 0) {
        throw new Refused("externalizable " + desc.name + " in the pre-1.2 format");
      }
      annotation(depth, desc.hashes, handle);
    } else {
      levels(desc, depth, handle);
    }
    return close(handle);
  }

  /**
   * The data of {@code desc}'s class and its superclasses, topmost first: at most 65 levels. A
   * level's fields count towards the object only once all of them are read, as
   * {@code ObjectInputStream} sets them only then (and builds a record only then).
   */
  private void levels(Descriptor desc, int depth, int handle) {
    if (desc.parent != null) {
      levels(desc.parent, depth, handle);
    }
    if ((desc.flags & SC_SERIALIZABLE) == 0) {
      throw new Refused("class " + desc.name + " is neither serializable nor externalizable");
    }
    long low = 0;
    long high = 0;
    try {
      skip(desc.primitiveBytes);
      for (int i = 0; i < desc.objectFields; i++) {
        low = add(low, content(depth + 1));
        high = add(high, part(depth));
      }
    } catch (Refused e) {
      throw (desc.flags & SC_WRITE_METHOD) == 0 || !e.malformed ? e : new Refused(e.getMessage() + " in the data"
          + " of " + desc.name + ", whose writeObject must call defaultWriteObject (or writeFields) before"
          + " writing anything else, as the class's fields are read first", false);
    }
    weights[handle] = add(weights[handle], low);
    highs[handle] = add(highs[handle], high);
    if ((desc.flags & SC_WRITE_METHOD) != 0) {
      annotation(depth, desc.hashes, handle);
    }
  }

  private long array(int depth) {
    Descriptor desc = classDesc(depth);
    if (desc == null || !desc.name.startsWith("[")) {
      throw new Refused("an array of no array class");
    }
    int length = s4();
    if (length < 0) {
      throw new Refused("an array of negative length");
    }
    int handle = open(depth);
    char element = desc.name.charAt(1);
    if (element == 'L' || element == '[') {
      for (int i = 0; i < length; i++) {
        addTo(handle, content(depth + 1), depth);
      }
    } else {
      long size = (long) length * primitiveBytes(element);
      if (size > end - pos) {
        throw new Refused("an array of " + length + " " + desc.name.substring(1) + " past the end of the value");
      }
      pos += (int) size;
    }
    return close(handle);
  }

  /** A new object or array at {@code depth}, still being read. */
  private int open(int depth) {
    int handle = newHandle(OPEN, 1);
    openAt[depth] = handle;
    return handle;
  }

  /** The end of the object or array at {@code handle}; returns its weight. */
  private long close(int handle) {
    kinds[handle] = OBJECT;
    lastHigh = highs[handle];
    return weights[handle];
  }

  private long enumConstant(int depth) {
    Descriptor desc = classDesc(depth);
    if (desc == null || !desc.isEnum()) {
      throw new Refused("an enum constant of no enum class");
    }
    newHandle(OBJECT, 1);
    int tc = u1();
    if (tc != TC_STRING && tc != TC_LONGSTRING) {
      throw new Refused("an enum constant without a name");
    }
    string(tc);
    return 1;
  }

  /**
   * Objects and block data up to {@code TC_ENDBLOCKDATA}: what a {@code writeObject} method
   * wrote for the object at {@code depth}. Adds each object's weight to {@code owner}'s as soon as
   * it is read (a {@code readObject} may keep it at once), and what reading them hashes, as much
   * as hashing each would visit now, to the stream's count.
   */
  private void annotation(int depth, int hashes, int owner) {
    for (int index = 0; ; ) {
      int tc = peek();
      if (tc == TC_ENDBLOCKDATA) {
        pos++;
        return;
      } else if (tc == TC_BLOCKDATA) {
        pos++;
        skip(u1());
      } else if (tc == TC_BLOCKDATALONG) {
        pos++;
        int size = s4();
        if (size < 0) {
          throw new Refused("block data of negative length");
        }
        skip(size);
      } else {
        addTo(owner, content(depth + 1), depth);
        if (hashes == HASHES_ALL || hashes == HASHES_KEYS && index % 2 == 0) {
          hashed = add(hashed, lastHigh);
        }
        index++;
      }
    }
  }

  /**
   * What {@code ObjectOutputStream.annotateClass} wrote: nothing, unless a subclass overrides it.
   * Objects there are refused, so that reading a class descriptor never nests another: the scan,
   * and ObjectInputStream after it, recurse only as deep as the objects do plus one chain of
   * superclasses.
   */
  private void classAnnotation() {
    for (int tc = u1(); tc != TC_ENDBLOCKDATA; tc = u1()) {
      if (tc == TC_BLOCKDATA) {
        skip(u1());
      } else {
        throw new Refused("a class annotation other than empty");
      }
    }
  }

  /** Adds the part just read to the object at {@code handle}, which is read at {@code depth}. */
  private void addTo(int handle, long weight, int depth) {
    weights[handle] = add(weights[handle], weight); // after the part's reading grew the arrays
    highs[handle] = add(highs[handle], part(depth));
  }

  /**
   * What the part just read adds to the high weight of the object at {@code depth} that holds
   * it: its own, less what it visits through that very object (a hash of the object that came
   * back to it would never end), and what it visits through objects further up stays owed to them.
   */
  private long part(int depth) {
    long[] from = pulls[depth + 1];
    long[] to = pulls[depth];
    for (int above = 1; above < depth; above++) {
      to[above] = add(to[above], from[above]);
    }
    return lastHigh >= SATURATED ? SATURATED : Math.max(0, lastHigh - from[depth]);
  }

  /** A class descriptor, new or referenced, or {@code null}. */
  private Descriptor classDesc(int depth) {
    return classDesc(depth, 0);
  }

  private Descriptor classDesc(int depth, int superclasses) {
    if (superclasses > MAX_SUPERCLASSES) {
      throw new Refused("more than " + MAX_SUPERCLASSES + " serializable superclasses");
    }
    int tc = u1();
    if (tc == TC_NULL) {
      return null;
    }
    if (tc == TC_REFERENCE) {
      int handle = handle();
      Descriptor desc = kinds[handle] == DESCRIPTOR ? descriptors.get((int) weights[handle]) : null;
      if (desc == null || !desc.finished) {
        throw new Refused("a reference to no finished class descriptor");
      }
      return desc;
    }
    if (tc != TC_CLASSDESC) {
      throw new Refused(tc == TC_PROXYCLASSDESC ? "a dynamic proxy class"
          : "unexpected stream element 0x" + Integer.toHexString(tc));
    }
    String name = utf();
    skip(Long.BYTES); // serialVersionUID
    String checked = componentName(name);
    if (checked != null && !allowList.isAllowed(checked)) {
      throw new Refused("class " + checked + " is not allowed");
    }
    Descriptor desc = new Descriptor(name, u1());
    newHandle(DESCRIPTOR, descriptors.size());
    descriptors.add(desc);
    int fields = u2();
    for (int i = 0; i < fields; i++) {
      char type = (char) u1();
      skip(u2()); // the field's name
      if (type == 'L' || type == '[') {
        typeName();
        desc.objectFields++;
      } else if (desc.objectFields > 0) {
        throw new Refused("a primitive field after an object field in " + name);
      } else {
        desc.primitiveBytes += primitiveBytes(type);
      }
    }
    classAnnotation();
    Descriptor parent = classDesc(depth, superclasses + 1);
    // a superclass given by reference brings its own chain, which nesting did not count
    int levels = parent == null ? 1 : parent.levels + 1;
    if (levels > MAX_SUPERCLASSES + 1) {
      throw new Refused("more than " + MAX_SUPERCLASSES + " serializable superclasses");
    }
    desc.parent = parent;
    desc.levels = levels;
    desc.finished = true;
    return desc;
  }

  /**
   * The class a class name stands for as the allow-list judges it: an array's element class, or
   * {@code null} for a primitive or an array of primitives, which always pass.
   */
  private static String componentName(String name) {
    int dimensions = 0;
    while (dimensions < name.length() && name.charAt(dimensions) == '[') {
      dimensions++;
    }
    if (dimensions == 0) {
      return PRIMITIVES.contains(name) ? null : name; // int.class and the like, as values
    }
    String element = name.substring(dimensions);
    if (element.length() == 1 && "BCDFIJSZ".contains(element)) {
      return null;
    }
    if (element.length() > 2 && element.startsWith("L") && element.endsWith(";")) {
      return element.substring(1, element.length() - 1);
    }
    throw new Refused("malformed array class " + name);
  }

  /** The type of an object field: a new string or a reference to one. */
  private void typeName() {
    int tc = u1();
    if (tc == TC_STRING || tc == TC_LONGSTRING) {
      string(tc);
    } else if (tc != TC_REFERENCE || kinds[handle()] != STRING) {
      throw new Refused("a field without a type");
    }
  }

  private void string(int tc) {
    long length = tc == TC_STRING ? u2() : s8();
    if (length < 0 || length > end - pos) {
      throw new Refused("a string past the end of the value");
    }
    pos += (int) length;
    newHandle(STRING, 1);
  }

  private String utf() {
    int length = u2();
    int start = pos;
    skip(length);
    // class names are ASCII; any other byte only has to fail to match an allowed name
    return new String(bytes, start, length, StandardCharsets.ISO_8859_1);
  }

  private int newHandle(byte kind, long weight) {
    if (handles == kinds.length) {
      int size = handles * 2;
      kinds = Arrays.copyOf(kinds, size);
      weights = Arrays.copyOf(weights, size);
      highs = Arrays.copyOf(highs, size);
    }
    kinds[handles] = kind;
    weights[handles] = weight;
    highs[handles] = weight;
    return handles++;
  }

  private int handle() {
    int handle = s4() - baseWireHandle;
    if (handle < 0 || handle >= handles) {
      throw new Refused("a reference to no earlier object");
    }
    return handle;
  }

  private static int primitiveBytes(char type) {
    switch (type) {
      case 'B':
      case 'Z':
        return 1;
      case 'C':
      case 'S':
        return 2;
      case 'I':
      case 'F':
        return 4;
      case 'J':
      case 'D':
        return 8;
      default:
        throw new Refused("unknown field type '" + type + "'");
    }
  }

  private static long add(long a, long b) {
    long sum = a + b;
    return sum > SATURATED || sum < 0 ? SATURATED : sum;
  }

  private int peek() {
    need(1);
    return bytes[pos] & 0xFF;
  }

  private int u1() {
    need(1);
    return bytes[pos++] & 0xFF;
  }

  private int u2() {
    need(2);
    int value = (bytes[pos] & 0xFF) << 8 | bytes[pos + 1] & 0xFF;
    pos += 2;
    return value;
  }

  private int s4() {
    need(4);
    int value = (bytes[pos] & 0xFF) << 24 | (bytes[pos + 1] & 0xFF) << 16 | (bytes[pos + 2] & 0xFF) << 8
        | bytes[pos + 3] & 0xFF;
    pos += 4;
    return value;
  }

  private long s8() {
    long high = s4() & 0xFFFFFFFFL;
    return high << 32 | s4() & 0xFFFFFFFFL;
  }

  private void skip(int count) {
    need(count);
    pos += count;
  }

  private void need(int count) {
    if (count > end - pos) {
      throw new Refused("the stream ends early");
    }
  }

  /** A class as the stream describes it. */
  private static final class Descriptor {
    final String name;
    final int flags;
    final int hashes;
    int primitiveBytes;
    int objectFields;
    /** Its serializable superclass, or {@code null}. */
    Descriptor parent;
    /** It and its serializable superclasses: at most {@code MAX_SUPERCLASSES + 1}. */
    int levels;
    /** Whether its superclasses have been read: only then may a reference name it. */
    boolean finished;

    Descriptor(String name, int flags) {
      this.name = name;
      this.flags = flags;
      this.hashes = KEYED.contains(name) ? HASHES_KEYS : UNHASHED.contains(name) ? HASHES_NOTHING : HASHES_ALL;
    }

    boolean isEnum() {
      return (flags & SC_ENUM) != 0;
    }
  }

  /** Ends the scan; no stack trace, as it is a verdict on input, not a fault. */
  private static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Whether it is about bytes in the wrong place, rather than what they say. */
    final boolean malformed;

    Refused(String reason) {
      this(reason, reason.startsWith("unexpected stream element") || reason.startsWith("the stream ends early")
          || reason.startsWith("a reference to no"));
    }

    Refused(String reason, boolean malformed) {
      super(reason, null, false, false);
      this.malformed = malformed;
    }
  }
}
