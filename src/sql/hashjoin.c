/*
 * hashjoin.c -- hash joins: the rows of an inner source that pass its
 * own filters, in a chained hash table on their equality columns, built
 * once per query run and probed once per outer row.  Contract:
 * hashjoin.h; design: src/sql/README.md ("Hash joins").
 */
#include "hashjoin.h"
#include <string.h>
#include <xxhash.h>
#include "select.h"
#include "mem.h"

#define HJ_BUDGET_CACHES 8        /* budget: this many page caches (64 MiB
				     with the default 2000 pages of 4 KiB) */
#define HJ_MAX_ROWS 0x7fffffffL   /* entries are numbered in uint32_t */

struct hjoin {
	mrows keys;               /* owned, width nhash: entry i's key */
	uint64_t *hash;           /* owned: per entry */
	uint32_t *next;           /* owned: per entry, the next entry of its
				     chain + 1 (0 ends it) */
	uint32_t *row;            /* owned: per entry, its row in sub_rows */
	uint32_t *bucket;         /* owned: chain heads (entry + 1) */
	uint64_t mask;            /* buckets - 1 (a power of two) */
	long n, cap;              /* entries */
	size_t bytes, budget;     /* memory used by the build, its limit */
	tbl_value *slim;          /* owned: a row with the slots the query
				     never reads set to NULL (SELECT only) */
	int built;
	/* the probe */
	sql_value praw[HJ_MAX_COLS];   /* owned: the values as evaluated */
	sql_value pconv[HJ_MAX_COLS];  /* with affinity; bytes inline or
					  borrowed from praw */
	tbl_value pkey[HJ_MAX_COLS];   /* views of pconv */
	uint64_t ph;
	uint32_t cur;             /* next entry to look at + 1; 0: none */
	uint32_t last;            /* the row hj_next() returned last */
};

/* ---- keys ------------------------------------------------------------------- */

static uint64_t mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

/* A hash under which values equal by sql_value_cmp collide: a real
 * holding an integer hashes as that integer (1 = 1.0, -0.0 = 0). */
static uint64_t val_hash(const tbl_value *v)
{
	uint64_t u;
	double r;

	switch (v->cls) {
	case TBL_INT:
		return mix((uint64_t)v->i);
	case TBL_REAL:
		r = v->r;
		if (r >= -9223372036854775808.0 && r < 9223372036854775808.0 &&
		    (double)(int64_t)r == r)
			return mix((uint64_t)(int64_t)r);
		memcpy(&u, &r, sizeof(u));
		return mix(u ^ 0x5bd1e9955bd1e995ull);
	case TBL_TEXT:
		return XXH3_64bits_withSeed(v->p, v->n, 1);
	default:
		return XXH3_64bits_withSeed(v->p, v->n, 2);
	}
}

static uint64_t key_hash(const tbl_value *k, int n)
{
	uint64_t h = 0x243F6A8885A308D3ull;
	int i;

	for (i = 0; i < n; i++)
		h = mix(h ^ val_hash(&k[i]));
	return h;
}

static int key_eq(const tbl_value *a, const tbl_value *b, int n)
{
	sql_value x, y;
	int i;

	for (i = 0; i < n; i++) {
		if (a[i].cls == TBL_INT && b[i].cls == TBL_INT) {
			if (a[i].i != b[i].i)
				return 0;
			continue;
		}
		sql_value_from_tbl(&x, &a[i]);
		sql_value_from_tbl(&y, &b[i]);
		if (sql_value_cmp(&x, &y) != 0)
			return 0;
	}
	return 1;
}

/* The key of row for source s into kv/k (k borrows from kv and row);
 * 0 if a component is NULL. */
static int row_key(const qsrc *s, const tbl_value *row,
		   sql_value kv[HJ_MAX_COLS], tbl_value k[HJ_MAX_COLS])
{
	int j;

	for (j = 0; j < s->nhash; j++) {
		sql_value_from_tbl(&kv[j], &row[s->hash_slot[j]]);
		sql_value_apply_aff(&kv[j], s->hash_aff[j]);
		if (sql_value_class(&kv[j]) == TBL_NULL)
			return 0;
		k[j] = sql_value_tbl(&kv[j]);
	}
	return 1;
}

/* ---- building ------------------------------------------------------------------ */

static size_t row_bytes(const tbl_value *v, int n)
{
	size_t b = (size_t)n * sizeof(*v);
	int i;

	for (i = 0; i < n; i++)
		b += v[i].cls >= TBL_TEXT ? v[i].n : 0;
	return b;
}

static rdb_rc grow(sql_prog *p, hjoin *h)
{
	long cap = h->cap ? 2 * h->cap : 1024;
	uint64_t *hs;
	uint32_t *rw;

	if ((hs = rdb_realloc(h->hash, (size_t)cap * sizeof(*hs))) == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	h->hash = hs;
	if ((rw = rdb_realloc(h->row, (size_t)cap * sizeof(*rw))) == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	h->row = rw;
	h->cap = cap;
	return RDB_OK;
}

/* Do the build filters of s hold for its current row? */
static rdb_rc build_filters(sql_prog *p, query *q, const qsrc *s, int *ok)
{
	int i, t;
	rdb_rc rc;

	*ok = 1;
	for (i = 0; i < s->nhbuild && *ok; i++) {
		if ((rc = eval_truth(p, q, s->hbuild[i], &t)) != RDB_OK)
			return rc;
		*ok = t == 1;
	}
	return RDB_OK;
}

/* Row with the slots no expression of the query reads set to NULL, in
 * out (nvals values): those bytes need not be copied. */
static const tbl_value *slim_row(const qsrc *s, tbl_value *out,
				 const tbl_value *row)
{
	int i;

	for (i = 0; i < s->nvals; i++) {
		if ((s->used >> (i < 63 ? i : 63)) & 1)
			out[i] = row[i];
		else
			out[i] = (tbl_value){ .cls = TBL_NULL };
	}
	return out;
}

/* Enter row (row number idx of s->sub_rows, or -1: copy it there) if it
 * passes the build filters and its key has no NULL. */
static rdb_rc add_row(sql_prog *p, query *q, qsrc *s, const tbl_value *row,
		      long idx)
{
	hjoin *h = s->hj;
	sql_value kv[HJ_MAX_COLS];
	tbl_value k[HJ_MAX_COLS];
	int ok;
	rdb_rc rc;

	s->row = row;
	s->null_row = 0;
	if ((rc = build_filters(p, q, s, &ok)) != RDB_OK || !ok ||
	    !row_key(s, row, kv, k))
		return rc;
	if (h->n == h->cap && (rc = grow(p, h)) != RDB_OK)
		return rc;
	if (idx < 0) {
		idx = s->sub_rows.n;
		if (h->slim != NULL)
			row = slim_row(s, h->slim, row);
		if ((rc = mrows_add(&s->sub_rows, row, p->cx.err)) != RDB_OK)
			return rc;
		h->bytes += row_bytes(row, s->nvals);
	}
	if ((rc = mrows_add(&h->keys, k, p->cx.err)) != RDB_OK)
		return rc;
	h->bytes += row_bytes(k, s->nhash) + sizeof(uint64_t) +
		    3 * sizeof(uint32_t);
	h->hash[h->n] = key_hash(k, s->nhash);
	h->row[h->n++] = (uint32_t)idx;
	return RDB_OK;
}

static int over_budget(const hjoin *h)
{
	return h->bytes > h->budget || h->n >= HJ_MAX_ROWS;
}

/* Every row of the table of s, read by a full scan. */
static rdb_rc add_table(sql_prog *p, query *q, qsrc *s)
{
	const tbl_value *row;
	unsigned long n = 0;
	rdb_rc rc;

	mrows_free(&s->sub_rows);
	mrows_init(&s->sub_rows, s->nvals);
	if (s->cur == NULL &&
	    (rc = tbl_cursor_open(p->t, s->tb, s->ix, &s->cur)) != RDB_OK)
		return rc;
	if ((rc = tbl_cursor_range(s->cur, NULL, NULL, 0)) != RDB_OK)
		return rc;
	while (!over_budget(s->hj) &&
	       (rc = tbl_cursor_next(s->cur)) == RDB_ROW) {
		if ((++n & 4095) == 0 &&
		    atomic_load_explicit(&p->c->interrupt,
					 memory_order_relaxed))
			return rdb_err_set(p->cx.err, RDB_INTERRUPT,
					   "interrupted");
		if ((rc = tbl_cursor_row(s->cur, &row)) != RDB_OK ||
		    (rc = add_row(p, q, s, row, -1)) != RDB_OK)
			return rc;
	}
	return rc == RDB_ROW || rc == RDB_DONE ? RDB_OK : rc;
}

/* Every row of the (uncorrelated) FROM subquery of s, materialized. */
static rdb_rc add_sub(sql_prog *p, query *q, qsrc *s)
{
	long i;
	rdb_rc rc;

	if (!s->sub_ready && (rc = sub_materialize(p, s)) != RDB_OK)
		return rc;
	for (i = 0; i < s->sub_rows.n && !over_budget(s->hj); i++)
		if ((rc = add_row(p, q, s, mrows_row(&s->sub_rows, i), i)) !=
		    RDB_OK)
			return rc;
	return RDB_OK;
}

/* Chain the entries into buckets, each chain in row order. */
static rdb_rc link_entries(sql_prog *p, hjoin *h)
{
	uint64_t nb = 16, b;
	long i;

	while (nb < (uint64_t)h->n)
		nb *= 2;
	h->mask = nb - 1;
	h->bucket = rdb_calloc((size_t)nb, sizeof(*h->bucket));
	h->next = rdb_malloc((size_t)(h->n + 1) * sizeof(*h->next));
	if (h->bucket == NULL || h->next == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	for (i = h->n - 1; i >= 0; i--) {
		b = h->hash[i] & h->mask;
		h->next[i] = h->bucket[b];
		h->bucket[b] = (uint32_t)i + 1;
	}
	return RDB_OK;
}

size_t hj_budget(pager *pg)
{
	pager_stats st;

	pager_get_stats(pg, &st);
	return (size_t)HJ_BUDGET_CACHES * st.cache_pages * st.page_size;
}

long hj_row(const qsrc *s)
{
	return (long)s->hj->last;
}

static rdb_rc build(sql_prog *p, query *q, qsrc *s)
{
	hjoin *h;
	rdb_rc rc;

	if ((h = s->hj = rdb_calloc(1, sizeof(*h))) == NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	mrows_init(&h->keys, s->nhash);
	h->budget = hj_budget(pager_txn_pager(p->t));
	if (s->sel && s->tb != NULL &&
	    (h->slim = rdb_malloc((size_t)s->nvals * sizeof(tbl_value))) ==
	    NULL)
		return rdb_err_set(p->cx.err, RDB_NOMEM, "out of memory");
	rc = s->tb != NULL ? add_table(p, q, s) : add_sub(p, q, s);
	s->row = NULL;
	if (rc != RDB_OK)
		return rc;
	if (over_budget(h)) {
		/* Too big: the nested loop reads the source instead. */
		if (s->tb != NULL)
			mrows_free(&s->sub_rows);
		hj_free(s);
		s->hash_off = 1;
		return RDB_OK;
	}
	if ((rc = link_entries(p, h)) != RDB_OK)
		return rc;
	h->built = 1;
	return RDB_OK;
}

/* ---- probing -------------------------------------------------------------------- */

static void free_probe(hjoin *h, int n)
{
	int j;

	for (j = 0; j < n; j++)
		if (h->praw[j].mem == SQL_MEM_HEAP)
			sql_value_free(&h->praw[j]);
}

/* The value of e for the current rows into *out: a column of this
 * query (under any unary +) is read straight from its source's row, the
 * rest goes through eval(). */
static rdb_rc probe_value(sql_prog *p, query *q, const sql_expr *e,
			  sql_value *out)
{
	const sql_expr *c = e;
	const xinfo *x;
	const qsrc *o;

	while (c->op == SQL_E_POS)
		c = c->left;
	x = xi(c);
	if (c->op != SQL_E_COLUMN || x == NULL || x->kind != XK_COL ||
	    x->up != 0 || x->src >= q->nsrc)
		return eval(p, q, e, out);
	o = &q->src[x->src];
	if (o->row == NULL || o->null_row)
		sql_value_null(out);
	else
		sql_value_from_tbl(out, &o->row[x->slot]);
	return RDB_OK;
}

rdb_rc hj_open(sql_prog *p, query *q, qsrc *s)
{
	hjoin *h;
	int j;
	rdb_rc rc;

	if (s->hj == NULL || !s->hj->built) {
		hj_free(s);
		if ((rc = build(p, q, s)) != RDB_OK || s->hash_off)
			return rc;
	}
	h = s->hj;
	h->cur = 0;
	free_probe(h, s->nhash);
	for (j = 0; j < s->nhash; j++) {
		if ((rc = probe_value(p, q, s->hash_val[j], &h->praw[j])) !=
		    RDB_OK)
			return rc;
		/* A copy made with = only reads praw's bytes (see
		 * sql_compare); praw keeps them. */
		h->pconv[j] = h->praw[j];
		sql_value_apply_aff(&h->pconv[j], s->hash_aff[j]);
		if (sql_value_class(&h->pconv[j]) == TBL_NULL) {
			s->exhausted = 1;
			return RDB_OK;
		}
		h->pkey[j] = sql_value_tbl(&h->pconv[j]);
	}
	h->ph = key_hash(h->pkey, s->nhash);
	h->cur = h->bucket[h->ph & h->mask];
	return RDB_OK;
}

rdb_rc hj_next(qsrc *s)
{
	hjoin *h = s->hj;
	uint32_t i;

	while (h->cur != 0) {
		i = h->cur - 1;
		h->cur = h->next[i];
		if (h->hash[i] == h->ph &&
		    key_eq(mrows_row(&h->keys, i), h->pkey, s->nhash)) {
			h->last = h->row[i];
			s->row = mrows_row(&s->sub_rows, h->row[i]);
			return RDB_ROW;
		}
	}
	return RDB_DONE;
}

void hj_free(qsrc *s)
{
	hjoin *h = s->hj;

	s->hash_off = 0;
	if (h == NULL)
		return;
	free_probe(h, s->nhash);
	mrows_free(&h->keys);
	rdb_free(h->hash);
	rdb_free(h->next);
	rdb_free(h->row);
	rdb_free(h->bucket);
	rdb_free(h->slim);
	rdb_free(h);
	s->hj = NULL;
}
