package io.bcache.integration.hibernate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bcache.jcache.BCacheConfiguration;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.UUID;
import javax.cache.CacheManager;
import org.hibernate.SessionFactory;
import org.hibernate.cache.jcache.internal.JCacheRegionFactory;
import org.hibernate.cfg.Configuration;
import org.hibernate.engine.spi.SessionFactoryImplementor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * How Hibernate 7.4 turns {@code hibernate.javax.cache.uri} into the CacheManager URI bcache
 * sees: a value that parses as a URL ({@code file:}, {@code jar:}) is used as it is; anything
 * else is looked up as a class path resource, after dropping a {@code classpath://} prefix or a
 * leading {@code /}; the provider then gets that resource's URL as a URI (a {@code file:} or
 * {@code jar:} URI, which bcache reads). {@code classpath:} with a single colon is no URL and no
 * resource name, so Hibernate refuses it. Standalone nodes (no ZooKeeper).
 */
@Timeout(60)
class HibernateCacheUriTest {

  private static final String RESOURCE = "hibernate-bcache-node.properties";

  @TempDir
  Path dir;

  private static SessionFactory sessionFactory(String cacheUri) {
    return HibernateCluster.jcacheConfiguration("jdbc:h2:mem:uri-" + UUID.randomUUID(), cacheUri, Country.class)
        .buildSessionFactory();
  }

  private static CacheManager managerOf(SessionFactory sessionFactory) {
    return ((JCacheRegionFactory) sessionFactory.unwrap(SessionFactoryImplementor.class).getCache()
        .getRegionFactory()).getCacheManager();
  }

  private static long countryBound(CacheManager manager) {
    return manager.getCache(Country.class.getName()).getConfiguration(BCacheConfiguration.class).getMaxEntries();
  }

  @ParameterizedTest
  @ValueSource(strings = {RESOURCE, "/" + RESOURCE, "classpath://" + RESOURCE})
  void aClassPathResourceNameBecomesTheResourcesUrl(String value) throws URISyntaxException {
    URI resource = HibernateCacheUriTest.class.getClassLoader().getResource(RESOURCE).toURI();
    try (SessionFactory sessionFactory = sessionFactory(value)) {
      CacheManager manager = managerOf(sessionFactory);
      assertThat(manager.getURI()).isEqualTo(resource).hasScheme("file");
      assertThat(countryBound(manager)).isEqualTo(1234);
    }
  }

  @Test
  void aFileUrlIsUsedAsItIs() throws IOException {
    Path file = dir.resolve("node.properties");
    Files.writeString(file, "bcache.maxEntries=4321\n");
    String value = "file:" + file.toAbsolutePath();
    try (SessionFactory sessionFactory = sessionFactory(value)) {
      CacheManager manager = managerOf(sessionFactory);
      assertThat(Paths.get(manager.getURI())).isEqualTo(file.toAbsolutePath());
      assertThat(manager.getURI()).isEqualTo(HibernateCluster.managerUri(value));
      assertThat(countryBound(manager)).isEqualTo(4321);
    }
  }

  @Test
  void classpathWithOneColonIsRefusedByHibernate() {
    assertThatThrownBy(() -> sessionFactory("classpath:" + RESOURCE).close())
        .hasStackTraceContaining("Couldn't load URI from classpath:" + RESOURCE);
  }
}
