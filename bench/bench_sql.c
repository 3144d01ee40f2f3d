/*
 * bench_sql.c -- SQL through the public API (rdb.h) against SQLite's C API
 * in the same run: the table users(id INTEGER PRIMARY KEY, username TEXT,
 * first_name TEXT, last_name TEXT) with 1,000,000 rows, prepared
 * statements on both sides, 4096-byte pages, WAL, FULL durability and the
 * same cache size.  Workloads: bulk insert in one transaction (ascending
 * and random ids), random point lookups by id, full scan, range scans of
 * 100 ids, CREATE INDEX on username and lookups through it, single-row
 * transactions.  Real files in the current directory, removed at the end.
 * Stdout: one "sql.<workload>: rdb X unit, sqlite Y unit, ratio R" line per
 * workload (ratio = rdb / sqlite, medians of rounds in which the engines
 * take turns); every other line starts with '#'.
 * How to run, what each line means, last results: docs/benchmarks.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#include "rdb.h"
#include "common.h"

#define N_ROWS 1000000u
#define PAGE 4096u
#define CACHE_PAGES 40000         /* 156 MiB: every table and index fits */
#define ROUNDS 3
#define N_POINT 100000u           /* point lookups by id per round */
#define N_RANGES 10000u
#define RANGE_LEN 100u
#define N_IDX 100000u             /* lookups through the index */
#define N_TXN 10000u              /* single-row transactions in all */
#define TXN_CHUNKS 10             /* ... in chunks, engines alternating */
#define TXN_BUDGET_MS 30000.0     /* stop after the chunk past this */
#define SEED 0x73716c5f62656e63ull

#define RDB_PATH "bench_sql.rdb"
#define SQL_PATH "bench_sql.sqlite"

enum { E_RDB, E_SQL, N_ENG };
static const char *const eng_name[N_ENG] = { "rdb", "sqlite" };
static const char *const eng_path[N_ENG] = { RDB_PATH, SQL_PATH };

/* ---- helpers ---------------------------------------------------------- */

static void remove_all(void)
{
	int e;

	for (e = 0; e < N_ENG; e++)
		remove_store(eng_path[e]);
}

static void die(const char *what, int rc, const char *msg)
{
	printf("# error: %s: %d %s\n", what, rc, msg != NULL ? msg : "");
	fflush(stdout);
	remove_all();
	exit(1);
}

/* Bytes of path plus its WAL, if one was left behind. */
static uint64_t store_size(const char *path)
{
	struct stat st;
	char wal[256];
	uint64_t n = 0;

	if (stat(path, &st) == 0)
		n += (uint64_t)st.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(wal, &st) == 0) {
		printf("# note: %s left behind (%llu bytes, counted)\n", wal,
		       (unsigned long long)st.st_size);
		n += (uint64_t)st.st_size;
	}
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* A fixed random permutation of 0 .. n-1 (Fisher-Yates). */
static uint32_t *shuffled(uint32_t n, uint64_t seed)
{
	uint32_t *a = malloc((size_t)n * sizeof(*a)), i, j, x;

	if (a == NULL)
		die("malloc", ENOMEM, "permutation");
	for (i = 0; i < n; i++)
		a[i] = i;
	for (i = n - 1; i > 0; i--) {
		seed = mix64(seed);
		j = (uint32_t)(seed % (i + 1));
		x = a[i];
		a[i] = a[j];
		a[j] = x;
	}
	return a;
}

/* ---- the rows ---------------------------------------------------------- *
 * Row i has id i + 1, a unique username made from a hash of i (so that
 * the index on it is loaded in random order) and names from short lists;
 * every value can be recomputed to check what a query returned. */

static const char *const firsts[] = {
	"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael",
	"Linda", "David", "Elizabeth", "William", "Barbara", "Richard",
	"Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
	"Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty"
};
static const char *const lasts[] = {
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller",
	"Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez",
	"Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson",
	"Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Clark",
	"Lewis", "Robinson", "Walker"
};
#define N_FIRSTS (sizeof(firsts) / sizeof(firsts[0]))
#define N_LASTS (sizeof(lasts) / sizeof(lasts[0]))

/* "user_" + 10 hex digits of a hash of i and i's low bits: unique. */
static int username(uint32_t i, char *buf)
{
	return snprintf(buf, 24, "user_%08llx%05x",
			(unsigned long long)(mix64(i ^ SEED) >> 32), i);
}

static const char *first_of(uint32_t i)
{
	return firsts[mix64(i) % N_FIRSTS];
}

static const char *last_of(uint32_t i)
{
	return lasts[mix64(i + SEED) % N_LASTS];
}

/* ---- one interface over both engines ----------------------------------- */

typedef struct eng {
	int e;
	rdb *r;
	sqlite3 *s;
} eng;

typedef struct stmt {
	eng *g;
	rdb_stmt *r;
	sqlite3_stmt *s;
} stmt;

static const char *eng_msg(eng *g)
{
	return g->e == E_RDB ? rdb_errmsg(g->r) : sqlite3_errmsg(g->s);
}

static void eng_open(eng *g, int e)
{
	rdb_open_opts o;
	char pragma[64];
	int rc;

	g->e = e;
	g->r = NULL;
	g->s = NULL;
	if (e == E_RDB) {
		memset(&o, 0, sizeof(o));
		o.page_size = PAGE;
		o.cache_pages = CACHE_PAGES;
		o.sync = RDB_SYNC_FULL;
		rc = rdb_open_v2(RDB_PATH, &g->r, &o);
		if (rc != RDB_OK)
			die("rdb_open_v2", rc, g->r ? rdb_errmsg(g->r) : "");
		return;
	}
	rc = sqlite3_open(SQL_PATH, &g->s);
	if (rc != SQLITE_OK)
		die("sqlite3_open", rc, sqlite3_errmsg(g->s));
	snprintf(pragma, sizeof(pragma), "PRAGMA page_size=%u", PAGE);
	rc = sqlite3_exec(g->s, pragma, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(g->s, "PRAGMA journal_mode=WAL", NULL, NULL,
				  NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(g->s, "PRAGMA synchronous=FULL", NULL, NULL,
				  NULL);
	snprintf(pragma, sizeof(pragma), "PRAGMA cache_size=%d", CACHE_PAGES);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(g->s, pragma, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		die("sqlite3 pragmas", rc, sqlite3_errmsg(g->s));
}

static void eng_close(eng *g)
{
	int rc = g->e == E_RDB ? rdb_close(g->r) : sqlite3_close(g->s);

	if (rc != 0)
		die("close", rc, eng_name[g->e]);
}

static void eng_exec(eng *g, const char *sql)
{
	int rc;

	if (g->e == E_RDB)
		rc = rdb_exec(g->r, sql, NULL, NULL, NULL);
	else
		rc = sqlite3_exec(g->s, sql, NULL, NULL, NULL);
	if (rc != 0)
		die(sql, rc, eng_msg(g));
}

static void st_prepare(eng *g, stmt *st, const char *sql)
{
	int rc;

	st->g = g;
	st->r = NULL;
	st->s = NULL;
	if (g->e == E_RDB)
		rc = rdb_prepare(g->r, sql, -1, &st->r, NULL);
	else
		rc = sqlite3_prepare_v2(g->s, sql, -1, &st->s, NULL);
	if (rc != 0)
		die(sql, rc, eng_msg(g));
}

static void st_int(stmt *st, int i, int64_t v)
{
	int rc = st->g->e == E_RDB ? rdb_bind_int64(st->r, i, v) :
				     sqlite3_bind_int64(st->s, i, v);

	if (rc != 0)
		die("bind int", rc, eng_msg(st->g));
}

/* Both engines copy the text (rdb always does). */
static void st_text(stmt *st, int i, const char *s, int n)
{
	int rc = st->g->e == E_RDB ? rdb_bind_text(st->r, i, s, n) :
		sqlite3_bind_text(st->s, i, s, n, SQLITE_TRANSIENT);

	if (rc != 0)
		die("bind text", rc, eng_msg(st->g));
}

/* 1 for a row, 0 when done; dies on an error. */
static int st_step(stmt *st)
{
	int rc;

	if (st->g->e == E_RDB) {
		rc = rdb_step(st->r);
		if (rc == RDB_ROW || rc == RDB_DONE)
			return rc == RDB_ROW;
	} else {
		rc = sqlite3_step(st->s);
		if (rc == SQLITE_ROW || rc == SQLITE_DONE)
			return rc == SQLITE_ROW;
	}
	die("step", rc, eng_msg(st->g));
	return 0;
}

static int64_t st_col_int(stmt *st, int i)
{
	return st->g->e == E_RDB ? rdb_column_int64(st->r, i) :
				   sqlite3_column_int64(st->s, i);
}

static const char *st_col_text(stmt *st, int i, int *n)
{
	if (st->g->e == E_RDB) {
		*n = rdb_column_bytes(st->r, i);
		return (const char *)rdb_column_text(st->r, i);
	}
	*n = sqlite3_column_bytes(st->s, i);
	return (const char *)sqlite3_column_text(st->s, i);
}

static void st_reset(stmt *st)
{
	if (st->g->e == E_RDB)
		(void)rdb_reset(st->r);
	else
		(void)sqlite3_reset(st->s);
}

static void st_finalize(stmt *st)
{
	if (st->g->e == E_RDB)
		(void)rdb_finalize(st->r);
	else
		(void)sqlite3_finalize(st->s);
}

/* Fold a row's four columns into a checksum (the same for both engines
 * when they return the same values); checks the username by length. */
static uint64_t touch_row(stmt *st)
{
	uint64_t s = (uint64_t)st_col_int(st, 0);
	const char *t;
	int c, n, j;

	for (c = 1; c < 4; c++) {
		t = st_col_text(st, c, &n);
		if (t == NULL)
			die("column", c, "NULL text");
		for (j = 0; j < n; j++)
			s = s * 31 + (unsigned char)t[j];
	}
	return s;
}

/* ---- workloads ----------------------------------------------------------- */

#define CREATE_TABLE "CREATE TABLE users(id INTEGER PRIMARY KEY, " \
	"username TEXT, first_name TEXT, last_name TEXT)"
#define INSERT "INSERT INTO users VALUES(?1, ?2, ?3, ?4)"

static void bind_row(stmt *st, uint32_t i)
{
	char u[24];
	int n = username(i, u);

	st_int(st, 1, (int64_t)i + 1);
	st_text(st, 2, u, n);
	st_text(st, 3, first_of(i), -1);
	st_text(st, 4, last_of(i), -1);
}

/* A fresh database; 1,000,000 rows in one transaction, in the order of
 * perm (NULL: ascending ids).  Timed from BEGIN to the durable COMMIT. */
static double load(eng *g, const uint32_t *perm)
{
	uint64_t t0;
	uint32_t i;
	stmt st;

	eng_exec(g, CREATE_TABLE);
	st_prepare(g, &st, INSERT);
	t0 = now_ns();
	eng_exec(g, "BEGIN");
	for (i = 0; i < N_ROWS; i++) {
		bind_row(&st, perm != NULL ? perm[i] : i);
		(void)st_step(&st);
		st_reset(&st);
	}
	eng_exec(g, "COMMIT");
	t0 = now_ns() - t0;
	st_finalize(&st);
	return (double)t0 / 1e6;
}

/* Point lookups of every column by id, each its own read transaction. */
static double point(eng *g, const uint32_t *ids, uint64_t *sum)
{
	uint64_t t0, s = 0;
	uint32_t i;
	stmt st;

	st_prepare(g, &st, "SELECT id, username, first_name, last_name "
		   "FROM users WHERE id = ?1");
	t0 = now_ns();
	for (i = 0; i < N_POINT; i++) {
		st_int(&st, 1, (int64_t)ids[i] + 1);
		if (!st_step(&st))
			die("point lookup", (int)ids[i], "no row");
		s += touch_row(&st);
		st_reset(&st);
	}
	t0 = now_ns() - t0;
	st_finalize(&st);
	*sum = s;
	return (double)t0 / 1e6;
}

static double scan(eng *g, uint64_t *sum)
{
	uint64_t t0, s = 0, n = 0;
	stmt st;

	st_prepare(g, &st, "SELECT id, username, first_name, last_name "
		   "FROM users");
	t0 = now_ns();
	while (st_step(&st)) {
		s += touch_row(&st);
		n++;
	}
	st_reset(&st);
	t0 = now_ns() - t0;
	st_finalize(&st);
	if (n != N_ROWS)
		die("full scan", (int)n, "wrong row count");
	*sum = s;
	return (double)t0 / 1e6;
}

static double ranges(eng *g, const uint32_t *starts, uint64_t *sum)
{
	uint64_t t0, s = 0, n = 0;
	uint32_t i, lo;
	stmt st;

	st_prepare(g, &st, "SELECT id, username, first_name, last_name "
		   "FROM users WHERE id BETWEEN ?1 AND ?2");
	t0 = now_ns();
	for (i = 0; i < N_RANGES; i++) {
		lo = starts[i] % (N_ROWS - RANGE_LEN + 1) + 1;
		st_int(&st, 1, lo);
		st_int(&st, 2, lo + RANGE_LEN - 1);
		while (st_step(&st)) {
			s += touch_row(&st);
			n++;
		}
		st_reset(&st);
	}
	t0 = now_ns() - t0;
	st_finalize(&st);
	if (n != (uint64_t)N_RANGES * RANGE_LEN)
		die("range scan", (int)n, "wrong row count");
	*sum = s;
	return (double)t0 / 1e6;
}

static double create_index(eng *g)
{
	uint64_t t0 = now_ns();

	eng_exec(g, "CREATE INDEX users_username ON users(username)");
	return ms_since(t0);
}

/* id by username through the index, each its own read transaction. */
static double index_lookups(eng *g, const uint32_t *ids, uint64_t *sum)
{
	uint64_t t0, s = 0;
	uint32_t i;
	char u[24];
	stmt st;
	int n;

	st_prepare(g, &st, "SELECT id FROM users WHERE username = ?1");
	t0 = now_ns();
	for (i = 0; i < N_IDX; i++) {
		n = username(ids[i], u);
		st_text(&st, 1, u, n);
		if (!st_step(&st) || st_col_int(&st, 0) != (int64_t)ids[i] + 1)
			die("index lookup", (int)ids[i], eng_name[g->e]);
		s += (uint64_t)st_col_int(&st, 0);
		st_reset(&st);
	}
	t0 = now_ns() - t0;
	st_finalize(&st);
	*sum = s;
	return (double)t0 / 1e6;
}

/* n single-row INSERTs, each its own (FULL, durable) transaction, of rows
 * from..from+n-1 after the first N_ROWS.  CPU ms into *cpu. */
static double txns(eng *g, uint32_t from, uint32_t n, double *cpu)
{
	uint64_t t0, c0;
	uint32_t i;
	stmt st;

	st_prepare(g, &st, INSERT);
	c0 = cpu_ns();
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		bind_row(&st, N_ROWS + from + i);
		(void)st_step(&st);
		st_reset(&st);
	}
	t0 = now_ns() - t0;
	*cpu = (double)(cpu_ns() - c0) / 1e6;
	st_finalize(&st);
	return (double)t0 / 1e6;
}

/* ---- rounds ------------------------------------------------------------- *
 * Every phase but the transactions runs once per round and engine, the
 * engines taking turns (which goes first alternates between rounds), so
 * that load from other processes hits both alike; the lines give the
 * median round, '#' lines the spread and CPU times. */

enum { P_SEQ, P_RND, P_POINT, P_SCAN, P_RANGE, P_CIDX, P_IDX, N_PHASE };

static const char *const phase_names[N_PHASE] = {
	"insert_ascending", "insert_random", "point_lookup", "full_scan",
	"range_scan", "create_index", "index_lookup"
};

typedef struct results {
	double t[N_PHASE][N_ENG][ROUNDS];      /* wall ms */
	double cpu[N_PHASE][N_ENG][ROUNDS];    /* CPU ms */
	uint64_t sum[N_PHASE][N_ENG];          /* checksums, last round */
	uint64_t size[N_ENG];                  /* after insert_random */
	double txn_ms[N_ENG], txn_cpu[N_ENG];
	uint32_t n_txn;                         /* transactions run, each */
} results;

typedef struct keysets {
	const uint32_t *perm;     /* insert_random order */
	const uint32_t *points;   /* point_lookup and index_lookup ids */
	const uint32_t *starts;   /* range_scan starts */
} keysets;

static double median(const double *a)
{
	double s[ROUNDS];

	memcpy(s, a, sizeof(s));
	qsort(s, ROUNDS, sizeof(*s), cmp_double);
	return s[ROUNDS / 2];
}

/* Run phase p of engine g, recording its wall and CPU time. */
static void timed(results *res, int p, int k, eng *g, double ms, uint64_t c0)
{
	res->t[p][g->e][k] = ms;
	res->cpu[p][g->e][k] = (double)(cpu_ns() - c0) / 1e6;
}

/* Ascending ids into a fresh database, closed and removed. */
static void round_ascending(int k, results *res, int e)
{
	uint64_t c0;
	eng g;

	remove_store(eng_path[e]);
	eng_open(&g, e);
	c0 = cpu_ns();
	timed(res, P_SEQ, k, &g, load(&g, NULL), c0);
	eng_close(&g);
	if (k == 0)
		printf("# %s file after insert_ascending: %llu bytes\n",
		       eng_name[e], (unsigned long long)store_size(eng_path[e]));
	remove_store(eng_path[e]);
}

/* Random ids into a fresh database, closed (its size taken), reopened
 * and read; then the index is built and read through. */
static void round_engine(int k, const keysets *ks, results *res, int e)
{
	uint64_t c0;
	eng g;

	remove_store(eng_path[e]);
	eng_open(&g, e);
	c0 = cpu_ns();
	timed(res, P_RND, k, &g, load(&g, ks->perm), c0);
	eng_close(&g);
	res->size[e] = store_size(eng_path[e]);
	eng_open(&g, e);
	(void)scan(&g, &res->sum[P_SCAN][e]);   /* warm the cache */
	c0 = cpu_ns();
	timed(res, P_POINT, k, &g, point(&g, ks->points,
					 &res->sum[P_POINT][e]), c0);
	c0 = cpu_ns();
	timed(res, P_SCAN, k, &g, scan(&g, &res->sum[P_SCAN][e]), c0);
	c0 = cpu_ns();
	timed(res, P_RANGE, k, &g, ranges(&g, ks->starts,
					  &res->sum[P_RANGE][e]), c0);
	c0 = cpu_ns();
	timed(res, P_CIDX, k, &g, create_index(&g), c0);
	c0 = cpu_ns();
	timed(res, P_IDX, k, &g, index_lookups(&g, ks->points,
					       &res->sum[P_IDX][e]), c0);
	eng_close(&g);
	if (k < ROUNDS - 1)
		remove_store(eng_path[e]);
}

static void round_run(int k, const keysets *ks, results *res)
{
	int i, e;

	for (i = 0; i < N_ENG; i++) {
		e = (i + k) % N_ENG;
		round_ascending(k, res, e);
	}
	for (i = 0; i < N_ENG; i++) {
		e = (i + k) % N_ENG;
		round_engine(k, ks, res, e);
	}
	printf("# round %d done: insert_random rdb %.0f ms, sqlite %.0f ms\n",
	       k + 1, res->t[P_RND][E_RDB][k], res->t[P_RND][E_SQL][k]);
	fflush(stdout);
}

/* The single-row transactions, on the databases of the last round, in
 * TXN_CHUNKS chunks with the engines alternating.  Commit time is fsync
 * time, which a busy shared disk can stretch 10-40x: past TXN_BUDGET_MS
 * the phase stops after the current chunk (at least 2 chunks). */
static void phase_txns(results *res)
{
	uint32_t per = N_TXN / TXN_CHUNKS, c;
	uint64_t t0 = now_ns();
	double ms, cpu;
	eng g[N_ENG];
	int i, e;

	for (e = 0; e < N_ENG; e++) {
		eng_open(&g[e], e);
		res->txn_ms[e] = res->txn_cpu[e] = 0;
	}
	for (c = 0; c < TXN_CHUNKS; c++) {
		if (c >= 2 && ms_since(t0) > TXN_BUDGET_MS)
			break;
		for (i = 0; i < N_ENG; i++) {
			e = (int)(i + c) % N_ENG;
			ms = txns(&g[e], c * per, per, &cpu);
			res->txn_ms[e] += ms;
			res->txn_cpu[e] += cpu;
		}
	}
	res->n_txn = c * per;
	for (e = 0; e < N_ENG; e++)
		eng_close(&g[e]);
}

static void line(const char *phase, double r, double s, const char *unit,
		 int prec)
{
	printf("sql.%s: rdb %.*f %s, sqlite %.*f %s, ratio %.2f\n", phase,
	       prec, r, unit, prec, s, unit, r / s);
}

/* Medians into the result lines; min / median / max and CPU as '#'. */
static void report(results *res)
{
	double m[N_ENG], c[N_ENG], s[ROUNDS];
	int p, e;

	for (p = 0; p < N_PHASE; p++) {
		printf("# %s over %d rounds, ms (min / median / max):",
		       phase_names[p], ROUNDS);
		for (e = 0; e < N_ENG; e++) {
			memcpy(s, res->t[p][e], sizeof(s));
			qsort(s, ROUNDS, sizeof(*s), cmp_double);
			printf("%s %s %.0f / %.0f / %.0f", e ? "," : "",
			       eng_name[e], s[0], s[ROUNDS / 2],
			       s[ROUNDS - 1]);
			c[e] = median(res->cpu[p][e]);
		}
		printf("; CPU median: rdb %.0f, sqlite %.0f (ratio %.2f)\n",
		       c[E_RDB], c[E_SQL], c[E_RDB] / c[E_SQL]);
		if (p != P_SEQ && p != P_RND && p != P_CIDX &&
		    res->sum[p][E_RDB] != res->sum[p][E_SQL])
			die(phase_names[p], p, "results differ between engines");
	}
	printf("# txn_full: %u transactions per engine in chunks of %u; CPU "
	       "rdb %.0f ms, sqlite %.0f ms (ratio %.2f)\n", res->n_txn,
	       N_TXN / TXN_CHUNKS, res->txn_cpu[E_RDB], res->txn_cpu[E_SQL],
	       res->txn_cpu[E_RDB] / res->txn_cpu[E_SQL]);
	for (p = 0; p < N_PHASE; p++) {
		for (e = 0; e < N_ENG; e++)
			m[e] = median(res->t[p][e]);
		line(phase_names[p], m[E_RDB], m[E_SQL], "ms", 0);
	}
	for (e = 0; e < N_ENG; e++)
		m[e] = res->txn_ms[e] * 1000 / res->n_txn;
	line("txn_full", m[E_RDB], m[E_SQL], "us", 1);
	line("file_size", (double)res->size[E_RDB], (double)res->size[E_SQL],
	     "bytes", 0);
}

static void print_load(const char *when)
{
	double l1, l5, l15;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f == NULL)
		return;
	if (fscanf(f, "%lf %lf %lf", &l1, &l5, &l15) == 3)
		printf("# load average at %s: %.2f %.2f %.2f (%ld CPUs)\n",
		       when, l1, l5, l15, sysconf(_SC_NPROCESSORS_ONLN));
	fclose(f);
}

int main(void)
{
	uint32_t *perm = shuffled(N_ROWS, SEED), *points = shuffled(N_ROWS,
								  SEED + 1);
	uint32_t *starts = shuffled(N_ROWS, SEED + 2);
	keysets ks = { perm, points, starts };
	uint64_t t0 = now_ns();
	results *res = calloc(1, sizeof(*res));
	int k;

	if (res == NULL)
		die("calloc", ENOMEM, "results");
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# bench_sql: rdb %s, sqlite %s; %u rows, pages of %u bytes, "
	       "WAL, FULL sync, cache %d pages on both; %d rounds; %u point "
	       "lookups, %u ranges of %u ids, %u index lookups per round; %u "
	       "single-row transactions\n", rdb_libversion(),
	       sqlite3_libversion(), N_ROWS, PAGE, CACHE_PAGES, ROUNDS,
	       N_POINT, N_RANGES, RANGE_LEN, N_IDX, N_TXN);
	print_load("start");
	remove_all();
	for (k = 0; k < ROUNDS; k++)
		round_run(k, &ks, res);
	phase_txns(res);
	report(res);
	remove_all();
	print_load("end");
	printf("# total %.1f s\n", ms_since(t0) / 1000);
	free(res);
	free(perm);
	free(points);
	free(starts);
	return 0;
}
