/*
 * fuzz_policy.c - the policy loader, and everything generated from what it
 * accepts. Besides not crashing: a policy that loads renders its notice in
 * each language and format, its record of processing, and a diff with
 * itself that finds nothing; loading the same bytes twice gives the same
 * version hash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sargs/sargs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        sg_crypto_init(NULL);
        ready = 1;
    }
    struct sg_policy *p = NULL, *q = NULL;
    struct sg_policy_problems pr;
    struct sg_err e;
    sg_policy_problems_init(&pr);
    enum sg_rc rc = sg_policy_load((const char *)data, size, "fuzz", &p, &pr, &e);
    if (rc == SG_INVALID) {
        /* A refusal always says why, with a position. */
        if (pr.n == 0 && pr.dropped == 0)
            abort();
        for (size_t i = 0; i < pr.n; i++)
            if (!pr.v[i].msg || !*pr.v[i].msg || pr.v[i].line == 0)
                abort();
    } else if (rc != SG_OK && rc != SG_NOMEM && rc != SG_TOOBIG) {
        abort();
    }
    sg_policy_problems_release(&pr);
    if (!p)
        return 0;
    if (sg_policy_load((const char *)data, size, "fuzz", &q, NULL, &e) != SG_OK ||
        strcmp(p->hash, q->hash) != 0)
        abort();
    sg_policy_free(q);

    struct sg_buf out;
    sg_buf_init(&out, 1 << 24);
    for (size_t l = 0; l < p->nlanguages; l++) {
        const char *lang = p->languages[l];
        for (int f = 0; f < 2; f++) {
            struct sg_notice_opts o = {lang, f ? SG_FORMAT_HTML : SG_FORMAT_MARKDOWN, 0, 1};
            rc = sg_notice_render(p, &o, &out, &e);
            if (rc != SG_OK && !(rc == SG_INVALID && strcmp(lang, "lv") && strcmp(lang, "en")))
                abort();
        }
        if (sg_ropa_render(p, SG_FORMAT_JSON, lang, &out, &e) != SG_OK ||
            sg_ropa_render(p, SG_FORMAT_CSV, lang, &out, &e) != SG_OK)
            abort();
    }
    sg_buf_release(&out);
    struct sg_policy_diff d;
    if (sg_policy_diff(p, p, &d, &e) != SG_OK || d.n != 0)
        abort();
    sg_policy_diff_release(&d);
    sg_policy_free(p);
    return 0;
}
