/*
 * bench_sort.c -- sorting and grouping through the public API (rdb.h):
 * the table nums(id INTEGER PRIMARY KEY, v INTEGER, s TEXT) with N rows
 * (random v, a 16-byte text s), then ORDER BY and GROUP BY with a cache
 * large enough for everything to sort in memory, and with an 8 MiB cache
 * (2048 pages of 4096 bytes), where the sorter spills to its temporary
 * file; the peer is SQLite with the same data, page size and cache
 * (temp_store default: a temporary file past the cache).  Usage: bench_sort [rows [cache_pages]]; default 1,000,000 rows,
 * both caches.  With a cache given, only that cache runs (for a peak RSS
 * of its own: docs/benchmarks.md, "Sorting").  Stdout: one
 * "sort.<workload>: rdb X ms, sqlite Y ms, ratio R" line per workload
 * (wall time); '#' lines give each engine's CPU time.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "rdb.h"

#define PAGE 4096u
#define BIG_CACHE 100000L          /* 390 MiB: every sort fits in memory */
#define SMALL_CACHE 2048L          /* 8 MiB */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void die(rdb *db, const char *what)
{
	fprintf(stderr, "bench_sort: %s: %s\n", what,
		db ? rdb_errmsg(db) : "error");
	exit(1);
}

static rdb *open_db(const char *path, long cache)
{
	rdb_open_opts o;
	rdb *db;

	memset(&o, 0, sizeof(o));
	o.page_size = PAGE;
	o.cache_pages = cache;
	o.sync = RDB_SYNC_OFF;
	if (rdb_open_v2(path, &db, &o) != RDB_OK)
		die(NULL, "open");
	return db;
}

static void fill(const char *path, long n, long cache)
{
	rdb *db = open_db(path, cache);
	rdb_stmt *st;
	uint64_t x = 88172645463325252ull;
	char s[17];
	long i;

	if (rdb_exec(db, "CREATE TABLE nums(id INTEGER PRIMARY KEY, "
		     "v INTEGER, s TEXT); BEGIN", NULL, NULL, NULL) != RDB_OK ||
	    rdb_prepare(db, "INSERT INTO nums VALUES(?1, ?2, ?3)", -1, &st,
			NULL) != RDB_OK)
		die(db, "create");
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		snprintf(s, sizeof(s), "%016llx", (unsigned long long)x);
		rdb_bind_int64(st, 1, i);
		rdb_bind_int64(st, 2, (int64_t)(x % (uint64_t)n));
		rdb_bind_text(st, 3, s, 16);
		if (rdb_step(st) != RDB_DONE || rdb_reset(st) != RDB_OK)
			die(db, "insert");
	}
	rdb_finalize(st);
	if (rdb_exec(db, "COMMIT", NULL, NULL, NULL) != RDB_OK)
		die(db, "commit");
	rdb_close(db);
}

static double last_cpu;   /* CPU ms of the last run() */

static void sq_check(sqlite3 *s, int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fprintf(stderr, "bench_sort: sqlite %s: %s\n", what,
			sqlite3_errmsg(s));
		exit(1);
	}
}

static sqlite3 *sq_open(const char *path, long cache)
{
	sqlite3 *s;
	char pragma[96];

	sq_check(NULL, sqlite3_open(path, &s), "open");
	snprintf(pragma, sizeof(pragma), "PRAGMA page_size=%u; PRAGMA "
		 "journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA "
		 "cache_size=%ld", PAGE, cache);
	sq_check(s, sqlite3_exec(s, pragma, NULL, NULL, NULL), pragma);
	return s;
}

static void sq_fill(const char *path, long n, long cache)
{
	sqlite3 *db = sq_open(path, cache);
	sqlite3_stmt *st;
	uint64_t x = 88172645463325252ull;
	char s[17];
	long i;

	sq_check(db, sqlite3_exec(db, "CREATE TABLE nums(id INTEGER PRIMARY "
				  "KEY, v INTEGER, s TEXT); BEGIN", NULL, NULL,
				  NULL), "create");
	sq_check(db, sqlite3_prepare_v2(db, "INSERT INTO nums VALUES(?1, ?2, "
					"?3)", -1, &st, NULL), "prepare");
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		snprintf(s, sizeof(s), "%016llx", (unsigned long long)x);
		sqlite3_bind_int64(st, 1, i);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)(x % (uint64_t)n));
		sqlite3_bind_text(st, 3, s, 16, SQLITE_STATIC);
		sq_check(db, sqlite3_step(st), "insert");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	sq_check(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
	sqlite3_close(db);
}

static double sq_cpu;

static double sq_run(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	double t0 = now_ms(), c0;
	int rc;

	sq_check(db, sqlite3_prepare_v2(db, sql, -1, &st, NULL), sql);
	c0 = cpu_ms();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		(void)sqlite3_column_int64(st, 0);
	sq_check(db, rc, sql);
	sqlite3_finalize(st);
	sq_cpu = cpu_ms() - c0;
	return now_ms() - t0;
}

/* Step through sql; returns wall ms (CPU ms in last_cpu), checks the row
 * count. */
static double run(rdb *db, const char *sql, long want)
{
	rdb_stmt *st;
	double t0 = now_ms(), c0 = cpu_ms();
	long rows = 0;
	int rc;

	if (rdb_prepare(db, sql, -1, &st, NULL) != RDB_OK)
		die(db, sql);
	while ((rc = rdb_step(st)) == RDB_ROW) {
		(void)rdb_column_int64(st, 0);
		rows++;
	}
	if (rc != RDB_DONE)
		die(db, sql);
	rdb_finalize(st);
	if (want >= 0 && rows != want) {
		fprintf(stderr, "bench_sort: %s: %ld rows, want %ld\n", sql,
			rows, want);
		exit(1);
	}
	last_cpu = cpu_ms() - c0;
	return now_ms() - t0;
}

static void report(const char *name, const char *tag, double ms,
		   sqlite3 *sq, const char *sql)
{
	double r_cpu = last_cpu, sq_ms = sq_run(sq, sql);

	printf("sort.%s_%s: rdb %.0f ms, sqlite %.0f ms, ratio %.2f\n", name,
	       tag, ms, sq_ms, ms / sq_ms);
	printf("# %s_%s cpu: rdb %.0f ms, sqlite %.0f ms\n", name, tag,
	       r_cpu, sq_cpu);
	fflush(stdout);
}

static const char *const sqls[][2] = {
	{ "order_by_int", "SELECT id, v FROM nums ORDER BY v" },
	{ "order_by_text", "SELECT id, s FROM nums ORDER BY s DESC" },
	{ "group_by", "SELECT v, count(*), max(s) FROM nums GROUP BY v" },
	{ "union", "SELECT v FROM nums UNION SELECT id FROM nums" },
};

static void workloads(const char *path, const char *sq_path, long n,
		      long cache, const char *tag)
{
	rdb *db = open_db(path, cache);
	sqlite3 *sq = sq_open(sq_path, cache);
	unsigned i;

	(void)run(db, "SELECT count(*) FROM nums", 1);   /* warm the cache */
	(void)sq_run(sq, "SELECT count(*) FROM nums");
	for (i = 0; i < sizeof(sqls) / sizeof(sqls[0]); i++)
		report(sqls[i][0], tag, run(db, sqls[i][1], i < 2 ? n : -1),
		       sq, sqls[i][1]);
	rdb_close(db);
	sqlite3_close(sq);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000L;
	long cache = argc > 2 ? atol(argv[2]) : 0;
	char path[64], sq_path[64];
	struct rusage ru;
	double t0;

	if (n < 1)
		n = 1;
	snprintf(path, sizeof(path), "bench_sort_%ld.rdb", (long)getpid());
	snprintf(sq_path, sizeof(sq_path), "bench_sort_%ld.sqlite",
		 (long)getpid());
	t0 = now_ms();
	fill(path, n, cache ? cache : 20000);
	printf("# %ld rows inserted in %.0f ms (cpu %.0f ms)\n", n,
	       now_ms() - t0, cpu_ms());
	sq_fill(sq_path, n, cache ? cache : 20000);
	if (cache == 0 || cache == BIG_CACHE)
		workloads(path, sq_path, n, BIG_CACHE, "memory");
	if (cache == 0 || cache == SMALL_CACHE)
		workloads(path, sq_path, n, SMALL_CACHE, "8mib");
	if (cache != 0 && cache != BIG_CACHE && cache != SMALL_CACHE)
		workloads(path, sq_path, n, cache, "custom");
	getrusage(RUSAGE_SELF, &ru);
	printf("# peak RSS %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
	remove(path);
	remove(sq_path);
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "-wal");
	remove(path);
	snprintf(sq_path + strlen(sq_path), sizeof(sq_path) - strlen(sq_path),
		 "-wal");
	remove(sq_path);
	snprintf(sq_path + strlen(sq_path) - 4, 5, "-shm");
	remove(sq_path);
	return 0;
}
