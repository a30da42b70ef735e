package io.bcache.serialization;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.AbstractMap;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Calendar;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.Currency;
import java.util.Date;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.GregorianCalendar;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Properties;
import java.util.Set;
import java.util.SimpleTimeZone;
import java.util.Stack;
import java.util.TimeZone;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.Vector;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Level;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The JDK types a cached value commonly holds pass the default allow-list; the rest of java.util does not. */
class JdkAllowListTest {

  /** A user's enum: the one class here the user lists. */
  enum Color { RED, GREEN }

  private final WireCodec codec = new WireCodec(new AllowListFilter(List.of(Color.class.getName()), 64L << 20));

  /** Several of each kind, with elements, as values hold them. */
  static List<Object> commonValues() {
    List<Object> values = new ArrayList<>();
    Collections.addAll(values, "text", true, 'c', (byte) 1, (short) 2, 3, 4L, 5.5f, 6.5d,
        new BigDecimal("1.50"), BigInteger.TEN, Instant.ofEpochSecond(5), Duration.ofSeconds(3),
        LocalDate.of(2024, 2, 29), ZonedDateTime.of(2024, 1, 1, 0, 0, 0, 0, ZoneId.of("Europe/Paris")),
        URI.create("https://example.invalid/x"), new Timestamp(5), new java.sql.Date(0), new java.sql.Time(0),
        UUID.randomUUID(), new Date(5), Locale.CANADA_FRENCH, Currency.getInstance("EUR"),
        BitSet.valueOf(new long[] {5}),
        new GregorianCalendar(2024, Calendar.MARCH, 1), new GregorianCalendar(TimeZone.getTimeZone("Asia/Tokyo")),
        TimeZone.getTimeZone("America/New_York"), new SimpleTimeZone(3_600_000, "X"), Color.GREEN,
        new Object[] {1, "a", null}, new String[] {"a"}, new int[] {1, 2}, new long[][] {{1}, {2}},
        TimeUnit.SECONDS);

    List<Integer> ints = List.of(3, 1, 2);
    Map<String, Integer> map = Map.of("a", 1, "b", 2);
    Collections.addAll(values, new ArrayList<>(ints), new LinkedList<>(ints), new Vector<>(ints), stack(ints),
        new ArrayDeque<>(ints), new PriorityQueue<>(ints), new HashSet<>(ints), new LinkedHashSet<>(ints),
        new TreeSet<>(ints), new HashMap<>(map), new LinkedHashMap<>(map), new TreeMap<>(map), new Hashtable<>(map),
        properties(), new IdentityHashMap<>(map), new AbstractMap.SimpleEntry<>("k", 1),
        new AbstractMap.SimpleImmutableEntry<>("k", 1), new EnumMap<>(Map.of(Color.RED, 1)),
        EnumSet.of(Color.RED), EnumSet.allOf(Color.class), Arrays.asList(1, 2),
        List.of(), List.of(1), ints, Set.of(), Set.of(1), Set.of(1, 2, 3), Map.of(), Map.of("a", 1), map,
        List.copyOf(new ArrayList<>(ints)), ints.stream().toList(),
        Collections.emptyList(), Collections.emptySet(), Collections.emptyMap(), Collections.emptySortedSet(),
        Collections.emptyNavigableMap(), Collections.singletonList(1), Collections.singleton(1),
        Collections.singletonMap("a", 1), Collections.nCopies(3, "x"), Collections.newSetFromMap(new HashMap<>()),
        Collections.unmodifiableCollection(new ArrayList<>(ints)), Collections.unmodifiableList(new ArrayList<>(ints)),
        Collections.unmodifiableList(new LinkedList<>(ints)), Collections.unmodifiableSet(new HashSet<>(ints)),
        Collections.unmodifiableSortedSet(new TreeSet<>(ints)),
        Collections.unmodifiableNavigableSet(new TreeSet<>(ints)),
        Collections.unmodifiableMap(new HashMap<>(map)), Collections.unmodifiableSortedMap(new TreeMap<>(map)),
        Collections.unmodifiableNavigableMap(new TreeMap<>(map)),
        Collections.synchronizedCollection(new ArrayList<>(ints)), Collections.synchronizedList(new ArrayList<>(ints)),
        Collections.synchronizedList(new LinkedList<>(ints)), Collections.synchronizedSet(new HashSet<>(ints)),
        Collections.synchronizedSortedSet(new TreeSet<>(ints)),
        Collections.synchronizedNavigableSet(new TreeSet<>(ints)),
        Collections.synchronizedMap(new HashMap<>(map)), Collections.synchronizedSortedMap(new TreeMap<>(map)),
        Collections.synchronizedNavigableMap(new TreeMap<>(map)),
        // TreeMap's views: AscendingSubMap and DescendingSubMap, with the map they view
        new TreeMap<>(map).headMap("b"), new TreeMap<>(map).tailMap("a", false), new TreeMap<>(map).subMap("a", "c"),
        new TreeMap<>(map).descendingMap(), new TreeSet<>(ints).descendingSet(), new TreeSet<>(ints).headSet(2),
        Collections.checkedCollection(new ArrayList<>(ints), Integer.class),
        Collections.checkedList(new ArrayList<>(ints), Integer.class),
        Collections.checkedList(new LinkedList<>(ints), Integer.class),
        Collections.checkedSet(new HashSet<>(ints), Integer.class),
        Collections.checkedSortedSet(new TreeSet<>(ints), Integer.class),
        Collections.checkedNavigableSet(new TreeSet<>(ints), Integer.class),
        Collections.checkedQueue(new ArrayDeque<>(ints), Integer.class),
        Collections.checkedMap(new HashMap<>(map), String.class, Integer.class),
        Collections.checkedSortedMap(new TreeMap<>(map), String.class, Integer.class),
        Collections.checkedNavigableMap(new TreeMap<>(map), String.class, Integer.class),
        sorted(Collections.reverseOrder()), sorted(Collections.reverseOrder(Comparator.nullsFirst(natural()))),
        sorted(natural()), sorted(Comparator.nullsLast(natural())), sorted(String.CASE_INSENSITIVE_ORDER),
        new ConcurrentHashMap<>(map), keySet(), new CopyOnWriteArrayList<>(ints), new CopyOnWriteArraySet<>(ints),
        new ConcurrentSkipListMap<>(map), new ConcurrentSkipListSet<>(ints), new ConcurrentLinkedQueue<>(ints),
        new ConcurrentLinkedDeque<>(ints));
    return values;
  }

  @Test
  void commonJdkValuesDecode() {
    for (Object value : commonValues()) {
      Object read = codec.decode(codec.encode(value), null);
      assertThat(comparable(read)).as(value.getClass().getName()).isEqualTo(comparable(value));
      // nested a few levels, as values hold them
      List<Object> nested = new ArrayList<>(List.of(Map.of("k", new ArrayList<>(List.of(value)))));
      List<?> readNested = (List<?>) codec.decode(codec.encode(nested), null);
      Object inner = ((List<?>) ((Map<?, ?>) readNested.get(0)).get("k")).get(0);
      assertThat(comparable(inner)).as(value.getClass().getName()).isEqualTo(comparable(value));
    }
  }

  /** What equals can compare: arrays as text, queues and identity maps as lists and maps. */
  private static Object comparable(Object value) {
    if (value.getClass().isArray()) {
      return Arrays.deepToString(new Object[] {value});
    }
    if (value instanceof IdentityHashMap) {
      return new HashMap<>((Map<?, ?>) value);
    }
    if (value instanceof Collection && !(value instanceof List) && !(value instanceof Set)) {
      return new ArrayList<>((Collection<?>) value); // queues, and the wrappers that keep Object.equals
    }
    return value;
  }

  @Test
  void atomicNumbersAndAddersDecode() {
    Object[] read = (Object[]) codec.decode(codec.encode(new Object[] {new AtomicBoolean(true), new AtomicInteger(2),
        new AtomicLong(3), new AtomicReference<>("r"), new AtomicIntegerArray(new int[] {4}),
        new AtomicLongArray(new long[] {5}), new AtomicReferenceArray<>(new String[] {"s"}), adder(6), doubleAdder(7)}),
        null);
    assertThat(((AtomicBoolean) read[0]).get()).isTrue();
    assertThat(((AtomicInteger) read[1]).get()).isEqualTo(2);
    assertThat(((AtomicLong) read[2]).get()).isEqualTo(3);
    assertThat(((AtomicReference<?>) read[3]).get()).isEqualTo("r");
    assertThat(((AtomicIntegerArray) read[4]).get(0)).isEqualTo(4);
    assertThat(((AtomicLongArray) read[5]).get(0)).isEqualTo(5);
    assertThat(((AtomicReferenceArray<?>) read[6]).get(0)).isEqualTo("s");
    assertThat(((LongAdder) read[7]).sum()).isEqualTo(6);
    assertThat(((DoubleAdder) read[8]).sum()).isEqualTo(7.0);
  }

  @Test
  void otherJdkClassesAreRefusedUnlessListed() {
    for (Object value : List.of(Pattern.compile("a+"), Level.WARNING, new java.util.Random(1))) {
      byte[] bytes = codec.encode(value);
      assertThatThrownBy(() -> codec.decode(bytes, null))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("class " + value.getClass().getName() + " is not allowed");
    }
    WireCodec allowing = new WireCodec(new AllowListFilter(List.of("java.util.regex.Pattern"), 64L << 20));
    assertThat(allowing.decode(allowing.encode(Pattern.compile("a+")), null).toString()).isEqualTo("a+");
  }

  @Test
  void theListNamesNoUrlAndNoWholePackageButJavaTimeAndJavaMath() {
    AllowListFilter filter = new AllowListFilter(List.of(), 1);
    assertThat(filter.isAllowed("java.net.URL")).isFalse();
    assertThat(AllowListFilter.JDK_PREFIXES.stream().filter(prefix -> prefix.endsWith(".")))
        .containsExactlyInAnyOrder("java.math.", "java.time.");
  }

  private static Stack<Integer> stack(Collection<Integer> ints) {
    Stack<Integer> stack = new Stack<>();
    stack.addAll(ints);
    return stack;
  }

  private static Properties properties() {
    Properties properties = new Properties();
    properties.setProperty("a", "1");
    return properties;
  }

  private static TreeMap<String, Integer> sorted(Comparator<? super String> order) {
    TreeMap<String, Integer> map = new TreeMap<>(order);
    map.put("a", 1);
    map.put("b", 2);
    return map;
  }

  private static Comparator<String> natural() {
    return Comparator.naturalOrder();
  }

  private static Set<String> keySet() {
    Set<String> set = ConcurrentHashMap.newKeySet();
    set.add("a");
    return set;
  }

  private static LongAdder adder(long value) {
    LongAdder adder = new LongAdder();
    adder.add(value);
    return adder;
  }

  private static DoubleAdder doubleAdder(double value) {
    DoubleAdder adder = new DoubleAdder();
    adder.add(value);
    return adder;
  }
}
