package io.bcache.integration.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bcache.jcache.BCacheConfiguration;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.CompleteConfiguration;
import javax.cache.expiry.EternalExpiryPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.io.DefaultResourceLoader;

/**
 * One Spring Boot application on a standalone bcache node (no ZooKeeper): Spring's caching
 * annotations are served by bcache, and the bcache settings come from the application's
 * configuration.
 */
@Timeout(60)
class SpringCachingTest {

  private static final String NODE_A = "classpath:io/bcache/integration/spring/node-a.properties";

  private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();
  private final List<AutoCloseable> resources = new ArrayList<>();

  @AfterEach
  void closeEverything() throws Exception {
    for (ConfigurableApplicationContext context : contexts) {
      context.close();
    }
    for (AutoCloseable resource : resources) {
      resource.close();
    }
  }

  private ConfigurableApplicationContext start(String... args) {
    ConfigurableApplicationContext context = GreetingApplication.run(args);
    contexts.add(context);
    return context;
  }

  @SuppressWarnings("unchecked")
  private static Cache<Object, Object> nativeCache(ConfigurableApplicationContext context, String name) {
    return (Cache<Object, Object>) context.getBean(org.springframework.cache.CacheManager.class)
        .getCache(name).getNativeCache();
  }

  @Test
  void cacheableCachePutAndCacheEvictAreServedByBcache() {
    ConfigurableApplicationContext context = start("--spring.cache.jcache.config=" + NODE_A);
    GreetingService service = context.getBean(GreetingService.class);
    CacheManager jcache = context.getBean(CacheManager.class);
    Cache<Object, Object> greetings = nativeCache(context, "greetings");

    assertThat(jcache.getCachingProvider()).isSameAs(Caching.getCachingProvider("bcache"));
    assertThat(greetings.getCacheManager()).isSameAs(jcache);
    // the customizer passed application.properties' bcache.* keys, placeholders resolved
    assertThat(jcache.getProperties()).containsEntry("bcache.secret", "change-me")
        .containsEntry("bcache.cache.greetings.maxEntries", "1000");
    // Boot created the caches of spring.cache.cache-names with a plain MutableConfiguration
    CompleteConfiguration<?, ?> configuration = configurationOf(greetings);
    assertThat(configuration.isStoreByValue()).isTrue();
    assertThat(configuration.isStatisticsEnabled()).isFalse();
    assertThat(configuration.getExpiryPolicyFactory().create()).isInstanceOf(EternalExpiryPolicy.class);
    // and only those exist
    assertThat(context.getBean(org.springframework.cache.CacheManager.class).getCache("unlisted")).isNull();

    Greeting first = service.greet("ada");
    assertThat(service.greet("ada")).isEqualTo(first);
    assertThat(service.calls()).isEqualTo(1);
    assertThat(greetings.get("ada")).isEqualTo(new Greeting("ada", "Hello, ada"));

    // what the JCache API puts, the annotated method finds
    greetings.put("bob", new Greeting("bob", "Hi, bob"));
    assertThat(service.greet("bob").text()).isEqualTo("Hi, bob");
    assertThat(service.calls()).isEqualTo(1);

    service.change("ada", "Good morning, ada");
    assertThat(service.calls()).isEqualTo(2);
    assertThat(greetings.get("ada")).isEqualTo(new Greeting("ada", "Good morning, ada"));
    assertThat(service.greet("ada").text()).isEqualTo("Good morning, ada");
    assertThat(service.calls()).isEqualTo(2);

    service.forget("ada");
    assertThat(greetings.containsKey("ada")).isFalse();
    assertThat(service.greet("ada").text()).isEqualTo("Hello, ada");
    assertThat(service.calls()).isEqualTo(3);

    service.forgetEveryone();
    assertThat(greetings.iterator().hasNext()).isFalse();

    // a null result is cached too (as Spring's NullValue): the second call does not run
    assertThat(service.nickname("nobody")).isNull();
    assertThat(service.nickname("nobody")).isNull();
    assertThat(service.calls()).isEqualTo(4);

    context.close();
    assertThat(jcache.isClosed()).as("closing the context closes the bcache node").isTrue();
  }

  @Test
  void theConfigResourceBecomesTheManagerUriAndItsSettingsRankBelowTheEnvironment() throws Exception {
    ConfigurableApplicationContext context = start("--spring.cache.jcache.config=" + NODE_A,
        "--bcache.cache.greetings.maxEntries=2");
    CacheManager jcache = context.getBean(CacheManager.class);

    // a class-path resource on the file system becomes a file: URI, which bcache reads
    URL nodeFile = getClass().getResource("node-a.properties");
    assertThat(jcache.getURI()).isEqualTo(nodeFile.toURI());
    assertThat(jcache.getURI().getScheme()).isEqualTo("file");

    // greetings: the command line (2) beats application.properties (1000) beats node-a (3);
    // nicknames has no bound of its own in the Environment: node-a's bcache.maxEntries (500)
    assertThat(boundOf(nativeCache(context, "greetings"))).isEqualTo(2);
    assertThat(boundOf(nativeCache(context, "nicknames"))).isEqualTo(500);

    // the bound is an LRU bound on what @Cacheable keeps
    GreetingService service = context.getBean(GreetingService.class);
    service.greet("a");
    service.greet("b");
    service.greet("a");
    service.greet("c"); // evicts b, the least recently used
    assertThat(service.calls()).isEqualTo(3);
    service.greet("a");
    assertThat(service.calls()).isEqualTo(3);
    service.greet("b");
    assertThat(service.calls()).isEqualTo(4);
  }

  @Test
  void aConfigResourceInsideAJarBecomesAJarUriThatBcacheReads(@TempDir Path dir) throws Exception {
    Path jar = dir.resolve("settings.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      out.putNextEntry(new JarEntry("config/bcache.properties"));
      out.write("bcache.maxEntries=42\n".getBytes(StandardCharsets.ISO_8859_1));
      out.closeEntry();
    }
    URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, getClass().getClassLoader());
    resources.add(loader);

    ConfigurableApplicationContext context = GreetingApplication.builder()
        .resourceLoader(new DefaultResourceLoader(loader))
        .run("--spring.cache.jcache.config=classpath:config/bcache.properties");
    contexts.add(context);
    CacheManager jcache = context.getBean(CacheManager.class);

    assertThat(jcache.getURI().getScheme()).isEqualTo("jar");
    assertThat(jcache.getURI()).isEqualTo(loader.getResource("config/bcache.properties").toURI());
    assertThat(boundOf(nativeCache(context, "nicknames"))).isEqualTo(42);
  }

  @Test
  void withoutAConfigResourceTheNodeIsTheDefaultManagerWhichASecondContextCannotShare() {
    ConfigurableApplicationContext first = start("--bcache.maxEntries=7");
    CacheManager jcache = first.getBean(CacheManager.class);
    assertThat(jcache.getURI()).isEqualTo(URI.create("bcache:default"));
    assertThat(boundOf(nativeCache(first, "nicknames"))).isEqualTo(7);

    // same URI and class loader: the same manager, whose caches exist already
    assertThatThrownBy(() -> start("--bcache.maxEntries=8"))
        .hasRootCauseInstanceOf(javax.cache.CacheException.class)
        .rootCause().hasMessage("cache 'greetings' already exists");

    // the failed start left the first context's node alone
    assertThat(jcache.isClosed()).isFalse();
    GreetingService service = first.getBean(GreetingService.class);
    service.greet("ada");
    service.greet("ada");
    assertThat(service.calls()).isEqualTo(1);
  }

  @SuppressWarnings("unchecked") // a raw class literal: the configuration's types are not checked here
  private static long boundOf(Cache<?, ?> cache) {
    return cache.getConfiguration(BCacheConfiguration.class).getMaxEntries();
  }

  @SuppressWarnings("unchecked")
  private static CompleteConfiguration<?, ?> configurationOf(Cache<?, ?> cache) {
    return cache.getConfiguration(CompleteConfiguration.class);
  }
}
