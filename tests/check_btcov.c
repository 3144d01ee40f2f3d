/*
 * check_btcov.c -- the B+ tree's rarely taken paths, found with `make
 * coverage COV_SUITES=...` (docs/testing.md, "Coverage"): damaged trees
 * that bt_verify must reject ("verify"), bulk loads of every size from one
 * key to four levels ("load"), cursor misuse and reads of inline values
 * ("cursor"), and an I/O error or an allocation failure at every call of
 * a workload of splits, merges and overflow chains ("faults"), after which
 * the tree reopens at the state before or after the workload.
 * Contracts under test: src/btree/btree.h, src/pager/pager.h, os.h.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "btree/btree.h"
#include "pager/pager.h"
#include "pager/os.h"
#include "format.h"
#include "mem.h"
#include "bt_util.h"
#include "fault_util.h"
#include "test_util.h"

#define PS 512u
/* Node header fields (src/btree/bt_int.h, docs/format.md "B+ tree"). */
#define LEVEL 9u
#define LINK_A 16u          /* leaf: prev leaf; inner: rightmost child */
#define LINK_B 20u          /* leaf: next leaf */
#define NCELLS 24u
#define FRAG 12u
#define CONTENT 28u
#define SLOTS 32u           /* u16 cell offsets */

static const char *r_msg(pager_txn *t)
{
	return pager_txn_err(t)->msg;
}

typedef bt_rig rig;

/* Key i: "key" and i in decimal, zero-padded to w digits (sorted by i). */
static size_t key_of(char *buf, unsigned i, int w)
{
	return (size_t)snprintf(buf, 32, "key%0*u", w, i);
}

/* Value of key i in version ver: n bytes named by (i, ver). */
static size_t val_of(unsigned char *buf, unsigned i, unsigned ver,
		     size_t n)
{
	size_t j;

	for (j = 0; j < n; j++)
		buf[j] = (unsigned char)(i * 31 + ver * 7 + j);
	return n;
}

/* ==== verify: damaged trees ============================================ */

static rig vr;

/* A three-level tree of 2000 keys, loaded 60% full. */
static void vr_setup(void)
{
	unsigned char v[40];
	char k[32];
	bt_loader *l;
	pager_txn *t;
	unsigned i;

	bt_rig_new(&vr, PS, 64);
	t = bt_rig_begin(&vr, 1);
	ck_assert_int_eq(bt_create(t, &vr.root), RDB_OK);
	ck_assert_int_eq(bt_load_begin(t, vr.root, 60, &l), RDB_OK);
	for (i = 0; i < 2000; i++)
		ck_assert_int_eq(bt_load_add(l, k, key_of(k, i, 4), v,
					     val_of(v, i, 0, 20 + i % 20)),
				 RDB_OK);
	ck_assert_int_eq(bt_load_finish(l), RDB_OK);
	ck_assert_int_eq(bt_verify(t, vr.root, NULL, NULL), RDB_OK);
	ck_assert_int_eq(pager_commit(t), RDB_OK);
}

static void vr_teardown(void)
{
	bt_rig_free(&vr);
}

enum { FIRST_LEAF, MID_LEAF, LAST_LEAF, MID_INNER };

/* A page of the tree by its role, found by a census of the file. */
static rdb_pgno find_page(pager_txn *t, int role)
{
	rdb_pgno pgno, found = 0;

	for (pgno = 1; pgno < pager_txn_page_count(t) && found == 0; pgno++) {
		pager_page *pg;
		unsigned char *d;

		if (pgno == vr.root)
			continue;
		ck_assert_int_eq(pager_get(t, pgno, &pg), RDB_OK);
		d = pager_data(pg);
		if (d[FMT_PAGE_TYPE] == FMT_PT_BT_LEAF) {
			uint32_t a = fmt_get_u32(d + LINK_A);
			uint32_t b = fmt_get_u32(d + LINK_B);

			if ((role == FIRST_LEAF && a == 0) ||
			    (role == LAST_LEAF && b == 0) ||
			    (role == MID_LEAF && a != 0 && b != 0))
				found = pgno;
		} else if (d[FMT_PAGE_TYPE] == FMT_PT_BT_INNER &&
			   role == MID_INNER) {
			found = pgno;
		}
		pager_unref(pg);
	}
	ck_assert_uint_ne(found, 0);
	return found;
}

/* Each damage and the message bt_verify gives for it. */
START_TEST(test_btcov_verify_rejects_damaged_links_counts_and_levels)
{
	static const struct {
		int role;
		const char *want;
	} dmg[] = {
		{ LAST_LEAF, "last leaf has a next link" },
		{ MID_LEAF, "empty leaf" },
		{ MID_INNER, "inner node without separators" },
		{ FIRST_LEAF, "prev/next links disagree with key order" },
	};
	pager_txn *t = bt_rig_begin(&vr, 1);
	rdb_pgno pgno = find_page(t, dmg[_i].role);
	pager_page *pg = NULL;
	unsigned char *d;

	ck_assert_int_eq(pager_get(t, pgno, &pg), RDB_OK);
	ck_assert_int_eq(pager_write(t, &pg), RDB_OK);
	d = pager_data(pg);
	switch (_i) {
	case 0: fmt_put_u32(d + LINK_B, find_page(t, FIRST_LEAF)); break;
	case 1:
	case 2:      /* no cells, and the header consistent with that */
		fmt_put_u16(d + NCELLS, 0);
		fmt_put_u32(d + CONTENT, PS);
		fmt_put_u32(d + FRAG, 0);
		break;
	default: fmt_put_u32(d + LINK_A, pgno); break;
	}
	pager_unref(pg);
	ck_assert_int_eq(bt_verify(t, vr.root, NULL, NULL), RDB_CORRUPT);
	ck_assert_msg(strstr(r_msg(t), dmg[_i].want) != NULL,
		      "message '%s' lacks '%s'", r_msg(t), dmg[_i].want);
	pager_rollback(t);
}
END_TEST

/* Leaf links that lead a scan back into a leaf it has passed (each link
 * agreeing with its neighbour's back link) are RDB_CORRUPT, not an
 * endless scan: _i == 0 through an empty leaf, 1 through full ones. */
START_TEST(test_btcov_scan_over_looping_leaf_links_is_corrupt_not_endless)
{
	pager_txn *t = bt_rig_begin(&vr, 1);
	rdb_pgno x = find_page(t, MID_LEAF), y;
	pager_page *pg = NULL;
	unsigned char first[7], *d;
	bt_cursor *c;
	long steps = 0;
	rdb_rc rc;

	ck_assert_int_eq(pager_get(t, x, &pg), RDB_OK);
	y = fmt_get_u32(pager_data(pg) + LINK_B);
	/* x's first key: cell 0 is klen (1 byte), vlen (1 byte), key. */
	d = pager_data(pg) + fmt_get_u16(pager_data(pg) + SLOTS);
	ck_assert_uint_eq(d[0], 7);
	memcpy(first, d + 2, 7);
	pager_unref(pg);
	ck_assert_uint_ne(y, 0);
	/* x <-> y, and y's next is x again (x's prev is y). */
	ck_assert_int_eq(pager_get(t, y, &pg), RDB_OK);
	ck_assert_int_eq(pager_write(t, &pg), RDB_OK);
	fmt_put_u32(pager_data(pg) + LINK_B, x);
	if (_i == 0) {
		fmt_put_u16(pager_data(pg) + NCELLS, 0);
		fmt_put_u32(pager_data(pg) + CONTENT, PS);
		fmt_put_u32(pager_data(pg) + FRAG, 0);
	}
	pager_unref(pg);
	ck_assert_int_eq(pager_get(t, x, &pg), RDB_OK);
	ck_assert_int_eq(pager_write(t, &pg), RDB_OK);
	fmt_put_u32(pager_data(pg) + LINK_A, y);
	pager_unref(pg);
	ck_assert_int_eq(pager_commit(t), RDB_OK);
	t = bt_rig_begin(&vr, 0);
	ck_assert_int_eq(bt_cursor_open(t, vr.root, &c), RDB_OK);
	/* From inside the loop: x's back link now names y, so a scan that
	 * comes from x's left neighbour stops there (links disagree). */
	for (rc = bt_seek_ge(c, first, 7); rc == RDB_OK && steps < 10000;
	     rc = bt_next(c))
		steps++;
	ck_assert_msg(rc == RDB_CORRUPT, "scan: rc %d after %ld steps (2000 "
		      "keys)", rc, steps);
	bt_cursor_close(c);
	pager_rollback(t);
}
END_TEST

/* ==== load: every shape of a bulk-loaded tree ========================== */

/* Scan the whole tree: exactly keys 0..n-1 of width w, values of version
 * 0 and length len(i), in order, and bt_verify passes. */
static void expect_loaded(pager_txn *t, rdb_pgno root, unsigned n, int w,
			  size_t (*len)(unsigned))
{
	unsigned char want[4000];
	char k[32];
	bt_cursor *c;
	const void *key, *val;
	size_t klen, vlen;
	unsigned i = 0;
	rdb_rc rc;

	ck_assert_int_eq(bt_verify(t, root, NULL, NULL), RDB_OK);
	ck_assert_int_eq(bt_cursor_open(t, root, &c), RDB_OK);
	for (rc = bt_first(c); rc == RDB_OK; rc = bt_next(c), i++) {
		ck_assert_uint_lt(i, n);
		ck_assert_int_eq(bt_key(c, &key, &klen), RDB_OK);
		ck_assert_uint_eq(klen, key_of(k, i, w));
		ck_assert(memcmp(key, k, klen) == 0);
		ck_assert_int_eq(bt_value(c, &val, &vlen), RDB_OK);
		ck_assert_uint_eq(vlen, val_of(want, i, 0, len(i)));
		ck_assert(memcmp(val, want, vlen) == 0);
	}
	ck_assert_int_eq(rc, RDB_NOTFOUND);
	ck_assert_uint_eq(i, n);
	bt_cursor_close(c);
}

static size_t len_small(unsigned i) { return 1 + i % 23; }
static size_t len_mixed(unsigned i) { return i % 97 == 5 ? 1500 : i % 41; }

/* Sizes 0..40 one by one, then growing by a seventh up to 6000 keys, at
 * fills 50, 77 and 100%: every way the last leaf and the inner levels
 * can end (a lone last child moves over from its left neighbour). */
START_TEST(test_btcov_load_every_size_and_fill_verifies_and_reads_back)
{
	static const unsigned fill[] = { 50, 77, 100 };
	size_t (*len)(unsigned) = _i == 0 ? len_small : len_mixed;
	unsigned char v[4000];
	char k[32];
	rig r;
	unsigned n, i, f, max = (unsigned)tu_scaled(6000, 600);

	bt_rig_new(&r, PS, 256);
	for (f = 0; f < 3; f++) {
		for (n = 0; n <= max; n = n < 40 ? n + 1 : n + n / 7) {
			pager_txn *t = bt_rig_begin(&r, 1);
			rdb_pgno root;
			bt_loader *l;

			ck_assert_int_eq(bt_create(t, &root), RDB_OK);
			ck_assert_int_eq(bt_load_begin(t, root, fill[f], &l),
					 RDB_OK);
			for (i = 0; i < n; i++)
				ck_assert_int_eq(bt_load_add(l, k,
					key_of(k, i, 5), v,
					val_of(v, i, 0, len(i))), RDB_OK);
			ck_assert_int_eq(bt_load_finish(l), RDB_OK);
			expect_loaded(t, root, n, 5, len);
			pager_rollback(t);
		}
	}
	bt_rig_free(&r);
}
END_TEST

/* Misuse of the loader is refused and leaves it usable. */
START_TEST(test_btcov_load_misuse_is_refused_loader_stays_usable)
{
	unsigned char v[8] = { 0 };
	rig r;
	pager_txn *t;
	rdb_pgno root, full;
	bt_loader *l = NULL;

	bt_rig_new(&r, PS, 64);
	t = bt_rig_begin(&r, 1);
	ck_assert_int_eq(bt_create(t, &root), RDB_OK);
	ck_assert_int_eq(bt_create(t, &full), RDB_OK);
	ck_assert_int_eq(bt_insert(t, full, "a", 1, v, 1), RDB_OK);
	ck_assert_int_eq(bt_load_begin(t, full, 80, &l), RDB_MISUSE);
	ck_assert_ptr_null(l);
	ck_assert_int_eq(bt_load_begin(t, root, 49, &l), RDB_MISUSE);
	ck_assert_int_eq(bt_load_begin(t, root, 101, &l), RDB_MISUSE);
	ck_assert_int_eq(bt_load_begin(t, root, 80, &l), RDB_OK);
	ck_assert_int_eq(bt_load_add(l, "b", 1, v, 2), RDB_OK);
	ck_assert_int_eq(bt_load_add(l, "b", 1, v, 2), RDB_CONSTRAINT);
	ck_assert_int_eq(bt_load_add(l, "a", 1, v, 2), RDB_MISUSE);
	ck_assert_int_eq(bt_load_add(l, "c", 1, v, (size_t)BT_MAX_VALUE + 1),
			 RDB_TOOBIG);
	ck_assert_int_eq(bt_load_add(l, "c", 1, v, 3), RDB_OK);
	ck_assert_int_eq(bt_load_finish(l), RDB_OK);
	ck_assert_int_eq(bt_verify(t, root, NULL, NULL), RDB_OK);
	ck_assert_int_eq(bt_get_buf(t, root, "c", 1, v, sizeof(v), &(size_t){0}),
			 RDB_OK);
	ck_assert_int_eq(bt_get_buf(t, root, "a", 1, v, sizeof(v), &(size_t){0}),
			 RDB_NOTFOUND);
	bt_load_abort(NULL);
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

/* ==== cursor: misuse and inline reads ================================== */

START_TEST(test_btcov_cursor_off_a_key_is_misuse_reads_past_value_are_range)
{
	unsigned char v[64], buf[64];
	const void *key, *val;
	size_t klen, vlen;
	char k[32];
	rig r;
	pager_txn *t;
	bt_cursor *c;
	unsigned i;

	bt_rig_new(&r, PS, 64);
	t = bt_rig_begin(&r, 1);
	ck_assert_int_eq(bt_create(t, &r.root), RDB_OK);
	for (i = 0; i < 200; i++)
		ck_assert_int_eq(bt_insert(t, r.root, k, key_of(k, i, 3), v,
					   val_of(v, i, 0, 30)), RDB_OK);
	ck_assert_int_eq(pager_commit(t), RDB_OK);
	/* _i == 0: a read transaction (the leaf stays pinned); 1: write. */
	t = bt_rig_begin(&r, _i);
	ck_assert_int_eq(bt_cursor_open(t, r.root, &c), RDB_OK);
	ck_assert_int_eq(bt_next(c), RDB_MISUSE);
	ck_assert_ptr_nonnull(strstr(r_msg(t), "cursor is not on a key"));
	ck_assert_int_eq(bt_prev(c), RDB_MISUSE);
	ck_assert_int_eq(bt_key(c, &key, &klen), RDB_MISUSE);
	ck_assert_int_eq(bt_value(c, &val, &vlen), RDB_MISUSE);
	ck_assert_int_eq(bt_value_read(c, 0, buf, 1), RDB_MISUSE);
	ck_assert_int_eq(bt_seek_ge(c, "key150", 6), RDB_OK);
	ck_assert_int_eq(bt_value(c, &val, &vlen), RDB_OK);
	ck_assert_uint_eq(vlen, val_of(buf, 150, 0, 30));
	ck_assert(memcmp(val, buf, 30) == 0);
	ck_assert_int_eq(bt_value_read(c, 31, buf, 0), RDB_RANGE);
	ck_assert_int_eq(bt_value_read(c, 20, buf, 11), RDB_RANGE);
	ck_assert_int_eq(bt_value_read(c, 20, buf, 10), RDB_OK);
	val_of(v, 150, 0, 30);
	ck_assert(memcmp(buf, v + 20, 10) == 0);
	if (_i == 1) {
		/* A change behind the cursor's back: it finds its key. */
		ck_assert_int_eq(bt_delete(t, r.root, "key149", 6), RDB_OK);
		ck_assert_int_eq(bt_key(c, &key, &klen), RDB_OK);
		ck_assert(klen == 6 && memcmp(key, "key150", 6) == 0);
		ck_assert_int_eq(bt_prev(c), RDB_OK);
		ck_assert_int_eq(bt_key(c, &key, &klen), RDB_OK);
		ck_assert(klen == 6 && memcmp(key, "key148", 6) == 0);
	}
	ck_assert_int_eq(bt_last(c), RDB_OK);
	ck_assert_int_eq(bt_next(c), RDB_NOTFOUND);
	ck_assert_int_eq(bt_next(c), RDB_MISUSE);
	bt_cursor_close(c);
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

/* ==== faults: every call of a workload fails once ===================== */

#define WL_KEYS 600u          /* key ids 0 .. WL_KEYS-1 */
#define WL_VMAX 2600u         /* longest value at page size 512 */

/* The page size of the workload, and the factor (page size / 512) its
 * value lengths grow by, so that a page holds as many keys whatever its
 * size.  At 64 KiB every node copy needs a new scratch chunk, so that
 * allocation failures reach every step of a split or a merge. */
static uint32_t wl_ps = PS;
static size_t wl_mult = 1;
/* 0: the workload changes 300 keys (splits, merges, a bulk load of a
 * second tree); 1: it grows an empty tree past a root split and shrinks
 * it back to one leaf (the root takes its last child's cells). */
static int wl_mode;

static size_t wl_len0(unsigned i, int st);

/* Value length of key i in state st (0: before, 1: after), 0 = absent. */
static size_t wl_len(unsigned i, int st)
{
	return wl_len0(i, st) * wl_mult;
}

static size_t wl_len0(unsigned i, int st)
{
	if (wl_mode == 1)
		return st == 1 && i >= 335 && i < 340 ? 10 + i % 90 : 0;
	if (st == 0)
		return i < 300 ? 8 + i % 50 : 0;
	if (i < 300 && i % 10 == 0)
		return 120 + i % 7;                /* grown (or put back) */
	if (i < 300 && i % 3 == 1)
		return 0;                          /* deleted */
	if (i >= 300 && i < 380)
		return i % 20 == 0 ? 2500 : 10 + i % 90;  /* inserted */
	return i < 300 ? 8 + i % 50 : 0;
}

static void wl_setup(rig *r)
{
	unsigned char *v = malloc(WL_VMAX * wl_mult);
	char k[32];
	pager_txn *t;
	unsigned i;

	ck_assert_ptr_nonnull(v);
	bt_rig_new(r, wl_ps, 16);
	t = bt_rig_begin(r, 1);
	ck_assert_int_eq(bt_create(t, &r->root), RDB_OK);
	for (i = 0; i < WL_KEYS; i++)
		if (wl_len(i, 0) > 0)
			ck_assert_int_eq(bt_insert(t, r->root, k,
				key_of(k, i, 3), v,
				val_of(v, i, 0, wl_len(i, 0))), RDB_OK);
	ck_assert_int_eq(pager_commit(t), RDB_OK);
	ck_assert_int_eq(bt_rig_reopen(r), RDB_OK);
	free(v);
}

/* Bulk-load a second tree of 500 keys, check it and drop it again. */
static rdb_rc load_and_drop(pager_txn *t, unsigned char *v)
{
	rdb_pgno root;
	bt_loader *l;
	char k[32];
	unsigned i;
	rdb_rc rc;

	if ((rc = bt_create(t, &root)) != RDB_OK ||
	    (rc = bt_load_begin(t, root, 90, &l)) != RDB_OK)
		return rc;
	for (i = 0; i < 500 && rc == RDB_OK; i++)
		rc = bt_load_add(l, k, key_of(k, i, 4), v,
				 val_of(v, i, 2, (5 + i % 40) * wl_mult));
	if (rc != RDB_OK) {
		bt_load_abort(l);
		return rc;
	}
	if ((rc = bt_load_finish(l)) != RDB_OK ||
	    (rc = bt_verify(t, root, NULL, NULL)) != RDB_OK)
		return rc;
	return bt_drop(t, root);
}

/* The changes, through single-key calls and a cursor; then a scan that
 * reads every value in pieces, and bt_verify. */
static rdb_rc wl_changes(pager_txn *t, rdb_pgno root, unsigned char *v)
{
	char k[32];
	bt_cursor *c = NULL;
	size_t vlen;
	unsigned i;
	rdb_rc rc = RDB_OK;

	if (wl_mode == 1) {
		for (i = 300; i < 340 && rc == RDB_OK; i++)
			rc = bt_insert(t, root, k, key_of(k, i, 3), v,
				       val_of(v, i, 1, (10 + i % 90) *
					      wl_mult));
		for (i = 300; i < 335 && rc == RDB_OK; i++)
			rc = bt_delete(t, root, k, key_of(k, i, 3));
		return rc == RDB_OK ? bt_verify(t, root, NULL, NULL) : rc;
	}
	for (i = 300; i < 380 && rc == RDB_OK; i++)
		rc = bt_insert(t, root, k, key_of(k, i, 3), v,
			       val_of(v, i, 1, wl_len(i, 1)));
	if (rc == RDB_OK)
		rc = load_and_drop(t, v);
	for (i = 1; i < 300 && rc == RDB_OK; i += 3)
		rc = bt_delete(t, root, k, key_of(k, i, 3));
	if (rc == RDB_OK)
		rc = bt_cursor_open(t, root, &c);
	for (i = 0; i < 300 && rc == RDB_OK; i += 10)
		if ((rc = bt_seek_ge(c, k, key_of(k, i, 3))) == RDB_OK)
			rc = bt_cursor_put(c, k, key_of(k, i, 3), v,
					   val_of(v, i, 1, wl_len(i, 1)));
	for (rc = rc == RDB_OK ? bt_first(c) : rc; rc == RDB_OK;
	     rc = bt_next(c))
		if ((rc = bt_value_size(c, &vlen)) != RDB_OK ||
		    (vlen > 1 &&
		     (rc = bt_value_read(c, vlen / 2, v, vlen - vlen / 2))))
			break;
	bt_cursor_close(c);
	if (rc == RDB_NOTFOUND)
		rc = bt_verify(t, root, NULL, NULL);
	return rc;
}

/* The workload; *in_commit as in check_kvcov.c. */
static rdb_rc wl_run(rig *r, int *in_commit)
{
	pager_txn *t = NULL;
	unsigned char *v = malloc(WL_VMAX * wl_mult);
	rdb_rc rc;

	ck_assert_ptr_nonnull(v);
	*in_commit = 0;
	if ((rc = pager_begin(r->p, 1, &r->err, &t)) != RDB_OK) {
		free(v);
		return rc;
	}
	rc = wl_changes(t, r->root, v);
	free(v);
	if (rc != RDB_OK) {
		ck_assert_msg(r->err.msg[0] != '\0', "rc %d without message",
			      rc);
		pager_rollback(t);
		return rc;
	}
	*in_commit = 1;
	return pager_commit(t);
}

/* The tree holds exactly state st. */
static void wl_expect(rig *r, int st)
{
	unsigned char *want = malloc(WL_VMAX * wl_mult);
	unsigned char *got = malloc(WL_VMAX * wl_mult);
	char k[32];
	pager_txn *t = bt_rig_begin(r, 0);
	size_t vlen, n;
	unsigned i;

	ck_assert(want != NULL && got != NULL);
	ck_assert_int_eq(bt_verify(t, r->root, NULL, NULL), RDB_OK);
	for (i = 0; i < WL_KEYS; i++) {
		rdb_rc rc = bt_get_buf(t, r->root, k, key_of(k, i, 3), got,
				       WL_VMAX * wl_mult, &vlen);

		n = wl_len(i, st);
		if (n == 0) {
			ck_assert_int_eq(rc, RDB_NOTFOUND);
			continue;
		}
		ck_assert_int_eq(rc, RDB_OK);
		ck_assert_uint_eq(vlen, n);
		val_of(want, i, st == 1 && wl_len(i, 1) != wl_len(i, 0) ? 1
			: 0, n);
		ck_assert_msg(memcmp(got, want, n) == 0, "key %u state %d", i,
			      st);
	}
	pager_rollback(t);
	free(want);
	free(got);
}

static int wl_state_now(rig *r)
{
	pager_txn *t = bt_rig_begin(r, 0);
	char k[32];
	size_t vlen;
	rdb_rc rc = bt_get_buf(t, r->root, k, key_of(k, wl_mode ? 339 : 1, 3),
			       NULL, 0, &vlen);

	pager_rollback(t);
	ck_assert(rc == RDB_RANGE || rc == RDB_NOTFOUND);
	return wl_mode ? rc == RDB_RANGE : rc == RDB_NOTFOUND;
}

static uint64_t wl_measure(int mem)
{
	rig r;
	uint64_t n;
	int in_commit;

	wl_setup(&r);
	if (mem)
		rdb_mem_fail_at(0, 0);
	else
		os_mem_set_fault(r.vfs, OS_FAULT_NONE, 0, 0, 0);
	ck_assert_int_eq(wl_run(&r, &in_commit), RDB_OK);
	n = mem ? (uint64_t)rdb_mem_count() : os_mem_calls(r.vfs);
	wl_expect(&r, 1);
	bt_rig_free(&r);
	return n;
}

/* As in check_kvcov.c: the injected error or success, then the state
 * before (failed ahead of commit), after (committed) or either (commit
 * failed). */
static int wl_trial(int mem, uint64_t at)
{
	rig r;
	rdb_rc rc;
	int in_commit;

	wl_setup(&r);
	fu_arm(r.vfs, !mem, at);
	rc = wl_run(&r, &in_commit);
	fu_end(r.vfs, !mem, at, rc, r.err.msg);
	(void)bt_rig_reopen(&r);
	wl_expect(&r, rc == RDB_OK || (in_commit && wl_state_now(&r)));
	bt_rig_free(&r);
	return rc != RDB_OK;
}

static void wl_sweep(int mode, int mem, uint32_t ps)
{
	uint64_t n, at, step;
	long failed = 0, trials = 0;

	wl_mode = mode;
	wl_ps = ps;
	wl_mult = ps / PS;
	n = wl_measure(mem);
	ck_assert_uint_gt(n, 20);
	for (at = 1; at <= n + 1; at += step) {
		step = at < 300 ? 1 : (uint64_t)(1 + 8 / tu_scale());
		failed += wl_trial(mem, at);
		trials++;
	}
	ck_assert_int_gt(failed, trials / 2);
}

START_TEST(test_btcov_io_error_at_each_call_fails_cleanly_and_atomically)
{
	wl_sweep(0, 0, PS);
}
END_TEST

START_TEST(test_btcov_nomem_at_each_allocation_fails_cleanly_and_atomically)
{
	wl_sweep(_i == 2, 1, _i == 0 ? PS : 65536);
}
END_TEST

Suite *btcov_suite(void)
{
	Suite *s = suite_create("btcov");
	TCase *tc = tcase_create("verify");

	tcase_add_checked_fixture(tc, vr_setup, vr_teardown);
	tcase_add_loop_test(tc,
		test_btcov_verify_rejects_damaged_links_counts_and_levels, 0, 4);
	tcase_add_loop_test(tc,
		test_btcov_scan_over_looping_leaf_links_is_corrupt_not_endless,
		0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc,
		test_btcov_load_every_size_and_fill_verifies_and_reads_back,
		0, 2);
	tcase_add_test(tc, test_btcov_load_misuse_is_refused_loader_stays_usable);
	suite_add_tcase(s, tc);

	tc = tcase_create("cursor");
	tcase_add_loop_test(tc,
		test_btcov_cursor_off_a_key_is_misuse_reads_past_value_are_range,
		0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("faults");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc,
		       test_btcov_io_error_at_each_call_fails_cleanly_and_atomically);
	tcase_add_loop_test(tc,
		test_btcov_nomem_at_each_allocation_fails_cleanly_and_atomically,
		0, 3);
	suite_add_tcase(s, tc);
	return s;
}
