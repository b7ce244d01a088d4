package dev.kubelite.apiserver.storage;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One change to a stored object, decoded. {@code object} is the new object for a put, or the last
 * object (with resourceVersion = the deletion's revision) for a delete; {@code previous} is the
 * object before the change, or null on creation. Objects are shared between watchers: read-only.
 */
public record ObjectEvent(
    Type type, String key, ObjectNode object, ObjectNode previous, long revision) {
  /** What happened to the key. */
  public enum Type {
    PUT,
    DELETE
  }
}
