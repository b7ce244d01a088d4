package dev.kubelite.store.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.store.mvcc.Responses.RangeResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MvccDurabilityTest extends MvccFixture {
  @TempDir Path dir;

  private List<WriteCommand> workload() {
    List<WriteCommand> cmds = new ArrayList<>();
    cmds.add(new LeaseGrant(9, 30));
    for (int i = 0; i < 30; i++) {
      cmds.add(Put.of(b("k" + (i % 7)), b("v" + i)).withLease(i % 3 == 0 ? 9 : 0));
      if (i % 5 == 4) {
        cmds.add(DeleteRange.of(b("k" + (i % 4)), null));
      }
      if (i == 20) {
        cmds.add(new Compact(10, false));
      }
    }
    cmds.add(new Compact(99, false)); // rejected, still applied
    return cmds;
  }

  private List<RangeResponse> snapshotOfState(MvccStore st) throws MvccException {
    List<RangeResponse> out = new ArrayList<>();
    for (long rev = st.compactRevision(); rev <= st.currentRevision(); rev++) {
      out.add(st.range(Range.of(new byte[] {0}, new byte[] {0}).withRevision(rev)));
    }
    return out;
  }

  private void applyAll(MvccStore st, List<WriteCommand> cmds, long firstIndex) {
    long i = firstIndex;
    for (WriteCommand c : cmds) {
      try {
        st.apply(i++, c);
      } catch (MvccException e) {
        assertThat(e.code()).isEqualTo(MvccException.Code.FUTURE_REV);
      }
    }
  }

  @Test
  void reopenRebuildsIndexAndReappliedRaftIndexesAreSkipped() throws Exception {
    List<WriteCommand> cmds = workload();
    List<RangeResponse> before;
    long rev;
    try (MvccStore st = MvccStore.open(dir)) {
      applyAll(st, cmds, 1);
      assertThat(st.appliedIndex()).isEqualTo(cmds.size());
      before = snapshotOfState(st);
      rev = st.currentRevision();
    }
    try (MvccStore st = MvccStore.open(dir)) {
      assertThat(st.appliedIndex()).isEqualTo(cmds.size());
      assertThat(st.currentRevision()).isEqualTo(rev);
      assertThat(st.compactRevision()).isEqualTo(10);
      assertThat(snapshotOfState(st)).isEqualTo(before);
      assertThat(st.leaseKeys(9)).isNotEmpty();
      // Raft replays everything after a crash: every entry is skipped.
      long i = 1;
      for (WriteCommand c : cmds) {
        assertThat(st.apply(i++, c)).isEmpty();
      }
      assertThat(snapshotOfState(st)).isEqualTo(before);
      assertThat(st.currentRevision()).isEqualTo(rev);
    }
  }

  @Test
  void crashMidSequenceThenReplayFromRaftLogReachesSameState() throws Exception {
    List<WriteCommand> cmds = workload();
    List<RangeResponse> expected;
    try (MvccStore ref = MvccStore.open(dir.resolve("ref"))) {
      applyAll(ref, cmds, 1);
      expected = snapshotOfState(ref);
    }
    int half = cmds.size() / 2;
    try (MvccStore st = MvccStore.open(dir.resolve("node"))) {
      applyAll(st, cmds.subList(0, half), 1);
    }
    // Restart: the driver replays the whole log; entries <= appliedIndex are skipped.
    try (MvccStore st = MvccStore.open(dir.resolve("node"))) {
      assertThat(st.appliedIndex()).isEqualTo(half);
      applyAll(st, cmds, 1);
      assertThat(snapshotOfState(st)).isEqualTo(expected);
    }
  }

  @Test
  void checkpointOpensElsewhereWithIdenticalRanges() throws Exception {
    List<WriteCommand> cmds = workload();
    try (MvccStore st = MvccStore.open(dir.resolve("db"))) {
      applyAll(st, cmds, 1);
      st.snapshot(dir.resolve("cp"));
      List<RangeResponse> expected = snapshotOfState(st);
      assertThat(st.dbSizeBytes()).isPositive();
      st.apply(cmds.size() + 1L, Put.of(b("after"), b("snapshot")));
      try (MvccStore copy = MvccStore.restoreFrom(dir.resolve("cp"), dir.resolve("restored"))) {
        assertThat(copy.appliedIndex()).isEqualTo(cmds.size());
        assertThat(snapshotOfState(copy)).isEqualTo(expected);
        assertThat(copy.leases()).isEqualTo(st.leases());
      }
      try (MvccStore direct = MvccStore.open(dir.resolve("cp"))) {
        assertThat(snapshotOfState(direct)).isEqualTo(expected);
      }
    }
  }

  @Test
  void readsRunConcurrentlyWithApplyAndCompaction() throws Exception {
    s = MvccStore.open(dir);
    try {
      AtomicBoolean stop = new AtomicBoolean();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      Thread reader =
          new Thread(
              () -> {
                while (!stop.get()) {
                  try {
                    long cur = s.currentRevision();
                    RangeResponse r = s.range(Range.of(b("k"), b("l")).withRevision(cur));
                    // every key is always written together: all values equal
                    long distinct = r.kvs().stream().map(kv -> str(kv.value())).distinct().count();
                    if (distinct > 1) {
                      throw new AssertionError("torn read at " + cur + ": " + r.kvs());
                    }
                  } catch (MvccException e) {
                    if (e.code() != MvccException.Code.COMPACTED) {
                      failure.set(e);
                    }
                  } catch (Throwable t) {
                    failure.set(t);
                  }
                }
              });
      reader.start();
      for (int i = 0; i < 400; i++) {
        List<Op> ops = new ArrayList<>();
        for (int k = 0; k < 5; k++) {
          ops.add(Put.of(b("k" + k), b("v" + i)));
        }
        txn(List.of(), ops, List.of());
        if (i % 50 == 49) {
          apply(new Compact(s.currentRevision() - 1, false));
        }
      }
      stop.set(true);
      reader.join();
      assertThat(failure.get()).isNull();
    } finally {
      s.close();
    }
  }
}
