/*
 * schema.c -- schemas: immutable, reference-counted snapshots of the
 * catalog, read from the system tables through ordinary cursors (the
 * system tables' own schemas are compiled in: systab.c).  Design:
 * src/table/README.md ("The catalog", "Schemas").
 */
#include "table/tbl_store.h"
#include <assert.h>
#include <ctype.h>
#include <string.h>
#include "format.h"
#include "mem.h"

/* The largest catalog version this process has written to any file. */
static atomic_uint_fast64_t last_version;

rdb_rc tbl_version_bump(pager_txn *t)
{
	uint64_t cur = pager_anchor(t, FMT_ANCHOR_CATALOG), next;
	uint_fast64_t seen = atomic_load(&last_version);

	/* A rolled-back DDL may have handed out cur + 1 for other contents:
	 * never reuse a number this process used. */
	do {
		next = (cur > seen ? cur : seen) + 1;
	} while (!atomic_compare_exchange_weak(&last_version, &seen, next));
	return pager_set_anchor(t, FMT_ANCHOR_CATALOG, next);
}

rdb_rc tbl_schema_current(pager_txn *t, const tbl_schema *s)
{
	uint64_t v = pager_anchor(t, FMT_ANCHOR_CATALOG);

	if (s != NULL && s->version == v)
		return RDB_OK;
	return rdb_err_set(pager_txn_err(t), RDB_MISUSE, "schema is out of "
			   "date (version %llu, catalog at %llu)",
			   s ? (unsigned long long)s->version : 0ull,
			   (unsigned long long)v);
}

/* ---- freeing ---------------------------------------------------------------- */

void tbl_index_clear(tbl_index *ix)
{
	if (ix == NULL)
		return;
	rdb_free(ix->name);
	rdb_free(ix->sql);
	rdb_free(ix->cols);
	rdb_free(ix->desc);
	memset(ix, 0, sizeof(*ix));
}

void tbl_table_clear(tbl_table *tb)
{
	tbl_column *col;
	int i;

	if (tb == NULL || tb->system)
		return;
	for (i = 0; tb->cols != NULL && i < tb->ncols; i++) {
		col = &tb->cols[i];
		rdb_free(col->name);
		rdb_free(col->decl);
		rdb_free(col->dflt_sql);
		if (col->dflt.cls == TBL_TEXT || col->dflt.cls == TBL_BLOB)
			rdb_free((void *)col->dflt.p);
	}
	for (i = 0; tb->idx != NULL && i < tb->nidx; i++)
		tbl_index_clear(&tb->idx[i]);
	rdb_free(tb->idx);
	rdb_free(tb->cols);
	rdb_free(tb->pk);
	rdb_free(tb->name);
	rdb_free(tb->sql);
	memset(tb, 0, sizeof(*tb));
}

/* A schema's user tables share their memory with the schemas derived
 * from it (tbl_schema_derive): the last one to go frees it. */
struct tbl_share {
	atomic_long refs;
};

static void release_table(tbl_table *tb)
{
	if (tb->share != NULL && atomic_fetch_sub(&tb->share->refs, 1) > 1)
		return;
	rdb_free(tb->share);
	tbl_table_clear(tb);
}

static void schema_free(tbl_schema *s)
{
	int i;

	for (i = 0; s->tables != NULL && i < s->n; i++)
		release_table(&s->tables[i]);
	rdb_free(s->tables);
	tbl_schema_free_objects(s);
	rdb_free(s);
}

void tbl_schema_unref(tbl_schema *s)
{
	if (s != NULL && atomic_fetch_sub(&s->refs, 1) == 1)
		schema_free(s);
}

/* ---- reading the catalog ------------------------------------------------------ */

typedef struct loader {
	pager_txn *t;
	tbl_schema *s;
	int cap;
	tbl_cursor *cols, *idx, *icols;    /* owned */
} loader;

static rdb_rc bad(loader *ld, const char *what, const char *name)
{
	return rdb_err_set(pager_txn_err(ld->t), RDB_CORRUPT,
			   "catalog: %s of '%s'", what, name);
}

static int is_text(const tbl_value *v) { return v->cls == TBL_TEXT; }
static int is_int(const tbl_value *v) { return v->cls == TBL_INT; }

/* Copy a text or blob value's bytes into owned memory (*v then owns). */
static rdb_rc own_value(loader *ld, tbl_value *v)
{
	char *p;

	if (v->cls != TBL_TEXT && v->cls != TBL_BLOB)
		return RDB_OK;
	if ((p = tbl_strndup(v->p, v->n)) == NULL)
		return tbl_nomem(ld->t);
	v->p = p;
	return RDB_OK;
}

/* Restrict cursor c to the rows whose first key column is text name. */
static rdb_rc range_on(tbl_cursor *c, const char *name)
{
	tbl_value v = { .cls = TBL_TEXT, .p = name, .n = strlen(name) };
	tbl_bound b = { &v, 1, 1 };

	return tbl_cursor_range(c, &b, &b, 0);
}

static rdb_rc add_column(loader *ld, tbl_table *tb, const tbl_value *r,
			 int *cap)
{
	tbl_column *col, *nc;
	rdb_err *e = pager_txn_err(ld->t);
	tbl_value dflt;
	rdb_rc rc;

	if (!is_int(&r[CO_CID]) || r[CO_CID].i != tb->ncols ||
	    !is_text(&r[CO_NAME]) || !is_text(&r[CO_TYPE]) ||
	    !is_int(&r[CO_PK]) || r[CO_PK].i < 0 ||
	    r[CO_PK].i > TBL_MAX_KEY_COLS || tb->ncols >= TBL_MAX_COLUMNS)
		return bad(ld, "bad column row", tb->name);
	if (tb->ncols == *cap) {
		*cap = *cap ? 2 * *cap : 8;
		nc = rdb_realloc(tb->cols, (size_t)*cap * sizeof(*nc));
		if (nc == NULL)
			return tbl_nomem(ld->t);
		tb->cols = nc;
	}
	col = &tb->cols[tb->ncols++];
	memset(col, 0, sizeof(*col));
	col->name = tbl_strndup(r[CO_NAME].p, r[CO_NAME].n);
	col->decl = tbl_strndup(r[CO_TYPE].p, r[CO_TYPE].n);
	if (r[CO_DFLT].cls == TBL_TEXT)
		col->dflt_sql = tbl_strndup(r[CO_DFLT].p, r[CO_DFLT].n);
	if (col->name == NULL || col->decl == NULL ||
	    (r[CO_DFLT].cls == TBL_TEXT && col->dflt_sql == NULL))
		return tbl_nomem(ld->t);
	if (tbl_type_parse(col->decl, &col->type, &col->maxlen, e) != RDB_OK)
		return bad(ld, "bad column type", tb->name);
	col->notnull = r[CO_NOTNULL].i != 0;
	col->unique = r[CO_UNIQUE].i != 0;
	col->pk = (uint16_t)r[CO_PK].i;
	col->pk_desc = r[CO_PKDESC].i != 0;
	col->has_dflt = col->dflt_sql != NULL;
	dflt = r[CO_DVALUE];
	if ((rc = own_value(ld, &dflt)) == RDB_OK)
		col->dflt = dflt;
	return rc;
}

/* The primary key from the columns' 1-based positions. */
static rdb_rc make_pk(loader *ld, tbl_table *tb)
{
	int i, n = 0;

	for (i = 0; i < tb->ncols; i++)
		if (tb->cols[i].pk > n)
			n = tb->cols[i].pk;
	if (n == 0)
		return RDB_OK;
	if ((tb->pk = rdb_calloc((size_t)n, sizeof(uint16_t))) == NULL)
		return tbl_nomem(ld->t);
	for (i = 0; i < n; i++)
		tb->pk[i] = UINT16_MAX;
	for (i = 0; i < tb->ncols; i++)
		if (tb->cols[i].pk > 0) {
			if (tb->pk[tb->cols[i].pk - 1] != UINT16_MAX)
				return bad(ld, "bad primary key", tb->name);
			tb->pk[tb->cols[i].pk - 1] = (uint16_t)i;
		}
	for (i = 0; i < n; i++)
		if (tb->pk[i] == UINT16_MAX)
			return bad(ld, "bad primary key", tb->name);
	tb->npk = (uint16_t)n;
	tb->ipk = n == 1 && tb->cols[tb->pk[0]].type == TBL_TY_INTEGER;
	return RDB_OK;
}

static rdb_rc load_columns(loader *ld, tbl_table *tb)
{
	const tbl_value *r;
	int cap = 0;
	rdb_rc rc;

	rc = range_on(ld->cols, tb->name);
	while (rc == RDB_OK && (rc = tbl_cursor_next(ld->cols)) == RDB_ROW) {
		rc = tbl_cursor_row(ld->cols, &r);
		if (rc == RDB_OK)
			rc = add_column(ld, tb, r, &cap);
	}
	if (rc != RDB_DONE)
		return rc;
	if (tb->ncols == 0)
		return bad(ld, "no columns", tb->name);
	return make_pk(ld, tb);
}

static rdb_rc load_index_columns(loader *ld, tbl_table *tb, tbl_index *ix)
{
	const tbl_value *r;
	int cap = 0;
	void *p;
	rdb_rc rc;

	rc = range_on(ld->icols, ix->name);
	while (rc == RDB_OK && (rc = tbl_cursor_next(ld->icols)) == RDB_ROW) {
		if ((rc = tbl_cursor_row(ld->icols, &r)) != RDB_OK)
			break;
		if (!is_int(&r[IC_SEQNO]) || r[IC_SEQNO].i != ix->ncols ||
		    !is_int(&r[IC_CID]) || r[IC_CID].i < 0 ||
		    r[IC_CID].i >= tb->ncols || ix->ncols >= TBL_MAX_KEY_COLS)
			return bad(ld, "bad index column", ix->name);
		if (ix->ncols == cap) {
			cap = cap ? 2 * cap : 4;
			if ((p = rdb_realloc(ix->cols, (size_t)cap * 2)) == NULL)
				return tbl_nomem(ld->t);
			ix->cols = p;
			if ((p = rdb_realloc(ix->desc, (size_t)cap)) == NULL)
				return tbl_nomem(ld->t);
			ix->desc = p;
		}
		ix->cols[ix->ncols] = (uint16_t)r[IC_CID].i;
		ix->desc[ix->ncols++] = r[IC_DESC].i != 0;
	}
	if (rc != RDB_DONE)
		return rc;
	return ix->ncols == 0 ? bad(ld, "no columns", ix->name) : RDB_OK;
}

static rdb_rc add_index(loader *ld, tbl_table *tb, const tbl_value *r,
			int *cap)
{
	tbl_index *ix, *ni;

	if (!is_text(&r[IX_NAME]) || !is_int(&r[IX_ROOT]) ||
	    r[IX_ROOT].i <= 0 || r[IX_ROOT].i > UINT32_MAX ||
	    !is_text(&r[IX_ORIGIN]) || r[IX_ORIGIN].n != 1)
		return bad(ld, "bad index row", tb->name);
	if (tb->nidx == *cap) {
		*cap = *cap ? 2 * *cap : 4;
		ni = rdb_realloc(tb->idx, (size_t)*cap * sizeof(*ni));
		if (ni == NULL)
			return tbl_nomem(ld->t);
		tb->idx = ni;
	}
	ix = &tb->idx[tb->nidx++];
	memset(ix, 0, sizeof(*ix));
	ix->name = tbl_strndup(r[IX_NAME].p, r[IX_NAME].n);
	if (r[IX_SQL].cls == TBL_TEXT)
		ix->sql = tbl_strndup(r[IX_SQL].p, r[IX_SQL].n);
	if (ix->name == NULL || (r[IX_SQL].cls == TBL_TEXT && !ix->sql))
		return tbl_nomem(ld->t);
	ix->root = (rdb_pgno)r[IX_ROOT].i;
	ix->unique = r[IX_UNIQUE].i != 0;
	ix->origin = *(const char *)r[IX_ORIGIN].p;
	return load_index_columns(ld, tb, ix);
}

static rdb_rc load_indexes(loader *ld, tbl_table *tb)
{
	const tbl_value *r;
	int cap = 0;
	rdb_rc rc;

	rc = range_on(ld->idx, tb->name);
	while (rc == RDB_OK && (rc = tbl_cursor_next(ld->idx)) == RDB_ROW) {
		rc = tbl_cursor_row(ld->idx, &r);
		if (rc == RDB_OK)
			rc = add_index(ld, tb, r, &cap);
	}
	return rc == RDB_DONE ? RDB_OK : rc;
}

/* Append a user table for an rdb_tables row, with its columns and
 * indexes. */
static rdb_rc add_table(loader *ld, const tbl_value *r)
{
	tbl_schema *s = ld->s;
	tbl_table *tb, *nt;
	rdb_rc rc;

	if (!is_text(&r[TB_NAME]) || !is_int(&r[TB_ROOT]) ||
	    r[TB_ROOT].i <= 0 || r[TB_ROOT].i > UINT32_MAX)
		return rdb_err_set(pager_txn_err(ld->t), RDB_CORRUPT,
				   "catalog: bad row in rdb_tables");
	if (s->n == ld->cap) {
		ld->cap *= 2;
		nt = rdb_realloc(s->tables, (size_t)ld->cap * sizeof(*nt));
		if (nt == NULL)
			return tbl_nomem(ld->t);
		s->tables = nt;
	}
	tb = &s->tables[s->n++];
	memset(tb, 0, sizeof(*tb));
	if ((tb->share = rdb_malloc(sizeof(*tb->share))) == NULL)
		return tbl_nomem(ld->t);
	atomic_init(&tb->share->refs, 1);
	tb->name = tbl_strndup(r[TB_NAME].p, r[TB_NAME].n);
	if (r[TB_SQL].cls == TBL_TEXT)
		tb->sql = tbl_strndup(r[TB_SQL].p, r[TB_SQL].n);
	if (tb->name == NULL || (r[TB_SQL].cls == TBL_TEXT && !tb->sql))
		return tbl_nomem(ld->t);
	tb->root = (rdb_pgno)r[TB_ROOT].i;
	tb->rows = is_int(&r[TB_ROWS]) && r[TB_ROWS].i > 0
		? (uint64_t)r[TB_ROWS].i : 0;
	rc = load_columns(ld, tb);
	return rc == RDB_OK ? load_indexes(ld, tb) : rc;
}

/* Is this rdb_tables row a user table ('table': 1), a view ('view': 2),
 * or a system one (0)? */
static rdb_rc row_kind(loader *ld, const tbl_value *r, int *user)
{
	const tbl_value *ty = &r[TB_TYPE];

	*user = is_text(ty) && ty->n == 5 && memcmp(ty->p, "table", 5) == 0;
	if (!*user && is_text(ty) && ty->n == 4 &&
	    memcmp(ty->p, "view", 4) == 0)
		*user = 2;
	if (*user || (is_text(ty) && ty->n == 6 &&
		      memcmp(ty->p, "system", 6) == 0))
		return RDB_OK;
	return rdb_err_set(pager_txn_err(ld->t), RDB_CORRUPT,
			   "catalog: bad type in rdb_tables");
}

static rdb_rc load_tables(loader *ld)
{
	tbl_cursor *c = NULL;
	const tbl_value *r;
	int user;
	rdb_rc rc;

	rc = tbl_cursor_open(ld->t, &tbl_sys[SYS_TABLES], NULL, &c);
	while (rc == RDB_OK && (rc = tbl_cursor_next(c)) == RDB_ROW) {
		rc = tbl_cursor_row(c, &r);
		if (rc == RDB_OK)
			rc = row_kind(ld, r, &user);
		if (rc == RDB_OK && user == 1)
			rc = add_table(ld, r);
		else if (rc == RDB_OK && user == 2)
			rc = tbl_schema_add_view(ld->t, ld->s, r);
	}
	tbl_cursor_close(c);
	return rc == RDB_DONE ? RDB_OK : rc;
}

/* A loader with a new schema (the system tables, room for cap tables in
 * all) and its cursors over the catalog's column and index tables. */
static rdb_rc loader_open(loader *ld, pager_txn *t, uint64_t version,
			  int cap)
{
	tbl_schema *s;
	rdb_rc rc;
	int i;

	memset(ld, 0, sizeof(*ld));
	ld->t = t;
	ld->cap = cap;
	if ((s = rdb_calloc(1, sizeof(*s))) == NULL ||
	    (s->tables = rdb_calloc((size_t)cap, sizeof(tbl_table))) == NULL) {
		rdb_free(s);
		return tbl_nomem(t);
	}
	atomic_init(&s->refs, 1);
	s->version = version;
	for (i = 0; i < TBL_NSYS; i++)
		s->tables[s->n++] = tbl_sys[i];
	ld->s = s;
	/* On the static definitions: s->tables moves as it grows. */
	rc = tbl_cursor_open(t, &tbl_sys[SYS_COLUMNS], NULL, &ld->cols);
	if (rc == RDB_OK)
		rc = tbl_cursor_open(t, &tbl_sys[SYS_INDEXES], NULL, &ld->idx);
	if (rc == RDB_OK)
		rc = tbl_cursor_open(t, &tbl_sys[SYS_INDEX_COLUMNS], NULL,
				     &ld->icols);
	return rc;
}

/* Close ld's cursors; on RDB_OK hand its schema to *out, else free it. */
static rdb_rc loader_close(loader *ld, rdb_rc rc, tbl_schema **out)
{
	tbl_cursor_close(ld->cols);
	tbl_cursor_close(ld->idx);
	tbl_cursor_close(ld->icols);
	if (rc != RDB_OK) {
		if (ld->s != NULL)
			schema_free(ld->s);
		return rc;
	}
	*out = ld->s;
	return RDB_OK;
}

static rdb_rc load(pager_txn *t, uint64_t version, tbl_schema **out)
{
	loader ld;
	rdb_rc rc;

	rc = loader_open(&ld, t, version, 8);
	if (rc == RDB_OK && version != 0)
		rc = load_tables(&ld);
	if (rc == RDB_OK && version != 0)
		rc = tbl_schema_load_triggers(t, ld.s);
	return loader_close(&ld, rc, out);
}

rdb_rc tbl_schema_get(pager_txn *t, tbl_schema *cached, tbl_schema **out)
{
	uint64_t v;

	assert(t != NULL && out != NULL);
	*out = NULL;
	v = pager_anchor(t, FMT_ANCHOR_CATALOG);
	if (cached != NULL && cached->version == v) {
		atomic_fetch_add(&cached->refs, 1);
		*out = cached;
		return RDB_OK;
	}
	return load(t, v, out);
}

/* ---- deriving a schema after a DDL ------------------------------------------ */

/* Does key k (a name, not NUL-terminated) spell name: exactly, or ASCII
 * case-insensitively (ci)? */
static int key_is(const tbl_value *k, const char *name, int ci)
{
	const unsigned char *p = k->p;
	size_t i;

	if (strlen(name) != k->n)
		return 0;
	for (i = 0; i < k->n; i++)
		if (ci ? tolower(p[i]) != tolower((unsigned char)name[i])
		       : p[i] != (unsigned char)name[i])
			return 0;
	return 1;
}

static int named(const char *name, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (tbl_name_eq(name, names[i]))
			return 1;
	return 0;
}

static int key_named(const tbl_value *k, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (key_is(k, names[i], 1))
			return 1;
	return 0;
}

typedef struct deriver {
	loader ld;                /* ld.s: the schema being built */
	const tbl_schema *base;
	const char *const *names;
	int nnames;
	int next;                 /* base->tables[next]: the next to match */
	int views;                /* base's views met in rdb_tables */
} deriver;

/* Room for one more table in the schema being built. */
static rdb_rc room(loader *ld)
{
	tbl_table *nt;

	if (ld->s->n < ld->cap)
		return RDB_OK;
	nt = rdb_realloc(ld->s->tables, (size_t)ld->cap * 2 * sizeof(*nt));
	if (nt == NULL)
		return tbl_nomem(ld->t);
	ld->s->tables = nt;
	ld->cap *= 2;
	return RDB_OK;
}

/* One key of rdb_tables, in key order (c on its row).  RDB_NOTFOUND if
 * the catalog does not match base and the names. */
static rdb_rc derive_one(deriver *d, tbl_cursor *c, const tbl_value *k)
{
	const tbl_schema *b = d->base;
	const tbl_value *r;
	const tbl_object *v;
	rdb_rc rc;
	int i, user;

	if (key_named(k, d->names, d->nnames)) {
		if ((rc = tbl_cursor_row(c, &r)) != RDB_OK ||
		    (rc = row_kind(&d->ld, r, &user)) != RDB_OK)
			return rc;
		if (user == 2)
			return RDB_NOTFOUND;     /* views must not change */
		return user == 1 ? add_table(&d->ld, r) : RDB_OK;
	}
	while (d->next < b->n && named(b->tables[d->next].name, d->names,
					d->nnames))
		d->next++;
	if (d->next < b->n && key_is(k, b->tables[d->next].name, 0) &&
	    b->tables[d->next].share != NULL) {
		if ((rc = room(&d->ld)) != RDB_OK)
			return rc;
		d->ld.s->tables[d->ld.s->n++] = b->tables[d->next];
		atomic_fetch_add(&b->tables[d->next++].share->refs, 1);
		return RDB_OK;
	}
	for (i = 0; i < TBL_NSYS; i++)
		if (key_is(k, tbl_sys[i].name, 0))
			return RDB_OK;
	for (i = 0; i < b->nviews; i++) {
		v = &b->views[i];
		if (key_is(k, v->name, 0)) {
			d->views++;
			return RDB_OK;
		}
	}
	return RDB_NOTFOUND;
}

static rdb_rc derive_tables(deriver *d)
{
	tbl_cursor *c = NULL;
	const tbl_value *k;
	int nk;
	rdb_rc rc;

	rc = tbl_cursor_open(d->ld.t, &tbl_sys[SYS_TABLES], NULL, &c);
	while (rc == RDB_OK && (rc = tbl_cursor_next(c)) == RDB_ROW) {
		rc = tbl_cursor_key(c, &k, &nk);
		if (rc == RDB_OK && (nk != 1 || k[0].cls != TBL_TEXT))
			rc = rdb_err_set(pager_txn_err(d->ld.t), RDB_CORRUPT,
					 "catalog: bad key in rdb_tables");
		if (rc == RDB_OK)
			rc = derive_one(d, c, &k[0]);
	}
	tbl_cursor_close(c);
	if (rc != RDB_DONE)
		return rc;
	while (d->next < d->base->n && named(d->base->tables[d->next].name,
					      d->names, d->nnames))
		d->next++;
	if (d->next != d->base->n || d->views != d->base->nviews)
		return RDB_NOTFOUND;
	return RDB_OK;
}

static rdb_rc derive(pager_txn *t, const tbl_schema *base, uint64_t version,
		     const char *const *names, int n, tbl_schema **out)
{
	deriver d;
	rdb_rc rc;

	memset(&d, 0, sizeof(d));
	d.base = base;
	d.names = names;
	d.nnames = n;
	d.next = TBL_NSYS;
	rc = loader_open(&d.ld, t, version, base->n + n + 1);
	if (rc == RDB_OK)
		rc = derive_tables(&d);
	if (rc == RDB_OK)
		rc = tbl_schema_copy_views(t, d.ld.s, base);
	if (rc == RDB_OK)
		rc = tbl_schema_load_triggers(t, d.ld.s);
	return loader_close(&d.ld, rc, out);
}

rdb_rc tbl_schema_derive(pager_txn *t, tbl_schema *base,
			 const char *const *names, int n, tbl_schema **out)
{
	uint64_t v;
	rdb_rc rc;

	assert(t != NULL && out != NULL && (n == 0 || names != NULL));
	*out = NULL;
	v = pager_anchor(t, FMT_ANCHOR_CATALOG);
	if (base == NULL || base->version == v || v == 0)
		return tbl_schema_get(t, base, out);
	rc = derive(t, base, v, names, n, out);
	return rc == RDB_NOTFOUND ? load(t, v, out) : rc;
}

/* ---- lookups ------------------------------------------------------------------- */

uint64_t tbl_schema_version(const tbl_schema *s)
{
	return s->version;
}

const tbl_table *tbl_schema_table(const tbl_schema *s, const char *name)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (tbl_name_eq(s->tables[i].name, name))
			return &s->tables[i];
	return NULL;
}

const tbl_index *tbl_schema_index(const tbl_schema *s, const char *name,
				  const tbl_table **owner)
{
	int i, j;

	for (i = 0; i < s->n; i++)
		for (j = 0; j < s->tables[i].nidx; j++)
			if (tbl_name_eq(s->tables[i].idx[j].name, name)) {
				if (owner != NULL)
					*owner = &s->tables[i];
				return &s->tables[i].idx[j];
			}
	if (owner != NULL)
		*owner = NULL;
	return NULL;
}

int tbl_schema_count(const tbl_schema *s)
{
	return s->n;
}

const tbl_table *tbl_schema_at(const tbl_schema *s, int i)
{
	return i >= 0 && i < s->n ? &s->tables[i] : NULL;
}
