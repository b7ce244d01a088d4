package dev.kubelite.apiserver;

import dev.kubelite.apiserver.auth.AuthorizerChain;
import dev.kubelite.apiserver.encryption.EncryptionConfig;
import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.client.RemoteKvStore;
import java.nio.file.Path;
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
    EncryptionConfig encryption = null;
    if (encryptionProviderConfig != null) {
      try {
        encryption = EncryptionConfig.load(encryptionProviderConfig);
      } catch (EncryptionConfig.InvalidConfigException e) {
        System.err.println("kubelite apiserver: --encryption-provider-config: " + e.getMessage());
        return 2;
      }
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
                  .withAuthorization(authorization));
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
