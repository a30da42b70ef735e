package io.bcache.bench;

import java.net.URI;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableCacheEntryListenerConfiguration;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.event.CacheEntryEvent;
import javax.cache.event.CacheEntryUpdatedListener;
import javax.cache.expiry.EternalExpiryPolicy;
import javax.cache.spi.CachingProvider;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * Local (single-node, in-process) throughput of a JCache {@link Cache}: {@code get} of a key
 * that is present, and {@code put} that overwrites a present key, for bcache and for
 * Caffeine's JCache adapter side by side in one run.
 *
 * <p>Why: the product brief sets a target for the local path of bcache, the path every read
 * takes — get hits at least 1.5x the throughput of Caffeine's JCache adapter and puts no
 * slower, under the same configuration, both store-by-reference and store-by-value. This
 * benchmark measures exactly that comparison; {@link CompareMain} runs it and prints the
 * bcache/Caffeine ratio per row.
 *
 * <p>Fairness: both providers are reached only through the JCache API
 * ({@link Caching#getCachingProvider(String)} with the provider's class name, its own
 * {@link CacheManager} for its default URI) and get the same {@link MutableConfiguration}:
 * {@code Integer} keys, {@code String} values, statistics and management off, eternal
 * entries, no loader, writer or listeners; {@code storeByValue} is a parameter. Both are
 * bounded LRU-style caches of the same size, {@value #MAX_ENTRIES} entries, well above the
 * {@value #KEY_COUNT} keys: bcache through {@code bcache.maxEntries}, Caffeine's adapter
 * through its Typesafe Config default policy ({@code caffeine.jcache.default.policy.maximum.size},
 * set as a system property of the forked JVM; without it the adapter is an unbounded map that
 * keeps no recency at all, which is not the same cache). Neither evicts, and every {@code get}
 * is a hit (checked in setup).
 *
 * <p>Keys are drawn from a precomputed, scrambled Zipfian sequence (exponent
 * {@value #ZIPF_EXPONENT}, as YCSB uses), so a few keys are hot as in a real cache; the
 * measured methods only read that array through a per-thread cursor, with no random number
 * generation and no boxing (keys are pre-boxed {@code Integer}s, values pre-built strings).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "-Dcaffeine.jcache.default.policy.maximum.size=" + LocalCacheBenchmark.MAX_ENTRIES)
@Threads(2)
public class LocalCacheBenchmark {

  /** The JCache provider class of each value of {@link #provider}. */
  static final String BCACHE_PROVIDER = "bcache"; // the short name users configure

  static final String CAFFEINE_PROVIDER =
      "com.github.benmanes.caffeine.jcache.spi.CaffeineCachingProvider";

  /** Number of distinct keys, all present in the cache; a power of two. */
  static final int KEY_COUNT = 1 << 16;

  /** bcache's bound, twice the key count so no entry is ever evicted. */
  static final int MAX_ENTRIES = 2 * KEY_COUNT;

  /** Length of the precomputed access sequence; a power of two so a mask wraps it. */
  static final int SEQUENCE_LENGTH = 1 << 20;

  static final int SEQUENCE_MASK = SEQUENCE_LENGTH - 1;

  static final double ZIPF_EXPONENT = 0.99;

  static final String CACHE_NAME = "bench";

  @Param({"bcache", "caffeine"})
  String provider;

  @Param({"true", "false"})
  boolean storeByValue;

  /**
   * {@code sync}: a synchronous listener hears every update (it does nothing), so a put also
   * pays for delivering its event in the key's order; {@code none} by default, run the other
   * with {@code -p listener=none,sync}.
   */
  @Param({"none"})
  String listener;

  CacheManager cacheManager;
  Cache<Integer, String> cache;

  /** Pre-boxed keys 0 .. KEY_COUNT-1. */
  Integer[] keys;

  /** The value each key is prefilled with. */
  String[] values;

  /** Values the put benchmark writes, distinct from {@link #values}. */
  String[] newValues;

  /** Precomputed access sequence: indexes into {@link #keys}, Zipfian over scrambled ranks. */
  int[] sequence;

  @Setup(Level.Trial)
  public void setUp() {
    keys = new Integer[KEY_COUNT];
    values = new String[KEY_COUNT];
    newValues = new String[KEY_COUNT];
    for (int i = 0; i < KEY_COUNT; i++) {
      keys[i] = Integer.valueOf(i);
      values[i] = "value-" + i;
      newValues[i] = "updated-" + i;
    }
    sequence = zipfianSequence(SEQUENCE_LENGTH, KEY_COUNT, ZIPF_EXPONENT, 42L);

    String providerClass;
    Properties properties = new Properties();
    switch (provider) {
      case "bcache":
        providerClass = BCACHE_PROVIDER;
        properties.setProperty("bcache.maxEntries", Integer.toString(MAX_ENTRIES));
        break;
      case "caffeine":
        providerClass = CAFFEINE_PROVIDER;
        break;
      default:
        throw new IllegalArgumentException("unknown provider: " + provider);
    }
    ClassLoader classLoader = LocalCacheBenchmark.class.getClassLoader();
    CachingProvider cachingProvider = Caching.getCachingProvider(providerClass, classLoader);
    URI uri = cachingProvider.getDefaultURI();
    cacheManager = cachingProvider.getCacheManager(uri, classLoader, properties);
    if (cacheManager.getCache(CACHE_NAME, Integer.class, String.class) != null) {
      cacheManager.destroyCache(CACHE_NAME); // left over from an earlier trial in this JVM (-f 0)
    }

    MutableConfiguration<Integer, String> configuration =
        new MutableConfiguration<Integer, String>()
            .setTypes(Integer.class, String.class)
            .setStoreByValue(storeByValue)
            .setStatisticsEnabled(false)
            .setManagementEnabled(false)
            .setExpiryPolicyFactory(EternalExpiryPolicy.factoryOf())
            .setReadThrough(false)
            .setWriteThrough(false);
    if (listener.equals("sync")) {
      configuration.addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
          FactoryBuilder.factoryOf(IgnoresUpdates.class), null, false, true));
    } else if (!listener.equals("none")) {
      throw new IllegalArgumentException("unknown listener: " + listener);
    }
    cache = cacheManager.createCache(CACHE_NAME, configuration);

    for (int i = 0; i < KEY_COUNT; i++) {
      cache.put(keys[i], values[i]);
    }
    // The get benchmark must measure hits only: prove no key was evicted or lost.
    for (int i = 0; i < KEY_COUNT; i++) {
      if (cache.get(keys[i]) == null) {
        throw new IllegalStateException(
            provider + ": key " + i + " missing after prefill; the cache evicted or dropped it");
      }
    }
    String actual = cacheManager.getCachingProvider().getClass().getName();
    if (!actual.equals(providerClass)) {
      throw new IllegalStateException("asked for " + providerClass + ", got " + actual);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (cacheManager != null) {
      cacheManager.destroyCache(CACHE_NAME);
      cacheManager.close();
    }
  }

  /** A synchronous listener's cheapest body: what a put with one costs is the provider's part. */
  public static final class IgnoresUpdates implements CacheEntryUpdatedListener<Integer, String> {
    @Override
    public void onUpdated(Iterable<CacheEntryEvent<? extends Integer, ? extends String>> events) {
      for (CacheEntryEvent<? extends Integer, ? extends String> event : events) {
        event.getKey(); // what a listener reads at least
      }
    }
  }

  /** Each thread's position in the shared access sequence; threads start far apart. */
  @State(Scope.Thread)
  public static class Cursor {
    int next;

    @Setup(Level.Trial)
    public void setUp(ThreadParams threadParams) {
      next = (int) ((long) threadParams.getThreadIndex() * SEQUENCE_LENGTH
          / threadParams.getThreadCount());
    }

    int nextIndex(int[] sequence) {
      return sequence[next++ & SEQUENCE_MASK];
    }
  }

  /** A get of a key that is present (always a hit). */
  @Benchmark
  public String get(Cursor cursor) {
    return cache.get(keys[cursor.nextIndex(sequence)]);
  }

  /** A put that overwrites a present key with a precomputed value. */
  @Benchmark
  public void put(Cursor cursor) {
    int index = cursor.nextIndex(sequence);
    cache.put(keys[index], newValues[index]);
  }

  /**
   * Draws {@code length} key indexes in {@code [0, keyCount)} with Zipfian probabilities
   * (rank r has weight 1/r^exponent), then maps ranks to keys through a random permutation so
   * the hot keys are spread over the key space instead of being the smallest integers.
   */
  static int[] zipfianSequence(int length, int keyCount, double exponent, long seed) {
    double[] cumulative = new double[keyCount];
    double sum = 0;
    for (int rank = 0; rank < keyCount; rank++) {
      sum += 1.0 / Math.pow(rank + 1, exponent);
      cumulative[rank] = sum;
    }
    SplittableRandom random = new SplittableRandom(seed);
    int[] permutation = new int[keyCount];
    for (int i = 0; i < keyCount; i++) {
      permutation[i] = i;
    }
    for (int i = keyCount - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = permutation[i];
      permutation[i] = permutation[j];
      permutation[j] = t;
    }
    int[] sequence = new int[length];
    for (int i = 0; i < length; i++) {
      double u = random.nextDouble() * sum;
      int lo = 0;
      int hi = keyCount - 1;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (cumulative[mid] < u) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      sequence[i] = permutation[lo];
    }
    return sequence;
  }
}
