package io.bcache.jcache.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.lang.management.LockInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class KeyTurnsTest {

  private final KeyTurns turns = new KeyTurns();

  @Test
  void aTurnWaitsForTheKeysEarlierTurnToEnd() throws Exception {
    KeyTurns.Turn first = turns.take("k");
    KeyTurns.Turn second = turns.take("k");
    Thread[] waiter = new Thread[1];
    CompletableFuture<Void> secondDelivered = CompletableFuture.runAsync(() -> {
      waiter[0] = Thread.currentThread();
      second.awaitPrevious();
    });
    await().atMost(Duration.ofSeconds(30))
        .until(() -> waiter[0] != null && waiter[0].getState() == Thread.State.TIMED_WAITING);
    assertThat(secondDelivered).isNotDone();

    first.end();
    secondDelivered.get(30, TimeUnit.SECONDS);
    second.end();
    assertThat(turns.isEmpty()).isTrue();
  }

  @Test
  void anotherKeysTurnDoesNotWait() {
    turns.take("k");
    KeyTurns.Turn other = turns.take("other");
    other.awaitPrevious(); // returns at once: nothing of its key came before it
    other.end();
  }

  @Test
  void aTurnThatEndedWithoutWaitingStillHoldsBackTheTurnsAfterIt() throws Exception {
    KeyTurns.Turn first = turns.take("k");
    KeyTurns.Turn nested = turns.take("k");
    nested.end(); // a listener's own write: delivered at once, ahead of the first
    assertThat(turns.isEmpty()).as("the first turn is still under way").isFalse();
    KeyTurns.Turn third = turns.take("k");
    CompletableFuture<Void> thirdDelivered = CompletableFuture.runAsync(third::awaitPrevious);

    first.end();
    thirdDelivered.get(30, TimeUnit.SECONDS);
    third.end();
    assertThat(turns.isEmpty()).isTrue();
  }

  @Test
  void aTurnGivenUpOnIsGivenUpByEveryWaiterSoTheLaterOnesKeepTheirOrder() throws Exception {
    KeyTurns.Turn stuck = takeOnAnotherThread("k");
    KeyTurns.Turn second = takeOnAnotherThread("k");
    KeyTurns.Turn third = turns.take("k");
    List<String> delivered = new CopyOnWriteArrayList<>();
    Thread[] secondThread = new Thread[1];
    CompletableFuture<Void> secondDelivered = CompletableFuture.runAsync(() -> {
      secondThread[0] = Thread.currentThread();
      second.awaitPrevious(TimeUnit.MINUTES.toNanos(1));
      delivered.add("second");
      second.end();
    });
    await().atMost(Duration.ofSeconds(30))
        .until(() -> secondThread[0] != null && waitsOn(secondThread[0], stuck));
    // the third gives up on the stuck turn first: the second then goes (its wake-up well within
    // the bound, which the third then waits for it), and the third after it
    third.awaitPrevious(TimeUnit.SECONDS.toNanos(2));
    delivered.add("third");
    third.end();
    secondDelivered.get(30, TimeUnit.SECONDS);

    assertThat(delivered).containsExactly("second", "third");
    stuck.end();
    assertThat(turns.isEmpty()).isTrue();
  }

  @Test
  void aThreadNeverWaitsForATurnItTookItself() throws Exception {
    KeyTurns.Turn readied = turns.take("k");
    KeyTurns.Turn notReadied = turns.take("k");
    KeyTurns.Turn later = turns.take("k");
    List<String> delivered = new CopyOnWriteArrayList<>();
    readied.prepare(() -> delivered.add("readied"));

    later.awaitPrevious(); // delivers the readied one first, passes the other: waits for neither
    assertThat(delivered).containsExactly("readied");
    assertThat(readied.claim()).as("delivered already").isFalse();
    later.end();

    // the one passed still holds back another thread's later turn
    assertThat(turns.isEmpty()).isFalse();
    Thread[] otherThread = new Thread[1];
    CompletableFuture<Void> other = CompletableFuture.runAsync(() -> {
      otherThread[0] = Thread.currentThread();
      KeyTurns.Turn turn = turns.take("k");
      turn.awaitPrevious();
      turn.end();
    });
    await().atMost(Duration.ofSeconds(30))
        .until(() -> otherThread[0] != null && waitsOn(otherThread[0], notReadied));
    notReadied.end();
    other.get(30, TimeUnit.SECONDS);
    assertThat(turns.isEmpty()).isTrue();
  }

  /** A turn taken by a thread that is not the one the test waits on. */
  private KeyTurns.Turn takeOnAnotherThread(String key) throws Exception {
    CompletableFuture<KeyTurns.Turn> taken = new CompletableFuture<>();
    Thread taker = new Thread(() -> taken.complete(turns.take(key)));
    taker.start();
    taker.join();
    return taken.get();
  }

  private static boolean waitsOn(Thread thread, Object monitor) {
    ThreadInfo info = ManagementFactory.getThreadMXBean().getThreadInfo(thread.getId());
    LockInfo lock = info == null ? null : info.getLockInfo();
    return lock != null && lock.getIdentityHashCode() == System.identityHashCode(monitor)
        && info.getThreadState() == Thread.State.TIMED_WAITING;
  }

  @Test
  void aTurnGivesUpOnAnEarlierOneThatDoesNotEndAndLaterOnesDoNotWaitForItAgain() throws Exception {
    KeyTurns.Turn stuck = takeOnAnotherThread("k");
    KeyTurns.Turn second = turns.take("k");
    KeyTurns.Turn third = turns.take("k");
    second.awaitPrevious(TimeUnit.MILLISECONDS.toNanos(50)); // returns after the bound, logged
    second.end();
    // were it to wait for the stuck turn too, it would wait ten seconds
    CompletableFuture.runAsync(third::awaitPrevious).get(5, TimeUnit.SECONDS);
    third.end();
    stuck.end();
    assertThat(turns.isEmpty()).isTrue();
  }
}
