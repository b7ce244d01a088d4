package dev.kubelite.scheduler.framework;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FitErrorTest {
  @Test
  void countsReasonsPerNodeAndSortsAsKubernetes() {
    Map<String, List<String>> r = new LinkedHashMap<>();
    r.put("a", List.of("Insufficient cpu"));
    r.put("b", List.of("Insufficient cpu", "Insufficient memory"));
    r.put("c", List.of("node(s) had untolerated taint {node.kubernetes.io/unreachable: }"));
    assertThat(FitError.message(3, r))
        .isEqualTo(
            "0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint"
                + " {node.kubernetes.io/unreachable: }, 2 Insufficient cpu.");
  }

  @Test
  void sortsTheCountedStringsLikeGoSortStrings() {
    Map<String, List<String>> r = new LinkedHashMap<>();
    for (int i = 0; i < 10; i++) {
      r.put("n" + i, List.of("Insufficient cpu"));
    }
    r.put("x", List.of("node(s) were unschedulable"));
    r.put("y", List.of("node(s) were unschedulable"));
    // "10 …" < "2 …" as strings, which is how kube-scheduler orders them.
    assertThat(FitError.message(12, r))
        .isEqualTo("0/12 nodes are available: 10 Insufficient cpu, 2 node(s) were unschedulable.");
  }

  @Test
  void noNodes() {
    assertThat(FitError.message(0, Map.of())).isEqualTo("no nodes available to schedule pods");
  }
}
