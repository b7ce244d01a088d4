package dev.kubelite.apiserver.http;

import dev.kubelite.apiserver.api.ApiException;
import java.util.Locale;

/**
 * Content negotiation as kube-apiserver does it for the media types we serve: JSON, YAML, and the
 * meta.k8s.io transformations (Table, PartialObjectMetadata). Protobuf is accepted as an input for
 * creates; answers are JSON when a client also accepts JSON (kubectl always does).
 */
public final class Negotiation {
  private Negotiation() {}

  /** What the answer looks like. */
  public enum Output {
    JSON,
    YAML,
    TABLE,
    PARTIAL_METADATA
  }

  /** The first acceptable representation in the Accept header (kubectl orders them). */
  public static Output output(String accept) {
    if (accept == null || accept.isBlank()) {
      return Output.JSON;
    }
    boolean protobufOnly = false;
    for (String range : accept.split(",")) {
      String[] parts = range.trim().split(";");
      String type = parts[0].trim().toLowerCase(Locale.ROOT);
      String as = null;
      String g = null;
      for (int i = 1; i < parts.length; i++) {
        String[] kv = parts[i].trim().split("=", 2);
        if (kv.length == 2) {
          switch (kv[0].trim()) {
            case "as" -> as = kv[1].trim();
            case "g" -> g = kv[1].trim();
            default -> {}
          }
        }
      }
      if (type.equals("application/json") || type.equals("application/yaml")) {
        if (as == null) {
          return type.equals("application/json") ? Output.JSON : Output.YAML;
        }
        if ("meta.k8s.io".equals(g)) {
          if (as.equals("Table")) {
            return Output.TABLE;
          }
          if (as.equals("PartialObjectMetadata") || as.equals("PartialObjectMetadataList")) {
            return Output.PARTIAL_METADATA;
          }
        }
        continue;
      }
      if (type.equals("*/*") || type.equals("application/*")) {
        return Output.JSON;
      }
      if (type.equals("application/vnd.kubernetes.protobuf")) {
        protobufOnly = true;
      }
    }
    throw ApiException.notAcceptable(
        "only the following media types are accepted: application/json, application/yaml"
            + (protobufOnly
                ? " (protobuf answers are not served; accept application/json too)"
                : ""));
  }

  /** The base media type of a Content-Type header, lower case, without parameters. */
  public static String mediaType(String contentType) {
    if (contentType == null || contentType.isBlank()) {
      return "";
    }
    int semi = contentType.indexOf(';');
    return (semi < 0 ? contentType : contentType.substring(0, semi))
        .trim()
        .toLowerCase(Locale.ROOT);
  }
}
