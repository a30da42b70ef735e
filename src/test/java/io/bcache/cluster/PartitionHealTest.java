package io.bcache.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.bcache.jcache.management.ClusterMXBean;
import io.bcache.transport.LoopbackRelay;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.MutableConfiguration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A network partition between two nodes over real TCP, ZooKeeper still reachable by both: each
 * node advertises a relay in front of its port, so every connection between them passes through
 * one of the two relays, and partitioning both cuts them apart silently (no reset, as a network
 * dropping packets does). Both sides keep writing, some to the same keys; once the network heals
 * both hold the same contents, each key with its last writer's value, and no removal undone.
 */
@Timeout(180)
class PartitionHealTest {

  private static final Duration DETECT = Duration.ofSeconds(40);
  private static final Duration CONVERGE = Duration.ofSeconds(60);
  /** More writes than a reconnecting peer is sent from the backlog: the gap needs a snapshot. */
  private static final int WRITES_ON_A = 25_000;
  private static final int WRITES_ON_B = 500;

  private InJvmCluster cluster;
  private LoopbackRelay relayA;
  private LoopbackRelay relayB;

  @BeforeEach
  void start() throws Exception {
    cluster = InJvmCluster.start("partition");
  }

  @AfterEach
  void stop() throws Exception {
    cluster.close();
    for (LoopbackRelay relay : new LoopbackRelay[] {relayA, relayB}) {
      if (relay != null) {
        relay.close();
      }
    }
  }

  @Test
  void bothSidesWriteThroughAPartitionAndConvergeOnTheLastWritersOnceItHeals() throws Exception {
    int portA = InJvmCluster.freeLoopbackPort();
    int portB = InJvmCluster.freeLoopbackPort();
    relayA = new LoopbackRelay(portA);
    relayB = new LoopbackRelay(portB);
    CacheManager managerA = node("a", portA, relayA);
    CacheManager managerB = node("b", portB, relayB);
    Cache<String, String> a = cache(managerA);
    Cache<String, String> b = cache(managerB);
    ClusterMXBean beanA = InJvmCluster.clusterBean(managerA);
    ClusterMXBean beanB = InJvmCluster.clusterBean(managerB);

    Map<String, String> expected = new HashMap<>();
    for (int i = 0; i < 100; i++) {
      write(a, expected, "k" + i, "before-" + i);
    }
    await().atMost(CONVERGE).until(() -> contents(b).equals(expected));

    relayA.partition();
    relayB.partition();
    // the heartbeats stop arriving: each side gives up on the other; both stay members
    await().atMost(DETECT).until(() -> beanA.getConnectedPeerCount() == 0 && beanB.getConnectedPeerCount() == 0);
    assertThat(beanA.getMemberCount()).isEqualTo(2);
    assertThat(beanB.getMemberCount()).isEqualTo(2);

    // first round, on both sides of the partition
    for (int i = 0; i < WRITES_ON_A; i++) {
      write(a, expected, "a-" + i, "from-a-" + i);
    }
    for (int i = 0; i < WRITES_ON_B; i++) {
      write(b, expected, "b-" + i, "from-b-" + i);
    }
    for (int i = 0; i < 10; i++) {
      remove(a, expected, "k" + i);               // removed on a only
      write(b, expected, "k" + (10 + i), "b");    // written on b only
      write(a, expected, "k" + (20 + i), "a");    // b writes these again later
      write(b, expected, "k" + (30 + i), "b");    // a writes these again later
      write(a, expected, "k" + (40 + i), "a");    // b removes these later
      remove(b, expected, "k" + (50 + i));        // a writes these again later
    }
    // the second round is later by the wall clock, which is what the versions order by
    long firstRoundEnd = System.currentTimeMillis();
    await().until(() -> System.currentTimeMillis() > firstRoundEnd + 20);
    for (int i = 0; i < 10; i++) {
      write(b, expected, "k" + (20 + i), "b-later");
      write(a, expected, "k" + (30 + i), "a-later");
      remove(b, expected, "k" + (40 + i));
      write(a, expected, "k" + (50 + i), "a-later");
    }
    assertThat(contents(a)).isNotEqualTo(contents(b));

    relayA.heal();
    relayB.heal();
    await().atMost(CONVERGE).untilAsserted(() -> {
      assertThat(contents(a)).isEqualTo(expected);
      assertThat(contents(b)).isEqualTo(expected);
    });
    await().atMost(CONVERGE).until(() -> !beanA.isSyncing() && !beanB.isSyncing()
        && beanA.getConnectedPeerCount() == 1 && beanB.getConnectedPeerCount() == 1);
    assertThat(contents(a)).isEqualTo(expected);
    assertThat(contents(b)).isEqualTo(expected);
  }

  /** A node listening on {@code port} that tells its peers to dial its relay instead. */
  private CacheManager node(String name, int port, LoopbackRelay relay) {
    Properties properties = new Properties();
    properties.setProperty("bcache.maxEntries", "100000");
    properties.setProperty("bcache.bind", "127.0.0.1:" + port);
    properties.setProperty("bcache.advertise", "127.0.0.1:" + relay.port());
    return cluster.node(name, properties);
  }

  private static Cache<String, String> cache(CacheManager manager) {
    return manager.createCache("orders",
        new MutableConfiguration<String, String>().setTypes(String.class, String.class));
  }

  private static void write(Cache<String, String> cache, Map<String, String> expected, String key, String value) {
    cache.put(key, value);
    expected.put(key, value);
  }

  private static void remove(Cache<String, String> cache, Map<String, String> expected, String key) {
    cache.remove(key);
    expected.remove(key);
  }

  private static Map<String, String> contents(Cache<String, String> cache) {
    Map<String, String> contents = new HashMap<>();
    for (Cache.Entry<String, String> entry : cache) {
      contents.put(entry.getKey(), entry.getValue());
    }
    return contents;
  }

}
