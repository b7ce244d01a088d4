package dev.kubelite.apiserver.testing;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs the real kubectl against an API server, with its own kubeconfig, HOME and discovery cache,
 * so nothing of the machine's kubectl setup leaks in. Shared with the other modules' tests through
 * this module's test-jar.
 */
public final class Kubectl {
  private final Path home;
  private final Path kubeconfig;
  private final String binary;
  private final Duration hangAfter;

  /** A kubectl run's exit code and its stdout and stderr together. */
  public record Result(int exitCode, String output) {}

  /** kubectl for {@code server}, namespace {@code default}; its files go under {@code dir}. */
  public Kubectl(Path dir, String server) throws IOException {
    this(dir, server, "default", Duration.ofSeconds(120));
  }

  /**
   * @param hangAfter how long one command may run before the test fails it as hung
   */
  public Kubectl(Path dir, String server, String namespace, Duration hangAfter) throws IOException {
    this(dir, server, namespace, hangAfter, null);
  }

  /** With a bearer token for the user (null: no credentials). */
  public Kubectl(Path dir, String server, String namespace, Duration hangAfter, String token)
      throws IOException {
    this.binary = binary();
    this.hangAfter = hangAfter;
    this.home = Files.createTempDirectory(dir, "kubectl-home");
    this.kubeconfig = home.resolve("config");
    Files.writeString(
        kubeconfig,
        """
        apiVersion: v1
        kind: Config
        clusters:
        - cluster:
            server: %s
          name: kubelite
        contexts:
        - context:
            cluster: kubelite
            namespace: %s
            user: nobody
          name: kubelite
        current-context: kubelite
        users:
        - name: nobody
          user: %s
        """
            .formatted(server, namespace, token == null ? "{}" : "{token: " + token + "}"));
  }

  /** kubectl with this kubeconfig (e.g. with certificates or a token) instead of the default. */
  public static Kubectl withKubeconfig(Path dir, String kubeconfigYaml) throws IOException {
    Kubectl k = new Kubectl(dir, "http://unused");
    Files.writeString(k.kubeconfig, kubeconfigYaml);
    return k;
  }

  /** The installed kubectl, or the test is skipped (kubectl is not a Debian package everywhere). */
  public static String binary() {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
      Path p = Path.of(dir, "kubectl");
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    Assumptions.abort("kubectl is not installed (.ci/run installs it where apt has it)");
    throw new AssertionError("unreachable");
  }

  public ProcessBuilder command(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(binary);
    cmd.add("--kubeconfig=" + kubeconfig);
    cmd.add("--cache-dir=" + home.resolve("cache"));
    cmd.add("--request-timeout=30s");
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("HOME", home.toString());
    pb.environment().remove("KUBECONFIG");
    return pb;
  }

  public Result run(String... args) throws IOException, InterruptedException {
    Process p = command(args).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(hangAfter.toMillis(), TimeUnit.MILLISECONDS)) {
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

  public Path home() {
    return home;
  }
}
