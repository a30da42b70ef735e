package io.bcache.cluster.membership;

/**
 * Told when another node joins or leaves the cluster. The local node is never reported.
 *
 * <p>Calls come from one thread, in the order the changes were seen; a listener should hand
 * slow work to another thread. An exception thrown here is logged and does not stop later calls.
 * When ZooKeeper is unreachable no change is reported at all: the last known members are kept.
 */
public interface MembershipListener {

  /** {@code member} is registered, or was already registered when watching began. */
  void memberJoined(Member member);

  /** {@code member} is no longer registered: it closed, or its ZooKeeper session expired. */
  void memberLeft(Member member);
}
