package dev.kubelite.store.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import dev.kubelite.store.api.etcdserverpb.AlarmRequest;
import dev.kubelite.store.api.etcdserverpb.AlarmType;
import dev.kubelite.store.api.etcdserverpb.CompactionRequest;
import dev.kubelite.store.api.etcdserverpb.Compare;
import dev.kubelite.store.api.etcdserverpb.DeleteRangeRequest;
import dev.kubelite.store.api.etcdserverpb.HashKVResponse;
import dev.kubelite.store.api.etcdserverpb.LeaseGrantRequest;
import dev.kubelite.store.api.etcdserverpb.LeaseKeepAliveResponse;
import dev.kubelite.store.api.etcdserverpb.LeaseTimeToLiveResponse;
import dev.kubelite.store.api.etcdserverpb.Member;
import dev.kubelite.store.api.etcdserverpb.MemberAddRequest;
import dev.kubelite.store.api.etcdserverpb.MemberListRequest;
import dev.kubelite.store.api.etcdserverpb.MoveLeaderRequest;
import dev.kubelite.store.api.etcdserverpb.PutRequest;
import dev.kubelite.store.api.etcdserverpb.RangeRequest;
import dev.kubelite.store.api.etcdserverpb.RequestOp;
import dev.kubelite.store.api.etcdserverpb.ResponseHeader;
import dev.kubelite.store.api.etcdserverpb.ResponseOp;
import dev.kubelite.store.api.etcdserverpb.SnapshotResponse;
import dev.kubelite.store.api.etcdserverpb.StatusResponse;
import dev.kubelite.store.api.etcdserverpb.TxnRequest;
import dev.kubelite.store.api.etcdserverpb.TxnResponse;
import dev.kubelite.store.api.etcdserverpb.WatchCancelRequest;
import dev.kubelite.store.api.etcdserverpb.WatchCreateRequest;
import dev.kubelite.store.api.etcdserverpb.WatchProgressRequest;
import dev.kubelite.store.api.etcdserverpb.WatchRequest;
import dev.kubelite.store.api.etcdserverpb.WatchResponse;
import dev.kubelite.store.api.mvccpb.Event;
import dev.kubelite.store.api.mvccpb.KeyValue;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * Serializes messages and compares the bytes with hand-encoded expectations, so that every field
 * number and enum value etcd clients depend on is pinned independently of the .proto files.
 *
 * <p>A tag byte is {@code field_number << 3 | wire_type}: wire type 0 for varints (ints, bools,
 * enums), 2 for length-delimited fields (bytes, strings, messages, packed repeated scalars).
 */
class WireFormatTest {

  private static final HexFormat HEX = HexFormat.of();

  /** The expected encoding, written as space-separated hex bytes. */
  private static String wire(String spacedHex) {
    return spacedHex.replace(" ", "");
  }

  private static String encoded(MessageLite message) {
    return HEX.formatHex(message.toByteArray());
  }

  private static ByteString utf8(String s) {
    return ByteString.copyFromUtf8(s);
  }

  @Test
  void rangeRequestBasicFields() {
    RangeRequest request =
        RangeRequest.newBuilder()
            .setKey(utf8("a"))
            .setRangeEnd(utf8("b"))
            .setLimit(5)
            .setRevision(7)
            .setKeysOnly(true)
            .build();

    // key=1 (0x0a), range_end=2 (0x12), limit=3 (0x18), revision=4 (0x20), keys_only=8 (0x40)
    assertThat(encoded(request)).isEqualTo(wire("0a 01 61 12 01 62 18 05 20 07 40 01"));
  }

  @Test
  void rangeRequestSortCountAndRevisionFilters() {
    RangeRequest request =
        RangeRequest.newBuilder()
            .setSortOrder(RangeRequest.SortOrder.DESCEND)
            .setSortTarget(RangeRequest.SortTarget.VALUE)
            .setSerializable(true)
            .setCountOnly(true)
            .setMinModRevision(1)
            .setMaxModRevision(2)
            .setMinCreateRevision(3)
            .setMaxCreateRevision(4)
            .build();

    // sort_order=5 DESCEND=2, sort_target=6 VALUE=4, serializable=7, count_only=9,
    // min_mod_revision=10, max_mod_revision=11, min_create_revision=12, max_create_revision=13
    assertThat(encoded(request)).isEqualTo(wire("28 02 30 04 38 01 48 01 50 01 58 02 60 03 68 04"));
    assertThat(RangeRequest.SortOrder.ASCEND.getNumber()).isEqualTo(1);
    assertThat(RangeRequest.SortTarget.KEY.getNumber()).isZero();
    assertThat(RangeRequest.SortTarget.VERSION.getNumber()).isEqualTo(1);
    assertThat(RangeRequest.SortTarget.CREATE.getNumber()).isEqualTo(2);
    assertThat(RangeRequest.SortTarget.MOD.getNumber()).isEqualTo(3);
  }

  @Test
  void putRequestAllFields() {
    PutRequest request =
        PutRequest.newBuilder()
            .setKey(utf8("k"))
            .setValue(utf8("v"))
            .setLease(9)
            .setPrevKv(true)
            .setIgnoreValue(true)
            .setIgnoreLease(true)
            .build();

    // key=1, value=2, lease=3, prev_kv=4, ignore_value=5, ignore_lease=6
    assertThat(encoded(request)).isEqualTo(wire("0a 01 6b 12 01 76 18 09 20 01 28 01 30 01"));
  }

  @Test
  void deleteRangeRequestAndCompaction() {
    DeleteRangeRequest delete =
        DeleteRangeRequest.newBuilder()
            .setKey(utf8("k"))
            .setRangeEnd(utf8("l"))
            .setPrevKv(true)
            .build();
    assertThat(encoded(delete)).isEqualTo(wire("0a 01 6b 12 01 6c 18 01"));

    CompactionRequest compact =
        CompactionRequest.newBuilder().setRevision(300).setPhysical(true).build();
    // 300 as a varint is ac 02
    assertThat(encoded(compact)).isEqualTo(wire("08 ac 02 10 01"));
  }

  @Test
  void responseHeaderFieldsOneToFour() {
    ResponseHeader header =
        ResponseHeader.newBuilder()
            .setClusterId(1)
            .setMemberId(2)
            .setRevision(3)
            .setRaftTerm(4)
            .build();
    assertThat(encoded(header)).isEqualTo(wire("08 01 10 02 18 03 20 04"));
  }

  @Test
  void compareTargetUnionNumbersAndRangeEnd() {
    Compare.Builder base =
        Compare.newBuilder()
            .setResult(Compare.CompareResult.NOT_EQUAL)
            .setTarget(Compare.CompareTarget.LEASE)
            .setKey(utf8("k"));
    // result=1 NOT_EQUAL=3, target=2 LEASE=4, key=3
    String prefix = "08 03 10 04 1a 01 6b ";

    assertThat(encoded(base.clone().setVersion(1).build())).isEqualTo(wire(prefix + "20 01"));
    assertThat(encoded(base.clone().setCreateRevision(1).build()))
        .isEqualTo(wire(prefix + "28 01"));
    assertThat(encoded(base.clone().setModRevision(1).build())).isEqualTo(wire(prefix + "30 01"));
    assertThat(encoded(base.clone().setValue(utf8("x")).build()))
        .isEqualTo(wire(prefix + "3a 01 78"));
    assertThat(encoded(base.clone().setLease(1).build())).isEqualTo(wire(prefix + "40 01"));

    // range_end=64: tag 64 << 3 | 2 = 514, varint 82 04
    assertThat(encoded(Compare.newBuilder().setRangeEnd(utf8("z")).build()))
        .isEqualTo(wire("82 04 01 7a"));

    assertThat(Compare.CompareResult.EQUAL.getNumber()).isZero();
    assertThat(Compare.CompareResult.GREATER.getNumber()).isEqualTo(1);
    assertThat(Compare.CompareResult.LESS.getNumber()).isEqualTo(2);
    assertThat(Compare.CompareTarget.VERSION.getNumber()).isZero();
    assertThat(Compare.CompareTarget.CREATE.getNumber()).isEqualTo(1);
    assertThat(Compare.CompareTarget.MOD.getNumber()).isEqualTo(2);
    assertThat(Compare.CompareTarget.VALUE.getNumber()).isEqualTo(3);
  }

  @Test
  void txnRequestCompareSuccessFailureAndRequestOpUnion() {
    PutRequest put = PutRequest.newBuilder().setKey(utf8("k")).build(); // 0a 01 6b
    RangeRequest range = RangeRequest.newBuilder().setKey(utf8("k")).build(); // 0a 01 6b
    TxnRequest txn =
        TxnRequest.newBuilder()
            .addCompare(Compare.newBuilder().setKey(utf8("k"))) // 1a 01 6b
            .addSuccess(RequestOp.newBuilder().setRequestPut(put))
            .addFailure(RequestOp.newBuilder().setRequestRange(range))
            .build();

    // compare=1, success=2 holding request_put=2, failure=3 holding request_range=1
    assertThat(encoded(txn))
        .isEqualTo(wire("0a 03 1a 01 6b 12 05 12 03 0a 01 6b 1a 05 0a 03 0a 01 6b"));

    RequestOp delete =
        RequestOp.newBuilder()
            .setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(utf8("k")))
            .build();
    assertThat(encoded(delete)).isEqualTo(wire("1a 03 0a 01 6b"));
    RequestOp nested =
        RequestOp.newBuilder().setRequestTxn(TxnRequest.newBuilder().addSuccess(delete)).build();
    assertThat(encoded(nested)).isEqualTo(wire("22 07 12 05 1a 03 0a 01 6b"));
  }

  @Test
  void txnResponseAndResponseOpUnion() {
    TxnResponse inner = TxnResponse.newBuilder().setSucceeded(true).build(); // 10 01
    TxnResponse txn =
        TxnResponse.newBuilder()
            .setHeader(ResponseHeader.newBuilder().setRevision(2))
            .setSucceeded(true)
            .addResponses(ResponseOp.newBuilder().setResponseTxn(inner))
            .build();
    // header=1, succeeded=2, responses=3 holding response_txn=4
    assertThat(encoded(txn)).isEqualTo(wire("0a 02 18 02 10 01 1a 04 22 02 10 01"));
  }

  @Test
  void watchCreateRequestAllFields() {
    WatchCreateRequest create =
        WatchCreateRequest.newBuilder()
            .setKey(utf8("k"))
            .setRangeEnd(utf8("l"))
            .setStartRevision(3)
            .setProgressNotify(true)
            .addFilters(WatchCreateRequest.FilterType.NODELETE)
            .setPrevKv(true)
            .setWatchId(7)
            .setFragment(true)
            .build();

    // key=1, range_end=2, start_revision=3, progress_notify=4, filters=5 (packed: 2a len values),
    // prev_kv=6, watch_id=7, fragment=8
    assertThat(encoded(create))
        .isEqualTo(wire("0a 01 6b 12 01 6c 18 03 20 01 2a 01 01 30 01 38 07 40 01"));
    assertThat(WatchCreateRequest.FilterType.NOPUT.getNumber()).isZero();
  }

  @Test
  void watchRequestUnion() {
    WatchRequest create =
        WatchRequest.newBuilder()
            .setCreateRequest(WatchCreateRequest.newBuilder().setKey(utf8("k")))
            .build();
    WatchRequest cancel =
        WatchRequest.newBuilder()
            .setCancelRequest(WatchCancelRequest.newBuilder().setWatchId(5))
            .build();
    WatchRequest progress =
        WatchRequest.newBuilder()
            .setProgressRequest(WatchProgressRequest.getDefaultInstance())
            .build();

    assertThat(encoded(create)).isEqualTo(wire("0a 03 0a 01 6b"));
    assertThat(encoded(cancel)).isEqualTo(wire("12 02 08 05"));
    assertThat(encoded(progress)).isEqualTo(wire("1a 00"));
  }

  @Test
  void watchResponseAndMvccEvent() {
    KeyValue kv =
        KeyValue.newBuilder()
            .setKey(utf8("k"))
            .setCreateRevision(2)
            .setModRevision(3)
            .setVersion(4)
            .setValue(utf8("v"))
            .setLease(6)
            .build();
    // key=1, create_revision=2, mod_revision=3, version=4, value=5, lease=6
    assertThat(encoded(kv)).isEqualTo(wire("0a 01 6b 10 02 18 03 20 04 2a 01 76 30 06"));

    Event event =
        Event.newBuilder()
            .setType(Event.EventType.DELETE)
            .setKv(KeyValue.newBuilder().setVersion(1))
            .setPrevKv(KeyValue.newBuilder().setVersion(2))
            .build();
    // type=1 DELETE=1, kv=2, prev_kv=3
    assertThat(encoded(event)).isEqualTo(wire("08 01 12 02 20 01 1a 02 20 02"));
    assertThat(Event.EventType.PUT.getNumber()).isZero();

    WatchResponse response =
        WatchResponse.newBuilder()
            .setHeader(ResponseHeader.newBuilder().setRevision(1))
            .setWatchId(2)
            .setCreated(true)
            .setCanceled(true)
            .setCompactRevision(5)
            .setCancelReason("r")
            .setFragment(true)
            .addEvents(Event.newBuilder().setType(Event.EventType.DELETE))
            .build();
    // header=1, watch_id=2, created=3, canceled=4, compact_revision=5, cancel_reason=6,
    // fragment=7, events=11 (tag 5a)
    assertThat(encoded(response))
        .isEqualTo(wire("0a 02 18 01 10 02 18 01 20 01 28 05 32 01 72 38 01 5a 02 08 01"));
  }

  @Test
  void leaseMessages() {
    assertThat(encoded(LeaseGrantRequest.newBuilder().setTTL(10).setID(2).build()))
        .isEqualTo(wire("08 0a 10 02"));
    assertThat(encoded(LeaseKeepAliveResponse.newBuilder().setID(2).setTTL(3).build()))
        .isEqualTo(wire("10 02 18 03"));
    LeaseTimeToLiveResponse ttl =
        LeaseTimeToLiveResponse.newBuilder()
            .setID(2)
            .setTTL(3)
            .setGrantedTTL(4)
            .addKeys(utf8("k"))
            .build();
    // ID=2, TTL=3, grantedTTL=4, keys=5
    assertThat(encoded(ttl)).isEqualTo(wire("10 02 18 03 20 04 2a 01 6b"));
  }

  @Test
  void memberMessagesIncludingIsLearner() {
    Member member =
        Member.newBuilder()
            .setID(1)
            .setName("n")
            .addPeerURLs("p")
            .addClientURLs("c")
            .setIsLearner(true)
            .build();
    // ID=1, name=2, peerURLs=3, clientURLs=4, isLearner=5
    assertThat(encoded(member)).isEqualTo(wire("08 01 12 01 6e 1a 01 70 22 01 63 28 01"));

    MemberAddRequest add =
        MemberAddRequest.newBuilder().addPeerURLs("p").setIsLearner(true).build();
    assertThat(encoded(add)).isEqualTo(wire("0a 01 70 10 01"));
    assertThat(encoded(MemberListRequest.newBuilder().setLinearizable(true).build()))
        .isEqualTo(wire("08 01"));
  }

  @Test
  void statusResponseAllFields() {
    StatusResponse status =
        StatusResponse.newBuilder()
            .setHeader(ResponseHeader.newBuilder().setMemberId(1))
            .setVersion("v")
            .setDbSize(3)
            .setLeader(4)
            .setRaftIndex(5)
            .setRaftTerm(6)
            .setRaftAppliedIndex(7)
            .addErrors("e")
            .setDbSizeInUse(9)
            .setIsLearner(true)
            .build();

    // header=1, version=2, dbSize=3, leader=4, raftIndex=5, raftTerm=6, raftAppliedIndex=7,
    // errors=8, dbSizeInUse=9, isLearner=10
    assertThat(encoded(status))
        .isEqualTo(wire("0a 02 10 01 12 01 76 18 03 20 04 28 05 30 06 38 07 42 01 65 48 09 50 01"));
  }

  @Test
  void maintenanceMessages() {
    AlarmRequest alarm =
        AlarmRequest.newBuilder()
            .setAction(AlarmRequest.AlarmAction.DEACTIVATE)
            .setMemberID(2)
            .setAlarm(AlarmType.CORRUPT)
            .build();
    // action=1 DEACTIVATE=2, memberID=2, alarm=3 CORRUPT=2
    assertThat(encoded(alarm)).isEqualTo(wire("08 02 10 02 18 02"));
    assertThat(AlarmType.NOSPACE.getNumber()).isEqualTo(1);
    assertThat(AlarmRequest.AlarmAction.ACTIVATE.getNumber()).isEqualTo(1);

    assertThat(encoded(HashKVResponse.newBuilder().setHash(2).setCompactRevision(3).build()))
        .isEqualTo(wire("10 02 18 03"));
    assertThat(
            encoded(SnapshotResponse.newBuilder().setRemainingBytes(2).setBlob(utf8("b")).build()))
        .isEqualTo(wire("10 02 1a 01 62"));
    assertThat(encoded(MoveLeaderRequest.newBuilder().setTargetID(9).build()))
        .isEqualTo(wire("08 09"));
  }

  @Test
  void decodesHandEncodedBytes() throws InvalidProtocolBufferException {
    RangeRequest request = RangeRequest.parseFrom(HEX.parseHex(wire("0a 01 61 12 01 62 48 01")));

    assertThat(request.getKey().toStringUtf8()).isEqualTo("a");
    assertThat(request.getRangeEnd().toStringUtf8()).isEqualTo("b");
    assertThat(request.getCountOnly()).isTrue();
    assertThat(request.getKeysOnly()).isFalse();
  }
}
