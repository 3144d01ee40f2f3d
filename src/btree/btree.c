/*
 * btree.c -- B+ tree operations: create, drop, insert/upsert/update,
 * delete, get, overflow chains, and rebalancing (split, merge,
 * redistribute, a full leaf shifting cells into a neighbour or spreading
 * them over a window of leaves, root deeper and shallower).
 * Design and invariants: src/btree/README.md.
 */
#include "btree/btree.h"
#include <assert.h>
#include "btree/bt_int.h"
#include "err.h"
#include "mem.h"

/* Leaves that share their cells when one overflows and no neighbour can
 * take cells (README, "Rebalancing"). */
#define BT_SPREAD 5u

/* ==== arena: scratch memory for one operation ========================== */

typedef struct chunk {
	struct chunk *next;
	size_t used, cap;
	unsigned char data[];
} chunk;

typedef struct arena {
	chunk *head;
} arena;

static void *ar_alloc(arena *a, size_t n)
{
	chunk *c = a->head;

	n = (n + 7) & ~(size_t)7;
	if (c == NULL || c->cap - c->used < n) {
		size_t cap = n > 65536 ? n : 65536;

		c = rdb_malloc(sizeof(*c) + cap);
		if (c == NULL)
			return NULL;
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
	}
	c->used += n;
	return c->data + c->used - n;
}

static void ar_free(arena *a)
{
	while (a->head != NULL) {
		chunk *c = a->head;

		a->head = c->next;
		rdb_free(c);
	}
}

/* ==== operation context ================================================= */

typedef struct op {
	pager_txn *t;
	rdb_err *err;
	uint32_t ps;
	rdb_pgno root;
	struct {
		rdb_pgno pgno;
		uint32_t idx;        /* child index taken (inner levels) */
	} path[BT_MAX_DEPTH];
	int depth;                   /* levels; the leaf is path[depth-1] */
	arena ar;
} op;

static void op_init(op *o, pager_txn *t, rdb_pgno root)
{
	o->t = t;
	o->err = pager_txn_err(t);
	o->ps = pager_page_size(pager_txn_pager(t));
	o->root = root;
	o->depth = 0;
	o->ar.head = NULL;
}

static rdb_rc nomem(op *o)
{
	return rdb_err_set(o->err, RDB_NOMEM, "out of memory (B+ tree)");
}

/* Pin a node page and check its header (level -1: any). */
static rdb_rc get_node(op *o, rdb_pgno pgno, int level, pager_page **out)
{
	rdb_rc rc = pager_get(o->t, pgno, out);

	if (rc == RDB_OK && (rc = nd_check_header(pager_data(*out), o->ps,
						  pgno, level, o->err))) {
		pager_unref(*out);
		*out = NULL;
	}
	return rc;
}

/* Walk from the root to the leaf that holds key, recording the path;
 * *leaf receives the leaf, pinned. */
static rdb_rc descend(op *o, const void *key, size_t klen, pager_page **leaf)
{
	rdb_pgno pgno = o->root;
	pager_page *pg;
	int lvl, want = -1;
	rdb_rc rc;

	for (lvl = 0; lvl < BT_MAX_DEPTH; lvl++) {
		unsigned char *d;
		uint32_t i;

		if ((rc = get_node(o, pgno, want, &pg)) != RDB_OK)
			return rc;
		d = pager_data(pg);
		want = (int)nd_level(d) - 1;
		o->path[lvl].pgno = pgno;
		o->path[lvl].idx = 0;
		if (nd_is_leaf(d)) {
			*leaf = pg;
			o->depth = lvl + 1;
			return RDB_OK;
		}
		rc = nd_search(d, o->ps, pgno, key, klen, 1, &i, NULL, o->err);
		if (rc == RDB_OK)
			rc = nd_child(d, o->ps, pgno, i, &pgno, o->err);
		pager_unref(pg);
		if (rc != RDB_OK)
			return rc;
		o->path[lvl].idx = i;
	}
	return rdb_err_set(o->err, RDB_CORRUPT,
			   "tree %u: deeper than %d levels", o->root,
			   BT_MAX_DEPTH);
}

/* ==== overflow chains =================================================== */

/* Write bytes [local, vlen) of val to a new chain; *first gets its head. */
static rdb_rc ovfl_write(op *o, const unsigned char *val, uint32_t local,
			 uint32_t vlen, rdb_pgno *first)
{
	uint32_t cap = bt_ovfl_cap(o->ps), off = local;
	pager_page *prev = NULL, *pg;
	rdb_rc rc = RDB_OK;

	*first = 0;
	while (off < vlen) {
		uint32_t n = vlen - off < cap ? vlen - off : cap;

		rc = pager_alloc(o->t, FMT_PT_BT_OVERFLOW, &pg);
		if (rc != RDB_OK)
			break;
		memcpy(pager_data(pg) + BT_OVFL_DATA, val + off, n);
		if (prev != NULL) {
			fmt_put_u32(pager_data(prev) + BT_OVFL_NEXT,
				    pager_pgno(pg));
			pager_unref(prev);
		} else {
			*first = pager_pgno(pg);
		}
		prev = pg;
		off += n;
	}
	pager_unref(prev);
	return rc;
}

/* Pages in the chain of a value of vlen bytes with local bytes inline. */
static uint32_t ovfl_pages(uint32_t ps, uint32_t local, uint32_t vlen)
{
	uint32_t cap = bt_ovfl_cap(ps);

	return (vlen - local + cap - 1) / cap;
}

/* Pin overflow page pgno, the k-th of a chain of n, and check it. */
static rdb_rc ovfl_get(pager_txn *t, rdb_pgno pgno, uint32_t k, uint32_t n,
		       pager_page **out)
{
	rdb_rc rc;

	if (k >= n || pgno == 0)
		return rdb_err_set(pager_txn_err(t), RDB_CORRUPT,
				   "page %u: overflow chain has the wrong "
				   "length", pgno);
	rc = pager_get(t, pgno, out);
	if (rc == RDB_OK &&
	    pager_data(*out)[FMT_PAGE_TYPE] != FMT_PT_BT_OVERFLOW) {
		pager_unref(*out);
		*out = NULL;
		rc = rdb_err_set(pager_txn_err(t), RDB_CORRUPT,
				 "page %u: not an overflow page", pgno);
	}
	return rc;
}

static rdb_rc ovfl_free(op *o, const bt_cell *c)
{
	uint32_t n = ovfl_pages(o->ps, c->local, c->vlen), k;
	rdb_pgno pgno = c->ovfl;
	rdb_rc rc = RDB_OK;

	for (k = 0; k < n && rc == RDB_OK; k++) {
		pager_page *pg;
		rdb_pgno next;

		rc = ovfl_get(o->t, pgno, k, n, &pg);
		if (rc != RDB_OK)
			break;
		next = fmt_get_u32(pager_data(pg) + BT_OVFL_NEXT);
		pager_unref(pg);
		rc = pager_free_page(o->t, pgno);
		pgno = next;
	}
	return rc;
}

rdb_rc bt_read_value(pager_txn *t, const bt_cell *c, size_t off,
		     unsigned char *buf, size_t len, bt_ovpos *hint)
{
	uint32_t ps = pager_page_size(pager_txn_pager(t));
	uint32_t cap = bt_ovfl_cap(ps), n = ovfl_pages(ps, c->local, c->vlen);
	bt_ovpos at = { c->ovfl, 0, c->local };
	rdb_rc rc = RDB_OK;

	if (off < c->local) {
		size_t m = c->local - off < len ? c->local - off : len;

		memcpy(buf, c->val + off, m);
		buf += m;
		off += m;
		len -= m;
	}
	/* Reading in order resumes at the page where the last read ended. */
	if (hint != NULL && hint->pgno != 0 && hint->pos <= off &&
	    hint->k < n)
		at = *hint;
	while (len > 0 && rc == RDB_OK) {
		pager_page *pg;

		rc = ovfl_get(t, at.pgno, at.k, n, &pg);
		if (rc != RDB_OK)
			break;
		if (off < at.pos + cap) {
			size_t in = off - at.pos;
			size_t m = cap - in < len ? cap - in : len;

			memcpy(buf, pager_data(pg) + BT_OVFL_DATA + in, m);
			buf += m;
			off += m;
			len -= m;
		}
		if (len > 0 || off == at.pos + cap) {
			at.pgno = fmt_get_u32(pager_data(pg) + BT_OVFL_NEXT);
			at.pos += cap;
			at.k++;
		}
		pager_unref(pg);
	}
	if (hint != NULL)
		*hint = at;
	return rc;
}

/* ==== in-memory nodes for rebalancing =================================== */

typedef struct cellv {
	unsigned char *p;            /* owned by the op's arena */
	uint32_t len;
} cellv;

typedef struct nodev {
	int leaf;
	uint32_t level;              /* 0 for leaves */
	uint32_t n, cap;
	cellv *c;
	rdb_pgno right;              /* inner: rightmost child */
	rdb_pgno prev, next;         /* leaf: siblings */
	uint32_t bytes;              /* cells plus slots */
} nodev;

static rdb_rc nv_from_page(op *o, const unsigned char *d, rdb_pgno pgno,
			   nodev *nv)
{
	unsigned char *copy;
	uint32_t i;
	rdb_rc rc;

	nv->leaf = nd_is_leaf(d);
	nv->level = nd_level(d);
	nv->n = nd_n(d);
	nv->cap = nv->n + 4;
	nv->bytes = 0;
	nv->right = nv->leaf ? 0 : fmt_get_u32(d + BT_LINK_A);
	nv->prev = nv->leaf ? fmt_get_u32(d + BT_LINK_A) : 0;
	nv->next = nv->leaf ? fmt_get_u32(d + BT_LINK_B) : 0;
	nv->c = ar_alloc(&o->ar, sizeof(cellv) * nv->cap);
	/* one copy of the page; the cells point into it */
	copy = ar_alloc(&o->ar, o->ps);
	if (nv->c == NULL || copy == NULL)
		return nomem(o);
	memcpy(copy, d, o->ps);
	for (i = 0; i < nv->n; i++) {
		bt_cell c;

		if ((rc = nd_cell(d, o->ps, pgno, i, &c, o->err)) != RDB_OK)
			return rc;
		nv->c[i].p = copy + nd_off(d, i);
		nv->c[i].len = c.size;
		nv->bytes += c.size + 2;
	}
	return RDB_OK;
}

static rdb_rc nv_load(op *o, rdb_pgno pgno, int level, nodev *nv)
{
	pager_page *pg;
	rdb_rc rc = get_node(o, pgno, level, &pg);

	if (rc != RDB_OK)
		return rc;
	rc = nv_from_page(o, pager_data(pg), pgno, nv);
	pager_unref(pg);
	return rc;
}

static rdb_rc nv_insert(op *o, nodev *nv, uint32_t pos,
			const unsigned char *cell, uint32_t len)
{
	unsigned char *p = ar_alloc(&o->ar, len);

	if (p == NULL)
		return nomem(o);
	if (nv->n == nv->cap) {
		cellv *c = ar_alloc(&o->ar, sizeof(cellv) * (nv->cap * 2 + 4));

		if (c == NULL)
			return nomem(o);
		memcpy(c, nv->c, sizeof(cellv) * nv->n);
		nv->c = c;
		nv->cap = nv->cap * 2 + 4;
	}
	memcpy(p, cell, len);
	memmove(nv->c + pos + 1, nv->c + pos, sizeof(cellv) * (nv->n - pos));
	nv->c[pos].p = p;
	nv->c[pos].len = len;
	nv->n++;
	nv->bytes += len + 2;
	return RDB_OK;
}

static void nv_remove(nodev *nv, uint32_t pos)
{
	nv->bytes -= nv->c[pos].len + 2;
	memmove(nv->c + pos, nv->c + pos + 1,
		sizeof(cellv) * (nv->n - pos - 1));
	nv->n--;
}

static rdb_pgno nv_child(const nodev *nv, uint32_t i)
{
	return i < nv->n ? fmt_get_u32(nv->c[i].p) : nv->right;
}

static void nv_set_child(nodev *nv, uint32_t i, rdb_pgno child)
{
	if (i < nv->n)
		fmt_put_u32(nv->c[i].p, child);
	else
		nv->right = child;
}

/* A sub-range of a node's cells as a node of its own. */
static nodev nv_slice(const nodev *nv, uint32_t from, uint32_t to)
{
	nodev s = *nv;
	uint32_t i;

	s.c = nv->c + from;
	s.n = s.cap = to - from;
	s.bytes = 0;
	for (i = 0; i < s.n; i++)
		s.bytes += s.c[i].len + 2;
	return s;
}

/* Write nv into page pgno (made writable). */
static rdb_rc nv_store(op *o, rdb_pgno pgno, const nodev *nv)
{
	pager_page *pg;
	unsigned char *d;
	uint32_t top = o->ps, i;
	rdb_rc rc = pager_get(o->t, pgno, &pg);

	if (rc == RDB_OK && (rc = pager_write(o->t, &pg)) != RDB_OK)
		pager_unref(pg);
	if (rc != RDB_OK)
		return rc;
	assert(nv->bytes <= bt_usable(o->ps));
	d = pager_data(pg);
	nd_init(d, o->ps, nv->level);
	fmt_put_u32(d + BT_LINK_A, nv->leaf ? nv->prev : nv->right);
	fmt_put_u32(d + BT_LINK_B, nv->leaf ? nv->next : 0);
	for (i = 0; i < nv->n; i++) {
		top -= nv->c[i].len;
		memcpy(d + top, nv->c[i].p, nv->c[i].len);
		fmt_put_u16(d + BT_SLOTS + 2 * i, (uint16_t)top);
	}
	fmt_put_u16(d + BT_NCELLS, (uint16_t)nv->n);
	fmt_put_u32(d + BT_CONTENT, top);
	pager_unref(pg);
	return RDB_OK;
}

/* Set the prev link of leaf pgno. */
static rdb_rc set_prev(op *o, rdb_pgno pgno, rdb_pgno prev)
{
	pager_page *pg;
	rdb_rc rc = get_node(o, pgno, 0, &pg);

	if (rc == RDB_OK && (rc = pager_write(o->t, &pg)) == RDB_OK)
		fmt_put_u32(pager_data(pg) + BT_LINK_A, prev);
	pager_unref(pg);
	return rc;
}

/* ==== splitting and separators ========================================= */

/* Key of a cell of a leaf (leaf set) or of an inner node. */
static const unsigned char *cv_key(const cellv *c, int leaf, uint32_t *klen)
{
	return bt_cell_key(c->p, leaf, klen);
}

/* An inner cell (key, child) built in the arena. */
static rdb_rc make_sep(op *o, const unsigned char *key, uint32_t klen,
		       rdb_pgno child, cellv *out)
{
	out->len = bt_inner_cell_size(klen);
	out->p = ar_alloc(&o->ar, out->len);
	if (out->p == NULL)
		return nomem(o);
	(void)bt_inner_cell(out->p, key, klen, child);
	return RDB_OK;
}

/* Key bytes of the separator between leaf cells a < b: the shortest
 * prefix of b's key that is greater than a's key. */
static uint32_t sep_klen(const cellv *a, const cellv *b)
{
	uint32_t na, nb, l = 0;
	const unsigned char *ka = cv_key(a, 1, &na), *kb = cv_key(b, 1, &nb);

	while (l < na && l < nb && ka[l] == kb[l])
		l++;
	return l + 1 <= nb ? l + 1 : nb;
}

/* Separator between leaf cells a < b (sep_klen), pointing at child. */
static rdb_rc leaf_sep(op *o, const cellv *a, const cellv *b, rdb_pgno child,
		       cellv *out)
{
	uint32_t nb;
	const unsigned char *kb = cv_key(b, 1, &nb);

	return make_sep(o, kb, sep_klen(a, b), child, out);
}

/*
 * Where to split nv in two: leaves split before cell s; inner nodes push
 * cell s up.  Appends keep the left node full; otherwise the halves are
 * as even as possible.  0 if no split fits (corrupt input).
 */
static uint32_t split_point(const nodev *nv, uint32_t usable, int append)
{
	uint32_t n = nv->n, i, best = 0, left = 0, bestdiff = UINT32_MAX;
	uint32_t lo = 1, hi = nv->leaf ? n - 1 : n - 2;

	if (n < (nv->leaf ? 2u : 3u))
		return 0;
	if (append) {
		uint32_t s = hi, l = nv->bytes - (nv->c[n - 1].len + 2);

		if (!nv->leaf)
			l -= nv->c[n - 2].len + 2;
		if (l <= usable)
			return s;
	}
	for (i = 0; i < n; i++) {
		uint32_t right, diff;

		if (i >= lo && i <= hi) {
			right = nv->bytes - left -
				(nv->leaf ? 0 : nv->c[i].len + 2);
			diff = left > right ? left - right : right - left;
			if (left <= usable && right <= usable &&
			    diff < bestdiff) {
				best = i;
				bestdiff = diff;
			}
		}
		left += nv->c[i].len + 2;
	}
	return best;
}

/* Split nv at s into L (kept at page lp) and R (page rp); *sep receives
 * the separator cell pointing at lp. */
static rdb_rc halves(op *o, const nodev *nv, uint32_t s, rdb_pgno lp,
		     rdb_pgno rp, nodev *L, nodev *R, cellv *sep)
{
	uint32_t klen;
	const unsigned char *key;

	if (nv->leaf) {
		*L = nv_slice(nv, 0, s);
		*R = nv_slice(nv, s, nv->n);
		L->next = rp;
		R->prev = lp;
		return leaf_sep(o, &nv->c[s - 1], &nv->c[s], lp, sep);
	}
	*L = nv_slice(nv, 0, s);
	*R = nv_slice(nv, s + 1, nv->n);
	L->right = fmt_get_u32(nv->c[s].p);
	key = cv_key(&nv->c[s], 0, &klen);
	return make_sep(o, key, klen, lp, sep);
}

static rdb_rc bad_split(op *o, rdb_pgno pgno)
{
	return rdb_err_set(o->err, RDB_CORRUPT,
			   "page %u: node cannot be split", pgno);
}

/* nv (for page path[lvl]) is too big: split it into itself and a new
 * right sibling, and enter the separator into the parent par. */
static rdb_rc split(op *o, int lvl, nodev *nv, nodev *par, uint32_t i,
		    int append)
{
	rdb_pgno lp = o->path[lvl].pgno, rp;
	uint32_t s = split_point(nv, bt_usable(o->ps), append);
	pager_page *pg;
	nodev L, R;
	cellv sep;
	rdb_rc rc;

	if (s == 0)
		return bad_split(o, lp);
	rc = pager_alloc(o->t, nv->leaf ? FMT_PT_BT_LEAF : FMT_PT_BT_INNER,
			 &pg);
	if (rc != RDB_OK)
		return rc;
	rp = pager_pgno(pg);
	pager_unref(pg);
	if ((rc = halves(o, nv, s, lp, rp, &L, &R, &sep)) != RDB_OK)
		return rc;
	if (nv->leaf && nv->next != 0 &&
	    (rc = set_prev(o, nv->next, rp)) != RDB_OK)
		return rc;
	if ((rc = nv_store(o, lp, &L)) != RDB_OK ||
	    (rc = nv_store(o, rp, &R)) != RDB_OK)
		return rc;
	nv_set_child(par, i, rp);
	return nv_insert(o, par, i, sep.p, sep.len);
}

static rdb_rc combine(op *o, int lvl, nodev *nv, nodev *S, nodev *par,
		      uint32_t i, int sl);

/* A sibling of nv (child i of par): the left one if sl, else the right
 * one. */
static rdb_rc sib_load(op *o, const nodev *nv, const nodev *par, uint32_t i,
		       int sl, nodev *S)
{
	rdb_pgno sib = nv_child(par, sl ? i - 1 : i + 1);
	rdb_rc rc = nv_load(o, sib, (int)nv->level, S);

	if (rc == RDB_OK && S->leaf != nv->leaf)
		return rdb_err_set(o->err, RDB_CORRUPT,
				   "page %u: siblings at different depths",
				   sib);
	return rc;
}

/* nv (page path[lvl], child i of par) is underfull: merge it with a
 * sibling, or move cells between them. */
static rdb_rc merge_or_shift(op *o, int lvl, nodev *nv, nodev *par,
			     uint32_t i)
{
	nodev S;
	rdb_rc rc = sib_load(o, nv, par, i, i > 0, &S);

	return rc == RDB_OK ? combine(o, lvl, nv, &S, par, i, i > 0) : rc;
}

/* The largest cell of nv with its slot. */
static uint32_t biggest(const nodev *nv)
{
	uint32_t i, m = 0;

	for (i = 0; i < nv->n; i++)
		if (nv->c[i].len + 2 > m)
			m = nv->c[i].len + 2;
	return m;
}

/* Can nv and sibling S share two nodes, each at most 15/16 full?  (Room
 * for the separator coming down from an inner parent, and for an even
 * cut among cells of up to `big` bytes.) */
static int two_fit(const op *o, const nodev *nv, const nodev *S)
{
	uint32_t u = bt_usable(o->ps), big;

	big = biggest(nv) > biggest(S) ? biggest(nv) : biggest(S);
	if (!nv->leaf)
		big = bt_max_cell(o->ps) + 2;
	return S->bytes + nv->bytes + 2 * big <= 2 * u - u / 8;
}

/* A window of leaves under one parent that share their cells (spread):
 * children lo .. lo+k-1, cut into kk parts. */
typedef struct window {
	uint32_t lo, k, kk;
	rdb_pgno pg[BT_SPREAD + 1];      /* the parts' pages, in order */
	uint32_t cut[BT_SPREAD + 2];     /* part j is cells [cut[j], cut[j+1]) */
	nodev S[BT_SPREAD];              /* the leaves as they were */
	nodev C;                         /* all their cells, in order */
} window;

/* The window around child i of a parent with nch children: the child,
 * one to its left and the rest to its right, shifted at the ends. */
static void win_range(window *w, uint32_t i, uint32_t nch)
{
	uint32_t hi = (i > 0 ? i - 1 : 0) + BT_SPREAD;

	hi = hi < nch ? hi : nch;
	w->lo = hi > BT_SPREAD ? hi - BT_SPREAD : 0;
	w->k = hi - w->lo;
}

/* Load the leaves of the window (pages in w->pg; child i is nv, already
 * in memory, at page path[lvl]). */
static rdb_rc spread_load(op *o, const nodev *nv, uint32_t i, window *w,
			  int lvl)
{
	uint32_t j;
	rdb_rc rc;

	for (j = 0; j < w->k; j++) {
		if (w->lo + j == i) {
			w->pg[j] = o->path[lvl].pgno;
			w->S[j] = *nv;
			continue;
		}
		if ((rc = nv_load(o, w->pg[j], 0, &w->S[j])) != RDB_OK)
			return rc;
		if (!w->S[j].leaf)
			return rdb_err_set(o->err, RDB_CORRUPT, "page %u: "
					   "siblings at different depths",
					   w->pg[j]);
	}
	return RDB_OK;
}

/* Cut the cells of C into kk parts of about equal bytes: cut[0] = 0 ..
 * cut[kk] = C->n, each cut where the bytes before it come closest to its
 * share.  0 if some part would be empty, too big or below the minimum
 * fill. */
static int spread_cuts(const op *o, const nodev *C, uint32_t kk,
		       uint32_t *cut)
{
	uint32_t p, i = 0, u = bt_usable(o->ps), fill = bt_min_fill(o->ps);
	int64_t b = 0, prev = 0, want, nb;

	cut[0] = 0;
	for (p = 1; p < kk; p++) {
		want = (int64_t)C->bytes * p / kk;
		while (i + 1 < C->n) {
			nb = b + C->c[i].len + 2;
			if (b >= want || nb - want >= want - b)
				break;
			b = nb;
			i++;
		}
		if (i <= cut[p - 1])
			return 0;
		if (b - prev > u || b - prev < fill)
			return 0;
		cut[p] = i;
		prev = b;
	}
	cut[kk] = C->n;
	return C->bytes - prev <= u && C->bytes - prev >= fill;
}

/*
 * Leaf nv (page path[lvl], child i of its parent) is too big: spread its
 * cells and those of up to BT_SPREAD - 1 neighbours (the window around
 * it, pages in w->pg) over the same pages if they fit evenly, else over
 * one page more (placed before the window's last page, so the leaves
 * around keep their links), as SQLite's balance_nonroot() does over three
 * siblings.  *ok is 0 if no even cut exists (then the caller splits nv
 * alone).  Nothing is written here.
 */
static rdb_rc spread_plan(op *o, int lvl, nodev *nv, uint32_t i, window *w,
			  int *ok)
{
	nodev *C = &w->C;
	uint32_t j;
	rdb_rc rc;

	*ok = 0;
	if ((rc = spread_load(o, nv, i, w, lvl)) != RDB_OK)
		return rc;
	memset(C, 0, sizeof(*C));
	C->leaf = 1;
	for (j = 0; j < w->k; j++)
		C->cap += w->S[j].n;
	C->c = ar_alloc(&o->ar, sizeof(cellv) * C->cap);
	if (C->c == NULL)
		return nomem(o);
	for (j = 0; j < w->k; j++) {
		memcpy(C->c + C->n, w->S[j].c, sizeof(cellv) * w->S[j].n);
		C->n += w->S[j].n;
		C->bytes += w->S[j].bytes;
	}
	w->kk = w->k;
	*ok = spread_cuts(o, C, w->kk, w->cut) ||
	      spread_cuts(o, C, ++w->kk, w->cut);
	return RDB_OK;
}

/* Size of the separator after part j of the window. */
static uint32_t win_sep_size(const window *w, uint32_t j)
{
	const cellv *c = w->C.c + w->cut[j + 1];

	return bt_inner_cell_size(sep_klen(c - 1, c));
}

/* Write the planned window: a new page if it needs one, then each part. */
static rdb_rc spread_store(op *o, window *w)
{
	uint32_t j, k = w->k;
	pager_page *npg;
	rdb_rc rc;

	if (w->kk > k) {
		if ((rc = pager_alloc(o->t, FMT_PT_BT_LEAF, &npg)) != RDB_OK)
			return rc;
		w->pg[k] = w->pg[k - 1];
		w->pg[k - 1] = pager_pgno(npg);
		pager_unref(npg);
	}
	for (j = 0; j < w->kk; j++) {
		nodev part = nv_slice(&w->C, w->cut[j], w->cut[j + 1]);

		part.prev = j > 0 ? w->pg[j - 1] : w->S[0].prev;
		part.next = j + 1 < w->kk ? w->pg[j + 1] : w->S[k - 1].next;
		if ((rc = nv_store(o, w->pg[j], &part)) != RDB_OK)
			return rc;
	}
	return RDB_OK;
}

/* The separator after part j of the stored window, pointing at it. */
static rdb_rc win_sep(op *o, const window *w, uint32_t j, cellv *sep)
{
	const cellv *c = w->C.c + w->cut[j + 1];
	uint32_t kl;
	const unsigned char *key = cv_key(c, 1, &kl);

	return make_sep(o, key, sep_klen(c - 1, c), w->pg[j], sep);
}

/* spread() with the parent par in memory: *done set if it spread. */
static rdb_rc spread(op *o, int lvl, nodev *nv, nodev *par, uint32_t i,
		     int *done)
{
	window w;
	uint32_t j;
	int ok;
	rdb_rc rc;

	win_range(&w, i, par->n + 1);
	for (j = 0; j < w.k; j++)
		w.pg[j] = nv_child(par, w.lo + j);
	if ((rc = spread_plan(o, lvl, nv, i, &w, &ok)) != RDB_OK || !ok)
		return rc;
	*done = 1;
	if ((rc = spread_store(o, &w)) != RDB_OK)
		return rc;
	for (j = 0; j + 1 < w.k; j++)
		nv_remove(par, w.lo);
	for (j = w.kk - 1; j-- > 0;) {
		cellv sep;

		if ((rc = win_sep(o, &w, j, &sep)) != RDB_OK ||
		    (rc = nv_insert(o, par, w.lo, sep.p, sep.len)) != RDB_OK)
			return rc;
	}
	return RDB_OK;
}

/*
 * nv (page path[lvl], child i of par) is too big.  A leaf spreads its
 * cells over its neighbours (spread).  An inner node: if it and a sibling
 * (the left one, else the right one) fit in two nodes, spread their cells
 * evenly over the two instead of splitting (*done set).  Siblings are
 * read only when nv overflows.
 */
static rdb_rc shift_over(op *o, int lvl, nodev *nv, nodev *par, uint32_t i,
			 int *done)
{
	int sl = i > 0;
	nodev S, S2;
	rdb_rc rc;

	*done = 0;
	if (par->n == 0)
		return RDB_OK;
	if (nv->leaf)
		return spread(o, lvl, nv, par, i, done);
	if ((rc = sib_load(o, nv, par, i, sl, &S)) != RDB_OK)
		return rc;
	if (two_fit(o, nv, &S)) {
		*done = 1;
		return combine(o, lvl, nv, &S, par, i, sl);
	}
	if (sl && i < par->n) {
		if ((rc = sib_load(o, nv, par, i, 0, &S2)) != RDB_OK)
			return rc;
		if (two_fit(o, nv, &S2)) {
			*done = 1;
			return combine(o, lvl, nv, &S2, par, i, 0);
		}
	}
	return RDB_OK;
}

/* nv (page path[lvl], child i of par) and its sibling S (left if sl):
 * merge them if they fit in one page, else spread their cells evenly. */
static rdb_rc combine(op *o, int lvl, nodev *nv, nodev *S, nodev *par,
		      uint32_t i, int sl)
{
	uint32_t si = sl ? i - 1 : i, klen, s;
	rdb_pgno lp, rp, sib = nv_child(par, sl ? i - 1 : i + 1);
	nodev C, L, R, *left, *right;
	const unsigned char *key;
	cellv sep;
	rdb_rc rc;

	left = sl ? S : nv;
	right = sl ? nv : S;
	lp = sl ? sib : o->path[lvl].pgno;
	rp = sl ? o->path[lvl].pgno : sib;
	C = *left;
	C.cap = left->n + right->n + 1;
	C.c = ar_alloc(&o->ar, sizeof(cellv) * C.cap);
	if (C.c == NULL)
		return nomem(o);
	memcpy(C.c, left->c, sizeof(cellv) * left->n);
	if (!C.leaf) {
		key = cv_key(&par->c[si], 0, &klen);
		if ((rc = make_sep(o, key, klen, left->right,
				   &C.c[C.n])) != RDB_OK)
			return rc;
		C.bytes += C.c[C.n++].len + 2;
		C.right = right->right;
	}
	memcpy(C.c + C.n, right->c, sizeof(cellv) * right->n);
	C.n += right->n;
	C.bytes += right->bytes;
	C.next = right->next;
	if (C.bytes <= bt_usable(o->ps)) {
		if (C.leaf && C.next != 0 &&
		    (rc = set_prev(o, C.next, lp)) != RDB_OK)
			return rc;
		if ((rc = nv_store(o, lp, &C)) != RDB_OK ||
		    (rc = pager_free_page(o->t, rp)) != RDB_OK)
			return rc;
		nv_remove(par, si);
		nv_set_child(par, si, lp);
		return RDB_OK;
	}
	s = split_point(&C, bt_usable(o->ps), 0);
	if (s == 0)
		return bad_split(o, lp);
	if ((rc = halves(o, &C, s, lp, rp, &L, &R, &sep)) != RDB_OK ||
	    (rc = nv_store(o, lp, &L)) != RDB_OK ||
	    (rc = nv_store(o, rp, &R)) != RDB_OK)
		return rc;
	nv_remove(par, si);
	return nv_insert(o, par, si, sep.p, sep.len);
}

/* The root's new content nv: store it, grow the tree a level if it does
 * not fit, or shrink it a level if the root has a single child. */
static rdb_rc root_fix(op *o, nodev *nv, int append)
{
	rdb_pgno root = o->path[0].pgno, lp, rp, child;
	pager_page *pg;
	nodev L, R, top;
	cellv sep;
	uint32_t s;
	rdb_rc rc;

	if (nv->bytes <= bt_usable(o->ps)) {
		if (nv->leaf || nv->n > 0)
			return nv_store(o, root, nv);
		child = nv->right;
		if ((rc = nv_load(o, child, (int)nv->level - 1, &L)) != RDB_OK)
			return rc;
		L.prev = L.next = 0;
		if ((rc = nv_store(o, root, &L)) != RDB_OK)
			return rc;
		return pager_free_page(o->t, child);
	}
	s = split_point(nv, bt_usable(o->ps), append);
	if (s == 0)
		return bad_split(o, root);
	if ((rc = pager_alloc(o->t, FMT_PT_BT_LEAF, &pg)) != RDB_OK)
		return rc;
	lp = pager_pgno(pg);
	pager_unref(pg);
	if ((rc = pager_alloc(o->t, FMT_PT_BT_LEAF, &pg)) != RDB_OK)
		return rc;
	rp = pager_pgno(pg);
	pager_unref(pg);
	if ((rc = halves(o, nv, s, lp, rp, &L, &R, &sep)) != RDB_OK)
		return rc;
	L.prev = R.next = 0;
	if ((rc = nv_store(o, lp, &L)) != RDB_OK ||
	    (rc = nv_store(o, rp, &R)) != RDB_OK)
		return rc;
	memset(&top, 0, sizeof(top));
	top.level = nv->level + 1;
	top.c = &sep;
	top.n = top.cap = 1;
	top.bytes = sep.len + 2;
	top.right = rp;
	return nv_store(o, root, &top);
}

/*
 * nv is the new content of the node at path[lvl].  Store it if it fits
 * and is full enough; otherwise split, merge or redistribute with a
 * sibling, which changes the parent, and continue one level up.
 * Underfull nodes made by appends at the right edge are left alone.
 */
static rdb_rc rebalance(op *o, int lvl, nodev *nv, int append)
{
	nodev par;
	uint32_t i, n0;
	rdb_rc rc;

	for (; lvl > 0; lvl--) {
		if (nv->bytes <= bt_usable(o->ps) &&
		    (append || nv->bytes >= bt_min_fill(o->ps)))
			return nv_store(o, o->path[lvl].pgno, nv);
		rc = nv_load(o, o->path[lvl - 1].pgno, (int)nv->level + 1, &par);
		if (rc != RDB_OK)
			return rc;
		i = o->path[lvl - 1].idx;
		n0 = par.n;
		if (i > n0 || par.leaf)
			return rdb_err_set(o->err, RDB_CORRUPT,
					   "page %u: path no longer matches",
					   o->path[lvl - 1].pgno);
		if (nv->bytes > bt_usable(o->ps)) {
			int done = 0;

			rc = append ? RDB_OK
				    : shift_over(o, lvl, nv, &par, i, &done);
			if (rc == RDB_OK && !done)
				rc = split(o, lvl, nv, &par, i, append);
		} else if (par.n == 0) {
			rc = nv_store(o, o->path[lvl].pgno, nv);
		} else {
			rc = merge_or_shift(o, lvl, nv, &par, i);
		}
		if (rc != RDB_OK)
			return rc;
		append = append && i == n0;
		*nv = par;
	}
	return root_fix(o, nv, append);
}

/* ==== leaf overflow: shifting cells into a neighbour ==================== */

/* A leaf that overflowed, as it would be with the new cell: its cells
 * and the new one at pos, numbered 0 .. n-1.  Cells are parsed (checked)
 * only as the shift reaches them. */
typedef struct vleaf {
	const unsigned char *d;      /* the leaf's page (borrowed) */
	rdb_pgno pgno;
	uint32_t pos, n;
	cellv cell;                  /* the new cell (borrowed) */
	uint32_t bytes;              /* cells plus slots, the new one too */
} vleaf;

static rdb_rc vl_cell(op *o, const vleaf *v, uint32_t j, cellv *out)
{
	bt_cell c;
	rdb_rc rc;

	if (j == v->pos) {
		*out = v->cell;
		return RDB_OK;
	}
	j -= j > v->pos;
	if ((rc = nd_cell(v->d, o->ps, v->pgno, j, &c, o->err)) != RDB_OK)
		return rc;
	out->p = (unsigned char *)v->d + nd_off(v->d, j);
	out->len = c.size;
	return RDB_OK;
}

/*
 * Cut v against a neighbour holding nb bytes: cells [*s, n) go to the
 * front of the right neighbour (right set) or [0, *s) to the end of the
 * left one.  Cells move while that makes the two more even (or v does
 * not fit); *s is 0 if the result would not fit both pages or would
 * leave one below the minimum fill.  edge[0] and edge[1] get the cells
 * either side of the cut (for the new separator).
 */
static rdb_rc shift_cut(op *o, const vleaf *v, uint32_t nb, int right,
			uint32_t *s, cellv *edge)
{
	uint32_t keep = v->bytes, u = bt_usable(o->ps), m = 0, j;
	cellv c;
	rdb_rc rc;

	*s = 0;
	while (m + 1 < v->n) {
		j = right ? v->n - 1 - m : m;
		if ((rc = vl_cell(o, v, j, &c)) != RDB_OK)
			return rc;
		if (keep <= u && (keep <= nb || keep - nb <= c.len + 2))
			break;
		keep -= c.len + 2;
		nb += c.len + 2;
		edge[right ? 1 : 0] = c;
		m++;
	}
	if (m == 0 || keep > u || nb > u || keep < bt_min_fill(o->ps) ||
	    nb < bt_min_fill(o->ps))
		return RDB_OK;
	*s = right ? v->n - m : m;
	return vl_cell(o, v, right ? *s - 1 : *s, &edge[right ? 0 : 1]);
}

/* Copy the cells [from, to) of v to leaf r (page rpg) at position at. */
static rdb_rc shift_in(op *o, const vleaf *v, unsigned char *r, rdb_pgno rpg,
		       uint32_t from, uint32_t to, uint32_t at)
{
	uint32_t j, bytes = 0;
	cellv c;
	rdb_rc rc;

	for (j = from; j < to; j++) {
		if ((rc = vl_cell(o, v, j, &c)) != RDB_OK)
			return rc;
		bytes += c.len + 2;
	}
	if (nd_gap(r) < bytes && (rc = nd_defrag(r, o->ps, rpg, o->err)))
		return rc;
	for (j = from; j < to; j++) {
		(void)vl_cell(o, v, j, &c);
		if (!nd_insert(r, o->ps, at + j - from, c.p, c.len))
			return bad_split(o, rpg);
	}
	return RDB_OK;
}

/* Remove v's own cells among [from, to) from its page d, then put the
 * new cell in at position at unless it was among them.  The new cell
 * goes into the gap, else into the smallest freed cell it fits (no
 * compaction), else the page is compacted first. */
static rdb_rc shift_out(op *o, const vleaf *v, unsigned char *d,
			uint32_t from, uint32_t to, uint32_t at)
{
	int in = v->pos >= from && v->pos < to;
	uint32_t moved = to - from - (uint32_t)in, j, r, off, hole = 0;
	uint32_t best = UINT32_MAX;
	cellv c;
	rdb_rc rc;

	for (j = 0; j < moved; j++) {     /* last first: indices stay put */
		r = (from > 0 ? from - (v->pos < from) : 0) + moved - 1 - j;
		(void)vl_cell(o, v, r + (r >= v->pos), &c);
		off = nd_off(d, r);
		if (off != fmt_get_u32(d + BT_CONTENT) &&
		    c.len >= v->cell.len && c.len < best) {
			hole = off;       /* counted in frag once removed */
			best = c.len;
		}
		nd_remove(d, o->ps, r, c.len);
	}
	if (in)
		return RDB_OK;
	if (nd_gap(d) < v->cell.len + 2 && hole != 0 && nd_gap(d) >= 2) {
		nd_insert_in(d, at, hole, v->cell.p, v->cell.len);
		return RDB_OK;
	}
	if (nd_gap(d) < v->cell.len + 2 &&
	    (rc = nd_defrag(d, o->ps, v->pgno, o->err)) != RDB_OK)
		return rc;
	if (!nd_insert(d, o->ps, at, v->cell.p, v->cell.len))
		return bad_split(o, v->pgno);
	return RDB_OK;
}

/* Move the cells [s, n) of v to the front of leaf r (page rpg; right
 * set) or [0, s) to its end, and put the new cell in v's page d if it
 * stays there.  Every page is writable and big enough (shift_cut). */
static rdb_rc shift_move(op *o, const vleaf *v, unsigned char *d,
			 unsigned char *r, rdb_pgno rpg, uint32_t s, int right)
{
	rdb_rc rc;

	if (right) {
		if ((rc = shift_in(o, v, r, rpg, s, v->n, 0)) != RDB_OK)
			return rc;
		return shift_out(o, v, d, s, v->n, v->pos);
	}
	if ((rc = shift_in(o, v, r, rpg, 0, s, nd_n(r))) != RDB_OK)
		return rc;
	return shift_out(o, v, d, 0, s, v->pos - s);
}

/* The separator between leaf cells a < b as an inner cell in buf (child
 * of separator si of parent page pd), *len its size; *fit is 0 if the
 * parent would then overflow or fall below its minimum fill. */
static rdb_rc shift_sep(op *o, const unsigned char *pd, rdb_pgno pgno,
			uint32_t si, const cellv *a, const cellv *b,
			unsigned char *buf, uint32_t *len, int *fit)
{
	uint32_t nb, used = nd_used(pd, o->ps);
	const unsigned char *kb = cv_key(b, 1, &nb);
	bt_cell old;
	rdb_rc rc;

	*fit = 0;
	if ((rc = nd_cell(pd, o->ps, pgno, si, &old, o->err)) != RDB_OK)
		return rc;
	*len = bt_inner_cell(buf, kb, sep_klen(a, b), old.child);
	*fit = used - old.size + *len <= bt_usable(o->ps) &&
	       (*len >= old.size || o->depth == 2 ||
		used - old.size + *len >= bt_min_fill(o->ps));
	return RDB_OK;
}

/* Put the separator cell of shift_sep() in place of separator si. */
static rdb_rc shift_sep_put(op *o, unsigned char *pd, rdb_pgno pgno,
			    uint32_t si, const unsigned char *cell,
			    uint32_t len)
{
	uint32_t off = nd_off(pd, si);
	bt_cell old;
	rdb_rc rc;

	(void)nd_cell(pd, o->ps, pgno, si, &old, o->err);
	if (len <= old.size) {
		/* In the old cell's place: no compaction of the parent. */
		memcpy(pd + off, cell, len);
		fmt_put_u32(pd + BT_FRAG, fmt_get_u32(pd + BT_FRAG) +
			    old.size - len);
		return RDB_OK;
	}
	nd_remove(pd, o->ps, si, old.size);
	if (nd_gap(pd) < len + 2 &&
	    (rc = nd_defrag(pd, o->ps, pgno, o->err)) != RDB_OK)
		return rc;
	if (!nd_insert(pd, o->ps, si, cell, len))
		return bad_split(o, pgno);
	return RDB_OK;
}

/* Pin the leaves either side of child i of parent pd (page ppg): np[0]
 * the left one, np[1] the right one (NULL where there is none); nb gets
 * their used bytes and sib their pages. */
static rdb_rc shift_sibs(op *o, const unsigned char *pd, rdb_pgno ppg,
			 uint32_t i, pager_page **np, uint32_t *nb,
			 rdb_pgno *sib)
{
	uint32_t k;
	rdb_rc rc;

	for (k = 0; k < 2; k++) {
		np[k] = NULL;
		nb[k] = 0;
		if (k == 0 ? i == 0 : i >= nd_n(pd))
			continue;
		if ((rc = nd_child(pd, o->ps, ppg, k ? i + 1 : i - 1, &sib[k],
				   o->err)) != RDB_OK ||
		    (rc = get_node(o, sib[k], 0, &np[k])) != RDB_OK)
			return rc;
		nb[k] = nd_used(pager_data(np[k]), o->ps);
	}
	return RDB_OK;
}

/*
 * Leaf lp (path[depth-1], writable) has no room for the cell of len bytes
 * at pos.  If its neighbour with more room (under the same parent) can
 * take enough cells, cells move into it until the two are about even,
 * the cell goes in, and the one separator between them is replaced: two
 * leaves and one parent cell change in place, only the moved cells are
 * parsed, nothing is allocated (*done set).  Else nothing changes and the
 * caller spreads the window (README, "Rebalancing").
 */
static rdb_rc shift_leaf(op *o, pager_page *lp, uint32_t pos,
			 const unsigned char *cell, uint32_t len, int *done)
{
	unsigned char sep[(FMT_MAX_PAGE_SIZE - BT_HDR) / 4];
	rdb_pgno ppg = o->path[o->depth - 2].pgno, sib[2], ch;
	uint32_t i = o->path[o->depth - 2].idx, nb[2], s, seplen;
	pager_page *pp = NULL, *np[2] = { NULL, NULL };
	cellv edge[2];
	vleaf v;
	int r, fit = 0;
	rdb_rc rc;

	*done = 0;
	if ((rc = get_node(o, ppg, 1, &pp)) != RDB_OK)
		return rc;
	if (i > nd_n(pager_data(pp)) ||
	    (rc = nd_child(pager_data(pp), o->ps, ppg, i, &ch, o->err)) ||
	    ch != pager_pgno(lp)) {
		rc = rc ? rc : rdb_err_set(o->err, RDB_CORRUPT, "page %u: path "
					   "no longer matches", ppg);
		goto out;
	}
	if ((rc = shift_sibs(o, pager_data(pp), ppg, i, np, nb, sib)))
		goto out;
	r = np[1] != NULL && (np[0] == NULL || nb[1] <= nb[0]);
	if (np[r] == NULL)
		goto out;
	v.d = pager_data(lp);
	v.pgno = pager_pgno(lp);
	v.pos = pos;
	v.n = nd_n(v.d) + 1;
	v.cell.p = (unsigned char *)cell;
	v.cell.len = len;
	v.bytes = nd_used(v.d, o->ps) + len + 2;
	if ((rc = shift_cut(o, &v, nb[r], r, &s, edge)) != RDB_OK || s == 0 ||
	    (rc = shift_sep(o, pager_data(pp), ppg, r ? i : i - 1, &edge[0],
			    &edge[1], sep, &seplen, &fit)) != RDB_OK || !fit)
		goto out;
	if ((rc = pager_write(o->t, &pp)) != RDB_OK ||
	    (rc = pager_write(o->t, &np[r])) != RDB_OK ||
	    (rc = shift_move(o, &v, pager_data(lp), pager_data(np[r]), sib[r],
			     s, r)) != RDB_OK)
		goto out;
	rc = shift_sep_put(o, pager_data(pp), ppg, r ? i : i - 1, sep, seplen);
	*done = rc == RDB_OK;
out:
	pager_unref(np[0]);
	pager_unref(np[1]);
	pager_unref(pp);
	return rc;
}

/* Would the parent page pd (page ppg) fit with the window's k-1 old
 * separators (from w->lo) replaced by its kk-1 new ones, and stay above
 * its minimum fill if it shrinks? */
static rdb_rc win_fits(op *o, const unsigned char *pd, rdb_pgno ppg,
		       const window *w, int *fit)
{
	uint32_t used = nd_used(pd, o->ps), now = used, j;
	bt_cell c;
	rdb_rc rc;

	*fit = 0;
	for (j = 0; j + 1 < w->k; j++) {
		rc = nd_cell(pd, o->ps, ppg, w->lo + j, &c, o->err);
		if (rc != RDB_OK)
			return rc;
		now -= c.size + 2;
	}
	for (j = 0; j + 1 < w->kk; j++)
		now += win_sep_size(w, j) + 2;
	*fit = now <= bt_usable(o->ps) &&
	       (now >= used || o->depth == 2 || now >= bt_min_fill(o->ps));
	return RDB_OK;
}

/* Replace the window's old separators in parent page pd by the new ones
 * of the stored window (win_fits() said they fit). */
static rdb_rc win_put_seps(op *o, unsigned char *pd, rdb_pgno ppg,
			   const window *w)
{
	unsigned char buf[(FMT_MAX_PAGE_SIZE - BT_HDR) / 4];
	uint32_t j, need = 0, kl, len;
	bt_cell c;
	rdb_rc rc;

	for (j = 0; j + 1 < w->k; j++) {
		(void)nd_cell(pd, o->ps, ppg, w->lo, &c, o->err);
		nd_remove(pd, o->ps, w->lo, c.size);
	}
	for (j = 0; j + 1 < w->kk; j++)
		need += win_sep_size(w, j) + 2;
	if (nd_gap(pd) < need &&
	    (rc = nd_defrag(pd, o->ps, ppg, o->err)) != RDB_OK)
		return rc;
	for (j = 0; j + 1 < w->kk; j++) {
		const cellv *cv = w->C.c + w->cut[j + 1];
		const unsigned char *key = cv_key(cv, 1, &kl);

		len = bt_inner_cell(buf, key, sep_klen(cv - 1, cv), w->pg[j]);
		if (!nd_insert(pd, o->ps, w->lo + j, buf, len))
			return bad_split(o, ppg);
	}
	return RDB_OK;
}

/*
 * Leaf nv (page path[depth-1], unpinned) is too big and no neighbour
 * could take cells (shift_leaf): spread the window around it
 * (spread_plan) and replace the window's separators in the parent page
 * in place, without reading the parent into memory.  *done stays 0 and
 * nothing changes if the parent has one child, there is no even cut or
 * the parent has no room for the new separators: then rebalance() does
 * it all the general way.
 */
static rdb_rc spread_leaf(op *o, nodev *nv, int *done)
{
	int lvl = o->depth - 1, ok = 0, fit = 0;
	rdb_pgno ppg = o->path[lvl - 1].pgno;
	uint32_t i = o->path[lvl - 1].idx, j, n;
	pager_page *pp;
	window w;
	rdb_rc rc;

	*done = 0;
	if ((rc = get_node(o, ppg, 1, &pp)) != RDB_OK)
		return rc;
	n = nd_n(pager_data(pp));
	if (n == 0 || i > n)
		goto out;
	win_range(&w, i, n + 1);
	for (j = 0; j < w.k && rc == RDB_OK; j++)
		rc = nd_child(pager_data(pp), o->ps, ppg, w.lo + j, &w.pg[j],
			      o->err);
	if (rc == RDB_OK && w.pg[i - w.lo] != o->path[lvl].pgno)
		rc = rdb_err_set(o->err, RDB_CORRUPT, "page %u: path no "
				 "longer matches", ppg);
	if (rc != RDB_OK ||
	    (rc = spread_plan(o, lvl, nv, i, &w, &ok)) != RDB_OK || !ok ||
	    (rc = win_fits(o, pager_data(pp), ppg, &w, &fit)) != RDB_OK ||
	    !fit)
		goto out;
	if ((rc = pager_write(o->t, &pp)) == RDB_OK &&
	    (rc = spread_store(o, &w)) == RDB_OK)
		rc = win_put_seps(o, pager_data(pp), ppg, &w);
	*done = rc == RDB_OK;
out:
	pager_unref(pp);
	return rc;
}

/* ==== public operations ================================================= */

rdb_rc bt_create(pager_txn *t, rdb_pgno *root)
{
	pager_page *pg;
	rdb_rc rc = pager_alloc(t, FMT_PT_BT_LEAF, &pg);

	*root = 0;
	if (rc != RDB_OK)
		return rc;
	nd_init(pager_data(pg), pager_page_size(pager_txn_pager(t)), 0);
	*root = pager_pgno(pg);
	pager_unref(pg);
	return RDB_OK;
}

/* The children of inner node d, into a new array the caller frees. */
static rdb_rc children(op *o, const unsigned char *d, rdb_pgno pgno,
		       rdb_pgno **out, uint32_t *n)
{
	uint32_t i;
	rdb_rc rc = RDB_OK;

	*n = nd_n(d) + 1;
	*out = rdb_malloc(sizeof(rdb_pgno) * *n);
	if (*out == NULL)
		return nomem(o);
	for (i = 0; i < *n && rc == RDB_OK; i++)
		rc = nd_child(d, o->ps, pgno, i, &(*out)[i], o->err);
	return rc;
}

/* Free the overflow chains of leaf d. */
static rdb_rc free_chains(op *o, const unsigned char *d, rdb_pgno pgno)
{
	uint32_t i;
	rdb_rc rc = RDB_OK;

	for (i = 0; rc == RDB_OK && i < nd_n(d); i++) {
		bt_cell c;

		rc = nd_cell(d, o->ps, pgno, i, &c, o->err);
		if (rc == RDB_OK && c.ovfl != 0)
			rc = ovfl_free(o, &c);
	}
	return rc;
}

static rdb_rc drop_node(op *o, rdb_pgno pgno, int lvl, int want)
{
	rdb_pgno *kids = NULL;
	uint32_t n = 0, i;
	pager_page *pg;
	rdb_rc rc;

	if (lvl >= BT_MAX_DEPTH)
		return rdb_err_set(o->err, RDB_CORRUPT,
				   "tree %u: deeper than %d levels", o->root,
				   BT_MAX_DEPTH);
	if ((rc = get_node(o, pgno, want, &pg)) != RDB_OK)
		return rc;
	want = (int)nd_level(pager_data(pg)) - 1;
	if (nd_is_leaf(pager_data(pg)))
		rc = free_chains(o, pager_data(pg), pgno);
	else
		rc = children(o, pager_data(pg), pgno, &kids, &n);
	pager_unref(pg);
	for (i = 0; rc == RDB_OK && i < n; i++)
		rc = drop_node(o, kids[i], lvl + 1, want);
	rdb_free(kids);
	if (rc == RDB_OK)
		rc = pager_free_page(o->t, pgno);
	return rc;
}

rdb_rc bt_drop(pager_txn *t, rdb_pgno root)
{
	op o;
	rdb_rc rc;

	op_init(&o, t, root);
	rc = drop_node(&o, root, 0, -1);
	ar_free(&o.ar);
	return rc;
}

/* Encode a leaf cell for key/val into buf (bt_max_cell bytes), writing
 * the overflow chain if needed. */
static rdb_rc build_cell(op *o, const void *key, uint32_t klen,
			 const unsigned char *val, uint32_t vlen,
			 unsigned char *buf, uint32_t *len)
{
	uint32_t local = bt_local(o->ps, klen, vlen), h;
	rdb_pgno first = 0;
	rdb_rc rc;

	h = bt_vput(buf, klen);
	h += bt_vput(buf + h, vlen);
	if (klen > 0)
		memcpy(buf + h, key, klen);
	if (local > 0)
		memcpy(buf + h + klen, val, local);
	*len = h + klen + local;
	if (local == vlen)
		return RDB_OK;
	if ((rc = ovfl_write(o, val, local, vlen, &first)) != RDB_OK)
		return rc;
	fmt_put_u32(buf + *len, first);
	*len += 4;
	return RDB_OK;
}

rdb_rc bt_leaf_cell(pager_txn *t, const void *key, uint32_t klen,
		    const void *val, uint32_t vlen, unsigned char *buf,
		    uint32_t *len)
{
	op o;
	rdb_rc rc;

	op_init(&o, t, 0);
	rc = build_cell(&o, key, klen, val, vlen, buf, len);
	ar_free(&o.ar);
	return rc;
}

enum { PUT_INSERT, PUT_UPSERT, PUT_UPDATE };

static rdb_rc check_sizes(pager_txn *t, size_t klen, size_t vlen)
{
	size_t max = bt_max_key(pager_page_size(pager_txn_pager(t)));

	if (klen > max)
		return rdb_err_set(pager_txn_err(t), RDB_TOOBIG,
				   "key of %zu bytes is longer than the "
				   "maximum of %zu", klen, max);
	if (vlen > BT_MAX_VALUE)
		return rdb_err_set(pager_txn_err(t), RDB_TOOBIG,
				   "value of %zu bytes is longer than the "
				   "maximum of %u", vlen, BT_MAX_VALUE);
	return RDB_OK;
}

/* With the leaf pinned and writable: replace or insert the cell.  *pgp
 * is unpinned (and NULLed) before rebalancing, which may free it. */
static rdb_rc put_in_leaf(op *o, pager_page **pgp, uint32_t pos, int eq,
			  const unsigned char *cell, uint32_t len)
{
	unsigned char *d = pager_data(*pgp);
	rdb_pgno pgno = pager_pgno(*pgp);
	uint32_t n0 = nd_n(d);
	int is_root = o->depth == 1, fits, append, done = 0;
	bt_cell old;
	nodev nv;
	rdb_rc rc;

	if (eq) {
		if ((rc = nd_cell(d, o->ps, pgno, pos, &old, o->err)) ||
		    (old.ovfl != 0 && (rc = ovfl_free(o, &old))))
			return rc;
		nd_remove(d, o->ps, pos, old.size);
	}
	/* The leaf's cells are unchecked: if the cell fits only after a
	 * compaction, compact with every cell checked (a damaged length
	 * must not move bytes past the page). */
	if (nd_gap(d) < len + 2 &&
	    nd_gap(d) + fmt_get_u32(d + BT_FRAG) >= len + 2 &&
	    (rc = nd_defrag(d, o->ps, pgno, o->err)) != RDB_OK)
		return rc;
	fits = nd_insert(d, o->ps, pos, cell, len);
	if (fits && (!eq || is_root || nd_used(d, o->ps) >= bt_min_fill(o->ps)))
		return RDB_OK;
	append = !eq && fmt_get_u32(d + BT_LINK_B) == 0 && pos == n0;
	if (!fits && !append && !is_root &&
	    ((rc = shift_leaf(o, *pgp, pos, cell, len, &done)) || done))
		return rc;
	if ((rc = nv_from_page(o, d, pgno, &nv)) != RDB_OK)
		return rc;
	if (!fits && (rc = nv_insert(o, &nv, pos, cell, len)) != RDB_OK)
		return rc;
	pager_unref(*pgp);
	*pgp = NULL;
	if (!fits && !append && !is_root &&
	    ((rc = spread_leaf(o, &nv, &done)) != RDB_OK || done))
		return rc;
	return rebalance(o, o->depth - 1, &nv, append);
}

static rdb_rc put(pager_txn *t, rdb_pgno root, const void *key, size_t klen,
		  const void *val, size_t vlen, int mode, int *replaced)
{
	/* The largest cell of the largest page size fits here. */
	unsigned char cell[(FMT_MAX_PAGE_SIZE - BT_HDR) / 4];
	pager_page *pg = NULL;
	uint32_t pos, len;
	int eq;
	op o;
	rdb_rc rc;

	if (replaced != NULL)
		*replaced = 0;
	if ((rc = check_sizes(t, klen, vlen)) != RDB_OK)
		return rc;
	op_init(&o, t, root);
	if ((rc = descend(&o, key, klen, &pg)) != RDB_OK ||
	    (rc = nd_search(pager_data(pg), o.ps, pager_pgno(pg), key, klen,
			    0, &pos, &eq, o.err)) != RDB_OK)
		goto out;
	if (eq && mode == PUT_INSERT) {
		rc = rdb_err_set(o.err, RDB_CONSTRAINT, "key already exists");
		goto out;
	}
	if (!eq && mode == PUT_UPDATE) {
		rc = rdb_err_set(o.err, RDB_NOTFOUND, "key not found");
		goto out;
	}
	if ((rc = build_cell(&o, key, (uint32_t)klen, val, (uint32_t)vlen,
			     cell, &len)) != RDB_OK ||
	    (rc = pager_write(t, &pg)) != RDB_OK)
		goto out;
	rc = put_in_leaf(&o, &pg, pos, eq, cell, len);
	if (rc == RDB_OK && replaced != NULL)
		*replaced = eq;
out:
	pager_unref(pg);
	ar_free(&o.ar);
	return rc;
}

rdb_rc bt_insert(pager_txn *t, rdb_pgno root, const void *key, size_t klen,
		 const void *val, size_t vlen)
{
	return put(t, root, key, klen, val, vlen, PUT_INSERT, NULL);
}

rdb_rc bt_upsert(pager_txn *t, rdb_pgno root, const void *key, size_t klen,
		 const void *val, size_t vlen, int *replaced)
{
	return put(t, root, key, klen, val, vlen, PUT_UPSERT, replaced);
}

rdb_rc bt_update(pager_txn *t, rdb_pgno root, const void *key, size_t klen,
		 const void *val, size_t vlen)
{
	return put(t, root, key, klen, val, vlen, PUT_UPDATE, NULL);
}

/* Descend to key and parse its cell; RDB_NOTFOUND if absent.  *pg gets
 * the leaf, pinned, even on RDB_NOTFOUND (NULL on other errors). */
static rdb_rc find_cell(op *o, const void *key, size_t klen,
			pager_page **pg, uint32_t *pos, bt_cell *c)
{
	int eq;
	rdb_rc rc;

	*pg = NULL;
	if ((rc = descend(o, key, klen, pg)) != RDB_OK)
		return rc;
	rc = nd_search(pager_data(*pg), o->ps, pager_pgno(*pg), key, klen, 0,
		       pos, &eq, o->err);
	if (rc == RDB_OK && !eq)
		rc = rdb_err_set(o->err, RDB_NOTFOUND, "key not found");
	if (rc == RDB_OK)
		rc = nd_cell(pager_data(*pg), o->ps, pager_pgno(*pg), *pos, c,
			     o->err);
	return rc;
}

rdb_rc bt_delete(pager_txn *t, rdb_pgno root, const void *key, size_t klen)
{
	pager_page *pg = NULL;
	unsigned char *d;
	uint32_t pos;
	bt_cell c;
	nodev nv;
	op o;
	rdb_rc rc;

	op_init(&o, t, root);
	if ((rc = find_cell(&o, key, klen, &pg, &pos, &c)) != RDB_OK ||
	    (c.ovfl != 0 && (rc = ovfl_free(&o, &c)) != RDB_OK) ||
	    (rc = pager_write(t, &pg)) != RDB_OK)
		goto out;
	d = pager_data(pg);
	nd_remove(d, o.ps, pos, c.size);
	if (o.depth == 1 || nd_used(d, o.ps) >= bt_min_fill(o.ps))
		goto out;
	if ((rc = nv_from_page(&o, d, pager_pgno(pg), &nv)) == RDB_OK) {
		pager_unref(pg);
		pg = NULL;
		rc = rebalance(&o, o.depth - 1, &nv, 0);
	}
out:
	pager_unref(pg);
	ar_free(&o.ar);
	return rc;
}

rdb_rc bt_get(pager_txn *t, rdb_pgno root, const void *key, size_t klen,
	      void **val, size_t *vlen)
{
	pager_page *pg = NULL;
	unsigned char *buf;
	uint32_t pos;
	bt_cell c;
	op o;
	rdb_rc rc;

	*val = NULL;
	*vlen = 0;
	op_init(&o, t, root);
	if ((rc = find_cell(&o, key, klen, &pg, &pos, &c)) != RDB_OK)
		goto out;
	buf = rdb_malloc(c.vlen ? c.vlen : 1);
	if (buf == NULL) {
		rc = nomem(&o);
		goto out;
	}
	rc = bt_read_value(t, &c, 0, buf, c.vlen, NULL);
	if (rc != RDB_OK) {
		rdb_free(buf);
		goto out;
	}
	*val = buf;
	*vlen = c.vlen;
out:
	pager_unref(pg);
	ar_free(&o.ar);
	return rc;
}

rdb_rc bt_get_buf(pager_txn *t, rdb_pgno root, const void *key, size_t klen,
		  void *buf, size_t cap, size_t *vlen)
{
	pager_page *pg = NULL;
	uint32_t pos;
	bt_cell c;
	op o;
	rdb_rc rc;

	*vlen = 0;
	op_init(&o, t, root);
	if ((rc = find_cell(&o, key, klen, &pg, &pos, &c)) == RDB_OK) {
		*vlen = c.vlen;
		rc = c.vlen > cap ? RDB_RANGE
				  : bt_read_value(t, &c, 0, buf, c.vlen, NULL);
	}
	pager_unref(pg);
	ar_free(&o.ar);
	return rc;
}
