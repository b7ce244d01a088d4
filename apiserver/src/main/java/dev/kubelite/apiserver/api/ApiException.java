package dev.kubelite.apiserver.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * A request that failed the way Kubernetes reports failures: an HTTP code, a {@code reason} and a
 * message, answered as a {@code Status} object (see {@link #toStatus()}). Thrown anywhere between
 * the router and the store; the HTTP layer turns it into the response.
 */
public final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** One entry of {@code details.causes}: what is wrong with which field. */
  public record Cause(String reason, String field, String message) {}

  private final int code;
  private final String reason;
  private final String detailsName;
  private final String detailsGroup;
  private final String detailsKind;
  private final List<Cause> causes;
  private final Integer retryAfterSeconds;

  private ApiException(
      int code,
      String reason,
      String message,
      String name,
      String group,
      String kind,
      List<Cause> causes,
      Integer retryAfterSeconds) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.detailsName = name;
    this.detailsGroup = group;
    this.detailsKind = kind;
    this.causes = causes == null ? List.of() : List.copyOf(causes);
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public int code() {
    return code;
  }

  public String reason() {
    return reason;
  }

  public List<Cause> causes() {
    return causes;
  }

  /** Seconds the client should wait before retrying (sent as {@code Retry-After}), or null. */
  public Integer retryAfterSeconds() {
    return retryAfterSeconds;
  }

  // ------------------------------------------------------------------ the reasons k8s uses

  /** 404: {@code pods "x" not found}. */
  public static ApiException notFound(String group, String resource, String name) {
    return new ApiException(
        404,
        "NotFound",
        qualified(group, resource) + " \"" + name + "\" not found",
        name,
        group,
        resource,
        null,
        null);
  }

  /** 404 for a path nothing is served on. */
  public static ApiException noRoute() {
    return new ApiException(
        404,
        "NotFound",
        "the server could not find the requested resource",
        null,
        null,
        null,
        null,
        null);
  }

  /** 409 on create: {@code pods "x" already exists}. */
  public static ApiException alreadyExists(String group, String resource, String name) {
    return new ApiException(
        409,
        "AlreadyExists",
        qualified(group, resource) + " \"" + name + "\" already exists",
        name,
        group,
        resource,
        null,
        null);
  }

  /** 409 on a stale resourceVersion (or another precondition). */
  public static ApiException conflict(String group, String resource, String name, String why) {
    return new ApiException(
        409,
        "Conflict",
        "Operation cannot be fulfilled on "
            + qualified(group, resource)
            + " \""
            + name
            + "\": "
            + why,
        name,
        group,
        resource,
        null,
        null);
  }

  /**
   * 409 Conflict of a server-side apply with other field managers: one {@code FieldManagerConflict}
   * cause per field (Kubernetes' NewApplyConflict).
   */
  public static ApiException applyConflict(List<Cause> causes, String message) {
    return new ApiException(409, "Conflict", message, null, null, null, causes, null);
  }

  /**
   * 409 Conflict: the object's stored value cannot be read with this server's encryption
   * configuration (kube-apiserver answers 500 "unable to transform key"; see decision 0093).
   */
  public static ApiException storedValueUnreadable(String message) {
    return new ApiException(409, "Conflict", message, null, null, null, null, null);
  }

  /** The message k8s gives for an update or delete with a stale resourceVersion. */
  public static final String MODIFIED =
      "the object has been modified; please apply your changes to the latest version and try again";

  /** 422: {@code Pod "X" is invalid: field: message, ...}. */
  public static ApiException invalid(String group, String kind, String name, List<Cause> causes) {
    StringBuilder m = new StringBuilder();
    m.append(group == null || group.isEmpty() ? kind : kind + "." + group);
    m.append(" \"").append(name == null ? "" : name).append("\" is invalid: ");
    if (causes.size() == 1) {
      m.append(causes.get(0).field()).append(": ").append(causes.get(0).message());
    } else {
      m.append('[');
      for (int i = 0; i < causes.size(); i++) {
        if (i > 0) {
          m.append(", ");
        }
        m.append(causes.get(i).field()).append(": ").append(causes.get(i).message());
      }
      m.append(']');
    }
    return new ApiException(422, "Invalid", m.toString(), name, group, kind, causes, null);
  }

  /** 422 without field causes (a patch that cannot be applied). */
  public static ApiException unprocessable(String message) {
    return new ApiException(422, "Invalid", message, null, null, null, null, null);
  }

  /** 401: the request carries no credentials the API server accepts. */
  public static ApiException unauthorized() {
    return new ApiException(401, "Unauthorized", "Unauthorized", null, null, null, null, null);
  }

  public static ApiException badRequest(String message) {
    return new ApiException(400, "BadRequest", message, null, null, null, null, null);
  }

  public static ApiException forbidden(String group, String resource, String name, String why) {
    return new ApiException(
        403,
        "Forbidden",
        qualified(group, resource)
            + (name == null || name.isEmpty() ? "" : " \"" + name + "\"")
            + " is forbidden: "
            + why,
        name,
        group,
        resource,
        null,
        null);
  }

  /** 403 for a request that names no resource: {@code forbidden: User "x" cannot get path ...}. */
  public static ApiException forbidden(String why) {
    return new ApiException(403, "Forbidden", "forbidden: " + why, null, null, null, null, null);
  }

  public static ApiException methodNotAllowed(String message) {
    return new ApiException(405, "MethodNotAllowed", message, null, null, null, null, null);
  }

  public static ApiException notAcceptable(String message) {
    return new ApiException(406, "NotAcceptable", message, null, null, null, null, null);
  }

  public static ApiException unsupportedMediaType(String message) {
    return new ApiException(415, "UnsupportedMediaType", message, null, null, null, null, null);
  }

  public static ApiException tooLarge(String message) {
    return new ApiException(413, "RequestEntityTooLarge", message, null, null, null, null, null);
  }

  /** 410 Gone, reason Expired: the resourceVersion or continue token is compacted away. */
  public static ApiException expired(String message) {
    return new ApiException(410, "Expired", message, null, null, null, null, null);
  }

  /** 504: the store did not answer in time; the outcome of a write is unknown. */
  public static ApiException timeout(String message) {
    return new ApiException(504, "Timeout", message, null, null, null, null, 1);
  }

  /**
   * 504 from the request timeout ({@code --request-timeout}, the {@code timeout} query parameter):
   * the message of Kubernetes' timeout filter, no retry hint.
   */
  public static ApiException requestTimeout() {
    return new ApiException(
        504,
        "Timeout",
        "Timeout: request did not complete within requested timeout - context deadline exceeded",
        null,
        null,
        null,
        null,
        null);
  }

  /** 429: too many requests in flight; the client may retry after {@code retryAfter} seconds. */
  public static ApiException tooManyRequests(String message, int retryAfter) {
    return new ApiException(429, "TooManyRequests", message, null, null, null, null, retryAfter);
  }

  /** 503: the store cannot be reached. */
  public static ApiException unavailable(String message) {
    return new ApiException(503, "ServiceUnavailable", message, null, null, null, null, 1);
  }

  /** 500: a bug or an unexpected store answer. */
  public static ApiException internal(String message) {
    return new ApiException(500, "InternalError", message, null, null, null, null, null);
  }

  private static String qualified(String group, String resource) {
    return group == null || group.isEmpty() ? resource : resource + "." + group;
  }

  /** The {@code Status} object Kubernetes answers with. */
  public ObjectNode toStatus() {
    ObjectNode s = Json.object();
    s.put("kind", "Status");
    s.put("apiVersion", "v1");
    s.putObject("metadata");
    s.put("status", "Failure");
    s.put("message", getMessage());
    s.put("reason", reason);
    if (detailsName != null
        || detailsKind != null
        || !causes.isEmpty()
        || retryAfterSeconds != null) {
      ObjectNode d = s.putObject("details");
      if (detailsName != null) {
        d.put("name", detailsName);
      }
      if (detailsGroup != null && !detailsGroup.isEmpty()) {
        d.put("group", detailsGroup);
      }
      if (detailsKind != null) {
        d.put("kind", detailsKind);
      }
      if (!causes.isEmpty()) {
        ArrayNode cs = d.putArray("causes");
        for (Cause c : causes) {
          ObjectNode cn = cs.addObject();
          cn.put("reason", c.reason());
          cn.put("message", c.message());
          cn.put("field", c.field());
        }
      }
      if (retryAfterSeconds != null) {
        d.put("retryAfterSeconds", retryAfterSeconds);
      }
    }
    s.put("code", code);
    return s;
  }
}
