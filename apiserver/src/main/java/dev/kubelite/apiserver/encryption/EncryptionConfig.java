package dev.kubelite.apiserver.encryption;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * kube-apiserver's {@code --encryption-provider-config} file ({@code apiVersion:
 * apiserver.config.k8s.io/v1}, {@code kind: EncryptionConfiguration}), YAML or JSON: per list of
 * resources ({@code secrets}, {@code deployments.apps}, {@code *.} for every core resource, {@code
 * *.apps}, {@code *.*}) the providers that store them ({@code aesgcm}, {@code aescbc}, {@code
 * secretbox} with their keys, {@code identity}). Validated as Kubernetes validates it; {@code kms}
 * is refused (Kubelite has no KMS plugin support). See docs/encryption-at-rest.md.
 */
public final class EncryptionConfig {
  public static final String API_VERSION = "apiserver.config.k8s.io/v1";
  public static final String KIND = "EncryptionConfiguration";

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** group/resource → transformer ({@code *} for wildcards); the first entry naming one wins. */
  private final Map<String, ValueTransformer> byResource;

  private EncryptionConfig(Map<String, ValueTransformer> byResource) {
    this.byResource = byResource;
  }

  /** A configuration file that cannot be used: the message says what is wrong where. */
  public static final class InvalidConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    InvalidConfigException(String message) {
      super(message);
    }

    InvalidConfigException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  public static EncryptionConfig load(Path file) throws InvalidConfigException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new InvalidConfigException("cannot read " + file + ": " + e, e);
    }
    try {
      return parse(bytes, new SecureRandom());
    } catch (InvalidConfigException e) {
      throw new InvalidConfigException(file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes, if {@code file} does not exist yet, a configuration that encrypts Secrets with AES-GCM
   * under a fresh random 32-byte key named {@code key1} (plaintext values from before still read
   * through {@code identity}); owner-only permissions (0600) where the file system has them. An
   * existing file is left as it is (its keys are the cluster's). Returns the configuration in the
   * file. For launchers that make a cluster secure by default.
   */
  public static EncryptionConfig writeDefaultIfMissing(Path file) throws InvalidConfigException {
    if (!Files.exists(file)) {
      byte[] key = new byte[32];
      new SecureRandom().nextBytes(key);
      String yaml =
          "# Written by Kubelite: Secrets are encrypted at rest with this key. Keep this file\n"
              + "# private and backed up apart from the store: without it the Secrets in the store\n"
              + "# cannot be read. Rotation: docs/encryption-at-rest.md.\n"
              + "apiVersion: "
              + API_VERSION
              + "\nkind: "
              + KIND
              + "\nresources:\n"
              + "  - resources:\n"
              + "      - secrets\n"
              + "    providers:\n"
              + "      - aesgcm:\n"
              + "          keys:\n"
              + "            - name: key1\n"
              + "              secret: "
              + Base64.getEncoder().encodeToString(key)
              + "\n"
              + "      - identity: {}\n";
      try {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".encryption", ".tmp");
        try {
          if (Files.getFileStore(tmp).supportsFileAttributeView("posix")) {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
          }
          Files.writeString(tmp, yaml);
          // A hard link appears atomically and never replaces a file another process wrote
          // meanwhile (whose key may already be in use).
          try {
            Files.createLink(file, tmp);
          } catch (UnsupportedOperationException e) {
            Files.move(tmp, file);
          }
        } finally {
          Files.deleteIfExists(tmp);
        }
      } catch (FileAlreadyExistsException e) {
        // Written meanwhile by another process: use that one.
      } catch (IOException e) {
        throw new InvalidConfigException("cannot write " + file + ": " + e, e);
      }
    }
    return load(file);
  }

  public static EncryptionConfig parse(byte[] yamlOrJson, SecureRandom random)
      throws InvalidConfigException {
    JsonNode root;
    try {
      root = YAML.readTree(yamlOrJson);
    } catch (IOException e) {
      throw new InvalidConfigException("not valid YAML or JSON: " + firstLine(e.getMessage()), e);
    }
    if (root == null || !root.isObject()) {
      throw new InvalidConfigException("expected an EncryptionConfiguration object");
    }
    onlyFields(root, "", "apiVersion", "kind", "resources");
    if (!API_VERSION.equals(root.path("apiVersion").asText())
        || !KIND.equals(root.path("kind").asText())) {
      throw new InvalidConfigException(
          "expected apiVersion: "
              + API_VERSION
              + " and kind: "
              + KIND
              + ", got apiVersion: "
              + root.path("apiVersion").asText("<none>")
              + ", kind: "
              + root.path("kind").asText("<none>"));
    }
    JsonNode resources = root.path("resources");
    if (!resources.isArray() || resources.isEmpty()) {
      throw new InvalidConfigException(
          "resources: Required value: at least one resources is required");
    }
    Map<String, ValueTransformer> byResource = new LinkedHashMap<>();
    for (int i = 0; i < resources.size(); i++) {
      String at = "resources[" + i + "]";
      JsonNode entry = resources.get(i);
      if (!entry.isObject()) {
        throw new InvalidConfigException(at + ": expected an object with resources and providers");
      }
      onlyFields(entry, at + ".", "resources", "providers");
      List<String> names = resourceNames(entry.path("resources"), at + ".resources");
      List<Provider> providers = providers(entry.path("providers"), at + ".providers", random);
      ValueTransformer t =
          new ValueTransformer(
              providers, "the --encryption-provider-config entry for " + String.join(", ", names));
      for (String n : names) {
        byResource.putIfAbsent(groupResource(n), t);
      }
    }
    return new EncryptionConfig(byResource);
  }

  /**
   * The transformer for a served resource ({@code ""}, {@code secrets}): its own entry, else its
   * group's {@code *.group}, else {@code *.*}, else plaintext (as kube-apiserver).
   */
  public ValueTransformer transformerFor(String group, String resource) {
    ValueTransformer t = byResource.get(group + "/" + resource);
    if (t == null) {
      t = byResource.get(group + "/*");
    }
    if (t == null) {
      t = byResource.get("*/*");
    }
    return t == null ? ValueTransformer.PLAINTEXT : t;
  }

  /** {@code secrets} → {@code /secrets}, {@code deployments.apps} → {@code apps/deployments}. */
  private static String groupResource(String name) {
    int dot = name.indexOf('.');
    return dot < 0 ? "/" + name : name.substring(dot + 1) + "/" + name.substring(0, dot);
  }

  private static List<String> resourceNames(JsonNode list, String at)
      throws InvalidConfigException {
    if (!list.isArray() || list.isEmpty()) {
      throw new InvalidConfigException(at + ": Required value: at least one resource is required");
    }
    List<String> names = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (int j = 0; j < list.size(); j++) {
      JsonNode n = list.get(j);
      String where = at + "[" + j + "]";
      if (!n.isTextual() || n.asText().isEmpty()) {
        throw new InvalidConfigException(where + ": expected a resource name such as secrets");
      }
      String name = n.asText();
      if (!name.equals(name.toLowerCase(java.util.Locale.ROOT))) {
        throw new InvalidConfigException(
            where + ": " + name + ": resource name should not contain capital letters");
      }
      if (name.equals("*")) {
        throw new InvalidConfigException(
            where
                + ": use '*.' to encrypt all the resources from core API group or *.* to encrypt"
                + " all resources");
      }
      String gr = groupResource(name);
      String group = gr.substring(0, gr.indexOf('/'));
      String resource = gr.substring(gr.indexOf('/') + 1);
      if (group.equals("*") && !resource.equals("*")) {
        throw new InvalidConfigException(
            where + ": " + name + ": encrypting the same resource across groups is not supported");
      }
      if (group.equals("extensions")) {
        throw new InvalidConfigException(
            where + ": 'extensions' group has been removed and cannot be used for encryption");
      }
      if (!seen.add(gr)) {
        throw new InvalidConfigException(
            at + ": " + name + ": the same resource cannot be specified multiple times");
      }
      names.add(name);
    }
    for (String a : seen) {
      for (String b : seen) {
        if (a.equals(b)) {
          continue;
        }
        String ga = a.substring(0, a.indexOf('/'));
        String gb = b.substring(0, b.indexOf('/'));
        if (a.equals("*/*") || (ga.equals(gb) && (a.endsWith("/*") || b.endsWith("/*")))) {
          throw new InvalidConfigException(
              at
                  + ": using overlapping resources such as 'secrets' and '*.' in the same resource"
                  + " list is not allowed as they will be masked");
        }
      }
    }
    return names;
  }

  private static List<Provider> providers(JsonNode list, String at, SecureRandom random)
      throws InvalidConfigException {
    if (!list.isArray() || list.isEmpty()) {
      throw new InvalidConfigException(at + ": Required value: at least one provider is required");
    }
    List<Provider> out = new ArrayList<>();
    for (int j = 0; j < list.size(); j++) {
      String where = at + "[" + j + "]";
      JsonNode p = list.get(j);
      if (!p.isObject() || p.size() != 1) {
        throw new InvalidConfigException(
            where
                + ": each provider is one of aesgcm, aescbc, secretbox, identity (kms is not"
                + " supported); more than one provider in a single element must be split into"
                + " separate list elements");
      }
      String type = p.fieldNames().next();
      JsonNode body = p.get(type);
      switch (type) {
        case "identity" -> {
          if (!body.isNull() && !(body.isObject() && body.isEmpty())) {
            throw new InvalidConfigException(where + ".identity: expected {}");
          }
          out.add(IdentityProvider.INSTANCE);
        }
        case "aesgcm", "aescbc", "secretbox" -> {
          if (!body.isObject()) {
            throw new InvalidConfigException(where + "." + type + ": expected an object with keys");
          }
          onlyFields(body, where + "." + type + ".", "keys");
          JsonNode keys = body.path("keys");
          if (!keys.isArray() || keys.isEmpty()) {
            throw new InvalidConfigException(
                where + "." + type + ".keys: Required value: at least one keys is required");
          }
          for (int k = 0; k < keys.size(); k++) {
            String kat = where + "." + type + ".keys[" + k + "]";
            JsonNode key = keys.get(k);
            if (!key.isObject()) {
              throw new InvalidConfigException(kat + ": expected {name, secret}");
            }
            onlyFields(key, kat + ".", "name", "secret");
            String name = key.path("name").asText("");
            if (name.isEmpty()) {
              throw new InvalidConfigException(
                  kat + ".name: Required value: name is a mandatory field for a key");
            }
            if (name.contains(":")) {
              throw new InvalidConfigException(
                  kat + ".name: " + name + ": must not contain ':' (it ends the stored prefix)");
            }
            String secret = key.path("secret").asText("");
            if (secret.isEmpty()) {
              throw new InvalidConfigException(
                  kat + ".secret: Required value: secret is a mandatory field for a key");
            }
            byte[] bytes;
            try {
              bytes = Base64.getDecoder().decode(secret);
            } catch (IllegalArgumentException e) {
              throw new InvalidConfigException(
                  kat + ".secret: Invalid value: \"REDACTED\": secrets must be base64 encoded");
            }
            List<Integer> sizes = type.equals("secretbox") ? List.of(32) : List.of(16, 24, 32);
            if (!sizes.contains(bytes.length)) {
              throw new InvalidConfigException(
                  kat
                      + ".secret: Invalid value: \"REDACTED\": secret is not of the expected length,"
                      + " got "
                      + bytes.length
                      + ", expected one of "
                      + sizes);
            }
            out.add(
                switch (type) {
                  case "aesgcm" -> new AesGcmProvider(name, bytes, random);
                  case "aescbc" -> new AesCbcProvider(name, bytes, random);
                  default -> new SecretboxProvider(name, bytes, random);
                });
          }
        }
        case "kms" ->
            throw new InvalidConfigException(
                where
                    + ".kms: KMS providers are not supported by Kubelite; use aesgcm, aescbc or"
                    + " secretbox with local keys");
        default ->
            throw new InvalidConfigException(
                where
                    + ": unknown provider \""
                    + type
                    + "\": expected one of aesgcm, aescbc, secretbox, identity");
      }
    }
    return out;
  }

  private static void onlyFields(JsonNode obj, String at, String... allowed)
      throws InvalidConfigException {
    Set<String> ok = Set.of(allowed);
    for (Iterator<String> it = obj.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!ok.contains(f)) {
        throw new InvalidConfigException(
            at + f + ": unknown field (expected one of " + String.join(", ", allowed) + ")");
      }
    }
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
