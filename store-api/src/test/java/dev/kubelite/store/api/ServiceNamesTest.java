package dev.kubelite.store.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import dev.kubelite.store.api.etcdserverpb.KVGrpcService;
import dev.kubelite.store.api.etcdserverpb.LeaseGrpcService;
import dev.kubelite.store.api.etcdserverpb.MaintenanceGrpcService;
import dev.kubelite.store.api.etcdserverpb.Rpc;
import dev.kubelite.store.api.etcdserverpb.WatchGrpcService;
import dev.kubelite.store.api.mvccpb.Kv;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The gRPC paths etcd clients call ("/package.Service/Method") exist in the generated code. */
class ServiceNamesTest {

  private static String grpcPath(MethodDescriptor method) {
    return method.getService().getFullName() + "/" + method.getName();
  }

  private static List<String> paths(ServiceDescriptor service) {
    return service.getMethods().stream().map(ServiceNamesTest::grpcPath).toList();
  }

  @Test
  void descriptorsDeclareEtcdServicesAndMethods() {
    assertThat(Rpc.getDescriptor().getPackage()).isEqualTo("etcdserverpb");
    assertThat(Kv.getDescriptor().getPackage()).isEqualTo("mvccpb");

    List<String> all =
        Rpc.getDescriptor().getServices().stream()
            .flatMap(service -> paths(service).stream())
            .collect(Collectors.toList());
    assertThat(all)
        .contains(
            "etcdserverpb.KV/Range",
            "etcdserverpb.Watch/Watch",
            "etcdserverpb.Lease/LeaseKeepAlive",
            "etcdserverpb.Maintenance/Status");

    assertThat(Rpc.getDescriptor().getServices())
        .extracting(ServiceDescriptor::getName)
        .containsExactly("KV", "Watch", "Lease", "Cluster", "Maintenance");
    assertThat(paths(Rpc.getDescriptor().findServiceByName("KV")))
        .containsExactly(
            "etcdserverpb.KV/Range",
            "etcdserverpb.KV/Put",
            "etcdserverpb.KV/DeleteRange",
            "etcdserverpb.KV/Txn",
            "etcdserverpb.KV/Compact");
    assertThat(paths(Rpc.getDescriptor().findServiceByName("Lease")))
        .containsExactly(
            "etcdserverpb.Lease/LeaseGrant",
            "etcdserverpb.Lease/LeaseRevoke",
            "etcdserverpb.Lease/LeaseKeepAlive",
            "etcdserverpb.Lease/LeaseTimeToLive",
            "etcdserverpb.Lease/LeaseLeases");
    assertThat(paths(Rpc.getDescriptor().findServiceByName("Cluster")))
        .containsExactly(
            "etcdserverpb.Cluster/MemberAdd",
            "etcdserverpb.Cluster/MemberRemove",
            "etcdserverpb.Cluster/MemberUpdate",
            "etcdserverpb.Cluster/MemberList",
            "etcdserverpb.Cluster/MemberPromote");
    assertThat(paths(Rpc.getDescriptor().findServiceByName("Maintenance")))
        .containsExactly(
            "etcdserverpb.Maintenance/Alarm",
            "etcdserverpb.Maintenance/Status",
            "etcdserverpb.Maintenance/Defragment",
            "etcdserverpb.Maintenance/Hash",
            "etcdserverpb.Maintenance/HashKV",
            "etcdserverpb.Maintenance/Snapshot",
            "etcdserverpb.Maintenance/MoveLeader");
  }

  @Test
  void streamingShapesMatchEtcd() {
    MethodDescriptor watch =
        Rpc.getDescriptor().findServiceByName("Watch").findMethodByName("Watch");
    MethodDescriptor keepAlive =
        Rpc.getDescriptor().findServiceByName("Lease").findMethodByName("LeaseKeepAlive");
    MethodDescriptor snapshot =
        Rpc.getDescriptor().findServiceByName("Maintenance").findMethodByName("Snapshot");
    MethodDescriptor range = Rpc.getDescriptor().findServiceByName("KV").findMethodByName("Range");

    assertThat(watch.isClientStreaming()).isTrue();
    assertThat(watch.isServerStreaming()).isTrue();
    assertThat(keepAlive.isClientStreaming()).isTrue();
    assertThat(keepAlive.isServerStreaming()).isTrue();
    assertThat(snapshot.isClientStreaming()).isFalse();
    assertThat(snapshot.isServerStreaming()).isTrue();
    assertThat(range.isClientStreaming()).isFalse();
    assertThat(range.isServerStreaming()).isFalse();
  }

  @Test
  void generatedVertxStubsUseTheSamePaths() {
    assertThat(KVGrpcService.Range.fullMethodName()).isEqualTo("etcdserverpb.KV/Range");
    assertThat(WatchGrpcService.Watch.fullMethodName()).isEqualTo("etcdserverpb.Watch/Watch");
    assertThat(LeaseGrpcService.LeaseKeepAlive.fullMethodName())
        .isEqualTo("etcdserverpb.Lease/LeaseKeepAlive");
    assertThat(MaintenanceGrpcService.Status.fullMethodName())
        .isEqualTo("etcdserverpb.Maintenance/Status");
  }
}
