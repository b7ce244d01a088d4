package dev.kubelite.store.mvcc;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * etcd's on-disk form of one MVCC revision (its bbolt {@code key} bucket), rebuilt from our records
 * for {@link MvccStore#hashKv}: the bucket key is the revision as 8-byte big-endian main, {@code
 * '_'}, 8-byte big-endian sub, plus {@code 't'} for a tombstone; the value is the protobuf encoding
 * of {@code mvccpb.KeyValue} (a tombstone carries only the key). Hashing these bytes in revision
 * order with CRC-32C, after the bucket name, is what etcd's {@code HashByRev} does, so the same
 * history gives the same hash on etcd and here.
 */
final class EtcdKeyBucket {
  private static final byte[] BUCKET_NAME = {'k', 'e', 'y'};

  private final CRC32C crc = new CRC32C();

  EtcdKeyBucket() {
    crc.update(BUCKET_NAME);
  }

  void add(Rev rev, KeyValue kv, boolean tombstone) {
    crc.update(revisionKey(rev, tombstone));
    crc.update(keyValue(kv, tombstone));
  }

  int hash() {
    return (int) crc.getValue();
  }

  static byte[] revisionKey(Rev rev, boolean tombstone) {
    ByteBuffer b = ByteBuffer.allocate(tombstone ? 18 : 17);
    b.putLong(rev.main()).put((byte) '_').putLong(rev.sub());
    if (tombstone) {
      b.put((byte) 't');
    }
    return b.array();
  }

  /** {@code mvccpb.KeyValue}: fields in number order, zero values left out (proto3). */
  static byte[] keyValue(KeyValue kv, boolean tombstone) {
    ByteBuffer b = ByteBuffer.allocate(kv.key().length + kv.value().length + 2 * 10 + 4 * 11);
    bytesField(b, 1, kv.key());
    if (!tombstone) {
      varintField(b, 2, kv.createRevision());
      varintField(b, 3, kv.modRevision());
      varintField(b, 4, kv.version());
      bytesField(b, 5, kv.value());
      varintField(b, 6, kv.lease());
    }
    byte[] out = new byte[b.position()];
    b.flip().get(out);
    return out;
  }

  private static void bytesField(ByteBuffer b, int field, byte[] v) {
    if (v.length == 0) {
      return;
    }
    varint(b, (field << 3) | 2);
    varint(b, v.length);
    b.put(v);
  }

  private static void varintField(ByteBuffer b, int field, long v) {
    if (v == 0) {
      return;
    }
    varint(b, field << 3);
    varint(b, v);
  }

  private static void varint(ByteBuffer b, long v) {
    while ((v & ~0x7FL) != 0) {
      b.put((byte) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    b.put((byte) v);
  }
}
