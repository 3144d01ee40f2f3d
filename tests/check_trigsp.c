/*
 * check_trigsp.c -- INSTEAD OF triggers on views and SQL savepoints
 * through the public API (include/rdb.h): writes to a view run its INSTEAD
 * OF triggers per row, with NEW/OLD, WHEN, UPDATE OF, RAISE, nesting and
 * SQLite's change counts ("instead"); SAVEPOINT / RELEASE / ROLLBACK TO
 * with SQLite's stack rules, transactions they begin, the schema cache
 * and KV calls ("savepoint"); a randomized model test of both against
 * libsqlite3 ("model"); an allocation failure at every allocation of a
 * savepoint workload ("nomem") and an I/O error or crash at every file
 * system call of it, through the sql layer over the os_mem file system
 * ("ioerr").  Design: src/sql/README.md ("Views and triggers",
 * "Savepoints").
 *
 * Replay: RDB_TEST_SEED=<seed> reruns the randomized test.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rdb.h"
#include "mem.h"
#include "pager/os.h"
#include "pager/pager.h"
#include "sql/sql.h"
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

static const char *q(const char *sql)
{
	return su_query(db, sql);
}

/* Run sql expecting error code want_rc with a message containing want. */
static void fails_rc(const char *sql, int want_rc, const char *want)
{
	int rc = rdb_exec(db, sql, NULL, NULL, NULL);

	ck_assert_msg(rc == want_rc, "%s: got %d, want %d", sql, rc, want_rc);
	ck_assert_msg(strstr(rdb_errmsg(db), want) != NULL, "%s: message "
		      "'%s' lacks '%s'", sql, rdb_errmsg(db), want);
}

static void fails(const char *sql, const char *want)
{
	fails_rc(sql, RDB_ERROR, want);
}

/* t(k, v), a log, and the view w over t with a computed column. */
static void base(void)
{
	ok("CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT);"
	   "INSERT INTO t VALUES(1,'a'),(2,'b'),(3,'c');"
	   "CREATE TABLE log(n INTEGER PRIMARY KEY, m TEXT);"
	   "CREATE VIEW w(key, val, up) AS SELECT k, v, upper(v) FROM t");
}

/* The keys of t, in order. */
static const char *tk(void)
{
	return q("SELECT group_concat(k) FROM (SELECT k FROM t ORDER BY k)");
}

/* ---- instead --------------------------------------------------------------- */

START_TEST(test_trigsp_view_write_without_instead_of_is_an_error)
{
	base();
	fails("INSERT INTO w VALUES(9,'z','Z')",
	      "cannot modify w because it is a view");
	fails("UPDATE w SET val = 'q'", "cannot modify w because it is a view");
	fails("DELETE FROM w WHERE key = 1",
	      "cannot modify w because it is a view");
	/* A trigger for another event, or UPDATE OF other columns, is not
	 * enough; and the missing trigger is reported before the column. */
	ok("CREATE TRIGGER wu INSTEAD OF UPDATE OF up ON w BEGIN "
	   "SELECT 1; END");
	fails("UPDATE w SET val = 'q'", "cannot modify w because it is a view");
	fails("UPDATE w SET nosuch = 1", "cannot modify w because it is a view");
	fails("DELETE FROM w", "cannot modify w because it is a view");
	fails("UPDATE w SET up = 1, nosuch = 2", "no such column: nosuch");
	ck_assert_str_eq(q("SELECT count(*) FROM t"), "3");
}
END_TEST

START_TEST(test_trigsp_instead_insert_fires_per_row_with_new)
{
	base();
	ok("CREATE TRIGGER wi INSTEAD OF INSERT ON w BEGIN "
	   "INSERT INTO t VALUES(new.key, new.val);"
	   "INSERT INTO log(m) VALUES('i ' || ifnull(new.key, '-') || ' ' || "
	   "ifnull(new.val, '-') || ' ' || ifnull(new.up, '-')); END");
	ok("INSERT INTO w VALUES(10,'x','X'),(11,'y','?')");
	ok("INSERT INTO w(val, key) VALUES('p', 12)");
	ok("INSERT INTO w(key) SELECT k + 20 FROM t WHERE k < 3");
	ok("INSERT INTO w DEFAULT VALUES");
	ck_assert_str_eq(q("SELECT m FROM log ORDER BY n"),
			 "i 10 x X\ni 11 y ?\ni 12 p -\ni 21 - -\ni 22 - -\n"
			 "i - - -");
	/* The NULL key of DEFAULT VALUES became a new rowid. */
	ck_assert_str_eq(q("SELECT count(*), max(k) FROM t"), "9|23");
	ck_assert_str_eq(q("SELECT key, val, up FROM w WHERE key = 11"),
			 "11|y|Y");
	fails("INSERT INTO w VALUES(1, 2)",
	      "table w has 3 columns but 2 values were supplied");
	fails("INSERT INTO w(key, val) VALUES(1)", "1 values for 2 columns");
	fails("INSERT INTO w(nosuch) VALUES(1)",
	      "table w has no column named nosuch");
}
END_TEST

START_TEST(test_trigsp_instead_update_and_delete_see_view_rows)
{
	base();
	ok("CREATE TRIGGER wu INSTEAD OF UPDATE ON w BEGIN "
	   "INSERT INTO log(m) VALUES(old.key || old.val || old.up || '>' || "
	   "new.key || new.val || new.up);"
	   "UPDATE t SET v = new.val WHERE k = old.key; END");
	ok("CREATE TRIGGER wd INSTEAD OF DELETE ON w BEGIN "
	   "INSERT INTO log(m) VALUES('d' || old.key || old.up);"
	   "DELETE FROM t WHERE k = old.key; END");
	ok("UPDATE w SET val = val || val, key = key * 10 WHERE up > 'A'");
	ck_assert_str_eq(q("SELECT m FROM log ORDER BY n"),
			 "2bB>20bbB\n3cC>30ccC");
	ck_assert_str_eq(q("SELECT * FROM t ORDER BY k"), "1|a\n2|bb\n3|cc");
	ok("DELETE FROM log");
	/* Rows are chosen before the first trigger runs. */
	ok("DELETE FROM w WHERE key >= 2");
	ck_assert_str_eq(q("SELECT m FROM log ORDER BY n"), "d2BB\nd3CC");
	ck_assert_str_eq(q("SELECT * FROM w"), "1|a|A");
	ok("DELETE FROM w AS x WHERE x.key = 5");
	ck_assert_str_eq(q("SELECT count(*) FROM log"), "2");
	fails("UPDATE w SET nosuch = 1", "no such column: nosuch");
}
END_TEST

START_TEST(test_trigsp_instead_when_update_of_and_raise)
{
	base();
	ok("CREATE TRIGGER wu INSTEAD OF UPDATE OF val ON w "
	   "WHEN new.val <> 'skip' BEGIN "
	   "UPDATE t SET v = new.val WHERE k = old.key; END");
	ok("UPDATE w SET val = 'skip'");
	ck_assert_str_eq(q("SELECT group_concat(v) FROM t"), "a,b,c");
	ok("UPDATE w SET val = 'n', up = 1 WHERE key = 1");
	ck_assert_str_eq(q("SELECT v FROM t WHERE k = 1"), "n");
	fails("UPDATE w SET up = 1", "cannot modify w because it is a view");
	/* RAISE(IGNORE) skips the rest of this row's triggers. */
	ok("CREATE TRIGGER wd1 INSTEAD OF DELETE ON w BEGIN "
	   "SELECT RAISE(IGNORE) WHERE old.key = 2;"
	   "DELETE FROM t WHERE k = old.key; END");
	ok("DELETE FROM w");
	ck_assert_str_eq(q("SELECT k FROM t"), "2");
	/* RAISE(ABORT) undoes the whole statement, not the transaction. */
	ok("INSERT INTO t VALUES(5,'e'),(6,'f')");
	ok("CREATE TRIGGER wd2 INSTEAD OF DELETE ON w WHEN old.key = 6 BEGIN "
	   "SELECT RAISE(ABORT, 'no six'); END");
	ok("BEGIN; INSERT INTO log(m) VALUES('kept')");
	fails_rc("DELETE FROM w", RDB_CONSTRAINT, "no six");
	ck_assert_int_eq(rdb_get_autocommit(db), 0);
	ok("COMMIT");
	ck_assert_str_eq(q("SELECT k FROM t ORDER BY k"), "2\n5\n6");
	ck_assert_str_eq(q("SELECT m FROM log"), "kept");
}
END_TEST

START_TEST(test_trigsp_instead_nests_with_table_triggers)
{
	base();
	ok("CREATE TRIGGER ta AFTER INSERT ON t BEGIN "
	   "INSERT INTO log(m) VALUES('t' || new.k); END");
	/* The trigger's body writes its own view: not fired again (no
	 * recursion), and that write does nothing, as in SQLite. */
	ok("CREATE TRIGGER wi INSTEAD OF INSERT ON w BEGIN "
	   "INSERT INTO t VALUES(new.key, new.val);"
	   "INSERT INTO w VALUES(new.key + 100, 'r', 'R'); END");
	ok("CREATE TRIGGER wd INSTEAD OF DELETE ON w BEGIN "
	   "DELETE FROM t WHERE k = old.key;"
	   "INSERT INTO log(m) VALUES('wd' || old.key); END");
	/* A table trigger writing the view fires its INSTEAD OF trigger. */
	ok("CREATE TRIGGER ld AFTER DELETE ON log BEGIN "
	   "DELETE FROM w WHERE key = 1; END");
	ok("INSERT INTO w VALUES(7,'g','G')");
	ck_assert_str_eq(q("SELECT k FROM t ORDER BY k"), "1\n2\n3\n7");
	ck_assert_str_eq(q("SELECT m FROM log"), "t7");
	ok("DELETE FROM log WHERE m = 't7'");
	ck_assert_str_eq(q("SELECT k FROM t ORDER BY k"), "2\n3\n7");
	ck_assert_str_eq(q("SELECT m FROM log"), "wd1");
	/* An error deep in the chain undoes everything the statement did. */
	fails_rc("INSERT INTO w VALUES(2,'dup','DUP')", RDB_CONSTRAINT,
		 "UNIQUE");
	ck_assert_str_eq(q("SELECT count(*) FROM log"), "1");
}
END_TEST

START_TEST(test_trigsp_instead_changes_counted_as_sqlite)
{
	base();
	ok("CREATE TRIGGER wi INSTEAD OF INSERT ON w BEGIN "
	   "INSERT INTO t VALUES(new.key, new.val);"
	   "INSERT INTO log(m) VALUES(new.key); END");
	ok("INSERT INTO t VALUES(4,'d')");
	ck_assert_int_eq(rdb_changes(db), 1);
	ck_assert_int_eq(rdb_last_insert_rowid(db), 4);
	ck_assert_int_eq(rdb_total_changes(db), 4);
	/* The view's own rows are not counted; the bodies' are, in total. */
	ok("INSERT INTO w VALUES(8,'h','H'),(9,'i','I')");
	ck_assert_int_eq(rdb_changes(db), 0);
	ck_assert_int_eq(rdb_total_changes(db), 8);
	ck_assert_int_eq(rdb_last_insert_rowid(db), 4);
	ck_assert_str_eq(q("SELECT changes(), total_changes()"), "0|8");
	/* A failed statement changed nothing. */
	ok("INSERT INTO t VALUES(5,'e')");
	fails_rc("INSERT INTO t VALUES(5,'e')", RDB_CONSTRAINT, "UNIQUE");
	ck_assert_int_eq(rdb_changes(db), 0);
}
END_TEST

START_TEST(test_trigsp_instead_prepared_statement_follows_trigger_ddl)
{
	rdb_stmt *st;

	base();
	ok("CREATE TRIGGER wd INSTEAD OF DELETE ON w BEGIN "
	   "DELETE FROM t WHERE k = old.key; END");
	ck_assert_int_eq(rdb_prepare(db, "DELETE FROM w WHERE key = ?1", -1,
				     &st, NULL), RDB_OK);
	ck_assert_int_eq(rdb_bind_int64(st, 1, 1), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_DONE);
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	ok("DROP TRIGGER wd");
	ck_assert_int_eq(rdb_bind_int64(st, 1, 2), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ERROR);
	ck_assert_ptr_nonnull(strstr(rdb_errmsg(db), "cannot modify w"));
	(void)rdb_finalize(st);
	ck_assert_str_eq(q("SELECT k FROM t ORDER BY k"), "2\n3");
}
END_TEST

START_TEST(test_trigsp_raise_fail_keeps_and_rollback_ends_txn)
{
	base();
	ok("CREATE TRIGGER wd INSTEAD OF DELETE ON w BEGIN "
	   "INSERT INTO log(m) VALUES('d' || old.key);"
	   "SELECT RAISE(FAIL, 'fail at 2') WHERE old.key = 2;"
	   "DELETE FROM t WHERE k = old.key; END");
	/* FAIL keeps what the statement did before, even the failing row's
	 * earlier body statements, inside and outside a transaction. */
	fails_rc("DELETE FROM w", RDB_CONSTRAINT, "fail at 2");
	ck_assert_str_eq(tk(), "2,3");
	ck_assert_str_eq(q("SELECT group_concat(m) FROM log"), "d1,d2");
	ok("CREATE TRIGGER tf BEFORE DELETE ON t WHEN old.k = 3 BEGIN "
	   "SELECT RAISE(FAIL, 'fail at 3'); END");
	ok("INSERT INTO t VALUES(1,'a'); SAVEPOINT s");
	fails_rc("DELETE FROM t", RDB_CONSTRAINT, "fail at 3");
	ck_assert_int_eq(rdb_changes(db), 2);
	ck_assert_int_eq(rdb_get_autocommit(db), 0);
	ck_assert_str_eq(tk(), "3");
	ok("ROLLBACK TO s; RELEASE s");
	ck_assert_str_eq(tk(), "1,2,3");
	/* ROLLBACK undoes the statement and ends the transaction. */
	ok("DROP TRIGGER tf; CREATE TRIGGER tr BEFORE DELETE ON t "
	   "WHEN old.k = 3 BEGIN SELECT RAISE(ROLLBACK, 'rb at 3'); END");
	ok("BEGIN; INSERT INTO t VALUES(4,'d'); SAVEPOINT s");
	fails_rc("DELETE FROM t", RDB_CONSTRAINT, "rb at 3");
	ck_assert_int_eq(rdb_get_autocommit(db), 1);
	ck_assert_int_eq(rdb_changes(db), 0);
	fails("RELEASE s", "no such savepoint: s");
	ck_assert_str_eq(tk(), "1,2,3");
	/* In autocommit mode it is ABORT. */
	fails_rc("DELETE FROM t WHERE k > 1", RDB_CONSTRAINT, "rb at 3");
	ck_assert_str_eq(tk(), "1,2,3");
}
END_TEST

/* ---- savepoint ------------------------------------------------------------- */

START_TEST(test_trigsp_savepoint_stack_release_and_rollback_to)
{
	base();
	ok("SAVEPOINT a; INSERT INTO t VALUES(4,'d');"
	   "SAVEPOINT b; INSERT INTO t VALUES(5,'e');"
	   "SAVEPOINT A; INSERT INTO t VALUES(6,'f')");
	/* Names are case-insensitive; the most recent of a name wins. */
	ok("ROLLBACK TO a");
	ck_assert_str_eq(tk(), "1,2,3,4,5");
	/* ROLLBACK TO keeps the savepoint: it can be rolled back again. */
	ok("INSERT INTO t VALUES(7,'g'); ROLLBACK TRANSACTION TO SAVEPOINT A");
	ck_assert_str_eq(tk(), "1,2,3,4,5");
	/* RELEASE of an inner name releases everything above it. */
	ok("SAVEPOINT c; RELEASE SAVEPOINT B");
	fails("ROLLBACK TO c", "no such savepoint: c");
	fails("RELEASE b", "no such savepoint: b");
	ck_assert_int_eq(rdb_get_autocommit(db), 0);
	ok("ROLLBACK TO a");
	ck_assert_str_eq(tk(), "1,2,3");
	ok("RELEASE a");
	ck_assert_int_eq(rdb_get_autocommit(db), 1);
	fails("RELEASE a", "no such savepoint: a");
	fails("ROLLBACK TO a", "no such savepoint: a");
	ck_assert_str_eq(tk(), "1,2,3");
	/* Quoted names compare as SQLite's: by their text. */
	ok("SAVEPOINT \"Odd Name\"; INSERT INTO t VALUES(8,'h');"
	   "RELEASE \"odd name\"");
	ck_assert_int_eq(rdb_get_autocommit(db), 1);
	ck_assert_str_eq(tk(), "1,2,3,8");
}
END_TEST

START_TEST(test_trigsp_savepoint_outside_txn_begins_and_release_commits)
{
	base();
	ok("SAVEPOINT outer; INSERT INTO t VALUES(4,'d')");
	ck_assert_int_eq(rdb_get_autocommit(db), 0);
	fails("BEGIN", "cannot start a transaction within a transaction");
	/* ROLLBACK TO the outermost keeps the transaction open. */
	ok("ROLLBACK TO outer");
	ck_assert_int_eq(rdb_get_autocommit(db), 0);
	ok("INSERT INTO t VALUES(5,'e'); SAVEPOINT inner;"
	   "INSERT INTO t VALUES(6,'f'); RELEASE inner");
	ck_assert_int_eq(rdb_get_autocommit(db), 0);
	ok("RELEASE outer");
	ck_assert_int_eq(rdb_get_autocommit(db), 1);
	/* Committed: it survives closing the handle. */
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	ck_assert_int_eq(rdb_open(path, &db), RDB_OK);
	ck_assert_str_eq(tk(), "1,2,3,5,6");
	/* COMMIT ends a transaction SAVEPOINT began, releasing all. */
	ok("SAVEPOINT s1; SAVEPOINT s2; DELETE FROM t WHERE k > 3; COMMIT");
	ck_assert_int_eq(rdb_get_autocommit(db), 1);
	fails("RELEASE s1", "no such savepoint: s1");
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	ck_assert_int_eq(rdb_open(path, &db), RDB_OK);
	ck_assert_str_eq(tk(), "1,2,3");
	/* ROLLBACK discards them all; so does closing the handle. */
	ok("SAVEPOINT s1; DELETE FROM t; SAVEPOINT s2; ROLLBACK");
	ck_assert_int_eq(rdb_get_autocommit(db), 1);
	fails("ROLLBACK TO s1", "no such savepoint: s1");
	ck_assert_str_eq(tk(), "1,2,3");
	ok("SAVEPOINT s1; DELETE FROM t WHERE k = 1");
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	ck_assert_int_eq(rdb_open(path, &db), RDB_OK);
	ck_assert_str_eq(tk(), "1,2,3");
}
END_TEST

START_TEST(test_trigsp_savepoint_inside_begin_needs_commit)
{
	base();
	ok("BEGIN; SAVEPOINT a; INSERT INTO t VALUES(4,'d'); RELEASE a");
	/* The outermost savepoint inside BEGIN commits nothing. */
	ck_assert_int_eq(rdb_get_autocommit(db), 0);
	ok("ROLLBACK");
	ck_assert_str_eq(tk(), "1,2,3");
	ok("BEGIN; INSERT INTO t VALUES(4,'d'); SAVEPOINT a;"
	   "INSERT INTO t VALUES(5,'e'); ROLLBACK TO a;"
	   "INSERT INTO t VALUES(6,'f'); RELEASE a; COMMIT");
	ck_assert_str_eq(tk(), "1,2,3,4,6");
	fails("SAVEPOINT x; BEGIN", "cannot start a transaction within");
	ok("ROLLBACK");
	ck_assert_int_eq(rdb_get_autocommit(db), 1);
}
END_TEST

START_TEST(test_trigsp_savepoint_failed_statement_undone_alone)
{
	base();
	ok("SAVEPOINT a; INSERT INTO t VALUES(4,'d'); SAVEPOINT b");
	fails_rc("INSERT INTO t VALUES(5,'e'),(1,'dup')", RDB_CONSTRAINT,
		 "UNIQUE");
	ok("INSERT INTO t VALUES(6,'f')");
	ck_assert_str_eq(tk(), "1,2,3,4,6");
	ok("ROLLBACK TO b");
	ck_assert_str_eq(tk(), "1,2,3,4");
	ok("RELEASE a");
	ck_assert_str_eq(tk(), "1,2,3,4");
}
END_TEST

START_TEST(test_trigsp_savepoint_rollback_to_restores_schema)
{
	rdb_stmt *st;

	base();
	ok("SAVEPOINT a; CREATE TABLE u(x); INSERT INTO u VALUES(1)");
	ck_assert_int_eq(rdb_prepare(db, "SELECT * FROM u", -1, &st, NULL),
			 RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	ok("ROLLBACK TO a");
	/* Gone from the catalog, and from the cached schema. */
	fails("SELECT * FROM u", "no such table: u");
	ck_assert_int_eq(rdb_step(st), RDB_ERROR);
	ck_assert_ptr_nonnull(strstr(rdb_errmsg(db), "no such table: u"));
	rdb_reset(st);
	ok("CREATE TABLE u(y, z); INSERT INTO u VALUES(2, 3)");
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_column_count(st), 2);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	/* A dropped table, view and trigger come back with their rows. */
	ok("CREATE TRIGGER wd INSTEAD OF DELETE ON w BEGIN "
	   "DELETE FROM t WHERE k = old.key; END");
	ok("SAVEPOINT b; DROP VIEW w; DROP TABLE t");
	fails("SELECT * FROM t", "no such table: t");
	ok("ROLLBACK TO b");
	ok("DELETE FROM w WHERE key = 2");
	ck_assert_str_eq(tk(), "1,3");
	ok("RELEASE a");
	ck_assert_str_eq(q("SELECT * FROM u"), "2|3");
}
END_TEST

START_TEST(test_trigsp_savepoint_kv_calls_join_and_roll_back)
{
	char buf[16];
	size_t n;

	ck_assert_int_eq(rdb_kv_put(db, "k1", 2, "one", 3), RDB_OK);
	/* A KV call right after SAVEPOINT belongs to its transaction. */
	ok("SAVEPOINT a");
	ck_assert_int_eq(rdb_kv_put(db, "k2", 2, "two", 3), RDB_OK);
	ok("SAVEPOINT b");
	ck_assert_int_eq(rdb_kv_delete(db, "k1", 2, NULL), RDB_OK);
	ck_assert_int_eq(rdb_kv_get(db, "k1", 2, buf, sizeof(buf), &n),
			 RDB_NOTFOUND);
	ok("ROLLBACK TO b");
	ck_assert_int_eq(rdb_kv_get(db, "k1", 2, buf, sizeof(buf), &n), RDB_OK);
	ck_assert_int_eq(rdb_kv_get(db, "k2", 2, buf, sizeof(buf), &n), RDB_OK);
	ok("ROLLBACK TO a");
	ck_assert_int_eq(rdb_kv_get(db, "k2", 2, buf, sizeof(buf), &n),
			 RDB_NOTFOUND);
	ck_assert_int_eq(rdb_kv_put(db, "k3", 2, "three", 5), RDB_OK);
	ok("RELEASE a");
	ck_assert_int_eq(rdb_get_autocommit(db), 1);
	ck_assert_int_eq(rdb_kv_get(db, "k3", 2, buf, sizeof(buf), &n), RDB_OK);
	ck_assert_int_eq((int)n, 5);
	/* The same after a deferred BEGIN with no statement yet. */
	ok("BEGIN");
	ck_assert_int_eq(rdb_kv_put(db, "k4", 2, "four", 4), RDB_OK);
	ok("ROLLBACK");
	ck_assert_int_eq(rdb_kv_get(db, "k4", 2, buf, sizeof(buf), &n),
			 RDB_NOTFOUND);
}
END_TEST

START_TEST(test_trigsp_savepoint_deferred_read_then_write)
{
	rdb_stmt *st;

	base();
	/* SAVEPOINTs taken while the transaction only read still undo the
	 * writes that come after. */
	ok("SAVEPOINT a");
	ck_assert_str_eq(tk(), "1,2,3");
	ok("SAVEPOINT b; INSERT INTO t VALUES(4,'d'); SAVEPOINT c;"
	   "INSERT INTO t VALUES(5,'e'); ROLLBACK TO c");
	ck_assert_str_eq(tk(), "1,2,3,4");
	ok("ROLLBACK TO a");
	ck_assert_str_eq(tk(), "1,2,3");
	/* A reader in progress blocks ROLLBACK TO, not RELEASE. */
	ok("INSERT INTO t VALUES(9,'i'); SAVEPOINT d");
	ck_assert_int_eq(rdb_prepare(db, "SELECT k FROM t", -1, &st, NULL),
			 RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	fails_rc("ROLLBACK TO a", RDB_BUSY, "statements in progress");
	ok("RELEASE d");
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	ok("ROLLBACK TO a; RELEASE a");
	ck_assert_str_eq(tk(), "1,2,3");
}
END_TEST

START_TEST(test_trigsp_savepoint_rollback_to_restores_row_estimates)
{
	base();
	ck_assert_str_eq(q("SELECT row_estimate FROM rdb_tables "
			   "WHERE name = 't'"), "3");
	ok("BEGIN; INSERT INTO t VALUES(4,'d'),(5,'e'); SAVEPOINT a;"
	   "INSERT INTO t SELECT k + 10, v FROM t; CREATE TABLE u(x);"
	   "INSERT INTO u VALUES(1); SAVEPOINT b; DELETE FROM t WHERE k > 10;"
	   "ROLLBACK TO a; DELETE FROM t WHERE k = 1; RELEASE a; COMMIT");
	ck_assert_str_eq(q("SELECT row_estimate, (SELECT count(*) FROM t) "
			   "FROM rdb_tables WHERE name = 't'"), "4|4");
	ok("SAVEPOINT a; INSERT INTO t VALUES(6,'f'); SAVEPOINT b;"
	   "DELETE FROM t; ROLLBACK TO b; RELEASE a");
	ck_assert_str_eq(q("SELECT row_estimate, (SELECT count(*) FROM t) "
			   "FROM rdb_tables WHERE name = 't'"), "5|5");
}
END_TEST

/* ---- model ------------------------------------------------------------------ */

/* The schema both engines start from: a table, a log, and a view whose
 * INSTEAD OF triggers write them. */
static const char *const model_schema =
	"CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT);"
	"CREATE TABLE log(n INTEGER PRIMARY KEY, m TEXT);"
	"CREATE VIEW w AS SELECT k, v FROM t;"
	"CREATE TRIGGER wi INSTEAD OF INSERT ON w BEGIN "
	"INSERT INTO t VALUES(new.k, new.v);"
	"INSERT INTO log(m) VALUES('i' || new.k); END;"
	"CREATE TRIGGER wd INSTEAD OF DELETE ON w BEGIN "
	"DELETE FROM t WHERE k = old.k;"
	"INSERT INTO log(m) VALUES('d' || old.k); END;"
	"CREATE TRIGGER wu INSTEAD OF UPDATE OF v ON w WHEN new.v <> 'skip' "
	"BEGIN UPDATE t SET v = new.v WHERE k = old.k; END;";

/* For the model test only: deleting 7 fails keeping the statement's
 * earlier rows, deleting 13 rolls the transaction back. */
static const char *const model_raise =
	"CREATE TRIGGER tf BEFORE DELETE ON t WHEN old.k = 7 BEGIN "
	"SELECT RAISE(FAIL, 'seven'); END;"
	"CREATE TRIGGER tr BEFORE DELETE ON t WHEN old.k = 13 BEGIN "
	"SELECT RAISE(ROLLBACK, 'thirteen'); END;";

typedef struct mbuf {
	char s[16384];
	size_t n;
} mbuf;

static void mb_add(mbuf *b, const char *s)
{
	size_t n = strlen(s);

	ck_assert_msg(b->n + n < sizeof(b->s), "dump too long");
	memcpy(b->s + b->n, s, n + 1);
	b->n += n;
}

static int mb_row(void *arg, int n, char **vals, char **names)
{
	mbuf *b = arg;
	int i;

	(void)names;
	for (i = 0; i < n; i++) {
		mb_add(b, i ? "|" : "");
		mb_add(b, vals[i] != NULL ? vals[i] : "NULL");
	}
	mb_add(b, "\n");
	return 0;
}

static const char *const dump_sql[] = {
	"SELECT k, v FROM t ORDER BY k", "SELECT n, m FROM log ORDER BY n",
	"SELECT x FROM u ORDER BY x"
};

/* Tables of the model as text (a missing table u as "no u"). */
static void dump_rdb(rdb *r, mbuf *b)
{
	size_t i;

	b->n = 0;
	b->s[0] = '\0';
	for (i = 0; i < sizeof(dump_sql) / sizeof(dump_sql[0]); i++) {
		mb_add(b, "--\n");
		if (rdb_exec(r, dump_sql[i], mb_row, b, NULL) != RDB_OK)
			mb_add(b, "no u\n");
	}
}

static void dump_sqlite(sqlite3 *s, mbuf *b)
{
	size_t i;

	b->n = 0;
	b->s[0] = '\0';
	for (i = 0; i < sizeof(dump_sql) / sizeof(dump_sql[0]); i++) {
		mb_add(b, "--\n");
		if (sqlite3_exec(s, dump_sql[i], mb_row, b, NULL) != SQLITE_OK)
			mb_add(b, "no u\n");
	}
}

static const char *const sp_names[] = { "a", "b", "c", "A", "d" };

/* One random statement of the model into out. */
static void model_op(uint64_t *rng, char *out, size_t cap)
{
	const char *nm = sp_names[tu_rand_below(rng, 5)];
	int k = (int)tu_rand_below(rng, 16), k2 = (int)tu_rand_below(rng, 16);
	int tag = (int)tu_rand_below(rng, 1000);

	switch (tu_rand_below(rng, 17)) {
	case 0: case 1: snprintf(out, cap, "SAVEPOINT %s", nm); break;
	case 2: snprintf(out, cap, "RELEASE %s", nm); break;
	case 3: snprintf(out, cap, "RELEASE SAVEPOINT %s", nm); break;
	case 4: snprintf(out, cap, "ROLLBACK TO %s", nm); break;
	case 5: snprintf(out, cap, "ROLLBACK TRANSACTION TO SAVEPOINT %s", nm);
		break;
	case 6:
		snprintf(out, cap, "%s", tu_rand_below(rng, 2) ? "BEGIN"
			 : tu_rand_below(rng, 2) ? "COMMIT" : "ROLLBACK");
		break;
	case 7: case 8:
		snprintf(out, cap, "INSERT INTO t VALUES(%d, 'v%d'), (%d, 'v%d')",
			 k, tag, k2 + 16, tag);
		break;
	case 9: case 10:
		snprintf(out, cap, "INSERT INTO w VALUES(%d, 'w%d')", k, tag);
		break;
	case 11:
		snprintf(out, cap, "DELETE FROM t WHERE k BETWEEN %d AND %d", k,
			 k + 3);
		break;
	case 12:
		snprintf(out, cap, "DELETE FROM w WHERE k %% 5 = %d", k % 5);
		break;
	case 13:
		snprintf(out, cap, "UPDATE w SET v = '%s' WHERE k > %d",
			 tag % 3 ? "u" : "skip", k);
		break;
	case 14:
		snprintf(out, cap, "UPDATE t SET v = v || 'x' WHERE k = %d", k);
		break;
	case 15:
		snprintf(out, cap, "%s", tu_rand_below(rng, 2)
			 ? "CREATE TABLE IF NOT EXISTS u(x INTEGER)"
			 : "DROP TABLE IF EXISTS u");
		break;
	default:
		snprintf(out, cap, "INSERT INTO u VALUES(%d)", tag);
		break;
	}
}

/* One trial: nsteps random statements on both engines, compared after
 * each. */
static void model_trial(uint64_t seed, long nsteps)
{
	rdb_open_opts o = { .flags = RDB_OPEN_MEMORY, .sync = RDB_SYNC_OFF };
	uint64_t rng = seed | 1;
	static mbuf br, bs;
	char sql[256];
	sqlite3 *s;
	rdb *r;
	long i;

	ck_assert_int_eq(rdb_open_v2("model", &r, &o), RDB_OK);
	ck_assert_int_eq(sqlite3_open(":memory:", &s), SQLITE_OK);
	su_ok(r, model_schema);
	su_ok(r, model_raise);
	ck_assert_int_eq(sqlite3_exec(s, model_schema, NULL, NULL, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(s, model_raise, NULL, NULL, NULL),
			 SQLITE_OK);
	for (i = 0; i < nsteps; i++) {
		int rr, rs;

		model_op(&rng, sql, sizeof(sql));
		rr = rdb_exec(r, sql, NULL, NULL, NULL);
		rs = sqlite3_exec(s, sql, NULL, NULL, NULL);
		ck_assert_msg((rr == RDB_OK) == (rs == SQLITE_OK), "seed %llu "
			      "step %ld: %s: rdb %d '%s', sqlite %d '%s'",
			      (unsigned long long)seed, i, sql, rr,
			      rdb_errmsg(r), rs, sqlite3_errmsg(s));
		if (rr != RDB_OK)
			ck_assert_msg(strcmp(rdb_errmsg(r), sqlite3_errmsg(s)) ==
				      0 || strstr(sql, "u VALUES") != NULL,
				      "seed %llu step %ld: %s: rdb '%s', sqlite "
				      "'%s'", (unsigned long long)seed, i, sql,
				      rdb_errmsg(r), sqlite3_errmsg(s));
		ck_assert_msg(rdb_get_autocommit(r) ==
			      sqlite3_get_autocommit(s), "seed %llu step %ld: "
			      "%s: autocommit differs",
			      (unsigned long long)seed, i, sql);
		ck_assert_msg(rdb_changes(r) == sqlite3_changes(s), "seed %llu "
			      "step %ld: %s: changes %lld vs %d",
			      (unsigned long long)seed, i, sql,
			      (long long)rdb_changes(r), sqlite3_changes(s));
		dump_rdb(r, &br);
		dump_sqlite(s, &bs);
		ck_assert_msg(strcmp(br.s, bs.s) == 0, "seed %llu step %ld: %s:"
			      "\nrdb:\n%s\nsqlite:\n%s",
			      (unsigned long long)seed, i, sql, br.s, bs.s);
	}
	ck_assert_int_eq(rdb_close(r), RDB_OK);
	sqlite3_close(s);
}

START_TEST(test_trigsp_model_matches_sqlite)
{
	uint64_t seed = tu_seed(), rng = seed | 1;
	long i, n = tu_scaled(24, 3);

	tu_seed_note("trigsp model", seed);
	for (i = 0; i < n; i++)
		model_trial(tu_rand(&rng), 160);
}
END_TEST

/* ---- a savepoint workload for the fault loops ------------------------------- */

static const char *const work_setup =
	"INSERT INTO t VALUES(1, hex(zeroblob(150))), (2, 'b'), (3, 'c');"
	"INSERT INTO t SELECT k + 3, v || k FROM t;"
	"INSERT INTO t SELECT k + 6, v || v FROM t;";

static const char *const work[] = {
	"SAVEPOINT a",
	"INSERT INTO t SELECT k + 20, v || 'x' FROM t",
	"SAVEPOINT b",
	"INSERT INTO w VALUES(100, 'view')",
	"CREATE TABLE u(x INTEGER)",
	"INSERT INTO u SELECT k FROM t",
	"ROLLBACK TO b",
	"UPDATE w SET v = v || 'u' WHERE k % 2 = 0",
	"SAVEPOINT c",
	"DELETE FROM w WHERE k > 24",
	"RELEASE c",
	"SAVEPOINT d",
	"DELETE FROM t",
	"ROLLBACK TO d",
	"INSERT INTO t VALUES(50, 'last')",
	"RELEASE a",
};
#define NWORK ((int)(sizeof(work) / sizeof(work[0])))

/* ---- nomem ------------------------------------------------------------------ */

static rdb *nm_open(void)
{
	rdb_open_opts o = { .flags = RDB_OPEN_MEMORY, .sync = RDB_SYNC_OFF,
			    .cache_pages = 16, .page_size = 1024 };
	rdb *r;

	ck_assert_int_eq(rdb_open_v2("nomem", &r, &o), RDB_OK);
	su_ok(r, model_schema);
	su_ok(r, work_setup);
	return r;
}

/* Run the workload until a statement fails; *failed gets its index. */
static int run_work(rdb *r, int *failed)
{
	int i, rc = RDB_OK;

	for (i = 0; i < NWORK && rc == RDB_OK; i++)
		rc = rdb_exec(r, work[i], NULL, NULL, NULL);
	*failed = rc == RDB_OK ? -1 : i - 1;
	return rc;
}

START_TEST(test_trigsp_nomem_every_allocation_all_or_nothing)
{
	static mbuf init, final, got;
	long n, total, step, runs = 0;
	int rc, failed, fired;
	rdb *r;

	r = nm_open();
	dump_rdb(r, &init);
	rdb_mem_fail_at(0, 0);
	ck_assert_int_eq(run_work(r, &failed), RDB_OK);
	total = rdb_mem_count();
	dump_rdb(r, &final);
	ck_assert_int_eq(rdb_close(r), RDB_OK);
	ck_assert_str_ne(init.s, final.s);
	step = total / tu_scaled(1500, 150) + 1;
	for (n = 1; ; n += step) {
		r = nm_open();
		rdb_mem_fail_at(n, 0);
		rc = run_work(r, &failed);
		fired = rdb_mem_failed();
		rdb_mem_fail_at(0, 0);
		ck_assert_msg(rc == RDB_OK || rc == RDB_NOMEM, "allocation %ld: "
			      "%s: rc %d '%s'", n, work[failed], rc,
			      rdb_errmsg(r));
		if (!rdb_get_autocommit(r))
			su_ok(r, "ROLLBACK");
		dump_rdb(r, &got);
		if (rc != RDB_OK && failed < NWORK - 1)
			ck_assert_msg(strcmp(got.s, init.s) == 0, "allocation "
				      "%ld: %s failed, but changes stayed", n,
				      work[failed]);
		else if (rc == RDB_OK)
			ck_assert_msg(strcmp(got.s, final.s) == 0, "allocation "
				      "%ld: workload ran, result differs", n);
		else
			ck_assert(strcmp(got.s, init.s) == 0 ||
				  strcmp(got.s, final.s) == 0);
		if (strcmp(got.s, init.s) == 0) {
			ck_assert_int_eq(run_work(r, &failed), RDB_OK);
			dump_rdb(r, &got);
			ck_assert_str_eq(got.s, final.s);
		}
		ck_assert_int_eq(rdb_close(r), RDB_OK);
		runs++;
		if (!fired)
			break;
	}
	ck_assert_int_gt(runs, 10);
}
END_TEST

/* ---- ioerr ------------------------------------------------------------------ */

typedef struct io_db {
	os_vfs *vfs;
	rdb_err err;
	pager *p;
	sql_conn *c;
} io_db;

/* Run every statement of sql through the sql layer (rows ignored). */
static rdb_rc io_exec(io_db *d, const char *sql, mbuf *rows)
{
	size_t n = strlen(sql), used;
	sql_prep *st;
	rdb_rc rc = RDB_OK;
	int i;

	while (n > 0 && rc == RDB_OK) {
		if ((rc = sql_prepare(d->c, sql, n, &st, &used)) != RDB_OK)
			break;
		sql += used;
		n -= used;
		if (st == NULL)
			continue;
		while ((rc = sql_step(st)) == RDB_ROW)
			for (i = 0; rows != NULL && i < sql_column_count(st); i++) {
				const char *t = sql_column_text(st, i, &used);

				mb_add(rows, i ? "|" : "");
				mb_add(rows, t != NULL ? t : "NULL");
				if (i + 1 == sql_column_count(st))
					mb_add(rows, "\n");
			}
		sql_finalize(st);
		rc = rc == RDB_DONE ? RDB_OK : rc;
	}
	return rc;
}

static void io_dump(io_db *d, mbuf *b)
{
	size_t i;

	b->n = 0;
	b->s[0] = '\0';
	for (i = 0; i < sizeof(dump_sql) / sizeof(dump_sql[0]); i++) {
		mb_add(b, "--\n");
		if (io_exec(d, dump_sql[i], b) != RDB_OK)
			mb_add(b, "no u\n");
	}
}

static void io_open(io_db *d)
{
	pager_opts o;

	pager_opts_default(&o);
	o.page_size = 1024;
	o.cache_pages = 16;
	o.ckpt_frames = 24;
	o.create = 1;
	ck_assert_int_eq(pager_open(d->vfs, "io.db", &o, &d->err, &d->p),
			 RDB_OK);
	ck_assert_int_eq(sql_conn_new(d->p, &d->err, &d->c), RDB_OK);
}

static rdb_rc io_close(io_db *d)
{
	rdb_rc rc;

	ck_assert_int_eq(sql_conn_free(d->c), RDB_OK);
	rc = pager_close(d->p);
	d->c = NULL;
	d->p = NULL;
	return rc;
}

static void io_setup(io_db *d)
{
	memset(d, 0, sizeof(*d));
	ck_assert_ptr_nonnull(d->vfs = os_mem_new());
	io_open(d);
	ck_assert_int_eq(io_exec(d, model_schema, NULL), RDB_OK);
	ck_assert_int_eq(io_exec(d, work_setup, NULL), RDB_OK);
}

static rdb_rc io_work(io_db *d, int *failed)
{
	rdb_rc rc = RDB_OK;
	int i;

	for (i = 0; i < NWORK && rc == RDB_OK; i++)
		rc = io_exec(d, work[i], NULL);
	*failed = rc == RDB_OK ? -1 : i - 1;
	return rc;
}

/* One trial: fault kind at call `at` of the workload.  After it: the
 * live connection (EIO) and the reopened file (both kinds) hold the state
 * before or after the whole workload, and the workload then completes. */
static void io_trial(os_fault kind, uint64_t at, const mbuf *init,
		     const mbuf *final)
{
	static mbuf got;
	rdb_rc rc;
	int failed;
	io_db d;

	io_setup(&d);
	os_mem_set_fault(d.vfs, kind, at, 0, at);
	rc = io_work(&d, &failed);
	if (kind == OS_FAULT_EIO) {
		os_mem_set_fault(d.vfs, OS_FAULT_NONE, 0, 0, 0);
		ck_assert_msg(rc == RDB_OK || rc == RDB_IOERR, "eio at %llu: "
			      "%s: rc %d '%s'", (unsigned long long)at,
			      work[failed], rc, d.err.msg);
		if (!sql_conn_autocommit(d.c))
			ck_assert_int_eq(io_exec(&d, "ROLLBACK", NULL), RDB_OK);
		io_dump(&d, &got);
		ck_assert_msg(strcmp(got.s, rc == RDB_OK ? final->s : init->s)
			      == 0 || (failed == NWORK - 1 &&
				       strcmp(got.s, final->s) == 0),
			      "eio at %llu: %s: rc %d, state differs",
			      (unsigned long long)at,
			      failed >= 0 ? work[failed] : "-", rc);
	}
	(void)io_close(&d);
	os_mem_restart(d.vfs);
	io_open(&d);
	io_dump(&d, &got);
	ck_assert_msg(strcmp(got.s, init->s) == 0 ||
		      strcmp(got.s, final->s) == 0, "fault %d at %llu: "
		      "reopened state is neither before nor after", (int)kind,
		      (unsigned long long)at);
	if (rc == RDB_OK)
		ck_assert_str_eq(got.s, final->s);
	if (strcmp(got.s, init->s) == 0) {
		ck_assert_int_eq(io_work(&d, &failed), RDB_OK);
		io_dump(&d, &got);
		ck_assert_str_eq(got.s, final->s);
	}
	ck_assert_int_eq(io_close(&d), RDB_OK);
	os_mem_free(d.vfs);
}

START_TEST(test_trigsp_ioerr_every_call_all_or_nothing)
{
	static mbuf init, final;
	uint64_t calls, at, step;
	int failed;
	io_db d;

	io_setup(&d);
	io_dump(&d, &init);
	os_mem_set_fault(d.vfs, OS_FAULT_NONE, 0, 0, 0);
	ck_assert_int_eq(io_work(&d, &failed), RDB_OK);
	calls = os_mem_calls(d.vfs);
	io_dump(&d, &final);
	ck_assert_int_eq(io_close(&d), RDB_OK);
	os_mem_free(d.vfs);
	ck_assert_uint_gt(calls, 20);
	step = calls / (uint64_t)tu_scaled(400, 40) + 1;
	for (at = 1; at <= calls + 1; at += step) {
		io_trial(OS_FAULT_EIO, at, &init, &final);
		io_trial(OS_FAULT_CRASH, at, &init, &final);
	}
}
END_TEST

Suite *trigsp_suite(void)
{
	Suite *s = suite_create("trigsp");
	TCase *tc;

	tc = tcase_create("instead");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_trigsp_view_write_without_instead_of_is_an_error);
	tcase_add_test(tc, test_trigsp_instead_insert_fires_per_row_with_new);
	tcase_add_test(tc, test_trigsp_instead_update_and_delete_see_view_rows);
	tcase_add_test(tc, test_trigsp_instead_when_update_of_and_raise);
	tcase_add_test(tc, test_trigsp_instead_nests_with_table_triggers);
	tcase_add_test(tc, test_trigsp_instead_changes_counted_as_sqlite);
	tcase_add_test(tc, test_trigsp_raise_fail_keeps_and_rollback_ends_txn);
	tcase_add_test(tc,
		test_trigsp_instead_prepared_statement_follows_trigger_ddl);
	suite_add_tcase(s, tc);
	tc = tcase_create("savepoint");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_trigsp_savepoint_stack_release_and_rollback_to);
	tcase_add_test(tc,
		test_trigsp_savepoint_outside_txn_begins_and_release_commits);
	tcase_add_test(tc, test_trigsp_savepoint_inside_begin_needs_commit);
	tcase_add_test(tc, test_trigsp_savepoint_failed_statement_undone_alone);
	tcase_add_test(tc, test_trigsp_savepoint_rollback_to_restores_schema);
	tcase_add_test(tc, test_trigsp_savepoint_kv_calls_join_and_roll_back);
	tcase_add_test(tc, test_trigsp_savepoint_deferred_read_then_write);
	tcase_add_test(tc,
		test_trigsp_savepoint_rollback_to_restores_row_estimates);
	suite_add_tcase(s, tc);
	tc = tcase_create("model");
	tcase_add_test(tc, test_trigsp_model_matches_sqlite);
	suite_add_tcase(s, tc);
	tc = tcase_create("nomem");
	tcase_add_test(tc, test_trigsp_nomem_every_allocation_all_or_nothing);
	suite_add_tcase(s, tc);
	tc = tcase_create("ioerr");
	tcase_add_test(tc, test_trigsp_ioerr_every_call_all_or_nothing);
	suite_add_tcase(s, tc);
	return s;
}
