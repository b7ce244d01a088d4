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

  /** Against a cluster's own kubeconfig (e.g. {@code kubelite up}'s admin.kubeconfig), copied. */
  public Cli(Path dir, Path kubeconfig) throws IOException {
    this.kubeconfig = dir.resolve("kubeconfig");
    Files.copy(kubeconfig, this.kubeconfig);
  }

  public Path kubeconfig() {
    return kubeconfig;
  }

  /** A command that goes on (a watch, {@code logs -f}) running in a daemon thread of this JVM. */
  public static final class Running {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();
    private volatile Integer exitCode;

    /** What it printed so far. */
    public String out() {
      return out.toString();
    }

    public String err() {
      return err.toString();
    }

    /** Its exit code once it has ended, else null. */
    public Integer exitCode() {
      return exitCode;
    }
  }

  /**
   * Starts a command that may not end by itself; it stops when what it waits on goes away (the API
   * server closing the stream when the test's cluster stops).
   */
  public Running start(String... args) {
    Running r = new Running();
    List<String> all = new ArrayList<>(List.of("--kubeconfig", kubeconfig.toString()));
    all.addAll(List.of(args));
    Thread t =
        new Thread(
            () -> {
              PrintWriter out = new PrintWriter(r.out, true);
              PrintWriter err = new PrintWriter(r.err, true);
              r.exitCode = KubectlLite.run(all.toArray(String[]::new), out, err);
            },
            "kubectl-lite " + String.join(" ", args));
    t.setDaemon(true);
    t.start();
    return r;
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
