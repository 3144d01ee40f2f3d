/*
 * value_ops.c -- SQL operators on sql_values: arithmetic, bit operations,
 * concatenation, three-valued logic, CAST, LIKE and GLOB (contract in
 * value.h; design in src/sql/README.md, "Values and functions").
 */
#include "sql/value.h"
#include <assert.h>
#include <math.h>
#include <string.h>
#include "mem.h"

/* ---- arithmetic ------------------------------------------------------------ */

/* The number an operand reads as in arithmetic (SQLite's numericType):
 * text and blobs that read as integers become TBL_INT, others TBL_REAL by
 * their numeric prefix. */
static void arith_num(const sql_value *x, sql_value *out)
{
	const char *z;
	double r;
	int64_t i;
	int rc;

	if (x->v.cls != TBL_TEXT && x->v.cls != TBL_BLOB) {
		*out = *x;
		return;
	}
	z = sql_value_ptr(x);
	rc = sql_atof(z, x->v.n, &r);
	if ((rc == 0 && sql_atoi64(z, x->v.n, &i) <= 1) ||
	    (rc == 1 && sql_atoi64(z, x->v.n, &i) == 0))
		sql_value_int(out, i);
	else
		sql_value_real(out, r);
}

/* Integer arithmetic; returns 0 when the result needs real arithmetic. */
static int int_math(sql_binop op, int64_t a, int64_t b, sql_value *out)
{
	int64_t r;

	switch (op) {
	case SQL_OP_ADD:
		if (__builtin_add_overflow(a, b, &r))
			return 0;
		break;
	case SQL_OP_SUB:
		if (__builtin_sub_overflow(a, b, &r))
			return 0;
		break;
	case SQL_OP_MUL:
		if (__builtin_mul_overflow(a, b, &r))
			return 0;
		break;
	case SQL_OP_DIV:
		if (b == 0) {
			sql_value_null(out);
			return 1;
		}
		if (b == -1 && a == INT64_MIN)
			return 0;
		r = a / b;
		break;
	default:
		if (b == 0) {
			sql_value_null(out);
			return 1;
		}
		r = b == -1 ? 0 : a % b;
		break;
	}
	sql_value_int(out, r);
	return 1;
}

static void real_math(sql_binop op, const sql_value *a, const sql_value *b,
		      sql_value *out)
{
	double x = sql_value_to_real(a), y = sql_value_to_real(b), r;
	int64_t i, j;

	switch (op) {
	case SQL_OP_ADD: r = x + y; break;
	case SQL_OP_SUB: r = x - y; break;
	case SQL_OP_MUL: r = x * y; break;
	case SQL_OP_DIV:
		if (y == 0.0) {
			sql_value_null(out);
			return;
		}
		r = x / y;
		break;
	default:
		/* SQLite takes the integer values of the operands as they
		 * are ('1e3' reads as 1 here). */
		i = sql_value_to_int(a);
		j = sql_value_to_int(b);
		if (j == 0) {
			sql_value_null(out);
			return;
		}
		r = (double)(j == -1 ? 0 : i % j);
		break;
	}
	sql_value_real(out, r);         /* NaN (inf - inf) is NULL */
}

static void arith(sql_binop op, const sql_value *a, const sql_value *b,
		  sql_value *out)
{
	sql_value x, y;

	/* The common case first: two integers, no copies. */
	if (a->v.cls == TBL_INT && b->v.cls == TBL_INT &&
	    int_math(op, a->v.i, b->v.i, out))
		return;
	if (a->v.cls == TBL_NULL || b->v.cls == TBL_NULL) {
		sql_value_null(out);
		return;
	}
	arith_num(a, &x);
	arith_num(b, &y);
	if (x.v.cls == TBL_INT && y.v.cls == TBL_INT &&
	    int_math(op, x.v.i, y.v.i, out))
		return;
	real_math(op, a, b, out);
}

/* SQLite's shift: a negative count shifts the other way; 64 or more
 * gives 0 (or -1 for a negative value shifted right). */
static int64_t shift(int64_t a, int64_t b, int left)
{
	uint64_t u;

	if (b < 0) {
		left = !left;
		b = b > -64 ? -b : 64;
	}
	if (b >= 64)
		return a >= 0 || left ? 0 : -1;
	if (b == 0)
		return a;
	u = (uint64_t)a;
	if (left)
		return (int64_t)(u << b);
	u >>= b;
	if (a < 0)
		u |= ~(uint64_t)0 << (64 - b);
	return (int64_t)u;
}

static void bitop(sql_binop op, const sql_value *a, const sql_value *b,
		  sql_value *out)
{
	int64_t x, y;

	if (a->v.cls == TBL_NULL || b->v.cls == TBL_NULL) {
		sql_value_null(out);
		return;
	}
	x = sql_value_to_int(a);
	y = sql_value_to_int(b);
	switch (op) {
	case SQL_OP_BITAND: x &= y; break;
	case SQL_OP_BITOR: x |= y; break;
	case SQL_OP_SHL: x = shift(x, y, 1); break;
	default: x = shift(x, y, 0); break;
	}
	sql_value_int(out, x);
}

static rdb_rc concat(sql_ctx *cx, const sql_value *a, const sql_value *b,
		     sql_value *out)
{
	char ta[SQL_NUM_TEXT], tb[SQL_NUM_TEXT];
	const unsigned char *pa, *pb;
	size_t na, nb;
	unsigned char *p;

	if (a->v.cls == TBL_NULL || b->v.cls == TBL_NULL) {
		sql_value_null(out);
		return RDB_OK;
	}
	sql_value_text(a, ta, &pa, &na);
	sql_value_text(b, tb, &pb, &nb);
	if (na + nb > sql_max_len(cx)) {
		sql_value_null(out);
		return rdb_err_set(cx->err, RDB_TOOBIG,
				   "string or blob too big");
	}
	if (na + nb <= SQL_INLINE_MAX) {
		sql_value_null(out);
		out->v.cls = TBL_TEXT;
		out->v.n = na + nb;
		out->mem = SQL_MEM_INLINE;
		if (na > 0)
			memcpy(out->buf, pa, na);
		if (nb > 0)
			memcpy(out->buf + na, pb, nb);
		return RDB_OK;
	}
	if ((p = rdb_malloc(na + nb)) == NULL) {
		sql_value_null(out);
		return rdb_err_set(cx->err, RDB_NOMEM, "out of memory");
	}
	memcpy(p, pa, na);
	memcpy(p + na, pb, nb);
	sql_value_take(out, TBL_TEXT, p, na + nb);
	return RDB_OK;
}

rdb_rc sql_binary(sql_ctx *cx, sql_binop op, const sql_value *a,
		  const sql_value *b, sql_value *out)
{
	switch (op) {
	case SQL_OP_ADD: case SQL_OP_SUB: case SQL_OP_MUL: case SQL_OP_DIV:
	case SQL_OP_REM:
		arith(op, a, b, out);
		return RDB_OK;
	case SQL_OP_CONCAT:
		return concat(cx, a, b, out);
	default:
		bitop(op, a, b, out);
		return RDB_OK;
	}
}

void sql_negate(const sql_value *a, sql_value *out)
{
	sql_value zero;

	sql_value_int(&zero, 0);
	arith(SQL_OP_SUB, &zero, a, out);
}

void sql_bitnot(const sql_value *a, sql_value *out)
{
	if (a->v.cls == TBL_NULL)
		sql_value_null(out);
	else
		sql_value_int(out, ~sql_value_to_int(a));
}

/* ---- logic ----------------------------------------------------------------------- */

void sql_not(const sql_value *a, sql_value *out)
{
	int t = sql_value_truth(a);

	if (t < 0)
		sql_value_null(out);
	else
		sql_value_int(out, !t);
}

void sql_and(const sql_value *a, const sql_value *b, sql_value *out)
{
	int x = sql_value_truth(a), y = sql_value_truth(b);

	if (x == 0 || y == 0)
		sql_value_int(out, 0);
	else if (x < 0 || y < 0)
		sql_value_null(out);
	else
		sql_value_int(out, 1);
}

void sql_or(const sql_value *a, const sql_value *b, sql_value *out)
{
	int x = sql_value_truth(a), y = sql_value_truth(b);

	if (x == 1 || y == 1)
		sql_value_int(out, 1);
	else if (x < 0 || y < 0)
		sql_value_null(out);
	else
		sql_value_int(out, 0);
}

/* ---- CAST ----------------------------------------------------------------------- */

/* SQLite's sqlite3VdbeMemNumerify for text and blobs: an integer when the
 * text reads as one (or as a real equal to a small integer), else real. */
static void numerify(const sql_value *x, sql_value *out)
{
	const char *z = sql_value_ptr(x);
	double r;
	int64_t i = 0;
	int rc = sql_atof(z, x->v.n, &r);

	if ((rc == 0 || rc == 1) && sql_atoi64(z, x->v.n, &i) <= 1) {
		sql_value_int(out, i);
		return;
	}
	/* (i64)r as x86 computes it: out of range gives INT64_MIN. */
	i = r >= -9223372036854775808.0 && r < 9223372036854775808.0 ?
		(int64_t)r : INT64_MIN;
	if (r == 0.0 || (r == (double)i && i >= -2251799813685248LL &&
			 i < 2251799813685248LL))
		sql_value_int(out, i);
	else
		sql_value_real(out, r);
}

/* Text or blob of the bytes of x (numbers rendered); the class changes,
 * the bytes are shared as sql_value_pass() shares them. */
static rdb_rc as_bytes(sql_ctx *cx, const sql_value *x, tbl_class cls,
		       sql_value *out)
{
	rdb_rc rc;

	if (x->v.cls == TBL_INT || x->v.cls == TBL_REAL) {
		*out = *x;
		sql_value_apply_aff(out, SQL_AFF_TEXT);
		out->v.cls = cls;
		return RDB_OK;
	}
	rc = sql_value_pass(cx, out, x);
	if (rc == RDB_OK)
		out->v.cls = cls;
	return rc;
}

rdb_rc sql_cast(sql_ctx *cx, const sql_value *x, sql_aff aff, sql_value *out)
{
	if (x->v.cls == TBL_NULL) {
		sql_value_null(out);
		return RDB_OK;
	}
	switch (aff) {
	case SQL_AFF_TEXT:
		return as_bytes(cx, x, TBL_TEXT, out);
	case SQL_AFF_INTEGER:
		sql_value_int(out, sql_value_to_int(x));
		return RDB_OK;
	case SQL_AFF_REAL:
		sql_value_real(out, sql_value_to_real(x));
		return RDB_OK;
	case SQL_AFF_NUMERIC:
		if (x->v.cls == TBL_INT || x->v.cls == TBL_REAL)
			*out = *x;
		else
			numerify(x, out);
		return RDB_OK;
	default:
		if (x->v.cls == TBL_BLOB)
			return sql_value_pass(cx, out, x);
		return as_bytes(cx, x, TBL_BLOB, out);
	}
}

/* ---- LIKE and GLOB ------------------------------------------------------------------ */

#define LIKE_MAX_PATTERN 50000

/* A NUL-bounded UTF-8 cursor: end or a NUL byte both end the string. */
typedef struct ustr {
	const unsigned char *p, *end;
} ustr;

static int at_end(const ustr *s)
{
	return s->p >= s->end || *s->p == 0;
}

/* Read one character as SQLite's sqlite3Utf8Read does (lenient: bad
 * sequences read as U+FFFD); 0 at the end. */
static uint32_t uread(ustr *s)
{
	uint32_t c;

	if (at_end(s))
		return 0;
	c = *s->p++;
	if (c >= 0xc0) {
		static const unsigned char lead[] = {
			0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
			0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
			0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
			0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
			0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
			0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
			0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
			0x00, 0x01, 0x02, 0x03, 0x00, 0x01, 0x00, 0x00,
		};
		c = lead[c - 0xc0];
		while (s->p < s->end && (*s->p & 0xc0) == 0x80)
			c = (c << 6) + (0x3f & *s->p++);
		if (c < 0x80 || (c & 0xFFFFF800) == 0xD800 ||
		    (c & 0xFFFFFFFE) == 0xFFFE)
			c = 0xFFFD;
	}
	return c;
}

static uint32_t lower_ascii(uint32_t c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

typedef struct match_info {
	uint32_t all, one, set;   /* '%' '_' 0, or '*' '?' '[' */
	int nocase;
	uint32_t other;           /* the escape (LIKE) or '[' (GLOB) */
} match_info;

enum { M_MATCH = 0, M_NOMATCH = 1, M_NOWILD = 2 };

static int match(ustr pat, ustr str, const match_info *mi);

/* After a '*' / '%' (already consumed with any following ones): try the
 * rest of the pattern at every position of str that can start it. */
static int match_star(ustr pat, ustr str, uint32_t c, const match_info *mi)
{
	uint32_t c2;
	int r;

	for (;;) {
		c2 = uread(&str);
		if (c2 == 0)
			return M_NOWILD;
		if (c2 == c || (mi->nocase && c < 0x80 && c2 < 0x80 &&
				lower_ascii(c) == lower_ascii(c2))) {
			r = match(pat, str, mi);
			if (r != M_NOMATCH)
				return r;
		}
	}
}

/* A GLOB character class; pat is just past '['.  Returns 1 on a match
 * of c, 0 on no match, -1 for an unterminated class. */
static int match_set(ustr *pat, uint32_t c)
{
	uint32_t c2, prior = 0;
	int seen = 0, invert = 0;

	c2 = uread(pat);
	if (c2 == '^') {
		invert = 1;
		c2 = uread(pat);
	}
	if (c2 == ']') {
		if (c == ']')
			seen = 1;
		c2 = uread(pat);
	}
	while (c2 != 0 && c2 != ']') {
		if (c2 == '-' && !at_end(pat) && *pat->p != ']' && prior > 0) {
			c2 = uread(pat);
			if (c >= prior && c <= c2)
				seen = 1;
			prior = 0;
		} else {
			if (c == c2)
				seen = 1;
			prior = c2;
		}
		c2 = uread(pat);
	}
	if (c2 == 0)
		return -1;
	return seen ^ invert;
}

/* SQLite's patternCompare, over NUL-bounded byte ranges. */
static int match(ustr pat, ustr str, const match_info *mi)
{
	const unsigned char *escaped = NULL;
	uint32_t c, c2;
	int r;

	while ((c = uread(&pat)) != 0) {
		if (c == mi->all) {
			while ((c = uread(&pat)) == mi->all ||
			       (c == mi->one && mi->one != 0))
				if (c == mi->one && uread(&str) == 0)
					return M_NOWILD;
			if (c == 0)
				return M_MATCH;
			if (c == mi->other) {
				if (mi->set == 0) {
					if ((c = uread(&pat)) == 0)
						return M_NOWILD;
				} else {
					/* '[' right after '*': try each
					 * position. */
					ustr back = { pat.p - 1, pat.end };

					while (!at_end(&str)) {
						r = match(back, str, mi);
						if (r != M_NOMATCH)
							return r;
						(void)uread(&str);
					}
					return M_NOWILD;
				}
			}
			return match_star(pat, str, c, mi);
		}
		if (c == mi->other) {
			if (mi->set == 0) {
				if ((c = uread(&pat)) == 0)
					return M_NOMATCH;
				escaped = pat.p;
			} else {
				if ((c = uread(&str)) == 0)
					return M_NOMATCH;
				if (match_set(&pat, c) <= 0)
					return M_NOMATCH;
				continue;
			}
		}
		c2 = uread(&str);
		if (c == c2)
			continue;
		if (mi->nocase && c < 0x80 && c2 < 0x80 &&
		    lower_ascii(c) == lower_ascii(c2))
			continue;
		if (c == mi->one && pat.p != escaped && c2 != 0)
			continue;
		return M_NOMATCH;
	}
	return at_end(&str) ? M_MATCH : M_NOMATCH;
}

/* Count UTF-8 characters up to the first NUL, as sqlite3Utf8CharLen. */
static size_t utf8_chars(const unsigned char *p, size_t n)
{
	size_t k = 0, i = 0;

	while (i < n && p[i] != 0) {
		if (p[i++] >= 0xc0)
			while (i < n && (p[i] & 0xc0) == 0x80)
				i++;
		k++;
	}
	return k;
}

static rdb_rc like_glob(sql_ctx *cx, const sql_value *str,
			const sql_value *pat, const sql_value *esc,
			match_info mi, sql_value *out)
{
	char t1[SQL_NUM_TEXT], t2[SQL_NUM_TEXT], t3[SQL_NUM_TEXT];
	const unsigned char *ps, *pp, *pe;
	size_t ns, np, ne;
	ustr e;

	sql_value_null(out);
	/* Debian's (and SQLite's recommended) SQLITE_LIKE_DOESNT_MATCH_BLOBS:
	 * a blob on either side never matches. */
	if (str->v.cls == TBL_BLOB || pat->v.cls == TBL_BLOB) {
		sql_value_int(out, 0);
		return RDB_OK;
	}
	sql_value_text(pat, t2, &pp, &np);
	if (np > LIKE_MAX_PATTERN)
		return rdb_err_set(cx->err, RDB_ERROR,
				   "LIKE or GLOB pattern too complex");
	if (esc != NULL) {
		sql_value_text(esc, t3, &pe, &ne);
		if (pe == NULL)
			return RDB_OK;
		if (utf8_chars(pe, ne) != 1)
			return rdb_err_set(cx->err, RDB_ERROR, "ESCAPE "
					   "expression must be a single "
					   "character");
		e.p = pe;
		e.end = pe + ne;
		mi.other = uread(&e);
		if (mi.other == mi.all)
			mi.all = 0;
		if (mi.other == mi.one)
			mi.one = 0;
	}
	sql_value_text(str, t1, &ps, &ns);
	if (pp == NULL || ps == NULL)
		return RDB_OK;
	{
		ustr a = { pp, pp + np }, b = { ps, ps + ns };

		sql_value_int(out, match(a, b, &mi) == M_MATCH);
	}
	return RDB_OK;
}

rdb_rc sql_like(sql_ctx *cx, const sql_value *str, const sql_value *pat,
		const sql_value *esc, sql_value *out)
{
	match_info mi = { '%', '_', 0, 1, 0 };

	return like_glob(cx, str, pat, esc, mi, out);
}

rdb_rc sql_glob(sql_ctx *cx, const sql_value *str, const sql_value *pat,
		sql_value *out)
{
	match_info mi = { '*', '?', '[', 0, '[' };

	return like_glob(cx, str, pat, NULL, mi, out);
}
