/* lib/ww_sql.h - the schema and migrations of sql/, compiled in by mk/embed-sql.sh (internal
 * to lib/ww_store.c and its test). */
#ifndef WW_SQL_H
#define WW_SQL_H

#include <stddef.h>

struct ww_sql_migration {
    int version;      /* the database is at <version> once <sql> has run */
    const char *file; /* "sql/schema.sql", "sql/002_<what>.sql", ... for messages */
    const char *sql;
};

/* Versions 1, 2, ... ww_sql_migrations_count, in order. */
extern const struct ww_sql_migration ww_sql_migrations[];
extern const size_t ww_sql_migrations_count;

#endif
