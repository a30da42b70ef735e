package io.bcache.jcache.integration;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Runs at most one load per key at a time: threads that miss a key while its load is in
 * flight wait for that load and share its result, value or exception. This is bcache's
 * {@code GetWithFiller}, behind the standard read-through API.
 *
 * <p>The load runs on the first missing thread, outside any store lock, so loads of
 * different keys proceed in parallel. A thread that misses a key again while it is loading
 * it itself (its loader, or a synchronous listener the load fires, reads the cache) loads it
 * again instead of waiting for itself.
 */
public final class LoadCoordinator {

  /** A load in flight, and the thread running it. */
  private static final class Load extends CompletableFuture<Object> {
    final Thread loader = Thread.currentThread();

    boolean isMine() {
      return loader == Thread.currentThread();
    }
  }

  private final ConcurrentHashMap<Object, Load> inFlight = new ConcurrentHashMap<>();

  /**
   * Returns the result of {@code load} for {@code key}, running it only if no load of the key
   * is already in flight; otherwise waits for that one.
   *
   * @param load runs the load and stores its result; it should first check again whether
   *     the key arrived meanwhile, since a load that finished just before this call is no
   *     longer in flight
   * @throws RuntimeException whatever the shared load threw
   */
  public Object load(Object key, Supplier<Object> load) {
    Load mine = new Load();
    Load running = inFlight.putIfAbsent(key, mine);
    if (running != null) {
      return running.isMine() ? load.get() : await(running);
    }
    try {
      Object result = load.get();
      mine.complete(result);
      return result;
    } catch (RuntimeException | Error e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      inFlight.remove(key, mine);
    }
  }

  /**
   * Loads several keys with one call of {@code loadAll} for those no other thread is loading,
   * and waits for the loads in flight of the others; returns each key's result (absent keys map
   * to {@code null}), plus whatever else {@code loadAll} returned. A load never waits for
   * another, so two threads whose key sets overlap both finish.
   *
   * @param loadAll runs the load of the keys given and stores its results; like {@link #load}'s
   *     function it should first check again whether a key arrived meanwhile
   * @param ownLoadsShared runs once the threads waiting for this thread's loads have their
   *     results (even if {@code loadAll} threw), before this thread waits for the others' loads:
   *     what must follow this thread's loads without waiting for anyone else's
   * @throws RuntimeException what {@code loadAll}, {@code ownLoadsShared} or a shared load of one
   *     of the keys threw
   */
  public Map<Object, Object> loadAll(Collection<?> keys, Function<Set<Object>, Map<Object, Object>> loadAll,
      Runnable ownLoadsShared) {
    Map<Object, Load> mine = new HashMap<>();
    Map<Object, Load> running = new HashMap<>();
    Set<Object> toLoad = new HashSet<>(); // mine, and those this thread is loading already
    for (Object key : keys) {
      if (toLoad.contains(key) || running.containsKey(key)) {
        continue;
      }
      Load claim = new Load();
      Load other = inFlight.putIfAbsent(key, claim);
      if (other == null) {
        mine.put(key, claim);
        toLoad.add(key);
      } else if (other.isMine()) {
        toLoad.add(key);
      } else {
        running.put(key, other);
      }
    }
    Map<Object, Object> results = null;
    Throwable failure = null;
    try {
      results = toLoad.isEmpty() ? new HashMap<>() : new HashMap<>(loadAll.apply(toLoad));
      Map<Object, Object> loaded = results;
      mine.forEach((key, claim) -> claim.complete(loaded.get(key)));
    } catch (RuntimeException | Error e) {
      mine.values().forEach(claim -> claim.completeExceptionally(e));
      failure = e;
    } finally {
      mine.forEach(inFlight::remove);
    }
    try {
      ownLoadsShared.run();
    } catch (RuntimeException | Error e) {
      if (failure == null) {
        failure = e;
      } else {
        failure.addSuppressed(e);
      }
    }
    if (failure != null) {
      throw rethrow(failure);
    }
    Map<Object, Object> all = results;
    running.forEach((key, other) -> all.put(key, await(other)));
    return all;
  }

  private static Object await(Load running) {
    boolean interrupted = false;
    try {
      for (;;) {
        try {
          return running.get();
        } catch (InterruptedException e) {
          interrupted = true; // a waiter's result must not depend on being interrupted
        } catch (ExecutionException e) {
          throw rethrow(e.getCause());
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static RuntimeException rethrow(Throwable cause) {
    if (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof RuntimeException) {
      throw (RuntimeException) cause;
    }
    if (cause instanceof Error) {
      throw (Error) cause;
    }
    throw new IllegalStateException(cause);
  }
}
