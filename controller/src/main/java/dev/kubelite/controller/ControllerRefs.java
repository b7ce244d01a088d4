package dev.kubelite.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Meta;
import dev.kubelite.client.PatchType;
import dev.kubelite.client.Resource;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Controller references ({@code ownerReferences} with {@code controller: true}) and the claim step
 * of workload controllers, as Kubernetes' ControllerRefManager does it: an owner keeps the objects
 * it controls that still match its selector, releases those that stopped matching (removes its
 * reference), and adopts matching orphans (adds a controller reference with {@code
 * blockOwnerDeletion}). Objects controlled by someone else are never touched.
 */
public final class ControllerRefs {
  private ControllerRefs() {}

  /** The controller reference of {@code obj}, or null for an orphan. */
  public static JsonNode controllerOf(JsonNode obj) {
    for (JsonNode ref : obj.path("metadata").path("ownerReferences")) {
      if (ref.path("controller").asBoolean(false)) {
        return ref;
      }
    }
    return null;
  }

  /** The uid of the controller of {@code obj}, or null. */
  public static String controllerUid(JsonNode obj) {
    JsonNode ref = controllerOf(obj);
    return ref == null ? null : ref.path("uid").asText(null);
  }

  /**
   * A controller reference to {@code owner} ({@code controller} and {@code blockOwnerDeletion}).
   */
  public static ObjectNode reference(JsonNode owner, String apiVersion, String kind) {
    ObjectNode ref = KubeClient.JSON.createObjectNode();
    ref.put("apiVersion", apiVersion)
        .put("kind", kind)
        .put("name", Meta.name(owner))
        .put("uid", Meta.uid(owner))
        .put("controller", true)
        .put("blockOwnerDeletion", true);
    return ref;
  }

  /** What a claim did, for the reconcile log line. */
  public record Claimed(List<ObjectNode> owned, List<String> adopted, List<String> released) {}

  /**
   * Claims {@code candidates} (objects in the owner's namespace) for {@code owner}.
   *
   * @param canAdopt checked once, before the first adoption: a fresh read that the owner still
   *     exists with the same uid and is not being deleted (Kubernetes' RecheckDeletionTimestamp)
   */
  public static Claimed claim(
      KubeClient client,
      Resource childResource,
      ObjectNode owner,
      String ownerApiVersion,
      String ownerKind,
      LabelSelector selector,
      List<ObjectNode> candidates,
      Supplier<Boolean> canAdopt) {
    String uid = Meta.uid(owner);
    boolean ownerDeleting = Meta.isBeingDeleted(owner);
    List<ObjectNode> owned = new ArrayList<>();
    List<String> adopted = new ArrayList<>();
    List<String> released = new ArrayList<>();
    Boolean adoptable = null;
    for (ObjectNode o : candidates) {
      JsonNode ref = controllerOf(o);
      boolean matches = selector.matches(Meta.labels(o));
      if (ref != null) {
        if (!uid.equals(ref.path("uid").asText())) {
          continue; // someone else's
        }
        if (matches) {
          owned.add(o);
        } else if (!ownerDeleting && !Meta.isBeingDeleted(o)) {
          if (release(client, childResource, o, uid)) {
            released.add(Meta.name(o));
          }
        }
        continue;
      }
      if (!matches || ownerDeleting || Meta.isBeingDeleted(o)) {
        continue;
      }
      if (adoptable == null) {
        adoptable = canAdopt.get();
      }
      if (!adoptable) {
        continue;
      }
      ObjectNode after =
          adopt(client, childResource, o, reference(owner, ownerApiVersion, ownerKind));
      if (after != null) {
        owned.add(after);
        adopted.add(Meta.name(o));
      }
    }
    return new Claimed(owned, adopted, released);
  }

  /** Adds the controller reference; null if the object is gone. A stale cache is a 409. */
  private static ObjectNode adopt(KubeClient client, Resource r, ObjectNode o, ObjectNode ref) {
    ObjectNode patch = KubeClient.JSON.createObjectNode();
    ObjectNode meta = patch.putObject("metadata");
    meta.putArray("ownerReferences").add(ref);
    meta.put("uid", Meta.uid(o)).put("resourceVersion", Meta.resourceVersion(o));
    try {
      return client.patch(r, Meta.namespace(o), Meta.name(o), PatchType.STRATEGIC, patch);
    } catch (ApiException e) {
      if (e.isNotFound()) {
        return null;
      }
      throw e;
    }
  }

  /** Removes the owner's reference; false if the object is gone. A stale cache is a 409. */
  private static boolean release(KubeClient client, Resource r, ObjectNode o, String ownerUid) {
    ObjectNode patch = KubeClient.JSON.createObjectNode();
    ObjectNode meta = patch.putObject("metadata");
    meta.putArray("ownerReferences").addObject().put("$patch", "delete").put("uid", ownerUid);
    meta.put("uid", Meta.uid(o)).put("resourceVersion", Meta.resourceVersion(o));
    try {
      client.patch(r, Meta.namespace(o), Meta.name(o), PatchType.STRATEGIC, patch);
      return true;
    } catch (ApiException e) {
      if (e.isNotFound()) {
        return false;
      }
      throw e;
    }
  }

  /**
   * The fresh-read check before adopting: the owner still exists with this uid and is not being
   * deleted.
   */
  public static boolean stillOwner(KubeClient client, Resource ownerResource, ObjectNode owner) {
    try {
      ObjectNode fresh = client.get(ownerResource, Meta.namespace(owner), Meta.name(owner));
      return Meta.uid(owner).equals(Meta.uid(fresh)) && !Meta.isBeingDeleted(fresh);
    } catch (ApiException e) {
      if (e.isNotFound()) {
        return false;
      }
      throw e;
    }
  }
}
