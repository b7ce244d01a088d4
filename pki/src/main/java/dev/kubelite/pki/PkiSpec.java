package dev.kubelite.pki;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What {@link Pki#ensure} issues: the host name and extra addresses the serving certificates name,
 * the store members (each gets a server and a peer certificate) and kubelet nodes (each gets a
 * client certificate), and the validity of leaf certificates and of CAs.
 *
 * @param hostName this machine's name, a SAN of every serving certificate
 * @param extraSans more DNS names or IP addresses for the serving certificates (e.g. the API
 *     server's --advertise-address)
 * @param storeMembers store member names; one member gets kubeadm's {@code etcd/server.crt} and
 *     {@code etcd/peer.crt}, several get {@code etcd/<name>/server.crt} and {@code peer.crt} each
 * @param kubeletNodes node names; each gets {@code kubelet-<node>.crt}
 * @param certValidity how long leaf certificates are valid (default 1 year)
 * @param caValidity how long CAs are valid (default 10 years)
 */
public record PkiSpec(
    String hostName,
    List<String> extraSans,
    List<String> storeMembers,
    List<String> kubeletNodes,
    Duration certValidity,
    Duration caValidity) {

  public static final Duration DEFAULT_CERT_VALIDITY = Duration.ofDays(365);
  public static final Duration DEFAULT_CA_VALIDITY = Duration.ofDays(3650);

  /** Member and node names become file names: a DNS label-ish alphabet, nothing else. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,252}");

  public PkiSpec {
    if (hostName == null || hostName.isBlank()) {
      throw new IllegalArgumentException("PkiSpec: the host name must not be empty");
    }
    extraSans = List.copyOf(extraSans);
    storeMembers = List.copyOf(storeMembers);
    kubeletNodes = List.copyOf(kubeletNodes);
    if (storeMembers.isEmpty()) {
      throw new IllegalArgumentException("PkiSpec: at least one store member is needed");
    }
    for (String m : storeMembers) {
      checkName("store member", m);
    }
    if (storeMembers.stream().distinct().count() != storeMembers.size()) {
      throw new IllegalArgumentException("PkiSpec: store member names repeat: " + storeMembers);
    }
    for (String n : kubeletNodes) {
      checkName("node", n);
    }
    if (certValidity.isNegative() || certValidity.isZero()) {
      throw new IllegalArgumentException("PkiSpec: certificate validity must be positive");
    }
    if (caValidity.isNegative() || caValidity.isZero()) {
      throw new IllegalArgumentException("PkiSpec: CA validity must be positive");
    }
  }

  /** One store member named {@code default} (etcd's default name), no nodes, default validity. */
  public static PkiSpec defaults() {
    return new PkiSpec(
        localHostName(),
        List.of(),
        List.of("default"),
        List.of(),
        DEFAULT_CERT_VALIDITY,
        DEFAULT_CA_VALIDITY);
  }

  public PkiSpec withHostName(String name) {
    return new PkiSpec(name, extraSans, storeMembers, kubeletNodes, certValidity, caValidity);
  }

  public PkiSpec withExtraSans(List<String> sans) {
    return new PkiSpec(hostName, sans, storeMembers, kubeletNodes, certValidity, caValidity);
  }

  public PkiSpec withStoreMembers(List<String> members) {
    return new PkiSpec(hostName, extraSans, members, kubeletNodes, certValidity, caValidity);
  }

  public PkiSpec withKubeletNodes(List<String> nodes) {
    return new PkiSpec(hostName, extraSans, storeMembers, nodes, certValidity, caValidity);
  }

  public PkiSpec withCertValidity(Duration validity) {
    return new PkiSpec(hostName, extraSans, storeMembers, kubeletNodes, validity, caValidity);
  }

  public PkiSpec withCaValidity(Duration validity) {
    return new PkiSpec(hostName, extraSans, storeMembers, kubeletNodes, certValidity, validity);
  }

  /** This machine's host name, or {@code localhost} if it has none that resolves. */
  public static String localHostName() {
    try {
      String name = InetAddress.getLocalHost().getHostName();
      if (name != null && !name.isBlank()) {
        return name;
      }
    } catch (UnknownHostException e) {
      // A host name that does not resolve: the certificates still name localhost and 127.0.0.1.
      String env = System.getenv("HOSTNAME");
      if (env != null && !env.isBlank()) {
        return env;
      }
    }
    return "localhost";
  }

  private static void checkName(String what, String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "PkiSpec: invalid "
              + what
              + " name '"
              + name
              + "': use letters, digits, '.', '-' and '_' (it names a file)");
    }
  }
}
