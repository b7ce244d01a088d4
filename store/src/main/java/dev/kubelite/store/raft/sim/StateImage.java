package dev.kubelite.store.raft.sim;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * Serialises the simulated state machine (the register and per-client dedup marks) for snapshots.
 */
final class StateImage {
  private StateImage() {}

  static byte[] encode(Map<String, String> kv, Map<Integer, Long> lastOpByClient) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      DataOutputStream out = new DataOutputStream(bytes);
      out.writeInt(kv.size());
      for (Map.Entry<String, String> e : kv.entrySet()) {
        out.writeUTF(e.getKey());
        out.writeUTF(e.getValue());
      }
      out.writeInt(lastOpByClient.size());
      for (Map.Entry<Integer, Long> e : lastOpByClient.entrySet()) {
        out.writeInt(e.getKey());
        out.writeLong(e.getValue());
      }
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException("encoding a simulated state image", e);
    }
  }

  static void decode(byte[] data, Map<String, String> kv, Map<Integer, Long> lastOpByClient) {
    if (data.length == 0) {
      return;
    }
    try {
      DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
      int n = in.readInt();
      for (int i = 0; i < n; i++) {
        kv.put(in.readUTF(), in.readUTF());
      }
      int m = in.readInt();
      for (int i = 0; i < m; i++) {
        lastOpByClient.put(in.readInt(), in.readLong());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("decoding a simulated state image", e);
    }
  }
}
