package io.bcache.jcache;

import static io.bcache.jcache.PublicApiTestSupport.count;
import static io.bcache.jcache.PublicApiTestSupport.testClassLoader;
import static io.bcache.jcache.PublicApiTestSupport.uniqueUri;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableCacheEntryListenerConfiguration;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEvent;
import javax.cache.event.CacheEntryExpiredListener;
import javax.cache.event.CacheEntryListenerException;
import javax.cache.event.CacheEntryRemovedListener;
import javax.cache.event.CacheEntryUpdatedListener;
import javax.cache.processor.EntryProcessor;
import javax.cache.processor.MutableEntry;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The store is a bounded LRU: after any operation returns, the entry count is at most the
 * bound, and the least recently used entry (by get, put, replace, invoke) is evicted first.
 * Eviction is not a JCache event, so it fires no REMOVED (nor EXPIRED) listener event.
 */
@Timeout(120)
class BoundedLruTest {

    private final PublicApiTestSupport.Managers managers = new PublicApiTestSupport.Managers();

    @AfterEach
    void closeManagers() {
        managers.closeAll();
    }

    // ---------------------------------------------------------------- helpers

    private CacheManager managerBoundedTo(long maxEntries) {
        Properties properties = new Properties();
        properties.setProperty("bcache.maxEntries", Long.toString(maxEntries));
        return managers.track(PublicApiTestSupport.provider().getCacheManager(uniqueUri(), testClassLoader(), properties));
    }

    private Cache<String, Integer> stringCacheBoundedTo(long maxEntries) {
        return managerBoundedTo(maxEntries).createCache("lru",
                new MutableConfiguration<String, Integer>().setTypes(String.class, Integer.class));
    }

    private Cache<Integer, Integer> intCacheBoundedTo(long maxEntries) {
        return managerBoundedTo(maxEntries).createCache("ints",
                new MutableConfiguration<Integer, Integer>().setTypes(Integer.class, Integer.class));
    }

    private static Set<String> keys(Cache<String, ?> cache) {
        Set<String> keys = new HashSet<>();
        for (Cache.Entry<String, ?> e : cache) {
            keys.add(e.getKey());
        }
        return keys;
    }

    private static void putAll(Cache<String, Integer> cache, String... keys) {
        for (String key : keys) {
            cache.put(key, key.hashCode());
        }
    }

    /** An entry processor that only reads the entry. */
    static final class ReadValue implements EntryProcessor<String, Integer, Integer>, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public Integer process(MutableEntry<String, Integer> entry, Object... arguments) {
            return entry.getValue();
        }
    }

    /** An entry processor that sets the entry's value. */
    static final class SetValue implements EntryProcessor<Integer, Integer, Void>, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public Void process(MutableEntry<Integer, Integer> entry, Object... arguments) {
            entry.setValue((Integer) arguments[0]);
            return null;
        }
    }

    // ---------------------------------------------------------------- LRU order

    @Test
    void withoutReadsTheOldestEntriesGoFirst() {
        Cache<String, Integer> cache = stringCacheBoundedTo(3);

        putAll(cache, "k1", "k2", "k3", "k4", "k5", "k6");

        assertThat(keys(cache)).containsExactlyInAnyOrder("k4", "k5", "k6");
    }

    @Test
    void getMakesAnEntryRecentlyUsed() {
        Cache<String, Integer> cache = stringCacheBoundedTo(3);
        putAll(cache, "a", "b", "c");

        assertThat(cache.get("a")).isEqualTo("a".hashCode());
        cache.put("d", 4);

        assertThat(keys(cache)).as("after put a,b,c; get a; put d").containsExactlyInAnyOrder("a", "c", "d");
    }

    @Test
    void evictionFollowsRecencyOverSeveralSteps() {
        Cache<String, Integer> cache = stringCacheBoundedTo(3);
        putAll(cache, "a", "b", "c");

        cache.get("a");   // order, least recent first: b c a
        cache.put("d", 4); // evicts b: c a d
        cache.get("c");   // a d c
        cache.put("e", 5); // evicts a: d c e
        cache.put("f", 6); // evicts d: c e f

        assertThat(keys(cache)).as("put a,b,c; get a; put d; get c; put e; put f").containsExactlyInAnyOrder("c", "e", "f");
    }

    @Test
    void overwritingPutMakesAnEntryRecentlyUsed() {
        Cache<String, Integer> cache = stringCacheBoundedTo(3);
        putAll(cache, "a", "b", "c");

        cache.put("a", 100);
        cache.put("d", 4);

        assertThat(keys(cache)).as("after put a,b,c; put a again; put d").containsExactlyInAnyOrder("a", "c", "d");
        assertThat(cache.get("a")).isEqualTo(100);
    }

    @Test
    void replaceMakesAnEntryRecentlyUsed() {
        Cache<String, Integer> cache = stringCacheBoundedTo(3);
        putAll(cache, "a", "b", "c");

        assertThat(cache.replace("a", 100)).isTrue();
        cache.put("d", 4);

        assertThat(keys(cache)).as("after put a,b,c; replace a; put d").containsExactlyInAnyOrder("a", "c", "d");
    }

    @Test
    void invokeMakesAnEntryRecentlyUsed() {
        Cache<String, Integer> cache = stringCacheBoundedTo(3);
        putAll(cache, "a", "b", "c");

        assertThat(cache.invoke("a", new ReadValue())).isEqualTo("a".hashCode());
        cache.put("d", 4);

        assertThat(keys(cache)).as("after put a,b,c; invoke(a) reading it; put d").containsExactlyInAnyOrder("a", "c", "d");
    }

    @Test
    void aMissDoesNotDisturbTheOrder() {
        Cache<String, Integer> cache = stringCacheBoundedTo(3);
        putAll(cache, "a", "b", "c");

        assertThat(cache.get("absent")).isNull();
        cache.put("d", 4);

        assertThat(keys(cache)).containsExactlyInAnyOrder("b", "c", "d");
    }

    @Test
    void removingAnEntryFreesItsPlace() {
        Cache<String, Integer> cache = stringCacheBoundedTo(3);
        putAll(cache, "a", "b", "c");

        assertThat(cache.remove("b")).isTrue();
        cache.put("d", 4);

        assertThat(keys(cache)).as("nothing needs evicting after a remove").containsExactlyInAnyOrder("a", "c", "d");
    }

    // ---------------------------------------------------------------- the bound, single thread

    @Test
    void everyWriteOperationLeavesAtMostTheBound() {
        int bound = 50;
        Cache<Integer, Integer> cache = intCacheBoundedTo(bound);
        int inserted = 0;

        for (int i = 0; i < 150; i++) {
            cache.put(inserted++, i);
            assertThat(count(cache)).as("after put #%d", inserted).isEqualTo(Math.min(inserted, bound));
        }
        for (int i = 0; i < 150; i++) {
            assertThat(cache.putIfAbsent(inserted++, i)).isTrue();
            assertThat(count(cache)).as("after putIfAbsent #%d", inserted).isEqualTo(bound);
        }
        for (int i = 0; i < 150; i++) {
            assertThat(cache.getAndPut(inserted++, i)).isNull();
            assertThat(count(cache)).as("after getAndPut #%d", inserted).isEqualTo(bound);
        }
        for (int i = 0; i < 150; i++) {
            cache.invoke(inserted++, new SetValue(), i);
            assertThat(count(cache)).as("after invoke creating #%d", inserted).isEqualTo(bound);
        }
        for (int batch = 0; batch < 30; batch++) {
            Map<Integer, Integer> entries = new LinkedHashMap<>();
            for (int i = 0; i < 7; i++) {
                entries.put(inserted++, i);
            }
            cache.putAll(entries);
            assertThat(count(cache)).as("after putAll batch %d", batch).isEqualTo(bound);
        }
    }

    @Test
    void aPutAllLargerThanTheBoundLeavesExactlyTheBound() {
        int bound = 20;
        Cache<Integer, Integer> cache = intCacheBoundedTo(bound);
        Map<Integer, Integer> entries = new LinkedHashMap<>();
        for (int i = 0; i < 500; i++) {
            entries.put(i, i);
        }

        cache.putAll(entries);

        assertThat(count(cache)).isEqualTo(bound);
    }

    // ---------------------------------------------------------------- the bound, concurrent writers

    @Test
    void theBoundHoldsExactlyUnderConcurrentWritersOfDistinctKeys() throws Exception {
        int bound = 1_000;
        int threads = 8;
        int keysPerThread = 20_000;
        Cache<Integer, Integer> cache = intCacheBoundedTo(bound);

        runConcurrently(threads, t -> {
            int base = t * keysPerThread;
            for (int i = 0; i < keysPerThread; i++) {
                cache.put(base + i, i);
            }
        });

        Set<Integer> seen = new HashSet<>();
        int counted = 0;
        for (Cache.Entry<Integer, Integer> e : cache) {
            counted++;
            seen.add(e.getKey());
        }
        assertThat(counted).as("entries counted by the iterator after all writers returned").isLessThanOrEqualTo(bound);
        assertThat(counted).as("entries counted by the iterator after all writers returned").isEqualTo(bound);
        assertThat(seen).as("distinct keys").hasSize(counted);
        for (Integer key : seen) {
            assertThat(cache.containsKey(key)).as("iterated key %d is present", key).isTrue();
        }
    }

    @Test
    void concurrentOverwritesOfTheSameKeysEvictNothing() throws Exception {
        int bound = 1_000;
        int keys = 100;
        Cache<Integer, Integer> cache = intCacheBoundedTo(bound);

        runConcurrently(8, t -> {
            for (int round = 0; round < 200; round++) {
                for (int k = 0; k < keys; k++) {
                    cache.put(k, t);
                }
            }
        });

        assertThat(count(cache)).isEqualTo(keys);
        for (int k = 0; k < keys; k++) {
            assertThat(cache.containsKey(k)).as("key %d", k).isTrue();
        }
    }

    /**
     * Mixed concurrent operations (writes, reads, removes, conditional writes, invoke) over
     * overlapping keys must not make the store's idea of its size drift: afterwards the count is
     * within the bound, and writing {@code bound} fresh keys leaves exactly those keys.
     */
    @Test
    void sizeAccountingDoesNotDriftUnderConcurrentMixedOperations() throws Exception {
        int bound = 500;
        int keySpace = 2_000;
        Cache<Integer, Integer> cache = intCacheBoundedTo(bound);

        runConcurrently(8, t -> {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            for (int i = 0; i < 20_000; i++) {
                int key = random.nextInt(keySpace);
                switch (random.nextInt(8)) {
                    case 0 -> cache.put(key, i);
                    case 1 -> cache.get(key);
                    case 2 -> cache.remove(key);
                    case 3 -> cache.putIfAbsent(key, i);
                    case 4 -> cache.replace(key, i);
                    case 5 -> cache.getAndPut(key, i);
                    case 6 -> cache.getAndRemove(key);
                    default -> cache.invoke(key, new SetValue(), i);
                }
            }
        });

        assertThat(count(cache)).as("entries after the mixed workload").isLessThanOrEqualTo(bound);

        int freshBase = 1_000_000;
        for (int i = 0; i < bound; i++) {
            cache.put(freshBase + i, i);
        }
        Set<Integer> present = new HashSet<>();
        for (Cache.Entry<Integer, Integer> e : cache) {
            present.add(e.getKey());
        }
        Set<Integer> fresh = new HashSet<>();
        for (int i = 0; i < bound; i++) {
            fresh.add(freshBase + i);
        }
        assertThat(present).as("after writing %d fresh keys, exactly those are the most recently used", bound)
                .isEqualTo(fresh);
    }

    private interface Worker {
        void run(int threadIndex) throws Exception;
    }

    /** Runs {@code threads} workers released together by a barrier; waits (bounded) for all to finish. */
    private static void runConcurrently(int threads, Worker worker) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CyclicBarrier start = new CyclicBarrier(threads);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int index = t;
                futures.add(pool.submit(() -> {
                    start.await(30, TimeUnit.SECONDS);
                    worker.run(index);
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(90, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).as("worker threads ended").isTrue();
        }
    }

    // ---------------------------------------------------------------- eviction is not an event

    private static final Map<String, Queue<String>> EVENTS = new ConcurrentHashMap<>();

    /** Records every event it receives as "TYPE:key" under its test id. Synchronous. */
    static final class RecordingListener implements CacheEntryCreatedListener<Integer, Integer>,
            CacheEntryUpdatedListener<Integer, Integer>, CacheEntryRemovedListener<Integer, Integer>,
            CacheEntryExpiredListener<Integer, Integer>, Serializable {
        private static final long serialVersionUID = 1L;
        private final String testId;

        RecordingListener(String testId) {
            this.testId = testId;
        }

        private void record(Iterable<CacheEntryEvent<? extends Integer, ? extends Integer>> events) {
            Queue<String> sink = EVENTS.computeIfAbsent(testId, id -> new ConcurrentLinkedQueue<>());
            for (CacheEntryEvent<? extends Integer, ? extends Integer> e : events) {
                sink.add(e.getEventType() + ":" + e.getKey());
            }
        }

        @Override
        public void onCreated(Iterable<CacheEntryEvent<? extends Integer, ? extends Integer>> events) throws CacheEntryListenerException {
            record(events);
        }

        @Override
        public void onUpdated(Iterable<CacheEntryEvent<? extends Integer, ? extends Integer>> events) throws CacheEntryListenerException {
            record(events);
        }

        @Override
        public void onRemoved(Iterable<CacheEntryEvent<? extends Integer, ? extends Integer>> events) throws CacheEntryListenerException {
            record(events);
        }

        @Override
        public void onExpired(Iterable<CacheEntryEvent<? extends Integer, ? extends Integer>> events) throws CacheEntryListenerException {
            record(events);
        }
    }

    private Cache<Integer, Integer> listenedCache(String testId, int bound) {
        MutableConfiguration<Integer, Integer> configuration = new MutableConfiguration<Integer, Integer>()
                .setTypes(Integer.class, Integer.class);
        configuration.addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<Integer, Integer>(
                FactoryBuilder.factoryOf(new RecordingListener(testId)), null, true, true));
        return managerBoundedTo(bound).createCache("listened", configuration);
    }

    private static List<String> eventsOf(String testId, String type) {
        List<String> result = new ArrayList<>();
        for (String e : EVENTS.getOrDefault(testId, new ConcurrentLinkedQueue<>())) {
            if (e.startsWith(type + ":")) {
                result.add(e);
            }
        }
        return result;
    }

    @Test
    void evictionFiresNoRemovedOrExpiredEvent() {
        String testId = UUID.randomUUID().toString();
        try {
            int bound = 5;
            Cache<Integer, Integer> cache = listenedCache(testId, bound);

            for (int i = 0; i < 20; i++) {
                cache.put(i, i);
            }

            assertThat(count(cache)).isEqualTo(bound);
            assertThat(eventsOf(testId, "CREATED")).as("CREATED events (synchronous listener)").hasSize(20);
            assertThat(eventsOf(testId, "REMOVED")).as("REMOVED events caused by evicting 15 entries").isEmpty();
            assertThat(eventsOf(testId, "EXPIRED"))
                    .as("EXPIRED events caused by evicting 15 eternal entries")
                    .isEmpty();

            // The listener does see a real remove, so the silence above is not a deaf listener.
            assertThat(cache.remove(19)).isTrue();
            assertThat(eventsOf(testId, "REMOVED")).containsExactly("REMOVED:19");
        } finally {
            EVENTS.remove(testId);
        }
    }

}
