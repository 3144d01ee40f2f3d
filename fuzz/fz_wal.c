/*
 * fz_wal.c -- fuzz target: a write-ahead log recovered at open.  The
 * input is a 4-byte little-endian length n, then n bytes of database
 * file, then the WAL's bytes (the seeds are real crash images: a file
 * and its log taken while the writer was still open; fuzz/seeds.c).  The
 * database is opened (recovering the log), integrity-checked and read.
 */
#include "fuzz_util.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rdb *db = NULL;
	size_t n;

	if (size < 4 || size > (1u << 21))
		return 0;
	n = (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16 |
	    (size_t)data[3] << 24;
	if (n > size - 4)
		n = size - 4;
	if (fz_open_files(data + 4, n, data + 4 + n, size - 4 - n, &db) ==
	    RDB_OK) {
		fz_run_sql(db, "PRAGMA integrity_check;"
			   "SELECT * FROM rdb_tables;"
			   "SELECT * FROM t1;"
			   "SELECT count(*) FROM t2;"
			   "INSERT INTO t1(b) VALUES ('after');"
			   "PRAGMA integrity_check;", 6, 1000);
	}
	(void)rdb_close(db);
	return 0;
}
