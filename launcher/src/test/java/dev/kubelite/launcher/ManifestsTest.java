package dev.kubelite.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.kubelite.apiserver.testing.Kubectl;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.KubeConfig;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Meta;
import dev.kubelite.client.PatchType;
import dev.kubelite.client.Resource;
import dev.kubelite.store.testing.FreePorts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every example in {@code manifests/} does what its comment promises on the all-in-one cluster:
 * applied through the API as {@code kubectl apply -f} would create it.
 */
class ManifestsTest {
  static final Path MANIFESTS =
      Path.of(System.getProperty("user.dir")).getParent().resolve("manifests");
  static final Resource SECRETS = new Resource("", "v1", "secrets", true);

  @TempDir static Path dir;
  static AllInOne cluster;
  static KubeClient k;

  @BeforeAll
  static void start() throws Exception {
    cluster =
        AllInOne.start(
            AllInOne.Options.builder(dir, FreePorts.next(), FreePorts.next(), FreePorts.next())
                .demoTimeouts(true)
                .build());
    k = KubeClient.fromConfig(KubeConfig.load(cluster.kubeconfig().toString()));
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** Creates every document of a manifest file, as {@code kubectl create -f} does. */
  static void apply(String file) throws Exception {
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    try (MappingIterator<ObjectNode> docs =
        yaml.readerFor(ObjectNode.class).readValues(MANIFESTS.resolve(file).toFile())) {
      while (docs.hasNext()) {
        ObjectNode o = docs.next();
        if (o == null || o.isEmpty()) {
          continue;
        }
        String ns = Meta.namespace(o) == null ? "default" : Meta.namespace(o);
        Resource r = resourceOf(o.path("kind").asText());
        k.create(r, r.namespaced() ? ns : null, o);
      }
    }
  }

  static Resource resourceOf(String kind) {
    return switch (kind) {
      case "Pod" -> Resource.PODS;
      case "Deployment" -> Resource.DEPLOYMENTS;
      case "Service" -> Resource.SERVICES;
      case "Namespace" -> Resource.NAMESPACES;
      case "ConfigMap" -> Resource.CONFIGMAPS;
      case "Secret" -> SECRETS;
      default -> throw new IllegalArgumentException("no resource for kind " + kind);
    };
  }

  static String phase(String ns, String pod) {
    return k.get(Resource.PODS, ns, pod).path("status").path("phase").asText();
  }

  static long running(String ns, String selector) {
    return Stream.of(k.list(Resource.PODS, ns, ListOptions.labels(selector)).path("items"))
        .flatMap(items -> java.util.stream.StreamSupport.stream(items.spliterator(), false))
        .filter(p -> p.path("status").path("phase").asText().equals("Running"))
        .count();
  }

  static boolean failedSchedulingSays(String pod, String text) {
    for (JsonNode e :
        k.list(
                Resource.EVENTS,
                "default",
                ListOptions.fields("involvedObject.name=" + pod + ",reason=FailedScheduling"))
            .path("items")) {
      if (e.path("message").asText().contains(text)) {
        return true;
      }
    }
    return false;
  }

  @Test
  void everyManifestIsCoveredHere() throws Exception {
    try (Stream<Path> files = Files.list(MANIFESTS)) {
      assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
          .containsExactly(
              "config-and-secret.yaml",
              "deployment.yaml",
              "namespace-app.yaml",
              "node-selector.yaml",
              "pod.yaml",
              "unschedulable-pod.yaml");
    }
  }

  @Test
  void pod() throws Exception {
    apply("pod.yaml");
    await().atMost(Duration.ofSeconds(60)).until(() -> phase("default", "hello").equals("Running"));
  }

  @Test
  void deploymentAndService() throws Exception {
    apply("deployment.yaml");
    await().atMost(Duration.ofSeconds(60)).until(() -> running("default", "app=web") == 3);
    assertThat(k.get(Resource.SERVICES, "default", "web").path("spec").path("clusterIP").asText())
        .startsWith("10.96.");
  }

  @Test
  void namespaceWithAnApp() throws Exception {
    apply("namespace-app.yaml");
    await().atMost(Duration.ofSeconds(60)).until(() -> running("shop", "app=cart") == 2);
  }

  @Test
  void configMapSecretAndAPodUsingThem() throws Exception {
    apply("config-and-secret.yaml");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> phase("default", "configured").equals("Running"));
    String password =
        k.get(SECRETS, "default", "app-secret").path("data").path("password").asText();
    assertThat(new String(Base64.getDecoder().decode(password), StandardCharsets.UTF_8))
        .isEqualTo("change-me");
  }

  @Test
  void unschedulablePodSaysWhy() throws Exception {
    apply("unschedulable-pod.yaml");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> failedSchedulingSays("too-big", "0/3 nodes are available: 3 Insufficient cpu"));
    assertThat(phase("default", "too-big")).isEqualTo("Pending");
  }

  @Test
  void nodeSelectorWaitsForALabelledNode() throws Exception {
    apply("node-selector.yaml");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> failedSchedulingSays("needs-ssd", "didn't match Pod's node affinity/selector"));
    ObjectNode label = KubeClient.JSON.createObjectNode();
    label.putObject("metadata").putObject("labels").put("disktype", "ssd");
    k.patch(Resource.NODES, null, "node-2", PatchType.MERGE, label);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> phase("default", "needs-ssd").equals("Running"));
    assertThat(k.get(Resource.PODS, "default", "needs-ssd").path("spec").path("nodeName").asText())
        .isEqualTo("node-2");
  }

  @Test
  void realKubectlAcceptsThemAll() throws Exception {
    Kubectl kubectl = Kubectl.withKubeconfig(dir, Files.readString(cluster.kubeconfig()));
    // namespace-app.yaml is left out: a dry run creates no namespace for its Deployment to go in.
    List<String> args =
        new java.util.ArrayList<>(List.of("apply", "--dry-run=server", "-n", "default"));
    for (String f :
        List.of(
            "pod.yaml",
            "deployment.yaml",
            "config-and-secret.yaml",
            "unschedulable-pod.yaml",
            "node-selector.yaml")) {
      args.add("-f");
      args.add(MANIFESTS.resolve(f).toString());
    }
    List<String> out = List.of(kubectl.ok(args.toArray(String[]::new)).split("\n"));
    assertThat(out).anyMatch(l -> l.contains("deployment.apps/web"));
    assertThat(out).anyMatch(l -> l.contains("pod/too-big"));
  }
}
