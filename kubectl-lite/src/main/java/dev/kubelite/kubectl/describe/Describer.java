package dev.kubelite.kubectl.describe;

import static dev.kubelite.kubectl.describe.Text.str;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.Discovery.ApiResource;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Resource;
import dev.kubelite.kubectl.Deployments;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * kubectl's {@code describe} texts: one per kind for pods, deployments, replicasets, nodes,
 * namespaces, services, configmaps and secrets (secret values are never printed, only their sizes),
 * the generic one (every field as indented key/values) for the rest, each ending with the object's
 * events (those whose {@code involvedObject.uid} is the object's).
 */
public final class Describer {
  private final KubeClient client;
  private final List<ApiResource> served;

  public Describer(KubeClient client, List<ApiResource> served) {
    this.client = client;
    this.served = served;
  }

  /** The describe text of {@code obj}, an object of resource {@code r}. */
  public String describe(ApiResource r, ObjectNode obj) {
    Resource res = r.resource();
    String key = res.group() + "/" + res.resource();
    return switch (key) {
      case "/pods" -> pod(obj);
      case "apps/deployments" -> deployment(obj);
      case "apps/replicasets" -> replicaSet(obj);
      case "/nodes" -> node(obj);
      case "/namespaces" -> namespace(obj);
      case "/services" -> service(obj);
      case "/configmaps" -> configMap(obj);
      case "/secrets" -> secret(obj);
      default -> generic(obj);
    };
  }

  // ------------------------------------------------------------------------------------- pods

  private String pod(ObjectNode pod) {
    JsonNode meta = pod.path("metadata");
    JsonNode spec = pod.path("spec");
    JsonNode status = pod.path("status");
    Lines w = new Lines();
    w.line(0, "Name:", meta.path("name").asText());
    w.line(0, "Namespace:", meta.path("namespace").asText());
    if (spec.has("priority")) {
      w.line(0, "Priority:", spec.path("priority").asText());
    }
    if (!str(spec.path("priorityClassName"), "").isEmpty()) {
      w.line(0, "Priority Class Name:", spec.path("priorityClassName").asText());
    }
    if (!str(spec.path("serviceAccountName"), "").isEmpty()) {
      w.line(0, "Service Account:", spec.path("serviceAccountName").asText());
    }
    String node = str(spec.path("nodeName"), "");
    w.line(0, "Node:", node.isEmpty() ? "<none>" : node + "/" + str(status.path("hostIP"), ""));
    if (status.has("startTime")) {
      w.line(0, "Start Time:", Text.time(status.path("startTime").asText()));
    }
    w.labels("", "Labels", Text.map(meta.path("labels")));
    w.annotations("", "Annotations", Text.map(meta.path("annotations")));
    if (meta.hasNonNull("deletionTimestamp")) {
      w.line(
          0,
          "Status:",
          "Terminating (lasts " + Text.since(meta.path("deletionTimestamp").asText()) + ")");
      w.line(
          0, "Termination Grace Period:", meta.path("deletionGracePeriodSeconds").asLong(30) + "s");
    } else {
      w.line(0, "Status:", str(status.path("phase"), ""));
    }
    if (!str(status.path("reason"), "").isEmpty()) {
      w.line(0, "Reason:", status.path("reason").asText());
    }
    if (!str(status.path("message"), "").isEmpty()) {
      w.line(0, "Message:", status.path("message").asText());
    }
    w.line(0, "IP:", str(status.path("podIP"), ""));
    if (status.path("podIPs").isEmpty()) {
      w.line(0, "IPs:", "<none>");
    } else {
      w.line(0, "IPs:");
      for (JsonNode ip : status.path("podIPs")) {
        w.line(1, "IP:", ip.path("ip").asText());
      }
    }
    String controller = controlledBy(pod);
    if (controller != null) {
      w.line(0, "Controlled By:", controller);
    }
    if (!str(status.path("nominatedNodeName"), "").isEmpty()) {
      w.line(0, "NominatedNodeName:", status.path("nominatedNodeName").asText());
    }
    if (!spec.path("initContainers").isEmpty()) {
      containers(
          w,
          "",
          "Init Containers",
          spec.path("initContainers"),
          status.path("initContainerStatuses"),
          pod);
    }
    containers(w, "", "Containers", spec.path("containers"), status.path("containerStatuses"), pod);
    if (!status.path("conditions").isEmpty()) {
      w.line(0, "Conditions:");
      w.line(1, "Type", "Status");
      for (JsonNode c : status.path("conditions")) {
        w.line(1, c.path("type").asText() + " ", c.path("status").asText() + " ");
      }
    }
    volumes(w, "", spec.path("volumes"));
    w.line(0, "QoS Class:", str(status.path("qosClass"), qosClass(spec)));
    w.labels("", "Node-Selectors", Text.map(spec.path("nodeSelector")));
    tolerations(w, "", spec.path("tolerations"));
    events(w, pod, false);
    return w.toString();
  }

  private static String qosClass(JsonNode spec) {
    boolean any = false;
    boolean guaranteed = true;
    for (JsonNode c : spec.path("containers")) {
      JsonNode req = c.path("resources").path("requests");
      JsonNode lim = c.path("resources").path("limits");
      if (!req.isEmpty() || !lim.isEmpty()) {
        any = true;
      }
      for (String r : List.of("cpu", "memory")) {
        String l = str(lim.path(r), "");
        String q = str(req.path(r), l);
        if (l.isEmpty() || Quantity.parse(l).value().compareTo(Quantity.parse(q).value()) != 0) {
          guaranteed = false;
        }
      }
    }
    if (!any) {
      return "BestEffort";
    }
    return guaranteed ? "Guaranteed" : "Burstable";
  }

  /** The containers of a pod (with their statuses) or of a template (statuses missing). */
  private static void containers(
      Lines w, String space, String section, JsonNode containers, JsonNode statuses, JsonNode pod) {
    w.raw(space + section + ":\n");
    String nameIndent = space.isEmpty() ? "" : " ";
    for (JsonNode c : containers) {
      String name = c.path("name").asText();
      JsonNode st = null;
      for (JsonNode s : statuses) {
        if (s.path("name").asText().equals(name)) {
          st = s;
        }
      }
      w.line(1, nameIndent + name + ":");
      if (st != null) {
        w.line(2, "Container ID:", str(st.path("containerID"), ""));
      }
      w.line(2, "Image:", str(c.path("image"), ""));
      if (st != null) {
        w.line(2, "Image ID:", str(st.path("imageID"), ""));
      }
      List<String> ports = new ArrayList<>();
      List<String> hostPorts = new ArrayList<>();
      for (JsonNode p : c.path("ports")) {
        String proto = str(p.path("protocol"), "TCP");
        ports.add(p.path("containerPort").asInt() + "/" + proto);
        hostPorts.add(p.path("hostPort").asInt() + "/" + proto);
      }
      w.line(
          2,
          ports.size() > 1 ? "Ports:" : "Port:",
          ports.isEmpty() ? "<none>" : String.join(", ", ports));
      w.line(
          2,
          hostPorts.size() > 1 ? "Host Ports:" : "Host Port:",
          hostPorts.isEmpty() ? "<none>" : String.join(", ", hostPorts));
      for (String list : List.of("command", "args")) {
        if (!c.path(list).isEmpty()) {
          w.line(2, list.equals("command") ? "Command:" : "Args:");
          for (JsonNode a : c.path(list)) {
            for (String s : a.asText().split("\n", -1)) {
              w.line(3, s);
            }
          }
        }
      }
      if (st != null) {
        state(w, "State", st.path("state"));
        if (st.path("lastState").has("terminated")) {
          state(w, "Last State", st.path("lastState"));
        }
        w.line(2, "Ready:", st.path("ready").asText("false").equals("true") ? "True" : "False");
        w.line(2, "Restart Count:", st.path("restartCount").asText("0"));
      }
      for (String kind : List.of("limits", "requests")) {
        JsonNode q = c.path("resources").path(kind);
        if (!q.isEmpty()) {
          w.line(2, kind.equals("limits") ? "Limits:" : "Requests:");
          Text.map(q).forEach((k, v) -> w.line(3, k + ":", v));
        }
      }
      for (String probe : List.of("liveness", "readiness", "startup")) {
        JsonNode p = c.path(probe + "Probe");
        if (!p.isMissingNode() && !p.isNull()) {
          w.line(2, Character.toUpperCase(probe.charAt(0)) + probe.substring(1) + ":", probe(p));
        }
      }
      if (!c.path("envFrom").isEmpty()) {
        w.line(2, "Environment Variables from:");
        for (JsonNode e : c.path("envFrom")) {
          boolean cm = e.has("configMapRef");
          JsonNode ref = cm ? e.path("configMapRef") : e.path("secretRef");
          String prefix = str(e.path("prefix"), "");
          w.line(
              3,
              ref.path("name").asText(),
              (cm ? "ConfigMap" : "Secret")
                  + (prefix.isEmpty() ? "" : " with prefix '" + prefix + "'"),
              "Optional: " + ref.path("optional").asBoolean(false));
        }
      }
      if (c.path("env").isEmpty()) {
        w.line(2, "Environment:", "<none>");
      } else {
        w.line(2, "Environment:");
        for (JsonNode e : c.path("env")) {
          String n = e.path("name").asText();
          JsonNode from = e.path("valueFrom");
          if (from.isMissingNode() || from.isNull()) {
            String[] parts = str(e.path("value"), "").split("\n", -1);
            w.line(3, n + ":", parts[0]);
            for (int i = 1; i < parts.length; i++) {
              w.line(3, "", parts[i]);
            }
          } else if (from.has("fieldRef")) {
            String fieldPath = from.path("fieldRef").path("fieldPath").asText();
            w.line(
                3,
                n + ":",
                fieldValue(pod, fieldPath)
                    + " ("
                    + from.path("fieldRef").path("apiVersion").asText("")
                    + ":"
                    + fieldPath
                    + ")");
          } else if (from.has("secretKeyRef")) {
            JsonNode r = from.path("secretKeyRef");
            w.line(
                3,
                n + ":",
                "<set to the key '"
                    + r.path("key").asText()
                    + "' in secret '"
                    + r.path("name").asText()
                    + "'>",
                "Optional: " + r.path("optional").asBoolean(false));
          } else if (from.has("configMapKeyRef")) {
            JsonNode r = from.path("configMapKeyRef");
            w.line(
                3,
                n + ":",
                "<set to the key '"
                    + r.path("key").asText()
                    + "' of config map '"
                    + r.path("name").asText()
                    + "'>",
                "Optional: " + r.path("optional").asBoolean(false));
          } else {
            w.line(3, n + ":", from.toString());
          }
        }
      }
      List<JsonNode> mounts = new ArrayList<>();
      c.path("volumeMounts").forEach(mounts::add);
      mounts.sort(Comparator.comparing(m -> m.path("mountPath").asText()));
      if (mounts.isEmpty()) {
        w.line(2, "Mounts:", "<none>");
      } else {
        w.line(2, "Mounts:");
        for (JsonNode m : mounts) {
          List<String> flags = new ArrayList<>();
          flags.add(m.path("readOnly").asBoolean(false) ? "ro" : "rw");
          if (!str(m.path("subPath"), "").isEmpty()) {
            flags.add("path=\"" + m.path("subPath").asText() + "\"");
          }
          w.line(
              3,
              m.path("mountPath").asText()
                  + " from "
                  + m.path("name").asText()
                  + " ("
                  + String.join(",", flags)
                  + ")");
        }
      }
    }
  }

  private static final java.util.regex.Pattern LABEL_FIELD =
      java.util.regex.Pattern.compile("metadata\\.(labels|annotations)\\['(.*)'\\]");

  /** The value of a downward-API field of {@code pod} (empty for a template). */
  private static String fieldValue(JsonNode pod, String fieldPath) {
    if (pod == null) {
      return "";
    }
    java.util.regex.Matcher m = LABEL_FIELD.matcher(fieldPath);
    if (m.matches()) {
      return pod.path("metadata").path(m.group(1)).path(m.group(2)).asText("");
    }
    JsonNode n = pod;
    for (String part : fieldPath.split("\\.")) {
      n = n.path(part);
    }
    return n.isValueNode() ? n.asText() : "";
  }

  private static void state(Lines w, String title, JsonNode state) {
    if (state.has("running")) {
      w.line(2, title + ":", "Running");
      w.line(3, "Started:", Text.time(state.path("running").path("startedAt").asText()));
    } else if (state.has("waiting")) {
      w.line(2, title + ":", "Waiting");
      if (!str(state.path("waiting").path("reason"), "").isEmpty()) {
        w.line(3, "Reason:", state.path("waiting").path("reason").asText());
      }
    } else if (state.has("terminated")) {
      JsonNode t = state.path("terminated");
      w.line(2, title + ":", "Terminated");
      if (!str(t.path("reason"), "").isEmpty()) {
        w.line(3, "Reason:", t.path("reason").asText());
      }
      if (!str(t.path("message"), "").isEmpty()) {
        w.line(3, "Message:", t.path("message").asText());
      }
      w.line(3, "Exit Code:", t.path("exitCode").asText("0"));
      if (t.path("signal").asInt(0) > 0) {
        w.line(3, "Signal:", t.path("signal").asText());
      }
      w.line(3, "Started:", Text.time(t.path("startedAt").asText()));
      w.line(3, "Finished:", Text.time(t.path("finishedAt").asText()));
    } else {
      w.line(2, title + ":", "Waiting");
    }
  }

  /** kubectl's one-line probe: what the object holds (an API server that defaults fills it). */
  private static String probe(JsonNode p) {
    String attrs =
        "delay="
            + p.path("initialDelaySeconds").asInt(0)
            + "s timeout="
            + p.path("timeoutSeconds").asInt(0)
            + "s period="
            + p.path("periodSeconds").asInt(0)
            + "s #success="
            + p.path("successThreshold").asInt(0)
            + " #failure="
            + p.path("failureThreshold").asInt(0);
    if (p.has("exec")) {
      List<String> cmd = new ArrayList<>();
      p.path("exec").path("command").forEach(c -> cmd.add(c.asText()));
      return "exec [" + String.join(" ", cmd) + "] " + attrs;
    }
    if (p.has("httpGet")) {
      JsonNode h = p.path("httpGet");
      String scheme = str(h.path("scheme"), "").toLowerCase(java.util.Locale.ROOT);
      String path = str(h.path("path"), "");
      return "http-get "
          + (scheme.isEmpty() ? "" : scheme + ":")
          + "//"
          + str(h.path("host"), "")
          + ":"
          + h.path("port").asText()
          + (path.isEmpty() || path.startsWith("/") ? path : "/" + path)
          + " "
          + attrs;
    }
    if (p.has("tcpSocket")) {
      JsonNode t = p.path("tcpSocket");
      return "tcp-socket " + str(t.path("host"), "") + ":" + t.path("port").asText() + " " + attrs;
    }
    if (p.has("grpc")) {
      return "grpc <pod>:"
          + p.path("grpc").path("port").asText()
          + " "
          + str(p.path("grpc").path("service"), "")
          + " "
          + attrs;
    }
    return "unknown " + attrs;
  }

  private static void volumes(Lines w, String space, JsonNode volumes) {
    if (volumes.isEmpty()) {
      w.raw(space + "Volumes:\t<none>\n");
      return;
    }
    w.raw(space + "Volumes:\n");
    String nameIndent = space.isEmpty() ? "" : " ";
    for (JsonNode v : volumes) {
      w.line(1, nameIndent + v.path("name").asText() + ":");
      if (v.has("emptyDir")) {
        w.line(2, "Type:", "EmptyDir (a temporary directory that shares a pod's lifetime)");
        w.line(2, "Medium:", str(v.path("emptyDir").path("medium"), ""));
        w.line(2, "SizeLimit:", str(v.path("emptyDir").path("sizeLimit"), "<unset>"));
      } else if (v.has("configMap")) {
        w.line(2, "Type:", "ConfigMap (a volume populated by a ConfigMap)");
        w.line(2, "Name:", v.path("configMap").path("name").asText());
        w.line(
            2,
            "Optional:",
            Boolean.toString(v.path("configMap").path("optional").asBoolean(false)));
      } else if (v.has("secret")) {
        w.line(2, "Type:", "Secret (a volume populated by a Secret)");
        w.line(2, "SecretName:", v.path("secret").path("secretName").asText());
        w.line(
            2, "Optional:", Boolean.toString(v.path("secret").path("optional").asBoolean(false)));
      } else if (v.has("hostPath")) {
        w.line(2, "Type:", "HostPath (bare host directory volume)");
        w.line(2, "Path:", v.path("hostPath").path("path").asText());
        w.line(2, "HostPathType:", str(v.path("hostPath").path("type"), ""));
      } else if (v.has("persistentVolumeClaim")) {
        w.line(
            2,
            "Type:",
            "PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)");
        w.line(2, "ClaimName:", v.path("persistentVolumeClaim").path("claimName").asText());
        w.line(
            2,
            "ReadOnly:",
            Boolean.toString(v.path("persistentVolumeClaim").path("readOnly").asBoolean(false)));
      } else {
        w.line(2, "<unknown>");
      }
    }
  }

  private static void tolerations(Lines w, String indent, JsonNode tolerations) {
    if (tolerations.isEmpty()) {
      w.raw(indent + "Tolerations:\t<none>\n");
      return;
    }
    List<JsonNode> sorted = new ArrayList<>();
    tolerations.forEach(sorted::add);
    sorted.sort(Comparator.comparing(t -> str(t.path("key"), "")));
    boolean first = true;
    for (JsonNode t : sorted) {
      StringBuilder b = new StringBuilder(first ? indent + "Tolerations:\t" : indent + "\t");
      first = false;
      String key = str(t.path("key"), "");
      String value = str(t.path("value"), "");
      String effect = str(t.path("effect"), "");
      b.append(key);
      if (!value.isEmpty()) {
        b.append('=').append(value);
      }
      if (!effect.isEmpty()) {
        b.append(':').append(effect);
      }
      if ("Exists".equals(t.path("operator").asText()) && value.isEmpty()) {
        b.append(key.isEmpty() && effect.isEmpty() ? "op=Exists" : " op=Exists");
      }
      if (t.hasNonNull("tolerationSeconds")) {
        b.append(" for ").append(t.path("tolerationSeconds").asLong()).append('s');
      }
      w.raw(b.append('\n').toString());
    }
  }

  /** {@code ReplicaSet/web-123}: the controlling owner, or null. */
  private static String controlledBy(JsonNode obj) {
    for (JsonNode o : obj.path("metadata").path("ownerReferences")) {
      if (o.path("controller").asBoolean(false)) {
        return o.path("kind").asText() + "/" + o.path("name").asText();
      }
    }
    return null;
  }

  /** kubectl's pod template block, under Deployments, ReplicaSets and {@code rollout history}. */
  public static String podTemplate(JsonNode template) {
    Lines w = new Lines();
    podTemplate(w, template);
    return w.toString();
  }

  private static void podTemplate(Lines w, JsonNode template) {
    w.line(0, "Pod Template:");
    JsonNode meta = template.path("metadata");
    JsonNode spec = template.path("spec");
    w.labels("  ", "Labels", Text.map(meta.path("labels")));
    if (!meta.path("annotations").isEmpty()) {
      w.annotations("  ", "Annotations", Text.map(meta.path("annotations")));
    }
    if (!str(spec.path("serviceAccountName"), "").isEmpty()) {
      w.line(1, "Service Account:", spec.path("serviceAccountName").asText());
    }
    if (!spec.path("initContainers").isEmpty()) {
      containers(w, "  ", "Init Containers", spec.path("initContainers"), missing(), null);
    }
    containers(w, "  ", "Containers", spec.path("containers"), missing(), null);
    volumes(w, "  ", spec.path("volumes"));
    w.labels("  ", "Node-Selectors", Text.map(spec.path("nodeSelector")));
    tolerations(w, "  ", spec.path("tolerations"));
    if (!str(spec.path("priorityClassName"), "").isEmpty()) {
      w.line(1, "Priority Class Name:", spec.path("priorityClassName").asText());
    }
  }

  private static JsonNode missing() {
    return KubeClient.JSON.createArrayNode();
  }

  // ------------------------------------------------------------------ deployments, replicasets

  private String deployment(ObjectNode d) {
    JsonNode meta = d.path("metadata");
    JsonNode spec = d.path("spec");
    JsonNode status = d.path("status");
    Lines w = new Lines();
    w.line(0, "Name:", meta.path("name").asText());
    w.line(0, "Namespace:", meta.path("namespace").asText());
    w.line(0, "CreationTimestamp:", Text.time(meta.path("creationTimestamp").asText()));
    w.labels("", "Labels", Text.map(meta.path("labels")));
    w.annotations("", "Annotations", Text.map(meta.path("annotations")));
    w.line(0, "Selector:", Text.labelSelector(spec.path("selector")));
    w.line(
        0,
        "Replicas:",
        spec.path("replicas").asInt(1)
            + " desired | "
            + status.path("updatedReplicas").asInt(0)
            + " updated | "
            + status.path("replicas").asInt(0)
            + " total | "
            + status.path("availableReplicas").asInt(0)
            + " available | "
            + status.path("unavailableReplicas").asInt(0)
            + " unavailable");
    String strategy = str(spec.path("strategy").path("type"), "RollingUpdate");
    w.line(0, "StrategyType:", strategy);
    w.line(0, "MinReadySeconds:", spec.path("minReadySeconds").asText("0"));
    if (strategy.equals("RollingUpdate")) {
      JsonNode ru = spec.path("strategy").path("rollingUpdate");
      w.line(
          0,
          "RollingUpdateStrategy:",
          str(ru.path("maxUnavailable"), "25%")
              + " max unavailable, "
              + str(ru.path("maxSurge"), "25%")
              + " max surge");
    }
    podTemplate(w, spec.path("template"));
    if (!status.path("conditions").isEmpty()) {
      w.line(0, "Conditions:");
      w.line(1, "Type", "Status", "Reason");
      w.line(1, "----", "------", "------");
      for (JsonNode c : status.path("conditions")) {
        w.line(
            1, c.path("type").asText() + " ", c.path("status").asText(), str(c.path("reason"), ""));
      }
    }
    List<ObjectNode> old = new ArrayList<>();
    ObjectNode newRs = null;
    List<ObjectNode> sets = Deployments.replicaSetsOf(client, d);
    for (ObjectNode rs : sets) {
      if (newRs == null && Deployments.sameTemplate(rs, d)) {
        newRs = rs;
      } else {
        old.add(rs);
      }
    }
    // kubectl leaves both lines out while a Deployment has no ReplicaSet at all (created paused).
    if (!sets.isEmpty()) {
      w.line(0, "OldReplicaSets:", old.isEmpty() ? "<none>" : replicaSetsSummary(old));
      w.line(0, "NewReplicaSet:", newRs == null ? "<none>" : replicaSetsSummary(List.of(newRs)));
    }
    events(w, d, false);
    return w.toString();
  }

  private static String replicaSetsSummary(List<ObjectNode> sets) {
    List<String> parts = new ArrayList<>();
    for (ObjectNode rs : sets) {
      parts.add(
          rs.path("metadata").path("name").asText()
              + " ("
              + rs.path("status").path("replicas").asInt(0)
              + "/"
              + rs.path("spec").path("replicas").asInt(1)
              + " replicas created)");
    }
    return String.join(", ", parts);
  }

  private String replicaSet(ObjectNode rs) {
    JsonNode meta = rs.path("metadata");
    JsonNode spec = rs.path("spec");
    Lines w = new Lines();
    w.line(0, "Name:", meta.path("name").asText());
    w.line(0, "Namespace:", meta.path("namespace").asText());
    w.line(0, "Selector:", Text.labelSelector(spec.path("selector")));
    w.labels("", "Labels", Text.map(meta.path("labels")));
    w.annotations("", "Annotations", Text.map(meta.path("annotations")));
    String controller = controlledBy(rs);
    if (controller != null) {
      w.line(0, "Controlled By:", controller);
    }
    w.line(
        0,
        "Replicas:",
        rs.path("status").path("replicas").asInt(0)
            + " current / "
            + spec.path("replicas").asInt(1)
            + " desired");
    int running = 0;
    int waiting = 0;
    int succeeded = 0;
    int failed = 0;
    String uid = meta.path("uid").asText();
    String sel = Text.selector(spec.path("selector").path("matchLabels"));
    ObjectNode pods =
        client.getPath(
            Resource.PODS.path(meta.path("namespace").asText())
                + "?labelSelector="
                + enc(sel.equals("<none>") ? "" : sel));
    for (JsonNode p : pods.path("items")) {
      boolean owned = false;
      for (JsonNode o : p.path("metadata").path("ownerReferences")) {
        owned |= o.path("controller").asBoolean(false) && o.path("uid").asText().equals(uid);
      }
      if (!owned) {
        continue;
      }
      switch (p.path("status").path("phase").asText()) {
        case "Running" -> running++;
        case "Pending" -> waiting++;
        case "Succeeded" -> succeeded++;
        case "Failed" -> failed++;
        default -> {}
      }
    }
    w.line(
        0,
        "Pods Status:",
        running
            + " Running / "
            + waiting
            + " Waiting / "
            + succeeded
            + " Succeeded / "
            + failed
            + " Failed");
    podTemplate(w, spec.path("template"));
    if (!rs.path("status").path("conditions").isEmpty()) {
      w.line(0, "Conditions:");
      w.line(1, "Type", "Status", "Reason");
      w.line(1, "----", "------", "------");
      for (JsonNode c : rs.path("status").path("conditions")) {
        w.line(
            1, c.path("type").asText() + " ", c.path("status").asText(), str(c.path("reason"), ""));
      }
    }
    events(w, rs, false);
    return w.toString();
  }

  // -------------------------------------------------------------------------------------- nodes

  private String node(ObjectNode n) {
    JsonNode meta = n.path("metadata");
    JsonNode spec = n.path("spec");
    JsonNode status = n.path("status");
    String name = meta.path("name").asText();
    Lines w = new Lines();
    w.line(0, "Name:", name);
    Set<String> roles = new TreeSet<>();
    Text.map(meta.path("labels"))
        .forEach(
            (k, v) -> {
              if (k.startsWith("node-role.kubernetes.io/")) {
                roles.add(k.substring("node-role.kubernetes.io/".length()));
              } else if (k.equals("kubernetes.io/role")) {
                roles.add(v);
              }
            });
    roles.remove("");
    w.line(0, "Roles:", roles.isEmpty() ? "<none>" : String.join(",", roles));
    w.labels("", "Labels", Text.map(meta.path("labels")));
    w.annotations("", "Annotations", Text.map(meta.path("annotations")));
    w.line(0, "CreationTimestamp:", Text.time(meta.path("creationTimestamp").asText()));
    if (spec.path("taints").isEmpty()) {
      w.line(0, "Taints:", "<none>");
    } else {
      boolean first = true;
      for (JsonNode t : spec.path("taints")) {
        String v = str(t.path("value"), "");
        w.raw(
            (first ? "Taints:" : "")
                + "\t"
                + t.path("key").asText()
                + (v.isEmpty() ? "" : "=" + v)
                + ":"
                + t.path("effect").asText()
                + "\n");
        first = false;
      }
    }
    w.line(0, "Unschedulable:", Boolean.toString(spec.path("unschedulable").asBoolean(false)));
    try {
      ObjectNode lease =
          client.get(
              new Resource("coordination.k8s.io", "v1", "leases", true), "kube-node-lease", name);
      JsonNode ls = lease.path("spec");
      w.line(0, "Lease:");
      w.line(1, "HolderIdentity:", str(ls.path("holderIdentity"), "<unset>"));
      w.line(
          1,
          "AcquireTime:",
          ls.hasNonNull("acquireTime") ? Text.time(ls.path("acquireTime").asText()) : "<unset>");
      w.line(
          1,
          "RenewTime:",
          ls.hasNonNull("renewTime") ? Text.time(ls.path("renewTime").asText()) : "<unset>");
    } catch (ApiException e) {
      w.line(0, "Lease:", "Failed to get lease: " + e.getMessage());
    }
    if (!status.path("conditions").isEmpty()) {
      w.line(0, "Conditions:");
      w.line(1, "Type", "Status", "LastHeartbeatTime", "LastTransitionTime", "Reason", "Message");
      w.line(1, "----", "------", "-----------------", "------------------", "------", "-------");
      for (JsonNode c : status.path("conditions")) {
        w.line(
            1,
            c.path("type").asText() + " ",
            c.path("status").asText() + " ",
            Text.time(c.path("lastHeartbeatTime").asText()) + " ",
            Text.time(c.path("lastTransitionTime").asText()) + " ",
            str(c.path("reason"), "") + " ",
            str(c.path("message"), ""));
      }
    }
    w.line(0, "Addresses:");
    for (JsonNode a : status.path("addresses")) {
      w.line(1, a.path("type").asText() + ":", a.path("address").asText());
    }
    for (String list : List.of("capacity", "allocatable")) {
      JsonNode q = status.path(list);
      if (!q.isEmpty()) {
        w.line(0, list.equals("capacity") ? "Capacity:" : "Allocatable:");
        Text.map(q).forEach((k, v) -> w.line(1, k + ":", v));
      }
    }
    JsonNode info = status.path("nodeInfo");
    w.line(0, "System Info:");
    w.line(1, "Machine ID:", str(info.path("machineID"), ""));
    w.line(1, "System UUID:", str(info.path("systemUUID"), ""));
    w.line(1, "Boot ID:", str(info.path("bootID"), ""));
    w.line(1, "Kernel Version:", str(info.path("kernelVersion"), ""));
    w.line(1, "OS Image:", str(info.path("osImage"), ""));
    w.line(1, "Operating System:", str(info.path("operatingSystem"), ""));
    w.line(1, "Architecture:", str(info.path("architecture"), ""));
    w.line(1, "Container Runtime Version:", str(info.path("containerRuntimeVersion"), ""));
    w.line(1, "Kubelet Version:", str(info.path("kubeletVersion"), ""));
    w.line(1, "Kube-Proxy Version:", str(info.path("kubeProxyVersion"), ""));
    if (!str(spec.path("podCIDR"), "").isEmpty()) {
      w.line(0, "PodCIDR:", spec.path("podCIDR").asText());
    }
    if (!spec.path("podCIDRs").isEmpty()) {
      List<String> cidrs = new ArrayList<>();
      spec.path("podCIDRs").forEach(c -> cidrs.add(c.asText()));
      w.line(0, "PodCIDRs:", String.join(",", cidrs));
    }
    if (!str(spec.path("providerID"), "").isEmpty()) {
      w.line(0, "ProviderID:", spec.path("providerID").asText());
    }
    nodeResources(w, n);
    events(w, n, true);
    return w.toString();
  }

  private void nodeResources(Lines w, ObjectNode n) {
    String name = n.path("metadata").path("name").asText();
    ObjectNode pods =
        client.getPath(
            "/api/v1/pods?fieldSelector="
                + enc("spec.nodeName=" + name + ",status.phase!=Succeeded,status.phase!=Failed"));
    JsonNode alloc = n.path("status").path("allocatable");
    if (alloc.isEmpty()) {
      alloc = n.path("status").path("capacity");
    }
    Quantity cpuAlloc = Quantity.parse(alloc.path("cpu").asText());
    Quantity memAlloc = Quantity.parse(alloc.path("memory").asText());
    List<JsonNode> items = new ArrayList<>();
    pods.path("items").forEach(items::add);
    w.line(0, "Non-terminated Pods:", "(" + items.size() + " in total)");
    w.line(
        1,
        "Namespace",
        "Name",
        "",
        "CPU Requests",
        "CPU Limits",
        "Memory Requests",
        "Memory Limits",
        "Age");
    w.line(
        1,
        "---------",
        "----",
        "",
        "------------",
        "----------",
        "---------------",
        "-------------",
        "---");
    Map<String, Quantity> reqTotal = new TreeMap<>();
    Map<String, Quantity> limTotal = new TreeMap<>();
    for (JsonNode p : items) {
      Map<String, Quantity> req = podResources(p, "requests");
      Map<String, Quantity> lim = podResources(p, "limits");
      req.forEach((k, v) -> reqTotal.merge(k, v, Quantity::plus));
      lim.forEach((k, v) -> limTotal.merge(k, v, Quantity::plus));
      Quantity cr = req.getOrDefault("cpu", Quantity.ZERO);
      Quantity cl = lim.getOrDefault("cpu", Quantity.ZERO);
      Quantity mr = req.getOrDefault("memory", Quantity.ZERO);
      Quantity ml = lim.getOrDefault("memory", Quantity.ZERO);
      w.line(
          1,
          p.path("metadata").path("namespace").asText(),
          p.path("metadata").path("name").asText(),
          "",
          cr + " (" + cr.percentOf(cpuAlloc) + "%)",
          cl + " (" + cl.percentOf(cpuAlloc) + "%)",
          mr + " (" + mr.percentOf(memAlloc) + "%)",
          ml + " (" + ml.percentOf(memAlloc) + "%)",
          Text.since(p.path("metadata").path("creationTimestamp").asText()));
    }
    w.line(0, "Allocated resources:");
    w.line(1, "(Total limits may be over 100 percent, i.e., overcommitted.)");
    w.line(1, "Resource", "Requests", "Limits");
    w.line(1, "--------", "--------", "------");
    Set<String> names = new TreeSet<>();
    alloc.fieldNames().forEachRemaining(names::add);
    names.addAll(reqTotal.keySet());
    names.addAll(limTotal.keySet());
    List<String> order = new ArrayList<>(List.of("cpu", "memory", "ephemeral-storage"));
    for (String r : names) {
      if (!order.contains(r) && !r.equals("pods")) {
        order.add(r);
      }
    }
    for (String r : order) {
      if (r.equals("ephemeral-storage")
          && !alloc.has(r)
          && !reqTotal.containsKey(r)
          && !limTotal.containsKey(r)) {
        continue;
      }
      Quantity a = Quantity.parse(alloc.path(r).asText());
      Quantity q = reqTotal.getOrDefault(r, Quantity.ZERO);
      Quantity l = limTotal.getOrDefault(r, Quantity.ZERO);
      w.line(1, r, q + " (" + q.percentOf(a) + "%)", l + " (" + l.percentOf(a) + "%)");
    }
  }

  private static Map<String, Quantity> podResources(JsonNode pod, String kind) {
    Map<String, Quantity> sum = new TreeMap<>();
    for (JsonNode c : pod.path("spec").path("containers")) {
      Text.map(c.path("resources").path(kind))
          .forEach((k, v) -> sum.merge(k, Quantity.parse(v), Quantity::plus));
    }
    // Init containers run one at a time: the pod needs the largest of them if that is more.
    for (JsonNode c : pod.path("spec").path("initContainers")) {
      Text.map(c.path("resources").path(kind))
          .forEach(
              (k, v) -> {
                Quantity q = Quantity.parse(v);
                Quantity have = sum.get(k);
                if (have == null || q.value().compareTo(have.value()) > 0) {
                  sum.put(k, q);
                }
              });
    }
    return sum;
  }

  // -------------------------------------------------------- namespaces, services, configuration

  private String namespace(ObjectNode ns) {
    JsonNode meta = ns.path("metadata");
    Lines w = new Lines();
    w.line(0, "Name:", meta.path("name").asText());
    w.labels("", "Labels", Text.map(meta.path("labels")));
    w.annotations("", "Annotations", Text.map(meta.path("annotations")));
    w.line(0, "Status:", str(ns.path("status").path("phase"), ""));
    if (serves("", "resourcequotas")) {
      ObjectNode quotas =
          client.getPath(
              "/api/v1/namespaces/" + enc(meta.path("name").asText()) + "/resourcequotas");
      if (quotas.path("items").isEmpty()) {
        w.raw("\nNo resource quota.\n");
      } else {
        w.raw("\nResource Quotas\n");
        for (JsonNode q : quotas.path("items")) {
          w.line(1, "Name:", q.path("metadata").path("name").asText());
          w.line(1, "Resource", "Used", "Hard");
          w.line(1, "--------", "---", "---");
          Text.map(q.path("status").path("hard"))
              .forEach((k, v) -> w.line(1, k, str(q.path("status").path("used").path(k), "0"), v));
        }
      }
    }
    if (serves("", "limitranges")) {
      ObjectNode ranges =
          client.getPath("/api/v1/namespaces/" + enc(meta.path("name").asText()) + "/limitranges");
      if (ranges.path("items").isEmpty()) {
        w.raw("\nNo LimitRange resource.\n");
      }
    }
    events(w, ns, false);
    return w.toString();
  }

  private String service(ObjectNode svc) {
    JsonNode meta = svc.path("metadata");
    JsonNode spec = svc.path("spec");
    Lines w = new Lines();
    w.line(0, "Name:", meta.path("name").asText());
    w.line(0, "Namespace:", meta.path("namespace").asText());
    w.labels("", "Labels", Text.map(meta.path("labels")));
    w.annotations("", "Annotations", Text.map(meta.path("annotations")));
    w.line(0, "Selector:", Text.selector(spec.path("selector")));
    w.line(0, "Type:", str(spec.path("type"), "ClusterIP"));
    if (!str(spec.path("ipFamilyPolicy"), "").isEmpty()) {
      w.line(0, "IP Family Policy:", spec.path("ipFamilyPolicy").asText());
    }
    w.line(
        0,
        "IP Families:",
        spec.path("ipFamilies").isEmpty() ? "<none>" : join(spec.path("ipFamilies"), ","));
    w.line(0, "IP:", str(spec.path("clusterIP"), ""));
    w.line(
        0,
        "IPs:",
        spec.path("clusterIPs").isEmpty() ? "<none>" : join(spec.path("clusterIPs"), ","));
    if (!spec.path("externalIPs").isEmpty()) {
      w.line(0, "External IPs:", join(spec.path("externalIPs"), ","));
    }
    if (!str(spec.path("externalName"), "").isEmpty()) {
      w.line(0, "External Name:", spec.path("externalName").asText());
    }
    JsonNode endpoints = endpoints(meta);
    for (JsonNode p : spec.path("ports")) {
      String name = str(p.path("name"), "<unset>");
      String proto = str(p.path("protocol"), "TCP");
      w.line(0, "Port:", name, p.path("port").asInt() + "/" + proto);
      w.line(0, "TargetPort:", str(p.path("targetPort"), p.path("port").asText()) + "/" + proto);
      if (p.path("nodePort").asInt(0) != 0) {
        w.line(0, "NodePort:", name, p.path("nodePort").asInt() + "/" + proto);
      }
      w.line(0, "Endpoints:", endpointsFor(endpoints, str(p.path("name"), "")));
    }
    w.line(0, "Session Affinity:", str(spec.path("sessionAffinity"), "None"));
    if (!str(spec.path("externalTrafficPolicy"), "").isEmpty()) {
      w.line(0, "External Traffic Policy:", spec.path("externalTrafficPolicy").asText());
    }
    if (!str(spec.path("internalTrafficPolicy"), "").isEmpty()) {
      w.line(0, "Internal Traffic Policy:", spec.path("internalTrafficPolicy").asText());
    }
    events(w, svc, false);
    return w.toString();
  }

  private JsonNode endpoints(JsonNode meta) {
    if (!serves("", "endpoints")) {
      return null;
    }
    try {
      return client.getPath(
          "/api/v1/namespaces/"
              + enc(meta.path("namespace").asText())
              + "/endpoints/"
              + enc(meta.path("name").asText()));
    } catch (ApiException e) {
      if (e.isNotFound()) {
        return null;
      }
      throw e;
    }
  }

  private static String endpointsFor(JsonNode endpoints, String portName) {
    if (endpoints == null) {
      return "<none>";
    }
    List<String> out = new ArrayList<>();
    for (JsonNode subset : endpoints.path("subsets")) {
      for (JsonNode port : subset.path("ports")) {
        if (!str(port.path("name"), "").equals(portName)) {
          continue;
        }
        for (JsonNode a : subset.path("addresses")) {
          out.add(a.path("ip").asText() + ":" + port.path("port").asInt());
        }
      }
    }
    if (out.isEmpty()) {
      return "<none>";
    }
    if (out.size() > 3) {
      return String.join(",", out.subList(0, 3)) + " + " + (out.size() - 3) + " more...";
    }
    return String.join(",", out);
  }

  private String configMap(ObjectNode cm) {
    JsonNode meta = cm.path("metadata");
    Lines w = new Lines();
    w.line(0, "Name:", meta.path("name").asText());
    w.line(0, "Namespace:", meta.path("namespace").asText());
    w.labels("", "Labels", Text.map(meta.path("labels")));
    w.annotations("", "Annotations", Text.map(meta.path("annotations")));
    w.raw("\nData\n====\n");
    Text.map(cm.path("data")).forEach((k, v) -> w.raw(k + ":\n----\n" + v + "\n\n"));
    w.raw("\nBinaryData\n====\n");
    Text.map(cm.path("binaryData"))
        .forEach(
            (k, v) ->
                w.raw(k + ": " + java.util.Base64.getMimeDecoder().decode(v).length + " bytes\n"));
    w.raw("\n");
    events(w, cm, false);
    return w.toString();
  }

  /** Keys and sizes only: a secret's values are never printed. */
  private String secret(ObjectNode s) {
    JsonNode meta = s.path("metadata");
    Lines w = new Lines();
    w.line(0, "Name:", meta.path("name").asText());
    w.line(0, "Namespace:", meta.path("namespace").asText());
    w.labels("", "Labels", Text.map(meta.path("labels")));
    w.annotations("", "Annotations", Text.map(meta.path("annotations")));
    w.raw("\nType:\t" + str(s.path("type"), "Opaque") + "\n");
    w.raw("\nData\n====\n");
    Text.map(s.path("data")).forEach((k, v) -> w.line(0, k + ":", secretSize(v) + " bytes"));
    w.flush();
    w.raw("\n");
    events(w, s, false);
    return w.toString();
  }

  private static int secretSize(String base64) {
    try {
      return java.util.Base64.getMimeDecoder().decode(base64).length;
    } catch (IllegalArgumentException e) {
      return base64.length();
    }
  }

  // ------------------------------------------------------------------------------------ generic

  private static final Set<String> GENERIC_SKIP =
      Set.of(
          ".metadata.managedFields",
          ".metadata.name",
          ".metadata.namespace",
          ".metadata.labels",
          ".metadata.annotations");

  /** Every field of the object, sorted, as indented key/values with kubectl's labels for them. */
  private String generic(ObjectNode obj) {
    JsonNode meta = obj.path("metadata");
    Lines w = new Lines();
    w.line(0, "Name:", meta.path("name").asText());
    w.line(0, "Namespace:", meta.path("namespace").asText(""));
    w.labels("", "Labels", Text.map(meta.path("labels")));
    w.annotations("", "Annotations", Text.map(meta.path("annotations")));
    fields(w, 0, obj, "");
    events(w, obj, false);
    return w.toString();
  }

  private static void fields(Lines w, int level, JsonNode content, String prefix) {
    List<String> names = new ArrayList<>();
    content.fieldNames().forEachRemaining(names::add);
    names.sort(null);
    for (String field : names) {
      String path = prefix + "." + field;
      if (GENERIC_SKIP.contains(path)) {
        continue;
      }
      JsonNode v = content.get(field);
      if (v.isObject()) {
        w.line(level, label(field) + ":");
        fields(w, level + 1, v, path);
      } else if (v.isArray()) {
        w.line(level, label(field) + ":");
        for (JsonNode child : v) {
          if (child.isObject()) {
            fields(w, level + 1, child, path);
          } else {
            w.line(level + 1, child.isNull() ? "<nil>" : child.asText());
          }
        }
      } else {
        w.line(level, label(field) + ":", v.isNull() ? "<nil>" : v.asText());
      }
    }
  }

  private static final Set<String> ACRONYMS = Set.of("API", "URL", "UID", "OSB", "GUID");

  /** kubectl's label for a field: {@code apiVersion} → {@code API Version}. */
  static String label(String field) {
    for (int i = 0; i < field.length(); i++) {
      char c = field.charAt(i);
      if (!Character.isLetter(c) && c != '-') {
        return field;
      }
    }
    List<String> parts = camelSplit(field);
    List<String> out = new ArrayList<>();
    for (String p : parts) {
      String upper = p.toUpperCase(java.util.Locale.ROOT);
      out.add(
          ACRONYMS.contains(upper) ? upper : Character.toUpperCase(p.charAt(0)) + p.substring(1));
    }
    return String.join(" ", out);
  }

  /** Splits at changes of character class, an upper-case run giving its last letter to a word. */
  private static List<String> camelSplit(String s) {
    List<StringBuilder> runs = new ArrayList<>();
    int lastClass = -1;
    for (char c : s.toCharArray()) {
      int cls =
          Character.isLowerCase(c)
              ? 1
              : Character.isUpperCase(c) ? 2 : Character.isDigit(c) ? 3 : 4;
      if (cls == lastClass) {
        runs.get(runs.size() - 1).append(c);
      } else {
        runs.add(new StringBuilder().append(c));
      }
      lastClass = cls;
    }
    // "APIVersion" → "API", "Version": an upper-case run followed by a lower-case one.
    for (int i = 0; i < runs.size() - 1; i++) {
      StringBuilder a = runs.get(i);
      StringBuilder b = runs.get(i + 1);
      if (Character.isUpperCase(a.charAt(0))
          && Character.isLowerCase(b.charAt(0))
          && a.length() > 0) {
        char last = a.charAt(a.length() - 1);
        a.setLength(a.length() - 1);
        b.insert(0, last);
      }
    }
    List<String> out = new ArrayList<>();
    for (StringBuilder r : runs) {
      if (r.length() > 0) {
        out.add(r.toString());
      }
    }
    return out;
  }

  // ------------------------------------------------------------------------------------- events

  /**
   * The object's events, oldest first: a table, or {@code Events: <none>}. Nodes also match events
   * recorded with the node's name as the uid (kubelets record them so).
   */
  private void events(Lines w, JsonNode obj, boolean nodeNameToo) {
    JsonNode meta = obj.path("metadata");
    String ns = meta.path("namespace").asText("");
    List<JsonNode> events = new ArrayList<>(eventsFor(ns, meta.path("uid").asText()));
    if (nodeNameToo) {
      events.addAll(eventsFor(ns, meta.path("name").asText()));
    }
    if (events.isEmpty()) {
      w.line(0, "Events:", "<none>");
      return;
    }
    w.flush();
    events.sort(Comparator.comparing(Describer::lastSeen));
    w.line(0, "Events:");
    w.line(1, "Type", "Reason", "Age", "From", "Message");
    w.line(1, "----", "------", "----", "----", "-------");
    for (JsonNode e : events) {
      String first =
          e.hasNonNull("eventTime")
              ? Text.since(e.path("eventTime").asText())
              : Text.since(e.path("firstTimestamp").asText());
      String interval;
      if (e.path("series").isObject() && !e.path("series").isEmpty()) {
        interval =
            Text.since(e.path("series").path("lastObservedTime").asText())
                + " (x"
                + e.path("series").path("count").asInt()
                + " over "
                + first
                + ")";
      } else if (e.path("count").asInt(1) > 1) {
        interval =
            Text.since(e.path("lastTimestamp").asText())
                + " (x"
                + e.path("count").asInt()
                + " over "
                + first
                + ")";
      } else {
        interval = first;
      }
      String from = str(e.path("source").path("component"), str(e.path("reportingComponent"), ""));
      w.line(
          1,
          str(e.path("type"), ""),
          str(e.path("reason"), ""),
          interval,
          from,
          str(e.path("message"), "").trim());
    }
  }

  private static Instant lastSeen(JsonNode e) {
    for (String f : List.of("lastTimestamp", "eventTime", "firstTimestamp")) {
      Instant t = Text.instant(e.path(f).asText(null));
      if (t != null) {
        return t;
      }
    }
    return Instant.EPOCH;
  }

  private List<JsonNode> eventsFor(String namespace, String uid) {
    if (uid.isEmpty()) {
      return List.of();
    }
    String path =
        Resource.EVENTS.path(namespace.isEmpty() ? null : namespace)
            + "?fieldSelector="
            + enc("involvedObject.uid=" + uid);
    List<JsonNode> out = new ArrayList<>();
    for (Iterator<JsonNode> it = client.getPath(path).path("items").elements(); it.hasNext(); ) {
      out.add(it.next());
    }
    return out;
  }

  private boolean serves(String group, String resource) {
    for (ApiResource r : served) {
      if (r.resource().group().equals(group) && r.resource().resource().equals(resource)) {
        return true;
      }
    }
    return false;
  }

  private static String join(JsonNode array, String sep) {
    List<String> out = new ArrayList<>();
    array.forEach(v -> out.add(v.asText()));
    return String.join(sep, out);
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
