/*
 * btree.h -- page-sized B+ trees over the pager: tables and indexes.
 *
 * Layer:  btree.  May include pager/pager.h, format.h, err.h, mem.h, rdb.h.
 *         Used by kv and table.  Never calls kv.
 * Contract:
 *   - A tree is named by its root page number, which never changes from
 *     bt_create() to bt_drop().  Any number of trees live in one file.
 *   - Keys are byte strings ordered by memcmp (a shorter key that is a
 *     prefix of a longer one sorts first), 0 .. bt_max_key(page_size)
 *     bytes; a longer key is RDB_TOOBIG.  Values are 0 .. BT_MAX_VALUE
 *     bytes; large values continue on overflow pages.
 *   - Every call runs inside a pager transaction and sees its snapshot;
 *     changes need a write transaction and commit or roll back with it.
 *     Errors are recorded in the transaction's rdb_err.
 *   - Bytes read from pages are untrusted: inconsistencies are RDB_CORRUPT
 *     naming the page.
 *   - A cursor pins at most one leaf page between calls; close every
 *     cursor before the transaction commits or rolls back.  A cursor stays
 *     usable across changes made through it and through other calls on the
 *     same transaction: it finds its place again by its current key.
 * Design and invariants: src/btree/README.md.  Bytes: docs/format.md.
 */
#ifndef RDB_BTREE_H
#define RDB_BTREE_H
#include <stddef.h>
#include <stdint.h>
#include "rdb.h"
#include "pager/pager.h"

#define BT_MAX_VALUE (1u << 30)    /* 1 GiB */

typedef struct bt_cursor bt_cursor;   /* opaque */

/* Largest key for a page size (about a quarter of the page). */
size_t bt_max_key(uint32_t page_size);

/* ---- trees ------------------------------------------------------------ */

/* Create an empty tree; *root receives its root page. */
rdb_rc bt_create(pager_txn *t, rdb_pgno *root);

/* Free every page of the tree (nodes and overflow pages). */
rdb_rc bt_drop(pager_txn *t, rdb_pgno root);

/* ---- single-key operations --------------------------------------------- */

/* Insert a new key; RDB_CONSTRAINT if it exists (nothing changes). */
rdb_rc bt_insert(pager_txn *t, rdb_pgno root, const void *key, size_t klen,
		 const void *val, size_t vlen);

/* Insert or replace.  *replaced (may be NULL) tells which happened. */
rdb_rc bt_upsert(pager_txn *t, rdb_pgno root, const void *key, size_t klen,
		 const void *val, size_t vlen, int *replaced);

/* Replace the value of an existing key; RDB_NOTFOUND if it is missing. */
rdb_rc bt_update(pager_txn *t, rdb_pgno root, const void *key, size_t klen,
		 const void *val, size_t vlen);

/* Delete a key; RDB_NOTFOUND if it is missing. */
rdb_rc bt_delete(pager_txn *t, rdb_pgno root, const void *key, size_t klen);

/* Look a key up.  On RDB_OK *val is a copy the caller owns (free with
 * rdb_free(); non-NULL even for an empty value) and *vlen its length.
 * RDB_NOTFOUND if missing. */
rdb_rc bt_get(pager_txn *t, rdb_pgno root, const void *key, size_t klen,
	      void **val, size_t *vlen);

/* Look a key up into buf (cap bytes): *vlen gets the value's length; if
 * it is more than cap nothing is copied (RDB_RANGE).  RDB_NOTFOUND if
 * missing. */
rdb_rc bt_get_buf(pager_txn *t, rdb_pgno root, const void *key, size_t klen,
		  void *buf, size_t cap, size_t *vlen);

/* ---- cursors ---------------------------------------------------------- */

/* On RDB_OK the caller owns *out (unpositioned); free with
 * bt_cursor_close(). */
rdb_rc bt_cursor_open(pager_txn *t, rdb_pgno root, bt_cursor **out);
void bt_cursor_close(bt_cursor *c);          /* NULL-safe */

/* Positioning.  Each returns RDB_OK with the cursor on a key, or
 * RDB_NOTFOUND with the cursor unpositioned (no such key / past the end),
 * or an error. */
rdb_rc bt_first(bt_cursor *c);
rdb_rc bt_last(bt_cursor *c);
rdb_rc bt_seek_ge(bt_cursor *c, const void *key, size_t klen); /* first >= */
rdb_rc bt_seek_le(bt_cursor *c, const void *key, size_t klen); /* last <= */
rdb_rc bt_next(bt_cursor *c);
rdb_rc bt_prev(bt_cursor *c);
int bt_valid(const bt_cursor *c);

/* The current key: *key is borrowed until the cursor moves or closes. */
rdb_rc bt_key(bt_cursor *c, const void **key, size_t *klen);
/* Total value length. */
rdb_rc bt_value_size(bt_cursor *c, size_t *vlen);
/* The whole value: borrowed until the cursor moves or closes (an overflow
 * value is assembled in a buffer the cursor owns). */
rdb_rc bt_value(bt_cursor *c, const void **val, size_t *vlen);
/* n bytes of the value from offset off into buf (off + n <= length);
 * reading a long value in order costs one page read per page. */
rdb_rc bt_value_read(bt_cursor *c, size_t off, void *buf, size_t n);

/* Delete the current key; the cursor moves to the next key (RDB_OK) or
 * becomes unpositioned at the end (RDB_NOTFOUND). */
rdb_rc bt_cursor_delete(bt_cursor *c);
/* Insert or replace key; the cursor is left on it. */
rdb_rc bt_cursor_put(bt_cursor *c, const void *key, size_t klen,
		     const void *val, size_t vlen);

/* ---- bulk loading -------------------------------------------------------- *
 * Fill an empty tree from keys given in strictly increasing order, bottom
 * up: each leaf is filled to fill_pct percent of its usable bytes and
 * written once, inner nodes are filled up to one largest cell short of
 * full, and the top node lands in the root page.  Much faster than
 * bt_insert() per key, and the leaves come out as full as asked (random
 * inserts leave them about 70-80% full; at 100% nearly every later insert
 * splits a leaf, so leave room in a tree that will take inserts).
 * Between bt_load_begin() and the end, the tree must not be used by other
 * calls. */
typedef struct bt_loader bt_loader;   /* opaque */

/* Start loading the empty tree root (a tree with keys is RDB_MISUSE);
 * fill_pct is 50..100 (else RDB_MISUSE).  On RDB_OK the caller owns *out
 * and ends it with bt_load_finish() or bt_load_abort(). */
rdb_rc bt_load_begin(pager_txn *t, rdb_pgno root, unsigned fill_pct,
		     bt_loader **out);
/* Append a key and its value (the sizes bt_insert() takes; else
 * RDB_TOOBIG).  A key equal to the previous one is RDB_CONSTRAINT, a
 * smaller one RDB_MISUSE; after these three the loader is unchanged and
 * usable.  Other errors (memory, I/O) leave it fit only for
 * bt_load_abort(). */
rdb_rc bt_load_add(bt_loader *l, const void *key, size_t klen,
		   const void *val, size_t vlen);
/* Write the last leaf, the inner levels and the root; frees l, also on
 * failure. */
rdb_rc bt_load_finish(bt_loader *l);
/* Free l without finishing (NULL-safe).  The root is still empty, but
 * pages written so far stay allocated: roll the transaction back (as
 * after any failed load). */
void bt_load_abort(bt_loader *l);

/* ---- verification ------------------------------------------------------ */

typedef struct bt_stats {
	uint64_t keys;
	uint32_t depth;          /* 1 = the root is a leaf */
	uint32_t leaves, inners, overflow_pages;   /* pages (root included) */
	double leaf_fill;        /* mean fill of leaves, 0..1 */
	double leaf_fill_min;    /* least-filled leaf not on the right edge */
	double inner_fill;       /* mean fill of inner nodes (root excluded) */
} bt_stats;

/*
 * Walk the tree and check every invariant: page types and checksums, key
 * order in and across pages, separators bounding their subtrees, equal
 * leaf depth, prev/next links in key order, fill bounds, overflow chains.
 * If seen (a bitmap of pager_txn_page_count() bits) is given, every page
 * of the tree is marked in it and a page already marked is an error, so
 * that several trees and the free list can be checked for overlap.
 * RDB_CORRUPT with the first problem in the error message.
 */
rdb_rc bt_verify(pager_txn *t, rdb_pgno root, unsigned char *seen,
		 bt_stats *stats);

#endif /* RDB_BTREE_H */
