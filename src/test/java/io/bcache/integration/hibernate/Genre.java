package io.bcache.integration.hibernate;

/** A user enum kept in the cached state of {@link Book}. */
public enum Genre {
  NOVEL, POETRY, ESSAY
}
