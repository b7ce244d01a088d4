package dev.kubelite.apiserver.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Server-side printing: {@code Accept: application/json;as=Table;g=meta.k8s.io;v=v1}. The server
 * computes every cell (kubectl prints them as given), with the columns kube-apiserver uses for each
 * kind; priority-1 columns appear with {@code -o wide}.
 */
public final class Tables {
  private Tables() {}

  /** What {@code rows[].object} carries ({@code includeObject}). */
  public enum Include {
    NONE,
    METADATA,
    OBJECT
  }

  private record Column(
      String name,
      String type,
      String format,
      int priority,
      String description,
      Function<JsonNode, Object> cell) {}

  public static ObjectNode table(
      String kind,
      List<ObjectNode> objects,
      String resourceVersion,
      String continueToken,
      Include include,
      Instant now,
      boolean withColumns) {
    List<Column> cols = columns(kind, now);
    ObjectNode t = Json.object();
    t.put("kind", "Table");
    t.put("apiVersion", "meta.k8s.io/v1");
    ObjectNode meta = t.putObject("metadata");
    if (resourceVersion != null) {
      meta.put("resourceVersion", resourceVersion);
    }
    if (continueToken != null) {
      meta.put("continue", continueToken);
    }
    if (withColumns) {
      ArrayNode cd = t.putArray("columnDefinitions");
      for (Column c : cols) {
        ObjectNode n = cd.addObject();
        n.put("name", c.name());
        n.put("type", c.type());
        n.put("format", c.format());
        n.put("description", c.description());
        n.put("priority", c.priority());
      }
    }
    ArrayNode rows = t.putArray("rows");
    for (ObjectNode o : objects) {
      ObjectNode row = rows.addObject();
      ArrayNode cells = row.putArray("cells");
      for (Column c : cols) {
        Object v = c.cell().apply(o);
        if (v instanceof Number num) {
          cells.add(num.longValue());
        } else {
          cells.add(String.valueOf(v));
        }
      }
      switch (include) {
        case OBJECT -> row.set("object", o);
        case METADATA -> row.set("object", partialMetadata(o));
        case NONE -> {}
      }
    }
    return t;
  }

  /** {@code PartialObjectMetadata}: kind/apiVersion of meta.k8s.io and the object's metadata. */
  public static ObjectNode partialMetadata(ObjectNode o) {
    ObjectNode p = Json.object();
    p.put("kind", "PartialObjectMetadata");
    p.put("apiVersion", "meta.k8s.io/v1");
    p.set("metadata", o.path("metadata").deepCopy());
    return p;
  }

  private static Column col(
      String name, int priority, String description, Function<JsonNode, Object> cell) {
    return new Column(name, "string", "", priority, description, cell);
  }

  private static Column intCol(
      String name, int priority, String description, Function<JsonNode, Object> cell) {
    return new Column(name, "integer", "", priority, description, cell);
  }

  private static Column nameCol() {
    return new Column(
        "Name",
        "string",
        "name",
        0,
        "Name must be unique within a namespace.",
        o -> Json.text(o, "metadata", "name"));
  }

  private static Column ageCol(Instant now) {
    return col(
        "Age",
        0,
        "CreationTimestamp is a timestamp representing the server time when this object was created.",
        o -> age(Json.text(o, "metadata", "creationTimestamp"), now));
  }

  private static List<Column> columns(String kind, Instant now) {
    List<Column> c = new ArrayList<>();
    c.add(nameCol());
    switch (kind) {
      case "Pod" -> {
        c.add(
            col(
                "Ready",
                0,
                "The aggregate readiness state of this pod for accepting traffic.",
                Tables::podReady));
        c.add(
            col(
                "Status",
                0,
                "The aggregate status of the containers in this pod.",
                Tables::podStatus));
        c.add(
            col(
                "Restarts",
                0,
                "The number of times the containers in this pod have been restarted.",
                Tables::podRestarts));
        c.add(ageCol(now));
        c.add(
            col(
                "IP",
                1,
                "IP address allocated to the pod.",
                o -> orNone(Json.text(o, "status", "podIP"))));
        c.add(
            col(
                "Node",
                1,
                "Name of the Node this pod is assigned to.",
                o -> orNone(Json.text(o, "spec", "nodeName"))));
        c.add(
            col(
                "Nominated Node",
                1,
                "Name of the Node the scheduler nominated.",
                o -> orNone(Json.text(o, "status", "nominatedNodeName"))));
        c.add(col("Readiness Gates", 1, "Pod readiness gates.", Tables::readinessGates));
      }
      case "Deployment" -> {
        c.add(
            col(
                "Ready",
                0,
                "Number of the pod with ready state",
                o ->
                    o.path("status").path("readyReplicas").asLong(0)
                        + "/"
                        + o.path("spec").path("replicas").asLong(0)));
        c.add(
            intCol(
                "Up-to-date",
                0,
                "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
                o -> o.path("status").path("updatedReplicas").asLong(0)));
        c.add(
            intCol(
                "Available",
                0,
                "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
                o -> o.path("status").path("availableReplicas").asLong(0)));
        c.add(ageCol(now));
        workloadWide(c);
      }
      case "ReplicaSet" -> {
        c.add(
            intCol(
                "Desired",
                0,
                "Number of desired pods.",
                o -> o.path("spec").path("replicas").asLong(0)));
        c.add(
            intCol(
                "Current",
                0,
                "Number of actual replicas.",
                o -> o.path("status").path("replicas").asLong(0)));
        c.add(
            intCol(
                "Ready",
                0,
                "The number of ready replicas for this replica set.",
                o -> o.path("status").path("readyReplicas").asLong(0)));
        c.add(ageCol(now));
        workloadWide(c);
      }
      case "Node" -> {
        c.add(col("Status", 0, "The status of the node", Tables::nodeStatus));
        c.add(col("Roles", 0, "The roles of the node", Tables::nodeRoles));
        c.add(ageCol(now));
        c.add(
            col(
                "Version",
                0,
                "Kubelet Version reported by the node.",
                o ->
                    Json.text(o, "status", "nodeInfo", "kubeletVersion") == null
                        ? ""
                        : Json.text(o, "status", "nodeInfo", "kubeletVersion")));
        c.add(
            col(
                "Internal-IP",
                1,
                "List of internal IPs in the node.",
                o -> nodeAddress(o, "InternalIP")));
        c.add(
            col(
                "External-IP",
                1,
                "List of external IPs in the node.",
                o -> nodeAddress(o, "ExternalIP")));
        c.add(
            col(
                "OS-Image",
                1,
                "OS image reported by the node.",
                o -> unknown(Json.text(o, "status", "nodeInfo", "osImage"))));
        c.add(
            col(
                "Kernel-Version",
                1,
                "Kernel version reported by the node.",
                o -> unknown(Json.text(o, "status", "nodeInfo", "kernelVersion"))));
        c.add(
            col(
                "Container-Runtime",
                1,
                "Container runtime reported by the node.",
                o -> unknown(Json.text(o, "status", "nodeInfo", "containerRuntimeVersion"))));
      }
      case "Namespace" -> {
        c.add(
            col(
                "Status",
                0,
                "The status of the namespace",
                o -> orEmpty(Json.text(o, "status", "phase"))));
        c.add(ageCol(now));
      }
      case "Event" -> {
        c.clear();
        c.add(col("Last Seen", 0, "Time when last event was seen", o -> eventLastSeen(o, now)));
        c.add(
            col(
                "Type",
                0,
                "Type of this event (Normal, Warning).",
                o -> orEmpty(Json.text(o, "type"))));
        c.add(
            col(
                "Reason",
                0,
                "Short, machine understandable string that gives the reason for this event.",
                o -> orEmpty(Json.text(o, "reason"))));
        c.add(col("Object", 0, "The object this event is about.", Tables::eventObject));
        c.add(
            col(
                "Subobject",
                1,
                "The subobject this event is about.",
                o -> orEmpty(Json.text(o, "involvedObject", "fieldPath"))));
        c.add(col("Source", 1, "The component reporting this event.", Tables::eventSource));
        c.add(
            col(
                "Message",
                0,
                "A human-readable description of the status of this operation.",
                o -> orEmpty(Json.text(o, "message"))));
        c.add(
            col(
                "First Seen",
                1,
                "The time at which the event was first recorded.",
                o -> age(Json.text(o, "firstTimestamp"), now)));
        c.add(
            intCol(
                "Count",
                1,
                "The number of times this event has occurred.",
                o -> o.path("count").asLong(1)));
        c.add(
            new Column(
                "Name",
                "string",
                "name",
                1,
                "Name must be unique within a namespace.",
                o -> Json.text(o, "metadata", "name")));
      }
      case "Service" -> {
        c.add(
            col("Type", 0, "The type of the service.", o -> orEmpty(Json.text(o, "spec", "type"))));
        c.add(
            col(
                "Cluster-IP",
                0,
                "The cluster IP of the service.",
                o -> orNone(Json.text(o, "spec", "clusterIP"))));
        c.add(col("External-IP", 0, "The external IP of the service.", Tables::serviceExternalIp));
        c.add(col("Port(s)", 0, "The ports of the service.", Tables::servicePorts));
        c.add(ageCol(now));
        c.add(
            col(
                "Selector",
                1,
                "The label selector of the service.",
                o -> selectorMap(o.path("spec").path("selector"))));
      }
      case "ConfigMap" -> {
        c.add(
            intCol(
                "Data",
                0,
                "Number of data entries.",
                o -> (long) (o.path("data").size() + o.path("binaryData").size())));
        c.add(ageCol(now));
      }
      case "Secret" -> {
        c.add(col("Type", 0, "The type of the secret", o -> orEmpty(Json.text(o, "type"))));
        c.add(intCol("Data", 0, "Number of data entries.", o -> (long) o.path("data").size()));
        c.add(ageCol(now));
      }
      case "ServiceAccount" -> {
        c.add(intCol("Secrets", 0, "Number of secrets.", o -> (long) o.path("secrets").size()));
        c.add(ageCol(now));
      }
      case "Lease" -> {
        c.add(
            col(
                "Holder",
                0,
                "The holder of the lease.",
                o -> orEmpty(Json.text(o, "spec", "holderIdentity"))));
        c.add(ageCol(now));
      }
      case "RoleBinding", "ClusterRoleBinding" -> {
        c.add(
            col(
                "Role",
                0,
                "The role the binding grants.",
                o ->
                    o.path("roleRef").path("kind").asText()
                        + "/"
                        + o.path("roleRef").path("name").asText()));
        c.add(ageCol(now));
        c.add(col("Users", 1, "Users in the binding.", o -> subjects(o, "User")));
        c.add(col("Groups", 1, "Groups in the binding.", o -> subjects(o, "Group")));
        c.add(
            col(
                "ServiceAccounts",
                1,
                "ServiceAccounts in the binding.",
                o -> subjects(o, "ServiceAccount")));
      }
      default ->
          c.add(
              col(
                  "Created At",
                  0,
                  "CreationTimestamp of the object.",
                  o -> orEmpty(Json.text(o, "metadata", "creationTimestamp"))));
    }
    return c;
  }

  /** A binding's subjects of one kind, as kubectl shows them ({@code ns/name} for accounts). */
  private static String subjects(JsonNode o, String kind) {
    List<String> out = new ArrayList<>();
    for (JsonNode s : o.path("subjects")) {
      if (kind.equals(s.path("kind").asText())) {
        out.add(
            kind.equals("ServiceAccount")
                ? s.path("namespace").asText() + "/" + s.path("name").asText()
                : s.path("name").asText());
      }
    }
    return String.join(", ", out);
  }

  private static void workloadWide(List<Column> c) {
    c.add(
        col(
            "Containers",
            1,
            "Names of each container in the template.",
            o -> containers(o, "name")));
    c.add(
        col(
            "Images",
            1,
            "Images referenced by each container in the template.",
            o -> containers(o, "image")));
    c.add(
        col(
            "Selector",
            1,
            "Label selector for pods.",
            o -> LabelSelector.toQuery(o.path("spec").path("selector"))));
  }

  private static String containers(JsonNode o, String field) {
    List<String> out = new ArrayList<>();
    for (JsonNode c : o.path("spec").path("template").path("spec").path("containers")) {
      out.add(c.path(field).asText());
    }
    return String.join(",", out);
  }

  private static String podReady(JsonNode o) {
    int total = o.path("spec").path("containers").size();
    int ready = 0;
    for (JsonNode cs : o.path("status").path("containerStatuses")) {
      if (cs.path("ready").asBoolean(false)) {
        ready++;
      }
    }
    return ready + "/" + total;
  }

  private static String podStatus(JsonNode o) {
    if (o.path("metadata").hasNonNull("deletionTimestamp")) {
      return "Terminating";
    }
    String reason = Json.text(o, "status", "reason");
    if (reason != null && !reason.isEmpty()) {
      return reason;
    }
    for (JsonNode cs : o.path("status").path("containerStatuses")) {
      String waiting = Json.text(cs, "state", "waiting", "reason");
      if (waiting != null && !waiting.isEmpty()) {
        return waiting;
      }
      String terminated = Json.text(cs, "state", "terminated", "reason");
      if (terminated != null && !terminated.isEmpty()) {
        return terminated;
      }
    }
    String phase = Json.text(o, "status", "phase");
    return phase == null ? "Unknown" : phase;
  }

  private static String podRestarts(JsonNode o) {
    long n = 0;
    for (JsonNode cs : o.path("status").path("containerStatuses")) {
      n += cs.path("restartCount").asLong(0);
    }
    return Long.toString(n);
  }

  private static String readinessGates(JsonNode o) {
    JsonNode gates = o.path("spec").path("readinessGates");
    if (!gates.isArray() || gates.isEmpty()) {
      return "<none>";
    }
    int ok = 0;
    for (JsonNode g : gates) {
      String type = Json.text(g, "conditionType");
      for (JsonNode c : o.path("status").path("conditions")) {
        if (type != null
            && type.equals(Json.text(c, "type"))
            && "True".equals(Json.text(c, "status"))) {
          ok++;
        }
      }
    }
    return ok + "/" + gates.size();
  }

  private static String nodeStatus(JsonNode o) {
    String status = "Unknown";
    for (JsonNode c : o.path("status").path("conditions")) {
      if ("Ready".equals(Json.text(c, "type"))) {
        status = "True".equals(Json.text(c, "status")) ? "Ready" : "NotReady";
      }
    }
    if (o.path("spec").path("unschedulable").asBoolean(false)) {
      status += ",SchedulingDisabled";
    }
    return status;
  }

  private static String nodeRoles(JsonNode o) {
    List<String> roles = new ArrayList<>();
    for (Iterator<String> it = o.path("metadata").path("labels").fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (k.startsWith("node-role.kubernetes.io/")) {
        String r = k.substring("node-role.kubernetes.io/".length());
        if (!r.isEmpty()) {
          roles.add(r);
        }
      }
    }
    java.util.Collections.sort(roles);
    return roles.isEmpty() ? "<none>" : String.join(",", roles);
  }

  private static String nodeAddress(JsonNode o, String type) {
    for (JsonNode a : o.path("status").path("addresses")) {
      if (type.equals(Json.text(a, "type"))) {
        return orNone(Json.text(a, "address"));
      }
    }
    return "<none>";
  }

  private static String eventLastSeen(JsonNode o, Instant now) {
    String ts = Json.text(o, "lastTimestamp");
    if (ts == null) {
      ts = Json.text(o, "eventTime");
    }
    if (ts == null) {
      ts = Json.text(o, "metadata", "creationTimestamp");
    }
    return age(ts, now);
  }

  private static String eventObject(JsonNode o) {
    String kind = Json.text(o, "involvedObject", "kind");
    String name = Json.text(o, "involvedObject", "name");
    return (kind == null ? "" : kind.toLowerCase(java.util.Locale.ROOT))
        + "/"
        + (name == null ? "" : name);
  }

  private static String eventSource(JsonNode o) {
    String c = Json.text(o, "source", "component");
    if (c == null || c.isEmpty()) {
      c = Json.text(o, "reportingComponent");
    }
    String host = Json.text(o, "source", "host");
    if (c == null) {
      c = "";
    }
    return host == null || host.isEmpty() ? c : c + ", " + host;
  }

  private static String serviceExternalIp(JsonNode o) {
    List<String> ips = new ArrayList<>();
    o.path("spec").path("externalIPs").forEach(i -> ips.add(i.asText()));
    for (JsonNode i : o.path("status").path("loadBalancer").path("ingress")) {
      ips.add(i.hasNonNull("ip") ? i.get("ip").asText() : i.path("hostname").asText());
    }
    String type = Json.text(o, "spec", "type");
    if (ips.isEmpty()) {
      return "LoadBalancer".equals(type) ? "<pending>" : "<none>";
    }
    return String.join(",", ips);
  }

  private static String servicePorts(JsonNode o) {
    List<String> out = new ArrayList<>();
    for (JsonNode p : o.path("spec").path("ports")) {
      String s = p.path("port").asText();
      if (p.hasNonNull("nodePort")) {
        s += ":" + p.get("nodePort").asText();
      }
      out.add(s + "/" + p.path("protocol").asText("TCP"));
    }
    return out.isEmpty() ? "<none>" : String.join(",", out);
  }

  private static String selectorMap(JsonNode sel) {
    List<String> out = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = sel.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      out.add(e.getKey() + "=" + e.getValue().asText());
    }
    java.util.Collections.sort(out);
    return out.isEmpty() ? "<none>" : String.join(",", out);
  }

  private static String orNone(String s) {
    return s == null || s.isEmpty() ? "<none>" : s;
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  private static String unknown(String s) {
    return s == null || s.isEmpty() ? "<unknown>" : s;
  }

  /** An age as kubectl shows it: 5s, 119s, 3m20s, 12m, 5h3m, 20h, 3d4h, 30d, 2y10d. */
  public static String age(String timestamp, Instant now) {
    if (timestamp == null || timestamp.isEmpty()) {
      return "<unknown>";
    }
    Instant t;
    try {
      t = Instant.parse(timestamp);
    } catch (DateTimeParseException e) {
      return "<invalid>";
    }
    return humanDuration(Duration.between(t, now));
  }

  static String humanDuration(Duration d) {
    long seconds = d.getSeconds();
    if (seconds < -1) {
      return "<invalid>";
    }
    if (seconds < 0) {
      return "0s";
    }
    if (seconds < 120) {
      return seconds + "s";
    }
    long minutes = seconds / 60;
    if (minutes < 10) {
      long s = seconds % 60;
      return s == 0 ? minutes + "m" : minutes + "m" + s + "s";
    }
    if (minutes < 180) {
      return minutes + "m";
    }
    long hours = minutes / 60;
    if (hours < 8) {
      long m = minutes % 60;
      return m == 0 ? hours + "h" : hours + "h" + m + "m";
    }
    if (hours < 48) {
      return hours + "h";
    }
    if (hours < 24 * 8) {
      long h = hours % 24;
      return h == 0 ? hours / 24 + "d" : hours / 24 + "d" + h + "h";
    }
    if (hours < 24 * 365 * 2) {
      return hours / 24 + "d";
    }
    if (hours < 24 * 365 * 8) {
      long days = (hours / 24) % 365;
      return days == 0 ? hours / 24 / 365 + "y" : hours / 24 / 365 + "y" + days + "d";
    }
    return hours / 24 / 365 + "y";
  }
}
