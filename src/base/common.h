/*
 * Included first by every project .c file: feature macros, the standard
 * headers nearly every module needs, BUG() for broken internal invariants,
 * and finally the banned-function list.
 */
#ifndef BASE_COMMON_H
#define BASE_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A broken internal invariant: a bug in our code, never bad input. */
#define BUG(...) bug_fl(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void bug_fl(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#include "base/banned.h"

#endif
