/*
 * value.c -- sql_value life cycle, number parsing, conversions, affinity
 * and comparison (contract in value.h; design in src/sql/README.md,
 * "Values and functions").
 */
#include "sql/value.h"
#include <assert.h>
#include <math.h>
#include <string.h>
#include "mem.h"

/* ---- context ------------------------------------------------------------- */

void sql_ctx_init(sql_ctx *cx, rdb_err *err, uint64_t seed)
{
	static const size_t hard = SQL_MAX_LENGTH;

	memset(cx, 0, sizeof(*cx));
	cx->err = err;
	cx->rng = seed;
	cx->max_len = &hard;
}

void sql_ctx_free(sql_ctx *cx)
{
	if (cx == NULL)
		return;
	rdb_buf_free(&cx->scratch);
}

/* splitmix64: every seed gives a full-period, well-mixed sequence. */
uint64_t sql_ctx_random(sql_ctx *cx)
{
	uint64_t z = (cx->rng += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* ---- life cycle ----------------------------------------------------------- */

void sql_value_null(sql_value *out)
{
	out->v.cls = TBL_NULL;
	out->v.i = 0;
	out->v.r = 0.0;
	out->v.p = NULL;
	out->v.n = 0;
	out->mem = SQL_MEM_NONE;
}

void sql_value_int(sql_value *out, int64_t i)
{
	sql_value_null(out);
	out->v.cls = TBL_INT;
	out->v.i = i;
}

void sql_value_real(sql_value *out, double r)
{
	sql_value_null(out);
	if (isnan(r))
		return;
	out->v.cls = TBL_REAL;
	out->v.r = r;
}

void sql_value_borrow(sql_value *out, tbl_class cls, const void *p, size_t n)
{
	assert(cls == TBL_TEXT || cls == TBL_BLOB);
	sql_value_null(out);
	out->v.cls = cls;
	out->v.p = n > 0 ? p : "";
	out->v.n = n;
	out->mem = SQL_MEM_BORROW;
}

void sql_value_from_tbl(sql_value *out, const tbl_value *t)
{
	if (t->cls == TBL_TEXT || t->cls == TBL_BLOB) {
		sql_value_borrow(out, t->cls, t->p, t->n);
		return;
	}
	sql_value_null(out);
	out->v = *t;
	out->v.p = NULL;
	out->v.n = 0;
}

rdb_rc sql_value_set_bytes(sql_ctx *cx, sql_value *out, tbl_class cls,
			   const void *p, size_t n)
{
	void *copy;

	assert(cls == TBL_TEXT || cls == TBL_BLOB);
	sql_value_null(out);
	if (n > sql_max_len(cx))
		return rdb_err_set(cx->err, RDB_TOOBIG,
				   "string or blob too big");
	if (n <= SQL_INLINE_MAX) {
		out->v.cls = cls;
		out->v.n = n;
		out->mem = SQL_MEM_INLINE;
		if (n > 0)
			memcpy(out->buf, p, n);
		return RDB_OK;
	}
	if ((copy = rdb_malloc(n)) == NULL)
		return rdb_err_set(cx->err, RDB_NOMEM, "out of memory");
	memcpy(copy, p, n);
	sql_value_take(out, cls, copy, n);
	return RDB_OK;
}

void sql_value_take(sql_value *out, tbl_class cls, void *p, size_t n)
{
	assert(cls == TBL_TEXT || cls == TBL_BLOB);
	sql_value_null(out);
	out->v.cls = cls;
	out->v.p = p;
	out->v.n = n;
	out->mem = SQL_MEM_HEAP;
}

rdb_rc sql_value_copy(sql_ctx *cx, sql_value *out, const sql_value *src)
{
	if (src->mem == SQL_MEM_NONE || src->mem == SQL_MEM_INLINE) {
		*out = *src;
		return RDB_OK;
	}
	return sql_value_set_bytes(cx, out, src->v.cls, sql_value_ptr(src),
				   src->v.n);
}

rdb_rc sql_value_pass(sql_ctx *cx, sql_value *out, const sql_value *src)
{
	if (src->mem != SQL_MEM_HEAP) {
		*out = *src;
		return RDB_OK;
	}
	return sql_value_copy(cx, out, src);
}

rdb_rc sql_value_own(sql_ctx *cx, sql_value *x)
{
	sql_value tmp;
	rdb_rc rc;

	if (x->mem != SQL_MEM_BORROW)
		return RDB_OK;
	rc = sql_value_set_bytes(cx, &tmp, x->v.cls, x->v.p, x->v.n);
	if (rc != RDB_OK)
		return rc;
	*x = tmp;
	return RDB_OK;
}

void sql_value_move(sql_value *dst, sql_value *src)
{
	*dst = *src;
	sql_value_null(src);
}

void sql_value_free(sql_value *x)
{
	if (x == NULL)
		return;
	if (x->mem == SQL_MEM_HEAP)
		rdb_free((void *)x->v.p);
	sql_value_null(x);
}

/* ---- conversions ---------------------------------------------------------------- */

/* SQLite's doubleToInt64: clamp, then truncate. */
static int64_t real_to_int(double r)
{
	if (r <= (double)INT64_MIN)
		return INT64_MIN;
	if (r >= (double)INT64_MAX)
		return INT64_MAX;
	return (int64_t)r;
}

int64_t sql_value_to_int(const sql_value *x)
{
	int64_t i = 0;

	switch (x->v.cls) {
	case TBL_INT:
		return x->v.i;
	case TBL_REAL:
		return real_to_int(x->v.r);
	case TBL_TEXT:
	case TBL_BLOB:
		(void)sql_atoi64(sql_value_ptr(x), x->v.n, &i);
		return i;
	default:
		return 0;
	}
}

double sql_value_to_real(const sql_value *x)
{
	double r = 0.0;

	switch (x->v.cls) {
	case TBL_INT:
		return (double)x->v.i;
	case TBL_REAL:
		return x->v.r;
	case TBL_TEXT:
	case TBL_BLOB:
		(void)sql_atof(sql_value_ptr(x), x->v.n, &r);
		return r;
	default:
		return 0.0;
	}
}

int32_t sql_value_to_int32(const sql_value *x)
{
	return (int32_t)(uint32_t)(uint64_t)sql_value_to_int(x);
}

void sql_value_text(const sql_value *x, char tmp[SQL_NUM_TEXT],
		    const unsigned char **p, size_t *n)
{
	switch (x->v.cls) {
	case TBL_INT:
		*n = sql_render_int(x->v.i, tmp);
		*p = (const unsigned char *)tmp;
		return;
	case TBL_REAL:
		*n = sql_render_real(x->v.r, tmp);
		*p = (const unsigned char *)tmp;
		return;
	case TBL_TEXT:
	case TBL_BLOB:
		/* Never NULL for a text or blob, even one built by hand with
		 * p == NULL and n == 0: NULL means SQL NULL to callers. */
		*p = sql_value_ptr(x);
		if (*p == NULL)
			*p = (const unsigned char *)"";
		*n = x->v.n;
		return;
	default:
		*p = NULL;
		*n = 0;
	}
}

int sql_value_truth(const sql_value *x)
{
	switch (x->v.cls) {
	case TBL_NULL:
		return -1;
	case TBL_INT:
		return x->v.i != 0;
	default:
		return sql_value_to_real(x) != 0.0;
	}
}

/* ---- affinity ------------------------------------------------------------------- */

static int has_word(const char *name, size_t n, const char *w)
{
	size_t k = strlen(w), i, j;

	for (i = 0; i + k <= n; i++) {
		for (j = 0; j < k; j++) {
			char c = name[i + j];

			if (c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			if (c != w[j])
				break;
		}
		if (j == k)
			return 1;
	}
	return 0;
}

sql_aff sql_aff_of_name(const char *name, size_t n)
{
	if (has_word(name, n, "INT"))
		return SQL_AFF_INTEGER;
	if (has_word(name, n, "CHAR") || has_word(name, n, "CLOB") ||
	    has_word(name, n, "TEXT"))
		return SQL_AFF_TEXT;
	if (n == 0 || has_word(name, n, "BLOB"))
		return SQL_AFF_BLOB;
	if (has_word(name, n, "REAL") || has_word(name, n, "FLOA") ||
	    has_word(name, n, "DOUB"))
		return SQL_AFF_REAL;
	return SQL_AFF_NUMERIC;
}

sql_aff sql_aff_of_type(tbl_type t)
{
	switch (t) {
	case TBL_TY_INTEGER: return SQL_AFF_INTEGER;
	case TBL_TY_REAL: return SQL_AFF_REAL;
	case TBL_TY_TEXT: return SQL_AFF_TEXT;
	case TBL_TY_BOOLEAN: return SQL_AFF_NUMERIC;
	default: return SQL_AFF_BLOB;
	}
}

static int aff_numeric(sql_aff a)
{
	return a >= SQL_AFF_NUMERIC;
}

sql_aff sql_aff_compare(sql_aff left, sql_aff right)
{
	if (left != SQL_AFF_NONE && right != SQL_AFF_NONE) {
		if (aff_numeric(left) || aff_numeric(right))
			return SQL_AFF_NUMERIC;
		return SQL_AFF_BLOB;
	}
	return left != SQL_AFF_NONE ? left : right;
}

/* SQLite's sqlite3RealSameAsInt. */
static int real_same_as_int(double r, int64_t i)
{
	double r2 = (double)i;

	return r == 0.0 || (memcmp(&r, &r2, sizeof(r)) == 0 &&
			    i >= -2251799813685248LL &&
			    i < 2251799813685248LL);
}

/* Text that is entirely a number becomes that number (applyNumericAffinity
 * without the integer preference). */
static void numeric_aff(sql_value *x)
{
	const char *z = sql_value_ptr(x);
	double r;
	int64_t i;
	int rc = sql_atof(z, x->v.n, &r);

	if (rc <= 0)
		return;
	if (rc == 1) {
		i = real_to_int(r);
		if (real_same_as_int(r, i) || sql_atoi64(z, x->v.n, &i) == 0) {
			sql_value_int(x, i);
			return;
		}
	}
	sql_value_real(x, r);
}

void sql_value_apply_aff(sql_value *x, sql_aff aff)
{
	char tmp[SQL_NUM_TEXT];
	size_t n;

	if (aff_numeric(aff)) {
		if (x->v.cls == TBL_TEXT)
			numeric_aff(x);
	} else if (aff == SQL_AFF_TEXT &&
		   (x->v.cls == TBL_INT || x->v.cls == TBL_REAL)) {
		n = x->v.cls == TBL_INT ? sql_render_int(x->v.i, tmp) :
			sql_render_real(x->v.r, tmp);
		sql_value_null(x);
		x->v.cls = TBL_TEXT;
		x->v.n = n;
		x->mem = SQL_MEM_INLINE;
		memcpy(x->buf, tmp, n);
	}
}

/* ---- comparison ------------------------------------------------------------------- */

/* Exact comparison of an integer with a real (no rounding of i). */
static int cmp_int_real(int64_t i, double r)
{
	int64_t t;

	if (r >= 9223372036854775808.0)
		return -1;
	if (r < -9223372036854775808.0)
		return 1;
	t = (int64_t)r;         /* trunc(r), exact */
	if (i != t)
		return i < t ? -1 : 1;
	r -= (double)t;
	return r > 0 ? -1 : r < 0 ? 1 : 0;
}

static int cmp_bytes(const void *a, size_t na, const void *b, size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);

	if (c != 0)
		return c < 0 ? -1 : 1;
	return na < nb ? -1 : na > nb ? 1 : 0;
}

static int class_rank(tbl_class c)
{
	return c == TBL_REAL ? TBL_INT : (int)c;
}

int sql_value_cmp(const sql_value *a, const sql_value *b)
{
	int ra = class_rank(a->v.cls), rb = class_rank(b->v.cls);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	switch (a->v.cls) {
	case TBL_NULL:
		return 0;
	case TBL_INT:
		if (b->v.cls == TBL_INT)
			return a->v.i < b->v.i ? -1 : a->v.i > b->v.i;
		return cmp_int_real(a->v.i, b->v.r);
	case TBL_REAL:
		if (b->v.cls == TBL_INT)
			return -cmp_int_real(b->v.i, a->v.r);
		return a->v.r < b->v.r ? -1 : a->v.r > b->v.r;
	default:
		return cmp_bytes(sql_value_ptr(a), a->v.n, sql_value_ptr(b),
				 b->v.n);
	}
}

/* Would applying aff change x? */
static int aff_changes(const sql_value *x, sql_aff aff)
{
	if (aff_numeric(aff))
		return x->v.cls == TBL_TEXT;
	return aff == SQL_AFF_TEXT &&
		(x->v.cls == TBL_INT || x->v.cls == TBL_REAL);
}

void sql_compare(sql_cmp_op op, const sql_value *a, const sql_value *b,
		 sql_aff aff, sql_value *out)
{
	sql_value x, y;
	int c, r;

	if (a->v.cls == TBL_NULL || b->v.cls == TBL_NULL) {
		if (op == SQL_CMP_IS || op == SQL_CMP_ISNOT) {
			r = a->v.cls == b->v.cls;
			sql_value_int(out, op == SQL_CMP_IS ? r : !r);
		} else {
			sql_value_null(out);
		}
		return;
	}
	/* Converted copies only where the affinity changes an operand (a
	 * copy made with = only reads a heap value, never frees it). */
	if (aff_changes(a, aff)) {
		x = *a;
		sql_value_apply_aff(&x, aff);
		a = &x;
	}
	if (aff_changes(b, aff)) {
		y = *b;
		sql_value_apply_aff(&y, aff);
		b = &y;
	}
	c = sql_value_cmp(a, b);
	switch (op) {
	case SQL_CMP_EQ: case SQL_CMP_IS: r = c == 0; break;
	case SQL_CMP_NE: case SQL_CMP_ISNOT: r = c != 0; break;
	case SQL_CMP_LT: r = c < 0; break;
	case SQL_CMP_LE: r = c <= 0; break;
	case SQL_CMP_GT: r = c > 0; break;
	default: r = c >= 0; break;
	}
	sql_value_int(out, r);
}

void sql_in(const sql_value *x, const sql_value *list, int n, sql_aff aff,
	    sql_value *out)
{
	sql_value eq;
	int i, saw_null = 0;

	if (n == 0) {
		sql_value_int(out, 0);
		return;
	}
	if (x->v.cls == TBL_NULL) {
		sql_value_null(out);
		return;
	}
	for (i = 0; i < n; i++) {
		sql_compare(SQL_CMP_EQ, x, &list[i],
			    aff == SQL_AFF_NONE ? SQL_AFF_BLOB : aff, &eq);
		if (eq.v.cls == TBL_NULL) {
			saw_null = 1;
		} else if (eq.v.i) {
			sql_value_int(out, 1);
			return;
		}
	}
	if (saw_null)
		sql_value_null(out);
	else
		sql_value_int(out, 0);
}
