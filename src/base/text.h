/*
 * Small text helpers the parsers share (event JSON, query strings, the
 * catalog CSV): UTF-8 validation, hex digits, and a 64-bit FNV-1a hash for
 * names and ETags (not for security). Pure functions; any thread.
 */
#ifndef BASE_TEXT_H
#define BASE_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Length (1-4) of the well-formed UTF-8 sequence at s, reading at most n > 0
 * bytes; 0 when it is not one (overlong forms, surrogates and code points
 * past U+10FFFF are not). */
size_t text_utf8_len(const unsigned char *s, size_t n);

/* Whether s[0..n) is well-formed UTF-8 without NUL bytes. */
int text_utf8_ok(const char *s, size_t n);

/* The value of a hex digit, or -1. */
int text_hex_value(unsigned char c);

/* FNV-1a over data[0..len), continuing from h (TEXT_FNV_SEED to start). */
#define TEXT_FNV_SEED 0xcbf29ce484222325ULL
uint64_t text_fnv1a(const void *data, size_t len, uint64_t h);

#endif
