/*
 * bench_join.c -- joins through the public API (rdb.h) against SQLite's C
 * API in the same run, on the same rows: the users table of bench_sql.c
 * (1,000,000 rows) and orders(id INTEGER PRIMARY KEY, user_id INTEGER,
 * amount REAL, created TEXT) with 5,000,000 rows and an index on
 * user_id.  Workloads: the orders of 10,000 random users (index join),
 * total amount per user (join + GROUP BY), the 100 users with the largest
 * totals (sort with LIMIT), and a join that no index can serve (a hash
 * join in rdb, an automatic index in SQLite).
 * $RDB_BENCH_JOIN_SCALE (default 1) scales both tables for quick runs;
 * with $RDB_BENCH_JOIN_KEEP=1 the databases stay behind and a later run
 * at the same scale reuses them (for profiling one engine,
 * $RDB_BENCH_JOIN_ONLY=rdb or sqlite runs only that one).
 * Stdout: one "join.<workload>: rdb X unit, sqlite Y unit, ratio R" line
 * per workload (ratio = rdb / sqlite, medians of rounds in which the
 * engines take turns); every other line starts with '#'.
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
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#include "rdb.h"
#include "common.h"

#define N_USERS 1000000u
#define N_ORDERS 5000000u
#define PAGE 4096u
#define CACHE_PAGES 40000         /* 156 MiB on both engines */
#define ROUNDS 3                  /* for index_join and no_index */
#define HEAVY_ROUNDS 1            /* for group_by and top100: a round of
				     those is most of the run's time */
#define N_LOOKUP 10000u           /* users whose orders are read */
#define SEED 0x6a6f696e5f62656eull

#define RDB_PATH "bench_join.rdb"
#define SQL_PATH "bench_join.sqlite"

enum { E_RDB, E_SQL, N_ENG };
static const char *const eng_name[N_ENG] = { "rdb", "sqlite" };
static const char *const eng_path[N_ENG] = { RDB_PATH, SQL_PATH };

static uint32_t n_users = N_USERS, n_orders = N_ORDERS;

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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* ---- the rows ---------------------------------------------------------- *
 * Users as in bench_sql.c.  Order i has id i + 1, a user drawn from a
 * hash of i, an amount in quarters (exact sums in any order) and a
 * timestamp in 2024. */

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
#define SQL_SEED 0x73716c5f62656e63ull   /* bench_sql.c's SEED */

static int username(uint32_t i, char *buf)
{
	return snprintf(buf, 24, "user_%08llx%05x",
			(unsigned long long)(mix64(i ^ SQL_SEED) >> 32), i);
}

static int64_t order_user(uint32_t i)
{
	return (int64_t)(mix64(i ^ SEED) % n_users) + 1;
}

static double order_amount(uint32_t i)
{
	return (double)(mix64(i + SEED) % 40000) * 0.25;
}

static int order_created(uint32_t i, char *buf)
{
	uint64_t h = mix64(i * 7 + SEED);

	return snprintf(buf, 24, "2024-%02d-%02d %02d:%02d:%02d",
			(int)(h % 12) + 1, (int)(h >> 8) % 28 + 1,
			(int)(h >> 16) % 24, (int)(h >> 24) % 60,
			(int)(h >> 32) % 60);
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
		o.sync = RDB_SYNC_NORMAL;
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
		rc = sqlite3_exec(g->s, "PRAGMA synchronous=NORMAL", NULL,
				  NULL, NULL);
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

static void st_double(stmt *st, int i, double v)
{
	int rc = st->g->e == E_RDB ? rdb_bind_double(st->r, i, v) :
				     sqlite3_bind_double(st->s, i, v);

	if (rc != 0)
		die("bind double", rc, eng_msg(st->g));
}

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

static double st_col_double(stmt *st, int i)
{
	return st->g->e == E_RDB ? rdb_column_double(st->r, i) :
				   sqlite3_column_double(st->s, i);
}

static int st_col_bytes(stmt *st, int i)
{
	if (st->g->e == E_RDB) {
		(void)rdb_column_text(st->r, i);
		return rdb_column_bytes(st->r, i);
	}
	(void)sqlite3_column_text(st->s, i);
	return sqlite3_column_bytes(st->s, i);
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

/* ---- loading ---------------------------------------------------------------- */

static void load_users(eng *g)
{
	char u[24];
	uint32_t i;
	stmt st;

	eng_exec(g, "CREATE TABLE users(id INTEGER PRIMARY KEY, username "
		 "TEXT, first_name TEXT, last_name TEXT)");
	st_prepare(g, &st, "INSERT INTO users VALUES(?1, ?2, ?3, ?4)");
	eng_exec(g, "BEGIN");
	for (i = 0; i < n_users; i++) {
		st_int(&st, 1, (int64_t)i + 1);
		st_text(&st, 2, u, username(i, u));
		st_text(&st, 3, firsts[mix64(i) % N_FIRSTS], -1);
		st_text(&st, 4, lasts[mix64(i + SQL_SEED) % N_LASTS], -1);
		(void)st_step(&st);
		st_reset(&st);
	}
	eng_exec(g, "COMMIT");
	st_finalize(&st);
}

static void load_orders(eng *g)
{
	char c[24];
	uint32_t i;
	stmt st;

	eng_exec(g, "CREATE TABLE orders(id INTEGER PRIMARY KEY, user_id "
		 "INTEGER, amount REAL, created TEXT)");
	st_prepare(g, &st, "INSERT INTO orders VALUES(?1, ?2, ?3, ?4)");
	eng_exec(g, "BEGIN");
	for (i = 0; i < n_orders; i++) {
		st_int(&st, 1, (int64_t)i + 1);
		st_int(&st, 2, order_user(i));
		st_double(&st, 3, order_amount(i));
		st_text(&st, 4, c, order_created(i, c));
		(void)st_step(&st);
		st_reset(&st);
	}
	eng_exec(g, "COMMIT");
	st_finalize(&st);
}

/* A fresh database with both tables and the index; returns the ms. */
static double load(int e)
{
	uint64_t t0 = now_ns();
	eng g;

	remove_store(eng_path[e]);
	eng_open(&g, e);
	load_users(&g);
	load_orders(&g);
	eng_exec(&g, "CREATE INDEX orders_user ON orders(user_id)");
	eng_close(&g);
	return ms_since(t0);
}

/* ---- workloads ---------------------------------------------------------- */

enum { W_INDEX, W_GROUP, W_TOP, W_NOINDEX, N_WORK };
static const int work_rounds[] = { ROUNDS, HEAVY_ROUNDS, HEAVY_ROUNDS,
				   ROUNDS };
static const char *const work_name[N_WORK] = {
	"index_join", "group_by", "top100", "no_index"
};
static const char *const work_sql[N_WORK] = {
	"SELECT u.username, o.id, o.amount, o.created FROM users u JOIN "
	"orders o ON o.user_id = u.id WHERE u.id = ?1",
	"SELECT u.id, u.username, sum(o.amount) FROM users u JOIN orders o "
	"ON o.user_id = u.id GROUP BY u.id",
	"SELECT u.id, u.username, sum(o.amount) AS total FROM users u JOIN "
	"orders o ON o.user_id = u.id GROUP BY u.id ORDER BY total DESC, "
	"u.id LIMIT 100",
	/* No index serves this join: u is a materialized subquery (a
	 * LIMIT keeps SQLite from flattening it) and the unary + keeps
	 * SQLite from reading orders through orders_user. */
	"SELECT count(*), sum(o.amount), max(u.username) FROM orders o JOIN "
	"(SELECT id, username FROM users WHERE last_name = 'Smith' LIMIT "
	"1000000000) u ON u.id = +o.user_id"
};

/* Fold the rows of st into *sum (the same for both engines when they
 * return the same rows, in any order). */
static void fold_rows(stmt *st, uint64_t *sum)
{
	int i, n = st->g->e == E_RDB ? rdb_column_count(st->r)
				     : sqlite3_column_count(st->s);

	uint64_t h;

	/* Rows are added up: GROUP BY may give them in any order. */
	while (st_step(st)) {
		for (h = 0, i = 0; i < n; i++)
			h = h * 31 + (uint64_t)st_col_int(st, i) +
			    (uint64_t)(st_col_double(st, i) * 4) +
			    (uint64_t)st_col_bytes(st, i);
		*sum += mix64(h);
	}
}

static double run_work(eng *g, int w, const uint32_t *users, uint64_t *sum)
{
	uint64_t t0;
	uint32_t i;
	stmt st;

	*sum = 0;
	st_prepare(g, &st, work_sql[w]);
	t0 = now_ns();
	if (w == W_INDEX) {
		for (i = 0; i < N_LOOKUP; i++) {
			st_int(&st, 1, (int64_t)users[i] + 1);
			fold_rows(&st, sum);
			st_reset(&st);
		}
	} else {
		fold_rows(&st, sum);
	}
	t0 = now_ns() - t0;
	st_finalize(&st);
	return (double)t0 / 1e6;
}

static void print_plans(eng *g)
{
	char q[1024];
	stmt st;
	int w;

	for (w = 0; w < N_WORK; w++) {
		snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", work_sql[w]);
		st_prepare(g, &st, q);
		printf("# %s plan %s:", eng_name[g->e], work_name[w]);
		while (st_step(&st)) {
			const unsigned char *t = g->e == E_RDB
				? rdb_column_text(st.r, 3)
				: sqlite3_column_text(st.s, 3);

			printf(" [%s]", (const char *)t);
		}
		printf("\n");
		st_finalize(&st);
	}
}

/* ---- main --------------------------------------------------------------------- */

static void print_load(void)
{
	double l1, l5, l15;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f == NULL)
		return;
	if (fscanf(f, "%lf %lf %lf", &l1, &l5, &l15) == 3)
		printf("# load average: %.2f %.2f %.2f (%ld CPUs)\n", l1, l5,
		       l15, sysconf(_SC_NPROCESSORS_ONLN));
	fclose(f);
}

static void scale_from_env(void)
{
	const char *s = getenv("RDB_BENCH_JOIN_SCALE");
	double f = s != NULL ? atof(s) : 1.0;

	if (f <= 0 || f > 1)
		f = 1.0;
	n_users = (uint32_t)(N_USERS * f);
	n_orders = (uint32_t)(N_ORDERS * f);
	if (n_users < N_LOOKUP)
		n_users = N_LOOKUP;
	if (n_orders < n_users)
		n_orders = n_users;
}

typedef struct results {
	double t[N_WORK][N_ENG][ROUNDS], cpu[N_WORK][N_ENG][ROUNDS];
	uint64_t sum[N_WORK][N_ENG];
} results;

/* Round k: each engine (or only one) runs the workloads that have a
 * round k, on a freshly opened connection; the engines take turns. */
static void run_round(int k, const char *only, const uint32_t *users,
		      results *res)
{
	uint64_t c0;
	int j, e, w;
	eng g;

	for (j = 0; j < N_ENG; j++) {
		e = (j + k) % N_ENG;
		if (only != NULL && strcmp(only, eng_name[e]) != 0)
			continue;
		eng_open(&g, e);
		for (w = 0; w < N_WORK; w++) {
			if (k >= work_rounds[w])
				continue;
			c0 = cpu_ns();
			res->t[w][e][k] = run_work(&g, w, users,
						   &res->sum[w][e]);
			res->cpu[w][e][k] = (double)(cpu_ns() - c0) / 1e6;
		}
		eng_close(&g);
	}
	printf("# round %d done\n", k + 1);
}

/* Medians into the result lines; min / median / max and CPU as '#'. */
static void report(results *res)
{
	double m[N_ENG], c[N_ENG];
	int w, e, n;

	for (w = 0; w < N_WORK; w++) {
		if (res->sum[w][E_RDB] != res->sum[w][E_SQL])
			die(work_name[w], w, "results differ between engines");
		n = work_rounds[w];
		for (e = 0; e < N_ENG; e++) {
			qsort(res->t[w][e], (size_t)n, sizeof(double),
			      cmp_double);
			qsort(res->cpu[w][e], (size_t)n, sizeof(double),
			      cmp_double);
			m[e] = res->t[w][e][n / 2];
			c[e] = res->cpu[w][e][n / 2];
		}
		printf("# %s over %d round(s), ms (min / median / max): rdb "
		       "%.0f / %.0f / %.0f, sqlite %.0f / %.0f / %.0f; CPU "
		       "median: rdb %.0f, sqlite %.0f (ratio %.2f)\n",
		       work_name[w], n, res->t[w][E_RDB][0], m[E_RDB],
		       res->t[w][E_RDB][n - 1], res->t[w][E_SQL][0], m[E_SQL],
		       res->t[w][E_SQL][n - 1], c[E_RDB], c[E_SQL],
		       c[E_RDB] / c[E_SQL]);
	}
	for (w = 0; w < N_WORK; w++) {
		n = work_rounds[w];
		printf("join.%s: rdb %.0f ms, sqlite %.0f ms, ratio %.2f\n",
		       work_name[w], res->t[w][E_RDB][n / 2],
		       res->t[w][E_SQL][n / 2],
		       res->t[w][E_RDB][n / 2] / res->t[w][E_SQL][n / 2]);
	}
}

int main(void)
{
	uint32_t *users = malloc(N_LOOKUP * sizeof(*users)), i;
	results *res = calloc(1, sizeof(*res));
	uint64_t t0 = now_ns();
	const char *only = getenv("RDB_BENCH_JOIN_ONLY");
	int keep = getenv("RDB_BENCH_JOIN_KEEP") != NULL, e, k;
	eng g;

	if (users == NULL || res == NULL)
		die("malloc", ENOMEM, "users");
	setvbuf(stdout, NULL, _IOLBF, 0);
	scale_from_env();
	for (i = 0; i < N_LOOKUP; i++)
		users[i] = (uint32_t)(mix64(i + 2 * SEED) % n_users);
	printf("# bench_join: rdb %s, sqlite %s; %u users, %u orders, pages "
	       "of %u bytes, WAL, cache %d pages on both; %d rounds (%d for "
	       "group_by and top100)\n", rdb_libversion(),
	       sqlite3_libversion(), n_users, n_orders, PAGE, CACHE_PAGES,
	       ROUNDS, HEAVY_ROUNDS);
	print_load();
	if (!keep)
		remove_all();
	for (e = 0; e < N_ENG; e++)
		if (!keep || access(eng_path[e], F_OK) != 0)
			printf("# %s load (both tables, index): %.0f ms\n",
			       eng_name[e], load(e));
	for (e = 0; e < N_ENG; e++) {
		eng_open(&g, e);
		print_plans(&g);
		eng_close(&g);
	}
	for (k = 0; k < ROUNDS; k++)
		run_round(k, only, users, res);
	if (only == NULL)
		report(res);
	if (!keep)
		remove_all();
	print_load();
	printf("# total %.1f s\n", ms_since(t0) / 1000);
	free(res);
	free(users);
	return 0;
}
