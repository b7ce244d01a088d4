package dev.kubelite.launcher;

import dev.kubelite.apiserver.ApiServer;
import dev.kubelite.apiserver.audit.AuditConfig;
import dev.kubelite.apiserver.encryption.EncryptionConfig;
import dev.kubelite.client.KubeClient;
import dev.kubelite.controller.Controller;
import dev.kubelite.controller.ControllerManager;
import dev.kubelite.controller.nodelifecycle.NodeLifecycleController;
import dev.kubelite.kubelet.Kubelet;
import dev.kubelite.kubelet.KubeletConfig;
import dev.kubelite.pki.PkiPaths;
import dev.kubelite.scheduler.Scheduler;
import dev.kubelite.store.client.EmbeddedKvStore;
import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.server.MemberConfig;
import dev.kubelite.store.server.StoreServer;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The all-in-one cluster in one process ({@code kubelite up}): a single-member store on a data
 * directory, the API server over it (through the embedded client, no network hop), the scheduler,
 * the controller manager and the simulated nodes, which reach the API server over HTTPS like any
 * other client, each with its own client certificate (no leader election: there is one of each).
 * All state lives under the data directory, so starting again on it resumes the same cluster.
 *
 * <p>Secure by default ({@link ClusterSecurity}): the store's client port takes only clients with a
 * certificate of the etcd CA, the API server serves HTTPS and authenticates every request. {@code
 * insecurePort} (not 0) adds a plain-HTTP, unauthenticated API server for local demos.
 *
 * <p>Layout of the data directory: {@code store/} (the member's data, as etcd's data dir), {@code
 * pki/} (CAs, certificates, keys, kubeadm's layout; the encryption-at-rest config), {@code
 * admin.kubeconfig} (written once the API server is ready; works with the real kubectl), {@code
 * scheduler.conf}, {@code controller-manager.conf} and {@code kubelet.conf} (the components'
 * kubeconfigs; the API server authorizes each with Node,RBAC), {@code kubelet/<node>.conf} (each
 * node's own identity), {@code etcdctl.env} ({@code ETCDCTL_*} settings for an admin's etcdctl),
 * {@code logs/kubelite.log} (every line {@code up} shows, written by {@link UpCommand}) and {@code
 * logs/audit.log} (the API server's audit log).
 */
public final class AllInOne implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AllInOne.class);

  /** The node lifecycle's timings under {@code --profile demo}: a stopped node is seen quickly. */
  static final Duration DEMO_NODE_GRACE = Duration.ofSeconds(10);

  static final Duration DEMO_EVICTION = Duration.ofSeconds(20);

  /**
   * What {@code kubelite up} takes. Build it with {@link #builder}: most callers change only a few
   * of these.
   *
   * @param demoTimeouts the node lifecycle controller declares a silent node Unknown after {@link
   *     #DEMO_NODE_GRACE} and evicts its pods {@link #DEMO_EVICTION} later, instead of Kubernetes'
   *     40 s and 300 s
   * @param insecurePort if not 0, a second API server on this port serving plain HTTP without
   *     authentication (every client is an admin): for local demos only
   * @param snapshotCount the store's {@code --snapshot-count}: applied entries between two Raft
   *     snapshots (0: etcd's default, 100,000)
   */
  public record Options(
      Path dataDir,
      String bindAddress,
      int apiPort,
      int storeClientPort,
      int storePeerPort,
      int nodes,
      boolean fresh,
      boolean demoTimeouts,
      int insecurePort,
      long snapshotCount) {

    /**
     * Options for a cluster kept under {@code dataDir} and listening on 127.0.0.1 at these ports,
     * with {@code up}'s defaults: 3 nodes, the state kept from an earlier run, Kubernetes' node
     * timeouts, no insecure port, etcd's snapshot count.
     */
    public static Builder builder(
        Path dataDir, int apiPort, int storeClientPort, int storePeerPort) {
      return new Builder(dataDir, apiPort, storeClientPort, storePeerPort);
    }
  }

  /** Collects {@link Options}; each setter names the {@code up} flag it stands for. */
  public static final class Builder {
    private final Path dataDir;
    private final int apiPort;
    private final int storeClientPort;
    private final int storePeerPort;
    private int nodes = 3;
    private boolean fresh;
    private boolean demoTimeouts;
    private int insecurePort;
    private long snapshotCount;

    private Builder(Path dataDir, int apiPort, int storeClientPort, int storePeerPort) {
      this.dataDir = dataDir;
      this.apiPort = apiPort;
      this.storeClientPort = storeClientPort;
      this.storePeerPort = storePeerPort;
    }

    /** {@code --nodes}: simulated nodes to run (0: none). */
    public Builder nodes(int count) {
      this.nodes = count;
      return this;
    }

    /** {@code --fresh}: delete the data dir's state and start from empty. */
    public Builder fresh(boolean fresh) {
      this.fresh = fresh;
      return this;
    }

    /** {@code --profile demo}: the short node timeouts of {@link Options#demoTimeouts}. */
    public Builder demoTimeouts(boolean demo) {
      this.demoTimeouts = demo;
      return this;
    }

    /** {@code --insecure-port}: see {@link Options#insecurePort}. */
    public Builder insecurePort(int port) {
      this.insecurePort = port;
      return this;
    }

    /** {@code --snapshot-count}: see {@link Options#snapshotCount}. */
    public Builder snapshotCount(long count) {
      this.snapshotCount = count;
      return this;
    }

    public Options build() {
      return new Options(
          dataDir,
          "127.0.0.1",
          apiPort,
          storeClientPort,
          storePeerPort,
          nodes,
          fresh,
          demoTimeouts,
          insecurePort,
          snapshotCount);
    }
  }

  /** The store member's name under {@code up}. */
  static final String STORE_MEMBER = "kubelite";

  private final Options options;
  private final Deque<AutoCloseable> started = new ArrayDeque<>();
  private StoreServer storeServer;
  private ApiServer apiServer;
  private ApiServer insecureApi;
  private PkiPaths pki;

  private AllInOne(Options options) {
    this.options = options;
  }

  /** Starts everything; returns once the API server serves and the kubeconfig is written. */
  public static AllInOne start(Options options) throws Exception {
    AllInOne cluster = new AllInOne(options);
    try {
      cluster.startAll();
      return cluster;
    } catch (Exception | Error e) {
      cluster.close();
      throw e;
    }
  }

  /** Where {@code up} keeps the cluster's encryption-at-rest keys (docs/encryption-at-rest.md). */
  /** Every request at Metadata level to DATA-DIR/logs/audit.log, rotated at 100 MB, 3 kept. */
  static AuditConfig auditLog(Path dataDir) {
    return AuditConfig.metadata(dataDir.resolve("logs").resolve("audit.log"))
        .withRotation(100, 3, 0);
  }

  static Path encryptionConfig(Path dataDir) {
    return dataDir.resolve("pki").resolve("encryption-config.yaml");
  }

  private void startAll() throws Exception {
    Path dir = options.dataDir();
    if (options.fresh()) {
      wipe(dir);
    }
    Files.createDirectories(dir);
    KubeletConfig kubeletConfig =
        options.nodes() > 0 ? KubeletConfig.builder().nodes(options.nodes()).build() : null;
    List<String> nodeNames = nodeNames(kubeletConfig);
    pki = ClusterSecurity.ensurePki(dir, List.of(STORE_MEMBER), nodeNames);
    String client = "https://" + options.bindAddress() + ":" + options.storeClientPort();
    String peer = "https://" + options.bindAddress() + ":" + options.storePeerPort();
    storeServer =
        StoreServer.start(
            MemberConfig.fromFlags(
                    STORE_MEMBER,
                    storeDir().toString(),
                    client,
                    client,
                    peer,
                    peer,
                    null,
                    null,
                    "kubelite")
                .withSnapshotCount(options.snapshotCount())
                .withTls(ClusterSecurity.storeTls(pki, STORE_MEMBER)));
    started.push(storeServer);
    KvStore store = EmbeddedKvStore.of(storeServer);
    started.push(store);
    // Secrets are encrypted at rest from the first start, under a key kept beside the data.
    EncryptionConfig encryption = EncryptionConfig.writeDefaultIfMissing(encryptionConfig(dir));
    apiServer =
        ApiServer.start(
            store,
            ClusterSecurity.secureApi(
                new ApiServer.Options(options.bindAddress(), options.apiPort())
                    .withEncryption(encryption)
                    .withAudit(auditLog(dir)),
                pki));
    started.push(apiServer);
    if (options.insecurePort() != 0) {
      log.warn(
          "--insecure-port {}: serving the API on plain HTTP WITHOUT authentication (every client"
              + " is a cluster admin); for local demos only",
          options.insecurePort());
      insecureApi =
          ApiServer.start(
              store,
              new ApiServer.Options(options.bindAddress(), options.insecurePort())
                  .withEncryption(encryption));
      started.push(insecureApi);
    }
    // The control plane reaches the API server over HTTPS, like any client, each component with
    // its own certificate and kubeconfig (as kubeadm's scheduler.conf, controller-manager.conf).
    KubeClient cmClient =
        ClusterSecurity.client(
            ClusterSecurity.writeKubeconfig(
                dir.resolve("controller-manager.conf"),
                apiUrl(),
                "system:kube-controller-manager",
                pki,
                pki.controllerManager()));
    KubeClient schedulerClient =
        ClusterSecurity.client(
            ClusterSecurity.writeKubeconfig(
                dir.resolve("scheduler.conf"),
                apiUrl(),
                "system:kube-scheduler",
                pki,
                pki.scheduler()));
    Map<String, Function<KubeClient, Controller>> controllers = controllers(options.demoTimeouts());
    ControllerManager controllerManager = new ControllerManager(cmClient, controllers, null);
    started.push(controllerManager);
    controllerManager.start();
    Scheduler scheduler = new Scheduler(schedulerClient, Scheduler.Options.defaults());
    started.push(scheduler);
    scheduler.start();
    if (kubeletConfig != null) {
      // Each node's own kubeconfig (system:node:<name>, what a real kubelet of that node would
      // use; handy to try the Node authorizer with), though the simulated nodes share one process
      // and one identity, the simulated kubelet's, which watches and writes for all of them.
      Path kubelets = Files.createDirectories(dir.resolve("kubelet"));
      for (String node : nodeNames) {
        ClusterSecurity.writeKubeconfig(
            kubelets.resolve(node + ".conf"),
            apiUrl(),
            "system:node:" + node,
            pki,
            pki.kubelets().get(node));
      }
      KubeClient nodesClient =
          ClusterSecurity.client(ClusterSecurity.writeNodesKubeconfig(dir, apiUrl(), pki));
      Kubelet kubelet = new Kubelet(nodesClient, kubeletConfig);
      started.push(kubelet);
      kubelet.start();
    }
    ClusterSecurity.writeKubeconfig(kubeconfig(), apiUrl(), "admin", pki, pki.admin());
    writeAtomically(dir.resolve("etcdctl.env"), ClusterSecurity.etcdctlEnv(client, pki, ""));
    log.info("all-in-one cluster up: API server {}, store {}, data in {}", apiUrl(), client, dir);
  }

  /** The simulated nodes' names, as the kubelet names them. */
  static List<String> nodeNames(KubeletConfig config) {
    List<String> names = new ArrayList<>();
    if (config != null) {
      for (int i = 0; i < config.nodes(); i++) {
        names.add(config.nodePrefix() + "-" + (config.firstNode() + i));
      }
    }
    return names;
  }

  /**
   * The controllers {@code kubelite up} runs: all that the controller manager knows, with the node
   * lifecycle's demo timings if asked for.
   */
  static Map<String, Function<KubeClient, Controller>> controllers(boolean demoTimeouts) {
    Map<String, Function<KubeClient, Controller>> controllers = ControllerManager.known();
    if (demoTimeouts) {
      controllers.put(
          NodeLifecycleController.NAME,
          c ->
              new NodeLifecycleController(
                  c,
                  new NodeLifecycleController.Options(
                      Duration.ofSeconds(2),
                      DEMO_NODE_GRACE,
                      Duration.ofSeconds(60),
                      DEMO_EVICTION,
                      4)));
    }
    return controllers;
  }

  public URI apiUrl() {
    return URI.create("https://" + options.bindAddress() + ":" + apiServer.port());
  }

  /** The plain-HTTP API server's URL ({@code insecurePort}), or null when there is none. */
  public URI insecureUrl() {
    return insecureApi == null
        ? null
        : URI.create("http://" + options.bindAddress() + ":" + insecureApi.port());
  }

  /** The cluster's certificates and keys. */
  public PkiPaths pki() {
    return pki;
  }

  public Path kubeconfig() {
    return options.dataDir().resolve("admin.kubeconfig");
  }

  public Path etcdctlEnv() {
    return options.dataDir().resolve("etcdctl.env");
  }

  private Path storeDir() {
    return options.dataDir().resolve("store");
  }

  /** Removes what a previous cluster left in {@code dir}, and nothing else. */
  private static void wipe(Path dir) throws IOException {
    Path store = dir.resolve("store");
    if (Files.exists(store)) {
      try (Stream<Path> files = Files.walk(store)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    Files.deleteIfExists(dir.resolve("admin.kubeconfig"));
    Files.deleteIfExists(dir.resolve("etcdctl.env"));
    Files.deleteIfExists(dir.resolve("scheduler.conf"));
    Files.deleteIfExists(dir.resolve("controller-manager.conf"));
    Files.deleteIfExists(dir.resolve("kubelet.conf"));
    // The PKI (pki/) is kept: a fresh cluster under the same CA, so kubeconfigs stay valid.
  }

  private static void writeAtomically(Path file, String text) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** Stops the components in the reverse order of their start. */
  @Override
  public void close() {
    while (!started.isEmpty()) {
      AutoCloseable c = started.pop();
      try {
        c.close();
      } catch (Exception e) {
        log.error("stopping {} failed; continuing the shutdown", c, e);
      }
    }
  }
}
