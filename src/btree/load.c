/*
 * load.c -- bulk loading: an empty tree filled bottom-up from keys given
 * in increasing order.  Leaves are filled to a fill factor and written
 * once each; separators go to inner levels built the same way; the top
 * node lands in the root page.  Design: src/btree/README.md ("Bulk
 * loading").
 */
#include "btree/btree.h"
#include <assert.h>
#include "btree/bt_int.h"
#include "err.h"
#include "mem.h"

/* A growable copy of a key. */
typedef struct keybuf {
	unsigned char *p;         /* owned */
	uint32_t n, cap;
} keybuf;

/*
 * One inner level.  Children arrive in key order, each with the separator
 * below it; the newest child waits in `pending` until the next one brings
 * the separator that closes its range.  A node that is full moves to
 * `prev` and is written only once the node after it has a cell, so that
 * the last node of a level is never left without a separator: at the end
 * an empty last node merges into `prev` if the cell fits, or else takes
 * prev's last cell (prev, not yet entered above, gets a new upper bound).
 */
typedef struct level {
	unsigned char *cur;       /* owned: the node being filled (page image) */
	rdb_pgno pending;         /* its rightmost child so far; 0: none yet */
	keybuf low;               /* separator below cur (if written > 0 or
				     has_prev) */
	unsigned char *prev;      /* owned: the full node before cur */
	keybuf prev_low;          /* separator below prev (if written > 0) */
	int has_prev;
	uint32_t written;         /* nodes of this level written so far */
} level;

struct bt_loader {
	pager_txn *t;
	rdb_err *err;
	uint32_t ps;
	rdb_pgno root;
	uint32_t leaf_limit;      /* used bytes a leaf is filled to */
	unsigned char *leaf;      /* owned: the leaf being filled */
	rdb_pgno leaf_pgno;       /* its page; 0 until the first leaf is full */
	rdb_pgno leaf_prev;       /* the leaf written before it */
	keybuf leaf_low;          /* separator below the current leaf */
	keybuf last;              /* the last key added */
	uint64_t nkeys;
	int nlev;                 /* inner levels started */
	level lev[BT_MAX_DEPTH];
};

static rdb_rc nomem(bt_loader *l)
{
	return rdb_err_set(l->err, RDB_NOMEM, "out of memory (B+ tree load)");
}

static rdb_rc kb_set(bt_loader *l, keybuf *k, const void *p, uint32_t n)
{
	if (n > k->cap) {
		unsigned char *q = rdb_realloc(k->p, n);

		if (q == NULL)
			return nomem(l);
		k->p = q;
		k->cap = n;
	}
	if (n > 0)
		memcpy(k->p, p, n);
	k->n = n;
	return RDB_OK;
}

static unsigned char *new_image(bt_loader *l, uint32_t level)
{
	unsigned char *d = rdb_malloc(l->ps);

	if (d != NULL) {
		memset(d, 0, BT_HDR);
		nd_init(d, l->ps, level);
	}
	return d;
}

/* Copy a node image into page pgno (everything but the checksum). */
static rdb_rc put_page(bt_loader *l, rdb_pgno pgno, const unsigned char *d)
{
	pager_page *pg = NULL;
	rdb_rc rc = pager_get(l->t, pgno, &pg);

	if (rc == RDB_OK && (rc = pager_write(l->t, &pg)) == RDB_OK)
		memcpy(pager_data(pg) + FMT_PAGE_TYPE, d + FMT_PAGE_TYPE,
		       l->ps - FMT_PAGE_TYPE);
	pager_unref(pg);
	return rc;
}

/* A new page, holding image d if given. */
static rdb_rc new_page(bt_loader *l, uint8_t type, const unsigned char *d,
		       rdb_pgno *pgno)
{
	pager_page *pg;
	rdb_rc rc = pager_alloc(l->t, type, &pg);

	if (rc != RDB_OK)
		return rc;
	if (d != NULL)
		memcpy(pager_data(pg) + FMT_PAGE_TYPE, d + FMT_PAGE_TYPE,
		       l->ps - FMT_PAGE_TYPE);
	*pgno = pager_pgno(pg);
	pager_unref(pg);
	return RDB_OK;
}

/* Append cell (key, child) to inner image d if it stays within limit. */
static int inner_append(bt_loader *l, unsigned char *d, const keybuf *key,
			rdb_pgno child, uint32_t limit)
{
	unsigned char cell[(FMT_MAX_PAGE_SIZE - BT_HDR) / 4];
	uint32_t len = bt_inner_cell_size(key->n);

	assert(len <= sizeof(cell));
	if (nd_n(d) > 0 && nd_used(d, l->ps) + len + 2 > limit)
		return 0;
	(void)bt_inner_cell(cell, key->p, key->n, child);
	return nd_insert(d, l->ps, nd_n(d), cell, len);
}

static rdb_rc add_child(bt_loader *l, int li, const keybuf *sep,
			rdb_pgno child);

/* Write level li's prev node to a new page and enter it one level up. */
static rdb_rc flush_prev(bt_loader *l, int li)
{
	level *v = &l->lev[li];
	rdb_pgno pgno;
	rdb_rc rc = new_page(l, FMT_PT_BT_INNER, v->prev, &pgno);

	if (rc != RDB_OK)
		return rc;
	v->has_prev = 0;
	rc = add_child(l, li + 1, v->written > 0 ? &v->prev_low : NULL, pgno);
	v->written++;
	return rc;
}

/* Start inner level li (level li + 1 above the leaves). */
static rdb_rc start_level(bt_loader *l, int li)
{
	if (li >= BT_MAX_DEPTH)
		return rdb_err_set(l->err, RDB_CORRUPT, "tree %u: deeper than "
				   "%d levels", l->root, BT_MAX_DEPTH);
	memset(&l->lev[li], 0, sizeof(level));
	l->nlev = li + 1;
	l->lev[li].cur = new_image(l, (uint32_t)li + 1);
	l->lev[li].prev = new_image(l, (uint32_t)li + 1);
	if (l->lev[li].cur == NULL || l->lev[li].prev == NULL)
		return nomem(l);
	return RDB_OK;
}

/* Enter child (whose keys are >= sep; sep NULL for a level's first child)
 * into inner level li. */
static rdb_rc add_child(bt_loader *l, int li, const keybuf *sep,
			rdb_pgno child)
{
	level *v;
	unsigned char *tmp;
	rdb_rc rc;

	if (li == l->nlev && (rc = start_level(l, li)) != RDB_OK)
		return rc;
	v = &l->lev[li];
	if (v->pending == 0) {
		assert(sep == NULL);
		v->pending = child;
		return RDB_OK;
	}
	if (inner_append(l, v->cur, sep, v->pending, bt_usable(l->ps))) {
		v->pending = child;
		return v->has_prev && nd_n(v->cur) == 1 ? flush_prev(l, li)
							 : RDB_OK;
	}
	/* cur is full: it becomes prev, a new node starts with child. */
	assert(!v->has_prev);
	fmt_put_u32(v->cur + BT_LINK_A, v->pending);
	tmp = v->prev;
	v->prev = v->cur;
	v->cur = tmp;
	nd_init(v->cur, l->ps, (uint32_t)li + 1);
	v->has_prev = 1;
	if ((rc = kb_set(l, &v->prev_low, v->low.p, v->low.n)) != RDB_OK)
		return rc;
	v->pending = child;
	return kb_set(l, &v->low, sep->p, sep->n);
}

rdb_rc bt_load_begin(pager_txn *t, rdb_pgno root, unsigned fill_pct,
		     bt_loader **out)
{
	uint32_t ps = pager_page_size(pager_txn_pager(t));
	pager_page *pg = NULL;
	bt_loader *l;
	rdb_rc rc;

	*out = NULL;
	if (fill_pct < 50 || fill_pct > 100)
		return rdb_err_set(pager_txn_err(t), RDB_MISUSE, "fill factor "
				   "%u%% is outside 50..100", fill_pct);
	if ((rc = pager_get(t, root, &pg)) != RDB_OK)
		return rc;
	rc = nd_check_header(pager_data(pg), ps, root, -1, pager_txn_err(t));
	if (rc == RDB_OK && (!nd_is_leaf(pager_data(pg)) ||
			     nd_n(pager_data(pg)) != 0))
		rc = rdb_err_set(pager_txn_err(t), RDB_MISUSE, "tree %u is not "
				 "empty: cannot bulk-load it", root);
	pager_unref(pg);
	if (rc != RDB_OK)
		return rc;
	if ((l = rdb_calloc(1, sizeof(*l))) == NULL)
		return rdb_err_set(pager_txn_err(t), RDB_NOMEM, "out of memory "
				   "(B+ tree load)");
	l->t = t;
	l->err = pager_txn_err(t);
	l->ps = ps;
	l->root = root;
	l->leaf_limit = (uint32_t)((uint64_t)bt_usable(ps) * fill_pct / 100);
	if ((l->leaf = new_image(l, 0)) == NULL) {
		rdb_free(l);
		return rdb_err_set(pager_txn_err(t), RDB_NOMEM, "out of memory "
				   "(B+ tree load)");
	}
	*out = l;
	return RDB_OK;
}

/* The current leaf is full and key starts the next one: write the leaf,
 * enter it into level 1 and start the next with the separator. */
static rdb_rc next_leaf(bt_loader *l, const void *key, uint32_t klen)
{
	const unsigned char *a = l->last.p, *b = key;
	rdb_pgno np;
	uint32_t n = 0;
	rdb_rc rc;

	if (l->leaf_pgno == 0 &&
	    (rc = new_page(l, FMT_PT_BT_LEAF, NULL, &l->leaf_pgno)) != RDB_OK)
		return rc;
	if ((rc = new_page(l, FMT_PT_BT_LEAF, NULL, &np)) != RDB_OK)
		return rc;
	fmt_put_u32(l->leaf + BT_LINK_A, l->leaf_prev);
	fmt_put_u32(l->leaf + BT_LINK_B, np);
	if ((rc = put_page(l, l->leaf_pgno, l->leaf)) != RDB_OK ||
	    (rc = add_child(l, 0, l->leaf_prev ? &l->leaf_low : NULL,
			    l->leaf_pgno)) != RDB_OK)
		return rc;
	/* Suffix truncation: the shortest prefix of key above the last. */
	while (n < l->last.n && n < klen && a[n] == b[n])
		n++;
	if ((rc = kb_set(l, &l->leaf_low, key, n + 1 <= klen ? n + 1 : klen)))
		return rc;
	nd_init(l->leaf, l->ps, 0);
	l->leaf_prev = l->leaf_pgno;
	l->leaf_pgno = np;
	return RDB_OK;
}

rdb_rc bt_load_add(bt_loader *l, const void *key, size_t klen,
		   const void *val, size_t vlen)
{
	unsigned char cell[(FMT_MAX_PAGE_SIZE - BT_HDR) / 4];
	uint32_t len, kl = (uint32_t)klen;
	int cmp;
	rdb_rc rc;

	assert(l != NULL && (key != NULL || klen == 0));
	if (klen > bt_max_key(l->ps))
		return rdb_err_set(l->err, RDB_TOOBIG, "key of %zu bytes is "
				   "longer than the maximum of %zu", klen,
				   bt_max_key(l->ps));
	if (vlen > BT_MAX_VALUE)
		return rdb_err_set(l->err, RDB_TOOBIG, "value of %zu bytes is "
				   "longer than the maximum of %u", vlen,
				   BT_MAX_VALUE);
	cmp = l->nkeys == 0 ? 1 : bt_cmp(key, klen, l->last.p, l->last.n);
	if (cmp == 0)
		return rdb_err_set(l->err, RDB_CONSTRAINT, "key already exists");
	if (cmp < 0)
		return rdb_err_set(l->err, RDB_MISUSE, "bulk load: keys out of "
				   "order");
	if (nd_n(l->leaf) > 0 &&
	    nd_used(l->leaf, l->ps) + bt_leaf_cell_size(l->ps, kl,
							(uint32_t)vlen) + 2 >
	    l->leaf_limit && (rc = next_leaf(l, key, kl)) != RDB_OK)
		return rc;
	rc = bt_leaf_cell(l->t, key, kl, val, (uint32_t)vlen, cell, &len);
	if (rc != RDB_OK)
		return rc;
	if (!nd_insert(l->leaf, l->ps, nd_n(l->leaf), cell, len))
		return rdb_err_set(l->err, RDB_CORRUPT, "bulk load: a cell of "
				   "%u bytes does not fit a new leaf", len);
	if ((rc = kb_set(l, &l->last, key, kl)) != RDB_OK)
		return rc;
	l->nkeys++;
	return RDB_OK;
}

/* At the end, level li's last node has no separator yet.  If the one
 * that would join it to prev does not fit into prev, prev's last cell
 * becomes the lower bound of the last node instead (prev has several
 * cells: it was full, and a cell is at most a quarter of a page), and
 * prev is written; has_prev then tells whether a merge is still due. */
static rdb_rc rotate(bt_loader *l, int li)
{
	level *v = &l->lev[li];
	uint32_t n = nd_n(v->prev), sz;
	bt_cell c;
	rdb_rc rc;

	if (nd_used(v->prev, l->ps) + bt_inner_cell_size(v->low.n) + 2 <=
	    bt_usable(l->ps))
		return RDB_OK;
	if (n < 2)
		return rdb_err_set(l->err, RDB_CORRUPT, "bulk load: level %d "
				   "cannot be closed", li + 1);
	if ((rc = nd_cell(v->prev, l->ps, 0, n - 1, &c, l->err)) != RDB_OK)
		return rc;
	if (!inner_append(l, v->cur, &v->low, fmt_get_u32(v->prev +
							  BT_LINK_A),
			  bt_usable(l->ps)))
		return rdb_err_set(l->err, RDB_CORRUPT, "bulk load: level %d "
				   "cannot be closed", li + 1);
	fmt_put_u32(v->prev + BT_LINK_A, c.child);
	sz = c.size;
	if ((rc = kb_set(l, &v->low, c.key, c.klen)) != RDB_OK)
		return rc;
	nd_remove(v->prev, l->ps, n - 1, sz);
	return flush_prev(l, li);
}

/* Close level li at the end: its last node (merged into prev if it has
 * no separator) goes to the root if the level has no other node, else to
 * a new page entered one level up.  *top is set when the root was
 * written. */
static rdb_rc close_level(bt_loader *l, int li, int *top)
{
	level *v = &l->lev[li];
	rdb_pgno pgno;
	int ok;
	rdb_rc rc;

	if (v->has_prev && (rc = rotate(l, li)) != RDB_OK)
		return rc;
	if (v->has_prev) {
		ok = inner_append(l, v->prev, &v->low,
				  fmt_get_u32(v->prev + BT_LINK_A),
				  bt_usable(l->ps));
		assert(ok);
		(void)ok;
		fmt_put_u32(v->prev + BT_LINK_A, v->pending);
		if (v->written == 0) {
			*top = 1;
			return put_page(l, l->root, v->prev);
		}
		if ((rc = new_page(l, FMT_PT_BT_INNER, v->prev, &pgno)))
			return rc;
		return add_child(l, li + 1, &v->prev_low, pgno);
	}
	fmt_put_u32(v->cur + BT_LINK_A, v->pending);
	if (v->written == 0) {
		*top = 1;
		return put_page(l, l->root, v->cur);
	}
	if ((rc = new_page(l, FMT_PT_BT_INNER, v->cur, &pgno)) != RDB_OK)
		return rc;
	return add_child(l, li + 1, &v->low, pgno);
}

/* Write the last leaf and every inner level; the top node goes to the
 * root page. */
static rdb_rc finish(bt_loader *l)
{
	int li, top = 0;
	rdb_rc rc;

	if (l->leaf_pgno == 0)         /* a single leaf: the root itself */
		return l->nkeys > 0 ? put_page(l, l->root, l->leaf) : RDB_OK;
	fmt_put_u32(l->leaf + BT_LINK_A, l->leaf_prev);
	fmt_put_u32(l->leaf + BT_LINK_B, 0);
	if ((rc = put_page(l, l->leaf_pgno, l->leaf)) != RDB_OK ||
	    (rc = add_child(l, 0, &l->leaf_low, l->leaf_pgno)) != RDB_OK)
		return rc;
	for (li = 0; li < l->nlev && !top; li++)
		if ((rc = close_level(l, li, &top)) != RDB_OK)
			return rc;
	return top ? RDB_OK : rdb_err_set(l->err, RDB_CORRUPT, "bulk load: "
					  "no top level");
}

rdb_rc bt_load_finish(bt_loader *l)
{
	rdb_rc rc;

	assert(l != NULL);
	rc = finish(l);
	bt_load_abort(l);
	return rc;
}

void bt_load_abort(bt_loader *l)
{
	int i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nlev; i++) {
		rdb_free(l->lev[i].cur);
		rdb_free(l->lev[i].prev);
		rdb_free(l->lev[i].low.p);
		rdb_free(l->lev[i].prev_low.p);
	}
	rdb_free(l->leaf);
	rdb_free(l->leaf_low.p);
	rdb_free(l->last.p);
	rdb_free(l);
}
