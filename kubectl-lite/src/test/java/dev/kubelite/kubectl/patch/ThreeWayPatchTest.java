package dev.kubelite.kubectl.patch;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.kubectl.patch.ThreeWayPatch.Mode;
import org.junit.jupiter.api.Test;

/**
 * The patch {@code apply} computes, case by case (the CLI tests check that the server, applying it,
 * ends up with the right object).
 */
class ThreeWayPatchTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static ObjectNode o(String json) throws Exception {
    return (ObjectNode) JSON.readTree(json.replace('\'', '"'));
  }

  static JsonNode patch(String kind, Mode mode, String orig, String mod, String cur)
      throws Exception {
    return ThreeWayPatch.compute(kind, mode, orig == null ? null : o(orig), o(mod), o(cur));
  }

  @Test
  void setsChangesKeepsOthersFieldsDeletesWhatWasDropped() throws Exception {
    JsonNode p =
        patch(
            "ConfigMap",
            Mode.STRATEGIC,
            "{'data':{'a':'1','b':'2'}}",
            "{'data':{'a':'9','c':'3'}}",
            "{'data':{'a':'1','b':'2','x':'others'},'metadata':{'uid':'u'}}");
    assertThat(p).isEqualTo(o("{'data':{'a':'9','c':'3','b':null}}"));
  }

  @Test
  void nothingToDoIsAnEmptyPatchAndNumbersCompareByValue() throws Exception {
    JsonNode p =
        patch(
            "Deployment",
            Mode.STRATEGIC,
            "{'spec':{'replicas':3}}",
            "{'spec':{'replicas':3}}",
            "{'spec':{'replicas':3.0},'status':{'replicas':3}}");
    assertThat(p).isEmpty();
  }

  @Test
  void withoutAnOriginalNothingIsDeleted() throws Exception {
    JsonNode p =
        patch("ConfigMap", Mode.STRATEGIC, null, "{'data':{'a':'1'}}", "{'data':{'b':'2'}}");
    assertThat(p).isEqualTo(o("{'data':{'a':'1'}}"));
  }

  @Test
  void containersMergeByNameWithDeleteDirectivesAndOrder() throws Exception {
    JsonNode p =
        patch(
            "Pod",
            Mode.STRATEGIC,
            "{'spec':{'containers':[{'name':'a','image':'1'},{'name':'b','image':'1'}]}}",
            "{'spec':{'containers':[{'name':'c','image':'1'},{'name':'a','image':'2'}]}}",
            "{'spec':{'containers':[{'name':'a','image':'1','imagePullPolicy':'Always'},"
                + "{'name':'b','image':'1'},{'name':'injected','image':'x'}]}}");
    assertThat(p)
        .isEqualTo(
            o(
                "{'spec':{'containers':[{'name':'c','image':'1'},{'name':'a','image':'2'},"
                    + "{'name':'b','$patch':'delete'}],"
                    + "'$setElementOrder/containers':[{'name':'c'},{'name':'a'}]}}"));
  }

  @Test
  void containerPortsMergeByNumberWhateverItsJsonType() throws Exception {
    JsonNode p =
        patch(
            "Pod",
            Mode.STRATEGIC,
            null,
            "{'spec':{'containers':[{'name':'a','ports':[{'containerPort':80}]}]}}",
            "{'spec':{'containers':[{'name':'a','ports':[{'containerPort':'80','protocol':'TCP'}]}]}}");
    assertThat(p).isEmpty();
  }

  @Test
  void finalizersMergeAsASet() throws Exception {
    JsonNode p =
        patch(
            "ConfigMap",
            Mode.STRATEGIC,
            "{'metadata':{'finalizers':['a','b']}}",
            "{'metadata':{'finalizers':['a','c']}}",
            "{'metadata':{'finalizers':['a','b','other']}}");
    assertThat(p)
        .isEqualTo(
            o("{'metadata':{'finalizers':['c'],'$deleteFromPrimitiveList/finalizers':['b']}}"));
  }

  @Test
  void otherListsAreReplacedAndRetainKeysMapsListTheirKeys() throws Exception {
    JsonNode p =
        patch(
            "Deployment",
            Mode.STRATEGIC,
            null,
            "{'spec':{'strategy':{'type':'Recreate'},'template':{'spec':{'containers':"
                + "[{'name':'a','args':['x']}]}}}}",
            "{'spec':{'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':'25%'}},"
                + "'template':{'spec':{'containers':[{'name':'a','args':['x','y']}]}}}}");
    assertThat(p)
        .isEqualTo(
            o(
                "{'spec':{'strategy':{'type':'Recreate','$retainKeys':['type']},"
                    + "'template':{'spec':{'containers':[{'name':'a','args':['x']}],"
                    + "'$setElementOrder/containers':[{'name':'a'}]}}}}"));
  }

  @Test
  void elementsWithoutTheirMergeKeyReplaceTheList() throws Exception {
    JsonNode p =
        patch(
            "Pod",
            Mode.STRATEGIC,
            null,
            "{'spec':{'containers':[{'image':'no-name'}]}}",
            "{'spec':{'containers':[{'name':'a','image':'1'}]}}");
    assertThat(p).isEqualTo(o("{'spec':{'containers':[{'image':'no-name'}]}}"));
  }

  @Test
  void jsonMergeModeReplacesListsAndHasNoDirectives() throws Exception {
    JsonNode p =
        patch(
            "Widget",
            Mode.JSON_MERGE,
            "{'spec':{'items':[{'name':'a'}],'gone':1}}",
            "{'spec':{'items':[{'name':'a'},{'name':'b'}]}}",
            "{'spec':{'items':[{'name':'a'}],'gone':1}}");
    assertThat(p).isEqualTo(o("{'spec':{'items':[{'name':'a'},{'name':'b'}],'gone':null}}"));
  }

  @Test
  void aNullInTheManifestDeletesTheField() throws Exception {
    JsonNode p =
        patch(
            "ConfigMap",
            Mode.STRATEGIC,
            null,
            "{'data':{'a':null,'b':null}}",
            "{'data':{'a':'1'}}");
    assertThat(p).isEqualTo(o("{'data':{'a':null}}"));
  }
}
