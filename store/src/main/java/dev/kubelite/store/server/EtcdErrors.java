package dev.kubelite.store.server;

import dev.kubelite.store.mvcc.MvccException;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.StatusException;

/**
 * etcd's errors as etcd sends them: a gRPC status code and etcd's exact message, which clients
 * (etcdctl, client libraries) match on and print.
 */
final class EtcdErrors {
  private EtcdErrors() {}

  static final String NO_LEADER = "etcdserver: no leader";
  static final String TIMEOUT = "etcdserver: request timed out";
  static final String MEMBER_NOT_FOUND = "etcdserver: member not found";
  static final String PEER_URL_EXISTS = "etcdserver: Peer URLs already exists";
  static final String NOT_LEARNER = "etcdserver: can only promote a learner member";
  static final String LEARNER_NOT_READY =
      "etcdserver: can only promote a learner member which is in sync with leader";
  static final String TOO_LARGE = "etcdserver: request is too large";
  static final String STOPPED = "etcdserver: server stopped";
  static final String NOT_CAPABLE = "etcdserver: not capable";
  static final String NO_SPACE = "etcdserver: mvcc: database space exceeded";
  static final String CORRUPT = "etcdserver: corrupt cluster";
  static final String NOT_LEADER = "etcdserver: not leader";
  static final String BAD_LEADER_TRANSFEREE = "etcdserver: bad leader transferee";

  /** etcd 3.4 has no gRPC mapping for this one, so it reaches clients as UNKNOWN with this text. */
  static final String LEADER_TRANSFER_TIMEOUT =
      "etcdserver: request timed out, leader transfer took too long";

  static StatusException noSpace() {
    return of(GrpcStatus.RESOURCE_EXHAUSTED, NO_SPACE);
  }

  static StatusException of(GrpcStatus status, String message) {
    return new StatusException(status, message);
  }

  static StatusException of(MvccException e) {
    return switch (e.code()) {
      case COMPACTED ->
          of(GrpcStatus.OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted");
      case FUTURE_REV ->
          of(GrpcStatus.OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision");
      case KEY_NOT_FOUND -> of(GrpcStatus.INVALID_ARGUMENT, "etcdserver: key not found");
      case REQUEST_ID_REUSED -> of(GrpcStatus.INVALID_ARGUMENT, "kubelite: " + e.getMessage());
      case REQUEST_ID_EXPIRED -> of(GrpcStatus.FAILED_PRECONDITION, "kubelite: " + e.getMessage());
      case EMPTY_KEY -> of(GrpcStatus.INVALID_ARGUMENT, "etcdserver: key is not provided");
      case VALUE_PROVIDED -> of(GrpcStatus.INVALID_ARGUMENT, "etcdserver: value is provided");
      case LEASE_PROVIDED -> of(GrpcStatus.INVALID_ARGUMENT, "etcdserver: lease is provided");
      case TOO_MANY_OPS ->
          of(GrpcStatus.INVALID_ARGUMENT, "etcdserver: too many operations in txn request");
      case DUPLICATE_KEY ->
          of(GrpcStatus.INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request");
      case LEASE_NOT_FOUND -> of(GrpcStatus.NOT_FOUND, "etcdserver: requested lease not found");
      case LEASE_EXISTS -> of(GrpcStatus.FAILED_PRECONDITION, "etcdserver: lease already exists");
      case LEASE_TTL_TOO_LARGE -> of(GrpcStatus.OUT_OF_RANGE, "etcdserver: too large lease TTL");
      case NO_SPACE -> noSpace();
      case CORRUPT -> of(GrpcStatus.DATA_LOSS, CORRUPT);
    };
  }
}
