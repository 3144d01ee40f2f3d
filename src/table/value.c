/*
 * value.c -- comparing values, declared type names, and the assignment
 * of a value to a typed column (SQLite's STRICT rules).  Design:
 * src/table/README.md ("Values and encodings"); user-visible rules:
 * docs/sql.md ("Types and conversions").
 */
#include "table/table.h"
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mem.h"
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
