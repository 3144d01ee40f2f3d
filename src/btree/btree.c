/*
 * btree.c -- B+ tree operations: create, drop, insert/upsert/update,
 * delete, get, overflow chains, and rebalancing (split, merge,
 * redistribute, root deeper and shallower).
 * Design and invariants: src/btree/README.md.
 */
#include "btree/btree.h"
#include <assert.h>
#include "btree/bt_int.h"
#include "err.h"
#include "mem.h"

/* Leaves that share their cells when one overflows (README, "Rebalancing"). */
#define BT_SPREAD 4u

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

/* Separator between leaf cells a < b: the shortest prefix of b's key that
 * is greater than a's key. */
static rdb_rc leaf_sep(op *o, const cellv *a, const cellv *b, rdb_pgno child,
		       cellv *out)
{
	uint32_t na, nb, l = 0;
	const unsigned char *ka = cv_key(a, 1, &na), *kb = cv_key(b, 1, &nb);

	while (l < na && l < nb && ka[l] == kb[l])
		l++;
	return make_sep(o, kb, l + 1 <= nb ? l + 1 : nb, child, out);
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

/* Load the leaves of children [lo, hi) of par into S (child i is nv,
 * already in memory) and their pages into pg. */
static rdb_rc spread_load(op *o, const nodev *nv, const nodev *par,
			  uint32_t i, uint32_t lo, uint32_t hi, nodev *S,
			  rdb_pgno *pg, int lvl)
{
	uint32_t j;
	rdb_rc rc;

	for (j = lo; j < hi; j++) {
		pg[j - lo] = j == i ? o->path[lvl].pgno : nv_child(par, j);
		if (j == i) {
			S[j - lo] = *nv;
			continue;
		}
		if ((rc = nv_load(o, pg[j - lo], 0, &S[j - lo])) != RDB_OK)
			return rc;
		if (!S[j - lo].leaf)
			return rdb_err_set(o->err, RDB_CORRUPT, "page %u: "
					   "siblings at different depths",
					   pg[j - lo]);
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
 * Leaf nv (page path[lvl], child i of par) is too big: spread its cells
 * and those of up to BT_SPREAD - 1 neighbours (the window around it) over
 * the same pages if they fit evenly, else over one page more (placed
 * before the window's last page, so the leaves around keep their links),
 * as SQLite's balance_nonroot() does over three siblings.  Random inserts
 * then leave leaves about 93% full (the SQL benchmark's table:
 * docs/benchmarks.md, "file_size").  *done left unset if no even cut
 * exists (then the caller splits nv alone).
 */
static rdb_rc spread(op *o, int lvl, nodev *nv, nodev *par, uint32_t i,
		     int *done)
{
	uint32_t nch = par->n + 1, lo, hi, k, kk, j, cut[BT_SPREAD + 2];
	rdb_pgno pg[BT_SPREAD + 1];
	nodev S[BT_SPREAD], C;
	pager_page *npg;
	rdb_rc rc;

	hi = (i > 0 ? i - 1 : 0) + BT_SPREAD;
	hi = hi < nch ? hi : nch;
	lo = hi > BT_SPREAD ? hi - BT_SPREAD : 0;
	k = hi - lo;
	if ((rc = spread_load(o, nv, par, i, lo, hi, S, pg, lvl)) != RDB_OK)
		return rc;
	memset(&C, 0, sizeof(C));
	C.leaf = 1;
	for (j = 0; j < k; j++)
		C.cap += S[j].n;
	C.c = ar_alloc(&o->ar, sizeof(cellv) * C.cap);
	if (C.c == NULL)
		return nomem(o);
	for (j = 0; j < k; j++) {
		memcpy(C.c + C.n, S[j].c, sizeof(cellv) * S[j].n);
		C.n += S[j].n;
		C.bytes += S[j].bytes;
	}
	kk = k;
	if (!spread_cuts(o, &C, kk, cut) &&
	    !spread_cuts(o, &C, ++kk, cut))
		return RDB_OK;
	*done = 1;
	if (kk > k) {
		if ((rc = pager_alloc(o->t, FMT_PT_BT_LEAF, &npg)) != RDB_OK)
			return rc;
		pg[k] = pg[k - 1];
		pg[k - 1] = pager_pgno(npg);
		pager_unref(npg);
	}
	for (j = 0; j < kk; j++) {
		nodev part = nv_slice(&C, cut[j], cut[j + 1]);

		part.prev = j > 0 ? pg[j - 1] : S[0].prev;
		part.next = j + 1 < kk ? pg[j + 1] : S[k - 1].next;
		if ((rc = nv_store(o, pg[j], &part)) != RDB_OK)
			return rc;
	}
	for (j = 0; j + 1 < k; j++)
		nv_remove(par, lo);
	for (j = kk - 1; j-- > 0;) {
		cellv sep;

		if ((rc = leaf_sep(o, &C.c[cut[j + 1] - 1], &C.c[cut[j + 1]],
				   pg[j], &sep)) != RDB_OK ||
		    (rc = nv_insert(o, par, lo, sep.p, sep.len)) != RDB_OK)
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
	int is_root = o->depth == 1, fits;
	bt_cell old;
	nodev nv;
	rdb_rc rc;

	if (eq) {
		if ((rc = nd_cell(d, o->ps, pgno, pos, &old, o->err)) ||
		    (old.ovfl != 0 && (rc = ovfl_free(o, &old))))
			return rc;
		nd_remove(d, o->ps, pos, old.size);
	}
	fits = nd_insert(d, o->ps, pos, cell, len);
	if (fits && (!eq || is_root || nd_used(d, o->ps) >= bt_min_fill(o->ps)))
		return RDB_OK;
	if ((rc = nv_from_page(o, d, pgno, &nv)) != RDB_OK)
		return rc;
	if (!fits && (rc = nv_insert(o, &nv, pos, cell, len)) != RDB_OK)
		return rc;
	pager_unref(*pgp);
	*pgp = NULL;
	return rebalance(o, o->depth - 1, &nv,
			 !eq && nv.next == 0 && pos == n0);
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
