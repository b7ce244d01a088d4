package dev.kubelite.apiserver.api;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializable;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;

/**
 * Objects are handled as Jackson trees (Kubernetes' "unstructured" objects): the API server keeps
 * every field a client sent, typed or not, and stores exactly that JSON.
 */
public final class Json {
  private Json() {}

  /** Nesting deeper than this is refused (a malicious body cannot blow the stack). */
  public static final int MAX_DEPTH = 100;

  public static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .build();

  public static final ObjectMapper YAML =
      YAMLMapper.builder(
              YAMLFactory.builder()
                  .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                  .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                  .build())
          .build();

  static {
    MAPPER
        .getFactory()
        .setStreamReadConstraints(
            StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build());
    YAML.getFactory()
        .setStreamReadConstraints(
            StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build());
  }

  public static ObjectNode object() {
    return JsonNodeFactory.instance.objectNode();
  }

  /** Parses a request body that must be one JSON object; 400 BadRequest otherwise. */
  public static ObjectNode parseObject(byte[] body, boolean yaml) {
    JsonNode n;
    try {
      n = (yaml ? YAML : MAPPER).readTree(body);
    } catch (IOException e) {
      throw ApiException.badRequest(
          "the body of the request could not be decoded as "
              + (yaml ? "YAML" : "JSON")
              + ": "
              + firstLine(e.getMessage()));
    }
    if (n == null || n.isMissingNode() || n.isNull()) {
      throw ApiException.badRequest("the body of the request is empty; send a JSON object");
    }
    if (!(n instanceof ObjectNode o)) {
      throw ApiException.badRequest(
          "the body of the request must be a JSON object, got " + n.getNodeType());
    }
    return o;
  }

  /** Parses any JSON value (patch bodies); 400 BadRequest on malformed input. */
  public static JsonNode parse(byte[] body, String what) {
    try {
      JsonNode n = MAPPER.readTree(body);
      if (n == null || n.isMissingNode()) {
        throw ApiException.badRequest(what + " is empty");
      }
      return n;
    } catch (IOException e) {
      throw ApiException.badRequest(what + " is not valid JSON: " + firstLine(e.getMessage()));
    }
  }

  public static byte[] bytes(JsonNode n) {
    try {
      return MAPPER.writeValueAsBytes(n);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise a JSON tree", e);
    }
  }

  /**
   * The bytes an object is stored as: {@link #bytes} of {@code obj} without {@code
   * metadata.resourceVersion} and {@code metadata.selfLink} (the key's mod revision and a field
   * Kubernetes no longer sets), written without copying or changing {@code obj}.
   */
  public static byte[] storedBytes(ObjectNode obj) {
    try (ByteArrayBuilder out = new ByteArrayBuilder(MAPPER.getFactory()._getBufferRecycler())) {
      try (JsonGenerator g = MAPPER.getFactory().createGenerator(out, JsonEncoding.UTF8)) {
        storedObject(g, obj);
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialise a JSON tree", e);
    }
  }

  private static void storedObject(JsonGenerator g, ObjectNode obj) throws IOException {
    g.writeStartObject();
    for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      g.writeFieldName(e.getKey());
      if (e.getKey().equals("metadata") && e.getValue() instanceof ObjectNode meta) {
        g.writeStartObject();
        for (Iterator<Map.Entry<String, JsonNode>> m = meta.fields(); m.hasNext(); ) {
          Map.Entry<String, JsonNode> f = m.next();
          if (!f.getKey().equals("resourceVersion") && !f.getKey().equals("selfLink")) {
            g.writeFieldName(f.getKey());
            write(g, f.getValue());
          }
        }
        g.writeEndObject();
      } else {
        write(g, e.getValue());
      }
    }
    g.writeEndObject();
  }

  /** Writes a tree with {@link #MAPPER}'s own node serialisers (as {@link #bytes} does). */
  private static void write(JsonGenerator g, JsonNode n) throws IOException {
    ((JsonSerializable) n).serialize(g, PROVIDER);
  }

  private static final SerializerProvider PROVIDER = MAPPER.getSerializerProviderInstance();

  private static final byte[] RESOURCE_VERSION_FIELD =
      "\"resourceVersion\":\"".getBytes(StandardCharsets.US_ASCII);

  private static final byte[] METADATA_FIELD = "\"metadata\"".getBytes(StandardCharsets.US_ASCII);

  /**
   * {@code stored} (what {@link #storedBytes} wrote) with {@code "resourceVersion":rv} as the last
   * field of its top-level {@code metadata} object — the JSON of the object read back from the
   * store, without parsing it; null if {@code stored} is not one compact object (ending at its last
   * byte) with a top-level metadata object: then parse it. One pass that follows the structure
   * (strings, nesting), not every token: the store holds what {@link #storedBytes} wrote.
   */
  public static byte[] withResourceVersion(byte[] stored, String rv) {
    long span = metadataSpan(stored);
    if (span < 0) {
      return null;
    }
    int open = (int) (span >>> 32);
    int close = (int) span;
    byte[] value = rv.getBytes(StandardCharsets.UTF_8);
    boolean empty = close == open + 1;
    int extra = (empty ? 0 : 1) + RESOURCE_VERSION_FIELD.length + value.length + 1;
    byte[] out = new byte[stored.length + extra];
    System.arraycopy(stored, 0, out, 0, close);
    int at = close;
    if (!empty) {
      out[at++] = ',';
    }
    System.arraycopy(RESOURCE_VERSION_FIELD, 0, out, at, RESOURCE_VERSION_FIELD.length);
    at += RESOURCE_VERSION_FIELD.length;
    System.arraycopy(value, 0, out, at, value.length);
    at += value.length;
    out[at++] = '"';
    System.arraycopy(stored, close, out, at, stored.length - close);
    return out;
  }

  /**
   * In compact JSON that is one object ending at its last byte: the indexes of the braces opening
   * and closing the value of its top-level {@code metadata} field (open in the high 32 bits), or
   * -1.
   */
  private static long metadataSpan(byte[] json) {
    int n = json.length;
    if (n < 2 || json[0] != '{') {
      return -1;
    }
    int depth = 1;
    boolean key = true; // the next string at depth 1 is a field name
    int open = -1;
    int close = -1;
    for (int i = 1; i < n; i++) {
      switch (json[i]) {
        case '"' -> {
          int end = stringEnd(json, i);
          if (end < 0) {
            return -1;
          }
          if (key && depth == 1) {
            key = false;
            if (open < 0
                && end - i + 1 == METADATA_FIELD.length
                && Arrays.equals(json, i, end + 1, METADATA_FIELD, 0, METADATA_FIELD.length)
                && end + 2 < n
                && json[end + 1] == ':'
                && json[end + 2] == '{') {
              open = end + 2;
              depth++;
              end = open;
            }
          }
          i = end;
        }
        case '{', '[' -> depth++;
        case '}', ']' -> {
          depth--;
          if (depth == 1 && open >= 0 && close < 0) {
            if (json[i] != '}') {
              return -1;
            }
            close = i;
          } else if (depth == 0) {
            return i == n - 1 && json[i] == '}' && close >= 0 ? ((long) open << 32) | close : -1;
          }
        }
        case ',' -> key = depth == 1;
        default -> {}
      }
    }
    return -1;
  }

  /** The index of the quote ending the string that starts at {@code open}, or -1. */
  private static int stringEnd(byte[] json, int open) {
    for (int i = open + 1; i < json.length; i++) {
      byte b = json[i];
      if (b == '\\') {
        i++;
      } else if (b == '"') {
        return i;
      }
    }
    return -1;
  }

  public static byte[] yamlBytes(JsonNode n) {
    try {
      return YAML.writeValueAsBytes(n);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise a JSON tree as YAML", e);
    }
  }

  public static String string(JsonNode n) {
    return new String(bytes(n), StandardCharsets.UTF_8);
  }

  /** A stored value; the store only ever holds what {@link #bytes} wrote. */
  public static ObjectNode readStored(byte[] value, String key) {
    try {
      JsonNode n = MAPPER.readTree(value);
      if (n instanceof ObjectNode o) {
        return o;
      }
      throw ApiException.internal("stored value at " + key + " is not a JSON object");
    } catch (IOException e) {
      throw ApiException.internal(
          "stored value at " + key + " is not valid JSON (" + firstLine(e.getMessage()) + ")");
    }
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  /** {@code obj.path(a).path(b)...} as text, or null if missing or not text. */
  public static String text(JsonNode obj, String... path) {
    JsonNode n = obj;
    for (String p : path) {
      if (n == null) {
        return null;
      }
      n = n.get(p);
    }
    return n != null && n.isTextual() ? n.asText() : null;
  }

  /** The object at {@code obj[field]}, created if missing or not an object. */
  public static ObjectNode child(ObjectNode obj, String field) {
    JsonNode n = obj.get(field);
    if (n instanceof ObjectNode o) {
      return o;
    }
    return obj.putObject(field);
  }
}
