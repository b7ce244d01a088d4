package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.kubelite.pki.Pki;
import dev.kubelite.pki.PkiPaths;
import dev.kubelite.pki.PkiSpec;
import dev.kubelite.pki.TlsFiles;
import dev.kubelite.store.client.ClientTls;
import dev.kubelite.store.client.EmbeddedKvStore;
import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.client.KvStoreException;
import dev.kubelite.store.client.RemoteKvStore;
import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.EtcdProcess.Etcdctl;
import dev.kubelite.store.testing.EtcdProcess.Result;
import dev.kubelite.store.testing.FreePorts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The store's TLS with etcd's flags: the real etcdctl 3.4 with {@code --cacert --cert --key}
 * against one member and a three-member cluster with peer TLS, refused without a client certificate
 * or with one of another CA; the same flags given to the real etcd 3.4 behave the same; {@link
 * RemoteKvStore} over TLS.
 */
class StoreTlsTest {
  @TempDir Path tmp;

  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  /** A member's flags as a systemd unit for etcd would pass them, with the kubeadm-layout files. */
  static List<String> flags(
      String name,
      Path dataDir,
      int clientPort,
      int peerPort,
      String initialCluster,
      PkiPaths pki,
      PkiPaths.MemberCerts certs) {
    String client = "https://127.0.0.1:" + clientPort;
    String peer = "https://127.0.0.1:" + peerPort;
    return List.of(
        "--name=" + name,
        "--data-dir=" + dataDir,
        "--listen-client-urls=" + client,
        "--advertise-client-urls=" + client,
        "--listen-peer-urls=" + peer,
        "--initial-advertise-peer-urls=" + peer,
        "--initial-cluster=" + initialCluster,
        "--initial-cluster-token=tls-test",
        "--initial-cluster-state=new",
        "--cert-file=" + certs.server().cert(),
        "--key-file=" + certs.server().key(),
        "--trusted-ca-file=" + pki.etcdCa().cert(),
        "--client-cert-auth",
        "--peer-cert-file=" + certs.peer().cert(),
        "--peer-key-file=" + certs.peer().key(),
        "--peer-trusted-ca-file=" + pki.etcdCa().cert(),
        "--peer-client-cert-auth");
  }

  static MemberConfig parse(List<String> flags) {
    StoreCommand cmd = new StoreCommand();
    new CommandLine(cmd).parseArgs(flags.toArray(String[]::new));
    return cmd.config();
  }

  /** etcdctl flags for a client holding {@code cert} and trusting {@code ca}. */
  static String[] tls(Path ca, PkiPaths.CertPaths cert, String... args) {
    List<String> out = new ArrayList<>(List.of(args));
    out.add("--cacert=" + ca);
    if (cert != null) {
      out.add("--cert=" + cert.cert());
      out.add("--key=" + cert.key());
    }
    return out.toArray(String[]::new);
  }

  StoreServer start(MemberConfig config) throws Exception {
    StoreServer s = StoreServer.start(config);
    toClose.add(s);
    return s;
  }

  /** What a client sees with a good cert, no cert, another CA's cert, and the wrong CA. */
  static void assertOnlyTheEtcdCaClientGetsIn(String endpoint, PkiPaths pki) throws Exception {
    Etcdctl ctl = new Etcdctl(endpoint);
    Path etcdCa = pki.etcdCa().cert();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                ctl.call(tls(etcdCa, pki.apiserverEtcdClient(), "put", "k", "v")).exitCode() == 0);
    assertThat(
            ctl.ok(tls(etcdCa, pki.apiserverEtcdClient(), "get", "k", "--print-value-only"))
                .output())
        .isEqualTo("v\n");
    ctl.ok(tls(etcdCa, pki.etcdHealthcheckClient(), "endpoint", "health"));
    // No client certificate: refused in the handshake.
    Result noCert = ctl.fails(tls(etcdCa, null, "get", "k"));
    assertThat(noCert.output()).doesNotContain("\nv\n");
    // A client certificate from another CA (the cluster CA's admin): refused.
    ctl.fails(tls(etcdCa, pki.admin(), "get", "k"));
    // The client does not trust the server (wrong --cacert): refused by the client.
    ctl.fails(tls(pki.ca().cert(), pki.apiserverEtcdClient(), "get", "k"));
    // Plain HTTP to the TLS port.
    new Etcdctl(endpoint.replace("https://", "http://")).fails("get", "k");
  }

  @Test
  void oneMemberRequiresAClientCertificateFromTheEtcdCa() throws Exception {
    PkiPaths pki = Pki.ensure(tmp.resolve("pki"), PkiSpec.defaults().withHostName("testhost"));
    int c = FreePorts.next();
    int p = FreePorts.next();
    MemberConfig config =
        parse(
            flags(
                "default",
                tmp.resolve("data"),
                c,
                p,
                "default=https://127.0.0.1:" + p,
                pki,
                pki.storeMembers().get("default")));
    assertThat(config.peerTls()).isTrue();
    assertThat(config.clientTls()).isTrue();
    start(config);
    assertOnlyTheEtcdCaClientGetsIn("https://127.0.0.1:" + c, pki);

    // The peer port wants a peer certificate too.
    assertPeerPortRefusesStrangers(p, pki);
  }

  @Test
  void theRealEtcdTakesTheSameFlagsAndAnswersTheSame() throws Exception {
    String etcd = EtcdProcess.binary("etcd");
    PkiPaths pki = Pki.ensure(tmp.resolve("pki"), PkiSpec.defaults().withHostName("testhost"));
    int c = FreePorts.next();
    int p = FreePorts.next();
    List<String> cmd = new ArrayList<>(List.of(etcd));
    cmd.addAll(
        flags(
            "default",
            tmp.resolve("etcd-data"),
            c,
            p,
            "default=https://127.0.0.1:" + p,
            pki,
            pki.storeMembers().get("default")));
    Path log = tmp.resolve("etcd.log");
    Process process =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    toClose.add(
        () -> {
          process.destroy();
          if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
          }
        });
    try {
      assertOnlyTheEtcdCaClientGetsIn("https://127.0.0.1:" + c, pki);
      assertPeerPortRefusesStrangers(p, pki);
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError("etcd's log:\n" + Files.readString(log, StandardCharsets.UTF_8), e);
    }
  }

  @Test
  void threeMembersTalkPeerTlsAndForwardOverClientTls() throws Exception {
    List<String> names = List.of("m0", "m1", "m2");
    PkiPaths pki =
        Pki.ensure(
            tmp.resolve("pki"),
            PkiSpec.defaults().withHostName("testhost").withStoreMembers(names));
    int[] client = new int[3];
    int[] peer = new int[3];
    List<String> cluster = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      client[i] = FreePorts.next();
      peer[i] = FreePorts.next();
      cluster.add(names.get(i) + "=https://127.0.0.1:" + peer[i]);
    }
    List<StoreServer> servers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      servers.add(
          start(
              parse(
                  flags(
                      names.get(i),
                      tmp.resolve(names.get(i)),
                      client[i],
                      peer[i],
                      String.join(",", cluster),
                      pki,
                      pki.storeMembers().get(names.get(i))))));
    }
    Path ca = pki.etcdCa().cert();
    List<String> endpoints = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      endpoints.add("https://127.0.0.1:" + client[i]);
    }
    Etcdctl all = new Etcdctl(String.join(",", endpoints));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> all.call(tls(ca, pki.apiserverEtcdClient(), "put", "k", "v3")).exitCode() == 0);
    // Every member answers linearizable reads (read index through the leader, over peer TLS).
    for (String ep : endpoints) {
      assertThat(
              new Etcdctl(ep)
                  .ok(tls(ca, pki.apiserverEtcdClient(), "get", "k", "--print-value-only"))
                  .output())
          .isEqualTo("v3\n");
    }
    // A lease granted and kept alive on every member: followers forward to the leader's client
    // port, presenting their server certificate.
    for (String ep : endpoints) {
      Result grant = new Etcdctl(ep).ok(tls(ca, pki.apiserverEtcdClient(), "lease", "grant", "60"));
      String id = grant.output().split(" ")[1];
      new Etcdctl(ep).ok(tls(ca, pki.apiserverEtcdClient(), "lease", "keep-alive", "--once", id));
    }
    String members = all.ok(tls(ca, pki.apiserverEtcdClient(), "member", "list")).output();
    for (int i = 0; i < 3; i++) {
      assertThat(members).contains("https://127.0.0.1:" + peer[i], endpoints.get(i));
    }
    String status =
        all.ok(tls(ca, pki.apiserverEtcdClient(), "endpoint", "status", "--cluster", "-w", "table"))
            .output();
    assertThat(status).contains(endpoints.get(0), endpoints.get(1), endpoints.get(2));
    // Refused without a client certificate, on every member.
    for (String ep : endpoints) {
      new Etcdctl(ep).fails(tls(ca, null, "get", "k"));
    }
    assertPeerPortRefusesStrangers(peer[1], pki);

    // Our own client over TLS: works with the API server's certificate, not without one.
    try (KvStore store =
        RemoteKvStore.connect(
            endpoints,
            new ClientTls(ca, pki.apiserverEtcdClient().cert(), pki.apiserverEtcdClient().key()))) {
      store.put(bytes("from-java"), bytes("x")).get(20, TimeUnit.SECONDS);
      assertThat(store.get(bytes("k")).get(20, TimeUnit.SECONDS).found().orElseThrow().value())
          .isEqualTo(bytes("v3"));
      // Status asks every member at its https:// client URL with the same TLS settings.
      assertThat(store.status().get(20, TimeUnit.SECONDS).members())
          .hasSize(3)
          .allSatisfy(m -> assertThat(m.error()).isNull());
    }
    // The embedded client's status asks the other members over TLS with the member's identity.
    try (KvStore embedded = EmbeddedKvStore.of(servers.get(1))) {
      assertThat(embedded.status().get(20, TimeUnit.SECONDS).members())
          .hasSize(3)
          .allSatisfy(m -> assertThat(m.error()).isNull());
    }
    assertThat(
            new Etcdctl(endpoints.get(2))
                .ok(tls(ca, pki.apiserverEtcdClient(), "get", "from-java", "--print-value-only"))
                .output())
        .isEqualTo("x\n");
    try (KvStore anonymous =
        RemoteKvStore.connect(List.of(endpoints.get(0)), ClientTls.trusting(ca))) {
      // The server closes the connection when the handshake lacks a certificate (with TLS 1.3 the
      // client learns it on its first read): never sent, unavailable.
      assertThatThrownBy(() -> anonymous.get(bytes("k")).get(60, TimeUnit.SECONDS))
          .hasCauseInstanceOf(KvStoreException.class)
          .hasMessageContaining("UNAVAILABLE")
          .hasMessageContaining("not sent");
    }
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** A TLS client without a certificate, or with one of another CA, is refused at the peer port. */
  static void assertPeerPortRefusesStrangers(int peerPort, PkiPaths pki) throws IOException {
    for (var ctx :
        List.of(
            TlsFiles.sslContext(pki.etcdCa().cert(), null, null),
            TlsFiles.sslContext(pki.etcdCa().cert(), pki.admin()))) {
      try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", peerPort)) {
        s.setSoTimeout(10_000);
        assertThatThrownBy(
                () -> {
                  s.startHandshake();
                  s.getOutputStream().write(new byte[] {0, 0, 0, 1, 0});
                  s.getOutputStream().flush();
                  // TLS 1.3 reports the refusal after the client's side of the handshake
                  if (s.getInputStream().read() == -1) {
                    throw new IOException("closed by the server");
                  }
                })
            .isInstanceOf(IOException.class);
      }
    }
  }

  @Test
  void remoteClientRefusesMixedSchemesAndTlsSettingsForHttp() throws Exception {
    PkiPaths pki = Pki.ensure(tmp.resolve("pki"), PkiSpec.defaults().withHostName("testhost"));
    ClientTls tls = ClientTls.trusting(pki.etcdCa().cert());
    assertThatThrownBy(
            () -> RemoteKvStore.connect(List.of("https://127.0.0.1:1", "http://127.0.0.1:2"), tls))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("mix https:// and plain ones");
    assertThatThrownBy(() -> RemoteKvStore.connect(List.of("http://127.0.0.1:1"), tls))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("use https://");
    assertThatThrownBy(() -> new ClientTls(pki.etcdCa().cert(), pki.admin().cert(), null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("needs its key");
  }

  @Test
  void tlsFlagsAreCheckedAgainstTheUrlsUpFront() {
    String c = "https://127.0.0.1:2379";
    String p = "http://127.0.0.1:2380";
    assertThatThrownBy(
            () -> parse(List.of("--listen-client-urls=" + c, "--advertise-client-urls=" + c)))
        .isInstanceOf(MemberConfig.InvalidConfigException.class)
        .hasMessage(c + ": an https:// client URL needs --cert-file and --key-file");
    assertThatThrownBy(
            () ->
                parse(
                    List.of(
                        "--listen-peer-urls=https://127.0.0.1:2380",
                        "--initial-advertise-peer-urls=https://127.0.0.1:2380")))
        .isInstanceOf(MemberConfig.InvalidConfigException.class)
        .hasMessageContaining("an https:// peer URL needs --peer-cert-file and --peer-key-file");
    assertThatThrownBy(() -> parse(List.of("--client-cert-auth")))
        .isInstanceOf(MemberConfig.InvalidConfigException.class)
        .hasMessageContaining("--client-cert-auth needs --trusted-ca-file");
    assertThatThrownBy(() -> parse(List.of("--cert-file=/nonexistent/a.crt", "--key-file=/x")))
        .isInstanceOf(MemberConfig.InvalidConfigException.class)
        .hasMessage("--cert-file: cannot read /nonexistent/a.crt");
    assertThatThrownBy(() -> parse(List.of("--key-file=/x")))
        .isInstanceOf(MemberConfig.InvalidConfigException.class)
        .hasMessageContaining("--key-file needs --cert-file");
    // etcd's --client-cert-auth=false form, and plain http needs nothing.
    assertThat(parse(List.of("--client-cert-auth=false", "--listen-peer-urls=" + p)).clientTls())
        .isFalse();
  }
}
