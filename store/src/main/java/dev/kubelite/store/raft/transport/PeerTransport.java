package dev.kubelite.store.raft.transport;

import dev.kubelite.store.raft.Message;
import dev.kubelite.store.raft.MessageType;
import dev.kubelite.store.raft.driver.RaftDriver;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.parsetools.RecordParser;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Raft traffic between store members over TCP: each frame is a 4-byte length and a {@link
 * MessageCodec} message. One outbound connection per peer, opened on first use and re-opened after
 * failures. Sending never blocks the Raft thread: frames are handed to the event loop, and when a
 * peer is slow or away they are dropped — Raft retransmits — and the node is told the peer is
 * unreachable, so it stops streaming to it until it answers again.
 */
public final class PeerTransport implements RaftDriver.Transport, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PeerTransport.class);
  private static final int MAX_QUEUED_WHILE_CONNECTING = 1024;

  /** Where inbound messages and delivery reports go (normally a {@link RaftDriver}). */
  public interface Sink {
    void receive(Message message);

    void reportUnreachable(long peer);

    void reportSnapshot(long peer, boolean success);
  }

  private final Vertx vertx;
  private final Context context;
  private final long selfId;
  private final NetClient client;
  private final Map<Long, SocketAddress> peers = new ConcurrentHashMap<>();
  private final Map<Long, Peer> connections = new ConcurrentHashMap<>();
  private volatile Sink sink;
  private final NetServerOptions serverOptions;
  private NetServer server;

  public PeerTransport(Vertx vertx, long selfId) {
    this(vertx, selfId, null);
  }

  /**
   * A transport whose listener and outbound connections use TLS when {@code tls} is given: the
   * server options carry the listener's certificate (and, to require peer certificates, the trusted
   * CA and client auth), {@link Tls#client} decorates the dialing options the same way.
   */
  public PeerTransport(Vertx vertx, long selfId, Tls tls) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.selfId = selfId;
    NetClientOptions clientOptions =
        new NetClientOptions().setConnectTimeout(2000).setTcpNoDelay(true);
    this.client = vertx.createNetClient(tls == null ? clientOptions : tls.client(clientOptions));
    this.serverOptions = tls == null ? new NetServerOptions() : tls.server();
  }

  /** TLS for peer traffic: the listener's options, and what to add to the dialing options. */
  public interface Tls {
    NetServerOptions server();

    NetClientOptions client(NetClientOptions options);
  }

  /** Where to deliver what arrives; set before {@link #listen}. */
  public void sink(Sink s) {
    this.sink = s;
  }

  /** Starts accepting peer connections; completes with the bound port. */
  public Future<Integer> listen(String host, int port) {
    server = vertx.createNetServer(serverOptions);
    server.connectHandler(this::accept);
    return server.listen(port, host).map(NetServer::actualPort);
  }

  public void addPeer(long id, SocketAddress address) {
    SocketAddress old = peers.put(id, address);
    if (old != null && !old.equals(address)) {
      Peer p = connections.remove(id);
      if (p != null) {
        context.runOnContext(v -> p.closeConnection());
      }
    }
  }

  public void removePeer(long id) {
    peers.remove(id);
    Peer p = connections.remove(id);
    if (p != null) {
      context.runOnContext(v -> p.closeConnection());
    }
  }

  @Override
  public void send(Message m) {
    SocketAddress address = peers.get(m.to());
    if (address == null) {
      report(m, false);
      return;
    }
    byte[] frame = MessageCodec.encode(m);
    Buffer buf = Buffer.buffer(4 + frame.length).appendInt(frame.length).appendBytes(frame);
    Peer peer = connections.computeIfAbsent(m.to(), id -> new Peer(id));
    context.runOnContext(v -> peer.send(m, buf, address));
  }

  private void accept(NetSocket socket) {
    RecordParser parser = RecordParser.newFixed(4);
    boolean[] readingLength = {true};
    parser.handler(
        chunk -> {
          if (readingLength[0]) {
            int len = chunk.getInt(0);
            if (len <= 0 || len > MessageCodec.MAX_FRAME_BYTES) {
              log.warn(
                  "peer {} sent a frame of {} bytes; closing the connection",
                  socket.remoteAddress(),
                  len);
              socket.close();
              return;
            }
            parser.fixedSizeMode(len);
            readingLength[0] = false;
            return;
          }
          parser.fixedSizeMode(4);
          readingLength[0] = true;
          Message m;
          try {
            m = MessageCodec.decode(chunk.getBytes());
          } catch (IllegalArgumentException e) {
            log.warn(
                "dropping an undecodable frame from {}: {}",
                socket.remoteAddress(),
                e.getMessage());
            socket.close();
            return;
          }
          if (m.to() != selfId) {
            log.warn("peer {} sent a message for member {} to member {}", m.from(), m.to(), selfId);
            return;
          }
          Sink s = sink;
          if (s != null) {
            s.receive(m);
          }
        });
    socket.handler(parser);
    socket.exceptionHandler(e -> log.debug("peer connection {} failed", socket.remoteAddress(), e));
  }

  private void report(Message m, boolean delivered) {
    Sink s = sink;
    if (s == null) {
      return;
    }
    if (m.type() == MessageType.SNAPSHOT) {
      s.reportSnapshot(m.to(), delivered);
    } else if (!delivered) {
      s.reportUnreachable(m.to());
    }
  }

  @Override
  public void close() {
    for (Peer p : connections.values()) {
      context.runOnContext(v -> p.closeConnection());
    }
    connections.clear();
    if (server != null) {
      server.close();
    }
    client.close();
  }

  /** The outbound connection to one peer; touched only on the transport's event-loop context. */
  private final class Peer {
    private final long id;
    private NetSocket socket;
    private boolean connecting;
    private final ArrayDeque<Object[]> queued = new ArrayDeque<>();

    Peer(long id) {
      this.id = id;
    }

    void send(Message m, Buffer frame, SocketAddress address) {
      if (socket != null) {
        write(m, frame);
        return;
      }
      if (queued.size() >= MAX_QUEUED_WHILE_CONNECTING) {
        report(m, false);
        return;
      }
      queued.add(new Object[] {m, frame});
      if (connecting) {
        return;
      }
      connecting = true;
      client
          .connect(address)
          .onComplete(
              ar -> {
                connecting = false;
                if (ar.failed()) {
                  log.debug("cannot reach member {} at {}: {}", id, address, ar.cause().toString());
                  while (!queued.isEmpty()) {
                    report((Message) queued.poll()[0], false);
                  }
                  return;
                }
                socket = ar.result();
                socket.closeHandler(v -> socket = null);
                socket.exceptionHandler(e -> log.debug("connection to member {} failed", id, e));
                while (!queued.isEmpty()) {
                  Object[] q = queued.poll();
                  write((Message) q[0], (Buffer) q[1]);
                }
              });
    }

    private void write(Message m, Buffer frame) {
      if (socket.writeQueueFull() && m.type() != MessageType.SNAPSHOT) {
        report(m, false); // a slow peer: drop, Raft will retransmit
        return;
      }
      if (m.type() == MessageType.SNAPSHOT) {
        socket.write(frame).onComplete(ar -> report(m, ar.succeeded()));
      } else {
        socket.write(frame);
      }
    }

    void closeConnection() {
      if (socket != null) {
        socket.close();
        socket = null;
      }
    }
  }
}
