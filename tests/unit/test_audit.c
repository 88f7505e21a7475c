/*
 * test_audit.c - the verifiable audit log: its frozen formats (leaf, C2SP
 * checkpoint, verifier key) checked against answers computed apart with
 * PyNaCl and hashlib; one signed head per transaction; proofs that check
 * against the heads; and tampering with the database - edits, deletions,
 * reordering, insertions, unsigned entries, forged heads, emptied entries -
 * each caught by sg_audit_verify. On SQLite or PostgreSQL (teststore.h):
 * the tampering is the same, written in each one's SQL where they differ.
 */
#include "teststore.h"

#include <sys/wait.h>

#include "sargs/audit.h"
#include "../../src/lib/audit/log.h"

#define KAT_LEAF                                                                                   \
    "010006608b015f30000005616c69636500086f70657261746f720007737570706f7274000c7375626a6563742e"   \
    "66696e6400077375626a65637400026f6b000102030405060708090a0b0c0d0e0f01aaaaaaaaaaaaaaaaaaaaaa"   \
    "aaaaaaaaaa0100000012757365722e636f6e746163742e656d61696c"
#define KAT_LEAF_HASH "8d4d07403213a9611c6b69ed280d640f49bdc839cb9c372bb4ed8e444ff76f07"
#define KAT_NAME      "sargs/01890a5d-ac96-774b-bcce-b302099a8057"
#define KAT_NOTE                                                                                   \
    KAT_NAME                                                                                       \
    "\n7\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n\xe2\x80\x94 " KAT_NAME                  \
    " cnFPvRdtRQu9R5DsIYjOob+vpedlmw4MuKzncqO8VuwGGT158f/oMPt8CIM3IMP2h4dREFXQIGzEPUpTOu3p"        \
    "kUdssw0=\n"
#define KAT_VKEY KAT_NAME "+72714fbd+ARdFU7RW3d/GkI7KscEB/mqyHiuqBhd5W31DpjSCmT/V"

static char dir[64];
static struct sg_policy *policy; /* tests/data/people.yaml */
static struct sg_clock clk;
static struct sg_vault_opts opts;
static const struct sg_actor who = {"alice", "operator", "support", NULL, NULL};

static void test_leaf_kat(void **state)
{
    (void)state;
    struct sg_actor a = {"alice", "operator", "support", NULL, NULL};
    uint8_t req[16], ps[16];
    for (int i = 0; i < 16; i++) {
        req[i] = (uint8_t)i;
        ps[i] = 0xaa;
    }
    const char *cat = "user.contact.email";
    struct sg_audit_rec r = {
        1795000000000000,     &a,         "subject.find", "subject", "ok", req, ps, 1,
        (const uint8_t *)cat, strlen(cat)};
    struct sg_buf b;
    sg_buf_init(&b, 1 << 16);
    assert_int_equal(sg_audit_leaf_encode(&r, &b, NULL), SG_OK);
    tu_assert_hex((const uint8_t *)b.ptr, b.len, KAT_LEAF);
    uint8_t h[32];
    sg_merkle_leaf_hash(b.ptr, b.len, h);
    tu_assert_hex(h, 32, KAT_LEAF_HASH);

    struct sg_audit_entry e;
    struct sg_buf tmp;
    sg_buf_init(&tmp, 1 << 16);
    const uint8_t *d;
    size_t dl;
    assert_int_equal(sg_audit_leaf_decode((const uint8_t *)b.ptr, b.len, &e, &tmp, &d, &dl, NULL),
                     SG_OK);
    assert_int_equal(e.at, 1795000000000000);
    assert_string_equal(e.actor, "alice");
    assert_string_equal(e.purpose, "support");
    assert_string_equal(e.action, "subject.find");
    assert_string_equal(e.result, "ok");
    assert_int_equal(e.has_subject, 1);
    assert_memory_equal(e.pseudonym, ps, 16);
    assert_int_equal(dl, strlen(cat));
    assert_memory_equal(d, cat, dl);
    /* Every truncation and any trailing byte is refused. */
    for (size_t l = 0; l < b.len; l++)
        assert_int_equal(sg_audit_leaf_decode((const uint8_t *)b.ptr, l, &e, &tmp, &d, &dl, NULL),
                         SG_CRYPTO);
    assert_int_equal(sg_buf_add(&b, "x", 1, NULL), SG_OK);
    assert_int_equal(sg_audit_leaf_decode((const uint8_t *)b.ptr, b.len, &e, &tmp, &d, &dl, NULL),
                     SG_CRYPTO);
    sg_buf_release(&b);
    sg_buf_release(&tmp);
}

static void test_checkpoint_kat(void **state)
{
    (void)state;
    uint8_t seed[32], root[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(0x60 + i);
    struct sg_key *k;
    assert_int_equal(sg_key_from_bytes(seed, &k, NULL), SG_OK);
    struct sg_signer s;
    assert_int_equal(sg_signer_init(&s, k, KAT_NAME, NULL), SG_OK);
    sg_key_free(k);
    sg_merkle_empty_root(root);
    char *note = NULL;
    assert_int_equal(sg_checkpoint_sign(&s, 7, root, &note, NULL), SG_OK);
    assert_string_equal(note, KAT_NOTE); /* Ed25519 is deterministic */
    char vkey[256];
    sg_signer_vkey(&s, vkey, sizeof vkey);
    assert_string_equal(vkey, KAT_VKEY);

    uint64_t size = 0;
    uint8_t got[32];
    struct sg_err e;
    assert_int_equal(sg_audit_check_head(KAT_NOTE, KAT_VKEY, &size, got, &e), SG_OK);
    assert_int_equal(size, 7);
    assert_memory_equal(got, root, 32);

    /* Any change to the text breaks the signature. */
    char bad[512];
    snprintf(bad, sizeof bad, "%s", KAT_NOTE);
    char *line2 = strchr(bad, '\n') + 1;
    *line2 = '8';
    assert_int_equal(sg_audit_check_head(bad, KAT_VKEY, &size, got, &e), SG_DENIED);
    snprintf(bad, sizeof bad, "%s", KAT_NOTE);
    bad[strlen(bad) - 5] ^= 1; /* inside the signature */
    assert_int_equal(sg_audit_check_head(bad, KAT_VKEY, &size, got, &e), SG_DENIED);
    /* Another key, even under the same name. */
    uint8_t seed2[32] = {1};
    assert_int_equal(sg_key_from_bytes(seed2, &k, NULL), SG_OK);
    struct sg_signer s2;
    assert_int_equal(sg_signer_init(&s2, k, KAT_NAME, NULL), SG_OK);
    sg_key_free(k);
    char vkey2[256];
    sg_signer_vkey(&s2, vkey2, sizeof vkey2);
    assert_int_equal(sg_audit_check_head(KAT_NOTE, vkey2, &size, got, &e), SG_DENIED);
    /* Malformed notes and keys. */
    assert_int_equal(sg_audit_check_head("no blank line\n", KAT_VKEY, &size, got, &e), SG_INVALID);
    assert_int_equal(sg_audit_check_head(KAT_NAME "\n07\nAAAA\n\n", KAT_VKEY, &size, got, &e),
                     SG_INVALID);
    assert_int_equal(sg_audit_check_head(KAT_NOTE, "nonsense", &size, got, &e), SG_INVALID);
    char vk3[256];
    snprintf(vk3, sizeof vk3, "%s", KAT_VKEY);
    vk3[strlen(KAT_NAME) + 1] = '0'; /* wrong key hash */
    assert_int_equal(sg_audit_check_head(KAT_NOTE, vk3, &size, got, &e), SG_INVALID);
    free(note);
    sg_signer_release(&s);
    sg_signer_release(&s2);
}

/* ------------------------------------------------------------- on a vault */

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

static struct sg_uuid add(struct sg_vault *v, const char *email)
{
    struct sg_field_in f[] = {{"name", "Anna", 4}, {"email", email, strlen(email)}};
    struct sg_uuid id;
    struct sg_err e;
    if (sg_subject_add(v, &who, f, 2, NULL, 0, &id, &e) != SG_OK)
        fail_msg("add: %s", e.msg);
    return id;
}

#define db_exec  ts_exec
#define db_count ts_count

/* What an administrator with the database in hand can do. */
static void unguard(void)
{
    ts_unguard_audit();
}

static void build_log(int people)
{
    struct sg_vault *v = vopen();
    for (int i = 0; i < people; i++) {
        char em[32];
        snprintf(em, sizeof em, "p%d@example.lv", i);
        add(v, em);
    }
    sg_vault_close(v);
}

static void expect_verify(int ok, uint64_t first_bad, const char *words)
{
    struct sg_vault *v = vopen();
    struct sg_audit_report rep;
    struct sg_err e;
    assert_int_equal(sg_audit_verify(v, &who, &rep, &e), SG_OK);
    sg_vault_close(v);
    if (rep.ok != ok)
        fail_msg("verify said %s: %s", rep.ok ? "ok" : "bad", rep.problem);
    if (!ok) {
        if (rep.first_bad != first_bad || !strstr(rep.problem, words))
            fail_msg("expected entry %llu and '%s', got %llu: %s", (unsigned long long)first_bad,
                     words, (unsigned long long)rep.first_bad, rep.problem);
    }
}

static void test_heads_per_transaction(void **state)
{
    (void)state;
    build_log(5); /* init (and its policy) + 5 adds: 6 transactions */
    assert_int_equal(db_count("SELECT count(*) FROM audit_log"), 7);
    assert_int_equal(db_count("SELECT count(*) FROM audit_heads"), 6);
    struct sg_vault *v = vopen();
    struct sg_err e;
    /* A batch: many entries, one head (group commit). */
    assert_int_equal(sg_vault_begin(v, &e), SG_OK);
    for (int i = 0; i < 10; i++) {
        char em[32];
        snprintf(em, sizeof em, "b%d@example.lv", i);
        add(v, em);
    }
    /* A failed call inside the batch leaves no entry. */
    struct sg_uuid ghost;
    sg_uuid_v7(clk.at, &ghost);
    assert_int_equal(sg_subject_erase(v, &who, &ghost, &e), SG_NOTFOUND);
    assert_int_equal(sg_vault_commit(v, &e), SG_OK);
    /* A rolled-back batch leaves nothing either. */
    assert_int_equal(sg_vault_begin(v, &e), SG_OK);
    add(v, "gone@example.lv");
    sg_vault_rollback(v);
    struct sg_audit_head h;
    assert_int_equal(sg_audit_latest(v, &h, &e), SG_OK);
    assert_int_equal(h.size, 17);
    char vkey[256];
    assert_int_equal(sg_audit_verifier_key(v, vkey, sizeof vkey, &e), SG_OK);
    uint64_t size;
    uint8_t root[32];
    assert_int_equal(sg_audit_check_head(h.note, vkey, &size, root, &e), SG_OK);
    assert_int_equal(size, 17);
    assert_memory_equal(root, h.root, 32);

    /* Every entry's proof checks against the latest head; every older head
     * is consistent with it. */
    for (uint64_t i = 0; i < 17; i++) {
        uint8_t leaf[32], r[32], proof[SG_MERKLE_MAX_PROOF * 32];
        size_t n;
        uint64_t sz = 0;
        assert_int_equal(sg_audit_prove(v, i, &sz, leaf, proof, &n, r, &e), SG_OK);
        assert_int_equal(sz, 17);
        assert_memory_equal(r, h.root, 32);
        assert_int_equal(sg_merkle_verify_inclusion(leaf, i, 17, proof, n, h.root, &e), SG_OK);
    }
    for (uint64_t m = 1; m <= 17; m++) {
        uint8_t r1[32], r2[32], proof[SG_MERKLE_MAX_PROOF * 32];
        size_t n;
        uint64_t sz = 17;
        assert_int_equal(sg_audit_consistency(v, m, &sz, proof, &n, r1, r2, &e), SG_OK);
        assert_int_equal(sg_merkle_verify_consistency(m, 17, r1, h.root, proof, n, &e), SG_OK);
    }
    uint64_t too_big = 18;
    uint8_t l[32], r[32], proof[SG_MERKLE_MAX_PROOF * 32];
    size_t n;
    assert_int_equal(sg_audit_prove(v, 3, &too_big, l, proof, &n, r, &e), SG_INVALID);
    uint64_t cur = 0;
    assert_int_equal(sg_audit_prove(v, 17, &cur, l, proof, &n, r, &e), SG_INVALID);
    sg_audit_head_release(&h);
    sg_vault_close(v);
    expect_verify(1, 0, NULL);
}

/* A sink that counts what reaches it, or refuses. */
static int sunk, sink_refuses;
static enum sg_rc count_sink(void *ctx, const uint8_t *leaf, size_t len, sg_time at,
                             const uint8_t *pseudonym, struct sg_err *err)
{
    (void)ctx;
    (void)leaf;
    (void)len;
    (void)at;
    (void)pseudonym;
    if (sink_refuses)
        return sg_err_set(err, SG_NOMEM, "sink full");
    sunk++;
    return SG_OK;
}

/* Reads grouped in one read transaction on a handle with a sink (a server's
 * reader): their entries reach the sink at the commit, not before; a
 * refused entry fails the commit; a rolled back one never arrives; and the
 * reads write nothing to the log of their own. */
static void test_read_transaction(void **state)
{
    (void)state;
    struct sg_vault *w = vopen();
    struct sg_uuid a = add(w, "a@example.lv"), b = add(w, "b@example.lv");
    sg_vault_close(w);
    int64_t before = db_count("SELECT count(*) FROM audit_log");
    struct sg_vault *v = vopen();
    sg_vault_set_audit_sink(v, count_sink, NULL);
    struct sg_err e;
    struct sg_subject *got = NULL;
    sunk = sink_refuses = 0;
    assert_int_equal(sg_vault_begin_read(v, &e), SG_OK);
    assert_int_equal(sg_vault_begin_read(v, &e), SG_CONFLICT);
    assert_int_equal(sg_subject_get(v, &who, &a, 0, &got, &e), SG_OK);
    sg_subject_free(got);
    assert_int_equal(sg_subject_get(v, &who, &b, 0, &got, &e), SG_OK);
    sg_subject_free(got);
    assert_int_equal(sunk, 0);
    assert_int_equal(sg_vault_commit(v, &e), SG_OK);
    assert_int_equal(sunk, 2);

    sunk = 0;
    assert_int_equal(sg_vault_begin_read(v, &e), SG_OK);
    assert_int_equal(sg_subject_get(v, &who, &a, 0, &got, &e), SG_OK);
    sg_subject_free(got);
    sg_vault_rollback(v);
    assert_int_equal(sunk, 0);

    sink_refuses = 1;
    assert_int_equal(sg_vault_begin_read(v, &e), SG_OK);
    assert_int_equal(sg_subject_get(v, &who, &a, 0, &got, &e), SG_OK);
    sg_subject_free(got);
    assert_int_equal(sg_vault_commit(v, &e), SG_NOMEM);
    sink_refuses = 0;
    /* The handle is usable again. */
    assert_int_equal(sg_vault_begin_read(v, &e), SG_OK);
    assert_int_equal(sg_vault_commit(v, &e), SG_OK);
    sg_vault_close(v);
    assert_int_equal(db_count("SELECT count(*) FROM audit_log"), before);
    expect_verify(1, 0, NULL);
}

static void test_tamper_edit(void **state)
{
    (void)state;
    build_log(6);
    unguard();
    /* The content of entry 3 changed, its hash left alone. */
    db_exec(ts_pg()
                ? "UPDATE audit_log SET leaf = substr(leaf, 1, 20) || '\\x58'::bytea || "
                  "substr(leaf, 22) WHERE idx = 3"
                : "UPDATE audit_log SET leaf = substr(leaf, 1, 20) || x'58' || substr(leaf, 22) "
                  "WHERE idx = 3");
    expect_verify(0, 3, "entry 3 was altered");
}

static void test_tamper_edit_rehashed(void **state)
{
    (void)state;
    build_log(6);
    unguard();
    /* Entry 4 changed and re-hashed: the stored tree above it disagrees. */
    struct sg_vault *v = vopen();
    uint8_t proof[SG_MERKLE_MAX_PROOF * 32], leaf[32], root[32];
    size_t n;
    uint64_t size = 0;
    struct sg_err e;
    assert_int_equal(sg_audit_prove(v, 4, &size, leaf, proof, &n, root, &e), SG_OK);
    sg_vault_close(v);
    uint8_t buf[1024];
    size_t len = ts_get_blob("SELECT leaf FROM audit_log WHERE idx = 4", buf, sizeof buf);
    buf[12] ^= 0x20; /* a letter of the actor */
    uint8_t h[32];
    sg_merkle_leaf_hash(buf, len, h);
    const void *vals[2] = {buf, h};
    size_t lens[2] = {len, 32};
    ts_exec_blobs("UPDATE audit_log SET leaf = $1, hash = $2 WHERE idx = 4", 2, vals, lens);
    expect_verify(0, 4, "entry 4 does not match the signed head of size 5");
}

static void test_tamper_delete(void **state)
{
    (void)state;
    build_log(6);
    unguard();
    db_exec("DELETE FROM audit_log WHERE idx = 2");
    expect_verify(0, 2, "entry 2 is missing");
}

static void test_tamper_truncate(void **state)
{
    (void)state;
    build_log(6);
    unguard();
    /* The last entries and their heads removed: the heads left cover more. */
    db_exec("DELETE FROM audit_log WHERE idx >= 5");
    expect_verify(0, 5, "ends at 5 entries but a signed head covers 6");
    /* Removing those heads too leaves the older heads' check: still caught
     * by anyone holding an exported later head (see the CLI test). */
}

static void test_tamper_reorder(void **state)
{
    (void)state;
    build_log(6);
    unguard();
    /* Entries 2 and 3 swapped, with their hashes: each still hashes right. */
    db_exec("UPDATE audit_log SET idx = -1 WHERE idx = 2; UPDATE audit_log SET idx = 2 WHERE idx "
            "= 3; UPDATE audit_log SET idx = 3 WHERE idx = -1");
    expect_verify(0, 2, "entry 2 does not match the signed head of size 3");
}

static void test_tamper_insert(void **state)
{
    (void)state;
    build_log(4);
    unguard();
    /* An entry slipped in the middle (later ones shifted up by one). */
    db_exec("UPDATE audit_log SET idx = idx + 100 WHERE idx >= 2; UPDATE audit_log SET idx = "
            "idx - 99 WHERE idx >= 100; INSERT INTO audit_log SELECT 2, at, pseudonym, leaf, "
            "hash FROM audit_log WHERE idx = 1");
    expect_verify(0, 2, "does not match");
}

static void test_tamper_append_unsigned(void **state)
{
    (void)state;
    build_log(4);
    unguard();
    /* A forged entry at the end, well formed, with its tree, but no head. */
    struct sg_vault *v = vopen();
    sg_vault_close(v);
    db_exec("INSERT INTO audit_log SELECT 6, at, pseudonym, leaf, hash FROM audit_log WHERE idx = "
            "5");
    expect_verify(0, 6, "entry 6 and any after it are covered by no signed head");
}

static void test_tamper_head(void **state)
{
    (void)state;
    build_log(4);
    unguard();
    db_exec(ts_pg() ? "UPDATE audit_heads SET note = replace(note, E'\\n3\\n', E'\\n9\\n') "
                      "WHERE size = 3"
                    : "UPDATE audit_heads SET note = replace(note, char(10) || '3' || char(10), "
                      "char(10) || '9' || char(10)) WHERE size = 3");
    expect_verify(0, 3, "bad signature");
}

static void test_tamper_node(void **state)
{
    (void)state;
    build_log(7);
    unguard();
    /* The subtree of level 2 over entries 0-3: key 3 << 6 | 2 (sg_node_key). */
    db_exec(ts_pg() ? "UPDATE audit_nodes SET hash = decode(repeat('00', 32), 'hex') "
                      "WHERE id = (3 << 6) | 2"
                    : "UPDATE audit_nodes SET hash = zeroblob(32) WHERE id = (3 << 6) | 2");
    expect_verify(0, 0, "stored tree over entries 0-3 does not match");
}

/* A log whose subtrees are keyed the way of schema steps 2-11
 * (`level << 56 | index`) is brought forward by step 12 and verifies (step
 * 13 is taken back too, as the steps run from the last one recorded; on
 * SQLite it creates nothing). */
static void test_node_keys_migrated(void **state)
{
    (void)state;
    build_log(15); /* 16 entries, 15 subtrees */
    int64_t nodes = db_count("SELECT count(*) FROM audit_nodes");
    assert_int_equal(nodes, 15);
    if (ts_pg())
        db_exec("ALTER TABLE audit_nodes DISABLE TRIGGER audit_nodes_no_change;"
                "UPDATE audit_nodes SET id = ((id & 63) << 56) | "
                "((((id >> 6) + 1) >> (id & 63)::int) - 1);"
                "ALTER TABLE audit_nodes ENABLE TRIGGER audit_nodes_no_change;"
                "DROP INDEX lookup_subject; DELETE FROM schema_migrations WHERE version >= 12");
    else
        db_exec("DROP TRIGGER audit_nodes_no_update;"
                "UPDATE audit_nodes SET id = ((id & 63) << 56) | "
                "((((id >> 6) + 1) >> (id & 63)) - 1);"
                "CREATE TRIGGER audit_nodes_no_update BEFORE UPDATE ON audit_nodes"
                "  BEGIN SELECT RAISE(ABORT, 'audit entries cannot be changed'); END;"
                "DELETE FROM schema_migrations WHERE version >= 12");
    /* Level 2 over entries 4-7, the old way. */
    assert_int_equal(
        db_count("SELECT count(*) FROM audit_nodes WHERE id = (CAST(2 AS bigint) << 56) | 1"), 1);
    struct sg_vault *v = vopen(); /* opening applies step 12 */
    sg_vault_close(v);
    assert_int_equal(db_count("SELECT count(*) FROM audit_nodes"), nodes);
    assert_int_equal(db_count("SELECT count(*) FROM audit_nodes WHERE id = (7 << 6) | 2"), 1);
    expect_verify(1, 0, "");
}

/* A subtree removed, or one put in among them: the verifier reads them in
 * one pass and expects each in its place. */
static void test_tamper_node_set(void **state)
{
    (void)state;
    build_log(7);
    unguard();
    db_exec("DELETE FROM audit_nodes WHERE id = (5 << 6) | 1"); /* entries 4-5 */
    expect_verify(0, 4, "stored tree over entries 4-5 is missing");
    db_exec(ts_pg() ? "INSERT INTO audit_nodes VALUES ((5 << 6) | 1, "
                      "decode(repeat('00', 32), 'hex'))"
                    : "INSERT INTO audit_nodes VALUES ((5 << 6) | 1, zeroblob(32))");
    expect_verify(0, 4, "stored tree over entries 4-5 does not match");
    /* A hash cut short reads as no hash. */
    db_exec(ts_pg() ? "UPDATE audit_nodes SET hash = '\\x00'::bytea WHERE id = (5 << 6) | 1"
                    : "UPDATE audit_nodes SET hash = x'00' WHERE id = (5 << 6) | 1");
    expect_verify(0, 4, "stored tree over entries 4-5 does not match");
    /* One that belongs to no part of the tree, before the first. */
    db_exec(ts_pg() ? "INSERT INTO audit_nodes VALUES ((0 << 6) | 3, "
                      "decode(repeat('00', 32), 'hex'))"
                    : "INSERT INTO audit_nodes VALUES ((0 << 6) | 3, zeroblob(32))");
    expect_verify(0, 0, "stored tree over entries 0-1 is missing");
}

static void test_sealed_details(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_uuid id = add(v, "a@example.lv");
    struct sg_field_in f[] = {{"email", "b@example.lv", 12}};
    struct sg_err e;
    assert_int_equal(sg_subject_update(v, &who, &id, f, 1, "the person moved", NULL, &e), SG_OK);
    sg_vault_close(v);
    /* The reason is not in the database in clear, not even in the log. */
    assert_int_equal(
        db_count(
            ts_pg()
                ? "SELECT count(*) FROM audit_log "
                  "WHERE position('moved'::bytea IN leaf) > 0"
                : "SELECT count(*) FROM audit_log WHERE instr(leaf, CAST('moved' AS BLOB)) > 0"),
        0);
    assert_int_equal(
        db_count(
            ts_pg()
                ? "SELECT count(*) FROM audit_log "
                  "WHERE position('sargs'::bytea IN leaf) > 0"
                : "SELECT count(*) FROM audit_log WHERE instr(leaf, CAST('sargs' AS BLOB)) > 0"),
        2); /* (the query itself finds what is there: the actor of vault.init and of
             * policy.apply) */
    v = vopen();
    assert_int_equal(sg_subject_erase(v, &who, &id, &e), SG_OK);
    sg_vault_close(v);
    /* After erasure the entries remain and verify; the details are gone. */
    expect_verify(1, 0, NULL);
}

struct details_seen {
    int update_open, update_sealed;
};

static int see_details(void *ctx, const struct sg_audit_entry *en)
{
    struct details_seen *d = ctx;
    if (strcmp(en->action, "subject.update") == 0) {
        if (en->details && strcmp(en->details, "the person moved") == 0)
            d->update_open++;
        else if (en->details && strcmp(en->details, "[sealed]") == 0)
            d->update_sealed++;
    }
    return 0;
}

static void test_details_shredded(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    struct sg_uuid id = add(v, "a@example.lv");
    struct sg_field_in f[] = {{"email", "b@example.lv", 12}};
    struct sg_err e;
    assert_int_equal(sg_subject_update(v, &who, &id, f, 1, "the person moved", NULL, &e), SG_OK);
    struct details_seen d = {0, 0};
    assert_int_equal(sg_audit_log(v, &who, &id, 0, 0, see_details, &d, &e), SG_OK);
    assert_int_equal(d.update_open, 1);
    assert_int_equal(sg_subject_erase(v, &who, &id, &e), SG_OK);
    memset(&d, 0, sizeof d);
    assert_int_equal(sg_audit_log(v, &who, &id, 0, 0, see_details, &d, &e), SG_OK);
    assert_int_equal(d.update_open, 0);
    assert_int_equal(d.update_sealed, 1);
    sg_vault_close(v);
}

static void test_restore_keeps_log(void **state)
{
    (void)state;
    struct sg_vault *v = vopen();
    add(v, "a@example.lv");
    char bak[128];
    snprintf(bak, sizeof bak, "%s/backup.db", dir);
    struct sg_err e;
    assert_int_equal(sg_vault_backup(v, &who, bak, &e), SG_OK);
    add(v, "b@example.lv");
    struct sg_audit_head before;
    assert_int_equal(sg_audit_latest(v, &before, &e), SG_OK);
    sg_vault_close(v);
    struct sg_restore_report rep;
    assert_int_equal(sg_vault_restore(&opts, &who, bak, &rep, &e), SG_OK);
    /* The log was not rewound: it grew by the restore's own entry, and the
     * head from before is consistent with the one after. */
    v = vopen();
    struct sg_audit_head after;
    assert_int_equal(sg_audit_latest(v, &after, &e), SG_OK);
    assert_int_equal(after.size, before.size + 1);
    uint8_t r1[32], r2[32], proof[SG_MERKLE_MAX_PROOF * 32];
    size_t n;
    uint64_t sz = after.size;
    assert_int_equal(sg_audit_consistency(v, before.size, &sz, proof, &n, r1, r2, &e), SG_OK);
    assert_int_equal(sg_merkle_verify_consistency(before.size, after.size, before.root, after.root,
                                                  proof, n, &e),
                     SG_OK);
    sg_audit_head_release(&before);
    sg_audit_head_release(&after);
    sg_vault_close(v);
    expect_verify(1, 0, NULL);
}

static void test_archive(void **state)
{
    (void)state;
    build_log(3); /* entries 0-4 at 2026-11-23 */
    struct sg_vault *v = vopen();
    struct sg_err e;
    char arch[128];
    snprintf(arch, sizeof arch, "%s/old.jsonl", dir);
    struct sg_audit_archive_report rep;
    sg_time t0 = clk.at;
    /* Twelve months must pass first. */
    clk.at = t0 + 300 * SG_USEC_PER_DAY;
    assert_int_equal(sg_audit_archive(v, &who, t0 + 1, arch, &rep, &e), SG_INVALID);
    assert_non_null(strstr(e.msg, "12 months"));
    clk.at = t0 + 400 * SG_USEC_PER_DAY;
    add(v, "late@example.lv"); /* entry 5, after the cut-off */
    assert_int_equal(sg_audit_archive(v, &who, t0 + 1, arch, &rep, &e), SG_OK);
    assert_int_equal(rep.from, 0);
    assert_int_equal(rep.to, 5);
    assert_int_equal(rep.size, 6);
    /* Not again, and never over an existing file. */
    assert_int_equal(sg_audit_archive(v, &who, t0 + 1, arch, &rep, &e), SG_NOTFOUND);
    char vkey[256];
    assert_int_equal(sg_audit_verifier_key(v, vkey, sizeof vkey, &e), SG_OK);
    sg_vault_close(v);
    /* The content is gone from the database, the log still verifies. */
    assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE length(leaf) = 0"), 5);
    assert_int_equal(db_count("SELECT count(*) FROM audit_log WHERE pseudonym IS NOT NULL AND "
                              "idx < 5"),
                     0);
    expect_verify(1, 0, NULL);
    uint64_t n = 0;
    assert_int_equal(sg_audit_check_archive(arch, vkey, &n, &e), SG_OK);
    assert_int_equal(n, 5);
    /* Tampering with the archive file is caught. */
    FILE *f = fopen(arch, "r+");
    char buf[65536];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    buf[len] = '\0';
    char *leaf = strstr(buf, "\"index\":2,\"leaf\":\"");
    assert_non_null(leaf);
    leaf[strlen("\"index\":2,\"leaf\":\"") + 3] ^= 1;
    rewind(f);
    fwrite(buf, 1, len, f);
    fclose(f);
    assert_int_equal(sg_audit_check_archive(arch, vkey, &n, &e), SG_DENIED);
    /* And emptying an entry the way archiving would, but outside it. */
    unguard();
    db_exec(ts_pg() ? "UPDATE audit_log SET leaf = ''::bytea, pseudonym = NULL WHERE idx = 5"
                    : "UPDATE audit_log SET leaf = x'', pseudonym = NULL WHERE idx = 5");
    expect_verify(0, 5, "emptied outside archiving");
}

/* Several processes (nodes) append at once: the log keeps one order, every
 * entry lands once, and it verifies. On SQLite the write transaction orders
 * them; on PostgreSQL the audit lock does. */
static void test_concurrent_appenders(void **state)
{
    (void)state;
    enum { KIDS = 3, EACH = 20 };
    pid_t kids[KIDS];
    for (int k = 0; k < KIDS; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            struct sg_vault *v = NULL;
            struct sg_err e;
            int bad = sg_vault_open(&opts, &v, &e) != SG_OK;
            /* In batches, which hold the log from their first entry to
             * their commit: the widest window for two appenders to meet. */
            for (int i = 0; i < EACH && !bad; i += 5) {
                enum sg_rc rc = sg_vault_begin(v, &e);
                for (int j = i; j < i + 5 && !rc; j++) {
                    char em[40];
                    snprintf(em, sizeof em, "k%d.%d@example.lv", k, j);
                    struct sg_field_in f[] = {{"email", em, strlen(em)}};
                    struct sg_uuid id;
                    rc = sg_subject_add(v, &who, f, 1, NULL, 0, &id, &e);
                }
                if (!rc)
                    rc = sg_vault_commit(v, &e);
                else
                    sg_vault_rollback(v);
                if (rc == SG_UNAVAILABLE)
                    i -= 5; /* too busy: the batch again */
                else
                    bad = rc != SG_OK;
            }
            if (bad)
                fprintf(stderr, "appender %d: %s\n", k, e.msg);
            sg_vault_close(v);
            _exit(bad);
        }
    }
    int failed = 0; /* all of them end before the test may fail */
    for (int k = 0; k < KIDS; k++) {
        int status = 0;
        failed += waitpid(kids[k], &status, 0) != kids[k] || !WIFEXITED(status) ||
                  WEXITSTATUS(status) != 0;
    }
    assert_int_equal(failed, 0);
    assert_int_equal(db_count("SELECT count(*) FROM audit_log"), 2 + KIDS * EACH);
    assert_int_equal(db_count("SELECT count(*) FROM audit_heads"), 1 + KIDS * EACH / 5);
    expect_verify(1, 0, NULL);
}

int main(void)
{
    assert_int_equal(sg_crypto_init(NULL), SG_OK);
    policy = tu_policy("people.yaml");
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leaf_kat),
        cmocka_unit_test(test_checkpoint_kat),
        T(test_heads_per_transaction),
        T(test_read_transaction),
        T(test_tamper_edit),
        T(test_tamper_edit_rehashed),
        T(test_tamper_delete),
        T(test_tamper_truncate),
        T(test_tamper_reorder),
        T(test_tamper_insert),
        T(test_tamper_append_unsigned),
        T(test_tamper_head),
        T(test_tamper_node),
        T(test_tamper_node_set),
        T(test_node_keys_migrated),
        T(test_sealed_details),
        T(test_details_shredded),
        T(test_restore_keeps_log),
        T(test_archive),
        T(test_concurrent_appenders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
