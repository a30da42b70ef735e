package io.bcache.cluster.process;

import io.bcache.jcache.management.ClusterMXBean;
import java.io.BufferedReader;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;
import javax.management.JMX;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

/**
 * One bcache node in its own JVM, driven by line commands on stdin; everything through the
 * public JCache API and the {@code bcache.*} properties.
 *
 * <p>Arguments: {@code <zookeeper connect> <cluster name> <node name> <maxEntries> [bind host:port]
 * [secret]}. The node creates the cache {@value #CACHE} and prints {@code READY <node> <pid>}.
 * Then, one answer line per command line:
 *
 * <pre>
 * put &lt;k&gt; &lt;v&gt;              OK
 * putmany &lt;prefix&gt; &lt;n&gt;     OK &lt;n&gt;      keys prefix0..prefix(n-1), values {@link #valueOf}
 * get &lt;k&gt;                  VALUE &lt;v&gt; | ABSENT
 * remove &lt;k&gt;               OK true|false
 * count                    OK &lt;entries seen by the iterator&gt;
 * members                  OK &lt;members this node sees, itself included&gt; (its cluster MXBean)
 * syncing                  OK true|false: whether the node says it is syncing (its cluster MXBean)
 * digest                   OK &lt;{@link ContentDigest} of the iterated contents&gt;
 * close                    CLOSED, once CacheManager.close() returned; then the JVM exits 0
 * exit                     EXITING; then System.exit(0) without closing anything
 * </pre>
 *
 * A failure answers {@code ERR <text>}. Keys and values contain no spaces. Only the protocol goes
 * to stdout: {@code System.out} is pointed at stderr, where the logging goes too. End of input
 * (the test JVM went away) closes the node and exits.
 */
public final class NodeMain {

  static final String CACHE = "data";
  static final String DEFAULT_SECRET = "process-s3cret";

  private NodeMain() {}

  /** The value {@code putmany} writes for {@code key}. */
  static String valueOf(String key) {
    return "v-" + key;
  }

  public static void main(String[] args) throws Exception {
    PrintStream protocol = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
    System.setOut(System.err);
    if (args.length < 4) {
      protocol.println("ERR usage: <zookeeper> <cluster> <node> <maxEntries> [bind] [secret]");
      System.exit(2);
    }
    String zookeeper = args[0];
    String cluster = args[1];
    String node = args[2];
    String maxEntries = args[3];
    String bind = args.length > 4 ? args[4] : "127.0.0.1:0";
    String secret = args.length > 5 ? args[5] : DEFAULT_SECRET;

    Properties properties = new Properties();
    properties.setProperty("bcache.zookeeper.connect", zookeeper);
    properties.setProperty("bcache.cluster.name", cluster);
    properties.setProperty("bcache.bind", bind);
    properties.setProperty("bcache.secret", secret);
    properties.setProperty("bcache.maxEntries", maxEntries);
    CacheManager manager = Caching.getCachingProvider("bcache")
        .getCacheManager(URI.create("node-" + node), NodeMain.class.getClassLoader(), properties);
    Cache<String, String> cache = manager.createCache(CACHE,
        new MutableConfiguration<String, String>().setTypes(String.class, String.class));
    protocol.println("READY " + node + " " + ProcessHandle.current().pid());

    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      if (line.isBlank()) {
        continue;
      }
      String[] words = line.trim().split(" ");
      if (words[0].equals("close")) {
        try {
          manager.close();
        } catch (RuntimeException e) {
          e.printStackTrace();
          protocol.println("ERR close failed: " + e.toString().replace('\n', ' '));
          System.exit(1);
        }
        protocol.println("CLOSED");
        System.exit(0);
      }
      if (words[0].equals("exit")) {
        protocol.println("EXITING");
        System.exit(0);
      }
      String answer;
      try {
        answer = switch (words[0]) {
          case "members" -> "OK " + clusterBean(manager).getMemberCount();
          case "syncing" -> "OK " + clusterBean(manager).isSyncing();
          default -> execute(cache, words);
        };
      } catch (RuntimeException e) {
        e.printStackTrace();
        answer = "ERR " + e.toString().replace('\n', ' ');
      }
      protocol.println(answer);
    }
    System.err.println("stdin closed: closing node " + node);
    manager.close();
    System.exit(0);
  }

  private static String execute(Cache<String, String> cache, String[] words) {
    switch (words[0]) {
      case "put" -> {
        need(words, 3);
        cache.put(words[1], words[2]);
        return "OK";
      }
      case "putmany" -> {
        need(words, 3);
        String prefix = words[1];
        int count = Integer.parseInt(words[2]);
        for (int i = 0; i < count; i++) {
          String key = prefix + i;
          cache.put(key, valueOf(key));
        }
        return "OK " + count;
      }
      case "get" -> {
        need(words, 2);
        String value = cache.get(words[1]);
        return value == null ? "ABSENT" : "VALUE " + value;
      }
      case "remove" -> {
        need(words, 2);
        return "OK " + cache.remove(words[1]);
      }
      case "count" -> {
        long n = 0;
        for (Cache.Entry<String, String> ignored : cache) {
          n++;
        }
        return "OK " + n;
      }
      case "digest" -> {
        ContentDigest digest = new ContentDigest();
        for (Cache.Entry<String, String> entry : cache) {
          digest.add(entry.getKey(), entry.getValue());
        }
        return "OK " + digest.value();
      }
      default -> {
        return "ERR unknown command " + words[0];
      }
    }
  }

  private static ClusterMXBean clusterBean(CacheManager manager) {
    try {
      ObjectName name = new ObjectName("io.bcache:type=Cluster,CacheManager="
          + manager.getURI().toString().replaceAll("[,:=\n]", "."));
      return JMX.newMXBeanProxy(ManagementFactory.getPlatformMBeanServer(), name, ClusterMXBean.class);
    } catch (MalformedObjectNameException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void need(String[] words, int count) {
    if (words.length != count) {
      throw new IllegalArgumentException(words[0] + " takes " + (count - 1) + " argument(s)");
    }
  }
}
