/*
 * migrations.h - the numbered schema steps, one list for every backend.
 *
 * A step is applied once, in order, inside one transaction, and recorded in
 * the table schema_migrations. Steps are never edited once released: a
 * change to the schema is a new step. Every step has a text for each
 * backend, and both describe the same tables and columns, so that a database
 * can move between the backends (backup on one, restore on the other).
 */
#ifndef SARGS_MIGRATIONS_H
#define SARGS_MIGRATIONS_H

struct sg_migration {
    int version;
    const char *name;
    const char *sqlite;   /* statements for SQLite */
    const char *postgres; /* the same schema for PostgreSQL */
};

extern const struct sg_migration sg_migrations[];
extern const int sg_migrations_count;

/*
 * The tables of the current schema (SG_SCHEMA_VERSION) and their columns,
 * for copying a whole database from one backend to the other (a PostgreSQL
 * backup is a SQLite file of the same schema, see pg.c). A step that changes
 * a table changes its entry here too. Column types:
 *   'i' integer (SQLite INTEGER, PostgreSQL integer or bigint)
 *   't' text
 *   'b' bytes (BLOB, bytea)
 *   'u' an id (a 16-byte BLOB in SQLite, uuid in PostgreSQL)
 * `serial` names the column numbered by the database, if any. `keep` says
 * what a restore does with the table (see store.h).
 */
enum sg_table_keep {
    SG_KEEP_NONE,  /* replaced by the backup's */
    SG_KEEP_AUDIT, /* the audit log: its tables (and the archive mark in meta)
                    * are kept together when the live log has an entry */
    SG_KEEP_OWN,   /* kept when the live table has a row (policy versions,
                    * API tokens) */
};

struct sg_table {
    const char *name;
    const char *columns; /* "a, b, c" */
    const char *types;   /* one letter per column */
    const char *serial;
    enum sg_table_keep keep;
};

extern const struct sg_table sg_tables[];
extern const int sg_tables_count;

#endif
