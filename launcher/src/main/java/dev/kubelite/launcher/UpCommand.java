package dev.kubelite.launcher;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kubelite up}: the all-in-one cluster in this process, until Ctrl-C. */
@Command(
    name = "up",
    mixinStandardHelpOptions = true,
    description = {
      "Starts the all-in-one Kubelite cluster in one process: a single-member store (state kept in"
          + " --data-dir, so running `up` again resumes the same cluster), the API server on"
          + " --port and the control-plane components.",
      "Once the API server is ready it writes DATA-DIR/admin.kubeconfig (works with the real"
          + " kubectl too) and DATA-DIR/etcdctl.env (`source` it, then `etcdctl get / --prefix"
          + " --keys-only`). Ctrl-C stops everything cleanly.",
      "Plain HTTP on 127.0.0.1 for now: TLS and authentication arrive with the security work."
    })
public final class UpCommand implements Callable<Integer> {

  @Option(
      names = "--data-dir",
      description = "Where the cluster's state lives (default: ${DEFAULT-VALUE}).",
      defaultValue = "${sys:user.home}/.kubelite")
  Path dataDir;

  @Option(
      names = "--port",
      description = "The API server's port (default: ${DEFAULT-VALUE}).",
      defaultValue = "6443")
  int port;

  @Option(
      names = "--store-port",
      description =
          "The store's client port, for etcdctl (default: ${DEFAULT-VALUE}); its peer port is"
              + " the next one.",
      defaultValue = "2379")
  int storePort;

  @Option(
      names = "--nodes",
      description = "How many simulated nodes to run (default: ${DEFAULT-VALUE}).",
      defaultValue = "3")
  int nodes;

  @Option(
      names = "--profile",
      description =
          "Timings of node failure handling: 'kubernetes' (a silent node is Unknown after 40 s,"
              + " its pods evicted 300 s later) or 'demo' (10 s and 20 s, to watch it happen)"
              + " (default: ${DEFAULT-VALUE}).",
      defaultValue = "kubernetes")
  String profile;

  @Option(
      names = "--log-format",
      description =
          "Log lines as text (time, level, thread, logger, message) or json (one JSON object per"
              + " line) (default: ${DEFAULT-VALUE}).",
      defaultValue = "text")
  String logFormat;

  @Option(
      names = "--fresh",
      description = "Start from an empty cluster: removes the previous state in --data-dir.")
  boolean fresh;

  @Override
  public Integer call() throws Exception {
    if (nodes < 0) {
      System.err.println("kubelite up: --nodes must be 0 or more, got " + nodes);
      return 2;
    }
    if (!logFormat.equals("text") && !logFormat.equals("json")) {
      System.err.println("kubelite up: --log-format must be text or json, got " + logFormat);
      return 2;
    }
    if (!profile.equals("kubernetes") && !profile.equals("demo")) {
      System.err.println("kubelite up: --profile must be kubernetes or demo, got " + profile);
      return 2;
    }
    AllInOne cluster;
    try {
      cluster =
          AllInOne.start(
              new AllInOne.Options(
                  dataDir,
                  "127.0.0.1",
                  port,
                  storePort,
                  storePort + 1,
                  nodes,
                  fresh,
                  profile.equals("demo")));
    } catch (Exception e) {
      System.err.println(
          "kubelite up: cannot start: "
              + e
              + " (are ports "
              + port
              + ", "
              + storePort
              + " and "
              + (storePort + 1)
              + " free? see --port and --store-port)");
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  System.err.println("kubelite up: stopping (state kept in " + dataDir + ")");
                  cluster.close();
                  System.err.println("kubelite up: stopped");
                  stopped.countDown();
                },
                "kubelite-shutdown"));
    System.err.println();
    System.err.println("Kubelite is up. API server: " + cluster.apiUrl());
    System.err.println("  kubeconfig: " + cluster.kubeconfig());
    System.err.println("  try:        kubectl --kubeconfig " + cluster.kubeconfig() + " get nodes");
    System.err.println(
        "              kubectl --kubeconfig "
            + cluster.kubeconfig()
            + " create deployment web --image=nginx --replicas=3");
    System.err.println(
        "  the store:  source " + cluster.etcdctlEnv() + "; etcdctl get / --prefix --keys-only");
    System.err.println("  Ctrl-C stops the cluster; `bin/kubelite up` again resumes it.");
    System.err.println();
    stopped.await();
    return 0;
  }

  public static void main(String[] args) {
    // Logging reads its format once, when the first logger is made: set it before anything logs.
    for (int i = 0; i < args.length; i++) {
      String format =
          args[i].startsWith("--log-format=")
              ? args[i].substring("--log-format=".length())
              : args[i].equals("--log-format") && i + 1 < args.length ? args[i + 1] : null;
      if (format != null && (format.equals("text") || format.equals("json"))) {
        System.setProperty("kubelite.log.format", format);
      }
    }
    int code = new CommandLine(new UpCommand()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }
}
