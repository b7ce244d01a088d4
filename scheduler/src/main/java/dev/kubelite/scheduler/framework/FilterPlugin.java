package dev.kubelite.scheduler.framework;

import java.util.List;

/**
 * Decides whether a pod may run on a node. A node that fails a filter is out for this pod; the
 * reasons (kube-scheduler's wording, e.g. {@code Insufficient cpu}) are counted per node in the
 * FailedScheduling message.
 */
public interface FilterPlugin {
  List<String> FITS = List.of();

  /** The plugin's name, as kube-scheduler names its counterpart (e.g. NodeResourcesFit). */
  String name();

  /** {@link #FITS} (empty) if the pod may run on the node, else why not (one or more reasons). */
  List<String> filter(PodInfo pod, NodeInfo node);
}
