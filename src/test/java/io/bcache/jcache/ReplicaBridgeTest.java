package io.bcache.jcache;

import static org.assertj.core.api.Assertions.assertThat;

import io.bcache.replication.ApplyResult;
import io.bcache.replication.Change;
import io.bcache.serialization.WireCodec;
import java.nio.charset.StandardCharsets;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.MutableConfiguration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Replication sees a cache's copy only once its core has admitted it: the manager shows a new
 * copy before the replication thread hears of its creation, and what the core does in between
 * (a snapshot it counts as received, an orphan event it raises) belongs to the copy it knows of.
 */
class ReplicaBridgeTest {

  private final CacheManager manager = PublicApiTestSupport.newManager();
  private final WireCodec codec = WireCodec.trusted();
  private final ReplicaBridge bridge = new ReplicaBridge(manager.unwrap(BCacheManager.class), codec);

  @AfterEach
  void close() {
    manager.close();
  }

  private Change put(String key, String value, long hlc) {
    return Change.put("users", codec.encode(key), codec.encode(value), hlc, 7, Change.ETERNAL);
  }

  @Test
  void aCopyIsHiddenFromReplicationUntilAdmitted() {
    Cache<String, String> first = manager.createCache("users", new MutableConfiguration<>());
    assertThat(bridge.cacheNames()).isEmpty();
    assertThat(bridge.copyOf("users")).isNull();
    assertThat(bridge.apply(put("k", "v1", 1L << 16))).isEqualTo(ApplyResult.NO_SUCH_CACHE);
    assertThat(bridge.snapshot("users").hasNext()).isFalse();

    bridge.admit("users");
    assertThat(bridge.cacheNames()).containsExactly("users");
    assertThat(bridge.apply(put("k", "v1", 2L << 16))).isEqualTo(ApplyResult.APPLIED);
    assertThat(first.get("k")).isEqualTo("v1");
    Object admitted = bridge.copyOf("users");

    first.close(); // closed and created again: the new copy is not the admitted one
    Cache<String, String> second = manager.createCache("users", new MutableConfiguration<>());
    assertThat(bridge.cacheNames()).isEmpty();
    assertThat(bridge.apply(put("k", "v2", 3L << 16))).isEqualTo(ApplyResult.NO_SUCH_CACHE);
    assertThat(second.get("k")).isNull();

    bridge.admit("users");
    assertThat(bridge.copyOf("users")).isNotNull().isNotSameAs(admitted);
    assertThat(bridge.apply(put("k", "v2", 4L << 16))).isEqualTo(ApplyResult.APPLIED);
    assertThat(second.get("k")).isEqualTo("v2");
  }
}
