/*
 * check_btseek.c -- B+ tree seeks from a positioned cursor
 * (src/btree/cursor.c, seek_in_leaf(): in a read transaction a seek whose
 * key lies within the pinned leaf's keys stays in that leaf).  A random
 * model test: trees of random keys (short and long, several page sizes),
 * then sequences of GE and LE seeks -- ascending near existing keys (the
 * index-join pattern), random, exact hits, keys past both ends --
 * interleaved with steps, in read and in write transactions, each
 * compared with a sorted array.  Case: model.
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
		o.cache_pages = 64;
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

Suite *btseek_suite(void)
{
	Suite *s = suite_create("btseek");
	TCase *tc = tcase_create("model");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_btseek_seeks_from_a_leaf_match_model);
	suite_add_tcase(s, tc);
	return s;
}
