package dev.kubelite.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * An open watch stream: one JSON event per line. {@link #next()} blocks for the next event and
 * returns null when the server ended the stream; a broken connection is an IOException. Closing
 * aborts the HTTP exchange.
 */
public final class Watch implements AutoCloseable {
  private final ObjectMapper json;
  private final InputStream in;
  private final BufferedReader reader;
  private volatile boolean closed;

  Watch(ObjectMapper json, InputStream in) {
    this.json = json;
    this.in = in;
    this.reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
  }

  /** The next event, or null at the end of the stream. */
  public WatchEvent next() throws IOException {
    while (true) {
      String line = reader.readLine();
      if (line == null) {
        return null;
      }
      if (line.isBlank()) {
        continue;
      }
      JsonNode e = json.readTree(line);
      JsonNode o = e.get("object");
      if (!e.hasNonNull("type") || !(o instanceof ObjectNode obj)) {
        throw new IOException("malformed watch event (no type or object): " + line);
      }
      return new WatchEvent(e.get("type").asText(), obj);
    }
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
