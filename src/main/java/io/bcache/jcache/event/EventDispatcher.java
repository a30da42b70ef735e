package io.bcache.jcache.event;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import javax.cache.configuration.CacheEntryListenerConfiguration;
import javax.cache.event.CacheEntryListenerException;

/**
 * Holds a cache's listener registrations and delivers entry events to them: synchronous
 * listeners on the operation's thread before it returns; asynchronous ones, and every listener
 * for changes from peers, later, one at a time on a shared executor, in the order the
 * operations of each key took effect.
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
   * Takes an operation's place in the queue of every listener that hears about it later: the
   * asynchronous ones, and, for a change from a peer ({@code remote}), the synchronous ones too.
   * Called while the operation holds its key's lock, so that each of them hears the operations
   * of one key in the order they took effect. The places must then be given to
   * {@link #dispatch} or {@link #dispatchRemote}, events or not, or that listener's later
   * deliveries wait for them for good.
   *
   * @return the places, or {@code null} if no listener is registered
   */
  public Places reserve(boolean remote) {
    if (!hasListeners) {
      return null;
    }
    Object[] listeners = registrations.toArray();
    EventQueue.Place[] places = new EventQueue.Place[listeners.length];
    for (int i = 0; i < listeners.length; i++) {
      ListenerRegistration<?, ?> registration = (ListenerRegistration<?, ?>) listeners[i];
      if (remote || !registration.isSynchronous()) {
        places[i] = registration.take();
      }
    }
    return new Places(listeners, places);
  }

  /**
   * Delivers the events of an operation made on this node ({@code null} or empty: none): to the
   * places it took, and to the synchronous listeners on this thread before this returns.
   *
   * @throws CacheEntryListenerException if a synchronous listener or filter failed; every
   *     other listener has still been given the events
   */
  public void dispatch(Places reserved, List<BCacheEntryEvent<K, V>> events) {
    if (reserved == null) {
      return;
    }
    fill(reserved, events); // first: a synchronous listener that closes the cache waits for the queues
    if (events == null || events.isEmpty()) {
      return;
    }
    Throwable failure = null;
    for (int i = 0; i < reserved.places.length; i++) {
      if (reserved.places[i] != null) {
        continue;
      }
      try {
        registration(reserved.listeners, i).deliverNow(events);
      } catch (RuntimeException | Error e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure instanceof Error error) {
      throw error;
    }
    if (failure != null) {
      throw (RuntimeException) failure;
    }
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

  /** Gives every place the operation took its events. */
  private void fill(Places reserved, List<BCacheEntryEvent<K, V>> events) {
    for (int i = 0; i < reserved.places.length; i++) {
      if (reserved.places[i] != null) {
        registration(reserved.listeners, i).fill(reserved.places[i], events);
      }
    }
  }

  @SuppressWarnings("unchecked")
  private ListenerRegistration<K, V> registration(Object[] listeners, int i) {
    return (ListenerRegistration<K, V>) listeners[i];
  }

  /** The places one operation took in the listeners' queues, for its events. */
  public static final class Places {
    private final Object[] listeners;
    /** By listener; {@code null} for a synchronous listener of an operation made here. */
    private final EventQueue.Place[] places;

    private Places(Object[] listeners, EventQueue.Place[] places) {
      this.listeners = listeners;
      this.places = places;
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
