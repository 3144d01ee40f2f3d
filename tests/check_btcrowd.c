/*
 * check_btcrowd.c -- the B+ tree under faults in a crowded buffer pool:
 * one write transaction inserts, replaces and deletes enough keys on
 * 512-byte pages to shift cells between neighbour leaves, spread full
 * windows, split and merge nodes and grow and shrink the tree, while it
 * holds more changed pages than the pool's 16 frames (so pages are
 * spilled and read back, and every step may meet an I/O error or an
 * allocation failure).  An I/O error or an allocation failure at each of
 * up to about 600 points spread over the run (every allocation; the I/O
 * calls are thousands) must fail the workload with that error or not at
 * all, and after a reopen the tree must verify and hold exactly its keys
 * before or after the workload ("crowded").  A root damaged five ways is
 * RDB_CORRUPT for bt_verify and never a wrong value for a lookup
 * ("damaged").
 * Contracts under test: src/btree/btree.h, src/pager/pager.h, os.h.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>
#include "btree/btree.h"
#include "pager/pager.h"
#include "pager/os.h"
#include "format.h"
#include "mem.h"
#include "bt_util.h"
#include "fault_util.h"
#include "test_util.h"


typedef bt_rig rig;

/* Key i: 4 to 27 bytes, in an order that is not the numbers'. */
static size_t key_of(uint32_t i, char *k)
{
	uint32_t h = i * 2654435761u;

	return (size_t)snprintf(k, 32, "%08x-%.*s", h, (int)(i % 19),
				"abcdefghijklmnopqrstuvwxyz");
}

/* Value of key i in generation g: 0 to 150 bytes (some 400: overflow
 * pages at this page size). */
static size_t val_of(uint32_t i, uint32_t g, unsigned char *v)
{
	size_t n = i % 37 == 0 ? 400 : (i * 7 + g * 13) % 151, j;

	for (j = 0; j < n; j++)
		v[j] = (unsigned char)(i + g + j);
	return n;
}

/* A digest of every key and value; the tree must verify. */
static uint64_t digest(rig *r)
{
	pager_txn *t = NULL;
	bt_cursor *c = NULL;
	XXH3_state_t st;
	const void *k, *v;
	size_t klen, vlen;
	uint64_t h;
	rdb_rc rc;

	ck_assert_int_eq(pager_begin(r->p, 0, &r->err, &t), RDB_OK);
	ck_assert_msg(bt_verify(t, r->root, NULL, NULL) == RDB_OK, "%s",
		      r->err.msg);
	XXH3_64bits_reset(&st);
	ck_assert_int_eq(bt_cursor_open(t, r->root, &c), RDB_OK);
	for (rc = bt_first(c); rc == RDB_OK; rc = bt_next(c)) {
		ck_assert_int_eq(bt_key(c, &k, &klen), RDB_OK);
		XXH3_64bits_update(&st, &klen, sizeof(klen));
		XXH3_64bits_update(&st, k, klen);
		ck_assert_int_eq(bt_value(c, &v, &vlen), RDB_OK);
		XXH3_64bits_update(&st, &vlen, sizeof(vlen));
		XXH3_64bits_update(&st, v, vlen);
	}
	ck_assert_int_eq(rc, RDB_NOTFOUND);
	bt_cursor_close(c);
	h = XXH3_64bits_digest(&st);
	pager_rollback(t);
	return h;
}

/* A tree of keys 0..299 (generation 0), committed, the pool cold. */
static void rig_new(rig *r)
{
	unsigned char v[400];
	pager_txn *t = NULL;
	char k[32];
	uint32_t i;

	bt_rig_new(r, 512, 16);
	ck_assert_int_eq(pager_begin(r->p, 1, &r->err, &t), RDB_OK);
	ck_assert_int_eq(bt_create(t, &r->root), RDB_OK);
	for (i = 0; i < 300; i++) {
		size_t kl = key_of(i, k), vl = val_of(i, 0, v);

		ck_assert_int_eq(bt_insert(t, r->root, k, kl, v, vl), RDB_OK);
	}
	ck_assert_int_eq(pager_commit(t), RDB_OK);
	(void)bt_rig_reopen(r);
}

/* The workload: new keys 300..699 (the leaves fill, shift and spread),
 * keys 0..299 replaced with values of other sizes, then most keys deleted
 * (leaves and inner nodes merge, the tree shrinks), a few re-inserted. */
static rdb_rc work(pager_txn *t, rdb_pgno root)
{
	unsigned char v[400];
	char k[32];
	uint32_t i;
	rdb_rc rc = RDB_OK;

	for (i = 300; rc == RDB_OK && i < 700; i++) {
		size_t kl = key_of(i, k), vl = val_of(i, 1, v);

		rc = bt_insert(t, root, k, kl, v, vl);
	}
	for (i = 0; rc == RDB_OK && i < 300; i += 2) {
		size_t kl = key_of(i, k), vl = val_of(i, 2, v);

		rc = bt_upsert(t, root, k, kl, v, vl, NULL);
	}
	for (i = 0; rc == RDB_OK && i < 700; i++) {
		size_t kl = key_of(i, k);

		if (i % 5 != 0)
			rc = bt_delete(t, root, k, kl);
	}
	for (i = 1; rc == RDB_OK && i < 700; i += 10) {
		size_t kl = key_of(i, k), vl = val_of(i, 3, v);

		rc = bt_insert(t, root, k, kl, v, vl);
	}
	return rc;
}

/* Run the workload; its first failure's code or the commit's.
 * *in_commit: it got as far as pager_commit(). */
static rdb_rc run(rig *r, int *in_commit)
{
	pager_txn *t = NULL;
	rdb_rc rc;

	*in_commit = 0;
	if ((rc = pager_begin(r->p, 1, &r->err, &t)) != RDB_OK)
		return rc;
	if ((rc = work(t, r->root)) != RDB_OK) {
		ck_assert_msg(r->err.msg[0] != '\0', "rc %d without message",
			      rc);
		pager_rollback(t);
		return rc;
	}
	*in_commit = 1;
	return pager_commit(t);
}

/* Calls (io) or allocations of a run without faults; the digests before
 * and after it. */
static uint64_t measure(int io, uint64_t d[2])
{
	rig r;
	uint64_t n;
	int in_commit;

	rig_new(&r);
	d[0] = digest(&r);
	if (io)
		os_mem_set_fault(r.vfs, OS_FAULT_NONE, 0, 0, 0);
	else
		rdb_mem_fail_at(0, 0);
	ck_assert_int_eq(run(&r, &in_commit), RDB_OK);
	n = io ? os_mem_calls(r.vfs) : (uint64_t)rdb_mem_count();
	(void)bt_rig_reopen(&r);
	d[1] = digest(&r);
	ck_assert_uint_ne(d[0], d[1]);
	bt_rig_free(&r);
	return n;
}

/* Fail call (or allocation) `at` once; 1 if the workload failed. */
static int trial(int io, uint64_t at, const uint64_t d[2])
{
	rdb_rc rc;
	int in_commit;
	uint64_t h;
	rig r;

	rig_new(&r);
	fu_arm(r.vfs, io, at);
	rc = run(&r, &in_commit);
	fu_end(r.vfs, io, at, rc, r.err.msg);
	(void)bt_rig_reopen(&r);
	h = digest(&r);
	if (rc == RDB_OK)
		ck_assert_msg(h == d[1], "committed, but not the state after");
	else if (!in_commit)
		ck_assert_msg(h == d[0], "failed at %llu, but changed",
			      (unsigned long long)at);
	else
		ck_assert_msg(h == d[0] || h == d[1], "a third state");
	bt_rig_free(&r);
	return rc != RDB_OK;
}

/* Trials at up to about 600 points spread over the run (every call when
 * the run makes fewer), more at higher RDB_TEST_SCALE. */
static void sweep(int io)
{
	uint64_t d[2], n = measure(io, d), at, step;
	long failed = 0, trials = 0;

	ck_assert_uint_gt(n, 100);
	step = n / (uint64_t)tu_scaled(600, 50) + 1;
	for (at = 1; at <= n + 1; at += step) {
		failed += trial(io, at, d);
		trials++;
	}
	ck_assert_int_gt(failed, trials / 2);
}

START_TEST(test_btcrowd_io_error_at_each_call_is_atomic)
{
	sweep(1);
}
END_TEST

START_TEST(test_btcrowd_nomem_at_each_allocation_is_atomic)
{
	sweep(0);
}
END_TEST

/* ==== damaged: inner nodes with bytes no writer produces ============== */

/* Node layout (src/btree/bt_int.h, docs/format.md "B+ tree nodes"). */
#define ND_LEVEL 9u
#define ND_LINK_A 16u
#define ND_SLOTS 32u

/* The root's bytes damaged five ways: its rightmost child page 0; its
 * first child at another level; its own level past the deepest tree; its
 * first cell starting too near the page end for a child pointer; its
 * first cell's key length not a valid number.  bt_verify is RDB_CORRUPT;
 * each lookup is the right value or RDB_CORRUPT, and some are the
 * latter. */
START_TEST(test_btcrowd_damaged_root_is_corrupt_never_wrong)
{
	unsigned char v[400], *d;
	pager_txn *t = NULL;
	pager_page *pg = NULL;
	bt_stats st;
	rig r;
	char k[32];
	uint32_t i, off, bad = 0;

	rig_new(&r);
	ck_assert_int_eq(pager_begin(r.p, 1, &r.err, &t), RDB_OK);
	ck_assert_int_eq(work(t, r.root), RDB_OK);
	for (i = 700; i < 2500; i++) {
		size_t kl = key_of(i, k), vl = val_of(i, 1, v) % 40;

		ck_assert_int_eq(bt_insert(t, r.root, k, kl, v, vl), RDB_OK);
	}
	ck_assert_int_eq(bt_verify(t, r.root, NULL, &st), RDB_OK);
	ck_assert_uint_ge(st.depth, 3);
	ck_assert_int_eq(pager_get(t, r.root, &pg), RDB_OK);
	ck_assert_int_eq(pager_write(t, &pg), RDB_OK);
	d = pager_data(pg);
	off = fmt_get_u16(d + ND_SLOTS);
	switch (_i) {
	case 0: fmt_put_u32(d + ND_LINK_A, 0); break;
	case 1: {
		pager_page *ch = NULL;

		ck_assert_int_eq(pager_get(t, fmt_get_u32(d + off), &ch),
				 RDB_OK);
		ck_assert_int_eq(pager_write(t, &ch), RDB_OK);
		pager_data(ch)[ND_LEVEL] = 5;
		pager_unref(ch);
		break;
	}
	case 2: d[ND_LEVEL] = 60; break;
	case 3: fmt_put_u16(d + ND_SLOTS, 512 - 2); break;
	default: memset(d + off + 4, 0xff, 3); break;
	}
	pager_unref(pg);
	ck_assert_int_eq(pager_commit(t), RDB_OK);
	(void)bt_rig_reopen(&r);
	ck_assert_int_eq(pager_begin(r.p, 0, &r.err, &t), RDB_OK);
	ck_assert_int_eq(bt_verify(t, r.root, NULL, NULL), RDB_CORRUPT);
	for (i = 700; i < 2500; i += 7) {
		size_t kl = key_of(i, k), vl = val_of(i, 1, v) % 40, n = 0;
		unsigned char got[400];
		rdb_rc rc = bt_get_buf(t, r.root, k, kl, got, sizeof(got), &n);

		ck_assert_msg(rc == RDB_OK || rc == RDB_CORRUPT, "rc %d", rc);
		if (rc == RDB_OK) {
			ck_assert_uint_eq(n, vl);
			ck_assert(memcmp(got, v, vl) == 0);
		} else {
			ck_assert_ptr_nonnull(strstr(r.err.msg, "page"));
			bad++;
		}
	}
	ck_assert_uint_gt(bad, 0);
	pager_rollback(t);
	bt_rig_free(&r);
}
END_TEST

Suite *btcrowd_suite(void)
{
	Suite *s = suite_create("btcrowd");
	TCase *tc = tcase_create("crowded");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_btcrowd_io_error_at_each_call_is_atomic);
	tcase_add_test(tc, test_btcrowd_nomem_at_each_allocation_is_atomic);
	suite_add_tcase(s, tc);

	tc = tcase_create("damaged");
	tcase_add_loop_test(tc, test_btcrowd_damaged_root_is_corrupt_never_wrong,
			    0, 5);
	suite_add_tcase(s, tc);
	return s;
}
