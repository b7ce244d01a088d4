package dev.kubelite.kubelet;

import static dev.kubelite.kubelet.KubeletTest.fast;
import static dev.kubelite.kubelet.KubeletTest.runPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.testing.Kubectl;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code pods/log} end to end: the API server finds the pod's node, dials the simulated kubelet's
 * {@code /containerLogs} and streams what the simulated container "printed".
 */
class PodLogsTest {
  static Cluster cluster;
  static KubeClient c;
  static Kubelet kubelet;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    cluster = new Cluster();
    c = cluster.client();
    KubeletTest.c = c;
    kubelet = new Kubelet(c, fast("logs", 1).build()).start();
    await().atMost(Duration.ofSeconds(20)).until(kubelet::allRegistered);
  }

  @AfterAll
  static void stop() {
    kubelet.close();
    cluster.close();
  }

  static String phase(String pod) {
    return c.get(Resource.PODS, "default", pod).path("status").path("phase").asText();
  }

  static HttpResponse<String> log(String pod, String query) throws Exception {
    return http.send(
        HttpRequest.newBuilder(
                URI.create(
                    cluster.url() + "/api/v1/namespaces/default/pods/" + pod + "/log" + query))
            .timeout(Duration.ofSeconds(20))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aRunningPodsLogNamesItsContainerNodeAndImage() throws Exception {
    runPod("talker", "logs-1", p -> {});
    await().atMost(Duration.ofSeconds(20)).until(() -> phase("talker").equals("Running"));
    HttpResponse<String> r = log("talker", "");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body())
        .contains(
            "simulated container app of pod default/talker started on node logs-1 from image"
                + " nginx:1.27");
    assertThat(r.body().lines().count()).isEqualTo(2);

    r = log("talker", "?tailLines=1&timestamps=true");
    assertThat(r.body().lines().toList()).hasSize(1);
    assertThat(r.body())
        .matches("(?s)\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z kubelite: .*");

    r = log("talker", "?previous=true");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("previous terminated container");
  }

  @Test
  void aRestartedContainerKeepsItsPreviousLog() throws Exception {
    // Exits with code 3 after a second; restartPolicy Always restarts it.
    runPod(
        "crasher",
        "logs-1",
        p ->
            ((ObjectNode) p.get("metadata"))
                .putObject("annotations")
                .put("kubelite.dev/exit-after-seconds", "1")
                .put("kubelite.dev/exit-code", "3"));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> log("crasher", "?previous=true").statusCode() == 200);
    assertThat(log("crasher", "?previous=true").body()).contains("kubelite: exited with code 3");
  }

  @Test
  void followStreamsUntilThePodStops() throws Exception {
    runPod("followed", "logs-1", p -> {});
    await().atMost(Duration.ofSeconds(20)).until(() -> phase("followed").equals("Running"));
    HttpResponse<InputStream> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        cluster.url() + "/api/v1/namespaces/default/pods/followed/log?follow=true"))
                .build(),
            HttpResponse.BodyHandlers.ofInputStream());
    assertThat(r.statusCode()).isEqualTo(200);
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      assertThat(lines.readLine()).contains("started on node logs-1");
      assertThat(lines.readLine()).contains("no process runs");
      c.delete(Resource.PODS, "default", "followed");
      assertThat(lines.readLine()).contains("received SIGTERM");
      // The stream ends when the container stops.
      assertThat(lines.readLine()).isNull();
    }
  }

  @Test
  void realKubectlLogs() throws Exception {
    Kubectl kubectl = new Kubectl(cluster.dir, cluster.url().toString());
    runPod("kubectl-logs", "logs-1", p -> {});
    await().atMost(Duration.ofSeconds(20)).until(() -> phase("kubectl-logs").equals("Running"));
    assertThat(kubectl.ok("logs", "kubectl-logs"))
        .contains("simulated container app of pod default/kubectl-logs");
  }
}
