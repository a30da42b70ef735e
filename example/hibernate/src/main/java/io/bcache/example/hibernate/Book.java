package io.bcache.example.hibernate;

import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Version;
import org.hibernate.annotations.Cache;
import org.hibernate.annotations.CacheConcurrencyStrategy;

/** A book, cached READ_WRITE: after an update every node serves the new state from its cache. */
@Entity
@Cache(usage = CacheConcurrencyStrategy.READ_WRITE)
public class Book {

    @Id
    private Long id;

    @Version
    private int version;

    private String title;

    @Enumerated(EnumType.STRING)
    private Format format;

    protected Book() {
    }

    public Book(Long id, String title, Format format) {
        this.id = id;
        this.title = title;
        this.format = format;
    }

    public Long getId() {
        return id;
    }

    public String getTitle() {
        return title;
    }

    public void setTitle(String title) {
        this.title = title;
    }

    public Format getFormat() {
        return format;
    }
}
