package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubelite.apiserver.testing.ApiServerFixture;
import dev.kubelite.apiserver.testing.Kubectl;
import dev.kubelite.store.testing.EtcdProcess;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The real kubectl 1.32 (/usr/bin/kubectl) against the API server on our store: the everyday
 * commands, their exit codes and what they print.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KubectlTest {
  private ApiServerFixture f;
  private Kubectl k;
  private Path manifests;

  @BeforeAll
  void start() throws Exception {
    f = ApiServerFixture.start(ApiServerFixture.Backend.EMBEDDED);
    k = new Kubectl(f.dir, f.url(), "default", Duration.ofSeconds(60));
    manifests = Files.createDirectories(f.dir.resolve("manifests"));
  }

  @AfterAll
  void stop() {
    if (f != null) {
      f.close();
    }
  }

  Path write(String name, String yaml) throws Exception {
    return Files.writeString(manifests.resolve(name), yaml);
  }

  static final String DEPLOY_V1 =
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
        namespace: shop
        labels: {app: web, stage: one}
      spec:
        replicas: 2
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec:
            containers:
            - name: nginx
              image: nginx:1.27
              env: [{name: MODE, value: one}]
            - name: sidecar
              image: busybox:1.36
      """;

  static final String DEPLOY_V2 =
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
        namespace: shop
        labels: {app: web}
      spec:
        replicas: 3
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec:
            containers:
            - name: nginx
              image: nginx:1.28
              ports: [{containerPort: 80}]
      """;

  static final String CONFIGMAP =
      """
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: settings
        namespace: shop
        labels: {app: web}
      data:
        color: blue
      """;

  @Test
  void serverSideDryRunChangesNothing() throws Exception {
    k.ok("create", "namespace", "dry");
    Path cm = write("dry-cm.yaml", CONFIGMAP.replace("namespace: shop", "namespace: dry"));
    long rev = f.store.currentRevision().get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(k.ok("apply", "--dry-run=server", "-f", cm.toString()))
        .contains("configmap/settings created (server dry run)");
    assertThat(k.ok("create", "--dry-run=server", "-f", cm.toString()))
        .contains("configmap/settings created (server dry run)");
    assertThat(k.ok("create", "configmap", "typed", "-n", "dry", "--dry-run=server"))
        .contains("configmap/typed created (server dry run)");
    assertThat(k.ok("create", "deployment", "d", "-n", "dry", "--image=nginx", "--dry-run=server"))
        .contains("deployment.apps/d created (server dry run)");
    assertThat(k.run("get", "configmap", "settings", "-n", "dry").output()).contains("NotFound");
    assertThat(f.store.currentRevision().get(10, java.util.concurrent.TimeUnit.SECONDS))
        .isEqualTo(rev);

    k.ok("apply", "-f", cm.toString());
    write(
        "dry-cm.yaml",
        CONFIGMAP.replace("namespace: shop", "namespace: dry").replace("blue", "red"));
    assertThat(
            k.ok("apply", "--dry-run=server", "-f", cm.toString(), "-o", "jsonpath={.data.color}"))
        .isEqualTo("red");
    assertThat(k.ok("delete", "configmap", "settings", "-n", "dry", "--dry-run=server"))
        .contains("configmap \"settings\" deleted (server dry run)");
    assertThat(k.ok("get", "configmap", "settings", "-n", "dry", "-o", "jsonpath={.data.color}"))
        .isEqualTo("blue");
    Kubectl.Result invalid =
        k.run("create", "configmap", "Bad_Name", "-n", "dry", "--dry-run=server");
    assertThat(invalid.exitCode()).isEqualTo(1);
    assertThat(invalid.output()).contains("Invalid value: \"Bad_Name\"");
  }

  @Test
  void unknownFieldsAndTerminatingNamespaces() throws Exception {
    k.ok("create", "namespace", "typos");
    Path typo =
        write(
            "typo.yaml",
            DEPLOY_V1
                .replace("namespace: shop", "namespace: typos")
                .replace("replicas: 2", "replicas: 2\n  replicaz: 3"));
    // kubectl sends fieldValidation=Strict by default.
    Kubectl.Result strict = k.run("apply", "-f", typo.toString());
    assertThat(strict.exitCode()).as(strict.output()).isEqualTo(1);
    assertThat(strict.output())
        .contains(
            "Error from server (BadRequest): error when creating \""
                + typo
                + "\": Deployment in version \"v1\" cannot be handled as a Deployment: strict"
                + " decoding error: unknown field \"spec.replicaz\"");
    Kubectl.Result warn = k.run("apply", "--validate=warn", "-f", typo.toString());
    assertThat(warn.exitCode()).as(warn.output()).isZero();
    assertThat(warn.output())
        .contains("Warning: unknown field \"spec.replicaz\"")
        .contains("deployment.apps/web created");
    assertThat(k.ok("get", "deploy", "web", "-n", "typos", "-o", "jsonpath={.spec}"))
        .contains("\"replicas\":2")
        .doesNotContain("replicaz");
    Path typo2 = write("typo2.yaml", Files.readString(typo).replace("name: web\n", "name: web2\n"));
    Kubectl.Result ignore = k.run("create", "--validate=false", "-f", typo2.toString());
    assertThat(ignore.exitCode()).as(ignore.output()).isZero();
    assertThat(ignore.output()).doesNotContain("Warning");

    // A terminating namespace refuses new content.
    assertThat(k.ok("delete", "namespace", "typos", "--wait=false"))
        .contains("namespace \"typos\" deleted");
    assertThat(k.ok("get", "ns", "typos")).containsPattern("typos\\s+Terminating");
    Kubectl.Result late = k.run("create", "configmap", "late", "-n", "typos", "--from-literal=a=b");
    assertThat(late.exitCode()).isEqualTo(1);
    assertThat(late.output())
        .contains(
            "configmaps \"late\" is forbidden: unable to create new content in namespace typos"
                + " because it is being terminated");
    Kubectl.Result missing = k.run("create", "configmap", "x", "-n", "nowhere");
    assertThat(missing.exitCode()).isEqualTo(1);
    assertThat(missing.output()).contains("namespaces \"nowhere\" not found");
  }

  @Test
  void everydayCommands() throws Exception {
    assertThat(k.ok("version")).contains("Server Version: v1.32.0-kubelite");

    // create namespace: a protobuf POST.
    assertThat(k.ok("create", "namespace", "shop")).contains("namespace/shop created");
    Kubectl.Result again = k.run("create", "namespace", "shop");
    assertThat(again.exitCode()).isEqualTo(1);
    assertThat(again.output())
        .contains("Error from server (AlreadyExists): namespaces \"shop\" already exists");
    assertThat(k.ok("get", "ns"))
        .contains("NAME", "STATUS", "AGE")
        .containsPattern("shop\\s+Active");

    // Services get cluster IPs; the API server's own service has the first one.
    assertThat(k.ok("get", "svc", "kubernetes", "-n", "default"))
        .containsPattern("kubernetes\\s+ClusterIP\\s+10\\.96\\.0\\.1\\s+<none>\\s+443/TCP");
    assertThat(k.ok("create", "service", "nodeport", "web", "--tcp=80:8080", "-n", "shop"))
        .contains("service/web created");
    assertThat(k.ok("get", "svc", "web", "-n", "shop"))
        .containsPattern("web\\s+NodePort\\s+10\\.96\\.\\d+\\.\\d+\\s+<none>\\s+80:3\\d{4}/TCP");

    // apply: create, unchanged, configured.
    Path cm = write("cm.yaml", CONFIGMAP);
    assertThat(k.ok("apply", "-f", cm.toString())).contains("configmap/settings created");
    assertThat(k.ok("apply", "-f", cm.toString())).contains("configmap/settings unchanged");
    write("cm.yaml", CONFIGMAP.replace("blue", "green"));
    assertThat(k.ok("apply", "-f", cm.toString())).contains("configmap/settings configured");
    assertThat(k.ok("get", "cm", "settings", "-n", "shop", "-o", "jsonpath={.data.color}"))
        .isEqualTo("green");

    Path deploy = write("deploy.yaml", DEPLOY_V1);
    assertThat(k.ok("apply", "-f", deploy.toString())).contains("deployment.apps/web created");
    write("deploy.yaml", DEPLOY_V2);
    assertThat(k.ok("apply", "-f", deploy.toString())).contains("deployment.apps/web configured");
    JsonNode d =
        ApiServerFixture.JSON.readTree(k.ok("get", "deploy", "web", "-n", "shop", "-o", "json"));
    JsonNode containers = d.path("spec").path("template").path("spec").path("containers");
    assertThat(containers).hasSize(1);
    assertThat(containers.get(0).path("image").asText()).isEqualTo("nginx:1.28");
    assertThat(containers.get(0).has("env")).isFalse();
    assertThat(containers.get(0).path("ports").get(0).path("containerPort").asInt()).isEqualTo(80);
    assertThat(d.path("spec").path("replicas").asInt()).isEqualTo(3);
    assertThat(d.path("metadata").path("labels").has("stage")).isFalse();
    assertThat(d.path("metadata").path("generation").asLong()).isEqualTo(2);
    assertThat(k.ok("apply", "-f", deploy.toString())).contains("deployment.apps/web unchanged");

    // get: table, wide, yaml, labels, all namespaces.
    String table = k.ok("get", "deploy", "-n", "shop");
    assertThat(table.lines().findFirst().orElseThrow())
        .matches("NAME\\s+READY\\s+UP-TO-DATE\\s+AVAILABLE\\s+AGE");
    assertThat(table).containsPattern("web\\s+0/3\\s+0\\s+0\\s+\\d+s");
    assertThat(k.ok("get", "deploy", "-n", "shop", "-o", "wide"))
        .contains("CONTAINERS", "IMAGES", "SELECTOR")
        .containsPattern("nginx\\s+nginx:1\\.28\\s+app=web");
    assertThat(k.ok("get", "cm", "-n", "shop", "-o", "yaml"))
        .contains("kind: ConfigMap", "name: settings", "color: green");
    assertThat(k.ok("get", "cm", "-n", "shop", "-l", "app=web", "-o", "name"))
        .isEqualTo("configmap/settings\n");
    assertThat(k.ok("get", "cm", "-n", "shop", "-l", "app=nothing"))
        .contains("No resources found in shop namespace.");
    assertThat(k.ok("get", "cm", "-A"))
        .contains("NAMESPACE")
        .containsPattern("shop\\s+settings\\s+1");
    assertThat(k.ok("get", "deploy", "-n", "shop", "--show-labels")).contains("app=web");
    assertThat(k.ok("get", "all", "-n", "shop")).contains("deployment.apps/web");
    assertThat(k.ok("get", "po,deploy", "-n", "shop")).contains("deployment.apps/web");

    // Typed creates (protobuf bodies), scale, label, annotate, patch, describe.
    assertThat(k.ok("create", "configmap", "extra", "-n", "shop", "--from-literal=a=b"))
        .contains("configmap/extra created");
    assertThat(k.ok("create", "secret", "generic", "pw", "-n", "shop", "--from-literal=p=s3cret"))
        .contains("secret/pw created");
    assertThat(k.ok("get", "secret", "pw", "-n", "shop", "-o", "jsonpath={.data.p}"))
        .isEqualTo("czNjcmV0");
    assertThat(k.ok("create", "serviceaccount", "robot", "-n", "shop"))
        .contains("serviceaccount/robot created");
    assertThat(k.ok("create", "deployment", "api", "-n", "shop", "--image=nginx", "--replicas=2"))
        .contains("deployment.apps/api created");
    assertThat(k.ok("create", "service", "clusterip", "api", "-n", "shop", "--tcp=80:8080"))
        .contains("service/api created");
    assertThat(k.ok("scale", "deploy", "web", "-n", "shop", "--replicas=5"))
        .contains("deployment.apps/web scaled");
    assertThat(
            k.ok(
                "get",
                "deploy",
                "web",
                "-n",
                "shop",
                "-o",
                "jsonpath={.spec.replicas}/{.metadata.generation}"))
        .isEqualTo("5/3");
    assertThat(k.ok("label", "cm", "extra", "-n", "shop", "tier=backend"))
        .contains("configmap/extra labeled");
    assertThat(k.ok("annotate", "cm", "extra", "-n", "shop", "owner=me"))
        .contains("configmap/extra annotated");
    assertThat(
            k.ok(
                "patch",
                "cm",
                "extra",
                "-n",
                "shop",
                "--type=merge",
                "-p",
                "{\"data\":{\"a\":\"c\"}}"))
        .contains("configmap/extra patched");
    assertThat(
            k.ok(
                "get",
                "cm",
                "-n",
                "shop",
                "-l",
                "tier=backend",
                "-o",
                "jsonpath={.items[0].data.a}"))
        .isEqualTo("c");
    assertThat(k.ok("describe", "deploy", "web", "-n", "shop"))
        .contains("Name:", "web", "Replicas:", "5 desired");
    assertThat(k.ok("api-resources"))
        .containsPattern("deployments\\s+deploy\\s+apps/v1\\s+true\\s+Deployment");
    assertThat(k.ok("cluster-info")).contains("Kubernetes control plane is running at " + f.url());

    // delete by name and by file.
    assertThat(k.ok("delete", "cm", "extra", "-n", "shop")).contains("configmap \"extra\" deleted");
    assertThat(k.ok("delete", "-f", deploy.toString())).contains("deployment.apps \"web\" deleted");
    Kubectl.Result missing = k.run("get", "deploy", "web", "-n", "shop");
    assertThat(missing.exitCode()).isEqualTo(1);
    assertThat(missing.output())
        .contains("Error from server (NotFound): deployments.apps \"web\" not found");

    // What the store holds, as etcdctl shows it.
    EtcdProcess.Result keys =
        EtcdProcess.Etcdctl.run(f.storeEndpoint, "get", "/registry", "--prefix", "--keys-only");
    assertThat(keys.exitCode()).isZero();
    assertThat(keys.output())
        .contains(
            "/registry/namespaces/shop",
            "/registry/configmaps/shop/settings",
            "/registry/secrets/shop/pw",
            "/registry/serviceaccounts/shop/robot",
            "/registry/deployments/shop/api",
            "/registry/services/specs/shop/api")
        .doesNotContain("/registry/deployments/shop/web");
  }

  @Test
  void getWatchPrintsChangesAsTheyHappen() throws Exception {
    k.ok("create", "namespace", "watched");
    k.ok("create", "configmap", "first", "-n", "watched", "--from-literal=a=b");
    Process watch = k.command("get", "cm", "-n", "watched", "-w", "--output-watch-events").start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Thread pump = new Thread(() -> copy(watch.getInputStream(), out), "kubectl-watch-output");
    pump.start();
    try {
      // kubectl lists first (printing what exists), then watches from the list's revision: what
      // happens after the list shows up, however late the watch request connects.
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> out.toString().matches("(?s).*ADDED\\s+first.*"));
      k.ok("create", "configmap", "live", "-n", "watched", "--from-literal=a=b");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> out.toString().matches("(?s).*ADDED\\s+live.*"));
      k.ok("label", "cm", "live", "-n", "watched", "x=y");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> out.toString().matches("(?s).*MODIFIED\\s+live.*"));
      k.ok("delete", "cm", "live", "-n", "watched");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> out.toString().matches("(?s).*DELETED\\s+live.*"));
      assertThat(out.toString()).contains("EVENT", "NAME", "DATA", "AGE");
    } finally {
      watch.destroy();
      watch.waitFor();
      pump.join(10_000);
    }
  }

  @Test
  void describePodShowsItsEventsAndGetEventsPrintsThem() throws Exception {
    k.ok("create", "namespace", "described");
    Path pod =
        write(
            "pod.yaml",
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: nginx, namespace: described, labels: {app: web}}
            spec:
              containers: [{name: nginx, image: nginx:1.27}]
            """);
    assertThat(k.ok("apply", "-f", pod.toString())).contains("pod/nginx created");
    String uid = k.ok("get", "pod", "nginx", "-n", "described", "-o", "jsonpath={.metadata.uid}");
    String now =
        java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    Path event =
        write(
            "event.yaml",
            """
            apiVersion: v1
            kind: Event
            metadata: {name: nginx.1, namespace: described}
            involvedObject: {kind: Pod, name: nginx, namespace: described, uid: "%s"}
            reason: Scheduled
            message: Successfully assigned described/nginx to node-1
            type: Normal
            source: {component: default-scheduler}
            firstTimestamp: "%s"
            lastTimestamp: "%s"
            count: 1
            """
                .formatted(uid, now, now));
    assertThat(k.ok("apply", "-f", event.toString())).contains("event/nginx.1 created");
    assertThat(k.ok("describe", "pod", "nginx", "-n", "described"))
        .contains("Name:", "nginx", "Status:", "Pending", "Events:")
        .containsPattern(
            "Normal\\s+Scheduled\\s+\\S+\\s+default-scheduler\\s+Successfully assigned");
    assertThat(k.ok("get", "events", "-n", "described"))
        .containsPattern("LAST SEEN\\s+TYPE\\s+REASON\\s+OBJECT\\s+MESSAGE")
        .containsPattern("Normal\\s+Scheduled\\s+pod/nginx\\s+Successfully assigned");
    assertThat(k.ok("get", "pods", "-n", "described", "-o", "wide"))
        .containsPattern("nginx\\s+0/1\\s+Pending\\s+0\\s+\\d+s\\s+<none>\\s+<none>");
    assertThat(k.ok("delete", "pod", "nginx", "-n", "described")).contains("pod \"nginx\" deleted");
  }

  private static void copy(InputStream in, ByteArrayOutputStream out) {
    byte[] buf = new byte[4096];
    try {
      int n;
      while ((n = in.read(buf)) > 0) {
        synchronized (out) {
          out.write(buf, 0, n);
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("reading kubectl's output failed", e);
    }
  }
}
