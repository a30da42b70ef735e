package io.bcache.jcache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableCacheEntryListenerConfiguration;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEvent;
import javax.cache.event.CacheEntryUpdatedListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * In a store-by-value cache, the values listeners hear are the cache's own copies: not the
 * caller's object, which it may change after the put, nor the one an entry processor changed.
 */
class EventValuesTest {

  /** The events heard: the event's value and old value objects. */
  static final List<Object[]> HEARD = new CopyOnWriteArrayList<>();

  /** Records creations and updates (synchronous, so each is heard before its operation returns). */
  public static final class Records implements CacheEntryCreatedListener<String, ArrayList<String>>,
      CacheEntryUpdatedListener<String, ArrayList<String>> {
    @Override
    public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends ArrayList<String>>> events) {
      events.forEach(e -> HEARD.add(new Object[] {e.getValue(), null}));
    }

    @Override
    public void onUpdated(Iterable<CacheEntryEvent<? extends String, ? extends ArrayList<String>>> events) {
      events.forEach(e -> HEARD.add(new Object[] {e.getValue(), e.getOldValue()}));
    }
  }

  private CacheManager manager;
  private Cache<String, ArrayList<String>> cache;

  @BeforeEach
  void open() {
    HEARD.clear();
    manager = PublicApiTestSupport.newManager();
    MutableConfiguration<String, ArrayList<String>> byValue = new MutableConfiguration<String, ArrayList<String>>()
        .setStoreByValue(true)
        .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<>(
            FactoryBuilder.factoryOf(Records.class), null, true, true));
    cache = manager.createCache("c", byValue);
  }

  @AfterEach
  void close() {
    manager.close();
  }

  @Test
  void aListenerHearsTheCachesCopyNotTheCallersObject() {
    ArrayList<String> mine = new ArrayList<>(List.of("a"));
    cache.put("k", mine);

    Object heard = HEARD.get(0)[0];
    assertThat(heard).isEqualTo(List.of("a")).isNotSameAs(mine);
  }

  @Test
  void anUpdateByAProcessorCarriesTheOldValueTheCacheHeldNotTheOneTheProcessorChanged() {
    cache.put("k", new ArrayList<>(List.of("a")));

    cache.invoke("k", (entry, arguments) -> {
      ArrayList<String> before = entry.getValue();
      before.add("changed by the processor"); // its own copy
      entry.setValue(new ArrayList<>(List.of("b")));
      return null;
    });

    Object[] update = HEARD.get(1);
    assertThat(update[0]).isEqualTo(List.of("b"));
    assertThat(update[1]).isEqualTo(List.of("a"));
  }
}
