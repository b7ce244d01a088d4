package dev.kubelite.store.raft.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubelite.store.raft.ConfState;
import dev.kubelite.store.raft.Entry;
import dev.kubelite.store.raft.HardState;
import dev.kubelite.store.raft.MemoryRaftStorage;
import dev.kubelite.store.raft.RaftLogStorage;
import dev.kubelite.store.raft.RaftStorage;
import dev.kubelite.store.raft.Snapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

/** Shared helpers: view comparison and a random operation generator driving two storages. */
final class WalTestSupport {
  private WalTestSupport() {}

  /** Asserts every observable of {@code actual} equals {@code expected}. */
  static void assertSameView(RaftStorage actual, RaftStorage expected, String context) {
    assertThat(actual.hardState()).as("hardState %s", context).isEqualTo(expected.hardState());
    assertThat(actual.snapshot()).as("snapshot %s", context).isEqualTo(expected.snapshot());
    assertThat(actual.firstIndex()).as("firstIndex %s", context).isEqualTo(expected.firstIndex());
    assertThat(actual.lastIndex()).as("lastIndex %s", context).isEqualTo(expected.lastIndex());
    for (long i = Math.max(0, expected.firstIndex() - 3); i <= expected.lastIndex() + 2; i++) {
      assertThat(actual.term(i)).as("term(%s) %s", i, context).isEqualTo(expected.term(i));
    }
    assertThat(actual.entries(actual.firstIndex(), actual.lastIndex() + 1, Long.MAX_VALUE))
        .as("entries %s", context)
        .isEqualTo(
            expected.entries(expected.firstIndex(), expected.lastIndex() + 1, Long.MAX_VALUE));
  }

  static byte[] randomBytes(Random rnd, int max) {
    byte[] b = new byte[rnd.nextInt(max + 1)];
    rnd.nextBytes(b);
    return b;
  }

  static ConfState randomConf(Random rnd) {
    Set<Long> voters = new HashSet<>();
    Set<Long> learners = new HashSet<>();
    for (long id = 1; id <= 5; id++) {
      int r = rnd.nextInt(3);
      if (r == 0) {
        voters.add(id);
      } else if (r == 1) {
        learners.add(id);
      }
    }
    return new ConfState(voters, learners);
  }

  /** Generates random save/compact calls valid under MemoryRaftStorage's contract. */
  static final class OpGenerator {
    final Random rnd;
    long term = 1;

    OpGenerator(Random rnd) {
      this.rnd = rnd;
    }

    List<Entry> entries(long from, int count) {
      List<Entry> out = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        Entry.Type type = rnd.nextInt(10) == 0 ? Entry.Type.CONF_CHANGE : Entry.Type.NORMAL;
        out.add(new Entry(term, from + i, type, randomBytes(rnd, 40)));
      }
      return out;
    }

    HardState hardState(RaftStorage ref) {
      int r = rnd.nextInt(10);
      if (r < 4) {
        return null;
      }
      if (r == 4) {
        return HardState.EMPTY; // means "no change"
      }
      return new HardState(term, rnd.nextInt(4), rnd.nextLong(Math.max(1, ref.lastIndex() + 1)));
    }

    /** A save() of entries (possibly overwriting a suffix) and/or a hard state. */
    void save(RaftLogStorage log, MemoryRaftStorage ref) {
      if (rnd.nextInt(5) == 0) {
        term++;
      }
      long lo;
      int r = rnd.nextInt(20);
      if (r == 0) {
        lo = Math.max(1, ref.firstIndex() - 1 - rnd.nextInt(3)); // partly below the compaction
      } else if (r < 5) {
        long floor = Math.max(ref.firstIndex(), ref.snapshot().index() + 1);
        long span = ref.lastIndex() + 1 - floor;
        lo = span <= 0 ? ref.lastIndex() + 1 : floor + rnd.nextLong(span + 1); // overwrite
      } else {
        lo = ref.lastIndex() + 1;
      }
      List<Entry> es = entries(lo, rnd.nextInt(7));
      HardState hs = hardState(ref);
      log.save(hs, es, null);
      ref.save(hs, es, null);
    }

    /** A snapshot from a leader, sometimes with entries following it. */
    void install(RaftLogStorage log, MemoryRaftStorage ref) {
      term++;
      long index = Math.max(1, ref.snapshot().index() + rnd.nextInt(15));
      Snapshot s = new Snapshot(index, term, randomConf(rnd), randomBytes(rnd, 200));
      List<Entry> es =
          rnd.nextBoolean() ? entries(index + 1 - rnd.nextInt(2), rnd.nextInt(5)) : List.of();
      HardState hs = rnd.nextBoolean() ? new HardState(term, 1, index) : null;
      log.save(hs, es, s);
      ref.save(hs, es, s);
    }

    /** A locally taken snapshot plus compaction (sometimes an outdated one, a no-op). */
    void compact(RaftLogStorage log, MemoryRaftStorage ref) {
      long snapFloor = Math.max(1, ref.snapshot().index());
      if (snapFloor > ref.lastIndex()) {
        return;
      }
      long index;
      if (rnd.nextInt(8) == 0 && snapFloor > 1) {
        index = snapFloor - 1; // outdated
      } else {
        index = snapFloor + rnd.nextLong(ref.lastIndex() - snapFloor + 1);
      }
      long t = ref.term(index) >= 0 ? ref.term(index) : term;
      Snapshot s =
          rnd.nextInt(6) == 0 && index == ref.snapshot().index()
              ? ref.snapshot()
              : new Snapshot(index, t, randomConf(rnd), randomBytes(rnd, 200));
      long compactIndex = Math.max(0, index - rnd.nextInt(6));
      log.compact(s, compactIndex);
      ref.compact(s, compactIndex);
    }

    /** An append leaving a gap: both must reject it without change. */
    void invalid(RaftLogStorage log, MemoryRaftStorage ref) {
      List<Entry> es = entries(ref.lastIndex() + 2 + rnd.nextInt(3), 1 + rnd.nextInt(3));
      assertThatThrownBy(() -> log.save(null, es, null))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> ref.save(null, es, null))
          .isInstanceOf(IllegalArgumentException.class);
    }

    /** One random operation (no reopen). */
    void step(RaftLogStorage log, MemoryRaftStorage ref) {
      int r = rnd.nextInt(100);
      if (r < 70) {
        save(log, ref);
      } else if (r < 78) {
        install(log, ref);
      } else if (r < 96) {
        compact(log, ref);
      } else {
        invalid(log, ref);
      }
    }
  }

  static List<Path> segmentFiles(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().endsWith(".wal")).sorted().toList();
    }
  }

  static void copyDir(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        if (!p.getFileName().toString().equals("LOCK")) {
          Files.copy(p, to.resolve(p.getFileName()));
        }
      }
    }
  }

  static void deleteDir(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
