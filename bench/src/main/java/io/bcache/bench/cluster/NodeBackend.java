package io.bcache.bench.cluster;

import java.util.Map;

/**
 * One cluster node of the system under test, as a worker process sees it: the same few
 * operations for bcache and for Hazelcast, so both are driven by the same code.
 */
interface NodeBackend extends AutoCloseable {

  /** Joins the cluster and opens the benchmark's cache (or map). Blocks until usable. */
  void start() throws Exception;

  void put(String key, byte[] value);

  void putAll(Map<String, byte[]> entries);

  /** Whether this node's local copy holds the key; never a remote call. */
  boolean contains(String key);

  /** The key's value in this node's local copy, or {@code null}; never a remote call. */
  byte[] get(String key);

  /** The entry count of this node's local copy; never a remote call. */
  long localSize();

  /**
   * What the system's own monitoring says about replication so far, as space-free
   * {@code name=value} tokens; empty where the system has nothing comparable.
   */
  default String diagnostics() {
    return "";
  }

  @Override
  void close();

  /** The backend named by {@code --system}, configured from the worker's options. */
  static NodeBackend create(Map<String, String> options) {
    String system = options.get("system");
    switch (system) {
      case "bcache":
        return new BcacheNode(options);
      case "hazelcast":
        return new HazelcastNode(options);
      default:
        throw new IllegalArgumentException("unknown --system " + system);
    }
  }
}
