package dev.kubelite.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubelite.common.logging.ComponentConverter;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cluster log's tags, and {@code kubelite logs} reading it. */
class ClusterLogTest {
  @TempDir Path dir;

  @Test
  void untaggedLinesGetTheirSourcesTagJsonLinesAMemberField() {
    assertThat(ClusterLog.tag("member-1", "[member-1/store] 10:00 INFO x", true))
        .isEqualTo("[member-1/store] 10:00 INFO x");
    assertThat(ClusterLog.tag("member-1", "\tat java.lang.Thread.run", true))
        .isEqualTo("[member-1] \tat java.lang.Thread.run");
    assertThat(ClusterLog.tag("member-1", "{\"level\":\"INFO\"}", true))
        .isEqualTo("{\"member\":\"member-1\",\"level\":\"INFO\"}");
    assertThat(ClusterLog.tag("up", "{\"level\":\"INFO\"}", false))
        .isEqualTo("{\"level\":\"INFO\"}");
    assertThat(ClusterLog.tag("up", "", false)).isEmpty();
  }

  @Test
  void componentsComeFromTheLoggerOrTheThread() {
    assertThat(ComponentConverter.component("dev.kubelite.store.raft.driver.RaftDriver", "raft-1"))
        .isEqualTo("store");
    assertThat(ComponentConverter.component("dev.kubelite.apiserver.ApiServer", "main"))
        .isEqualTo("apiserver");
    assertThat(ComponentConverter.component("controller-manager", "main"))
        .isEqualTo("controller-manager");
    assertThat(
            ComponentConverter.component(
                "dev.kubelite.client.workqueue.ReconcileLoop", "replicaset-controller-1"))
        .isEqualTo("controller-manager");
    assertThat(
            ComponentConverter.component(
                "dev.kubelite.client.events.EventRecorder", "kubelet-pods-2"))
        .isEqualTo("kubelet");
    assertThat(ComponentConverter.component("dev.kubelite.client.cache.Informer", "reflector-pods"))
        .isEqualTo("client");
    assertThat(ComponentConverter.component("io.vertx.core.impl.ContextImpl", "vert.x-eventloop"))
        .isEqualTo("lib");
  }

  @Test
  void theLogFileHasEveryLineOnceTaggedAndLogsPrintsItOrItsTail() throws Exception {
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    try (ClusterLog log =
        ClusterLog.open(dir, new PrintStream(console, true, StandardCharsets.UTF_8))) {
      PrintStream err = log.stream("up");
      err.println("[scheduler]          10:00:00.000 INFO  scheduler Scheduler: bound");
      err.print("Kubelite is ");
      err.println("up.");
      log.line("member-2", "[member-2/store] 10:00:01.000 INFO raft RaftDriver: leader", true);
    }
    String expected =
        "[scheduler]          10:00:00.000 INFO  scheduler Scheduler: bound\n"
            + "[up] Kubelite is up.\n"
            + "[member-2/store] 10:00:01.000 INFO raft RaftDriver: leader\n";
    assertThat(Files.readString(ClusterLog.file(dir))).isEqualTo(expected);
    assertThat(console.toString(StandardCharsets.UTF_8)).isEqualTo(expected);

    ByteArrayOutputStream all = new ByteArrayOutputStream();
    LogsCommand logs = new LogsCommand(new PrintStream(all, true, StandardCharsets.UTF_8));
    new picocli.CommandLine(logs).execute("--data-dir", dir.toString());
    assertThat(all.toString(StandardCharsets.UTF_8)).isEqualTo(expected);

    ByteArrayOutputStream tail = new ByteArrayOutputStream();
    new picocli.CommandLine(new LogsCommand(new PrintStream(tail, true, StandardCharsets.UTF_8)))
        .execute("--data-dir", dir.toString(), "--tail", "2");
    assertThat(tail.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            "[up] Kubelite is up.\n[member-2/store] 10:00:01.000 INFO raft RaftDriver: leader\n");
  }

  @Test
  void followPrintsNewLinesAndStartsOverWhenTheLogStartsAfresh() throws Exception {
    Path file = ClusterLog.file(dir);
    Files.createDirectories(file.getParent());
    Files.writeString(file, "[up] one\n");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
    Thread follower =
        new Thread(
            () ->
                new picocli.CommandLine(new LogsCommand(print))
                    .execute("--data-dir", dir.toString(), "-f"));
    follower.setDaemon(true);
    follower.start();
    try {
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> out.toString(StandardCharsets.UTF_8).equals("[up] one\n"));
      Files.writeString(file, "[store] two\n", StandardOpenOption.APPEND);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> out.toString(StandardCharsets.UTF_8).equals("[up] one\n[store] two\n"));
      // Truncated in place: read again from the start.
      Files.writeString(file, "[x] 3\n", StandardOpenOption.TRUNCATE_EXISTING);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> out.toString(StandardCharsets.UTF_8).endsWith("[store] two\n[x] 3\n"));
      // `up --fresh` removed the log and a new, already longer one began.
      Files.delete(file);
      Files.writeString(file, "[up] a new cluster, a longer first line\n");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  out.toString(StandardCharsets.UTF_8)
                      .endsWith("[x] 3\n[up] a new cluster, a longer first line\n"));
    } finally {
      follower.interrupt();
    }
  }

  @Test
  void logsWithoutALogSaysWhatToDo() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code =
        new picocli.CommandLine(new LogsCommand(new PrintStream(out, true, StandardCharsets.UTF_8)))
            .execute("--data-dir", dir.resolve("none").toString());
    assertThat(code).isEqualTo(1);
  }
}
