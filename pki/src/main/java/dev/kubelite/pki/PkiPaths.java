package dev.kubelite.pki;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where {@link Pki#ensure} put each certificate and key (PEM files, kubeadm's layout).
 *
 * @param dir the PKI directory
 * @param ca the cluster CA ({@code ca.crt}, {@code ca.key})
 * @param etcdCa the store's CA ({@code etcd/ca.crt}, {@code etcd/ca.key})
 * @param apiserver the API server's serving certificate
 * @param apiserverEtcdClient the API server's client certificate for the store (etcd CA)
 * @param etcdHealthcheckClient a client certificate for the store for probes and admins (etcd CA)
 * @param admin the cluster admin (CN kubernetes-admin, O system:masters)
 * @param scheduler the scheduler (CN system:kube-scheduler)
 * @param controllerManager the controller manager (CN system:kube-controller-manager)
 * @param simulatedNodes a simulated-kubelet process of several nodes (CN
 *     kubelite:simulated-kubelet, O kubelite:simulated-nodes; decision 0095)
 * @param kubelets per node name: CN system:node:&lt;name&gt;, O system:nodes
 * @param storeMembers per store member name: its server and peer certificates (etcd CA)
 * @param serviceAccountKey the key that signs ServiceAccount tokens ({@code sa.key}, private)
 * @param serviceAccountPublicKey its public half ({@code sa.pub}), which verifies them
 */
public record PkiPaths(
    Path dir,
    CertPaths ca,
    CertPaths etcdCa,
    CertPaths apiserver,
    CertPaths apiserverEtcdClient,
    CertPaths etcdHealthcheckClient,
    CertPaths admin,
    CertPaths scheduler,
    CertPaths controllerManager,
    CertPaths simulatedNodes,
    Map<String, CertPaths> kubelets,
    Map<String, MemberCerts> storeMembers,
    Path serviceAccountKey,
    Path serviceAccountPublicKey) {

  /** A certificate and its private key. */
  public record CertPaths(Path cert, Path key) {}

  /** A store member's serving certificate (client port) and peer certificate (peer port). */
  public record MemberCerts(CertPaths server, CertPaths peer) {}
}
