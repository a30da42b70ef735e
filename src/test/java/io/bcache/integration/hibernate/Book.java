package io.bcache.integration.hibernate;

import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.FetchType;
import jakarta.persistence.Id;
import jakarta.persistence.ManyToOne;
import org.hibernate.annotations.Cache;
import org.hibernate.annotations.CacheConcurrencyStrategy;
import org.hibernate.annotations.NaturalId;
import org.hibernate.annotations.NaturalIdCache;

/** Cached NONSTRICT_READ_WRITE, with a cached natural id. */
@Entity
@Cache(usage = CacheConcurrencyStrategy.NONSTRICT_READ_WRITE)
@NaturalIdCache
public class Book {

  @Id
  private Long id;

  @NaturalId
  private String isbn;

  private String title;

  @Enumerated(EnumType.STRING)
  private Genre genre;

  @ManyToOne(fetch = FetchType.LAZY)
  private Author author;

  protected Book() {
  }

  public Book(Long id, String isbn, String title, Genre genre, Author author) {
    this.id = id;
    this.isbn = isbn;
    this.title = title;
    this.genre = genre;
    this.author = author;
  }

  public Long getId() {
    return id;
  }

  public String getIsbn() {
    return isbn;
  }

  public String getTitle() {
    return title;
  }

  public void setTitle(String title) {
    this.title = title;
  }

  public Genre getGenre() {
    return genre;
  }

  public Author getAuthor() {
    return author;
  }
}
