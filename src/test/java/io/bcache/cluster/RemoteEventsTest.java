package io.bcache.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.cache.Cache;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableCacheEntryListenerConfiguration;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Listeners hear of peers' changes in order, and what a listener does cannot hold up
 * replication: a synchronous listener that fails on every event, or one that blocks, still
 * lets every later change from the peer land in the cache.
 */
@Timeout(120)
class RemoteEventsTest {

  private static final Duration CONVERGE = Duration.ofSeconds(30);
  private static final int WRITES = 1_000;

  /** Keys heard, in order; the listeners are made by factories, so they report here. */
  static final List<String> HEARD = new CopyOnWriteArrayList<>();
  static volatile CountDownLatch gate = new CountDownLatch(0);

  private InJvmCluster cluster;
  private Cache<String, String> a;
  private Cache<String, String> b;

  @BeforeEach
  void startTwoNodes() throws Exception {
    HEARD.clear();
    cluster = InJvmCluster.start("remote-events");
    MutableConfiguration<String, String> configuration =
        new MutableConfiguration<String, String>().setTypes(String.class, String.class);
    a = cluster.node("a").createCache("c", configuration);
    b = cluster.node("b").createCache("c", configuration);
  }

  @AfterEach
  void stopEverything() throws Exception {
    gate.countDown();
    cluster.close();
  }

  @Test
  void aSynchronousListenerThatFailsOnEveryEventHearsThemAllInOrderAndEveryChangeLands() {
    b.registerCacheEntryListener(new MutableCacheEntryListenerConfiguration<>(
        FactoryBuilder.factoryOf(Failing.class), null, false, true));

    List<String> written = writeOnA("k");

    await().atMost(CONVERGE).until(() -> written.stream().allMatch(b::containsKey));
    await().atMost(CONVERGE).until(() -> HEARD.size() == WRITES);
    assertThat(HEARD).containsExactlyElementsOf(written);
  }

  @Test
  void aBlockedSynchronousListenerDoesNotStopChangesFromLanding() {
    gate = new CountDownLatch(1);
    b.registerCacheEntryListener(new MutableCacheEntryListenerConfiguration<>(
        FactoryBuilder.factoryOf(Blocking.class), null, false, true));
    a.put("first", "1");
    await().atMost(CONVERGE).until(() -> HEARD.contains("first")); // the listener is now blocked

    List<String> written = writeOnA("k");

    await().atMost(CONVERGE).until(() -> written.stream().allMatch(b::containsKey));
    assertThat(HEARD).containsExactly("first");
    gate.countDown();
    await().atMost(CONVERGE).until(() -> HEARD.size() == WRITES + 1);
    assertThat(HEARD.subList(1, WRITES + 1)).containsExactlyElementsOf(written);
  }

  private List<String> writeOnA(String prefix) {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < WRITES; i++) {
      keys.add(prefix + i);
      a.put(prefix + i, "v");
    }
    return keys;
  }

  /** Records each key, then fails. */
  public static final class Failing implements CacheEntryCreatedListener<String, String> {
    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      events.forEach(event -> HEARD.add(event.getKey()));
      throw new IllegalStateException("this listener fails on every event");
    }
  }

  /** Records each key, then waits at the gate (bounded, so a failing test still ends). */
  public static final class Blocking implements CacheEntryCreatedListener<String, String> {
    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      events.forEach(event -> HEARD.add(event.getKey()));
      try {
        gate.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
