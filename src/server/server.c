/*
 * server.c - the HTTP daemon: connections, bodies, routing, authentication,
 * answers, access log, metrics, graceful shutdown. See server.h.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sargs/operator.h"
#include "sargs/token.h"

#include <sodium.h>

#define MAX_DEPTH 16

/* ---------------------------------------------------------------- metrics */

#define NBUCKETS 8
static const double buckets[NBUCKETS] = {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0};

struct route_metrics {
    atomic_ulong status[6]; /* by hundreds: 1xx..5xx, [0] unused */
    atomic_ulong le[NBUCKETS];
    atomic_ulong count;
    atomic_ullong usec_sum;
};

static struct route_metrics *metrics; /* one per route, plus one for "no route" */
static atomic_long in_flight;
static atomic_ulong batches, batched; /* group commits, and the requests in them */

static void metrics_add(size_t route, int status, double seconds)
{
    struct route_metrics *m = &metrics[route];
    int cls = status / 100;
    if (cls >= 1 && cls <= 5)
        atomic_fetch_add(&m->status[cls], 1);
    for (int i = 0; i < NBUCKETS; i++)
        if (seconds <= buckets[i])
            atomic_fetch_add(&m->le[i], 1);
    atomic_fetch_add(&m->count, 1);
    atomic_fetch_add(&m->usec_sum, (unsigned long long)(seconds * 1e6));
}

void sg_metrics_render(struct sg_req *r)
{
    struct sg_buf b;
    struct sg_err err;
    sg_buf_init(&b, 1 << 20);
    sg_buf_adds(&b,
                "# HELP sargs_requests_total HTTP requests by route and status class.\n"
                "# TYPE sargs_requests_total counter\n",
                &err);
    for (size_t i = 0; i <= sg_nroutes; i++) {
        const char *route = i < sg_nroutes ? sg_routes[i].path : "none";
        const char *method = i < sg_nroutes ? sg_routes[i].method : "any";
        for (int c = 1; c <= 5; c++) {
            unsigned long n = atomic_load(&metrics[i].status[c]);
            if (n)
                sg_buf_addf(&b, &err,
                            "sargs_requests_total{method=\"%s\",route=\"%s\",status=\"%dxx\"} "
                            "%lu\n",
                            method, route, c, n);
        }
    }
    sg_buf_adds(&b,
                "# HELP sargs_request_seconds Time to answer, by route.\n"
                "# TYPE sargs_request_seconds histogram\n",
                &err);
    for (size_t i = 0; i < sg_nroutes; i++) {
        unsigned long count = atomic_load(&metrics[i].count);
        if (!count)
            continue;
        for (int k = 0; k < NBUCKETS; k++)
            sg_buf_addf(&b, &err,
                        "sargs_request_seconds_bucket{method=\"%s\",route=\"%s\",le=\"%g\"} %lu\n",
                        sg_routes[i].method, sg_routes[i].path, buckets[k],
                        atomic_load(&metrics[i].le[k]));
        sg_buf_addf(&b, &err,
                    "sargs_request_seconds_bucket{method=\"%s\",route=\"%s\",le=\"+Inf\"} %lu\n"
                    "sargs_request_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n"
                    "sargs_request_seconds_count{method=\"%s\",route=\"%s\"} %lu\n",
                    sg_routes[i].method, sg_routes[i].path, count, sg_routes[i].method,
                    sg_routes[i].path, (double)atomic_load(&metrics[i].usec_sum) / 1e6,
                    sg_routes[i].method, sg_routes[i].path, count);
    }
    sg_buf_addf(&b, &err,
                "# HELP sargs_commit_batches Group commits of the writer.\n"
                "# TYPE sargs_commit_batches counter\nsargs_commit_batches %lu\n"
                "# HELP sargs_commit_batched Requests committed in those batches.\n"
                "# TYPE sargs_commit_batched counter\nsargs_commit_batched %lu\n"
                "# HELP sargs_requests_in_flight Requests being answered.\n"
                "# TYPE sargs_requests_in_flight gauge\nsargs_requests_in_flight %ld\n",
                atomic_load(&batches), atomic_load(&batched), atomic_load(&in_flight));
    r->status = 200;
    r->raw = sg_buf_detach(&b, NULL);
    r->raw_type = "text/plain; version=0.0.4";
}

/* ---------------------------------------------------- vault handles per thread */

static const struct sg_vault_opts *vault_opts;
static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sg_vault **handles;
static size_t nhandles, cap_handles;
static _Thread_local struct sg_vault *tl_vault;

/* The audit entries a request thread's handle produced for the request it
 * is answering (sink mode, sargs/audit.h); the writer appends them. */
struct leafq {
    struct sg_buf buf;
    struct {
        size_t off, len;
        sg_time at;
        int has_ps;
        uint8_t ps[16];
    } * v;
    size_t n, cap;
};
static _Thread_local struct leafq *tl_leaves;

static enum sg_rc collect_leaf(void *ctx, const uint8_t *leaf, size_t len, sg_time at,
                               const uint8_t *ps, struct sg_err *err)
{
    (void)ctx;
    struct leafq *q = tl_leaves;
    if (!q)
        return sg_err_set(err, SG_INTERNAL, "an audit entry outside a request");
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 4;
        void *p = realloc(q->v, cap * sizeof *q->v);
        if (!p)
            return sg_err_set(err, SG_NOMEM, "out of memory");
        q->v = p;
        q->cap = cap;
    }
    q->v[q->n].off = q->buf.len;
    q->v[q->n].len = len;
    q->v[q->n].at = at;
    q->v[q->n].has_ps = ps != NULL;
    if (ps)
        memcpy(q->v[q->n].ps, ps, 16);
    enum sg_rc rc = sg_buf_add(&q->buf, leaf, len, err);
    if (!rc)
        q->n++;
    return rc;
}
/* Bumped by SIGHUP and once a minute: each thread then switches its handle
 * to the policy version in force (a scheduled version takes effect within a
 * minute; `sargs policy apply` then SIGHUP, at once). */
static atomic_uint policy_gen;
static _Thread_local unsigned tl_gen;

/* Follows the policy version in force; on failure keeps the one it has. */
static void follow_policy(struct sg_vault *v)
{
    unsigned g = atomic_load(&policy_gen);
    if (g == tl_gen)
        return;
    tl_gen = g;
    struct sg_err e;
    if (sg_vault_policy_refresh(v, &e))
        fprintf(stderr, "sargs: keeping the policy version in use: %s\n", e.msg);
}

static struct sg_vault *thread_vault(struct sg_err *err)
{
    if (tl_vault) {
        follow_policy(tl_vault);
        return tl_vault;
    }
    struct sg_vault *v = NULL;
    if (sg_vault_open(vault_opts, &v, err))
        return NULL;
    tl_gen = atomic_load(&policy_gen);
    sg_vault_set_audit_sink(v, collect_leaf, NULL);
    pthread_mutex_lock(&handles_lock);
    if (nhandles == cap_handles) {
        size_t cap = cap_handles ? cap_handles * 2 : 16;
        struct sg_vault **p = realloc(handles, cap * sizeof *p);
        if (!p) {
            pthread_mutex_unlock(&handles_lock);
            sg_vault_close(v);
            sg_err_set(err, SG_NOMEM, "out of memory");
            return NULL;
        }
        handles = p;
        cap_handles = cap;
    }
    handles[nhandles++] = v;
    pthread_mutex_unlock(&handles_lock);
    tl_vault = v;
    return v;
}

/* ---------------------------------------------------------------- answers */

void sg_req_json(struct sg_req *r, int status, json_t *j)
{
    json_decref(r->out);
    r->status = j ? status : 503;
    r->out = j;
}

void sg_req_fail(struct sg_req *r, const struct sg_err *err)
{
    enum sg_rc rc = err->rc == SG_OK ? SG_INTERNAL : err->rc;
    struct sg_err e = *err;
    e.rc = rc;
    int status = sg_rc_http_status(rc);
    /* A server-side failure names hosts, files or keys: that is for the
     * operator's log (library messages hold no personal data), not for the
     * client, who learns only what happened. */
    if (status >= 500) {
        fprintf(stderr, "sargs: %s %s: %s\n", r->method, r->route, err->msg);
        snprintf(e.msg, sizeof e.msg, "%s",
                 rc == SG_UNAVAILABLE || rc == SG_NOMEM
                     ? "the service is briefly unavailable; try again"
                     : "the request failed on the server; the operator's log says why");
    }
    sg_req_json(r, status, sg_json_error(&e));
}

void sg_req_error(struct sg_req *r, enum sg_rc rc, const char *fmt, ...)
{
    struct sg_err e;
    va_list ap;
    va_start(ap, fmt);
    sg_err_setv(&e, rc, fmt, ap);
    va_end(ap);
    sg_req_fail(r, &e);
}

const char *sg_req_arg(struct sg_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

int sg_req_body_keys(struct sg_req *r, const char *const *allowed)
{
    if (!json_is_object(r->body)) {
        sg_req_error(r, SG_INVALID, "the body must be a JSON object");
        return 1;
    }
    const char *key;
    json_t *val;
    json_object_foreach(r->body, key, val)
    {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (!ok) {
            sg_req_error(r, SG_INVALID, "unknown field '%.64s'", key);
            return 1;
        }
    }
    return 0;
}

/* ----------------------------------------------------------------- routing */

/* Matches `path` against a template; fills the {params}. */
static int match(const char *tmpl, const char *path, struct sg_req *r)
{
    size_t np = 0;
    const char *t = tmpl, *p = path;
    while (*t && *p) {
        if (*t == '{') {
            const char *te = strchr(t, '}');
            const char *pe = strchr(p, '/');
            size_t len = pe ? (size_t)(pe - p) : strlen(p);
            if (!te || len == 0 || np == 4)
                return 0;
            r->params[np++] = p; /* cut at '/' below */
            t = te + 1;
            p += len;
            continue;
        }
        if (*t++ != *p++)
            return 0;
    }
    if (*t || *p)
        return 0;
    r->nparams = np;
    return 1;
}

/* Finds the route; *method_ok says whether the path matched another method. */
static const struct sg_route *route_for(struct sg_req *r, int *path_known)
{
    *path_known = 0;
    for (size_t i = 0; i < sg_nroutes; i++) {
        if (!match(sg_routes[i].path, r->path, r))
            continue;
        *path_known = 1;
        if (strcmp(sg_routes[i].method, r->method) == 0)
            return &sg_routes[i];
    }
    return NULL;
}

static int depth_ok(json_t *j, int depth)
{
    if (depth > MAX_DEPTH)
        return 0;
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v)
        {
            if (!depth_ok(v, depth + 1))
                return 0;
        }
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
        {
            if (!depth_ok(v, depth + 1))
                return 0;
        }
    }
    return 1;
}

static int printable(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (!n || n > max || !sg_utf8_valid(s, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* The purpose a request states, over the credential's default. */
static int stated_purpose(struct sg_req *r)
{
    const char *p = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Sargs-Purpose");
    if (!p)
        return 0;
    if (!printable(p, 128)) {
        sg_req_error(r, SG_INVALID, "Sargs-Purpose must be one line of at most 128 bytes");
        return 1;
    }
    snprintf(r->purpose, sizeof r->purpose, "%s", p);
    return 0;
}

/* An operator's session cookie. */
static int authenticate_session(struct sg_req *r, const char *cookie, const struct sg_route *rt)
{
    struct sg_err err;
    struct sg_operator_info o;
    if (sg_session_check(r->vault, cookie, &o, &err)) {
        sg_req_fail(r, &err);
        if (err.rc == SG_DENIED) {
            r->status = 401;
            r->clear_cookie = 1;
        }
        return 1;
    }
    snprintf(r->actor_id, sizeof r->actor_id, "operator:%s", o.login);
    snprintf(r->login, sizeof r->login, "%s", o.login);
    snprintf(r->role, sizeof r->role, "%s", o.role);
    snprintf(r->purpose, sizeof r->purpose, "%s", o.purpose);
    if (o.scope[0]) {
        snprintf(r->scope, sizeof r->scope, "%s", o.scope);
        r->actor.scope = r->scope;
    }
    /* A password past its rotation: change it, or sign out, and nothing
     * else. */
    if (o.password_expired && !rt->session) {
        sg_req_error(r, SG_DENIED,
                     "the password has expired: change it first "
                     "(POST /v1/session/password)");
        return 1;
    }
    return stated_purpose(r);
}

/* A person's own session: the person, as the reserved role "self". Their
 * routes take nothing else (no token, no operator), and their cookie is
 * worth nothing on any other route. */
static int authenticate_person(struct sg_req *r)
{
    const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, SG_PERSON_COOKIE);
    struct sg_err err;
    r->person_cookie = 1;
    if (!cookie) {
        sg_req_error(r, SG_DENIED, "not signed in (POST /v1/me/code, then /v1/me/session)");
        r->status = 401;
        return 1;
    }
    if (sg_person_session_check(r->vault, cookie, &r->self, &err)) {
        sg_req_fail(r, &err);
        if (err.rc == SG_DENIED) {
            r->status = 401;
            r->clear_cookie = 1;
        }
        return 1;
    }
    char buf[64];
    sg_person_actor(&r->self, buf, &r->actor);
    snprintf(r->actor_id, sizeof r->actor_id, "%s", buf);
    r->actor.id = r->actor_id;
    r->actor.self = &r->self;
    return 0;
}

/* Who is calling: a bearer token (a service) or a session cookie (an
 * operator), and the purpose it states; on a person's own routes, the
 * person. */
static int authenticate(struct sg_req *r, const struct sg_route *rt)
{
    if (rt->me)
        return authenticate_person(r);
    const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
    const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, SG_SESSION_COOKIE);
    struct sg_err err;
    struct sg_token_info t;
    r->actor.id = r->actor_id;
    r->actor.role = r->role;
    r->actor.purpose = r->purpose;
    if (!h && cookie)
        return authenticate_session(r, cookie, rt);
    if (!h || strncmp(h, "Bearer ", 7) != 0) {
        sg_req_error(r, SG_DENIED,
                     "missing credentials (Authorization: Bearer TOKEN, or a session)");
        r->status = 401;
        return 1;
    }
    if (sg_token_check(r->vault, h + 7, &t, &err)) {
        sg_req_fail(r, &err);
        if (err.rc == SG_DENIED)
            r->status = 401;
        return 1;
    }
    snprintf(r->actor_id, sizeof r->actor_id, "token:%s", t.id);
    snprintf(r->role, sizeof r->role, "%s", t.role);
    snprintf(r->purpose, sizeof r->purpose, "%s", t.purpose);
    if (stated_purpose(r))
        return 1;
    if (t.scope[0]) {
        snprintf(r->scope, sizeof r->scope, "%s", t.scope);
        r->actor.scope = r->scope;
    }
    /* A service acting for one of the people in the vault (a platform
     * showing profiles to a signed-in user) names them: their rows, groups
     * and own values then decide what the role sees. The service is trusted
     * to have authenticated them. */
    const char *viewer = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Sargs-Viewer");
    if (viewer) {
        if (sg_uuid_parse(viewer, &r->self, &err)) {
            sg_req_error(r, SG_INVALID, "Sargs-Viewer must be the id of a person");
            return 1;
        }
        r->actor.self = &r->self;
    }
    return 0;
}

/* ---------------------------------------------------- sign-in rate limits */

/* Per client address, a count per minute, in a fixed table (addresses that
 * collide share a count: a limit that errs on the side of caution). The
 * addresses are hashed with a key drawn at start, never kept. */
#define LIMIT_SLOTS 4096
static struct {
    uint64_t tag;
    int64_t minute;
    unsigned count;
} limits[LIMIT_SLOTS];
static pthread_mutex_t limits_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t limits_key[crypto_shorthash_KEYBYTES];

int sg_signin_limited(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    uint8_t addr[16] = {0};
    if (sa && sa->sa_family == AF_INET)
        memcpy(addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    else if (sa && sa->sa_family == AF_INET6) {
        /* One IPv6 client holds a whole /64: count by the prefix (an
         * IPv4-mapped address by its IPv4 part). */
        const uint8_t *a6 = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a6, mapped, 12) == 0)
            memcpy(addr, a6 + 12, 4);
        else
            memcpy(addr + 4, a6, 8);
    }
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, addr, sizeof addr, limits_key);
    uint64_t tag;
    memcpy(&tag, h, sizeof tag);
    int64_t minute = (int64_t)time(NULL) / 60;
    pthread_mutex_lock(&limits_lock);
    size_t i = (size_t)(tag % LIMIT_SLOTS);
    if (limits[i].tag != tag || limits[i].minute != minute) {
        limits[i].tag = tag;
        limits[i].minute = minute;
        limits[i].count = 0;
    }
    unsigned n = ++limits[i].count;
    pthread_mutex_unlock(&limits_lock);
    return n > SG_SIGNIN_PER_MINUTE;
}

/* ------------------------------------------------------------- connections */

struct job {
    struct sg_req *r;
    const struct sg_route *route; /* run it; or NULL: append `leaves` */
    struct leafq *leaves;
    struct job *next;
    struct MHD_Connection *conn; /* suspended until the job is done */
    int failed;
};

/* A request, from its first byte to its answer. One that waits for the
 * writer keeps here what it needs when its connection is resumed. */
struct conn {
    struct sg_buf body;
    int too_big;
    size_t max;
    struct timespec t0;
    int queued; /* its job is with the writer; the connection is suspended */
    size_t route_index;
    struct sg_req r;
    struct job job;
    struct leafq leaves;
};

static size_t max_body;
static int quiet;

/* The access log. Each thread gathers its lines in a buffer of its own,
 * written out whole when the next line would not fit and by the main thread
 * every quarter second: a write per request, under stdio's lock shared by
 * every thread, was a tenth of the server's system calls. Lines of
 * different threads may thus come out of order by up to that much. */
struct logbuf {
    pthread_mutex_t lock; /* its thread, and the main thread's flush */
    size_t len;
    struct logbuf *next;
    char text[8192];
};

static pthread_mutex_t logbufs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct logbuf *logbufs;
static _Thread_local struct logbuf *tl_log;

/* Writes out a buffer; the caller holds its lock. A log that cannot be
 * written loses the lines: there is nowhere to say so. */
static void log_out(struct logbuf *b)
{
    size_t off = 0;
    while (off < b->len) {
        ssize_t n = write(STDERR_FILENO, b->text + off, b->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    b->len = 0;
}

static void access_log(const char *method, const char *route, int status, double secs)
{
    char line[256];
    int n = snprintf(line, sizeof line, "%s %s %d %.1fms\n", method, route, status, secs * 1e3);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line) {
        n = sizeof line - 1;
        line[n - 1] = '\n';
    }
    struct logbuf *b = tl_log;
    if (!b) {
        if (!(b = calloc(1, sizeof *b))) {
            fputs(line, stderr);
            return;
        }
        pthread_mutex_init(&b->lock, NULL);
        pthread_mutex_lock(&logbufs_lock);
        b->next = logbufs;
        logbufs = b;
        pthread_mutex_unlock(&logbufs_lock);
        tl_log = b;
    }
    pthread_mutex_lock(&b->lock);
    if (b->len + (size_t)n > sizeof b->text)
        log_out(b);
    memcpy(b->text + b->len, line, (size_t)n);
    b->len += (size_t)n;
    pthread_mutex_unlock(&b->lock);
}

/* Writes out every thread's lines; with `last`, the threads are gone and
 * their buffers are freed. */
static void access_log_flush(int last)
{
    pthread_mutex_lock(&logbufs_lock);
    for (struct logbuf *b = logbufs, *next; b; b = next) {
        next = b->next;
        pthread_mutex_lock(&b->lock);
        log_out(b);
        pthread_mutex_unlock(&b->lock);
        if (last) {
            pthread_mutex_destroy(&b->lock);
            free(b);
        }
    }
    if (last)
        logbufs = NULL;
    pthread_mutex_unlock(&logbufs_lock);
}

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static int has_body(const char *method)
{
    return !strcmp(method, "POST") || !strcmp(method, "PATCH") || !strcmp(method, "PUT");
}

/* ------------------------------------------------------------ group commit */

/*
 * Every route that writes (and every audited read: a read is an audit entry)
 * runs on one writer thread with its own vault handle, which takes whatever
 * requests are waiting, runs each in its own savepoint inside one
 * transaction, and commits them together: one signed audit head and one
 * sync for the batch instead of one per request. A request's connection is
 * suspended until its batch is committed, and only then answered, so an
 * answer is never sent for a change that is not durable. The request
 * thread goes on with other connections meanwhile: a batch holds as many
 * requests as are waiting, not as many as there are threads. Routes marked
 * `direct` (decisions, proofs, health) read on the request thread's own
 * handle.
 */
#define BATCH_MAX 256

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_wake = PTHREAD_COND_INITIALIZER;
static struct job *q_head, *q_tail;
static int q_stop;
static struct sg_vault *writer_vault;

/* ------------------------------------------------------------ housekeeping */

/*
 * One thread with its own vault handle runs the retention sweep on a
 * schedule (and on request) and delivers the outbox every minute. Its
 * transactions are its own, a page of people or a message at a time, so
 * the writer's batches interleave with them.
 */
static pthread_mutex_t hk_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hk_wake = PTHREAD_COND_INITIALIZER;
static int hk_stop, hk_requested, hk_kicked;
/* Addresses that asked for a sign-in code (sg_code_later), oldest first. */
#define CODES_WAITING 256
static char *hk_codes[CODES_WAITING];
static size_t hk_ncodes;
static struct {
    sg_time last, next;
    int ran, ok;
    struct sg_sweep_report rep;
    char error[SG_ERR_MSG_MAX];
    struct sg_deliver_report out;
    sg_time delivered_at;
} hk;
static const struct sg_server_opts *hk_opts;

void sg_sweep_request(void)
{
    pthread_mutex_lock(&hk_lock);
    hk_requested = 1;
    pthread_cond_signal(&hk_wake);
    pthread_mutex_unlock(&hk_lock);
}

int sg_code_later(const char *email)
{
    char *copy = strdup(email);
    if (!copy)
        return -1;
    pthread_mutex_lock(&hk_lock);
    int full = hk_stop || hk_ncodes == CODES_WAITING;
    if (!full) {
        hk_codes[hk_ncodes++] = copy;
        hk_kicked = 1;
        pthread_cond_signal(&hk_wake);
    }
    pthread_mutex_unlock(&hk_lock);
    if (full) {
        sodium_memzero(copy, strlen(copy));
        free(copy);
        return -1;
    }
    return 0;
}

/* Takes the waiting addresses (the caller wipes and frees them). */
static size_t take_codes(char **out)
{
    pthread_mutex_lock(&hk_lock);
    size_t n = hk_ncodes;
    memcpy(out, hk_codes, n * sizeof *out);
    hk_ncodes = 0;
    pthread_mutex_unlock(&hk_lock);
    return n;
}

/* Sends the codes asked for: an address nobody has gets nothing, and
 * nothing is said of it. All that waited in one transaction (each look-up
 * is audited: one sync for them all); one that fails undoes only itself. */
static void send_codes(struct sg_vault *v)
{
    char *addr[CODES_WAITING];
    size_t n = take_codes(addr);
    struct sg_err err;
    int tx = v && n && sg_vault_begin(v, &err) == SG_OK;
    if (v && n && !tx)
        fprintf(stderr, "sargs: sign-in codes: %s\n", err.msg);
    for (size_t i = 0; i < n; i++) {
        if (tx && sg_person_code_send(v, SG_CATEGORY_EMAIL, addr[i], &err))
            fprintf(stderr, "sargs: sign-in code: %s\n", err.msg);
        sodium_memzero(addr[i], strlen(addr[i]));
        free(addr[i]);
    }
    if (tx && sg_vault_commit(v, &err))
        fprintf(stderr, "sargs: sign-in codes: %s\n", err.msg);
}

void sg_sweep_status(json_t **out)
{
    char t1[SG_TIME_STR_MAX], t2[SG_TIME_STR_MAX], t3[SG_TIME_STR_MAX];
    pthread_mutex_lock(&hk_lock);
    json_t *j = json_pack("{s:s?,s:s?,s:I}", "last", hk.ran ? sg_time_format(hk.last, t1) : NULL,
                          "next", hk.next ? sg_time_format(hk.next, t2) : NULL, "every_seconds",
                          (json_int_t)(hk_opts ? hk_opts->sweep_every : 0));
    if (j && hk.ran) {
        json_object_set_new(j, "ok", json_boolean(hk.ok));
        if (!hk.ok)
            json_object_set_new(j, "error", json_string(hk.error));
        json_object_set_new(
            j, "report",
            json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f}", "evaluated",
                      (json_int_t)hk.rep.evaluated, "acted", (json_int_t)hk.rep.acted, "deleted",
                      (json_int_t)hk.rep.deleted, "fields_deleted",
                      (json_int_t)hk.rep.fields_deleted, "anonymised",
                      (json_int_t)hk.rep.anonymised, "hidden", (json_int_t)hk.rep.hidden,
                      "restricted", (json_int_t)hk.rep.restricted, "notified",
                      (json_int_t)hk.rep.notified, "skipped_no_anchor",
                      (json_int_t)hk.rep.skipped_no_anchor, "skipped_no_address",
                      (json_int_t)hk.rep.skipped_no_address, "seconds", hk.rep.seconds));
    }
    if (j && hk.delivered_at)
        json_object_set_new(
            j, "outbox",
            json_pack("{s:s,s:I,s:I,s:I,s:I}", "last_delivery", sg_time_format(hk.delivered_at, t3),
                      "sent", (json_int_t)hk.out.sent, "retried", (json_int_t)hk.out.retried,
                      "failed", (json_int_t)hk.out.failed, "dropped", (json_int_t)hk.out.dropped));
    pthread_mutex_unlock(&hk_lock);
    *out = j;
}

static void *housekeeping_main(void *arg)
{
    struct sg_vault *v = arg;
    static const struct sg_actor me = {"sargs:housekeeping", SG_ROLE_OPERATOR, "retention", NULL,
                                       NULL};
    struct sg_transport *t = NULL;
    struct sg_err err;
    if (hk_opts->transport) {
        const struct sg_policy *p = sg_vault_policy(v);
        const char *from = hk_opts->mail_from ? hk_opts->mail_from
                           : p                ? p->requests.contact.email
                                              : NULL;
        if (sg_transport_open(hk_opts->transport, from, &t, &err))
            fprintf(stderr, "sargs: the outbox will not be delivered: %s\n", err.msg);
    }
    tl_vault = v;
    tl_gen = atomic_load(&policy_gen);
    sg_time now = sg_clock_now(NULL);
    pthread_mutex_lock(&hk_lock);
    /* The first sweep a minute after start, then every sweep_every. */
    hk.next = hk_opts->sweep_every ? now + 60 * SG_USEC_PER_SEC : 0;
    pthread_mutex_unlock(&hk_lock);
    for (;;) {
        pthread_mutex_lock(&hk_lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 60;
        while (!hk_stop && !hk_requested && !hk_kicked &&
               pthread_cond_timedwait(&hk_wake, &hk_lock, &until) == 0)
            ;
        int stop = hk_stop, requested = hk_requested;
        hk_requested = hk_kicked = 0;
        sg_time next = hk.next;
        pthread_mutex_unlock(&hk_lock);
        if (stop)
            break;
        follow_policy(v);
        send_codes(v);
        now = sg_clock_now(NULL);
        if (requested || (next && now >= next)) {
            struct sg_sweep_report rep;
            enum sg_rc rc = sg_sweep(v, &me, 0, NULL, NULL, NULL, &rep, &err);
            pthread_mutex_lock(&hk_lock);
            hk.ran = 1;
            hk.ok = rc == SG_OK;
            hk.last = now;
            hk.rep = rep;
            snprintf(hk.error, sizeof hk.error, "%s", rc ? err.msg : "");
            hk.next =
                hk_opts->sweep_every ? now + (sg_time)hk_opts->sweep_every * SG_USEC_PER_SEC : 0;
            pthread_mutex_unlock(&hk_lock);
            if (rc)
                fprintf(stderr, "sargs: sweep: %s\n", err.msg);
        }
        if (t) {
            struct sg_deliver_report out;
            enum sg_rc rc = sg_outbox_deliver(v, &me, t, 100, &out, &err);
            pthread_mutex_lock(&hk_lock);
            if (!rc) {
                hk.out = out;
                hk.delivered_at = sg_clock_now(NULL);
            }
            pthread_mutex_unlock(&hk_lock);
            if (rc)
                fprintf(stderr, "sargs: outbox: %s\n", err.msg);
        }
    }
    /* Stopping: codes still waiting are dropped (the person asks again). */
    send_codes(NULL);
    sg_transport_close(t);
    return NULL;
}

/* Times a job that met a transient conflict runs again on its own. */
#define RETRIES 3

/* Drops a job's answer before it runs again. */
static void forget_answer(struct sg_req *r)
{
    json_decref(r->out);
    r->out = NULL;
    free((char *)r->raw);
    r->raw = NULL;
    r->status = 0;
    r->retry_after = 0;
}

/* Runs a write route in the batch as one savepoint: a job that fails
 * with a 5xx leaves nothing of its earlier steps (so it can run again);
 * one answered 2xx or 4xx keeps what it did (a refusal keeps its audit
 * entry). */
static void run_job(struct job *j)
{
    struct sg_err err;
    int sp = sg_vault_group(writer_vault, &err) == SG_OK;
    j->route->fn(j->r);
    if (!sp)
        return;
    int failed = j->r->status >= 500;
    if (sg_vault_group_end(writer_vault, !failed, &err) && !failed) {
        forget_answer(j->r);
        sg_req_error(j->r, SG_UNAVAILABLE, "the change could not be kept: %s", err.msg);
    }
}

/* Lets a batch's requests answer: their connections go back to their
 * threads, which call on_request() again. A job is not touched after its
 * connection is resumed (its memory goes with the request). */
static void finish(struct job *batch)
{
    for (struct job *j = batch, *next; j; j = next) {
        next = j->next;
        MHD_resume_connection(j->conn);
    }
}

static void *writer_main(void *arg)
{
    (void)arg;
    tl_vault = writer_vault;
    tl_gen = atomic_load(&policy_gen);
    for (;;) {
        pthread_mutex_lock(&q_lock);
        while (!q_head && !q_stop)
            pthread_cond_wait(&q_wake, &q_lock);
        if (!q_head) {
            pthread_mutex_unlock(&q_lock);
            break;
        }
        struct job *batch = q_head, *last = q_head;
        size_t n = 1;
        while (last->next && n < BATCH_MAX) {
            last = last->next;
            n++;
        }
        q_head = last->next;
        if (!q_head)
            q_tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&q_lock);

        follow_policy(writer_vault);
        struct sg_err err;
        int tx = sg_vault_begin(writer_vault, &err) == SG_OK;
        for (struct job *j = batch; j; j = j->next) {
            if (j->route) {
                j->r->vault = writer_vault;
                run_job(j);
                continue;
            }
            for (size_t i = 0; i < j->leaves->n && !j->failed; i++)
                j->failed =
                    sg_audit_append_leaf(
                        writer_vault, (const uint8_t *)j->leaves->buf.ptr + j->leaves->v[i].off,
                        j->leaves->v[i].len, j->leaves->v[i].at,
                        j->leaves->v[i].has_ps ? j->leaves->v[i].ps : NULL, &err) != SG_OK;
        }
        int committed = !tx || sg_vault_commit(writer_vault, &err) == SG_OK;
        if (!committed) {
            /* Nothing of the batch happened, or nobody knows whether it did:
             * no request may say it did, nor give a refusal whose audit
             * entry went with the batch. Not run again: its outcome may be
             * unknown. */
            for (struct job *j = batch; j; j = j->next) {
                forget_answer(j->r);
                sg_req_error(j->r, SG_UNAVAILABLE, "the change could not be committed: %s",
                             err.msg);
            }
        }
        /* A job that lost a deadlock, a serialization conflict or a lock
         * wait to another node (batches on two nodes can take the same rows
         * in different orders) was rolled back whole to its savepoint, and
         * the batch around it committed: it runs again, alone, a few times
         * before the client hears 503. */
        for (struct job *j = batch; committed && j; j = j->next)
            for (int k = 0; k < RETRIES && j->route && j->r->status == 503; k++) {
                if (sg_vault_begin(writer_vault, &err) != SG_OK)
                    break; /* the database is away: the 503 stands */
                forget_answer(j->r);
                j->route->fn(j->r);
                if (j->r->status >= 500) {
                    sg_vault_rollback(writer_vault);
                } else if (sg_vault_commit(writer_vault, &err) != SG_OK) {
                    forget_answer(j->r);
                    sg_req_error(j->r, SG_UNAVAILABLE, "the change could not be committed: %s",
                                 err.msg);
                    break; /* its outcome is unknown: never twice */
                }
            }
        atomic_fetch_add(&batches, 1);
        atomic_fetch_add(&batched, n);
        finish(batch);
    }
    return NULL;
}

/* Hands a request (or the audit entries of one) to the writer; its
 * connection is suspended first, so that the writer's resume always
 * follows it (the writer takes jobs under the same lock). */
static void queue_job(struct conn *c, struct sg_req *r, const struct sg_route *route,
                      struct leafq *leaves)
{
    pthread_mutex_lock(&q_lock);
    if (q_stop) {
        pthread_mutex_unlock(&q_lock);
        forget_answer(r);
        sg_req_error(r, SG_UNAVAILABLE, "the server is stopping");
        return;
    }
    c->job = (struct job){r, route, leaves, NULL, r->conn, 0};
    c->queued = 1;
    MHD_suspend_connection(r->conn);
    if (q_tail)
        q_tail->next = &c->job;
    else
        q_head = &c->job;
    q_tail = &c->job;
    pthread_cond_signal(&q_wake);
    pthread_mutex_unlock(&q_lock);
}

static void release_leaves(struct leafq *q)
{
    sg_buf_release(&q->buf);
    free(q->v);
    memset(q, 0, sizeof *q);
}

/* The request's job is done: what its answer needs to know. */
static void job_done(struct conn *c)
{
    struct sg_req *r = &c->r;
    c->queued = 0;
    if (c->job.failed && !(r->status >= 500)) {
        free((char *)r->raw);
        r->raw = NULL;
        sg_req_error(r, SG_UNAVAILABLE, "the audit entry could not be written; nothing is shown");
    }
    release_leaves(&c->leaves);
}

/* A route answered on this thread: its audit entries (a read, a refusal, a
 * sign-in) are committed by the writer before the answer leaves. */
static void run_here(struct conn *c, struct sg_req *r, const struct sg_route *route, int *snapshot)
{
    struct leafq *q = &c->leaves;
    struct sg_err err;
    memset(q, 0, sizeof *q);
    sg_buf_init(&q->buf, SIZE_MAX / 2);
    tl_leaves = q;
    route->fn(r);
    /* The request's reads end here (their entries reach the queue): the
     * snapshot is not held while the writer commits. */
    if (*snapshot) {
        *snapshot = 0;
        if (sg_vault_commit(r->vault, &err)) {
            forget_answer(r);
            sg_req_error(r, SG_UNAVAILABLE,
                         "the audit entry could not be written; nothing is shown");
            q->n = 0;
        }
    }
    tl_leaves = NULL;
    if (q->n)
        queue_job(c, r, NULL, q);
    else
        release_leaves(q);
}

static void serve_route(struct sg_req *r, struct conn *c, const struct sg_route *route,
                        int *snapshot);

static void handle(struct sg_req *r, struct conn *c, size_t *route_index)
{
    int path_known = 0;
    struct sg_err err;
    *route_index = sg_nroutes;
    if (c->too_big) {
        sg_req_error(r, SG_TOOBIG, "request body over the limit of %zu bytes", c->max);
        return;
    }
    const struct sg_route *route = route_for(r, &path_known);
    if (!route) {
        if (path_known) {
            sg_req_error(r, SG_INVALID, "method %.10s is not allowed here", r->method);
            r->status = 405;
        } else {
            sg_req_error(r, SG_NOTFOUND, "no such resource");
        }
        return;
    }
    *route_index = (size_t)(route - sg_routes);
    r->route = route->path;
    /* Parameters end at the next '/': cut them there, in our copy. */
    for (size_t i = 0; i < r->nparams; i++) {
        char *slash = strchr((char *)r->params[i], '/');
        if (slash)
            *slash = '\0';
    }
    if (!(r->vault = thread_vault(&err))) {
        sg_req_error(r, SG_UNAVAILABLE, "the vault is not available");
        return;
    }
    tl_leaves = NULL;
    /* A service's read (a bearer token, which checking only reads) runs in
     * one read transaction from the token to the answer: one snapshot to
     * take instead of two. A session's check writes (when it was last
     * seen), so a cookie keeps a transaction per call. */
    const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
    int snapshot = (route->run == SG_RUN_READ || route->run == SG_RUN_LOOK) && !route->me && h &&
                   strncmp(h, "Bearer ", 7) == 0 && sg_vault_begin_read(r->vault, &err) == SG_OK;
    serve_route(r, c, route, &snapshot);
    if (snapshot)
        sg_vault_rollback(r->vault);
}

/* The route found and the vault open: who is calling, the body, the route. */
static void serve_route(struct sg_req *r, struct conn *c, const struct sg_route *route,
                        int *snapshot)
{
    if (!route->public && authenticate(r, route))
        return;
    if (has_body(r->method) && c->body.len) {
        const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
        if (!ct || strncmp(ct, "application/json", 16) != 0 || (ct[16] && ct[16] != ';')) {
            sg_req_error(r, SG_INVALID, "the body must be application/json");
            r->status = 415;
            return;
        }
        json_error_t je;
        r->body = json_loadb(c->body.ptr, c->body.len, JSON_REJECT_DUPLICATES, &je);
        if (!r->body) {
            /* jansson's text names a position and a reason, never the input. */
            sg_req_error(r, SG_INVALID, "invalid JSON body at line %d, column %d", je.line,
                         je.column);
            return;
        }
        if (!depth_ok(r->body, 0)) {
            sg_req_error(r, SG_INVALID, "JSON body nested deeper than %d", MAX_DEPTH);
            return;
        }
    }
    if (route->run == SG_RUN_WRITE)
        queue_job(c, r, route, NULL);
    else
        run_here(c, r, route, snapshot);
}

static enum MHD_Result send_answer(struct MHD_Connection *conn, struct sg_req *r)
{
    struct MHD_Response *resp;
    const char *type;
    if (r->raw) {
        resp =
            MHD_create_response_from_buffer(strlen(r->raw), (void *)r->raw, MHD_RESPMEM_MUST_FREE);
        type = r->raw_type;
        r->raw = NULL;
    } else {
        char *text = r->out ? json_dumps(r->out, JSON_COMPACT) : NULL;
        if (!text) {
            r->status = 503;
            text = strdup("{\"error\":{\"code\":\"no_memory\",\"message\":\"out of memory\"}}");
        }
        size_t len = text ? strlen(text) : 0;
        resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
        type = "application/json";
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    /* An operator's cookie goes to the whole API; a person's only to their
     * own routes. */
    const char *cname = r->person_cookie ? SG_PERSON_COOKIE : SG_SESSION_COOKIE;
    const char *cpath = r->person_cookie ? "/v1/me" : "/";
    if (r->set_cookie[0]) {
        char c[320];
        snprintf(c, sizeof c, "%s=%s; Path=%s; HttpOnly; Secure; SameSite=Strict; Max-Age=%lld",
                 cname, r->set_cookie, cpath, (long long)(SG_SESSION_LIFE_USEC / SG_USEC_PER_SEC));
        MHD_add_response_header(resp, "Set-Cookie", c);
        sodium_memzero(c, sizeof c);
    } else if (r->clear_cookie) {
        char c[160];
        snprintf(c, sizeof c, "%s=; Path=%s; HttpOnly; Secure; SameSite=Strict; Max-Age=0", cname,
                 cpath);
        MHD_add_response_header(resp, "Set-Cookie", c);
    }
    if (r->retry_after) {
        char ra[24];
        snprintf(ra, sizeof ra, "%d", r->retry_after);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->status == 401)
        MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"sargs\"");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    (void)cls;
    (void)version;
    struct conn *c = *req_cls;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return MHD_NO;
        c->max = max_body;
        sg_buf_init(&c->body, max_body);
        clock_gettime(CLOCK_MONOTONIC, &c->t0);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > max_body)
            c->too_big = 1;
        *req_cls = c;
        atomic_fetch_add(&in_flight, 1);
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!c->too_big && sg_buf_add(&c->body, upload_data, *upload_data_size, NULL))
            c->too_big = 1; /* the buffer released itself */
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct sg_req *r = &c->r;
    if (c->queued) {
        job_done(c); /* called again: the batch is committed */
    } else {
        memset(r, 0, sizeof *r);
        r->conn = conn;
        r->method = method;
        r->route = "none";
        snprintf(r->path, sizeof r->path, "%s", url);
        c->route_index = sg_nroutes;
        handle(r, c, &c->route_index);
        if (c->queued)
            return MHD_YES; /* suspended until the writer is done */
    }
    if (!r->status)
        r->status = 500;
    enum MHD_Result ret = send_answer(conn, r);
    double secs = since(&c->t0);
    metrics_add(c->route_index, r->status, secs);
    /* The access log names the route, never the path: ids and query values
     * stay out of logs. */
    if (!quiet)
        access_log(method, r->route, r->status, secs);
    json_decref(r->out);
    json_decref(r->body);
    free((void *)r->raw);
    r->out = r->body = NULL;
    r->raw = NULL;
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct conn *c = *req_cls;
    if (!c)
        return;
    sg_buf_release(&c->body);
    release_leaves(&c->leaves);
    /* An answer never sent (the daemon closed a connection still waiting
     * at shutdown) goes with it. */
    json_decref(c->r.out);
    json_decref(c->r.body);
    free((void *)c->r.raw);
    free(c);
    *req_cls = NULL;
    atomic_fetch_sub(&in_flight, 1);
}

/* ------------------------------------------------------------------ running */

void sg_server_print_routes(void)
{
    for (size_t i = 0; i < sg_nroutes; i++)
        printf("%s %s\n", sg_routes[i].method, sg_routes[i].path);
}

static int parse_listen(const char *s, struct sockaddr_in *sa, struct sg_err *err)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof host)
        return sg_err_set(err, SG_USAGE, "--listen expects HOST:PORT, e.g. 127.0.0.1:8080");
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    if (!*(colon + 1) || *end || port < 0 || port > 65535 ||
        inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return sg_err_set(err, SG_USAGE, "--listen expects an IPv4 HOST:PORT");
    sa->sin_port = htons((uint16_t)port);
    return 0;
}

static void stop_keeper(pthread_t keeper)
{
    pthread_mutex_lock(&hk_lock);
    hk_stop = 1;
    pthread_cond_signal(&hk_wake);
    pthread_mutex_unlock(&hk_lock);
    pthread_join(keeper, NULL);
}

int sg_server_run(const struct sg_server_opts *o, struct sg_err *err)
{
    struct sockaddr_in sa;
    if (parse_listen(o->listen ? o->listen : "127.0.0.1:8080", &sa, err))
        return 1;
    vault_opts = &o->vault;
    max_body = o->max_body ? o->max_body : 1 << 20;
    quiet = getenv("SARGS_QUIET") != NULL;
    metrics = calloc(sg_nroutes + 1, sizeof *metrics);
    if (!metrics)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    /* Opening the vault once here reports a wrong key or a missing vault at
     * start rather than at the first request. */
    if (sg_vault_open(&o->vault, &writer_vault, err))
        return 1;

    /* Signals are taken by this thread alone (sigwait below); the pool
     * threads inherit the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    randombytes_buf(limits_key, sizeof limits_key);
    pthread_t writer, keeper;
    struct sg_vault *keeper_vault = NULL;
    hk_opts = o;
    if (sg_vault_open(&o->vault, &keeper_vault, err)) {
        sg_vault_close(writer_vault);
        return 1;
    }
    if (pthread_create(&writer, NULL, writer_main, NULL) != 0) {
        sg_vault_close(writer_vault);
        sg_vault_close(keeper_vault);
        return sg_err_set(err, SG_NOMEM, "cannot start the writer thread");
    }
    if (pthread_create(&keeper, NULL, housekeeping_main, keeper_vault) != 0) {
        pthread_mutex_lock(&q_lock);
        q_stop = 1;
        pthread_cond_signal(&q_wake);
        pthread_mutex_unlock(&q_lock);
        pthread_join(writer, NULL);
        sg_vault_close(writer_vault);
        sg_vault_close(keeper_vault);
        return sg_err_set(err, SG_NOMEM, "cannot start the housekeeping thread");
    }

    /* A request waiting for its batch holds no thread, but a read on
     * PostgreSQL waits for the server on its thread: a few per core (a
     * thread's own vault handle opens on first use). */
    unsigned threads = o->threads ? o->threads : 4 * (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG |
            MHD_ALLOW_SUSPEND_RESUME,
        0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
        MHD_OPTION_END);
    if (!d) {
        stop_keeper(keeper);
        sg_vault_close(keeper_vault);
        pthread_mutex_lock(&q_lock);
        q_stop = 1;
        pthread_cond_signal(&q_wake);
        pthread_mutex_unlock(&q_lock);
        pthread_join(writer, NULL);
        sg_vault_close(writer_vault);
        return sg_err_set(err, SG_IO, "cannot listen on %s (address in use?)",
                          o->listen ? o->listen : "127.0.0.1:8080");
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info ? info->port : ntohs(sa.sin_port);
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);
    fprintf(stderr, "sargs: serving http://%s:%u (%u threads)\n", host, port, threads);
    if (o->ready_file) {
        FILE *f = fopen(o->ready_file, "w");
        if (f) {
            fprintf(f, "%s:%u\n", host, port);
            fclose(f);
        }
    }
    /* Every quarter second: the access log written out; every minute: the
     * policy version in force looked at again. */
    for (unsigned tick = 1;; tick++) {
        struct timespec quarter = {0, 250000000};
        int sig = sigtimedwait(&set, NULL, &quarter);
        if (sig < 0) {
            access_log_flush(0);
            if (errno == EAGAIN && tick % 240 == 0)
                atomic_fetch_add(&policy_gen, 1);
            continue;
        }
        if (sig == SIGHUP) {
            /* Versions in the vault were checked when applied: a reload is
             * a switch to the one in force now. */
            fprintf(stderr, "sargs: SIGHUP: following the policy version in force\n");
            atomic_fetch_add(&policy_gen, 1);
            continue;
        }
        break;
    }
    /* Graceful: stop accepting, let requests in flight finish (10 s at most),
     * then stop. */
    fprintf(stderr, "sargs: stopping\n");
    MHD_quiesce_daemon(d);
    for (int i = 0; i < 1000 && atomic_load(&in_flight) > 0; i++)
        usleep(10000);
    /* The writer finishes what is queued and stops before the daemon does:
     * it must not resume a connection the daemon has closed. A request
     * still arriving on an open connection is then answered 503. */
    pthread_mutex_lock(&q_lock);
    q_stop = 1;
    pthread_cond_signal(&q_wake);
    pthread_mutex_unlock(&q_lock);
    pthread_join(writer, NULL);
    MHD_stop_daemon(d);
    access_log_flush(1);
    stop_keeper(keeper);
    sg_vault_close(keeper_vault);
    sg_vault_close(writer_vault);
    for (size_t i = 0; i < nhandles; i++)
        sg_vault_close(handles[i]);
    free(handles);
    free(metrics);
    return 0;
}
