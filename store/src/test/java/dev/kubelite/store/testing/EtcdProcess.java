package dev.kubelite.store.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * A real etcd (Debian's etcd-server, 3.4) started by a test on free loopback ports, for
 * differential and compatibility tests. Outside CI a machine without etcd skips such tests; in CI
 * ({@code CI=true}, where .ci/run installs etcd) a missing binary fails them.
 */
public final class EtcdProcess implements AutoCloseable {
  public final String name;
  public final String token;
  public final int clientPort;
  public final int peerPort;
  public final Path dataDir;
  private final Process process;
  private final Path logFile;

  private EtcdProcess(
      String name, String token, Path dataDir, Path logFile, List<String> extraFlags)
      throws IOException {
    this.name = name;
    this.token = token;
    this.dataDir = dataDir;
    this.logFile = logFile;
    this.clientPort = FreePorts.next();
    this.peerPort = FreePorts.next();
    List<String> cmd = new ArrayList<>();
    cmd.add(binary("etcd"));
    cmd.addAll(
        List.of(
            "--name", name,
            "--data-dir", dataDir.toString(),
            "--listen-client-urls", clientUrl(),
            "--advertise-client-urls", clientUrl(),
            "--listen-peer-urls", peerUrl(),
            "--initial-advertise-peer-urls", peerUrl(),
            "--initial-cluster", name + "=" + peerUrl(),
            "--initial-cluster-token", token,
            "--initial-cluster-state", "new"));
    cmd.addAll(extraFlags);
    this.process =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
            .start();
  }

  /** Starts a single-member etcd under {@code workDir} and waits until it serves requests. */
  public static EtcdProcess start(Path workDir, String name, String token) throws IOException {
    return start(workDir, name, token, List.of());
  }

  /** As {@link #start(Path, String, String)}, with more etcd flags (e.g. a quota). */
  public static EtcdProcess start(Path workDir, String name, String token, List<String> extraFlags)
      throws IOException {
    Path data = workDir.resolve(name + ".etcd");
    Path log = workDir.resolve(name + ".log");
    EtcdProcess etcd = new EtcdProcess(name, token, data, log, extraFlags);
    try {
      await()
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> etcd.etcdctl("endpoint", "health").exitCode() == 0);
    } catch (RuntimeException e) {
      String output = Files.exists(log) ? Files.readString(log) : "(no log)";
      etcd.close();
      throw new IllegalStateException("etcd did not become healthy; its log:\n" + output, e);
    }
    return etcd;
  }

  public String clientUrl() {
    return "http://127.0.0.1:" + clientPort;
  }

  public String peerUrl() {
    return "http://127.0.0.1:" + peerPort;
  }

  /** Output and exit code of an {@code etcdctl} command against this etcd. */
  public record Result(int exitCode, String output) {}

  public Result etcdctl(String... args) throws IOException, InterruptedException {
    return Etcdctl.run(clientUrl(), args);
  }

  /** Finds an installed tool, or skips (locally) / fails (in CI) the test. */
  public static String binary(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
      Path p = Path.of(dir, tool);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    if ("true".equals(System.getenv("CI"))) {
      throw new IllegalStateException(
          tool
              + " is not installed; .ci/run must install it (apt-get install etcd-server etcd-client)");
    }
    Assumptions.abort(tool + " is not installed (apt-get install etcd-server etcd-client)");
    throw new AssertionError("unreachable");
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The real {@code etcdctl} (API v3) against fixed endpoints: {@link #call} gives exit code and
   * output, {@link #ok} and {@link #fails} also assert the exit code (naming the command and its
   * output when it is not the expected one).
   */
  public static final class Etcdctl {
    private final String endpoints;

    /** {@code endpoints} as etcdctl's {@code --endpoints} takes them, e.g. 127.0.0.1:2379. */
    public Etcdctl(String endpoints) {
      this.endpoints = endpoints;
    }

    public static Result run(String endpoints, String... args)
        throws IOException, InterruptedException {
      return new Etcdctl(endpoints).call(args);
    }

    /** Runs a command, whatever its outcome. */
    public Result call(String... args) throws IOException, InterruptedException {
      return withInput(null, args);
    }

    /** The header revision in a {@code -w json} answer. */
    public static long revision(String json) {
      Matcher m = Pattern.compile("\"revision\":(\\d+)").matcher(json);
      assertThat(m.find()).as("a revision in %s", json).isTrue();
      return Long.parseLong(m.group(1));
    }

    /** Runs a command that must succeed. */
    public Result ok(String... args) throws IOException, InterruptedException {
      Result r = call(args);
      assertThat(r.exitCode()).as("etcdctl %s: %s", String.join(" ", args), r.output()).isZero();
      return r;
    }

    /** Runs a command that must fail. */
    public Result fails(String... args) throws IOException, InterruptedException {
      Result r = call(args);
      assertThat(r.exitCode()).as("etcdctl %s: %s", String.join(" ", args), r.output()).isNotZero();
      return r;
    }

    /** Runs a command with {@code input} (if not null) on its standard input. */
    public Result withInput(String input, String... args) throws IOException, InterruptedException {
      Process p = command(args).redirectErrorStream(true).start();
      if (input != null) {
        try (var in = p.getOutputStream()) {
          in.write(input.getBytes(StandardCharsets.UTF_8));
        }
      }
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("etcdctl " + String.join(" ", args) + " hung");
      }
      return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    /**
     * The process builder for a command (API v3, these endpoints, short timeouts), for commands
     * that keep running, such as {@code watch}; the caller starts and stops it.
     */
    public ProcessBuilder command(String... args) {
      List<String> cmd = new ArrayList<>();
      cmd.add(binary("etcdctl"));
      cmd.add("--endpoints=" + endpoints);
      cmd.add("--dial-timeout=2s");
      cmd.add("--command-timeout=5s");
      cmd.addAll(List.of(args));
      ProcessBuilder pb = new ProcessBuilder(cmd);
      pb.environment().put("ETCDCTL_API", "3");
      return pb;
    }
  }
}
