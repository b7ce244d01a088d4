package dev.kubelite.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Keeps the API server benchmark working: a one-second run per scenario against the API server on
 * the embedded single-member store, as a separate process.
 */
class ApiServerBenchSmokeTest {

  @Test
  void harnessRunsEveryScenarioAndPrintsTheTable() {
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int exit;
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      exit =
          new CommandLine(new ApiServerBench())
              .execute(
                  "--seconds",
                  "1",
                  "--warmup",
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
                  "KUBELITE");
    } finally {
      System.setOut(stdout);
    }
    String table = captured.toString(StandardCharsets.UTF_8);
    assertThat(exit).as(table).isZero();
    assertThat(table)
        .contains("pod create, 2 clients")
        .contains("pod get, 2 clients")
        .contains("list 20 pods (consistent, from the store)")
        .contains("list 20 pods (resourceVersion=0, watch cache)")
        .contains("watch fan-out to 3 watchers");
  }
}
