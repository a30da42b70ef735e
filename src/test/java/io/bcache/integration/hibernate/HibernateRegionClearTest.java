package io.bcache.integration.hibernate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.Test;

/**
 * Hibernate invalidates whole regions with {@code Cache.clear()}: after a bulk (HQL/JPQL or
 * native) update, and on {@code getCache().evictEntityData(Class)} or {@code evictAllRegions()}.
 * A clear replicates, so the other nodes drop their copies too and read the new state from the
 * database.
 *
 * <p>Its own pair of nodes, since it clears their regions.
 */
class HibernateRegionClearTest extends TwoHibernateNodes {

  private static ConditionFactory eventually() {
    return await().atMost(REPLICATION).pollInterval(Duration.ofMillis(10));
  }

  private void cachedOnBothNodes(long id, String title) {
    a.inTransaction(s -> s.persist(new Book(id, "isbn-" + id, title, Genre.NOVEL, null)));
    a.inTransaction(s -> s.find(Book.class, id));
    eventually().until(() -> b.getCache().containsEntity(Book.class, id));
  }

  private String titleOnB(long id) {
    return b.fromTransaction(s -> s.find(Book.class, id).getTitle());
  }

  @Test
  void aBulkUpdateOnANodeClearsTheRegionOnTheOthers() {
    cachedOnBothNodes(1L, "Before bulk");
    cachedOnBothNodes(2L, "Untouched");

    a.inTransaction(s -> assertThat(s.createMutationQuery("update Book b set b.title = :title where b.id = :id")
        .setParameter("title", "After bulk").setParameter("id", 1L).executeUpdate()).isEqualTo(1));
    assertThat(a.getCache().containsEntity(Book.class, 1L)).isFalse();
    eventually().until(() -> !b.getCache().containsEntity(Book.class, 1L)
        && !b.getCache().containsEntity(Book.class, 2L));
    b.getStatistics().clear();
    assertThat(titleOnB(1L)).isEqualTo("After bulk");
    assertThat(b.getStatistics().getSecondLevelCacheHitCount()).isZero();
    assertThat(b.getStatistics().getPrepareStatementCount()).isEqualTo(1);
  }

  @Test
  void evictingAnEntityClassOnANodeEvictsItEverywhereAndTheRegionFillsAgain() {
    cachedOnBothNodes(3L, "Cached");

    b.getCache().evictEntityData(Book.class);
    eventually().until(() -> !a.getCache().containsEntity(Book.class, 3L));
    assertThat(b.getCache().containsEntity(Book.class, 3L)).isFalse();

    // entries written after the clear replicate as before
    a.inTransaction(s -> s.find(Book.class, 3L));
    eventually().until(() -> b.getCache().containsEntity(Book.class, 3L));
    b.getStatistics().clear();
    assertThat(titleOnB(3L)).isEqualTo("Cached");
    assertThat(b.getStatistics().getSecondLevelCacheHitCount()).isEqualTo(1);
  }
}
