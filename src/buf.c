/*
 * buf.c -- growable byte buffer; contract in buf.h.
 */
#include "buf.h"
#include <string.h>
#include "mem.h"

rdb_rc rdb_buf_reserve(rdb_buf *b, size_t extra)
{
	size_t want, cap;
	unsigned char *p;

	if (extra > (size_t)-1 - b->n - 1)
		return RDB_NOMEM;
	want = b->n + extra;
	if (want < b->cap)
		return RDB_OK;
	cap = b->cap ? b->cap : 64;
	while (cap <= want)
		cap = cap > (size_t)-1 / 2 ? want + 1 : cap * 2;
	if ((p = rdb_realloc(b->p, cap)) == NULL)
		return RDB_NOMEM;
	b->p = p;
	b->cap = cap;
	return RDB_OK;
}

rdb_rc rdb_buf_append(rdb_buf *b, const void *src, size_t n)
{
	if (n == 0)
		return RDB_OK;
	if (rdb_buf_reserve(b, n) != RDB_OK)
		return RDB_NOMEM;
	memcpy(b->p + b->n, src, n);
	b->n += n;
	return RDB_OK;
}

rdb_rc rdb_buf_putc(rdb_buf *b, unsigned char c)
{
	if (b->n + 1 >= b->cap && rdb_buf_reserve(b, 1) != RDB_OK)
		return RDB_NOMEM;
	b->p[b->n++] = c;
	return RDB_OK;
}

rdb_rc rdb_buf_puts(rdb_buf *b, const char *s)
{
	return rdb_buf_append(b, s, strlen(s));
}

rdb_rc rdb_buf_terminate(rdb_buf *b)
{
	if (rdb_buf_reserve(b, 1) != RDB_OK)
		return RDB_NOMEM;
	b->p[b->n] = '\0';
	return RDB_OK;
}

void rdb_buf_free(rdb_buf *b)
{
	if (b == NULL)
		return;
	rdb_free(b->p);
	b->p = NULL;
	b->n = b->cap = 0;
}

unsigned char *rdb_buf_detach(rdb_buf *b)
{
	unsigned char *p = b->p;

	b->p = NULL;
	b->n = b->cap = 0;
	return p;
}
