package dev.kubelite.apiserver.handler;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.http.Exchange;
import dev.kubelite.apiserver.registry.ResourceTable;
import dev.kubelite.apiserver.registry.ResourceType;
import dev.kubelite.apiserver.storage.EncryptionMaintenance;
import dev.kubelite.apiserver.storage.ObjectStorage;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Encryption at rest maintenance, outside the Kubernetes API (docs/encryption-at-rest.md): {@code
 * GET /kubelite/v1/encryption/status} (per resource, how many values are stored with which provider
 * prefix, and how many are stale) and {@code POST /kubelite/v1/encryption/rewrite} (rewrites every
 * stale value of the configured resources with the current write key, after a key rotation). {@code
 * ?resource=secrets} (repeatable, or comma-separated) limits either to those resources.
 */
public final class EncryptionEndpoints {
  public static final String ROOT = "/kubelite/v1/encryption";
  public static final String STATUS = ROOT + "/status";
  public static final String REWRITE = ROOT + "/rewrite";

  private final ResourceTable table;
  private final ObjectStorage storage;
  private final EncryptionMaintenance maintenance;

  public EncryptionEndpoints(ResourceTable table, ObjectStorage storage) {
    this.table = table;
    this.storage = storage;
    this.maintenance = new EncryptionMaintenance(storage);
  }

  /** Whether {@code path} (normalized, no trailing slash) is one of these endpoints. */
  public static boolean owns(String path) {
    return path.equals(ROOT) || path.startsWith(ROOT + "/");
  }

  public void handle(RoutingContext ctx, String path) {
    HttpMethod method = ctx.request().method();
    switch (path) {
      case STATUS -> {
        if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
          throw ApiException.methodNotAllowed(
              "the server does not allow this method on the requested resource ("
                  + method
                  + "): use GET "
                  + STATUS);
        }
        answer(ctx, maintenance.status(resources(ctx, false)));
      }
      case REWRITE -> {
        if (!method.equals(HttpMethod.POST)) {
          throw ApiException.methodNotAllowed(
              "the server does not allow this method on the requested resource ("
                  + method
                  + "): use POST "
                  + REWRITE);
        }
        answer(ctx, maintenance.rewrite(resources(ctx, true)));
      }
      default -> throw ApiException.noRoute();
    }
  }

  /**
   * The resources asked for ({@code ?resource=}, as {@code secrets} or {@code deployments.apps}),
   * else every served resource, or for a rewrite every resource the configuration encrypts.
   */
  private List<EncryptionMaintenance.Resource> resources(RoutingContext ctx, boolean configured) {
    List<String> asked = new ArrayList<>();
    for (String v : ctx.queryParam("resource")) {
      for (String s : v.split(",")) {
        if (!s.isBlank()) {
          asked.add(s.trim());
        }
      }
    }
    Set<String> encrypted = Set.copyOf(storage.transformers().configuredPrefixes());
    List<EncryptionMaintenance.Resource> out = new ArrayList<>();
    for (ResourceType t : table.all()) {
      boolean wanted =
          asked.isEmpty()
              ? !configured || encrypted.contains(t.keyPrefix())
              : asked.contains(t.qualifiedName());
      if (wanted) {
        out.add(new EncryptionMaintenance.Resource(t.qualifiedName(), t.keyPrefix()));
      }
    }
    for (String a : asked) {
      if (table.all().stream().noneMatch(t -> t.qualifiedName().equals(a))) {
        throw ApiException.badRequest(
            "unknown resource \""
                + a
                + "\": name a served resource as the encryption configuration does (secrets,"
                + " deployments.apps)");
      }
    }
    return out;
  }

  private static void answer(RoutingContext ctx, CompletableFuture<ObjectNode> f) {
    Future.fromCompletionStage(f, ctx.vertx().getOrCreateContext())
        .onComplete(
            ar -> {
              if (ar.failed()) {
                Exchange.fail(ctx, ObjectStorage.translate(ar.cause()));
                return;
              }
              HttpServerResponse resp = ctx.response();
              if (resp.ended() || resp.closed()) {
                return;
              }
              resp.setStatusCode(200)
                  .putHeader("Content-Type", "application/json")
                  .putHeader("Cache-Control", "no-cache, private")
                  .end(Buffer.buffer(Json.bytes(ar.result())));
            });
  }
}
