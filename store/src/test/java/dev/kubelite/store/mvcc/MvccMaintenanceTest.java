package dev.kubelite.store.mvcc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubelite.store.mvcc.MvccException.Code;
import dev.kubelite.store.mvcc.Responses.AlarmResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Alarms, HashKV/Hash and defragmentation on the MVCC engine itself. */
class MvccMaintenanceTest extends MvccFixture {
  @TempDir Path dir;

  @BeforeEach
  void open() {
    s = MvccStore.open(dir.resolve("db"));
  }

  @AfterEach
  void close() {
    if (s != null) {
      s.close();
    }
  }

  private AlarmResponse alarm(AlarmChange.Action action, long member, int type)
      throws MvccException {
    return (AlarmResponse) apply(new AlarmChange(action, member, type));
  }

  private static Txn txnOf(List<Op> success) {
    return new Txn(List.of(), success, List.of());
  }

  @Test
  void noSpaceRefusesWritesThatAddDataAndLetsSpaceBeReclaimed() throws Exception {
    put("a", "1");
    put("b", "2");
    apply(new LeaseGrant(5, 60));
    long rev = s.currentRevision();

    AlarmResponse raised = alarm(AlarmChange.Action.ACTIVATE, 7, Alarm.NOSPACE);
    assertThat(raised.alarms()).containsExactly(new Alarm(7, Alarm.NOSPACE));
    assertThat(s.currentRevision()).as("an alarm is not a revision").isEqualTo(rev);
    assertThat(s.alarms(Alarm.NONE)).containsExactly(new Alarm(7, Alarm.NOSPACE));

    assertCode(Code.NO_SPACE, () -> put("c", "3"));
    assertCode(Code.NO_SPACE, () -> apply(new LeaseGrant(6, 60)));
    assertCode(Code.NO_SPACE, () -> apply(txnOf(List.of(Put.of(b("c"), b("3"))))));
    assertCode(Code.NO_SPACE, () -> apply(txnOf(List.of(txnOf(List.of(Put.of(b("c"), b("3"))))))));
    assertThat(s.currentRevision()).isEqualTo(rev);

    // Reads, deletes, delete-only txns, lease revocations and compactions still work.
    assertThat(kv("a").value()).isEqualTo(b("1"));
    assertThat(del("a").deleted()).isEqualTo(1);
    apply(txnOf(List.of(DeleteRange.of(b("b"), null), Range.key(b("b")))));
    apply(new LeaseRevoke(5));
    apply(new Compact(s.currentRevision(), false));
    assertThat(kv("b")).isNull();

    // Raising it again answers the alarm; clearing answers it once, then nothing.
    assertThat(alarm(AlarmChange.Action.ACTIVATE, 7, Alarm.NOSPACE).alarms()).hasSize(1);
    assertThat(alarm(AlarmChange.Action.DEACTIVATE, 7, Alarm.NOSPACE).alarms())
        .containsExactly(new Alarm(7, Alarm.NOSPACE));
    assertThat(alarm(AlarmChange.Action.DEACTIVATE, 7, Alarm.NOSPACE).alarms()).isEmpty();
    assertThat(s.alarms(Alarm.NONE)).isEmpty();
    put("c", "3");
    assertThat(kv("c").value()).isEqualTo(b("3"));
    alarm(AlarmChange.Action.ACTIVATE, 8, Alarm.NONE); // refuses nothing
    put("c", "4");
  }

  @Test
  void alarmsPersistAcrossReopenAndListByType() throws Exception {
    alarm(AlarmChange.Action.ACTIVATE, 9, Alarm.NOSPACE);
    alarm(AlarmChange.Action.ACTIVATE, 3, Alarm.NOSPACE);
    alarm(AlarmChange.Action.ACTIVATE, -1L, Alarm.CORRUPT); // ids are unsigned
    // etcd 3.4 records even an alarm of type NONE.
    assertThat(alarm(AlarmChange.Action.ACTIVATE, 4, Alarm.NONE).alarms())
        .containsExactly(new Alarm(4, Alarm.NONE));
    assertThat(alarm(AlarmChange.Action.DEACTIVATE, 4, Alarm.NONE).alarms()).hasSize(1);
    s.close();
    s = MvccStore.open(dir.resolve("db"));
    assertThat(s.alarms(Alarm.NONE))
        .containsExactly(
            new Alarm(3, Alarm.NOSPACE),
            new Alarm(9, Alarm.NOSPACE),
            new Alarm(-1L, Alarm.CORRUPT));
    assertThat(s.alarms(Alarm.CORRUPT)).containsExactly(new Alarm(-1L, Alarm.CORRUPT));
    assertThat(alarm(AlarmChange.Action.GET, 0, Alarm.NOSPACE).alarms()).hasSize(2);
  }

  @Test
  void checkpointsCarryAlarmsSoStateImagesDo() throws Exception {
    put("a", "1");
    alarm(AlarmChange.Action.ACTIVATE, 7, Alarm.NOSPACE);
    s.snapshot(dir.resolve("checkpoint"));
    try (MvccStore restored =
        MvccStore.restoreFrom(dir.resolve("checkpoint"), dir.resolve("restored"))) {
      assertThat(restored.alarms(Alarm.NONE)).containsExactly(new Alarm(7, Alarm.NOSPACE));
      assertThatThrownBy(() -> restored.apply(raftIndex + 1, Put.of(b("b"), b("1"))))
          .isInstanceOf(MvccException.class)
          .hasMessageContaining("NOSPACE");
    }
  }

  @Test
  void corruptRefusesEveryWriteButAlarmChanges() throws Exception {
    put("a", "1");
    apply(new LeaseGrant(5, 60));
    alarm(AlarmChange.Action.ACTIVATE, 1, Alarm.CORRUPT);
    assertCode(Code.CORRUPT, () -> put("b", "1"));
    assertCode(Code.CORRUPT, () -> del("a"));
    assertCode(Code.CORRUPT, () -> apply(new Compact(2, false)));
    assertCode(Code.CORRUPT, () -> apply(new LeaseRevoke(5)));
    assertThat(kv("a").value()).isEqualTo(b("1"));
    alarm(AlarmChange.Action.DEACTIVATE, 1, Alarm.CORRUPT);
    del("a");
  }

  /**
   * The bytes etcd 3.4 hashes for one put of a=1 at revision 2: the bucket name, the revision key
   * (main, '_', sub) and the protobuf KeyValue {key, create_revision, mod_revision, version,
   * value}.
   */
  @Test
  void hashKvHashesEtcdsBucketEncoding() throws Exception {
    put("a", "1");
    CRC32C crc = new CRC32C();
    crc.update(b("key"));
    crc.update(ByteBuffer.allocate(17).putLong(2).put((byte) '_').putLong(0).array());
    crc.update(new byte[] {0x0A, 1, 'a', 0x10, 2, 0x18, 2, 0x20, 1, 0x2A, 1, '1'});
    MvccStore.HashResult h = s.hashKv(0);
    assertThat(h.hash()).isEqualTo((int) crc.getValue());
    assertThat(h.revision()).isEqualTo(2);
    assertThat(h.compactRevision()).isEqualTo(-1);

    del("a"); // a tombstone: revision key with 't', a KeyValue with the key only
    crc.update(
        ByteBuffer.allocate(18).putLong(3).put((byte) '_').putLong(0).put((byte) 't').array());
    crc.update(new byte[] {0x0A, 1, 'a'});
    assertThat(s.hashKv(0).hash()).isEqualTo((int) crc.getValue());
  }

  private static List<WriteCommand> history(long seed, int n) {
    Random rng = new Random(seed);
    List<WriteCommand> cmds = new ArrayList<>();
    cmds.add(new LeaseGrant(11, 60));
    for (int i = 0; i < n; i++) {
      String k = "k" + rng.nextInt(6);
      int kind = rng.nextInt(10);
      if (kind < 6) {
        cmds.add(Put.of(b(k), b("v" + i)).withLease(rng.nextInt(4) == 0 ? 11 : 0));
      } else if (kind < 8) {
        cmds.add(DeleteRange.of(b(k), null));
      } else {
        cmds.add(txnOf(List.of(Put.of(b(k), b("t" + i)), DeleteRange.of(b(k + "x"), null))));
      }
    }
    return cmds;
  }

  private static void applyAll(MvccStore st, List<WriteCommand> cmds, long firstIndex) {
    long i = firstIndex;
    for (WriteCommand c : cmds) {
      try {
        st.apply(i++, c);
      } catch (MvccException e) {
        throw new AssertionError(e);
      }
    }
  }

  @Test
  void sameHistoryGivesSameHashesWhateverTheRaftIndexes() throws Exception {
    List<WriteCommand> cmds = history(1, 60);
    applyAll(s, cmds, 1);
    try (MvccStore other = MvccStore.open(dir.resolve("other"))) {
      applyAll(other, cmds, 1000); // same history, different log positions
      assertThat(other.hashKv(0)).isEqualTo(s.hashKv(0));
      assertThat(other.hash().hash()).isEqualTo(s.hash().hash());
      long mid = s.currentRevision() / 2;
      assertThat(other.hashKv(mid)).isEqualTo(s.hashKv(mid));

      // A hash at a past revision does not move as history grows.
      MvccStore.HashResult before = s.hashKv(0);
      applyAll(s, List.of(Put.of(b("extra"), b("1"))), 500);
      assertThat(s.hashKv(before.revision()).hash()).isEqualTo(before.hash());
      assertThat(s.hashKv(0).hash()).isNotEqualTo(before.hash());
      assertThat(s.hash().hash()).isNotEqualTo(other.hash().hash());

      // The same compaction on both keeps them equal; only the compaction changes the hash.
      long at = s.currentRevision() - 3;
      applyAll(s, List.of(new Compact(at, false)), 501);
      applyAll(other, List.of(Put.of(b("extra"), b("1")), new Compact(at, false)), 2000);
      assertThat(other.hashKv(0)).isEqualTo(s.hashKv(0));
      assertThat(s.hashKv(0).compactRevision()).isEqualTo(at);
      assertThat(other.hash().hash()).isEqualTo(s.hash().hash());
    }
  }

  @Test
  void hashKvRejectsCompactedAndFutureRevisionsAsEtcd() throws Exception {
    for (int i = 0; i < 5; i++) {
      put("k", "v" + i);
    }
    apply(new Compact(4, false));
    assertCode(Code.COMPACTED, () -> s.hashKv(3));
    assertCode(Code.COMPACTED, () -> s.hashKv(4)); // etcd: revision <= compacted
    assertThat(s.hashKv(5).compactRevision()).isEqualTo(4);
    assertCode(Code.FUTURE_REV, () -> s.hashKv(7));
  }

  @Test
  void defragmentReclaimsSpaceWhileReadsAndWritesGoOn() throws Exception {
    byte[] big = new byte[20_000];
    new Random(3).nextBytes(big);
    for (int i = 0; i < 200; i++) {
      apply(Put.of(b("big" + (i % 50)), big));
    }
    apply(new DeleteRange(b("big"), b("bih"), false));
    apply(new Compact(s.currentRevision(), false));
    long before = s.dbSizeBytes();
    assertThat(before).isGreaterThan(200L * 20_000 / 2);

    AtomicBoolean stop = new AtomicBoolean();
    CompletableFuture<Integer> writer =
        CompletableFuture.supplyAsync(
            () -> {
              int n = 0;
              while (!stop.get() && n < 5_000) {
                try {
                  s.apply(++raftIndex, Put.of(b("w" + n), b("v" + n)));
                  assertThat(s.range(Range.key(b("w" + n))).kvs()).hasSize(1);
                } catch (MvccException e) {
                  throw new AssertionError(e);
                }
                n++;
              }
              return n;
            });
    s.defragment();
    stop.set(true);
    int written = writer.get(30, TimeUnit.SECONDS);
    for (int i = 0; i < written; i++) {
      assertThat(kv("w" + i).value()).isEqualTo(b("v" + i));
    }
    assertThat(s.dbSizeBytes()).isLessThan(before / 4);
  }

  @Test
  void closeCancelsARunningDefragmentation() throws Exception {
    byte[] big = new byte[50_000];
    new Random(4).nextBytes(big);
    for (int i = 0; i < 400; i++) {
      apply(Put.of(b("big" + i), big));
    }
    MvccStore store = s;
    CompletableFuture<Void> defrag = CompletableFuture.runAsync(store::defragment);
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(10))
        .until(() -> store.runningDefragmentations() > 0 || defrag.isDone());
    store.close();
    s = null;
    // close() returned, so the defragmentation is over: cancelled, or finished just before (RocksDB
    // looks at the cancel flag between compaction steps). Either way it did not outlive the store.
    assertThat(store.runningDefragmentations()).isZero();
    try {
      defrag.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      assertThat(e.getCause())
          .isInstanceOf(MvccStorageException.class)
          .hasMessageContaining("cancelled");
    }
  }

  @Test
  void defragmentOnAClosedStoreFails() {
    s.close();
    MvccStore closed = s;
    s = null;
    assertThatThrownBy(closed::defragment)
        .isInstanceOf(MvccStorageException.class)
        .hasMessageContaining("closed");
  }
}
