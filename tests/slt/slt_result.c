/*
 * slt_result.c -- query results as sqllogictest prints them: one string
 * per value (NULL, "(empty)", '@' for unprintable bytes, integers with
 * %lld, reals as SQLite prints "%.3f"), rowsort/valuesort, and the MD5 of a
 * result.  The rules are those of SQLite's own runner (slt_sqlite.c);
 * tests/slt/README.md lists them.
 */
#include "slt.h"
#include <inttypes.h>
#include <math.h>
#include <md5.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {
		fprintf(stderr, "slt: out of memory\n");
		exit(2);
	}
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL) {
		fprintf(stderr, "slt: out of memory\n");
		exit(2);
	}
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

void slt_msg(char *msg, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (cap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, cap, fmt, ap);
	va_end(ap);
}

void slt_values_add(slt_values *vs, const char *s, size_t len)
{
	if (vs->n == vs->cap) {
		vs->cap = vs->cap ? 2 * vs->cap : 64;
		vs->v = xrealloc(vs->v, vs->cap * sizeof(*vs->v));
	}
	vs->v[vs->n++] = xstrndup(s, len);
}

void slt_values_clear(slt_values *vs)
{
	size_t i;

	for (i = 0; i < vs->n; i++)
		free(vs->v[i]);
	vs->n = 0;
}

void slt_values_free(slt_values *vs)
{
	slt_values_clear(vs);
	free(vs->v);
	*vs = (slt_values){0};
}

/* Text as the format prints it: "(empty)" for "", and every byte outside
 * ' '..'~' (control characters, and all bytes of UTF-8 sequences) as '@'. */
static void add_text(slt_values *out, const char *t)
{
	size_t i, n;
	char *d;

	if (t == NULL || t[0] == '\0') {
		slt_values_add(out, "(empty)", 7);
		return;
	}
	n = strlen(t);
	slt_values_add(out, t, n);
	d = out->v[out->n - 1];
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c < ' ' || c > '~')
			d[i] = '@';
	}
}

/*
 * A real as SQLite's printf("%.3f") prints it (3.43 and later, which the
 * corpus agrees with): the decimal digits of |r| rounded half up at the
 * third decimal, but to at most 16 significant digits, the rest printed
 * as zeros; '-' for negative values, even those that round to zero, but
 * not for -0.0.  glibc's "%.3f" differs: it rounds exact binary ties to
 * even and prints all digits (-9223372036854775808.0 gives
 * ...775808.000 where SQLite gives ...776000.000).
 */
static void fmt_real(double r, char *buf, size_t cap)
{
	char e[64], z[24];         /* z[0] takes a carry; digits from z[1] */
	int neg = r < 0, n = 20, exp10, dp, cut, j, k, len = 0;

	if (isnan(r) || isinf(r)) {
		snprintf(buf, cap, "%s", isnan(r) ? "NaN" : neg ? "-Inf" :
			 "Inf");
		return;
	}
	if (r == 0) {
		snprintf(buf, cap, "0.000");
		return;
	}
	snprintf(e, sizeof(e), "%.19e", neg ? -r : r); /* d.ddd...e+xx */
	z[0] = '0';
	z[1] = e[0];
	memcpy(z + 2, e + 2, 19);
	exp10 = atoi(strchr(e, 'e') + 1);
	dp = exp10 + 1;            /* digits before the decimal point */
	cut = dp + 3;              /* significant digits kept */
	if (cut > 16)
		cut = 16;
	if (cut >= 0 && cut < n) {
		n = cut;
		if (z[1 + cut] >= '5') {
			for (k = cut; k >= 0 && z[k] == '9'; k--)
				z[k] = '0';
			if (k >= 0)
				z[k]++;
		}
	}
	/* the carry digit z[0] is now the first when it became '1' */
	k = z[0] == '1' ? 0 : 1;
	if (k == 0) {
		dp++;
		n++;
	}
	if (neg)
		buf[len++] = '-';
	if (dp <= 0)
		buf[len++] = '0';
	/* digit j is worth 10^(dp-1-j): the integer part, then 3 decimals */
	for (j = dp > 0 ? 0 : dp; j < dp + 3 && len < (int)cap - 2; j++) {
		if (j == dp)
			buf[len++] = '.';
		buf[len++] = j >= 0 && j < n ? z[k + j] : '0';
	}
	buf[len] = '\0';
}

static int add_value(const slt_engine *eng, void *st, int i, char type,
		     slt_values *out, char *msg, size_t cap)
{
	char buf[512];
	int n;

	if (eng->column_type(st, i) == SLT_NULL) {
		slt_values_add(out, "NULL", 4);
		return 0;
	}
	switch (type) {
	case 'I':
		n = snprintf(buf, sizeof(buf), "%" PRId64,
			     eng->column_int64(st, i));
		slt_values_add(out, buf, (size_t)n);
		return 0;
	case 'R':
		fmt_real(eng->column_double(st, i), buf, sizeof(buf));
		slt_values_add(out, buf, strlen(buf));
		return 0;
	case 'T':
		add_text(out, eng->column_text(st, i));
		return 0;
	default:
		slt_msg(msg, cap, "unknown type letter '%c'", type);
		return 1;
	}
}

int slt_collect(const slt_engine *eng, void *st, const char *types,
		slt_values *out, char *msg, size_t cap)
{
	int nt = (int)strlen(types);
	int nc = eng->column_count(st);
	int rc, i;

	if (nc != nt) {
		slt_msg(msg, cap, "the query has %d result column%s, the type "
			"string '%s' %d", nc, nc == 1 ? "" : "s", types, nt);
		return 1;
	}
	for (;;) {
		rc = eng->step(st, msg, cap);
		if (rc == SLT_DONE)
			return 0;
		if (rc != SLT_ROW)
			return 2;
		for (i = 0; i < nc; i++)
			if (add_value(eng, st, i, types[i], out, msg, cap))
				return 1;
	}
}

static int cmp_rows(const void *a, const void *b, void *arg)
{
	char *const *ra = *(char *const *const *)a;
	char *const *rb = *(char *const *const *)b;
	size_t ncols = *(const size_t *)arg;
	size_t i;
	int c;

	for (i = 0; i < ncols; i++) {
		c = strcmp(ra[i], rb[i]);
		if (c != 0)
			return c;
	}
	return 0;
}

void slt_sort(slt_values *vs, size_t ncols)
{
	size_t nrows, r;
	char ***rows;
	char **sorted;

	if (ncols == 0 || vs->n < 2 * ncols)
		return;
	nrows = vs->n / ncols;
	rows = xmalloc(nrows * sizeof(*rows));
	for (r = 0; r < nrows; r++)
		rows[r] = &vs->v[r * ncols];
	qsort_r(rows, nrows, sizeof(*rows), cmp_rows, &ncols);
	sorted = xmalloc(vs->cap * sizeof(*sorted));
	for (r = 0; r < nrows; r++)
		memcpy(&sorted[r * ncols], rows[r], ncols * sizeof(*sorted));
	/* a partial last row (cannot happen: n is a multiple of the column
	 * count) would stay in place */
	memcpy(&sorted[nrows * ncols], &vs->v[nrows * ncols],
	       (vs->n - nrows * ncols) * sizeof(*sorted));
	free(vs->v);
	vs->v = sorted;
	free(rows);
}

void slt_md5(char *const *v, size_t n, char hex[33])
{
	MD5_CTX ctx;
	size_t i;

	MD5Init(&ctx);
	for (i = 0; i < n; i++) {
		MD5Update(&ctx, (const uint8_t *)v[i], strlen(v[i]));
		MD5Update(&ctx, (const uint8_t *)"\n", 1);
	}
	MD5End(&ctx, hex);
}
