package dev.kubelite.apiserver.handler;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.auth.UserInfo;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code POST /apis/authentication.k8s.io/v1/selfsubjectreviews} (kubectl auth whoami): answers who
 * the API server authenticated the request as. Nothing is stored.
 */
public final class SelfSubjectReviews {
  public static final String PATH = "/apis/authentication.k8s.io/v1/selfsubjectreviews";

  private SelfSubjectReviews() {}

  public static boolean owns(String path) {
    return path.equals(PATH);
  }

  /** The review of {@code user}: kind SelfSubjectReview with status.userInfo. */
  public static ObjectNode review(UserInfo user) {
    ObjectNode r = Json.object();
    r.put("kind", "SelfSubjectReview");
    r.put("apiVersion", "authentication.k8s.io/v1");
    r.putObject("metadata").putNull("creationTimestamp");
    ObjectNode info = r.putObject("status").putObject("userInfo");
    info.put("username", user.name());
    if (!user.uid().isEmpty()) {
      info.put("uid", user.uid());
    }
    ArrayNode groups = info.putArray("groups");
    user.groups().forEach(groups::add);
    return r;
  }

  public static void handle(RoutingContext ctx) {
    if (!ctx.request().method().equals(HttpMethod.POST)) {
      throw ApiException.methodNotAllowed(
          "the server does not allow this method on the requested resource");
    }
    UserInfo user = ctx.get(UserInfo.CONTEXT_KEY);
    ctx.response()
        .setStatusCode(201)
        .putHeader("Content-Type", "application/json")
        .end(Buffer.buffer(Json.bytes(review(user))));
  }
}
