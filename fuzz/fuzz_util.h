/*
 * fuzz_util.h -- what the fuzz targets of fuzz/ share: databases opened
 * from bytes on the in-memory file system, SQL run under a time budget,
 * and the one entry point every target defines (libFuzzer's).  Test code:
 * it may use the library's internal headers.  Design: docs/testing.md,
 * "Fuzzing".
 */
#ifndef RDB_FUZZ_UTIL_H
#define RDB_FUZZ_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include "rdb.h"

/* Each target's entry point; returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The path of the database file fz_open_files() sets up. */
#define FZ_DB "fuzz.rdb"
#define FZ_WAL "fuzz.rdb-wal"

/* Open FZ_DB on a private in-memory file system holding db (n_db bytes)
 * and, if wal != NULL, FZ_WAL (n_wal bytes).  *out is set even on
 * failure (then it may be a half-open handle): close it with
 * rdb_close().  Returns rdb_open_v2's code. */
int fz_open_files(const void *db, size_t n_db, const void *wal,
		  size_t n_wal, rdb **out);

/* Run every statement of sql (NUL-terminated) on db, at most max_stmts
 * statements and max_rows rows each, each rdb_step interrupted after
 * FZ_STEP_MS milliseconds; reads every column of every row.  Errors are
 * expected and ignored. */
#define FZ_STEP_MS 300
void fz_run_sql(rdb *db, const char *sql, int max_stmts, int max_rows);

/* A copy of data as a NUL-terminated string (NULs inside kept); caller
 * frees with free(). */
char *fz_strndup(const uint8_t *data, size_t size);

#endif /* RDB_FUZZ_UTIL_H */
