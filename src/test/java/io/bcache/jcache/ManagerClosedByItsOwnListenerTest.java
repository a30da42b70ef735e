package io.bcache.jcache;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableCacheEntryListenerConfiguration;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEvent;
import org.junit.jupiter.api.Test;

/**
 * An asynchronous listener runs on its manager's executor; when it closes that manager, close()
 * must not wait for the executor to finish, which would mean waiting for the listener itself.
 */
class ManagerClosedByItsOwnListenerTest {

  /** What the closing listener reports: how long close() took, in nanoseconds. */
  static final CompletableFuture<Long> CLOSE_TOOK = new CompletableFuture<>();

  /** Closes the cache's manager on the first entry created. */
  public static final class ClosingListener implements CacheEntryCreatedListener<String, String> {
    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      for (CacheEntryEvent<? extends String, ? extends String> event : events) {
        long start = System.nanoTime();
        event.getSource().getCacheManager().close();
        CLOSE_TOOK.complete(System.nanoTime() - start);
      }
    }
  }

  @Test
  void closingFromAnAsynchronousListenerReturnsAtOnce() throws Exception {
    CacheManager manager = PublicApiTestSupport.provider().getCacheManager(
        URI.create("closed-by-listener-" + UUID.randomUUID()), PublicApiTestSupport.testClassLoader());
    Cache<String, String> cache = manager.createCache("c", new MutableConfiguration<String, String>()
        .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
            FactoryBuilder.factoryOf(ClosingListener.class), null, false, false)));

    cache.put("k", "v");

    // the executor waits at most 10 s before it gives up on its threads: well under that
    long tookNanos = CLOSE_TOOK.get(30, TimeUnit.SECONDS);
    assertThat(Duration.ofNanos(tookNanos)).isLessThan(Duration.ofSeconds(5));
    assertThat(manager.isClosed()).isTrue();
    assertThat(cache.isClosed()).isTrue();
  }

  /** What the recording listeners heard, by listener. */
  static final java.util.Map<String, java.util.List<String>> HEARD =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** Closes its own cache on the first entry created, on the writer's thread. */
  public static final class ClosingItsCache implements CacheEntryCreatedListener<String, String> {
    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      events.iterator().next().getSource().close();
    }
  }

  /** Records the keys created. */
  public abstract static class Recording implements CacheEntryCreatedListener<String, String> {
    private final String name;

    Recording(String name) {
      this.name = name;
    }

    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      events.forEach(event -> HEARD.computeIfAbsent(name, n -> new java.util.concurrent.CopyOnWriteArrayList<>())
          .add(event.getKey()));
    }
  }

  /** The synchronous recorder. */
  public static final class RecordingSync extends Recording {
    public RecordingSync() {
      super("sync");
    }
  }

  /** The asynchronous recorder. */
  public static final class RecordingAsync extends Recording {
    public RecordingAsync() {
      super("async");
    }
  }

  @Test
  void aSynchronousListenerClosingItsCacheLetsTheOtherListenersHearTheEventFirst() throws Exception {
    CacheManager manager = PublicApiTestSupport.provider().getCacheManager(
        URI.create("cache-closed-by-listener-" + UUID.randomUUID()), PublicApiTestSupport.testClassLoader());
    try {
      Cache<String, String> cache = manager.createCache("c", new MutableConfiguration<String, String>()
          .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
              FactoryBuilder.factoryOf(ClosingItsCache.class), null, false, true))
          .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
              FactoryBuilder.factoryOf(RecordingSync.class), null, false, true))
          .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
              FactoryBuilder.factoryOf(RecordingAsync.class), null, false, false)));

      CompletableFuture.runAsync(() -> cache.put("k", "v")).get(30, TimeUnit.SECONDS);

      assertThat(cache.isClosed()).isTrue();
      // the close waited for every listener's deliveries: this operation's event among them
      assertThat(HEARD.get("sync")).containsExactly("k");
      assertThat(HEARD.get("async")).containsExactly("k");
    } finally {
      manager.close();
    }
  }
}
