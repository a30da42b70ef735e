package io.bcache.jcache;

import static io.bcache.jcache.PublicApiTestSupport.count;
import static io.bcache.jcache.PublicApiTestSupport.maxEntries;
import static io.bcache.jcache.PublicApiTestSupport.testClassLoader;
import static io.bcache.jcache.PublicApiTestSupport.uniqueUri;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bcache.config.LoadScope;
import java.io.IOException;
import java.io.Writer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.UUID;

import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.spi.CachingProvider;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The configuration contract: values come from the {@code Properties} passed to
 * {@code getCacheManager}, then the properties file named by the URI ({@code classpath:} or
 * {@code file:}), then {@code bcache.*} system properties, then defaults.
 * {@code bcache.cache.<name>.maxEntries} beats {@code bcache.maxEntries} for its cache, and
 * {@link BCacheConfiguration#setMaxEntries(long)} beats both. Bad values fail fast in
 * {@code getCacheManager} with an {@link IllegalArgumentException} naming the property (or URI)
 * and the value.
 *
 * <p>The resolved bound is read through {@code cache.getConfiguration(BCacheConfiguration.class)}
 * and, where it matters, confirmed by filling the cache and counting its entries.
 */
@Timeout(60)
class ConfigurationPrecedenceTest {

    private static final String MAX_ENTRIES = "bcache.maxEntries";
    private static final String PRECEDENCE_FILE = "classpath:test-bcache-precedence.properties";
    /** The values in test-bcache-precedence.properties. */
    private static final long FILE_DEFAULT = 200;
    private static final long FILE_FROMFILE_CACHE = 9;

    private static String cacheMaxEntries(String cacheName) {
        return "bcache.cache." + cacheName + ".maxEntries";
    }

    private final PublicApiTestSupport.Managers managers = new PublicApiTestSupport.Managers();
    private final PublicApiTestSupport.SystemProperties systemProperties = new PublicApiTestSupport.SystemProperties();
    private final CachingProvider provider = PublicApiTestSupport.provider();

    @TempDir
    Path tempDir;

    @BeforeEach
    void noInheritedBCacheSystemProperties() {
        // Start every test from "no bcache.* system properties"; the originals come back afterwards.
        for (String key : System.getProperties().stringPropertyNames()) {
            if (key.startsWith("bcache.")) {
                systemProperties.clear(key);
            }
        }
    }

    @AfterEach
    void cleanUp() {
        try {
            managers.closeAll();
        } finally {
            systemProperties.restoreAll();
        }
    }

    // ---------------------------------------------------------------- helpers

    private CacheManager manager(URI uri) {
        return managers.track(provider.getCacheManager(uri, testClassLoader()));
    }

    private CacheManager manager(URI uri, Properties properties) {
        return managers.track(provider.getCacheManager(uri, testClassLoader(), properties));
    }

    private static Properties properties(String... keysAndValues) {
        Properties p = new Properties();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            p.setProperty(keysAndValues[i], keysAndValues[i + 1]);
        }
        return p;
    }

    private static Cache<Integer, Integer> cache(CacheManager manager, String name) {
        return manager.createCache(name, new MutableConfiguration<Integer, Integer>().setTypes(Integer.class, Integer.class));
    }

    private static void fill(Cache<Integer, Integer> cache, int n) {
        for (int i = 0; i < n; i++) {
            cache.put(i, i);
        }
    }

    /** Asserts the bound both ways: as reported by the configuration, and by overfilling and counting. */
    private static void assertBound(Cache<Integer, Integer> cache, long expected) {
        assertThat(maxEntries(cache)).as("maxEntries reported for cache %s", cache.getName()).isEqualTo(expected);
        fill(cache, (int) expected + 25);
        assertThat(count(cache)).as("entries in cache %s after overfilling it", cache.getName()).isEqualTo((int) expected);
    }

    private Path writeProperties(String fileName, String... keysAndValues) throws IOException {
        Path file = tempDir.resolve(fileName);
        try (Writer out = Files.newBufferedWriter(file, StandardCharsets.ISO_8859_1)) {
            properties(keysAndValues).store(out, "written by ConfigurationPrecedenceTest");
        }
        return file;
    }

    /** Both spellings of a file URI: {@code file:/path} (as the contract writes it) and {@code file:///path}. */
    private static List<URI> fileUris(Path file) {
        return List.of(URI.create("file:" + file.toAbsolutePath()), file.toUri());
    }

    // ---------------------------------------------------------------- defaults and system properties

    @Test
    void defaultBoundIs10000WhenNothingIsConfigured() {
        Cache<Integer, Integer> cache = cache(manager(uniqueUri()), "plain");

        assertBound(cache, 10_000);
    }

    @Test
    void systemPropertyOverridesTheDefault() {
        systemProperties.set(MAX_ENTRIES, "123");

        Cache<Integer, Integer> cache = cache(manager(uniqueUri()), "plain");

        assertBound(cache, 123);
    }

    @Test
    void perCacheSystemPropertyBoundsOnlyThatCache() {
        systemProperties.set(cacheMaxEntries("sys"), "11");

        CacheManager manager = manager(uniqueUri());
        Cache<Integer, Integer> sys = cache(manager, "sys");
        Cache<Integer, Integer> other = cache(manager, "other");

        assertBound(sys, 11);
        assertThat(maxEntries(other)).isEqualTo(10_000);
    }

    // ---------------------------------------------------------------- classpath: and file: URIs

    @Test
    void classpathFileConfiguresTheManager() {
        CacheManager manager = manager(URI.create(PRECEDENCE_FILE));

        assertBound(cache(manager, "any"), FILE_DEFAULT);
        assertBound(cache(manager, "fromfile"), FILE_FROMFILE_CACHE);
    }

    @Test
    void classpathFileOverridesSystemProperty() {
        systemProperties.set(MAX_ENTRIES, "123");
        systemProperties.set(cacheMaxEntries("fromfile"), "13");

        CacheManager manager = manager(URI.create(PRECEDENCE_FILE));

        assertThat(maxEntries(cache(manager, "any"))).isEqualTo(FILE_DEFAULT);
        assertThat(maxEntries(cache(manager, "fromfile"))).isEqualTo(FILE_FROMFILE_CACHE);
    }

    @Test
    void systemPropertyStillAppliesToKeysTheFileDoesNotSet() {
        systemProperties.set(cacheMaxEntries("onlysys"), "17");

        CacheManager manager = manager(URI.create(PRECEDENCE_FILE));

        assertThat(maxEntries(cache(manager, "onlysys"))).isEqualTo(17);
        assertThat(maxEntries(cache(manager, "any"))).isEqualTo(FILE_DEFAULT);
    }

    @Test
    void fileUriConfiguresTheManagerAndOverridesSystemProperty() throws IOException {
        systemProperties.set(MAX_ENTRIES, "123");
        Path file = writeProperties("test-bcache-file.properties",
                MAX_ENTRIES, "77",
                cacheMaxEntries("tmp"), "4");

        for (URI uri : fileUris(file)) {
            CacheManager manager = manager(uri);
            assertThat(manager.getURI()).isEqualTo(uri);
            assertBound(cache(manager, "any"), 77);
            assertBound(cache(manager, "tmp"), 4);
            manager.close();
        }
    }

    // ---------------------------------------------------------------- Properties passed in

    @Test
    void passedPropertiesOverrideClasspathFile() {
        CacheManager manager = manager(URI.create(PRECEDENCE_FILE), properties(
                MAX_ENTRIES, "300",
                cacheMaxEntries("fromfile"), "2"));

        assertBound(cache(manager, "any"), 300);
        assertBound(cache(manager, "fromfile"), 2);
    }

    @Test
    void passedPropertiesOverrideFileUri() throws IOException {
        Path file = writeProperties("test-bcache-file.properties", MAX_ENTRIES, "77");

        CacheManager manager = manager(file.toUri(), properties(MAX_ENTRIES, "31"));

        assertBound(cache(manager, "any"), 31);
    }

    @Test
    void passedPropertiesOverrideSystemProperty() {
        systemProperties.set(MAX_ENTRIES, "123");
        systemProperties.set(cacheMaxEntries("both"), "14");

        CacheManager manager = manager(uniqueUri(), properties(
                MAX_ENTRIES, "300",
                cacheMaxEntries("both"), "3"));

        assertBound(cache(manager, "any"), 300);
        assertBound(cache(manager, "both"), 3);
    }

    @Test
    void eachKeyIsResolvedOnItsOwnAcrossLevels() {
        // Properties set only a per-cache key; the file's manager-wide default still applies to other caches.
        CacheManager manager = manager(URI.create(PRECEDENCE_FILE), properties(cacheMaxEntries("x"), "5"));

        assertThat(maxEntries(cache(manager, "x"))).isEqualTo(5);
        assertThat(maxEntries(cache(manager, "y"))).isEqualTo(FILE_DEFAULT);
    }

    /**
     * Ambiguous in the contract; chosen as a JCache/Hibernate user would expect: every key is
     * resolved by source precedence on its own, then a cache's own key beats the manager-wide
     * default, wherever each came from. (A Hibernate region bounded by a system property keeps
     * its bound when the application passes a manager-wide default in its Properties.)
     */
    @Test
    void perCacheKeyFromALowerLevelStillBeatsTheManagerDefaultFromAHigherLevel() {
        systemProperties.set(cacheMaxEntries("sysregion"), "11");

        CacheManager manager = manager(URI.create(PRECEDENCE_FILE), properties(MAX_ENTRIES, "300"));

        assertThat(maxEntries(cache(manager, "fromfile"))).as("per-cache key from the file").isEqualTo(FILE_FROMFILE_CACHE);
        assertThat(maxEntries(cache(manager, "sysregion"))).as("per-cache key from a system property").isEqualTo(11);
        assertThat(maxEntries(cache(manager, "any"))).as("manager default from Properties").isEqualTo(300);
    }

    // ---------------------------------------------------------------- per-cache key and programmatic configuration

    @Test
    void perCacheKeyBeatsTheManagerDefault() {
        CacheManager manager = manager(uniqueUri(), properties(
                MAX_ENTRIES, "100",
                cacheMaxEntries("special"), "5"));

        assertBound(cache(manager, "special"), 5);
        assertBound(cache(manager, "plain"), 100);
    }

    @Test
    void perCacheKeyAppliesToACacheWhoseNameHasDots() {
        // Hibernate region names are class names, e.g. com.example.Order
        String region = "com.example.Order";
        CacheManager manager = manager(uniqueUri(), properties(cacheMaxEntries(region), "6"));

        assertBound(cache(manager, region), 6);
    }

    @Test
    void programmaticMaxEntriesBeatsEveryPropertyLevel() {
        systemProperties.set(cacheMaxEntries("prog"), "8");
        CacheManager manager = manager(URI.create(PRECEDENCE_FILE), properties(
                MAX_ENTRIES, "100",
                cacheMaxEntries("prog"), "7"));

        BCacheConfiguration<Integer, Integer> configuration = new BCacheConfiguration<>();
        configuration.setTypes(Integer.class, Integer.class);
        configuration.setMaxEntries(42);
        Cache<Integer, Integer> cache = manager.createCache("prog", configuration);

        assertBound(cache, 42);
        assertThat(maxEntries(manager.getCache("prog", Integer.class, Integer.class))).isEqualTo(42);
    }

    @Test
    void setMaxEntriesReturnsTheSameConfiguration() {
        BCacheConfiguration<Integer, Integer> configuration = new BCacheConfiguration<>();

        Object returned = configuration.setMaxEntries(12);

        assertThat(returned).isSameAs(configuration);
        assertThat(configuration.getMaxEntries()).isEqualTo(12);
        assertThat(configuration).isInstanceOf(MutableConfiguration.class);
    }

    /**
     * Not spelled out in the contract; chosen as a user would expect: a BCacheConfiguration
     * whose maxEntries was never set leaves the bound to the properties.
     */
    @Test
    void programmaticConfigurationWithoutMaxEntriesFallsBackToProperties() {
        CacheManager manager = manager(uniqueUri(), properties(
                MAX_ENTRIES, "100",
                cacheMaxEntries("unset"), "6"));

        BCacheConfiguration<Integer, Integer> configuration = new BCacheConfiguration<>();
        configuration.setTypes(Integer.class, Integer.class);
        Cache<Integer, Integer> unset = manager.createCache("unset", configuration);
        BCacheConfiguration<Integer, Integer> other = new BCacheConfiguration<>();
        other.setTypes(Integer.class, Integer.class);
        Cache<Integer, Integer> plain = manager.createCache("plain", other);

        assertBound(unset, 6);
        assertThat(maxEntries(plain)).isEqualTo(100);
    }

    /** Not spelled out in the contract: a non-positive programmatic bound is refused, when set or when used. */
    @ParameterizedTest
    @ValueSource(longs = {0, -1, Long.MIN_VALUE})
    void programmaticNonPositiveMaxEntriesIsRefused(long bad) {
        CacheManager manager = manager(uniqueUri());

        assertThatThrownBy(() -> {
            BCacheConfiguration<Integer, Integer> configuration = new BCacheConfiguration<>();
            configuration.setMaxEntries(bad);
            manager.createCache("bad", configuration);
        }).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aValuePutAsANumberRatherThanAStringCounts() {
        Properties properties = new Properties();
        properties.put(MAX_ENTRIES, 31); // Properties.getProperty would not see it

        assertBound(cache(manager(uniqueUri(), properties), "any"), 31);
    }

    // ---------------------------------------------------------------- bad values fail fast

    @Test
    void anEmptySecretFailsFastNamingTheProperty() {
        URI uri = uniqueUri();

        assertThatThrownBy(() -> manager(uri, properties("bcache.secret", "")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bcache.secret");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-5", "0", "ten", "1.5", "99999999999999999999", "10k"})
    void badManagerDefaultInPropertiesFailsFast(String bad) {
        URI uri = uniqueUri();

        assertThatThrownBy(() -> manager(uri, properties(MAX_ENTRIES, bad)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(MAX_ENTRIES)
                .hasMessageContaining(bad);
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1", "0", "abc"})
    void badPerCacheBoundInPropertiesFailsFastInGetCacheManager(String bad) {
        URI uri = uniqueUri();
        String key = cacheMaxEntries("orders");

        assertThatThrownBy(() -> manager(uri, properties(key, bad)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(key)
                .hasMessageContaining(bad);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "bcache.zookeeper.connect|127.0.0.1:abc",
        "bcache.zookeeper.connect|127.0.0.1:2181/chroot/",
        "bcache.zookeeper.connect|127.0.0.1:2181//x",
        "bcache.zookeeper.connect|zk one:2181",
        "bcache.zookeeper.connect|127.0.0.1:0",
        "bcache.zookeeper.connect|,127.0.0.1:2181",
        "bcache.cluster.name|..",
        "bcache.cluster.name|a/b",
        "bcache.cluster.name|orders cluster",
        "bcache.advertise|bad host!:7000",
        "bcache.advertise|10.0.0.1:0",
        "bcache.bind|127.0.0.1",
        "bcache.shutdownHook|sometimes"})
    void badClusterSettingFailsFastNamingTheProperty(String key, String bad) {
        Properties properties = properties(key, bad);
        if (!key.equals("bcache.zookeeper.connect")) {
            properties.setProperty("bcache.zookeeper.connect", "127.0.0.1:1"); // never reached
        }
        URI uri = uniqueUri();

        assertThatThrownBy(() -> manager(uri, properties))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(key);
    }

    @Test
    void badSystemPropertyFailsFast() {
        systemProperties.set(MAX_ENTRIES, "-7");
        URI uri = uniqueUri();

        assertThatThrownBy(() -> manager(uri))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(MAX_ENTRIES)
                .hasMessageContaining("-7");
    }

    @Test
    void badPerCacheSystemPropertyFailsFast() {
        String key = cacheMaxEntries("sysbad");
        systemProperties.set(key, "many");
        URI uri = uniqueUri();

        assertThatThrownBy(() -> manager(uri))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(key)
                .hasMessageContaining("many");
    }

    @Test
    void badValueInClasspathFileFailsFast() {
        URI uri = URI.create("classpath:test-bcache-bad-bound.properties");

        assertThatThrownBy(() -> manager(uri))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(MAX_ENTRIES)
                .hasMessageContaining("ten");
    }

    @Test
    void badPerCacheValueInClasspathFileFailsFast() {
        URI uri = URI.create("classpath:test-bcache-bad-cache-bound.properties");

        assertThatThrownBy(() -> manager(uri))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(cacheMaxEntries("orders"))
                .hasMessageContaining("-3");
    }

    @Test
    void badValueInFileUriFailsFast() throws IOException {
        Path file = writeProperties("test-bcache-bad.properties", MAX_ENTRIES, "lots");

        for (URI uri : fileUris(file)) {
            assertThatThrownBy(() -> manager(uri))
                    .as("file URI %s", uri)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(MAX_ENTRIES)
                    .hasMessageContaining("lots");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "http://example.invalid/test-bcache.properties",
            "https://example.invalid/test-bcache.properties",
            "ftp://example.invalid/test-bcache.properties",
            "mailto:ops@example.invalid"})
    void unknownUriSchemeIsRejected(String spelled) {
        URI uri = URI.create(spelled);

        assertThatThrownBy(() -> manager(uri))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(spelled);
    }

    @ParameterizedTest
    @ValueSource(strings = {"urn:bcache-test:", "URN:bcache-test:", "BCache:"})
    void aUrnOrABcacheUriIsOnlyAName(String prefix) {
        URI uri = URI.create(prefix + UUID.randomUUID());

        CacheManager manager = manager(uri);

        assertThat(manager.getURI()).isEqualTo(uri);
        assertThat(maxEntries(cache(manager, "plain"))).isEqualTo(10_000);
    }

    @Test
    void missingClasspathFileIsRejected() {
        String spelled = "classpath:test-bcache-missing-" + UUID.randomUUID() + ".properties";
        URI uri = URI.create(spelled);

        assertThatThrownBy(() -> manager(uri))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(spelled);
    }

    @Test
    void missingFileIsRejected() {
        URI uri = URI.create("file:" + tempDir.resolve("test-bcache-missing.properties").toAbsolutePath());

        assertThatThrownBy(() -> manager(uri))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(uri.toString());
    }

    @Test
    void aFailedGetCacheManagerLeavesNothingBehindForThatUri() {
        URI uri = uniqueUri();

        assertThatThrownBy(() -> manager(uri, properties(MAX_ENTRIES, "-1")))
                .isInstanceOf(IllegalArgumentException.class);

        CacheManager manager = manager(uri, properties(MAX_ENTRIES, "5"));
        assertThat(manager.isClosed()).isFalse();
        assertBound(cache(manager, "ok"), 5);
    }
    // ---------------------------------------------------------------- load scope

    private static LoadScope loadScope(Cache<Integer, Integer> cache) {
        return cache.getConfiguration(BCacheConfiguration.class).getLoadScope();
    }

    @Test
    void loadScopeComesFromThePerCacheKeyThenTheManagerDefaultThenNode() {
        assertThat(loadScope(cache(manager(uniqueUri()), "plain"))).isEqualTo(LoadScope.NODE);

        CacheManager manager = manager(uniqueUri(),
            properties("bcache.loads", "Cluster", "bcache.cache.local.loads", "node"));
        assertThat(loadScope(cache(manager, "any"))).isEqualTo(LoadScope.CLUSTER);
        assertThat(loadScope(cache(manager, "local"))).isEqualTo(LoadScope.NODE);
        BCacheConfiguration<Integer, Integer> inCode = new BCacheConfiguration<>();
        inCode.setLoadScope(LoadScope.NODE);
        assertThat(manager.createCache("inCode", inCode).getConfiguration(BCacheConfiguration.class)
            .getLoadScope()).isEqualTo(LoadScope.NODE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bcache.loads", "bcache.cache.orders.loads"})
    void aBadLoadScopeFailsFast(String key) {
        assertThatThrownBy(() -> manager(uniqueUri(), properties(key, "everywhere")))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining(key).hasMessageContaining("everywhere");
    }
}
