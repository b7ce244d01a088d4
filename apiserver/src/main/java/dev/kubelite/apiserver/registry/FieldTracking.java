package dev.kubelite.apiserver.registry;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What a write records in {@code metadata.managedFields}: called with the stored object ({@code
 * null} on create) and the object about to be written (after defaulting and the subresource rules),
 * which it may update, and the write's time (RFC 3339, seconds).
 */
@FunctionalInterface
public interface FieldTracking {
  void track(ObjectNode old, ObjectNode written, String time);
}
