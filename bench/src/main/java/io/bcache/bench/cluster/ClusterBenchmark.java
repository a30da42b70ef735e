package io.bcache.bench.cluster;

import io.bcache.bench.cluster.ClusterNode.KeyRange;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;

/**
 * The cluster benchmark: three nodes in three JVMs on 127.0.0.1, bcache and then Hazelcast's
 * {@code ReplicatedMap}, in the same run, with the same driver code and sizes.
 *
 * <p>This JVM is the coordinator. It runs an embedded ZooKeeper (for bcache's membership
 * only), launches the {@link ClusterNode} worker processes with its own java and class path,
 * and drives them with line commands over their stdin/stdout. Per system:
 *
 * <ol>
 *   <li>warm-up: node 1 puts {@code -warmup} keys, nodes 2 and 3 wait until they see them
 *       all (this also proves the three nodes replicate to each other); repeated over the same
 *       keys, with new values, until {@code -warmupsec} seconds have passed, so that the
 *       measured puts run compiled code rather than the JIT (same rule for both systems);
 *   <li>sustained puts: one thread on node 1 puts {@code -n} keys {@code k0..} with 100-byte
 *       values as fast as the API accepts them; nodes 2 and 3 poll their local copies
 *       until they hold every key. Elapsed is taken in this JVM, from sending the command
 *       to node 1 until both observers have answered; puts/s = n / elapsed;
 *   <li>time until visible on every node, in the steady state: every node first runs a full
 *       collection, so that the burst's garbage is not collected among the samples, and the
 *       first {@code -latwarmup} samples are not recorded. Node 1 puts one key at a time on a
 *       fixed schedule ({@code -rate} per second); nodes 2 and 3 poll for each key and send its
 *       index back to node 1 over a loopback socket the moment they see it. Node 1 takes
 *       both timestamps (before the put, at the later of the two acks) in its own clock;
 *   <li>join: node 1 fills up to {@code -join} keys {@code k*} (putAll in batches), nodes 2
 *       and 3 catch up, all three collect their garbage, then a fourth worker starts a node
 *       and waits until its local copy holds every entry; MB/s = bytes of keys and values /
 *       time since the node started.
 * </ol>
 *
 * <p>All workers are stopped at the end, on failure too, and by a shutdown hook if this JVM
 * is stopped; workers also exit when their stdin closes. Every wait is bounded; a timeout
 * ends the run with exit code 1 and a message naming the step.
 */
public final class ClusterBenchmark {

  private static final long START_TIMEOUT_MS = 120_000;
  private static final long STOP_TIMEOUT_MS = 20_000;
  /** Slack the coordinator adds on top of a worker's own timeout before it gives up on it. */
  private static final long ANSWER_SLACK_MS = 30_000;

  private final Options options;
  private final Path workDir;
  private final List<WorkerProcess> workers = new ArrayList<>();
  private ServerCnxnFactory zookeeper;
  private String zookeeperConnect;

  private ClusterBenchmark(Options options, Path workDir) {
    this.options = options;
    this.workDir = workDir;
  }

  public static void main(String[] args) throws Exception {
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.err.println(Options.USAGE);
      System.exit(2);
      return;
    }
    Path workDir = Files.createTempDirectory("bcache-clusterbench-");
    ClusterBenchmark bench = new ClusterBenchmark(options, workDir);
    Thread hook = new Thread(bench::killAll, "kill-workers");
    Runtime.getRuntime().addShutdownHook(hook);
    boolean ok = false;
    try {
      bench.run();
      ok = true;
    } catch (WorkerProcess.WorkerFailed | IllegalStateException e) {
      System.err.println();
      System.err.println("FAILED: " + e.getMessage());
    } catch (Throwable e) {
      System.err.println();
      System.err.println("FAILED: " + e);
      e.printStackTrace();
    } finally {
      bench.stopAll();
      bench.stopZooKeeper();
      if (ok) {
        deleteTree(workDir);
      } else {
        System.err.println("worker logs kept in " + workDir);
      }
    }
    Runtime.getRuntime().removeShutdownHook(hook);
    System.exit(ok ? 0 : 1);
  }

  private void run() throws Exception {
    System.out.println("bcache cluster benchmark: 3 nodes in 3 JVMs on 127.0.0.1, bcache vs Hazelcast ReplicatedMap");
    System.out.println(options.describe());
    if (options.isSmoke()) {
      System.out.println("NOTE: sizes below the defaults: a smoke run that proves the harness works; its numbers are not results.");
    }
    System.out.println("work dir " + workDir);
    Map<String, Map<String, Double>> results = new LinkedHashMap<>();
    for (String system : options.systems) {
      System.out.println();
      System.out.println("== " + system);
      results.put(system, runSystem(system));
    }
    System.out.println();
    printTable(results);
  }

  // ---- one system ------------------------------------------------------------------------

  private Map<String, Double> runSystem(String system) throws Exception {
    Map<String, Double> r = new LinkedHashMap<>();
    String cluster = "bench-" + UUID.randomUUID().toString().substring(0, 8);
    int[] hzPorts = null;
    if (system.equals("bcache")) {
      if (zookeeper == null) {
        long t = System.nanoTime();
        startZooKeeper();
        System.out.printf(Locale.ROOT, "ZooKeeper on %s (%s)%n", zookeeperConnect, ms(System.nanoTime() - t));
      }
    } else {
      hzPorts = freePorts(4);
    }

    List<WorkerProcess> nodes = new ArrayList<>();
    try {
      long t = System.nanoTime();
      for (int i = 1; i <= 3; i++) {
        nodes.add(launch(system, i, cluster, hzPorts));
      }
      for (WorkerProcess n : nodes) {
        n.answer("launch", START_TIMEOUT_MS);
      }
      for (WorkerProcess n : nodes) {
        n.send("start");
      }
      for (WorkerProcess n : nodes) {
        n.answer("start", START_TIMEOUT_MS);
      }
      System.out.printf(Locale.ROOT, "3 nodes started (%s)%n", ms(System.nanoTime() - t));
      WorkerProcess writer = nodes.get(0);
      List<WorkerProcess> observers = nodes.subList(1, 3);

      // warm-up, which also proves that node 1's writes reach nodes 2 and 3
      // rounds over the same keys until the minimum time has passed: steady state, not the JIT
      if (options.warmup > 0) {
        t = System.nanoTime();
        int rounds = 0;
        do {
          rounds++;
          replicate(writer, observers, "w", options.warmup, "warm-up", rounds);
        } while (System.nanoTime() - t < TimeUnit.SECONDS.toNanos(options.warmupSeconds));
        System.out.printf(Locale.ROOT, "warm-up: %d round(s) of %,d puts replicated (%s)%n", rounds,
            options.warmup, ms(System.nanoTime() - t));
      }

      // 1. sustained replicated puts
      long cpuBefore = processCpuNanos(nodes);
      long elapsed = replicate(writer, observers, "k", options.n, "sustained puts", 0);
      double cpuPerPut = (processCpuNanos(nodes) - cpuBefore) / (double) options.n;
      r.put("cpuNsPerPut", cpuPerPut);
      double putsPerSecond = options.n / (elapsed / 1e9);
      r.put("putsPerSecond", putsPerSecond);
      r.put("writerPutsPerSecond", options.n / (lastWriterNanos / 1e9));
      System.out.printf(Locale.ROOT, "sustained puts: %,d puts visible on nodes 2 and 3 after %s: %,.0f puts/s"
          + " (writer's put loop alone: %s, %,.0f puts/s)%n",
          options.n, ms(elapsed), putsPerSecond, ms(lastWriterNanos), r.get("writerPutsPerSecond"));
      System.out.printf(Locale.ROOT, "  CPU time of the three node processes per put: %,.2f us (collector and compiler threads included)%n",
          cpuPerPut / 1e3);
      printDiagnostics(nodes);

      // 2. time until visible on every node
      if (options.phaseGc) {
        collectGarbage(nodes);
      }
      int total = options.latencyWarmup + options.samples;
      long latencyTimeout = phaseTimeoutMs(total) + (long) total * 1000 / options.rate;
      int port = Integer.parseInt(writer.call("acklisten", START_TIMEOUT_MS).get("port"));
      for (WorkerProcess o : observers) {
        o.send("observe " + port + " lat " + total + " " + latencyTimeout);
      }
      Map<String, String> lat = writer.call("latency lat " + options.latencyWarmup + " " + options.samples + " "
          + options.rate + " " + observers.size() + " 200 " + latencyTimeout, latencyTimeout + ANSWER_SLACK_MS);
      for (WorkerProcess o : observers) {
        o.answer("observe", ANSWER_SLACK_MS);
      }
      for (String k : List.of("p50Ns", "p90Ns", "p99Ns", "p999Ns", "maxNs", "putP50Ns", "putP99Ns", "ackRttP50Ns")) {
        r.put(k, Double.parseDouble(lat.get(k)));
      }
      System.out.printf(Locale.ROOT, "visible on every node (%,d samples at %,d/s after %,d warm-up): p50 %s  p90 %s  "
          + "p99 %s  p99.9 %s  max %s%n", options.samples, options.rate, options.latencyWarmup,
          us(r.get("p50Ns")), us(r.get("p90Ns")), us(r.get("p99Ns")), us(r.get("p999Ns")), us(r.get("maxNs")));
      System.out.printf(Locale.ROOT, "  put call on the writer: p50 %s  p99 %s; ack path round trip p50 %s"
          + " (one way, about half, is included in every sample); late puts: %s%n",
          us(r.get("putP50Ns")), us(r.get("putP99Ns")), us(r.get("ackRttP50Ns")), lat.get("behind"));

      // 3. a joining node
      if (options.join > 0 && (system.equals("bcache") || options.hazelcastJoin)) {
        join(system, cluster, hzPorts, writer, observers, r);
      }
    } finally {
      for (WorkerProcess n : nodes) {
        n.stop(STOP_TIMEOUT_MS);
      }
      workers.removeAll(nodes);
    }
    return r;
  }

  private long lastWriterNanos;

  /**
   * Has every node run a full collection, so that the garbage of the sustained puts (a heap filled
   * within a second, for bcache) is not collected in the middle of the next step's samples.
   */
  private static void collectGarbage(List<WorkerProcess> nodes) {
    long t = System.nanoTime();
    for (WorkerProcess n : nodes) {
      n.call("gc", START_TIMEOUT_MS);
    }
    System.out.printf(Locale.ROOT, "full collection on every node before the next step (%s)%n",
        ms(System.nanoTime() - t));
  }

  /**
   * Node 1 puts prefix0 .. prefix(count-1) one by one; nodes 2 and 3 wait until they hold
   * them all (with round > 0: the values of that warm-up round). Returns the nanoseconds from sending the put command until the last observer
   * answered, all in this JVM's clock.
   */
  private long replicate(WorkerProcess writer, List<WorkerProcess> observers, String prefix, int count, String step,
      int round) {
    long timeout = phaseTimeoutMs(count);
    String range = new KeyRange(prefix, 0, count).toString();
    for (WorkerProcess o : observers) {
      o.send("await " + range + " " + timeout + " " + round);
    }
    long t = System.nanoTime();
    writer.send("put " + prefix + " 0 " + count + " " + round);
    for (WorkerProcess o : observers) {
      o.answer(step + " on " + o.name, timeout + ANSWER_SLACK_MS);
    }
    long elapsed = System.nanoTime() - t;
    lastWriterNanos = Long.parseLong(writer.answer(step + " on " + writer.name, timeout + ANSWER_SLACK_MS).get("ns"));
    return elapsed;
  }

  private void join(String system, String cluster, int[] hzPorts, WorkerProcess writer,
      List<WorkerProcess> observers, Map<String, Double> r) throws IOException {
    int keys = Math.max(options.join, options.n);
    if (options.join > options.n) {
      long timeout = phaseTimeoutMs(options.join - options.n);
      long t = System.nanoTime();
      writer.call("fill k " + options.n + " " + options.join + " " + options.fillBatch, timeout + ANSWER_SLACK_MS);
      String range = new KeyRange("k", 0, keys).toString();
      for (WorkerProcess o : observers) {
        o.call("await " + range + " " + timeout, timeout + ANSWER_SLACK_MS);
      }
      System.out.printf(Locale.ROOT, "join: filled node 1 to %,d k* keys; nodes 2 and 3 caught up (%s)%n",
          keys, ms(System.nanoTime() - t));
    }
    // everything node 1 holds: the k*, warm-up and latency keys
    List<KeyRange> ranges = new ArrayList<>();
    ranges.add(new KeyRange("k", 0, keys));
    if (options.warmup > 0) {
      ranges.add(new KeyRange("w", 0, options.warmup));
    }
    ranges.add(new KeyRange("lat", 0, options.latencyWarmup + options.samples));
    long expected = ranges.stream().mapToLong(x -> x.to - x.from).sum();
    long held = Long.parseLong(writer.call("size", START_TIMEOUT_MS).get("size"));
    if (held != expected) {
      throw new IllegalStateException("node 1 holds " + held + " entries, expected " + expected);
    }

    if (options.phaseGc) {
      List<WorkerProcess> nodes = new ArrayList<>(observers);
      nodes.add(0, writer);
      collectGarbage(nodes);
    }
    WorkerProcess joiner = launch(system, 4, cluster, hzPorts);
    try {
      joiner.answer("launch", START_TIMEOUT_MS);
      long timeout = phaseTimeoutMs(expected);
      String command = "join " + KeyRange.format(ranges) + " " + timeout;
      for (int round = 1; round <= options.joinWarmup; round++) {
        Map<String, String> w = joiner.call(command, timeout + ANSWER_SLACK_MS);
        reportJoin("warm-up join " + round + " of " + options.joinWarmup, expected, w, new LinkedHashMap<>());
        joiner.call("leave", STOP_TIMEOUT_MS);
      }
      Map<String, String> j = joiner.call(command, timeout + ANSWER_SLACK_MS);
      r.put("joinEntries", (double) expected);
      reportJoin("join", expected, j, r);
    } finally {
      joiner.stop(STOP_TIMEOUT_MS);
      workers.remove(joiner);
    }
  }

  /** Prints one join's figures and puts its rates in {@code r}. */
  private static void reportJoin(String label, long expected, Map<String, String> j, Map<String, Double> r) {
    double bytes = Double.parseDouble(j.get("bytes"));
    double complete = Double.parseDouble(j.get("completeNs"));
    double start = Double.parseDouble(j.get("startNs"));
    double first = Double.parseDouble(j.get("firstNs"));
    r.put("joinMBps", bytes / 1e6 / (complete / 1e9));
    // a node whose start returns with every entry (Hazelcast's) has no stream to time
    String stream = "none seen after the start";
    if (complete - first >= 1e6) {
      r.put("joinStreamMBps", bytes / 1e6 / ((complete - first) / 1e9));
      stream = String.format(Locale.ROOT, "%.1f MB/s", r.get("joinStreamMBps"));
    }
    System.out.printf(Locale.ROOT, "%s: node 4 holds all %,d entries (%.1f MB of keys and values) %s after it"
        + " started joining: %.1f MB/s (joined/opened in %s, first entry at %s, from first to last entry: %s;"
        + " verified every key at %s)%n",
        label, expected, bytes / 1e6, ms((long) complete), r.get("joinMBps"), ms((long) start), ms((long) first),
        stream, ms(Long.parseLong(j.get("verifiedNs"))));
  }

  /** A step's bound: a base plus one millisecond per operation (a floor of 1,000 ops/s). */
  private long phaseTimeoutMs(long operations) {
    return options.timeoutSeconds * 1000L + operations;
  }

  // ---- processes -------------------------------------------------------------------------

  /** One key and self-signed certificate every bcache node shares, made once with keytool. */
  private synchronized Path tlsKeyStore() throws IOException {
    Path store = workDir.resolve("cluster.p12");
    if (!Files.exists(store)) {
      Process keytool = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "keytool").toString(),
          "-genkeypair", "-alias", "node", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
          "-dname", "CN=bcache benchmark", "-storetype", "PKCS12", "-keystore", store.toString(),
          "-storepass", BcacheNode.TLS_PASSWORD).redirectErrorStream(true).start();
      String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      try {
        if (keytool.waitFor() != 0) {
          throw new IOException("keytool failed: " + output);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted making a key store", e);
      }
    }
    return store;
  }

  private WorkerProcess launch(String system, int index, String cluster, int[] hzPorts) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx" + options.xmx);
    command.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
    // -Dbench.jvmN="flags" adds JVM flags to node N (4: the joiner), such as a profiler agent
    String extraFlags = System.getProperty("bench.jvm" + index);
    if (extraFlags != null && !extraFlags.isBlank()) {
      command.addAll(List.of(extraFlags.trim().split("\\s+")));
    }
    if (system.equals("hazelcast")) {
      command.add("-Dhazelcast.phone.home.enabled=false");
      command.add("-Dhazelcast.logging.type=jdk");
      // what Hazelcast asks for on Java 17, so it runs at its best and does not warn
      command.addAll(List.of(
          "--add-modules", "java.se",
          "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
          "--add-opens", "java.base/java.lang=ALL-UNNAMED",
          "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-opens", "java.management/sun.management=ALL-UNNAMED",
          "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED"));
    }
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(ClusterNode.class.getName());
    command.add("--system=" + system);
    command.add("--name=node" + index);
    command.add("--cluster=" + cluster);
    command.add("--pollMicros=" + options.pollMicros);
    if (options.latencyDump != null) {
      command.add("--latdump=" + options.latencyDump);
    }
    if (system.equals("bcache")) {
      command.add("--zk=" + zookeeperConnect);
      long entries = (long) Math.max(options.n, options.join) + options.warmup + options.latencyWarmup
          + options.samples;
      command.add("--maxEntries=" + (entries * 2 + 10_000)); // nothing is ever evicted
      command.add("--storeByValue=" + options.storeByValue);
      if (options.tls) {
        command.add("--tlsKeyStore=" + tlsKeyStore());
      }
    } else {
      command.add("--port=" + hzPorts[index - 1]);
      // members 1 to 3 know each other; the joiner knows them and itself
      int known = index <= 3 ? 3 : 4;
      StringBuilder members = new StringBuilder();
      for (int i = 0; i < known; i++) {
        members.append(i == 0 ? "" : ",").append(hzPorts[i]);
      }
      command.add("--members=" + members);
    }
    WorkerProcess worker = new WorkerProcess(system + "-node" + index, command,
        workDir.resolve(system + "-node" + index + ".log"));
    synchronized (workers) {
      workers.add(worker);
    }
    return worker;
  }

  private void stopAll() {
    List<WorkerProcess> left;
    synchronized (workers) {
      left = new ArrayList<>(workers);
    }
    for (WorkerProcess w : left) {
      w.stop(STOP_TIMEOUT_MS);
    }
  }

  /** The shutdown hook: no waiting, every worker killed. */
  private void killAll() {
    List<WorkerProcess> left;
    synchronized (workers) {
      left = new ArrayList<>(workers);
    }
    for (WorkerProcess w : left) {
      w.kill();
    }
    stopZooKeeper();
  }

  private void startZooKeeper() throws Exception {
    Path dir = Files.createDirectories(workDir.resolve("zookeeper"));
    if (System.getProperty("zookeeper.maxCnxns") == null) {
      System.setProperty("zookeeper.maxCnxns", "100");
    }
    if (System.getProperty("zookeeper.admin.enableServer") == null) {
      System.setProperty("zookeeper.admin.enableServer", "false");
    }
    ZooKeeperServer server = new ZooKeeperServer(dir.toFile(), dir.toFile(), 2000);
    ServerCnxnFactory factory = ServerCnxnFactory.createFactory(
        new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 100);
    zookeeper = factory;
    factory.startup(server);
    zookeeperConnect = "127.0.0.1:" + factory.getLocalPort();
    long deadline = System.nanoTime() + START_TIMEOUT_MS * 1_000_000;
    while (!server.isRunning()) {
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("timeout: ZooKeeper did not start within " + START_TIMEOUT_MS / 1000 + " s");
      }
      Thread.sleep(20);
    }
  }

  private synchronized void stopZooKeeper() {
    if (zookeeper != null) {
      zookeeper.shutdown();
      zookeeper = null;
    }
  }

  private static int[] freePorts(int count) throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      int[] ports = new int[count];
      for (int i = 0; i < count; i++) {
        ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
        sockets.add(s);
        ports[i] = s.getLocalPort();
      }
      return ports;
    } finally {
      for (ServerSocket s : sockets) {
        s.close();
      }
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | UncheckedIOException e) {
      System.err.println("could not delete " + dir + ": " + e.getMessage());
    }
  }

  // ---- the table -------------------------------------------------------------------------

  private void printTable(Map<String, Map<String, Double>> results) {
    Map<String, Double> b = results.getOrDefault("bcache", Map.of());
    Map<String, Double> h = results.getOrDefault("hazelcast", Map.of());
    String format = "%-38s %14s %14s %10s  %-26s %s%n";
    System.out.printf(Locale.ROOT, format, "metric", "bcache", "Hazelcast", "ratio", "target (brief)", "meets");

    Double bp = b.get("putsPerSecond");
    Double hp = h.get("putsPerSecond");
    Double putRatio = bp != null && hp != null ? bp / hp : null;
    System.out.printf(Locale.ROOT, format, "replicated puts/s, 1 writer (higher)", num(bp), num(hp), ratio(putRatio),
        ">= 50x Hazelcast", putRatio == null ? "-" : yes(putRatio >= 50));

    Double b50 = micros(b.get("p50Ns"));
    Double h50 = micros(h.get("p50Ns"));
    System.out.printf(Locale.ROOT, format, "visible on all nodes p50, us (lower)", dec(b50), dec(h50),
        ratio(b50 != null && h50 != null ? b50 / h50 : null), "-", "-");
    Double b99 = micros(b.get("p99Ns"));
    Double h99 = micros(h.get("p99Ns"));
    System.out.printf(Locale.ROOT, format, "visible on all nodes p99, us (lower)", dec(b99), dec(h99),
        ratio(b99 != null && h99 != null ? b99 / h99 : null), "lower than Hazelcast",
        b99 == null || h99 == null ? "-" : yes(b99 < h99));

    Double bj = b.get("joinMBps");
    Double hj = h.get("joinMBps");
    Double joinEntries = b.getOrDefault("joinEntries", h.get("joinEntries"));
    String joinLabel = joinEntries == null ? "join, MB/s (not run)"
        : String.format(Locale.ROOT, "join, %,.0f entries, MB/s (higher)%s", joinEntries,
            options.joinWarmup > 0 ? ", warm joiner JVM" : "");
    System.out.printf(Locale.ROOT, format, joinLabel, dec(bj), dec(hj),
        ratio(bj != null && hj != null ? bj / hj : null), ">= 100 MB/s (bcache)", bj == null ? "-" : yes(bj >= 100));
    System.out.println();
    System.out.println("ratio = bcache / Hazelcast. Latency: the later of nodes 2 and 3 seeing the key, timed on node 1"
        + " (includes one loopback ack hop and up to one poll interval). Join: from the 4th node starting to join"
        + " until its local copy holds every entry.");
    if (options.isSmoke()) {
      System.out.println("SMOKE RUN: sizes below the defaults; these numbers only show that the harness works.");
    }
  }

  private static Double micros(Double nanos) {
    return nanos == null ? null : nanos / 1000.0;
  }

  /** The CPU time the node processes have used so far, all their threads together. */
  private static long processCpuNanos(List<WorkerProcess> nodes) {
    long sum = 0;
    for (WorkerProcess node : nodes) {
      sum += Long.parseLong(node.call("cpu", ANSWER_SLACK_MS).get("cpuNs"));
    }
    return sum;
  }

  /** What each node's own monitoring reports, for reading a run, not for comparing systems. */
  private static void printDiagnostics(List<WorkerProcess> nodes) {
    for (WorkerProcess node : nodes) {
      Map<String, String> fields = node.call("diagnostics", ANSWER_SLACK_MS);
      if (!fields.isEmpty()) {
        System.out.printf(Locale.ROOT, "  %s: %s%n", node.name, new java.util.TreeMap<>(fields));
      }
    }
  }

  private static String num(Double v) {
    return v == null ? "n/a" : String.format(Locale.ROOT, "%,.0f", v);
  }

  private static String dec(Double v) {
    return v == null ? "n/a" : String.format(Locale.ROOT, "%,.1f", v);
  }

  private static String ratio(Double v) {
    return v == null ? "-" : String.format(Locale.ROOT, "%.2fx", v);
  }

  private static String yes(boolean b) {
    return b ? "yes" : "NO";
  }

  private static String ms(long nanos) {
    return String.format(Locale.ROOT, "%,.1f ms", nanos / 1e6);
  }

  private static String us(double nanos) {
    return String.format(Locale.ROOT, "%,.0f us", nanos / 1e3);
  }

  // ---- options ---------------------------------------------------------------------------

  static final class Options {
    static final int DEFAULT_N = 300_000;
    static final int DEFAULT_SAMPLES = 5_000;
    static final int DEFAULT_JOIN = 1_000_000;

    static final String USAGE = String.join("\n",
        "usage: ClusterBenchmark [options]",
        "  -n N            sustained puts, keys k0..k(N-1)                 (default " + DEFAULT_N + ")",
        "  -samples N      latency samples, after -latwarmup unrecorded     (default " + DEFAULT_SAMPLES + ")",
        "  -latwarmup N    latency samples put first and not recorded       (default 10000)",
        "  -rate N         latency puts per second                          (default 1000)",
        "  -join N         entries node 1 holds when node 4 joins; 0 = skip (default " + DEFAULT_JOIN + ")",
        "  -warmup N       puts replicated per warm-up round (JIT warm-up)  (default 100000)",
        "  -warmupsec N    warm-up rounds repeat until N seconds passed     (default 15)",
        "  -systems LIST   bcache,hazelcast or one of them                  (default bcache,hazelcast)",
        "  -hzjoin BOOL    also measure Hazelcast's join                    (default true)",
        "  -joinwarmup N   joins node 4 makes and leaves in its JVM before the measured one (default 0:",
        "                  a fresh JVM; N > 0 measures a joiner whose JIT has compiled the join)",
        "  -xmx SIZE       heap of each worker JVM                          (default 512m)",
        "  -poll US        microseconds an observer parks between looks, 0 = spin (default 20)",
        "  -storeByValue B the JCache store-by-value setting for bcache     (default true, the JCache default)",
        "  -tls BOOL       bcache nodes talk mutual TLS (a key store made with keytool) (default false)",
        "  -fillbatch N    putAll batch size when filling for the join      (default 1000)",
        "  -timeout S      base bound of every step in seconds, plus 1 ms per operation (default 120)",
        "  -latdump DIR    workers write every latency sample's timestamps to DIR (see bench/README.md)",
        "  -phasegc BOOL   a full collection on every node before the latency step and the join (default true)");

    int n = DEFAULT_N;
    int samples = DEFAULT_SAMPLES;
    // the latency phase follows the sustained burst: for seconds after it, the nodes still collect
    // its garbage and recompile for single puts (pauses of 40-90 ms in -Xlog:gc); 10 s of
    // unrecorded samples measure the steady state instead, for both systems
    int latencyWarmup = 10_000;
    int rate = 1_000;
    int join = DEFAULT_JOIN;
    // a short warm-up measures the JIT, not replication: 100,000 puts took bcache from 81,000 to
    // 142,000 puts/s here, while Hazelcast's round trips do not warm up
    int warmup = 100_000;
    // one round of 100,000 puts is 0.7 s for bcache, while C2 still compiles its big methods for
    // seconds on a loaded 2-core machine (recorded with JFR); Hazelcast's one round takes longer
    int warmupSeconds = 15;
    List<String> systems = List.of("bcache", "hazelcast");
    boolean hazelcastJoin = true;
    int joinWarmup;
    String xmx = "512m";
    int pollMicros = 20;
    boolean storeByValue = true;
    int fillBatch = 1_000;
    int timeoutSeconds = 120;
    String latencyDump;
    boolean phaseGc = true;
    boolean tls;

    static Options parse(String[] args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i++) {
        String name = args[i];
        if (name.equals("-h") || name.equals("-help") || name.equals("--help")) {
          throw new IllegalArgumentException("");
        }
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("missing value for " + name);
        }
        String v = args[++i];
        switch (name) {
          case "-n": o.n = positive(name, v); break;
          case "-samples": o.samples = positive(name, v); break;
          case "-latwarmup": o.latencyWarmup = notNegative(name, v); break;
          case "-rate": o.rate = positive(name, v); break;
          case "-join": o.join = notNegative(name, v); break;
          case "-warmup": o.warmup = notNegative(name, v); break;
          case "-warmupsec": o.warmupSeconds = notNegative(name, v); break;
          case "-systems":
            o.systems = List.of(v.split(","));
            for (String s : o.systems) {
              if (!s.equals("bcache") && !s.equals("hazelcast")) {
                throw new IllegalArgumentException("unknown system " + s);
              }
            }
            break;
          case "-hzjoin": o.hazelcastJoin = Boolean.parseBoolean(v); break;
          case "-joinwarmup": o.joinWarmup = notNegative(name, v); break;
          case "-xmx": o.xmx = v; break;
          case "-poll": o.pollMicros = notNegative(name, v); break;
          case "-storeByValue": o.storeByValue = Boolean.parseBoolean(v); break;
          case "-tls": o.tls = Boolean.parseBoolean(v); break;
          case "-fillbatch": o.fillBatch = positive(name, v); break;
          case "-timeout": o.timeoutSeconds = positive(name, v); break;
          case "-phasegc": o.phaseGc = Boolean.parseBoolean(v); break;
          case "-latdump": o.latencyDump = Paths.get(v).toAbsolutePath().toString(); break;
          default: throw new IllegalArgumentException("unknown option " + name);
        }
      }
      return o;
    }

    boolean isSmoke() {
      return n < DEFAULT_N || samples < DEFAULT_SAMPLES || (join > 0 && join < DEFAULT_JOIN);
    }

    String describe() {
      return String.format(Locale.ROOT, "configured: -n %d -samples %d -latwarmup %d -rate %d -join %d -warmup %d"
          + " -warmupsec %d -systems %s -hzjoin %s -xmx %s -poll %d -storeByValue %s -fillbatch %d -timeout %d"
          + " -phasegc %s -tls %s -joinwarmup %d"
          + "%n  (100-byte values; one writer thread on node 1; observers on nodes 2 and 3; %d cores)",
          n, samples, latencyWarmup, rate, join, warmup, warmupSeconds, String.join(",", systems), hazelcastJoin, xmx,
          pollMicros, storeByValue, fillBatch, timeoutSeconds, phaseGc, tls, joinWarmup, Runtime.getRuntime().availableProcessors());
    }

    private static int positive(String name, String v) {
      int i = notNegative(name, v);
      if (i == 0) {
        throw new IllegalArgumentException(name + " must be at least 1");
      }
      return i;
    }

    private static int notNegative(String name, String v) {
      try {
        int i = Integer.parseInt(v.replace("_", ""));
        if (i < 0) {
          throw new IllegalArgumentException(name + " must not be negative");
        }
        return i;
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(name + " takes a whole number, not " + v);
      }
    }
  }
}
