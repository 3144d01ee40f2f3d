/*
 * check_kvfault.c -- the KV store under faults in a crowded buffer pool:
 * a write transaction that has already dirtied more pages than the pool
 * holds (16 frames of 512 bytes), so that every page the store allocates,
 * reads or writes may spill or load a page and so meet an I/O error or an
 * allocation failure.  Records are placed so that each kind of append
 * (record start, header, key, value, tombstone, copy, streamed header)
 * crosses into a new log page; values are read back from pages evicted
 * and spilled; a record is copied into a second crowded database whose
 * store the copy creates; the log is compacted.  An I/O error or an
 * allocation failure at every call in turn must fail the workload with
 * that error (or not at all), and after a reopen each database must hold
 * exactly its contents before or after the workload, verified.
 * Contracts under test: src/kv/kv.h, src/pager/pager.h, src/pager/os.h.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>
#include "btree/btree.h"
#include "kv/kv.h"
#include "pager/pager.h"
#include "pager/os.h"
#include "format.h"
#include "mem.h"
#include "fault_util.h"
#include "test_util.h"

#define PS 512u
#define DATA 24u                /* KV_LOG_DATA: first record byte */
#define PER (PS - DATA)         /* record bytes per log page */
#define META_TAIL_OFF 32u       /* kv_int.h: bytes used in the tail */

/* ==== two databases on one in-memory file system ====================== */

typedef struct db {
	const char *name;
	pager *p;
	rdb_err err;
} db;

typedef struct rig {
	os_vfs *vfs;
	pager_opts o;
	db a, b;
} rig;

static void db_open(rig *r, db *d)
{
	rdb_rc rc = pager_open(r->vfs, d->name, &r->o, &d->err, &d->p);

	ck_assert_msg(rc == RDB_OK, "pager_open %s: %d %s", d->name, rc,
		      d->err.msg);
}

static void db_reopen(rig *r, db *d)
{
	(void)pager_close(d->p);
	d->p = NULL;
	db_open(r, d);
}

static void rig_free(rig *r)
{
	(void)pager_close(r->a.p);
	(void)pager_close(r->b.p);
	os_mem_free(r->vfs);
}

static pager_txn *begin(db *d, int write)
{
	pager_txn *t = NULL;

	ck_assert_int_eq(pager_begin(d->p, write, &d->err, &t), RDB_OK);
	return t;
}

/* Value bytes named by a seed: text (compressible) or random. */
static void fill(unsigned char *b, size_t n, uint64_t seed, int text)
{
	uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = text ? (unsigned char)("abcdefgh ijkl\n"[
				       (i / 7 + seed) % 14])
			    : (unsigned char)tu_rand(&s);
}

static rdb_rc put(pager_txn *t, const char *key, size_t n, uint64_t seed,
		  int text)
{
	unsigned char *v = malloc(n ? n : 1);
	rdb_rc rc;

	ck_assert_ptr_nonnull(v);
	fill(v, n, seed, text);
	rc = kv_put(t, NULL, key, strlen(key), v, n);
	free(v);
	return rc;
}

/* A digest of every key and value of d's store (0: no store); the store
 * must verify. */
static uint64_t digest(db *d)
{
	pager_txn *t = begin(d, 0);
	XXH3_state_t st;
	bt_cursor *c = NULL;
	rdb_pgno root = 0;
	const void *k;
	size_t klen, vlen;
	uint64_t h, n = 0;
	kv_stats s;
	rdb_rc rc;

	ck_assert_msg(kv_verify(t, NULL) == RDB_OK, "%s: %s", d->name,
		      d->err.msg);
	ck_assert_int_eq(kv_index_root(t, &root), RDB_OK);
	if (root == 0) {
		pager_rollback(t);
		return 0;
	}
	XXH3_64bits_reset(&st);
	ck_assert_int_eq(bt_cursor_open(t, root, &c), RDB_OK);
	for (rc = bt_first(c); rc == RDB_OK; rc = bt_next(c)) {
		char key[64];
		void *v = NULL;

		ck_assert_int_eq(bt_key(c, &k, &klen), RDB_OK);
		ck_assert_uint_lt(klen, sizeof(key));
		memcpy(key, k, klen);
		ck_assert_int_eq(kv_get(t, NULL, key, klen, &v, &vlen),
				 RDB_OK);
		XXH3_64bits_update(&st, &klen, sizeof(klen));
		XXH3_64bits_update(&st, key, klen);
		XXH3_64bits_update(&st, &vlen, sizeof(vlen));
		XXH3_64bits_update(&st, v, vlen);
		rdb_free(v);
		n++;
	}
	ck_assert_int_eq(rc, RDB_NOTFOUND);
	bt_cursor_close(c);
	ck_assert_int_eq(kv_get_stats(t, &s), RDB_OK);
	ck_assert_uint_eq(s.live_keys, n);
	h = XXH3_64bits_digest(&st) | 1;
	pager_rollback(t);
	return h;
}

/* Database a holds a store of six keys (one of 9,000 random bytes over
 * 19 log pages, one of compressible text); b is empty.  Both reopened:
 * the workload starts with cold pools. */
static void rig_new(rig *r)
{
	pager_txn *t;

	memset(r, 0, sizeof(*r));
	r->vfs = os_mem_new();
	ck_assert_ptr_nonnull(r->vfs);
	pager_opts_default(&r->o);
	r->o.page_size = PS;
	r->o.cache_pages = 16;
	r->o.create = 1;
	r->a.name = "a.db";
	r->b.name = "b.db";
	db_open(r, &r->a);
	db_open(r, &r->b);
	t = begin(&r->a, 1);
	ck_assert_int_eq(put(t, "old1", 40, 1, 0), RDB_OK);
	ck_assert_int_eq(put(t, "old2", 700, 2, 0), RDB_OK);
	ck_assert_int_eq(put(t, "old3", 9000, 3, 0), RDB_OK);
	ck_assert_int_eq(put(t, "old4", 6000, 4, 1), RDB_OK);
	ck_assert_int_eq(put(t, "old5", 90, 5, 0), RDB_OK);
	ck_assert_int_eq(put(t, "old6", 3000, 6, 0), RDB_OK);
	ck_assert_int_eq(pager_commit(t), RDB_OK);
	db_reopen(r, &r->a);
	db_reopen(r, &r->b);
}

/* ==== the workload ===================================================== */

/* Dirty more pages than the pool holds: a tree of n 100-byte values. */
static rdb_rc crowd(pager_txn *t, int n)
{
	unsigned char v[100];
	rdb_pgno root;
	char k[8];
	int i;
	rdb_rc rc = bt_create(t, &root);

	for (i = 0; rc == RDB_OK && i < n; i++) {
		k[0] = 'c';
		k[1] = (char)('a' + i / 26);
		k[2] = (char)('a' + i % 26);
		fill(v, sizeof(v), (uint64_t)i, 0);
		rc = bt_insert(t, root, k, 3, v, sizeof(v));
	}
	return rc;
}

/* Append a padding record so that the next record starts at byte `at`
 * of a log page (PS: the page is exactly full, so the next append starts
 * a new page).  Padding keys are "p" and two letters. */
static rdb_rc pad_to(pager_txn *t, uint32_t at, int *n_pad)
{
	rdb_pgno meta = (rdb_pgno)pager_anchor(t, FMT_ANCHOR_KV);
	pager_page *pg = NULL;
	uint32_t off, x, y, vlen;
	char key[4];
	rdb_rc rc;

	ck_assert_uint_ne(meta, 0);
	if ((rc = pager_get(t, meta, &pg)) != RDB_OK)
		return rc;
	off = fmt_get_u32(pager_data(pg) + META_TAIL_OFF);
	pager_unref(pg);
	x = (off - DATA) % PER;
	y = (at - DATA) % PER;
	vlen = (y + 2 * PER - x - (32 + 3)) % PER;
	key[0] = 'p';
	key[1] = (char)('a' + *n_pad / 26);
	key[2] = (char)('a' + *n_pad % 26);
	key[3] = '\0';
	++*n_pad;
	return put(t, key, vlen, 100 + (uint64_t)*n_pad, 0);
}

typedef struct sink {
	size_t n;
} sink;

static int to_sink(void *arg, const void *buf, size_t n)
{
	sink *s = arg;

	(void)buf;
	s->n += n;
	return 0;
}

/* A reader of n random bytes. */
typedef struct source {
	size_t left;
	uint64_t s;
} source;

static int from_source(void *arg, void *buf, size_t cap, size_t *got)
{
	source *src = arg;
	unsigned char *b = buf;
	size_t i, n = src->left < cap ? src->left : cap;

	for (i = 0; i < n; i++)
		b[i] = (unsigned char)tu_rand(&src->s);
	*got = n;
	src->left -= n;
	return 0;
}

/* Rounds of the appends below: a new log page needs a spill (an I/O
 * call) only when the pool holds too many of the transaction's pages,
 * about one allocation in ten, so each kind of append is repeated to
 * meet that point. */
#define ROUNDS 8

/* One round of appends that cross into a new log page: a record starting
 * one; a header, a key and a value crossing; tombstones starting and
 * crossing; copies (renames) starting and crossing; streamed records
 * starting one, their header crossing, their key starting one. */
static rdb_rc round_of(pager_txn *t, int r, int *np)
{
	char k[6][24];
	source src = { 600 + 100 * (size_t)r, 77 + (uint64_t)r };
	int existed = 0, i;
	rdb_rc rc;

	for (i = 0; i < 6; i++)
		snprintf(k[i], sizeof(k[i]), i == 2 ? "k2%c-key-of-20-bytes!" :
			 "k%d%c", i, 'a' + r);
	ck_assert_uint_eq(strlen(k[2]), 20);
	if ((rc = pad_to(t, PS, np)) || (rc = put(t, k[0], 50, 11, 0)) ||
	    (rc = pad_to(t, PS - 10, np)) || (rc = put(t, k[1], 60, 12, 0)) ||
	    (rc = pad_to(t, PS - 32, np)) || (rc = put(t, k[2], 70, 13, 0)) ||
	    (rc = pad_to(t, PS - 32 - 3 - 1, np)) ||
	    (rc = put(t, k[3], 300, 14, 0)) ||
	    (rc = pad_to(t, PS, np)) ||
	    (rc = kv_delete(t, k[0], 3, &existed)) ||
	    (rc = pad_to(t, PS - 12, np)) ||
	    (rc = kv_delete(t, k[1], 3, &existed)) ||
	    (rc = pad_to(t, PS, np)) ||
	    (rc = kv_rename(t, k[3], 3, k[4], 3)) ||
	    (rc = pad_to(t, PS - 20, np)) ||
	    (rc = kv_rename(t, k[4], 3, k[5], 3)) ||
	    (rc = pad_to(t, PS, np)) ||
	    (rc = kv_put_stream(t, k[0], 3, from_source, &src)) ||
	    (rc = pad_to(t, PS - 7, np)) ||
	    (src.left = 300, (rc = kv_put_stream(t, k[1], 3, from_source,
						 &src))) ||
	    (rc = pad_to(t, PS - 32, np)) ||
	    (src.left = 200, (rc = kv_put_stream(t, k[4], 3, from_source,
						 &src))))
		return rc;
	ck_assert_int_eq(existed, 1);
	return RDB_OK;
}

/* The changes to a (in ta) and b (in tb). */
static rdb_rc work(pager_txn *ta, pager_txn *tb)
{
	unsigned char into[300];
	source src = { 9500, 77 };
	sink s = { 0 };
	void *got = NULL;
	size_t n = 0, n2 = 0;
	int np = 0, r, existed = 0;
	rdb_rc rc;

	if ((rc = crowd(ta, 70)) != RDB_OK || (rc = crowd(tb, 70)) ||
	    /* b's store is created by a copy into the crowded pool */
	    (rc = kv_copy(ta, tb, "old3", 4)) != RDB_OK)
		return rc;
	for (r = 0; r < ROUNDS; r++)
		if ((rc = round_of(ta, r, &np)) != RDB_OK)
			return rc;
	if ((rc = kv_delete(ta, "old1", 4, &existed)) ||
	    (rc = kv_rename(ta, "old2", 4, "k5a", 3)) ||
	    (rc = kv_put_stream(ta, "st", 2, from_source, &src)) ||
	    /* reads of records long evicted or spilled */
	    (rc = kv_get_stream(ta, "st", 2, to_sink, &s)) ||
	    (rc = kv_get_into(ta, NULL, "k5b", 3, into, sizeof(into), &n2)) ||
	    (rc = kv_get(ta, NULL, "old4", 4, &got, &n)) ||
	    (rc = kv_copy(ta, tb, "st", 2)) != RDB_OK ||
	    (rc = kv_copy(ta, tb, "old4", 4)) != RDB_OK ||
	    (rc = kv_compact(ta)) != RDB_OK || (rc = kv_verify(ta, NULL)) ||
	    (rc = kv_verify(tb, NULL)) != RDB_OK)
		goto out;
	ck_assert_uint_eq(s.n, 9500);
	ck_assert_uint_eq(n, 6000);
	ck_assert_uint_eq(n2, 300);
	ck_assert_int_eq(existed, 1);
out:
	rdb_free(got);
	return rc;
}

/* How far each database got: 0 failed before its commit, 1 its commit
 * failed (the outcome may be either), 2 committed. */
typedef struct outcome {
	int a, b;
} outcome;

/* Run the workload; its first failure's code (RDB_OK if both
 * committed).  Every failure must have set a message. */
static rdb_rc run(rig *r, outcome *o)
{
	pager_txn *ta = NULL, *tb = NULL;
	rdb_rc rc;

	o->a = o->b = 0;
	if ((rc = pager_begin(r->a.p, 1, &r->a.err, &ta)) != RDB_OK)
		return rc;
	if ((rc = pager_begin(r->b.p, 1, &r->b.err, &tb)) != RDB_OK) {
		pager_rollback(ta);
		return rc;
	}
	if ((rc = work(ta, tb)) != RDB_OK) {
		ck_assert_msg(r->a.err.msg[0] != '\0' ||
			      r->b.err.msg[0] != '\0', "rc %d without message",
			      rc);
		pager_rollback(ta);
		pager_rollback(tb);
		return rc;
	}
	rc = pager_commit(ta);
	o->a = rc == RDB_OK ? 2 : 1;
	if (rc != RDB_OK) {
		pager_rollback(tb);
		return rc;
	}
	rc = pager_commit(tb);
	o->b = rc == RDB_OK ? 2 : 1;
	return rc;
}

/* The digests of both databases before and after the workload. */
typedef struct digests {
	uint64_t a[2], b[2];
} digests;

/* One run without faults: the digests, and the number of I/O calls (io)
 * or allocations (!io) it makes. */
static uint64_t measure(int io, digests *d)
{
	rig r;
	outcome o;
	uint64_t n;

	rig_new(&r);
	d->a[0] = digest(&r.a);
	d->b[0] = digest(&r.b);
	ck_assert_uint_ne(d->a[0], 0);
	ck_assert_uint_eq(d->b[0], 0);
	if (io)
		os_mem_set_fault(r.vfs, OS_FAULT_NONE, 0, 0, 0);
	else
		rdb_mem_fail_at(0, 0);
	ck_assert_int_eq(run(&r, &o), RDB_OK);
	n = io ? os_mem_calls(r.vfs) : (uint64_t)rdb_mem_count();
	db_reopen(&r, &r.a);
	db_reopen(&r, &r.b);
	d->a[1] = digest(&r.a);
	d->b[1] = digest(&r.b);
	ck_assert_uint_ne(d->a[1], d->a[0]);
	ck_assert_uint_ne(d->b[1], 0);
	rig_free(&r);
	return n;
}

static void expect_state(db *d, const uint64_t want[2], int how)
{
	uint64_t h = digest(d);

	if (how == 1)
		ck_assert_msg(h == want[0] || h == want[1], "%s: a third "
			      "state after a failed commit", d->name);
	else
		ck_assert_msg(h == want[how / 2], "%s: state %s expected",
			      d->name, how ? "after" : "before");
}

/* Fail I/O call (or allocation) `at` once; 1 if the workload failed. */
static int trial(int io, uint64_t at, const digests *d)
{
	rig r;
	char msg[2 * sizeof(r.a.err.msg) + 4];
	rdb_rc rc;
	outcome o;

	rig_new(&r);
	fu_arm(r.vfs, io, at);
	rc = run(&r, &o);
	snprintf(msg, sizeof(msg), "%s / %s", r.a.err.msg, r.b.err.msg);
	fu_end(r.vfs, io, at, rc, msg);
	db_reopen(&r, &r.a);
	db_reopen(&r, &r.b);
	expect_state(&r.a, d->a, o.a);
	expect_state(&r.b, d->b, o.b);
	rig_free(&r);
	return rc != RDB_OK;
}

/* A trial at every call (every few calls below scale 1). */
static void sweep(int io)
{
	digests d;
	uint64_t n = measure(io, &d), at, step;
	long failed = 0, trials = 0;

	ck_assert_uint_gt(n, 100);
	step = (uint64_t)(1.0 / tu_scale() + 0.5);
	if (step < 1)
		step = 1;
	for (at = 1; at <= n + 1; at += step) {
		failed += trial(io, at, &d);
		trials++;
	}
	/* Every call up to the commits is one the workload needs. */
	ck_assert_int_gt(failed, trials / 2);
}

START_TEST(test_kvfault_io_error_at_each_call_in_crowded_pool_is_atomic)
{
	sweep(1);
}
END_TEST

START_TEST(test_kvfault_nomem_at_each_allocation_in_crowded_pool_is_atomic)
{
	sweep(0);
}
END_TEST

Suite *kvfault_suite(void)
{
	Suite *s = suite_create("kvfault");
	TCase *tc = tcase_create("crowded");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc,
		       test_kvfault_io_error_at_each_call_in_crowded_pool_is_atomic);
	tcase_add_test(tc,
		       test_kvfault_nomem_at_each_allocation_in_crowded_pool_is_atomic);
	suite_add_tcase(s, tc);
	return s;
}
