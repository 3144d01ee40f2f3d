/*
 * view.c -- views and triggers: CREATE/DROP VIEW, a view in FROM bound as
 * a subquery of its stored SELECT, CREATE/DROP TRIGGER (stored; see
 * "Views and triggers" in src/sql/README.md for what runs them) and
 * REINDEX.  Differences from SQLite: docs/sql.md ("Views and triggers").
 */
#include "bind.h"
#include <string.h>
#include <strings.h>
#include "mem.h"

/* Views nested in views deeper than this are refused (a cycle cannot be
 * created, since a view must bind when it is created, but the catalog is
 * not trusted to be acyclic). */
#define VIEW_MAX_DEPTH 64

void bind_free_trees(sql_stmt **trees, int n)
{
	int i;

	for (i = 0; i < n; i++)
		sql_stmt_free(trees[i]);
	rdb_free(trees);
}

/* Parse the stored CREATE VIEW text of v; the tree is kept in b->trees. */
static rdb_rc parse_view(binder *b, const tbl_object *v, sql_stmt **out)
{
	sql_stmt **nt, *st = NULL;
	size_t tail;
	rdb_rc rc;

	*out = NULL;
	nt = rdb_realloc(b->trees, (size_t)(b->ntrees + 1) * sizeof(*nt));
	if (nt == NULL)
		return rdb_err_set(b->err, RDB_NOMEM, "out of memory");
	b->trees = nt;
	rc = sql_parse(v->sql, strlen(v->sql), b->err, &st, &tail);
	if (rc == RDB_OK && (st == NULL || st->kind != SQL_CREATE_VIEW)) {
		sql_stmt_free(st);
		return rdb_err_set(b->err, RDB_CORRUPT, "malformed view '%s' "
				   "in the catalog", v->name);
	}
	if (rc != RDB_OK)
		return rc;
	b->trees[b->ntrees++] = st;
	*out = st;
	return RDB_OK;
}

/* The result names of a view: its column list, else its SELECT's. */
static rdb_rc view_names(binder *b, const sql_create_view *cv,
			 const char *name, query *sub, const char ***out)
{
	*out = sub->names;
	if (cv->cols.n == 0)
		return RDB_OK;
	if (cv->cols.n != sub->nout)
		return rdb_err_set(b->err, RDB_ERROR, "expected %d columns for "
				   "'%s' but got %d", cv->cols.n, name,
				   sub->nout);
	*out = cv->cols.names;
	return RDB_OK;
}

rdb_rc bind_view(binder *b, query *q, const sql_src *si, qsrc *s)
{
	const tbl_object *v = tbl_schema_view(b->s, si->name);
	const sql_create_view *cv;
	sql_stmt *st;
	rdb_rc rc;

	(void)q;
	if (v == NULL)
		return RDB_NOTFOUND;
	if (b->view_depth >= VIEW_MAX_DEPTH)
		return rdb_err_set(b->err, RDB_ERROR, "views nested too deeply "
				   "at '%s'", v->name);
	if ((rc = parse_view(b, v, &st)) != RDB_OK)
		return rc;
	cv = &st->u.create_view;
	b->view_depth++;
	rc = bind_select(b, cv->select, NULL, &s->sub);
	b->view_depth--;
	if (rc == RDB_OK)
		rc = view_names(b, cv, v->name, s->sub, &s->colnames);
	if (rc != RDB_OK)
		return rc;
	s->nvals = s->sub->nout;
	s->acc = ACC_ROWS;
	return RDB_OK;
}

rdb_rc view_refuse_write(binder *b, const char *name)
{
	if (tbl_schema_view(b->s, name) != NULL)
		return rdb_err_set(b->err, RDB_ERROR, "cannot modify %s because "
				   "it is a view", name);
	return RDB_OK;
}

/* ---- statements ----------------------------------------------------------- */

/* Check that the view's SELECT binds against the catalog as it is. */
static rdb_rc check_view(sql_prog *p, tbl_schema *s)
{
	sql_create_view *cv = &p->ast->u.create_view;
	binder b;
	query *q = NULL;
	const char **names;
	rdb_rc rc;

	memset(&b, 0, sizeof(b));
	b.ast = p->ast;
	b.s = s;
	b.err = p->cx.err;
	rc = bind_select(&b, cv->select, NULL, &q);
	if (rc == RDB_OK && b.nparams > 0)
		rc = rdb_err_set(b.err, RDB_ERROR, "parameters are not allowed "
				 "in views");
	if (rc == RDB_OK)
		rc = view_names(&b, cv, cv->name, q, &names);
	query_free_all(b.all, b.nall);
	bind_free_trees(b.trees, b.ntrees);
	return rc;
}

static rdb_rc create_view(sql_prog *p, tbl_schema *s)
{
	sql_create_view *cv = &p->ast->u.create_view;
	rdb_rc rc;

	if (cv->if_not_exists && tbl_schema_view(s, cv->name) != NULL)
		return RDB_OK;
	if (cv->temp)
		return rdb_err_set(p->cx.err, RDB_ERROR, "TEMP views not "
				   "supported");
	if ((rc = check_view(p, s)) != RDB_OK)
		return rc;
	return tbl_create_view(p->t, s, cv->name, p->ast->sql);
}

static rdb_rc create_trigger(sql_prog *p, tbl_schema *s)
{
	sql_create_trigger *ct = &p->ast->u.create_trigger;
	int view = tbl_schema_view(s, ct->table) != NULL;

	if (ct->if_not_exists && tbl_schema_trigger(s, ct->name) != NULL)
		return RDB_OK;
	if (ct->temp)
		return rdb_err_set(p->cx.err, RDB_ERROR, "TEMP triggers not "
				   "supported");
	if (view && ct->time != SQL_TRIG_INSTEAD_OF)
		return rdb_err_set(p->cx.err, RDB_ERROR, "cannot create %s "
				   "trigger on view: %s", ct->time ==
				   SQL_TRIG_AFTER ? "AFTER" : "BEFORE",
				   ct->table);
	if (!view && ct->time == SQL_TRIG_INSTEAD_OF &&
	    tbl_schema_table(s, ct->table) != NULL)
		return rdb_err_set(p->cx.err, RDB_ERROR, "cannot create "
				   "INSTEAD OF trigger on table: %s", ct->table);
	return tbl_create_trigger(p->t, s, ct->name, ct->table, p->ast->sql);
}

static rdb_rc drop(sql_prog *p, tbl_schema *s)
{
	sql_drop *d = &p->ast->u.drop;
	int view = d->object == SQL_OBJ_VIEW;

	if ((view ? tbl_schema_view(s, d->name) != NULL
		  : tbl_schema_trigger(s, d->name) != NULL))
		return view ? tbl_drop_view(p->t, s, d->name)
			    : tbl_drop_trigger(p->t, s, d->name);
	if (d->if_exists)
		return RDB_OK;
	return rdb_err_set(p->cx.err, RDB_ERROR, "no such %s: %s",
			   view ? "view" : "trigger", d->name);
}

rdb_rc view_ddl_run(sql_prog *p, tbl_schema *s)
{
	switch (p->ast->kind) {
	case SQL_CREATE_VIEW:
		return create_view(p, s);
	case SQL_CREATE_TRIGGER:
		return create_trigger(p, s);
	case SQL_REINDEX:
		return tbl_reindex(p->t, s, p->ast->u.target.name);
	default:
		return drop(p, s);
	}
}
