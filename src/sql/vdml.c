/*
 * vdml.c -- INSERT, UPDATE and DELETE on a view: nothing is written to the
 * view; its INSTEAD OF triggers run once per row instead (SQLite's rules).
 * dml.c hands a statement whose target is a view to this file.  Design:
 * src/sql/README.md ("Views and triggers").
 */
#include "bind.h"
#include "select.h"
#include <string.h>
#include "mem.h"

/* ---- binding ------------------------------------------------------------- */

/* The view `name` as the single source of a new query (whose parent is
 * the trigger frame when this statement is a trigger's body). */
static rdb_rc view_query(binder *b, const char *name, const char *alias,
			 query **out)
{
	sql_src si;
	qsrc *s;
	query *q;
	rdb_rc rc;

	if ((q = *out = query_new(b, b->frame)) == NULL)
		return RDB_NOMEM;
	if ((q->src = rdb_calloc(1, sizeof(qsrc))) == NULL)
		return rdb_err_set(b->err, RDB_NOMEM, "out of memory");
	q->nsrc = 1;
	s = &q->src[0];
	s->name = alias != NULL ? alias : name;
	memset(&si, 0, sizeof(si));
	si.name = name;
	if ((rc = bind_view(b, q, &si, s)) != RDB_OK)
		return rc == RDB_NOTFOUND ? rdb_err_set(b->err, RDB_ERROR, "no "
							"such table: %s", name)
					  : rc;
	return src_nulls(b, s);
}

/* Compile the view's INSTEAD OF triggers for event ev.  Without one, the
 * statement is SQLite's error, unless the one there is is left out
 * because it is running (a trigger's body writing its own view): then,
 * as in SQLite, the statement does nothing. */
static rdb_rc instead_of(binder *b, sql_prog *p, sql_trigger_event ev,
			 const char *name)
{
	rdb_rc rc = trig_compile(b, p, ev);

	if (rc == RDB_OK && !trig_any(p) && !trig_suppressed(b, p, ev))
		rc = rdb_err_set(b->err, RDB_ERROR, "cannot modify %s because "
				 "it is a view", name);
	return rc;
}

/* Bind where (may be NULL) in q and plan q. */
static rdb_rc where_plan(binder *b, query *q, sql_expr *where)
{
	sql_expr **conj = NULL;
	int n = 0, cap = 0;
	rdb_rc rc;

	if (where != NULL &&
	    ((rc = bind_expr(b, q, where, 0)) != RDB_OK ||
	     (rc = conj_split(b, where, &conj, &n, &cap)) != RDB_OK))
		return rc;
	return plan_query(b, q, conj, n);
}

rdb_rc vdml_bind_insert(binder *b, sql_prog *p)
{
	sql_insert *in = &p->ast->u.insert;
	const qsrc *v;
	int i, k, n;
	rdb_rc rc;

	if ((rc = view_query(b, in->table, NULL, &p->vq)) != RDB_OK ||
	    (rc = instead_of(b, p, SQL_TRIG_INSERT, in->table)) != RDB_OK)
		return rc;
	v = &p->vq->src[0];
	if ((p->ins_map = rdb_malloc((size_t)v->nvals * sizeof(int) + 1)) ==
	    NULL)
		return rdb_err_set(b->err, RDB_NOMEM, "out of memory");
	for (i = 0; i < v->nvals; i++)
		p->ins_map[i] = -1;
	n = in->select == NULL ? 0 : in->cols.n > 0 ? in->cols.n : v->nvals;
	for (i = 0; i < n; i++) {
		k = in->cols.n > 0 ? src_find(v, in->cols.names[i]) : i;
		if (k < 0)
			return rdb_err_set(b->err, RDB_ERROR, "table %s has no "
					   "column named %s", in->table,
					   in->cols.names[i]);
		p->ins_map[k] = i;
	}
	p->nins = n;
	if (in->select == NULL)
		return RDB_OK;
	if ((rc = bind_select(b, in->select, b->frame, &p->q)) != RDB_OK ||
	    p->q->nout == n)
		return rc;
	return in->cols.n > 0
		? rdb_err_set(b->err, RDB_ERROR, "%d values for %d columns",
			      p->q->nout, n)
		: rdb_err_set(b->err, RDB_ERROR, "table %s has %d columns but "
			      "%d values were supplied", in->table, n,
			      p->q->nout);
}

/* UPDATE: ins_map[i] is the view column SET i assigns (-1 while unknown:
 * SQLite reports a missing trigger before a missing column). */
rdb_rc vdml_bind_update(binder *b, sql_prog *p)
{
	sql_update *u = &p->ast->u.update;
	int i;
	rdb_rc rc;

	if ((rc = view_query(b, u->table, u->alias, &p->vq)) != RDB_OK)
		return rc;
	p->q = p->vq;
	if ((p->ins_map = rdb_malloc((size_t)u->n_sets * sizeof(int) + 1)) ==
	    NULL)
		return rdb_err_set(b->err, RDB_NOMEM, "out of memory");
	for (i = 0; i < u->n_sets; i++) {
		if (u->sets[i].cols.n != 1)
			return rdb_err_set(b->err, RDB_ERROR, "SET of a row "
					   "value is not supported");
		p->ins_map[i] = src_find(&p->q->src[0],
					 u->sets[i].cols.names[0]);
	}
	p->nins = u->n_sets;
	if ((rc = instead_of(b, p, SQL_TRIG_UPDATE, u->table)) != RDB_OK)
		return rc;
	for (i = 0; i < u->n_sets; i++) {
		if (p->ins_map[i] < 0)
			return rdb_err_set(b->err, RDB_ERROR, "no such column: "
					   "%s", u->sets[i].cols.names[0]);
		if ((rc = bind_expr(b, p->q, u->sets[i].value, 0)) != RDB_OK)
			return rc;
	}
	return where_plan(b, p->q, u->where);
}

rdb_rc vdml_bind_delete(binder *b, sql_prog *p)
{
	sql_delete *d = &p->ast->u.del;
	rdb_rc rc;

	if ((rc = view_query(b, d->table, d->alias, &p->vq)) != RDB_OK ||
	    (rc = instead_of(b, p, SQL_TRIG_DELETE, d->table)) != RDB_OK)
		return rc;
	p->q = p->vq;
	return where_plan(b, p->q, d->where);
}

/* ---- running ------------------------------------------------------------- */

/* The view rows that pass the WHERE, copied: triggers may change the
 * tables under the view, and must not change which rows are visited. */
static rdb_rc collect(sql_prog *p, mrows *m)
{
	query *q = p->q;
	rdb_rc rc;

	mrows_init(m, q->src[0].nvals);
	rc = query_open(p, q);
	while (rc == RDB_OK && (rc = join_next(p, q)) == RDB_ROW)
		rc = mrows_add(m, q->src[0].row, p->cx.err);
	query_close(p, q);
	return rc == RDB_DONE ? RDB_OK : rc;
}

/* The rows to insert (p->nins values each), all read before the first
 * trigger runs, as SQLite does for a target with triggers. */
static rdb_rc insert_values(sql_prog *p, mrows *m)
{
	tbl_value *v;
	rdb_rc rc;
	int i;

	mrows_init(m, p->nins);
	if (p->q == NULL)                       /* DEFAULT VALUES */
		return mrows_add(m, NULL, p->cx.err);
	if ((v = rdb_calloc((size_t)p->nins + 1, sizeof(*v))) == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	rc = query_open(p, p->q);
	while (rc == RDB_OK && (rc = query_next(p, p->q)) == RDB_ROW) {
		for (i = 0; i < p->nins; i++)
			v[i] = sql_value_tbl(&p->q->r->outv[i]);
		rc = mrows_add(m, v, p->cx.err);
	}
	query_close(p, p->q);
	rdb_free(v);
	return rc == RDB_DONE ? RDB_OK : rc;
}

static rdb_rc run_insert(sql_prog *p)
{
	int i, nv = p->vq->src[0].nvals, skip;
	tbl_value *row;
	mrows vals;
	long r;
	rdb_rc rc;

	if ((row = rdb_calloc((size_t)nv + 1, sizeof(*row))) == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	rc = insert_values(p, &vals);
	for (r = 0; r < vals.n && rc == RDB_OK; r++) {
		const tbl_value *in = mrows_row(&vals, r);

		for (i = 0; i < nv; i++)
			row[i] = p->ins_map[i] >= 0 ? in[p->ins_map[i]]
					: (tbl_value){ .cls = TBL_NULL };
		rc = trig_fire(p, SQL_TRIG_INSTEAD_OF, row, NULL, &skip);
	}
	mrows_free(&vals);
	rdb_free(row);
	return rc;
}

/* NEW for view row old: old with the SET expressions' values. */
static rdb_rc fire_update(sql_prog *p, const tbl_value *old, tbl_value *nrow,
			  sql_value *vals)
{
	query *q = p->q;
	int i, skip;
	rdb_rc rc = RDB_OK;

	memcpy(nrow, old, (size_t)q->src[0].nvals * sizeof(*nrow));
	q->src[0].row = old;
	for (i = 0; i < p->nins && rc == RDB_OK; i++)
		rc = eval(p, q, p->ast->u.update.sets[i].value, &vals[i]);
	for (i = 0; i < p->nins && rc == RDB_OK; i++)
		nrow[p->ins_map[i]] = sql_value_tbl(&vals[i]);
	if (rc == RDB_OK)
		rc = trig_fire(p, SQL_TRIG_INSTEAD_OF, nrow, old, &skip);
	for (i = 0; i < p->nins; i++)
		sql_value_free(&vals[i]);
	return rc;
}

static rdb_rc run_change(sql_prog *p)
{
	tbl_value *nrow = NULL;
	sql_value *vals = NULL;
	mrows rows;
	int skip;
	long i;
	rdb_rc rc = collect(p, &rows);

	if (rc == RDB_OK && p->op == OP_UPDATE &&
	    ((nrow = rdb_calloc((size_t)rows.width + 1,
				sizeof(*nrow))) == NULL ||
	     (vals = rdb_calloc((size_t)p->nins + 1,
				sizeof(*vals))) == NULL))
		rc = rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	for (i = 0; i < rows.n && rc == RDB_OK; i++)
		rc = p->op == OP_UPDATE
			? fire_update(p, mrows_row(&rows, i), nrow, vals)
			: trig_fire(p, SQL_TRIG_INSTEAD_OF, NULL,
				    mrows_row(&rows, i), &skip);
	p->q->src[0].row = NULL;
	rdb_free(nrow);
	rdb_free(vals);
	mrows_free(&rows);
	return rc;
}

rdb_rc vdml_run(sql_prog *p)
{
	/* p->changes stays 0: SQLite does not count a view's rows. */
	return p->op == OP_INSERT ? run_insert(p) : run_change(p);
}
