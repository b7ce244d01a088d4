package dev.kubelite.apiserver.patch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * RFC 6902 JSON Patch ({@code application/json-patch+json}): add, remove, replace, move, copy,
 * test.
 */
public final class JsonPatch {
  private JsonPatch() {}

  /** Applies {@code patch} (an array of operations) to a copy of {@code target}. */
  public static JsonNode apply(JsonNode target, JsonNode patch) {
    if (!patch.isArray()) {
      throw new PatchException("a JSON patch must be an array of operations");
    }
    JsonNode doc = target.deepCopy();
    for (JsonNode op : patch) {
      if (!op.isObject()) {
        throw new PatchException("each JSON patch operation must be an object");
      }
      String name = op.path("op").asText("");
      String path = text(op, "path");
      switch (name) {
        case "add" -> doc = add(doc, path, value(op));
        case "remove" -> doc = remove(doc, path);
        case "replace" -> {
          get(doc, path);
          doc = remove(doc, path);
          doc = add(doc, path, value(op));
        }
        case "move" -> {
          String from = text(op, "from");
          if (path.startsWith(from + "/")) {
            throw new PatchException(
                "cannot move \"" + from + "\" into its own child \"" + path + "\"");
          }
          JsonNode v = get(doc, from);
          doc = remove(doc, from);
          doc = add(doc, path, v);
        }
        case "copy" -> doc = add(doc, path, get(doc, text(op, "from")).deepCopy());
        case "test" -> {
          if (!get(doc, path).equals(value(op))) {
            throw new PatchException("testing value " + path + " failed");
          }
        }
        default -> throw new PatchException("unknown JSON patch operation \"" + name + "\"");
      }
    }
    return doc;
  }

  private static String text(JsonNode op, String field) {
    JsonNode n = op.get(field);
    if (n == null || !n.isTextual()) {
      throw new PatchException("operation " + op + " needs a string \"" + field + "\"");
    }
    return n.asText();
  }

  private static JsonNode value(JsonNode op) {
    if (!op.has("value")) {
      throw new PatchException("operation " + op + " needs a \"value\"");
    }
    return op.get("value").deepCopy();
  }

  private static List<String> tokens(String path) {
    if (path.isEmpty()) {
      return List.of();
    }
    if (!path.startsWith("/")) {
      throw new PatchException("JSON pointer \"" + path + "\" must start with '/'");
    }
    List<String> out = new ArrayList<>();
    for (String t : path.substring(1).split("/", -1)) {
      out.add(t.replace("~1", "/").replace("~0", "~"));
    }
    return out;
  }

  private static JsonNode get(JsonNode doc, String path) {
    JsonNode n = doc;
    for (String t : tokens(path)) {
      if (n.isObject() && n.has(t)) {
        n = n.get(t);
      } else if (n.isArray()) {
        n = n.get(index(t, n.size(), false, path));
      } else {
        throw new PatchException("path \"" + path + "\" does not exist");
      }
    }
    return n;
  }

  private static int index(String t, int size, boolean forAdd, String path) {
    if (forAdd && t.equals("-")) {
      return size;
    }
    try {
      int i = Integer.parseInt(t);
      if (i < 0 || i > size || (!forAdd && i == size) || (t.length() > 1 && t.startsWith("0"))) {
        throw new NumberFormatException();
      }
      return i;
    } catch (NumberFormatException e) {
      throw new PatchException("array index \"" + t + "\" out of range in \"" + path + "\"");
    }
  }

  private static JsonNode add(JsonNode doc, String path, JsonNode value) {
    List<String> tokens = tokens(path);
    if (tokens.isEmpty()) {
      return value;
    }
    JsonNode parent = get(doc, parentPath(path));
    String last = tokens.get(tokens.size() - 1);
    if (parent instanceof ObjectNode o) {
      o.set(last, value);
    } else if (parent instanceof ArrayNode a) {
      a.insert(index(last, a.size(), true, path), value);
    } else {
      throw new PatchException("cannot add at \"" + path + "\": parent is not a container");
    }
    return doc;
  }

  private static JsonNode remove(JsonNode doc, String path) {
    List<String> tokens = tokens(path);
    if (tokens.isEmpty()) {
      throw new PatchException("cannot remove the whole document");
    }
    JsonNode parent = get(doc, parentPath(path));
    String last = tokens.get(tokens.size() - 1);
    if (parent instanceof ObjectNode o && o.has(last)) {
      o.remove(last);
    } else if (parent instanceof ArrayNode a) {
      a.remove(index(last, a.size(), false, path));
    } else {
      throw new PatchException("path \"" + path + "\" does not exist");
    }
    return doc;
  }

  private static String parentPath(String path) {
    return path.substring(0, path.lastIndexOf('/'));
  }
}
