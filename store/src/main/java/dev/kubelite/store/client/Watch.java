package dev.kubelite.store.client;

/** A running watch. */
public interface Watch extends AutoCloseable {
  /** Cancels the watch; the listener may still get calls already in flight, then nothing. */
  @Override
  void close();
}
