package dev.kubelite.store.mvcc;

import static dev.kubelite.store.mvcc.Compare.Result.EQUAL;
import static dev.kubelite.store.mvcc.Compare.Result.GREATER;
import static dev.kubelite.store.mvcc.Compare.Result.LESS;
import static dev.kubelite.store.mvcc.Compare.Target.CREATE;
import static dev.kubelite.store.mvcc.Compare.Target.LEASE;
import static dev.kubelite.store.mvcc.Compare.Target.MOD;
import static dev.kubelite.store.mvcc.Compare.Target.VERSION;
import static dev.kubelite.store.mvcc.MvccException.Code.COMPACTED;
import static dev.kubelite.store.mvcc.MvccException.Code.DUPLICATE_KEY;
import static dev.kubelite.store.mvcc.MvccException.Code.EMPTY_KEY;
import static dev.kubelite.store.mvcc.MvccException.Code.FUTURE_REV;
import static dev.kubelite.store.mvcc.MvccException.Code.KEY_NOT_FOUND;
import static dev.kubelite.store.mvcc.MvccException.Code.LEASE_EXISTS;
import static dev.kubelite.store.mvcc.MvccException.Code.LEASE_NOT_FOUND;
import static dev.kubelite.store.mvcc.MvccException.Code.LEASE_PROVIDED;
import static dev.kubelite.store.mvcc.MvccException.Code.TOO_MANY_OPS;
import static dev.kubelite.store.mvcc.MvccException.Code.VALUE_PROVIDED;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.store.mvcc.Range.SortOrder;
import dev.kubelite.store.mvcc.Range.SortTarget;
import dev.kubelite.store.mvcc.Responses.DeleteRangeResponse;
import dev.kubelite.store.mvcc.Responses.LeaseRevokeResponse;
import dev.kubelite.store.mvcc.Responses.PutResponse;
import dev.kubelite.store.mvcc.Responses.RangeResponse;
import dev.kubelite.store.mvcc.Responses.TxnResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MvccSemanticsTest extends MvccFixture {
  @TempDir Path dir;

  @BeforeEach
  void open() {
    s = MvccStore.open(dir);
  }

  @AfterEach
  void close() {
    s.close();
  }

  private List<String> keys(RangeResponse r) {
    return r.kvs().stream().map(kv -> str(kv.key())).toList();
  }

  @Test
  void emptyStoreIsAtRevisionOneAndFirstWriteGetsTwo() throws Exception {
    assertThat(s.currentRevision()).isEqualTo(1);
    assertThat(get("a").revision()).isEqualTo(1);
    assertThat(put("a", "1").revision()).isEqualTo(2);
    assertThat(kv("a")).isEqualTo(new KeyValue(b("a"), 2, 2, 1, b("1"), 0));
  }

  @Test
  void txnWithSeveralWritesIsOneRevision() throws Exception {
    put("c", "0");
    List<List<Event>> seen = new ArrayList<>();
    s.addListener((rev, events) -> seen.add(events));
    TxnResponse r =
        txn(
            List.of(),
            List.of(Put.of(b("a"), b("1")), Put.of(b("b"), b("2")), DeleteRange.of(b("c"), null)),
            List.of());
    assertThat(r.revision()).isEqualTo(3);
    assertThat(s.currentRevision()).isEqualTo(3);
    assertThat(kv("a").modRevision()).isEqualTo(3);
    assertThat(kv("b").modRevision()).isEqualTo(3);
    assertThat(seen).hasSize(1);
    assertThat(seen.get(0))
        .extracting(Event::type)
        .containsExactly(Event.Type.PUT, Event.Type.PUT, Event.Type.DELETE);
    // inner responses see the revision of the txn
    assertThat(r.responses()).allSatisfy(x -> assertThat(x.revision()).isEqualTo(3));
  }

  @Test
  void readOnlyTxnDoesNotBumpRevision() throws Exception {
    put("a", "1");
    TxnResponse r = txn(List.of(), List.of(Range.key(b("a"))), List.of());
    assertThat(r.revision()).isEqualTo(2);
    assertThat(s.currentRevision()).isEqualTo(2);
  }

  @Test
  void deleteRangeThatDeletesNothingDoesNotBumpRevision() throws Exception {
    put("a", "1");
    DeleteRangeResponse r = del("zzz");
    assertThat(r.deleted()).isZero();
    assertThat(r.revision()).isEqualTo(2);
    assertThat(s.currentRevision()).isEqualTo(2);
  }

  @Test
  void putOfUnchangedValueStillBumpsRevisionAndVersion() throws Exception {
    put("a", "1");
    put("a", "1");
    assertThat(kv("a")).isEqualTo(new KeyValue(b("a"), 2, 3, 2, b("1"), 0));
  }

  @Test
  void versionResetsAfterDeleteAndRecreate() throws Exception {
    put("a", "1"); // 2
    put("a", "2"); // 3
    assertThat(kv("a")).isEqualTo(new KeyValue(b("a"), 2, 3, 2, b("2"), 0));
    assertThat(del("a").revision()).isEqualTo(4);
    assertThat(kv("a")).isNull();
    put("a", "3"); // 5
    assertThat(kv("a")).isEqualTo(new KeyValue(b("a"), 5, 5, 1, b("3"), 0));
  }

  @Test
  void deleteIsTombstoneAndHistoryStaysReadable() throws Exception {
    put("a", "1");
    del("a");
    assertThat(s.range(Range.key(b("a")).withRevision(2)).kvs())
        .containsExactly(new KeyValue(b("a"), 2, 2, 1, b("1"), 0));
    assertThat(s.range(Range.key(b("a")).withRevision(3)).kvs()).isEmpty();
    assertThat(s.events(b("a"), null, 1, 0, 0).events())
        .extracting(Event::type)
        .containsExactly(Event.Type.PUT, Event.Type.DELETE);
  }

  @Test
  void rangeAtHistoricalRevisionReportsCurrentHeaderRevision() throws Exception {
    put("a", "1");
    put("a", "2");
    RangeResponse r = s.range(Range.key(b("a")).withRevision(2));
    assertThat(str(r.kvs().get(0).value())).isEqualTo("1");
    assertThat(r.revision()).isEqualTo(3);
  }

  @Test
  void rangeAtFutureRevisionFailsFutureRev() throws Exception {
    put("a", "1");
    assertCode(FUTURE_REV, () -> s.range(Range.key(b("a")).withRevision(3)));
  }

  @Test
  void rangeBelowCompactedRevisionFailsCompactedButAtItSucceeds() throws Exception {
    put("a", "1"); // 2
    put("a", "2"); // 3
    put("b", "1"); // 4
    apply(new Compact(3, true));
    assertCode(COMPACTED, () -> s.range(Range.key(b("a")).withRevision(2)));
    assertThat(str(s.range(Range.key(b("a")).withRevision(3)).kvs().get(0).value())).isEqualTo("2");
  }

  @Test
  void rangeEndSemanticsAndUnsignedByteOrder() throws Exception {
    put("a", "");
    put("b", "");
    put("c", "");
    byte[] hi = {(byte) 0x80};
    apply(Put.of(hi, b("x")));
    assertThat(keys(s.range(Range.of(b("b"), null)))).containsExactly("b");
    assertThat(keys(s.range(Range.of(b("a"), b("c"))))).containsExactly("a", "b");
    assertThat(s.range(Range.of(b("b"), new byte[] {0})).kvs()).hasSize(3);
    // "\0" to "\0" = every key; 0x80 sorts after 'c' (unsigned)
    RangeResponse all = s.range(Range.of(new byte[] {0}, new byte[] {0}));
    assertThat(all.kvs()).hasSize(4);
    assertThat(all.kvs().get(3).key()).isEqualTo(hi);
    assertThat(s.range(Range.of(b("a"), Bytes.prefixEnd(b("a")))).kvs()).hasSize(1);
  }

  @Test
  void limitSetsMoreAndCountIsTotalRegardlessOfLimit() throws Exception {
    for (String k : List.of("a", "b", "c", "d")) {
      put(k, k);
    }
    RangeResponse r = s.range(Range.of(b("a"), b("z")).withLimit(2));
    assertThat(keys(r)).containsExactly("a", "b");
    assertThat(r.more()).isTrue();
    assertThat(r.count()).isEqualTo(4);
    RangeResponse exact = s.range(Range.of(b("a"), b("z")).withLimit(4));
    assertThat(exact.more()).isFalse();
  }

  @Test
  void sortByEveryTargetAndOrder() throws Exception {
    put("a", "3"); // 2
    put("b", "1"); // 3
    put("c", "2"); // 4
    put("b", "9"); // 5 -> b version 2
    Range all = Range.of(b("a"), b("z"));
    assertThat(keys(s.range(all.withSort(SortOrder.DESCEND, SortTarget.KEY))))
        .containsExactly("c", "b", "a");
    assertThat(keys(s.range(all.withSort(SortOrder.ASCEND, SortTarget.VALUE))))
        .containsExactly("c", "a", "b");
    assertThat(keys(s.range(all.withSort(SortOrder.DESCEND, SortTarget.MOD))))
        .containsExactly("b", "c", "a");
    assertThat(keys(s.range(all.withSort(SortOrder.ASCEND, SortTarget.CREATE))))
        .containsExactly("a", "b", "c");
    assertThat(keys(s.range(all.withSort(SortOrder.DESCEND, SortTarget.VERSION))).get(0))
        .isEqualTo("b");
    // etcd: a non-KEY target with order NONE sorts ascending
    assertThat(keys(s.range(all.withSort(SortOrder.NONE, SortTarget.MOD))))
        .containsExactly("a", "c", "b");
    // sort happens before limit
    assertThat(keys(s.range(all.withSort(SortOrder.DESCEND, SortTarget.MOD).withLimit(1))))
        .containsExactly("b");
  }

  @Test
  void keysOnlyAndCountOnly() throws Exception {
    put("a", "1");
    put("b", "2");
    RangeResponse k = s.range(Range.of(b("a"), b("z")).withKeysOnly(true));
    assertThat(k.kvs()).allSatisfy(kv -> assertThat(kv.value()).isEmpty());
    assertThat(k.kvs().get(0).modRevision()).isEqualTo(2);
    RangeResponse c = s.range(Range.of(b("a"), b("z")).withCountOnly(true).withLimit(1));
    assertThat(c.kvs()).isEmpty();
    assertThat(c.count()).isEqualTo(2);
    assertThat(c.more()).isFalse();
  }

  @Test
  void minMaxModAndCreateFiltersPruneButDoNotChangeCount() throws Exception {
    put("a", "1"); // 2
    put("b", "1"); // 3
    put("c", "1"); // 4
    put("a", "2"); // 5
    Range all = Range.of(b("a"), b("z"));
    RangeResponse mod = s.range(all.withModRevisions(3, 4));
    assertThat(keys(mod)).containsExactly("b", "c");
    assertThat(mod.count()).isEqualTo(3);
    assertThat(keys(s.range(all.withCreateRevisions(0, 2)))).containsExactly("a");
    assertThat(keys(s.range(all.withCreateRevisions(3, 0)))).containsExactly("b", "c");
    RangeResponse limited = s.range(all.withModRevisions(3, 0).withLimit(1));
    assertThat(keys(limited)).containsExactly("a");
    assertThat(limited.more()).isTrue();
  }

  @Test
  void ignoreValueAndIgnoreLeaseKeepCurrentOnes() throws Exception {
    apply(new LeaseGrant(7, 60));
    apply(Put.of(b("a"), b("v")).withLease(7));
    apply(new Put(b("a"), null, 0, false, true, false)); // ignore value, lease 0 -> detach
    assertThat(kv("a").value()).isEqualTo(b("v"));
    assertThat(kv("a").lease()).isZero();
    apply(Put.of(b("a"), b("w")).withLease(7));
    apply(new Put(b("a"), b("x"), 0, false, false, true));
    assertThat(kv("a").lease()).isEqualTo(7);
    assertThat(kv("a").value()).isEqualTo(b("x"));
  }

  @Test
  void ignoreValueOnMissingKeyFailsKeyNotFound() {
    assertCode(KEY_NOT_FOUND, () -> apply(new Put(b("a"), null, 0, false, true, false)));
    assertCode(KEY_NOT_FOUND, () -> apply(new Put(b("a"), b("v"), 0, false, false, true)));
    assertThat(s.currentRevision()).isEqualTo(1);
  }

  @Test
  void ignoreValueWithValueOrIgnoreLeaseWithLeaseIsRejected() {
    assertCode(VALUE_PROVIDED, () -> apply(new Put(b("a"), b("v"), 0, false, true, false)));
    assertCode(LEASE_PROVIDED, () -> apply(new Put(b("a"), b("v"), 5, false, false, true)));
  }

  @Test
  void emptyKeyIsRejected() {
    assertCode(EMPTY_KEY, () -> apply(Put.of(new byte[0], b("v"))));
    assertCode(EMPTY_KEY, () -> s.range(Range.key(new byte[0])));
    assertCode(EMPTY_KEY, () -> apply(DeleteRange.of(new byte[0], null)));
    assertCode(
        EMPTY_KEY,
        () -> apply(new Txn(List.of(Compare.number(new byte[0], VERSION, EQUAL, 0)), null, null)));
  }

  @Test
  void prevKvOnPutAndDeleteRange() throws Exception {
    PutResponse first = (PutResponse) apply(Put.of(b("a"), b("1")).withPrevKv());
    assertThat(first.prevKv()).isNull();
    PutResponse second = (PutResponse) apply(Put.of(b("a"), b("2")).withPrevKv());
    assertThat(second.prevKv()).isEqualTo(new KeyValue(b("a"), 2, 2, 1, b("1"), 0));
    assertThat(put("a", "3").prevKv()).isNull(); // not requested
    put("b", "1");
    DeleteRangeResponse d = (DeleteRangeResponse) apply(new DeleteRange(b("a"), b("z"), true));
    assertThat(d.deleted()).isEqualTo(2);
    assertThat(d.prevKvs()).extracting(kv -> str(kv.value())).containsExactly("3", "1");
  }

  @Test
  void leaseAttachesKeysAndRevokeDeletesThemInOneRevision() throws Exception {
    apply(new LeaseGrant(1, 10));
    apply(Put.of(b("x"), b("1")).withLease(1));
    apply(Put.of(b("y"), b("1")).withLease(1));
    put("z", "1");
    assertThat(kv("x").lease()).isEqualTo(1);
    assertThat(s.leaseKeys(1)).extracting(MvccFixture::str).containsExactly("x", "y");
    long before = s.currentRevision();
    LeaseRevokeResponse r = (LeaseRevokeResponse) apply(new LeaseRevoke(1));
    assertThat(r.revision()).isEqualTo(before + 1);
    assertThat(kv("x")).isNull();
    assertThat(kv("y")).isNull();
    assertThat(kv("z")).isNotNull();
    assertThat(s.leaseTtl(1)).isEmpty();
    assertThat(s.events(b("x"), b("zz"), before + 1, 0, 0).events()).hasSize(2);
  }

  @Test
  void revokeOfLeaseWithoutKeysDoesNotBumpRevision() throws Exception {
    apply(new LeaseGrant(1, 10));
    assertThat(((LeaseRevokeResponse) apply(new LeaseRevoke(1))).revision()).isEqualTo(1);
  }

  @Test
  void unknownLeaseFailsLeaseNotFoundAndDuplicateGrantFails() throws Exception {
    assertCode(LEASE_NOT_FOUND, () -> apply(Put.of(b("a"), b("1")).withLease(42)));
    assertCode(LEASE_NOT_FOUND, () -> apply(new LeaseRevoke(42)));
    assertCode(
        LEASE_NOT_FOUND,
        () -> txn(List.of(), List.of(Put.of(b("a"), b("1")).withLease(42)), List.of()));
    apply(new LeaseGrant(42, 5));
    assertCode(LEASE_EXISTS, () -> apply(new LeaseGrant(42, 5)));
  }

  @Test
  void putWithoutLeaseDetachesFromOldLease() throws Exception {
    apply(new LeaseGrant(1, 10));
    apply(Put.of(b("x"), b("1")).withLease(1));
    put("x", "2");
    assertThat(s.leaseKeys(1)).isEmpty();
    apply(new LeaseRevoke(1));
    assertThat(kv("x")).isNotNull();
  }

  @Test
  void compareOnMissingKeyComparesAgainstZero() throws Exception {
    assertThat(txn(List.of(Compare.number(b("a"), CREATE, EQUAL, 0)), null, null).succeeded())
        .isTrue();
    assertThat(txn(List.of(Compare.number(b("a"), VERSION, EQUAL, 0)), null, null).succeeded())
        .isTrue();
    assertThat(txn(List.of(Compare.number(b("a"), MOD, LESS, 1)), null, null).succeeded()).isTrue();
    assertThat(txn(List.of(Compare.number(b("a"), LEASE, EQUAL, 0)), null, null).succeeded())
        .isTrue();
  }

  @Test
  void valueCompareOnMissingKeyAlwaysFails() throws Exception {
    assertThat(txn(List.of(Compare.value(b("a"), EQUAL, b(""))), null, null).succeeded()).isFalse();
    assertThat(
            txn(List.of(Compare.value(b("a"), Compare.Result.NOT_EQUAL, b("x"))), null, null)
                .succeeded())
        .isFalse();
  }

  @Test
  void compareWithRangeEndMustHoldForEveryKey() throws Exception {
    put("a", "1");
    put("b", "1");
    put("b", "2");
    Compare v1 = Compare.number(b("a"), VERSION, EQUAL, 1).withRangeEnd(b("z"));
    assertThat(txn(List.of(v1), null, null).succeeded()).isFalse();
    Compare gt = Compare.number(b("a"), VERSION, GREATER, 0).withRangeEnd(b("z"));
    assertThat(txn(List.of(gt), null, null).succeeded()).isTrue();
  }

  @Test
  void txnChoosesBranchAndReturnsItsResponses() throws Exception {
    put("a", "1");
    TxnResponse r =
        txn(
            List.of(Compare.value(b("a"), EQUAL, b("2"))),
            List.of(Put.of(b("a"), b("ok"))),
            List.of(Range.key(b("a")), Put.of(b("a"), b("else"))));
    assertThat(r.succeeded()).isFalse();
    assertThat(r.responses()).hasSize(2);
    assertThat(str(((RangeResponse) r.responses().get(0)).kvs().get(0).value())).isEqualTo("1");
    assertThat(((RangeResponse) r.responses().get(0)).revision()).isEqualTo(2);
    assertThat(str(kv("a").value())).isEqualTo("else");
  }

  @Test
  void readsInsideTxnSeeEarlierWritesOfTheTxn() throws Exception {
    put("a", "1");
    TxnResponse r =
        txn(
            List.of(),
            List.of(
                Put.of(b("b"), b("2")),
                Range.of(b("a"), b("z")),
                DeleteRange.of(b("a"), null),
                Range.of(b("a"), b("z")).withCountOnly(true)),
            List.of());
    RangeResponse afterPut = (RangeResponse) r.responses().get(1);
    assertThat(keys(afterPut)).containsExactly("a", "b");
    assertThat(afterPut.revision()).isEqualTo(3);
    assertThat(((RangeResponse) r.responses().get(3)).count()).isEqualTo(1);
  }

  @Test
  void nestedTxnComparesSeeTheStateBeforeTheTxn() throws Exception {
    TxnResponse r =
        txn(
            List.of(),
            List.of(
                Put.of(b("a"), b("1")),
                new Txn(
                    List.of(Compare.number(b("a"), VERSION, EQUAL, 0)),
                    List.of(Put.of(b("seen-absent"), b(""))),
                    List.of(Put.of(b("seen-present"), b(""))))),
            List.of());
    assertThat(((TxnResponse) r.responses().get(1)).succeeded()).isTrue();
    assertThat(kv("seen-absent")).isNotNull();
  }

  @Test
  void txnRangeAtRevisionAboveBeginFailsFutureRevBeforeAnyWrite() throws Exception {
    put("a", "1");
    assertCode(
        FUTURE_REV,
        () ->
            txn(
                List.of(),
                List.of(Put.of(b("b"), b("1")), Range.key(b("a")).withRevision(3)),
                List.of()));
    assertThat(s.currentRevision()).isEqualTo(2);
  }

  @Test
  void txnWritingSameKeyTwiceInOneBranchFailsDuplicateKey() throws Exception {
    assertCode(
        DUPLICATE_KEY,
        () -> txn(List.of(), List.of(Put.of(b("a"), b("1")), Put.of(b("a"), b("2"))), null));
    assertCode(
        DUPLICATE_KEY,
        () ->
            txn(List.of(), List.of(DeleteRange.of(b("a"), b("c")), Put.of(b("b"), b("2"))), null));
    assertCode(
        DUPLICATE_KEY,
        () ->
            txn(
                List.of(),
                List.of(
                    Put.of(b("a"), b("1")), new Txn(null, List.of(Put.of(b("a"), b("2"))), null)),
                null));
    // then/else of one nested txn are exclusive, overlapping deletes are fine,
    // and success/failure of the top level are checked separately
    txn(
        List.of(),
        List.of(
            new Txn(null, List.of(Put.of(b("a"), b("1"))), List.of(Put.of(b("a"), b("2")))),
            DeleteRange.of(b("x"), b("z")),
            DeleteRange.of(b("y"), null)),
        List.of(Put.of(b("a"), b("3"))));
    assertThat(str(kv("a").value())).isEqualTo("1");
  }

  @Test
  void txnWithMoreThanMaxOpsFailsTooManyOps() {
    List<Op> ops = new ArrayList<>();
    for (int i = 0; i <= MvccStore.MAX_TXN_OPS; i++) {
      ops.add(Range.key(b("k" + i)));
    }
    assertCode(TOO_MANY_OPS, () -> txn(List.of(), ops, List.of()));
    ops.remove(0);
    org.assertj.core.api.Assertions.assertThatCode(() -> txn(List.of(), ops, List.of()))
        .doesNotThrowAnyException();
  }

  @Test
  void compactRemovesHistoryButKeepsLatestOfLiveKeys() throws Exception {
    put("a", "1"); // 2
    put("a", "2"); // 3
    put("b", "1"); // 4
    del("b"); // 5
    put("c", "1"); // 6
    apply(new Compact(5, false));
    assertThat(s.compactRevision()).isEqualTo(5);
    RangeResponse at5 = s.range(Range.of(b("a"), b("z")).withRevision(5));
    assertThat(keys(at5)).containsExactly("a");
    assertThat(str(at5.kvs().get(0).value())).isEqualTo("2");
    assertThat(keys(s.range(Range.of(b("a"), b("z"))))).containsExactly("a", "c");
    // the delete at the compact revision itself stays visible to watchers
    assertThat(s.events(b("b"), null, 5, 0, 0).events())
        .extracting(Event::type)
        .containsExactly(Event.Type.DELETE);
    assertCode(COMPACTED, () -> s.events(b("a"), null, 4, 0, 0));
    apply(new Compact(6, false));
    assertThat(s.events(b("b"), null, 6, 0, 0).events()).isEmpty();
  }

  @Test
  void compactFutureRevisionFailsAndRecompactingFailsCompacted() throws Exception {
    put("a", "1");
    assertCode(FUTURE_REV, () -> apply(new Compact(3, false)));
    apply(new Compact(2, false));
    assertCode(COMPACTED, () -> apply(new Compact(2, false)));
    assertCode(COMPACTED, () -> apply(new Compact(1, false)));
  }

  @Test
  void rejectedCommandStillAdvancesAppliedIndex() throws Exception {
    put("a", "1");
    assertCode(FUTURE_REV, () -> apply(new Compact(99, false)));
    assertThat(s.appliedIndex()).isEqualTo(raftIndex);
    assertThat(s.apply(raftIndex, Put.of(b("a"), b("2")))).isEmpty();
    assertThat(s.currentRevision()).isEqualTo(2);
  }

  @Test
  void rangeResultsAreSortedByKeyWhenUnsorted() throws Exception {
    List<String> ks = new ArrayList<>(List.of("d", "b", "a", "c", "e"));
    Collections.shuffle(ks, new java.util.Random(1));
    for (String k : ks) {
      put(k, k);
    }
    assertThat(keys(s.range(Range.of(b("a"), b("z"))))).containsExactly("a", "b", "c", "d", "e");
  }

  @Test
  void readTxnOutsideRaftEqualsAppliedReadOnlyTxn() throws Exception {
    put("a", "1");
    put("b", "2");
    Txn t =
        new Txn(
            List.of(Compare.value(b("a"), EQUAL, b("1"))),
            List.of(
                Range.of(b("a"), b("z")),
                Range.key(b("a")).withRevision(2),
                new Txn(
                    List.of(Compare.number(b("zz"), VERSION, EQUAL, 0)),
                    List.of(Range.key(b("b")).withCountOnly(true)),
                    null)),
            List.of());
    TxnResponse read = s.readTxn(t);
    assertThat(read).isEqualTo(txn(t.compare(), t.success(), t.failure()));
    assertThat(read.revision()).isEqualTo(3);
    assertCode(
        FUTURE_REV,
        () -> s.readTxn(new Txn(null, List.of(Range.key(b("a")).withRevision(9)), null)));
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> s.readTxn(new Txn(null, List.of(Put.of(b("a"), b("x"))), null)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
