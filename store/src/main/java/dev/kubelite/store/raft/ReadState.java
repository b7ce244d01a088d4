package dev.kubelite.store.raft;

/**
 * The answer to a ReadIndex request identified by {@code context}: once the local state machine has
 * applied {@code index}, a read served from it is linearizable.
 */
public record ReadState(long index, byte[] context) {}
