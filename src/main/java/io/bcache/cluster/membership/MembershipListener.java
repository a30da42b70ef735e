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

  /**
   * ZooKeeper cannot be reached: the members last known are kept, but until it is back no join
   * or leave can be seen, so no absence means anything.
   */
  default void disconnected() {
  }

  /**
   * ZooKeeper is reachable: again after {@link #disconnected()}, or for the first time (also when
   * the node started while it was away). Joins and leaves that happened meanwhile are reported
   * next. May come without a {@code disconnected()} before it, so it must be safe to repeat.
   */
  default void reconnected() {
  }
}
