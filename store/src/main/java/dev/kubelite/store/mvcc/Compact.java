package dev.kubelite.store.mvcc;

/**
 * etcd's {@code CompactionRequest}. The engine always compacts synchronously inside the apply, so
 * {@code physical} is accepted and has no further effect.
 */
public record Compact(long revision, boolean physical) implements WriteCommand {}
