/*
 * slt_rdb.c -- the runner's rdb backend (engine name "rdb"), through the
 * public API of include/rdb.h only.
 *
 * It is compiled only when librdb defines the SQL calls it uses: the
 * Makefile looks for them in the archive and writes SLT_HAVE_RDB_SQL into
 * slt_config.h.  Until then slt_rdb_engine is NULL and `--engine rdb`
 * says so, rather than the runner failing to link.
 */
#include "slt.h"
#include "slt_config.h"

#if SLT_HAVE_RDB_SQL
#include <rdb.h>

static int r_open(const char *path, void **db, char *msg, size_t cap)
{
	rdb_open_opts opts = {0};
	rdb *h = NULL;
	int rc;

	opts.flags = RDB_OPEN_READWRITE | RDB_OPEN_CREATE;
	if (path == NULL)
		opts.flags |= RDB_OPEN_MEMORY;
	/* Durability is not under test here; a crash loses only the run. */
	opts.sync = RDB_SYNC_OFF;
	rc = rdb_open_v2(path ? path : ":memory:", &h, &opts);
	if (rc != RDB_OK) {
		slt_msg(msg, cap, "cannot open '%s': %s",
			path ? path : "(memory)",
			h ? rdb_errmsg(h) : rdb_errstr(rc));
		(void)rdb_close(h);
		*db = NULL;
		return 1;
	}
	*db = h;
	return 0;
}

static void r_close(void *db)
{
	(void)rdb_close(db);
}

static int r_prepare(void *db, const char **sql, void **stmt, char *msg,
		     size_t cap)
{
	rdb_stmt *st = NULL;
	const char *tail = NULL;

	if (rdb_prepare(db, *sql, -1, &st, &tail) != RDB_OK) {
		slt_msg(msg, cap, "%s", rdb_errmsg(db));
		(void)rdb_finalize(st);
		*stmt = NULL;
		return 1;
	}
	/* A statement that compiled must say where it ended. */
	if (st != NULL && (tail == NULL || tail == *sql)) {
		slt_msg(msg, cap, "rdb_prepare() did not advance the tail");
		(void)rdb_finalize(st);
		*stmt = NULL;
		return 1;
	}
	if (tail != NULL)
		*sql = tail;
	*stmt = st;
	return 0;
}

static int r_step(void *stmt, char *msg, size_t cap)
{
	int rc = rdb_step(stmt);

	if (rc == RDB_ROW)
		return SLT_ROW;
	if (rc == RDB_DONE)
		return SLT_DONE;
	slt_msg(msg, cap, "%s", rdb_errmsg(rdb_db_handle(stmt)));
	return SLT_ERR;
}

static int r_column_count(void *stmt)
{
	return rdb_column_count(stmt);
}

static int r_column_type(void *stmt, int i)
{
	return rdb_column_type(stmt, i);
}

static int64_t r_column_int64(void *stmt, int i)
{
	return rdb_column_int64(stmt, i);
}

static double r_column_double(void *stmt, int i)
{
	return rdb_column_double(stmt, i);
}

static const char *r_column_text(void *stmt, int i)
{
	return (const char *)rdb_column_text(stmt, i);
}

static void r_finalize(void *stmt)
{
	(void)rdb_finalize(stmt);
}

static const slt_engine rdb_engine = {
	.name = "rdb",
	.open = r_open,
	.close = r_close,
	.prepare = r_prepare,
	.step = r_step,
	.column_count = r_column_count,
	.column_type = r_column_type,
	.column_int64 = r_column_int64,
	.column_double = r_column_double,
	.column_text = r_column_text,
	.finalize = r_finalize,
};

const slt_engine *const slt_rdb_engine = &rdb_engine;
#else
const slt_engine *const slt_rdb_engine = NULL;
#endif
