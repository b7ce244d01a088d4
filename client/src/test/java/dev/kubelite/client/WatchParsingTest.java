package dev.kubelite.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The watch stream is parsed from its bytes: one JSON event after the other. */
class WatchParsingTest {
  private static Watch watch(String stream) throws IOException {
    return watch(new ByteArrayInputStream(stream.getBytes(StandardCharsets.UTF_8)));
  }

  private static Watch watch(InputStream in) {
    return new Watch(KubeClient.JSON, in);
  }

  @Test
  void eventsOnLinesInAnyFieldOrderWithUnknownFieldsAndNonAsciiText() throws IOException {
    try (Watch w =
        watch(
            "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"},\"data\":{\"k\":\"é✓\"}}}\n"
                + "\n"
                + "{\"object\":{\"metadata\":{\"name\":\"b\"}},\"extra\":[1,{\"x\":2}],"
                + "\"type\":\"MODIFIED\"}\n"
                + "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"c\"}}}")) {
      WatchEvent a = w.next();
      assertThat(a.type()).isEqualTo("ADDED");
      assertThat(Meta.name(a.object())).isEqualTo("a");
      assertThat(a.object().path("data").path("k").asText()).isEqualTo("é✓");
      WatchEvent b = w.next();
      assertThat(b.type()).isEqualTo("MODIFIED");
      assertThat(Meta.name(b.object())).isEqualTo("b");
      assertThat(b.object().has("extra")).isFalse();
      assertThat(w.next().type()).isEqualTo("DELETED");
      assertThat(w.next()).isNull();
    }
  }

  @Test
  void anEventIsReturnedAsSoonAsItIsCompleteWithoutWaitingForTheNextBytes() throws Exception {
    PipedOutputStream out = new PipedOutputStream();
    PipedInputStream in = new PipedInputStream(out, 1 << 16);
    // One reader thread, alive until the end: a pipe refuses writes ("Read end dead") once the
    // thread that last read from it has ended, as a thread-per-task executor's would.
    ExecutorService reader = Executors.newSingleThreadExecutor();
    try (Watch w = watch(in)) {
      out.write(
          "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"
              .getBytes(StandardCharsets.UTF_8));
      out.flush();
      // The stream stays open: the event must come without more bytes or the end.
      Future<WatchEvent> first = reader.submit(w::next);
      assertThat(first.get(10, TimeUnit.SECONDS).type()).isEqualTo("ADDED");
      out.write(
          "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"7\"}}}"
              .getBytes(StandardCharsets.UTF_8));
      out.close();
      WatchEvent bookmark = reader.submit(w::next).get(10, TimeUnit.SECONDS);
      assertThat(bookmark.isBookmark()).isTrue();
      assertThat(Meta.resourceVersion(bookmark.object())).isEqualTo("7");
      assertThat(reader.submit(w::next).get(10, TimeUnit.SECONDS)).isNull();
    } finally {
      reader.shutdownNow();
    }
  }

  @Test
  void malformedEventsAreIoExceptions() throws IOException {
    try (Watch w = watch("{\"type\":\"ADDED\"}\n")) {
      assertThatThrownBy(w::next)
          .isInstanceOf(IOException.class)
          .hasMessageContaining("malformed watch event (no type or object)");
    }
    try (Watch w = watch("[1,2]\n")) {
      assertThatThrownBy(w::next)
          .isInstanceOf(IOException.class)
          .hasMessageContaining("malformed watch event");
    }
    try (Watch w = watch("{\"type\":\"ADDED\",\"object\":{\"metadata\":")) {
      assertThatThrownBy(w::next).isInstanceOf(IOException.class);
    }
    try (Watch w = watch("{\"type\":\"ADDED\",\"object\":null}")) {
      assertThatThrownBy(w::next).isInstanceOf(IOException.class);
    }
  }
}
