package dev.kubelite.apiserver.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException.Cause;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

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

  // The patterns above, matched by hand (ValidationMatchersTest checks them against the regexes):
  // every create and update checks its name and each label and annotation key with them, and
  // java.util.regex cost several per cent of a pod create's CPU.

  private static boolean lowerAlnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  }

  private static boolean alnum(char c) {
    return lowerAlnum(c) || (c >= 'A' && c <= 'Z');
  }

  /** {@link #DNS1123_LABEL} over {@code s[from, to)}. */
  private static boolean dns1123Label(String s, int from, int to) {
    if (to <= from || !lowerAlnum(s.charAt(from)) || !lowerAlnum(s.charAt(to - 1))) {
      return false;
    }
    for (int i = from + 1; i < to - 1; i++) {
      char c = s.charAt(i);
      if (c != '-' && !lowerAlnum(c)) {
        return false;
      }
    }
    return true;
  }

  static boolean isDns1123Label(String s) {
    return dns1123Label(s, 0, s.length());
  }

  /** {@link #DNS1123_SUBDOMAIN}: DNS-1123 labels joined by dots. */
  static boolean isDns1123Subdomain(String s) {
    int from = 0;
    while (true) {
      int dot = s.indexOf('.', from);
      int to = dot < 0 ? s.length() : dot;
      if (!dns1123Label(s, from, to)) {
        return false;
      }
      if (dot < 0) {
        return true;
      }
      from = dot + 1;
    }
  }

  /** {@link #DNS1035_LABEL}. */
  static boolean isDns1035Label(String s) {
    return !s.isEmpty() && s.charAt(0) >= 'a' && s.charAt(0) <= 'z' && isDns1123Label(s);
  }

  /** {@link #QUALIFIED_NAME}. */
  static boolean isQualifiedName(String s) {
    int n = s.length();
    if (n == 0 || !alnum(s.charAt(0)) || !alnum(s.charAt(n - 1))) {
      return false;
    }
    for (int i = 1; i < n - 1; i++) {
      char c = s.charAt(i);
      if (!alnum(c) && c != '-' && c != '_' && c != '.') {
        return false;
      }
    }
    return true;
  }

  /** {@link #LABEL_VALUE}: empty, or a qualified name. */
  static boolean isLabelValue(String s) {
    return s.isEmpty() || isQualifiedName(s);
  }

  /** {@link #CONFIG_KEY}. */
  static boolean isConfigKey(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!alnum(c) && c != '-' && c != '_' && c != '.') {
        return false;
      }
    }
    return true;
  }

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
        if (!isDns1123Subdomain(name)) {
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
        if (!isDns1123Label(name)) {
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
        if (!isDns1035Label(name)) {
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
      } else if (prefix.length() > 253 || !isDns1123Subdomain(prefix)) {
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
      if (!isQualifiedName(name)) {
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
    if (!isLabelValue(v)) {
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
      if (k.length() > 253 || !isConfigKey(k)) {
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
