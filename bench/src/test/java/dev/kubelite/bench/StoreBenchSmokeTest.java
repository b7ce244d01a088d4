package dev.kubelite.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Keeps the benchmark harness working: a one-second run against a 3-member Kubelite store. */
class StoreBenchSmokeTest {

  @Test
  void harnessRunsEveryScenarioAndPrintsTheTable() {
    BenchRun run =
        BenchRun.of(
            new StoreBench(),
            "--seconds",
            "1",
            "--warmup",
            "0",
            "--jit-warmup",
            "0",
            "--clients",
            "2",
            "--watchers",
            "2",
            "--systems",
            "KUBELITE");
    String table = run.output();
    assertThat(run.exit()).as(table).isZero();
    assertThat(table)
        .contains("put, 2 clients")
        .contains("linearizable get")
        .contains("serializable get")
        .contains("txn compare-and-put")
        .contains("watch fan-out to 2 watchers");
  }

  @Test
  void putsOnlyRunsJustThePutScenariosWithTheMembersJvmArguments() {
    BenchRun run =
        BenchRun.of(
            new StoreBench(),
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
    String table = run.output();
    assertThat(run.exit()).as(table).isZero();
    assertThat(table).contains("put, 2 clients").doesNotContain("get").doesNotContain("watch");
  }
}
