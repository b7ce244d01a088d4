package dev.kubelite.store.client;

import java.util.List;

/**
 * The store cluster as {@code etcdctl member list} and {@code etcdctl endpoint status --cluster}
 * show it: the members, and each member's own Maintenance.Status answer. The summary fields come
 * from the leader's answer when the leader could be asked, else from the member that answered
 * first.
 *
 * @param clusterId the cluster's id
 * @param answeredBy id of the member the client asked first (its view of the leader is {@code
 *     leader})
 * @param leader id of the leader, 0 if there is none
 * @param raftTerm the Raft term
 * @param raftIndex the Raft commit index
 * @param revision the MVCC store's current revision
 * @param compactRevision the revision the store was last compacted at: 0 if nothing was compacted,
 *     {@link #UNKNOWN} if it could not be determined
 * @param dbSize the backend's size in bytes
 * @param members every member, sorted by name then id
 */
public record StoreStatus(
    long clusterId,
    long answeredBy,
    long leader,
    long raftTerm,
    long raftIndex,
    long revision,
    long compactRevision,
    long dbSize,
    List<MemberStatus> members) {

  /** For {@link #compactRevision}: not determined. */
  public static final long UNKNOWN = -1;

  public StoreStatus {
    members = List.copyOf(members);
  }

  /**
   * One member as Cluster.MemberList reports it, with its own Status answer, or why there is none.
   *
   * @param status the member's Maintenance.Status answer; null if it could not be asked
   * @param error why {@code status} is null; null otherwise
   */
  public record MemberStatus(
      long id,
      String name,
      List<String> peerUrls,
      List<String> clientUrls,
      boolean learner,
      EndpointStatus status,
      String error) {
    public MemberStatus {
      peerUrls = List.copyOf(peerUrls);
      clientUrls = List.copyOf(clientUrls);
    }
  }

  /**
   * One member's Maintenance.Status answer: the fields {@code etcdctl endpoint status} prints.
   *
   * @param endpoint the client URL it was asked at
   * @param memberId the member that answered
   * @param version the etcd API version the member reports
   * @param dbSize the backend's size in bytes
   * @param dbSizeInUse the bytes in use (the rest is free space a defragmentation would return)
   * @param leader the leader this member knows, 0 if none
   * @param raftTerm its Raft term
   * @param raftIndex its Raft commit index
   * @param raftAppliedIndex its applied index
   * @param revision its MVCC revision (the header revision)
   * @param learner whether it is a learner
   * @param errors etcd's error texts (no leader, active alarms)
   */
  public record EndpointStatus(
      String endpoint,
      long memberId,
      String version,
      long dbSize,
      long dbSizeInUse,
      long leader,
      long raftTerm,
      long raftIndex,
      long raftAppliedIndex,
      long revision,
      boolean learner,
      List<String> errors) {
    public EndpointStatus {
      errors = List.copyOf(errors);
    }
  }
}
