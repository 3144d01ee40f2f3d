/*
 * verify.c -- the B+ tree verifier: walks a whole tree and checks every
 * invariant of src/btree/README.md ("Invariants"), reporting the first
 * violation as RDB_CORRUPT, and gathers fill statistics.
 */
#include "btree/btree.h"
#include "btree/bt_int.h"
#include "err.h"
#include "mem.h"

typedef struct vkey {
	const unsigned char *p;
	size_t n;
	int set;
} vkey;

typedef struct vctx {
	pager_txn *t;
	rdb_err *err;
	uint32_t ps;
	rdb_pgno root;
	unsigned char *seen;          /* borrowed or owned (own_seen) */
	int own_seen;
	uint32_t npages;
	int leaf_depth;               /* 0 = no leaf seen yet */
	rdb_pgno last_leaf;           /* previous leaf in key order */
	rdb_pgno last_next;           /* its next link */
	unsigned char *last;          /* owned: last key seen */
	size_t last_n, last_cap;
	int have_last;
	bt_stats *st;
	double fill_sum, inner_sum;
	uint32_t n_inner_fill;        /* inner nodes other than the root */
} vctx;

static rdb_rc bad(vctx *v, rdb_pgno pgno, const char *what)
{
	return rdb_err_set(v->err, RDB_CORRUPT, "tree %u, page %u: %s",
			   v->root, pgno, what);
}

static rdb_rc mark(vctx *v, rdb_pgno pgno)
{
	if (pgno == 0 || pgno >= v->npages)
		return bad(v, pgno, "page number out of range");
	if (v->seen[pgno / 8] & (1u << (pgno % 8)))
		return bad(v, pgno, "page used twice");
	v->seen[pgno / 8] |= (unsigned char)(1u << (pgno % 8));
	return RDB_OK;
}

static rdb_rc check_chain(vctx *v, rdb_pgno leaf, const bt_cell *c)
{
	uint32_t cap = bt_ovfl_cap(v->ps);
	uint32_t n = (c->vlen - c->local + cap - 1) / cap, k;
	rdb_pgno pgno = c->ovfl;
	rdb_rc rc;

	for (k = 0; k < n; k++) {
		pager_page *pg;

		if ((rc = mark(v, pgno)) != RDB_OK)
			return rc;
		if ((rc = pager_get(v->t, pgno, &pg)) != RDB_OK)
			return rc;
		if (pager_data(pg)[FMT_PAGE_TYPE] != FMT_PT_BT_OVERFLOW) {
			pager_unref(pg);
			return bad(v, pgno, "overflow chain reaches a page of "
				   "another type");
		}
		pgno = fmt_get_u32(pager_data(pg) + BT_OVFL_NEXT);
		pager_unref(pg);
		v->st->overflow_pages++;
	}
	if (pgno != 0)
		return bad(v, leaf, "overflow chain is longer than its value");
	return RDB_OK;
}

/* Keys of a node: strictly increasing, inside [lo, hi). */
static rdb_rc check_keys(vctx *v, const unsigned char *d, rdb_pgno pgno,
			 const vkey *lo, const vkey *hi)
{
	uint32_t n = nd_n(d), i, total = 0;
	bt_cell c, prev = { 0 };
	rdb_rc rc;

	for (i = 0; i < n; i++) {
		if ((rc = nd_cell(d, v->ps, pgno, i, &c, v->err)) != RDB_OK)
			return rc;
		if (nd_off(d, i) < fmt_get_u32(d + BT_CONTENT))
			return bad(v, pgno, "cell below the content area");
		total += c.size;
		if (i > 0 && bt_cmp(prev.key, prev.klen, c.key, c.klen) >= 0)
			return bad(v, pgno, "keys out of order in the node");
		if (lo->set && bt_cmp(c.key, c.klen, lo->p, lo->n) < 0)
			return bad(v, pgno, "key below its separator");
		if (hi->set && bt_cmp(c.key, c.klen, hi->p, hi->n) >= 0)
			return bad(v, pgno, "key not below its separator");
		prev = c;
	}
	if (total + fmt_get_u32(d + BT_FRAG) !=
	    v->ps - fmt_get_u32(d + BT_CONTENT))
		return bad(v, pgno, "cell sizes do not add up");
	return RDB_OK;
}

static rdb_rc check_leaf(vctx *v, const unsigned char *d, rdb_pgno pgno,
			 int depth, int edge)
{
	uint32_t n = nd_n(d), i;
	double fill = (double)nd_used(d, v->ps) / bt_usable(v->ps);
	bt_cell c;
	rdb_rc rc;

	if (v->leaf_depth == 0)
		v->leaf_depth = depth;
	if (depth != v->leaf_depth)
		return bad(v, pgno, "leaves at different depths");
	if (fmt_get_u32(d + BT_LINK_A) != v->last_leaf ||
	    (v->last_leaf != 0 && v->last_next != pgno))
		return bad(v, pgno, "prev/next links disagree with key order");
	v->last_leaf = pgno;
	v->last_next = fmt_get_u32(d + BT_LINK_B);
	if (n == 0 && pgno != v->root)
		return bad(v, pgno, "empty leaf");
	if (pgno != v->root && !edge &&
	    nd_used(d, v->ps) < bt_min_fill(v->ps))
		return bad(v, pgno, "leaf below its minimum fill");
	for (i = 0; i < n; i++) {
		if ((rc = nd_cell(d, v->ps, pgno, i, &c, v->err)) != RDB_OK)
			return rc;
		if (v->have_last &&
		    bt_cmp(v->last, v->last_n, c.key, c.klen) >= 0)
			return bad(v, pgno, "keys out of order across leaves");
		if (c.ovfl != 0 && (rc = check_chain(v, pgno, &c)) != RDB_OK)
			return rc;
	}
	if (n > 0) {
		(void)nd_cell(d, v->ps, pgno, n - 1, &c, v->err);
		if (c.klen > v->last_cap) {
			unsigned char *b = rdb_realloc(v->last, c.klen);

			if (b == NULL)
				return rdb_err_set(v->err, RDB_NOMEM,
						   "out of memory");
			v->last = b;
			v->last_cap = c.klen;
		}
		if (c.klen > 0)       /* an empty key: v->last may be NULL */
			memcpy(v->last, c.key, c.klen);
		v->last_n = c.klen;
		v->have_last = 1;
	}
	v->st->leaves++;
	v->st->keys += n;
	v->fill_sum += fill;
	if (pgno != v->root && !edge && fill < v->st->leaf_fill_min)
		v->st->leaf_fill_min = fill;
	return RDB_OK;
}

static rdb_rc check_node(vctx *v, rdb_pgno pgno, int depth, int level,
			 const vkey *lo, const vkey *hi, int edge);

/* Recurse into each child of inner node d (a private copy). */
static rdb_rc check_children(vctx *v, const unsigned char *d, rdb_pgno pgno,
			     int depth, const vkey *lo, const vkey *hi,
			     int edge)
{
	uint32_t n = nd_n(d), i;
	vkey clo = *lo, chi;
	bt_cell c;
	rdb_rc rc;

	if (n == 0)
		return bad(v, pgno, "inner node without separators");
	if (pgno != v->root && !edge &&
	    nd_used(d, v->ps) < bt_min_fill(v->ps))
		return bad(v, pgno, "inner node below its minimum fill");
	v->st->inners++;
	if (pgno != v->root) {
		v->n_inner_fill++;
		v->inner_sum += (double)nd_used(d, v->ps) / bt_usable(v->ps);
	}
	for (i = 0; i <= n; i++) {
		rdb_pgno child;

		if (i < n) {
			(void)nd_cell(d, v->ps, pgno, i, &c, v->err);
			chi.p = c.key;
			chi.n = c.klen;
			chi.set = 1;
		} else {
			chi = *hi;
		}
		if ((rc = nd_child(d, v->ps, pgno, i, &child, v->err)) ||
		    (rc = check_node(v, child, depth + 1,
				     (int)nd_level(d) - 1, &clo, &chi,
				     edge && i == n)))
			return rc;
		clo = chi;
	}
	return RDB_OK;
}

static rdb_rc check_node(vctx *v, rdb_pgno pgno, int depth, int level,
			 const vkey *lo, const vkey *hi, int edge)
{
	unsigned char *copy;
	pager_page *pg;
	rdb_rc rc;

	if (depth > BT_MAX_DEPTH)
		return bad(v, pgno, "tree too deep");
	if ((rc = mark(v, pgno)) != RDB_OK ||
	    (rc = pager_get(v->t, pgno, &pg)) != RDB_OK)
		return rc;
	/* A private copy, so that no pin is held while recursing. */
	copy = rdb_malloc(v->ps);
	if (copy == NULL) {
		pager_unref(pg);
		return rdb_err_set(v->err, RDB_NOMEM, "out of memory");
	}
	memcpy(copy, pager_data(pg), v->ps);
	pager_unref(pg);
	rc = nd_check_header(copy, v->ps, pgno, level, v->err);
	if (rc == RDB_OK)
		rc = check_keys(v, copy, pgno, lo, hi);
	if (rc == RDB_OK && nd_is_leaf(copy))
		rc = check_leaf(v, copy, pgno, depth, edge);
	else if (rc == RDB_OK)
		rc = check_children(v, copy, pgno, depth, lo, hi, edge);
	rdb_free(copy);
	return rc;
}

rdb_rc bt_verify(pager_txn *t, rdb_pgno root, unsigned char *seen,
		 bt_stats *stats)
{
	vkey none = { NULL, 0, 0 };
	bt_stats local;
	vctx v;
	rdb_rc rc;

	memset(&v, 0, sizeof(v));
	v.t = t;
	v.err = pager_txn_err(t);
	v.ps = pager_page_size(pager_txn_pager(t));
	v.root = root;
	v.npages = pager_txn_page_count(t);
	v.st = stats != NULL ? stats : &local;
	memset(v.st, 0, sizeof(*v.st));
	v.st->leaf_fill_min = 1.0;
	v.seen = seen;
	if (v.seen == NULL) {
		v.seen = rdb_calloc(v.npages / 8 + 1, 1);
		v.own_seen = 1;
		if (v.seen == NULL)
			return rdb_err_set(v.err, RDB_NOMEM, "out of memory");
	}
	rc = check_node(&v, root, 1, -1, &none, &none, 1);
	if (rc == RDB_OK && v.last_next != 0)
		rc = bad(&v, v.last_leaf, "last leaf has a next link");
	v.st->depth = (uint32_t)v.leaf_depth;
	v.st->leaf_fill = v.st->leaves ? v.fill_sum / v.st->leaves : 0;
	v.st->inner_fill = v.n_inner_fill ? v.inner_sum / v.n_inner_fill : 0;
	if (v.own_seen)
		rdb_free(v.seen);
	rdb_free(v.last);
	return rc;
}
