package dev.kubelite.store.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.store.mvcc.MvccException.Code;
import dev.kubelite.store.mvcc.Range.SortOrder;
import dev.kubelite.store.mvcc.Range.SortTarget;
import dev.kubelite.store.mvcc.Responses.CompactResponse;
import dev.kubelite.store.mvcc.Responses.DeleteRangeResponse;
import dev.kubelite.store.mvcc.Responses.LeaseGrantResponse;
import dev.kubelite.store.mvcc.Responses.LeaseRevokeResponse;
import dev.kubelite.store.mvcc.Responses.OpResponse;
import dev.kubelite.store.mvcc.Responses.PutResponse;
import dev.kubelite.store.mvcc.Responses.RangeResponse;
import dev.kubelite.store.mvcc.Responses.TxnResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded randomized model test: random commands and reads against {@link MvccStore} and against a
 * small reference model that keeps the full key->value map of every revision. Every response, every
 * error code and every published event must match.
 */
class MvccModelTest {
  private static final String[] KEYS = {"a", "b", "c", "d", "e", "f", "ab", "b\u007f"};

  @TempDir Path dir;

  static LongStream seeds() {
    return LongStream.range(1, 1 + Long.getLong("mvcc.model.seeds", 12));
  }

  // ---------------------------------------------------------------- reference model

  /** Obviously-correct model: one full map per revision. Keys are ASCII, so String order works. */
  static final class Model {
    final Map<Long, TreeMap<String, KeyValue>> states = new HashMap<>();
    final Map<Long, List<Event>> events = new HashMap<>();
    final Map<Long, Long> leases = new HashMap<>();
    long rev = 1;
    long compacted = -1;

    Model() {
      states.put(1L, new TreeMap<>());
    }

    TreeMap<String, KeyValue> cur() {
      return states.get(rev);
    }

    static String s(byte[] b) {
      return new String(b, StandardCharsets.ISO_8859_1);
    }

    static boolean in(String k, byte[] key, byte[] end) {
      return Bytes.inRange(k.getBytes(StandardCharsets.ISO_8859_1), key, end);
    }

    /** Work state of one write entry. */
    final class W {
      final long begin = rev;
      final TreeMap<String, KeyValue> work = new TreeMap<>(cur());
      final List<Event> changes = new ArrayList<>();

      long r() {
        return changes.isEmpty() ? begin : begin + 1;
      }
    }

    Object apply(WriteCommand c) throws MvccException {
      W w = new W();
      Object resp;
      if (c instanceof Put p) {
        if (p.lease() != 0 && !leases.containsKey(p.lease())) {
          throw new MvccException(Code.LEASE_NOT_FOUND, "");
        }
        resp = put(p, w);
      } else if (c instanceof DeleteRange d) {
        resp = del(d, w);
      } else if (c instanceof Txn t) {
        Map<Txn, Boolean> path = new java.util.IdentityHashMap<>();
        decide(t, w, path);
        check(t, path, w);
        resp = exec(t, path, w);
      } else if (c instanceof Compact k) {
        if (k.revision() <= compacted) {
          throw new MvccException(Code.COMPACTED, "");
        }
        if (k.revision() > rev) {
          throw new MvccException(Code.FUTURE_REV, "");
        }
        compacted = k.revision();
        resp = new CompactResponse(rev);
      } else if (c instanceof LeaseGrant g) {
        if (leases.containsKey(g.id())) {
          throw new MvccException(Code.LEASE_EXISTS, "");
        }
        leases.put(g.id(), g.ttlSeconds());
        resp = new LeaseGrantResponse(g.id(), g.ttlSeconds(), rev);
      } else {
        LeaseRevoke r = (LeaseRevoke) c;
        if (!leases.containsKey(r.id())) {
          throw new MvccException(Code.LEASE_NOT_FOUND, "");
        }
        for (KeyValue kv : new ArrayList<>(w.work.values())) {
          if (kv.lease() == r.id()) {
            del(DeleteRange.of(kv.key(), null), w);
          }
        }
        leases.remove(r.id());
        resp = new LeaseRevokeResponse(w.r());
      }
      if (!w.changes.isEmpty()) {
        rev++;
        states.put(rev, w.work);
        events.put(rev, w.changes);
      }
      return resp;
    }

    PutResponse put(Put p, W w) throws MvccException {
      KeyValue prev = w.work.get(s(p.key()));
      if ((p.ignoreValue() || p.ignoreLease()) && prev == null) {
        throw new MvccException(Code.KEY_NOT_FOUND, "");
      }
      long r = w.begin + 1;
      KeyValue kv =
          new KeyValue(
              p.key(),
              prev == null ? r : prev.createRevision(),
              r,
              prev == null ? 1 : prev.version() + 1,
              p.ignoreValue() ? prev.value() : p.value(),
              p.ignoreLease() ? prev.lease() : p.lease());
      w.work.put(s(p.key()), kv);
      w.changes.add(new Event(Event.Type.PUT, kv, prev));
      return new PutResponse(p.prevKv() ? prev : null, r);
    }

    DeleteRangeResponse del(DeleteRange d, W w) {
      List<KeyValue> gone = new ArrayList<>();
      for (String k : new ArrayList<>(w.work.keySet())) {
        if (in(k, d.key(), d.rangeEnd())) {
          KeyValue prev = w.work.remove(k);
          gone.add(prev);
          w.changes.add(
              new Event(
                  Event.Type.DELETE, new KeyValue(prev.key(), 0, w.begin + 1, 0, null, 0), prev));
        }
      }
      return new DeleteRangeResponse(gone.size(), d.prevKv() ? gone : List.of(), w.r());
    }

    void decide(Txn t, W w, Map<Txn, Boolean> path) {
      boolean ok = true;
      for (Compare c : t.compare()) {
        List<KeyValue> kvs = new ArrayList<>();
        for (KeyValue kv : states.get(w.begin).values()) {
          if (in(s(kv.key()), c.key(), c.rangeEnd())) {
            kvs.add(kv);
          }
        }
        boolean holds;
        if (kvs.isEmpty()) {
          holds =
              c.target() != Compare.Target.VALUE
                  && MvccStore.compareKv(c, new KeyValue(c.key(), 0, 0, 0, null, 0));
        } else {
          holds = kvs.stream().allMatch(kv -> MvccStore.compareKv(c, kv));
        }
        ok &= holds;
      }
      path.put(t, ok);
      for (Op op : ok ? t.success() : t.failure()) {
        if (op instanceof Txn n) {
          decide(n, w, path);
        }
      }
    }

    void check(Txn t, Map<Txn, Boolean> path, W w) throws MvccException {
      for (Op op : path.get(t) ? t.success() : t.failure()) {
        if (op instanceof Txn n) {
          check(n, path, w);
        } else if (op instanceof Put p) {
          if ((p.ignoreValue() || p.ignoreLease())
              && !states.get(w.begin).containsKey(s(p.key()))) {
            throw new MvccException(Code.KEY_NOT_FOUND, "");
          }
          if (p.lease() != 0 && !leases.containsKey(p.lease())) {
            throw new MvccException(Code.LEASE_NOT_FOUND, "");
          }
        } else if (op instanceof Range r && r.revision() != 0) {
          if (r.revision() > w.begin) {
            throw new MvccException(Code.FUTURE_REV, "");
          }
          if (r.revision() < compacted) {
            throw new MvccException(Code.COMPACTED, "");
          }
        }
      }
    }

    TxnResponse exec(Txn t, Map<Txn, Boolean> path, W w) throws MvccException {
      List<OpResponse> out = new ArrayList<>();
      boolean ok = path.get(t);
      for (Op op : ok ? t.success() : t.failure()) {
        if (op instanceof Range r) {
          TreeMap<String, KeyValue> view = r.revision() <= 0 ? w.work : states.get(r.revision());
          out.add(range(r, view, w.r(), w.r()));
        } else if (op instanceof Put p) {
          out.add(put(p, w));
        } else if (op instanceof DeleteRange d) {
          out.add(del(d, w));
        } else {
          out.add(exec((Txn) op, path, w));
        }
      }
      return new TxnResponse(ok, out, w.r());
    }

    RangeResponse range(Range r) throws MvccException {
      if (r.revision() > rev) {
        throw new MvccException(Code.FUTURE_REV, "");
      }
      long at = r.revision() <= 0 ? rev : r.revision();
      if (at < compacted) {
        throw new MvccException(Code.COMPACTED, "");
      }
      return range(r, states.get(at), rev, rev);
    }

    /** etcd's applierV3backend.Range, transcribed over a full map. */
    static RangeResponse range(Range r, TreeMap<String, KeyValue> view, long header, long unused) {
      List<KeyValue> all = new ArrayList<>();
      for (KeyValue kv : view.values()) {
        if (in(s(kv.key()), r.key(), r.rangeEnd())) {
          all.add(kv);
        }
      }
      all.sort(Comparator.comparing(KeyValue::key, Bytes.ORDER));
      long count = all.size();
      boolean fetchAll =
          r.sortOrder() != SortOrder.NONE
              || r.minModRevision() != 0
              || r.maxModRevision() != 0
              || r.minCreateRevision() != 0
              || r.maxCreateRevision() != 0;
      List<KeyValue> kvs = r.countOnly() ? new ArrayList<>() : new ArrayList<>(all);
      if (!fetchAll && r.limit() > 0 && kvs.size() > r.limit() + 1) {
        kvs = new ArrayList<>(kvs.subList(0, (int) r.limit() + 1));
      }
      kvs.removeIf(
          kv ->
              (r.maxModRevision() != 0 && kv.modRevision() > r.maxModRevision())
                  || (r.minModRevision() != 0 && kv.modRevision() < r.minModRevision())
                  || (r.maxCreateRevision() != 0 && kv.createRevision() > r.maxCreateRevision())
                  || (r.minCreateRevision() != 0 && kv.createRevision() < r.minCreateRevision()));
      SortOrder order = r.sortOrder();
      if (r.sortTarget() != SortTarget.KEY && order == SortOrder.NONE) {
        order = SortOrder.ASCEND;
      }
      if (order != SortOrder.NONE) {
        Comparator<KeyValue> c =
            switch (r.sortTarget()) {
              case KEY -> Comparator.comparing(KeyValue::key, Bytes.ORDER);
              case VERSION -> Comparator.comparingLong(KeyValue::version);
              case CREATE -> Comparator.comparingLong(KeyValue::createRevision);
              case MOD -> Comparator.comparingLong(KeyValue::modRevision);
              case VALUE -> Comparator.comparing(KeyValue::value, Bytes.ORDER);
            };
        kvs.sort(order == SortOrder.DESCEND ? c.reversed() : c);
      }
      boolean more = false;
      if (r.limit() > 0 && kvs.size() > r.limit()) {
        kvs = new ArrayList<>(kvs.subList(0, (int) r.limit()));
        more = true;
      }
      if (r.keysOnly()) {
        kvs.replaceAll(
            kv ->
                new KeyValue(
                    kv.key(),
                    kv.createRevision(),
                    kv.modRevision(),
                    kv.version(),
                    null,
                    kv.lease()));
      }
      return new RangeResponse(kvs, more, count, header);
    }

    List<Event> history(byte[] key, byte[] end, long from) throws MvccException {
      if (from < compacted) {
        throw new MvccException(Code.COMPACTED, "");
      }
      List<Event> out = new ArrayList<>();
      for (long r = Math.max(from, 2); r <= rev; r++) {
        for (Event e : events.getOrDefault(r, List.of())) {
          if (in(s(e.kv().key()), key, end)) {
            KeyValue prev = r - 1 < compacted ? null : states.get(r - 1).get(s(e.kv().key()));
            out.add(new Event(e.type(), e.kv(), prev));
          }
        }
      }
      return out;
    }
  }

  // ---------------------------------------------------------------- generator

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] randomEnd(Random rnd, String key) {
    return switch (rnd.nextInt(4)) {
      case 0, 1 -> Bytes.EMPTY;
      case 2 -> new byte[] {0};
      default -> bytes(KEYS[rnd.nextInt(KEYS.length)] + "z");
    };
  }

  private static Range randomRange(Random rnd, long rev, long compacted, boolean inTxn) {
    String k = KEYS[rnd.nextInt(KEYS.length)];
    long at =
        rnd.nextInt(3) == 0
            ? 0
            : Math.max(1, compacted - 1 + rnd.nextInt((int) Math.max(1, rev - compacted + 3)));
    if (inTxn && rnd.nextInt(4) != 0) {
      at = 0;
    }
    long minMod = rnd.nextInt(6) == 0 ? rnd.nextInt((int) rev + 1) : 0;
    long maxCreate = rnd.nextInt(6) == 0 ? rnd.nextInt((int) rev + 1) : 0;
    return new Range(
        bytes(k),
        randomEnd(rnd, k),
        rnd.nextInt(3) == 0 ? 1 + rnd.nextInt(3) : 0,
        at,
        SortOrder.values()[rnd.nextInt(3)],
        SortTarget.values()[rnd.nextInt(5)],
        false,
        rnd.nextInt(5) == 0,
        rnd.nextInt(6) == 0,
        minMod,
        rnd.nextInt(8) == 0 ? rnd.nextInt((int) rev + 1) : 0,
        rnd.nextInt(8) == 0 ? rnd.nextInt((int) rev + 1) : 0,
        maxCreate);
  }

  private static Put randomPut(Random rnd, String k) {
    boolean ignoreValue = rnd.nextInt(8) == 0;
    boolean ignoreLease = rnd.nextInt(8) == 0;
    long lease = ignoreLease || rnd.nextInt(3) != 0 ? 0 : 1 + rnd.nextInt(3);
    return new Put(
        bytes(k),
        ignoreValue ? null : bytes("v" + rnd.nextInt(5)),
        lease,
        rnd.nextBoolean(),
        ignoreValue,
        ignoreLease);
  }

  private static Compare randomCompare(Random rnd, long rev) {
    String k = KEYS[rnd.nextInt(KEYS.length)];
    Compare.Result res = Compare.Result.values()[rnd.nextInt(4)];
    Compare.Target target = Compare.Target.values()[rnd.nextInt(5)];
    Compare c =
        target == Compare.Target.VALUE
            ? Compare.value(bytes(k), res, bytes("v" + rnd.nextInt(5)))
            : Compare.number(bytes(k), target, res, rnd.nextInt((int) rev + 2));
    return rnd.nextInt(4) == 0 ? c.withRangeEnd(randomEnd(rnd, k)) : c;
  }

  /** Branch ops; write keys are drawn without replacement from pool so no duplicate-key error. */
  private static List<Op> randomBranch(
      Random rnd, List<String> pool, long rev, long compacted, int depth) {
    List<Op> ops = new ArrayList<>();
    int n = rnd.nextInt(4);
    for (int i = 0; i < n; i++) {
      int kind = rnd.nextInt(depth > 0 ? 3 : 4);
      if (kind == 0) {
        ops.add(randomRange(rnd, rev, compacted, true));
      } else if (pool.isEmpty()) {
        continue;
      } else if (kind == 1) {
        ops.add(randomPut(rnd, pool.remove(pool.size() - 1)));
      } else if (kind == 2) {
        ops.add(new DeleteRange(bytes(pool.remove(pool.size() - 1)), null, rnd.nextBoolean()));
      } else {
        ops.add(randomTxn(rnd, pool, rev, compacted, depth + 1));
      }
    }
    return ops;
  }

  private static Txn randomTxn(Random rnd, List<String> pool, long rev, long compacted, int depth) {
    List<Compare> cmp = new ArrayList<>();
    for (int i = rnd.nextInt(3); i > 0; i--) {
      cmp.add(randomCompare(rnd, rev));
    }
    List<String> elsePool = new ArrayList<>(pool);
    List<Op> success = randomBranch(rnd, pool, rev, compacted, depth);
    List<Op> failure = randomBranch(rnd, elsePool, rev, compacted, depth);
    // keys used by either branch are no longer free for the enclosing branch
    pool.retainAll(elsePool);
    return new Txn(cmp, success, failure);
  }

  private static WriteCommand randomCommand(Random rnd, Model m) {
    int kind = rnd.nextInt(100);
    String k = KEYS[rnd.nextInt(KEYS.length)];
    if (kind < 35) {
      return randomPut(rnd, k);
    } else if (kind < 50) {
      return new DeleteRange(bytes(k), randomEnd(rnd, k), rnd.nextBoolean());
    } else if (kind < 80) {
      List<String> pool = new ArrayList<>(List.of(KEYS));
      Collections.shuffle(pool, rnd);
      return randomTxn(rnd, pool, m.rev, m.compacted, 0);
    } else if (kind < 86) {
      return new Compact(m.compacted - 1 + rnd.nextInt((int) (m.rev - m.compacted + 3)), false);
    } else if (kind < 94) {
      return new LeaseGrant(1 + rnd.nextInt(3), 10);
    } else {
      return new LeaseRevoke(1 + rnd.nextInt(3));
    }
  }

  // ---------------------------------------------------------------- the test

  @ParameterizedTest
  @MethodSource("seeds")
  void storeMatchesModel(long seed) throws Exception {
    Random rnd = new Random(seed);
    Model m = new Model();
    List<List<Event>> published = new ArrayList<>();
    long raftIndex = 0;
    int readTxns = 0;
    MvccStore s = MvccStore.open(dir.resolve("s" + seed));
    s.addListener((rev, evs) -> published.add(evs));
    try {
      for (int step = 0; step < 400; step++) {
        String ctx = "seed " + seed + " step " + step;
        if (step % 100 == 99) {
          s.close();
          s = MvccStore.open(dir.resolve("s" + seed));
          s.addListener((rev, evs) -> published.add(evs));
        }
        if (rnd.nextInt(3) == 0) {
          Range r = randomRange(rnd, m.rev, m.compacted, false);
          MvccStore st = s;
          assertThat(outcome(() -> st.range(r)))
              .as(ctx + " " + r)
              .isEqualTo(outcome(() -> m.range(r)));
          continue;
        }
        if (rnd.nextInt(10) == 0) {
          String k = KEYS[rnd.nextInt(KEYS.length)];
          byte[] end = randomEnd(rnd, k);
          long from = Math.max(1, m.compacted - 1 + rnd.nextInt(5));
          MvccStore st = s;
          assertThat(outcome(() -> st.events(bytes(k), end, from, 0, 0).events()))
              .as(ctx + " events " + k + " from " + from)
              .isEqualTo(outcome(() -> m.history(bytes(k), end, from)));
          continue;
        }
        WriteCommand c = randomCommand(rnd, m);
        long before = m.rev;
        published.clear();
        MvccStore st = s;
        long idx = ++raftIndex;
        Object got = outcome(() -> st.apply(idx, c).orElseThrow());
        Object want = outcome(() -> m.apply(c));
        assertThat(got).as(ctx + " " + c).isEqualTo(want);
        if (c instanceof Txn t && readOnly(t)) {
          readTxns++;
          assertThat(outcome(() -> st.readTxn(t))).as(ctx + " readTxn " + t).isEqualTo(want);
        }
        assertThat(s.currentRevision()).as(ctx).isEqualTo(m.rev);
        assertThat(s.compactRevision()).as(ctx).isEqualTo(m.compacted);
        assertThat(s.appliedIndex()).isEqualTo(idx);
        if (m.rev > before) {
          assertThat(published).as(ctx + " events").containsExactly(m.events.get(m.rev));
        } else {
          assertThat(published).as(ctx + " no events").isEmpty();
        }
      }
      assertThat(s.leases().keySet()).isEqualTo(m.leases.keySet());
      assertThat(readTxns).as("read-only txns exercised").isPositive();
    } finally {
      s.close();
    }
  }

  private static boolean readOnly(Txn t) {
    for (List<Op> branch : List.of(t.success(), t.failure())) {
      for (Op op : branch) {
        if (op instanceof Put || op instanceof DeleteRange) {
          return false;
        }
        if (op instanceof Txn n && !readOnly(n)) {
          return false;
        }
      }
    }
    return true;
  }

  private interface Call {
    Object run() throws MvccException;
  }

  /** The response, or the error code: messages differ between store and model on purpose. */
  private static Object outcome(Call call) {
    try {
      return call.run();
    } catch (MvccException e) {
      return e.code();
    }
  }
}
