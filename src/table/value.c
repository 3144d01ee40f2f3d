/*
 * value.c -- comparing values, declared type names, and the assignment
 * of a value to a typed column (SQLite's STRICT rules).  Design:
 * src/table/README.md ("Values and encodings"); user-visible rules:
 * docs/sql.md ("Types and conversions").
 */
#include "table/table.h"
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include "num.h"
#include "table/tbl_int.h"

/* ---- comparing ------------------------------------------------------------ */

/* -1, 0, 1 for i <=> r, exactly (SQLite's sqlite3IntFloatCompare). */
static int int_real_cmp(int64_t i, double r)
{
	int64_t y;
	double s;

	if (r < -9223372036854775808.0)
		return 1;
	if (r >= 9223372036854775808.0)
		return -1;
	y = (int64_t)r;               /* truncates; |r| < 2^63 */
	if (i != y)
		return i < y ? -1 : 1;
	/* i = trunc(r): |i| < 2^53 unless r is integral, so s is exact. */
	s = (double)i;
	return s < r ? -1 : s > r;
}

static int bytes_cmp(const tbl_value *a, const tbl_value *b)
{
	size_t n = a->n < b->n ? a->n : b->n;
	int c = n ? memcmp(a->p, b->p, n) : 0;

	if (c != 0)
		return c < 0 ? -1 : 1;
	return a->n < b->n ? -1 : a->n > b->n;
}

/* NULL < numbers < text < blob: the rank of a class. */
static int class_rank(tbl_class c)
{
	return c == TBL_REAL ? TBL_INT : (int)c;
}

int tbl_value_cmp(const tbl_value *a, const tbl_value *b)
{
	int ra = class_rank(a->cls), rb = class_rank(b->cls);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	switch (a->cls) {
	case TBL_NULL:
		return 0;
	case TBL_INT:
		if (b->cls == TBL_INT)
			return a->i < b->i ? -1 : a->i > b->i;
		return int_real_cmp(a->i, b->r);
	case TBL_REAL:
		if (b->cls == TBL_INT)
			return -int_real_cmp(b->i, a->r);
		return a->r < b->r ? -1 : a->r > b->r;
	case TBL_TEXT:
	case TBL_BLOB:
		return bytes_cmp(a, b);
	}
	assert(!"bad value class");
	return 0;
}

/* SQLite's rule for a real entering an INTEGER column: integral and
 * strictly between -2^63 and 2^63 (sqlite3VdbeIntegerAffinity also
 * refuses -2^63 itself). */
int tbl_real_to_int(double r, int64_t *out)
{
	if (!(r > -9223372036854775808.0 && r < 9223372036854775808.0))
		return 0;
	if ((double)(int64_t)r != r)
		return 0;
	*out = (int64_t)r;
	return *out != INT64_MIN;
}

/* ---- declared types ------------------------------------------------------- */

static const struct type_name {
	const char *name;         /* upper case, words separated by one space */
	tbl_type type;
	int sized;                /* the (n) of VARCHAR(n) is allowed */
} type_names[] = {
	{ "INTEGER", TBL_TY_INTEGER, 0 },
	{ "INT", TBL_TY_INTEGER, 0 },
	{ "BIGINT", TBL_TY_INTEGER, 0 },
	{ "SMALLINT", TBL_TY_INTEGER, 0 },
	{ "TINYINT", TBL_TY_INTEGER, 0 },
	{ "REAL", TBL_TY_REAL, 0 },
	{ "FLOAT", TBL_TY_REAL, 0 },
	{ "DOUBLE", TBL_TY_REAL, 0 },
	{ "DOUBLE PRECISION", TBL_TY_REAL, 0 },
	{ "TEXT", TBL_TY_TEXT, 0 },
	{ "VARCHAR", TBL_TY_TEXT, 1 },
	{ "CHAR", TBL_TY_TEXT, 1 },
	{ "CHARACTER", TBL_TY_TEXT, 1 },
	{ "CHARACTER VARYING", TBL_TY_TEXT, 1 },
	{ "NCHAR", TBL_TY_TEXT, 1 },
	{ "NVARCHAR", TBL_TY_TEXT, 1 },
	{ "BLOB", TBL_TY_BLOB, 0 },
	{ "BOOLEAN", TBL_TY_BOOLEAN, 0 },
	{ "BOOL", TBL_TY_BOOLEAN, 0 },
	{ "ANY", TBL_TY_ANY, 0 },
};
#define N_TYPE_NAMES (sizeof(type_names) / sizeof(type_names[0]))
#define TBL_MAXLEN_LIMIT 1000000000u   /* SQLite's default length limit */

static int is_space(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Normalize the words of decl into w (upper case, single spaces) and
 * parse an optional "(n)" after them.  0 on a syntax error. */
static int split_decl(const char *decl, char *w, size_t wcap, int *sized,
		      uint64_t *n)
{
	const char *s = decl;
	size_t k = 0;

	*sized = 0;
	*n = 0;
	while (is_space(*s))
		s++;
	while (is_alpha(*s)) {
		if (k > 0)
			w[k++] = ' ';
		for (; is_alpha(*s); s++) {
			if (k + 2 >= wcap)
				return 0;      /* longer than any type name */
			w[k++] = (char)(*s >= 'a' ? *s - 'a' + 'A' : *s);
		}
		while (is_space(*s))
			s++;
	}
	if (k == 0)
		return 0;
	w[k] = '\0';
	if (*s == '(') {
		for (s++; is_space(*s); s++)
			;
		if (!is_digit(*s))
			return 0;
		for (; is_digit(*s); s++)
			*n = *n > TBL_MAXLEN_LIMIT ? *n : *n * 10 + (uint64_t)(*s - '0');
		for (; is_space(*s); s++)
			;
		if (*s++ != ')')
			return 0;
		*sized = 1;
		while (is_space(*s))
			s++;
	}
	return *s == '\0';
}

rdb_rc tbl_type_parse(const char *decl, tbl_type *type, uint32_t *maxlen,
		      rdb_err *err)
{
	char w[32];
	uint64_t n;
	int sized;
	size_t i;

	assert(decl != NULL && type != NULL && maxlen != NULL);
	*type = 0;
	*maxlen = 0;
	if (split_decl(decl, w, sizeof(w), &sized, &n)) {
		for (i = 0; i < N_TYPE_NAMES; i++)
			if (strcmp(w, type_names[i].name) == 0)
				break;
		if (i < N_TYPE_NAMES && (!sized || type_names[i].sized)) {
			if (sized && (n == 0 || n > TBL_MAXLEN_LIMIT))
				return rdb_err_set(err, RDB_ERROR,
					"bad length in type '%.64s' (1 to %u)",
					decl, TBL_MAXLEN_LIMIT);
			*type = type_names[i].type;
			*maxlen = (uint32_t)n;
			return RDB_OK;
		}
	}
	return rdb_err_set(err, RDB_ERROR, "unknown type name '%.64s'", decl);
}

const char *tbl_type_name(tbl_type type)
{
	switch (type) {
	case TBL_TY_INTEGER: return "INTEGER";
	case TBL_TY_REAL: return "REAL";
	case TBL_TY_TEXT: return "TEXT";
	case TBL_TY_BLOB: return "BLOB";
	case TBL_TY_BOOLEAN: return "BOOLEAN";
	case TBL_TY_ANY: return "ANY";
	}
	return "?";
}

/* ---- numbers as text -------------------------------------------------------- */

/* Both directions follow SQLite's rules through the shared num.h, so a
 * column stores what CAST would give (docs/sql.md, "Types and
 * conversions"). */
_Static_assert(TBL_SCRATCH >= NUM_TEXT, "scratch holds a rendered number");

static size_t render_int(int64_t i, char *out)
{
	return num_render_int(i, out);
}

static size_t render_real(double r, char *out)
{
	return num_render_real(r, out);
}

/* Numeric text as SQLite's sqlite3AtoF sees it: optional white space, a
 * sign, digits with at most one '.', an optional exponent, white space,
 * and nothing else.  Hex, "inf" and "nan" are not numbers. */
typedef struct numtext {
	int fits;                 /* a whole integer in int64's range: i */
	int64_t i;
	double r;                 /* the value as sqlite3AtoF computes it */
} numtext;

/* Parse numeric text; 0 if it is not a number. */
static int parse_number(const void *p, size_t n, numtext *nt)
{
	int kind = num_atof(p, n, &nt->r);

	if (kind <= 0)
		return 0;
	nt->fits = kind == 1 && num_atoi64(p, n, &nt->i) == 0;
	return 1;
}

/* ---- assignment ------------------------------------------------------------- */

static const char *class_name(tbl_class c)
{
	static const char *const names[] = { "NULL", "INT", "REAL", "TEXT",
					      "BLOB" };
	return names[c];
}

/* The value for an error message: numbers as SQLite prints them, text
 * quoted (control bytes as '?', cut after 40 bytes), blobs as X'..'. */
static void show_value(const tbl_value *v, char *out, size_t cap)
{
	const unsigned char *p = v->p;
	size_t i, k = 0, lim;

	assert(cap >= 64);
	switch (v->cls) {
	case TBL_NULL: snprintf(out, cap, "NULL"); return;
	case TBL_INT: render_int(v->i, out); return;
	case TBL_REAL: render_real(v->r, out); return;
	case TBL_TEXT:
		lim = v->n > 40 ? 40 : v->n;
		while (lim < v->n && lim > 0 && (p[lim] & 0xc0) == 0x80)
			lim--;         /* cut at a character boundary */
		out[k++] = '\'';
		for (i = 0; i < lim; i++)
			out[k++] = p[i] < 0x20 || p[i] == 0x7f ? '?' : (char)p[i];
		snprintf(out + k, cap - k, "'%s", lim < v->n ? "..." : "");
		return;
	case TBL_BLOB:
		k = (size_t)snprintf(out, cap, "X'");
		for (i = 0; i < v->n && i < 16; i++)
			k += (size_t)snprintf(out + k, cap - k, "%02X", p[i]);
		snprintf(out + k, cap - k, "'%s", v->n > 16 ? "..." : "");
		return;
	}
}

static rdb_rc cannot_store(const tbl_table *tb, const tbl_column *col,
			   const tbl_value *v, rdb_err *err)
{
	char shown[64];

	show_value(v, shown, sizeof(shown));
	return rdb_err_set(err, RDB_CONSTRAINT,
			   "cannot store %s value %s in %s column %s.%s",
			   class_name(v->cls), shown,
			   col->decl ? col->decl : tbl_type_name(col->type),
			   tb->name, col->name);
}

/* INTEGER: ints; reals and numeric text that are integers strictly
 * inside (-2^63, 2^63). */
static int to_integer(tbl_value *v)
{
	numtext nt;
	int64_t i;

	switch (v->cls) {
	case TBL_INT:
		return 1;
	case TBL_REAL:
		if (!tbl_real_to_int(v->r, &i))
			return 0;
		break;
	case TBL_TEXT:
		if (!parse_number(v->p, v->n, &nt))
			return 0;
		if (nt.fits)
			i = nt.i;
		else if (!tbl_real_to_int(nt.r, &i))
			return 0;
		break;
	default:
		return 0;
	}
	v->cls = TBL_INT;
	v->i = i;
	return 1;
}

/* REAL: reals (-0.0 becomes +0.0); ints (rounded to nearest, as SQLite does) and numeric
 * text. */
static int to_real(tbl_value *v)
{
	numtext nt;
	double r;

	switch (v->cls) {
	case TBL_REAL:
		r = v->r;
		break;
	case TBL_INT:
		r = (double)v->i;
		break;
	case TBL_TEXT:
		if (!parse_number(v->p, v->n, &nt))
			return 0;
		r = nt.fits ? (double)nt.i : nt.r;
		break;
	default:
		return 0;
	}
	v->cls = TBL_REAL;
	v->r = r == 0.0 ? 0.0 : r;  /* -0.0 stored as +0.0, as SQLite does */
	return 1;
}

/* TEXT: text; numbers rendered into scratch. */
static int to_text(tbl_value *v, char *scratch)
{
	switch (v->cls) {
	case TBL_TEXT:
		return 1;
	case TBL_INT:
		v->n = render_int(v->i, scratch);
		break;
	case TBL_REAL:
		v->n = render_real(v->r, scratch);
		break;
	default:
		return 0;
	}
	v->cls = TBL_TEXT;
	v->p = scratch;
	return 1;
}

/* Case-insensitive: is text v, without surrounding white space, word? */
static int text_is(const tbl_value *v, const char *word)
{
	const unsigned char *s = v->p;
	size_t n = v->n, i, k = strlen(word);

	while (n > 0 && is_space(s[n - 1]))
		n--;
	while (n > 0 && is_space(*s))
		s++, n--;
	if (n != k)
		return 0;
	for (i = 0; i < k; i++)
		if ((s[i] | 0x20) != word[i])
			return 0;
	return 1;
}

/* BOOLEAN (rdb's own): an integer 0 or 1, from 0/1, 0.0/1.0, the text
 * 'true'/'false' (any case), or text the INTEGER rules make 0 or 1. */
static int to_boolean(tbl_value *v)
{
	tbl_value t = *v;

	if (v->cls == TBL_TEXT && (text_is(v, "true") || text_is(v, "false"))) {
		t.cls = TBL_INT;
		t.i = text_is(v, "true");
	} else if (v->cls == TBL_BLOB || !to_integer(&t) || (t.i | 1) != 1) {
		return 0;
	}
	*v = t;
	return 1;
}

rdb_rc tbl_value_apply(const tbl_table *tb, int col, tbl_value *v,
		       char *scratch, rdb_err *err)
{
	const tbl_column *c;
	tbl_value orig;
	size_t chars;
	int ok = 1;

	assert(tb != NULL && v != NULL && scratch != NULL);
	assert(col >= 0 && col < tb->ncols);
	c = &tb->cols[col];
	if (v->cls == TBL_NULL)
		return c->notnull ? rdb_err_set(err, RDB_CONSTRAINT,
			"NOT NULL constraint failed: %s.%s", tb->name, c->name)
			: RDB_OK;
	orig = *v;
	switch (c->type) {
	case TBL_TY_INTEGER: ok = to_integer(v); break;
	case TBL_TY_REAL: ok = to_real(v); break;
	case TBL_TY_TEXT: ok = to_text(v, scratch); break;
	case TBL_TY_BLOB: ok = v->cls == TBL_BLOB; break;
	case TBL_TY_BOOLEAN: ok = to_boolean(v); break;
	case TBL_TY_ANY: break;
	}
	if (!ok)
		return cannot_store(tb, c, &orig, err);
	if (c->type == TBL_TY_TEXT && c->maxlen > 0 &&
	    (chars = tbl_utf8_chars(v->p, v->n)) > c->maxlen) {
		char shown[64];

		*v = orig;
		show_value(v, shown, sizeof(shown));
		return rdb_err_set(err, RDB_CONSTRAINT, "cannot store %s value "
				   "%s in %s column %s.%s (%zu characters, at "
				   "most %u)", class_name(v->cls), shown,
				   c->decl ? c->decl : tbl_type_name(c->type),
				   tb->name, c->name, chars, c->maxlen);
	}
	return RDB_OK;
}
