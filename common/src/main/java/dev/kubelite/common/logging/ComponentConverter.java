package dev.kubelite.common.logging;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import java.util.List;
import java.util.Map;

/**
 * {@code %component} in the log pattern: which Kubelite component wrote the line — {@code store},
 * {@code apiserver}, {@code scheduler}, {@code controller-manager}, {@code kubelet} or {@code up}
 * (the launcher) — so that lines of several components interleaved in one stream (the all-in-one
 * {@code kubelite up}, {@code kubelite logs}) can be told apart and filtered with grep.
 *
 * <p>The component comes from the logger's package. Lines of the shared client library ({@code
 * dev.kubelite.client}: informers, reconcile loops, events, leader election) run on the threads of
 * the component that uses it, which name themselves after it, so their thread name decides; a
 * client line whose thread says nothing is tagged {@code client}.
 *
 * <p>With the system property {@code kubelite.log.tag} set (the HA launcher sets it to the member's
 * name in each member process), the tag is {@code TAG/component}, e.g. {@code member-1/scheduler}.
 */
public final class ComponentConverter extends ClassicConverter {

  /** Package prefix → component, first match wins. */
  private static final List<Map.Entry<String, String>> PACKAGES =
      List.of(
          Map.entry("dev.kubelite.store.", "store"),
          Map.entry("dev.kubelite.apiserver.", "apiserver"),
          Map.entry("dev.kubelite.scheduler.", "scheduler"),
          Map.entry("dev.kubelite.controller.", "controller-manager"),
          Map.entry("dev.kubelite.kubelet.", "kubelet"),
          Map.entry("dev.kubelite.launcher.", "up"),
          // Loggers named after their component rather than a class.
          Map.entry("controller-manager", "controller-manager"));

  /** Thread name prefix → component, for the client library's lines. */
  private static final List<Map.Entry<String, String>> THREADS =
      List.of(
          Map.entry("kubelet", "kubelet"),
          Map.entry("heartbeat", "kubelet"),
          Map.entry("scheduler", "scheduler"),
          Map.entry("binder", "scheduler"),
          Map.entry("events-default-scheduler", "scheduler"),
          Map.entry("replicaset", "controller-manager"),
          Map.entry("deployment", "controller-manager"),
          Map.entry("node-lifecycle", "controller-manager"),
          Map.entry("node-monitor", "controller-manager"),
          Map.entry("namespace", "controller-manager"),
          Map.entry("gc", "controller-manager"),
          Map.entry("rs-writer", "controller-manager"),
          Map.entry("events-replicaset-controller", "controller-manager"),
          Map.entry("events-deployment-controller", "controller-manager"),
          Map.entry("events-node-controller", "controller-manager"),
          Map.entry("events-namespace-controller", "controller-manager"),
          Map.entry("raft-", "store"),
          Map.entry("store-", "store"));

  private String prefix = "";

  @Override
  public void start() {
    String tag = System.getProperty("kubelite.log.tag");
    prefix = tag == null || tag.isBlank() ? "" : tag.strip() + "/";
    super.start();
  }

  @Override
  public String convert(ILoggingEvent event) {
    return prefix + component(event.getLoggerName(), event.getThreadName());
  }

  /** The component of a line from {@code logger} on {@code thread}. */
  public static String component(String logger, String thread) {
    String name = logger == null ? "" : logger;
    for (Map.Entry<String, String> p : PACKAGES) {
      if (name.startsWith(p.getKey())) {
        return p.getValue();
      }
    }
    String t = thread == null ? "" : thread;
    for (Map.Entry<String, String> p : THREADS) {
      if (t.startsWith(p.getKey())) {
        return p.getValue();
      }
    }
    if (name.startsWith("dev.kubelite.client.")) {
      return "client";
    }
    // Libraries (Vert.x, gRPC, RocksDB...) log on the threads of whoever uses them.
    return "lib";
  }
}
