package dev.kubelite.apiserver.auth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * kube-apiserver's static token file ({@code --token-auth-file}): CSV lines {@code
 * token,user,uid,"group1,group2"} (the groups column is optional). Read once at start, as
 * Kubernetes does.
 */
public final class TokenFile {
  private static final Logger log = LoggerFactory.getLogger(TokenFile.class);

  private final Map<String, UserInfo> byToken;

  private TokenFile(Map<String, UserInfo> byToken) {
    this.byToken = Map.copyOf(byToken);
  }

  /** Thrown when the file cannot be used; the message names the file and line. */
  public static final class InvalidTokenFileException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    InvalidTokenFileException(String message) {
      super(message);
    }
  }

  public static TokenFile load(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the token file " + file, e);
    }
    if (text.startsWith("\uFEFF")) {
      text = text.substring(1);
    }
    Map<String, UserInfo> tokens = new HashMap<>();
    String[] lines = text.split("\r?\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (line.isBlank()) {
        continue;
      }
      List<String> record = parseCsvLine(line, file, i + 1);
      if (record.size() < 3) {
        throw new InvalidTokenFileException(
            "token file "
                + file
                + " line "
                + (i + 1)
                + ": needs at least 3 columns (token, user name, user uid), found "
                + record.size());
      }
      String token = record.get(0);
      if (token.isEmpty()) {
        log.warn("token file {} line {}: empty token, skipped", file, i + 1);
        continue;
      }
      List<String> groups = new ArrayList<>();
      if (record.size() >= 4 && !record.get(3).isEmpty()) {
        Arrays.stream(record.get(3).split(","))
            .map(String::trim)
            .filter(g -> !g.isEmpty())
            .forEach(groups::add);
      }
      if (tokens.containsKey(token)) {
        log.warn("token file {} line {}: duplicate token, the later line wins", file, i + 1);
      }
      tokens.put(token, new UserInfo(record.get(1), record.get(2), groups));
    }
    return new TokenFile(tokens);
  }

  /** The user this token belongs to, if the file lists it. */
  public Optional<UserInfo> user(String token) {
    return Optional.ofNullable(byToken.get(token));
  }

  public int size() {
    return byToken.size();
  }

  /** One CSV record (RFC 4180 quoting; leading spaces of a field trimmed, as Go's csv reader). */
  static List<String> parseCsvLine(String line, Path file, int lineNo) {
    List<String> out = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    int i = 0;
    int n = line.length();
    while (true) {
      while (i < n && line.charAt(i) == ' ') {
        i++;
      }
      if (i < n && line.charAt(i) == '"') {
        i++;
        boolean closed = false;
        while (i < n) {
          char c = line.charAt(i);
          if (c == '"') {
            if (i + 1 < n && line.charAt(i + 1) == '"') {
              field.append('"');
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          field.append(c);
          i++;
        }
        if (!closed || (i < n && line.charAt(i) != ',')) {
          throw new InvalidTokenFileException(
              "token file " + file + " line " + lineNo + ": malformed quoted field");
        }
      } else {
        while (i < n && line.charAt(i) != ',') {
          field.append(line.charAt(i));
          i++;
        }
      }
      out.add(field.toString());
      field.setLength(0);
      if (i >= n) {
        return out;
      }
      i++; // the comma
    }
  }
}
