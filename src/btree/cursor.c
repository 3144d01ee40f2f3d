/*
 * cursor.c -- B+ tree cursors: seek, step along the leaf chain in both
 * directions, read keys and values (overflow values in pieces), delete
 * and put through the cursor.
 *
 * In a read transaction the cursor keeps its leaf pinned (pages of a
 * snapshot never change).  In a write transaction it keeps only the leaf's
 * number, a copy of its key and the transaction's change counter; when the
 * counter has moved it finds its place again by key, so changes made
 * through it or through other calls never leave it stale.  A read
 * transaction's cursor also keeps the inner nodes of its last descent
 * pinned, so the next seek starts below the nodes it shares with it.
 * Design: src/btree/README.md, "Cursors".
 */
#include "btree/btree.h"
#include "btree/bt_int.h"
#include "err.h"
#include "mem.h"

/* Inner levels a read cursor keeps pinned, and the smallest buffer pool
 * (frames) that lets it: every open cursor may hold this many pins more
 * than its leaf, which a pool of a few dozen frames cannot spare. */
#define PATH_LEVELS 6
#define PATH_MIN_POOL 1024u
/* After this many seeks in a row that left the leaf, a read cursor looks
 * in its leaf first only once every LEAF_TRY_EVERY seeks. */
#define LEAF_MISSES_MAX 4u
#define LEAF_TRY_EVERY 16u

struct bt_cursor {
	pager_txn *t;             /* borrowed */
	rdb_err *err;             /* borrowed */
	uint32_t ps;
	rdb_pgno root;
	int write;
	int valid;
	rdb_pgno pgno;            /* current leaf */
	uint32_t idx;             /* current cell */
	pager_page *pg;           /* read transactions: pinned leaf */
	bt_cell cell;             /* read transactions: its current cell */
	uint64_t ver;             /* change counter when positioned */
	uint32_t hops;            /* leaves stepped over since the seek */
	uint32_t leaf_misses;     /* seeks in a row that left the leaf */
	uint32_t n_seeks;
	unsigned char *key;       /* owned: copy of the key (write txns) */
	size_t klen, kcap;
	unsigned char *vbuf;      /* owned: assembled values */
	size_t vcap;
	bt_ovpos ov;              /* resume point for bt_value_read */
	int keep_path;            /* read transaction, pool large enough */
	int n_path;               /* path[0 .. n_path) are pinned */
	pager_page *path[PATH_LEVELS]; /* inner nodes of the last descent,
				   * root first (read transactions) */
};

enum { SEEK_FIRST, SEEK_LAST, SEEK_GE, SEEK_LE };

rdb_rc bt_cursor_open(pager_txn *t, rdb_pgno root, bt_cursor **out)
{
	bt_cursor *c = rdb_calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return rdb_err_set(pager_txn_err(t), RDB_NOMEM,
				   "out of memory (cursor)");
	c->t = t;
	c->err = pager_txn_err(t);
	c->ps = pager_page_size(pager_txn_pager(t));
	c->root = root;
	c->write = pager_txn_is_write(t);
	c->keep_path = !c->write &&
		       pager_cache_size(pager_txn_pager(t)) >= PATH_MIN_POOL;
	*out = c;
	return RDB_OK;
}

/* Unpin the kept inner nodes from level lvl down. */
static void path_drop(bt_cursor *c, int lvl)
{
	while (c->n_path > lvl)
		pager_unref(c->path[--c->n_path]);
}

static void unposition(bt_cursor *c)
{
	pager_unref(c->pg);
	c->pg = NULL;
	c->valid = 0;
	c->pgno = 0;
}

void bt_cursor_close(bt_cursor *c)
{
	if (c == NULL)
		return;
	unposition(c);
	path_drop(c, 0);
	rdb_free(c->key);
	rdb_free(c->vbuf);
	rdb_free(c);
}

int bt_valid(const bt_cursor *c)
{
	return c->valid;
}

static rdb_rc grow(bt_cursor *c, unsigned char **buf, size_t *cap, size_t n)
{
	unsigned char *b;

	if (n <= *cap && *buf != NULL)
		return RDB_OK;
	b = rdb_realloc(*buf, n ? n : 1);
	if (b == NULL)
		return rdb_err_set(c->err, RDB_NOMEM, "out of memory (cursor)");
	*buf = b;
	*cap = n ? n : 1;
	return RDB_OK;
}

/* The current leaf, pinned; release with leaf_release(). */
static rdb_rc leaf_acquire(bt_cursor *c, pager_page **pg)
{
	rdb_rc rc;

	if (c->pg != NULL) {
		*pg = c->pg;
		return RDB_OK;
	}
	rc = pager_get(c->t, c->pgno, pg);
	if (rc == RDB_OK &&
	    (rc = nd_check_header(pager_data(*pg), c->ps, c->pgno, 0,
				  c->err))) {
		pager_unref(*pg);
		*pg = NULL;
	}
	return rc;
}

static void leaf_release(bt_cursor *c, pager_page *pg)
{
	if (pg != c->pg)
		pager_unref(pg);
}

/* Settle on cell idx of leaf pg (pinned; ownership passes to c). */
static rdb_rc settle(bt_cursor *c, pager_page *pg, uint32_t idx)
{
	bt_cell cell;
	rdb_rc rc = RDB_OK;

	c->pgno = pager_pgno(pg);
	c->idx = idx;
	c->valid = 1;
	c->ver = pager_txn_version(c->t);
	c->ov.pgno = 0;
	if (c->write) {
		rc = nd_cell(pager_data(pg), c->ps, c->pgno, idx, &cell, c->err);
		if (rc == RDB_OK)
			rc = grow(c, &c->key, &c->kcap, cell.klen);
		if (rc == RDB_OK) {
			memcpy(c->key, cell.key, cell.klen);
			c->klen = cell.klen;
		}
		pager_unref(pg);
	} else {
		c->pg = pg;
		rc = nd_cell(pager_data(pg), c->ps, c->pgno, idx, &c->cell,
			     c->err);
	}
	if (rc != RDB_OK)
		unposition(c);
	return rc;
}

/* The chain ended at leaf `leaf`: it must be the tree's first (dir < 0)
 * or last (dir > 0) leaf, else a link was cut. */
static rdb_rc check_edge(bt_cursor *c, rdb_pgno leaf, int dir)
{
	rdb_pgno pgno = c->root;
	int lvl, want = -1;
	rdb_rc rc;

	for (lvl = 0; lvl < BT_MAX_DEPTH; lvl++) {
		pager_page *pg;
		unsigned char *d;

		if ((rc = pager_get(c->t, pgno, &pg)) != RDB_OK)
			return rc;
		d = pager_data(pg);
		rc = nd_check_header(d, c->ps, pgno, want, c->err);
		want = (int)nd_level(d) - 1;
		if (rc == RDB_OK && nd_is_leaf(d)) {
			pager_unref(pg);
			break;
		}
		if (rc == RDB_OK)
			rc = nd_child(d, c->ps, pgno, dir > 0 ? nd_n(d) : 0,
				      &pgno, c->err);
		pager_unref(pg);
		if (rc != RDB_OK)
			return rc;
	}
	if (lvl == BT_MAX_DEPTH || pgno != leaf)
		return rdb_err_set(c->err, RDB_CORRUPT,
				   "page %u: leaf chain ends before the %s "
				   "leaf", leaf, dir > 0 ? "last" : "first");
	return RDB_OK;
}

/* The cell a hop lands on (cell i of leaf d, page pgno) must lie beyond
 * key (the cursor's last key; NULL: none) in direction dir.  Links that
 * agree with each other can still lead back into leaves a scan has
 * passed, and such a scan would never end. */
static rdb_rc hop_order(bt_cursor *c, const unsigned char *d, rdb_pgno pgno,
			uint32_t i, int dir, const void *key, size_t klen)
{
	bt_cell cell;
	rdb_rc rc;
	int cmp;

	if (key == NULL)
		return RDB_OK;
	if ((rc = nd_cell(d, c->ps, pgno, i, &cell, c->err)) != RDB_OK)
		return rc;
	cmp = bt_cmp(cell.key, cell.klen, key, klen);
	if (dir > 0 ? cmp > 0 : cmp < 0)
		return RDB_OK;
	return rdb_err_set(c->err, RDB_CORRUPT, "page %u: leaf keys out of "
			   "order with the leaf before it in the chain", pgno);
}

/* From leaf pg (pinned, consumed), step to the neighbour leaf in
 * direction dir until one has cells; settle on its first or last, which
 * must lie beyond key (see hop_order(); key may point into pg, which
 * stays pinned until then). */
static rdb_rc hop(bt_cursor *c, pager_page *pg, int dir, const void *key,
		  size_t klen)
{
	pager_page *start = pg;
	int first = 1;
	rdb_rc rc;

	for (;;) {
		unsigned char *d = pager_data(pg);
		rdb_pgno from = pager_pgno(pg);
		rdb_pgno to = fmt_get_u32(d + (dir > 0 ? BT_LINK_B : BT_LINK_A));

		if (!first)               /* an empty leaf passed over */
			pager_unref(pg);
		first = 0;
		if (to == 0) {
			rc = check_edge(c, from, dir);
			pager_unref(start);
			return rc != RDB_OK ? rc : RDB_NOTFOUND;
		}
		if (++c->hops > pager_txn_page_count(c->t) ||
		    (rc = pager_get(c->t, to, &pg)) != RDB_OK) {
			pager_unref(start);
			return c->hops > pager_txn_page_count(c->t)
			       ? rdb_err_set(c->err, RDB_CORRUPT,
					     "page %u: leaf chain loops", from)
			       : rc;
		}
		d = pager_data(pg);
		if ((rc = nd_check_header(d, c->ps, to, 0, c->err)) == RDB_OK &&
		    fmt_get_u32(d + (dir > 0 ? BT_LINK_A : BT_LINK_B)) != from)
			rc = rdb_err_set(c->err, RDB_CORRUPT,
				"page %u: leaf links disagree with page %u",
				to, from);
		if (rc == RDB_OK && nd_n(d) > 0)
			rc = hop_order(c, d, to, dir > 0 ? 0 : nd_n(d) - 1,
				       dir, key, klen);
		if (rc != RDB_OK || nd_n(d) > 0)
			pager_unref(start);
		if (rc != RDB_OK) {
			pager_unref(pg);
			return rc;
		}
		if (nd_n(d) > 0)
			return settle(c, pg, dir > 0 ? 0 : nd_n(d) - 1);
	}
}

/* Read transactions: a GE or LE seek for a key between the first and
 * the last key of the pinned leaf ends in that leaf (keys are unique and
 * ordered across leaves, and a snapshot's pages never change), so the
 * descent is skipped.  Ascending probes -- an index join whose outer rows
 * come in key order -- mostly stay in one leaf.  Returns 0 (nothing
 * changed) when the key is elsewhere or a cell does not parse: the full
 * seek then decides.  A cursor whose seeks keep leaving the leaf (random
 * lookups) tries only one seek in LEAF_TRY_EVERY, until one stays. */
static int seek_in_leaf(bt_cursor *c, int how, const void *key, size_t klen,
			rdb_rc *rc)
{
	const unsigned char *d;
	bt_cell first, last;
	uint32_t i, n;
	rdb_err scratch = { 0 };

	if (c->write || c->pg == NULL || (how != SEEK_GE && how != SEEK_LE))
		return 0;
	if (c->leaf_misses >= LEAF_MISSES_MAX &&
	    ++c->n_seeks % LEAF_TRY_EVERY != 0)
		return 0;
	c->leaf_misses++;
	d = pager_data(c->pg);
	if ((n = nd_n(d)) == 0 ||
	    nd_cell(d, c->ps, c->pgno, 0, &first, &scratch) != RDB_OK ||
	    nd_cell(d, c->ps, c->pgno, n - 1, &last, &scratch) != RDB_OK ||
	    bt_cmp(first.key, first.klen, key, klen) > 0 ||
	    bt_cmp(last.key, last.klen, key, klen) < 0 ||
	    nd_search(d, c->ps, c->pgno, key, klen, how == SEEK_LE, &i, NULL,
		      &scratch) != RDB_OK)
		return 0;
	/* first <= key <= last: GE finds i < n, LE finds i > 0. */
	c->leaf_misses = 0;
	c->hops = 0;
	*rc = settle(c, c->pg, how == SEEK_LE ? i - 1 : i);
	return 1;
}

/*
 * The node at depth lvl of a descent (0 = the root): page pgno, whose
 * level must be want (-1: any).  A read cursor finds it among the inner
 * nodes it kept from its last descent (a snapshot's pages never change,
 * so a node pinned then is still this page's content); else it is read
 * and checked, and kept if it is an inner node.  *kept tells whether
 * *pg belongs to the path (else the caller unpins it).
 */
static rdb_rc node_at(bt_cursor *c, int lvl, rdb_pgno pgno, int want,
		      pager_page **pg, int *kept)
{
	rdb_rc rc;

	*kept = 0;
	if (lvl < c->n_path && pager_pgno(c->path[lvl]) == pgno) {
		*pg = c->path[lvl];
		/* Checked when kept, but maybe against another parent's
		 * level (one page with two parents: a damaged file). */
		if (want >= 0 && nd_level(pager_data(*pg)) != (uint32_t)want)
			return rdb_err_set(c->err, RDB_CORRUPT,
					   "page %u: B+ tree node at the wrong "
					   "level (%u)", pgno,
					   nd_level(pager_data(*pg)));
		*kept = 1;
		return RDB_OK;
	}
	path_drop(c, lvl);
	if ((rc = pager_get(c->t, pgno, pg)) != RDB_OK)
		return rc;
	if ((rc = nd_check_header(pager_data(*pg), c->ps, pgno, want,
				  c->err)) != RDB_OK) {
		pager_unref(*pg);
		*pg = NULL;
		return rc;
	}
	if (c->keep_path && lvl == c->n_path && lvl < PATH_LEVELS &&
	    !nd_is_leaf(pager_data(*pg))) {
		c->path[c->n_path++] = *pg;
		*kept = 1;
	}
	return RDB_OK;
}

/* Descend to the leaf for the seek and position the cursor. */
static rdb_rc seek(bt_cursor *c, int how, const void *key, size_t klen)
{
	rdb_pgno pgno = c->root;
	pager_page *pg;
	uint32_t i = 0, n;
	int lvl, want = -1, kept;
	rdb_rc rc;

	if (seek_in_leaf(c, how, key, klen, &rc))
		return rc;
	unposition(c);
	c->hops = 0;
	for (lvl = 0; lvl < BT_MAX_DEPTH; lvl++) {
		unsigned char *d;

		if ((rc = node_at(c, lvl, pgno, want, &pg, &kept)) != RDB_OK)
			return rc;
		d = pager_data(pg);
		want = (int)nd_level(d) - 1;
		n = nd_n(d);
		if (how == SEEK_FIRST)
			i = 0;
		else if (how == SEEK_LAST)
			i = n;
		else if ((rc = nd_search(d, c->ps, pgno, key, klen,
					 !nd_is_leaf(d) || how == SEEK_LE, &i,
					 NULL, c->err)) != RDB_OK)
			goto fail;
		if (nd_is_leaf(d))
			break;
		rc = nd_child(d, c->ps, pgno, i, &pgno, c->err);
		if (!kept)
			pager_unref(pg);
		if (rc != RDB_OK)
			return rc;
	}
	if (lvl == BT_MAX_DEPTH)
		return rdb_err_set(c->err, RDB_CORRUPT,
				   "tree %u: deeper than %d levels", c->root,
				   BT_MAX_DEPTH);
	/* pg is a leaf: never kept, so it is ours to pass on.  i is the
	 * first cell > key (LE, LAST) or >= key (GE, FIRST). */
	if (how == SEEK_LE || how == SEEK_LAST)
		return i > 0 ? settle(c, pg, i - 1) : hop(c, pg, -1, NULL, 0);
	return i < n ? settle(c, pg, i) : hop(c, pg, 1, NULL, 0);
fail:
	if (!kept)
		pager_unref(pg);
	return rc;
}

rdb_rc bt_first(bt_cursor *c) { return seek(c, SEEK_FIRST, NULL, 0); }
rdb_rc bt_last(bt_cursor *c) { return seek(c, SEEK_LAST, NULL, 0); }

rdb_rc bt_seek_ge(bt_cursor *c, const void *key, size_t klen)
{
	return seek(c, SEEK_GE, key, klen);
}

rdb_rc bt_seek_le(bt_cursor *c, const void *key, size_t klen)
{
	return seek(c, SEEK_LE, key, klen);
}

static int stale(const bt_cursor *c)
{
	return c->write && pager_txn_version(c->t) != c->ver;
}

/* Find the place again after changes: on the saved key if it still
 * exists, else on its neighbour in direction dir (*moved set). */
static rdb_rc refind(bt_cursor *c, int dir, int *moved)
{
	unsigned char *k = c->key;
	size_t klen = c->klen;
	const void *now;
	size_t nlen;
	rdb_rc rc;

	c->key = NULL;
	c->kcap = 0;
	rc = dir > 0 ? bt_seek_ge(c, k, klen) : bt_seek_le(c, k, klen);
	*moved = 1;
	if (rc == RDB_OK && bt_key(c, &now, &nlen) == RDB_OK)
		*moved = bt_cmp(now, nlen, k, klen) != 0;
	rdb_free(k);
	return rc;
}

/* Read transactions: the next cell of the pinned leaf, if it has one
 * (RDB_NOTFOUND: none, nothing changed). */
static rdb_rc step_in_leaf(bt_cursor *c, int dir)
{
	const unsigned char *d = pager_data(c->pg);
	uint32_t i = c->idx + (uint32_t)dir;
	rdb_rc rc;

	if (dir > 0 ? i >= nd_n(d) : c->idx == 0 || i >= nd_n(d))
		return RDB_NOTFOUND;
	c->idx = i;
	c->ov.pgno = 0;
	rc = nd_cell(d, c->ps, c->pgno, i, &c->cell, c->err);
	if (rc != RDB_OK)
		unposition(c);
	return rc;
}

static rdb_rc step(bt_cursor *c, int dir)
{
	pager_page *pg;
	int moved;
	rdb_rc rc;

	if (c->pg != NULL && (rc = step_in_leaf(c, dir)) != RDB_NOTFOUND)
		return rc;
	if (!c->valid)
		return rdb_err_set(c->err, RDB_MISUSE,
				   "cursor is not on a key");
	if (stale(c)) {
		rc = refind(c, dir, &moved);
		if (rc != RDB_OK || moved)
			return rc;
	}
	if ((rc = leaf_acquire(c, &pg)) != RDB_OK) {
		unposition(c);
		return rc;
	}
	c->pg = NULL;     /* ownership moves to settle() or hop() */
	if (dir > 0 && c->idx + 1 < nd_n(pager_data(pg)))
		return settle(c, pg, c->idx + 1);
	if (dir < 0 && c->idx > 0 && c->idx - 1 < nd_n(pager_data(pg)))
		return settle(c, pg, c->idx - 1);
	c->hops = 0;
	c->valid = 0;
	/* The key we leave: a read cursor's is in pg, a write cursor's is
	 * its copy. */
	return c->write ? hop(c, pg, dir, c->key, c->klen)
			: hop(c, pg, dir, c->cell.key, c->cell.klen);
}

rdb_rc bt_next(bt_cursor *c) { return step(c, 1); }
rdb_rc bt_prev(bt_cursor *c) { return step(c, -1); }

/* The current cell, on a pinned leaf (release with leaf_release()). */
static rdb_rc current(bt_cursor *c, pager_page **pg, bt_cell *cell)
{
	int moved;
	rdb_rc rc;

	if (!c->valid)
		return rdb_err_set(c->err, RDB_MISUSE,
				   "cursor is not on a key");
	if (c->pg != NULL) {
		/* Read transaction: the leaf is pinned and its cell parsed. */
		*pg = c->pg;
		*cell = c->cell;
		return RDB_OK;
	}
	if (stale(c) && (rc = refind(c, 1, &moved)) != RDB_OK)
		return rc;
	if ((rc = leaf_acquire(c, pg)) != RDB_OK)
		return rc;
	if (c->idx >= nd_n(pager_data(*pg)))
		rc = rdb_err_set(c->err, RDB_CORRUPT,
				 "page %u: cursor cell out of range", c->pgno);
	else
		rc = nd_cell(pager_data(*pg), c->ps, c->pgno, c->idx, cell,
			     c->err);
	if (rc != RDB_OK)
		leaf_release(c, *pg);
	return rc;
}

rdb_rc bt_key(bt_cursor *c, const void **key, size_t *klen)
{
	pager_page *pg;
	bt_cell cell;
	rdb_rc rc;

	if (c->pg != NULL) {      /* read transaction: pinned, parsed */
		*key = c->cell.key;
		*klen = c->cell.klen;
		return RDB_OK;
	}
	if (c->write && c->valid && !stale(c)) {
		*key = c->key;
		*klen = c->klen;
		return RDB_OK;
	}
	if ((rc = current(c, &pg, &cell)) != RDB_OK)
		return rc;
	if (c->write) {
		*key = c->key;
		*klen = c->klen;
	} else {
		*key = cell.key;
		*klen = cell.klen;
	}
	leaf_release(c, pg);
	return RDB_OK;
}

rdb_rc bt_value_size(bt_cursor *c, size_t *vlen)
{
	pager_page *pg;
	bt_cell cell;
	rdb_rc rc = current(c, &pg, &cell);

	if (rc != RDB_OK)
		return rc;
	*vlen = cell.vlen;
	leaf_release(c, pg);
	return RDB_OK;
}

rdb_rc bt_value(bt_cursor *c, const void **val, size_t *vlen)
{
	pager_page *pg;
	bt_cell cell;
	rdb_rc rc;

	if (c->pg != NULL && c->cell.ovfl == 0) {   /* as in bt_key */
		*val = c->cell.val;
		*vlen = c->cell.vlen;
		return RDB_OK;
	}
	if ((rc = current(c, &pg, &cell)) != RDB_OK)
		return rc;
	*vlen = cell.vlen;
	if (!c->write && cell.ovfl == 0) {
		*val = cell.val;     /* the leaf stays pinned */
		return RDB_OK;
	}
	rc = grow(c, &c->vbuf, &c->vcap, cell.vlen);
	if (rc == RDB_OK)
		rc = bt_read_value(c->t, &cell, 0, c->vbuf, cell.vlen, NULL);
	leaf_release(c, pg);
	*val = rc == RDB_OK ? c->vbuf : NULL;
	return rc;
}

rdb_rc bt_value_read(bt_cursor *c, size_t off, void *buf, size_t n)
{
	pager_page *pg;
	bt_cell cell;
	rdb_rc rc = current(c, &pg, &cell);

	if (rc != RDB_OK)
		return rc;
	if (off > cell.vlen || n > cell.vlen - off)
		rc = rdb_err_set(c->err, RDB_RANGE,
				 "read of %zu bytes at %zu past a value of %u",
				 n, off, cell.vlen);
	else
		rc = bt_read_value(c->t, &cell, off, buf, n, &c->ov);
	leaf_release(c, pg);
	return rc;
}

rdb_rc bt_cursor_delete(bt_cursor *c)
{
	const void *k;
	unsigned char *copy;
	size_t klen;
	rdb_rc rc = bt_key(c, &k, &klen);

	if (rc != RDB_OK)
		return rc;
	copy = rdb_malloc(klen ? klen : 1);
	if (copy == NULL)
		return rdb_err_set(c->err, RDB_NOMEM, "out of memory");
	memcpy(copy, k, klen);
	unposition(c);        /* no pins while the tree changes */
	rc = bt_delete(c->t, c->root, copy, klen);
	if (rc == RDB_OK)
		rc = bt_seek_ge(c, copy, klen);
	rdb_free(copy);
	return rc;
}

rdb_rc bt_cursor_put(bt_cursor *c, const void *key, size_t klen,
		     const void *val, size_t vlen)
{
	rdb_rc rc;

	unposition(c);
	rc = bt_upsert(c->t, c->root, key, klen, val, vlen, NULL);
	if (rc == RDB_OK)
		rc = bt_seek_ge(c, key, klen);
	return rc;
}
