package dev.kubelite.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubelite.store.testing.FreePorts;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kubelite up} as a process: JSON log lines, flag errors, a clean stop on SIGTERM. */
class UpCommandTest {
  @TempDir Path dir;

  private Process up(Path log, String... flags) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(UpCommand.class.getName());
    cmd.addAll(List.of(flags));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  /** A one-node cluster in {@code data} on free ports. */
  private Process upOneNode(Path log, Path data, String... moreFlags) throws Exception {
    List<String> flags = new ArrayList<>();
    flags.addAll(
        List.of(
            "--data-dir",
            data.toString(),
            "--port",
            Integer.toString(FreePorts.next()),
            "--store-port",
            Integer.toString(FreePorts.next()),
            "--nodes",
            "1"));
    flags.addAll(List.of(moreFlags));
    return up(log, flags.toArray(String[]::new));
  }

  @Test
  void jsonLogLinesAndACleanStop() throws Exception {
    Path log = dir.resolve("up.log");
    Path data = dir.resolve("data");
    Process p = upOneNode(log, data, "--log-format", "json");
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> Files.exists(data.resolve("admin.kubeconfig")) || !p.isAlive());
      assertThat(p.isAlive()).as(Files.readString(log)).isTrue();
    } finally {
      p.destroy(); // SIGTERM, as Ctrl-C's shutdown path
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
    ObjectMapper json = new ObjectMapper();
    List<JsonNode> lines = new ArrayList<>();
    for (String l : Files.readAllLines(log, StandardCharsets.UTF_8)) {
      if (l.startsWith("{")) {
        lines.add(json.readTree(l));
      }
    }
    assertThat(lines).isNotEmpty();
    assertThat(lines)
        .allSatisfy(
            l -> {
              assertThat(l.has("timestamp")).isTrue();
              assertThat(l.path("level").asText()).isNotEmpty();
              assertThat(l.has("threadName")).isTrue();
            });
    assertThat(lines)
        .anySatisfy(
            l ->
                assertThat(l.path("formattedMessage").asText())
                    .startsWith("all-in-one cluster up"));
    assertThat(Files.readString(log)).contains("kubelite up: stopped");
  }

  @Test
  void aSigtermWhileStartingStillStopsTheClusterCleanly() throws Exception {
    Path log = dir.resolve("up.log");
    Path data = dir.resolve("data");
    Process p = upOneNode(log, data);
    try {
      // The store logs first: the cluster is starting, not yet up.
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> Files.readString(log).contains("[store]") || !p.isAlive());
      assertThat(p.isAlive()).as(Files.readString(log)).isTrue();
    } finally {
      p.destroy();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(Files.readString(log))
        .contains("[up] kubelite up: stopped")
        .doesNotContain("Shutdown in progress");
  }

  @Test
  void textLinesAreTaggedWithTheirComponentAndKeptForKubeliteLogs() throws Exception {
    Path log = dir.resolve("up.log");
    Path data = dir.resolve("data");
    Process p = upOneNode(log, data);
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  Files.readString(log).contains("Ctrl-C stops the cluster")
                          && Files.readString(log).contains("[kubelet]")
                      || !p.isAlive());
      assertThat(p.isAlive()).as(Files.readString(log)).isTrue();
    } finally {
      p.destroy();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
    String console = Files.readString(log);
    String kept = Files.readString(data.resolve("logs").resolve("kubelite.log"));
    assertThat(kept).isEqualTo(console);
    assertThat(kept)
        .contains("[store]", "[apiserver]", "[scheduler]", "[controller-manager]", "[kubelet]")
        .contains("[up] Kubelite is up.")
        .contains("[up] kubelite up: stopped");
    for (String line : kept.split("\n")) {
      assertThat(line).as("every line is tagged").matches("(\\[.+\\] .*|)");
    }
  }

  @Test
  void badFlagsExitTwoWithAMessage() throws Exception {
    Path log = dir.resolve("bad.log");
    Process p = up(log, "--log-format", "xml", "--data-dir", dir.resolve("x").toString());
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(Files.readString(log)).contains("--log-format must be text or json, got xml");
    assertThat(new File(dir.resolve("x").toString())).doesNotExist();
  }
}
