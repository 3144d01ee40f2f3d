/*
 * row.c -- the encoding of a row's non-key columns (tbl_row_encode,
 * tbl_row_decode).  Bytes: docs/format.md ("Tables", "Rows"); design:
 * src/table/README.md ("Values and encodings").
 */
#include "table/table.h"
#include <assert.h>
#include <string.h>
#include "table/tbl_int.h"

/* Is column c stored in the row record (not part of the key)? */
static int is_stored(const tbl_table *tb, int c)
{
	return tb->npk == 0 || tb->cols[c].pk == 0;
}

/* Does v's class fit a column of declared type ty? */
static int fits(tbl_type ty, const tbl_value *v)
{
	switch (ty) {
	case TBL_TY_INTEGER: return v->cls == TBL_INT;
	case TBL_TY_BOOLEAN: return v->cls == TBL_INT && (v->i | 1) == 1;
	case TBL_TY_REAL: return v->cls == TBL_REAL && v->r == v->r;
	case TBL_TY_TEXT: return v->cls == TBL_TEXT;
	case TBL_TY_BLOB: return v->cls == TBL_BLOB;
	case TBL_TY_ANY: return v->cls != TBL_REAL || v->r == v->r;
	}
	return 0;
}

/* Append one non-NULL value (with its class byte for ANY). */
static rdb_rc put_value(rdb_buf *b, tbl_type ty, const tbl_value *v)
{
	unsigned char tmp[1 + FMT_VARINT_MAX + 8];
	size_t n = 0;
	uint64_t bits;

	if (ty == TBL_TY_ANY)
		tmp[n++] = (unsigned char)(v->cls == TBL_INT ? FMT_ROW_INT :
			   v->cls == TBL_REAL ? FMT_ROW_REAL :
			   v->cls == TBL_TEXT ? FMT_ROW_TEXT : FMT_ROW_BLOB);
	switch (v->cls) {
	case TBL_INT:
		n += tbl_varint_put(tmp + n, tbl_zigzag(v->i));
		return rdb_buf_append(b, tmp, n);
	case TBL_REAL:
		memcpy(&bits, &v->r, sizeof(bits));
		fmt_put_u64(tmp + n, bits);
		return rdb_buf_append(b, tmp, n + 8);
	case TBL_TEXT:
	case TBL_BLOB:
		n += tbl_varint_put(tmp + n, (uint64_t)v->n);
		if (rdb_buf_reserve(b, n + v->n) != RDB_OK)
			return RDB_NOMEM;
		memcpy(b->p + b->n, tmp, n);
		if (v->n > 0)
			memcpy(b->p + b->n + n, v->p, v->n);
		b->n += n + v->n;
		return RDB_OK;
	case TBL_NULL:
		break;
	}
	assert(!"NULL is in the bitmap");
	return RDB_MISUSE;
}

/* Appends to out.  A value whose class the column's type cannot hold is
 * RDB_MISMATCH (the values must have been through tbl_value_apply). */
rdb_rc tbl_row_encode(const tbl_table *tb, const tbl_value *row,
		      rdb_buf *out)
{
	unsigned char hdr[FMT_VARINT_MAX];
	size_t start = out->n, bm, n, nb;
	uint64_t k = 0, nulls = 0;
	int c, j;
	rdb_rc rc;

	assert(tb != NULL && row != NULL && out != NULL);
	for (c = 0; c < tb->ncols; c++) {
		if (!is_stored(tb, c))
			continue;
		if (row[c].cls != TBL_NULL && !fits(tb->cols[c].type, &row[c]))
			return RDB_MISMATCH;
		nulls |= row[c].cls == TBL_NULL;
		k++;
	}
	/* the bitmap only when some stored column is NULL */
	n = tbl_varint_put(hdr, k << 1 | nulls);
	nb = nulls ? (size_t)(k + 7) / 8 : 0;
	if (rdb_buf_reserve(out, n + nb) != RDB_OK)
		return RDB_NOMEM;
	memcpy(out->p + out->n, hdr, n);
	bm = out->n + n;
	memset(out->p + bm, 0, nb);
	out->n = bm + nb;
	rc = RDB_OK;
	for (c = 0, j = 0; rc == RDB_OK && c < tb->ncols; c++) {
		if (!is_stored(tb, c))
			continue;
		if (row[c].cls == TBL_NULL)
			out->p[bm + j / 8] |= (unsigned char)(1u << (j % 8));
		else
			rc = put_value(out, tb->cols[c].type, &row[c]);
		j++;
	}
	if (rc != RDB_OK)
		out->n = start;
	return rc;
}

/* ---- decoding ------------------------------------------------------------ */

typedef struct rd {
	const unsigned char *p;
	size_t n, pos;
} rd;

static rdb_rc rd_varint(rd *r, uint64_t *v)
{
	size_t used = tbl_varint_get(r->p + r->pos, r->n - r->pos, v);

	if (used == 0)
		return RDB_CORRUPT;
	r->pos += used;
	return RDB_OK;
}

static rdb_rc get_value(rd *r, tbl_type ty, tbl_value *v)
{
	uint64_t u;
	unsigned cls;

	memset(v, 0, sizeof(*v));
	if (ty == TBL_TY_ANY) {
		if (r->pos >= r->n)
			return RDB_CORRUPT;
		cls = r->p[r->pos++];
	} else {
		cls = ty == TBL_TY_REAL ? FMT_ROW_REAL :
		      ty == TBL_TY_TEXT ? FMT_ROW_TEXT :
		      ty == TBL_TY_BLOB ? FMT_ROW_BLOB : FMT_ROW_INT;
	}
	switch (cls) {
	case FMT_ROW_INT:
		v->cls = TBL_INT;
		if (rd_varint(r, &u) != RDB_OK)
			return RDB_CORRUPT;
		v->i = tbl_unzigzag(u);
		return ty == TBL_TY_BOOLEAN && (v->i | 1) != 1 ?
		       RDB_CORRUPT : RDB_OK;
	case FMT_ROW_REAL:
		if (r->n - r->pos < 8)
			return RDB_CORRUPT;
		v->cls = TBL_REAL;
		u = fmt_get_u64(r->p + r->pos);
		memcpy(&v->r, &u, sizeof(u));
		r->pos += 8;
		return v->r == v->r ? RDB_OK : RDB_CORRUPT;   /* NaN */
	case FMT_ROW_TEXT:
	case FMT_ROW_BLOB:
		v->cls = cls == FMT_ROW_TEXT ? TBL_TEXT : TBL_BLOB;
		if (rd_varint(r, &u) != RDB_OK || u > r->n - r->pos)
			return RDB_CORRUPT;
		v->p = r->p + r->pos;
		v->n = (size_t)u;
		r->pos += (size_t)u;
		return RDB_OK;
	}
	return RDB_CORRUPT;
}

static int any_bit(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 1;
	return 0;
}

/* A column the record does not hold: its default, else NULL. */
static void missing(const tbl_column *col, tbl_value *v)
{
	static const tbl_value null_value = { .cls = TBL_NULL };

	*v = col->has_dflt ? col->dflt : null_value;
}

rdb_rc tbl_row_decode(const tbl_table *tb, const void *data, size_t n,
		      tbl_value *row)
{
	rd r = { data, n, 0 };
	uint64_t h, k, m = 0;
	size_t bm, nb;
	int c, j;
	rdb_rc rc;

	assert(tb != NULL && row != NULL && (data != NULL || n == 0));
	for (c = 0; c < tb->ncols; c++)
		m += (uint64_t)is_stored(tb, c);
	if (rd_varint(&r, &h) != RDB_OK || (k = h >> 1) > m)
		return RDB_CORRUPT;
	nb = (h & 1) ? (size_t)(k + 7) / 8 : 0;
	if (nb > n - r.pos || ((h & 1) && k == 0))
		return RDB_CORRUPT;
	bm = r.pos;
	r.pos += nb;
	if (nb > 0 && k % 8 != 0 && (r.p[r.pos - 1] >> (k % 8)) != 0)
		return RDB_CORRUPT;        /* bits past the last column */
	if (nb > 0 && !any_bit(r.p + bm, nb))
		return RDB_CORRUPT;        /* a bitmap without a NULL */
	for (c = 0, j = 0; c < tb->ncols; c++) {
		if (!is_stored(tb, c))
			continue;
		if ((uint64_t)j >= k)
			missing(&tb->cols[c], &row[c]);
		else if (nb > 0 && (r.p[bm + j / 8] & (1u << (j % 8))))
			memset(&row[c], 0, sizeof(row[c]));   /* TBL_NULL */
		else if ((rc = get_value(&r, tb->cols[c].type, &row[c])) !=
			 RDB_OK)
			return rc;
		j++;
	}
	return r.pos == n ? RDB_OK : RDB_CORRUPT;
}
