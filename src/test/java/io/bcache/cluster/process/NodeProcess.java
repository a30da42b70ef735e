package io.bcache.cluster.process;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@link NodeMain} in its own JVM (same java executable, the test class path, {@code -Xmx256m}),
 * driven over stdin/stdout with a timeout on every answer. Its stderr (the node's log) goes to
 * {@code target/process-logs/<cluster>-<node>.log}. It can be killed ({@code kill -9}), paused
 * ({@code SIGSTOP}) and resumed ({@code SIGCONT}); {@link #destroy()} and a JVM shutdown hook make
 * sure no node outlives its test.
 */
final class NodeProcess implements AutoCloseable {

  static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
  static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);
  private static final Path LOG_DIR = Path.of("target", "process-logs");
  private static final String EOF = "\u0000EOF";

  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly),
        "node-process-reaper"));
  }

  private final String name;
  private final Process process;
  private final Writer stdin;
  private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
  private final Path log;
  private boolean paused;

  private NodeProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    Thread reader = new Thread(this::readAnswers, "node-" + name + "-stdout");
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Starts a node; {@link #awaitReady()} waits for it to have joined. {@code extraArgs} are the
   * optional bind address and secret of {@link NodeMain}.
   */
  static NodeProcess start(String zookeeper, String cluster, String name, int maxEntries, String... extraArgs) {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElseThrow(
        () -> new IllegalStateException("cannot tell which java runs this JVM")));
    command.add("-Xmx256m");
    command.add("-XX:+UseSerialGC");
    command.add("-Djava.net.preferIPv4Stack=true");
    command.add("-Dorg.slf4j.simpleLogger.showDateTime=true");
    command.add("-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(NodeMain.class.getName());
    command.add(zookeeper);
    command.add(cluster);
    command.add(name);
    command.add(Integer.toString(maxEntries));
    command.addAll(List.of(extraArgs));
    try {
      Files.createDirectories(LOG_DIR);
      Path log = LOG_DIR.resolve(cluster + "-" + name + ".log");
      Process process = new ProcessBuilder(command)
          .redirectError(ProcessBuilder.Redirect.to(log.toFile()))
          .start();
      LIVE.add(process);
      return new NodeProcess(name, process, log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start node " + name, e);
    }
  }

  String name() {
    return name;
  }

  long pid() {
    return process.pid();
  }

  /** Waits for the {@code READY} line: the node has joined the cluster and created its cache. */
  NodeProcess awaitReady() {
    String line = nextAnswer(READY_TIMEOUT, "READY");
    if (!line.startsWith("READY ")) {
      throw failure("expected READY, got: " + line);
    }
    return this;
  }

  /** Sends one command line and returns its answer line; an {@code ERR} answer throws. */
  synchronized String command(String line, Duration timeout) {
    if (paused) {
      throw new IllegalStateException("node " + name + " is paused; it cannot answer " + line);
    }
    try {
      stdin.write(line);
      stdin.write('\n');
      stdin.flush();
    } catch (IOException e) {
      throw failure("cannot send '" + line + "': " + e);
    }
    String answer = nextAnswer(timeout, line);
    if (answer.startsWith("ERR")) {
      throw failure("'" + line + "' failed: " + answer);
    }
    return answer;
  }

  String command(String line) {
    return command(line, COMMAND_TIMEOUT);
  }

  void put(String key, String value) {
    expectOk(command("put " + key + " " + value));
  }

  /** Puts {@code prefix0 .. prefix(count-1)}, each with the value {@link NodeMain#valueOf}. */
  void putMany(String prefix, int count) {
    expectOk(command("putmany " + prefix + " " + count, Duration.ofSeconds(180)));
  }

  /** The value, or null when the node holds none. */
  String get(String key) {
    String answer = command("get " + key);
    if (answer.equals("ABSENT")) {
      return null;
    }
    if (answer.startsWith("VALUE ")) {
      return answer.substring("VALUE ".length());
    }
    throw failure("unexpected answer to get: " + answer);
  }

  /** How many members the node's cluster MXBean counts, itself included. */
  int members() {
    return Integer.parseInt(expectOk(command("members")));
  }

  /** Whether the node's cluster MXBean says it is syncing. */
  boolean syncing() {
    return Boolean.parseBoolean(expectOk(command("syncing")));
  }

  boolean remove(String key) {
    return Boolean.parseBoolean(expectOk(command("remove " + key)));
  }

  long count() {
    return Long.parseLong(expectOk(command("count")));
  }

  /** The {@link ContentDigest} of everything the node iterates over. */
  String digest() {
    return expectOk(command("digest"));
  }

  /** Closes the node's CacheManager (the answer comes once close() returned) and waits for exit 0. */
  void closeCleanly() {
    String answer = command("close");
    if (!answer.equals("CLOSED")) {
      throw failure("unexpected answer to close: " + answer);
    }
    try {
      if (!process.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        throw failure("did not exit after close");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw failure("interrupted waiting for exit");
    }
    LIVE.remove(process);
    if (process.exitValue() != 0) {
      throw failure("exited with " + process.exitValue() + " after close");
    }
  }

  /** How a node's JVM is ended without the test closing its CacheManager. */
  enum Ending {
    /** The node calls {@code System.exit(0)} itself. */
    EXIT,
    /** SIGTERM. */
    SIGTERM,
    /**
     * SIGTERM with the node's stdin closed at the same moment ({@link Process#destroy()}): the
     * node's main thread closes the CacheManager itself while the JVM shuts down.
     */
    SIGTERM_AND_END_OF_INPUT
  }

  /** Ends the node's JVM in an orderly way (its shutdown hooks run) and waits for it to end. */
  void end(Ending ending) {
    switch (ending) {
      case EXIT -> {
        String answer = command("exit");
        if (!answer.equals("EXITING")) {
          throw failure("unexpected answer to exit: " + answer);
        }
      }
      case SIGTERM -> process.toHandle().destroy(); // the pipes stay open, as for a real SIGTERM
      case SIGTERM_AND_END_OF_INPUT -> process.destroy();
      default -> throw new AssertionError(ending);
    }
    try {
      if (!process.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        throw failure("still running after " + ending);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw failure("interrupted waiting for exit");
    }
    LIVE.remove(process);
  }

  /** kill -9: the node gets no chance to flush or leave. */
  void kill() {
    process.destroyForcibly();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw failure("still running 30 s after SIGKILL");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    LIVE.remove(process);
    paused = false;
  }

  /** SIGSTOP: the JVM freezes with every socket open. */
  synchronized void pause() {
    signal("STOP");
    paused = true;
  }

  /** SIGCONT. */
  synchronized void resume() {
    signal("CONT");
    paused = false;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Kills the process if it is still running; safe to call at any time, also when paused. */
  void destroy() {
    if (process.isAlive()) {
      process.destroyForcibly(); // SIGKILL also ends a stopped process
      try {
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    LIVE.remove(process);
  }

  @Override
  public void close() {
    destroy();
  }

  /** The last lines of the node's log, for failure messages. */
  String logTail(int lines) {
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public String toString() {
    return "node " + name + " (pid " + process.pid() + ")";
  }

  private void signal(String signal) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
          .redirectErrorStream(true).start();
      if (!kill.waitFor(10, TimeUnit.SECONDS)) {
        kill.destroyForcibly();
        throw failure("kill -" + signal + " did not finish");
      }
      if (kill.exitValue() != 0) {
        throw failure("kill -" + signal + " exited with " + kill.exitValue());
      }
    } catch (IOException e) {
      throw failure("cannot run kill -" + signal + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw failure("interrupted sending SIG" + signal);
    }
  }

  private String expectOk(String answer) {
    if (answer.equals("OK")) {
      return "";
    }
    if (answer.startsWith("OK ")) {
      return answer.substring(3);
    }
    throw failure("unexpected answer: " + answer);
  }

  private String nextAnswer(Duration timeout, String waitingFor) {
    String line;
    try {
      line = answers.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw failure("interrupted waiting for the answer to '" + waitingFor + "'");
    }
    if (line == null) {
      throw failure("no answer to '" + waitingFor + "' within " + timeout);
    }
    if (line.equals(EOF)) {
      answers.add(EOF); // every later call fails the same way
      throw failure("stdout closed (process alive: " + process.isAlive() + ") waiting for '" + waitingFor + "'");
    }
    return line;
  }

  private void readAnswers() {
    try (BufferedReader out = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = out.readLine()) != null; ) {
        answers.add(line);
      }
    } catch (IOException e) {
      // the process is gone; the EOF marker below reports it
    }
    answers.add(EOF);
  }

  private IllegalStateException failure(String message) {
    return new IllegalStateException(this + ": " + message + "\n--- last lines of " + log + " ---\n" + logTail(30));
  }
}
