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

/* strcmp for qsort over an array of char *. */
int su_cmp_str(const void *a, const void *b);
/* The two engines of a suite that compares rdb with libsqlite3: an rdb
 * database at a fresh temporary path and an in-memory SQLite database.
 * su_pair_open() fails the test on error; su_pair_close() closes both
 * (each must close cleanly) and removes the rdb files. */
struct sqlite3;
typedef struct su_pair {
	char path[256];
	rdb *db;
	struct sqlite3 *lite;
} su_pair;
void su_pair_open(su_pair *p);
void su_pair_close(su_pair *p);

/* A new in-memory database named name with cache_pages frames (0: the
 * default); fails the test on error.  The caller closes it. */
rdb *su_open_mem(const char *name, long cache_pages);
/* The query plan of sql: its EXPLAIN QUERY PLAN detail lines, each
 * followed by ';' (malloc'ed; the caller frees it). */
char *su_plan(rdb *db, const char *sql);
/* Fail the test unless su_plan(db, sql) is want. */
void su_expect_plan(rdb *db, const char *sql, const char *want);

/* How a suite prints one value of a row (its own format). */
typedef void (*su_put_fn)(sbuf *b, int type, long long i, double r,
			  const unsigned char *p, int n);
/* Run query q with the nth allocation failing (n 0: none), reading every
 * value through its typed getters (rdb_column_text() of a number would
 * allocate) into rows printed by put, one line per row.  *rc_out gets the
 * last rdb_prepare/rdb_step code, *failed whether the failure fired.  The
 * rows (malloc'ed) when the query ran to RDB_DONE, else NULL. */
char *su_run_failing(rdb *db, const char *q, long n, su_put_fn put,
		     int *rc_out, int *failed);

/* su_put_fn printing a value as its class letter and value, each
 * followed by '|': I1|, R1.5|, T and B with the bytes in hex, N|. */
void su_put_typed(sbuf *b, int type, long long i, double r,
		  const unsigned char *p, int n);
/* The rows of sql as "<n> rows\n" and one line per row (its values
 * printed by put, sep between them), the lines sorted unless ordered (a
 * join's row order is unspecified); fails the test on error.  Malloc'ed:
 * the caller frees it.  Blob values are read as blobs, others as text. */
struct sqlite3;
char *su_rdb_rows(rdb *db, const char *sql, su_put_fn put, const char *sep,
		  int ordered);
char *su_sqlite_rows(struct sqlite3 *db, const char *sql, su_put_fn put,
		     const char *sep, int ordered);

#endif /* RDB_SQL_UTIL_H */
