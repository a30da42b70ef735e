package io.bcache.bench.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.replicatedmap.ReplicatedMap;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A Hazelcast member holding one {@code ReplicatedMap<String, byte[]>}, confined to
 * 127.0.0.1: TCP-IP join to the listed loopback ports only, multicast and auto-detection
 * off, interfaces restricted to 127.0.0.1, phone-home and Jet off. Everything else is
 * Hazelcast's default (the map's in-memory format is OBJECT, async fill-up on).
 */
final class HazelcastNode implements NodeBackend {

  private final Map<String, String> options;
  private HazelcastInstance instance;
  private ReplicatedMap<String, byte[]> map;

  HazelcastNode(Map<String, String> options) {
    this.options = options;
  }

  @Override
  public void start() {
    Config config = new Config();
    config.setClusterName(options.get("cluster"));
    config.setInstanceName("bench-" + options.get("name"));
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.socket.bind.any", "false");
    // a member does not wait 5 s for others before joining: shortens the run, and only
    // ever makes Hazelcast's join time look better
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.getJetConfig().setEnabled(false);

    NetworkConfig network = config.getNetworkConfig();
    network.setPort(Integer.parseInt(options.get("port"))).setPortAutoIncrement(false);
    network.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    List<String> members = Arrays.stream(options.get("members").split(","))
        .map(port -> "127.0.0.1:" + port)
        .collect(Collectors.toList());
    join.getTcpIpConfig().setEnabled(true).setMembers(members);

    instance = Hazelcast.newHazelcastInstance(config);
    map = instance.getReplicatedMap(ClusterNode.CACHE_NAME);
  }

  @Override
  public void put(String key, byte[] value) {
    map.put(key, value);
  }

  @Override
  public void putAll(Map<String, byte[]> entries) {
    map.putAll(entries);
  }

  @Override
  public boolean contains(String key) {
    return map.containsKey(key);
  }

  @Override
  public byte[] get(String key) {
    return map.get(key);
  }

  @Override
  public long localSize() {
    return map.size();
  }

  @Override
  public void close() {
    if (instance != null) {
      instance.shutdown();
    }
  }
}
