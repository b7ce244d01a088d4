package dev.kubelite.apiserver.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

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
