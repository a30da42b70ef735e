package io.bcache.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.bcache.jcache.management.ClusterMXBean;
import io.bcache.transport.TestKeyStores;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.MutableConfiguration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A cluster configured with {@code bcache.tls.*} only: its nodes replicate over mutual TLS, a
 * node whose certificate the cluster does not trust gets no data in or out, and a store that
 * cannot be read fails the cache manager with a message naming it.
 */
@Timeout(120)
class TlsClusterTest {

  private static final Duration CONVERGE = Duration.ofSeconds(30);

  private final TestKeyStores stores = TestKeyStores.get();
  private InJvmCluster cluster;

  @BeforeEach
  void startZooKeeper() throws Exception {
    cluster = InJvmCluster.start("tls");
  }

  @AfterEach
  void stopEverything() throws Exception {
    cluster.close();
  }

  private static Properties tls(Path keyStore) {
    Properties properties = new Properties();
    properties.setProperty("bcache.tls.keyStore", keyStore.toString());
    properties.setProperty("bcache.tls.keyStorePassword", TestKeyStores.PASSWORD);
    return properties;
  }

  private static Cache<String, String> cache(CacheManager manager) {
    return manager.createCache("tls", new MutableConfiguration<String, String>().setTypes(String.class, String.class));
  }

  @Test
  void nodesReplicateOverTlsAndAnUntrustedNodeGetsNothing() throws Exception {
    Cache<String, String> a = cache(cluster.node("a", tls(stores.cluster())));
    Cache<String, String> b = cache(cluster.node("b", tls(stores.cluster())));
    Properties rogueStores = tls(stores.rogue());
    rogueStores.setProperty("bcache.tls.trustStore", stores.clusterTrust().toString());
    CacheManager rogueManager = cluster.node("rogue", rogueStores);
    Cache<String, String> rogue = cache(rogueManager);

    a.put("from-a", "1");
    rogue.put("from-rogue", "2");
    b.put("from-b", "3");

    await().atMost(CONVERGE).until(() -> "1".equals(b.get("from-a")) && "3".equals(a.get("from-b")));
    // both good nodes turned the rogue away, which is connected to no one
    ClusterMXBean rogueBean = InJvmCluster.clusterBean(rogueManager);
    for (Cache<String, String> good : List.of(a, b)) {
      ClusterMXBean bean = InJvmCluster.clusterBean(good.getCacheManager());
      await().atMost(CONVERGE).until(() -> bean.getRejectedConnections() >= 1);
      assertThat(bean.getConnectedPeerCount()).isEqualTo(1);
    }
    assertThat(rogueBean.getConnectedPeerCount()).isZero();
    assertThat(a.get("from-rogue")).isNull();
    assertThat(b.get("from-rogue")).isNull();
    assertThat(rogue.get("from-a")).isNull();
    assertThat(rogue.get("from-b")).isNull();
  }

  /**
   * A late joiner's catch-up over TLS: frames of a quarter megabyte that span many TLS records
   * and socket reads, decoded in place from the receive buffer, arrive whole.
   */
  @Test
  void aLateJoinerGetsEveryEntryIntactOverTls() throws Exception {
    Properties properties = tls(stores.cluster());
    properties.setProperty("bcache.maxEntries", "50000");
    Cache<String, String> a = cache(cluster.node("a", properties));
    int entries = 20_000;
    for (int i = 0; i < entries; i++) {
      a.put("k" + i, value(i));
    }

    Cache<String, String> b = cache(cluster.node("b", properties));

    await().atMost(CONVERGE).until(() -> {
      int held = 0;
      for (Cache.Entry<String, String> ignored : b) {
        held++;
      }
      return held == entries;
    });
    for (int i = 0; i < entries; i++) {
      assertThat(b.get("k" + i)).as("k%d", i).isEqualTo(value(i));
    }
  }

  /** About a kilobyte, different for every key, so a misplaced byte shows. */
  private static String value(int i) {
    return (i + "-").repeat(1_000 / (String.valueOf(i).length() + 1));
  }

  @Test
  void aKeyStoreThatCannotBeReadFailsTheManager() {
    Path missing = stores.cluster().resolveSibling("no-such-store.p12");
    assertThatThrownBy(() -> cluster.node("missing", tls(missing)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bcache.tls").hasMessageContaining("no-such-store.p12");

    Properties wrongPassword = tls(stores.cluster());
    wrongPassword.setProperty("bcache.tls.keyStorePassword", "not-the-password");
    assertThatThrownBy(() -> cluster.node("wrong-password", wrongPassword))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bcache.tls").hasMessageContaining("cluster.p12");

    Properties passwordOnly = new Properties();
    passwordOnly.setProperty("bcache.tls.keyStorePassword", TestKeyStores.PASSWORD);
    assertThatThrownBy(() -> cluster.node("password-only", passwordOnly))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bcache.tls.keyStore is not");
  }
}
