package io.bcache.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link LocalCacheBenchmark} for both providers and prints one row per (benchmark,
 * storeByValue): bcache's score, Caffeine's score and the ratio bcache/Caffeine, next to the
 * product brief's target for that ratio (get at least 1.5, put at least 1.0).
 *
 * <p>Usage: {@code java -cp bench/target/benchmarks.jar io.bcache.bench.CompareMain [options]}
 *
 * <p>Options, each also settable as a system property ({@code -Dbench.forks=2}); an argument
 * wins over the property, and without either the benchmark class's annotations apply:
 *
 * <pre>
 *   -f  N     forks                      (bench.forks)
 *   -wi N     warmup iterations          (bench.warmupIterations)
 *   -i  N     measurement iterations     (bench.iterations)
 *   -w  SECS  warmup iteration time      (bench.warmupTime)
 *   -r  SECS  measurement iteration time (bench.time)
 *   -t  N     threads                    (bench.threads)
 * </pre>
 */
public final class CompareMain {

  private CompareMain() {}

  public static void main(String[] args) throws RunnerException {
    Map<String, String> options = parse(args);

    ChainedOptionsBuilder builder = new OptionsBuilder()
        .include("^" + Pattern.quote(LocalCacheBenchmark.class.getName()) + "\\.");
    String value;
    if ((value = option(options, "-f", "bench.forks")) != null) {
      builder.forks(Integer.parseInt(value));
    }
    if ((value = option(options, "-wi", "bench.warmupIterations")) != null) {
      builder.warmupIterations(Integer.parseInt(value));
    }
    if ((value = option(options, "-i", "bench.iterations")) != null) {
      builder.measurementIterations(Integer.parseInt(value));
    }
    if ((value = option(options, "-w", "bench.warmupTime")) != null) {
      builder.warmupTime(TimeValue.seconds(Long.parseLong(value)));
    }
    if ((value = option(options, "-r", "bench.time")) != null) {
      builder.measurementTime(TimeValue.seconds(Long.parseLong(value)));
    }
    if ((value = option(options, "-t", "bench.threads")) != null) {
      builder.threads(Integer.parseInt(value));
    }

    Collection<RunResult> results = new Runner(builder.build()).run();
    System.out.println();
    System.out.print(table(results));
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> options = new TreeMap<>();
    for (int i = 0; i < args.length; i++) {
      String name = args[i];
      if (!List.of("-f", "-wi", "-i", "-w", "-r", "-t").contains(name)) {
        usage("unknown option: " + name);
      }
      if (i + 1 >= args.length) {
        usage("missing value after " + name);
      }
      String value = args[++i];
      if (!value.matches("\\d+")) {
        usage("not a whole number after " + name + ": " + value);
      }
      options.put(name, value);
    }
    return options;
  }

  private static String option(Map<String, String> options, String flag, String property) {
    String value = options.get(flag);
    if (value == null) {
      value = System.getProperty(property);
      if (value != null && !value.matches("\\d+")) {
        usage("not a whole number in -D" + property + ": " + value);
      }
    }
    return value;
  }

  private static void usage(String problem) {
    System.err.println(problem);
    System.err.println("usage: CompareMain [-f forks] [-wi warmupIterations] [-i iterations]"
        + " [-w warmupSeconds] [-r iterationSeconds] [-t threads]");
    System.exit(2);
  }

  /** One cell: a provider's score for one (benchmark, storeByValue). */
  private record Score(double score, double error, String unit) {}

  static String table(Collection<RunResult> results) {
    // benchmark method -> storeByValue -> provider -> score
    Map<String, Map<String, Map<String, Score>>> rows = new TreeMap<>();
    for (RunResult run : results) {
      String method = run.getParams().getBenchmark();
      method = method.substring(method.lastIndexOf('.') + 1);
      Result<?> primary = run.getPrimaryResult();
      rows.computeIfAbsent(method, k -> new TreeMap<>())
          .computeIfAbsent(run.getParams().getParam("storeByValue"), k -> new TreeMap<>())
          .put(run.getParams().getParam("provider"),
              new Score(primary.getScore(), primary.getScoreError(), primary.getScoreUnit()));
    }

    List<String[]> lines = new ArrayList<>();
    lines.add(new String[] {
        "benchmark", "storeByValue", "bcache", "caffeine", "bcache/caffeine", "target", "meets"});
    for (var byMethod : rows.entrySet()) {
      for (var byStore : byMethod.getValue().entrySet()) {
        Score bcache = byStore.getValue().get("bcache");
        Score caffeine = byStore.getValue().get("caffeine");
        double target = byMethod.getKey().equals("get") ? 1.5 : 1.0;
        String ratio = "n/a";
        String meets = "n/a";
        if (bcache != null && caffeine != null && caffeine.score() > 0) {
          double r = bcache.score() / caffeine.score();
          ratio = String.format(Locale.ROOT, "%.2fx", r);
          meets = r >= target ? "yes" : "NO";
        }
        lines.add(new String[] {
            byMethod.getKey(), byStore.getKey(), cell(bcache), cell(caffeine), ratio,
            String.format(Locale.ROOT, ">= %.2fx", target), meets});
      }
    }

    int[] widths = new int[lines.get(0).length];
    for (String[] line : lines) {
      for (int c = 0; c < line.length; c++) {
        widths[c] = Math.max(widths[c], line[c].length());
      }
    }
    StringBuilder out = new StringBuilder();
    String unit = results.isEmpty() ? "" : results.iterator().next().getPrimaryResult().getScoreUnit();
    out.append("bcache vs Caffeine JCache, local throughput (").append(unit)
        .append(", higher is better; ratio > 1 means bcache is faster)\n");
    for (int l = 0; l < lines.size(); l++) {
      String[] line = lines.get(l);
      for (int c = 0; c < line.length; c++) {
        // text columns left-aligned, numbers right-aligned
        String format = c < 2 ? "%-" + widths[c] + "s" : "%" + widths[c] + "s";
        out.append(String.format(Locale.ROOT, format, line[c]));
        out.append(c < line.length - 1 ? "  " : "\n");
      }
      if (l == 0) {
        int total = 0;
        for (int w : widths) {
          total += w + 2;
        }
        out.append("-".repeat(total - 2)).append('\n');
      }
    }
    out.append("meets: the point estimates only; compare the +- errors before trusting a close call.\n");
    return out.toString();
  }

  private static String cell(Score score) {
    if (score == null) {
      return "n/a";
    }
    if (Double.isNaN(score.error())) {
      return String.format(Locale.ROOT, "%.3f", score.score());
    }
    return String.format(Locale.ROOT, "%.3f +- %.3f", score.score(), score.error());
  }
}
