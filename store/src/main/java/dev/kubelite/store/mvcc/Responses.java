package dev.kubelite.store.mvcc;

import java.util.List;

/** Response types. {@code revision} is the etcd response-header revision. */
public final class Responses {
  private Responses() {}

  /** Result of a command applied through {@link MvccStore#apply}. */
  public sealed interface Response
      permits PutResponse,
          DeleteRangeResponse,
          TxnResponse,
          CompactResponse,
          LeaseGrantResponse,
          LeaseRevokeResponse,
          AlarmResponse {
    long revision();
  }

  /** Result of one op inside a txn. */
  public sealed interface OpResponse
      permits RangeResponse, PutResponse, DeleteRangeResponse, TxnResponse {
    long revision();
  }

  /** {@code count} is the number of keys in the range at the revision, regardless of limit. */
  public record RangeResponse(List<KeyValue> kvs, boolean more, long count, long revision)
      implements OpResponse {
    public RangeResponse {
      kvs = List.copyOf(kvs);
    }
  }

  /** {@code prevKv} only if requested and the key existed. */
  public record PutResponse(KeyValue prevKv, long revision) implements Response, OpResponse {}

  /** {@code prevKvs} only if requested. */
  public record DeleteRangeResponse(long deleted, List<KeyValue> prevKvs, long revision)
      implements Response, OpResponse {
    public DeleteRangeResponse {
      prevKvs = List.copyOf(prevKvs);
    }
  }

  /** Responses of the executed branch, in op order. */
  public record TxnResponse(boolean succeeded, List<OpResponse> responses, long revision)
      implements Response, OpResponse {
    public TxnResponse {
      responses = List.copyOf(responses);
    }
  }

  /** Compaction done; revision is the (unchanged) current revision. */
  public record CompactResponse(long revision) implements Response {}

  /** Lease created. */
  public record LeaseGrantResponse(long id, long ttlSeconds, long revision) implements Response {}

  /** Lease revoked; revision is the deletion's revision if it deleted keys. */
  public record LeaseRevokeResponse(long revision) implements Response {}

  /**
   * Alarms an {@link AlarmChange} changed (ACTIVATE: the alarm, also if it was already active;
   * DEACTIVATE: the alarm if it was active) or listed (GET), in {@link Alarm} order.
   */
  public record AlarmResponse(List<Alarm> alarms, long revision) implements Response {
    public AlarmResponse {
      alarms = List.copyOf(alarms);
    }
  }

  /** History read for watch catch-up: every event up to {@code lastRevision} (inclusive). */
  public record EventsResult(List<Event> events, long lastRevision, long currentRevision) {
    public EventsResult {
      events = List.copyOf(events);
    }
  }
}
