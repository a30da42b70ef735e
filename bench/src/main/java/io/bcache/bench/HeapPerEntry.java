package io.bcache.bench;

import java.util.Properties;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.spi.CachingProvider;

/**
 * Measures the heap a provider spends per entry, beyond the keys and values themselves, for a
 * bounded cache holding 200,000 {@code Integer -> String} entries. Keys and values are created
 * before the first measurement, so only the cache's own structures are counted. Heap use is
 * read after repeated full collections; run it with {@code -XX:+UseSerialGC} so that the
 * reading is stable. Memory use, unlike time, does not depend on the machine's load.
 *
 * <pre>java -XX:+UseSerialGC -Dcaffeine.jcache.default.policy.maximum.size=1000000 \
 *     -cp bench/target/benchmarks.jar io.bcache.bench.HeapPerEntry</pre>
 */
public final class HeapPerEntry {

  private static final int ENTRIES = 200_000;

  private HeapPerEntry() {
  }

  public static void main(String[] args) {
    if (!Long.toString(1_000_000).equals(System.getProperty("caffeine.jcache.default.policy.maximum.size"))) {
      System.err.println("run with -Dcaffeine.jcache.default.policy.maximum.size=1000000 so that Caffeine is bounded too");
      System.exit(2);
    }
    // a round not counted first: the first measurement in a fresh JVM also holds what the run
    // allocates once (and the heap's first resizing), which made it read 68-98 bytes for either
    for (String provider : new String[] {LocalCacheBenchmark.BCACHE_PROVIDER, LocalCacheBenchmark.CAFFEINE_PROVIDER}) {
      bytesPerEntry(provider, false);
    }
    System.out.printf("%-10s %-13s %s%n", "provider", "storeByValue", "bytes per entry (cache structures only)");
    for (boolean byValue : new boolean[] {false, true}) {
      for (String provider : new String[] {LocalCacheBenchmark.BCACHE_PROVIDER, LocalCacheBenchmark.CAFFEINE_PROVIDER}) {
        System.out.printf("%-10s %-13s %.1f%n", provider.equals(LocalCacheBenchmark.BCACHE_PROVIDER) ? "bcache" : "caffeine",
            byValue, bytesPerEntry(provider, byValue));
      }
    }
  }

  private static double bytesPerEntry(String providerName, boolean byValue) {
    Integer[] keys = new Integer[ENTRIES];
    String[] values = new String[ENTRIES];
    for (int i = 0; i < ENTRIES; i++) {
      keys[i] = i;
      values[i] = "value-" + i;
    }
    CachingProvider provider = Caching.getCachingProvider(providerName);
    Properties properties = new Properties();
    properties.setProperty("bcache.maxEntries", "1000000");
    CacheManager manager = provider.getCacheManager(provider.getDefaultURI(), HeapPerEntry.class.getClassLoader(), properties);
    try {
      Cache<Integer, String> cache = manager.createCache("heap-" + byValue,
          new MutableConfiguration<Integer, String>().setTypes(Integer.class, String.class).setStoreByValue(byValue));
      long before = usedHeap();
      for (int i = 0; i < ENTRIES; i++) {
        cache.put(keys[i], values[i]);
      }
      long after = usedHeap();
      if (cache.get(keys[ENTRIES - 1]) == null) {
        throw new IllegalStateException(providerName + " lost an entry");
      }
      return (after - before) / (double) ENTRIES;
    } finally {
      manager.close();
    }
  }

  private static long usedHeap() {
    Runtime runtime = Runtime.getRuntime();
    for (int i = 0; i < 5; i++) {
      System.gc();
    }
    return runtime.totalMemory() - runtime.freeMemory();
  }
}
