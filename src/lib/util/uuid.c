/*
 * uuid.c - UUIDv7 generation and text form.
 */
#include "sargs/uuid.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>

/* Per-thread generator state, so threads never share a lock for ids. */
static _Thread_local uint64_t last_ms;
static _Thread_local uint32_t counter;
/* Random bits for ids drawn from the kernel 4 KiB at a time: one getrandom()
 * per id was a tenth of the cost of adding a person. Ids are not secrets. */
static _Thread_local uint8_t pool[4096];
static _Thread_local size_t pool_pos = sizeof pool;
/* A fork() copies the pool: the child must not hand out the parent's bits.
 * The child's one thread is the one that forked, so emptying its pool in an
 * atfork handler is enough (a getpid() per id was a system call each). */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void forget_pool(void)
{
    pool_pos = sizeof pool;
    last_ms = 0;
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, forget_pool);
}

static void random_bits(uint8_t *out, size_t n)
{
    pthread_once(&atfork_once, register_atfork);
    if (pool_pos + n > sizeof pool) {
        randombytes_buf(pool, sizeof pool);
        pool_pos = 0;
    }
    memcpy(out, pool + pool_pos, n);
    pool_pos += n;
}

void sg_uuid_v7(sg_time now, struct sg_uuid *out)
{
    uint64_t ms = now > 0 ? (uint64_t)(now / 1000) : 0;
    if (ms <= last_ms && last_ms) {
        /* Same (or an earlier, fixed-clock) millisecond: count up so ids stay
         * ordered; on counter overflow borrow the next millisecond. */
        ms = last_ms;
        if (++counter > 0xfff) {
            ms++;
            counter = 0;
        }
    } else {
        /* Leave headroom above the start value for the counter. */
        uint8_t r[2];
        random_bits(r, 2);
        counter = (uint32_t)(r[0] | r[1] << 8) & 0x3ff;
    }
    last_ms = ms;

    random_bits(out->b + 8, 8);
    for (int i = 0; i < 6; i++)
        out->b[i] = (uint8_t)(ms >> (40 - 8 * i));
    out->b[6] = (uint8_t)(0x70 | ((counter >> 8) & 0x0f));
    out->b[7] = (uint8_t)(counter & 0xff);
    out->b[8] = (uint8_t)(0x80 | (out->b[8] & 0x3f));
}

char *sg_uuid_format(const struct sg_uuid *u, char out[SG_UUID_STR_LEN + 1])
{
    static const char hx[] = "0123456789abcdef";
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hx[u->b[i] >> 4];
        *p++ = hx[u->b[i] & 15];
    }
    *p = '\0';
    return out;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

enum sg_rc sg_uuid_parse(const char *s, struct sg_uuid *out, struct sg_err *err)
{
    struct sg_uuid u;
    int j = 0;
    if (!s || strlen(s) != SG_UUID_STR_LEN)
        goto bad;
    for (int i = 0; i < SG_UUID_STR_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                goto bad;
            continue;
        }
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            goto bad;
        u.b[j++] = (uint8_t)(hi << 4 | lo);
        i++;
    }
    *out = u;
    return SG_OK;
bad:
    return sg_err_set(err, SG_INVALID,
                      "not an id (expected a UUID such as "
                      "01890a5d-ac96-774b-bcce-b302099a8057)");
}

sg_time sg_uuid_time(const struct sg_uuid *u)
{
    uint64_t ms = 0;
    for (int i = 0; i < 6; i++)
        ms = ms << 8 | u->b[i];
    return (sg_time)ms * 1000;
}

int sg_uuid_equal(const struct sg_uuid *a, const struct sg_uuid *b)
{
    return memcmp(a->b, b->b, 16) == 0;
}
