package io.bcache.cluster.membership;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.utils.ZKPaths;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The members this node knows, kept from the events of a {@code CuratorCache} on the members
 * folder, and turned into joins and leaves for the {@link MembershipListener}.
 *
 * <p>The cache calls in on one thread, so changes are applied and reported in order. The cache
 * never drops entries while ZooKeeper is unreachable, and after a reconnection it re-reads the
 * folder and reports only what differs, so the view stays frozen during an outage and then
 * resynchronises. Znodes that are not valid members are logged and ignored.
 */
final class MemberView implements CuratorCacheListener {

  private static final Logger logger = LoggerFactory.getLogger(MemberView.class);

  private final String membersPath;
  private final long selfId;
  private final MembershipListener listener;
  private final Map<String, Member> members = new ConcurrentHashMap<>();
  private final CountDownLatch initialized = new CountDownLatch(1);
  private volatile boolean closed;

  MemberView(String membersPath, long selfId, MembershipListener listener) {
    this.membersPath = membersPath;
    this.selfId = selfId;
    this.listener = listener;
  }

  /** The other members currently known. */
  Set<Member> members() {
    return Set.copyOf(members.values());
  }

  /** Waits until the folder has been read once; false if the time ran out. */
  boolean awaitInitialized(long timeout, TimeUnit unit) throws InterruptedException {
    return initialized.await(timeout, unit);
  }

  /** Forgets every member and ignores later events without reporting them: the node is leaving. */
  void close() {
    closed = true;
    members.clear();
  }

  @Override
  public void event(Type type, ChildData oldData, ChildData data) {
    ChildData node = (data != null) ? data : oldData;
    // the cache may still deliver an event it queued before it was closed
    if (closed || node == null || !isMemberPath(node.getPath())) {
      return;
    }
    String name = ZKPaths.getNodeFromPath(node.getPath());
    if (type == Type.NODE_DELETED) {
      remove(name);
    } else {
      put(name, data);
    }
  }

  @Override
  public void initialized() {
    logger.debug("Read {}: {} other members", membersPath, members.size());
    initialized.countDown();
  }

  private boolean isMemberPath(String path) {
    return path.length() > membersPath.length() + 1
        && path.startsWith(membersPath)
        && path.charAt(membersPath.length()) == '/'
        && path.indexOf('/', membersPath.length() + 1) < 0;
  }

  private void put(String name, ChildData data) {
    Member member;
    try {
      member = MemberCodec.decode(name, data.getData());
    } catch (IllegalArgumentException e) {
      logger.warn("Ignoring {}: not a bcache member ({})", data.getPath(), e.getMessage());
      remove(name); // it may have been a valid member before this write
      return;
    }
    if (member.nodeId() == selfId) {
      return;
    }
    Member previous = members.put(name, member);
    if (member.equals(previous)) {
      return;
    }
    if (previous != null) {
      notifyLeft(previous);
    }
    notifyJoined(member);
  }

  private void remove(String name) {
    Member previous = members.remove(name);
    if (previous != null) {
      notifyLeft(previous);
    }
  }

  private void notifyJoined(Member member) {
    logger.info("Member joined: {}", member);
    try {
      listener.memberJoined(member);
    } catch (Exception e) {
      logger.error("Membership listener failed on the join of {}", member, e);
    }
  }

  private void notifyLeft(Member member) {
    logger.info("Member left: {}", member);
    try {
      listener.memberLeft(member);
    } catch (Exception e) {
      logger.error("Membership listener failed on the leave of {}", member, e);
    }
  }
}
