package dev.kubelite.store.server;

import dev.kubelite.store.api.etcdserverpb.CompactionRequest;
import dev.kubelite.store.api.etcdserverpb.CompactionResponse;
import dev.kubelite.store.api.etcdserverpb.DeleteRangeRequest;
import dev.kubelite.store.api.etcdserverpb.DeleteRangeResponse;
import dev.kubelite.store.api.etcdserverpb.KVService;
import dev.kubelite.store.api.etcdserverpb.PutRequest;
import dev.kubelite.store.api.etcdserverpb.PutResponse;
import dev.kubelite.store.api.etcdserverpb.RangeRequest;
import dev.kubelite.store.api.etcdserverpb.RangeResponse;
import dev.kubelite.store.api.etcdserverpb.RequestOp;
import dev.kubelite.store.api.etcdserverpb.TxnRequest;
import dev.kubelite.store.api.etcdserverpb.TxnResponse;
import dev.kubelite.store.api.kubelitepb.ClientRequestId;
import dev.kubelite.store.api.kubelitepb.InternalRequest;
import dev.kubelite.store.mvcc.Responses;
import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * etcd's KV service: reads from local state (after ReadIndex), writes through Raft. Writes carry
 * the client's request id when it sent one ({@link ClientRequestIds}); {@link StoreServer} binds
 * them with their headers.
 */
final class KvApi extends KVService {
  private final StoreMember member;

  KvApi(StoreMember member) {
    this.member = member;
  }

  @Override
  public Future<RangeResponse> range(RangeRequest r) {
    if (r.getKey().isEmpty()) {
      return Future.failedFuture(
          EtcdErrors.of(GrpcStatus.INVALID_ARGUMENT, "etcdserver: key is not provided"));
    }
    return Grpc.future(
        member.read(
            r.getSerializable(),
            mvcc -> {
              Responses.RangeResponse resp = mvcc.range(EtcdMapping.range(r));
              return EtcdMapping.rangeResponse(resp, member.header(resp.revision()));
            }));
  }

  @Override
  public Future<PutResponse> put(PutRequest r) {
    return put(r, Optional.empty());
  }

  /** A put carrying the client's request id (from its gRPC headers), if it sent one. */
  Future<PutResponse> put(PutRequest r, Optional<ClientRequestId> id) {
    return Grpc.future(
        BackendQuota.check(member, BackendQuota.cost(r))
            .thenCompose(
                x -> write(r.getSerializedSize(), InternalRequest.newBuilder().setPut(r), id))
            .thenApply(
                resp -> {
                  Responses.PutResponse p = (Responses.PutResponse) resp;
                  return EtcdMapping.putResponse(p, member.header(p.revision()));
                }));
  }

  @Override
  public Future<DeleteRangeResponse> deleteRange(DeleteRangeRequest r) {
    return deleteRange(r, Optional.empty());
  }

  Future<DeleteRangeResponse> deleteRange(DeleteRangeRequest r, Optional<ClientRequestId> id) {
    return Grpc.future(
        write(r.getSerializedSize(), InternalRequest.newBuilder().setDeleteRange(r), id)
            .thenApply(
                resp -> {
                  Responses.DeleteRangeResponse d = (Responses.DeleteRangeResponse) resp;
                  return EtcdMapping.deleteRangeResponse(d, member.header(d.revision()));
                }));
  }

  @Override
  public Future<TxnResponse> txn(TxnRequest r) {
    return txn(r, Optional.empty());
  }

  Future<TxnResponse> txn(TxnRequest r, Optional<ClientRequestId> id) {
    if (isReadOnly(r)) {
      // Like etcd: a txn that only reads is served from local state, not through the log.
      return Grpc.future(
          member.read(
              false,
              mvcc -> {
                Responses.TxnResponse t = mvcc.readTxn(EtcdMapping.txn(r));
                return EtcdMapping.txnResponse(t, member.header(t.revision()));
              }));
    }
    return Grpc.future(
        BackendQuota.check(member, BackendQuota.cost(r))
            .thenCompose(
                x -> write(r.getSerializedSize(), InternalRequest.newBuilder().setTxn(r), id))
            .thenApply(
                resp -> {
                  Responses.TxnResponse t = (Responses.TxnResponse) resp;
                  return EtcdMapping.txnResponse(t, member.header(t.revision()));
                }));
  }

  @Override
  public Future<CompactionResponse> compact(CompactionRequest r) {
    return compact(r, Optional.empty());
  }

  Future<CompactionResponse> compact(CompactionRequest r, Optional<ClientRequestId> id) {
    return Grpc.future(
        write(r.getSerializedSize(), InternalRequest.newBuilder().setCompaction(r), id)
            .thenApply(resp -> EtcdMapping.compactionResponse(member.header())));
  }

  private CompletableFuture<Responses.Response> write(
      int size, InternalRequest.Builder request, Optional<ClientRequestId> id) {
    if (size > member.config().maxRequestBytes()) {
      return CompletableFuture.failedFuture(
          EtcdErrors.of(GrpcStatus.INVALID_ARGUMENT, EtcdErrors.TOO_LARGE));
    }
    id.ifPresent(request::setClientRequest);
    return member.write(request);
  }

  static boolean isReadOnly(TxnRequest r) {
    for (var branch : java.util.List.of(r.getSuccessList(), r.getFailureList())) {
      for (RequestOp op : branch) {
        switch (op.getRequestCase()) {
          case REQUEST_RANGE -> {}
          case REQUEST_TXN -> {
            if (!isReadOnly(op.getRequestTxn())) {
              return false;
            }
          }
          default -> {
            return false;
          }
        }
      }
    }
    return true;
  }

  /** Unwraps a completion exception so gRPC sees the etcd status inside. */
  static Throwable cause(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }
}
