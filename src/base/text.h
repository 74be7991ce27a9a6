/*
 * Small text helpers the parsers share (event JSON, query strings, the
 * catalog CSV): UTF-8 validation and hex digits. Pure functions; any thread.
 */
#ifndef BASE_TEXT_H
#define BASE_TEXT_H

#include <stddef.h>

/* Length (1-4) of the well-formed UTF-8 sequence at s, reading at most n > 0
 * bytes; 0 when it is not one (overlong forms, surrogates and code points
 * past U+10FFFF are not). */
size_t text_utf8_len(const unsigned char *s, size_t n);

/* Whether s[0..n) is well-formed UTF-8 without NUL bytes. */
int text_utf8_ok(const char *s, size_t n);

/* The value of a hex digit, or -1. */
int text_hex_value(unsigned char c);

#endif
