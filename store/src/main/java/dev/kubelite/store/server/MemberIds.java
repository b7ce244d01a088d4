package dev.kubelite.store.server;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;

/**
 * Member and cluster ids computed the way etcd computes them, so that ids shown by {@code etcdctl
 * member list} are stable and unique: a member id is the first 8 bytes of SHA-1 over its sorted
 * peer URLs, the cluster token and (for members added at runtime) the time; the cluster id is the
 * same over the sorted member ids.
 */
public final class MemberIds {
  private MemberIds() {}

  public static long memberId(List<URI> peerUrls, String clusterToken, Long unixSeconds) {
    List<String> urls = new ArrayList<>();
    for (URI u : peerUrls) {
      urls.add(u.toString());
    }
    Collections.sort(urls);
    StringBuilder sb = new StringBuilder();
    urls.forEach(sb::append);
    sb.append(clusterToken);
    if (unixSeconds != null) {
      sb.append(unixSeconds);
    }
    return first8(sha1(sb.toString().getBytes(StandardCharsets.UTF_8)));
  }

  public static long clusterId(Collection<Long> memberIds) {
    List<Long> sorted = new ArrayList<>(memberIds);
    sorted.sort(Long::compareUnsigned);
    ByteBuffer buf = ByteBuffer.allocate(8 * sorted.size());
    sorted.forEach(buf::putLong);
    return first8(sha1(buf.array()));
  }

  /** How etcd prints ids: lower-case hex without leading zeros. */
  public static String hex(long id) {
    return Long.toHexString(id);
  }

  private static long first8(byte[] hash) {
    return ByteBuffer.wrap(hash, 0, 8).getLong();
  }

  private static byte[] sha1(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-1").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-1, which every JDK must provide", e);
    }
  }
}
