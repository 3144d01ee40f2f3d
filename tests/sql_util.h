/*
 * sql_util.h -- helpers shared by the suites that test SQL through the
 * public API: run statements that must succeed, and collect query rows.
 */
#ifndef RDB_SQL_UTIL_H
#define RDB_SQL_UTIL_H
#include "rdb.h"

/* Run sql (one or more statements) on db; fail the test on error. */
void su_ok(rdb *db, const char *sql);
/* The rows of sql as "a|b\nc|d" (NULL as "NULL"); fails the test on
 * error.  Borrowed: valid until the next su_query(). */
const char *su_query(rdb *db, const char *sql);

/* A growing string for building SQL and rows: zero-initialize; the test
 * fails when memory runs out.  b->p is NUL-terminated once anything was
 * added; the caller frees it (free) or takes it with sb_take(). */
typedef struct sbuf {
	char *p;
	size_t n, cap;
} sbuf;
/* Append printf-style text. */
void sb_add(sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The text (malloc'ed, "" if empty; the caller frees it); b is empty
 * again. */
char *sb_take(sbuf *b);

#endif /* RDB_SQL_UTIL_H */
