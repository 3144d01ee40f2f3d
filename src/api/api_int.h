/*
 * api_int.h -- the connection handle shared by the files of src/api
 * (db.c: open, close, errors, the KV calls; stmt.c: the SQL calls).
 */
#ifndef RDB_API_INT_H
#define RDB_API_INT_H
#include <pthread.h>
#include "rdb.h"
#include "err.h"
#include "kv/kv.h"
#include "pager/pager.h"
#include "sql/sql.h"

struct rdb {
	pager *p;                 /* owned; NULL if the open failed */
	os_vfs *mem;              /* owned: the in-memory file system of an
				     RDB_OPEN_MEMORY database, else NULL */
	sql_conn *sql;            /* owned; NULL if the open failed */
	rdb_err err;              /* the last call's outcome */
	rdb_err terr;             /* the current transaction's */
	kv_ctx kv;                /* owned: compression state, scratch */
	pthread_mutex_t mu;       /* serialises calls (and guards kv) */
	long n_stmts;             /* statements not yet finalized */
};

#endif /* RDB_API_INT_H */
