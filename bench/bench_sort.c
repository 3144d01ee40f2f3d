/*
 * bench_sort.c -- sorting and grouping through the public API (rdb.h):
 * the table nums(id INTEGER PRIMARY KEY, v INTEGER, s TEXT) with N rows
 * (random v, a 16-byte text s), then ORDER BY and GROUP BY with a cache
 * large enough for everything to sort in memory, and with an 8 MiB cache
 * (2048 pages of 4096 bytes), where the sorter spills to its temporary
 * file.  Usage: bench_sort [rows [cache_pages]]; default 1,000,000 rows,
 * both caches.  With a cache given, only that cache runs (for a peak RSS
 * of its own: docs/benchmarks.md, "Sorting").  Stdout: one
 * "sort.<workload>: rdb X ms" line per workload; other lines start '#'.
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

/* Step through sql; returns ms, checks the row count. */
static double run(rdb *db, const char *sql, long want)
{
	rdb_stmt *st;
	double t0 = now_ms();
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
	return now_ms() - t0;
}

static void workloads(const char *path, long n, long cache, const char *tag)
{
	rdb *db = open_db(path, cache);

	(void)run(db, "SELECT count(*) FROM nums", 1);   /* warm the cache */
	printf("sort.order_by_int_%s: rdb %.0f ms\n", tag,
	       run(db, "SELECT id, v FROM nums ORDER BY v", n));
	printf("sort.order_by_text_%s: rdb %.0f ms\n", tag,
	       run(db, "SELECT id, s FROM nums ORDER BY s DESC", n));
	printf("sort.group_by_%s: rdb %.0f ms\n", tag,
	       run(db, "SELECT v, count(*), max(s) FROM nums GROUP BY v", -1));
	rdb_close(db);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000L;
	long cache = argc > 2 ? atol(argv[2]) : 0;
	char path[64];
	struct rusage ru;
	double t0;

	if (n < 1)
		n = 1;
	snprintf(path, sizeof(path), "bench_sort_%ld.rdb", (long)getpid());
	t0 = now_ms();
	fill(path, n, cache ? cache : 20000);
	printf("# %ld rows inserted in %.0f ms\n", n, now_ms() - t0);
	if (cache == 0 || cache == BIG_CACHE)
		workloads(path, n, BIG_CACHE, "memory");
	if (cache == 0 || cache == SMALL_CACHE)
		workloads(path, n, SMALL_CACHE, "8mib");
	if (cache != 0 && cache != BIG_CACHE && cache != SMALL_CACHE)
		workloads(path, n, cache, "custom");
	getrusage(RUSAGE_SELF, &ru);
	printf("# peak RSS %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
	remove(path);
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "-wal");
	remove(path);
	return 0;
}
