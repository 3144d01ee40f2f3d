/*
 * check_btseek.c -- B+ tree seeks from a positioned cursor
 * (src/btree/cursor.c, seek_in_leaf(): in a read transaction a seek whose
 * key lies within the pinned leaf's keys stays in that leaf).  A random
 * model test: trees of random keys (short and long, several page sizes),
 * then sequences of GE and LE seeks -- ascending near existing keys (the
 * index-join pattern), random, exact hits, keys past both ends --
 * interleaved with steps, in read and in write transactions, each
 * compared with a sorted array, with buffer pools below and above the
 * size at which read cursors keep their inner nodes pinned.  Case: model.
 * Case path: the inner nodes a read cursor keeps pinned between seeks
 * (fewer page requests; the cursor's snapshot survives another
 * transaction's splits, commit, checkpoint and rollback; many cursors in
 * one pool; write transactions keep nothing).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "btree/btree.h"
#include "pager/pager.h"
#include "mem.h"
#include "test_util.h"

typedef struct key {
	unsigned char b[40];
	size_t n;
} key;

static int key_cmp(const void *pa, const void *pb)
{
	const key *a = pa, *b = pb;
	size_t n = a->n < b->n ? a->n : b->n;
	int c = n ? memcmp(a->b, b->b, n) : 0;

	return c != 0 ? c : (a->n > b->n) - (a->n < b->n);
}

static void rand_key(uint64_t *s, key *k)
{
	size_t i;

	k->n = 1 + tu_rand_below(s, tu_rand_below(s, 4) == 0 ? 39 : 6);
	for (i = 0; i < k->n; i++)
		k->b[i] = (unsigned char)("\x00\x01mnz\xff"[tu_rand_below(s, 6)]);
}

#define OK(call) do {							\
	rdb_rc ok_rc_ = (call);						\
	ck_assert_msg(ok_rc_ == RDB_OK, "%s: rc %d: %s", #call,		\
		      (int)ok_rc_, err.msg);				\
} while (0)

static rdb_err err;

/* The model's answer: index of the first key >= k (ge) or the last <= k,
 * or -1. */
static long model_seek(const key *keys, long n, const key *k, int ge)
{
	long lo = 0, hi = n;

	while (lo < hi) {            /* first index with keys[i] > k (LE) or
					>= k (GE) */
		long mid = lo + (hi - lo) / 2;
		int c = key_cmp(&keys[mid], k);

		if (c < 0 || (!ge && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (ge)
		return lo < n ? lo : -1;
	return lo - 1;
}

static void expect_at(bt_cursor *c, rdb_rc rc, const key *keys, long want,
		      const char *what, long step)
{
	const void *k;
	size_t kn;

	if (want < 0) {
		ck_assert_msg(rc == RDB_NOTFOUND, "%s %ld: rc %d, want "
			      "NOTFOUND", what, step, rc);
		return;
	}
	ck_assert_msg(rc == RDB_OK, "%s %ld: rc %d (%s)", what, step, rc,
		      err.msg);
	OK(bt_key(c, &k, &kn));
	ck_assert_msg(kn == keys[want].n && (kn == 0 ||
		      memcmp(k, keys[want].b, kn) == 0),
		      "%s %ld: wrong key (want index %ld)", what, step, want);
}

/* A probe key: next to a stored key (equal, a prefix of it, or it with a
 * byte added), or random. */
static void probe_key(uint64_t *s, const key *keys, long n, long near,
		      key *k)
{
	switch (tu_rand_below(s, 4)) {
	case 0:
		rand_key(s, k);
		return;
	case 1:
		*k = keys[near];
		return;
	case 2:
		*k = keys[near];
		if (k->n > 1)
			k->n--;
		return;
	default:
		*k = keys[near];
		if (k->n < sizeof(k->b))
			k->b[k->n++] = (unsigned char)tu_rand_below(s, 256);
		(void)n;
		return;
	}
}

static void run_seeks(uint64_t *s, pager *p, rdb_pgno root, int write,
		      const key *keys, long n)
{
	pager_txn *t = NULL;
	bt_cursor *c = NULL;
	long step, pos = -1, near = 0, nsteps = tu_scaled(4000, 800);
	key k;
	rdb_rc rc;

	OK(pager_begin(p, write, &err, &t));
	OK(bt_cursor_open(t, root, &c));
	for (step = 0; step < nsteps; step++) {
		unsigned r = (unsigned)tu_rand_below(s, 10);
		int ge = tu_rand_below(s, 4) != 0;

		if (r < 2 && pos >= 0) {         /* step along */
			int fwd = tu_rand_below(s, 2);

			rc = fwd ? bt_next(c) : bt_prev(c);
			pos = fwd ? (pos + 1 < n ? pos + 1 : -1) : pos - 1;
			expect_at(c, rc, keys, pos, "step", step);
			continue;
		}
		/* Mostly ascending near the last position, as an index
		 * join's probes are. */
		if (r < 8)
			near = near + (long)tu_rand_below(s, 6) < n
				       ? near + (long)tu_rand_below(s, 6) : 0;
		else
			near = (long)tu_rand_below(s, (uint64_t)n);
		probe_key(s, keys, n, near, &k);
		rc = ge ? bt_seek_ge(c, k.b, k.n) : bt_seek_le(c, k.b, k.n);
		pos = model_seek(keys, n, &k, ge);
		expect_at(c, rc, keys, pos, ge ? "seek_ge" : "seek_le", step);
	}
	bt_cursor_close(c);
	if (write)
		pager_rollback(t);
	else
		OK(pager_commit(t));
}

START_TEST(test_btseek_seeks_from_a_leaf_match_model)
{
	uint64_t seed = tu_seed(), s = seed;
	static const uint32_t sizes[] = { 512, 1024, 4096 };
	long rounds = tu_scaled(6, 3), r;
	char path[256];

	tu_seed_note("btseek model", seed);
	for (r = 0; r < rounds; r++) {
		os_vfs *mem = os_mem_new();
		pager_opts o;
		pager *p = NULL;
		pager_txn *t = NULL;
		rdb_pgno root;
		long n = 1 + (long)tu_rand_below(&s, 6000), i, m = 0;
		key *keys = calloc((size_t)n, sizeof(*keys));

		ck_assert_ptr_nonnull(mem);
		ck_assert_ptr_nonnull(keys);
		tu_tmp_path(path, sizeof(path));
		pager_opts_default(&o);
		o.page_size = sizes[r % 3];
		o.cache_pages = r % 2 ? 64 : 1024;   /* path off, on */
		o.sync = PAGER_SYNC_OFF;
		OK(pager_open(mem, path, &o, &err, &p));
		OK(pager_begin(p, 1, &err, &t));
		OK(bt_create(t, &root));
		for (i = 0; i < n; i++)
			rand_key(&s, &keys[i]);
		qsort(keys, (size_t)n, sizeof(*keys), key_cmp);
		for (i = 0; i < n; i++)      /* unique keys */
			if (m == 0 || key_cmp(&keys[m - 1], &keys[i]) != 0)
				keys[m++] = keys[i];
		for (i = 0; i < m; i++)
			OK(bt_insert(t, root, keys[i].b, keys[i].n, "v", 1));
		OK(pager_commit(t));
		run_seeks(&s, p, root, 0, keys, m);
		run_seeks(&s, p, root, 1, keys, m);
		OK(pager_close(p));
		os_mem_free(mem);
		free(keys);
	}
}
END_TEST

/* ---- kept paths ------------------------------------------------------- */

/* Key of integer i: 8 bytes big-endian (memcmp order = numeric order). */
static void ikey(uint64_t i, unsigned char b[8])
{
	int j;

	for (j = 7; j >= 0; j--, i >>= 8)
		b[j] = (unsigned char)i;
}

typedef struct fx {
	os_vfs *mem;
	pager *p;
	rdb_pgno root;
	char path[256];
} fx;

/* A tree of the even keys 0, 2, .. 2(n-1) with 16-byte values, on 512-byte
 * pages (three levels for a few thousand keys), in a pool of frames. */
static void fx_open(fx *f, long n, uint32_t frames)
{
	pager_opts o;
	pager_txn *t = NULL;
	unsigned char k[8], v[16];
	long i;

	f->mem = os_mem_new();
	ck_assert_ptr_nonnull(f->mem);
	tu_tmp_path(f->path, sizeof(f->path));
	pager_opts_default(&o);
	o.page_size = 512;
	o.cache_pages = frames;
	o.sync = PAGER_SYNC_OFF;
	OK(pager_open(f->mem, f->path, &o, &err, &f->p));
	OK(pager_begin(f->p, 1, &err, &t));
	OK(bt_create(t, &f->root));
	for (i = 0; i < n; i++) {
		ikey((uint64_t)(2 * i), k);
		memset(v, (int)(i & 0x7f), sizeof(v));
		OK(bt_insert(t, f->root, k, 8, v, sizeof(v)));
	}
	OK(pager_commit(t));
}

static void fx_close(fx *f)
{
	OK(pager_close(f->p));
	os_mem_free(f->mem);
}

/* Seek key i exactly through c: found iff want, and then the key is i. */
static void seek_expect(bt_cursor *c, uint64_t i, int want)
{
	unsigned char k[8];
	const void *got;
	size_t gn;
	rdb_rc rc;

	ikey(i, k);
	rc = bt_seek_ge(c, k, 8);
	if (rc == RDB_OK) {
		OK(bt_key(c, &got, &gn));
		if (gn != 8 || memcmp(got, k, 8) != 0)
			rc = RDB_NOTFOUND;
	}
	ck_assert_msg(rc == (want ? RDB_OK : RDB_NOTFOUND),
		      "key %llu: rc %d, want %s (%s)", (unsigned long long)i,
		      rc, want ? "found" : "missing", err.msg);
}

/* Page requests (hits + misses) of n random exact seeks in one cursor. */
static uint64_t requests_of_seeks(fx *f, uint64_t *s, long nkeys, long n)
{
	pager_txn *t = NULL;
	bt_cursor *c = NULL;
	pager_stats a, b;
	long i;

	OK(pager_begin(f->p, 0, &err, &t));
	OK(bt_cursor_open(t, f->root, &c));
	pager_get_stats(f->p, &a);
	for (i = 0; i < n; i++)
		seek_expect(c, 2 * tu_rand_below(s, (uint64_t)nkeys), 1);
	pager_get_stats(f->p, &b);
	bt_cursor_close(c);
	OK(pager_commit(t));
	return b.hits + b.misses - a.hits - a.misses;
}

START_TEST(test_btseek_kept_path_saves_page_requests)
{
	uint64_t s = tu_seed();
	long nkeys = 6000, n = 2000;
	bt_stats st;
	pager_txn *t = NULL;
	uint64_t small, big;
	fx f;

	fx_open(&f, nkeys, 1024);
	OK(pager_begin(f.p, 0, &err, &t));
	OK(bt_verify(t, f.root, NULL, &st));
	OK(pager_commit(t));
	ck_assert_uint_ge(st.depth, 3);
	big = requests_of_seeks(&f, &s, nkeys, n);
	fx_close(&f);
	/* A pool under the threshold: every seek descends from the root. */
	fx_open(&f, nkeys, 64);
	small = requests_of_seeks(&f, &s, nkeys, n);
	fx_close(&f);
	/* (A random seek may land in the leaf the cursor is on.) */
	ck_assert_uint_ge(small, (uint64_t)n * st.depth * 9 / 10);
	/* The root (and often a node below it) is kept: at most the
	 * leaf and the nodes that changed are requested. */
	ck_assert_msg(big <= (uint64_t)n * (st.depth - 1),
		      "%llu requests for %ld seeks of depth %u",
		      (unsigned long long)big, n, st.depth);
}
END_TEST

/* Insert the odd keys below 2n (splitting every level), then commit or
 * roll back. */
static void insert_odd(fx *f, long n, int commit)
{
	pager_txn *w = NULL;
	unsigned char k[8];
	long i;

	OK(pager_begin(f->p, 1, &err, &w));
	for (i = 0; i < n; i++) {
		ikey((uint64_t)(2 * i + 1), k);
		OK(bt_insert(w, f->root, k, 8, "odd", 3));
	}
	if (commit)
		OK(pager_commit(w));
	else
		pager_rollback(w);
}

START_TEST(test_btseek_kept_path_keeps_snapshot_across_commit_and_checkpoint)
{
	uint64_t s = tu_seed();
	long nkeys = 3000, i;
	pager_txn *t = NULL, *t2 = NULL;
	bt_cursor *c = NULL, *c2 = NULL;
	fx f;

	fx_open(&f, nkeys, 1024);
	OK(pager_begin(f.p, 0, &err, &t));
	OK(bt_cursor_open(t, f.root, &c));
	for (i = 0; i < 200; i++)          /* kept nodes of the old tree */
		seek_expect(c, 2 * tu_rand_below(&s, (uint64_t)nkeys), 1);
	/* A rolled-back writer, then a committed one, split the nodes the
	 * cursor keeps; a checkpoint copies what the reader allows. */
	insert_odd(&f, nkeys, 0);
	insert_odd(&f, nkeys, 1);
	OK(pager_checkpoint(f.p));
	for (i = 0; i < 400; i++) {
		uint64_t k = tu_rand_below(&s, (uint64_t)(2 * nkeys));

		seek_expect(c, k, k % 2 == 0);   /* the old snapshot */
	}
	OK(pager_begin(f.p, 0, &err, &t2));
	OK(bt_cursor_open(t2, f.root, &c2));
	for (i = 0; i < 400; i++) {
		uint64_t k = tu_rand_below(&s, (uint64_t)(2 * nkeys));

		seek_expect(c2, k, 1);           /* the new one */
		seek_expect(c, k, k % 2 == 0);
	}
	bt_cursor_close(c);
	bt_cursor_close(c2);
	OK(pager_commit(t));
	OK(pager_commit(t2));
	OK(pager_checkpoint(f.p));
	fx_close(&f);
}
END_TEST

START_TEST(test_btseek_kept_path_many_cursors_share_a_pool)
{
	uint64_t s = tu_seed();
	long nkeys = 4000, i;
	enum { NC = 40 };
	bt_cursor *c[NC];
	pager_txn *t = NULL;
	int j;
	fx f;

	/* 40 cursors keeping their paths in the smallest pool that lets
	 * them, then in one that does not: no "pool is full". */
	for (j = 0; j < 2; j++) {
		int k;

		fx_open(&f, nkeys, j == 0 ? 1024 : 96);
		OK(pager_begin(f.p, 0, &err, &t));
		for (k = 0; k < NC; k++)
			OK(bt_cursor_open(t, f.root, &c[k]));
		for (i = 0; i < 2000; i++) {
			uint64_t key = tu_rand_below(&s, (uint64_t)(2 * nkeys));

			seek_expect(c[tu_rand_below(&s, NC)], key,
				    key % 2 == 0);
		}
		for (k = 0; k < NC; k++)
			bt_cursor_close(c[k]);
		OK(pager_commit(t));
		fx_close(&f);
	}
}
END_TEST

START_TEST(test_btseek_write_cursor_after_splits_and_savepoint_rollback)
{
	uint64_t s = tu_seed();
	long nkeys = 2000, i;
	unsigned char k[8];
	pager_txn *w = NULL;
	bt_cursor *c = NULL;
	uint32_t sp;
	fx f;

	fx_open(&f, nkeys, 1024);
	OK(pager_begin(f.p, 1, &err, &w));
	OK(bt_cursor_open(w, f.root, &c));
	for (i = 0; i < 200; i++)
		seek_expect(c, 2 * tu_rand_below(&s, (uint64_t)nkeys), 1);
	OK(pager_savepoint(w, &sp));
	for (i = 0; i < nkeys; i++) {      /* splits on every level */
		ikey((uint64_t)(2 * i + 1), k);
		OK(bt_insert(w, f.root, k, 8, "odd", 3));
		if (i % 97 == 0)
			seek_expect(c, (uint64_t)(2 * i + 1), 1);
	}
	for (i = 0; i < 300; i++)
		seek_expect(c, tu_rand_below(&s, (uint64_t)(2 * nkeys)), 1);
	OK(pager_savepoint_rollback(w, sp));
	for (i = 0; i < 300; i++) {
		uint64_t key = tu_rand_below(&s, (uint64_t)(2 * nkeys));

		seek_expect(c, key, key % 2 == 0);
	}
	bt_cursor_close(c);
	OK(pager_commit(w));
	fx_close(&f);
}
END_TEST

/* Random seeks make a read cursor stop looking in its leaf first; probes
 * in ascending order then bring it back within a few seeks, so they cost
 * about one descent per leaf again. */
START_TEST(test_btseek_in_leaf_seeks_resume_after_random_ones)
{
	uint64_t s = tu_seed();
	long nkeys = 6000, i;
	pager_txn *t = NULL;
	bt_cursor *c = NULL;
	pager_stats a, b;
	bt_stats st;
	fx f;

	fx_open(&f, nkeys, 1024);
	OK(pager_begin(f.p, 0, &err, &t));
	OK(bt_verify(t, f.root, NULL, &st));
	OK(bt_cursor_open(t, f.root, &c));
	for (i = 0; i < 100; i++)
		seek_expect(c, 2 * tu_rand_below(&s, (uint64_t)nkeys), 1);
	pager_get_stats(f.p, &a);
	for (i = 0; i < 3000; i++)
		seek_expect(c, (uint64_t)i, i % 2 == 0);
	pager_get_stats(f.p, &b);
	/* 1500 stored keys over about 1500 / (keys per leaf) leaves, plus
	 * the seeks before the cursor trusts its leaf again. */
	ck_assert_msg(b.hits + b.misses - a.hits - a.misses <=
		      (uint64_t)(st.depth * (1500 * st.leaves / nkeys + 20)),
		      "%llu page requests for 3000 ascending seeks",
		      (unsigned long long)(b.hits + b.misses - a.hits -
					   a.misses));
	bt_cursor_close(c);
	OK(pager_commit(t));
	fx_close(&f);
}
END_TEST

Suite *btseek_suite(void)
{
	Suite *s = suite_create("btseek");
	TCase *tc = tcase_create("model");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_btseek_seeks_from_a_leaf_match_model);
	suite_add_tcase(s, tc);
	tc = tcase_create("path");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_btseek_kept_path_saves_page_requests);
	tcase_add_test(tc,
		test_btseek_kept_path_keeps_snapshot_across_commit_and_checkpoint);
	tcase_add_test(tc, test_btseek_kept_path_many_cursors_share_a_pool);
	tcase_add_test(tc, test_btseek_in_leaf_seeks_resume_after_random_ones);
	tcase_add_test(tc,
		test_btseek_write_cursor_after_splits_and_savepoint_rollback);
	suite_add_tcase(s, tc);
	return s;
}
