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
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Raft traffic between store members over TCP: each frame is a 4-byte length and a {@link
 * MessageCodec} message. One outbound connection per peer, opened on first use and re-opened after
 * failures, and one more for each snapshot streamed from a file ({@link #sendSnapshot}). Sending
 * never blocks the Raft thread: frames are handed to the event loop, and when a peer is slow or
 * away they are dropped — Raft retransmits — and the node is told the peer is unreachable, so it
 * stops streaming to it until it answers again.
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
    Peer peer = connections.computeIfAbsent(m.to(), id -> new Peer(id));
    peer.enqueue(new Outbound(m, frame, address));
  }

  /**
   * Sends a SNAPSHOT message whose snapshot data is the file {@code data} ({@code length} bytes;
   * the message's own snapshot data is ignored), on a connection of its own, so that appends and
   * heartbeats to the peer do not wait behind it (etcd sends snapshots on a stream of their own
   * too). The file goes from disk to the socket, never whole into memory. The sink hears whether it
   * was delivered, as for any snapshot, once the peer confirmed it ({@link #SNAPSHOT_RECEIVED});
   * then {@code done} runs (the file may be deleted). Gives up after {@link
   * #snapshotTimeoutMillis}.
   */
  public void sendSnapshot(Message m, Path data, long length, Runnable done) {
    SocketAddress address = peers.get(m.to());
    MessageCodec.Around around;
    try {
      around = MessageCodec.encodeAround(m, length);
    } catch (IllegalArgumentException e) {
      log.error(
          "cannot send a snapshot to member {}: {}; compact and defragment the store to shrink"
              + " it, or add the member from a copy of a healthy member's data dir",
          Long.toHexString(m.to()),
          e.getMessage());
      address = null;
      around = null;
    }
    if (address == null) {
      report(m, false);
      done.run();
      return;
    }
    SocketAddress to = address;
    Buffer head =
        Buffer.buffer().appendInt((int) around.frameLength(length)).appendBytes(around.prefix());
    Buffer tail = Buffer.buffer(around.suffix());
    context.runOnContext(
        v ->
            client
                .connect(to)
                .onComplete(
                    ar -> {
                      if (ar.failed()) {
                        log.info(
                            "cannot reach member {} at {} to send a snapshot: {}",
                            Long.toHexString(m.to()),
                            to,
                            ar.cause().toString());
                        report(m, false);
                        done.run();
                        return;
                      }
                      NetSocket socket = ar.result();
                      io.vertx.core.Promise<Void> received = io.vertx.core.Promise.promise();
                      socket.handler(b -> received.tryComplete());
                      socket.closeHandler(
                          c ->
                              received.tryFail(
                                  "the connection closed before the member confirmed the"
                                      + " snapshot"));
                      long timer =
                          vertx.setTimer(snapshotTimeoutMillis(length), t -> socket.close());
                      socket
                          .write(head)
                          .compose(x -> socket.sendFile(data.toString()))
                          .compose(x -> socket.write(tail))
                          .compose(
                              x -> {
                                // A member of an earlier version sends no receipt: after a while,
                                // count the snapshot delivered, as those versions did at once.
                                vertx.setTimer(RECEIPT_WAIT_MILLIS, t -> received.tryComplete());
                                return received.future();
                              })
                          .onComplete(
                              w -> {
                                vertx.cancelTimer(timer);
                                if (w.failed()) {
                                  log.info(
                                      "sending a snapshot of {} bytes to member {} failed: {}",
                                      length,
                                      Long.toHexString(m.to()),
                                      w.cause().toString());
                                }
                                report(m, w.succeeded());
                                socket.close();
                                done.run();
                              });
                    }));
  }

  /**
   * What a member answers on the connection a snapshot came in on, once the message is decoded and
   * handed to its Raft driver. The sender reports the snapshot delivered only then: the follower's
   * driver has it queued before anything sent after the report (appends on the peer connection)
   * arrives, so those do not overtake it, fail to match, and make the leader send another.
   */
  static final byte SNAPSHOT_RECEIVED = 1;

  /** How long a sender waits for {@link #SNAPSHOT_RECEIVED} after the last byte went out. */
  private static final long RECEIPT_WAIT_MILLIS = 10_000;

  /** How long a snapshot of {@code length} bytes may take: 60 s, plus 1 s per 8 MiB. */
  static long snapshotTimeoutMillis(long length) {
    return 60_000 + length / (8 << 20) * 1000;
  }

  /** A message on its way to a peer, encoded on the sending (Raft) thread. */
  private record Outbound(Message message, byte[] frame, SocketAddress address) {}

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
            if (m.type() == MessageType.SNAPSHOT) {
              socket.write(Buffer.buffer(new byte[] {SNAPSHOT_RECEIVED}));
            }
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

  /**
   * The outbound connection to one peer. Messages are queued by any thread and written by one task
   * on the transport's event-loop context, all that are queued by then in one socket write
   * (docs/decisions/0015): the Raft thread sends a Ready's messages in a burst, and a write (one
   * flush, one syscall) per message cost more than the messages themselves.
   */
  private final class Peer {
    private final long id;
    private final ConcurrentLinkedQueue<Outbound> outbox = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    // The fields below are touched only on the transport's event-loop context.
    private NetSocket socket;
    private boolean connecting;
    private final ArrayDeque<Outbound> queued = new ArrayDeque<>();

    Peer(long id) {
      this.id = id;
    }

    void enqueue(Outbound o) {
      outbox.add(o);
      if (drainScheduled.compareAndSet(false, true)) {
        context.runOnContext(v -> drain());
      }
    }

    private void drain() {
      drainScheduled.set(false);
      Buffer batch = null;
      Outbound o;
      while ((o = outbox.poll()) != null) {
        batch = add(batch, o);
      }
      write(batch);
    }

    /**
     * Adds {@code o} to the frames to write now ({@code batch}, null if none yet) and returns them;
     * a snapshot is written on its own (after the batch so far) so its delivery can be reported.
     */
    private Buffer add(Buffer batch, Outbound o) {
      if (socket == null) {
        write(batch);
        connectAndQueue(o);
        return null;
      }
      if (o.message().type() == MessageType.SNAPSHOT) {
        write(batch);
        Message m = o.message();
        socket.write(frame(null, o)).onComplete(ar -> report(m, ar.succeeded()));
        return null;
      }
      if (socket.writeQueueFull()) {
        report(o.message(), false); // a slow peer: drop, Raft will retransmit
        return batch;
      }
      return frame(batch, o);
    }

    private void write(Buffer batch) {
      if (batch != null && socket != null) {
        socket.write(batch);
      }
    }

    /** Appends {@code o}'s frame (length, then message) to {@code batch}, or to a new buffer. */
    private Buffer frame(Buffer batch, Outbound o) {
      Buffer b = batch != null ? batch : Buffer.buffer(4 + o.frame().length);
      return b.appendInt(o.frame().length).appendBytes(o.frame());
    }

    private void connectAndQueue(Outbound o) {
      if (queued.size() >= MAX_QUEUED_WHILE_CONNECTING) {
        report(o.message(), false);
        return;
      }
      queued.add(o);
      if (connecting) {
        return;
      }
      connecting = true;
      SocketAddress address = o.address();
      client
          .connect(address)
          .onComplete(
              ar -> {
                connecting = false;
                if (ar.failed()) {
                  log.debug("cannot reach member {} at {}: {}", id, address, ar.cause().toString());
                  while (!queued.isEmpty()) {
                    report(queued.poll().message(), false);
                  }
                  return;
                }
                socket = ar.result();
                socket.handler(b -> {}); // snapshot receipts (SNAPSHOT_RECEIVED): not needed here
                socket.closeHandler(v -> socket = null);
                socket.exceptionHandler(e -> log.debug("connection to member {} failed", id, e));
                // What queued while connecting goes first, then anything sent meanwhile.
                Buffer batch = null;
                while (!queued.isEmpty()) {
                  batch = add(batch, queued.poll());
                }
                write(batch);
                drain();
              });
    }

    void closeConnection() {
      if (socket != null) {
        socket.close();
        socket = null;
      }
    }
  }
}
