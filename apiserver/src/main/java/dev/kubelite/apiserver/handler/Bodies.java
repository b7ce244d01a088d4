package dev.kubelite.apiserver.handler;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.api.ProtobufBody;
import dev.kubelite.apiserver.http.Exchange;

/** Request bodies: JSON, YAML, or the protobuf that kubectl's typed create commands send. */
final class Bodies {
  private Bodies() {}

  static ObjectNode object(Exchange ex) {
    byte[] body = ex.body();
    String ct = ex.contentType();
    return switch (ct) {
      case "", "application/json" -> Json.parseObject(body, false);
      case "application/yaml" -> Json.parseObject(body, true);
      case "application/vnd.kubernetes.protobuf" -> ProtobufBody.decode(body, ex.type().kind());
      default ->
          throw ApiException.unsupportedMediaType(
              "the body of the request was in an unknown format - accepted media types include:"
                  + " application/json, application/yaml, application/vnd.kubernetes.protobuf");
    };
  }
}
