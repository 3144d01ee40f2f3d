/*
 * prep.c -- prepared statements: parse and compile, parameters, the
 * transaction each run uses (its own in autocommit mode, else the
 * connection's with a statement savepoint), recompiling after a schema
 * change, result columns.  Design: src/sql/README.md ("Statements and
 * transactions").
 */
#include "sql.h"
#include "sql_int.h"
#include "exec.h"
#include <string.h>
#include "kv/kv.h"
#include "mem.h"

rdb_rc sql_conn_txn_need(sql_conn *c, int write);
rdb_rc sql_conn_begin(sql_conn *c, int immediate);
rdb_rc sql_conn_end(sql_conn *c, int commit);

/* ---- compiling ------------------------------------------------------------ */

/* The schema of t, also kept as the connection's cached schema.  Caller
 * owns a reference to *out. */
static rdb_rc schema_of(sql_conn *c, pager_txn *t, tbl_schema **out)
{
	tbl_schema *s, *keep;
	rdb_rc rc;

	if ((rc = tbl_schema_get(t, c->schema, &s)) != RDB_OK)
		return rc;
	if (s != c->schema && tbl_schema_get(t, s, &keep) == RDB_OK) {
		tbl_schema_unref(c->schema);
		c->schema = keep;
	}
	*out = s;
	return RDB_OK;
}

static prep_kind kind_of(const sql_prog *p)
{
	switch (p->op) {
	case OP_SELECT: case OP_EXPLAIN: case OP_PRAGMA: return PREP_QUERY;
	case OP_BEGIN: return PREP_BEGIN;
	case OP_COMMIT: return PREP_COMMIT;
	case OP_ROLLBACK: return PREP_ROLLBACK;
	case OP_SAVEPOINT: return PREP_SAVEPOINT;
	case OP_RELEASE: return PREP_RELEASE;
	case OP_ROLLBACK_TO: return PREP_ROLLBACK_TO;
	default: return PREP_WRITE;
	}
}

/* A BEGIN that takes the write lock at once. */
static int begins_writing(const sql_prog *p)
{
	return p->op == OP_BEGIN && (p->ast->u.begin == SQL_TXN_IMMEDIATE ||
				     p->ast->u.begin == SQL_TXN_EXCLUSIVE);
}

/* Free column arrays of n entries (NULL-safe, entries may be NULL). */
static void free_columns(char **names, char **types, rdb_buf *text,
			 uint64_t *gen, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (names != NULL)
			rdb_free(names[i]);
		if (types != NULL)
			rdb_free(types[i]);
		if (text != NULL)
			rdb_buf_free(&text[i]);
	}
	rdb_free(names);
	rdb_free(types);
	rdb_free(text);
	rdb_free(gen);
}

/* Copy the result column names and types out of the program, so that
 * they outlive recompiles.  On failure the old ones stay. */
static rdb_rc take_columns(sql_prep *st)
{
	const sql_prog *p = st->prog;
	int i, n = p->n_cols;
	char **names = rdb_calloc((size_t)n + 1, sizeof(char *));
	char **types = rdb_calloc((size_t)n + 1, sizeof(char *));
	rdb_buf *text = rdb_calloc((size_t)n + 1, sizeof(rdb_buf));
	uint64_t *gen = rdb_calloc((size_t)n + 1, sizeof(uint64_t));
	int ok = names && types && text && gen;

	for (i = 0; i < n && ok; i++) {
		ok = (names[i] = rdb_malloc(strlen(p->names[i]) + 1)) != NULL;
		if (ok)
			strcpy(names[i], p->names[i]);
		if (ok && p->decltypes != NULL && p->decltypes[i] != NULL) {
			ok = (types[i] = rdb_malloc(strlen(p->decltypes[i]) +
						    1)) != NULL;
			if (ok)
				strcpy(types[i], p->decltypes[i]);
		}
	}
	if (!ok) {
		free_columns(names, types, text, gen, names && types ? n : 0);
		return rdb_err_set(st->c->err, RDB_NOMEM, "out of memory");
	}
	free_columns(st->col_names, st->col_types, st->col_text,
		     st->text_gen, st->n_cols);
	st->col_names = names;
	st->col_types = types;
	st->col_text = text;
	st->text_gen = gen;
	st->n_cols = n;
	return RDB_OK;
}

/* Parse st->text and compile it against schema s (a reference the
 * program takes). */
static rdb_rc compile(sql_prep *st, tbl_schema *s, size_t *used)
{
	sql_stmt *ast = NULL;
	sql_prog *p;
	size_t tail = 0;
	rdb_rc rc;

	rc = sql_parse(st->text, st->len, st->c->err, &ast, &tail);
	if (rc == RDB_OK && ast == NULL)
		rc = rdb_err_set(st->c->err, RDB_INTERNAL, "statement vanished");
	if (rc != RDB_OK) {
		tbl_schema_unref(s);
		return rc;
	}
	if (used != NULL)
		*used = tail;
	if ((rc = prog_compile(st->c, s, ast, &p)) != RDB_OK)
		return rc;
	prog_free(st->prog);
	st->prog = p;
	st->kind = kind_of(p);
	/* BEGIN IMMEDIATE and EXCLUSIVE take the write lock, so, as in
	 * sqlite3_stmt_readonly(), they do not only read. */
	st->readonly = st->kind != PREP_WRITE && !begins_writing(p);
	return take_columns(st);
}

static void free_params(sql_prep *st)
{
	int i;

	for (i = 0; i < st->n_params; i++) {
		rdb_free(st->param_names[i]);
		if (st->params[i].cls == TBL_TEXT ||
		    st->params[i].cls == TBL_BLOB)
			rdb_free((void *)st->params[i].p);
	}
	rdb_free(st->param_names);
	rdb_free(st->params);
}

static rdb_rc take_params(sql_prep *st, const sql_stmt *ast)
{
	int i, n = ast->n_params;

	st->params = rdb_calloc((size_t)n + 1, sizeof(tbl_value));
	st->param_names = rdb_calloc((size_t)n + 1, sizeof(char *));
	if (st->params == NULL || st->param_names == NULL)
		return rdb_err_set(st->c->err, RDB_NOMEM, "out of memory");
	st->n_params = n;
	for (i = 0; i < n; i++) {
		const char *nm = ast->param_names ? ast->param_names[i] : NULL;

		st->params[i].cls = TBL_NULL;
		if (nm == NULL)
			continue;
		if ((st->param_names[i] = rdb_malloc(strlen(nm) + 1)) == NULL)
			return rdb_err_set(st->c->err, RDB_NOMEM,
					   "out of memory");
		strcpy(st->param_names[i], nm);
	}
	return RDB_OK;
}

void sql_finalize(sql_prep *st)
{
	if (st == NULL)
		return;
	sql_reset(st);
	prog_free(st->prog);
	free_params(st);
	free_columns(st->col_names, st->col_types, st->col_text,
		     st->text_gen, st->n_cols);
	rdb_free(st->text);
	st->c->n_stmts--;
	rdb_free(st);
}

/* Begin a read transaction for compiling, unless one is open. */
static rdb_rc compile_txn(sql_conn *c, pager_txn **t, int *own)
{
	*own = 0;
	if (c->in_txn && c->txn != NULL) {
		*t = c->txn;
		return RDB_OK;
	}
	*own = 1;
	return pager_begin(c->p, 0, c->err, t);
}

rdb_rc sql_prepare(sql_conn *c, const char *sql, size_t n, sql_prep **out,
		   size_t *used)
{
	sql_stmt *ast = NULL;
	sql_prep *st;
	tbl_schema *s = NULL;
	pager_txn *t = NULL;
	size_t tail = 0;
	int own;
	rdb_rc rc;

	*out = NULL;
	*used = 0;
	if ((rc = sql_parse(sql, n, c->err, &ast, &tail)) != RDB_OK)
		return rc;
	*used = tail;
	if (ast == NULL)
		return RDB_OK;
	if ((st = rdb_calloc(1, sizeof(*st))) == NULL ||
	    (st->text = rdb_malloc(tail + 1)) == NULL) {
		rdb_free(st);
		sql_stmt_free(ast);
		return rdb_err_set(c->err, RDB_NOMEM, "out of memory");
	}
	st->c = c;
	c->n_stmts++;
	memcpy(st->text, sql, tail);
	st->text[tail] = '\0';
	st->len = tail;
	rc = take_params(st, ast);
	sql_stmt_free(ast);
	if (rc == RDB_OK && (rc = compile_txn(c, &t, &own)) == RDB_OK) {
		rc = schema_of(c, t, &s);
		if (rc == RDB_OK)
			rc = compile(st, s, NULL);
		if (own)
			pager_rollback(t);
	}
	if (rc != RDB_OK) {
		sql_finalize(st);
		return rc;
	}
	*out = st;
	return RDB_OK;
}

/* ---- running ------------------------------------------------------------------ */

/* Undo a failed or abandoned run and end its transaction. */
static void abandon(sql_prep *st)
{
	sql_conn *c = st->c;

	if (st->prog != NULL)
		prog_stop(st->prog);
	if (st->own_txn) {
		pager_rollback(st->t);
		conn_drop_rows(c);
	} else if (st->has_savepoint) {
		if (pager_savepoint_rollback(st->t, st->savepoint) != RDB_OK ||
		    pager_savepoint_release(st->t, st->savepoint) != RDB_OK)
			c->txn_failed = 1;
	}
	if (!st->own_txn && st->busy)
		c->n_busy--;
	st->t = NULL;
	st->own_txn = st->has_savepoint = st->bare = 0;
	st->busy = 0;
}

/* A finished run: commit its own transaction or keep its changes in the
 * explicit one. */
static rdb_rc finish(sql_prep *st)
{
	sql_conn *c = st->c;
	rdb_rc rc = RDB_OK;

	prog_stop(st->prog);
	if ((st->prog->op == OP_INSERT || st->prog->op == OP_DELETE) &&
	    st->prog->tb != NULL)         /* NULL: a view's */
		conn_note_rows(c, st->prog->tb->name,
			       st->prog->op == OP_INSERT ? st->prog->changes
							 : -st->prog->changes);
	if (st->own_txn && pager_txn_is_write(st->t)) {
		rc = conn_flush_rows(c, st->t);
		if (rc == RDB_OK)
			rc = kv_maybe_compact(st->t);
		if (rc == RDB_OK)
			rc = pager_commit(st->t);
		else
			pager_rollback(st->t);
	} else if (st->own_txn) {
		pager_rollback(st->t);
	} else if (st->has_savepoint) {
		rc = pager_savepoint_release(st->t, st->savepoint);
	}
	if (!st->own_txn)
		c->n_busy--;
	st->t = NULL;
	st->own_txn = st->has_savepoint = st->busy = st->bare = 0;
	if (rc == RDB_OK && (st->prog->op == OP_INSERT ||
			     st->prog->op == OP_UPDATE ||
			     st->prog->op == OP_DELETE)) {
		c->changes = st->prog->changes;
		c->total_changes += st->prog->changes;
	}
	return rc;
}

/* A run that RAISE(FAIL) or RAISE(ROLLBACK) ended with error rc (SQLite's
 * rules): FAIL keeps what the statement changed before it, as if it had
 * finished; ROLLBACK undoes it and ends the explicit transaction (left
 * open, as ABORT, while another statement is reading).  The RAISE's
 * error stays the connection's unless ending the transaction fails. */
static rdb_rc raise_end(sql_prep *st, rdb_rc rc)
{
	sql_conn *c = st->c;
	rdb_err e = *c->err;
	rdb_rc rc2 = RDB_OK;

	if (c->raise_end == 1) {
		rc2 = finish(st);
	} else {
		c->changes = 0;
		abandon(st);
		if (c->in_txn && c->n_busy == 0)
			rc2 = sql_conn_end(c, 0);
	}
	if (rc2 != RDB_OK)
		return rc2;
	*c->err = e;
	return rc;
}

/* Transaction control statements run here, not in a program. */
static rdb_rc control(sql_prep *st)
{
	sql_conn *c = st->c;

	switch (st->kind) {
	case PREP_BEGIN:
		return sql_conn_begin(c, begins_writing(st->prog));
	case PREP_COMMIT:
		return sql_conn_end(c, 1);
	case PREP_SAVEPOINT:
		return sql_conn_savepoint(c, st->prog->ast->u.savepoint);
	case PREP_RELEASE:
		return sql_conn_release(c, st->prog->ast->u.savepoint);
	case PREP_ROLLBACK_TO:
		return sql_conn_rollback_to(c, st->prog->ast->u.savepoint);
	default:
		if (c->n_busy > 0)
			return rdb_err_set(c->err, RDB_BUSY, "cannot rollback "
					   "transaction - SQL statements in "
					   "progress");
		return sql_conn_end(c, 0);
	}
}

/* Pick the transaction of this run. */
static rdb_rc open_txn(sql_prep *st)
{
	sql_conn *c = st->c;
	int write = st->kind == PREP_WRITE;
	rdb_rc rc;

	if (!c->in_txn) {
		st->own_txn = 1;
		return pager_begin(c->p, write, c->err, &st->t);
	}
	if (c->txn_failed)
		return rdb_err_set(c->err, RDB_ERROR, "the transaction failed "
				   "earlier; ROLLBACK it");
	if ((rc = sql_conn_txn_need(c, write)) != RDB_OK)
		return rc;
	st->t = c->txn;           /* a write's savepoint: once compiled */
	c->n_busy++;
	st->busy = 1;
	return RDB_OK;
}

/* Recompile when the catalog changed since the program was compiled. */
static rdb_rc refresh(sql_prep *st)
{
	tbl_schema *s;
	rdb_rc rc;

	if ((rc = schema_of(st->c, st->t, &s)) != RDB_OK)
		return rc;
	if (st->prog != NULL &&
	    tbl_schema_version(s) == tbl_schema_version(st->prog->schema)) {
		tbl_schema_unref(s);
		return RDB_OK;
	}
	return compile(st, s, NULL);
}

/* A write inside an explicit transaction is undone alone when it fails:
 * a pager savepoint around it, except for a one-row INSERT
 * (dml_one_row), whose constraint failures come before its first write
 * and whose other failures (file, memory) leave the transaction to be
 * rolled back, as SQLite does without a statement journal. */
static rdb_rc statement_savepoint(sql_prep *st)
{
	rdb_rc rc;

	if (st->own_txn || st->kind != PREP_WRITE)
		return RDB_OK;
	if (dml_one_row(st->prog)) {
		st->bare = 1;
		return RDB_OK;
	}
	if ((rc = pager_savepoint(st->t, &st->savepoint)) != RDB_OK)
		return rc;
	st->has_savepoint = 1;
	return RDB_OK;
}

/* After a write without a savepoint failed: only a failure that comes
 * before any write leaves the transaction usable. */
static void bare_failed(sql_prep *st, rdb_rc rc)
{
	if (st->bare && st->t != NULL && rc != RDB_CONSTRAINT &&
	    rc != RDB_ERROR && rc != RDB_MISMATCH)
		st->c->txn_failed = 1;
}

static rdb_rc start(sql_prep *st)
{
	sql_conn *c = st->c;
	rdb_rc rc;

	if (c->n_busy == 0)
		atomic_store(&c->interrupt, 0);
	if (st->kind != PREP_QUERY && st->kind != PREP_WRITE)
		return control(st) == RDB_OK ? RDB_DONE : c->err->rc;
	if ((rc = open_txn(st)) != RDB_OK) {
		abandon(st);
		return rc;
	}
	st->busy = 1;
	c->raise_end = 0;
	rc = refresh(st);
	if (rc == RDB_OK)
		rc = statement_savepoint(st);
	if (rc == RDB_OK)
		rc = prog_start(st->prog, st->t, st->params, st->n_params);
	if (rc != RDB_OK && c->raise_end != 0 && st->prog->op != OP_SELECT)
		return raise_end(st, rc);
	if (rc != RDB_OK) {
		/* As SQLite: a failed INSERT, UPDATE or DELETE changed 0 rows. */
		if (st->prog != NULL && (st->prog->op == OP_INSERT ||
					 st->prog->op == OP_UPDATE ||
					 st->prog->op == OP_DELETE))
			c->changes = 0;
		bare_failed(st, rc);
		abandon(st);
		return rc;
	}
	return RDB_OK;
}

rdb_rc sql_step(sql_prep *st)
{
	rdb_rc rc;

	if (!st->busy) {
		if ((rc = start(st)) != RDB_OK)
			return rc;
		st->gen++;
	}
	rc = prog_next(st->prog);
	st->gen++;
	if (rc == RDB_ROW) {
		st->row = st->prog->outt;
		return RDB_ROW;
	}
	st->row = NULL;
	if (rc == RDB_DONE)
		return finish(st) == RDB_OK ? RDB_DONE : st->c->err->rc;
	bare_failed(st, rc);
	abandon(st);
	return rc;
}

void sql_reset(sql_prep *st)
{
	if (st->busy)
		abandon(st);
	st->row = NULL;
}

int sql_prep_busy(const sql_prep *st) { return st->busy; }
const char *sql_prep_text(const sql_prep *st) { return st->text; }
int sql_prep_readonly(const sql_prep *st) { return st->readonly; }
