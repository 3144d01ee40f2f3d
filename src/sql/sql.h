/*
 * sql.h -- SQL over the table layer: connections with their transaction
 * state, and prepared statements (parse, bind, plan, execute).
 *
 * Layer:  sql.  May include table/table.h, kv/kv.h, pager/pager.h, buf.h,
 *         err.h, mem.h, rdb.h.  Used by api.
 * Contract:
 *   - A connection wraps one pager (borrowed).  It is either in autocommit
 *     mode (each statement runs in a transaction of its own) or inside an
 *     explicit BEGIN ... COMMIT (or a SAVEPOINT begun outside one), whose
 *     write transaction it owns.
 *   - Every statement is atomic: when one fails, its changes are undone
 *     (a statement savepoint inside an explicit transaction) and the error
 *     is in the connection's rdb_err.
 *   - A statement is compiled against one schema version; when the catalog
 *     changed since, the next step compiles it again from its text (an
 *     error then is reported by that step).
 *   - Not thread-safe by itself: the api layer serialises the calls on a
 *     connection and its statements.  sql_interrupt() alone may be called
 *     from any thread or a signal handler.
 * Design: src/sql/README.md.
 */
#ifndef RDB_SQL_H
#define RDB_SQL_H
#include <stddef.h>
#include <stdint.h>
#include "rdb.h"
#include "err.h"
#include "pager/pager.h"
#include "table/table.h"

typedef struct sql_conn sql_conn;     /* opaque */
typedef struct sql_prep sql_prep;     /* opaque */

/* ---- connections --------------------------------------------------------- */

/* On RDB_OK the caller owns *out (free with sql_conn_free()); p and err are
 * borrowed and must outlive it.  err receives every error of the
 * connection's calls. */
rdb_rc sql_conn_new(pager *p, rdb_err *err, sql_conn **out);
/* Roll back an open transaction and free c.  Every statement must have
 * been finalized (else RDB_MISUSE and nothing is freed).  NULL-safe. */
rdb_rc sql_conn_free(sql_conn *c);
/* 1 when no explicit transaction is open. */
int sql_conn_autocommit(const sql_conn *c);
/* rdb_limit() of c: the limit id's value before the call (-1 for an
 * unknown id); val >= 0 sets it, held to the limit's range. */
int sql_conn_limit(sql_conn *c, int id, int val);
/* The open explicit transaction, or NULL: other users of the pager on
 * this connection (the KV API) must work inside it rather than begin
 * their own. */
pager_txn *sql_conn_txn(sql_conn *c);
/* Run fn(t, arg) inside the open explicit transaction t as one atomic
 * step: if fn fails, what it changed is undone and the transaction goes
 * on.  RDB_MISUSE if no explicit transaction is open. */
typedef rdb_rc (*sql_txn_fn)(pager_txn *t, void *arg);
rdb_rc sql_conn_run(sql_conn *c, sql_txn_fn fn, void *arg);
/* Rows changed by the last finished INSERT/UPDATE/DELETE, and in all. */
int64_t sql_conn_changes(const sql_conn *c);
int64_t sql_conn_total_changes(const sql_conn *c);
int64_t sql_conn_last_rowid(const sql_conn *c);
/* Is text one or more complete statements (sqlite3_complete)? */
int sql_text_complete(const char *text);
/* Ask the running statement to stop with RDB_INTERRUPT (async-safe). */
void sql_interrupt(sql_conn *c);

/* ---- statements ---------------------------------------------------------- */

/* Compile the first statement of sql[0..n).  *used gets the bytes consumed
 * (through the statement's ';' and trailing blanks).  *out is NULL (and
 * RDB_OK) when only whitespace and comments were consumed.  On RDB_OK with
 * a statement the caller owns *out: free with sql_finalize(). */
rdb_rc sql_prepare(sql_conn *c, const char *sql, size_t n, sql_prep **out,
		   size_t *used);
/* RDB_ROW with a row ready, RDB_DONE, or an error (then the statement's
 * changes are undone and the next step starts it again). */
rdb_rc sql_step(sql_prep *st);
/* Stop and rewind (ending an autocommit read transaction); bindings stay. */
void sql_reset(sql_prep *st);
void sql_finalize(sql_prep *st);                    /* NULL-safe */
int sql_prep_busy(const sql_prep *st);       /* stepped, not finished */
const char *sql_prep_text(const sql_prep *st);      /* borrowed */
int sql_prep_readonly(const sql_prep *st);

/* Parameters, 1-based.  The value is copied.  RDB_RANGE for a bad index,
 * RDB_MISUSE while the statement is busy. */
int sql_param_count(const sql_prep *st);
int sql_param_index(const sql_prep *st, const char *name);   /* 0: none */
const char *sql_param_name(const sql_prep *st, int i);       /* or NULL */
rdb_rc sql_bind(sql_prep *st, int i, const tbl_value *v);
void sql_clear_bindings(sql_prep *st);

/* Result columns, 0-based.  Names and declared types are borrowed until
 * the statement is finalized; a value is borrowed until the next step,
 * reset or finalize. */
int sql_column_count(const sql_prep *st);
const char *sql_column_name(const sql_prep *st, int i);
const char *sql_column_decltype(const sql_prep *st, int i);  /* or NULL */
const tbl_value *sql_column_value(const sql_prep *st, int i);
/* The value converted as sqlite3_column_* convert it: text renders
 * numbers as SQLite prints them (NUL-terminated; NULL for SQL NULL, and
 * for RDB_NOMEM, which is then recorded in the connection's error);
 * numbers from text take its numeric prefix. */
const char *sql_column_text(sql_prep *st, int i, size_t *n);
int64_t sql_column_int(const sql_prep *st, int i);
double sql_column_real(const sql_prep *st, int i);

#endif /* RDB_SQL_H */
