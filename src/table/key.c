/*
 * key.c -- the order-preserving, self-delimiting encoding of values and
 * tuples (tbl_key_append, tbl_key_decode).  Design: src/table/README.md
 * ("Values and encodings"); bytes: docs/format.md ("Tables", "Keys").
 */
#include "table/table.h"
#include <assert.h>
#include <string.h>
#include "table/tbl_int.h"

/* A non-zero number as sign, binary exponent and significand: the value
 * is m * 2^(e - 63), with the top bit of m set (m = 1.f in 1.63 fixed
 * point).  Every int64 and every finite double has exactly one such form;
 * infinity gets e = FMT_KEY_EXP_INF and m = 2^63. */
typedef struct knum {
	int neg;
	int e;
	uint64_t m;
} knum;

static int clz64(uint64_t x)
{
	int n = 0;

	assert(x != 0);
#if defined(__GNUC__)
	n = __builtin_clzll(x);
#else
	while ((x & (UINT64_C(1) << 63)) == 0) {
		x <<= 1;
		n++;
	}
#endif
	return n;
}

/* Returns 0 for zero (k untouched), else 1. */
static int num_of_int(int64_t i, knum *k)
{
	uint64_t u;
	int z;

	if (i == 0)
		return 0;
	k->neg = i < 0;
	u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
	z = clz64(u);
	k->e = 63 - z;
	k->m = u << z;
	return 1;
}

#define FRAC_BITS 52
#define FRAC_MASK ((UINT64_C(1) << FRAC_BITS) - 1)

/* From the IEEE 754 bits, so the decomposition is exact without libm. */
static int num_of_real(double r, knum *k)
{
	uint64_t bits, frac;
	int ef, z;

	assert(r == r);
	if (r == 0)
		return 0;              /* also -0.0 */
	memcpy(&bits, &r, sizeof(bits));
	k->neg = (int)(bits >> 63);
	ef = (int)((bits >> FRAC_BITS) & 0x7ff);
	frac = bits & FRAC_MASK;
	if (ef == 0x7ff) {             /* infinity (never NaN) */
		k->e = FMT_KEY_EXP_INF;
		k->m = UINT64_C(1) << 63;
	} else if (ef == 0) {          /* denormal: frac * 2^-1074 */
		z = clz64(frac);
		k->e = 63 - z + FMT_KEY_EXP_MIN;
		k->m = frac << z;
	} else {
		k->e = ef - 1023;
		k->m = ((UINT64_C(1) << FRAC_BITS) | frac) << 11;
	}
	return 1;
}

/* ---- the integer-part code -------------------------------------------- *
 * w >= 0 as a tag (FMT_KEY_POS_INT + index) and 0..8 big-endian bytes:
 * classes of `tags` tags with `bytes` bytes after the tag, each starting
 * where the previous one ended, so memcmp order is numeric order. */
static const struct {
	unsigned tags, bytes;
} int_class[] = {
	{ FMT_KEY_INT_1, 0 }, { FMT_KEY_INT_2, 1 }, { FMT_KEY_INT_3, 2 },
	{ FMT_KEY_INT_4, 3 }, { 1, 4 }, { 1, 5 }, { 1, 6 }, { 1, 7 }, { 1, 8 }
};
#define N_INT_CLASS (sizeof(int_class) / sizeof(int_class[0]))

/* Values in class j: tags * 256^bytes (the last class is open-ended). */
static uint64_t class_span(unsigned j)
{
	return (uint64_t)int_class[j].tags << (8 * int_class[j].bytes);
}

/* Write the code of w to o (9 bytes of room); returns its size. */
static size_t int_code(uint64_t w, unsigned char *o)
{
	uint64_t base = 0, d;
	unsigned j, tag = FMT_KEY_POS_INT, b;

	for (j = 0; j + 1 < N_INT_CLASS && w - base >= class_span(j); j++) {
		base += class_span(j);
		tag += int_class[j].tags;
	}
	d = w - base;
	b = int_class[j].bytes;
	o[0] = (unsigned char)(tag + (b < 8 ? d >> (8 * b) : 0));
	for (j = 0; j < b; j++)
		o[1 + j] = (unsigned char)(d >> (8 * (b - 1 - j)));
	return 1 + b;
}

/* Read the code at key[*pos] (bytes xor x give the code) into *w. */
static rdb_rc int_decode(const unsigned char *key, size_t klen, size_t *pos,
			 unsigned char x, uint64_t *w)
{
	unsigned idx = (key[*pos] ^ x) - FMT_KEY_POS_INT, j, b, i;
	uint64_t base = 0, d;

	for (j = 0; idx >= int_class[j].tags; j++) {
		idx -= int_class[j].tags;
		base += class_span(j);
	}
	b = int_class[j].bytes;
	if (klen - *pos - 1 < b)
		return RDB_CORRUPT;
	d = b < 8 ? (uint64_t)idx << (8 * b) : 0;
	for (i = 0; i < b; i++)
		d |= (uint64_t)(key[*pos + 1 + i] ^ x) << (8 * (b - 1 - i));
	if (d > UINT64_MAX - base)
		return RDB_CORRUPT;
	*w = base + d;
	*pos += 1 + b;
	return RDB_OK;
}

/* Fraction bits f (after the binary point, left-aligned, non-zero) in
 * 7-bit groups, the low bit of each saying "more follow"; xor x. */
static size_t frac_put(uint64_t f, unsigned char *o, unsigned char x)
{
	size_t n = 0;

	do {
		unsigned char c = (unsigned char)((f >> 57) << 1);

		f <<= 7;
		c |= f != 0;
		o[n++] = (unsigned char)(c ^ x);
	} while (f != 0);
	return n;
}

/* Read fraction groups at key[*pos] (xor x) into *f.  zero_ok: a single
 * zero group (f = 0) is canonical; otherwise the last group is non-zero. */
static rdb_rc frac_get(const unsigned char *key, size_t klen, size_t *pos,
		       unsigned char x, int zero_ok, uint64_t *f)
{
	size_t i = *pos, nf = 0;
	unsigned c;

	*f = 0;
	do {
		if (i >= klen || nf == FMT_KEY_FRAC_MAX)
			return RDB_CORRUPT;
		c = key[i++] ^ x;
		*f |= (uint64_t)(c >> 1) << (57 - 7 * nf);
		nf++;
	} while (c & 1);
	if ((c >> 1) == 0 && (nf > 1 || !zero_ok))
		return RDB_CORRUPT;        /* not canonical: a zero last group */
	*pos = i;
	return RDB_OK;
}

/* Is k (non-zero) in the integer-part class, |x| in [1, 2^63) (and -2^63
 * itself)? */
static int knum_is_int_class(const knum *k)
{
	return k->e >= 0 && (k->e < 63 ||
			     (k->e == 63 && k->neg && k->m == UINT64_C(1) << 63));
}

/* Append a number of the tiny or huge class: tag, exponent, fraction. */
static rdb_rc put_exp_form(rdb_buf *b, const knum *k, unsigned char mask)
{
	unsigned char tmp[3 + FMT_KEY_FRAC_MAX + 1];
	unsigned char nm = k->neg ? 0xff : 0;  /* negatives sort reversed */
	unsigned ex = (unsigned)(k->e + FMT_KEY_EXP_BIAS), tag;
	uint64_t f = k->m << 1;                /* the 63 bits after the 1 */
	size_t n = 0;

	if (k->e < 0)
		tag = k->neg ? FMT_KEY_NEG_TINY : FMT_KEY_POS_TINY;
	else
		tag = k->neg ? FMT_KEY_NEG_HUGE : FMT_KEY_POS_HUGE;
	tmp[n++] = (unsigned char)(tag ^ mask);
	tmp[n++] = (unsigned char)((ex >> 8) ^ nm ^ mask);
	tmp[n++] = (unsigned char)((ex & 0xff) ^ nm ^ mask);
	if (f == 0)
		tmp[n++] = (unsigned char)(nm ^ mask);
	else
		n += frac_put(f, tmp + n, nm ^ mask);
	return rdb_buf_append(b, tmp, n);
}

/* Append a non-zero number: the integer-part form when |x| is in
 * [1, 2^63] (docs/format.md, "Keys"), else the exponent form. */
static rdb_rc put_num(rdb_buf *b, const knum *k, unsigned char mask)
{
	unsigned char tmp[9 + FMT_KEY_FRAC_MAX];
	uint64_t n, f, w;
	size_t len, i;

	if (!knum_is_int_class(k))
		return put_exp_form(b, k, mask);
	n = k->m >> (63 - k->e);                   /* floor(|x|) >= 1 */
	f = k->e == 63 ? 0 : k->m << (k->e + 1);   /* |x| - floor(|x|) */
	if (!k->neg) {
		w = 2 * (n - 1) + (f != 0);
	} else if (f == 0) {
		w = 2 * (n - 1);
	} else {                      /* x = -ceil(|x|) + (1 - f) */
		w = 2 * n - 1;
		f = (uint64_t)0 - f;
	}
	len = int_code(w, tmp);
	if (k->neg)
		for (i = 0; i < len; i++)
			tmp[i] ^= 0xff;
	if (f != 0)
		len += frac_put(f, tmp + len, 0);
	for (i = 0; i < len; i++)
		tmp[i] ^= mask;
	return rdb_buf_append(b, tmp, len);
}

/* Tag, the bytes with each 0x00 escaped, the terminator; all xor mask. */
static rdb_rc put_bytes(rdb_buf *b, unsigned char tag, const void *p,
			size_t n, unsigned char mask)
{
	const unsigned char *s = p;
	size_t i, extra = 0;
	unsigned char *o;

	for (i = 0; i < n; i++)
		extra += s[i] == FMT_KEY_ESC;
	if (n > (size_t)-1 / 2 || rdb_buf_reserve(b, n + extra + 3) != RDB_OK)
		return RDB_NOMEM;
	o = b->p + b->n;
	*o++ = tag ^ mask;
	for (i = 0; i < n; i++) {
		*o++ = s[i] ^ mask;
		if (s[i] == FMT_KEY_ESC)
			*o++ = FMT_KEY_ESC_NUL ^ mask;
	}
	*o++ = FMT_KEY_ESC ^ mask;
	*o++ = FMT_KEY_ESC_END ^ mask;
	b->n = (size_t)(o - b->p);
	return RDB_OK;
}

rdb_rc tbl_key_append(rdb_buf *b, const tbl_value *v, int desc)
{
	unsigned char mask = desc ? 0xff : 0;
	knum k;

	assert(b != NULL && v != NULL);
	switch (v->cls) {
	case TBL_NULL:
		return rdb_buf_putc(b, FMT_KEY_NULL ^ mask);
	case TBL_INT:
		if (!num_of_int(v->i, &k))
			return rdb_buf_putc(b, FMT_KEY_ZERO ^ mask);
		return put_num(b, &k, mask);
	case TBL_REAL:
		if (!num_of_real(v->r, &k))
			return rdb_buf_putc(b, FMT_KEY_ZERO ^ mask);
		return put_num(b, &k, mask);
	case TBL_TEXT:
		return put_bytes(b, FMT_KEY_TEXT, v->p, v->n, mask);
	case TBL_BLOB:
		return put_bytes(b, FMT_KEY_BLOB, v->p, v->n, mask);
	}
	assert(!"bad value class");
	return RDB_MISUSE;
}

/* ---- decoding ------------------------------------------------------------ */

/* Read exponent and fraction after a tiny or huge number's tag at
 * key[*pos] (pos just past the tag); mask undoes DESC, neg the negative
 * inversion.  The exponent must be in its class's range. */
static rdb_rc get_exp_form(const unsigned char *key, size_t klen, size_t *pos,
			   unsigned char mask, int tiny, knum *k)
{
	size_t i = *pos;
	unsigned char xm = mask ^ (k->neg ? 0xff : 0);
	uint64_t f;

	if (klen - i < 3)
		return RDB_CORRUPT;
	k->e = (int)(((unsigned)(key[i] ^ xm) << 8) | (key[i + 1] ^ xm)) -
	       FMT_KEY_EXP_BIAS;
	i += 2;
	if (tiny ? (k->e < FMT_KEY_EXP_MIN || k->e >= 0)
		 : (k->e < 63 || k->e > FMT_KEY_EXP_INF))
		return RDB_CORRUPT;
	if (frac_get(key, klen, &i, xm, 1, &f) != RDB_OK)
		return RDB_CORRUPT;
	k->m = (UINT64_C(1) << 63) | (f >> 1);
	if ((k->e == FMT_KEY_EXP_INF && f != 0) ||
	    knum_is_int_class(k))          /* -2^63 has the integer form */
		return RDB_CORRUPT;
	*pos = i;
	return RDB_OK;
}

/* Read an integer-part form at key[*pos] (the tag, not yet consumed). */
static rdb_rc get_int_form(const unsigned char *key, size_t klen, size_t *pos,
			   unsigned char mask, knum *k)
{
	uint64_t w, n, f = 0;
	int z;

	if (int_decode(key, klen, pos, (unsigned char)(mask ^ (k->neg ? 0xff :
							       0)), &w) != RDB_OK)
		return RDB_CORRUPT;
	if ((w & 1) != 0 && frac_get(key, klen, pos, mask, 0, &f) != RDB_OK)
		return RDB_CORRUPT;
	if (!k->neg) {
		n = w / 2 + 1;
		if (n > (uint64_t)INT64_MAX)   /* 2^63 has the exponent form */
			return RDB_CORRUPT;
	} else if (f == 0) {
		n = w / 2 + 1;                 /* up to 2^63 */
	} else {                               /* |x| = (c - 1) + (1 - f) */
		n = w / 2 + 1;                 /* c - 1, c = (w + 1) / 2 + 1 */
		f = (uint64_t)0 - f;
	}
	z = clz64(n);
	k->e = 63 - z;
	k->m = n << z;
	if (f != 0) {
		/* bits below m's last one are no double's */
		if (k->e == 63 || (f << (63 - k->e)) != 0)
			return RDB_CORRUPT;
		k->m |= f >> (k->e + 1);
	}
	return RDB_OK;
}

/* The number as an int64, if it is one. */
static int knum_int(const knum *k, int64_t *out)
{
	int sh = 63 - k->e;
	uint64_t u;

	if (k->e < 0 || k->e > 63)
		return 0;
	if (k->e == 63)              /* only -2^63 fits */
		return k->neg && k->m == UINT64_C(1) << 63 ?
		       (*out = INT64_MIN, 1) : 0;
	if (sh > 0 && (k->m & ((UINT64_C(1) << sh) - 1)) != 0)
		return 0;
	u = k->m >> sh;
	*out = k->neg ? -(int64_t)u : (int64_t)u;
	return 1;
}

/* The number as a double, if it is one exactly. */
static int knum_real(const knum *k, double *out)
{
	uint64_t bits;
	int sh;

	if (k->e == FMT_KEY_EXP_INF) {
		bits = (uint64_t)0x7ff << FRAC_BITS;
	} else if (k->e >= -1022) {
		if ((k->m & 0x7ff) != 0)
			return 0;          /* more than 53 significant bits */
		bits = (uint64_t)(k->e + 1023) << FRAC_BITS |
		       ((k->m >> 11) & FRAC_MASK);
	} else {
		/* denormal: m * 2^(e-63) = (m >> sh) * 2^-1074 */
		sh = -(k->e + 1011);
		assert(sh >= 12 && sh <= 63);
		if ((k->m & ((UINT64_C(1) << sh) - 1)) != 0)
			return 0;
		bits = k->m >> sh;
	}
	bits |= (uint64_t)k->neg << 63;
	memcpy(out, &bits, sizeof(*out));
	return 1;
}

/* Convert number k to the declared type. */
static rdb_rc num_value(const knum *k, tbl_type type, tbl_value *v)
{
	switch (type) {
	case TBL_TY_INTEGER:
		v->cls = TBL_INT;
		return knum_int(k, &v->i) ? RDB_OK : RDB_CORRUPT;
	case TBL_TY_BOOLEAN:
		v->cls = TBL_INT;             /* zero has its own tag */
		return knum_int(k, &v->i) && v->i == 1 ? RDB_OK : RDB_CORRUPT;
	case TBL_TY_REAL:
		v->cls = TBL_REAL;
		return knum_real(k, &v->r) ? RDB_OK : RDB_CORRUPT;
	case TBL_TY_ANY:
		v->cls = TBL_INT;
		if (knum_int(k, &v->i))
			return RDB_OK;
		v->cls = TBL_REAL;
		return knum_real(k, &v->r) ? RDB_OK : RDB_CORRUPT;
	case TBL_TY_TEXT:
	case TBL_TY_BLOB:
		break;
	}
	return RDB_CORRUPT;
}

/* Find the end of escaped bytes starting at key[i]: *end is the index of
 * the terminator, *n the decoded length, *esc whether any escape occurs. */
static rdb_rc scan_bytes(const unsigned char *key, size_t klen, size_t i,
			 unsigned char mask, size_t *end, size_t *n, int *esc)
{
	const unsigned char zero = FMT_KEY_ESC ^ mask;

	*n = 0;
	*esc = 0;
	for (;;) {
		const unsigned char *z = memchr(key + i, zero, klen - i);

		if (z == NULL || (size_t)(z - key) + 1 >= klen)
			return RDB_CORRUPT;
		*n += (size_t)(z - key) - i;
		i = (size_t)(z - key);
		if ((key[i + 1] ^ mask) == FMT_KEY_ESC_END) {
			*end = i;
			return RDB_OK;
		}
		if ((key[i + 1] ^ mask) != FMT_KEY_ESC_NUL)
			return RDB_CORRUPT;
		*esc = 1;
		*n += 1;
		i += 2;
	}
}

/* Copy the decoded bytes of key[i, end) to scratch's end. */
static rdb_rc unescape(const unsigned char *key, size_t i, size_t end,
		       unsigned char mask, size_t n, rdb_buf *scratch)
{
	unsigned char *o;

	if (rdb_buf_reserve(scratch, n) != RDB_OK)
		return RDB_NOMEM;
	o = scratch->p + scratch->n;
	while (i < end) {
		*o++ = key[i] ^ mask;
		i += (key[i] ^ mask) == FMT_KEY_ESC ? 2 : 1;
	}
	assert((size_t)(o - scratch->p) == scratch->n + n);
	scratch->n += n;
	return RDB_OK;
}

/* Decode text or blob at key[*pos] (just past the tag).  A value needing
 * a copy gets v->p = NULL and v->i its scratch offset, fixed up at the
 * end of tbl_key_decode (scratch may move while it fills). */
static rdb_rc get_bytes(const unsigned char *key, size_t klen, size_t *pos,
			unsigned char mask, rdb_buf *scratch, tbl_value *v)
{
	size_t end, n, off;
	int esc;
	rdb_rc rc;

	rc = scan_bytes(key, klen, *pos, mask, &end, &n, &esc);
	if (rc != RDB_OK)
		return rc;
	if (n == 0 || (!esc && mask == 0)) {
		v->p = key + *pos;
		v->n = n;
	} else {
		if (scratch == NULL)
			return RDB_MISUSE;
		off = scratch->n;
		rc = unescape(key, *pos, end, mask, n, scratch);
		if (rc != RDB_OK)
			return rc;
		v->p = NULL;
		v->i = (int64_t)off;
		v->n = n;
	}
	*pos = end + 2;
	return RDB_OK;
}

static rdb_rc get_one(const unsigned char *key, size_t klen, size_t *pos,
		      tbl_type type, unsigned char mask, rdb_buf *scratch,
		      tbl_value *v)
{
	unsigned tag;
	knum k;
	rdb_rc rc;

	if (*pos >= klen)
		return RDB_CORRUPT;
	tag = key[*pos] ^ mask;
	memset(v, 0, sizeof(*v));
	if ((tag >= FMT_KEY_POS_INT &&
	     tag < FMT_KEY_POS_INT + FMT_KEY_INT_TAGS) ||
	    (tag <= (0xffu ^ FMT_KEY_POS_INT) &&
	     tag > (0xffu ^ (FMT_KEY_POS_INT + FMT_KEY_INT_TAGS)))) {
		k.neg = tag < FMT_KEY_ZERO;
		rc = get_int_form(key, klen, pos, mask, &k);
		return rc != RDB_OK ? rc : num_value(&k, type, v);
	}
	(*pos)++;
	switch (tag) {
	case FMT_KEY_NULL:
		v->cls = TBL_NULL;
		return RDB_OK;
	case FMT_KEY_ZERO:
		if (type == TBL_TY_REAL) {
			v->cls = TBL_REAL;
			return RDB_OK;
		}
		v->cls = TBL_INT;
		return type == TBL_TY_TEXT || type == TBL_TY_BLOB ?
		       RDB_CORRUPT : RDB_OK;
	case FMT_KEY_NEG_HUGE:
	case FMT_KEY_NEG_TINY:
	case FMT_KEY_POS_TINY:
	case FMT_KEY_POS_HUGE:
		k.neg = tag < FMT_KEY_ZERO;
		rc = get_exp_form(key, klen, pos, mask, tag == FMT_KEY_NEG_TINY ||
				  tag == FMT_KEY_POS_TINY, &k);
		return rc != RDB_OK ? rc : num_value(&k, type, v);
	case FMT_KEY_TEXT:
	case FMT_KEY_BLOB:
		if (type != TBL_TY_ANY &&
		    type != (tag == FMT_KEY_TEXT ? TBL_TY_TEXT : TBL_TY_BLOB))
			return RDB_CORRUPT;
		v->cls = tag == FMT_KEY_TEXT ? TBL_TEXT : TBL_BLOB;
		return get_bytes(key, klen, pos, mask, scratch, v);
	}
	return RDB_CORRUPT;
}

rdb_rc tbl_key_decode(const void *key, size_t klen, int n,
		      const tbl_type *types, const uint8_t *desc,
		      tbl_value *out, rdb_buf *scratch, size_t *used)
{
	size_t pos = 0;
	int i;
	rdb_rc rc;

	assert(n >= 0 && (n == 0 || (types != NULL && out != NULL)));
	assert(key != NULL || klen == 0);
	if (used != NULL)
		*used = 0;
	if (scratch != NULL)
		rdb_buf_reset(scratch);
	for (i = 0; i < n; i++) {
		rc = get_one(key, klen, &pos, types[i],
			     desc != NULL && desc[i] ? 0xff : 0, scratch,
			     &out[i]);
		if (rc != RDB_OK) {
			memset(out, 0, (size_t)n * sizeof(*out));   /* NULLs */
			return rc;
		}
	}
	for (i = 0; i < n; i++)
		if ((out[i].cls == TBL_TEXT || out[i].cls == TBL_BLOB) &&
		    out[i].p == NULL) {
			out[i].p = scratch->p + out[i].i;
			out[i].i = 0;
		}
	if (used != NULL)
		*used = pos;
	return RDB_OK;
}
