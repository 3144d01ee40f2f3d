/*
 * node.c -- one B+ tree node in one page: a slotted page with a sorted
 * slot array growing up from byte 32 and cells growing down from the end.
 * Every read of page bytes is bounds-checked (pages are untrusted).
 * Layout: docs/format.md, "B+ tree nodes".
 */
#include "btree/bt_int.h"
#include "err.h"

rdb_rc nd_check_header(const unsigned char *d, uint32_t ps, rdb_pgno pgno,
		       int level, rdb_err *err)
{
	uint32_t n = nd_n(d), content = fmt_get_u32(d + BT_CONTENT);
	uint8_t type = d[FMT_PAGE_TYPE];

	if (type != FMT_PT_BT_LEAF && type != FMT_PT_BT_INNER)
		return rdb_err_set(err, RDB_CORRUPT,
				   "page %u: not a B+ tree node (type %u)",
				   pgno, type);
	/* The level ties a node to its place: a page of another level
	 * (or a leaf retyped as inner, or back) cannot pass. */
	if ((type == FMT_PT_BT_LEAF) != (nd_level(d) == 0) ||
	    (level >= 0 && nd_level(d) != (uint32_t)level) ||
	    nd_level(d) >= BT_MAX_DEPTH)
		return rdb_err_set(err, RDB_CORRUPT,
				   "page %u: B+ tree node at the wrong level "
				   "(%u)", pgno, nd_level(d));
	if (BT_SLOTS + 2 * n > content || content > ps ||
	    fmt_get_u32(d + BT_FRAG) > ps - content)
		return rdb_err_set(err, RDB_CORRUPT,
				   "page %u: B+ tree node header is damaged",
				   pgno);
	return RDB_OK;
}

/* The key of the cell at off of node d (leaf or not): 1 with *key, *klen
 * and *hdr (bytes before the key) set if the header and the key lie
 * inside the page and the lengths are in range, else 0. */
static inline int nd_key_at(const unsigned char *d, uint32_t ps, uint32_t off,
			    int leaf, uint32_t *hdr, uint32_t *klen,
			    uint32_t *vlen)
{
	uint32_t n, m;

	if (off < BT_SLOTS || off >= ps)
		return 0;
	if (leaf) {
		n = bt_vget(d + off, ps - off, BT_KLEN_MAX_BYTES, klen);
		m = n == 0 ? 0 : bt_vget(d + off + n, ps - off - n,
					 BT_VLEN_MAX_BYTES, vlen);
		if (m == 0 || *vlen > BT_MAX_VALUE)
			return 0;
		n += m;
	} else {
		if (ps - off < BT_CHILD_SIZE)
			return 0;
		n = bt_vget(d + off + BT_CHILD_SIZE, ps - off - BT_CHILD_SIZE,
			    BT_KLEN_MAX_BYTES, klen);
		if (n == 0)
			return 0;
		n += BT_CHILD_SIZE;
		*vlen = 0;
	}
	*hdr = n;
	return *klen <= bt_max_key(ps) && *klen <= ps - off - n;
}

rdb_rc nd_cell_any(const unsigned char *d, uint32_t ps, rdb_pgno pgno,
		   uint32_t i, bt_cell *c, rdb_err *err)
{
	uint32_t off = nd_off(d, i), hdr;
	const unsigned char *p = d + off;
	int leaf = nd_is_leaf(d);

	if (!nd_key_at(d, ps, off, leaf, &hdr, &c->klen, &c->vlen))
		goto bad;
	c->key = p + hdr;
	c->child = 0;
	c->ovfl = 0;
	if (!leaf) {
		c->child = fmt_get_u32(p);
		c->size = hdr + c->klen;
		c->local = 0;
		c->val = NULL;
		return RDB_OK;
	}
	c->local = bt_local(ps, c->klen, c->vlen);
	c->val = c->key + c->klen;
	c->size = hdr + c->klen + c->local;
	if (c->local < c->vlen)
		c->size += 4;
	/* size <= max_cell + 1 < ps: no overflow of off + size. */
	if (off + c->size > ps)
		goto bad;
	if (c->local < c->vlen)
		c->ovfl = fmt_get_u32(p + c->size - 4);
	return RDB_OK;
bad:
	return rdb_err_set(err, RDB_CORRUPT,
			   "page %u: cell %u does not fit its page", pgno, i);
}

rdb_rc nd_search(const unsigned char *d, uint32_t ps, rdb_pgno pgno,
		 const void *key, size_t klen, int upper, uint32_t *pos,
		 int *eq, rdb_err *err)
{
	uint32_t lo = 0, hi = nd_n(d), maxk = (uint32_t)bt_max_key(ps);
	uint32_t at = nd_is_leaf(d) ? 0 : BT_CHILD_SIZE;  /* klen's offset */
	int leaf = at == 0;
	uint32_t h1 = at + 1 + (uint32_t)leaf;  /* header with 1-byte lengths */
	bt_cell c;
	rdb_rc rc;

	if (eq != NULL)
		*eq = 0;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2, off = nd_off(d, mid), kl;
		uint32_t hdr, vl;
		const unsigned char *p = d + off;
		int r;

		/* Only the key is needed here: check just its bounds (a
		 * fast path for one-byte lengths). */
		if (off >= BT_SLOTS && off + h1 <= ps && p[at] < 0x80 &&
		    (!leaf || p[1] < 0x80) && p[at] <= maxk &&
		    off + h1 + p[at] <= ps) {
			kl = p[at];
			hdr = h1;
		} else if (!nd_key_at(d, ps, off, leaf, &hdr, &kl, &vl)) {
			rc = nd_cell(d, ps, pgno, mid, &c, err);
			return rc != RDB_OK ? rc : RDB_CORRUPT;
		}
		r = bt_cmp(d + off + hdr, kl, key, klen);
		if (r < 0 || (upper && r == 0)) {
			lo = mid + 1;
		} else {
			if (r == 0 && eq != NULL)
				*eq = 1;
			hi = mid;
		}
	}
	*pos = lo;
	return RDB_OK;
}

rdb_rc nd_child(const unsigned char *d, uint32_t ps, rdb_pgno pgno,
		uint32_t i, rdb_pgno *child, rdb_err *err)
{
	bt_cell c;
	rdb_rc rc;

	if (i >= nd_n(d)) {
		*child = fmt_get_u32(d + BT_LINK_A);
	} else {
		if ((rc = nd_cell(d, ps, pgno, i, &c, err)) != RDB_OK)
			return rc;
		*child = c.child;
	}
	if (*child == 0)
		return rdb_err_set(err, RDB_CORRUPT,
				   "page %u: child %u is page 0", pgno, i);
	return RDB_OK;
}

void nd_init(unsigned char *d, uint32_t ps, uint32_t level)
{
	memset(d + 8, 0, BT_HDR - 8);
	d[FMT_PAGE_TYPE] = level == 0 ? FMT_PT_BT_LEAF : FMT_PT_BT_INNER;
	d[BT_LEVEL] = (unsigned char)level;
	fmt_put_u32(d + BT_CONTENT, ps);
}

/* Rewrite the content area without gaps.  Cells are trusted here: the
 * node was checked or built by us in this transaction. */
static void nd_compact(unsigned char *d, uint32_t ps)
{
	uint32_t n = nd_n(d), i, top = ps;
	unsigned char tmp[FMT_MAX_PAGE_SIZE];

	memcpy(tmp, d, ps);
	for (i = 0; i < n; i++) {
		bt_cell c;

		(void)nd_cell(tmp, ps, 0, i, &c, NULL);
		top -= c.size;
		memcpy(d + top, tmp + nd_off(tmp, i), c.size);
		fmt_put_u16(d + BT_SLOTS + 2 * i, (uint16_t)top);
	}
	fmt_put_u32(d + BT_CONTENT, top);
	fmt_put_u32(d + BT_FRAG, 0);
}

rdb_rc nd_defrag(unsigned char *d, uint32_t ps, rdb_pgno pgno, rdb_err *err)
{
	uint32_t n = nd_n(d), i, top = ps;
	unsigned char tmp[FMT_MAX_PAGE_SIZE];
	bt_cell c;
	rdb_rc rc;

	memcpy(tmp, d, ps);
	for (i = 0; i < n; i++) {
		if ((rc = nd_cell(tmp, ps, pgno, i, &c, err)) != RDB_OK ||
		    c.size > top - BT_SLOTS - 2 * n) {
			memcpy(d, tmp, ps);
			return rc != RDB_OK ? rc : rdb_err_set(err, RDB_CORRUPT,
				"page %u: cells overlap", pgno);
		}
		top -= c.size;
		memcpy(d + top, tmp + nd_off(tmp, i), c.size);
		fmt_put_u16(d + BT_SLOTS + 2 * i, (uint16_t)top);
	}
	fmt_put_u32(d + BT_CONTENT, top);
	fmt_put_u32(d + BT_FRAG, 0);
	return RDB_OK;
}

int nd_insert(unsigned char *d, uint32_t ps, uint32_t pos,
	      const unsigned char *cell, uint32_t len)
{
	uint32_t n = nd_n(d), content = fmt_get_u32(d + BT_CONTENT);
	uint32_t gap = content - (BT_SLOTS + 2 * n);

	if (gap < len + 2) {
		if (gap + fmt_get_u32(d + BT_FRAG) < len + 2)
			return 0;
		nd_compact(d, ps);
		content = fmt_get_u32(d + BT_CONTENT);
	}
	content -= len;
	memcpy(d + content, cell, len);
	memmove(d + BT_SLOTS + 2 * (pos + 1), d + BT_SLOTS + 2 * pos,
		2 * (n - pos));
	fmt_put_u16(d + BT_SLOTS + 2 * pos, (uint16_t)content);
	fmt_put_u16(d + BT_NCELLS, (uint16_t)(n + 1));
	fmt_put_u32(d + BT_CONTENT, content);
	return 1;
}

void nd_insert_in(unsigned char *d, uint32_t pos, uint32_t off,
		  const unsigned char *cell, uint32_t len)
{
	uint32_t n = nd_n(d);

	memcpy(d + off, cell, len);
	memmove(d + BT_SLOTS + 2 * (pos + 1), d + BT_SLOTS + 2 * pos,
		2 * (n - pos));
	fmt_put_u16(d + BT_SLOTS + 2 * pos, (uint16_t)off);
	fmt_put_u16(d + BT_NCELLS, (uint16_t)(n + 1));
	fmt_put_u32(d + BT_FRAG, fmt_get_u32(d + BT_FRAG) - len);
}

void nd_remove(unsigned char *d, uint32_t ps, uint32_t pos, uint32_t len)
{
	uint32_t n = nd_n(d), off = nd_off(d, pos);

	memmove(d + BT_SLOTS + 2 * pos, d + BT_SLOTS + 2 * (pos + 1),
		2 * (n - pos - 1));
	fmt_put_u16(d + BT_NCELLS, (uint16_t)(n - 1));
	if (n == 1) {
		fmt_put_u32(d + BT_CONTENT, ps);
		fmt_put_u32(d + BT_FRAG, 0);
	} else if (off == fmt_get_u32(d + BT_CONTENT)) {
		fmt_put_u32(d + BT_CONTENT, off + len);
	} else {
		fmt_put_u32(d + BT_FRAG, fmt_get_u32(d + BT_FRAG) + len);
	}
}

size_t bt_max_key(uint32_t page_size)
{
	return bt_max_cell(page_size) - BT_LEAF_HDR_MAX - 4;
}
