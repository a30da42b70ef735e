package io.bcache.serialization;

import java.io.ObjectInputFilter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * The deserialization filter for values that arrive from the wire: a class is accepted only if
 * it is a common JDK value type or lies in a package (or is a class) the user listed; anything
 * else is rejected before it is instantiated. Depth, reference count, array length and stream
 * size have fixed bounds too. This part is shared and stateless; the codec reads each value
 * through a filter of its own that adds the bounds that follow from the value's length
 * ({@code ValueFilter}), so that a few bytes cannot declare arrays they could never fill.
 *
 * <p>Arrays are judged by their component type; primitives always pass.
 */
public final class AllowListFilter implements ObjectInputFilter {

  /**
   * JDK types a cached value commonly contains. Not {@code java.net.URL}: its {@code hashCode}
   * resolves the host, so a set of URLs read from a peer would make blocking DNS lookups on the
   * replication thread and send traffic off the machine (the URLDNS gadget). {@code URI} holds the
   * same text without that.
   */
  public static final Set<String> JDK_PREFIXES = Set.of(
      "java.lang.String", "java.lang.Boolean", "java.lang.Character", "java.lang.Byte",
      "java.lang.Short", "java.lang.Integer", "java.lang.Long", "java.lang.Float",
      "java.lang.Double", "java.lang.Number", "java.lang.Enum", "java.lang.Object",
      "java.lang.StackTraceElement", "java.io.Serializable", "java.math.", "java.time.", "java.util.", "java.net.URI",
      "java.sql.Date", "java.sql.Time", "java.sql.Timestamp");

  /**
   * How deep objects may nest. Deep enough for what caches hold (a Hibernate entry, its
   * disassembled state and the values in it take 4 to 6 levels; a record holding a list of maps of
   * lists, 5; {@code List.of} and the unmodifiable wrappers take 2 levels each), and shallow enough
   * that reading cannot recurse far, and that sets nested two per level, each holding both sets of
   * the level below, hash about 2^20 times (some 40 ms) even before the stream scan refuses them.
   * Sharing wider than that is the scan's to refuse: the depth alone does not bound it.
   */
  static final int MAX_DEPTH = 20;
  private static final long MAX_REFERENCES = 1_000_000;
  private static final long MAX_ARRAY_LENGTH = 64L * 1024 * 1024;

  private final List<String> prefixes;
  private final long maxBytes;

  /**
   * @param userPrefixes package prefixes (ending in {@code .}) or class names the user allows,
   *     in addition to {@link #JDK_PREFIXES}
   * @param maxBytes the most bytes one value's stream may hold
   */
  public AllowListFilter(Collection<String> userPrefixes, long maxBytes) {
    List<String> all = new ArrayList<>(JDK_PREFIXES);
    for (String prefix : userPrefixes) {
      String trimmed = prefix.trim();
      if (!trimmed.isEmpty()) {
        all.add(trimmed);
      }
    }
    this.prefixes = List.copyOf(all);
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
    return "the stream is over the limits (depth " + info.depth() + ", references " + info.references()
        + ", bytes " + info.streamBytes() + ", array length " + info.arrayLength() + ")";
  }

  /** Whether a class of this name passes the list. */
  public boolean isAllowed(String className) {
    for (String prefix : prefixes) {
      if (prefix.endsWith(".") ? className.startsWith(prefix) : className.equals(prefix)) {
        return true;
      }
    }
    return false;
  }
}
