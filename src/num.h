/*
 * num.h -- numbers as text and text as numbers, by SQLite 3.40's rules:
 * its text-to-number parser (sqlite3AtoF, sqlite3Atoi64, inexact in the
 * last bit like SQLite's) and its printf real conversions computed in
 * long double ("%!.15g" for a real shown as text).  One rule for every
 * layer: the table layer's column conversions and the SQL layer's CAST,
 * printf and comparisons all call these, so they never disagree.
 *
 * Layer:  leaf (any module may include it).  Includes only C headers.
 * Contract:
 *   - Pure functions: no allocation, no errors, no global state, no
 *     locale (the radix character is always '.').
 *   - Text is (pointer, length); it need not be NUL-terminated and may
 *     contain NUL bytes (they end the number like any other byte).
 * Design: src/sql/README.md, "Values and functions".
 */
#ifndef RDB_NUM_H
#define RDB_NUM_H
#include <stddef.h>
#include <stdint.h>

/* Parse a number.  *out gets the value of the longest numeric prefix
 * (0.0 if none).  Returns 1 for a whole integer, 2 or 3 for a whole
 * number with '.' or an exponent (3: both), -1 for a real prefix followed
 * by other text, 0 otherwise (leading/trailing spaces are allowed). */
int num_atof(const char *z, size_t n, double *out);
/* Parse a 64-bit integer prefix into *out (clamped on overflow).  Returns
 * 0 for a whole integer, 1 if other text follows, -1 if no digits, 2 on
 * overflow, 3 for exactly "9223372036854775808". */
int num_atoi64(const char *z, size_t n, int64_t *out);

/* Longest text rendering of a number, plus its NUL. */
#define NUM_TEXT 32
/* Render as SQLite does ("%lld"; reals "%!.15g": 1.0, 1.0e+20, Inf,
 * -Inf, NaN, 0.0 for both zeros); returns the length; buf is
 * NUL-terminated. */
size_t num_render_int(int64_t i, char buf[NUM_TEXT]);
size_t num_render_real(double r, char buf[NUM_TEXT]);

/* Precisions above this are cut to it (SQLITE_FP_PRECISION_LIMIT). */
#define NUM_MAX_PRECISION 100000000
/* One printf real conversion (SQLite's %f %e %g with its flags). */
enum { NUM_F, NUM_E, NUM_G };
typedef struct num_real_spec {
	int kind;                 /* NUM_F, NUM_E or NUM_G */
	int precision;            /* -1: the default, 6 */
	int alt;                  /* '#' */
	int alt2;                 /* '!': 26 significant digits, keep ".0" */
	char prefix;              /* '+', ' ' or 0 */
	char echar;               /* 'e' or 'E' */
} num_real_spec;
/* Write r converted by sp at buf, which must have room for
 * num_real_room(r, sp) bytes; returns the length (no NUL).  *sign gets
 * the sign character written first (or 0); *special is set for Inf and
 * NaN (never zero-padded). */
size_t num_real_text(char *buf, double r, const num_real_spec *sp,
		     char *sign, int *special);
/* Bytes num_real_text may write for r (at most ~310 digits before the
 * point, the precision, sign, point and exponent). */
size_t num_real_room(double r, const num_real_spec *sp);

#endif /* RDB_NUM_H */
