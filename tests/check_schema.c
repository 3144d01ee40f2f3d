/*
 * check_schema.c -- CHECK constraints, UNIQUE table constraints and
 * CREATE TABLE ... AS SELECT through the public API (include/rdb.h):
 * error codes and messages of a prepared statement reused after a
 * failure, constraints that survive a reopen, the table text CREATE
 * TABLE AS stores ("api"), a randomized comparison with libsqlite3 on the
 * same statements ("model"), and an allocation failure at every
 * allocation of a workload that creates and writes such tables ("nomem").
 * The SQL-level rules are in tests/slt/check.test, unique.test and
 * ctas.test; docs/sql.md ("Schema statements").
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

static const char schema[] =
	"CREATE TABLE acct(id INTEGER PRIMARY KEY, owner TEXT NOT NULL, "
	"  branch INT, no INT, bal INT CHECK (bal >= 0), "
	"  CONSTRAINT owner_len CHECK (length(owner) BETWEEN 1 AND 8), "
	"  UNIQUE(branch, no));";

START_TEST(test_schema_prepared_insert_fails_then_succeeds)
{
	rdb_stmt *st;

	su_ok(db, schema);
	ck_assert_int_eq(rdb_prepare(db, "INSERT INTO acct(owner, branch, no, "
				     "bal) VALUES(?1, ?2, ?3, ?4)", -1, &st,
				     NULL), RDB_OK);
	rdb_bind_text(st, 1, "ann", -1);
	rdb_bind_int64(st, 2, 1);
	rdb_bind_int64(st, 3, 1);
	rdb_bind_int64(st, 4, -5);
	ck_assert_int_eq(rdb_step(st), RDB_CONSTRAINT);
	ck_assert_str_eq(rdb_errmsg(db), "CHECK constraint failed: bal >= 0");
	ck_assert_int_eq(rdb_changes(db), 0);
	rdb_reset(st);
	rdb_bind_int64(st, 4, 5);
	ck_assert_int_eq(rdb_step(st), RDB_DONE);
	ck_assert_int_eq(rdb_changes(db), 1);
	rdb_reset(st);
	rdb_bind_text(st, 1, "a-long-name", -1);
	rdb_bind_int64(st, 3, 2);
	ck_assert_int_eq(rdb_step(st), RDB_CONSTRAINT);
	ck_assert_str_eq(rdb_errmsg(db), "CHECK constraint failed: owner_len");
	rdb_reset(st);
	rdb_bind_text(st, 1, "bob", -1);
	rdb_bind_int64(st, 3, 1);
	ck_assert_int_eq(rdb_step(st), RDB_CONSTRAINT);
	ck_assert_str_eq(rdb_errmsg(db), "UNIQUE constraint failed: "
			 "acct.branch, acct.no");
	rdb_finalize(st);
	ck_assert_str_eq(su_query(db, "SELECT * FROM acct"), "1|ann|1|1|5");
	/* The constraints come from the catalog after a reopen. */
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	ck_assert_int_eq(rdb_open(path, &db), RDB_OK);
	ck_assert_int_eq(rdb_exec(db, "UPDATE acct SET bal = bal - 6", NULL,
				  NULL, NULL), RDB_CONSTRAINT);
	ck_assert_int_eq(rdb_exec(db, "INSERT INTO acct VALUES(2, 'c', 1, 1, "
				  "0)", NULL, NULL, NULL), RDB_CONSTRAINT);
	su_ok(db, "UPDATE acct SET bal = bal - 5; "
		  "INSERT INTO acct VALUES(2, 'c', 1, NULL, 0), "
		  "(3, 'd', 1, NULL, 0)");
	ck_assert_str_eq(su_query(db, "SELECT id, bal FROM acct ORDER BY id"),
			 "1|0\n2|0\n3|0");
	ck_assert_str_eq(su_query(db, "PRAGMA integrity_check"), "ok");
}
END_TEST

/* A column's CONSTRAINT name holds for its later constraints until the
 * next one (SQLite's rule); the message gives the name, else the
 * expression as written. */
START_TEST(test_schema_check_messages_name_the_constraint)
{
	static const char *const rows[] = { "0, 1", "3, 1", "1, 3", "9, 9" };
	static const char *const msg[] = {
		"CHECK constraint failed: pos", "CHECK constraint failed: small",
		"CHECK constraint failed: b  <>  3",
		"CHECK constraint failed: small" };
	char sql[64];
	int i;

	su_ok(db, "CREATE TABLE t(a INT CONSTRAINT pos CHECK (a > 0) "
		  "CONSTRAINT small CHECK (a < 5) NOT NULL CHECK (a <> 3), "
		  "b INT CHECK (b  <>  3))");
	for (i = 0; i < 4; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO t VALUES(%s)", rows[i]);
		ck_assert_int_eq(rdb_exec(db, sql, NULL, NULL, NULL),
				 RDB_CONSTRAINT);
		ck_assert_str_eq(rdb_errmsg(db), msg[i]);
		ck_assert_int_eq(rdb_errcode(db), RDB_CONSTRAINT);
	}
	ck_assert_str_eq(su_query(db, "SELECT count(*) FROM t"), "0");
}
END_TEST

/* CREATE TABLE AS: SQLite's table text, rows in the select's order, a
 * failure in the select or a row leaves no table; prepared before the
 * source exists is an error at prepare. */
START_TEST(test_schema_create_table_as_select)
{
	rdb_stmt *st;

	su_ok(db, "CREATE TABLE src(id INTEGER PRIMARY KEY, name TEXT, "
		  "score REAL, note VARCHAR(3), flag BOOLEAN);"
		  "INSERT INTO src VALUES(3, 'c', 0.5, 'z', 1), (1, 'a', NULL, "
		  "NULL, 0), (2, 'b', 2, 'y', NULL);");
	ck_assert_int_eq(rdb_prepare(db, "CREATE TABLE c AS SELECT * FROM "
				     "nosuch", -1, &st, NULL), RDB_ERROR);
	ck_assert_str_eq(rdb_errmsg(db), "no such table: nosuch");
	su_ok(db, "CREATE TABLE c AS SELECT id, name, score, note, flag, "
		  "id * 2 AS twice, CAST(id AS TEXT) AS t FROM src "
		  "ORDER BY name DESC");
	ck_assert_str_eq(su_query(db, "SELECT sql FROM rdb_tables WHERE "
				  "name = 'c'"),
			 "CREATE TABLE c(\n  id INT,\n  name TEXT,\n  score "
			 "REAL,\n  note TEXT,\n  flag,\n  twice,\n  t TEXT\n)");
	ck_assert_str_eq(su_query(db, "SELECT rowid, * FROM c"),
			 "1|3|c|0.5|z|1|6|3\n2|2|b|2.0|y|NULL|4|2\n"
			 "3|1|a|NULL|NULL|0|2|1");
	ck_assert_int_eq(rdb_exec(db, "CREATE TABLE d AS SELECT id, "
				  "abs(-9223372036854775807 - id) FROM src",
				  NULL, NULL, NULL), RDB_ERROR);
	ck_assert_str_eq(rdb_errmsg(db), "integer overflow");
	ck_assert_str_eq(su_query(db, "SELECT count(*) FROM rdb_tables "
				  "WHERE name = 'd'"), "0");
	su_ok(db, "CREATE TABLE e AS SELECT * FROM src WHERE 0");
	ck_assert_str_eq(su_query(db, "SELECT count(*) FROM e"), "0");
	ck_assert_str_eq(su_query(db, "PRAGMA integrity_check"), "ok");
}
END_TEST

/* ALTER TABLE ADD COLUMN: old rows read the default without being
 * rewritten (the file does not grow), new rows store it; a statement
 * prepared before sees the new column; all of it survives a reopen. */
START_TEST(test_schema_add_column_keeps_rows_and_survives_reopen)
{
	rdb_stmt *st;
	rdb_stats a, b;
	int i;

	su_ok(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT) STRICT;"
		  "CREATE INDEX t_name ON t(name)");
	su_ok(db, "BEGIN");
	for (i = 0; i < 500; i++) {
		char sql[80];

		snprintf(sql, sizeof(sql), "INSERT INTO t VALUES(%d, 'n%d')",
			 i, i % 7);
		su_ok(db, sql);
	}
	su_ok(db, "COMMIT");
	ck_assert_int_eq(rdb_prepare(db, "SELECT * FROM t WHERE id = 3", -1,
				     &st, NULL), RDB_OK);
	ck_assert_int_eq(rdb_stats_get(db, &a), RDB_OK);
	ck_assert_int_eq(rdb_exec(db, "ALTER TABLE t ADD COLUMN score", NULL,
				  NULL, NULL), RDB_ERROR);
	ck_assert_str_eq(rdb_errmsg(db), "missing datatype for t.score");
	su_ok(db, "ALTER TABLE t ADD COLUMN score REAL NOT NULL DEFAULT 0.5");
	ck_assert_int_eq(rdb_stats_get(db, &b), RDB_OK);
	ck_assert_uint_eq(b.page_count, a.page_count);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_column_count(st), 3);
	ck_assert_double_eq(rdb_column_double(st, 2), 0.5);
	rdb_finalize(st);
	su_ok(db, "INSERT INTO t VALUES(1000, 'new', 2.5);"
		  "UPDATE t SET score = score + 1 WHERE id % 100 = 0");
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	ck_assert_int_eq(rdb_open(path, &db), RDB_OK);
	ck_assert_str_eq(su_query(db, "SELECT sql FROM rdb_tables WHERE name "
				  "= 't'"), "CREATE TABLE t(id INTEGER PRIMARY "
			 "KEY, name TEXT, score REAL NOT NULL DEFAULT 0.5) "
			 "STRICT");
	ck_assert_str_eq(su_query(db, "SELECT count(*), sum(score) FROM t"),
			 "501|258.5");
	ck_assert_str_eq(su_query(db, "SELECT id, score FROM t WHERE name = "
				  "'new'"), "1000|3.5");
	/* The column goes after the last column, before the constraints. */
	su_ok(db, "CREATE TABLE w(a INT, b INT, UNIQUE(a, b), CHECK (a > 0));"
		  "INSERT INTO w VALUES(1, 2);"
		  "SELECT 1;  ALTER TABLE w ADD c TEXT CHECK (c <> '')");
	ck_assert_str_eq(su_query(db, "SELECT sql FROM rdb_tables WHERE name "
				  "= 'w'"), "CREATE TABLE w(a INT, b INT, c TEXT "
			 "CHECK (c <> ''), UNIQUE(a, b), CHECK (a > 0))");
	ck_assert_str_eq(su_query(db, "PRAGMA integrity_check"), "ok");
}
END_TEST

/* ALTER TABLE RENAME TO: texts as SQLite writes them, indexes renamed
 * and used, the catalog consistent after a reopen; a view or trigger
 * naming the table stops it (rdb does not rewrite them). */
START_TEST(test_schema_rename_table_moves_catalog_rows)
{
	su_ok(db, "CREATE TABLE t(a INT UNIQUE, b TEXT, UNIQUE(a, b));"
		  "CREATE INDEX t_b ON t(b);"
		  "INSERT INTO t VALUES(1, 'x'), (2, 'y');"
		  "CREATE VIEW v AS SELECT a FROM t;");
	ck_assert_int_eq(rdb_exec(db, "ALTER TABLE t RENAME TO u", NULL, NULL,
				  NULL), RDB_ERROR);
	ck_assert_str_eq(rdb_errmsg(db), "cannot rename table t: view v "
			 "refers to it (drop the view first)");
	su_ok(db, "DROP VIEW v; CREATE TRIGGER tr AFTER INSERT ON t BEGIN "
		  "SELECT 1; END");
	ck_assert_int_eq(rdb_exec(db, "ALTER TABLE t RENAME TO u", NULL, NULL,
				  NULL), RDB_ERROR);
	su_ok(db, "DROP TRIGGER tr; ALTER TABLE t RENAME TO u");
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	ck_assert_int_eq(rdb_open(path, &db), RDB_OK);
	ck_assert_str_eq(su_query(db, "SELECT name, sql FROM rdb_indexes "
				  "ORDER BY name"),
			 "rdb_autoindex_u_1|NULL\nrdb_autoindex_u_2|NULL\n"
			 "t_b|CREATE INDEX t_b ON \"u\"(b)");
	ck_assert_str_eq(su_query(db, "SELECT sql FROM rdb_tables WHERE name "
				  "= 'u'"), "CREATE TABLE \"u\"(a INT UNIQUE, b "
			 "TEXT, UNIQUE(a, b))");
	ck_assert_str_eq(su_query(db, "SELECT count(*) FROM rdb_tables WHERE "
				  "name = 't'"), "0");
	ck_assert_int_eq(rdb_exec(db, "INSERT INTO u VALUES(1, 'z')", NULL,
				  NULL, NULL), RDB_CONSTRAINT);
	ck_assert_str_eq(su_query(db, "SELECT a FROM u WHERE b = 'y'"), "2");
	ck_assert_str_eq(su_query(db, "PRAGMA integrity_check"), "ok");
}
END_TEST

/* ---- model: the same random statements on rdb and libsqlite3 ----------- */

/* A row of the result of sql on SQLite, as su_query() prints rdb's. */
static void lite_rows(sqlite3 *l, const char *sql, sbuf *out)
{
	sqlite3_stmt *st;
	int i, n = 0;

	ck_assert_int_eq(sqlite3_prepare_v2(l, sql, -1, &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (i = 0; i < sqlite3_column_count(st); i++) {
			const unsigned char *t = sqlite3_column_text(st, i);

			sb_add(out, "%s%s", i ? "|" : n ? "\n" : "",
			       t ? (const char *)t : "NULL");
		}
		n++;
	}
	sqlite3_finalize(st);
}

START_TEST(test_schema_model_agrees_with_sqlite)
{
	static const char *const owners[] = { "ann", "bob", "", "carolina",
					      "dorothea", "e" };
	uint64_t rng = tu_seed();
	sqlite3 *l;
	sbuf sql = { 0 }, want = { 0 };
	int i, n = tu_scaled(600, 100), lrc, rrc;
	char *w;

	tu_seed_note("schema", rng);
	ck_assert_int_eq(sqlite3_open(":memory:", &l), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(l, schema, NULL, NULL, NULL), SQLITE_OK);
	su_ok(db, schema);
	for (i = 0; i < n; i++) {
		int k = (int)tu_rand_below(&rng, 4);
		long a = (long)tu_rand_below(&rng, 20),
		     b = (long)tu_rand_below(&rng, 4),
		     c = (long)tu_rand_below(&rng, 4),
		     v = (long)tu_rand_below(&rng, 30) - 5;
		const char *o = owners[tu_rand_below(&rng, 6)];
		static const char *const mode[] = { "", "OR IGNORE ",
						    "OR REPLACE " };
		const char *m = mode[tu_rand_below(&rng, 3)];

		if (k == 0)
			sb_add(&sql, "INSERT %sINTO acct VALUES(%ld, '%s', "
			       "%ld, %ld, %ld)", m, a, o, b, c, v);
		else if (k == 1)
			sb_add(&sql, "UPDATE %sacct SET bal = bal + %ld, no = "
			       "%ld WHERE id %% 4 = %ld", m, v - 12, c, b);
		else if (k == 2)
			sb_add(&sql, "INSERT %sINTO acct(owner, branch, no, "
			       "bal) VALUES('%s', %ld, %ld, %ld), ('x', %ld, "
			       "NULL, %ld)", m, o, b, c, v, c, v - 3);
		else
			sb_add(&sql, "DELETE FROM acct WHERE bal < %ld", v - 3);
		lrc = sqlite3_exec(l, sql.p, NULL, NULL, NULL);
		rrc = rdb_exec(db, sql.p, NULL, NULL, NULL);
		ck_assert_msg((lrc == SQLITE_OK) == (rrc == RDB_OK),
			      "%s: sqlite %d, rdb %d '%s'", sql.p, lrc, rrc,
			      rdb_errmsg(db));
		if (lrc != SQLITE_OK)
			ck_assert_str_eq(rdb_errmsg(db), sqlite3_errmsg(l));
		free(sb_take(&sql));
	}
	lite_rows(l, "SELECT * FROM acct ORDER BY id", &want);
	w = sb_take(&want);
	ck_assert_str_eq(su_query(db, "SELECT * FROM acct ORDER BY id"), w);
	free(w);
	sqlite3_close(l);
}
END_TEST

/* ---- nomem -------------------------------------------------------------- */

static const char nomem_work[] =
	"CREATE TABLE k(a INT CHECK (a > 0), b TEXT, c INT, UNIQUE(b, c), "
	"  CHECK (length(b) < 4));"
	"INSERT INTO k VALUES(1, 'x', 1), (2, 'y', 1), (3, NULL, 1);"
	"INSERT OR IGNORE INTO k VALUES(0, 'z', 1), (4, 'x', 1), (5, 'w', 2);"
	"UPDATE k SET a = a + 1 WHERE b IS NOT NULL;"
	"CREATE TABLE k2 AS SELECT a, b || 'z' AS b, a * 2 FROM k "
	"WHERE a > 2;"
	"ALTER TABLE k2 ADD COLUMN d TEXT DEFAULT 'dd' CHECK (d <> 'x');"
	"CREATE INDEX k2d ON k2(d, a);"
	"ALTER TABLE k2 RENAME TO k3;"
	"ALTER TABLE k3 RENAME TO k2;";

START_TEST(test_schema_nomem_every_allocation_fails_cleanly)
{
	rdb_open_opts o = { .flags = RDB_OPEN_MEMORY, .sync = RDB_SYNC_OFF,
			    .cache_pages = 16 };
	const char *want = "2|x|1\n3|y|1\n3|NULL|1\n6|w|2";
	const char *want2 = "3|yz|6|dd\n3|NULL|6|dd\n6|wz|12|dd";
	long n, step, total;
	int rc, fired, sticky, runs = 0;
	rdb *r;

	ck_assert_int_eq(rdb_open_v2("nomem", &r, &o), RDB_OK);
	rdb_mem_fail_at(0, 0);
	su_ok(r, nomem_work);
	total = rdb_mem_count();
	ck_assert_str_eq(su_query(r, "SELECT * FROM k ORDER BY rowid"), want);
	ck_assert_str_eq(su_query(r, "SELECT * FROM k2"), want2);
	ck_assert_int_eq(rdb_close(r), RDB_OK);
	step = total / tu_scaled(400, 60) + 1;
	for (sticky = 0; sticky <= 1; sticky++) {
		for (n = 1; ; n += step) {
			ck_assert_int_eq(rdb_open_v2("nomem", &r, &o), RDB_OK);
			rdb_mem_fail_at(n, sticky);
			rc = rdb_exec(r, nomem_work, NULL, NULL, NULL);
			fired = rdb_mem_failed();
			rdb_mem_fail_at(0, 0);
			ck_assert_msg(rc == RDB_OK || rc == RDB_NOMEM,
				      "allocation %ld: rc %d '%s'", n, rc,
				      rdb_errmsg(r));
			if (rc == RDB_OK) {
				ck_assert_str_eq(su_query(r, "SELECT * FROM k "
							  "ORDER BY rowid"),
						 want);
				ck_assert_str_eq(su_query(r, "SELECT * FROM "
							  "k2"), want2);
			}
			ck_assert_str_eq(su_query(r, "PRAGMA integrity_check"),
					 "ok");
			ck_assert_int_eq(rdb_close(r), RDB_OK);
			runs++;
			if (!fired)
				break;
		}
	}
	ck_assert_int_gt(runs, 20);
}
END_TEST

Suite *schema_suite(void)
{
	Suite *s = suite_create("schema");
	TCase *tc;

	tc = tcase_create("api");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_schema_prepared_insert_fails_then_succeeds);
	tcase_add_test(tc, test_schema_check_messages_name_the_constraint);
	tcase_add_test(tc, test_schema_create_table_as_select);
	tcase_add_test(tc, test_schema_add_column_keeps_rows_and_survives_reopen);
	tcase_add_test(tc, test_schema_rename_table_moves_catalog_rows);
	suite_add_tcase(s, tc);
	tc = tcase_create("model");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_schema_model_agrees_with_sqlite);
	suite_add_tcase(s, tc);
	tc = tcase_create("nomem");
	tcase_add_test(tc, test_schema_nomem_every_allocation_fails_cleanly);
	suite_add_tcase(s, tc);
	return s;
}
