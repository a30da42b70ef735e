package io.bcache.jcache;

import static io.bcache.jcache.PublicApiTestSupport.testClassLoader;
import static io.bcache.jcache.PublicApiTestSupport.uniqueUri;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Function;
import java.util.function.Supplier;

import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.integration.CacheLoader;
import javax.cache.integration.CacheLoaderException;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Read-through with duplicate loads suppressed (bcache's {@code GetWithFiller}): any number of
 * threads that miss the same key at once run the loader exactly once and all get its value, or
 * all get its failure as a {@link CacheLoaderException}; a later miss after a failure loads
 * again; different keys load independently.
 *
 * <p>To make "at once" real, the loader blocks until the test has seen every reader thread
 * enter {@code get} and park there; only then is the loader released.
 */
@Timeout(120)
class ReadThroughDedupTest {

    private static final int READERS = 100;
    private static final Duration PATIENCE = Duration.ofSeconds(30);
    private static final Set<Thread.State> PARKED =
            EnumSet.of(Thread.State.WAITING, Thread.State.TIMED_WAITING, Thread.State.BLOCKED, Thread.State.TERMINATED);

    /** What each test's loader does, keyed by the test's id (the loader itself is Serializable and stateless). */
    private static final Map<String, Function<String, String>> SCRIPTS = new ConcurrentHashMap<>();
    /** Entries a test's loader adds, unasked, to what its {@code loadAll} returns. */
    private static final Map<String, Map<String, String>> EXTRAS = new ConcurrentHashMap<>();

    /** A stateless, serializable loader that runs its test's script. */
    static final class ScriptedLoader implements CacheLoader<String, String>, Serializable {
        private static final long serialVersionUID = 1L;
        private final String testId;

        ScriptedLoader(String testId) {
            this.testId = testId;
        }

        @Override
        public String load(String key) {
            return SCRIPTS.get(testId).apply(key);
        }

        @Override
        public Map<String, String> loadAll(Iterable<? extends String> keys) {
            Map<String, String> loaded = new HashMap<>();
            for (String key : keys) {
                loaded.put(key, load(key));
            }
            loaded.putAll(EXTRAS.getOrDefault(testId, Map.of()));
            return loaded;
        }
    }

    private final PublicApiTestSupport.Managers managers = new PublicApiTestSupport.Managers();
    private final String testId = "test-" + java.util.UUID.randomUUID();
    /** Opened by every test's loader gate; counted down in cleanUp so no loader is left waiting. */
    private final CountDownLatch release = new CountDownLatch(1);
    private final List<Thread> threads = new ArrayList<>();

    @BeforeEach
    void noScriptYet() {
        SCRIPTS.remove(testId);
    }

    @AfterEach
    void cleanUp() throws InterruptedException {
        release.countDown();
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(30));
        }
        SCRIPTS.remove(testId);
        EXTRAS.remove(testId);
        managers.closeAll();
        for (Thread t : threads) {
            assertThat(t.isAlive()).as("reader thread %s ended", t.getName()).isFalse();
        }
    }

    // ---------------------------------------------------------------- helpers

    private Cache<String, String> readThroughCache(Function<String, String> script) {
        SCRIPTS.put(testId, script);
        MutableConfiguration<String, String> configuration = new MutableConfiguration<String, String>()
                .setTypes(String.class, String.class)
                .setReadThrough(true)
                .setCacheLoaderFactory(FactoryBuilder.factoryOf(new ScriptedLoader(testId)));
        CacheManager manager = managers.track(PublicApiTestSupport.provider().getCacheManager(uniqueUri(), testClassLoader()));
        return manager.createCache("read-through", configuration);
    }

    /** A read-through cache whose loader counts its calls and returns "value-of-" + key once released. */
    private Cache<String, String> gatedCache(AtomicInteger calls) {
        return readThroughCache(key -> {
            calls.incrementAndGet();
            awaitRelease();
            return "value-of-" + key;
        });
    }

    /** Blocks the calling loader until the test releases it; bounded, so a broken test cannot hang. */
    private void awaitRelease() {
        try {
            if (!release.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the test never released the loader");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for release", e);
        }
    }

    /**
     * Starts one thread per key; all pass a start gate together and call {@code cache.get}. Waits
     * until each has entered {@code get} and parked (so all miss while the load is in flight),
     * then opens {@link #release} and waits for them to finish. Each slot of the result holds the
     * value returned or the Throwable thrown.
     */
    private AtomicReferenceArray<Object> stampede(Cache<String, String> cache, List<String> keyPerReader,
                                                  AtomicInteger loaderCalls, int expectedLoaderEntries) throws InterruptedException {
        List<Supplier<Object>> reads = new ArrayList<>();
        for (String key : keyPerReader) {
            reads.add(() -> cache.get(key));
        }
        return stampede(reads, loaderCalls, expectedLoaderEntries);
    }

    /** As above, with each thread making its own read: {@code get}, {@code getAll}, or a mix. */
    private AtomicReferenceArray<Object> stampede(List<Supplier<Object>> reads, AtomicInteger loaderCalls,
                                                  int expectedLoaderEntries) throws InterruptedException {
        int n = reads.size();
        AtomicReferenceArray<Object> results = new AtomicReferenceArray<>(n);
        CountDownLatch startGate = new CountDownLatch(1);
        CountDownLatch finished = new CountDownLatch(n);
        AtomicInteger inGet = new AtomicInteger();
        List<Thread> readers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int slot = i;
            Supplier<Object> read = reads.get(i);
            Thread reader = new Thread(() -> {
                try {
                    if (!startGate.await(30, TimeUnit.SECONDS)) {
                        results.set(slot, new IllegalStateException("start gate never opened"));
                        return;
                    }
                    inGet.incrementAndGet();
                    results.set(slot, read.get());
                } catch (Throwable t) {
                    results.set(slot, t);
                } finally {
                    finished.countDown();
                }
            }, testId + "-reader-" + i);
            reader.setDaemon(true);
            readers.add(reader);
            threads.add(reader);
        }
        readers.forEach(Thread::start);

        startGate.countDown();
        await("every reader inside get, parked, with the load in flight")
                .atMost(PATIENCE)
                .pollInterval(Duration.ofMillis(10))
                .until(() -> inGet.get() == n
                        && loaderCalls.get() >= expectedLoaderEntries
                        && readers.stream().allMatch(t -> PARKED.contains(t.getState())));

        release.countDown();
        assertThat(finished.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).as("all readers returned").isTrue();
        return results;
    }

    private static List<String> repeat(String key, int times) {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < times; i++) {
            keys.add(key);
        }
        return keys;
    }

    private static boolean causeChainMentions(Throwable thrown, String marker) {
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains(marker)) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- one load, shared value

    @Test
    void hundredConcurrentMissesRunTheLoaderOnceAndAllGetItsValue() throws InterruptedException {
        AtomicInteger calls = new AtomicInteger();
        Cache<String, String> cache = gatedCache(calls);

        AtomicReferenceArray<Object> results = stampede(cache, repeat("k", READERS), calls, 1);

        assertThat(calls.get()).as("loader calls for %d concurrent misses of one key", READERS).isEqualTo(1);
        for (int i = 0; i < READERS; i++) {
            assertThat(results.get(i)).as("reader %d", i).isEqualTo("value-of-k");
        }
        assertThat(cache.containsKey("k")).as("the loaded value is stored").isTrue();
        assertThat(cache.get("k")).isEqualTo("value-of-k");
        assertThat(calls.get()).as("a later hit does not load").isEqualTo(1);
    }

    // ---------------------------------------------------------------- one load, shared failure

    @Test
    void hundredConcurrentMissesShareOneFailedLoad() throws InterruptedException {
        AtomicInteger calls = new AtomicInteger();
        String marker = "boom-" + testId;
        Cache<String, String> cache = readThroughCache(key -> {
            int call = calls.incrementAndGet();
            awaitRelease();
            if (call == 1) {
                throw new IllegalStateException(marker);
            }
            return "value-of-" + key;
        });

        AtomicReferenceArray<Object> results = stampede(cache, repeat("k", READERS), calls, 1);

        assertThat(calls.get()).as("loader calls for %d concurrent misses of one key", READERS).isEqualTo(1);
        for (int i = 0; i < READERS; i++) {
            Object result = results.get(i);
            assertThat(result).as("reader %d", i).isInstanceOf(CacheLoaderException.class);
            assertThat(causeChainMentions((Throwable) result, marker))
                    .as("reader %d's exception carries the loader's failure: %s", i, result)
                    .isTrue();
        }
        assertThat(cache.containsKey("k")).as("a failed load stores nothing").isFalse();

        assertThat(cache.get("k")).as("the next miss loads again").isEqualTo("value-of-k");
        assertThat(calls.get()).isEqualTo(2);
    }

    // ---------------------------------------------------------------- getAll shares loads too

    @Test
    void getAndGetAllMissingOneKeyTogetherRunTheLoaderOnce() throws InterruptedException {
        AtomicInteger calls = new AtomicInteger();
        Cache<String, String> cache = gatedCache(calls);
        List<Supplier<Object>> reads = new ArrayList<>();
        for (int i = 0; i < READERS; i++) {
            reads.add(i % 2 == 0 ? () -> cache.getAll(Set.of("k")) : () -> cache.get("k"));
        }

        AtomicReferenceArray<Object> results = stampede(reads, calls, 1);

        assertThat(calls.get()).as("loader calls for %d concurrent get and getAll misses of one key", READERS)
                .isEqualTo(1);
        for (int i = 0; i < READERS; i++) {
            assertThat(results.get(i)).as("reader %d", i)
                    .isEqualTo(i % 2 == 0 ? Map.of("k", "value-of-k") : "value-of-k");
        }
    }

    @Test
    void getAllsOfOverlappingKeySetsLoadEachKeyOnce() throws InterruptedException {
        AtomicInteger calls = new AtomicInteger();
        Map<String, AtomicInteger> callsPerKey = new ConcurrentHashMap<>();
        Cache<String, String> cache = readThroughCache(key -> {
            calls.incrementAndGet();
            callsPerKey.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            awaitRelease();
            return "value-of-" + key;
        });
        List<Supplier<Object>> reads = new ArrayList<>();
        for (int i = 0; i < READERS; i++) {
            Set<String> keys = i % 2 == 0 ? Set.of("a", "b") : Set.of("b", "c");
            reads.add(() -> cache.getAll(keys));
        }

        // two loads start before the release: each key set's first thread claims at least one key
        AtomicReferenceArray<Object> results = stampede(reads, calls, 2);

        for (String key : List.of("a", "b", "c")) {
            assertThat(callsPerKey.get(key)).as("loader calls for %s", key).hasValue(1);
        }
        for (int i = 0; i < READERS; i++) {
            assertThat(results.get(i)).as("reader %d", i).isEqualTo(i % 2 == 0
                    ? Map.of("a", "value-of-a", "b", "value-of-b")
                    : Map.of("b", "value-of-b", "c", "value-of-c"));
        }
    }

    @Test
    void aGetAllMissingAKeyWhoseSharedLoadFailsGetsTheFailure() throws InterruptedException {
        AtomicInteger calls = new AtomicInteger();
        String marker = "boom-" + testId;
        Cache<String, String> cache = readThroughCache(key -> {
            calls.incrementAndGet();
            awaitRelease();
            throw new IllegalStateException(marker);
        });
        List<Supplier<Object>> reads = new ArrayList<>();
        for (int i = 0; i < READERS; i++) {
            reads.add(i % 2 == 0 ? () -> cache.getAll(Set.of("k")) : () -> cache.get("k"));
        }

        AtomicReferenceArray<Object> results = stampede(reads, calls, 1);

        assertThat(calls.get()).isEqualTo(1);
        for (int i = 0; i < READERS; i++) {
            assertThat(results.get(i)).as("reader %d", i).isInstanceOf(CacheLoaderException.class);
            assertThat(causeChainMentions((Throwable) results.get(i), marker)).as("reader %d", i).isTrue();
        }
    }

    @Test
    void aLoaderThatReadsAKeyOfItsOwnBatchLoadsItInsteadOfWaitingForItself() throws Exception {
        AtomicReference<Cache<String, String>> self = new AtomicReference<>();
        Cache<String, String> cache = readThroughCache(key ->
                key.equals("a") ? "value-of-a+" + self.get().get("b") : "value-of-" + key);
        self.set(cache);
        AtomicReference<Object> result = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            try {
                result.set(cache.getAll(Set.of("a", "b", "c")));
            } catch (Throwable t) {
                result.set(t);
            }
        }, testId + "-reentrant");
        reader.setDaemon(true);
        threads.add(reader);
        reader.start();

        reader.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(reader.isAlive()).as("getAll returned").isFalse();
        assertThat(result.get()).isEqualTo(Map.of(
                "a", "value-of-a+value-of-b", "b", "value-of-b", "c", "value-of-c"));
    }

    @Test
    void getAllReturnsOnlyTheKeysAsked() {
        Cache<String, String> cache = readThroughCache(key -> "value-of-" + key);
        EXTRAS.put(testId, Map.of("z", "unasked"));

        assertThat(cache.getAll(Set.of("a"))).isEqualTo(Map.of("a", "value-of-a"));
    }

    @Test
    void aMissAfterAFailedLoadRunsTheLoaderAgain() {
        AtomicInteger calls = new AtomicInteger();
        Cache<String, String> cache = readThroughCache(key -> {
            if (calls.incrementAndGet() <= 2) {
                throw new IllegalStateException("failure #" + calls.get());
            }
            return "value-of-" + key;
        });

        assertThatThrownBy(() -> cache.get("k")).isInstanceOf(CacheLoaderException.class);
        assertThatThrownBy(() -> cache.get("k")).isInstanceOf(CacheLoaderException.class);
        assertThat(cache.get("k")).isEqualTo("value-of-k");
        assertThat(cache.get("k")).isEqualTo("value-of-k");

        assertThat(calls.get()).as("two failures, one success, then a hit").isEqualTo(3);
    }

    // ---------------------------------------------------------------- keys load independently

    @Test
    void differentKeysLoadAtTheSameTime() throws InterruptedException {
        CountDownLatch bothLoading = new CountDownLatch(2);
        Map<String, AtomicInteger> callsPerKey = new ConcurrentHashMap<>();
        Cache<String, String> cache = readThroughCache(key -> {
            callsPerKey.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            bothLoading.countDown();
            try {
                if (!bothLoading.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the load of " + key + " never overlapped with the other key's load");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            return "value-of-" + key;
        });
        AtomicReferenceArray<Object> results = new AtomicReferenceArray<>(2);
        CountDownLatch finished = new CountDownLatch(2);
        List<String> keys = List.of("x", "y");
        for (int i = 0; i < 2; i++) {
            int slot = i;
            Thread reader = new Thread(() -> {
                try {
                    results.set(slot, cache.get(keys.get(slot)));
                } catch (Throwable t) {
                    results.set(slot, t);
                } finally {
                    finished.countDown();
                }
            }, testId + "-key-" + keys.get(i));
            reader.setDaemon(true);
            threads.add(reader);
            reader.start();
        }

        assertThat(finished.await(60, TimeUnit.SECONDS)).as("both readers returned").isTrue();
        assertThat(results.get(0)).as("get(x), whose load waits for y's load to start").isEqualTo("value-of-x");
        assertThat(results.get(1)).as("get(y), whose load waits for x's load to start").isEqualTo("value-of-y");
        assertThat(callsPerKey.get("x").get()).isEqualTo(1);
        assertThat(callsPerKey.get("y").get()).isEqualTo(1);
    }

    @Test
    void aStampedeOnSeveralKeysLoadsEachKeyOnceAndInParallel() throws InterruptedException {
        int keys = 10;
        int readersPerKey = 20;
        CountDownLatch allKeysLoading = new CountDownLatch(keys);
        AtomicInteger calls = new AtomicInteger();
        Map<String, AtomicInteger> callsPerKey = new ConcurrentHashMap<>();
        Cache<String, String> cache = readThroughCache(key -> {
            calls.incrementAndGet();
            callsPerKey.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            allKeysLoading.countDown();
            try {
                if (!allKeysLoading.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("loads of different keys did not run in parallel");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            awaitRelease();
            return "value-of-" + key;
        });
        List<String> keyPerReader = new ArrayList<>();
        for (int r = 0; r < readersPerKey; r++) {
            for (int k = 0; k < keys; k++) {
                keyPerReader.add("key-" + k);
            }
        }

        AtomicReferenceArray<Object> results = stampede(cache, keyPerReader, calls, keys);

        for (int k = 0; k < keys; k++) {
            assertThat(callsPerKey.get("key-" + k)).as("loader calls for key-%d", k).hasValue(1);
        }
        assertThat(calls.get()).isEqualTo(keys);
        for (int i = 0; i < keyPerReader.size(); i++) {
            assertThat(results.get(i)).as("reader %d of %s", i, keyPerReader.get(i))
                    .isEqualTo("value-of-" + keyPerReader.get(i));
        }
    }
}
