package dev.kubelite.pki;

import dev.kubelite.pki.Certificates.Usage;
import dev.kubelite.pki.PkiPaths.CertPaths;
import dev.kubelite.pki.PkiPaths.MemberCerts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's PKI in a directory laid out like kubeadm's {@code /etc/kubernetes/pki}: a cluster
 * CA and a store (etcd) CA, and the serving and client certificates issued from them. {@link
 * #ensure} issues what is missing and reuses what exists; {@link #renew} reissues a certificate
 * with its subject and SANs from its CA; {@link #inventory} and {@link #checkExpiration} report
 * expiry; {@link #warnExpiring} logs a warning for what expires within 30 days.
 */
public final class Pki {
  private static final Logger log = LoggerFactory.getLogger(Pki.class);

  /** Certificates closer than this to their expiry are warned about at start. */
  public static final Duration WARN_BEFORE_EXPIRY = Duration.ofDays(30);

  static final String CA = "ca";
  static final String ETCD_CA = "etcd/ca";
  private static final String CA_CN = "kubernetes";
  private static final String ETCD_CA_CN = "etcd-ca";

  /**
   * The simulated-kubelet process of several nodes (decision 0095): its file base, user and group.
   */
  static final String SIMULATED_NODES_FILE = "kubelite-simulated-nodes";

  public static final String SIMULATED_NODES_USER = "kubelite:simulated-kubelet";
  public static final String SIMULATED_NODES_GROUP = "kubelite:simulated-nodes";

  private static final DateTimeFormatter EXPIRES =
      DateTimeFormatter.ofPattern("MMM dd, yyyy HH:mm 'UTC'", Locale.ENGLISH)
          .withZone(ZoneOffset.UTC);

  private Pki() {}

  /** A certificate in the PKI directory, CA or leaf, and the CA that signed it. */
  public record CertStatus(
      String name, Path cert, Path key, X509Certificate certificate, String authority) {
    public boolean isCa() {
      return authority == null;
    }

    public Instant notAfter() {
      return certificate.getNotAfter().toInstant();
    }
  }

  /** Thrown when the PKI directory holds something that cannot be used as it is. */
  public static final class PkiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PkiException(String message) {
      super(message);
    }
  }

  /** A leaf certificate the spec asks for: file base name (no .crt), CA, subject, use, SANs. */
  private record Leaf(
      String base, String ca, String cn, List<String> orgs, List<Usage> usages, Set<String> sans) {}

  /** {@link #ensure(Path, PkiSpec, Clock)} at the current time. */
  public static PkiPaths ensure(Path dir, PkiSpec spec) {
    return ensure(dir, spec, Clock.systemUTC());
  }

  /** What the spec asks for in {@code dir}: every leaf, and where each file goes. */
  private record Plan(List<Leaf> leaves, PkiPaths paths) {}

  private static Plan plan(Path dir, PkiSpec spec) {
    Set<String> serving = new LinkedHashSet<>(List.of("localhost", "127.0.0.1", "::1"));
    serving.add(spec.hostName());
    serving.addAll(spec.extraSans());
    Set<String> apiserverSans = new LinkedHashSet<>(serving);
    apiserverSans.addAll(
        List.of(
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local"));

    List<Leaf> leaves = new ArrayList<>();
    leaves.add(leaf("apiserver", CA, "kube-apiserver", List.of(), server(), apiserverSans));
    leaves.add(
        leaf("apiserver-etcd-client", ETCD_CA, "kube-apiserver-etcd-client", List.of(), client()));
    leaves.add(
        leaf(
            "etcd/healthcheck-client",
            ETCD_CA,
            "kube-etcd-healthcheck-client",
            List.of(),
            client()));
    leaves.add(leaf("admin", CA, "kubernetes-admin", List.of("system:masters"), client()));
    leaves.add(leaf("kube-scheduler", CA, "system:kube-scheduler", List.of(), client()));
    leaves.add(
        leaf("kube-controller-manager", CA, "system:kube-controller-manager", List.of(), client()));
    leaves.add(
        leaf(
            SIMULATED_NODES_FILE,
            CA,
            SIMULATED_NODES_USER,
            List.of(SIMULATED_NODES_GROUP),
            client()));
    Map<String, CertPaths> kubelets = new LinkedHashMap<>();
    for (String node : spec.kubeletNodes()) {
      Leaf l =
          leaf("kubelet-" + node, CA, "system:node:" + node, List.of("system:nodes"), client());
      leaves.add(l);
      kubelets.put(node, paths(dir, l.base()));
    }
    Map<String, MemberCerts> members = new LinkedHashMap<>();
    boolean single = spec.storeMembers().size() == 1;
    for (String m : spec.storeMembers()) {
      String prefix = single ? "etcd/" : "etcd/" + m + "/";
      // Both serve and are clients (a peer dials its peers with its peer certificate), as kubeadm.
      List<Usage> both = List.of(Usage.SERVER, Usage.CLIENT);
      Leaf srv = new Leaf(prefix + "server", ETCD_CA, m, List.of(), both, serving);
      Leaf peer = new Leaf(prefix + "peer", ETCD_CA, m, List.of(), both, serving);
      leaves.add(srv);
      leaves.add(peer);
      members.put(m, new MemberCerts(paths(dir, srv.base()), paths(dir, peer.base())));
    }
    return new Plan(
        leaves,
        new PkiPaths(
            dir,
            paths(dir, CA),
            paths(dir, ETCD_CA),
            paths(dir, "apiserver"),
            paths(dir, "apiserver-etcd-client"),
            paths(dir, "etcd/healthcheck-client"),
            paths(dir, "admin"),
            paths(dir, "kube-scheduler"),
            paths(dir, "kube-controller-manager"),
            paths(dir, SIMULATED_NODES_FILE),
            Map.copyOf(kubelets),
            Map.copyOf(members),
            dir.resolve("sa.key"),
            dir.resolve("sa.pub")));
  }

  /**
   * Makes sure {@code dir} holds every CA, certificate and key the spec asks for: what exists is
   * reused (a serving certificate lacking a SAN the spec now asks for is reissued), what is missing
   * is issued. Throws {@link PkiException} when an existing file cannot be used (a certificate
   * without its key, one not signed by the CA beside it, a key that is not the certificate's).
   */
  public static PkiPaths ensure(Path dir, PkiSpec spec, Clock clock) {
    Instant now = clock.instant();
    PemFiles.ensureDir(dir);
    PemFiles.ensureDir(dir.resolve("etcd"));
    Authority ca = loadOrCreateCa(dir, CA, CA_CN, spec.caValidity(), now);
    Authority etcdCa = loadOrCreateCa(dir, ETCD_CA, ETCD_CA_CN, spec.caValidity(), now);
    Plan plan = plan(dir, spec);
    if (spec.storeMembers().size() > 1) {
      for (String m : spec.storeMembers()) {
        PemFiles.ensureDir(dir.resolve("etcd").resolve(m));
      }
    }
    for (Leaf l : plan.leaves()) {
      Authority a = l.ca().equals(CA) ? ca : etcdCa;
      loadOrIssue(dir, l, a, spec.certValidity(), now);
    }
    loadOrCreateServiceAccountKey(dir);
    return plan.paths();
  }

  /**
   * The PKI in {@code dir} as it is, for a component that only reads it (a shared, possibly
   * read-only volume that another step made, e.g. {@code kubelite certs init}): nothing is written.
   * Throws {@link PkiException} listing every file the spec needs that is missing. The spec's host
   * name and SANs are not checked (the serving certificates are whatever the maker issued).
   */
  public static PkiPaths load(Path dir, PkiSpec spec) {
    Plan plan = plan(dir, spec);
    List<Path> needed = new ArrayList<>();
    for (String base : List.of(CA, ETCD_CA)) {
      needed.add(dir.resolve(base + ".crt"));
      needed.add(dir.resolve(base + ".key"));
    }
    for (Leaf l : plan.leaves()) {
      needed.add(dir.resolve(l.base() + ".crt"));
      needed.add(dir.resolve(l.base() + ".key"));
    }
    needed.add(dir.resolve("sa.key"));
    needed.add(dir.resolve("sa.pub"));
    List<String> missing =
        needed.stream().filter(p -> !Files.isRegularFile(p)).map(Path::toString).toList();
    if (!missing.isEmpty()) {
      throw new PkiException(
          "the PKI in "
              + dir
              + " lacks "
              + String.join(", ", missing)
              + ": make it first with `kubelite certs init --pki-dir "
              + dir
              + "` (naming the store members with --store-members)");
    }
    return plan.paths();
  }

  /**
   * kubeadm's {@code sa.key}/{@code sa.pub}: the key pair that signs and verifies ServiceAccount
   * tokens (ES256 with a P-256 key). Not a certificate: it never expires and is not renewed.
   */
  private static void loadOrCreateServiceAccountKey(Path dir) {
    Path key = dir.resolve("sa.key");
    Path pub = dir.resolve("sa.pub");
    boolean hasKey = Files.exists(key);
    boolean hasPub = Files.exists(pub);
    if (hasKey && hasPub) {
      return;
    }
    if (hasKey || hasPub) {
      throw new PkiException(
          (hasKey ? key + " without " + pub : pub + " without " + key)
              + ": restore the missing file, or remove both to make a new pair (tokens signed with"
              + " the old key then stop working)");
    }
    KeyPair kp = Certificates.newKeyPair();
    PemFiles.writeKey(key, kp.getPrivate());
    PemFiles.writePublicKey(pub, kp.getPublic());
    log.info("generated the ServiceAccount token signing key {}", key);
  }

  /**
   * Every certificate in {@code dir}: the CAs first ({@code ca}, {@code etcd-ca}), then the leaves
   * by name. A leaf's name is its path without {@code .crt}, '/' read as '-' (kubeadm's names:
   * {@code apiserver}, {@code etcd-server}, {@code etcd-peer}, ...).
   */
  public static List<CertStatus> inventory(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new PkiException(
          "no PKI directory at " + dir + " (pass --pki-dir, or start the cluster once)");
    }
    List<CertStatus> cas = new ArrayList<>();
    for (String base : List.of(CA, ETCD_CA)) {
      Path crt = dir.resolve(base + ".crt");
      if (Files.exists(crt)) {
        cas.add(
            new CertStatus(
                name(base), crt, dir.resolve(base + ".key"), PemFiles.readCertificate(crt), null));
      }
    }
    List<CertStatus> leaves = new ArrayList<>();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path crt : files.filter(p -> p.toString().endsWith(".crt")).sorted().toList()) {
        String rel = dir.relativize(crt).toString().replace('\\', '/');
        String base = rel.substring(0, rel.length() - ".crt".length());
        if (base.equals(CA) || base.equals(ETCD_CA)) {
          continue;
        }
        X509Certificate cert = PemFiles.readCertificate(crt);
        String authority =
            cas.stream()
                .filter(c -> Certificates.signedBy(cert, c.certificate()))
                .map(CertStatus::name)
                .findFirst()
                .orElse("");
        leaves.add(new CertStatus(name(base), crt, dir.resolve(base + ".key"), cert, authority));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the PKI directory " + dir, e);
    }
    leaves.sort(Comparator.comparing(CertStatus::name));
    List<CertStatus> all = new ArrayList<>(cas);
    all.addAll(leaves);
    return all;
  }

  /**
   * Reissues the named leaf certificate from the CA that signed it: same subject, SANs and key
   * usages, a new key, a new serial, valid for {@code validity} from now. CAs are not renewed
   * (neither does kubeadm's {@code certs renew}).
   */
  public static CertStatus renew(Path dir, String name, Duration validity, Clock clock) {
    List<CertStatus> all = inventory(dir);
    CertStatus old =
        all.stream()
            .filter(c -> c.name().equals(name))
            .findFirst()
            .orElseThrow(
                () ->
                    new PkiException(
                        "no certificate named '"
                            + name
                            + "' in "
                            + dir
                            + "; known: "
                            + all.stream()
                                .filter(c -> !c.isCa())
                                .map(CertStatus::name)
                                .collect(Collectors.joining(", "))));
    if (old.isCa()) {
      throw new PkiException(
          "'"
              + name
              + "' is a CA: CAs are not renewed by this command (a new CA means reissuing every"
              + " certificate it signed)");
    }
    if (old.authority().isEmpty()) {
      throw new PkiException(
          "'"
              + name
              + "' ("
              + old.cert()
              + ") was not signed by a CA in "
              + dir
              + "; cannot renew");
    }
    CertStatus caStatus =
        all.stream().filter(c -> c.name().equals(old.authority())).findFirst().orElseThrow();
    if (!Files.exists(caStatus.key())) {
      throw new PkiException(
          "cannot renew '" + name + "': the CA key " + caStatus.key() + " is missing");
    }
    Authority ca = new Authority(caStatus.certificate(), PemFiles.readKey(caStatus.key()));
    X509Certificate prev = old.certificate();
    KeyPair kp = Certificates.newKeyPair();
    X509Certificate cert =
        Certificates.issue(
            ca.cert(),
            ca.key(),
            Certificates.subjectOf(prev),
            kp.getPublic(),
            Certificates.usages(prev),
            Certificates.sans(prev),
            clock.instant(),
            validity);
    PemFiles.writeKey(old.key(), kp.getPrivate());
    PemFiles.writeCertificate(old.cert(), cert);
    log.info(
        "renewed certificate {} ({}), now valid until {}", name, old.cert(), cert.getNotAfter());
    return new CertStatus(name, old.cert(), old.key(), cert, old.authority());
  }

  /** Renews every leaf certificate in {@code dir}; returns what it renewed. */
  public static List<CertStatus> renewAll(Path dir, Duration validity, Clock clock) {
    List<CertStatus> out = new ArrayList<>();
    for (CertStatus c : inventory(dir)) {
      if (!c.isCa()) {
        out.add(renew(dir, c.name(), validity, clock));
      }
    }
    return out;
  }

  /** {@link #warnExpiring(Path, Clock)} at the current time. */
  public static List<CertStatus> warnExpiring(Path dir) {
    return warnExpiring(dir, Clock.systemUTC());
  }

  /**
   * Logs a WARN for every certificate in {@code dir} that has expired or expires within {@link
   * #WARN_BEFORE_EXPIRY}, saying how to renew it; returns those certificates.
   */
  public static List<CertStatus> warnExpiring(Path dir, Clock clock) {
    Instant now = clock.instant();
    List<CertStatus> out = new ArrayList<>();
    for (CertStatus c : inventory(dir)) {
      Instant end = c.notAfter();
      if (end.isAfter(now.plus(WARN_BEFORE_EXPIRY))) {
        continue;
      }
      out.add(c);
      String how =
          c.isCa()
              ? "a new CA means reissuing every certificate it signed"
              : "renew it with `kubelite certs renew " + c.name() + "`";
      if (!end.isAfter(now)) {
        log.warn(
            "certificate {} ({}) EXPIRED on {}: {}", c.name(), c.cert(), EXPIRES.format(end), how);
      } else {
        log.warn(
            "certificate {} ({}) expires on {}, in {}: {}",
            c.name(),
            c.cert(),
            EXPIRES.format(end),
            residual(Duration.between(now, end)),
            how);
      }
    }
    return out;
  }

  /**
   * kubeadm's {@code certs check-expiration} table: leaf certificates (CERTIFICATE, EXPIRES,
   * RESIDUAL TIME, CERTIFICATE AUTHORITY), a blank line, then the CAs.
   */
  public static String checkExpiration(Path dir, Clock clock) {
    Instant now = clock.instant();
    List<CertStatus> all = inventory(dir);
    List<List<String>> leaves = new ArrayList<>();
    leaves.add(List.of("CERTIFICATE", "EXPIRES", "RESIDUAL TIME", "CERTIFICATE AUTHORITY"));
    List<List<String>> cas = new ArrayList<>();
    cas.add(List.of("CERTIFICATE AUTHORITY", "EXPIRES", "RESIDUAL TIME"));
    for (CertStatus c : all) {
      String expires = EXPIRES.format(c.notAfter());
      String residual = residual(Duration.between(now, c.notAfter()));
      if (c.isCa()) {
        cas.add(List.of(c.name(), expires, residual));
      } else {
        leaves.add(List.of(c.name(), expires, residual, c.authority()));
      }
    }
    return table(leaves) + "\n" + table(cas);
  }

  /**
   * A duration as Kubernetes prints one in short form: seconds under a minute, minutes under an
   * hour, hours under a day, days under a year, then years; {@code <invalid>} once it is past.
   */
  public static String residual(Duration d) {
    long seconds = d.getSeconds();
    if (seconds < -1) {
      return "<invalid>";
    } else if (seconds < 0) {
      return "0s";
    } else if (seconds < 60) {
      return seconds + "s";
    } else if (d.toMinutes() < 60) {
      return d.toMinutes() + "m";
    } else if (d.toHours() < 24) {
      return d.toHours() + "h";
    } else if (d.toHours() < 24 * 365) {
      return d.toDays() + "d";
    }
    return (d.toHours() / 24 / 365) + "y";
  }

  private static String table(List<List<String>> rows) {
    int cols = rows.get(0).size();
    int[] width = new int[cols];
    for (List<String> r : rows) {
      for (int i = 0; i < cols; i++) {
        width[i] = Math.max(width[i], r.get(i).length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (List<String> r : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < cols; i++) {
        line.append(r.get(i));
        if (i < cols - 1) {
          line.append(" ".repeat(width[i] - r.get(i).length() + 3));
        }
      }
      sb.append(line.toString().stripTrailing()).append('\n');
    }
    return sb.toString();
  }

  private record Authority(X509Certificate cert, PrivateKey key) {}

  private static Authority loadOrCreateCa(
      Path dir, String base, String cn, Duration validity, Instant now) {
    Path crt = dir.resolve(base + ".crt");
    Path key = dir.resolve(base + ".key");
    boolean hasCrt = Files.exists(crt);
    boolean hasKey = Files.exists(key);
    if (hasCrt && hasKey) {
      X509Certificate cert = PemFiles.readCertificate(crt);
      PrivateKey k = PemFiles.readKey(key);
      if (!Certificates.matches(cert, k)) {
        throw new PkiException(key + " is not the private key of " + crt + "; restore the pair");
      }
      return new Authority(cert, k);
    }
    if (hasCrt || hasKey) {
      throw new PkiException(
          "the CA "
              + dir.resolve(base)
              + " is half there ("
              + (hasCrt ? crt + " without " + key : key + " without " + crt)
              + "); restore the missing file, or remove the PKI directory to start over");
    }
    KeyPair kp = Certificates.newKeyPair();
    X509Certificate cert = Certificates.selfSignedCa(cn, kp, now, validity);
    PemFiles.writeKey(key, kp.getPrivate());
    PemFiles.writeCertificate(crt, cert);
    log.info("generated CA {} ({}), valid until {}", name(base), crt, cert.getNotAfter());
    return new Authority(cert, kp.getPrivate());
  }

  private static void loadOrIssue(Path dir, Leaf l, Authority ca, Duration validity, Instant now) {
    Path crt = dir.resolve(l.base() + ".crt");
    Path key = dir.resolve(l.base() + ".key");
    boolean hasCrt = Files.exists(crt);
    boolean hasKey = Files.exists(key);
    if (hasCrt && hasKey) {
      X509Certificate cert = PemFiles.readCertificate(crt);
      if (!Certificates.signedBy(cert, ca.cert())) {
        throw new PkiException(
            crt
                + " was not signed by the CA "
                + dir.resolve(l.ca() + ".crt")
                + "; remove it (and its key) to have it issued anew, or restore the CA that"
                + " signed it");
      }
      if (!Certificates.matches(cert, PemFiles.readKey(key))) {
        throw new PkiException(
            key + " is not the private key of " + crt + "; remove both to have them issued anew");
      }
      List<String> missing = Certificates.missingSans(cert, l.sans());
      if (missing.isEmpty()) {
        return;
      }
      log.info("reissuing {}: it lacks the names {} it must now serve", crt, missing);
    } else if (hasCrt || hasKey) {
      log.warn("{} without {}: issuing both anew", hasCrt ? crt : key, hasCrt ? key : crt);
    }
    KeyPair kp = Certificates.newKeyPair();
    X509Certificate cert =
        Certificates.issue(
            ca.cert(),
            ca.key(),
            Certificates.subject(l.cn(), l.orgs()),
            kp.getPublic(),
            l.usages().stream().map(u -> u.purpose).toList(),
            Certificates.sans(l.sans()),
            now,
            validity);
    PemFiles.writeKey(key, kp.getPrivate());
    PemFiles.writeCertificate(crt, cert);
    log.info("issued certificate {} ({}), valid until {}", name(l.base()), crt, cert.getNotAfter());
  }

  private static Leaf leaf(
      String base, String ca, String cn, List<String> orgs, List<Usage> usages) {
    return new Leaf(base, ca, cn, orgs, usages, Set.of());
  }

  private static Leaf leaf(
      String base, String ca, String cn, List<String> orgs, List<Usage> usages, Set<String> sans) {
    return new Leaf(base, ca, cn, orgs, usages, sans);
  }

  private static List<Usage> server() {
    return List.of(Usage.SERVER);
  }

  private static List<Usage> client() {
    return List.of(Usage.CLIENT);
  }

  private static CertPaths paths(Path dir, String base) {
    return new CertPaths(dir.resolve(base + ".crt"), dir.resolve(base + ".key"));
  }

  /** The name of a file base in the tables: its path with '/' read as '-'. */
  static String name(String base) {
    return base.replace('/', '-');
  }

  /** The status of the named certificate, if {@code dir} holds it. */
  public static Optional<CertStatus> find(Path dir, String name) {
    return inventory(dir).stream().filter(c -> c.name().equals(name)).findFirst();
  }
}
