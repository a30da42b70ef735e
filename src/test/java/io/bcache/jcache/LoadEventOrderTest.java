package io.bcache.jcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
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
import javax.cache.integration.CompletionListener;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A synchronous listener hears the events of loads in their keys' order: batches of loads
 * ({@code getAll}, {@code loadAll}) deliver theirs in turn, without holding up writers of their
 * keys while they wait for other threads' loads, and without waiting for their own thread.
 */
@Timeout(60)
class LoadEventOrderTest {

  static final List<String> HEARD = new CopyOnWriteArrayList<>();
  static volatile CountDownLatch releaseC = new CountDownLatch(0);
  static volatile CountDownLatch loadingC = new CountDownLatch(0);

  /** Records "created k=v" / "updated k=v"; if told to, puts b=x on hearing a created. */
  public static final class Rec implements CacheEntryCreatedListener<String, String>,
      CacheEntryUpdatedListener<String, String> {
    static volatile boolean rewriteB;

    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      for (CacheEntryEvent<? extends String, ? extends String> e : events) {
        HEARD.add("created " + e.getKey() + "=" + e.getValue());
        if (rewriteB && e.getKey().equals("a")) {
          @SuppressWarnings("unchecked")
          Cache<String, String> cache = (Cache<String, String>) e.getSource();
          cache.put("b", "x");
        }
      }
    }

    @Override
    public void onUpdated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      for (CacheEntryEvent<? extends String, ? extends String> e : events) {
        HEARD.add("updated " + e.getKey() + "=" + e.getValue());
      }
    }
  }

  /** Loads "l"+key, in the order asked for a,b first; "c" blocks until released. */
  public static class Loader implements CacheLoader<String, String> {
    @Override
    public String load(String key) {
      if (key.equals("c")) {
        loadingC.countDown();
        PublicApiTestSupport.awaitRelease(releaseC);
      }
      return "l" + key;
    }

    @Override
    public Map<String, String> loadAll(Iterable<? extends String> keys) {
      Map<String, String> all = new LinkedHashMap<>();
      for (String k : List.of("a", "b", "c")) {
        for (String asked : keys) {
          if (asked.equals(k)) {
            all.put(k, load(k));
          }
        }
      }
      return all;
    }
  }

  /** A loader whose {@code loadAll} result yields a=la, then fails (as one streaming its results). */
  public static final class StreamsAThenFails extends Loader {
    @Override
    public Map<String, String> loadAll(Iterable<? extends String> keys) {
      return new AbstractMap<>() {
        @Override
        public Set<Entry<String, String>> entrySet() {
          return new AbstractSet<>() {
            @Override
            public int size() {
              return 2;
            }

            @Override
            public Iterator<Entry<String, String>> iterator() {
              return new Iterator<>() {
                private boolean first = true;

                @Override
                public boolean hasNext() {
                  return true;
                }

                @Override
                public Entry<String, String> next() {
                  if (first) {
                    first = false;
                    return Map.entry("a", "la");
                  }
                  throw new IllegalStateException("the source failed after a");
                }
              };
            }
          };
        }
      };
    }
  }

  private CacheManager manager;

  @AfterEach
  void close() {
    releaseC.countDown();
    if (manager != null) {
      manager.close();
    }
    HEARD.clear();
    Rec.rewriteB = false;
  }

  private Cache<String, String> cache() {
    return cache(Loader.class);
  }

  private Cache<String, String> cache(Class<? extends Loader> loader) {
    manager = PublicApiTestSupport.newManager();
    Cache<String, String> cache = manager.createCache("c", new MutableConfiguration<String, String>()
        .setReadThrough(true).setCacheLoaderFactory(FactoryBuilder.factoryOf(loader)));
    cache.registerCacheEntryListener(new MutableCacheEntryListenerConfiguration<>(
        FactoryBuilder.factoryOf(Rec.class), null, true, true));
    return cache;
  }

  /** A listener rewriting b while it hears of a's load hears b's creation first. */
  @Test
  void aListenerRewritingAKeyOfTheSameGetAllHearsItsCreationFirst() {
    Rec.rewriteB = true;
    Cache<String, String> cache = cache();

    cache.getAll(Set.of("a", "b"));

    assertThat(cache.get("b")).isEqualTo("x");
    assertThat(HEARD.stream().filter(s -> s.contains(" b=")))
        .containsExactly("created b=lb", "updated b=x");
  }

  /** A completion listener writing a key loadAll loaded waits for no one: not ten seconds for its own thread. */
  @Test
  void aLoadAllCompletionListenerWritingALoadedKeyNeitherWaitsNorReorders() throws Exception {
    Cache<String, String> cache = cache();
    CompletableFuture<Long> done = new CompletableFuture<>();
    long start = System.nanoTime();
    cache.loadAll(Set.of("a"), false, new CompletionListener() {
      @Override
      public void onCompletion() {
        cache.put("a", "x");
        done.complete(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
      }

      @Override
      public void onException(Exception e) {
        done.completeExceptionally(e);
      }
    });
    long millis = done.get(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(30)).until(() -> HEARD.size() == 2);
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(millis).as("completion listener's put, ms").isLessThan(3_000);
    soft.assertThat(HEARD).containsExactly("created a=la", "updated a=x");
    soft.assertAll();
  }

  /** A getAll waiting for another thread's load of c has delivered a's load: a put of a does not wait for c. */
  @Test
  void aGetAllWaitingForAnotherThreadsLoadDoesNotHoldUpWritersOfTheKeysItLoaded() throws Exception {
    releaseC = new CountDownLatch(1);
    loadingC = new CountDownLatch(1);
    Cache<String, String> cache = cache();
    CompletableFuture<String> getC = CompletableFuture.supplyAsync(() -> cache.get("c"));
    assertThat(loadingC.await(10, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<Map<String, String>> getAll =
        CompletableFuture.supplyAsync(() -> cache.getAll(Set.of("a", "c")));
    await().atMost(Duration.ofSeconds(10)).until(() -> cache.containsKey("a"));

    long start = System.nanoTime();
    CompletableFuture<Void> put = CompletableFuture.runAsync(() -> cache.put("a", "x"));
    boolean quick;
    try {
      put.get(3, TimeUnit.SECONDS);
      quick = true;
    } catch (java.util.concurrent.TimeoutException e) {
      quick = false;
      put.get(30, TimeUnit.SECONDS);
    }
    releaseC.countDown();
    getC.get(30, TimeUnit.SECONDS);
    getAll.get(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(30)).until(() -> HEARD.size() == 3);
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(quick).as("put(a) done within 3 s while c loads; took ms "
        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isTrue();
    soft.assertThat(HEARD.stream().filter(s -> s.contains(" a=")))
        .containsExactly("created a=la", "updated a=x");
    soft.assertAll();
  }
  /** A loadAll that failed after storing a: a write of a from onException is heard after a's creation. */
  @Test
  void aWriteFromOnExceptionOfAFailedLoadAllIsHeardAfterWhatItStored() throws Exception {
    Cache<String, String> cache = cache(StreamsAThenFails.class);
    CompletableFuture<Void> done = new CompletableFuture<>();
    cache.loadAll(Set.of("a", "b"), false, new CompletionListener() {
      @Override
      public void onCompletion() {
        done.completeExceptionally(new AssertionError("the load did not fail"));
      }

      @Override
      public void onException(Exception e) {
        cache.put("a", "x"); // a fallback for what did load
        done.complete(null);
      }
    });
    done.get(30, TimeUnit.SECONDS);

    await().atMost(Duration.ofSeconds(30)).until(() -> HEARD.size() == 2);
    assertThat(cache.get("a")).isEqualTo("x");
    assertThat(HEARD).containsExactly("created a=la", "updated a=x");
  }
}
