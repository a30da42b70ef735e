package io.bcache.example;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.integration.CacheLoader;
import javax.cache.spi.CachingProvider;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * A tour of bcache as a plain, single-node JCache provider.
 *
 * <p>The program uses nothing but the JSR-107 API and the provider's name, the way an
 * application that already codes against JCache would. No ZooKeeper is configured, so
 * the node is a local cache and opens no socket.
 */
public final class StandaloneExample {

    private static final String CACHE = "users";
    private static final int BOUND = 5;
    private static final int READERS = 50;

    public static void main(String[] args) throws Exception {
        // "bcache" works literally: the provider ships a class named exactly `bcache`,
        // which is what cache-api falls back to for a name it does not know.
        CachingProvider provider = Caching.getCachingProvider("bcache");

        // A tiny per-cache bound so that step 3 can overflow it with a handful of puts.
        // The key names the cache, so other caches of this manager keep the default.
        Properties props = new Properties();
        props.setProperty("bcache.cache." + CACHE + ".maxEntries", String.valueOf(BOUND));

        URI uri = provider.getDefaultURI();
        CacheManager manager = provider.getCacheManager(
                uri, StandaloneExample.class.getClassLoader(), props);
        try {
            MutableConfiguration<String, String> config = new MutableConfiguration<String, String>()
                    .setTypes(String.class, String.class)
                    // read-through: a get() that misses asks the loader instead of returning null
                    .setReadThrough(true)
                    // a Class-based factory: the cache instantiates the loader itself
                    .setCacheLoaderFactory(FactoryBuilder.factoryOf(SlowDatabaseLoader.class))
                    // statistics are off by default; step 4 reads them over JMX
                    .setStatisticsEnabled(true);
            Cache<String, String> cache = manager.createCache(CACHE, config);

            System.out.println("bcache example: provider " + provider.getClass().getName()
                    + ", manager " + manager.getURI() + ", cache '" + CACHE + "' bounded to "
                    + BOUND + " entries");

            putAndHit(cache);
            concurrentMiss(cache);
            evictionAtTheBound(cache);
            statistics(manager, cache);
        } finally {
            // Closing the manager closes its caches and unregisters their MBeans.
            manager.close();
        }
        System.out.println();
        System.out.println("manager closed; done.");
    }

    /** Step 1: an ordinary put, then a get that finds it without calling the loader. */
    private static void putAndHit(Cache<String, String> cache) {
        heading("1. put and hit");
        cache.put("greeting", "hello, bcache");
        System.out.println("get(\"greeting\")  -> " + cache.get("greeting"));
        System.out.println("loader calls so far: " + SlowDatabaseLoader.CALLS.get()
                + " (a hit never reaches the loader)");
    }

    /**
     * Step 2: many threads miss the same key at the same instant. Without duplicate-load
     * suppression each of them would hit the slow database; bcache runs the loader once
     * and hands its result to every waiting reader.
     */
    private static void concurrentMiss(Cache<String, String> cache) throws InterruptedException {
        heading("2. one key missed by " + READERS + " threads at once");
        int callsBefore = SlowDatabaseLoader.CALLS.get();
        CountDownLatch startGate = new CountDownLatch(1);
        AtomicInteger gotValue = new AtomicInteger();
        List<Thread> readers = new ArrayList<>();
        for (int i = 0; i < READERS; i++) {
            Thread t = new Thread(() -> {
                try {
                    startGate.await(); // everyone waits here, then all go together
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                if ("User 42 (from the database)".equals(cache.get("user:42"))) {
                    gotValue.incrementAndGet();
                }
            }, "reader-" + i);
            readers.add(t);
            t.start();
        }
        long start = System.nanoTime();
        startGate.countDown();
        for (Thread t : readers) {
            t.join();
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        System.out.println("threads that got the value: " + gotValue.get() + " of " + READERS);
        System.out.println("loader calls for user:42:   " + (SlowDatabaseLoader.CALLS.get() - callsBefore)
                + " (expected 1)");
        System.out.println("wall time:                  " + millis + " ms (one "
                + SlowDatabaseLoader.LATENCY_MS + " ms load, not " + READERS + " of them)");
    }

    /**
     * Step 3: the cache holds at most BOUND entries and evicts the least recently used.
     * Reading key-1 just before the overflow makes it recently used, so key-2 and key-3
     * go instead.
     */
    private static void evictionAtTheBound(Cache<String, String> cache) {
        heading("3. eviction at the bound (" + BOUND + " entries, least recently used first)");
        cache.clear(); // start from an empty cache so the arithmetic below is plain
        for (int i = 1; i <= BOUND; i++) {
            cache.put("key-" + i, "value-" + i);
        }
        System.out.println("put key-1 .. key-" + BOUND + " (cache now full)");
        cache.get("key-1"); // a hit: key-1 becomes the most recently used entry
        System.out.println("get(\"key-1\")  -> touched, so it is no longer the eldest");
        int overflow = 2;
        for (int i = BOUND + 1; i <= BOUND + overflow; i++) {
            cache.put("key-" + i, "value-" + i);
        }
        System.out.println("put key-" + (BOUND + 1) + " .. key-" + (BOUND + overflow)
                + " (" + overflow + " over the bound)");

        // containsKey does not consult the loader, so it shows what is really held;
        // a get() here would simply load the evicted keys back.
        List<String> gone = new ArrayList<>();
        List<String> kept = new ArrayList<>();
        for (int i = 1; i <= BOUND; i++) {
            (cache.containsKey("key-" + i) ? kept : gone).add("key-" + i);
        }
        System.out.println("of the first " + BOUND + " keys, still cached: " + kept
                + "; evicted: " + gone + " (expected evicted: [key-2, key-3])");

        // JCache has no size(); counting through the iterator is the portable way.
        int size = 0;
        List<String> keys = new ArrayList<>();
        for (Cache.Entry<String, String> e : cache) {
            size++;
            keys.add(e.getKey());
        }
        keys.sort(null);
        System.out.println("entries in cache: " + size + " " + keys + " (expected " + BOUND + ")");
    }

    /**
     * Step 4: the standard statistics MXBean, read the way a monitoring tool would, from
     * the platform MBean server. JCache names it after the manager's URI and the cache's
     * name, with the characters that are special in an ObjectName replaced by '.'.
     */
    private static void statistics(CacheManager manager, Cache<String, String> cache) throws Exception {
        heading("4. statistics over JMX");
        ObjectName name = new ObjectName("javax.cache:type=CacheStatistics"
                + ",CacheManager=" + mbeanSafe(manager.getURI().toString())
                + ",Cache=" + mbeanSafe(cache.getName()));
        System.out.println("MBean " + name);
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        for (String attribute : new String[] {
                "CacheGets", "CacheHits", "CacheMisses", "CachePuts", "CacheEvictions"}) {
            System.out.printf("  %-15s %s%n", attribute, server.getAttribute(name, attribute));
        }
        System.out.println("(step 3's iteration read every entry; JCache counts those reads as hits)");
    }

    /** The replacement JCache providers apply to a manager URI or cache name in an ObjectName. */
    private static String mbeanSafe(String s) {
        return s.replaceAll("[,:=\n]", ".");
    }

    private static void heading(String title) {
        System.out.println();
        System.out.println("== " + title + " ==");
    }

    /**
     * Stands in for a slow database: every call takes LATENCY_MS and is counted, so the
     * output can show how often the cache really went to the "database".
     *
     * <p>Public, static and with a no-argument constructor because
     * {@code FactoryBuilder.factoryOf(Class)} creates it by reflection; the counter is
     * static because the instance the cache creates is not reachable from here.
     */
    public static final class SlowDatabaseLoader implements CacheLoader<String, String> {
        static final AtomicInteger CALLS = new AtomicInteger();
        static final long LATENCY_MS = 200;

        @Override
        public String load(String key) {
            CALLS.incrementAndGet();
            try {
                Thread.sleep(LATENCY_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "User " + key.substring(key.indexOf(':') + 1) + " (from the database)";
        }

        @Override
        public Map<String, String> loadAll(Iterable<? extends String> keys) {
            Map<String, String> values = new HashMap<>();
            for (String key : keys) {
                values.put(key, load(key));
            }
            return values;
        }
    }
}
