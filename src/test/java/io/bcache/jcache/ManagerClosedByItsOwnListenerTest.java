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
}
