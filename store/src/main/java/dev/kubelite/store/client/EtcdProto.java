package dev.kubelite.store.client;

import com.google.protobuf.ByteString;
import dev.kubelite.store.api.etcdserverpb.Compare;
import dev.kubelite.store.api.etcdserverpb.DeleteRangeRequest;
import dev.kubelite.store.api.etcdserverpb.PutRequest;
import dev.kubelite.store.api.etcdserverpb.RangeRequest;
import dev.kubelite.store.api.etcdserverpb.RequestOp;
import dev.kubelite.store.api.etcdserverpb.ResponseOp;
import dev.kubelite.store.api.etcdserverpb.TxnRequest;
import dev.kubelite.store.api.etcdserverpb.TxnResponse;
import dev.kubelite.store.api.mvccpb.Event;
import dev.kubelite.store.api.mvccpb.KeyValue;
import java.util.ArrayList;
import java.util.List;

/**
 * The etcd v3 requests behind each {@link KvStore} operation, and their answers as client types.
 * Shared by both implementations: the embedded one proposes the same txns through Raft.
 */
final class EtcdProto {
  private EtcdProto() {}

  static ByteString bytes(byte[] b) {
    return ByteString.copyFrom(b);
  }

  static RangeRequest range(RangeQuery q) {
    return RangeRequest.newBuilder()
        .setKey(bytes(q.key()))
        .setRangeEnd(bytes(q.rangeEnd()))
        .setLimit(q.limit())
        .setRevision(q.revision())
        .setKeysOnly(q.mode() == RangeQuery.Mode.KEYS_ONLY)
        .setCountOnly(q.mode() == RangeQuery.Mode.COUNT_ONLY)
        .build();
  }

  static PutRequest put(byte[] key, byte[] value) {
    return PutRequest.newBuilder().setKey(bytes(key)).setValue(bytes(value)).build();
  }

  /** create: if create_revision(key) == 0 then put else get. */
  static TxnRequest create(byte[] key, byte[] value) {
    return TxnRequest.newBuilder()
        .addCompare(
            Compare.newBuilder()
                .setKey(bytes(key))
                .setTarget(Compare.CompareTarget.CREATE)
                .setResult(Compare.CompareResult.EQUAL)
                .setCreateRevision(0))
        .addSuccess(RequestOp.newBuilder().setRequestPut(put(key, value)))
        .addFailure(getOp(key))
        .build();
  }

  /** update: if mod_revision(key) == expected then put else get. */
  static TxnRequest update(byte[] key, byte[] value, long expectedModRevision) {
    return TxnRequest.newBuilder()
        .addCompare(modEquals(key, expectedModRevision))
        .addSuccess(RequestOp.newBuilder().setRequestPut(put(key, value)))
        .addFailure(getOp(key))
        .build();
  }

  /** guarded delete: if mod_revision(key) == expected then delete (prev kv) else get. */
  static TxnRequest delete(byte[] key, long expectedModRevision) {
    return TxnRequest.newBuilder()
        .addCompare(modEquals(key, expectedModRevision))
        .addSuccess(RequestOp.newBuilder().setRequestDeleteRange(deleteRange(key)))
        .addFailure(getOp(key))
        .build();
  }

  static DeleteRangeRequest deleteRange(byte[] key) {
    return DeleteRangeRequest.newBuilder().setKey(bytes(key)).setPrevKv(true).build();
  }

  private static Compare modEquals(byte[] key, long rev) {
    return Compare.newBuilder()
        .setKey(bytes(key))
        .setTarget(Compare.CompareTarget.MOD)
        .setResult(Compare.CompareResult.EQUAL)
        .setModRevision(rev)
        .build();
  }

  private static RequestOp getOp(byte[] key) {
    return RequestOp.newBuilder()
        .setRequestRange(RangeRequest.newBuilder().setKey(bytes(key)))
        .build();
  }

  static Kv kv(KeyValue kv) {
    return new Kv(
        kv.getKey().toByteArray(),
        kv.getValue().toByteArray(),
        kv.getCreateRevision(),
        kv.getModRevision(),
        kv.getVersion(),
        kv.getLease());
  }

  static List<Kv> kvs(List<KeyValue> in) {
    List<Kv> out = new ArrayList<>(in.size());
    in.forEach(k -> out.add(kv(k)));
    return out;
  }

  static WatchEvent event(Event e) {
    return new WatchEvent(
        e.getType() == Event.EventType.DELETE ? WatchEvent.Type.DELETE : WatchEvent.Type.PUT,
        kv(e.getKv()),
        e.hasPrevKv() ? kv(e.getPrevKv()) : null);
  }

  /**
   * The answer to a {@link #create}/{@link #update}/{@link #delete} txn. {@code failed} is the
   * status when the compare failed but the key exists.
   */
  static WriteResult txnResult(TxnResponse r, WriteResult.Status failed) {
    long rev = r.getHeader().getRevision();
    if (r.getSucceeded()) {
      ResponseOp op = r.getResponses(0);
      if (op.hasResponseDeleteRange()) {
        var d = op.getResponseDeleteRange();
        if (d.getDeleted() == 0) {
          return new WriteResult(WriteResult.Status.NOT_FOUND, rev, null);
        }
        return WriteResult.ok(rev, d.getPrevKvsCount() > 0 ? kv(d.getPrevKvs(0)) : null);
      }
      return WriteResult.ok(rev, null);
    }
    var got = r.getResponses(0).getResponseRange();
    if (got.getKvsCount() == 0) {
      return new WriteResult(WriteResult.Status.NOT_FOUND, rev, null);
    }
    return new WriteResult(failed, rev, kv(got.getKvs(0)));
  }
}
