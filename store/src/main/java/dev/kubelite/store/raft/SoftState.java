package dev.kubelite.store.raft;

/**
 * Volatile state worth reporting when it changes (for logs and for the driver); never persisted.
 */
public record SoftState(long leader, Role role) {}
