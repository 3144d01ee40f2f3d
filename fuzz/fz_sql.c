/*
 * fz_sql.c -- fuzz target: SQL text prepared and stepped on a small
 * in-memory database (three tables, two indexes, a few rows).  At
 * most 64 statements and 1000 rows each; every step is interrupted after
 * FZ_STEP_MS (fuzz_util.c).
 */
#include "fuzz_util.h"
#include <stdlib.h>

static const char setup[] =
	"CREATE TABLE t1(a INTEGER PRIMARY KEY, b TEXT, c REAL, d BLOB);"
	"CREATE TABLE t2(x INT, y TEXT NOT NULL DEFAULT 'y', z);"
	"CREATE UNIQUE INDEX t2xy ON t2(x, y);"
	"CREATE INDEX t2z ON t2(z);"
	"CREATE TABLE t3(k TEXT PRIMARY KEY, v INT CHECK (v >= 0)) STRICT;"
	"INSERT INTO t1 VALUES (1, 'one', 1.5, x'01'), (2, 'two', NULL, NULL),"
	"  (3, NULL, -2.25, x'ff00'), (10, 'ten', 1e100, x'');"
	"INSERT INTO t2 VALUES (1, 'a', 1), (2, 'b', 'z'), (3, 'c', 2.5),"
	"  (NULL, 'd', NULL);"
	"INSERT INTO t3 VALUES ('k1', 1), ('k2', 2);";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rdb_open_opts o = {0};
	rdb *db = NULL;
	char *sql;

	if (size > 16384)
		return 0;
	o.flags = RDB_OPEN_MEMORY;
	o.cache_pages = 64;
	if (rdb_open_v2(NULL, &db, &o) != RDB_OK) {
		rdb_close(db);
		return 0;
	}
	if ((sql = fz_strndup(data, size)) != NULL) {
		/* The setup is fixed and must succeed (a failure would leave
		 * every input on a smaller database than intended). */
		if (rdb_exec(db, setup, NULL, NULL, NULL) != RDB_OK)
			abort();
		fz_run_sql(db, sql, 64, 1000);
		free(sql);
	}
	if (rdb_close(db) != RDB_OK)
		abort();     /* every statement was finalized: must close */
	return 0;
}
