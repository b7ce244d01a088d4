package dev.kubelite.apiserver;

import dev.kubelite.apiserver.audit.AuditConfig;
import dev.kubelite.apiserver.audit.AuditPolicy;
import dev.kubelite.apiserver.encryption.EncryptionConfig;
import dev.kubelite.apiserver.http.GoDuration;
import dev.kubelite.apiserver.http.RequestLimits;
import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.client.RemoteKvStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kubelite apiserver}: the Kubernetes API server, with kube-apiserver's flag names. */
@Command(
    name = "apiserver",
    mixinStandardHelpOptions = true,
    description = {
      "Runs Kubelite's API server: the Kubernetes REST API (core/v1 namespaces, pods, nodes,"
          + " events, configmaps, secrets, serviceaccounts, services; apps/v1 deployments,"
          + " replicasets; coordination.k8s.io/v1 leases) backed only by the store, so the real"
          + " kubectl works against it.",
      "Objects are stored as kube-apiserver stores them (/registry/<resource>/<namespace>/<name>,"
          + " JSON values) in a Kubelite store or a real etcd 3.4 (--etcd-servers).",
      "Plain HTTP without authentication for now: TLS and auth arrive with the security work."
          + " See docs/apiserver.md."
    })
public final class ApiServerCommand implements Callable<Integer> {

  @Option(
      names = "--etcd-servers",
      required = true,
      split = ",",
      description =
          "Store endpoints (a Kubelite store or etcd), comma-separated, e.g."
              + " http://127.0.0.1:2379.")
  List<String> etcdServers = new ArrayList<>();

  @Option(
      names = "--bind-address",
      description = "Address to listen on (default: ${DEFAULT-VALUE}).",
      defaultValue = "127.0.0.1")
  String bindAddress;

  @Option(
      names = {"--port", "--secure-port"},
      description = "Port to serve HTTP on (default: ${DEFAULT-VALUE}).",
      defaultValue = "6443")
  int port;

  @Option(
      names = "--encryption-provider-config",
      paramLabel = "FILE",
      description =
          "An EncryptionConfiguration (apiserver.config.k8s.io/v1, as kube-apiserver's) saying"
              + " which resources are encrypted at rest and with which providers and keys"
              + " (aesgcm, aescbc, secretbox, identity). The first provider writes; all read."
              + " Without it every value is stored in plaintext. Read at start: restart to"
              + " rotate keys, then POST /kubelite/v1/encryption/rewrite. See"
              + " docs/encryption-at-rest.md.")
  Path encryptionProviderConfig;

  @Option(
      names = "--audit-log-path",
      paramLabel = "FILE",
      description =
          "Write an audit log (one audit.k8s.io/v1 Event per line, JSON) to FILE; \"-\" for"
              + " standard output. Without it nothing is audited. See docs/security.md.")
  Path auditLogPath;

  @Option(
      names = "--audit-policy-file",
      paramLabel = "FILE",
      description =
          "An audit Policy (audit.k8s.io/v1): which requests are audited at which level (None,"
              + " Metadata, Request, RequestResponse) and stages. Without it every request is"
              + " audited at Metadata. Secrets, ConfigMaps and TokenReviews never above Metadata.")
  Path auditPolicyFile;

  @Option(
      names = "--audit-log-maxsize",
      paramLabel = "MB",
      description = "Rotate the audit log when it reaches MB megabytes; 0 (default) never.",
      defaultValue = "0")
  int auditLogMaxSize;

  @Option(
      names = "--audit-log-maxbackup",
      description = "Rotated audit logs to keep; 0 (default) keeps all.",
      defaultValue = "0")
  int auditLogMaxBackup;

  @Option(
      names = "--audit-log-maxage",
      paramLabel = "DAYS",
      description = "Delete rotated audit logs older than DAYS; 0 (default) keeps them.",
      defaultValue = "0")
  int auditLogMaxAge;

  @Option(
      names = "--audit-log-batch-buffer-size",
      description =
          "Audit events that may wait for the writer thread (default: ${DEFAULT-VALUE}); beyond"
              + " that events are dropped and the drop logged, never a request held up.",
      defaultValue = "10000")
  int auditLogBufferSize;

  @Option(
      names = "--request-timeout",
      paramLabel = "DURATION",
      description =
          "Longest time a request that is not long-running (watch, pods/log) may take before it"
              + " is answered 504 Timeout, as a Go duration (default: ${DEFAULT-VALUE}).",
      defaultValue = "1m0s")
  String requestTimeout;

  @Option(
      names = "--max-requests-inflight",
      description =
          "Read-only requests in progress at once, beyond which 429 (default: ${DEFAULT-VALUE};"
              + " 0 = no limit).",
      defaultValue = "400")
  int maxRequestsInflight;

  @Option(
      names = "--max-mutating-requests-inflight",
      description =
          "Mutating requests in progress at once, beyond which 429 (default: ${DEFAULT-VALUE};"
              + " 0 = no limit).",
      defaultValue = "200")
  int maxMutatingRequestsInflight;

  @Option(
      names = "--max-requests-inflight-per-client",
      description =
          "Requests in progress at once from one client (its user; its IP address without"
              + " authentication), beyond which 429 (default: ${DEFAULT-VALUE}; 0 = no limit).",
      defaultValue = "100")
  int maxRequestsInflightPerClient;

  @Option(
      names = "--max-watches-per-client",
      description =
          "Watches one client may hold open, beyond which 429 (default: ${DEFAULT-VALUE}; 0 = no"
              + " limit).",
      defaultValue = "500")
  int maxWatchesPerClient;

  /** The request limits from the flags; throws IllegalArgumentException with what is wrong. */
  RequestLimits.Settings limits() {
    Duration timeout = GoDuration.parse(requestTimeout);
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException(
          "--request-timeout: \"" + requestTimeout + "\" is not a positive duration (e.g. 1m0s)");
    }
    return new RequestLimits.Settings(
        maxRequestsInflight,
        maxMutatingRequestsInflight,
        maxRequestsInflightPerClient,
        maxWatchesPerClient,
        timeout);
  }

  /** The audit configuration from the flags (null without --audit-log-path). */
  AuditConfig audit() throws AuditPolicy.InvalidPolicyException {
    if (auditLogPath == null) {
      if (auditPolicyFile != null) {
        throw new IllegalArgumentException(
            "--audit-policy-file needs --audit-log-path (where to write the events)");
      }
      return null;
    }
    if (auditLogBufferSize <= 0) {
      throw new IllegalArgumentException("--audit-log-batch-buffer-size must be positive");
    }
    AuditConfig c =
        AuditConfig.metadata(auditLogPath)
            .withRotation(auditLogMaxSize, auditLogMaxBackup, auditLogMaxAge)
            .withQueueSize(auditLogBufferSize);
    return auditPolicyFile == null ? c : c.withPolicy(AuditPolicy.load(auditPolicyFile));
  }

  @Override
  public Integer call() throws Exception {
    RequestLimits.Settings limits;
    AuditConfig audit;
    try {
      limits = limits();
      audit = audit();
    } catch (IllegalArgumentException | AuditPolicy.InvalidPolicyException e) {
      System.err.println("kubelite apiserver: " + e.getMessage());
      return 2;
    }
    EncryptionConfig encryption = null;
    if (encryptionProviderConfig != null) {
      try {
        encryption = EncryptionConfig.load(encryptionProviderConfig);
      } catch (EncryptionConfig.InvalidConfigException e) {
        System.err.println("kubelite apiserver: --encryption-provider-config: " + e.getMessage());
        return 2;
      }
    }
    KvStore store;
    try {
      store = RemoteKvStore.connect(etcdServers);
    } catch (IllegalArgumentException e) {
      System.err.println("kubelite apiserver: --etcd-servers: " + e.getMessage());
      return 2;
    }
    ApiServer server;
    try {
      server =
          ApiServer.listen(
              store,
              new ApiServer.Options(bindAddress, port)
                  .withEncryption(encryption)
                  .withLimits(limits)
                  .withAudit(audit));
    } catch (Exception e) {
      store.close();
      System.err.println(
          "kubelite apiserver: cannot start: " + e + " (is port " + port + " free?)");
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.close();
                  store.close();
                  stopped.countDown();
                },
                "apiserver-shutdown"));
    System.err.println(
        "kubelite apiserver: serving on http://"
            + bindAddress
            + ":"
            + server.port()
            + " (store: "
            + String.join(",", etcdServers)
            + ")");
    stopped.await();
    return 0;
  }

  public static void main(String[] args) {
    int code = new CommandLine(new ApiServerCommand()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }
}
