package dev.kubelite.launcher;

import dev.kubelite.apiserver.ApiServer;
import dev.kubelite.apiserver.auth.AuthenticationConfig;
import dev.kubelite.apiserver.auth.AuthorizerChain;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.KubeConfig;
import dev.kubelite.pki.Kubeconfigs;
import dev.kubelite.pki.PemFiles;
import dev.kubelite.pki.Pki;
import dev.kubelite.pki.PkiPaths;
import dev.kubelite.pki.PkiPaths.CertPaths;
import dev.kubelite.pki.PkiSpec;
import dev.kubelite.store.server.MemberTls;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * How {@code kubelite up} secures a cluster, as kubeadm does: the PKI under {@code DATA-DIR/pki}
 * ({@link Pki#ensure}: made on the first start, reused after), the store's client port with mutual
 * TLS and its peer port with peer certificates, the API server on HTTPS with client certificates of
 * the cluster CA and ServiceAccount tokens, and a kubeconfig per component.
 */
final class ClusterSecurity {
  private ClusterSecurity() {}

  static Path pkiDir(Path dataDir) {
    return dataDir.resolve("pki");
  }

  /**
   * Issues what is missing, reuses the rest, warns about what expires within 30 days. A data dir
   * from an older version gets the certificates it lacks (e.g. the simulated nodes').
   */
  static PkiPaths ensurePki(Path dataDir, List<String> storeMembers, List<String> nodes) {
    Path dir = pkiDir(dataDir);
    PkiPaths pki =
        Pki.ensure(dir, PkiSpec.defaults().withStoreMembers(storeMembers).withKubeletNodes(nodes));
    Pki.warnExpiring(dir);
    return pki;
  }

  /** etcd's flags for member {@code name}: client mTLS and peer TLS, both with the etcd CA. */
  static MemberTls storeTls(PkiPaths pki, String member) {
    PkiPaths.MemberCerts m = pki.storeMembers().get(member);
    Path ca = pki.etcdCa().cert();
    return new MemberTls(
        m.server().cert(), m.server().key(), ca, true, m.peer().cert(), m.peer().key(), ca, true);
  }

  /** kube-apiserver's flag as kubeadm sets it: the Node authorizer, then RBAC (decision 0097). */
  static final List<String> AUTHORIZATION_MODES = List.of("Node", "RBAC");

  /**
   * HTTPS with client certificates of the cluster CA, ServiceAccount tokens (verified with sa.pub,
   * handed out by TokenRequest signed with sa.key); no anonymous requests; authorization by {@link
   * #AUTHORIZATION_MODES} (the API server writes the bootstrap roles and bindings that give each
   * component its rights).
   */
  static ApiServer.Options secureApi(ApiServer.Options options, PkiPaths pki) {
    return options
        .withAuthorization(AuthorizerChain.of(AUTHORIZATION_MODES))
        .withTls(
            new ApiServer.ServingTls(
                pki.apiserver().cert(), pki.apiserver().key(), pki.ca().cert()))
        .withAuthentication(
            AuthenticationConfig.x509Only()
                .withServiceAccountKeys(
                    List.of(PemFiles.readPublicKey(pki.serviceAccountPublicKey())))
                .withSigningKey(PemFiles.readKey(pki.serviceAccountKey())));
  }

  /** Writes a kubeconfig for {@code cert} (0600: it holds a private key); returns its path. */
  static Path writeKubeconfig(Path file, URI server, String user, PkiPaths pki, CertPaths cert)
      throws IOException {
    writePrivate(file, Kubeconfigs.forUser(server, user, pki.ca().cert(), cert));
    return file;
  }

  /**
   * The simulated nodes' kubeconfig, {@code DATA-DIR/kubelet.conf}: one identity for the whole
   * process ({@code kubelite:simulated-kubelet} in {@code kubelite:simulated-nodes}, bound by the
   * bootstrap policy to what the Node authorizer gives one node, for every node; decision 0095).
   */
  static Path writeNodesKubeconfig(Path dataDir, URI server, PkiPaths pki) throws IOException {
    return writeKubeconfig(
        dataDir.resolve("kubelet.conf"),
        server,
        Pki.SIMULATED_NODES_USER,
        pki,
        pki.simulatedNodes());
  }

  /** A client from a kubeconfig file, as the standalone components read theirs. */
  static KubeClient client(Path kubeconfig) {
    return KubeClient.fromConfig(KubeConfig.parse(kubeconfig));
  }

  /** {@code source}-able settings for the real etcdctl: endpoints and the etcd client cert. */
  static String etcdctlEnv(String endpoints, PkiPaths pki, String comment) {
    return "# source this file, then: etcdctl get / --prefix --keys-only\n"
        + comment
        + "export ETCDCTL_API=3\n"
        + "export ETCDCTL_ENDPOINTS="
        + endpoints
        + "\n"
        + "export ETCDCTL_CACERT="
        + pki.etcdCa().cert()
        + "\n"
        + "export ETCDCTL_CERT="
        + pki.etcdHealthcheckClient().cert()
        + "\n"
        + "export ETCDCTL_KEY="
        + pki.etcdHealthcheckClient().key()
        + "\n";
  }

  /** Written through a temporary file created 0600, then renamed into place. */
  static void writePrivate(Path file, String text) {
    Kubeconfigs.writePrivate(file, text);
  }
}
