package dev.kubelite.store.server;

import com.google.protobuf.ByteString;
import dev.kubelite.store.api.etcdserverpb.CompactionRequest;
import dev.kubelite.store.api.etcdserverpb.CompactionResponse;
import dev.kubelite.store.api.etcdserverpb.DeleteRangeRequest;
import dev.kubelite.store.api.etcdserverpb.DeleteRangeResponse;
import dev.kubelite.store.api.etcdserverpb.PutRequest;
import dev.kubelite.store.api.etcdserverpb.PutResponse;
import dev.kubelite.store.api.etcdserverpb.RangeRequest;
import dev.kubelite.store.api.etcdserverpb.RangeResponse;
import dev.kubelite.store.api.etcdserverpb.RequestOp;
import dev.kubelite.store.api.etcdserverpb.ResponseHeader;
import dev.kubelite.store.api.etcdserverpb.ResponseOp;
import dev.kubelite.store.api.etcdserverpb.TxnRequest;
import dev.kubelite.store.api.etcdserverpb.TxnResponse;
import dev.kubelite.store.api.mvccpb.Event;
import dev.kubelite.store.api.mvccpb.KeyValue;
import dev.kubelite.store.mvcc.Compact;
import dev.kubelite.store.mvcc.Compare;
import dev.kubelite.store.mvcc.DeleteRange;
import dev.kubelite.store.mvcc.Op;
import dev.kubelite.store.mvcc.Put;
import dev.kubelite.store.mvcc.Range;
import dev.kubelite.store.mvcc.Responses;
import dev.kubelite.store.mvcc.Txn;
import java.util.ArrayList;
import java.util.List;

/**
 * Translates between etcd's wire messages and the MVCC engine's types. The two enum sets (sort
 * order and target, compare result and target) have the same names, so they map by name.
 */
final class EtcdMapping {
  private EtcdMapping() {}

  // ---- requests: wire -> engine ----

  static Range range(RangeRequest r) {
    return new Range(
        r.getKey().toByteArray(),
        r.getRangeEnd().toByteArray(),
        r.getLimit(),
        r.getRevision(),
        Range.SortOrder.valueOf(r.getSortOrder().name()),
        Range.SortTarget.valueOf(r.getSortTarget().name()),
        r.getSerializable(),
        r.getKeysOnly(),
        r.getCountOnly(),
        r.getMinModRevision(),
        r.getMaxModRevision(),
        r.getMinCreateRevision(),
        r.getMaxCreateRevision());
  }

  static Put put(PutRequest r) {
    return new Put(
        r.getKey().toByteArray(),
        r.getValue().toByteArray(),
        r.getLease(),
        r.getPrevKv(),
        r.getIgnoreValue(),
        r.getIgnoreLease());
  }

  static DeleteRange deleteRange(DeleteRangeRequest r) {
    return new DeleteRange(r.getKey().toByteArray(), r.getRangeEnd().toByteArray(), r.getPrevKv());
  }

  static Compact compact(CompactionRequest r) {
    return new Compact(r.getRevision(), r.getPhysical());
  }

  static Txn txn(TxnRequest r) {
    List<Compare> compares = new ArrayList<>(r.getCompareCount());
    for (dev.kubelite.store.api.etcdserverpb.Compare c : r.getCompareList()) {
      compares.add(compare(c));
    }
    return new Txn(compares, ops(r.getSuccessList()), ops(r.getFailureList()));
  }

  private static Compare compare(dev.kubelite.store.api.etcdserverpb.Compare c) {
    Compare.Result result = Compare.Result.valueOf(c.getResult().name());
    Compare.Target target = Compare.Target.valueOf(c.getTarget().name());
    long number =
        switch (c.getTargetUnionCase()) {
          case VERSION -> c.getVersion();
          case CREATE_REVISION -> c.getCreateRevision();
          case MOD_REVISION -> c.getModRevision();
          case LEASE -> c.getLease();
          default -> 0;
        };
    byte[] value =
        c.getTargetUnionCase() == dev.kubelite.store.api.etcdserverpb.Compare.TargetUnionCase.VALUE
            ? c.getValue().toByteArray()
            : new byte[0];
    return new Compare(
        result, target, c.getKey().toByteArray(), c.getRangeEnd().toByteArray(), number, value);
  }

  private static List<Op> ops(List<RequestOp> ops) {
    List<Op> out = new ArrayList<>(ops.size());
    for (RequestOp op : ops) {
      out.add(
          switch (op.getRequestCase()) {
            case REQUEST_RANGE -> range(op.getRequestRange());
            case REQUEST_PUT -> put(op.getRequestPut());
            case REQUEST_DELETE_RANGE -> deleteRange(op.getRequestDeleteRange());
            case REQUEST_TXN -> txn(op.getRequestTxn());
            case REQUEST_NOT_SET ->
                throw new IllegalArgumentException("a txn operation carries no request");
          });
    }
    return out;
  }

  // ---- responses: engine -> wire ----

  static KeyValue keyValue(dev.kubelite.store.mvcc.KeyValue kv) {
    return KeyValue.newBuilder()
        .setKey(ByteString.copyFrom(kv.key()))
        .setCreateRevision(kv.createRevision())
        .setModRevision(kv.modRevision())
        .setVersion(kv.version())
        .setValue(ByteString.copyFrom(kv.value()))
        .setLease(kv.lease())
        .build();
  }

  static Event event(dev.kubelite.store.mvcc.Event e, boolean withPrevKv) {
    Event.Builder b =
        Event.newBuilder()
            .setType(
                e.type() == dev.kubelite.store.mvcc.Event.Type.PUT
                    ? Event.EventType.PUT
                    : Event.EventType.DELETE)
            .setKv(keyValue(e.kv()));
    if (withPrevKv && e.prevKv() != null) {
      b.setPrevKv(keyValue(e.prevKv()));
    }
    return b.build();
  }

  static RangeResponse rangeResponse(Responses.RangeResponse r, ResponseHeader header) {
    RangeResponse.Builder b =
        RangeResponse.newBuilder().setHeader(header).setMore(r.more()).setCount(r.count());
    for (dev.kubelite.store.mvcc.KeyValue kv : r.kvs()) {
      b.addKvs(keyValue(kv));
    }
    return b.build();
  }

  static PutResponse putResponse(Responses.PutResponse r, ResponseHeader header) {
    PutResponse.Builder b = PutResponse.newBuilder().setHeader(header);
    if (r.prevKv() != null) {
      b.setPrevKv(keyValue(r.prevKv()));
    }
    return b.build();
  }

  static DeleteRangeResponse deleteRangeResponse(
      Responses.DeleteRangeResponse r, ResponseHeader header) {
    DeleteRangeResponse.Builder b =
        DeleteRangeResponse.newBuilder().setHeader(header).setDeleted(r.deleted());
    for (dev.kubelite.store.mvcc.KeyValue kv : r.prevKvs()) {
      b.addPrevKvs(keyValue(kv));
    }
    return b.build();
  }

  static TxnResponse txnResponse(Responses.TxnResponse r, ResponseHeader header) {
    TxnResponse.Builder b = TxnResponse.newBuilder().setHeader(header).setSucceeded(r.succeeded());
    for (Responses.OpResponse op : r.responses()) {
      ResponseOp.Builder rb = ResponseOp.newBuilder();
      // Nested responses carry a header too in etcd; the revision there is the txn's.
      if (op instanceof Responses.RangeResponse rr) {
        rb.setResponseRange(rangeResponse(rr, header));
      } else if (op instanceof Responses.PutResponse pr) {
        rb.setResponsePut(putResponse(pr, header));
      } else if (op instanceof Responses.DeleteRangeResponse dr) {
        rb.setResponseDeleteRange(deleteRangeResponse(dr, header));
      } else if (op instanceof Responses.TxnResponse tr) {
        rb.setResponseTxn(txnResponse(tr, header));
      }
      b.addResponses(rb);
    }
    return b.build();
  }

  static CompactionResponse compactionResponse(ResponseHeader header) {
    return CompactionResponse.newBuilder().setHeader(header).build();
  }

  // ---- alarms ----

  /**
   * An AlarmRequest as the engine's command; an action this version does not know (a newer
   * client's) is a GET, which changes nothing.
   */
  static dev.kubelite.store.mvcc.AlarmChange alarm(
      dev.kubelite.store.api.etcdserverpb.AlarmRequest r) {
    var action =
        switch (r.getAction()) {
          case ACTIVATE -> dev.kubelite.store.mvcc.AlarmChange.Action.ACTIVATE;
          case DEACTIVATE -> dev.kubelite.store.mvcc.AlarmChange.Action.DEACTIVATE;
          case GET, UNRECOGNIZED -> dev.kubelite.store.mvcc.AlarmChange.Action.GET;
        };
    return new dev.kubelite.store.mvcc.AlarmChange(action, r.getMemberID(), r.getAlarmValue());
  }

  static dev.kubelite.store.api.etcdserverpb.AlarmMember alarmMember(
      dev.kubelite.store.mvcc.Alarm a) {
    return dev.kubelite.store.api.etcdserverpb.AlarmMember.newBuilder()
        .setMemberID(a.memberId())
        .setAlarmValue(a.type())
        .build();
  }

  /**
   * An alarm as etcd prints it in {@code Status.errors} (gogo protobuf's compact text form of
   * {@code AlarmMember}, trailing space included): {@code memberID:<decimal> alarm:NOSPACE }.
   */
  static String alarmText(dev.kubelite.store.mvcc.Alarm a) {
    return "memberID:"
        + Long.toUnsignedString(a.memberId())
        + " alarm:"
        + dev.kubelite.store.mvcc.Alarm.typeName(a.type())
        + " ";
  }
}
