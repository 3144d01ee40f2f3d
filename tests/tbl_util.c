/* tbl_util.c -- see tbl_util.h. */
#include "tbl_util.h"
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "btree/btree.h"
#include "kv/kv.h"
#include "mem.h"
#include "test_util.h"

void tdb_open(tdb *d, uint32_t ps, int mem)
{
	rdb_rc rc;

	memset(d, 0, sizeof(*d));
	d->mem = mem;
	if (mem) {
		d->vfs = os_mem_new();
		ck_assert_ptr_nonnull(d->vfs);
		snprintf(d->path, sizeof(d->path), "tbl.db");
	} else {
		d->vfs = os_unix_vfs();
		tu_tmp_path(d->path, sizeof(d->path));
	}
	pager_opts_default(&d->opts);
	d->opts.page_size = ps;
	d->opts.sync = mem ? PAGER_SYNC_FULL : PAGER_SYNC_OFF;
	d->opts.create = 1;
	rc = pager_open(d->vfs, d->path, &d->opts, &d->err, &d->p);
	ck_assert_msg(rc == RDB_OK, "pager_open: %s", d->err.msg);
	ck_assert_int_eq(tbl_ctx_new(&d->cx), RDB_OK);
}

void tdb_reopen(tdb *d)
{
	rdb_rc rc;

	tdb_rollback(d);
	ck_assert_int_eq(pager_close(d->p), RDB_OK);
	d->p = NULL;
	rc = pager_open(d->vfs, d->path, &d->opts, &d->err, &d->p);
	ck_assert_msg(rc == RDB_OK, "pager_open: %s", d->err.msg);
	tbl_schema_unref(d->s);
	d->s = NULL;
}

void tdb_close(tdb *d)
{
	tdb_rollback(d);
	if (d->p != NULL)
		(void)pager_close(d->p);
	d->p = NULL;
	tbl_schema_unref(d->s);
	d->s = NULL;
	tbl_ctx_free(d->cx);
	d->cx = NULL;
	if (d->mem)
		os_mem_free(d->vfs);
	else
		tu_unlink_db(d->path);
	d->vfs = NULL;
}

rdb_rc tdb_begin(tdb *d, int write)
{
	tbl_schema *s = NULL;
	rdb_rc rc;

	ck_assert_ptr_null(d->t);
	rdb_err_clear(&d->terr);
	rc = pager_begin(d->p, write, &d->terr, &d->t);
	if (rc != RDB_OK)
		return rc;
	rc = tbl_schema_get(d->t, d->s, &s);
	if (rc != RDB_OK) {
		pager_rollback(d->t);
		d->t = NULL;
		return rc;
	}
	tbl_schema_unref(d->s);
	d->s = s;
	return RDB_OK;
}

rdb_rc tdb_commit(tdb *d)
{
	rdb_rc rc = pager_commit(d->t);

	d->t = NULL;
	return rc;
}

void tdb_rollback(tdb *d)
{
	if (d->t != NULL)
		pager_rollback(d->t);
	d->t = NULL;
}

void tdb_refresh(tdb *d)
{
	tbl_schema *s = NULL;
	rdb_rc rc = tbl_schema_get(d->t, d->s, &s);

	ck_assert_msg(rc == RDB_OK, "tbl_schema_get: %s", d->terr.msg);
	tbl_schema_unref(d->s);
	d->s = s;
}

const tbl_table *tdb_table(tdb *d, const char *name)
{
	const tbl_table *tb = tbl_schema_table(d->s, name);

	ck_assert_msg(tb != NULL, "no table '%s'", name);
	return tb;
}

tbl_column tcol(const char *name, const char *decl, int notnull, int unique)
{
	return (tbl_column){ .name = (char *)name, .decl = (char *)decl,
			     .notnull = (uint8_t)notnull,
			     .unique = (uint8_t)unique };
}

tbl_value tv_null(void) { return (tbl_value){ .cls = TBL_NULL }; }
tbl_value tv_int(int64_t i) { return (tbl_value){ .cls = TBL_INT, .i = i }; }
tbl_value tv_real(double r) { return (tbl_value){ .cls = TBL_REAL, .r = r }; }

tbl_value tv_text(const char *s)
{
	return (tbl_value){ .cls = TBL_TEXT, .p = s, .n = strlen(s) };
}

tbl_value tv_blob(const void *p, size_t n)
{
	return (tbl_value){ .cls = TBL_BLOB, .p = p, .n = n };
}

int tv_same(const tbl_value *a, const tbl_value *b)
{
	if (a->cls != b->cls)
		return 0;
	switch (a->cls) {
	case TBL_INT:
		return a->i == b->i;
	case TBL_REAL:
		return a->r == b->r;
	case TBL_TEXT:
	case TBL_BLOB:
		return a->n == b->n && (a->n == 0 ||
					memcmp(a->p, b->p, a->n) == 0);
	default:
		return 1;
	}
}

const char *tv_str(const tbl_value *v)
{
	static char bufs[4][80];
	static int k;
	char *b = bufs[k++ % 4];

	switch (v->cls) {
	case TBL_NULL:
		return "NULL";
	case TBL_INT:
		snprintf(b, 80, "%lld", (long long)v->i);
		break;
	case TBL_REAL:
		snprintf(b, 80, "%g", v->r);
		break;
	case TBL_TEXT:
		snprintf(b, 80, "'%.*s'", (int)(v->n > 60 ? 60 : v->n),
			 (const char *)v->p);
		break;
	default:
		snprintf(b, 80, "blob(%zu)", v->n);
	}
	return b;
}

static int mark(void *arg, rdb_pgno pgno, int is_trunk)
{
	unsigned char *seen = arg;

	(void)is_trunk;
	if (seen[pgno / 8] & (1u << (pgno % 8)))
		return 1;
	seen[pgno / 8] |= (unsigned char)(1u << (pgno % 8));
	return 0;
}

const char *tdb_census(tdb *d)
{
	static char msg[600];
	rdb_pgno n = pager_txn_page_count(d->t), i;
	unsigned char *seen = calloc(n / 8 + 1, 1);
	rdb_rc rc;

	ck_assert_ptr_nonnull(seen);
	msg[0] = '\0';
	rc = pager_freelist_walk(d->t, mark, seen);
	if (rc == RDB_OK)
		rc = kv_verify(d->t, seen);
	if (rc == RDB_OK)
		rc = tbl_check(d->t, d->s, seen);
	if (rc != RDB_OK)
		snprintf(msg, sizeof(msg), "check: rc %d: %s", rc,
			 d->terr.msg);
	for (i = 1; rc == RDB_OK && i < n; i++)
		if (!(seen[i / 8] & (1u << (i % 8)))) {
			snprintf(msg, sizeof(msg), "page %u of %u is neither "
				 "free nor used", i, n);
			break;
		}
	free(seen);
	return msg[0] ? msg : NULL;
}

/* ---- dumps ---------------------------------------------------------------- */

typedef struct sbuf {
	char *p;
	size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const void *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void sb_fmt(sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_fmt(sbuf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	sb_add(b, tmp, (size_t)n);
}

static void sb_value(sbuf *b, const tbl_value *v)
{
	size_t i;

	switch (v->cls) {
	case TBL_NULL:
		sb_add(b, "N", 1);
		break;
	case TBL_INT:
		sb_fmt(b, "I%lld", (long long)v->i);
		break;
	case TBL_REAL:
		sb_fmt(b, "R%.17g", v->r);
		break;
	default:
		sb_fmt(b, "%c%zu:", v->cls == TBL_TEXT ? 'T' : 'B', v->n);
		for (i = 0; i < v->n; i++)
			sb_fmt(b, "%02x", ((const unsigned char *)v->p)[i]);
	}
	sb_add(b, "|", 1);
}

static rdb_rc dump_rows(tdb *d, const tbl_table *tb, sbuf *b)
{
	tbl_cursor *c = NULL;
	const tbl_value *row;
	rdb_rc rc = tbl_cursor_open(d->t, tb, NULL, &c);
	int i;

	sb_fmt(b, "table %s\n", tb->name);
	while (rc == RDB_OK && (rc = tbl_cursor_next(c)) == RDB_ROW) {
		if ((rc = tbl_cursor_row(c, &row)) != RDB_OK)
			break;
		for (i = 0; i < tbl_nvals(tb); i++)
			sb_value(b, &row[i]);
		sb_add(b, "\n", 1);
	}
	tbl_cursor_close(c);
	return rc == RDB_DONE ? RDB_OK : rc;
}

char *tdb_dump_table(tdb *d, const tbl_table *tb, rdb_rc *rc)
{
	sbuf b = { 0 };

	sb_add(&b, "", 0);
	*rc = dump_rows(d, tb, &b);
	if (*rc == RDB_OK)
		return b.p;
	free(b.p);
	return NULL;
}

char *tdb_dump(tdb *d, rdb_rc *rc)
{
	sbuf b = { 0 };
	int i;

	sb_add(&b, "", 0);
	*rc = RDB_OK;
	for (i = 0; i < tbl_schema_count(d->s) && *rc == RDB_OK; i++)
		*rc = dump_rows(d, tbl_schema_at(d->s, i), &b);
	if (*rc == RDB_OK)
		return b.p;
	free(b.p);
	return NULL;
}
