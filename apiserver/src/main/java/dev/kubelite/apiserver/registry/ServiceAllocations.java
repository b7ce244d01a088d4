package dev.kubelite.apiserver.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.ApiException.Cause;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.api.Validation;
import dev.kubelite.apiserver.storage.ObjectStorage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Cluster IPs and node ports of Services, as kube-apiserver allocates them: from the service range
 * {@value #IP_RANGE} (the first address, {@value #API_SERVICE_IP}, is the {@code kubernetes}
 * service's) and the node port range 30000-32767, each kept in the store as a bitmap ({@link
 * RangeAllocator}). A create reserves first and stores the Service after; if storing fails, the
 * reservation is released. A Service that is deleted releases its values.
 */
final class ServiceAllocations {
  static final String IP_RANGE = "10.96.0.0/12";
  static final String API_SERVICE_IP = "10.96.0.1";
  static final String IP_KEY = "/registry/ranges/serviceips";
  static final String NODE_PORT_KEY = "/registry/ranges/servicenodeports";
  static final int NODE_PORT_MIN = 30000;
  static final int NODE_PORT_MAX = 32767;

  private static final int IP_BASE = (10 << 24) | (96 << 16);
  private static final int IP_PREFIX = 12;

  /** What a create reserved, to release if the Service is not stored after all. */
  record Reserved(List<Integer> ipOffsets, List<Integer> portOffsets) {}

  private final RangeAllocator ips;
  private final RangeAllocator nodePorts;

  ServiceAllocations(ObjectStorage storage) {
    int ipCount = 1 << (32 - IP_PREFIX);
    // Offset 0 is the network address, the last one the broadcast address: never handed out.
    this.ips =
        new RangeAllocator(
            storage, IP_KEY, IP_RANGE, ipCount - 1, 1, Math.min(Math.max(16, ipCount / 16), 256));
    int portCount = NODE_PORT_MAX - NODE_PORT_MIN + 1;
    this.nodePorts =
        new RangeAllocator(
            storage,
            NODE_PORT_KEY,
            NODE_PORT_MIN + "-" + NODE_PORT_MAX,
            portCount,
            0,
            Math.min(Math.max(16, portCount / 32), 128));
  }

  private static boolean headless(JsonNode spec) {
    return "None".equals(spec.path("clusterIP").asText());
  }

  private static boolean externalName(JsonNode spec) {
    return "ExternalName".equals(spec.path("type").asText());
  }

  private static boolean needsNodePorts(JsonNode spec) {
    String type = spec.path("type").asText();
    return type.equals("NodePort") || type.equals("LoadBalancer");
  }

  /**
   * Validates the addresses and ports {@code svc} asks for, reserves them and the ones it leaves to
   * the server, and writes them into {@code svc} (with the IP family fields Kubernetes sets).
   */
  CompletableFuture<Reserved> allocate(ObjectNode svc) {
    String name = Json.text(svc, "metadata", "name");
    ObjectNode spec = Json.child(svc, "spec");
    List<Cause> causes = new ArrayList<>();
    boolean wantsIp = !externalName(spec) && !headless(spec);
    List<Integer> staticIps = new ArrayList<>();
    String requested = Json.text(spec, "clusterIP");
    if (wantsIp && requested != null && !requested.isEmpty()) {
      Integer offset = ipOffset(requested, causes);
      if (offset != null) {
        staticIps.add(offset);
      }
    }
    List<ObjectNode> ports = new ArrayList<>();
    List<Integer> staticPorts = new ArrayList<>();
    int freePorts = 0;
    if (needsNodePorts(spec) && spec.get("ports") instanceof ArrayNode ps) {
      for (int i = 0; i < ps.size(); i++) {
        if (!(ps.get(i) instanceof ObjectNode p)) {
          continue;
        }
        ports.add(p);
        if (p.hasNonNull("nodePort") && p.get("nodePort").asInt() != 0) {
          int np = p.get("nodePort").asInt();
          if (np < NODE_PORT_MIN || np > NODE_PORT_MAX) {
            causes.add(
                Validation.invalid(
                    "spec.ports[" + i + "].nodePort",
                    p.get("nodePort"),
                    "provided port is not in the valid range. The range of valid ports is "
                        + NODE_PORT_MIN
                        + "-"
                        + NODE_PORT_MAX));
          } else if (staticPorts.contains(np - NODE_PORT_MIN)) {
            causes.add(
                new Cause(
                    "FieldValueDuplicate",
                    "spec.ports[" + i + "].nodePort",
                    "Duplicate value: " + np));
          } else {
            staticPorts.add(np - NODE_PORT_MIN);
          }
        } else {
          freePorts++;
        }
      }
    }
    if (!causes.isEmpty()) {
      throw ApiException.invalid("", "Service", name, causes);
    }
    int portsToPick = freePorts;
    return ips.allocate(
            staticIps,
            wantsIp && staticIps.isEmpty() ? 1 : 0,
            o ->
                ApiException.invalid(
                    "",
                    "Service",
                    name,
                    List.of(
                        ipListCause(
                            ip(o),
                            "failed to allocate IP "
                                + ip(o)
                                + ": provided IP is already allocated"))))
        .thenCompose(
            pickedIps -> {
              List<Integer> ipOffsets = new ArrayList<>(staticIps);
              ipOffsets.addAll(pickedIps);
              return nodePorts
                  .allocate(
                      staticPorts,
                      portsToPick,
                      o ->
                          ApiException.invalid(
                              "",
                              "Service",
                              name,
                              List.of(
                                  new Cause(
                                      "FieldValueInvalid",
                                      "spec.ports.nodePort",
                                      "Invalid value: "
                                          + (NODE_PORT_MIN + o)
                                          + ": provided port is already allocated"))))
                  .handle(
                      (pickedPorts, err) -> {
                        if (err != null) {
                          ips.release(ipOffsets);
                          throw ObjectStorage.translate(err);
                        }
                        write(spec, ipOffsets, ports, pickedPorts);
                        List<Integer> portOffsets = new ArrayList<>(staticPorts);
                        portOffsets.addAll(pickedPorts);
                        return new Reserved(ipOffsets, portOffsets);
                      });
            });
  }

  private static void write(
      ObjectNode spec, List<Integer> ipOffsets, List<ObjectNode> ports, List<Integer> picked) {
    if (externalName(spec)) {
      return;
    }
    if (!ipOffsets.isEmpty()) {
      String ip = ip(ipOffsets.get(0));
      spec.put("clusterIP", ip);
      spec.putArray("clusterIPs").add(ip);
    } else if (headless(spec)) {
      spec.putArray("clusterIPs").add("None");
    }
    spec.putArray("ipFamilies").add("IPv4");
    if (!spec.has("ipFamilyPolicy")) {
      spec.put("ipFamilyPolicy", "SingleStack");
    }
    if (!spec.has("internalTrafficPolicy")) {
      spec.put("internalTrafficPolicy", "Cluster");
    }
    int next = 0;
    for (ObjectNode p : ports) {
      if (!p.hasNonNull("nodePort") || p.get("nodePort").asInt() == 0) {
        p.put("nodePort", NODE_PORT_MIN + picked.get(next++));
      }
    }
    if (!ports.isEmpty() && !spec.has("externalTrafficPolicy")) {
      spec.put("externalTrafficPolicy", "Cluster");
    }
    if ("LoadBalancer".equals(spec.path("type").asText())
        && !spec.has("allocateLoadBalancerNodePorts")) {
      spec.put("allocateLoadBalancerNodePorts", true);
    }
  }

  /** Releases what a create reserved (the Service was not stored). */
  CompletableFuture<Void> release(Reserved r) {
    return CompletableFuture.allOf(ips.release(r.ipOffsets()), nodePorts.release(r.portOffsets()));
  }

  /** Releases what a deleted Service held. */
  CompletableFuture<Void> release(ObjectNode svc) {
    JsonNode spec = svc.path("spec");
    List<Integer> ipOffsets = new ArrayList<>();
    String ip = spec.path("clusterIP").asText("");
    if (!ip.isEmpty() && !ip.equals("None")) {
      Integer o = ipOffset(ip, new ArrayList<>());
      if (o != null) {
        ipOffsets.add(o);
      }
    }
    List<Integer> portOffsets = new ArrayList<>();
    for (JsonNode p : spec.path("ports")) {
      int np = p.path("nodePort").asInt(0);
      if (np >= NODE_PORT_MIN && np <= NODE_PORT_MAX) {
        portOffsets.add(np - NODE_PORT_MIN);
      }
    }
    return release(new Reserved(ipOffsets, portOffsets));
  }

  /**
   * An update keeps what was allocated: a missing {@code clusterIP}, {@code clusterIPs} or node
   * port (a PUT of the manifest as written) is taken from the stored Service, as kube-apiserver
   * does.
   */
  static void keepAllocated(ObjectNode old, ObjectNode wanted) {
    JsonNode was = old.path("spec");
    ObjectNode spec = Json.child(wanted, "spec");
    for (String f : List.of("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy")) {
      JsonNode v = spec.get(f);
      if ((v == null || v.isNull() || (v.isTextual() && v.asText().isEmpty())) && was.has(f)) {
        spec.set(f, was.get(f).deepCopy());
      }
    }
    if (spec.get("ports") instanceof ArrayNode ps) {
      for (JsonNode p : ps) {
        if (p instanceof ObjectNode po
            && (!po.hasNonNull("nodePort") || po.get("nodePort").asInt() == 0)) {
          for (JsonNode q : was.path("ports")) {
            if (q.path("port").equals(po.path("port"))
                && q.path("protocol").asText("TCP").equals(po.path("protocol").asText("TCP"))
                && q.has("nodePort")) {
              po.set("nodePort", q.get("nodePort").deepCopy());
            }
          }
        }
      }
    }
  }

  /**
   * Allocated values may not change on update: Kubelite does not re-allocate, so a change of {@code
   * clusterIP}, of a node port or to a type that needs new values is refused.
   */
  static void checkUpdate(ObjectNode old, ObjectNode now, List<Cause> causes) {
    JsonNode was = old.path("spec");
    JsonNode spec = now.path("spec");
    if (!was.path("clusterIP").equals(spec.path("clusterIP"))) {
      causes.add(
          Validation.invalid("spec.clusterIP", spec.path("clusterIP"), "field is immutable"));
    }
    if (!was.path("type").asText("ClusterIP").equals(spec.path("type").asText("ClusterIP"))) {
      causes.add(
          Validation.invalid(
              "spec.type",
              spec.path("type"),
              "Kubelite cannot change a Service's type; delete and create it again"));
    }
    if (needsNodePorts(spec)) {
      JsonNode ports = spec.path("ports");
      for (int i = 0; i < ports.size(); i++) {
        int np = ports.get(i).path("nodePort").asInt(0);
        boolean held = false;
        for (JsonNode q : was.path("ports")) {
          held |= q.path("nodePort").asInt(-1) == np;
        }
        if (!held) {
          causes.add(
              Validation.invalid(
                  "spec.ports[" + i + "].nodePort",
                  ports.get(i).path("nodePort"),
                  "Kubelite cannot allocate node ports on update; keep the allocated ones"));
        }
      }
    }
  }

  private static Integer ipOffset(String ip, List<Cause> causes) {
    String[] parts = ip.split("\\.", -1);
    long value = 0;
    boolean valid = parts.length == 4;
    for (int i = 0; valid && i < 4; i++) {
      try {
        int b = Integer.parseInt(parts[i]);
        valid = b >= 0 && b <= 255 && parts[i].equals(Integer.toString(b));
        value = (value << 8) | b;
      } catch (NumberFormatException e) {
        valid = false;
      }
    }
    if (!valid) {
      causes.add(
          Validation.invalid(
              "spec.clusterIPs[0]",
              ip,
              "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
      return null;
    }
    long base = IP_BASE & 0xFFFFFFFFL;
    long offset = value - base;
    if (offset < 1 || offset >= (1L << (32 - IP_PREFIX)) - 1) {
      causes.add(
          ipListCause(
              ip,
              "failed to allocate IP "
                  + ip
                  + ": the provided IP ("
                  + ip
                  + ") is not in the valid range. The range of valid IPs is "
                  + IP_RANGE));
      return null;
    }
    return (int) offset;
  }

  /** A cause on {@code spec.clusterIPs}, whose value Kubernetes prints as a Go string slice. */
  private static Cause ipListCause(String ip, String why) {
    return new Cause(
        "FieldValueInvalid", "spec.clusterIPs", "Invalid value: []string{\"" + ip + "\"}: " + why);
  }

  static String ip(int offset) {
    long v = (IP_BASE & 0xFFFFFFFFL) + offset;
    return ((v >> 24) & 255) + "." + ((v >> 16) & 255) + "." + ((v >> 8) & 255) + "." + (v & 255);
  }
}
