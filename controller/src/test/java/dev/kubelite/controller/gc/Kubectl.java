package dev.kubelite.controller.gc;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** The real kubectl (skipped where it is not installed) against a test API server. */
public final class Kubectl {
  private final String binary;
  private final String server;
  private final Path home;

  /** Its exit code and its stdout and stderr together. */
  public record Result(int exitCode, String output) {}

  public Kubectl(Path dir, String server) throws IOException {
    this.binary = binary();
    this.server = server;
    this.home = Files.createTempDirectory(dir, "kubectl-home");
  }

  private static String binary() {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
      Path p = Path.of(dir, "kubectl");
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    Assumptions.abort("kubectl is not installed");
    throw new AssertionError("unreachable");
  }

  public Result run(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(binary);
    cmd.add("--server=" + server);
    cmd.add("--cache-dir=" + home.resolve("cache"));
    cmd.add("--request-timeout=30s");
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("HOME", home.toString());
    pb.environment().remove("KUBECONFIG");
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(90, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("kubectl " + String.join(" ", args) + " hung");
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  /** Runs and requires exit code 0; returns the output. */
  public String ok(String... args) throws IOException, InterruptedException {
    Result r = run(args);
    if (r.exitCode() != 0) {
      throw new AssertionError(
          "kubectl " + String.join(" ", args) + " exited " + r.exitCode() + ":\n" + r.output());
    }
    return r.output();
  }
}
