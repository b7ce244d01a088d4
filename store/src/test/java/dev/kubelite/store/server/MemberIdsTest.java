package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.store.testing.EtcdProcess;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Our member and cluster ids are the ones real etcd computes from the same flags. */
class MemberIdsTest {
  @TempDir Path dir;

  private static String field(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\":(\\d+)").matcher(json);
    assertThat(m.find()).as("%s in %s", name, json).isTrue();
    return m.group(1);
  }

  @Test
  void idsMatchWhatRealEtcdReports() throws Exception {
    try (EtcdProcess etcd = EtcdProcess.start(dir, "infra0", "token-" + dir.hashCode())) {
      String json = etcd.etcdctl("member", "list", "-w", "json").output();
      long etcdMemberId = Long.parseUnsignedLong(field(json, "ID"));
      long etcdClusterId = Long.parseUnsignedLong(field(json, "cluster_id"));

      long ours = MemberIds.memberId(List.of(URI.create(etcd.peerUrl())), etcd.token, null);
      assertThat(MemberIds.hex(ours)).isEqualTo(MemberIds.hex(etcdMemberId));
      assertThat(MemberIds.hex(MemberIds.clusterId(List.of(ours))))
          .isEqualTo(MemberIds.hex(etcdClusterId));
    }
  }

  @Test
  void idsDependOnPeerUrlsTokenAndTime() {
    List<URI> a = List.of(URI.create("http://127.0.0.1:2380"));
    List<URI> b = List.of(URI.create("http://127.0.0.1:2381"));
    assertThat(MemberIds.memberId(a, "t", null)).isNotEqualTo(MemberIds.memberId(b, "t", null));
    assertThat(MemberIds.memberId(a, "t", null)).isNotEqualTo(MemberIds.memberId(a, "u", null));
    assertThat(MemberIds.memberId(a, "t", 1L)).isNotEqualTo(MemberIds.memberId(a, "t", 2L));
    // Order of URLs does not matter.
    List<URI> ab = List.of(a.get(0), b.get(0));
    List<URI> ba = List.of(b.get(0), a.get(0));
    assertThat(MemberIds.memberId(ab, "t", null)).isEqualTo(MemberIds.memberId(ba, "t", null));
  }
}
