package dev.kubelite.apiserver;

import dev.kubelite.apiserver.testing.ApiServerFixture;

/** The REST API contract against Kubelite's own store, in process (the embedded client). */
class RestApiOnStoreTest extends RestApiContract {
  @Override
  ApiServerFixture.Backend backend() {
    return ApiServerFixture.Backend.EMBEDDED;
  }
}
