/*
 * value_fmt.c -- SQLite's printf for the printf()/format() functions.
 * The float digits come from num.c, the same long double arithmetic
 * SQLite 3.40 uses, so the text matches it byte for byte (design:
 * src/sql/README.md, "Values and functions").
 */
#include "sql/value.h"
#include <assert.h>
#include <math.h>
#include <string.h>
#include "mem.h"
#include "num.h"

/* Conversion kinds. */
enum {
	K_DECIMAL, K_RADIX, K_ORDINAL, K_FLOAT, K_EXP, K_GENERIC, K_STRING,
	K_CHAR, K_ESCAPE, K_ESCAPE2, K_ESCAPE3, K_SIZE, K_PERCENT, K_STOP
};

typedef struct conv_info {
	char c;
	uint8_t base;
	uint8_t is_signed;
	uint8_t kind;
	uint8_t charset;          /* offset into digits[] */
	uint8_t prefix;           /* offset into prefixes[] for '#' */
} conv_info;

static const char digits[] = "0123456789ABCDEF0123456789abcdef";
static const char prefixes[] = "-x0\000X0";
static const conv_info convs[] = {
	{ 'd', 10, 1, K_DECIMAL, 0, 0 },  { 's', 0, 0, K_STRING, 0, 0 },
	{ 'g', 0, 1, K_GENERIC, 30, 0 },  { 'z', 0, 0, K_STRING, 0, 0 },
	{ 'q', 0, 0, K_ESCAPE, 0, 0 },    { 'Q', 0, 0, K_ESCAPE2, 0, 0 },
	{ 'w', 0, 0, K_ESCAPE3, 0, 0 },   { 'c', 0, 0, K_CHAR, 0, 0 },
	{ 'o', 8, 0, K_RADIX, 0, 2 },     { 'u', 10, 0, K_DECIMAL, 0, 0 },
	{ 'x', 16, 0, K_RADIX, 16, 1 },   { 'X', 16, 0, K_RADIX, 0, 4 },
	{ 'f', 0, 1, K_FLOAT, 0, 0 },     { 'e', 0, 1, K_EXP, 30, 0 },
	{ 'E', 0, 1, K_EXP, 14, 0 },      { 'G', 0, 1, K_GENERIC, 14, 0 },
	{ 'i', 10, 1, K_DECIMAL, 0, 0 },  { 'n', 0, 0, K_SIZE, 0, 0 },
	{ '%', 0, 0, K_PERCENT, 0, 0 },   { 'p', 16, 0, K_RADIX, 0, 1 },
	{ 'r', 10, 1, K_ORDINAL, 0, 0 },
};

/* One conversion's flags, width and precision. */
typedef struct spec {
	int left, alt, alt2, zeropad;
	char prefix;              /* '+', ' ' or 0 */
	char thousands;           /* ',' or 0 */
	int width;
	int precision;            /* -1: none */
	const conv_info *info;
} spec;

/* The arguments, read the way SQLite reads sqlite3_value arrays. */
typedef struct fmt_args {
	int argc, used;
	const sql_value *argv;
} fmt_args;

static int64_t arg_int(fmt_args *a)
{
	return a->used < a->argc ? sql_value_to_int(&a->argv[a->used++]) : 0;
}

static double arg_real(fmt_args *a)
{
	return a->used < a->argc ? sql_value_to_real(&a->argv[a->used++]) :
		0.0;
}

/* The next argument as a C string (up to its first NUL); NULL for a
 * missing or NULL argument. */
static const char *arg_text(fmt_args *a, char tmp[SQL_NUM_TEXT], size_t *n)
{
	const unsigned char *p;
	const void *nul;

	*n = 0;
	if (a->used >= a->argc)
		return NULL;
	sql_value_text(&a->argv[a->used++], tmp, &p, n);
	if (p != NULL && (nul = memchr(p, 0, *n)) != NULL)
		*n = (size_t)((const unsigned char *)nul - p);
	return (const char *)p;
}

/* ---- output ---------------------------------------------------------------- */

typedef struct out_ctx {
	sql_ctx *cx;
	rdb_buf *b;
	size_t start;             /* b->n when this printf started */
	int wrote;                /* an output call was made (maybe empty) */
} out_ctx;

/* Refuse output past the length limit (n more bytes). */
static rdb_rc out_check(out_ctx *o, size_t n)
{
	size_t max = sql_max_len(o->cx);

	if (n > max || o->b->n - o->start + n > max)
		return rdb_err_set(o->cx->err, RDB_TOOBIG,
				   "string or blob too big");
	return RDB_OK;
}

static rdb_rc out_room(out_ctx *o, size_t n)
{
	rdb_rc rc = out_check(o, n);

	if (rc == RDB_OK && rdb_buf_reserve(o->b, n) != RDB_OK)
		rc = rdb_err_set(o->cx->err, RDB_NOMEM, "out of memory");
	return rc;
}

static rdb_rc out_bytes(out_ctx *o, const void *p, size_t n)
{
	rdb_rc rc = out_room(o, n);

	o->wrote = 1;
	if (rc == RDB_OK && n > 0) {
		memcpy(o->b->p + o->b->n, p, n);
		o->b->n += n;
	}
	return rc;
}

static rdb_rc out_repeat(out_ctx *o, char c, size_t n)
{
	rdb_rc rc = out_room(o, n);

	o->wrote = 1;
	if (rc == RDB_OK && n > 0) {
		memset(o->b->p + o->b->n, c, n);
		o->b->n += n;
	}
	return rc;
}

/* Emit a conversion's text padded to the width. */
static rdb_rc out_field(out_ctx *o, const spec *sp, const char *p, size_t n)
{
	int64_t pad = (int64_t)sp->width - (int64_t)n;
	rdb_rc rc = RDB_OK;

	if (pad > 0 && !sp->left)
		rc = out_repeat(o, ' ', (size_t)pad);
	if (rc == RDB_OK)
		rc = out_bytes(o, p, n);
	if (rc == RDB_OK && pad > 0 && sp->left)
		rc = out_repeat(o, ' ', (size_t)pad);
	return rc;
}

/* Widths count bytes; with '!' they count UTF-8 characters. */
static void width_for_utf8(spec *sp, const char *p, size_t n)
{
	size_t i;

	if (!sp->alt2 || sp->width <= 0)
		return;
	for (i = 0; i < n; i++)
		if ((p[i] & 0xc0) == 0x80)
			sp->width++;
}

/* ---- integers --------------------------------------------------------------- */

/* Digits of v right-aligned before end; returns the start. */
static char *int_digits(char *end, uint64_t v, const spec *sp, int ordinal)
{
	const char *cset = &digits[sp->info->charset];
	unsigned base = sp->info->base;
	char *p = end;

	if (ordinal) {
		static const char ord[] = "thstndrd";
		int x = (int)(v % 10);

		if (x >= 4 || (v / 10) % 10 == 1)
			x = 0;
		*--p = ord[x * 2 + 1];
		*--p = ord[x * 2];
	}
	do {
		*--p = cset[v % base];
		v /= base;
	} while (v > 0);
	return p;
}

/* The ndig digits at dig after nz zeros, grouped by threes with c and
 * right-aligned before end; returns the start.  The zeros (a width can
 * ask for most of a billion) are written by doubling a block of the
 * 4-byte pattern, not a byte at a time. */
static char *int_grouped(char *end, const char *dig, size_t ndig, size_t nz,
			 char c)
{
	size_t len = ndig + nz, t = len + (len - 1) / 3, d = 0, i, k, m;

	for (i = 0; i < ndig; i++, d++) {
		if (d % 4 == 3)
			end[-1 - (ptrdiff_t)d++] = c;
		end[-1 - (ptrdiff_t)d] = dig[ndig - 1 - i];
	}
	for (k = 0; k < 4 && d + k < t; k++)
		end[-1 - (ptrdiff_t)(d + k)] = (d + k) % 4 == 3 ? c : '0';
	while (d + k < t) {
		/* Positions d+k.. repeat positions d.. (k is a multiple of 4). */
		m = k < t - d - k ? k : t - d - k;
		memcpy(end - d - k - m, end - d - m, m);
		k += m;
	}
	return end - t;
}

static rdb_rc fmt_int(out_ctx *o, spec *sp, fmt_args *a)
{
	char small[100], dg[32], *buf = small, *end, *p, *d;
	int64_t v = arg_int(a);
	uint64_t u;
	char sign = 0;
	size_t cap, ndig, nz;
	int prec = sp->precision, k = sp->info->kind;
	rdb_rc rc;

	if (sp->info->is_signed && v < 0) {
		u = ~(uint64_t)v + 1;
		sign = '-';
	} else {
		u = (uint64_t)v;
		sign = sp->info->is_signed ? sp->prefix : 0;
	}
	if (u == 0)
		sp->alt = 0;
	if (sp->zeropad && prec < sp->width - (sign != 0))
		prec = sp->width - (sign != 0);
	if (k != K_DECIMAL)
		sp->thousands = 0;
	d = int_digits(dg + sizeof(dg), u, sp, k == K_ORDINAL);
	ndig = (size_t)(dg + sizeof(dg) - d);
	nz = prec > 0 && (size_t)prec > ndig ? (size_t)prec - ndig : 0;
	cap = ndig + nz + 8;
	cap += sp->thousands ? (ndig + nz) / 3 : 0;
	if (cap > sizeof(small)) {
		if ((rc = out_check(o, cap)) != RDB_OK)
			return rc;
		if ((buf = rdb_malloc(cap)) == NULL)
			return rdb_err_set(o->cx->err, RDB_NOMEM,
					   "out of memory");
	}
	end = buf + cap;
	if (sp->thousands) {
		p = int_grouped(end, d, ndig, nz, sp->thousands);
	} else {
		p = end - ndig;
		memcpy(p, d, ndig);
		p -= nz;
		memset(p, '0', nz);
	}
	if (sign)
		*--p = sign;
	if (sp->alt && sp->info->prefix) {
		const char *pre = &prefixes[sp->info->prefix];

		for (; *pre; pre++)
			*--p = *pre;
	}
	rc = out_field(o, sp, p, (size_t)(end - p));
	if (buf != small)
		rdb_free(buf);
	return rc;
}

/* ---- reals ------------------------------------------------------------------ */

/* The real conversion of sp in num.h's terms. */
static num_real_spec real_spec(const spec *sp)
{
	num_real_spec r;

	r.kind = sp->info->kind == K_FLOAT ? NUM_F :
		sp->info->kind == K_EXP ? NUM_E : NUM_G;
	r.precision = sp->precision;
	r.alt = sp->alt;
	r.alt2 = sp->alt2;
	r.prefix = sp->prefix;
	r.echar = digits[sp->info->charset];
	return r;
}

static rdb_rc fmt_real(out_ctx *o, spec *sp, double r)
{
	num_real_spec rs = real_spec(sp);
	char small[400], *buf = small;
	size_t len, cap, pad, lead;
	int special;
	char sign;
	rdb_rc rc;

	/* Room for the text and the width's padding. */
	cap = num_real_room(r, &rs) + (size_t)sp->width;
	if (cap > sizeof(small)) {
		if ((rc = out_check(o, cap)) != RDB_OK)
			return rc;
		if ((buf = rdb_malloc(cap)) == NULL)
			return rdb_err_set(o->cx->err, RDB_NOMEM,
					   "out of memory");
	}
	len = num_real_text(buf, r, &rs, &sign, &special);
	if (sp->zeropad && !sp->left && len < (size_t)sp->width && !special) {
		pad = (size_t)sp->width - len;
		lead = sign != 0;
		memmove(buf + lead + pad, buf + lead, len - lead);
		memset(buf + lead, '0', pad);
		len = (size_t)sp->width;
	}
	rc = out_field(o, sp, buf, len);
	if (buf != small)
		rdb_free(buf);
	return rc;
}

/* ---- strings ------------------------------------------------------------------ */

static rdb_rc fmt_string(out_ctx *o, spec *sp, fmt_args *a)
{
	char tmp[SQL_NUM_TEXT];
	size_t n, len = 0;
	const char *s = arg_text(a, tmp, &n);
	int prec = sp->precision;

	if (s == NULL)
		s = "";
	if (prec >= 0 && sp->alt2) {
		while (prec-- > 0 && len < n) {
			if ((unsigned char)s[len++] >= 0xc0)
				while (len < n && (s[len] & 0xc0) == 0x80)
					len++;
		}
	} else if (prec >= 0) {
		len = (size_t)prec < n ? (size_t)prec : n;
	} else {
		len = n;
	}
	width_for_utf8(sp, s, len);
	return out_field(o, sp, s, len);
}

/* copies more copies of the len bytes of c: the first written, then
 * what is written so far copied after itself (as SQLite does: %c's
 * precision may ask for two billion). */
static rdb_rc out_copies(out_ctx *o, const char *c, size_t len,
			 size_t copies)
{
	size_t total = copies * len, done, k;
	unsigned char *dst;
	rdb_rc rc;

	if (copies == 0)
		return RDB_OK;
	if ((rc = out_room(o, total)) != RDB_OK)
		return rc;
	dst = o->b->p + o->b->n;
	memcpy(dst, c, len);
	for (done = len; done < total; done += k) {
		k = done < total - done ? done : total - done;
		memcpy(dst + done, dst, k);
	}
	o->b->n += total;
	o->wrote = 1;
	return RDB_OK;
}

static rdb_rc fmt_char(out_ctx *o, spec *sp, fmt_args *a)
{
	char tmp[SQL_NUM_TEXT], c[4] = { 0 };
	size_t n, len = 1;
	const char *s = arg_text(a, tmp, &n);
	rdb_rc rc = RDB_OK;

	if (s != NULL && n > 0) {
		c[0] = s[0];
		if ((c[0] & 0xc0) == 0xc0)
			while (len < 4 && len < n && (s[len] & 0xc0) == 0x80) {
				c[len] = s[len];
				len++;
			}
	}
	if (sp->precision > 1) {
		sp->width -= sp->precision - 1;
		if (sp->width > 1 && !sp->left) {
			rc = out_repeat(o, ' ', (size_t)sp->width - 1);
			sp->width = 0;
		}
		if (rc == RDB_OK)
			rc = out_copies(o, c, len, (size_t)sp->precision - 1);
		if (rc != RDB_OK)
			return rc;
	}
	sp->alt2 = 1;
	width_for_utf8(sp, c, len);
	return out_field(o, sp, c, len);
}

/* %q %Q %w: double the quote character; %Q adds quotes (NULL -> NULL). */
static rdb_rc fmt_escape(out_ctx *o, spec *sp, fmt_args *a)
{
	char tmp[SQL_NUM_TEXT], small[200], *buf = small;
	int kind = sp->info->kind;
	char q = kind == K_ESCAPE3 ? '"' : '\'';
	size_t n, i, j, k, nq = 0;
	const char *s = arg_text(a, tmp, &n);
	int64_t left = sp->precision;
	int quote = s != NULL && kind == K_ESCAPE2;
	rdb_rc rc;

	if (s == NULL) {
		s = kind == K_ESCAPE2 ? "NULL" : "(NULL)";
		n = strlen(s);
	}
	for (i = 0; left != 0 && i < n; i++, left--) {
		if (s[i] == q)
			nq++;
		if (sp->alt2 && (s[i] & 0xc0) == 0xc0)
			while (i + 1 < n && (s[i + 1] & 0xc0) == 0x80)
				i++;
	}
	k = i;
	if (k + nq + 3 > sizeof(small)) {
		if ((rc = out_check(o, k + nq + 3)) != RDB_OK)
			return rc;
		if ((buf = rdb_malloc(k + nq + 3)) == NULL)
			return rdb_err_set(o->cx->err, RDB_NOMEM,
					   "out of memory");
	}
	j = 0;
	if (quote)
		buf[j++] = q;
	for (i = 0; i < k; i++) {
		buf[j++] = s[i];
		if (s[i] == q)
			buf[j++] = q;
	}
	if (quote)
		buf[j++] = q;
	width_for_utf8(sp, buf, j);
	rc = out_field(o, sp, buf, j);
	if (buf != small)
		rdb_free(buf);
	return rc;
}

/* ---- the format string ----------------------------------------------------------- */

/* Parse flags, width and precision after '%'; *f is left on the
 * conversion character. */
static void parse_spec(const char **f, const char *end, spec *sp,
		       fmt_args *a)
{
	const char *p = *f;
	int64_t v;

	memset(sp, 0, sizeof(*sp));
	sp->precision = -1;
	for (; p < end; p++) {
		switch (*p) {
		case '-': sp->left = 1; continue;
		case '+': sp->prefix = '+'; continue;
		case ' ': sp->prefix = ' '; continue;
		case '#': sp->alt = 1; continue;
		case '!': sp->alt2 = 1; continue;
		case '0': sp->zeropad = 1; continue;
		case ',': sp->thousands = ','; continue;
		default: break;
		}
		break;
	}
	if (p < end && *p >= '1' && *p <= '9') {
		unsigned w = 0;

		for (; p < end && *p >= '0' && *p <= '9'; p++)
			w = w * 10 + (unsigned)(*p - '0');
		sp->width = (int)(w & 0x7fffffff);
	} else if (p < end && *p == '*') {
		v = (int32_t)(uint32_t)arg_int(a);
		if (v < 0) {
			sp->left = 1;
			v = v >= -2147483647 ? -v : 0;
		}
		sp->width = (int)v;
		p++;
	}
	if (p < end && *p == '.') {
		p++;
		if (p < end && *p == '*') {
			v = (int32_t)(uint32_t)arg_int(a);
			if (v < 0)
				v = v >= -2147483647 ? -v : -1;
			sp->precision = (int)v;
			p++;
		} else {
			unsigned w = 0;

			for (; p < end && *p >= '0' && *p <= '9'; p++)
				w = w * 10 + (unsigned)(*p - '0');
			sp->precision = (int)(w & 0x7fffffff);
		}
	}
	/* 'l' and 'll' are accepted and mean nothing here. */
	if (p < end && *p == 'l' && ++p < end && *p == 'l')
		p++;
	*f = p;
}

static const conv_info *find_conv(char c)
{
	size_t i;

	for (i = 0; i < sizeof(convs) / sizeof(convs[0]); i++)
		if (convs[i].c == c)
			return &convs[i];
	return NULL;
}

/* One conversion; *stop is set when the output ends here. */
static rdb_rc convert(out_ctx *o, spec *sp, fmt_args *a, int *stop)
{
	switch (sp->info->kind) {
	case K_DECIMAL: case K_RADIX: case K_ORDINAL:
		return fmt_int(o, sp, a);
	case K_FLOAT: case K_EXP: case K_GENERIC:
		return fmt_real(o, sp, arg_real(a));
	case K_STRING:
		return fmt_string(o, sp, a);
	case K_CHAR:
		return fmt_char(o, sp, a);
	case K_ESCAPE: case K_ESCAPE2: case K_ESCAPE3:
		return fmt_escape(o, sp, a);
	case K_PERCENT:
		return out_field(o, sp, "%", 1);
	case K_SIZE:
		sp->width = 0;
		return out_field(o, sp, "", 0);
	default:
		*stop = 1;
		return RDB_OK;
	}
}

rdb_rc sql_printf(sql_ctx *cx, const char *fmt, size_t n, int argc,
		  const sql_value *argv, rdb_buf *out, int *wrote)
{
	out_ctx o = { cx, out, out->n, 0 };
	fmt_args a = { argc, 0, argv };
	const char *f = fmt, *end, *lit;
	const void *nul = memchr(fmt, 0, n);
	int stop = 0;
	spec sp;
	rdb_rc rc = RDB_OK;

	end = nul != NULL ? (const char *)nul : fmt + n;
	while (f < end && rc == RDB_OK && !stop) {
		if (*f != '%') {
			for (lit = f; f < end && *f != '%'; f++)
				;
			rc = out_bytes(&o, lit, (size_t)(f - lit));
			continue;
		}
		if (++f >= end) {
			rc = out_bytes(&o, "%", 1);
			break;
		}
		parse_spec(&f, end, &sp, &a);
		if (f >= end || (sp.info = find_conv(*f)) == NULL)
			break;
		f++;
		rc = convert(&o, &sp, &a, &stop);
	}
	if (rc != RDB_OK)
		out->n = o.start;
	if (wrote != NULL)
		*wrote = rc == RDB_OK && o.wrote;
	return rc;
}
