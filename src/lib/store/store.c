/*
 * store.c - picks the backend for a store address.
 */
#include "store.h"

#include <string.h>

enum sg_rc sg_store_open(const char *uri, int flags, struct sg_store **out, struct sg_err *err)
{
    if (!uri || !*uri)
        return sg_err_set(err, SG_INVALID, "empty store address");
    if (strncmp(uri, "sqlite:", 7) == 0)
        return sg_store_sqlite.open(uri + 7, flags, out, err);
    if (strncmp(uri, "postgres://", 11) == 0 || strncmp(uri, "postgresql://", 13) == 0)
        return sg_store_postgres.open(uri, flags, out, err);
    if (strstr(uri, "://"))
        return sg_err_set(err, SG_INVALID,
                          "unsupported store address scheme (expected a path, sqlite:PATH or "
                          "postgres://...)");
    return sg_store_sqlite.open(uri, flags, out, err);
}
