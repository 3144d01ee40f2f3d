/*
 * sql_int.h -- what the files of src/sql share: the connection, the
 * statement, and the compiled program a statement runs.  Design:
 * src/sql/README.md ("Statements and transactions", "Execution").
 */
#ifndef RDB_SQL_INT_H
#define RDB_SQL_INT_H
#include <stdatomic.h>
#include "sql.h"
#include "buf.h"

typedef struct sql_prog sql_prog;     /* a compiled statement (exec.h) */

/* What a statement does to the transaction state. */
typedef enum prep_kind {
	PREP_QUERY = 0,          /* reads (SELECT, EXPLAIN, read PRAGMAs) */
	PREP_WRITE,              /* changes rows or schema */
	PREP_BEGIN,
	PREP_COMMIT,
	PREP_ROLLBACK,
	PREP_SAVEPOINT,          /* SAVEPOINT name */
	PREP_RELEASE,            /* RELEASE [SAVEPOINT] name */
	PREP_ROLLBACK_TO         /* ROLLBACK [TRANSACTION] TO [SAVEPOINT] name */
} prep_kind;

/* An SQL savepoint (conn.c): the stack of them is the connection's. */
typedef struct conn_savept {
	char *name;               /* owned */
	uint32_t id;              /* its pager savepoint; 0 while the
				     transaction has not written (it is
				     opened when the write transaction is) */
	int64_t *delta;           /* owned: sql_conn.deltas[].delta when it
				     began (that array only grows inside a
				     transaction), ndelta of them */
	int ndelta;
} conn_savept;

struct sql_conn {
	pager *p;                 /* borrowed */
	rdb_err *err;             /* borrowed: the handle's error */
	pager_txn *txn;           /* owned: the explicit transaction's, or
				     NULL (also NULL after a deferred BEGIN
				     until its first statement) */
	int in_txn;               /* between BEGIN and COMMIT/ROLLBACK */
	int immediate;            /* BEGIN IMMEDIATE/EXCLUSIVE */
	int txn_failed;           /* an error left txn fit only for rollback */
	tbl_schema *schema;       /* owned reference: the last schema seen */
	int64_t changes, total_changes;
	int64_t last_rowid;       /* of the last row inserted */
	atomic_int interrupt;
	long n_stmts;             /* statements not finalized */
	struct row_delta {
		char *table;      /* owned */
		int64_t delta;
	} *deltas;                /* owned: rows added (or removed) per table
				     by the transaction's statements, for
				     the estimates in rdb_tables */
	int ndeltas, cdeltas;
	long n_busy;              /* statements running inside txn */
	conn_savept *sp;          /* owned: SQL savepoints, outermost first */
	int nsp, csp;
	int sp_txn;               /* the transaction was begun by SAVEPOINT:
				     releasing its outermost one commits */
	int raise_end;            /* the running statement failed by
				     RAISE(FAIL) (1) or RAISE(ROLLBACK) (2) */
	size_t max_len;           /* RDB_LIMIT_LENGTH: every statement's
				     sql_ctx reads it (sql_conn_limit) */
};

struct sql_prep {
	sql_conn *c;              /* borrowed */
	char *text;               /* owned, NUL-terminated copy */
	size_t len;
	sql_prog *prog;           /* owned; NULL when it must be compiled */
	prep_kind kind;
	int readonly;
	int busy;                 /* started, not finished */
	pager_txn *t;             /* the transaction it runs in */
	int own_txn;              /* t is this statement's own (autocommit) */
	uint32_t savepoint;       /* inside an explicit write transaction */
	int has_savepoint;
	int bare;                 /* a write in an explicit transaction
				     without a savepoint (dml_one_row) */
	tbl_schema *schema;       /* owned reference while busy */
	int n_params;
	char **param_names;       /* owned: n_params entries (NULL: unnamed) */
	tbl_value *params;        /* owned, with owned bytes: n_params */
	int n_cols;
	char **col_names;         /* owned */
	char **col_types;         /* owned (entries may be NULL) */
	const tbl_value *row;     /* borrowed from prog until the next step */
	rdb_buf *col_text;        /* owned: n_cols text conversions */
	uint64_t *text_gen;       /* owned: the row each conversion is of */
	uint64_t gen;             /* counts rows produced */
	int64_t changes;          /* rows changed by this run */
};

/* conn.c: row-count estimates, noted per statement and written to the
 * catalog once, just before the transaction commits. */
void conn_note_rows(sql_conn *c, const char *table, int64_t delta);
rdb_rc conn_flush_rows(sql_conn *c, pager_txn *t);
void conn_drop_rows(sql_conn *c);

/* conn.c: SAVEPOINT, RELEASE and ROLLBACK TO (SQLite's rules; see
 * src/sql/README.md, "Savepoints"). */
rdb_rc sql_conn_savepoint(sql_conn *c, const char *name);
rdb_rc sql_conn_release(sql_conn *c, const char *name);
rdb_rc sql_conn_rollback_to(sql_conn *c, const char *name);

#endif /* RDB_SQL_INT_H */
