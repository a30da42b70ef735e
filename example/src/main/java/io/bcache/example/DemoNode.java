package io.bcache.example;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;

/**
 * One bcache cluster node in its own JVM, driven by {@link ClusterDemo} through line
 * commands on stdin; every command gets exactly one line back on stdout.
 *
 * <pre>
 *   put FROM TO [TAG]   put key-FROM .. key-(TO-1), value "TAG-i"   -> "ok N"
 *   set KEY VALUE       put one key                                 -> "ok 1"
 *   get KEY             read one key                                -> "value V" or "null"
 *   count [PREFIX]      entries held (keys starting with PREFIX)    -> "count N"
 *   verify FROM TO TAG  keys in the range holding "TAG-i"           -> "verified N"
 *   close               CacheManager.close(), then exit 0           -> "closed"
 * </pre>
 *
 * <p>Arguments: node name, ZooKeeper connect string, cluster name, shared secret. The node
 * prints "ready" once its manager and cache exist. Logs go to stderr, which the demo sends
 * to a file; stdout carries the protocol only. When stdin closes (the demo died), the node
 * closes its manager and exits, so it never outlives the demo.
 */
public final class DemoNode {

    static final String CACHE = "demo";

    private DemoNode() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: DemoNode NAME ZOOKEEPER_CONNECT CLUSTER_NAME SECRET");
            System.exit(2);
        }
        String name = args[0];

        // Keep the protocol channel to ourselves: anything else printing to System.out
        // (a library, a stray println) goes to stderr instead.
        PrintStream protocol = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        System.setOut(System.err);

        Properties properties = new Properties();
        properties.setProperty("bcache.zookeeper.connect", args[1]);
        properties.setProperty("bcache.cluster.name", args[2]);
        properties.setProperty("bcache.bind", "127.0.0.1:0");
        properties.setProperty("bcache.secret", args[3]);
        // the demo holds 20,000 entries; the default bound (10,000) would evict half of them
        properties.setProperty("bcache.maxEntries", "100000");

        CacheManager manager = Caching.getCachingProvider("bcache").getCacheManager(
                URI.create("bcache-demo-" + name), DemoNode.class.getClassLoader(), properties);
        int exitCode = 0;
        try {
            Cache<String, String> cache = manager.createCache(CACHE,
                    new MutableConfiguration<String, String>().setTypes(String.class, String.class));
            protocol.println("ready");

            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            boolean closeCommand = false;
            while (!closeCommand && (line = in.readLine()) != null) {
                String[] cmd = line.trim().split("\\s+");
                if (cmd[0].equals("close")) {
                    // flushes pending changes to the peers and leaves the membership
                    manager.close();
                    protocol.println("closed");
                    closeCommand = true;
                    continue;
                }
                try {
                    protocol.println(execute(cache, cmd));
                } catch (RuntimeException e) {
                    protocol.println("error " + e);
                }
            }
            if (!closeCommand) {
                // stdin closed without a "close": the demo is gone; do not outlive it
                System.err.println(name + ": stdin closed, shutting down");
            }
        } catch (Throwable t) {
            t.printStackTrace();
            exitCode = 1;
        } finally {
            manager.close();
        }
        System.exit(exitCode);
    }

    private static String execute(Cache<String, String> cache, String[] cmd) {
        switch (cmd[0]) {
            case "put": {
                int from = Integer.parseInt(cmd[1]);
                int to = Integer.parseInt(cmd[2]);
                String tag = cmd.length > 3 ? cmd[3] : "value";
                for (int i = from; i < to; i++) {
                    cache.put("key-" + i, tag + "-" + i);
                }
                return "ok " + (to - from);
            }
            case "set": {
                cache.put(cmd[1], cmd[2]);
                return "ok 1";
            }
            case "get": {
                String value = cache.get(cmd[1]);
                return value == null ? "null" : "value " + value;
            }
            case "count": {
                // JCache has no size(); iterating is the portable way to count
                String prefix = cmd.length > 1 ? cmd[1] : "";
                int n = 0;
                for (Cache.Entry<String, String> e : cache) {
                    if (e.getKey().startsWith(prefix)) {
                        n++;
                    }
                }
                return "count " + n;
            }
            case "verify": {
                int from = Integer.parseInt(cmd[1]);
                int to = Integer.parseInt(cmd[2]);
                String tag = cmd[3];
                int n = 0;
                for (int i = from; i < to; i++) {
                    if ((tag + "-" + i).equals(cache.get("key-" + i))) {
                        n++;
                    }
                }
                return "verified " + n;
            }
            default:
                return "error unknown command: " + String.join(" ", cmd);
        }
    }
}
