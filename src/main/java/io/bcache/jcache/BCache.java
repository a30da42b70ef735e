package io.bcache.jcache;

import io.bcache.config.LoadScope;
import io.bcache.jcache.event.BCacheEntryEvent;
import io.bcache.jcache.event.EventDispatcher;
import io.bcache.jcache.event.EventValue;
import io.bcache.jcache.event.ThreadMark;
import io.bcache.jcache.expiry.ExpiryCalculator;
import io.bcache.jcache.integration.LoadCoordinator;
import io.bcache.jcache.management.CacheConfigurationBean;
import io.bcache.jcache.management.CacheStatistics;
import io.bcache.jcache.management.MBeanRegistrar;
import io.bcache.jcache.processor.BMutableEntry;
import io.bcache.jcache.processor.MutableEntryOperation;
import io.bcache.replication.HybridLogicalClock;
import io.bcache.replication.LoadResult;
import io.bcache.serialization.WireCodec;
import io.bcache.store.BoundedStore;
import io.bcache.store.ClearMark;
import io.bcache.store.StoreEntry;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.CacheEntryListenerConfiguration;
import javax.cache.configuration.CompleteConfiguration;
import javax.cache.configuration.Configuration;
import javax.cache.expiry.ExpiryPolicy;
import javax.cache.integration.CacheLoader;
import javax.cache.integration.CacheLoaderException;
import javax.cache.integration.CacheWriter;
import javax.cache.integration.CacheWriterException;
import javax.cache.integration.CompletionListener;
import javax.cache.processor.EntryProcessor;
import javax.cache.processor.EntryProcessorException;
import javax.cache.processor.EntryProcessorResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bcache cache: a bounded LRU of versioned entries with the whole JSR-107 API on top.
 *
 * <p>Every mutation is one atomic {@link BoundedStore#compute} on its key: the expiry policy and
 * the {@link CacheWriter} run inside it, so a failed write-through changes nothing. Listeners,
 * statistics and the {@link ChangeSink} are told after the store changed, on the calling thread.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public final class BCache<K, V> implements Cache<K, V> {

  /** {@link #takeRouted}'s answer when this node is to load a key itself. */
  private static final Object LOAD_HERE = new Object();
  private static final Logger LOG = LoggerFactory.getLogger(BCache.class);
  private static final Object NO_VALUE = new Object();

  private final BCacheManager manager;
  private final String name;
  private final BCacheConfiguration<K, V> configuration;
  private final BoundedStore store;
  private final StoreForm form;
  /** Turns a stored value into one a caller may hold: what events decode lazily with. */
  private final Function<Object, V> decoder = this::fromStore;
  private final ExpiryCalculator expiry;
  private final CacheLoader<K, V> loader;
  private final CacheWriter<K, V> writer;
  private final boolean readThrough;
  /** Whether a read-through miss goes to the key's owner first (cluster-wide loads). */
  private final boolean clusterLoads;
  private final boolean writeThrough;
  private final EventDispatcher<K, V> events;
  private final CacheStatistics statistics = new CacheStatistics();
  private final CacheConfigurationBean configurationBean;
  private final LoadCoordinator loads = new LoadCoordinator();
  private final HybridLogicalClock clock;
  private final long nodeId;
  private final ChangeSink changeSink;
  private final boolean replicating;
  private volatile boolean statisticsEnabled;
  private volatile boolean closed;
  /** The MXBeans this copy registered and has not unregistered since; under the cache's lock. */
  private final Set<MBeanRegistrar.Kind> exposedBeans = EnumSet.noneOf(MBeanRegistrar.Kind.class);

  @SuppressWarnings("unchecked")
  BCache(BCacheManager manager, String name, BCacheConfiguration<K, V> configuration) {
    this.manager = manager;
    this.name = name;
    this.configuration = configuration;
    this.clock = manager.clock();
    this.nodeId = manager.nodeId();
    this.changeSink = manager.changeSink();
    this.replicating = changeSink != ChangeSink.NONE;
    this.store = new BoundedStore(configuration.getMaxEntries(), evicted -> {
      if (statisticsEnabled) {
        statistics.recordEvictions(1);
      }
    });
    this.form = configuration.isStoreByValue()
        ? StoreForm.byValue(WireCodec.trusted(), manager.getClassLoader())
        : StoreForm.BY_REFERENCE;
    this.expiry = new ExpiryCalculator(configuration.getExpiryPolicyFactory().create());
    this.loader = configuration.getCacheLoaderFactory() == null
        ? null : (CacheLoader<K, V>) configuration.getCacheLoaderFactory().create();
    this.writer = configuration.getCacheWriterFactory() == null
        ? null : (CacheWriter<K, V>) configuration.getCacheWriterFactory().create();
    this.readThrough = configuration.isReadThrough() && loader != null;
    this.clusterLoads = readThrough && replicating && configuration.getLoadScope() == LoadScope.CLUSTER;
    this.writeThrough = configuration.isWriteThrough() && writer != null;
    this.events = new EventDispatcher<>(manager.executor());
    for (CacheEntryListenerConfiguration<K, V> listener : configuration.getCacheEntryListenerConfigurations()) {
      events.register(listener);
    }
    this.configurationBean = new CacheConfigurationBean(() -> this.configuration);
    this.statisticsEnabled = configuration.isStatisticsEnabled();
  }

  /** Registers the MXBeans the configuration asks for; called once the manager holds the cache. */
  void start() {
    if (configuration.isManagementEnabled()) {
      setManagementEnabled(true);
    }
    if (configuration.isStatisticsEnabled()) {
      setStatisticsEnabled(true);
    }
  }

  // ---------------------------------------------------------------- reads

  @Override
  public V get(K key) {
    requireOpen();
    Objects.requireNonNull(key, "key");
    boolean stats = statisticsEnabled;
    long start = stats ? System.nanoTime() : 0L;
    StoreEntry entry = store.get(key);
    if (entry != null && entry.value() != null) {
      long expireAt = entry.expireAt();
      if (expireAt == StoreEntry.ETERNAL && !expiry.accessChangesExpiry()) {
        V value = valueOf(entry); // an eternal entry: no clock read on a hit
        if (stats) {
          recordHit(start);
        }
        return value;
      }
      long now = System.currentTimeMillis();
      if (expireAt > now) {
        expiry.touch(entry, now);
        V value = valueOf(entry);
        if (stats) {
          recordHit(start);
        }
        return value;
      }
      expireEntry(key, entry);
    }
    if (stats) {
      statistics.recordMisses(1);
    }
    V value = readThrough ? loadMissing(key) : null;
    if (stats) {
      statistics.recordGetTime(System.nanoTime() - start);
    }
    return value;
  }

  @Override
  @SuppressWarnings("unchecked") // the keys loads return that it keeps are keys asked
  public Map<K, V> getAll(Set<? extends K> keys) {
    requireOpen();
    requireNoNulls(keys);
    boolean stats = statisticsEnabled;
    long start = stats ? System.nanoTime() : 0L;
    Map<K, V> result = new HashMap<>(keys.size() * 2);
    List<K> missing = new ArrayList<>();
    long now = System.currentTimeMillis();
    for (K key : keys) {
      StoreEntry entry = store.get(key);
      if (isLive(entry, now)) {
        expiry.touch(entry, now);
        result.put(key, valueOf(entry));
      } else {
        if (entry != null && entry.value() != null) {
          expireEntry(key, entry);
        }
        missing.add(key);
      }
    }
    if (stats) {
      statistics.recordHits(result.size());
      statistics.recordMisses(missing.size());
    }
    if (clusterLoads && !missing.isEmpty()) {
      loadAtOwners(missing, result);
    } else if (readThrough && !missing.isEmpty()) {
      LoadEvents loadEvents = new LoadEvents();
      // delivered once the threads waiting for these loads have the values, and before this
      // one waits for the loads of other threads: it holds their turns until then
      Map<Object, Object> loaded =
          loads.loadAll(missing, claimed -> loadAllOnce(claimed, loadEvents), loadEvents::dispatch);
      for (Map.Entry<Object, Object> e : loaded.entrySet()) {
        if (e.getValue() != null && keys.contains(e.getKey())) { // not keys the loader added unasked
          result.put((K) e.getKey(), fromStore(e.getValue()));
        }
      }
    }
    if (stats) {
      statistics.recordGetTime(System.nanoTime() - start);
    }
    return result;
  }

  @Override
  public boolean containsKey(K key) {
    requireOpen();
    Objects.requireNonNull(key, "key");
    StoreEntry entry = store.peek(key);
    return entry != null && entry.value() != null && !entry.isExpired(System.currentTimeMillis());
  }

  // ---------------------------------------------------------------- loads

  /** Loads a missing key through the loader, once per key however many threads miss it. */
  private V loadMissing(K key) {
    Object stored = loadOnce(key, clusterLoads);
    return stored == null ? null : fromStore(stored);
  }

  /**
   * Runs the one load of {@code key} in flight on this node, or waits for it; returns the stored
   * form of the value now held, or {@code null}. With {@code atOwner} the key's owner is asked
   * first, unless this node is to load the key itself.
   */
  private Object loadOnce(K key, boolean atOwner) {
    LoadEvents loadEvents = new LoadEvents();
    try {
      return loads.load(key, () -> {
        try (ThreadMark.Scope held = ThreadMark.HELD_KEYS.enter()) { // others wait for this load
          return loadHere(key, atOwner, loadEvents);
        }
      });
    } finally {
      // once the threads waiting for the load have it: a synchronous listener's delivery then
      // waits for the key's earlier ones, which may themselves read the key
      loadEvents.dispatch();
    }
  }

  /**
   * The load {@link #loadOnce} shares: the stored form of the value now held, or {@code null}.
   * The events of what it stores go to {@code loadEvents}.
   */
  private Object loadHere(K key, boolean atOwner, LoadEvents loadEvents) {
    StoreEntry current = store.peek(key);
    if (isLive(current, System.currentTimeMillis())) {
      return current.value(); // loaded by someone else just before we registered
    }
    if (atOwner) {
      Object routed = takeRouted(key, manager.bridge().loadAtOwner(name, key));
      if (routed != LOAD_HERE) {
        return routed;
      }
    }
    V loaded = loadFromLoader(key);
    return loaded == null ? null : storeLoaded(key, loaded, false, loadEvents);
  }

  /**
   * The one load of {@code getAll}'s misses that no other thread is loading: keys stored
   * meanwhile are taken as they are, the rest go to the loader in one {@code loadAll}. Returns
   * the stored form of each value now held (and of any key the loader added unasked).
   */
  private Map<Object, Object> loadAllOnce(Set<Object> keys, LoadEvents loadEvents) {
    try (ThreadMark.Scope held = ThreadMark.HELD_KEYS.enter()) { // others wait for these loads
      return loadAllHere(keys, loadEvents);
    }
  }

  /** What {@link #loadAllOnce} does, marked as loading; the events go to {@code loadEvents}. */
  @SuppressWarnings("unchecked")
  private Map<Object, Object> loadAllHere(Set<Object> keys, LoadEvents loadEvents) {
    Map<Object, Object> stored = new HashMap<>(keys.size() * 2);
    List<K> toLoad = new ArrayList<>();
    long now = System.currentTimeMillis();
    for (Object key : keys) {
      StoreEntry current = store.peek(key);
      if (isLive(current, now)) {
        stored.put(key, current.value()); // loaded by someone else just before we registered
      } else {
        toLoad.add((K) key);
      }
    }
    if (!toLoad.isEmpty()) {
      for (Map.Entry<K, V> e : loadAllFromLoader(toLoad).entrySet()) {
        if (e.getKey() != null && e.getValue() != null) {
          Object value = storeLoaded(e.getKey(), e.getValue(), false, loadEvents);
          if (value != null) {
            stored.put(e.getKey(), value);
          }
        }
      }
    }
    return stored;
  }

  /**
   * Loads {@code getAll}'s misses cluster-wide and puts the values in {@code result}: every key
   * goes to its owner at once; the keys this node owns are loaded here one by one, each shared
   * with the loads peers route here for it (a batch through {@code loadAll} could not be), so
   * that each key is loaded once in the cluster.
   */
  private void loadAtOwners(List<K> missing, Map<K, V> result) {
    Map<K, LoadResult> routed = manager.bridge().loadAllAtOwners(name, missing);
    for (K key : missing) {
      Object stored = takeRouted(key, routed.get(key));
      if (stored == LOAD_HERE) {
        stored = loadOnce(key, false);
      }
      if (stored != null) {
        result.put(key, fromStore(stored));
      }
    }
  }

  /**
   * What an owner's answer leaves here: the stored form of the value it loaded (applied here as
   * the replicated write would be a moment later), {@code null} if it had none, or
   * {@link #LOAD_HERE} when this node is to load the key itself (also when it refuses the
   * owner's value, such as a class its allow-list does not name).
   *
   * @throws CacheLoaderException if the owner's loader failed
   */
  private Object takeRouted(K key, LoadResult routed) {
    switch (routed.kind()) {
      case LOADED -> {
        manager.bridge().applyTo(this, routed.entry()); // this copy, even before its admission
        StoreEntry held = store.peek(form.keyToStore(key));
        return isLive(held, System.currentTimeMillis()) ? held.value() : LOAD_HERE;
      }
      case ABSENT -> {
        return null;
      }
      case FAILED -> throw new CacheLoaderException("the loader failed on the key's owner: " + routed.failure());
      default -> {
        return LOAD_HERE;
      }
    }
  }

  /**
   * Loads a key another node routed here as its owner: through the loader, shared with this
   * node's own loads of the key, stored as any load (so it replicates). Returns the entry now
   * held, or {@code null} if the loader had no value.
   *
   * @throws CacheLoaderException if the loader failed
   */
  @SuppressWarnings("unchecked")
  StoreEntry loadForPeer(Object key) {
    requireOpen();
    K typed = (K) key;
    Object stored;
    try (ThreadMark.Scope held = ThreadMark.HELD_KEYS.enter()) { // a peer waits for the answer
      stored = loadOnce(typed, false);
    }
    StoreEntry held = stored == null ? null : store.peek(form.keyToStore(typed));
    return isLive(held, System.currentTimeMillis()) ? held : null;
  }

  /** Whether misses load through a loader here. */
  boolean readsThrough() {
    return readThrough;
  }

  private V loadFromLoader(K key) {
    try {
      return loader.load(key);
    } catch (CacheLoaderException e) {
      throw e;
    } catch (Exception e) {
      throw new CacheLoaderException("loader failed for key " + key, e);
    }
  }

  private Map<K, V> loadAllFromLoader(Collection<K> keys) {
    try {
      Map<K, V> loaded = loader.loadAll(keys);
      return loaded == null ? Map.of() : loaded;
    } catch (CacheLoaderException e) {
      throw e;
    } catch (Exception e) {
      throw new CacheLoaderException("loader failed for keys " + keys, e);
    }
  }

  /**
   * Stores a loaded value without the writer, as a creation (or as an update when
   * {@code replaceExisting}); returns the stored form of the value the cache now holds for the
   * key, or {@code null} if the value expired on creation.
   */
  private Object storeLoaded(K key, V value, boolean replaceExisting, LoadEvents later) {
    Object storedKey = form.keyToStore(key);
    Object storedValue = form.toStore(value);
    long now = System.currentTimeMillis();
    Outcome outcome = new Outcome();
    compute(storedKey, outcome, (k, current) -> {
      boolean live = isLive(current, now);
      if (live && !replaceExisting) {
        outcome.kept = current;
        return current;
      }
      outcome.expired = expiredOrNull(current, live);
      return writtenEntry(outcome, storedKey, storedValue, current, live, now);
    });
    finishWrite(key, outcome, later);
    if (outcome.kept != null) {
      return outcome.kept.value();
    }
    return outcome.written == null ? null : storedValue;
  }

  @Override
  public void loadAll(Set<? extends K> keys, boolean replaceExistingValues, CompletionListener completionListener) {
    requireOpen();
    requireNoNulls(keys);
    CompletionListener listener = completionListener != null ? completionListener : NoCompletionListener.INSTANCE;
    if (loader == null) {
      listener.onCompletion();
      return;
    }
    List<K> requested = new ArrayList<>(keys);
    manager.executor().execute(() -> {
      LoadEvents loadEvents = new LoadEvents();
      try {
        List<K> toLoad = new ArrayList<>();
        for (K key : requested) {
          if (replaceExistingValues || !containsKey(key)) {
            toLoad.add(key);
          }
        }
        if (!toLoad.isEmpty()) {
          // marked as a load others wait for: its caller may wait for it from a delivery
          try (ThreadMark.Scope held = ThreadMark.HELD_KEYS.enter()) {
            for (Map.Entry<K, V> e : loadAllFromLoader(toLoad).entrySet()) {
              if (e.getKey() != null && e.getValue() != null) {
                storeLoaded(e.getKey(), e.getValue(), replaceExistingValues, loadEvents);
              }
            }
          }
        }
        // readied first: a write the completion listener makes on a loaded key delivers them
        // ahead of its own (see KeyTurns), rather than waiting for this very thread
        loadEvents.prepare();
        listener.onCompletion();
      } catch (Exception e) {
        loadEvents.prepare(); // what was stored before the failure, likewise
        listener.onException(e);
      } finally {
        dispatchAfterLoadAll(loadEvents);
      }
    });
  }

  /**
   * Delivers what a {@code loadAll} stored once its completion listener has heard: a
   * synchronous listener that waits for that completion is then no earlier delivery this one
   * waits for. A listener failing here has no caller left to tell; it is logged.
   */
  private void dispatchAfterLoadAll(LoadEvents loadEvents) {
    try {
      loadEvents.dispatch();
    } catch (RuntimeException e) {
      LOG.warn("a synchronous listener of cache {} failed on an entry loadAll stored", name, e);
    }
  }

  // ---------------------------------------------------------------- writes

  @Override
  public void put(K key, V value) {
    requireOpen();
    long start = statisticsEnabled ? System.nanoTime() : 0L;
    Outcome outcome = write(key, value, WriteMode.PUT, NO_VALUE, true);
    if (statisticsEnabled) {
      recordPut(outcome, start);
    }
  }

  @Override
  public V getAndPut(K key, V value) {
    requireOpen();
    long start = statisticsEnabled ? System.nanoTime() : 0L;
    Outcome outcome = write(key, value, WriteMode.PUT, NO_VALUE, true);
    V previous = outcome.previous == null ? null : oldValueOf(outcome);
    if (statisticsEnabled) {
      recordConditionalWrite(outcome, start, outcome.previous != null);
    }
    return previous;
  }

  @Override
  public boolean putIfAbsent(K key, V value) {
    requireOpen();
    long start = statisticsEnabled ? System.nanoTime() : 0L;
    Outcome outcome = write(key, value, WriteMode.PUT_IF_ABSENT, NO_VALUE, true);
    if (statisticsEnabled) {
      recordConditionalWrite(outcome, start, outcome.kept != null);
    }
    return outcome.written != null || outcome.expiredOnCreation;
  }

  @Override
  public boolean replace(K key, V oldValue, V newValue) {
    requireOpen();
    Objects.requireNonNull(oldValue, "oldValue");
    long start = statisticsEnabled ? System.nanoTime() : 0L;
    Outcome outcome = write(key, newValue, WriteMode.REPLACE_IF_EQUAL, oldValue, true);
    if (statisticsEnabled) {
      recordConditionalWrite(outcome, start, outcome.previous != null || outcome.kept != null);
    }
    return outcome.written != null;
  }

  @Override
  public boolean replace(K key, V value) {
    requireOpen();
    long start = statisticsEnabled ? System.nanoTime() : 0L;
    Outcome outcome = write(key, value, WriteMode.REPLACE, NO_VALUE, true);
    if (statisticsEnabled) {
      recordConditionalWrite(outcome, start, outcome.previous != null);
    }
    return outcome.previous != null;
  }

  @Override
  public V getAndReplace(K key, V value) {
    requireOpen();
    long start = statisticsEnabled ? System.nanoTime() : 0L;
    Outcome outcome = write(key, value, WriteMode.REPLACE, NO_VALUE, true);
    V previous = outcome.previous == null ? null : oldValueOf(outcome);
    if (statisticsEnabled) {
      recordConditionalWrite(outcome, start, outcome.previous != null);
    }
    return previous;
  }

  @Override
  public void putAll(Map<? extends K, ? extends V> map) {
    requireOpen();
    Objects.requireNonNull(map, "map");
    for (Map.Entry<? extends K, ? extends V> e : map.entrySet()) {
      Objects.requireNonNull(e.getKey(), "key");
      Objects.requireNonNull(e.getValue(), "value");
    }
    long start = statisticsEnabled ? System.nanoTime() : 0L;
    Map<? extends K, ? extends V> toPut = map;
    CacheWriterException failure = null;
    if (writeThrough && !map.isEmpty()) {
      List<Cache.Entry<? extends K, ? extends V>> pending = new ArrayList<>(map.size());
      map.forEach((k, v) -> pending.add(new BCacheEntry<K, V>(k, v)));
      try {
        writer.writeAll(pending);
      } catch (Exception e) {
        failure = e instanceof CacheWriterException ? (CacheWriterException) e : new CacheWriterException(e);
      }
      Map<K, V> written = new HashMap<>(map);
      for (Cache.Entry<? extends K, ? extends V> notWritten : pending) {
        written.remove(notWritten.getKey());
      }
      toPut = written;
    }
    long puts = 0;
    for (Map.Entry<? extends K, ? extends V> e : toPut.entrySet()) {
      if (write(e.getKey(), e.getValue(), WriteMode.PUT, NO_VALUE, false).written != null) {
        puts++;
      }
    }
    if (statisticsEnabled && puts > 0) {
      statistics.recordPuts(puts);
      statistics.recordPutTime(System.nanoTime() - start);
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** How {@link #write} decides whether to write. */
  private enum WriteMode {
    PUT, PUT_IF_ABSENT, REPLACE, REPLACE_IF_EQUAL
  }

  /**
   * The one write path of every put and replace: atomically checks the mode's condition, calls
   * the writer (when {@code useWriter}), computes the expiry, stores a newly versioned entry,
   * then fires events and publishes the change.
   */
  private Outcome write(K key, V value, WriteMode mode, Object expected, boolean useWriter) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    Object storedKey = form.keyToStore(key);
    Object storedValue = form.toStore(value);
    long now = System.currentTimeMillis();
    Outcome outcome = new Outcome();
    compute(storedKey, outcome, (k, current) -> {
      boolean live = isLive(current, now);
      outcome.expired = expiredOrNull(current, live);
      if (live) {
        if (mode == WriteMode.PUT_IF_ABSENT) {
          outcome.kept = current;
          return current;
        }
        if (mode == WriteMode.REPLACE_IF_EQUAL && !Objects.equals(valueOf(current), expected)) {
          outcome.kept = current;
          expiry.touch(current, now);
          return current;
        }
      } else if (mode == WriteMode.REPLACE || mode == WriteMode.REPLACE_IF_EQUAL) {
        return outcome.expired != null ? null : current;
      }
      if (useWriter) {
        writeThrough(key, value);
      }
      return writtenEntry(outcome, storedKey, storedValue, current, live, now);
    });
    finishWrite(key, outcome);
    return outcome;
  }

  // ---------------------------------------------------------------- removes

  @Override
  public boolean remove(K key) {
    requireOpen();
    long start = statisticsEnabled ? System.nanoTime() : 0L;
    Outcome outcome = remove(key, NO_VALUE, true);
    if (statisticsEnabled && outcome.previous != null) {
      statistics.recordRemovals(1);
      statistics.recordRemoveTime(System.nanoTime() - start);
    }
    return outcome.previous != null;
  }

  @Override
  public boolean remove(K key, V oldValue) {
    requireOpen();
    Objects.requireNonNull(oldValue, "oldValue");
    long start = statisticsEnabled ? System.nanoTime() : 0L;
    Outcome outcome = remove(key, oldValue, true);
    if (statisticsEnabled) {
      recordHitOrMiss(outcome.previous != null || outcome.kept != null);
      if (outcome.previous != null) {
        statistics.recordRemovals(1);
        statistics.recordRemoveTime(System.nanoTime() - start);
      }
    }
    return outcome.previous != null;
  }

  @Override
  public V getAndRemove(K key) {
    requireOpen();
    long start = statisticsEnabled ? System.nanoTime() : 0L;
    Outcome outcome = remove(key, NO_VALUE, true);
    V previous = outcome.previous == null ? null : oldValueOf(outcome);
    if (statisticsEnabled) {
      recordHitOrMiss(outcome.previous != null);
      if (outcome.previous != null) {
        statistics.recordRemovals(1);
        statistics.recordRemoveTime(System.nanoTime() - start);
      }
    }
    return previous;
  }

  @Override
  public void removeAll(Set<? extends K> keys) {
    requireOpen();
    requireNoNulls(keys);
    removeAllOf(new ArrayList<>(keys));
  }

  @Override
  public void removeAll() {
    requireOpen();
    List<K> keys = new ArrayList<>();
    long now = System.currentTimeMillis();
    for (Iterator<StoreEntry> it = store.iterator(); it.hasNext(); ) {
      StoreEntry entry = it.next();
      if (isLive(entry, now)) {
        keys.add(keyOf(entry));
      }
    }
    removeAllOf(keys);
  }

  private void removeAllOf(Collection<K> keys) {
    long start = statisticsEnabled ? System.nanoTime() : 0L;
    Collection<K> toRemove = keys;
    CacheWriterException failure = null;
    if (writeThrough && !keys.isEmpty()) {
      Set<K> pending = new HashSet<>(keys);
      try {
        writer.deleteAll(pending);
      } catch (Exception e) {
        failure = e instanceof CacheWriterException ? (CacheWriterException) e : new CacheWriterException(e);
      }
      List<K> deleted = new ArrayList<>(keys);
      deleted.removeAll(pending);
      toRemove = deleted;
    }
    long removals = 0;
    for (K key : toRemove) {
      if (remove(key, NO_VALUE, false).previous != null) {
        removals++;
      }
    }
    if (statisticsEnabled && removals > 0) {
      statistics.recordRemovals(removals);
      statistics.recordRemoveTime(System.nanoTime() - start);
    }
    if (failure != null) {
      throw failure;
    }
  }

  /**
   * The one remove path: atomically checks {@code expected} (unless {@link #NO_VALUE}), calls
   * the writer (when {@code useWriter}; for an unconditional remove even if the key is absent,
   * as the writer's store may hold it), removes, then fires events and publishes.
   *
   * <p>On a replicating node an unconditional remove of a key this replica does not hold (never
   * here, evicted here, expired or already removed) still leaves a tombstone and publishes it:
   * other nodes may hold the key, and the caller meant it gone everywhere. No event fires and
   * nothing is counted, as for any remove of an absent key.
   */
  private Outcome remove(K key, Object expected, boolean useWriter) {
    Objects.requireNonNull(key, "key");
    long now = System.currentTimeMillis();
    Outcome outcome = new Outcome();
    boolean removeEverywhere = replicating && expected == NO_VALUE;
    // a tombstone for an absent key becomes a new mapping, so it needs the store's own copy
    Object storedKey = removeEverywhere ? form.keyToStore(key) : key;
    compute(storedKey, outcome, (k, current) -> {
      boolean live = isLive(current, now);
      if (expected == NO_VALUE && useWriter) {
        deleteThrough(key);
      }
      if (!live) {
        if (removeEverywhere) {
          // other nodes may still hold the key (evicted here, or their write has not arrived
          // yet): the removal reaches them all the same, as a tombstone newer than what they hold
          outcome.written = removal(storedKey);
          return outcome.written;
        }
        return expiredOrNull(current, false) != null ? null : current;
      }
      if (expected != NO_VALUE) {
        if (!Objects.equals(valueOf(current), expected)) {
          outcome.kept = current;
          expiry.touch(current, now);
          return current;
        }
        if (useWriter) {
          deleteThrough(key);
        }
      }
      outcome.previous = current;
      outcome.written = removal(current.key());
      return outcome.written;
    });
    List<BCacheEntryEvent<K, V>> fired = null;
    try {
      if (outcome.previous != null && outcome.places != null) {
        fired = List.of(BCacheEntryEvent.removed(this, key, stored(outcome.previous)));
      }
    } finally {
      publishAndDispatch(outcome.written, outcome.places, fired);
    }
    return outcome;
  }

  /**
   * {@inheritDoc}
   *
   * <p>On a node of a cluster the clear replicates: every node drops each entry of this cache
   * whose version is older than the clear's, and ignores older changes that arrive afterwards.
   * Writes made after the clear, here or elsewhere, stay. As locally, no listener and no writer
   * hears of it.
   */
  @Override
  public void clear() {
    requireOpen();
    if (!replicating) {
      store.clear();
      return;
    }
    ClearMark clear = new ClearMark(clock.tick(), nodeId);
    store.clearUpTo(clear);
    changeSink.publishClear(this, clear);
  }

  // ---------------------------------------------------------------- entry processors

  @Override
  public <T> T invoke(K key, EntryProcessor<K, V, T> entryProcessor, Object... arguments) {
    requireOpen();
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(entryProcessor, "entryProcessor");
    boolean stats = statisticsEnabled;
    long start = stats ? System.nanoTime() : 0L;
    Object storedKey = form.keyToStore(key);
    long now = System.currentTimeMillis();
    Outcome outcome = new Outcome();
    Object[] result = new Object[1];
    try {
      compute(storedKey, outcome, (k, current) -> {
        boolean live = isLive(current, now);
        outcome.expired = expiredOrNull(current, live);
        outcome.hit = live;
        V before = live ? valueOf(current) : null;
        BMutableEntry<K, V> entry = new BMutableEntry<>(key, before, readThrough ? this::loadFromLoader : null);
        try {
          result[0] = entryProcessor.process(entry, arguments);
        } catch (EntryProcessorException e) {
          throw e;
        } catch (Exception e) {
          throw new EntryProcessorException(e);
        }
        outcome.operation = entry.operation();
        V after = entry.currentValue();
        long expireAt;
        switch (entry.operation()) {
          case NONE:
            return outcome.expired != null ? null : current;
          case ACCESS:
            expiry.touch(current, now);
            store.touch(current);
            return current;
          case LOAD:
          case CREATE:
            if (entry.operation() == MutableEntryOperation.CREATE) {
              writeThrough(key, after);
            }
            expireAt = expiry.onCreation(now);
            if (expireAt <= now) {
              outcome.expiredOnCreation = true;
              return removedEverywhere(outcome, storedKey); // the write leaves no value anywhere
            }
            outcome.written = newEntry(storedKey, form.toStore(after), expireAt);
            return outcome.written;
          case UPDATE:
            writeThrough(key, after);
            outcome.previous = current;
            outcome.written = updatedEntry(storedKey, form.toStore(after), current, now);
            return outcome.written;
          case REMOVE:
            deleteThrough(key); // even when absent: the writer's store may hold it
            if (!live) {
              if (replicating) {
                return removedEverywhere(outcome, storedKey); // as remove(k) of a key not held here
              }
              return outcome.expired != null ? null : current;
            }
            outcome.previous = current;
            outcome.removal = removal(current.key());
            return outcome.removal;
          default:
            throw new IllegalStateException("unknown operation " + entry.operation());
        }
      });
    } catch (EntryProcessorException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new EntryProcessorException(e);
    }
    finishProcessor(key, outcome);
    if (stats) {
      recordHitOrMiss(outcome.hit);
      statistics.recordGetTime(System.nanoTime() - start);
      if (outcome.written != null && outcome.operation != MutableEntryOperation.LOAD) {
        statistics.recordPuts(1);
        statistics.recordPutTime(System.nanoTime() - start);
      } else if (outcome.operation == MutableEntryOperation.REMOVE && outcome.previous != null) {
        statistics.recordRemovals(1);
        statistics.recordRemoveTime(System.nanoTime() - start);
      }
    }
    @SuppressWarnings("unchecked")
    T typed = (T) result[0];
    return typed;
  }

  private void finishProcessor(K key, Outcome outcome) {
    List<BCacheEntryEvent<K, V>> fired = null;
    try {
      if (outcome.places != null) {
        List<BCacheEntryEvent<K, V>> built = new ArrayList<>(2);
        if (outcome.expired != null) {
          built.add(BCacheEntryEvent.expired(this, key, stored(outcome.expired)));
        }
        if (outcome.written != null) {
          built.add(outcome.previous == null
              ? BCacheEntryEvent.created(this, key, stored(outcome.written))
              : BCacheEntryEvent.updated(this, key, stored(outcome.written), stored(outcome.previous)));
        } else if (outcome.previous != null) {
          built.add(BCacheEntryEvent.removed(this, key, stored(outcome.previous)));
        }
        fired = built;
      }
    } finally {
      publishAndDispatch(outcome.written != null ? outcome.written : outcome.removal, outcome.places, fired);
    }
  }

  @Override
  public <T> Map<K, EntryProcessorResult<T>> invokeAll(Set<? extends K> keys,
      EntryProcessor<K, V, T> entryProcessor, Object... arguments) {
    requireOpen();
    requireNoNulls(keys);
    Objects.requireNonNull(entryProcessor, "entryProcessor");
    Map<K, EntryProcessorResult<T>> results = new HashMap<>();
    for (K key : keys) {
      try {
        T result = invoke(key, entryProcessor, arguments);
        if (result != null) {
          results.put(key, () -> result);
        }
      } catch (EntryProcessorException e) {
        results.put(key, () -> {
          throw e;
        });
      }
    }
    return results;
  }

  // ---------------------------------------------------------------- iteration

  @Override
  public Iterator<Cache.Entry<K, V>> iterator() {
    requireOpen();
    return new EntryIterator();
  }

  /** Iterates live entries; each one returned counts as a read, and {@code remove} goes through the writer. */
  private final class EntryIterator implements Iterator<Cache.Entry<K, V>> {
    private final Iterator<StoreEntry> entries = store.iterator();
    private Cache.Entry<K, V> next;
    private Cache.Entry<K, V> last;

    @Override
    public boolean hasNext() {
      requireOpen();
      long now = System.currentTimeMillis();
      while (next == null && entries.hasNext()) {
        StoreEntry entry = entries.next();
        if (isLive(entry, now)) {
          expiry.touch(entry, now);
          next = new BCacheEntry<>(keyOf(entry), valueOf(entry));
        }
      }
      return next != null;
    }

    @Override
    public Cache.Entry<K, V> next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      last = next;
      next = null;
      if (statisticsEnabled) {
        statistics.recordHits(1);
      }
      return last;
    }

    @Override
    public void remove() {
      requireOpen();
      if (last == null) {
        throw new IllegalStateException("next() has not returned an entry to remove");
      }
      K key = last.getKey();
      last = null;
      long start = statisticsEnabled ? System.nanoTime() : 0L;
      if (BCache.this.remove(key, NO_VALUE, true).previous != null && statisticsEnabled) {
        statistics.recordRemovals(1);
        statistics.recordRemoveTime(System.nanoTime() - start);
      }
    }
  }

  // ---------------------------------------------------------------- replication

  /**
   * Applies a change made on another node. Last writer wins on (version, origin) against
   * whatever this replica holds, live, expired or tombstone; a stale change is ignored. Local
   * listeners see CREATED, UPDATED or REMOVED; the writer is not called (it ran where the change
   * was made); the local bound holds, evicting here as needed.
   *
   * @param storedKey the key as this cache's store keeps it
   * @param storedValue the value as this cache's store keeps it, or {@code null} for a removal
   * @param version the change's hybrid logical clock timestamp
   * @param origin the id of the node that made the change
   * @param expireAt the change's absolute expiry time in epoch milliseconds
   * @return whether the change was applied
   */
  public boolean applyRemote(Object storedKey, Object storedValue, long version, long origin, long expireAt) {
    if (closed) {
      return false;
    }
    clock.observe(version);
    if (store.isCleared(version, origin)) {
      return false; // written before a clear this replica has applied
    }
    long now = System.currentTimeMillis();
    // a value already expired on arrival (its writer's clock is behind this one, or it came
    // late) is what it is here, the key's removal: it wins over an older entry, which the
    // listeners hear expire, and takes no place in the LRU; for a key not held here it leaves
    // nothing, not even a tombstone, which would count against the bound on real removals
    boolean expiredOnArrival = storedValue != null && expireAt != StoreEntry.ETERNAL && expireAt <= now;
    StoreEntry incoming = expiredOnArrival
        ? new StoreEntry(storedKey, null, version, origin, StoreEntry.ETERNAL)
        : entry(storedKey, storedValue, version, origin, expireAt);
    if (!incoming.isTombstone() && !events.hasListeners()
        && store.putIfAbsent(storedKey, incoming) == null) {
      return true; // a key new here: what a joining node gets for every key, without a compute
    }
    Outcome outcome = new Outcome();
    compute(storedKey, outcome, (k, current) -> {
      if (current == null ? expiredOnArrival : !incoming.isNewerThan(current)) {
        return current;
      }
      outcome.previous = isLive(current, now) ? current : null;
      outcome.written = incoming;
      return incoming;
    }, true);
    List<BCacheEntryEvent<K, V>> fired = null;
    try {
      if (outcome.written != null && outcome.places != null) {
        fired = remoteEvents(incoming, expiredOnArrival, outcome.previous);
      }
    } finally {
      events.dispatchRemote(outcome.places, fired);
    }
    if (outcome.written == null) {
      return false;
    }
    if (incoming.isTombstone()) {
      store.trimTombstones(); // a removal elsewhere can leave one here for a key never held
    }
    return true;
  }

  /**
   * The events of a peer's change applied here over {@code previous}, the live entry it replaced:
   * none if there was none and the change leaves no value.
   */
  private List<BCacheEntryEvent<K, V>> remoteEvents(StoreEntry incoming, boolean expiredOnArrival,
      StoreEntry previous) {
    K key = keyOf(incoming);
    if (incoming.isTombstone()) {
      if (previous == null) {
        return null;
      }
      return List.of(expiredOnArrival
          ? BCacheEntryEvent.expired(this, key, stored(previous)) // as if it expired here
          : BCacheEntryEvent.removed(this, key, stored(previous)));
    }
    return List.of(previous == null
        ? BCacheEntryEvent.created(this, key, stored(incoming))
        : BCacheEntryEvent.updated(this, key, stored(incoming), stored(previous)));
  }

  /**
   * Applies a clear made on another node: drops every entry not newer than it, without events
   * (a clear fires none), and ignores older changes from now on.
   *
   * @return whether the clear was newer than any this replica had applied
   */
  public boolean applyRemoteClear(long version, long origin) {
    if (closed) {
      return false;
    }
    clock.observe(version);
    return store.clearUpTo(new ClearMark(version, origin));
  }

  /** The latest clear this replica applied, or {@code null}: a snapshot sends it first. */
  public ClearMark clearMark() {
    return store.clearMark();
  }

  /** Every entry of this replica, tombstones included, weakly consistent: what a snapshot sends. */
  public Iterator<StoreEntry> replicaEntries() {
    return store.iterator();
  }

  /** Tombstones this replica holds (for tests). */
  long tombstoneCount() {
    return store.tombstoneCount();
  }

  /** Drops tombstones whose version is below {@code olderThanVersion}: the grace period is over. */
  public void purgeTombstones(long olderThanVersion) {
    store.purgeTombstones(olderThanVersion);
  }

  /** How this cache keeps values, which decides how they reach and leave the wire. */
  StoreForm storeForm() {
    return form;
  }

  // ---------------------------------------------------------------- listeners

  @Override
  public void registerCacheEntryListener(CacheEntryListenerConfiguration<K, V> listenerConfiguration) {
    requireOpen();
    Objects.requireNonNull(listenerConfiguration, "listenerConfiguration");
    events.register(listenerConfiguration);
    configuration.addCacheEntryListenerConfiguration(listenerConfiguration);
  }

  @Override
  public void deregisterCacheEntryListener(CacheEntryListenerConfiguration<K, V> listenerConfiguration) {
    requireOpen();
    Objects.requireNonNull(listenerConfiguration, "listenerConfiguration");
    if (events.deregister(listenerConfiguration)) {
      configuration.removeCacheEntryListenerConfiguration(listenerConfiguration);
    }
  }

  // ---------------------------------------------------------------- lifecycle and management

  @Override
  public String getName() {
    return name;
  }

  @Override
  public CacheManager getCacheManager() {
    return manager;
  }

  @Override
  public <C extends Configuration<K, V>> C getConfiguration(Class<C> clazz) {
    BCacheConfiguration<K, V> copy = new BCacheConfiguration<>(configuration);
    if (clazz.isInstance(copy)) {
      return clazz.cast(copy);
    }
    throw new IllegalArgumentException("the configuration is not a " + clazz.getName());
  }

  @Override
  public <T> T unwrap(Class<T> clazz) {
    if (clazz.isInstance(this)) {
      return clazz.cast(this);
    }
    throw new IllegalArgumentException("cannot unwrap a cache to " + clazz.getName());
  }

  /** The live entry count of this node's replica: what the bound limits. */
  public long size() {
    return store.liveCount();
  }

  // the flag and the bean change together, under the cache's lock: two threads turning the same
  // one on and off at once left the flag as one had set it and the bean as the other had
  synchronized void setStatisticsEnabled(boolean enabled) {
    configuration.setStatisticsEnabled(enabled);
    statisticsEnabled = enabled;
    exposeBean(enabled, statistics, MBeanRegistrar.Kind.STATISTICS);
  }

  synchronized void setManagementEnabled(boolean enabled) {
    configuration.setManagementEnabled(enabled);
    exposeBean(enabled, configurationBean, MBeanRegistrar.Kind.CONFIGURATION);
  }

  /**
   * Registers or unregisters one of this cache's MXBeans, unless the cache is closed: its beans
   * went with the close, and the name may be a newer copy's by now (a copy closed by another
   * thread while its creating thread had yet to start it registered over the new copy's, and
   * nothing unregistered it). Under the cache's lock, so that a close cannot slip in between.
   */
  private synchronized void exposeBean(boolean enabled, Object bean, MBeanRegistrar.Kind kind) {
    if (closed) {
      return;
    }
    if (enabled) {
      MBeanRegistrar.register(bean, kind, manager.getURI(), name);
      exposedBeans.add(kind);
    } else {
      MBeanRegistrar.unregister(bean, kind, manager.getURI(), name);
      exposedBeans.remove(kind);
    }
  }

  @Override
  public void close() {
    if (refuseOperations()) {
      release();
    }
  }

  /**
   * Closes the cache to operations, first of all when its manager closes: a write made after it
   * began to leave the cluster would not reach the peers. Returns whether this call closed it;
   * {@link #release} must follow.
   */
  boolean refuseOperations() {
    List<MBeanRegistrar.Kind> exposed;
    synchronized (this) {
      if (closed) {
        return false;
      }
      closed = true;
      exposed = List.copyOf(exposedBeans);
      exposedBeans.clear();
    }
    // now, not on release: a new manager for the URI may register a cache of this name before.
    // Only this copy's own: a bean's name is only the manager's URI and the cache's name, and
    // another manager of the URI (another class loader, or one opened while this copy was still
    // being created on a closing manager) may have registered its own copy's under it
    for (MBeanRegistrar.Kind kind : exposed) {
      MBeanRegistrar.unregister(kind == MBeanRegistrar.Kind.STATISTICS ? statistics : configurationBean,
          kind, manager.getURI(), name);
    }
    return true;
  }

  /** Lets go of what a cache closed by {@link #refuseOperations} holds. */
  void release() {
    manager.released(this);
    events.close();
    Closeables.closeQuietly(loader);
    Closeables.closeQuietly(writer);
    Closeables.closeQuietly(expiry.policy());
    store.clear();
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  // ---------------------------------------------------------------- helpers

  /** What one atomic operation did, filled in by its compute function. */
  private static final class Outcome {
    StoreEntry previous; // the live entry replaced or removed
    StoreEntry written; // the entry stored
    StoreEntry kept; // a live entry left as it was (condition not met)
    StoreEntry expired; // an expired entry found and dropped
    StoreEntry removal; // the tombstone a removal or a write expiring on creation left, when replicating
    EventDispatcher.Places places; // where the operation stands among its key's deliveries, per listener
    boolean expiredOnCreation;
    boolean hit;
    MutableEntryOperation operation;
  }

  private void finishWrite(K key, Outcome outcome) {
    finishWrite(key, outcome, null);
  }

  /** {@link #finishWrite(Object, Outcome)}, its events given to {@code later} if not null. */
  private void finishWrite(K key, Outcome outcome, LoadEvents later) {
    if (outcome.places == null) {
      publish(outcome.written != null ? outcome.written : outcome.removal);
      return;
    }
    List<BCacheEntryEvent<K, V>> fired = null;
    try {
      List<BCacheEntryEvent<K, V>> built = new ArrayList<>(2);
      if (outcome.expired != null) {
        built.add(BCacheEntryEvent.expired(this, key, stored(outcome.expired)));
      }
      if (outcome.written != null) {
        built.add(outcome.previous == null
            ? BCacheEntryEvent.created(this, key, stored(outcome.written))
            : BCacheEntryEvent.updated(this, key, stored(outcome.written), stored(outcome.previous)));
      }
      fired = built;
    } finally {
      StoreEntry written = outcome.written != null ? outcome.written : outcome.removal;
      if (later == null) {
        publishAndDispatch(written, outcome.places, fired);
      } else {
        later.add(outcome.places, fired);
        publish(written);
      }
    }
  }

  /**
   * The events of what a load others wait for stored, delivered once they have the values
   * rather than while they wait (a synchronous listener's delivery waits for the key's earlier
   * ones, which may read the key), in the order the loads took their places: a thread waits
   * only for places taken before those it still holds, so such waits form no cycle.
   */
  private final class LoadEvents {
    private final List<EventDispatcher.Places> places = new ArrayList<>(0);
    private final List<List<BCacheEntryEvent<K, V>>> fired = new ArrayList<>(0);

    void add(EventDispatcher.Places stored, List<BCacheEntryEvent<K, V>> storedEvents) {
      if (stored != null) { // null: no listener, nothing to deliver
        places.add(stored);
        fired.add(storedEvents);
      }
    }

    /**
     * Readies every turn with its events: a write a listener makes on one of these keys while
     * hearing an earlier one then delivers them first.
     */
    void prepare() {
      for (int i = 0; i < places.size(); i++) {
        events.prepare(places.get(i), fired.get(i));
      }
    }

    /**
     * Delivers them all, in order, even when one delivery fails.
     *
     * @throws RuntimeException the first failure (a synchronous listener's, as
     *     {@code CacheEntryListenerException})
     */
    void dispatch() {
      prepare();
      RuntimeException failure = null;
      for (int i = 0; i < places.size(); i++) {
        try {
          events.dispatch(places.get(i), fired.get(i));
        } catch (RuntimeException e) {
          if (failure == null) {
            failure = e;
          } else {
            failure.addSuppressed(e);
          }
        }
      }
      places.clear();
      fired.clear();
      if (failure != null) {
        throw failure;
      }
    }
  }

  /**
   * Publishes what an operation wrote, then gives its events to the places it took in the
   * listeners' queues, even if publishing threw (a value whose serialization failed): a place
   * left unfilled would hold up the key's later events for good.
   */
  private void publishAndDispatch(StoreEntry written, EventDispatcher.Places places,
      List<BCacheEntryEvent<K, V>> fired) {
    try {
      publish(written);
    } finally {
      events.dispatch(places, fired);
    }
  }

  private void expireEntry(K key, StoreEntry entry) {
    if (!events.hasListeners()) {
      store.remove(entry.key(), entry);
      return;
    }
    Outcome outcome = new Outcome();
    compute(entry.key(), outcome, (k, current) -> {
      if (current != entry) {
        return current;
      }
      outcome.expired = entry;
      return null;
    });
    List<BCacheEntryEvent<K, V>> fired = null;
    try {
      if (outcome.expired != null && outcome.places != null) {
        fired = List.of(BCacheEntryEvent.expired(this, key, stored(entry)));
      }
    } finally {
      events.dispatch(outcome.places, fired);
    }
  }

  /**
   * The store's compute, taking the operation's places among the listeners' deliveries while
   * the key's lock is held (after {@code remapping}, which may call the writer or a processor
   * and throw): every listener then hears the operations of one key in the order they took
   * effect. The caller gives {@code outcome.places} to the dispatcher, events or not.
   */
  private void compute(Object storedKey, Outcome outcome,
      BiFunction<Object, StoreEntry, StoreEntry> remapping) {
    compute(storedKey, outcome, remapping, false);
  }

  /** {@link #compute(Object, Outcome, BiFunction)}, for a change made here or ({@code remote}) on a peer. */
  private void compute(Object storedKey, Outcome outcome,
      BiFunction<Object, StoreEntry, StoreEntry> remapping, boolean remote) {
    // user code runs under the key's lock here: a cache it closes must not wait for listeners
    try (ThreadMark.Scope held = ThreadMark.HELD_KEYS.enter()) {
      if (!events.hasListeners()) {
        store.compute(storedKey, remapping);
        return;
      }
      store.compute(storedKey, (k, current) -> {
        StoreEntry next = remapping.apply(k, current);
        // the store's own copy of the key (a caller's key object may change later); no entry
        // before or after means no event, and no turn to take
        Object heldKey = current != null ? current.key() : next != null ? next.key() : null;
        outcome.places = events.reserve(remote, heldKey);
        return next;
      });
    } catch (RuntimeException | Error e) {
      events.release(outcome.places);
      throw e;
    }
  }

  /**
   * The entry a write of {@code storedValue} maps, noted in {@code outcome}: an update of the
   * {@code live} current entry, or a creation; {@code null} if it expires on creation.
   */
  private StoreEntry writtenEntry(Outcome outcome, Object storedKey, Object storedValue, StoreEntry current,
      boolean live, long now) {
    if (live) {
      outcome.previous = current;
      outcome.written = updatedEntry(storedKey, storedValue, current, now);
      return outcome.written;
    }
    long expireAt = expiry.onCreation(now);
    if (expireAt <= now) {
      outcome.expiredOnCreation = true;
      return removedEverywhere(outcome, storedKey); // the write leaves no value, here or elsewhere
    }
    outcome.written = newEntry(storedKey, storedValue, expireAt);
    return outcome.written;
  }

  /**
   * The removal of a key not live here (a processor's remove, or a write whose value expires as
   * it is created): other nodes may still hold an older value (the key evicted or expired here),
   * so a replicated cache sends a tombstone newer than what they hold, as {@code remove(k)} of
   * such a key does. {@code null} (nothing held) when not replicating.
   */
  private StoreEntry removedEverywhere(Outcome outcome, Object storedKey) {
    outcome.removal = removal(storedKey);
    return outcome.removal;
  }

  private StoreEntry newEntry(Object storedKey, Object storedValue, long expireAt) {
    return entry(storedKey, storedValue, clock.tick(), nodeId, expireAt);
  }

  /**
   * The entry that replaces the live {@code current}. An update the policy leaves the expiry
   * unchanged by keeps the expiry current has here, accesses included, and that is the time the
   * update's change carries: the one its first write set may have passed already, and a peer
   * would drop the new value on arrival.
   */
  private StoreEntry updatedEntry(Object storedKey, Object storedValue, StoreEntry current, long now) {
    long expireAt = expiry.onUpdate(now);
    return newEntry(storedKey, storedValue, expireAt == ExpiryCalculator.UNCHANGED ? current.expireAt() : expireAt);
  }

  /** An entry an access may move the expiry of only if the policy can do that. */
  private StoreEntry entry(Object storedKey, Object storedValue, long version, long origin, long expireAt) {
    return expiry.accessChangesExpiry()
        ? StoreEntry.touchable(storedKey, storedValue, version, origin, expireAt)
        : new StoreEntry(storedKey, storedValue, version, origin, expireAt);
  }

  /**
   * What a removal leaves in the store: nothing on a standalone node; a versioned tombstone on a
   * replicating one, so that older state arriving later cannot bring the key back.
   */
  private StoreEntry removal(Object storedKey) {
    return replicating ? new StoreEntry(storedKey, null, clock.tick(), nodeId, StoreEntry.ETERNAL) : null;
  }

  private void publish(StoreEntry written) {
    if (replicating && written != null) {
      changeSink.publish(this, written);
      if (written.isTombstone()) {
        store.trimTombstones(); // a removal of a key not held here leaves one too
      }
    }
  }

  private static boolean isLive(StoreEntry entry, long now) {
    return entry != null && entry.value() != null && !entry.isExpired(now);
  }

  private static StoreEntry expiredOrNull(StoreEntry current, boolean live) {
    return !live && current != null && current.value() != null ? current : null;
  }

  @SuppressWarnings("unchecked")
  private V valueOf(StoreEntry entry) {
    return (V) form.fromStore(entry.value());
  }

  /** An entry's value for an event: decoded only if a listener asks for it. */
  private EventValue<V> stored(StoreEntry entry) {
    return EventValue.stored(entry.value(), decoder);
  }

  @SuppressWarnings("unchecked")
  private V fromStore(Object stored) {
    return (V) form.fromStore(stored);
  }

  @SuppressWarnings("unchecked")
  private K keyOf(StoreEntry entry) {
    return (K) form.keyFromStore(entry.key());
  }

  @SuppressWarnings("unchecked")
  private V oldValueOf(Outcome outcome) {
    return (V) form.fromStore(outcome.previous.value());
  }

  private void recordHit(long start) {
    statistics.recordHits(1);
    statistics.recordGetTime(System.nanoTime() - start);
  }

  /** A write that first looked the key up: a hit or a miss, and a put if it wrote. */
  private void recordConditionalWrite(Outcome outcome, long start, boolean hit) {
    recordHitOrMiss(hit);
    recordPut(outcome, start);
  }

  private void recordPut(Outcome outcome, long start) {
    if (outcome.written != null) {
      statistics.recordPuts(1);
      statistics.recordPutTime(System.nanoTime() - start);
    }
  }

  private void recordHitOrMiss(boolean hit) {
    if (hit) {
      statistics.recordHits(1);
    } else {
      statistics.recordMisses(1);
    }
  }

  private void writeThrough(K key, V value) {
    if (!writeThrough) {
      return;
    }
    try {
      writer.write(new BCacheEntry<>(key, value));
    } catch (CacheWriterException e) {
      throw e;
    } catch (Exception e) {
      throw new CacheWriterException("writer failed for key " + key, e);
    }
  }

  private void deleteThrough(K key) {
    if (!writeThrough) {
      return;
    }
    try {
      writer.delete(key);
    } catch (CacheWriterException e) {
      throw e;
    } catch (Exception e) {
      throw new CacheWriterException("writer failed to delete key " + key, e);
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("cache '" + name + "' is closed");
    }
  }

  private static void requireNoNulls(Collection<?> keys) {
    Objects.requireNonNull(keys, "keys");
    for (Object key : keys) {
      Objects.requireNonNull(key, "keys contains null");
    }
  }


  /** The listener used when {@code loadAll} is given none. */
  private enum NoCompletionListener implements CompletionListener {
    INSTANCE;

    @Override
    public void onCompletion() {
    }

    @Override
    public void onException(Exception e) {
      LOG.warn("loadAll failed", e);
    }
  }

  @Override
  public String toString() {
    return "BCache[" + name + " of " + manager.getURI() + "]";
  }
}
