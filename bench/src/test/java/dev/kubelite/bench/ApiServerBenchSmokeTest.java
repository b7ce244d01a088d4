package dev.kubelite.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Keeps the API server benchmark working: a one-second run per scenario against the API server on
 * the embedded single-member store, as a separate process.
 */
class ApiServerBenchSmokeTest {

  @Test
  void harnessRunsEveryScenarioAndPrintsTheTable() {
    BenchRun run =
        BenchRun.of(
            new ApiServerBench(),
            "--seconds",
            "1",
            "--warmup",
            "0",
            "--first-warmup",
            "0",
            "--clients",
            "2",
            "--list-size",
            "20",
            "--watchers",
            "3",
            "--watch-rate",
            "20",
            "--systems",
            "KUBELITE",
            "--interval",
            "1",
            "--server-classpath",
            System.getProperty("java.class.path"));
    String table = run.output();
    assertThat(run.exit()).as(table).isZero();
    assertThat(table)
        .contains("pod create, 2 clients")
        .contains("pod get, 2 clients")
        .contains("pod update (PUT, annotation), 2 clients")
        .contains("pod status patch (strategic merge), 2 clients")
        .contains("list 20 pods (consistent, from the store)")
        .contains("list 20 pods (resourceVersion=0, watch cache)")
        .contains("watch fan-out to 3 watchers");
  }

  @Test
  void heapScenarioPrintsTheLiveHeapPerStep() {
    BenchRun run =
        BenchRun.of(
            new ApiServerBench(),
            "--clients",
            "2",
            "--systems",
            "KUBELITE",
            "--scenarios",
            "HEAP",
            "--heap-pods",
            "20",
            "--heap-steps",
            "2",
            "--server-classpath",
            System.getProperty("java.class.path"));
    String out = run.output();
    assertThat(run.exit()).as(out).isZero();
    assertThat(out)
        .containsPattern("heap: 10 pods, live [0-9.]+ MB, -?[0-9,]+ bytes per pod in this step")
        .contains("heap: 20 pods, live ")
        .contains("largest classes after the last step");
  }
}
