package io.bcache.example;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;

/**
 * bcache as a cluster: an embedded ZooKeeper and three nodes in three JVMs on 127.0.0.1.
 *
 * <p>It writes on one node and reads on the others, kills a node, writes more, restarts the
 * node and shows it catch up, printing how long every step took. ZooKeeper only tells the
 * nodes where the others are; the entries travel node to node over TCP.
 *
 * <p>Each node is a {@link DemoNode} process driven by line commands over its stdin and
 * stdout. The demo stops by itself and leaves nothing behind: the nodes are closed (and
 * killed if they hang), ZooKeeper is stopped and the temporary directory deleted, on
 * success and on failure alike; a shutdown hook kills the node processes if the demo's JVM
 * is stopped (Ctrl-C) before that. Every wait is bounded: a step that does not complete in
 * time ends the demo with a message naming the step, and exit code 1.
 */
public final class ClusterDemo {

    private static final int ENTRIES = 10_000;
    private static final String SECRET = "demo-secret";

    // Generous bounds: a cold JVM on a busy two-core machine can take seconds to start.
    private static final Duration ZOOKEEPER_START = Duration.ofSeconds(30);
    private static final Duration NODE_START = Duration.ofSeconds(60);
    private static final Duration COMMAND = Duration.ofSeconds(60);
    private static final Duration REPLICATION = Duration.ofSeconds(60);
    private static final Duration NODE_EXIT = Duration.ofSeconds(20);
    private static final long POLL_MILLIS = 5;

    private final Path tempDir;
    private final String clusterName = "demo-" + UUID.randomUUID().toString().substring(0, 8);
    private final List<Node> nodes = new ArrayList<>(); // every process ever started
    private ServerCnxnFactory zookeeper;
    private String zookeeperConnect;
    private boolean cleanedUp;

    private ClusterDemo(Path tempDir) {
        this.tempDir = tempDir;
    }

    public static void main(String[] args) throws Exception {
        // ZooKeeper's server logs every session at INFO; keep the demo's output readable.
        // (-Dorg.slf4j.simpleLogger.defaultLogLevel=info on the command line wins.)
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        ClusterDemo demo = new ClusterDemo(Files.createTempDirectory("bcache-demo-"));
        Thread hook = new Thread(demo::emergencyCleanup, "bcache-demo-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);

        long start = System.nanoTime();
        String failure = null;
        try {
            demo.run();
        } catch (StepFailed e) {
            failure = e.getMessage();
        } catch (Exception | Error e) {
            failure = e.toString();
            e.printStackTrace();
        } finally {
            if (failure != null) {
                System.out.println();
                System.out.println("DEMO FAILED: " + failure);
                demo.printNodeLogs();
            }
            demo.shutdown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException alreadyShuttingDown) {
                // the hook is running or has run; nothing to undo
            }
        }
        if (failure != null) {
            System.exit(1);
        }
        System.out.println();
        System.out.println("done in " + took(start) + "; no node process, ZooKeeper or temp dir left behind.");
    }

    private void run() throws Exception {
        System.out.println("bcache cluster demo: an embedded ZooKeeper and 3 nodes (3 JVMs, -Xmx128m) on 127.0.0.1");
        System.out.println("cluster '" + clusterName + "', work dir " + tempDir);

        heading("1. start ZooKeeper (membership only: the entries never pass through it)");
        long t = System.nanoTime();
        startZooKeeper();
        System.out.println("ZooKeeper listening on " + zookeeperConnect + ": " + took(t));

        heading("2. start three nodes");
        t = System.nanoTime();
        Node n1 = launch("1");
        Node n2 = launch("2");
        Node n3 = launch("3");
        for (Node n : List.of(n1, n2, n3)) {
            n.awaitReady();
        }
        System.out.println("nodes 1, 2 and 3 up (JVM started, CacheManager and cache created): " + took(t));
        t = System.nanoTime();
        n1.call("set hello world");
        awaitUntil("a probe write on node 1 to be read on nodes 2 and 3", REPLICATION, () ->
                n2.call("get hello").equals("value world") && n3.call("get hello").equals("value world"));
        System.out.println("nodes found each other (a probe put on node 1 read on nodes 2 and 3): " + took(t));

        heading("3. write on node 1, read on nodes 2 and 3");
        t = System.nanoTime();
        n1.call("put 0 " + ENTRIES + " v1");
        System.out.println("write " + count(ENTRIES) + " entries on node 1: " + took(t));
        t = System.nanoTime();
        awaitVisible(List.of(n2, n3), 0, ENTRIES, "v1");
        System.out.println("all " + count(ENTRIES) + " visible on nodes 2 and 3 after: " + took(t));
        System.out.println("node 3: get(\"key-4242\") -> " + shown(n3.call("get key-4242")));

        heading("4. kill node 3");
        t = System.nanoTime();
        n3.kill();
        System.out.println("node 3 killed (destroyForcibly, like kill -9; exit code " + n3.process.exitValue()
                + "): " + took(t));

        heading("5. write more while node 3 is down");
        t = System.nanoTime();
        n2.call("put " + ENTRIES + " " + 2 * ENTRIES + " v2");
        System.out.println("write " + count(ENTRIES) + " more entries (key-" + ENTRIES + " .. key-"
                + (2 * ENTRIES - 1) + ") on node 2: " + took(t));
        t = System.nanoTime();
        awaitVisible(List.of(n1), ENTRIES, 2 * ENTRIES, "v2");
        System.out.println("visible on node 1 after: " + took(t));
        String expected = n1.call("count key-");
        System.out.println("node 1 holds " + count(expected) + " entries, node 2 " + count(n2.call("count key-")));

        heading("6. restart node 3 and let it catch up");
        t = System.nanoTime();
        Node n3b = launch("3");
        n3b.awaitReady();
        System.out.println("node 3 restarted (new process, empty cache; JVM started, CacheManager and cache created): "
                + took(t));
        long ready = System.nanoTime();
        awaitUntil("node 3 to catch up to " + count(expected) + " entries", REPLICATION,
                () -> n3b.call("count key-").equals(expected));
        System.out.println("node 3 caught up " + count(expected) + " entries in: " + took(t)
                + " from its restart (" + took(ready) + " after its cache was created)");
        awaitVisible(List.of(n3b), 0, ENTRIES, "v1");
        awaitVisible(List.of(n3b), ENTRIES, 2 * ENTRIES, "v2");
        System.out.println("entries per node: node 1 " + count(n1.call("count key-"))
                + ", node 2 " + count(n2.call("count key-")) + ", node 3 " + count(n3b.call("count key-"))
                + " (every value checked on node 3)");
        System.out.println("node 3: get(\"key-" + (ENTRIES + 4242) + "\") -> "
                + shown(n3b.call("get key-" + (ENTRIES + 4242))));

        heading("7. stop");
        t = System.nanoTime();
        int closed = closeNodes();
        System.out.println(closed + " nodes closed (close command: flush, leave the membership; process exited): "
                + took(t));
        if (closed != 3) {
            throw new StepFailed("only " + closed + " of 3 nodes closed cleanly within " + secs(NODE_EXIT));
        }
        t = System.nanoTime();
        stopZooKeeper();
        deleteTempDir();
        System.out.println("ZooKeeper stopped, work dir deleted: " + took(t));
    }

    // ---- the steps' building blocks -------------------------------------------------------

    private void startZooKeeper() throws Exception {
        long deadline = System.nanoTime() + ZOOKEEPER_START.toNanos();
        Path dir = Files.createDirectories(tempDir.resolve("zookeeper"));
        ZooKeeperServer server = new ZooKeeperServer(dir.toFile(), dir.toFile(), 2000);
        if (System.getProperty("zookeeper.maxCnxns") == null) {
            System.setProperty("zookeeper.maxCnxns", "100"); // unset, the server warns about it
        }
        // bound to the loopback address only, on a free port the OS picks
        ServerCnxnFactory factory = ServerCnxnFactory.createFactory(
                new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 100);
        zookeeper = factory;
        factory.startup(server);
        zookeeperConnect = "127.0.0.1:" + factory.getLocalPort();
        while (!server.isRunning()) {
            if (System.nanoTime() > deadline) {
                throw new StepFailed("ZooKeeper did not start within " + secs(ZOOKEEPER_START));
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    private Node launch(String name) throws IOException {
        Path log = tempDir.resolve("node-" + name + "-" + nodes.size() + ".log");
        List<String> command = List.of(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", classpath(),
                DemoNode.class.getName(),
                name, zookeeperConnect, clusterName, SECRET);
        Process process = new ProcessBuilder(command)
                .redirectError(log.toFile())
                .start();
        Node node = new Node("node " + name, process, log);
        nodes.add(node);
        return node;
    }

    /** Waits until every node holds "TAG-i" for every key-i in [from, to). */
    private static void awaitVisible(List<Node> readers, int from, int to, String tag) throws InterruptedException {
        for (Node n : readers) {
            awaitUntil("all " + count(to - from) + " entries key-" + from + " .. key-" + (to - 1) + " on " + n.name,
                    REPLICATION, () -> n.call("verify " + from + " " + to + " " + tag).equals("verified " + (to - from)));
        }
    }

    private static void awaitUntil(String what, Duration timeout, Check check) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!check.done()) {
            if (System.nanoTime() > deadline) {
                throw new StepFailed("timed out after " + secs(timeout) + " waiting for " + what);
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    /** Sends close to every live node, then waits (bounded) for each to exit; returns how many closed cleanly. */
    private int closeNodes() throws InterruptedException {
        List<Node> live = new ArrayList<>();
        for (Node n : nodes) {
            if (n.process.isAlive()) {
                n.send("close");
                live.add(n);
            }
        }
        int clean = 0;
        for (Node n : live) {
            if (n.process.waitFor(NODE_EXIT.toMillis(), TimeUnit.MILLISECONDS)) {
                clean += n.process.exitValue() == 0 ? 1 : 0;
                if (n.process.exitValue() != 0) {
                    System.out.println(n.name + " exited with code " + n.process.exitValue());
                }
            } else {
                System.out.println(n.name + " did not exit within " + secs(NODE_EXIT) + "; killing it");
                n.kill();
            }
        }
        return clean;
    }

    /** The finally block: graceful where possible, forceful where not; safe to call twice. */
    private synchronized void shutdown() {
        if (cleanedUp) {
            return;
        }
        try {
            closeNodes();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            System.out.println("closing the nodes: " + e);
        }
        for (Node n : nodes) {
            n.kill(); // no-op for a process that has exited
        }
        stopZooKeeper();
        deleteTempDir();
        cleanedUp = true;
    }

    /** The shutdown hook: the JVM is going away (Ctrl-C, System.exit), so be quick. */
    private synchronized void emergencyCleanup() {
        if (cleanedUp) {
            return;
        }
        for (Node n : nodes) {
            n.process.destroyForcibly();
        }
        stopZooKeeper();
        deleteTempDir();
        cleanedUp = true;
    }

    private void stopZooKeeper() {
        if (zookeeper != null) {
            zookeeper.shutdown(); // also shuts the server down
            zookeeper = null;
        }
    }

    private void deleteTempDir() {
        if (!Files.exists(tempDir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(tempDir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            System.out.println("could not delete " + tempDir + ": " + e);
        }
    }

    private void printNodeLogs() {
        for (Node n : nodes) {
            try {
                List<String> lines = Files.readAllLines(n.log, StandardCharsets.UTF_8);
                if (lines.isEmpty()) {
                    continue;
                }
                System.out.println("--- last lines of " + n.name + "'s log (" + n.log.getFileName() + ") ---");
                lines.subList(Math.max(0, lines.size() - 20), lines.size()).forEach(System.out::println);
            } catch (IOException e) {
                // nothing to show
            }
        }
    }

    /**
     * The classpath for the node processes: the one this program runs with. Under
     * {@code java -cp} that is java.class.path; under {@code mvn exec:java} the program
     * runs in Maven's JVM, in a class loader of its own that holds the project's classpath.
     */
    private static String classpath() {
        ClassLoader loader = ClusterDemo.class.getClassLoader();
        if (loader instanceof URLClassLoader) {
            List<String> entries = new ArrayList<>();
            for (URL url : ((URLClassLoader) loader).getURLs()) {
                try {
                    entries.add(Paths.get(url.toURI()).toString());
                } catch (URISyntaxException | IllegalArgumentException e) {
                    entries.add(url.getPath());
                }
            }
            return String.join(System.getProperty("path.separator"), entries);
        }
        return System.getProperty("java.class.path");
    }

    // ---- output helpers ---------------------------------------------------------------------

    private static void heading(String title) {
        System.out.println();
        System.out.println("== " + title + " ==");
    }

    private static String took(long startNanos) {
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        return ms < 1000 ? ms + " ms" : String.format("%.1f s", ms / 1000.0);
    }

    private static String secs(Duration d) {
        return d.toMillis() < 1000 ? d.toMillis() + " ms" : d.toSeconds() + " s";
    }

    private static String count(int n) {
        return String.format("%,d", n);
    }

    /** "value v1-42" -> "\"v1-42\"", "null" -> "null". */
    private static String shown(String getReply) {
        return getReply.startsWith("value ") ? '"' + getReply.substring(6) + '"' : getReply;
    }

    /** "count 20000" -> "20,000". */
    private static String count(String reply) {
        return count(Integer.parseInt(reply.substring(reply.indexOf(' ') + 1)));
    }

    @FunctionalInterface
    private interface Check {
        boolean done() throws InterruptedException;
    }

    /** A step that did not complete (in time); its message says which. */
    private static final class StepFailed extends RuntimeException {
        StepFailed(String message) {
            super(message);
        }
    }

    /** One node process and its line protocol. */
    private static final class Node {
        private static final String EOF = "\u0000eof";

        final String name;
        final Process process;
        final Path log;
        private final PrintWriter stdin;
        private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();

        Node(String name, Process process, Path log) {
            this.name = name;
            this.process = process;
            this.log = log;
            this.stdin = new PrintWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), true);
            Thread reader = new Thread(() -> {
                try (BufferedReader out = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = out.readLine()) != null) {
                        replies.add(line);
                    }
                } catch (IOException e) {
                    // the process went away; EOF below says so
                } finally {
                    replies.add(EOF);
                }
            }, name + "-stdout");
            reader.setDaemon(true);
            reader.start();
        }

        void awaitReady() throws InterruptedException {
            String line = next("start", NODE_START);
            if (!line.equals("ready")) {
                throw new StepFailed(name + " did not start: " + line);
            }
        }

        /** Sends one command and returns its one-line reply, within COMMAND. */
        String call(String command) throws InterruptedException {
            send(command);
            String reply = next("'" + command + "'", COMMAND);
            if (reply.startsWith("error")) {
                throw new StepFailed(name + " failed '" + command + "': " + reply);
            }
            return reply;
        }

        void send(String command) {
            stdin.println(command); // a dead process is caught by next(): its stdout ends
        }

        private String next(String what, Duration timeout) throws InterruptedException {
            String line = replies.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (line == null) {
                throw new StepFailed(name + " did not answer " + what + " within " + secs(timeout));
            }
            if (line.equals(EOF)) {
                replies.add(EOF); // keep reporting it
                String code = process.isAlive() ? "still running" : "exit code " + waitExit();
                throw new StepFailed(name + " exited while we waited for " + what + " (" + code + ")");
            }
            return line;
        }

        private int waitExit() {
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return process.isAlive() ? -1 : process.exitValue();
        }

        /** destroyForcibly (SIGKILL on Unix), then a bounded wait for the process to be gone. */
        void kill() {
            if (!process.isAlive()) {
                return;
            }
            process.destroyForcibly();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    System.out.println(name + " (pid " + process.pid() + ") still running 10 s after SIGKILL");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
