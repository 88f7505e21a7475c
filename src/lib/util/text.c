/*
 * text.c - UTF-8 validation, hex encoding, and texts in several languages.
 */
#include "sargs/text.h"

#include <string.h>

int sg_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (len - i <= n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

char *sg_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hx[in[i] >> 4];
        out[2 * i + 1] = hx[in[i] & 15];
    }
    out[2 * len] = '\0';
    return out;
}

static int nib(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

enum sg_rc sg_hex_decode(const char *hex, uint8_t *out, size_t len, struct sg_err *err)
{
    if (strlen(hex) != 2 * len)
        return sg_err_set(err, SG_INVALID, "expected %zu hex digits", 2 * len);
    for (size_t i = 0; i < len; i++) {
        int hi = nib(hex[2 * i]), lo = nib(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return sg_err_set(err, SG_INVALID, "not a hex digit at position %zu",
                              hi < 0 ? 2 * i : 2 * i + 1);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return SG_OK;
}

const char *sg_text_get(const struct sg_text *t, const char *lang)
{
    const char *neutral = NULL;
    if (!t)
        return NULL;
    for (size_t i = 0; i < t->n; i++) {
        if (!t->v[i].lang)
            neutral = t->v[i].text;
        else if (lang && strcmp(t->v[i].lang, lang) == 0)
            return t->v[i].text;
    }
    return neutral;
}

const char *sg_text_any(const struct sg_text *t, const char *lang)
{
    const char *s = sg_text_get(t, lang);
    return s || !t || t->n == 0 ? s : t->v[0].text;
}

static int same_lang(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int sg_text_equal(const struct sg_text *a, const struct sg_text *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++) {
        size_t k = 0;
        while (k < b->n && !same_lang(a->v[i].lang, b->v[k].lang))
            k++;
        if (k == b->n || strcmp(a->v[i].text, b->v[k].text) != 0)
            return 0;
    }
    return 1;
}
