package dev.kubelite.kubectl.cmd.rollout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.Discovery.ApiResource;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.PatchType;
import dev.kubelite.client.Watch;
import dev.kubelite.client.WatchEvent;
import dev.kubelite.kubectl.CliException;
import dev.kubelite.kubectl.Deployments;
import dev.kubelite.kubectl.Durations;
import dev.kubelite.kubectl.ResourceArgs;
import dev.kubelite.kubectl.ResourceArgs.Target;
import dev.kubelite.kubectl.cmd.ClientCommand;
import dev.kubelite.kubectl.describe.Describer;
import dev.kubelite.kubectl.describe.TabWriter;
import dev.kubelite.kubectl.output.ObjectPrinter;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code rollout status|history|undo|restart|pause|resume} for Deployments, as kubectl does them on
 * the client: status reads the Deployment's status as it changes, history and undo read the
 * revisions the Deployment controller writes on its ReplicaSets, undo copies a revision's pod
 * template back into the Deployment, restart stamps the template with {@code
 * kubectl.kubernetes.io/restartedAt}.
 */
@Command(
    mixinStandardHelpOptions = true,
    name = "rollout",
    description = {
      "Manage the rollout of a Deployment.",
      "",
      "Examples:",
      "  kubectl-lite rollout status deployment/web",
      "  kubectl-lite rollout history deployment/web",
      "  kubectl-lite rollout history deployment/web --revision=2",
      "  kubectl-lite rollout undo deployment/web --to-revision=1",
      "  kubectl-lite rollout restart deployment/web"
    },
    subcommands = {
      RolloutCommand.Status.class,
      RolloutCommand.History.class,
      RolloutCommand.Undo.class,
      RolloutCommand.Restart.class,
      RolloutCommand.Pause.class,
      RolloutCommand.Resume.class
    })
public final class RolloutCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(),
        "a subcommand is required: status, history, undo, restart, pause or resume");
  }

  /** What every rollout subcommand shares: the one Deployment it works on. */
  abstract static class On extends ClientCommand {
    @Parameters(paramLabel = "TYPE/NAME | TYPE NAME", arity = "0..2")
    List<String> args;

    ApiResource resource;
    String namespace;
    String name;

    /** Resolves the arguments and fetches the object (a NotFound is the server's message). */
    ObjectNode target() {
      if (args == null || args.isEmpty()) {
        throw new CliException("required resource not specified");
      }
      List<Target> targets = ResourceArgs.parse(session().resources(), args, "rollout");
      if (targets.size() != 1 || targets.get(0).names().size() != 1) {
        throw new CliException("rollout works on exactly one resource: TYPE/NAME or TYPE NAME");
      }
      resource = targets.get(0).resource();
      name = targets.get(0).names().get(0);
      namespace = resource.resource().namespaced() ? session().namespace() : null;
      return session().client().getPath(resource.resource().path(namespace, name));
    }

    boolean isDeployment() {
      return resource.resource().group().equals("apps")
          && resource.resource().resource().equals("deployments");
    }

    /** {@code ReplicaSet.apps}, kubectl's GroupKind string. */
    String groupKind() {
      String g = resource.resource().group();
      return resource.kind() + (g.isEmpty() ? "" : "." + g);
    }

    /** {@code replicasets.apps "x"}: how kubectl names an object in these errors. */
    String quoted() {
      String g = resource.resource().group();
      return resource.resource().resource() + (g.isEmpty() ? "" : "." + g) + " \"" + name + "\"";
    }

    String typedName() {
      return ObjectPrinter.name(resource, name);
    }

    void done(String what) {
      out().println(typedName() + " " + what);
    }

    ObjectNode patch(PatchType type, JsonNode body) {
      return session().client().patch(resource.resource(), namespace, name, type, body);
    }
  }

  @Command(
      name = "status",
      description = {
        "Show the status of the rollout, and wait for it to finish (unless -w=false).",
        "",
        "Examples:",
        "  kubectl-lite rollout status deployment/web",
        "  kubectl-lite rollout status deployment/web --timeout=2m",
        "  kubectl-lite rollout status deployment/web -w=false"
      })
  static final class Status extends On {
    @Option(
        names = {"-w", "--watch"},
        arity = "0..1",
        defaultValue = "true",
        fallbackValue = "true",
        paramLabel = "BOOL",
        description = "Watch the status until the rollout finishes (default: true).")
    boolean watch;

    @Option(
        names = "--timeout",
        defaultValue = "0s",
        paramLabel = "DURATION",
        description = "How long to wait before giving up (e.g. 30s, 5m); 0 waits forever.")
    String timeout;

    @Override
    public Integer call() throws IOException {
      Duration limit = Durations.parse("--timeout", timeout);
      ObjectNode d = target();
      if (!isDeployment()) {
        throw new CliException("no status viewer has been implemented for " + groupKind());
      }
      if (report(d) || !watch) {
        return 0;
      }
      String rv = d.path("metadata").path("resourceVersion").asText();
      AtomicBoolean timedOut = new AtomicBoolean();
      ScheduledExecutorService timer =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "rollout-status-timeout");
                t.setDaemon(true);
                return t;
              });
      AtomicReference<Watch> current = new AtomicReference<>();
      if (!limit.isZero()) {
        timer.schedule(
            () -> {
              timedOut.set(true);
              Watch open = current.get();
              if (open != null) {
                open.close();
              }
            },
            Math.max(1, limit.toMillis()),
            TimeUnit.MILLISECONDS);
      }
      try {
        while (!timedOut.get()) {
          String path =
              resource.resource().path(namespace)
                  + "?watch=true&fieldSelector="
                  + URLEncoder.encode("metadata.name=" + name, StandardCharsets.UTF_8)
                  + "&resourceVersion="
                  + URLEncoder.encode(rv, StandardCharsets.UTF_8);
          try (Watch w = session().client().watchPath(path, "application/json")) {
            current.set(w);
            if (timedOut.get()) {
              break;
            }
            WatchEvent e;
            while ((e = nextOrNull(w, timedOut)) != null) {
              if (e.isBookmark()) {
                rv = e.object().path("metadata").path("resourceVersion").asText(rv);
                continue;
              }
              if (e.isError()) {
                throw new CliException(
                    "the watch of " + quoted() + " ended: " + e.object().path("message").asText());
              }
              if (e.type().equals("DELETED")) {
                throw new CliException("object has been deleted");
              }
              rv = e.object().path("metadata").path("resourceVersion").asText(rv);
              if (report(e.object())) {
                return 0;
              }
            }
          }
          // The server ended the watch (its timeout): go on from the last version seen.
        }
        throw new CliException("timed out waiting for the condition");
      } finally {
        timer.shutdownNow();
      }
    }

    private static WatchEvent nextOrNull(Watch w, AtomicBoolean timedOut) throws IOException {
      try {
        return w.next();
      } catch (IOException e) {
        if (timedOut.get()) {
          return null;
        }
        throw e;
      }
    }

    /** Prints kubectl's status line for {@code d}; true once the rollout is complete. */
    private boolean report(JsonNode d) {
      String n = d.path("metadata").path("name").asText();
      JsonNode st = d.path("status");
      if (d.path("metadata").path("generation").asLong() > st.path("observedGeneration").asLong()) {
        print("Waiting for deployment spec update to be observed...");
        return false;
      }
      for (JsonNode c : st.path("conditions")) {
        if (c.path("type").asText().equals("Progressing")
            && c.path("reason").asText().equals("ProgressDeadlineExceeded")) {
          throw new CliException("deployment \"" + n + "\" exceeded its progress deadline");
        }
      }
      int replicas = d.path("spec").path("replicas").asInt(1);
      int updated = st.path("updatedReplicas").asInt(0);
      int total = st.path("replicas").asInt(0);
      int available = st.path("availableReplicas").asInt(0);
      String waiting = "Waiting for deployment \"" + n + "\" rollout to finish: ";
      if (updated < replicas) {
        print(waiting + updated + " out of " + replicas + " new replicas have been updated...");
        return false;
      }
      if (total > updated) {
        print(waiting + (total - updated) + " old replicas are pending termination...");
        return false;
      }
      if (available < updated) {
        print(waiting + available + " of " + updated + " updated replicas are available...");
        return false;
      }
      print("deployment \"" + n + "\" successfully rolled out");
      return true;
    }

    private void print(String line) {
      out().println(line);
      out().flush();
    }
  }

  @Command(
      name = "history",
      description = {
        "View the rollout history: the revisions of a Deployment, from its ReplicaSets'"
            + " deployment.kubernetes.io/revision and kubernetes.io/change-cause annotations.",
        "",
        "Examples:",
        "  kubectl-lite rollout history deployment/web",
        "  kubectl-lite rollout history deployment/web --revision=3"
      })
  static final class History extends On {
    @Option(
        names = "--revision",
        defaultValue = "0",
        paramLabel = "N",
        description = "Show the pod template of this revision.")
    long revision;

    @Override
    public Integer call() {
      ObjectNode d = target();
      if (!isDeployment()) {
        throw new CliException(
            "no history viewer has been implemented for \"" + groupKind() + "\"");
      }
      Map<Long, ObjectNode> byRevision = new TreeMap<>();
      for (ObjectNode rs : Deployments.replicaSetsOf(session().client(), d)) {
        long v = Deployments.revision(rs);
        if (v >= 0) {
          byRevision.put(v, rs);
        }
      }
      if (revision > 0) {
        ObjectNode rs = byRevision.get(revision);
        if (rs == null) {
          throw new CliException("unable to find the specified revision");
        }
        out().println(typedName() + " with revision #" + revision);
        out().print(Describer.podTemplate(rs.path("spec").path("template")));
        out().println();
        return 0;
      }
      out().println(typedName() + " ");
      if (byRevision.isEmpty()) {
        out().println("No rollout history found.");
        return 0;
      }
      TabWriter tw = new TabWriter();
      tw.write("REVISION\tCHANGE-CAUSE\n");
      byRevision.forEach(
          (v, rs) -> {
            String cause =
                rs.path("metadata").path("annotations").path(Deployments.CHANGE_CAUSE).asText("");
            tw.write(v + "\t" + (cause.isEmpty() ? "<none>" : cause) + "\n");
          });
      out().print(tw);
      out().println();
      return 0;
    }
  }

  @Command(
      name = "undo",
      description = {
        "Roll back to a previous revision: the pod template of that revision's ReplicaSet is"
            + " copied back into the Deployment (the controller then rolls it out as a new revision).",
        "",
        "Examples:",
        "  kubectl-lite rollout undo deployment/web",
        "  kubectl-lite rollout undo deployment/web --to-revision=3"
      })
  static final class Undo extends On {
    /** Deployment annotations a rollback keeps rather than taking the ReplicaSet's. */
    private static final Set<String> KEEP =
        Set.of(
            "kubectl.kubernetes.io/last-applied-configuration",
            Deployments.REVISION,
            "deployment.kubernetes.io/revision-history",
            "deployment.kubernetes.io/desired-replicas",
            "deployment.kubernetes.io/max-replicas",
            "deprecated.deployment.rollback.to");

    @Option(
        names = "--to-revision",
        defaultValue = "0",
        paramLabel = "N",
        description = "The revision to roll back to (default 0: the previous one).")
    long toRevision;

    @Override
    public Integer call() {
      ObjectNode d = target();
      if (!isDeployment()) {
        throw new CliException("no rollbacker has been implemented for \"" + groupKind() + "\"");
      }
      ObjectNode rs = revisionToUse(d);
      if (d.path("spec").path("paused").asBoolean(false)) {
        throw new CliException(
            "you cannot rollback a paused deployment; resume it first with 'kubectl-lite rollout"
                + " resume' and try again");
      }
      ObjectNode template = Deployments.templateOf(rs);
      if (template.equals(d.path("spec").path("template"))) {
        out()
            .println(
                typedName()
                    + " skipped rollback (current template already matches revision "
                    + Deployments.revision(rs)
                    + ")");
        return 0;
      }
      ObjectNode annotations = KubeClient.JSON.createObjectNode();
      d.path("metadata")
          .path("annotations")
          .fields()
          .forEachRemaining(
              e -> {
                if (KEEP.contains(e.getKey())) {
                  annotations.set(e.getKey(), e.getValue());
                }
              });
      rs.path("metadata")
          .path("annotations")
          .fields()
          .forEachRemaining(
              e -> {
                if (!KEEP.contains(e.getKey())) {
                  annotations.set(e.getKey(), e.getValue());
                }
              });
      ArrayNode ops = KubeClient.JSON.createArrayNode();
      ops.addObject().put("op", "replace").put("path", "/spec/template").set("value", template);
      ops.addObject()
          .put("op", "replace")
          .put("path", "/metadata/annotations")
          .set("value", annotations);
      patch(PatchType.JSON, ops);
      out().println(typedName() + " rolled back");
      return 0;
    }

    private ObjectNode revisionToUse(ObjectNode d) {
      ObjectNode latest = null;
      long latestRevision = -1;
      ObjectNode previous = null;
      long previousRevision = -1;
      for (ObjectNode rs : Deployments.replicaSetsOf(session().client(), d)) {
        long v = Deployments.revision(rs);
        if (v < 0) {
          continue;
        }
        if (toRevision > 0) {
          if (v == toRevision) {
            return rs;
          }
        } else if (v > latestRevision) {
          previous = latest;
          previousRevision = latestRevision;
          latest = rs;
          latestRevision = v;
        } else if (v > previousRevision) {
          previous = rs;
          previousRevision = v;
        }
      }
      if (toRevision > 0) {
        throw new CliException("unable to find specified revision " + toRevision + " in history");
      }
      if (previous == null) {
        throw new CliException("no rollout history found for deployment \"" + name + "\"");
      }
      return previous;
    }
  }

  @Command(
      name = "restart",
      description = {
        "Restart a Deployment's pods by a new rollout: its pod template gets the annotation"
            + " kubectl.kubernetes.io/restartedAt (the current time).",
        "",
        "Examples:",
        "  kubectl-lite rollout restart deployment/web"
      })
  static final class Restart extends On {
    @Override
    public Integer call() {
      ObjectNode d = target();
      if (!isDeployment()) {
        throw new CliException(quoted() + " restarting is not supported");
      }
      if (d.path("spec").path("paused").asBoolean(false)) {
        throw new CliException(
            quoted() + " can't restart paused deployment (run rollout resume first)");
      }
      ObjectNode body = KubeClient.JSON.createObjectNode();
      body.putObject("spec")
          .putObject("template")
          .putObject("metadata")
          .putObject("annotations")
          .put(
              "kubectl.kubernetes.io/restartedAt",
              OffsetDateTime.now()
                  .truncatedTo(ChronoUnit.SECONDS)
                  .format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
      patch(PatchType.STRATEGIC, body);
      out().println(typedName() + " restarted");
      return 0;
    }
  }

  @Command(
      name = "pause",
      description = {
        "Pause a Deployment: template changes wait until it is resumed.",
        "",
        "Examples:",
        "  kubectl-lite rollout pause deployment/web"
      })
  static final class Pause extends On {
    @Override
    public Integer call() {
      return setPaused(this, true, "pausing", "paused");
    }
  }

  @Command(
      name = "resume",
      description = {
        "Resume a paused Deployment: waiting template changes roll out.",
        "",
        "Examples:",
        "  kubectl-lite rollout resume deployment/web"
      })
  static final class Resume extends On {
    @Override
    public Integer call() {
      return setPaused(this, false, "resuming", "resumed");
    }
  }

  private static int setPaused(On c, boolean paused, String verbing, String done) {
    ObjectNode d = c.target();
    if (!c.isDeployment()) {
      throw new CliException(c.quoted() + " " + verbing + " is not supported");
    }
    if (d.path("spec").path("paused").asBoolean(false) == paused) {
      throw new CliException(c.quoted() + (paused ? " is already paused" : " is not paused"));
    }
    ObjectNode body = KubeClient.JSON.createObjectNode();
    body.putObject("spec").put("paused", paused);
    c.patch(PatchType.MERGE, body);
    c.done(done);
    return 0;
  }
}
