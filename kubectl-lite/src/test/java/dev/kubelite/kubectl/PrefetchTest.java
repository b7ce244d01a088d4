package dev.kubelite.kubectl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connection prepared on a second thread (decision 0082) is used only when picocli parsed the
 * same connection flags, and its failures are reported by the main thread as before.
 */
class PrefetchTest {
  @TempDir Path dir;

  private Path kubeconfig(String server) throws Exception {
    Path f = dir.resolve("config");
    Files.writeString(
        f,
        String.join(
            "\n",
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            "- name: c",
            "  cluster: {server: '" + server + "'}",
            "- name: other",
            "  cluster: {server: 'http://127.0.0.1:2'}",
            "users:",
            "- name: u",
            "  user: {}",
            "contexts:",
            "- name: c",
            "  context: {cluster: c, user: u}",
            "- name: other",
            "  context: {cluster: other, user: u}",
            "current-context: c",
            ""));
    return f;
  }

  @Test
  void preparesFromTheFlagsWhereverTheyStand() throws Exception {
    String kc = kubeconfig("http://127.0.0.1:1").toString();
    Path cache = dir.resolve("cache");
    Prefetch p =
        Prefetch.start(
            new String[] {
              "get", "pods", "--kubeconfig=" + kc, "--context", "other", "--cache-dir", cache + ""
            },
            dir.resolve("default-cache"));
    assertThat(p).isNotNull();
    Session s = p.take(kc, "other", null, cache);
    assertThat(s).isNotNull();
    assertThat(s.client().server()).hasToString("http://127.0.0.1:2");
  }

  @Test
  void aDifferentParseDropsThePreparedSession() throws Exception {
    String kc = kubeconfig("http://127.0.0.1:1").toString();
    Path cache = dir.resolve("cache");
    Prefetch p = Prefetch.start(new String[] {"--kubeconfig", kc, "get", "pods"}, cache);
    assertThat(p.take(kc, "other", null, cache)).isNull();
    Prefetch q = Prefetch.start(new String[] {"--kubeconfig", kc, "get", "pods"}, cache);
    assertThat(q.take(kc, null, "http://127.0.0.1:3", cache)).isNull();
    Prefetch r = Prefetch.start(new String[] {"--kubeconfig", kc, "get", "pods"}, cache);
    assertThat(r.take(kc, null, null, dir.resolve("elsewhere"))).isNull();
  }

  @Test
  void nothingToPrepareForOfflineCommandsHelpAndVersion() {
    Path cache = dir.resolve("cache");
    assertThat(Prefetch.start(new String[] {}, cache)).isNull();
    assertThat(Prefetch.start(new String[] {"config", "view"}, cache)).isNull();
    assertThat(Prefetch.start(new String[] {"get", "pods", "--help"}, cache)).isNull();
    assertThat(Prefetch.start(new String[] {"--version"}, cache)).isNull();
    assertThat(Prefetch.start(new String[] {"get", "pods", "--kubeconfig"}, cache)).isNull();
  }

  @Test
  void aFailureIsReportedByTheMainThreadAsBefore() throws Exception {
    Path missing = dir.resolve("missing");
    Prefetch p =
        Prefetch.start(new String[] {"--kubeconfig", missing.toString(), "get", "pods"}, dir);
    assertThat(p.take(missing.toString(), null, null, dir)).isNull();

    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        KubectlLite.run(
            new String[] {"--kubeconfig", missing.toString(), "get", "pods"},
            new PrintWriter(out),
            new PrintWriter(err));
    assertThat(code).isEqualTo(1);
    assertThat(err.toString()).contains("no kubeconfig at " + missing);
  }
}
