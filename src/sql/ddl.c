/*
 * ddl.c -- CREATE TABLE, CREATE INDEX, DROP TABLE and DROP INDEX: the
 * parse tree becomes a table-layer definition (the statement's text is
 * what the catalog keeps).  Design: src/sql/README.md ("Schema
 * statements"); differences from SQLite: docs/sql.md.
 */
#include "bind.h"
#include <string.h>
#include <strings.h>
#include "mem.h"

typedef struct ddl {
	sql_prog *p;
	tbl_schema *s;            /* the catalog as it is in p->t (owned) */
	tbl_table def;
	tbl_column *cols;         /* owned */
	uint16_t pk[TBL_MAX_KEY_COLS];
	sql_value *dflt;          /* owned: evaluated defaults */
	tbl_index *uniq;          /* owned: UNIQUE table constraints */
	int strict;               /* a STRICT table: every column typed */
} ddl;

/* The text the catalog keeps for a CREATE statement: SQLite's form (as in
 * sqlite_schema.sql), so .schema and .dump read as sqlite3's do.  On
 * RDB_OK the caller owns b's memory; on failure b is freed. */
static rdb_rc schema_text(sql_prog *p, rdb_buf *b)
{
	if (sql_schema_text(p->ast, b) != RDB_OK ||
	    rdb_buf_terminate(b) != RDB_OK) {
		rdb_buf_free(b);
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	}
	return RDB_OK;
}

static rdb_rc unsupported(sql_prog *p, const char *what)
{
	return rdb_err_set(p->cx.err, RDB_ERROR, "%s not supported", what);
}

static int find_col(const ddl *d, const char *name)
{
	int i;

	for (i = 0; i < d->def.ncols; i++)
		if (strcasecmp(d->cols[i].name, name) == 0)
			return i;
	return -1;
}

/* Evaluate a DEFAULT: a constant expression (no columns). */
static rdb_rc eval_default(ddl *d, sql_expr *e, sql_value *out)
{
	binder b = { .ast = d->p->ast, .s = d->s, .err = d->p->cx.err };
	query none;
	rdb_rc rc;

	memset(&none, 0, sizeof(none));
	rc = bind_expr(&b, &none, e, 0);
	if (rc == RDB_OK && (b.nparams > 0 || b.nall > 0))
		rc = RDB_ERROR;
	query_free_all(b.all, b.nall);
	if (rc != RDB_OK)
		return rdb_err_set(d->p->cx.err, RDB_ERROR, "default value of "
				   "column is not constant");
	return eval(d->p, &none, e, out);
}

static rdb_rc column_def(ddl *d, const sql_column_def *cd, int i)
{
	tbl_column *c = &d->cols[i];
	const char *sql = d->p->ast->sql;
	rdb_rc rc;

	c->name = (char *)cd->name;
	if (cd->type == NULL && d->strict)
		return rdb_err_set(d->p->cx.err, RDB_ERROR, "missing datatype "
				   "for %s.%s", d->def.name, cd->name);
	c->decl = (char *)(cd->type != NULL ? cd->type : "ANY");
	if ((rc = tbl_type_parse(c->decl, &c->type, &c->maxlen,
				 d->p->cx.err)) != RDB_OK)
		return rc;
	c->notnull = cd->not_null != 0;
	c->unique = cd->unique != 0;
	if (cd->collation != NULL && strcasecmp(cd->collation, "BINARY") != 0)
		return unsupported(d->p, "collations other than BINARY are");
	if (cd->primary_key) {
		if (d->def.npk > 0)
			return rdb_err_set(d->p->cx.err, RDB_ERROR, "table \"%s\" "
					   "has more than one primary key",
					   d->def.name);
		d->pk[d->def.npk++] = (uint16_t)i;
		c->pk_desc = cd->pk_desc != 0;
	}
	if (cd->default_value != NULL) {
		sql_expr *e = cd->default_value;

		if ((rc = eval_default(d, e, &d->dflt[i])) != RDB_OK)
			return rc;
		c->has_dflt = 1;
		c->dflt = sql_value_tbl(&d->dflt[i]);
		if (e->pos.off + e->pos.len <= d->p->ast->n_sql) {
			char *t = sql_stmt_alloc(d->p->ast, e->pos.len + 1);

			if (t == NULL)
				return rdb_err_set(d->p->cx.err, RDB_NOMEM,
						   "out of memory");
			memcpy(t, sql + e->pos.off, e->pos.len);
			c->dflt_sql = t;
		}
	}
	return RDB_OK;
}

/* UNIQUE(cols): a column's UNIQUE flag, or one more unique index for the
 * table layer to create.  A column named twice counts once (as SQLite). */
static rdb_rc unique_cons(ddl *d, const sql_table_cons *tc)
{
	tbl_index *ix = &d->uniq[d->def.nidx];
	int i, k, n = 0;

	ix->cols = sql_stmt_alloc(d->p->ast, tc->n_cols * sizeof(uint16_t));
	ix->desc = sql_stmt_alloc(d->p->ast, (size_t)tc->n_cols);
	if (ix->cols == NULL || ix->desc == NULL)
		return rdb_err_set(d->p->cx.err, RDB_NOMEM, "out of memory");
	for (i = 0; i < tc->n_cols; i++) {
		k = find_col(d, tc->cols[i].name);
		for (n = ix->ncols; n > 0 && ix->cols[n - 1] != k; n--)
			;
		if (n > 0)
			continue;
		ix->cols[ix->ncols] = (uint16_t)k;
		ix->desc[ix->ncols++] = tc->cols[i].desc != 0;
	}
	if (ix->ncols == 1)
		d->cols[ix->cols[0]].unique = 1;
	else
		d->def.nidx++;
	return RDB_OK;
}

static rdb_rc table_cons(ddl *d, const sql_table_cons *tc)
{
	int i, k;

	switch (tc->kind) {
	case SQL_TC_CHECK:
		return RDB_OK;     /* chk_validate(), once columns are known */
	case SQL_TC_FOREIGN_KEY:
		return RDB_OK;     /* parsed and not enforced, as SQLite */
	case SQL_TC_PRIMARY_KEY:
		if (d->def.npk > 0)
			return rdb_err_set(d->p->cx.err, RDB_ERROR, "table \"%s\" "
					   "has more than one primary key",
					   d->def.name);
		break;
	default:
		break;
	}
	if (tc->n_cols > TBL_MAX_KEY_COLS)
		return rdb_err_set(d->p->cx.err, RDB_ERROR, "too many columns "
				   "in a key");
	for (i = 0; i < tc->n_cols; i++) {
		if (tc->cols[i].name == NULL)
			return unsupported(d->p, "expressions in a key are");
		if ((k = find_col(d, tc->cols[i].name)) < 0)
			return rdb_err_set(d->p->cx.err, RDB_ERROR, "no such "
					   "column: %s", tc->cols[i].name);
		if (tc->kind == SQL_TC_PRIMARY_KEY) {
			d->pk[d->def.npk++] = (uint16_t)k;
			d->cols[k].pk_desc = tc->cols[i].desc != 0;
		}
	}
	if (tc->kind == SQL_TC_UNIQUE)
		return unique_cons(d, tc);
	return RDB_OK;
}

/* The CHECK constraints may use the table's columns only: bound over a
 * row of the definition, then forgotten (each write binds them again). */
static rdb_rc validate_checks(ddl *d)
{
	binder b = { .ast = d->p->ast, .s = d->s, .err = d->p->cx.err };
	rdb_rc rc;

	rc = chk_validate(&b, &d->def, &d->p->ast->u.create_table);
	query_free_all(b.all, b.nall);
	return rc;
}

static rdb_rc create_table(sql_prog *p, tbl_schema *s)
{
	sql_create_table *ct = &p->ast->u.create_table;
	ddl d;
	rdb_buf text = { 0 };
	int i;
	rdb_rc rc = RDB_OK;

	if (tbl_schema_table(s, ct->name) != NULL && ct->if_not_exists)
		return RDB_OK;
	if (ct->as_select != NULL)
		return ddl_create_as(p, s);
	if (ct->temp)
		return unsupported(p, "TEMP tables are");
	memset(&d, 0, sizeof(d));
	d.p = p;
	d.s = s;
	d.strict = ct->strict;
	d.def.name = (char *)ct->name;
	if ((rc = schema_text(p, &text)) != RDB_OK)
		return rc;
	d.def.sql = (char *)text.p;
	d.def.ncols = (uint16_t)ct->n_cols;
	d.cols = rdb_calloc((size_t)ct->n_cols + 1, sizeof(*d.cols));
	d.dflt = rdb_calloc((size_t)ct->n_cols + 1, sizeof(*d.dflt));
	d.uniq = rdb_calloc((size_t)ct->n_cons + 1, sizeof(*d.uniq));
	if (d.cols == NULL || d.dflt == NULL || d.uniq == NULL)
		rc = rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	for (i = 0; i < ct->n_cols && rc == RDB_OK; i++)
		rc = column_def(&d, &ct->cols[i], i);
	for (i = 0; i < ct->n_cons && rc == RDB_OK; i++)
		rc = table_cons(&d, &ct->cons[i]);
	if (rc == RDB_OK) {
		d.def.cols = d.cols;
		d.def.pk = d.pk;
		d.def.idx = d.uniq;
		rc = validate_checks(&d);
	}
	if (rc == RDB_OK)
		rc = tbl_create_table(p->t, s, &d.def);
	for (i = 0; d.dflt != NULL && i < ct->n_cols; i++)
		sql_value_free(&d.dflt[i]);
	rdb_free(d.dflt);
	rdb_free(d.uniq);
	rdb_free(d.cols);
	rdb_buf_free(&text);
	return rc;
}

static rdb_rc create_index(sql_prog *p, tbl_schema *s)
{
	sql_create_index *ci = &p->ast->u.create_index;
	const tbl_table *tb;
	uint16_t cols[TBL_MAX_KEY_COLS];
	uint8_t desc[TBL_MAX_KEY_COLS];
	tbl_index def;
	qsrc src;
	rdb_buf text = { 0 };
	int i, k;
	rdb_rc rc;

	if (tbl_schema_index(s, ci->name, NULL) != NULL && ci->if_not_exists)
		return RDB_OK;
	if ((tb = tbl_schema_table(s, ci->table)) == NULL)
		return rdb_err_set(p->cx.err, RDB_ERROR, "no such table: %s",
				   ci->table);
	if (ci->where != NULL)
		return unsupported(p, "partial indexes are");
	if (ci->n_cols > TBL_MAX_KEY_COLS)
		return rdb_err_set(p->cx.err, RDB_ERROR, "too many columns in "
				   "index %s", ci->name);
	memset(&src, 0, sizeof(src));
	src.tb = tb;
	src.nvals = tbl_nvals(tb);
	for (i = 0; i < ci->n_cols; i++) {
		if (ci->cols[i].name == NULL)
			return unsupported(p, "indexes on expressions are");
		if (ci->cols[i].collation != NULL &&
		    strcasecmp(ci->cols[i].collation, "BINARY") != 0)
			return unsupported(p, "collations other than BINARY "
					   "are");
		k = src_find(&src, ci->cols[i].name);
		if (k < 0 || k >= tb->ncols)
			return rdb_err_set(p->cx.err, RDB_ERROR, "no such column: "
					   "%s", ci->cols[i].name);
		cols[i] = (uint16_t)k;
		desc[i] = ci->cols[i].desc != 0;
	}
	memset(&def, 0, sizeof(def));
	def.name = (char *)ci->name;
	if ((rc = schema_text(p, &text)) != RDB_OK)
		return rc;
	def.sql = (char *)text.p;
	def.unique = ci->unique != 0;
	def.origin = 'c';
	def.ncols = (uint16_t)ci->n_cols;
	def.cols = cols;
	def.desc = desc;
	rc = tbl_create_index(p->t, s, tb->name, &def);
	rdb_buf_free(&text);
	return rc;
}

static rdb_rc drop(sql_prog *p, tbl_schema *s)
{
	sql_drop *d = &p->ast->u.drop;

	switch (d->object) {
	case SQL_OBJ_TABLE:
		if (tbl_schema_table(s, d->name) == NULL)
			return d->if_exists ? RDB_OK
				: rdb_err_set(p->cx.err, RDB_ERROR, "no such "
					      "table: %s", d->name);
		return tbl_drop_table(p->t, s, d->name);
	case SQL_OBJ_INDEX:
		if (tbl_schema_index(s, d->name, NULL) == NULL)
			return d->if_exists ? RDB_OK
				: rdb_err_set(p->cx.err, RDB_ERROR, "no such "
					      "index: %s", d->name);
		return tbl_drop_index(p->t, s, d->name);
	default:
		return view_ddl_run(p, s);
	}
}

/* ---- ALTER TABLE ... ADD COLUMN ------------------------------------------ */

/* The table's CREATE TABLE text with ", <col as written>" after its last
 * column definition (before any table constraint), as SQLite rewrites
 * it.  NULL with the error set. */
static char *added_text(sql_prog *p, const tbl_table *tb)
{
	const sql_pos *c = &p->ast->u.alter.col.pos;
	const sql_create_table *ct;
	sql_stmt *tree = NULL;
	rdb_buf b = { 0 };
	size_t tail, at;

	if (sql_parse(tb->sql, strlen(tb->sql), p->cx.err, &tree, &tail))
		return NULL;          /* out of memory (the text parsed once) */
	if (c->off < p->ast->pos.off ||
	    c->off - p->ast->pos.off + c->len > p->ast->n_sql ||
	    tree == NULL || tree->kind != SQL_CREATE_TABLE ||
	    (ct = &tree->u.create_table)->n_cols == 0) {
		sql_stmt_free(tree);
		rdb_err_set(p->cx.err, RDB_CORRUPT, "malformed table '%s' in "
			    "the catalog", tb->name);
		return NULL;
	}
	at = ct->cols[ct->n_cols - 1].pos.off + ct->cols[ct->n_cols - 1].pos.len;
	sql_stmt_free(tree);
	if (at > strlen(tb->sql) ||
	    rdb_buf_append(&b, tb->sql, at) || rdb_buf_puts(&b, ", ") ||
	    rdb_buf_append(&b, p->ast->sql + (c->off - p->ast->pos.off),
			   c->len) ||
	    rdb_buf_puts(&b, tb->sql + at) || rdb_buf_terminate(&b)) {
		rdb_buf_free(&b);
		rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
		return NULL;
	}
	return (char *)rdb_buf_detach(&b);
}

/* Whether tb's text ends in STRICT (after its column list). */
static int text_strict(const tbl_table *tb)
{
	const char *close = strrchr(tb->sql, ')');

	return close != NULL && strcasestr(close, "strict") != NULL;
}

/* A DEFAULT SQLite takes for a column added to a table with rows: a
 * literal, or a signed number. */
static int plain_default(const sql_expr *e)
{
	if (e == NULL)
		return 1;
	if (e->op == SQL_E_NEG || e->op == SQL_E_POS)
		e = e->left;
	return e->op <= SQL_E_FALSE;
}

/* SQLite's rules for the rows already there: none, or the new column's
 * NULL default meets no NOT NULL, its default is constant, and every
 * CHECK holds for each row as it now reads (tb: the altered table in
 * the schema s). */
static rdb_rc check_rows(sql_prog *p, tbl_schema *s, const tbl_table *tb,
			 int had_rows)
{
	const sql_column_def *cd = &p->ast->u.alter.col;
	const tbl_column *c = &tb->cols[tb->ncols - 1];
	binder b = { .ast = p->ast, .s = s, .err = p->cx.err };
	tbl_cursor *cur = NULL;
	const tbl_value *row;
	rdb_rc rc;

	if (!had_rows)
		return RDB_OK;
	if (c->notnull && (!c->has_dflt || c->dflt.cls == TBL_NULL))
		return rdb_err_set(p->cx.err, RDB_ERROR, "Cannot add a NOT "
				   "NULL column with default value NULL");
	if (!plain_default(cd->default_value))
		return rdb_err_set(p->cx.err, RDB_ERROR, "Cannot add a column "
				   "with non-constant default");
	p->tb = tb;
	if ((rc = chk_compile(&b, p)) == RDB_OK && p->chk != NULL)
		rc = tbl_cursor_open(p->t, tb, NULL, &cur);
	while (rc == RDB_OK && p->chk != NULL &&
	       (rc = tbl_cursor_next(cur)) == RDB_ROW)
		if ((rc = tbl_cursor_row(cur, &row)) == RDB_OK)
			rc = chk_row(p, tb, row);
	tbl_cursor_close(cur);
	query_free_all(b.all, b.nall);
	chk_free(p->chk);
	p->chk = NULL;
	p->tb = NULL;
	return rc == RDB_DONE ? RDB_OK : rc;
}

/* Whether tb holds a row. */
static rdb_rc has_rows(sql_prog *p, const tbl_table *tb, int *yes)
{
	tbl_cursor *cur = NULL;
	rdb_rc rc = tbl_cursor_open(p->t, tb, NULL, &cur);

	if (rc == RDB_OK)
		rc = tbl_cursor_next(cur);
	tbl_cursor_close(cur);
	*yes = rc == RDB_ROW;
	return rc == RDB_ROW || rc == RDB_DONE ? RDB_OK : rc;
}

static rdb_rc add_column(sql_prog *p, tbl_schema *s, const tbl_table *tb)
{
	const sql_column_def *cd = &p->ast->u.alter.col;
	tbl_column cols[1];
	sql_value dflt[1];
	tbl_schema *ns = NULL;
	char *text = NULL;
	ddl d;
	int rows = 0;
	rdb_rc rc;

	if (cd->primary_key)
		return rdb_err_set(p->cx.err, RDB_ERROR, "Cannot add a PRIMARY "
				   "KEY column");
	if (cd->unique)
		return rdb_err_set(p->cx.err, RDB_ERROR, "Cannot add a UNIQUE "
				   "column");
	memset(&d, 0, sizeof(d));
	memset(cols, 0, sizeof(cols));
	memset(dflt, 0, sizeof(dflt));
	d.p = p;
	d.s = s;
	d.def.name = tb->name;
	d.cols = cols;
	d.dflt = dflt;
	d.strict = text_strict(tb);
	rc = column_def(&d, cd, 0);
	if (rc == RDB_OK && (text = added_text(p, tb)) == NULL)
		rc = p->cx.err->rc;
	if (rc == RDB_OK)
		rc = has_rows(p, tb, &rows);
	if (rc == RDB_OK)
		rc = tbl_add_column(p->t, s, tb->name, cols, text);
	if (rc == RDB_OK)
		rc = tbl_schema_get(p->t, NULL, &ns);
	if (rc == RDB_OK)
		rc = check_rows(p, ns, tbl_schema_table(ns, tb->name), rows);
	tbl_schema_unref(ns);
	sql_value_free(&dflt[0]);
	rdb_free(text);
	return rc;
}

static rdb_rc alter_table(sql_prog *p, tbl_schema *s)
{
	const sql_alter *a = &p->ast->u.alter;
	const tbl_table *tb = tbl_schema_table(s, a->table);

	if (tb == NULL && tbl_schema_view(s, a->table) != NULL)
		return a->kind == SQL_ALTER_ADD_COLUMN
			? rdb_err_set(p->cx.err, RDB_ERROR, "Cannot add a "
				      "column to a view")
			: rdb_err_set(p->cx.err, RDB_ERROR, "view %s may not "
				      "be altered", a->table);
	if (tb == NULL)
		return rdb_err_set(p->cx.err, RDB_ERROR, "no such table: %s",
				   a->table);
	switch (a->kind) {
	case SQL_ALTER_ADD_COLUMN: return add_column(p, s, tb);
	case SQL_ALTER_RENAME: return ddl_rename_table(p, s, tb);
	case SQL_ALTER_DROP_COLUMN:
		return unsupported(p, "ALTER TABLE ... DROP COLUMN is");
	default:
		return unsupported(p, "ALTER TABLE ... RENAME COLUMN is");
	}
}

/* The tables a table or index statement may change, as the statement
 * names them and as s (the schema before it) spells them, into names[4]:
 * their count, or -1 for a statement on views or triggers. */
static int changed_tables(const sql_prog *p, const tbl_schema *s,
			  const char **names)
{
	const sql_stmt *a = p->ast;
	const tbl_table *tb = NULL;
	int n = 0;

	switch (a->kind) {
	case SQL_CREATE_TABLE:
		names[n++] = a->u.create_table.name;
		break;
	case SQL_CREATE_INDEX:
		names[n++] = a->u.create_index.table;
		break;
	case SQL_ALTER_TABLE:
		names[n++] = a->u.alter.table;
		if (a->u.alter.kind == SQL_ALTER_RENAME)
			names[n++] = a->u.alter.name;
		break;
	case SQL_DROP:
		if (a->u.drop.object == SQL_OBJ_TABLE)
			names[n++] = a->u.drop.name;
		else if (a->u.drop.object != SQL_OBJ_INDEX)
			return -1;
		else if (tbl_schema_index(s, a->u.drop.name, &tb) == NULL)
			return 0;
		break;
	default:
		return -1;
	}
	if (tb == NULL)
		tb = tbl_schema_table(s, names[0]);
	if (tb != NULL)
		names[n++] = tb->name;
	return n;
}

/* After a table or index statement: the schema it left, derived from s
 * by reading only the tables it changed, becomes the connection's (so
 * that a DDL costs what it changed, not the whole catalog: the next
 * statement's prepare finds it current). */
static rdb_rc keep_schema(sql_prog *p, tbl_schema *s, const char **names,
			  int n)
{
	tbl_schema *ns = NULL;
	rdb_rc rc;

	if (p->c == NULL || n < 0)
		return RDB_OK;
	if ((rc = tbl_schema_derive(p->t, s, names, n, &ns)) != RDB_OK)
		return rc;
	tbl_schema_unref(p->c->schema);
	p->c->schema = ns;
	return RDB_OK;
}

/* Run a schema statement against the catalog as it is in p->t. */
rdb_rc ddl_run(sql_prog *p)
{
	const char *names[4];
	tbl_schema *s;
	rdb_rc rc;
	int n;

	rc = tbl_schema_get(p->t, p->c != NULL ? p->c->schema : NULL, &s);
	if (rc != RDB_OK)
		return rc;
	n = changed_tables(p, s, names);
	switch (p->ast->kind) {
	case SQL_CREATE_TABLE: rc = create_table(p, s); break;
	case SQL_CREATE_INDEX: rc = create_index(p, s); break;
	case SQL_ALTER_TABLE: rc = alter_table(p, s); break;
	case SQL_DROP:
		if (p->ast->u.drop.object == SQL_OBJ_TABLE ||
		    p->ast->u.drop.object == SQL_OBJ_INDEX) {
			rc = drop(p, s);
			break;
		}
		/* fall through */
	default: rc = view_ddl_run(p, s); break;
	}
	if (rc == RDB_OK)
		rc = keep_schema(p, s, names, n);
	tbl_schema_unref(s);
	return rc;
}
