/*
 * fuzz_value.c - value normalisation for every type. Besides not crashing:
 * a stored form normalises to itself, and its index form is the index form
 * of the original input (so a look-up by what was stored finds the person).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sargs/sargs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One category of each value type (the first byte of the input picks). */
static const struct sg_category cats[] = {
    {.id = "user.name.first", .alias = "name", .type = SG_VT_LINE, .indexed = 0, .max_size = 0},
    {.id = "user.profile.bio", .alias = "bio", .type = SG_VT_TEXT, .indexed = 0, .max_size = 0},
    {.id = "user.contact.email",
     .alias = "email",
     .type = SG_VT_EMAIL,
     .indexed = 1,
     .max_size = 0},
    {.id = "user.contact.phone_number",
     .alias = "phone",
     .type = SG_VT_PHONE,
     .indexed = 1,
     .max_size = 0},
    {.id = "user.government_id.national_identification_number",
     .alias = "personal_code",
     .type = SG_VT_PERSONAL_CODE,
     .indexed = 1,
     .max_size = 0},
    {.id = "user.contact.address.country",
     .alias = "country",
     .type = SG_VT_COUNTRY,
     .indexed = 0,
     .max_size = 0},
    {.id = "user.demographic.language",
     .alias = "language",
     .type = SG_VT_LANGUAGE,
     .indexed = 0,
     .max_size = 0},
    {.id = "user.demographic.date_of_birth",
     .alias = "birth_date",
     .type = SG_VT_DATE,
     .indexed = 0,
     .max_size = 0},
    {.id = "user.device.ip_address", .alias = "ip", .type = SG_VT_IP, .indexed = 1, .max_size = 0},
    {.id = "user.social.link", .alias = "url", .type = SG_VT_URL, .indexed = 1, .max_size = 0},
};
static const struct sg_catalog catalog = {cats, sizeof cats / sizeof cats[0], SG_VALUE_MAX_DEFAULT,
                                          "371"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        sg_crypto_init(NULL);
        ready = 1;
    }
    if (size < 1)
        return 0;
    const struct sg_catalog *cat = &catalog;
    const struct sg_category *c = &cat->cats[data[0] % cat->n];
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    struct sg_buf st, ix, st2, ix2;
    sg_buf_init(&st, 1 << 20);
    sg_buf_init(&ix, 1 << 20);
    sg_buf_init(&st2, 1 << 20);
    sg_buf_init(&ix2, 1 << 20);
    struct sg_err e;
    if (sg_value_normalise(cat, c, in, len, &st, &ix, &e) == SG_OK) {
        if (sg_value_normalise(cat, c, st.ptr, st.len, &st2, &ix2, &e) != SG_OK)
            abort();
        if (st2.len != st.len || memcmp(st2.ptr, st.ptr, st.len) != 0)
            abort();
        if (ix2.len != ix.len || memcmp(ix2.ptr, ix.ptr, ix.len) != 0)
            abort();
        if (!sg_utf8_valid(st.ptr, st.len))
            abort();
    } else if (e.rc != SG_INVALID && e.rc != SG_TOOBIG) {
        abort();
    }
    sg_buf_release(&st);
    sg_buf_release(&ix);
    sg_buf_release(&st2);
    sg_buf_release(&ix2);
    return 0;
}
