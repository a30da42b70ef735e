package io.bcache.jcache;

import io.bcache.replication.ApplyResult;
import io.bcache.replication.Change;
import io.bcache.replication.CodecLimits;
import io.bcache.replication.LoadResult;
import io.bcache.replication.LocalReplicas;
import io.bcache.replication.Replicator;
import io.bcache.serialization.WireCodec;
import io.bcache.store.ClearMark;
import io.bcache.store.StoreEntry;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import javax.cache.integration.CacheLoaderException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Joins a manager's caches to replication, both ways: local changes leave as {@link Change}s
 * with their keys and values encoded for the wire, and changes from peers are decoded (through
 * the allow-list) into each cache's stored form and applied last-writer-wins.
 */
final class ReplicaBridge implements LocalReplicas, ChangeSink {

  private static final Logger LOG = LoggerFactory.getLogger(ReplicaBridge.class);
  private static final long REFUSAL_LOG_INTERVAL_NANOS = 60_000_000_000L;

  /** Caches already warned about: keys kept here, values kept here (peers remove the key). */
  private final Set<String> keptLocal = ConcurrentHashMap.newKeySet();
  private final Set<String> invalidatedOnPeers = ConcurrentHashMap.newKeySet();
  /** Per cache, when a refused change was last logged: at most once a minute each. */
  private final Map<String, Long> refusalLogged = new ConcurrentHashMap<>();
  private final LongAdder refused = new LongAdder();
  private final BCacheManager manager;
  private final WireCodec codec;
  private volatile Replicator replicator;

  /**
   * The copy of each cache that the core has admitted ({@link #admit}). The manager shows a new
   * copy before the core hears of it (it tells the core from the creating thread, through the
   * replication thread's queue); until then replication sees the cache as absent, as the core
   * assumes, so that nothing it does meanwhile is taken for the earlier copy's.
   */
  private final Map<String, BCache<?, ?>> admitted = new ConcurrentHashMap<>();

  ReplicaBridge(BCacheManager manager, WireCodec codec) {
    this.manager = manager;
    this.codec = codec;
  }

  void attach(Replicator replicator) {
    this.replicator = replicator;
  }

  @Override
  public void publish(BCache<?, ?> copy, StoreEntry entry) {
    Replicator target = replicator;
    if (target == null) {
      return; // still starting: the change reaches peers through their snapshot of this node
    }
    BCache<?, ?> current = manager.cacheForReplication(copy.getName());
    if (current == null) {
      throw closedMeanwhile(copy); // closed or destroyed meanwhile, and not created again
    }
    Change change = travelling(copy, entry, target.limits());
    if (change != null) {
      if (!target.publish(change) && copy.isClosed()) {
        // its manager closed, and the node left, while the write was under way (a slow writer
        // or processor): the caller learns the write reached no other node
        throw closedMeanwhile(copy);
      }
      reachCopyThatReplaced(copy, change);
    }
  }

  private static IllegalStateException closedMeanwhile(BCache<?, ?> copy) {
    return new IllegalStateException("cache '" + copy.getName()
        + "' was closed while this write was under way: it was not replicated");
  }

  @Override
  public void publishClear(BCache<?, ?> copy, ClearMark clear) {
    Replicator target = replicator;
    if (target != null) {
      Change change = Change.clear(copy.getName(), clear.version(), clear.origin());
      target.publish(change);
      reachCopyThatReplaced(copy, change);
    }
  }

  /**
   * A change made to a copy that was closed while it was being written, and published after: if
   * the cache was created again meanwhile, replication may have counted the new copy's writes
   * from before this one arrived, so that the peers get it and the new copy never would. The new
   * copy gets it here, last writer wins, as it got the closed copy's earlier writes. Checked only
   * after the change was handed over: handed over before replication learned of the new copy, it
   * is one of those earlier writes, and a replication that learned of the new copy first has
   * {@code Cache.close()} behind it, so the copy is seen closed.
   */
  private void reachCopyThatReplaced(BCache<?, ?> copy, Change change) {
    if (copy.isClosed()) {
      BCache<?, ?> current = manager.cacheForReplication(copy.getName());
      if (current != null && current != copy) {
        // even before the core admits it: the core counts this change among the new copy's own
        // writes once it was handed over after the core took in the intake for the creation
        applyTo(current, change);
      }
    }
  }

  @Override
  public ApplyResult apply(Change change) {
    BCache<?, ?> cache = admitted(change.cacheName());
    return cache == null ? ApplyResult.NO_SUCH_CACHE : applyTo(cache, change);
  }

  /**
   * Applies a change to one copy of its cache, admitted or not, last writer wins: a value a key's
   * owner loaded for this copy's read, or this node's own write that raced the close of the copy
   * before.
   */
  ApplyResult applyTo(BCache<?, ?> cache, Change change) {
    if (change.isClear()) {
      return cache.applyRemoteClear(change.hlc(), change.origin()) ? ApplyResult.APPLIED : ApplyResult.STALE;
    }
    ClassLoader loader = manager.getClassLoader();
    Object key;
    Object value;
    try {
      key = codec.decodeKey(change.key(), loader);
      value = change.value() == null ? null : cache.storeForm().fromWire(change.value(), codec, loader);
    } catch (IllegalArgumentException e) {
      // not on the allow-list, or not a value at all: refuse this change, keep serving
      refused.increment();
      logRefusal(change, e.getMessage());
      return ApplyResult.STALE;
    }
    boolean applied = cache.applyRemote(key, value, change.hlc(), change.origin(), change.expireAt());
    return applied ? ApplyResult.APPLIED : ApplyResult.STALE;
  }

  /**
   * Changes from peers refused since start because their key or value cannot be deserialized
   * here: each leaves this node's copy without a write the others have.
   */
  long refusedChanges() {
    return refused.sum();
  }

  private void logRefusal(Change change, String reason) {
    long now = System.nanoTime();
    Long last = refusalLogged.get(change.cacheName());
    if (last != null && now - last < REFUSAL_LOG_INTERVAL_NANOS) {
      return;
    }
    refusalLogged.put(change.cacheName(), now); // (two threads racing here log twice: harmless)
    String advice = reason != null && reason.contains(" is not allowed")
        ? "; list its classes in bcache.serialization.allow" : "";
    LOG.warn("cache '{}': refusing a change from node {} that cannot be deserialized here ({}){}"
        + " (logged at most once a minute per cache)", change.cacheName(),
        HexFormat.of().toHexDigits(change.origin()), reason, advice);
  }

  @Override
  public Object copyOf(String cacheName) {
    return admitted(cacheName);
  }

  @Override
  public Iterator<Change> snapshot(String cacheName) {
    BCache<?, ?> cache = admitted(cacheName);
    if (cache == null) {
      return Collections.emptyIterator();
    }
    Iterator<StoreEntry> entries = cache.replicaEntries();
    CodecLimits limits = limits();
    return new Iterator<>() {
      private Change nextEntry;
      // the clear first, so the receiver ignores whatever older the stream still brings; and
      // again at the end if one came meanwhile, for the entries sent before it
      private ClearMark clearSent;
      private ClearMark clearDue = cache.clearMark();

      @Override
      public boolean hasNext() {
        if (clearDue == null && !advance()) {
          ClearMark latest = cache.clearMark();
          clearDue = latest != null && latest.isNewerThan(clearSent) ? latest : null;
          return clearDue != null;
        }
        return true;
      }

      @Override
      public Change next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        if (clearDue != null) {
          clearSent = clearDue;
          clearDue = null;
          return Change.clear(cache.getName(), clearSent.version(), clearSent.origin());
        }
        Change next = nextEntry;
        nextEntry = null;
        return next;
      }

      /** Moves to the next entry that can travel; false at the end of the entries. */
      private boolean advance() {
        while (nextEntry == null && entries.hasNext()) {
          nextEntry = travelling(cache, entries.next(), limits);
        }
        return nextEntry != null;
      }
    };
  }

  /**
   * Routes a read-through miss to the key's owner and waits for its answer (bounded: the core
   * answers {@link LoadResult#LOAD_HERE} once its load timeout passes). A key that cannot be
   * encoded, or an interrupted wait, is loaded here.
   */
  LoadResult loadAtOwner(String cacheName, Object key) {
    return loadAllAtOwners(cacheName, List.of(key)).get(key);
  }

  /**
   * Routes several misses to their owners at once and waits for every answer (each bounded as
   * in {@link #loadAtOwner}); keys this node is to load itself answer
   * {@link LoadResult#LOAD_HERE}.
   */
  <K> Map<K, LoadResult> loadAllAtOwners(String cacheName, Collection<K> keys) {
    Map<K, LoadResult> results = new HashMap<>();
    Map<K, CompletableFuture<LoadResult>> pending = new HashMap<>();
    Replicator target = replicator;
    for (K key : keys) {
      try {
        if (target == null) {
          results.put(key, LoadResult.LOAD_HERE);
        } else {
          pending.put(key, target.routeLoad(cacheName, encodeKey(key, target.limits())).toCompletableFuture());
        }
      } catch (IllegalArgumentException e) {
        results.put(key, LoadResult.LOAD_HERE); // a key that cannot travel
      }
    }
    pending.forEach((key, answer) -> results.put(key, await(answer)));
    return results;
  }

  private static LoadResult await(CompletableFuture<LoadResult> answer) {
    try {
      return answer.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return LoadResult.LOAD_HERE;
    } catch (ExecutionException e) {
      return LoadResult.LOAD_HERE;
    }
  }

  @Override
  public CompletionStage<LoadResult> loadForPeer(String cacheName, byte[] key) {
    BCache<?, ?> cache = admitted(cacheName);
    if (cache == null || !cache.readsThrough()) {
      return CompletableFuture.completedFuture(LoadResult.LOAD_HERE);
    }
    try {
      return CompletableFuture.supplyAsync(() -> loadForPeer(cache, key), manager.executor());
    } catch (RejectedExecutionException e) {
      return CompletableFuture.completedFuture(LoadResult.LOAD_HERE); // closing
    }
  }

  private LoadResult loadForPeer(BCache<?, ?> cache, byte[] wireKey) {
    Object key;
    try {
      key = codec.decodeKey(wireKey, manager.getClassLoader());
    } catch (IllegalArgumentException e) {
      return LoadResult.LOAD_HERE; // not on this node's allow-list: the asking node loads it
    }
    StoreEntry loaded;
    try {
      loaded = cache.loadForPeer(key);
    } catch (CacheLoaderException e) {
      return LoadResult.failed(e.getCause() == null ? e.toString() : e + " caused by " + e.getCause());
    } catch (IllegalStateException e) {
      return LoadResult.LOAD_HERE; // closed meanwhile
    }
    if (loaded == null) {
      return LoadResult.ABSENT;
    }
    try {
      // an answer to a read: the expiry the entry has here, which accesses may have moved past
      // the one its write set (that one may be over, and the asking node would load again)
      return LoadResult.loaded(toChange(cache, loaded, loaded.expireAt(), limits()));
    } catch (IllegalArgumentException e) {
      return LoadResult.LOAD_HERE; // a value that cannot travel: the asking node loads it too
    }
  }

  @Override
  public Set<String> cacheNames() {
    Set<String> names = new HashSet<>();
    for (String name : manager.cacheNamesForReplication()) {
      if (admitted(name) != null) {
        names.add(name);
      }
    }
    // and forget the copies closed since: a closed copy's entries are not kept for nothing
    admitted.keySet().retainAll(names);
    return names;
  }

  @Override
  public boolean admit(String cacheName) {
    BCache<?, ?> current = manager.cacheForReplication(cacheName);
    if (current == null) {
      admitted.remove(cacheName);
      return true;
    }
    return admitted.put(cacheName, current) != current;
  }

  @Override
  public boolean awaitsAdmission(String cacheName) {
    BCache<?, ?> current = manager.cacheForReplication(cacheName);
    return current != null && admitted.get(cacheName) != current;
  }

  /** A cache's copy as replication sees it: the manager's, once the core has admitted it. */
  private BCache<?, ?> admitted(String cacheName) {
    BCache<?, ?> current = manager.cacheForReplication(cacheName);
    return current != null && admitted.get(cacheName) == current ? current : null;
  }

  @Override
  public void purgeTombstones(long olderThanHlc) {
    for (String name : cacheNames()) {
      BCache<?, ?> cache = admitted(name);
      if (cache != null) {
        cache.purgeTombstones(olderThanHlc);
      }
    }
  }

  /**
   * Refuses a cache name peers cannot tell apart or accept, before such a cache exists: its name
   * travels in every message about it, as UTF-8. A name with half a surrogate pair has no UTF-8
   * form (the encoder writes '?' for it, so two such names would arrive as one), and a name
   * longer than peers accept is refused too.
   *
   * @throws IllegalArgumentException if the name cannot be replicated
   */
  void checkCacheName(String cacheName) {
    int bytes;
    try {
      bytes = StandardCharsets.UTF_8.newEncoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .encode(CharBuffer.wrap(cacheName))
          .remaining();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("cache name '" + cacheName + "' holds half a surrogate pair, which has"
          + " no UTF-8 form: a clustered cache manager cannot replicate it", e);
    }
    int max = limits().maxCacheNameBytes();
    if (bytes > max) {
      throw new IllegalArgumentException("cache name of " + bytes + " UTF-8 bytes is longer than the " + max
          + " a clustered cache manager replicates: '" + cacheName.substring(0, 40) + "...'");
    }
  }

  /**
   * The change that tells peers about {@code entry}, or {@code null} if nothing can. A value
   * that cannot travel (a by-reference value that cannot be serialized, or one larger than peers
   * accept) stays on this node, and peers get a removal of the key at the entry's version, so
   * they drop the copy this write replaced instead of serving it. A key that cannot travel
   * stays here with its value: no peer can hold that key either. It carries the expiry the
   * write set: an access here moved only this node's.
   */
  private Change travelling(BCache<?, ?> cache, StoreEntry entry, CodecLimits limits) {
    try {
      return toChange(cache, entry, entry.writtenExpireAt(), limits);
    } catch (IllegalArgumentException valueOrKey) {
      byte[] key;
      try {
        key = encodeKey(entry.key(), limits);
      } catch (IllegalArgumentException keyTooLong) {
        if (keptLocal.add(cache.getName())) {
          LOG.warn("cache '{}' holds a key that cannot reach its peers; such entries stay on this node: {}",
              cache.getName(), keyTooLong.getMessage());
        }
        return null;
      }
      if (invalidatedOnPeers.add(cache.getName())) {
        LOG.warn("cache '{}' holds a value that cannot reach its peers; such values stay on this node and"
            + " peers remove the key: {}", cache.getName(), valueOrKey.getMessage());
      }
      return Change.remove(cache.getName(), key, entry.version(), entry.origin());
    }
  }

  /**
   * The replicator's limits; the codec's defaults in the moment between the replicator starting
   * (peers may already ask for snapshots) and its being attached here.
   */
  private CodecLimits limits() {
    Replicator target = replicator;
    return target == null ? CodecLimits.DEFAULT : target.limits();
  }

  /**
   * The change that carries {@code entry}, with the expiry time {@code expireAt}.
   *
   * @throws IllegalArgumentException if the key or value cannot be serialized or is too large
   */
  private Change toChange(BCache<?, ?> cache, StoreEntry entry, long expireAt, CodecLimits limits) {
    byte[] key = encodeKey(entry.key(), limits);
    if (entry.isTombstone()) {
      return Change.remove(cache.getName(), key, entry.version(), entry.origin());
    }
    byte[] value = cache.storeForm().toWire(entry.value(), codec);
    if (value.length > limits.maxValueBytes()) {
      throw new IllegalArgumentException("a serialized value of " + value.length + " bytes is larger than the "
          + limits.maxValueBytes() + " a change carries");
    }
    return Change.put(cache.getName(), key, value, entry.version(), entry.origin(), expireAt);
  }

  private byte[] encodeKey(Object key, CodecLimits limits) {
    byte[] bytes = codec.encode(key);
    if (bytes.length > limits.maxKeyBytes()) {
      throw new IllegalArgumentException("a serialized key of " + bytes.length + " bytes is longer than the "
          + limits.maxKeyBytes() + " a change carries");
    }
    return bytes;
  }
}
