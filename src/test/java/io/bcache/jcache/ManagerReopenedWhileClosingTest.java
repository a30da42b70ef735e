package io.bcache.jcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.Closeable;
import java.net.URI;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.cache.CacheManager;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableCacheEntryListenerConfiguration;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEvent;
import javax.cache.spi.CachingProvider;
import org.junit.jupiter.api.Test;

/**
 * A manager asked for while the previous manager of its URI is still closing is made once that
 * close is over: until then the old one may still hold what the new one needs, such as the
 * cluster port {@code bcache.bind} fixes.
 */
class ManagerReopenedWhileClosingTest {

  static final CountDownLatch CLOSING = new CountDownLatch(1);
  static final CountDownLatch RELEASE = new CountDownLatch(1);
  static volatile boolean closed;

  /** A listener whose close, part of its manager's, waits for the test. */
  public static final class SlowToClose implements CacheEntryCreatedListener<String, String>, Closeable {
    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
    }

    @Override
    public void close() {
      CLOSING.countDown();
      try {
        RELEASE.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      closed = true;
    }
  }

  @Test
  void aManagerAskedForWhileItsPredecessorClosesIsMadeOnceThatCloseIsOver() throws Exception {
    CachingProvider provider = PublicApiTestSupport.provider();
    URI uri = URI.create("reopened-while-closing-" + UUID.randomUUID());
    ClassLoader loader = PublicApiTestSupport.testClassLoader();
    CacheManager first = provider.getCacheManager(uri, loader);
    first.createCache("c", new MutableConfiguration<String, String>()
        .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
            FactoryBuilder.factoryOf(SlowToClose.class), null, false, true)));
    CompletableFuture<Void> closing = CompletableFuture.runAsync(first::close);
    assertThat(CLOSING.await(30, TimeUnit.SECONDS)).isTrue();

    CompletableFuture<Boolean> reopened = CompletableFuture.supplyAsync(() -> {
      CacheManager second = provider.getCacheManager(uri, loader);
      boolean closedBefore = closed;
      second.close();
      return closedBefore && second != first;
    });
    // no new manager while the first one is still closing
    assertThatThrownBy(() -> reopened.get(500, TimeUnit.MILLISECONDS))
        .isInstanceOf(TimeoutException.class);
    RELEASE.countDown();

    assertThat(reopened.get(30, TimeUnit.SECONDS)).isTrue();
    closing.get(30, TimeUnit.SECONDS);
    assertThat(first.isClosed()).isTrue();
  }
}
