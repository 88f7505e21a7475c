/*
 * vault_int.h - what the files of the vault module share (internal).
 */
#ifndef SARGS_VAULT_INT_H
#define SARGS_VAULT_INT_H

#include "sargs/buf.h"
#include "sargs/crypto.h"
#include "sargs/vault.h"

#include "../audit/audit.h"
#include "../store/store.h"
#include "journal.h"

#define SG_VAULT_DB_NAME   "sargs.db"
#define SG_KEYS_DIR        "keys"
#define SG_MASTER_KEY_NAME "master.key"
#define SG_INDEX_KEY_NAME  "index.key"
#define SG_JOURNAL_NAME    "erasures.log"
#define SG_RETIRED_DIR     "retired"

/* meta keys */
#define META_VAULT_ID  "vault_id"
#define META_KEK_ID    "kek_id"
#define META_CREATED   "created"
#define META_BACKUP_AT "backup_taken"

struct sg_vault {
    char *dir;
    char *kek_path;
    char *index_path;
    char *journal_path;
    struct sg_store *store;
    struct sg_key *kek;
    struct sg_key *index_key;
    const struct sg_clock *clock; /* the caller's, or system_clock */
    struct sg_clock system_clock;
    const struct sg_catalog *catalog;
    char vault_id[SG_UUID_STR_LEN + 1];

    struct sg_nonce nonce;
    uint8_t *dek;  /* SG_KEY_BYTES of guarded scratch for one operation */
    uint8_t *seal; /* scratch for sealed values (ciphertext only) */
    size_t seal_cap;

    int explicit_tx;                  /* inside sg_vault_begin() */
    struct sg_journal_entry *pending; /* erasures to journal before commit */
    size_t npending, cap_pending;
};

/* Paths: malloc'd "a/b". */
char *sg_path_join(const char *a, const char *b);

/* The operation's transaction: opens one (or a savepoint inside the caller's
 * group) and ends it with the operation's result; returns that result. */
enum sg_rc sg_op_begin(struct sg_vault *v, size_t *mark, struct sg_err *err);
enum sg_rc sg_op_end(struct sg_vault *v, size_t mark, enum sg_rc rc, struct sg_err *err);

/* Queues an erasure for the journal; written before the transaction commits. */
enum sg_rc sg_op_journal(struct sg_vault *v, char kind, const struct sg_uuid *id,
                         struct sg_err *err);

/* Scratch space for one sealed value of `len` plaintext bytes. */
uint8_t *sg_vault_seal_buf(struct sg_vault *v, size_t len, struct sg_err *err);

/* Loads the subject's row and unwraps its data key into v->dek. SG_NOTFOUND
 * when absent or erased (so say the message), SG_CONFLICT when anonymised. */
enum sg_rc sg_vault_load_subject(struct sg_vault *v, const struct sg_uuid *id,
                                 struct sg_store_subject *row, int need_key, struct sg_err *err);

/* Re-wraps every data key sealed under `from` with `to` (inside a transaction). */
enum sg_rc sg_vault_rewrap_all(struct sg_store *store, const struct sg_key *from,
                               const struct sg_key *to, size_t *count, struct sg_err *err);

/* Creates a directory with mode 0700 if it does not exist. */
enum sg_rc sg_mkdir_private(const char *path, struct sg_err *err);

/* fsyncs a directory so that a rename or a new file in it is durable. */
void sg_sync_dir(const char *path);

#endif
