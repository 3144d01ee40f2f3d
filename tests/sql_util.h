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

#endif /* RDB_SQL_UTIL_H */
