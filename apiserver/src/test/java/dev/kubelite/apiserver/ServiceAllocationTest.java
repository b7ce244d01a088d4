package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubelite.apiserver.testing.ApiServerFixture;
import dev.kubelite.apiserver.testing.ApiServerFixture.Response;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Cluster IPs and node ports of Services, reserved in the store as kube-apiserver does. */
class ServiceAllocationTest {
  static ApiServerFixture api;
  static final String SVCS = "/api/v1/namespaces/default/services";

  @BeforeAll
  static void start() throws Exception {
    api = ApiServerFixture.start(ApiServerFixture.Backend.EMBEDDED);
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  private static String svc(String name, String extraSpec) {
    return "{\"metadata\":{\"name\":\""
        + name
        + "\"},\"spec\":{\"selector\":{\"app\":\""
        + name
        + "\"},\"ports\":[{\"port\":80}]"
        + (extraSpec.isEmpty() ? "" : "," + extraSpec)
        + "}}";
  }

  private static JsonNode created(String name, String extraSpec) throws Exception {
    Response r = api.post(SVCS, svc(name, extraSpec));
    assertThat(r.code()).as(r.body()).isEqualTo(201);
    return r.json();
  }

  private static Response refused(String name, String extraSpec) throws Exception {
    Response r = api.post(SVCS, svc(name, extraSpec));
    assertThat(r.code()).as(r.body()).isEqualTo(422);
    return r;
  }

  @Test
  void theKubernetesServiceHasTheFirstAddressAndPointsAtTheApiServer() throws Exception {
    Response r = api.get(SVCS + "/kubernetes");
    assertThat(r.code()).as(r.body()).isEqualTo(200);
    JsonNode spec = r.json().path("spec");
    assertThat(spec.path("clusterIP").asText()).isEqualTo("10.96.0.1");
    assertThat(spec.path("ports").get(0).path("port").asInt()).isEqualTo(443);
    assertThat(spec.path("ports").get(0).path("targetPort").asInt()).isEqualTo(api.api.port());
    assertThat(
            api.store
                .get("/registry/ranges/serviceips".getBytes(StandardCharsets.UTF_8))
                .get(10, TimeUnit.SECONDS)
                .kv())
        .isNotNull();
  }

  @Test
  void dynamicAddressesAreUniqueAndComeFromTheUpperBand() throws Exception {
    JsonNode a = created("dyn-a", "").path("spec");
    assertThat(a.path("clusterIP").asText()).startsWith("10.96.");
    assertThat(a.path("clusterIPs").get(0).asText()).isEqualTo(a.path("clusterIP").asText());
    assertThat(a.path("ipFamilies").get(0).asText()).isEqualTo("IPv4");
    assertThat(a.path("ipFamilyPolicy").asText()).isEqualTo("SingleStack");
    // The lowest 256 addresses are kept for addresses asked for by number.
    String[] octets = a.path("clusterIP").asText().split("\\.");
    assertThat(Integer.parseInt(octets[2]) * 256 + Integer.parseInt(octets[3]))
        .isGreaterThanOrEqualTo(256);

    List<CompletableFuture<Response>> all = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      String name = "par-" + i;
      all.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return api.post(SVCS, svc(name, ""));
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              }));
    }
    Set<String> ips = new HashSet<>();
    ips.add(a.path("clusterIP").asText());
    for (CompletableFuture<Response> f : all) {
      Response r = f.get(60, TimeUnit.SECONDS);
      assertThat(r.code()).as(r.body()).isEqualTo(201);
      ips.add(r.json().path("spec").path("clusterIP").asText());
    }
    assertThat(ips).hasSize(21);
  }

  @Test
  void requestedAddressesAreCheckedAndFreedOnDelete() throws Exception {
    assertThat(
            created("dns", "\"clusterIP\":\"10.96.0.10\"").path("spec").path("clusterIP").asText())
        .isEqualTo("10.96.0.10");
    assertThat(refused("dns-2", "\"clusterIP\":\"10.96.0.10\"").json().path("message").asText())
        .isEqualTo(
            "Service \"dns-2\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.96.0.10\"}:"
                + " failed to allocate IP 10.96.0.10: provided IP is already allocated");
    assertThat(refused("far", "\"clusterIP\":\"1.2.3.4\"").json().path("message").asText())
        .contains("is not in the valid range. The range of valid IPs is 10.96.0.0/12");
    assertThat(refused("bad", "\"clusterIP\":\"10.96.0.300\"").json().path("message").asText())
        .contains("must be a valid IP address");

    Response d = api.delete(SVCS + "/dns", null);
    assertThat(d.code()).as(d.body()).isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> api.post(SVCS, svc("dns-2", "\"clusterIP\":\"10.96.0.10\"")).code() == 201);
  }

  @Test
  void aCreateThatFailsReleasesWhatItReserved() throws Exception {
    created("twice", "\"clusterIP\":\"10.96.0.20\"");
    Response again = api.post(SVCS, svc("twice", "\"clusterIP\":\"10.96.0.21\""));
    assertThat(again.code()).isEqualTo(409);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> api.post(SVCS, svc("other", "\"clusterIP\":\"10.96.0.21\"")).code() == 201);
  }

  @Test
  void headlessAndExternalNameServicesGetNoAddress() throws Exception {
    JsonNode h = created("headless", "\"clusterIP\":\"None\"").path("spec");
    assertThat(h.path("clusterIP").asText()).isEqualTo("None");
    assertThat(h.path("clusterIPs").get(0).asText()).isEqualTo("None");
    Response r =
        api.post(
            SVCS,
            "{\"metadata\":{\"name\":\"ext\"},\"spec\":{\"type\":\"ExternalName\","
                + "\"externalName\":\"example.com\"}}");
    assertThat(r.code()).as(r.body()).isEqualTo(201);
    assertThat(r.json().path("spec").has("clusterIP")).isFalse();
  }

  @Test
  void nodePortsAreAllocatedInTheirRange() throws Exception {
    JsonNode np = created("np", "\"type\":\"NodePort\"").path("spec");
    int port = np.path("ports").get(0).path("nodePort").asInt();
    assertThat(port).isBetween(30000, 32767);
    assertThat(np.path("externalTrafficPolicy").asText()).isEqualTo("Cluster");

    Response r =
        api.post(
            SVCS,
            "{\"metadata\":{\"name\":\"np-fixed\"},\"spec\":{\"type\":\"NodePort\","
                + "\"ports\":[{\"port\":80,\"nodePort\":30080}]}}");
    assertThat(r.code()).as(r.body()).isEqualTo(201);
    r =
        api.post(
            SVCS,
            "{\"metadata\":{\"name\":\"np-taken\"},\"spec\":{\"type\":\"NodePort\","
                + "\"ports\":[{\"port\":80,\"nodePort\":30080}]}}");
    assertThat(r.code()).as(r.body()).isEqualTo(422);
    assertThat(r.json().path("message").asText()).contains("provided port is already allocated");
    r =
        api.post(
            SVCS,
            "{\"metadata\":{\"name\":\"np-low\"},\"spec\":{\"type\":\"NodePort\","
                + "\"ports\":[{\"port\":80,\"nodePort\":80}]}}");
    assertThat(r.code()).as(r.body()).isEqualTo(422);
    assertThat(r.json().path("message").asText())
        .contains("The range of valid ports is 30000-32767");
  }

  @Test
  void updatesKeepTheAllocatedValuesAndMayNotChangeThem() throws Exception {
    JsonNode s = created("upd", "\"type\":\"NodePort\"");
    String ip = s.path("spec").path("clusterIP").asText();
    int nodePort = s.path("spec").path("ports").get(0).path("nodePort").asInt();
    // A PUT of the manifest as written (no clusterIP, no nodePort) keeps them.
    Response r =
        api.put(
            SVCS + "/upd",
            "{\"metadata\":{\"name\":\"upd\",\"labels\":{\"x\":\"y\"}},\"spec\":{\"type\":\"NodePort\","
                + "\"selector\":{\"app\":\"upd\"},\"ports\":[{\"port\":80}]}}");
    assertThat(r.code()).as(r.body()).isEqualTo(200);
    assertThat(r.json().path("spec").path("clusterIP").asText()).isEqualTo(ip);
    assertThat(r.json().path("spec").path("ports").get(0).path("nodePort").asInt())
        .isEqualTo(nodePort);

    r =
        api.patch(
            SVCS + "/upd",
            "application/merge-patch+json",
            "{\"spec\":{\"clusterIP\":\"10.96.0.99\"}}");
    assertThat(r.code()).as(r.body()).isEqualTo(422);
    assertThat(r.json().path("message").asText()).contains("spec.clusterIP").contains("immutable");
  }

  @Test
  void servicePortsAreValidated() throws Exception {
    Response r = api.post(SVCS, "{\"metadata\":{\"name\":\"noports\"},\"spec\":{}}");
    assertThat(r.code()).isEqualTo(422);
    assertThat(r.json().path("message").asText()).contains("spec.ports: Required value");
    r =
        api.post(
            SVCS, "{\"metadata\":{\"name\":\"badport\"},\"spec\":{\"ports\":[{\"port\":70000}]}}");
    assertThat(r.code()).isEqualTo(422);
    r =
        api.post(
            SVCS,
            "{\"metadata\":{\"name\":\"twoports\"},\"spec\":{\"ports\":[{\"port\":1},{\"port\":2}]}}");
    assertThat(r.code()).isEqualTo(422);
    assertThat(r.json().path("message").asText()).contains("spec.ports[0].name: Required value");
  }
}
