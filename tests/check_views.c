/*
 * check_views.c -- views, triggers and REINDEX through the public API
 * (include/rdb.h): views in FROM (joins, aggregates, views of views,
 * column lists), their catalog rows and errors ("view"); triggers stored
 * and dropped with their table, fired per row (timings, events, WHEN,
 * NEW/OLD, UPDATE OF, RAISE, cascades without recursion, a failure undoing
 * the statement) ("trigger"); REINDEX ("reindex").  Design:
 * src/sql/README.md ("Views and triggers").
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rdb.h"
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

/* Run sql expecting an error whose message contains want. */
static void fails(const char *sql, const char *want)
{
	int rc = rdb_exec(db, sql, NULL, NULL, NULL);

	ck_assert_msg(rc == RDB_ERROR, "%s: got %d, want an error", sql, rc);
	ck_assert_msg(strstr(rdb_errmsg(db), want) != NULL, "%s: message "
		      "'%s' lacks '%s'", sql, rdb_errmsg(db), want);
}

static const char *q(const char *sql)
{
	return su_query(db, sql);
}

static void people(void)
{
	ok("CREATE TABLE p(id INTEGER PRIMARY KEY, name TEXT, dept TEXT);"
	   "INSERT INTO p VALUES(1,'ann','eng'),(2,'bob','eng'),"
	   "(3,'cy','ops'),(4,'di',NULL);"
	   "CREATE TABLE d(dept TEXT PRIMARY KEY, floor INTEGER);"
	   "INSERT INTO d VALUES('eng',3),('ops',1)");
}

/* ---- view ----------------------------------------------------------------- */

START_TEST(test_views_select_join_aggregate_match_the_query)
{
	people();
	ok("CREATE VIEW eng AS SELECT id, name FROM p WHERE dept = 'eng'");
	ck_assert_str_eq(q("SELECT name FROM eng ORDER BY id"), "ann\nbob");
	ck_assert_str_eq(q("SELECT e.name, d.floor FROM eng AS e JOIN p "
			   "USING (id) JOIN d ON d.dept = p.dept "
			   "ORDER BY e.name DESC"), "bob|3\nann|3");
	ok("CREATE VIEW per_dept(dept, n) AS SELECT dept, count(*) FROM p "
	   "GROUP BY dept");
	ck_assert_str_eq(q("SELECT * FROM per_dept ORDER BY dept"),
			 "NULL|1\neng|2\nops|1");
	ck_assert_str_eq(q("SELECT sum(n), max(dept) FROM per_dept"),
			 "4|ops");
	/* A view of views, and a view in a subquery. */
	ok("CREATE VIEW big AS SELECT dept FROM per_dept WHERE n > 1 "
	   "UNION SELECT 'x' FROM eng WHERE id = 1");
	ck_assert_str_eq(q("SELECT * FROM big ORDER BY 1"), "eng\nx");
	ck_assert_str_eq(q("SELECT name FROM p WHERE dept IN (SELECT dept "
			   "FROM big) ORDER BY 1"), "ann\nbob");
	/* A view sees the rows as they are when it is read. */
	ok("INSERT INTO p VALUES(5,'ed','eng')");
	ck_assert_str_eq(q("SELECT n FROM per_dept WHERE dept = 'eng'"), "3");
}
END_TEST

START_TEST(test_views_stored_in_catalog_and_survive_reopen)
{
	people();
	ok("CREATE VIEW v AS SELECT name FROM p WHERE id < 3");
	ck_assert_str_eq(q("SELECT type, root, sql FROM rdb_tables "
			   "WHERE name = 'v'"), "view|0|CREATE VIEW v AS "
			 "SELECT name FROM p WHERE id < 3");
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	ck_assert_int_eq(rdb_open(path, &db), RDB_OK);
	ck_assert_str_eq(q("SELECT * FROM v ORDER BY 1"), "ann\nbob");
	ok("DROP VIEW v");
	ck_assert_str_eq(q("SELECT count(*) FROM rdb_tables WHERE "
			   "name = 'v'"), "0");
	fails("SELECT * FROM v", "no such table: v");
	/* Rolled back, a view leaves nothing. */
	ok("BEGIN; CREATE VIEW w AS SELECT 1; ROLLBACK");
	fails("SELECT * FROM w", "no such table: w");
}
END_TEST

START_TEST(test_views_errors_are_clear)
{
	people();
	ok("CREATE VIEW v AS SELECT id FROM p");
	fails("CREATE VIEW v AS SELECT 1", "already a view named 'v'");
	ok("CREATE VIEW IF NOT EXISTS v AS SELECT nonsense FROM nowhere");
	fails("CREATE TABLE v(a)", "already a view named 'v'");
	fails("CREATE VIEW p AS SELECT 1", "already a table named 'p'");
	fails("CREATE VIEW rdb_v AS SELECT 1", "reserved");
	fails("CREATE VIEW x AS SELECT * FROM nope", "no such table: nope");
	fails("CREATE VIEW x AS SELECT nope FROM p", "no such column: nope");
	fails("CREATE VIEW x(a, b) AS SELECT 1", "expected 2 columns");
	fails("CREATE VIEW x AS SELECT ?", "parameters");
	fails("INSERT INTO v VALUES(9)", "cannot modify v because it is a "
	      "view");
	fails("UPDATE v SET id = 2", "it is a view");
	fails("DELETE FROM v", "it is a view");
	fails("DROP VIEW p", "no such view: p");
	fails("DROP TABLE v", "no such table: v");
	ok("DROP VIEW IF EXISTS gone");
	/* Its table dropped, a view fails when used, not before. */
	ok("DROP TABLE p");
	fails("SELECT * FROM v", "no such table: p");
	ok("DROP VIEW v");
}
END_TEST

/* ---- trigger -------------------------------------------------------------- */

START_TEST(test_views_triggers_stored_and_dropped_with_their_table)
{
	people();
	ok("CREATE VIEW v AS SELECT * FROM p");
	ok("CREATE TRIGGER t1 AFTER INSERT ON p BEGIN SELECT 1; END;"
	   "CREATE TRIGGER t2 UPDATE OF name ON p WHEN new.id > 1 "
	   "BEGIN DELETE FROM d; END;"
	   "CREATE TRIGGER t3 INSTEAD OF DELETE ON v BEGIN SELECT 1; END;"
	   "CREATE TRIGGER t4 DELETE ON d BEGIN SELECT 1; END");
	ck_assert_str_eq(q("SELECT name, table_name FROM rdb_triggers"),
			 "t1|p\nt2|p\nt3|v\nt4|d");
	ck_assert_str_eq(q("SELECT sql FROM rdb_triggers WHERE name='t1'"),
			 "CREATE TRIGGER t1 AFTER INSERT ON p BEGIN SELECT 1; "
			 "END");
	fails("CREATE TRIGGER t1 DELETE ON p BEGIN SELECT 1; END",
	      "already a trigger named 't1'");
	ok("CREATE TRIGGER IF NOT EXISTS t1 DELETE ON p BEGIN SELECT 1; END");
	ok("CREATE TABLE t2(a); DROP TABLE t2");   /* a namespace apart */
	fails("CREATE TRIGGER x DELETE ON nope BEGIN SELECT 1; END",
	      "no such table: 'nope'");
	fails("CREATE TRIGGER x BEFORE DELETE ON v BEGIN SELECT 1; END",
	      "cannot create BEFORE trigger on view: v");
	fails("CREATE TRIGGER x INSTEAD OF DELETE ON p BEGIN SELECT 1; END",
	      "cannot create INSTEAD OF trigger on table: p");
	fails("CREATE TRIGGER x DELETE ON rdb_tables BEGIN SELECT 1; END",
	      "system table");
	ok("DROP VIEW v");
	ok("DROP TABLE p");
	ck_assert_str_eq(q("SELECT name FROM rdb_triggers"), "t4");
	ok("DROP TRIGGER t4");
	fails("DROP TRIGGER t4", "no such trigger: t4");
	ok("DROP TRIGGER IF EXISTS t4");
	fails("INSERT INTO rdb_triggers VALUES('a','b','c')", "system table");
}
END_TEST

static void logged(void)
{
	ok("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT);"
	   "CREATE TABLE log(n INTEGER PRIMARY KEY, msg TEXT)");
}

START_TEST(test_views_triggers_fire_per_row_with_new_and_old)
{
	logged();
	ok("CREATE TRIGGER bi BEFORE INSERT ON t BEGIN "
	   "INSERT INTO log(msg) VALUES('bi ' || new.a || new.b); END;"
	   "CREATE TRIGGER ai AFTER INSERT ON t WHEN new.a > 1 BEGIN "
	   "INSERT INTO log(msg) VALUES('ai ' || new.a); END;"
	   "CREATE TRIGGER bu BEFORE UPDATE ON t BEGIN "
	   "INSERT INTO log(msg) VALUES('bu ' || old.b || '>' || new.b); END;"
	   "CREATE TRIGGER au AFTER UPDATE OF a ON t BEGIN "
	   "INSERT INTO log(msg) VALUES('au ' || old.a || '>' || new.a); END;"
	   "CREATE TRIGGER bd BEFORE DELETE ON t BEGIN "
	   "INSERT INTO log(msg) SELECT 'bd ' || old.a; END;"
	   "CREATE TRIGGER ad AFTER DELETE ON t BEGIN "
	   "INSERT INTO log(msg) SELECT 'ad ' || count(*) FROM t; END");
	ok("INSERT INTO t VALUES(1,'x'),(2,'y')");
	ok("UPDATE t SET b = b || '!' WHERE a = 2");
	ok("UPDATE t SET a = a + 10 WHERE a = 1");
	ok("DELETE FROM t WHERE a = 11");
	ck_assert_str_eq(q("SELECT msg FROM log ORDER BY n"),
			 "bi 1x\nbi 2y\nai 2\nbu y>y!\nbu x>x\n"
			 "au 1>11\nbd 11\nad 1");
	/* changes() counts the statement's own rows only. */
	ck_assert_int_eq(rdb_changes(db), 1);
	/* A SELECT body runs and its rows are dropped. */
	ok("CREATE TRIGGER s AFTER INSERT ON log BEGIN SELECT * FROM t; END;"
	   "INSERT INTO log(msg) VALUES('s')");
}
END_TEST

START_TEST(test_views_trigger_cascades_never_recurse)
{
	ok("CREATE TABLE a(x INTEGER); CREATE TABLE b(y INTEGER);"
	   "CREATE TABLE c(z INTEGER);"
	   "CREATE TRIGGER ta AFTER INSERT ON a BEGIN "
	   "INSERT INTO b VALUES(new.x * 10); INSERT INTO a VALUES(-new.x);"
	   "END;"
	   "CREATE TRIGGER tb AFTER INSERT ON b BEGIN "
	   "INSERT INTO c VALUES(new.y + 1); INSERT INTO a VALUES(new.y); END;"
	   "CREATE TRIGGER tc BEFORE INSERT ON c BEGIN "
	   "UPDATE b SET y = y + 100 WHERE y = new.z - 1; END;"
	   "INSERT INTO a VALUES(1)");
	/* Checked with SQLite (recursive_triggers off). */
	ck_assert_str_eq(q("SELECT x FROM a ORDER BY x"), "-1\n1\n10");
	ck_assert_str_eq(q("SELECT y FROM b"), "110");
	ck_assert_str_eq(q("SELECT z FROM c"), "11");
	/* A BEFORE DELETE trigger deleting the next row: rows already gone
	 * are skipped. */
	ok("CREATE TABLE d(k INTEGER PRIMARY KEY);"
	   "INSERT INTO d VALUES(1),(2),(3),(4);"
	   "CREATE TRIGGER td BEFORE DELETE ON d BEGIN "
	   "DELETE FROM d WHERE k = old.k + 1; END; DELETE FROM d");
	ck_assert_str_eq(q("SELECT count(*) FROM d"), "0");
}
END_TEST

START_TEST(test_views_raise_and_failures_undo_the_statement)
{
	logged();
	ok("INSERT INTO t VALUES(1,'x');"
	   "CREATE TRIGGER neg BEFORE INSERT ON t WHEN new.a < 0 BEGIN "
	   "SELECT RAISE(ABORT, 'negative key'); END;"
	   "CREATE TRIGGER big BEFORE INSERT ON t WHEN new.a > 100 BEGIN "
	   "SELECT RAISE(IGNORE); END;"
	   "CREATE TRIGGER lg AFTER INSERT ON t BEGIN "
	   "INSERT INTO log VALUES(new.a, new.b); END");
	ck_assert_int_eq(rdb_exec(db, "INSERT INTO t VALUES(5,'a'),(-1,'b')",
				  NULL, NULL, NULL), RDB_CONSTRAINT);
	ck_assert_str_eq(rdb_errmsg(db), "negative key");
	ck_assert_str_eq(q("SELECT count(*) FROM t"), "1");
	ck_assert_str_eq(q("SELECT count(*) FROM log"), "0");
	/* IGNORE skips the row, the statement goes on. */
	ok("INSERT INTO t VALUES(6,'a'),(200,'b'),(7,'c')");
	ck_assert_str_eq(q("SELECT a FROM t ORDER BY a"), "1\n6\n7");
	ck_assert_str_eq(q("SELECT n FROM log ORDER BY n"), "6\n7");
	/* A failing body (a constraint in the log) undoes the whole
	 * statement, inside a transaction too. */
	ok("BEGIN; INSERT INTO t VALUES(8,'d')");
	ck_assert_int_eq(rdb_exec(db, "INSERT INTO t VALUES(9,'e'),(10,'f');"
				  "", NULL, NULL, NULL), RDB_OK);
	ck_assert_int_eq(rdb_exec(db, "UPDATE log SET n = 100 WHERE n = 9;"
				  "INSERT INTO t VALUES(11,'g'),(100,'h')",
				  NULL, NULL, NULL), RDB_CONSTRAINT);
	ok("COMMIT");
	ck_assert_str_eq(q("SELECT a FROM t ORDER BY a"),
			 "1\n6\n7\n8\n9\n10");
	ck_assert_str_eq(q("SELECT n FROM log ORDER BY n"),
			 "6\n7\n8\n10\n100");
	/* RAISE outside a trigger, NEW in a DELETE trigger. */
	fails("SELECT RAISE(IGNORE)", "trigger-program");
	ok("CREATE TRIGGER bad AFTER DELETE ON log BEGIN SELECT new.n; END");
	fails("DELETE FROM log", "no such column: new.n");
	ok("DROP TRIGGER bad; DELETE FROM log");
}
END_TEST

START_TEST(test_views_update_of_fires_only_for_its_columns)
{
	logged();
	ok("INSERT INTO t VALUES(1,'x');"
	   "CREATE TRIGGER ub AFTER UPDATE OF b ON t BEGIN "
	   "INSERT INTO log(msg) VALUES(new.b); END");
	ok("UPDATE t SET a = 2");
	ck_assert_str_eq(q("SELECT count(*) FROM log"), "0");
	ok("UPDATE t SET a = 3, b = 'y'");
	ck_assert_str_eq(q("SELECT msg FROM log"), "y");
	/* A new trigger reaches statements prepared before it. */
	{
		rdb_stmt *st = NULL;

		ck_assert_int_eq(rdb_prepare(db, "UPDATE t SET a = a + 1", -1,
					     &st, NULL), RDB_OK);
		ok("CREATE TRIGGER ua AFTER UPDATE OF a ON t BEGIN "
		   "INSERT INTO log(msg) VALUES('a'); END");
		ck_assert_int_eq(rdb_step(st), RDB_DONE);
		ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	}
	ck_assert_str_eq(q("SELECT msg FROM log ORDER BY n"), "y\na");
}
END_TEST

/* ---- reindex -------------------------------------------------------------- */

START_TEST(test_views_reindex_rebuilds_indexes)
{
	char sql[128];
	int i;

	people();
	ok("CREATE INDEX p_name ON p(name); CREATE UNIQUE INDEX d_fl ON "
	   "d(floor)");
	for (i = 10; i < 400; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO p VALUES(%d,'n%d',"
			 "'eng')", i, i % 37);
		ok(sql);
	}
	ok("REINDEX p_name");
	ok("REINDEX p");
	ok("REINDEX");
	ok("BEGIN; REINDEX; ROLLBACK");
	ck_assert_str_eq(q("SELECT count(*) FROM p WHERE name = 'n5'"),
			 "10");
	ck_assert_str_eq(q("SELECT dept FROM d WHERE floor = 1"), "ops");
	ck_assert_str_eq(q("PRAGMA integrity_check"), "ok");
	fails("REINDEX gone", "unable to identify");
	ck_assert_int_eq(rdb_exec(db, "INSERT INTO d VALUES('hr', 3)", NULL,
				  NULL, NULL), RDB_CONSTRAINT);
}
END_TEST

Suite *views_suite(void)
{
	Suite *s = suite_create("views");
	TCase *tc;

	tc = tcase_create("view");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_views_select_join_aggregate_match_the_query);
	tcase_add_test(tc, test_views_stored_in_catalog_and_survive_reopen);
	tcase_add_test(tc, test_views_errors_are_clear);
	suite_add_tcase(s, tc);
	tc = tcase_create("trigger");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_views_triggers_stored_and_dropped_with_their_table);
	tcase_add_test(tc, test_views_triggers_fire_per_row_with_new_and_old);
	tcase_add_test(tc, test_views_trigger_cascades_never_recurse);
	tcase_add_test(tc, test_views_raise_and_failures_undo_the_statement);
	tcase_add_test(tc, test_views_update_of_fires_only_for_its_columns);
	suite_add_tcase(s, tc);
	tc = tcase_create("reindex");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_views_reindex_rebuilds_indexes);
	suite_add_tcase(s, tc);
	return s;
}
