package dev.kubelite.store.raft.sim;

/**
 * One client operation as observed from outside: a put of {@code value}, or a get that returned
 * {@code value} (null: absent). {@code returnTime} is {@link Long#MAX_VALUE} for a write whose
 * outcome the client never learned.
 */
record HistoryEvent(
    int client, boolean write, String key, String value, long callTime, long returnTime) {}
