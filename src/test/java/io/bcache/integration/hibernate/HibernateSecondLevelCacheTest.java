package io.bcache.integration.hibernate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.bcache.serialization.AllowListFilter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InvalidClassException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import javax.cache.Cache;
import javax.cache.CacheManager;
import org.awaitility.core.ConditionFactory;
import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.cache.jcache.internal.JCacheRegionFactory;
import org.hibernate.engine.spi.SessionFactoryImplementor;
import org.hibernate.stat.Statistics;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Hibernate's second-level cache on two bcache nodes: node A and node B are two SessionFactories
 * on one database, each with its own CacheManager, joined through ZooKeeper. Everything is
 * observed through Hibernate's {@link Statistics} (cache hits, misses, SQL statements prepared)
 * and, for the regions themselves, through the JCache API on the managers Hibernate uses.
 *
 * <p>Replication is asynchronous, so every "B sees A's change" waits (bounded) for the change to
 * arrive; if it never did, B would keep serving the old state and the wait would fail.
 */
class HibernateSecondLevelCacheTest extends TwoHibernateNodes {

  private static final String BOOKS_ROLE = Author.class.getName() + ".books";
  private static final String BOOK_NATURAL_ID_REGION = Book.class.getName() + "##NaturalId";
  private static final String QUERY_REGION = "default-query-results-region";
  private static final String TIMESTAMPS_REGION = "default-update-timestamps-region";

  private final AtomicLong ids = new AtomicLong(1_000);

  @BeforeEach
  void clearStatistics() {
    a.getStatistics().clear();
    b.getStatistics().clear();
  }

  private static ConditionFactory eventually() {
    return await().atMost(REPLICATION).pollInterval(Duration.ofMillis(10));
  }

  /** Runs {@code work} in a new session and transaction of B with B's statistics cleared first. */
  private Object measuredOnB(Function<Session, ?> work) {
    b.getStatistics().clear();
    return b.fromTransaction(work);
  }

  private static long hits(SessionFactory node, String region) {
    return node.getStatistics().getDomainDataRegionStatistics(region).getHitCount();
  }

  private static long misses(SessionFactory node, String region) {
    return node.getStatistics().getDomainDataRegionStatistics(region).getMissCount();
  }

  /** Loads the entity through A, then waits until B's region holds it. */
  private void loadOnAUntilCachedOnB(Class<?> type, Object id) {
    a.inTransaction(s -> assertThat(s.find(type, id)).isNotNull());
    eventually().until(() -> b.getCache().containsEntity(type, id));
  }

  @Test
  void hibernateUsesTheCacheManagerNamedByItsUri() {
    CacheManager managerA = ((JCacheRegionFactory) a.unwrap(SessionFactoryImplementor.class).getCache()
        .getRegionFactory()).getCacheManager();
    CacheManager managerB = ((JCacheRegionFactory) b.unwrap(SessionFactoryImplementor.class).getCache()
        .getRegionFactory()).getCacheManager();
    assertThat(managerA).isSameAs(cluster.managerA());
    assertThat(managerB).isSameAs(cluster.managerB()).isNotSameAs(managerA);
    assertThat(managerA.getURI()).hasScheme("file").isEqualTo(HibernateCluster.managerUri(cluster.uriA));
    assertThat(managerA.getCacheNames()).contains(Book.class.getName(), BOOKS_ROLE, BOOK_NATURAL_ID_REGION,
        QUERY_REGION, TIMESTAMPS_REGION);
  }

  @Test
  void anEntityLoadedThroughAIsASecondLevelCacheHitOnBWithNoSql() {
    long id = ids.incrementAndGet();
    String code = "C" + id;
    EditionId editionId = new EditionId("isbn-" + id, 1);
    a.inTransaction(s -> {
      Author author = new Author(id, "Hugo", new Address("Place des Vosges", "Paris"));
      s.persist(new Country(code, "France"));
      s.persist(author);
      s.persist(new Book(id, "isbn-" + id, "Notre-Dame de Paris", Genre.NOVEL, author));
      s.persist(new Edition(editionId, 500));
    });
    // start from nothing cached, so that A's loads (not its inserts) fill the regions
    a.getCache().evictEntityData(Country.class, code);
    a.getCache().evictEntityData(Author.class, id);
    a.getCache().evictEntityData(Book.class, id);
    a.getCache().evictEntityData(Edition.class, editionId);
    a.getStatistics().clear();

    a.inTransaction(s -> {
      s.find(Country.class, code);
      s.find(Author.class, id);
      s.find(Book.class, id);
      s.find(Edition.class, editionId);
    });
    assertThat(a.getStatistics().getSecondLevelCacheMissCount()).isEqualTo(4);
    assertThat(a.getStatistics().getSecondLevelCachePutCount()).isEqualTo(4);
    assertThat(a.getStatistics().getPrepareStatementCount()).isEqualTo(4);

    eventually().until(() -> b.getCache().containsEntity(Country.class, code)
        && b.getCache().containsEntity(Author.class, id)
        && b.getCache().containsEntity(Book.class, id)
        && b.getCache().containsEntity(Edition.class, editionId));

    List<?> loaded = (List<?>) measuredOnB(s -> List.of(s.find(Country.class, code), s.find(Author.class, id),
        s.find(Book.class, id), s.find(Edition.class, editionId)));
    Statistics onB = b.getStatistics();
    assertThat(onB.getPrepareStatementCount()).isZero();
    assertThat(onB.getSecondLevelCacheHitCount()).isEqualTo(4);
    assertThat(onB.getSecondLevelCacheMissCount()).isZero();
    for (Class<?> type : List.of(Country.class, Author.class, Book.class, Edition.class)) {
      assertThat(hits(b, type.getName())).as(type.getSimpleName()).isEqualTo(1);
    }
    assertThat(((Country) loaded.get(0)).getName()).isEqualTo("France");
    assertThat(((Author) loaded.get(1)).getAddress().getCity()).isEqualTo("Paris");
    assertThat(((Book) loaded.get(2)).getGenre()).isEqualTo(Genre.NOVEL);
    assertThat(((Edition) loaded.get(3)).getPrintRun()).isEqualTo(500);
  }

  @Test
  void readOnlyDeleteThroughAStopsBServingTheEntity() {
    String code = "D" + ids.incrementAndGet();
    a.inTransaction(s -> s.persist(new Country(code, "Atlantis")));
    loadOnAUntilCachedOnB(Country.class, code);
    assertThat(measuredOnB(s -> s.find(Country.class, code).getName())).isEqualTo("Atlantis");
    assertThat(hits(b, Country.class.getName())).isEqualTo(1);

    a.inTransaction(s -> s.remove(s.find(Country.class, code)));

    eventually().until(() -> b.fromTransaction(s -> s.find(Country.class, code)) == null);
    assertThat(b.getCache().containsEntity(Country.class, code)).isFalse();
  }

  @Test
  void nonstrictReadWriteUpdateThroughAReachesB() {
    long id = ids.incrementAndGet();
    a.inTransaction(s -> s.persist(new Book(id, "isbn-" + id, "First title", Genre.POETRY, null)));
    loadOnAUntilCachedOnB(Book.class, id);
    assertThat(measuredOnB(s -> s.find(Book.class, id).getTitle())).isEqualTo("First title");
    assertThat(hits(b, Book.class.getName())).isEqualTo(1);

    a.inTransaction(s -> s.find(Book.class, id).setTitle("Second title"));

    eventually().until(() -> "Second title".equals(b.fromTransaction(s -> s.find(Book.class, id).getTitle())));
    // and B keeps serving the new state from its cache
    assertThat(measuredOnB(s -> s.find(Book.class, id).getTitle())).isEqualTo("Second title");
    assertThat(b.getStatistics().getPrepareStatementCount()).isZero();
  }

  @Test
  void nonstrictReadWriteDeleteThroughAReachesB() {
    long id = ids.incrementAndGet();
    a.inTransaction(s -> s.persist(new Book(id, "isbn-" + id, "Doomed", Genre.POETRY, null)));
    loadOnAUntilCachedOnB(Book.class, id);
    assertThat(measuredOnB(s -> s.find(Book.class, id).getTitle())).isEqualTo("Doomed");
    assertThat(hits(b, Book.class.getName())).isEqualTo(1);

    a.inTransaction(s -> s.remove(s.find(Book.class, id)));

    eventually().until(() -> b.fromTransaction(s -> s.find(Book.class, id)) == null);
    assertThat(b.getCache().containsEntity(Book.class, id)).isFalse();
  }

  @Test
  void readWriteUpdateThroughAReachesBAsACacheHit() {
    long id = ids.incrementAndGet();
    EditionId editionId = new EditionId("isbn-" + id, 2);
    a.inTransaction(s -> {
      s.persist(new Author(id, "Old name", new Address("Rue", "Lyon")));
      s.persist(new Edition(editionId, 100));
    });
    loadOnAUntilCachedOnB(Author.class, id);
    loadOnAUntilCachedOnB(Edition.class, editionId);
    assertThat(measuredOnB(s -> s.find(Author.class, id).getName() + "/" + s.find(Edition.class, editionId)
        .getPrintRun())).isEqualTo("Old name/100");
    assertThat(hits(b, Author.class.getName())).isEqualTo(1);
    assertThat(hits(b, Edition.class.getName())).isEqualTo(1);

    a.inTransaction(s -> {
      s.find(Author.class, id).setName("New name");
      s.find(Edition.class, editionId).setPrintRun(200);
    });

    eventually().until(() -> "New name/200".equals(b.fromTransaction(
        s -> s.find(Author.class, id).getName() + "/" + s.find(Edition.class, editionId).getPrintRun())));
    // READ_WRITE puts the new state after the commit: B serves it from the cache, no SQL
    eventually().until(() -> {
      Object seen = measuredOnB(s -> s.find(Author.class, id).getName() + "/"
          + s.find(Edition.class, editionId).getPrintRun());
      return seen.equals("New name/200") && b.getStatistics().getPrepareStatementCount() == 0;
    });
    assertThat(hits(b, Author.class.getName())).isEqualTo(1);
    assertThat(hits(b, Edition.class.getName())).isEqualTo(1);
  }

  @Test
  void readWriteDeleteThroughAReachesB() {
    long id = ids.incrementAndGet();
    a.inTransaction(s -> s.persist(new Author(id, "Ephemeral", new Address("Rue", "Nantes"))));
    loadOnAUntilCachedOnB(Author.class, id);
    assertThat(measuredOnB(s -> s.find(Author.class, id).getName())).isEqualTo("Ephemeral");
    assertThat(hits(b, Author.class.getName())).isEqualTo(1);

    a.inTransaction(s -> s.remove(s.find(Author.class, id)));

    eventually().until(() -> b.fromTransaction(s -> s.find(Author.class, id)) == null);
  }

  @Test
  void aCollectionCachedThroughAIsAHitOnBAndFollowsAsChanges() {
    long id = ids.incrementAndGet();
    List<Long> bookIds = List.of(ids.incrementAndGet(), ids.incrementAndGet(), ids.incrementAndGet());
    a.inTransaction(s -> {
      Author author = new Author(id, "Prolific", new Address("Rue", "Lille"));
      s.persist(author);
      for (long bookId : bookIds) {
        Book book = new Book(bookId, "isbn-" + bookId, "Volume " + bookId, Genre.ESSAY, author);
        s.persist(book);
        author.getBooks().add(book);
      }
    });
    a.inTransaction(s -> assertThat(s.find(Author.class, id).getBooks()).hasSize(3));
    eventually().until(() -> b.getCache().containsCollection(BOOKS_ROLE, id)
        && bookIds.stream().allMatch(bookId -> b.getCache().containsEntity(Book.class, bookId)));

    assertThat(measuredOnB(s -> s.find(Author.class, id).getBooks().size())).isEqualTo(3);
    assertThat(b.getStatistics().getPrepareStatementCount()).isZero();
    assertThat(hits(b, BOOKS_ROLE)).isEqualTo(1);
    assertThat(b.getStatistics().getCollectionStatistics(BOOKS_ROLE).getCacheHitCount()).isEqualTo(1);

    long added = ids.incrementAndGet();
    a.inTransaction(s -> {
      Author author = s.find(Author.class, id);
      Book book = new Book(added, "isbn-" + added, "Volume " + added, Genre.ESSAY, author);
      s.persist(book);
      author.getBooks().add(book);
    });
    eventually().until(() -> b.fromTransaction(s -> s.find(Author.class, id).getBooks().size()) == 4);

    a.inTransaction(s -> {
      Author author = s.find(Author.class, id);
      Book first = s.find(Book.class, bookIds.get(0));
      author.getBooks().remove(first);
      s.remove(first);
    });
    eventually().until(() -> b.fromTransaction(s -> s.find(Author.class, id).getBooks().size()) == 3);
    List<Long> onB = b.fromTransaction(s -> s.find(Author.class, id).getBooks().stream().map(Book::getId).toList());
    assertThat(onB).containsExactlyInAnyOrder(bookIds.get(1), bookIds.get(2), added);
  }

  @Test
  void aNaturalIdResolvedThroughAIsAHitOnBAndGoesWithADelete() {
    long id = ids.incrementAndGet();
    String isbn = "nat-" + id;
    a.inTransaction(s -> s.persist(new Book(id, isbn, "By isbn", Genre.NOVEL, null)));
    a.inTransaction(s -> assertThat(s.bySimpleNaturalId(Book.class).load(isbn)).isNotNull());
    Object naturalIdKey = keyWhoseTextContains(cluster.managerA(), BOOK_NATURAL_ID_REGION, isbn);
    eventually().until(() -> cluster.managerB().getCache(BOOK_NATURAL_ID_REGION).containsKey(naturalIdKey)
        && b.getCache().containsEntity(Book.class, id));

    assertThat(measuredOnB(s -> s.bySimpleNaturalId(Book.class).load(isbn).getTitle())).isEqualTo("By isbn");
    assertThat(b.getStatistics().getPrepareStatementCount()).isZero();
    assertThat(b.getStatistics().getNaturalIdCacheHitCount()).isEqualTo(1);
    assertThat(b.getStatistics().getNaturalIdCacheMissCount()).isZero();

    a.inTransaction(s -> s.remove(s.find(Book.class, id)));

    eventually().until(() -> b.fromTransaction(s -> s.bySimpleNaturalId(Book.class).load(isbn)) == null);
    assertThat(cluster.managerB().getCache(BOOK_NATURAL_ID_REGION).containsKey(naturalIdKey)).isFalse();
  }

  private List<String> titlesStartingWith(SessionFactory node, String prefix) {
    return node.fromTransaction(s -> s.createQuery(
            "select b from Book b where b.title like :prefix order by b.id", Book.class)
        .setParameter("prefix", prefix + "%")
        .setCacheable(true)
        .getResultList().stream().map(Book::getTitle).toList());
  }

  @Test
  void aCachedQueryOnBStopsReturningRowsACommitOnAMadeStale() {
    String prefix = "q" + ids.incrementAndGet() + "-";
    long first = ids.incrementAndGet();
    long second = ids.incrementAndGet();
    a.inTransaction(s -> {
      s.persist(new Book(first, "isbn-" + first, prefix + "one", Genre.ESSAY, null));
      s.persist(new Book(second, "isbn-" + second, prefix + "two", Genre.ESSAY, null));
    });
    assertThat(titlesStartingWith(a, prefix)).containsExactly(prefix + "one", prefix + "two");
    assertThat(a.getStatistics().getQueryCachePutCount()).isEqualTo(1);
    Cache<Object, Object> queriesA = cluster.managerA().getCache(QUERY_REGION);
    Cache<Object, Object> queriesB = cluster.managerB().getCache(QUERY_REGION);
    eventually().until(() -> keys(queriesB).containsAll(keys(queriesA)));

    // B answers from the result A cached: no SQL
    b.getStatistics().clear();
    assertThat(titlesStartingWith(b, prefix)).containsExactly(prefix + "one", prefix + "two");
    assertThat(b.getStatistics().getQueryCacheHitCount()).isEqualTo(1);
    assertThat(b.getStatistics().getQueryCacheMissCount()).isZero();
    assertThat(b.getStatistics().getPrepareStatementCount()).isZero();

    // A commits a change to the table: once its update timestamp reaches B, B's cached result is stale
    long third = ids.incrementAndGet();
    a.inTransaction(s -> {
      s.find(Book.class, first).setTitle(prefix + "one, revised");
      s.remove(s.find(Book.class, second));
      s.persist(new Book(third, "isbn-" + third, prefix + "three", Genre.ESSAY, null));
    });
    List<String> expected = List.of(prefix + "one, revised", prefix + "three");
    eventually().until(() -> titlesStartingWith(b, prefix).equals(expected));
    Cache<Object, Object> timestampsA = cluster.managerA().getCache(TIMESTAMPS_REGION);
    Cache<Object, Object> timestampsB = cluster.managerB().getCache(TIMESTAMPS_REGION);
    eventually().until(() -> timestampsA.get("Book") != null && timestampsA.get("Book").equals(timestampsB.get("Book")));

    // B cached its new result and serves it again; so does A, after its own invalidation
    b.getStatistics().clear();
    assertThat(titlesStartingWith(b, prefix)).isEqualTo(expected);
    assertThat(b.getStatistics().getQueryCacheHitCount()).isEqualTo(1);
    assertThat(titlesStartingWith(a, prefix)).isEqualTo(expected);
  }

  /**
   * After one of everything (entity loads and updates of each strategy, a READ_WRITE delete that
   * leaves a soft lock, a collection, a natural id, queries with String, enum and no
   * parameters), every region of B holds exactly A's keys with A's values: nothing Hibernate stored
   * was refused by the allow-list. And every class in those keys and values passes the preset.
   */
  @Test
  void everyRegionOnBHoldsTheSameEntriesAsOnA() {
    long id = ids.incrementAndGet();
    EditionId editionId = new EditionId("all-" + id, 1);
    long doomed = ids.incrementAndGet();
    a.inTransaction(s -> {
      Author author = new Author(id, "Everyone", new Address("Rue", "Brest"));
      s.persist(author);
      Book book = new Book(id, "all-" + id, "All", Genre.POETRY, author);
      s.persist(book);
      author.getBooks().add(book);
      s.persist(new Country("A" + id, "Andorra"));
      s.persist(new Edition(editionId, 10));
      s.persist(new Author(doomed, "Doomed", new Address("Rue", "Brest")));
    });
    a.inTransaction(s -> {
      s.find(Country.class, "A" + id);
      s.find(Author.class, id).getBooks().size();
      s.bySimpleNaturalId(Book.class).load("all-" + id);
      s.find(Edition.class, editionId).setPrintRun(11);
      s.find(Author.class, doomed);
    });
    a.inTransaction(s -> s.remove(s.find(Author.class, doomed)));
    a.inTransaction(s -> {
      s.createQuery("select b from Book b where b.genre = :genre", Book.class)
          .setParameter("genre", Genre.POETRY).setCacheable(true).getResultList();
      s.createQuery("select b.title from Book b where b.id = :id", String.class)
          .setParameter("id", id).setCacheable(true).getResultList();
      s.createQuery("select count(b) from Book b", Long.class).setCacheable(true).getSingleResult();
    });

    CacheManager managerA = cluster.managerA();
    CacheManager managerB = cluster.managerB();
    List<String> regions = new ArrayList<>();
    managerA.getCacheNames().forEach(regions::add);
    assertThat(regions).contains(Country.class.getName(), Author.class.getName(), Book.class.getName(),
        Edition.class.getName(), BOOKS_ROLE, BOOK_NATURAL_ID_REGION, QUERY_REGION, TIMESTAMPS_REGION);
    for (String region : regions) {
      assertThat(entries(managerA.getCache(region))).as(region).isNotEmpty();
    }
    eventually().untilAsserted(() -> {
      for (String region : regions) {
        assertThat(entries(managerB.getCache(region))).as(region).isEqualTo(entries(managerA.getCache(region)));
      }
    });

    // what Hibernate stores: every class passes the allow-list the nodes run with
    AllowListFilter filter = new AllowListFilter(Arrays.asList(HibernateCluster.ALLOW.split(",")), Long.MAX_VALUE);
    Set<String> classes = new TreeSet<>();
    for (String region : regions) {
      for (Cache.Entry<Object, Object> entry : managerA.getCache(region)) {
        classes.addAll(classesIn(entry.getKey(), filter));
        classes.addAll(classesIn(entry.getValue(), filter));
      }
    }
    assertThat(classes).contains(
        "org.hibernate.cache.internal.BasicCacheKeyImplementation",
        "org.hibernate.cache.internal.CacheKeyImplementation",
        "org.hibernate.cache.internal.NaturalIdCacheKey",
        "org.hibernate.cache.spi.QueryKey",
        "org.hibernate.query.internal.QueryParameterBindingsImpl$ParameterBindingsMementoImpl",
        "org.hibernate.cache.spi.entry.StandardCacheEntryImpl",
        "org.hibernate.cache.spi.entry.CollectionCacheEntry",
        "org.hibernate.cache.spi.support.AbstractReadWriteAccess$Item",
        "org.hibernate.cache.spi.support.AbstractReadWriteAccess$SoftLockImpl",
        "org.hibernate.cache.internal.QueryResultsCacheImpl$CacheItem",
        Genre.class.getName());
    assertThat(classes).allMatch(filter::isAllowed);
  }

  private static Object keyWhoseTextContains(CacheManager manager, String region, String text) {
    for (Cache.Entry<Object, Object> entry : manager.getCache(region)) {
      if (entry.getKey().toString().contains(text)) {
        return entry.getKey();
      }
    }
    throw new AssertionError("no key mentioning " + text + " in " + region);
  }

  private static Set<Object> keys(Cache<Object, Object> cache) {
    Set<Object> keys = new java.util.HashSet<>();
    for (Cache.Entry<Object, Object> entry : cache) {
      keys.add(entry.getKey());
    }
    return keys;
  }

  /** The region's entries, values as their serialized bytes (Hibernate's entries have no equals). */
  private static Map<Object, List<Byte>> entries(Cache<Object, Object> cache) {
    Map<Object, List<Byte>> entries = new HashMap<>();
    for (Cache.Entry<Object, Object> entry : cache) {
      byte[] bytes = serialize(entry.getValue());
      List<Byte> boxed = new ArrayList<>(bytes.length);
      for (byte x : bytes) {
        boxed.add(x);
      }
      entries.put(entry.getKey(), boxed);
    }
    return entries;
  }

  private static byte[] serialize(Object value) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * Every class Java serialization meets reading {@code value} back through {@code filter} (arrays
   * by their component type); fails naming any class the filter refuses.
   */
  private static Set<String> classesIn(Object value, AllowListFilter filter) {
    Set<String> seen = new TreeSet<>();
    Set<String> refused = new TreeSet<>();
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(serialize(value)))) {
      in.setObjectInputFilter(info -> {
        ObjectInputFilter.Status status = filter.checkInput(info);
        Class<?> type = info.serialClass();
        while (type != null && type.isArray()) {
          type = type.getComponentType();
        }
        if (type != null && !type.isPrimitive()) {
          seen.add(type.getName());
          if (status == ObjectInputFilter.Status.REJECTED) {
            refused.add(type.getName());
          }
        }
        return status;
      });
      in.readObject();
    } catch (InvalidClassException e) {
      // the filter said no: reported below with the class it refused
    } catch (IOException | ClassNotFoundException e) {
      throw new IllegalStateException(e);
    }
    assertThat(refused).as("classes the allow-list refuses in " + value).isEmpty();
    return seen;
  }
}
