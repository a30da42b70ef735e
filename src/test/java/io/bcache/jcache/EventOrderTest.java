package io.bcache.jcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableCacheEntryListenerConfiguration;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEvent;
import javax.cache.event.CacheEntryListenerException;
import javax.cache.event.CacheEntryRemovedListener;
import javax.cache.event.CacheEntryUpdatedListener;
import javax.cache.integration.CacheLoader;
import javax.cache.integration.CompletionListenerFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Events of one key reach a listener in the order their operations took effect, however many
 * threads write the key at once; a synchronous listener runs on the thread of the operation it
 * hears about, which waits for the key's earlier deliveries.
 */
@Timeout(120)
class EventOrderTest {

  private static final int THREADS = 4;
  private static final int PUTS_PER_THREAD = 10_000;

  /** What each listener saw, by the listener's name: "value/old value" per event. */
  static final Map<String, List<String>> SEEN = new ConcurrentHashMap<>();
  /** Synchronous deliveries that ran on another thread than their operation's. */
  static final AtomicInteger ELSEWHERE = new AtomicInteger();

  /** Records every creation and update it is given, in the order it is given them. */
  public static class Recorder implements CacheEntryCreatedListener<String, String>,
      CacheEntryUpdatedListener<String, String> {

    private final List<String> seen;

    Recorder(String name) {
      seen = SEEN.computeIfAbsent(name, n -> new ArrayList<>());
    }

    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      record(events);
    }

    @Override
    public void onUpdated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      record(events);
    }

    private void record(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      for (CacheEntryEvent<? extends String, ? extends String> event : events) {
        if (this instanceof SyncRecorder
            && !event.getValue().startsWith(Thread.currentThread().getName() + "#")) {
          ELSEWHERE.incrementAndGet(); // a synchronous delivery off its writer's thread
        }
        synchronized (seen) { // synchronous deliveries run on the writers' threads
          seen.add(event.getValue() + "/" + (event.isOldValueAvailable() ? event.getOldValue() : null));
        }
      }
    }
  }

  /** The synchronous one. */
  public static final class SyncRecorder extends Recorder {
    public SyncRecorder() {
      super("sync");
    }
  }

  /** The asynchronous one. */
  public static final class AsyncRecorder extends Recorder {
    public AsyncRecorder() {
      super("async");
    }
  }

  private CacheManager manager;
  private final ExecutorService writers = Executors.newFixedThreadPool(THREADS);

  @AfterEach
  void close() throws InterruptedException {
    writers.shutdownNow();
    writers.awaitTermination(10, TimeUnit.SECONDS);
    if (manager != null) {
      manager.close();
    }
    SEEN.clear();
    ELSEWHERE.set(0);
  }

  @Test
  void everyListenerSeesTheWritesOfOneKeyInTheOrderTheyTookEffect() throws Exception {
    manager = PublicApiTestSupport.newManager();
    Cache<String, String> cache = manager.createCache("c", new MutableConfiguration<String, String>()
        .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
            FactoryBuilder.factoryOf(SyncRecorder.class), null, true, true))
        .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
            FactoryBuilder.factoryOf(AsyncRecorder.class), null, true, false)));

    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> done = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      done.add(writers.submit(() -> {
        String thread = Thread.currentThread().getName();
        start.await();
        for (int i = 0; i < PUTS_PER_THREAD; i++) {
          cache.put("k", thread + "#" + i);
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> writer : done) {
      writer.get(2, TimeUnit.MINUTES);
    }

    int puts = THREADS * PUTS_PER_THREAD;
    await().atMost(Duration.ofMinutes(1)).until(() -> sizeOf("async") == puts);
    assertThat(sizeOf("sync")).isEqualTo(puts);
    // both hear them in the order they took effect, the synchronous one on each writer's thread
    for (String listener : List.of("sync", "async")) {
      List<String> seen;
      synchronized (SEEN.get(listener)) {
        seen = List.copyOf(SEEN.get(listener));
      }
      assertThat(seen).as(listener).hasSize(puts);
      String previous = null;
      for (int i = 0; i < seen.size(); i++) {
        String[] event = seen.get(i).split("/");
        // each update replaced the value the event before it wrote
        assertThat(event[1]).as("%s listener, event %d of %d", listener, i, puts)
            .isEqualTo(String.valueOf(previous));
        previous = event[0];
      }
      assertThat(previous).as(listener).isEqualTo(cache.get("k"));
    }
    assertThat(ELSEWHERE).as("synchronous deliveries off their writer's thread").hasValue(0);
  }

  /** Holds its delivery of the key's creation until released; records what it hears. */
  public static final class SlowOnCreation extends Recorder {
    static volatile CountDownLatch creationHeard;
    static volatile CountDownLatch release;

    public SlowOnCreation() {
      super("slow");
    }

    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      creationHeard.countDown();
      PublicApiTestSupport.awaitRelease(release);
      super.onCreated(events);
    }
  }

  @Test
  void aWriterWaitsForASynchronousListenersEarlierDeliveryOfItsKey() throws Exception {
    SlowOnCreation.creationHeard = new CountDownLatch(1);
    SlowOnCreation.release = new CountDownLatch(1);
    manager = PublicApiTestSupport.newManager();
    Cache<String, String> cache = manager.createCache("c", new MutableConfiguration<String, String>()
        .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
            FactoryBuilder.factoryOf(SlowOnCreation.class), null, true, true)));

    Future<?> creates = writers.submit(() -> cache.put("k", "first"));
    assertThat(SlowOnCreation.creationHeard.await(1, TimeUnit.MINUTES)).isTrue();
    Thread[] updater = new Thread[1];
    Future<?> updates = writers.submit(() -> {
      updater[0] = Thread.currentThread();
      cache.put("k", "second");
      return null;
    });
    // the update took effect, and its writer waits for the creation's delivery to end
    await().atMost(Duration.ofMinutes(1)).until(() -> "second".equals(cache.get("k"))
        && updater[0] != null && updater[0].getState() == Thread.State.TIMED_WAITING);
    assertThat(updates).isNotDone();
    SlowOnCreation.release.countDown();
    creates.get(1, TimeUnit.MINUTES);
    updates.get(1, TimeUnit.MINUTES);

    assertThat(SEEN.get("slow")).containsExactly("first/null", "second/first");
  }

  /** Loads any key. */
  public static final class LoadsAnything implements CacheLoader<String, String> {
    @Override
    public String load(String key) {
      return "loaded";
    }

    @Override
    public Map<String, String> loadAll(Iterable<? extends String> keys) {
      Map<String, String> all = new HashMap<>();
      keys.forEach(key -> all.put(key, "loaded"));
      return all;
    }
  }

  /** Holds its delivery of a removal until released. */
  public static final class SlowOnRemoval implements CacheEntryRemovedListener<String, String> {
    static volatile CountDownLatch removalHeard;
    static volatile CountDownLatch release;

    @Override
    public void onRemoved(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      removalHeard.countDown();
      PublicApiTestSupport.awaitRelease(release);
    }
  }

  /** Records creations and removals. */
  public static final class RecordsCreationsAndRemovals extends Recorder
      implements CacheEntryRemovedListener<String, String> {
    public RecordsCreationsAndRemovals() {
      super("both");
    }

    @Override
    public void onRemoved(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      List<String> seen = SEEN.get("both");
      synchronized (seen) {
        events.forEach(event -> seen.add("removed " + event.getKey()));
      }
    }
  }

  @Test
  void aReadThroughLoadIsHeardAfterTheRemovalBeforeIt() throws Exception {
    assertALoadIsHeardAfterTheRemovalBeforeIt(cache -> cache.get("k"));
  }

  @Test
  void aGetAllsLoadIsHeardAfterTheRemovalBeforeIt() throws Exception {
    assertALoadIsHeardAfterTheRemovalBeforeIt(cache -> cache.getAll(Set.of("k")));
  }

  @Test
  void aLoadAllsLoadIsHeardAfterTheRemovalBeforeIt() throws Exception {
    assertALoadIsHeardAfterTheRemovalBeforeIt(cache -> {
      CompletionListenerFuture done = new CompletionListenerFuture();
      cache.loadAll(Set.of("k"), true, done);
      done.get(1, TimeUnit.MINUTES);
    });
  }

  /** One way of loading the key through the cache. */
  interface Load {
    void run(Cache<String, String> cache) throws Exception;
  }

  private void assertALoadIsHeardAfterTheRemovalBeforeIt(Load load) throws Exception {
    SlowOnRemoval.removalHeard = new CountDownLatch(1);
    SlowOnRemoval.release = new CountDownLatch(1);
    manager = PublicApiTestSupport.newManager();
    Cache<String, String> cache = manager.createCache("c", new MutableConfiguration<String, String>()
        .setReadThrough(true).setCacheLoaderFactory(FactoryBuilder.factoryOf(LoadsAnything.class)));
    cache.put("k", "v");
    // registered one by one: a configuration's listeners have no order
    cache.registerCacheEntryListener(new MutableCacheEntryListenerConfiguration<>(
        FactoryBuilder.factoryOf(SlowOnRemoval.class), null, false, true));
    cache.registerCacheEntryListener(new MutableCacheEntryListenerConfiguration<>(
        FactoryBuilder.factoryOf(RecordsCreationsAndRemovals.class), null, false, true));

    // the removal took effect; its delivery to the second listener waits behind the first's
    Future<Boolean> removes = writers.submit(() -> cache.remove("k"));
    assertThat(SlowOnRemoval.removalHeard.await(1, TimeUnit.MINUTES)).isTrue();
    Future<?> loads = writers.submit(() -> {
      load.run(cache);
      return null;
    });
    // the load stored its value; its creation is not heard before the removal is
    await().atMost(Duration.ofMinutes(1)).until(() -> cache.containsKey("k"));
    SlowOnRemoval.release.countDown();
    assertThat(removes.get(1, TimeUnit.MINUTES)).isTrue();
    loads.get(1, TimeUnit.MINUTES);

    await().atMost(Duration.ofMinutes(1)).until(() -> sizeOf("both") == 2);
    assertThat(SEEN.get("both")).containsExactly("removed k", "loaded/null");
  }

  /** On the creation of a key with "v1", puts "v2" into it: a listener rewriting what it hears. */
  public static final class RewritesV1 implements CacheEntryCreatedListener<String, String> {
    static final List<Throwable> NESTED_FAILURES = new CopyOnWriteArrayList<>();

    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      for (CacheEntryEvent<? extends String, ? extends String> event : events) {
        if (event.getValue().equals("v1")) {
          @SuppressWarnings("unchecked")
          Cache<String, String> cache = (Cache<String, String>) event.getSource();
          try {
            cache.put(event.getKey(), "v2");
          } catch (RuntimeException e) {
            NESTED_FAILURES.add(e);
          }
        }
      }
    }
  }

  /** Records what it hears, as "value/old value", and fails on the creation it is told to. */
  public static final class SecondRecorder extends Recorder {
    static volatile String failOnCreationOf;

    public SecondRecorder() {
      super("second");
    }

    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
      super.onCreated(events);
      if (events.iterator().next().getValue().equals(failOnCreationOf)) {
        throw new IllegalStateException("fails on " + failOnCreationOf);
      }
    }
  }

  private Cache<String, String> cacheWithARewritingAndARecordingListener() {
    manager = PublicApiTestSupport.newManager();
    Cache<String, String> cache = manager.createCache("c", new MutableConfiguration<String, String>());
    // registered one by one: a configuration's listeners have no order
    cache.registerCacheEntryListener(new MutableCacheEntryListenerConfiguration<>(
        FactoryBuilder.factoryOf(RewritesV1.class), null, false, true));
    cache.registerCacheEntryListener(new MutableCacheEntryListenerConfiguration<>(
        FactoryBuilder.factoryOf(SecondRecorder.class), null, true, true));
    return cache;
  }

  @Test
  void aListenerRewritingTheKeyItHearsOfLetsTheNextListenerHearTheFirstWriteFirst() {
    SecondRecorder.failOnCreationOf = null;
    Cache<String, String> cache = cacheWithARewritingAndARecordingListener();

    cache.put("k", "v1");

    assertThat(cache.get("k")).isEqualTo("v2");
    assertThat(SEEN.get("second")).containsExactly("v1/null", "v2/v1");
  }

  @Test
  void aListenerFailingOnAnEventAWriteOfAnotherListenerDeliveredFirstFailsTheWriteOfThatEvent() {
    SecondRecorder.failOnCreationOf = "v1";
    RewritesV1.NESTED_FAILURES.clear();
    Cache<String, String> cache = cacheWithARewritingAndARecordingListener();

    assertThatThrownBy(() -> cache.put("k", "v1")).isInstanceOf(CacheEntryListenerException.class)
        .hasMessageContaining("fails on v1");
    assertThat(RewritesV1.NESTED_FAILURES).as("the listener's own write").isEmpty();
    assertThat(SEEN.get("second")).containsExactly("v1/null", "v2/v1");
  }

  /** Quiet: registered asynchronous, then its configuration is made synchronous. */
  public static final class Quiet implements CacheEntryCreatedListener<String, String> {
    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
    }
  }

  @Test
  void aListenerConfigurationChangedAfterRegisteringChangesNothing() {
    manager = PublicApiTestSupport.newManager();
    Cache<String, String> cache = manager.createCache("c", new MutableConfiguration<String, String>()
        .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
            FactoryBuilder.factoryOf(AsyncRecorder.class), null, true, false)));
    MutableCacheEntryListenerConfiguration<String, String> changed =
        new MutableCacheEntryListenerConfiguration<>(FactoryBuilder.factoryOf(Quiet.class), null, false, false);
    cache.registerCacheEntryListener(changed);

    changed.setSynchronous(true);
    cache.put("a", "1");
    cache.put("b", "1");

    await().atMost(Duration.ofMinutes(1)).until(() -> SEEN.containsKey("async") && sizeOf("async") == 2);
  }

  private static int sizeOf(String listener) {
    List<String> seen = SEEN.get(listener);
    synchronized (seen) {
      return seen.size();
    }
  }
}
