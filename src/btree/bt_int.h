/*
 * bt_int.h -- node layout and helpers shared by the btree's own files
 * (btree.c, node.c, cursor.c, verify.c).  Not for other modules.
 * Layout tables: docs/format.md; design: src/btree/README.md.
 */
#ifndef RDB_BT_INT_H
#define RDB_BT_INT_H
#include <stdint.h>
#include <string.h>
#include "btree/btree.h"
#include "format.h"

/* ---- node header (after the pager's 16-byte page header) --------------- */
#define BT_LEVEL 9u      /* u8 height above the leaves: 0 = leaf */
#define BT_FRAG 12u      /* u32 freed bytes inside the content area */
#define BT_LINK_A 16u    /* u32 leaf: prev leaf; inner: rightmost child */
#define BT_LINK_B 20u    /* u32 leaf: next leaf; inner: 0 */
#define BT_NCELLS 24u    /* u16 cells */
#define BT_CONTENT 28u   /* u32 offset of the lowest cell byte */
#define BT_SLOTS 32u     /* u16 cell offsets in key order */
#define BT_HDR BT_SLOTS

/* ---- cells ------------------------------------------------------------ *
 * leaf:  | varint klen | varint vlen | key | local value | [u32 overflow] |
 * inner: | u32 child (keys < key) | varint klen | key |
 * Varints are the format's (unsigned LEB128, canonical); a cell's klen
 * takes at most 2 bytes (keys are under 2^14 bytes), its vlen at most 5
 * (values are at most BT_MAX_VALUE). */
#define BT_KLEN_MAX_BYTES 2u
#define BT_VLEN_MAX_BYTES 5u
#define BT_LEAF_HDR_MAX (BT_KLEN_MAX_BYTES + BT_VLEN_MAX_BYTES)
#define BT_CHILD_SIZE 4u

/* ---- overflow page: | page header | u32 next | data ... | */
#define BT_OVFL_NEXT 16u
#define BT_OVFL_DATA 20u

#define BT_MAX_DEPTH 48

static inline uint32_t bt_usable(uint32_t ps) { return ps - BT_HDR; }
/* Largest cell: at least four cells (with slots) fit in a node. */
static inline uint32_t bt_max_cell(uint32_t ps) { return (ps - BT_HDR) / 4 - 2; }
/* Nodes below this many used bytes are rebalanced after a delete. */
static inline uint32_t bt_min_fill(uint32_t ps) { return bt_usable(ps) / 4; }
static inline uint32_t bt_ovfl_cap(uint32_t ps) { return ps - BT_OVFL_DATA; }

static inline int nd_is_leaf(const unsigned char *d)
{
	return d[FMT_PAGE_TYPE] == FMT_PT_BT_LEAF;
}
static inline uint32_t nd_level(const unsigned char *d)
{
	return d[BT_LEVEL];
}
static inline uint32_t nd_n(const unsigned char *d)
{
	return fmt_get_u16(d + BT_NCELLS);
}
static inline uint32_t nd_off(const unsigned char *d, uint32_t i)
{
	return fmt_get_u16(d + BT_SLOTS + 2 * i);
}

/* Bytes of the varint for v (LEB128, 7 bits a byte). */
static inline uint32_t bt_vsize(uint32_t v)
{
	return v < 0x80u ? 1 : v < 0x4000u ? 2 : v < 0x200000u ? 3 :
	       v < 0x10000000u ? 4 : 5;
}

/* Write the varint for v at p; returns its size. */
static inline uint32_t bt_vput(unsigned char *p, uint32_t v)
{
	uint32_t n = 0;

	while (v >= 0x80u) {
		p[n++] = (unsigned char)(v | 0x80u);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

/* Read a varint of at most max bytes from the avail bytes at p into *v:
 * its size, or 0 if it is truncated, longer than max, not canonical (a
 * final 0x00 after a continuation) or above 32 bits.  Page bytes are
 * untrusted: this is the only way cells' lengths are read. */
static inline uint32_t bt_vget(const unsigned char *p, uint32_t avail,
			       uint32_t max, uint32_t *v)
{
	uint64_t x = 0;
	uint32_t i;

	if (avail > 0 && p[0] < 0x80u) {
		*v = p[0];
		return 1;
	}
	for (i = 0; i < avail && i < max; i++) {
		x |= (uint64_t)(p[i] & 0x7fu) << (7 * i);
		if ((p[i] & 0x80u) == 0) {
			if (p[i] == 0 || x > UINT32_MAX)
				return 0;
			*v = (uint32_t)x;
			return i + 1;
		}
	}
	return 0;
}

/* Header bytes of a leaf cell with these lengths. */
static inline uint32_t bt_leaf_hdr(uint32_t klen, uint32_t vlen)
{
	return bt_vsize(klen) + bt_vsize(vlen);
}

/* Value bytes kept in a leaf cell (the rest is on overflow pages). */
static inline uint32_t bt_local(uint32_t ps, uint32_t klen, uint32_t vlen)
{
	uint32_t rem, hdr = bt_leaf_hdr(klen, vlen);

	if (hdr + klen + vlen <= bt_max_cell(ps))
		return vlen;
	rem = vlen % bt_ovfl_cap(ps);
	return hdr + klen + rem + 4 <= bt_max_cell(ps) ? rem : 0;
}

/* Size of a leaf cell for these lengths. */
static inline uint32_t bt_leaf_cell_size(uint32_t ps, uint32_t klen,
					 uint32_t vlen)
{
	uint32_t local = bt_local(ps, klen, vlen);

	return bt_leaf_hdr(klen, vlen) + klen + local + (local < vlen ? 4 : 0);
}

/* Size of an inner cell with a key of klen bytes. */
static inline uint32_t bt_inner_cell_size(uint32_t klen)
{
	return BT_CHILD_SIZE + bt_vsize(klen) + klen;
}

/* Write the inner cell (key, child) at p; returns its size. */
static inline uint32_t bt_inner_cell(unsigned char *p, const void *key,
				     uint32_t klen, rdb_pgno child)
{
	uint32_t n;

	fmt_put_u32(p, child);
	n = BT_CHILD_SIZE + bt_vput(p + BT_CHILD_SIZE, klen);
	if (klen > 0)
		memcpy(p + n, key, klen);
	return n + klen;
}

/* The key of a cell we built or already checked (nd_cell): trusted. */
static inline const unsigned char *bt_cell_key(const unsigned char *p,
					       int leaf, uint32_t *klen)
{
	uint32_t n, vl = 0;

	*klen = 0;
	if (!leaf) {
		n = BT_CHILD_SIZE;
		n += bt_vget(p + n, BT_KLEN_MAX_BYTES, BT_KLEN_MAX_BYTES, klen);
		return p + n;
	}
	n = bt_vget(p, BT_KLEN_MAX_BYTES, BT_KLEN_MAX_BYTES, klen);
	n += bt_vget(p + n, BT_VLEN_MAX_BYTES, BT_VLEN_MAX_BYTES, &vl);
	return p + n;
}

/* A parsed cell.  Pointers are into the page (borrowed). */
typedef struct bt_cell {
	const unsigned char *key;
	uint32_t klen;
	uint32_t vlen;          /* leaf: total value length */
	uint32_t local;         /* leaf: value bytes in the cell */
	const unsigned char *val;   /* leaf: local value bytes */
	rdb_pgno ovfl;          /* leaf: first overflow page, 0 if none */
	rdb_pgno child;         /* inner: child holding keys < key */
	uint32_t size;          /* bytes of the cell */
} bt_cell;

/* nd_cell() for any cell (node.c). */
rdb_rc nd_cell_any(const unsigned char *d, uint32_t ps, rdb_pgno pgno,
		   uint32_t i, bt_cell *c, rdb_err *err);
/* Parse cell i of node d (page size ps) with bounds checks; RDB_CORRUPT
 * (message naming pgno) on a cell that does not fit its page.  Inline for
 * the common leaf cell (one-byte lengths, the value all local), which
 * rebalancing parses by the hundred. */
static inline rdb_rc nd_cell(const unsigned char *d, uint32_t ps,
			     rdb_pgno pgno, uint32_t i, bt_cell *c,
			     rdb_err *err)
{
	uint32_t off = nd_off(d, i);
	const unsigned char *p = d + off;

	if (nd_is_leaf(d) && off >= BT_SLOTS && off + 2 <= ps &&
	    p[0] < 0x80 && p[1] < 0x80 &&
	    2u + p[0] + p[1] <= bt_max_cell(ps) &&
	    p[0] <= bt_max_cell(ps) - BT_LEAF_HDR_MAX - 4 &&
	    off + 2u + p[0] + p[1] <= ps) {
		c->klen = p[0];
		c->vlen = c->local = p[1];
		c->key = p + 2;
		c->val = p + 2 + p[0];
		c->size = 2u + p[0] + p[1];
		c->child = 0;
		c->ovfl = 0;
		return RDB_OK;
	}
	return nd_cell_any(d, ps, pgno, i, c, err);
}
/* Check a node's header against its page; RDB_CORRUPT if inconsistent.
 * level is the height the node must have, or -1 if unknown (a root). */
rdb_rc nd_check_header(const unsigned char *d, uint32_t ps, rdb_pgno pgno,
		       int level, rdb_err *err);
/* memcmp order.  Keys are compared eight bytes at a time as big-endian
 * integers (the same order), which beats a library call for the short
 * keys that tables and indexes mostly have. */
static inline int bt_cmp(const void *a, size_t na, const void *b, size_t nb)
{
	const unsigned char *x = a, *y = b;
	size_t n = na < nb ? na : nb, i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t u, v;

		memcpy(&u, x + i, 8);
		memcpy(&v, y + i, 8);
		if (u != v) {
			u = __builtin_bswap64(u);
			v = __builtin_bswap64(v);
			return u < v ? -1 : 1;
		}
	}
	for (; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return na < nb ? -1 : na > nb;
}
/* First cell index whose key is > key (upper bound) or >= key (lower
 * bound, with *eq set when equal).  Cells are bounds-checked. */
rdb_rc nd_search(const unsigned char *d, uint32_t ps, rdb_pgno pgno,
		 const void *key, size_t klen, int upper, uint32_t *pos,
		 int *eq, rdb_err *err);
/* Child page for index i of an inner node (i == n: the rightmost). */
rdb_rc nd_child(const unsigned char *d, uint32_t ps, rdb_pgno pgno,
		uint32_t i, rdb_pgno *child, rdb_err *err);
/* Used bytes: cells plus their slots. */
static inline uint32_t nd_used(const unsigned char *d, uint32_t ps)
{
	return ps - (uint32_t)fmt_get_u32(d + BT_CONTENT) -
	       fmt_get_u32(d + BT_FRAG) + 2 * nd_n(d);
}
/* Where a read of an overflow value stopped: page pgno, the k-th of its
 * chain, holds value bytes from pos. */
typedef struct bt_ovpos {
	rdb_pgno pgno;
	uint32_t k;
	size_t pos;
} bt_ovpos;
/* Copy bytes [off, off+len) of the value of leaf cell c into buf
 * (btree.c).  hint (may be NULL) lets reads in order skip the chain
 * walk; it must belong to this cell. */
rdb_rc bt_read_value(pager_txn *t, const bt_cell *c, size_t off,
		     unsigned char *buf, size_t len, bt_ovpos *hint);
/* Encode the leaf cell of key/val into buf (bt_max_cell bytes; *len gets
 * its size), writing the value's overflow chain if it needs one
 * (btree.c). */
rdb_rc bt_leaf_cell(pager_txn *t, const void *key, uint32_t klen,
		    const void *val, uint32_t vlen, unsigned char *buf,
		    uint32_t *len);
/* Initialise an empty node: a leaf at level 0, else an inner node. */
void nd_init(unsigned char *d, uint32_t ps, uint32_t level);
/* Insert cell bytes at position pos if they fit (compacting if needed);
 * returns 0 if the node has no room. */
int nd_insert(unsigned char *d, uint32_t ps, uint32_t pos,
	      const unsigned char *cell, uint32_t len);
/* Rewrite node d (page pgno) without gaps, checking every cell:
 * RDB_CORRUPT (d unchanged) if a cell does not fit the page or the cells
 * need more bytes than it has.  Then a cell fits contiguously whenever
 * the node has room for it. */
rdb_rc nd_defrag(unsigned char *d, uint32_t ps, rdb_pgno pgno, rdb_err *err);
/* Bytes free between the slots and the content area. */
static inline uint32_t nd_gap(const unsigned char *d)
{
	return (uint32_t)fmt_get_u32(d + BT_CONTENT) - BT_SLOTS - 2 * nd_n(d);
}
/* Insert cell bytes at position pos, writing them at offset off: a freed
 * region of at least len bytes inside the content area, counted in the
 * node's frag; the slot needs 2 bytes between the slots and the content
 * area. */
void nd_insert_in(unsigned char *d, uint32_t pos, uint32_t off,
		  const unsigned char *cell, uint32_t len);
/* Remove cell pos whose size is len. */
void nd_remove(unsigned char *d, uint32_t ps, uint32_t pos, uint32_t len);

#endif /* RDB_BT_INT_H */
