package io.bcache.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.cache.Cache;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableCacheEntryListenerConfiguration;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEvent;
import javax.cache.event.CacheEntryRemovedListener;
import javax.cache.event.CacheEntryUpdatedListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The values of a peer's change that listeners hear are decoded only when a listener asks for
 * them, on the listener's thread: a store-by-value cache of mutable values otherwise decoded the
 * new and the old value of every change for its events on the thread that applies replication.
 */
@Timeout(120)
class RemoteEventValuesTest {

  private static final Duration CONVERGE = Duration.ofSeconds(30);

  /** A mutable value that counts how often it is deserialized, and on which threads. */
  public static final class Counted implements Serializable {
    private static final long serialVersionUID = 1L;
    static final AtomicInteger DECODED = new AtomicInteger();
    static final List<String> DECODED_ON = new CopyOnWriteArrayList<>();
    String text;

    Counted(String text) {
      this.text = text;
    }

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
      in.defaultReadObject();
      DECODED.incrementAndGet();
      DECODED_ON.add(Thread.currentThread().getName());
    }
  }

  /** What the listeners heard, as "type key[=value/old]". */
  static final List<String> HEARD = new CopyOnWriteArrayList<>();

  /** Hears creations, updates and removals, and reads keys only. */
  public static final class KeysOnly implements CacheEntryCreatedListener<String, Counted>,
      CacheEntryUpdatedListener<String, Counted>, CacheEntryRemovedListener<String, Counted> {
    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends Counted>> events) {
      events.forEach(e -> HEARD.add(e.getEventType() + " " + e.getKey()));
    }

    @Override
    public void onUpdated(Iterable<CacheEntryEvent<? extends String, ? extends Counted>> events) {
      events.forEach(e -> HEARD.add(e.getEventType() + " " + e.getKey()));
    }

    @Override
    public void onRemoved(Iterable<CacheEntryEvent<? extends String, ? extends Counted>> events) {
      events.forEach(e -> HEARD.add(e.getEventType() + " " + e.getKey()));
    }
  }

  /** Hears updates, and reads both values. */
  public static final class ReadsValues implements CacheEntryUpdatedListener<String, Counted> {
    @Override
    public void onUpdated(Iterable<CacheEntryEvent<? extends String, ? extends Counted>> events) {
      events.forEach(e -> HEARD.add(e.getEventType() + " " + e.getKey() + "=" + e.getValue().text + "/"
          + e.getOldValue().text + " on " + Thread.currentThread().getName()));
    }
  }

  private InJvmCluster cluster;
  private Cache<String, Counted> a;
  private Cache<String, Counted> b;

  @BeforeEach
  void startTwoNodes() throws Exception {
    HEARD.clear();
    cluster = InJvmCluster.start("remote-event-values");
    Properties allowCounted = new Properties();
    allowCounted.setProperty("bcache.serialization.allow", Counted.class.getName());
    MutableConfiguration<String, Counted> byValue =
        new MutableConfiguration<String, Counted>().setTypes(String.class, Counted.class);
    a = cluster.node("a", allowCounted).createCache("c", byValue);
    b = cluster.node("b", allowCounted).createCache("c", byValue);
    Counted.DECODED.set(0);
    Counted.DECODED_ON.clear();
  }

  @AfterEach
  void stopEverything() throws Exception {
    cluster.close();
  }

  @Test
  void aListenerThatReadsOnlyKeysCostsNoDecoding() {
    b.registerCacheEntryListener(new MutableCacheEntryListenerConfiguration<>(
        FactoryBuilder.factoryOf(KeysOnly.class), null, true, false));

    a.put("k", new Counted("1"));
    a.put("k", new Counted("2"));
    a.remove("k");

    await().atMost(CONVERGE).until(() -> HEARD.size() == 3);
    assertThat(HEARD).containsExactly("CREATED k", "UPDATED k", "REMOVED k");
    // the two values that arrived, each once, by the allow-list's check; nothing for the events
    assertThat(Counted.DECODED).hasValue(2);
  }

  @Test
  void aListenerThatReadsTheValuesDecodesThemOnItsOwnThread() {
    b.registerCacheEntryListener(new MutableCacheEntryListenerConfiguration<>(
        FactoryBuilder.factoryOf(ReadsValues.class), null, true, false));

    a.put("k", new Counted("1"));
    a.put("k", new Counted("2"));

    await().atMost(CONVERGE).until(() -> HEARD.size() == 1);
    String heard = HEARD.get(0);
    assertThat(heard).startsWith("UPDATED k=2/1 on ");
    String listenerThread = heard.substring(heard.indexOf(" on ") + 4);
    // the allow-list's two checks, then the listener's two values, decoded where it runs
    await().atMost(CONVERGE).until(() -> Counted.DECODED.get() == 4);
    assertThat(Counted.DECODED_ON.subList(2, 4)).containsOnly(listenerThread);
    assertThat(Counted.DECODED_ON.subList(0, 2)).doesNotContain(listenerThread);
  }
}
