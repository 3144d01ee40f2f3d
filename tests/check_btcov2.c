/*
 * check_btcov2.c -- more of the B+ tree's rarely taken paths, found with
 * `make coverage COV_SUITES=...` (docs/testing.md, "Coverage"): a leaf
 * chain cut short or leading to a damaged edge ("chain"), trees bt_verify
 * must reject for their fill and an allocation failure at every step of
 * bt_verify and of a cursor scan ("verify"), damaged cells met while a
 * full leaf shifts cells into a neighbour or an underfull one merges
 * ("damage"), and an I/O error or an allocation failure at every call of
 * a root split and of single changes in a full tree, after which the tree
 * is unchanged ("faults").
 * Contracts under test: src/btree/btree.h, src/pager/pager.h, os.h.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "btree/btree.h"
#include "btree/bt_int.h"
#include "pager/pager.h"
#include "pager/os.h"
#include "format.h"
#include "mem.h"
#include "bt_util.h"
#include "fault_util.h"
#include "test_util.h"

#define PS 512u
/* Node header fields (src/btree/bt_int.h, docs/format.md "B+ tree"). */
#define LINK_A 16u          /* leaf: prev leaf; inner: rightmost child */
#define LINK_B 20u          /* leaf: next leaf */
#define NCELLS 24u
#define FRAG 12u
#define CONTENT 28u
#define SLOTS 32u           /* u16 cell offsets */

typedef bt_rig rig;

static size_t key_of(char *buf, unsigned i)
{
	return (size_t)snprintf(buf, 32, "key%05u", i);
}

static size_t val_of(unsigned char *buf, unsigned i, size_t n)
{
	size_t j;

	for (j = 0; j < n; j++)
		buf[j] = (unsigned char)(i * 31 + j);
	return n;
}

/* A tree of n keys bulk-loaded fill% full (value lengths by len), then
 * committed, the pager reopened with cache frames. */
static void rig_load(rig *r, uint32_t cache, unsigned n, unsigned fill,
		     size_t (*len)(unsigned))
{
	unsigned char v[2000];
	char k[32];
	bt_loader *l;
	pager_txn *t;
	unsigned i;

	bt_rig_new(r, PS, cache);
	t = bt_rig_begin(r, 1);
	ck_assert_int_eq(bt_create(t, &r->root), RDB_OK);
	ck_assert_int_eq(bt_load_begin(t, r->root, fill, &l), RDB_OK);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(bt_load_add(l, k, key_of(k, i * 2), v,
					     val_of(v, i, len(i))), RDB_OK);
	ck_assert_int_eq(bt_load_finish(l), RDB_OK);
	ck_assert_int_eq(bt_verify(t, r->root, NULL, NULL), RDB_OK);
	ck_assert_int_eq(pager_commit(t), RDB_OK);
	ck_assert_int_eq(bt_rig_reopen(r), RDB_OK);
}

static size_t len_small(unsigned i) { return 20 + i % 20; }
static size_t len_mixed(unsigned i) { return i % 53 == 7 ? 900 : 8 + i % 30; }

/* Page of a leaf of the tree: the k-th leaf of the chain from the first
 * (k < 0: the -k-th from the last, -1 being the last). */
static rdb_pgno leaf_at(pager_txn *t, rdb_pgno root, int k)
{
	rdb_err e = { 0 };
	rdb_pgno pgno = root;
	pager_page *pg;

	for (;;) {
		unsigned char *d;

		ck_assert_int_eq(pager_get(t, pgno, &pg), RDB_OK);
		d = pager_data(pg);
		if (d[FMT_PAGE_TYPE] == FMT_PT_BT_LEAF)
			break;
		ck_assert_int_eq(nd_child(d, PS, pgno, k < 0 ? nd_n(d) : 0,
					  &pgno, &e), RDB_OK);
		pager_unref(pg);
	}
	while (k != 0 && k != -1) {
		rdb_pgno nx = fmt_get_u32(pager_data(pg) +
					  (k > 0 ? LINK_B : LINK_A));

		pager_unref(pg);
		ck_assert_uint_ne(nx, 0);
		pgno = nx;
		ck_assert_int_eq(pager_get(t, pgno, &pg), RDB_OK);
		k += k > 0 ? -1 : 1;
	}
	pager_unref(pg);
	return pgno;
}

static unsigned char *page_w(pager_txn *t, rdb_pgno pgno, pager_page **pg)
{
	ck_assert_int_eq(pager_get(t, pgno, pg), RDB_OK);
	ck_assert_int_eq(pager_write(t, pg), RDB_OK);
	return pager_data(*pg);
}

static void put_u32_at(pager_txn *t, rdb_pgno pgno, uint32_t off,
		       uint32_t val)
{
	pager_page *pg;

	fmt_put_u32(page_w(t, pgno, &pg) + off, val);
	pager_unref(pg);
}

/* The message names page pgno, or for pgno 0 says what is wrong with
 * the overflow chain (the page a link names is 0 then). */
static void expect_names(pager_txn *t, rdb_pgno pgno)
{
	if (pgno == 0) {
		ck_assert_msg(strstr(pager_txn_err(t)->msg, "overflow chain "
				     "has the wrong length") != NULL,
			      "message '%s'", pager_txn_err(t)->msg);
		return;
	}
	char want[32];
	const char *msg = pager_txn_err(t)->msg;

	snprintf(want, sizeof(want), "page %u", pgno);
	ck_assert_msg(strstr(msg, want) != NULL, "message '%s' lacks '%s'",
		      msg, want);
}

/* The number of the key in cell i of leaf d ("key%05u"). */
static unsigned key_num(const unsigned char *d, rdb_pgno pgno, uint32_t i)
{
	rdb_err e = { 0 };
	bt_cell c;
	char buf[16];

	ck_assert_int_eq(nd_cell(d, PS, pgno, i, &c, &e), RDB_OK);
	ck_assert_uint_eq(c.klen, 8);
	memcpy(buf, c.key + 3, 5);
	buf[5] = '\0';
	return (unsigned)atoi(buf);
}

/* ==== chain: leaf links cut short ====================================== */

/* Full scans over a chain cut in the middle are RDB_CORRUPT naming the
 * leaf where the chain ends: _i 0/1 forward/backward in a read
 * transaction, 2/3 in a write transaction; 4: the root's rightmost child
 * link is 0 and 5: that child is not a node, so the check of where the
 * chain should end fails on them. */
START_TEST(test_btcov2_scan_over_cut_chain_is_corrupt_naming_the_leaf)
{
	rig r;
	pager_txn *t;
	bt_cursor *c;
	rdb_pgno x, rc_child;
	pager_page *pg;
	long steps = 0;
	int back = _i == 1 || _i == 3;
	rdb_rc rc;

	rig_load(&r, 64, 1500, 70, len_small);
	t = bt_rig_begin(&r, 1);
	x = leaf_at(t, r.root, back ? -3 : 3);
	put_u32_at(t, x, back ? LINK_A : LINK_B, 0);
	ck_assert_int_eq(pager_get(t, r.root, &pg), RDB_OK);
	rc_child = fmt_get_u32(pager_data(pg) + LINK_A);
	pager_unref(pg);
	if (_i == 4)
		put_u32_at(t, r.root, LINK_A, 0);
	if (_i == 5) {
		unsigned char *d = page_w(t, rc_child, &pg);

		d[FMT_PAGE_TYPE] = FMT_PT_BT_OVERFLOW;
		pager_unref(pg);
	}
	if (_i < 2 || _i >= 4) {
		ck_assert_int_eq(pager_commit(t), RDB_OK);
		t = bt_rig_begin(&r, 0);
	}
	ck_assert_int_eq(bt_cursor_open(t, r.root, &c), RDB_OK);
	for (rc = back ? bt_last(c) : bt_first(c); rc == RDB_OK;
	     rc = back ? bt_prev(c) : bt_next(c))
		steps++;
	ck_assert_msg(rc == RDB_CORRUPT, "scan: rc %d after %ld steps", rc,
		      steps);
	if (_i < 4)
		expect_names(t, x);
	else if (_i == 5)
		expect_names(t, rc_child);
	ck_assert(!bt_valid(c));
	bt_cursor_close(c);
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

/* ==== seeks: a read cursor that keeps its path ========================= */

/*
 * A read cursor over a pool of 1100 frames keeps the inner nodes of its
 * last descent pinned and starts the next seek below the nodes both
 * share, or in its leaf.  Seeks GE and LE for present and absent keys,
 * in random order and ascending, land on the right keys.
 */
START_TEST(test_btcov2_read_cursor_seeks_reuse_path_and_find_keys)
{
	rig r;
	pager_txn *t;
	bt_cursor *c;
	const void *key;
	size_t klen;
	char k[32], w[32];
	unsigned i, n = 1500, q;
	rdb_rc rc;

	rig_load(&r, 1100, n, 60, len_small);
	t = bt_rig_begin(&r, 0);
	ck_assert_int_eq(bt_cursor_open(t, r.root, &c), RDB_OK);
	for (i = 0; i < 600; i++) {
		/* random (i < 300), then ascending in small steps */
		q = i < 300 ? (i * 7919u) % (2 * n) : (i - 300) * 3;
		rc = i % 2 ? bt_seek_le(c, k, key_of(k, q))
			   : bt_seek_ge(c, k, key_of(k, q));
		if (i % 2 && q == 2 * n - 1)
			q--;
		if (i % 2 == 0 && q % 2)
			q++;
		else if (i % 2 && q % 2)
			q--;
		ck_assert_int_eq(rc, RDB_OK);
		ck_assert_int_eq(bt_key(c, &key, &klen), RDB_OK);
		ck_assert_msg(klen == key_of(w, q) && memcmp(key, w, klen) == 0,
			      "seek %u: %.*s, want %s", i, (int)klen,
			      (const char *)key, w);
	}
	ck_assert_int_eq(bt_seek_ge(c, "key99999", 8), RDB_NOTFOUND);
	ck_assert_int_eq(bt_seek_le(c, "a", 1), RDB_NOTFOUND);
	bt_cursor_close(c);
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

/*
 * A read cursor sits on the last key of leaf X, whose cell 0 (_i 0) or
 * cell 1 (_i 1) runs off the page; the descent to that key does not read
 * them.  A seek to another key of X first looks in the pinned leaf:
 * _i 0: its first cell does not parse, so the seek descends again and
 * finds the key (the damaged cell is not on its way); _i 1: the search in
 * the leaf meets the damaged cell, and so does the descent: RDB_CORRUPT
 * naming X, the cursor off any key.
 */
START_TEST(test_btcov2_seek_in_pinned_damaged_leaf_descends_or_is_corrupt)
{
	rig r;
	pager_txn *t;
	pager_page *pg;
	bt_cursor *c;
	const void *key;
	size_t klen;
	char k[32];
	rdb_pgno x;
	unsigned last, other;
	uint32_t n;
	rdb_rc rc;

	rig_load(&r, 64, 1500, 60, len_small);
	t = bt_rig_begin(&r, 1);
	x = leaf_at(t, r.root, 4);
	ck_assert_int_eq(pager_get(t, x, &pg), RDB_OK);
	n = nd_n(pager_data(pg));
	ck_assert_uint_ge(n, 5);
	last = key_num(pager_data(pg), x, n - 1);
	other = key_num(pager_data(pg), x, _i == 0 ? n - 2 : 0);
	pager_unref(pg);
	{
		unsigned char *d = page_w(t, x, &pg);

		fmt_put_u16(d + SLOTS + 2 * (uint32_t)_i, PS - 3);
		pager_unref(pg);
	}
	ck_assert_int_eq(pager_commit(t), RDB_OK);
	t = bt_rig_begin(&r, 0);
	ck_assert_int_eq(bt_cursor_open(t, r.root, &c), RDB_OK);
	ck_assert_int_eq(bt_seek_ge(c, k, key_of(k, last)), RDB_OK);
	rc = bt_seek_ge(c, k, key_of(k, other));
	if (_i == 0) {
		ck_assert_int_eq(rc, RDB_OK);
		ck_assert_int_eq(bt_key(c, &key, &klen), RDB_OK);
		ck_assert(klen == 8 && memcmp(key, k, 8) == 0);
	} else {
		ck_assert_int_eq(rc, RDB_CORRUPT);
		expect_names(t, x);
		ck_assert(!bt_valid(c));
	}
	bt_cursor_close(c);
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

/* ==== verify: underfull nodes, allocation failures ====================== */

/* A middle leaf (_i 0) or a middle inner node (_i 1) left with one cell,
 * its header consistent with that: bt_verify reports the underfull node
 * by page; a scan still reads the tree (fill is not a read error). */
START_TEST(test_btcov2_verify_rejects_underfull_middle_nodes)
{
	rig r;
	pager_txn *t;
	pager_page *pg;
	rdb_pgno x;
	unsigned char *d;
	bt_cell cell;
	rdb_err e = { 0 };
	const char *want = _i == 0 ? "leaf below its minimum fill"
				   : "inner node below its minimum fill";

	rig_load(&r, 64, 6000, 60, len_small);
	t = bt_rig_begin(&r, 1);
	if (_i == 0) {
		x = leaf_at(t, r.root, 5);
	} else {
		/* the root's second child: an inner node, not at an edge */
		ck_assert_int_eq(pager_get(t, r.root, &pg), RDB_OK);
		d = pager_data(pg);
		ck_assert_uint_ge(fmt_get_u16(d + NCELLS), 2);
		ck_assert_int_eq(nd_child(d, PS, r.root, 1, &x, &e), RDB_OK);
		pager_unref(pg);
	}
	d = page_w(t, x, &pg);
	ck_assert_uint_gt(nd_n(d), 1);
	/* keep cell 0 only: the others' bytes become fragments */
	ck_assert_int_eq(nd_cell(d, PS, x, 0, &cell, &e), RDB_OK);
	fmt_put_u16(d + NCELLS, 1);
	fmt_put_u32(d + FRAG, PS - fmt_get_u32(d + CONTENT) - cell.size);
	pager_unref(pg);
	ck_assert_int_eq(bt_verify(t, r.root, NULL, NULL), RDB_CORRUPT);
	ck_assert_msg(strstr(r.err.msg, want) != NULL, "'%s' lacks '%s'",
		      r.err.msg, want);
	expect_names(t, x);
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

/* The empty key is a key like any other: alone in the tree, and as the
 * first of many (the last key bt_verify remembers may be empty). */
START_TEST(test_btcov2_empty_key_verifies_and_reads_back)
{
	unsigned char v[40], got[40];
	char k[32];
	rig r;
	pager_txn *t;
	bt_stats st;
	bt_cursor *c;
	const void *key;
	size_t klen, vlen;
	unsigned i;

	rig_load(&r, 64, 0, 100, len_small);
	t = bt_rig_begin(&r, 1);
	ck_assert_int_eq(bt_insert(t, r.root, "", 0, v, val_of(v, 7, 30)),
			 RDB_OK);
	ck_assert_int_eq(bt_verify(t, r.root, NULL, &st), RDB_OK);
	ck_assert_uint_eq(st.keys, 1);
	ck_assert_int_eq(bt_insert(t, r.root, "", 0, v, 3), RDB_CONSTRAINT);
	for (i = 0; i < 200; i++)
		ck_assert_int_eq(bt_insert(t, r.root, k, key_of(k, i), v,
					   val_of(v, i, 30)), RDB_OK);
	ck_assert_int_eq(bt_verify(t, r.root, NULL, &st), RDB_OK);
	ck_assert_uint_eq(st.keys, 201);
	ck_assert_uint_gt(st.depth, 1);
	ck_assert_int_eq(bt_get_buf(t, r.root, "", 0, got, sizeof(got), &vlen),
			 RDB_OK);
	ck_assert_uint_eq(vlen, val_of(v, 7, 30));
	ck_assert(memcmp(got, v, 30) == 0);
	ck_assert_int_eq(bt_cursor_open(t, r.root, &c), RDB_OK);
	ck_assert_int_eq(bt_first(c), RDB_OK);
	ck_assert_int_eq(bt_key(c, &key, &klen), RDB_OK);
	ck_assert_uint_eq(klen, 0);
	ck_assert_int_eq(bt_seek_le(c, "a", 1), RDB_OK);
	ck_assert_int_eq(bt_key(c, &key, &klen), RDB_OK);
	ck_assert_uint_eq(klen, 0);
	bt_cursor_close(c);
	for (i = 0; i < 200; i++)
		ck_assert_int_eq(bt_delete(t, r.root, k, key_of(k, i)), RDB_OK);
	ck_assert_int_eq(bt_verify(t, r.root, NULL, &st), RDB_OK);
	ck_assert_uint_eq(st.keys, 1);
	ck_assert_int_eq(bt_delete(t, r.root, "", 0), RDB_OK);
	ck_assert_int_eq(bt_verify(t, r.root, NULL, &st), RDB_OK);
	ck_assert_uint_eq(st.keys, 0);
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

/* An allocation failure at each step of bt_verify and of a full scan
 * with a write cursor: RDB_NOMEM with a message, or the full answer. */
START_TEST(test_btcov2_nomem_in_verify_and_scan_fails_cleanly)
{
	rig r;
	long at, failed = 0;
	int done = 0;

	rig_load(&r, 64, 600, 80, len_mixed);
	for (at = 1; !done; at++) {
		pager_txn *t = bt_rig_begin(&r, _i);
		bt_cursor *c = NULL;
		bt_stats st;
		const void *val;
		size_t vlen;
		unsigned n = 0;
		rdb_rc rc;

		rdb_mem_fail_at(at, 0);
		rc = bt_verify(t, r.root, NULL, &st);
		if (rc == RDB_OK)
			rc = bt_cursor_open(t, r.root, &c);
		for (rc = rc == RDB_OK ? bt_first(c) : rc; rc == RDB_OK;
		     rc = bt_next(c), n++)
			if ((rc = bt_value(c, &val, &vlen)) != RDB_OK)
				break;
		rdb_mem_fail_at(0, 0);
		bt_cursor_close(c);
		if (rc == RDB_NOTFOUND) {
			ck_assert_uint_eq(n, 600);
			ck_assert_uint_eq(st.keys, 600);
			done = 1;
		} else {
			ck_assert_msg(rc == RDB_NOMEM, "at %ld: rc %d (%s)", at,
				      rc, r.err.msg);
			ck_assert(r.err.msg[0] != '\0');
			failed++;
		}
		pager_rollback(t);
	}
	ck_assert_int_gt(failed, 2);
	bt_rig_free(&r);
}
END_TEST

/* ==== damage: cells a shift meets ======================================= */

/*
 * A middle leaf X of a tree loaded 60% full gets two cells of 110 bytes
 * next to its first cell (_i 0, 2) or its second last one (_i 1, 3); the
 * second does not fit, so cells move into X's neighbour with more room:
 * the right one (equal fill), or for _i 1, 3 the left one, which lost two
 * keys first.  Before the second insert, the two cells of X at the end
 * that moves, which the search for the new key does not read, are damaged:
 * they run off the page (_i 0, 1) or their key length is not a varint
 * (_i 2, 3).  The insert is RDB_CORRUPT naming X: no damaged cell is
 * copied into the neighbour.
 */
START_TEST(test_btcov2_shift_over_damaged_cells_is_corrupt_naming_the_leaf)
{
	int at_end = _i % 2;
	rig r;
	pager_txn *t;
	pager_page *pg;
	unsigned char *d, v[100];
	char k[32];
	rdb_pgno x, prev;
	uint32_t n, j;
	unsigned num, p0;
	rdb_rc rc;

	rig_load(&r, 64, 1500, 60, len_small);
	t = bt_rig_begin(&r, 1);
	x = leaf_at(t, r.root, 6);
	prev = leaf_at(t, r.root, 5);
	ck_assert_int_eq(pager_get(t, x, &pg), RDB_OK);
	d = pager_data(pg);
	n = nd_n(d);
	ck_assert_uint_ge(n, 6);
	num = key_num(d, x, at_end ? n - 2 : 0);
	pager_unref(pg);
	if (at_end) {
		ck_assert_int_eq(pager_get(t, prev, &pg), RDB_OK);
		p0 = key_num(pager_data(pg), prev, 1);
		pager_unref(pg);
		ck_assert_int_eq(bt_delete(t, r.root, k, key_of(k, p0)), RDB_OK);
		ck_assert_int_eq(bt_delete(t, r.root, k, key_of(k, p0 + 2)),
				 RDB_OK);
	}
	snprintf(k, sizeof(k), "key%05ua", num);
	ck_assert_int_eq(bt_insert(t, r.root, k, 9, v, val_of(v, 1, 100)),
			 RDB_OK);
	d = page_w(t, x, &pg);
	n = nd_n(d);
	for (j = 0; j < 2; j++) {
		uint32_t slot = at_end ? j : n - 1 - j;

		if (_i < 2)
			fmt_put_u16(d + SLOTS + 2 * slot, PS - 3);
		else
			memset(d + nd_off(d, slot), 0xff, 6);  /* klen */
	}
	pager_unref(pg);
	snprintf(k, sizeof(k), "key%05ub", num);
	rc = bt_insert(t, r.root, k, 9, v, val_of(v, 2, 100));
	ck_assert_msg(rc == RDB_CORRUPT, "rc %d (%s)", rc, r.err.msg);
	expect_names(t, x);
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

/* Every cell of leaf pgno runs off the page. */
static void damage_cells(pager_txn *t, rdb_pgno pgno)
{
	pager_page *pg;
	unsigned char *d = page_w(t, pgno, &pg);
	uint32_t j;

	for (j = 0; j < nd_n(d); j++)
		fmt_put_u16(d + SLOTS + 2 * j, PS - 3);
	pager_unref(pg);
}

/*
 * The neighbours of a middle leaf X have every cell damaged; X's own
 * cells are sound.  _i 0: X and its neighbours are full (100% load) and
 * X gets one more cell, so that its cells spread over a window of leaves
 * with its neighbours; _i 1: at 50% fill, keys of X are deleted until it
 * merges with or takes cells from a neighbour.  The change is
 * RDB_CORRUPT naming one of the neighbours, and nothing is written from
 * their cells.
 */
START_TEST(test_btcov2_rebalance_with_damaged_neighbours_is_corrupt)
{
	rig r;
	pager_txn *t;
	pager_page *pg;
	unsigned char v[100];
	char k[32], want[2][32];
	rdb_pgno x, nb[2];
	unsigned num[16];
	uint32_t n, j;
	rdb_rc rc = RDB_OK;

	rig_load(&r, 64, 1500, _i == 0 ? 100 : 50, len_small);
	t = bt_rig_begin(&r, 1);
	x = leaf_at(t, r.root, 6);
	nb[0] = leaf_at(t, r.root, 5);
	nb[1] = leaf_at(t, r.root, 7);
	ck_assert_int_eq(pager_get(t, x, &pg), RDB_OK);
	n = nd_n(pager_data(pg));
	ck_assert_uint_ge(n, 4);
	for (j = 0; j < n && j < 16; j++)
		num[j] = key_num(pager_data(pg), x, j);
	pager_unref(pg);
	damage_cells(t, nb[0]);
	damage_cells(t, nb[1]);
	if (_i == 0) {
		snprintf(k, sizeof(k), "key%05ua", num[1]);
		rc = bt_insert(t, r.root, k, 9, v, val_of(v, 1, 100));
	} else {
		for (j = 0; j < n && j < 16 && rc == RDB_OK; j++)
			rc = bt_delete(t, r.root, k, key_of(k, num[j]));
	}
	ck_assert_msg(rc == RDB_CORRUPT, "rc %d (%s)", rc, r.err.msg);
	snprintf(want[0], sizeof(want[0]), "page %u", nb[0]);
	snprintf(want[1], sizeof(want[1]), "page %u", nb[1]);
	ck_assert_msg(strstr(r.err.msg, want[0]) != NULL ||
		      strstr(r.err.msg, want[1]) != NULL,
		      "message '%s' names neither %u nor %u", r.err.msg,
		      nb[0], nb[1]);
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

/*
 * Every slot of leaf X names its first cell (each slot a sound cell, their
 * sizes adding up to more than the page), with room claimed as fragments
 * so that a new cell needs the page compacted: the insert is RDB_CORRUPT
 * naming X, and X is not rewritten from the overlapping cells.
 */
START_TEST(test_btcov2_insert_compacting_overlapping_cells_is_corrupt)
{
	unsigned char v[100], before[PS], *d;
	char k[32];
	rig r;
	pager_txn *t;
	pager_page *pg;
	rdb_pgno x;
	uint32_t n, j, off, content;
	unsigned first;
	rdb_rc rc;

	rig_load(&r, 64, 1500, 60, len_small);
	t = bt_rig_begin(&r, 1);
	x = leaf_at(t, r.root, 3);
	d = page_w(t, x, &pg);
	first = key_num(d, x, 0);
	off = nd_off(d, 0);
	content = fmt_get_u32(d + CONTENT);
	n = (content - SLOTS - 20) / 2;
	for (j = 0; j < n; j++)
		fmt_put_u16(d + SLOTS + 2 * j, (uint16_t)off);
	fmt_put_u16(d + NCELLS, (uint16_t)n);
	fmt_put_u32(d + FRAG, 300);
	memcpy(before, d, PS);
	pager_unref(pg);
	snprintf(k, sizeof(k), "key%05ua", first);
	rc = bt_insert(t, r.root, k, 9, v, val_of(v, 3, 100));
	ck_assert_msg(rc == RDB_CORRUPT, "rc %d (%s)", rc, r.err.msg);
	expect_names(t, x);
	ck_assert_int_eq(pager_get(t, x, &pg), RDB_OK);
	ck_assert(memcmp(pager_data(pg), before, PS) == 0);
	pager_unref(pg);
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

/* ==== overflow: chains cut short or leading elsewhere ================= */

/*
 * The first value of the tree on two or more overflow pages: its first
 * overflow page's next link is 0 (_i 0: the chain is shorter than the
 * value) or names the root (_i 1: a page of another type).  Reading the
 * value (whole, through a cursor in pieces, through a read cursor) and
 * deleting its key are RDB_CORRUPT naming the page where the chain goes
 * wrong; other keys still read.
 */
START_TEST(test_btcov2_broken_overflow_chain_is_corrupt_for_reads_and_delete)
{
	unsigned char buf[1000];
	rdb_err e = { 0 };
	const void *val;
	char key[32];
	rig r;
	pager_txn *t;
	pager_page *pg;
	bt_cursor *c;
	bt_cell cell;
	rdb_pgno leaf, ov = 0, bad;
	size_t klen = 0, vlen;
	uint32_t j;

	rig_load(&r, 64, 600, 80, len_mixed);
	t = bt_rig_begin(&r, 1);
	for (leaf = leaf_at(t, r.root, 0); ov == 0 && leaf != 0;) {
		ck_assert_int_eq(pager_get(t, leaf, &pg), RDB_OK);
		for (j = 0; j < nd_n(pager_data(pg)) && ov == 0; j++) {
			ck_assert_int_eq(nd_cell(pager_data(pg), PS, leaf, j,
						 &cell, &e), RDB_OK);
			if (cell.ovfl != 0 && cell.vlen > cell.local +
			    bt_ovfl_cap(PS)) {
				ov = cell.ovfl;
				klen = cell.klen;
				memcpy(key, cell.key, klen);
			}
		}
		leaf = fmt_get_u32(pager_data(pg) + LINK_B);
		pager_unref(pg);
	}
	ck_assert_uint_ne(ov, 0);
	put_u32_at(t, ov, BT_OVFL_NEXT, _i == 0 ? 0 : r.root);
	bad = _i == 0 ? 0 : r.root;
	ck_assert_int_eq(pager_commit(t), RDB_OK);

	t = bt_rig_begin(&r, 1);
	ck_assert_int_eq(bt_get_buf(t, r.root, key, klen, buf, sizeof(buf),
				    &vlen), RDB_CORRUPT);
	expect_names(t, bad);
	ck_assert_int_eq(bt_cursor_open(t, r.root, &c), RDB_OK);
	ck_assert_int_eq(bt_seek_ge(c, key, klen), RDB_OK);
	ck_assert_int_eq(bt_value_size(c, &vlen), RDB_OK);
	ck_assert_uint_gt(vlen, 600);
	ck_assert_int_eq(bt_value_read(c, 0, buf, 10), RDB_OK);
	ck_assert_int_eq(bt_value_read(c, vlen - 10, buf, 10), RDB_CORRUPT);
	expect_names(t, bad);
	bt_cursor_close(c);
	ck_assert_int_eq(bt_delete(t, r.root, key, klen), RDB_CORRUPT);
	expect_names(t, bad);
	pager_rollback(t);

	t = bt_rig_begin(&r, 0);
	ck_assert_int_eq(bt_cursor_open(t, r.root, &c), RDB_OK);
	ck_assert_int_eq(bt_seek_ge(c, key, klen), RDB_OK);
	ck_assert_int_eq(bt_value(c, &val, &vlen), RDB_CORRUPT);
	expect_names(t, bad);
	ck_assert_int_eq(bt_first(c), RDB_OK);
	ck_assert_int_eq(bt_value_size(c, &vlen), RDB_OK);
	bt_cursor_close(c);
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

/* ==== faults: every call of a small change fails once ================== */

/* Order-independent digest of the tree: key count and a hash of every
 * key and value, read through a cursor. */
static void digest(rig *r, uint64_t *n, uint64_t *h)
{
	pager_txn *t = bt_rig_begin(r, 0);
	bt_cursor *c;
	const void *key, *val;
	size_t klen, vlen, j;
	rdb_rc rc;

	*n = 0;
	*h = 0;
	ck_assert_int_eq(bt_verify(t, r->root, NULL, NULL), RDB_OK);
	ck_assert_int_eq(bt_cursor_open(t, r->root, &c), RDB_OK);
	for (rc = bt_first(c); rc == RDB_OK; rc = bt_next(c)) {
		uint64_t x = 1469598103934665603ull;

		ck_assert_int_eq(bt_key(c, &key, &klen), RDB_OK);
		ck_assert_int_eq(bt_value(c, &val, &vlen), RDB_OK);
		for (j = 0; j < klen; j++)
			x = (x ^ ((const unsigned char *)key)[j]) * 1099511628211ull;
		for (j = 0; j < vlen; j++)
			x = (x ^ ((const unsigned char *)val)[j]) * 1099511628211ull;
		*h += x;
		(*n)++;
	}
	ck_assert_int_eq(rc, RDB_NOTFOUND);
	bt_cursor_close(c);
	pager_rollback(t);
}

/* Lookups over the whole tree, so that the small cache (16 frames) has
 * to read the cursor's leaf again for its next step. */
static rdb_rc churn(pager_txn *t, rdb_pgno root)
{
	char k[32];
	size_t vlen;
	unsigned i;
	rdb_rc rc = RDB_OK;

	for (i = 0; i < 20 && (rc == RDB_OK || rc == RDB_RANGE); i++)
		rc = bt_get_buf(t, root, k, key_of(k, i * 50), NULL, 0, &vlen);
	return rc == RDB_RANGE ? RDB_OK : rc;
}

/* Workload 3: a write cursor steps both ways over leaves and overflow
 * values, reading them whole and in pieces, deletes and puts, the tree
 * read elsewhere between its steps. */
static rdb_rc fw_cursor(pager_txn *t, rdb_pgno root, unsigned char *v)
{
	bt_cursor *c = NULL;
	const void *val;
	char k[32];
	size_t vlen;
	unsigned i;
	rdb_rc rc = bt_cursor_open(t, root, &c);

	if (rc == RDB_OK)
		rc = bt_seek_ge(c, k, key_of(k, 301));
	for (i = 0; i < 20 && rc == RDB_OK; i++)
		if ((rc = churn(t, root)) == RDB_OK &&
		    (rc = bt_next(c)) == RDB_OK &&
		    (rc = churn(t, root)) == RDB_OK &&
		    (rc = bt_value(c, &val, &vlen)) == RDB_OK && vlen > 2)
			rc = bt_value_read(c, vlen / 2, v, vlen - vlen / 2);
	for (i = 0; i < 30 && rc == RDB_OK; i++)
		if ((rc = churn(t, root)) == RDB_OK &&
		    (rc = bt_prev(c)) == RDB_OK &&
		    (rc = churn(t, root)) == RDB_OK)
			rc = bt_value_size(c, &vlen);
	for (i = 0; i < 6 && rc == RDB_OK; i++)
		if ((rc = bt_cursor_delete(c)) == RDB_OK &&
		    (rc = bt_next(c)) == RDB_OK)
			rc = bt_cursor_put(c, k, key_of(k, 1 + i * 6), v,
					   val_of(v, i, 60 + i * 150));
	if (rc == RDB_OK && (rc = bt_last(c)) == RDB_OK)
		rc = bt_prev(c);
	bt_cursor_close(c);
	return rc;
}

/* The changes of workload w (0: a root leaf filled past a split by
 * ascending and then middle inserts; 1: inserts of big cells into full
 * leaves and deletes in a tree 100% full; 2: deletes that merge and
 * even out leaves of a tree at 50% fill; 3: fw_cursor()). */
static rdb_rc fw_changes(pager_txn *t, rdb_pgno root, int w)
{
	unsigned char v[2000];
	char k[32];
	unsigned i;
	rdb_rc rc = RDB_OK;

	if (w == 3)
		return fw_cursor(t, root, v);
	if (w == 0) {
		for (i = 0; i < 12 && rc == RDB_OK; i++)
			rc = bt_insert(t, root, k, key_of(k, 1 + i * 2), v,
				       val_of(v, i, i == 5 ? 1100 : 60));
		return rc;
	}
	if (w == 1) {
		for (i = 0; i < 8 && rc == RDB_OK; i++)
			rc = bt_insert(t, root, k, key_of(k, 101 + i * 40), v,
				       val_of(v, i, 150 + i * 20));
		for (i = 0; i < 40 && rc == RDB_OK; i++)
			rc = bt_delete(t, root, k, key_of(k, 400 + i * 2));
		return rc;
	}
	for (i = 0; i < 60 && rc == RDB_OK; i++)
		rc = bt_delete(t, root, k, key_of(k, 200 + i * 4));
	return rc;
}

static void fw_rig(rig *r, int w)
{
	rig_load(r, 16, w == 0 ? 3 : 500, w == 2 ? 50 : w == 3 ? 80 : 100,
		 w == 3 ? len_mixed : len_small);
}

/* One trial: the fault at call (or allocation) at; returns whether the
 * workload failed.  A failure is the injected error with a message, and
 * the tree read after a reopen is the one before. */
static int fw_trial(int w, int mem, long at, uint64_t n0, uint64_t h0)
{
	rig r;
	pager_txn *t = NULL;
	uint64_t n, h;
	char msg[sizeof(r.err.msg) + 32];
	rdb_rc rc;

	fw_rig(&r, w);
	fu_arm(r.vfs, !mem, (uint64_t)at);
	rc = pager_begin(r.p, 1, &r.err, &t);
	if (rc == RDB_OK) {
		rc = fw_changes(t, r.root, w);
		if (rc == RDB_OK)
			rc = bt_verify(t, r.root, NULL, NULL);
		pager_rollback(t);
	}
	snprintf(msg, sizeof(msg), "workload %d: %s", w, r.err.msg);
	fu_end(r.vfs, !mem, (uint64_t)at, rc, msg);
	ck_assert(rc == RDB_OK || r.err.msg[0] != '\0');
	(void)bt_rig_reopen(&r);
	digest(&r, &n, &h);
	ck_assert_msg(n == n0 && h == h0, "workload %d, fault at %ld: the "
		      "tree changed (%llu keys, %llu before)", w, at,
		      (unsigned long long)n, (unsigned long long)n0);
	bt_rig_free(&r);
	return rc != RDB_OK;
}

/* _i: workload (_i + 1) / 2, allocation failures (_i even) or I/O
 * errors (odd; workload 0 keeps its few pages in the cache: no I/O). */
START_TEST(test_btcov2_fault_at_each_call_of_a_change_leaves_tree_unchanged)
{
	int w = (_i + 1) / 2, mem = _i % 2 == 0;
	uint64_t n0, h0;
	long at, failed = 0, calls;
	rig r;
	pager_txn *t;

	fw_rig(&r, w);
	digest(&r, &n0, &h0);
	if (mem)
		rdb_mem_fail_at(0, 0);
	else
		os_mem_set_fault(r.vfs, OS_FAULT_NONE, 0, 0, 0);
	t = bt_rig_begin(&r, 1);
	ck_assert_int_eq(fw_changes(t, r.root, w), RDB_OK);
	ck_assert_int_eq(bt_verify(t, r.root, NULL, NULL), RDB_OK);
	pager_rollback(t);
	calls = mem ? rdb_mem_count() : (long)os_mem_calls(r.vfs);
	bt_rig_free(&r);
	ck_assert_int_gt(calls, 2);
	for (at = 1; at <= calls + 1; at++)
		failed += fw_trial(w, mem, at, n0, h0);
	ck_assert_int_gt(failed, 0);
}
END_TEST

/* ==== load: long separators ============================================ */

/* Key i of a load whose keys share a prefix of pre bytes: separators
 * are nearly as long as the keys, so inner nodes hold few. */
static size_t long_key(char *buf, unsigned i, size_t pre)
{
	memset(buf, 'p', pre);
	return pre + (size_t)snprintf(buf + pre, 16, "%05u", i);
}

static rdb_rc load_long(pager_txn *t, rdb_pgno root, unsigned n,
			size_t pre, unsigned fill)
{
	unsigned char v[64];
	char k[160];
	bt_loader *l;
	unsigned i;
	rdb_rc rc = bt_load_begin(t, root, fill, &l);

	for (i = 0; i < n && rc == RDB_OK; i++)
		rc = bt_load_add(l, k, long_key(k, i, pre), v,
				 val_of(v, i, 1 + i % 40));
	if (rc != RDB_OK) {
		if (l != NULL)
			bt_load_abort(l);
		return rc;
	}
	return bt_load_finish(l);
}

/* Every count of keys from 1 to 260 (scaled, at least 120) with
 * separators of 40 to 100 bytes, at fills 50 and 100%: every way a level
 * can end (its last node too small for the separator that would join it,
 * so that its neighbour gives up a cell).  The tree verifies and holds
 * exactly the keys, in order. */
START_TEST(test_btcov2_load_long_separators_every_count_verifies)
{
	unsigned max = (unsigned)tu_scaled(260, 120), n, fill;
	size_t pre;
	rig r;

	bt_rig_new(&r, PS, 256);
	ck_assert_uint_ge(bt_max_key(PS), 105);
	for (fill = 50; fill <= 100; fill += 50)
		for (n = 1; n <= max; n++) {
			pager_txn *t = bt_rig_begin(&r, 1);
			bt_cursor *c;
			bt_stats st;
			const void *key;
			size_t klen, wlen;
			char k[160];
			unsigned i = 0;
			rdb_rc rc;

			pre = 40 + (n * 7) % 61;
			ck_assert_int_eq(bt_create(t, &r.root), RDB_OK);
			ck_assert_int_eq(load_long(t, r.root, n, pre, fill),
					 RDB_OK);
			ck_assert_int_eq(bt_verify(t, r.root, NULL, &st),
					 RDB_OK);
			ck_assert_uint_eq(st.keys, n);
			ck_assert_int_eq(bt_cursor_open(t, r.root, &c), RDB_OK);
			for (rc = bt_first(c); rc == RDB_OK;
			     rc = bt_next(c), i++) {
				ck_assert_int_eq(bt_key(c, &key, &klen), RDB_OK);
				wlen = long_key(k, i, pre);
				ck_assert(klen == wlen &&
					  memcmp(key, k, klen) == 0);
			}
			ck_assert_int_eq(rc, RDB_NOTFOUND);
			ck_assert_uint_eq(i, n);
			bt_cursor_close(c);
			pager_rollback(t);
		}
	bt_rig_free(&r);
}
END_TEST

/* An I/O error (_i 0) or an allocation failure (_i 1) at each call of
 * such a load of 150 keys into an empty tree: the injected error with a
 * message, and after a reopen the tree is empty again. */
START_TEST(test_btcov2_load_fault_at_each_call_fails_cleanly)
{
	int mem = _i;
	long at, calls, failed = 0;
	rig r;
	pager_txn *t;

	rig_load(&r, 16, 0, 100, len_small);
	if (mem)
		rdb_mem_fail_at(0, 0);
	else
		os_mem_set_fault(r.vfs, OS_FAULT_NONE, 0, 0, 0);
	t = bt_rig_begin(&r, 1);
	ck_assert_int_eq(load_long(t, r.root, 150, 90, 100), RDB_OK);
	calls = mem ? rdb_mem_count() : (long)os_mem_calls(r.vfs);
	ck_assert_int_eq(bt_verify(t, r.root, NULL, NULL), RDB_OK);
	pager_rollback(t);
	bt_rig_free(&r);
	ck_assert_int_gt(calls, 2);
	for (at = 1; at <= calls + 1; at++) {
		rdb_rc rc;
		uint64_t n, h;

		rig_load(&r, 16, 0, 100, len_small);
		fu_arm(r.vfs, !mem, (uint64_t)at);
		rc = pager_begin(r.p, 1, &r.err, &t);
		if (rc == RDB_OK) {
			rc = load_long(t, r.root, 150, 90, 100);
			pager_rollback(t);
		}
		fu_end(r.vfs, !mem, (uint64_t)at, rc, r.err.msg);
		ck_assert(rc == RDB_OK || r.err.msg[0] != '\0');
		failed += rc != RDB_OK;
		(void)bt_rig_reopen(&r);
		digest(&r, &n, &h);
		ck_assert_uint_eq(n, 0);
		bt_rig_free(&r);
	}
	ck_assert_int_gt(failed, 0);
}
END_TEST

Suite *btcov2_suite(void)
{
	Suite *s = suite_create("btcov2");
	TCase *tc = tcase_create("chain");

	tcase_add_loop_test(tc,
		test_btcov2_scan_over_cut_chain_is_corrupt_naming_the_leaf, 0, 6);
	suite_add_tcase(s, tc);

	tc = tcase_create("seeks");
	tcase_add_test(tc, test_btcov2_read_cursor_seeks_reuse_path_and_find_keys);
	tcase_add_loop_test(tc,
		test_btcov2_seek_in_pinned_damaged_leaf_descends_or_is_corrupt,
		0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("verify");
	tcase_add_loop_test(tc, test_btcov2_verify_rejects_underfull_middle_nodes,
			    0, 2);
	tcase_add_loop_test(tc, test_btcov2_nomem_in_verify_and_scan_fails_cleanly,
			    0, 2);
	tcase_add_test(tc, test_btcov2_empty_key_verifies_and_reads_back);
	suite_add_tcase(s, tc);

	tc = tcase_create("damage");
	tcase_add_loop_test(tc,
		test_btcov2_shift_over_damaged_cells_is_corrupt_naming_the_leaf,
		0, 4);
	tcase_add_loop_test(tc,
		test_btcov2_rebalance_with_damaged_neighbours_is_corrupt, 0, 2);
	tcase_add_test(tc,
		test_btcov2_insert_compacting_overlapping_cells_is_corrupt);
	suite_add_tcase(s, tc);

	tc = tcase_create("overflow");
	tcase_add_loop_test(tc,
		test_btcov2_broken_overflow_chain_is_corrupt_for_reads_and_delete,
		0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_btcov2_load_long_separators_every_count_verifies);
	tcase_add_loop_test(tc, test_btcov2_load_fault_at_each_call_fails_cleanly,
			    0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("faults");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc,
		test_btcov2_fault_at_each_call_of_a_change_leaves_tree_unchanged,
		0, 7);
	suite_add_tcase(s, tc);
	return s;
}
