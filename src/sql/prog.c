/*
 * prog.c -- compiled statements: binding a parse tree into a program by
 * statement kind, and the program's run (start, next row, stop).  Design:
 * src/sql/README.md ("Statements and transactions", "Execution").
 */
#include "bind.h"
#include "select.h"
#include "hashjoin.h"
#include <string.h>
#include "mem.h"

rdb_rc dml_bind_insert(binder *b, sql_prog *p);
rdb_rc dml_bind_update(binder *b, sql_prog *p);
rdb_rc dml_bind_delete(binder *b, sql_prog *p);
rdb_rc dml_run(sql_prog *p);
rdb_rc ddl_run(sql_prog *p);
rdb_rc pragma_compile(sql_prog *p);
rdb_rc pragma_run(sql_prog *p);
rdb_rc explain_run(sql_prog *p);

static const char *const explain_names[] = { "id", "parent", "notused",
					     "detail" };

void prog_free(sql_prog *p)
{
	if (p == NULL)
		return;
	prog_stop(p);
	eval_clear_caches(p);
	query_free_all(p->queries, p->nqueries);
	bind_free_trees(p->trees, p->ntrees);
	trig_free(p->trig);
	chk_free(p->chk);
	rdb_free(p->ins_map);
	rdb_free(p->outt);
	mrows_free(&p->result);
	tbl_ctx_free(p->tcx);
	sql_ctx_free(&p->cx);
	sql_stmt_free(p->ast);
	tbl_schema_unref(p->schema);
	rdb_free(p);
}

static rdb_rc bind_stmt(binder *b, sql_prog *p)
{
	sql_stmt *a = p->ast;

	switch (a->kind) {
	case SQL_SELECT:
		p->op = OP_SELECT;
		return bind_select(b, a->u.select, NULL, &p->q);
	case SQL_INSERT:
		p->op = OP_INSERT;
		return dml_bind_insert(b, p);
	case SQL_UPDATE:
		p->op = OP_UPDATE;
		return dml_bind_update(b, p);
	case SQL_DELETE:
		p->op = OP_DELETE;
		return dml_bind_delete(b, p);
	case SQL_CREATE_TABLE:
		p->op = OP_DDL;
		return a->u.create_table.as_select == NULL ? RDB_OK
			: bind_select(b, a->u.create_table.as_select, NULL,
				      &p->q);
	case SQL_CREATE_INDEX: case SQL_DROP: case SQL_ALTER_TABLE:
	case SQL_CREATE_VIEW: case SQL_CREATE_TRIGGER: case SQL_REINDEX:
		p->op = OP_DDL;
		return RDB_OK;
	case SQL_BEGIN: p->op = OP_BEGIN; return RDB_OK;
	case SQL_COMMIT: p->op = OP_COMMIT; return RDB_OK;
	case SQL_ROLLBACK:
		p->op = a->u.savepoint != NULL ? OP_ROLLBACK_TO : OP_ROLLBACK;
		return RDB_OK;
	case SQL_SAVEPOINT: p->op = OP_SAVEPOINT; return RDB_OK;
	case SQL_RELEASE: p->op = OP_RELEASE; return RDB_OK;
	case SQL_PRAGMA:
		p->op = OP_PRAGMA;
		return pragma_compile(p);
	default:
		break;
	}
	return rdb_err_set(b->err, RDB_ERROR, "%s is not supported",
			   a->kind == SQL_CREATE_VIEW ? "CREATE VIEW" :
			   a->kind == SQL_CREATE_TRIGGER ? "CREATE TRIGGER" :
			   a->kind == SQL_REINDEX ? "REINDEX" :
			   a->kind == SQL_ANALYZE ? "ANALYZE" : "VACUUM");
}

/* The result columns' names and declared types. */
static void set_columns(sql_prog *p)
{
	if (p->op == OP_EXPLAIN) {
		p->n_cols = 4;
		p->names = (const char **)explain_names;
		return;
	}
	if (p->op == OP_SELECT) {
		p->n_cols = p->q->nout;
		p->names = p->q->names;
		p->decltypes = p->q->decltypes;
	}
}

rdb_rc prog_compile(sql_conn *c, tbl_schema *s, sql_stmt *ast,
		    sql_prog **out)
{
	sql_prog *p;
	binder b;
	rdb_rc rc;

	*out = NULL;
	if ((p = rdb_calloc(1, sizeof(*p))) == NULL) {
		sql_stmt_free(ast);
		tbl_schema_unref(s);
		return rdb_err_set(c->err, RDB_NOMEM, "out of memory");
	}
	p->ast = ast;
	p->schema = s;
	p->c = c;
	sql_ctx_init(&p->cx, c->err, (uint64_t)(uintptr_t)p ^ 0x9e3779b97f4a7c15u);
	p->cx.max_len = &c->max_len;
	memset(&b, 0, sizeof(b));
	b.ast = ast;
	b.s = s;
	b.err = c->err;
	b.hj_budget = c->p != NULL ? hj_budget(c->p) : 0;
	rc = tbl_ctx_new(&p->tcx);
	if (rc != RDB_OK)
		rc = rdb_err_set(c->err, RDB_NOMEM, "out of memory");
	if (rc == RDB_OK)
		rc = bind_stmt(&b, p);
	p->queries = b.all;
	p->nqueries = b.nall;
	p->trees = b.trees;
	p->ntrees = b.ntrees;
	if (rc == RDB_OK && ast->explain) {
		if (p->op == OP_BEGIN || p->op == OP_COMMIT ||
		    p->op == OP_ROLLBACK || p->op == OP_SAVEPOINT ||
		    p->op == OP_RELEASE || p->op == OP_ROLLBACK_TO)
			rc = rdb_err_set(c->err, RDB_ERROR, "cannot EXPLAIN a "
					 "transaction statement");
		p->op = OP_EXPLAIN;
	}
	if (rc == RDB_OK) {
		set_columns(p);
		p->outt = rdb_calloc((size_t)p->n_cols + 1, sizeof(tbl_value));
		if (p->outt == NULL)
			rc = rdb_err_set(c->err, RDB_NOMEM, "out of memory");
	}
	if (rc != RDB_OK) {
		prog_free(p);
		return rc;
	}
	*out = p;
	return RDB_OK;
}

/* ---- running ---------------------------------------------------------------- */

rdb_rc prog_start(sql_prog *p, pager_txn *t, const tbl_value *params,
		  int nparams)
{
	rdb_rc rc = RDB_OK;

	prog_stop(p);
	eval_clear_caches(p);
	p->t = t;
	p->params = params;
	p->nparams = nparams;
	p->changes = 0;
	p->done = 0;
	p->result_pos = 0;
	mrows_free(&p->result);
	switch (p->op) {
	case OP_SELECT:
		return query_open(p, p->q);
	case OP_INSERT: case OP_UPDATE: case OP_DELETE:
		rc = dml_run(p);
		p->done = 1;
		return rc;
	case OP_DDL:
		rc = ddl_run(p);
		p->done = 1;
		return rc;
	case OP_PRAGMA:
		return pragma_run(p);
	case OP_EXPLAIN:
		return explain_run(p);
	default:
		p->done = 1;
		return RDB_OK;
	}
}

rdb_rc prog_next(sql_prog *p)
{
	const tbl_value *row;
	int i;
	rdb_rc rc;

	if (p->op == OP_SELECT) {
		if ((rc = query_next(p, p->q)) != RDB_ROW)
			return rc;
		for (i = 0; i < p->n_cols; i++)
			p->outt[i] = sql_value_tbl(&p->q->r->outv[i]);
		return RDB_ROW;
	}
	if (p->op != OP_PRAGMA && p->op != OP_EXPLAIN)
		return RDB_DONE;
	if (p->result_pos >= p->result.n)
		return RDB_DONE;
	row = mrows_row(&p->result, p->result_pos++);
	memcpy(p->outt, row, (size_t)p->n_cols * sizeof(*row));
	return RDB_ROW;
}

void prog_stop(sql_prog *p)
{
	if (p->q != NULL)
		query_close(p, p->q);
	p->t = NULL;
}
