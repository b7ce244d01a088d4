package dev.kubelite.store.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.store.mvcc.Responses.DeleteRangeResponse;
import dev.kubelite.store.mvcc.Responses.PutResponse;
import dev.kubelite.store.mvcc.Responses.RangeResponse;
import dev.kubelite.store.mvcc.Responses.Response;
import dev.kubelite.store.mvcc.Responses.TxnResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client request table in the MVCC engine: apply once, replay, bounds, persistence. */
class RequestTableTest extends MvccFixture {
  private static final long CLIENT = 0xfeedfacecafebeefL;

  @TempDir Path dir;
  private final List<Long> revisionsSeen = new ArrayList<>();

  @BeforeEach
  void open() {
    s = MvccStore.open(dir.resolve("db"));
    s.addListener((rev, events) -> revisionsSeen.add(rev));
  }

  @AfterEach
  void close() {
    s.close();
  }

  private static ClientRequest id(long seq, long fingerprint) {
    return new ClientRequest(CLIENT, seq, 0, fingerprint);
  }

  private Response apply(WriteCommand c, ClientRequest id) throws MvccException {
    return s.apply(++raftIndex, c, id).orElseThrow();
  }

  @Test
  void aReappliedIdReturnsTheRecordedResponseWithoutApplyingAgain() throws Exception {
    put("k", "old");
    PutResponse first = (PutResponse) apply(Put.of(b("k"), b("new")).withPrevKv(), id(1, 7));
    long revision = s.currentRevision();
    int events = revisionsSeen.size();

    PutResponse again = (PutResponse) apply(Put.of(b("k"), b("new")).withPrevKv(), id(1, 7));

    assertThat(again).isEqualTo(first);
    assertThat(again.prevKv().value()).isEqualTo(b("old"));
    assertThat(s.currentRevision()).isEqualTo(revision);
    assertThat(revisionsSeen).hasSize(events);
    assertThat(kv("k").version()).isEqualTo(2);
    assertThat(s.appliedIndex()).isEqualTo(raftIndex);
  }

  @Test
  void txnAndDeleteOutcomesAreReplayedExactly() throws Exception {
    put("a", "1");
    put("b", "2");
    Txn create =
        new Txn(
            List.of(Compare.number(b("a"), Compare.Target.CREATE, Compare.Result.EQUAL, 0)),
            List.of(Put.of(b("a"), b("x"))),
            List.of(Range.key(b("a")), new Txn(List.of(), List.of(Range.key(b("b"))), List.of())));
    TxnResponse failed = (TxnResponse) apply(create, id(1, 1));
    assertThat(failed.succeeded()).isFalse();
    DeleteRangeResponse deleted =
        (DeleteRangeResponse) apply(new DeleteRange(b("a"), b("c"), true), id(2, 2));
    assertThat(deleted.deleted()).isEqualTo(2);
    long revision = s.currentRevision();

    TxnResponse failedAgain = (TxnResponse) apply(create, id(1, 1));
    DeleteRangeResponse deletedAgain =
        (DeleteRangeResponse) apply(new DeleteRange(b("a"), b("c"), true), id(2, 2));

    assertThat(failedAgain).isEqualTo(failed);
    RangeResponse inner =
        (RangeResponse) ((TxnResponse) failedAgain.responses().get(1)).responses().get(0);
    assertThat(inner.kvs().get(0).value()).isEqualTo(b("2"));
    assertThat(deletedAgain).isEqualTo(deleted);
    assertThat(deletedAgain.prevKvs()).extracting(kv -> str(kv.key())).containsExactly("a", "b");
    assertThat(s.currentRevision()).isEqualTo(revision);
  }

  @Test
  void aRejectionIsRecordedToo() throws Exception {
    WriteCommand withLease = Put.of(b("k"), b("v")).withLease(42);
    assertCode(MvccException.Code.LEASE_NOT_FOUND, () -> apply(withLease, id(1, 1)));
    apply(new LeaseGrant(42, 60));
    // The first attempt was rejected; a retry gets that answer, not a second, different one.
    assertCode(MvccException.Code.LEASE_NOT_FOUND, () -> apply(withLease, id(1, 1)));
    assertThat(kv("k")).isNull();
  }

  @Test
  void theSameIdForAnotherRequestIsRejectedAndNotApplied() throws Exception {
    apply(Put.of(b("k"), b("v1")), id(1, 111));
    long revision = s.currentRevision();

    assertCode(
        MvccException.Code.REQUEST_ID_REUSED, () -> apply(Put.of(b("k"), b("v2")), id(1, 222)));

    assertThat(kv("k").value()).isEqualTo(b("v1"));
    assertThat(s.currentRevision()).isEqualTo(revision);
    assertThat(s.appliedIndex()).isEqualTo(raftIndex);
  }

  @Test
  void doneBelowForgetsFinishedIdsAndOlderIdsAreThenRefused() throws Exception {
    apply(Put.of(b("k"), b("1")), id(1, 1));
    apply(Put.of(b("k"), b("2")), id(2, 2));
    apply(Put.of(b("k"), b("3")), new ClientRequest(CLIENT, 3, 3, 3));

    Map.Entry<Long, Map<Long, Long>> table = s.clientRequests(CLIENT);
    assertThat(table.getKey()).isEqualTo(3);
    assertThat(table.getValue()).containsOnlyKeys(3L);
    long revision = s.currentRevision();

    // A late copy of a finished request: whether it applied is forgotten, so it must not apply.
    assertCode(
        MvccException.Code.REQUEST_ID_EXPIRED, () -> apply(Put.of(b("k"), b("1")), id(1, 1)));
    assertThat(s.currentRevision()).isEqualTo(revision);
    assertThat(kv("k").value()).isEqualTo(b("3"));
  }

  @Test
  void aClientKeepsAtMostItsWindowOfIds() throws Exception {
    int extra = 5;
    for (long seq = 1; seq <= RequestTable.MAX_RECORDS_PER_CLIENT + extra; seq++) {
      apply(Put.of(b("k"), b("v" + seq)), id(seq, seq));
    }
    Map.Entry<Long, Map<Long, Long>> table = s.clientRequests(CLIENT);
    assertThat(table.getValue()).hasSize(RequestTable.MAX_RECORDS_PER_CLIENT);
    assertThat(table.getKey()).isEqualTo(extra + 1);
    assertCode(
        MvccException.Code.REQUEST_ID_EXPIRED, () -> apply(Put.of(b("k"), b("v1")), id(1, 1)));
    assertThat(apply(Put.of(b("k"), b("v" + (extra + 1))), id(extra + 1, extra + 1)).revision())
        .isEqualTo(extra + 2);
  }

  @Test
  void anIdleClientIsForgottenAfterTheRetentionInRaftIndexes() throws Exception {
    apply(Put.of(b("k"), b("v")), id(1, 1));
    apply(Put.of(b("other"), b("v")), new ClientRequest(CLIENT + 1, 1, 0, 1));
    assertThat(s.clientSessions()).isEqualTo(2);

    // Expiry counts Raft indexes (the log), not time: the same on every member and after replay.
    raftIndex += RequestTable.SESSION_RETENTION_ENTRIES - 1;
    apply(Put.of(b("unrelated"), b("v")));
    assertThat(s.clientSessions()).isEqualTo(1);
    assertThat(s.clientRequests(CLIENT).getValue()).isEmpty();

    long revision = s.currentRevision();
    apply(Put.of(b("k"), b("v")), id(1, 1));
    assertThat(s.currentRevision()).isEqualTo(revision + 1);
  }

  @Test
  void theTableSurvivesReopenAndCheckpoints() throws Exception {
    PutResponse first = (PutResponse) apply(Put.of(b("k"), b("v")), id(5, 9));
    apply(Put.of(b("k2"), b("v")), new ClientRequest(CLIENT, 6, 5, 10));
    s.snapshot(dir.resolve("checkpoint"));
    s.close();

    s = MvccStore.open(dir.resolve("db"));
    assertThat(s.clientRequests(CLIENT).getKey()).isEqualTo(5);
    assertThat(s.clientRequests(CLIENT).getValue()).containsOnlyKeys(5L, 6L);
    assertThat(apply(Put.of(b("k"), b("v")), id(5, 9))).isEqualTo(first);
    s.close();

    s = MvccStore.restoreFrom(dir.resolve("checkpoint"), dir.resolve("restored"));
    raftIndex = s.appliedIndex();
    long revision = s.currentRevision();
    assertThat(apply(Put.of(b("k"), b("v")), id(5, 9))).isEqualTo(first);
    assertCode(
        MvccException.Code.REQUEST_ID_EXPIRED, () -> apply(Put.of(b("k"), b("v")), id(4, 8)));
    assertThat(s.currentRevision()).isEqualTo(revision);
  }

  @Test
  void twoStoresApplyingTheSameEntriesHoldTheSameTable() throws Exception {
    List<Object[]> log = new ArrayList<>();
    for (long seq = 1; seq <= 40; seq++) {
      long client = seq % 3;
      log.add(
          new Object[] {
            Put.of(b("k" + seq % 5), b("v" + seq)),
            new ClientRequest(client, seq, seq % 7 == 0 ? seq - 3 : 0, seq)
          });
      if (seq % 4 == 0) {
        log.add(new Object[] {Put.of(b("k" + seq % 5), b("v" + seq)), log.get(log.size() - 3)[1]});
      }
    }
    try (MvccStore other = MvccStore.open(dir.resolve("other"))) {
      long i = 0;
      for (Object[] e : log) {
        i++;
        Object mine = outcome(s, i, e);
        Object theirs = outcome(other, i, e);
        assertThat(theirs).isEqualTo(mine);
      }
      for (long client = 0; client < 3; client++) {
        assertThat(other.clientRequests(client)).isEqualTo(s.clientRequests(client));
      }
      assertThat(other.currentRevision()).isEqualTo(s.currentRevision());
    }
  }

  private static Object outcome(MvccStore st, long index, Object[] entry) {
    try {
      return st.apply(index, (WriteCommand) entry[0], (ClientRequest) entry[1]).orElseThrow();
    } catch (MvccException e) {
      return e.code();
    }
  }
}
