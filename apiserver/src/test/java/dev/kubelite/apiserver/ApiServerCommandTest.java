package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubelite.pki.Pki;
import dev.kubelite.pki.PkiPaths;
import dev.kubelite.pki.PkiSpec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code kubelite apiserver}: bad flags and files stop the start with what is wrong. */
class ApiServerCommandTest {
  @TempDir Path dir;

  @Test
  void anInvalidEncryptionConfigurationIsRefusedWithWhatIsWrong() throws Exception {
    Path file = dir.resolve("enc.yaml");
    Files.writeString(
        file,
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n"
            + "  - resources: [secrets]\n    providers:\n      - aesgcm:\n          keys:\n"
            + "            - name: k\n              secret: c2hvcnQ=\n");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream saved = System.err;
    int code;
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      code =
          new CommandLine(new ApiServerCommand())
              .execute("--etcd-servers=http://127.0.0.1:1", "--encryption-provider-config=" + file);
    } finally {
      System.setErr(saved);
    }
    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("--encryption-provider-config")
        .contains("resources[0].providers[0].aesgcm.keys[0].secret")
        .contains("expected one of [16, 24, 32]");
  }

  @Test
  void tlsAndAuthenticationFlagsBuildTheOptions() {
    PkiPaths pki = Pki.ensure(dir.resolve("pki"), PkiSpec.defaults());
    ApiServerCommand cmd = new ApiServerCommand();
    new CommandLine(cmd)
        .parseArgs(
            "--etcd-servers=https://127.0.0.1:2379",
            "--tls-cert-file=" + pki.apiserver().cert(),
            "--tls-private-key-file=" + pki.apiserver().key(),
            "--client-ca-file=" + pki.ca().cert(),
            "--service-account-key-file=" + pki.serviceAccountPublicKey(),
            "--service-account-signing-key-file=" + pki.serviceAccountKey());
    ApiServer.Options o = cmd.security(new ApiServer.Options("127.0.0.1", 0));
    assertThat(o.tls().clientCaFile()).isEqualTo(pki.ca().cert());
    assertThat(o.authentication().anonymous()).isFalse();
    assertThat(o.authentication().serviceAccountKeys()).hasSize(1);
    assertThat(o.authentication().signingKey()).isNotNull();
    assertThat(o.authentication().issuers())
        .containsExactly("https://kubernetes.default.svc.cluster.local");

    // Without TLS or any authentication flag: plain HTTP, everyone trusted (a local demo).
    ApiServerCommand plain = new ApiServerCommand();
    new CommandLine(plain).parseArgs("--etcd-servers=http://127.0.0.1:2379");
    ApiServer.Options open = plain.security(new ApiServer.Options("127.0.0.1", 0));
    assertThat(open.tls()).isNull();
    assertThat(open.authentication()).isNull();
  }

  @Test
  void halfATlsPairOrAClientCaWithoutTlsIsRefused() {
    PkiPaths pki = Pki.ensure(dir.resolve("pki"), PkiSpec.defaults());
    ApiServerCommand half = new ApiServerCommand();
    new CommandLine(half)
        .parseArgs("--etcd-servers=x", "--tls-cert-file=" + pki.apiserver().cert());
    assertThatThrownBy(() -> half.security(new ApiServer.Options("127.0.0.1", 0)))
        .hasMessageContaining("--tls-cert-file and --tls-private-key-file go together");
    ApiServerCommand ca = new ApiServerCommand();
    new CommandLine(ca).parseArgs("--etcd-servers=x", "--client-ca-file=" + pki.ca().cert());
    assertThatThrownBy(() -> ca.security(new ApiServer.Options("127.0.0.1", 0)))
        .hasMessageContaining("--client-ca-file needs HTTPS");
  }

  @Test
  void aTokenFileWithTooFewColumnsIsRefusedNamingTheLine() throws Exception {
    Path tokens = dir.resolve("tokens.csv");
    Files.writeString(tokens, "t1,alice,1\nt2,bob\n");
    ApiServerCommand cmd = new ApiServerCommand();
    new CommandLine(cmd).parseArgs("--etcd-servers=x", "--token-auth-file=" + tokens);
    assertThatThrownBy(() -> cmd.security(new ApiServer.Options("127.0.0.1", 0)))
        .hasMessageContaining("line 2")
        .hasMessageContaining("at least 3 columns");
  }

  @Test
  void anUnknownAuthorizationModeIsRefused() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream saved = System.err;
    int code;
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      code =
          new CommandLine(new ApiServerCommand())
              .execute("--etcd-servers=http://127.0.0.1:1", "--authorization-mode=Node,ABAC");
    } finally {
      System.setErr(saved);
    }
    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains(
            "--authorization-mode: unknown authorization mode \"ABAC\" (supported: AlwaysAllow,"
                + " AlwaysDeny, Node, RBAC)");
  }

  @Test
  void helpNamesTheFlag() {
    String usage = new CommandLine(new ApiServerCommand()).getUsageMessage();
    assertThat(usage)
        .contains("--encryption-provider-config=FILE")
        .contains("--audit-log-path=FILE")
        .contains("--audit-policy-file=FILE")
        .contains("--request-timeout=DURATION")
        .contains("--max-requests-inflight")
        .contains("--max-mutating-requests-inflight")
        .contains("--max-requests-inflight-per-client")
        .contains("--max-watches-per-client")
        .contains("--authorization-mode=MODE[,MODE...]");
  }

  /** Runs the command, expecting it to stop before connecting; returns its exit code and stderr. */
  static String[] run(String... args) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream saved = System.err;
    int code;
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      code = new CommandLine(new ApiServerCommand()).execute(args);
    } finally {
      System.setErr(saved);
    }
    return new String[] {Integer.toString(code), err.toString(StandardCharsets.UTF_8)};
  }

  @Test
  void badLimitAndAuditFlagsAreRefusedWithWhatIsWrong() throws Exception {
    String[] r = run("--etcd-servers=http://127.0.0.1:1", "--request-timeout=soon");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[1]).contains("--request-timeout: \"soon\" is not a positive duration");

    r = run("--etcd-servers=http://127.0.0.1:1", "--max-requests-inflight=-1");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[1]).contains("request limits must be 0 (no limit) or positive");

    Path policy = dir.resolve("policy.yaml");
    Files.writeString(
        policy, "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: All\n");
    r = run("--etcd-servers=http://127.0.0.1:1", "--audit-policy-file=" + policy);
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[1]).contains("--audit-policy-file needs --audit-log-path");

    r =
        run(
            "--etcd-servers=http://127.0.0.1:1",
            "--audit-log-path=" + dir.resolve("audit.log"),
            "--audit-policy-file=" + policy);
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[1]).contains("rules[0].level: \"All\" is not one of");
  }
}
