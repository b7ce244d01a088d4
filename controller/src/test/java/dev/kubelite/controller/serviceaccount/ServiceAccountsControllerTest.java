package dev.kubelite.controller.serviceaccount;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Meta;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The "default" ServiceAccount of every namespace, through the real API server. */
class ServiceAccountsControllerTest {
  static Cluster cluster;
  static KubeClient c;
  static ServiceAccountsController controller;
  static final Duration DEADLINE = Duration.ofSeconds(30);
  static final Resource SA = ServiceAccountsController.SERVICE_ACCOUNTS;

  @BeforeAll
  static void start() throws Exception {
    cluster = new Cluster();
    c = cluster.client();
    controller = new ServiceAccountsController(c, 1);
    controller.start();
    await().atMost(DEADLINE).until(controller::hasSynced);
  }

  @AfterAll
  static void stop() {
    if (controller != null) {
      controller.close();
    }
    cluster.close();
  }

  static void namespace(String ns) {
    ObjectNode n = KubeClient.JSON.createObjectNode();
    n.putObject("metadata").put("name", ns);
    c.create(Resource.NAMESPACES, null, n);
  }

  static ObjectNode account(String ns) {
    try {
      return c.get(SA, ns, "default");
    } catch (ApiException e) {
      if (e.isNotFound()) {
        return null;
      }
      throw e;
    }
  }

  @Test
  void namespacesThatExistedAtStartGetTheirAccount() {
    for (String ns : new String[] {"default", "kube-system"}) {
      await().atMost(DEADLINE).until(() -> account(ns) != null);
    }
  }

  @Test
  void aNewNamespaceGetsItsAccountAndPodsRunAsIt() {
    namespace("sa-new");
    await().atMost(DEADLINE).until(() -> account("sa-new") != null);

    ObjectNode pod = KubeClient.JSON.createObjectNode();
    pod.putObject("metadata").put("name", "p");
    pod.putObject("spec").putArray("containers").addObject().put("name", "c").put("image", "x:1");
    ObjectNode created = c.create(Resource.PODS, "sa-new", pod);
    assertThat(created.path("spec").path("serviceAccountName").asText()).isEqualTo("default");
    assertThat(created.path("spec").path("serviceAccount").asText()).isEqualTo("default");

    // The deprecated field alone names the account too; both come back equal.
    ObjectNode other = pod.deepCopy();
    ((ObjectNode) other.path("metadata")).put("name", "q");
    ((ObjectNode) other.path("spec")).put("serviceAccount", "builder");
    ObjectNode named = c.create(Resource.PODS, "sa-new", other);
    assertThat(named.path("spec").path("serviceAccountName").asText()).isEqualTo("builder");
    assertThat(named.path("spec").path("serviceAccount").asText()).isEqualTo("builder");
  }

  @Test
  void aDeletedAccountIsMadeAgain() {
    namespace("sa-again");
    await().atMost(DEADLINE).until(() -> account("sa-again") != null);
    String uid = Meta.uid(account("sa-again"));
    c.delete(SA, "sa-again", "default");
    await()
        .atMost(DEADLINE)
        .until(
            () -> {
              ObjectNode now = account("sa-again");
              return now != null && !Meta.uid(now).equals(uid);
            });
  }

  @Test
  void aNamespaceBeingDeletedGetsNoNewAccount() {
    namespace("sa-going");
    await().atMost(DEADLINE).until(() -> account("sa-going") != null);
    // No namespace controller runs here: the namespace stays Terminating.
    c.delete(Resource.NAMESPACES, null, "sa-going");
    c.delete(SA, "sa-going", "default");
    await().atMost(DEADLINE).until(() -> account("sa-going") == null);
    // Whether the controller's cache shows the deletion yet or not (then the API server refuses
    // new content in a terminating namespace), nothing is made.
    controller.reconcile("sa-going");
    assertThat(account("sa-going")).isNull();
  }
}
