/*
 * fuzz_audit.c - the audit log's parsers: entries (leaves), signed heads and
 * verifier keys. A leaf that decodes must encode back to the same bytes; a
 * note must never verify unless it was signed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sargs/sargs.h"
#include "sargs/audit.h"
#include "../src/lib/audit/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define VKEY                                                                                       \
    "sargs/01890a5d-ac96-774b-bcce-b302099a8057+72714fbd+ARdFU7RW3d/GkI7KscEB/mqyHiuqBhd5W31Dpj"   \
    "SCmT/V"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        sg_crypto_init(NULL);
        ready = 1;
    }
    struct sg_audit_entry e;
    struct sg_buf tmp, back;
    sg_buf_init(&tmp, 1 << 20);
    sg_buf_init(&back, 1 << 20);
    const uint8_t *d;
    size_t dl;
    if (sg_audit_leaf_decode(data, size, &e, &tmp, &d, &dl, NULL) == SG_OK) {
        struct sg_actor a = {e.actor, e.role, e.purpose, NULL, NULL};
        struct sg_audit_rec r = {e.at,
                                 &a,
                                 e.action,
                                 e.object,
                                 e.result,
                                 e.request,
                                 e.has_subject ? e.pseudonym : NULL,
                                 d ? (e.details_sealed ? 2 : 1) : 0,
                                 d,
                                 dl};
        if (sg_audit_leaf_encode(&r, &back, NULL) != SG_OK || back.len != size ||
            memcmp(back.ptr, data, size) != 0)
            abort();
    }
    sg_buf_release(&tmp);
    sg_buf_release(&back);

    /* As text: a signed head and a verifier key. */
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    uint64_t n;
    uint8_t root[32];
    if (sg_audit_check_head(s, VKEY, &n, root, NULL) == SG_OK) {
        /* That key signed one checkpoint only (the corpus's): size 7 and the
         * empty root. Whatever verifies must say exactly that. */
        uint8_t empty[32];
        sg_merkle_empty_root(empty);
        if (n != 7 || memcmp(root, empty, 32) != 0)
            abort();
    }
    (void)sg_audit_check_head("x\n1\nAA==\n\n", s, &n, root, NULL);
    free(s);
    return 0;
}
