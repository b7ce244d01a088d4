package dev.kubelite.store.client;

import java.util.List;

/**
 * A range read's answer: {@code kvs} in key order, {@code more} if the limit cut the result, {@code
 * count} = keys in the whole range at that revision (ignoring the limit), {@code revision} = the
 * store's revision when it answered (etcd's header revision).
 */
public record RangeResult(List<Kv> kvs, boolean more, long count, long revision) {
  public RangeResult {
    kvs = List.copyOf(kvs);
  }
}
