/*
 * auth_int.h - what API tokens and operator accounts share (internal).
 */
#ifndef SARGS_AUTH_INT_H
#define SARGS_AUTH_INT_H

#include "sargs/buf.h"

#include "../vault/vault_int.h"

/* A credential's role, purpose and scope must make sense under the policy in
 * force: a role of the policy (never the operator's), a purpose it acts for,
 * a scope only for a `same_as_viewer` role (`norm` gets its stored form). */
enum sg_rc sg_auth_check_grant(struct sg_vault *v, const char *role, const char *purpose,
                               const char *scope, struct sg_buf *norm, struct sg_err *err);

/* Printable ASCII without spaces, 1..max bytes. */
int sg_auth_word_ok(const char *s, size_t max);

#endif
