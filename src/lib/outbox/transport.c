/*
 * transport.c - how messages leave: a maildir for development and tests,
 * SMTP through libcurl for real mail servers.
 */
#include "outbox_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum kind { T_MAILDIR, T_SMTP };

struct sg_transport {
    enum kind kind;
    char *dir;  /* maildir */
    char *url;  /* smtp */
    char *from; /* sender address */
    int require_tls;
    CURL *curl;
};

/* ---------------------------------------------------------------- format */

static int ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 0;
    return 1;
}

static void add(struct sg_buf *b, const char *s)
{
    (void)sg_buf_add(b, s, strlen(s), NULL);
}

/* Base64 of `n` bytes in lines of 76 (RFC 2045). */
static void add_base64(struct sg_buf *b, const void *p, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *enc = malloc(cap);
    if (!enc)
        return;
    sodium_bin2base64(enc, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
    size_t len = strlen(enc);
    for (size_t i = 0; i < len; i += 76) {
        (void)sg_buf_add(b, enc + i, len - i < 76 ? len - i : 76, NULL);
        add(b, "\r\n");
    }
    free(enc);
}

char *sg_mail_format(const struct sg_mail *m, size_t *out_len)
{
    struct sg_buf b;
    sg_buf_init(&b, 1 << 22);
    char date[64];
    time_t secs = (time_t)(m->date / SG_USEC_PER_SEC);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    add(&b, "Date: ");
    add(&b, date);
    add(&b, "\r\nFrom: ");
    add(&b, m->from);
    add(&b, "\r\nTo: ");
    add(&b, m->to);
    add(&b, "\r\nSubject: ");
    if (ascii(m->subject)) {
        add(&b, m->subject);
    } else {
        /* RFC 2047: one encoded word per chunk of whole characters. */
        const char *s = m->subject;
        size_t n = strlen(s), i = 0;
        while (i < n) {
            size_t j = i + 45 < n ? i + 45 : n;
            while (j < n && ((unsigned char)s[j] & 0xc0) == 0x80)
                j--;
            char enc[80];
            sodium_bin2base64(enc, sizeof enc, (const unsigned char *)s + i, j - i,
                              sodium_base64_VARIANT_ORIGINAL);
            if (i)
                add(&b, "\r\n ");
            add(&b, "=?UTF-8?B?");
            add(&b, enc);
            add(&b, "?=");
            i = j;
        }
    }
    add(&b, "\r\nMessage-ID: <");
    add(&b, m->id);
    add(&b, ">\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n");
    add_base64(&b, m->body, strlen(m->body));
    *out_len = b.len;
    return sg_buf_detach(&b, NULL);
}

/* ------------------------------------------------------------------ open */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_start(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

enum sg_rc sg_transport_open(const char *uri, const char *from, struct sg_transport **out,
                             struct sg_err *err)
{
    *out = NULL;
    if (!uri || !*uri)
        return sg_err_set(err, SG_INVALID,
                          "no transport: give maildir:DIR or smtp://HOST:PORT (SARGS_TRANSPORT)");
    if (!from || !strchr(from, '@') || strpbrk(from, "\r\n<> "))
        return sg_err_set(err, SG_INVALID, "the sender address is not an address");
    struct sg_transport *t = calloc(1, sizeof *t);
    if (!t || !(t->from = strdup(from))) {
        free(t);
        return sg_err_set(err, SG_NOMEM, "out of memory");
    }
    if (strncmp(uri, "maildir:", 8) == 0 && uri[8]) {
        t->kind = T_MAILDIR;
        t->dir = strdup(uri + 8);
        enum sg_rc rc = t->dir ? SG_OK : sg_err_set(err, SG_NOMEM, "out of memory");
        static const char *const sub[] = {"", "/tmp", "/new", "/cur"};
        char path[4096];
        for (int i = 0; i < 4 && !rc; i++) {
            snprintf(path, sizeof path, "%s%s", t->dir, sub[i]);
            if (mkdir(path, 0700) != 0 && errno != EEXIST)
                rc = sg_err_set(err, SG_IO, "cannot make maildir '%s': %s", path, strerror(errno));
        }
        if (rc) {
            sg_transport_close(t);
            return rc;
        }
        *out = t;
        return SG_OK;
    }
    int starttls = strncmp(uri, "smtp+starttls://", 16) == 0;
    if (strncmp(uri, "smtp://", 7) != 0 && strncmp(uri, "smtps://", 8) != 0 && !starttls) {
        sg_transport_close(t);
        return sg_err_set(err, SG_INVALID,
                          "unknown transport '%.40s' (maildir:DIR, smtp://, smtps://, "
                          "smtp+starttls://)",
                          uri);
    }
    if (strchr(uri, '@')) {
        sg_transport_close(t);
        return sg_err_set(err, SG_INVALID,
                          "credentials go in SARGS_SMTP_USER and SARGS_SMTP_PASSWORD, not in "
                          "the URI");
    }
    t->kind = T_SMTP;
    t->require_tls = starttls;
    size_t n = strlen(uri) + 8;
    if ((t->url = malloc(n))) {
        if (starttls)
            snprintf(t->url, n, "smtp://%s", uri + 16);
        else
            snprintf(t->url, n, "%s", uri);
    }
    pthread_once(&curl_once, curl_start);
    if (!t->url || !(t->curl = curl_easy_init())) {
        sg_transport_close(t);
        return sg_err_set(err, SG_NOMEM, "out of memory");
    }
    *out = t;
    return SG_OK;
}

void sg_transport_close(struct sg_transport *t)
{
    if (!t)
        return;
    if (t->curl)
        curl_easy_cleanup(t->curl);
    free(t->dir);
    free(t->url);
    free(t->from);
    free(t);
}

/* --------------------------------------------------------------- maildir */

static enum sg_rc maildir_send(struct sg_transport *t, const char *text, size_t len,
                               const struct sg_mail *m, struct sg_err *err)
{
    /* Named by the message's id: a message delivered again replaces itself. */
    char name[256], tmp[4096], dst[4096];
    snprintf(name, sizeof name, "%s", m->id);
    for (char *p = name; *p; p++)
        if (*p == '/' || *p == ':')
            *p = '_';
    snprintf(tmp, sizeof tmp, "%s/tmp/%s", t->dir, name);
    snprintf(dst, sizeof dst, "%s/new/%s", t->dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return sg_err_set(err, SG_IO, "maildir: cannot write: %s", strerror(errno));
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return sg_err_set(err, SG_IO, "maildir: cannot write: %s", strerror(errno));
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, dst) != 0) {
        unlink(tmp);
        return sg_err_set(err, SG_IO, "maildir: cannot deliver: %s", strerror(errno));
    }
    return SG_OK;
}

/* ------------------------------------------------------------------ SMTP */

struct upload {
    const char *p;
    size_t left;
};

static size_t read_cb(char *buf, size_t size, size_t n, void *ctx)
{
    struct upload *u = ctx;
    size_t want = size * n, k = u->left < want ? u->left : want;
    memcpy(buf, u->p, k);
    u->p += k;
    u->left -= k;
    return k;
}

static enum sg_rc smtp_send(struct sg_transport *t, const char *text, size_t len,
                            const struct sg_mail *m, struct sg_err *err)
{
    CURL *c = t->curl;
    char rcpt_buf[300], from_buf[300];
    snprintf(from_buf, sizeof from_buf, "<%s>", m->from);
    snprintf(rcpt_buf, sizeof rcpt_buf, "<%s>", m->to);
    struct curl_slist *rcpt = curl_slist_append(NULL, rcpt_buf);
    if (!rcpt)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    struct upload u = {text, len};
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, t->url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from_buf);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &u);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE, (long)len);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, SG_TRANSPORT_SEND_SECONDS);
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     t->require_tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
    const char *user = getenv("SARGS_SMTP_USER"), *pass = getenv("SARGS_SMTP_PASSWORD");
    if (user && *user) {
        curl_easy_setopt(c, CURLOPT_USERNAME, user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, pass ? pass : "");
    }
    CURLcode cc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(rcpt);
    if (cc == CURLE_OK)
        return SG_OK;
    /* The server's reply code and libcurl's reason; never the message. */
    errbuf[strcspn(errbuf, "\r\n")] = '\0';
    return sg_err_set(err, SG_UNAVAILABLE, "SMTP: %s (reply %ld)",
                      errbuf[0] ? errbuf : curl_easy_strerror(cc), code);
}

enum sg_rc sg_transport_send(struct sg_transport *t, const struct sg_mail *in, struct sg_err *err)
{
    struct sg_mail m = *in;
    if (!m.from)
        m.from = t->from;
    if (strpbrk(m.to, "\r\n<> ") || !strchr(m.to, '@'))
        return sg_err_set(err, SG_INVALID, "the recipient is not an address");
    size_t len = 0;
    char *text = sg_mail_format(&m, &len);
    if (!text)
        return sg_err_set(err, SG_NOMEM, "out of memory");
    enum sg_rc rc = t->kind == T_MAILDIR ? maildir_send(t, text, len, &m, err)
                                         : smtp_send(t, text, len, &m, err);
    sodium_memzero(text, len);
    free(text);
    return rc;
}
