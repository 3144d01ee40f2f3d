/*
 * fz_sql.c -- fuzz target: SQL text prepared and stepped on a small
 * in-memory database (three tables, two indexes, a few rows).  At
 * most 64 statements and 100 rows each, FZ_RUN_MS for all (fuzz_util.c).
 * The database is built once (the setup's DDL and inserts used to be
 * most of each input's time) and every input opens a fresh copy of its
 * bytes: each input still starts from the same database.
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
	static fz_image img;
	static int built;
	rdb *db = NULL;
	char *sql;

	if (size > 16384)
		return 0;
	if (!built) {
		fz_image_build(setup, &img);  /* aborts if the setup fails */
		built = 1;
	}
	if (fz_open_files(img.db, img.n_db, img.wal, img.n_wal, &db) !=
	    RDB_OK)
		abort();     /* the image is a good database: must open */
	if ((sql = fz_strndup(data, size)) != NULL) {
		fz_run_sql(db, sql, 64, 100);
		free(sql);
	}
	if (rdb_close(db) != RDB_OK)
		abort();     /* every statement was finalized: must close */
	return 0;
}
