package io.bcache.integration.hibernate;

import jakarta.persistence.EmbeddedId;
import jakarta.persistence.Entity;
import org.hibernate.annotations.Cache;
import org.hibernate.annotations.CacheConcurrencyStrategy;

/** Cached READ_WRITE under a composite id of the user's own type. */
@Entity
@Cache(usage = CacheConcurrencyStrategy.READ_WRITE)
public class Edition {

  @EmbeddedId
  private EditionId id;

  private int printRun;

  protected Edition() {
  }

  public Edition(EditionId id, int printRun) {
    this.id = id;
    this.printRun = printRun;
  }

  public EditionId getId() {
    return id;
  }

  public int getPrintRun() {
    return printRun;
  }

  public void setPrintRun(int printRun) {
    this.printRun = printRun;
  }
}
