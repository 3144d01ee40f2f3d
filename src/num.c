/*
 * num.c -- SQLite 3.40's conversions between numbers and text (contract
 * in num.h; design in src/sql/README.md, "Values and functions").  The
 * digits come from the same long double arithmetic SQLite uses, so text
 * and values match it bit for bit.
 */
#include "num.h"
#include <math.h>
#include <string.h>

/* ---- text to number ------------------------------------------------------- */

/* SQLite's sqlite3Isspace: ASCII blank, \t \n \v \f \r. */
static int is_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* 10^e in long double by repeated squaring, as SQLite computes it (the
 * rounding of the result depends on the exact sequence). */
static long double pow10_ld(int e)
{
	long double x = 10.0L, r = 1.0L;

	for (;;) {
		if (e & 1)
			r *= x;
		e >>= 1;
		if (e == 0)
			break;
		x *= x;
	}
	return r;
}

/* The decimal significand, exponent and sign parsed by num_atof(). */
typedef struct dec_num {
	int64_t s;
	int e;          /* value = sign * s * 10^e */
	int neg;
} dec_num;

/* Scale the significand by its exponent the way SQLite 3.40 does:
 * trade exponent for significand digits while exact, then one multiply
 * or divide by a long double power of ten. */
static double dec_to_double(dec_num d)
{
	int64_t s = d.s;
	int e = d.e < 0 ? -d.e : d.e, esign = d.e < 0 ? -1 : 1;
	double r;

	if (s == 0)
		return d.neg ? -0.0 : 0.0;
	while (e > 0) {
		if (esign > 0) {
			if (s >= INT64_MAX / 10)
				break;
			s *= 10;
		} else {
			if (s % 10 != 0)
				break;
			s /= 10;
		}
		e--;
	}
	s = d.neg ? -s : s;
	if (e == 0)
		return (double)s;
	if (e > 307) {
		if (e >= 342)
			return esign < 0 ? 0.0 * (double)s : INFINITY * (double)s;
		if (esign < 0) {
			r = (double)(s / pow10_ld(e - 308));
			return r / 1.0e+308;
		}
		r = (double)(s * pow10_ld(e - 308));
		return r * 1.0e+308;
	}
	if (esign < 0)
		return (double)(s / pow10_ld(e));
	return (double)(s * pow10_ld(e));
}

int num_atof(const char *z, size_t n, double *out)
{
	const unsigned char *s = (const unsigned char *)z, *end = s + n;
	dec_num d = { 0, 0, 0 };
	int n_digits = 0, kind = 1, e_valid = 1, esign = 1, e = 0;

	*out = 0.0;
	while (s < end && is_space(*s))
		s++;
	if (s >= end)
		return 0;
	if (*s == '-' || *s == '+')
		d.neg = *s++ == '-';
	for (; s < end && is_digit(*s) && d.s < (INT64_MAX - 9) / 10; s++) {
		d.s = d.s * 10 + (*s - '0');
		n_digits++;
	}
	/* Digits past 18 or so only move the decimal point. */
	for (; s < end && is_digit(*s); s++, n_digits++)
		d.e++;
	if (s < end && *s == '.') {
		kind++;
		for (s++; s < end && is_digit(*s); s++, n_digits++) {
			if (d.s < (INT64_MAX - 9) / 10) {
				d.s = d.s * 10 + (*s - '0');
				d.e--;
			}
		}
	}
	if (s < end && (*s == 'e' || *s == 'E')) {
		s++;
		e_valid = 0;
		kind++;
		if (s < end && (*s == '-' || *s == '+'))
			esign = *s++ == '-' ? -1 : 1;
		for (; s < end && is_digit(*s); s++) {
			e = e < 10000 ? e * 10 + (*s - '0') : 10000;
			e_valid = 1;
		}
	}
	while (s < end && is_space(*s))
		s++;
	d.e += e * esign;
	*out = dec_to_double(d);
	if (s == end && n_digits > 0 && e_valid)
		return kind;
	if (kind >= 2 && (kind == 3 || e_valid) && n_digits > 0)
		return -1;
	return 0;
}

/* Compare the 19 digits at z with 9223372036854775808. */
static int cmp_2pow63(const unsigned char *z)
{
	static const char pow63[] = "9223372036854775808";

	return memcmp(z, pow63, 19);
}

int num_atoi64(const char *z, size_t n, int64_t *out)
{
	const unsigned char *s = (const unsigned char *)z, *end = s + n;
	const unsigned char *start, *digits;
	uint64_t u = 0;
	int neg = 0, rc = 0, c;
	size_t i;

	while (s < end && is_space(*s))
		s++;
	if (s < end && (*s == '-' || *s == '+'))
		neg = *s++ == '-';
	start = s;
	while (s < end && *s == '0')
		s++;
	digits = s;
	for (i = 0; s + i < end && is_digit(s[i]); i++)
		u = u * 10 + (s[i] - '0');
	if (u > (uint64_t)INT64_MAX)
		*out = neg ? INT64_MIN : INT64_MAX;
	else
		*out = neg ? -(int64_t)u : (int64_t)u;
	if (i == 0 && start == digits)
		rc = -1;
	else
		for (s += i; s < end; s++)
			if (!is_space(*s)) {
				rc = 1;
				break;
			}
	if (i < 19)
		return rc;
	c = i > 19 ? 1 : cmp_2pow63(digits);
	if (c < 0)
		return rc;
	*out = neg ? INT64_MIN : INT64_MAX;
	if (c > 0)
		return 2;
	return neg ? rc : 3;
}

size_t num_render_int(int64_t i, char buf[NUM_TEXT])
{
	char tmp[24];
	uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
	size_t n = 0, k = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (i < 0)
		buf[k++] = '-';
	while (n > 0)
		buf[k++] = tmp[--n];
	buf[k] = '\0';
	return k;
}

/* ---- number to text ------------------------------------------------------- */

static char next_digit(long double *v, int *cnt)
{
	int d;

	if (*cnt <= 0)
		return '0';
	(*cnt)--;
	d = (int)*v;
	*v = (*v - (long double)d) * 10.0;
	return (char)('0' + d);
}

/* Scale v (> 0) into [1, 10); returns the decimal exponent (> 350 means
 * the value is infinite). */
static int normalize(long double *v)
{
	long double scale = 1.0;
	int e = 0;

	while (*v >= 1e100 * scale && e <= 350) {
		scale *= 1e100;
		e += 100;
	}
	while (*v >= 1e10 * scale && e <= 350) {
		scale *= 1e10;
		e += 10;
	}
	while (*v >= 10.0 * scale && e <= 350) {
		scale *= 10.0;
		e++;
	}
	*v /= scale;
	while (*v < 1e-8) {
		*v *= 1.0e8;
		e -= 8;
	}
	while (*v < 1.0) {
		*v *= 10.0;
		e--;
	}
	return e;
}

/* The half-unit of the last digit kept: 0.5 * 10^-precision. */
static double rounder_for(int precision)
{
	static const double ar[] = { 5.0e-01, 5.0e-02, 5.0e-03, 5.0e-04,
		5.0e-05, 5.0e-06, 5.0e-07, 5.0e-08, 5.0e-09, 5.0e-10 };
	int idx = precision & 0xfff;
	double r = ar[idx % 10];

	while (idx >= 10) {
		r *= 1.0e-10;
		idx -= 10;
	}
	return r;
}

/* Write the exponent suffix "e+NN" at p; returns the new end. */
static char *put_exp(char *p, int e, char echar)
{
	*p++ = echar;
	*p++ = e < 0 ? '-' : '+';
	if (e < 0)
		e = -e;
	if (e >= 100) {
		*p++ = (char)('0' + e / 100);
		e %= 100;
	}
	*p++ = (char)('0' + e / 10);
	*p++ = (char)('0' + e % 10);
	return p;
}

/* Digits of v (>= 0, already normalised to exponent e unless FLOAT) in
 * the chosen form; returns the end. */
static char *real_digits(char *p, long double v, int e, int kind, int prec,
			 const num_real_spec *sp)
{
	int nsd = 16 + sp->alt2 * 10, e2 = kind == NUM_E ? 0 : e;
	int dp = prec > 0 || sp->alt || sp->alt2;
	int rtz = sp->kind == NUM_G ? !sp->alt : sp->alt2;
	char *start = p;

	if (e2 < 0)
		*p++ = '0';
	else
		for (; e2 >= 0; e2--)
			*p++ = next_digit(&v, &nsd);
	if (dp)
		*p++ = '.';
	for (e2++; e2 < 0; prec--, e2++)
		*p++ = '0';
	for (; prec > 0 && nsd > 0; prec--)
		*p++ = next_digit(&v, &nsd);
	/* Past the significant digits every digit is 0 (next_digit()): a
	 * precision of millions (printf('%.200000000f', x), as SQLite
	 * allows) is one memset, not a call per digit. */
	if (prec > 0) {
		memset(p, '0', (size_t)prec);
		p += prec;
	}
	if (rtz && dp) {
		while (p > start && p[-1] == '0')
			p--;
		if (p[-1] == '.') {
			if (sp->alt2)
				*p++ = '0';
			else
				p--;
		}
	}
	if (kind == NUM_E)
		p = put_exp(p, e, sp->echar);
	return p;
}

size_t num_real_text(char *buf, double r, const num_real_spec *sp,
		     char *sign_out, int *special)
{
	long double v = r;
	int prec = sp->precision < 0 ? 6 : sp->precision;
	int kind = sp->kind, e = 0;
	char sign, *p = buf;
	double rounder;

	if (prec > NUM_MAX_PRECISION)
		prec = NUM_MAX_PRECISION;
	sign = v < 0.0 ? '-' : sp->prefix;
	if (v < 0.0)
		v = -v;
	if (kind == NUM_G && prec > 0)
		prec--;
	rounder = rounder_for(prec);
	if (kind == NUM_F) {
		double rx = (double)v;
		uint64_t u;
		int ex;

		memcpy(&u, &rx, sizeof(u));
		ex = -1023 + (int)((u >> 52) & 0x7ff);
		if (prec + ex / 3 < 15)
			rounder += rx * 3e-16;
		v += rounder;
	}
	*sign_out = sign;
	*special = 1;
	if (isnan((double)v)) {
		memcpy(buf, "NaN", 3);
		*sign_out = 0;
		return 3;
	}
	if (v > 0.0) {
		e = normalize(&v);
		if (e > 350) {
			if (sign)
				*p++ = sign;
			memcpy(p, "Inf", 3);
			return (size_t)(p - buf) + 3;
		}
	}
	*special = 0;
	if (kind != NUM_F) {
		v += rounder;
		if (v >= 10.0) {
			v *= 0.1;
			e++;
		}
	}
	if (kind == NUM_G) {
		if (e < -4 || e > prec) {
			kind = NUM_E;
		} else {
			prec -= e;
			kind = NUM_F;
		}
	}
	if (sign)
		*p++ = sign;
	p = real_digits(p, v, e, kind, prec, sp);
	return (size_t)(p - buf);
}

size_t num_real_room(double r, const num_real_spec *sp)
{
	int prec = sp->precision < 0 ? 6 : sp->precision, e = 0;

	if (prec > NUM_MAX_PRECISION)
		prec = NUM_MAX_PRECISION;
	if (isfinite(r) && r != 0.0)
		(void)frexp(r, &e);
	return (size_t)(e > 0 ? e / 3 + 2 : 0) + (size_t)prec + 30;
}

size_t num_render_real(double r, char buf[NUM_TEXT])
{
	static const num_real_spec g = { NUM_G, 15, 0, 1, 0, 'e' };
	char sign;
	int special;
	size_t n = num_real_text(buf, r, &g, &sign, &special);

	buf[n] = '\0';
	return n;
}
