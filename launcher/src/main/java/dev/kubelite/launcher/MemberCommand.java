package dev.kubelite.launcher;

import dev.kubelite.apiserver.ApiServer;
import dev.kubelite.apiserver.encryption.EncryptionConfig;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.leaderelection.LeaderElector;
import dev.kubelite.controller.ControllerManager;
import dev.kubelite.pki.Pki;
import dev.kubelite.pki.PkiPaths;
import dev.kubelite.pki.PkiSpec;
import dev.kubelite.scheduler.Scheduler;
import dev.kubelite.store.client.EmbeddedKvStore;
import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.server.MemberConfig;
import dev.kubelite.store.server.StoreServer;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kubelite member}: one control-plane member of an HA cluster, stacked as kubeadm stacks
 * them: a store member (one of the Raft cluster named by {@code --initial-cluster}), the API server
 * over it (through the embedded client: each API server talks to its own store member, as
 * kube-apiserver talks to the etcd on its own host), and a scheduler and a controller manager that
 * talk to that API server and elect their leaders through Leases, so that one of each acts in the
 * whole cluster. {@code kubelite up --ha} runs three of them; the compose file runs one per
 * container.
 */
@Command(
    name = "member",
    mixinStandardHelpOptions = true,
    description = {
      "Runs one control-plane member of an HA cluster in this process: a store member (etcd's"
          + " flags: --initial-cluster names all members' peer URLs), the API server over it on"
          + " --port, and a scheduler and a controller manager with leader election.",
      "`kubelite up --ha` starts three on loopback; compose.yaml one per container, with a PKI"
          + " made by `kubelite certs init`; see docs/launcher.md."
    })
public final class MemberCommand implements Callable<Integer> {

  @Option(names = "--name", required = true, description = "This member's name, e.g. member-0.")
  String name;

  @Option(
      names = "--data-dir",
      required = true,
      description =
          "Where this member's state lives (the store's data under DATA-DIR/store, the API"
              + " server's audit log in DATA-DIR/logs/audit.log).")
  Path dataDir;

  @Option(
      names = "--listen-address",
      defaultValue = "127.0.0.1",
      description = "Address the API server and the store listen on (default: ${DEFAULT-VALUE}).")
  String listenAddress;

  @Option(
      names = "--advertise-address",
      defaultValue = "127.0.0.1",
      description =
          "Address other members and clients reach this one at (default: ${DEFAULT-VALUE}).")
  String advertiseAddress;

  @Option(
      names = "--port",
      defaultValue = "6443",
      description = "The API server's port (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--store-client-port",
      defaultValue = "2379",
      description = "The store's client port, for etcdctl (default: ${DEFAULT-VALUE}).")
  int storeClientPort;

  @Option(
      names = "--store-peer-port",
      defaultValue = "2380",
      description = "The store's peer (Raft) port (default: ${DEFAULT-VALUE}).")
  int storePeerPort;

  @Option(
      names = "--initial-cluster",
      description =
          "All founding members, as etcd's flag: member-0=http://127.0.0.1:2380,member-1=..."
              + " (default: this member alone).")
  String initialCluster;

  @Option(
      names = "--initial-cluster-token",
      defaultValue = "kubelite",
      description = "The cluster's token, as etcd's flag (default: ${DEFAULT-VALUE}).")
  String initialClusterToken;

  @Option(
      names = "--profile",
      defaultValue = "kubernetes",
      description = "Node failure timings: kubernetes or demo, as `up --profile`.")
  String profile;

  @Option(
      names = "--encryption-provider-config",
      paramLabel = "FILE",
      description =
          "An EncryptionConfiguration for the API server, as kube-apiserver's flag (`up --ha`"
              + " gives every member the same one; default: no encryption at rest).")
  Path encryptionProviderConfig;

  @Option(
      names = "--pki-dir",
      paramLabel = "DIR",
      description =
          "The cluster's PKI (kubeadm's layout, as `up --ha` makes it): the store serves TLS with"
              + " this member's certificates (etcd/<name>/server, peer; https:// URLs, client"
              + " certificates required), the API server HTTPS with client certificates, and the"
              + " scheduler and controller manager use their own certificates. Without it"
              + " everything is plain HTTP without authentication (a WARN says so).")
  Path pkiDir;

  @Option(
      names = "--exit-with-stdin",
      hidden = true,
      description = "Stop when stdin closes (how `up --ha` makes its children die with it).")
  boolean exitWithStdin;

  /** The line a member prints once its scheduler and controller manager have stopped. */
  static final String DRAINED = "scheduler and controller manager stopped";

  private final Deque<AutoCloseable> started = new ArrayDeque<>();
  private final Deque<AutoCloseable> controlLoops = new ArrayDeque<>();
  private volatile boolean parentGone;

  @Override
  public Integer call() throws Exception {
    if (!profile.equals("kubernetes") && !profile.equals("demo")) {
      System.err.println("kubelite member: --profile must be kubernetes or demo, got " + profile);
      return 2;
    }
    if (exitWithStdin) {
      ParentWatch.watchStdin("kubelite member " + name, this::drain, () -> parentGone = true);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  close();
                  stopped.countDown();
                },
                "member-shutdown"));
    try {
      start();
    } catch (MemberConfig.InvalidConfigException e) {
      System.err.println("kubelite member: " + e.getMessage());
      close();
      return 2;
    } catch (Exception e) {
      System.err.println(
          "kubelite member "
              + name
              + ": cannot start: "
              + e
              + " (are ports "
              + port
              + ", "
              + storeClientPort
              + " and "
              + storePeerPort
              + " free?)");
      close();
      return 1;
    }
    stopped.await();
    return 0;
  }

  private void start() throws Exception {
    Files.createDirectories(dataDir);
    PkiPaths pki = pkiDir == null ? null : loadPki();
    String scheme = pki == null ? "http" : "https";
    String client = scheme + "://" + advertiseAddress + ":" + storeClientPort;
    String peer = scheme + "://" + advertiseAddress + ":" + storePeerPort;
    StoreServer store = StoreServer.start(storeConfig(pki));
    started.push(store);
    KvStore kv = EmbeddedKvStore.of(store);
    started.push(kv);
    // Listens at once and becomes ready (/readyz) once the store has a quorum: the other members
    // may start later than this one.
    ApiServer.Options apiOptions =
        new ApiServer.Options(listenAddress, port).withAudit(AllInOne.auditLog(dataDir));
    if (encryptionProviderConfig != null) {
      apiOptions = apiOptions.withEncryption(EncryptionConfig.load(encryptionProviderConfig));
    }
    if (pki != null) {
      apiOptions = ClusterSecurity.secureApi(apiOptions, pki);
    } else {
      System.err.println(
          "kubelite member "
              + name
              + ": WARN no --pki-dir: store and API server on plain HTTP without authentication");
    }
    ApiServer api = ApiServer.listen(kv, apiOptions);
    started.push(api);
    String host = listenAddress.equals("0.0.0.0") ? "127.0.0.1" : listenAddress;
    URI apiUrl = URI.create(scheme + "://" + host + ":" + api.port());
    KubeClient cmClient;
    KubeClient schedulerClient;
    if (pki != null) {
      // kubeadm's controller-manager.conf and scheduler.conf: this member's API server, each
      // component's own certificate.
      cmClient =
          ClusterSecurity.client(
              ClusterSecurity.writeKubeconfig(
                  dataDir.resolve("controller-manager.conf"),
                  apiUrl,
                  "system:kube-controller-manager",
                  pki,
                  pki.controllerManager()));
      schedulerClient =
          ClusterSecurity.client(
              ClusterSecurity.writeKubeconfig(
                  dataDir.resolve("scheduler.conf"),
                  apiUrl,
                  "system:kube-scheduler",
                  pki,
                  pki.scheduler()));
    } else {
      cmClient = new KubeClient(apiUrl);
      schedulerClient = new KubeClient(apiUrl);
    }
    String identity = name + "_" + UUID.randomUUID();
    ControllerManager controllers =
        new ControllerManager(
            cmClient,
            AllInOne.controllers(profile.equals("demo")),
            ControllerManager.Election.defaults(identity));
    controlLoops.push(controllers);
    controllers.start();
    Scheduler scheduler =
        new Scheduler(
            schedulerClient,
            Scheduler.Options.defaults()
                .withLeaderElection(
                    new LeaderElector.Config(
                        "kube-system",
                        "kube-scheduler",
                        identity,
                        Duration.ofSeconds(15),
                        Duration.ofSeconds(10),
                        Duration.ofSeconds(2),
                        true)));
    controlLoops.push(scheduler);
    scheduler.start();
    System.err.println(
        "kubelite member "
            + name
            + ": API server "
            + apiUrl
            + ", store "
            + client
            + " (peer "
            + peer
            + "), scheduler and controller manager electing leaders as "
            + identity);
  }

  /**
   * The PKI in --pki-dir, which must already hold this member's certificates ({@code kubelite up
   * --ha} or {@code kubelite certs init} makes it): only read, never written, so that members
   * sharing one (possibly read-only) PKI volume never race to issue or reissue a certificate.
   */
  PkiPaths loadPki() {
    List<String> members = new ArrayList<>();
    if (initialCluster != null) {
      for (String m : initialCluster.split(",")) {
        members.add(m.substring(0, m.indexOf('=') < 0 ? m.length() : m.indexOf('=')).trim());
      }
    }
    if (!members.contains(name)) {
      members.add(name);
    }
    try {
      return Pki.load(pkiDir, PkiSpec.defaults().withStoreMembers(members));
    } catch (Pki.PkiException e) {
      throw new MemberConfig.InvalidConfigException("--pki-dir: " + e.getMessage());
    }
  }

  MemberConfig storeConfig() {
    return storeConfig(null);
  }

  /** The store member's settings, from this command's flags (validated: names the bad flag). */
  MemberConfig storeConfig(PkiPaths pki) {
    String scheme = pki == null ? "http" : "https";
    MemberConfig c =
        MemberConfig.fromFlags(
            name,
            dataDir.resolve("store").toString(),
            scheme + "://" + listenAddress + ":" + storeClientPort,
            scheme + "://" + advertiseAddress + ":" + storeClientPort,
            scheme + "://" + listenAddress + ":" + storePeerPort,
            scheme + "://" + advertiseAddress + ":" + storePeerPort,
            initialCluster,
            "new",
            initialClusterToken);
    return pki == null ? c : c.withTls(ClusterSecurity.storeTls(pki, name));
  }

  /**
   * Stops the scheduler and the controller manager, which release their Leases if they lead: the
   * first step of a clean stop of the whole HA cluster, taken while every store member still runs
   * (so that the release has a quorum to write to).
   */
  private synchronized void drain() {
    closeAll(controlLoops);
    System.err.println("kubelite member " + name + ": " + DRAINED);
  }

  private synchronized void close() {
    if (parentGone) {
      // The other members stop at the same moment, with no parent to order it: a Lease release
      // would wait for a store quorum that is going away. Stop the API server and store first, so
      // the release fails at once; the Leases expire instead, as after a crash.
      closeAll(started);
      closeAll(controlLoops);
    } else {
      closeAll(controlLoops);
      closeAll(started);
    }
  }

  private void closeAll(Deque<AutoCloseable> components) {
    while (!components.isEmpty()) {
      AutoCloseable c = components.pop();
      try {
        c.close();
      } catch (Exception e) {
        System.err.println("kubelite member " + name + ": stopping " + c + " failed: " + e);
      }
    }
  }

  public static void main(String[] args) {
    // The log tag (common/logback.xml) is read when the first logger is made: set it first.
    for (int i = 0; i < args.length; i++) {
      String n =
          args[i].startsWith("--name=")
              ? args[i].substring("--name=".length())
              : args[i].equals("--name") && i + 1 < args.length ? args[i + 1] : null;
      if (n != null && System.getProperty("kubelite.log.tag") == null) {
        System.setProperty("kubelite.log.tag", n);
      }
    }
    int code = new CommandLine(new MemberCommand()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }
}
