/*
 * check.c -- CHECK constraints.  The catalog keeps only a table's CREATE
 * TABLE text, so a statement that writes a table with CHECK constraints
 * parses that text again and binds each constraint against the row being
 * written (one source, named after the table).  The table layer calls
 * chk_row() once the row is coerced and has its rowid, before it probes
 * uniqueness (tbl_ctx_check).  Design: src/sql/README.md ("Writing rows");
 * rules: docs/sql.md ("Schema statements").
 */
#include "bind.h"
#include <string.h>
#include <strings.h>
#include "mem.h"

struct chk_prog {
	sql_stmt *tree;           /* owned: the CREATE TABLE, reparsed */
	query *q;                 /* owned by the program's registry: its
				     one source holds the row */
	int n;
	sql_expr **expr;          /* owned array; the expressions are in
				     tree */
	const char **name;        /* owned array: CONSTRAINT name or NULL */
};

void chk_free(chk_prog *c)
{
	if (c == NULL)
		return;
	sql_stmt_free(c->tree);
	rdb_free(c->expr);
	rdb_free(c->name);
	rdb_free(c);
}

/* The CHECK expressions of ct, in the order written (columns first), with
 * their constraint names (NULL if unnamed).  On RDB_OK the arrays are the
 * caller's (rdb_free); *n may be 0. */
static rdb_rc collect(rdb_err *err, const sql_create_table *ct,
		      sql_expr ***expr, const char ***name, int *n)
{
	int i, j, k = 0, max = 0;

	for (i = 0; i < ct->n_cols; i++)
		max += ct->cols[i].checks.n;
	for (i = 0; i < ct->n_cons; i++)
		max += ct->cons[i].kind == SQL_TC_CHECK;
	*expr = rdb_calloc((size_t)max + 1, sizeof(**expr));
	*name = rdb_calloc((size_t)max + 1, sizeof(**name));
	if (*expr == NULL || *name == NULL) {
		rdb_free(*expr);
		rdb_free(*name);
		*expr = NULL;
		*name = NULL;
		return rdb_err_set(err, RDB_NOMEM, "out of memory");
	}
	for (i = 0; i < ct->n_cols; i++)
		for (j = 0; j < ct->cols[i].checks.n; j++) {
			(*name)[k] = ct->cols[i].check_names[j];
			(*expr)[k++] = ct->cols[i].checks.items[j];
		}
	for (i = 0; i < ct->n_cons; i++)
		if (ct->cons[i].kind == SQL_TC_CHECK) {
			(*name)[k] = ct->cons[i].name;
			(*expr)[k++] = ct->cons[i].check;
		}
	*n = k;
	return RDB_OK;
}

/* A query that is never run, whose one source (named after tb) holds the
 * row being written. */
static rdb_rc row_query(binder *b, const tbl_table *tb, query **out)
{
	query *q;
	qsrc *s;

	if ((q = *out = query_new(b, NULL)) == NULL)
		return RDB_NOMEM;
	if ((q->src = s = rdb_calloc(1, sizeof(qsrc))) == NULL)
		return rdb_err_set(b->err, RDB_NOMEM, "out of memory");
	q->nsrc = 1;
	s->name = tb->name;
	s->tb = tb;
	s->nvals = tbl_nvals(tb);
	return src_nulls(b, s);
}

/* Bind e over q's row: columns of the table only; no parameter and no
 * subquery (SQLite's rules). */
static rdb_rc bind_one(binder *b, query *q, sql_expr *e)
{
	int nall = b->nall, nparams = b->nparams;
	rdb_rc rc;

	b->nparams = 0;
	rc = bind_expr(b, q, e, 0);
	if (rc == RDB_OK && b->nparams > 0)
		rc = rdb_err_set(b->err, RDB_ERROR, "parameters prohibited "
				 "in CHECK constraints");
	else if (rc == RDB_OK && b->nall > nall)
		rc = rdb_err_set(b->err, RDB_ERROR, "subqueries prohibited "
				 "in CHECK constraints");
	if (b->nparams < nparams)
		b->nparams = nparams;
	return rc;
}

rdb_rc chk_validate(binder *b, const tbl_table *def,
		    const sql_create_table *ct)
{
	sql_expr **expr;
	const char **name;
	query *q;
	int i, n;
	rdb_rc rc = collect(b->err, ct, &expr, &name, &n);

	if (rc != RDB_OK)
		return rc;
	if (n > 0)
		rc = row_query(b, def, &q);
	for (i = 0; i < n && rc == RDB_OK; i++)
		rc = bind_one(b, q, expr[i]);
	rdb_free(expr);
	rdb_free(name);
	return rc;
}

/* Whether a CREATE TABLE text may hold a CHECK constraint (a cheap test
 * first: most tables have none, and then nothing is parsed). */
static int may_check(const char *sql)
{
	return sql != NULL && strcasestr(sql, "check") != NULL;
}

rdb_rc chk_compile(binder *b, sql_prog *p)
{
	const tbl_table *tb = p->tb;
	chk_prog *c;
	size_t tail;
	int i;
	rdb_rc rc;

	if (tb == NULL || tb->system || !may_check(tb->sql))
		return RDB_OK;
	if ((c = p->chk = rdb_calloc(1, sizeof(*c))) == NULL)
		return rdb_err_set(b->err, RDB_NOMEM, "out of memory");
	rc = sql_parse(tb->sql, strlen(tb->sql), b->err, &c->tree, &tail);
	if (rc == RDB_OK && (c->tree == NULL ||
			     c->tree->kind != SQL_CREATE_TABLE))
		rc = rdb_err_set(b->err, RDB_CORRUPT, "malformed table '%s' "
				 "in the catalog", tb->name);
	if (rc == RDB_OK)
		rc = collect(b->err, &c->tree->u.create_table, &c->expr,
			     &c->name, &c->n);
	if (rc == RDB_OK && c->n > 0)
		rc = row_query(b, tb, &c->q);
	for (i = 0; i < c->n && rc == RDB_OK; i++)
		rc = bind_one(b, c->q, c->expr[i]);
	if (rc == RDB_OK && c->n == 0) {
		chk_free(c);
		p->chk = NULL;
	}
	return rc;
}

/* "CHECK constraint failed: <name, or the expression as written>". */
static rdb_rc failed(sql_prog *p, const chk_prog *c, int i)
{
	const sql_expr *e = c->expr[i];
	const sql_stmt *t = c->tree;

	if (c->name[i] != NULL)
		return rdb_err_set(p->cx.err, RDB_CONSTRAINT, "CHECK "
				   "constraint failed: %s", c->name[i]);
	if (e->pos.off + e->pos.len > t->n_sql)
		return rdb_err_set(p->cx.err, RDB_CONSTRAINT, "CHECK "
				   "constraint failed: %s", p->tb->name);
	return rdb_err_set(p->cx.err, RDB_CONSTRAINT, "CHECK constraint "
			   "failed: %.*s", (int)e->pos.len, t->sql + e->pos.off);
}

rdb_rc chk_row(void *arg, const tbl_table *tb, const tbl_value *row)
{
	sql_prog *p = arg;
	chk_prog *c = p->chk;
	int i, truth;
	rdb_rc rc = RDB_OK;

	(void)tb;
	c->q->src[0].row = row;
	for (i = 0; i < c->n && rc == RDB_OK; i++) {
		rc = eval_truth(p, c->q, c->expr[i], &truth);
		if (rc == RDB_OK && truth == 0)
			rc = failed(p, c, i);
	}
	c->q->src[0].row = NULL;
	return rc;
}
