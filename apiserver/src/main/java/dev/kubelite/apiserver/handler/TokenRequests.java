package dev.kubelite.apiserver.handler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.api.ProtobufBody;
import dev.kubelite.apiserver.auth.ServiceAccountTokens;
import dev.kubelite.apiserver.http.Exchange;
import dev.kubelite.apiserver.registry.Registry;
import java.security.PrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token} (TokenRequest,
 * authentication.k8s.io/v1; {@code kubectl create token}): a ServiceAccount token signed with
 * {@code --service-account-signing-key-file}, for the audiences asked (default: the issuer) and
 * {@code spec.expirationSeconds} (default 3600, at least 600). Nothing is stored. Tokens bound to a
 * Pod or Secret ({@code spec.boundObjectRef}) are not offered.
 */
public final class TokenRequests {
  static final long DEFAULT_EXPIRATION_SECONDS = 3600;
  static final long MIN_EXPIRATION_SECONDS = 600;

  private final Registry registry;
  private final PrivateKey signingKey;
  private final String issuer;
  private final List<String> defaultAudiences;
  private final Clock clock;

  public TokenRequests(
      Registry registry,
      PrivateKey signingKey,
      String issuer,
      List<String> defaultAudiences,
      Clock clock) {
    this.registry = registry;
    this.signingKey = signingKey;
    this.issuer = issuer;
    this.defaultAudiences = List.copyOf(defaultAudiences);
    this.clock = clock;
  }

  public void create(Exchange ex) {
    byte[] body = ex.body();
    ObjectNode req =
        body.length == 0
            ? Json.object()
            : ex.contentType().equals("application/vnd.kubernetes.protobuf")
                ? ProtobufBody.decode(body, "TokenRequest")
                : Json.parseObject(body, ex.contentType().equals("application/yaml"));
    String kind = Json.text(req, "kind");
    if (kind != null && !kind.isEmpty() && !kind.equals("TokenRequest")) {
      throw ApiException.badRequest("expected a TokenRequest, got kind " + kind);
    }
    JsonNode spec = req.path("spec");
    if (spec.hasNonNull("boundObjectRef")) {
      throw ApiException.badRequest(
          "spec.boundObjectRef: tokens bound to a Pod or Secret are not supported by this API"
              + " server; ask for an unbound token");
    }
    long seconds =
        spec.hasNonNull("expirationSeconds")
            ? spec.path("expirationSeconds").asLong()
            : DEFAULT_EXPIRATION_SECONDS;
    if (seconds < MIN_EXPIRATION_SECONDS) {
      throw ApiException.invalid(
          "authentication.k8s.io",
          "TokenRequest",
          ex.name(),
          List.of(
              new ApiException.Cause(
                  "FieldValueInvalid",
                  "spec.expirationSeconds",
                  "may not specify a duration less than 10 minutes")));
    }
    List<String> audiences = new ArrayList<>();
    spec.path("audiences").forEach(a -> audiences.add(a.asText()));
    if (audiences.isEmpty()) {
      audiences.addAll(defaultAudiences);
    }
    ex.complete(
        registry.get(ex.type(), ex.namespace(), ex.name()),
        sa -> {
          String uid = Json.text(sa, "metadata", "uid");
          Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
          Duration ttl = Duration.ofSeconds(seconds);
          String token =
              ServiceAccountTokens.sign(
                  signingKey, issuer, audiences, ex.namespace(), ex.name(), uid, now, ttl);
          ObjectNode out = Json.object();
          out.put("kind", "TokenRequest");
          out.put("apiVersion", "authentication.k8s.io/v1");
          ObjectNode meta = out.putObject("metadata");
          meta.put("name", ex.name());
          meta.put("namespace", ex.namespace());
          meta.put("creationTimestamp", now.toString());
          ObjectNode outSpec = out.putObject("spec");
          ArrayNode aud = outSpec.putArray("audiences");
          audiences.forEach(aud::add);
          outSpec.put("expirationSeconds", seconds);
          outSpec.putNull("boundObjectRef");
          ObjectNode status = out.putObject("status");
          status.put("token", token);
          status.put("expirationTimestamp", now.plus(ttl).toString());
          ex.reply(201, out);
        });
  }
}
