package io.bcache.integration.hibernate;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.hibernate.SessionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A test class's pair of nodes: one ZooKeeper, SessionFactories {@link #a} and {@link #b}, each
 * on its own bcache node, started once for the class and closed after it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
abstract class TwoHibernateNodes {

  static final Duration REPLICATION = Duration.ofSeconds(20);

  HibernateCluster cluster;
  SessionFactory a;
  SessionFactory b;

  /** The bcache properties of both nodes: the recommended preset plus the test model's enum. */
  Map<String, String> bcacheProperties() {
    return Map.of("bcache.serialization.allow", HibernateCluster.ALLOW);
  }

  /** Hibernate properties beyond the ones every node has. */
  Map<String, String> hibernateProperties() {
    return Map.of();
  }

  @BeforeAll
  void startNodes(@TempDir Path dir) throws Exception {
    cluster = HibernateCluster.start(dir, bcacheProperties(), hibernateProperties());
    a = cluster.a;
    b = cluster.b;
  }

  @AfterAll
  void stopNodes() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }
}
