package dev.kubelite.apiserver.handler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.api.ProtobufBody;
import dev.kubelite.apiserver.http.Exchange;
import dev.kubelite.apiserver.http.Negotiation.Output;
import dev.kubelite.apiserver.registry.Registry;
import dev.kubelite.apiserver.registry.Registry.DeleteOptions;
import dev.kubelite.apiserver.registry.Registry.ListOptions;
import dev.kubelite.apiserver.storage.ObjectStorage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The verbs on a resource: get, list, create, update, delete, deletecollection. Each parses its
 * request, calls the {@link Registry}, and renders the answer (object, list or Table). Watch, patch
 * and the scale/binding subresources have their own handlers.
 */
public final class ResourceHandlers {
  private final Registry registry;

  public ResourceHandlers(Registry registry) {
    this.registry = registry;
  }

  public void get(Exchange ex) {
    if (ex.output() == Output.JSON) {
      // The stored JSON plus the resourceVersion, not parsed and written again.
      ex.complete(
          registry.getJson(ex.type(), ex.namespace(), ex.name()),
          json -> ex.replyJson(200, null, json));
      return;
    }
    ex.complete(
        registry.get(ex.type(), ex.namespace(), ex.name()),
        obj -> ex.reply(200, Render.object(ex, obj)));
  }

  public void list(Exchange ex) {
    ListOptions o = ListOptionsParser.parse(ex);
    ex.complete(
        registry.list(ex.type(), ex.namespace(), o),
        r ->
            ex.reply(
                200,
                Render.list(
                    ex,
                    r.cached() == null ? r.items() : null,
                    r.cached(),
                    r.revision(),
                    r.continueToken())));
  }

  public void create(Exchange ex) {
    Registry registry = DryRun.pick(ex, this.registry);
    FieldValidation.Mode mode = FieldValidation.mode(ex);
    ObjectNode obj = Bodies.object(ex);
    FieldValidation.checkBody(ex, mode, obj);
    ex.complete(
        registry.createSaved(
            ex.type(), ex.namespace(), obj, FieldManagers.updates(ex, "CreateOptions", null)),
        created -> Render.reply(ex, 201, created));
  }

  public void update(Exchange ex) {
    Registry registry = DryRun.pick(ex, this.registry);
    FieldValidation.Mode mode = FieldValidation.mode(ex);
    ObjectNode obj = Bodies.object(ex);
    FieldValidation.checkBody(ex, mode, obj);
    ex.complete(
        registry.updateSaved(
            ex.type(),
            ex.namespace(),
            ex.name(),
            ex.subresource(),
            obj,
            FieldManagers.updates(ex, "UpdateOptions", ex.subresource())),
        updated -> Render.reply(ex, 200, updated));
  }

  public void delete(Exchange ex) {
    ObjectNode body = deleteOptionsBody(ex);
    Registry registry = DryRun.pickForDelete(ex, body, this.registry);
    DeleteOptions o = deleteOptions(ex, body);
    ex.complete(
        registry.delete(ex.type(), ex.namespace(), ex.name(), o),
        d -> {
          if (d.gone()) {
            ex.reply(200, Registry.deletedStatus(ex.type(), d.object()));
          } else {
            ex.reply(200, Render.object(ex, d.object()));
          }
        });
  }

  /** DELETE on a collection: deletes every object the list options select; answers the list. */
  public void deleteCollection(Exchange ex) {
    ObjectNode body = deleteOptionsBody(ex);
    Registry registry = DryRun.pickForDelete(ex, body, this.registry);
    DeleteOptions o = deleteOptions(ex, body);
    ListOptions lo = ListOptionsParser.parse(ex);
    ListOptions all =
        new ListOptions(
            lo.labels(), lo.fields(), 0, null, lo.resourceVersion(), lo.resourceVersionMatch());
    ex.complete(
        registry
            .list(ex.type(), ex.namespace(), all)
            .thenCompose(
                r -> {
                  List<ObjectNode> deleted = new ArrayList<>();
                  CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
                  for (ObjectNode obj : r.items()) {
                    String ns = Json.text(obj, "metadata", "namespace");
                    String name = Json.text(obj, "metadata", "name");
                    chain =
                        chain.thenCompose(
                            v ->
                                registry
                                    .delete(ex.type(), ex.type().namespaced() ? ns : null, name, o)
                                    .handle(
                                        (d, e) -> {
                                          if (e != null) {
                                            ApiException a = ObjectStorage.translate(e);
                                            if (a.code() != 404) {
                                              throw a;
                                            }
                                          } else {
                                            deleted.add(d.object());
                                          }
                                          return null;
                                        }));
                  }
                  return chain.thenCompose(
                      v ->
                          registry
                              .storage()
                              .currentRevision()
                              .thenApply(rev -> new DeletedItems(deleted, rev)));
                }),
        res -> ex.reply(200, Render.list(ex, res.items(), res.revision(), null)));
  }

  private record DeletedItems(List<ObjectNode> items, long revision) {}

  /**
   * The DeleteOptions body as JSON, or null without one: JSON, YAML, or protobuf (kubectl drain's
   * typed client sends that).
   */
  static ObjectNode deleteOptionsBody(Exchange ex) {
    byte[] body = ex.body();
    if (body.length == 0) {
      return null;
    }
    String ct = ex.contentType();
    if (ct.equals(ProtobufBody.CONTENT_TYPE)) {
      return ProtobufBody.decode(body, "DeleteOptions");
    }
    if (ct.isEmpty() || ct.equals("application/json") || ct.equals("application/yaml")) {
      return Json.parseObject(body, ct.equals("application/yaml"));
    }
    throw ApiException.unsupportedMediaType(
        "DeleteOptions must be application/json, application/yaml or "
            + ProtobufBody.CONTENT_TYPE
            + ", got "
            + ct);
  }

  /**
   * DeleteOptions from the body ({@link #deleteOptionsBody}, null without one; kubectl always sends
   * one) and the query.
   */
  static DeleteOptions deleteOptions(Exchange ex, ObjectNode o) {
    Long grace = null;
    String uid = null;
    String rv = null;
    String policy = null;
    Boolean orphanDependents = null;
    if (o != null) {
      String kind = Json.text(o, "kind");
      if (kind != null && !kind.isEmpty() && !kind.equals("DeleteOptions")) {
        throw ApiException.badRequest("expected a DeleteOptions body, got kind " + kind);
      }
      JsonNode g = o.get("gracePeriodSeconds");
      if (g != null && !g.isNull()) {
        if (!g.canConvertToLong()) {
          throw ApiException.badRequest("gracePeriodSeconds must be an integer");
        }
        grace = g.asLong();
      }
      uid = Json.text(o, "preconditions", "uid");
      rv = Json.text(o, "preconditions", "resourceVersion");
      policy = Json.text(o, "propagationPolicy");
      JsonNode orphan = o.get("orphanDependents");
      if (orphan != null && !orphan.isNull()) {
        if (!orphan.isBoolean()) {
          throw ApiException.badRequest("orphanDependents must be true or false");
        }
        orphanDependents = orphan.asBoolean();
      }
    }
    String qp = ex.query("propagationPolicy");
    if (qp != null && !qp.isEmpty()) {
      policy = qp;
    }
    String qo = ex.query("orphanDependents");
    if (qo != null && !qo.isEmpty()) {
      if (!qo.equals("true") && !qo.equals("false")) {
        throw ApiException.badRequest("orphanDependents must be true or false, got \"" + qo + "\"");
      }
      orphanDependents = Boolean.parseBoolean(qo);
    }
    if (policy != null && !List.of("Orphan", "Background", "Foreground").contains(policy)) {
      throw ApiException.badRequest(
          "propagationPolicy must be one of Orphan, Background, Foreground; got " + policy);
    }
    if (policy != null && orphanDependents != null) {
      throw ApiException.unprocessable("orphanDependents and propagationPolicy cannot both be set");
    }
    String q = ex.query("gracePeriodSeconds");
    if (q != null && !q.isEmpty()) {
      try {
        grace = Long.parseLong(q);
      } catch (NumberFormatException e) {
        throw ApiException.badRequest("gracePeriodSeconds must be an integer, got \"" + q + "\"");
      }
    }
    return new DeleteOptions(
        grace,
        uid,
        rv,
        orphanDependents == null ? policy : orphanDependents ? "Orphan" : "Background");
  }
}
