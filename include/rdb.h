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

#ifdef __cplusplus
}
#endif
#endif /* RDB_H */
