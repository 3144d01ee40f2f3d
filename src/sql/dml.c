/*
 * dml.c -- INSERT, UPDATE and DELETE: binding their targets and running
 * them to completion in the statement's first step.  Rows to change are
 * collected before the first change, so a statement never sees its own
 * writes.  Design: src/sql/README.md ("Writing rows").
 */
#include "bind.h"
#include "select.h"
#include <string.h>
#include <strings.h>
#include "mem.h"

static tbl_conflict conflict_of(sql_conflict c)
{
	switch (c) {
	case SQL_OR_REPLACE: return TBL_REPLACE;
	case SQL_OR_IGNORE: return TBL_IGNORE;
	default: return TBL_ABORT;
	}
}

static const tbl_table *target(binder *b, const char *name)
{
	const tbl_table *tb = tbl_schema_table(b->s, name);

	if (tb == NULL && view_refuse_write(b, name) == RDB_OK)
		rdb_err_set(b->err, RDB_ERROR, "no such table: %s", name);
	else if (tb != NULL && view_refuse_write(b, name) != RDB_OK)
		return NULL;
	return tb;
}

/* ---- binding ----------------------------------------------------------- */

rdb_rc bind_table_query(binder *b, const char *table, const char *alias,
			sql_expr *where, query **out)
{
	sql_expr **conj = NULL;
	int n = 0, cap = 0;
	query *q;
	rdb_rc rc;

	*out = NULL;
	if ((q = query_new(b, b->frame)) == NULL)
		return RDB_NOMEM;
	if ((q->src = rdb_calloc(1, sizeof(qsrc))) == NULL)
		return rdb_err_set(b->err, RDB_NOMEM, "out of memory");
	*out = q;
	q->nsrc = 1;
	if ((q->src[0].tb = target(b, table)) == NULL)
		return RDB_ERROR;
	q->src[0].name = alias != NULL ? alias : table;
	q->src[0].nvals = tbl_nvals(q->src[0].tb);
	if ((rc = src_nulls(b, &q->src[0])) != RDB_OK)
		return rc;
	if (where != NULL &&
	    ((rc = bind_expr(b, q, where, 0)) != RDB_OK ||
	     (rc = conj_split(b, where, &conj, &n, &cap)) != RDB_OK))
		return rc;
	return plan_query(b, q, conj, n);
}

/* The column of tb called name (rowid names for a rowid table), or -1. */
static int column_of(const tbl_table *tb, const char *name)
{
	qsrc s;

	memset(&s, 0, sizeof(s));
	s.tb = tb;
	s.nvals = tbl_nvals(tb);
	return src_find(&s, name);
}

rdb_rc dml_bind_insert(binder *b, sql_prog *p)
{
	sql_insert *in = &p->ast->u.insert;
	const tbl_table *tb;
	int i, n, k, nv;
	rdb_rc rc;

	if (tbl_schema_view(b->s, in->table) != NULL)
		return vdml_bind_insert(b, p);
	if ((tb = p->tb = target(b, in->table)) == NULL)
		return RDB_ERROR;
	nv = tbl_nvals(tb);
	if ((p->ins_map = rdb_malloc((size_t)nv * sizeof(int))) == NULL)
		return rdb_err_set(b->err, RDB_NOMEM, "out of memory");
	for (i = 0; i < nv; i++)
		p->ins_map[i] = -1;
	n = in->cols.n > 0 ? in->cols.n : tb->ncols;
	if (in->select == NULL)
		n = 0;                      /* DEFAULT VALUES */
	for (i = 0; i < n; i++) {
		k = in->cols.n > 0 ? column_of(tb, in->cols.names[i]) : i;
		if (k < 0)
			return rdb_err_set(b->err, RDB_ERROR, "table %s has no "
					   "column named %s", tb->name,
					   in->cols.names[i]);
		p->ins_map[k] = i;
	}
	p->nins = n;
	if ((rc = chk_compile(b, p)) != RDB_OK)
		return rc;
	if (in->select == NULL)
		return trig_compile(b, p, SQL_TRIG_INSERT);
	if ((rc = bind_select(b, in->select, b->frame, &p->q)) != RDB_OK)
		return rc;
	if (p->q->nout == n)
		return trig_compile(b, p, SQL_TRIG_INSERT);
	return in->cols.n > 0
		? rdb_err_set(b->err, RDB_ERROR, "%d values for %d columns",
			      p->q->nout, n)
		: rdb_err_set(b->err, RDB_ERROR, "table %s has %d columns but "
			      "%d values were supplied", tb->name, n,
			      p->q->nout);
}

/* UPDATE: the target as a one-source query, then the SET expressions. */
rdb_rc dml_bind_update(binder *b, sql_prog *p)
{
	sql_update *u = &p->ast->u.update;
	int i, k;
	rdb_rc rc;

	if (tbl_schema_view(b->s, u->table) != NULL)
		return vdml_bind_update(b, p);
	if ((rc = bind_table_query(b, u->table, u->alias, u->where, &p->q)) !=
	    RDB_OK)
		return rc;
	p->tb = p->q->src[0].tb;
	if ((p->ins_map = rdb_malloc((size_t)u->n_sets * sizeof(int))) == NULL)
		return rdb_err_set(b->err, RDB_NOMEM, "out of memory");
	for (i = 0; i < u->n_sets; i++) {
		if (u->sets[i].cols.n != 1)
			return rdb_err_set(b->err, RDB_ERROR, "SET of a row "
					   "value is not supported");
		k = column_of(p->tb, u->sets[i].cols.names[0]);
		if (k < 0)
			return rdb_err_set(b->err, RDB_ERROR, "no such column: "
					   "%s", u->sets[i].cols.names[0]);
		p->ins_map[i] = k;
		if ((rc = bind_expr(b, p->q, u->sets[i].value, 0)) != RDB_OK)
			return rc;
	}
	p->nins = u->n_sets;
	if ((rc = chk_compile(b, p)) != RDB_OK)
		return rc;
	return trig_compile(b, p, SQL_TRIG_UPDATE);
}

rdb_rc dml_bind_delete(binder *b, sql_prog *p)
{
	sql_delete *d = &p->ast->u.del;
	rdb_rc rc;

	if (tbl_schema_view(b->s, d->table) != NULL)
		return vdml_bind_delete(b, p);
	rc = bind_table_query(b, d->table, d->alias, d->where, &p->q);
	if (rc == RDB_OK)
		p->tb = p->q->src[0].tb;
	return rc == RDB_OK ? trig_compile(b, p, SQL_TRIG_DELETE) : rc;
}

/* ---- running ------------------------------------------------------------ */

/* The rows of q's single source that pass its WHERE, copied. */
static rdb_rc collect(sql_prog *p, query *q, mrows *m)
{
	rdb_rc rc;

	mrows_init(m, q->src[0].nvals);
	rc = query_open(p, q);
	while (rc == RDB_OK && (rc = join_next(p, q)) == RDB_ROW)
		rc = mrows_add(m, q->src[0].row, p->cx.err);
	query_close(p, q);
	return rc == RDB_DONE ? RDB_OK : rc;
}

/* Insert one row made of vals (p->nins values in statement order). */
static rdb_rc insert_row(sql_prog *p, const tbl_value *vals, tbl_value *row)
{
	const tbl_table *tb = p->tb;
	int i, done = 0, skip, nv = tbl_nvals(tb);
	rdb_rc rc;

	for (i = 0; i < nv; i++) {
		if (p->ins_map[i] >= 0)
			row[i] = vals[p->ins_map[i]];
		else if (i < tb->ncols && tb->cols[i].has_dflt)
			row[i] = tb->cols[i].dflt;
		else
			row[i] = (tbl_value){ .cls = TBL_NULL };
	}
	rc = trig_fire(p, SQL_TRIG_BEFORE, row, NULL, &skip);
	if (rc != RDB_OK || skip)
		return rc;
	rc = tbl_insert(p->t, p->tcx, tb, row,
			conflict_of(p->ast->u.insert.conflict), &done);
	if (rc == RDB_OK && done) {
		p->changes++;
		if (tb->npk == 0)
			p->c->last_rowid = row[tb->ncols].i;
		else if (tb->ipk)
			p->c->last_rowid = row[tb->pk[0]].i;
		rc = trig_fire(p, SQL_TRIG_AFTER, row, NULL, &skip);
	}
	return rc;
}

/* A VALUES list that the insert can evaluate itself, row by row, without
 * running it as a query (whose run state costs allocations per
 * statement): no compound, grouping, sorting, DISTINCT, LIMIT or WHERE. */
static int plain_values(const query *q)
{
	return q->nvalues > 0 && q->nsrc == 0 && q->nterms <= 1 && !q->agg &&
	       !q->sort && !q->distinct && q->limit == NULL &&
	       q->offset == NULL && q->nwhere_const == 0 && q->nout <= 64;
}

int dml_one_row(const sql_prog *p)
{
	return p->op == OP_INSERT && p->tb != NULL && p->vq == NULL &&
	       !trig_any(p) &&
	       (p->q == NULL ||
		(plain_values(p->q) && p->q->nvalues == 1 &&
		 p->nins == p->q->nout));
}

static rdb_rc insert_values(sql_prog *p, tbl_value *row)
{
	const query *q = p->q;
	sql_value sv[64];
	tbl_value v[64];
	int r, i;
	rdb_rc rc = RDB_OK;

	memset(sv, 0, sizeof(sql_value) * (size_t)q->nout);
	for (r = 0; r < q->nvalues && rc == RDB_OK; r++) {
		for (i = 0; i < q->nout && rc == RDB_OK; i++)
			rc = eval(p, p->q, q->values[r].items[i], &sv[i]);
		for (i = 0; i < q->nout && rc == RDB_OK; i++)
			v[i] = sql_value_tbl(&sv[i]);
		if (rc == RDB_OK)
			rc = insert_row(p, v, row);
		for (i = 0; i < q->nout; i++)
			sql_value_free(&sv[i]);
	}
	return rc;
}

static rdb_rc run_insert(sql_prog *p)
{
	/* The row being inserted: on the stack for tables of up to 64
	 * values (a single-row INSERT then allocates nothing here). */
	tbl_value stack[64], *row = stack;
	size_t nv = (size_t)tbl_nvals(p->tb) + 1;
	mrows src;
	long i;
	rdb_rc rc = RDB_OK;

	if (nv > 64 && (row = rdb_calloc(nv, sizeof(*row))) == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	mrows_init(&src, p->nins);
	if (p->q == NULL) {
		rc = insert_row(p, NULL, row);      /* DEFAULT VALUES */
	} else if (plain_values(p->q) && p->nins == p->q->nout) {
		rc = insert_values(p, row);
	} else if (p->q->nsrc == 0 && p->q->nterms <= 1) {
		/* VALUES: row by row, nothing to read first. */
		rc = query_open(p, p->q);
		while (rc == RDB_OK && (rc = query_next(p, p->q)) == RDB_ROW) {
			tbl_value v[64], *vp = v;

			if (p->nins > 64 && (vp = rdb_malloc((size_t)p->nins *
							     sizeof(*vp))) ==
			    NULL) {
				rc = rdb_err_set(p->cx.err, RDB_NOMEM,
						 "out of memory");
				break;
			}
			for (i = 0; i < p->nins; i++)
				vp[i] = sql_value_tbl(&p->q->r->outv[i]);
			rc = insert_row(p, vp, row);
			if (vp != v)
				rdb_free(vp);
		}
		query_close(p, p->q);
		rc = rc == RDB_DONE ? RDB_OK : rc;
	} else {
		/* INSERT ... SELECT: read everything before writing. */
		rc = query_open(p, p->q);
		while (rc == RDB_OK && (rc = query_next(p, p->q)) == RDB_ROW) {
			tbl_value v[64];

			for (i = 0; i < p->nins && i < 64; i++)
				v[i] = sql_value_tbl(&p->q->r->outv[i]);
			rc = p->nins > 64 ? rdb_err_set(p->cx.err, RDB_ERROR,
							"too many columns")
					  : mrows_add(&src, v, p->cx.err);
		}
		query_close(p, p->q);
		rc = rc == RDB_DONE ? RDB_OK : rc;
		for (i = 0; i < src.n && rc == RDB_OK; i++)
			rc = insert_row(p, mrows_row(&src, i), row);
	}
	mrows_free(&src);
	if (row != stack)
		rdb_free(row);
	return rc;
}

/* The new version of row old: SET expressions evaluated on old. */
static rdb_rc new_row(sql_prog *p, const tbl_value *old, tbl_value *nrow,
		      sql_value *vals)
{
	query *q = p->q;
	int i;
	rdb_rc rc;

	memcpy(nrow, old, (size_t)q->src[0].nvals * sizeof(*nrow));
	q->src[0].row = old;
	for (i = 0; i < p->nins; i++) {
		rc = eval(p, q, p->ast->u.update.sets[i].value, &vals[i]);
		if (rc != RDB_OK)
			return rc;
	}
	for (i = 0; i < p->nins; i++)
		nrow[p->ins_map[i]] = sql_value_tbl(&vals[i]);
	return RDB_OK;
}

/* Update one row, firing its triggers.  A row a BEFORE trigger deleted is
 * skipped. */
static rdb_rc update_row(sql_prog *p, const tbl_value *old, tbl_value *nrow,
			 sql_value *vals)
{
	int done = 0, skip = 0;
	rdb_rc rc = new_row(p, old, nrow, vals);

	if (rc == RDB_OK)
		rc = trig_fire(p, SQL_TRIG_BEFORE, nrow, old, &skip);
	if (rc != RDB_OK || skip)
		return rc;
	rc = tbl_update(p->t, p->tcx, p->tb, old, nrow,
			conflict_of(p->ast->u.update.conflict), &done);
	/* A row collected for a later turn may be gone: deleted by a
	 * trigger, or by this statement's own OR REPLACE.  SQLite skips it. */
	if (rc == RDB_NOTFOUND && (trig_any(p) ||
				   p->ast->u.update.conflict ==
				   SQL_OR_REPLACE)) {
		rdb_err_clear(p->cx.err);
		return RDB_OK;
	}
	if (rc == RDB_OK && done) {
		p->changes++;
		rc = trig_fire(p, SQL_TRIG_AFTER, nrow, old, &skip);
	}
	return rc;
}

static rdb_rc run_update(sql_prog *p)
{
	mrows rows;
	tbl_value *nrow;
	sql_value *vals;
	long i;
	int j;
	rdb_rc rc;

	if ((rc = collect(p, p->q, &rows)) != RDB_OK) {
		mrows_free(&rows);
		return rc;
	}
	nrow = rdb_calloc((size_t)rows.width + 1, sizeof(*nrow));
	vals = rdb_calloc((size_t)p->nins + 1, sizeof(*vals));
	if (nrow == NULL || vals == NULL)
		rc = rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	for (i = 0; i < rows.n && rc == RDB_OK; i++) {
		rc = update_row(p, mrows_row(&rows, i), nrow, vals);
		for (j = 0; j < p->nins; j++)
			sql_value_free(&vals[j]);
	}
	p->q->src[0].row = NULL;
	rdb_free(nrow);
	rdb_free(vals);
	mrows_free(&rows);
	return rc;
}

/* Delete one row, firing its triggers; a row already gone (deleted by a
 * trigger) is skipped. */
static rdb_rc delete_row(sql_prog *p, const tbl_value *old)
{
	int skip = 0;
	rdb_rc rc = trig_fire(p, SQL_TRIG_BEFORE, NULL, old, &skip);

	if (rc != RDB_OK || skip)
		return rc;
	rc = tbl_delete(p->t, p->tcx, p->tb, old);
	/* A row collected for a later turn may be gone: deleted by a
	 * trigger, or by this statement's own OR REPLACE.  SQLite skips it. */
	if (rc == RDB_NOTFOUND && (trig_any(p) ||
				   p->ast->u.update.conflict ==
				   SQL_OR_REPLACE)) {
		rdb_err_clear(p->cx.err);
		return RDB_OK;
	}
	if (rc == RDB_OK) {
		p->changes++;
		rc = trig_fire(p, SQL_TRIG_AFTER, NULL, old, &skip);
	}
	return rc;
}

static rdb_rc run_delete(sql_prog *p)
{
	mrows rows;
	long i;
	rdb_rc rc;

	if ((rc = collect(p, p->q, &rows)) == RDB_OK)
		for (i = 0; i < rows.n && rc == RDB_OK; i++)
			rc = delete_row(p, mrows_row(&rows, i));
	mrows_free(&rows);
	return rc;
}

rdb_rc dml_run(sql_prog *p)
{
	if (p->vq != NULL)
		return vdml_run(p);
	tbl_ctx_check(p->tcx, p->chk != NULL ? chk_row : NULL, p);
	switch (p->op) {
	case OP_INSERT: return run_insert(p);
	case OP_UPDATE: return run_update(p);
	default: return run_delete(p);
	}
}
