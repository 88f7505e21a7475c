/*
 * sweep.c - the retention sweeper; see sargs/retention.h.
 *
 * People come a page at a time with their events and done marks
 * (store.h sweep_scan: two ordered range reads per page), are evaluated in
 * memory against every rule, and the actions of a page run in one
 * transaction, each person's in its own savepoint: one sync per page, and a
 * page lost to a crash is simply done again by the next run, as nothing in
 * it was marked done.
 */
#include "sargs/retention.h"

#include "../consent/consent_int.h"
#include "../outbox/outbox_int.h"
#include "../vault/vault_int.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE             1000
#define MAX_RULE_ACTIONS 64

static const char *const action_verbs[] = {
    [SG_ACT_DELETE] = "retention.delete",     [SG_ACT_ANONYMISE] = "retention.anonymise",
    [SG_ACT_HIDE] = "retention.hide",         [SG_ACT_NOTIFY] = "retention.notify",
    [SG_ACT_RESTRICT] = "retention.restrict", [SG_ACT_KEEP] = "retention.keep",
};

/* Order of execution: a notice before the data it needs is gone. */
static int action_rank(const struct sg_retention *r)
{
    switch (r->action) {
    case SG_ACT_NOTIFY:
        return 0;
    case SG_ACT_RESTRICT:
        return 1;
    case SG_ACT_HIDE:
        return 2;
    case SG_ACT_DELETE:
        return r->all_categories ? 4 : 3;
    case SG_ACT_ANONYMISE:
        return 4;
    default:
        return 5;
    }
}

struct due {
    const struct sg_retention *rule;
    sg_time anchor, due;
};

struct sweep {
    struct sg_vault *v;
    const struct sg_actor *who;
    unsigned flags;
    int (*on_action)(void *ctx, const struct sg_sweep_action *a);
    void *ctx;
    struct sg_sweep_report *rep;
    struct sg_err *err;
    enum sg_rc rc;
    int stop;
    sg_time now;
    const struct sg_policy *p;
    /* global events' latest dates, looked up once per sweep */
    const char *gnames[64];
    sg_time gat[64];
    int ghas[64];
    size_t ng;
    struct sg_uuid last;
    size_t seen;
};

static int report(struct sweep *w, const struct sg_uuid *id, const struct sg_retention *r,
                  enum sg_action act, sg_time due, const char *skipped)
{
    if (!w->on_action)
        return 0;
    struct sg_sweep_action a = {*id, r ? r->id : "", act, due, skipped};
    if (w->on_action(w->ctx, &a))
        w->stop = 1;
    return 0;
}

static const struct sg_event_def *global_def(const struct sg_policy *p, const char *name)
{
    for (size_t i = 0; i < p->nevents; i++)
        if (p->events[i].global && strcmp(p->events[i].id, name) == 0)
            return &p->events[i];
    return NULL;
}

static enum sg_rc global_date(struct sweep *w, const char *name, int *has, sg_time *at)
{
    for (size_t i = 0; i < w->ng; i++)
        if (strcmp(w->gnames[i], name) == 0) {
            *has = w->ghas[i];
            *at = w->gat[i];
            return SG_OK;
        }
    sg_time t = 0;
    enum sg_rc rc = w->v->store->ops->global_event_latest(w->v->store, name, w->now, &t, w->err);
    if (rc && rc != SG_NOTFOUND)
        return rc;
    *has = rc == SG_OK;
    *at = t;
    if (w->ng < 64) {
        w->gnames[w->ng] = name;
        w->ghas[w->ng] = *has;
        w->gat[w->ng++] = t;
    }
    return SG_OK;
}

static const struct sg_store_event *event_of(const struct sg_store_sweep_row *row, const char *n)
{
    for (size_t i = 0; i < row->nevents; i++)
        if (strcmp(row->events[i].name, n) == 0)
            return &row->events[i];
    return NULL;
}

static int is_done(const struct sg_store_sweep_row *row, const char *rule, sg_time anchor)
{
    for (size_t i = 0; i < row->ndone; i++)
        if (row->done[i].anchor == anchor && strcmp(row->done[i].rule, rule) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------ the actions */

/* The value of a category on the loaded record, as text in `buf` (cap). */
static int field_text(struct sg_vault *v, const struct sg_uuid *id, const char *cat_id, char *buf,
                      size_t cap)
{
    const struct sg_category *c = sg_catalog_find(v->catalog, cat_id);
    char *val = NULL;
    size_t len = 0;
    buf[0] = '\0';
    if (!c || sg_vault_loaded_field(v, id, c, &val, &len, NULL) != SG_OK)
        return 0;
    snprintf(buf, cap, "%.*s", (int)len, val);
    sodium_memzero(val, len);
    free(val);
    return 1;
}

/* The e-mail a notice goes to: the policy's user.contact.email, or the
 * first e-mail category the person has. */
static int address_of(struct sg_vault *v, const struct sg_uuid *id, char *buf, size_t cap)
{
    if (field_text(v, id, SG_CATEGORY_EMAIL, buf, cap))
        return 1;
    for (size_t i = 0; i < v->catalog->n; i++)
        if (v->catalog->cats[i].type == SG_VT_EMAIL &&
            field_text(v, id, v->catalog->cats[i].id, buf, cap))
            return 1;
    return 0;
}

/* The next date a destructive rule will act on this person, for {{deadline}}. */
static sg_time next_deadline(struct sweep *w, const struct sg_store_sweep_row *row)
{
    sg_time best = 0;
    for (size_t i = 0; i < w->p->nretention; i++) {
        const struct sg_retention *r = &w->p->retention[i];
        if (!r->all_categories || !r->has_after ||
            (r->action != SG_ACT_ANONYMISE && r->action != SG_ACT_DELETE &&
             r->action != SG_ACT_HIDE))
            continue;
        const struct sg_store_event *e = event_of(row, r->anchor);
        sg_time anchor = strcmp(r->anchor, "created") == 0 ? row->created : e ? e->at : 0;
        if (!anchor)
            continue;
        sg_time due = sg_duration_add(anchor, &r->after);
        if (due > w->now && (!best || due < best))
            best = due;
    }
    return best;
}

static enum sg_rc act_notify(struct sweep *w, const struct sg_store_sweep_row *row,
                             const struct sg_store_subject *srow, const struct sg_retention *r)
{
    struct sg_vault *v = w->v;
    char to[256], name[128], lang[16], date[SG_TIME_STR_MAX], deadline[SG_TIME_STR_MAX] = "";
    if (!address_of(v, &row->id, to, sizeof to)) {
        w->rep->skipped_no_address++;
        report(w, &row->id, r, 0, 0, "no e-mail address to notify");
        return SG_OK;
    }
    field_text(v, &row->id, "user.name.first", name, sizeof name);
    field_text(v, &row->id, "user.demographic.language", lang, sizeof lang);
    sg_date_format(w->now, date);
    sg_time dl = next_deadline(w, row);
    if (dl)
        sg_date_format(dl, deadline);
    const struct sg_policy *p = w->p;
    const char *l = lang[0] && sg_policy_has_language(p, lang) ? lang : p->languages[0];
    const struct sg_contact *rc_contact = &p->requests.contact;
    const char *ctrl = p->ncontrollers ? sg_text_any(&p->controllers[0].contact.name, l) : NULL;
    const char *link = p->ncontrollers ? p->controllers[0].contact.web : NULL;
    const char *reach = rc_contact->email ? rc_contact->email : rc_contact->web;
    struct sg_template_vars vars = {name, ctrl, date, deadline, link, reach, reach, NULL, NULL};
    struct sg_buf subj, body;
    sg_buf_init(&subj, 4096);
    sg_buf_init(&body, 200000);
    enum sg_rc rc = sg_template_render(p, r->template, l, &vars, &subj, &body, w->err);
    if (!rc)
        rc = sg_outbox_queue(v, &row->id, srow->dek_version, r->template->id, to, subj.ptr,
                             body.ptr, w->now, NULL, w->err);
    sg_buf_release(&subj);
    sg_buf_release(&body);
    sodium_memzero(to, sizeof to);
    sodium_memzero(name, sizeof name);
    return rc;
}

/* Which values a category-level rule removes: its categories, and with a
 * `collected` anchor only the values older than the rule. */
struct drop_ctx {
    const struct sg_retention *r;
    int per_value;
    sg_time now;
};

static int rule_drops(void *ctx, const char *cat, sg_time changed)
{
    const struct drop_ctx *d = ctx;
    int named = 0;
    for (size_t k = 0; k < d->r->ncategories && !named; k++)
        named = strcmp(d->r->categories[k]->id, cat) == 0;
    return named && !(d->per_value && sg_duration_add(changed, &d->r->after) > d->now);
}

static enum sg_rc act_delete_fields(struct sweep *w, const struct sg_uuid *id,
                                    const struct sg_retention *r, int per_value, size_t *removed)
{
    struct drop_ctx d = {r, per_value, w->now};
    return sg_vault_drop_fields(w->v, id, rule_drops, &d, w->now, removed, w->err);
}

/* Files what the rule keeps under a fresh id: nothing leads back to the
 * person. `person` adds the row that counts them. */
static enum sg_rc stats_of(struct sweep *w, const struct sg_uuid *id,
                           const struct sg_store_sweep_row *row, const struct sg_retention *r,
                           int person)
{
    struct sg_vault *v = w->v;
    struct sg_store *s = v->store;
    if (!person && !r->nkeep)
        return SG_OK;
    uint8_t sid[16];
    randombytes_buf(sid, sizeof sid);
    int y, m, d;
    sg_civil_from_days(row->created / SG_USEC_PER_DAY, &y, &m, &d);
    enum sg_rc rc = person ? s->ops->stats_put(s, sid, "person", "anonymised", y, w->err) : SG_OK;
    char val[256];
    for (size_t k = 0; k < r->nkeep && !rc; k++)
        if (field_text(v, id, r->keep[k]->id, val, sizeof val))
            rc = s->ops->stats_put(s, sid, r->keep[k]->id, val, y, w->err);
    sodium_memzero(val, sizeof val);
    return rc;
}

static enum sg_rc keep_statistics(struct sweep *w, const struct sg_uuid *id,
                                  const struct sg_store_sweep_row *row,
                                  const struct sg_retention *r)
{
    return stats_of(w, id, row, r, 0);
}

static enum sg_rc act_anonymise(struct sweep *w, const struct sg_uuid *id,
                                const struct sg_store_sweep_row *row, const struct sg_retention *r)
{
    struct sg_vault *v = w->v;
    struct sg_store *s = v->store;
    enum sg_rc rc = stats_of(w, id, row, r, 1);
    if (!rc)
        rc = sg_shred_subject(s, v->kek, v->scratch, id, SG_STATE_ANONYMISED, w->now, w->err);
    if (!rc)
        rc = sg_op_journal(v, 'A', id, w->err);
    return rc;
}

/* Runs the due actions of one person, in one savepoint. */
static enum sg_rc act_on(struct sweep *w, const struct sg_store_sweep_row *row, struct due *d,
                         size_t nd)
{
    struct sg_vault *v = w->v;
    struct sg_store *s = v->store;
    struct sg_store_subject srow;
    struct sg_opmark mark;
    enum sg_rc rc = sg_op_begin(v, &mark, w->err);
    if (rc)
        return rc;
    /* The person's key only when an action reads or rewrites their data. */
    int need_key = 0;
    for (size_t i = 0; i < nd; i++)
        need_key |= d[i].rule->action == SG_ACT_NOTIFY || d[i].rule->action == SG_ACT_ANONYMISE ||
                    (d[i].rule->action == SG_ACT_DELETE && !d[i].rule->all_categories);
    rc = sg_vault_load_subject(v, &row->id, &srow, need_key, w->err);
    int gone = 0;
    for (size_t i = 0; i < nd && !rc && !gone; i++) {
        const struct sg_retention *r = d[i].rule;
        size_t removed = 0;
        int counted = 1, mark_done = 1;
        switch (r->action) {
        case SG_ACT_NOTIFY: {
            size_t before = w->rep->skipped_no_address;
            rc = act_notify(w, row, &srow, r);
            counted = w->rep->skipped_no_address == before;
            if (counted)
                w->rep->notified++;
            break;
        }
        case SG_ACT_RESTRICT:
            if (srow.state == SG_STATE_ACTIVE) {
                rc = s->ops->subject_set_state(s, &row->id, SG_STATE_RESTRICTED, w->now, w->err);
                srow.state = SG_STATE_RESTRICTED;
                w->rep->restricted++;
            } else {
                counted = 0;
            }
            break;
        case SG_ACT_HIDE:
            if (srow.state == SG_STATE_ACTIVE) {
                rc = s->ops->subject_set_state(s, &row->id, SG_STATE_HIDDEN, w->now, w->err);
                srow.state = SG_STATE_HIDDEN;
                w->rep->hidden++;
            } else {
                counted = 0;
            }
            break;
        case SG_ACT_DELETE:
            if (r->all_categories) {
                rc = sg_shred_subject(s, v->kek, v->scratch, &row->id, SG_STATE_ERASED, w->now,
                                      w->err);
                if (!rc)
                    rc = sg_op_journal(v, 'E', &row->id, w->err);
                w->rep->deleted++;
                gone = 1;
                mark_done = 0; /* the shred took the marks: the person is gone */
            } else {
                int per_value = strcmp(r->anchor, "collected") == 0;
                rc = act_delete_fields(w, &row->id, r, per_value, &removed);
                w->rep->fields_deleted += removed;
                counted = removed > 0;
                mark_done = !per_value;
            }
            break;
        case SG_ACT_ANONYMISE:
            if (r->all_categories) {
                rc = act_anonymise(w, &row->id, row, r);
                w->rep->anonymised++;
                gone = 1;
                mark_done = 0;
            } else {
                /* Only some categories: what `keep` names stays as
                 * statistics, the named values go; the person stays. */
                rc = keep_statistics(w, &row->id, row, r);
                if (!rc)
                    rc = act_delete_fields(w, &row->id, r, 0, &removed);
                w->rep->fields_deleted += removed;
                counted = removed > 0;
            }
            break;
        default:
            counted = 0;
            break;
        }
        if (!rc && mark_done)
            rc = s->ops->sweep_done_put(s, &row->id, r->id, d[i].anchor, w->now, w->err);
        if (!rc && counted) {
            rc = sg_audit_record_details(&v->audit, s, w->who, w->now, action_verbs[r->action],
                                         &row->id, "ok", 1, r->id, strlen(r->id), w->err);
            report(w, &row->id, r, r->action, d[i].due, NULL);
        }
    }
    sg_vault_forget_key(v);
    return sg_op_end(v, mark, rc, w->err);
}

static int by_rank(const void *a, const void *b)
{
    const struct due *x = a, *y = b;
    return action_rank(x->rule) - action_rank(y->rule);
}

/* Evaluates one person; acts unless it is a dry run. */
static int evaluate(void *ctx, const struct sg_store_sweep_row *row)
{
    struct sweep *w = ctx;
    w->last = row->id;
    w->seen++;
    w->rep->evaluated++;
    if (row->state == SG_STATE_ERASED || row->state == SG_STATE_ANONYMISED)
        return 0;
    struct due d[MAX_RULE_ACTIONS];
    size_t nd = 0;
    const struct sg_store_event *asked = event_of(row, "restriction_requested"),
                                *lifted = event_of(row, "restriction_lifted");
    int held = row->state == SG_STATE_RESTRICTED && asked && (!lifted || lifted->at < asked->at);
    for (size_t i = 0; i < w->p->nretention && nd < MAX_RULE_ACTIONS; i++) {
        const struct sg_retention *r = &w->p->retention[i];
        if (r->action == SG_ACT_KEEP || !r->has_after)
            continue;
        /* A restriction the person asked for (Art. 18) keeps the data as
         * it is: only notices go out. One the policy set (a contract ended)
         * runs its course. */
        if (held && r->action != SG_ACT_NOTIFY)
            continue;
        if (r->condition.missing_event && event_of(row, r->condition.missing_event))
            continue;
        if (r->condition.has_event && !event_of(row, r->condition.has_event))
            continue;
        sg_time anchor = 0;
        if (strcmp(r->anchor, "created") == 0) {
            anchor = row->created;
        } else if (strcmp(r->anchor, "collected") == 0) {
            /* Per value: decided against each value's own time when acting;
             * the earliest possible is the person's creation. */
            anchor = row->created;
        } else if (global_def(w->p, r->anchor)) {
            int has = 0;
            if ((w->rc = global_date(w, r->anchor, &has, &anchor)))
                return 1;
            if (!has)
                continue;
        } else {
            const struct sg_store_event *e = event_of(row, r->anchor);
            if (!e) {
                w->rep->skipped_no_anchor++;
                char why[96];
                snprintf(why, sizeof why, "no '%s' event", r->anchor);
                report(w, &row->id, r, 0, 0, why);
                continue;
            }
            anchor = e->at;
        }
        sg_time due = sg_duration_add(anchor, &r->after);
        if (due > w->now)
            continue;
        if (strcmp(r->anchor, "collected") != 0 && is_done(row, r->id, anchor))
            continue;
        d[nd++] = (struct due){r, anchor, due};
    }
    if (!nd)
        return 0;
    qsort(d, nd, sizeof *d, by_rank);
    if (w->flags & SG_SWEEP_DRY_RUN) {
        for (size_t i = 0; i < nd; i++)
            report(w, &row->id, d[i].rule, d[i].rule->action, d[i].due, NULL);
        w->rep->acted++;
        return w->stop;
    }
    enum sg_rc rc = act_on(w, row, d, nd);
    if (rc == SG_CRYPTO || rc == SG_CONFLICT || rc == SG_NOTFOUND) {
        /* One damaged or vanished record does not stop the others. */
        char why[SG_ERR_MSG_MAX + 16];
        snprintf(why, sizeof why, "not done: %s", w->err->msg);
        report(w, &row->id, NULL, 0, 0, why);
        return w->stop;
    }
    if (rc) {
        w->rc = rc;
        return 1;
    }
    w->rep->acted++;
    return w->stop;
}

enum sg_rc sg_sweep(struct sg_vault *v, const struct sg_actor *who, unsigned flags,
                    int (*on_action)(void *ctx, const struct sg_sweep_action *a),
                    void (*progress)(void *ctx, size_t evaluated), void *ctx,
                    struct sg_sweep_report *rep, struct sg_err *err)
{
    enum sg_rc rc;
    memset(rep, 0, sizeof *rep);
    if ((rc = sg_view_require_staff(v, who, "retention.sweep", err)))
        return rc;
    if (!v->policy)
        return sg_err_set(err, SG_INVALID, "the vault has no policy: no retention rules");
    if (v->explicit_tx)
        return sg_err_set(err, SG_CONFLICT, "a sweep cannot run inside a transaction");
    struct sweep w;
    memset(&w, 0, sizeof w);
    w.v = v;
    w.who = who;
    w.flags = flags;
    w.on_action = on_action;
    w.ctx = ctx;
    w.rep = rep;
    w.err = err;
    w.p = v->policy;
    w.now = sg_clock_now(v->clock);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int first = 1;
    for (;;) {
        size_t before = w.seen;
        struct sg_uuid after = w.last;
        int dry = flags & SG_SWEEP_DRY_RUN;
        if (!dry && (rc = sg_vault_begin(v, err)))
            break;
        rc = v->store->ops->sweep_scan(v->store, first ? NULL : &after, PAGE, evaluate, &w, err);
        if (!rc)
            rc = w.rc;
        if (!dry) {
            if (rc)
                sg_vault_rollback(v);
            else
                rc = sg_vault_commit(v, err);
        }
        first = 0;
        if (rc)
            break;
        if (progress)
            progress(ctx, rep->evaluated);
        if (w.seen - before < PAGE || w.stop)
            break;
    }
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rep->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    return rc;
}

enum sg_rc sg_global_event(struct sg_vault *v, const struct sg_actor *who, const char *name,
                           sg_time at, struct sg_err *err)
{
    enum sg_rc rc;
    if ((rc = sg_view_require_staff(v, who, "event.record", err)))
        return rc;
    if (!v->policy || !name || !global_def(v->policy, name))
        return sg_err_set(err, SG_INVALID, "'%.64s' is not an event the policy declares global",
                          name ? name : "");
    struct sg_opmark mark;
    if ((rc = sg_op_begin(v, &mark, err)))
        return rc;
    rc = v->store->ops->global_event_put(v->store, name, at, err);
    if (!rc)
        rc = sg_audit_record_details(&v->audit, v->store, who, sg_clock_now(v->clock),
                                     "event.record", NULL, "ok", 1, name, strlen(name), err);
    return sg_op_end(v, mark, rc, err);
}

enum sg_rc sg_statistics(struct sg_vault *v, const struct sg_actor *who,
                         int (*cb)(void *ctx, const char *category, const char *value, int year,
                                   uint64_t count),
                         void *ctx, struct sg_err *err)
{
    enum sg_rc rc = sg_view_require_staff(v, who, "statistics.read", err);
    if (rc)
        return rc;
    return v->store->ops->stats_each(v->store, cb, ctx, err);
}

enum sg_rc sg_retention_allowed(struct sg_vault *v, const struct sg_actor *who, struct sg_err *err)
{
    return sg_view_require_staff(v, who, "retention.read", err);
}
