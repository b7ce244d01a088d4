package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code kubelite apiserver --encryption-provider-config}: a bad file stops the start. */
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
    assertThat(usage).contains("--encryption-provider-config=FILE");
    assertThat(usage).contains("--authorization-mode=MODE[,MODE...]");
  }
}
