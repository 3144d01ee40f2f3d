/*
 * pragma.c -- PRAGMA statements: page_size, cache_size, synchronous,
 * integrity_check (and quick_check), table_info, index_list, index_info.
 * Unknown pragmas are ignored, as SQLite does.  Design: docs/sql.md
 * ("PRAGMA").
 */
#include "exec.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "kv/kv.h"
#include "mem.h"

typedef enum pragma_id {
	PR_UNKNOWN, PR_PAGE_SIZE, PR_CACHE_SIZE, PR_SYNCHRONOUS,
	PR_INTEGRITY, PR_TABLE_INFO, PR_INDEX_LIST, PR_INDEX_INFO,
	PR_PAGE_COUNT, PR_FREELIST_COUNT
} pragma_id;

static const struct pragma_def {
	const char *name;
	pragma_id id;
	int ncols;
	const char *cols[6];
} pragmas[] = {
	{ "page_size", PR_PAGE_SIZE, 1, { "page_size" } },
	{ "cache_size", PR_CACHE_SIZE, 1, { "cache_size" } },
	{ "synchronous", PR_SYNCHRONOUS, 1, { "synchronous" } },
	{ "integrity_check", PR_INTEGRITY, 1, { "integrity_check" } },
	{ "quick_check", PR_INTEGRITY, 1, { "quick_check" } },
	{ "table_info", PR_TABLE_INFO, 6,
	  { "cid", "name", "type", "notnull", "dflt_value", "pk" } },
	{ "index_list", PR_INDEX_LIST, 5,
	  { "seq", "name", "unique", "origin", "partial" } },
	{ "index_info", PR_INDEX_INFO, 3, { "seqno", "cid", "name" } },
	{ "page_count", PR_PAGE_COUNT, 1, { "page_count" } },
	{ "freelist_count", PR_FREELIST_COUNT, 1, { "freelist_count" } },
};

static const struct pragma_def *find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(pragmas) / sizeof(pragmas[0]); i++)
		if (strcasecmp(pragmas[i].name, name) == 0)
			return &pragmas[i];
	return NULL;
}

rdb_rc pragma_compile(sql_prog *p)
{
	const struct pragma_def *d = find(p->ast->u.pragma.name);

	if (d == NULL)
		return RDB_OK;
	if (p->ast->u.pragma.value != NULL &&
	    (d->id == PR_SYNCHRONOUS || d->id == PR_PAGE_SIZE ||
	     d->id == PR_CACHE_SIZE))
		return RDB_OK;              /* setting: no result row */
	p->n_cols = d->ncols;
	p->names = (const char **)d->cols;
	return RDB_OK;
}

/* ---- result rows -------------------------------------------------------- */

static tbl_value vint(int64_t i)
{
	return (tbl_value){ .cls = TBL_INT, .i = i };
}

static tbl_value vtext(const char *s)
{
	if (s == NULL)
		return (tbl_value){ .cls = TBL_NULL };
	return (tbl_value){ .cls = TBL_TEXT, .p = s, .n = strlen(s) };
}

static rdb_rc add(sql_prog *p, const tbl_value *row)
{
	if (p->result.width == 0)
		mrows_init(&p->result, p->n_cols);
	return mrows_add(&p->result, row, p->cx.err);
}

/* ---- the pragmas ----------------------------------------------------------- */

static rdb_rc synchronous(sql_prog *p, const char *v)
{
	pager *pg = pager_txn_pager(p->t);
	static const char *const names[] = { "off", "normal", "full",
					     "extra" };
	int i, level = -1;
	tbl_value row;

	if (v == NULL) {
		row = vint((int)pager_get_sync(pg));
		return add(p, &row);
	}
	for (i = 0; i < 4; i++)
		if (strcasecmp(v, names[i]) == 0 ||
		    (v[0] == '0' + i && v[1] == '\0'))
			level = i > 2 ? 2 : i;
	if (level < 0)
		return rdb_err_set(p->cx.err, RDB_ERROR, "unknown synchronous "
				   "level '%s'", v);
	pager_set_sync(pg, (pager_sync)level);
	return RDB_OK;
}

static rdb_rc page_size(sql_prog *p, const char *v)
{
	uint32_t ps = pager_page_size(pager_txn_pager(p->t));
	tbl_value row = vint(ps);

	if (v == NULL)
		return add(p, &row);
	if (strtol(v, NULL, 10) != (long)ps)
		return rdb_err_set(p->cx.err, RDB_ERROR, "the page size is "
				   "chosen when the database is created (%u "
				   "here); use rdb -pagesize or rdb_open_v2",
				   ps);
	return RDB_OK;
}

/* PRAGMA cache_size [= N]: N > 0 pages, N < 0 KiB (SQLite's two forms);
 * the pool takes the new size when the statement's transaction (or the
 * explicit one it is in) ends (pager_set_cache).  Reads give pages. */
static rdb_rc cache_size(sql_prog *p, const char *v)
{
	pager *pg = pager_txn_pager(p->t);
	tbl_value row;
	long long n;
	char *end;

	if (v == NULL) {
		row = vint(pager_cache_size(pg));
		return add(p, &row);
	}
	errno = 0;
	n = strtoll(v, &end, 10);
	if (end == v || *end != '\0' || errno != 0)
		return rdb_err_set(p->cx.err, RDB_ERROR, "cache_size must be "
				   "an integer: '%s'", v);
	if (n < 0)
		n = n < -(1LL << 40) ? (1LL << 40) / pager_page_size(pg)
				     : -n * 1024 / pager_page_size(pg);
	pager_set_cache(pg, n == 0 ? 1 : n > UINT32_MAX ? UINT32_MAX
						    : (uint32_t)n);
	return RDB_OK;
}

static int mark_free(void *arg, rdb_pgno pgno, int is_trunk)
{
	unsigned char *seen = arg;

	(void)is_trunk;
	if (seen[pgno / 8] & (1u << (pgno % 8)))
		return 1;
	seen[pgno / 8] |= (unsigned char)(1u << (pgno % 8));
	return 0;
}

/* Every structure verified, every page used exactly once. */
static rdb_rc integrity(sql_prog *p)
{
	rdb_pgno n = pager_txn_page_count(p->t), pg;
	unsigned char *seen = rdb_calloc((size_t)n / 8 + 1, 1);
	tbl_value row;
	char msg[RDB_ERR_MSG_MAX];
	rdb_rc rc;

	if (seen == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	seen[0] |= 1;                 /* page 0: the header */
	rc = tbl_check(p->t, p->schema, seen);
	if (rc == RDB_OK)
		rc = kv_verify(p->t, seen);
	if (rc == RDB_OK && pager_freelist_walk(p->t, mark_free, seen) !=
			    RDB_OK)
		rc = p->cx.err->rc ? p->cx.err->rc : RDB_CORRUPT;
	for (pg = 1; rc == RDB_OK && pg < n; pg++)
		if (!(seen[pg / 8] & (1u << (pg % 8))))
			rc = rdb_err_set(p->cx.err, RDB_CORRUPT, "page %u is "
					 "never used", pg);
	rdb_free(seen);
	if (rc == RDB_NOMEM || rc == RDB_IOERR || rc == RDB_INTERRUPT)
		return rc;
	snprintf(msg, sizeof(msg), "%s", rc == RDB_OK ? "ok"
						       : p->cx.err->msg);
	row = vtext(msg);
	rdb_err_clear(p->cx.err);
	return add(p, &row);
}

static rdb_rc table_info(sql_prog *p, const char *name)
{
	const tbl_table *tb = name ? tbl_schema_table(p->schema, name) : NULL;
	tbl_value row[6];
	int i;
	rdb_rc rc = RDB_OK;

	for (i = 0; tb != NULL && i < tb->ncols && rc == RDB_OK; i++) {
		const tbl_column *c = &tb->cols[i];

		row[0] = vint(i);
		row[1] = vtext(c->name);
		row[2] = vtext(c->decl);
		row[3] = vint(c->notnull || c->pk);
		row[4] = vtext(c->dflt_sql);
		row[5] = vint(c->pk);
		rc = add(p, row);
	}
	return rc;
}

static rdb_rc index_list(sql_prog *p, const char *name)
{
	const tbl_table *tb = name ? tbl_schema_table(p->schema, name) : NULL;
	tbl_value row[5];
	char origin[2] = { 0, 0 };
	int i;
	rdb_rc rc = RDB_OK;

	for (i = 0; tb != NULL && i < tb->nidx && rc == RDB_OK; i++) {
		const tbl_index *ix = &tb->idx[tb->nidx - 1 - i];

		origin[0] = ix->origin;
		row[0] = vint(i);
		row[1] = vtext(ix->name);
		row[2] = vint(ix->unique);
		row[3] = vtext(origin);
		row[4] = vint(0);
		rc = add(p, row);
	}
	return rc;
}

static rdb_rc index_info(sql_prog *p, const char *name)
{
	const tbl_table *tb = NULL;
	const tbl_index *ix = name ? tbl_schema_index(p->schema, name, &tb)
				   : NULL;
	tbl_value row[3];
	int i;
	rdb_rc rc = RDB_OK;

	for (i = 0; ix != NULL && i < ix->ncols && rc == RDB_OK; i++) {
		row[0] = vint(i);
		row[1] = vint(ix->cols[i]);
		row[2] = vtext(tb->cols[ix->cols[i]].name);
		rc = add(p, row);
	}
	return rc;
}

rdb_rc pragma_run(sql_prog *p)
{
	const struct pragma_def *d = find(p->ast->u.pragma.name);
	const char *v = p->ast->u.pragma.value;

	if (d == NULL)
		return RDB_OK;
	switch (d->id) {
	case PR_PAGE_SIZE: return page_size(p, v);
	case PR_CACHE_SIZE: return cache_size(p, v);
	case PR_SYNCHRONOUS: return synchronous(p, v);
	case PR_INTEGRITY: return integrity(p);
	case PR_TABLE_INFO: return table_info(p, v);
	case PR_INDEX_LIST: return index_list(p, v);
	case PR_INDEX_INFO: return index_info(p, v);
	case PR_PAGE_COUNT: {
		tbl_value row = vint(pager_txn_page_count(p->t));

		return add(p, &row);
	}
	case PR_FREELIST_COUNT: {
		tbl_value row = vint(pager_txn_free_count(p->t));

		return add(p, &row);
	}
	default: return RDB_OK;
	}
}
