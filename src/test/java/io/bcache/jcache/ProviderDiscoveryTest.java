package io.bcache.jcache;

import static io.bcache.jcache.PublicApiTestSupport.DEFAULT_PROVIDER_PROPERTY;
import static io.bcache.jcache.PublicApiTestSupport.PROVIDER_CLASS;
import static io.bcache.jcache.PublicApiTestSupport.SHORT_NAME;
import static io.bcache.jcache.PublicApiTestSupport.freshClassLoader;
import static io.bcache.jcache.PublicApiTestSupport.testClassLoader;
import static io.bcache.jcache.PublicApiTestSupport.uniqueUri;
import static io.bcache.jcache.PublicApiTestSupport.withContextClassLoader;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.spi.CachingProvider;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * How users find bcache: {@code Caching.getCachingProvider()}, the short name
 * {@code "bcache"}, the fully qualified class name, and the
 * {@code javax.cache.spi.CachingProvider} system property all lead to the same
 * {@link CacheManager} for the same URI and class loader.
 *
 * <p>{@link Caching} keeps one provider list per class loader (the context class loader by
 * default) and reads the system property only the first time it sees a class loader; a name
 * it did not get from the {@code ServiceLoader} (such as {@code "bcache"}) is added to that
 * list for good, after which {@code Caching.getCachingProvider()} for that class loader throws.
 * So every test here runs with a fresh context class loader of its own (parent: the test
 * class loader), and the system-property way uses one more fresh class loader. Managers are
 * asked for with the test class loader passed explicitly, so "same URI and class loader" is
 * exactly what is compared.
 */
@Timeout(60)
class ProviderDiscoveryTest {

    private final PublicApiTestSupport.Managers managers = new PublicApiTestSupport.Managers();
    private final PublicApiTestSupport.SystemProperties systemProperties = new PublicApiTestSupport.SystemProperties();

    private ClassLoader originalContextClassLoader;

    @BeforeEach
    void ownContext() {
        // The "only provider" paths must not be decided by a property some other test left behind.
        systemProperties.clear(DEFAULT_PROVIDER_PROPERTY);
        originalContextClassLoader = Thread.currentThread().getContextClassLoader();
        Thread.currentThread().setContextClassLoader(freshClassLoader());
    }

    @AfterEach
    void cleanUp() {
        try {
            managers.closeAll();
        } finally {
            Thread.currentThread().setContextClassLoader(originalContextClassLoader);
            systemProperties.restoreAll();
        }
    }

    /** The system-property way: Caching reads the property for a class loader it has not seen yet. */
    private CachingProvider providerNamedBySystemProperty() {
        systemProperties.set(DEFAULT_PROVIDER_PROPERTY, SHORT_NAME);
        try {
            return withContextClassLoader(freshClassLoader(), () -> Caching.getCachingProvider());
        } finally {
            systemProperties.clear(DEFAULT_PROVIDER_PROPERTY);
        }
    }

    /**
     * The four ways a user finds the provider, as one application thread would, all through
     * {@link Caching} with this test's context class loader: the default provider, the short name
     * (what Hibernate's and Spring's {@code provider=bcache} do), the class name, and the service
     * listing. (The system property way needs a class loader {@code Caching} has not seen, and
     * JSR-107 requires providers of different class loaders to keep separate managers, so it is
     * checked on its own below.)
     */
    private List<CachingProvider> providersFoundTheFourWays() {
        List<CachingProvider> providers = new ArrayList<>();
        providers.add(Caching.getCachingProvider());
        providers.add(Caching.getCachingProvider(SHORT_NAME));
        providers.add(Caching.getCachingProviders().iterator().next());
        providers.add(Caching.getCachingProvider(PROVIDER_CLASS));
        return providers;
    }

    @Test
    void bcacheIsTheOnlyProviderTheServiceLoaderFinds() {
        ClassLoader loader = freshClassLoader();

        Iterable<CachingProvider> providers = Caching.getCachingProviders(loader);

        assertThat(providers)
                .as("providers registered in META-INF/services (the TCK jars register none)")
                .singleElement()
                .isInstanceOf(BCacheCachingProvider.class)
                .extracting(p -> p.getClass().getName())
                .as("registered under the short name, so that name and the default share one instance")
                .isEqualTo(SHORT_NAME);
    }

    /** Hibernate and Spring look the provider up as "bcache"; code that asks for the default must still work. */
    @Test
    void theShortNameDoesNotAddASecondProviderForTheClassLoader() {
        CachingProvider byName = Caching.getCachingProvider(SHORT_NAME);

        assertThat(Caching.getCachingProvider()).isSameAs(byName);
        assertThat(Caching.getCachingProviders()).singleElement().isSameAs(byName);
    }

    @Test
    void theShortNameAndTheSystemPropertyLoadTheClassNamedBcache() {
        List<CachingProvider> providers = providersFoundTheFourWays();

        assertThat(providers.get(0).getClass().getName())
                .as("the service loader finds the class named bcache")
                .isEqualTo(SHORT_NAME);
        assertThat(providers.get(1).getClass().getName())
                .as("Caching.getCachingProvider(\"bcache\") loads the class named exactly bcache")
                .isEqualTo(SHORT_NAME);
        assertThat(providers.get(3).getClass().getName()).isEqualTo(PROVIDER_CLASS);
        assertThat(providerNamedBySystemProperty().getClass().getName())
                .as("the javax.cache.spi.CachingProvider=bcache system property loads the class named bcache")
                .isEqualTo(SHORT_NAME);
    }

    /** The contract: the class named bcache extends BCacheCachingProvider. */
    @Test
    void everyWayOfFindingTheProviderYieldsABCacheCachingProvider() {
        List<CachingProvider> providers = providersFoundTheFourWays();

        assertThat(providers).hasSize(4).allSatisfy(p -> assertThat(p).isInstanceOf(BCacheCachingProvider.class));
    }

    @Test
    void everyWayGivesTheSameManagerForTheSameUriAndClassLoader() {
        URI uri = uniqueUri();
        ClassLoader loader = testClassLoader();

        List<CacheManager> found = new ArrayList<>();
        for (CachingProvider provider : providersFoundTheFourWays()) {
            found.add(managers.track(provider.getCacheManager(uri, loader)));
        }

        CacheManager first = found.get(0);
        assertThat(found).allSatisfy(m -> assertThat(m).isSameAs(first));
        assertThat(first.getURI()).isEqualTo(uri);
        assertThat(first.getClassLoader()).isSameAs(loader);
        assertThat(first.isClosed()).isFalse();
        assertThat(first.getCachingProvider()).isInstanceOf(BCacheCachingProvider.class);
    }

    @Test
    void aCacheCreatedThroughOneWayIsVisibleThroughTheOthers() {
        URI uri = uniqueUri();
        ClassLoader loader = testClassLoader();
        List<CachingProvider> providers = providersFoundTheFourWays();

        CacheManager viaServiceLoader = managers.track(providers.get(0).getCacheManager(uri, loader));
        Cache<String, String> cache = viaServiceLoader.createCache("shared",
                new MutableConfiguration<String, String>().setTypes(String.class, String.class));
        cache.put("k", "v");

        for (CachingProvider provider : providers) {
            CacheManager manager = managers.track(provider.getCacheManager(uri, loader));
            Cache<String, String> seen = manager.getCache("shared", String.class, String.class);
            assertThat(seen).as("cache seen through %s", provider.getClass().getName()).isNotNull();
            assertThat(seen.get("k")).isEqualTo("v");
        }
    }

    @Test
    void everyWayAgreesOnTheDefaultUriAndSharesTheDefaultManager() {
        ClassLoader loader = testClassLoader();
        List<CachingProvider> providers = providersFoundTheFourWays();
        URI defaultUri = providers.get(0).getDefaultURI();

        assertThat(defaultUri).isNotNull();
        assertThat(providers).allSatisfy(p -> assertThat(p.getDefaultURI()).isEqualTo(defaultUri));

        CacheManager first = managers.track(providers.get(0).getCacheManager(defaultUri, loader));
        for (CachingProvider provider : providers) {
            assertThat(managers.track(provider.getCacheManager(defaultUri, loader))).isSameAs(first);
        }
    }

    @Test
    void getPropertiesReturnsThePropertiesPassedIn() {
        Properties passed = new Properties();
        passed.setProperty("test.marker", "discovery");
        passed.setProperty("bcache.maxEntries", "123");
        Properties expected = new Properties();
        expected.putAll(passed);

        CacheManager manager = managers.track(
                PublicApiTestSupport.provider().getCacheManager(uniqueUri(), testClassLoader(), passed));

        assertThat(manager.getProperties()).isEqualTo(expected);
    }

    @Test
    void closeThenGetAgainGivesANewOpenManager() {
        URI uri = uniqueUri();
        ClassLoader loader = testClassLoader();
        List<CachingProvider> providers = providersFoundTheFourWays();

        CacheManager original = managers.track(providers.get(0).getCacheManager(uri, loader));
        Cache<String, String> cache = original.createCache("c",
                new MutableConfiguration<String, String>().setTypes(String.class, String.class));
        cache.put("k", "v");

        original.close();

        assertThat(original.isClosed()).isTrue();
        assertThat(cache.isClosed()).isTrue();
        assertThatThrownBy(() -> original.getCache("c", String.class, String.class))
                .isInstanceOf(IllegalStateException.class);

        for (CachingProvider provider : providers) {
            CacheManager reopened = managers.track(provider.getCacheManager(uri, loader));
            assertThat(reopened)
                    .as("manager after close, found through %s", provider.getClass().getName())
                    .isNotSameAs(original);
            assertThat(reopened.isClosed()).isFalse();
        }
        CacheManager reopened = providers.get(2).getCacheManager(uri, loader);
        assertThat(providers).allSatisfy(p -> assertThat(p.getCacheManager(uri, loader)).isSameAs(reopened));
        assertThat(reopened.getCache("c", String.class, String.class))
                .as("a new manager starts without the closed manager's caches")
                .isNull();
        Cache<String, String> again = reopened.createCache("c",
                new MutableConfiguration<String, String>().setTypes(String.class, String.class));
        again.put("k2", "v2");
        assertThat(again.get("k2")).isEqualTo("v2");
    }

    @Test
    void differentClassLoadersGiveDifferentManagersForTheSameUri() {
        URI uri = uniqueUri();
        ClassLoader loaderA = freshClassLoader();
        ClassLoader loaderB = freshClassLoader();
        List<CachingProvider> providers = providersFoundTheFourWays();

        CacheManager forA = managers.track(providers.get(0).getCacheManager(uri, loaderA));
        CacheManager forB = managers.track(providers.get(0).getCacheManager(uri, loaderB));
        CacheManager forTest = managers.track(providers.get(0).getCacheManager(uri, testClassLoader()));

        assertThat(forA).isNotSameAs(forB).isNotSameAs(forTest);
        assertThat(forB).isNotSameAs(forTest);
        assertThat(forA.getClassLoader()).isSameAs(loaderA);
        assertThat(forB.getClassLoader()).isSameAs(loaderB);
        for (CachingProvider provider : providers) {
            assertThat(provider.getCacheManager(uri, loaderA)).isSameAs(forA);
            assertThat(provider.getCacheManager(uri, loaderB)).isSameAs(forB);
        }

        Cache<String, String> cacheA = forA.createCache("iso",
                new MutableConfiguration<String, String>().setTypes(String.class, String.class));
        cacheA.put("k", "from-A");
        assertThat(forB.getCache("iso", String.class, String.class))
                .as("a cache of the manager for another class loader")
                .isNull();

        forA.close();
        assertThat(forA.isClosed()).isTrue();
        assertThat(forB.isClosed()).isFalse();
        assertThat(forTest.isClosed()).isFalse();
    }

    @Test
    void differentUrisGiveDifferentManagers() {
        ClassLoader loader = testClassLoader();
        CachingProvider provider = PublicApiTestSupport.provider();
        URI first = uniqueUri();
        URI second = uniqueUri();

        CacheManager one = managers.track(provider.getCacheManager(first, loader));
        CacheManager two = managers.track(provider.getCacheManager(second, loader));

        assertThat(one).isNotSameAs(two);
        assertThat(one.getURI()).isEqualTo(first);
        assertThat(two.getURI()).isEqualTo(second);
    }

    @Test
    void providerCloseForAClassLoaderClosesItsManagers() {
        ClassLoader loader = freshClassLoader();
        CachingProvider provider = PublicApiTestSupport.provider();
        CacheManager one = managers.track(provider.getCacheManager(uniqueUri(), loader));
        CacheManager two = managers.track(provider.getCacheManager(uniqueUri(), loader));
        CacheManager other = managers.track(provider.getCacheManager(uniqueUri(), testClassLoader()));

        provider.close(loader);

        assertThat(one.isClosed()).isTrue();
        assertThat(two.isClosed()).isTrue();
        assertThat(other.isClosed()).isFalse();
    }
}
