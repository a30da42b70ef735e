package io.bcache.replication.sim;

import io.bcache.replication.ApplyResult;
import io.bcache.replication.Change;
import io.bcache.replication.LoadResult;
import io.bcache.replication.LocalReplicas;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A node's caches in the simulation: per cache a bounded LRU of live entries that evicts locally
 * and silently, plus tombstones (unbounded, like the real store's, and purged by the core).
 *
 * <p>It also watches what replication does to it: a key it evicted coming back with a version it
 * had already seen (sync pushing an evicted key back), and a removed key coming back after its
 * tombstone was purged (resurrection).
 */
final class SimReplica implements LocalReplicas {

  /** A held version of one key. */
  record Entry(byte[] value, long hlc, long origin, long expireAt) {
    boolean isNewerThan(Entry other) {
      return Change.isNewer(hlc, origin, other.hlc, other.origin);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Entry e && hlc == e.hlc && origin == e.origin && expireAt == e.expireAt
          && java.util.Arrays.equals(value, e.value);
    }

    @Override
    public int hashCode() {
      return Long.hashCode(hlc) * 31 + Long.hashCode(origin);
    }

    @Override
    public String toString() {
      return (value == null ? "<removed>" : new String(value, StandardCharsets.UTF_8))
          + " v" + hlc + "@" + origin;
    }
  }

  /** A version, for the set of versions this replica has seen. */
  record Version(long hlc, long origin) {
  }

  private final class CacheCopy {
    final int maxEntries;
    final LinkedHashMap<String, Entry> live = new LinkedHashMap<>(16, 0.75f, true);
    final Map<String, Entry> tombstones = new HashMap<>();
    final Map<String, Entry> evicted = new HashMap<>();
    final Map<String, Entry> purged = new HashMap<>();
    /** The version of the latest clear applied, or {@code null}. */
    Version cleared;

    CacheCopy(int maxEntries) {
      this.maxEntries = maxEntries;
    }

    boolean isCleared(long hlc, long origin) {
      return cleared != null && !Change.isNewer(hlc, origin, cleared.hlc(), cleared.origin());
    }

    /** Applies a clear: whatever is not newer goes, and stays gone. */
    boolean clear(Version version) {
      if (isCleared(version.hlc(), version.origin())) {
        return false;
      }
      cleared = version;
      live.values().removeIf(entry -> isCleared(entry.hlc(), entry.origin()));
      tombstones.values().removeIf(entry -> isCleared(entry.hlc(), entry.origin()));
      return true;
    }

    Entry current(String key) {
      Entry entry = live.get(key);
      return entry != null ? entry : tombstones.get(key);
    }

    void install(String key, Entry entry) {
      if (entry.value == null) {
        live.remove(key);
        tombstones.put(key, entry);
      } else {
        tombstones.remove(key);
        live.put(key, entry);
        evicted.remove(key);
        purged.remove(key);
        while (live.size() > maxEntries) {
          Iterator<Map.Entry<String, Entry>> eldest = live.entrySet().iterator();
          Map.Entry<String, Entry> victim = eldest.next();
          eldest.remove();
          evicted.put(victim.getKey(), victim.getValue());
          if (TRACE != null && TRACE.endsWith("/" + victim.getKey())) {
            System.out.println("  evicted " + victim);
          }
          evictions++;
        }
      }
    }
  }

  static final String TRACE = System.getProperty("bcache.sim.trace");
  static java.util.function.LongSupplier now = () -> -1;
  private final String nodeName;
  private final Map<String, CacheCopy> caches = new TreeMap<>();
  /** The copy of each cache that the core has admitted: a copy created since is not shown to it. */
  private final Map<String, CacheCopy> admitted = new HashMap<>();
  /** Versions handed to this replica (local writes included) while their cache existed here. */
  private final Set<Version> seen = new HashSet<>();
  /** The same versions by cache: a copy that is closed takes its versions with it. */
  private final Map<String, Set<Version>> seenByCache = new HashMap<>();
  private final List<String> violations = new ArrayList<>();
  private long evictions;

  SimReplica(String nodeName) {
    this.nodeName = nodeName;
  }

  void createCache(String name, int maxEntries) {
    caches.putIfAbsent(name, new CacheCopy(maxEntries));
  }

  /**
   * Closes this replica's copy of a cache: its entries are gone here (peers keep theirs), and so
   * are the versions it saw, which survive only if some other copy has them.
   */
  void dropCache(String name) {
    caches.remove(name);
    Set<Version> versions = seenByCache.remove(name);
    if (versions != null) {
      seen.removeAll(versions);
    }
  }

  /** Records a version this replica was handed for a cache it has; false if seen before. */
  private boolean see(String cacheName, Version version) {
    seenByCache.computeIfAbsent(cacheName, name -> new HashSet<>()).add(version);
    return seen.add(version);
  }

  @Override
  public Object copyOf(String cacheName) {
    return admitted(cacheName);
  }

  /** A cache's copy as the core sees it: once admitted, as in production. */
  private CacheCopy admitted(String cacheName) {
    CacheCopy copy = caches.get(cacheName);
    return copy != null && admitted.get(cacheName) == copy ? copy : null;
  }

  boolean hasCache(String name) {
    return caches.containsKey(name);
  }

  /** A local write: its fresh HLC timestamp must beat whatever is held. */
  void writeLocal(Change change) {
    CacheCopy cache = caches.get(change.cacheName());
    if (change.isClear()) {
      Version version = new Version(change.hlc(), change.origin());
      see(change.cacheName(), version);
      if (!cache.clear(version)) {
        violations.add(nodeName + ": local clear " + version + " not newer than " + cache.cleared);
      }
      return;
    }
    String key = new String(change.key(), StandardCharsets.UTF_8);
    Entry entry = new Entry(change.value(), change.hlc(), change.origin(), change.expireAt());
    Entry current = cache.current(key);
    if (current != null && !entry.isNewerThan(current)) {
      violations.add(nodeName + ": local write " + entry + " not newer than held " + current
          + " (HLC did not observe a remote version)");
    }
    see(change.cacheName(), new Version(change.hlc(), change.origin()));
    if (TRACE != null && TRACE.equals(change.cacheName() + "/" + key)) {
      System.out.println("t=" + now.getAsLong() + " " + nodeName + " local write " + entry + " held=" + current);
    }
    cache.install(key, entry);
  }

  @Override
  public ApplyResult apply(Change change) {
    CacheCopy cache = admitted(change.cacheName());
    if (cache == null) {
      if (TRACE != null && TRACE.equals(change.cacheName() + "/" + new String(change.key(), StandardCharsets.UTF_8))) {
        System.out.println("t=" + now.getAsLong() + " " + nodeName + " NO_SUCH_CACHE " + change);
      }
      return ApplyResult.NO_SUCH_CACHE;
    }
    if (change.isClear()) {
      Version version = new Version(change.hlc(), change.origin());
      see(change.cacheName(), version);
      return cache.clear(version) ? ApplyResult.APPLIED : ApplyResult.STALE;
    }
    if (cache.isCleared(change.hlc(), change.origin())) {
      see(change.cacheName(), new Version(change.hlc(), change.origin()));
      return ApplyResult.STALE;
    }
    String key = new String(change.key(), StandardCharsets.UTF_8);
    Entry entry = new Entry(change.value(), change.hlc(), change.origin(), change.expireAt());
    Version version = new Version(change.hlc(), change.origin());
    boolean seenBefore = !see(change.cacheName(), version);
    if (TRACE != null && TRACE.equals(change.cacheName() + "/" + new String(change.key(), StandardCharsets.UTF_8))) {
      System.out.println("t=" + now.getAsLong() + " " + nodeName + " apply " + change + " seenBefore=" + seenBefore + " held=" + cache.current(key) + " evicted=" + cache.evicted.get(key) + "\n   " + java.util.Arrays.toString(java.util.Arrays.copyOfRange(new Throwable().getStackTrace(), 1, 4)));
    }
    Entry current = cache.current(key);
    if (current != null && !entry.isNewerThan(current)) {
      return ApplyResult.STALE;
    }
    if (current == null && entry.value() != null) {
      Entry evicted = cache.evicted.get(key);
      if (evicted != null && seenBefore) {
        violations.add(nodeName + ": evicted key " + change.cacheName() + "/" + key
            + " pushed back with already seen version " + entry);
      }
      Entry purged = cache.purged.get(key);
      if (purged != null && purged.isNewerThan(entry)) {
        violations.add(nodeName + ": removed key " + change.cacheName() + "/" + key
            + " resurrected by " + entry + " after its tombstone " + purged + " was purged");
      }
    }
    cache.install(key, entry);
    return ApplyResult.APPLIED;
  }

  @Override
  public Iterator<Change> snapshot(String cacheName) {
    CacheCopy cache = admitted(cacheName);
    if (cache == null) {
      return Collections.emptyIterator();
    }
    List<Change> state = new ArrayList<>();
    if (cache.cleared != null) {
      state.add(Change.clear(cacheName, cache.cleared.hlc(), cache.cleared.origin()));
    }
    for (Map<String, Entry> map : List.of(cache.live, cache.tombstones)) {
      for (Map.Entry<String, Entry> e : new TreeMap<>(map).entrySet()) {
        Entry entry = e.getValue();
        state.add(new Change(cacheName, e.getKey().getBytes(StandardCharsets.UTF_8),
            entry.value(), entry.hlc(), entry.origin(), 0, entry.expireAt()));
      }
    }
    if (TRACE != null && TRACE.startsWith(cacheName + "/")) {
      System.out.println("t=" + now.getAsLong() + " " + nodeName + " snapshot " + cacheName + " live=" + cache.live.keySet() + " tomb=" + cache.tombstones.keySet());
    }
    return state.iterator();
  }

  @Override
  public boolean admit(String cacheName) {
    CacheCopy copy = caches.get(cacheName);
    if (copy == null) {
      admitted.remove(cacheName);
      return true;
    }
    return admitted.put(cacheName, copy) != copy;
  }

  @Override
  public boolean awaitsAdmission(String cacheName) {
    CacheCopy copy = caches.get(cacheName);
    return copy != null && admitted.get(cacheName) != copy;
  }

  @Override
  public Set<String> cacheNames() {
    TreeSet<String> names = new TreeSet<>();
    for (String name : caches.keySet()) {
      if (admitted(name) != null) {
        names.add(name);
      }
    }
    return Collections.unmodifiableSet(names);
  }

  @Override
  public void purgeTombstones(long olderThanHlc) {
    for (String name : cacheNames()) {
      CacheCopy cache = caches.get(name);
      cache.tombstones.entrySet().removeIf(e -> {
        if (e.getValue().hlc() < olderThanHlc) {
          if (TRACE != null && TRACE.endsWith("/" + e.getKey())) {
            System.out.println("t=" + now.getAsLong() + " " + nodeName + " purged " + e.getValue());
          }
          cache.purged.put(e.getKey(), e.getValue());
          return true;
        }
        return false;
      });
    }
  }

  /** The simulation routes no loads: a node asked to load a key declines. */
  @Override
  public CompletionStage<LoadResult> loadForPeer(String cacheName, byte[] key) {
    return CompletableFuture.completedFuture(LoadResult.LOAD_HERE);
  }

  /** The live entries of a cache, by key. */
  Map<String, Entry> contents(String cacheName) {
    CacheCopy cache = caches.get(cacheName);
    return cache == null ? Map.of() : new TreeMap<>(cache.live);
  }

  /** The entry held for a key, live or tombstone, without touching the LRU order. */
  Entry held(String cacheName, String key) {
    CacheCopy cache = caches.get(cacheName);
    if (cache == null) {
      return null;
    }
    Entry entry = cache.live.containsKey(key) ? cache.live.get(key) : cache.tombstones.get(key);
    return entry;
  }

  boolean hasSeen(long hlc, long origin) {
    return seen.contains(new Version(hlc, origin));
  }

  List<String> violations() {
    return violations;
  }

  long evictions() {
    return evictions;
  }
}
