package io.bcache.example.hibernate;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.Properties;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.hibernate.SessionFactory;
import org.hibernate.cfg.Configuration;
import org.hibernate.stat.Statistics;

/**
 * bcache as Hibernate's second-level cache on two nodes, configured as docs/hibernate.md says.
 *
 * <p>An embedded ZooKeeper on 127.0.0.1 (membership only) and two SessionFactories, A and B, on
 * one in-memory H2 database: each is its own bcache node, named by its own
 * {@code hibernate.javax.cache.uri} properties file. A saves and loads a book; B reads it from its
 * second-level cache without SQL; A renames it; B then serves the new title, again from its
 * cache. Every wait is bounded; on any failure the demo says which step failed and exits with
 * code 1. Both nodes, ZooKeeper, the database and the temporary directory are closed or removed
 * on success and failure alike.
 */
public final class HibernateDemo {

    private static final Duration ZOOKEEPER_START = Duration.ofSeconds(30);
    private static final Duration REPLICATION = Duration.ofSeconds(20);
    private static final long POLL_MILLIS = 2;
    private static final String JDBC_URL = "jdbc:h2:mem:bcache-hibernate-demo;DB_CLOSE_DELAY=-1";
    private static final String ALLOW = "org.hibernate.cache.,"
            + "org.hibernate.query.internal.QueryParameterBindingsImpl$ParameterBindingsMementoImpl,"
            + "io.bcache.example.hibernate.";

    private final Path tempDir;
    private ServerCnxnFactory zookeeper;
    private String zookeeperConnect;
    private SessionFactory nodeA;
    private SessionFactory nodeB;

    private HibernateDemo(Path tempDir) {
        this.tempDir = tempDir;
    }

    public static void main(String[] args) throws Exception {
        // quiet by default: ZooKeeper logs every session at INFO, Hibernate its start-up
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        // Hibernate logs through jboss-logging, which would pick java.util.logging here
        System.setProperty("org.jboss.logging.provider", "slf4j");
        // the demo uses Hibernate's own connection pool, which warns that it is not for production
        System.setProperty("org.slf4j.simpleLogger.log.org.hibernate.orm.connections.pooling", "error");

        HibernateDemo demo = new HibernateDemo(Files.createTempDirectory("bcache-hibernate-demo-"));
        long start = System.nanoTime();
        String failure = null;
        try {
            demo.run();
        } catch (Exception | AssertionError e) {
            failure = e.toString();
        } finally {
            demo.shutdown();
        }
        if (failure != null) {
            System.out.println("FAILED: " + failure);
            System.exit(1);
        }
        System.out.println("done in " + millis(start) + " ms; no node, ZooKeeper, database or temp dir left behind.");
    }

    private void run() throws Exception {
        System.out.println("bcache as Hibernate's second-level cache: two nodes (two SessionFactories), one H2 database");

        heading("1. start ZooKeeper on 127.0.0.1 (it only tells the nodes where the others are)");
        startZooKeeper();
        System.out.println("ZooKeeper listening on " + zookeeperConnect);

        heading("2. start node A and node B, each with its own bcache properties file");
        String clusterName = "hibernate-demo-" + UUID.randomUUID().toString().substring(0, 8);
        String uriA = writeNodeFile("node-a", clusterName);
        String uriB = writeNodeFile("node-b", clusterName);
        nodeA = sessionFactory(uriA, "create");
        nodeB = sessionFactory(uriB, "none");
        System.out.println("node A: hibernate.javax.cache.uri=" + uriA);
        System.out.println("node B: hibernate.javax.cache.uri=" + uriB);

        heading("3. node A saves a book (READ_WRITE caches a new entity after the commit)");
        nodeA.getStatistics().clear();
        nodeA.inTransaction(s -> s.persist(new Book(1L, "Dune", Format.HARDCOVER)));
        Statistics a = nodeA.getStatistics();
        System.out.println("node A: " + a.getPrepareStatementCount() + " SQL statement(s), "
                + a.getSecondLevelCachePutCount() + " second-level cache put(s)");
        long waited = await("node B's region holds the book", () -> nodeB.getCache().containsEntity(Book.class, 1L));
        System.out.println("node B's region " + Book.class.getName() + " holds it after " + ms(waited));

        heading("4. node B loads the book");
        nodeB.getStatistics().clear();
        String title = nodeB.fromTransaction(s -> s.find(Book.class, 1L).getTitle());
        Statistics b = nodeB.getStatistics();
        System.out.println("node B read \"" + title + "\": " + b.getSecondLevelCacheHitCount()
                + " second-level cache hit(s), " + b.getPrepareStatementCount() + " SQL statement(s)");
        check(title.equals("Dune") && b.getSecondLevelCacheHitCount() == 1 && b.getPrepareStatementCount() == 0,
                "node B should read the book from its cache, without SQL");

        heading("5. node A renames the book (READ_WRITE: a soft lock at flush, the new state after the commit)");
        nodeA.inTransaction(s -> s.find(Book.class, 1L).setTitle("Dune Messiah"));
        System.out.println("node A committed \"Dune Messiah\"");
        waited = await("node B serves the new title from its cache", () -> {
            nodeB.getStatistics().clear();
            String seen = nodeB.fromTransaction(s -> s.find(Book.class, 1L).getTitle());
            return seen.equals("Dune Messiah") && nodeB.getStatistics().getPrepareStatementCount() == 0;
        });
        b = nodeB.getStatistics();
        System.out.println("node B read \"Dune Messiah\" after " + ms(waited) + ": "
                + b.getSecondLevelCacheHitCount() + " second-level cache hit(s), "
                + b.getPrepareStatementCount() + " SQL statement(s)");
    }

    private void startZooKeeper() throws Exception {
        long deadline = System.nanoTime() + ZOOKEEPER_START.toNanos();
        Path dir = Files.createDirectories(tempDir.resolve("zookeeper"));
        ZooKeeperServer server = new ZooKeeperServer(dir.toFile(), dir.toFile(), 2000);
        if (System.getProperty("zookeeper.maxCnxns") == null) {
            System.setProperty("zookeeper.maxCnxns", "100"); // unset, the server warns about it
        }
        // bound to the loopback address only, on a free port the OS picks
        ServerCnxnFactory factory = ServerCnxnFactory.createFactory(
                new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 100);
        zookeeper = factory;
        factory.startup(server);
        zookeeperConnect = "127.0.0.1:" + factory.getLocalPort();
        while (!server.isRunning()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("ZooKeeper did not start within " + ZOOKEEPER_START);
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    /** The node's bcache properties file (docs/hibernate.md, "bcache properties"); returns its file: URI. */
    private String writeNodeFile(String name, String clusterName) throws IOException {
        Properties properties = new Properties();
        properties.setProperty("bcache.zookeeper.connect", zookeeperConnect);
        properties.setProperty("bcache.cluster.name", clusterName);
        properties.setProperty("bcache.bind", "127.0.0.1:0");
        properties.setProperty("bcache.secret", "hibernate-demo-secret");
        properties.setProperty("bcache.serialization.allow", ALLOW);
        Path file = tempDir.resolve(name + ".properties");
        try (OutputStream out = Files.newOutputStream(file)) {
            properties.store(out, "bcache node " + name);
        }
        return "file:" + file.toAbsolutePath();
    }

    /** A SessionFactory with the Hibernate properties of docs/hibernate.md. */
    private static SessionFactory sessionFactory(String cacheUri, String schemaAction) {
        Configuration configuration = new Configuration().addAnnotatedClass(Book.class);
        configuration.setProperty("jakarta.persistence.jdbc.url", JDBC_URL);
        configuration.setProperty("jakarta.persistence.jdbc.user", "sa");
        configuration.setProperty("jakarta.persistence.jdbc.password", "");
        configuration.setProperty("jakarta.persistence.schema-generation.database.action", schemaAction);
        configuration.setProperty("hibernate.cache.use_second_level_cache", "true");
        configuration.setProperty("hibernate.cache.region.factory_class", "jcache");
        configuration.setProperty("hibernate.javax.cache.provider", "bcache");
        configuration.setProperty("hibernate.javax.cache.uri", cacheUri);
        configuration.setProperty("hibernate.javax.cache.missing_cache_strategy", "create");
        // only to count cache hits and SQL statements below
        configuration.setProperty("hibernate.generate_statistics", "true");
        return configuration.buildSessionFactory();
    }

    /** Polls {@code condition} until it holds; returns the microseconds it took. */
    private static long await(String what, BooleanSupplier condition) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + REPLICATION.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + REPLICATION + " waiting until " + what);
            }
            Thread.sleep(POLL_MILLIS);
        }
        return (System.nanoTime() - start) / 1_000;
    }

    private static void check(boolean condition, String expectation) {
        if (!condition) {
            throw new IllegalStateException(expectation);
        }
    }

    private void shutdown() {
        heading("6. close both nodes (each closes its bcache CacheManager), ZooKeeper, the database");
        for (SessionFactory node : new SessionFactory[] {nodeB, nodeA}) {
            try {
                if (node != null) {
                    node.close();
                }
            } catch (RuntimeException e) {
                System.out.println("closing a node failed: " + e);
            }
        }
        if (zookeeper != null) {
            zookeeper.shutdown(); // also shuts the server down
        }
        try (Connection connection = DriverManager.getConnection(JDBC_URL, "sa", "");
                Statement statement = connection.createStatement()) {
            statement.execute("SHUTDOWN");
        } catch (SQLException e) {
            System.out.println("shutting the database down failed: " + e);
        }
        try (Stream<Path> paths = Files.walk(tempDir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            System.out.println("could not delete " + tempDir + ": " + e);
        }
    }

    private static void heading(String text) {
        System.out.println();
        System.out.println(text);
    }

    private static String ms(long micros) {
        return String.format(java.util.Locale.ROOT, "%.3f ms", micros / 1000.0);
    }

    private static long millis(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
