/*
 * check_subqplan.c -- where the planner tests a correlated subquery: at
 * the join level of the last table of its own query that it reads (or
 * once per run when it reads only queries further out), never at every
 * row of the join; INTERSECT / EXCEPT after an empty term; the join
 * order around a LEFT JOIN.  The work is counted in page requests of the buffer
 * pool (rdb_stats_get: deterministic for a given plan and file, unlike
 * time); the rows are compared with SQLite's.  Design: src/sql/README.md
 * ("Binding and planning").
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rdb.h"
#include "sql_util.h"
#include "test_util.h"

#define T_ROWS 40     /* rows of t, read twice in the joins below */
#define U_ROWS 3000   /* rows of u: many pages per scan */

/* The same tables in rdb and SQLite: t(a, b) with b 0..39, o(k) 1..3,
 * u(c, d, pad) whose d (negative) never equals a b or a k. */
static void make_tables(rdb *r, sqlite3 *s)
{
	sbuf b = {0};
	char *sql;
	int i;

	sb_add(&b, "CREATE TABLE t(a INTEGER PRIMARY KEY, b INTEGER);"
	       "CREATE TABLE o(k INTEGER PRIMARY KEY);"
	       "CREATE TABLE u(c INTEGER PRIMARY KEY, d INTEGER, pad TEXT);"
	       "INSERT INTO o VALUES (1), (2), (3);");
	for (i = 0; i < T_ROWS; i++)
		sb_add(&b, "INSERT INTO t VALUES (%d, %d);", i + 1, i);
	for (i = 0; i < U_ROWS; i++)
		sb_add(&b, "INSERT INTO u VALUES (%d, %d, '%0100d');", i + 1,
		       -1 - i % 97, i);
	sql = sb_take(&b);
	su_ok(r, "BEGIN");
	su_ok(r, sql);
	su_ok(r, "COMMIT");
	ck_assert_int_eq(sqlite3_exec(s, sql, NULL, NULL, NULL), SQLITE_OK);
	free(sql);
}

/* Page requests of the buffer pool so far. */
static uint64_t requests(rdb *r)
{
	rdb_stats st;

	ck_assert_int_eq(rdb_stats_get(r, &st), RDB_OK);
	return st.cache_hits + st.cache_misses;
}

/* Run sql on both engines: the rows must agree (unordered); returns the
 * page requests rdb made for it. */
static uint64_t run_both(rdb *r, sqlite3 *s, const char *sql,
			 const char *want)
{
	uint64_t before = requests(r), used;
	char *a = su_rdb_rows(r, sql, su_put_typed, "", 0);
	char *b;

	used = requests(r) - before;
	b = su_sqlite_rows(s, sql, su_put_typed, "", 0);
	ck_assert_str_eq(a, b);
	ck_assert_str_eq(a, want);
	free(a);
	free(b);
	return used;
}

/* run_both() making at most max page requests. */
static void run_within(rdb *r, sqlite3 *s, const char *sql,
		       const char *want, uint64_t max)
{
	uint64_t used = run_both(r, s, sql, want);

	ck_assert_msg(used <= max, "%s: %llu page requests, more than %llu",
		      sql, (unsigned long long)used, (unsigned long long)max);
}

/* The page requests of one full scan of u (what one evaluation of the
 * subqueries below costs). */
static uint64_t scan_u(rdb *r, sqlite3 *s)
{
	return run_both(r, s, "SELECT count(*) FROM u WHERE d = 5",
			"1 rows\nI0|\n");
}

/* Both engines with the tables; returns scan_u(). */
static uint64_t open_both(rdb **r, sqlite3 **s)
{
	uint64_t scan;

	*r = su_open_mem("subqplan", 0);
	ck_assert_int_eq(sqlite3_open(":memory:", s), SQLITE_OK);
	make_tables(*r, *s);
	scan = scan_u(*r, *s);
	ck_assert_uint_ge(scan, 20);
	return scan;
}

static void close_both(rdb *r, sqlite3 *s)
{
	ck_assert_int_eq(rdb_close(r), RDB_OK);
	ck_assert_int_eq(sqlite3_close(s), SQLITE_OK);
}

/* A subquery reading x alone, in a join of x and y, runs once per row of
 * x (40 scans of u), not once per pair (1,600 scans). */
START_TEST(test_subqplan_subquery_reading_outer_table_runs_per_its_row)
{
	rdb *r;
	sqlite3 *s;
	uint64_t scan;

	scan = open_both(&r, &s);
	run_within(r, s, "SELECT count(*) FROM t AS x, t AS y WHERE NOT EXISTS "
		   "(SELECT 1 FROM u WHERE u.d = x.b)", "1 rows\nI1600|\n",
		   2 * T_ROWS * scan);
	/* The same through a scalar subquery and IN (SELECT). */
	run_within(r, s, "SELECT count(*) FROM t AS x JOIN t AS y ON (SELECT "
		   "count(*) FROM u WHERE u.d = x.b) = 0", "1 rows\nI1600|\n",
		   2 * T_ROWS * scan);
	run_within(r, s, "SELECT count(*) FROM t AS x, t AS y WHERE x.b NOT IN "
		   "(SELECT u.d FROM u WHERE u.c > x.a)", "1 rows\nI1600|\n",
		   2 * T_ROWS * scan);
	close_both(r, s);
}
END_TEST

/* A subquery reading only the enclosing query's row (o.k) is tested once
 * per run of the inner query (3 scans of u), not per pair of x and y. */
START_TEST(test_subqplan_subquery_reading_only_outer_query_runs_once)
{
	rdb *r;
	sqlite3 *s;
	uint64_t scan;

	scan = open_both(&r, &s);
	run_within(r, s, "SELECT o.k, (SELECT count(*) FROM t AS x, t AS y "
		   "WHERE x.b < o.k AND NOT EXISTS (SELECT 1 FROM u WHERE "
		   "u.d = o.k)) FROM o", "3 rows\nI1|I40|\nI2|I80|\nI3|I120|\n",
		   2 * 3 * scan);
	/* False once: the join is not read. */
	run_within(r, s, "SELECT o.k, (SELECT count(*) FROM t AS x, t AS y "
		   "WHERE EXISTS (SELECT 1 FROM u WHERE u.d = o.k)) FROM o",
		   "3 rows\nI1|I0|\nI2|I0|\nI3|I0|\n", 2 * 3 * scan);
	close_both(r, s);
}
END_TEST

/* INTERSECT and EXCEPT after an empty term are empty: the terms to the
 * right are not run (a costly term reading u 40 times costs nothing). */
START_TEST(test_subqplan_set_operation_after_empty_term_skips_the_rest)
{
	static const char *const ops[] = { "EXCEPT", "INTERSECT" };
	rdb *r;
	sqlite3 *s;
	uint64_t scan, used;
	int i;

	scan = open_both(&r, &s);
	for (i = 0; i < 2; i++) {
		char sql[400];

		snprintf(sql, sizeof(sql), "SELECT b FROM t WHERE b < 0 %s "
			 "SELECT x.b FROM t AS x WHERE NOT EXISTS (SELECT 1 "
			 "FROM u WHERE u.d = x.b) ORDER BY 1", ops[i]);
		run_within(r, s, sql, "0 rows\n", scan - 1);
	}
	/* Not empty: the right-hand term runs and decides. */
	used = run_both(r, s, "SELECT b FROM t WHERE b < 3 EXCEPT SELECT x.b "
			"FROM t AS x WHERE x.b = 1 AND NOT EXISTS (SELECT 1 "
			"FROM u WHERE u.d = x.b)", "2 rows\nI0|\nI2|\n");
	ck_assert_uint_ge(used, scan);
	close_both(r, s);
}
END_TEST

/* An inner join after a LEFT JOIN read through its key may be read first
 * (o's key lookup, or a key range that holds nothing, before the costly
 * ON of x LEFT JOIN y); a scan stays after it; the right side of a LEFT
 * JOIN stays after everything to its left. */
START_TEST(test_subqplan_left_join_right_side_stays_after_its_left)
{
	rdb *r;
	sqlite3 *s;
	uint64_t scan;

	scan = open_both(&r, &s);
	su_expect_plan(r, "SELECT count(*) FROM t AS x LEFT JOIN t AS y ON "
		       "y.a = x.b JOIN o ON o.k = 2",
		       "SEARCH o USING INTEGER PRIMARY KEY (k=?);SCAN t AS "
		       "x;SEARCH t AS y USING INTEGER PRIMARY KEY (a=?) "
		       "(LEFT JOIN);");
	su_expect_plan(r, "SELECT count(*) FROM t AS x LEFT JOIN t AS y ON "
		       "y.a = x.b JOIN o ON o.k + 0 = 2",
		       "SCAN t AS x;SEARCH t AS y USING INTEGER PRIMARY KEY "
		       "(a=?) (LEFT JOIN);SCAN o;");
	su_expect_plan(r, "SELECT count(*) FROM t AS x LEFT JOIN u ON u.c = 5",
		       "SCAN t AS x;SEARCH u USING INTEGER PRIMARY KEY (c=?) "
		       "(LEFT JOIN);");
	run_both(r, s, "SELECT count(*), count(y.a), count(u.c) FROM t AS x "
		 "LEFT JOIN t AS y ON y.a = x.b LEFT JOIN u ON u.c = y.b + 1 "
		 "JOIN o ON o.k = x.a % 3", "1 rows\nI27|I26|I26|\n");
	run_both(r, s, "SELECT x.a, y.a, o.k FROM t AS x LEFT JOIN t AS y ON "
		 "y.a = x.b AND y.b > 37 JOIN o ON o.k = 2 WHERE y.a IS NULL "
		 "AND x.a < 4", "3 rows\nI1|N|I2|\nI2|N|I2|\nI3|N|I2|\n");
	run_within(r, s, "SELECT count(*) FROM t AS x LEFT JOIN t AS y ON NOT "
		   "EXISTS (SELECT 1 FROM u WHERE u.d = y.b) JOIN o ON o.k > 5",
		   "1 rows\nI0|\n", scan - 1);
	close_both(r, s);
}
END_TEST

/* ORDER BY the outer table's key needs no sort while the terms after it
 * read that table alone; a term reading the inner table does. */
START_TEST(test_subqplan_order_after_outer_key_sorts_when_inner_read)
{
	static const char *const q[] = {
		"SELECT x.a, x.b, y.a FROM t AS x, t AS y WHERE x.a < 3 AND "
		"y.a < 3 ORDER BY x.a, x.b DESC, y.a DESC",
		"SELECT x.a, y.a FROM t AS x, t AS y WHERE x.a < 3 AND y.a < 3 "
		"ORDER BY x.a, x.b + 1 DESC",
	};
	rdb *r;
	sqlite3 *s;
	char *plan, *rows, *lite;

	open_both(&r, &s);
	plan = su_plan(r, q[0]);
	ck_assert_str_eq(plan, "SEARCH t AS x USING INTEGER PRIMARY KEY "
			 "(a<?);SEARCH t AS y USING INTEGER PRIMARY KEY (a<?);"
			 "USE TEMP B-TREE FOR ORDER BY;");
	free(plan);
	rows = su_rdb_rows(r, q[0], su_put_typed, "", 1);
	ck_assert_str_eq(rows, "4 rows\nI1|I0|I2|\nI1|I0|I1|\nI2|I1|I2|\n"
			 "I2|I1|I1|\n");
	lite = su_sqlite_rows(s, q[0], su_put_typed, "", 1);
	ck_assert_str_eq(rows, lite);
	free(rows);
	free(lite);
	plan = su_plan(r, q[1]);
	ck_assert_ptr_null(strstr(plan, "ORDER BY"));
	free(plan);
	close_both(r, s);
}
END_TEST

Suite *subqplan_suite(void)
{
	Suite *s = suite_create("subqplan");
	TCase *tc = tcase_create("placement");

	tcase_add_test(tc,
		test_subqplan_subquery_reading_outer_table_runs_per_its_row);
	tcase_add_test(tc,
		test_subqplan_subquery_reading_only_outer_query_runs_once);
	tcase_add_test(tc,
		test_subqplan_set_operation_after_empty_term_skips_the_rest);
	tcase_add_test(tc,
		test_subqplan_left_join_right_side_stays_after_its_left);
	tcase_add_test(tc,
		test_subqplan_order_after_outer_key_sorts_when_inner_read);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}
