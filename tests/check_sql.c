/*
 * check_sql.c -- SQL through the public API (include/rdb.h): statements
 * of every kind, expressions against the planner's access paths,
 * transactions and statement atomicity, prepared statements and
 * parameters, errors and API misuse.  Cases: ddl, dml, select, plan,
 * txn, api, errors.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rdb.h"
#include "mem.h"
#include "sql_util.h"
#include "test_util.h"

static char path[256];
static rdb *db;

static void setup(void)
{
	tu_tmp_path(path, sizeof(path));
	ck_assert_int_eq(rdb_open(path, &db), RDB_OK);
}

static void teardown(void)
{
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	tu_unlink_db(path);
}

static void ok(const char *sql)
{
	su_ok(db, sql);
}

/* Run sql expecting error code want; return the message. */
static const char *fails(const char *sql, int want)
{
	int rc = rdb_exec(db, sql, NULL, NULL, NULL);

	ck_assert_msg(rc == want, "%s: got %d (%s), want %d", sql, rc,
		      rdb_errmsg(db), want);
	return rdb_errmsg(db);
}

static const char *q(const char *sql)
{
	return su_query(db, sql);
}

#define QEQ(sql, want) ck_assert_str_eq(q(sql), want)

/* ---- ddl ------------------------------------------------------------------ */

START_TEST(test_sql_create_insert_select_roundtrip)
{
	ok("CREATE TABLE users(id INTEGER PRIMARY KEY, username VARCHAR(20),"
	   " first_name TEXT, last_name TEXT)");
	ok("INSERT INTO users VALUES (1, 'ironman', 'Tony', 'Stark'),"
	   " (2, 'hulk', 'Bruce', 'Banner')");
	QEQ("SELECT * FROM users", "1|ironman|Tony|Stark\n2|hulk|Bruce|Banner");
	QEQ("SELECT username FROM users WHERE id = 2", "hulk");
	ck_assert_int_eq(rdb_changes(db), 2);
}
END_TEST

START_TEST(test_sql_catalog_lists_tables_and_columns)
{
	ok("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT NOT NULL DEFAULT 'x')");
	QEQ("SELECT name, type FROM rdb_tables WHERE name = 't'", "t|table");
	QEQ("SELECT name, type, \"notnull\", dflt FROM rdb_columns "
	    "WHERE table_name = 't' ORDER BY cid",
	    "a|INTEGER|0|NULL\nb|TEXT|1|'x'");
}
END_TEST

START_TEST(test_sql_create_if_not_exists_and_drop_if_exists)
{
	ok("CREATE TABLE t(a INTEGER)");
	fails("CREATE TABLE t(a INTEGER)", RDB_ERROR);
	ok("CREATE TABLE IF NOT EXISTS t(a INTEGER)");
	ok("DROP TABLE t");
	fails("DROP TABLE t", RDB_ERROR);
	ok("DROP TABLE IF EXISTS t");
	ck_assert_ptr_nonnull(strstr(fails("SELECT * FROM t", RDB_ERROR),
				     "no such table: t"));
}
END_TEST

START_TEST(test_sql_index_created_on_filled_table_is_used)
{
	int i;
	char sql[128];

	ok("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)");
	ok("BEGIN");
	for (i = 0; i < 200; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO t VALUES (%d, 'n%d')",
			 i, i % 50);
		ok(sql);
	}
	ok("COMMIT");
	ok("CREATE INDEX tb ON t(b)");
	QEQ("SELECT count(*) FROM t WHERE b = 'n7'", "4");
	QEQ("EXPLAIN QUERY PLAN SELECT a FROM t WHERE b = 'n7'",
	    "2|0|0|SEARCH t USING INDEX tb (b=?)");
	ok("DROP INDEX tb");
	QEQ("EXPLAIN QUERY PLAN SELECT a FROM t WHERE b = 'n7'",
	    "2|0|0|SCAN t");
}
END_TEST

/* A SELECT that needs only an index's columns and the key reads the
 * index entries alone; values the key encoding cannot give back exactly
 * (an untyped column's 1.0) still come from the row, and statements that
 * write whole rows are unaffected. */
START_TEST(test_sql_covering_index_gives_stored_values)
{
	ok("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c, d TEXT)");
	ok("INSERT INTO t VALUES (1, 'x', 1.0, 'p'), (2, 'y', 2, 'q'),"
	   " (3, 'x', 'z', 'r')");
	ok("CREATE INDEX tb ON t(b)");
	ok("CREATE INDEX tc ON t(c)");
	QEQ("SELECT a FROM t WHERE b = 'x'", "1\n3");
	QEQ("SELECT b, a FROM t WHERE b >= 'x' ORDER BY b DESC, a",
	    "y|2\nx|1\nx|3");
	QEQ("SELECT a, d FROM t WHERE b = 'y'", "2|q");
	QEQ("SELECT c, a FROM t WHERE c = 1", "1.0|1");
	QEQ("SELECT a, (SELECT count(*) FROM t AS u WHERE u.b = t.b) "
	    "FROM t WHERE b = 'x'", "1|2\n3|2");
	ok("UPDATE t SET d = d || '!' WHERE b = 'x'");
	QEQ("SELECT * FROM t ORDER BY a", "1|x|1.0|p!\n2|y|2|q\n3|x|z|r!");
	ok("DELETE FROM t WHERE b = 'y'");
	QEQ("SELECT a, b, d FROM t WHERE b = 'x'", "1|x|p!\n3|x|r!");
}
END_TEST

/* ---- dml ------------------------------------------------------------------ */

START_TEST(test_sql_update_changes_key_and_values)
{
	ok("CREATE TABLE t(a INTEGER PRIMARY KEY, b INTEGER)");
	ok("INSERT INTO t VALUES (1, 10), (2, 20), (3, 30)");
	ok("UPDATE t SET a = a + 10, b = b * 2 WHERE a >= 2");
	ck_assert_int_eq(rdb_changes(db), 2);
	QEQ("SELECT a, b FROM t ORDER BY a", "1|10\n12|40\n13|60");
	ok("DELETE FROM t WHERE b > 30");
	ck_assert_int_eq(rdb_changes(db), 2);
	QEQ("SELECT * FROM t", "1|10");
}
END_TEST

START_TEST(test_sql_insert_or_replace_and_ignore)
{
	ok("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT UNIQUE)");
	ok("INSERT INTO t VALUES (1, 'x'), (2, 'y')");
	fails("INSERT INTO t VALUES (1, 'z')", RDB_CONSTRAINT);
	ok("INSERT OR IGNORE INTO t VALUES (1, 'z')");
	ck_assert_int_eq(rdb_changes(db), 0);
	ok("INSERT OR REPLACE INTO t VALUES (3, 'x')");
	QEQ("SELECT * FROM t ORDER BY a", "2|y\n3|x");
	ok("REPLACE INTO t VALUES (2, 'w')");
	QEQ("SELECT * FROM t ORDER BY a", "2|w\n3|x");
}
END_TEST

START_TEST(test_sql_insert_with_columns_uses_defaults)
{
	ok("CREATE TABLE t(a INTEGER, b TEXT DEFAULT 'd', c REAL DEFAULT 1.5)");
	ok("INSERT INTO t(a) VALUES (1)");
	ok("INSERT INTO t(c, a) VALUES (2.5, 2)");
	QEQ("SELECT a, b, c, rowid FROM t ORDER BY a", "1|d|1.5|1\n2|d|2.5|2");
	ck_assert_int_eq(rdb_last_insert_rowid(db), 2);
	QEQ("SELECT last_insert_rowid(), changes(), total_changes()",
	    "2|1|2");
}
END_TEST

START_TEST(test_sql_insert_select_copies_rows)
{
	ok("CREATE TABLE s(a INTEGER, b TEXT)");
	ok("INSERT INTO s VALUES (1, 'a'), (2, 'b'), (3, 'c')");
	ok("INSERT INTO s SELECT a + 10, b || b FROM s WHERE a > 1");
	QEQ("SELECT a, b FROM s ORDER BY a", "1|a\n2|b\n3|c\n12|bb\n13|cc");
}
END_TEST

START_TEST(test_sql_failed_multirow_insert_leaves_nothing)
{
	char sql[16384];
	size_t n;
	int i;

	ok("CREATE TABLE t(a INTEGER PRIMARY KEY)");
	n = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO t VALUES (0)");
	for (i = 1; i < 1000; i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, ",(%d)",
				      i == 899 ? 5 : i);
	fails(sql, RDB_CONSTRAINT);
	QEQ("SELECT count(*) FROM t", "0");
	ok("BEGIN");
	ok("INSERT INTO t VALUES (-1)");
	fails(sql, RDB_CONSTRAINT);
	ok("COMMIT");
	QEQ("SELECT count(*), min(a) FROM t", "1|-1");
}
END_TEST

START_TEST(test_sql_strict_types_reject_lossy_values)
{
	ok("CREATE TABLE t(a INTEGER, b VARCHAR(3))");
	ok("INSERT INTO t VALUES ('12', 'abc')");
	QEQ("SELECT a, typeof(a) FROM t", "12|integer");
	fails("INSERT INTO t VALUES ('x', 'a')", RDB_CONSTRAINT);
	fails("INSERT INTO t VALUES (1, 'abcd')", RDB_CONSTRAINT);
	QEQ("SELECT count(*) FROM t", "1");
}
END_TEST

/* ---- select ---------------------------------------------------------------- */

static void fill_emp(void)
{
	ok("CREATE TABLE emp(id INTEGER PRIMARY KEY, name TEXT, dept TEXT,"
	   " salary INTEGER)");
	ok("INSERT INTO emp VALUES (1,'ann','eng',100),(2,'bob','eng',80),"
	   "(3,'cy','ops',70),(4,'di','ops',NULL),(5,'ed','hr',50)");
}

START_TEST(test_sql_group_by_having_order_limit)
{
	fill_emp();
	QEQ("SELECT dept, count(*), sum(salary), avg(salary) FROM emp "
	    "GROUP BY dept ORDER BY dept",
	    "eng|2|180|90.0\nhr|1|50|50.0\nops|2|70|70.0");
	QEQ("SELECT dept FROM emp GROUP BY dept HAVING count(*) > 1 "
	    "ORDER BY 1 DESC", "ops\neng");
	QEQ("SELECT name FROM emp ORDER BY salary DESC LIMIT 2 OFFSET 1",
	    "bob\ncy");
	QEQ("SELECT count(*), count(salary), max(name) FROM emp", "5|4|ed");
	QEQ("SELECT count(*) FROM emp WHERE id > 100", "0");
	QEQ("SELECT sum(salary) FROM emp WHERE id > 100", "NULL");
}
END_TEST

START_TEST(test_sql_distinct_and_expressions)
{
	fill_emp();
	QEQ("SELECT DISTINCT dept FROM emp ORDER BY dept", "eng\nhr\nops");
	QEQ("SELECT name || '@' || dept, salary / 3, salary % 3 FROM emp "
	    "WHERE id = 1", "ann@eng|33|1");
	QEQ("SELECT id FROM emp WHERE salary IS NULL", "4");
	QEQ("SELECT id FROM emp WHERE name LIKE 'B%' OR name GLOB 'c*'",
	    "2\n3");
	QEQ("SELECT id FROM emp WHERE id IN (5, 1, 3) ORDER BY id", "1\n3\n5");
	QEQ("SELECT id FROM emp WHERE id BETWEEN 2 AND 3", "2\n3");
	QEQ("SELECT CASE WHEN salary > 75 THEN 'hi' ELSE 'lo' END FROM emp "
	    "WHERE id < 4", "hi\nhi\nlo");
	QEQ("SELECT 1 + 1, 'a' < 'b', NULL IS NULL, CAST('7' AS INTEGER) * 2",
	    "2|1|1|14");
}
END_TEST

START_TEST(test_sql_join_subquery_compound)
{
	fill_emp();
	ok("CREATE TABLE dept(name TEXT PRIMARY KEY, floor INTEGER)");
	ok("INSERT INTO dept VALUES ('eng', 3), ('ops', 1)");
	QEQ("SELECT e.name, d.floor FROM emp e JOIN dept d ON d.name = e.dept"
	    " ORDER BY e.id", "ann|3\nbob|3\ncy|1\ndi|1");
	QEQ("SELECT e.name, d.floor FROM emp e LEFT JOIN dept d "
	    "ON d.name = e.dept WHERE e.id >= 4 ORDER BY e.id",
	    "di|1\ned|NULL");
	QEQ("SELECT name FROM emp WHERE salary = (SELECT max(salary) FROM emp)",
	    "ann");
	QEQ("SELECT name FROM emp WHERE dept IN (SELECT name FROM dept "
	    "WHERE floor > 2)", "ann\nbob");
	QEQ("SELECT name FROM emp e WHERE EXISTS (SELECT 1 FROM dept d "
	    "WHERE d.name = e.dept AND d.floor = 1)", "cy\ndi");
	QEQ("SELECT dept FROM emp UNION SELECT name FROM dept", "eng\nhr\nops");
	QEQ("SELECT dept FROM emp EXCEPT SELECT name FROM dept", "hr");
	QEQ("SELECT 1 UNION ALL SELECT 1 ORDER BY 1", "1\n1");
}
END_TEST

/* ---- plan ------------------------------------------------------------------ */

START_TEST(test_sql_plan_uses_key_bounds_and_skips_sort)
{
	ok("CREATE TABLE t(a INTEGER, b INTEGER, c TEXT, PRIMARY KEY(a, b))");
	QEQ("EXPLAIN QUERY PLAN SELECT * FROM t WHERE a = 1 AND b > 2",
	    "2|0|0|SEARCH t USING PRIMARY KEY (a=? AND b>?)");
	QEQ("EXPLAIN QUERY PLAN SELECT * FROM t ORDER BY a DESC, b DESC",
	    "2|0|0|SCAN t");
	QEQ("EXPLAIN QUERY PLAN SELECT * FROM t ORDER BY c",
	    "2|0|0|SCAN t\n3|0|0|USE TEMP B-TREE FOR ORDER BY");
	ok("INSERT INTO t VALUES (1,1,'x'),(1,3,'y'),(1,5,'z'),(2,4,'w')");
	QEQ("SELECT c FROM t WHERE a = 1 AND b > 2 ORDER BY b DESC", "z\ny");
	QEQ("SELECT c FROM t WHERE a IN (2, 1) AND b >= 3", "y\nz\nw");
}
END_TEST

/* Bounds on a rowid-like key decide the rows without a check per row
 * (plan.c, drop_decided): with every class of bound, exclusive and
 * inclusive, the SEARCH returns what the same conjuncts return when a
 * unary + keeps them off the key (a SCAN checking each row). */
START_TEST(test_sql_rowid_key_bounds_give_what_the_comparison_gives)
{
	static const char *const vals[] = {
		"NULL", "-3", "0", "7", "7.0", "7.5", "-2.5", "'7'", "'7.0'",
		"'abc'", "x'07'", "1e30", "-1e30", "9223372036854775807",
		"'-2'", "25"
	};
	static const char *const ops[] = { "=", "<", "<=", ">", ">=" };
	static const char *const tabs[] = { "t", "r" };
	char a[256], b[256], *want;
	size_t i, j, o, k;

	ok("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
	ok("CREATE TABLE r(v TEXT)");
	for (i = 0; i < 30; i++) {
		snprintf(a, sizeof(a), "INSERT INTO t VALUES (%d, '%c');"
			 " INSERT INTO r VALUES ('%c')", (int)i - 5,
			 i % 3 ? 'x' : 'y', i % 3 ? 'x' : 'y');
		ok(a);
	}
	QEQ("EXPLAIN QUERY PLAN SELECT id FROM t WHERE id BETWEEN 1 AND 3",
	    "2|0|0|SEARCH t USING INTEGER PRIMARY KEY (id>=? AND id<=?)");
	for (k = 0; k < 2; k++)
		for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
			for (o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
				snprintf(a, sizeof(a), "SELECT group_concat("
					 "rowid) FROM %s WHERE rowid %s %s",
					 tabs[k], ops[o], vals[i]);
				snprintf(b, sizeof(b), "SELECT group_concat("
					 "rowid) FROM %s WHERE +rowid %s %s",
					 tabs[k], ops[o], vals[i]);
				want = strdup(q(b));
				ck_assert_msg(strcmp(q(a), want) == 0,
					      "%s: %s, want %s", a, q(a), want);
				free(want);
			}
			/* One bound reads the row itself: not a bound. */
			for (o = 0; o < 2; o++) {
				snprintf(a, sizeof(a), o ? "SELECT group_"
					 "concat(rowid) FROM %s WHERE rowid "
					 "BETWEEN length(v) AND %s" :
					 "SELECT group_concat(rowid) FROM %s "
					 "WHERE rowid BETWEEN %s AND length(v) "
					 "* 10", tabs[k], vals[i]);
				snprintf(b, sizeof(b), o ? "SELECT group_"
					 "concat(rowid) FROM %s WHERE +rowid "
					 "BETWEEN length(v) AND %s" :
					 "SELECT group_concat(rowid) FROM %s "
					 "WHERE +rowid BETWEEN %s AND length(v) "
					 "* 10", tabs[k], vals[i]);
				want = strdup(q(b));
				ck_assert_msg(strcmp(q(a), want) == 0,
					      "%s: %s, want %s", a, q(a), want);
				free(want);
			}
			for (j = 0; j < sizeof(vals) / sizeof(vals[0]); j++) {
				snprintf(a, sizeof(a), "SELECT group_concat("
					 "rowid) FROM %s WHERE rowid BETWEEN %s "
					 "AND %s AND v = 'x'", tabs[k], vals[i],
					 vals[j]);
				snprintf(b, sizeof(b), "SELECT group_concat("
					 "rowid) FROM %s WHERE +rowid BETWEEN %s "
					 "AND %s AND v = 'x'", tabs[k], vals[i],
					 vals[j]);
				want = strdup(q(b));
				ck_assert_msg(strcmp(q(a), want) == 0,
					      "%s: %s, want %s", a, q(a), want);
				free(want);
			}
		}
}
END_TEST

/* ---- txn ------------------------------------------------------------------- */

START_TEST(test_sql_rollback_discards_commit_keeps)
{
	ok("CREATE TABLE t(a INTEGER)");
	ck_assert_int_eq(rdb_get_autocommit(db), 1);
	ok("BEGIN");
	ck_assert_int_eq(rdb_get_autocommit(db), 0);
	ok("INSERT INTO t VALUES (1)");
	ok("ROLLBACK");
	QEQ("SELECT count(*) FROM t", "0");
	ok("BEGIN IMMEDIATE; INSERT INTO t VALUES (2); COMMIT");
	QEQ("SELECT a FROM t", "2");
	fails("COMMIT", RDB_ERROR);
	ok("BEGIN; CREATE TABLE u(x INTEGER); ROLLBACK");
	fails("SELECT * FROM u", RDB_ERROR);
}
END_TEST

START_TEST(test_sql_data_survives_reopen)
{
	ok("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)");
	ok("CREATE INDEX tb ON t(b)");
	ok("INSERT INTO t VALUES (1, 'one'), (2, 'two')");
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	ck_assert_int_eq(rdb_open(path, &db), RDB_OK);
	QEQ("SELECT a FROM t WHERE b = 'two'", "2");
	QEQ("PRAGMA integrity_check", "ok");
}
END_TEST

/* ---- api ------------------------------------------------------------------- */

START_TEST(test_sql_prepared_statement_binds_and_resets)
{
	rdb_stmt *st;
	const char *tail;
	int i;

	ok("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)");
	ck_assert_int_eq(rdb_prepare(db, "INSERT INTO t VALUES (?1, :name);"
				     " SELECT 1", -1, &st, &tail), RDB_OK);
	ck_assert_str_eq(tail, " SELECT 1");
	ck_assert_int_eq(rdb_bind_parameter_count(st), 2);
	ck_assert_int_eq(rdb_bind_parameter_index(st, ":name"), 2);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(rdb_bind_int64(st, 1, i), RDB_OK);
		ck_assert_int_eq(rdb_bind_text(st, 2, "v", -1), RDB_OK);
		ck_assert_int_eq(rdb_step(st), RDB_DONE);
		ck_assert_int_eq(rdb_reset(st), RDB_OK);
	}
	ck_assert_int_eq(rdb_bind_int64(st, 3, 0), RDB_RANGE);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	ck_assert_int_eq(rdb_prepare(db, "SELECT a, b FROM t WHERE a >= ?",
				     -1, &st, NULL), RDB_OK);
	ck_assert_int_eq(rdb_bind_int64(st, 1, 3), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_column_count(st), 2);
	ck_assert_str_eq(rdb_column_name(st, 1), "b");
	ck_assert_int_eq(rdb_column_type(st, 0), RDB_INTEGER);
	ck_assert_int_eq(rdb_column_int64(st, 0), 3);
	ck_assert_str_eq((const char *)rdb_column_text(st, 0), "3");
	ck_assert_str_eq((const char *)rdb_column_text(st, 1), "v");
	ck_assert_int_eq(rdb_column_bytes(st, 1), 1);
	ck_assert_int_eq(rdb_bind_int64(st, 1, 0), RDB_MISUSE);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_step(st), RDB_DONE);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}
END_TEST

/* Text of row i: length from a cycle that shrinks after long ones (one
 * of 10,000 bytes, on overflow pages), letters from i. */
static size_t text_len(int i)
{
	static const size_t lens[] = { 0, 1, 300, 2, 10000, 5, 3000, 17 };

	return lens[i % 8];
}

static void text_of(int i, char *buf)
{
	size_t j, n = text_len(i);

	for (j = 0; j < n; j++)
		buf[j] = (char)('a' + (i + (int)j) % 26);
	buf[n] = '\0';
}

/* Read every row (ascending or descending) and check each text column
 * and its rendered key against the expected values: terminated, the
 * length rdb_column_bytes gives, the same on a second call. */
static void check_texts(const char *sql, int n, int desc)
{
	static char want[10001];
	char num[32];
	const char *got;
	rdb_stmt *st;
	int i, k;

	ck_assert_int_eq(rdb_prepare(db, sql, -1, &st, NULL), RDB_OK);
	for (k = 0; k < n; k++) {
		i = desc ? n - 1 - k : k;
		ck_assert_int_eq(rdb_step(st), RDB_ROW);
		text_of(i, want);
		got = (const char *)rdb_column_text(st, 1);
		ck_assert_ptr_nonnull(got);
		ck_assert_str_eq(got, want);
		ck_assert_int_eq(rdb_column_bytes(st, 1), (int)strlen(want));
		ck_assert_ptr_eq(rdb_column_text(st, 1), got);
		snprintf(num, sizeof(num), "%d", i);
		ck_assert_str_eq((const char *)rdb_column_text(st, 0), num);
		ck_assert_int_eq(rdb_column_bytes(st, 0), (int)strlen(num));
	}
	ck_assert_int_eq(rdb_step(st), RDB_DONE);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}

/* Column text comes back whole and NUL-terminated for every row, long
 * (overflow) and short ones mixed, whether the scan reads its rows from
 * a read transaction's pinned pages or copies them in a write
 * transaction, in either direction. */
START_TEST(test_sql_column_text_is_whole_and_terminated_on_every_row)
{
	static char buf[10001];
	rdb_stmt *st;
	int i, n = 400;

	ok("CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT)");
	ok("BEGIN");
	ck_assert_int_eq(rdb_prepare(db, "INSERT INTO t VALUES (?1, ?2)", -1,
				     &st, NULL), RDB_OK);
	for (i = 0; i < n; i++) {
		text_of(i, buf);
		ck_assert_int_eq(rdb_bind_int64(st, 1, i), RDB_OK);
		ck_assert_int_eq(rdb_bind_text(st, 2, buf, -1), RDB_OK);
		ck_assert_int_eq(rdb_step(st), RDB_DONE);
		ck_assert_int_eq(rdb_reset(st), RDB_OK);
	}
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	ok("COMMIT");
	check_texts("SELECT id, s FROM t", n, 0);
	check_texts("SELECT id, s FROM t ORDER BY id DESC", n, 1);
	check_texts("SELECT id, s FROM t WHERE id BETWEEN 0 AND 399", n, 0);
	ok("BEGIN");
	check_texts("SELECT id, s FROM t", n, 0);
	check_texts("SELECT id, s FROM t ORDER BY id DESC", n, 1);
	ok("COMMIT");
}
END_TEST

START_TEST(test_sql_close_with_open_statement_is_misuse)
{
	rdb_stmt *st;

	ck_assert_int_eq(rdb_prepare(db, "SELECT 1", -1, &st, NULL), RDB_OK);
	ck_assert_int_eq(rdb_close(db), RDB_MISUSE);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	ck_assert_int_eq(rdb_finalize(NULL), RDB_OK);
	ck_assert_int_eq(rdb_step(NULL), RDB_MISUSE);
}
END_TEST

START_TEST(test_sql_schema_change_recompiles_statement)
{
	rdb_stmt *st;

	ok("CREATE TABLE t(a INTEGER)");
	ok("INSERT INTO t VALUES (1)");
	ck_assert_int_eq(rdb_prepare(db, "SELECT * FROM t", -1, &st, NULL),
			 RDB_OK);
	ok("DROP TABLE t; CREATE TABLE t(a INTEGER, b INTEGER);"
	   " INSERT INTO t VALUES (5, 6)");
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_column_count(st), 2);
	ck_assert_int_eq(rdb_column_int64(st, 1), 6);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}
END_TEST

START_TEST(test_sql_stats_and_page_pragmas_agree)
{
	rdb_stats st;
	char want[64];

	ok("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)");
	ok("INSERT INTO t VALUES (1, 'x')");
	ck_assert_int_eq(rdb_stats_get(db, &st), RDB_OK);
	ck_assert_uint_eq(st.page_size, 4096);
	ck_assert_uint_ge(st.commits, 2);
	ck_assert_uint_gt(st.cache_hits + st.cache_misses, 0);
	snprintf(want, sizeof(want), "%u", st.page_count);
	QEQ("PRAGMA page_count", want);
	snprintf(want, sizeof(want), "%u", st.free_pages);
	QEQ("PRAGMA freelist_count", want);
	ck_assert_int_eq(rdb_stats_get(NULL, &st), RDB_MISUSE);
}
END_TEST

/* PRAGMA cache_size = N (pages) or -N (KiB): the pool takes it when the
 * statement's transaction ends (inside BEGIN: at COMMIT); reads give the
 * size asked for; queries are right through a tiny pool. */
START_TEST(test_sql_cache_size_pragma_resizes_pool)
{
	rdb_stats st;
	int i;

	ok("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)");
	ok("BEGIN");
	for (i = 0; i < 3000; i++) {
		char sql[96];

		snprintf(sql, sizeof(sql), "INSERT INTO t VALUES(%d, "
			 "printf('%%0200d', %d))", i, i);
		ok(sql);
	}
	ok("COMMIT");
	ok("PRAGMA cache_size = 100");
	QEQ("PRAGMA cache_size", "100");
	ck_assert_int_eq(rdb_stats_get(db, &st), RDB_OK);
	ck_assert_uint_eq(st.cache_pages, 100);
	ok("PRAGMA cache_size = -1024");
	QEQ("PRAGMA cache_size", "256");
	ok("BEGIN");
	ok("PRAGMA cache_size = 16");
	QEQ("PRAGMA cache_size", "16");
	ck_assert_int_eq(rdb_stats_get(db, &st), RDB_OK);
	ck_assert_uint_eq(st.cache_pages, 256);
	ok("UPDATE t SET b = b || 'x' WHERE a % 2 = 0");
	ok("COMMIT");
	ck_assert_int_eq(rdb_stats_get(db, &st), RDB_OK);
	ck_assert_uint_eq(st.cache_pages, 16);
	QEQ("SELECT count(*), sum(length(b)), sum(a) FROM t",
	    "3000|601500|4498500");
	QEQ("PRAGMA integrity_check", "ok");
	ck_assert_int_eq(rdb_exec(db, "PRAGMA cache_size = many", NULL, NULL,
				  NULL), RDB_ERROR);
	ok("PRAGMA cache_size = 0");
	QEQ("PRAGMA cache_size", "16");
}
END_TEST

/* A one-row INSERT inside BEGIN runs without a statement savepoint: a
 * constraint failure leaves the transaction usable; an allocation failure
 * at any point leaves it to be rolled back, after which the database is
 * as before BEGIN.  A multi-row INSERT keeps its savepoint. */
START_TEST(test_sql_one_row_insert_in_transaction_fails_cleanly)
{
	rdb_stmt *st;
	long n;
	int rc, fired, runs = 0;
	char sql[96];

	ok("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT UNIQUE, "
	   "c INT CHECK (c > 0))");
	ok("INSERT INTO t VALUES(1, 'x', 1)");
	ok("BEGIN");
	fails("INSERT INTO t VALUES(2, 'x', 1)", RDB_CONSTRAINT);
	fails("INSERT INTO t VALUES(2, 'y', 0)", RDB_CONSTRAINT);
	fails("INSERT INTO t VALUES(1, 'y', 1)", RDB_CONSTRAINT);
	ok("INSERT INTO t VALUES(2, 'y', 2)");
	fails("INSERT INTO t VALUES(3, 'z', 3), (4, 'y', 4)", RDB_CONSTRAINT);
	ok("COMMIT");
	QEQ("SELECT a, b, c FROM t ORDER BY a", "1|x|1\n2|y|2");
	for (n = 1;; n++) {
		ok("BEGIN");
		ok("INSERT INTO t VALUES(10, 'in txn', 10)");
		snprintf(sql, sizeof(sql), "INSERT INTO t VALUES(%ld, "
			 "printf('%%0300d', %ld), 5)", 100 + n, n);
		ck_assert_int_eq(rdb_prepare(db, sql, -1, &st, NULL), RDB_OK);
		rdb_mem_fail_at(n, 0);
		rc = rdb_step(st);
		fired = rdb_mem_failed();
		rdb_mem_fail_at(0, 0);
		rdb_finalize(st);
		ck_assert_msg(rc == RDB_DONE || rc == RDB_NOMEM, "allocation "
			      "%ld: rc %d '%s'", n, rc, rdb_errmsg(db));
		if (rc == RDB_NOMEM)
			fails("INSERT INTO t VALUES(11, 'w', 1)", RDB_ERROR);
		ok("ROLLBACK");
		QEQ("SELECT a, b, c FROM t ORDER BY a", "1|x|1\n2|y|2");
		QEQ("PRAGMA integrity_check", "ok");
		runs++;
		if (!fired)
			break;
	}
	ck_assert_int_gt(runs, 3);
}
END_TEST

START_TEST(test_sql_memory_database_works)
{
	rdb *m;
	rdb_open_opts o = { .flags = RDB_OPEN_MEMORY };
	char *msg = NULL;

	ck_assert_int_eq(rdb_open_v2(NULL, &m, &o), RDB_OK);
	ck_assert_int_eq(rdb_exec(m, "CREATE TABLE t(a INTEGER);"
				  "INSERT INTO t VALUES (1)", NULL, NULL, &msg),
			 RDB_OK);
	ck_assert_int_eq(rdb_close(m), RDB_OK);
}
END_TEST

/* ---- errors ------------------------------------------------------------------- */

START_TEST(test_sql_errors_name_the_problem)
{
	ok("CREATE TABLE t(a INTEGER)");
	ck_assert_str_eq(fails("SELECT * FORM t", RDB_ERROR),
			 "near \"FORM\": syntax error at 1:10");
	ck_assert_str_eq(fails("SELECT b FROM t", RDB_ERROR),
			 "no such column: b");
	ck_assert_str_eq(fails("SELECT x()", RDB_ERROR),
			 "no such function: x");
	fails("INSERT INTO rdb_tables VALUES ('x','table',0,'',0)", RDB_ERROR);
	fails("CREATE TABLE u(a NOSUCHTYPE)", RDB_ERROR);
	fails("CREATE TABLE u(a INTEGER, a TEXT)", RDB_ERROR);
	fails("SELECT count(*) FROM t WHERE count(*) > 1", RDB_ERROR);
}
END_TEST

Suite *sql_suite(void)
{
	Suite *s = suite_create("sql");
	TCase *tc;

	tc = tcase_create("ddl");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sql_create_insert_select_roundtrip);
	tcase_add_test(tc, test_sql_catalog_lists_tables_and_columns);
	tcase_add_test(tc, test_sql_create_if_not_exists_and_drop_if_exists);
	tcase_add_test(tc, test_sql_index_created_on_filled_table_is_used);
	suite_add_tcase(s, tc);

	tc = tcase_create("dml");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sql_update_changes_key_and_values);
	tcase_add_test(tc, test_sql_insert_or_replace_and_ignore);
	tcase_add_test(tc, test_sql_insert_with_columns_uses_defaults);
	tcase_add_test(tc, test_sql_insert_select_copies_rows);
	tcase_add_test(tc, test_sql_failed_multirow_insert_leaves_nothing);
	tcase_add_test(tc, test_sql_strict_types_reject_lossy_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("select");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sql_group_by_having_order_limit);
	tcase_add_test(tc, test_sql_distinct_and_expressions);
	tcase_add_test(tc, test_sql_join_subquery_compound);
	suite_add_tcase(s, tc);

	tc = tcase_create("plan");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sql_plan_uses_key_bounds_and_skips_sort);
	tcase_add_test(tc, test_sql_covering_index_gives_stored_values);
	tcase_add_test(tc,
		test_sql_rowid_key_bounds_give_what_the_comparison_gives);
	suite_add_tcase(s, tc);

	tc = tcase_create("txn");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sql_rollback_discards_commit_keeps);
	tcase_add_test(tc, test_sql_data_survives_reopen);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sql_prepared_statement_binds_and_resets);
	tcase_add_test(tc, test_sql_close_with_open_statement_is_misuse);
	tcase_add_test(tc,
		test_sql_column_text_is_whole_and_terminated_on_every_row);
	tcase_add_test(tc, test_sql_schema_change_recompiles_statement);
	tcase_add_test(tc, test_sql_memory_database_works);
	tcase_add_test(tc, test_sql_stats_and_page_pragmas_agree);
	tcase_add_test(tc, test_sql_cache_size_pragma_resizes_pool);
	tcase_add_test(tc, test_sql_one_row_insert_in_transaction_fails_cleanly);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sql_errors_name_the_problem);
	suite_add_tcase(s, tc);
	return s;
}
