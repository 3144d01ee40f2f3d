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

rdb_rc nd_cell(const unsigned char *d, uint32_t ps, rdb_pgno pgno, uint32_t i,
	       bt_cell *c, rdb_err *err)
{
	uint32_t off = nd_off(d, i), end;
	const unsigned char *p = d + off;

	if (off < BT_SLOTS || off + BT_CELL_HDR > ps)
		goto bad;
	c->klen = fmt_get_u16(p);
	c->key = p + BT_CELL_HDR;
	if (!nd_is_leaf(d)) {
		c->child = fmt_get_u32(p + 2);
		c->size = BT_CELL_HDR + c->klen;
		c->vlen = c->local = 0;
		c->val = NULL;
		c->ovfl = 0;
	} else {
		c->vlen = fmt_get_u32(p + 2);
		c->local = bt_local(ps, c->klen, c->vlen);
		c->val = c->key + c->klen;
		c->size = BT_CELL_HDR + c->klen + c->local;
		c->child = 0;
		c->ovfl = 0;
		if (c->local < c->vlen) {
			c->size += 4;
			if (off + c->size > ps)
				goto bad;
			c->ovfl = fmt_get_u32(p + c->size - 4);
		}
	}
	end = off + c->size;
	if (end > ps || c->klen > bt_max_key(ps))
		goto bad;
	return RDB_OK;
bad:
	return rdb_err_set(err, RDB_CORRUPT,
			   "page %u: cell %u does not fit its page", pgno, i);
}

rdb_rc nd_search(const unsigned char *d, uint32_t ps, rdb_pgno pgno,
		 const void *key, size_t klen, int upper, uint32_t *pos,
		 int *eq, rdb_err *err)
{
	uint32_t lo = 0, hi = nd_n(d);
	bt_cell c;
	rdb_rc rc;

	if (eq != NULL)
		*eq = 0;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2, off = nd_off(d, mid), kl;
		int r;

		/* Only the key is needed here: check just its bounds. */
		if (off < BT_SLOTS || off + BT_CELL_HDR > ps ||
		    off + BT_CELL_HDR + (kl = fmt_get_u16(d + off)) > ps) {
			rc = nd_cell(d, ps, pgno, mid, &c, err);
			return rc != RDB_OK ? rc : RDB_CORRUPT;
		}
		r = bt_cmp(d + off + BT_CELL_HDR, kl, key, klen);
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
	return bt_max_cell(page_size) - BT_CELL_HDR - 4;
}
