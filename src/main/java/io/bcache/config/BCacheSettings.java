package io.bcache.config;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The resolved {@code bcache.*} settings of one cache manager (one node).
 *
 * <p>Each value comes from the first of these that has it: the {@link Properties} given to
 * {@code getCacheManager}, the properties file named by the manager's URI ({@code classpath:}
 * or {@code file:}), the {@code bcache.*} system properties, the default. Every value is checked
 * here, when the manager is created, so a bad one fails fast with a message naming it.
 */
public final class BCacheSettings {

  private static final Logger LOG = LoggerFactory.getLogger(BCacheSettings.class);

  /** Prefix of every bcache property. */
  public static final String PREFIX = "bcache.";
  /** Default bound of every cache of a manager. */
  public static final String MAX_ENTRIES = "bcache.maxEntries";
  /** ZooKeeper connect string; absent means a standalone node. */
  public static final String ZOOKEEPER_CONNECT = "bcache.zookeeper.connect";
  /** Cluster name: nodes with the same name and ZooKeeper form one cluster. */
  public static final String CLUSTER_NAME = "bcache.cluster.name";
  /** host:port this node listens on for peers. */
  public static final String BIND = "bcache.bind";
  /** host:port published to peers. */
  public static final String ADVERTISE = "bcache.advertise";
  /** Shared secret peers must prove they know. */
  public static final String SECRET = "bcache.secret";
  /** Key store (PKCS12 or JKS) with this node's TLS key and certificate; setting it turns TLS on. */
  public static final String TLS_KEY_STORE = "bcache.tls.keyStore";
  /** Password of the TLS key store and of its key. */
  public static final String TLS_KEY_STORE_PASSWORD = "bcache.tls.keyStorePassword";
  /** Trust store holding the certificates peers' chains must lead to; defaults to the key store. */
  public static final String TLS_TRUST_STORE = "bcache.tls.trustStore";
  /** Password of the trust store; defaults to the key store's. */
  public static final String TLS_TRUST_STORE_PASSWORD = "bcache.tls.trustStorePassword";
  /** Whether a clustered node flushes and leaves when the JVM shuts down without closing it. */
  public static final String SHUTDOWN_HOOK = "bcache.shutdownHook";
  /** Comma-separated packages (ending in {@code .}) and classes allowed in values from peers. */
  public static final String SERIALIZATION_ALLOW = "bcache.serialization.allow";
  /** Per-cache bound: {@code bcache.cache.<name>.maxEntries}. */
  public static final String CACHE_PREFIX = "bcache.cache.";
  /** Suffix of the per-cache bound. */
  public static final String MAX_ENTRIES_SUFFIX = ".maxEntries";
  /** Default load scope of every read-through cache of a manager ({@link LoadScope}). */
  public static final String LOADS = "bcache.loads";
  /** Suffix of the per-cache load scope: {@code bcache.cache.<name>.loads}. */
  public static final String LOADS_SUFFIX = ".loads";

  /** Default of {@link #MAX_ENTRIES}. */
  public static final long DEFAULT_MAX_ENTRIES = 10_000;
  /** Default of {@link #CLUSTER_NAME}. */
  public static final String DEFAULT_CLUSTER_NAME = "default";
  /** Default of {@link #BIND}. */
  public static final String DEFAULT_BIND = "127.0.0.1:0";

  /**
   * The name Hibernate gives its update-timestamps region, {@code <prefix>.} in front when
   * {@code hibernate.cache.region_prefix} is set. bcache never evicts from a cache of this name
   * (see {@link #isNeverEvicted}): Hibernate treats a table with no timestamp as unchanged, so an
   * evicted timestamp would let the query cache serve results a later commit made stale.
   */
  public static final String HIBERNATE_UPDATE_TIMESTAMPS_REGION = "default-update-timestamps-region";
  /** The name Hibernate still uses for that region when a cache of this name already exists. */
  public static final String HIBERNATE_LEGACY_UPDATE_TIMESTAMPS_REGION = "org.hibernate.cache.spi.UpdateTimestampsCache";
  private static final String NEVER_BOUNDED = "bcache never bounds Hibernate's update-timestamps region,"
      + " since an evicted timestamp lets the query cache serve stale results";
  /** The bound of a cache that is never evicted: more entries than any heap holds. */
  public static final long UNBOUNDED = Long.MAX_VALUE;

  /** What {@link #isValidClusterName} accepts, for error messages. */
  public static final String CLUSTER_NAME_RULE = "1 to 128 letters, digits, '.', '_' or '-', not starting with '.'";
  private static final Pattern CLUSTER_NAME_FORM = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");

  private final Map<String, String> values;
  private final long maxEntries;
  private final Map<String, Long> cacheMaxEntries;
  private final LoadScope loads;
  private final Map<String, LoadScope> cacheLoads;
  private final HostPort bind;
  private final HostPort advertise;
  private final boolean shutdownHook;

  private BCacheSettings(Map<String, String> values) {
    this.values = Collections.unmodifiableMap(values);
    this.maxEntries = parseBound(MAX_ENTRIES, values.getOrDefault(MAX_ENTRIES, String.valueOf(DEFAULT_MAX_ENTRIES)));
    this.loads = LoadScope.parse(LOADS, values.getOrDefault(LOADS, "node"));
    Map<String, Long> perCache = new HashMap<>();
    Map<String, LoadScope> perCacheLoads = new HashMap<>();
    for (Map.Entry<String, String> e : values.entrySet()) {
      String key = e.getKey();
      if (BCacheProperty.CACHE_MAX_ENTRIES.matches(key)) {
        String cacheName = cacheNameIn(key, MAX_ENTRIES_SUFFIX);
        if (isNeverEvicted(cacheName)) {
          throw new IllegalArgumentException(key + " is not allowed: " + NEVER_BOUNDED + "; remove the property");
        }
        perCache.put(cacheName, parseBound(key, e.getValue()));
      } else if (BCacheProperty.CACHE_LOADS.matches(key)) {
        perCacheLoads.put(cacheNameIn(key, LOADS_SUFFIX), LoadScope.parse(key, e.getValue()));
      } else if (BCacheProperty.of(key).isEmpty()) {
        LOG.warn("ignoring unknown property {}", key); // not its value: a misspelt secret stays out of the log
      }
    }
    this.cacheMaxEntries = Collections.unmodifiableMap(perCache);
    this.cacheLoads = Collections.unmodifiableMap(perCacheLoads);
    this.bind = HostPort.parse(BIND, values.getOrDefault(BIND, DEFAULT_BIND));
    String advertised = values.get(ADVERTISE);
    this.advertise = advertised == null ? null : HostPort.parse(ADVERTISE, advertised);
    if (advertise != null && advertise.port() == 0) {
      throw new IllegalArgumentException(ADVERTISE + " must name the port peers reach, not 0, was '" + advertised + "'");
    }
    for (String tlsProperty : new String[] {TLS_KEY_STORE_PASSWORD, TLS_TRUST_STORE, TLS_TRUST_STORE_PASSWORD}) {
      if (values.containsKey(tlsProperty) && !values.containsKey(TLS_KEY_STORE)) {
        throw new IllegalArgumentException(tlsProperty + " is set but " + TLS_KEY_STORE
            + " is not: TLS needs this node's key store");
      }
    }
    if ("".equals(values.get(SECRET))) {
      throw new IllegalArgumentException(SECRET + " must not be empty; leave it out for no secret");
    }
    this.shutdownHook = parseBoolean(SHUTDOWN_HOOK, values.getOrDefault(SHUTDOWN_HOOK, "true"));
    String connect = values.get(ZOOKEEPER_CONNECT);
    if (connect != null && !connect.isBlank()) {
      checkZooKeeperConnect(connect);
    }
    String cluster = values.get(CLUSTER_NAME);
    if (cluster != null && !isValidClusterName(cluster)) {
      throw new IllegalArgumentException(CLUSTER_NAME + " must be " + CLUSTER_NAME_RULE + ", was '" + cluster + "'");
    }
  }

  /**
   * Whether {@code name} may name a cluster: one ZooKeeper node name (the cluster's members are
   * registered under it) of 1 to 128 letters, digits, {@code . _ -}, not starting with a dot.
   */
  public static boolean isValidClusterName(String name) {
    return name != null && CLUSTER_NAME_FORM.matcher(name).matches();
  }

  /**
   * Checks a ZooKeeper connect string as ZooKeeper's client will parse it, since it fails deep
   * inside Curator's start otherwise: {@code host[:port][,host[:port]...][/chroot]}.
   */
  private static void checkZooKeeperConnect(String connect) {
    int slash = connect.indexOf('/');
    String servers = slash < 0 ? connect : connect.substring(0, slash);
    for (String server : servers.split(",", -1)) {
      String trimmed = server.trim();
      boolean hasPort = trimmed.startsWith("[") ? trimmed.contains("]:") : trimmed.contains(":");
      if (trimmed.isEmpty() || trimmed.chars().anyMatch(Character::isWhitespace)
          || hasPort && HostPort.parse(ZOOKEEPER_CONNECT, trimmed).port() == 0) {
        throw new IllegalArgumentException(ZOOKEEPER_CONNECT + " must be host:port[,host:port...][/chroot], was '"
            + connect + "'");
      }
    }
    if (slash >= 0 && connect.length() - slash > 1) {
      for (String segment : connect.substring(slash + 1).split("/", -1)) {
        if (segment.isEmpty() || segment.equals(".") || segment.equals("..")
            || segment.chars().anyMatch(Character::isISOControl)) {
          throw new IllegalArgumentException(ZOOKEEPER_CONNECT + " has an invalid chroot path '"
              + connect.substring(slash) + "'");
        }
      }
    }
  }

  /** The {@code <name>} of a per-cache key {@code bcache.cache.<name><suffix>}. */
  private static String cacheNameIn(String key, String suffix) {
    return key.substring(CACHE_PREFIX.length(), key.length() - suffix.length());
  }

  /**
   * Resolves the settings of a manager.
   *
   * @param uri the manager's URI; {@code classpath:} and {@code file:} (or {@code jar:}) URIs
   *     name a properties file; a URI without a scheme, with the {@code bcache:} scheme or a
   *     URN ({@code urn:}) is only a name
   * @param classLoader the manager's class loader, for {@code classpath:} URIs
   * @param explicit the properties given to {@code getCacheManager}; may be {@code null}
   * @throws IllegalArgumentException if the URI cannot be read or a value is invalid
   */
  public static BCacheSettings resolve(URI uri, ClassLoader classLoader, Properties explicit) {
    Map<String, String> values = new HashMap<>();
    putBcacheKeys(values, System.getProperties());
    putBcacheKeys(values, readUri(uri, classLoader));
    if (explicit != null) {
      putBcacheKeys(values, explicit);
    }
    return new BCacheSettings(values);
  }

  /** Settings made only of the given values and the defaults; for tests and tools. */
  public static BCacheSettings of(Properties properties) {
    Map<String, String> values = new HashMap<>();
    putBcacheKeys(values, properties);
    return new BCacheSettings(values);
  }

  /**
   * The bound of the cache named {@code cacheName}: {@link #UNBOUNDED} for a cache that is
   * {@linkplain #isNeverEvicted never evicted}, else its own key, else the manager default.
   */
  public long maxEntriesFor(String cacheName) {
    if (isNeverEvicted(cacheName)) {
      return UNBOUNDED;
    }
    return cacheMaxEntries.getOrDefault(cacheName, maxEntries);
  }

  /**
   * Whether bcache refuses to bound the cache named {@code cacheName}: Hibernate's
   * update-timestamps region, {@value #HIBERNATE_UPDATE_TIMESTAMPS_REGION} (or its legacy name
   * {@value #HIBERNATE_LEGACY_UPDATE_TIMESTAMPS_REGION}), alone or after a region prefix and a
   * dot. It holds one small entry per table, and losing one would make Hibernate's query cache
   * serve stale results, so it keeps every entry whatever {@code bcache.maxEntries} says.
   */
  public static boolean isNeverEvicted(String cacheName) {
    return isName(cacheName, HIBERNATE_UPDATE_TIMESTAMPS_REGION) || isName(cacheName, HIBERNATE_LEGACY_UPDATE_TIMESTAMPS_REGION);
  }

  /**
   * Checks a bound given in code (not through properties) for the cache {@code cacheName}.
   *
   * @throws IllegalArgumentException if the cache is {@linkplain #isNeverEvicted never evicted}
   *     and {@code maxEntries} is anything but {@link #UNBOUNDED}
   */
  public static void checkBound(String cacheName, long maxEntries) {
    if (maxEntries != UNBOUNDED && isNeverEvicted(cacheName)) {
      throw new IllegalArgumentException("cache '" + cacheName + "' cannot be bounded (maxEntries " + maxEntries
          + "): " + NEVER_BOUNDED);
    }
  }

  private static boolean isName(String cacheName, String regionName) {
    return cacheName.equals(regionName) || cacheName.endsWith("." + regionName);
  }

  /** The load scope of the cache named {@code cacheName}: its own key, else the manager default. */
  public LoadScope loadScopeFor(String cacheName) {
    return cacheLoads.getOrDefault(cacheName, loads);
  }

  /** The manager-wide default bound. */
  public long maxEntries() {
    return maxEntries;
  }

  public Optional<String> zookeeperConnect() {
    return Optional.ofNullable(values.get(ZOOKEEPER_CONNECT)).filter(s -> !s.isBlank());
  }

  public String clusterName() {
    return values.getOrDefault(CLUSTER_NAME, DEFAULT_CLUSTER_NAME);
  }

  public HostPort bind() {
    return bind;
  }

  /** The address published to peers, when it differs from the bound one. */
  public Optional<HostPort> advertise() {
    return Optional.ofNullable(advertise);
  }

  /**
   * Whether a clustered node still open when the JVM shuts down flushes its pending changes and
   * leaves the cluster from a shutdown hook ({@value #SHUTDOWN_HOOK}, default true).
   */
  public boolean shutdownHook() {
    return shutdownHook;
  }

  public Optional<String> secret() {
    return Optional.ofNullable(values.get(SECRET));
  }

  /** TLS for peer connections, when {@value #TLS_KEY_STORE} is set. */
  public Optional<TlsStores> tls() {
    String keyStore = values.get(TLS_KEY_STORE);
    if (keyStore == null) {
      return Optional.empty();
    }
    String keyStorePassword = values.getOrDefault(TLS_KEY_STORE_PASSWORD, "");
    String trustStore = values.get(TLS_TRUST_STORE);
    return Optional.of(new TlsStores(Path.of(keyStore), keyStorePassword.toCharArray(),
        trustStore == null ? null : Path.of(trustStore),
        values.getOrDefault(TLS_TRUST_STORE_PASSWORD, keyStorePassword).toCharArray()));
  }

  /**
   * Where a node's TLS key and trusted certificates are.
   *
   * @param trustStore {@code null} when the key store's certificates are the trusted ones
   */
  public record TlsStores(Path keyStore, char[] keyStorePassword, Path trustStore, char[] trustStorePassword) {
  }

  /** Packages and classes the user allows in values from peers, beyond common JDK types. */
  public java.util.List<String> serializationAllowList() {
    String text = values.getOrDefault(SERIALIZATION_ALLOW, "");
    java.util.List<String> entries = new java.util.ArrayList<>();
    for (String part : text.split(",")) {
      if (!part.isBlank()) {
        entries.add(part.trim());
      }
    }
    return entries;
  }

  /** Every resolved {@code bcache.*} value, by name. */
  public Map<String, String> values() {
    return values;
  }

  private static boolean parseBoolean(String property, String text) {
    switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "true":
        return true;
      case "false":
        return false;
      default:
        throw new IllegalArgumentException(property + " must be true or false, was '" + text + "'");
    }
  }

  private static long parseBound(String property, String text) {
    long bound;
    try {
      bound = Long.parseLong(text.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(property + " must be a whole number, was '" + text + "'", e);
    }
    if (bound < 1) {
      throw new IllegalArgumentException(property + " must be at least 1, was '" + text + "'");
    }
    return bound;
  }

  /**
   * Copies the {@code bcache.*} keys. A value put as another object than a string (an
   * {@code Integer} bound, say) counts as its {@code toString()}: {@code Properties} hides such
   * entries from {@code getProperty}, and dropping them silently would apply a lower level's value.
   */
  private static void putBcacheKeys(Map<String, String> target, Properties source) {
    for (String name : source.stringPropertyNames()) {
      if (name.startsWith(PREFIX)) {
        target.put(name, source.getProperty(name));
      }
    }
    for (Map.Entry<Object, Object> e : source.entrySet()) {
      if (e.getKey() instanceof String name && name.startsWith(PREFIX) && !(e.getValue() instanceof String)) {
        target.put(name, String.valueOf(e.getValue()));
      }
    }
  }

  private static Properties readUri(URI uri, ClassLoader classLoader) {
    Properties properties = new Properties();
    if (uri == null || uri.getScheme() == null) {
      return properties;
    }
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT); // schemes are case-insensitive
    if (scheme.equals("bcache") || scheme.equals("urn")) {
      return properties; // a name, not a location
    }
    URL url;
    switch (scheme) {
      case "classpath": {
        String path = uri.getSchemeSpecificPart();
        while (path.startsWith("/")) {
          path = path.substring(1);
        }
        ClassLoader loader = classLoader != null ? classLoader : BCacheSettings.class.getClassLoader();
        url = loader.getResource(path);
        if (url == null) {
          throw new IllegalArgumentException("cache manager URI " + uri + ": no resource '" + path + "' on the class path");
        }
        break;
      }
      case "file":
      case "jar":
        try {
          url = uri.toURL();
        } catch (IOException | IllegalArgumentException e) {
          throw new IllegalArgumentException("cache manager URI " + uri + " is not a readable location", e);
        }
        break;
      default:
        throw new IllegalArgumentException("cache manager URI " + uri + " has an unsupported scheme '"
            + uri.getScheme() + "': use classpath:, file:, jar:, bcache:, urn: or a plain name");
    }
    try (InputStream in = openUncached(url)) {
      properties.load(in);
    } catch (IOException e) {
      throw new IllegalArgumentException("cache manager URI " + uri + " cannot be read: " + e, e);
    }
    return properties;
  }

  /** Opens a URL without the JDK's cache, which would keep a {@code jar:} file open for good. */
  private static InputStream openUncached(URL url) throws IOException {
    URLConnection connection = url.openConnection();
    connection.setUseCaches(false);
    return connection.getInputStream();
  }
}
