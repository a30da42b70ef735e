package io.bcache.bench.cluster;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

/**
 * A worker process of {@link ClusterBenchmark}: one node of the system under test, driven by
 * line commands on its stdin. Every command is answered by exactly one line on stdout that
 * starts with {@code "@@ ok "} or {@code "@@ err "}; everything else a library prints goes to
 * stderr (stdout is swapped for stderr, so a stray {@code System.out.println} in a library
 * cannot be taken for an answer).
 *
 * <p>The process ends on {@code exit}, and also when its stdin closes (the coordinator died),
 * so no worker outlives its coordinator. Every wait inside a command is bounded by the
 * timeout the command carries; a command that times out answers {@code err}.
 */
public final class ClusterNode {

  static final String CACHE_NAME = "bench";
  static final String ANSWER = "@@ ";
  static final int VALUE_BYTES = 100;

  /** Most time a close may take before the process halts anyway. */
  private static final long EXIT_GRACE_MILLIS = 15_000;

  private final Map<String, String> options;
  private final NodeBackend backend;
  private final PrintStream answers;
  private volatile ServerSocket ackServer;
  private final List<Socket> ackSockets = new ArrayList<>();

  private ClusterNode(Map<String, String> options, PrintStream answers) {
    this.options = options;
    this.backend = NodeBackend.create(options);
    this.answers = answers;
  }

  public static void main(String[] args) throws Exception {
    PrintStream answers = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
    System.setOut(System.err);
    Map<String, String> options = parse(args);

    BlockingQueue<String> commands = new LinkedBlockingQueue<>();
    Thread stdin = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          commands.add(line.trim());
        }
      } catch (IOException e) {
        // treated as end of input
      }
      // the coordinator is gone: close and exit as soon as the current command ends, and
      // halt anyway after the grace period should that command still be running
      commands.add("eof");
      haltAfterGrace();
    }, "stdin");
    stdin.setDaemon(true);
    stdin.start();

    ClusterNode node = new ClusterNode(options, answers);
    node.answer("ok ready pid=" + ProcessHandle.current().pid());
    while (true) {
      String command = commands.take();
      if (command.isEmpty()) {
        continue;
      }
      if (command.equals("exit") || command.equals("eof")) {
        node.exit(command.equals("exit"));
        return;
      }
      try {
        node.answer("ok " + node.handle(command.split(" ")));
      } catch (Throwable e) {
        e.printStackTrace();
        node.answer("err " + String.valueOf(e).replace('\n', ' '));
      }
    }
  }

  private void answer(String line) {
    answers.println(ANSWER + line);
  }

  private void exit(boolean answer) {
    haltAfterGrace();
    closeQuietly();
    if (answer) {
      answer("ok closed");
    }
    System.exit(0);
  }

  private static void haltAfterGrace() {
    Thread halt = new Thread(() -> {
      try {
        Thread.sleep(EXIT_GRACE_MILLIS);
      } catch (InterruptedException e) {
        return;
      }
      System.err.println("not closed " + EXIT_GRACE_MILLIS + " ms after exit was asked; halting");
      Runtime.getRuntime().halt(3);
    }, "exit-watchdog");
    halt.setDaemon(true);
    halt.start();
  }

  private void closeQuietly() {
    try {
      backend.close();
    } catch (Throwable e) {
      e.printStackTrace();
    }
    try {
      if (ackServer != null) {
        ackServer.close();
      }
      for (Socket s : ackSockets) {
        s.close();
      }
    } catch (IOException e) {
      // closing anyway
    }
  }

  // ---- commands -------------------------------------------------------------------------

  private String handle(String[] c) throws Exception {
    switch (c[0]) {
      case "start": {
        long t = System.nanoTime();
        backend.start();
        return "ns=" + (System.nanoTime() - t);
      }
      case "put": // put <prefix> <from> <to> [round]
        return put(c[1], Integer.parseInt(c[2]), Integer.parseInt(c[3]), c.length > 4 ? Integer.parseInt(c[4]) : 0);
      case "fill": // fill <prefix> <from> <to> <batch>
        return fill(c[1], Integer.parseInt(c[2]), Integer.parseInt(c[3]), Integer.parseInt(c[4]));
      case "await": // await <ranges> <timeoutMs> [round]
        return await(KeyRange.parseAll(c[1]), Long.parseLong(c[2]), c.length > 3 ? Integer.parseInt(c[3]) : 0);
      case "size":
        return "size=" + backend.localSize();
      case "gc": {
        long t = System.nanoTime();
        System.gc();
        return "ns=" + (System.nanoTime() - t);
      }
      case "diagnostics":
        return backend.diagnostics();
      case "leave": // closes the node, keeping the JVM: a later join starts it again
        backend.close();
        return "left=true";
      case "cpu":
        return "cpuNs=" + ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
      case "join": // join <ranges> <timeoutMs>
        return join(KeyRange.parseAll(c[1]), Long.parseLong(c[2]));
      case "acklisten":
        return ackListen();
      case "observe": // observe <port> <prefix> <count> <timeoutMs>
        return observe(Integer.parseInt(c[1]), c[2], Integer.parseInt(c[3]), Long.parseLong(c[4]));
      case "latency": // latency <prefix> <warmup> <samples> <perSecond> <observers> <pings> <timeoutMs>
        return latency(c[1], Integer.parseInt(c[2]), Integer.parseInt(c[3]), Integer.parseInt(c[4]),
            Integer.parseInt(c[5]), Integer.parseInt(c[6]), Long.parseLong(c[7]));
      default:
        throw new IllegalArgumentException("unknown command " + c[0]);
    }
  }

  /** A fresh 100-byte value for entry {@code i}: its first bytes carry i. */
  static byte[] value(int i) {
    return value(i, 0);
  }

  /** A fresh 100-byte value for entry {@code i} written in warm-up round {@code round}. */
  static byte[] value(int i, int round) {
    byte[] v = new byte[VALUE_BYTES];
    writeInt(v, 0, i);
    writeInt(v, 4, round);
    return v;
  }

  private static void writeInt(byte[] v, int at, int x) {
    v[at] = (byte) x;
    v[at + 1] = (byte) (x >>> 8);
    v[at + 2] = (byte) (x >>> 16);
    v[at + 3] = (byte) (x >>> 24);
  }

  /** The round a value was written in (see {@link #value(int, int)}). */
  static int roundOf(byte[] v) {
    return (v[4] & 0xff) | (v[5] & 0xff) << 8 | (v[6] & 0xff) << 16 | (v[7] & 0xff) << 24;
  }

  /** One thread puts [from, to) one by one, as fast as the API accepts them. */
  private String put(String prefix, int from, int to, int round) {
    long t = System.nanoTime();
    for (int i = from; i < to; i++) {
      backend.put(prefix + i, value(i, round));
    }
    return "ns=" + (System.nanoTime() - t);
  }

  /** Puts [from, to) with putAll in batches: for loading data, not for measuring puts. */
  private String fill(String prefix, int from, int to, int batch) {
    long t = System.nanoTime();
    Map<String, byte[]> chunk = new HashMap<>();
    for (int i = from; i < to; i++) {
      chunk.put(prefix + i, value(i));
      if (chunk.size() == batch || i == to - 1) {
        backend.putAll(chunk);
        chunk = new HashMap<>();
      }
    }
    return "ns=" + (System.nanoTime() - t);
  }

  /**
   * Waits until this node's local copy holds every key of the ranges (with round > 0: the
   * value that warm-up round wrote, so a round over keys already present is waited for too).
   * A cursor walks each range and only moves past keys that are there, so arrival order does
   * not matter and each key is checked until seen; when the next key is missing the thread
   * parks 100 µs.
   */
  private String await(List<KeyRange> ranges, long timeoutMillis, int round) {
    long t = System.nanoTime();
    long deadline = t + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    awaitAll(ranges, deadline, 100_000, round);
    return "ns=" + (System.nanoTime() - t);
  }

  private void awaitAll(List<KeyRange> ranges, long deadline, long parkNanos) {
    awaitAll(ranges, deadline, parkNanos, 0);
  }

  private void awaitAll(List<KeyRange> ranges, long deadline, long parkNanos, int round) {
    for (KeyRange r : ranges) {
      int next = r.from;
      while (next < r.to) {
        if (round == 0 ? backend.contains(r.prefix + next) : holdsRound(r.prefix + next, round)) {
          next++;
          continue;
        }
        if (System.nanoTime() - deadline > 0) {
          throw new IllegalStateException("timeout: " + r.prefix + next + " not seen (" + (next - r.from)
              + " of " + (r.to - r.from) + " " + r.prefix + "* keys seen, local size " + backend.localSize() + ")");
        }
        LockSupport.parkNanos(parkNanos);
      }
    }
  }

  /**
   * The joining node: starts (joins the cluster, opens the cache), then waits until its
   * local size reaches the expected count and every expected key is present. All times are
   * taken in this one JVM. Answers the time to start, to the first entry, and to the last.
   */
  private String join(List<KeyRange> ranges, long timeoutMillis) throws Exception {
    long expected = 0;
    long bytes = 0;
    for (KeyRange r : ranges) {
      expected += r.to - r.from;
      bytes += r.bytes();
    }
    long t0 = System.nanoTime();
    long deadline = t0 + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    backend.start();
    long started = System.nanoTime();
    long first = 0;
    while (true) {
      long size = backend.localSize();
      long now = System.nanoTime();
      if (first == 0 && size > 0) {
        first = now;
      }
      if (size >= expected) {
        break;
      }
      if (now - deadline > 0) {
        throw new IllegalStateException("timeout: joined node holds " + size + " of " + expected + " entries");
      }
      LockSupport.parkNanos(1_000_000); // 1 ms: the poll's own wake-ups compete with the join for the CPU
    }
    long complete = System.nanoTime();
    awaitAll(ranges, deadline, 200_000); // the count reached; every expected key is really there
    long verified = System.nanoTime();
    return "entries=" + expected + " bytes=" + bytes + " startNs=" + (started - t0) + " firstNs=" + (first - t0)
        + " completeNs=" + (complete - t0) + " verifiedNs=" + (verified - t0);
  }

  private boolean holdsRound(String key, int round) {
    byte[] v = backend.get(key);
    return v != null && roundOf(v) == round;
  }

  // ---- time until visible everywhere ------------------------------------------------------

  private String ackListen() throws IOException {
    ackServer = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    return "port=" + ackServer.getLocalPort();
  }

  /**
   * The observer side: connects to the writer's ack socket, echoes the writer's pings, then
   * polls its local copy for prefix0, prefix1, ... in order and writes each index back the
   * moment the key is seen. Polling parks {@code pollMicros} between looks (0 = spin).
   */
  private String observe(int port, String prefix, int count, long timeoutMillis) throws IOException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    long parkNanos = Long.parseLong(options.getOrDefault("pollMicros", "20")) * 1000;
    try (Socket socket = new Socket(InetAddress.getByName("127.0.0.1"), port)) {
      socket.setTcpNoDelay(true);
      socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMillis));
      DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
      DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
      out.writeUTF(options.get("name"));
      out.flush();
      for (int ping; (ping = in.readInt()) >= 0; ) {
        out.writeInt(ping);
        out.flush();
      }
      long misses = 0;
      long[] seenAt = new long[count];
      for (int i = 0; i < count; i++) {
        String key = prefix + i;
        while (!backend.contains(key)) {
          misses++;
          if ((misses & 0xff) == 0 && System.nanoTime() - deadline > 0) {
            throw new IllegalStateException("timeout: " + key + " not seen; " + i + " of " + count + " seen");
          }
          if (parkNanos > 0) {
            LockSupport.parkNanos(parkNanos);
          } else {
            Thread.onSpinWait();
          }
        }
        seenAt[i] = System.nanoTime();
        out.writeInt(i);
        out.flush();
      }
      dumpTimeline("seen", List.of("seen"), count, i -> new long[] {seenAt[i]});
      return "seen=" + count + " misses=" + misses;
    }
  }

  /**
   * The writer side of the latency measurement, all timestamps in this JVM's clock: waits
   * for the observers' connections, measures the ack path's round trip with pings, then
   * puts prefix0 .. prefix(warmup+samples-1) one at a time at a fixed schedule of
   * {@code perSecond} puts per second. Sample i's latency is the time from just before its
   * put to the arrival of the last observer's ack for it. The first {@code warmup} samples
   * are dropped.
   */
  private String latency(String prefix, int warmup, int samples, int perSecond, int observers, int pings,
      long timeoutMillis) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    int total = warmup + samples;
    ServerSocket server = ackServer;
    if (server == null) {
      throw new IllegalStateException("acklisten first");
    }
    List<DataInputStream> ins = new ArrayList<>();
    List<DataOutputStream> outs = new ArrayList<>();
    List<String> names = new ArrayList<>();
    server.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMillis));
    for (int k = 0; k < observers; k++) {
      Socket s;
      try {
        s = server.accept();
      } catch (SocketTimeoutException e) {
        throw new IllegalStateException("timeout: " + k + " of " + observers + " observers connected");
      }
      ackSockets.add(s);
      s.setTcpNoDelay(true);
      s.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMillis));
      DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
      ins.add(in);
      outs.add(new DataOutputStream(new BufferedOutputStream(s.getOutputStream())));
      names.add(in.readUTF());
    }

    // the ack path alone: ping-pong round trips to each observer, before any put
    long[] rtt = new long[pings * observers];
    int r = 0;
    for (int k = 0; k < observers; k++) {
      for (int p = 0; p < pings; p++) {
        long t = System.nanoTime();
        outs.get(k).writeInt(p);
        outs.get(k).flush();
        if (ins.get(k).readInt() != p) {
          throw new IllegalStateException("ack protocol out of step");
        }
        rtt[r++] = System.nanoTime() - t;
      }
      outs.get(k).writeInt(-1);
      outs.get(k).flush();
    }

    long[] sent = new long[total];
    long[] returned = new long[total];
    long[][] acked = new long[observers][total];
    List<Thread> readers = new ArrayList<>();
    Throwable[] readerError = new Throwable[observers];
    for (int k = 0; k < observers; k++) {
      int obs = k;
      Thread reader = new Thread(() -> {
        try {
          DataInputStream in = ins.get(obs);
          for (int n = 0; n < total; n++) {
            int i = in.readInt();
            acked[obs][i] = System.nanoTime();
          }
        } catch (EOFException e) {
          readerError[obs] = new IllegalStateException("observer " + names.get(obs) + " closed early");
        } catch (Throwable e) {
          readerError[obs] = e;
        }
      }, "ack-reader-" + names.get(k));
      reader.setDaemon(true);
      reader.start();
      readers.add(reader);
    }

    long period = 1_000_000_000L / perSecond;
    long behind = 0;
    long start = System.nanoTime();
    for (int i = 0; i < total; i++) {
      long due = start + i * period;
      long now;
      while ((now = System.nanoTime()) - due < 0) {
        LockSupport.parkNanos(due - now);
      }
      if (now - due > period) {
        behind++;
      }
      if (now - deadline > 0) {
        throw new IllegalStateException("timeout: " + i + " of " + total + " latency samples put");
      }
      sent[i] = System.nanoTime();
      backend.put(prefix + i, value(i));
      returned[i] = System.nanoTime();
    }
    for (int k = 0; k < observers; k++) {
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      readers.get(k).join(Math.max(1, left));
      if (readers.get(k).isAlive()) {
        throw new IllegalStateException("timeout: observer " + names.get(k) + " did not ack every sample");
      }
      if (readerError[k] != null) {
        throw new IllegalStateException("observer " + names.get(k) + ": " + readerError[k]);
      }
    }

    List<String> columns = new ArrayList<>(List.of("sent", "returned"));
    names.forEach(name -> columns.add("ack-" + name));
    dumpTimeline("latency", columns, total, i -> {
      long[] row = new long[2 + observers];
      row[0] = sent[i];
      row[1] = returned[i];
      for (int k = 0; k < observers; k++) {
        row[2 + k] = acked[k][i];
      }
      return row;
    });

    long[] visible = new long[samples];
    long[] putCall = new long[samples];
    for (int i = warmup; i < total; i++) {
      long last = 0;
      for (int k = 0; k < observers; k++) {
        last = Math.max(last, acked[k][i] - sent[i]);
      }
      visible[i - warmup] = last;
      putCall[i - warmup] = returned[i] - sent[i];
    }
    Arrays.sort(visible);
    Arrays.sort(putCall);
    Arrays.sort(rtt);
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("samples", samples);
    result.put("p50Ns", percentile(visible, 50));
    result.put("p90Ns", percentile(visible, 90));
    result.put("p99Ns", percentile(visible, 99));
    result.put("p999Ns", percentile(visible, 99.9));
    result.put("maxNs", visible[samples - 1]);
    result.put("putP50Ns", percentile(putCall, 50));
    result.put("putP99Ns", percentile(putCall, 99));
    result.put("ackRttP50Ns", percentile(rtt, 50));
    result.put("behind", behind);
    StringBuilder sb = new StringBuilder();
    result.forEach((k, v) -> sb.append(k).append('=').append(v).append(' '));
    return sb.toString().trim();
  }

  /**
   * With {@code --latdump=DIR}, writes one line per latency sample to DIR/kind-name.tsv: the
   * sample's index and its timestamps, raw {@link System#nanoTime()} values. On Linux that clock
   * is the same in every process, so the writer's and the observers' files line up: the time from
   * a put to an observer seeing it, and from there to the writer reading the ack, per sample. The
   * header maps the clock to wall time, to match samples against GC or safepoint logs.
   */
  private void dumpTimeline(String kind, List<String> columns, int count, IntFunction<long[]> row)
      throws IOException {
    String dir = options.get("latdump");
    if (dir == null) {
      return;
    }
    Path file = Paths.get(dir, kind + "-" + options.get("name") + ".tsv");
    try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(file))) {
      out.println("# nanoTime " + System.nanoTime() + " = " + Instant.now());
      out.println("sample\t" + String.join("\t", columns));
      for (int i = 0; i < count; i++) {
        StringBuilder line = new StringBuilder().append(i);
        for (long t : row.apply(i)) {
          line.append('\t').append(t);
        }
        out.println(line);
      }
    }
  }

  /** Nearest-rank percentile of a sorted array. */
  static long percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (String a : args) {
      int eq = a.indexOf('=');
      if (!a.startsWith("--") || eq < 0) {
        throw new IllegalArgumentException("expected --name=value, got " + a);
      }
      options.put(a.substring(2, eq), a.substring(eq + 1));
    }
    return options;
  }

  /** A range of keys prefix+from .. prefix+(to-1), written {@code prefix:from:to}. */
  static final class KeyRange {
    final String prefix;
    final int from;
    final int to;

    KeyRange(String prefix, int from, int to) {
      this.prefix = prefix;
      this.from = from;
      this.to = to;
    }

    /** Bytes of keys (UTF-8; they are ASCII) and values in the range. */
    long bytes() {
      long b = 0;
      for (int i = from; i < to; i++) {
        b += prefix.length() + Integer.toString(i).length() + VALUE_BYTES;
      }
      return b;
    }

    @Override
    public String toString() {
      return prefix + ":" + from + ":" + to;
    }

    static List<KeyRange> parseAll(String s) {
      List<KeyRange> ranges = new ArrayList<>();
      for (String part : s.split(",")) {
        String[] f = part.split(":");
        ranges.add(new KeyRange(f[0], Integer.parseInt(f[1]), Integer.parseInt(f[2])));
      }
      return ranges;
    }

    static String format(List<KeyRange> ranges) {
      StringBuilder sb = new StringBuilder();
      for (KeyRange r : ranges) {
        if (sb.length() > 0) {
          sb.append(',');
        }
        sb.append(r);
      }
      return sb.toString();
    }
  }
}
