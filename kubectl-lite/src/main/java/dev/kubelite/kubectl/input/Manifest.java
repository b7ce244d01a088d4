package dev.kubelite.kubectl.input;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One object read from a manifest: the object, the file it came from ({@code STDIN} for {@code -}),
 * and where in that file (1-based document number; for the items of a {@code List}, the item number
 * too, else 0).
 */
public record Manifest(ObjectNode object, String source, int document, int item) {
  /** {@code "deploy.yaml"}, as kubectl names the source in its messages. */
  public String quotedSource() {
    return "\"" + source + "\"";
  }

  /** {@code deploy.yaml (document 2)}, {@code list.yaml (document 1, item 3)}: for messages. */
  public String location() {
    return source + " (document " + document + (item > 0 ? ", item " + item : "") + ")";
  }

  public String apiVersion() {
    return object.path("apiVersion").asText("");
  }

  public String kind() {
    return object.path("kind").asText("");
  }

  public String name() {
    return object.path("metadata").path("name").asText("");
  }

  /** The namespace the manifest names, or "" when it names none. */
  public String namespace() {
    return object.path("metadata").path("namespace").asText("");
  }
}
