package dev.kubelite.store.mvcc;

import dev.kubelite.store.mvcc.Responses.CompactResponse;
import dev.kubelite.store.mvcc.Responses.DeleteRangeResponse;
import dev.kubelite.store.mvcc.Responses.LeaseGrantResponse;
import dev.kubelite.store.mvcc.Responses.LeaseRevokeResponse;
import dev.kubelite.store.mvcc.Responses.OpResponse;
import dev.kubelite.store.mvcc.Responses.PutResponse;
import dev.kubelite.store.mvcc.Responses.RangeResponse;
import dev.kubelite.store.mvcc.Responses.Response;
import dev.kubelite.store.mvcc.Responses.TxnResponse;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The outcome of an applied write — its {@link Response} or the {@link MvccException} it was
 * rejected with — as the request table stores it, so a retried request gets exactly what the first
 * attempt got.
 */
final class OutcomeCodec {
  private static final byte VERSION = 1;
  private static final byte ERROR = 0;
  private static final byte PUT = 1;
  private static final byte DELETE_RANGE = 2;
  private static final byte TXN = 3;
  private static final byte COMPACT = 4;
  private static final byte LEASE_GRANT = 5;
  private static final byte LEASE_REVOKE = 6;
  private static final byte RANGE = 7;

  private OutcomeCodec() {}

  static byte[] encode(Response r) {
    return write(out -> writeResponse(out, r));
  }

  static byte[] encode(MvccException e) {
    return write(
        out -> {
          out.writeByte(ERROR);
          writeString(out, e.code().name());
          writeString(out, e.getMessage() == null ? "" : e.getMessage());
          out.writeLong(e.compactRevision());
        });
  }

  /** Returns the recorded response, or throws the recorded rejection. */
  static Response decode(byte[] bytes) throws MvccException {
    try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(bytes))) {
      byte version = in.readByte();
      if (version != VERSION) {
        throw new IOException("unknown outcome format " + version);
      }
      in.mark(1);
      if (in.readByte() == ERROR) {
        MvccException.Code code = MvccException.Code.valueOf(readString(in));
        String message = readString(in);
        throw new MvccException(code, message, in.readLong());
      }
      in.reset();
      Object r = readResponse(in);
      if (!(r instanceof Response resp)) {
        throw new IOException("a recorded outcome holds a bare " + r.getClass().getSimpleName());
      }
      return resp;
    } catch (IOException | IllegalArgumentException e) {
      throw new MvccStorageException(
          "a recorded request outcome is unreadable: the database is corrupt; restore from a"
              + " snapshot",
          e);
    }
  }

  private interface Writer {
    void write(DataOutputStream out) throws IOException;
  }

  private static byte[] write(Writer w) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      w.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode a request outcome in memory", e);
    }
    return bytes.toByteArray();
  }

  private static void writeResponse(DataOutputStream out, Object r) throws IOException {
    if (r instanceof PutResponse p) {
      out.writeByte(PUT);
      writeKv(out, p.prevKv());
      out.writeLong(p.revision());
    } else if (r instanceof DeleteRangeResponse d) {
      out.writeByte(DELETE_RANGE);
      out.writeLong(d.deleted());
      writeKvs(out, d.prevKvs());
      out.writeLong(d.revision());
    } else if (r instanceof TxnResponse t) {
      out.writeByte(TXN);
      out.writeBoolean(t.succeeded());
      out.writeInt(t.responses().size());
      for (OpResponse op : t.responses()) {
        writeResponse(out, op);
      }
      out.writeLong(t.revision());
    } else if (r instanceof RangeResponse rr) {
      out.writeByte(RANGE);
      writeKvs(out, rr.kvs());
      out.writeBoolean(rr.more());
      out.writeLong(rr.count());
      out.writeLong(rr.revision());
    } else if (r instanceof CompactResponse c) {
      out.writeByte(COMPACT);
      out.writeLong(c.revision());
    } else if (r instanceof LeaseGrantResponse g) {
      out.writeByte(LEASE_GRANT);
      out.writeLong(g.id());
      out.writeLong(g.ttlSeconds());
      out.writeLong(g.revision());
    } else if (r instanceof LeaseRevokeResponse v) {
      out.writeByte(LEASE_REVOKE);
      out.writeLong(v.revision());
    } else {
      throw new IllegalArgumentException("cannot record a " + r.getClass().getName());
    }
  }

  private static Object readResponse(DataInputStream in) throws IOException {
    byte tag = in.readByte();
    return switch (tag) {
      case PUT -> new PutResponse(readKv(in), in.readLong());
      case DELETE_RANGE -> new DeleteRangeResponse(in.readLong(), readKvs(in), in.readLong());
      case TXN -> {
        boolean ok = in.readBoolean();
        int n = in.readInt();
        List<OpResponse> ops = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          if (!(readResponse(in) instanceof OpResponse op)) {
            throw new IOException("a txn response holds a response that is not a txn op");
          }
          ops.add(op);
        }
        yield new TxnResponse(ok, ops, in.readLong());
      }
      case RANGE -> new RangeResponse(readKvs(in), in.readBoolean(), in.readLong(), in.readLong());
      case COMPACT -> new CompactResponse(in.readLong());
      case LEASE_GRANT -> new LeaseGrantResponse(in.readLong(), in.readLong(), in.readLong());
      case LEASE_REVOKE -> new LeaseRevokeResponse(in.readLong());
      default -> throw new IOException("unknown response tag " + tag);
    };
  }

  private static void writeKvs(DataOutputStream out, List<KeyValue> kvs) throws IOException {
    out.writeInt(kvs.size());
    for (KeyValue kv : kvs) {
      writeKv(out, kv);
    }
  }

  private static List<KeyValue> readKvs(DataInputStream in) throws IOException {
    int n = in.readInt();
    List<KeyValue> kvs = new ArrayList<>(Math.min(n, 1024));
    for (int i = 0; i < n; i++) {
      kvs.add(readKv(in));
    }
    return kvs;
  }

  private static void writeKv(DataOutputStream out, KeyValue kv) throws IOException {
    out.writeBoolean(kv != null);
    if (kv == null) {
      return;
    }
    writeBytes(out, kv.key());
    out.writeLong(kv.createRevision());
    out.writeLong(kv.modRevision());
    out.writeLong(kv.version());
    writeBytes(out, kv.value());
    out.writeLong(kv.lease());
  }

  private static KeyValue readKv(DataInputStream in) throws IOException {
    if (!in.readBoolean()) {
      return null;
    }
    byte[] key = readBytes(in);
    long create = in.readLong();
    long mod = in.readLong();
    long version = in.readLong();
    byte[] value = readBytes(in);
    return new KeyValue(key, create, mod, version, value, in.readLong());
  }

  private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
    out.writeInt(b.length);
    out.write(b);
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    byte[] b = new byte[in.readInt()];
    in.readFully(b);
    return b;
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    writeBytes(out, s.getBytes(StandardCharsets.UTF_8));
  }

  private static String readString(DataInputStream in) throws IOException {
    return new String(readBytes(in), StandardCharsets.UTF_8);
  }
}
