/*
 * note.c - signed notes as C2SP specifies them (signed-note, tlog-checkpoint):
 *
 *     sargs/<vault id>                  origin
 *     1234                              tree size
 *     <base64 root hash>
 *
 *     — sargs/<vault id> <base64(key hash[4] | Ed25519 signature[64])>
 *
 * The signature covers the text up to and including the newline before the
 * blank line. The key hash is the first four bytes of
 * SHA-256(name | "\n" | 0x01 | public key); the verifier key is
 * "name+hash+base64(0x01 | public key)".
 */
#include "log.h"

#include <openssl/sha.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EM_DASH     "\xe2\x80\x94"
#define ALG_ED25519 0x01

static void key_hash(const char *name, const uint8_t pk[32], uint8_t out[4])
{
    uint8_t buf[256];
    size_t n = strlen(name);
    if (n > sizeof buf - 34)
        n = sizeof buf - 34;
    memcpy(buf, name, n);
    buf[n] = '\n';
    buf[n + 1] = ALG_ED25519;
    memcpy(buf + n + 2, pk, 32);
    uint8_t h[32];
    SHA256(buf, n + 34, h);
    memcpy(out, h, 4);
}

static int name_ok(const char *name)
{
    /* A key name is non-empty and has no spaces, '+' or control characters. */
    if (!*name)
        return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p <= ' ' || *p == '+' || *p == 0x7f)
            return 0;
    return 1;
}

enum sg_rc sg_signer_init(struct sg_signer *s, const struct sg_key *seed, const char *name,
                          struct sg_err *err)
{
    memset(s, 0, sizeof *s);
    if (!name_ok(name) || strlen(name) >= sizeof s->name)
        return sg_err_set(err, SG_INVALID, "bad signing key name");
    s->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    if (!s->sk)
        return sg_err_set(err, SG_NOMEM, "cannot allocate guarded memory");
    crypto_sign_seed_keypair(s->pk, s->sk, seed->k);
    snprintf(s->name, sizeof s->name, "%s", name);
    key_hash(s->name, s->pk, s->hash);
    return SG_OK;
}

void sg_signer_release(struct sg_signer *s)
{
    sodium_free(s->sk);
    s->sk = NULL;
}

void sg_signer_vkey(const struct sg_signer *s, char *out, size_t len)
{
    uint8_t kd[33];
    char b64[64];
    kd[0] = ALG_ED25519;
    memcpy(kd + 1, s->pk, 32);
    sodium_bin2base64(b64, sizeof b64, kd, sizeof kd, sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, len, "%s+%02x%02x%02x%02x+%s", s->name, s->hash[0], s->hash[1], s->hash[2],
             s->hash[3], b64);
}

enum sg_rc sg_vkey_parse(const char *vkey, char *name, size_t namelen, uint8_t pk[32],
                         struct sg_err *err)
{
    const char *p1 = strchr(vkey, '+');
    const char *p2 = p1 ? strchr(p1 + 1, '+') : NULL;
    if (!p1 || !p2 || p2 - p1 != 9 || (size_t)(p1 - vkey) >= namelen)
        return sg_err_set(err, SG_INVALID, "not a verifier key (name+hash+key)");
    memcpy(name, vkey, (size_t)(p1 - vkey));
    name[p1 - vkey] = '\0';
    uint8_t kd[64];
    size_t kl = 0;
    if (!name_ok(name) ||
        sodium_base642bin(kd, sizeof kd, p2 + 1, strlen(p2 + 1), NULL, &kl, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        kl != 33 || kd[0] != ALG_ED25519)
        return sg_err_set(err, SG_INVALID, "not an Ed25519 verifier key");
    memcpy(pk, kd + 1, 32);
    uint8_t h[4];
    char hex[9];
    key_hash(name, pk, h);
    snprintf(hex, sizeof hex, "%02x%02x%02x%02x", h[0], h[1], h[2], h[3]);
    if (strncmp(hex, p1 + 1, 8) != 0)
        return sg_err_set(err, SG_INVALID, "verifier key hash does not match its key");
    return SG_OK;
}

enum sg_rc sg_checkpoint_sign(const struct sg_signer *s, uint64_t size,
                              const uint8_t root[SG_HASH_BYTES], char **out, struct sg_err *err)
{
    char b64root[64], body[256];
    sodium_bin2base64(b64root, sizeof b64root, root, SG_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL);
    int bl =
        snprintf(body, sizeof body, "%s\n%llu\n%s\n", s->name, (unsigned long long)size, b64root);
    uint8_t sig[4 + crypto_sign_BYTES];
    memcpy(sig, s->hash, 4);
    crypto_sign_detached(sig + 4, NULL, (const uint8_t *)body, (unsigned long long)bl, s->sk);
    char b64sig[128];
    sodium_bin2base64(b64sig, sizeof b64sig, sig, sizeof sig, sodium_base64_VARIANT_ORIGINAL);
    size_t len = (size_t)bl + strlen(s->name) + strlen(b64sig) + 16;
    char *note = malloc(len);
    if (!note)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    snprintf(note, len, "%s\n" EM_DASH " %s %s\n", body, s->name, b64sig);
    *out = note;
    return SG_OK;
}

/* Reads a decimal without leading zeros (except "0") into *v. */
static int parse_u64(const char *s, size_t n, uint64_t *v)
{
    if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
        return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

enum sg_rc sg_checkpoint_verify(const char *note, const char *name, const uint8_t pk[32],
                                const char *origin, uint64_t *size, uint8_t root[SG_HASH_BYTES],
                                struct sg_err *err)
{
    const char *sep = strstr(note, "\n\n");
    if (!sep)
        return sg_err_set(err, SG_INVALID, "not a signed note (no blank line)");
    size_t textlen = (size_t)(sep - note) + 1;
    for (size_t i = 0; i < textlen; i++) {
        unsigned char c = (unsigned char)note[i];
        if ((c < 0x20 && c != '\n') || c == 0x7f)
            return sg_err_set(err, SG_INVALID, "signed note has control characters");
    }
    /* Body: origin, size, root (extension lines may follow and are ignored). */
    const char *l1 = note, *e1 = memchr(l1, '\n', textlen);
    const char *l2 = e1 ? e1 + 1 : NULL, *e2 = l2 ? memchr(l2, '\n', textlen) : NULL;
    const char *l3 = e2 ? e2 + 1 : NULL, *e3 = l3 ? memchr(l3, '\n', textlen) : NULL;
    if (!e1 || !e2 || !e3 || e3 > note + textlen)
        return sg_err_set(err, SG_INVALID, "checkpoint needs origin, size and root lines");
    if (origin && (strlen(origin) != (size_t)(e1 - l1) || memcmp(origin, l1, e1 - l1) != 0))
        return sg_err_set(err, SG_DENIED, "checkpoint is of another log");
    if (parse_u64(l2, (size_t)(e2 - l2), size) != 0)
        return sg_err_set(err, SG_INVALID, "checkpoint size is not a number");
    size_t rl = 0;
    if (sodium_base642bin(root, SG_HASH_BYTES, l3, (size_t)(e3 - l3), NULL, &rl, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        rl != SG_HASH_BYTES)
        return sg_err_set(err, SG_INVALID, "checkpoint root is not a base64 hash");

    /* Signatures: find ours among the lines after the blank line. */
    uint8_t want[4];
    key_hash(name, pk, want);
    const char *p = sep + 2;
    size_t nl = strlen(name);
    while (*p) {
        const char *eol = strchr(p, '\n');
        if (!eol)
            return sg_err_set(err, SG_INVALID, "signature line without a newline");
        size_t ll = (size_t)(eol - p);
        if (ll > 4 + nl + 1 && memcmp(p, EM_DASH " ", 4) == 0 && memcmp(p + 4, name, nl) == 0 &&
            p[4 + nl] == ' ') {
            uint8_t sig[4 + crypto_sign_BYTES + 8];
            size_t sl = 0;
            const char *b = p + 4 + nl + 1;
            if (sodium_base642bin(sig, sizeof sig, b, (size_t)(eol - b), NULL, &sl, NULL,
                                  sodium_base64_VARIANT_ORIGINAL) == 0 &&
                sl == 4 + crypto_sign_BYTES && memcmp(sig, want, 4) == 0) {
                if (crypto_sign_verify_detached(sig + 4, (const uint8_t *)note,
                                                (unsigned long long)textlen, pk) == 0)
                    return SG_OK;
                return sg_err_set(err, SG_DENIED, "checkpoint signature does not verify");
            }
        }
        p = eol + 1;
    }
    return sg_err_set(err, SG_DENIED, "checkpoint carries no signature by this key");
}
