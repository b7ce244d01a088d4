package dev.kubelite.client;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One line of a watch stream: type ADDED, MODIFIED, DELETED, BOOKMARK or ERROR, and its object (a
 * Status for ERROR).
 */
public record WatchEvent(String type, ObjectNode object) {
  public boolean isError() {
    return "ERROR".equals(type);
  }

  public boolean isBookmark() {
    return "BOOKMARK".equals(type);
  }

  /** For an ERROR event: the Status as an exception. */
  public ApiException error() {
    return new ApiException(
        object.path("code").asInt(500),
        object.path("reason").asText("InternalError"),
        object.path("message").asText(""),
        object);
  }
}
