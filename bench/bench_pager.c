/*
 * bench_pager.c -- pager commit latency and cached-read cost, each next to
 * the operating-system floor it is built on (fdatasync, pwrite, pread),
 * measured in the same run on real files in the current directory.
 * Stdout: one "<workload>: rdb X unit, <peer> Y unit, ratio R" line per
 * workload, everything else starts with '#'.  See docs/benchmarks.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rdb.h"
#include "err.h"
#include "format.h"
#include "pager/os.h"
#include "pager/pager.h"

#define PAGE 4096u
#define FLOOR_FILE "bench_pager_floor.dat"
#define FLOOR_PAGES 64u
#define READ_FILE "bench_pager_read.dat"
#define READ_FILE_PAGES 10240u          /* 40 MiB */
#define COMMIT_DB "bench_pager_commit.db"
#define COMMIT_DB_PAGES 1000u           /* incl. page 0 */
#define READ_DB "bench_pager_read.db"
#define READ_DB_PAGES 10000u            /* incl. page 0 */
#define READ_DB_CACHE 12000u
#define WARMUP_COMMITS 1200
#define N_READS 5000000L
#define N_PREADS 2000000L
#define MAX_THREADS 4

/* ---- helpers ---------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*; *s must not be 0. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static uint32_t rnd_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)((rnd(s) >> 32) % n);
}

static void die(const char *what, rdb_rc rc, const rdb_err *err)
{
	printf("# error: %s: %s%s%s\n", what, rdb_errstr(rc),
	       err != NULL && err->msg[0] ? ": " : "",
	       err != NULL ? err->msg : "");
	fflush(stdout);
	exit(1);
}

static void die_errno(const char *what)
{
	printf("# error: %s: %s\n", what, strerror(errno));
	fflush(stdout);
	exit(1);
}

/* Two decimals below 10, one above: enough for run-to-run noise. */
static int prec(double v)
{
	return v < 10 ? 2 : 1;
}

static void line(const char *workload, double rdb, const char *unit,
		 const char *peer, double peer_val)
{
	printf("%s: rdb %.*f %s, %s %.*f %s, ratio %.2f\n", workload,
	       prec(rdb), rdb, unit, peer, prec(peer_val), peer_val, unit,
	       peer_val > 0 ? rdb / peer_val : 0);
	fflush(stdout);
}

/* ---- operating-system floors ------------------------------------------ */

static int open_filled(const char *path, uint32_t n_pages)
{
	unsigned char buf[PAGE];
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die_errno(path);
	for (uint32_t i = 0; i < n_pages; i++) {
		memset(buf, (int)(i & 0xff), sizeof buf);
		if (pwrite(fd, buf, PAGE, (off_t)i * PAGE) != (ssize_t)PAGE)
			die_errno("pwrite");
	}
	if (fsync(fd) != 0)
		die_errno("fsync");
	return fd;
}

/* Mean us of one 4 KiB overwrite of a random page among 64, with
 * fdatasync after each when sync is set. */
static double floor_write_us(int fd, long n, int sync)
{
	unsigned char buf[PAGE];
	uint64_t s = 0x9e3779b97f4a7c15ull;
	uint64_t t0 = now_ns();

	memset(buf, 0x5a, sizeof buf);
	for (long i = 0; i < n; i++) {
		off_t off = (off_t)rnd_below(&s, FLOOR_PAGES) * PAGE;

		buf[0] = (unsigned char)i;
		if (pwrite(fd, buf, PAGE, off) != (ssize_t)PAGE)
			die_errno("pwrite");
		if (sync && fdatasync(fd) != 0)
			die_errno("fdatasync");
	}
	return (double)(now_ns() - t0) / 1e3 / (double)n;
}

/* Mean ns of a pread of a random 4 KiB page of a warmed 40 MiB file. */
static double floor_pread_ns(long n)
{
	unsigned char buf[PAGE];
	uint64_t s = 0x2545f4914f6cdd1dull, sum = 0, t0;
	int fd = open_filled(READ_FILE, READ_FILE_PAGES);

	for (uint32_t i = 0; i < READ_FILE_PAGES; i++)
		if (pread(fd, buf, PAGE, (off_t)i * PAGE) != (ssize_t)PAGE)
			die_errno("pread");
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		off_t off = (off_t)rnd_below(&s, READ_FILE_PAGES) * PAGE;

		if (pread(fd, buf, PAGE, off) != (ssize_t)PAGE)
			die_errno("pread");
		sum += buf[8];
	}
	t0 = now_ns() - t0;
	close(fd);
	unlink(READ_FILE);
	if (sum == 1)   /* keeps the reads; never true in practice */
		printf("#\n");
	return (double)t0 / (double)n;
}

/* ---- pager ------------------------------------------------------------- */

static pager *db_open(const char *path, pager_sync sync, uint32_t cache,
		      rdb_err *err)
{
	pager_opts o;
	pager *p = NULL;
	rdb_rc rc;

	os_unix_vfs()->remove(os_unix_vfs(), path, NULL);
	pager_opts_default(&o);
	o.page_size = PAGE;
	o.sync = sync;
	o.create = 1;
	if (cache != 0)
		o.cache_pages = cache;
	rc = pager_open(os_unix_vfs(), path, &o, err, &p);
	if (rc != RDB_OK)
		die("pager_open", rc, err);
	return p;
}

static void db_remove(const char *path)
{
	char wal[256];

	snprintf(wal, sizeof wal, "%s-wal", path);
	(void)os_unix_vfs()->remove(os_unix_vfs(), path, NULL);
	(void)os_unix_vfs()->remove(os_unix_vfs(), wal, NULL);
}

/* Grow the database to n_pages pages (incl. page 0); each new page holds
 * its own number at the body's start.  Commits every 500 pages. */
static void db_populate(pager *p, uint32_t n_pages)
{
	rdb_err err = { 0 };
	pager_txn *t = NULL;
	pager_page *pg;
	rdb_rc rc;
	uint32_t done = 1;

	while (done < n_pages) {
		rc = pager_begin(p, 1, &err, &t);
		if (rc != RDB_OK)
			die("populate: pager_begin", rc, &err);
		for (uint32_t i = 0; i < 500 && done < n_pages; i++, done++) {
			rc = pager_alloc(t, FMT_PT_KV, &pg);
			if (rc != RDB_OK)
				die("populate: pager_alloc", rc, &err);
			fmt_put_u32(pager_data(pg) + FMT_PAGE_BODY,
				    pager_pgno(pg));
			pager_unref(pg);
		}
		rc = pager_commit(t);
		if (rc != RDB_OK)
			die("populate: pager_commit", rc, &err);
	}
}

/* One write transaction changing 8 bytes of page pgno. */
static rdb_rc one_commit(pager *p, rdb_pgno pgno, uint64_t v, rdb_err *err)
{
	pager_txn *t = NULL;
	pager_page *pg = NULL;
	rdb_rc rc = pager_begin(p, 1, err, &t);

	if (rc != RDB_OK)
		return rc;
	rc = pager_get(t, pgno, &pg);
	if (rc != RDB_OK)
		goto fail;
	rc = pager_write(t, &pg);
	if (rc != RDB_OK)
		goto fail;
	fmt_put_u64(pager_data(pg) + FMT_PAGE_BODY + 8, v);
	pager_unref(pg);
	return pager_commit(t);
fail:
	pager_unref(pg);
	pager_rollback(t);
	return rc;
}

/* n commits of random pages in [lo, hi); mean us per commit. */
static double commit_run(pager *p, long n, rdb_pgno lo, rdb_pgno hi,
			 uint64_t seed)
{
	rdb_err err = { 0 };
	uint64_t t0 = now_ns();

	for (long i = 0; i < n; i++) {
		rdb_rc rc = one_commit(p, lo + rnd_below(&seed, hi - lo),
				       (uint64_t)i, &err);

		if (rc != RDB_OK)
			die("commit", rc, &err);
	}
	return (double)(now_ns() - t0) / 1e3 / (double)n;
}

/* Commit until the WAL has been filled and reset at least twice, so the
 * timed run reuses an allocated WAL file and includes checkpoints.
 * Returns the mean us per warm-up commit. */
static double commit_warmup(pager *p)
{
	pager_stats st;
	uint64_t ck0, t0 = now_ns();
	long done = 0;

	pager_get_stats(p, &st);
	ck0 = st.checkpoints;
	do {
		commit_run(p, 100, 1, COMMIT_DB_PAGES, 0x1234567ull + done);
		done += 100;
		pager_get_stats(p, &st);
	} while (done < WARMUP_COMMITS ||
		 (st.checkpoints - ck0 < 2 && done < 20 * WARMUP_COMMITS));
	printf("# warm-up: %ld commits, %llu checkpoints\n", done,
	       (unsigned long long)(st.checkpoints - ck0));
	return (double)(now_ns() - t0) / 1e3 / (double)done;
}

static void note_stats(const char *what, pager *p, const pager_stats *a,
		       long n)
{
	pager_stats b;

	pager_get_stats(p, &b);
	printf("# %s: per commit %.2f syncs, %.2f wal frames; "
	       "%llu checkpoints in %ld commits\n", what,
	       (double)(b.syncs - a->syncs) / (double)n,
	       (double)(b.wal_frames - a->wal_frames) / (double)n,
	       (unsigned long long)(b.checkpoints - a->checkpoints), n);
}

typedef struct worker {
	pager *p;                 /* borrowed */
	pthread_barrier_t *start; /* borrowed */
	rdb_pgno lo, hi;
	long n;
	rdb_rc rc;
	rdb_err err;
} worker;

static void *worker_main(void *arg)
{
	worker *w = arg;
	uint64_t s = 0xabcdef12345ull + w->lo;

	pthread_barrier_wait(w->start);
	for (long i = 0; i < w->n && w->rc == RDB_OK; i++)
		w->rc = one_commit(w->p, w->lo + rnd_below(&s, w->hi - w->lo),
				   (uint64_t)i, &w->err);
	return NULL;
}

/* n commits spread over n_threads threads, each on its own pages;
 * wall-clock us per commit. */
static double commit_threads(pager *p, int n_threads, long n)
{
	pthread_t tid[MAX_THREADS];
	worker w[MAX_THREADS];
	pthread_barrier_t start;
	uint32_t span = (COMMIT_DB_PAGES - 1) / (uint32_t)n_threads;
	uint64_t t0;

	pthread_barrier_init(&start, NULL, (unsigned)n_threads + 1);
	for (int i = 0; i < n_threads; i++) {
		memset(&w[i], 0, sizeof w[i]);
		w[i].p = p;
		w[i].start = &start;
		w[i].lo = 1 + (uint32_t)i * span;
		w[i].hi = w[i].lo + span;
		w[i].n = n / n_threads;
		if (pthread_create(&tid[i], NULL, worker_main, &w[i]) != 0)
			die_errno("pthread_create");
	}
	pthread_barrier_wait(&start);
	t0 = now_ns();
	for (int i = 0; i < n_threads; i++)
		pthread_join(tid[i], NULL);
	t0 = now_ns() - t0;
	pthread_barrier_destroy(&start);
	for (int i = 0; i < n_threads; i++)
		if (w[i].rc != RDB_OK)
			die("threaded commit", w[i].rc, &w[i].err);
	return (double)t0 / 1e3 / (double)(w[0].n * n_threads);
}

/* ---- workloads ---------------------------------------------------------- */

static void bench_commits(long n, double fsync_us, double pwrite_us)
{
	rdb_err err = { 0 };
	pager *p = db_open(COMMIT_DB, PAGER_SYNC_FULL, 0, &err);
	pager_stats st;
	double one, x;
	char name[64];
	rdb_rc rc;

	db_populate(p, COMMIT_DB_PAGES);
	x = commit_warmup(p);
	/* A slow pager gets fewer commits: at most ~4 s per workload. */
	if (n > (long)(4e6 / x) / 4 * 4)
		n = (long)(4e6 / x) / 4 * 4;
	if (n < 100)
		n = 100;
	printf("# N %ld commits (NORMAL %ld)\n", n, 5 * n);

	pager_get_stats(p, &st);
	one = commit_run(p, n, 1, COMMIT_DB_PAGES, 42);
	note_stats("full 1 thread", p, &st, n);
	line("pager.commit_full_1thread", one, "us", "fsync", fsync_us);

	for (int t = 2; t <= MAX_THREADS; t *= 2) {
		snprintf(name, sizeof name, "full %d threads", t);
		pager_get_stats(p, &st);
		x = commit_threads(p, t, n);
		note_stats(name, p, &st, n);
		snprintf(name, sizeof name, "pager.commit_full_%dthreads", t);
		line(name, x, "us", "1thread", one);
	}

	pager_set_sync(p, PAGER_SYNC_NORMAL);
	commit_run(p, n, 1, COMMIT_DB_PAGES, 7);
	pager_get_stats(p, &st);
	x = commit_run(p, 5 * n, 1, COMMIT_DB_PAGES, 43);
	note_stats("normal 1 thread", p, &st, 5 * n);
	line("pager.commit_normal_1thread", x, "us", "pwrite", pwrite_us);

	rc = pager_close(p);
	if (rc != RDB_OK)
		die("pager_close", rc, &err);
	db_remove(COMMIT_DB);
}

static void bench_cached_reads(long m, double pread_ns)
{
	rdb_err err = { 0 };
	pager *p = db_open(READ_DB, PAGER_SYNC_NORMAL, READ_DB_CACHE, &err);
	pager_txn *t = NULL;
	pager_page *pg;
	uint64_t s = 0x51ed27ull, sum = 0, t0;
	rdb_pgno n_pages;
	rdb_rc rc;

	db_populate(p, READ_DB_PAGES);
	rc = pager_begin(p, 0, &err, &t);
	if (rc != RDB_OK)
		die("pager_begin read", rc, &err);
	n_pages = pager_txn_page_count(t);
	if (n_pages != READ_DB_PAGES)
		die("page count after populate", RDB_INTERNAL, NULL);
	for (rdb_pgno i = 1; i < n_pages; i++) {
		rc = pager_get(t, i, &pg);
		if (rc != RDB_OK)
			die("warm: pager_get", rc, &err);
		if (fmt_get_u32(pager_data(pg) + FMT_PAGE_BODY) != i)
			die("warm: page holds the wrong bytes", RDB_CORRUPT,
			    NULL);
		pager_unref(pg);
	}
	t0 = now_ns();
	for (long i = 0; i < m; i++) {
		rc = pager_get(t, 1 + rnd_below(&s, n_pages - 1), &pg);
		if (rc != RDB_OK)
			die("pager_get", rc, &err);
		sum += fmt_get_u64(pager_data(pg) + FMT_PAGE_BODY);
		pager_unref(pg);
	}
	t0 = now_ns() - t0;
	rc = pager_commit(t);
	if (rc != RDB_OK)
		die("end read transaction", rc, &err);
	if (sum == 0)
		die("reads returned nothing", RDB_INTERNAL, NULL);
	line("pager.cached_random_read", (double)t0 / (double)m, "ns",
	     "pread", pread_ns);
	rc = pager_close(p);
	if (rc != RDB_OK)
		die("pager_close", rc, &err);
	db_remove(READ_DB);
}

/* ---- main --------------------------------------------------------------- */

int main(void)
{
	int fd = open_filled(FLOOR_FILE, FLOOR_PAGES);
	double probe, fsync_us, pwrite_us, pread_ns;
	long n;

	/* Size N so that each timed commit workload takes about 3 s at the
	 * fsync floor of this disk. */
	probe = floor_write_us(fd, 100, 1);
	n = (long)(3e6 / probe) / 4 * 4;
	if (n < 400)
		n = 400;
	if (n > 8000)
		n = 8000;
	fsync_us = floor_write_us(fd, n, 1);
	pwrite_us = floor_write_us(fd, 50 * n, 0);
	close(fd);
	unlink(FLOOR_FILE);
	printf("# page %u B, nproc %ld, N %ld fsyncs, M %ld reads\n", PAGE,
	       sysconf(_SC_NPROCESSORS_ONLN), n, N_READS);
	printf("# floor: pwrite 4 KiB + fdatasync %.1f us, pwrite 4 KiB "
	       "%.2f us\n", fsync_us, pwrite_us);
	fflush(stdout);

	bench_commits(n, fsync_us, pwrite_us);
	pread_ns = floor_pread_ns(N_PREADS);
	bench_cached_reads(N_READS, pread_ns);
	return 0;
}
