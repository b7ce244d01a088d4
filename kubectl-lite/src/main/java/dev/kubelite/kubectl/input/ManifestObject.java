package dev.kubelite.kubectl.input;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.Discovery.ApiResource;
import dev.kubelite.kubectl.CliException;
import dev.kubelite.kubectl.Session;
import dev.kubelite.kubectl.output.ObjectPrinter;
import java.util.Optional;

/**
 * A manifest bound to the resource that serves its kind and to its namespace, as kubectl's resource
 * builder does: a namespaced object without a namespace takes {@code -n} (else the context's); one
 * with a namespace keeps it, unless {@code -n} names another (an error, as in kubectl); a
 * cluster-scoped object's namespace is dropped.
 */
public record ManifestObject(
    Manifest manifest, ApiResource resource, String namespace, ObjectNode object) {

  /**
   * Binds {@code m}; an unknown kind is an empty result with the message in {@code problem} (the
   * caller reports it and goes on with the other objects, as kubectl does), a namespace that
   * conflicts with {@code -n} is a {@link CliException}.
   */
  public static Optional<ManifestObject> bind(Session s, Manifest m, StringBuilder problem) {
    Optional<ApiResource> r = s.resources().discovery().forKind(m.apiVersion(), m.kind());
    if (r.isEmpty()) {
      problem.append(
          "resource mapping not found for name: \""
              + m.name()
              + "\" namespace: \""
              + m.namespace()
              + "\" from "
              + m.quotedSource()
              + (m.document() > 1 || m.item() > 0 ? " (" + where(m) + ")" : "")
              + ": no matches for kind \""
              + m.kind()
              + "\" in version \""
              + m.apiVersion()
              + "\"; ensure the API server serves it (kubectl-lite api-resources)");
      return Optional.empty();
    }
    ObjectNode obj = m.object().deepCopy();
    ObjectNode meta = obj.get("metadata") instanceof ObjectNode o ? o : obj.putObject("metadata");
    String namespace = null;
    if (r.get().resource().namespaced()) {
      String own = m.namespace();
      if (own.isEmpty()) {
        namespace = s.namespace();
        meta.put("namespace", namespace);
      } else {
        if (s.namespaceGiven() && !own.equals(s.namespace())) {
          throw new CliException(
              "the namespace from the provided object \""
                  + own
                  + "\" does not match the namespace \""
                  + s.namespace()
                  + "\". You must pass '--namespace="
                  + own
                  + "' to perform this operation.");
        }
        namespace = own;
      }
    } else {
      meta.remove("namespace");
    }
    return Optional.of(new ManifestObject(m, r.get(), namespace, obj));
  }

  private static String where(Manifest m) {
    return "document " + m.document() + (m.item() > 0 ? ", item " + m.item() : "");
  }

  /** metadata.name, or "" when the manifest has none (only generateName, say). */
  public String name() {
    return object.path("metadata").path("name").asText("");
  }

  /** The name for a missing-name message; the object's path otherwise. */
  public String path() {
    return resource.resource().path(namespace, name());
  }

  /** {@code deployment.apps/web}: how kubectl names it in {@code created}/{@code configured}. */
  public String displayName() {
    return ObjectPrinter.name(resource, name());
  }

  /** The name must be given for anything but {@code create} with {@code generateName}. */
  public void requireName(String verb) {
    if (name().isEmpty()) {
      throw new CliException(
          "error when "
              + verb
              + " "
              + manifest.location()
              + ": resource name may not be empty (set metadata.name)");
    }
  }
}
