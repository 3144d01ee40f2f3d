/*
 * check_capi.c -- the contract of the Connections and SQL sections of
 * include/rdb.h, as a program embedding rdb relies on it, with libsqlite3
 * as the reference where rdb.h is silent: binding (indexes, names,
 * copies, misuse), result columns and their conversions (compared with
 * sqlite3_column_* on the same values), statement text and read-only
 * flag, rdb_prepare's limits and tail, step/reset/finalize codes,
 * rdb_exec, errors, change counters, open options, rdb_complete
 * (randomized against sqlite3_complete) and NULL arguments everywhere.
 * Cases: bind, column, stmt, exec, errors, counters, open, complete,
 * misuse.
 */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "rdb.h"
#include "mem.h"
#include "sql_util.h"
#include "test_util.h"

static su_pair pair;
static char *const path = pair.path;
static rdb *db;                 /* pair.db, or the handle a test reopened */
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

static void ok(const char *sql)
{
	su_ok(db, sql);
}

/* Run sql on both engines; each must succeed. */
static void both(const char *sql)
{
	char *e = NULL;

	su_ok(db, sql);
	ck_assert_msg(sqlite3_exec(lite, sql, NULL, NULL, &e) == SQLITE_OK,
		      "sqlite: %s: %s", sql, e);
}

static rdb_stmt *prep(const char *sql)
{
	rdb_stmt *st = NULL;
	int rc = rdb_prepare(db, sql, -1, &st, NULL);

	ck_assert_msg(rc == RDB_OK && st != NULL, "%s: %d %s", sql, rc,
		      rdb_errmsg(db));
	return st;
}

static sqlite3_stmt *lprep(const char *sql)
{
	sqlite3_stmt *st = NULL;

	ck_assert_msg(sqlite3_prepare_v2(lite, sql, -1, &st, NULL) ==
		      SQLITE_OK, "sqlite: %s: %s", sql, sqlite3_errmsg(lite));
	return st;
}

/* The single value of a one-row query, as text ("NULL" for NULL). */
static const char *one(rdb_stmt *st)
{
	static char buf[256];
	const unsigned char *t;

	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	t = rdb_column_text(st, 0);
	snprintf(buf, sizeof(buf), "%s", t == NULL ? "NULL" : (const char *)t);
	ck_assert_int_eq(rdb_step(st), RDB_DONE);
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	return buf;
}

/* ---- bind ------------------------------------------------------------------ */

START_TEST(test_capi_bind_each_type_reads_back)
{
	rdb_stmt *st = prep("SELECT typeof(?1), quote(?1)");
	static const unsigned char b[] = { 0, 1, 0xfe };

	ck_assert_int_eq(rdb_bind_null(st, 1), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_str_eq((const char *)rdb_column_text(st, 0), "null");
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	ck_assert_int_eq(rdb_bind_int64(st, 1, INT64_MIN), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_str_eq((const char *)rdb_column_text(st, 1),
			 "-9223372036854775808");
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	ck_assert_int_eq(rdb_bind_double(st, 1, -2.5), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_str_eq((const char *)rdb_column_text(st, 0), "real");
	ck_assert_str_eq((const char *)rdb_column_text(st, 1), "-2.5");
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	ck_assert_int_eq(rdb_bind_text(st, 1, "it's", -1), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_str_eq((const char *)rdb_column_text(st, 1), "'it''s'");
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	ck_assert_int_eq(rdb_bind_blob(st, 1, b, 3), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_str_eq((const char *)rdb_column_text(st, 1), "X'0001FE'");
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	/* A bool is the integer 0 or 1, whatever non-zero value is given. */
	ck_assert_int_eq(rdb_bind_bool(st, 1, 42), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_str_eq((const char *)rdb_column_text(st, 0), "integer");
	ck_assert_str_eq((const char *)rdb_column_text(st, 1), "1");
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	ck_assert_int_eq(rdb_bind_bool(st, 1, 0), RDB_OK);
	ck_assert_str_eq(one(st), "integer");
	ck_assert_int_eq(rdb_bind_bool(st, 1, -1), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_column_int64(st, 1), 1);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}
END_TEST

START_TEST(test_capi_bind_nan_is_null_and_null_pointers_as_sqlite)
{
	rdb_stmt *st = prep("SELECT typeof(?)");
	sqlite3_stmt *ls = lprep("SELECT typeof(?)");
	static const char *const want[] = { "null", "null", "null", "blob" };
	int k;

	for (k = 0; k < 4; k++) {
		int rc = 0, lrc = 0;

		switch (k) {
		case 0:
			rc = rdb_bind_double(st, 1, NAN);
			lrc = sqlite3_bind_double(ls, 1, NAN);
			break;
		case 1:
			rc = rdb_bind_text(st, 1, NULL, 5);
			lrc = sqlite3_bind_text(ls, 1, NULL, 5, NULL);
			break;
		case 2:
			rc = rdb_bind_blob(st, 1, NULL, 0);
			lrc = sqlite3_bind_blob(ls, 1, NULL, 0, NULL);
			break;
		case 3:
			rc = rdb_bind_blob(st, 1, "", 0);
			lrc = sqlite3_bind_blob(ls, 1, "", 0, NULL);
			break;
		}
		ck_assert_int_eq(rc, RDB_OK);
		ck_assert_int_eq(lrc, SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(ls), SQLITE_ROW);
		ck_assert_str_eq((const char *)sqlite3_column_text(ls, 0),
				 want[k]);
		ck_assert_int_eq(sqlite3_reset(ls), SQLITE_OK);
		ck_assert_msg(strcmp(one(st), want[k]) == 0, "case %d: %s", k,
			      one(st));
	}
	/* A negative blob size is refused (undefined in SQLite). */
	ck_assert_int_eq(rdb_bind_blob(st, 1, "x", -1), RDB_MISUSE);
	ck_assert_int_eq(rdb_errcode(db), RDB_MISUSE);
	sqlite3_finalize(ls);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}
END_TEST

START_TEST(test_capi_bind_copies_text_and_blob)
{
	rdb_stmt *st = prep("SELECT ?, ?");
	char text[16] = "hello";
	unsigned char blob[4] = { 1, 2, 3, 4 };

	ck_assert_int_eq(rdb_bind_text(st, 1, text, -1), RDB_OK);
	ck_assert_int_eq(rdb_bind_blob(st, 2, blob, 4), RDB_OK);
	memcpy(text, "world", 5);
	memset(blob, 0xee, sizeof(blob));
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_str_eq((const char *)rdb_column_text(st, 0), "hello");
	ck_assert_int_eq(rdb_column_bytes(st, 1), 4);
	ck_assert_mem_eq(rdb_column_blob(st, 1), "\1\2\3\4", 4);
	/* And the copy outlives a reset: bindings are kept. */
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_str_eq((const char *)rdb_column_text(st, 0), "hello");
	ck_assert_mem_eq(rdb_column_blob(st, 1), "\1\2\3\4", 4);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}
END_TEST

START_TEST(test_capi_bind_text_length_rules)
{
	rdb_stmt *st = prep("SELECT ?, length(?1), typeof(?1)");

	/* n < 0: up to the NUL.  n >= 0: exactly n bytes, NULs included. */
	ck_assert_int_eq(rdb_bind_text(st, 1, "abcdef", -7), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_column_bytes(st, 0), 6);
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	ck_assert_int_eq(rdb_bind_text(st, 1, "abcdef", 3), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_str_eq((const char *)rdb_column_text(st, 0), "abc");
	ck_assert_int_eq(rdb_column_int64(st, 1), 3);
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	ck_assert_int_eq(rdb_bind_text(st, 1, "ab\0cd", 5), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_column_bytes(st, 0), 5);
	ck_assert_mem_eq(rdb_column_text(st, 0), "ab\0cd", 6);
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	ck_assert_int_eq(rdb_bind_text(st, 1, "", 0), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_str_eq((const char *)rdb_column_text(st, 0), "");
	ck_assert_str_eq((const char *)rdb_column_text(st, 2), "text");
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}
END_TEST

/* The parameter count, each index's name and each name's index of sql,
 * in rdb and in SQLite. */
static void params_as_sqlite(const char *sql)
{
	rdb_stmt *st = prep(sql);
	sqlite3_stmt *ls = lprep(sql);
	int i, n = sqlite3_bind_parameter_count(ls);

	ck_assert_msg(rdb_bind_parameter_count(st) == n, "%s: %d params, "
		      "sqlite %d", sql, rdb_bind_parameter_count(st), n);
	for (i = 0; i <= n + 1; i++) {
		const char *a = rdb_bind_parameter_name(st, i);
		const char *b = sqlite3_bind_parameter_name(ls, i);

		ck_assert_msg((a == NULL) == (b == NULL) &&
			      (a == NULL || strcmp(a, b) == 0),
			      "%s: name of %d: '%s', sqlite '%s'", sql, i,
			      a ? a : "(null)", b ? b : "(null)");
		if (b != NULL)
			ck_assert_int_eq(rdb_bind_parameter_index(st, b),
					 sqlite3_bind_parameter_index(ls, b));
	}
	ck_assert_int_eq(rdb_bind_parameter_index(st, "nope"), 0);
	ck_assert_int_eq(rdb_bind_parameter_index(st, NULL), 0);
	ck_assert_int_eq(rdb_bind_parameter_index(st, ":nope"), 0);
	sqlite3_finalize(ls);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}

START_TEST(test_capi_bind_parameter_numbering_as_sqlite)
{
	static const char *const sqls[] = {
		"SELECT 1",
		"SELECT ?",
		"SELECT ?, ?, ?",
		"SELECT ?3",
		"SELECT ?2, ?",
		"SELECT ?, ?1, ?",
		"SELECT :a, @b, $c, :a, ?",
		"SELECT :a, ?5, :b",
		"SELECT :x, :y, :x, ?2",
		"SELECT ?1, :a, ?1",
		"SELECT $v, $w, ?",
		"SELECT @a + @a * :a",
		"SELECT :A, :a",
		"SELECT ?100",
		"SELECT :\xc3\xa9t\xc3\xa9, @_1, :a1b2, $z9",
		"SELECT :a || :A || ?2 || ?",
	};
	size_t k;

	for (k = 0; k < sizeof(sqls) / sizeof(sqls[0]); k++)
		params_as_sqlite(sqls[k]);
}
END_TEST

START_TEST(test_capi_bind_parameter_limits_as_sqlite)
{
	static const char *const bad[] = {
		"SELECT ?0", "SELECT ?99999999999",
		"SELECT ?-1", "SELECT :", "SELECT ?1a",
	};
	rdb_stmt *st = prep("SELECT ?32766");
	size_t k;

	ck_assert_int_eq(rdb_bind_parameter_count(st), 32766);
	ck_assert_int_eq(rdb_bind_int64(st, 32766, 9), RDB_OK);
	ck_assert_int_eq(rdb_bind_int64(st, 32767, 9), RDB_RANGE);
	ck_assert_str_eq(one(st), "9");
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	/* SQLite's default limit (docs/sql.md); the libsqlite3 at hand may
	 * have been built with a higher one. */
	st = (rdb_stmt *)&k;
	ck_assert_int_eq(rdb_prepare(db, "SELECT ?32767", -1, &st, NULL),
			 RDB_ERROR);
	ck_assert_ptr_eq(st, NULL);
	ck_assert_ptr_ne(strstr(rdb_errmsg(db), "32766"), NULL);
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		sqlite3_stmt *ls = NULL;
		int lrc = sqlite3_prepare_v2(lite, bad[k], -1, &ls, NULL);
		int rc;

		st = (rdb_stmt *)&k;
		rc = rdb_prepare(db, bad[k], -1, &st, NULL);
		sqlite3_finalize(ls);
		ck_assert_msg((rc == RDB_OK) == (lrc == SQLITE_OK),
			      "%s: %d (%s), sqlite %d", bad[k], rc,
			      rdb_errmsg(db), lrc);
		if (rc != RDB_OK)
			ck_assert_ptr_eq(st, NULL);
		rdb_finalize(st == (rdb_stmt *)&k ? NULL : st);
	}
}
END_TEST

START_TEST(test_capi_bind_repeated_name_binds_every_use)
{
	rdb_stmt *st = prep("SELECT :v || $w || :v || ?3");

	ck_assert_int_eq(rdb_bind_parameter_count(st), 3);
	ck_assert_int_eq(rdb_bind_parameter_index(st, ":v"), 1);
	ck_assert_int_eq(rdb_bind_parameter_index(st, "$w"), 2);
	/* The prefix is part of the name. */
	ck_assert_int_eq(rdb_bind_parameter_index(st, "v"), 0);
	ck_assert_int_eq(rdb_bind_parameter_index(st, "@v"), 0);
	ck_assert_str_eq(rdb_bind_parameter_name(st, 3), "?3");
	ck_assert_int_eq(rdb_bind_parameter_index(st, "?3"), 3);
	ck_assert_int_eq(rdb_bind_text(st, 1, "a", -1), RDB_OK);
	ck_assert_int_eq(rdb_bind_text(st, 2, "b", -1), RDB_OK);
	ck_assert_int_eq(rdb_bind_int64(st, 3, 7), RDB_OK);
	ck_assert_str_eq(one(st), "aba7");
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}
END_TEST

START_TEST(test_capi_bind_bad_index_is_range)
{
	rdb_stmt *st = prep("SELECT ?, ?");
	int i;

	for (i = -1; i <= 3; i += 1) {
		int want = i >= 1 && i <= 2 ? RDB_OK : RDB_RANGE;

		ck_assert_int_eq(rdb_bind_null(st, i), want);
		ck_assert_int_eq(rdb_bind_int64(st, i, 1), want);
		ck_assert_int_eq(rdb_bind_double(st, i, 1.5), want);
		ck_assert_int_eq(rdb_bind_text(st, i, "x", 1), want);
		ck_assert_int_eq(rdb_bind_blob(st, i, "x", 1), want);
		ck_assert_int_eq(rdb_bind_bool(st, i, 1), want);
		ck_assert_int_eq(rdb_errcode(db), want);
		if (want == RDB_RANGE)
			ck_assert_ptr_ne(strstr(rdb_errmsg(db), "range"),
					 NULL);
	}
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	st = prep("SELECT 1");
	ck_assert_int_eq(rdb_bind_int64(st, 1, 1), RDB_RANGE);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}
END_TEST

START_TEST(test_capi_bind_while_running_is_misuse)
{
	rdb_stmt *st;

	ok("CREATE TABLE t(a); INSERT INTO t VALUES (1), (2), (3)");
	st = prep("SELECT a + ? FROM t ORDER BY a");
	ck_assert_int_eq(rdb_bind_int64(st, 1, 10), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_column_int64(st, 0), 11);
	ck_assert_int_eq(rdb_bind_int64(st, 1, 20), RDB_MISUSE);
	ck_assert_int_eq(rdb_errcode(db), RDB_MISUSE);
	ck_assert_int_eq(rdb_bind_null(st, 1), RDB_MISUSE);
	ck_assert_int_eq(rdb_bind_text(st, 1, "1", -1), RDB_MISUSE);
	ck_assert_int_eq(rdb_bind_blob(st, 1, "1", 1), RDB_MISUSE);
	ck_assert_int_eq(rdb_bind_double(st, 1, 1), RDB_MISUSE);
	ck_assert_int_eq(rdb_bind_bool(st, 1, 1), RDB_MISUSE);
	/* The binding in use stays. */
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_column_int64(st, 0), 12);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_step(st), RDB_DONE);
	/* Finished: binding is allowed again without a reset. */
	ck_assert_int_eq(rdb_bind_int64(st, 1, 100), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_column_int64(st, 0), 101);
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	ck_assert_int_eq(rdb_bind_int64(st, 1, 200), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_column_int64(st, 0), 201);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}
END_TEST

START_TEST(test_capi_bind_clear_while_running_is_misuse)
{
	rdb_stmt *st;
	int n = 0;

	ok("CREATE TABLE t(a); INSERT INTO t VALUES (1), (2), (3)");
	st = prep("SELECT ?1, ?1 || a FROM t");
	ck_assert_int_eq(rdb_bind_text(st, 1, "text-", -1), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	/* Like the binds: the running statement keeps its values (the row
	 * ready borrows them). */
	ck_assert_int_eq(rdb_clear_bindings(st), RDB_MISUSE);
	ck_assert_int_eq(rdb_errcode(db), RDB_MISUSE);
	do {
		char want[16];

		snprintf(want, sizeof(want), "text-%d", ++n);
		ck_assert_str_eq((const char *)rdb_column_text(st, 0),
				 "text-");
		ck_assert_str_eq((const char *)rdb_column_text(st, 1), want);
	} while (rdb_step(st) == RDB_ROW);
	ck_assert_int_eq(n, 3);
	/* Finished: clearing is allowed. */
	ck_assert_int_eq(rdb_clear_bindings(st), RDB_OK);
	ck_assert_int_eq(rdb_errcode(db), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_column_type(st, 0), RDB_NULL);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}
END_TEST

START_TEST(test_capi_bind_kept_across_reset_until_cleared)
{
	rdb_stmt *st = prep("SELECT ?1, :b");

	ck_assert_int_eq(rdb_bind_int64(st, 1, 5), RDB_OK);
	ck_assert_int_eq(rdb_bind_text(st, 2, "t", -1), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_column_int64(st, 0), 5);
	ck_assert_str_eq((const char *)rdb_column_text(st, 1), "t");
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	ck_assert_int_eq(rdb_clear_bindings(st), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_column_type(st, 0), RDB_NULL);
	ck_assert_int_eq(rdb_column_type(st, 1), RDB_NULL);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	/* Unbound parameters are NULL from the start. */
	st = prep("SELECT ? IS NULL");
	ck_assert_str_eq(one(st), "1");
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}
END_TEST

START_TEST(test_capi_bind_into_table_rows)
{
	rdb_stmt *st;
	int i;

	ok("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b BLOB, c REAL)");
	st = prep("INSERT INTO t(a, b, c) VALUES (:a, :b, :c)");
	for (i = 0; i < 5; i++) {
		char s[16];
		unsigned char b[2] = { (unsigned char)i, 0xff };

		snprintf(s, sizeof(s), "r%d", i);
		ck_assert_int_eq(rdb_bind_text(st, rdb_bind_parameter_index(
				 st, ":a"), s, -1), RDB_OK);
		ck_assert_int_eq(rdb_bind_blob(st, 2, b, 2), RDB_OK);
		ck_assert_int_eq(rdb_bind_double(st, 3, i / 4.0), RDB_OK);
		ck_assert_int_eq(rdb_step(st), RDB_DONE);
		ck_assert_int_eq(rdb_changes(db), 1);
		ck_assert_int_eq(rdb_last_insert_rowid(db), i + 1);
		ck_assert_int_eq(rdb_reset(st), RDB_OK);
	}
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	ck_assert_str_eq(su_query(db, "SELECT a, hex(b), c FROM t WHERE id = 4"),
			 "r3|03FF|0.75");
}
END_TEST

/* ---- column ------------------------------------------------------------------ */

START_TEST(test_capi_column_names_as_sqlite)
{
	static const char *const sqls[] = {
		"SELECT * FROM t",
		"SELECT a, b AS x, a+1, 'lit', t.c, count(*) FROM t",
		"SELECT a AS \"q w\", (SELECT 1) FROM t",
		"SELECT t.* FROM t",
		"SELECT 1, 2.5, NULL, x'00'",
		"SELECT a FROM t UNION SELECT b FROM t",
		"SELECT * FROM (SELECT a AS p, b FROM t)",
		"SELECT * FROM v",
		"SELECT upper(b)  ,  a   +   1 FROM t",
		"SELECT \"a\", [b], `c`, \"t\".\"a\" FROM t",
		"SELECT x.a, y.b FROM t AS x, t AS y",
		"SELECT DISTINCT a FROM t ORDER BY a",
		"SELECT a AS x FROM t ORDER BY x",
		"SELECT *, a FROM t",
		"SELECT count(*) AS n, max(a) FROM t GROUP BY b",
		"SELECT CAST(a AS TEXT), -a, NOT a, a IS NULL FROM t",
		"SELECT 'it''s', \"b\" AS \"x y\" FROM t",
		"SELECT (SELECT max(a) FROM t) AS m",
		"SELECT a FROM t WHERE a IN (SELECT a FROM t)",
		"SELECT * FROM t AS x JOIN t AS y USING (a)",
		"SELECT * FROM t NATURAL JOIN v",
		"SELECT CASE WHEN a THEN 1 ELSE 2 END FROM t",
		"SELECT a -- comment\n FROM t",
	};
	size_t k;

	both("CREATE TABLE t(a INTEGER, b TEXT, c); CREATE VIEW v AS "
	     "SELECT a AS va, c FROM t");
	for (k = 0; k < sizeof(sqls) / sizeof(sqls[0]); k++) {
		rdb_stmt *st = prep(sqls[k]);
		sqlite3_stmt *ls = lprep(sqls[k]);
		int i, n = sqlite3_column_count(ls);

		ck_assert_int_eq(rdb_column_count(st), n);
		for (i = 0; i < n; i++)
			ck_assert_msg(strcmp(rdb_column_name(st, i),
					     sqlite3_column_name(ls, i)) == 0,
				      "%s: column %d: '%s', sqlite '%s'",
				      sqls[k], i, rdb_column_name(st, i),
				      sqlite3_column_name(ls, i));
		ck_assert_ptr_eq(rdb_column_name(st, n), NULL);
		ck_assert_ptr_eq(rdb_column_name(st, -1), NULL);
		sqlite3_finalize(ls);
		ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	}
}
END_TEST

START_TEST(test_capi_column_decltype_as_sqlite)
{
	static const char *const sqls[] = {
		"SELECT * FROM t",
		"SELECT a, a + 1, b || '', c, d, 1, CAST(a AS TEXT) FROM t",
		"SELECT t.b, e FROM t",
		"SELECT max(a), count(*) FROM t",
		"SELECT a AS renamed FROM t",
		"SELECT x.a FROM t AS x",
		"SELECT d FROM t WHERE a >= 1 ORDER BY b",
		"SELECT a FROM t UNION ALL SELECT a FROM t",
		/* through views and subqueries to the table */
		"SELECT * FROM v",
		"SELECT a1, d FROM w",
		"SELECT p FROM (SELECT a AS p FROM t)",
		"SELECT * FROM (SELECT b, a + 1, e FROM t) AS s",
		"SELECT (SELECT b FROM t), (SELECT d + 1 FROM t) FROM t",
		"SELECT (SELECT (SELECT e FROM t)) FROM t",
		"SELECT x FROM (SELECT b AS x FROM t UNION SELECT d FROM t)",
		"SELECT (SELECT b FROM t EXCEPT SELECT e FROM t) FROM t",
		"SELECT b FROM t UNION SELECT d FROM t",
		"SELECT * FROM (SELECT a, b FROM t) JOIN v ON a + 1 = a1",
		"SELECT c FROM (SELECT (SELECT c FROM t) AS c)",
		"SELECT column1 FROM (VALUES (1))",
	};
	size_t k;

	both("CREATE TABLE t(a INTEGER, b VARCHAR(20), c, d double precision,"
	     " e BOOLEAN)");
	both("INSERT INTO t VALUES (1, 'x', 2, 3.5, 1)");
	both("CREATE VIEW v AS SELECT d, a + 1 AS a1, e FROM t");
	both("CREATE VIEW w AS SELECT * FROM v");
	/* As PRAGMA table_info reports the untyped column. */
	ck_assert_ptr_ne(strstr(su_query(db, "PRAGMA table_info(t)"),
				"\n2|c|ANY|"), NULL);
	for (k = 0; k < sizeof(sqls) / sizeof(sqls[0]); k++) {
		rdb_stmt *st = prep(sqls[k]);
		sqlite3_stmt *ls = lprep(sqls[k]);
		int i, n = sqlite3_column_count(ls), pass;

		/* Before the first step, and on a row. */
		for (pass = 0; pass < 2; pass++) {
			for (i = 0; i < n; i++) {
				const char *a = rdb_column_decltype(st, i);
				const char *b = sqlite3_column_decltype(ls, i);

				/* A column declared without a type is ANY
				 * in rdb (docs/sql.md, "Schema statements"). */
				if (b == NULL && strcmp(rdb_column_name(st, i),
							"c") == 0)
					b = "ANY";

				ck_assert_msg((a == NULL) == (b == NULL) &&
					      (a == NULL || !strcmp(a, b)),
					      "%s: column %d: '%s', sqlite "
					      "'%s'", sqls[k], i,
					      a ? a : "(null)",
					      b ? b : "(null)");
			}
			if (pass == 0) {
				ck_assert_int_eq(rdb_step(st), RDB_ROW);
				ck_assert_int_eq(sqlite3_step(ls), SQLITE_ROW);
			}
		}
		ck_assert_ptr_eq(rdb_column_decltype(st, n), NULL);
		ck_assert_ptr_eq(rdb_column_decltype(st, -1), NULL);
		sqlite3_finalize(ls);
		ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	}
}
END_TEST

/* One value: bound through bind, or given by an SQL expression. */
typedef struct val {
	int kind;                 /* 0 expr, 1 int, 2 real, 3 text, 4 blob */
	const char *expr;         /* kind 0 */
	int64_t i;
	double r;
	const char *p;            /* text or blob bytes */
	int n;
} val;

static void bind_both(rdb_stmt *st, sqlite3_stmt *ls, const val *v)
{
	switch (v->kind) {
	case 1:
		ck_assert_int_eq(rdb_bind_int64(st, 1, v->i), RDB_OK);
		ck_assert_int_eq(sqlite3_bind_int64(ls, 1, v->i), SQLITE_OK);
		break;
	case 2:
		ck_assert_int_eq(rdb_bind_double(st, 1, v->r), RDB_OK);
		ck_assert_int_eq(sqlite3_bind_double(ls, 1, v->r), SQLITE_OK);
		break;
	case 3:
		ck_assert_int_eq(rdb_bind_text(st, 1, v->p, v->n), RDB_OK);
		ck_assert_int_eq(sqlite3_bind_text(ls, 1, v->p, v->n,
						   SQLITE_TRANSIENT),
				 SQLITE_OK);
		break;
	case 4:
		ck_assert_int_eq(rdb_bind_blob(st, 1, v->p, v->n), RDB_OK);
		ck_assert_int_eq(sqlite3_bind_blob(ls, 1, v->p, v->n,
						   SQLITE_TRANSIENT),
				 SQLITE_OK);
		break;
	}
}

/* Read v back through getter g (0 type, 1 int64, 2 double, 3 text then
 * bytes, 4 blob then bytes, 5 bytes then text) from both engines. */
static void compare_getter(const val *v, int g, const char *what)
{
	char sql[160];
	rdb_stmt *st;
	sqlite3_stmt *ls;

	snprintf(sql, sizeof(sql), "SELECT %s", v->kind == 0 ? v->expr : "?");
	st = prep(sql);
	ls = lprep(sql);
	bind_both(st, ls, v);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(sqlite3_step(ls), SQLITE_ROW);
	if (g == 0) {
		ck_assert_msg(rdb_column_type(st, 0) ==
			      sqlite3_column_type(ls, 0), "%s: type %d, sqlite"
			      " %d", what, rdb_column_type(st, 0),
			      sqlite3_column_type(ls, 0));
	} else if (g == 1) {
		long long a = rdb_column_int64(st, 0);
		long long b = sqlite3_column_int64(ls, 0);

		ck_assert_msg(a == b, "%s: int64 %lld, sqlite %lld", what, a, b);
	} else if (g == 2) {
		double a = rdb_column_double(st, 0);
		double b = sqlite3_column_double(ls, 0);

		ck_assert_msg(memcmp(&a, &b, sizeof(a)) == 0 ||
			      (isnan(a) && isnan(b)),
			      "%s: double %.17g, sqlite %.17g", what, a, b);
	} else {
		const void *a, *b;
		int na, nb;

		if (g == 5) {
			na = rdb_column_bytes(st, 0);
			nb = sqlite3_column_bytes(ls, 0);
			a = rdb_column_text(st, 0);
			b = sqlite3_column_text(ls, 0);
		} else {
			a = g == 3 ? (const void *)rdb_column_text(st, 0)
				   : rdb_column_blob(st, 0);
			b = g == 3 ? (const void *)sqlite3_column_text(ls, 0)
				   : sqlite3_column_blob(ls, 0);
			na = rdb_column_bytes(st, 0);
			nb = sqlite3_column_bytes(ls, 0);
		}
		ck_assert_msg(na == nb, "%s: getter %d: %d bytes, sqlite %d",
			      what, g, na, nb);
		ck_assert_msg((a == NULL) == (b == NULL), "%s: getter %d: "
			      "pointer %p, sqlite %p", what, g, a, b);
		if (a != NULL)
			ck_assert_msg(memcmp(a, b, (size_t)na) == 0,
				      "%s: getter %d: '%.*s', sqlite '%.*s'",
				      what, g, na, (const char *)a, nb,
				      (const char *)b);
		/* Text is NUL-terminated past its bytes. */
		if (a != NULL && g != 4)
			ck_assert_int_eq(((const char *)a)[na], '\0');
	}
	sqlite3_finalize(ls);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}

static const val vals[] = {
	{ 1, NULL, 0, 0, NULL, 0 }, { 1, NULL, -1, 0, NULL, 0 },
	{ 1, NULL, INT64_MAX, 0, NULL, 0 }, { 1, NULL, INT64_MIN, 0, NULL, 0 },
	{ 1, NULL, 1234567890123LL, 0, NULL, 0 },
	{ 2, NULL, 0, 0.0, NULL, 0 }, { 2, NULL, 0, -0.0, NULL, 0 },
	{ 2, NULL, 0, 1.5, NULL, 0 }, { 2, NULL, 0, -2.75, NULL, 0 },
	{ 2, NULL, 0, 0.1, NULL, 0 }, { 2, NULL, 0, 1e300, NULL, 0 },
	{ 2, NULL, 0, -1e-300, NULL, 0 }, { 2, NULL, 0, 1e20, NULL, 0 },
	{ 2, NULL, 0, -1e20, NULL, 0 }, { 2, NULL, 0, 9.2233720368547758e18,
					   NULL, 0 },
	{ 2, NULL, 0, 123456789.0, NULL, 0 }, { 2, NULL, 0, 1e15, NULL, 0 },
	{ 2, NULL, 0, 1e16, NULL, 0 }, { 2, NULL, 0, 3.999999, NULL, 0 },
	{ 2, NULL, 0, -3.999999, NULL, 0 }, { 2, NULL, 0, 4.9e-324, NULL, 0 },
	{ 3, NULL, 0, 0, "", 0 }, { 3, NULL, 0, 0, "abc", -1 },
	{ 3, NULL, 0, 0, "12", -1 }, { 3, NULL, 0, 0, " 12 ", -1 },
	{ 3, NULL, 0, 0, "12abc", -1 }, { 3, NULL, 0, 0, "-7.5e2x", -1 },
	{ 3, NULL, 0, 0, "1e5", -1 }, { 3, NULL, 0, 0, "0x10", -1 },
	{ 3, NULL, 0, 0, "9223372036854775807", -1 },
	{ 3, NULL, 0, 0, "9223372036854775808", -1 },
	{ 3, NULL, 0, 0, "-9223372036854775809", -1 },
	{ 3, NULL, 0, 0, "1e400", -1 }, { 3, NULL, 0, 0, ".5", -1 },
	{ 3, NULL, 0, 0, "+3", -1 }, { 3, NULL, 0, 0, "- 3", -1 },
	{ 3, NULL, 0, 0, "3.9", -1 }, { 3, NULL, 0, 0, "a\0b", 3 },
	{ 3, NULL, 0, 0, "\t\n 42", -1 },
	{ 4, NULL, 0, 0, "", 0 }, { 4, NULL, 0, 0, "12", 2 },
	{ 4, NULL, 0, 0, "\0\1\2", 3 }, { 4, NULL, 0, 0, "3.5xyz", 6 },
	{ 0, "NULL", 0, 0, NULL, 0 }, { 0, "1e300 * 1e300", 0, 0, NULL, 0 },
	{ 0, "-1e300 * 1e300", 0, 0, NULL, 0 }, { 0, "x''", 0, 0, NULL, 0 },
	{ 0, "''", 0, 0, NULL, 0 }, { 0, "10 / 4.0", 0, 0, NULL, 0 },
	{ 0, "2.0", 0, 0, NULL, 0 }, { 0, "-0.0", 0, 0, NULL, 0 },
	{ 0, "CAST('5' AS INTEGER)", 0, 0, NULL, 0 },
	{ 0, "zeroblob(3)", 0, 0, NULL, 0 },
};

START_TEST(test_capi_column_conversions_as_sqlite)
{
	size_t k;
	int g;

	for (k = 0; k < sizeof(vals) / sizeof(vals[0]); k++)
		for (g = 0; g <= 5; g++) {
			char what[32];

			snprintf(what, sizeof(what), "value %zu", k);
			compare_getter(&vals[k], g, what);
		}
}
END_TEST

START_TEST(test_capi_column_random_conversions_as_sqlite)
{
	static const char alphabet[] = "0123456789012345.eE+- x\t";
	uint64_t seed = tu_seed(), r;
	long n = tu_scaled(1500, 200), k;
	int g;

	tu_seed_note("conversions", seed);
	r = seed | 1;
	for (k = 0; k < n; k++) {
		char text[24], what[64];
		val v = { 0, NULL, 0, 0, NULL, 0 };
		uint64_t bits = tu_rand(&r);
		size_t len, j;

		switch (k % 3) {
		case 0:
			len = 1 + tu_rand_below(&r, 16);
			for (j = 0; j < len; j++)
				text[j] = alphabet[tu_rand_below(&r,
						   sizeof(alphabet) - 1)];
			text[len] = '\0';
			v.kind = 3;
			v.p = text;
			v.n = -1;
			break;
		case 1:
			/* Any finite double, and round ones. */
			memcpy(&v.r, &bits, sizeof(v.r));
			if (!isfinite(v.r) || tu_rand_below(&r, 2))
				v.r = (double)(int64_t)(bits >> 20) /
				      (double)(1 << tu_rand_below(&r, 20));
			v.kind = 2;
			break;
		default:
			v.i = (int64_t)(bits >> tu_rand_below(&r, 64));
			v.kind = 1;
			break;
		}
		snprintf(what, sizeof(what), "value %ld (seed %llu)", k,
			 (unsigned long long)seed);
		for (g = 0; g <= 3; g++)
			compare_getter(&v, g, what);
	}
}
END_TEST

START_TEST(test_capi_column_values_from_table_as_sqlite)
{
	static const char *const cols[] = { "i", "r", "t", "b", "n", "i + r",
					    "t || i" };
	size_t k;

	both("CREATE TABLE t(i INTEGER, r REAL, t TEXT, b BLOB, n)");
	both("INSERT INTO t VALUES (7, 2.5, '0031', x'4142', NULL)");
	both("INSERT INTO t VALUES ('8', '3', 4.0, x'00', 1.0)");
	for (k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
		char sql[96];
		rdb_stmt *st;
		sqlite3_stmt *ls;
		int row;

		snprintf(sql, sizeof(sql), "SELECT %s FROM t ORDER BY rowid",
			 cols[k]);
		st = prep(sql);
		ls = lprep(sql);
		for (row = 0; row < 2; row++) {
			const char *a, *b;

			ck_assert_int_eq(rdb_step(st), RDB_ROW);
			ck_assert_int_eq(sqlite3_step(ls), SQLITE_ROW);
			ck_assert_int_eq(rdb_column_type(st, 0),
					 sqlite3_column_type(ls, 0));
			ck_assert_int_eq(rdb_column_int64(st, 0),
					 sqlite3_column_int64(ls, 0));
			ck_assert(rdb_column_double(st, 0) ==
				  sqlite3_column_double(ls, 0));
			a = (const char *)rdb_column_text(st, 0);
			b = (const char *)sqlite3_column_text(ls, 0);
			ck_assert_msg((a == NULL && b == NULL) ||
				      (a && b && !strcmp(a, b)),
				      "%s row %d: '%s', sqlite '%s'", sql, row,
				      a ? a : "(null)", b ? b : "(null)");
			ck_assert_int_eq(rdb_column_bytes(st, 0),
					 sqlite3_column_bytes(ls, 0));
		}
		ck_assert_int_eq(rdb_step(st), RDB_DONE);
		sqlite3_finalize(ls);
		ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	}
}
END_TEST

/* Every getter of column i of st when no value is there. */
static void no_value(rdb_stmt *st, int i)
{
	ck_assert_int_eq(rdb_column_type(st, i), RDB_NULL);
	ck_assert_int_eq(rdb_column_int64(st, i), 0);
	ck_assert(rdb_column_double(st, i) == 0.0);
	ck_assert_ptr_eq(rdb_column_text(st, i), NULL);
	ck_assert_ptr_eq(rdb_column_blob(st, i), NULL);
	ck_assert_int_eq(rdb_column_bytes(st, i), 0);
}

START_TEST(test_capi_column_out_of_range_or_no_row_is_null)
{
	rdb_stmt *st;

	ok("CREATE TABLE t(a, b); INSERT INTO t VALUES (1, 'x')");
	st = prep("SELECT a, b FROM t");
	ck_assert_int_eq(rdb_column_count(st), 2);
	/* Before the first step: names and count, no values. */
	ck_assert_str_eq(rdb_column_name(st, 1), "b");
	no_value(st, 0);
	no_value(st, 1);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	no_value(st, 2);
	no_value(st, -1);
	no_value(st, 1 << 30);
	ck_assert_int_eq(rdb_column_int64(st, 0), 1);
	ck_assert_int_eq(rdb_step(st), RDB_DONE);
	/* After the last row and after a reset. */
	no_value(st, 0);
	ck_assert_int_eq(rdb_column_count(st), 2);
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	no_value(st, 1);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	/* A statement without result columns. */
	st = prep("INSERT INTO t VALUES (2, 'y')");
	ck_assert_int_eq(rdb_column_count(st), 0);
	ck_assert_ptr_eq(rdb_column_name(st, 0), NULL);
	ck_assert_int_eq(rdb_step(st), RDB_DONE);
	no_value(st, 0);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}
END_TEST

START_TEST(test_capi_column_names_outlive_steps)
{
	rdb_stmt *st;
	const char *name, *decl;

	ok("CREATE TABLE t(longer_name TEXT); INSERT INTO t VALUES ('a')");
	st = prep("SELECT longer_name FROM t");
	name = rdb_column_name(st, 0);
	decl = rdb_column_decltype(st, 0);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_step(st), RDB_DONE);
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_str_eq(name, "longer_name");
	ck_assert_str_eq(decl, "TEXT");
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}
END_TEST

/* ---- stmt --------------------------------------------------------------------- */

START_TEST(test_capi_stmt_sql_and_tail_as_sqlite)
{
	static const char *const texts[] = {
		"SELECT 1;  SELECT 2", "  SELECT 2", "SELECT 3 ;\n",
		"SELECT 4 -- c\n; SELECT 5", "SELECT ';' ; x",
		"/* c */ SELECT 6;", "SELECT 7", "SELECT 8 /* open",
		"SELECT 9 -- end", "SELECT 10;/* open",
	};
	size_t k;

	for (k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
		const char *tail = NULL, *lt = NULL;
		rdb_stmt *st = NULL;
		sqlite3_stmt *ls = NULL;

		ck_assert_int_eq(rdb_prepare(db, texts[k], -1, &st, &tail),
				 RDB_OK);
		ck_assert_int_eq(sqlite3_prepare_v2(lite, texts[k], -1, &ls,
						    &lt), SQLITE_OK);
		ck_assert_ptr_eq(rdb_db_handle(st), db);
		ck_assert_msg(strcmp(rdb_sql(st), sqlite3_sql(ls)) == 0,
			      "'%s': '%s', sqlite '%s'", texts[k], rdb_sql(st),
			      sqlite3_sql(ls));
		ck_assert_msg(tail == lt, "'%s': tail '%s', sqlite '%s'",
			      texts[k], tail, lt);
		/* The text is the statement's own copy. */
		ck_assert_ptr_ne(rdb_sql(st), texts[k]);
		sqlite3_finalize(ls);
		ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	}
}
END_TEST

START_TEST(test_capi_stmt_readonly_as_sqlite)
{
	static const char *const sqls[] = {
		"SELECT 1", "SELECT * FROM t", "VALUES (1), (2)",
		"INSERT INTO t VALUES (1)", "UPDATE t SET a = 2",
		"DELETE FROM t", "REPLACE INTO t VALUES (3)",
		"CREATE TABLE u(x)", "CREATE INDEX ta ON t(a)",
		"CREATE VIEW w AS SELECT 1", "DROP TABLE t", "DROP VIEW v",
		"ALTER TABLE t ADD COLUMN b", "BEGIN", "BEGIN DEFERRED",
		"BEGIN IMMEDIATE", "BEGIN EXCLUSIVE", "BEGIN TRANSACTION",
		"COMMIT", "END", "ROLLBACK", "SAVEPOINT s", "RELEASE s",
		"EXPLAIN SELECT 1", "EXPLAIN QUERY PLAN SELECT * FROM t",
		"PRAGMA page_count", "PRAGMA table_info(t)",
		"PRAGMA integrity_check", "PRAGMA cache_size = 100",
		"PRAGMA synchronous = OFF", "PRAGMA cache_size",
		"CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END",
	};
	size_t k;

	both("CREATE TABLE t(a); CREATE VIEW v AS SELECT a FROM t");
	for (k = 0; k < sizeof(sqls) / sizeof(sqls[0]); k++) {
		rdb_stmt *st = prep(sqls[k]);
		sqlite3_stmt *ls = lprep(sqls[k]);

		ck_assert_msg(rdb_stmt_readonly(st) ==
			      (sqlite3_stmt_readonly(ls) != 0), "%s: %d, "
			      "sqlite %d", sqls[k], rdb_stmt_readonly(st),
			      sqlite3_stmt_readonly(ls));
		sqlite3_finalize(ls);
		ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	}
}
END_TEST

START_TEST(test_capi_stmt_prepare_tail_walks_statements)
{
	const char *text = "CREATE TABLE t(a);INSERT INTO t VALUES (1);\n"
			   "  -- note; with a semicolon\n"
			   "INSERT INTO t VALUES ('x;y') ; /* c; */ SELECT "
			   "count(*) FROM t;  \n  ";
	const char *tail = text, *prev;
	int n = 0;

	while (*tail != '\0') {
		rdb_stmt *st = NULL;

		prev = tail;
		ck_assert_int_eq(rdb_prepare(db, tail, -1, &st, &tail),
				 RDB_OK);
		ck_assert(tail > prev);
		if (st == NULL)
			break;
		n++;
		while (rdb_step(st) == RDB_ROW)
			ck_assert_int_eq(rdb_column_int64(st, 0), 2);
		ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	}
	ck_assert_int_eq(n, 4);
	/* The tail stops at or after the statement's ';', never before. */
	{
		const char *t2 = NULL;
		sqlite3_stmt *ls = NULL;
		const char *lt = NULL;
		rdb_stmt *st = NULL;

		ck_assert_int_eq(rdb_prepare(db, text, -1, &st, &t2), RDB_OK);
		ck_assert_int_eq(sqlite3_prepare_v2(lite, text, -1, &ls, &lt),
				 SQLITE_OK);
		ck_assert(t2 >= lt);
		ck_assert_str_eq(t2, "INSERT INTO t VALUES (1);\n  -- note; "
				 "with a semicolon\nINSERT INTO t VALUES ('x;y')"
				 " ; /* c; */ SELECT count(*) FROM t;  \n  ");
		sqlite3_finalize(ls);
		ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	}
}
END_TEST

START_TEST(test_capi_stmt_prepare_nbyte_limits_text)
{
	const char *text = "SELECT 12; SELECT 3";
	const char *tail = NULL;
	rdb_stmt *st = NULL;

	/* Only the first nbyte bytes are read: "SELECT 1". */
	ck_assert_int_eq(rdb_prepare(db, text, 8, &st, &tail), RDB_OK);
	ck_assert_ptr_eq(tail, text + 8);
	ck_assert_str_eq(rdb_sql(st), "SELECT 1");
	ck_assert_str_eq(one(st), "1");
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	ck_assert_int_eq(rdb_prepare(db, text, 10, &st, &tail), RDB_OK);
	ck_assert_ptr_eq(tail, text + 10);
	ck_assert_str_eq(one(st), "12");
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	/* nbyte past the NUL stops at the NUL. */
	ck_assert_int_eq(rdb_prepare(db, "SELECT 4", 1000, &st, &tail),
			 RDB_OK);
	ck_assert_str_eq(one(st), "4");
	ck_assert_str_eq(tail, "");
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	/* nbyte 0: nothing to compile. */
	st = (rdb_stmt *)&tail;
	ck_assert_int_eq(rdb_prepare(db, text, 0, &st, &tail), RDB_OK);
	ck_assert_ptr_eq(st, NULL);
	ck_assert_ptr_eq(tail, text);
	/* Cut inside a string: an error, nothing compiled. */
	st = (rdb_stmt *)&tail;
	ck_assert_int_ne(rdb_prepare(db, "SELECT 'abc'", 10, &st, NULL),
			 RDB_OK);
	ck_assert_ptr_eq(st, NULL);
}
END_TEST

START_TEST(test_capi_stmt_prepare_empty_text_gives_null)
{
	static const char *const texts[] = {
		"", "   ", "\n\t ", "-- only a comment", "/* block */",
		"/* a */ -- b\n  ", ";", " ; ;; ", "-- x\n;", "/* open",
		"-- no newline", "/* a */;/* b",
	};
	size_t k;

	for (k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
		rdb_stmt *st = (rdb_stmt *)&k;
		sqlite3_stmt *ls = NULL;
		const char *tail = NULL;
		int rc = rdb_prepare(db, texts[k], -1, &st, &tail);

		ck_assert_int_eq(sqlite3_prepare_v2(lite, texts[k], -1, &ls,
						    NULL), SQLITE_OK);
		ck_assert_ptr_eq(ls, NULL);
		ck_assert_msg(rc == RDB_OK && st == NULL, "'%s': %d %p",
			      texts[k], rc, (void *)st);
		ck_assert_int_eq(rdb_errcode(db), RDB_OK);
	}
}
END_TEST

START_TEST(test_capi_stmt_prepare_error_leaves_null_and_message)
{
	static const char *const bad[] = {
		"SELEC 1", "SELECT * FROM missing", "SELECT nofunc(1)",
		"INSERT INTO t VALUES (1, 2, 3)", "SELECT 'unterminated",
		"SELECT (1", "SELECT 1 FROM t WHERE",
	};
	static const char *const ddl[] = {
		"CREATE TABLE t(x)", "DROP TABLE missing",
		"CREATE VIEW t AS SELECT 1", "CREATE INDEX i ON t(nocol)",
		"ALTER TABLE t ADD COLUMN a", "DROP INDEX missing",
	};
	size_t k;

	both("CREATE TABLE t(a)");
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		rdb_stmt *st = (rdb_stmt *)&k;
		int rc = rdb_prepare(db, bad[k], -1, &st, NULL);

		ck_assert_msg(rc == RDB_ERROR, "%s: %d", bad[k], rc);
		ck_assert_ptr_eq(st, NULL);
		ck_assert_int_eq(rdb_errcode(db), rc);
		ck_assert_str_ne(rdb_errmsg(db), "not an error");
		ck_assert_str_ne(rdb_errmsg(db), "");
	}
	/* Schema statements check names when they run (docs/sql.md). */
	for (k = 0; k < sizeof(ddl) / sizeof(ddl[0]); k++) {
		rdb_stmt *st = prep(ddl[k]);
		sqlite3_stmt *ls = NULL;

		ck_assert_int_eq(sqlite3_prepare_v2(lite, ddl[k], -1, &ls,
						    NULL), SQLITE_ERROR);
		ck_assert_int_eq(rdb_step(st), RDB_ERROR);
		ck_assert_str_ne(rdb_errmsg(db), "not an error");
		ck_assert_int_eq(rdb_finalize(st), RDB_ERROR);
	}
	ck_assert_str_eq(su_query(db, "SELECT type FROM rdb_tables WHERE "
				  "name = 't'"), "table");
	/* A good prepare clears the error. */
	rdb_finalize(prep("SELECT 1"));
	ck_assert_int_eq(rdb_errcode(db), RDB_OK);
	ck_assert_str_eq(rdb_errmsg(db), "not an error");
}
END_TEST

START_TEST(test_capi_stmt_step_after_done_runs_again)
{
	rdb_stmt *st;

	ok("CREATE TABLE t(a); INSERT INTO t VALUES (1), (2)");
	st = prep("SELECT a FROM t ORDER BY a");
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_step(st), RDB_DONE);
	/* As sqlite3 since 3.6.23.1: a step after DONE starts again. */
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_column_int64(st, 0), 1);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}
END_TEST

START_TEST(test_capi_stmt_error_codes_through_reset_and_finalize)
{
	rdb_stmt *st;

	ok("CREATE TABLE t(a INTEGER PRIMARY KEY, b UNIQUE)");
	ok("INSERT INTO t VALUES (1, 'x')");
	st = prep("INSERT INTO t(b) VALUES ('y'), ('z'), ('x')");
	ck_assert_int_eq(rdb_step(st), RDB_CONSTRAINT);
	ck_assert_int_eq(rdb_errcode(db), RDB_CONSTRAINT);
	ck_assert_ptr_ne(strstr(rdb_errmsg(db), "UNIQUE"), NULL);
	/* The statement's rows are rolled back, all of them. */
	ck_assert_str_eq(su_query(db, "SELECT count(*) FROM t"), "1");
	ck_assert_int_eq(rdb_reset(st), RDB_CONSTRAINT);
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_CONSTRAINT);
	ck_assert_int_eq(rdb_finalize(st), RDB_CONSTRAINT);
	/* Inside a transaction only the statement is undone. */
	ok("BEGIN; INSERT INTO t(b) VALUES ('k')");
	st = prep("UPDATE t SET b = 'x' WHERE b = 'k'");
	ck_assert_int_eq(rdb_step(st), RDB_CONSTRAINT);
	ck_assert_int_eq(rdb_get_autocommit(db), 0);
	ck_assert_int_eq(rdb_finalize(st), RDB_CONSTRAINT);
	ok("COMMIT");
	ck_assert_str_eq(su_query(db, "SELECT b FROM t ORDER BY a"), "x\nk");
	/* A statement finished without error: finalize gives OK. */
	st = prep("SELECT 1");
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}
END_TEST

START_TEST(test_capi_stmt_runtime_error_then_rerun)
{
	rdb_stmt *st;

	ok("CREATE TABLE t(a NOT NULL)");
	st = prep("INSERT INTO t VALUES (?)");
	ck_assert_int_eq(rdb_step(st), RDB_CONSTRAINT);
	ck_assert_ptr_ne(strstr(rdb_errmsg(db), "NOT NULL"), NULL);
	ck_assert_int_eq(rdb_reset(st), RDB_CONSTRAINT);
	ck_assert_int_eq(rdb_bind_int64(st, 1, 3), RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_DONE);
	ck_assert_int_eq(rdb_errcode(db), RDB_OK);
	ck_assert_int_eq(rdb_reset(st), RDB_OK);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	ck_assert_str_eq(su_query(db, "SELECT a FROM t"), "3");
}
END_TEST

START_TEST(test_capi_stmt_recompiled_after_schema_change)
{
	rdb_stmt *st;

	both("CREATE TABLE t(a INTEGER); INSERT INTO t VALUES (1)");
	st = prep("SELECT ?1 + a, * FROM t");
	ck_assert_int_eq(rdb_bind_int64(st, 1, 10), RDB_OK);
	ck_assert_int_eq(rdb_column_count(st), 2);
	ok("ALTER TABLE t ADD COLUMN b TEXT");
	/* The step compiles it again: new columns, bindings kept. */
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_column_count(st), 3);
	ck_assert_str_eq(rdb_column_name(st, 2), "b");
	ck_assert_str_eq(rdb_column_decltype(st, 2), "TEXT");
	ck_assert_int_eq(rdb_column_int64(st, 0), 11);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	/* A table gone: the step reports it, and again after a reset. */
	st = prep("SELECT a FROM t");
	ok("DROP TABLE t");
	ck_assert_int_eq(rdb_step(st), RDB_ERROR);
	ck_assert_ptr_ne(strstr(rdb_errmsg(db), "t"), NULL);
	ck_assert_int_eq(rdb_reset(st), RDB_ERROR);
	ck_assert_int_eq(rdb_step(st), RDB_ERROR);
	ok("CREATE TABLE t(a INTEGER); INSERT INTO t VALUES (5)");
	ck_assert_int_eq(rdb_reset(st), RDB_ERROR);
	ck_assert_str_eq(one(st), "5");
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}
END_TEST

START_TEST(test_capi_stmt_write_while_reading_as_sqlite)
{
	rdb_stmt *st;
	sqlite3_stmt *ls;
	int rc, lrc;

	both("CREATE TABLE t(a); INSERT INTO t VALUES (1), (2), (3)");
	st = prep("SELECT a FROM t ORDER BY a");
	ls = lprep("SELECT a FROM t ORDER BY a");
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(sqlite3_step(ls), SQLITE_ROW);
	/* Another statement of the same connection writes meanwhile. */
	rc = rdb_exec(db, "INSERT INTO t VALUES (4)", NULL, NULL, NULL);
	lrc = sqlite3_exec(lite, "INSERT INTO t VALUES (4)", NULL, NULL, NULL);
	ck_assert_msg((rc == RDB_OK) == (lrc == SQLITE_OK), "%d (%s), "
		      "sqlite %d", rc, rdb_errmsg(db), lrc);
	while (rdb_step(st) == RDB_ROW)
		;
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	sqlite3_finalize(ls);
	ck_assert_str_eq(su_query(db, "SELECT count(*) FROM t"), "4");
}
END_TEST

/* ---- exec ----------------------------------------------------------------------- */

typedef struct rows {
	sbuf b;
	int calls, stop_at;
} rows;

static int collect(void *arg, int n, char **v, char **names)
{
	rows *r = arg;
	int i;

	for (i = 0; i < n; i++)
		sb_add(&r->b, "%s%s=%s", i ? "," : "", names[i],
		       v[i] ? v[i] : "(null)");
	sb_add(&r->b, ";");
	r->calls++;
	return r->stop_at != 0 && r->calls >= r->stop_at;
}

START_TEST(test_capi_exec_callback_values_and_names)
{
	rows r = { { 0 }, 0, 0 };
	char *msg = (char *)&r;
	char *s;

	ck_assert_int_eq(rdb_exec(db, "CREATE TABLE t(a, b); INSERT INTO t "
				  "VALUES (1, 'x'), (NULL, 2.5), (x'41', '');"
				  "SELECT a, b AS bee FROM t ORDER BY rowid; "
				  "SELECT count(*) FROM t", collect, &r, &msg),
			 RDB_OK);
	ck_assert_ptr_eq(msg, NULL);
	ck_assert_int_eq(r.calls, 4);
	s = sb_take(&r.b);
	ck_assert_str_eq(s, "a=1,bee=x;a=(null),bee=2.5;a=A,bee=;"
			 "count(*)=3;");
	free(s);
	/* NULL callback: the statements still run. */
	ck_assert_int_eq(rdb_exec(db, "INSERT INTO t VALUES (9, 9); SELECT *"
				  " FROM t", NULL, NULL, NULL), RDB_OK);
	ck_assert_str_eq(su_query(db, "SELECT count(*) FROM t"), "4");
	/* Empty statements between others are skipped, as in SQLite. */
	r = (rows){ { 0 }, 0, 0 };
	ck_assert_int_eq(rdb_exec(db, " ; ;SELECT 1 AS one;;-- c\n; SELECT 2"
				  " AS two; -- trailing", collect, &r, NULL),
			 RDB_OK);
	s = sb_take(&r.b);
	ck_assert_str_eq(s, "one=1;two=2;");
	free(s);
}
END_TEST

START_TEST(test_capi_exec_callback_abort_is_interrupt)
{
	rows r = { { 0 }, 0, 2 };
	char *msg = NULL;
	char *s;

	ok("CREATE TABLE t(a); INSERT INTO t VALUES (1), (2), (3)");
	ck_assert_int_eq(rdb_exec(db, "SELECT a FROM t ORDER BY a; INSERT INTO"
				  " t VALUES (4)", collect, &r, &msg),
			 RDB_INTERRUPT);
	ck_assert_int_eq(r.calls, 2);
	ck_assert_ptr_nonnull(msg);
	ck_assert_str_eq(msg, rdb_errmsg(db));
	ck_assert_int_eq(rdb_errcode(db), RDB_INTERRUPT);
	rdb_free_msg(msg);
	s = sb_take(&r.b);
	free(s);
	/* The statements after the aborted one did not run. */
	ck_assert_str_eq(su_query(db, "SELECT count(*) FROM t"), "3");
	/* And the connection is usable (no statement left open). */
	ok("INSERT INTO t VALUES (5)");
}
END_TEST

START_TEST(test_capi_exec_error_message_is_callers_copy)
{
	char *msg = NULL;

	ok("CREATE TABLE t(a UNIQUE); INSERT INTO t VALUES (1)");
	ck_assert_int_eq(rdb_exec(db, "INSERT INTO t VALUES (2); INSERT INTO t"
				  " VALUES (1); INSERT INTO t VALUES (3)",
				  NULL, NULL, &msg), RDB_CONSTRAINT);
	ck_assert_ptr_nonnull(msg);
	ck_assert_ptr_ne(msg, rdb_errmsg(db));
	ck_assert_str_eq(msg, rdb_errmsg(db));
	/* The copy survives later calls on the handle. */
	ok("INSERT INTO t VALUES (4)");
	ck_assert_ptr_ne(strstr(msg, "UNIQUE"), NULL);
	rdb_free_msg(msg);
	rdb_free_msg(NULL);
	ck_assert_str_eq(su_query(db, "SELECT group_concat(a) FROM t"),
			 "1,2,4");
	/* Syntax errors too; a NULL errmsg is allowed. */
	msg = NULL;
	ck_assert_int_eq(rdb_exec(db, "SELEC 1", NULL, NULL, &msg), RDB_ERROR);
	ck_assert_ptr_ne(strstr(msg, "syntax"), NULL);
	rdb_free_msg(msg);
	ck_assert_int_eq(rdb_exec(db, "SELEC 1", NULL, NULL, NULL), RDB_ERROR);
	/* Success sets *errmsg to NULL. */
	msg = (char *)&msg;
	ck_assert_int_eq(rdb_exec(db, "", NULL, NULL, &msg), RDB_OK);
	ck_assert_ptr_eq(msg, NULL);
}
END_TEST

/* ---- errors ------------------------------------------------------------------------ */

START_TEST(test_capi_errors_errstr_every_code)
{
	static const int codes[] = {
		RDB_OK, RDB_ERROR, RDB_INTERNAL, RDB_BUSY, RDB_NOMEM,
		RDB_READONLY, RDB_INTERRUPT, RDB_IOERR, RDB_CORRUPT,
		RDB_NOTFOUND, RDB_FULL, RDB_CANTOPEN, RDB_TOOBIG,
		RDB_CONSTRAINT, RDB_MISMATCH, RDB_MISUSE, RDB_RANGE,
		RDB_NOTADB, RDB_ROW, RDB_DONE,
	};
	const char *unknown = rdb_errstr(77);
	size_t k, j;

	ck_assert_ptr_nonnull(unknown);
	ck_assert_str_eq(rdb_errstr(-1), unknown);
	ck_assert_str_eq(rdb_errstr(1 << 20), unknown);
	ck_assert_str_eq(rdb_errstr(RDB_OK), "not an error");
	for (k = 0; k < sizeof(codes) / sizeof(codes[0]); k++) {
		const char *s = rdb_errstr(codes[k]);

		ck_assert_ptr_nonnull(s);
		ck_assert_msg(s[0] != '\0' && strcmp(s, unknown) != 0,
			      "code %d: '%s'", codes[k], s);
		ck_assert_msg(s[0] < 'A' || s[0] > 'Z', "code %d: '%s'",
			      codes[k], s);
		/* Distinct codes, distinct texts. */
		for (j = 0; j < k; j++)
			ck_assert_str_ne(s, rdb_errstr(codes[j]));
	}
	ck_assert_str_eq(rdb_libversion(), RDB_VERSION);
	ck_assert_int_eq(RDB_VERSION_NUMBER, RDB_VERSION_MAJOR * 1000000 +
			 RDB_VERSION_MINOR * 1000 + RDB_VERSION_PATCH);
}
END_TEST

START_TEST(test_capi_errors_code_and_message_follow_last_call)
{
	rdb_stmt *st;

	ck_assert_int_eq(rdb_errcode(db), RDB_OK);
	ck_assert_str_eq(rdb_errmsg(db), "not an error");
	ck_assert_int_eq(rdb_exec(db, "SELECT * FROM nowhere", NULL, NULL,
				  NULL), RDB_ERROR);
	ck_assert_int_eq(rdb_errcode(db), RDB_ERROR);
	ck_assert_ptr_ne(strstr(rdb_errmsg(db), "nowhere"), NULL);
	ok("CREATE TABLE t(a CHECK (a > 0))");
	ck_assert_int_eq(rdb_errcode(db), RDB_OK);
	ck_assert_str_eq(rdb_errmsg(db), "not an error");
	ck_assert_int_eq(rdb_exec(db, "INSERT INTO t VALUES (0)", NULL, NULL,
				  NULL), RDB_CONSTRAINT);
	ck_assert_int_eq(rdb_errcode(db), RDB_CONSTRAINT);
	ck_assert_ptr_ne(strstr(rdb_errmsg(db), "CHECK"), NULL);
	/* A step that succeeds clears it. */
	st = prep("SELECT 1");
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	ck_assert_int_eq(rdb_errcode(db), RDB_OK);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	/* Misuse on a statement is reported on its connection. */
	st = prep("SELECT ?");
	ck_assert_int_eq(rdb_bind_int64(st, 2, 0), RDB_RANGE);
	ck_assert_int_eq(rdb_errcode(db), RDB_RANGE);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	ck_assert_int_eq(rdb_exec(db, "COMMIT", NULL, NULL, NULL), RDB_ERROR);
	ck_assert_int_eq(rdb_errcode(db), RDB_ERROR);
	ck_assert_str_ne(rdb_errmsg(db), "not an error");
}
END_TEST

/* Check rc is want or RDB_NOMEM (then reported by the connection too);
 * returns whether it is want. */
static int want_or_nomem(rdb *m, int rc, int want, const char *what)
{
	ck_assert_msg(rc == want || rc == RDB_NOMEM, "%s: %d (%s)", what, rc,
		      rdb_errmsg(m));
	if (rc == RDB_NOMEM)
		ck_assert_msg(rdb_errcode(m) == RDB_NOMEM, "%s: RDB_NOMEM, "
			      "reported %d", what, rdb_errcode(m));
	return rc == want;
}

/* The calls of a program that allocate, each allowed to fail with
 * RDB_NOMEM but never otherwise, leaving nothing behind. */
static void api_workload(rdb *m)
{
	static const unsigned char b[3] = { 1, 2, 3 };
	rdb_stmt *st = NULL;
	rows r = { { 0 }, 0, 0 };
	char *msg = NULL;
	const unsigned char *t;
	int rc;

	rc = rdb_prepare(m, "SELECT ?1, ?2, 3.5, :n", -1, &st, NULL);
	if (!want_or_nomem(m, rc, RDB_OK, "prepare")) {
		ck_assert_ptr_eq(st, NULL);
	} else {
		(void)want_or_nomem(m, rdb_bind_text(st, 1, "hello", -1),
				    RDB_OK, "bind text");
		(void)want_or_nomem(m, rdb_bind_blob(st, 2, b, 3), RDB_OK,
				    "bind blob");
		rc = rdb_step(st);
		if (want_or_nomem(m, rc, RDB_ROW, "step")) {
			/* The length of a number renders it first. */
			if (rdb_column_bytes(st, 2) != 3)
				ck_assert_int_eq(rdb_errcode(m), RDB_NOMEM);
			t = rdb_column_text(st, 2);
			if (t != NULL)
				ck_assert_str_eq((const char *)t, "3.5");
			else
				ck_assert_int_eq(rdb_errcode(m), RDB_NOMEM);
		}
		rc = rdb_finalize(st);
		ck_assert(rc == RDB_OK || rc == RDB_NOMEM);
	}
	rc = rdb_exec(m, "SELECT 1 AS one, 'a' AS two; SELECT 2.5", collect,
		      &r, &msg);
	if (want_or_nomem(m, rc, RDB_OK, "exec"))
		ck_assert_ptr_eq(msg, NULL);
	rdb_free_msg(msg);
	free(sb_take(&r.b));
	msg = NULL;
	rc = rdb_exec(m, "SELECT * FROM nowhere", NULL, NULL, &msg);
	(void)want_or_nomem(m, rc, RDB_ERROR, "exec error");
	rdb_free_msg(msg);
}

START_TEST(test_capi_errors_allocation_failures_are_nomem)
{
	rdb *m = su_open_mem("nomem", 0);
	long n;
	int failed = 1;

	su_ok(m, "CREATE TABLE t(a)");
	for (n = 1; failed && n < 5000; n++) {
		rdb_mem_fail_at(n, n % 2);
		api_workload(m);
		failed = rdb_mem_failed();
		rdb_mem_fail_at(0, 0);
		/* The handle works on. */
		ck_assert_str_eq(su_query(m, "SELECT count(*) FROM t"), "0");
	}
	ck_assert_msg(!failed, "still failing after %ld allocations", n);
	ck_assert_int_eq(rdb_close(m), RDB_OK);
}
END_TEST

/* ---- counters ------------------------------------------------------------------------ */

/* Run each statement on both engines (either may fail, both alike) and
 * compare the counters after each. */
START_TEST(test_capi_counters_as_sqlite)
{
	static const char *const script[] = {
		"CREATE TABLE t(id INTEGER PRIMARY KEY, u UNIQUE, v)",
		"INSERT INTO t(u, v) VALUES (1, 1), (2, 2), (3, 3)",
		"SELECT * FROM t",
		"UPDATE t SET v = v + 1 WHERE u >= 2",
		"CREATE TABLE s(x)",
		"DELETE FROM t WHERE u = 1",
		"INSERT INTO t(id, u) VALUES (100, 10)",
		"INSERT INTO t(u) VALUES (11), (2)",
		"BEGIN",
		"INSERT INTO t(u) VALUES (20)",
		"INSERT INTO s VALUES (1), (2)",
		"UPDATE t SET u = 3 WHERE u = 20",
		"DELETE FROM s",
		"ROLLBACK",
		"SELECT count(*) FROM t",
		"INSERT INTO s SELECT u FROM t",
		"BEGIN",
		"INSERT INTO t(id, u) VALUES (50, 50)",
		"COMMIT",
		"UPDATE t SET v = 0 WHERE 0",
		"DELETE FROM s",
		"INSERT OR IGNORE INTO t(u) VALUES (50), (51)",
		"DROP TABLE s",
		"INSERT INTO t(id, u) VALUES (-5, 60)",
		"REPLACE INTO t(id, u) VALUES (-5, 61)",
		"INSERT OR REPLACE INTO t(id, u) VALUES (200, 61)",
		"CREATE TABLE w(k PRIMARY KEY, v) WITHOUT ROWID",
		"INSERT INTO w VALUES (1, 2), (3, 4)",
		"CREATE TABLE log(x)",
		("CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log "
		 "VALUES (new.u); INSERT INTO log VALUES (new.u + 1); END"),
		"INSERT INTO t(id, u) VALUES (300, 70)",
		"SELECT count(*) FROM log",
		"UPDATE log SET x = x + 1",
		"INSERT INTO t(id, u) VALUES (301, 70)",
		"DELETE FROM log",
		"SAVEPOINT a",
		"INSERT INTO t(u) VALUES (80)",
		"ROLLBACK TO a",
		"RELEASE a",
		"DELETE FROM t",
	};
	size_t k;

	for (k = 0; k < sizeof(script) / sizeof(script[0]); k++) {
		int rc = rdb_exec(db, script[k], NULL, NULL, NULL);
		int lrc = sqlite3_exec(lite, script[k], NULL, NULL, NULL);

		ck_assert_msg((rc == RDB_OK) == (lrc == SQLITE_OK),
			      "%s: %d, sqlite %d", script[k], rc, lrc);
		ck_assert_msg(rdb_changes(db) == sqlite3_changes64(lite),
			      "%s: changes %lld, sqlite %lld", script[k],
			      (long long)rdb_changes(db),
			      (long long)sqlite3_changes64(lite));
		ck_assert_msg(rdb_total_changes(db) ==
			      sqlite3_total_changes64(lite), "%s: total %lld"
			      ", sqlite %lld", script[k],
			      (long long)rdb_total_changes(db),
			      (long long)sqlite3_total_changes64(lite));
		ck_assert_msg(rdb_last_insert_rowid(db) ==
			      sqlite3_last_insert_rowid(lite), "%s: rowid "
			      "%lld, sqlite %lld", script[k],
			      (long long)rdb_last_insert_rowid(db),
			      (long long)sqlite3_last_insert_rowid(lite));
		ck_assert_int_eq(rdb_get_autocommit(db),
				 sqlite3_get_autocommit(lite) != 0);
	}
}
END_TEST

/* The commits counter of db. */
static uint64_t commits(void)
{
	rdb_stats st;

	ck_assert_int_eq(rdb_stats_get(db, &st), RDB_OK);
	return st.commits;
}

START_TEST(test_capi_counters_stats_follow_transactions)
{
	rdb_stats st;
	uint64_t c0;

	ck_assert_int_eq(rdb_stats_get(db, &st), RDB_OK);
	ck_assert_uint_eq(st.page_size, 4096);
	ck_assert_uint_eq(st.cache_pages, 2000);
	ok("CREATE TABLE t(a)");
	c0 = commits();
	/* Each write statement outside BEGIN commits once, a read never. */
	ok("INSERT INTO t VALUES (1)");
	ck_assert_uint_eq(commits(), c0 + 1);
	ok("SELECT * FROM t");
	ck_assert_uint_eq(commits(), c0 + 1);
	ok("BEGIN; INSERT INTO t VALUES (2); INSERT INTO t VALUES (3)");
	ck_assert_uint_eq(commits(), c0 + 1);
	ok("COMMIT");
	ck_assert_uint_eq(commits(), c0 + 2);
	ok("BEGIN; INSERT INTO t VALUES (4); ROLLBACK");
	ck_assert_uint_eq(commits(), c0 + 2);
	/* A failed statement commits nothing. */
	ck_assert_int_eq(rdb_exec(db, "INSERT INTO t VALUES (1, 2)", NULL,
				  NULL, NULL), RDB_ERROR);
	ck_assert_uint_eq(commits(), c0 + 2);
	ck_assert_int_eq(rdb_stats_get(db, &st), RDB_OK);
	ck_assert_uint_ge(st.page_count, 2);
	ck_assert_uint_le(st.free_pages, st.page_count);
}
END_TEST

START_TEST(test_capi_counters_start_at_zero_per_handle)
{
	rdb *other;

	ck_assert_int_eq(rdb_changes(db), 0);
	ck_assert_int_eq(rdb_total_changes(db), 0);
	ck_assert_int_eq(rdb_last_insert_rowid(db), 0);
	ck_assert_int_eq(rdb_get_autocommit(db), 1);
	ok("CREATE TABLE t(a); INSERT INTO t VALUES (1), (2)");
	ck_assert_int_eq(rdb_total_changes(db), 2);
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	/* A new handle on the same file starts again. */
	ck_assert_int_eq(rdb_open(path, &db), RDB_OK);
	ck_assert_int_eq(rdb_total_changes(db), 0);
	ck_assert_int_eq(rdb_last_insert_rowid(db), 0);
	other = su_open_mem("other", 0);
	su_ok(other, "CREATE TABLE u(a); INSERT INTO u VALUES (1)");
	ck_assert_int_eq(rdb_total_changes(db), 0);
	ck_assert_int_eq(rdb_total_changes(other), 1);
	ck_assert_int_eq(rdb_close(other), RDB_OK);
}
END_TEST

/* ---- open ------------------------------------------------------------------------------ */

START_TEST(test_capi_open_bad_options_are_misuse)
{
	static const unsigned sizes[] = { 1, 256, 1000, 4095, 131072 };
	rdb_open_opts o;
	char p2[256];
	rdb *x;
	size_t k;

	tu_tmp_path(p2, sizeof(p2));
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		memset(&o, 0, sizeof(o));
		o.page_size = sizes[k];
		x = (rdb *)&o;
		ck_assert_msg(rdb_open_v2(p2, &x, &o) == RDB_MISUSE,
			      "page size %u", sizes[k]);
		/* A handle that explains (rdb_open's contract). */
		ck_assert_ptr_nonnull(x);
		ck_assert_int_eq(rdb_errcode(x), RDB_MISUSE);
		ck_assert_ptr_ne(strstr(rdb_errmsg(x), "page size"), NULL);
		ck_assert_int_eq(rdb_close(x), RDB_OK);
		ck_assert_int_eq(access(p2, F_OK), -1);
	}
	memset(&o, 0, sizeof(o));
	o.sync = 4;
	x = (rdb *)&o;
	ck_assert_int_eq(rdb_open_v2(path, &x, &o), RDB_MISUSE);
	ck_assert_ptr_eq(x, NULL);
	o.sync = -1;
	ck_assert_int_eq(rdb_open_v2(path, &x, &o), RDB_MISUSE);
	ck_assert_ptr_eq(x, NULL);
	memset(&o, 0, sizeof(o));
	o.cache_pages = -1;
	ck_assert_int_eq(rdb_open_v2(path, &x, &o), RDB_MISUSE);
	ck_assert_ptr_eq(x, NULL);
	o.cache_pages = 0x7fffffffL;
	if (o.cache_pages < LONG_MAX) {
		o.cache_pages++;
		ck_assert_int_eq(rdb_open_v2(path, &x, &o), RDB_MISUSE);
		ck_assert_ptr_eq(x, NULL);
	}
	memset(&o, 0, sizeof(o));
	o.flags = RDB_OPEN_READONLY | RDB_OPEN_READWRITE;
	ck_assert_int_eq(rdb_open_v2(path, &x, &o), RDB_MISUSE);
	ck_assert_ptr_eq(x, NULL);
	ck_assert_int_eq(rdb_open_v2(NULL, &x, NULL), RDB_MISUSE);
	ck_assert_ptr_eq(x, NULL);
	ck_assert_int_eq(rdb_open_v2(path, NULL, NULL), RDB_MISUSE);
	ck_assert_int_eq(rdb_open(NULL, &x), RDB_MISUSE);
	ck_assert_int_eq(rdb_open(path, NULL), RDB_MISUSE);
}
END_TEST

START_TEST(test_capi_open_good_options_take_effect)
{
	static const unsigned sizes[] = { 512, 1024, 65536 };
	rdb_open_opts o;
	rdb_stats s;
	size_t k;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		char p2[256];
		rdb *x = NULL;
		int sync = (int)k + RDB_SYNC_OFF;

		tu_tmp_path(p2, sizeof(p2));
		memset(&o, 0, sizeof(o));
		o.page_size = sizes[k];
		o.sync = sync;
		o.cache_pages = 50;
		o.busy_timeout_ms = 10;
		ck_assert_int_eq(rdb_open_v2(p2, &x, &o), RDB_OK);
		su_ok(x, "CREATE TABLE t(a)");
		ck_assert_int_eq(rdb_stats_get(x, &s), RDB_OK);
		ck_assert_uint_eq(s.page_size, sizes[k]);
		ck_assert_uint_eq(s.cache_pages, 50);
		ck_assert_str_eq(su_query(x, "PRAGMA synchronous"),
				 sync == RDB_SYNC_OFF ? "0"
				 : sync == RDB_SYNC_NORMAL ? "1" : "2");
		ck_assert_int_eq(rdb_close(x), RDB_OK);
		/* The page size is the file's: reopening keeps it. */
		ck_assert_int_eq(rdb_open_v2(p2, &x, NULL), RDB_OK);
		ck_assert_int_eq(rdb_stats_get(x, &s), RDB_OK);
		ck_assert_uint_eq(s.page_size, sizes[k]);
		ck_assert_int_eq(rdb_close(x), RDB_OK);
		tu_unlink_db(p2);
	}
}
END_TEST

START_TEST(test_capi_open_readonly_refuses_writes)
{
	rdb_open_opts o = { .flags = RDB_OPEN_READONLY };
	rdb *ro = NULL;
	rdb_stmt *st = NULL;

	ok("CREATE TABLE t(a); INSERT INTO t VALUES (1)");
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	db = NULL;
	ck_assert_int_eq(rdb_open_v2(path, &ro, &o), RDB_OK);
	ck_assert_str_eq(su_query(ro, "SELECT a FROM t"), "1");
	ck_assert_int_eq(rdb_exec(ro, "INSERT INTO t VALUES (2)", NULL, NULL,
				  NULL), RDB_READONLY);
	ck_assert_int_eq(rdb_errcode(ro), RDB_READONLY);
	ck_assert_int_eq(rdb_exec(ro, "CREATE TABLE u(b)", NULL, NULL, NULL),
			 RDB_READONLY);
	ck_assert_int_eq(rdb_prepare(ro, "UPDATE t SET a = 5", -1, &st, NULL),
			 RDB_OK);
	ck_assert_int_eq(rdb_step(st), RDB_READONLY);
	ck_assert_int_eq(rdb_finalize(st), RDB_READONLY);
	ck_assert_int_eq(rdb_kv_put(ro, "k", 1, "v", 1), RDB_READONLY);
	ck_assert_str_eq(su_query(ro, "SELECT a FROM t"), "1");
	ck_assert_int_eq(rdb_close(ro), RDB_OK);
	ck_assert_int_eq(rdb_open(path, &db), RDB_OK);
}
END_TEST

START_TEST(test_capi_open_missing_file_without_create_cantopen)
{
	char p2[256];
	rdb_open_opts o = { .flags = RDB_OPEN_READWRITE };
	rdb_stmt *st = NULL;
	rdb_stats stats;
	rdb *x = NULL;
	int rc;

	tu_tmp_path(p2, sizeof(p2));
	rc = rdb_open_v2(p2, &x, &o);
	ck_assert_int_eq(rc, RDB_CANTOPEN);
	/* A handle that explains, naming the file (rdb_open's contract). */
	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(rdb_errcode(x), RDB_CANTOPEN);
	ck_assert_ptr_ne(strstr(rdb_errmsg(x), p2), NULL);
	ck_assert_int_eq(rdb_exec(x, "SELECT 1", NULL, NULL, NULL),
			 RDB_MISUSE);
	/* Every call on it is refused or has its neutral value. */
	ck_assert_int_eq(rdb_prepare(x, "SELECT 1", -1, &st, NULL),
			 RDB_MISUSE);
	ck_assert_ptr_eq(st, NULL);
	ck_assert_int_eq(rdb_changes(x), 0);
	ck_assert_int_eq(rdb_total_changes(x), 0);
	ck_assert_int_eq(rdb_last_insert_rowid(x), 0);
	ck_assert_int_eq(rdb_get_autocommit(x), 1);
	rdb_interrupt(x);
	ck_assert_int_eq(rdb_stats_get(x, &stats), RDB_MISUSE);
	ck_assert_int_eq(rdb_kv_put(x, "k", 1, "v", 1), RDB_MISUSE);
	ck_assert_int_eq(rdb_close(x), RDB_OK);
	o.flags = RDB_OPEN_READONLY;
	x = NULL;
	ck_assert_int_eq(rdb_open_v2(p2, &x, &o), RDB_CANTOPEN);
	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(rdb_errcode(x), RDB_CANTOPEN);
	ck_assert_int_eq(rdb_close(x), RDB_OK);
	/* Still missing. */
	ck_assert_int_eq(access(p2, F_OK), -1);
	/* An existing file opens without CREATE. */
	ok("CREATE TABLE t(a)");
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	db = NULL;
	o.flags = RDB_OPEN_READWRITE;
	ck_assert_int_eq(rdb_open_v2(path, &x, &o), RDB_OK);
	ck_assert_str_eq(su_query(x, "SELECT count(*) FROM t"), "0");
	ck_assert_int_eq(rdb_close(x), RDB_OK);
	ck_assert_int_eq(rdb_open(path, &db), RDB_OK);
}
END_TEST

START_TEST(test_capi_open_what_is_no_database)
{
	static const char junk[] = "this is certainly not a database file, "
				   "it is plain text of some length\n";
	char p2[256], dir[300];
	rdb *x = NULL;

	tu_tmp_path(p2, sizeof(p2));
	/* A folder: RDB_CANTOPEN, with a handle naming it. */
	snprintf(dir, sizeof(dir), "%s.d", p2);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(rdb_open(dir, &x), RDB_CANTOPEN);
	ck_assert_ptr_ne(strstr(rdb_errmsg(x), dir), NULL);
	ck_assert_int_eq(rdb_close(x), RDB_OK);
	ck_assert_int_eq(rmdir(dir), 0);
	/* Some other file: RDB_NOTADB, and the file is left alone. */
	tu_write_file(p2, junk, sizeof(junk));
	ck_assert_int_eq(rdb_open(p2, &x), RDB_NOTADB);
	ck_assert_int_eq(rdb_errcode(x), RDB_NOTADB);
	ck_assert_ptr_ne(strstr(rdb_errmsg(x), "not an rdb database"), NULL);
	ck_assert_int_eq(rdb_close(x), RDB_OK);
	ck_assert_int_eq(access(p2, F_OK), 0);
	/* An empty file is an empty database. */
	tu_write_file(p2, "", 0);
	ck_assert_int_eq(rdb_open(p2, &x), RDB_OK);
	su_ok(x, "CREATE TABLE t(a)");
	ck_assert_int_eq(rdb_close(x), RDB_OK);
	tu_unlink_db(p2);
}
END_TEST

START_TEST(test_capi_open_second_handle_is_busy)
{
	rdb_open_opts o = { .busy_timeout_ms = 1 };
	rdb *x = NULL;

	ok("CREATE TABLE t(a)");
	ck_assert_int_eq(rdb_open_v2(path, &x, &o), RDB_BUSY);
	/* A handle that explains; it can only be closed. */
	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(rdb_errcode(x), RDB_BUSY);
	ck_assert_str_ne(rdb_errmsg(x), "not an error");
	ck_assert_int_eq(rdb_close(x), RDB_OK);
	/* The first handle is untouched. */
	ok("INSERT INTO t VALUES (1)");
}
END_TEST

START_TEST(test_capi_open_memory_is_private)
{
	rdb_open_opts o = { .flags = RDB_OPEN_MEMORY };
	rdb *a = NULL, *b = NULL;

	ck_assert_int_eq(rdb_open_v2(NULL, &a, &o), RDB_OK);
	ck_assert_int_eq(rdb_open_v2(path, &b, &o), RDB_OK);
	su_ok(a, "CREATE TABLE t(x); INSERT INTO t VALUES (1)");
	su_ok(b, "CREATE TABLE t(y)");
	ck_assert_str_eq(su_query(b, "SELECT count(*) FROM t"), "0");
	ck_assert_str_eq(su_query(a, "SELECT x FROM t"), "1");
	ck_assert_int_eq(rdb_close(a), RDB_OK);
	ck_assert_int_eq(rdb_close(b), RDB_OK);
	/* Nothing reached the file: the test's own database has no t. */
	ck_assert_int_eq(rdb_exec(db, "SELECT * FROM t", NULL, NULL, NULL),
			 RDB_ERROR);
	ck_assert_int_eq(rdb_open_v2(NULL, &a, &o), RDB_OK);
	ck_assert_int_eq(rdb_exec(a, "SELECT * FROM t", NULL, NULL, NULL),
			 RDB_ERROR);
	ck_assert_int_eq(rdb_close(a), RDB_OK);
}
END_TEST

START_TEST(test_capi_open_close_refuses_with_open_objects)
{
	rdb_kv_iter *it = NULL;
	rdb_stmt *st;

	ck_assert_int_eq(rdb_close(NULL), RDB_OK);
	ck_assert_int_eq(rdb_kv_put(db, "k", 1, "v", 1), RDB_OK);
	ck_assert_int_eq(rdb_kv_iter_open(db, NULL, 0, &it), RDB_OK);
	ck_assert_int_eq(rdb_close(db), RDB_MISUSE);
	ck_assert_int_eq(rdb_errcode(db), RDB_MISUSE);
	/* The handle stays usable, SQL included. */
	ok("CREATE TABLE t(a)");
	rdb_kv_iter_close(it);
	st = prep("SELECT 1");
	ck_assert_int_eq(rdb_close(db), RDB_MISUSE);
	ck_assert_int_eq(rdb_errcode(db), RDB_MISUSE);
	ck_assert_str_eq(one(st), "1");
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	/* teardown closes it. */
}
END_TEST

/* ---- complete ---------------------------------------------------------------------------- */

static const char *const pieces[] = {
	"SELECT", "select", " ", "\n", "\t", "1", "x", "a1", ";", ";", ";",
	"'a;b'", "'it''s'", "'", "\"q;\"", "\"", "[br;]", "[", "`bq;`", "`",
	"-- c;\n", "--", "-", "/* ; */", "/*", "*/", "/", "*", "(", ")",
	"CREATE", "create", "TRIGGER", "trigger", "TEMP", "TEMPORARY", "temp",
	"BEGIN", "begin", "END", "end", "EXPLAIN", "explain", "ON", "AFTER",
	"INSERT", "INTO", "t", "FOR", "EACH", "ROW", "CASE", "WHEN", "THEN",
	"ELSE", "endx", "xend", "begins", "_", "$", "\xc3\xa9", "\xe2\x82\xac",
	"UPDATE", "SET", "VIEW", "TABLE", "triggers", "AS", ",", ".",
};

START_TEST(test_capi_complete_random_as_sqlite)
{
	uint64_t seed = tu_seed(), s;
	long n = tu_scaled(40000, 2000), k;
	char buf[512];

	tu_seed_note("complete", seed);
	s = seed | 1;
	for (k = 0; k < n; k++) {
		size_t len = 0;
		long m = 1 + (long)tu_rand_below(&s, 14), j;

		buf[0] = '\0';
		for (j = 0; j < m; j++) {
			const char *p = pieces[tu_rand_below(&s,
				sizeof(pieces) / sizeof(pieces[0]))];
			size_t pl = strlen(p);

			/* Most pieces are separated, some glued. */
			if (len > 0 && tu_rand_below(&s, 4) != 0)
				buf[len++] = ' ';
			memcpy(buf + len, p, pl + 1);
			len += pl;
		}
		ck_assert_msg(rdb_complete(buf) == sqlite3_complete(buf),
			      "'%s': %d, sqlite %d (seed %llu)", buf,
			      rdb_complete(buf), sqlite3_complete(buf),
			      (unsigned long long)seed);
	}
}
END_TEST

START_TEST(test_capi_complete_trigger_bodies_as_sqlite)
{
	static const char *const heads[] = {
		"CREATE TRIGGER tr AFTER INSERT ON t BEGIN",
		"create temp trigger tr before delete on t for each row begin",
		("CREATE TEMPORARY TRIGGER IF NOT EXISTS tr INSTEAD OF UPDATE "
		 "ON v BEGIN"),
		"EXPLAIN CREATE TRIGGER tr AFTER INSERT ON t BEGIN",
		"CREATE TRIGGER \"end\" AFTER INSERT ON t BEGIN",
		("CREATE TABLE begin(x); CREATE TRIGGER tr AFTER INSERT ON t "
		 "BEGIN"),
	};
	static const char *const bodies[] = {
		"", " SELECT 1;", " SELECT 1; SELECT 'END;';",
		" UPDATE t SET a = CASE WHEN 1 THEN 2 END;",
		" INSERT INTO t VALUES (1); -- END;\n",
		" SELECT 1 /* END; */;", " SELECT \"end\";",
	};
	static const char *const ends[] = {
		" END;", " END", " end ;", " END; ", " END;;", "END;", " END x;",
		";", " END; -- done", " END /* c */ ;", "",
	};
	size_t h, b, e;

	for (h = 0; h < sizeof(heads) / sizeof(heads[0]); h++)
		for (b = 0; b < sizeof(bodies) / sizeof(bodies[0]); b++)
			for (e = 0; e < sizeof(ends) / sizeof(ends[0]); e++) {
				char sql[512];

				snprintf(sql, sizeof(sql), "%s%s%s", heads[h],
					 bodies[b], ends[e]);
				ck_assert_msg(rdb_complete(sql) ==
					      sqlite3_complete(sql),
					      "'%s': %d, sqlite %d", sql,
					      rdb_complete(sql),
					      sqlite3_complete(sql));
			}
}
END_TEST

START_TEST(test_capi_complete_hand_cases)
{
	ck_assert_int_eq(rdb_complete(NULL), 0);
	ck_assert_int_eq(rdb_complete(""), 0);
	ck_assert_int_eq(rdb_complete(";"), 1);
	ck_assert_int_eq(rdb_complete("SELECT 1"), 0);
	ck_assert_int_eq(rdb_complete("SELECT 1;"), 1);
	ck_assert_int_eq(rdb_complete("SELECT 1;  \n"), 1);
	ck_assert_int_eq(rdb_complete("SELECT 1; -- c"), 1);
	ck_assert_int_eq(rdb_complete("SELECT 1; /* c"), 0);
	ck_assert_int_eq(rdb_complete("SELECT 'a;"), 0);
	ck_assert_int_eq(rdb_complete("SELECT 'a;';"), 1);
	ck_assert_int_eq(rdb_complete("SELECT 1 -- ;"), 0);
	ck_assert_int_eq(rdb_complete("CREATE TRIGGER x AFTER INSERT ON t "
				      "BEGIN SELECT 1;"), 0);
	ck_assert_int_eq(rdb_complete("CREATE TRIGGER x AFTER INSERT ON t "
				      "BEGIN SELECT 1; END;"), 1);
	ck_assert_int_eq(rdb_complete("BEGIN; SELECT 1;"), 1);
}
END_TEST

/* ---- misuse --------------------------------------------------------------------------------- */

START_TEST(test_capi_misuse_null_statement)
{
	rdb_stmt *n = NULL;

	ck_assert_int_eq(rdb_step(n), RDB_MISUSE);
	ck_assert_int_eq(rdb_reset(n), RDB_OK);
	ck_assert_int_eq(rdb_finalize(n), RDB_OK);
	ck_assert_int_eq(rdb_bind_null(n, 1), RDB_MISUSE);
	ck_assert_int_eq(rdb_bind_int64(n, 1, 1), RDB_MISUSE);
	ck_assert_int_eq(rdb_bind_double(n, 1, 1), RDB_MISUSE);
	ck_assert_int_eq(rdb_bind_text(n, 1, "x", 1), RDB_MISUSE);
	ck_assert_int_eq(rdb_bind_text(n, 1, NULL, 1), RDB_MISUSE);
	ck_assert_int_eq(rdb_bind_blob(n, 1, "x", 1), RDB_MISUSE);
	ck_assert_int_eq(rdb_bind_blob(n, 1, "x", -1), RDB_MISUSE);
	ck_assert_int_eq(rdb_bind_bool(n, 1, 1), RDB_MISUSE);
	ck_assert_int_eq(rdb_clear_bindings(n), RDB_MISUSE);
	ck_assert_int_eq(rdb_bind_parameter_count(n), 0);
	ck_assert_int_eq(rdb_bind_parameter_index(n, ":a"), 0);
	ck_assert_ptr_eq(rdb_bind_parameter_name(n, 1), NULL);
	ck_assert_int_eq(rdb_column_count(n), 0);
	ck_assert_ptr_eq(rdb_column_name(n, 0), NULL);
	ck_assert_ptr_eq(rdb_column_decltype(n, 0), NULL);
	no_value(n, 0);
	ck_assert_ptr_eq(rdb_sql(n), NULL);
	ck_assert_int_eq(rdb_stmt_readonly(n), 1);   /* as sqlite3 */
	ck_assert_ptr_eq(rdb_db_handle(n), NULL);
}
END_TEST

START_TEST(test_capi_misuse_null_connection_and_arguments)
{
	rdb *n = NULL;
	rdb_stmt *st = (rdb_stmt *)&n;
	const char *tail = "x";
	char *msg = (char *)&n;
	rdb_stats s;

	ck_assert_int_eq(rdb_prepare(n, "SELECT 1", -1, &st, &tail),
			 RDB_MISUSE);
	ck_assert_ptr_eq(st, NULL);
	ck_assert_int_eq(rdb_prepare(db, NULL, -1, &st, NULL), RDB_MISUSE);
	ck_assert_int_eq(rdb_errcode(db), RDB_MISUSE);
	ck_assert_int_eq(rdb_prepare(db, "SELECT 1", -1, NULL, NULL),
			 RDB_MISUSE);
	ck_assert_int_eq(rdb_exec(n, "SELECT 1", NULL, NULL, &msg),
			 RDB_MISUSE);
	ck_assert_ptr_eq(msg, NULL);
	ck_assert_int_eq(rdb_exec(db, NULL, NULL, NULL, NULL), RDB_MISUSE);
	ck_assert_int_eq(rdb_errcode(n), RDB_MISUSE);
	ck_assert_ptr_nonnull(rdb_errmsg(n));
	ck_assert_int_eq(rdb_changes(n), 0);
	ck_assert_int_eq(rdb_total_changes(n), 0);
	ck_assert_int_eq(rdb_last_insert_rowid(n), 0);
	ck_assert_int_eq(rdb_get_autocommit(n), 1);
	rdb_interrupt(n);
	ck_assert_int_eq(rdb_stats_get(n, &s), RDB_MISUSE);
	ck_assert_int_eq(rdb_stats_get(db, NULL), RDB_MISUSE);
	ck_assert_int_eq(rdb_close(n), RDB_OK);
	rdb_free_msg(NULL);
	/* The handle still works. */
	ok("CREATE TABLE t(a)");
}
END_TEST

/* One thread's share of the threads test: its own statements on the
 * shared handle; counts what went wrong (Check asserts only in the
 * test's own thread). */
typedef struct worker {
	rdb *db;
	int id;
	long n;
	int bad;
} worker;

static void *work(void *arg)
{
	worker *w = arg;
	rdb_stmt *ins = NULL, *sel = NULL;
	char first[32];
	long i;

	snprintf(first, sizeof(first), "w%d-0", w->id);
	if (rdb_prepare(w->db, "INSERT INTO t VALUES (?, ?, ?)", -1, &ins,
			NULL) != RDB_OK ||
	    rdb_prepare(w->db, "SELECT count(*), max(i), min(s) FROM t WHERE"
			" w = ?", -1, &sel, NULL) != RDB_OK)
		w->bad++;
	for (i = 0; i < w->n && w->bad == 0; i++) {
		char s[32];

		snprintf(s, sizeof(s), "w%d-%ld", w->id, i);
		w->bad += rdb_bind_int64(ins, 1, w->id) != RDB_OK;
		w->bad += rdb_bind_int64(ins, 2, i) != RDB_OK;
		w->bad += rdb_bind_text(ins, 3, s, -1) != RDB_OK;
		w->bad += rdb_step(ins) != RDB_DONE;
		w->bad += rdb_reset(ins) != RDB_OK;
		w->bad += rdb_bind_int64(sel, 1, w->id) != RDB_OK;
		w->bad += rdb_step(sel) != RDB_ROW;
		w->bad += rdb_column_int64(sel, 0) != i + 1;
		w->bad += rdb_column_int64(sel, 1) != i;
		w->bad += strcmp((const char *)rdb_column_text(sel, 2),
				 first) != 0;
		w->bad += rdb_reset(sel) != RDB_OK;
	}
	w->bad += rdb_finalize(ins) != RDB_OK;
	w->bad += rdb_finalize(sel) != RDB_OK;
	return NULL;
}

START_TEST(test_capi_misuse_threads_share_a_handle)
{
	rdb *m = su_open_mem("threads", 0);
	worker w[3];
	pthread_t th[3];
	int k;

	su_ok(m, "CREATE TABLE t(w INTEGER, i INTEGER, s TEXT)");
	for (k = 0; k < 3; k++) {
		w[k] = (worker){ m, k, tu_scaled(300, 40), 0 };
		ck_assert_int_eq(pthread_create(&th[k], NULL, work, &w[k]), 0);
	}
	for (k = 0; k < 3; k++) {
		ck_assert_int_eq(pthread_join(th[k], NULL), 0);
		ck_assert_msg(w[k].bad == 0, "thread %d: %d failures", k,
			      w[k].bad);
	}
	ck_assert_int_eq(rdb_total_changes(m), 3 * w[0].n);
	ck_assert_int_eq(rdb_close(m), RDB_OK);
}
END_TEST

static int interrupt_cb(void *arg, int n, char **v, char **names)
{
	(void)n;
	(void)v;
	(void)names;
	rdb_interrupt(arg);
	return 0;
}

START_TEST(test_capi_misuse_interrupt_stops_running_statement)
{
	rdb_stmt *st;
	int rc;

	/* Nothing running: a no-op, as in SQLite. */
	rdb_interrupt(db);
	ck_assert_int_eq(sqlite3_exec(lite, "SELECT 1", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_interrupt(lite);
	ck_assert_int_eq(sqlite3_exec(lite, "SELECT 1", NULL, NULL, NULL),
			 SQLITE_OK);
	ok("SELECT 1");

	ok("CREATE TABLE t(a); INSERT INTO t VALUES (1), (2), (3)");
	st = prep("SELECT a FROM t");
	ck_assert_int_eq(rdb_step(st), RDB_ROW);
	rdb_interrupt(db);
	rc = rdb_step(st);
	ck_assert_int_eq(rc, RDB_INTERRUPT);
	ck_assert_int_eq(rdb_errcode(db), RDB_INTERRUPT);
	ck_assert_int_eq(rdb_finalize(st), RDB_INTERRUPT);
	/* Only the running statement: the next one runs. */
	ck_assert_str_eq(su_query(db, "SELECT count(*) FROM t"), "3");
	/* From a callback of rdb_exec: the statements after it do not run. */
	ok("CREATE TABLE u(a)");
	ck_assert_int_eq(rdb_exec(db, "INSERT INTO u VALUES (1); SELECT a FROM"
				  " t; INSERT INTO u VALUES (2)", interrupt_cb,
				  db, NULL), RDB_INTERRUPT);
	ck_assert_str_eq(su_query(db, "SELECT group_concat(a) FROM u"), "1");
}
END_TEST

Suite *capi_suite(void)
{
	Suite *s = suite_create("capi");
	TCase *tc;

	tc = tcase_create("bind");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_capi_bind_each_type_reads_back);
	tcase_add_test(tc, test_capi_bind_nan_is_null_and_null_pointers_as_sqlite);
	tcase_add_test(tc, test_capi_bind_copies_text_and_blob);
	tcase_add_test(tc, test_capi_bind_text_length_rules);
	tcase_add_test(tc, test_capi_bind_parameter_numbering_as_sqlite);
	tcase_add_test(tc, test_capi_bind_parameter_limits_as_sqlite);
	tcase_add_test(tc, test_capi_bind_repeated_name_binds_every_use);
	tcase_add_test(tc, test_capi_bind_bad_index_is_range);
	tcase_add_test(tc, test_capi_bind_while_running_is_misuse);
	tcase_add_test(tc, test_capi_bind_clear_while_running_is_misuse);
	tcase_add_test(tc, test_capi_bind_kept_across_reset_until_cleared);
	tcase_add_test(tc, test_capi_bind_into_table_rows);
	suite_add_tcase(s, tc);

	tc = tcase_create("column");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_capi_column_names_as_sqlite);
	tcase_add_test(tc, test_capi_column_decltype_as_sqlite);
	tcase_add_test(tc, test_capi_column_conversions_as_sqlite);
	tcase_add_test(tc, test_capi_column_random_conversions_as_sqlite);
	tcase_add_test(tc, test_capi_column_values_from_table_as_sqlite);
	tcase_add_test(tc, test_capi_column_out_of_range_or_no_row_is_null);
	tcase_add_test(tc, test_capi_column_names_outlive_steps);
	suite_add_tcase(s, tc);

	tc = tcase_create("stmt");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_capi_stmt_sql_and_tail_as_sqlite);
	tcase_add_test(tc, test_capi_stmt_readonly_as_sqlite);
	tcase_add_test(tc, test_capi_stmt_prepare_tail_walks_statements);
	tcase_add_test(tc, test_capi_stmt_prepare_nbyte_limits_text);
	tcase_add_test(tc, test_capi_stmt_prepare_empty_text_gives_null);
	tcase_add_test(tc, test_capi_stmt_prepare_error_leaves_null_and_message);
	tcase_add_test(tc, test_capi_stmt_step_after_done_runs_again);
	tcase_add_test(tc, test_capi_stmt_error_codes_through_reset_and_finalize);
	tcase_add_test(tc, test_capi_stmt_runtime_error_then_rerun);
	tcase_add_test(tc, test_capi_stmt_recompiled_after_schema_change);
	tcase_add_test(tc, test_capi_stmt_write_while_reading_as_sqlite);
	suite_add_tcase(s, tc);

	tc = tcase_create("exec");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_capi_exec_callback_values_and_names);
	tcase_add_test(tc, test_capi_exec_callback_abort_is_interrupt);
	tcase_add_test(tc, test_capi_exec_error_message_is_callers_copy);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_capi_errors_errstr_every_code);
	tcase_add_test(tc, test_capi_errors_code_and_message_follow_last_call);
	tcase_add_test(tc, test_capi_errors_allocation_failures_are_nomem);
	suite_add_tcase(s, tc);

	tc = tcase_create("counters");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_capi_counters_as_sqlite);
	tcase_add_test(tc, test_capi_counters_start_at_zero_per_handle);
	tcase_add_test(tc, test_capi_counters_stats_follow_transactions);
	suite_add_tcase(s, tc);

	tc = tcase_create("open");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_capi_open_bad_options_are_misuse);
	tcase_add_test(tc, test_capi_open_good_options_take_effect);
	tcase_add_test(tc, test_capi_open_readonly_refuses_writes);
	tcase_add_test(tc, test_capi_open_missing_file_without_create_cantopen);
	tcase_add_test(tc, test_capi_open_what_is_no_database);
	tcase_add_test(tc, test_capi_open_second_handle_is_busy);
	tcase_add_test(tc, test_capi_open_memory_is_private);
	tcase_add_test(tc, test_capi_open_close_refuses_with_open_objects);
	suite_add_tcase(s, tc);

	tc = tcase_create("complete");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_capi_complete_random_as_sqlite);
	tcase_add_test(tc, test_capi_complete_trigger_bodies_as_sqlite);
	tcase_add_test(tc, test_capi_complete_hand_cases);
	suite_add_tcase(s, tc);

	tc = tcase_create("misuse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_capi_misuse_null_statement);
	tcase_add_test(tc, test_capi_misuse_null_connection_and_arguments);
	tcase_add_test(tc, test_capi_misuse_interrupt_stops_running_statement);
	tcase_add_test(tc, test_capi_misuse_threads_share_a_handle);
	suite_add_tcase(s, tc);
	return s;
}
