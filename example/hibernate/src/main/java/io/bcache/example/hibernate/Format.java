package io.bcache.example.hibernate;

/** How a book is printed: an enum, so the cached state holds a class of this package. */
public enum Format {
    HARDCOVER, PAPERBACK
}
