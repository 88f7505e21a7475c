/*
 * sargs/outbox.h - messages to people that are never lost.
 *
 * A message (a retention notice, an answer to a request, a sign-in code) is
 * written into the outbox in the same transaction as the change that causes
 * it, sealed under the person's key (an erasure takes undelivered messages
 * with it). A worker then delivers it through a transport, with retries and
 * backoff; several workers (processes, nodes) claim messages with a lease,
 * so none is sent by two. Each message has a stable id, its Message-ID
 * <ID@VAULT.sargs>, so that a message sent again after a crash between
 * sending and recording is recognisable as the same one.
 */
#ifndef SARGS_OUTBOX_H
#define SARGS_OUTBOX_H

#include "sargs/clock.h"
#include "sargs/err.h"
#include "sargs/uuid.h"
#include "sargs/vault.h"

enum sg_message_state {
    SG_MSG_QUEUED = 0,
    SG_MSG_SENT,
    SG_MSG_FAILED,  /* gave up after SG_OUTBOX_MAX_ATTEMPTS; the reason is kept */
    SG_MSG_DROPPED, /* the person was erased or anonymised before delivery */
};

#define SG_OUTBOX_MAX_ATTEMPTS 10

/* "queued", "sent", "failed", "dropped"; parse returns -1 when unknown. */
const char *sg_message_state_name(int state);
int sg_message_state_parse(const char *s);

struct sg_message_info {
    struct sg_uuid id;
    int has_subject;
    struct sg_uuid subject;
    const char *kind; /* the template (or "code", ...) */
    sg_time created, next_attempt, sent;
    int state, attempts;
    const char *error; /* the last delivery error, or NULL */
};

/* Lists messages, of one state or all (state -1), oldest first; no content
 * (that is sealed), only what delivery needs to be followed. For the
 * operator and staff roles (SG_DENIED otherwise). */
enum sg_rc sg_outbox_list(struct sg_vault *v, const struct sg_actor *who, int state,
                          int (*cb)(void *ctx, const struct sg_message_info *m), void *ctx,
                          struct sg_err *err);

/* A message as a transport receives it (all NUL-terminated). */
struct sg_mail {
    const char *id;      /* "<uuid>@<vault id>.sargs" */
    const char *from;    /* the sender address */
    const char *to;      /* the person's address */
    const char *subject; /* one line, UTF-8 */
    const char *body;    /* UTF-8 */
    sg_time date;
};

/*
 * A way to deliver: "maildir:DIR" (each message a file in DIR/new, named by
 * its id, written through DIR/tmp; for development and tests) or
 * "smtp://HOST[:PORT]" / "smtps://HOST[:PORT]" (libcurl; STARTTLS when the
 * server offers it, required with "smtp+starttls://"; user and password from
 * SARGS_SMTP_USER / SARGS_SMTP_PASSWORD, never from the URI, which is
 * logged). `from` is the sender address.
 */
struct sg_transport;
enum sg_rc sg_transport_open(const char *uri, const char *from, struct sg_transport **out,
                             struct sg_err *err);
void sg_transport_close(struct sg_transport *t);

/* Sends one message: SG_OK, or an error whose message is the reason (a
 * server's reply, never the message). */
enum sg_rc sg_transport_send(struct sg_transport *t, const struct sg_mail *m, struct sg_err *err);

struct sg_deliver_report {
    size_t sent, retried, failed, dropped;
};

/*
 * Delivers what is due: claims up to `max` queued messages whose next
 * attempt has come (a lease of 5 minutes), opens each under its person's
 * key, sends it, and records the outcome (audited as "outbox.sent" or
 * "outbox.retry"). A failed attempt is retried after 1 min, 5 min, 30 min,
 * 2 h, then every 6 h, and gives up after SG_OUTBOX_MAX_ATTEMPTS with the
 * last reason kept.
 */
/* (For the operator and staff roles, like sg_outbox_list.) */
enum sg_rc sg_outbox_deliver(struct sg_vault *v, const struct sg_actor *who, struct sg_transport *t,
                             size_t max, struct sg_deliver_report *rep, struct sg_err *err);

#endif
