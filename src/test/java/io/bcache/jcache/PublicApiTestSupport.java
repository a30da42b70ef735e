package io.bcache.jcache;

import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.spi.CachingProvider;

/**
 * Helpers shared by the public-API tests of bcache. Everything here goes through the
 * JCache API only; nothing touches the provider's internals.
 *
 * <p>Two things about {@link Caching} shape these helpers:
 * <ul>
 *   <li>{@code Caching} remembers the providers it found per class loader, and a provider
 *       looked up by a name the {@code ServiceLoader} did not use (such as {@code "bcache"})
 *       is added to that class loader's list. After that, {@code Caching.getCachingProvider()}
 *       for the same class loader throws "Multiple CachingProviders". Tests that look the
 *       provider up by the short name, or through the {@code javax.cache.spi.CachingProvider}
 *       system property, therefore do it with a fresh context class loader, so that they
 *       neither see nor leave such state (the TCK, running in the same JVM, calls
 *       {@code Caching.getCachingProvider()}).</li>
 *   <li>Every test gets its own URI and closes its managers, because all tests share one JVM.</li>
 * </ul>
 */
final class PublicApiTestSupport {

    static final String PROVIDER_CLASS = "io.bcache.jcache.BCacheCachingProvider";
    static final String SHORT_NAME = "bcache";
    static final String DEFAULT_PROVIDER_PROPERTY = "javax.cache.spi.CachingProvider";

    private static final AtomicInteger LOADER_SEQUENCE = new AtomicInteger();

    private PublicApiTestSupport() {
    }

    /**
     * The bcache provider, looked up by its fully qualified class name. That name is the
     * one the {@code ServiceLoader} registers it under, so this lookup never adds a second
     * provider to {@code Caching}'s list for the current class loader.
     */
    static CachingProvider provider() {
        return Caching.getCachingProvider(PROVIDER_CLASS);
    }

    /** The class loader the tests pass explicitly to {@code getCacheManager}. */
    static ClassLoader testClassLoader() {
        return PublicApiTestSupport.class.getClassLoader();
    }

    /** A plain-name URI that no other test uses. */
    static URI uniqueUri() {
        return URI.create("test-" + UUID.randomUUID());
    }

    /** A new manager of this provider, for a URI no other test uses, with the test class loader. */
    static CacheManager newManager() {
        return provider().getCacheManager(uniqueUri(), testClassLoader());
    }

    /**
     * What a listener or loader a test holds back does: waits, up to a minute, for the test to
     * let it go on, keeping an interrupt for its caller.
     */
    static void awaitRelease(CountDownLatch release) {
        try {
            release.await(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A new, empty class loader whose parent is the test class loader (it sees the same classes). */
    static ClassLoader freshClassLoader() {
        return new URLClassLoader("test-fresh-" + LOADER_SEQUENCE.incrementAndGet(), new URL[0], testClassLoader());
    }

    /** Runs {@code action} with {@code loader} as the thread's context class loader, then restores it. */
    static <T> T withContextClassLoader(ClassLoader loader, Supplier<T> action) {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            return action.get();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    /** Counts a cache's entries with its iterator. */
    static int count(Cache<?, ?> cache) {
        int n = 0;
        for (Cache.Entry<?, ?> ignored : cache) {
            n++;
        }
        return n;
    }

    /** The resolved bound, as the provider's configuration class reports it. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    static long maxEntries(Cache<?, ?> cache) {
        Object configuration = ((Cache) cache).getConfiguration(BCacheConfiguration.class);
        return ((BCacheConfiguration<?, ?>) configuration).getMaxEntries();
    }

    /** Collects managers a test opens and closes them all afterwards. */
    static final class Managers {
        private final List<CacheManager> opened = Collections.synchronizedList(new ArrayList<>());

        <M extends CacheManager> M track(M manager) {
            opened.add(manager);
            return manager;
        }

        void closeAll() {
            List<CacheManager> copy;
            synchronized (opened) {
                copy = new ArrayList<>(opened);
                opened.clear();
            }
            RuntimeException first = null;
            for (CacheManager manager : copy) {
                try {
                    manager.close();
                } catch (RuntimeException e) {
                    if (first == null) {
                        first = e;
                    }
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }

    /** Sets and clears system properties, remembering the first value seen so it can restore it. */
    static final class SystemProperties {
        private final Map<String, String> originals = new LinkedHashMap<>();

        void set(String key, String value) {
            remember(key);
            System.setProperty(key, value);
        }

        void clear(String key) {
            remember(key);
            System.clearProperty(key);
        }

        private void remember(String key) {
            if (!originals.containsKey(key)) {
                originals.put(key, System.getProperty(key));
            }
        }

        void restoreAll() {
            for (Map.Entry<String, String> e : originals.entrySet()) {
                if (e.getValue() == null) {
                    System.clearProperty(e.getKey());
                } else {
                    System.setProperty(e.getKey(), e.getValue());
                }
            }
            originals.clear();
        }
    }
}
