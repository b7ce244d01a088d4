package dev.kubelite.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
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
      "Secure by default, as a kubeadm cluster: on the first start it makes the cluster's PKI in"
          + " DATA-DIR/pki (CAs, certificates, keys; reused on restart), the store requires client"
          + " certificates of its CA, the API server serves HTTPS, authenticates every request"
          + " (client certificates, ServiceAccount tokens; no anonymous access) and authorizes it"
          + " with Node,RBAC: the scheduler, controller manager and simulated nodes each run with"
          + " their own certificate and bootstrap role (DATA-DIR/scheduler.conf,"
          + " controller-manager.conf, kubelet.conf).",
      "Once the API server is ready it writes DATA-DIR/admin.kubeconfig (the CA and the admin's"
          + " client certificate embedded; works with the real kubectl too) and"
          + " DATA-DIR/etcdctl.env (`source` it, then `etcdctl get / --prefix --keys-only`)."
          + " Ctrl-C stops everything cleanly.",
      "With --ha it starts three control-plane members as three processes instead (each a store"
          + " member, an API server, a scheduler and a controller manager with leader election),"
          + " the simulated nodes as a fourth, and a load balancer on --port in front of the"
          + " members' API servers (ports --port+1..+3); the stores use --store-port..+5.",
      "Every component's log lines are shown here and kept in DATA-DIR/logs/kubelite.log, each"
          + " tagged with its component (and member): `kubelite logs -f` follows them.",
      "Everything listens on 127.0.0.1. --insecure-port adds a plain-HTTP API without"
          + " authentication, for local demos only. See docs/security.md."
    })
public final class UpCommand implements Callable<Integer> {

  @Option(
      names = "--data-dir",
      description = "Where the cluster's state lives (default: ${DEFAULT-VALUE}).",
      defaultValue = "${sys:user.home}/.kubelite")
  Path dataDir;

  @Option(
      names = "--port",
      description =
          "The API server's port (default: ${DEFAULT-VALUE}); under --ha the load balancer's,"
              + " and the members' API servers use the next three.",
      defaultValue = "6443")
  int port;

  @Option(
      names = "--store-port",
      description =
          "The store's client port, for etcdctl (default: ${DEFAULT-VALUE}); its peer port is"
              + " the next one. Under --ha member i uses this +2i (client) and +2i+1 (peer).",
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
          "Log lines as text ([component] time level thread logger: message) or json (one JSON"
              + " object per line) (default: ${DEFAULT-VALUE}).",
      defaultValue = "text")
  String logFormat;

  @Option(
      names = "--ha",
      description =
          "Run three control-plane members as separate processes (stacked store members, API"
              + " servers, schedulers and controller managers with leader election) behind a"
              + " load balancer on --port; member i's API server on --port+1+i, its store on"
              + " --store-port+2i (client) and +2i+1 (peer), its data in DATA-DIR/member-i.")
  boolean ha;

  @Option(
      names = "--insecure-port",
      paramLabel = "PORT",
      description =
          "Also serve the API on plain HTTP on this port WITHOUT authentication (every client is"
              + " a cluster admin): an explicit opt-in for local demos. Not with --ha.",
      defaultValue = "0")
  int insecurePort;

  @Option(
      names = "--snapshot-count",
      description =
          "The store's --snapshot-count: applied entries between two Raft snapshots (0: etcd's"
              + " default, 100000). Not with --ha.",
      defaultValue = "0")
  long snapshotCount;

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
    if (snapshotCount < 0 || (snapshotCount != 0 && ha)) {
      System.err.println(
          "kubelite up: --snapshot-count must be 0 or more and is not offered with --ha");
      return 2;
    }
    if (insecurePort < 0 || insecurePort > 65535 || (insecurePort != 0 && ha)) {
      System.err.println(
          "kubelite up: --insecure-port must be a port (1-65535) and is not offered with --ha");
      return 2;
    }
    // Every line this process writes (its log lines, the messages below) goes to the cluster's
    // log too, tagged; under --ha the members' lines join them.
    if (fresh) {
      Files.deleteIfExists(ClusterLog.file(dataDir));
    }
    ClusterLog clusterLog = ClusterLog.open(dataDir, System.err);
    System.setErr(clusterLog.stream("up"));
    // The hook is in place before anything starts: a SIGTERM that lands while the cluster is
    // still starting (or right after its "up" log line) must stop it, not find the JVM already
    // shutting down with no hook to run.
    StopOnShutdown stop = new StopOnShutdown();
    try {
      return ha ? runHa(clusterLog, stop) : runAllInOne(stop);
    } finally {
      stop.started(null); // no-op once a cluster was handed over
    }
  }

  private int runAllInOne(StopOnShutdown stop) throws InterruptedException {
    AllInOne cluster;
    try {
      cluster =
          AllInOne.start(
              AllInOne.Options.builder(dataDir, port, storePort, storePort + 1)
                  .nodes(nodes)
                  .fresh(fresh)
                  .demoTimeouts(profile.equals("demo"))
                  .insecurePort(insecurePort)
                  .snapshotCount(snapshotCount)
                  .build());
    } catch (Exception e) {
      return startFailed(
          stop,
          "kubelite up: cannot start: "
              + e
              + " (are ports "
              + port
              + ", "
              + storePort
              + " and "
              + (storePort + 1)
              + " free? see --port and --store-port)");
    }
    stop.started(cluster);
    System.err.println();
    System.err.println("Kubelite is up. API server: " + cluster.apiUrl());
    if (cluster.insecureUrl() != null) {
      System.err.println(
          "  WARNING: plain HTTP without authentication on " + cluster.insecureUrl());
    }
    System.err.println("  kubeconfig: " + cluster.kubeconfig());
    tryLines(cluster.kubeconfig());
    System.err.println(
        "  the store:  source " + cluster.etcdctlEnv() + "; etcdctl get / --prefix --keys-only");
    logsLine();
    System.err.println("  Ctrl-C stops the cluster; `bin/kubelite up` again resumes it.");
    System.err.println();
    stop.awaitStopped();
    return 0;
  }

  private int runHa(ClusterLog clusterLog, StopOnShutdown stop) throws Exception {
    if (fresh) {
      HaCluster.wipe(dataDir);
    }
    HaCluster cluster;
    try {
      cluster =
          HaCluster.start(
              new HaCluster.Options(
                  dataDir,
                  port,
                  storePort,
                  nodes,
                  profile.equals("demo"),
                  logFormat,
                  Duration.ofSeconds(120)),
              clusterLog);
    } catch (Exception e) {
      return startFailed(
          stop,
          "kubelite up --ha: cannot start: "
              + e.getMessage()
              + " (are ports "
              + port
              + "-"
              + (port + HaCluster.MEMBERS)
              + " and "
              + storePort
              + "-"
              + (storePort + 2 * HaCluster.MEMBERS - 1)
              + " free? see --port and --store-port)");
    }
    stop.started(cluster);
    System.err.println();
    System.err.println(
        "Kubelite is up (HA: "
            + HaCluster.MEMBERS
            + " control-plane members). API server (load balancer): "
            + cluster.apiUrl());
    for (HaCluster.Child m : cluster.members()) {
      System.err.println(
          "  "
              + m.name()
              + "  pid "
              + m.process().pid()
              + "  API server "
              + m.apiUrl()
              + "  store "
              + m.storeUrl()
              + " (peer port "
              + m.storePeerPort()
              + ")");
    }
    if (cluster.nodes() != null) {
      System.err.println(
          "  nodes     pid "
              + cluster.nodes().process().pid()
              + "  "
              + nodes
              + " simulated nodes (kubelet)");
    }
    System.err.println(
        "  kubeconfig: "
            + cluster.kubeconfig()
            + " (context kubelite: the load balancer; member-0..2: one member each)");
    tryLines(cluster.kubeconfig());
    System.err.println(
        "  the store:  source "
            + cluster.etcdctlEnv()
            + "; etcdctl endpoint status -w table   (which member leads)");
    System.err.println(
        "  failover:   kill -9 the leader's pid above: the others carry on, then it is restarted");
    logsLine();
    System.err.println("  Ctrl-C stops the cluster; `bin/kubelite up --ha` again resumes it.");
    System.err.println();
    stop.awaitStopped();
    return 0;
  }

  private static void tryLines(Path kubeconfig) {
    // kubectl-lite finds the default data dir's kubeconfig by itself; elsewhere it is named.
    String flag =
        kubeconfig
                .toAbsolutePath()
                .equals(
                    Path.of(System.getProperty("user.home"), ".kubelite", "admin.kubeconfig")
                        .toAbsolutePath())
            ? ""
            : " --kubeconfig " + kubeconfig;
    System.err.println("  try:        bin/kubectl-lite" + flag + " get nodes");
    System.err.println(
        "              bin/kubectl-lite" + flag + " apply -f manifests/deployment.yaml");
    System.err.println(
        "              (the real kubectl works too: kubectl --kubeconfig " + kubeconfig + " ...)");
  }

  /**
   * The exit code of a start that threw: 0 when Ctrl-C or SIGTERM came first (libraries refuse to
   * start once the JVM is shutting down, and the failed start closed what it had started), else 1
   * after printing {@code error}.
   */
  private int startFailed(StopOnShutdown stop, String error) {
    if (stop.jvmShuttingDown()) {
      System.err.println("kubelite up: stopped while starting (state kept in " + dataDir + ")");
      return 0;
    }
    System.err.println(error);
    return 1;
  }

  private void logsLine() {
    System.err.println(
        "  logs:       bin/kubelite logs -f --data-dir "
            + dataDir
            + "   (every component's lines, tagged; also "
            + ClusterLog.file(dataDir)
            + ")");
  }

  /**
   * Closes the cluster when the JVM shuts down (Ctrl-C, SIGTERM). Registered before the cluster
   * starts; the hook waits for the start to finish, then closes what it got.
   */
  private final class StopOnShutdown {
    private final CompletableFuture<AutoCloseable> cluster = new CompletableFuture<>();
    private final CountDownLatch stopped = new CountDownLatch(1);

    StopOnShutdown() {
      Runtime.getRuntime().addShutdownHook(new Thread(this::stop, "kubelite-shutdown"));
    }

    /** Hands over the started cluster, or {@code null} when none started. */
    void started(AutoCloseable startedCluster) {
      cluster.complete(startedCluster);
    }

    /** Whether the JVM is already shutting down (a shutdown hook can no longer be added). */
    boolean jvmShuttingDown() {
      Thread probe = new Thread(() -> {});
      try {
        Runtime.getRuntime().addShutdownHook(probe);
        Runtime.getRuntime().removeShutdownHook(probe);
        return false;
      } catch (IllegalStateException shuttingDown) {
        return true;
      }
    }

    void awaitStopped() throws InterruptedException {
      stopped.await();
    }

    private void stop() {
      AutoCloseable started = cluster.join();
      if (started == null) {
        return;
      }
      System.err.println("kubelite up: stopping (state kept in " + dataDir + ")");
      try {
        started.close();
      } catch (Exception e) {
        System.err.println("kubelite up: stopping failed: " + e);
      }
      System.err.println("kubelite up: stopped");
      stopped.countDown();
    }
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
