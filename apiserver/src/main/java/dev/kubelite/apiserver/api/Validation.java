package dev.kubelite.apiserver.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException.Cause;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Kubernetes' name and metadata rules, with its exact messages (kubectl prints {@code field:
 * message} from {@code details.causes}).
 */
public final class Validation {
  private Validation() {}

  static final String DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
  static final String DNS1123_SUBDOMAIN = DNS1123_LABEL + "(\\." + DNS1123_LABEL + ")*";
  static final String DNS1035_LABEL = "[a-z]([-a-z0-9]*[a-z0-9])?";
  static final String QUALIFIED_NAME = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
  static final String LABEL_VALUE = "(" + QUALIFIED_NAME + ")?";
  static final String CONFIG_KEY = "[-._a-zA-Z0-9]+";

  private static final Pattern LABEL_P = Pattern.compile(DNS1123_LABEL);
  private static final Pattern SUBDOMAIN_P = Pattern.compile(DNS1123_SUBDOMAIN);
  private static final Pattern DNS1035_P = Pattern.compile(DNS1035_LABEL);
  private static final Pattern QUALIFIED_P = Pattern.compile(QUALIFIED_NAME);
  private static final Pattern LABEL_VALUE_P = Pattern.compile(LABEL_VALUE);
  private static final Pattern CONFIG_KEY_P = Pattern.compile(CONFIG_KEY);

  /** Which rule an object's name follows. */
  public enum NameRule {
    SUBDOMAIN,
    LABEL,
    DNS1035,
    /** Any name usable as one URL path segment (RBAC objects: {@code system:node}). */
    PATH_SEGMENT
  }

  public static Cause required(String field) {
    return new Cause("FieldValueRequired", field, "Required value");
  }

  public static Cause invalid(String field, String value, String why) {
    return new Cause("FieldValueInvalid", field, "Invalid value: \"" + value + "\": " + why);
  }

  public static Cause invalid(String field, JsonNode value, String why) {
    return new Cause("FieldValueInvalid", field, "Invalid value: " + value + ": " + why);
  }

  public static Cause forbidden(String field, String why) {
    return new Cause("FieldValueForbidden", field, "Forbidden: " + why);
  }

  /** Problems with {@code name} under {@code rule}; empty if valid. */
  public static List<String> checkName(String name, NameRule rule) {
    List<String> errs = new ArrayList<>();
    switch (rule) {
      case SUBDOMAIN -> {
        if (name.length() > 253) {
          errs.add("must be no more than 253 characters");
        }
        if (!SUBDOMAIN_P.matcher(name).matches()) {
          errs.add(
              "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters,"
                  + " '-' or '.', and must start and end with an alphanumeric character (e.g."
                  + " 'example.com', regex used for validation is '"
                  + DNS1123_SUBDOMAIN
                  + "')");
        }
      }
      case LABEL -> {
        if (name.length() > 63) {
          errs.add("must be no more than 63 characters");
        }
        if (!LABEL_P.matcher(name).matches()) {
          errs.add(
              "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or"
                  + " '-', and must start and end with an alphanumeric character (e.g. 'my-name', "
                  + " or '123-abc', regex used for validation is '"
                  + DNS1123_LABEL
                  + "')");
        }
      }
      case PATH_SEGMENT -> {
        if (name.equals(".") || name.equals("..")) {
          errs.add("may not be '" + name + "'");
        }
        for (String bad : List.of("/", "%")) {
          if (name.contains(bad)) {
            errs.add("may not contain '" + bad + "'");
          }
        }
      }
      case DNS1035 -> {
        if (name.length() > 63) {
          errs.add("must be no more than 63 characters");
        }
        if (!DNS1035_P.matcher(name).matches()) {
          errs.add(
              "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start"
                  + " with an alphabetic character, and end with an alphanumeric character (e.g."
                  + " 'my-name',  or 'abc-123', regex used for validation is '"
                  + DNS1035_LABEL
                  + "')");
        }
      }
    }
    return errs;
  }

  /** Label key rule: optional DNS subdomain prefix and '/', then a qualified name. */
  public static List<String> checkQualifiedName(String key) {
    List<String> errs = new ArrayList<>();
    String name = key;
    int slash = key.indexOf('/');
    if (slash >= 0) {
      String prefix = key.substring(0, slash);
      name = key.substring(slash + 1);
      if (prefix.isEmpty()) {
        errs.add("prefix part must be non-empty");
      } else if (prefix.length() > 253 || !SUBDOMAIN_P.matcher(prefix).matches()) {
        errs.add("prefix part " + checkName(prefix, NameRule.SUBDOMAIN).get(0));
      }
      if (name.contains("/")) {
        errs.add(
            "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must"
                + " start and end with an alphanumeric character");
        return errs;
      }
    }
    if (name.isEmpty()) {
      errs.add("name part must be non-empty");
    } else {
      if (name.length() > 63) {
        errs.add("name part must be no more than 63 characters");
      }
      if (!QUALIFIED_P.matcher(name).matches()) {
        errs.add(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start"
                + " and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or"
                + " '123-abc', regex used for validation is '"
                + QUALIFIED_NAME
                + "')");
      }
    }
    return errs;
  }

  public static List<String> checkLabelValue(String v) {
    List<String> errs = new ArrayList<>();
    if (v.length() > 63) {
      errs.add("must be no more than 63 characters");
    }
    if (!LABEL_VALUE_P.matcher(v).matches()) {
      errs.add(
          "a valid label must be an empty string or consist of alphanumeric characters, '-', '_'"
              + " or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', "
              + " or 'my_value',  or '12345', regex used for validation is '"
              + LABEL_VALUE
              + "')");
    }
    return errs;
  }

  /** metadata checks shared by every kind: name, labels, annotations keys. */
  public static void checkMeta(ObjectNode obj, NameRule rule, List<Cause> causes) {
    JsonNode meta = obj.get("metadata");
    String name = Json.text(obj, "metadata", "name");
    if (name == null || name.isEmpty()) {
      causes.add(
          new Cause(
              "FieldValueRequired",
              "metadata.name",
              "Required value: name or generateName is required"));
    } else {
      for (String e : checkName(name, rule)) {
        causes.add(invalid("metadata.name", name, e));
      }
    }
    if (meta == null) {
      return;
    }
    JsonNode labels = meta.get("labels");
    if (labels != null && !labels.isNull()) {
      if (!labels.isObject()) {
        causes.add(invalid("metadata.labels", labels, "must be a map of strings"));
      } else {
        for (Iterator<Map.Entry<String, JsonNode>> it = labels.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          for (String err : checkQualifiedName(e.getKey())) {
            causes.add(invalid("metadata.labels", e.getKey(), err));
          }
          if (!e.getValue().isTextual()) {
            causes.add(invalid("metadata.labels", e.getValue(), "must be a string"));
          } else {
            for (String err : checkLabelValue(e.getValue().asText())) {
              causes.add(invalid("metadata.labels", e.getValue().asText(), err));
            }
          }
        }
      }
    }
    JsonNode ann = meta.get("annotations");
    if (ann != null && !ann.isNull()) {
      if (!ann.isObject()) {
        causes.add(invalid("metadata.annotations", ann, "must be a map of strings"));
      } else {
        for (Iterator<Map.Entry<String, JsonNode>> it = ann.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          for (String err : checkQualifiedName(e.getKey().toLowerCase(java.util.Locale.ROOT))) {
            causes.add(invalid("metadata.annotations", e.getKey(), err));
          }
          if (!e.getValue().isTextual()) {
            causes.add(invalid("metadata.annotations", e.getValue(), "must be a string"));
          }
        }
      }
    }
  }

  /** Keys of a ConfigMap's or Secret's data. */
  public static void checkConfigKeys(ObjectNode obj, String field, List<Cause> causes) {
    JsonNode data = obj.get(field);
    if (data == null || data.isNull()) {
      return;
    }
    if (!data.isObject()) {
      causes.add(invalid(field, data, "must be a map"));
      return;
    }
    for (Iterator<String> it = data.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (k.length() > 253 || !CONFIG_KEY_P.matcher(k).matches()) {
        causes.add(
            invalid(
                field,
                k,
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
                    + " (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for"
                    + " validation is '"
                    + CONFIG_KEY
                    + "')"));
      }
    }
  }
}
