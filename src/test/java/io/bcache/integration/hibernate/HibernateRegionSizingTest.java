package io.bcache.integration.hibernate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.bcache.config.BCacheSettings;
import io.bcache.jcache.BCacheConfiguration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import javax.cache.Cache;
import javax.cache.CacheManager;
import org.hibernate.SessionFactory;
import org.junit.jupiter.api.Test;

/**
 * Region sizing on nodes whose every cache is bounded to 2 entries ({@code bcache.maxEntries=2})
 * and whose regions carry a prefix ({@code hibernate.cache.region_prefix=shop}): entity regions
 * evict, the update-timestamps region keeps every table's timestamp, so a cached query still
 * notices a commit on a table whose timestamp a bounded region would have evicted since.
 */
class HibernateRegionSizingTest extends TwoHibernateNodes {

  private static final String PREFIX = "shop.";
  private static final String BOOK_REGION = PREFIX + Book.class.getName();
  private static final String TIMESTAMPS_REGION = PREFIX + "default-update-timestamps-region";
  private static final int SPACES = 30;

  @Override
  Map<String, String> bcacheProperties() {
    return Map.of("bcache.serialization.allow", HibernateCluster.ALLOW, "bcache.maxEntries", "2");
  }

  @Override
  Map<String, String> hibernateProperties() {
    return Map.of("hibernate.cache.region_prefix", "shop");
  }

  private static Set<Object> keys(Cache<Object, Object> cache) {
    Set<Object> keys = new HashSet<>();
    for (Cache.Entry<Object, Object> entry : cache) {
      keys.add(entry.getKey());
    }
    return keys;
  }

  private static List<String> titles(SessionFactory node) {
    return node.fromTransaction(s -> s.createQuery("select b.title from Book b order by b.id", String.class)
        .setCacheable(true).getResultList());
  }

  @Test
  void theTimestampsRegionKeepsEveryEntryWhileEntityRegionsEvict() {
    a.inTransaction(s -> {
      for (long id = 1; id <= 12; id++) {
        s.persist(new Book(id, "isbn-" + id, "t-" + id, Genre.NOVEL, null));
      }
    });
    a.inTransaction(s -> {
      for (long id = 1; id <= 12; id++) {
        s.find(Book.class, id);
      }
    });
    assertThat(a.getStatistics().getDomainDataRegionStatistics(Book.class.getName()).getPutCount()).isEqualTo(12);
    CacheManager managerA = cluster.managerA();
    CacheManager managerB = cluster.managerB();
    assertThat(keys(managerA.getCache(BOOK_REGION))).hasSize(2);
    @SuppressWarnings("unchecked")
    BCacheConfiguration<Object, Object> timestampsConfig =
        managerA.getCache(TIMESTAMPS_REGION).getConfiguration(BCacheConfiguration.class);
    assertThat(timestampsConfig.getMaxEntries()).isEqualTo(BCacheSettings.UNBOUNDED);

    // B caches a query over Book; then A commits a change to Book
    assertThat(titles(b)).startsWith("t-1", "t-2");
    a.inTransaction(s -> s.find(Book.class, 1L).setTitle("t-1, revised"));
    Cache<Object, Object> timestampsA = managerA.getCache(TIMESTAMPS_REGION);
    Cache<Object, Object> timestampsB = managerB.getCache(TIMESTAMPS_REGION);
    await().atMost(REPLICATION).until(() -> timestampsA.get("Book") != null
        && timestampsA.get("Book").equals(timestampsB.get("Book")));

    // then A writes 30 more tables (query spaces): a region bounded to 2 would drop Book's timestamp
    for (int i = 0; i < SPACES; i++) {
      String space = "space_" + i;
      a.inTransaction(s -> s.createNativeQuery("update Book set title = title where id < 0", Object.class)
          .addSynchronizedQuerySpace(space).executeUpdate());
    }
    Set<Object> expected = new HashSet<>(List.of("Book"));
    IntStream.range(0, SPACES).forEach(i -> expected.add("space_" + i));
    assertThat(keys(timestampsA)).isEqualTo(expected);
    await().atMost(REPLICATION).until(() -> keys(timestampsB).equals(expected));

    // B's cached result is older than Book's timestamp, which B still holds: B queries again
    b.getStatistics().clear();
    assertThat(titles(b)).startsWith("t-1, revised", "t-2");
    assertThat(b.getStatistics().getQueryCacheHitCount()).isZero();
    assertThat(b.getStatistics().getPrepareStatementCount()).isEqualTo(1);
    assertThat(keys(managerB.getCache(BOOK_REGION)).size()).isLessThanOrEqualTo(2);
  }
}
