package dev.kubelite.client;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;

/**
 * An open watch stream: one JSON event per line. {@link #next()} blocks for the next event and
 * returns null when the server ended the stream; a broken connection is an IOException. Closing
 * aborts the HTTP exchange.
 *
 * <p>The events are parsed straight from the response's bytes, one top-level JSON value after the
 * other (the newlines between them are whitespace to the parser): no line is first decoded into a
 * String, and the event's object is built once, as the informer keeps it.
 */
public final class Watch implements AutoCloseable {
  private final ObjectMapper json;
  private final InputStream in;

  /**
   * Made at the first {@link #next()}: making it reads the stream's first bytes (to detect the
   * encoding), which would block the opening of a watch until its first event.
   */
  private JsonParser parser;

  private volatile boolean closed;

  Watch(ObjectMapper json, InputStream in) {
    this.json = json;
    this.in = in;
  }

  /** The next event, or null at the end of the stream. */
  public WatchEvent next() throws IOException {
    if (parser == null) {
      parser = json.getFactory().createParser(in);
    }
    JsonToken t = parser.nextToken();
    if (t == null) {
      return null;
    }
    if (t != JsonToken.START_OBJECT) {
      throw new IOException(
          "malformed watch event: expected a JSON object, got " + t + " at " + where());
    }
    String type = null;
    ObjectNode object = null;
    while ((t = parser.nextToken()) == JsonToken.FIELD_NAME) {
      String field = parser.currentName();
      parser.nextToken();
      if (field.equals("type") && parser.currentToken() == JsonToken.VALUE_STRING) {
        type = parser.getText();
      } else if (field.equals("object") && parser.currentToken() == JsonToken.START_OBJECT) {
        JsonNode o = json.readTree(parser);
        object = (ObjectNode) o;
      } else {
        parser.skipChildren(); // a field this client does not use
      }
    }
    if (t != JsonToken.END_OBJECT) {
      throw new IOException("malformed watch event: the stream ended inside an event");
    }
    if (type == null || object == null) {
      throw new IOException("malformed watch event (no type or object) ending at " + where());
    }
    return new WatchEvent(type, object);
  }

  private String where() {
    return "byte " + parser.currentLocation().getByteOffset() + " of the stream";
  }

  public boolean isClosed() {
    return closed;
  }

  @Override
  public void close() {
    closed = true;
    try {
      in.close();
    } catch (IOException e) {
      // Closing aborts the exchange; a failure to do so leaves nothing to clean up here.
      throw new java.io.UncheckedIOException("cannot close the watch stream", e);
    }
  }
}
