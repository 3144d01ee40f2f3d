/*
 * bind_select.c -- binding SELECT statements: FROM sources and joins,
 * result columns (with * expansion and SQLite's column names), WHERE,
 * GROUP BY, HAVING, ORDER BY, LIMIT and compound selects.  Design:
 * src/sql/README.md ("Binding and planning").
 */
#include "bind.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "hashjoin.h"
#include "mem.h"

/* ---- synthesized nodes --------------------------------------------------- */

sql_expr *mk_col(binder *b, query *q, int src, int slot)
{
	sql_expr *e = bind_alloc(b, sizeof(*e));
	xinfo *x;

	if (e == NULL || (x = bind_ann(b, e)) == NULL)
		return NULL;
	e->op = SQL_E_COLUMN;
	e->height = 1;
	e->u.col.table = q->src[src].name;
	e->u.col.name = src_col_name(&q->src[src], slot);
	x->kind = XK_COL;
	x->src = src;
	x->slot = slot;
	q->src[src].used |= UINT64_C(1) << (slot < 63 ? slot : 63);
	x->aff = src_aff(&q->src[src], slot, &x->decl);
	return e;
}

sql_expr *mk_binary(binder *b, sql_op op, sql_expr *l, sql_expr *r)
{
	sql_expr *e = bind_alloc(b, sizeof(*e));

	if (e == NULL || l == NULL || r == NULL)
		return NULL;
	e->op = op;
	e->left = l;
	e->right = r;
	e->height = 2;
	return e;
}

rdb_rc conj_split(binder *b, sql_expr *e, sql_expr ***arr, int *n, int *cap)
{
	sql_expr **a;
	rdb_rc rc;

	if (e == NULL)
		return RDB_OK;
	if (e->op == SQL_E_AND) {
		if ((rc = conj_split(b, e->left, arr, n, cap)) != RDB_OK)
			return rc;
		return conj_split(b, e->right, arr, n, cap);
	}
	if (*n == *cap) {
		int nc = *cap ? 2 * *cap : 8;

		if ((a = bind_alloc(b, (size_t)nc * sizeof(*a))) == NULL)
			return RDB_NOMEM;
		if (*n > 0)
			memcpy(a, *arr, (size_t)*n * sizeof(*a));
		*arr = a;
		*cap = nc;
	}
	(*arr)[(*n)++] = e;
	return RDB_OK;
}

/* ---- the query object ------------------------------------------------------ */

static void query_free(query *q)
{
	int i;

	for (i = 0; i < q->nsrc; i++) {
		rdb_free(q->src[i].nulls);
		rdb_free(q->src[i].cov);
		hj_free(&q->src[i]);
		mrows_free(&q->src[i].sub_rows);
		mrows_free(&q->src[i].inv);
	}
	rdb_free(q->src);
	rdb_free(q->terms);
	rdb_free(q->ops);
	rdb_free(q);
}

void query_free_all(query **all, int n)
{
	int i;

	for (i = 0; i < n; i++)
		query_free(all[i]);
	rdb_free(all);
}

query *query_new(binder *b, query *parent)
{
	query *q;

	if (b->nall == b->call) {
		int cap = b->call ? 2 * b->call : 8;
		query **a = rdb_realloc(b->all, (size_t)cap * sizeof(*a));

		if (a == NULL) {
			rdb_err_set(b->err, RDB_NOMEM, "out of memory");
			return NULL;
		}
		b->all = a;
		b->call = cap;
	}
	if ((q = rdb_calloc(1, sizeof(*q))) == NULL) {
		rdb_err_set(b->err, RDB_NOMEM, "out of memory");
		return NULL;
	}
	q->parent = parent;
	b->all[b->nall++] = q;
	return q;
}

/* ---- FROM ------------------------------------------------------------------ */

static rdb_rc bind_source(binder *b, query *q, sql_src *si, qsrc *s)
{
	rdb_rc rc;

	s->name = si->alias != NULL ? si->alias : si->name;
	if (si->subquery != NULL) {
		if ((rc = bind_select(b, si->subquery, q->parent, &s->sub)) !=
		    RDB_OK)
			return rc;
		if (s->sub->correlated)
			q->correlated = 1;
		q->parent_use |= s->sub->parent_use;  /* same parent */
		s->nvals = s->sub->nout;
		s->colnames = s->sub->names;
		s->acc = ACC_ROWS;
		if (s->name == NULL)
			s->name = "";
	} else {
		s->tb = tbl_schema_table(b->s, si->name);
		rc = s->tb != NULL ? RDB_OK : bind_view(b, q, si, s);
		if (rc == RDB_NOTFOUND)
			return rdb_err_set(b->err, RDB_ERROR, "no such table: %s",
					   si->name);
		if (rc != RDB_OK)
			return rc;
		if (s->tb != NULL)
			s->nvals = tbl_nvals(s->tb);
	}
	if ((rc = src_nulls(b, s)) != RDB_OK)
		return rc;
	if (si->join == SQL_JOIN_RIGHT || si->join == SQL_JOIN_FULL)
		return rdb_err_set(b->err, RDB_ERROR, "RIGHT and FULL OUTER "
				   "JOINs are not supported");
	s->left = si->join == SQL_JOIN_LEFT;
	return RDB_OK;
}

/* Add the equality of column `name` of source k with the same column of
 * the first earlier source that has it; hide it from unqualified names. */
static rdb_rc using_col(binder *b, query *q, int k, const char *name,
			sql_expr ***on, int *non, int *con)
{
	int j, mj = -1, slot = src_find(&q->src[k], name), m = -1;
	sql_expr *eq;

	for (j = 0; j < k && mj < 0; j++)
		if ((m = src_find(&q->src[j], name)) >= 0 &&
		    (q->src[j].using_hidden == NULL ||
		     !q->src[j].using_hidden[m]))
			mj = j;
	if (slot < 0 || mj < 0)
		return rdb_err_set(b->err, RDB_ERROR, "cannot join using "
				   "column %s - column not present in both "
				   "tables", name);
	if (q->src[k].using_hidden == NULL &&
	    (q->src[k].using_hidden = bind_alloc(b, (size_t)q->src[k].nvals))
	    == NULL)
		return RDB_NOMEM;
	q->src[k].using_hidden[slot] = 1;
	eq = mk_binary(b, SQL_E_EQ, mk_col(b, q, mj, m), mk_col(b, q, k, slot));
	if (eq == NULL)
		return RDB_NOMEM;
	return conj_split(b, eq, on, non, con);
}

/* USING (a, b) or NATURAL: the equalities of the shared columns. */
static rdb_rc join_using(binder *b, query *q, int k, sql_src *si,
			 sql_expr ***on, int *non, int *con)
{
	const qsrc *s = &q->src[k];
	int i, j, n = s->tb != NULL ? s->tb->ncols : s->nvals;
	rdb_rc rc = RDB_OK;

	for (i = 0; i < si->using_cols.n && rc == RDB_OK; i++)
		rc = using_col(b, q, k, si->using_cols.names[i], on, non, con);
	if (!si->natural)
		return rc;
	for (i = 0; i < n && rc == RDB_OK; i++) {
		const char *name = src_col_name(s, i);
		int found = 0;

		for (j = 0; j < k && !found; j++)
			found = src_find(&q->src[j], name) >= 0;
		if (found)
			rc = using_col(b, q, k, name, on, non, con);
	}
	return rc;
}

/* Bind the sources, then their ON clauses: an inner join's go to the
 * WHERE conjuncts, a LEFT JOIN's stay with their source. */
static rdb_rc bind_from(binder *b, sql_core *core, query *q,
			sql_expr ***conj, int *nconj, int *cconj)
{
	rdb_rc rc;
	int i, cap;

	if (core->n_src == 0)
		return RDB_OK;
	if ((q->src = rdb_calloc((size_t)core->n_src, sizeof(qsrc))) == NULL)
		return rdb_err_set(b->err, RDB_NOMEM, "out of memory");
	for (i = 0; i < core->n_src; i++) {
		q->nsrc = i + 1;
		if ((rc = bind_source(b, q, &core->src[i], &q->src[i])) !=
		    RDB_OK)
			return rc;
	}
	for (i = 0; i < core->n_src; i++) {
		sql_src *si = &core->src[i];
		qsrc *s = &q->src[i];
		sql_expr ***dst = s->left ? &s->on : conj;
		int *dn = s->left ? &s->non : nconj;
		int *dc = s->left ? &cap : cconj;

		cap = s->non;
		if ((rc = join_using(b, q, i, si, dst, dn, dc)) != RDB_OK)
			return rc;
		if (si->on == NULL)
			continue;
		if ((rc = bind_expr(b, q, si->on, 0)) != RDB_OK ||
		    (rc = conj_split(b, si->on, dst, dn, dc)) != RDB_OK)
			return rc;
	}
	return RDB_OK;
}

/* ---- result columns ----------------------------------------------------------- */

typedef struct outs {
	int n, cap;
	sql_expr **e;
	const char **name, **alias, **decl;
} outs;

static rdb_rc out_add(binder *b, outs *o, sql_expr *e, const char *name,
		      const char *alias, const char *decl)
{
	if (o->n == o->cap) {
		int cap = o->cap ? 2 * o->cap : 16;
		sql_expr **ne = bind_alloc(b, (size_t)cap * sizeof(*ne));
		const char **nn = bind_alloc(b, (size_t)cap * sizeof(*nn));
		const char **na = bind_alloc(b, (size_t)cap * sizeof(*na));
		const char **nd = bind_alloc(b, (size_t)cap * sizeof(*nd));

		if (!ne || !nn || !na || !nd)
			return RDB_NOMEM;
		if (o->n > 0) {
			memcpy(ne, o->e, (size_t)o->n * sizeof(*ne));
			memcpy(nn, o->name, (size_t)o->n * sizeof(*nn));
			memcpy(na, o->alias, (size_t)o->n * sizeof(*na));
			memcpy(nd, o->decl, (size_t)o->n * sizeof(*nd));
		}
		o->e = ne, o->name = nn, o->alias = na, o->decl = nd;
		o->cap = cap;
	}
	o->e[o->n] = e;
	o->name[o->n] = name;
	o->alias[o->n] = alias;
	o->decl[o->n] = decl;
	o->n++;
	return RDB_OK;
}

/* Expand * (table NULL) or table.* into the columns of the sources. */
static rdb_rc expand_star(binder *b, query *q, const char *table, outs *o)
{
	int i, j, n, any = 0;
	rdb_rc rc;

	for (i = 0; i < q->nsrc; i++) {
		qsrc *s = &q->src[i];

		if (table != NULL && strcasecmp(table, s->name) != 0)
			continue;
		any = 1;
		n = s->tb != NULL ? s->tb->ncols : s->nvals;
		for (j = 0; j < n; j++) {
			sql_expr *e;

			if (table == NULL && s->using_hidden != NULL &&
			    s->using_hidden[j])
				continue;
			if ((e = mk_col(b, q, i, j)) == NULL)
				return RDB_NOMEM;
			rc = out_add(b, o, e, src_col_name(s, j), NULL,
				     xi(e)->decl);
			if (rc != RDB_OK)
				return rc;
		}
	}
	if (table != NULL && !any)
		return rdb_err_set(b->err, RDB_ERROR, "no such table: %s",
				   table);
	if (!any)
		return rdb_err_set(b->err, RDB_ERROR, "no tables specified");
	return RDB_OK;
}

/* SQLite's name for an unaliased result column: a column reference's
 * name as written, else the expression's text. */
static const char *out_name(const sql_result_col *rc)
{
	const sql_expr *e = rc->expr;

	if (rc->alias != NULL)
		return rc->alias;
	if (e->op == SQL_E_COLUMN && e->u.col.name != NULL)
		return e->u.col.name;
	return rc->text != NULL ? rc->text : "";
}

static rdb_rc bind_results(binder *b, sql_core *core, query *q)
{
	outs o = { 0 };
	int i;
	rdb_rc rc;

	for (i = 0; i < core->n_cols; i++) {
		sql_result_col *rc0 = &core->cols[i];

		if (rc0->star) {
			rc = expand_star(b, q, rc0->star_table, &o);
		} else {
			rc = bind_expr(b, q, rc0->expr, BF_AGG);
			if (rc == RDB_OK)
				rc = out_add(b, &o, rc0->expr, out_name(rc0),
					     rc0->alias,
					     xi(rc0->expr) != NULL
					     ? xi(rc0->expr)->decl : NULL);
		}
		if (rc != RDB_OK)
			return rc;
	}
	q->nout = o.n;
	q->out = o.e;
	q->names = o.name;
	q->alias = o.alias;
	q->decltypes = o.decl;
	return RDB_OK;
}

/* ---- VALUES ------------------------------------------------------------------- */

static rdb_rc bind_values(binder *b, sql_core *core, query *q)
{
	int i, j, w = core->rows[0].n;
	char name[32];
	rdb_rc rc;

	q->values = core->rows;
	q->nvalues = core->n_rows;
	q->nout = w;
	q->out = core->rows[0].items;
	q->names = bind_alloc(b, (size_t)w * sizeof(char *));
	q->alias = bind_alloc(b, (size_t)w * sizeof(char *));
	q->decltypes = bind_alloc(b, (size_t)w * sizeof(char *));
	if (!q->names || !q->alias || !q->decltypes)
		return RDB_NOMEM;
	for (j = 0; j < w; j++) {
		snprintf(name, sizeof(name), "column%d", j + 1);
		if ((q->names[j] = bind_alloc(b, strlen(name) + 1)) == NULL)
			return RDB_NOMEM;
		memcpy((char *)q->names[j], name, strlen(name) + 1);
	}
	for (i = 0; i < core->n_rows; i++) {
		if (core->rows[i].n != w)
			return rdb_err_set(b->err, RDB_ERROR, "all VALUES must "
					   "have the same number of terms");
		for (j = 0; j < w; j++)
			if ((rc = bind_expr(b, q, core->rows[i].items[j], 0)) !=
			    RDB_OK)
				return rc;
	}
	return RDB_OK;
}

/* ---- one SELECT core ----------------------------------------------------------- */

static const char *nth(int i)
{
	return i % 10 == 0 && i % 100 != 10 ? "st" :
	       i % 10 == 1 && i % 100 != 11 ? "nd" :
	       i % 10 == 2 && i % 100 != 12 ? "rd" : "th";
}

/* GROUP BY terms: an integer names a result column. */
static rdb_rc bind_group(binder *b, sql_core *core, query *q)
{
	int i, k;
	rdb_rc rc;

	q->ngroup = core->group_by.n;
	q->group = core->group_by.items;
	for (i = 0; i < q->ngroup; i++) {
		sql_expr *e = q->group[i];

		if (e->op == SQL_E_INT) {
			k = (int)e->u.i;
			if (e->u.i < 1 || e->u.i > q->nout)
				return rdb_err_set(b->err, RDB_ERROR, "%d%s GROUP "
						   "BY term out of range - should "
						   "be between 1 and %d", i + 1,
						   nth(i), q->nout);
			q->group[i] = q->out[k - 1];
			continue;
		}
		if ((rc = bind_expr(b, q, e, BF_ALIAS)) != RDB_OK)
			return rc;
	}
	if (q->ngroup > 0)
		q->agg = 1;
	return RDB_OK;
}

static rdb_rc bind_core(binder *b, sql_core *core, query *q)
{
	sql_expr **conj = NULL;
	int nconj = 0, cconj = 0, i;
	rdb_rc rc;

	if (core->n_rows > 0)
		return bind_values(b, core, q);
	q->distinct = core->distinct;
	if ((rc = bind_from(b, core, q, &conj, &nconj, &cconj)) != RDB_OK ||
	    (rc = bind_results(b, core, q)) != RDB_OK)
		return rc;
	if (core->where != NULL) {
		if ((rc = bind_expr(b, q, core->where, BF_ALIAS)) != RDB_OK ||
		    (rc = conj_split(b, core->where, &conj, &nconj, &cconj)) !=
		    RDB_OK)
			return rc;
	}
	if ((rc = bind_group(b, core, q)) != RDB_OK)
		return rc;
	if (core->having != NULL) {
		if (!q->agg)
			return rdb_err_set(b->err, RDB_ERROR, "a GROUP BY clause "
					   "is required before HAVING");
		q->having = core->having;
		if ((rc = bind_expr(b, q, core->having, BF_AGG | BF_ALIAS)) !=
		    RDB_OK)
			return rc;
	}
	for (i = 0; i < q->nsrc; i++)
		q->src[i].sel = 1;
	return plan_query(b, q, conj, nconj);
}

/* ---- ORDER BY and LIMIT ---------------------------------------------------------- */

/* A result column that ORDER BY term e names (ordinal or alias), else -1;
 * RDB_ERROR for an ordinal out of range. */
static rdb_rc order_target(binder *b, query *q, sql_expr *e, int i, int *k)
{
	int j;

	*k = -1;
	if (e->op == SQL_E_INT) {
		if (e->u.i < 1 || e->u.i > q->nout)
			return rdb_err_set(b->err, RDB_ERROR, "%d%s ORDER BY "
					   "term out of range - should be "
					   "between 1 and %d", i + 1, nth(i),
					   q->nout);
		*k = (int)e->u.i - 1;
		return RDB_OK;
	}
	if (e->op != SQL_E_COLUMN || e->u.col.table != NULL)
		return RDB_OK;
	for (j = 0; j < q->nout; j++)
		if (q->alias[j] != NULL &&
		    strcasecmp(q->alias[j], e->u.col.name) == 0) {
			*k = j;
			return RDB_OK;
		}
	if (q->nterms > 1)
		for (j = 0; j < q->nout; j++)
			if (strcasecmp(q->names[j], e->u.col.name) == 0) {
				*k = j;
				return RDB_OK;
			}
	return RDB_OK;
}

static rdb_rc bind_order(binder *b, sql_select *sel, query *q)
{
	int i, k;
	rdb_rc rc;

	if ((q->norder = sel->n_order) == 0)
		return RDB_OK;
	q->order = bind_alloc(b, (size_t)q->norder * sizeof(*q->order));
	q->order_desc = bind_alloc(b, (size_t)q->norder * sizeof(int));
	q->order_nulls_first = bind_alloc(b, (size_t)q->norder * sizeof(int));
	if (!q->order || !q->order_desc || !q->order_nulls_first)
		return RDB_NOMEM;
	for (i = 0; i < q->norder; i++) {
		sql_expr *e = sel->order[i].expr;
		xinfo *x;

		q->order[i] = e;
		q->order_desc[i] = sel->order[i].desc;
		q->order_nulls_first[i] =
			sel->order[i].nulls == SQL_NULLS_DEFAULT
				? !sel->order[i].desc
				: sel->order[i].nulls == SQL_NULLS_FIRST;
		if ((rc = order_target(b, q, e, i, &k)) != RDB_OK)
			return rc;
		if (k >= 0) {
			if ((x = bind_ann(b, e)) == NULL)
				return RDB_NOMEM;
			x->kind = XK_OUTCOL;
			x->slot = k;
			continue;
		}
		if (q->nterms > 1)
			return rdb_err_set(b->err, RDB_ERROR, "%d%s ORDER BY term "
					   "does not match any column in the "
					   "result set", i + 1, nth(i));
		if ((rc = bind_expr(b, q, e, BF_AGG | BF_ALIAS)) != RDB_OK)
			return rc;
	}
	return RDB_OK;
}

static rdb_rc bind_limit(binder *b, sql_select *sel, query *q)
{
	rdb_rc rc = RDB_OK;

	q->limit = sel->limit;
	q->offset = sel->offset;
	if (q->limit != NULL)
		rc = bind_expr(b, q, q->limit, 0);
	if (rc == RDB_OK && q->offset != NULL)
		rc = bind_expr(b, q, q->offset, 0);
	return rc;
}

/* ---- compound selects ------------------------------------------------------------ */

static rdb_rc bind_compound(binder *b, sql_select *sel, query *q)
{
	int i;
	rdb_rc rc;

	q->nterms = sel->n_cores;
	q->terms = rdb_calloc((size_t)sel->n_cores, sizeof(query *));
	q->ops = rdb_calloc((size_t)sel->n_cores, sizeof(sql_compound));
	if (q->terms == NULL || q->ops == NULL)
		return rdb_err_set(b->err, RDB_NOMEM, "out of memory");
	for (i = 0; i < sel->n_cores; i++) {
		query *t = query_new(b, q->parent);

		if ((q->terms[i] = t) == NULL)
			return RDB_NOMEM;
		q->ops[i] = sel->cores[i].op;
		if ((rc = bind_core(b, &sel->cores[i], t)) != RDB_OK)
			return rc;
		if (t->correlated)
			q->correlated = 1;
		q->parent_use |= t->parent_use;       /* same parent */
		if (i > 0 && t->nout != q->terms[0]->nout)
			return rdb_err_set(b->err, RDB_ERROR, "SELECTs to the "
					   "left and right of %s do not have "
					   "the same number of result columns",
					   q->ops[i] == SQL_UNION ? "UNION" :
					   q->ops[i] == SQL_UNION_ALL
					   ? "UNION ALL" :
					   q->ops[i] == SQL_INTERSECT
					   ? "INTERSECT" : "EXCEPT");
	}
	q->nout = q->terms[0]->nout;
	q->out = q->terms[0]->out;
	q->names = q->terms[0]->names;
	q->alias = q->terms[0]->alias;
	q->decltypes = q->terms[0]->decltypes;
	return RDB_OK;
}

rdb_rc bind_select(binder *b, sql_select *sel, query *parent, query **out)
{
	query *q;
	rdb_rc rc;

	*out = NULL;
	if (++b->depth > 64) {
		b->depth--;
		return rdb_err_set(b->err, RDB_TOOBIG, "too many levels of "
				   "nested queries");
	}
	if ((q = query_new(b, parent)) == NULL) {
		b->depth--;
		return RDB_NOMEM;
	}
	if (sel->n_cores > 1)
		rc = bind_compound(b, sel, q);
	else
		rc = bind_core(b, &sel->cores[0], q);
	if (rc == RDB_OK)
		rc = bind_order(b, sel, q);
	if (rc == RDB_OK)
		rc = bind_limit(b, sel, q);
	if (rc == RDB_OK && sel->n_cores == 1)
		rc = plan_order(b, q);
	b->depth--;
	if (rc != RDB_OK)
		return rc;
	*out = q;
	return RDB_OK;
}
