package dev.kubelite.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The PKI's files as real tools read them: openssl, JSSE, Vert.x, and the certs command. */
class PkiToolsTest {
  @TempDir Path tmp;

  PkiPaths pki() {
    return Pki.ensure(
        tmp.resolve("pki"),
        PkiSpec.defaults().withHostName("testhost").withKubeletNodes(List.of("node-1")));
  }

  record Run(int code, String out) {}

  static Run run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), out);
  }

  @Test
  void opensslVerifiesTheChainsAndPurposes() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "openssl is not installed");
    PkiPaths p = pki();
    String ca = p.ca().cert().toString();
    String etcdCa = p.etcdCa().cert().toString();
    for (String[] c :
        List.of(
            new String[] {ca, "sslserver", p.apiserver().cert().toString()},
            new String[] {ca, "sslclient", p.admin().cert().toString()},
            new String[] {ca, "sslclient", p.kubelets().get("node-1").cert().toString()},
            new String[] {etcdCa, "sslclient", p.apiserverEtcdClient().cert().toString()},
            new String[] {
              etcdCa, "sslserver", p.storeMembers().get("default").server().cert().toString()
            },
            new String[] {
              etcdCa, "sslclient", p.storeMembers().get("default").peer().cert().toString()
            })) {
      Run r = run("openssl", "verify", "-CAfile", c[0], "-purpose", c[1], c[2]);
      assertThat(r.out()).as(String.join(" ", c)).contains(": OK");
      assertThat(r.code()).isZero();
    }
    // A cert of the other CA does not verify; a client cert is no server cert.
    Run wrongCa =
        run("openssl", "verify", "-CAfile", ca, p.apiserverEtcdClient().cert().toString());
    assertThat(wrongCa.code()).isNotZero();
    Run notServer =
        run(
            "openssl",
            "verify",
            "-CAfile",
            ca,
            "-purpose",
            "sslserver",
            p.admin().cert().toString());
    assertThat(notServer.code()).isNotZero();

    Run text = run("openssl", "x509", "-noout", "-text", "-in", p.apiserver().cert().toString());
    assertThat(text.out())
        .contains("TLS Web Server Authentication")
        .contains("DNS:localhost")
        .contains("IP Address:127.0.0.1")
        .contains("DNS:testhost")
        .contains("ASN1 OID: prime256v1")
        .contains("ecdsa-with-SHA256");
    Run subject = run("openssl", "x509", "-noout", "-subject", "-in", p.admin().cert().toString());
    assertThat(subject.out()).contains("O = system:masters").contains("CN = kubernetes-admin");
    Run key = run("openssl", "pkey", "-noout", "-in", p.admin().key().toString());
    assertThat(key.code()).as(key.out()).isZero();
  }

  @Test
  void sslContextsMakeAMutualTlsHandshakeAndRefuseAClientWithoutCert() throws Exception {
    PkiPaths p = pki();
    SSLContext server = TlsFiles.sslContext(p.ca().cert(), p.apiserver());
    try (SSLServerSocket ss =
        (SSLServerSocket)
            server
                .getServerSocketFactory()
                .createServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      ss.setNeedClientAuth(true);
      CompletableFuture<String> peer =
          CompletableFuture.supplyAsync(
              () -> {
                List<String> seen = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                  try (SSLSocket s = (SSLSocket) ss.accept()) {
                    s.startHandshake();
                    seen.add(
                        ((java.security.cert.X509Certificate)
                                s.getSession().getPeerCertificates()[0])
                            .getSubjectX500Principal()
                            .getName());
                  } catch (Exception e) {
                    seen.add("refused");
                  }
                }
                return String.join(";", seen);
              });
      SSLContext admin = TlsFiles.sslContext(p.ca().cert(), p.admin());
      try (SSLSocket s =
          (SSLSocket) admin.getSocketFactory().createSocket("127.0.0.1", ss.getLocalPort())) {
        s.startHandshake();
        assertThat(s.getSession().getProtocol()).isIn("TLSv1.2", "TLSv1.3");
        s.getOutputStream().write(1);
      }
      SSLContext anonymous = TlsFiles.sslContext(p.ca().cert(), null, null);
      try (SSLSocket s =
          (SSLSocket) anonymous.getSocketFactory().createSocket("127.0.0.1", ss.getLocalPort())) {
        assertThatThrownBy(
                () -> {
                  s.startHandshake();
                  s.getOutputStream().write(1);
                  s.getOutputStream().flush();
                  s.getInputStream().read(); // TLS 1.3: the refusal arrives after the handshake
                })
            .isInstanceOf(java.io.IOException.class);
      }
      assertThat(peer.get(30, TimeUnit.SECONDS))
          .isEqualTo("CN=kubernetes-admin,O=system:masters;refused");
    }
  }

  @Test
  void vertxPemOptionsServeAndPresentTheFiles() throws Exception {
    PkiPaths p = pki();
    Vertx vertx = Vertx.vertx();
    try {
      NetServer server =
          vertx
              .createNetServer(
                  new NetServerOptions()
                      .setHost("127.0.0.1")
                      .setPort(0)
                      .setSsl(true)
                      .setKeyCertOptions(TlsFiles.keyCert(p.storeMembers().get("default").server()))
                      .setTrustOptions(TlsFiles.trust(p.etcdCa().cert()))
                      .setClientAuth(ClientAuth.REQUIRED))
              .connectHandler(s -> s.handler(s::write))
              .listen()
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
      NetClient client =
          vertx.createNetClient(
              new NetClientOptions()
                  .setSsl(true)
                  .setHostnameVerificationAlgorithm("HTTPS")
                  .setTrustOptions(TlsFiles.trust(p.etcdCa().cert()))
                  .setKeyCertOptions(TlsFiles.keyCert(p.apiserverEtcdClient())));
      NetSocket socket =
          client
              .connect(server.actualPort(), "localhost")
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
      CompletableFuture<String> echo = new CompletableFuture<>();
      socket.handler(b -> echo.complete(b.toString()));
      socket.write(Buffer.buffer("ping"));
      assertThat(echo.get(10, TimeUnit.SECONDS)).isEqualTo("ping");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  static Run certs(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = CertsCommand.run(args, new PrintWriter(out), new PrintWriter(err));
    return new Run(code, out + err.toString());
  }

  @Test
  void certsCommandChecksAndRenews() throws Exception {
    PkiPaths p = pki();
    String dir = p.dir().toString();
    Run check = certs("check-expiration", "--pki-dir", dir);
    assertThat(check.code()).isZero();
    assertThat(check.out())
        .startsWith("CERTIFICATE                EXPIRES")
        .contains("CERTIFICATE AUTHORITY")
        .containsPattern(
            "\\nkubelet-node-1 +\\w{3} \\d\\d, \\d{4} \\d\\d:\\d\\d UTC   36[45]d +ca\\n")
        .containsPattern("\\netcd-ca +\\w{3} \\d\\d, \\d{4} \\d\\d:\\d\\d UTC   (9|10)y\\n");

    String before = Files.readString(p.admin().cert());
    Run renew = certs("renew", "admin", "--pki-dir", dir);
    assertThat(renew.code()).as(renew.out()).isZero();
    assertThat(renew.out()).contains("certificate admin renewed");
    assertThat(Files.readString(p.admin().cert())).isNotEqualTo(before);

    Run all = certs("renew", "all", "--pki-dir", dir);
    assertThat(all.code()).isZero();
    assertThat(all.out())
        .contains("certificate etcd-server renewed", "certificate apiserver renewed");

    Run unknown = certs("renew", "nope", "--pki-dir", dir);
    assertThat(unknown.code()).isEqualTo(1);
    assertThat(unknown.out()).contains("kubelite certs: no certificate named 'nope'");

    Run missing = certs("check-expiration", "--pki-dir", tmp.resolve("none").toString());
    assertThat(missing.code()).isEqualTo(1);
    assertThat(missing.out()).contains("no PKI directory at");
  }

  @Test
  void certsInitMakesAPkiForSharedMembersAndComponentKubeconfigs() throws Exception {
    Path dir = tmp.resolve("shared");
    Path confs = tmp.resolve("confs");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        CertsCommand.run(
            new String[] {
              "init",
              "--pki-dir",
              dir.toString(),
              "--store-members",
              "member-0,member-1",
              "--san",
              "member-0,member-1,load-balancer",
              "--kubeconfig-dir",
              confs.toString(),
              "--server",
              "https://load-balancer:6443"
            },
            new PrintWriter(out),
            new PrintWriter(err));
    assertThat(code).as(err.toString()).isZero();
    assertThat(out.toString()).contains("PKI ready in " + dir, "kubelet.conf");
    PkiPaths p =
        Pki.load(dir, PkiSpec.defaults().withStoreMembers(List.of("member-0", "member-1")));
    assertThat(PkiTest.sans(PemFiles.readCertificate(p.apiserver().cert())))
        .contains("DNS:load-balancer", "DNS:member-1", "DNS:localhost");
    assertThat(
            PkiTest.sans(PemFiles.readCertificate(p.storeMembers().get("member-1").peer().cert())))
        .contains("DNS:member-0", "DNS:member-1");
    for (String f :
        List.of("admin.conf", "scheduler.conf", "controller-manager.conf", "kubelet.conf")) {
      Path conf = confs.resolve(f);
      assertThat(Files.getPosixFilePermissions(conf))
          .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
      assertThat(Files.readString(conf))
          .contains(
              "server: https://load-balancer:6443",
              "certificate-authority-data: ",
              "client-key-data: ");
    }
    // kubelet.conf carries the simulated nodes' certificate.
    String kubelet = Files.readString(confs.resolve("kubelet.conf"));
    String certData =
        kubelet
            .lines()
            .filter(l -> l.contains("client-certificate-data: "))
            .findFirst()
            .orElseThrow()
            .trim()
            .substring("client-certificate-data: ".length());
    assertThat(new String(java.util.Base64.getDecoder().decode(certData), StandardCharsets.UTF_8))
        .isEqualTo(Files.readString(p.simulatedNodes().cert()));
    // Again: everything reused.
    byte[] ca = Files.readAllBytes(p.ca().cert());
    assertThat(
            CertsCommand.run(
                new String[] {
                  "init", "--pki-dir", dir.toString(), "--store-members", "member-0,member-1"
                },
                new PrintWriter(new StringWriter()),
                new PrintWriter(new StringWriter())))
        .isZero();
    assertThat(Files.readAllBytes(p.ca().cert())).isEqualTo(ca);
    // Only https servers.
    StringWriter bad = new StringWriter();
    assertThat(
            CertsCommand.run(
                new String[] {
                  "init",
                  "--pki-dir",
                  dir.toString(),
                  "--kubeconfig-dir",
                  confs.toString(),
                  "--server",
                  "http://x:1"
                },
                new PrintWriter(new StringWriter()),
                new PrintWriter(bad)))
        .isNotZero();
    assertThat(bad.toString()).contains("--server must be an https:// URL");
  }
}
