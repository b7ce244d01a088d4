package dev.kubelite.store.mvcc;

/** A command that goes through Raft and is executed by {@link MvccStore#apply}. */
public sealed interface WriteCommand
    permits Put, DeleteRange, Txn, Compact, LeaseGrant, LeaseRevoke, AlarmChange {}
