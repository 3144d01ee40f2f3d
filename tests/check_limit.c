/*
 * check_limit.c -- rdb_limit(): the rules of its arguments, and
 * RDB_LIMIT_LENGTH's effect on what SQL makes and what is bound, each
 * compared with libsqlite3 under the same sqlite3_limit().
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include "rdb.h"
#include "sql_util.h"
#include "test_util.h"

static su_pair pair;
static rdb *db;
static sqlite3 *lite;

static void setup(void)
{
	su_pair_open(&pair);
	db = pair.db;
	lite = pair.lite;
}

static void teardown(void)
{
	pair.db = db;
	su_pair_close(&pair);
}

/* Set the length limit of both engines; both must report the same
 * value before the call. */
static void set_both(int val)
{
	int r = rdb_limit(db, RDB_LIMIT_LENGTH, val);
	int l = sqlite3_limit(lite, SQLITE_LIMIT_LENGTH, val);

	ck_assert_msg(r == l, "rdb_limit(%d) gave %d, sqlite %d", val, r, l);
}

/* Run sql (one statement, one column) on both engines and compare: both
 * fail with TOOBIG, or both give the same rows.  The values are kept off
 * the limit by a byte or more: SQLite refuses some of exactly the limit,
 * or a few bytes under it (its functions count a terminating NUL or
 * allocate a little more), where rdb holds every value to the limit
 * itself (test_limit_boundary).  SQLite's message after a TOOBIG step
 * is sometimes empty; rdb's is always the one below.  SQLite also holds
 * column names to the limit, at prepare: the statements name their
 * columns with short aliases. */
static void same(const char *sql)
{
	rdb_stmt *st = NULL;
	sqlite3_stmt *ls = NULL;
	int rc, lrc;

	rc = rdb_prepare(db, sql, -1, &st, NULL);
	lrc = sqlite3_prepare_v2(lite, sql, -1, &ls, NULL);
	ck_assert_msg(rc == RDB_OK && lrc == SQLITE_OK, "%s: prepare %d %d",
		      sql, rc, lrc);
	do {
		rc = rdb_step(st);
		lrc = sqlite3_step(ls);
		if (rc == RDB_ROW && lrc == SQLITE_ROW) {
			const char *a = (const char *)rdb_column_text(st, 0);
			const char *b = (const char *)sqlite3_column_text(ls,
									  0);

			ck_assert_msg((a == NULL) == (b == NULL) &&
				      (a == NULL || strcmp(a, b) == 0),
				      "%s: rdb %s, sqlite %s", sql,
				      a ? a : "NULL", b ? b : "NULL");
		}
	} while (rc == RDB_ROW && lrc == SQLITE_ROW);
	if (lrc == SQLITE_TOOBIG) {
		ck_assert_msg(rc == RDB_TOOBIG, "%s: rdb %d (%s), sqlite "
			      "TOOBIG", sql, rc, rdb_errmsg(db));
		ck_assert_str_eq(rdb_errmsg(db), "string or blob too big");
	} else {
		ck_assert_msg(lrc == SQLITE_DONE && rc == RDB_DONE,
			      "%s: rdb %d (%s), sqlite %d (%s)", sql, rc,
			      rdb_errmsg(db), lrc, sqlite3_errmsg(lite));
	}
	rdb_finalize(st);
	sqlite3_finalize(ls);
}

static void both_exec(const char *sql)
{
	su_ok(db, sql);
	ck_assert_int_eq(sqlite3_exec(lite, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* ---- the call ------------------------------------------------------------ */

START_TEST(test_limit_call_rules_as_sqlite)
{
	/* default, set, read, below 1, above the hard bound, unchanged */
	static const int vals[] = { -1, 10, -1, 0, -7, 1, 2000000000, -1,
		1000000000, 999, 12345, -1 };
	size_t i;

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		set_both(vals[i]);
	/* ids no build of SQLite knows */
	ck_assert_int_eq(rdb_limit(db, -1, 5), -1);
	ck_assert_int_eq(sqlite3_limit(lite, -1, 5), -1);
	ck_assert_int_eq(rdb_limit(db, 1000, 5), -1);
	ck_assert_int_eq(sqlite3_limit(lite, 1000, 5), -1);
	ck_assert_int_eq(rdb_limit(NULL, RDB_LIMIT_LENGTH, 5), -1);
	ck_assert_int_eq(rdb_limit(db, RDB_LIMIT_LENGTH, -1), 12345);
}
END_TEST

START_TEST(test_limit_is_per_connection)
{
	char p2[256];
	rdb *db2;

	tu_tmp_path(p2, sizeof(p2));
	ck_assert_int_eq(rdb_open(p2, &db2), RDB_OK);
	ck_assert_int_eq(rdb_limit(db, RDB_LIMIT_LENGTH, 5), 1000000000);
	ck_assert_int_eq(rdb_limit(db2, RDB_LIMIT_LENGTH, -1), 1000000000);
	ck_assert_int_eq(rdb_exec(db, "SELECT hex('abc')", NULL, NULL, NULL),
			 RDB_TOOBIG);
	ck_assert_int_eq(rdb_exec(db2, "SELECT hex('abc')", NULL, NULL, NULL),
			 RDB_OK);
	ck_assert_int_eq(rdb_close(db2), RDB_OK);
	tu_unlink_db(p2);
}
END_TEST

/* ---- what SQL makes ---------------------------------------------------------- */

/* Each of these makes a value of at most 18 bytes or at least 21: under
 * the limit of 20 or past it. */
static const char *const exprs[] = {
	"'aaaaaaaaaa' || 'bbbbbb'", "'aaaaaaaaaa' || 'bbbbbbbbbbc'",
	"12345678901 || 12345", "12345678901 || 1234567890",
	"length(zeroblob(16))", "length(zeroblob(21))",
	"length(randomblob(16))", "length(randomblob(21))",
	"hex('abcdefgh')", "hex('abcdefghijk')",
	"replace('aa', 'a', 'zzzzzz')", "replace('aaaa', 'a', 'zzzzzz')",
	"quote('abcdefghijklm')", "quote('abcdefghijklmnopqrs')",
	"quote(x'010203040506')", "quote(x'010203040506070809')",
	"upper('abcdefghijklmnop')", "substr('abcdefghijklmnopqrs', 3)",
	"trim('  abcdefghijklmn  ')",
	"CAST(x'6162636465666768696a6b6c6d6e6f70' AS TEXT)",
	"CAST(12345678901234567 AS TEXT) || 'abcd'",
	"char(97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112,"
	"113,114,115,116,117)",
	"char(97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112)",
};

START_TEST(test_limit_values_made_as_sqlite)
{
	char sql[512];
	size_t i;

	set_both(20);
	for (i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT %s AS v", exprs[i]);
		same(sql);
	}
	/* A literal is held only to the statement's text: SQLite holds it
	 * to this limit too (docs/sql.md, "Limits"). */
	ck_assert_str_eq(su_query(db, "SELECT 'abcdefghijklmnopqrstu'"),
			 "abcdefghijklmnopqrstu");
	/* the same statements are all well under the default */
	set_both(1000000000);
	for (i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT %s AS v", exprs[i]);
		same(sql);
	}
}
END_TEST

START_TEST(test_limit_aggregates_as_sqlite)
{
	static const char *const qs[] = {
		"SELECT group_concat(column1, '') AS v FROM (VALUES ('aaaaaaaaaa'), "
		"('bbbbbb'))",
		"SELECT group_concat(column1, '') AS v FROM (VALUES ('aaaaaaaaaa'), "
		"('bbbbbbbbbbb'))",
		"SELECT group_concat(column1) AS v FROM (VALUES ('aaaaaaaaaa'), "
		"('bbbbbbbbbb'))",
		"SELECT group_concat(column1, '--') AS v FROM (VALUES ('aaaaaaaa'), "
		"('bbbbbbbb'))",
		"SELECT group_concat(DISTINCT column1) AS v FROM (VALUES "
		"('aaaaaaaaa'), ('aaaaaaaaa'), ('bbbbbbbbbbb'))",
		"SELECT group_concat(DISTINCT column1) AS v FROM (VALUES "
		"('aaaaaaa'), ('aaaaaaa'), ('bbbbbbbbb'))",
	};
	size_t i;

	set_both(20);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		same(qs[i]);
}
END_TEST

/* rdb's rule: a value of exactly the limit is made, one byte more is
 * RDB_TOOBIG; printf() is NULL instead, as at the hard bound (SQLite's
 * printf is NULL there too, and below it sometimes NULL and sometimes
 * an error). */
START_TEST(test_limit_boundary)
{
	static const char *const at[] = {
		"hex('abcdefghij')", "'aaaaaaaaaa' || 'bbbbbbbbbb'",
		"zeroblob(20)", "randomblob(20)", "quote('abcdefghijklmnopqr')",
		"replace('aaaa', 'a', 'zzzzz')", "printf('%.20c', 'x')",
		"printf('%020d', 5)", "printf('%+,016d', 5)",
	};
	static const char *const past[] = {
		"hex('abcdefghijk')", "'aaaaaaaaaa' || 'bbbbbbbbbbc'",
		"zeroblob(21)", "randomblob(21)", "quote('abcdefghijklmnopqrs')",
		"replace('aaaa', 'a', 'zzzzzy')", "CAST(zeroblob(21) AS TEXT)",
	};
	char sql[128];
	rdb_stmt *st;
	size_t i;

	ck_assert_int_eq(rdb_limit(db, RDB_LIMIT_LENGTH, 20), 1000000000);
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT %s", at[i]);
		ck_assert_int_eq(rdb_prepare(db, sql, -1, &st, NULL), RDB_OK);
		ck_assert_msg(rdb_step(st) == RDB_ROW, "%s: %s", sql,
			      rdb_errmsg(db));
		ck_assert_msg(rdb_column_bytes(st, 0) == 20, "%s: %d bytes",
			      sql, rdb_column_bytes(st, 0));
		rdb_finalize(st);
	}
	for (i = 0; i < sizeof(past) / sizeof(past[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT %s", past[i]);
		ck_assert_msg(rdb_exec(db, sql, NULL, NULL, NULL) ==
			      RDB_TOOBIG, "%s", sql);
		ck_assert_str_eq(rdb_errmsg(db), "string or blob too big");
	}
	/* a value that doubles in a table until it passes the limit; the
	 * failed UPDATE changes nothing (SQLite fails UPDATEs under so low
	 * a limit for reasons of its own: not compared) */
	su_ok(db, "CREATE TABLE g(s); INSERT INTO g VALUES ('aaaaa')");
	su_ok(db, "UPDATE g SET s = s || s");
	su_ok(db, "UPDATE g SET s = s || s");
	ck_assert_int_eq(rdb_exec(db, "UPDATE g SET s = s || 'x'", NULL, NULL,
				  NULL), RDB_TOOBIG);
	ck_assert_str_eq(su_query(db, "SELECT s FROM g"),
			 "aaaaaaaaaaaaaaaaaaaa");
	/* values read from a table are not held to a lower bound; what is
	 * made of them is */
	rdb_limit(db, RDB_LIMIT_LENGTH, 40);
	su_ok(db, "UPDATE g SET s = s || s");
	rdb_limit(db, RDB_LIMIT_LENGTH, 20);
	ck_assert_str_eq(su_query(db, "SELECT length(s), substr(s, 35) FROM g"),
			 "40|aaaaaa");
	ck_assert_int_eq(rdb_exec(db, "SELECT s || '' FROM g", NULL, NULL,
				  NULL), RDB_TOOBIG);
	ck_assert_str_eq(su_query(db, "SELECT quote(printf('%.21c', 'x')), "
				  "quote(printf('%021d', 5)), "
				  "quote(printf('%,020d', 5))"),
			 "NULL|NULL|NULL");
}
END_TEST

/* A limit set after prepare holds at the next step, in trigger bodies
 * too, and the failed statement leaves nothing behind. */
START_TEST(test_limit_set_after_prepare_and_in_triggers)
{
	static const char *const ddl[] = {
		"CREATE TABLE t(a)", "CREATE TABLE log(s)",
		"CREATE TRIGGER tr AFTER INSERT ON t BEGIN "
		"INSERT INTO log VALUES (hex(new.a)); END",
	};
	rdb_stmt *st;
	size_t i;

	for (i = 0; i < 3; i++)
		both_exec(ddl[i]);
	ck_assert_int_eq(rdb_prepare(db, "SELECT hex('abcdefg')", -1, &st,
				     NULL), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	set_both(10);
	ck_assert_int_eq(rdb_step(st), RDB_TOOBIG);
	rdb_reset(st);
	set_both(14);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_column_bytes(st, 0), 14);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);

	set_both(12);
	same("INSERT INTO t VALUES ('abcdefg')");
	same("SELECT count(*) AS v FROM t");
	same("SELECT count(*) AS v FROM log");
	set_both(16);
	same("INSERT INTO t VALUES ('abcdefg')");
	same("SELECT a || count(*) AS v FROM t");
	same("SELECT s AS v FROM log");
}
END_TEST

/* ---- what is bound ----------------------------------------------------------- */

START_TEST(test_limit_binds_as_sqlite)
{
	static const char text[] = "abcdefghijklmnop";   /* 16 bytes */
	rdb_stmt *st;
	sqlite3_stmt *ls;
	int n;

	set_both(12);
	ck_assert_int_eq(rdb_prepare(db, "SELECT ?1", -1, &st, NULL), RDB_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(lite, "SELECT ?1", -1, &ls, NULL),
			 SQLITE_OK);
	for (n = 10; n <= 14; n++) {
		int rc = rdb_bind_text(st, 1, text, n);
		int lrc = sqlite3_bind_text(ls, 1, text, n, SQLITE_STATIC);

		ck_assert_msg((rc == RDB_TOOBIG) == (lrc == SQLITE_TOOBIG) &&
			      (rc == RDB_OK) == (lrc == SQLITE_OK),
			      "text %d: rdb %d, sqlite %d", n, rc, lrc);
		if (rc == RDB_TOOBIG)
			ck_assert_str_eq(rdb_errmsg(db),
					 "string or blob too big");
		rc = rdb_bind_blob(st, 1, text, n);
		lrc = sqlite3_bind_blob(ls, 1, text, n, SQLITE_STATIC);
		ck_assert_msg((rc == RDB_TOOBIG) == (lrc == SQLITE_TOOBIG) &&
			      (rc == RDB_OK) == (lrc == SQLITE_OK),
			      "blob %d: rdb %d, sqlite %d", n, rc, lrc);
	}
	/* -1: the length up to the NUL */
	ck_assert_int_eq(rdb_bind_text(st, 1, text, -1), RDB_TOOBIG);
	ck_assert_int_eq(sqlite3_bind_text(ls, 1, text, -1, SQLITE_STATIC),
			 SQLITE_TOOBIG);
	/* the refused bind left the last one that fit (12 bytes) */
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_column_bytes(st, 0), 12);
	rdb_finalize(st);
	sqlite3_finalize(ls);
}
END_TEST

Suite *limit_suite(void)
{
	Suite *s = suite_create("limit");
	TCase *tc = tcase_create("limit");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_limit_call_rules_as_sqlite);
	tcase_add_test(tc, test_limit_is_per_connection);
	tcase_add_test(tc, test_limit_values_made_as_sqlite);
	tcase_add_test(tc, test_limit_aggregates_as_sqlite);
	tcase_add_test(tc, test_limit_boundary);
	tcase_add_test(tc, test_limit_set_after_prepare_and_in_triggers);
	tcase_add_test(tc, test_limit_binds_as_sqlite);
	suite_add_tcase(s, tc);
	return s;
}
