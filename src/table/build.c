/*
 * build.c -- filling an index from its table's rows (CREATE INDEX,
 * REINDEX): the entries are gathered in memory, sorted, checked for
 * uniqueness between neighbours and bulk-loaded bottom-up (bt_load_*),
 * instead of one descent per row.  Design: src/table/README.md ("Index
 * builds").
 */
#include "table/tbl_store.h"
#include <assert.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "mem.h"

#define E(t) pager_txn_err(t)

/* Entry bytes gathered before a run is sorted and written. */
#define BUILD_BUDGET_DEFAULT ((size_t)256 << 20)
static atomic_size_t build_budget = BUILD_BUDGET_DEFAULT;

/* Leaves of a bulk-loaded index are filled to this percentage of a page
 * (PostgreSQL's default B-tree fill factor), so that later inserts find
 * room: packed full, nearly every random insert split a leaf.  README
 * "Index builds". */
#define BUILD_FILL_PCT 90

void tbl_set_build_budget(size_t bytes)
{
	atomic_store(&build_budget, bytes > 0 ? bytes : BUILD_BUDGET_DEFAULT);
}

/* An entry in the run: | u32 length | u32 prefix length, top bit set if
 * an index column is NULL | bytes |.  A ref orders it: pre holds 8 of its
 * bytes (after the prefix every entry of the run shares) big-endian. */
#define ENT_HDR 8u
#define ENT_NULL 0x80000000u

typedef struct ref {
	uint64_t pre;
	union {
		size_t off;       /* while the run grows: offset in it */
		const unsigned char *e;   /* once sorted: borrowed from it */
	} u;
} ref;

typedef struct builder {
	pager_txn *t;
	const tbl_table *tb;
	const tbl_index *ix;
	tbl_layout l;
	size_t max;               /* longest entry */
	size_t budget;
	tbl_value *row;           /* owned: tbl_nvals values */
	rdb_buf key, val, scr;    /* the row being read */
	rdb_buf run;              /* entries of the current run */
	ref *refs;                /* owned */
	size_t nref, cref;
	int runs;                 /* runs written so far */
	rdb_buf other;            /* a conflicting row's key */
} builder;

static uint32_t ent_len(const unsigned char *e)
{
	uint32_t n;

	memcpy(&n, e, 4);
	return n;
}

static uint32_t ent_plen(const unsigned char *e)
{
	uint32_t n;

	memcpy(&n, e + 4, 4);
	return n;
}

/* memcmp order, the shorter first when one is a prefix of the other. */
static int key_cmp(const unsigned char *a, size_t na, const unsigned char *b,
		   size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);

	if (c != 0)
		return c;
	return na < nb ? -1 : na > nb;
}

static int ref_cmp(const void *pa, const void *pb)
{
	const ref *a = pa, *b = pb;

	if (a->pre != b->pre)
		return a->pre < b->pre ? -1 : 1;
	return key_cmp(a->u.e + ENT_HDR, ent_len(a->u.e), b->u.e + ENT_HDR,
		       ent_len(b->u.e));
}

/* ---- gathering ---------------------------------------------------------------- */

static rdb_rc add_ref(builder *b, size_t off)
{
	if (b->nref == b->cref) {
		size_t n = b->cref ? 2 * b->cref : 1024;
		ref *r = rdb_realloc(b->refs, n * sizeof(ref));

		if (r == NULL)
			return RDB_NOMEM;
		b->refs = r;
		b->cref = n;
	}
	/* The run may still move: keep the offset until it is sorted. */
	b->refs[b->nref++].u.off = off;
	return RDB_OK;
}

/* Append the entry of the row under cursor c to the run. */
static rdb_rc add_row(builder *b, bt_cursor *c)
{
	size_t kn, vn, off = b->run.n, plen;
	const void *k, *v;
	uint32_t hdr[2];
	rdb_rc rc;

	if ((rc = bt_key(c, &k, &kn)) != RDB_OK ||
	    (rc = bt_value(c, &v, &vn)) != RDB_OK)
		return rc;
	rdb_buf_reset(&b->key);
	rdb_buf_reset(&b->val);
	if (rdb_buf_append(&b->key, k, kn) || rdb_buf_append(&b->val, v, vn))
		return RDB_NOMEM;
	rc = tbl_row_load(b->tb, b->key.p, b->key.n, b->val.p, b->val.n,
			  b->row, &b->scr);
	if (rc == RDB_CORRUPT)
		return rdb_err_set(E(b->t), RDB_CORRUPT, "table '%s': "
				   "malformed row", b->tb->name);
	if (rc == RDB_OK)
		rc = rdb_buf_append(&b->run, hdr, ENT_HDR);
	if (rc == RDB_OK)
		rc = tbl_layout_encode(&b->l, 0, b->l.nix, b->row, &b->run);
	plen = b->run.n - off - ENT_HDR;
	if (rc == RDB_OK)
		rc = rdb_buf_append(&b->run, b->key.p, b->key.n);
	if (rc != RDB_OK)
		return rc;
	hdr[0] = (uint32_t)(b->run.n - off - ENT_HDR);
	hdr[1] = (uint32_t)plen | (tbl_ix_has_null(b->ix, b->row) ? ENT_NULL
								  : 0);
	if (hdr[0] > b->max)
		return rdb_err_set(E(b->t), RDB_TOOBIG, "entry of %u bytes is "
				   "too long for index '%s' (maximum %zu)",
				   hdr[0], b->ix->name, b->max);
	memcpy(b->run.p + off, hdr, ENT_HDR);
	return add_ref(b, off);
}

/* ---- a run: sort, check, write --------------------------------------------------- */

/* Turn offsets into pointers, find the prefix every entry shares and sort
 * by the 8 bytes after it, then by the whole entry. */
static void run_sort(builder *b)
{
	const unsigned char *first;
	size_t i, skip, j, n;
	uint64_t pre;

	for (i = 0; i < b->nref; i++)
		b->refs[i].u.e = b->run.p + b->refs[i].u.off;
	first = b->refs[0].u.e + ENT_HDR;
	skip = ent_len(b->refs[0].u.e);
	for (i = 1; i < b->nref && skip > 0; i++) {
		const unsigned char *e = b->refs[i].u.e + ENT_HDR;

		n = ent_len(b->refs[i].u.e);
		for (j = 0; j < skip && j < n && e[j] == first[j]; j++)
			;
		skip = j;
	}
	for (i = 0; i < b->nref; i++) {
		const unsigned char *e = b->refs[i].u.e + ENT_HDR;

		n = ent_len(b->refs[i].u.e);
		for (pre = 0, j = skip; j < skip + 8; j++)
			pre = pre << 8 | (j < n ? e[j] : 0);
		b->refs[i].pre = pre;
	}
	qsort(b->refs, b->nref, sizeof(ref), ref_cmp);
}

/* A unique index: equal index columns (none NULL) in neighbours. */
static rdb_rc run_check(builder *b)
{
	const unsigned char *x, *y;
	size_t i;

	if (!b->ix->unique)
		return RDB_OK;
	for (i = 1; i < b->nref; i++) {
		x = b->refs[i - 1].u.e;
		y = b->refs[i].u.e;
		if ((ent_plen(y) & ENT_NULL) || ent_plen(x) != ent_plen(y) ||
		    memcmp(x + ENT_HDR, y + ENT_HDR, ent_plen(y)) != 0)
			continue;
		return tbl_unique_error(b->t, b->tb, b->ix);
	}
	return RDB_OK;
}

/* The first run: bulk-loaded into the empty tree, leaves filled to
 * BUILD_FILL_PCT. */
static rdb_rc run_load(builder *b)
{
	bt_loader *ld = NULL;
	size_t i;
	rdb_rc rc = bt_load_begin(b->t, b->ix->root, BUILD_FILL_PCT, &ld);

	for (i = 0; i < b->nref && rc == RDB_OK; i++)
		rc = bt_load_add(ld, b->refs[i].u.e + ENT_HDR,
				 ent_len(b->refs[i].u.e), "", 0);
	if (rc != RDB_OK) {
		bt_load_abort(ld);
		return rc;
	}
	return bt_load_finish(ld);
}

/* A later run (the table's entries passed the budget): inserted in key
 * order, each unique entry probed against the tree first. */
static rdb_rc run_insert(builder *b)
{
	const unsigned char *e;
	uint32_t plen;
	int found = 0;
	size_t i;
	rdb_rc rc = RDB_OK;

	for (i = 0; i < b->nref && rc == RDB_OK; i++) {
		e = b->refs[i].u.e;
		plen = ent_plen(e);
		if (b->ix->unique && !(plen & ENT_NULL))
			rc = tbl_ix_conflict(b->t, b->ix, e + ENT_HDR, plen,
					     NULL, 0, &b->other, &found);
		if (rc == RDB_OK && found)
			return tbl_unique_error(b->t, b->tb, b->ix);
		if (rc == RDB_OK)
			rc = bt_insert(b->t, b->ix->root, e + ENT_HDR,
				       ent_len(e), "", 0);
	}
	return rc;
}

static rdb_rc run_write(builder *b)
{
	rdb_rc rc = RDB_OK;

	if (b->nref == 0)
		return RDB_OK;
	run_sort(b);
	rc = run_check(b);
	if (rc == RDB_OK)
		rc = b->runs == 0 ? run_load(b) : run_insert(b);
	b->runs++;
	b->nref = 0;
	rdb_buf_reset(&b->run);
	return rc;
}

/* ---- the call ---------------------------------------------------------------- */

static void builder_free(builder *b)
{
	rdb_free(b->row);
	rdb_free(b->refs);
	rdb_buf_free(&b->key);
	rdb_buf_free(&b->val);
	rdb_buf_free(&b->scr);
	rdb_buf_free(&b->run);
	rdb_buf_free(&b->other);
}

rdb_rc tbl_index_build(pager_txn *t, const tbl_table *tb,
		       const tbl_index *ix)
{
	builder b = { .t = t, .tb = tb, .ix = ix };
	bt_cursor *c = NULL;
	rdb_rc rc;

	assert(t != NULL && tb != NULL && ix != NULL);
	tbl_layout_of(tb, ix, &b.l);
	b.max = tbl_max_key(t);
	b.budget = atomic_load(&build_budget);
	b.row = rdb_calloc((size_t)tbl_nvals(tb), sizeof(tbl_value));
	rc = b.row ? bt_cursor_open(t, tb->root, &c) : RDB_NOMEM;
	for (rc = rc ? rc : bt_first(c); rc == RDB_OK;
	     rc = rc ? rc : bt_next(c)) {
		rc = add_row(&b, c);
		if (rc == RDB_OK && b.run.n >= b.budget)
			rc = run_write(&b);
	}
	bt_cursor_close(c);
	if (rc == RDB_NOTFOUND)
		rc = run_write(&b);
	builder_free(&b);
	return rc == RDB_NOMEM ? tbl_nomem(t) : rc;
}
