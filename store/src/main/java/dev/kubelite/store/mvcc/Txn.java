package dev.kubelite.store.mvcc;

import java.util.List;

/**
 * etcd's {@code TxnRequest}: if every compare holds, run {@code success}, else {@code failure}.
 * Branches may contain nested txns (etcd 3.3+).
 */
public record Txn(List<Compare> compare, List<Op> success, List<Op> failure)
    implements Op, WriteCommand {

  public Txn {
    compare = compare == null ? List.of() : List.copyOf(compare);
    success = success == null ? List.of() : List.copyOf(success);
    failure = failure == null ? List.of() : List.copyOf(failure);
  }
}
