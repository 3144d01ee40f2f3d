/*
 * tbl_int.h -- helpers shared by the table layer's own files.  Not for
 * other modules.  Bytes: docs/format.md ("Tables"); design:
 * src/table/README.md.
 */
#ifndef RDB_TBL_INT_H
#define RDB_TBL_INT_H
#include <stddef.h>
#include <stdint.h>
#include "table/table.h"
#include "format.h"

/* ---- varints (unsigned LEB128, canonical, at most FMT_VARINT_MAX) ----- */

/* Write v at p (room for FMT_VARINT_MAX bytes); returns the bytes used. */
static inline size_t tbl_varint_put(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

/* Read a varint from [p, p + n) into *v; returns the bytes used, or 0 if
 * the bytes are truncated, too long or not canonical. */
static inline size_t tbl_varint_get(const unsigned char *p, size_t n,
				    uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < n && i < FMT_VARINT_MAX; i++) {
		if (i == FMT_VARINT_MAX - 1 && p[i] > 1)
			return 0;          /* more than 64 bits */
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if ((p[i] & 0x80) == 0) {
			if (i > 0 && p[i] == 0)
				return 0;  /* padded: not canonical */
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

static inline uint64_t tbl_zigzag(int64_t i)
{
	return ((uint64_t)i << 1) ^ (i < 0 ? UINT64_MAX : 0);
}

static inline int64_t tbl_unzigzag(uint64_t u)
{
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* ---- text ----------------------------------------------------------- */

/* Characters in n bytes of UTF-8: the bytes that do not continue a
 * sequence (so malformed text counts each stray byte once). */
static inline size_t tbl_utf8_chars(const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += (s[i] & 0xc0) != 0x80;
	return c;
}

/* value.c: is the double r an integer in int64's range?  (*out gets it.) */
int tbl_real_to_int(double r, int64_t *out);

#endif /* RDB_TBL_INT_H */
