package dev.kubelite.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Keeps the control-plane benchmark working: the real harness, with every component a separate
 * process, on 5 nodes and 50 replicas, for both workloads (the Deployment one with the audit log's
 * requests per pod).
 */
class ClusterBenchSmokeTest {

  @Test
  void deploymentPodsAllRunAndTheFiguresArePrinted() {
    String out = run("--nodes", "5", "--replicas", "50", "--timeout", "120", "--audit");
    assertThat(out)
        .contains("cluster-bench: 5 nodes, Deployment of 50 replicas")
        .contains("pods seen 50, bound 50, Running 50")
        .containsPattern("all Running after [0-9.]+ s \\(from the Deployment create")
        .containsPattern("pods/s created: [0-9]+")
        .containsPattern("pods/s scheduled: [0-9]+")
        .containsPattern("pods/s end-to-end Running: [0-9]+")
        .containsPattern("target 1,000 pods/s, ratio [0-9.]+")
        .containsPattern("create -> bound latency: p50 [0-9]+ ms, p99 [0-9]+ ms")
        .containsPattern("components together: [0-9.]+ s CPU")
        .containsPattern("apiserver\\+store +[0-9]+ MiB +[1-9][0-9]* MiB")
        .containsPattern("scheduler +[0-9]+ MiB +[1-9][0-9]* MiB")
        .containsPattern("controller-manager +[0-9]+ MiB +[1-9][0-9]* MiB")
        .containsPattern("kubelet +[0-9]+ MiB +[1-9][0-9]* MiB")
        // --audit: what each pod cost in requests, from the API server's audit log.
        .containsPattern("pod watch events: [0-9]+, [0-9.]+ per pod")
        .containsPattern("requests during the run \\(audit log\\): [0-9]+, [0-9.]+ per pod")
        .containsPattern("kube-controller-manager +create +pods +2xx +50 +1\\.000")
        .containsPattern("kube-scheduler +create +pods/binding +2xx +50 +1\\.000")
        .containsPattern("kubelet +patch +pods/status +2xx +[0-9]+ +[0-9.]+");
  }

  @Test
  void barePodsAreScheduledByALateSchedulerAndAllRun() {
    String out = run("--nodes", "5", "--replicas", "50", "--timeout", "120", "--workload", "PODS");
    assertThat(out)
        .contains("cluster-bench: 5 nodes, bare pods of 50 replicas")
        .containsPattern("50 bare pods created in [0-9.]+ s; starting the scheduler")
        .contains("pods seen 50, bound 50, Running 50")
        .containsPattern("scheduled over the busy interval .*: [0-9]+ pods/s")
        .containsPattern("scheduler +- +[1-9][0-9]* MiB");
  }

  private static String run(String... args) {
    BenchRun run = BenchRun.of(new ClusterBench(), args);
    System.out.println(run.output());
    assertThat(run.exit()).as(run.output()).isZero();
    return run.output();
  }
}
