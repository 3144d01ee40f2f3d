/*
 * func.c -- the built-in scalar SQL functions and the lookup table the
 * binder uses (contract in func.h; design in src/sql/README.md, "Values
 * and functions").  Each function follows SQLite 3.40's func.c rules.
 */
#include "sql/func.h"
#include <assert.h>
#include <math.h>
#include <string.h>
#include "mem.h"

/* ---- helpers ---------------------------------------------------------------- */

/* Result bytes p[0..n): borrowed when they lie inside what src borrowed,
 * else copied. */
static rdb_rc put_bytes(sql_ctx *cx, sql_value *out, tbl_class cls,
			const sql_value *src, const unsigned char *p, size_t n)
{
	const unsigned char *s;

	if (src != NULL && src->mem == SQL_MEM_BORROW) {
		s = src->v.p;
		if (p >= s && p + n <= s + src->v.n) {
			sql_value_borrow(out, cls, p, n);
			return RDB_OK;
		}
	}
	return sql_value_set_bytes(cx, out, cls, p, n);
}

/* A new text/blob of n bytes to fill at *p (inline when small). */
static rdb_rc new_bytes(sql_ctx *cx, sql_value *out, tbl_class cls,
			size_t n, unsigned char **p)
{
	void *mem;

	sql_value_null(out);
	*p = NULL;
	if (n > sql_max_len(cx))
		return rdb_err_set(cx->err, RDB_TOOBIG,
				   "string or blob too big");
	if (n <= SQL_INLINE_MAX) {
		out->v.cls = cls;
		out->v.n = n;
		out->mem = SQL_MEM_INLINE;
		*p = (unsigned char *)out->buf;
		return RDB_OK;
	}
	if ((mem = rdb_malloc(n)) == NULL)
		return rdb_err_set(cx->err, RDB_NOMEM, "out of memory");
	sql_value_take(out, cls, mem, n);
	*p = mem;
	return RDB_OK;
}

static int is_null(const sql_value *x)
{
	return x->v.cls == TBL_NULL;
}

/* Bytes up to the first NUL (C-string view of SQLite's value_text). */
static size_t cstr_len(const unsigned char *p, size_t n)
{
	const void *nul = p != NULL ? memchr(p, 0, n) : NULL;

	return nul != NULL ? (size_t)((const unsigned char *)nul - p) : n;
}

/* SQLITE_SKIP_UTF8 over a NUL-free range. */
static size_t skip_utf8(const unsigned char *p, size_t i, size_t n)
{
	if (p[i++] >= 0xc0)
		while (i < n && (p[i] & 0xc0) == 0x80)
			i++;
	return i;
}

/* ---- NULL handling and choice --------------------------------------------------- */

static rdb_rc f_coalesce(sql_ctx *cx, int argc, const sql_value *argv,
			 sql_value *out)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!is_null(&argv[i]))
			return sql_value_pass(cx, out, &argv[i]);
	sql_value_null(out);
	return RDB_OK;
}

static rdb_rc f_nullif(sql_ctx *cx, int argc, const sql_value *argv,
		       sql_value *out)
{
	(void)argc;
	if (sql_value_cmp(&argv[0], &argv[1]) != 0)
		return sql_value_pass(cx, out, &argv[0]);
	sql_value_null(out);
	return RDB_OK;
}

static rdb_rc f_iif(sql_ctx *cx, int argc, const sql_value *argv,
		    sql_value *out)
{
	(void)argc;
	return sql_value_pass(cx, out, &argv[sql_value_truth(&argv[0]) == 1 ?
					    1 : 2]);
}

static rdb_rc f_likely(sql_ctx *cx, int argc, const sql_value *argv,
		       sql_value *out)
{
	(void)argc;
	return sql_value_pass(cx, out, &argv[0]);
}

/* min(a, b, ...) and max(...): NULL if any argument is; ties go to the
 * later argument for min and the earlier one for max (SQLite). */
static rdb_rc minmax(sql_ctx *cx, int argc, const sql_value *argv,
		     sql_value *out, int max)
{
	int i, best = 0, c;

	for (i = 0; i < argc; i++)
		if (is_null(&argv[i])) {
			sql_value_null(out);
			return RDB_OK;
		}
	for (i = 1; i < argc; i++) {
		c = sql_value_cmp(&argv[best], &argv[i]);
		if (max ? c < 0 : c >= 0)
			best = i;
	}
	return sql_value_pass(cx, out, &argv[best]);
}

static rdb_rc f_min(sql_ctx *cx, int argc, const sql_value *argv,
		    sql_value *out)
{
	return minmax(cx, argc, argv, out, 0);
}

static rdb_rc f_max(sql_ctx *cx, int argc, const sql_value *argv,
		    sql_value *out)
{
	return minmax(cx, argc, argv, out, 1);
}

/* ---- numbers ----------------------------------------------------------------------- */

static rdb_rc f_abs(sql_ctx *cx, int argc, const sql_value *argv,
		    sql_value *out)
{
	double r;

	(void)argc;
	sql_value_null(out);
	switch (argv[0].v.cls) {
	case TBL_NULL:
		return RDB_OK;
	case TBL_INT:
		if (argv[0].v.i == INT64_MIN)
			return rdb_err_set(cx->err, RDB_ERROR,
					   "integer overflow");
		sql_value_int(out, argv[0].v.i < 0 ? -argv[0].v.i :
			      argv[0].v.i);
		return RDB_OK;
	default:
		r = sql_value_to_real(&argv[0]);
		sql_value_real(out, r < 0 ? -r : r);
		return RDB_OK;
	}
}

static rdb_rc f_sign(sql_ctx *cx, int argc, const sql_value *argv,
		     sql_value *out)
{
	sql_value x = argv[0];
	double r;

	(void)cx;
	(void)argc;
	sql_value_null(out);
	if (x.v.cls == TBL_TEXT)
		sql_value_apply_aff(&x, SQL_AFF_NUMERIC);
	if (x.v.cls != TBL_INT && x.v.cls != TBL_REAL)
		return RDB_OK;
	r = sql_value_to_real(&x);
	sql_value_int(out, r < 0.0 ? -1 : r > 0.0 ? 1 : 0);
	return RDB_OK;
}

static rdb_rc f_round(sql_ctx *cx, int argc, const sql_value *argv,
		      sql_value *out)
{
	int32_t n = 0;
	double r;
	sql_value arg[2];
	rdb_rc rc;

	sql_value_null(out);
	if (argc == 2) {
		if (is_null(&argv[1]))
			return RDB_OK;
		n = sql_value_to_int32(&argv[1]);
		n = n > 30 ? 30 : n < 0 ? 0 : n;
	}
	if (is_null(&argv[0]))
		return RDB_OK;
	r = sql_value_to_real(&argv[0]);
	if (r < -4503599627370496.0 || r > 4503599627370496.0) {
		/* no fractional part to round */
	} else if (n == 0) {
		r = (double)(int64_t)(r + (r < 0 ? -0.5 : 0.5));
	} else {
		sql_value_int(&arg[0], n);
		sql_value_real(&arg[1], r);
		cx->scratch.n = 0;
		rc = sql_printf(cx, "%.*f", 4, 2, arg, &cx->scratch, NULL);
		if (rc != RDB_OK)
			return rc;
		(void)sql_atof((const char *)cx->scratch.p, cx->scratch.n, &r);
	}
	sql_value_real(out, r);
	return RDB_OK;
}

static rdb_rc f_random(sql_ctx *cx, int argc, const sql_value *argv,
		       sql_value *out)
{
	int64_t r = (int64_t)sql_ctx_random(cx);

	(void)argc;
	(void)argv;
	/* Never INT64_MIN, so that abs(random()) cannot fail. */
	if (r < 0)
		r = -(r & INT64_MAX);
	sql_value_int(out, r);
	return RDB_OK;
}

/* zeroblob(N) and randomblob(N). */
static rdb_rc blob_of(sql_ctx *cx, const sql_value *arg, sql_value *out,
		      int random)
{
	int64_t n = sql_value_to_int(arg);
	unsigned char *p;
	uint64_t r = 0;
	int64_t i;
	rdb_rc rc;

	sql_value_null(out);
	if (random && n < 1)
		n = 1;
	if (n < 0)
		n = 0;
	if ((uint64_t)n > sql_max_len(cx))
		return rdb_err_set(cx->err, RDB_TOOBIG,
				   "string or blob too big");
	if (!random && n > SQL_INLINE_MAX) {
		/* calloc: large zero blobs cost address space, not work */
		if ((p = rdb_calloc(1, (size_t)n)) == NULL)
			return rdb_err_set(cx->err, RDB_NOMEM,
					   "out of memory");
		sql_value_take(out, TBL_BLOB, p, (size_t)n);
		return RDB_OK;
	}
	if ((rc = new_bytes(cx, out, TBL_BLOB, (size_t)n, &p)) != RDB_OK)
		return rc;
	for (i = 0; i < n; i++) {
		if (random && i % 8 == 0)
			r = sql_ctx_random(cx);
		p[i] = random ? (unsigned char)(r >> (i % 8 * 8)) : 0;
	}
	return RDB_OK;
}

static rdb_rc f_zeroblob(sql_ctx *cx, int argc, const sql_value *argv,
			 sql_value *out)
{
	(void)argc;
	return blob_of(cx, &argv[0], out, 0);
}

static rdb_rc f_randomblob(sql_ctx *cx, int argc, const sql_value *argv,
			   sql_value *out)
{
	(void)argc;
	return blob_of(cx, &argv[0], out, 1);
}

/* ---- types and text --------------------------------------------------------------- */

static rdb_rc f_typeof(sql_ctx *cx, int argc, const sql_value *argv,
		       sql_value *out)
{
	static const char *const names[] = { "null", "integer", "real",
					      "text", "blob" };
	const char *s = names[argv[0].v.cls];

	(void)cx;
	(void)argc;
	sql_value_borrow(out, TBL_TEXT, s, strlen(s));
	return RDB_OK;
}

static rdb_rc f_length(sql_ctx *cx, int argc, const sql_value *argv,
		       sql_value *out)
{
	char tmp[SQL_NUM_TEXT];
	const unsigned char *p;
	size_t n, i, k = 0;

	(void)cx;
	(void)argc;
	sql_value_text(&argv[0], tmp, &p, &n);
	if (p == NULL) {
		sql_value_null(out);
		return RDB_OK;
	}
	if (argv[0].v.cls != TBL_TEXT) {
		sql_value_int(out, (int64_t)n);
		return RDB_OK;
	}
	n = cstr_len(p, n);
	for (i = 0; i < n; k++)
		i = skip_utf8(p, i, n);
	sql_value_int(out, (int64_t)k);
	return RDB_OK;
}

/* lower() and upper(): ASCII only, like SQLite without ICU. */
static rdb_rc change_case(sql_ctx *cx, const sql_value *x, sql_value *out,
			  int upper)
{
	char tmp[SQL_NUM_TEXT];
	const unsigned char *p;
	unsigned char *q;
	size_t n, i;
	rdb_rc rc;

	sql_value_text(x, tmp, &p, &n);
	if (p == NULL) {
		sql_value_null(out);
		return RDB_OK;
	}
	if ((rc = new_bytes(cx, out, TBL_TEXT, n, &q)) != RDB_OK)
		return rc;
	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (upper && c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 32);
		else if (!upper && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 32);
		q[i] = c;
	}
	return RDB_OK;
}

static rdb_rc f_lower(sql_ctx *cx, int argc, const sql_value *argv,
		      sql_value *out)
{
	(void)argc;
	return change_case(cx, &argv[0], out, 0);
}

static rdb_rc f_upper(sql_ctx *cx, int argc, const sql_value *argv,
		      sql_value *out)
{
	(void)argc;
	return change_case(cx, &argv[0], out, 1);
}

/* SQLite's substr start/length arithmetic; p1 and p2 in characters (or
 * bytes for blobs), len only needed when p1 < 0. */
static void substr_range(int64_t *p1, int64_t *p2, int64_t len, int neg2)
{
	if (*p1 < 0) {
		*p1 += len;
		if (*p1 < 0) {
			*p2 += *p1;
			if (*p2 < 0)
				*p2 = 0;
			*p1 = 0;
		}
	} else if (*p1 > 0) {
		(*p1)--;
	} else if (*p2 > 0) {
		(*p2)--;
	}
	if (neg2) {
		*p1 -= *p2;
		if (*p1 < 0) {
			*p2 += *p1;
			*p1 = 0;
		}
	}
}

static rdb_rc f_substr(sql_ctx *cx, int argc, const sql_value *argv,
		       sql_value *out)
{
	char tmp[SQL_NUM_TEXT];
	const unsigned char *p;
	size_t n, i, j;
	int64_t p1, p2, len = 0;
	int neg2 = 0;

	sql_value_null(out);
	if (is_null(&argv[1]) || (argc == 3 && is_null(&argv[2])))
		return RDB_OK;
	sql_value_text(&argv[0], tmp, &p, &n);
	if (p == NULL)
		return RDB_OK;
	p1 = sql_value_to_int32(&argv[1]);
	if (argv[0].v.cls != TBL_BLOB) {
		n = cstr_len(p, n);
		if (p1 < 0)
			for (i = 0; i < n; len++)
				i = skip_utf8(p, i, n);
	} else {
		/* SQLite reads an empty blob as a NULL pointer: NULL */
		if (n == 0)
			return RDB_OK;
		len = (int64_t)n;
	}
	p2 = argc == 3 ? sql_value_to_int32(&argv[2]) : SQL_MAX_LENGTH;
	if (p2 < 0) {
		p2 = -p2;
		neg2 = 1;
	}
	substr_range(&p1, &p2, len, neg2);
	if (argv[0].v.cls == TBL_BLOB) {
		if (p1 + p2 > len)
			p2 = len - p1 < 0 ? 0 : len - p1;
		if (p1 > len)
			p1 = len;
		return put_bytes(cx, out, TBL_BLOB, &argv[0], p + p1,
				 (size_t)p2);
	}
	for (i = 0; i < n && p1 > 0; p1--)
		i = skip_utf8(p, i, n);
	for (j = i; j < n && p2 > 0; p2--)
		j = skip_utf8(p, j, n);
	return put_bytes(cx, out, TBL_TEXT, &argv[0], p + i, j - i);
}

/* trim(X [, Y]), ltrim, rtrim: flags 1 = left, 2 = right. */
static rdb_rc trim(sql_ctx *cx, int argc, const sql_value *argv,
		   sql_value *out, int flags)
{
	char tmp[SQL_NUM_TEXT], tmp2[SQL_NUM_TEXT];
	const unsigned char *p, *set = (const unsigned char *)" ";
	size_t n, nset = 1, i, len;

	sql_value_null(out);
	sql_value_text(&argv[0], tmp, &p, &n);
	if (p == NULL)
		return RDB_OK;
	if (argc == 2) {
		sql_value_text(&argv[1], tmp2, &set, &nset);
		if (set == NULL)
			return RDB_OK;
		nset = cstr_len(set, nset);
	}
	/* Characters of the set are tried in order; the first that fits
	 * at the edge is removed. */
	while ((flags & 1) && n > 0) {
		for (i = 0; i < nset; i += len) {
			len = skip_utf8(set, i, nset) - i;
			if (len <= n && memcmp(p, set + i, len) == 0)
				break;
		}
		if (i >= nset)
			break;
		p += len;
		n -= len;
	}
	while ((flags & 2) && n > 0) {
		for (i = 0; i < nset; i += len) {
			len = skip_utf8(set, i, nset) - i;
			if (len <= n && memcmp(p + n - len, set + i, len) == 0)
				break;
		}
		if (i >= nset)
			break;
		n -= len;
	}
	return put_bytes(cx, out, TBL_TEXT, &argv[0], p, n);
}

static rdb_rc f_trim(sql_ctx *cx, int argc, const sql_value *argv,
		     sql_value *out)
{
	return trim(cx, argc, argv, out, 3);
}

static rdb_rc f_ltrim(sql_ctx *cx, int argc, const sql_value *argv,
		      sql_value *out)
{
	return trim(cx, argc, argv, out, 1);
}

static rdb_rc f_rtrim(sql_ctx *cx, int argc, const sql_value *argv,
		      sql_value *out)
{
	return trim(cx, argc, argv, out, 2);
}

static rdb_rc f_replace(sql_ctx *cx, int argc, const sql_value *argv,
			sql_value *out)
{
	char t0[SQL_NUM_TEXT], t1[SQL_NUM_TEXT], t2[SQL_NUM_TEXT];
	const unsigned char *s, *pat, *rep;
	size_t ns, np, nr, i, j, hits = 0;
	unsigned char *q;
	rdb_rc rc;

	(void)argc;
	sql_value_null(out);
	sql_value_text(&argv[0], t0, &s, &ns);
	sql_value_text(&argv[1], t1, &pat, &np);
	if (s == NULL || pat == NULL)
		return RDB_OK;
	if (np == 0 || pat[0] == 0) {
		/* X itself; SQLite has read a blob X as text by now, which
		 * makes it text. */
		rc = sql_value_pass(cx, out, &argv[0]);
		if (out->v.cls == TBL_BLOB)
			out->v.cls = TBL_TEXT;
		return rc;
	}
	sql_value_text(&argv[2], t2, &rep, &nr);
	if (rep == NULL)
		return RDB_OK;
	for (i = 0; i + np <= ns; i++)
		if (memcmp(s + i, pat, np) == 0) {
			hits++;
			i += np - 1;
		}
	if (hits > 0 && nr > np && (ns > sql_max_len(cx) ||
				    (nr - np) > (sql_max_len(cx) - ns) / hits))
		return rdb_err_set(cx->err, RDB_TOOBIG,
				   "string or blob too big");
	if ((rc = new_bytes(cx, out, TBL_TEXT, ns - hits * np + hits * nr,
			    &q)) != RDB_OK)
		return rc;
	for (i = j = 0; i < ns;) {
		if (i + np <= ns && memcmp(s + i, pat, np) == 0) {
			if (nr > 0)
				memcpy(q + j, rep, nr);
			j += nr;
			i += np;
		} else {
			q[j++] = s[i++];
		}
	}
	return RDB_OK;
}

static rdb_rc f_instr(sql_ctx *cx, int argc, const sql_value *argv,
		      sql_value *out)
{
	char t0[SQL_NUM_TEXT], t1[SQL_NUM_TEXT];
	const unsigned char *h, *nd;
	size_t nh, nn;
	int64_t k = 1;
	int text;

	(void)cx;
	(void)argc;
	sql_value_null(out);
	if (is_null(&argv[0]) || is_null(&argv[1]))
		return RDB_OK;
	sql_value_text(&argv[0], t0, &h, &nh);
	sql_value_text(&argv[1], t1, &nd, &nn);
	text = !(argv[0].v.cls == TBL_BLOB && argv[1].v.cls == TBL_BLOB);
	if (nn > 0) {
		while (nn <= nh && (h[0] != nd[0] || memcmp(h, nd, nn) != 0)) {
			k++;
			do {
				nh--;
				h++;
			} while (text && nh > 0 && (h[0] & 0xc0) == 0x80);
		}
		if (nn > nh)
			k = 0;
	}
	sql_value_int(out, k);
	return RDB_OK;
}

static rdb_rc f_hex(sql_ctx *cx, int argc, const sql_value *argv,
		    sql_value *out)
{
	static const char hexd[] = "0123456789ABCDEF";
	char tmp[SQL_NUM_TEXT];
	const unsigned char *p;
	unsigned char *q;
	size_t n, i;
	rdb_rc rc;

	(void)argc;
	sql_value_text(&argv[0], tmp, &p, &n);
	if (n > sql_max_len(cx) / 2)
		return rdb_err_set(cx->err, RDB_TOOBIG,
				   "string or blob too big");
	if ((rc = new_bytes(cx, out, TBL_TEXT, 2 * n, &q)) != RDB_OK)
		return rc;
	for (i = 0; i < n; i++) {
		q[2 * i] = (unsigned char)hexd[p[i] >> 4];
		q[2 * i + 1] = (unsigned char)hexd[p[i] & 15];
	}
	return RDB_OK;
}

/* Append the SQL literal for x to b. */
static rdb_rc quote_into(sql_ctx *cx, const sql_value *x, rdb_buf *b)
{
	char tmp[SQL_NUM_TEXT];
	const unsigned char *p;
	size_t n;
	double r2;
	rdb_rc rc;

	switch (x->v.cls) {
	case TBL_NULL:
		return rdb_buf_puts(b, "NULL");
	case TBL_INT:
		n = sql_render_int(x->v.i, tmp);
		return rdb_buf_append(b, tmp, n);
	case TBL_REAL:
		n = sql_render_real(x->v.r, tmp);
		(void)sql_atof(tmp, n, &r2);
		if (r2 == x->v.r)
			return rdb_buf_append(b, tmp, n);
		return sql_printf(cx, "%!.20e", 6, 1, x, b, NULL);
	case TBL_TEXT:
		return sql_printf(cx, "%Q", 2, 1, x, b, NULL);
	default:
		sql_value_text(x, tmp, &p, &n);
		rc = rdb_buf_puts(b, "X'");
		while (rc == RDB_OK && n-- > 0) {
			rc = rdb_buf_putc(b, (unsigned char)
					  "0123456789ABCDEF"[*p >> 4]);
			if (rc == RDB_OK)
				rc = rdb_buf_putc(b, (unsigned char)
						  "0123456789ABCDEF"[*p & 15]);
			p++;
		}
		return rc == RDB_OK ? rdb_buf_putc(b, '\'') : rc;
	}
}

static rdb_rc f_quote(sql_ctx *cx, int argc, const sql_value *argv,
		      sql_value *out)
{
	rdb_rc rc;

	(void)argc;
	sql_value_null(out);
	cx->scratch.n = 0;
	rc = quote_into(cx, &argv[0], &cx->scratch);
	if (rc == RDB_NOMEM)
		return rdb_err_set(cx->err, RDB_NOMEM, "out of memory");
	if (rc != RDB_OK)
		return rc;
	return sql_value_set_bytes(cx, out, TBL_TEXT, cx->scratch.p,
				   cx->scratch.n);
}

static rdb_rc f_printf(sql_ctx *cx, int argc, const sql_value *argv,
		       sql_value *out)
{
	char tmp[SQL_NUM_TEXT];
	const unsigned char *f;
	size_t n;
	int wrote;
	rdb_rc rc;

	sql_value_null(out);
	if (argc < 1)
		return RDB_OK;
	sql_value_text(&argv[0], tmp, &f, &n);
	if (f == NULL)
		return RDB_OK;
	cx->scratch.n = 0;
	rc = sql_printf(cx, (const char *)f, n, argc - 1, argv + 1,
			&cx->scratch, &wrote);
	/* SQLite's printf() is NULL when its text would be too long, and
	 * when nothing at all was written. */
	if (rc == RDB_TOOBIG) {
		rdb_err_clear(cx->err);
		return RDB_OK;
	}
	if (rc != RDB_OK || !wrote)
		return rc;
	return sql_value_set_bytes(cx, out, TBL_TEXT, cx->scratch.p,
				   cx->scratch.n);
}

/* UTF-8 encoding of code point c (SQLite's WRITE_UTF8); returns bytes. */
static size_t put_utf8(unsigned char *q, uint32_t c)
{
	if (c < 0x80) {
		q[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		q[0] = (unsigned char)(0xC0 + (c >> 6));
		q[1] = (unsigned char)(0x80 + (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		q[0] = (unsigned char)(0xE0 + (c >> 12));
		q[1] = (unsigned char)(0x80 + ((c >> 6) & 0x3F));
		q[2] = (unsigned char)(0x80 + (c & 0x3F));
		return 3;
	}
	q[0] = (unsigned char)(0xF0 + (c >> 18));
	q[1] = (unsigned char)(0x80 + ((c >> 12) & 0x3F));
	q[2] = (unsigned char)(0x80 + ((c >> 6) & 0x3F));
	q[3] = (unsigned char)(0x80 + (c & 0x3F));
	return 4;
}

static rdb_rc f_char(sql_ctx *cx, int argc, const sql_value *argv,
		     sql_value *out)
{
	unsigned char small[4 * 16], *buf = small, *q;
	size_t n = 0;
	int64_t c;
	int i;
	rdb_rc rc;

	if ((size_t)argc > sizeof(small) / 4 &&
	    (buf = rdb_malloc((size_t)argc * 4)) == NULL)
		return rdb_err_set(cx->err, RDB_NOMEM, "out of memory");
	for (i = 0; i < argc; i++) {
		c = sql_value_to_int(&argv[i]);
		if (c < 0 || c > 0x10ffff)
			c = 0xfffd;
		n += put_utf8(buf + n, (uint32_t)c);
	}
	rc = new_bytes(cx, out, TBL_TEXT, n, &q);
	if (rc == RDB_OK && n > 0)
		memcpy(q, buf, n);
	if (buf != small)
		rdb_free(buf);
	return rc;
}

static rdb_rc f_unicode(sql_ctx *cx, int argc, const sql_value *argv,
			sql_value *out)
{
	char tmp[SQL_NUM_TEXT];
	const unsigned char *p;
	size_t n, i = 1;
	uint32_t c;

	(void)cx;
	(void)argc;
	sql_value_null(out);
	sql_value_text(&argv[0], tmp, &p, &n);
	if (p == NULL || n == 0 || p[0] == 0)
		return RDB_OK;
	c = p[0];
	if (c >= 0xc0) {
		static const unsigned char lead[] = {
			0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
			16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
			29, 30, 31, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
			13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 0, 1,
			0, 0,
		};
		c = lead[c - 0xc0];
		while (i < n && (p[i] & 0xc0) == 0x80)
			c = (c << 6) + (0x3f & p[i++]);
		if (c < 0x80 || (c & 0xFFFFF800) == 0xD800 ||
		    (c & 0xFFFFFFFE) == 0xFFFE)
			c = 0xFFFD;
	}
	/* SQLite hands its u32 to sqlite3_result_int(): an overlong run of
	 * continuation bytes that overflows 31 bits comes out negative. */
	sql_value_int(out, c > INT32_MAX ? (int64_t)c - 4294967296LL
					 : (int64_t)c);
	return RDB_OK;
}

static rdb_rc f_like(sql_ctx *cx, int argc, const sql_value *argv,
		     sql_value *out)
{
	return sql_like(cx, &argv[1], &argv[0], argc == 3 ? &argv[2] : NULL,
			out);
}

static rdb_rc f_glob(sql_ctx *cx, int argc, const sql_value *argv,
		     sql_value *out)
{
	(void)argc;
	return sql_glob(cx, &argv[1], &argv[0], out);
}

/* ---- math functions (SQLite's SQLITE_ENABLE_MATH_FUNCTIONS set) ------------ */

/* The number x reads as for the math functions (sqlite3_value_numeric_
 * type): integers and reals, and text that is entirely a number. */
static int math_arg(const sql_value *x, sql_value *num)
{
	*num = *x;
	if (num->v.cls == TBL_TEXT)
		sql_value_apply_aff(num, SQL_AFF_NUMERIC);
	return num->v.cls == TBL_INT || num->v.cls == TBL_REAL;
}

typedef double (*math1_fn)(double);

static double deg2rad(double x) { return x * (M_PI / 180.0); }
static double rad2deg(double x) { return x * (180.0 / M_PI); }

static const struct {
	const char *name;
	math1_fn fn;
} math1[] = {
	{ "acos", acos }, { "acosh", acosh }, { "asin", asin },
	{ "asinh", asinh }, { "atan", atan }, { "atanh", atanh },
	{ "cos", cos }, { "cosh", cosh }, { "degrees", rad2deg },
	{ "exp", exp }, { "radians", deg2rad }, { "sin", sin },
	{ "sinh", sinh }, { "sqrt", sqrt }, { "tan", tan }, { "tanh", tanh },
	{ "ceil", ceil }, { "ceiling", ceil }, { "floor", floor },
	{ "trunc", trunc },
};

/* The body of the one-argument math functions; k indexes math1[] (the
 * wrappers below fix it).  NULL unless the argument reads as a number;
 * a NaN result (sqrt(-1)) is NULL too. */
static rdb_rc math1_call(sql_ctx *cx, int k, const sql_value *arg,
			 sql_value *out)
{
	sql_value x;

	sql_value_null(out);
	if (!math_arg(arg, &x))
		return RDB_OK;
	/* ceil, floor and trunc give an integer argument back as it is */
	if (k >= 16 && x.v.cls == TBL_INT)
		return sql_value_pass(cx, out, &x);
	sql_value_real(out, math1[k].fn(sql_value_to_real(&x)));
	return RDB_OK;
}

#define MATH1(k, f) \
	static rdb_rc f(sql_ctx *cx, int argc, const sql_value *argv, \
			sql_value *out) \
	{ \
		(void)argc; \
		return math1_call(cx, k, argv, out); \
	}
MATH1(0, f_acos) MATH1(1, f_acosh) MATH1(2, f_asin) MATH1(3, f_asinh)
MATH1(4, f_atan) MATH1(5, f_atanh) MATH1(6, f_cos) MATH1(7, f_cosh)
MATH1(8, f_degrees) MATH1(9, f_exp) MATH1(10, f_radians) MATH1(11, f_sin)
MATH1(12, f_sinh) MATH1(13, f_sqrt) MATH1(14, f_tan) MATH1(15, f_tanh)
MATH1(16, f_ceil) MATH1(18, f_floor) MATH1(19, f_trunc)
#undef MATH1

/* atan2(Y, X), pow(X, Y), mod(X, Y): NULL unless both are numbers. */
static rdb_rc math2(const sql_value *argv, sql_value *out,
		    double (*fn)(double, double))
{
	sql_value x, y;

	sql_value_null(out);
	if (!math_arg(&argv[0], &x) || !math_arg(&argv[1], &y))
		return RDB_OK;
	sql_value_real(out, fn(sql_value_to_real(&x), sql_value_to_real(&y)));
	return RDB_OK;
}

static rdb_rc f_atan2(sql_ctx *cx, int argc, const sql_value *argv,
		      sql_value *out)
{
	(void)cx;
	(void)argc;
	return math2(argv, out, atan2);
}

static rdb_rc f_pow(sql_ctx *cx, int argc, const sql_value *argv,
		    sql_value *out)
{
	(void)cx;
	(void)argc;
	return math2(argv, out, pow);
}

static rdb_rc f_mod(sql_ctx *cx, int argc, const sql_value *argv,
		    sql_value *out)
{
	(void)cx;
	(void)argc;
	return math2(argv, out, fmod);
}

static rdb_rc f_pi(sql_ctx *cx, int argc, const sql_value *argv,
		   sql_value *out)
{
	(void)cx;
	(void)argc;
	(void)argv;
	sql_value_real(out, M_PI);
	return RDB_OK;
}

/* ln(X), log10(X), log2(X), log(X) = log10(X), log(B, X).  As in SQLite,
 * log(B, X) checks B twice and X's sign but not that X is a number, and
 * the one-argument forms divide the natural logarithm (by 1, ln 10 or
 * ln 2). */
static rdb_rc logs(const sql_value *argv, int argc, sql_value *out,
		   double base)
{
	sql_value x;
	double v, b;

	sql_value_null(out);
	if (!math_arg(&argv[0], &x) || (v = sql_value_to_real(&x)) <= 0.0)
		return RDB_OK;
	if (argc == 1) {
		sql_value_real(out, base == 1.0 ? log(v) : log(v) / base);
		return RDB_OK;
	}
	b = log(v);
	if (b <= 0.0)
		return RDB_OK;
	v = sql_value_to_real(&argv[1]);
	if (v <= 0.0)
		return RDB_OK;
	sql_value_real(out, log(v) / b);
	return RDB_OK;
}

static rdb_rc f_ln(sql_ctx *cx, int argc, const sql_value *argv,
		   sql_value *out)
{
	(void)cx;
	return logs(argv, argc, out, 1.0);
}

static rdb_rc f_log10(sql_ctx *cx, int argc, const sql_value *argv,
		      sql_value *out)
{
	(void)cx;
	return logs(argv, argc, out, M_LN10);
}

static rdb_rc f_log2(sql_ctx *cx, int argc, const sql_value *argv,
		     sql_value *out)
{
	(void)cx;
	return logs(argv, argc, out, M_LN2);
}

/* ---- the table ---------------------------------------------------------------------- */

#define D SQL_FUNC_DETERMINISTIC

static const sql_func funcs[] = {
	{ "abs", 1, 1, D, SQL_AGG_NONE, f_abs },
	{ "acos", 1, 1, D, SQL_AGG_NONE, f_acos },
	{ "acosh", 1, 1, D, SQL_AGG_NONE, f_acosh },
	{ "asin", 1, 1, D, SQL_AGG_NONE, f_asin },
	{ "asinh", 1, 1, D, SQL_AGG_NONE, f_asinh },
	{ "atan", 1, 1, D, SQL_AGG_NONE, f_atan },
	{ "atan2", 2, 2, D, SQL_AGG_NONE, f_atan2 },
	{ "atanh", 1, 1, D, SQL_AGG_NONE, f_atanh },
	{ "avg", 1, 1, D, SQL_AGG_AVG, NULL },
	{ "ceil", 1, 1, D, SQL_AGG_NONE, f_ceil },
	{ "ceiling", 1, 1, D, SQL_AGG_NONE, f_ceil },
	{ "char", 0, -1, D, SQL_AGG_NONE, f_char },
	{ "coalesce", 2, -1, D, SQL_AGG_NONE, f_coalesce },
	{ "cos", 1, 1, D, SQL_AGG_NONE, f_cos },
	{ "cosh", 1, 1, D, SQL_AGG_NONE, f_cosh },
	{ "count", 0, 1, D, SQL_AGG_COUNT, NULL },
	{ "degrees", 1, 1, D, SQL_AGG_NONE, f_degrees },
	{ "exp", 1, 1, D, SQL_AGG_NONE, f_exp },
	{ "floor", 1, 1, D, SQL_AGG_NONE, f_floor },
	{ "format", 0, -1, D, SQL_AGG_NONE, f_printf },
	{ "glob", 2, 2, D, SQL_AGG_NONE, f_glob },
	{ "group_concat", 1, 2, D, SQL_AGG_GROUP_CONCAT, NULL },
	{ "hex", 1, 1, D, SQL_AGG_NONE, f_hex },
	{ "ifnull", 2, 2, D, SQL_AGG_NONE, f_coalesce },
	{ "iif", 3, 3, D, SQL_AGG_NONE, f_iif },
	{ "instr", 2, 2, D, SQL_AGG_NONE, f_instr },
	{ "length", 1, 1, D, SQL_AGG_NONE, f_length },
	{ "like", 2, 3, D, SQL_AGG_NONE, f_like },
	{ "likely", 1, 1, D, SQL_AGG_NONE, f_likely },
	{ "ln", 1, 1, D, SQL_AGG_NONE, f_ln },
	{ "log", 1, 2, D, SQL_AGG_NONE, f_log10 },
	{ "log10", 1, 1, D, SQL_AGG_NONE, f_log10 },
	{ "log2", 1, 1, D, SQL_AGG_NONE, f_log2 },
	{ "lower", 1, 1, D, SQL_AGG_NONE, f_lower },
	{ "ltrim", 1, 2, D, SQL_AGG_NONE, f_ltrim },
	{ "max", 1, 1, D, SQL_AGG_MAX, NULL },
	{ "max", 2, -1, D, SQL_AGG_NONE, f_max },
	{ "min", 1, 1, D, SQL_AGG_MIN, NULL },
	{ "min", 2, -1, D, SQL_AGG_NONE, f_min },
	{ "mod", 2, 2, D, SQL_AGG_NONE, f_mod },
	{ "nullif", 2, 2, D, SQL_AGG_NONE, f_nullif },
	{ "pi", 0, 0, D, SQL_AGG_NONE, f_pi },
	{ "pow", 2, 2, D, SQL_AGG_NONE, f_pow },
	{ "power", 2, 2, D, SQL_AGG_NONE, f_pow },
	{ "printf", 0, -1, D, SQL_AGG_NONE, f_printf },
	{ "quote", 1, 1, D, SQL_AGG_NONE, f_quote },
	{ "radians", 1, 1, D, SQL_AGG_NONE, f_radians },
	{ "random", 0, 0, 0, SQL_AGG_NONE, f_random },
	{ "randomblob", 1, 1, 0, SQL_AGG_NONE, f_randomblob },
	{ "replace", 3, 3, D, SQL_AGG_NONE, f_replace },
	{ "round", 1, 2, D, SQL_AGG_NONE, f_round },
	{ "rtrim", 1, 2, D, SQL_AGG_NONE, f_rtrim },
	{ "sign", 1, 1, D, SQL_AGG_NONE, f_sign },
	{ "sin", 1, 1, D, SQL_AGG_NONE, f_sin },
	{ "sinh", 1, 1, D, SQL_AGG_NONE, f_sinh },
	{ "sqrt", 1, 1, D, SQL_AGG_NONE, f_sqrt },
	{ "substr", 2, 3, D, SQL_AGG_NONE, f_substr },
	{ "substring", 2, 3, D, SQL_AGG_NONE, f_substr },
	{ "sum", 1, 1, D, SQL_AGG_SUM, NULL },
	{ "tan", 1, 1, D, SQL_AGG_NONE, f_tan },
	{ "tanh", 1, 1, D, SQL_AGG_NONE, f_tanh },
	{ "total", 1, 1, D, SQL_AGG_TOTAL, NULL },
	{ "trim", 1, 2, D, SQL_AGG_NONE, f_trim },
	{ "trunc", 1, 1, D, SQL_AGG_NONE, f_trunc },
	{ "typeof", 1, 1, D, SQL_AGG_NONE, f_typeof },
	{ "unicode", 1, 1, D, SQL_AGG_NONE, f_unicode },
	{ "unlikely", 1, 1, D, SQL_AGG_NONE, f_likely },
	{ "upper", 1, 1, D, SQL_AGG_NONE, f_upper },
	{ "zeroblob", 1, 1, D, SQL_AGG_NONE, f_zeroblob },
};

static int name_is(const char *name, size_t n, const char *lower)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = name[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (c != lower[i] || lower[i] == '\0')
			return 0;
	}
	return lower[n] == '\0';
}

rdb_rc sql_func_find(const char *name, size_t n, int argc, rdb_err *err,
		     const sql_func **out)
{
	size_t i;
	int known = 0;

	*out = NULL;
	for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		if (!name_is(name, n, funcs[i].name))
			continue;
		known = 1;
		if (argc >= funcs[i].min_args &&
		    (funcs[i].max_args < 0 || argc <= funcs[i].max_args)) {
			*out = &funcs[i];
			return RDB_OK;
		}
	}
	if (known)
		return rdb_err_set(err, RDB_ERROR, "wrong number of arguments "
				   "to function %.*s()", (int)n, name);
	return rdb_err_set(err, RDB_ERROR, "no such function: %.*s", (int)n,
			   name);
}
