package dev.kubelite.kubectl.testing;

import dev.kubelite.kubectl.KubectlLite;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs kubectl-lite in this JVM, as the real entry point does, against a kubeconfig it writes for
 * one API server; captures stdout, stderr and the exit code.
 */
public final class Cli {
  /** What one command printed and returned. */
  public record Result(int exitCode, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  private final Path kubeconfig;

  public Cli(Path dir, URI server) throws IOException {
    this(dir, server, null);
  }

  /** With a bearer token for the kubeconfig's user (null: none). */
  public Cli(Path dir, URI server, String token) throws IOException {
    this.kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(
        kubeconfig,
        String.join(
            "\n",
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            "- name: test",
            "  cluster:",
            "    server: " + server,
            "users:",
            "- name: admin",
            "  user: " + (token == null ? "{}" : "{token: \"" + token + "\"}"),
            "contexts:",
            "- name: test",
            "  context:",
            "    cluster: test",
            "    user: admin",
            "current-context: test",
            ""));
  }

  public Path kubeconfig() {
    return kubeconfig;
  }

  public Result run(String... args) {
    return runWithStdin("", args);
  }

  /** Runs with {@code stdin} as standard input ({@code -f -}). */
  public Result runWithStdin(String stdin, String... args) {
    List<String> all =
        new ArrayList<>(
            List.of(
                "--kubeconfig",
                kubeconfig.toString(),
                "--cache-dir",
                kubeconfig.resolveSibling("cache").toString()));
    all.addAll(List.of(args));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        KubectlLite.run(
            all.toArray(String[]::new),
            new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
            new PrintWriter(out),
            new PrintWriter(err));
    return new Result(code, out.toString(), err.toString());
  }
}
