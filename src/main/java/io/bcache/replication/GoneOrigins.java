package io.bcache.replication;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Which origins are gone for good, judged by the membership: an origin (one node start: node ids
 * never repeat) that has been absent from the member list for a grace period, while the list was
 * known, never writes again. Only then may a gap of that origin that no copy can fill be given
 * up instead of being asked for forever.
 *
 * <p>Absence counts only while the member list is known: while the membership cannot see the
 * cluster (ZooKeeper unreachable) nothing is learned, and the clocks pause until it can (had
 * they started over, a ZooKeeper that is away more often than the grace would keep every
 * origin from ever being gone). A
 * node cut off from the membership (but not from its peers) for longer than the grace is taken
 * for gone by the others; it is the same grace as the tombstones', past which a node that comes
 * back is not guaranteed to converge anyway.
 */
final class GoneOrigins {

  private final long self;
  private final long graceMillis;
  /** The other members, as last known (empty until first known). */
  private Set<Long> members = Set.of();
  /** Whether the member list is known now: absences count only then. */
  private boolean known;
  /** Every node ever seen among the members: one that never wrote may still be waited for. */
  private final Set<Long> everMembers = new HashSet<>();
  /** Origins absent from the known member list, since when, in the current stretch of it. */
  private final Map<Long, Long> absentSince = new HashMap<>();
  /** Origins' absence in earlier stretches of a known member list, in milliseconds. */
  private final Map<Long, Long> absentBefore = new HashMap<>();
  private final Set<Long> gone = new HashSet<>();

  GoneOrigins(long self, long graceMillis) {
    this.self = self;
    this.graceMillis = graceMillis;
  }

  /** The member list as now known (this node may be among them). */
  void membersAre(Set<Long> now) {
    members = new HashSet<>(now);
    members.remove(self);
    known = true;
    everMembers.addAll(members);
    absentSince.keySet().removeAll(members);
    absentBefore.keySet().removeAll(members);
    gone.removeAll(members); // back after all: its gaps are waited for again
  }

  /** The member list cannot be known from {@code nowMillis} on: absences pause meanwhile. */
  void membersUnknown(long nowMillis) {
    if (known) {
      absentSince.forEach((origin, since) ->
          absentBefore.merge(origin, nowMillis - since, Long::sum));
    }
    known = false;
    absentSince.clear();
  }

  /**
   * The other members (a view): as last known while the list cannot be known, since a range asked
   * of every member is given up once they all answered, and none must be left out meanwhile.
   */
  Set<Long> members() {
    return Collections.unmodifiableSet(members);
  }

  boolean isGone(long origin) {
    return gone.contains(origin);
  }

  /**
   * Starts the absence clock of every node that is not a member, among {@code origins} and the
   * former members, and returns those whose absence reached the grace now: gone from here on.
   */
  List<Long> retire(Collection<Long> origins, long nowMillis) {
    if (!known) {
      return List.of();
    }
    List<Long> retired = new ArrayList<>();
    SortedSet<Long> candidates = new TreeSet<>(origins); // in order: the simulator replays runs
    candidates.addAll(everMembers);
    for (long origin : candidates) {
      if (origin == self || members.contains(origin) || gone.contains(origin)) {
        continue;
      }
      long since = absentSince.computeIfAbsent(origin, o -> nowMillis);
      if (absentBefore.getOrDefault(origin, 0L) + nowMillis - since >= graceMillis) {
        absentSince.remove(origin);
        absentBefore.remove(origin);
        everMembers.remove(origin);
        gone.add(origin);
        retired.add(origin);
      }
    }
    return retired;
  }
}
