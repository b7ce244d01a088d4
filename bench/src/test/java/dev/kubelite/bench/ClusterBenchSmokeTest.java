package dev.kubelite.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Keeps the control-plane benchmark working: the real harness, with every component a separate
 * process, on 5 nodes and a Deployment of 50 replicas.
 */
class ClusterBenchSmokeTest {

  @Test
  void allPodsRunAndTheFiguresArePrinted() {
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int exit;
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      exit =
          new CommandLine(new ClusterBench())
              .execute("--nodes", "5", "--replicas", "50", "--timeout", "120");
    } finally {
      System.setOut(stdout);
    }
    String out = captured.toString(StandardCharsets.UTF_8);
    System.out.println(out);
    assertThat(exit).as(out).isZero();
    assertThat(out)
        .contains("cluster-bench: 5 nodes, Deployment of 50 replicas")
        .contains("pods seen 50, bound 50, Running 50")
        .containsPattern("all Running after [0-9.]+ s")
        .containsPattern("pods/s created: [0-9]+")
        .containsPattern("pods/s scheduled: [0-9]+")
        .containsPattern("pods/s end-to-end Running: [0-9]+")
        .containsPattern("target 1,000 pods/s, ratio [0-9.]+")
        .containsPattern("create -> bound latency: p50 [0-9]+ ms, p99 [0-9]+ ms")
        .containsPattern("apiserver\\+store +[0-9]+ MiB +[1-9][0-9]* MiB")
        .containsPattern("scheduler +[0-9]+ MiB +[1-9][0-9]* MiB")
        .containsPattern("controller-manager +[0-9]+ MiB +[1-9][0-9]* MiB")
        .containsPattern("kubelet +[0-9]+ MiB +[1-9][0-9]* MiB");
  }
}
