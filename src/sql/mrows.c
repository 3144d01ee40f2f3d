/*
 * mrows.c -- materialized rows: growable arrays of tbl_values whose bytes
 * live in chunks that never move, with a stable sort.  Used for ORDER BY,
 * GROUP BY, compound selects, FROM subqueries and IN (SELECT ...).
 */
#include "exec.h"
#include <stdlib.h>
#include <string.h>
#include "mem.h"

#define CHUNK_MIN 65536u

struct mchunk {
	mchunk *next;
	size_t used, cap;
	unsigned char data[];
};

void mrows_init(mrows *m, int width)
{
	memset(m, 0, sizeof(*m));
	m->width = width;
}

/* n bytes that stay put until the set is freed. */
static void *bytes(mrows *m, size_t n)
{
	mchunk *c = m->bytes;
	size_t cap;

	if (c == NULL || c->cap - c->used < n) {
		cap = n > CHUNK_MIN ? n : CHUNK_MIN;
		if ((c = rdb_malloc(sizeof(*c) + cap)) == NULL)
			return NULL;
		c->used = 0;
		c->cap = cap;
		c->next = m->bytes;
		m->bytes = c;
	}
	c->used += n;
	return c->data + c->used - n;
}

rdb_rc mrows_copy_bytes(mrows *m, tbl_value *v, rdb_err *err)
{
	void *p;

	if ((v->cls != TBL_TEXT && v->cls != TBL_BLOB) || v->n == 0)
		return RDB_OK;
	if ((p = bytes(m, v->n)) == NULL)
		return rdb_err_set(err, RDB_NOMEM, "out of memory");
	memcpy(p, v->p, v->n);
	v->p = p;
	return RDB_OK;
}

rdb_rc mrows_add(mrows *m, const tbl_value *vals, rdb_err *err)
{
	tbl_value *row;
	int i;
	rdb_rc rc;

	if (m->n == m->cap) {
		long cap = m->cap ? 2 * m->cap : 64;
		tbl_value *v = rdb_realloc(m->v, (size_t)cap *
					   (size_t)(m->width ? m->width : 1) *
					   sizeof(*v));

		if (v == NULL)
			return rdb_err_set(err, RDB_NOMEM, "out of memory");
		m->v = v;
		m->cap = cap;
	}
	row = mrows_row(m, m->n);
	for (i = 0; i < m->width; i++) {
		row[i] = vals[i];
		if ((rc = mrows_copy_bytes(m, &row[i], err)) != RDB_OK)
			return rc;
	}
	m->n++;
	return RDB_OK;
}

rdb_rc mrows_copy_row(rdb_buf *b, tbl_value *dst, const tbl_value *src,
		      int n, rdb_err *err)
{
	size_t off = 0;
	int i;

	rdb_buf_reset(b);
	for (i = 0; i < n; i++)
		if ((src[i].cls == TBL_TEXT || src[i].cls == TBL_BLOB) &&
		    src[i].n > 0 && rdb_buf_append(b, src[i].p, src[i].n) !=
		    RDB_OK)
			return rdb_err_set(err, RDB_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		dst[i] = src[i];
		if ((src[i].cls == TBL_TEXT || src[i].cls == TBL_BLOB) &&
		    src[i].n > 0) {
			dst[i].p = b->p + off;
			off += src[i].n;
		}
	}
	return RDB_OK;
}

void mrows_reset(mrows *m)
{
	int w = m->width;

	mrows_free(m);
	mrows_init(m, w);
}

void mrows_free(mrows *m)
{
	mchunk *c, *next;

	if (m == NULL)
		return;
	for (c = m->bytes; c != NULL; c = next) {
		next = c->next;
		rdb_free(c);
	}
	rdb_free(m->v);
	m->v = NULL;
	m->bytes = NULL;
	m->n = m->cap = 0;
}

/* ---- sorting ------------------------------------------------------------- */

typedef struct sort_spec {
	const mrows *m;
	int ncols;
	const int *cols, *desc, *nulls_first;
} sort_spec;

static int cmp_rows(const void *pa, const void *pb, void *arg)
{
	const sort_spec *s = arg;
	long ia = *(const long *)pa, ib = *(const long *)pb;
	const tbl_value *a = mrows_row(s->m, ia), *b = mrows_row(s->m, ib);
	int i, c, n = s->ncols ? s->ncols : s->m->width;

	for (i = 0; i < n; i++) {
		int k = s->ncols ? s->cols[i] : i;
		int an = a[k].cls == TBL_NULL, bn = b[k].cls == TBL_NULL;

		if (s->ncols && (an || bn)) {
			if (an && bn)
				continue;
			c = an ? -1 : 1;
			if (!s->nulls_first[i])
				c = -c;
			return c;
		}
		c = tbl_value_cmp(&a[k], &b[k]);
		if (c != 0)
			return s->ncols && s->desc[i] ? -c : c;
	}
	return (ia > ib) - (ia < ib);
}

rdb_rc mrows_sort(mrows *m, int ncols, const int *cols, const int *desc,
		  const int *nulls_first, rdb_err *err)
{
	sort_spec s = { m, ncols, cols, desc, nulls_first };
	long *idx, i;
	tbl_value *nv;
	size_t w = (size_t)m->width;

	if (m->n < 2)
		return RDB_OK;
	idx = rdb_malloc((size_t)m->n * sizeof(*idx));
	nv = rdb_malloc((size_t)m->n * w * sizeof(*nv));
	if (idx == NULL || nv == NULL) {
		rdb_free(idx);
		rdb_free(nv);
		return rdb_err_set(err, RDB_NOMEM, "out of memory");
	}
	for (i = 0; i < m->n; i++)
		idx[i] = i;
	qsort_r(idx, (size_t)m->n, sizeof(*idx), cmp_rows, &s);
	for (i = 0; i < m->n; i++)
		memcpy(nv + (size_t)i * w, mrows_row(m, idx[i]),
		       w * sizeof(*nv));
	rdb_free(m->v);
	rdb_free(idx);
	m->v = nv;
	m->cap = m->n;
	return RDB_OK;
}

void mrows_dedupe(mrows *m)
{
	long i, out = 0;
	int k;
	size_t w = (size_t)m->width;

	for (i = 0; i < m->n; i++) {
		if (out > 0) {
			const tbl_value *a = mrows_row(m, out - 1);
			const tbl_value *b = mrows_row(m, i);

			for (k = 0; k < m->width; k++)
				if (tbl_value_cmp(&a[k], &b[k]) != 0)
					break;
			if (k == m->width)
				continue;
		}
		if (out != i)
			memcpy(mrows_row(m, out), mrows_row(m, i),
			       w * sizeof(tbl_value));
		out++;
	}
	m->n = out;
}
