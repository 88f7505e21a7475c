/*
 * outbox_int.h - what the rest of the library uses to queue messages
 * (internal).
 */
#ifndef SARGS_OUTBOX_INT_H
#define SARGS_OUTBOX_INT_H

#include "sargs/outbox.h"

#include "../vault/vault_int.h"

#define SG_OUTBOX_FIELD "sargs.outbox.message"

/* The longest one send may take (transport.c bounds SMTP to 60 s), with a
 * margin: a worker starts no send that could end after its claim. */
#define SG_TRANSPORT_SEND_SECONDS 60L
#define SG_TRANSPORT_MAX_USEC     (INT64_C(75) * SG_USEC_PER_SEC)

/*
 * Queues a message to person `id`, whose data key is loaded (v->dek, key
 * version `kv`), inside the caller's operation: it is written with the
 * change that causes it or not at all. `kind` names it in lists (a
 * template id). `out` (may be NULL) receives its id.
 */
enum sg_rc sg_outbox_queue(struct sg_vault *v, const struct sg_uuid *id, uint32_t kv,
                           const char *kind, const char *to, const char *subject, const char *body,
                           sg_time now, struct sg_uuid *out, struct sg_err *err);

/*
 * Queues a message that must outlive the person's key: an Art. 19 notice
 * to a recipient, the answer to an erasure. It is sealed under a data key
 * of its own, wrapped under the master key (a rotation keeps the old one
 * in `retired`, so a queued message still opens), inside the caller's
 * operation. `about` (may be NULL) is the person it concerns: a later
 * erasure of that person takes it with their other messages, so one that
 * announces the erasure is queued after it. Its content is wiped once it
 * is sent or given up (as every message's is).
 */
enum sg_rc sg_outbox_queue_apart(struct sg_vault *v, const struct sg_uuid *about, const char *kind,
                                 const char *to, const char *subject, const char *body, sg_time now,
                                 struct sg_uuid *out, struct sg_err *err);

/* The RFC 5322 text of a message (malloc'd): headers, base64 body. */
char *sg_mail_format(const struct sg_mail *m, size_t *len);

#endif
