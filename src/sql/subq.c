/*
 * subq.c -- subqueries: scalar subqueries, EXISTS, IN (SELECT ...) and
 * subqueries in FROM.  An uncorrelated one runs once per statement run
 * (its value or list is cached); a correlated one runs again for each
 * outer row.  Design: src/sql/README.md ("Execution").
 */
#include "select.h"
#include <string.h>
#include "mem.h"

/* Run sub and keep its rows (all columns) in *m. */
static rdb_rc run_into(sql_prog *p, query *sub, mrows *m, long max)
{
	tbl_value stack[64], *row = stack;
	int i;
	rdb_rc rc;

	if (sub->nout > 64 &&
	    (row = rdb_malloc((size_t)sub->nout * sizeof(*row))) == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	rc = query_open(p, sub);
	while (rc == RDB_OK && (max < 0 || m->n < max) &&
	       (rc = query_next(p, sub)) == RDB_ROW) {
		for (i = 0; i < sub->nout; i++)
			row[i] = sql_value_tbl(&sub->r->outv[i]);
		rc = mrows_add(m, row, p->cx.err);
	}
	query_close(p, sub);
	if (row != stack)
		rdb_free(row);
	return rc == RDB_DONE ? RDB_OK : rc;
}

rdb_rc sub_materialize(sql_prog *p, qsrc *s)
{
	mrows_free(&s->sub_rows);
	mrows_init(&s->sub_rows, s->nvals);
	s->sub_ready = 0;
	if (run_into(p, s->sub, &s->sub_rows, -1) != RDB_OK)
		return p->cx.err->rc;
	s->sub_ready = 1;
	return RDB_OK;
}

void subq_free_list(xinfo *x)
{
	mrows_free(&x->list);
	x->list_null = 0;
}

/* The sorted list of IN (SELECT ...) with the comparison's affinity
 * applied; NULLs are noted and dropped. */
static rdb_rc build_list(sql_prog *p, const sql_expr *e, xinfo *x,
			 sql_aff aff)
{
	mrows raw;
	sql_value v;
	tbl_value t;
	long i;
	rdb_rc rc;

	subq_free_list(x);
	mrows_init(&x->list, 1);
	mrows_init(&raw, 1);
	rc = run_into(p, x->sub, &raw, -1);
	for (i = 0; i < raw.n && rc == RDB_OK; i++) {
		sql_value_from_tbl(&v, mrows_row(&raw, i));
		sql_value_apply_aff(&v, aff);
		if (sql_value_class(&v) == TBL_NULL) {
			x->list_null = 1;
			continue;
		}
		t = sql_value_tbl(&v);
		rc = mrows_add(&x->list, &t, p->cx.err);
	}
	mrows_free(&raw);
	if (rc == RDB_OK)
		rc = mrows_sort(&x->list, 0, NULL, NULL, NULL, p->cx.err);
	if (rc == RDB_OK)
		mrows_dedupe(&x->list);
	(void)e;
	return rc;
}

int mrows_find(const mrows *m, const tbl_value *v)
{
	long lo = 0, hi = m->n - 1, mid;
	int c;

	while (lo <= hi) {
		mid = lo + (hi - lo) / 2;
		c = tbl_value_cmp(mrows_row(m, mid), v);
		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return 0;
}

static rdb_rc in_select(sql_prog *p, query *q, const sql_expr *e,
			sql_value *out)
{
	xinfo *x = xi(e);
	sql_aff aff = sql_aff_compare(expr_aff(e->left),
				      expr_aff(x->sub->out[0]));
	sql_value v;
	tbl_value t;
	rdb_rc rc;

	if ((rc = eval(p, q, e->left, &v)) != RDB_OK)
		return rc;
	if (x->correlated || !x->cached) {
		if ((rc = build_list(p, e, x, aff)) != RDB_OK) {
			sql_value_free(&v);
			return rc;
		}
		/* Registered once per run, correlated or not, so that the
		 * list is freed when the run ends (a correlated one is
		 * rebuilt each time all the same). */
		if (!x->cached) {
			x->cached = 1;
			x->next_cached = p->caches;
			p->caches = x;
		}
	}
	if (x->list.n == 0 && !x->list_null) {
		sql_value_int(out, 0);
	} else {
		sql_value_apply_aff(&v, aff);
		t = sql_value_tbl(&v);
		if (t.cls == TBL_NULL)
			sql_value_null(out);
		else if (mrows_find(&x->list, &t))
			sql_value_int(out, 1);
		else if (x->list_null)
			sql_value_null(out);
		else
			sql_value_int(out, 0);
	}
	sql_value_free(&v);
	if (e->flags & SQL_EF_NOT) {
		sql_not(out, &v);
		sql_value_free(out);
		*out = v;
	}
	return RDB_OK;
}

rdb_rc subq_eval(sql_prog *p, query *q, const sql_expr *e, sql_value *out)
{
	xinfo *x = xi(e);
	mrows m;
	rdb_rc rc;

	(void)q;
	if (e->op == SQL_E_IN_SELECT)
		return in_select(p, q, e, out);
	mrows_init(&m, x->sub->nout);
	rc = run_into(p, x->sub, &m, 1);
	if (rc == RDB_OK && e->op == SQL_E_EXISTS)
		sql_value_int(out, m.n > 0);
	else if (rc == RDB_OK && m.n == 0)
		sql_value_null(out);
	else if (rc == RDB_OK) {
		sql_value v;

		sql_value_from_tbl(&v, mrows_row(&m, 0));
		rc = sql_value_copy(&p->cx, out, &v);
	}
	mrows_free(&m);
	return rc;
}
