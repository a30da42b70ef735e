package io.bcache.jcache.event;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import javax.cache.configuration.CacheEntryListenerConfiguration;
import javax.cache.event.CacheEntryListenerException;

/**
 * Holds a cache's listener registrations and delivers entry events to them: synchronous
 * listeners on the operation's thread before it returns; asynchronous ones, and every listener
 * for changes from peers, later, one at a time on a shared executor. Either way a listener hears
 * the operations of each key in the order they took effect.
 */
public final class EventDispatcher<K, V> {

  private final CopyOnWriteArrayList<ListenerRegistration<K, V>> registrations = new CopyOnWriteArrayList<>();
  private final Executor asyncExecutor;
  private volatile boolean hasListeners;

  public EventDispatcher(Executor asyncExecutor) {
    this.asyncExecutor = asyncExecutor;
  }

  /** Whether any listener is registered; operations skip building events when none is. */
  public boolean hasListeners() {
    return hasListeners;
  }

  /**
   * Registers a listener.
   *
   * @throws IllegalArgumentException if an equal configuration is already registered
   */
  public synchronized void register(CacheEntryListenerConfiguration<K, V> configuration) {
    for (ListenerRegistration<K, V> registration : registrations) {
      if (registration.configuration().equals(configuration)) {
        throw new IllegalArgumentException("listener configuration already registered: " + configuration);
      }
    }
    registrations.add(new ListenerRegistration<>(configuration, asyncExecutor));
    hasListeners = true;
  }

  /** Removes a listener; returns whether it was registered. */
  public synchronized boolean deregister(CacheEntryListenerConfiguration<K, V> configuration) {
    for (ListenerRegistration<K, V> registration : registrations) {
      if (registration.configuration().equals(configuration)) {
        registrations.remove(registration);
        registration.close();
        hasListeners = !registrations.isEmpty();
        return true;
      }
    }
    return false;
  }

  /**
   * Takes an operation's place in the order each listener hears the events of {@code key} (the
   * key as stored; {@code null} when the operation maps nothing and fires nothing): for a
   * synchronous listener of an operation made here, a turn among the key's deliveries on the
   * writing threads; for any other listener (asynchronous ones, and every listener for a change
   * from a peer, {@code remote}), a place in its queue. Called while the operation holds its
   * key's lock, so that each listener hears the operations of one key in the order they took
   * effect. The places must then be given to {@link #dispatch},
   * {@link #dispatchRemote} or {@link #release}, or that listener's later deliveries wait for
   * them.
   *
   * @return the places, or {@code null} if no listener is registered
   */
  public Places reserve(boolean remote, Object key) {
    if (!hasListeners) {
      return null;
    }
    Object[] listeners = registrations.toArray();
    Places reserved = new Places(listeners);
    try {
      for (int i = 0; i < listeners.length; i++) {
        ListenerRegistration<?, ?> registration = (ListenerRegistration<?, ?>) listeners[i];
        if (remote || !registration.isSynchronous()) {
          reserved.places[i] = registration.take();
        } else if (key != null) {
          if (reserved.turns == null) {
            reserved.turns = new KeyTurns.Turn[listeners.length];
          }
          reserved.turns[i] = registration.takeTurn(key);
        }
      }
    } catch (RuntimeException | Error e) {
      release(reserved); // what was taken already would hold up those listeners for good
      throw e;
    }
    return reserved;
  }

  /**
   * Delivers the events of an operation made on this node ({@code null} or empty: none): to the
   * places it took, and to the synchronous listeners on this thread before this returns, each
   * once the key's earlier events have reached it.
   *
   * @throws CacheEntryListenerException if a synchronous listener or filter failed; every
   *     other listener has still been given the events
   */
  public void dispatch(Places reserved, List<BCacheEntryEvent<K, V>> events) {
    if (reserved == null) {
      return;
    }
    try {
      fill(reserved, events); // first: a synchronous listener that closes the cache waits for the queues
    } finally {
      deliverInTurns(reserved, events);
    }
  }

  /**
   * Readies an operation's turns with its events ahead of {@link #dispatch}: a write that a
   * synchronous listener makes on the key meanwhile, on this thread, delivers them first. For
   * operations whose deliveries follow one another (a batch of loads).
   */
  public void prepare(Places reserved, List<BCacheEntryEvent<K, V>> events) {
    if (reserved == null || reserved.turns == null) {
      return;
    }
    for (int i = 0; i < reserved.turns.length; i++) {
      if (reserved.turns[i] != null) {
        registration(reserved.listeners, i).prepareTurn(reserved.turns[i], events);
      }
    }
  }

  /** Delivers to the synchronous listeners, each in its turn, and ends every turn. */
  private void deliverInTurns(Places reserved, List<BCacheEntryEvent<K, V>> events) {
    if (reserved.turns == null) {
      return;
    }
    prepare(reserved, events);
    Throwable failure = null;
    for (int i = 0; i < reserved.turns.length; i++) {
      if (reserved.turns[i] == null) {
        continue;
      }
      try {
        registration(reserved.listeners, i).deliverInTurn(reserved.turns[i], events);
      } catch (RuntimeException | Error e) {
        failure = firstOf(failure, e);
      }
    }
    rethrow(failure);
  }

  /**
   * Delivers the events of a change made on another node to the places it took, synchronous
   * listeners included, on each listener's queue: never on the calling thread, and never
   * throwing.
   */
  public void dispatchRemote(Places reserved, List<BCacheEntryEvent<K, V>> events) {
    if (reserved != null) {
      fill(reserved, events);
    }
  }

  /** Gives back the places of an operation that failed after taking them: nothing to deliver. */
  public void release(Places reserved) {
    if (reserved == null) {
      return;
    }
    try {
      fill(reserved, null);
    } finally {
      if (reserved.turns != null) {
        for (KeyTurns.Turn turn : reserved.turns) {
          if (turn != null) {
            turn.end();
          }
        }
      }
    }
  }

  /** Gives every place the operation took its events; a failure to start a queue still fills the rest. */
  private void fill(Places reserved, List<BCacheEntryEvent<K, V>> events) {
    Throwable failure = null;
    for (int i = 0; i < reserved.places.length; i++) {
      if (reserved.places[i] != null) {
        try {
          registration(reserved.listeners, i).fill(reserved.places[i], events);
        } catch (RuntimeException | Error e) {
          failure = firstOf(failure, e);
        }
      }
    }
    rethrow(failure);
  }

  /** The first failure of several, the later ones suppressed in it. */
  private static Throwable firstOf(Throwable first, Throwable next) {
    if (first == null) {
      return next;
    }
    first.addSuppressed(next);
    return first;
  }

  private static void rethrow(Throwable failure) {
    if (failure instanceof Error error) {
      throw error;
    }
    if (failure != null) {
      throw (RuntimeException) failure;
    }
  }

  @SuppressWarnings("unchecked")
  private ListenerRegistration<K, V> registration(Object[] listeners, int i) {
    return (ListenerRegistration<K, V>) listeners[i];
  }

  /** The places one operation took in the order the listeners hear its key's events. */
  public static final class Places {
    private final Object[] listeners;
    /** By listener; {@code null} for a synchronous listener of an operation made here. */
    private final EventQueue.Place[] places;
    /** By listener, for a synchronous listener of an operation made here; {@code null} if none. */
    private KeyTurns.Turn[] turns;

    private Places(Object[] listeners) {
      this.listeners = listeners;
      this.places = new EventQueue.Place[listeners.length];
    }
  }

  /** Waits for pending asynchronous deliveries, then closes every listener and filter. */
  public void close() {
    List<ListenerRegistration<K, V>> closing;
    synchronized (this) {
      closing = List.copyOf(registrations);
      registrations.clear();
      hasListeners = false;
    }
    // not under this monitor: a listener that deregisters itself meanwhile would wait for it
    for (ListenerRegistration<K, V> registration : closing) {
      registration.awaitQuiescence();
      registration.close();
    }
  }
}
