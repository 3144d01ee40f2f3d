/*
 * conn.c -- SQL connections: the explicit transaction (BEGIN ... COMMIT),
 * the cached schema, change counters, interrupts.  Design:
 * src/sql/README.md ("Statements and transactions").
 */
#include "sql.h"
#include "sql_int.h"
#include "kv/kv.h"
#include "sql/ast.h"
#include "sql/value.h"
#include <assert.h>
#include <string.h>
#include <strings.h>
#include "mem.h"

static void sp_pop(sql_conn *c, int keep);

rdb_rc sql_conn_new(pager *p, rdb_err *err, sql_conn **out)
{
	sql_conn *c;

	*out = NULL;
	if ((c = rdb_calloc(1, sizeof(*c))) == NULL)
		return rdb_err_set(err, RDB_NOMEM, "out of memory");
	c->p = p;
	c->err = err;
	c->max_len = SQL_MAX_LENGTH;
	atomic_init(&c->interrupt, 0);
	*out = c;
	return RDB_OK;
}

int sql_conn_limit(sql_conn *c, int id, int val)
{
	int old;

	if (id != RDB_LIMIT_LENGTH)
		return -1;
	old = (int)c->max_len;
	if (val >= 0)
		c->max_len = val < 1 ? 1 : (size_t)val > SQL_MAX_LENGTH ?
			SQL_MAX_LENGTH : (size_t)val;
	return old;
}

rdb_rc sql_conn_free(sql_conn *c)
{
	if (c == NULL)
		return RDB_OK;
	if (c->n_stmts > 0)
		return rdb_err_set(c->err, RDB_MISUSE, "unable to close due "
				   "to unfinalized statements");
	pager_rollback(c->txn);
	conn_drop_rows(c);
	sp_pop(c, 0);
	rdb_free(c->sp);
	rdb_free(c->deltas);
	tbl_schema_unref(c->schema);
	rdb_free(c);
	return RDB_OK;
}

/* ---- row-count estimates ---------------------------------------------------- */

void conn_note_rows(sql_conn *c, const char *table, int64_t delta)
{
	struct row_delta *d;
	size_t n;
	int i;

	if (delta == 0)
		return;
	for (i = 0; i < c->ndeltas; i++)
		if (strcmp(c->deltas[i].table, table) == 0) {
			c->deltas[i].delta += delta;
			return;
		}
	if (c->ndeltas == c->cdeltas) {
		int cap = c->cdeltas ? 2 * c->cdeltas : 8;

		if ((d = rdb_realloc(c->deltas, (size_t)cap * sizeof(*d))) ==
		    NULL)
			return;           /* an estimate may be missed */
		c->deltas = d;
		c->cdeltas = cap;
	}
	n = strlen(table);
	if ((c->deltas[c->ndeltas].table = rdb_malloc(n + 1)) == NULL)
		return;
	memcpy(c->deltas[c->ndeltas].table, table, n + 1);
	c->deltas[c->ndeltas++].delta = delta;
}

void conn_drop_rows(sql_conn *c)
{
	int i;

	for (i = 0; i < c->ndeltas; i++)
		rdb_free(c->deltas[i].table);
	c->ndeltas = 0;
}

rdb_rc conn_flush_rows(sql_conn *c, pager_txn *t)
{
	tbl_schema *s = NULL;
	const tbl_table *tb;
	rdb_rc rc = RDB_OK;
	int i;

	if (c->ndeltas > 0)
		rc = tbl_schema_get(t, c->schema, &s);
	for (i = 0; i < c->ndeltas && rc == RDB_OK; i++)
		if ((tb = tbl_schema_table(s, c->deltas[i].table)) != NULL &&
		    !tb->system)
			rc = tbl_note_rows(t, tb, c->deltas[i].delta);
	tbl_schema_unref(s);
	conn_drop_rows(c);
	return rc;
}

int sql_conn_autocommit(const sql_conn *c)
{
	return c == NULL || !c->in_txn;
}

pager_txn *sql_conn_txn(sql_conn *c)
{
	return c == NULL || !c->in_txn ? NULL : c->txn;
}

int64_t sql_conn_changes(const sql_conn *c) { return c->changes; }
int64_t sql_conn_total_changes(const sql_conn *c) { return c->total_changes; }
int64_t sql_conn_last_rowid(const sql_conn *c) { return c->last_rowid; }

int sql_text_complete(const char *text)
{
	return sql_complete(text);
}

void sql_interrupt(sql_conn *c)
{
	if (c != NULL)
		atomic_store(&c->interrupt, 1);
}

/* ---- the explicit transaction -------------------------------------------- */

/* Open a pager savepoint in the new write transaction w for each SQL
 * savepoint: none of them saw a write, so all begin where w does.  On
 * failure w has none and the SQL savepoints stay unopened. */
static rdb_rc sp_open_all(sql_conn *c, pager_txn *w)
{
	rdb_rc rc;
	int i, j;

	for (i = 0; i < c->nsp; i++) {
		assert(c->sp[i].id == 0);
		if ((rc = pager_savepoint(w, &c->sp[i].id)) == RDB_OK)
			continue;
		if (i > 0)
			(void)pager_savepoint_release(w, c->sp[0].id);
		for (j = 0; j < c->nsp; j++)
			c->sp[j].id = 0;
		return rc;
	}
	return RDB_OK;
}

/*
 * Make sure the explicit transaction can run a statement that writes
 * (write) or only reads.  A deferred BEGIN starts a read transaction at
 * its first reading statement; a later write upgrades it when no other
 * statement is reading and nothing was committed since its snapshot
 * (else RDB_BUSY, as SQLite's SQLITE_BUSY_SNAPSHOT).
 */
rdb_rc sql_conn_txn_need(sql_conn *c, int write)
{
	pager_txn *w;
	rdb_rc rc;

	if (c->txn != NULL && (!write || pager_txn_is_write(c->txn)))
		return RDB_OK;
	if (c->txn == NULL) {
		rc = pager_begin(c->p, write || c->immediate, c->err, &w);
		if (rc == RDB_OK && pager_txn_is_write(w) &&
		    (rc = sp_open_all(c, w)) != RDB_OK)
			pager_rollback(w);
		if (rc == RDB_OK)
			c->txn = w;
		return rc;
	}
	if (c->n_busy > 0)
		return rdb_err_set(c->err, RDB_BUSY, "database is locked: "
				   "a statement is still reading");
	if ((rc = pager_begin(c->p, 1, c->err, &w)) != RDB_OK)
		return rc;
	if (pager_txn_snapshot(w) != pager_txn_snapshot(c->txn)) {
		pager_rollback(w);
		return rdb_err_set(c->err, RDB_BUSY, "database is locked: "
				   "it changed since this transaction read it");
	}
	if ((rc = sp_open_all(c, w)) != RDB_OK) {
		pager_rollback(w);
		return rc;
	}
	pager_rollback(c->txn);
	c->txn = w;
	return RDB_OK;
}

/* BEGIN: no pager transaction yet unless IMMEDIATE. */
rdb_rc sql_conn_begin(sql_conn *c, int immediate)
{
	if (c->in_txn)
		return rdb_err_set(c->err, RDB_ERROR, "cannot start a "
				   "transaction within a transaction");
	c->in_txn = 1;
	c->immediate = immediate;
	c->txn_failed = 0;
	if (immediate && sql_conn_txn_need(c, 1) != RDB_OK) {
		c->in_txn = 0;
		return c->err->rc;
	}
	return RDB_OK;
}

/* COMMIT (commit = 1) or ROLLBACK of the explicit transaction. */
rdb_rc sql_conn_end(sql_conn *c, int commit)
{
	pager_txn *t = c->txn;
	rdb_rc rc = RDB_OK;

	if (!c->in_txn)
		return rdb_err_set(c->err, RDB_ERROR, "cannot %s - no "
				   "transaction is active",
				   commit ? "commit" : "rollback");
	if (commit && c->n_busy > 0)
		return rdb_err_set(c->err, RDB_BUSY, "cannot commit "
				   "transaction - SQL statements in progress");
	c->txn = NULL;
	c->in_txn = 0;
	sp_pop(c, 0);
	c->sp_txn = 0;
	if (commit && c->txn_failed) {
		pager_rollback(t);
		return rdb_err_set(c->err, RDB_ERROR, "cannot commit: an "
				   "earlier error left the transaction "
				   "unusable; it was rolled back");
	}
	if (t != NULL && commit && pager_txn_is_write(t))
		rc = conn_flush_rows(c, t);
	if (t != NULL && commit && pager_txn_is_write(t) && rc == RDB_OK)
		rc = kv_maybe_compact(t);
	conn_drop_rows(c);
	if (t != NULL && commit && rc == RDB_OK)
		rc = pager_commit(t);
	else
		pager_rollback(t);
	return rc;
}

rdb_rc sql_conn_run(sql_conn *c, sql_txn_fn fn, void *arg)
{
	uint32_t sp;
	rdb_rc rc;

	if (!c->in_txn)
		return RDB_MISUSE;
	if ((rc = sql_conn_txn_need(c, 1)) != RDB_OK)
		return rc;
	if ((rc = pager_savepoint(c->txn, &sp)) != RDB_OK)
		return rc;
	rc = fn(c->txn, arg);
	if (rc == RDB_OK)
		return pager_savepoint_release(c->txn, sp);
	if (pager_savepoint_rollback(c->txn, sp) != RDB_OK ||
	    pager_savepoint_release(c->txn, sp) != RDB_OK)
		c->txn_failed = 1;
	return rc;
}

/* ---- SQL savepoints -------------------------------------------------------- *
 * The stack c->sp mirrors SQLite's: SAVEPOINT pushes (starting a deferred
 * transaction in autocommit mode), RELEASE pops a name and everything
 * above it, ROLLBACK TO undoes to a name and pops only what is above it.
 * Invariant: nsp > 0 only inside a transaction, and every entry has a
 * pager savepoint (id != 0) exactly when c->txn is a write transaction.
 */

static void sp_pop(sql_conn *c, int keep)
{
	while (c->nsp > keep) {
		c->nsp--;
		rdb_free(c->sp[c->nsp].name);
		rdb_free(c->sp[c->nsp].delta);
	}
}

/* Note the row estimates in sp, for a ROLLBACK TO. */
static rdb_rc sp_keep_rows(sql_conn *c, conn_savept *sp)
{
	int i;

	sp->ndelta = c->ndeltas;
	sp->delta = rdb_malloc((size_t)c->ndeltas * sizeof(int64_t) + 1);
	if (sp->delta == NULL)
		return rdb_err_set(c->err, RDB_NOMEM, "out of memory");
	for (i = 0; i < c->ndeltas; i++)
		sp->delta[i] = c->deltas[i].delta;
	return RDB_OK;
}

/* Put back the row estimates as they were when sp began. */
static void sp_restore_rows(sql_conn *c, const conn_savept *sp)
{
	int i;

	while (c->ndeltas > sp->ndelta)
		rdb_free(c->deltas[--c->ndeltas].table);
	for (i = 0; i < c->ndeltas; i++)
		c->deltas[i].delta = sp->delta[i];
}

/* The most recent savepoint called name (case-insensitive), or -1. */
static int sp_find(const sql_conn *c, const char *name)
{
	int i;

	for (i = c->nsp - 1; i >= 0; i--)
		if (strcasecmp(c->sp[i].name, name) == 0)
			return i;
	return -1;
}

static rdb_rc no_such(sql_conn *c, const char *name)
{
	return rdb_err_set(c->err, RDB_ERROR, "no such savepoint: %s", name);
}

rdb_rc sql_conn_savepoint(sql_conn *c, const char *name)
{
	size_t n = strlen(name);
	conn_savept *sp;
	rdb_rc rc;

	if (c->in_txn && c->txn_failed)
		return rdb_err_set(c->err, RDB_ERROR, "the transaction failed "
				   "earlier; ROLLBACK it");
	if (c->nsp == c->csp) {
		int cap = c->csp ? 2 * c->csp : 4;

		if ((sp = rdb_realloc(c->sp, (size_t)cap * sizeof(*sp))) ==
		    NULL)
			return rdb_err_set(c->err, RDB_NOMEM, "out of memory");
		c->sp = sp;
		c->csp = cap;
	}
	sp = &c->sp[c->nsp];
	if ((sp->name = rdb_malloc(n + 1)) == NULL)
		return rdb_err_set(c->err, RDB_NOMEM, "out of memory");
	memcpy(sp->name, name, n + 1);
	sp->id = 0;
	if ((rc = sp_keep_rows(c, sp)) != RDB_OK ||
	    (c->txn != NULL && pager_txn_is_write(c->txn) &&
	     (rc = pager_savepoint(c->txn, &sp->id)) != RDB_OK)) {
		rdb_free(sp->name);
		rdb_free(sp->delta);
		return rc;
	}
	c->nsp++;
	if (!c->in_txn) {
		c->in_txn = 1;
		c->immediate = 0;
		c->txn_failed = 0;
		c->sp_txn = 1;
	}
	return RDB_OK;
}

rdb_rc sql_conn_release(sql_conn *c, const char *name)
{
	int i = sp_find(c, name);
	rdb_rc rc;

	if (i < 0)
		return no_such(c, name);
	if (i == 0 && c->sp_txn)
		return sql_conn_end(c, 1);
	if (c->sp[i].id != 0 &&
	    (rc = pager_savepoint_release(c->txn, c->sp[i].id)) != RDB_OK)
		return rc;
	sp_pop(c, i);
	return RDB_OK;
}

rdb_rc sql_conn_rollback_to(sql_conn *c, const char *name)
{
	int i = sp_find(c, name);
	rdb_rc rc;

	if (i < 0)
		return no_such(c, name);
	/* Readers hold pages that the rollback would make stale. */
	if (c->n_busy > 0)
		return rdb_err_set(c->err, RDB_BUSY, "cannot rollback to "
				   "savepoint - SQL statements in progress");
	if (c->txn_failed)
		return rdb_err_set(c->err, RDB_ERROR, "the transaction failed "
				   "earlier; ROLLBACK it");
	sp_pop(c, i + 1);
	if (c->sp[i].id == 0)
		return RDB_OK;
	sp_restore_rows(c, &c->sp[i]);
	if ((rc = pager_savepoint_rollback(c->txn, c->sp[i].id)) != RDB_OK)
		c->txn_failed = 1;
	return rc;
}
