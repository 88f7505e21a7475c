/*
 * test_vault.c - people and their data end to end through the library:
 * sealing per person, look-up, rectification with history, erasure, key
 * rotation (with crash recovery), backup and restore, tampering, and bad
 * input that must change nothing.
 */
#include "teststore.h"

#include "sargs/audit.h"

#include <sys/stat.h>

#include "../../src/lib/vault/record.h"
#include "../../src/lib/vault/vault_int.h"

static char dir[64];
static struct sg_clock clk;
static struct sg_vault_opts opts;
static struct sg_policy *policy; /* tests/data/people.yaml, loaded once */
static const struct sg_actor who = {"tester", "operator", "testing", NULL, NULL};

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(dir);
    sg_time t;
    assert_int_equal(sg_time_parse("2026-11-23T10:00:00Z", &t, NULL), SG_OK);
    sg_clock_init_fixed(&clk, t);
    memset(&opts, 0, sizeof opts);
    opts.dir = dir;
    opts.clock = &clk;
    char db[128];
    snprintf(db, sizeof db, "%s/sargs.db", dir);
    ts_setup(db);
    opts.store = ts_vault_store();
    opts.policy = policy;
    struct sg_err e;
    if (sg_vault_init(&opts, &e) != SG_OK)
        fail_msg("init: %s", e.msg);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ts_teardown();
    tu_rmrf(dir);
    return 0;
}

static struct sg_vault *vopen(void)
{
    struct sg_vault *v = NULL;
    struct sg_err e;
    if (sg_vault_open(&opts, &v, &e) != SG_OK)
        fail_msg("open: %s", e.msg);
    return v;
}

#define F(c, v)                                                                                    \
    {                                                                                              \
        c, v, sizeof(v) - 1                                                                        \
    }

static struct sg_uuid add_person(struct sg_vault *v, const char *email)
{
    struct sg_field_in f[] = {
        F("name", "J\xc4\x81nis"),          F("surname", "B\xc4\x93rzi\xc5\x86\xc5\xa1"),
        {"email", email, strlen(email)},    F("phone", "2912 3456"),
        F("personal_code", "010190-12345"), F("country", "lv"),
    };
    struct sg_uuid id;
    struct sg_err e;
    if (sg_subject_add(v, &who, f, 6, NULL, 0, &id, &e) != SG_OK)
        fail_msg("add: %s", e.msg);
    return id;
}

static const char *field(const struct sg_subject *s, const char *cat)
{
    for (size_t i = 0; i < s->nfields; i++)
        if (strcmp(s->fields[i].category, cat) == 0)
            return s->fields[i].value;
    return NULL;
}

#define db_count ts_count
#define db_exec  ts_exec

/* A digest of everything in the database but the audit table: what "bad
 * input changes nothing" compares. */
static int64_t db_state(void)
{
    return db_count("SELECT (SELECT count(*) FROM subjects) * 1000000 + "
                    "(SELECT count(*) FROM lookup) * 10000 + (SELECT count(*) FROM events) * 100 "
                    "+ (SELECT count(*) FROM history) + "
                    "(SELECT coalesce(sum(length(record)), 0) FROM subjects) * 1000000000 + "
                    "(SELECT coalesce(sum(changed), 0) FROM subjects)");
}

struct action_count {
    const char *action;
    int n;
};

static int count_action(void *ctx, const struct sg_audit_entry *e)
{
    struct action_count *c = ctx;
    c->n += strcmp(e->action, c->action) == 0;
    return 0;
}

static int count_actions(struct sg_vault *v, const char *action)
{
    struct action_count c = {action, 0};
    struct sg_err e;
    if (sg_audit_log(v, &who, NULL, 0, 0, count_action, &c, &e) != SG_OK)
        fail_msg("audit log: %s", e.msg);
    return c.n;
}

static void test_init_layout(void **state)
{
    (void)state;
    char p[160];
    struct stat st;
    static const char *files[] = {"keys/master.key", "keys/index.key", "keys/erasures.log",
                                  "sargs.db"};
    for (size_t i = 0; i < (ts_pg() ? 3u : 4u); i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 077, 0);
    }
    snprintf(p, sizeof p, "%s/keys", dir);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    struct sg_err e;
    assert_int_equal(sg_vault_init(&opts, &e), SG_CONFLICT);
    assert_non_null(strstr(e.msg, "already exists"));
}

static void test_add_get(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_uuid id = add_person(v, "Janis.B@Example.LV");
    struct sg_subject *s = NULL;
    struct sg_err e;
    assert_int_equal(sg_subject_get(v, &who, &id, 0, &s, &e), SG_OK);
    assert_int_equal(s->nfields, 6);
    assert_string_equal(field(s, "user.contact.email"), "Janis.B@Example.LV");
    assert_string_equal(field(s, "user.contact.phone_number"), "+37129123456");
    assert_string_equal(field(s, "user.name.last"), "B\xc4\x93rzi\xc5\x86\xc5\xa1");
    assert_string_equal(field(s, "user.contact.address.country"), "LV");
    assert_int_equal(s->state, SG_STATE_ACTIVE);
    assert_int_equal(s->created, clk.at);
    assert_int_equal(s->nevents, 1);
    assert_string_equal(s->events[0].name, "created");
    assert_int_equal(s->events[0].at, clk.at);
    sg_subject_free(s);
    sg_vault_close(v);

    /* Nothing personal is stored in clear. */
    static char buf[1 << 20];
    size_t n = ts_dump(buf, sizeof buf);
    static const char *needles[] = {"Example", "example", "29123456", "01019012345",
                                    "J\xc4\x81nis"};
    for (size_t i = 0; i < sizeof needles / sizeof needles[0]; i++)
        assert_null(memmem(buf, n, needles[i], strlen(needles[i])));
    /* One audit entry per operation (init, its first policy, add, read). */
    assert_int_equal(db_count("SELECT count(*) FROM audit_log"), 4);
    v = vopen();
    assert_int_equal(count_actions(v, "subject.read"), 1);
    assert_int_equal(count_actions(v, "subject.create"), 1);
    assert_int_equal(count_actions(v, "vault.init"), 1);
    assert_int_equal(count_actions(v, "policy.apply"), 1);
    sg_vault_close(v);
}

static void test_find(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_uuid a = add_person(v, "anna@example.lv");
    struct sg_uuid b = add_person(v, "ANNA@example.lv"); /* same address, other person */
    struct sg_uuid c = add_person(v, "other@example.lv");
    (void)c;
    struct sg_uuid ids[4];
    size_t n = 0;
    struct sg_err e;
    assert_int_equal(sg_subject_find(v, &who, "email", " Anna@Example.lv ", 17, ids, 4, &n, &e),
                     SG_OK);
    assert_int_equal(n, 2);
    assert_true(sg_uuid_equal(&ids[0], &a) || sg_uuid_equal(&ids[1], &a));
    assert_true(sg_uuid_equal(&ids[0], &b) || sg_uuid_equal(&ids[1], &b));
    /* Only `max` are copied, the count is complete. */
    assert_int_equal(sg_subject_find(v, &who, "email", "anna@example.lv", 15, ids, 1, &n, &e),
                     SG_OK);
    assert_int_equal(n, 2);
    assert_int_equal(sg_subject_find(v, &who, "phone", "+371 2912 3456", 14, ids, 4, &n, &e),
                     SG_OK);
    assert_int_equal(n, 3);
    assert_int_equal(sg_subject_find(v, &who, "personal_code", "01019012345", 11, ids, 4, &n, &e),
                     SG_OK);
    assert_int_equal(n, 3);
    assert_int_equal(sg_subject_find(v, &who, "email", "nobody@example.lv", 17, ids, 4, &n, &e),
                     SG_OK);
    assert_int_equal(n, 0);
    assert_int_equal(sg_subject_find(v, &who, "name", "x", 1, ids, 4, &n, &e), SG_INVALID);
    assert_non_null(strstr(e.msg, "not indexed"));
    assert_int_equal(sg_subject_find(v, &who, "nope", "x", 1, ids, 4, &n, &e), SG_INVALID);
    assert_int_equal(sg_subject_find(v, &who, "email", "not-an-email", 12, ids, 4, &n, &e),
                     SG_INVALID);
    sg_vault_close(v);
}

static void test_update_history(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_uuid id = add_person(v, "old@example.lv");
    clk.at += SG_USEC_PER_DAY;
    struct sg_field_in f[] = {F("email", "new@example.lv"), F("name", "J\xc4\x81nis")};
    size_t changed = 9;
    struct sg_err e;
    assert_int_equal(sg_subject_update(v, &who, &id, f, 2, "person asked", &changed, &e), SG_OK);
    assert_int_equal(changed, 1); /* the name did not change */
    struct sg_subject *s;
    assert_int_equal(sg_subject_get(v, &who, &id, SG_GET_HISTORY, &s, &e), SG_OK);
    assert_string_equal(field(s, "user.contact.email"), "new@example.lv");
    assert_int_equal(s->nhistory, 1);
    assert_string_equal(s->history[0].category, "user.contact.email");
    assert_string_equal(s->history[0].old_value, "old@example.lv");
    assert_string_equal(s->history[0].reason, "person asked");
    assert_string_equal(s->history[0].actor, "tester");
    assert_int_equal(s->history[0].at, clk.at);
    assert_int_equal(s->changed, clk.at);
    sg_subject_free(s);
    size_t n = 0;
    struct sg_uuid ids[2];
    assert_int_equal(sg_subject_find(v, &who, "email", "old@example.lv", 14, ids, 2, &n, &e),
                     SG_OK);
    assert_int_equal(n, 0);
    assert_int_equal(sg_subject_find(v, &who, "email", "new@example.lv", 14, ids, 2, &n, &e),
                     SG_OK);
    assert_int_equal(n, 1);
    /* A new category is a change too, with no old value. */
    struct sg_field_in lang[] = {F("language", "en")};
    assert_int_equal(sg_subject_update(v, &who, &id, lang, 1, "added", &changed, &e), SG_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(sg_subject_get(v, &who, &id, SG_GET_HISTORY, &s, &e), SG_OK);
    assert_int_equal(s->nhistory, 2);
    assert_null(s->history[1].old_value);
    sg_subject_free(s);
    /* Reasons are required and checked. */
    assert_int_equal(sg_subject_update(v, &who, &id, f, 1, "", &changed, &e), SG_INVALID);
    assert_int_equal(sg_subject_update(v, &who, &id, f, 1, "  ", &changed, &e), SG_INVALID);
    assert_int_equal(sg_subject_update(v, &who, &id, f, 1, NULL, &changed, &e), SG_INVALID);
    assert_int_equal(sg_subject_update(v, &who, &id, f, 1, "a\nb", &changed, &e), SG_INVALID);
    assert_int_equal(sg_subject_update(v, &who, &id, f, 0, "x", &changed, &e), SG_INVALID);
    sg_vault_close(v);
}

static void test_touch_list(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_uuid id = add_person(v, "a@example.lv");
    add_person(v, "b@example.lv");
    add_person(v, "c@example.lv");
    struct sg_err e;
    assert_int_equal(sg_subject_touch(v, &who, &id, "last_login", 42, &e), SG_OK);
    assert_int_equal(sg_subject_touch(v, &who, &id, "Last-Login", 42, &e), SG_INVALID);
    assert_int_equal(sg_subject_touch(v, &who, &id, "", 42, &e), SG_INVALID);
    assert_int_equal(sg_subject_touch(v, &who, &id, "created", 42, &e), SG_INVALID);
    struct sg_uuid ghost;
    sg_uuid_v7(clk.at, &ghost);
    assert_int_equal(sg_subject_touch(v, &who, &ghost, "last_login", 42, &e), SG_NOTFOUND);
    struct sg_subject *s;
    assert_int_equal(sg_subject_get(v, &who, &id, 0, &s, &e), SG_OK);
    assert_int_equal(s->nevents, 2);
    sg_subject_free(s);
    sg_vault_close(v);
}

static int count_rows(void *ctx, const struct sg_subject_row *row)
{
    struct sg_uuid *last = ctx;
    assert_true(memcmp(last->b, row->id.b, 16) < 0);
    *last = row->id;
    return 0;
}

static void test_created_imported(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_field_in f[] = {F("name", "A")};
    struct sg_event_in ev[] = {{"created", 1000 * SG_USEC_PER_SEC}, {"confirmed", 7}};
    struct sg_uuid id;
    struct sg_err e;
    assert_int_equal(sg_subject_add(v, &who, f, 1, ev, 2, &id, &e), SG_OK);
    struct sg_subject *s;
    assert_int_equal(sg_subject_get(v, &who, &id, 0, &s, &e), SG_OK);
    assert_int_equal(s->created, 1000 * SG_USEC_PER_SEC);
    assert_int_equal(s->nevents, 2);
    sg_subject_free(s);
    sg_vault_close(v);
}

static void test_list_pages(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_err e;
    assert_int_equal(sg_vault_begin(v, &e), SG_OK);
    for (int i = 0; i < 250; i++) {
        char em[32];
        snprintf(em, sizeof em, "p%d@example.lv", i);
        add_person(v, em);
    }
    assert_int_equal(sg_vault_commit(v, &e), SG_OK);
    struct sg_uuid last = {{0}};
    int pages = 0;
    for (;;) {
        struct sg_uuid before = last;
        assert_int_equal(
            sg_subject_list(v, &who, pages ? &last : NULL, 100, count_rows, &last, NULL, NULL, &e),
            SG_OK);
        if (sg_uuid_equal(&before, &last))
            break;
        pages++;
    }
    assert_int_equal(pages, 3);
    sg_vault_close(v);
}

static void test_erase(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_uuid id = add_person(v, "gone@example.lv");
    struct sg_uuid keep = add_person(v, "kept@example.lv");
    struct sg_err e;
    assert_int_equal(sg_subject_erase(v, &who, &id, &e), SG_OK);
    struct sg_subject *s = NULL;
    assert_int_equal(sg_subject_get(v, &who, &id, 0, &s, &e), SG_NOTFOUND);
    assert_non_null(strstr(e.msg, "erased"));
    assert_int_equal(sg_subject_erase(v, &who, &id, &e), SG_CONFLICT);
    struct sg_uuid ids[2];
    size_t n = 9;
    assert_int_equal(sg_subject_find(v, &who, "email", "gone@example.lv", 15, ids, 2, &n, &e),
                     SG_OK);
    assert_int_equal(n, 0);
    struct sg_field_in f[] = {F("name", "x")};
    assert_int_equal(sg_subject_update(v, &who, &id, f, 1, "r", NULL, &e), SG_NOTFOUND);
    assert_int_equal(sg_subject_touch(v, &who, &id, "last_login", 1, &e), SG_NOTFOUND);
    assert_int_equal(sg_subject_get(v, &who, &keep, 0, &s, &e), SG_OK);
    sg_subject_free(s);
    struct sg_uuid ghost;
    sg_uuid_v7(clk.at, &ghost);
    assert_int_equal(sg_subject_erase(v, &who, &ghost, &e), SG_NOTFOUND);
    sg_vault_close(v);
    /* Key, record and look-up entries gone, tombstone kept, erasure journaled. */
    assert_int_equal(db_count("SELECT count(*) FROM subjects WHERE dek IS NULL AND record IS "
                              "NULL AND state = 4"),
                     1);
    assert_int_equal(db_count("SELECT count(*) FROM subjects WHERE record IS NOT NULL"), 1);
    assert_int_equal(db_count("SELECT count(*) FROM lookup"), 3);
    char p[160], line[256];
    snprintf(p, sizeof p, "%s/keys/erasures.log", dir);
    FILE *j = fopen(p, "r");
    assert_non_null(j);
    int erasures = 0, others = 0;
    char ids_s[SG_UUID_STR_LEN + 1], ghost_s[SG_UUID_STR_LEN + 1];
    sg_uuid_format(&id, ids_s);
    sg_uuid_format(&ghost, ghost_s);
    /* The refused erasures wrote nothing, not even a cancelled line. */
    while (fgets(line, sizeof line, j)) {
        if (strstr(line, ids_s))
            erasures += line[0] == 'E' ? 1 : 100;
        others += strstr(line, ghost_s) != NULL;
    }
    fclose(j);
    assert_int_equal(erasures, 1);
    assert_int_equal(others, 0);
}

static void test_bad_input_changes_nothing(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_uuid id = add_person(v, "x@example.lv");
    int64_t before = db_state();
    int64_t audits = db_count("SELECT count(*) FROM audit_log");
    struct sg_err e;
    struct sg_uuid out;
    char *big = malloc(70000);
    memset(big, 'a', 70000);
    struct {
        struct sg_field_in f[2];
        size_t n;
        enum sg_rc want;
    } bad[] = {
        {{F("name", "ok"), F("nope", "x")}, 2, SG_INVALID},
        {{F("name", "ok"), F("email", "broken")}, 2, SG_INVALID},
        {{F("name", "ok"), F("phone", "12ab")}, 2, SG_INVALID},
        {{F("name", "bad \xff utf8"), F("email", "a@b.lv")}, 2, SG_INVALID},
        {{F("name", "ok"), {"surname", big, 70000}}, 2, SG_TOOBIG},
        {{F("name", "a"), F("user.name.first", "b")}, 2, SG_INVALID},
        {{{NULL, "x", 1}}, 1, SG_INVALID},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(sg_subject_add(v, &who, bad[i].f, bad[i].n, NULL, 0, &out, &e),
                         bad[i].want);
        assert_int_equal(sg_subject_update(v, &who, &id, bad[i].f, bad[i].n, "r", NULL, &e),
                         bad[i].want);
        /* Never the value in the message. */
        assert_null(strstr(e.msg, "broken"));
        assert_null(strstr(e.msg, "12ab"));
    }
    struct sg_event_in ev = {"Bad Name", 1};
    struct sg_field_in ok[] = {F("name", "ok")};
    assert_int_equal(sg_subject_add(v, &who, ok, 1, &ev, 1, &out, &e), SG_INVALID);
    struct sg_actor nobody = {"", "operator", "testing", NULL, NULL};
    assert_int_equal(sg_subject_add(v, &nobody, ok, 1, NULL, 0, &out, &e), SG_INVALID);
    struct sg_actor nopurpose = {"me", "operator", NULL, NULL, NULL};
    assert_int_equal(sg_subject_add(v, &nopurpose, ok, 1, NULL, 0, &out, &e), SG_INVALID);
    free(big);
    sg_vault_close(v);
    assert_int_equal(db_state(), before);
    assert_int_equal(db_count("SELECT count(*) FROM audit_log"), audits);
}

/* Reads subject `id`'s record, lets `edit` change the parsed entries (which
 * point into `rec` or into `other`, another person's record), writes it back. */
static void tamper(const struct sg_uuid *id, const struct sg_uuid *other,
                   void (*edit)(struct sg_rec_entry *e, size_t n, struct sg_rec_entry *o,
                                size_t no))
{
    uint8_t rec[4096], orec[4096];
    size_t len = ts_get_record(id, rec, sizeof rec), olen = 0;
    if (other)
        olen = ts_get_record(other, orec, sizeof orec);
    struct sg_rec_entry e[16], o[16];
    size_t n = 0, no = 0;
    assert_int_equal(sg_record_parse(rec, len, e, 16, &n, NULL), SG_OK);
    if (other)
        assert_int_equal(sg_record_parse(orec, olen, o, 16, &no, NULL), SG_OK);
    edit(e, n, o, no);
    struct sg_buf out;
    sg_buf_init(&out, 1 << 20);
    /* Without the person's key the tag cannot be forged: keep the old one,
     * so that what is tested is each value's own authentication. */
    static const uint8_t zero[SG_KEY_BYTES];
    assert_int_equal(sg_record_encode(e, n, zero, id, &out, NULL), SG_OK);
    memcpy(out.ptr + out.len - SG_RECORD_TAG_BYTES, rec + len - SG_RECORD_TAG_BYTES,
           SG_RECORD_TAG_BYTES);
    ts_set_record(id, out.ptr, out.len);
    sg_buf_release(&out);
}

static int code_of(const char *cat)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT code FROM categories WHERE id = '%s'", cat);
    return (int)db_count(sql);
}

static uint8_t flipped[512];
static int email_code, first_code, last_code, country_code;

static void flip_email(struct sg_rec_entry *e, size_t n, struct sg_rec_entry *o, size_t no)
{
    (void)o;
    (void)no;
    for (size_t i = 0; i < n; i++) {
        if (e[i].code != email_code)
            continue;
        memcpy(flipped, e[i].sealed, e[i].sealed_len);
        flipped[30] ^= 0x01;
        e[i].sealed = flipped;
    }
}

static void move_from_other(struct sg_rec_entry *e, size_t n, struct sg_rec_entry *o, size_t no)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < no; j++)
            if (e[i].code == first_code && o[j].code == first_code) {
                e[i].sealed = o[j].sealed;
                e[i].sealed_len = o[j].sealed_len;
            }
}

static void swap_fields(struct sg_rec_entry *e, size_t n, struct sg_rec_entry *o, size_t no)
{
    (void)o;
    (void)no;
    struct sg_rec_entry *last = NULL, *country = NULL;
    for (size_t i = 0; i < n; i++) {
        if (e[i].code == last_code)
            last = &e[i];
        if (e[i].code == country_code)
            country = &e[i];
    }
    if (!last || !country)
        fail_msg("categories missing from the record");
    country->sealed = last->sealed;
    country->sealed_len = last->sealed_len;
}

static void drop_email(struct sg_rec_entry *e, size_t n, struct sg_rec_entry *o, size_t no)
{
    (void)o;
    (void)no;
    for (size_t i = 0; i + 1 < n; i++)
        if (e[i].code == email_code)
            memmove(&e[i], &e[i + 1], (n - i - 1) * sizeof *e);
}

static void test_field_removed(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_uuid a = add_person(v, "a@example.lv");
    sg_vault_close(v);
    email_code = code_of("user.contact.email");
    /* Remove the e-mail entry from the record: every value left still opens,
     * only the record's tag shows that something is missing. */
    uint8_t rec[4096];
    size_t len = ts_get_record(&a, rec, sizeof rec);
    struct sg_rec_entry e[16];
    size_t n = 0;
    assert_int_equal(sg_record_parse(rec, len, e, 16, &n, NULL), SG_OK);
    drop_email(e, n, NULL, 0); /* the caller then encodes one entry fewer */
    struct sg_buf out;
    sg_buf_init(&out, 1 << 20);
    static const uint8_t zero[SG_KEY_BYTES];
    assert_int_equal(sg_record_encode(e, n - 1, zero, &a, &out, NULL), SG_OK);
    memcpy(out.ptr + out.len - SG_RECORD_TAG_BYTES, rec + len - SG_RECORD_TAG_BYTES,
           SG_RECORD_TAG_BYTES);
    ts_set_record(&a, out.ptr, out.len);
    sg_buf_release(&out);

    v = vopen();
    struct sg_subject *s = NULL;
    struct sg_err err;
    assert_int_equal(sg_subject_get(v, &who, &a, 0, &s, &err), SG_CRYPTO);
    assert_non_null(strstr(err.msg, "record failed authentication"));
    /* An update does not launder the tampered record with a fresh tag. */
    struct sg_field_in f[] = {F("name", "New")};
    assert_int_equal(sg_subject_update(v, &who, &a, f, 1, "r", NULL, &err), SG_CRYPTO);
    /* Erasure still works, and takes every look-up entry with it. */
    assert_int_equal(sg_subject_erase(v, &who, &a, &err), SG_OK);
    sg_vault_close(v);
    assert_int_equal(db_count("SELECT count(*) FROM lookup"), 0);

    /* Even with a record too damaged to read its structure. */
    v = vopen();
    struct sg_uuid b = add_person(v, "b@example.lv");
    sg_vault_close(v);
    db_exec(ts_pg() ? "UPDATE subjects SET record = '\\x01ff' WHERE record IS NOT NULL"
                    : "UPDATE subjects SET record = x'01ff' WHERE record IS NOT NULL");
    v = vopen();
    assert_int_equal(sg_subject_erase(v, &who, &b, &err), SG_OK);
    sg_vault_close(v);
    assert_int_equal(db_count("SELECT count(*) FROM lookup"), 0);
}

static void test_tamper(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_uuid a = add_person(v, "a@example.lv");
    struct sg_uuid b = add_person(v, "b@example.lv");
    struct sg_uuid c = add_person(v, "c@example.lv");
    sg_vault_close(v);
    email_code = code_of("user.contact.email");
    first_code = code_of("user.name.first");
    last_code = code_of("user.name.last");
    country_code = code_of("user.contact.address.country");
    char ids[SG_UUID_STR_LEN + 1];

    /* A flipped bit in one value: detected and named, never skipped. */
    sg_uuid_format(&a, ids);
    tamper(&a, NULL, flip_email);
    v = vopen();
    struct sg_subject *s = NULL;
    struct sg_err e;
    assert_int_equal(sg_subject_get(v, &who, &a, 0, &s, &e), SG_CRYPTO);
    assert_non_null(strstr(e.msg, "user.contact.email"));
    assert_non_null(strstr(e.msg, ids));
    assert_null(s);
    /* Others are unaffected. */
    assert_int_equal(sg_subject_get(v, &who, &c, 0, &s, &e), SG_OK);
    sg_subject_free(s);
    sg_vault_close(v);

    /* C's name moved into B's record: fails to open, as it is bound to C. */
    tamper(&b, &c, move_from_other);
    v = vopen();
    assert_int_equal(sg_subject_get(v, &who, &b, 0, &s, &e), SG_CRYPTO);
    assert_non_null(strstr(e.msg, "user.name.first"));
    sg_vault_close(v);

    /* A value moved between two fields of the same person. */
    tamper(&c, NULL, swap_fields);
    v = vopen();
    assert_int_equal(sg_subject_get(v, &who, &c, 0, &s, &e), SG_CRYPTO);
    assert_non_null(strstr(e.msg, "user.contact.address.country"));
    sg_vault_close(v);

    /* A truncated record, and one naming a category code nobody knows. */
    db_exec("UPDATE subjects SET record = substr(record, 1, 40) WHERE record IS NOT NULL");
    v = vopen();
    assert_int_equal(sg_subject_get(v, &who, &a, 0, &s, &e), SG_CRYPTO);
    assert_non_null(strstr(e.msg, "truncated"));
    sg_vault_close(v);
    db_exec(ts_pg() ? "UPDATE subjects SET record = '\\x017fff'::bytea || substr(record, 4)"
                    : "UPDATE subjects SET record = x'01' || x'7fff' || substr(record, 4)");
    v = vopen();
    assert_int_equal(sg_subject_get(v, &who, &a, 0, &s, &e), SG_CRYPTO);
    sg_vault_close(v);

    /* A damaged wrapped key. */
    db_exec(ts_pg() ? "UPDATE subjects SET dek = '\\x00'::bytea || substr(dek, 2)"
                    : "UPDATE subjects SET dek = x'00' || substr(dek, 2)");
    v = vopen();
    assert_int_equal(sg_subject_get(v, &who, &b, 0, &s, &e), SG_CRYPTO);
    sg_vault_close(v);
}

static void test_wrong_master_key(void **state)
{
    (void)state;
    char other[160];
    snprintf(other, sizeof other, "%s/other.key", dir);
    struct sg_key *k;
    assert_int_equal(sg_key_generate(&k, NULL), SG_OK);
    assert_int_equal(sg_key_save(k, SG_KEY_KEK, other, NULL), SG_OK);
    struct sg_vault_opts o = opts;
    o.master_key_file = other;
    struct sg_vault *v = NULL;
    struct sg_err e;
    assert_int_equal(sg_vault_open(&o, &v, &e), SG_CRYPTO);
    assert_non_null(strstr(e.msg, "is not the key of this vault"));
    assert_non_null(strstr(e.msg, k->id));
    assert_null(v);
    sg_key_free(k);
    o.master_key_file = "/nonexistent/master.key";
    assert_int_equal(sg_vault_open(&o, &v, &e), SG_NOTFOUND);
    struct sg_vault_opts none = opts;
    char missing[160], empty[600], schema[32];
    snprintf(missing, sizeof missing, "%s/nothing-here", dir);
    none.dir = missing;
    if (ts_pg()) {
        ts_new_schema(empty, schema); /* a database without a vault */
        none.store = empty;
    }
    assert_int_equal(sg_vault_open(&none, &v, &e), SG_NOTFOUND);
    assert_non_null(strstr(e.msg, "sargs init"));
}

static void test_rotate(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_uuid a = add_person(v, "a@example.lv");
    add_person(v, "b@example.lv");
    struct sg_uuid gone = add_person(v, "c@example.lv");
    struct sg_err e;
    assert_int_equal(sg_subject_erase(v, &who, &gone, &e), SG_OK);
    int64_t fields_before = db_count("SELECT sum(length(record)) FROM subjects");
    struct sg_rotate_report rep;
    assert_int_equal(sg_vault_rotate_key(v, &who, &rep, &e), SG_OK);
    assert_int_equal(rep.rewrapped, 2);
    assert_string_not_equal(rep.old_id, rep.new_id);
    struct sg_subject *s;
    assert_int_equal(sg_subject_get(v, &who, &a, 0, &s, &e), SG_OK);
    sg_subject_free(s);
    sg_vault_close(v);
    /* Field values were not touched: the cost does not follow the data. */
    assert_int_equal(db_count("SELECT sum(length(record)) FROM subjects"), fields_before);
    char p[200];
    snprintf(p, sizeof p, "%s/keys/retired/%s.key", dir, rep.old_id);
    struct sg_key *old;
    assert_int_equal(sg_key_load(p, SG_KEY_KEK, &old, &e), SG_OK);
    assert_string_equal(old->id, rep.old_id);
    sg_key_free(old);
    v = vopen();
    assert_int_equal(sg_subject_get(v, &who, &a, 0, &s, &e), SG_OK);
    sg_subject_free(s);
    sg_vault_close(v);
}

static void test_rotate_crash_recovery(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_uuid a = add_person(v, "a@example.lv");
    struct sg_err e;
    struct sg_rotate_report rep;
    assert_int_equal(sg_vault_rotate_key(v, &who, &rep, &e), SG_OK);
    sg_vault_close(v);
    /* Simulate a crash after the commit, before the key file was replaced:
     * the new key is still beside the old one. */
    char cur[160], next[170], retired[200];
    snprintf(cur, sizeof cur, "%s/keys/master.key", dir);
    snprintf(next, sizeof next, "%s.next", cur);
    snprintf(retired, sizeof retired, "%s/keys/retired/%s.key", dir, rep.old_id);
    assert_int_equal(rename(cur, next), 0);
    FILE *in = fopen(retired, "r"), *out = fopen(cur, "w");
    int ch;
    while ((ch = fgetc(in)) != EOF)
        fputc(ch, out);
    fclose(in);
    fclose(out);
    chmod(cur, 0600);
    v = vopen(); /* finishes the rotation */
    struct sg_subject *s;
    assert_int_equal(sg_subject_get(v, &who, &a, 0, &s, &e), SG_OK);
    sg_subject_free(s);
    sg_vault_close(v);
    struct stat st;
    assert_int_not_equal(stat(next, &st), 0);
    struct sg_key *k;
    assert_int_equal(sg_key_load(cur, SG_KEY_KEK, &k, &e), SG_OK);
    assert_string_equal(k->id, rep.new_id);
    sg_key_free(k);

    /* A leftover new key from a rotation that never committed is dropped. */
    assert_int_equal(sg_key_generate(&k, NULL), SG_OK);
    assert_int_equal(sg_key_save(k, SG_KEY_KEK, next, NULL), SG_OK);
    sg_key_free(k);
    v = vopen();
    sg_vault_close(v);
    assert_int_not_equal(stat(next, &st), 0);
}

static void test_backup_restore(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_uuid a = add_person(v, "a@example.lv");
    struct sg_uuid b = add_person(v, "b@example.lv");
    char bak[160];
    snprintf(bak, sizeof bak, "%s/backup.db", dir);
    struct sg_err e;
    assert_int_equal(sg_vault_backup(v, &who, bak, &e), SG_OK);
    assert_int_equal(sg_vault_backup(v, &who, bak, &e), SG_CONFLICT);
    /* After the backup: b is erased, c is added. */
    clk.at += 3600 * SG_USEC_PER_SEC;
    assert_int_equal(sg_subject_erase(v, &who, &b, &e), SG_OK);
    struct sg_uuid c = add_person(v, "c@example.lv");
    sg_vault_close(v);

    /* The backup holds no key and no clear value. */
    FILE *f = fopen(bak, "rb");
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_null(memmem(buf, n, "example.lv", 10));
    assert_null(memmem(buf, n, "sargs-key", 9));

    struct sg_restore_report rep;
    assert_int_equal(sg_vault_restore(&opts, &who, bak, &rep, &e), SG_OK);
    assert_int_equal(rep.reerased, 1);
    v = vopen();
    struct sg_subject *s = NULL;
    assert_int_equal(sg_subject_get(v, &who, &a, 0, &s, &e), SG_OK);
    sg_subject_free(s);
    /* The person erased after the backup did not come back. */
    assert_int_equal(sg_subject_get(v, &who, &b, 0, &s, &e), SG_NOTFOUND);
    struct sg_uuid ids[2];
    size_t found = 9;
    assert_int_equal(sg_subject_find(v, &who, "email", "b@example.lv", 12, ids, 2, &found, &e),
                     SG_OK);
    assert_int_equal(found, 0);
    /* The person added after the backup is gone: the backup is the state. */
    assert_int_equal(sg_subject_get(v, &who, &c, 0, &s, &e), SG_NOTFOUND);
    sg_vault_close(v);

    /* The database lost entirely: only the keys directory and the backup. */
    ts_lose_database();
    assert_int_equal(sg_vault_restore(&opts, &who, bak, &rep, &e), SG_OK);
    assert_int_equal(rep.reerased, 1);
    v = vopen();
    assert_int_equal(sg_subject_get(v, &who, &a, 0, &s, &e), SG_OK);
    sg_subject_free(s);
    assert_int_equal(sg_subject_get(v, &who, &b, 0, &s, &e), SG_NOTFOUND);
    sg_vault_close(v);
}

static void test_restore_after_rotation(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_uuid a = add_person(v, "a@example.lv");
    char bak[160];
    snprintf(bak, sizeof bak, "%s/backup.db", dir);
    struct sg_err e;
    assert_int_equal(sg_vault_backup(v, &who, bak, &e), SG_OK);
    struct sg_rotate_report rot;
    assert_int_equal(sg_vault_rotate_key(v, &who, &rot, &e), SG_OK);
    sg_vault_close(v);
    struct sg_restore_report rep;
    assert_int_equal(sg_vault_restore(&opts, &who, bak, &rep, &e), SG_OK);
    assert_int_equal(rep.rewrapped, 1);
    v = vopen();
    struct sg_subject *s;
    assert_int_equal(sg_subject_get(v, &who, &a, 0, &s, &e), SG_OK);
    sg_subject_free(s);
    sg_vault_close(v);
    /* With the retired key deleted, the old backup cannot be restored. */
    char p[200];
    snprintf(p, sizeof p, "%s/keys/retired/%s.key", dir, rot.old_id);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(sg_vault_restore(&opts, &who, bak, &rep, &e), SG_CRYPTO);
    assert_non_null(strstr(e.msg, rot.old_id));
    /* ...and the live data is untouched by the failed attempt. */
    v = vopen();
    assert_int_equal(sg_subject_get(v, &who, &a, 0, &s, &e), SG_OK);
    sg_subject_free(s);
    sg_vault_close(v);
}

static void test_restore_refusals(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    add_person(v, "a@example.lv");
    char bak[160];
    snprintf(bak, sizeof bak, "%s/backup.db", dir);
    struct sg_err e;
    assert_int_equal(sg_vault_backup(v, &who, bak, &e), SG_OK);
    sg_vault_close(v);
    struct sg_restore_report rep;

    /* A backup of another vault. */
    char dir2[64], store2[600], schema2[32];
    tu_mkdtemp(dir2);
    struct sg_vault_opts o2 = opts;
    o2.dir = dir2;
    if (ts_pg()) {
        ts_new_schema(store2, schema2);
        o2.store = store2;
    }
    assert_int_equal(sg_vault_init(&o2, &e), SG_OK);
    assert_int_equal(sg_vault_restore(&o2, &who, bak, &rep, &e), SG_CONFLICT);
    assert_non_null(strstr(e.msg, "vault"));
    tu_rmrf(dir2);

    /* Not a database at all. */
    char junk[160];
    snprintf(junk, sizeof junk, "%s/junk.db", dir);
    FILE *f = fopen(junk, "w");
    fputs("this is not a database, just text that is long enough to have a header......"
          "...........................................................................",
          f);
    fclose(f);
    assert_int_not_equal(sg_vault_restore(&opts, &who, junk, &rep, &e), SG_OK);
    snprintf(junk, sizeof junk, "%s/none.db", dir);
    assert_int_equal(sg_vault_restore(&opts, &who, junk, &rep, &e), SG_NOTFOUND);

    /* Without the journal a restore could resurrect people: refused. */
    char j[160], j2[170];
    snprintf(j, sizeof j, "%s/keys/erasures.log", dir);
    snprintf(j2, sizeof j2, "%s.away", j);
    assert_int_equal(rename(j, j2), 0);
    assert_int_equal(sg_vault_restore(&opts, &who, bak, &rep, &e), SG_NOTFOUND);
    assert_non_null(strstr(e.msg, "journal"));
    struct sg_vault *vv = NULL;
    assert_int_equal(sg_vault_open(&opts, &vv, &e), SG_NOTFOUND);
    assert_int_equal(rename(j2, j), 0);

    /* A damaged journal line is not skipped. */
    f = fopen(j, "a");
    fputs("E 2026-11-23T10:00:00Z 01890a5d-ac96-774b-bcce-b302099a8057 0000000000000000\n", f);
    fclose(f);
    assert_int_equal(sg_vault_restore(&opts, &who, bak, &rep, &e), SG_CRYPTO);
    assert_non_null(strstr(e.msg, "damaged"));
}

static void test_journal_torn_and_cancel(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_uuid a = add_person(v, "a@example.lv");
    char bak[160];
    snprintf(bak, sizeof bak, "%s/backup.db", dir);
    struct sg_err e;
    assert_int_equal(sg_vault_backup(v, &who, bak, &e), SG_OK);
    sg_vault_close(v);
    char j[160], ids[SG_UUID_STR_LEN + 1];
    snprintf(j, sizeof j, "%s/keys/erasures.log", dir);
    sg_uuid_format(&a, ids);
    /* A torn last line (crash mid-write, the erasure never committed). */
    FILE *f = fopen(j, "a");
    fprintf(f, "E 2026-11-23T10:00:00Z %s", ids);
    fclose(f);
    struct sg_restore_report rep;
    assert_int_equal(sg_vault_restore(&opts, &who, bak, &rep, &e), SG_OK);
    assert_int_equal(rep.reerased, 0);
    v = vopen();
    struct sg_subject *s;
    assert_int_equal(sg_subject_get(v, &who, &a, 0, &s, &e), SG_OK);
    sg_subject_free(s);
    sg_vault_close(v);
}

/* The erasure lines ('E') of the vault's journal. */
static int journaled_erasures(void)
{
    char j[160], line[256];
    snprintf(j, sizeof j, "%s/keys/erasures.log", dir);
    FILE *f = fopen(j, "r");
    assert_non_null(f);
    int lines = 0;
    while (fgets(line, sizeof line, f))
        lines += line[0] == 'E';
    fclose(f);
    return lines;
}

static void test_batch(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_err e;
    int64_t entries = db_count("SELECT count(*) FROM audit_log");
    assert_int_equal(sg_vault_begin(v, &e), SG_OK);
    assert_int_equal(sg_vault_begin(v, &e), SG_CONFLICT);
    struct sg_uuid a = add_person(v, "a@example.lv");
    struct sg_uuid b = add_person(v, "b@example.lv");
    assert_int_equal(sg_subject_erase(v, &who, &b, &e), SG_OK);
    /* A failing call inside the batch leaves the rest of it alone. */
    struct sg_uuid ghost;
    sg_uuid_v7(clk.at, &ghost);
    assert_int_equal(sg_subject_erase(v, &who, &ghost, &e), SG_NOTFOUND);
    assert_int_equal(sg_subject_erase(v, &who, &b, &e), SG_CONFLICT);
    struct sg_rotate_report rep;
    assert_int_equal(sg_vault_rotate_key(v, &who, &rep, &e), SG_CONFLICT);
    assert_int_equal(sg_vault_commit(v, &e), SG_OK);
    assert_int_equal(sg_vault_commit(v, &e), SG_CONFLICT);
    /* The failed erasures left no audit entry behind (on PostgreSQL they
     * fail when their savepoint is released, after their entry was made):
     * two people added, one erased. */
    assert_int_equal(db_count("SELECT count(*) FROM audit_log"), entries + 3);
    struct sg_audit_report rep0 = {0};
    assert_int_equal(sg_audit_verify(v, &who, &rep0, &e), SG_OK);
    assert_true(rep0.ok);
    struct sg_subject *s;
    assert_int_equal(sg_subject_get(v, &who, &a, 0, &s, &e), SG_OK);
    sg_subject_free(s);
    assert_int_equal(sg_subject_get(v, &who, &b, 0, &s, &e), SG_NOTFOUND);
    /* A rolled-back batch leaves nothing, not even a journal line. */
    int64_t before = db_state();
    assert_int_equal(sg_vault_begin(v, &e), SG_OK);
    add_person(v, "c@example.lv");
    assert_int_equal(sg_subject_erase(v, &who, &a, &e), SG_OK);
    sg_vault_rollback(v);
    assert_int_equal(db_state(), before);
    assert_int_equal(sg_subject_get(v, &who, &a, 0, &s, &e), SG_OK);
    sg_subject_free(s);
    sg_vault_close(v);
    assert_int_equal(journaled_erasures(), 1);
}

/* Re-applying the journal in place: idempotent, not inside a batch (a
 * restore by other means is its use: tests/cli, test_cli.py). */
static void test_reapply_erasures(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_uuid a = add_person(v, "a@example.lv");
    struct sg_err e;
    assert_int_equal(sg_subject_erase(v, &who, &a, &e), SG_OK);
    size_t n = 9;
    assert_int_equal(sg_vault_reapply_erasures(v, &who, &n, &e), SG_OK);
    assert_int_equal(n, 0); /* nothing was lost */
    assert_int_equal(sg_vault_begin(v, &e), SG_OK);
    assert_int_equal(sg_vault_reapply_erasures(v, &who, &n, &e), SG_CONFLICT);
    assert_int_equal(sg_vault_commit(v, &e), SG_OK);
    /* The row brought back as it was before the erasure (a recovery to a
     * point before it would): erased again. */
    db_exec(ts_pg() ? "UPDATE subjects SET state = 0, dek = '\\x00', record = '\\x00'"
                    : "UPDATE subjects SET state = 0, dek = x'00', record = x'00'");
    assert_int_equal(sg_vault_reapply_erasures(v, &who, &n, &e), SG_OK);
    assert_int_equal(n, 1);
    assert_int_equal(db_count("SELECT count(*) FROM subjects WHERE state = 4 AND dek IS NULL AND "
                              "record IS NULL"),
                     1);
    /* Someone anonymised, then erased: their last line counts, once. */
    struct sg_uuid b = add_person(v, "b@example.lv");
    struct sg_journal_entry an = {'A', clk.at, b};
    assert_int_equal(sg_journal_append(v->journal_path, &an, 1, &e), SG_OK);
    assert_int_equal(sg_subject_erase(v, &who, &b, &e), SG_OK);
    assert_int_equal(sg_vault_reapply_erasures(v, &who, &n, &e), SG_OK);
    assert_int_equal(n, 0);
    sg_vault_close(v);
}

/* An operation inside another (a fulfilment that erases) is a savepoint of
 * it: when the outer one fails, the inner one's erasure leaves no journal
 * line behind (a restore would erase the person after all) and nothing is
 * signed or committed on its own. */
static void test_nested_ops(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_uuid a = add_person(v, "a@example.lv");
    struct sg_err e;
    struct sg_audit_head h0, h1;
    assert_int_equal(sg_audit_latest(v, &h0, &e), SG_OK);
    int64_t before = db_state();
    struct sg_opmark mark;
    assert_int_equal(sg_op_begin(v, &mark, &e), SG_OK);
    assert_int_equal(sg_subject_erase(v, &who, &a, &e), SG_OK);
    assert_int_equal(sg_op_end(v, mark, sg_err_set(&e, SG_INVALID, "later step failed"), &e),
                     SG_INVALID);
    assert_int_equal(db_state(), before);
    assert_int_equal(sg_audit_latest(v, &h1, &e), SG_OK);
    assert_int_equal(h1.size, h0.size);
    sg_audit_head_release(&h1);
    struct sg_subject *s;
    assert_int_equal(sg_subject_get(v, &who, &a, 0, &s, &e), SG_OK);
    sg_subject_free(s);
    /* The same, succeeding: one signed head for the whole, the erasure
     * journaled once. */
    assert_int_equal(sg_op_begin(v, &mark, &e), SG_OK);
    assert_int_equal(sg_subject_erase(v, &who, &a, &e), SG_OK);
    assert_int_equal(sg_op_end(v, mark, SG_OK, &e), SG_OK);
    assert_int_equal(sg_audit_latest(v, &h1, &e), SG_OK);
    assert_true(h1.size > h0.size);
    sg_audit_head_release(&h1);
    sg_audit_head_release(&h0);
    sg_vault_close(v);
    assert_int_equal(journaled_erasures(), 1);
}

/* Groups inside a transaction: undone whole, or kept for the commit. */
static void test_groups(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_err e;
    assert_int_equal(sg_vault_group(v, &e), SG_CONFLICT); /* no transaction */
    struct sg_uuid keep = add_person(v, "keep@example.lv");
    int64_t before = db_state();
    assert_int_equal(sg_vault_begin(v, &e), SG_OK);
    assert_int_equal(sg_vault_group(v, &e), SG_OK);
    add_person(v, "gone@example.lv");
    assert_int_equal(sg_subject_erase(v, &who, &keep, &e), SG_OK);
    assert_int_equal(sg_vault_group_end(v, 0, &e), SG_OK);
    assert_int_equal(sg_vault_group_end(v, 1, &e), SG_CONFLICT); /* none open */
    assert_int_equal(sg_vault_group(v, &e), SG_OK);
    struct sg_uuid b = add_person(v, "b@example.lv");
    assert_int_equal(sg_vault_group_end(v, 1, &e), SG_OK);
    assert_int_equal(sg_vault_commit(v, &e), SG_OK);
    assert_true(db_state() != before);
    struct sg_subject *s;
    assert_int_equal(sg_subject_get(v, &who, &keep, 0, &s, &e), SG_OK); /* not erased */
    sg_subject_free(s);
    assert_int_equal(sg_subject_get(v, &who, &b, 0, &s, &e), SG_OK);
    sg_subject_free(s);
    struct sg_uuid found[2];
    size_t n = 9;
    assert_int_equal(sg_subject_find(v, &who, "email", "gone@example.lv", 15, found, 2, &n, &e),
                     SG_OK);
    assert_int_equal(n, 0);
    sg_vault_close(v);
    /* and the undone erasure left no journal line */
    assert_int_equal(journaled_erasures(), 0);
}

static void test_audit_failure_stops_operation(void **state)
{
    (void)state;
    /* If the audit entry cannot be written, the operation does not happen. */
    if (ts_pg())
        db_exec("CREATE FUNCTION audit_broken() RETURNS trigger LANGUAGE plpgsql AS "
                "$$BEGIN RAISE EXCEPTION 'audit store unavailable'; END$$;"
                "CREATE TRIGGER audit_broken BEFORE INSERT ON audit_log "
                "FOR EACH ROW EXECUTE FUNCTION audit_broken()");
    else
        db_exec("CREATE TRIGGER audit_broken BEFORE INSERT ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit store unavailable'); END");
    struct sg_vault *v = vopen();
    int64_t before = db_state();
    struct sg_field_in f[] = {F("name", "x")};
    struct sg_uuid id;
    struct sg_err e;
    assert_int_not_equal(sg_subject_add(v, &who, f, 1, NULL, 0, &id, &e), SG_OK);
    assert_non_null(strstr(e.msg, "audit"));
    sg_vault_close(v);
    assert_int_equal(db_state(), before);
}

/* A vault moves from SQLite to PostgreSQL through backup and restore (one
 * backup format), and the erasure made after the backup still holds. */
static void test_move_to_postgres(void **state)
{
    (void)state;
    if (!ts_pg())
        skip();
    char dir3[64];
    tu_mkdtemp(dir3);
    struct sg_vault_opts lite = opts;
    lite.dir = dir3;
    lite.store = NULL;
    struct sg_err e;
    assert_int_equal(sg_vault_init(&lite, &e), SG_OK);
    struct sg_vault *v = NULL;
    assert_int_equal(sg_vault_open(&lite, &v, &e), SG_OK);
    struct sg_uuid a = add_person(v, "a@example.lv");
    struct sg_uuid b = add_person(v, "b@example.lv");
    char bak[160];
    snprintf(bak, sizeof bak, "%s/move.db", dir3);
    assert_int_equal(sg_vault_backup(v, &who, bak, &e), SG_OK);
    assert_int_equal(sg_subject_erase(v, &who, &b, &e), SG_OK);
    sg_vault_close(v);

    struct sg_vault_opts pg = lite;
    char store[600], schema[32];
    ts_new_schema(store, schema);
    pg.store = store;
    struct sg_restore_report rep;
    if (sg_vault_restore(&pg, &who, bak, &rep, &e) != SG_OK)
        fail_msg("restore: %s", e.msg);
    assert_int_equal(rep.reerased, 1);
    assert_int_equal(sg_vault_open(&pg, &v, &e), SG_OK);
    struct sg_subject *s = NULL;
    assert_int_equal(sg_subject_get(v, &who, &a, 0, &s, &e), SG_OK);
    assert_string_equal(field(s, "user.contact.email"), "a@example.lv");
    sg_subject_free(s);
    assert_int_equal(sg_subject_get(v, &who, &b, 0, &s, &e), SG_NOTFOUND);
    struct sg_uuid ids[2];
    size_t n = 9;
    assert_int_equal(sg_subject_find(v, &who, "email", "a@example.lv", 12, ids, 2, &n, &e), SG_OK);
    assert_int_equal(n, 1);
    add_person(v, "c@example.lv"); /* and it goes on working */
    sg_vault_close(v);
    tu_rmrf(dir3);
}

/* The server stops in the middle of a batch: the failing call says
 * SG_UNAVAILABLE, the batch leaves nothing behind, and the same handle
 * works again once the server is back. */
static void test_server_away(void **state)
{
    (void)state;
    if (!ts_pg())
        skip();
    const char *pw = getenv("SARGS_TEST_PG_PASSWORD");
    struct sg_vault *v = vopen();
    struct sg_uuid kept = add_person(v, "kept@example.lv");
    int64_t before = db_state();
    int64_t audits = db_count("SELECT count(*) FROM audit_log");
    struct sg_err e;
    assert_int_equal(sg_vault_begin(v, &e), SG_OK);
    add_person(v, "a@example.lv");
    add_person(v, "b@example.lv");
    ts_server("pause");
    struct sg_field_in f[] = {F("name", "C")};
    struct sg_uuid id;
    assert_int_equal(sg_subject_add(v, &who, f, 1, NULL, 0, &id, &e), SG_UNAVAILABLE);
    assert_null(strstr(e.msg, pw));
    assert_non_null(strstr(e.msg, "try again"));
    assert_int_not_equal(sg_vault_commit(v, &e), SG_OK);
    /* One operation alone, while the server is away. */
    assert_int_equal(sg_subject_erase(v, &who, &kept, &e), SG_UNAVAILABLE);
    ts_server("resume");
    /* Nothing of the batch or of the erasure was written. */
    assert_int_equal(db_state(), before);
    assert_int_equal(db_count("SELECT count(*) FROM audit_log"), audits);
    struct sg_subject *s = NULL;
    assert_int_equal(sg_subject_get(v, &who, &kept, 0, &s, &e), SG_OK);
    sg_subject_free(s);
    struct sg_uuid c = add_person(v, "c@example.lv");
    assert_int_equal(sg_subject_get(v, &who, &c, 0, &s, &e), SG_OK);
    sg_subject_free(s);
    sg_vault_close(v);
}

/* ------------------------------------------------------------ policy */

/* The test policy with text replaced: pairs of (from, to), NULL-ended. */
static struct sg_policy *variant(const char *from, ...)
{
    struct sg_buf b;
    sg_buf_init(&b, 1 << 20);
    assert_int_equal(sg_buf_adds(&b, policy->source, NULL), SG_OK);
    va_list ap;
    va_start(ap, from);
    for (const char *f = from; f; f = va_arg(ap, const char *)) {
        const char *to = va_arg(ap, const char *);
        char *at = strstr(b.ptr, f);
        if (!at)
            fail_msg("'%s' not in the test policy", f);
        struct sg_buf n;
        sg_buf_init(&n, 1 << 20);
        assert_int_equal(sg_buf_add(&n, b.ptr, (size_t)(at - b.ptr), NULL), SG_OK);
        assert_int_equal(sg_buf_adds(&n, to, NULL), SG_OK);
        assert_int_equal(sg_buf_adds(&n, at + strlen(f), NULL), SG_OK);
        sg_buf_release(&b);
        b = n;
    }
    va_end(ap);
    struct sg_policy *p = NULL;
    struct sg_policy_problems pr;
    struct sg_err e;
    sg_policy_problems_init(&pr);
    if (sg_policy_load(b.ptr, b.len, "variant", &p, &pr, &e) != SG_OK)
        fail_msg("variant: %s (%s)", e.msg, pr.n ? pr.v[0].msg : "");
    sg_policy_problems_release(&pr);
    sg_buf_release(&b);
    return p;
}

/* Adds a job-title category used by the service purpose. */
static struct sg_policy *with_job(void)
{
    return variant("categories:\n",
                   "categories:\n  - {id: user.job.title, alias: job, type: line, "
                   "name: {lv: amats, en: job title}}\n",
                   "personal_code, country, language]", "personal_code, country, language, job]",
                   NULL);
}

static int count_versions(void *ctx, const struct sg_policy_version *ver)
{
    (void)ver;
    (*(int *)ctx)++;
    return 0;
}

static int add_job(struct sg_vault *v, struct sg_err *e)
{
    struct sg_field_in f[] = {F("name", "Anna"), F("job", "skolotāja")};
    struct sg_uuid id;
    return sg_subject_add(v, &who, f, 2, NULL, 0, &id, e);
}

static void test_policy_bound(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    const struct sg_policy *p = sg_vault_policy(v);
    assert_non_null(p);
    assert_string_equal(p->hash, policy->hash);
    assert_ptr_not_equal(p, policy); /* the vault's own copy, from the database */
    const struct sg_policy_version *ver = sg_vault_policy_version(v);
    assert_int_equal(ver->seq, 1);
    sg_time eff;
    assert_int_equal(sg_time_parse("2026-01-01", &eff, NULL), SG_OK);
    assert_int_equal(ver->effective, eff); /* the file's own date */
    assert_int_equal(ver->applied, clk.at);
    struct sg_policy_version at;
    struct sg_err e;
    assert_int_equal(sg_vault_policy_at(v, clk.at, &at, &e), SG_OK);
    assert_int_equal(at.seq, 1);
    assert_int_equal(sg_vault_policy_at(v, eff - 1, &at, &e), SG_NOTFOUND);
    assert_non_null(strstr(e.msg, "no policy version"));
    sg_vault_close(v);
    /* The version table cannot be edited behind sargs' back. */
    assert_int_not_equal(ts_exec_rc("UPDATE policies SET effective = 0"), 0);
    assert_int_not_equal(ts_exec_rc("DELETE FROM policies"), 0);
    /* A vault is bound to a policy from the start. */
    struct sg_vault_opts none = opts;
    char d2[64];
    tu_mkdtemp(d2);
    tu_rmrf(d2);
    none.dir = d2;
    none.policy = NULL;
    assert_int_equal(sg_vault_init(&none, &e), SG_INVALID);
    assert_non_null(strstr(e.msg, "policy"));
}

static void test_policy_apply_later(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_policy *next = with_job();
    struct sg_err e;
    struct sg_policy_version ver;
    sg_time later = clk.at + 30 * SG_USEC_PER_DAY;
    int64_t audits = db_count("SELECT count(*) FROM audit_log");
    assert_int_equal(sg_vault_policy_apply(v, &who, next, later, &ver, &e), SG_OK);
    assert_int_equal(ver.seq, 2);
    assert_int_equal(ver.effective, later);
    assert_int_equal(db_count("SELECT count(*) FROM audit_log"), audits + 1);
    /* Not yet in force: the new category is still unknown. */
    assert_int_equal(add_job(v, &e), SG_INVALID);
    assert_non_null(strstr(e.msg, "unknown category"));
    struct sg_policy_version at;
    assert_int_equal(sg_vault_policy_at(v, clk.at, &at, &e), SG_OK);
    assert_int_equal(at.seq, 1);
    assert_int_equal(sg_vault_policy_at(v, later, &at, &e), SG_OK);
    assert_int_equal(at.seq, 2);
    assert_string_equal(at.hash, next->hash);
    /* Which text was in force then, loaded back. */
    struct sg_policy *old = NULL;
    assert_int_equal(sg_vault_policy_load_at(v, clk.at, &old, &at, &e), SG_OK);
    assert_string_equal(old->hash, policy->hash);
    sg_policy_free(old);
    sg_vault_close(v);

    /* A month later the new version is in force at open, and both are kept. */
    clk.at = later + 1;
    v = vopen();
    assert_int_equal(sg_vault_policy_version(v)->seq, 2);
    assert_int_equal(add_job(v, &e), SG_OK);
    int n = 0;
    assert_int_equal(sg_vault_policy_list(v, count_versions, &n, &e), SG_OK);
    assert_int_equal(n, 2);
    sg_vault_close(v);
    sg_policy_free(next);
}

static void test_policy_apply_now_and_refusals(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_err e;
    struct sg_policy *next = with_job();
    int64_t before = db_count("SELECT count(*) FROM policies");
    int64_t audits = db_count("SELECT count(*) FROM audit_log");

    /* The past cannot be rewritten. */
    assert_int_equal(sg_vault_policy_apply(v, &who, next, clk.at - 1, NULL, &e), SG_INVALID);
    assert_non_null(strstr(e.msg, "past"));
    /* The version in force is not applied again. */
    assert_int_equal(sg_vault_policy_apply(v, &who, policy, 0, NULL, &e), SG_CONFLICT);
    assert_non_null(strstr(e.msg, "already in force"));
    /* A category may not change its type or indexing. */
    struct sg_policy *bad = variant("alias: email, type: email", "alias: email, type: line", NULL);
    assert_int_equal(sg_vault_policy_apply(v, &who, bad, 0, NULL, &e), SG_CONFLICT);
    assert_non_null(strstr(e.msg, "user.contact.email"));
    sg_policy_free(bad);
    bad = variant("type: phone, indexed: true", "type: phone, indexed: false", NULL);
    assert_int_equal(sg_vault_policy_apply(v, &who, bad, 0, NULL, &e), SG_CONFLICT);
    assert_non_null(strstr(e.msg, "blind-indexed"));
    sg_policy_free(bad);
    /* An actor is required. */
    const struct sg_actor nobody = {"", "operator", "testing", NULL, NULL};
    assert_int_equal(sg_vault_policy_apply(v, &nobody, next, 0, NULL, &e), SG_INVALID);
    assert_int_equal(db_count("SELECT count(*) FROM policies"), before);
    assert_int_equal(db_count("SELECT count(*) FROM audit_log"), audits);

    /* Applied now (the file's own date is past): in force at once. */
    struct sg_uuid id = add_person(v, "keep@example.lv");
    const struct sg_policy *first = sg_vault_policy(v);
    struct sg_policy_version ver;
    assert_int_equal(sg_vault_policy_apply(v, &who, next, 0, &ver, &e), SG_OK);
    assert_int_equal(ver.effective, clk.at);
    assert_string_equal(sg_vault_policy(v)->hash, next->hash);
    /* The replaced version stays readable through the handle. */
    assert_non_null(first->catalog.cats);
    assert_int_equal(add_job(v, &e), SG_OK);
    /* Data stored under the old version still reads and is still found. */
    struct sg_subject *s = NULL;
    assert_int_equal(sg_subject_get(v, &who, &id, 0, &s, &e), SG_OK);
    assert_string_equal(field(s, "user.contact.email"), "keep@example.lv");
    sg_subject_free(s);
    struct sg_uuid found;
    size_t nf = 0;
    assert_int_equal(sg_subject_find(v, &who, "email", "keep@example.lv", 15, &found, 1, &nf, &e),
                     SG_OK);
    assert_int_equal(nf, 1);
    /* Refresh finds nothing new. */
    assert_int_equal(sg_vault_policy_refresh(v, &e), SG_OK);
    assert_int_equal(sg_vault_policy_version(v)->seq, 2);
    sg_vault_close(v);
    sg_policy_free(next);
}

static void test_policy_refresh(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_err e;
    struct sg_policy *next = with_job();
    sg_time later = clk.at + SG_USEC_PER_DAY;
    assert_int_equal(sg_vault_policy_apply(v, &who, next, later, NULL, &e), SG_OK);
    assert_int_equal(sg_vault_policy_refresh(v, &e), SG_OK);
    assert_int_equal(sg_vault_policy_version(v)->seq, 1);
    clk.at = later; /* the handle's clock moves on: a refresh switches */
    assert_int_equal(sg_vault_policy_refresh(v, &e), SG_OK);
    assert_int_equal(sg_vault_policy_version(v)->seq, 2);
    assert_int_equal(add_job(v, &e), SG_OK);
    sg_vault_close(v);
    sg_policy_free(next);
}

int main(void)
{
    assert_int_equal(sg_crypto_init(NULL), SG_OK);
    policy = tu_policy("people.yaml");
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_init_layout),
        T(test_add_get),
        T(test_find),
        T(test_update_history),
        T(test_touch_list),
        T(test_created_imported),
        T(test_list_pages),
        T(test_erase),
        T(test_bad_input_changes_nothing),
        T(test_tamper),
        T(test_field_removed),
        T(test_wrong_master_key),
        T(test_rotate),
        T(test_rotate_crash_recovery),
        T(test_backup_restore),
        T(test_restore_after_rotation),
        T(test_restore_refusals),
        T(test_journal_torn_and_cancel),
        T(test_nested_ops),
        T(test_groups),
        T(test_batch),
        T(test_reapply_erasures),
        T(test_audit_failure_stops_operation),
        T(test_move_to_postgres),
        T(test_server_away),
        T(test_policy_bound),
        T(test_policy_apply_later),
        T(test_policy_apply_now_and_refusals),
        T(test_policy_refresh),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    sg_policy_free(policy);
    return r;
}
