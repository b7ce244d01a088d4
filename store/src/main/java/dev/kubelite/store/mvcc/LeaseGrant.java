package dev.kubelite.store.mvcc;

/** Creates lease {@code id} (chosen by the server before proposing; must be non-zero). */
public record LeaseGrant(long id, long ttlSeconds) implements WriteCommand {}
