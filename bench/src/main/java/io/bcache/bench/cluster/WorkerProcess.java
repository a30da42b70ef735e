package io.bcache.bench.cluster;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The coordinator's handle on one {@link ClusterNode} process: sends line commands to its
 * stdin and takes its one-line answers from stdout, each wait bounded. The worker's stderr
 * (its libraries' logs) goes to a file, whose tail is shown when the worker fails.
 */
final class WorkerProcess {

  /** Thrown when a worker answers an error, dies, or does not answer in time. */
  static final class WorkerFailed extends RuntimeException {
    WorkerFailed(String message) {
      super(message);
    }
  }

  final String name;
  private final Process process;
  private final Path log;
  private final Writer stdin;
  private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();

  WorkerProcess(String name, List<String> command, Path log) throws IOException {
    this.name = name;
    this.log = log;
    this.process = new ProcessBuilder(command)
        .redirectError(log.toFile())
        .redirectInput(ProcessBuilder.Redirect.PIPE)
        .redirectOutput(ProcessBuilder.Redirect.PIPE)
        .start();
    this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    Thread reader = new Thread(() -> {
      try (BufferedReader out = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = out.readLine()) != null; ) {
          if (line.startsWith(ClusterNode.ANSWER)) {
            answers.add(line.substring(ClusterNode.ANSWER.length()));
          }
        }
      } catch (IOException e) {
        // the process is gone; the waiter notices
      }
      answers.add("gone");
    }, "answers-" + name);
    reader.setDaemon(true);
    reader.start();
  }

  Process process() {
    return process;
  }

  /** Sends a command without waiting for its answer. */
  void send(String command) {
    try {
      stdin.write(command);
      stdin.write('\n');
      stdin.flush();
    } catch (IOException e) {
      throw new WorkerFailed(name + " does not take commands (" + e.getMessage() + ")" + logTail());
    }
  }

  /** Waits at most {@code timeoutMillis} for the next answer; returns its key=value fields. */
  Map<String, String> answer(String what, long timeoutMillis) {
    String line;
    try {
      line = answers.poll(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new WorkerFailed("interrupted while waiting for " + name);
    }
    if (line == null) {
      throw new WorkerFailed("timeout: " + name + " did not finish '" + what + "' within "
          + timeoutMillis / 1000 + " s" + logTail());
    }
    if (line.equals("gone")) {
      answers.add("gone");
      throw new WorkerFailed(name + " exited during '" + what + "'" + logTail());
    }
    if (!line.startsWith("ok")) {
      throw new WorkerFailed(name + " failed '" + what + "': " + line + logTail());
    }
    Map<String, String> fields = new HashMap<>();
    for (String token : line.split(" ")) {
      int eq = token.indexOf('=');
      if (eq > 0) {
        fields.put(token.substring(0, eq), token.substring(eq + 1));
      }
    }
    return fields;
  }

  Map<String, String> call(String command, long timeoutMillis) {
    send(command);
    return answer(command, timeoutMillis);
  }

  /** Asks the worker to close its node and exit; kills it if it has not within the bound. */
  void stop(long timeoutMillis) {
    if (process.isAlive()) {
      try {
        send("exit");
      } catch (WorkerFailed e) {
        // already closing
      }
      try {
        if (!process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
          System.err.println(name + " did not exit within " + timeoutMillis + " ms; killing it");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    kill();
  }

  /** Kills the process (and anything it started) at once. */
  void kill() {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private String logTail() {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      int from = Math.max(0, lines.size() - 15);
      return "\n--- last lines of " + log + " ---\n" + String.join("\n", lines.subList(from, lines.size()));
    } catch (IOException | RuntimeException e) {
      return " (log " + log + " unreadable)";
    }
  }
}
