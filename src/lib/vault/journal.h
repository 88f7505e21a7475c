/*
 * journal.h - the erasure journal (internal to the vault).
 *
 * A text file kept with the keys, not with the data: one line per erasure,
 * appended and synced before the erasure commits. A restore re-applies every
 * line, so a person erased after a backup never comes back from it. A line
 * carries its own checksum; a torn last line (a crash while writing, before
 * the erasure could commit) is ignored, damage anywhere else is an error.
 *
 *     # sargs erasure journal of vault <vault id>
 *     E 2026-11-23T16:50:45Z 01890a5d-ac96-774b-bcce-b302099a8057 3fa2b1c4d5e6f708
 *
 * Kinds: E erased; A anonymised (shredded too, a statistical remainder kept
 * apart); C cancelled (the erasure's transaction failed after its line was
 * written, so the line must not be applied).
 */
#ifndef SARGS_JOURNAL_H
#define SARGS_JOURNAL_H

#include <stddef.h>

#include "sargs/clock.h"
#include "sargs/err.h"
#include "sargs/uuid.h"

struct sg_journal_entry {
    char kind; /* 'E', 'A' or 'C' */
    sg_time at;
    struct sg_uuid id;
};

/* Creates the journal with its header line if it does not exist. */
enum sg_rc sg_journal_create(const char *path, const char *vault_id, struct sg_err *err);

/* Appends entries and syncs the file once for all of them. */
enum sg_rc sg_journal_append(const char *path, const struct sg_journal_entry *e, size_t n,
                             struct sg_err *err);

/*
 * Calls `cb` for each entry in order. `vault_id` receives the id from the
 * header (37 bytes) when not NULL. SG_NOTFOUND when the file is missing,
 * SG_CRYPTO when a line (other than a torn last one) is damaged.
 */
enum sg_rc sg_journal_read(const char *path, char vault_id[37],
                           int (*cb)(void *ctx, const struct sg_journal_entry *e), void *ctx,
                           struct sg_err *err);

#endif
