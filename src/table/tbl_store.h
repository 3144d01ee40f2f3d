/*
 * tbl_store.h -- what the storage files of src/table share (nobody else
 * sees it): the compiled-in system tables, the schema object, key layouts
 * and the helpers that turn rows into keys and back.  (The encodings'
 * own helpers are in tbl_int.h.)  Design: src/table/README.md.
 */
#ifndef RDB_TBL_STORE_H
#define RDB_TBL_STORE_H
#include <stdatomic.h>
#include "table/table.h"
#include "btree/btree.h"
#include "kv/kv.h"

/* ---- system tables (systab.c) -------------------------------------------
 * Their rows live in the KV store under the key
 *     FMT_KV_NS_SYS | tag | the row's encoded primary key
 * with the encoded row (tbl_row_encode) as the value. */
enum {
	SYS_TABLES = 0,           /* rdb_tables */
	SYS_COLUMNS,              /* rdb_columns */
	SYS_INDEXES,              /* rdb_indexes */
	SYS_INDEX_COLUMNS,        /* rdb_index_columns */
	SYS_TRIGGERS,             /* rdb_triggers */
	TBL_NSYS
};
/* Columns of each system table. */
enum { TB_NAME, TB_TYPE, TB_ROOT, TB_SQL, TB_ROWS, TB_NCOLS };
enum { CO_TABLE, CO_CID, CO_NAME, CO_TYPE, CO_NOTNULL, CO_DFLT, CO_DVALUE,
       CO_PK, CO_PKDESC, CO_UNIQUE, CO_NCOLS };
enum { IX_TABLE, IX_NAME, IX_ROOT, IX_UNIQUE, IX_ORIGIN, IX_SQL,
       IX_NCOLS };
enum { IC_INDEX, IC_SEQNO, IC_CID, IC_NAME, IC_DESC, IC_NCOLS };
enum { TR_NAME, TR_TABLE, TR_SQL, TR_NCOLS };

extern const tbl_table tbl_sys[TBL_NSYS];
/* tb's position in tbl_sys (found by name), or -1 for a user table. */
int tbl_sys_id(const tbl_table *tb);
/* Catalog key prefix of system table id: 2 bytes. */
void tbl_sys_prefix(int id, unsigned char out[2]);
/* Append the catalog key of row (a row of system table id) to b. */
rdb_rc tbl_sys_key(rdb_buf *b, int id, const tbl_value *row);
/* Store (insert or replace) / delete a row of system table id. */
rdb_rc tbl_sys_put(pager_txn *t, int id, const tbl_value *row);
rdb_rc tbl_sys_del(pager_txn *t, int id, const tbl_value *row);
/* The refusal of a write to a system table (RDB_ERROR). */
rdb_rc tbl_sys_refuse(pager_txn *t, const tbl_table *tb, const char *what);

/* ---- the schema (schema.c) ---------------------------------------------- */
struct tbl_schema {
	atomic_long refs;
	uint64_t version;         /* FMT_ANCHOR_CATALOG when loaded */
	int n;                    /* tables */
	tbl_table *tables;        /* owned: TBL_NSYS shallow copies of tbl_sys,
				     then the user tables by name */
	int nviews, ntrig;
	tbl_object *views;        /* owned, by name */
	tbl_object *trig;         /* owned, by name */
};
/* Free what a user table owns (not tb itself).  NULL-safe. */
void tbl_table_clear(tbl_table *tb);
void tbl_index_clear(tbl_index *ix);
/* Refuse DDL with a schema older than the catalog (RDB_MISUSE). */
rdb_rc tbl_schema_current(pager_txn *t, const tbl_schema *s);
/* Load the views (rows of rdb_tables of type 'view', handed over by the
 * loader) and the triggers into s (objects.c). */
rdb_rc tbl_schema_add_view(pager_txn *t, tbl_schema *s, const tbl_value *r);
rdb_rc tbl_schema_load_triggers(pager_txn *t, tbl_schema *s);
/* Append copies of src's views to dst's (tbl_schema_derive). */
rdb_rc tbl_schema_copy_views(pager_txn *t, tbl_schema *dst,
			     const tbl_schema *src);
/* A table cursor's current key columns (*n values), decoded without
 * reading the row.  Borrowed until the cursor moves or closes.
 * RDB_MISUSE on an index cursor or off a row, RDB_CORRUPT if malformed. */
rdb_rc tbl_cursor_key(tbl_cursor *c, const tbl_value **key, int *n);
void tbl_schema_free_objects(tbl_schema *s);
/* Delete a trigger's row from rdb_triggers (no version bump). */
rdb_rc tbl_drop_trigger_row(pager_txn *t, const tbl_object *tr);
/* Refuse a new table's, index's or view's name: empty, reserved (unless
 * reserved_ok), or used by a table, index or view (ddl.c).  Triggers have
 * their own namespace, as in SQLite. */
rdb_rc tbl_check_name(pager_txn *t, const tbl_schema *s, const char *name,
		      const char *what, int reserved_ok);
/* Fill index ix (its tree created and empty) from tb's rows (build.c):
 * entries sorted in memory and bulk-loaded, in runs of at most the build
 * budget of entry bytes (runs after the first are inserted in key order).
 * A unique violation is RDB_CONSTRAINT, an entry over the key limit
 * RDB_TOOBIG; after those the tree holds some entries (drop it).  Other
 * failures leave the transaction for rollback. */
rdb_rc tbl_index_build(pager_txn *t, const tbl_table *tb,
		       const tbl_index *ix);
/* Set the catalog version to the next unused number. */
rdb_rc tbl_version_bump(pager_txn *t);

/* ---- keys (key layout of a table or index) -------------------------------
 * A table's key is its primary-key columns (each ASC or DESC), or its rowid
 * (row slot ncols, ASC).  An index's key is its columns followed by the
 * table's key.  A layout lists, per key component, the row slot it comes
 * from, its declared type and direction. */
#define TBL_MAX_COMPS (2 * TBL_MAX_KEY_COLS)
typedef struct tbl_layout {
	int n;                    /* components */
	int nix;                  /* of which the first nix are index columns */
	uint16_t slot[TBL_MAX_COMPS];
	tbl_type type[TBL_MAX_COMPS];
	uint8_t desc[TBL_MAX_COMPS];
} tbl_layout;
void tbl_layout_of(const tbl_table *tb, const tbl_index *ix, tbl_layout *l);
/* Append the encodings of components [from, to) of row to b. */
rdb_rc tbl_layout_encode(const tbl_layout *l, int from, int to,
			 const tbl_value *row, rdb_buf *b);
/* Decode a stored row: key (the table key, without any catalog prefix)
 * and value into row (tbl_nvals slots).  Text points into key, val or
 * scratch (reset here). */
rdb_rc tbl_row_load(const tbl_table *tb, const void *key, size_t klen,
		    const void *val, size_t vlen, tbl_value *row,
		    rdb_buf *scratch);
/* The same with the table's layout (tbl_layout_of(tb, NULL)) at hand,
 * for callers that load many rows. */
rdb_rc tbl_row_load_l(const tbl_table *tb, const tbl_layout *l,
		      const void *key, size_t klen, const void *val,
		      size_t vlen, tbl_value *row, rdb_buf *scratch);
/* Largest key of a user table's trees (page size dependent). */
size_t tbl_max_key(pager_txn *t);

/* ---- rows and indexes (index.c) ------------------------------------------ */
/* Does a row with these index columns (encoded prefix) exist with a key
 * other than self (encoded table key, may be NULL)?  *other gets that
 * row's encoded table key (copied into buf). */
rdb_rc tbl_ix_conflict(pager_txn *t, const tbl_index *ix, const void *pre,
		       size_t plen, const void *self, size_t slen,
		       rdb_buf *other, int *found);
/* The "UNIQUE constraint failed: t.a, t.b" error of ix (NULL: the
 * primary key). */
rdb_rc tbl_unique_error(pager_txn *t, const tbl_table *tb,
			const tbl_index *ix);
/* Whether any of the index columns of row is NULL (then no conflict). */
int tbl_ix_has_null(const tbl_index *ix, const tbl_value *row);

/* ---- strings ------------------------------------------------------------ */
char *tbl_strndup(const void *p, size_t n);   /* NULL if out of memory */
int tbl_name_eq(const char *a, const char *b);  /* ASCII case-insensitive */
rdb_rc tbl_nomem(pager_txn *t);

#endif /* RDB_TBL_STORE_H */
