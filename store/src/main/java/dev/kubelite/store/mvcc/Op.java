package dev.kubelite.store.mvcc;

/** One operation of a {@link Txn} branch, as etcd's {@code RequestOp}. */
public sealed interface Op permits Range, Put, DeleteRange, Txn {}
