/*
 * check_btcov3.c -- the B+ tree's error paths in the middle of a
 * rebalance, found with `make coverage COV_SUITES=...` (docs/testing.md,
 * "Coverage"): a full leaf shifting cells into a neighbour that must be
 * compacted first, or whose header claims more free bytes than it has
 * ("shift"); a window spread whose parent makes the same false claim
 * ("spread"); a root inner node with no key, only its rightmost child
 * ("root"); the k-th page allocation of a change failing on a damaged
 * free list ("alloc"); damaged siblings, separators, cells and leaf
 * links met by inserts, replaces, drops and seeks, and a read that ends
 * where its overflow chain ends ("damage"); bulk loads into trees with
 * keys, a cursor delete without memory, an I/O error at each call of a
 * big insert and of full scans ("faults"); damage only bt_verify sees
 * ("verify").  After a failed change the pages it had not reached are
 * byte for byte as before, and the committed tree, after a rollback,
 * verifies and reads back whole.
 * Contracts under test: src/btree/btree.h, src/pager/pager.h.  The node
 * layout is read and damaged through bt_int.h (white box).
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
#define VLEN 16u
/* A leaf cell of ours: klen, vlen, 8-byte key, 16-byte value; 17 of
 * them with their slots fill a 512-byte leaf (476 of 480 bytes).  A
 * separator between ids that differ in the last byte is 15 bytes with
 * its slot: 32 of them fill an inner node exactly. */
#define CELL (2u + 8u + VLEN)

typedef bt_rig rig;

/* Key of id: 8 bytes, big-endian, so that keys sort as ids. */
static void key_of(unsigned char *k, uint64_t id)
{
	int j;

	for (j = 7; j >= 0; j--, id >>= 8)
		k[j] = (unsigned char)id;
}

static void val_of(unsigned char *v, uint64_t id)
{
	unsigned j;

	for (j = 0; j < VLEN; j++)
		v[j] = (unsigned char)(id * 7 + j);
}

/* A tree of the even ids 0 .. 2(n-1), bulk-loaded fill% full and
 * committed; r->root is its root. */
static void rig_tree(rig *r, uint32_t ps, uint32_t cache, unsigned n,
		     unsigned fill)
{
	unsigned char k[8], v[VLEN];
	bt_loader *l;
	pager_txn *t;
	unsigned i;

	bt_rig_new(r, ps, cache);
	t = bt_rig_begin(r, 1);
	ck_assert_int_eq(bt_create(t, &r->root), RDB_OK);
	ck_assert_int_eq(bt_load_begin(t, r->root, fill, &l), RDB_OK);
	for (i = 0; i < n; i++) {
		key_of(k, 2 * (uint64_t)i);
		val_of(v, 2 * (uint64_t)i);
		ck_assert_int_eq(bt_load_add(l, k, 8, v, VLEN), RDB_OK);
	}
	ck_assert_int_eq(bt_load_finish(l), RDB_OK);
	ck_assert_int_eq(bt_verify(t, r->root, NULL, NULL), RDB_OK);
	ck_assert_int_eq(pager_commit(t), RDB_OK);
}

static rdb_rc put_id(pager_txn *t, rdb_pgno root, uint64_t id)
{
	unsigned char k[8], v[VLEN];

	key_of(k, id);
	val_of(v, id);
	return bt_insert(t, root, k, 8, v, VLEN);
}

static rdb_rc del_id(pager_txn *t, rdb_pgno root, uint64_t id)
{
	unsigned char k[8];

	key_of(k, id);
	return bt_delete(t, root, k, 8);
}

/* The id of cell i of leaf d. */
static uint64_t id_at(const unsigned char *d, rdb_pgno pgno, uint32_t i)
{
	rdb_err e = { 0 };
	uint64_t id = 0;
	bt_cell c;
	uint32_t j;

	ck_assert_int_eq(nd_cell(d, PS, pgno, i, &c, &e), RDB_OK);
	ck_assert_uint_eq(c.klen, 8);
	for (j = 0; j < 8; j++)
		id = id << 8 | c.key[j];
	return id;
}

/* Page of the k-th leaf from the left; *parent (if not NULL) gets the
 * page of its parent when the tree has two levels or the leaf is under
 * the first node of the level above it. */
static rdb_pgno leaf_at(pager_txn *t, rdb_pgno root, unsigned k,
			rdb_pgno *parent)
{
	rdb_err e = { 0 };
	rdb_pgno pgno = root, up = 0;
	pager_page *pg;

	for (;;) {
		unsigned char *d;

		ck_assert_int_eq(pager_get(t, pgno, &pg), RDB_OK);
		d = pager_data(pg);
		if (nd_is_leaf(d))
			break;
		up = pgno;
		ck_assert_int_eq(nd_child(d, PS, pgno, 0, &pgno, &e), RDB_OK);
		pager_unref(pg);
	}
	for (; k > 0; k--) {
		rdb_pgno nx = fmt_get_u32(pager_data(pg) + BT_LINK_B);

		pager_unref(pg);
		ck_assert_uint_ne(nx, 0);
		pgno = nx;
		ck_assert_int_eq(pager_get(t, pgno, &pg), RDB_OK);
	}
	pager_unref(pg);
	if (parent != NULL)
		*parent = up;
	return pgno;
}

static unsigned char *page_w(pager_txn *t, rdb_pgno pgno, pager_page **pg)
{
	ck_assert_int_eq(pager_get(t, pgno, pg), RDB_OK);
	ck_assert_int_eq(pager_write(t, pg), RDB_OK);
	return pager_data(*pg);
}

static void snap(pager_txn *t, rdb_pgno pgno, unsigned char *buf)
{
	pager_page *pg;

	ck_assert_int_eq(pager_get(t, pgno, &pg), RDB_OK);
	memcpy(buf, pager_data(pg), PS);
	pager_unref(pg);
}

static void expect_same(pager_txn *t, rdb_pgno pgno, const unsigned char *buf)
{
	pager_page *pg;

	ck_assert_int_eq(pager_get(t, pgno, &pg), RDB_OK);
	ck_assert_msg(memcmp(pager_data(pg), buf, PS) == 0,
		      "page %u changed", pgno);
	pager_unref(pg);
}

static void expect_names(pager_txn *t, rdb_pgno pgno)
{
	const char *msg = pager_txn_err(t)->msg;
	char want[32];

	snprintf(want, sizeof(want), "page %u", pgno);
	ck_assert_msg(strstr(msg, want) != NULL, "message '%s' lacks '%s'",
		      msg, want);
}

/* The tree verifies and holds exactly the even ids below 2n but those
 * flagged in gone (NULL: none), plus the odd ids extra[0 .. n_extra),
 * each with its value. */
static void expect_keys(pager_txn *t, rdb_pgno root, unsigned n,
			const unsigned char *gone, const uint64_t *extra,
			unsigned n_extra)
{
	unsigned char k[8], v[VLEN], got[VLEN];
	bt_stats st;
	size_t vlen;
	uint64_t id;
	unsigned i, want = 0;

	ck_assert_int_eq(bt_verify(t, root, NULL, &st), RDB_OK);
	for (id = 0; id < 2 * (uint64_t)n; id += 2) {
		int in = gone == NULL || !gone[id / 2];
		rdb_rc rc;

		key_of(k, id);
		rc = bt_get_buf(t, root, k, 8, got, sizeof(got), &vlen);
		ck_assert_msg(rc == (in ? RDB_OK : RDB_NOTFOUND),
			      "id %llu: rc %d", (unsigned long long)id, rc);
		if (!in)
			continue;
		want++;
		val_of(v, id);
		ck_assert(vlen == VLEN && memcmp(got, v, VLEN) == 0);
	}
	for (i = 0; i < n_extra; i++) {
		key_of(k, extra[i]);
		ck_assert_int_eq(bt_get_buf(t, root, k, 8, got, sizeof(got),
					    &vlen), RDB_OK);
		val_of(v, extra[i]);
		ck_assert(vlen == VLEN && memcmp(got, v, VLEN) == 0);
	}
	ck_assert_uint_eq(st.keys, want + n_extra);
}

/* Roll t back; the committed tree of n keys reads back whole. */
static void rollback_and_check(rig *r, pager_txn *t, unsigned n)
{
	pager_rollback(t);
	t = bt_rig_begin(r, 0);
	expect_keys(t, r->root, n, NULL, NULL, 0);
	pager_rollback(t);
}

/* ==== shift: a full leaf moves cells into a neighbour ================== */

#define NKEYS 2000u       /* 118 full leaves under 4 parents */
#define XLEAF 5u          /* the full leaf; its neighbours 4 and 6 */

/* Insert the key after the 9th of the full leaf x (parent par) into the
 * damaged tree of r: RDB_CORRUPT naming page bad, x and par as they
 * were; then roll back (the committed tree of NKEYS reads back whole)
 * and free r. */
static void insert_is_corrupt(rig *r, pager_txn *t, rdb_pgno x,
			      rdb_pgno par, rdb_pgno bad)
{
	unsigned char bx[PS], bp[PS];
	pager_page *pg;
	uint64_t id;
	rdb_rc rc;

	ck_assert_int_eq(pager_get(t, x, &pg), RDB_OK);
	id = id_at(pager_data(pg), x, 8) + 1;
	pager_unref(pg);
	snap(t, x, bx);
	snap(t, par, bp);
	rc = put_id(t, r->root, id);
	ck_assert_msg(rc == RDB_CORRUPT, "rc %d (%s)", rc, r->err.msg);
	expect_names(t, bad);
	expect_same(t, x, bx);
	expect_same(t, par, bp);
	rollback_and_check(r, t, NKEYS);
	bt_rig_free(r);
}

/* Delete every other key of leaf pgno but its last: its bytes become
 * fragments (the cells are not at the top of the content area), and
 * the leaf stays above its minimum fill.  Flags the ids in gone. */
static void fragment(pager_txn *t, rdb_pgno root, rdb_pgno pgno,
		     unsigned char *gone)
{
	pager_page *pg;
	uint64_t ids[32];
	uint32_t n, j;

	ck_assert_int_eq(pager_get(t, pgno, &pg), RDB_OK);
	n = nd_n(pager_data(pg));
	ck_assert_uint_le(n, 32);
	for (j = 0; j < n; j++)
		ids[j] = id_at(pager_data(pg), pgno, j);
	pager_unref(pg);
	for (j = 0; j + 1 < n; j += 2) {
		ck_assert_int_eq(del_id(t, root, ids[j]), RDB_OK);
		gone[ids[j] / 2] = 1;
	}
	ck_assert_int_eq(pager_get(t, pgno, &pg), RDB_OK);
	ck_assert_uint_gt(fmt_get_u32(pager_data(pg) + BT_FRAG), 4 * CELL);
	ck_assert_uint_ge(nd_used(pager_data(pg), PS), bt_min_fill(PS));
	pager_unref(pg);
}

/*
 * Leaf X and its neighbours are full; one neighbour N (the right one for
 * _i 0 and 2, the left one for 1 and 3) loses every other key, so that
 * its free bytes are fragments: an insert into X moves cells into N,
 * which has to be compacted first.  _i 0, 1: the insert succeeds without
 * a new page, the tree verifies and every key reads back.  _i 2, 3: a
 * cell of N that the compaction reads runs off the page: RDB_CORRUPT
 * naming N, and X, N and their parent are as they were.
 */
START_TEST(test_btcov3_shift_into_fragmented_neighbour_compacts_it)
{
	int right = _i % 2 == 0, damaged = _i >= 2;
	unsigned char gone[NKEYS] = { 0 }, bx[PS], bn[PS], bp[PS], *d;
	pager_page *pg;
	uint32_t npages;
	rig r;
	pager_txn *t;
	rdb_pgno x, nb, par;
	uint64_t id;
	rdb_rc rc;

	rig_tree(&r, PS, 256, NKEYS, 100);
	t = bt_rig_begin(&r, 1);
	x = leaf_at(t, r.root, XLEAF, &par);
	nb = leaf_at(t, r.root, right ? XLEAF + 1 : XLEAF - 1, NULL);
	fragment(t, r.root, nb, gone);
	ck_assert_int_eq(pager_get(t, x, &pg), RDB_OK);
	ck_assert_uint_gt(nd_used(pager_data(pg), PS) + CELL + 2,
			  bt_usable(PS));
	id = id_at(pager_data(pg), x, 3) + 1;
	pager_unref(pg);
	if (damaged) {
		d = page_w(t, nb, &pg);
		fmt_put_u16(d + BT_SLOTS + 2 * (nd_n(d) - 1), PS - 3);
		pager_unref(pg);
	}
	snap(t, x, bx);
	snap(t, nb, bn);
	snap(t, par, bp);
	npages = pager_txn_page_count(t);
	rc = put_id(t, r.root, id);
	if (!damaged) {
		ck_assert_int_eq(rc, RDB_OK);
		ck_assert_uint_eq(pager_txn_page_count(t), npages);
		ck_assert_int_eq(pager_get(t, nb, &pg), RDB_OK);
		ck_assert_uint_eq(fmt_get_u32(pager_data(pg) + BT_FRAG), 0);
		pager_unref(pg);
		expect_keys(t, r.root, NKEYS, gone, &id, 1);
		ck_assert_int_eq(pager_commit(t), RDB_OK);
		t = bt_rig_begin(&r, 0);
		expect_keys(t, r.root, NKEYS, gone, &id, 1);
		pager_rollback(t);
	} else {
		ck_assert_msg(rc == RDB_CORRUPT, "rc %d (%s)", rc, r.err.msg);
		expect_names(t, nb);
		expect_same(t, x, bx);
		expect_same(t, nb, bn);
		expect_same(t, par, bp);
		rollback_and_check(&r, t, NKEYS);
	}
	bt_rig_free(&r);
}
END_TEST

/*
 * Leaf X and its neighbours are full; the header of one neighbour N (the
 * right one for _i 0, the left one for _i 1) counts 200 bytes of
 * fragments it does not have, so it seems to have room: bt_verify
 * rejects it, and an insert into X that moves cells into N finds no room
 * there even after compacting N: RDB_CORRUPT naming N, X and the parent
 * as they were.
 */
START_TEST(test_btcov3_shift_into_neighbour_overstating_room_is_corrupt)
{
	int right = _i == 0;
	unsigned char *d;
	pager_page *pg;
	rig r;
	pager_txn *t;
	rdb_pgno x, nb, par;

	rig_tree(&r, PS, 256, NKEYS, 100);
	t = bt_rig_begin(&r, 1);
	x = leaf_at(t, r.root, XLEAF, &par);
	nb = leaf_at(t, r.root, right ? XLEAF + 1 : XLEAF - 1, NULL);
	d = page_w(t, nb, &pg);
	ck_assert_uint_eq(fmt_get_u32(d + BT_FRAG), 0);
	ck_assert_uint_lt(nd_gap(d), CELL + 2);
	fmt_put_u32(d + BT_FRAG, 200);
	pager_unref(pg);
	ck_assert_int_eq(bt_verify(t, r.root, NULL, NULL), RDB_CORRUPT);
	expect_names(t, nb);
	insert_is_corrupt(&r, t, x, par, nb);
}
END_TEST

/* ==== spread: a window of full leaves ================================== */

/*
 * Leaf X, its neighbours and their parent P are full (P's free bytes are
 * less than one separator); P's header counts 200 bytes of fragments it
 * does not have.  bt_verify rejects P.  An insert into X spreads the
 * window of five leaves over six, and P, compacted, cannot take the
 * fifth new separator: RDB_CORRUPT naming P; the committed tree, rolled
 * back to, is whole.
 */
START_TEST(test_btcov3_spread_under_parent_overstating_room_is_corrupt)
{
	unsigned char *d;
	pager_page *pg;
	rig r;
	pager_txn *t;
	rdb_pgno x, par;
	uint64_t id;
	rdb_rc rc;

	rig_tree(&r, PS, 256, NKEYS, 100);
	t = bt_rig_begin(&r, 1);
	x = leaf_at(t, r.root, XLEAF, &par);
	ck_assert_uint_ne(par, r.root);
	d = page_w(t, par, &pg);
	ck_assert_uint_gt(nd_used(d, PS) + 15, bt_usable(PS));
	ck_assert_uint_eq(fmt_get_u32(d + BT_FRAG), 0);
	fmt_put_u32(d + BT_FRAG, 200);
	pager_unref(pg);
	ck_assert_int_eq(bt_verify(t, r.root, NULL, NULL), RDB_CORRUPT);
	expect_names(t, par);
	ck_assert_int_eq(pager_get(t, x, &pg), RDB_OK);
	id = id_at(pager_data(pg), x, 8) + 1;
	pager_unref(pg);
	rc = put_id(t, r.root, id);
	ck_assert_msg(rc == RDB_CORRUPT, "rc %d (%s)", rc, r.err.msg);
	expect_names(t, par);
	rollback_and_check(&r, t, NKEYS);
	bt_rig_free(&r);
}
END_TEST

/* ==== root: an inner root without keys ================================= */

#define RKEYS 10u

/* Move the root leaf of r's tree (RKEYS keys) to a new page and make the
 * root an inner node with no key whose rightmost child is that page. */
static rdb_pgno root_without_keys(rig *r, pager_txn *t)
{
	pager_page *pg, *rp;
	unsigned char *d;
	rdb_pgno child;

	ck_assert_int_eq(pager_alloc(t, FMT_PT_BT_LEAF, &pg), RDB_OK);
	child = pager_pgno(pg);
	d = page_w(t, r->root, &rp);
	ck_assert(nd_is_leaf(d));
	memcpy(pager_data(pg) + FMT_PAGE_TYPE, d + FMT_PAGE_TYPE,
	       PS - FMT_PAGE_TYPE);
	nd_init(d, PS, 1);
	fmt_put_u32(d + BT_LINK_A, child);
	pager_unref(rp);
	pager_unref(pg);
	return child;
}

static uint32_t root_cells(pager_txn *t, rdb_pgno root, int *leaf)
{
	pager_page *pg;
	uint32_t n;

	ck_assert_int_eq(pager_get(t, root, &pg), RDB_OK);
	n = nd_n(pager_data(pg));
	*leaf = nd_is_leaf(pager_data(pg));
	pager_unref(pg);
	return n;
}

/*
 * The root is an inner node with no key, only its rightmost child, a
 * leaf of RKEYS keys.  bt_verify reports the root; lookups and a cursor
 * scan read every key through it.  _i 0: inserts fill the leaf until it
 * splits: the root gets its separator and the tree verifies.  _i 1:
 * deletes leave the leaf below its minimum fill: the leaf moves up into
 * the root, its page is freed, and the tree verifies.  Every key left
 * reads back.
 */
START_TEST(test_btcov3_root_without_keys_reads_and_heals_on_change)
{
	unsigned char gone[RKEYS + 20] = { 0 };
	uint64_t extra[20] = { 0 };
	unsigned n_extra = 0, i, seen = 0;
	pager_page *pg;
	bt_cursor *c;
	bt_stats st;
	rig r;
	pager_txn *t;
	rdb_pgno child;
	int leaf;
	rdb_rc rc;

	rig_tree(&r, PS, 64, RKEYS, 100);
	t = bt_rig_begin(&r, 1);
	child = root_without_keys(&r, t);
	ck_assert_int_eq(bt_verify(t, r.root, NULL, NULL), RDB_CORRUPT);
	expect_names(t, r.root);
	ck_assert(strstr(r.err.msg, "without separators") != NULL);
	ck_assert_int_eq(bt_cursor_open(t, r.root, &c), RDB_OK);
	for (rc = bt_first(c); rc == RDB_OK; rc = bt_next(c))
		seen++;
	ck_assert_int_eq(rc, RDB_NOTFOUND);
	ck_assert_uint_eq(seen, RKEYS);
	bt_cursor_close(c);
	if (_i == 0) {
		for (i = 0; root_cells(t, r.root, &leaf) == 0; i++) {
			ck_assert_uint_lt(i, 20);
			extra[n_extra++] = 2 * i + 1;
			ck_assert_int_eq(put_id(t, r.root, 2 * i + 1), RDB_OK);
		}
		ck_assert(!leaf);
		ck_assert_uint_eq(root_cells(t, r.root, &leaf), 1);
	} else {
		for (i = 0; root_cells(t, r.root, &leaf) == 0 && !leaf; i++) {
			ck_assert_uint_lt(i, RKEYS);
			ck_assert_int_eq(del_id(t, r.root, 2 * i), RDB_OK);
			gone[i] = 1;
		}
		ck_assert(leaf);
		ck_assert_uint_lt(i, RKEYS);
		/* the child's page went to the free list */
		ck_assert_int_eq(pager_alloc(t, FMT_PT_BT_LEAF, &pg), RDB_OK);
		ck_assert_uint_eq(pager_pgno(pg), child);
		pager_unref(pg);
	}
	expect_keys(t, r.root, RKEYS, gone, extra, n_extra);
	ck_assert_int_eq(bt_verify(t, r.root, NULL, &st), RDB_OK);
	ck_assert_uint_eq(st.depth, _i == 0 ? 2 : 1);
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

/* ==== alloc: the k-th page allocation of a change fails ================ */

typedef struct trunk {
	rdb_pgno pgno;        /* the first trunk of the free list */
	uint32_t count;       /* its entries */
} trunk;

static int find_trunk(void *arg, rdb_pgno pgno, int is_trunk)
{
	trunk *tr = arg;

	if (is_trunk && tr->pgno == 0)
		tr->pgno = pgno;
	return 0;
}

/* A tree of n keys (r->root) and a free list of the pages of a dropped
 * tree of 1200 keys, committed; *tr its first trunk. */
static void rig_free_list(rig *r, unsigned n, trunk *tr)
{
	unsigned char k[8], v[VLEN];
	pager_page *pg;
	pager_txn *t;
	rdb_pgno junk;
	unsigned i;

	rig_tree(r, PS, 512, n, 100);
	t = bt_rig_begin(r, 1);
	ck_assert_int_eq(bt_create(t, &junk), RDB_OK);
	for (i = 0; i < 1200; i++) {
		key_of(k, i);
		val_of(v, i);
		ck_assert_int_eq(bt_insert(t, junk, k, 8, v, VLEN), RDB_OK);
	}
	ck_assert_int_eq(pager_commit(t), RDB_OK);
	t = bt_rig_begin(r, 1);
	ck_assert_int_eq(bt_drop(t, junk), RDB_OK);
	ck_assert_int_eq(pager_commit(t), RDB_OK);
	t = bt_rig_begin(r, 0);
	memset(tr, 0, sizeof(*tr));
	ck_assert_int_eq(pager_freelist_walk(t, find_trunk, tr), RDB_OK);
	ck_assert_uint_ne(tr->pgno, 0);
	ck_assert_int_eq(pager_get(t, tr->pgno, &pg), RDB_OK);
	tr->count = fmt_get_u32(pager_data(pg) + FMT_FREE_COUNT);
	pager_unref(pg);
	pager_rollback(t);
	ck_assert_uint_ge(tr->count, 60);
}

/* In write transaction t, make the (k+1)-th page the free list hands out
 * a page number past the end of the file. */
static void damage_entry(pager_txn *t, const trunk *tr, uint32_t k)
{
	pager_page *pg;
	unsigned char *d = page_w(t, tr->pgno, &pg);

	fmt_put_u32(d + FMT_FREE_ENTRIES + 4 * (tr->count - 1 - k),
		    0x7fffffffu);
	pager_unref(pg);
}

/* Keys whose separators are nearly 100 bytes long: an inner node holds
 * four, so that a load of LONG_N keys (4-byte values, four to a leaf)
 * has three inner levels. */
#define LONG_N 120u
static size_t long_key(char *buf, unsigned i)
{
	memset(buf, 'p', 96);
	return 96 + (size_t)snprintf(buf + 96, 16, "%05u", i);
}

/* The change of workload w: 0: inserts into the root leaf of a tree of
 * 16 keys until it splits (its two new pages); 1: a load of LONG_N long
 * keys into a new tree (leaves, then inner nodes of every level). */
static rdb_rc alloc_change(pager_txn *t, rdb_pgno root, int w, rdb_pgno *out)
{
	unsigned char v[VLEN];
	char k[128];
	bt_loader *l;
	unsigned i;
	rdb_rc rc;

	*out = root;
	if (w == 0) {
		for (rc = RDB_OK, i = 0; i < 2 && rc == RDB_OK; i++)
			rc = put_id(t, root, 2 * i + 1);
		return rc;
	}
	if ((rc = bt_create(t, out)) != RDB_OK ||
	    (rc = bt_load_begin(t, *out, 100, &l)) != RDB_OK)
		return rc;
	for (i = 0; i < LONG_N && rc == RDB_OK; i++) {
		val_of(v, i);
		rc = bt_load_add(l, k, long_key(k, i), v, 4);
	}
	if (rc != RDB_OK) {
		bt_load_abort(l);
		return rc;
	}
	return bt_load_finish(l);
}

/*
 * Every page allocation of a change, in turn, meets a damaged free-list
 * entry (a page past the end of the file): _i 0: the split of a full
 * root leaf (its first or its second new page); _i 1: a bulk load of
 * long keys (a leaf, an inner node written when the next one starts, the
 * last node of a level).  Each is RDB_CORRUPT naming the trunk page; the
 * root leaf is unchanged and verifies within the transaction; after a
 * rollback the committed tree is whole.  Past the last allocation the
 * change succeeds and its tree verifies.
 */
START_TEST(test_btcov3_kth_page_allocation_failing_fails_the_change)
{
	unsigned n = _i == 0 ? 17 : 40;
	unsigned char before[PS];
	long failed = 0;
	uint32_t k;
	int done = 0;
	trunk tr;
	rig r;

	rig_free_list(&r, n, &tr);
	for (k = 0; !done; k++) {
		pager_txn *t = bt_rig_begin(&r, 1);
		rdb_pgno root;
		bt_stats st;
		rdb_rc rc;

		if (k < tr.count)
			damage_entry(t, &tr, k);
		snap(t, r.root, before);
		rc = alloc_change(t, r.root, _i, &root);
		if (rc == RDB_OK) {
			ck_assert_int_eq(bt_verify(t, root, NULL, &st), RDB_OK);
			ck_assert_uint_eq(st.keys, _i == 0 ? n + 2 : LONG_N);
			ck_assert_uint_ge(st.depth, _i == 0 ? 2 : 4);
			ck_assert_uint_lt(k, tr.count);
			done = 1;
		} else {
			ck_assert_msg(rc == RDB_CORRUPT, "k %u: rc %d (%s)", k,
				      rc, r.err.msg);
			expect_names(t, tr.pgno);
			if (_i == 0) {
				expect_same(t, r.root, before);
				expect_keys(t, r.root, n, NULL, NULL, 0);
			}
			failed++;
		}
		rollback_and_check(&r, t, n);
	}
	ck_assert_int_ge(failed, _i == 0 ? 2 : 20);
	bt_rig_free(&r);
}
END_TEST

/* ==== damage: cells and links a change or a scan meets ================= */

/* Point slot i of page pgno past the page: its cell runs off the end. */
static void damage_slot(pager_txn *t, rdb_pgno pgno, uint32_t i)
{
	pager_page *pg;
	unsigned char *d = page_w(t, pgno, &pg);

	ck_assert_uint_lt(i, nd_n(d));
	fmt_put_u16(d + BT_SLOTS + 2 * i, PS - 3);
	pager_unref(pg);
}

/*
 * Leaf X and both its neighbours are full, so an insert into X reads the
 * neighbours' headers and then the window's separators in the parent P.
 * _i 0: the right neighbour is not a node (an overflow page's type):
 * RDB_CORRUPT naming it.  _i 1: separator 7 of P, which the descent to X
 * (child 5) does not read but the window (children 4 to 8) does, runs
 * off the page: RDB_CORRUPT naming P.  X and P are as they were.
 */
START_TEST(test_btcov3_insert_meeting_damaged_sibling_or_separator_is_corrupt)
{
	unsigned char *d;
	pager_page *pg;
	rig r;
	pager_txn *t;
	rdb_pgno x, par, bad;

	rig_tree(&r, PS, 256, NKEYS, 100);
	t = bt_rig_begin(&r, 1);
	x = leaf_at(t, r.root, XLEAF, &par);
	if (_i == 0) {
		bad = leaf_at(t, r.root, XLEAF + 1, NULL);
		d = page_w(t, bad, &pg);
		d[FMT_PAGE_TYPE] = FMT_PT_BT_OVERFLOW;
		pager_unref(pg);
	} else {
		bad = par;
		damage_slot(t, par, 7);
	}
	insert_is_corrupt(&r, t, x, par, bad);
}
END_TEST

/*
 * Cells of leaf X that a lookup does not parse whole.  _i 0: cell 0 (at
 * the end of the page) claims a 100-byte value, so that it runs off the
 * page; its key still compares: replacing its value (bt_upsert) is
 * RDB_CORRUPT naming X, and X is as it was.  _i 1: the middle cell's key
 * length is past the maximum: an insert whose search meets it is
 * RDB_CORRUPT naming X.
 */
START_TEST(test_btcov3_put_over_damaged_leaf_cell_is_corrupt)
{
	unsigned char bx[PS], k[8], v[VLEN], *d;
	pager_page *pg;
	rig r;
	pager_txn *t;
	rdb_pgno x;
	uint64_t id;
	uint32_t n;
	int replaced = -1;
	rdb_rc rc;

	rig_tree(&r, PS, 256, NKEYS, 100);
	t = bt_rig_begin(&r, 1);
	x = leaf_at(t, r.root, XLEAF, NULL);
	d = page_w(t, x, &pg);
	n = nd_n(d);
	if (_i == 0) {
		id = id_at(d, x, 0);
		ck_assert_uint_eq(nd_off(d, 0) + CELL, PS);
		d[nd_off(d, 0) + 1] = 100;
	} else {
		id = id_at(d, x, n / 2) + 1;
		d[nd_off(d, n / 2)] = 0x7f;
	}
	pager_unref(pg);
	snap(t, x, bx);
	key_of(k, id);
	val_of(v, id + 1);
	rc = _i == 0 ? bt_upsert(t, r.root, k, 8, v, VLEN, &replaced)
		     : bt_insert(t, r.root, k, 8, v, VLEN);
	ck_assert_msg(rc == RDB_CORRUPT, "rc %d (%s)", rc, r.err.msg);
	expect_names(t, x);
	ck_assert_int_eq(replaced, _i == 0 ? 0 : -1);
	expect_same(t, x, bx);
	rollback_and_check(&r, t, NKEYS);
	bt_rig_free(&r);
}
END_TEST

/*
 * Dropping a tree frees its pages as it reads them: a leaf cell (_i 0)
 * or an inner cell (_i 1) that runs off the page is RDB_CORRUPT naming
 * that page; after a rollback the tree is whole.
 */
START_TEST(test_btcov3_drop_over_damaged_cell_is_corrupt)
{
	rig r;
	pager_txn *t;
	rdb_pgno bad, par;

	rig_tree(&r, PS, 256, NKEYS, 100);
	t = bt_rig_begin(&r, 1);
	bad = leaf_at(t, r.root, XLEAF, &par);
	if (_i == 1)
		bad = par;
	damage_slot(t, bad, 3);
	ck_assert_int_eq(bt_drop(t, r.root), RDB_CORRUPT);
	expect_names(t, bad);
	rollback_and_check(&r, t, NKEYS);
	bt_rig_free(&r);
}
END_TEST

/*
 * Two leaves A and B are emptied and linked to each other both ways
 * (A's next and prev are B, B's are A), each link agreeing with the one
 * back: a seek that lands in A steps over empty leaves forever unless
 * it counts its hops.  It is RDB_CORRUPT saying the chain loops (forward
 * for _i 0, backward for _i 1), after no more hops than the file has
 * pages.
 */
START_TEST(test_btcov3_seek_into_looping_empty_leaves_is_corrupt)
{
	unsigned char k[8], *d;
	pager_page *pg;
	bt_cursor *c;
	rig r;
	pager_txn *t;
	rdb_pgno a, b, ab[2];
	uint64_t id;
	int j;
	rdb_rc rc;

	rig_tree(&r, PS, 256, NKEYS, 100);
	t = bt_rig_begin(&r, 1);
	a = leaf_at(t, r.root, XLEAF, NULL);
	b = leaf_at(t, r.root, XLEAF + 3, NULL);
	ck_assert_int_eq(pager_get(t, a, &pg), RDB_OK);
	id = id_at(pager_data(pg), a, 4) + 1;
	pager_unref(pg);
	ab[0] = a;
	ab[1] = b;
	for (j = 0; j < 2; j++) {
		d = page_w(t, ab[j], &pg);
		nd_init(d, PS, 0);
		fmt_put_u32(d + BT_LINK_A, ab[1 - j]);
		fmt_put_u32(d + BT_LINK_B, ab[1 - j]);
		pager_unref(pg);
	}
	ck_assert_int_eq(pager_commit(t), RDB_OK);
	t = bt_rig_begin(&r, 0);
	ck_assert_int_eq(bt_cursor_open(t, r.root, &c), RDB_OK);
	key_of(k, id);
	rc = _i == 0 ? bt_seek_ge(c, k, 8) : bt_seek_le(c, k, 8);
	ck_assert_msg(rc == RDB_CORRUPT, "rc %d (%s)", rc, r.err.msg);
	ck_assert_msg(strstr(r.err.msg, "leaf chain loops") != NULL, "'%s'",
		      r.err.msg);
	ck_assert(!bt_valid(c));
	bt_cursor_close(c);
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

/* ==== overflow: a read that ends where the chain ends ================== */

/*
 * A value of exactly two overflow pages and nothing in its leaf cell,
 * read whole through a cursor: the read ends at the end of the chain,
 * and the next read, of nothing at the very end, is RDB_OK; a read from
 * an earlier offset starts over from the chain's head and returns the
 * right bytes.
 */
START_TEST(test_btcov3_value_read_after_end_of_chain_starts_over)
{
	uint32_t vlen = 2 * bt_ovfl_cap(PS), j;
	unsigned char k[8], *v = malloc(vlen), *got = malloc(vlen);
	bt_cursor *c;
	rig r;
	pager_txn *t;
	size_t size;

	ck_assert(v != NULL && got != NULL);
	ck_assert_uint_eq(bt_local(PS, 8, vlen), 0);
	for (j = 0; j < vlen; j++)
		v[j] = (unsigned char)(j * 13 + j / 251);
	rig_tree(&r, PS, 64, 100, 100);
	t = bt_rig_begin(&r, 1);
	key_of(k, 51);
	ck_assert_int_eq(bt_insert(t, r.root, k, 8, v, vlen), RDB_OK);
	ck_assert_int_eq(bt_cursor_open(t, r.root, &c), RDB_OK);
	ck_assert_int_eq(bt_seek_ge(c, k, 8), RDB_OK);
	ck_assert_int_eq(bt_value_size(c, &size), RDB_OK);
	ck_assert_uint_eq(size, vlen);
	ck_assert_int_eq(bt_value_read(c, 0, got, vlen), RDB_OK);
	ck_assert(memcmp(got, v, vlen) == 0);
	ck_assert_int_eq(bt_value_read(c, vlen, got, 0), RDB_OK);
	memset(got, 0, vlen);
	ck_assert_int_eq(bt_value_read(c, 500, got, 10), RDB_OK);
	ck_assert(memcmp(got, v + 500, 10) == 0);
	ck_assert_int_eq(bt_value_read(c, vlen, got, 1), RDB_RANGE);
	bt_cursor_close(c);
	ck_assert_int_eq(bt_verify(t, r.root, NULL, NULL), RDB_OK);
	pager_rollback(t);
	bt_rig_free(&r);
	free(v);
	free(got);
}
END_TEST

/* ==== misuse and failures outside the tree's pages ===================== */

/*
 * A bulk load needs an empty tree: a tree whose root is an inner node
 * (_i 0) or a leaf with keys (_i 1) is RDB_MISUSE, a root page that is not
 * a node (_i 2) RDB_CORRUPT naming it, a fill factor below 50% RDB_MISUSE;
 * no loader is made and the tree is unchanged.
 */
START_TEST(test_btcov3_load_into_tree_with_keys_is_misuse)
{
	unsigned char before[PS], *d;
	unsigned n = _i == 0 ? 200 : 5;
	pager_page *pg;
	bt_loader *l = (bt_loader *)&n;
	rig r;
	pager_txn *t;
	rdb_rc rc;

	rig_tree(&r, PS, 64, n, 100);
	t = bt_rig_begin(&r, 1);
	if (_i == 2) {
		d = page_w(t, r.root, &pg);
		d[FMT_PAGE_TYPE] = FMT_PT_BT_OVERFLOW;
		pager_unref(pg);
	}
	snap(t, r.root, before);
	ck_assert_int_eq(bt_load_begin(t, r.root, 49, &l), RDB_MISUSE);
	ck_assert_ptr_null(l);
	l = (bt_loader *)&n;
	rc = bt_load_begin(t, r.root, 100, &l);
	ck_assert_int_eq(rc, _i == 2 ? RDB_CORRUPT : RDB_MISUSE);
	ck_assert_ptr_null(l);
	if (_i == 2)
		expect_names(t, r.root);
	else
		ck_assert(strstr(r.err.msg, "not empty") != NULL);
	expect_same(t, r.root, before);
	if (_i < 2)
		expect_keys(t, r.root, n, NULL, NULL, 0);
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

/* A cursor delete whose copy of the key cannot be allocated is
 * RDB_NOMEM; the key is still there and the cursor still on it. */
START_TEST(test_btcov3_cursor_delete_without_memory_keeps_key_and_cursor)
{
	unsigned char k[8];
	const void *key;
	size_t klen;
	bt_cursor *c;
	rig r;
	pager_txn *t;
	rdb_rc rc;

	rig_tree(&r, PS, 64, 300, 100);
	t = bt_rig_begin(&r, 1);
	ck_assert_int_eq(bt_cursor_open(t, r.root, &c), RDB_OK);
	key_of(k, 200);
	ck_assert_int_eq(bt_seek_ge(c, k, 8), RDB_OK);
	rdb_mem_fail_at(1, 0);
	rc = bt_cursor_delete(c);
	rdb_mem_fail_at(0, 0);
	ck_assert_int_eq(rc, RDB_NOMEM);
	ck_assert(bt_valid(c));
	ck_assert_int_eq(bt_key(c, &key, &klen), RDB_OK);
	ck_assert(klen == 8 && memcmp(key, k, 8) == 0);
	expect_keys(t, r.root, 300, NULL, NULL, 0);
	ck_assert_int_eq(bt_cursor_delete(c), RDB_OK);
	ck_assert_int_eq(bt_key(c, &key, &klen), RDB_OK);
	key_of(k, 202);
	ck_assert(klen == 8 && memcmp(key, k, 8) == 0);
	bt_cursor_close(c);
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

/* The big value of the I/O fault trials: 20 overflow pages, more than
 * the 16 frames of the cache. */
#define BIGV (20u * 492u)

static void big_val(unsigned char *v)
{
	uint32_t j;

	for (j = 0; j < BIGV; j++)
		v[j] = (unsigned char)(j * 29 + j / 509);
}

/* The committed tree of the I/O trials: NKEYS keys at 100% fill, leaf
 * X's right neighbour fragmented (gone: its deleted keys); the pager
 * reopened with an empty cache. */
static void io_rig(rig *r, unsigned char *gone, uint64_t *id)
{
	pager_page *pg;
	pager_txn *t;
	rdb_pgno x;

	rig_tree(r, PS, 16, NKEYS, 100);
	t = bt_rig_begin(r, 1);
	x = leaf_at(t, r->root, XLEAF, NULL);
	fragment(t, r->root, leaf_at(t, r->root, XLEAF + 1, NULL), gone);
	ck_assert_int_eq(pager_get(t, x, &pg), RDB_OK);
	*id = id_at(pager_data(pg), x, 12) + 1;
	pager_unref(pg);
	ck_assert_int_eq(pager_commit(t), RDB_OK);
	ck_assert_int_eq(bt_rig_reopen(r), RDB_OK);
}

static rdb_rc io_insert(rig *r, uint64_t id, const unsigned char *v)
{
	unsigned char k[8];
	pager_txn *t = NULL;
	rdb_rc rc = pager_begin(r->p, 1, &r->err, &t);

	key_of(k, id);
	if (rc == RDB_OK) {
		rc = bt_insert(t, r->root, k, 8, v, BIGV);
		if (rc == RDB_OK)
			rc = bt_verify(t, r->root, NULL, NULL);
		pager_rollback(t);
	}
	return rc;
}

/*
 * A value of 20 overflow pages goes into full leaf X, whose right
 * neighbour has room, with a cache of 16 frames: writing the chain
 * pushes the tree's pages out, and the shift reads the parent and the
 * neighbours again.  Each file-system call in turn fails with an I/O
 * error: the insert is RDB_IOERR with a message or succeeds, and after a
 * reopen the committed tree is whole.
 */
START_TEST(test_btcov3_io_error_at_each_call_of_a_big_shifting_insert)
{
	unsigned char gone[NKEYS] = { 0 }, *v = malloc(BIGV);
	long at, calls, failed = 0;
	uint64_t id;
	rig r;

	ck_assert_ptr_nonnull(v);
	big_val(v);
	io_rig(&r, gone, &id);
	os_mem_set_fault(r.vfs, OS_FAULT_NONE, 0, 0, 0);
	ck_assert_int_eq(io_insert(&r, id, v), RDB_OK);
	calls = (long)os_mem_calls(r.vfs);
	bt_rig_free(&r);
	ck_assert_int_gt(calls, 20);
	for (at = 1; at <= calls + 1; at++) {
		pager_txn *t;
		rdb_rc rc;

		memset(gone, 0, sizeof(gone));
		io_rig(&r, gone, &id);
		fu_arm(r.vfs, 1, (uint64_t)at);
		rc = io_insert(&r, id, v);
		fu_end(r.vfs, 1, (uint64_t)at, rc, r.err.msg);
		ck_assert(rc == RDB_OK || r.err.msg[0] != '\0');
		failed += rc != RDB_OK;
		(void)bt_rig_reopen(&r);
		t = bt_rig_begin(&r, 0);
		expect_keys(t, r.root, NKEYS, gone, NULL, 0);
		pager_rollback(t);
		bt_rig_free(&r);
	}
	ck_assert_int_gt(failed, 10);
	free(v);
}
END_TEST

/* One full scan of r's tree in direction dir with a cursor of a read or
 * write transaction, reading each value; *n gets the keys passed. */
static rdb_rc scan(rig *r, int write, int dir, unsigned *n)
{
	pager_txn *t = NULL;
	bt_cursor *c = NULL;
	size_t vlen;
	rdb_rc rc = pager_begin(r->p, write, &r->err, &t);

	*n = 0;
	if (rc == RDB_OK)
		rc = bt_cursor_open(t, r->root, &c);
	if (rc == RDB_OK)
		rc = dir > 0 ? bt_first(c) : bt_last(c);
	while (rc == RDB_OK) {
		const void *val;

		if ((rc = bt_value(c, &val, &vlen)) != RDB_OK)
			break;
		(*n)++;
		rc = dir > 0 ? bt_next(c) : bt_prev(c);
	}
	bt_cursor_close(c);
	if (t != NULL)
		pager_rollback(t);
	return rc;
}

/*
 * A full scan (forward with a read cursor for _i 0, backward for _i 1,
 * forward with a write transaction's cursor for _i 2) over a freshly
 * opened tree of NKEYS keys, with a cache of 16 frames, and each
 * file-system call in turn failing with an I/O error: the scan stops
 * with RDB_IOERR and a message (at the latest where it checks that the
 * last leaf is the tree's edge), or passes every key.
 */
START_TEST(test_btcov3_io_error_at_each_call_of_a_scan_fails_cleanly)
{
	int write = _i == 2, dir = _i == 1 ? -1 : 1;
	long at, calls, failed = 0;
	unsigned n;
	rig r;

	rig_tree(&r, PS, 16, NKEYS, 90);
	ck_assert_int_eq(bt_rig_reopen(&r), RDB_OK);
	os_mem_set_fault(r.vfs, OS_FAULT_NONE, 0, 0, 0);
	ck_assert_int_eq(scan(&r, write, dir, &n), RDB_NOTFOUND);
	ck_assert_uint_eq(n, NKEYS);
	calls = (long)os_mem_calls(r.vfs);
	ck_assert_int_gt(calls, 20);
	for (at = 1; at <= calls + 1; at++) {
		rdb_rc rc;

		ck_assert_int_eq(bt_rig_reopen(&r), RDB_OK);
		os_mem_set_fault(r.vfs, OS_FAULT_EIO, (uint64_t)at, 0, 0);
		rc = scan(&r, write, dir, &n);
		os_mem_set_fault(r.vfs, OS_FAULT_NONE, 0, 0, 0);
		ck_assert_msg(rc == RDB_NOTFOUND || rc == RDB_IOERR, "at %ld: "
			      "rc %d (%s)", at, rc, r.err.msg);
		if (rc == RDB_IOERR) {
			ck_assert(r.err.msg[0] != '\0');
			ck_assert_uint_le(n, NKEYS);
			failed++;
		} else {
			ck_assert_uint_eq(n, NKEYS);
		}
	}
	ck_assert_int_gt(failed, 10);
	bt_rig_free(&r);
}
END_TEST

/* ==== verify: damage only a full check sees ============================ */

/*
 * _i 0: the root's rightmost child is a page past the end of the file:
 * bt_verify is RDB_CORRUPT naming that page number.  A leaf cell whose
 * value length is a 5-byte varint above 32 bits (_i 1) or above the
 * 1 GiB maximum (_i 2), or whose one-byte key length is past the maximum
 * key though the cell would fit the page (_i 3): bt_verify and a scan
 * are RDB_CORRUPT naming the leaf.
 */
START_TEST(test_btcov3_verify_rejects_bad_child_and_value_length)
{
	unsigned char *d;
	pager_page *pg;
	bt_cursor *c;
	rig r;
	pager_txn *t;
	rdb_pgno x;
	rdb_rc rc;

	rig_tree(&r, PS, 256, 400, 80);
	t = bt_rig_begin(&r, 1);
	if (_i == 0) {
		x = pager_txn_page_count(t) + 1000;
		d = page_w(t, r.root, &pg);
		ck_assert(!nd_is_leaf(d));
		fmt_put_u32(d + BT_LINK_A, x);
		pager_unref(pg);
	} else {
		x = leaf_at(t, r.root, 3, NULL);
		d = page_w(t, x, &pg);
		ck_assert_uint_lt(bt_max_key(PS), 108);
		if (_i == 1)
			memcpy(d + nd_off(d, 2) + 1, "\xff\xff\xff\xff\x7f", 5);
		else if (_i == 2)
			memcpy(d + nd_off(d, 2) + 1, "\xff\xff\xff\xff\x0f", 5);
		else
			memcpy(d + nd_off(d, 2), "\x6c\x00", 2);   /* 108, 0 */
		pager_unref(pg);
	}
	ck_assert_int_eq(bt_verify(t, r.root, NULL, NULL), RDB_CORRUPT);
	expect_names(t, x);
	if (_i == 0)
		ck_assert(strstr(r.err.msg, "out of range") != NULL);
	ck_assert_int_eq(bt_cursor_open(t, r.root, &c), RDB_OK);
	for (rc = bt_first(c); rc == RDB_OK; rc = bt_next(c))
		(void)bt_value_size(c, &(size_t){ 0 });
	ck_assert_int_eq(rc, RDB_CORRUPT);
	expect_names(t, x);
	bt_cursor_close(c);
	rollback_and_check(&r, t, 400);
	bt_rig_free(&r);
}
END_TEST

Suite *btcov3_suite(void)
{
	Suite *s = suite_create("btcov3");
	TCase *tc = tcase_create("shift");

	tcase_add_loop_test(tc,
		test_btcov3_shift_into_fragmented_neighbour_compacts_it, 0, 4);
	tcase_add_loop_test(tc,
		test_btcov3_shift_into_neighbour_overstating_room_is_corrupt,
		0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("spread");
	tcase_add_test(tc,
		test_btcov3_spread_under_parent_overstating_room_is_corrupt);
	suite_add_tcase(s, tc);

	tc = tcase_create("root");
	tcase_add_loop_test(tc,
		test_btcov3_root_without_keys_reads_and_heals_on_change, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("alloc");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc,
		test_btcov3_kth_page_allocation_failing_fails_the_change, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("damage");
	tcase_add_loop_test(tc,
		test_btcov3_insert_meeting_damaged_sibling_or_separator_is_corrupt,
		0, 2);
	tcase_add_loop_test(tc,
		test_btcov3_put_over_damaged_leaf_cell_is_corrupt, 0, 2);
	tcase_add_loop_test(tc,
		test_btcov3_drop_over_damaged_cell_is_corrupt, 0, 2);
	tcase_add_loop_test(tc,
		test_btcov3_seek_into_looping_empty_leaves_is_corrupt, 0, 2);
	tcase_add_test(tc,
		test_btcov3_value_read_after_end_of_chain_starts_over);
	suite_add_tcase(s, tc);

	tc = tcase_create("faults");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc,
		test_btcov3_load_into_tree_with_keys_is_misuse, 0, 3);
	tcase_add_test(tc,
		test_btcov3_cursor_delete_without_memory_keeps_key_and_cursor);
	tcase_add_test(tc,
		test_btcov3_io_error_at_each_call_of_a_big_shifting_insert);
	tcase_add_loop_test(tc,
		test_btcov3_io_error_at_each_call_of_a_scan_fails_cleanly, 0, 3);
	suite_add_tcase(s, tc);

	tc = tcase_create("verify");
	tcase_add_loop_test(tc,
		test_btcov3_verify_rejects_bad_child_and_value_length, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}
