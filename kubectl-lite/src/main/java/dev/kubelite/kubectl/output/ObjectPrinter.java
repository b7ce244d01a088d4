package dev.kubelite.kubectl.output;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.kubelite.client.Discovery.ApiResource;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;

/** Prints whole objects as {@code -o yaml}, {@code -o json} or {@code -o name} ask. */
public final class ObjectPrinter {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final ObjectMapper YAML =
      new ObjectMapper(
          YAMLFactory.builder()
              .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
              .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
              // "32" stays a string: unquoted it would read back as a number.
              .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
              .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
              .build());

  private ObjectPrinter() {}

  /**
   * One object; several are wrapped in a {@code List} as kubectl does. {@code
   * metadata.managedFields} is left out, as kubectl leaves it out without {@code
   * --show-managed-fields}.
   */
  public static void print(PrintWriter out, OutputFormat format, List<ObjectNode> listed) {
    if (format == OutputFormat.NAME) {
      for (ObjectNode o : listed) {
        out.println(name(o));
      }
      return;
    }
    List<ObjectNode> objects = listed.stream().map(ObjectPrinter::withoutManagedFields).toList();
    JsonNode doc;
    if (objects.size() == 1) {
      doc = objects.get(0);
    } else {
      ObjectNode list = JSON.createObjectNode();
      list.put("apiVersion", "v1");
      ArrayNode items = list.putArray("items");
      objects.forEach(items::add);
      list.put("kind", "List");
      list.putObject("metadata").put("resourceVersion", "");
      doc = list;
    }
    printDocument(out, format, doc);
  }

  /** A single document in YAML or JSON (YAML documents are not preceded by {@code ---}). */
  public static void printDocument(PrintWriter out, OutputFormat format, JsonNode doc) {
    try {
      if (format == OutputFormat.JSON) {
        out.println(JSON.writeValueAsString(doc));
      } else {
        out.print(YAML.writeValueAsString(doc));
      }
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("cannot print the object: " + e.getMessage(), e);
    }
  }

  private static ObjectNode withoutManagedFields(ObjectNode o) {
    if (!(o.get("metadata") instanceof ObjectNode m) || !m.has("managedFields")) {
      return o;
    }
    ObjectNode copy = o.deepCopy();
    ((ObjectNode) copy.get("metadata")).remove("managedFields");
    return copy;
  }

  /** {@code pod/nginx}, {@code deployment.apps/web}: kubectl's {@code -o name}. */
  public static String name(ObjectNode o) {
    String kind = o.path("kind").asText().toLowerCase(Locale.ROOT);
    String apiVersion = o.path("apiVersion").asText();
    int slash = apiVersion.indexOf('/');
    String group = slash > 0 ? "." + apiVersion.substring(0, slash) : "";
    return kind + group + "/" + o.path("metadata").path("name").asText();
  }

  /** The same for a resource type and a name. */
  public static String name(ApiResource r, String name) {
    String group = r.resource().group();
    return r.kind().toLowerCase(Locale.ROOT) + (group.isEmpty() ? "" : "." + group) + "/" + name;
  }

  /** Items of a list come without kind and apiVersion; the list's type gives them back. */
  public static ObjectNode withType(ObjectNode o, ApiResource r) {
    if (!o.hasNonNull("kind")) {
      ObjectNode typed = JSON.createObjectNode();
      typed.put("apiVersion", r.resource().apiVersion());
      typed.put("kind", r.kind());
      typed.setAll(o);
      return typed;
    }
    return o;
  }
}
