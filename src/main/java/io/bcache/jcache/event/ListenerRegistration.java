package io.bcache.jcache.event;

import io.bcache.jcache.Closeables;
import java.util.List;
import java.util.concurrent.Executor;
import javax.cache.configuration.CacheEntryListenerConfiguration;
import javax.cache.configuration.Factory;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEventFilter;
import javax.cache.event.CacheEntryExpiredListener;
import javax.cache.event.CacheEntryListener;
import javax.cache.event.CacheEntryListenerException;
import javax.cache.event.CacheEntryRemovedListener;
import javax.cache.event.CacheEntryUpdatedListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One registered listener: its configuration, the listener and filter it made, and how to call them. */
final class ListenerRegistration<K, V> {

  private static final Logger LOG = LoggerFactory.getLogger(ListenerRegistration.class);

  private final CacheEntryListenerConfiguration<K, V> configuration;
  private final CacheEntryListener<? super K, ? super V> listener;
  private final CacheEntryEventFilter<? super K, ? super V> filter;
  private final SerialExecutor asyncExecutor;
  /** Where changes from peers reach this listener: the asynchronous queue, or one of their own. */
  private final SerialExecutor remoteExecutor;

  @SuppressWarnings("unchecked")
  ListenerRegistration(CacheEntryListenerConfiguration<K, V> configuration, Executor executor) {
    this.configuration = configuration;
    this.listener = configuration.getCacheEntryListenerFactory().create();
    Factory<CacheEntryEventFilter<? super K, ? super V>> filterFactory =
        configuration.getCacheEntryEventFilterFactory();
    this.filter = filterFactory == null ? null : filterFactory.create();
    this.asyncExecutor = configuration.isSynchronous() ? null : new SerialExecutor(executor);
    this.remoteExecutor = asyncExecutor != null ? asyncExecutor : new SerialExecutor(executor);
  }

  CacheEntryListenerConfiguration<K, V> configuration() {
    return configuration;
  }

  boolean isSynchronous() {
    return asyncExecutor == null;
  }

  /** Delivers the events this listener wants, in order; synchronous listeners on this thread. */
  void deliver(List<BCacheEntryEvent<K, V>> events) {
    if (asyncExecutor == null) {
      for (BCacheEntryEvent<K, V> event : events) {
        deliver(event);
      }
    } else {
      deliverOn(asyncExecutor, events);
    }
  }

  /**
   * Delivers events of changes made on other nodes, in order, on this listener's own queue
   * whether it is synchronous or not: no operation waits for them here, and the thread that
   * applies peers' changes never runs application code. A failure is logged.
   */
  void deliverRemote(List<BCacheEntryEvent<K, V>> events) {
    deliverOn(remoteExecutor, events);
  }

  private void deliverOn(SerialExecutor executor, List<BCacheEntryEvent<K, V>> events) {
    executor.execute(() -> {
      for (BCacheEntryEvent<K, V> event : events) {
        try {
          deliver(event);
        } catch (RuntimeException e) {
          LOG.warn("listener {} failed on {}", listener, event, e);
        }
      }
    });
  }

  /** Waits until every event handed over to a queue so far has been delivered. */
  void awaitQuiescence() {
    remoteExecutor.awaitIdle(); // the asynchronous queue, or the remote events' own
  }

  @SuppressWarnings("unchecked")
  private void deliver(BCacheEntryEvent<K, V> event) {
    if (!wants(event)) {
      return;
    }
    try {
      if (filter != null && !filter.evaluate(event)) {
        return;
      }
      List<BCacheEntryEvent<K, V>> one = List.of(event);
      switch (event.getEventType()) {
        case CREATED:
          ((CacheEntryCreatedListener<K, V>) listener).onCreated((Iterable) one);
          break;
        case UPDATED:
          ((CacheEntryUpdatedListener<K, V>) listener).onUpdated((Iterable) one);
          break;
        case REMOVED:
          ((CacheEntryRemovedListener<K, V>) listener).onRemoved((Iterable) one);
          break;
        case EXPIRED:
          ((CacheEntryExpiredListener<K, V>) listener).onExpired((Iterable) one);
          break;
        default:
          throw new IllegalStateException("unknown event type " + event.getEventType());
      }
    } catch (CacheEntryListenerException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new CacheEntryListenerException(e);
    }
  }

  private boolean wants(BCacheEntryEvent<K, V> event) {
    switch (event.getEventType()) {
      case CREATED:
        return listener instanceof CacheEntryCreatedListener;
      case UPDATED:
        return listener instanceof CacheEntryUpdatedListener;
      case REMOVED:
        return listener instanceof CacheEntryRemovedListener;
      case EXPIRED:
        return listener instanceof CacheEntryExpiredListener;
      default:
        return false;
    }
  }

  void close() {
    Closeables.closeQuietly(listener);
    Closeables.closeQuietly(filter);
  }

}
