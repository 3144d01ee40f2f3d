/*
 * stmt.c -- the SQL calls of include/rdb.h (prepare, step, bind, column,
 * exec) over src/sql: argument checks, the handle's mutex and error
 * reporting.  The engine itself is in src/sql (src/sql/README.md).
 */
#include "rdb.h"
#include "api_int.h"
#include <limits.h>
#include <string.h>
#include "mem.h"
#include "sql/sql.h"

struct rdb_stmt {
	rdb *db;                  /* borrowed: the connection */
	sql_prep *st;             /* owned */
	rdb_rc last;              /* the last step's outcome */
};

/* Record rc in db->err (the sql layer already put its message there). */
static int done(rdb *db, rdb_rc rc)
{
	if (rc == RDB_OK || rc == RDB_ROW || rc == RDB_DONE)
		rdb_err_clear(&db->err);
	else if (db->err.rc != rc)
		rdb_err_set(&db->err, rc, "%s", rdb_errstr(rc));
	pthread_mutex_unlock(&db->mu);
	return rc;
}

static int misuse(rdb *db, const char *what)
{
	if (db != NULL)
		rdb_err_set(&db->err, RDB_MISUSE, "bad parameter or other API "
			    "misuse: %s", what);
	return RDB_MISUSE;
}

int rdb_prepare(rdb *db, const char *sql, int nbyte, rdb_stmt **out,
		const char **tail)
{
	size_t n, used = 0;
	sql_prep *st = NULL;
	rdb_stmt *s;
	rdb_rc rc;

	if (out != NULL)
		*out = NULL;
	if (tail != NULL)
		*tail = sql;
	if (db == NULL || db->sql == NULL || sql == NULL || out == NULL)
		return misuse(db, "rdb_prepare");
	n = nbyte < 0 ? strlen(sql) : strnlen(sql, (size_t)nbyte);
	pthread_mutex_lock(&db->mu);
	rdb_err_clear(&db->err);
	rc = sql_prepare(db->sql, sql, n, &st, &used);
	if (tail != NULL)
		*tail = sql + used;
	if (rc != RDB_OK || st == NULL)
		return done(db, rc);
	if ((s = rdb_calloc(1, sizeof(*s))) == NULL) {
		sql_finalize(st);
		rdb_err_set(&db->err, RDB_NOMEM, "out of memory");
		return done(db, RDB_NOMEM);
	}
	s->db = db;
	s->st = st;
	db->n_stmts++;
	*out = s;
	return done(db, RDB_OK);
}

int rdb_step(rdb_stmt *s)
{
	rdb_rc rc;

	if (s == NULL)
		return RDB_MISUSE;
	pthread_mutex_lock(&s->db->mu);
	rdb_err_clear(&s->db->err);
	rc = sql_step(s->st);
	s->last = rc;
	return done(s->db, rc);
}

int rdb_reset(rdb_stmt *s)
{
	rdb_rc rc;

	if (s == NULL)
		return RDB_OK;
	pthread_mutex_lock(&s->db->mu);
	sql_reset(s->st);
	rc = s->last == RDB_ROW || s->last == RDB_DONE ? RDB_OK : s->last;
	s->last = RDB_OK;
	pthread_mutex_unlock(&s->db->mu);
	return rc;
}

int rdb_finalize(rdb_stmt *s)
{
	rdb_rc rc;
	rdb *db;

	if (s == NULL)
		return RDB_OK;
	db = s->db;
	pthread_mutex_lock(&db->mu);
	sql_finalize(s->st);
	db->n_stmts--;
	rc = s->last == RDB_ROW || s->last == RDB_DONE ? RDB_OK : s->last;
	rdb_free(s);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

/* ---- parameters ------------------------------------------------------- */

static int bind(rdb_stmt *s, int i, const tbl_value *v)
{
	rdb_rc rc;

	if (s == NULL)
		return RDB_MISUSE;
	pthread_mutex_lock(&s->db->mu);
	rdb_err_clear(&s->db->err);
	if ((v->cls == TBL_TEXT || v->cls == TBL_BLOB) &&
	    v->n > (size_t)sql_conn_limit(s->db->sql, RDB_LIMIT_LENGTH, -1))
		return done(s->db, rdb_err_set(&s->db->err, RDB_TOOBIG,
					       "string or blob too big"));
	rc = sql_bind(s->st, i, v);
	if (rc == RDB_RANGE)
		rdb_err_set(&s->db->err, rc, "column index out of range");
	else if (rc == RDB_MISUSE)
		rdb_err_set(&s->db->err, rc, "bad parameter or other API "
			    "misuse: bind on a running statement");
	return done(s->db, rc);
}

int rdb_bind_null(rdb_stmt *s, int i)
{
	tbl_value v = { .cls = TBL_NULL };

	return bind(s, i, &v);
}

int rdb_bind_int64(rdb_stmt *s, int i, int64_t x)
{
	tbl_value v = { .cls = TBL_INT, .i = x };

	return bind(s, i, &v);
}

int rdb_bind_double(rdb_stmt *s, int i, double x)
{
	tbl_value v = { .cls = TBL_REAL, .r = x };

	if (x != x)
		v.cls = TBL_NULL;     /* NaN is NULL, as in SQLite */
	return bind(s, i, &v);
}

int rdb_bind_text(rdb_stmt *s, int i, const char *p, int n)
{
	tbl_value v = { .cls = TBL_TEXT, .p = p };

	if (p == NULL)
		return rdb_bind_null(s, i);
	v.n = n < 0 ? strlen(p) : (size_t)n;
	return bind(s, i, &v);
}

int rdb_bind_blob(rdb_stmt *s, int i, const void *p, int n)
{
	tbl_value v = { .cls = TBL_BLOB, .p = p };

	/* A NULL pointer is SQL NULL whatever n says, as in SQLite. */
	if (p == NULL)
		return rdb_bind_null(s, i);
	if (n < 0)
		return misuse(s == NULL ? NULL : s->db, "negative blob size");
	v.n = (size_t)n;
	return bind(s, i, &v);
}

int rdb_bind_bool(rdb_stmt *s, int i, int v)
{
	return rdb_bind_int64(s, i, v != 0);
}

/* Refused while the statement runs, like the binds: the row ready and
 * the rows to come borrow the bound text and blobs. */
int rdb_clear_bindings(rdb_stmt *s)
{
	rdb_rc rc = RDB_OK;

	if (s == NULL)
		return RDB_MISUSE;
	pthread_mutex_lock(&s->db->mu);
	rdb_err_clear(&s->db->err);
	if (sql_prep_busy(s->st))
		rc = rdb_err_set(&s->db->err, RDB_MISUSE, "bad parameter or "
				 "other API misuse: clear bindings on a "
				 "running statement");
	else
		sql_clear_bindings(s->st);
	return done(s->db, rc);
}

int rdb_bind_parameter_count(rdb_stmt *s)
{
	return s == NULL ? 0 : sql_param_count(s->st);
}

int rdb_bind_parameter_index(rdb_stmt *s, const char *name)
{
	return s == NULL || name == NULL ? 0 : sql_param_index(s->st, name);
}

const char *rdb_bind_parameter_name(rdb_stmt *s, int i)
{
	return s == NULL ? NULL : sql_param_name(s->st, i);
}

/* ---- result columns ---------------------------------------------------- */

int rdb_column_count(rdb_stmt *s)
{
	return s == NULL ? 0 : sql_column_count(s->st);
}

const char *rdb_column_name(rdb_stmt *s, int i)
{
	return s == NULL ? NULL : sql_column_name(s->st, i);
}

const char *rdb_column_decltype(rdb_stmt *s, int i)
{
	return s == NULL ? NULL : sql_column_decltype(s->st, i);
}

int rdb_column_type(rdb_stmt *s, int i)
{
	const tbl_value *v = s == NULL ? NULL : sql_column_value(s->st, i);

	if (v == NULL)
		return RDB_NULL;
	switch (v->cls) {
	case TBL_INT: return RDB_INTEGER;
	case TBL_REAL: return RDB_FLOAT;
	case TBL_TEXT: return RDB_TEXT;
	case TBL_BLOB: return RDB_BLOB;
	default: return RDB_NULL;
	}
}

int64_t rdb_column_int64(rdb_stmt *s, int i)
{
	return s == NULL ? 0 : sql_column_int(s->st, i);
}

double rdb_column_double(rdb_stmt *s, int i)
{
	return s == NULL ? 0.0 : sql_column_real(s->st, i);
}

const unsigned char *rdb_column_text(rdb_stmt *s, int i)
{
	size_t n;

	if (s == NULL)
		return NULL;
	return (const unsigned char *)sql_column_text(s->st, i, &n);
}

const void *rdb_column_blob(rdb_stmt *s, int i)
{
	const tbl_value *v = s == NULL ? NULL : sql_column_value(s->st, i);
	const void *p;
	size_t n;

	if (v == NULL || v->cls == TBL_NULL)
		return NULL;
	if (v->cls == TBL_BLOB)
		return v->n > 0 ? v->p : NULL;
	/* Zero bytes are a NULL pointer for text too, as in SQLite. */
	p = sql_column_text(s->st, i, &n);
	return n > 0 ? p : NULL;
}

int rdb_column_bytes(rdb_stmt *s, int i)
{
	const tbl_value *v = s == NULL ? NULL : sql_column_value(s->st, i);
	size_t n = 0;

	if (v == NULL || v->cls == TBL_NULL)
		return 0;
	if (v->cls == TBL_TEXT || v->cls == TBL_BLOB)
		n = v->n;
	else if (sql_column_text(s->st, i, &n) == NULL)
		n = 0;
	return n > INT_MAX ? INT_MAX : (int)n;
}

const char *rdb_sql(rdb_stmt *s)
{
	return s == NULL ? NULL : sql_prep_text(s->st);
}

int rdb_stmt_readonly(rdb_stmt *s)
{
	return s == NULL ? 1 : sql_prep_readonly(s->st);
}

rdb *rdb_db_handle(rdb_stmt *s)
{
	return s == NULL ? NULL : s->db;
}

/* ---- connection-wide calls --------------------------------------------- */

int64_t rdb_changes(rdb *db)
{
	return db == NULL || db->sql == NULL ? 0 : sql_conn_changes(db->sql);
}

int64_t rdb_total_changes(rdb *db)
{
	return db == NULL || db->sql == NULL
		       ? 0 : sql_conn_total_changes(db->sql);
}

int64_t rdb_last_insert_rowid(rdb *db)
{
	return db == NULL || db->sql == NULL ? 0 : sql_conn_last_rowid(db->sql);
}

int rdb_complete(const char *sql)
{
	return sql != NULL && sql_text_complete(sql);
}

int rdb_get_autocommit(rdb *db)
{
	return db == NULL || db->sql == NULL ? 1
					     : sql_conn_autocommit(db->sql);
}

void rdb_interrupt(rdb *db)
{
	if (db != NULL && db->sql != NULL)
		sql_interrupt(db->sql);
}

int rdb_limit(rdb *db, int id, int val)
{
	int old;

	if (db == NULL || db->sql == NULL)
		return -1;
	pthread_mutex_lock(&db->mu);
	old = sql_conn_limit(db->sql, id, val);
	pthread_mutex_unlock(&db->mu);
	return old;
}

/* ---- rdb_exec ------------------------------------------------------------ */

/* Copy the message of rc into a new string for *errmsg. */
static void give_msg(rdb *db, int rc, char **errmsg)
{
	const char *m;
	size_t n;

	if (errmsg == NULL || rc == RDB_OK)
		return;
	m = rdb_errmsg(db);
	n = strlen(m);
	if ((*errmsg = rdb_malloc(n + 1)) != NULL)
		memcpy(*errmsg, m, n + 1);
}

/* Hand one row to the callback as text.  Non-zero from the callback is
 * RDB_INTERRUPT. */
static int exec_row(rdb_stmt *s, rdb_exec_callback cb, void *arg)
{
	int i, n = rdb_column_count(s), rc;
	char **cols;

	if ((cols = rdb_calloc(2 * (size_t)n + 1, sizeof(*cols))) == NULL)
		return rdb_err_set(&s->db->err, RDB_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		cols[i] = (char *)rdb_column_text(s, i);
		cols[n + i] = (char *)rdb_column_name(s, i);
		if (cols[i] == NULL && rdb_column_type(s, i) != RDB_NULL) {
			rdb_free(cols);
			return rdb_err_set(&s->db->err, RDB_NOMEM,
					   "out of memory");
		}
	}
	rc = cb(arg, n, cols, cols + n);
	rdb_free(cols);
	if (rc != 0) {
		rdb_err_set(&s->db->err, RDB_INTERRUPT, "query aborted");
		return RDB_INTERRUPT;
	}
	return RDB_OK;
}

int rdb_exec(rdb *db, const char *sql, rdb_exec_callback cb, void *arg,
	     char **errmsg)
{
	rdb_stmt *s = NULL;
	const char *tail = sql;
	int rc = RDB_OK;

	if (errmsg != NULL)
		*errmsg = NULL;
	if (db == NULL || sql == NULL)
		return misuse(db, "rdb_exec");
	while (rc == RDB_OK && *tail != '\0') {
		rc = rdb_prepare(db, tail, -1, &s, &tail);
		if (rc != RDB_OK || s == NULL)
			break;
		while ((rc = rdb_step(s)) == RDB_ROW)
			if (cb != NULL && (rc = exec_row(s, cb, arg)) != RDB_OK)
				break;
		if (rc == RDB_DONE)
			rc = RDB_OK;
		if (rc != RDB_OK) {
			/* Keep the step's message across finalize. */
			rdb_err e = db->err;

			(void)rdb_finalize(s);
			db->err = e;
		} else {
			rc = rdb_finalize(s);
		}
		s = NULL;
	}
	give_msg(db, rc, errmsg);
	return rc;
}

void rdb_free_msg(char *msg)
{
	rdb_free(msg);
}
