package dev.kubelite.apiserver.patch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/** Strategic merge patch semantics, directive by directive. */
class StrategicMergePatchTest {
  private static final ObjectMapper M = new ObjectMapper();

  static ObjectNode json(String s) throws Exception {
    return (ObjectNode) M.readTree(s.replace('\'', '"'));
  }

  static JsonNode apply(String kind, String original, String patch) throws Exception {
    return StrategicMergePatch.apply(kind, json(original), json(patch));
  }

  @Test
  void conditionsMergeByTypeAndNullDeletesAKey() throws Exception {
    JsonNode r =
        apply(
            "Pod",
            "{'status':{'phase':'Pending','conditions':[{'type':'Ready','status':'False'},{'type':'PodScheduled','status':'True'}]}}",
            "{'status':{'phase':null,'conditions':[{'type':'Ready','status':'True'},{'type':'Initialized','status':'True'}]}}");
    assertThat(r.path("status").has("phase")).isFalse();
    assertThat(r.path("status").path("conditions"))
        .isEqualTo(
            json("{'c':[{'type':'Ready','status':'True'},{'type':'PodScheduled','status':'True'},"
                    + "{'type':'Initialized','status':'True'}]}")
                .path("c"));
  }

  @Test
  void servicePortsMergeByPortAndContainerPortsByContainerPort() throws Exception {
    JsonNode svc =
        apply(
            "Service",
            "{'spec':{'ports':[{'port':80,'targetPort':8080},{'port':443}]}}",
            "{'spec':{'ports':[{'port':80,'name':'http'}]}}");
    assertThat(svc.path("spec").path("ports")).hasSize(2);
    assertThat(svc.path("spec").path("ports").get(0).path("targetPort").asInt()).isEqualTo(8080);
    assertThat(svc.path("spec").path("ports").get(0).path("name").asText()).isEqualTo("http");
    JsonNode pod =
        apply(
            "Pod",
            "{'spec':{'containers':[{'name':'c','ports':[{'containerPort':80,'protocol':'TCP'}]}]}}",
            "{'spec':{'containers':[{'name':'c','ports':[{'containerPort':80,'name':'web'},{'containerPort':81}]}]}}");
    JsonNode ports = pod.path("spec").path("containers").get(0).path("ports");
    assertThat(ports).hasSize(2);
    assertThat(ports.get(0).path("protocol").asText()).isEqualTo("TCP");
    assertThat(ports.get(0).path("name").asText()).isEqualTo("web");
  }

  @Test
  void listsWithoutAMergeKeyAreReplaced() throws Exception {
    JsonNode r =
        apply(
            "Pod",
            "{'spec':{'containers':[{'name':'c','args':['a','b'],'command':['x']}],'tolerations':[{'key':'k'}]}}",
            "{'spec':{'containers':[{'name':'c','args':['z']}],'tolerations':[{'key':'j'}]}}");
    assertThat(r.path("spec").path("containers").get(0).path("args").toString())
        .isEqualTo("[\"z\"]");
    assertThat(r.path("spec").path("containers").get(0).path("command").toString())
        .isEqualTo("[\"x\"]");
    assertThat(r.path("spec").path("tolerations").toString()).isEqualTo("[{\"key\":\"j\"}]");
  }

  @Test
  void patchReplaceOnAListAndAMap() throws Exception {
    JsonNode list =
        apply(
            "Pod",
            "{'spec':{'volumes':[{'name':'a'},{'name':'b'}]}}",
            "{'spec':{'volumes':[{'name':'c'},{'$patch':'replace'}]}}");
    assertThat(list.path("spec").path("volumes").toString()).isEqualTo("[{\"name\":\"c\"}]");
    JsonNode map =
        apply(
            "Pod",
            "{'metadata':{'labels':{'a':'1','b':'2'}}}",
            "{'metadata':{'labels':{'$patch':'replace','c':'3'}}}");
    assertThat(map.path("metadata").path("labels").toString()).isEqualTo("{\"c\":\"3\"}");
    JsonNode deleted =
        apply(
            "Pod",
            "{'spec':{'affinity':{'x':1},'a':1}}",
            "{'spec':{'affinity':{'$patch':'delete'}}}");
    assertThat(deleted.path("spec").has("affinity")).isFalse();
    assertThat(deleted.path("spec").path("a").asInt()).isEqualTo(1);
  }

  @Test
  void finalizersMergeAsASetAndDeleteFromPrimitiveList() throws Exception {
    JsonNode r =
        apply(
            "ConfigMap",
            "{'metadata':{'finalizers':['a','b']}}",
            "{'metadata':{'finalizers':['b','c'],'$deleteFromPrimitiveList/finalizers':['a']}}");
    assertThat(r.path("metadata").path("finalizers").toString()).isEqualTo("[\"b\",\"c\"]");
  }

  @Test
  void retainKeysDropsTheOthers() throws Exception {
    JsonNode r =
        apply(
            "Deployment",
            "{'spec':{'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':1}}}}",
            "{'spec':{'strategy':{'$retainKeys':['type'],'type':'Recreate','rollingUpdate':null}}}");
    assertThat(r.path("spec").path("strategy").toString()).isEqualTo("{\"type\":\"Recreate\"}");
  }

  @Test
  void setElementOrderOrdersMergedElementsAndKeepsServerOnlyOnesAfter() throws Exception {
    JsonNode r =
        apply(
            "Pod",
            "{'spec':{'containers':[{'name':'a'},{'name':'b'},{'name':'server-only'}]}}",
            "{'spec':{'$setElementOrder/containers':[{'name':'b'},{'name':'a'}],'containers':[{'name':'a','image':'x'}]}}");
    JsonNode cs = r.path("spec").path("containers");
    assertThat(cs.get(0).path("name").asText()).isEqualTo("b");
    assertThat(cs.get(1).path("name").asText()).isEqualTo("a");
    assertThat(cs.get(1).path("image").asText()).isEqualTo("x");
    assertThat(cs.get(2).path("name").asText()).isEqualTo("server-only");
  }

  @Test
  void malformedDirectivesAreRefused() {
    assertThatThrownBy(() -> apply("Pod", "{}", "{'spec':{'$patch':'explode'}}"))
        .isInstanceOf(PatchException.class)
        .hasMessageContaining("unknown patch directive");
    assertThatThrownBy(
            () -> apply("Pod", "{'spec':{'containers':[]}}", "{'spec':{'containers':['x']}}"))
        .isInstanceOf(PatchException.class)
        .hasMessageContaining("merges by \"name\"");
  }
}
