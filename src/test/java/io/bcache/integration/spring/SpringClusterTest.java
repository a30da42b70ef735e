package io.bcache.integration.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.cache.Cache;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.cache.interceptor.SimpleKey;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Two Spring Boot application contexts in one JVM, each its own bcache node (its own
 * {@code spring.cache.jcache.config}), joined through a real ZooKeeper on 127.0.0.1 and
 * replicating over TCP: what one context caches, replaces or evicts, the other sees.
 */
@Timeout(90)
class SpringClusterTest {

  private static final Duration REPLICATION = Duration.ofSeconds(20);
  private static final String NODE_A = "classpath:io/bcache/integration/spring/node-a.properties";
  private static final String NODE_B = "classpath:io/bcache/integration/spring/node-b.properties";

  private TestingServer zookeeper;
  private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();

  @BeforeEach
  void startZooKeeper() throws Exception {
    InstanceSpec spec = new InstanceSpec(null, -1, -1, -1, true, -1, -1, -1,
        Map.of("clientPortAddress", "127.0.0.1"), "127.0.0.1");
    zookeeper = new TestingServer(spec, true);
  }

  @AfterEach
  void closeEverything() throws Exception {
    try {
      for (ConfigurableApplicationContext context : contexts) {
        context.close();
      }
    } finally {
      zookeeper.close();
    }
  }

  /** A node of the application: its own config resource, the ZooKeeper as a user would pass it. */
  private ConfigurableApplicationContext node(String configResource, String... moreArgs) {
    List<String> args = new ArrayList<>(List.of(
        "--spring.cache.jcache.config=" + configResource,
        "--bcache.zookeeper.connect=" + zookeeper.getConnectString()));
    args.addAll(List.of(moreArgs));
    ConfigurableApplicationContext context = GreetingApplication.run(args.toArray(String[]::new));
    contexts.add(context);
    return context;
  }

  private static GreetingService service(ConfigurableApplicationContext context) {
    return context.getBean(GreetingService.class);
  }

  @SuppressWarnings("unchecked")
  private static Cache<Object, Object> nativeCache(ConfigurableApplicationContext context, String name) {
    return (Cache<Object, Object>) context.getBean(org.springframework.cache.CacheManager.class)
        .getCache(name).getNativeCache();
  }

  @Test
  void whatOneContextCachesOrPutsIsServedOnTheOtherWithoutRunningItsMethod() {
    ConfigurableApplicationContext a = node(NODE_A);
    ConfigurableApplicationContext b = node(NODE_B);
    Cache<Object, Object> greetingsOnB = nativeCache(b, "greetings");

    service(a).greet("ada");
    await().atMost(REPLICATION).until(() -> greetingsOnB.containsKey("ada"));
    assertThat(service(b).greet("ada")).isEqualTo(new Greeting("ada", "Hello, ada"));

    service(a).change("ada", "Good morning, ada");
    await().atMost(REPLICATION).until(() -> service(b).greet("ada").text().equals("Good morning, ada"));

    assertThat(service(a).calls()).isEqualTo(2);
    assertThat(service(b).calls()).as("B's method never ran").isZero();
  }

  @Test
  void anEvictionOnOneContextMakesTheOtherRunItsMethodAgain() {
    ConfigurableApplicationContext a = node(NODE_A);
    ConfigurableApplicationContext b = node(NODE_B);
    GreetingService onB = service(b);

    // cached on both: computed on A, served on B
    service(a).greet("ada");
    service(a).greet("bob");
    await().atMost(REPLICATION).until(() -> nativeCache(b, "greetings").containsKey("bob"));
    onB.greet("ada");
    onB.greet("bob");
    assertThat(onB.calls()).isZero();

    service(a).forget("ada");
    // until the eviction arrives B is served the stale value; then its method runs once more
    await().atMost(REPLICATION).until(() -> {
      onB.greet("ada");
      return onB.calls() == 1;
    });
    onB.greet("bob");
    assertThat(onB.calls()).isEqualTo(1);

    // allEntries = true removes, everywhere, every key the evicting node holds
    service(a).forgetEveryone();
    await().atMost(REPLICATION).until(() -> {
      onB.greet("bob");
      return onB.calls() == 2;
    });
  }

  @Test
  void anEvictionReachesTheOtherContextEvenWhenTheEvictingNodeNoLongerHoldsTheKey() {
    // A keeps one greeting: its copy of "cy" goes when it caches "dan" (eviction is local)
    ConfigurableApplicationContext a = node(NODE_A, "--bcache.cache.greetings.maxEntries=1");
    ConfigurableApplicationContext b = node(NODE_B);
    Cache<Object, Object> greetingsOnA = nativeCache(a, "greetings");
    Cache<Object, Object> greetingsOnB = nativeCache(b, "greetings");
    service(b).greet("cy");
    await().atMost(REPLICATION).until(() -> greetingsOnA.containsKey("cy"));
    service(a).greet("dan");
    assertThat(greetingsOnA.containsKey("cy")).isFalse();

    service(a).forget("cy");
    // a node applies one origin's changes in order: once "after" is there, the eviction was handled
    greetingsOnA.put("after", "a String always passes");
    await().atMost(REPLICATION).until(() -> greetingsOnB.containsKey("after"));
    assertThat(greetingsOnB.containsKey("cy")).as("B still serves the evicted greeting").isFalse();
  }

  @Test
  void springsKeysAndNullValuesReplicateWhenAllowListed() {
    ConfigurableApplicationContext a = node(NODE_A);
    ConfigurableApplicationContext b = node(NODE_B);

    service(a).greetIn("ada", "fr"); // key: SimpleKey("ada", "fr")
    assertThat(service(a).nickname("nobody")).isNull(); // value: Spring's NullValue
    await().atMost(REPLICATION).until(() -> nativeCache(b, "greetings").containsKey(new SimpleKey("ada", "fr"))
        && nativeCache(b, "nicknames").containsKey("nobody"));

    assertThat(service(b).greetIn("ada", "fr").text()).isEqualTo("fr: hello, ada");
    assertThat(service(b).nickname("nobody")).isNull();
    assertThat(service(b).calls()).isZero();
  }

  @Test
  void aValueClassOffTheAllowListStaysOnTheNodeThatMadeIt() {
    ConfigurableApplicationContext a = node(NODE_A);
    ConfigurableApplicationContext b = node(NODE_B, "--bcache.serialization.allow=");
    Cache<Object, Object> greetingsOnA = nativeCache(a, "greetings");
    Cache<Object, Object> greetingsOnB = nativeCache(b, "greetings");
    greetingsOnA.put("before", "a String always passes");
    await().atMost(REPLICATION).until(() -> greetingsOnB.containsKey("before"));

    service(a).greet("ada");
    // a node applies one origin's changes in order: once "after" is there, "ada" was handled
    greetingsOnA.put("after", "a String always passes");
    await().atMost(REPLICATION).until(() -> greetingsOnB.containsKey("after"));

    assertThat(greetingsOnB.containsKey("ada")).as("B refused the Greeting").isFalse();
    service(b).greet("ada");
    assertThat(service(b).calls()).isEqualTo(1);
  }
}
