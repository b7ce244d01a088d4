package dev.kubelite.store.raft.sim;

/**
 * A simulated client: one operation at a time, retried until it completes or the client gives up.
 */
final class SimClient {
  final int id;
  long nextOp;
  Op op;
  boolean mustFinishAfterHeal;
  int finishedAfterHeal;
  long preferredNode;

  SimClient(int id) {
    this.id = id;
  }

  /** The operation in progress. A write is retried with the same op id, so it applies once. */
  static final class Op {
    final int client;
    final long op;
    final String key;
    final String value;
    final long callTime;
    final long startTick;
    final boolean mustFinish;
    long attemptTick;
    long target;
    int readAttempt;

    Op(
        int client,
        long op,
        String key,
        String value,
        long callTime,
        long startTick,
        boolean mustFinish) {
      this.client = client;
      this.op = op;
      this.key = key;
      this.value = value;
      this.callTime = callTime;
      this.startTick = startTick;
      this.mustFinish = mustFinish;
    }

    boolean isWrite() {
      return value != null;
    }

    /** ReadIndex context: unique per read attempt. */
    String context() {
      return client + "/" + op + "/" + readAttempt;
    }

    HistoryEvent completed(long returnTime, String readValue) {
      return new HistoryEvent(
          client, isWrite(), key, isWrite() ? value : readValue, callTime, returnTime);
    }

    HistoryEvent pending() {
      return new HistoryEvent(client, true, key, value, callTime, Long.MAX_VALUE);
    }

    @Override
    public String toString() {
      return (isWrite() ? "put " + key + "=" + value : "get " + key) + " via node " + target;
    }
  }
}
