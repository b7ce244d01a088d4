package dev.kubelite.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Keeps the benchmark harness working: a one-second run against a 3-member Kubelite store. */
class StoreBenchSmokeTest {

  @Test
  void harnessRunsEveryScenarioAndPrintsTheTable() {
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int exit;
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      exit =
          new CommandLine(new StoreBench())
              .execute(
                  "--seconds",
                  "1",
                  "--warmup",
                  "0",
                  "--clients",
                  "2",
                  "--watchers",
                  "2",
                  "--systems",
                  "KUBELITE");
    } finally {
      System.setOut(stdout);
    }
    String table = captured.toString(StandardCharsets.UTF_8);
    assertThat(exit).as(table).isZero();
    assertThat(table)
        .contains("put, 2 clients")
        .contains("linearizable get")
        .contains("serializable get")
        .contains("txn compare-and-put")
        .contains("watch fan-out to 2 watchers");
  }

  @Test
  void putsOnlyRunsJustThePutScenariosWithTheMembersJvmArguments() {
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int exit;
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      exit =
          new CommandLine(new StoreBench())
              .execute(
                  "--seconds",
                  "1",
                  "--warmup",
                  "0",
                  "--jit-warmup",
                  "0",
                  "--clients",
                  "2",
                  "--puts-only",
                  "--member-jvm-arg=-Xss1m",
                  "--systems",
                  "KUBELITE");
    } finally {
      System.setOut(stdout);
    }
    String table = captured.toString(StandardCharsets.UTF_8);
    assertThat(exit).as(table).isZero();
    assertThat(table).contains("put, 2 clients").doesNotContain("get").doesNotContain("watch");
  }
}
