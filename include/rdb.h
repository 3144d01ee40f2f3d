/*
 * rdb.h -- public interface of rdb, an embedded single-file relational
 * database engine.
 *
 * This header starts with the one error-code enum every layer returns and
 * the version macros.  The SQL and key-value APIs are added here by later
 * layers.  Codes deliberately share SQLite's numbering so that programs
 * ported from sqlite3 read familiar values.
 */
#ifndef RDB_H
#define RDB_H

#ifdef __cplusplus
extern "C" {
#endif

#define RDB_VERSION "0.1.0"
#define RDB_VERSION_MAJOR 0
#define RDB_VERSION_MINOR 1
#define RDB_VERSION_PATCH 0
#define RDB_VERSION_NUMBER \
	(RDB_VERSION_MAJOR * 1000000 + RDB_VERSION_MINOR * 1000 + \
	 RDB_VERSION_PATCH)

/* Result codes.  Every fallible function returns one of these. */
typedef enum rdb_rc {
	RDB_OK = 0,          /* success */
	RDB_ERROR = 1,       /* generic error (see the message) */
	RDB_INTERNAL = 2,    /* an internal invariant failed */
	RDB_BUSY = 5,        /* the database or its write lock is held */
	RDB_NOMEM = 7,       /* an allocation failed */
	RDB_READONLY = 8,    /* write attempted on a read-only database */
	RDB_INTERRUPT = 9,   /* the operation was interrupted */
	RDB_IOERR = 10,      /* the operating system reported an I/O error */
	RDB_CORRUPT = 11,    /* the file's bytes are inconsistent */
	RDB_NOTFOUND = 12,   /* no such key, table or object */
	RDB_FULL = 13,       /* the disk is full */
	RDB_CANTOPEN = 14,   /* the file cannot be opened */
	RDB_TOOBIG = 18,     /* a key, value or statement is too large */
	RDB_CONSTRAINT = 19, /* a constraint was violated */
	RDB_MISMATCH = 20,   /* a value has the wrong type */
	RDB_MISUSE = 21,     /* the API was used incorrectly */
	RDB_RANGE = 25,      /* an index or parameter is out of range */
	RDB_NOTADB = 26,     /* the file is not an rdb database */
	RDB_ROW = 100,       /* rdb_step() has a row ready */
	RDB_DONE = 101       /* rdb_step() has finished */
} rdb_rc;

/* A static, lower-case English description of rc ("disk is full"). */
const char *rdb_errstr(int rc);

/* The library's version string, equal to RDB_VERSION at build time. */
const char *rdb_libversion(void);

#include <stddef.h>
#include <stdint.h>

/* ======================================================================
 * Connections
 * ====================================================================== */

/* An open database (opaque).  One handle may be used from several
 * threads; its calls are serialised. */
typedef struct rdb rdb;

/*
 * Open the database file at path, creating it if it is missing (default
 * options: 4096-byte pages, FULL durability).  Errors: RDB_CANTOPEN,
 * RDB_BUSY (another connection or process has it open), RDB_NOTADB,
 * RDB_CORRUPT, RDB_IOERR, RDB_NOMEM.  On RDB_OK the caller owns *out and
 * closes it with rdb_close().  On failure *out is NULL only when no handle
 * could be made (RDB_MISUSE for a NULL argument or an option rdb_open_v2
 * checks first: flags, sync, cache_pages; RDB_NOMEM); otherwise, as in
 * sqlite3_open(), it is a handle whose rdb_errmsg() explains the failure
 * (the OS's reason for RDB_CANTOPEN, the limits for a bad page size):
 * close it too.  Passing *out to rdb_close() is right in every case.
 */
int rdb_open(const char *path, rdb **out);

/* Checkpoint, remove the WAL and free db.  NULL is a no-op.  Returns the
 * checkpoint's error, if any (the database stays consistent).  Every
 * statement must be finalized and every iterator closed first: otherwise
 * RDB_MISUSE and nothing is closed (sqlite3_close() says SQLITE_BUSY). */
int rdb_close(rdb *db);

/* The code and message of the last failed call on db (borrowed: valid
 * until the next call on db).  "not an error" after success. */
int rdb_errcode(rdb *db);
const char *rdb_errmsg(rdb *db);

/* Open options for rdb_open_v2 (zero-initialise, then set fields; 0 in a
 * field means its default). */
typedef struct rdb_open_opts {
	int flags;               /* RDB_OPEN_* bits; 0 = READWRITE|CREATE */
	unsigned page_size;      /* new files: 512..65536, power of two;
				    default 4096 */
	long cache_pages;        /* buffer pool frames; default 2000 */
	int sync;                /* RDB_SYNC_*; default RDB_SYNC_FULL */
	unsigned busy_timeout_ms; /* wait for another writer; default 5000 */
} rdb_open_opts;

#define RDB_OPEN_READONLY 0x01
#define RDB_OPEN_READWRITE 0x02
#define RDB_OPEN_CREATE 0x04
#define RDB_OPEN_MEMORY 0x80     /* a private in-memory database; path
				    is ignored */

#define RDB_SYNC_OFF 1
#define RDB_SYNC_NORMAL 2
#define RDB_SYNC_FULL 3

/* Like rdb_open() with options (opts may be NULL: the defaults).
 * RDB_CANTOPEN for a missing file without RDB_OPEN_CREATE. */
int rdb_open_v2(const char *path, rdb **out, const rdb_open_opts *opts);

/* ======================================================================
 * SQL.  The shape is sqlite3's: prepare a statement, bind parameters,
 * step through its rows, read columns, reset to run it again, finalize.
 * Outside BEGIN ... COMMIT each statement is its own transaction; every
 * statement is atomic.
 * ====================================================================== */

typedef struct rdb_stmt rdb_stmt;    /* opaque */

/* Fundamental column types (sqlite3's numbering). */
#define RDB_INTEGER 1
#define RDB_FLOAT 2
#define RDB_TEXT 3
#define RDB_BLOB 4
#define RDB_NULL 5

/*
 * Compile the first statement of sql (nbyte bytes, or up to its NUL if
 * nbyte < 0).  On RDB_OK the caller owns *out and frees it with
 * rdb_finalize(); *out is NULL if the text held only whitespace or
 * comments.  *tail (may be NULL) points just past the statement compiled.
 * A statement that fails to compile executes nothing.  Schema statements
 * check the names they create or drop when they run: their errors come
 * from rdb_step(), not from here as in SQLite (docs/sql.md).
 */
int rdb_prepare(rdb *db, const char *sql, int nbyte, rdb_stmt **out,
		const char **tail);

/* Run to the next row: RDB_ROW (a row is ready), RDB_DONE (finished), or
 * an error (the statement's changes are rolled back). */
int rdb_step(rdb_stmt *st);
/* Back to the start, keeping bindings.  Returns the last step's error. */
int rdb_reset(rdb_stmt *st);
/* Free st (NULL-safe); returns the last step's error. */
int rdb_finalize(rdb_stmt *st);

/* Parameters are numbered from 1; rdb_bind_parameter_index() finds a
 * named one (":name" with its prefix character).  Text and blobs are
 * copied.  RDB_RANGE for a bad index; RDB_MISUSE while the statement is
 * running (step it to the end or reset it first), for
 * rdb_clear_bindings() too (sqlite3_clear_bindings() allows it). */
int rdb_bind_null(rdb_stmt *st, int i);
int rdb_bind_int64(rdb_stmt *st, int i, int64_t v);
int rdb_bind_double(rdb_stmt *st, int i, double v);
int rdb_bind_text(rdb_stmt *st, int i, const char *s, int n);
int rdb_bind_blob(rdb_stmt *st, int i, const void *p, int n);
/* A boolean is the integer 0 or 1, as in SQLite. */
int rdb_bind_bool(rdb_stmt *st, int i, int v);
int rdb_clear_bindings(rdb_stmt *st);
int rdb_bind_parameter_count(rdb_stmt *st);
int rdb_bind_parameter_index(rdb_stmt *st, const char *name);
const char *rdb_bind_parameter_name(rdb_stmt *st, int i);

/* Result columns (0-based).  A column's declared type is that of the
 * table column it names, directly or through views, FROM subqueries and
 * scalar subqueries (of a compound subquery, its last term's, as in
 * sqlite3); NULL for any other expression.  Names and declared types are borrowed until the statement
 * is finalized or compiled again (a step after any schema change
 * compiles it again, as sqlite3_step() re-prepares); text and blob
 * pointers until the next step, reset or finalize.  rdb_column_text() of
 * a non-text value converts it as SQLite does (NULL gives NULL). */
int rdb_column_count(rdb_stmt *st);
const char *rdb_column_name(rdb_stmt *st, int i);
const char *rdb_column_decltype(rdb_stmt *st, int i);
int rdb_column_type(rdb_stmt *st, int i);
int64_t rdb_column_int64(rdb_stmt *st, int i);
double rdb_column_double(rdb_stmt *st, int i);
const unsigned char *rdb_column_text(rdb_stmt *st, int i);
const void *rdb_column_blob(rdb_stmt *st, int i);
int rdb_column_bytes(rdb_stmt *st, int i);

/* The SQL text of st (borrowed) and whether it only reads. */
const char *rdb_sql(rdb_stmt *st);
int rdb_stmt_readonly(rdb_stmt *st);
/* The connection of st. */
rdb *rdb_db_handle(rdb_stmt *st);

/*
 * Run every statement of sql in turn.  For each result row, callback
 * (may be NULL) gets the column count, the values as text (NULL for SQL
 * NULL) and the column names; a non-zero return stops with
 * RDB_INTERRUPT.  On error, if errmsg is not NULL, *errmsg receives a
 * copy of the message that the caller frees with rdb_free_msg().
 */
typedef int (*rdb_exec_callback)(void *arg, int ncols, char **values,
				 char **names);
int rdb_exec(rdb *db, const char *sql, rdb_exec_callback callback,
	     void *arg, char **errmsg);
void rdb_free_msg(char *msg);               /* NULL-safe */

/* Rows inserted, updated or deleted by the last finished INSERT, UPDATE
 * or DELETE, and since the database was opened. */
int64_t rdb_changes(rdb *db);
int64_t rdb_total_changes(rdb *db);
/* The rowid (or INTEGER PRIMARY KEY) of the last row inserted on db, 0 if
 * none. */
int64_t rdb_last_insert_rowid(rdb *db);
/* 1 outside an explicit transaction (BEGIN ... COMMIT), else 0. */
int rdb_get_autocommit(rdb *db);
/* Make the running statement of db stop soon with RDB_INTERRUPT (and
 * roll back); safe to call from another thread or a signal handler. */
void rdb_interrupt(rdb *db);

/* Run-time limits of a connection, as sqlite3_limit()'s.  Returns the
 * limit's value before the call, or -1 for an unknown id (or db NULL);
 * val >= 0 sets it, held to the limit's range, and a negative val only
 * reads it.  A new limit holds from the next value made, in statements
 * already prepared too.
 *   RDB_LIMIT_LENGTH  the longest string or blob, in bytes, that SQL may
 *                     make (a function, an operator, CAST, printf,
 *                     group_concat) or that may be bound: past it
 *                     RDB_TOOBIG, "string or blob too big".  1 to
 *                     1,000,000,000, the default. */
#define RDB_LIMIT_LENGTH 0
int rdb_limit(rdb *db, int id, int val);

/* Figures of an open database (rdb_stats_get). */
typedef struct rdb_stats {
	unsigned page_size;
	unsigned page_count;     /* pages in the file, as last committed */
	unsigned free_pages;     /* of which free, as last committed */
	unsigned cache_pages;    /* buffer-pool frames */
	uint64_t cache_hits;     /* page requests served from the pool */
	uint64_t cache_misses;   /* page requests that read a file */
	uint64_t cache_evictions;
	uint64_t wal_frames;     /* frames in the WAL now (0 after a full
				    checkpoint) */
	uint64_t commits;        /* write transactions committed */
	uint64_t checkpoints;
	uint64_t syncs;          /* fsyncs of the WAL or the database */
} rdb_stats;
/* Fill *out (counters since the database was opened). */
int rdb_stats_get(rdb *db, rdb_stats *out);

/* Is sql one or more complete statements (ending with ';')?  For shells
 * that read a statement over several lines. */
int rdb_complete(const char *sql);

/* ======================================================================
 * Key-value blob store.  Keys are byte strings of 1 .. 1002 bytes (at
 * 4096-byte pages; rdb_kv_max_key() gives the limit); values are any bytes,
 * up to 1 GiB through rdb_kv_put() and 2^62 bytes through the streaming
 * calls.  Each call is its own transaction and is atomic.  Errors: those
 * named per call, plus RDB_NOMEM, RDB_IOERR, RDB_FULL, RDB_CORRUPT
 * (a damaged record: the message names the key and page; other keys stay
 * readable), RDB_MISUSE (NULL handle or arguments).
 * ====================================================================== */

/* Largest key length for db's page size. */
size_t rdb_kv_max_key(rdb *db);

/* Store val under key (replacing any older value).  RDB_TOOBIG for a key
 * or value over the limits.  key and val are borrowed for the call. */
int rdb_kv_put(rdb *db, const void *key, size_t klen, const void *val,
	       size_t vlen);

/*
 * Copy key's value into buf (cap bytes); *vlen gets the value's length.
 * RDB_NOTFOUND if missing; RDB_RANGE if cap < *vlen (nothing copied, so
 * the caller can retry with a buffer of *vlen bytes).
 */
int rdb_kv_get(rdb *db, const void *key, size_t klen, void *buf, size_t cap,
	       size_t *vlen);

/* Like rdb_kv_get() into a new buffer: the caller owns *val and frees it
 * with rdb_kv_free() (non-NULL even for an empty value). */
int rdb_kv_get_alloc(rdb *db, const void *key, size_t klen, void **val,
		     size_t *vlen);
void rdb_kv_free(void *p);                  /* NULL-safe */

/* *exists = 1 if key is stored, else 0. */
int rdb_kv_exists(rdb *db, const void *key, size_t klen, int *exists);

/* Delete key.  *existed (may be NULL) tells whether it was stored; a
 * missing key is not an error and writes nothing. */
int rdb_kv_delete(rdb *db, const void *key, size_t klen, int *existed);

/* One operation of a batch. */
typedef struct rdb_kv_op {
	int del;                 /* 0: put key = val; 1: delete key */
	const void *key;
	size_t klen;
	const void *val;         /* puts only */
	size_t vlen;
} rdb_kv_op;

/* Apply ops[0..n) in order, all or nothing. */
int rdb_kv_batch(rdb *db, const rdb_kv_op *ops, size_t n);

/* Streaming: the store pulls a value from `read` in chunks of up to
 * 64 KiB (set *got to the bytes placed in buf, 0 at the end; return
 * non-zero to abort, which aborts the put with RDB_INTERRUPT), and pushes
 * a value to `write` in chunks of up to 64 KiB (return non-zero to stop:
 * RDB_INTERRUPT).  Neither holds a value whole in memory. */
typedef int (*rdb_kv_reader)(void *arg, void *buf, size_t cap, size_t *got);
typedef int (*rdb_kv_writer)(void *arg, const void *buf, size_t n);
int rdb_kv_put_stream(rdb *db, const void *key, size_t klen,
		      rdb_kv_reader read, void *arg);
/* A damaged value is found only after its chunks were pushed: the call
 * then returns RDB_CORRUPT. */
int rdb_kv_get_stream(rdb *db, const void *key, size_t klen,
		      rdb_kv_writer write, void *arg);

/* Give from's value the name to (replacing a value stored under to).
 * RDB_NOTFOUND if from is missing, RDB_MISUSE if the names are equal. */
int rdb_kv_rename(rdb *db, const void *from, size_t flen, const void *to,
		  size_t tlen);

/* Copy key's value from src into dst (replacing dst's).  transfer then
 * deletes it from src: dst commits first, so a crash between the two
 * leaves the key in both, never in neither.  RDB_NOTFOUND if missing,
 * RDB_MISUSE if src == dst. */
int rdb_kv_copy(rdb *src, rdb *dst, const void *key, size_t klen);
int rdb_kv_transfer(rdb *src, rdb *dst, const void *key, size_t klen);

/* Keys with a prefix, in key order, on the snapshot taken at open. */
typedef struct rdb_kv_iter rdb_kv_iter;
/* On RDB_OK the caller owns *out; close it with rdb_kv_iter_close(). */
int rdb_kv_iter_open(rdb *db, const void *prefix, size_t plen,
		     rdb_kv_iter **out);
/* RDB_ROW with *key (borrowed until the next call) or RDB_DONE (and
 * RDB_DONE again on later calls). */
int rdb_kv_iter_next(rdb_kv_iter *it, const void **key, size_t *klen);
/* The current key's value, into a new buffer (free with rdb_kv_free). */
int rdb_kv_iter_value(rdb_kv_iter *it, void **val, size_t *vlen);
void rdb_kv_iter_close(rdb_kv_iter *it);    /* NULL-safe */

/* Copy the live records forward and free the space of dead ones.  Runs
 * automatically when dead bytes pass half of the store. */
int rdb_kv_compact(rdb *db);

typedef struct rdb_kv_stats {
	uint64_t live_keys;
	uint64_t live_bytes;     /* bytes of live records as stored */
	uint64_t dead_bytes;     /* bytes of replaced/deleted records */
	uint64_t saved_bytes;    /* bytes compression saved on live values */
} rdb_kv_stats;
int rdb_kv_stats_get(rdb *db, rdb_kv_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* RDB_H */
