package dev.kubelite.apiserver.storage;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;

/**
 * One change to a stored object, decoded. {@code object} is the new object for a put, or the last
 * object (with resourceVersion = the deletion's revision) for a delete; {@code previous} is the
 * object before the change, or null on creation. Both are kept in the watch cache's compact form
 * ({@link CachedObject}: JSON, labels and selectable fields; a tree is parsed on demand), shared
 * between watchers.
 *
 * <p>The event also keeps its watch-stream line ({@code {"type":…,"object":…}\n}) once one watcher
 * has serialised it, so a thousand watchers cost one serialisation, not a thousand. Only the events
 * in a watch cache's window and those on their way to watchers are kept: the cache's objects are
 * {@link CachedObject}s, without lines.
 */
public final class ObjectEvent {
  /** What happened to the key. */
  public enum Type {
    PUT,
    DELETE
  }

  private final Type type;
  private final String key;
  private final CachedObject object;
  private final CachedObject previous;
  private final long revision;

  /** The watch lines for ADDED, MODIFIED, DELETED, once asked for. */
  private final byte[][] lines = new byte[3][];

  public ObjectEvent(
      Type type, String key, CachedObject object, CachedObject previous, long revision) {
    this.type = type;
    this.key = key;
    this.object = object;
    this.previous = previous;
    this.revision = revision;
  }

  public Type type() {
    return type;
  }

  public String key() {
    return key;
  }

  /** The object after the change (see the class comment), compact. */
  public CachedObject cached() {
    return object;
  }

  /** The object before the change, compact; null on creation. */
  public CachedObject previousCached() {
    return previous;
  }

  /** {@link #cached} as a tree of the caller's own (parsed on each call). */
  public ObjectNode object() {
    return object.object();
  }

  /** {@link #previousCached} as a tree of the caller's own (parsed on each call), or null. */
  public ObjectNode previous() {
    return previous == null ? null : previous.object();
  }

  public long revision() {
    return revision;
  }

  /** {@link #object} as JSON (shared: read-only). */
  public byte[] objectJson() {
    return object.json();
  }

  /**
   * The JSON watch event line for {@link #object} as {@code watchType} (ADDED, MODIFIED or
   * DELETED), newline-terminated: byte for byte what serialising {@code {"type": watchType,
   * "object": object}} gives. Computed once per event and type, then shared (read-only).
   */
  public byte[] watchLine(String watchType) {
    int i =
        switch (watchType) {
          case "ADDED" -> 0;
          case "MODIFIED" -> 1;
          case "DELETED" -> 2;
          default ->
              throw new IllegalArgumentException("not a cached watch event type: " + watchType);
        };
    byte[] line;
    synchronized (lines) {
      line = lines[i];
    }
    if (line != null) {
      return line;
    }
    byte[] obj = objectJson();
    byte[] head = ("{\"type\":\"" + watchType + "\",\"object\":").getBytes(StandardCharsets.UTF_8);
    line = new byte[head.length + obj.length + 2];
    System.arraycopy(head, 0, line, 0, head.length);
    System.arraycopy(obj, 0, line, head.length, obj.length);
    line[line.length - 2] = '}';
    line[line.length - 1] = '\n';
    synchronized (lines) {
      if (lines[i] == null) {
        lines[i] = line;
      }
      return lines[i];
    }
  }

  @Override
  public String toString() {
    return "ObjectEvent[" + type + " " + key + " @" + revision + "]";
  }
}
