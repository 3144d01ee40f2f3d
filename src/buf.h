/*
 * buf.h -- a growable byte buffer (keys, rows, strings being built).
 *
 * Layer:  leaf (any module may include it).  Includes only rdb.h.
 * Contract:
 *   - A zeroed rdb_buf is empty and valid; p is NULL until the first
 *     growth.  p is owned by the buffer: free with rdb_buf_free(), or take
 *     it with rdb_buf_detach().
 *   - Growth may move p: pointers into the buffer are borrowed only until
 *     the next call that can grow it.
 *   - Growing calls return RDB_NOMEM (nothing changed) or RDB_OK.
 */
#ifndef RDB_BUF_H
#define RDB_BUF_H
#include <stddef.h>
#include "rdb.h"

typedef struct rdb_buf {
	unsigned char *p;         /* owned */
	size_t n;                 /* bytes in use */
	size_t cap;               /* bytes allocated */
} rdb_buf;

/* Make room for at least extra more bytes past n. */
rdb_rc rdb_buf_reserve(rdb_buf *b, size_t extra);
rdb_rc rdb_buf_append(rdb_buf *b, const void *src, size_t n);
rdb_rc rdb_buf_putc(rdb_buf *b, unsigned char c);
/* Append a NUL-terminated string without its NUL. */
rdb_rc rdb_buf_puts(rdb_buf *b, const char *s);
/* Keep a NUL after the content (not counted in n): for text users. */
rdb_rc rdb_buf_terminate(rdb_buf *b);
static inline void rdb_buf_reset(rdb_buf *b) { b->n = 0; }
/* Release the memory; b becomes empty.  NULL-safe. */
void rdb_buf_free(rdb_buf *b);
/* Caller owns the returned memory (free with rdb_free); b becomes empty. */
unsigned char *rdb_buf_detach(rdb_buf *b);

#endif /* RDB_BUF_H */
