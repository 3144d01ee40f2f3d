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
	static const unsigned char one[] = { FMT_KEY_POS, 0x04, 0x33, 0x00 };
	static const unsigned char m5[] = { FMT_KEY_NEG, 0xfb, 0xca, 0xbf };
	static const unsigned char t[] = { FMT_KEY_TEXT, 'a', 0x00, 0xff,
					   0x00, 0x01 };

	v = ival(1);
	encode1(&e, &v, 0);
	ck_assert(e.n == sizeof(one) && memcmp(e.p, one, e.n) == 0);
	v = rval(-5.0);   /* 1.01b * 2^2: fraction 0100000b, no more */
	encode1(&e, &v, 0);
	ck_assert(e.n == sizeof(m5) && memcmp(e.p, m5, e.n) == 0);
	v = ival((INT64_C(1) << 53) + 1);
	encode1(&e, &v, 0);
	ck_assert_uint_eq(e.n, 3 + 8);
	ck_assert(e.p[0] == FMT_KEY_POS && e.p[1] == 0x04 && e.p[2] == 0x68);
	ck_assert(e.p[3] == 0x01 && e.p[9] == 0x01 && e.p[10] == 0x10);
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

Suite *tblenc_suite(void)
{
	Suite *s = suite_create("tblenc");
	TCase *tc;

	tc = tcase_create("value");
	tcase_add_test(tc, test_tblenc_cmp_mixed_numbers_compare_exactly);
	tcase_add_test(tc, test_tblenc_cmp_classes_order_null_number_text_blob);
	tcase_add_test(tc, test_tblenc_cmp_bytes_by_memcmp_then_length);
	tcase_add_test(tc, test_tblenc_cmp_random_is_a_total_order);
	tcase_add_test(tc, test_tblenc_type_names_parse_case_and_space_insensitive);
	tcase_add_test(tc, test_tblenc_type_unknown_names_are_errors);
	tcase_add_test(tc, test_tblenc_type_name_round_trips);
	suite_add_tcase(s, tc);

	tc = tcase_create("key");
	tcase_add_test(tc, test_tblenc_key_order_matches_cmp);
	tcase_add_test(tc, test_tblenc_key_round_trip_single_values);
	tcase_add_test(tc, test_tblenc_key_tuples_order_and_round_trip);
	tcase_add_test(tc, test_tblenc_key_equal_numbers_encode_equal);
	tcase_add_test(tc, test_tblenc_key_decode_by_declared_type);
	tcase_add_test(tc, test_tblenc_key_text_escapes_and_scratch);
	tcase_add_test(tc, test_tblenc_key_truncated_and_garbage_never_crash);
	tcase_add_test(tc, test_tblenc_key_append_nomem_changes_nothing);
	tcase_add_test(tc, test_tblenc_key_bytes_match_the_documented_format);
	suite_add_tcase(s, tc);
	return s;
}
