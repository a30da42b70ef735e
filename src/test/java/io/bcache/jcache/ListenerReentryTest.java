package io.bcache.jcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableCacheEntryListenerConfiguration;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEvent;
import javax.cache.event.CacheEntryUpdatedListener;
import javax.cache.integration.CacheLoader;
import javax.cache.integration.CompletionListenerFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Synchronous listeners that use their own cache: an operation made from a delivery does not
 * wait for the listeners' earlier deliveries of its key, so a listener writing or reading other
 * keys, even one another thread is loading or its listener is writing back, completes.
 */
@Timeout(60)
class ListenerReentryTest {

  /** What the listeners heard, as "listener:key". */
  static final List<String> HEARD = new CopyOnWriteArrayList<>();
  static final CountDownLatch LOADING = new CountDownLatch(1);
  static final CountDownLatch IN_LISTENER = new CountDownLatch(1);

  private CacheManager manager;

  @BeforeEach
  void open() {
    HEARD.clear();
    manager = PublicApiTestSupport.newManager();
  }

  @AfterEach
  void close() throws Exception {
    // bounded: a listener stuck for good would otherwise hold the close, and the build, with it
    CompletableFuture.runAsync(manager::close).get(30, TimeUnit.SECONDS);
  }

  /** On "a" created, writes "b". */
  public static final class WritesB implements CacheEntryCreatedListener<String, String> {
    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      for (CacheEntryEvent<? extends String, ? extends String> event : events) {
        HEARD.add("first:" + event.getKey());
        if (event.getKey().equals("a")) {
          @SuppressWarnings("unchecked")
          Cache<String, String> cache = (Cache<String, String>) event.getSource();
          cache.put("b", "from the listener");
        }
      }
    }
  }

  /** Records what it hears. */
  public static final class Records implements CacheEntryCreatedListener<String, String> {
    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      events.forEach(event -> HEARD.add("second:" + event.getKey()));
    }
  }

  @Test
  void aSynchronousListenerWritingAnotherKeyCompletesWithASecondSynchronousListener() throws Exception {
    Cache<String, String> cache = manager.createCache("c", new MutableConfiguration<String, String>()
        .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
            FactoryBuilder.factoryOf(WritesB.class), null, false, true))
        .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
            FactoryBuilder.factoryOf(Records.class), null, false, true)));

    CompletableFuture.runAsync(() -> cache.put("a", "1")).get(30, TimeUnit.SECONDS);

    assertThat(cache.get("b")).isEqualTo("from the listener");
    assertThat(HEARD).containsExactlyInAnyOrder("first:a", "first:b", "second:a", "second:b");
    assertThat(HEARD.indexOf("first:b")).isLessThan(HEARD.indexOf("second:a")); // the nested write went first
  }

  /** Both threads' deliveries of a creation are under way before either writes the other key. */
  static volatile CyclicBarrier bothCreationsHeard;

  /** On "a" or "b" created, updates the other one; records the updates it hears. */
  public static final class WritesTheOther implements CacheEntryCreatedListener<String, String>,
      CacheEntryUpdatedListener<String, String> {
    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      for (CacheEntryEvent<? extends String, ? extends String> event : events) {
        try {
          bothCreationsHeard.await(30, TimeUnit.SECONDS);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
        @SuppressWarnings("unchecked")
        Cache<String, String> cache = (Cache<String, String>) event.getSource();
        cache.put(event.getKey().equals("a") ? "b" : "a", "from " + event.getKey());
      }
    }

    @Override
    public void onUpdated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      events.forEach(event -> HEARD.add("updated:" + event.getKey()));
    }
  }

  @Test
  void twoSynchronousDeliveriesWritingEachOthersKeyDoNotWaitForEachOther() throws Exception {
    bothCreationsHeard = new CyclicBarrier(2);
    Cache<String, String> cache = manager.createCache("c", new MutableConfiguration<String, String>()
        .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
            FactoryBuilder.factoryOf(WritesTheOther.class), null, false, true)));

    CompletableFuture<Void> a = CompletableFuture.runAsync(() -> cache.put("a", "1"));
    CompletableFuture<Void> b = CompletableFuture.runAsync(() -> cache.put("b", "1"));
    // each update's turn comes after the other thread's delivery of its key's creation, which is
    // writing this thread's key: were they to wait, each would give up only after ten seconds
    CompletableFuture.allOf(a, b).get(5, TimeUnit.SECONDS);

    assertThat(HEARD).containsExactlyInAnyOrder("updated:a", "updated:b");
  }

  /** On "a" created, loads it again with {@code loadAll} and waits for it to complete. */
  public static final class ReloadsOnCreation implements CacheEntryCreatedListener<String, String>,
      CacheEntryUpdatedListener<String, String> {
    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      for (CacheEntryEvent<? extends String, ? extends String> event : events) {
        CompletionListenerFuture done = new CompletionListenerFuture();
        event.getSource().loadAll(Set.of(event.getKey()), true, done);
        try {
          done.get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
        HEARD.add("reloaded:" + event.getKey());
      }
    }

    @Override
    public void onUpdated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      events.forEach(event -> HEARD.add("updated:" + event.getKey()));
    }
  }

  @Test
  void aSynchronousListenerWaitingForLoadAllOfItsKeyDoesNotWaitForItself() throws Exception {
    Cache<String, String> cache = manager.createCache("c", new MutableConfiguration<String, String>()
        .setCacheLoaderFactory(FactoryBuilder.factoryOf(EventOrderTest.LoadsAnything.class))
        .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
            FactoryBuilder.factoryOf(ReloadsOnCreation.class), null, false, true)));

    // the load's update would wait for the creation's delivery, which waits for the load: ten
    // seconds, were loadAll's stores to wait for the listener's earlier deliveries
    CompletableFuture.runAsync(() -> cache.put("a", "1")).get(5, TimeUnit.SECONDS);

    assertThat(cache.get("a")).isEqualTo("loaded");
    // the load's update is heard once the creation's delivery has ended: in order
    await().atMost(Duration.ofSeconds(30)).until(() -> HEARD.size() == 2);
    assertThat(HEARD).containsExactly("reloaded:a", "updated:a");
  }

  /** Loads "b" once the test lets it, after saying it started. */
  public static final class SlowLoader implements CacheLoader<String, String> {
    @Override
    public String load(String key) {
      if (key.equals("b")) {
        LOADING.countDown();
        try {
          assertThat(IN_LISTENER.await(30, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      }
      return "loaded " + key;
    }

    @Override
    public java.util.Map<String, String> loadAll(Iterable<? extends String> keys) {
      java.util.Map<String, String> loaded = new java.util.HashMap<>();
      for (String key : keys) {
        loaded.put(key, load(key));
      }
      return loaded;
    }
  }

  /** On "a" created, reads "b", which another thread is loading. */
  public static final class ReadsB implements CacheEntryCreatedListener<String, String> {
    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      for (CacheEntryEvent<? extends String, ? extends String> event : events) {
        HEARD.add("reader:" + event.getKey());
        if (event.getKey().equals("a")) {
          IN_LISTENER.countDown();
          @SuppressWarnings("unchecked")
          Cache<String, String> cache = (Cache<String, String>) event.getSource();
          HEARD.add("reader read " + cache.get("b"));
        }
      }
    }
  }

  @Test
  void aSynchronousListenerReadingAKeyAnotherThreadLoadsCompletes() throws Exception {
    Cache<String, String> cache = manager.createCache("c", new MutableConfiguration<String, String>()
        .setReadThrough(true)
        .setCacheLoaderFactory(FactoryBuilder.factoryOf(SlowLoader.class))
        .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
            FactoryBuilder.factoryOf(ReadsB.class), null, false, true)));

    CompletableFuture<String> load = CompletableFuture.supplyAsync(() -> cache.get("b"));
    assertThat(LOADING.await(30, TimeUnit.SECONDS)).isTrue(); // b's load has begun
    CompletableFuture<Void> put = CompletableFuture.runAsync(() -> cache.put("a", "1"));

    // the put's listener waits in get("b") for the load, whose creation event must not wait
    // for the put's
    assertThat(load.get(30, TimeUnit.SECONDS)).isEqualTo("loaded b");
    put.get(30, TimeUnit.SECONDS);
    assertThat(HEARD).contains("reader:a", "reader:b", "reader read loaded b");
  }
}
