package io.bcache.integration.hibernate;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.spi.CachingProvider;
import org.apache.curator.test.TestingServer;
import org.hibernate.SessionFactory;
import org.hibernate.cfg.Configuration;

/**
 * Two Hibernate SessionFactories, each its own bcache node, configured the way docs/hibernate.md
 * tells a user to: {@code hibernate.cache.region.factory_class=jcache},
 * {@code hibernate.javax.cache.provider=bcache} and {@code hibernate.javax.cache.uri} naming a
 * per-node bcache properties file ({@code file:}, written to a temporary directory because
 * ZooKeeper's port is only known at run time). The nodes meet through a real ZooKeeper on
 * 127.0.0.1 and share one in-memory H2 database.
 *
 * <p>{@link #close()} closes both SessionFactories (Hibernate closes each node's CacheManager),
 * ZooKeeper and the database, whatever failed before.
 */
final class HibernateCluster implements AutoCloseable {

  /** The allow-list preset docs/hibernate.md recommends for Hibernate 7. */
  static final String HIBERNATE_PRESET = "org.hibernate.cache.,"
      + "org.hibernate.query.internal.QueryParameterBindingsImpl$ParameterBindingsMementoImpl";
  /** The preset plus the one type of the test model Hibernate caches as it is: an enum. */
  static final String ALLOW = HIBERNATE_PRESET + "," + Genre.class.getName();
  static final Class<?>[] ENTITIES = {Country.class, Author.class, Book.class, Edition.class};

  final TestingServer zookeeper;
  final String clusterName = "hibernate-" + UUID.randomUUID().toString().substring(0, 8);
  final String jdbcUrl = "jdbc:h2:mem:" + clusterName + ";DB_CLOSE_DELAY=-1";
  final Path dir;
  SessionFactory a;
  SessionFactory b;
  /** The value of {@code hibernate.javax.cache.uri} for each node. */
  String uriA;
  String uriB;

  private HibernateCluster(Path dir, TestingServer zookeeper) {
    this.dir = dir;
    this.zookeeper = zookeeper;
  }

  /**
   * Starts ZooKeeper and the two nodes.
   *
   * @param bcache {@code bcache.*} settings written to both nodes' properties files, beyond the
   *     cluster's own (ZooKeeper, cluster name, bind address, secret)
   * @param hibernate Hibernate settings for both nodes, beyond the cache settings
   */
  static HibernateCluster start(Path dir, Map<String, String> bcache, Map<String, String> hibernate)
      throws Exception {
    HibernateCluster cluster = new HibernateCluster(dir, new TestingServer(0, true));
    try {
      cluster.uriA = cluster.writeNodeFile("node-a", bcache);
      cluster.uriB = cluster.writeNodeFile("node-b", bcache);
      // node A creates the schema; node B finds it there
      cluster.a = cluster.sessionFactory(cluster.uriA, "create", hibernate);
      cluster.b = cluster.sessionFactory(cluster.uriB, "none", hibernate);
      return cluster;
    } catch (Exception | Error e) {
      cluster.close();
      throw e;
    }
  }

  private String writeNodeFile(String name, Map<String, String> bcache) throws IOException {
    Properties properties = new Properties();
    properties.setProperty("bcache.zookeeper.connect", zookeeper.getConnectString());
    properties.setProperty("bcache.cluster.name", clusterName);
    properties.setProperty("bcache.bind", "127.0.0.1:0");
    properties.setProperty("bcache.secret", "hibernate-test-secret");
    properties.putAll(bcache);
    Path file = dir.resolve(name + ".properties");
    try (OutputStream out = Files.newOutputStream(file)) {
      properties.store(out, "bcache node " + name);
    }
    return "file:" + file.toAbsolutePath();
  }

  private SessionFactory sessionFactory(String cacheUri, String schemaAction, Map<String, String> hibernate) {
    Configuration configuration = jcacheConfiguration(jdbcUrl, cacheUri, ENTITIES);
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("jakarta.persistence.schema-generation.database.action", schemaAction);
    settings.put("hibernate.cache.use_second_level_cache", "true");
    settings.put("hibernate.cache.use_query_cache", "true");
    settings.put("hibernate.generate_statistics", "true");
    settings.putAll(hibernate);
    settings.forEach(configuration::setProperty);
    return configuration.buildSessionFactory();
  }

  /**
   * The settings docs/hibernate.md gives a user, for {@code entities} in the H2 database at
   * {@code jdbcUrl}: Hibernate's JCache region factory, the bcache provider, the node's
   * {@code hibernate.javax.cache.uri}, and caches created on first use.
   */
  static Configuration jcacheConfiguration(String jdbcUrl, String cacheUri, Class<?>... entities) {
    Configuration configuration = new Configuration();
    for (Class<?> entity : entities) {
      configuration.addAnnotatedClass(entity);
    }
    configuration.setProperty("jakarta.persistence.jdbc.url", jdbcUrl);
    configuration.setProperty("jakarta.persistence.jdbc.user", "sa");
    configuration.setProperty("jakarta.persistence.jdbc.password", "");
    configuration.setProperty("hibernate.cache.region.factory_class", "jcache");
    configuration.setProperty("hibernate.javax.cache.provider", "bcache");
    configuration.setProperty("hibernate.javax.cache.uri", cacheUri);
    configuration.setProperty("hibernate.javax.cache.missing_cache_strategy", "create");
    return configuration;
  }

  /**
   * The JCache URI Hibernate gives the provider for a {@code hibernate.javax.cache.uri} value:
   * it resolves the value to a URL (a URL as it is, else a class path resource) and passes
   * {@code url.toURI()}.
   */
  static URI managerUri(String hibernateCacheUri) {
    try {
      return new URL(hibernateCacheUri).toURI();
    } catch (IOException | URISyntaxException e) {
      throw new IllegalArgumentException(hibernateCacheUri, e);
    }
  }

  /** A node's CacheManager, looked up through the JCache API as any code could. */
  static CacheManager manager(String hibernateCacheUri) {
    CachingProvider provider = Caching.getCachingProvider("bcache");
    return provider.getCacheManager(managerUri(hibernateCacheUri), provider.getDefaultClassLoader());
  }

  CacheManager managerA() {
    return manager(uriA);
  }

  CacheManager managerB() {
    return manager(uriB);
  }

  @Override
  public void close() throws Exception {
    Exception failure = null;
    for (SessionFactory sessionFactory : new SessionFactory[] {b, a}) {
      try {
        if (sessionFactory != null) {
          sessionFactory.close();
        }
      } catch (RuntimeException e) {
        failure = e;
      }
    }
    a = null;
    b = null;
    try {
      zookeeper.close();
    } catch (IOException e) {
      failure = e;
    }
    try (Connection connection = DriverManager.getConnection(jdbcUrl, "sa", "");
        Statement statement = connection.createStatement()) {
      statement.execute("SHUTDOWN");
    } catch (SQLException e) {
      failure = e;
    }
    if (failure != null) {
      throw failure;
    }
  }
}
