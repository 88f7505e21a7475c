/*
 * migrations.h - the numbered schema steps, one list for every backend.
 *
 * A step is applied once, in order, inside one transaction, and recorded in
 * the table schema_migrations. Steps are never edited once released: a
 * change to the schema is a new step.
 */
#ifndef SARGS_MIGRATIONS_H
#define SARGS_MIGRATIONS_H

struct sg_migration {
    int version;
    const char *name;
    const char *sqlite; /* statements for SQLite */
};

extern const struct sg_migration sg_migrations[];
extern const int sg_migrations_count;

#endif
