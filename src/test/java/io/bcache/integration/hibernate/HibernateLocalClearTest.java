package io.bcache.integration.hibernate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import javax.cache.Cache;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.Test;

/**
 * What happens when a node's region is cleared. Hibernate clears whole regions with
 * {@code Cache.clear()}, which bcache keeps local: after a bulk (HQL/JPQL or native) update, and
 * after {@code getCache().evictEntityData(Class)} or {@code evictAllRegions()}. Other nodes keep
 * their copies (a documented limit; the update timestamps still replicate, so cached queries are
 * safe). Per-key removals do replicate, also from a node that no longer holds the key: an update
 * on a node whose copy was cleared or evicted still invalidates the other nodes.
 *
 * <p>Its own pair of nodes, since it leaves their regions different on purpose.
 */
class HibernateLocalClearTest extends TwoHibernateNodes {

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

  /** Waits until B holds A's latest update timestamp for Book: B has then seen all A did before. */
  private void awaitBCaughtUpWithA() {
    Cache<Object, Object> timestampsA = cluster.managerA().getCache("default-update-timestamps-region");
    Cache<Object, Object> timestampsB = cluster.managerB().getCache("default-update-timestamps-region");
    eventually().until(() -> timestampsA.get("Book") != null && timestampsA.get("Book").equals(timestampsB.get("Book")));
  }

  @Test
  void aBulkUpdateClearsOnlyTheLocalRegionButEvictingTheEntityByIdReachesB() {
    cachedOnBothNodes(1L, "Before bulk");

    a.inTransaction(s -> assertThat(s.createMutationQuery("update Book b set b.title = :title where b.id = :id")
        .setParameter("title", "After bulk").setParameter("id", 1L).executeUpdate()).isEqualTo(1));
    assertThat(a.getCache().containsEntity(Book.class, 1L)).isFalse();
    awaitBCaughtUpWithA();
    b.getStatistics().clear();
    assertThat(titleOnB(1L)).isEqualTo("Before bulk");
    assertThat(b.getStatistics().getSecondLevelCacheHitCount()).isEqualTo(1);
    assertThat(b.getStatistics().getPrepareStatementCount()).isZero();

    // the remedy: evict the entities the bulk update changed, by id, on the node that ran it
    a.getCache().evictEntityData(Book.class, 1L);
    eventually().until(() -> "After bulk".equals(titleOnB(1L)));
  }

  @Test
  void anUpdateOnANodeThatLostItsCopyStillInvalidatesB() {
    cachedOnBothNodes(2L, "First");

    a.inTransaction(s -> {
      Book book = s.find(Book.class, 2L);
      // A loses its copy between load and update, as its LRU bound could make it: the whole
      // region is cleared, locally
      a.getCache().evictEntityData(Book.class);
      assertThat(a.getCache().containsEntity(Book.class, 2L)).isFalse();
      assertThat(b.getCache().containsEntity(Book.class, 2L)).isTrue();
      // NONSTRICT_READ_WRITE removes the key on update, though A does not hold it
      book.setTitle("Second");
    });
    eventually().until(() -> "Second".equals(titleOnB(2L)));
  }
}
