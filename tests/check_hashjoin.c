/*
 * check_hashjoin.c -- hash joins (src/sql/hashjoin.c): random equi-joins
 * over STRICT tables of mixed types with NULLs and duplicates, inner and
 * LEFT, one or two equality columns, tables and FROM subqueries, run by
 * rdb through its hash path, by rdb through its nested loop (the same
 * query with COLLATE BINARY on the inner column, which keeps "=" as it
 * is but is no hash key) and by libsqlite3; the three row sets must
 * agree.  Also: EXPLAIN wording, the over-budget fallback, and a failed
 * allocation at every step of a hash-join query.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rdb.h"
#include "mem.h"
#include "sql_util.h"
#include "test_util.h"

/* ---- rows ------------------------------------------------------------------- */

/* The rows, sorted (a join's row order is unspecified). */
static char *rdb_rows(rdb *db, const char *sql)
{
	return su_rdb_rows(db, sql, su_put_typed, "", 0);
}

static char *sqlite_rows(sqlite3 *db, const char *sql)
{
	return su_sqlite_rows(db, sql, su_put_typed, "", 0);
}

/* ---- random schemas, rows and joins -------------------------------------- */

enum { T_INT, T_REAL, T_TEXT, T_ANY, N_TYPES };
static const char *const type_name[N_TYPES] = {
	"INTEGER", "REAL", "TEXT", "ANY"
};
#define N_TABLES 3
#define N_COLS 3

/* Small domains, so that keys repeat and match across types. */
static const char *const int_vals[] = { "0", "1", "2", "-1", "3" };
static const char *const real_vals[] = { "1.0", "2.0", "0.5", "3.0",
					  "1e20" };
static const char *const text_vals[] = { "'1'", "'2'", "'1.0'", "'a'", "''",
					  "' 1'", "'0.5'" };
#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

typedef struct gen {
	uint64_t rng;
	int type[N_TABLES][N_COLS];
} gen;

static int rnd(gen *g, int n)
{
	return (int)tu_rand_below(&g->rng, (uint64_t)n);
}

static const char *value_of(gen *g, int type)
{
	if (rnd(g, 100) < 15)
		return "NULL";
	switch (type) {
	case T_INT: return int_vals[rnd(g, N_OF(int_vals))];
	case T_REAL: return rnd(g, 3) ? real_vals[rnd(g, N_OF(real_vals))]
				      : int_vals[rnd(g, N_OF(int_vals))];
	case T_TEXT: return text_vals[rnd(g, N_OF(text_vals))];
	default: return value_of(g, rnd(g, T_ANY));
	}
}

/* The same tables and rows into both engines. */
static void gen_data(gen *g, rdb *r, sqlite3 *s)
{
	sbuf b = {0};
	int t, c, n, i;

	for (t = 0; t < N_TABLES; t++) {
		sb_add(&b, "CREATE TABLE t%d(", t);
		for (c = 0; c < N_COLS; c++) {
			g->type[t][c] = rnd(g, N_TYPES);
			sb_add(&b, "%sc%d %s", c ? ", " : "", c,
			       type_name[g->type[t][c]]);
		}
		sb_add(&b, ") STRICT;");
		n = rnd(g, 4) == 0 ? 0 : 1 + rnd(g, 12);
		for (i = 0; i < n; i++) {
			sb_add(&b, "INSERT INTO t%d VALUES(", t);
			for (c = 0; c < N_COLS; c++)
				sb_add(&b, "%s%s", c ? ", " : "",
				       value_of(g, g->type[t][c]));
			sb_add(&b, ");");
		}
	}
	su_ok(r, b.p);
	ck_assert_int_eq(sqlite3_exec(s, b.p, NULL, NULL, NULL), SQLITE_OK);
	free(b.p);
}

/* The same text onto the hash query (h) and its nested-loop twin (n). */
static void both(sbuf *h, sbuf *n, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	sb_add(h, "%s", tmp);
	sb_add(n, "%s", tmp);
}

/* A value of the sources before level k (x0 .. x{k-1}). */
static void gen_outer(gen *g, int k, sbuf *h, sbuf *n)
{
	static const char *const shape[] = {
		"x%d.c%d", "x%d.c%d", "x%d.c%d + 0", "CAST(x%d.c%d AS TEXT)",
		"x%d.c%d || ''", "CAST(x%d.c%d AS REAL)"
	};

	if (rnd(g, 10) == 0)
		both(h, n, "%s", int_vals[rnd(g, N_OF(int_vals))]);
	else
		both(h, n, shape[rnd(g, N_OF(shape))], rnd(g, k),
		     rnd(g, N_COLS));
}

/* "x{k}.cI = <outer>" once or twice, maybe with filters on x{k}; the
 * nested-loop twin puts COLLATE BINARY on the inner column. */
static void gen_on(gen *g, int k, sbuf *h, sbuf *n)
{
	int i, neq = 1 + (rnd(g, 3) == 0), c;

	for (i = 0; i < neq; i++) {
		c = rnd(g, N_COLS);
		sb_add(h, "%sx%d.c%d = ", i ? " AND " : "", k, c);
		sb_add(n, "%sx%d.c%d COLLATE BINARY = ", i ? " AND " : "", k,
		       c);
		gen_outer(g, k, h, n);
	}
	if (rnd(g, 3) == 0)
		both(h, n, " AND x%d.c%d IS NOT NULL", k, rnd(g, N_COLS));
	if (rnd(g, 4) == 0)
		both(h, n, " AND x%d.c%d <> x%d.c0", k, rnd(g, N_COLS),
		     rnd(g, k));
}

/* A source: a table, or now and then a FROM subquery over one. */
static void gen_source(gen *g, int k, sbuf *h, sbuf *n)
{
	int t = rnd(g, N_TABLES);

	if (rnd(g, 5) == 0)
		both(h, n, "(SELECT c0, c1, c2 FROM t%d WHERE c%d IS NOT "
		     "NULL) AS x%d", t, rnd(g, N_COLS), k);
	else
		both(h, n, "t%d AS x%d", t, k);
}

/* SELECT * FROM x0 [LEFT] JOIN x1 ON ... [[LEFT] JOIN x2 ON ...]
 * [WHERE ...] */
static void gen_join(gen *g, sbuf *h, sbuf *n)
{
	int k, nsrc = 2 + rnd(g, 2);

	/* Some queries read only a few columns: the hash table then keeps
	 * only those. */
	if (rnd(g, 2))
		both(h, n, "SELECT * FROM ");
	else
		both(h, n, "SELECT x%d.c%d, x%d.c%d FROM ", rnd(g, nsrc),
		     rnd(g, N_COLS), rnd(g, nsrc), rnd(g, N_COLS));
	gen_source(g, 0, h, n);
	for (k = 1; k < nsrc; k++) {
		both(h, n, rnd(g, 3) == 0 ? " LEFT JOIN " : " JOIN ");
		gen_source(g, k, h, n);
		both(h, n, " ON ");
		gen_on(g, k, h, n);
	}
	if (rnd(g, 3) == 0)
		both(h, n, " WHERE x%d.c%d IS NOT NULL", rnd(g, nsrc),
		     rnd(g, N_COLS));
}

/* ---- tests ------------------------------------------------------------------ */

START_TEST(test_hashjoin_random_joins_match_nested_loop_and_sqlite)
{
	long rounds = tu_scaled(150, 20), r, hashed = 0, total = 0;
	uint64_t seed = tu_seed();
	int q;

	tu_seed_note("hashjoin", seed);
	for (r = 0; r < rounds; r++) {
		gen g = { .rng = seed + (uint64_t)r * 0x9E3779B97F4A7C15ull };
		rdb *db = su_open_mem("hashjoin", 0);
		sqlite3 *s = NULL;

		if (g.rng == 0)
			g.rng = 1;
		ck_assert_int_eq(sqlite3_open(":memory:", &s), SQLITE_OK);
		gen_data(&g, db, s);
		for (q = 0; q < 10; q++) {
			sbuf h = {0}, n = {0};
			char *a, *b, *c, *plan;

			gen_join(&g, &h, &n);
			a = rdb_rows(db, h.p);
			b = rdb_rows(db, n.p);
			c = sqlite_rows(s, h.p);
			ck_assert_msg(strcmp(a, c) == 0, "seed %llu round %ld:"
				      "\n%s\nrdb:\n%ssqlite:\n%s",
				      (unsigned long long)seed, r, h.p, a, c);
			ck_assert_msg(strcmp(b, c) == 0, "seed %llu round %ld:"
				      "\n%s\nrdb:\n%ssqlite:\n%s",
				      (unsigned long long)seed, r, n.p, b, c);
			plan = su_plan(db, h.p);
			hashed += strstr(plan, "USING HASH TABLE") != NULL;
			free(plan);
			plan = su_plan(db, n.p);
			ck_assert_msg(strstr(plan, "HASH") == NULL, "%s", plan);
			free(plan);
			total++;
			free(a);
			free(b);
			free(c);
			free(h.p);
			free(n.p);
		}
		sqlite3_close(s);
		ck_assert_int_eq(rdb_close(db), RDB_OK);
	}
	/* Most generated joins must have taken the hash path. */
	ck_assert_msg(hashed * 2 > total, "%ld of %ld hashed", hashed, total);
}
END_TEST

static void hj_fixture(rdb *db, int nrows)
{
	char sql[200];
	int i;

	su_ok(db, "CREATE TABLE a(id INTEGER PRIMARY KEY, k INTEGER, "
	      "t TEXT);"
	      "CREATE TABLE b(k ANY, v REAL, pad TEXT)");
	su_ok(db, "BEGIN");
	for (i = 0; i < nrows; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO a VALUES(%d, %d, "
			 "'t%d'); INSERT INTO b VALUES(%s, %d.5, "
			 "printf('%%0200d', %d))", i, i % 7, i,
			 i % 3 == 0 ? "NULL" : i % 3 == 1 ? "1" : "'1'",
			 i % 11, i);
		su_ok(db, sql);
	}
	su_ok(db, "COMMIT");
}

START_TEST(test_hashjoin_explain_names_hash_table_and_keys)
{
	rdb *db = su_open_mem("hashjoin", 0);

	hj_fixture(db, 3);
	su_expect_plan(db, "SELECT * FROM a JOIN b ON b.k = a.k AND b.v = "
		       "a.id",
		       "SCAN a;SCAN b USING HASH TABLE (k=? AND v=?);");
	su_expect_plan(db, "SELECT * FROM a LEFT JOIN b ON b.k = a.k",
		       "SCAN a;SCAN b USING HASH TABLE (k=?) (LEFT JOIN);");
	/* A key of the inner table wins over a hash table. */
	su_expect_plan(db, "SELECT * FROM b JOIN a ON a.id = b.k",
		       "SCAN b;SEARCH a USING INTEGER PRIMARY KEY (id=?);");
	ck_assert_int_eq(rdb_close(db), RDB_OK);
}
END_TEST

/* With a tiny cache the build side passes its budget: the nested loop
 * gives the same rows. */
START_TEST(test_hashjoin_over_budget_falls_back_with_same_rows)
{
	const char *q = "SELECT count(*), sum(a.id), sum(b.v) FROM a JOIN b "
			"ON b.k = a.k";
	rdb *big = su_open_mem("hashjoin", 0);
	rdb *small = su_open_mem("hashjoin", 10);
	char *x, *y;

	hj_fixture(big, 1500);
	hj_fixture(small, 1500);
	x = rdb_rows(big, q);
	y = rdb_rows(small, q);
	ck_assert_str_eq(x, y);
	/* 215 rows of a with k = 1, 1000 of b with k 1 or '1'. */
	ck_assert_ptr_nonnull(strstr(x, "I215000|"));
	free(x);
	free(y);
	ck_assert_int_eq(rdb_close(big), RDB_OK);
	ck_assert_int_eq(rdb_close(small), RDB_OK);
}
END_TEST

START_TEST(test_hashjoin_alloc_failure_is_clean_error)
{
	const char *q = "SELECT a.id, b.v, length(b.pad) FROM a LEFT JOIN b ON "
			"b.k = a.k AND b.v > 2 JOIN (SELECT k AS k2 FROM b "
			"WHERE v < 5) s ON s.k2 = a.k ORDER BY 1, 2";
	rdb *db = su_open_mem("hashjoin", 0);
	char *want, *got;
	long n, failures = 0;
	int rc, failed;

	hj_fixture(db, 40);
	want = su_run_failing(db, q, 0, su_put_typed, &rc, &failed);
	ck_assert_ptr_nonnull(want);
	for (n = 1;; n++) {
		got = su_run_failing(db, q, n, su_put_typed, &rc, &failed);
		if (got == NULL) {
			ck_assert_msg(rc == RDB_NOMEM && failed, "allocation "
				      "%ld: %d %s", n, rc, rdb_errmsg(db));
			failures++;
			continue;
		}
		ck_assert_msg(strcmp(got, want) == 0, "allocation %ld: "
			      "%zu bytes of rows instead of %zu", n,
			      strlen(got), strlen(want));
		free(got);
		if (!failed)
			break;
	}
	ck_assert_msg(failures > 10, "%ld failures", failures);
	free(want);
	ck_assert_int_eq(rdb_close(db), RDB_OK);
}
END_TEST

Suite *hashjoin_suite(void)
{
	Suite *s = suite_create("hashjoin");
	TCase *tc = tcase_create("differential");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_hashjoin_random_joins_match_nested_loop_and_sqlite);
	suite_add_tcase(s, tc);
	tc = tcase_create("plan");
	tcase_add_test(tc, test_hashjoin_explain_names_hash_table_and_keys);
	tcase_add_test(tc, test_hashjoin_over_budget_falls_back_with_same_rows);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_hashjoin_alloc_failure_is_clean_error);
	suite_add_tcase(s, tc);
	return s;
}
