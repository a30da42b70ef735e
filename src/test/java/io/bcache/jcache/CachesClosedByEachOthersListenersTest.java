package io.bcache.jcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.Closeable;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
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
import javax.cache.processor.EntryProcessor;
import javax.cache.processor.MutableEntry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two asynchronous listeners that close, from their deliveries and at the same time, each the
 * other's cache or manager: a close waits for the closed cache's deliveries (and a manager's for
 * its executor), so were every close to wait, each would wait for the other; while a close that
 * forms no such cycle still waits.
 */
@Timeout(60)
class CachesClosedByEachOthersListenersTest {

  /** The closing deliveries are all under way before any closes anything. */
  static volatile CyclicBarrier bothDelivering;
  /** What each listener closes, by the name of the cache it listens to. */
  static final Map<String, Closeable> TARGET = new ConcurrentHashMap<>();
  /** How long each listener's close took, in nanoseconds, by the name of its cache. */
  static final Map<String, CompletableFuture<Long>> CLOSE_TOOK = new ConcurrentHashMap<>();
  /** Whether the listener of the cache closed by the unrelated test was closed during its delivery. */
  static final CompletableFuture<Boolean> CLOSED_DURING_DELIVERY = new CompletableFuture<>();

  @BeforeEach
  void reset() {
    bothDelivering = new CyclicBarrier(2);
    TARGET.clear();
    CLOSE_TOOK.clear();
  }

  /** Closes its target once the deliveries that close something are all running. */
  public static final class ClosesItsTarget implements CacheEntryCreatedListener<String, String> {
    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      String cache = events.iterator().next().getSource().getName();
      CompletableFuture<Long> took = CLOSE_TOOK.computeIfAbsent(cache, c -> new CompletableFuture<>());
      try {
        bothDelivering.await(10, TimeUnit.SECONDS);
        long start = System.nanoTime();
        TARGET.get(cache).close();
        took.complete(System.nanoTime() - start);
      } catch (Exception | Error e) {
        took.completeExceptionally(e);
      }
    }
  }

  @Test
  void twoListenersClosingEachOthersCachesBothReturn() throws Exception {
    CacheManager manager = PublicApiTestSupport.newManager();
    try {
      Cache<String, String> a = manager.createCache("a", withListener(ClosesItsTarget.class));
      Cache<String, String> b = manager.createCache("b", withListener(ClosesItsTarget.class));
      whenBothListenersClose(a, b, b, a);

      assertThat(a.isClosed()).isTrue();
      assertThat(b.isClosed()).isTrue();
    } finally {
      closeBounded(manager);
    }
  }

  @Test
  void twoListenersClosingEachOthersManagersReturnAtOnce() throws Exception {
    CacheManager first = PublicApiTestSupport.newManager();
    CacheManager second = PublicApiTestSupport.newManager();
    try {
      Cache<String, String> a = first.createCache("a", withListener(ClosesItsTarget.class));
      Cache<String, String> b = second.createCache("b", withListener(ClosesItsTarget.class));
      long[] took = whenBothListenersClose(a, second, b, first);

      // a manager gives up waiting for its executor's threads after 10 s: well under that
      for (long nanos : took) {
        assertThat(Duration.ofNanos(nanos)).isLessThan(Duration.ofSeconds(5));
      }
      assertThat(first.isClosed()).isTrue();
      assertThat(second.isClosed()).isTrue();
    } finally {
      closeBounded(first);
      closeBounded(second);
    }
  }

  /** Sleeps in its delivery until the test lets it go, and says whether it was closed meanwhile. */
  public static final class SlowListener implements CacheEntryCreatedListener<String, String>, Closeable {
    static final CompletableFuture<Void> DELIVERING = new CompletableFuture<>();
    static final CompletableFuture<Void> RELEASE = new CompletableFuture<>();
    private volatile boolean closed;

    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      DELIVERING.complete(null);
      RELEASE.orTimeout(30, TimeUnit.SECONDS).join();
      CLOSED_DURING_DELIVERY.complete(closed);
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  @Test
  void aListenerClosingAnotherCacheWaitsForThatCachesDeliveries() throws Exception {
    CacheManager manager = PublicApiTestSupport.newManager();
    try {
      Cache<String, String> slow = manager.createCache("slow", withListener(SlowListener.class));
      Cache<String, String> closer = manager.createCache("closer", withListener(ClosesItsTarget.class));
      TARGET.put("closer", slow);
      bothDelivering = new CyclicBarrier(1); // one closing listener here: it waits for nobody

      slow.put("k", "v");
      SlowListener.DELIVERING.get(30, TimeUnit.SECONDS);
      closer.put("k", "v"); // its listener closes "slow" while that cache's listener delivers
      await().atMost(Duration.ofSeconds(30)).until(slow::isClosed); // the close has begun
      // and waits for the slow delivery, with which it forms no cycle
      assertThat(CLOSE_TOOK.get("closer")).isNotDone();
      SlowListener.RELEASE.complete(null);

      closeTook("closer");
      assertThat(CLOSED_DURING_DELIVERY.get(30, TimeUnit.SECONDS)).isFalse();
      assertThat(slow.isClosed()).isTrue();
    } finally {
      SlowListener.RELEASE.complete(null);
      closeBounded(manager);
    }
  }

  /** The cache "writes" listener writes to, and when it is about to. */
  static volatile Cache<String, String> written;
  static final CountDownLatch ABOUT_TO_WRITE = new CountDownLatch(1);
  static final CountDownLatch PROCESSING = new CountDownLatch(1);

  /** On its first event, writes key "k" of {@link #written}. */
  public static final class WritesK implements CacheEntryCreatedListener<String, String> {
    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      try {
        assertThat(PROCESSING.await(30, TimeUnit.SECONDS)).isTrue();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      ABOUT_TO_WRITE.countDown();
      written.put("k", "from the listener"); // waits for the key's lock while the processor holds it
    }
  }

  /** Closes the cache it was given, from inside {@code invoke}, under the key's lock. */
  static final class ClosesUnderTheLock implements EntryProcessor<String, String, Void> {
    private final Cache<String, String> toClose;

    ClosesUnderTheLock(Cache<String, String> toClose) {
      this.toClose = toClose;
    }

    @Override
    public Void process(MutableEntry<String, String> entry, Object... arguments) {
      PROCESSING.countDown();
      try {
        assertThat(ABOUT_TO_WRITE.await(30, TimeUnit.SECONDS)).isTrue();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      toClose.close(); // its listener is writing this very key: waiting for it would wait for good
      entry.setValue("from the processor");
      return null;
    }
  }

  @Test
  void aProcessorClosingACacheWhoseListenerWritesItsKeyReturns() throws Exception {
    CacheManager manager = PublicApiTestSupport.newManager();
    try {
      Cache<String, String> a = manager.createCache("a", new MutableConfiguration<String, String>()
          .setTypes(String.class, String.class));
      Cache<String, String> b = manager.createCache("b", withListener(WritesK.class));
      written = a;

      b.put("x", "v"); // its listener starts, and will write a's "k"
      CompletableFuture.runAsync(() -> a.invoke("k", new ClosesUnderTheLock(b))).get(30, TimeUnit.SECONDS);

      assertThat(b.isClosed()).isTrue();
      await().atMost(Duration.ofSeconds(30)).until(() -> "from the listener".equals(a.get("k")));
    } finally {
      closeBounded(manager);
    }
  }

  /**
   * Writes to {@code a} and {@code b}, whose listeners then close {@code closedByA} and
   * {@code closedByB} at once; returns how long each close took, in nanoseconds.
   */
  private static long[] whenBothListenersClose(Cache<String, String> a, Closeable closedByA,
      Cache<String, String> b, Closeable closedByB) throws Exception {
    TARGET.put("a", closedByA);
    TARGET.put("b", closedByB);
    a.put("k", "v");
    b.put("k", "v");
    return new long[] {closeTook("a"), closeTook("b")};
  }

  /** How long the close made by the listener of {@code cache} took, once it returned. */
  private static long closeTook(String cache) throws Exception {
    return CLOSE_TOOK.computeIfAbsent(cache, c -> new CompletableFuture<>()).get(30, TimeUnit.SECONDS);
  }

  /** Bounded: were the deliveries stuck for good, the manager's close would wait for them. */
  private static void closeBounded(CacheManager manager) throws Exception {
    CompletableFuture.runAsync(manager::close).get(30, TimeUnit.SECONDS);
  }

  private static MutableConfiguration<String, String> withListener(
      Class<? extends CacheEntryCreatedListener<String, String>> listener) {
    return new MutableConfiguration<String, String>()
        .setTypes(String.class, String.class)
        .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
            FactoryBuilder.factoryOf(listener), null, false, false));
  }
}
