package dev.kubelite.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.client.testing.Cluster;
import org.junit.jupiter.api.Test;

class DiscoveryTest {
  @Test
  void readsEveryServedResourceWithKindScopeAndVerbs() throws Exception {
    try (Cluster cluster = new Cluster()) {
      Discovery d = Discovery.load(cluster.client());
      Discovery.ApiResource rs = d.forKind("apps/v1", "ReplicaSet").orElseThrow();
      assertThat(rs.resource()).isEqualTo(Resource.REPLICASETS);
      assertThat(rs.supports("list", "watch", "delete", "deletecollection")).isTrue();
      assertThat(d.forKind("v1", "Namespace").orElseThrow().resource())
          .isEqualTo(Resource.NAMESPACES);
      assertThat(d.forKind("coordination.k8s.io/v1", "Lease").orElseThrow().resource())
          .isEqualTo(Resource.LEASES);
      assertThat(d.forKind("v1", "ReplicaSet")).isEmpty();
      // Subresources (pods/status, namespaces/finalize) are not resources of their own.
      assertThat(d.resources()).noneMatch(r -> r.resource().resource().contains("/"));
      assertThat(d.resources().stream().filter(r -> r.resource().namespaced()).count())
          .isGreaterThanOrEqualTo(8);
    }
  }
}
