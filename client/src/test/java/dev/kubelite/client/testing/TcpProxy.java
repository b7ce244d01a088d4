package dev.kubelite.client.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loopback TCP proxy in front of the API server, so a test can cut every open connection (a
 * broken watch) and refuse new ones for a while (the server unreachable).
 */
public final class TcpProxy implements AutoCloseable {
  private final ServerSocket server;
  private final int targetPort;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile boolean refusing;
  private volatile boolean closed;

  public TcpProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::acceptLoop, "tcp-proxy");
    t.setDaemon(true);
    t.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  public java.net.URI url() {
    return java.net.URI.create("http://127.0.0.1:" + port());
  }

  /** Closes every open connection (both sides). */
  public void cutAll() {
    for (Socket s : open) {
      closeQuietly(s);
    }
  }

  /** While refusing, new connections are accepted and closed at once. */
  public void refuse(boolean r) {
    refusing = r;
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket in = server.accept();
        if (refusing) {
          in.close();
          continue;
        }
        Socket out = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        open.add(in);
        open.add(out);
        pump(in, out);
        pump(out, in);
      } catch (IOException e) {
        if (!closed) {
          throw new java.io.UncheckedIOException("proxy accept failed", e);
        }
      }
    }
  }

  private void pump(Socket from, Socket to) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[16384];
              try (InputStream i = from.getInputStream();
                  OutputStream o = to.getOutputStream()) {
                int n;
                while ((n = i.read(buf)) >= 0) {
                  o.write(buf, 0, n);
                  o.flush();
                }
              } catch (IOException e) {
                // The other side or cutAll() closed the connection: the pump ends.
              } finally {
                closeQuietly(from);
                closeQuietly(to);
                open.remove(from);
                open.remove(to);
              }
            },
            "tcp-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // Already closed.
    }
  }

  @Override
  public void close() {
    closed = true;
    cutAll();
    try {
      server.close();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot close the proxy", e);
    }
  }
}
