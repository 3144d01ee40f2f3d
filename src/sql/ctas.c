/*
 * ctas.c -- CREATE TABLE ... AS SELECT: a rowid table whose columns are
 * the select's result columns, named and typed by SQLite's rules, filled
 * with the select's rows as it runs.  The select is bound when the
 * statement is prepared (prog.c); the catalog keeps the CREATE TABLE text
 * SQLite would write.  Rules: docs/sql.md ("Schema statements").
 */
#include "bind.h"
#include "parse_int.h"
#include "select.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "mem.h"

/* The type SQLite gives a column made from a result of affinity a: INT,
 * TEXT, REAL, or none (ANY; SQLite's "NUM" has no rdb type). */
static const char *type_of(sql_aff a)
{
	switch (a) {
	case SQL_AFF_INTEGER: return " INT";
	case SQL_AFF_TEXT: return " TEXT";
	case SQL_AFF_REAL: return " REAL";
	default: return "";
	}
}

/* SQLite's identLength(): the quoted length. */
static size_t ident_len(const char *z)
{
	size_t n = 2;

	for (; *z; z++)
		n += *z == '"' ? 2 : 1;
	return n;
}

/* An identifier as SQLite's identPut() writes it: bare when it is a word
 * of letters, digits and '_' not starting with a digit nor a keyword. */
static rdb_rc put_ident(rdb_buf *b, const char *z)
{
	size_t j, n = strlen(z);
	int quote;
	rdb_rc rc = RDB_OK;

	for (j = 0; j < n; j++)
		if (!((z[j] >= 'a' && z[j] <= 'z') || (z[j] >= 'A' && z[j] <= 'Z')
		      || (z[j] >= '0' && z[j] <= '9') || z[j] == '_'))
			break;
	quote = n == 0 || j < n || (z[0] >= '0' && z[0] <= '9') ||
		lex_keyword(z, n) != TK_ID;
	if (quote)
		rc = rdb_buf_putc(b, '"');
	for (j = 0; j < n && rc == RDB_OK; j++) {
		rc = rdb_buf_putc(b, z[j]);
		if (rc == RDB_OK && z[j] == '"')
			rc = rdb_buf_putc(b, '"');
	}
	return rc == RDB_OK && quote ? rdb_buf_putc(b, '"') : rc;
}

/* SQLite's createTableStmt(): one line under 50 characters of names,
 * else one column per line. */
static rdb_rc table_text(const char *name, const tbl_column *cols, int n,
			 const char *const *types, rdb_buf *b)
{
	size_t len = ident_len(name);
	int i, wide;
	rdb_rc rc;

	for (i = 0; i < n; i++)
		len += ident_len(cols[i].name) + 5;
	wide = len >= 50;
	rc = rdb_buf_puts(b, "CREATE TABLE ");
	if (rc == RDB_OK)
		rc = put_ident(b, name);
	if (rc == RDB_OK)
		rc = rdb_buf_putc(b, '(');
	for (i = 0; i < n && rc == RDB_OK; i++) {
		rc = rdb_buf_puts(b, i == 0 ? (wide ? "\n  " : "")
				     : (wide ? ",\n  " : ","));
		if (rc == RDB_OK)
			rc = put_ident(b, cols[i].name);
		if (rc == RDB_OK)
			rc = rdb_buf_puts(b, types[i]);
	}
	if (rc == RDB_OK)
		rc = rdb_buf_puts(b, wide ? "\n)" : ")");
	return rc == RDB_OK ? rdb_buf_terminate(b) : rc;
}

/* Column i's name: the result name, made unique as SQLite does (a
 * trailing ":N" dropped, then ":1", ":2", ... until no earlier column has
 * it, ignoring case).  Allocated in the statement's arena. */
static const char *col_name(sql_prog *p, const tbl_column *cols, int i,
			    const char *want)
{
	size_t n = strlen(want), j;
	unsigned cnt = 0;
	char *z = (char *)want;
	int k;

	for (j = n; j > 0 && want[j - 1] >= '0' && want[j - 1] <= '9'; j--)
		;
	if (j > 1 && want[j - 1] == ':')
		n = j - 1;
	for (k = 0; k < i; k++) {
		if (strcasecmp(cols[k].name, z) != 0)
			continue;
		if ((z = sql_stmt_alloc(p->ast, n + 16)) == NULL)
			return NULL;
		snprintf(z, n + 16, "%.*s:%u", (int)n, want, ++cnt);
		k = -1;               /* check the new name from the start */
	}
	return z;
}

/* The new table's definition from the bound select p->q. */
static rdb_rc define(sql_prog *p, const char *name, tbl_table *def,
		     const char **types, rdb_buf *text)
{
	const query *q = p->q;
	tbl_column *cols = (tbl_column *)def->cols;
	int i;

	def->name = (char *)name;
	def->ncols = (uint16_t)q->nout;
	for (i = 0; i < q->nout; i++) {
		cols[i].name = (char *)col_name(p, cols, i, q->names[i]);
		if (cols[i].name == NULL)
			return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
		types[i] = type_of(expr_aff(q->out[i]));
		cols[i].decl = (char *)(types[i][0] ? types[i] + 1 : "ANY");
	}
	if (table_text(name, cols, q->nout, types, text) != RDB_OK)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	def->sql = (char *)text->p;
	return RDB_OK;
}

/* Insert the select's rows into tb (its rowids assigned in order). */
static rdb_rc fill(sql_prog *p, const tbl_table *tb, int64_t *n)
{
	int nv = tbl_nvals(tb), i;
	tbl_value *row = rdb_calloc((size_t)nv + 1, sizeof(*row));
	rdb_rc rc;

	if (row == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	rc = query_open(p, p->q);
	while (rc == RDB_OK && (rc = query_next(p, p->q)) == RDB_ROW) {
		for (i = 0; i < tb->ncols; i++)
			row[i] = sql_value_tbl(&p->q->r->outv[i]);
		row[tb->ncols] = (tbl_value){ .cls = TBL_NULL };
		rc = tbl_insert(p->t, p->tcx, tb, row, TBL_ABORT, NULL);
		(*n)++;
	}
	query_close(p, p->q);
	rdb_free(row);
	return rc == RDB_DONE ? RDB_OK : rc;
}

rdb_rc ddl_create_as(sql_prog *p, tbl_schema *s)
{
	const sql_create_table *ct = &p->ast->u.create_table;
	tbl_table def = { 0 };
	const char **types = NULL;
	rdb_buf text = { 0 };
	tbl_schema *ns = NULL;
	const tbl_table *tb = NULL;
	int64_t n = 0;
	rdb_rc rc;

	if (tbl_schema_table(s, ct->name) != NULL && ct->if_not_exists)
		return RDB_OK;
	if (p->q->nout > TBL_MAX_COLUMNS)
		return rdb_err_set(p->cx.err, RDB_ERROR, "too many columns on "
				   "%s", ct->name);
	def.cols = rdb_calloc((size_t)p->q->nout + 1, sizeof(tbl_column));
	types = rdb_calloc((size_t)p->q->nout + 1, sizeof(*types));
	rc = def.cols == NULL || types == NULL
		? rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory")
		: define(p, ct->name, &def, types, &text);
	if (rc == RDB_OK)
		rc = tbl_create_table(p->t, s, &def);
	if (rc == RDB_OK)
		rc = tbl_schema_get(p->t, NULL, &ns);
	if (rc == RDB_OK && (tb = tbl_schema_table(ns, ct->name)) == NULL)
		rc = rdb_err_set(p->cx.err, RDB_CORRUPT, "table '%s' missing "
				 "after CREATE", ct->name);
	if (rc == RDB_OK)
		rc = fill(p, tb, &n);
	if (rc == RDB_OK && n > 0)
		rc = tbl_note_rows(p->t, tb, n);
	tbl_schema_unref(ns);
	rdb_buf_free(&text);
	rdb_free(types);
	rdb_free(def.cols);
	return rc;
}
