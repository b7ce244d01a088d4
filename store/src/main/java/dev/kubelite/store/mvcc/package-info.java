/**
 * etcd v3 MVCC semantics on RocksDB: revisions, generations, tombstones, ranges at historical
 * revisions, transactions, compaction, leases and watch history. {@link
 * dev.kubelite.store.mvcc.MvccStore} is the engine; its writes go through {@code apply(raftIndex,
 * command)} on the store's single apply thread. See docs/store-mvcc.md.
 */
package dev.kubelite.store.mvcc;
