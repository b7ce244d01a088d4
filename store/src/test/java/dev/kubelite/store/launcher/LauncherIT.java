package dev.kubelite.store.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Runs {@code bin/kubelite} as a user would, against the jar this build just packaged. */
class LauncherIT {
  private static final Path ROOT =
      Path.of(System.getProperty("kubelite.root", "..")).toAbsolutePath();

  private record Run(int exitCode, String output) {}

  private static Run kubelite(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(ROOT.resolve("bin/kubelite").toString());
    command.addAll(List.of(args));
    Process p =
        new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).as("kubelite %s finished", command).isTrue();
    return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  @Test
  void helpListsTheCommands() throws Exception {
    Run run = kubelite("help");
    assertThat(run.exitCode()).isZero();
    assertThat(run.output()).contains("raft-sim");
    assertThat(run.output()).doesNotContain("building"); // the packaged jar is reused
  }

  @Test
  void unknownCommandFailsWithUsage() throws Exception {
    Run run = kubelite("no-such-command");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.output()).contains("unknown command 'no-such-command'").contains("Usage:");
  }

  @Test
  void raftSimRunsSeedsAndReportsThem() throws Exception {
    Run run = kubelite("raft-sim", "--seed", "11", "--seeds", "3", "--nodes", "5");
    assertThat(run.exitCode()).as(run.output()).isZero();
    assertThat(run.output()).contains("seed 11 ok:", "seed 13 ok:", "3 passed, 0 failed");
  }

  @Test
  void aFailingSeedPrintsACommandThatReplaysItExactly() throws Exception {
    Run failing = kubelite("raft-sim", "--seed", "2", "--inject-bug", "VOTE_WITHOUT_LOG_CHECK");
    assertThat(failing.exitCode()).isEqualTo(1);
    String replayLine =
        failing.output().lines().filter(l -> l.startsWith("replay: ")).findFirst().orElseThrow();
    String[] replay = replayLine.substring("replay: bin/kubelite ".length()).split(" ");
    Run replayed = kubelite(replay);
    assertThat(replayed.exitCode()).isEqualTo(1);
    String violation =
        failing.output().lines().filter(l -> l.contains("FAILED")).findFirst().orElseThrow();
    assertThat(replayed.output()).contains(violation);
    assertThat(replayed.output()).contains("now LEADER"); // --trace shows the events
  }

  @Test
  void launcherScriptIsExecutable() {
    assertThat(Files.isExecutable(ROOT.resolve("bin/kubelite"))).isTrue();
  }
}
