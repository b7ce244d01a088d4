package dev.kubelite.apiserver;

import dev.kubelite.apiserver.audit.AuditConfig;
import dev.kubelite.apiserver.audit.AuditPolicy;
import dev.kubelite.apiserver.auth.AuthenticationConfig;
import dev.kubelite.apiserver.auth.AuthorizerChain;
import dev.kubelite.apiserver.auth.ServiceAccountKeys;
import dev.kubelite.apiserver.auth.ServiceAccountTokens;
import dev.kubelite.apiserver.auth.TokenFile;
import dev.kubelite.apiserver.encryption.EncryptionConfig;
import dev.kubelite.apiserver.http.GoDuration;
import dev.kubelite.apiserver.http.RequestLimits;
import dev.kubelite.pki.PemFiles;
import dev.kubelite.store.client.ClientTls;
import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.client.RemoteKvStore;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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
      "With --tls-cert-file/--tls-private-key-file it serves HTTPS (TLS 1.2+) and authenticates"
          + " every request: x509 client certificates (--client-ca-file), static tokens"
          + " (--token-auth-file), ServiceAccount tokens (--service-account-key-file); anonymous"
          + " requests are refused (401) unless --anonymous-auth=true. Without TLS it serves plain"
          + " HTTP and, unless an authentication flag is given, trusts everyone (a local demo;"
          + " it logs a warning). See docs/apiserver.md and docs/security.md."
    })
public final class ApiServerCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(ApiServerCommand.class);

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
      description = "Port to serve on, HTTPS with --tls-cert-file (default: ${DEFAULT-VALUE}).",
      defaultValue = "6443")
  int port;

  @Option(
      names = "--tls-cert-file",
      paramLabel = "FILE",
      description = "The serving certificate (PEM, chain allowed): serve HTTPS.")
  Path tlsCertFile;

  @Option(
      names = "--tls-private-key-file",
      paramLabel = "FILE",
      description = "The serving certificate's private key (PEM).")
  Path tlsKeyFile;

  @Option(
      names = "--client-ca-file",
      paramLabel = "FILE",
      description =
          "CA bundle for client certificates: a client certificate signed by it authenticates"
              + " its CN as the user and each O as a group (requested, not required).")
  Path clientCaFile;

  @Option(
      names = "--token-auth-file",
      paramLabel = "FILE",
      description = "Static bearer tokens, CSV: token,user,uid,\"group1,group2\".")
  Path tokenAuthFile;

  @Option(
      names = "--service-account-key-file",
      paramLabel = "FILE",
      description =
          "A PEM public (or private) key verifying ServiceAccount tokens (ES256); repeatable."
              + " Defaults to --service-account-signing-key-file.")
  List<Path> serviceAccountKeyFiles = new ArrayList<>();

  @Option(
      names = "--service-account-signing-key-file",
      paramLabel = "FILE",
      description = "The PEM private key (EC P-256) that signs ServiceAccount tokens.")
  Path serviceAccountSigningKeyFile;

  @Option(
      names = "--service-account-issuer",
      description = "The iss of ServiceAccount tokens (default: ${DEFAULT-VALUE}).",
      defaultValue = ServiceAccountTokens.DEFAULT_ISSUER)
  String serviceAccountIssuer;

  @Option(
      names = "--anonymous-auth",
      arity = "1",
      description =
          "Serve requests without credentials as system:anonymous (group"
              + " system:unauthenticated) (default: ${DEFAULT-VALUE}).",
      defaultValue = "false")
  boolean anonymousAuth;

  @Option(
      names = "--etcd-cafile",
      paramLabel = "FILE",
      description = "CA that signed the store's serving certificate (https:// --etcd-servers).")
  Path etcdCaFile;

  @Option(
      names = "--etcd-certfile",
      paramLabel = "FILE",
      description = "Client certificate for the store (its --client-cert-auth).")
  Path etcdCertFile;

  @Option(names = "--etcd-keyfile", paramLabel = "FILE", description = "Its private key.")
  Path etcdKeyFile;

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

  @Option(
      names = "--authorization-mode",
      split = ",",
      paramLabel = "MODE[,MODE...]",
      description =
          "Ordered authorizers, as kube-apiserver's: AlwaysAllow, AlwaysDeny, Node (kubelets:"
              + " their own Node, Lease and pods), RBAC (Roles and bindings of"
              + " rbac.authorization.k8s.io/v1; the default roles are written at start)."
              + " Members of system:masters are always allowed. Default: AlwaysAllow; a secured"
              + " cluster passes Node,RBAC. See docs/security.md.")
  List<String> authorizationModes = new ArrayList<>(List.of("AlwaysAllow"));

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
    ApiServer.Options options;
    try {
      options =
          security(
              new ApiServer.Options(bindAddress, port)
                  .withEncryption(encryption)
                  .withLimits(limits)
                  .withAudit(audit));
    } catch (IllegalArgumentException | TokenFile.InvalidTokenFileException e) {
      System.err.println("kubelite apiserver: " + e.getMessage());
      return 2;
    }
    AuthorizerChain authorization;
    try {
      authorization = AuthorizerChain.of(authorizationModes);
    } catch (IllegalArgumentException e) {
      System.err.println("kubelite apiserver: --authorization-mode: " + e.getMessage());
      return 2;
    }
    KvStore store;
    try {
      boolean storeTls = etcdCaFile != null || etcdCertFile != null || etcdKeyFile != null;
      store =
          storeTls
              ? RemoteKvStore.connect(
                  etcdServers, new ClientTls(etcdCaFile, etcdCertFile, etcdKeyFile))
              : RemoteKvStore.connect(etcdServers);
    } catch (IllegalArgumentException e) {
      System.err.println("kubelite apiserver: --etcd-servers: " + e.getMessage());
      return 2;
    }
    ApiServer server;
    try {
      server = ApiServer.listen(store, options.withAuthorization(authorization));
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
        "kubelite apiserver: serving on "
            + (options.tls() == null ? "http" : "https")
            + "://"
            + bindAddress
            + ":"
            + server.port()
            + " (store: "
            + String.join(",", etcdServers)
            + ")");
    stopped.await();
    return 0;
  }

  /** TLS and authentication from the flags; throws IllegalArgumentException naming the flag. */
  ApiServer.Options security(ApiServer.Options options) {
    if ((tlsCertFile == null) != (tlsKeyFile == null)) {
      throw new IllegalArgumentException(
          "--tls-cert-file and --tls-private-key-file go together: give both or neither");
    }
    if (clientCaFile != null && tlsCertFile == null) {
      throw new IllegalArgumentException(
          "--client-ca-file needs HTTPS: give --tls-cert-file and --tls-private-key-file");
    }
    if (tlsCertFile != null) {
      options = options.withTls(new ApiServer.ServingTls(tlsCertFile, tlsKeyFile, clientCaFile));
    }
    List<Path> saKeys = new ArrayList<>(serviceAccountKeyFiles);
    if (serviceAccountSigningKeyFile != null && saKeys.isEmpty()) {
      saKeys.add(serviceAccountSigningKeyFile);
    }
    boolean authn = tlsCertFile != null || tokenAuthFile != null || !saKeys.isEmpty();
    if (!authn) {
      if (anonymousAuth) {
        throw new IllegalArgumentException(
            "--anonymous-auth=true needs an authentication setup (HTTPS or a token file)");
      }
      log.warn(
          "serving plain HTTP without authentication: every client is a cluster admin. For a"
              + " local demo only; give --tls-cert-file, --tls-private-key-file and"
              + " --client-ca-file");
      return options;
    }
    AuthenticationConfig config =
        AuthenticationConfig.x509Only()
            .withIssuer(serviceAccountIssuer)
            .withAnonymous(anonymousAuth)
            .withTokenFile(tokenAuthFile == null ? null : TokenFile.load(tokenAuthFile))
            .withServiceAccountKeys(saKeys.stream().map(ApiServerCommand::publicKey).toList());
    if (serviceAccountSigningKeyFile != null) {
      config = config.withSigningKey(PemFiles.readKey(serviceAccountSigningKeyFile));
    }
    return options.withAuthentication(config);
  }

  /** A PEM public key, or the public half of a PEM EC private key. */
  static PublicKey publicKey(Path file) {
    try {
      return PemFiles.readPublicKey(file);
    } catch (IllegalArgumentException notPublic) {
      return ServiceAccountKeys.publicOf(PemFiles.readKey(file));
    }
  }

  public static void main(String[] args) {
    int code = new CommandLine(new ApiServerCommand()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }
}
