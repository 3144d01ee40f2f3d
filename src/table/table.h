/*
 * table.h -- typed values, order-preserving keys, rows, tables with
 * primary keys, secondary indexes, and the system catalog.
 *
 * Layer:  table.  May include btree/btree.h, kv/kv.h, pager/pager.h,
 *         format.h, buf.h, err.h, mem.h, rdb.h.  Used by sql (and api).
 *         Knows no SQL: statement text is stored and shown, never parsed.
 * Contract:
 *   - Values (tbl_value) borrow their bytes; every function says how long
 *     the bytes it hands out stay valid.
 *   - Every call that touches the file runs inside the caller's pager
 *     transaction; changes need a write transaction and commit or roll
 *     back with it.  Errors are recorded in the transaction's rdb_err with
 *     a message naming the table, column or index.
 *   - A failed row change (RDB_CONSTRAINT, RDB_TOOBIG, RDB_MISMATCH) has
 *     changed nothing: every check happens before the first write.  Any
 *     other failure leaves the transaction fit only for rollback.
 *   - Schemas (tbl_schema) are immutable snapshots of the catalog taken
 *     from one transaction; a DDL call changes the catalog, after which the
 *     caller fetches a new schema with tbl_schema_get().  Pointers into a
 *     schema (tables, columns, indexes) are borrowed until it is released.
 *   - The system tables (rdb_tables, rdb_columns, rdb_indexes,
 *     rdb_index_columns, rdb_triggers) live in the KV store under the system namespace
 *     and are read with the same cursors as user tables; writing to them
 *     through this interface is refused (RDB_ERROR naming the table).
 * Design: src/table/README.md.  Bytes: docs/format.md ("Tables").
 */
#ifndef RDB_TABLE_H
#define RDB_TABLE_H
#include <stddef.h>
#include <stdint.h>
#include "rdb.h"
#include "buf.h"
#include "err.h"
#include "pager/pager.h"

/* ---- values ------------------------------------------------------------ */

/* Storage classes, in SQLite's sort order. */
typedef enum tbl_class {
	TBL_NULL = 0,
	TBL_INT = 1,
	TBL_REAL = 2,
	TBL_TEXT = 3,
	TBL_BLOB = 4
} tbl_class;

typedef struct tbl_value {
	tbl_class cls;
	int64_t i;                /* TBL_INT */
	double r;                 /* TBL_REAL (never NaN) */
	const void *p;            /* TBL_TEXT (UTF-8, no NUL), TBL_BLOB:
				     borrowed, see the producing call */
	size_t n;                 /* bytes at p */
} tbl_value;

/* SQLite's ordering of two values with the BINARY collation: NULL first,
 * then numbers by value (2 = 2.0), then text by bytes, then blobs by
 * bytes.  Returns <0, 0, >0. */
int tbl_value_cmp(const tbl_value *a, const tbl_value *b);

/* ---- declared column types ---------------------------------------------- */

typedef enum tbl_type {
	TBL_TY_INTEGER = 1,       /* INTEGER INT BIGINT SMALLINT TINYINT */
	TBL_TY_REAL,              /* REAL FLOAT DOUBLE [PRECISION] */
	TBL_TY_TEXT,              /* TEXT, VARCHAR(n), CHAR(n) */
	TBL_TY_BLOB,              /* BLOB */
	TBL_TY_BOOLEAN,           /* BOOLEAN: integer 0 or 1 */
	TBL_TY_ANY                /* ANY: keeps the value's class */
} tbl_type;

/* Parse a declared type name (case-insensitive, e.g. "varchar(20)").
 * *maxlen gets the length in characters for VARCHAR(n)/CHAR(n), else 0.
 * An unknown name is RDB_ERROR ("unknown type name 'X'"). */
rdb_rc tbl_type_parse(const char *decl, tbl_type *type, uint32_t *maxlen,
		      rdb_err *err);
const char *tbl_type_name(tbl_type type);      /* "INTEGER", ... */

/* ---- schema objects ------------------------------------------------------ */

#define TBL_MAX_COLUMNS 2000      /* columns of a table */
#define TBL_MAX_KEY_COLS 32       /* columns of a primary key or an index */

typedef struct tbl_column {
	char *name;               /* owned */
	char *decl;               /* owned: the type as declared ("VARCHAR(8)") */
	tbl_type type;
	uint32_t maxlen;          /* characters; 0 = unlimited */
	uint8_t notnull;
	uint8_t unique;           /* a UNIQUE column constraint */
	uint16_t pk;              /* 1-based position in the primary key, 0 */
	uint8_t pk_desc;          /* that key column sorts descending */
	uint8_t has_dflt;
	tbl_value dflt;           /* coerced DEFAULT value; bytes owned */
	char *dflt_sql;           /* owned: the DEFAULT as written, or NULL */
} tbl_column;

typedef struct tbl_index {
	char *name;               /* owned */
	char *sql;                /* owned: CREATE INDEX text, NULL for the
				     indexes of UNIQUE constraints */
	rdb_pgno root;
	uint8_t unique;
	char origin;              /* 'c' CREATE INDEX, 'u' UNIQUE constraint */
	uint16_t ncols;
	uint16_t *cols;           /* owned: table column numbers */
	uint8_t *desc;            /* owned: per column, 1 = DESC */
} tbl_index;

typedef struct tbl_table {
	char *name;               /* owned */
	char *sql;                /* owned: CREATE TABLE text */
	rdb_pgno root;            /* the row tree; 0 for system tables */
	uint16_t ncols;
	tbl_column *cols;         /* owned */
	uint16_t npk;             /* 0: a hidden 64-bit rowid is the key */
	uint16_t *pk;             /* owned: column numbers in key order */
	uint16_t nidx;
	tbl_index *idx;           /* owned */
	uint64_t rows;            /* row-count estimate */
	uint8_t system;           /* one of the compiled-in system tables */
	uint8_t ipk;              /* the key is one INTEGER column (rowid-like:
				     NULL on insert assigns max + 1) */
	struct tbl_share *share;  /* in a schema: counts the schemas that
				     share what this table owns (schema.c);
				     NULL elsewhere */
} tbl_table;

/* A row is an array of tbl_nvals(tb) values: the columns in order, then,
 * for a table without a primary key, its rowid (TBL_INT). */
static inline int tbl_nvals(const tbl_table *tb)
{
	return tb->ncols + (tb->npk == 0);
}

/* ---- key and row encoding (pure; no transaction) ------------------------- */

/* Append the order-preserving encoding of v: memcmp on the encodings of
 * two values (or of tuples, component by component) orders them as
 * tbl_value_cmp() does; desc reverses a component's order.  Each
 * component is self-delimiting, so a tuple's encoding never is a prefix
 * of another tuple's unless the first tuple is a prefix of the second.
 * No component starts with 0x00 or 0xFF: a prefix + 0x00 (+ 0xFF) sorts
 * below (above) every key extending the prefix.  RDB_NOMEM leaves b as
 * it was. */
rdb_rc tbl_key_append(rdb_buf *b, const tbl_value *v, int desc);

/* Decode n components of the given declared types (TBL_TY_ANY decodes a
 * number as TBL_INT when it is integral and fits, else TBL_REAL) from key.
 * Text and blobs point into key or into scratch (reset, then filled);
 * both must outlive the values.  *used (may be NULL) gets the bytes
 * consumed.  Malformed bytes, or a number the declared type cannot hold
 * exactly, are RDB_CORRUPT; a value needing scratch when scratch is NULL
 * is RDB_MISUSE; on any failure out[0..n) are NULLs. */
rdb_rc tbl_key_decode(const void *key, size_t klen, int n,
		      const tbl_type *types, const uint8_t *desc,
		      tbl_value *out, rdb_buf *scratch, size_t *used);

/* Append the encoding of the non-key columns of row (tbl_nvals values,
 * already coerced) to out.  A value the column's type cannot hold is
 * RDB_MISMATCH; on failure out is as it was. */
rdb_rc tbl_row_encode(const tbl_table *tb, const tbl_value *row,
		      rdb_buf *out);
/* Decode the non-key columns of an encoded row into row[]; key columns are
 * left untouched.  Text and blobs point into data.  A record holding fewer
 * columns than the table (written before columns were added) gives the
 * others their default (bytes borrowed from tb) or NULL.  RDB_CORRUPT if
 * the bytes do not fit the table's columns. */
rdb_rc tbl_row_decode(const tbl_table *tb, const void *data, size_t n,
		      tbl_value *row);

/* Apply column col's type to v in place (SQLite STRICT rules; see
 * docs/sql.md): a lossless conversion or RDB_CONSTRAINT naming the table,
 * column and value; VARCHAR/CHAR length; NOT NULL (the column's notnull
 * flag only).  A converted text value is written to scratch (at least
 * TBL_SCRATCH bytes) and v points to it.  err may be NULL. */
#define TBL_SCRATCH 32
rdb_rc tbl_value_apply(const tbl_table *tb, int col, tbl_value *v,
		       char *scratch, rdb_err *err);

/* ---- schema -------------------------------------------------------------- */

typedef struct tbl_schema tbl_schema;   /* opaque, immutable, refcounted */

/* The schema of t's snapshot.  If cached (may be NULL) describes the same
 * catalog version it is returned with one more reference, else the
 * catalog is read.  Caller owns a reference: release with
 * tbl_schema_unref().  Thread-safe reference counting. */
rdb_rc tbl_schema_get(pager_txn *t, tbl_schema *cached, tbl_schema **out);
/* The schema of t's snapshot after DDL run in t since base was current:
 * base must describe t's catalog as it was before that DDL, and names
 * (n of them, ASCII case-insensitive) must include every table whose
 * definition the DDL created, changed or dropped (an index's table
 * included).  Views must not have changed; triggers may.  The tables not
 * named are copied from base; the named ones, the views' list and the
 * triggers are read from the catalog, so a DDL costs the size of what it
 * changed rather than of the whole catalog (its key list of rdb_tables
 * aside).  If the catalog does not match base and names, the whole
 * catalog is read instead.  The row estimates of the tables copied are
 * base's.  Caller owns a reference to *out, as from tbl_schema_get(). */
rdb_rc tbl_schema_derive(pager_txn *t, tbl_schema *base,
			 const char *const *names, int n, tbl_schema **out);
void tbl_schema_unref(tbl_schema *s);                /* NULL-safe */
/* The catalog version: it grows with every DDL (by one, or by more after a
 * rolled-back DDL in this process, so that no version number ever names
 * two different catalogs of one file in one process). */
uint64_t tbl_schema_version(const tbl_schema *s);
/* Lookups by name, ASCII case-insensitive; NULL if absent.  System tables
 * are found too. */
const tbl_table *tbl_schema_table(const tbl_schema *s, const char *name);
const tbl_index *tbl_schema_index(const tbl_schema *s, const char *name,
				  const tbl_table **owner);
/* Views and triggers: stored text (the table layer never parses it). */
typedef struct tbl_object {
	char *name;               /* owned */
	char *table;              /* owned: a trigger's table or view; NULL
				     for a view */
	char *sql;                /* owned: the CREATE statement */
} tbl_object;
/* The view or trigger of that name, or NULL. */
const tbl_object *tbl_schema_view(const tbl_schema *s, const char *name);
const tbl_object *tbl_schema_trigger(const tbl_schema *s, const char *name);
/* All views (by name) / all triggers (by name); i out of range is NULL.
 * The triggers of one table are those whose table matches
 * (tbl_schema_has_triggers() says whether there is any). */
int tbl_schema_nviews(const tbl_schema *s);
const tbl_object *tbl_schema_view_at(const tbl_schema *s, int i);
int tbl_schema_ntriggers(const tbl_schema *s);
const tbl_object *tbl_schema_trigger_at(const tbl_schema *s, int i);
int tbl_schema_has_triggers(const tbl_schema *s, const char *table);
/* All tables (system tables first, then user tables by name). */
int tbl_schema_count(const tbl_schema *s);
const tbl_table *tbl_schema_at(const tbl_schema *s, int i);

/* ---- DDL ----------------------------------------------------------------- */

/* Create a table from def (name, columns with types, defaults and
 * constraints, primary key; sql may be NULL and is then generated; root,
 * rows, system, ipk and each column's pk are ignored: npk/pk give the
 * key, pk_desc its directions; decl, when set, is parsed for type and
 * maxlen; idx/nidx are the UNIQUE table constraints, of which only ncols,
 * cols and desc are read).  UNIQUE columns, then those constraints, get
 * their own unique indexes (origin 'u', named rdb_autoindex_<table>_<n>),
 * except a constraint on the key's columns or on the same columns as an
 * earlier one, in any order.  Errors, nothing
 * created: a name already used by a table or index or reserved ("rdb_"),
 * duplicate column names, no columns, a key column out of range, a bad
 * default, an unknown type name, RDB_TOOBIG if a key made of the declared
 * lengths (in ASCII characters) cannot fit.  s must be the schema of the
 * catalog as it is in t (else RDB_MISUSE), as for every DDL call. */
rdb_rc tbl_create_table(pager_txn *t, const tbl_schema *s,
			const tbl_table *def);
/* Add column col (name, decl, notnull, has_dflt/dflt/dflt_sql, as for
 * tbl_create_table; neither UNIQUE nor in the key: RDB_MISUSE) after the
 * last column of table, whose CREATE TABLE text becomes sql.  No row is
 * rewritten: rows stored before hold fewer columns and read the new one
 * as its default (docs/format.md "Rows").  The caller has checked that
 * the rows satisfy the column (NOT NULL, CHECK).  Errors: no such table,
 * a system table, a duplicate column name, too many columns, a bad
 * default. */
rdb_rc tbl_add_column(pager_txn *t, const tbl_schema *s, const char *table,
		      const tbl_column *col, const char *sql);
/* Rename table old to name: its catalog rows move to the new name, with
 * sql its new CREATE TABLE text and index_sql[i] that of its index i
 * (read only where the index has a text; the caller rewrote them), and
 * the indexes of UNIQUE constraints renamed rdb_autoindex_<name>_<n>.
 * Trees, rows and views or triggers that name it are untouched (the
 * caller refuses those).  Errors: no such table, a system table, name
 * taken or reserved. */
rdb_rc tbl_rename_table(pager_txn *t, const tbl_schema *s, const char *old,
			const char *name, const char *sql,
			const char *const *index_sql);
/* Drop a table, its indexes and every one of their pages. */
rdb_rc tbl_drop_table(pager_txn *t, const tbl_schema *s, const char *name);
/* Create an index on table (def: name, unique, ncols, cols, desc, sql,
 * origin 'u' for a UNIQUE table constraint, else 'c') and fill it from the
 * table's rows; a unique violation is RDB_CONSTRAINT and nothing is
 * created.  Dropping an index of origin 'u' is refused. */
rdb_rc tbl_create_index(pager_txn *t, const tbl_schema *s,
			const char *table, const tbl_index *def);
rdb_rc tbl_drop_index(pager_txn *t, const tbl_schema *s, const char *name);
/* Views (objects.c): a row of rdb_tables of type 'view' (root 0, sql the
 * CREATE VIEW text, given by the caller, who has checked it).  The name
 * shares the namespace of tables and indexes; "rdb_" is reserved.  Dropping a view drops its triggers. */
rdb_rc tbl_create_view(pager_txn *t, const tbl_schema *s, const char *name,
		       const char *sql);
rdb_rc tbl_drop_view(pager_txn *t, const tbl_schema *s, const char *name);
/* Triggers: a row of rdb_triggers (name, table_name, sql).  table must be
 * a user table or a view.  Trigger names are a namespace of their own
 * (as in SQLite); "rdb_" is reserved.  tbl_drop_table() and tbl_drop_view() drop the
 * triggers of what they drop. */
rdb_rc tbl_create_trigger(pager_txn *t, const tbl_schema *s,
			  const char *name, const char *table,
			  const char *sql);
rdb_rc tbl_drop_trigger(pager_txn *t, const tbl_schema *s, const char *name);
/* Rebuild indexes from their tables' rows: the index name, every index of
 * the table name, or (name NULL) every index.  Any other name is
 * RDB_ERROR ("unable to identify the object to be reindexed"). */
rdb_rc tbl_reindex(pager_txn *t, const tbl_schema *s, const char *name);
/* Index builds (CREATE INDEX, REINDEX, UNIQUE constraints added to a
 * table with rows) sort their entries in memory in runs of at most this
 * many bytes of entries (default 256 MiB, restored by 0); the first run is
 * bulk-loaded with leaves 90% full, later ones are inserted in key order.
 * Process-wide; for tests and memory-tight embedders. */
void tbl_set_build_budget(size_t bytes);

/* ---- rows ---------------------------------------------------------------- */

/* Scratch memory for row calls, reused from call to call (one per
 * connection; used by one thread at a time).  What a row call hands out
 * (converted values, a row from tbl_get) lives in it until the next call
 * with it.  On RDB_OK the caller owns *out: free with tbl_ctx_free(). */
typedef struct tbl_ctx tbl_ctx;          /* opaque */
rdb_rc tbl_ctx_new(tbl_ctx **out);
void tbl_ctx_free(tbl_ctx *cx);                      /* NULL-safe */
/* A row check (CHECK constraints, judged by the caller): called by
 * tbl_insert and tbl_update once the new row is coerced and has its
 * rowid, before uniqueness is probed and before anything is written.  It
 * returns RDB_OK to go on, RDB_CONSTRAINT with a message (IGNORE then
 * skips the row; ABORT and REPLACE fail the call) or another error.
 * fn NULL removes it; arg is borrowed. */
typedef rdb_rc (*tbl_check_fn)(void *arg, const tbl_table *tb,
			       const tbl_value *row);
void tbl_ctx_check(tbl_ctx *cx, tbl_check_fn fn, void *arg);

typedef enum tbl_conflict {
	TBL_ABORT = 0,            /* a conflict is RDB_CONSTRAINT */
	TBL_REPLACE,              /* delete the conflicting rows first */
	TBL_IGNORE                /* skip the row; *done = 0 */
} tbl_conflict;

/* Insert a row (tbl_nvals values; missing columns already given their
 * defaults by the caller).  The values are coerced in place (converted
 * text lives in cx until its next call).  A NULL rowid (or NULL in an ipk
 * column) gets max + 1, written back to row.  Key columns are NOT NULL.
 * The conflict mode covers UNIQUE, PRIMARY KEY and NOT NULL (REPLACE puts
 * the column's default in place of a NULL, if it has one).  *done (may be
 * NULL) = 1 if a row was written. */
rdb_rc tbl_insert(pager_txn *t, tbl_ctx *cx, const tbl_table *tb,
		  tbl_value *row, tbl_conflict on, int *done);
/* Replace the row with old's key (the stored row is read again: old needs
 * only its key columns, or its rowid) by new_row; the key may change (a
 * NULL rowid keeps the old one).  Every index is updated.  Constraint
 * failures change nothing.  RDB_NOTFOUND if there is no such row. */
rdb_rc tbl_update(pager_txn *t, tbl_ctx *cx, const tbl_table *tb,
		  const tbl_value *old, tbl_value *new_row, tbl_conflict on,
		  int *done);
/* Delete the row with old's key (as for tbl_update) and its index
 * entries.  RDB_NOTFOUND if there is no such row. */
rdb_rc tbl_delete(pager_txn *t, tbl_ctx *cx, const tbl_table *tb,
		  const tbl_value *old);

/* Look a row up by its key (npk values, or one rowid value), in a user
 * or system table.  On RDB_OK *row (tbl_nvals values) is borrowed from cx
 * until its next call.  RDB_NOTFOUND if missing. */
rdb_rc tbl_get(pager_txn *t, tbl_ctx *cx, const tbl_table *tb,
	       const tbl_value *key, const tbl_value **row);

/* Adjust the row-count estimate kept in rdb_tables by delta (called once
 * per statement).  Exact while under 64 or when delta is more than an
 * eighth of it; smaller deltas move it by an eighth with the probability
 * that makes the expected change delta (so few statements write the
 * catalog).  A no-op for system tables.  Does not change the catalog
 * version. */
rdb_rc tbl_note_rows(pager_txn *t, const tbl_table *tb, int64_t delta);

/* ---- cursors ------------------------------------------------------------- */

typedef struct tbl_cursor tbl_cursor;   /* opaque */

/* A bound on the first n key columns (of the table's key, or of the
 * index's columns), in the order of the key's encoding: for a DESC column
 * "lower" means "comes first", i.e. larger.  n = 0: unbounded. */
typedef struct tbl_bound {
	const tbl_value *vals;    /* borrowed for the call */
	int n;
	int inclusive;
} tbl_bound;

/* Open a cursor over the table's rows (ix NULL) or over one of its
 * indexes.  On RDB_OK the caller owns *out: close with tbl_cursor_close()
 * before the transaction ends. */
rdb_rc tbl_cursor_open(pager_txn *t, const tbl_table *tb,
		       const tbl_index *ix, tbl_cursor **out);
void tbl_cursor_close(tbl_cursor *c);                /* NULL-safe */
/* Restrict to keys between lo and hi (either may be NULL) and choose the
 * direction; the cursor is before its first row. */
rdb_rc tbl_cursor_range(tbl_cursor *c, const tbl_bound *lo,
			const tbl_bound *hi, int reverse);
/* RDB_ROW on the next row, RDB_DONE past the last, or an error. */
rdb_rc tbl_cursor_next(tbl_cursor *c);
/* The current row (tbl_nvals values; through an index, the table row is
 * looked up).  Borrowed until the cursor moves or closes. */
rdb_rc tbl_cursor_row(tbl_cursor *c, const tbl_value **row);
/* An index cursor's entry without the table lookup: the index columns
 * then the key columns (*n values).  Borrowed like tbl_cursor_row. */
rdb_rc tbl_cursor_entry(tbl_cursor *c, const tbl_value **vals, int *n);

/* ---- checking ------------------------------------------------------------ */

/* Check that every index of every table holds exactly the entries its
 * table's rows imply, that rows decode and satisfy their column types,
 * and that the trees verify.  seen: as for bt_verify (may be NULL).
 * RDB_CORRUPT with the first problem. */
rdb_rc tbl_check(pager_txn *t, const tbl_schema *s, unsigned char *seen);

#endif /* RDB_TABLE_H */
