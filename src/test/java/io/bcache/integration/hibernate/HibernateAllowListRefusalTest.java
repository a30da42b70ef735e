package io.bcache.integration.hibernate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import javax.cache.Cache;
import javax.cache.configuration.MutableConfiguration;
import org.hibernate.stat.Statistics;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The same two nodes as {@link HibernateSecondLevelCacheTest}, but without
 * {@code bcache.serialization.allow}: every change whose key or value holds one of Hibernate's
 * classes is refused by the receiving node. Not only does B get none of A's entries, B also misses
 * A's invalidations and keeps serving what A changed. Only the update-timestamps region (String
 * keys, Long values) still replicates.
 *
 * <p>To tell "refused" from "not arrived yet", A writes a marker to a plain JCache cache after its
 * Hibernate work; a node applies one origin's changes in order, so once B holds the marker it has
 * processed everything A did before it.
 */
class HibernateAllowListRefusalTest extends TwoHibernateNodes {

  private Cache<String, String> markerA;
  private Cache<String, String> markerB;

  /** No allow-list at all: only JDK value types pass. */
  @Override
  Map<String, String> bcacheProperties() {
    return Map.of();
  }

  @BeforeAll
  void createMarkers() {
    markerA = cluster.managerA().createCache("test-marker", new MutableConfiguration<>());
    markerB = cluster.managerB().createCache("test-marker", new MutableConfiguration<>());
  }

  /** Waits until B has processed every change A made so far. */
  private void awaitBCaughtUpWithA() {
    String marker = UUID.randomUUID().toString();
    markerA.put("marker", marker);
    await().atMost(REPLICATION).pollInterval(Duration.ofMillis(10)).until(() -> marker.equals(markerB.get("marker")));
  }

  @Test
  void withoutThePresetBGetsNoneOfAsEntriesAndMissesAsInvalidations() {
    a.inTransaction(s -> {
      s.persist(new Country("FR", "France"));
      s.persist(new Book(1L, "isbn-1", "Original title", Genre.NOVEL, null));
    });
    // B caches the book itself, then A loads both (A's own puts)
    b.inTransaction(s -> s.find(Book.class, 1L));
    a.inTransaction(s -> {
      s.find(Country.class, "FR");
      s.find(Book.class, 1L);
    });
    assertThat(a.getCache().containsEntity(Country.class, "FR")).isTrue();

    // A changes the book: its invalidation of the cached copy is refused on B too
    a.inTransaction(s -> s.find(Book.class, 1L).setTitle("New title"));
    awaitBCaughtUpWithA();

    // refused: A's cached country never reached B
    assertThat(b.getCache().containsEntity(Country.class, "FR")).isFalse();
    b.getStatistics().clear();
    String country = b.fromTransaction(s -> s.find(Country.class, "FR").getName());
    assertThat(country).isEqualTo("France");
    Statistics onB = b.getStatistics();
    assertThat(onB.getSecondLevelCacheMissCount()).isEqualTo(1);
    assertThat(onB.getPrepareStatementCount()).isEqualTo(1);

    // stale: B still serves the title A replaced, from its own cache, without asking the database
    b.getStatistics().clear();
    String title = b.fromTransaction(s -> s.find(Book.class, 1L).getTitle());
    assertThat(title).isEqualTo("Original title");
    assertThat(b.getStatistics().getSecondLevelCacheHitCount()).isEqualTo(1);
    assertThat(b.getStatistics().getPrepareStatementCount()).isZero();

    // what still replicates: the update timestamps (String keys, Long values need no allow-list)
    Cache<Object, Object> timestampsA = cluster.managerA().getCache("default-update-timestamps-region");
    Cache<Object, Object> timestampsB = cluster.managerB().getCache("default-update-timestamps-region");
    assertThat(timestampsA.get("Book")).isNotNull().isEqualTo(timestampsB.get("Book"));
  }
}
