package io.bcache.integration.hibernate;

import jakarta.persistence.Embeddable;
import java.io.Serializable;
import java.util.Objects;

/** A user composite id, for {@link Edition}. */
@Embeddable
public class EditionId implements Serializable {

  private static final long serialVersionUID = 1L;

  private String isbn;
  private int number;

  protected EditionId() {
  }

  public EditionId(String isbn, int number) {
    this.isbn = isbn;
    this.number = number;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EditionId && ((EditionId) o).isbn.equals(isbn) && ((EditionId) o).number == number;
  }

  @Override
  public int hashCode() {
    return Objects.hash(isbn, number);
  }
}
