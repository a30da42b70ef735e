package io.bcache.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.util.Properties;
import java.util.function.Consumer;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.spi.CachingProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What cannot travel between nodes never stops what can. A value larger than a change may carry
 * (8 MiB serialized), or a by-reference value that cannot be serialized, stays on the node that
 * wrote it and peers remove the key rather than keep serving the value it replaced; a key too
 * long to travel stays with its node; a cache name too long to travel is refused when the cache
 * is created. Writes before and after go on replicating, to running nodes and to a late joiner.
 */
@Timeout(120)
class UntravellableEntriesTest {

  private static final Duration CONVERGE = Duration.ofSeconds(30);
  private static final int TOO_LARGE = (8 << 20) + 1;

  private InJvmCluster cluster;

  @BeforeEach
  void startZooKeeper() throws Exception {
    cluster = InJvmCluster.start("untravellable");
  }

  @AfterEach
  void stopEverything() throws Exception {
    cluster.close();
  }

  private static <V> Cache<String, V> cache(CacheManager manager, boolean byValue) {
    return manager.createCache("c", new MutableConfiguration<String, V>().setStoreByValue(byValue));
  }

  @Test
  void aValueTooLargeStaysOnItsNodeAndPeersDropTheKey() {
    assertStaysHereAndPeersDropTheKey(true, new byte[TOO_LARGE],
        held -> assertThat((byte[]) held).hasSize(TOO_LARGE));
  }

  @Test
  void anUnserializableValueStaysOnItsNodeAndPeersDropTheKey() {
    Object local = new Object();
    assertStaysHereAndPeersDropTheKey(false, local, held -> assertThat(held).isSameAs(local));
  }

  @Test
  void aValueWhoseSerializationThrowsStaysOnItsNodeAndPeersDropTheKey() {
    Object local = new FailsToSerialize();
    assertStaysHereAndPeersDropTheKey(false, local, held -> assertThat(held).isSameAs(local));
  }

  /** Serializable, yet its writeObject throws, as a collection changed during it would. */
  static final class FailsToSerialize implements java.io.Serializable {
    private static final long serialVersionUID = 1L;

    private void writeObject(java.io.ObjectOutputStream out) {
      throw new java.util.ConcurrentModificationException("changed while it was written");
    }
  }

  /**
   * Node a writes {@code k} twice: a value that travels, then {@code untravellable}. a keeps the
   * second (as {@code isTheValue} checks), b drops the first, and later writes still travel.
   */
  private void assertStaysHereAndPeersDropTheKey(boolean byValue, Object untravellable, Consumer<Object> isTheValue) {
    Cache<String, Object> a = cache(cluster.node("a"), byValue);
    Cache<String, Object> b = cache(cluster.node("b"), byValue);
    a.put("k", "travels");
    await().atMost(CONVERGE).until(() -> "travels".equals(b.get("k")));

    a.put("k", untravellable);

    isTheValue.accept(a.get("k"));
    await().atMost(CONVERGE).until(() -> !b.containsKey("k"));
    assertLaterWritesStillTravel(a, b, byValue);
    isTheValue.accept(a.get("k"));
  }

  @Test
  void aKeyTooLongStaysOnItsNode() {
    Cache<String, Object> a = cache(cluster.node("a"), true);
    Cache<String, Object> b = cache(cluster.node("b"), true);
    String longKey = "k".repeat(70_000);

    a.put(longKey, "v");

    assertThat(a.get(longKey)).isEqualTo("v");
    assertLaterWritesStillTravel(a, b, true);
    assertThat(b.containsKey(longKey)).isFalse();
  }

  @Test
  void aCacheNameWithHalfASurrogatePairIsRefused() {
    CacheManager manager = cluster.node("a");
    Cache<String, Object> a = cache(manager, true);
    Cache<String, Object> b = cache(cluster.node("b"), true);
    // both would travel as "c?", and a peer would refuse every message naming the two
    String name = "c\uD800";

    assertThatThrownBy(() -> manager.createCache(name, new MutableConfiguration<>()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("surrogate");
    assertThat(manager.getCacheNames()).doesNotContain(name);
    manager.createCache("c\uD83D\uDE00", new MutableConfiguration<>()); // a whole pair is fine
    assertLaterWritesStillTravel(a, b, true);
  }

  @Test
  void aCacheNameTooLongToReplicateIsRefused() {
    CacheManager manager = cluster.node("a");
    Cache<String, Object> a = cache(manager, true);
    Cache<String, Object> b = cache(cluster.node("b"), true);
    String name = "n".repeat(2_000);

    assertThatThrownBy(() -> manager.createCache(name, new MutableConfiguration<>()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cache name of 2000 UTF-8 bytes");
    assertThat(manager.getCacheNames()).doesNotContain(name);
    assertLaterWritesStillTravel(a, b, true);

    // a standalone manager replicates nothing, so any name will do
    CachingProvider provider = Caching.getCachingProvider("bcache");
    try (CacheManager standalone = provider.getCacheManager(URI.create("standalone-long-name"),
        provider.getDefaultClassLoader(), new Properties())) {
      standalone.createCache(name, new MutableConfiguration<>()).put("k", "v");
      assertThat(standalone.getCache(name).get("k")).isEqualTo("v");
    }
  }

  /** Large values under the limit, then a small one, reach the peer and a node joining now. */
  private void assertLaterWritesStillTravel(Cache<String, Object> a, Cache<String, Object> b, boolean byValue) {
    for (int i = 0; i < 4; i++) {
      a.put("large-" + i, new byte[3 << 20]);
    }
    a.put("last", "written last");
    await().atMost(CONVERGE).until(() -> "written last".equals(b.get("last")));
    for (int i = 0; i < 4; i++) {
      assertThat((byte[]) b.get("large-" + i)).hasSize(3 << 20);
    }
    Cache<String, Object> late = cache(cluster.node("late"), byValue);
    await().atMost(CONVERGE).until(() -> "written last".equals(late.get("last")));
    assertThat(late.containsKey("k")).isFalse();
  }
}
