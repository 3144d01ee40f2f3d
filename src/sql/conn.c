/*
 * conn.c -- SQL connections: the explicit transaction (BEGIN ... COMMIT),
 * the cached schema, change counters, interrupts.  Design:
 * src/sql/README.md ("Statements and transactions").
 */
#include "sql.h"
#include "sql_int.h"
#include "kv/kv.h"
#include "sql/ast.h"
#include <string.h>
#include "mem.h"

rdb_rc sql_conn_new(pager *p, rdb_err *err, sql_conn **out)
{
	sql_conn *c;

	*out = NULL;
	if ((c = rdb_calloc(1, sizeof(*c))) == NULL)
		return rdb_err_set(err, RDB_NOMEM, "out of memory");
	c->p = p;
	c->err = err;
	atomic_init(&c->interrupt, 0);
	*out = c;
	return RDB_OK;
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
	if (c->txn == NULL)
		return pager_begin(c->p, write || c->immediate, c->err,
				   &c->txn);
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
