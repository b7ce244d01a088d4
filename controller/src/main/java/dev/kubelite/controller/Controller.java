package dev.kubelite.controller;

/**
 * One control loop of the controller manager (ReplicaSet, Deployment, node lifecycle, garbage
 * collector, namespaces, ...): it watches the API server through informers and reconciles what it
 * owns, leaving one readable log line per reconcile. The controller manager starts each controller
 * (once it leads, when leader election is on) and closes it on shutdown.
 */
public interface Controller extends AutoCloseable {
  /** The name used in logs, events' {@code source.component} and flags, e.g. "replicaset". */
  String name();

  /** Starts the informers and workers; returns at once. */
  void start();

  /** True once every informer has listed what it watches and handed it to the handlers. */
  boolean hasSynced();

  /** Stops workers and informers; returns when they have stopped. Idempotent. */
  @Override
  void close();
}
