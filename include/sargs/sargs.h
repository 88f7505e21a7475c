/*
 * sargs/sargs.h - the whole public API of libsargs.
 */
#ifndef SARGS_SARGS_H
#define SARGS_SARGS_H

#include "sargs/buf.h"
#include "sargs/catalog.h"
#include "sargs/consent.h"
#include "sargs/operator.h"
#include "sargs/outbox.h"
#include "sargs/retention.h"
#include "sargs/request.h"
#include "sargs/selfservice.h"
#include "sargs/calendar.h"
#include "sargs/clock.h"
#include "sargs/crypto.h"
#include "sargs/err.h"
#include "sargs/policy.h"
#include "sargs/text.h"
#include "sargs/uuid.h"
#include "sargs/vault.h"

#define SARGS_VERSION "0.1.0"

#endif
