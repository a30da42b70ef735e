package io.bcache.cluster.membership;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/** Argument checks and lifecycle rules that need no ZooKeeper. */
@Timeout(20)
class MembershipLifecycleTest {

  static {
    // the ZooKeeper client logs every refused connection with its stack trace
    System.setProperty("org.slf4j.simpleLogger.log.org.apache.zookeeper", "error");
  }

  // nothing listens there: a started membership only waits out its short connection timeout
  private static final String NOWHERE = "127.0.0.1:1";
  private static final MembershipSettings QUICK = MembershipSettings.defaults()
      .withConnectionTimeout(Duration.ofMillis(200));
  private static final Member SELF = new Member(42, "127.0.0.1", 7400, 1);
  private static final MembershipListener IGNORE = new MembershipListener() {
    @Override
    public void memberJoined(Member member) {
    }

    @Override
    public void memberLeft(Member member) {
    }
  };

  @ParameterizedTest
  @NullAndEmptySource
  @ValueSource(strings = {".", "..", ".hidden", "a/b", "a b", "zookeeper\u0000", "\u00e9t\u00e9"})
  void rejectsClusterNamesThatAreNotOneZnodeName(String name) {
    assertThatThrownBy(() -> new Membership(NOWHERE, name, SELF, IGNORE))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void rejectsOverlongClusterNames() {
    new Membership(NOWHERE, "c".repeat(128), SELF, IGNORE).close();

    assertThatThrownBy(() -> new Membership(NOWHERE, "c".repeat(129), SELF, IGNORE))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void placesMembersUnderTheBasePath() {
    try (Membership membership = new Membership(NOWHERE, "default", SELF, IGNORE,
        MembershipSettings.defaults().withBasePath("/apps/bcache"))) {
      assertThat(membership.membersPath()).isEqualTo("/apps/bcache/default/members");
    }
    try (Membership membership = new Membership(NOWHERE, "default", SELF, IGNORE)) {
      assertThat(membership.membersPath()).isEqualTo("/bcache/default/members");
    }
  }

  @Test
  void placesMembersBelowAChrootInTheConnectString() {
    try (Membership membership = new Membership(NOWHERE + ",127.0.0.1:2/apps/orders", "default", SELF, IGNORE)) {
      assertThat(membership.membersPath()).isEqualTo("/apps/orders/bcache/default/members");
    }
    try (Membership membership = new Membership(NOWHERE + "/", "default", SELF, IGNORE)) {
      assertThat(membership.membersPath()).isEqualTo("/bcache/default/members");
    }
    for (String chroot : new String[] {"/apps/", "//apps", "/apps/./x", "/apps/../x"}) {
      assertThatThrownBy(() -> new Membership(NOWHERE + chroot, "default", SELF, IGNORE))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(chroot);
    }
  }

  @Test
  void closeBeforeStartIsHarmlessAndFinal() {
    Membership membership = new Membership(NOWHERE, "default", SELF, IGNORE, QUICK);

    membership.close();
    membership.close();

    assertThat(membership.members()).isEmpty();
    assertThat(membership.isConnected()).isFalse();
    assertThatThrownBy(membership::start).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void startsOnlyOnce() {
    try (Membership membership = new Membership(NOWHERE, "default", SELF, IGNORE, QUICK)) {
      membership.start();

      assertThat(membership.isConnected()).isFalse();
      assertThatThrownBy(membership::start).isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void settingsRejectNonsense() {
    MembershipSettings defaults = MembershipSettings.defaults();

    assertThat(defaults.basePath()).isEqualTo("/bcache");
    assertThatThrownBy(() -> defaults.withSessionTimeout(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> defaults.withConnectionTimeout(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> defaults.withRetrySleep(Duration.ofMillis(1), null)).isInstanceOf(IllegalArgumentException.class);
    for (String path : new String[] {"/", "bcache", "/bcache/", "//bcache", null}) {
      assertThatThrownBy(() -> defaults.withBasePath(path)).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void memberRejectsFieldsOutOfRange() {
    assertThatThrownBy(() -> new Member(1, "", 1, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Member(1, "a\nport=2", 1, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Member(1, "h", 0, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Member(1, "h", 65_536, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Member(1, "h", 1, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThat(new Member(0xff, "::1", 7400, 2)).hasToString("00000000000000ff@[::1]:7400/v2");
  }
}
