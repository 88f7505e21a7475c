/*
 * template.c - renders the policy's message templates (`templates:`) for
 * one person: placeholders filled, the language chosen, and the footer
 * every message to a person carries (how to stop the messages and how to
 * have one's data erased).
 */
#include "policy_int.h"
#include "sargs/buf.h"

#include <string.h>

/* The value of placeholder `name` (len bytes), or NULL when unknown. */
static const char *var(const struct sg_template_vars *v, const char *name, size_t len)
{
#define IS(w) (len == sizeof(w) - 1 && strncmp(name, w, len) == 0)
    if (IS("name"))
        return v->name;
    if (IS("controller"))
        return v->controller;
    if (IS("date"))
        return v->date;
    if (IS("deadline"))
        return v->deadline;
    if (IS("link"))
        return v->link;
    if (IS("unsubscribe"))
        return v->unsubscribe;
    if (IS("erase"))
        return v->erase;
    if (IS("reason"))
        return v->reason;
    if (IS("request"))
        return v->request;
#undef IS
    return NULL;
}

static enum sg_rc fill(const char *s, const struct sg_template_vars *v, struct sg_buf *out,
                       struct sg_err *err)
{
    sg_buf_reset(out);
    enum sg_rc rc = SG_OK;
    while (!rc && *s) {
        const char *o = strstr(s, "{{");
        const char *c = o ? strstr(o + 2, "}}") : NULL;
        if (!o || !c)
            return sg_buf_add(out, s, strlen(s), err);
        if ((rc = sg_buf_add(out, s, (size_t)(o - s), err)))
            break;
        const char *name = o + 2;
        size_t len = (size_t)(c - name);
        while (len && *name == ' ') {
            name++;
            len--;
        }
        while (len && name[len - 1] == ' ')
            len--;
        const char *val = var(v, name, len);
        /* Loading refused unknown placeholders; an empty one stays empty. */
        if (val)
            rc = sg_buf_add(out, val, strlen(val), err);
        s = c + 2;
    }
    return rc;
}

/* The footer of every message to a person, in their language. */
static const char *footer_lead(const char *lang, int which)
{
    int lv = lang && strcmp(lang, "lv") == 0;
    if (which == 0)
        return lv ? "Kā atteikties no šīm ziņām: " : "To stop these messages: ";
    return lv ? "Kā panākt savu datu dzēšanu: " : "To have your data erased: ";
}

enum sg_rc sg_template_render(const struct sg_policy *p, const struct sg_template *t,
                              const char *lang, const struct sg_template_vars *v,
                              struct sg_buf *subject, struct sg_buf *body, struct sg_err *err)
{
    if (!lang || !sg_policy_has_language(p, lang))
        lang = p->languages[0];
    const char *subj = sg_text_any(&t->subject, lang), *text = sg_text_any(&t->body, lang);
    if (!subj || !text)
        return sg_err_set(err, SG_INVALID, "template '%s' has no text in '%s'", t->id, lang);
    enum sg_rc rc = fill(subj, v, subject, err);
    if (!rc)
        rc = fill(text, v, body, err);
    /* The subject is one line. */
    for (size_t i = 0; !rc && i < subject->len; i++)
        if (subject->ptr[i] == '\r' || subject->ptr[i] == '\n')
            subject->ptr[i] = ' ';
    if (rc)
        return rc;
    if (body->len && body->ptr[body->len - 1] != '\n')
        rc = sg_buf_add(body, "\n", 1, err);
    if (!rc)
        rc = sg_buf_add(body, "\n-- \n", 5, err);
    for (int i = 0; i < 2 && !rc; i++) {
        const char *val = i == 0 ? v->unsubscribe : v->erase;
        if (!val || !*val)
            continue;
        const char *lead = footer_lead(lang, i);
        if (!(rc = sg_buf_add(body, lead, strlen(lead), err)) &&
            !(rc = sg_buf_add(body, val, strlen(val), err)))
            rc = sg_buf_add(body, "\n", 1, err);
    }
    return rc;
}
