package io.bcache.jcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.cache.CacheManager;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableCacheEntryListenerConfiguration;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEvent;
import javax.cache.spi.CachingProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A listener that asks for its own manager's URI while that manager closes (which waits for the
 * listener) gets a new manager: the close is not waited for past the node's leaving the cluster.
 */
@Timeout(120)
class ManagerReopenedWhileClosingTest {

  static final CompletableFuture<CacheManager> REOPENED = new CompletableFuture<>();

  /** On the first entry created, waits for its manager to close, then asks for its URI again. */
  public static final class AsksDuringClose implements CacheEntryCreatedListener<String, String> {
    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      CacheManager manager = events.iterator().next().getSource().getCacheManager();
      await().atMost(Duration.ofSeconds(30)).until(manager::isClosed);
      REOPENED.complete(manager.getCachingProvider().getCacheManager(manager.getURI(),
          manager.getClassLoader()));
    }
  }

  @Test
  void aListenerAskingForItsManagersUriDuringTheCloseGetsANewManager() throws Exception {
    CachingProvider provider = PublicApiTestSupport.provider();
    URI uri = URI.create("reopened-while-closing-" + UUID.randomUUID());
    CacheManager first = provider.getCacheManager(uri, PublicApiTestSupport.testClassLoader());
    first.createCache("c", new MutableConfiguration<String, String>()
        .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
            FactoryBuilder.factoryOf(AsksDuringClose.class), null, false, false)))
        .put("k", "v");

    // the close waits for the listener, which waits for its answer
    CompletableFuture.runAsync(first::close).get(60, TimeUnit.SECONDS);

    CacheManager second = REOPENED.get(30, TimeUnit.SECONDS);
    assertThat(second).isNotSameAs(first);
    assertThat(second.isClosed()).isFalse();
    assertThat(provider.getCacheManager(uri, PublicApiTestSupport.testClassLoader())).isSameAs(second);
    second.close();
  }
}
