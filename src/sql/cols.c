/*
 * cols.c -- a prepared statement's parameters and result columns:
 * binding values, and reading results with sqlite3_column_*'s
 * conversions.
 */
#include "sql.h"
#include "sql_int.h"
#include "exec.h"
#include <string.h>
#include "mem.h"

/* ---- parameters ------------------------------------------------------------ */

int sql_param_count(const sql_prep *st) { return st->n_params; }

int sql_param_index(const sql_prep *st, const char *name)
{
	int i;

	for (i = 0; i < st->n_params; i++)
		if (st->param_names[i] != NULL &&
		    strcmp(st->param_names[i], name) == 0)
			return i + 1;
	return 0;
}

const char *sql_param_name(const sql_prep *st, int i)
{
	return i >= 1 && i <= st->n_params ? st->param_names[i - 1] : NULL;
}

static void drop_param(tbl_value *v)
{
	if (v->cls == TBL_TEXT || v->cls == TBL_BLOB)
		rdb_free((void *)v->p);
	v->cls = TBL_NULL;
	v->p = NULL;
	v->n = 0;
}

rdb_rc sql_bind(sql_prep *st, int i, const tbl_value *v)
{
	tbl_value *dst;
	void *copy;

	if (st->busy)
		return RDB_MISUSE;
	if (i < 1 || i > st->n_params)
		return RDB_RANGE;
	dst = &st->params[i - 1];
	drop_param(dst);
	*dst = *v;
	if (v->cls != TBL_TEXT && v->cls != TBL_BLOB)
		return RDB_OK;
	if ((copy = rdb_malloc(v->n + 1)) == NULL) {
		dst->cls = TBL_NULL;
		return rdb_err_set(st->c->err, RDB_NOMEM, "out of memory");
	}
	if (v->n > 0)
		memcpy(copy, v->p, v->n);
	((char *)copy)[v->n] = '\0';
	dst->p = copy;
	return RDB_OK;
}

void sql_clear_bindings(sql_prep *st)
{
	int i;

	for (i = 0; i < st->n_params; i++)
		drop_param(&st->params[i]);
}

/* ---- result columns ----------------------------------------------------------- */

int sql_column_count(const sql_prep *st) { return st->n_cols; }

const char *sql_column_name(const sql_prep *st, int i)
{
	return i >= 0 && i < st->n_cols ? st->col_names[i] : NULL;
}

const char *sql_column_decltype(const sql_prep *st, int i)
{
	return i >= 0 && i < st->n_cols ? st->col_types[i] : NULL;
}

const tbl_value *sql_column_value(const sql_prep *st, int i)
{
	if (st->row == NULL || i < 0 || i >= st->n_cols)
		return NULL;
	return &st->row[i];
}

/* Column i's text into b (NUL-terminated), growing it: numbers are
 * rendered, text and blobs copied. */
static rdb_rc render_text(const tbl_value *v, rdb_buf *b)
{
	char num[SQL_NUM_TEXT];
	size_t len;

	rdb_buf_reset(b);
	if (v->cls == TBL_INT || v->cls == TBL_REAL) {
		len = v->cls == TBL_INT ? sql_render_int(v->i, num)
					: sql_render_real(v->r, num);
		if (rdb_buf_append(b, num, len) != RDB_OK)
			return RDB_NOMEM;
	} else if (rdb_buf_append(b, v->p, v->n) != RDB_OK) {
		return RDB_NOMEM;
	}
	return rdb_buf_terminate(b);
}

const char *sql_column_text(sql_prep *st, int i, size_t *n)
{
	const tbl_value *v = sql_column_value(st, i);
	rdb_buf *b;

	*n = 0;
	if (v == NULL || v->cls == TBL_NULL)
		return NULL;
	b = &st->col_text[i];
	if (st->text_gen[i] == st->gen && b->p != NULL) {
		*n = b->n;
		return (const char *)b->p;
	}
	if (v->cls == TBL_TEXT && v->n < b->cap) {
		/* The common case, once per row and column: no growth. */
		if (v->n > 0)
			memcpy(b->p, v->p, v->n);
		b->p[v->n] = '\0';
		b->n = v->n;
	} else if (render_text(v, b) != RDB_OK) {
		rdb_err_set(st->c->err, RDB_NOMEM, "out of memory");
		return NULL;
	}
	st->text_gen[i] = st->gen;
	*n = b->n;
	return (const char *)b->p;
}

int64_t sql_column_int(const sql_prep *st, int i)
{
	const tbl_value *v = sql_column_value(st, i);
	sql_value x;

	if (v == NULL)
		return 0;
	sql_value_from_tbl(&x, v);
	return sql_value_to_int(&x);
}

double sql_column_real(const sql_prep *st, int i)
{
	const tbl_value *v = sql_column_value(st, i);
	sql_value x;

	if (v == NULL)
		return 0.0;
	sql_value_from_tbl(&x, v);
	return sql_value_to_real(&x);
}
