/*
 * bind.c -- the binder: resolves names in a parsed SELECT (sources,
 * columns, aliases, functions, aggregates, subqueries) against a schema
 * and builds the query structure that plan.c gives access paths and
 * select.c runs.  Design: src/sql/README.md ("Binding and planning").
 */
#include "bind.h"
#include <string.h>
#include <strings.h>
#include "mem.h"

/* ---- annotations --------------------------------------------------------- */

xinfo *bind_ann(binder *b, sql_expr *e)
{
	if (e->aux_p == NULL)
		e->aux_p = sql_stmt_alloc(b->ast, sizeof(xinfo));
	if (e->aux_p == NULL)
		rdb_err_set(b->err, RDB_NOMEM, "out of memory");
	return e->aux_p;
}

void *bind_alloc(binder *b, size_t n)
{
	void *p = sql_stmt_alloc(b->ast, n);

	if (p == NULL)
		rdb_err_set(b->err, RDB_NOMEM, "out of memory");
	return p;
}

rdb_rc bind_error(binder *b, const sql_expr *e, const char *fmt,
		  const char *name)
{
	(void)e;
	return rdb_err_set(b->err, RDB_ERROR, fmt, name);
}

/* ---- sources ------------------------------------------------------------ */

/* The name of column i of source s (NULL for a hidden rowid). */
const char *src_col_name(const qsrc *s, int i)
{
	if (s->tb != NULL)
		return i < s->tb->ncols ? s->tb->cols[i].name : NULL;
	return s->colnames[i];
}

/* Find column `name` in source s: its slot or -1.  rowid, oid and
 * _rowid_ name a hidden rowid (or the INTEGER PRIMARY KEY column). */
rdb_rc src_nulls(binder *b, qsrc *s)
{
	int i;

	if ((s->nulls = rdb_calloc((size_t)s->nvals + 1,
				   sizeof(tbl_value))) == NULL)
		return rdb_err_set(b->err, RDB_NOMEM, "out of memory");
	for (i = 0; i < s->nvals; i++)
		s->nulls[i].cls = TBL_NULL;
	return RDB_OK;
}

int src_find(const qsrc *s, const char *name)
{
	int i, n = s->tb != NULL ? s->tb->ncols : s->nvals;

	for (i = 0; i < n; i++) {
		const char *c = src_col_name(s, i);

		if (c != NULL && strcasecmp(c, name) == 0)
			return i;
	}
	if (s->tb == NULL || (strcasecmp(name, "rowid") != 0 &&
			      strcasecmp(name, "oid") != 0 &&
			      strcasecmp(name, "_rowid_") != 0))
		return -1;
	if (s->tb->npk == 0)
		return s->tb->ncols;
	if (s->tb->ipk)
		return s->tb->pk[0];
	return -1;
}

sql_aff src_aff(const qsrc *s, int i, const char **decl)
{
	*decl = NULL;
	if (s->tb == NULL) {
		if (s->sub == NULL || i >= s->sub->nout)
			return SQL_AFF_NONE;
		*decl = query_decl(s->sub, i);
		return expr_aff(s->sub->out[i]);
	}
	if (i >= s->tb->ncols)
		return SQL_AFF_INTEGER;
	*decl = s->tb->cols[i].decl;
	return sql_aff_of_type(s->tb->cols[i].type);
}

const char *query_decl(const query *q, int i)
{
	/* SQLite reads a compound subquery's types from its last term (the
	 * head of its list of terms); a statement's own result columns come
	 * from the first, as q->decltypes do. */
	if (q->nterms > 1)
		q = q->terms[q->nterms - 1];
	return q->decltypes != NULL && i >= 0 && i < q->nout
		       ? q->decltypes[i] : NULL;
}

/* ---- column references -------------------------------------------------- */

/* Look name up in the sources of q: RDB_OK with *src and *slot set, or
 * RDB_NOTFOUND, or an ambiguity error. */
static rdb_rc find_in(binder *b, query *q, const sql_expr *e, int *src,
		      int *slot)
{
	const char *tname = e->u.col.table, *name = e->u.col.name;
	int i, k, found = 0;

	for (i = 0; i < q->nsrc; i++) {
		qsrc *s = &q->src[i];

		if (tname != NULL && strcasecmp(tname, s->name) != 0)
			continue;
		if ((k = src_find(s, name)) < 0)
			continue;
		if (tname == NULL && s->using_hidden != NULL &&
		    k < s->nvals && s->using_hidden[k])
			continue;
		if (found)
			return bind_error(b, e, "ambiguous column name: %s",
					  name);
		found = 1;
		*src = i;
		*slot = k;
	}
	return found ? RDB_OK : RDB_NOTFOUND;
}

/* Is there a source called tname in q or an enclosing query? */
static int table_known(query *q, const char *tname)
{
	int i;

	for (; q != NULL; q = q->parent)
		for (i = 0; i < q->nsrc; i++)
			if (strcasecmp(q->src[i].name, tname) == 0)
				return 1;
	return 0;
}

/* A result column of q named name (its alias or its column name). */
static int find_alias(query *q, const char *name)
{
	int i;

	for (i = 0; i < q->nout && q->names != NULL; i++)
		if (q->alias != NULL && q->alias[i] != NULL &&
		    strcasecmp(q->alias[i], name) == 0)
			return i;
	return -1;
}

static rdb_rc bind_column(binder *b, query *q, sql_expr *e, int flags)
{
	xinfo *x = bind_ann(b, e);
	query *at;
	int up, src = 0, slot = 0, k;
	const char *decl;
	rdb_rc rc = RDB_NOTFOUND;

	if (x == NULL)
		return RDB_NOMEM;
	if (e->u.col.table == NULL && (flags & BF_ALIAS_FIRST) &&
	    (k = find_alias(q, e->u.col.name)) >= 0) {
		x->kind = XK_ALIAS;
		x->target = q->out[k];
		x->aff = expr_aff(q->out[k]);
		return RDB_OK;
	}
	for (up = 0, at = q; at != NULL; at = at->parent, up++) {
		rc = find_in(b, at, e, &src, &slot);
		if (rc != RDB_NOTFOUND)
			break;
	}
	if (rc == RDB_OK) {
		x->kind = XK_COL;
		x->up = up;
		x->src = src;
		x->slot = slot;
		at->src[src].used |= UINT64_C(1) << (slot < 63 ? slot : 63);
		x->aff = src_aff(&at->src[src], slot, &decl);
		x->decl = decl;
		if (up > 0)
			bind_mark_correlated(q, up, src);
		return RDB_OK;
	}
	if (rc != RDB_NOTFOUND)
		return rc;
	if (e->u.col.table == NULL && (flags & BF_ALIAS) &&
	    (k = find_alias(q, e->u.col.name)) >= 0) {
		x->kind = XK_ALIAS;
		x->target = q->out[k];
		x->aff = expr_aff(q->out[k]);
		return RDB_OK;
	}
	if (e->u.col.table != NULL && !table_known(q, e->u.col.table))
		return rdb_err_set(b->err, RDB_ERROR, "no such column: %s.%s",
				   e->u.col.table, e->u.col.name);
	if (e->u.col.table != NULL)
		return rdb_err_set(b->err, RDB_ERROR, "no such column: %s.%s",
				   e->u.col.table, e->u.col.name);
	/* SQLite takes a "double-quoted" unknown name as a string. */
	if (e->flags & SQL_EF_QUOTED) {
		e->op = SQL_E_STR;
		e->u.str.p = e->u.col.name;
		e->u.str.n = strlen(e->u.col.name);
		e->aux_p = NULL;
		return RDB_OK;
	}
	return bind_error(b, e, "no such column: %s", e->u.col.name);
}

/* ---- functions and aggregates -------------------------------------------- */

/* Functions of the connection rather than of their arguments. */
static const char *const conn_funcs[] = { "changes", "total_changes",
					  "last_insert_rowid" };

static int conn_func(const sql_expr *e)
{
	size_t i;

	if (e->list.n != 0 || (e->flags & (SQL_EF_STAR | SQL_EF_DISTINCT)))
		return -1;
	for (i = 0; i < sizeof(conn_funcs) / sizeof(conn_funcs[0]); i++)
		if (strcasecmp(e->u.func.name, conn_funcs[i]) == 0)
			return (int)i;
	return -1;
}

static rdb_rc bind_func(binder *b, query *q, sql_expr *e, int flags)
{
	const sql_func *f;
	int argc = (e->flags & SQL_EF_STAR) ? 0 : e->list.n;
	xinfo *x;
	rdb_rc rc;
	int i;

	if ((i = conn_func(e)) >= 0) {
		if ((x = bind_ann(b, e)) == NULL)
			return RDB_NOMEM;
		x->kind = XK_CONN;
		x->slot = i;
		return RDB_OK;
	}

	rc = sql_func_find(e->u.func.name, strlen(e->u.func.name), argc,
			   b->err, &f);
	if (rc != RDB_OK)
		return rc;
	if ((x = bind_ann(b, e)) == NULL)
		return RDB_NOMEM;
	x->fn = f;
	if (f->agg == SQL_AGG_NONE) {
		if (e->flags & (SQL_EF_DISTINCT | SQL_EF_STAR))
			return bind_error(b, e, "%s() may not take DISTINCT "
					  "or *", f->name);
		x->kind = XK_FUNC;
		for (i = 0; i < e->list.n; i++)
			if ((rc = bind_expr(b, q, e->list.items[i], flags)) !=
			    RDB_OK)
				return rc;
		return RDB_OK;
	}
	if (!(flags & BF_AGG) || (flags & BF_IN_AGG))
		return bind_error(b, e, "misuse of aggregate function %s()",
				  f->name);
	if ((e->flags & SQL_EF_DISTINCT) && argc != 1)
		return bind_error(b, e, "DISTINCT aggregates must have exactly "
				  "one argument%s", "");
	for (i = 0; i < e->list.n && !(e->flags & SQL_EF_STAR); i++)
		if ((rc = bind_expr(b, q, e->list.items[i],
				    (flags | BF_IN_AGG) & ~BF_ALIAS_FIRST)) !=
		    RDB_OK)
			return rc;
	return bind_add_agg(b, q, e, f);
}

rdb_rc bind_add_agg(binder *b, query *q, sql_expr *e, const sql_func *f)
{
	qagg *a;

	if (q->nagg == q->cagg) {
		int cap = q->cagg ? 2 * q->cagg : 8;

		if ((a = bind_alloc(b, (size_t)cap * sizeof(*a))) == NULL)
			return RDB_NOMEM;
		if (q->nagg > 0)
			memcpy(a, q->aggs, (size_t)q->nagg * sizeof(*a));
		q->aggs = a;
		q->cagg = cap;
	}
	a = &q->aggs[q->nagg];
	a->call = e;
	a->fn = f;
	a->distinct = (e->flags & SQL_EF_DISTINCT) != 0;
	a->argc = (e->flags & SQL_EF_STAR) ? 0 : e->list.n;
	xi(e)->kind = XK_AGG;
	xi(e)->slot = q->nagg++;
	q->agg = 1;
	return RDB_OK;
}

/* ---- subqueries ------------------------------------------------------------ */

static rdb_rc bind_subq(binder *b, query *q, sql_expr *e, int flags)
{
	xinfo *x = bind_ann(b, e);
	query *sub;
	rdb_rc rc;

	if (x == NULL)
		return RDB_NOMEM;
	if (e->left != NULL &&
	    (rc = bind_expr(b, q, e->left, flags)) != RDB_OK)
		return rc;
	rc = bind_select(b, e->select, q, &sub);
	if (rc != RDB_OK)
		return rc;
	if (e->op != SQL_E_EXISTS && sub->nout != 1)
		return rdb_err_set(b->err, RDB_ERROR, "sub-select returns %d "
				   "columns - expected 1", sub->nout);
	x->kind = XK_SUBQ;
	x->sub = sub;
	x->correlated = sub->correlated;
	x->aff = e->op == SQL_E_SUBQUERY ? expr_aff(sub->out[0])
					  : SQL_AFF_NONE;
	x->decl = e->op == SQL_E_SUBQUERY ? query_decl(sub, 0) : NULL;
	if (!sub->correlated &&
	    (e->op == SQL_E_SUBQUERY || e->op == SQL_E_EXISTS))
		x->constant = 1;      /* run once per run, as in SQLite */
	return RDB_OK;
}

/* ---- expressions ------------------------------------------------------------ */

static rdb_rc bind_kids(binder *b, query *q, sql_expr *e, int flags)
{
	rdb_rc rc = RDB_OK;
	int i;

	if (e->left != NULL)
		rc = bind_expr(b, q, e->left, flags);
	if (rc == RDB_OK && e->right != NULL)
		rc = bind_expr(b, q, e->right, flags);
	for (i = 0; i < e->list.n && rc == RDB_OK; i++)
		rc = bind_expr(b, q, e->list.items[i], flags);
	if (rc == RDB_OK && e->op == SQL_E_BETWEEN) {
		rc = bind_expr(b, q, e->u.between.lo, flags);
		if (rc == RDB_OK)
			rc = bind_expr(b, q, e->u.between.hi, flags);
	}
	if (rc == RDB_OK && e->op == SQL_E_LIKE && e->u.like.escape != NULL)
		rc = bind_expr(b, q, e->u.like.escape, flags);
	return rc;
}

static rdb_rc bind_cast(binder *b, query *q, sql_expr *e, int flags)
{
	xinfo *x = bind_ann(b, e);

	if (x == NULL)
		return RDB_NOMEM;
	x->aff = sql_aff_of_name(e->u.type, strlen(e->u.type));
	return bind_expr(b, q, e->left, flags);
}

/* Does e give the same value for every row of a run (no columns,
 * aggregates, correlated subqueries or random functions)? */
static int is_const(const sql_expr *e)
{
	const xinfo *x;
	int i;

	if (e == NULL)
		return 1;
	x = xi(e);
	if (x != NULL && (x->kind == XK_COL || x->kind == XK_AGG ||
			  x->kind == XK_ALIAS || x->kind == XK_OUTCOL ||
			  (x->kind == XK_SUBQ && x->correlated) ||
			  (x->kind == XK_FUNC &&
			   !(x->fn->flags & SQL_FUNC_DETERMINISTIC))))
		return 0;
	if (e->op == SQL_E_CTIME)
		return 0;
	if (!is_const(e->left) || !is_const(e->right))
		return 0;
	for (i = 0; i < e->list.n; i++)
		if (!is_const(e->list.items[i]))
			return 0;
	if (e->op == SQL_E_BETWEEN)
		return is_const(e->u.between.lo) && is_const(e->u.between.hi);
	return e->op != SQL_E_LIKE || is_const(e->u.like.escape);
}

static rdb_rc bind_in_list(binder *b, query *q, sql_expr *e, int flags)
{
	rdb_rc rc = bind_kids(b, q, e, flags);
	xinfo *x;
	int i, c = 1;

	if (rc != RDB_OK || e->list.n < 4)
		return rc;
	for (i = 0; i < e->list.n && c; i++)
		c = is_const(e->list.items[i]);
	if (c) {
		if ((x = bind_ann(b, e)) == NULL)
			return RDB_NOMEM;
		x->const_list = 1;
	}
	return RDB_OK;
}

rdb_rc bind_expr(binder *b, query *q, sql_expr *e, int flags)
{
	switch (e->op) {
	case SQL_E_IN_LIST:
		return bind_in_list(b, q, e, flags);
	case SQL_E_COLUMN:
		return bind_column(b, q, e, flags);
	case SQL_E_FUNC:
		return bind_func(b, q, e, flags);
	case SQL_E_IN_SELECT: case SQL_E_EXISTS: case SQL_E_SUBQUERY:
		return bind_subq(b, q, e, flags);
	case SQL_E_CAST:
		return bind_cast(b, q, e, flags);
	case SQL_E_IN_TABLE:
		return bind_error(b, e, "IN %s: a table as an IN list is not "
				  "supported", e->u.col.table);
	case SQL_E_VECTOR:
		return bind_error(b, e, "row value misused%s", "");
	case SQL_E_RAISE:
		if (b->frame != NULL)
			return RDB_OK;
		return bind_error(b, e, "RAISE() may only be used within a "
				  "trigger-program%s", "");
	case SQL_E_PARAM:
		if (e->u.param.index > b->nparams)
			b->nparams = e->u.param.index;
		return RDB_OK;
	default:
		return bind_kids(b, q, e, flags);
	}
}

/* A column of source src of the query `up` levels out of q is read in q:
 * mark q and the queries between as correlated, and the last of them as
 * reading that source of its parent. */
void bind_mark_correlated(query *q, int up, int src)
{
	for (; q != NULL && up > 0; q = q->parent, up--) {
		q->correlated = 1;
		if (up == 1)
			q->parent_use |= UINT64_C(1) << (src & 63);
	}
}
