package io.bcache.jcache;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableCacheEntryListenerConfiguration;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two asynchronous listeners, each on its own cache, that close the other's cache from their
 * deliveries at the same time: a close waits for the closed cache's deliveries, so if a close made
 * from a delivery waited too, each would wait for the other for good.
 */
@Timeout(60)
class CachesClosedByEachOthersListenersTest {

  /** Both deliveries are under way before either closes anything. */
  static final CyclicBarrier BOTH_DELIVERING = new CyclicBarrier(2);
  static final CompletableFuture<Void> A_CLOSED_B = new CompletableFuture<>();
  static final CompletableFuture<Void> B_CLOSED_A = new CompletableFuture<>();

  static volatile CacheManager manager;

  /** Closes the cache named by {@link #other()} once both deliveries are running. */
  public abstract static class ClosesTheOther implements CacheEntryCreatedListener<String, String> {
    abstract String other();

    abstract CompletableFuture<Void> done();

    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      try {
        BOTH_DELIVERING.await(10, TimeUnit.SECONDS);
        manager.getCache(other(), String.class, String.class).close();
        done().complete(null);
      } catch (Exception | Error e) {
        done().completeExceptionally(e);
      }
    }
  }

  /** On cache "a": closes "b". */
  public static final class OnAClosesB extends ClosesTheOther {
    @Override
    String other() {
      return "b";
    }

    @Override
    CompletableFuture<Void> done() {
      return A_CLOSED_B;
    }
  }

  /** On cache "b": closes "a". */
  public static final class OnBClosesA extends ClosesTheOther {
    @Override
    String other() {
      return "a";
    }

    @Override
    CompletableFuture<Void> done() {
      return B_CLOSED_A;
    }
  }

  @Test
  void bothClosesReturn() throws Exception {
    manager = PublicApiTestSupport.provider().getCacheManager(
        URI.create("closed-by-each-other-" + UUID.randomUUID()), PublicApiTestSupport.testClassLoader());
    try {
      Cache<String, String> a = manager.createCache("a", withListener(OnAClosesB.class));
      Cache<String, String> b = manager.createCache("b", withListener(OnBClosesA.class));

      a.put("k", "v");
      b.put("k", "v");

      A_CLOSED_B.get(30, TimeUnit.SECONDS);
      B_CLOSED_A.get(30, TimeUnit.SECONDS);
      assertThat(a.isClosed()).isTrue();
      assertThat(b.isClosed()).isTrue();
    } finally {
      // bounded: were the deliveries stuck for good, the manager's close would wait for them
      CompletableFuture.runAsync(manager::close).get(30, TimeUnit.SECONDS);
    }
  }

  private static MutableConfiguration<String, String> withListener(
      Class<? extends CacheEntryCreatedListener<String, String>> listener) {
    return new MutableConfiguration<String, String>()
        .setTypes(String.class, String.class)
        .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
            FactoryBuilder.factoryOf(listener), null, false, false));
  }
}
