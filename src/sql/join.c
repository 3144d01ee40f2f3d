/*
 * join.c -- producing the joined rows of a query: nested loops over its
 * sources in FROM order, each read through its access path (SCAN, or a
 * SEARCH with key bounds and IN lists, or a hash table: hashjoin.c),
 * WHERE conjuncts checked at the first level that has their columns,
 * LEFT JOIN NULL rows.  Design:
 * src/sql/README.md ("Execution").
 */
#include "select.h"
#include <stdlib.h>
#include <string.h>
#include "hashjoin.h"
#include "mem.h"

/* ---- bounds ------------------------------------------------------------- */

/* Evaluate e (a bound value) with affinity aff into slot v of source s.
 * *is_null tells whether it came out NULL (no row can match then). */
static rdb_rc bound_value(sql_prog *p, query *q, const sql_expr *e,
			  sql_aff aff, sql_value *v, int *is_null)
{
	sql_value tmp;
	rdb_rc rc;

	if ((rc = eval(p, q, e, &tmp)) != RDB_OK)
		return rc;
	rc = sql_value_copy(&p->cx, v, &tmp);
	sql_value_free(&tmp);
	if (rc != RDB_OK)
		return rc;
	sql_value_apply_aff(v, aff);
	*is_null = sql_value_class(v) == TBL_NULL;
	return RDB_OK;
}

/* Only the slots eval_bounds() fills: this runs once per outer row. */
static void free_bounds(qsrc *s)
{
	int i;

	for (i = 0; i < s->neq; i++)
		sql_value_free(&s->eqv[i]);
	sql_value_free(&s->eqv[TBL_MAX_KEY_COLS]);
	sql_value_free(&s->eqv[TBL_MAX_KEY_COLS + 1]);
	if (s->inv.v != NULL || s->inv.bytes != NULL)
		mrows_free(&s->inv);
}

/* The IN list's values with the list's affinity, NULLs dropped, sorted in
 * key order and without duplicates. */
static rdb_rc in_values(sql_prog *p, query *q, qsrc *s)
{
	const sql_expr *in = s->in;
	sql_value v;
	tbl_value t;
	int i, isnull, desc = s->key_desc[s->neq];
	rdb_rc rc = RDB_OK;

	mrows_init(&s->inv, 1);
	for (i = 0; i < in->list.n && rc == RDB_OK; i++) {
		if ((rc = bound_value(p, q, in->list.items[i], s->in_aff, &v,
				      &isnull)) != RDB_OK)
			break;
		t = sql_value_tbl(&v);
		if (!isnull)
			rc = mrows_add(&s->inv, &t, p->cx.err);
		sql_value_free(&v);
	}
	if (rc == RDB_OK)
		rc = mrows_sort(&s->inv, 0, NULL, NULL, NULL, p->cx.err);
	if (rc != RDB_OK)
		return rc;
	mrows_dedupe(&s->inv);
	if (desc) {
		/* Keys of a DESC column come largest first. */
		long a = 0, b = s->inv.n - 1;

		for (; a < b; a++, b--) {
			tbl_value x = *mrows_row(&s->inv, a);

			*mrows_row(&s->inv, a) = *mrows_row(&s->inv, b);
			*mrows_row(&s->inv, b) = x;
		}
	}
	if (s->reverse) {
		long a = 0, b = s->inv.n - 1;

		for (; a < b; a++, b--) {
			tbl_value x = *mrows_row(&s->inv, a);

			*mrows_row(&s->inv, a) = *mrows_row(&s->inv, b);
			*mrows_row(&s->inv, b) = x;
		}
	}
	return RDB_OK;
}

/* Set the cursor's range: the equality prefix, then either IN value
 * number s->in_pos or the lo/hi range on the next key column. */
static rdb_rc set_range(sql_prog *p, qsrc *s)
{
	tbl_value v[TBL_MAX_KEY_COLS + 1];
	tbl_bound lo = { v, s->neq, 1 }, hi = { v, s->neq, 1 };
	tbl_value lov, hiv;
	int i, desc = s->neq < s->nkey ? s->key_desc[s->neq] : 0;
	tbl_bound *blo = &lo, *bhi = &hi;

	(void)p;
	for (i = 0; i < s->neq; i++)
		v[i] = sql_value_tbl(&s->eqv[i]);
	if (s->in != NULL) {
		v[s->neq] = *mrows_row(&s->inv, s->in_pos);
		lo.n = hi.n = s->neq + 1;
		return tbl_cursor_range(s->cur, &lo, &hi, s->reverse);
	}
	if (s->lo == NULL && s->hi == NULL)
		return tbl_cursor_range(s->cur, s->neq ? blo : NULL,
					s->neq ? bhi : NULL, s->reverse);
	{
		tbl_value lv[TBL_MAX_KEY_COLS + 1], hv[TBL_MAX_KEY_COLS + 1];
		tbl_bound l2 = { lv, s->neq, 1 }, h2 = { hv, s->neq, 1 };
		const sql_value *sqlo = s->lo ? &s->eqv[TBL_MAX_KEY_COLS] : NULL;
		const sql_value *sqhi = s->hi ? &s->eqv[TBL_MAX_KEY_COLS + 1]
					      : NULL;
		int lo_incl = s->lo_incl, hi_incl = s->hi_incl;

		memcpy(lv, v, (size_t)s->neq * sizeof(*v));
		memcpy(hv, v, (size_t)s->neq * sizeof(*v));
		if (desc) {
			const sql_value *t = sqlo;

			sqlo = sqhi;
			sqhi = t;
			i = lo_incl;
			lo_incl = hi_incl;
			hi_incl = i;
		}
		if (sqlo != NULL) {
			lov = sql_value_tbl(sqlo);
			lv[s->neq] = lov;
			l2.n = s->neq + 1;
			l2.inclusive = lo_incl;
		}
		if (sqhi != NULL) {
			hiv = sql_value_tbl(sqhi);
			hv[s->neq] = hiv;
			h2.n = s->neq + 1;
			h2.inclusive = hi_incl;
		}
		return tbl_cursor_range(s->cur, l2.n ? &l2 : NULL,
					h2.n ? &h2 : NULL, s->reverse);
	}
}

/* Evaluate the bounds of source k for the current outer rows.  *empty
 * when a bound is NULL (nothing can match). */
static rdb_rc eval_bounds(sql_prog *p, query *q, qsrc *s, int *empty)
{
	int i, isnull = 0;
	rdb_rc rc = RDB_OK;

	*empty = 0;
	free_bounds(s);
	for (i = 0; i < s->neq && rc == RDB_OK && !isnull; i++)
		rc = bound_value(p, q, s->eq[i], s->eq_aff[i], &s->eqv[i],
				 &isnull);
	if (rc == RDB_OK && !isnull && s->lo != NULL)
		rc = bound_value(p, q, s->lo, s->lo_aff,
				 &s->eqv[TBL_MAX_KEY_COLS], &isnull);
	if (rc == RDB_OK && !isnull && s->hi != NULL)
		rc = bound_value(p, q, s->hi, s->hi_aff,
				 &s->eqv[TBL_MAX_KEY_COLS + 1], &isnull);
	if (rc == RDB_OK && !isnull && s->in != NULL) {
		rc = in_values(p, q, s);
		isnull = rc == RDB_OK && s->inv.n == 0;
	}
	*empty = isnull;
	return rc;
}

/* ---- one source ------------------------------------------------------------ */

#define SCAN_CACHE_MAX (64u << 20)   /* bytes of rows kept per source */

/* Read the whole table of an inner full scan into s->sub_rows; if it is
 * too big, give up and scan it each time instead. */
static rdb_rc scan_materialize(sql_prog *p, qsrc *s)
{
	size_t bytes = 0;
	int i;
	rdb_rc rc;

	mrows_free(&s->sub_rows);
	mrows_init(&s->sub_rows, s->nvals);
	if (s->cur == NULL &&
	    (rc = tbl_cursor_open(p->t, s->tb, s->ix, &s->cur)) != RDB_OK)
		return rc;
	if ((rc = tbl_cursor_range(s->cur, NULL, NULL, s->reverse)) != RDB_OK)
		return rc;
	while ((rc = tbl_cursor_next(s->cur)) == RDB_ROW) {
		if ((rc = tbl_cursor_row(s->cur, &s->row)) != RDB_OK ||
		    (rc = mrows_add(&s->sub_rows, s->row, p->cx.err)) !=
		    RDB_OK)
			return rc;
		bytes += (size_t)s->nvals * sizeof(tbl_value);
		for (i = 0; i < s->nvals; i++)
			bytes += s->row[i].cls >= TBL_TEXT ? s->row[i].n : 0;
		if (bytes > SCAN_CACHE_MAX) {
			mrows_free(&s->sub_rows);
			s->cache_off = 1;
			return tbl_cursor_range(s->cur, NULL, NULL, s->reverse);
		}
	}
	if (rc != RDB_DONE)
		return rc;
	s->sub_ready = 1;
	return RDB_OK;
}

static int from_memory(const qsrc *s)
{
	return s->acc == ACC_ROWS ||
	       (s->cache_scan && !s->cache_off && s->sub_ready);
}

/* Can a SELECT read source s from its index entries alone (SQLite's
 * covering index)?  Every slot the query reads must be an index column or
 * a column of the table's key, and the entry must give back the stored
 * value exactly: the key encoding keeps text, blobs and integers, but an
 * ANY column's 1.0 comes back as 1 and a REAL's -0.0 as 0.0, so those
 * index columns are read from the row. */
static int cover_ok(const qsrc *s)
{
	uint64_t have = 0;
	tbl_type ty;
	int i, slot, nix = s->ix->ncols;

	if (!s->sel || s->nkey > 63)
		return 0;
	for (i = 0; i < s->nkey; i++) {
		slot = s->key_slot[i];
		if (slot >= 63)
			return 0;
		ty = slot < s->tb->ncols ? s->tb->cols[slot].type
					 : TBL_TY_INTEGER;
		if (i >= nix || ty == TBL_TY_INTEGER || ty == TBL_TY_TEXT ||
		    ty == TBL_TY_BLOB || ty == TBL_TY_BOOLEAN)
			have |= UINT64_C(1) << slot;
	}
	return (s->used & ~have) == 0;
}

/* The current index entry of a covering source as its row (s->cov). */
static rdb_rc cover_row(sql_prog *p, qsrc *s)
{
	const tbl_value *v;
	int i, n;
	rdb_rc rc;

	if (s->cov == NULL) {
		s->cov = rdb_calloc((size_t)s->nvals + 1, sizeof(*s->cov));
		if (s->cov == NULL)
			return rdb_err_set(p->cx.err, RDB_NOMEM,
					   "out of memory");
	}
	if ((rc = tbl_cursor_entry(s->cur, &v, &n)) != RDB_OK)
		return rc;
	if (n != s->nkey)
		return rdb_err_set(p->cx.err, RDB_INTERNAL, "index entry of "
				   "%d values, expected %d", n, s->nkey);
	for (i = 0; i < n; i++)
		s->cov[s->key_slot[i]] = v[i];
	s->row = s->cov;
	return RDB_OK;
}

static rdb_rc src_open(sql_prog *p, query *q, int k)
{
	qsrc *s = &q->src[k];
	int empty = 0;
	rdb_rc rc;

	s->matched = s->null_done = s->null_row = 0;
	s->exhausted = 0;
	s->row = NULL;
	s->in_pos = 0;
	if (hj_active(s) &&
	    ((rc = hj_open(p, q, s)) != RDB_OK || hj_active(s)))
		return rc;
	if (s->acc == ACC_ROWS) {
		s->sub_pos = 0;
		if (s->sub_ready && !s->sub->correlated)
			return RDB_OK;
		return sub_materialize(p, s);
	}
	if (s->cache_scan && !s->cache_off) {
		s->sub_pos = 0;
		if (s->sub_ready)
			return RDB_OK;
		return scan_materialize(p, s);
	}
	if (s->cur == NULL &&
	    (rc = tbl_cursor_open(p->t, s->tb, s->ix, &s->cur)) != RDB_OK)
		return rc;
	s->covering = s->ix != NULL && cover_ok(s);
	if (s->acc == ACC_RANGE &&
	    (rc = eval_bounds(p, q, s, &empty)) != RDB_OK)
		return rc;
	if (empty) {
		s->exhausted = 1;
		return RDB_OK;
	}
	return set_range(p, s);
}

/* The next stored row of source k (no filters): RDB_ROW or RDB_DONE. */
static rdb_rc src_raw(sql_prog *p, qsrc *s)
{
	rdb_rc rc;

	if (s->exhausted)
		return RDB_DONE;
	if (hj_active(s))
		return hj_next(s);
	if (from_memory(s)) {
		if (s->sub_pos >= s->sub_rows.n)
			return RDB_DONE;
		s->row = mrows_row(&s->sub_rows, s->sub_pos++);
		return RDB_ROW;
	}
	for (;;) {
		rc = tbl_cursor_next(s->cur);
		if (rc == RDB_ROW && s->covering)
			return cover_row(p, s) == RDB_OK ? RDB_ROW
							 : p->cx.err->rc;
		if (rc == RDB_ROW)
			return tbl_cursor_row(s->cur, &s->row) == RDB_OK
				       ? RDB_ROW : p->cx.err->rc;
		if (rc != RDB_DONE)
			return rc;
		if (s->in == NULL || ++s->in_pos >= s->inv.n) {
			s->exhausted = 1;
			return RDB_DONE;
		}
		if ((rc = set_range(p, s)) != RDB_OK)
			return rc;
	}
}

/* Do all of filters[0..n) hold for the current rows? */
static rdb_rc check(sql_prog *p, query *q, sql_expr **f, int n, int *ok)
{
	int i, t;
	rdb_rc rc;

	*ok = 1;
	for (i = 0; i < n; i++) {
		if ((rc = eval_truth(p, q, f[i], &t)) != RDB_OK)
			return rc;
		if (t != 1) {
			*ok = 0;
			return RDB_OK;
		}
	}
	return RDB_OK;
}

/* Advance source k to its next row that passes its filters, producing a
 * LEFT JOIN's NULL row when no row matched its ON clause. */
static rdb_rc src_step(sql_prog *p, query *q, int k)
{
	qsrc *s = &q->src[k];
	int ok, hash = hj_active(s);
	/* Through a hash table, the equalities and the build filters hold
	 * for every row it returns. */
	sql_expr **on = hash ? s->hon : s->on, **filt = hash ? s->hfilt
							      : s->filt;
	int non = hash ? s->nhon : s->non, nfilt = hash ? s->nhfilt
						      : s->nfilt;
	rdb_rc rc;

	for (;;) {
		s->null_row = 0;
		rc = src_raw(p, s);
		if (rc == RDB_DONE) {
			if (!s->left || s->matched || s->null_done)
				return RDB_DONE;
			s->null_done = 1;
			s->null_row = 1;
			s->row = s->nulls;
			if ((rc = check(p, q, filt, nfilt, &ok)) != RDB_OK)
				return rc;
			return ok ? RDB_ROW : RDB_DONE;
		}
		if (rc != RDB_ROW)
			return rc;
		if ((rc = check(p, q, on, non, &ok)) != RDB_OK)
			return rc;
		if (!ok)
			continue;
		s->matched = 1;
		if ((rc = check(p, q, filt, nfilt, &ok)) != RDB_OK)
			return rc;
		if (ok)
			return RDB_ROW;
	}
}

void src_close(qsrc *s)
{
	tbl_cursor_close(s->cur);
	s->cur = NULL;
	free_bounds(s);
	hj_free(s);
	s->row = NULL;
}

/* ---- the join ------------------------------------------------------------ */

/* Check the conjuncts that use no source (once per run). */
static rdb_rc const_where(sql_prog *p, query *q, int *ok)
{
	return check(p, q, q->where_const, q->nwhere_const, ok);
}

rdb_rc join_next(sql_prog *p, query *q)
{
	run *r = q->r;
	int ok;
	rdb_rc rc;

	if (!r->started) {
		r->started = 1;
		if ((rc = const_where(p, q, &ok)) != RDB_OK)
			return rc;
		if (!ok) {
			r->level = -1;
			return RDB_DONE;
		}
		if (q->nsrc == 0) {
			r->level = -1;
			return RDB_ROW;       /* SELECT without FROM: one row */
		}
		r->level = 0;
		if ((rc = src_open(p, q, q->jorder[0])) != RDB_OK)
			return rc;
	}
	while (r->level >= 0) {
		if (atomic_load_explicit(&p->c->interrupt,
					 memory_order_relaxed))
			return rdb_err_set(p->cx.err, RDB_INTERRUPT,
					   "interrupted");
		rc = src_step(p, q, q->jorder[r->level]);
		if (rc == RDB_DONE) {
			r->level--;
			continue;
		}
		if (rc != RDB_ROW)
			return rc;
		q->src[q->jorder[r->level]].nrow++;
		if (r->level == q->nsrc - 1)
			return RDB_ROW;
		r->level++;
		if ((rc = src_open(p, q, q->jorder[r->level])) != RDB_OK)
			return rc;
	}
	return RDB_DONE;
}
