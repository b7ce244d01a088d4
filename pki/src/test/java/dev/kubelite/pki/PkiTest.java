package dev.kubelite.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubelite.pki.PkiPaths.CertPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PkiTest {
  static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
  static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
  static final Instant T0 = Instant.parse("2026-01-10T12:00:00Z");

  @TempDir Path tmp;

  static Clock at(Instant t) {
    return Clock.fixed(t, ZoneOffset.UTC);
  }

  static PkiSpec spec() {
    return PkiSpec.defaults()
        .withHostName("testhost")
        .withExtraSans(List.of("10.0.0.7", "api.example"))
        .withKubeletNodes(List.of("node-1", "node-2"));
  }

  static X509Certificate cert(Path p) {
    return PemFiles.readCertificate(p);
  }

  /** SANs as "DNS:name" / "IP:addr" strings, the way openssl prints them. */
  static List<String> sans(X509Certificate c) throws Exception {
    List<String> out = new ArrayList<>();
    if (c.getSubjectAlternativeNames() == null) {
      return out;
    }
    for (List<?> san : c.getSubjectAlternativeNames()) {
      int type = (Integer) san.get(0);
      out.add((type == 2 ? "DNS:" : type == 7 ? "IP:" : type + ":") + san.get(1));
    }
    return out;
  }

  @Test
  void ensureIssuesTheKubeadmLayoutWithVerifyingChains() throws Exception {
    Path dir = tmp.resolve("pki");
    PkiPaths p = Pki.ensure(dir, spec(), at(T0));

    X509Certificate ca = cert(p.ca().cert());
    X509Certificate etcdCa = cert(p.etcdCa().cert());
    assertThat(ca.getBasicConstraints()).isGreaterThanOrEqualTo(0);
    assertThat(ca.getSubjectX500Principal().getName()).isEqualTo("CN=kubernetes");
    assertThat(etcdCa.getSubjectX500Principal().getName()).isEqualTo("CN=etcd-ca");
    assertThat(ca.getKeyUsage()[5]).as("keyCertSign").isTrue();
    assertThat(ca.getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(ca.getNotAfter().toInstant()).isEqualTo(T0.plus(Duration.ofDays(3650)));
    ca.verify(ca.getPublicKey());

    // Every leaf: signed by its CA, not a CA itself, valid for a year, key usages as kubeadm's.
    Map<CertPaths, X509Certificate> byCa = new HashMap<>();
    for (CertPaths c :
        List.of(
            p.apiserver(),
            p.admin(),
            p.scheduler(),
            p.controllerManager(),
            p.kubelets().get("node-1"),
            p.kubelets().get("node-2"))) {
      byCa.put(c, ca);
    }
    for (CertPaths c :
        List.of(
            p.apiserverEtcdClient(),
            p.etcdHealthcheckClient(),
            p.storeMembers().get("default").server(),
            p.storeMembers().get("default").peer())) {
      byCa.put(c, etcdCa);
    }
    for (var e : byCa.entrySet()) {
      X509Certificate leaf = cert(e.getKey().cert());
      leaf.verify(e.getValue().getPublicKey());
      assertThat(leaf.getIssuerX500Principal()).isEqualTo(e.getValue().getSubjectX500Principal());
      assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
      assertThat(leaf.getKeyUsage()[0]).as("digitalSignature").isTrue();
      assertThat(leaf.getNotAfter().toInstant()).isEqualTo(T0.plus(Duration.ofDays(365)));
      assertThat(leaf.getNotBefore().toInstant()).isBefore(T0);
      assertThat(Certificates.matches(leaf, PemFiles.readKey(e.getKey().key()))).isTrue();
    }

    X509Certificate api = cert(p.apiserver().cert());
    assertThat(api.getSubjectX500Principal().getName()).isEqualTo("CN=kube-apiserver");
    assertThat(api.getExtendedKeyUsage()).containsExactly(SERVER_AUTH);
    assertThat(sans(api))
        .contains(
            "DNS:localhost",
            "IP:127.0.0.1",
            "IP:0:0:0:0:0:0:0:1",
            "DNS:testhost",
            "IP:10.0.0.7",
            "DNS:api.example",
            "DNS:kubernetes.default.svc");

    X509Certificate admin = cert(p.admin().cert());
    assertThat(admin.getSubjectX500Principal().getName())
        .isEqualTo("CN=kubernetes-admin,O=system:masters");
    assertThat(admin.getExtendedKeyUsage()).containsExactly(CLIENT_AUTH);
    assertThat(admin.getSubjectAlternativeNames()).isNull();
    assertThat(cert(p.scheduler().cert()).getSubjectX500Principal().getName())
        .isEqualTo("CN=system:kube-scheduler");
    assertThat(cert(p.controllerManager().cert()).getSubjectX500Principal().getName())
        .isEqualTo("CN=system:kube-controller-manager");
    assertThat(cert(p.kubelets().get("node-2").cert()).getSubjectX500Principal().getName())
        .isEqualTo("CN=system:node:node-2,O=system:nodes");
    X509Certificate sim = cert(p.simulatedNodes().cert());
    assertThat(sim.getSubjectX500Principal().getName())
        .isEqualTo("CN=kubelite:simulated-kubelet,O=kubelite:simulated-nodes");
    assertThat(sim.getExtendedKeyUsage()).containsExactly(CLIENT_AUTH);
    sim.verify(ca.getPublicKey());
    assertThat(p.simulatedNodes().cert()).isEqualTo(dir.resolve("kubelite-simulated-nodes.crt"));
    assertThat(cert(p.apiserverEtcdClient().cert()).getExtendedKeyUsage())
        .containsExactly(CLIENT_AUTH);

    X509Certificate etcdServer = cert(p.storeMembers().get("default").server().cert());
    assertThat(etcdServer.getSubjectX500Principal().getName()).isEqualTo("CN=default");
    assertThat(etcdServer.getExtendedKeyUsage()).containsExactly(SERVER_AUTH, CLIENT_AUTH);
    assertThat(sans(etcdServer)).contains("DNS:localhost", "IP:127.0.0.1", "DNS:testhost");

    // kubeadm's file names
    for (String f :
        List.of(
            "ca.crt",
            "ca.key",
            "apiserver.crt",
            "apiserver.key",
            "apiserver-etcd-client.crt",
            "apiserver-etcd-client.key",
            "admin.crt",
            "kube-scheduler.crt",
            "kube-controller-manager.crt",
            "kubelet-node-1.crt",
            "etcd/ca.crt",
            "etcd/ca.key",
            "etcd/server.crt",
            "etcd/server.key",
            "etcd/peer.crt",
            "etcd/peer.key",
            "etcd/healthcheck-client.crt",
            "etcd/healthcheck-client.key")) {
      assertThat(dir.resolve(f)).exists();
    }
    assertThat(Files.readString(p.apiserver().key())).startsWith("-----BEGIN PRIVATE KEY-----\n");

    // kubeadm's ServiceAccount token key pair: the halves match (sign with one, verify with other).
    assertThat(p.serviceAccountKey()).isEqualTo(dir.resolve("sa.key"));
    java.security.Signature sign = java.security.Signature.getInstance("SHA256withECDSA");
    sign.initSign(PemFiles.readKey(p.serviceAccountKey()));
    sign.update(new byte[] {1, 2, 3});
    byte[] sig = sign.sign();
    java.security.Signature verify = java.security.Signature.getInstance("SHA256withECDSA");
    verify.initVerify(PemFiles.readPublicKey(p.serviceAccountPublicKey()));
    verify.update(new byte[] {1, 2, 3});
    assertThat(verify.verify(sig)).isTrue();
    assertThat(Files.readString(p.serviceAccountPublicKey()))
        .startsWith("-----BEGIN PUBLIC KEY-----");
  }

  @Test
  void keysAre0600CertsAre0644DirsAre0700() throws Exception {
    Path dir = tmp.resolve("a/pki");
    Pki.ensure(dir, spec().withStoreMembers(List.of("m1", "m2")), at(T0));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)))
        .isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("etcd"))))
        .isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("etcd/m2"))))
        .isEqualTo("rwx------");
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(f));
        if (f.toString().endsWith(".key")) {
          assertThat(mode).as(f.toString()).isEqualTo("rw-------");
        } else if (f.toString().endsWith(".pub")) {
          assertThat(mode).as(f.toString()).isEqualTo("rw-r--r--");
        } else {
          assertThat(f.toString()).endsWith(".crt");
          assertThat(mode).as(f.toString()).isEqualTo("rw-r--r--");
        }
      }
    }
  }

  @Test
  void severalMembersGetOnePairEachInTheirOwnDirectory() throws Exception {
    Path dir = tmp.resolve("pki");
    PkiPaths p = Pki.ensure(dir, spec().withStoreMembers(List.of("m1", "m2", "m3")), at(T0));
    assertThat(p.storeMembers()).containsOnlyKeys("m1", "m2", "m3");
    assertThat(p.storeMembers().get("m2").server().cert())
        .isEqualTo(dir.resolve("etcd/m2/server.crt"));
    assertThat(p.storeMembers().get("m3").peer().key()).isEqualTo(dir.resolve("etcd/m3/peer.key"));
    X509Certificate peer = cert(p.storeMembers().get("m3").peer().cert());
    assertThat(peer.getSubjectX500Principal().getName()).isEqualTo("CN=m3");
    peer.verify(cert(p.etcdCa().cert()).getPublicKey());
    assertThat(dir.resolve("etcd/server.crt")).doesNotExist();
    assertThat(Pki.inventory(dir).stream().map(Pki.CertStatus::name))
        .contains("etcd-m1-server", "etcd-m2-peer", "etcd-m3-server");
  }

  @Test
  void existingCertificatesAreReusedAndOnlyMissingOnesIssued() throws Exception {
    Path dir = tmp.resolve("pki");
    Pki.ensure(dir, spec(), at(T0));
    Map<Path, String> before = contents(dir);
    Files.delete(dir.resolve("kube-scheduler.crt"));
    Files.delete(dir.resolve("kube-scheduler.key"));

    Pki.ensure(dir, spec(), at(T0.plus(Duration.ofDays(3))));
    Map<Path, String> after = contents(dir);
    assertThat(after.keySet()).isEqualTo(before.keySet());
    for (Path f : before.keySet()) {
      if (f.getFileName().toString().startsWith("kube-scheduler.")) {
        assertThat(after.get(f)).as(f.toString()).isNotEqualTo(before.get(f));
      } else {
        assertThat(after.get(f)).as(f.toString()).isEqualTo(before.get(f));
      }
    }
    X509Certificate scheduler = cert(dir.resolve("kube-scheduler.crt"));
    scheduler.verify(cert(dir.resolve("ca.crt")).getPublicKey());
    assertThat(scheduler.getNotAfter().toInstant()).isEqualTo(T0.plus(Duration.ofDays(3 + 365)));
  }

  @Test
  void aNewAddressReissuesOnlyTheServingCertificates() throws Exception {
    Path dir = tmp.resolve("pki");
    Pki.ensure(dir, spec(), at(T0));
    Map<Path, String> before = contents(dir);
    Pki.ensure(dir, spec().withExtraSans(List.of("10.0.0.7", "api.example", "10.9.9.9")), at(T0));
    Map<Path, String> after = contents(dir);
    assertThat(sans(cert(dir.resolve("apiserver.crt")))).contains("IP:10.9.9.9");
    assertThat(sans(cert(dir.resolve("etcd/server.crt")))).contains("IP:10.9.9.9");
    assertThat(after.get(dir.resolve("admin.crt"))).isEqualTo(before.get(dir.resolve("admin.crt")));
    assertThat(after.get(dir.resolve("ca.crt"))).isEqualTo(before.get(dir.resolve("ca.crt")));
  }

  @Test
  void unusableExistingFilesAreRefusedWithWhatToDo() throws Exception {
    Path dir = tmp.resolve("pki");
    Pki.ensure(dir, spec(), at(T0));
    // A new cluster CA: the old leaves were not signed by it.
    Files.delete(dir.resolve("ca.crt"));
    Files.delete(dir.resolve("ca.key"));
    assertThatThrownBy(() -> Pki.ensure(dir, spec(), at(T0)))
        .isInstanceOf(Pki.PkiException.class)
        .hasMessageContaining("was not signed by the CA")
        .hasMessageContaining("remove it");

    Path dir2 = tmp.resolve("pki2");
    Pki.ensure(dir2, spec(), at(T0));
    Files.delete(dir2.resolve("etcd/ca.key"));
    assertThatThrownBy(() -> Pki.ensure(dir2, spec(), at(T0)))
        .isInstanceOf(Pki.PkiException.class)
        .hasMessageContaining("is half there");

    Path dir3 = tmp.resolve("pki3");
    Pki.ensure(dir3, spec(), at(T0));
    Files.copy(
        dir3.resolve("admin.key"),
        dir3.resolve("kube-scheduler.key"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    assertThatThrownBy(() -> Pki.ensure(dir3, spec(), at(T0)))
        .isInstanceOf(Pki.PkiException.class)
        .hasMessageContaining("is not the private key of");

    Path dir4 = tmp.resolve("pki4");
    Pki.ensure(dir4, spec(), at(T0));
    Files.delete(dir4.resolve("sa.pub"));
    assertThatThrownBy(() -> Pki.ensure(dir4, spec(), at(T0)))
        .isInstanceOf(Pki.PkiException.class)
        .hasMessageContaining("sa.key without")
        .hasMessageContaining("remove both");
  }

  @Test
  void renewKeepsSubjectSansAndUsagesWithANewSerialKeyAndExpiry() throws Exception {
    Path dir = tmp.resolve("pki");
    Pki.ensure(dir, spec().withCertValidity(Duration.ofDays(10)), at(T0));
    X509Certificate old = cert(dir.resolve("apiserver.crt"));
    String oldKey = Files.readString(dir.resolve("apiserver.key"));
    Instant later = T0.plus(Duration.ofDays(5));

    Pki.CertStatus renewed = Pki.renew(dir, "apiserver", Duration.ofDays(365), at(later));
    X509Certificate now = cert(dir.resolve("apiserver.crt"));
    assertThat(renewed.certificate()).isEqualTo(now);
    assertThat(now.getSubjectX500Principal()).isEqualTo(old.getSubjectX500Principal());
    assertThat(sans(now)).isEqualTo(sans(old));
    assertThat(now.getExtendedKeyUsage()).isEqualTo(old.getExtendedKeyUsage());
    assertThat(now.getSerialNumber()).isNotEqualTo(old.getSerialNumber());
    assertThat(old.getNotAfter().toInstant()).isEqualTo(T0.plus(Duration.ofDays(10)));
    assertThat(now.getNotAfter().toInstant()).isEqualTo(later.plus(Duration.ofDays(365)));
    assertThat(Files.readString(dir.resolve("apiserver.key"))).isNotEqualTo(oldKey);
    now.verify(cert(dir.resolve("ca.crt")).getPublicKey());
    assertThat(Certificates.matches(now, PemFiles.readKey(dir.resolve("apiserver.key")))).isTrue();
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve("apiserver.key"))))
        .isEqualTo("rw-------");

    // The etcd CA's leaves are renewed from the etcd CA; O (groups) survive.
    Pki.renew(dir, "etcd-peer", Duration.ofDays(365), at(later));
    cert(dir.resolve("etcd/peer.crt")).verify(cert(dir.resolve("etcd/ca.crt")).getPublicKey());
    Pki.renew(dir, "kubelet-node-1", Duration.ofDays(365), at(later));
    assertThat(cert(dir.resolve("kubelet-node-1.crt")).getSubjectX500Principal().getName())
        .isEqualTo("CN=system:node:node-1,O=system:nodes");

    assertThatThrownBy(() -> Pki.renew(dir, "ca", Duration.ofDays(1), at(later)))
        .isInstanceOf(Pki.PkiException.class)
        .hasMessageContaining("is a CA");
    assertThatThrownBy(() -> Pki.renew(dir, "nope", Duration.ofDays(1), at(later)))
        .isInstanceOf(Pki.PkiException.class)
        .hasMessageContaining("no certificate named 'nope'")
        .hasMessageContaining("apiserver-etcd-client");
  }

  @Test
  void renewAllRenewsEveryLeafButNoCa() throws Exception {
    Path dir = tmp.resolve("pki");
    Pki.ensure(dir, spec().withCertValidity(Duration.ofDays(10)), at(T0));
    String ca = Files.readString(dir.resolve("ca.crt"));
    List<Pki.CertStatus> renewed =
        Pki.renewAll(dir, Duration.ofDays(365), at(T0.plus(Duration.ofDays(20))));
    assertThat(renewed).hasSize(11);
    for (Pki.CertStatus c : Pki.inventory(dir)) {
      if (!c.isCa()) {
        assertThat(c.notAfter()).as(c.name()).isEqualTo(T0.plus(Duration.ofDays(385)));
      }
    }
    assertThat(Files.readString(dir.resolve("ca.crt"))).isEqualTo(ca);
  }

  @Test
  void loadReadsAnExistingPkiWithoutWritingAndNamesWhatIsMissing() throws Exception {
    Path dir = tmp.resolve("pki");
    PkiSpec three = spec().withStoreMembers(List.of("m0", "m1", "m2"));
    assertThatThrownBy(() -> Pki.load(dir, three))
        .isInstanceOf(Pki.PkiException.class)
        .hasMessageContaining("ca.crt")
        .hasMessageContaining("kubelite certs init");
    assertThat(dir).doesNotExist();
    PkiPaths made = Pki.ensure(dir, three, at(T0));
    Map<Path, Long> before = new HashMap<>();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        before.put(f, Files.getLastModifiedTime(f).toMillis());
      }
    }
    // Another host name (a member's container) and a subset of the members: read as it is.
    PkiPaths loaded =
        Pki.load(dir, three.withHostName("member-1").withStoreMembers(List.of("m1", "m0")));
    assertThat(loaded.storeMembers().get("m1")).isEqualTo(made.storeMembers().get("m1"));
    assertThat(loaded.simulatedNodes()).isEqualTo(made.simulatedNodes());
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        assertThat(Files.getLastModifiedTime(f).toMillis())
            .as(f.toString())
            .isEqualTo(before.get(f));
      }
    }
    assertThatThrownBy(() -> Pki.load(dir, three.withStoreMembers(List.of("m0", "m3"))))
        .isInstanceOf(Pki.PkiException.class)
        .hasMessageContaining("etcd/m3/server.crt");
  }

  @Test
  void checkExpirationPrintsKubeadmsTable() throws Exception {
    Path dir = tmp.resolve("pki");
    Pki.ensure(dir, spec().withKubeletNodes(List.of()), at(T0));
    String table = Pki.checkExpiration(dir, at(T0.plus(Duration.ofHours(1))));
    assertThat(table)
        .isEqualTo(
            """
            CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY
            admin                      Jan 10, 2027 12:00 UTC   364d            ca
            apiserver                  Jan 10, 2027 12:00 UTC   364d            ca
            apiserver-etcd-client      Jan 10, 2027 12:00 UTC   364d            etcd-ca
            etcd-healthcheck-client    Jan 10, 2027 12:00 UTC   364d            etcd-ca
            etcd-peer                  Jan 10, 2027 12:00 UTC   364d            etcd-ca
            etcd-server                Jan 10, 2027 12:00 UTC   364d            etcd-ca
            kube-controller-manager    Jan 10, 2027 12:00 UTC   364d            ca
            kube-scheduler             Jan 10, 2027 12:00 UTC   364d            ca
            kubelite-simulated-nodes   Jan 10, 2027 12:00 UTC   364d            ca

            CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME
            ca                      Jan 08, 2036 12:00 UTC   9y
            etcd-ca                 Jan 08, 2036 12:00 UTC   9y
            """);
    String expired = Pki.checkExpiration(dir, at(T0.plus(Duration.ofDays(400))));
    assertThat(expired).contains("apiserver                  Jan 10, 2027 12:00 UTC   <invalid>");
  }

  @Test
  void residualTimeReadsLikeKubernetesShortDurations() {
    assertThat(Pki.residual(Duration.ofSeconds(-5))).isEqualTo("<invalid>");
    assertThat(Pki.residual(Duration.ofMillis(-500))).isEqualTo("0s");
    assertThat(Pki.residual(Duration.ofSeconds(59))).isEqualTo("59s");
    assertThat(Pki.residual(Duration.ofMinutes(59))).isEqualTo("59m");
    assertThat(Pki.residual(Duration.ofHours(23))).isEqualTo("23h");
    assertThat(Pki.residual(Duration.ofHours(49))).isEqualTo("2d");
    assertThat(Pki.residual(Duration.ofDays(364))).isEqualTo("364d");
    assertThat(Pki.residual(Duration.ofDays(3650))).isEqualTo("10y");
  }

  @Test
  void certificatesNearOrPastExpiryAreWarnedAbout() throws Exception {
    Path dir = tmp.resolve("pki");
    Pki.ensure(dir, spec().withCertValidity(Duration.ofDays(365)), at(T0));
    assertThat(Pki.warnExpiring(dir, at(T0.plus(Duration.ofDays(300))))).isEmpty();
    // 29 days left: every leaf is warned about, the CAs (10 years) are not.
    List<Pki.CertStatus> near = Pki.warnExpiring(dir, at(T0.plus(Duration.ofDays(336))));
    assertThat(near).hasSize(11).noneMatch(Pki.CertStatus::isCa);
    // One leaf issued with 20 days left, at start: only it is warned about.
    Files.delete(dir.resolve("admin.crt"));
    Files.delete(dir.resolve("admin.key"));
    Pki.ensure(dir, spec().withCertValidity(Duration.ofDays(20)), at(T0));
    assertThat(Pki.warnExpiring(dir, at(T0)).stream().map(Pki.CertStatus::name))
        .containsExactly("admin");
    // Expired.
    assertThat(
            Pki.warnExpiring(dir, at(T0.plus(Duration.ofDays(21)))).stream()
                .map(Pki.CertStatus::name))
        .containsExactly("admin");
  }

  @Test
  void leafValidityNeverOutlivesItsCa() throws Exception {
    Path dir = tmp.resolve("pki");
    PkiPaths p =
        Pki.ensure(
            dir,
            spec().withCaValidity(Duration.ofDays(30)).withCertValidity(Duration.ofDays(365)),
            at(T0));
    assertThat(cert(p.admin().cert()).getNotAfter()).isEqualTo(cert(p.ca().cert()).getNotAfter());
  }

  @Test
  void specRejectsNamesThatCannotBeFileNames() {
    assertThatThrownBy(() -> spec().withKubeletNodes(List.of("../etc")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("invalid node name '../etc'");
    assertThatThrownBy(() -> spec().withStoreMembers(List.of("a", "a")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("repeat");
  }

  static Map<Path, String> contents(Path dir) throws Exception {
    Map<Path, String> out = new HashMap<>();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        out.put(f, Files.readString(f));
      }
    }
    return out;
  }
}
