/*
 * check_hashgroup.c -- a join grouped by the key of one of its two tables
 * and read through a hash table on that key, each of whose rows is a
 * group (plan.c hash_group_better(), select.c "GROUP BY through the hash
 * table"): random tables (a rowid key or a two-column key; join columns
 * of every type, with NULLs, missing keys and numbers stored as text) and
 * random grouped queries, run by rdb and by libsqlite3, whose rows must
 * agree in order (the groups come out in key order, as SQLite's do).
 * Also: the plan and its EXPLAIN, the plans it must not take, the table
 * over budget at run time (the group table stands in), and a failed
 * allocation at every step.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rdb.h"
#include "sql_util.h"
#include "test_util.h"

/* ---- rows of both engines, in order ----------------------------------------- */

static char *rdb_rows(rdb *db, const char *sql)
{
	return su_rdb_rows(db, sql, su_put_typed, "", 1);
}

static char *sqlite_rows(sqlite3 *db, const char *sql)
{
	return su_sqlite_rows(db, sql, su_put_typed, "", 1);
}

static void both_ok(rdb *r, sqlite3 *s, const char *sql)
{
	char *msg = NULL;
	int rc = rdb_exec(r, sql, NULL, NULL, &msg);

	ck_assert_msg(rc == RDB_OK, "rdb: %s", msg ? msg : "?");
	rdb_free_msg(msg);
	ck_assert_msg(sqlite3_exec(s, sql, NULL, NULL, NULL) == SQLITE_OK,
		      "sqlite: %s", sqlite3_errmsg(s));
}

/* ---- random tables and queries ---------------------------------------------- */

typedef struct gen {
	uint64_t rng;
	int pair;                 /* g has the key (a, b), else a rowid id */
	int int_col;              /* o.gid is INTEGER (rdb refuses 1.5) */
	int ng;                   /* rows of g */
} gen;

static int rnd(gen *g, int n)
{
	return (int)tu_rand_below(&g->rng, (uint64_t)n);
}

static const char *const join_type[] = { "INTEGER", "REAL", "ANY", "" };
#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* A key of g, or now and then a near miss: NULL, a missing one, the
 * number as text or as a real. */
static void key_value(gen *g, sbuf *b)
{
	int k = 1 + rnd(g, g->ng + 3), r = rnd(g, 20);

	if (r == 0)
		sb_add(b, "NULL");
	else if (r == 1)
		sb_add(b, "'%d'", k);
	else if (r == 2)
		sb_add(b, "%d.0", k);
	else if (r == 3 && !g->int_col)
		sb_add(b, "%d.5", k);
	else
		sb_add(b, "%d", k);
}

/* g (the grouped side) and o, the same rows into both engines; then a DDL
 * on each, which refreshes their row estimates in the schema. */
static void gen_data(gen *g, rdb *r, sqlite3 *s)
{
	sbuf b = {0};
	int i, n, jt = rnd(g, N_OF(join_type));

	g->pair = rnd(g, 3) == 0;
	g->int_col = jt == 0;
	g->ng = 20 + rnd(g, 200);
	n = g->ng * (1 + rnd(g, 8));
	if (g->pair)
		sb_add(&b, "CREATE TABLE g(a TEXT, b INTEGER, name TEXT, w "
		       "INTEGER, PRIMARY KEY(a, b));");
	else
		sb_add(&b, "CREATE TABLE g(id INTEGER PRIMARY KEY, name TEXT, "
		       "w INTEGER);");
	sb_add(&b, "CREATE TABLE o(id INTEGER PRIMARY KEY, gid %s, ga TEXT, "
	       "v REAL, note TEXT);", join_type[jt]);
	for (i = 1; i <= g->ng; i++) {
		if (rnd(g, 6) == 0)
			continue;         /* a gap in the keys */
		if (g->pair)
			sb_add(&b, "INSERT INTO g VALUES('k%d', %d, 'n%d', "
			       "%d);", i % 5, i, rnd(g, 9), rnd(g, 4));
		else
			sb_add(&b, "INSERT INTO g VALUES(%d, 'n%d', %d);", i,
			       rnd(g, 9), rnd(g, 4));
	}
	for (i = 1; i <= n; i++) {
		sb_add(&b, "INSERT INTO o VALUES(%d, ", i);
		key_value(g, &b);
		sb_add(&b, ", 'k%d', %s, %s);", rnd(g, 6),
		       rnd(g, 15) == 0 ? "NULL" : rnd(g, 2) ? "2.25" : "-1",
		       rnd(g, 10) == 0 ? "NULL" : rnd(g, 2) ? "'x'" : "'y'");
	}
	sb_add(&b, "CREATE INDEX o_gid ON o(gid, ga); CREATE INDEX g_w ON "
	       "g(w);");
	both_ok(r, s, b.p);
	free(b.p);
}

/* The aggregates and group columns a query may show. */
static const char *const aggs[] = {
	"count(*)", "count(o.v)", "sum(o.v)", "total(o.v)", "avg(o.v)",
	"min(o.v)", "max(o.note)", "count(DISTINCT o.note)", "max(o.id)",
	"sum(g.w)", "min(o.id) + g.w"
};

static void gen_query(gen *g, sbuf *q)
{
	const char *key = g->pair ? "g.a, g.b" : "g.id";
	int i, n = 1 + rnd(g, 3);

	sb_add(q, "SELECT %s%s", key, rnd(g, 2) ? ", g.name" : "");
	for (i = 0; i < n; i++)
		sb_add(q, ", %s", aggs[rnd(g, N_OF(aggs))]);
	sb_add(q, rnd(g, 2) ? " FROM g JOIN o ON " : " FROM o JOIN g ON ");
	if (g->pair)
		sb_add(q, "g.b = o.gid AND g.a = o.ga");
	else
		sb_add(q, "o.gid = g.id");
	switch (rnd(g, 5)) {
	case 0: sb_add(q, " WHERE g.w > 0"); break;
	case 1: sb_add(q, " WHERE o.note = 'x'"); break;
	case 2: sb_add(q, " WHERE o.v > g.w - 2 AND g.name <> 'n3'"); break;
	default: break;
	}
	sb_add(q, " GROUP BY %s%s", key, rnd(g, 3) == 0 ? ", g.name" : "");
	if (rnd(g, 4) == 0)
		sb_add(q, " HAVING count(*) > 2 OR g.w = 1");
	if (rnd(g, 4) == 0)
		sb_add(q, " ORDER BY 2 DESC, %s LIMIT %d", key, 1 + rnd(g, 9));
	else if (rnd(g, 5) == 0)
		sb_add(q, " LIMIT %d OFFSET %d", 1 + rnd(g, 9), rnd(g, 5));
}

/* ---- tests ------------------------------------------------------------------ */

START_TEST(test_hashgroup_random_queries_match_sqlite_in_order)
{
	long rounds = tu_scaled(40, 8), r, hashed = 0, total = 0;
	uint64_t seed = tu_seed();
	int q;

	tu_seed_note("hashgroup", seed);
	for (r = 0; r < rounds; r++) {
		gen g = { .rng = seed + (uint64_t)r * 0x9E3779B97F4A7C15ull };
		rdb *db = su_open_mem("hashgroup", 0);
		sqlite3 *s = NULL;

		if (g.rng == 0)
			g.rng = 1;
		ck_assert_int_eq(sqlite3_open(":memory:", &s), SQLITE_OK);
		gen_data(&g, db, s);
		for (q = 0; q < 12; q++, total++) {
			sbuf sql = {0};
			char *a, *c, *plan;

			gen_query(&g, &sql);
			a = rdb_rows(db, sql.p);
			c = sqlite_rows(s, sql.p);
			ck_assert_msg(strcmp(a, c) == 0, "seed %llu round %ld:"
				      "\n%s\nrdb:\n%ssqlite:\n%s",
				      (unsigned long long)seed, r, sql.p, a, c);
			plan = su_plan(db, sql.p);
			hashed += strstr(plan, "USE HASH TABLE FOR GROUP BY") !=
				  NULL;
			free(plan);
			free(a);
			free(c);
			free(sql.p);
		}
		sqlite3_close(s);
		ck_assert_int_eq(rdb_close(db), RDB_OK);
	}
	/* Integer, real and untyped join columns have an index the nested
	 * loop would use, so most queries are grouped through the table. */
	ck_assert_msg(hashed * 3 > total, "%ld of %ld hashed", hashed, total);
}
END_TEST

/* u: 200 users, o: 1,000 orders (user 0 .. 249: some match nobody). */
static void fixture(rdb *db, int nusers)
{
	char sql[200];
	int i;

	su_ok(db, "CREATE TABLE u(id INTEGER PRIMARY KEY, name TEXT, "
	      "tier INTEGER);"
	      "CREATE TABLE o(id INTEGER PRIMARY KEY, uid INTEGER, "
	      "amount REAL, pad TEXT)");
	su_ok(db, "BEGIN");
	for (i = 0; i < nusers; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO u VALUES(%d, 'u%d', "
			 "%d)", i, i, i % 3);
		su_ok(db, sql);
	}
	for (i = 0; i < 1000; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO o VALUES(%d, %d, "
			 "%d.25, printf('%%0100d', %d))", i, (i * 7) % 250,
			 i % 10, i);
		su_ok(db, sql);
	}
	su_ok(db, "COMMIT");
	su_ok(db, "CREATE INDEX o_uid ON o(uid); CREATE INDEX u_tier ON "
	      "u(tier)");
}

static void plan_is(rdb *db, const char *sql, const char *want)
{
	char *plan = su_plan(db, sql);

	ck_assert_msg(strcmp(plan, want) == 0, "%s:\n%s\nwant:\n%s", sql,
		      plan, want);
	free(plan);
}

START_TEST(test_hashgroup_explain_shows_the_plan_chosen)
{
	rdb *db = su_open_mem("hashgroup", 0);

	fixture(db, 200);
	plan_is(db, "SELECT u.id, u.name, sum(o.amount) FROM u JOIN o ON "
		"o.uid = u.id GROUP BY u.id",
		"SCAN o;SCAN u USING HASH TABLE (id=?);"
		"USE HASH TABLE FOR GROUP BY;");
	plan_is(db, "SELECT u.id, sum(o.amount) AS t FROM o JOIN u ON "
		"u.id = o.uid GROUP BY u.id ORDER BY t DESC LIMIT 3",
		"SCAN o;SCAN u USING HASH TABLE (id=?);"
		"USE HASH TABLE FOR GROUP BY;USE TOP-N HEAP FOR ORDER BY;");
	/* One user: the key lookup and the index are cheaper. */
	plan_is(db, "SELECT u.id, sum(o.amount) FROM u JOIN o ON o.uid = u.id "
		"WHERE u.id = 5 GROUP BY u.id",
		"SEARCH u USING INTEGER PRIMARY KEY (id=?);"
		"SEARCH o USING INDEX o_uid (uid=?);"
		"USE KEY ORDER FOR GROUP BY;");
	/* Not grouped by u's key, a LEFT JOIN: the nested loop. */
	plan_is(db, "SELECT u.tier, sum(o.amount) FROM u JOIN o ON "
		"o.uid = u.id GROUP BY u.tier",
		"SCAN u;SEARCH o USING INDEX o_uid (uid=?);"
		"USE TEMP B-TREE FOR GROUP BY;");
	plan_is(db, "SELECT u.id, count(o.id) FROM u LEFT JOIN o ON "
		"o.uid = u.id GROUP BY u.id",
		"SCAN u;SEARCH o USING INDEX o_uid (uid=?) (LEFT JOIN);"
		"USE KEY ORDER FOR GROUP BY;");
	/* A column of o outside an aggregate: its value would depend on
	 * the plan; the nested loop, as SQLite. */
	plan_is(db, "SELECT u.id, o.pad FROM u JOIN o ON o.uid = u.id "
		"GROUP BY u.id",
		"SCAN u;SEARCH o USING INDEX o_uid (uid=?);"
		"USE KEY ORDER FOR GROUP BY;");
	/* A filter the index serves, thought to keep a quarter of u. */
	plan_is(db, "SELECT u.id, sum(o.amount) FROM u JOIN o ON o.uid = u.id "
		"WHERE u.tier < 1 GROUP BY u.id",
		"SEARCH u USING INDEX u_tier (tier<?);"
		"SEARCH o USING INDEX o_uid (uid=?);"
		"USE TEMP B-TREE FOR GROUP BY;");
	/* ORDER BY reads o outside an aggregate (the plan is made before
	 * ORDER BY is bound): the hash join feeds the group table. */
	plan_is(db, "SELECT u.id, count(*) FROM u JOIN o ON o.uid = u.id "
		"GROUP BY u.id ORDER BY o.amount",
		"SCAN o;SCAN u USING HASH TABLE (id=?);"
		"USE TEMP B-TREE FOR GROUP BY;USE TEMP B-TREE FOR ORDER BY;");
	ck_assert_int_eq(rdb_close(db), RDB_OK);
}
END_TEST

START_TEST(test_hashgroup_estimates_keep_small_tables_nested)
{
	rdb *db = su_open_mem("hashgroup", 0);

	/* Created and filled on this connection: the schema's estimates
	 * are those of the empty tables until a DDL names them. */
	su_ok(db, "CREATE TABLE u(id INTEGER PRIMARY KEY, name TEXT);"
	      "CREATE TABLE o(id INTEGER PRIMARY KEY, uid INTEGER, v REAL);"
	      "CREATE INDEX o_uid ON o(uid);"
	      "INSERT INTO u VALUES(1, 'a'), (2, 'b');"
	      "INSERT INTO o VALUES(1, 1, 1.5), (2, 2, 2.5), (3, 1, 3.5)");
	plan_is(db, "SELECT u.id, sum(o.v) FROM u JOIN o ON o.uid = u.id "
		"GROUP BY u.id",
		"SCAN u;SEARCH o USING INDEX o_uid (uid=?);"
		"USE KEY ORDER FOR GROUP BY;");
	/* Refreshed, but two users and three orders: still the loop. */
	su_ok(db, "CREATE INDEX u_name ON u(name); CREATE INDEX o_v ON o(v)");
	plan_is(db, "SELECT u.id, sum(o.v) FROM u JOIN o ON o.uid = u.id "
		"GROUP BY u.id",
		"SCAN u;SEARCH o USING INDEX o_uid (uid=?);"
		"USE KEY ORDER FOR GROUP BY;");
	ck_assert_str_eq(su_query(db, "SELECT u.id, sum(o.v) FROM u JOIN o ON "
				  "o.uid = u.id GROUP BY u.id"),
			 "1|5.0\n2|2.5");
	ck_assert_int_eq(rdb_close(db), RDB_OK);
}
END_TEST

/*
 * Planned with 200 users in the estimates and a cache of 16 pages (a
 * table budget of 512 KiB); by the time it runs u has 20,200 rows, too
 * many for the table: the nested loop feeds the group table instead,
 * with the same rows as a connection that never planned the hash table.
 */
START_TEST(test_hashgroup_over_budget_at_run_time_same_rows)
{
	const char *q = "SELECT u.id, u.name, count(*), sum(o.amount) FROM u "
			"JOIN o ON o.uid = u.id GROUP BY u.id HAVING "
			"count(*) > 3";
	rdb *small = su_open_mem("hashgroup", 16);
	rdb *ref = su_open_mem("hashgroup", 0);
	rdb_stmt *st = NULL;
	sbuf b = {0};
	char *want, *plan;
	int rc, i, rows = 0;

	fixture(small, 200);
	fixture(ref, 200);
	plan = su_plan(small, q);
	ck_assert_ptr_nonnull(strstr(plan, "USE HASH TABLE FOR GROUP BY"));
	free(plan);
	ck_assert_int_eq(rdb_prepare(small, q, -1, &st, NULL), RDB_OK);
	for (i = 0; i < 2; i++) {
		rdb *db = i ? ref : small;
		char sql[120];
		int k;

		su_ok(db, "BEGIN");
		for (k = 1000; k < 21000; k++) {
			snprintf(sql, sizeof(sql), "INSERT INTO u VALUES(%d, "
				 "'x%d', 1)", k, k);
			su_ok(db, sql);
		}
		su_ok(db, "COMMIT");
	}
	want = rdb_rows(ref, q);
	while ((rc = rdb_step(st)) == RDB_ROW) {
		for (i = 0; i < rdb_column_count(st); i++) {
			int t = rdb_column_type(st, i);

			su_put_typed(&b, t, (long long)rdb_column_int64(st, i),
				     rdb_column_double(st, i),
				     rdb_column_text(st, i),
				     rdb_column_bytes(st, i));
		}
		sb_add(&b, "\n");
		rows++;
	}
	ck_assert_msg(rc == RDB_DONE, "%s", rdb_errmsg(small));
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	ck_assert_ptr_nonnull(b.p);
	ck_assert_int_eq(atoi(want), rows);
	ck_assert_str_eq(b.p, strchr(want, '\n') + 1);
	ck_assert_ptr_nonnull(strstr(want, "I7|T7537|I4|R"));
	free(b.p);
	free(want);
	ck_assert_int_eq(rdb_close(small), RDB_OK);
	ck_assert_int_eq(rdb_close(ref), RDB_OK);
}
END_TEST

START_TEST(test_hashgroup_alloc_failure_is_clean_error)
{
	const char *q = "SELECT u.id, u.name, count(DISTINCT o.amount), "
			"max(o.pad), sum(o.amount) AS t FROM u JOIN o ON "
			"o.uid = u.id WHERE u.name <> 'u3' AND o.amount > 1 "
			"GROUP BY u.id HAVING count(*) > 1 ORDER BY t DESC, "
			"u.id LIMIT 20";
	const char *q2 = "SELECT u.id, count(*) FROM o JOIN u ON u.id = o.uid "
			 "GROUP BY u.id";
	const char *const qs[] = { q, q2 };
	rdb *db = su_open_mem("hashgroup", 0);
	char *want, *got, *plan;
	long n, failures = 0;
	int rc, failed, k;

	fixture(db, 200);
	for (k = 0; k < 2; k++) {
		plan = su_plan(db, qs[k]);
		ck_assert_ptr_nonnull(strstr(plan, "USE HASH TABLE FOR "
					     "GROUP BY"));
		free(plan);
		want = su_run_failing(db, qs[k], 0, su_put_typed, &rc, &failed);
		ck_assert_ptr_nonnull(want);
		for (n = 1;; n++) {
			got = su_run_failing(db, qs[k], n, su_put_typed, &rc,
					     &failed);
			if (got == NULL) {
				ck_assert_msg(rc == RDB_NOMEM && failed,
					      "allocation %ld: %d %s", n, rc,
					      rdb_errmsg(db));
				failures++;
				continue;
			}
			ck_assert_msg(strcmp(got, want) == 0, "allocation %ld: "
				      "%s instead of %s", n, got, want);
			free(got);
			if (!failed)
				break;
		}
		free(want);
	}
	ck_assert_msg(failures > 20, "%ld failures", failures);
	ck_assert_int_eq(rdb_close(db), RDB_OK);
}
END_TEST

Suite *hashgroup_suite(void)
{
	Suite *s = suite_create("hashgroup");
	TCase *tc = tcase_create("differential");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_hashgroup_random_queries_match_sqlite_in_order);
	suite_add_tcase(s, tc);
	tc = tcase_create("plan");
	tcase_add_test(tc, test_hashgroup_explain_shows_the_plan_chosen);
	tcase_add_test(tc, test_hashgroup_estimates_keep_small_tables_nested);
	tcase_add_test(tc, test_hashgroup_over_budget_at_run_time_same_rows);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_hashgroup_alloc_failure_is_clean_error);
	suite_add_tcase(s, tc);
	return s;
}
