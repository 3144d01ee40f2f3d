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

/* The buffer pool of every handle the targets open: the pager's minimum.
 * The files are small, and a small pool evicts and spills more (more of
 * the pager runs); a larger one only costs a bigger allocation, zeroed,
 * per input. */
#define FZ_CACHE_PAGES 16

/* The RDB_LIMIT_LENGTH of every handle the targets open.  A statement
 * may otherwise build strings of a gigabyte (printf's widths, repeated
 * concatenation), which under the fuzzer's sanitizers pass its memory
 * limit and its timeout while finding nothing a megabyte does not;
 * SQLite's OSS-Fuzz build lowers SQLITE_MAX_LENGTH for the same reason.
 * The sizes past it are tested with the default limit in check_sqlfunc. */
#define FZ_MAX_LENGTH 1000000

/* Open FZ_DB on a private in-memory file system holding db (n_db bytes)
 * and, if wal != NULL, FZ_WAL (n_wal bytes), with RDB_LIMIT_LENGTH
 * FZ_MAX_LENGTH.  *out is set even on failure (then it may be a
 * half-open handle): close it with rdb_close().  Returns rdb_open_v2's
 * code. */
int fz_open_files(const void *db, size_t n_db, const void *wal,
		  size_t n_wal, rdb **out);

/* The bytes of FZ_DB and FZ_WAL (wal NULL when there is none) after a
 * setup script ran on a new database and the handle closed: a target
 * builds it once and opens a fresh copy per input with fz_open_files().
 * Owned by the image; never freed (it lives as long as the process). */
typedef struct fz_image {
	unsigned char *db, *wal;
	size_t n_db, n_wal;
} fz_image;

/* Build img from setup (NUL-terminated SQL, run with rdb_exec); aborts
 * if any step fails, since every input would then run on a different
 * database than intended. */
void fz_image_build(const char *setup, fz_image *img);

/* Run every statement of sql (NUL-terminated) on db, at most max_stmts
 * statements and max_rows rows each; reads every column of every row.
 * The whole call has FZ_RUN_MS milliseconds: a step still running then
 * is interrupted and no further statement starts.  Errors are expected
 * and ignored. */
#define FZ_RUN_MS 100
void fz_run_sql(rdb *db, const char *sql, int max_stmts, int max_rows);

/* A copy of data as a NUL-terminated string (NULs inside kept); caller
 * frees with free(). */
char *fz_strndup(const uint8_t *data, size_t size);

#endif /* RDB_FUZZ_UTIL_H */
