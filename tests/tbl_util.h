/*
 * tbl_util.h -- helpers shared by the table-layer suites (check_table.c,
 * check_catalog.c): a database on a real file or on the fault-injecting
 * in-memory file system, transactions with a fresh schema, and builders
 * for table definitions.
 */
#ifndef RDB_TBL_UTIL_H
#define RDB_TBL_UTIL_H
#include "table/table.h"
#include "pager/pager.h"
#include "pager/os.h"

typedef struct tdb {
	char path[256];
	os_vfs *vfs;              /* borrowed (os_unix) or owned (mem) */
	int mem;                  /* vfs is an owned os_mem */
	pager_opts opts;
	pager *p;
	rdb_err err;              /* the pager's */
	rdb_err terr;             /* the transaction's */
	pager_txn *t;             /* the open transaction, or NULL */
	tbl_schema *s;            /* the schema of t (cached across) */
	tbl_ctx *cx;
} tdb;

/* Open a new database (page size ps; mem: on a private os_mem). */
void tdb_open(tdb *d, uint32_t ps, int mem);
/* Close the pager (ending any transaction first) and open it again. */
void tdb_reopen(tdb *d);
/* Close everything and remove the files. */
void tdb_close(tdb *d);
/* Begin a transaction and fetch its schema (reusing the cached one). */
rdb_rc tdb_begin(tdb *d, int write);
rdb_rc tdb_commit(tdb *d);
void tdb_rollback(tdb *d);
/* Fetch the schema again after DDL. */
void tdb_refresh(tdb *d);
const tbl_table *tdb_table(tdb *d, const char *name);

/* A column definition: decl is the declared type ("INTEGER"). */
tbl_column tcol(const char *name, const char *decl, int notnull,
		int unique);

/* A value. */
tbl_value tv_null(void);
tbl_value tv_int(int64_t i);
tbl_value tv_real(double r);
tbl_value tv_text(const char *s);
tbl_value tv_blob(const void *p, size_t n);
int tv_same(const tbl_value *a, const tbl_value *b);
/* "NULL", "42", "'abc'" ... for messages (a static rotating buffer). */
const char *tv_str(const tbl_value *v);

/* Page census: the free list and every tree of the schema cover each
 * page exactly once; tbl_check passes.  Returns the first problem or NULL
 * (a static buffer). */
const char *tdb_census(tdb *d);

/* Every row of every table of the current schema (system tables too),
 * serialised in scan order, into a new string (free with free()); NULL
 * with *rc set if a call failed. */
char *tdb_dump(tdb *d, rdb_rc *rc);
/* The rows of one table only. */
char *tdb_dump_table(tdb *d, const tbl_table *tb, rdb_rc *rc);

#endif /* RDB_TBL_UTIL_H */
