package io.bcache.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import javax.cache.Cache;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableCacheEntryListenerConfiguration;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEvent;
import javax.cache.event.CacheEntryUpdatedListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Listeners hear of peers' changes in order (an asynchronous one mixed with local ones in the
 * order they took effect), and what a listener does cannot hold up replication: a synchronous listener that fails on every event, or one that blocks, still
 * lets every later change from the peer land in the cache.
 */
@Timeout(120)
class RemoteEventsTest {

  private static final Duration CONVERGE = Duration.ofSeconds(30);
  private static final int WRITES = 1_000;
  private static final int TURNS = 500;

  /** Keys heard, in order; the listeners are made by factories, so they report here. */
  static final List<String> HEARD = new CopyOnWriteArrayList<>();
  static volatile CountDownLatch gate = new CountDownLatch(0);

  private InJvmCluster cluster;
  private Cache<String, String> a;
  private Cache<String, String> b;

  @BeforeEach
  void startTwoNodes() throws Exception {
    HEARD.clear();
    ASYNC_CHAIN.clear();
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

  @Test
  void anAsynchronousListenerHearsLocalAndRemoteWritesOfOneKeyInTheOrderTheyTookEffect() throws Exception {
    b.registerCacheEntryListener(new MutableCacheEntryListenerConfiguration<>(
        FactoryBuilder.factoryOf(AsyncChain.class), null, true, false));

    // A and B take turns: each writes the key as soon as the other's last write has landed, so
    // that each local event closely follows the event of a peer's change
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    Thread onA = new Thread(() -> takeTurns(a, "a", i -> i == 0 ? null : "b" + (i - 1), deadline));
    onA.start();
    takeTurns(b, "b", i -> "a" + i, deadline);
    onA.join(TimeUnit.MINUTES.toMillis(1));

    assertThat(b.get("k")).isEqualTo("b" + (TURNS - 1)); // every turn was taken
    await().atMost(CONVERGE).until(() -> ASYNC_CHAIN.size() == 2 * TURNS);
    String previous = null;
    for (String event : ASYNC_CHAIN) {
      // each event's old value is the value the event before it wrote
      assertThat(event.split("/")[1]).isEqualTo(String.valueOf(previous));
      previous = event.split("/")[0];
    }
    assertThat(previous).isEqualTo(b.get("k"));
  }

  /**
   * Writes {@code ours + i} for each turn once this node holds the other node's write that comes
   * before it ({@code before.apply(i)}, {@code null} for none); gives up at the deadline.
   */
  private static void takeTurns(Cache<String, String> cache, String ours, IntFunction<String> before,
      long deadline) {
    for (int i = 0; i < TURNS; i++) {
      String awaited = before.apply(i);
      while (awaited != null && !awaited.equals(cache.get("k"))) {
        if (System.nanoTime() > deadline) {
          return;
        }
        Thread.onSpinWait();
      }
      cache.put("k", ours + i);
    }
  }

  private List<String> writeOnA(String prefix) {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < WRITES; i++) {
      keys.add(prefix + i);
      a.put(prefix + i, "v");
    }
    return keys;
  }

  static final List<String> ASYNC_CHAIN = new CopyOnWriteArrayList<>();

  /** Records "value/old value" of each creation and update, in the order heard. */
  abstract static class Chain implements CacheEntryCreatedListener<String, String>,
      CacheEntryUpdatedListener<String, String> {
    private final List<String> chain;

    Chain(List<String> chain) {
      this.chain = chain;
    }

    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      onUpdated(events);
    }

    @Override
    public void onUpdated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      events.forEach(event -> chain.add(event.getValue() + "/" + event.getOldValue()));
    }
  }

  /** The asynchronous chain. */
  public static final class AsyncChain extends Chain {
    public AsyncChain() {
      super(ASYNC_CHAIN);
    }
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
