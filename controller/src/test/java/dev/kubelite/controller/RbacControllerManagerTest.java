package dev.kubelite.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Every controller as {@code system:kube-controller-manager} through an API server with Node,RBAC
 * authorization: leader election, Deployment → ReplicaSet → Pods, the default ServiceAccount,
 * garbage collection and namespace deletion work with the bootstrap role; creating a Secret does
 * not.
 */
class RbacControllerManagerTest {
  static ObjectNode json(String s) throws Exception {
    return (ObjectNode) KubeClient.JSON.readTree(s.replace('\'', '"'));
  }

  @Test
  void controllersWorkWithTheirOwnIdentity() throws Exception {
    try (Cluster cluster = Cluster.secured()) {
      KubeClient admin = cluster.client("admin");
      KubeClient own = cluster.client("controller-manager");
      admin.create(Resource.NAMESPACES, null, json("{'metadata':{'name':'rbac-cm'}}"));
      try (ControllerManager m =
          new ControllerManager(
              own,
              ControllerManager.known(),
              new ControllerManager.Election(
                  "cm-rbac",
                  Duration.ofSeconds(4),
                  Duration.ofSeconds(3),
                  Duration.ofMillis(500)))) {
        m.start();
        await().atMost(Duration.ofSeconds(30)).until(m::hasSynced);
        admin.create(
            Resource.DEPLOYMENTS,
            "rbac-cm",
            json(
                """
                {'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},
                 'spec':{'replicas':2,'selector':{'matchLabels':{'app':'web'}},
                  'template':{'metadata':{'labels':{'app':'web'}},
                   'spec':{'containers':[{'name':'main','image':'nginx:1.27'}]}}}}"""));
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    admin
                            .list(Resource.PODS, "rbac-cm", ListOptions.labels("app=web"))
                            .path("items")
                            .size()
                        == 2);
        // The service account controller makes the namespace's "default" account.
        Resource serviceAccounts = new Resource("", "v1", "serviceaccounts", true);
        await()
            .atMost(Duration.ofSeconds(30))
            .ignoreExceptions()
            .until(() -> admin.get(serviceAccounts, "rbac-cm", "default") != null);
        admin.delete(Resource.DEPLOYMENTS, "rbac-cm", "web", null);
        // The garbage collector removes the ReplicaSet and its pods.
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    admin
                            .list(Resource.REPLICASETS, "rbac-cm", ListOptions.NONE)
                            .path("items")
                            .isEmpty()
                        && admin
                            .list(Resource.PODS, "rbac-cm", ListOptions.NONE)
                            .path("items")
                            .isEmpty());
        // The namespace controller empties and finalizes a deleted namespace.
        admin.delete(Resource.NAMESPACES, null, "rbac-cm", null);
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () -> {
                  try {
                    admin.get(Resource.NAMESPACES, null, "rbac-cm");
                    return false;
                  } catch (ApiException e) {
                    return e.isNotFound();
                  }
                });
      }
      assertThatThrownBy(
              () ->
                  own.create(
                      Resource.CONFIGMAPS,
                      "default",
                      json("{'metadata':{'name':'not-mine'},'data':{'a':'b'}}")))
          .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo(403));
    }
  }
}
