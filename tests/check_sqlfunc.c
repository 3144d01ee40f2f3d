/*
 * check_sqlfunc.c -- the SQL evaluation core (src/sql/value*.c, func*.c)
 * against libsqlite3: operators, comparisons with affinity, CAST, LIKE,
 * GLOB, printf, every scalar function and every aggregate are evaluated
 * by rdb and by SQLite on the same generated arguments, and the results
 * must agree in class and value (reals bit for bit, text byte for byte,
 * errors by message).  Cases: values, operators, compare, cast, match,
 * printf, functions, aggregates, lookup, errors.
 */
#include <check.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sql/func.h"
#include "sql/value.h"
#include "mem.h"
#include "test_util.h"

#define N_ARGS 8
#define STORE 512

static sqlite3 *db;
static rdb_err err;
static sql_ctx cx;
static uint64_t seed;
static unsigned char store[N_ARGS][STORE];

static void setup(void)
{
	ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
	err = (rdb_err){ 0 };
	sql_ctx_init(&cx, &err, 12345);
	seed = tu_seed();
}

static void teardown(void)
{
	sql_ctx_free(&cx);
	sqlite3_close(db);
}

/* ---- generated values -------------------------------------------------------- */

static const char *const texts[] = {
	"", " ", "0", "1", "-1", " 12 ", "12abc", "0x1A", "1e5", "1E+5",
	"-1.5e-3", "1.5e", "1e", ".5", "5.", ".", "-", "+7", "abc", "ABC",
	"aBc", "9223372036854775807", "9223372036854775808",
	"-9223372036854775808", "-9223372036854775809",
	"18446744073709551616", "1e308", "1e309", "-1e309", "4.9e-324",
	"0.1", "123456789012345678901234567890", "  -0  ", "-0.0",
	"\t\n5\r", "h\xc3\xa9llo", "\xe6\x97\xa5\xe6\x9c\xac",
	"\xc3\x9c" "n\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9", "a'b", "it''s", "%", "_",
	"a%", "%a%", "a_c", "[a-c]", "[^x]*", "*", "?", "100%", "1,000",
	"NaN", "Inf", "-inf", "2.5", "3.5", "-2.5", "0.05", "1.15", "1e-5",
	"null", "1.0", "0.0", "1e15", "1e16", "12.5abc", "  3.25  x",
	"\x80\xff", "\xc3", "a\"b", "1-2", "--5", "0000012", "00.5e1",
};

static const double reals[] = {
	0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, -2.5, 0.1, 0.2, 0.3,
	1e308, -1e308, 1.7976931348623157e308, 4.9e-324, 2.2250738585072014e-308,
	1e-300, 1e15, 1e16, 1e17, 1e20, 1e21, 1e22, 1e23, 123456789012345678.0,
	9223372036854775807.0, -9223372036854775808.0, 9007199254740992.0,
	9007199254740993.0, 4503599627370496.0, 4503599627370495.5,
	0.05, 0.15, 1.15, 2.675, 1.005, 0.045, 1e-5, 1e-4, 99.995,
	3.14159265358979, 2.718281828459045, 100.0, 1e100, 1e-100,
	12345.6789, 0.000123456, 1234567890123456.0, 0.30000000000000004,
};

static const int64_t ints[] = {
	0, 1, -1, 2, -2, 3, 7, 10, 30, 31, 32, 63, 64, 65, 100, -100, 255,
	INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1, 4294967296LL,
	4294967297LL, -4294967297LL, 2147483647, -2147483648LL, 2147483648LL,
	9007199254740993LL, 1000000000000000000LL, 1234567, -987654321,
	0x10ffff, 0x110000, 0xd800, 0xfffe, 0xe9, 0x65e5,
};

static const unsigned char *const blobs[] = {
	(const unsigned char *)"", (const unsigned char *)"\0",
	(const unsigned char *)"ABC", (const unsigned char *)"123",
	(const unsigned char *)"\0A\0B", (const unsigned char *)"1e3",
	(const unsigned char *)" 5 ",
};
static const size_t blob_len[] = { 0, 1, 3, 3, 4, 3, 3 };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static double random_real(uint64_t *s)
{
	uint64_t u;
	double r;

	switch (tu_rand_below(s, 6)) {
	case 0:
		do {
			u = tu_rand(s);
			memcpy(&r, &u, sizeof(r));
		} while (isnan(r));
		return r;
	case 1:
		return (double)(int64_t)(tu_rand(s) % 2000001 - 1000000) /
			pow(10, (double)tu_rand_below(s, 8));
	case 2:
		return ldexp((double)(tu_rand(s) >> 11),
			     (int)tu_rand_below(s, 200) - 100);
	case 3:
		return pow(10, (double)tu_rand_below(s, 44) - 22) *
			(tu_rand_below(s, 2) ? 1 : -1);
	case 4:
		return (double)(int64_t)tu_rand_below(s, 2000) / 8 - 125;
	default:
		return reals[tu_rand_below(s, COUNT(reals))];
	}
}

static int64_t random_int(uint64_t *s)
{
	switch (tu_rand_below(s, 4)) {
	case 0:
		return (int64_t)tu_rand(s);
	case 1:
		return (int64_t)tu_rand_below(s, 201) - 100;
	case 2:
		return (int64_t)(tu_rand(s) >> tu_rand_below(s, 64));
	default:
		return ints[tu_rand_below(s, COUNT(ints))];
	}
}

/* Random text into buf: from an alphabet rich in LIKE/GLOB and number
 * syntax, or numeric-looking, or unicode. */
static size_t random_text(uint64_t *s, unsigned char *buf)
{
	static const char alpha[] = "aAbBzZ09 .-+eE%_*?[]^\\'\"x,";
	static const char *const uni[] = { "\xc3\xa9", "\xe6\x97\xa5",
		"\xf0\x9f\x98\x80", "\xc3\x89", "\x80", "\0" };
	size_t n = 0, len = tu_rand_below(s, 14), i;
	const char *u;
	char tmp[64];

	switch (tu_rand_below(s, 4)) {
	case 0:
		for (i = 0; i < len; i++)
			buf[n++] = (unsigned char)alpha[tu_rand_below(
				s, sizeof(alpha) - 1)];
		return n;
	case 1:
		n = (size_t)snprintf(tmp, sizeof(tmp), "%s%lld%s%s",
				     tu_rand_below(s, 3) ? "" : " ",
				     (long long)random_int(s),
				     tu_rand_below(s, 2) ? "" : ".5",
				     tu_rand_below(s, 3) ? "" : "e3");
		memcpy(buf, tmp, n);
		return n;
	case 2:
		for (i = 0; i < len; i++) {
			u = tu_rand_below(s, 3) ? "a" :
				uni[tu_rand_below(s, COUNT(uni))];
			if (u[0] == 0) {
				buf[n++] = 0;
				continue;
			}
			memcpy(buf + n, u, strlen(u));
			n += strlen(u);
		}
		return n;
	default:
		u = texts[tu_rand_below(s, COUNT(texts))];
		memcpy(buf, u, strlen(u));
		return strlen(u);
	}
}

/* A random value of any class; its bytes live in buf. */
static void gen_value(uint64_t *s, unsigned char *buf, sql_value *out)
{
	size_t n, i, k;

	switch (tu_rand_below(s, 9)) {
	case 0:
		sql_value_null(out);
		return;
	case 1: case 2:
		sql_value_int(out, random_int(s));
		return;
	case 3: case 4:
		sql_value_real(out, random_real(s));
		return;
	case 5: case 6:
		n = random_text(s, buf);
		sql_value_borrow(out, TBL_TEXT, buf, n);
		return;
	case 7:
		k = tu_rand_below(s, COUNT(texts));
		n = strlen(texts[k]);
		memcpy(buf, texts[k], n);
		sql_value_borrow(out, TBL_TEXT, buf, n);
		return;
	default:
		if (tu_rand_below(s, 2)) {
			k = tu_rand_below(s, COUNT(blobs));
			memcpy(buf, blobs[k], blob_len[k]);
			n = blob_len[k];
		} else {
			n = tu_rand_below(s, 10);
			for (i = 0; i < n; i++)
				buf[i] = (unsigned char)tu_rand(s);
		}
		sql_value_borrow(out, TBL_BLOB, buf, n);
		return;
	}
}

/* ---- running SQLite --------------------------------------------------------- */

static void describe(const sql_value *v, char *out, size_t cap)
{
	const unsigned char *p = sql_value_ptr(v);
	size_t i, k = 0;

	switch (v->v.cls) {
	case TBL_NULL: snprintf(out, cap, "NULL"); return;
	case TBL_INT: snprintf(out, cap, "%lld", (long long)v->v.i); return;
	case TBL_REAL: snprintf(out, cap, "%.17g(%a)", v->v.r, v->v.r);
		return;
	default:
		k = (size_t)snprintf(out, cap, "%s'", v->v.cls == TBL_BLOB ?
				     "x" : "");
		for (i = 0; i < v->v.n && k + 8 < cap; i++)
			k += (size_t)snprintf(out + k, cap - k,
					      p[i] >= 32 && p[i] < 127 ?
					      "%c" : "\\x%02x", p[i]);
		snprintf(out + k, cap - k, "'");
	}
}

static void describe_args(const sql_value *argv, int argc, char *out,
			  size_t cap)
{
	size_t k = 0;
	int i;

	out[0] = 0;
	for (i = 0; i < argc && k + 2 < cap; i++) {
		describe(&argv[i], out + k, cap - k);
		k = strlen(out);
		if (i + 1 < argc && k + 2 < cap) {
			out[k++] = ',';
			out[k++] = ' ';
			out[k] = 0;
		}
	}
}

static void bind_value(sqlite3_stmt *st, int i, const sql_value *v)
{
	const void *p = sql_value_ptr(v);
	int rc;

	switch (v->v.cls) {
	case TBL_NULL: rc = sqlite3_bind_null(st, i); break;
	case TBL_INT: rc = sqlite3_bind_int64(st, i, v->v.i); break;
	case TBL_REAL: rc = sqlite3_bind_double(st, i, v->v.r); break;
	case TBL_TEXT:
		rc = sqlite3_bind_text(st, i, p ? p : "", (int)v->v.n,
				       SQLITE_TRANSIENT);
		break;
	default:
		rc = sqlite3_bind_blob(st, i, p ? p : "", (int)v->v.n,
				       SQLITE_TRANSIENT);
		break;
	}
	ck_assert_int_eq(rc, SQLITE_OK);
}

/* Column col of the current row as a borrowed sql_value. */
static void column_value(sqlite3_stmt *st, int col, sql_value *out)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_NULL: sql_value_null(out); break;
	case SQLITE_INTEGER:
		sql_value_int(out, sqlite3_column_int64(st, col));
		break;
	case SQLITE_FLOAT:
		sql_value_real(out, sqlite3_column_double(st, col));
		break;
	case SQLITE_TEXT:
		sql_value_borrow(out, TBL_TEXT, sqlite3_column_text(st, col),
				 (size_t)sqlite3_column_bytes(st, col));
		break;
	default:
		sql_value_borrow(out, TBL_BLOB, sqlite3_column_blob(st, col),
				 (size_t)sqlite3_column_bytes(st, col));
		break;
	}
}

static int same_value(const sql_value *a, const sql_value *b)
{
	if (a->v.cls != b->v.cls)
		return 0;
	switch (a->v.cls) {
	case TBL_NULL: return 1;
	case TBL_INT: return a->v.i == b->v.i;
	case TBL_REAL: return memcmp(&a->v.r, &b->v.r, sizeof(double)) == 0;
	default:
		return a->v.n == b->v.n && (a->v.n == 0 ||
			memcmp(sql_value_ptr(a), sql_value_ptr(b), a->v.n) == 0);
	}
}

static sqlite3_stmt *prepare(const char *sql)
{
	sqlite3_stmt *st = NULL;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
		      "%s: %s", sql, sqlite3_errmsg(db));
	return st;
}

static void exec(const char *sql)
{
	char *msg = NULL;

	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK,
		      "%s: %s", sql, msg ? msg : "");
}

/* Step st (bound) once and compare its first column, or its error, with
 * rdb's rc/got.  Frees got. */
static void expect_same(sqlite3_stmt *st, const char *what,
			const sql_value *argv, int argc, rdb_rc rc,
			sql_value *got)
{
	char args[1200], a[600], b[600];
	sql_value want;
	int src = sqlite3_step(st), ok;

	if (src == SQLITE_ROW) {
		column_value(st, 0, &want);
		ok = rc == RDB_OK && same_value(&want, got);
	} else {
		ok = rc != RDB_OK && got->v.cls == TBL_NULL &&
			strcmp(err.msg, sqlite3_errmsg(db)) == 0;
	}
	if (!ok) {
		/* Describe only failures: the loops run this 10^5 times. */
		describe_args(argv, argc, args, sizeof(args));
		describe(got, b, sizeof(b));
		if (src == SQLITE_ROW)
			describe(&want, a, sizeof(a));
		else
			snprintf(a, sizeof(a), "error '%s'",
				 sqlite3_errmsg(db));
		ck_abort_msg("%s(%s): sqlite %s, rdb %s (rc %d, '%s')", what,
			     args, a, b, rc, err.msg);
	}
	sql_value_free(got);
	rdb_err_clear(&err);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static long iters(long n)
{
	return tu_scaled(n, 50);
}

/* ---- values ------------------------------------------------------------------ */

START_TEST(test_sqlfunc_value_copies_own_and_borrow_as_documented)
{
	char big[100];
	sql_value a, b, c, d;

	memset(big, 'x', sizeof(big));
	sql_value_borrow(&a, TBL_TEXT, big, sizeof(big));
	ck_assert_int_eq(sql_value_pass(&cx, &b, &a), RDB_OK);
	ck_assert_int_eq(b.mem, SQL_MEM_BORROW);          /* shares bytes */
	ck_assert_ptr_eq(sql_value_ptr(&b), big);
	ck_assert_int_eq(sql_value_copy(&cx, &c, &a), RDB_OK);
	ck_assert_int_eq(c.mem, SQL_MEM_HEAP);
	ck_assert_ptr_ne(sql_value_ptr(&c), big);
	ck_assert_int_eq(sql_value_pass(&cx, &d, &c), RDB_OK);
	ck_assert_int_eq(d.mem, SQL_MEM_HEAP);            /* never aliases */
	ck_assert_ptr_ne(sql_value_ptr(&d), sql_value_ptr(&c));
	sql_value_free(&c);
	sql_value_move(&c, &d);
	ck_assert_int_eq(d.v.cls, TBL_NULL);
	ck_assert_int_eq(memcmp(sql_value_ptr(&c), big, sizeof(big)), 0);
	sql_value_free(&c);
	sql_value_free(&d);
	/* Short text is inline and survives a plain struct copy. */
	ck_assert_int_eq(sql_value_set_bytes(&cx, &a, TBL_TEXT, "hello", 5),
			 RDB_OK);
	ck_assert_int_eq(a.mem, SQL_MEM_INLINE);
	b = a;
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(memcmp(sql_value_ptr(&b), "hello", 5), 0);
	ck_assert_int_eq(sql_value_tbl(&b).n, 5);
	ck_assert_ptr_eq(sql_value_tbl(&b).p, b.buf);
	/* A NaN is NULL; owning a borrowed value copies it. */
	sql_value_real(&a, NAN);
	ck_assert_int_eq(a.v.cls, TBL_NULL);
	sql_value_borrow(&a, TBL_BLOB, big, 10);
	ck_assert_int_eq(sql_value_own(&cx, &a), RDB_OK);
	ck_assert_int_eq(a.mem, SQL_MEM_INLINE);
	big[0] = 'y';
	ck_assert_int_eq(((const char *)sql_value_ptr(&a))[0], 'x');
}
END_TEST

/* sql_value_cmp() and the table layer's tbl_value_cmp() order values the
 * same way (the executor mixes index order with evaluated comparisons). */
START_TEST(test_sqlfunc_value_order_agrees_with_table_layer)
{
	sql_value a, b;
	tbl_value ta, tb;
	int c1, c2;
	long i, n = iters(20000);

	tu_seed_note("value_order", seed);
	for (i = 0; i < n; i++) {
		gen_value(&seed, store[0], &a);
		if (i % 5 == 0)
			b = a;
		else
			gen_value(&seed, store[1], &b);
		ta = sql_value_tbl(&a);
		tb = sql_value_tbl(&b);
		c1 = sql_value_cmp(&a, &b);
		c2 = tbl_value_cmp(&ta, &tb);
		ck_assert_int_eq((c1 > 0) - (c1 < 0), (c2 > 0) - (c2 < 0));
	}
}
END_TEST

START_TEST(test_sqlfunc_number_text_renders_like_sqlite)
{
	sqlite3_stmt *st = prepare("SELECT CAST(?1 AS TEXT)");
	sqlite3_stmt *st2 = prepare("SELECT ?1 || ''");
	char buf[SQL_NUM_TEXT];
	sql_value a, out;
	long i, n = iters(30000);
	size_t len;

	tu_seed_note("number_text", seed);
	for (i = 0; i < n; i++) {
		if (i % 8 == 0)
			sql_value_int(&a, random_int(&seed));
		else
			sql_value_real(&a, i < (long)COUNT(reals) ? reals[i] :
				       random_real(&seed));
		bind_value(st, 1, &a);
		len = a.v.cls == TBL_INT ? sql_render_int(a.v.i, buf) :
			sql_render_real(a.v.r, buf);
		ck_assert_uint_eq(strlen(buf), len);
		ck_assert_uint_lt(len, SQL_INLINE_MAX + 1);
		sql_value_borrow(&out, TBL_TEXT, buf, len);
		expect_same(st, "cast-text", &a, 1, RDB_OK, &out);
		bind_value(st2, 1, &a);
		expect_same(st2, "concat", &a, 1,
			    sql_binary(&cx, SQL_OP_CONCAT, &a, &(sql_value){
				    .v = { .cls = TBL_TEXT, .p = "" },
				    .mem = SQL_MEM_BORROW }, &out), &out);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(st2);
}
END_TEST

START_TEST(test_sqlfunc_number_parsing_matches_sqlite_real_and_integer)
{
	sqlite3_stmt *sr = prepare("SELECT CAST(?1 AS REAL)");
	sqlite3_stmt *si = prepare("SELECT CAST(?1 AS INTEGER)");
	sqlite3_stmt *sn = prepare("SELECT CAST(?1 AS NUMERIC)");
	unsigned char buf[STORE];
	char tmp[64];
	sql_value a, out;
	long i, n = iters(20000);
	size_t len;

	tu_seed_note("number_parsing", seed);
	for (i = 0; i < n; i++) {
		if (i % 3 == 0) {
			len = (size_t)snprintf(tmp, sizeof(tmp), "%.*g",
					       (int)tu_rand_below(&seed, 20) + 1,
					       random_real(&seed));
			memcpy(buf, tmp, len);
		} else {
			len = random_text(&seed, buf);
		}
		sql_value_borrow(&a, TBL_TEXT, buf, len);
		bind_value(sr, 1, &a);
		expect_same(sr, "real", &a, 1, sql_cast(&cx, &a, SQL_AFF_REAL,
							&out), &out);
		bind_value(si, 1, &a);
		expect_same(si, "int", &a, 1, sql_cast(&cx, &a,
						       SQL_AFF_INTEGER, &out),
			    &out);
		bind_value(sn, 1, &a);
		expect_same(sn, "numeric", &a, 1, sql_cast(&cx, &a,
							   SQL_AFF_NUMERIC,
							   &out), &out);
	}
	sqlite3_finalize(sr);
	sqlite3_finalize(si);
	sqlite3_finalize(sn);
}
END_TEST

/* ---- operators ------------------------------------------------------------------ */

static const struct {
	const char *sql;
	sql_binop op;
} binops[] = {
	{ "SELECT ?1 + ?2", SQL_OP_ADD }, { "SELECT ?1 - ?2", SQL_OP_SUB },
	{ "SELECT ?1 * ?2", SQL_OP_MUL }, { "SELECT ?1 / ?2", SQL_OP_DIV },
	{ "SELECT ?1 % ?2", SQL_OP_REM }, { "SELECT ?1 & ?2", SQL_OP_BITAND },
	{ "SELECT ?1 | ?2", SQL_OP_BITOR }, { "SELECT ?1 << ?2", SQL_OP_SHL },
	{ "SELECT ?1 >> ?2", SQL_OP_SHR }, { "SELECT ?1 || ?2", SQL_OP_CONCAT },
};

START_TEST(test_sqlfunc_binary_operators_match_sqlite)
{
	sql_value a[2], out;
	long i, n = iters(3000);
	size_t k;

	tu_seed_note("binary_operators", seed);
	for (k = 0; k < COUNT(binops); k++) {
		sqlite3_stmt *st = prepare(binops[k].sql);

		for (i = 0; i < n; i++) {
			gen_value(&seed, store[0], &a[0]);
			gen_value(&seed, store[1], &a[1]);
			bind_value(st, 1, &a[0]);
			bind_value(st, 2, &a[1]);
			expect_same(st, binops[k].sql, a, 2,
				    sql_binary(&cx, binops[k].op, &a[0], &a[1],
					       &out), &out);
		}
		sqlite3_finalize(st);
	}
}
END_TEST

START_TEST(test_sqlfunc_unary_and_logic_match_sqlite)
{
	static const char *const sql[] = {
		"SELECT -?1", "SELECT +?1", "SELECT ~?1", "SELECT NOT ?1",
		"SELECT ?1 AND ?2", "SELECT ?1 OR ?2",
		"SELECT CASE WHEN ?1 THEN 1 ELSE 0 END",
	};
	sql_value a[2], out;
	long i, n = iters(3000);
	size_t k;
	rdb_rc rc;

	tu_seed_note("unary_logic", seed);
	for (k = 0; k < COUNT(sql); k++) {
		sqlite3_stmt *st = prepare(sql[k]);

		for (i = 0; i < n; i++) {
			gen_value(&seed, store[0], &a[0]);
			gen_value(&seed, store[1], &a[1]);
			bind_value(st, 1, &a[0]);
			if (sqlite3_bind_parameter_count(st) > 1)
				bind_value(st, 2, &a[1]);
			rc = RDB_OK;
			switch (k) {
			case 0: sql_negate(&a[0], &out); break;
			case 1: rc = sql_value_pass(&cx, &out, &a[0]); break;
			case 2: sql_bitnot(&a[0], &out); break;
			case 3: sql_not(&a[0], &out); break;
			case 4: sql_and(&a[0], &a[1], &out); break;
			case 5: sql_or(&a[0], &a[1], &out); break;
			default:
				sql_value_int(&out,
					      sql_value_truth(&a[0]) == 1);
			}
			expect_same(st, sql[k], a, k >= 4 && k < 6 ? 2 : 1,
				    rc, &out);
		}
		sqlite3_finalize(st);
	}
}
END_TEST

/* ---- comparison --------------------------------------------------------------------- */

static const struct {
	const char *op;
	sql_cmp_op cmp;
} cmps[] = {
	{ "=", SQL_CMP_EQ }, { "==", SQL_CMP_EQ }, { "!=", SQL_CMP_NE },
	{ "<>", SQL_CMP_NE }, { "<", SQL_CMP_LT }, { "<=", SQL_CMP_LE },
	{ ">", SQL_CMP_GT }, { ">=", SQL_CMP_GE }, { "IS", SQL_CMP_IS },
	{ "IS NOT", SQL_CMP_ISNOT },
};

START_TEST(test_sqlfunc_comparisons_without_affinity_match_sqlite)
{
	char sql[64];
	sql_value a[4], out, t1, t2;
	long i, n = iters(2000);
	size_t k;

	tu_seed_note("comparisons", seed);
	for (k = 0; k < COUNT(cmps); k++) {
		sqlite3_stmt *st;

		snprintf(sql, sizeof(sql), "SELECT ?1 %s ?2", cmps[k].op);
		st = prepare(sql);
		for (i = 0; i < n; i++) {
			gen_value(&seed, store[0], &a[0]);
			if (tu_rand_below(&seed, 4) == 0)
				a[1] = a[0];
			else
				gen_value(&seed, store[1], &a[1]);
			bind_value(st, 1, &a[0]);
			bind_value(st, 2, &a[1]);
			sql_compare(cmps[k].cmp, &a[0], &a[1], SQL_AFF_NONE,
				    &out);
			expect_same(st, sql, a, 2, RDB_OK, &out);
		}
		sqlite3_finalize(st);
	}
	/* BETWEEN is two comparisons joined by AND; IN a list. */
	{
		sqlite3_stmt *bt = prepare("SELECT ?1 BETWEEN ?2 AND ?3");
		sqlite3_stmt *in = prepare("SELECT ?1 IN (?2, ?3, ?4)");

		for (i = 0; i < n; i++) {
			for (k = 0; k < 4; k++)
				gen_value(&seed, store[k], &a[k]);
			if (tu_rand_below(&seed, 3) == 0)
				a[1 + tu_rand_below(&seed, 3)] = a[0];
			for (k = 0; k < 4; k++) {
				if (k < 3)
					bind_value(bt, (int)k + 1, &a[k]);
				bind_value(in, (int)k + 1, &a[k]);
			}
			sql_compare(SQL_CMP_GE, &a[0], &a[1], SQL_AFF_NONE,
				    &t1);
			sql_compare(SQL_CMP_LE, &a[0], &a[2], SQL_AFF_NONE,
				    &t2);
			sql_and(&t1, &t2, &out);
			expect_same(bt, "between", a, 3, RDB_OK, &out);
			sql_in(&a[0], &a[1], 3, SQL_AFF_NONE, &out);
			expect_same(in, "in", a, 4, RDB_OK, &out);
		}
		sqlite3_finalize(bt);
		sqlite3_finalize(in);
	}
}
END_TEST

/* Columns of every affinity; values stored through them get converted
 * by SQLite as columns do, then compared with parameters and with each
 * other. */
static const struct {
	const char *col;
	sql_aff aff;
} affcols[] = {
	{ "ci", SQL_AFF_INTEGER }, { "cr", SQL_AFF_REAL },
	{ "ct", SQL_AFF_TEXT }, { "cb", SQL_AFF_BLOB },
	{ "cn", SQL_AFF_NUMERIC },
};

static void store_row(sqlite3_stmt *ins, sqlite3_stmt *sel, sql_value *row,
		      unsigned char bufs[][STORE])
{
	sql_value v;
	size_t k;

	exec("DELETE FROM t");
	for (k = 0; k < COUNT(affcols); k++) {
		gen_value(&seed, store[k], &v);
		bind_value(ins, (int)k + 1, &v);
	}
	ck_assert_int_eq(sqlite3_step(ins), SQLITE_DONE);
	sqlite3_reset(ins);
	ck_assert_int_eq(sqlite3_step(sel), SQLITE_ROW);
	for (k = 0; k < COUNT(affcols); k++) {
		column_value(sel, (int)k, &v);
		if (v.v.cls == TBL_TEXT || v.v.cls == TBL_BLOB) {
			memcpy(bufs[k], sql_value_ptr(&v), v.v.n);
			sql_value_borrow(&v, v.v.cls, bufs[k], v.v.n);
		}
		row[k] = v;
	}
	sqlite3_reset(sel);
}

START_TEST(test_sqlfunc_comparisons_apply_column_affinity_like_sqlite)
{
	static unsigned char bufs[8][STORE];
	sqlite3_stmt *ins, *sel, *st;
	sql_value row[8], a[2], out;
	char sql[128];
	long i, n = iters(600);
	size_t c, d, k;
	sql_aff aff;

	tu_seed_note("affinity", seed);
	exec("CREATE TABLE t(ci INTEGER, cr REAL, ct TEXT, cb BLOB, "
	     "cn NUMERIC)");
	ins = prepare("INSERT INTO t VALUES(?1, ?2, ?3, ?4, ?5)");
	sel = prepare("SELECT ci, cr, ct, cb, cn FROM t");
	for (i = 0; i < n; i++) {
		store_row(ins, sel, row, bufs);
		c = tu_rand_below(&seed, COUNT(affcols));
		d = tu_rand_below(&seed, COUNT(affcols));
		k = tu_rand_below(&seed, COUNT(cmps));
		gen_value(&seed, store[7], &a[1]);
		/* column op parameter */
		snprintf(sql, sizeof(sql), "SELECT %s %s ?1 FROM t",
			 affcols[c].col, cmps[k].op);
		st = prepare(sql);
		bind_value(st, 1, &a[1]);
		a[0] = row[c];
		aff = sql_aff_compare(affcols[c].aff, SQL_AFF_NONE);
		sql_compare(cmps[k].cmp, &a[0], &a[1], aff, &out);
		expect_same(st, sql, a, 2, RDB_OK, &out);
		sqlite3_finalize(st);
		/* column op column */
		snprintf(sql, sizeof(sql), "SELECT %s %s %s FROM t",
			 affcols[c].col, cmps[k].op, affcols[d].col);
		st = prepare(sql);
		a[1] = row[d];
		aff = sql_aff_compare(affcols[c].aff, affcols[d].aff);
		sql_compare(cmps[k].cmp, &a[0], &a[1], aff, &out);
		expect_same(st, sql, a, 2, RDB_OK, &out);
		sqlite3_finalize(st);
		/* column IN (parameters) */
		snprintf(sql, sizeof(sql), "SELECT %s IN (?1, ?2) FROM t",
			 affcols[c].col);
		st = prepare(sql);
		gen_value(&seed, store[6], &a[0]);
		bind_value(st, 1, &a[0]);
		bind_value(st, 2, &a[1]);
		{
			sql_value list[2] = { a[0], a[1] };

			sql_in(&row[c], list, 2, affcols[c].aff, &out);
			expect_same(st, sql, list, 2, RDB_OK, &out);
		}
		sqlite3_finalize(st);
	}
	sqlite3_finalize(ins);
	sqlite3_finalize(sel);
}
END_TEST

/* ---- CAST ----------------------------------------------------------------------------- */

START_TEST(test_sqlfunc_cast_matches_sqlite_for_every_type_name)
{
	static const char *const types[] = {
		"INTEGER", "INT", "BIGINT", "REAL", "FLOAT", "DOUBLE", "TEXT",
		"VARCHAR(10)", "CLOB", "BLOB", "NUMERIC", "DECIMAL(5,2)",
		"BOOLEAN", "ANY", "DATE", "charint",
	};
	char sql[64];
	sql_value a, out;
	long i, n = iters(1500);
	size_t k;
	sql_aff aff;

	tu_seed_note("cast", seed);
	for (k = 0; k < COUNT(types); k++) {
		sqlite3_stmt *st;

		snprintf(sql, sizeof(sql), "SELECT CAST(?1 AS %s)", types[k]);
		st = prepare(sql);
		aff = sql_aff_of_name(types[k], strlen(types[k]));
		for (i = 0; i < n; i++) {
			gen_value(&seed, store[0], &a);
			bind_value(st, 1, &a);
			expect_same(st, sql, &a, 1, sql_cast(&cx, &a, aff,
							     &out), &out);
		}
		sqlite3_finalize(st);
	}
	ck_assert_int_eq(sql_aff_of_name("", 0), SQL_AFF_BLOB);
	ck_assert_int_eq(sql_aff_of_type(TBL_TY_TEXT), SQL_AFF_TEXT);
	ck_assert_int_eq(sql_aff_of_type(TBL_TY_ANY), SQL_AFF_BLOB);
}
END_TEST

/* ---- LIKE and GLOB ---------------------------------------------------------------------- */

/* Text made of pattern syntax and a few letters (both cases, UTF-8). */
static void gen_pattern(uint64_t *s, unsigned char *buf, sql_value *out,
			int wild)
{
	static const char *const parts[] = { "a", "A", "b", "B", "c", "%",
		"_", "*", "?", "[", "]", "^", "-", "\\", "\xc3\xa9",
		"\xc3\x89", "x", "[a-c]", "[^b]", "[]]", "\0" };
	size_t n = 0, len = tu_rand_below(s, 8), i, k, lim;
	const char *p;

	if (tu_rand_below(s, 10) == 0) {
		gen_value(s, buf, out);
		return;
	}
	lim = wild ? COUNT(parts) : 5;
	for (i = 0; i < len; i++) {
		k = tu_rand_below(s, lim);
		if (!wild && tu_rand_below(s, 4) == 0)
			k = 14 + tu_rand_below(s, 2);
		p = parts[k];
		if (p[0] == 0) {
			if (tu_rand_below(s, 3) == 0)
				buf[n++] = 0;
			continue;
		}
		memcpy(buf + n, p, strlen(p));
		n += strlen(p);
	}
	sql_value_borrow(out, TBL_TEXT, buf, n);
}

START_TEST(test_sqlfunc_like_and_glob_match_sqlite)
{
	sqlite3_stmt *like = prepare("SELECT ?1 LIKE ?2");
	sqlite3_stmt *glob = prepare("SELECT ?1 GLOB ?2");
	sqlite3_stmt *esc = prepare("SELECT ?1 LIKE ?2 ESCAPE ?3");
	static const char *const escs[] = { "\\", "%", "_", "a", "\xc3\xa9",
		"", "ab", "x" };
	sql_value a[3], out;
	long i, n = iters(20000);
	const char *e;

	tu_seed_note("like_glob", seed);
	for (i = 0; i < n; i++) {
		/* A string built from the pattern itself matches often. */
		gen_pattern(&seed, store[1], &a[1], 1);
		if (tu_rand_below(&seed, 3) == 0)
			gen_pattern(&seed, store[0], &a[0], 0);
		else
			gen_pattern(&seed, store[0], &a[0], 1);
		bind_value(like, 1, &a[0]);
		bind_value(like, 2, &a[1]);
		expect_same(like, "like", a, 2,
			    sql_like(&cx, &a[0], &a[1], NULL, &out), &out);
		bind_value(glob, 1, &a[0]);
		bind_value(glob, 2, &a[1]);
		expect_same(glob, "glob", a, 2,
			    sql_glob(&cx, &a[0], &a[1], &out), &out);
		e = escs[tu_rand_below(&seed, COUNT(escs))];
		sql_value_borrow(&a[2], TBL_TEXT, e, strlen(e));
		if (tu_rand_below(&seed, 20) == 0)
			sql_value_null(&a[2]);
		bind_value(esc, 1, &a[0]);
		bind_value(esc, 2, &a[1]);
		bind_value(esc, 3, &a[2]);
		expect_same(esc, "like-escape", a, 3,
			    sql_like(&cx, &a[0], &a[1], &a[2], &out), &out);
	}
	sqlite3_finalize(like);
	sqlite3_finalize(glob);
	sqlite3_finalize(esc);
}
END_TEST

START_TEST(test_sqlfunc_like_pattern_too_long_is_an_error)
{
	sqlite3_stmt *st = prepare("SELECT ?1 LIKE ?2");
	static char pat[50002];
	sql_value a[2], out;

	memset(pat, '%', sizeof(pat));
	sql_value_borrow(&a[0], TBL_TEXT, "abc", 3);
	sql_value_borrow(&a[1], TBL_TEXT, pat, 50001);
	bind_value(st, 1, &a[0]);
	bind_value(st, 2, &a[1]);
	expect_same(st, "like", a, 2, sql_like(&cx, &a[0], &a[1], NULL, &out),
		    &out);
	sql_value_borrow(&a[1], TBL_TEXT, pat, 50000);
	bind_value(st, 1, &a[0]);
	bind_value(st, 2, &a[1]);
	expect_same(st, "like", a, 2, sql_like(&cx, &a[0], &a[1], NULL, &out),
		    &out);
	sqlite3_finalize(st);
}
END_TEST

/* ---- printf ------------------------------------------------------------------------------ */

/* A random format of literal text and conversions, into buf. */
static size_t gen_format(uint64_t *s, char *buf, size_t cap)
{
	static const char conv[] = "dddiuffffeEgggGsssqQwcxXoprn%zZy";
	static const char flags[] = "-+ #!0,";
	size_t n = 0, parts = tu_rand_below(s, 4) + 1, i, j;

	for (i = 0; i < parts && n + 40 < cap; i++) {
		if (tu_rand_below(s, 3) == 0)
			buf[n++] = (char)"ab |'"[tu_rand_below(s, 5)];
		buf[n++] = '%';
		for (j = tu_rand_below(s, 3); j > 0; j--)
			buf[n++] = flags[tu_rand_below(s, sizeof(flags) - 1)];
		if (tu_rand_below(s, 3) == 0)
			n += (size_t)snprintf(buf + n, cap - n, "%d",
					      (int)tu_rand_below(s, 30));
		else if (tu_rand_below(s, 8) == 0)
			buf[n++] = '*';
		if (tu_rand_below(s, 2) == 0) {
			buf[n++] = '.';
			if (tu_rand_below(s, 6) == 0)
				buf[n++] = '*';
			else
				n += (size_t)snprintf(buf + n, cap - n, "%d",
						      (int)tu_rand_below(s,
									 40));
		}
		if (tu_rand_below(s, 10) == 0)
			buf[n++] = 'l';
		buf[n++] = conv[tu_rand_below(s, sizeof(conv) - 1)];
	}
	if (tu_rand_below(s, 10) == 0)
		buf[n++] = '%';
	buf[n] = 0;
	return n;
}

/* An argument for printf: mostly numbers (for the float digits). */
static void gen_printf_arg(uint64_t *s, unsigned char *buf, sql_value *out)
{
	switch (tu_rand_below(s, 5)) {
	case 0: case 1:
		sql_value_real(out, random_real(s));
		return;
	case 2:
		sql_value_int(out, tu_rand_below(s, 2) ? random_int(s) :
			      (int64_t)tu_rand_below(s, 60) - 10);
		return;
	default:
		gen_value(s, buf, out);
		if (out->v.cls == TBL_INT && (out->v.i > 100 || out->v.i < -100)
		    && tu_rand_below(s, 2))
			sql_value_int(out, out->v.i % 50);
	}
}

START_TEST(test_sqlfunc_printf_matches_sqlite_byte_for_byte)
{
	sqlite3_stmt *st = prepare("SELECT printf(?1, ?2, ?3, ?4, ?5)");
	sqlite3_stmt *st2 = prepare("SELECT format(?1, ?2, ?3)");
	const sql_func *f;
	char fmt[256];
	sql_value a[5], out;
	long i, n = iters(30000);
	int k;

	tu_seed_note("printf", seed);
	ck_assert_int_eq(sql_func_find("printf", 6, 5, &err, &f), RDB_OK);
	for (i = 0; i < n; i++) {
		size_t len = gen_format(&seed, fmt, sizeof(fmt));

		sql_value_borrow(&a[0], TBL_TEXT, fmt, len);
		for (k = 1; k < 5; k++) {
			gen_printf_arg(&seed, store[k], &a[k]);
			/* a '*' may take any argument as a width: keep them
			 * small (or far too big) so nothing allocates 1 GB */
			if (strchr(fmt, '*') &&
			    llabs(sql_value_to_int32(&a[k])) > 500)
				sql_value_int(&a[k], sql_value_to_int32(&a[k]) %
					      500);
		}
		for (k = 0; k < 5; k++)
			bind_value(st, k + 1, &a[k]);
		expect_same(st, "printf", a, 5, f->fn(&cx, 5, a, &out), &out);
		for (k = 0; k < 3; k++)
			bind_value(st2, k + 1, &a[k]);
		expect_same(st2, "format", a, 3, f->fn(&cx, 3, a, &out), &out);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(st2);
}
END_TEST

START_TEST(test_sqlfunc_printf_fixed_cases_match_sqlite)
{
	static const char *const fmts[] = {
		"%d", "%5d", "%-5d|", "%05d", "%+d", "% d", "%,d", "%,015d",
		"%.3d", "%x", "%#x", "%#X", "%#o", "%u", "%r", "%p", "%!.15g",
		"%!.20e", "%.0f", "%.1f", "%.2f", "%10.3f", "%-10.3f|",
		"%010.3f", "%+.3e", "%g", "%#g", "%.0g", "%G", "%e", "%E",
		"%s", "%.2s", "%!.2s", "%10s|", "%-10s|", "%!10s|", "%q", "%Q",
		"%w", "%.3q", "%c", "%5c|", "%.3c", "%-5.2c|", "%n%%", "%", "a%",
		"%5%", "%T", "%k", "%lld", "%llld", "%.*f", "%*d", "%-*d|",
		"%.*s", "%!.3q", "%.100f", "%.30e", "%150.2f", "%.16g",
		"%.17g", "%#.3f", "%!.3f", "%!g", "%z",
		/* precisions of a million: %c repeats, %f and %e write
		 * zeros past the significant digits */
		"%.1000000c", "%!.300000c|", "%-9.400000c|", "%.1000000f",
		"%!.300000e", "%#.200000g", "%.1000000g",
		/* zero padding to widths of a million, with and without ','
		 * (the grouped zeros in each phase of their period of 4) */
		"%01000000d", "%+01000000d", "%#01000000x", "%,01000000d",
		"%,0999999d", "%,01000001d", "%+,01000002d", "%,.1000000d",
		"%-,01000000d|", "%!01000000.3f", "%,05d", "%,06d", "%,07d",
		"%,08d", "%,.7d", "%,.8d", "%,.9d", "%,.10d", "%,.25d",
	};
	static const double vals[] = { 0.0, -0.0, 1.0, -1.5, 0.5, 2.5,
		1e300, -1e-300, 1e308, INFINITY, -INFINITY, 123.456, 0.05,
		9.995, 1e16, 99999.5, 0.000999, 5e-324 };
	sqlite3_stmt *st = prepare("SELECT printf(?1, ?2, ?3)");
	const sql_func *f;
	sql_value a[3], out;
	size_t i, j;

	ck_assert_int_eq(sql_func_find("PRINTF", 6, 3, &err, &f), RDB_OK);
	for (i = 0; i < COUNT(fmts); i++) {
		for (j = 0; j < COUNT(vals) + 6; j++) {
			sql_value_borrow(&a[0], TBL_TEXT, fmts[i],
					 strlen(fmts[i]));
			if (j < COUNT(vals))
				sql_value_real(&a[1], vals[j]);
			else if (j == COUNT(vals))
				sql_value_borrow(&a[1], TBL_TEXT,
						 "it's \xc3\xa9t\xc3\xa9", 11);
			else if (j == COUNT(vals) + 1)
				sql_value_null(&a[1]);
			else
				sql_value_int(&a[1], ints[j * 3 % COUNT(ints)]);
			sql_value_int(&a[2], (int64_t)j - 3);
			if (strchr(fmts[i], '*') &&
			    llabs(sql_value_to_int32(&a[1])) > 1000)
				continue;   /* 100 MB of digits: not here */
			bind_value(st, 1, &a[0]);
			bind_value(st, 2, &a[1]);
			bind_value(st, 3, &a[2]);
			expect_same(st, "printf", a, 3, f->fn(&cx, 3, a, &out),
				    &out);
		}
	}
	sqlite3_finalize(st);
}
END_TEST

/* ---- scalar functions ---------------------------------------------------------------------- */

/* For zeroblob, randomblob and char: sizes that are either small or far
 * past the limit (never a huge allocation). */
static void gen_size(uint64_t *s, unsigned char *buf, sql_value *out)
{
	int64_t n;

	gen_value(s, buf, out);
	n = sql_value_to_int(out);
	if (n > 300 && n <= SQL_MAX_LENGTH)
		sql_value_int(out, n % 300);
}

static void check_function(const char *name, int argc, long n)
{
	const sql_func *f;
	char sql[128];
	size_t k = 0;
	sql_value a[N_ARGS], out;
	sqlite3_stmt *st;
	long i;
	int j, sized = !strcmp(name, "zeroblob") || !strcmp(name, "char") ||
		!strcmp(name, "randomblob");

	k = (size_t)snprintf(sql, sizeof(sql), "SELECT %s(", name);
	for (j = 0; j < argc; j++)
		k += (size_t)snprintf(sql + k, sizeof(sql) - k, "%s?%d",
				      j ? ", " : "", j + 1);
	snprintf(sql + k, sizeof(sql) - k, ")");
	st = prepare(sql);
	ck_assert_int_eq(sql_func_find(name, strlen(name), argc, &err, &f),
			 RDB_OK);
	ck_assert_ptr_nonnull(f->fn);
	for (i = 0; i < n; i++) {
		for (j = 0; j < argc; j++) {
			if (sized)
				gen_size(&seed, store[j], &a[j]);
			else if (tu_rand_below(&seed, 4) == 0 && j > 0)
				a[j] = a[tu_rand_below(&seed, (uint64_t)j)];
			else
				gen_value(&seed, store[j], &a[j]);
			bind_value(st, j + 1, &a[j]);
		}
		expect_same(st, sql, a, argc, f->fn(&cx, argc, a, &out), &out);
	}
	sqlite3_finalize(st);
}

START_TEST(test_sqlfunc_scalar_functions_match_sqlite)
{
	static const struct {
		const char *name;
		int argc;
	} fns[] = {
		{ "abs", 1 }, { "char", 0 }, { "char", 1 }, { "char", 3 },
		{ "coalesce", 2 }, { "coalesce", 4 }, { "hex", 1 },
		{ "ifnull", 2 }, { "iif", 3 }, { "instr", 2 }, { "length", 1 },
		{ "like", 2 }, { "like", 3 }, { "glob", 2 }, { "likely", 1 },
		{ "unlikely", 1 }, { "lower", 1 }, { "upper", 1 },
		{ "ltrim", 1 }, { "ltrim", 2 }, { "rtrim", 1 }, { "rtrim", 2 },
		{ "trim", 1 }, { "trim", 2 }, { "max", 2 }, { "max", 3 },
		{ "min", 2 }, { "min", 4 }, { "nullif", 2 }, { "quote", 1 },
		{ "replace", 3 }, { "round", 1 }, { "round", 2 },
		{ "sign", 1 }, { "substr", 2 }, { "substr", 3 },
		{ "substring", 3 }, { "typeof", 1 }, { "unicode", 1 },
		{ "zeroblob", 1 }, { "printf", 0 }, { "printf", 1 },
		{ "acos", 1 }, { "acosh", 1 }, { "asin", 1 }, { "asinh", 1 },
		{ "atan", 1 }, { "atan2", 2 }, { "atanh", 1 }, { "ceil", 1 },
		{ "ceiling", 1 }, { "cos", 1 }, { "cosh", 1 }, { "degrees", 1 },
		{ "exp", 1 }, { "floor", 1 }, { "ln", 1 }, { "log", 1 },
		{ "log", 2 }, { "log10", 1 }, { "log2", 1 }, { "mod", 2 },
		{ "pi", 0 }, { "pow", 2 }, { "power", 2 }, { "radians", 1 },
		{ "sin", 1 }, { "sinh", 1 }, { "sqrt", 1 }, { "tan", 1 },
		{ "tanh", 1 }, { "trunc", 1 },
	};
	long n = iters(2500);
	size_t k;

	tu_seed_note("scalar_functions", seed);
	for (k = 0; k < COUNT(fns); k++)
		check_function(fns[k].name, fns[k].argc, n);
}
END_TEST

START_TEST(test_sqlfunc_round_matches_sqlite_on_halves_and_digits)
{
	sqlite3_stmt *st = prepare("SELECT round(?1, ?2)");
	const sql_func *f;
	sql_value a[2], out;
	long i, n = iters(20000);

	tu_seed_note("round", seed);
	ck_assert_int_eq(sql_func_find("round", 5, 2, &err, &f), RDB_OK);
	for (i = 0; i < n; i++) {
		int64_t m = (int64_t)(tu_rand(&seed) % 2000001) - 1000000;
		int d = (int)tu_rand_below(&seed, 8);

		/* Decimal halves at every position, and random reals. */
		sql_value_real(&a[0], i % 2 ? random_real(&seed) :
			       ((double)m + 0.5) / pow(10, d));
		sql_value_int(&a[1], (int64_t)tu_rand_below(&seed, 34) - 2);
		bind_value(st, 1, &a[0]);
		bind_value(st, 2, &a[1]);
		expect_same(st, "round", a, 2, f->fn(&cx, 2, a, &out), &out);
	}
	sqlite3_finalize(st);
}
END_TEST

START_TEST(test_sqlfunc_random_values_stay_in_range)
{
	const sql_func *fr, *fb, *fz;
	sql_value arg, out;
	int64_t prev = 0;
	int i, differ = 0, neg = 0;

	ck_assert_int_eq(sql_func_find("random", 6, 0, &err, &fr), RDB_OK);
	ck_assert_int_eq(sql_func_find("randomblob", 10, 1, &err, &fb),
			 RDB_OK);
	ck_assert_int_eq(sql_func_find("zeroblob", 8, 1, &err, &fz), RDB_OK);
	ck_assert(!(fr->flags & SQL_FUNC_DETERMINISTIC));
	ck_assert(!(fb->flags & SQL_FUNC_DETERMINISTIC));
	for (i = 0; i < 2000; i++) {
		ck_assert_int_eq(fr->fn(&cx, 0, NULL, &out), RDB_OK);
		ck_assert_int_eq(out.v.cls, TBL_INT);
		ck_assert(out.v.i != INT64_MIN);
		differ += out.v.i != prev;
		neg += out.v.i < 0;
		prev = out.v.i;
	}
	ck_assert_int_gt(differ, 1990);
	ck_assert_int_gt(neg, 800);
	ck_assert_int_lt(neg, 1200);
	for (i = -3; i < 100; i++) {
		sql_value_int(&arg, i);
		ck_assert_int_eq(fb->fn(&cx, 1, &arg, &out), RDB_OK);
		ck_assert_int_eq(out.v.cls, TBL_BLOB);
		ck_assert_uint_eq(out.v.n, i < 1 ? 1 : (size_t)i);
		sql_value_free(&out);
	}
	sql_value_int(&arg, (int64_t)SQL_MAX_LENGTH + 1);
	ck_assert_int_eq(fb->fn(&cx, 1, &arg, &out), RDB_TOOBIG);
	ck_assert_str_eq(err.msg, "string or blob too big");
	ck_assert_int_eq(fz->fn(&cx, 1, &arg, &out), RDB_TOOBIG);
	ck_assert_int_eq(out.v.cls, TBL_NULL);
}
END_TEST

/* ---- aggregates ------------------------------------------------------------------------------ */

/* Values for a group: the general generator, or numbers near the integer
 * limits so that sums overflow. */
static void gen_agg_value(uint64_t *s, int mode, unsigned char *buf,
			  sql_value *out)
{
	switch (mode) {
	case 0:
		gen_value(s, buf, out);
		return;
	case 1:
		sql_value_int(out, tu_rand_below(s, 2) ? INT64_MAX -
			      (int64_t)tu_rand_below(s, 10) :
			      (int64_t)tu_rand_below(s, 5) - 2);
		if (tu_rand_below(s, 8) == 0)
			sql_value_int(out, INT64_MIN);
		return;
	default:
		/* few distinct values, so DISTINCT matters */
		switch (tu_rand_below(s, 5)) {
		case 0: sql_value_int(out, (int64_t)tu_rand_below(s, 3));
			return;
		case 1: sql_value_real(out, (double)tu_rand_below(s, 3));
			return;
		case 2: sql_value_null(out); return;
		case 3: sql_value_borrow(out, TBL_TEXT, "1", 1); return;
		default: sql_value_borrow(out, TBL_TEXT, "ab", 2); return;
		}
	}
}

START_TEST(test_sqlfunc_aggregates_match_sqlite)
{
	static const char *const aggs[] = {
		"count(*)", "count(x)", "sum(x)", "total(x)", "avg(x)",
		"min(x)", "max(x)", "group_concat(x)", "group_concat(x, ';')",
		"group_concat(x, NULL)", "group_concat(x, '')",
		"count(DISTINCT x)", "sum(DISTINCT x)", "total(DISTINCT x)",
		"avg(DISTINCT x)", "min(DISTINCT x)", "max(DISTINCT x)",
		"group_concat(DISTINCT x)",
	};
	static unsigned char bufs[40][STORE];
	sqlite3_stmt *ins, *st[COUNT(aggs)];
	sql_value vals[40], sep, out;
	long g, groups = iters(400);
	size_t k, i, nv;
	char sql[128];

	tu_seed_note("aggregates", seed);
	exec("CREATE TABLE g(x)");
	ins = prepare("INSERT INTO g VALUES(?1)");
	for (k = 0; k < COUNT(aggs); k++) {
		snprintf(sql, sizeof(sql), "SELECT %s FROM g", aggs[k]);
		st[k] = prepare(sql);
	}
	for (g = 0; g < groups; g++) {
		int mode = (int)tu_rand_below(&seed, 3);

		exec("DELETE FROM g");
		nv = tu_rand_below(&seed, 40);
		for (i = 0; i < nv; i++) {
			gen_agg_value(&seed, mode, bufs[i], &vals[i]);
			bind_value(ins, 1, &vals[i]);
			ck_assert_int_eq(sqlite3_step(ins), SQLITE_DONE);
			sqlite3_reset(ins);
		}
		for (k = 0; k < COUNT(aggs); k++) {
			const char *name = aggs[k];
			int distinct = strstr(name, "DISTINCT") != NULL;
			int argc = strchr(name, '*') ? 0 :
				strchr(name, ',') ? 2 : 1;
			const sql_func *f;
			sql_agg a;
			rdb_rc rc;
			sql_value argv[2];

			ck_assert_int_eq(sql_func_find(name, strcspn(name, "("),
						       argc, &err, &f), RDB_OK);
			ck_assert_int_eq(sql_agg_init(&cx, &a, f, distinct),
					 RDB_OK);
			if (strstr(name, "';'"))
				sql_value_borrow(&sep, TBL_TEXT, ";", 1);
			else if (strstr(name, "NULL"))
				sql_value_null(&sep);
			else
				sql_value_borrow(&sep, TBL_TEXT, "", 0);
			rc = RDB_OK;
			for (i = 0; i < nv && rc == RDB_OK; i++) {
				argv[0] = vals[i];
				argv[1] = sep;
				rc = sql_agg_step(&cx, &a, argc, argv);
			}
			if (rc == RDB_OK)
				rc = sql_agg_final(&cx, &a, &out);
			else
				sql_value_null(&out);
			sql_agg_free(&a);
			expect_same(st[k], name, vals, (int)(nv < 8 ? nv : 8),
				    rc, &out);
		}
	}
	for (k = 0; k < COUNT(aggs); k++)
		sqlite3_finalize(st[k]);
	sqlite3_finalize(ins);
}
END_TEST

/* "SELECT i, max(x)": the bare column comes from the row SQLite loads. */
START_TEST(test_sqlfunc_minmax_bare_column_row_matches_sqlite)
{
	static unsigned char bufs[30][STORE];
	sqlite3_stmt *ins, *st[2];
	sql_value vals[30], got;
	long g, groups = iters(300);
	int k, i, nv, row;

	tu_seed_note("bare_column", seed);
	exec("CREATE TABLE h(i, x)");
	ins = prepare("INSERT INTO h VALUES(?1, ?2)");
	st[0] = prepare("SELECT i, min(x) FROM h");
	st[1] = prepare("SELECT i, max(x) FROM h");
	for (g = 0; g < groups; g++) {
		exec("DELETE FROM h");
		nv = 1 + (int)tu_rand_below(&seed, 30);
		for (i = 0; i < nv; i++) {
			gen_agg_value(&seed, 2, bufs[i], &vals[i]);
			if (tu_rand_below(&seed, 3) == 0)
				gen_value(&seed, bufs[i], &vals[i]);
			sqlite3_bind_int(ins, 1, i);
			bind_value(ins, 2, &vals[i]);
			ck_assert_int_eq(sqlite3_step(ins), SQLITE_DONE);
			sqlite3_reset(ins);
		}
		for (k = 0; k < 2; k++) {
			const sql_func *f;
			sql_agg a;

			ck_assert_int_eq(sql_func_find(k ? "max" : "min", 3, 1,
						       &err, &f), RDB_OK);
			ck_assert_int_eq(sql_agg_init(&cx, &a, f, 0), RDB_OK);
			row = -1;
			for (i = 0; i < nv; i++) {
				ck_assert_int_eq(sql_agg_step(&cx, &a, 1,
							      &vals[i]), RDB_OK);
				if (a.load_row)
					row = i;
			}
			sql_agg_free(&a);
			sql_value_int(&got, row);
			expect_same(st[k], k ? "max bare" : "min bare", vals,
				    nv < 8 ? nv : 8, RDB_OK, &got);
		}
	}
	sqlite3_finalize(st[0]);
	sqlite3_finalize(st[1]);
	sqlite3_finalize(ins);
}
END_TEST

START_TEST(test_sqlfunc_distinct_set_keeps_one_of_each_value)
{
	sql_distinct *d;
	sql_value v;
	int added, i;
	char buf[40];

	ck_assert_int_eq(sql_distinct_new(&cx, &d), RDB_OK);
	for (i = 0; i < 3000; i++) {
		if (i % 3 == 0) {
			sql_value_int(&v, i % 1000);
		} else if (i % 3 == 1) {
			sql_value_real(&v, (double)(i % 1000));
		} else {
			snprintf(buf, sizeof(buf), "value number %d", i % 500);
			sql_value_borrow(&v, TBL_TEXT, buf, strlen(buf));
		}
		ck_assert_int_eq(sql_distinct_add(&cx, d, &v, &added), RDB_OK);
	}
	/* 1000 numbers (int and real of one value are one) + 500 texts */
	ck_assert_uint_eq(sql_distinct_count(d), 1500);
	sql_value_real(&v, -0.0);
	ck_assert_int_eq(sql_distinct_add(&cx, d, &v, &added), RDB_OK);
	ck_assert_int_eq(added, 0);                /* equals 0 */
	sql_value_borrow(&v, TBL_BLOB, "value number 1", 14);
	ck_assert_int_eq(sql_distinct_add(&cx, d, &v, &added), RDB_OK);
	ck_assert_int_eq(added, 1);                /* blob != text */
	sql_distinct_free(d);
}
END_TEST

/* ---- lookup ------------------------------------------------------------------------------------ */

START_TEST(test_sqlfunc_lookup_errors_read_like_sqlite)
{
	static const char *const calls[] = { "abs()", "abs(1, 2)",
		"nosuch(1)", "substr(1)", "coalesce(1)", "iif(1, 2)",
		"round(1, 2, 3)", "random(1)", "Zeroblob()", "like(1)" };
	const sql_func *f;
	sqlite3_stmt *st;
	char sql[64];
	size_t k;
	int argc;

	for (k = 0; k < COUNT(calls); k++) {
		const char *c = calls[k], *p;

		argc = strstr(c, "()") ? 0 : 1;
		for (p = c; *p; p++)
			argc += *p == ',';
		snprintf(sql, sizeof(sql), "SELECT %s", c);
		ck_assert(sqlite3_prepare_v2(db, sql, -1, &st, NULL) !=
			  SQLITE_OK);
		ck_assert_int_eq(sql_func_find(c, strcspn(c, "("), argc, &err,
					       &f), RDB_ERROR);
		ck_assert_ptr_null(f);
		ck_assert_str_eq(err.msg, sqlite3_errmsg(db));
	}
	ck_assert_int_eq(sql_func_find("MiN", 3, 1, &err, &f), RDB_OK);
	ck_assert_int_eq(f->agg, SQL_AGG_MIN);
	ck_assert_int_eq(sql_func_find("min", 3, 2, &err, &f), RDB_OK);
	ck_assert_int_eq(f->agg, SQL_AGG_NONE);
	ck_assert_int_eq(sql_func_find("count", 5, 0, &err, &f), RDB_OK);
	ck_assert_int_eq(sql_func_find("SUBSTRING", 9, 3, &err, &f), RDB_OK);
	ck_assert(f->flags & SQL_FUNC_DETERMINISTIC);
	ck_assert_int_eq(sql_func_find("abs", 2, 1, &err, &f), RDB_ERROR);
}
END_TEST

/* ---- errors ------------------------------------------------------------------------------------- */

/* Run fn under allocation failure at every allocation it makes: each
 * failure is RDB_NOMEM with out NULL and nothing leaked (ASan). */
static void fail_each_alloc(const char *name, int argc, const sql_value *argv)
{
	const sql_func *f;
	sql_value out;
	long k;
	rdb_rc rc;

	ck_assert_int_eq(sql_func_find(name, strlen(name), argc, &err, &f),
			 RDB_OK);
	for (k = 1; k < 50; k++) {
		sql_ctx_free(&cx);
		sql_ctx_init(&cx, &err, 1);
		rdb_mem_fail_at(k, 0);
		rc = f->fn(&cx, argc, argv, &out);
		if (!rdb_mem_failed()) {
			rdb_mem_fail_at(0, 0);
			ck_assert_int_eq(rc, RDB_OK);
			sql_value_free(&out);
			return;
		}
		rdb_mem_fail_at(0, 0);
		ck_assert_msg(rc == RDB_NOMEM, "%s: rc %d at alloc %ld", name,
			      rc, k);
		ck_assert_int_eq(out.v.cls, TBL_NULL);
		ck_assert_str_eq(err.msg, "out of memory");
	}
	ck_abort_msg("%s never succeeded", name);
}

START_TEST(test_sqlfunc_allocation_failures_are_nomem_without_leaks)
{
	char big[300];
	sql_value a[4], out;
	sql_agg agg;
	const sql_func *f;
	long k;
	int i;
	rdb_rc rc;

	memset(big, 'a', sizeof(big));
	big[5] = 'B';
	sql_value_borrow(&a[0], TBL_TEXT, big, sizeof(big));
	sql_value_borrow(&a[1], TBL_TEXT, "a", 1);
	sql_value_borrow(&a[2], TBL_TEXT, "xyz", 3);
	sql_value_int(&a[3], 7);
	fail_each_alloc("upper", 1, a);
	fail_each_alloc("replace", 3, a);
	fail_each_alloc("quote", 1, a);
	fail_each_alloc("hex", 1, a);
	fail_each_alloc("zeroblob", 1, (sql_value[]){ { .v = { .cls = TBL_INT,
		.i = 1000 } } });
	fail_each_alloc("char", 20, (sql_value[20]){ 0 });
	a[1] = a[0];
	fail_each_alloc("printf", 2, (sql_value[]){
		{ .v = { .cls = TBL_TEXT, .p = "%s %.300f %,0400d", .n = 17 },
		  .mem = SQL_MEM_BORROW }, a[0] });
	/* a heap argument must be copied by functions passing it on */
	ck_assert_int_eq(sql_value_copy(&cx, &a[2], &a[0]), RDB_OK);
	fail_each_alloc("coalesce", 2, &a[2]);
	fail_each_alloc("substr", 2, (sql_value[]){ a[2], a[3] });
	fail_each_alloc("trim", 1, &a[2]);
	sql_value_free(&a[2]);
	/* concatenation and group_concat / DISTINCT */
	for (k = 1; k < 50; k++) {
		rdb_mem_fail_at(k, 0);
		rc = sql_binary(&cx, SQL_OP_CONCAT, &a[0], &a[1], &out);
		rdb_mem_fail_at(0, 0);
		if (rc == RDB_OK) {
			sql_value_free(&out);
			break;
		}
		ck_assert_int_eq(rc, RDB_NOMEM);
	}
	ck_assert_int_eq(sql_func_find("group_concat", 12, 1, &err, &f),
			 RDB_OK);
	for (k = 1; k < 200; k++) {
		rdb_mem_fail_at(k, 0);
		rc = sql_agg_init(&cx, &agg, f, 1);
		for (i = 0; i < 40 && rc == RDB_OK; i++) {
			sql_value_int(&a[3], i);
			rc = sql_agg_step(&cx, &agg, 1, i % 2 ? a : &a[3]);
		}
		if (rc == RDB_OK)
			rc = sql_agg_final(&cx, &agg, &out);
		rdb_mem_fail_at(0, 0);
		sql_agg_free(&agg);
		if (rc == RDB_OK) {
			ck_assert_int_eq(out.v.cls, TBL_TEXT);
			sql_value_free(&out);
			break;
		}
		ck_assert_int_eq(rc, RDB_NOMEM);
	}
	ck_assert_int_lt(k, 200);
}
END_TEST

START_TEST(test_sqlfunc_overflow_errors_match_sqlite)
{
	sqlite3_stmt *st = prepare("SELECT abs(?1)");
	const sql_func *f;
	sql_value a, out;

	ck_assert_int_eq(sql_func_find("abs", 3, 1, &err, &f), RDB_OK);
	sql_value_int(&a, INT64_MIN);
	bind_value(st, 1, &a);
	expect_same(st, "abs", &a, 1, f->fn(&cx, 1, &a, &out), &out);
	sqlite3_finalize(st);
	ck_assert_int_eq(f->fn(&cx, 1, &a, &out), RDB_ERROR);
	ck_assert_str_eq(err.msg, "integer overflow");
}
END_TEST

Suite *sqlfunc_suite(void)
{
	Suite *s = suite_create("sqlfunc");
	TCase *tc;

#define CASE(name) \
	tc = tcase_create(name); \
	tcase_add_checked_fixture(tc, setup, teardown); \
	tcase_set_timeout(tc, 120); \
	suite_add_tcase(s, tc)

	CASE("values");
	tcase_add_test(tc, test_sqlfunc_value_copies_own_and_borrow_as_documented);
	tcase_add_test(tc, test_sqlfunc_value_order_agrees_with_table_layer);
	tcase_add_test(tc, test_sqlfunc_number_text_renders_like_sqlite);
	tcase_add_test(tc,
		test_sqlfunc_number_parsing_matches_sqlite_real_and_integer);
	CASE("operators");
	tcase_add_test(tc, test_sqlfunc_binary_operators_match_sqlite);
	tcase_add_test(tc, test_sqlfunc_unary_and_logic_match_sqlite);
	CASE("compare");
	tcase_add_test(tc,
		test_sqlfunc_comparisons_without_affinity_match_sqlite);
	tcase_add_test(tc,
		test_sqlfunc_comparisons_apply_column_affinity_like_sqlite);
	CASE("cast");
	tcase_add_test(tc, test_sqlfunc_cast_matches_sqlite_for_every_type_name);
	CASE("match");
	tcase_add_test(tc, test_sqlfunc_like_and_glob_match_sqlite);
	tcase_add_test(tc, test_sqlfunc_like_pattern_too_long_is_an_error);
	CASE("printf");
	tcase_add_test(tc, test_sqlfunc_printf_matches_sqlite_byte_for_byte);
	tcase_add_test(tc, test_sqlfunc_printf_fixed_cases_match_sqlite);
	CASE("functions");
	tcase_add_test(tc, test_sqlfunc_scalar_functions_match_sqlite);
	tcase_add_test(tc,
		test_sqlfunc_round_matches_sqlite_on_halves_and_digits);
	tcase_add_test(tc, test_sqlfunc_random_values_stay_in_range);
	CASE("aggregates");
	tcase_add_test(tc, test_sqlfunc_aggregates_match_sqlite);
	tcase_add_test(tc, test_sqlfunc_minmax_bare_column_row_matches_sqlite);
	tcase_add_test(tc, test_sqlfunc_distinct_set_keeps_one_of_each_value);
	CASE("lookup");
	tcase_add_test(tc, test_sqlfunc_lookup_errors_read_like_sqlite);
	CASE("errors");
	tcase_add_test(tc,
		test_sqlfunc_allocation_failures_are_nomem_without_leaks);
	tcase_add_test(tc, test_sqlfunc_overflow_errors_match_sqlite);
#undef CASE
	return s;
}
