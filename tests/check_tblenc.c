/*
 * check_tblenc.c -- the table layer's pure encodings (src/table/value.c,
 * key.c, row.c): value order, declared types, order-preserving keys,
 * rows, and the STRICT assignment rules checked against libsqlite3.
 * Cases: value, key, row, apply.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "table/table.h"
#include "buf.h"
#include "mem.h"
#include "format.h"
#include "test_util.h"

/* ---- random values --------------------------------------------------------- */

static const int64_t special_ints[] = {
	0, 1, -1, 2, -2, 127, 128, 255, 256, -128, -129, 1000, -1000,
	INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1,
	(INT64_C(1) << 53), (INT64_C(1) << 53) + 1, (INT64_C(1) << 53) - 1,
	-(INT64_C(1) << 53), -(INT64_C(1) << 53) - 1,
	(INT64_C(1) << 62), (INT64_C(1) << 62) + 1, INT64_C(1) << 54,
	(INT64_C(1) << 54) + 3, -(INT64_C(1) << 62) - 1,
};
#define N_SPECIAL_INTS (sizeof(special_ints) / sizeof(special_ints[0]))

static double special_real(uint64_t *s)
{
	static const double r[] = {
		0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, 1e20, -1e20, 1e-300,
		INFINITY, -INFINITY, DBL_MAX, -DBL_MAX, DBL_MIN, -DBL_MIN,
		4.9406564584124654e-324, -4.9406564584124654e-324,
		2.2250738585072009e-308, 9007199254740992.0,
		9007199254740994.0, 9223372036854775808.0,
		-9223372036854775808.0, 9223372036854774784.0,
		-9223372036854774784.0, 18446744073709551616.0, 0.1, 1e15,
		123456789012345.67, 3.0e-7,
	};

	return r[tu_rand_below(s, sizeof(r) / sizeof(r[0]))];
}

static int64_t rand_int(uint64_t *s)
{
	uint64_t u = tu_rand(s);

	switch (tu_rand_below(s, 4)) {
	case 0:
		return special_ints[tu_rand_below(s, N_SPECIAL_INTS)];
	case 1:
		return (int64_t)tu_rand_below(s, 41) - 20;
	case 2:   /* a random bit width, both signs */
		u >>= tu_rand_below(s, 64);
		return tu_rand_below(s, 2) ? (int64_t)u : -(int64_t)(u >> 1);
	default:
		return (int64_t)u;
	}
}

static double rand_real(uint64_t *s)
{
	uint64_t u;
	double r;

	switch (tu_rand_below(s, 5)) {
	case 0:
		return special_real(s);
	case 1:   /* an integer's neighbourhood */
		return (double)rand_int(s);
	case 2:
		return ((double)tu_rand_below(s, 4001) - 2000.0) / 8.0;
	case 3:
		return ldexp((double)(tu_rand(s) >> 11),
			     (int)tu_rand_below(s, 200) - 100) *
		       (tu_rand_below(s, 2) ? 1 : -1);
	default:
		do {
			u = tu_rand(s);
			memcpy(&r, &u, sizeof(r));
		} while (isnan(r));
		return r;
	}
}

/* Bytes from a small alphabet so that escapes and equal prefixes occur. */
static size_t rand_bytes(uint64_t *s, unsigned char *p, size_t cap)
{
	static const unsigned char alpha[] = { 0x00, 0x01, 0xfe, 0xff, 'a',
					       'b' };
	size_t n = tu_rand_below(s, cap + 1), i;

	for (i = 0; i < n; i++)
		p[i] = alpha[tu_rand_below(s, sizeof(alpha))];
	return n;
}

/* A random value of any class; text and blob bytes live in mem (cap
 * bytes, cap >= 1). */
static tbl_value rand_value(uint64_t *s, unsigned char *mem, size_t cap)
{
	tbl_value v = { 0 };

	switch (tu_rand_below(s, 6)) {
	case 0:
		v.cls = TBL_NULL;
		break;
	case 1:
	case 2:
		v.cls = TBL_INT;
		v.i = rand_int(s);
		break;
	case 3:
		v.cls = TBL_REAL;
		v.r = rand_real(s);
		break;
	default:
		v.cls = tu_rand_below(s, 2) ? TBL_TEXT : TBL_BLOB;
		v.n = rand_bytes(s, mem, cap);
		v.p = mem;
		break;
	}
	return v;
}

static int sign(int c)
{
	return (c > 0) - (c < 0);
}

/* memcmp order of two byte strings, the shorter first on a tie. */
static int key_cmp(const rdb_buf *a, const rdb_buf *b)
{
	size_t n = a->n < b->n ? a->n : b->n;
	int c = n ? memcmp(a->p, b->p, n) : 0;

	if (c != 0)
		return sign(c);
	return (a->n > b->n) - (a->n < b->n);
}

static void encode1(rdb_buf *b, const tbl_value *v, int desc)
{
	rdb_buf_reset(b);
	ck_assert_int_eq(tbl_key_append(b, v, desc), RDB_OK);
}

static void describe(const tbl_value *v, char *out, size_t cap)
{
	switch (v->cls) {
	case TBL_NULL: snprintf(out, cap, "NULL"); break;
	case TBL_INT: snprintf(out, cap, "%lld", (long long)v->i); break;
	case TBL_REAL: snprintf(out, cap, "%.17g", v->r); break;
	default: snprintf(out, cap, "%s(%zu bytes)",
			  v->cls == TBL_TEXT ? "text" : "blob", v->n);
	}
}

/* ---- value ------------------------------------------------------------------ */

static tbl_value ival(int64_t i)
{
	tbl_value v = { .cls = TBL_INT, .i = i };
	return v;
}

static tbl_value rval(double r)
{
	tbl_value v = { .cls = TBL_REAL, .r = r };
	return v;
}

static tbl_value tval(const char *s)
{
	tbl_value v = { .cls = TBL_TEXT, .p = s, .n = strlen(s) };
	return v;
}

static tbl_value bval(const void *p, size_t n)
{
	tbl_value v = { .cls = TBL_BLOB, .p = p, .n = n };
	return v;
}

static const tbl_value null_value = { .cls = TBL_NULL };

START_TEST(test_tblenc_cmp_mixed_numbers_compare_exactly)
{
	tbl_value a, b;

	a = ival(2), b = rval(2.0);
	ck_assert_int_eq(tbl_value_cmp(&a, &b), 0);
	a = ival(INT64_MAX), b = rval(9223372036854775808.0);
	ck_assert_int_lt(tbl_value_cmp(&a, &b), 0);
	ck_assert_int_gt(tbl_value_cmp(&b, &a), 0);
	a = ival(INT64_MIN), b = rval(-9223372036854775808.0);
	ck_assert_int_eq(tbl_value_cmp(&a, &b), 0);
	a = ival((INT64_C(1) << 53) + 1), b = rval(9007199254740992.0);
	ck_assert_int_gt(tbl_value_cmp(&a, &b), 0);
	ck_assert_int_lt(tbl_value_cmp(&b, &a), 0);
	a = ival(-3), b = rval(-2.5);
	ck_assert_int_lt(tbl_value_cmp(&a, &b), 0);
	a = ival(0), b = rval(-0.0);
	ck_assert_int_eq(tbl_value_cmp(&a, &b), 0);
	a = ival(INT64_MIN), b = rval(-INFINITY);
	ck_assert_int_gt(tbl_value_cmp(&a, &b), 0);
	a = rval(0.0), b = rval(-0.0);
	ck_assert_int_eq(tbl_value_cmp(&a, &b), 0);
}
END_TEST

START_TEST(test_tblenc_cmp_classes_order_null_number_text_blob)
{
	tbl_value v[5];
	int i, j;

	v[0] = null_value;
	v[1] = rval(-INFINITY);
	v[2] = rval(INFINITY);
	v[3] = tval("");
	v[4] = bval("", 0);
	for (i = 0; i < 5; i++)
		for (j = 0; j < 5; j++)
			ck_assert_int_eq(sign(tbl_value_cmp(&v[i], &v[j])),
					 (i > j) - (i < j));
}
END_TEST

START_TEST(test_tblenc_cmp_bytes_by_memcmp_then_length)
{
	tbl_value a = tval("ab"), b = tval("abc"), c = tval("b");
	tbl_value x = bval("\x00\xff", 2), y = bval("\x00", 1);

	ck_assert_int_lt(tbl_value_cmp(&a, &b), 0);
	ck_assert_int_lt(tbl_value_cmp(&b, &c), 0);
	ck_assert_int_gt(tbl_value_cmp(&x, &y), 0);
	ck_assert_int_eq(tbl_value_cmp(&x, &x), 0);
}
END_TEST

/* Random pairs: the relation is antisymmetric and agrees with a total
 * order on a sorted sample (transitivity over neighbours). */
START_TEST(test_tblenc_cmp_random_is_a_total_order)
{
	uint64_t seed = tu_seed(), s = seed;
	enum { N = 400 };
	static unsigned char mem[N][8];
	tbl_value v[N], t;
	long round, rounds = tu_scaled(20, 2);
	int i, j;

	tu_seed_note("cmp order", seed);
	for (round = 0; round < rounds; round++) {
		for (i = 0; i < N; i++)
			v[i] = rand_value(&s, mem[i], sizeof(mem[i]));
		for (i = 1; i < N; i++)   /* insertion sort by tbl_value_cmp */
			for (j = i; j > 0 &&
			     tbl_value_cmp(&v[j - 1], &v[j]) > 0; j--)
				t = v[j], v[j] = v[j - 1], v[j - 1] = t;
		for (i = 0; i < N; i++)
			for (j = i; j < N; j++) {
				ck_assert_int_le(tbl_value_cmp(&v[i], &v[j]), 0);
				ck_assert_int_eq(sign(tbl_value_cmp(&v[i], &v[j])),
						 -sign(tbl_value_cmp(&v[j], &v[i])));
			}
	}
}
END_TEST

static void bind_value_at(sqlite3_stmt *st, int i, const tbl_value *v);

/* Random pairs of non-NULL values compared by SQLite (bound parameters
 * have no affinity, so SQLite compares them as stored, with BINARY): the
 * same sign as tbl_value_cmp. */
START_TEST(test_tblenc_cmp_matches_sqlite)
{
	uint64_t seed = tu_seed(), s = seed;
	unsigned char ma[8], mb[8];
	long i, n = tu_scaled(100000, 1000);
	sqlite3_stmt *st;
	sqlite3 *db;
	char da[64], db_[64];

	tu_seed_note("cmp vs sqlite", seed);
	ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT (?1 > ?2) - (?1 < ?2)",
					    -1, &st, NULL), SQLITE_OK);
	for (i = 0; i < n; i++) {
		tbl_value a = rand_value(&s, ma, sizeof(ma));
		tbl_value b = rand_value(&s, mb, sizeof(mb));

		if (a.cls == TBL_NULL || b.cls == TBL_NULL)
			continue;
		if (tu_rand_below(&s, 2) && a.cls == TBL_INT) {
			b = rval((double)a.i);   /* near-equal mixed pairs */
			if (tu_rand_below(&s, 2))
				b.r = nextafter(b.r, tu_rand_below(&s, 2) ?
						INFINITY : -INFINITY);
		}
		bind_value_at(st, 1, &a);
		bind_value_at(st, 2, &b);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		describe(&a, da, sizeof(da));
		describe(&b, db_, sizeof(db_));
		ck_assert_msg(sqlite3_column_int(st, 0) ==
			      sign(tbl_value_cmp(&a, &b)), "%s vs %s: sqlite %d",
			      da, db_, sqlite3_column_int(st, 0));
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}
END_TEST

START_TEST(test_tblenc_type_names_parse_case_and_space_insensitive)
{
	static const struct { const char *decl; tbl_type t; uint32_t len; }
	ok[] = {
		{ "INTEGER", TBL_TY_INTEGER, 0 }, { "int", TBL_TY_INTEGER, 0 },
		{ " BigInt ", TBL_TY_INTEGER, 0 },
		{ "smallint", TBL_TY_INTEGER, 0 },
		{ "TINYINT", TBL_TY_INTEGER, 0 }, { "real", TBL_TY_REAL, 0 },
		{ "Float", TBL_TY_REAL, 0 }, { "DOUBLE", TBL_TY_REAL, 0 },
		{ "double \t precision", TBL_TY_REAL, 0 },
		{ "text", TBL_TY_TEXT, 0 }, { "VARCHAR(20)", TBL_TY_TEXT, 20 },
		{ "varchar ( 7 ) ", TBL_TY_TEXT, 7 },
		{ "char(1)", TBL_TY_TEXT, 1 }, { "CHARACTER(3)", TBL_TY_TEXT, 3 },
		{ "character varying(9)", TBL_TY_TEXT, 9 },
		{ "NVARCHAR(100)", TBL_TY_TEXT, 100 },
		{ "nchar(2)", TBL_TY_TEXT, 2 }, { "varchar", TBL_TY_TEXT, 0 },
		{ "blob", TBL_TY_BLOB, 0 }, { "BOOLEAN", TBL_TY_BOOLEAN, 0 },
		{ "bool", TBL_TY_BOOLEAN, 0 }, { "Any", TBL_TY_ANY, 0 },
		{ "VARCHAR(1000000000)", TBL_TY_TEXT, 1000000000u },
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		rdb_err err = { 0 };
		tbl_type t;
		uint32_t len = 99;

		ck_assert_msg(tbl_type_parse(ok[i].decl, &t, &len, &err) ==
			      RDB_OK, "%s: %s", ok[i].decl, err.msg);
		ck_assert_int_eq(t, ok[i].t);
		ck_assert_uint_eq(len, ok[i].len);
	}
}
END_TEST

START_TEST(test_tblenc_type_unknown_names_are_errors)
{
	static const char *bad[] = {
		"", "   ", "STRING", "INT(11)", "TEXT(5)", "VARCHAR(0)",
		"VARCHAR(", "VARCHAR(5", "VARCHAR(5) x", "VARCHAR(-1)",
		"VARCHAR(1000000001)", "VARCHAR(99999999999999999999999)",
		"DOUBLE DOUBLE", "PRECISION", "INTEGERS", "INT8", "DATE",
		"averyveryverylongtypenamethatgoesonandonandonandon",
		"a b c d e f g h i j k l m n o p q r s t u v w x y z",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rdb_err err = { 0 };
		tbl_type t = TBL_TY_TEXT;
		uint32_t len = 5;

		ck_assert_msg(tbl_type_parse(bad[i], &t, &len, &err) ==
			      RDB_ERROR, "'%s' accepted", bad[i]);
		ck_assert_int_eq(err.rc, RDB_ERROR);
		ck_assert_int_eq(t, 0);
		ck_assert_uint_eq(len, 0);
		ck_assert_ptr_ne(strstr(err.msg, "type"), NULL);
	}
	{
		rdb_err err = { 0 };
		tbl_type t;
		uint32_t len;

		(void)tbl_type_parse("STRING", &t, &len, &err);
		ck_assert_str_eq(err.msg, "unknown type name 'STRING'");
	}
}
END_TEST

START_TEST(test_tblenc_type_name_round_trips)
{
	tbl_type t, back;
	uint32_t len;

	for (t = TBL_TY_INTEGER; t <= TBL_TY_ANY; t++) {
		ck_assert_int_eq(tbl_type_parse(tbl_type_name(t), &back, &len,
						NULL), RDB_OK);
		ck_assert_int_eq(back, t);
	}
}
END_TEST

/* ---- key -------------------------------------------------------------------- */

/* Pairs of random values: memcmp of the encodings (either direction)
 * orders them as tbl_value_cmp does; neither encoding is a proper
 * prefix of the other. */
START_TEST(test_tblenc_key_order_matches_cmp)
{
	uint64_t seed = tu_seed(), s = seed;
	unsigned char ma[8], mb[8];
	rdb_buf ea = { 0 }, eb = { 0 };
	long i, n = tu_scaled(200000, 2000);
	char da[64], db[64];

	tu_seed_note("key order", seed);
	for (i = 0; i < n; i++) {
		tbl_value a = rand_value(&s, ma, sizeof(ma));
		tbl_value b = rand_value(&s, mb, sizeof(mb));
		int want = sign(tbl_value_cmp(&a, &b));
		int desc = (int)tu_rand_below(&s, 2);
		size_t m;

		encode1(&ea, &a, desc);
		encode1(&eb, &b, desc);
		describe(&a, da, sizeof(da));
		describe(&b, db, sizeof(db));
		ck_assert_msg(key_cmp(&ea, &eb) == (desc ? -want : want),
			      "%s vs %s (desc %d)", da, db, desc);
		m = ea.n < eb.n ? ea.n : eb.n;
		if (want != 0)
			ck_assert_msg(memcmp(ea.p, eb.p, m) != 0,
				      "prefix: %s vs %s", da, db);
		else
			ck_assert(ea.n == eb.n && memcmp(ea.p, eb.p, m) == 0);
	}
	rdb_buf_free(&ea);
	rdb_buf_free(&eb);
}
END_TEST

/* Decoding as ANY gives back a value equal to the original (numbers as
 * INT when integral and in range); by the declared type, the same class. */
START_TEST(test_tblenc_key_round_trip_single_values)
{
	uint64_t seed = tu_seed(), s = seed;
	unsigned char mem[16];
	rdb_buf e = { 0 }, scratch = { 0 };
	long i, n = tu_scaled(100000, 1000);
	char d[64];

	tu_seed_note("key round trip", seed);
	for (i = 0; i < n; i++) {
		tbl_value v = rand_value(&s, mem, sizeof(mem)), out;
		uint8_t desc = (uint8_t)tu_rand_below(&s, 2);
		tbl_type ty = TBL_TY_ANY;
		size_t used;

		if (tu_rand_below(&s, 2))
			ty = v.cls == TBL_INT ? TBL_TY_INTEGER :
			     v.cls == TBL_REAL ? TBL_TY_REAL :
			     v.cls == TBL_TEXT ? TBL_TY_TEXT :
			     v.cls == TBL_BLOB ? TBL_TY_BLOB : TBL_TY_ANY;
		encode1(&e, &v, desc);
		describe(&v, d, sizeof(d));
		ck_assert_msg(tbl_key_decode(e.p, e.n, 1, &ty, &desc, &out,
					     &scratch, &used) == RDB_OK, "%s", d);
		ck_assert_uint_eq(used, e.n);
		ck_assert_msg(tbl_value_cmp(&v, &out) == 0, "%s", d);
		if (ty != TBL_TY_ANY || v.cls == TBL_TEXT || v.cls == TBL_BLOB ||
		    v.cls == TBL_NULL)
			ck_assert_int_eq(out.cls, v.cls);
		else if (v.cls == TBL_REAL)
			ck_assert_int_eq(out.cls,
				v.r == floor(v.r) && v.r >= -9223372036854775808.0 &&
				v.r < 9223372036854775808.0 ? TBL_INT : TBL_REAL);
		if (out.cls == TBL_REAL)   /* bit-exact except -0.0 */
			ck_assert(out.r == v.r && (v.r != 0 || !signbit(out.r)));
	}
	rdb_buf_free(&e);
	rdb_buf_free(&scratch);
}
END_TEST

#define MAXC 5

typedef struct tuple {
	int n;
	tbl_value v[MAXC];
	unsigned char mem[MAXC][6];
} tuple;

static void rand_tuple(uint64_t *s, tuple *t, int n)
{
	int i;

	t->n = n;
	for (i = 0; i < n; i++)
		t->v[i] = rand_value(s, t->mem[i], sizeof(t->mem[i]));
}

static int tuple_cmp(const tuple *a, const tuple *b, const uint8_t *desc)
{
	int i, c;

	for (i = 0; i < a->n && i < b->n; i++) {
		c = sign(tbl_value_cmp(&a->v[i], &b->v[i]));
		if (c != 0)
			return desc[i] ? -c : c;
	}
	return (a->n > b->n) - (a->n < b->n);
}

static void tuple_encode(rdb_buf *b, const tuple *t, const uint8_t *desc)
{
	int i;

	rdb_buf_reset(b);
	for (i = 0; i < t->n; i++)
		ck_assert_int_eq(tbl_key_append(b, &t->v[i], desc[i]), RDB_OK);
}

/* Tuples of random length with random ASC/DESC columns: memcmp order is
 * the component-wise order (a prefix tuple first), and the tuple decodes
 * back component by component, consuming exactly its bytes. */
START_TEST(test_tblenc_key_tuples_order_and_round_trip)
{
	uint64_t seed = tu_seed(), s = seed;
	rdb_buf ea = { 0 }, eb = { 0 }, scratch = { 0 };
	long i, n = tu_scaled(50000, 500);
	tbl_type any[MAXC] = { TBL_TY_ANY, TBL_TY_ANY, TBL_TY_ANY, TBL_TY_ANY,
			       TBL_TY_ANY };
	tbl_value out[MAXC];
	uint8_t desc[MAXC];
	tuple a, b;
	int k;

	tu_seed_note("key tuples", seed);
	for (i = 0; i < n; i++) {
		size_t used;

		for (k = 0; k < MAXC; k++)
			desc[k] = (uint8_t)tu_rand_below(&s, 2);
		rand_tuple(&s, &a, 1 + (int)tu_rand_below(&s, MAXC));
		if (tu_rand_below(&s, 2)) {   /* share a prefix with a */
			b = a;
			for (k = 0; k < b.n; k++)
				b.v[k].p = b.mem[k];
			b.n = 1 + (int)tu_rand_below(&s, MAXC);
			k = (int)tu_rand_below(&s, (uint64_t)b.n);
			if (k > a.n)
				k = a.n;   /* a's values end there */
			for (; k < b.n; k++)
				b.v[k] = rand_value(&s, b.mem[k], sizeof(b.mem[k]));
		} else {
			rand_tuple(&s, &b, 1 + (int)tu_rand_below(&s, MAXC));
		}
		tuple_encode(&ea, &a, desc);
		tuple_encode(&eb, &b, desc);
		ck_assert_int_eq(key_cmp(&ea, &eb), tuple_cmp(&a, &b, desc));
		ck_assert_int_eq(tbl_key_decode(ea.p, ea.n, a.n, any, desc, out,
						&scratch, &used), RDB_OK);
		ck_assert_uint_eq(used, ea.n);
		for (k = 0; k < a.n; k++)
			ck_assert_int_eq(tbl_value_cmp(&out[k], &a.v[k]), 0);
		/* A prefix of the components decodes alone. */
		k = (int)tu_rand_below(&s, (uint64_t)a.n + 1);
		ck_assert_int_eq(tbl_key_decode(ea.p, ea.n, k, any, desc, out,
						&scratch, &used), RDB_OK);
		ck_assert_uint_le(used, ea.n);
	}
	rdb_buf_free(&ea);
	rdb_buf_free(&eb);
	rdb_buf_free(&scratch);
}
END_TEST

/* Range bounds: a key prefix followed by 0x00 sorts before, and followed
 * by 0xFF after, every key that extends the prefix with more components
 * (format.h: no tag is 0x00 or 0xFF in either direction). */
START_TEST(test_tblenc_key_prefix_bounds_enclose_extensions)
{
	uint64_t seed = tu_seed(), s = seed;
	rdb_buf full = { 0 }, lo = { 0 }, hi = { 0 };
	long i, n = tu_scaled(20000, 200);
	uint8_t desc[MAXC];
	tuple t;
	int k, j;

	tu_seed_note("key bounds", seed);
	for (i = 0; i < n; i++) {
		for (j = 0; j < MAXC; j++)
			desc[j] = (uint8_t)tu_rand_below(&s, 2);
		rand_tuple(&s, &t, 2 + (int)tu_rand_below(&s, MAXC - 1));
		tuple_encode(&full, &t, desc);
		k = (int)tu_rand_below(&s, (uint64_t)t.n);   /* 0..n-1 */
		rdb_buf_reset(&lo);
		for (j = 0; j < k; j++)
			ck_assert_int_eq(tbl_key_append(&lo, &t.v[j], desc[j]),
					 RDB_OK);
		rdb_buf_reset(&hi);
		ck_assert_int_eq(rdb_buf_append(&hi, lo.p, lo.n), RDB_OK);
		ck_assert_int_eq(rdb_buf_putc(&lo, 0x00), RDB_OK);
		ck_assert_int_eq(rdb_buf_putc(&hi, 0xff), RDB_OK);
		ck_assert_int_lt(key_cmp(&lo, &full), 0);
		ck_assert_int_gt(key_cmp(&hi, &full), 0);
	}
	rdb_buf_free(&full);
	rdb_buf_free(&lo);
	rdb_buf_free(&hi);
}
END_TEST

START_TEST(test_tblenc_key_equal_numbers_encode_equal)
{
	rdb_buf a = { 0 }, b = { 0 };
	tbl_value x, y;

	x = ival(2), y = rval(2.0);
	encode1(&a, &x, 0), encode1(&b, &y, 0);
	ck_assert(a.n == b.n && memcmp(a.p, b.p, a.n) == 0);
	x = ival(0), y = rval(-0.0);
	encode1(&a, &x, 1), encode1(&b, &y, 1);
	ck_assert(a.n == 1 && b.n == 1 && a.p[0] == b.p[0]);
	x = ival(INT64_MIN), y = rval(-9223372036854775808.0);
	encode1(&a, &x, 0), encode1(&b, &y, 0);
	ck_assert(a.n == b.n && memcmp(a.p, b.p, a.n) == 0);
	x = ival((INT64_C(1) << 53) + 1), y = rval(9007199254740992.0);
	encode1(&a, &x, 0), encode1(&b, &y, 0);
	ck_assert_int_gt(key_cmp(&a, &b), 0);
	rdb_buf_free(&a);
	rdb_buf_free(&b);
}
END_TEST

static int int_is_double(int64_t i)
{
	double d = (double)i;

	if (i == INT64_MIN)
		return 1;
	return d < 9223372036854775808.0 && (int64_t)d == i;
}

/* Declared types decode exactly: INTEGER back to the int64, REAL to the
 * double; a number that the declared type cannot hold is corrupt. */
START_TEST(test_tblenc_key_decode_by_declared_type)
{
	rdb_buf e = { 0 };
	tbl_type t;
	tbl_value v, out;
	size_t i;

	for (i = 0; i < N_SPECIAL_INTS; i++) {
		v = ival(special_ints[i]);
		encode1(&e, &v, 0);
		t = TBL_TY_INTEGER;
		ck_assert_int_eq(tbl_key_decode(e.p, e.n, 1, &t, NULL, &out,
						NULL, NULL), RDB_OK);
		ck_assert(out.cls == TBL_INT && out.i == v.i);
		t = TBL_TY_REAL;   /* exact as a double only up to 2^53 bits */
		ck_assert_int_eq(tbl_key_decode(e.p, e.n, 1, &t, NULL, &out,
						NULL, NULL),
				 int_is_double(v.i) ? RDB_OK : RDB_CORRUPT);
	}
	v = rval(0.5);
	encode1(&e, &v, 0);
	t = TBL_TY_INTEGER;
	ck_assert_int_eq(tbl_key_decode(e.p, e.n, 1, &t, NULL, &out, NULL,
					NULL), RDB_CORRUPT);
	v = rval(1e300);
	encode1(&e, &v, 0);
	ck_assert_int_eq(tbl_key_decode(e.p, e.n, 1, &t, NULL, &out, NULL,
					NULL), RDB_CORRUPT);
	t = TBL_TY_TEXT;
	ck_assert_int_eq(tbl_key_decode(e.p, e.n, 1, &t, NULL, &out, NULL,
					NULL), RDB_CORRUPT);
	v = ival(2);
	encode1(&e, &v, 0);
	t = TBL_TY_BOOLEAN;
	ck_assert_int_eq(tbl_key_decode(e.p, e.n, 1, &t, NULL, &out, NULL,
					NULL), RDB_CORRUPT);
	v = tval("x");
	encode1(&e, &v, 0);
	t = TBL_TY_BLOB;
	ck_assert_int_eq(tbl_key_decode(e.p, e.n, 1, &t, NULL, &out, NULL,
					NULL), RDB_CORRUPT);
	v = rval(0.0);
	encode1(&e, &v, 0);
	t = TBL_TY_REAL;
	ck_assert_int_eq(tbl_key_decode(e.p, e.n, 1, &t, NULL, &out, NULL,
					NULL), RDB_OK);
	ck_assert(out.cls == TBL_REAL && out.r == 0 && !signbit(out.r));
	rdb_buf_free(&e);
}
END_TEST

/* Text with embedded NULs and 0xFF bytes and DESC text are copied to
 * scratch; plain ascending text points into the key. */
START_TEST(test_tblenc_key_text_escapes_and_scratch)
{
	rdb_buf e = { 0 }, scratch = { 0 };
	static const unsigned char raw[] = { 'a', 0x00, 0xff, 0x00, 0x00, 'z' };
	tbl_value v[3], out[3];
	tbl_type ty[3] = { TBL_TY_TEXT, TBL_TY_BLOB, TBL_TY_TEXT };
	uint8_t desc[3] = { 0, 1, 0 };
	int k;

	v[0] = tval("plain");
	v[1] = bval(raw, sizeof(raw));
	v[2] = bval(raw, sizeof(raw));
	v[2].cls = TBL_TEXT;
	for (k = 0; k < 3; k++)
		ck_assert_int_eq(tbl_key_append(&e, &v[k], desc[k]), RDB_OK);
	ck_assert_int_eq(tbl_key_decode(e.p, e.n, 3, ty, desc, out, &scratch,
					NULL), RDB_OK);
	ck_assert(out[0].p >= (const void *)e.p &&
		  out[0].p < (const void *)(e.p + e.n));
	for (k = 0; k < 3; k++) {
		ck_assert_int_eq(out[k].cls, v[k].cls);
		ck_assert_uint_eq(out[k].n, v[k].n);
		ck_assert(memcmp(out[k].p, v[k].p, v[k].n) == 0);
	}
	ck_assert(out[1].p >= (const void *)scratch.p &&
		  out[1].p < (const void *)(scratch.p + scratch.n));
	/* Without scratch, a value that needs a copy is refused. */
	ck_assert_int_eq(tbl_key_decode(e.p, e.n, 3, ty, desc, out, NULL,
					NULL), RDB_MISUSE);
	rdb_buf_free(&e);
	rdb_buf_free(&scratch);
}
END_TEST

/* Every proper prefix of a valid key is corrupt (components are
 * self-delimiting); random bytes decode or are corrupt, never crash, and
 * whatever decodes re-encodes to exactly the bytes consumed. */
START_TEST(test_tblenc_key_truncated_and_garbage_never_crash)
{
	uint64_t seed = tu_seed(), s = seed;
	rdb_buf e = { 0 }, again = { 0 }, scratch = { 0 };
	tbl_type any[MAXC] = { TBL_TY_ANY, TBL_TY_ANY, TBL_TY_ANY, TBL_TY_ANY,
			       TBL_TY_ANY };
	tbl_value out[MAXC];
	uint8_t desc[MAXC];
	long i, n = tu_scaled(20000, 200);
	size_t cut, used;
	unsigned char *copy;
	tuple t;
	int k;

	tu_seed_note("key garbage", seed);
	for (i = 0; i < n; i++) {
		for (k = 0; k < MAXC; k++)
			desc[k] = (uint8_t)tu_rand_below(&s, 2);
		rand_tuple(&s, &t, 1 + (int)tu_rand_below(&s, MAXC));
		tuple_encode(&e, &t, desc);
		cut = tu_rand_below(&s, e.n);
		copy = malloc(cut + 1);   /* exact size: ASan sees overreads */
		memcpy(copy, e.p, cut);
		ck_assert_int_eq(tbl_key_decode(copy, cut, t.n, any, desc, out,
						&scratch, NULL), RDB_CORRUPT);
		for (k = 0; k < t.n; k++)   /* failure leaves NULLs */
			ck_assert(out[k].cls == TBL_NULL && out[k].p == NULL);
		free(copy);

		/* garbage: random bytes, or the key with bytes flipped */
		cut = tu_rand_below(&s, 24);
		copy = malloc(cut + 1);
		for (used = 0; used < cut; used++)
			copy[used] = tu_rand_below(&s, 2) && used < e.n ?
				     e.p[used] ^ (unsigned char)tu_rand(&s) :
				     (unsigned char)tu_rand(&s);
		k = 1 + (int)tu_rand_below(&s, MAXC);
		if (tbl_key_decode(copy, cut, k, any, desc, out, &scratch,
				   &used) == RDB_OK) {
			int j;

			rdb_buf_reset(&again);
			for (j = 0; j < k; j++)
				ck_assert_int_eq(tbl_key_append(&again, &out[j],
								desc[j]), RDB_OK);
			ck_assert_uint_eq(again.n, used);
			ck_assert(memcmp(again.p, copy, used) == 0);
		}
		free(copy);
	}
	rdb_buf_free(&e);
	rdb_buf_free(&again);
	rdb_buf_free(&scratch);
}
END_TEST

/* A failed allocation leaves the buffer as it was and returns
 * RDB_NOMEM; the same call then succeeds. */
START_TEST(test_tblenc_key_append_nomem_changes_nothing)
{
	unsigned char big[300];
	rdb_buf b = { 0 }, scratch = { 0 };
	tbl_value v, out;
	tbl_type ty = TBL_TY_BLOB;
	uint8_t desc = 1;
	long fail;
	rdb_rc rc;

	memset(big, 0, sizeof(big));
	v = bval(big, sizeof(big));
	for (fail = 1; fail < 10; fail++) {
		rdb_buf_free(&b);
		rdb_mem_fail_at(fail, 0);
		rc = tbl_key_append(&b, &v, 1);
		rdb_mem_fail_at(0, 0);
		if (rc == RDB_OK)
			break;
		ck_assert_int_eq(rc, RDB_NOMEM);
		ck_assert_uint_eq(b.n, 0);
	}
	ck_assert_int_eq(rc, RDB_OK);
	for (fail = 1; fail < 10; fail++) {
		rdb_buf_free(&scratch);
		rdb_mem_fail_at(fail, 0);
		rc = tbl_key_decode(b.p, b.n, 1, &ty, &desc, &out, &scratch, NULL);
		rdb_mem_fail_at(0, 0);
		if (rc == RDB_OK)
			break;
		ck_assert_int_eq(rc, RDB_NOMEM);
	}
	ck_assert_int_eq(rc, RDB_OK);
	ck_assert(out.n == sizeof(big) && memcmp(out.p, big, sizeof(big)) == 0);
	rdb_buf_free(&b);
	rdb_buf_free(&scratch);
}
END_TEST

/* Known bytes, so the format in docs/format.md cannot drift. */
START_TEST(test_tblenc_key_bytes_match_the_documented_format)
{
	rdb_buf e = { 0 };
	tbl_value v;
	static const unsigned char one[] = { FMT_KEY_POS_INT };
	/* -5: w = 8, the first of class 2 (tag + 1 byte), inverted */
	static const unsigned char m5[] = { 0xff ^ (FMT_KEY_POS_INT + 8), 0xff };
	/* -1.5 = -2 + 0.5: w = 2 * 2 - 1 (odd: a fraction follows) */
	static const unsigned char m15[] = { 0xff ^ (FMT_KEY_POS_INT + 1),
					     0x80 };
	static const unsigned char half[] = { FMT_KEY_POS_TINY, 0x04, 0x32,
					      0x00 };
	static const unsigned char mill[] = { 0xd0, 0x5c, 0x76 };
	static const unsigned char t[] = { FMT_KEY_TEXT, 'a', 0x00, 0xff,
					   0x00, 0x01 };

	v = ival(1);
	encode1(&e, &v, 0);
	ck_assert(e.n == sizeof(one) && memcmp(e.p, one, e.n) == 0);
	v = rval(-5.0);
	encode1(&e, &v, 0);
	ck_assert(e.n == sizeof(m5) && memcmp(e.p, m5, e.n) == 0);
	v = rval(-1.5);   /* -2 + 0.5 */
	encode1(&e, &v, 0);
	ck_assert(e.n == sizeof(m15) && memcmp(e.p, m15, e.n) == 0);
	v = rval(0.5);    /* 1.0b * 2^-1: exponent 1074 */
	encode1(&e, &v, 0);
	ck_assert(e.n == sizeof(half) && memcmp(e.p, half, e.n) == 0);
	v = ival(1000000);   /* w = 1,999,998 = 10,248 + 30 * 65,536 + 0x5c76 */
	encode1(&e, &v, 0);
	ck_assert(e.n == sizeof(mill) && memcmp(e.p, mill, e.n) == 0);
	v = ival((INT64_C(1) << 53) + 1);   /* tag + 7 bytes */
	encode1(&e, &v, 0);
	ck_assert_uint_eq(e.n, 8);
	ck_assert_uint_eq(e.p[0], FMT_KEY_POS_INT + 120);
	v = bval("a", 2);
	v.cls = TBL_TEXT;
	encode1(&e, &v, 0);
	ck_assert(e.n == sizeof(t) && memcmp(e.p, t, e.n) == 0);
	v = null_value;
	encode1(&e, &v, 1);
	ck_assert(e.n == 1 && e.p[0] == (FMT_KEY_NULL ^ 0xff));
	rdb_buf_free(&e);
}
END_TEST

/* ---- row -------------------------------------------------------------------- */

#define MAXCOLS 10

typedef struct schema {
	tbl_table tb;
	tbl_column cols[MAXCOLS];
	uint16_t pk[MAXCOLS];
	unsigned char dmem[MAXCOLS][8];   /* default values' bytes */
} schema;

/* A random table: 1..MAXCOLS columns of random types, a primary key on a
 * random subset in random order (or none: a rowid table). */
static void rand_schema(uint64_t *s, schema *sc)
{
	int c, n = 1 + (int)tu_rand_below(s, MAXCOLS), npk;

	memset(sc, 0, sizeof(*sc));
	sc->tb.name = "t";
	sc->tb.ncols = (uint16_t)n;
	sc->tb.cols = sc->cols;
	sc->tb.pk = sc->pk;
	for (c = 0; c < n; c++) {
		sc->cols[c].name = "c";
		sc->cols[c].type = (tbl_type)(TBL_TY_INTEGER +
					      (int)tu_rand_below(s, 6));
	}
	npk = tu_rand_below(s, 3) == 0 ? 0 : 1 + (int)tu_rand_below(s, n);
	while (sc->tb.npk < npk) {
		c = (int)tu_rand_below(s, (uint64_t)n);
		if (sc->cols[c].pk)
			continue;
		sc->pk[sc->tb.npk++] = (uint16_t)c;
		sc->cols[c].pk = sc->tb.npk;
	}
}

/* A random value that a column of type ty holds (NULL sometimes). */
static tbl_value rand_typed(uint64_t *s, tbl_type ty, unsigned char *mem,
			    size_t cap)
{
	tbl_value v;

	if (tu_rand_below(s, 5) == 0)
		return null_value;
	do
		v = rand_value(s, mem, cap);
	while (v.cls == TBL_NULL);
	switch (ty) {
	case TBL_TY_INTEGER: v = ival(rand_int(s)); break;
	case TBL_TY_BOOLEAN: v = ival((int64_t)tu_rand_below(s, 2)); break;
	case TBL_TY_REAL: v = rval(rand_real(s)); break;
	case TBL_TY_TEXT: v.cls = TBL_TEXT; v.n = rand_bytes(s, mem, cap);
		v.p = mem; break;
	case TBL_TY_BLOB: v.cls = TBL_BLOB; v.n = rand_bytes(s, mem, cap);
		v.p = mem; break;
	case TBL_TY_ANY: break;
	}
	return v;
}

static void assert_same(const tbl_value *a, const tbl_value *b)
{
	ck_assert_int_eq(a->cls, b->cls);
	ck_assert_int_eq(tbl_value_cmp(a, b), 0);
	if (a->cls == TBL_REAL)
		ck_assert(memcmp(&a->r, &b->r, sizeof(a->r)) == 0);
}

static const tbl_value sentinel = { .cls = TBL_INT, .i = 0x5eed };

/* Random schemas and rows: the non-key columns decode to the values
 * encoded (reals bit for bit, text and blobs pointing into the record);
 * key columns and the rowid slot are left alone; every proper prefix and
 * any extra byte is corrupt. */
START_TEST(test_tblenc_row_round_trip_random_schemas)
{
	uint64_t seed = tu_seed(), s = seed;
	static unsigned char mem[MAXCOLS + 1][12];
	tbl_value row[MAXCOLS + 1], back[MAXCOLS + 1];
	rdb_buf e = { 0 };
	long i, n = tu_scaled(20000, 200);
	schema sc;
	size_t cut;
	int c;

	tu_seed_note("row round trip", seed);
	for (i = 0; i < n; i++) {
		rand_schema(&s, &sc);
		for (c = 0; c < tbl_nvals(&sc.tb); c++) {
			row[c] = c < sc.tb.ncols ?
				 rand_typed(&s, sc.cols[c].type, mem[c],
					    sizeof(mem[c])) : ival(rand_int(&s));
			back[c] = sentinel;
		}
		rdb_buf_reset(&e);
		ck_assert_int_eq(tbl_row_encode(&sc.tb, row, &e), RDB_OK);
		ck_assert_int_eq(tbl_row_decode(&sc.tb, e.p, e.n, back), RDB_OK);
		for (c = 0; c < tbl_nvals(&sc.tb); c++) {
			if (c == sc.tb.ncols || sc.cols[c].pk) {
				assert_same(&back[c], &sentinel);
				continue;
			}
			assert_same(&back[c], &row[c]);
			if (row[c].cls == TBL_TEXT || row[c].cls == TBL_BLOB)
				ck_assert(back[c].p >= (const void *)e.p &&
					  (const unsigned char *)back[c].p +
					  back[c].n <= e.p + e.n);
		}
		cut = tu_rand_below(&s, e.n);
		ck_assert_int_eq(tbl_row_decode(&sc.tb, e.p, cut, back),
				 RDB_CORRUPT);
		ck_assert_int_eq(rdb_buf_putc(&e, 0), RDB_OK);
		ck_assert_int_eq(tbl_row_decode(&sc.tb, e.p, e.n, back),
				 RDB_CORRUPT);
	}
	rdb_buf_free(&e);
}
END_TEST

/* A record written before columns were added reads the new columns as
 * their defaults, or NULL without one. */
START_TEST(test_tblenc_row_fewer_stored_columns_read_defaults)
{
	tbl_column cols[4] = {
		{ .name = "a", .type = TBL_TY_INTEGER },
		{ .name = "b", .type = TBL_TY_TEXT },
		{ .name = "c", .type = TBL_TY_REAL, .has_dflt = 1,
		  .dflt = { .cls = TBL_REAL, .r = 2.5 } },
		{ .name = "d", .type = TBL_TY_BLOB },
	};
	tbl_table old = { .name = "t", .ncols = 2, .cols = cols };
	tbl_table now = { .name = "t", .ncols = 4, .cols = cols };
	tbl_value row[5], back[5];
	rdb_buf e = { 0 };
	int c;

	row[0] = ival(-7);
	row[1] = tval("hello");
	row[2] = ival(1);   /* the rowid */
	ck_assert_int_eq(tbl_row_encode(&old, row, &e), RDB_OK);
	for (c = 0; c < 5; c++)
		back[c] = sentinel;
	ck_assert_int_eq(tbl_row_decode(&now, e.p, e.n, back), RDB_OK);
	assert_same(&back[0], &row[0]);
	assert_same(&back[1], &row[1]);
	assert_same(&back[2], &cols[2].dflt);
	ck_assert_int_eq(back[3].cls, TBL_NULL);
	assert_same(&back[4], &sentinel);
	/* The other way round (more stored than the table has) is corrupt. */
	rdb_buf_reset(&e);
	row[2] = null_value;
	row[3] = bval("x", 1);
	row[4] = ival(1);
	ck_assert_int_eq(tbl_row_encode(&now, row, &e), RDB_OK);
	ck_assert_int_eq(tbl_row_decode(&old, e.p, e.n, back), RDB_CORRUPT);
	rdb_buf_free(&e);
}
END_TEST

/* Known bytes for one row, so docs/format.md cannot drift. */
START_TEST(test_tblenc_row_bytes_match_the_documented_format)
{
	tbl_column cols[6] = {
		{ .name = "k", .type = TBL_TY_TEXT, .pk = 1 },
		{ .name = "i", .type = TBL_TY_INTEGER },
		{ .name = "n", .type = TBL_TY_REAL },
		{ .name = "r", .type = TBL_TY_REAL },
		{ .name = "a", .type = TBL_TY_ANY },
		{ .name = "b", .type = TBL_TY_BOOLEAN },
	};
	uint16_t pk[1] = { 0 };
	tbl_table tb = { .name = "t", .ncols = 6, .cols = cols, .npk = 1,
			 .pk = pk };
	tbl_value row[6];
	static const unsigned char want[] = {
		0x0b,                   /* five stored columns, some NULL */
		0x02,                   /* bitmap: column n is NULL */
		0x05,                   /* i = -3, zigzag 5 */
		0, 0, 0, 0, 0, 0, 0xf0, 0x3f,   /* r = 1.0 */
		FMT_ROW_TEXT, 0x02, 'h', 'i',   /* a = 'hi' */
		0x02,                   /* b = 1, zigzag 2 */
	};
	rdb_buf e = { 0 };

	row[0] = tval("key");
	row[1] = ival(-3);
	row[2] = null_value;
	row[3] = rval(1.0);
	row[4] = tval("hi");
	row[5] = ival(1);
	ck_assert_int_eq(tbl_row_encode(&tb, row, &e), RDB_OK);
	ck_assert_uint_eq(e.n, sizeof(want));
	ck_assert(memcmp(e.p, want, sizeof(want)) == 0);
	rdb_buf_free(&e);
}
END_TEST

/* A value the column's type cannot hold is refused before anything is
 * written. */
START_TEST(test_tblenc_row_encode_wrong_class_is_mismatch)
{
	tbl_column cols[2] = {
		{ .name = "a", .type = TBL_TY_INTEGER },
		{ .name = "b", .type = TBL_TY_BOOLEAN },
	};
	tbl_table tb = { .name = "t", .ncols = 2, .cols = cols };
	tbl_value row[3] = { { .cls = TBL_INT }, { .cls = TBL_INT, .i = 1 },
			     { .cls = TBL_INT, .i = 9 } };
	rdb_buf e = { 0 };

	ck_assert_int_eq(rdb_buf_append(&e, "xy", 2), RDB_OK);
	row[0] = tval("1");
	ck_assert_int_eq(tbl_row_encode(&tb, row, &e), RDB_MISMATCH);
	ck_assert_uint_eq(e.n, 2);
	row[0] = ival(1);
	row[1] = ival(2);
	ck_assert_int_eq(tbl_row_encode(&tb, row, &e), RDB_MISMATCH);
	row[1] = rval(1.0);
	ck_assert_int_eq(tbl_row_encode(&tb, row, &e), RDB_MISMATCH);
	ck_assert_uint_eq(e.n, 2);
	rdb_buf_free(&e);
}
END_TEST

/* Random bytes never crash the decoder; what decodes fits the types and
 * points inside the record. */
START_TEST(test_tblenc_row_garbage_never_crashes)
{
	uint64_t seed = tu_seed(), s = seed;
	static unsigned char mem[MAXCOLS + 1][12];
	tbl_value row[MAXCOLS + 1], back[MAXCOLS + 1];
	rdb_buf e = { 0 };
	long i, n = tu_scaled(20000, 200), n_ok = 0;
	unsigned char *copy;
	size_t len, j;
	schema sc;
	int c;

	tu_seed_note("row garbage", seed);
	for (i = 0; i < n; i++) {
		rand_schema(&s, &sc);
		for (c = 0; c < tbl_nvals(&sc.tb); c++)
			row[c] = c < sc.tb.ncols ?
				 rand_typed(&s, sc.cols[c].type, mem[c],
					    sizeof(mem[c])) : ival(1);
		rdb_buf_reset(&e);
		ck_assert_int_eq(tbl_row_encode(&sc.tb, row, &e), RDB_OK);
		len = e.n;
		copy = malloc(len + 1);
		memcpy(copy, e.p, len);
		for (j = tu_rand_below(&s, 4); j > 0; j--)
			copy[tu_rand_below(&s, len)] ^=
				(unsigned char)(1 + tu_rand_below(&s, 255));
		if (tbl_row_decode(&sc.tb, copy, len, back) != RDB_OK) {
			free(copy);
			continue;
		}
		n_ok++;
		for (c = 0; c < sc.tb.ncols; c++) {
			if (sc.cols[c].pk)
				continue;
			if (back[c].cls == TBL_TEXT || back[c].cls == TBL_BLOB)
				ck_assert(back[c].p >= (const void *)copy &&
					  (const unsigned char *)back[c].p +
					  back[c].n <= copy + len);
			if (back[c].cls != TBL_NULL) {
				rdb_buf one = { 0 };
				tbl_table t1 = sc.tb;
				tbl_column c1 = sc.cols[c];

				c1.pk = 0;
				t1.ncols = 1;
				t1.npk = 0;
				t1.cols = &c1;
				ck_assert_int_eq(tbl_row_encode(&t1, &back[c],
								&one), RDB_OK);
				rdb_buf_free(&one);
			}
		}
		free(copy);
	}
	ck_assert_int_gt(n_ok, 0);
	rdb_buf_free(&e);
}
END_TEST

/* Each failed allocation: RDB_NOMEM and the buffer as it was. */
START_TEST(test_tblenc_row_encode_nomem_changes_nothing)
{
	static unsigned char big[1000];
	tbl_column cols[3] = {
		{ .name = "a", .type = TBL_TY_INTEGER },
		{ .name = "b", .type = TBL_TY_BLOB },
		{ .name = "c", .type = TBL_TY_TEXT },
	};
	tbl_table tb = { .name = "t", .ncols = 3, .cols = cols };
	tbl_value row[4], back[4];
	rdb_buf e = { 0 };
	long fail;
	rdb_rc rc = RDB_NOMEM;

	row[0] = ival(5);
	row[1] = bval(big, sizeof(big));
	row[2] = bval(big, 300);
	row[2].cls = TBL_TEXT;
	row[3] = ival(1);
	for (fail = 1; fail < 20 && rc != RDB_OK; fail++) {
		rdb_buf_free(&e);
		ck_assert_int_eq(rdb_buf_append(&e, "ab", 2), RDB_OK);
		rdb_mem_fail_at(fail, 0);
		rc = tbl_row_encode(&tb, row, &e);
		rdb_mem_fail_at(0, 0);
		if (rc != RDB_OK) {
			ck_assert_int_eq(rc, RDB_NOMEM);
			ck_assert_uint_eq(e.n, 2);
		}
	}
	ck_assert_int_eq(rc, RDB_OK);
	ck_assert_int_gt(fail, 2);   /* at least one failure was injected */
	ck_assert_int_eq(tbl_row_decode(&tb, e.p + 2, e.n - 2, back), RDB_OK);
	assert_same(&back[1], &row[1]);
	rdb_buf_free(&e);
}
END_TEST

/* Varints: canonical LEB128 only. */
START_TEST(test_tblenc_row_varints_refuse_padding_and_overflow)
{
	tbl_column col = { .name = "a", .type = TBL_TY_INTEGER };
	tbl_table tb = { .name = "t", .ncols = 1, .cols = &col };
	tbl_value back[2];
	/* header 0x02: one stored column, no NULL (no bitmap) */
	static const unsigned char padded[] = { 0x02, 0x82, 0x00 };
	static const unsigned char longer[] = { 0x02, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 };
	static const unsigned char max[] = { 0x02, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
	static const unsigned char bits[] = { 0x03, 0x02, 0x05 };
	static const unsigned char no_null[] = { 0x03, 0x00, 0x05 };
	static const unsigned char padded_hdr[] = { 0x82, 0x00, 0x05 };
	static const unsigned char null[] = { 0x03, 0x01 };

	ck_assert_int_eq(tbl_row_decode(&tb, padded, sizeof(padded), back),
			 RDB_CORRUPT);
	ck_assert_int_eq(tbl_row_decode(&tb, longer, sizeof(longer), back),
			 RDB_CORRUPT);
	ck_assert_int_eq(tbl_row_decode(&tb, max, sizeof(max), back), RDB_OK);
	ck_assert(back[0].cls == TBL_INT && back[0].i == INT64_MIN);
	ck_assert_int_eq(tbl_row_decode(&tb, bits, sizeof(bits), back),
			 RDB_CORRUPT);   /* a bitmap bit past the last column */
	ck_assert_int_eq(tbl_row_decode(&tb, no_null, sizeof(no_null), back),
			 RDB_CORRUPT);   /* a bitmap that marks no NULL */
	ck_assert_int_eq(tbl_row_decode(&tb, padded_hdr, sizeof(padded_hdr),
					back), RDB_CORRUPT);
	ck_assert_int_eq(tbl_row_decode(&tb, null, sizeof(null), back),
			 RDB_OK);
	ck_assert(back[0].cls == TBL_NULL);
}
END_TEST

/* ---- apply ------------------------------------------------------------------ */

/* The columns of the differential test, as rdb and SQLite declare them. */
enum { DI, DR, DT, DB, DA, N_DCOLS };
static const char *const dcol_sql[N_DCOLS] = { "i", "r", "x", "b", "a" };
static tbl_column dcols[N_DCOLS] = {
	{ .name = "i", .type = TBL_TY_INTEGER },
	{ .name = "r", .type = TBL_TY_REAL },
	{ .name = "x", .type = TBL_TY_TEXT },
	{ .name = "b", .type = TBL_TY_BLOB },
	{ .name = "a", .type = TBL_TY_ANY },
};
static const tbl_table dtable = { .name = "t", .ncols = N_DCOLS,
				  .cols = dcols };

/* Text that is, or almost is, a number: white space, sign, digits with
 * leading zeros, point, exponent, junk; or a number printed by printf. */
static size_t rand_numeric_text(uint64_t *s, char *out, size_t cap)
{
	static const char *const ws[] = { "", "", "", " ", "  ", "\t", "\n",
					   "\r\n", "\v\f" };
	static const char *const junk[] = { "x", "0x10", "inf", "nan", "1_0",
					    "e", ".", "-", "1 2", "\x01" };
	size_t k = 0;
	int i, n;

	switch (tu_rand_below(s, 4)) {
	case 0:
		return (size_t)snprintf(out, cap, "%lld", (long long)rand_int(s));
	case 1:
		return (size_t)snprintf(out, cap, tu_rand_below(s, 2) ?
					"%.17g" : "%.15g", rand_real(s));
	case 2:
		if (tu_rand_below(s, 3) == 0)
			return (size_t)snprintf(out, cap, "%s%s%s",
				ws[tu_rand_below(s, 9)],
				junk[tu_rand_below(s, 10)],
				ws[tu_rand_below(s, 9)]);
		break;
	default:
		break;
	}
	k += (size_t)snprintf(out + k, cap - k, "%s%s", ws[tu_rand_below(s, 9)],
			      (const char *[]){ "", "", "+", "-" }
			      [tu_rand_below(s, 4)]);
	n = (int)tu_rand_below(s, 21);
	for (i = 0; i < n && k + 40 < cap; i++)
		out[k++] = (char)('0' + (i == 0 && tu_rand_below(s, 3) == 0 ?
					 0 : tu_rand_below(s, 10)));
	if (tu_rand_below(s, 2)) {
		out[k++] = '.';
		n = (int)tu_rand_below(s, 8);
		for (i = 0; i < n; i++)
			out[k++] = (char)('0' + tu_rand_below(s, 10));
	}
	if (tu_rand_below(s, 3) == 0)
		k += (size_t)snprintf(out + k, cap - k, "%c%s%d",
				      tu_rand_below(s, 2) ? 'e' : 'E',
				      (const char *[]){ "", "+", "-" }
				      [tu_rand_below(s, 3)],
				      (int)tu_rand_below(s, 400));
	k += (size_t)snprintf(out + k, cap - k, "%s", ws[tu_rand_below(s, 9)]);
	return k;
}

/* A value for the differential test. */
static tbl_value rand_diff_value(uint64_t *s, char *mem, size_t cap)
{
	tbl_value v = rand_value(s, (unsigned char *)mem, cap);

	if (v.cls == TBL_TEXT && tu_rand_below(s, 4) != 0) {
		v.n = rand_numeric_text(s, mem, cap);
		v.p = mem;
	}
	return v;
}

static void bind_value_at(sqlite3_stmt *st, int i, const tbl_value *v)
{
	int rc = SQLITE_OK;

	switch (v->cls) {
	case TBL_NULL: rc = sqlite3_bind_null(st, i); break;
	case TBL_INT: rc = sqlite3_bind_int64(st, i, v->i); break;
	case TBL_REAL: rc = sqlite3_bind_double(st, i, v->r); break;
	case TBL_TEXT: rc = sqlite3_bind_text(st, i, v->n ? v->p : "",
					      (int)v->n, SQLITE_TRANSIENT);
		break;
	case TBL_BLOB: rc = sqlite3_bind_blob(st, i, v->n ? v->p : "",
					      (int)v->n, SQLITE_TRANSIENT);
		break;
	}
	ck_assert_int_eq(rc, SQLITE_OK);
}

static void bind_value(sqlite3_stmt *st, const tbl_value *v)
{
	bind_value_at(st, 1, v);
}

/* What SQLite stored: column 0 of a row of st, as a tbl_value whose bytes
 * are copied to mem. */
static tbl_value sqlite_value(sqlite3_stmt *st, char *mem, size_t cap)
{
	tbl_value v = { 0 };

	switch (sqlite3_column_type(st, 0)) {
	case SQLITE_INTEGER:
		v = ival(sqlite3_column_int64(st, 0));
		break;
	case SQLITE_FLOAT:
		v = rval(sqlite3_column_double(st, 0));
		break;
	case SQLITE_TEXT:
	case SQLITE_BLOB:
		v.cls = sqlite3_column_type(st, 0) == SQLITE_TEXT ? TBL_TEXT :
			TBL_BLOB;
		v.n = (size_t)sqlite3_column_bytes(st, 0);
		ck_assert_uint_le(v.n, cap);
		if (v.n)
			memcpy(mem, sqlite3_column_blob(st, 0), v.n);
		v.p = mem;
		break;
	default:
		v.cls = TBL_NULL;
	}
	return v;
}

/* Like describe(), with text shown (control bytes as \xNN). */
static void describe_full(const tbl_value *v, char *out, size_t cap)
{
	const unsigned char *p = v->p;
	size_t i, k;

	if (v->cls != TBL_TEXT) {
		describe(v, out, cap);
		return;
	}
	k = (size_t)snprintf(out, cap, "text '");
	for (i = 0; i < v->n && k + 8 < cap; i++)
		k += (size_t)snprintf(out + k, cap - k,
				      p[i] < 0x20 ? "\\x%02x" : "%c", p[i]);
	snprintf(out + k, cap - k, "'");
}

typedef struct sqlite_t {
	sqlite3 *db;
	sqlite3_stmt *ins[N_DCOLS], *sel[N_DCOLS], *del;
} sqlite_t;

static void sqlite_open(sqlite_t *q)
{
	char sql[128];
	int c;

	ck_assert_int_eq(sqlite3_open(":memory:", &q->db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(q->db, "CREATE TABLE t(i INTEGER, "
				      "r REAL, x TEXT, b BLOB, a ANY) STRICT",
				      NULL, NULL, NULL), SQLITE_OK);
	for (c = 0; c < N_DCOLS; c++) {
		snprintf(sql, sizeof(sql), "INSERT INTO t(%s) VALUES(?)",
			 dcol_sql[c]);
		ck_assert_int_eq(sqlite3_prepare_v2(q->db, sql, -1, &q->ins[c],
						    NULL), SQLITE_OK);
		snprintf(sql, sizeof(sql), "SELECT %s FROM t", dcol_sql[c]);
		ck_assert_int_eq(sqlite3_prepare_v2(q->db, sql, -1, &q->sel[c],
						    NULL), SQLITE_OK);
	}
	ck_assert_int_eq(sqlite3_prepare_v2(q->db, "DELETE FROM t", -1,
					    &q->del, NULL), SQLITE_OK);
}

static void sqlite_close(sqlite_t *q)
{
	int c;

	for (c = 0; c < N_DCOLS; c++) {
		sqlite3_finalize(q->ins[c]);
		sqlite3_finalize(q->sel[c]);
	}
	sqlite3_finalize(q->del);
	sqlite3_close(q->db);
}

/* Insert v into column c of SQLite's STRICT table: 1 and *out = the value
 * stored, or 0 if SQLite refused it (a constraint error). */
static int sqlite_store(sqlite_t *q, int c, const tbl_value *v,
			tbl_value *out, char *mem, size_t cap)
{
	int rc;

	bind_value(q->ins[c], v);
	rc = sqlite3_step(q->ins[c]);
	sqlite3_reset(q->ins[c]);
	if (rc != SQLITE_DONE) {
		ck_assert_msg(rc == SQLITE_CONSTRAINT, "sqlite: %s",
			      sqlite3_errmsg(q->db));
		ck_assert_ptr_ne(strstr(sqlite3_errmsg(q->db), "cannot store"),
				 NULL);
		return 0;
	}
	ck_assert_int_eq(sqlite3_step(q->sel[c]), SQLITE_ROW);
	*out = sqlite_value(q->sel[c], mem, cap);
	ck_assert_int_eq(sqlite3_step(q->sel[c]), SQLITE_DONE);
	sqlite3_reset(q->sel[c]);
	ck_assert_int_eq(sqlite3_step(q->del), SQLITE_DONE);
	sqlite3_reset(q->del);
	return 1;
}

/* Random values of every class into every column type of a STRICT
 * table, in rdb and in libsqlite3: both accept or both refuse, and both
 * store the same class and value (reals bit for bit, but for the sign of
 * zero, which SQLite's record format does not keep).  No tolerance: reals
 * become text and text becomes numbers by SQLite's own rules (num.h), so
 * every digit and every bit agrees. */
START_TEST(test_tblenc_apply_matches_sqlite_strict)
{
	uint64_t seed = tu_seed(), s = seed;
	char mem[256], smem[256], scratch[TBL_SCRATCH], d1[320], d2[320];
	char d3[320];
	long i, n = tu_scaled(20000, 300), n_ok[N_DCOLS] = { 0 };
	sqlite_t q;
	int c;

	tu_seed_note("apply vs sqlite", seed);
	sqlite_open(&q);
	for (i = 0; i < n; i++) {
		tbl_value v = rand_diff_value(&s, mem, sizeof(mem)), ours, theirs;
		rdb_err err = { 0 };
		int ok_rdb, ok_sqlite;

		if (v.cls == TBL_NULL)
			continue;
		c = (int)tu_rand_below(&s, N_DCOLS);
		ours = v;
		ok_rdb = tbl_value_apply(&dtable, c, &ours, scratch, &err) ==
			 RDB_OK;
		ok_sqlite = sqlite_store(&q, c, &v, &theirs, smem, sizeof(smem));
		describe_full(&v, d1, sizeof(d1));
		ck_assert_msg(ok_rdb == ok_sqlite, "%s into %s: rdb %s, sqlite %s",
			      d1, dcol_sql[c], ok_rdb ? "accepts" : err.msg,
			      ok_sqlite ? "accepts" : "refuses");
		if (!ok_rdb) {
			ck_assert_int_eq(err.rc, RDB_CONSTRAINT);
			ck_assert_ptr_ne(strstr(err.msg, "cannot store"), NULL);
			continue;
		}
		n_ok[c]++;
		describe_full(&ours, d2, sizeof(d2));
		ck_assert_msg(ours.cls == theirs.cls &&
			      tbl_value_cmp(&ours, &theirs) == 0 &&
			      (ours.cls != TBL_REAL || ours.r == 0 ||
			       memcmp(&ours.r, &theirs.r, sizeof(double)) == 0),
			      "%s into %s: rdb stores %s, sqlite %s (%.17g)", d1,
			      dcol_sql[c], d2,
			      (describe_full(&theirs, d3, sizeof(d3)), d3),
			      theirs.cls == TBL_REAL ? theirs.r : 0.0);
	}
	for (c = 0; c < N_DCOLS; c++)
		ck_assert_int_gt(n_ok[c], 0);
	if (getenv("RDB_TEST_VERBOSE"))
		fprintf(stderr, "apply vs sqlite: %ld values, accepted %ld %ld "
			"%ld %ld %ld\n", n, n_ok[DI], n_ok[DR], n_ok[DT],
			n_ok[DB], n_ok[DA]);
	sqlite_close(&q);
}
END_TEST

/* One column table for the examples. */
typedef struct one {
	tbl_column col;
	tbl_table tb;
	char scratch[TBL_SCRATCH];
	rdb_err err;
} one;

static void one_init(one *o, const char *decl, int notnull)
{
	memset(o, 0, sizeof(*o));
	o->col.name = "a";
	o->col.decl = (char *)decl;
	o->col.notnull = (uint8_t)notnull;
	ck_assert_int_eq(tbl_type_parse(decl, &o->col.type, &o->col.maxlen,
					NULL), RDB_OK);
	o->tb.name = "t1";
	o->tb.ncols = 1;
	o->tb.cols = &o->col;
}

/* Apply v to the column; RDB_OK with *out, or the code (message in
 * o->err). */
static rdb_rc apply1(one *o, tbl_value v, tbl_value *out)
{
	rdb_rc rc;

	rdb_err_clear(&o->err);
	rc = tbl_value_apply(&o->tb, 0, &v, o->scratch, &o->err);
	*out = v;
	return rc;
}

static void expect_int(one *o, tbl_value v, int64_t want)
{
	tbl_value out;

	ck_assert_msg(apply1(o, v, &out) == RDB_OK, "%s", o->err.msg);
	ck_assert_int_eq(out.cls, TBL_INT);
	ck_assert_int_eq(out.i, want);
}

static void expect_text(one *o, tbl_value v, const char *want)
{
	tbl_value out;

	ck_assert_msg(apply1(o, v, &out) == RDB_OK, "%s", o->err.msg);
	ck_assert_int_eq(out.cls, TBL_TEXT);
	ck_assert_uint_eq(out.n, strlen(want));
	ck_assert_msg(memcmp(out.p, want, out.n) == 0, "'%.*s' != '%s'",
		      (int)out.n, (const char *)out.p, want);
}

static void expect_refused(one *o, tbl_value v, const char *msg)
{
	tbl_value out;

	ck_assert_int_eq(apply1(o, v, &out), RDB_CONSTRAINT);
	ck_assert_int_eq(o->err.rc, RDB_CONSTRAINT);
	if (msg != NULL)
		ck_assert_str_eq(o->err.msg, msg);
}

START_TEST(test_tblenc_apply_integer_examples)
{
	one o;

	one_init(&o, "INTEGER", 0);
	expect_int(&o, tval(" 12 "), 12);
	expect_int(&o, tval("12.0"), 12);
	expect_int(&o, tval("1e3"), 1000);
	expect_int(&o, tval("+5"), 5);
	expect_int(&o, tval("5."), 5);
	expect_int(&o, tval(".5e1"), 5);
	expect_int(&o, tval("-0.0"), 0);
	expect_int(&o, tval("\t7\n"), 7);
	expect_int(&o, tval("-9223372036854775808"), INT64_MIN);
	expect_int(&o, tval("9223372036854775807"), INT64_MAX);
	expect_int(&o, rval(-0.0), 0);
	expect_int(&o, rval(4503599627370497.0), 4503599627370497);
	expect_refused(&o, tval("0x10"),
		       "cannot store TEXT value '0x10' in INTEGER column t1.a");
	expect_refused(&o, tval("9223372036854775808"), NULL);
	expect_refused(&o, tval(""), NULL);
	expect_refused(&o, tval("1e"), NULL);
	expect_refused(&o, tval("12.5"), NULL);
	expect_refused(&o, tval("inf"), NULL);
	expect_refused(&o, rval(12.5),
		       "cannot store REAL value 12.5 in INTEGER column t1.a");
	expect_refused(&o, rval(-9223372036854775808.0), NULL);
	expect_refused(&o, rval(9223372036854775808.0), NULL);
	expect_refused(&o, rval(INFINITY), NULL);
	expect_refused(&o, bval("\x01\xab", 2),
		       "cannot store BLOB value X'01AB' in INTEGER column t1.a");
}
END_TEST

START_TEST(test_tblenc_apply_real_and_text_examples)
{
	one o;
	tbl_value out;

	one_init(&o, "REAL", 0);
	ck_assert_int_eq(apply1(&o, ival(1), &out), RDB_OK);
	ck_assert(out.cls == TBL_REAL && out.r == 1.0);
	ck_assert_int_eq(apply1(&o, ival((INT64_C(1) << 53) + 1), &out),
			 RDB_OK);   /* rounded, as SQLite does */
	ck_assert(out.cls == TBL_REAL && out.r == 9007199254740992.0);
	ck_assert_int_eq(apply1(&o, tval(" 1.5 "), &out), RDB_OK);
	ck_assert(out.cls == TBL_REAL && out.r == 1.5);
	ck_assert_int_eq(apply1(&o, tval("1e400"), &out), RDB_OK);
	ck_assert(out.cls == TBL_REAL && out.r == INFINITY);
	ck_assert_int_eq(apply1(&o, tval("0.1"), &out), RDB_OK);
	ck_assert(out.cls == TBL_REAL && out.r == 0.1);
	expect_refused(&o, tval("abc"),
		       "cannot store TEXT value 'abc' in REAL column t1.a");
	/* SQLite's parser: this tiny non-zero number reads as 0 */
	ck_assert_int_eq(apply1(&o, tval("54917871073204922.921E-340"), &out),
			 RDB_OK);
	ck_assert(out.cls == TBL_REAL && out.r == 0.0);
	one_init(&o, "INTEGER", 0);
	ck_assert_int_eq(apply1(&o, tval("54917871073204922.921E-340"), &out),
			 RDB_OK);
	ck_assert(out.cls == TBL_INT && out.i == 0);

	one_init(&o, "TEXT", 0);
	expect_text(&o, rval(1.0), "1.0");
	expect_text(&o, rval(1e20), "1.0e+20");
	expect_text(&o, rval(1e15), "1.0e+15");
	expect_text(&o, rval(123456789012345.0), "123456789012345.0");
	expect_text(&o, rval(0.1), "0.1");
	expect_text(&o, rval(-0.0), "0.0");
	expect_text(&o, rval(1.5e-7), "1.5e-07");
	expect_text(&o, rval(0.0001), "0.0001");
	expect_text(&o, rval(2.0 / 3), "0.666666666666667");
	expect_text(&o, rval(-INFINITY), "-Inf");
	expect_text(&o, rval(INFINITY), "Inf");
	expect_text(&o, rval(-DBL_MAX), "-1.79769313486232e+308");
	expect_text(&o, rval(4.9406564584124654e-324), "4.94065645841247e-324");
	expect_text(&o, ival(INT64_MIN), "-9223372036854775808");
	/* SQLite's long double digits, not the correctly rounded ...8 */
	expect_text(&o, rval(63639461265499.75), "63639461265499.7");
	expect_text(&o, tval("as is"), "as is");
	expect_refused(&o, bval("A", 1),
		       "cannot store BLOB value X'41' in TEXT column t1.a");

	one_init(&o, "BLOB", 0);
	ck_assert_int_eq(apply1(&o, bval("", 0), &out), RDB_OK);
	ck_assert_int_eq(out.cls, TBL_BLOB);
	expect_refused(&o, tval("a"), NULL);
	expect_refused(&o, ival(1),
		       "cannot store INT value 1 in BLOB column t1.a");
}
END_TEST

/* rdb's own BOOLEAN: 0 and 1, from numbers, 'true'/'false' and numeric
 * text; anything else is refused. */
START_TEST(test_tblenc_apply_boolean_accepts_only_zero_and_one)
{
	one o;

	one_init(&o, "BOOLEAN", 0);
	expect_int(&o, ival(0), 0);
	expect_int(&o, ival(1), 1);
	expect_int(&o, rval(1.0), 1);
	expect_int(&o, rval(-0.0), 0);
	expect_int(&o, tval("TRUE"), 1);
	expect_int(&o, tval(" false "), 0);
	expect_int(&o, tval("True"), 1);
	expect_int(&o, tval("1"), 1);
	expect_int(&o, tval("0.0"), 0);
	expect_refused(&o, ival(2),
		       "cannot store INT value 2 in BOOLEAN column t1.a");
	expect_refused(&o, ival(-1), NULL);
	expect_refused(&o, rval(0.5), NULL);
	expect_refused(&o, tval("yes"), NULL);
	expect_refused(&o, tval("truex"), NULL);
	expect_refused(&o, tval(""), NULL);
	expect_refused(&o, bval("\x01", 1), NULL);
}
END_TEST

/* VARCHAR(n) and CHAR(n) count UTF-8 characters, check converted numbers
 * too, and do not pad. */
START_TEST(test_tblenc_apply_varchar_counts_characters)
{
	one o;

	one_init(&o, "VARCHAR(3)", 0);
	expect_text(&o, tval("abc"), "abc");
	expect_text(&o, tval("\xc3\xa9\xc3\xa9\xe2\x82\xac"),   /* "ééâ‚¬" */
		    "\xc3\xa9\xc3\xa9\xe2\x82\xac");
	expect_text(&o, tval(""), "");
	expect_text(&o, ival(-12), "-12");
	expect_refused(&o, tval("abcd"), "cannot store TEXT value 'abcd' in "
		       "VARCHAR(3) column t1.a (4 characters, at most 3)");
	expect_refused(&o, ival(1234), "cannot store INT value 1234 in "
		       "VARCHAR(3) column t1.a (4 characters, at most 3)");
	expect_text(&o, rval(1.5), "1.5");
	expect_refused(&o, rval(1.25), NULL);
	one_init(&o, "CHAR(2)", 0);
	expect_text(&o, tval("a"), "a");        /* no padding */
	expect_refused(&o, tval("abc"), NULL);
}
END_TEST

START_TEST(test_tblenc_apply_not_null_and_any)
{
	one o;
	tbl_value out, v;

	one_init(&o, "INTEGER", 1);
	expect_refused(&o, null_value, "NOT NULL constraint failed: t1.a");
	one_init(&o, "TEXT", 0);
	ck_assert_int_eq(apply1(&o, null_value, &out), RDB_OK);
	ck_assert_int_eq(out.cls, TBL_NULL);
	one_init(&o, "ANY", 0);
	v = tval("12");
	ck_assert_int_eq(apply1(&o, v, &out), RDB_OK);
	ck_assert(out.cls == TBL_TEXT && out.p == v.p && out.n == 2);
	ck_assert_int_eq(apply1(&o, rval(1.0), &out), RDB_OK);
	ck_assert(out.cls == TBL_REAL && out.r == 1.0);
	ck_assert_int_eq(apply1(&o, bval("\x00", 1), &out), RDB_OK);
	ck_assert_int_eq(out.cls, TBL_BLOB);
}
END_TEST

/* Long values are shortened in messages: text to 40 bytes (at a
 * character boundary), blobs to 16 bytes; control bytes show as '?'. */
START_TEST(test_tblenc_apply_messages_shorten_long_values)
{
	char text[120];
	unsigned char blob[40] = { 0 };
	one o;

	memset(text, 'x', sizeof(text));
	memcpy(text + 39, "\xc3\xa9", 2);   /* across the 40-byte cut */
	text[1] = '\n';
	text[sizeof(text) - 1] = '\0';
	one_init(&o, "INTEGER", 0);
	expect_refused(&o, tval(text), "cannot store TEXT value 'x?"
		       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'... in INTEGER "
		       "column t1.a");
	expect_refused(&o, bval(blob, sizeof(blob)), "cannot store BLOB value "
		       "X'00000000000000000000000000000000'... in INTEGER "
		       "column t1.a");
}
END_TEST

Suite *tblenc_suite(void)
{
	Suite *s = suite_create("tblenc");
	TCase *tc;

	tc = tcase_create("value");
	tcase_add_test(tc, test_tblenc_cmp_mixed_numbers_compare_exactly);
	tcase_add_test(tc, test_tblenc_cmp_classes_order_null_number_text_blob);
	tcase_add_test(tc, test_tblenc_cmp_bytes_by_memcmp_then_length);
	tcase_add_test(tc, test_tblenc_cmp_random_is_a_total_order);
	tcase_add_test(tc, test_tblenc_cmp_matches_sqlite);
	tcase_add_test(tc, test_tblenc_type_names_parse_case_and_space_insensitive);
	tcase_add_test(tc, test_tblenc_type_unknown_names_are_errors);
	tcase_add_test(tc, test_tblenc_type_name_round_trips);
	suite_add_tcase(s, tc);

	tc = tcase_create("key");
	tcase_add_test(tc, test_tblenc_key_order_matches_cmp);
	tcase_add_test(tc, test_tblenc_key_round_trip_single_values);
	tcase_add_test(tc, test_tblenc_key_tuples_order_and_round_trip);
	tcase_add_test(tc, test_tblenc_key_prefix_bounds_enclose_extensions);
	tcase_add_test(tc, test_tblenc_key_equal_numbers_encode_equal);
	tcase_add_test(tc, test_tblenc_key_decode_by_declared_type);
	tcase_add_test(tc, test_tblenc_key_text_escapes_and_scratch);
	tcase_add_test(tc, test_tblenc_key_truncated_and_garbage_never_crash);
	tcase_add_test(tc, test_tblenc_key_append_nomem_changes_nothing);
	tcase_add_test(tc, test_tblenc_key_bytes_match_the_documented_format);
	suite_add_tcase(s, tc);

	tc = tcase_create("row");
	tcase_add_test(tc, test_tblenc_row_round_trip_random_schemas);
	tcase_add_test(tc, test_tblenc_row_fewer_stored_columns_read_defaults);
	tcase_add_test(tc, test_tblenc_row_bytes_match_the_documented_format);
	tcase_add_test(tc, test_tblenc_row_encode_wrong_class_is_mismatch);
	tcase_add_test(tc, test_tblenc_row_garbage_never_crashes);
	tcase_add_test(tc, test_tblenc_row_encode_nomem_changes_nothing);
	tcase_add_test(tc, test_tblenc_row_varints_refuse_padding_and_overflow);
	suite_add_tcase(s, tc);

	tc = tcase_create("apply");
	tcase_add_test(tc, test_tblenc_apply_matches_sqlite_strict);
	tcase_add_test(tc, test_tblenc_apply_integer_examples);
	tcase_add_test(tc, test_tblenc_apply_real_and_text_examples);
	tcase_add_test(tc, test_tblenc_apply_boolean_accepts_only_zero_and_one);
	tcase_add_test(tc, test_tblenc_apply_varchar_counts_characters);
	tcase_add_test(tc, test_tblenc_apply_not_null_and_any);
	tcase_add_test(tc, test_tblenc_apply_messages_shorten_long_values);
	suite_add_tcase(s, tc);
	return s;
}
