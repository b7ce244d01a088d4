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
import java.util.Comparator;
import java.util.Deque;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The all-in-one cluster in one process ({@code kubelite up}): a single-member store on a data
 * directory, the API server over it (through the embedded client, no network hop), the scheduler,
 * the controller manager and the simulated nodes, which reach the API server over HTTP like any
 * other client (no leader election: there is one of each). All state lives under the data
 * directory, so starting again on it resumes the same cluster.
 *
 * <p>Layout of the data directory: {@code store/} (the member's data, as etcd's data dir), {@code
 * admin.kubeconfig} (written once the API server is ready; works with the real kubectl), {@code
 * etcdctl.env} ({@code ETCDCTL_*} settings for an admin's etcdctl), {@code logs/kubelite.log}
 * (every line {@code up} shows, written by {@link UpCommand}) and {@code logs/audit.log} (the API
 * server's audit log).
 */
public final class AllInOne implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AllInOne.class);

  /** The node lifecycle's timings under {@code --profile demo}: a stopped node is seen quickly. */
  static final Duration DEMO_NODE_GRACE = Duration.ofSeconds(10);

  static final Duration DEMO_EVICTION = Duration.ofSeconds(20);

  /**
   * What {@code kubelite up} takes.
   *
   * @param demoTimeouts the node lifecycle controller declares a silent node Unknown after {@link
   *     #DEMO_NODE_GRACE} and evicts its pods {@link #DEMO_EVICTION} later, instead of Kubernetes'
   *     40 s and 300 s
   */
  public record Options(
      Path dataDir,
      String bindAddress,
      int apiPort,
      int storeClientPort,
      int storePeerPort,
      int nodes,
      boolean fresh,
      boolean demoTimeouts) {}

  private final Options options;
  private final Deque<AutoCloseable> started = new ArrayDeque<>();
  private StoreServer storeServer;
  private ApiServer apiServer;

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
    String client = "http://" + options.bindAddress() + ":" + options.storeClientPort();
    String peer = "http://" + options.bindAddress() + ":" + options.storePeerPort();
    storeServer =
        StoreServer.start(
            MemberConfig.fromFlags(
                "kubelite",
                storeDir().toString(),
                client,
                client,
                peer,
                peer,
                null,
                null,
                "kubelite"));
    started.push(storeServer);
    KvStore store = EmbeddedKvStore.of(storeServer);
    started.push(store);
    // Secrets are encrypted at rest from the first start, under a key kept beside the data.
    EncryptionConfig encryption = EncryptionConfig.writeDefaultIfMissing(encryptionConfig(dir));
    apiServer =
        ApiServer.start(
            store,
            new ApiServer.Options(options.bindAddress(), options.apiPort())
                .withEncryption(encryption)
                .withAudit(auditLog(dir)));
    started.push(apiServer);
    // The control plane reaches the API server over HTTP, like any client would.
    Map<String, Function<KubeClient, Controller>> controllers = controllers(options.demoTimeouts());
    ControllerManager controllerManager =
        new ControllerManager(new KubeClient(apiUrl()), controllers, null);
    started.push(controllerManager);
    controllerManager.start();
    Scheduler scheduler = new Scheduler(new KubeClient(apiUrl()), Scheduler.Options.defaults());
    started.push(scheduler);
    scheduler.start();
    if (options.nodes() > 0) {
      Kubelet kubelet =
          new Kubelet(
              new KubeClient(apiUrl()), KubeletConfig.builder().nodes(options.nodes()).build());
      started.push(kubelet);
      kubelet.start();
    }
    writeAtomically(kubeconfig(), Kubeconfigs.admin(apiUrl()));
    writeAtomically(
        dir.resolve("etcdctl.env"),
        "# source this file, then: etcdctl get / --prefix --keys-only\n"
            + "export ETCDCTL_API=3\n"
            + "export ETCDCTL_ENDPOINTS="
            + client
            + "\n");
    log.info("all-in-one cluster up: API server {}, store {}, data in {}", apiUrl(), client, dir);
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
    return URI.create("http://" + options.bindAddress() + ":" + apiServer.port());
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
