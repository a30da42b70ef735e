package io.bcache.serialization;

import java.io.ObjectInputFilter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The allow-list for values that arrive from the wire, and the limits that need no knowledge of
 * the value: a class is accepted only if it is one of {@link #JDK_PREFIXES} or lies in a package
 * (or is a class) the user listed, and depth, references, array length and stream size have fixed
 * bounds. Shared and stateless.
 *
 * <p>The codec reads each value through a filter of its own ({@code ValueFilter}), which adds to
 * this one's verdicts array bounds that follow from the value's length.
 *
 * <p>Arrays are judged by their component type; primitives always pass.
 */
public final class AllowListFilter implements ObjectInputFilter {

  /**
   * JDK types a cached value commonly contains: entries ending in {@code .} are packages (their
   * subpackages included), the others classes. Collections are named one by one, with the
   * superclasses, serial proxies and {@code readResolve} results their streams hold, rather than
   * all of {@code java.util}, which also holds classes that act when read (a
   * {@code java.util.logging.LogRecord} loads the resource bundle its stream names). Not
   * {@code java.net.URL}: its {@code hashCode} resolves the host, so a set of URLs read from a
   * peer would make blocking DNS lookups on the replication thread and send traffic off the
   * machine (the URLDNS gadget); {@code URI} holds the same text without that.
   */
  public static final Set<String> JDK_PREFIXES = Set.of(
      "java.lang.String", "java.lang.Boolean", "java.lang.Character", "java.lang.Byte",
      "java.lang.Short", "java.lang.Integer", "java.lang.Long", "java.lang.Float",
      "java.lang.Double", "java.lang.Number", "java.lang.Enum", "java.lang.Object",
      "java.lang.StackTraceElement", "java.io.Serializable", "java.math.", "java.time.", "java.net.URI",
      "java.sql.Date", "java.sql.Time", "java.sql.Timestamp",
      // values
      "java.util.UUID", "java.util.Date", "java.util.Locale", "java.util.Currency", "java.util.BitSet",
      "java.util.Calendar", "java.util.GregorianCalendar", "java.util.TimeZone", "java.util.SimpleTimeZone",
      "sun.util.calendar.ZoneInfo",
      // lists, queues, sets and maps
      "java.util.ArrayList", "java.util.LinkedList", "java.util.Vector", "java.util.Stack",
      "java.util.ArrayDeque", "java.util.PriorityQueue",
      "java.util.HashSet", "java.util.LinkedHashSet", "java.util.TreeSet",
      "java.util.HashMap", "java.util.LinkedHashMap", "java.util.TreeMap", "java.util.Hashtable",
      "java.util.Properties", "java.util.IdentityHashMap", "java.util.Map$Entry",
      // TreeMap's headMap, tailMap, subMap and descendingMap (and so TreeSet's views' maps)
      "java.util.TreeMap$NavigableSubMap", "java.util.TreeMap$AscendingSubMap", "java.util.TreeMap$DescendingSubMap",
      "java.util.AbstractMap$SimpleEntry", "java.util.AbstractMap$SimpleImmutableEntry",
      "java.util.EnumMap", "java.util.EnumSet$SerializationProxy", "java.util.RegularEnumSet",
      "java.util.JumboEnumSet", "java.util.Arrays$ArrayList",
      // List.of, Set.of, Map.of and their copies: the serial proxy and what it resolves to
      "java.util.CollSer", "java.util.ImmutableCollections$List12", "java.util.ImmutableCollections$ListN",
      "java.util.ImmutableCollections$Set12", "java.util.ImmutableCollections$SetN",
      "java.util.ImmutableCollections$Map1", "java.util.ImmutableCollections$MapN",
      // what java.util.Collections makes
      "java.util.Collections$EmptyList", "java.util.Collections$EmptySet", "java.util.Collections$EmptyMap",
      "java.util.Collections$SingletonList", "java.util.Collections$SingletonSet",
      "java.util.Collections$SingletonMap", "java.util.Collections$CopiesList",
      "java.util.Collections$SetFromMap",
      "java.util.Collections$UnmodifiableCollection", "java.util.Collections$UnmodifiableList",
      "java.util.Collections$UnmodifiableRandomAccessList", "java.util.Collections$UnmodifiableSet",
      "java.util.Collections$UnmodifiableSortedSet", "java.util.Collections$UnmodifiableNavigableSet",
      "java.util.Collections$UnmodifiableNavigableSet$EmptyNavigableSet",
      "java.util.Collections$UnmodifiableMap", "java.util.Collections$UnmodifiableSortedMap",
      "java.util.Collections$UnmodifiableNavigableMap",
      "java.util.Collections$UnmodifiableNavigableMap$EmptyNavigableMap",
      "java.util.Collections$SynchronizedCollection", "java.util.Collections$SynchronizedList",
      "java.util.Collections$SynchronizedRandomAccessList", "java.util.Collections$SynchronizedSet",
      "java.util.Collections$SynchronizedSortedSet", "java.util.Collections$SynchronizedNavigableSet",
      "java.util.Collections$SynchronizedMap", "java.util.Collections$SynchronizedSortedMap",
      "java.util.Collections$SynchronizedNavigableMap",
      "java.util.Collections$CheckedCollection", "java.util.Collections$CheckedList",
      "java.util.Collections$CheckedRandomAccessList", "java.util.Collections$CheckedSet",
      "java.util.Collections$CheckedSortedSet", "java.util.Collections$CheckedNavigableSet",
      "java.util.Collections$CheckedQueue", "java.util.Collections$CheckedMap",
      "java.util.Collections$CheckedSortedMap", "java.util.Collections$CheckedNavigableMap",
      // the comparators of sorted collections
      "java.util.Collections$ReverseComparator", "java.util.Collections$ReverseComparator2",
      "java.util.Comparators$NaturalOrderComparator", "java.util.Comparators$NullComparator",
      "java.lang.String$CaseInsensitiveComparator",
      // java.util.concurrent; a ConcurrentHashMap's stream holds segments, which are locks
      "java.util.concurrent.ConcurrentHashMap", "java.util.concurrent.ConcurrentHashMap$Segment",
      "java.util.concurrent.ConcurrentHashMap$CollectionView", "java.util.concurrent.ConcurrentHashMap$KeySetView",
      "java.util.concurrent.locks.ReentrantLock", "java.util.concurrent.locks.ReentrantLock$Sync",
      "java.util.concurrent.locks.ReentrantLock$NonfairSync",
      "java.util.concurrent.locks.AbstractQueuedSynchronizer",
      "java.util.concurrent.locks.AbstractOwnableSynchronizer",
      "java.util.concurrent.CopyOnWriteArrayList", "java.util.concurrent.CopyOnWriteArraySet",
      "java.util.concurrent.ConcurrentSkipListMap", "java.util.concurrent.ConcurrentSkipListSet",
      "java.util.concurrent.ConcurrentLinkedQueue", "java.util.concurrent.ConcurrentLinkedDeque",
      "java.util.concurrent.TimeUnit",
      "java.util.concurrent.atomic.AtomicBoolean", "java.util.concurrent.atomic.AtomicInteger",
      "java.util.concurrent.atomic.AtomicLong", "java.util.concurrent.atomic.AtomicReference",
      "java.util.concurrent.atomic.AtomicIntegerArray", "java.util.concurrent.atomic.AtomicLongArray",
      "java.util.concurrent.atomic.AtomicReferenceArray",
      "java.util.concurrent.atomic.LongAdder", "java.util.concurrent.atomic.LongAdder$SerializationProxy",
      "java.util.concurrent.atomic.DoubleAdder", "java.util.concurrent.atomic.DoubleAdder$SerializationProxy");

  /**
   * How deep objects may nest: Java serialization follows references depth first, so a graph
   * whose objects refer to each other (entities and their associations, a doubly linked list)
   * nests deep. It does not bound hashing: sets nested a few levels deep, each holding several
   * sets of the level below, make reading them hash exponentially often at any depth (see the
   * design's known limits).
   */
  static final int MAX_DEPTH = 64;
  /** A ceiling: every reference takes at least a byte, so a value's length bounds them too. */
  private static final long MAX_REFERENCES = 1_000_000;
  private static final long MAX_ARRAY_LENGTH = 64L * 1024 * 1024;

  private final Set<String> classes;
  private final List<String> packages;
  private final long maxBytes;

  /**
   * @param userPrefixes package prefixes (ending in {@code .}) or class names the user allows,
   *     in addition to {@link #JDK_PREFIXES}
   * @param maxBytes the most bytes one value's stream may hold
   */
  public AllowListFilter(Collection<String> userPrefixes, long maxBytes) {
    Set<String> classes = new HashSet<>();
    List<String> packages = new ArrayList<>();
    for (Collection<String> list : List.of(JDK_PREFIXES, userPrefixes)) {
      for (String prefix : list) {
        String trimmed = prefix.trim();
        if (trimmed.endsWith(".")) {
          packages.add(trimmed);
        } else if (!trimmed.isEmpty()) {
          classes.add(trimmed);
        }
      }
    }
    this.classes = Set.copyOf(classes);
    this.packages = List.copyOf(packages);
    this.maxBytes = maxBytes;
  }

  @Override
  public Status checkInput(FilterInfo info) {
    if (info.depth() > MAX_DEPTH || info.references() > MAX_REFERENCES
        || info.streamBytes() > maxBytes || info.arrayLength() > MAX_ARRAY_LENGTH) {
      return Status.REJECTED;
    }
    Class<?> type = info.serialClass();
    if (type == null) {
      return Status.UNDECIDED;
    }
    while (type.isArray()) {
      type = type.getComponentType();
    }
    if (type.isPrimitive()) {
      return Status.ALLOWED;
    }
    return isAllowed(type.getName()) ? Status.ALLOWED : Status.REJECTED;
  }

  /**
   * Why {@link #checkInput} rejected {@code info}, for a message a user can act on: the class
   * that is not on the list (arrays named by their component type), or the limit exceeded.
   */
  public String describeRejection(FilterInfo info) {
    Class<?> type = info.serialClass();
    while (type != null && type.isArray()) {
      type = type.getComponentType();
    }
    if (type != null && !type.isPrimitive() && !isAllowed(type.getName())) {
      return "class " + type.getName() + " is not allowed";
    }
    if (info.depth() > MAX_DEPTH) {
      return "objects nested deeper than " + MAX_DEPTH;
    }
    if (info.references() > MAX_REFERENCES) {
      return "more than " + MAX_REFERENCES + " object references";
    }
    if (info.streamBytes() > maxBytes) {
      return "a stream of more than " + maxBytes + " bytes";
    }
    return "an array of " + info.arrayLength() + " elements, more than " + MAX_ARRAY_LENGTH;
  }

  /** Whether a class of this name passes the list. */
  public boolean isAllowed(String className) {
    if (classes.contains(className)) {
      return true;
    }
    for (String prefix : packages) {
      if (className.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }
}
