package io.bcache.serialization;

import java.io.ObjectInputFilter;

/**
 * The filter for one value's stream: the shared {@link AllowListFilter} judges classes and the
 * fixed limits, and this adds the limits that follow from the value's length, so that a few bytes
 * cannot make {@link java.io.ObjectInputStream} allocate what they could never fill.
 *
 * <p>The filter is consulted with an array's length before the array is allocated, both for
 * arrays in the stream and for the arrays that {@code readObject} methods size from a count they
 * read ({@code ArrayList} its size, {@code HashMap} and {@code HashSet} their tables). What an
 * honest stream can ask for:
 *
 * <ul>
 *   <li>a primitive array carries its elements in the stream, byte for byte;
 *   <li>every element of a reference array, and every element of a list, deque or queue, is at
 *       least one byte ({@code TC_NULL});
 *   <li>a hash table is at most about 8 slots per mapping (the load factor read from the stream is
 *       clamped to at least 0.25, and the table is rounded up to a power of two), and each mapping
 *       is at least two bytes, a key and a value: 4 slots per byte.
 * </ul>
 *
 * <p>So a single array may have at most {@code 4 * length + 64} elements, a primitive array at most
 * as many bytes as the value, and all the arrays of one stream together (primitive ones counted in
 * bytes) at most {@code 4 * length + 64}, so that many arrays cannot each take the whole
 * allowance; the 64 covers the smallest tables ({@code HashMap} starts at 16 slots) of a value of a
 * few bytes. A rejected stream costs at most about 16 (32 without compressed references) times its
 * length in heap, and only until the stream fails.
 *
 * <p>One instance per stream: it counts, and a stream calls its filter only from the thread
 * reading it.
 */
final class ValueFilter implements ObjectInputFilter {

  /** Slots per byte of value an honest stream can make a hash table ask for; see the class comment. */
  private static final long SLOTS_PER_BYTE = 4;
  /** Room for the smallest tables of the smallest values. */
  private static final long SLOTS_FLOOR = 64;

  private final AllowListFilter shared;
  private final long length;
  private final long arrayBudget;
  private long arrayTotal;
  private String rejection;

  /** @param length the bytes of the value's serialization stream */
  ValueFilter(AllowListFilter shared, long length) {
    this.shared = shared;
    this.length = length;
    this.arrayBudget = SLOTS_PER_BYTE * length + SLOTS_FLOOR;
  }

  @Override
  public Status checkInput(FilterInfo info) {
    if (info.arrayLength() >= 0) {
      String problem = arrayProblem(info.serialClass(), info.arrayLength());
      if (problem != null) {
        return reject(problem);
      }
    }
    Status status = shared.checkInput(info);
    return status == Status.REJECTED ? reject(shared.describeRejection(info)) : status;
  }

  /** Why the first rejection happened, or {@code null} if nothing was rejected. */
  String rejection() {
    return rejection;
  }

  private String arrayProblem(Class<?> arrayType, long elements) {
    Class<?> component = arrayType == null ? null : arrayType.getComponentType();
    long weight;
    if (component != null && component.isPrimitive()) {
      weight = elements * primitiveBytes(component);
      if (weight > length) {
        return "an array of " + elements + " " + component.getName() + " (" + weight + " bytes) in a value of "
            + length + " bytes";
      }
    } else {
      weight = elements;
      if (weight > arrayBudget) {
        return "an array of " + elements + " elements in a value of " + length + " bytes (at most "
            + arrayBudget + ")";
      }
    }
    arrayTotal += weight;
    if (arrayTotal > arrayBudget) {
      return "arrays of " + arrayTotal + " elements in all in a value of " + length + " bytes (at most "
          + arrayBudget + ")";
    }
    return null;
  }

  private Status reject(String reason) {
    if (rejection == null) {
      rejection = reason;
    }
    return Status.REJECTED;
  }

  private static long primitiveBytes(Class<?> type) {
    if (type == long.class || type == double.class) {
      return 8;
    }
    if (type == int.class || type == float.class) {
      return 4;
    }
    if (type == short.class || type == char.class) {
      return 2;
    }
    return 1; // byte, boolean
  }
}
