/*
 * bench_pager.c -- pager commit latency and cached-read cost, each next to
 * the operating-system floor it is built on (fdatasync, pwrite, pread),
 * measured in the same run on real files in the current directory.
 * Each workload and its peer run in alternating rounds so that load from
 * other processes hits both alike.  Stdout: one "<workload>: rdb X unit,
 * <peer> Y unit, ratio R" line per workload, all else starts with '#'.
 * How to run, what each line means, last results: docs/benchmarks.md.
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
#include "common.h"

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
#define ROUNDS 20
#define MIN_ROUNDS 2
#define FULL_BUDGET_S 40.0   /* seconds; see more_rounds() */
#define NORMAL_BUDGET_S 12.0
#define READ_BUDGET_S 12.0
#define NORMAL_FACTOR 5   /* NORMAL commits are cheap: run 5x as many */

/* ---- helpers ---------------------------------------------------------- */

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

/* ---- tallies ---------------------------------------------------------- */

/* Time and pager counters of one workload, summed over its rounds. */
typedef struct tally {
	uint64_t ns;                    /* timed wall-clock */
	long n;                         /* operations */
	uint64_t syncs, frames, ckpts;  /* pager counters, commits only */
	double per[ROUNDS];             /* ns per op of each round */
	int rounds;
} tally;

static void tally_add(tally *t, uint64_t ns, long n)
{
	if (t->rounds < ROUNDS)
		t->per[t->rounds++] = (double)ns / (double)n;
	t->ns += ns;
	t->n += n;
}

static double tally_mean(const tally *t, double unit_ns)
{
	return (double)t->ns / unit_ns / (double)t->n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The per-op values of t's rounds, sorted, in unit_ns; returns how many. */
static int tally_sorted(const tally *t, double unit_ns, double *v)
{
	memcpy(v, t->per, sizeof t->per);
	qsort(v, (size_t)t->rounds, sizeof v[0], cmp_double);
	for (int i = 0; i < t->rounds; i++)
		v[i] /= unit_ns;
	return t->rounds;
}

static double tally_median(const tally *t)
{
	double v[ROUNDS];
	int n = tally_sorted(t, 1, v);

	return n > 0 ? v[n / 2] : 0;
}

/* A '#' line: per-round min/median/max (how noisy the run was) and the
 * pager counters per commit. */
static void tally_note(const char *what, const tally *t, double unit_ns,
		       const char *unit)
{
	double v[ROUNDS];
	int n = tally_sorted(t, unit_ns, v);

	printf("# %s: %ld ops, mean %.*f %s, rounds min %.*f median %.*f "
	       "max %.*f", what, t->n, prec(tally_mean(t, unit_ns)),
	       tally_mean(t, unit_ns), unit, prec(v[0]), v[0],
	       prec(v[n / 2]), v[n / 2], prec(v[n - 1]), v[n - 1]);
	if (t->frames != 0)
		printf("; per commit %.3f syncs, %.2f wal frames; "
		       "%llu checkpoints", (double)t->syncs / (double)t->n,
		       (double)t->frames / (double)t->n,
		       (unsigned long long)t->ckpts);
	printf("\n");
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

/* n overwrites of a random 4 KiB page among FLOOR_PAGES, each followed by
 * fdatasync when sync is set; returns the elapsed ns. */
static uint64_t floor_write(int fd, long n, int sync, uint64_t seed)
{
	unsigned char buf[PAGE];
	uint64_t t0 = now_ns();

	memset(buf, 0x5a, sizeof buf);
	for (long i = 0; i < n; i++) {
		off_t off = (off_t)rnd_below(&seed, FLOOR_PAGES) * PAGE;

		buf[0] = (unsigned char)i;
		if (pwrite(fd, buf, PAGE, off) != (ssize_t)PAGE)
			die_errno("pwrite");
		if (sync && fdatasync(fd) != 0)
			die_errno("fdatasync");
	}
	return now_ns() - t0;
}

/* n preads of a random 4 KiB page of the READ_FILE_PAGES file; returns
 * the elapsed ns and adds a byte of each page to *sum. */
static uint64_t floor_pread(int fd, long n, uint64_t seed, uint64_t *sum)
{
	unsigned char buf[PAGE];
	uint64_t t0 = now_ns();

	for (long i = 0; i < n; i++) {
		off_t off = (off_t)rnd_below(&seed, READ_FILE_PAGES) * PAGE;

		if (pread(fd, buf, PAGE, off) != (ssize_t)PAGE)
			die_errno("pread");
		*sum += buf[8];
	}
	return now_ns() - t0;
}

/* ---- pager ------------------------------------------------------------- */

static pager *db_open(const char *path, pager_sync sync, uint32_t cache,
		      rdb_err *err)
{
	pager_opts o;
	pager *p = NULL;
	rdb_rc rc;

	(void)os_unix_vfs()->remove(os_unix_vfs(), path, NULL);
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

static void db_close(pager *p, const char *path, rdb_err *err)
{
	char wal[256];
	rdb_rc rc = pager_close(p);

	if (rc != RDB_OK)
		die("pager_close", rc, err);
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

typedef struct worker {
	pager *p;                 /* borrowed */
	pthread_barrier_t *start; /* borrowed; NULL when run inline */
	rdb_pgno lo, hi;          /* this worker's pages */
	long n;
	uint64_t seed;
	rdb_rc rc;
	rdb_err err;
} worker;

static void *worker_main(void *arg)
{
	worker *w = arg;
	uint64_t s = w->seed;

	if (w->start != NULL)
		pthread_barrier_wait(w->start);
	for (long i = 0; i < w->n && w->rc == RDB_OK; i++)
		w->rc = one_commit(w->p, w->lo + rnd_below(&s, w->hi - w->lo),
				   (uint64_t)i, &w->err);
	return NULL;
}

/* n commits spread over n_threads threads (1 = this thread), each thread
 * on its own pages; returns the elapsed wall-clock ns. */
static uint64_t commit_threads(pager *p, int n_threads, long n,
			       uint64_t seed)
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
		w[i].start = n_threads > 1 ? &start : NULL;
		w[i].lo = 1 + (uint32_t)i * span;
		w[i].hi = w[i].lo + span;
		w[i].n = n / n_threads;
		w[i].seed = seed + (uint64_t)i * 0x9e3779b97f4a7c15ull;
	}
	if (n_threads > 1) {
		for (int i = 0; i < n_threads; i++)
			if (pthread_create(&tid[i], NULL, worker_main,
					   &w[i]) != 0)
				die_errno("pthread_create");
		pthread_barrier_wait(&start);
	}
	t0 = now_ns();
	if (n_threads == 1)
		worker_main(&w[0]);
	else
		for (int i = 0; i < n_threads; i++)
			pthread_join(tid[i], NULL);
	t0 = now_ns() - t0;
	pthread_barrier_destroy(&start);
	for (int i = 0; i < n_threads; i++)
		if (w[i].rc != RDB_OK)
			die("commit", w[i].rc, &w[i].err);
	return t0;
}

/* One round of commits added to t with the pager counters it moved. */
static void tally_commits(tally *t, pager *p, int n_threads, long n,
			  uint64_t seed)
{
	pager_stats a, b;
	uint64_t ns;

	n = n / n_threads * n_threads;
	pager_get_stats(p, &a);
	ns = commit_threads(p, n_threads, n, seed);
	pager_get_stats(p, &b);
	tally_add(t, ns, n);
	t->syncs += b.syncs - a.syncs;
	t->frames += b.wal_frames - a.wal_frames;
	t->ckpts += b.checkpoints - a.checkpoints;
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
		(void)commit_threads(p, 1, 100, 0x1234567ull + (uint64_t)done);
		done += 100;
		pager_get_stats(p, &st);
	} while (done < WARMUP_COMMITS ||
		 (st.checkpoints - ck0 < 2 && done < 20 * WARMUP_COMMITS));
	printf("# warm-up: %ld commits, %llu checkpoints\n", done,
	       (unsigned long long)(st.checkpoints - ck0));
	return (double)(now_ns() - t0) / 1e3 / (double)done;
}

/* ---- workloads ---------------------------------------------------------- */

/* Whether to run round r of a phase that began at t0: all ROUNDS, unless
 * the disk slowed down after N was sized and the phase is over its budget
 * (then at least MIN_ROUNDS, so every workload still has the same rounds). */
static int more_rounds(int r, uint64_t t0, double budget_s)
{
	if (r >= ROUNDS)
		return 0;
	return r < MIN_ROUNDS || (double)(now_ns() - t0) < budget_s * 1e9;
}

/* FULL commits by 1, 2 and 4 threads, each round next to the fsync
 * floor. */
static void bench_full(pager *p, int fd, long chunk)
{
	static const char *const names[] = { "", "pager.commit_full_1thread",
		"pager.commit_full_2threads", "",
		"pager.commit_full_4threads" };
	tally fsync_t = { 0 }, full[MAX_THREADS + 1] = { { 0 } };
	uint64_t t0 = now_ns();

	for (int r = 0; more_rounds(r, t0, FULL_BUDGET_S); r++) {
		tally_add(&fsync_t, floor_write(fd, chunk, 1, 11 + r), chunk);
		for (int k = 1; k <= MAX_THREADS; k *= 2)
			tally_commits(&full[k], p, k, chunk, 100 * r + k);
	}
	tally_note("floor pwrite 4 KiB + fdatasync", &fsync_t, 1e3, "us");
	for (int k = 1; k <= MAX_THREADS; k *= 2)
		tally_note(names[k], &full[k], 1e3, "us");
	/* Less sensitive to a burst of outside I/O than the means below. */
	printf("# ratios of round medians: 1thread/fsync %.2f, 2threads/"
	       "1thread %.2f, 4threads/1thread %.2f\n",
	       tally_median(&full[1]) / tally_median(&fsync_t),
	       tally_median(&full[2]) / tally_median(&full[1]),
	       tally_median(&full[4]) / tally_median(&full[1]));
	line(names[1], tally_mean(&full[1], 1e3), "us", "fsync",
	     tally_mean(&fsync_t, 1e3));
	for (int k = 2; k <= MAX_THREADS; k *= 2)
		line(names[k], tally_mean(&full[k], 1e3), "us", "1thread",
		     tally_mean(&full[1], 1e3));
}

/* NORMAL commits, each round next to the pwrite floor. */
static void bench_normal(pager *p, int fd, long chunk)
{
	tally pwrite_t = { 0 }, normal = { 0 };
	long n_pw = chunk * 4;
	uint64_t t0;

	pager_set_sync(p, PAGER_SYNC_NORMAL);
	(void)commit_threads(p, 1, chunk, 7);
	t0 = now_ns();
	for (int r = 0; more_rounds(r, t0, NORMAL_BUDGET_S); r++) {
		tally_add(&pwrite_t, floor_write(fd, n_pw, 0, 21 + r), n_pw);
		tally_commits(&normal, p, 1, chunk, 1000 + r);
	}
	tally_note("floor pwrite 4 KiB", &pwrite_t, 1e3, "us");
	tally_note("pager.commit_normal_1thread", &normal, 1e3, "us");
	line("pager.commit_normal_1thread", tally_mean(&normal, 1e3), "us",
	     "pwrite", tally_mean(&pwrite_t, 1e3));
}

static void bench_commits(long n)
{
	rdb_err err = { 0 };
	pager *p = db_open(COMMIT_DB, PAGER_SYNC_FULL, 0, &err);
	int fd = open_filled(FLOOR_FILE, FLOOR_PAGES);
	double warm;
	long chunk;

	db_populate(p, COMMIT_DB_PAGES);
	warm = commit_warmup(p);
	/* A slow pager gets fewer commits: about 6 s per workload. */
	if (n > (long)(6e6 / warm))
		n = (long)(6e6 / warm);
	chunk = n / ROUNDS / 4 * 4;
	if (chunk < 20)
		chunk = 20;
	printf("# N up to %ld commits per workload in %d rounds (NORMAL "
	       "%ld)\n", chunk * ROUNDS, ROUNDS,
	       chunk * ROUNDS * NORMAL_FACTOR);
	bench_full(p, fd, chunk);
	bench_normal(p, fd, chunk * NORMAL_FACTOR);
	close(fd);
	unlink(FLOOR_FILE);
	db_close(p, COMMIT_DB, &err);
}

/* Read every page once through t, checking what db_populate() wrote. */
static void warm_pages(pager_txn *t, rdb_err *err)
{
	rdb_pgno n_pages = pager_txn_page_count(t);
	pager_page *pg;
	rdb_rc rc;

	if (n_pages != READ_DB_PAGES)
		die("page count after populate", RDB_INTERNAL, NULL);
	for (rdb_pgno i = 1; i < n_pages; i++) {
		rc = pager_get(t, i, &pg);
		if (rc != RDB_OK)
			die("warm: pager_get", rc, err);
		if (fmt_get_u32(pager_data(pg) + FMT_PAGE_BODY) != i)
			die("warm: page holds the wrong bytes", RDB_CORRUPT,
			    NULL);
		pager_unref(pg);
	}
}

/* n random cached reads of 8 bytes through t; returns the elapsed ns. */
static uint64_t pager_reads(pager_txn *t, long n, uint64_t seed,
			    uint64_t *sum, rdb_err *err)
{
	pager_page *pg;
	uint64_t t0 = now_ns();
	rdb_rc rc;

	for (long i = 0; i < n; i++) {
		rc = pager_get(t, 1 + rnd_below(&seed, READ_DB_PAGES - 1), &pg);
		if (rc != RDB_OK)
			die("pager_get", rc, err);
		*sum += fmt_get_u64(pager_data(pg) + FMT_PAGE_BODY);
		pager_unref(pg);
	}
	return now_ns() - t0;
}

static void bench_cached_reads(long m, long m_pread)
{
	rdb_err err = { 0 };
	pager *p = db_open(READ_DB, PAGER_SYNC_NORMAL, READ_DB_CACHE, &err);
	int fd = open_filled(READ_FILE, READ_FILE_PAGES);
	tally rd = { 0 }, pr = { 0 };
	pager_txn *t = NULL;
	uint64_t sum = 0, t0;
	rdb_rc rc;

	db_populate(p, READ_DB_PAGES);
	rc = pager_begin(p, 0, &err, &t);
	if (rc != RDB_OK)
		die("pager_begin read", rc, &err);
	warm_pages(t, &err);
	(void)floor_pread(fd, READ_FILE_PAGES, 3, &sum);
	t0 = now_ns();
	for (int r = 0; more_rounds(r, t0, READ_BUDGET_S); r++) {
		tally_add(&pr, floor_pread(fd, m_pread / ROUNDS, 31 + r, &sum),
			  m_pread / ROUNDS);
		tally_add(&rd, pager_reads(t, m / ROUNDS, 41 + r, &sum, &err),
			  m / ROUNDS);
	}
	rc = pager_commit(t);
	if (rc != RDB_OK)
		die("end read transaction", rc, &err);
	if (sum == 0)
		die("reads returned nothing", RDB_INTERNAL, NULL);
	tally_note("floor pread 4 KiB cached", &pr, 1, "ns");
	tally_note("pager.cached_random_read", &rd, 1, "ns");
	line("pager.cached_random_read", tally_mean(&rd, 1), "ns", "pread",
	     tally_mean(&pr, 1));
	close(fd);
	unlink(READ_FILE);
	db_close(p, READ_DB, &err);
}

/* ---- main --------------------------------------------------------------- */

int main(void)
{
	int fd = open_filled(FLOOR_FILE, FLOOR_PAGES);
	double probe = (double)floor_write(fd, 100, 1, 1) / 1e3 / 100;
	long n;

	close(fd);
	unlink(FLOOR_FILE);
	/* Size N so that each commit workload takes about 5 s at the fsync
	 * floor of this disk. */
	n = (long)(5e6 / probe);
	if (n < 800)
		n = 800;
	if (n > 16000)
		n = 16000;
	printf("# page %u B, nproc %ld, fsync probe %.1f us, M %ld reads, "
	       "%ld preads\n", PAGE, sysconf(_SC_NPROCESSORS_ONLN), probe,
	       N_READS, N_PREADS);
	fflush(stdout);
	bench_commits(n);
	bench_cached_reads(N_READS, N_PREADS);
	return 0;
}
