/* err.c -- recording error codes and messages (see err.h). */
#include "err.h"
#include <stdarg.h>
#include <stdio.h>

rdb_rc rdb_err_set(rdb_err *err, rdb_rc rc, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return rc;
	err->rc = rc;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return rc;
}

void rdb_err_clear(rdb_err *err)
{
	if (err == NULL)
		return;
	err->rc = RDB_OK;
	err->msg[0] = '\0';
}

const char *rdb_errstr(int rc)
{
	switch (rc) {
	case RDB_OK: return "not an error";
	case RDB_ERROR: return "error";
	case RDB_INTERNAL: return "internal error";
	case RDB_BUSY: return "database is locked";
	case RDB_NOMEM: return "out of memory";
	case RDB_READONLY: return "attempt to write a read-only database";
	case RDB_INTERRUPT: return "interrupted";
	case RDB_IOERR: return "disk I/O error";
	case RDB_CORRUPT: return "database disk image is malformed";
	case RDB_NOTFOUND: return "not found";
	case RDB_FULL: return "database or disk is full";
	case RDB_CANTOPEN: return "unable to open database file";
	case RDB_TOOBIG: return "string or blob too big";
	case RDB_CONSTRAINT: return "constraint failed";
	case RDB_MISMATCH: return "datatype mismatch";
	case RDB_MISUSE: return "bad parameter or other API misuse";
	case RDB_RANGE: return "index out of range";
	case RDB_NOTADB: return "file is not a database";
	case RDB_ROW: return "another row available";
	case RDB_DONE: return "no more rows available";
	default: return "unknown error";
	}
}

const char *rdb_libversion(void)
{
	return RDB_VERSION;
}
