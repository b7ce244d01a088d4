package dev.kubelite.store.mvcc;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubelite.store.mvcc.Responses.DeleteRangeResponse;
import dev.kubelite.store.mvcc.Responses.PutResponse;
import dev.kubelite.store.mvcc.Responses.RangeResponse;
import dev.kubelite.store.mvcc.Responses.Response;
import dev.kubelite.store.mvcc.Responses.TxnResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Shared helpers: a store plus an auto-incremented Raft index. */
abstract class MvccFixture {
  MvccStore s;
  long raftIndex;

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String str(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  Response apply(WriteCommand c) throws MvccException {
    return s.apply(++raftIndex, c).orElseThrow();
  }

  PutResponse put(String k, String v) throws MvccException {
    return (PutResponse) apply(Put.of(b(k), b(v)));
  }

  DeleteRangeResponse del(String k) throws MvccException {
    return (DeleteRangeResponse) apply(DeleteRange.of(b(k), null));
  }

  TxnResponse txn(List<Compare> cmp, List<Op> ok, List<Op> fail) throws MvccException {
    return (TxnResponse) apply(new Txn(cmp, ok, fail));
  }

  RangeResponse get(String k) throws MvccException {
    return s.range(Range.key(b(k)));
  }

  KeyValue kv(String k) throws MvccException {
    List<KeyValue> kvs = get(k).kvs();
    return kvs.isEmpty() ? null : kvs.get(0);
  }

  static void assertCode(MvccException.Code code, ThrowingCallable call) {
    assertThatThrownBy(call)
        .isInstanceOf(MvccException.class)
        .satisfies(
            e ->
                org.assertj.core.api.Assertions.assertThat(((MvccException) e).code())
                    .isEqualTo(code));
  }
}
