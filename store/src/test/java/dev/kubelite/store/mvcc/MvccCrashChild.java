package dev.kubelite.store.mvcc;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Child JVM for {@link MvccCrashTest}: applies the deterministic workload from the store's applied
 * index on, printing each applied Raft index, until it is killed.
 */
public final class MvccCrashChild {
  private MvccCrashChild() {}

  /** The Raft entry at {@code index} of the workload: a pure function of (seed, index). */
  static WriteCommand command(long seed, long index) {
    Random rnd = new Random(seed * 1_000_003L + index);
    byte[] key = ("k" + rnd.nextInt(40)).getBytes(StandardCharsets.UTF_8);
    byte[] value = ("v" + index).getBytes(StandardCharsets.UTF_8);
    int kind = rnd.nextInt(20);
    if (kind < 12) {
      return Put.of(key, value);
    } else if (kind < 15) {
      return DeleteRange.of(key, Bytes.prefixEnd(key));
    } else if (kind < 19) {
      byte[] other = ("j" + rnd.nextInt(40)).getBytes(StandardCharsets.UTF_8);
      return new Txn(
          List.of(Compare.number(key, Compare.Target.VERSION, Compare.Result.GREATER, 0)),
          List.of(Put.of(other, value), DeleteRange.of(key, null)),
          List.of(Put.of(key, value)));
    }
    return new Compact(index / 2, false); // often FUTURE_REV/COMPACTED: deterministic either way
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    long seed = Long.parseLong(args[1]);
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    try (MvccStore s = MvccStore.open(dir)) {
      for (long i = s.appliedIndex() + 1; ; i++) {
        try {
          s.apply(i, command(seed, i));
        } catch (MvccException rejected) {
          // Expected for some entries (e.g. Compact of a future revision): a rejection is the
          // entry's deterministic result and the entry still counts as applied.
          assert rejected.code() != null;
        }
        out.println(i);
      }
    }
  }
}
