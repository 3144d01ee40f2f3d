/*
 * err.h -- an error code with its message, owned by a connection (or a
 * test) and borrowed by every layer below it.
 *
 * Leaf header: any module may include it.  rdb_err_set() records the code
 * and a formatted message and returns the code, so the idiom is
 *     return rdb_err_set(err, RDB_CORRUPT, "page %u: bad type", pgno);
 * A NULL err is allowed and records nothing.  Messages are lower-case,
 * state the problem first and quote names.
 */
#ifndef RDB_ERR_H
#define RDB_ERR_H
#include "rdb.h"

#define RDB_ERR_MSG_MAX 512

typedef struct rdb_err {
	rdb_rc rc;                   /* last recorded code, RDB_OK if none */
	char msg[RDB_ERR_MSG_MAX];   /* NUL-terminated, "" if none */
} rdb_err;

#if defined(__GNUC__)
#define RDB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define RDB_PRINTF(a, b)
#endif

/* Record rc and the message; return rc.  err may be NULL. */
rdb_rc rdb_err_set(rdb_err *err, rdb_rc rc, const char *fmt, ...)
	RDB_PRINTF(3, 4);

/* Reset to RDB_OK with an empty message.  err may be NULL. */
void rdb_err_clear(rdb_err *err);

#endif /* RDB_ERR_H */
