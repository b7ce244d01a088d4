package dev.kubelite.store.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on 127.0.0.1 that can lose answers: after {@link #holdAnswers()} it still forwards
 * what clients send, but keeps back what the server sends; {@link #dropHeldAnswers()} then cuts
 * every connection, throwing the held bytes away. A request sent in between reaches the server and
 * is processed there, but its client never hears back: the "sent, no answer" case of a real
 * network.
 */
public final class AnswerDroppingProxy implements AutoCloseable {
  private final ServerSocket listener;
  private final int targetPort;
  private final List<Socket[]> connections = new CopyOnWriteArrayList<>();
  private final AtomicLong heldBytes = new AtomicLong();
  private volatile boolean holding;
  private volatile boolean closed;

  private AnswerDroppingProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread accept = new Thread(this::acceptLoop, "proxy-accept-" + listener.getLocalPort());
    accept.setDaemon(true);
    accept.start();
  }

  /** A proxy to {@code 127.0.0.1:targetPort}. */
  public static AnswerDroppingProxy start(int targetPort) {
    try {
      return new AnswerDroppingProxy(targetPort);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open a proxy port on 127.0.0.1", e);
    }
  }

  public int port() {
    return listener.getLocalPort();
  }

  /** From now on the server's bytes are held back instead of forwarded. */
  public void holdAnswers() {
    heldBytes.set(0);
    holding = true;
  }

  /** How many bytes from servers were held back since {@link #holdAnswers()}. */
  public long heldBytes() {
    return heldBytes.get();
  }

  /** Cuts every connection (held bytes are lost) and forwards normally again. */
  public void dropHeldAnswers() {
    holding = false;
    for (Socket[] c : connections) {
      closeQuietly(c);
    }
    connections.clear();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        return; // closed
      }
      try {
        Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        client.setTcpNoDelay(true);
        server.setTcpNoDelay(true);
        Socket[] pair = {client, server};
        connections.add(pair);
        pump(pair, client, server, false);
        pump(pair, server, client, true);
      } catch (IOException e) {
        closeQuietly(new Socket[] {client});
      }
    }
  }

  private void pump(Socket[] pair, Socket from, Socket to, boolean answers) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[16384];
              try (InputStream in = from.getInputStream()) {
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buf)) > 0) {
                  if (answers && holding) {
                    heldBytes.addAndGet(n);
                    continue;
                  }
                  out.write(buf, 0, n);
                  out.flush();
                }
              } catch (SocketException e) {
                // cut by dropHeldAnswers() or by either side
              } catch (IOException e) {
                // the connection failed; the other side sees it closed
              } finally {
                closeQuietly(pair);
                connections.remove(pair);
              }
            },
            "proxy-pump-" + listener.getLocalPort());
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket[] sockets) {
    for (Socket s : sockets) {
      try {
        s.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      listener.close();
    } catch (IOException e) {
      // closing anyway
    }
    dropHeldAnswers();
  }
}
