package dev.kubelite.kubectl;

import dev.kubelite.client.ApiException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;

/** Prints failures the way kubectl does, so scripts and muscle memory carry over. Exit code 1. */
public final class Errors {
  private Errors() {}

  /** Writes {@code e} as kubectl would and returns the exit code. */
  public static int report(Exception e, PrintWriter err) {
    err.println(message(e));
    err.flush();
    return 1;
  }

  /** The one line kubectl prints for {@code e}. */
  public static String message(Throwable e) {
    if (e instanceof ApiException a) {
      return serverError(a);
    }
    if (e instanceof CliException) {
      return "error: " + e.getMessage();
    }
    if (e instanceof UncheckedIOException io) {
      Throwable cause = io.getCause();
      while (cause != null && !(cause instanceof ConnectException)) {
        cause = cause.getCause();
      }
      if (cause instanceof HttpConnectTimeoutException) {
        return "Unable to connect to the server: " + e.getMessage();
      }
      if (cause != null) {
        return "The connection to the server "
            + hostOf(io.getMessage())
            + " was refused - did you specify the right host or port?";
      }
      return "Unable to connect to the server: " + e.getMessage();
    }
    if (e instanceof IllegalArgumentException) {
      return "error: " + e.getMessage();
    }
    return "error: " + e;
  }

  /** {@code Error from server (NotFound): pods "x" not found}. */
  public static String serverError(ApiException a) {
    String message = a.status().path("message").asText("");
    if (a.code() == 401) {
      // kubectl's wording for a refused login (no or bad credentials).
      return "error: You must be logged in to the server ("
          + (message.isEmpty() ? "Unauthorized" : message)
          + ")";
    }
    if (a.reason().isEmpty()) {
      return "Error from server: " + message;
    }
    return "Error from server (" + a.reason() + "): " + message;
  }

  // The client's transport messages read "<METHOD> http://host:port/path failed: ...".
  private static String hostOf(String message) {
    if (message != null) {
      for (String word : message.split(" ")) {
        if (word.startsWith("http://") || word.startsWith("https://")) {
          URI u = URI.create(word);
          return u.getHost() + ":" + u.getPort();
        }
      }
    }
    return "the API server";
  }
}
