package dev.kubelite.store.mvcc;

/** Revokes a lease, deleting every attached key in one revision. */
public record LeaseRevoke(long id) implements WriteCommand {}
