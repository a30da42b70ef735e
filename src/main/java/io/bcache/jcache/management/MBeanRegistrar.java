package io.bcache.jcache.management;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import javax.cache.CacheException;
import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

/**
 * Registers a cache's MXBeans in the platform MBean server under the names JSR-107 defines:
 * {@code javax.cache:type=CacheStatistics|CacheConfiguration,CacheManager=<uri>,Cache=<name>}.
 */
public final class MBeanRegistrar {

  /** The two kinds of cache MXBean. */
  public enum Kind {
    CONFIGURATION("CacheConfiguration"),
    STATISTICS("CacheStatistics");

    private final String type;

    Kind(String type) {
      this.type = type;
    }
  }

  private static final Object LOCK = new Object();
  /**
   * The bean each name was last registered with by these classes: a name is only the manager's
   * URI and the cache's name, which two managers of one URI (under different class loaders)
   * share, so a bean is unregistered only by the copy of the cache that registered it.
   */
  private static final Map<ObjectName, Object> REGISTERED = new HashMap<>();

  private MBeanRegistrar() {
  }

  /** Registers {@code bean}, replacing a stale registration of the same name (the last wins). */
  public static void register(Object bean, Kind kind, URI managerUri, String cacheName) {
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    ObjectName name = objectName(kind, managerUri, cacheName);
    synchronized (LOCK) {
      try {
        if (server.isRegistered(name)) {
          try {
            server.unregisterMBean(name);
          } catch (InstanceNotFoundException goneMeanwhile) {
            // unregistered by another copy of these classes (another class loader's)
          }
        }
        server.registerMBean(bean, name);
        REGISTERED.put(name, bean);
      } catch (InstanceAlreadyExistsException e) {
        // registered meanwhile by another copy of these classes, which holds the name now
      } catch (JMException e) {
        throw new CacheException("cannot register MBean " + name, e);
      }
    }
  }

  /**
   * Unregisters {@code bean}, registered as the bean of {@code kind}, unless another bean has
   * replaced it under its name since.
   */
  public static void unregister(Object bean, Kind kind, URI managerUri, String cacheName) {
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    ObjectName name = objectName(kind, managerUri, cacheName);
    synchronized (LOCK) {
      if (!REGISTERED.remove(name, bean)) {
        return;
      }
      try {
        // a copy of these classes under another class loader (a second application bundling
        // bcache) keeps a map of its own: the bean under the name must be of this copy's classes
        if (server.isRegistered(name)
            && server.getClassLoaderFor(name) == bean.getClass().getClassLoader()) {
          server.unregisterMBean(name);
        }
      } catch (InstanceNotFoundException e) {
        // already gone
      } catch (JMException e) {
        throw new CacheException("cannot unregister MBean " + name, e);
      }
    }
  }

  /** The JSR-107 object name of a cache's MXBean. */
  public static ObjectName objectName(Kind kind, URI managerUri, String cacheName) {
    String text = "javax.cache:type=" + kind.type + ",CacheManager=" + safe(managerUri.toString())
        + ",Cache=" + safe(cacheName);
    try {
      return new ObjectName(text);
    } catch (MalformedObjectNameException e) {
      throw new CacheException("invalid MBean name " + text, e);
    }
  }

  /**
   * The text with the characters an ObjectName value cannot hold unquoted replaced by a dot, as
   * the JSR-107 TCK expects for {@code , : =} and a line break; {@code "} would make the name
   * malformed and {@code * ?} a pattern, which cannot be registered.
   */
  static String safe(String text) {
    return text == null ? "" : text.replaceAll("[,:=\n\"*?]", ".");
  }
}
