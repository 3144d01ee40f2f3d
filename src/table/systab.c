/*
 * systab.c -- the compiled-in schemas of the system tables (the base case
 * of the catalog) and the storage of their rows in the KV store.  Design:
 * src/table/README.md ("The catalog"); bytes: docs/format.md ("Tables").
 */
#include "table/tbl_store.h"
#include <assert.h>
#include <ctype.h>
#include <string.h>
#include "format.h"
#include "mem.h"

/* COL(name, TXT|INT|BOOL|ANY, key position or 0, not null) */
#define COL(nm, tyd, pkpos, nn) COL_(nm, tyd, pkpos, nn)
#define COL_(nm, ty, tyname, pkpos, nn) {				\
	.name = nm, .decl = tyname, .type = ty, .notnull = nn,		\
	.pk = pkpos }
#define TXT TBL_TY_TEXT, "TEXT"
#define INT TBL_TY_INTEGER, "INTEGER"
#define BOOL TBL_TY_BOOLEAN, "BOOLEAN"
#define ANY TBL_TY_ANY, "ANY"

static tbl_column tables_cols[TB_NCOLS] = {
	COL("name", TXT, 1, 1), COL("type", TXT, 0, 1),
	COL("root", INT, 0, 1), COL("sql", TXT, 0, 0),
	COL("row_estimate", INT, 0, 1)
};
static tbl_column columns_cols[CO_NCOLS] = {
	COL("table_name", TXT, 1, 1), COL("cid", INT, 2, 1),
	COL("name", TXT, 0, 1), COL("type", TXT, 0, 1),
	COL("notnull", BOOL, 0, 1), COL("dflt", TXT, 0, 0),
	COL("dflt_value", ANY, 0, 0), COL("pk", INT, 0, 1),
	COL("pk_desc", BOOL, 0, 1), COL("is_unique", BOOL, 0, 1)
};
static tbl_column indexes_cols[IX_NCOLS] = {
	COL("table_name", TXT, 1, 1), COL("name", TXT, 2, 1),
	COL("root", INT, 0, 1), COL("is_unique", BOOL, 0, 1),
	COL("origin", TXT, 0, 1), COL("sql", TXT, 0, 0)
};
static tbl_column index_columns_cols[IC_NCOLS] = {
	COL("index_name", TXT, 1, 1), COL("seqno", INT, 2, 1),
	COL("cid", INT, 0, 1), COL("name", TXT, 0, 1),
	COL("is_desc", BOOL, 0, 1)
};
static tbl_column triggers_cols[TR_NCOLS] = {
	COL("name", TXT, 1, 1), COL("table_name", TXT, 0, 1),
	COL("sql", TXT, 0, 1)
};
static uint16_t pk1[1] = { 0 };
static uint16_t pk2[2] = { 0, 1 };

const tbl_table tbl_sys[TBL_NSYS] = {
	{ .name = "rdb_tables", .ncols = TB_NCOLS, .cols = tables_cols,
	  .npk = 1, .pk = pk1, .system = 1,
	  .sql = "CREATE TABLE rdb_tables(name TEXT NOT NULL PRIMARY KEY, "
		 "type TEXT NOT NULL, root INTEGER NOT NULL, sql TEXT, "
		 "row_estimate INTEGER NOT NULL)" },
	{ .name = "rdb_columns", .ncols = CO_NCOLS, .cols = columns_cols,
	  .npk = 2, .pk = pk2, .system = 1,
	  .sql = "CREATE TABLE rdb_columns(table_name TEXT NOT NULL, "
		 "cid INTEGER NOT NULL, name TEXT NOT NULL, "
		 "type TEXT NOT NULL, notnull BOOLEAN NOT NULL, dflt TEXT, "
		 "dflt_value ANY, pk INTEGER NOT NULL, "
		 "pk_desc BOOLEAN NOT NULL, is_unique BOOLEAN NOT NULL, "
		 "PRIMARY KEY(table_name, cid))" },
	{ .name = "rdb_indexes", .ncols = IX_NCOLS, .cols = indexes_cols,
	  .npk = 2, .pk = pk2, .system = 1,
	  .sql = "CREATE TABLE rdb_indexes(table_name TEXT NOT NULL, "
		 "name TEXT NOT NULL, root INTEGER NOT NULL, "
		 "is_unique BOOLEAN NOT NULL, origin TEXT NOT NULL, sql TEXT, "
		 "PRIMARY KEY(table_name, name))" },
	{ .name = "rdb_index_columns", .ncols = IC_NCOLS,
	  .cols = index_columns_cols, .npk = 2, .pk = pk2, .system = 1,
	  .sql = "CREATE TABLE rdb_index_columns(index_name TEXT NOT NULL, "
		 "seqno INTEGER NOT NULL, cid INTEGER NOT NULL, "
		 "name TEXT NOT NULL, is_desc BOOLEAN NOT NULL, "
		 "PRIMARY KEY(index_name, seqno))" },
	{ .name = "rdb_triggers", .ncols = TR_NCOLS, .cols = triggers_cols,
	  .npk = 1, .pk = pk1, .system = 1,
	  .sql = "CREATE TABLE rdb_triggers(name TEXT NOT NULL PRIMARY KEY, "
		 "table_name TEXT NOT NULL, sql TEXT NOT NULL)" },
};

int tbl_sys_id(const tbl_table *tb)
{
	int i;

	if (!tb->system)
		return -1;
	for (i = 0; i < TBL_NSYS; i++)
		if (tb->cols == tbl_sys[i].cols ||
		    strcmp(tb->name, tbl_sys[i].name) == 0)
			return i;
	return -1;
}

void tbl_sys_prefix(int id, unsigned char out[2])
{
	static const unsigned char tags[TBL_NSYS] = { FMT_SYS_TABLES,
		FMT_SYS_COLUMNS, FMT_SYS_INDEXES, FMT_SYS_INDEX_COLUMNS, FMT_SYS_TRIGGERS };

	assert(id >= 0 && id < TBL_NSYS);
	out[0] = FMT_KV_NS_SYS;
	out[1] = tags[id];
}

rdb_rc tbl_sys_key(rdb_buf *b, int id, const tbl_value *row)
{
	unsigned char pre[2];
	tbl_layout l;

	tbl_sys_prefix(id, pre);
	tbl_layout_of(&tbl_sys[id], NULL, &l);
	if (rdb_buf_append(b, pre, 2) != RDB_OK)
		return RDB_NOMEM;
	return tbl_layout_encode(&l, 0, l.n, row, b);
}

rdb_rc tbl_sys_put(pager_txn *t, int id, const tbl_value *row)
{
	rdb_buf k = { 0 }, v = { 0 };
	rdb_rc rc;

	rc = tbl_sys_key(&k, id, row);
	if (rc == RDB_OK)
		rc = tbl_row_encode(&tbl_sys[id], row, &v);
	if (rc == RDB_OK)
		rc = kv_put(t, NULL, k.p, k.n, v.p ? v.p : (void *)"", v.n);
	else if (rc == RDB_NOMEM)
		rc = tbl_nomem(t);
	rdb_buf_free(&k);
	rdb_buf_free(&v);
	return rc;
}

rdb_rc tbl_sys_del(pager_txn *t, int id, const tbl_value *row)
{
	rdb_buf k = { 0 };
	rdb_rc rc;

	rc = tbl_sys_key(&k, id, row);
	if (rc == RDB_OK)
		rc = kv_delete(t, k.p, k.n, NULL);
	else if (rc == RDB_NOMEM)
		rc = tbl_nomem(t);
	rdb_buf_free(&k);
	return rc;
}

rdb_rc tbl_sys_refuse(pager_txn *t, const tbl_table *tb, const char *what)
{
	return rdb_err_set(pager_txn_err(t), RDB_ERROR,
			   "table '%s' may not be %s: it is a system table",
			   tb->name, what);
}

/* ---- strings -------------------------------------------------------------- */

char *tbl_strndup(const void *p, size_t n)
{
	char *s = rdb_malloc(n + 1);

	if (s == NULL)
		return NULL;
	if (n > 0)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

int tbl_name_eq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return 0;
	return *a == *b;
}

rdb_rc tbl_nomem(pager_txn *t)
{
	return rdb_err_set(pager_txn_err(t), RDB_NOMEM, "out of memory");
}
