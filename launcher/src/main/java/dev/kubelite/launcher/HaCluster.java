package dev.kubelite.launcher;

import dev.kubelite.apiserver.encryption.EncryptionConfig;
import dev.kubelite.kubelet.KubeletConfig;
import dev.kubelite.pki.Kubeconfigs;
import dev.kubelite.pki.PkiPaths;
import dev.kubelite.pki.TlsFiles;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code kubelite up --ha}: three control-plane members as three processes on loopback ({@link
 * MemberCommand}: store member + API server + scheduler + controller manager each), the simulated
 * nodes as a fourth, and in this process a load balancer in front of the API servers (the
 * control-plane endpoint, on {@code --port}). The children's output is interleaved into the
 * cluster's log ({@link ClusterLog}), each line tagged with its member.
 *
 * <p>A child that exits on its own is started again after a back-off ({@link #restartOnExit}).
 *
 * <p>Ports: the load balancer on P; member i's API server on P+1+i, its store on S+2i (client) and
 * S+2i+1 (peer). Data: member i under {@code DATA-DIR/member-i}. The children die with this process
 * ({@link ParentWatch}); {@link #close} stops them cleanly.
 */
final class HaCluster implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HaCluster.class);

  static final int MEMBERS = 3;

  /** What {@code up --ha} takes. */
  record Options(
      Path dataDir,
      int port,
      int storePort,
      int nodes,
      boolean demoTimeouts,
      String logFormat,
      Duration readyTimeout) {}

  /** How to start a child process (again). */
  record Spec(
      String name,
      String main,
      List<String> args,
      int apiPort,
      int storeClientPort,
      int storePeerPort) {}

  /** One child process and what it serves. */
  record Child(Spec spec, Process process, Thread output, CountDownLatch drained, long startedAt) {
    String name() {
      return spec.name();
    }

    int apiPort() {
      return spec.apiPort();
    }

    int storePeerPort() {
      return spec.storePeerPort();
    }

    URI apiUrl() {
      return URI.create("https://127.0.0.1:" + spec.apiPort());
    }

    String storeUrl() {
      return "https://127.0.0.1:" + spec.storeClientPort();
    }
  }

  private final Options options;
  private final ClusterLog clusterLog;

  /** A child that exits on its own is started again after this, doubled per quick failure. */
  static final Duration FIRST_BACKOFF = Duration.ofSeconds(2);

  static final Duration MAX_BACKOFF = Duration.ofSeconds(60);

  /** A child that ran this long before it exited starts its back-off afresh. */
  static final Duration STABLE_AFTER = Duration.ofSeconds(60);

  // Replaced by restarts: guarded by this.
  private final List<Child> members = new ArrayList<>();
  private Child nodes;
  private final ScheduledExecutorService restarts =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "restarts");
            t.setDaemon(true);
            return t;
          });
  private LoadBalancer balancer;
  private PkiPaths pki;
  private volatile boolean closing;

  private HaCluster(Options options, ClusterLog clusterLog) {
    this.options = options;
    this.clusterLog = clusterLog;
  }

  /**
   * Starts the members and the load balancer, waits until every member's API server is ready, then
   * starts the nodes and writes the kubeconfig and etcdctl.env.
   */
  static HaCluster start(Options options, ClusterLog clusterLog) throws Exception {
    HaCluster c = new HaCluster(options, clusterLog);
    try {
      c.startAll();
      return c;
    } catch (Exception | Error e) {
      c.close();
      throw e;
    }
  }

  /** Removes what a previous HA cluster left in {@code dir}, and nothing else. */
  static void wipe(Path dir) throws IOException {
    for (int i = 0; i < MEMBERS; i++) {
      deleteTree(dir.resolve("member-" + i));
    }
    Files.deleteIfExists(dir.resolve("admin.kubeconfig"));
    Files.deleteIfExists(dir.resolve("etcdctl.env"));
    Files.deleteIfExists(dir.resolve("kubelet.conf"));
    deleteTree(dir.resolve("kubelet"));
    // The PKI (pki/) is kept: a fresh cluster under the same CA.
  }

  static void deleteTree(Path p) throws IOException {
    if (Files.exists(p)) {
      try (Stream<Path> files = Files.walk(p)) {
        for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(f);
        }
      }
    }
  }

  private void startAll() throws Exception {
    Path dir = options.dataDir();
    Files.createDirectories(dir);
    StringBuilder initialCluster = new StringBuilder();
    List<String> memberNames = new ArrayList<>();
    for (int i = 0; i < MEMBERS; i++) {
      memberNames.add("member-" + i);
      initialCluster
          .append(i == 0 ? "" : ",")
          .append("member-")
          .append(i)
          .append("=https://127.0.0.1:")
          .append(options.storePort() + 2 * i + 1);
    }
    // The PKI, made here before any child starts: the members only read it.
    KubeletConfig kubeletConfig =
        options.nodes() > 0 ? KubeletConfig.builder().nodes(options.nodes()).build() : null;
    List<String> nodeNames = AllInOne.nodeNames(kubeletConfig);
    pki = ClusterSecurity.ensurePki(dir, memberNames, nodeNames);
    // One encryption-at-rest key for the cluster: every member's API server reads every Secret.
    Path encryption = AllInOne.encryptionConfig(dir);
    EncryptionConfig.writeDefaultIfMissing(encryption);
    for (int i = 0; i < MEMBERS; i++) {
      String name = "member-" + i;
      int api = options.port() + 1 + i;
      int client = options.storePort() + 2 * i;
      int peer = client + 1;
      List<String> args =
          List.of(
              "--name",
              name,
              "--data-dir",
              dir.resolve(name).toString(),
              "--port",
              Integer.toString(api),
              "--store-client-port",
              Integer.toString(client),
              "--store-peer-port",
              Integer.toString(peer),
              "--initial-cluster",
              initialCluster.toString(),
              "--initial-cluster-token",
              "kubelite-ha",
              "--profile",
              options.demoTimeouts() ? "demo" : "kubernetes",
              "--encryption-provider-config",
              encryption.toString(),
              "--pki-dir",
              pki.dir().toString(),
              "--exit-with-stdin");
      members.add(spawn(new Spec(name, MemberCommand.class.getName(), args, api, client, peer)));
    }
    List<LoadBalancer.Backend> backends = new ArrayList<>();
    for (Child m : members) {
      backends.add(new LoadBalancer.Backend(m.name(), "127.0.0.1", m.apiPort()));
    }
    balancer = LoadBalancer.start("127.0.0.1", options.port(), backends);
    awaitReady();
    if (options.nodes() > 0) {
      // Each node's own kubeconfig (system:node:<name>), for trying the Node authorizer with; the
      // process runs as the simulated kubelet (kubelet.conf), through the balancer.
      Path kubelets = Files.createDirectories(dir.resolve("kubelet"));
      for (String node : nodeNames) {
        ClusterSecurity.writeKubeconfig(
            kubelets.resolve(node + ".conf"),
            apiUrl(),
            "system:node:" + node,
            pki,
            pki.kubelets().get(node));
      }
      nodes =
          spawn(
              new Spec(
                  "nodes",
                  SimulatedNodes.class.getName(),
                  List.of(
                      "--kubeconfig",
                      ClusterSecurity.writeNodesKubeconfig(dir, apiUrl(), pki).toString(),
                      "--nodes",
                      "" + options.nodes()),
                  0,
                  0,
                  0));
    }
    ClusterSecurity.writePrivate(kubeconfig(), kubeconfigText());
    StringBuilder endpoints = new StringBuilder();
    for (Child m : members) {
      endpoints.append(endpoints.length() == 0 ? "" : ",").append(m.storeUrl());
    }
    writeAtomically(
        etcdctlEnv(),
        ClusterSecurity.etcdctlEnv(
            endpoints.toString(),
            pki,
            "# (etcdctl endpoint status -w table shows the three members and the leader)\n"));
    for (Child c : children()) {
      restartOnExit(c, 0);
    }
    log.info("HA cluster up: API servers behind {}, data in {}", apiUrl(), dir);
  }

  /**
   * When {@code c} exits on its own (killed, crashed), starts it again after a back-off, as the
   * kubelet restarts a kubeadm control plane's static pods: 2 s, doubling while it keeps failing
   * within a minute of its start, up to 60 s.
   */
  private void restartOnExit(Child c, int failures) {
    c.process()
        .onExit()
        .thenAccept(
            p -> {
              if (closing) {
                return;
              }
              boolean quick =
                  System.nanoTime() - c.startedAt() < STABLE_AFTER.toNanos() && failures > 0;
              int n = quick ? failures + 1 : 1;
              long delay =
                  Math.min(
                      MAX_BACKOFF.toSeconds(), FIRST_BACKOFF.toSeconds() << Math.min(n - 1, 5));
              log.warn(
                  "{} (pid {}) exited with code {}; restarting it in {} s",
                  c.name(),
                  p.pid(),
                  p.exitValue(),
                  delay);
              try {
                restarts.schedule(() -> restart(c, n), delay, TimeUnit.SECONDS);
              } catch (RejectedExecutionException e) {
                // Stopping: nothing to restart.
              }
            });
  }

  private synchronized void restart(Child old, int failures) {
    if (closing) {
      return;
    }
    Child fresh;
    try {
      fresh = spawn(old.spec());
    } catch (IOException e) {
      log.error("restarting {} failed; the others run on without it", old.name(), e);
      return;
    }
    if (old == nodes) {
      nodes = fresh;
    } else {
      members.set(members.indexOf(old), fresh);
    }
    restartOnExit(fresh, failures);
  }

  /** Starts a child JVM on this process's class path as {@code spec} says, its output tagged. */
  private Child spawn(Spec spec) throws IOException {
    String name = spec.name();
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Dkubelite.log.tag=" + name);
    cmd.add("-Dkubelite.log.format=" + options.logFormat());
    String level = System.getProperty("kubelite.log.level");
    if (level != null) {
      cmd.add("-Dkubelite.log.level=" + level);
    }
    // Four JVMs share the machine: the serial collector keeps each one's threads few.
    cmd.add("-XX:+UseSerialGC");
    // Out of heap, a member exits (its state is on disk) rather than live on with a dead thread.
    cmd.add("-XX:+ExitOnOutOfMemoryError");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(spec.main());
    cmd.addAll(spec.args());
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.PIPE)
            .start();
    CountDownLatch drained = new CountDownLatch(1);
    Thread pump =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  clusterLog.line(name, line, true);
                  if (line.contains(MemberCommand.DRAINED)) {
                    drained.countDown();
                  }
                }
              } catch (IOException e) {
                clusterLog.line("up", "reading the output of " + name + " failed: " + e, false);
              }
            },
            "log-" + name);
    pump.setDaemon(true);
    pump.start();
    log.info("started {} (pid {})", name, p.pid());
    return new Child(spec, p, pump, drained, System.nanoTime());
  }

  /** Waits until every member's API server answers /readyz with 200, or fails. */
  private void awaitReady() throws Exception {
    HttpClient http =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(2))
            .sslContext(TlsFiles.sslContext(pki.ca().cert(), pki.admin()))
            .build();
    long deadline = System.nanoTime() + options.readyTimeout().toNanos();
    List<Child> waiting = new ArrayList<>(members);
    while (!waiting.isEmpty()) {
      for (Child m : List.copyOf(waiting)) {
        if (!m.process().isAlive()) {
          throw new IllegalStateException(
              m.name()
                  + " exited with code "
                  + m.process().exitValue()
                  + " before it was ready; its lines above (and "
                  + ClusterLog.file(options.dataDir())
                  + ") say why");
        }
        try {
          HttpResponse<String> r =
              http.send(
                  HttpRequest.newBuilder(m.apiUrl().resolve("/readyz"))
                      .timeout(Duration.ofSeconds(5))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() == 200) {
            log.info("{} ready: API server {}", m.name(), m.apiUrl());
            waiting.remove(m);
          }
        } catch (IOException e) {
          // Not listening yet.
        }
      }
      if (waiting.isEmpty()) {
        break;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "members "
                + waiting.stream().map(Child::name).toList()
                + " not ready after "
                + options.readyTimeout().toSeconds()
                + " s; their lines above (and "
                + ClusterLog.file(options.dataDir())
                + ") say why");
      }
      Thread.sleep(250);
    }
  }

  URI apiUrl() {
    return URI.create("https://127.0.0.1:" + balancer.port());
  }

  synchronized List<Child> members() {
    return List.copyOf(members);
  }

  synchronized Child nodes() {
    return nodes;
  }

  private synchronized List<Child> children() {
    List<Child> all = new ArrayList<>(members);
    if (nodes != null) {
      all.add(nodes);
    }
    return all;
  }

  Path kubeconfig() {
    return options.dataDir().resolve("admin.kubeconfig");
  }

  Path etcdctlEnv() {
    return options.dataDir().resolve("etcdctl.env");
  }

  /**
   * The admin kubeconfig: the current context "kubelite" goes through the load balancer; contexts
   * member-0..2 reach one member's API server directly.
   */
  private String kubeconfigText() {
    List<Kubeconfigs.Context> contexts = new ArrayList<>();
    contexts.add(new Kubeconfigs.Context("kubelite", apiUrl()));
    for (Child m : members) {
      contexts.add(new Kubeconfigs.Context(m.name(), m.apiUrl()));
    }
    return Kubeconfigs.forUser(contexts, "admin", pki.ca().cert(), pki.admin());
  }

  private static void writeAtomically(Path file, String text) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /**
   * Stops the cluster cleanly: the nodes first; then each member's scheduler and controller manager
   * (they release their Leases while every store member still runs, so the release has a quorum);
   * then the members (SIGTERM: each closes its API server and store member; SIGKILL after 30 s);
   * then the load balancer.
   */
  @Override
  public void close() {
    closing = true;
    restarts.shutdownNow();
    List<Child> ms;
    Child ns;
    synchronized (this) {
      // After any restart under way: it saw closing or put its child in the lists.
      ms = List.copyOf(members);
      ns = nodes;
    }
    if (ns != null) {
      stop(List.of(ns));
    }
    drain(ms);
    stop(ms);
    if (balancer != null) {
      balancer.close();
    }
  }

  /** Asks every live member to stop its control loops, and waits (up to 20 s) until they have. */
  private static void drain(List<Child> members) {
    List<Child> asked = new ArrayList<>();
    for (Child m : members) {
      if (!m.process().isAlive()) {
        continue;
      }
      try {
        OutputStream in = m.process().getOutputStream();
        in.write((ParentWatch.DRAIN + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
        asked.add(m);
      } catch (IOException e) {
        log.warn("cannot ask {} to stop its controllers ({}); stopping it at once", m.name(), e);
      }
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    for (Child m : asked) {
      try {
        long left = deadline - System.nanoTime();
        if (!m.drained().await(Math.max(0, left), TimeUnit.NANOSECONDS) && m.process().isAlive()) {
          log.warn("{} did not stop its controllers in 20 s; stopping it anyway", m.name());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static void stop(List<Child> children) {
    for (Child c : children) {
      // Through the handle: Process.destroy() would also close our end of its output, losing the
      // lines it writes while it stops.
      c.process().toHandle().destroy();
    }
    for (Child c : children) {
      try {
        if (!c.process().waitFor(30, TimeUnit.SECONDS)) {
          log.warn("{} (pid {}) did not stop in 30 s; killing it", c.name(), c.process().pid());
          c.process().toHandle().destroyForcibly();
          c.process().waitFor(10, TimeUnit.SECONDS);
        }
        // Its last lines, into the log before this process ends.
        c.output().join(TimeUnit.SECONDS.toMillis(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        c.process().toHandle().destroyForcibly();
      }
    }
  }
}
