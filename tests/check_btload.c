/*
 * check_btload.c -- bulk loading of B+ trees (bt_load_*): a randomized
 * model test against trees built one key at a time (random key and value
 * sizes, 512- and 4096-byte pages, every fill factor), the contract's
 * errors, fill factors, a loaded tree taking ordinary changes, and
 * allocation failures and I/O errors during a load (a clean error, the
 * transaction rolled back, no page or byte leaked).
 * Contract under test: src/btree/btree.h ("bulk loading").
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "btree/btree.h"
#include "pager/pager.h"
#include "pager/os.h"
#include "mem.h"
#include "test_util.h"

/* ==== fixture ========================================================= */

static char path[256];
static rdb_err err;
static os_vfs *mem;

static void setup(void)
{
	tu_tmp_path(path, sizeof(path));
	rdb_err_clear(&err);
	mem = os_mem_new();
	ck_assert_ptr_nonnull(mem);
}

static void teardown(void)
{
	os_mem_free(mem);
	tu_unlink_db(path);
}

#define OK(call) do {							\
	rdb_rc ok_rc_ = (call);						\
	ck_assert_msg(ok_rc_ == RDB_OK, "%s: rc %d (%s): %s", #call,	\
		      (int)ok_rc_, rdb_errstr(ok_rc_), err.msg);	\
} while (0)

#define RC(want, call) do {						\
	rdb_rc rc_rc_ = (call);						\
	ck_assert_msg(rc_rc_ == (want), "%s: rc %d (%s), want %d: %s",	\
		      #call, (int)rc_rc_, rdb_errstr(rc_rc_),		\
		      (int)(want), err.msg);				\
} while (0)

static pager *open_db(uint32_t ps, uint32_t cache)
{
	pager_opts o;
	pager *p = NULL;

	pager_opts_default(&o);
	o.page_size = ps;
	o.cache_pages = cache;
	o.sync = PAGER_SYNC_NORMAL;
	OK(pager_open(mem, path, &o, &err, &p));
	return p;
}

static pager_txn *begin(pager *p, int write)
{
	pager_txn *t = NULL;

	OK(pager_begin(p, write, &err, &t));
	return t;
}

static rdb_pgno new_tree(pager *p)
{
	pager_txn *t = begin(p, 1);
	rdb_pgno root = 0;

	OK(bt_create(t, &root));
	OK(pager_commit(t));
	return root;
}

static bt_stats verify(pager_txn *t, rdb_pgno root)
{
	bt_stats st;

	memset(&st, 0, sizeof(st));
	OK(bt_verify(t, root, NULL, &st));
	return st;
}

/* ==== the key set ====================================================== *
 * n distinct keys with values, sorted.  Keys are mostly short, some near
 * the page size's limit, many sharing long prefixes (long separators);
 * values are empty, short, or long enough for overflow pages. */

typedef struct kv {
	unsigned char *k, *v;
	size_t kn, vn;
} kv;

static int kv_cmp(const void *pa, const void *pb)
{
	const kv *a = pa, *b = pb;
	int c = memcmp(a->k, b->k, a->kn < b->kn ? a->kn : b->kn);

	return c ? c : (a->kn > b->kn) - (a->kn < b->kn);
}

static void fill(unsigned char *p, size_t n, uint64_t *rng)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)tu_rand(rng);
}

static size_t pick_klen(uint64_t *rng, size_t max)
{
	uint64_t c = tu_rand_below(rng, 100);

	if (c < 2)
		return 0;
	if (c < 80)
		return 1 + tu_rand_below(rng, 16);
	if (c < 95)
		return 17 + tu_rand_below(rng, max / 4);
	return max - tu_rand_below(rng, 8);
}

static size_t pick_vlen(uint64_t *rng, uint32_t ps)
{
	uint64_t c = tu_rand_below(rng, 100);

	if (c < 20)
		return 0;
	if (c < 85)
		return 1 + tu_rand_below(rng, 40);
	if (c < 97)
		return tu_rand_below(rng, ps / 2);
	return ps + tu_rand_below(rng, 3 * (uint64_t)ps);
}

/* Random sorted distinct keys; duplicates are dropped, so *n may shrink. */
static kv *make_keys(size_t *n, uint32_t ps, uint64_t *rng)
{
	size_t max = bt_max_key(ps), i, j = 0;
	kv *a = calloc(*n + 1, sizeof(kv));
	unsigned char pre[8];

	ck_assert_ptr_nonnull(a);
	fill(pre, sizeof(pre), rng);
	for (i = 0; i < *n; i++) {
		a[i].kn = pick_klen(rng, max);
		a[i].vn = pick_vlen(rng, ps);
		a[i].k = malloc(a[i].kn + 1);
		a[i].v = malloc(a[i].vn + 1);
		ck_assert(a[i].k != NULL && a[i].v != NULL);
		fill(a[i].k, a[i].kn, rng);
		/* Half the keys share a prefix of up to 8 bytes. */
		if (tu_rand_below(rng, 2))
			memcpy(a[i].k, pre, a[i].kn < 8 ? a[i].kn : 8);
		fill(a[i].v, a[i].vn, rng);
	}
	qsort(a, *n, sizeof(kv), kv_cmp);
	for (i = 0; i < *n; i++) {
		if (j > 0 && kv_cmp(&a[j - 1], &a[i]) == 0) {
			free(a[i].k);
			free(a[i].v);
			continue;
		}
		a[j++] = a[i];
	}
	*n = j;
	return a;
}

static void free_keys(kv *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(a[i].k);
		free(a[i].v);
	}
	free(a);
}

static rdb_rc load_all(pager_txn *t, rdb_pgno root, unsigned fill_pct,
		       const kv *a, size_t n)
{
	bt_loader *l = NULL;
	size_t i;
	rdb_rc rc = bt_load_begin(t, root, fill_pct, &l);

	for (i = 0; i < n && rc == RDB_OK; i++)
		rc = bt_load_add(l, a[i].k, a[i].kn, a[i].v, a[i].vn);
	if (rc != RDB_OK) {
		bt_load_abort(l);
		return rc;
	}
	return bt_load_finish(l);
}

/* The tree holds exactly a[0..n), in order, forwards and backwards. */
static void same_entries(pager_txn *t, rdb_pgno root, const kv *a, size_t n)
{
	bt_cursor *c = NULL;
	const void *k, *v;
	size_t kn, vn, i = 0;
	rdb_rc rc;

	OK(bt_cursor_open(t, root, &c));
	for (rc = bt_first(c); rc == RDB_OK; rc = bt_next(c), i++) {
		ck_assert_uint_lt(i, n);
		OK(bt_key(c, &k, &kn));
		OK(bt_value(c, &v, &vn));
		ck_assert_uint_eq(kn, a[i].kn);
		ck_assert_uint_eq(vn, a[i].vn);
		ck_assert(kn == 0 || memcmp(k, a[i].k, kn) == 0);
		ck_assert(vn == 0 || memcmp(v, a[i].v, vn) == 0);
	}
	RC(RDB_NOTFOUND, rc);
	ck_assert_uint_eq(i, n);
	for (rc = bt_last(c); rc == RDB_OK; rc = bt_prev(c)) {
		OK(bt_key(c, &k, &kn));
		ck_assert_uint_gt(i, 0);
		i--;
		ck_assert_uint_eq(kn, a[i].kn);
	}
	RC(RDB_NOTFOUND, rc);
	ck_assert_uint_eq(i, 0);
	bt_cursor_close(c);
}

/* ==== model ============================================================ */

/* One round: the same keys bulk-loaded into one tree and inserted one by
 * one, in random order, into another; both verify and hold the keys. */
static void model_round(uint32_t ps, size_t n, uint64_t *rng)
{
	pager *p = open_db(ps, 4096);
	rdb_pgno a = new_tree(p), b = new_tree(p);
	unsigned fill_pct = 50 + (unsigned)tu_rand_below(rng, 51);
	kv *keys = make_keys(&n, ps, rng);
	size_t *order = malloc((n + 1) * sizeof(size_t)), i, j, x;
	pager_txn *t = begin(p, 1);
	bt_stats sa, sb;

	ck_assert_ptr_nonnull(order);
	OK(load_all(t, a, fill_pct, keys, n));
	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n; i > 1; i--) {
		j = (size_t)tu_rand_below(rng, i);
		x = order[i - 1];
		order[i - 1] = order[j];
		order[j] = x;
	}
	for (i = 0; i < n; i++)
		OK(bt_insert(t, b, keys[order[i]].k, keys[order[i]].kn,
			     keys[order[i]].v, keys[order[i]].vn));
	OK(pager_commit(t));
	t = begin(p, 0);
	sa = verify(t, a);
	sb = verify(t, b);
	ck_assert_uint_eq(sa.keys, n);
	ck_assert_uint_eq(sb.keys, n);
	/* random inserts fill leaves about 92% (a full leaf shares its
	 * cells with its neighbours): only a load packed fuller is sure to
	 * take no more leaves */
	if (fill_pct >= 97)
		ck_assert_uint_le(sa.leaves, sb.leaves + 1);
	same_entries(t, a, keys, n);
	same_entries(t, b, keys, n);
	OK(pager_commit(t));
	OK(pager_close(p));
	OK(mem->remove(mem, path, &err));
	free(order);
	free_keys(keys, n);
}

START_TEST(test_btload_model_matches_one_by_one_inserts)
{
	static const uint32_t sizes[] = { 512, 4096 };
	uint32_t ps = sizes[_i];
	uint64_t seed = tu_seed(), rng = seed;
	static const size_t fixed[] = { 0, 1, 2, 3, 5, 40, 300 };
	long rounds = tu_scaled(24, 6), r;

	tu_seed_note("btload model", seed);
	for (r = 0; r < (long)(sizeof(fixed) / sizeof(fixed[0])); r++)
		model_round(ps, fixed[r], &rng);
	for (r = 0; r < rounds; r++)
		model_round(ps, 1 + tu_rand_below(&rng, ps == 512 ? 6000
								 : 12000),
			    &rng);
}
END_TEST

/* ==== contract ========================================================= */

static const unsigned char *ik(uint32_t i, unsigned char *k)
{
	k[0] = (unsigned char)(i >> 24);
	k[1] = (unsigned char)(i >> 16);
	k[2] = (unsigned char)(i >> 8);
	k[3] = (unsigned char)i;
	return k;
}

START_TEST(test_btload_bad_keys_are_refused_and_loader_stays_usable)
{
	pager *p = open_db(512, 256);
	rdb_pgno root = new_tree(p);
	pager_txn *t = begin(p, 1);
	unsigned char k[4], big[2000];
	bt_loader *l = NULL;
	uint32_t i;
	bt_stats st;

	memset(big, 7, sizeof(big));
	OK(bt_load_begin(t, root, 100, &l));
	for (i = 0; i < 500; i++) {
		OK(bt_load_add(l, ik(i * 2, k), 4, "v", 1));
		RC(RDB_CONSTRAINT, bt_load_add(l, ik(i * 2, k), 4, "", 0));
		RC(RDB_MISUSE, bt_load_add(l, ik(i * 2 - (i > 0), k), i ? 4
						       : 0, "", 0));
		RC(RDB_TOOBIG, bt_load_add(l, big, bt_max_key(512) + 1, "",
					   0));
	}
	OK(bt_load_finish(l));
	st = verify(t, root);
	ck_assert_uint_eq(st.keys, 500);
	ck_assert_uint_ge(st.depth, 2);
	OK(pager_commit(t));
	OK(pager_close(p));
}
END_TEST

START_TEST(test_btload_nonempty_tree_or_bad_fill_is_misuse)
{
	pager *p = open_db(512, 256);
	rdb_pgno root = new_tree(p);
	pager_txn *t = begin(p, 1);
	bt_loader *l = (bt_loader *)&err;

	RC(RDB_MISUSE, bt_load_begin(t, root, 49, &l));
	ck_assert_ptr_null(l);
	RC(RDB_MISUSE, bt_load_begin(t, root, 101, &l));
	OK(bt_insert(t, root, "a", 1, "", 0));
	RC(RDB_MISUSE, bt_load_begin(t, root, 100, &l));
	ck_assert_ptr_null(l);
	ck_assert(strstr(err.msg, "not empty") != NULL);
	bt_load_abort(NULL);
	OK(pager_commit(t));
	OK(pager_close(p));
}
END_TEST

/* Leaves come out as full as asked; the tree then takes inserts and
 * deletes like any other. */
START_TEST(test_btload_fill_factor_sets_leaf_fill_and_tree_stays_usable)
{
	static const unsigned fills[] = { 100, 90, 70, 50 };
	unsigned char k[4];
	uint32_t i, n = (uint32_t)tu_scaled(60000, 8000);
	uint64_t rng = 42;
	size_t f;
	bt_stats st;

	for (f = 0; f < sizeof(fills) / sizeof(fills[0]); f++) {
		pager *p = open_db(4096, 2048);
		rdb_pgno root = new_tree(p);
		pager_txn *t = begin(p, 1);
		bt_loader *l = NULL;

		OK(bt_load_begin(t, root, fills[f], &l));
		for (i = 0; i < n; i++)
			OK(bt_load_add(l, ik(i * 4, k), 4, "0123456789abcdef",
				       16));
		OK(bt_load_finish(l));
		st = verify(t, root);
		ck_assert_uint_eq(st.keys, n);
		ck_assert_msg(st.leaf_fill > fills[f] / 100.0 - 0.04 &&
			      st.leaf_fill <= fills[f] / 100.0 + 0.001,
			      "fill %u%%: leaf_fill %.3f", fills[f],
			      st.leaf_fill);
		/* Inner nodes are packed: a separator of these keys takes
		 * at most 12 bytes, so a node holds over 300 children. */
		ck_assert_msg(st.inners <= st.leaves / 300 + st.depth,
			      "%u inner nodes over %u leaves", st.inners,
			      st.leaves);
		for (i = 0; i < n / 2; i++) {
			uint32_t x = (uint32_t)tu_rand_below(&rng, 4ull * n);
			rdb_rc rc;

			if (x % 4 == 0) {
				rc = bt_delete(t, root, ik(x, k), 4);
				ck_assert(rc == RDB_OK || rc == RDB_NOTFOUND);
			} else {
				OK(bt_upsert(t, root, ik(x, k), 4, "x", 1,
					     NULL));
			}
		}
		verify(t, root);
		OK(pager_commit(t));
		OK(pager_close(p));
		OK(mem->remove(mem, path, &err));
	}
}
END_TEST

/* ==== faults =========================================================== */

/* Load 2000 keys with fault injection armed by arm(); returns the rc of
 * the load and its commit.  On failure the transaction is rolled back and
 * the file must be as before: the tree empty, no page added. */
static rdb_rc fault_trial(uint32_t cache, void (*arm)(long), long n,
			  int *fired)
{
	pager *p = open_db(512, cache);
	rdb_pgno root = new_tree(p), pages;
	uint64_t rng = 7;
	size_t nk = 2000;
	kv *keys = make_keys(&nk, 512, &rng);
	pager_txn *t = begin(p, 0);
	uint32_t nfree;
	rdb_rc rc;
	bt_stats st;

	pages = pager_txn_page_count(t);
	nfree = pager_txn_free_count(t);
	OK(pager_commit(t));
	t = begin(p, 1);
	arm(n);
	rc = load_all(t, root, 100, keys, nk);
	if (rc != RDB_OK) {
		ck_assert_msg(err.msg[0] != '\0', "error %d without message",
			      rc);
		pager_rollback(t);
	} else {
		rc = pager_commit(t);     /* ends t, also on failure */
	}
	*fired = rdb_mem_failed() || os_mem_fault_fired(mem);
	arm(0);
	ck_assert_msg(rc == RDB_OK || rc == RDB_NOMEM || rc == RDB_IOERR ||
		      rc == RDB_FULL, "fault %ld: rc %d (%s)", n, rc, err.msg);
	/* A pager that met an I/O error may refuse to close cleanly; the
	 * reopen then recovers from the file as a crash would leave it. */
	if (pager_close(p) != RDB_OK)
		os_mem_restart(mem);
	p = open_db(512, cache);
	t = begin(p, 0);
	st = verify(t, root);
	if (rc == RDB_OK) {
		ck_assert_uint_eq(st.keys, nk);
		same_entries(t, root, keys, nk);
	} else {
		ck_assert_uint_eq(st.keys, 0);
		ck_assert_uint_eq(st.leaves, 1);
		ck_assert_uint_eq(pager_txn_page_count(t), pages);
		ck_assert_uint_eq(pager_txn_free_count(t), nfree);
	}
	OK(pager_commit(t));
	OK(pager_close(p));
	OK(mem->remove(mem, path, &err));
	free_keys(keys, nk);
	return rc;
}

static void arm_mem(long n)
{
	rdb_mem_fail_at(n, 0);
}

static void arm_eio(long n)
{
	os_mem_set_fault(mem, n ? OS_FAULT_EIO : OS_FAULT_NONE, (uint64_t)n,
			 1, 1);
}

START_TEST(test_btload_nomem_anywhere_is_clean_and_rolls_back)
{
	long n, failures = 0;
	int fired = 1;

	for (n = 1; fired; n++) {
		if (fault_trial(4096, arm_mem, n, &fired) != RDB_OK)
			failures++;
		ck_assert_int_lt(n, 100000);
	}
	ck_assert_int_gt(failures, 10);
}
END_TEST

/* A small cache makes the load spill pages to the WAL, so I/O fails
 * inside the load as well as at commit. */
START_TEST(test_btload_io_error_anywhere_is_clean_and_rolls_back)
{
	long n, failures = 0, step = tu_scale() < 1 ? 3 : 1;
	int fired = 1;

	for (n = 1; fired; n += step) {
		if (fault_trial(32, arm_eio, n, &fired) != RDB_OK)
			failures++;
		ck_assert_int_lt(n, 100000);
	}
	ck_assert_int_gt(failures, 10);
}
END_TEST

/* ==== suite ============================================================ */

Suite *btload_suite(void)
{
	Suite *s = suite_create("btload");
	TCase *tc = tcase_create("model");

	tcase_set_timeout(tc, 600);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_btload_model_matches_one_by_one_inserts,
			    0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("contract");
	tcase_set_timeout(tc, 300);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc,
		test_btload_bad_keys_are_refused_and_loader_stays_usable);
	tcase_add_test(tc, test_btload_nonempty_tree_or_bad_fill_is_misuse);
	tcase_add_test(tc,
		test_btload_fill_factor_sets_leaf_fill_and_tree_stays_usable);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_set_timeout(tc, 600);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_btload_nomem_anywhere_is_clean_and_rolls_back);
	tcase_add_test(tc,
		test_btload_io_error_anywhere_is_clean_and_rolls_back);
	suite_add_tcase(s, tc);
	return s;
}
