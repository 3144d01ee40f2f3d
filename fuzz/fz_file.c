/*
 * fz_file.c -- fuzz target: the input is a database file's bytes.  It is
 * opened on the in-memory file system, integrity-checked, and every table
 * named in the catalog (rdb_tables) is read in full (at most 1000 rows
 * each).  Damage must give an error (RDB_CORRUPT mostly), never a crash
 * or hang.  (Until 2026-11-22 the catalog was queried as sqlite_schema,
 * which rdb does not have: no table was ever read.)
 */
#include "fuzz_util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Read every object of the schema (names kept short and quoted). */
static void read_all(rdb *db)
{
	rdb_stmt *st = NULL;
	char sql[256];
	char names[16][64];  /* each < 60 bytes: sql fits */
	int n = 0, i;

	if (rdb_prepare(db, "SELECT name FROM rdb_tables WHERE type = "
			"'table'", -1, &st, NULL) == RDB_OK && st != NULL) {
		while (n < 16 && rdb_step(st) == RDB_ROW) {
			const unsigned char *z = rdb_column_text(st, 0);

			if (z != NULL && strlen((const char *)z) < 60 &&
			    strchr((const char *)z, '"') == NULL)
				snprintf(names[n++], sizeof(names[0]), "%s", z);
		}
	}
	(void)rdb_finalize(st);
	for (i = 0; i < n; i++) {
		snprintf(sql, sizeof(sql), "SELECT * FROM \"%.60s\";"
			 "SELECT count(*) FROM \"%.60s\";", names[i], names[i]);
		fz_run_sql(db, sql, 2, 1000);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rdb *db = NULL;

	if (size > (1u << 20))
		return 0;
	if (fz_open_files(data, size, NULL, 0, &db) == RDB_OK) {
		fz_run_sql(db, "PRAGMA integrity_check;", 1, 100);
		read_all(db);
		fz_run_sql(db, "SELECT * FROM rdb_tables;"
			   "INSERT INTO t1(b) VALUES ('fuzz');"
			   "PRAGMA integrity_check;", 3, 100);
	}
	(void)rdb_close(db);
	return 0;
}
