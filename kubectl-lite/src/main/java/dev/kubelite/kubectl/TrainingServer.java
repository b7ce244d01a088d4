package dev.kubelite.kubectl;

import dev.kubelite.pki.PkiPaths;
import dev.kubelite.pki.TlsFiles;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * A stand-in API server for {@link StartupTraining}: HTTPS with client certificates required, as
 * {@code kubelite up} serves, on a free loopback port, answering the few requests a {@code get
 * pods} makes (discovery, a list as a Table) with canned JSON and anything else with a 404 Status.
 * One daemon thread per connection; keep-alive as the JDK client expects.
 */
final class TrainingServer implements AutoCloseable {
  private static final String API = "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"]}";
  private static final String APIS =
      "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[]}";
  private static final String CORE_V1 =
      "{\"kind\":\"APIResourceList\",\"groupVersion\":\"v1\",\"resources\":[{\"name\":\"pods\","
          + "\"singularName\":\"pod\",\"namespaced\":true,\"kind\":\"Pod\",\"verbs\":[\"create\","
          + "\"delete\",\"get\",\"list\",\"patch\",\"update\",\"watch\"],\"shortNames\":[\"po\"]}]}";
  private static final String TABLE =
      "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":{\"resourceVersion\":"
          + "\"7\"},\"columnDefinitions\":[{\"name\":\"Name\",\"type\":\"string\",\"format\":"
          + "\"name\",\"priority\":0},{\"name\":\"Ready\",\"type\":\"string\",\"priority\":0},"
          + "{\"name\":\"Status\",\"type\":\"string\",\"priority\":0},{\"name\":\"Restarts\","
          + "\"type\":\"string\",\"priority\":0},{\"name\":\"Age\",\"type\":\"string\","
          + "\"priority\":0},{\"name\":\"Node\",\"type\":\"string\",\"priority\":1}],\"rows\":"
          + "[{\"cells\":[\"web-1\",\"1/1\",\"Running\",\"0\",\"5m\",\"node-1\"],\"object\":"
          + "{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":"
          + "{\"name\":\"web-1\",\"namespace\":\"default\",\"uid\":\"1\",\"resourceVersion\":\"7\","
          + "\"creationTimestamp\":\"2026-01-01T00:00:00Z\"}}}]}";
  private static final String NOT_FOUND =
      "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"the"
          + " server could not find the requested resource\",\"reason\":\"NotFound\","
          + "\"code\":404}";

  private final SSLServerSocket socket;
  private final Thread acceptor;

  TrainingServer(PkiPaths pki) {
    try {
      socket =
          (SSLServerSocket)
              TlsFiles.sslContext(pki.ca().cert(), pki.apiserver())
                  .getServerSocketFactory()
                  .createServerSocket(0, 8, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on a loopback port for the training run", e);
    }
    socket.setNeedClientAuth(true);
    acceptor = new Thread(this::accept, "training-server");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return socket.getLocalPort();
  }

  private void accept() {
    while (!socket.isClosed()) {
      try {
        SSLSocket s = (SSLSocket) socket.accept();
        Thread t = new Thread(() -> serve(s), "training-connection");
        t.setDaemon(true);
        t.start();
      } catch (SocketException closed) {
        return; // close() was called
      } catch (IOException e) {
        throw new UncheckedIOException("the training server cannot accept", e);
      }
    }
  }

  private static void serve(SSLSocket s) {
    try (s;
        InputStream in = new BufferedInputStream(s.getInputStream());
        OutputStream out = s.getOutputStream()) {
      while (true) {
        String head = readHead(in);
        if (head == null) {
          return; // the client closed the connection
        }
        int length = 0;
        for (String line : head.split("\r\n")) {
          if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
            length = Integer.parseInt(line.substring(15).trim());
          }
        }
        in.readNBytes(length);
        String[] requestLine = head.substring(0, head.indexOf("\r\n")).split(" ");
        String path = requestLine.length > 1 ? requestLine[1] : "/";
        int q = path.indexOf('?');
        String body = answer(q < 0 ? path : path.substring(0, q));
        int status = body == null ? 404 : 200;
        if (body == null) {
          body = NOT_FOUND;
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        out.write(
            ("HTTP/1.1 "
                    + status
                    + (status == 200 ? " OK" : " Not Found")
                    + "\r\nContent-Type: application/json\r\nContent-Length: "
                    + bytes.length
                    + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.flush();
      }
    } catch (IOException e) {
      // The client went away mid-exchange (it exits as soon as it has its answer): nothing to do.
    }
  }

  private static String answer(String path) {
    switch (path) {
      case "/api":
        return API;
      case "/apis":
        return APIS;
      case "/api/v1":
        return CORE_V1;
      case "/api/v1/pods":
      case "/api/v1/namespaces/default/pods":
        return TABLE;
      default:
        return null;
    }
  }

  /** The request line and headers up to the empty line, or null at the end of the stream. */
  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int last4 = 0;
    int c;
    while ((c = in.read()) >= 0) {
      b.write(c);
      last4 = (last4 << 8) | c;
      if (last4 == 0x0d0a0d0a) { // CR LF CR LF
        return b.toString(StandardCharsets.US_ASCII);
      }
    }
    return null;
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close the training server's socket", e);
    }
  }
}
