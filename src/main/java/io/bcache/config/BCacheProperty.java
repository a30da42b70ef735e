package io.bcache.config;

import java.util.Optional;

/**
 * Every {@code bcache.*} property of the configuration contract, with its default as the
 * documentation states it. The reference table in {@code docs/configuration.md} and the README
 * are checked against this list by a test, so the code and the docs cannot drift apart.
 */
public enum BCacheProperty {

  /** Default bound of every cache of a manager. */
  MAX_ENTRIES(BCacheSettings.MAX_ENTRIES, String.valueOf(BCacheSettings.DEFAULT_MAX_ENTRIES)),
  /** Bound of one cache; the name may contain dots. */
  CACHE_MAX_ENTRIES(BCacheSettings.CACHE_PREFIX + "<name>" + BCacheSettings.MAX_ENTRIES_SUFFIX,
      BCacheSettings.MAX_ENTRIES),
  /** Default load scope of every read-through cache: {@code node} or {@code cluster}. */
  LOADS(BCacheSettings.LOADS, "node"),
  /** Load scope of one cache. */
  CACHE_LOADS(BCacheSettings.CACHE_PREFIX + "<name>" + BCacheSettings.LOADS_SUFFIX, BCacheSettings.LOADS),
  /** ZooKeeper connect string; absent means a standalone node. */
  ZOOKEEPER_CONNECT(BCacheSettings.ZOOKEEPER_CONNECT, null),
  /** Cluster name. */
  CLUSTER_NAME(BCacheSettings.CLUSTER_NAME, BCacheSettings.DEFAULT_CLUSTER_NAME),
  /** Where this node listens for peers. */
  BIND(BCacheSettings.BIND, BCacheSettings.DEFAULT_BIND),
  /** The address published to peers; defaults to the bound one. */
  ADVERTISE(BCacheSettings.ADVERTISE, null),
  /** Shared secret peers must prove they know. */
  SECRET(BCacheSettings.SECRET, null),
  /** Key store with this node's TLS key and certificate; setting it turns on mutual TLS. */
  TLS_KEY_STORE(BCacheSettings.TLS_KEY_STORE, null),
  /** Password of the TLS key store and its key. */
  TLS_KEY_STORE_PASSWORD(BCacheSettings.TLS_KEY_STORE_PASSWORD, null),
  /** Certificates a peer's chain must lead to; the key store's when absent. */
  TLS_TRUST_STORE(BCacheSettings.TLS_TRUST_STORE, null),
  /** Password of the trust store; the key store's when absent. */
  TLS_TRUST_STORE_PASSWORD(BCacheSettings.TLS_TRUST_STORE_PASSWORD, BCacheSettings.TLS_KEY_STORE_PASSWORD),
  /** Whether a clustered node flushes and leaves from a JVM shutdown hook. */
  SHUTDOWN_HOOK(BCacheSettings.SHUTDOWN_HOOK, "true"),
  /** Classes allowed in values from peers beyond the JDK value types. */
  SERIALIZATION_ALLOW(BCacheSettings.SERIALIZATION_ALLOW, null);

  private final String key;
  private final String defaultValue;

  BCacheProperty(String key, String defaultValue) {
    this.key = key;
    this.defaultValue = defaultValue;
  }

  /** The property's name; {@code <name>} stands for a cache name in per-cache properties. */
  public String key() {
    return key;
  }

  /** The default value, or empty when the property has none (absent, or derived at run time). */
  public Optional<String> defaultValue() {
    return Optional.ofNullable(defaultValue);
  }

  /** Whether {@code name} is this property (for a per-cache property: for some cache). */
  public boolean matches(String name) {
    int placeholder = key.indexOf("<name>");
    if (placeholder < 0) {
      return key.equals(name);
    }
    String prefix = key.substring(0, placeholder);
    String suffix = key.substring(placeholder + "<name>".length());
    return name.length() > prefix.length() + suffix.length() && name.startsWith(prefix) && name.endsWith(suffix);
  }

  /** The property {@code name} is, if it is one of the contract. */
  public static Optional<BCacheProperty> of(String name) {
    for (BCacheProperty property : values()) {
      if (property.matches(name)) {
        return Optional.of(property);
      }
    }
    return Optional.empty();
  }
}
