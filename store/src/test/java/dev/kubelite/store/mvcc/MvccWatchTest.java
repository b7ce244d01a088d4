package dev.kubelite.store.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.store.mvcc.Responses.EventsResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MvccWatchTest extends MvccFixture {
  @TempDir Path dir;

  @BeforeEach
  void open() {
    s = MvccStore.open(dir);
  }

  @AfterEach
  void close() {
    s.close();
  }

  private record Seen(long revision, List<Event> events) {}

  @Test
  void listenerGetsEveryWriteRevisionInOrderWithPrevKv() throws Exception {
    List<Seen> seen = new ArrayList<>();
    s.addListener((rev, events) -> seen.add(new Seen(rev, events)));
    put("a", "1"); // 2
    put("a", "2"); // 3
    del("nothing"); // no revision
    txn(List.of(), List.of(Range.key(b("a"))), List.of()); // read-only: no revision
    txn(List.of(), List.of(Put.of(b("b"), b("1")), DeleteRange.of(b("a"), null)), List.of()); // 4
    assertThat(seen).extracting(Seen::revision).containsExactly(2L, 3L, 4L);
    assertThat(seen.get(0).events().get(0).prevKv()).isNull();
    assertThat(seen.get(1).events().get(0).prevKv().value()).isEqualTo(b("1"));
    Event delete = seen.get(2).events().get(1);
    assertThat(delete.type()).isEqualTo(Event.Type.DELETE);
    assertThat(delete.kv()).isEqualTo(new KeyValue(b("a"), 0, 4, 0, null, 0));
    assertThat(delete.prevKv().value()).isEqualTo(b("2"));
  }

  @Test
  void historyEventsMatchWhatListenersSaw() throws Exception {
    List<Event> live = new ArrayList<>();
    s.addListener((rev, events) -> live.addAll(events));
    put("a", "1");
    put("b", "1");
    put("a", "2");
    txn(List.of(), List.of(DeleteRange.of(b("a"), b("c")), Put.of(b("c"), b("1"))), List.of());
    put("a", "3");
    EventsResult history = s.events(b("a"), new byte[] {0}, 1, 0, 0);
    assertThat(history.events()).isEqualTo(live);
    assertThat(history.lastRevision()).isEqualTo(s.currentRevision());
    // key filter and revision window
    assertThat(s.events(b("a"), null, 4, 5, 0).events())
        .extracting(e -> e.kv().modRevision())
        .containsExactly(4L, 5L);
  }

  @Test
  void historyLimitNeverSplitsARevision() throws Exception {
    put("x", "0"); // 2
    txn(
        List.of(),
        List.of(Put.of(b("a"), b("1")), Put.of(b("b"), b("1")), Put.of(b("c"), b("1"))),
        List.of()); // 3
    put("d", "1"); // 4
    EventsResult first = s.events(b("a"), new byte[] {0}, 1, 0, 2);
    assertThat(first.events()).hasSize(4); // rev 2 + all three of rev 3
    assertThat(first.lastRevision()).isEqualTo(3);
    EventsResult rest = s.events(b("a"), new byte[] {0}, first.lastRevision() + 1, 0, 2);
    assertThat(rest.events()).extracting(e -> str(e.kv().key())).containsExactly("d");
    assertThat(rest.lastRevision()).isEqualTo(4);
  }

  @Test
  void historyFromBelowCompactedRevisionFailsWithCompactRevision() throws Exception {
    put("a", "1");
    put("a", "2");
    put("a", "3");
    apply(new Compact(3, true));
    MvccException e = null;
    try {
      s.events(b("a"), null, 2, 0, 0);
    } catch (MvccException x) {
      e = x;
    }
    assertThat(e).isNotNull();
    assertThat(e.code()).isEqualTo(MvccException.Code.COMPACTED);
    assertThat(e.compactRevision()).isEqualTo(3);
    List<Event> fromCompact = s.events(b("a"), null, 3, 0, 0).events();
    assertThat(fromCompact).extracting(x -> x.kv().modRevision()).containsExactly(3L, 4L);
    // prevKv of the event at the compact revision is compacted away
    assertThat(fromCompact.get(0).prevKv()).isNull();
    assertThat(fromCompact.get(1).prevKv().value()).isEqualTo(b("2"));
  }
}
