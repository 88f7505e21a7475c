/*
 * server.h - the HTTP API (`sargs serve`): a thin front end over libsargs.
 *
 * libmicrohttpd with a thread pool and epoll; each pool thread opens its own
 * vault handle on first use (a handle is used by one thread at a time). JSON
 * with jansson. Every rule stays in the library; this module only routes,
 * authenticates, parses bodies and maps results to statuses through the one
 * table of sargs/err.h.
 */
#ifndef SARGS_SERVER_H
#define SARGS_SERVER_H

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>

#include "sargs/sargs.h"
#include "sargs/audit.h"
#include "sargs/json.h"

struct sg_server_opts {
    const char *listen;         /* "127.0.0.1:8080"; port 0 picks a free one */
    unsigned threads;           /* pool size; 0: one per CPU */
    size_t max_body;            /* largest request body accepted */
    struct sg_vault_opts vault; /* where the vault is */
    const char *ready_file;     /* when set, "host:port\n" is written here once serving */
    unsigned sweep_every;       /* seconds between retention sweeps; 0: never */
    const char *transport;      /* outbox transport URI, or NULL: no delivery */
    const char *mail_from;      /* sender address, or NULL: the policy's */
};

/* The housekeeping thread's state, for GET /v1/sweep (server.c). */
void sg_sweep_status(json_t **out);
/* Asks the housekeeping thread to sweep now. */
void sg_sweep_request(void);
/* Hands a request for a sign-in code (the address, in the policy's e-mail
 * category) to the housekeeping thread, which looks the address up, queues
 * the code (sg_person_code_send) and delivers it: the caller answers at once,
 * in the same time whether or not anyone has the address. Copies `email`
 * (wiped when done). Nonzero when too many are waiting or memory ran out. */
int sg_code_later(const char *email);

/* Serves until SIGTERM or SIGINT, then lets requests in flight finish.
 * Returns nonzero (with `err`) when it could not start. */
int sg_server_run(const struct sg_server_opts *o, struct sg_err *err);

/* Prints "METHOD PATH" of every route, one per line (the OpenAPI check). */
void sg_server_print_routes(void);

/* ------------------------------------------------ for the route handlers */

#define SG_SESSION_COOKIE "sargs_session"

/* A person's own session (self-service): sent only to /v1/me. */
#define SG_PERSON_COOKIE "sargs_me"

/* Sign-in attempts one client address may make per minute before 429. */
#define SG_SIGNIN_PER_MINUTE 10

/* Nonzero when the client address of `conn` has made too many sign-in
 * attempts this minute (counts this one). */
int sg_signin_limited(struct MHD_Connection *conn);

/* One request being handled. */
struct sg_req {
    struct MHD_Connection *conn;
    const char *method;
    const char *route; /* the route's template, for logs and metrics */
    char path[512];
    const char *params[4]; /* path parameters ({id}) in order */
    size_t nparams;
    json_t *body;           /* parsed JSON body, or NULL */
    struct sg_vault *vault; /* this thread's handle */
    struct sg_actor actor;  /* who, from the token */
    char actor_id[80];
    char role[129];
    char purpose[129];
    char scope[129];
    char login[65];       /* an operator's session: the login */
    struct sg_uuid self;  /* Sargs-Viewer */
    char set_cookie[160]; /* a new session cookie to send, or "" */
    int clear_cookie;     /* tell the browser to forget the session cookie */
    int person_cookie;    /* the two above are about SG_PERSON_COOKIE */
    int retry_after;      /* seconds, for 429; 0: none */
    void *audit;          /* audit entries of a READ route, for the writer */
    /* the answer */
    int status;
    json_t *out;
    const char *raw; /* a non-JSON answer (text), or NULL */
    const char *raw_type;
};

/* Sets a JSON answer (takes the reference). */
void sg_req_json(struct sg_req *r, int status, json_t *j);
/* Sets an error answer from a library result. */
void sg_req_fail(struct sg_req *r, const struct sg_err *err);
/* An error answer from a code and a message. */
void sg_req_error(struct sg_req *r, enum sg_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A query-string argument, or NULL. */
const char *sg_req_arg(struct sg_req *r, const char *name);
/*
 * Checks the body's keys against `allowed` (NULL-terminated); on an unknown
 * key answers 400 naming it and returns nonzero. A missing body answers 400.
 */
int sg_req_body_keys(struct sg_req *r, const char *const *allowed);

typedef void (*sg_route_fn)(struct sg_req *r);

struct sg_route {
    const char *method;
    const char *path; /* with {id} placeholders */
    sg_route_fn fn;
    int public;  /* no token needed */
    int session; /* still open to a session whose password expired */
    int run;     /* where it runs: SG_RUN_* */
    int me;      /* a person's own route: their session only, nothing else */
};

/* Where a route runs. WRITE: on the writer thread, in its group commit.
 * READ: on the request's thread, its audit entries appended by the writer
 * before the answer goes out. DIRECT: on the request's thread, no audit
 * entry (health, decisions, proofs; sign-in writes its own). LOOK: as
 * DIRECT, for a route that only reads, so that a service's call takes one
 * snapshot for its token and its answer (a decision). */
enum { SG_RUN_WRITE = 0, SG_RUN_DIRECT = 1, SG_RUN_READ = 2, SG_RUN_LOOK = 3 };

extern const struct sg_route sg_routes[];
extern const size_t sg_nroutes;

/* Metrics, kept by the server, read by /metrics. */
void sg_metrics_render(struct sg_req *r);

#endif
