/*
 * ddl.c -- creating and dropping tables and indexes: validation of the
 * definitions, their catalog rows, CREATE statements generated when none
 * is given, and the row-count estimate.  Design: src/table/README.md
 * ("The catalog", "DDL").
 */
#include "table/tbl_store.h"
#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
#include "mem.h"

#define E(t) pager_txn_err(t)

static tbl_value txt(const char *s)
{
	return (tbl_value){ .cls = s ? TBL_TEXT : TBL_NULL, .p = s,
			    .n = s ? strlen(s) : 0 };
}

static tbl_value num(int64_t i)
{
	return (tbl_value){ .cls = TBL_INT, .i = i };
}

/* ---- catalog rows --------------------------------------------------------------
 * Every DDL call produces the catalog rows of the objects it creates or
 * drops through emit_*(), which hands each row to a function: one that
 * checks the key size, one that stores, one that deletes. */

typedef rdb_rc (*row_fn)(pager_txn *t, int id, const tbl_value *row);

static rdb_rc emit_index(pager_txn *t, const tbl_table *tb,
			 const tbl_index *ix, row_fn fn)
{
	tbl_value r[IX_NCOLS], c[IC_NCOLS];
	char origin[2] = { ix->origin, '\0' };
	rdb_rc rc;
	int i;

	r[IX_TABLE] = txt(tb->name);
	r[IX_NAME] = txt(ix->name);
	r[IX_ROOT] = num(ix->root);
	r[IX_UNIQUE] = num(ix->unique);
	r[IX_ORIGIN] = txt(origin);
	r[IX_SQL] = txt(ix->sql);
	rc = fn(t, SYS_INDEXES, r);
	for (i = 0; i < ix->ncols && rc == RDB_OK; i++) {
		c[IC_INDEX] = txt(ix->name);
		c[IC_SEQNO] = num(i);
		c[IC_CID] = num(ix->cols[i]);
		c[IC_NAME] = txt(tb->cols[ix->cols[i]].name);
		c[IC_DESC] = num(ix->desc[i]);
		rc = fn(t, SYS_INDEX_COLUMNS, c);
	}
	return rc;
}

static rdb_rc emit_column(pager_txn *t, const tbl_table *tb, int i,
			  row_fn fn)
{
	const tbl_column *col = &tb->cols[i];
	tbl_value r[CO_NCOLS];

	r[CO_TABLE] = txt(tb->name);
	r[CO_CID] = num(i);
	r[CO_NAME] = txt(col->name);
	r[CO_TYPE] = txt(col->decl);
	r[CO_NOTNULL] = num(col->notnull);
	r[CO_DFLT] = txt(col->has_dflt ? col->dflt_sql : NULL);
	r[CO_DVALUE] = col->has_dflt ? col->dflt : txt(NULL);
	r[CO_PK] = num(col->pk);
	r[CO_PKDESC] = num(col->pk_desc);
	r[CO_UNIQUE] = num(col->unique);
	return fn(t, SYS_COLUMNS, r);
}

/* The rows of a table (type 'table' or 'system'), its columns and, with
 * indexes set, its indexes. */
static rdb_rc emit_table(pager_txn *t, const tbl_table *tb, int indexes,
			 row_fn fn)
{
	tbl_value r[TB_NCOLS];
	rdb_rc rc;
	int i;

	r[TB_NAME] = txt(tb->name);
	r[TB_TYPE] = txt(tb->system ? "system" : "table");
	r[TB_ROOT] = num(tb->root);
	r[TB_SQL] = txt(tb->sql);
	r[TB_ROWS] = num((int64_t)(tb->rows & INT64_MAX));
	rc = fn(t, SYS_TABLES, r);
	for (i = 0; i < tb->ncols && rc == RDB_OK; i++)
		rc = emit_column(t, tb, i, fn);
	for (i = 0; indexes && i < tb->nidx && rc == RDB_OK; i++)
		rc = emit_index(t, tb, &tb->idx[i], fn);
	return rc;
}

static rdb_rc check_key_size(pager_txn *t, int id, const tbl_value *row)
{
	rdb_buf k = { 0 };
	size_t max = kv_max_key(t);
	rdb_rc rc = tbl_sys_key(&k, id, row);

	if (rc == RDB_OK && k.n > max)
		rc = rdb_err_set(E(t), RDB_TOOBIG, "name too long: its row in "
				 "%s would have a key of %zu bytes (maximum "
				 "%zu): '%.40s'", tbl_sys[id].name, k.n, max,
				 (const char *)row[id == SYS_INDEXES].p);
	rdb_buf_free(&k);
	return rc == RDB_NOMEM ? tbl_nomem(t) : rc;
}

/* Before the first DDL the catalog is empty: store the rows that describe
 * the system tables themselves. */
static rdb_rc catalog_init(pager_txn *t)
{
	rdb_rc rc = RDB_OK;
	int i;

	if (pager_anchor(t, FMT_ANCHOR_CATALOG) != 0)
		return RDB_OK;
	for (i = 0; i < TBL_NSYS && rc == RDB_OK; i++)
		rc = emit_table(t, &tbl_sys[i], 0, tbl_sys_put);
	return rc;
}

/* ---- names ---------------------------------------------------------------------- */

rdb_rc tbl_check_name(pager_txn *t, const tbl_schema *s, const char *name,
		      const char *what, int reserved_ok)
{
	if (name == NULL || name[0] == '\0')
		return rdb_err_set(E(t), RDB_ERROR, "%s name is empty", what);
	if (!reserved_ok && strncasecmp(name, "rdb_", 4) == 0)
		return rdb_err_set(E(t), RDB_ERROR, "object name reserved for "
				   "internal use: '%s'", name);
	if (tbl_schema_table(s, name) != NULL)
		return rdb_err_set(E(t), RDB_ERROR, "there is already a table "
				   "named '%s'", name);
	if (tbl_schema_index(s, name, NULL) != NULL)
		return rdb_err_set(E(t), RDB_ERROR, "there is already an index "
				   "named '%s'", name);
	if (tbl_schema_view(s, name) != NULL)
		return rdb_err_set(E(t), RDB_ERROR, "there is already a view "
				   "named '%s'", name);
	return RDB_OK;
}

/* ---- key sizes -------------------------------------------------------------------
 * A key whose declared parts cannot fit is refused when it is defined:
 * integers and reals at their longest, text of VARCHAR(n)/CHAR(n) as n
 * ASCII characters.  Unbounded text and blobs are checked row by row. */

static rdb_rc longest(rdb_buf *b, const tbl_column *col, int desc)
{
	static const int64_t ints[] = { INT64_MIN, INT64_MAX, -1, 0 };
	tbl_value v = { .cls = TBL_INT };
	size_t best = 0, start = b->n;
	rdb_rc rc = RDB_OK;
	unsigned i;

	if (col->type == TBL_TY_TEXT && col->maxlen > 0) {
		v = (tbl_value){ .cls = TBL_TEXT, .n = col->maxlen };
		v.p = rdb_malloc(col->maxlen);
		if (v.p == NULL)
			return RDB_NOMEM;
		memset((void *)v.p, 'a', col->maxlen);
		rc = tbl_key_append(b, &v, desc);
		rdb_free((void *)v.p);
		return rc;
	}
	if (col->type != TBL_TY_INTEGER && col->type != TBL_TY_REAL &&
	    col->type != TBL_TY_BOOLEAN)
		return RDB_OK;
	for (i = 0; i < 5 && rc == RDB_OK; i++) {
		v = i < 4 ? (tbl_value){ .cls = TBL_INT, .i = ints[i] }
			  : (tbl_value){ .cls = TBL_REAL, .r = -1.0e-300 };
		b->n = start;
		rc = tbl_key_append(b, &v, desc);
		if (b->n - start > best)
			best = b->n - start;
	}
	b->n = start + best;
	return rc;
}

/* Refuse (RDB_TOOBIG) a key of tb (ix NULL) or of ix that cannot fit. */
static rdb_rc check_key_fits(pager_txn *t, const tbl_table *tb,
			     const tbl_index *ix, const char *what)
{
	tbl_layout l;
	rdb_buf b = { 0 };
	size_t max = tbl_max_key(t);
	rdb_rc rc = RDB_OK;
	int i;

	tbl_layout_of(tb, ix, &l);
	for (i = 0; i < l.n && rc == RDB_OK; i++)
		rc = l.slot[i] < tb->ncols
			? longest(&b, &tb->cols[l.slot[i]], l.desc[i])
			: longest(&b, &(tbl_column){ .type = TBL_TY_INTEGER },
				  0);
	if (rc == RDB_OK && b.n > max)
		rc = rdb_err_set(E(t), RDB_TOOBIG, "key of %s '%s' can take "
				 "%zu bytes: more than the maximum of %zu",
				 what, ix ? ix->name : tb->name, b.n, max);
	rdb_buf_free(&b);
	return rc == RDB_NOMEM ? tbl_nomem(t) : rc;
}

/* ---- CREATE statements, when none is given ------------------------------------- */

static int plain_ident(const char *s)
{
	static const char *const kw[] = { "add", "all", "and", "as", "asc",
		"between", "by", "case", "check", "collate", "column",
		"constraint", "create", "default", "delete", "desc",
		"distinct", "drop", "else", "end", "exists", "from", "group",
		"having", "in", "index", "insert", "into", "is", "join", "key",
		"like", "limit", "not", "null", "on", "or", "order",
		"primary", "references", "select", "set", "table", "then",
		"to", "unique", "update", "using", "values", "when", "where",
		"with" };
	size_t i;

	if (!isalpha((unsigned char)s[0]) && s[0] != '_')
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	for (i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
		if (tbl_name_eq(s, kw[i]))
			return 0;
	return 1;
}

static rdb_rc put_quoted(rdb_buf *b, const void *p, size_t n, char q)
{
	const char *s = p;
	rdb_rc rc = rdb_buf_putc(b, (unsigned char)q);
	size_t i;

	for (i = 0; i < n && rc == RDB_OK; i++) {
		rc = rdb_buf_putc(b, (unsigned char)s[i]);
		if (rc == RDB_OK && s[i] == q)
			rc = rdb_buf_putc(b, (unsigned char)q);
	}
	return rc == RDB_OK ? rdb_buf_putc(b, (unsigned char)q) : rc;
}

static rdb_rc put_ident(rdb_buf *b, const char *s)
{
	return plain_ident(s) ? rdb_buf_puts(b, s)
			      : put_quoted(b, s, strlen(s), '"');
}

/* A value as an SQL literal. */
static rdb_rc put_literal(rdb_buf *b, const tbl_value *v)
{
	char tmp[40];
	const unsigned char *p = v->p;
	rdb_rc rc = RDB_OK;
	size_t i;

	switch (v->cls) {
	case TBL_NULL:
		return rdb_buf_puts(b, "NULL");
	case TBL_INT:
		snprintf(tmp, sizeof(tmp), "%" PRId64, v->i);
		return rdb_buf_puts(b, tmp);
	case TBL_REAL:
		snprintf(tmp, sizeof(tmp), "%.17g", v->r);
		if (strpbrk(tmp, ".eEn") == NULL)
			strcat(tmp, ".0");
		return rdb_buf_puts(b, tmp);
	case TBL_TEXT:
		return put_quoted(b, v->p, v->n, '\'');
	case TBL_BLOB:
		rc = rdb_buf_puts(b, "X'");
		for (i = 0; i < v->n && rc == RDB_OK; i++) {
			snprintf(tmp, sizeof(tmp), "%02X", p[i]);
			rc = rdb_buf_puts(b, tmp);
		}
		return rc == RDB_OK ? rdb_buf_putc(b, '\'') : rc;
	}
	return RDB_OK;
}

static rdb_rc put_column(rdb_buf *b, const tbl_table *tb, int i)
{
	const tbl_column *col = &tb->cols[i];
	rdb_rc rc = put_ident(b, col->name);

	if (rc == RDB_OK)
		rc = rdb_buf_putc(b, ' ');
	if (rc == RDB_OK)
		rc = rdb_buf_puts(b, col->decl);
	if (rc == RDB_OK && tb->npk == 1 && tb->pk[0] == i)
		rc = rdb_buf_puts(b, col->pk_desc ? " PRIMARY KEY DESC"
						  : " PRIMARY KEY");
	if (rc == RDB_OK && col->notnull)
		rc = rdb_buf_puts(b, " NOT NULL");
	if (rc == RDB_OK && col->unique)
		rc = rdb_buf_puts(b, " UNIQUE");
	if (rc == RDB_OK && col->has_dflt) {
		rc = rdb_buf_puts(b, " DEFAULT ");
		if (rc == RDB_OK)
			rc = rdb_buf_puts(b, col->dflt_sql);
	}
	return rc;
}

/* ", UNIQUE(a, b DESC)": a UNIQUE table constraint. */
static rdb_rc put_unique(rdb_buf *b, const tbl_table *tb, const tbl_index *ix)
{
	rdb_rc rc = RDB_OK;
	int i;

	for (i = 0; i < ix->ncols && rc == RDB_OK; i++) {
		rc = rdb_buf_puts(b, i ? ", " : ", UNIQUE(");
		if (rc == RDB_OK)
			rc = put_ident(b, tb->cols[ix->cols[i]].name);
		if (rc == RDB_OK && ix->desc[i])
			rc = rdb_buf_puts(b, " DESC");
	}
	return rc == RDB_OK ? rdb_buf_putc(b, ')') : rc;
}

static rdb_rc table_sql(const tbl_table *tb, rdb_buf *b)
{
	rdb_rc rc = rdb_buf_puts(b, "CREATE TABLE ");
	int i;

	if (rc == RDB_OK)
		rc = put_ident(b, tb->name);
	for (i = 0; i < tb->ncols && rc == RDB_OK; i++) {
		rc = rdb_buf_puts(b, i ? ", " : "(");
		if (rc == RDB_OK)
			rc = put_column(b, tb, i);
	}
	for (i = 0; tb->npk > 1 && i < tb->npk && rc == RDB_OK; i++) {
		rc = rdb_buf_puts(b, i ? ", " : ", PRIMARY KEY(");
		if (rc == RDB_OK)
			rc = put_ident(b, tb->cols[tb->pk[i]].name);
		if (rc == RDB_OK && tb->cols[tb->pk[i]].pk_desc)
			rc = rdb_buf_puts(b, " DESC");
	}
	if (rc == RDB_OK && tb->npk > 1)
		rc = rdb_buf_putc(b, ')');
	for (i = 0; i < tb->nidx && rc == RDB_OK; i++)
		if (tb->idx[i].origin == 'u' && tb->idx[i].ncols > 1)
			rc = put_unique(b, tb, &tb->idx[i]);
	if (rc == RDB_OK)
		rc = rdb_buf_putc(b, ')');
	return rc == RDB_OK ? rdb_buf_terminate(b) : rc;
}

static rdb_rc index_sql(const tbl_table *tb, const tbl_index *ix, rdb_buf *b)
{
	rdb_rc rc = rdb_buf_puts(b, ix->unique ? "CREATE UNIQUE INDEX "
					       : "CREATE INDEX ");
	int i;

	if (rc == RDB_OK)
		rc = put_ident(b, ix->name);
	if (rc == RDB_OK)
		rc = rdb_buf_puts(b, " ON ");
	if (rc == RDB_OK)
		rc = put_ident(b, tb->name);
	for (i = 0; i < ix->ncols && rc == RDB_OK; i++) {
		rc = rdb_buf_puts(b, i ? ", " : "(");
		if (rc == RDB_OK)
			rc = put_ident(b, tb->cols[ix->cols[i]].name);
		if (rc == RDB_OK && ix->desc[i])
			rc = rdb_buf_puts(b, " DESC");
	}
	if (rc == RDB_OK)
		rc = rdb_buf_putc(b, ')');
	return rc == RDB_OK ? rdb_buf_terminate(b) : rc;
}

/* ---- building a table from its definition -------------------------------------- */

static rdb_rc copy_type(pager_txn *t, const tbl_column *d, tbl_column *col)
{
	char tmp[32];

	if (d->decl != NULL) {
		if (tbl_type_parse(d->decl, &col->type, &col->maxlen, E(t)))
			return E(t)->rc;
		col->decl = tbl_strndup(d->decl, strlen(d->decl));
		return col->decl ? RDB_OK : tbl_nomem(t);
	}
	if (d->type < TBL_TY_INTEGER || d->type > TBL_TY_ANY)
		return rdb_err_set(E(t), RDB_ERROR, "column '%s' has no type",
				   d->name);
	col->type = d->type;
	col->maxlen = d->type == TBL_TY_TEXT ? d->maxlen : 0;
	if (col->maxlen > 0)
		snprintf(tmp, sizeof(tmp), "VARCHAR(%u)", (unsigned)d->maxlen);
	else
		snprintf(tmp, sizeof(tmp), "%s", tbl_type_name(d->type));
	col->decl = tbl_strndup(tmp, strlen(tmp));
	return col->decl ? RDB_OK : tbl_nomem(t);
}

static rdb_rc copy_columns(pager_txn *t, const tbl_table *def, tbl_table *nt)
{
	const tbl_column *d;
	rdb_rc rc;
	int i, j;

	if (def->ncols == 0 || def->ncols > TBL_MAX_COLUMNS || !def->cols)
		return rdb_err_set(E(t), RDB_ERROR, "table '%s' must have 1 to "
				   "%d columns", def->name, TBL_MAX_COLUMNS);
	if ((nt->cols = rdb_calloc(def->ncols, sizeof(tbl_column))) == NULL)
		return tbl_nomem(t);
	nt->ncols = def->ncols;
	for (i = 0; i < def->ncols; i++) {
		d = &def->cols[i];
		if (d->name == NULL || d->name[0] == '\0')
			return rdb_err_set(E(t), RDB_ERROR, "column %d of "
					   "table '%s' has no name", i,
					   def->name);
		for (j = 0; j < i; j++)
			if (tbl_name_eq(d->name, def->cols[j].name))
				return rdb_err_set(E(t), RDB_ERROR, "duplicate "
						   "column name: '%s'", d->name);
		nt->cols[i].name = tbl_strndup(d->name, strlen(d->name));
		if (nt->cols[i].name == NULL)
			return tbl_nomem(t);
		if ((rc = copy_type(t, d, &nt->cols[i])) != RDB_OK)
			return rc;
		nt->cols[i].notnull = d->notnull != 0;
		nt->cols[i].unique = d->unique != 0;
	}
	return RDB_OK;
}

static rdb_rc copy_pk(pager_txn *t, const tbl_table *def, tbl_table *nt)
{
	int i, c;

	if (def->npk > TBL_MAX_KEY_COLS || (def->npk > 0 && !def->pk))
		return rdb_err_set(E(t), RDB_ERROR, "too many columns in the "
				   "primary key of '%s' (maximum %d)",
				   def->name, TBL_MAX_KEY_COLS);
	if (def->npk == 0)
		return RDB_OK;
	if ((nt->pk = rdb_calloc(def->npk, sizeof(uint16_t))) == NULL)
		return tbl_nomem(t);
	for (i = 0; i < def->npk; i++) {
		c = def->pk[i];
		if (c >= nt->ncols)
			return rdb_err_set(E(t), RDB_ERROR, "primary key of '%s' "
					   "names column %d, which does not "
					   "exist (%d columns)", def->name, c,
					   nt->ncols);
		if (nt->cols[c].pk != 0)
			return rdb_err_set(E(t), RDB_ERROR, "column '%s' is "
					   "twice in the primary key of '%s'",
					   nt->cols[c].name, def->name);
		nt->pk[i] = (uint16_t)c;
		nt->cols[c].pk = (uint16_t)(i + 1);
		nt->cols[c].pk_desc = def->cols[c].pk_desc != 0;
	}
	nt->npk = def->npk;
	nt->ipk = nt->npk == 1 && nt->cols[nt->pk[0]].type == TBL_TY_INTEGER;
	return RDB_OK;
}

/* Coerce and own the DEFAULT of column i. */
static rdb_rc copy_default(pager_txn *t, const tbl_column *d, tbl_table *nt,
			   int i)
{
	tbl_column *col = &nt->cols[i];
	char scratch[TBL_SCRATCH];
	tbl_value v = d->dflt;
	rdb_buf sql = { 0 };
	rdb_rc rc = RDB_OK;

	if (!d->has_dflt)
		return RDB_OK;
	if (v.cls != TBL_NULL &&
	    tbl_value_apply(nt, i, &v, scratch, E(t)) != RDB_OK)
		return rdb_err_set(E(t), RDB_ERROR, "bad default value for "
				   "column '%s': %s", col->name, E(t)->msg);
	if (v.cls == TBL_TEXT || v.cls == TBL_BLOB) {
		if ((v.p = tbl_strndup(v.p, v.n)) == NULL)
			return tbl_nomem(t);
	}
	col->dflt = v;
	col->has_dflt = 1;
	if (d->dflt_sql != NULL)
		col->dflt_sql = tbl_strndup(d->dflt_sql, strlen(d->dflt_sql));
	else if ((rc = put_literal(&sql, &v)) == RDB_OK &&
		 (rc = rdb_buf_terminate(&sql)) == RDB_OK)
		col->dflt_sql = (char *)rdb_buf_detach(&sql);
	rdb_buf_free(&sql);
	return col->dflt_sql != NULL ? RDB_OK : tbl_nomem(t);
}

/* Whether v is among a[0..n). */
static int memchr_u16(const uint16_t *a, int n, uint16_t v)
{
	int i;

	for (i = 0; i < n; i++)
		if (a[i] == v)
			return 1;
	return 0;
}

/* The name of the nth index made for a UNIQUE constraint of table. */
static char *auto_name(const char *table, int n)
{
	char num[16];
	rdb_buf b = { 0 };

	snprintf(num, sizeof(num), "_%d", n);
	if (rdb_buf_puts(&b, "rdb_autoindex_") != RDB_OK ||
	    rdb_buf_puts(&b, table) != RDB_OK ||
	    rdb_buf_puts(&b, num) != RDB_OK || rdb_buf_terminate(&b)) {
		rdb_buf_free(&b);
		return NULL;
	}
	return (char *)rdb_buf_detach(&b);
}

/* Whether the unique constraint on cols[0..n) is implied by the primary
 * key (the same columns in any order) or by an earlier unique index. */
static int unique_implied(const tbl_table *nt, const uint16_t *cols, int n)
{
	int i, j, hit;

	for (i = -1; i < nt->nidx; i++) {
		const uint16_t *have = i < 0 ? nt->pk : nt->idx[i].cols;
		int nh = i < 0 ? nt->npk : nt->idx[i].ncols;

		if (nh != n)
			continue;
		for (j = 0, hit = 1; j < n && hit; j++)
			hit = memchr_u16(have, nh, cols[j]);
		if (hit)
			return 1;
	}
	return 0;
}

/* Add a unique index of origin 'u' on cols[0..n) (desc may be NULL). */
static rdb_rc add_auto_index(pager_txn *t, tbl_table *nt, const uint16_t *cols,
			     const uint8_t *desc, int n)
{
	tbl_index *ix;
	int i;

	if (unique_implied(nt, cols, n))
		return RDB_OK;
	ix = &nt->idx[nt->nidx++];
	ix->name = auto_name(nt->name, nt->nidx);
	ix->cols = rdb_calloc((size_t)n, sizeof(uint16_t));
	ix->desc = rdb_calloc((size_t)n, 1);
	if (!ix->name || !ix->cols || !ix->desc)
		return tbl_nomem(t);
	for (i = 0; i < n; i++) {
		ix->cols[i] = cols[i];
		ix->desc[i] = desc != NULL && desc[i] != 0;
	}
	ix->ncols = (uint16_t)n;
	ix->unique = 1;
	ix->origin = 'u';
	return RDB_OK;
}

/* The indexes of UNIQUE columns, then of the UNIQUE table constraints in
 * def->idx; none for a constraint the key or an earlier one implies. */
static rdb_rc auto_indexes(pager_txn *t, const tbl_table *def, tbl_table *nt)
{
	const tbl_index *d;
	uint16_t c;
	rdb_rc rc = RDB_OK;
	int i, j;

	nt->idx = rdb_calloc((size_t)nt->ncols + def->nidx, sizeof(tbl_index));
	if (nt->idx == NULL)
		return tbl_nomem(t);
	for (i = 0; i < nt->ncols && rc == RDB_OK; i++) {
		c = (uint16_t)i;
		if (nt->cols[i].unique)
			rc = add_auto_index(t, nt, &c, NULL, 1);
	}
	for (i = 0; i < def->nidx && rc == RDB_OK; i++) {
		d = &def->idx[i];
		if (d->ncols == 0 || d->ncols > TBL_MAX_KEY_COLS || !d->cols)
			return rdb_err_set(E(t), RDB_ERROR, "a UNIQUE constraint "
					   "of '%s' must have 1 to %d columns",
					   def->name, TBL_MAX_KEY_COLS);
		for (j = 0; j < d->ncols; j++)
			if (d->cols[j] >= nt->ncols ||
			    memchr_u16(d->cols, j, d->cols[j]))
				return rdb_err_set(E(t), RDB_ERROR, "a UNIQUE "
						   "constraint of '%s' names "
						   "column %d twice or out of "
						   "range", def->name,
						   d->cols[j]);
		rc = add_auto_index(t, nt, d->cols, d->desc, d->ncols);
	}
	if (rc == RDB_OK && nt->nidx == 0) {
		rdb_free(nt->idx);
		nt->idx = NULL;
	}
	return rc;
}

static rdb_rc build_table(pager_txn *t, const tbl_table *def, tbl_table *nt)
{
	rdb_buf sql = { 0 };
	rdb_rc rc;
	int i;

	if ((nt->name = tbl_strndup(def->name, strlen(def->name))) == NULL)
		return tbl_nomem(t);
	rc = copy_columns(t, def, nt);
	if (rc == RDB_OK)
		rc = copy_pk(t, def, nt);
	for (i = 0; i < nt->ncols && rc == RDB_OK; i++)
		rc = copy_default(t, &def->cols[i], nt, i);
	if (rc == RDB_OK)
		rc = auto_indexes(t, def, nt);
	if (rc != RDB_OK)
		return rc;
	if (def->sql != NULL)
		nt->sql = tbl_strndup(def->sql, strlen(def->sql));
	else if (table_sql(nt, &sql) == RDB_OK)
		nt->sql = (char *)rdb_buf_detach(&sql);
	rdb_buf_free(&sql);
	return nt->sql != NULL ? RDB_OK : tbl_nomem(t);
}

/* ---- the calls -------------------------------------------------------------------- */

rdb_rc tbl_create_table(pager_txn *t, const tbl_schema *s,
			const tbl_table *def)
{
	tbl_table nt = { 0 };
	rdb_rc rc;
	int i;

	assert(t != NULL && def != NULL);
	rc = tbl_schema_current(t, s);
	if (rc == RDB_OK)
		rc = tbl_check_name(t, s, def->name, "table", 0);
	if (rc == RDB_OK)
		rc = build_table(t, def, &nt);
	if (rc == RDB_OK)
		rc = check_key_fits(t, &nt, NULL, "table");
	for (i = 0; i < nt.nidx && rc == RDB_OK; i++)
		rc = check_key_fits(t, &nt, &nt.idx[i], "index");
	if (rc == RDB_OK)
		rc = emit_table(t, &nt, 1, check_key_size);
	/* Checked: from here on only I/O or memory can fail. */
	if (rc == RDB_OK)
		rc = catalog_init(t);
	if (rc == RDB_OK)
		rc = bt_create(t, &nt.root);
	for (i = 0; i < nt.nidx && rc == RDB_OK; i++)
		rc = bt_create(t, &nt.idx[i].root);
	if (rc == RDB_OK)
		rc = emit_table(t, &nt, 1, tbl_sys_put);
	if (rc == RDB_OK)
		rc = tbl_version_bump(t);
	tbl_table_clear(&nt);
	return rc;
}

rdb_rc tbl_add_column(pager_txn *t, const tbl_schema *s, const char *table,
		      const tbl_column *col, const char *sql)
{
	const tbl_table *tb;
	tbl_table def, nt = { 0 };
	tbl_column *cols = NULL;
	rdb_rc rc;

	assert(t != NULL && table != NULL && col != NULL && sql != NULL);
	if ((rc = tbl_schema_current(t, s)) != RDB_OK)
		return rc;
	if ((tb = tbl_schema_table(s, table)) == NULL)
		return rdb_err_set(E(t), RDB_ERROR, "no such table: '%s'",
				   table);
	if (tb->system)
		return tbl_sys_refuse(t, tb, "altered");
	if (col->unique || col->pk)
		return rdb_err_set(E(t), RDB_MISUSE, "an added column may not "
				   "be UNIQUE or in the key");
	if (tb->ncols >= TBL_MAX_COLUMNS)
		return rdb_err_set(E(t), RDB_ERROR, "too many columns on '%s' "
				   "(maximum %d)", tb->name, TBL_MAX_COLUMNS);
	if ((cols = rdb_calloc((size_t)tb->ncols + 1, sizeof(*cols))) == NULL)
		return tbl_nomem(t);
	memcpy(cols, tb->cols, tb->ncols * sizeof(*cols));
	cols[tb->ncols] = *col;
	def = *tb;
	def.ncols = (uint16_t)(tb->ncols + 1);
	def.cols = cols;
	def.nidx = 0;
	def.sql = (char *)sql;
	rc = build_table(t, &def, &nt);
	nt.root = tb->root;
	nt.rows = tb->rows;
	if (rc == RDB_OK)
		rc = emit_table(t, &nt, 0, check_key_size);
	if (rc == RDB_OK)
		rc = emit_table(t, &nt, 0, tbl_sys_put);
	if (rc == RDB_OK)
		rc = tbl_version_bump(t);
	tbl_table_clear(&nt);
	rdb_free(cols);
	return rc;
}

/* "rdb_autoindex_<table>_<n>" of an index of a UNIQUE constraint, for
 * the table's new name (n kept). */
static char *auto_rename(const char *old, const char *table)
{
	const char *n = strrchr(old, '_');

	return auto_name(table, n != NULL ? atoi(n + 1) : 0);
}

rdb_rc tbl_rename_table(pager_txn *t, const tbl_schema *s, const char *old,
			const char *name, const char *sql,
			const char *const *index_sql)
{
	const tbl_table *tb;
	tbl_table nt;
	tbl_index *ix = NULL;
	rdb_rc rc;
	int i;

	assert(t != NULL && old != NULL && name != NULL && sql != NULL);
	if ((rc = tbl_schema_current(t, s)) != RDB_OK)
		return rc;
	if ((tb = tbl_schema_table(s, old)) == NULL)
		return rdb_err_set(E(t), RDB_ERROR, "no such table: '%s'", old);
	if (tb->system)
		return tbl_sys_refuse(t, tb, "renamed");
	if ((rc = tbl_check_name(t, s, name, "table", 0)) != RDB_OK)
		return rc;
	if (tb->nidx > 0 &&
	    (ix = rdb_calloc(tb->nidx, sizeof(*ix))) == NULL)
		return tbl_nomem(t);
	nt = *tb;                 /* shallow: only names and texts change */
	nt.name = (char *)name;
	nt.sql = (char *)sql;
	nt.idx = ix;
	for (i = 0; i < tb->nidx; i++) {
		ix[i] = tb->idx[i];
		if (ix[i].origin == 'u')
			ix[i].name = NULL;
		if (ix[i].origin == 'u' &&
		    (ix[i].name = auto_rename(tb->idx[i].name, name)) == NULL)
			rc = tbl_nomem(t);
		if (ix[i].sql != NULL)
			ix[i].sql = (char *)index_sql[i];
	}
	if (rc == RDB_OK)
		rc = emit_table(t, &nt, 1, check_key_size);
	if (rc == RDB_OK)
		rc = emit_table(t, tb, 1, tbl_sys_del);
	if (rc == RDB_OK)
		rc = emit_table(t, &nt, 1, tbl_sys_put);
	if (rc == RDB_OK)
		rc = tbl_version_bump(t);
	for (i = 0; i < tb->nidx; i++)
		if (ix[i].origin == 'u')
			rdb_free(ix[i].name);
	rdb_free(ix);
	return rc;
}

rdb_rc tbl_drop_table(pager_txn *t, const tbl_schema *s, const char *name)
{
	const tbl_table *tb;
	rdb_rc rc;
	int i;

	assert(t != NULL && name != NULL);
	if ((rc = tbl_schema_current(t, s)) != RDB_OK)
		return rc;
	if ((tb = tbl_schema_table(s, name)) == NULL)
		return rdb_err_set(E(t), RDB_ERROR, "no such table: '%s'",
				   name);
	if (tb->system)
		return tbl_sys_refuse(t, tb, "dropped");
	rc = bt_drop(t, tb->root);
	for (i = 0; i < tbl_schema_ntriggers(s) && rc == RDB_OK; i++)
		if (tbl_name_eq(tbl_schema_trigger_at(s, i)->table, tb->name))
			rc = tbl_drop_trigger_row(t, tbl_schema_trigger_at(s,
								       i));
	for (i = 0; i < tb->nidx && rc == RDB_OK; i++)
		rc = bt_drop(t, tb->idx[i].root);
	if (rc == RDB_OK)
		rc = emit_table(t, tb, 1, tbl_sys_del);
	if (rc == RDB_OK)
		rc = tbl_version_bump(t);
	return rc;
}

/* A normalized copy of def for table tb. */
static rdb_rc build_index(pager_txn *t, const tbl_table *tb,
			  const tbl_index *def, tbl_index *ix)
{
	rdb_buf sql = { 0 };
	int i;

	if (def->ncols == 0 || def->ncols > TBL_MAX_KEY_COLS || !def->cols)
		return rdb_err_set(E(t), RDB_ERROR, "index '%s' must have 1 to "
				   "%d columns", def->name, TBL_MAX_KEY_COLS);
	for (i = 0; i < def->ncols; i++)
		if (def->cols[i] >= tb->ncols)
			return rdb_err_set(E(t), RDB_ERROR, "index '%s' names "
					   "column %d of table '%s', which has "
					   "%d columns", def->name,
					   def->cols[i], tb->name, tb->ncols);
	ix->name = tbl_strndup(def->name, strlen(def->name));
	ix->cols = rdb_calloc(def->ncols, sizeof(uint16_t));
	ix->desc = rdb_calloc(def->ncols, 1);
	if (!ix->name || !ix->cols || !ix->desc)
		return tbl_nomem(t);
	ix->ncols = def->ncols;
	ix->unique = def->unique != 0;
	ix->origin = def->origin == 'u' ? 'u' : 'c';
	for (i = 0; i < def->ncols; i++) {
		ix->cols[i] = def->cols[i];
		ix->desc[i] = def->desc != NULL && def->desc[i];
	}
	if (def->sql != NULL)
		ix->sql = tbl_strndup(def->sql, strlen(def->sql));
	else if (ix->origin == 'u')
		return RDB_OK;
	else if (index_sql(tb, ix, &sql) == RDB_OK)
		ix->sql = (char *)rdb_buf_detach(&sql);
	rdb_buf_free(&sql);
	return ix->sql != NULL ? RDB_OK : tbl_nomem(t);
}

static rdb_rc index_table(pager_txn *t, const tbl_schema *s,
			  const char *table, const tbl_table **out)
{
	rdb_rc rc = tbl_schema_current(t, s);

	if (rc != RDB_OK)
		return rc;
	if ((*out = tbl_schema_table(s, table)) == NULL)
		return rdb_err_set(E(t), RDB_ERROR, "no such table: '%s'",
				   table);
	return (*out)->system ? tbl_sys_refuse(t, *out, "indexed") : RDB_OK;
}

rdb_rc tbl_create_index(pager_txn *t, const tbl_schema *s,
			const char *table, const tbl_index *def)
{
	const tbl_table *tb = NULL;
	tbl_index ix = { 0 };
	rdb_rc rc;

	assert(t != NULL && table != NULL && def != NULL);
	rc = index_table(t, s, table, &tb);
	if (rc == RDB_OK)
		rc = tbl_check_name(t, s, def->name, "index", def->origin == 'u');
	if (rc == RDB_OK)
		rc = build_index(t, tb, def, &ix);
	if (rc == RDB_OK)
		rc = check_key_fits(t, tb, &ix, "index");
	if (rc == RDB_OK)
		rc = emit_index(t, tb, &ix, check_key_size);
	if (rc == RDB_OK)
		rc = bt_create(t, &ix.root);
	if (rc == RDB_OK) {
		rc = tbl_index_build(t, tb, &ix);
		/* A row that does not fit the index: nothing is created. */
		if ((rc == RDB_CONSTRAINT || rc == RDB_TOOBIG) &&
		    bt_drop(t, ix.root) != RDB_OK)
			rc = E(t)->rc;
	}
	if (rc == RDB_OK)
		rc = emit_index(t, tb, &ix, tbl_sys_put);
	if (rc == RDB_OK)
		rc = tbl_version_bump(t);
	tbl_index_clear(&ix);
	return rc;
}

rdb_rc tbl_drop_index(pager_txn *t, const tbl_schema *s, const char *name)
{
	const tbl_table *tb = NULL;
	const tbl_index *ix;
	rdb_rc rc;

	assert(t != NULL && name != NULL);
	if ((rc = tbl_schema_current(t, s)) != RDB_OK)
		return rc;
	if ((ix = tbl_schema_index(s, name, &tb)) == NULL)
		return rdb_err_set(E(t), RDB_ERROR, "no such index: '%s'",
				   name);
	if (ix->origin == 'u')
		return rdb_err_set(E(t), RDB_ERROR, "index '%s' belongs to a "
				   "UNIQUE constraint and cannot be dropped",
				   name);
	rc = bt_drop(t, ix->root);
	if (rc == RDB_OK)
		rc = emit_index(t, tb, ix, tbl_sys_del);
	if (rc == RDB_OK)
		rc = tbl_version_bump(t);
	return rc;
}

/* ---- REINDEX ------------------------------------------------------------------
 * An index is rebuilt into a new tree (the old one dropped) and its
 * rdb_indexes row updated with the new root. */

static rdb_rc rebuild(pager_txn *t, const tbl_table *tb, const tbl_index *ix)
{
	tbl_index nix = *ix;
	rdb_rc rc = bt_drop(t, ix->root);

	if (rc == RDB_OK)
		rc = bt_create(t, &nix.root);
	if (rc == RDB_OK)
		rc = tbl_index_build(t, tb, &nix);
	if (rc == RDB_OK)
		rc = emit_index(t, tb, &nix, tbl_sys_put);
	return rc;
}

static rdb_rc rebuild_table(pager_txn *t, const tbl_table *tb)
{
	rdb_rc rc = RDB_OK;
	int i;

	for (i = 0; i < tb->nidx && rc == RDB_OK; i++)
		rc = rebuild(t, tb, &tb->idx[i]);
	return rc;
}

rdb_rc tbl_reindex(pager_txn *t, const tbl_schema *s, const char *name)
{
	const tbl_table *tb = NULL;
	const tbl_index *ix = NULL;
	rdb_rc rc;
	int i;

	assert(t != NULL);
	if ((rc = tbl_schema_current(t, s)) != RDB_OK)
		return rc;
	if (name != NULL && (ix = tbl_schema_index(s, name, &tb)) == NULL &&
	    ((tb = tbl_schema_table(s, name)) == NULL || tb->system))
		return rdb_err_set(E(t), RDB_ERROR, "unable to identify the "
				   "object to be reindexed: '%s'", name);
	if (ix != NULL)
		rc = rebuild(t, tb, ix);
	else if (tb != NULL)
		rc = rebuild_table(t, tb);
	for (i = 0; name == NULL && i < tbl_schema_count(s) && rc == RDB_OK;
	     i++)
		if (!tbl_schema_at(s, i)->system)
			rc = rebuild_table(t, tbl_schema_at(s, i));
	if (rc == RDB_OK)
		rc = tbl_version_bump(t);
	return rc;
}

/* ---- the row-count estimate --------------------------------------------------- */

/* A number in [0, 1) that differs from call to call. */
static double unit_random(void)
{
	static atomic_uint_fast64_t state;
	uint64_t x = atomic_fetch_add(&state, 0x9E3779B97F4A7C15ull);

	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return (double)((x ^ (x >> 31)) >> 11) / 9007199254740992.0;
}

/* The new estimate, or -1 to leave it: exact while small or when it moves
 * by more than an eighth; otherwise a step of an eighth taken with the
 * probability that makes the expected change delta. */
static int64_t next_estimate(int64_t est, int64_t delta)
{
	int64_t step = est / 8, target = est + delta;

	if (target < 0)
		target = 0;
	if (est < 64 || delta > step || -delta > step)
		return target == est ? -1 : target;
	if (unit_random() * (double)step >= (double)(delta < 0 ? -delta
							      : delta))
		return -1;
	return delta < 0 ? est - step : est + step;
}

rdb_rc tbl_note_rows(pager_txn *t, const tbl_table *tb, int64_t delta)
{
	tbl_value r[TB_NCOLS];
	rdb_buf k = { 0 }, scr = { 0 };
	void *v = NULL;
	size_t vn = 0;
	int64_t est;
	rdb_rc rc;

	if (tb->system || delta == 0)
		return RDB_OK;
	r[TB_NAME] = txt(tb->name);
	rc = tbl_sys_key(&k, SYS_TABLES, r);
	if (rc == RDB_OK)
		rc = kv_get(t, NULL, k.p, k.n, &v, &vn);
	if (rc == RDB_NOTFOUND)
		rc = rdb_err_set(E(t), RDB_ERROR, "no such table: '%s'",
				 tb->name);
	if (rc == RDB_OK &&
	    tbl_row_load(&tbl_sys[SYS_TABLES], k.p + 2, k.n - 2, v, vn, r,
			 &scr) != RDB_OK)
		rc = rdb_err_set(E(t), RDB_CORRUPT, "catalog: bad row of '%s' "
				 "in rdb_tables", tb->name);
	if (rc == RDB_OK) {
		est = r[TB_ROWS].cls == TBL_INT ? r[TB_ROWS].i : 0;
		est = next_estimate(est, delta);
		r[TB_ROWS] = num(est);
		if (est >= 0)
			rc = tbl_sys_put(t, SYS_TABLES, r);
	}
	rdb_free(v);
	rdb_buf_free(&k);
	rdb_buf_free(&scr);
	return rc == RDB_NOMEM ? tbl_nomem(t) : rc;
}
