package dev.kubelite.apiserver;

import dev.kubelite.apiserver.testing.ApiServerFixture;

/** The same REST API contract against a real etcd 3.4 process, over etcd's gRPC API. */
class RestApiOnEtcdTest extends RestApiContract {
  @Override
  ApiServerFixture.Backend backend() {
    return ApiServerFixture.Backend.REMOTE_ETCD;
  }
}
