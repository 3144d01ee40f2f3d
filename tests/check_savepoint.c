/*
 * check_savepoint.c -- savepoints inside write transactions
 * (src/pager/pager.h, "savepoints"): the calls' contract (tcase api); a
 * randomized model test of nested savepoints over page writes,
 * allocations, frees, anchors and spills in a small pool, committed and
 * reopened (model); B+ trees and the KV store rolled back to savepoints
 * (layers); readers running while savepoints roll back (threads); crash
 * trials across transactions that use savepoints (crash); an allocation
 * failure at every allocation of a workload of savepoint operations, and
 * a rollback failing at each of its steps (nomem).
 *
 * Replay: RDB_TEST_SEED=<seed> reruns the randomized tests.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "btree/btree.h"
#include "kv/kv.h"
#include "pager/pager.h"
#include "format.h"
#include "mem.h"
#include "test_util.h"

#define PS 512u
#define DB "sp.db"
#define MAX_DEPTH 6u

static os_vfs *vfs;
static rdb_err err;

static void setup(void)
{
	vfs = os_mem_new();
	ck_assert_ptr_nonnull(vfs);
	rdb_err_clear(&err);
}

static void teardown(void)
{
	rdb_mem_fail_at(0, 0);
	os_mem_free(vfs);
}

static pager_opts opts(uint32_t cache, uint32_t ckpt)
{
	pager_opts o;

	pager_opts_default(&o);
	o.page_size = PS;
	o.cache_pages = cache;
	o.ckpt_frames = ckpt;
	o.sync = PAGER_SYNC_NORMAL;
	return o;
}

static pager *open_ok(const pager_opts *o)
{
	pager *p = NULL;
	rdb_rc rc = pager_open(vfs, DB, o, &err, &p);

	ck_assert_msg(rc == RDB_OK, "open: rc %d: %s", rc, err.msg);
	return p;
}

static pager_txn *begin_ok(pager *p, int write)
{
	pager_txn *t = NULL;
	rdb_rc rc = pager_begin(p, write, &err, &t);

	ck_assert_msg(rc == RDB_OK, "begin: rc %d: %s", rc, err.msg);
	return t;
}

#define OK(call) do { rdb_rc rc_ = (call); \
	ck_assert_msg(rc_ == RDB_OK, "%s: rc %d: %s", #call, rc_, err.msg); \
} while (0)

/* ==== page images ====================================================== *
 * A live page pgno with tag g holds: type FMT_PT_BT_LEAF, u64 g, u32 pgno,
 * then bytes derived from (pgno, g). */

static uint64_t mix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static void page_image(unsigned char *d, uint32_t pgno, uint64_t g)
{
	uint64_t s = mix64((uint64_t)pgno << 40 ^ g) | 1;
	uint32_t i;

	memset(d + FMT_PAGE_TYPE, 0, FMT_PAGE_BODY - FMT_PAGE_TYPE);
	d[FMT_PAGE_TYPE] = FMT_PT_BT_LEAF;
	fmt_put_u64(d + FMT_PAGE_BODY, g);
	fmt_put_u32(d + FMT_PAGE_BODY + 8, pgno);
	for (i = FMT_PAGE_BODY + 12; i + 4 <= PS; i += 4)
		fmt_put_u32(d + i, (uint32_t)(tu_rand(&s) >> 32));
}

/* ==== model of a transaction's pages =================================== */

typedef struct mstate {
	uint64_t *tag;            /* [pgno] tag of a live page, 0 = not live */
	uint32_t cap;
	uint32_t page_count;
	uint64_t anchors[FMT_N_ANCHORS];
} mstate;

static void ms_init(mstate *m)
{
	memset(m, 0, sizeof(*m));
	m->cap = 64;
	m->tag = calloc(m->cap, sizeof(*m->tag));
	m->page_count = 1;
	ck_assert_ptr_nonnull(m->tag);
}

static void ms_free(mstate *m)
{
	free(m->tag);
	m->tag = NULL;
}

static void ms_copy(mstate *dst, const mstate *src)
{
	uint64_t *t = realloc(dst->tag, src->cap * sizeof(*t));

	ck_assert_ptr_nonnull(t);
	memcpy(t, src->tag, src->cap * sizeof(*t));
	*dst = *src;
	dst->tag = t;
}

static void ms_set(mstate *m, uint32_t pgno, uint64_t g)
{
	while (pgno >= m->cap) {
		uint64_t *t = realloc(m->tag, 2 * m->cap * sizeof(*t));

		ck_assert_ptr_nonnull(t);
		memset(t + m->cap, 0, m->cap * sizeof(*t));
		m->tag = t;
		m->cap *= 2;
	}
	m->tag[pgno] = g;
}

static uint32_t ms_live(const mstate *m)
{
	uint32_t i, n = 0;

	for (i = 1; i < m->cap && i < m->page_count; i++)
		n += m->tag[i] != 0;
	return n;
}

/* A random live page, 0 if none. */
static uint32_t ms_pick(const mstate *m, uint64_t *rs)
{
	uint32_t n = ms_live(m), k, i;

	if (n == 0)
		return 0;
	k = (uint32_t)tu_rand_below(rs, n);
	for (i = 1; i < m->page_count && i < m->cap; i++)
		if (m->tag[i] != 0 && k-- == 0)
			return i;
	return 0;
}

/* ==== comparing a transaction with a model ============================= */

typedef struct fwalk {
	const mstate *m;
	uint32_t n, bad;
} fwalk;

static int free_cb(void *arg, rdb_pgno pgno, int is_trunk)
{
	fwalk *w = arg;

	(void)is_trunk;
	w->n++;
	if (pgno < w->m->cap && w->m->tag[pgno] != 0 && w->bad == 0)
		w->bad = pgno;
	return 0;
}

/* 0 if t matches m exactly (page count, anchors, live pages' bytes, and
 * every other page on the free list); else 1 with the reason in why. */
static int ms_differs(pager_txn *t, const mstate *m, char *why, size_t n)
{
	unsigned char want[PS];
	fwalk w = { m, 0, 0 };
	uint32_t i;
	rdb_rc rc;

	if (pager_txn_page_count(t) != m->page_count)
		return snprintf(why, n, "page count %u, model %u",
				pager_txn_page_count(t), m->page_count), 1;
	for (i = 0; i < FMT_N_ANCHORS; i++)
		if (pager_anchor(t, i) != m->anchors[i])
			return snprintf(why, n, "anchor %u differs", i), 1;
	for (i = 1; i < m->page_count; i++) {
		pager_page *pg;
		int same;

		if (i >= m->cap || m->tag[i] == 0)
			continue;
		if ((rc = pager_get(t, i, &pg)) != RDB_OK)
			return snprintf(why, n, "page %u: rc %d: %s", i, rc,
					err.msg), 1;
		page_image(want, i, m->tag[i]);
		same = memcmp(pager_data(pg) + FMT_PAGE_TYPE,
			      want + FMT_PAGE_TYPE, PS - FMT_PAGE_TYPE) == 0;
		pager_unref(pg);
		if (!same)
			return snprintf(why, n, "page %u differs from tag %llu",
					i, (unsigned long long)m->tag[i]), 1;
	}
	if ((rc = pager_freelist_walk(t, free_cb, &w)) != RDB_OK)
		return snprintf(why, n, "free list: rc %d: %s", rc, err.msg), 1;
	if (w.bad != 0 || w.n + ms_live(m) + 1 != m->page_count ||
	    pager_txn_free_count(t) != w.n)
		return snprintf(why, n, "free list: %u pages (header %u), "
				"live page %u on it, %u live, %u pages", w.n,
				pager_txn_free_count(t), w.bad, ms_live(m),
				m->page_count), 1;
	return 0;
}

static void ms_verify(pager_txn *t, const mstate *m, const char *where)
{
	char why[700];

	if (ms_differs(t, m, why, sizeof(why)))
		ck_abort_msg("%s: %s", where, why);
}

/* ==== operations ======================================================= */

/* The savepoint stack of the model: [0] is the state when savepoint 1
 * began, and so on. */
typedef struct mstack {
	mstate lv[MAX_DEPTH];
	uint32_t depth;
} mstack;

static rdb_rc op_alloc(pager_txn *t, mstate *m, uint64_t g)
{
	uint32_t before = pager_txn_page_count(t), pgno;
	pager_page *pg;
	rdb_rc rc = pager_alloc(t, FMT_PT_BT_LEAF, &pg);

	if (rc != RDB_OK)
		return rc;
	pgno = pager_pgno(pg);
	ck_assert(pgno >= 1 && pgno < pager_txn_page_count(t));
	ck_assert(pgno >= m->cap || m->tag[pgno] == 0);
	ck_assert(pager_txn_page_count(t) == before ||
		  (pager_txn_page_count(t) == before + 1 && pgno == before));
	page_image(pager_data(pg), pgno, g);
	pager_unref(pg);
	m->page_count = pager_txn_page_count(t);
	ms_set(m, pgno, g);
	return RDB_OK;
}

static rdb_rc op_rewrite(pager_txn *t, mstate *m, uint32_t pgno, uint64_t g)
{
	pager_page *pg;
	rdb_rc rc = pager_get(t, pgno, &pg);

	if (rc == RDB_OK && (rc = pager_write(t, &pg)) == RDB_OK) {
		page_image(pager_data(pg), pgno, g);
		ms_set(m, pgno, g);
	}
	pager_unref(pg);
	return rc;
}

static rdb_rc op_free(pager_txn *t, mstate *m, uint32_t pgno)
{
	rdb_rc rc = pager_free_page(t, pgno);

	if (rc == RDB_OK)
		ms_set(m, pgno, 0);
	return rc;
}

static rdb_rc op_savepoint(pager_txn *t, const mstate *m, mstack *s)
{
	uint32_t id = 0;
	rdb_rc rc = pager_savepoint(t, &id);

	if (rc != RDB_OK) {
		ck_assert_uint_eq(id, 0);
		return rc;
	}
	ck_assert_uint_eq(id, s->depth + 1);
	ms_copy(&s->lv[s->depth++], m);
	return RDB_OK;
}

static rdb_rc op_release(pager_txn *t, mstack *s, uint32_t id)
{
	rdb_rc rc = pager_savepoint_release(t, id);

	if (rc == RDB_OK)
		s->depth = id - 1;
	return rc;
}

static rdb_rc op_rollback(pager_txn *t, mstate *m, mstack *s, uint32_t id)
{
	rdb_rc rc = pager_savepoint_rollback(t, id);

	if (rc == RDB_OK) {
		s->depth = id;
		ms_copy(m, &s->lv[id - 1]);
	}
	return rc;
}

/* One random operation; *g numbers page versions.  Live pages are kept
 * between lo and hi. */
static rdb_rc random_op(pager_txn *t, mstate *m, mstack *s, uint64_t *rs,
			uint64_t *g, uint32_t lo, uint32_t hi)
{
	uint32_t r = (uint32_t)tu_rand_below(rs, 100), live = ms_live(m);
	uint32_t pgno = ms_pick(m, rs);

	if (r < 30 && pgno != 0)
		return op_rewrite(t, m, pgno, ++*g);
	if (r < 55 && live < hi)
		return op_alloc(t, m, ++*g);
	if (r < 70 && pgno != 0 && live > lo)
		return op_free(t, m, pgno);
	if (r < 75) {
		unsigned i = 2 + (unsigned)tu_rand_below(rs, FMT_N_ANCHORS - 2);
		rdb_rc rc = pager_set_anchor(t, i, ++*g);

		if (rc == RDB_OK)
			m->anchors[i] = *g;
		return rc;
	}
	if (r < 85 && s->depth < MAX_DEPTH)
		return op_savepoint(t, m, s);
	if (r < 92 && s->depth > 0)
		return op_release(t, s,
				  1 + (uint32_t)tu_rand_below(rs, s->depth));
	if (s->depth > 0)
		return op_rollback(t, m, s,
				   1 + (uint32_t)tu_rand_below(rs, s->depth));
	return op_alloc(t, m, ++*g);
}

static void stack_free(mstack *s)
{
	uint32_t i;

	for (i = 0; i < MAX_DEPTH; i++)
		ms_free(&s->lv[i]);
	memset(s, 0, sizeof(*s));
}

/* ==== api ============================================================== */

START_TEST(test_savepoint_read_txn_is_misuse)
{
	pager_opts o = opts(32, 1000);
	pager *p = open_ok(&o);
	pager_txn *t = begin_ok(p, 0);
	uint32_t id = 7;

	ck_assert_int_eq(pager_savepoint(t, &id), RDB_MISUSE);
	ck_assert_uint_eq(id, 0);
	ck_assert_int_eq(pager_savepoint_rollback(t, 1), RDB_MISUSE);
	ck_assert_int_eq(pager_savepoint_release(t, 1), RDB_MISUSE);
	pager_rollback(t);
	OK(pager_close(p));
}
END_TEST

START_TEST(test_savepoint_ids_count_depth_and_bad_ids_are_misuse)
{
	pager_opts o = opts(32, 1000);
	pager *p = open_ok(&o);
	pager_txn *t = begin_ok(p, 1);
	uint32_t a, b, c, d;

	ck_assert_int_eq(pager_savepoint_release(t, 1), RDB_MISUSE);
	OK(pager_savepoint(t, &a));
	OK(pager_savepoint(t, &b));
	OK(pager_savepoint(t, &c));
	ck_assert(a == 1 && b == 2 && c == 3);
	ck_assert_int_eq(pager_savepoint_rollback(t, 0), RDB_MISUSE);
	ck_assert_int_eq(pager_savepoint_rollback(t, 4), RDB_MISUSE);
	OK(pager_savepoint_release(t, 2));          /* closes 2 and 3 */
	ck_assert_int_eq(pager_savepoint_release(t, 3), RDB_MISUSE);
	ck_assert_int_eq(pager_savepoint_rollback(t, 2), RDB_MISUSE);
	OK(pager_savepoint(t, &d));
	ck_assert_uint_eq(d, 2);
	OK(pager_savepoint_rollback(t, 1));         /* 1 stays open */
	OK(pager_savepoint_rollback(t, 1));
	ck_assert_int_eq(pager_savepoint_release(t, 2), RDB_MISUSE);
	OK(pager_savepoint_release(t, 1));
	ck_assert_int_eq(pager_savepoint_release(t, 1), RDB_MISUSE);
	pager_rollback(t);
	OK(pager_close(p));
}
END_TEST

/* The statement case: BEGIN; change A; savepoint; change B, half of C;
 * roll back: A stays, B and C vanish; commit keeps A only. */
START_TEST(test_savepoint_statement_rollback_keeps_earlier_changes)
{
	pager_opts o = opts(32, 1000);
	pager *p = open_ok(&o);
	pager_txn *t = begin_ok(p, 1);
	mstate m, at;
	uint64_t g = 0, v0;
	uint32_t id, i;

	ms_init(&m);
	ms_init(&at);
	for (i = 0; i < 20; i++)
		OK(op_alloc(t, &m, ++g));
	OK(pager_commit(t));
	t = begin_ok(p, 1);
	OK(op_rewrite(t, &m, 3, ++g));
	OK(op_free(t, &m, 5));
	OK(op_alloc(t, &m, ++g));            /* takes page 5 back */
	OK(pager_set_anchor(t, 3, 33));
	m.anchors[3] = 33;
	OK(pager_savepoint(t, &id));
	ms_copy(&at, &m);
	v0 = pager_txn_version(t);
	OK(op_rewrite(t, &m, 3, ++g));       /* dirty before: saved bytes */
	OK(op_rewrite(t, &m, 4, ++g));       /* clean before */
	OK(op_free(t, &m, 6));
	for (i = 0; i < 30; i++)
		OK(op_alloc(t, &m, ++g));
	OK(pager_set_anchor(t, 3, 44));
	m.anchors[3] = 44;
	ms_verify(t, &m, "before the rollback");
	OK(pager_savepoint_rollback(t, id));
	ck_assert(pager_txn_version(t) > v0);
	ms_verify(t, &at, "after the rollback");
	OK(pager_commit(t));
	t = begin_ok(p, 0);
	ms_verify(t, &at, "after commit");
	pager_rollback(t);
	OK(pager_close(p));
	p = open_ok(&o);
	t = begin_ok(p, 0);
	ms_verify(t, &at, "after reopen");
	pager_rollback(t);
	OK(pager_close(p));
	ms_free(&m);
	ms_free(&at);
}
END_TEST

START_TEST(test_savepoint_pinned_page_is_stale_after_rollback)
{
	pager_opts o = opts(16, 1000);
	pager *p = open_ok(&o);
	pager_txn *t = begin_ok(p, 1);
	pager_page *pg, *old;
	mstate m;
	uint64_t g = 0;
	uint32_t id, i;

	ms_init(&m);
	/* A private page pinned across the rollback. */
	OK(pager_savepoint(t, &id));
	OK(pager_alloc(t, FMT_PT_BT_LEAF, &pg));
	OK(pager_savepoint_rollback(t, id));
	ck_assert_uint_eq(pager_txn_page_count(t), 1);
	ck_assert_int_eq(pager_write(t, &pg), RDB_MISUSE);
	pager_unref(pg);
	for (i = 0; i < 60; i++)
		OK(op_alloc(t, &m, ++g));
	OK(pager_commit(t));
	/* A page spilled after the savepoint (a log slot the rollback takes
	 * back), pinned across it. */
	t = begin_ok(p, 1);
	OK(pager_savepoint(t, &id));
	for (i = 1; i <= 60; i++)
		OK(op_rewrite(t, &m, i, ++g));
	OK(pager_get(t, 1, &old));
	OK(pager_savepoint_rollback(t, id));
	ck_assert_int_eq(pager_write(t, &old), RDB_MISUSE);
	pager_unref(old);
	OK(pager_commit(t));
	ms_free(&m);
	OK(pager_close(p));
}
END_TEST

/* A failed pager_savepoint() opens nothing: the first one allocates the
 * journal and its level array, the ninth grows the array. */
START_TEST(test_savepoint_failed_open_changes_nothing)
{
	pager_opts o = opts(32, 1000);
	pager *p = open_ok(&o);
	pager_txn *t = begin_ok(p, 1);
	uint32_t id = 5, i;
	mstate m;
	uint64_t g = 0;

	ms_init(&m);
	OK(op_alloc(t, &m, ++g));
	for (i = 1; i <= 2; i++) {
		rdb_mem_fail_at(i, 0);
		ck_assert_int_eq(pager_savepoint(t, &id), RDB_NOMEM);
		rdb_mem_fail_at(0, 0);
		ck_assert_uint_eq(id, 0);
		ck_assert_int_eq(pager_savepoint_release(t, 1), RDB_MISUSE);
	}
	for (i = 1; i <= 8; i++) {
		OK(pager_savepoint(t, &id));
		ck_assert_uint_eq(id, i);
	}
	OK(op_alloc(t, &m, ++g));
	rdb_mem_fail_at(1, 0);
	ck_assert_int_eq(pager_savepoint(t, &id), RDB_NOMEM);
	rdb_mem_fail_at(0, 0);
	ck_assert_int_eq(pager_savepoint_rollback(t, 9), RDB_MISUSE);
	OK(pager_savepoint(t, &id));
	ck_assert_uint_eq(id, 9);
	OK(pager_savepoint_rollback(t, 1));
	ck_assert_uint_eq(pager_txn_page_count(t), 2);
	OK(pager_commit(t));
	ms_free(&m);
	OK(pager_close(p));
}
END_TEST

/* ==== model ============================================================ */

/* Run txns random transactions of n_ops operations each, committing most,
 * rolling back some, reopening now and then; verify the working state
 * often and the committed state after each transaction. */
static void model_run(uint32_t cache, uint32_t txns, uint32_t n_ops,
		      uint32_t lo, uint32_t hi, uint64_t seed)
{
	pager_opts o = opts(cache, 60);
	pager *p = open_ok(&o);
	mstate m, committed;
	mstack s;
	uint64_t rs = seed, g = 0, spills = 0;
	pager_stats st;
	uint32_t k, i;

	tu_seed_note("savepoint model", seed);
	ms_init(&m);
	ms_init(&committed);
	memset(&s, 0, sizeof(s));
	for (k = 0; k < txns; k++) {
		pager_txn *t;

		pager_set_sync(p, (pager_sync)tu_rand_below(&rs, 3));
		t = begin_ok(p, 1);
		for (i = 0; i < n_ops; i++) {
			rdb_rc rc = random_op(t, &m, &s, &rs, &g, lo, hi);

			ck_assert_msg(rc == RDB_OK, "txn %u op %u: rc %d: %s",
				      k, i, rc, err.msg);
			if (tu_rand_below(&rs, 40) == 0)
				ms_verify(t, &m, "working state");
		}
		ms_verify(t, &m, "end of transaction");
		if (tu_rand_below(&rs, 4) == 0) {
			pager_rollback(t);
			ms_copy(&m, &committed);
		} else {
			OK(pager_commit(t));
			ms_copy(&committed, &m);
		}
		s.depth = 0;
		if (tu_rand_below(&rs, 4) == 0) {
			pager_get_stats(p, &st);
			spills += st.spills;
			OK(pager_close(p));
			p = open_ok(&o);
		}
		t = begin_ok(p, 0);
		ms_verify(t, &committed, "committed state");
		pager_rollback(t);
	}
	pager_get_stats(p, &st);
	spills += st.spills;
	ck_assert_msg(cache > 64 || spills > 0, "no spill happened");
	OK(pager_close(p));
	p = open_ok(&o);
	{
		pager_txn *t = begin_ok(p, 0);

		ms_verify(t, &committed, "after the last reopen");
		pager_rollback(t);
	}
	OK(pager_close(p));
	ms_free(&m);
	ms_free(&committed);
	stack_free(&s);
}

START_TEST(test_savepoint_model_small_pool_matches)
{
	model_run(16, (uint32_t)tu_scaled(30, 4), 300, 40, 300,
		  tu_seed() + 1);
}
END_TEST

START_TEST(test_savepoint_model_large_pool_matches)
{
	model_run(2000, (uint32_t)tu_scaled(20, 3), 400, 10, 200,
		  tu_seed() + 2);
}
END_TEST

/* Rolling back to the same savepoint over and over in one transaction
 * whose pages spill: the WAL does not grow with each statement. */
START_TEST(test_savepoint_repeated_rollback_reuses_log_slots)
{
	pager_opts o = opts(16, 1000000);
	pager *p = open_ok(&o);
	pager_txn *t = begin_ok(p, 1);
	mstate m, at;
	pager_stats st0, st1;
	uint64_t g = 0;
	uint32_t id, i, r;

	ms_init(&m);
	ms_init(&at);
	for (i = 0; i < 200; i++)
		OK(op_alloc(t, &m, ++g));
	OK(pager_commit(t));
	t = begin_ok(p, 1);
	for (i = 1; i < 100; i++)
		OK(op_rewrite(t, &m, i, ++g));
	OK(pager_savepoint(t, &id));
	ms_copy(&at, &m);
	pager_get_stats(p, &st0);
	for (r = 0; r < 10; r++) {
		for (i = 50; i < 200; i++)
			OK(op_rewrite(t, &m, i, ++g));
		OK(pager_savepoint_rollback(t, id));
		ms_copy(&m, &at);
	}
	pager_get_stats(p, &st1);
	ck_assert_msg(st1.wal_frames_now <= st0.wal_frames_now + 160,
		      "log grew from %u to %u frames", st0.wal_frames_now,
		      st1.wal_frames_now);
	ms_verify(t, &at, "after the rollbacks");
	OK(pager_commit(t));
	OK(pager_close(p));
	p = open_ok(&o);
	t = begin_ok(p, 0);
	ms_verify(t, &at, "after reopen");
	pager_rollback(t);
	OK(pager_close(p));
	ms_free(&m);
	ms_free(&at);
}
END_TEST

/* ==== layers: B+ tree and KV =========================================== */

#define NKEYS 3000u

/* The key for i: fixed width so that memcmp order is numeric order. */
static size_t key_of(char *buf, uint32_t i)
{
	return (size_t)snprintf(buf, 16, "k%07u", i);
}

/* Value of key i at version v: length from 0 to ~1500 (overflow pages
 * at 512-byte pages), bytes derived from (i, v). */
static size_t val_of(unsigned char *buf, uint32_t i, uint32_t v)
{
	uint64_t s = mix64((uint64_t)i << 32 | v) | 1;
	size_t n = (size_t)(s % 7 == 0 ? 600 + s % 900 : s % 60), j;

	for (j = 0; j < n; j++)
		buf[j] = (unsigned char)(tu_rand(&s) >> 56);
	return n;
}

/* ver[i]: version of key i, 0 = absent. */
static void bt_check(pager_txn *t, rdb_pgno root, const uint32_t *ver,
		     const char *where)
{
	bt_cursor *c;
	unsigned char want[1600];
	const void *k, *v;
	size_t kl, vl;
	uint32_t i, n = 0, seen = 0;
	rdb_rc rc;

	OK(bt_verify(t, root, NULL, NULL));
	OK(bt_cursor_open(t, root, &c));
	for (i = 0; i < NKEYS; i++)
		n += ver[i] != 0;
	for (rc = bt_first(c); rc == RDB_OK; rc = bt_next(c)) {
		char kb[16];

		OK(bt_key(c, &k, &kl));
		ck_assert_uint_eq(kl, 8);
		memcpy(kb, k, kl);
		kb[kl] = 0;
		i = (uint32_t)atoi(kb + 1);
		ck_assert_msg(i < NKEYS && ver[i] != 0,
			      "%s: key %u should be absent", where, i);
		ck_assert_uint_eq(key_of(kb, i), kl);
		ck_assert(memcmp(kb, k, kl) == 0);
		OK(bt_value(c, &v, &vl));
		ck_assert_uint_eq(vl, val_of(want, i, ver[i]));
		ck_assert_msg(memcmp(v, want, vl) == 0,
			      "%s: key %u has a wrong value", where, i);
		seen++;
	}
	ck_assert_int_eq(rc, RDB_NOTFOUND);
	ck_assert_msg(seen == n, "%s: %u keys, model %u", where, seen, n);
	bt_cursor_close(c);
}

/* The number of the cursor's current key. */
static uint32_t cursor_key(bt_cursor *c)
{
	const void *k;
	size_t kl;
	char kb[16];

	OK(bt_key(c, &k, &kl));
	ck_assert_uint_eq(kl, 8);
	memcpy(kb, k, kl);
	kb[kl] = 0;
	return (uint32_t)atoi(kb + 1);
}

/* The cursor was on key `on` before the tree changed under it: bt_next()
 * goes to the first key after it in ver. */
static void check_next(bt_cursor *c, const uint32_t *ver, uint32_t on)
{
	uint32_t want = on + 1;
	rdb_rc rc = bt_next(c);

	while (want < NKEYS && ver[want] == 0)
		want++;
	if (want == NKEYS) {
		ck_assert_msg(rc == RDB_NOTFOUND, "next after %u: rc %d", on,
			      rc);
		return;
	}
	ck_assert_msg(rc == RDB_OK, "next after %u: rc %d: %s", on, rc,
		      err.msg);
	ck_assert_msg(cursor_key(c) == want, "next after %u: %u, want %u",
		      on, cursor_key(c), want);
}

static rdb_rc bt_op(pager_txn *t, rdb_pgno root, uint32_t *ver,
		    uint64_t *rs, uint32_t *gen)
{
	unsigned char val[1600];
	char kb[16];
	uint32_t i = (uint32_t)tu_rand_below(rs, NKEYS);
	size_t kl = key_of(kb, i), vl;
	rdb_rc rc;

	if (ver[i] != 0 && tu_rand_below(rs, 2) == 0) {
		rc = bt_delete(t, root, kb, kl);
		if (rc == RDB_OK)
			ver[i] = 0;
		return rc;
	}
	vl = val_of(val, i, ++*gen);
	if (ver[i] == 0)
		rc = bt_insert(t, root, kb, kl, val, vl);
	else
		rc = bt_upsert(t, root, kb, kl, val, vl, NULL);
	if (rc == RDB_OK)
		ver[i] = *gen;
	return rc;
}

START_TEST(test_savepoint_btree_rollback_restores_exact_keys)
{
	pager_opts o = opts(24, 200);
	pager *p = open_ok(&o);
	pager_txn *t = begin_ok(p, 1);
	uint32_t *ver = calloc(NKEYS, sizeof(*ver)), gen = 0, i, r;
	uint32_t *saved[MAX_DEPTH], depth = 0, id;
	uint32_t rounds = (uint32_t)tu_scaled(12, 3);
	uint64_t seed = tu_seed() + 3, rs = seed;
	rdb_pgno root;
	bt_cursor *c;
	char kb[16];

	tu_seed_note("savepoint btree", seed);
	for (i = 0; i < MAX_DEPTH; i++)
		saved[i] = calloc(NKEYS, sizeof(*ver));
	OK(bt_create(t, &root));
	for (i = 0; i < NKEYS / 2; i++)
		OK(bt_op(t, root, ver, &rs, &gen));
	OK(pager_commit(t));
	t = begin_ok(p, 1);
	/* A cursor open across every rollback must find its place again. */
	OK(bt_cursor_open(t, root, &c));
	for (r = 0; r < rounds; r++) {
		uint32_t n = 50 + (uint32_t)tu_rand_below(&rs, 600);

		if (depth < MAX_DEPTH && tu_rand_below(&rs, 3) != 0) {
			OK(pager_savepoint(t, &id));
			memcpy(saved[depth++], ver, NKEYS * sizeof(*ver));
		}
		for (i = 0; i < n; i++)
			OK(bt_op(t, root, ver, &rs, &gen));
		if (depth > 0 && tu_rand_below(&rs, 3) != 0) {
			uint32_t on = NKEYS;

			/* Positioned just before the rollback: its leaf is
			 * one the rollback takes back. */
			if (bt_seek_ge(c, kb, key_of(kb, (uint32_t)
			    tu_rand_below(&rs, NKEYS))) == RDB_OK)
				on = cursor_key(c);
			id = 1 + (uint32_t)tu_rand_below(&rs, depth);
			OK(pager_savepoint_rollback(t, id));
			depth = id;
			memcpy(ver, saved[id - 1], NKEYS * sizeof(*ver));
			if (on < NKEYS)
				check_next(c, ver, on);
			bt_check(t, root, ver, "after a rollback");
		} else if (depth > 0 && tu_rand_below(&rs, 2) == 0) {
			OK(pager_savepoint_release(t, depth));
			depth--;
		}
	}
	bt_cursor_close(c);
	bt_check(t, root, ver, "before commit");
	OK(pager_commit(t));
	OK(pager_close(p));
	p = open_ok(&o);
	t = begin_ok(p, 0);
	bt_check(t, root, ver, "after reopen");
	pager_rollback(t);
	OK(pager_close(p));
	for (i = 0; i < MAX_DEPTH; i++)
		free(saved[i]);
	free(ver);
}
END_TEST

/* A tree created inside a savepoint is gone after rolling back to it,
 * and its pages are free again. */
START_TEST(test_savepoint_btree_created_inside_is_gone)
{
	pager_opts o = opts(24, 200);
	pager *p = open_ok(&o);
	pager_txn *t = begin_ok(p, 1);
	uint32_t *ver = calloc(NKEYS, sizeof(*ver)), gen = 0, i, id;
	uint32_t count, nfree;
	uint64_t rs = 99;
	rdb_pgno a, b;

	OK(bt_create(t, &a));
	for (i = 0; i < 500; i++)
		OK(bt_op(t, a, ver, &rs, &gen));
	count = pager_txn_page_count(t);
	nfree = pager_txn_free_count(t);
	OK(pager_savepoint(t, &id));
	OK(bt_create(t, &b));
	{
		uint32_t *v2 = calloc(NKEYS, sizeof(*v2));

		for (i = 0; i < 800; i++)
			OK(bt_op(t, b, v2, &rs, &gen));
		free(v2);
	}
	OK(bt_drop(t, a));
	OK(pager_savepoint_rollback(t, id));
	ck_assert_uint_eq(pager_txn_page_count(t), count);
	ck_assert_uint_eq(pager_txn_free_count(t), nfree);
	bt_check(t, a, ver, "after the rollback");
	OK(pager_freelist_walk(t, NULL, NULL));
	OK(pager_commit(t));
	OK(pager_close(p));
	free(ver);
}
END_TEST

static void kv_check(pager_txn *t, kv_ctx *cx, const uint32_t *ver,
		     uint32_t nk, const char *where)
{
	unsigned char want[1600];
	uint32_t i;

	OK(kv_verify(t, NULL));
	for (i = 0; i < nk; i++) {
		char kb[16];
		size_t kl = key_of(kb, i), vl = 0;
		void *v = NULL;
		rdb_rc rc = kv_get(t, cx, kb, kl, &v, &vl);

		if (ver[i] == 0) {
			ck_assert_msg(rc == RDB_NOTFOUND, "%s: key %u: rc %d",
				      where, i, rc);
			continue;
		}
		ck_assert_msg(rc == RDB_OK, "%s: key %u: rc %d: %s", where,
			      i, rc, err.msg);
		ck_assert_uint_eq(vl, val_of(want, i, ver[i]));
		ck_assert_msg(memcmp(v, want, vl) == 0, "%s: key %u value",
			      where, i);
		rdb_free(v);
	}
}

START_TEST(test_savepoint_kv_rollback_restores_values)
{
	pager_opts o = opts(24, 200);
	pager *p = open_ok(&o);
	pager_txn *t = begin_ok(p, 1);
	enum { NK = 400 };
	uint32_t ver[NK] = { 0 }, saved[MAX_DEPTH][NK], depth = 0;
	uint32_t gen = 0, i, r, id, rounds = (uint32_t)tu_scaled(14, 3);
	uint64_t seed = tu_seed() + 4, rs = seed;
	unsigned char val[1600];
	kv_ctx cx = { 0 };

	tu_seed_note("savepoint kv", seed);
	for (i = 0; i < NK; i += 2) {
		char kb[16];

		ver[i] = ++gen;
		OK(kv_put(t, &cx, kb, key_of(kb, i), val,
			  val_of(val, i, ver[i])));
	}
	OK(pager_commit(t));
	t = begin_ok(p, 1);
	for (r = 0; r < rounds; r++) {
		uint32_t n = 20 + (uint32_t)tu_rand_below(&rs, 300);

		if (depth < MAX_DEPTH && tu_rand_below(&rs, 3) != 0) {
			OK(pager_savepoint(t, &id));
			memcpy(saved[depth++], ver, sizeof(ver));
		}
		for (i = 0; i < n; i++) {
			uint32_t k = (uint32_t)tu_rand_below(&rs, NK);
			char kb[16];
			size_t kl = key_of(kb, k);

			if (ver[k] != 0 && tu_rand_below(&rs, 3) == 0) {
				OK(kv_delete(t, kb, kl, NULL));
				ver[k] = 0;
			} else {
				ver[k] = ++gen;
				OK(kv_put(t, &cx, kb, kl, val,
					  val_of(val, k, ver[k])));
			}
		}
		if (depth > 0 && tu_rand_below(&rs, 3) != 0) {
			id = 1 + (uint32_t)tu_rand_below(&rs, depth);
			OK(pager_savepoint_rollback(t, id));
			depth = id;
			memcpy(ver, saved[id - 1], sizeof(ver));
			kv_check(t, &cx, ver, NK, "after a rollback");
		} else if (depth > 0 && tu_rand_below(&rs, 2) == 0) {
			OK(pager_savepoint_release(t, depth));
			depth--;
		}
	}
	kv_check(t, &cx, ver, NK, "before commit");
	OK(pager_commit(t));
	OK(pager_close(p));
	p = open_ok(&o);
	t = begin_ok(p, 0);
	kv_check(t, &cx, ver, NK, "after reopen");
	pager_rollback(t);
	OK(pager_close(p));
	kv_ctx_free(&cx);
}
END_TEST

/* ==== threads ========================================================== *
 * Readers check every snapshot while the writer rolls savepoints back in
 * a small pool (spills, cut-back log slots): every page in use holds a
 * whole image, and none of the bytes written inside a savepoint that was
 * rolled back (tags with DOOMED set) is ever seen. */

#define DOOMED (1ull << 62)

typedef struct rd_arg {
	pager *p;
	atomic_int stop;
	atomic_int bad;
	atomic_long snapshots;
	char why[600];
} rd_arg;

static int mark_free(void *arg, rdb_pgno pgno, int is_trunk)
{
	(void)is_trunk;
	((unsigned char *)arg)[pgno] = 1;
	return 0;
}

/* 0 if the snapshot of t is whole; else 1 and the reason in a->why. */
static int snapshot_bad(pager_txn *t, rd_arg *a, rdb_err *e)
{
	uint32_t n = pager_txn_page_count(t), i;
	unsigned char *isfree = calloc(n, 1), want[PS];
	int bad = 0;

	ck_assert_ptr_nonnull(isfree);
	if (pager_freelist_walk(t, mark_free, isfree) != RDB_OK) {
		snprintf(a->why, sizeof(a->why), "free list: %s", e->msg);
		bad = 1;
	}
	for (i = 1; i < n && !bad; i++) {
		pager_page *pg;
		uint64_t g;

		if (isfree[i])
			continue;
		if (pager_get(t, i, &pg) != RDB_OK) {
			snprintf(a->why, sizeof(a->why), "page %u: %s", i,
				 e->msg);
			bad = 1;
			break;
		}
		g = fmt_get_u64(pager_data(pg) + FMT_PAGE_BODY);
		page_image(want, i, g);
		if ((g & DOOMED) || memcmp(pager_data(pg) + FMT_PAGE_TYPE,
					   want + FMT_PAGE_TYPE,
					   PS - FMT_PAGE_TYPE) != 0) {
			snprintf(a->why, sizeof(a->why), "page %u: tag %llx",
				 i, (unsigned long long)g);
			bad = 1;
		}
		pager_unref(pg);
	}
	free(isfree);
	return bad;
}

static void *reader(void *arg)
{
	rd_arg *a = arg;
	rdb_err e;

	rdb_err_clear(&e);
	while (!atomic_load(&a->stop) && !atomic_load(&a->bad)) {
		pager_txn *t;

		if (pager_begin(a->p, 0, &e, &t) != RDB_OK) {
			snprintf(a->why, sizeof(a->why), "begin: %s", e.msg);
			atomic_store(&a->bad, 1);
			break;
		}
		if (snapshot_bad(t, a, &e))
			atomic_store(&a->bad, 1);
		pager_rollback(t);
		atomic_fetch_add(&a->snapshots, 1);
	}
	return NULL;
}

START_TEST(test_savepoint_readers_never_see_rolled_back_bytes)
{
	pager_opts o = opts(48, 100);
	pager *p = open_ok(&o);
	pager_txn *t = begin_ok(p, 1);
	mstate m, at;
	mstack s;
	rd_arg a;
	pthread_t th;
	uint64_t seed = tu_seed() + 6, rs = seed, g = 0;
	uint32_t r, i, rounds = (uint32_t)tu_scaled(40, 8), id;

	tu_seed_note("savepoint threads", seed);
	ms_init(&m);
	ms_init(&at);
	memset(&s, 0, sizeof(s));
	for (i = 0; i < 120; i++)
		OK(op_alloc(t, &m, ++g));
	OK(pager_commit(t));
	memset(&a, 0, sizeof(a));
	a.p = p;
	ck_assert_int_eq(pthread_create(&th, NULL, reader, &a), 0);
	for (r = 0; r < rounds && !atomic_load(&a.bad); r++) {
		uint64_t dg;

		t = begin_ok(p, 1);
		for (i = 0; i < 20; i++)
			OK(op_rewrite(t, &m, ms_pick(&m, &rs), ++g));
		OK(pager_savepoint(t, &id));
		ms_copy(&at, &m);
		for (i = 0; i < 150; i++) {
			dg = ++g | DOOMED;
			if (i % 3 == 2)
				OK(op_alloc(t, &m, dg));
			else if (i % 7 == 6)
				OK(op_free(t, &m, ms_pick(&m, &rs)));
			else
				OK(op_rewrite(t, &m, ms_pick(&m, &rs), dg));
		}
		OK(pager_savepoint_rollback(t, id));
		ms_copy(&m, &at);
		OK(op_alloc(t, &m, ++g));
		OK(pager_commit(t));
	}
	atomic_store(&a.stop, 1);
	pthread_join(th, NULL);
	ck_assert_msg(!atomic_load(&a.bad), "reader: %s", a.why);
	ck_assert(atomic_load(&a.snapshots) > 0);
	t = begin_ok(p, 0);
	ms_verify(t, &m, "at the end");
	pager_rollback(t);
	OK(pager_close(p));
	ms_free(&m);
	ms_free(&at);
	stack_free(&s);
}
END_TEST

/* ==== crash ============================================================ *
 * Transactions with savepoints under FULL; a crash, power loss or torn
 * write at a random call.  After reboot and reopen the database must be
 * exactly the last committed state, or the one whose commit was under way
 * when the fault hit. */

static int crash_trial(uint64_t seed, os_fault kind)
{
	pager_opts o = opts(16, 40);
	pager *p;
	mstate m, ok, tried;
	mstack s;
	uint64_t rs = seed, g = 0, at;
	uint32_t k, i;
	char why[700], why2[700];
	pager_txn *t;
	int tried_valid = 0, fired;

	o.sync = PAGER_SYNC_FULL;
	ms_init(&m);
	ms_init(&ok);
	ms_init(&tried);
	memset(&s, 0, sizeof(s));
	p = open_ok(&o);
	at = 1 + tu_rand_below(&rs, 380);  /* the workload makes ~400 */
	os_mem_set_fault(vfs, kind, at, 0, seed);
	for (k = 0; k < 12 && !os_mem_fault_fired(vfs); k++) {
		rdb_rc rc = pager_begin(p, 1, &err, &t);

		if (rc != RDB_OK)
			break;
		for (i = 0; i < 60 && rc == RDB_OK; i++)
			rc = random_op(t, &m, &s, &rs, &g, 10, 120);
		s.depth = 0;
		if (rc != RDB_OK) {
			pager_rollback(t);
			break;
		}
		ms_copy(&tried, &m);
		tried_valid = 1;
		if (pager_commit(t) != RDB_OK)
			break;
		ms_copy(&ok, &m);
		tried_valid = 0;
	}
	fired = os_mem_fault_fired(vfs);
	(void)pager_close(p);
	os_mem_restart(vfs);
	p = open_ok(&o);
	t = begin_ok(p, 0);
	if (ms_differs(t, &ok, why, sizeof(why)) &&
	    (!tried_valid || ms_differs(t, &tried, why2, sizeof(why2))))
		ck_abort_msg("seed %llu fault %d at %llu: neither the last "
			     "commit (%s) nor the attempted one (%s)",
			     (unsigned long long)seed, (int)kind,
			     (unsigned long long)at, why,
			     tried_valid ? why2 : "none");
	pager_rollback(t);
	OK(pager_close(p));
	ms_free(&m);
	ms_free(&ok);
	ms_free(&tried);
	stack_free(&s);
	return fired;
}

START_TEST(test_savepoint_crash_reopens_at_a_commit)
{
	static const os_fault kinds[] = { OS_FAULT_CRASH, OS_FAULT_POWERLOSS,
					  OS_FAULT_TORN };
	uint64_t seed = tu_seed() + 5;
	uint32_t n = (uint32_t)tu_scaled(60, 9), i, fired = 0;

	tu_seed_note("savepoint crash", seed);
	for (i = 0; i < n; i++) {
		os_mem_free(vfs);
		vfs = os_mem_new();
		fired += (uint32_t)crash_trial(seed + i, kinds[i % 3]);
	}
	ck_assert_msg(fired > n / 2, "only %u of %u faults fired", fired, n);
}
END_TEST

/* ==== nomem ============================================================ *
 * A fixed workload inside savepoint 1 with the Nth allocation failing, for
 * every N: after the failure, rolling back to savepoint 1 gives exactly
 * its state and the transaction commits it; if the failure broke a
 * savepoint rollback, the transaction can only be rolled back, and the
 * database keeps its last commit. */

static rdb_rc nomem_workload(pager_txn *t, mstate *m, mstack *s)
{
	uint64_t rs = 0x5eed5eedull, g = 1000;
	uint32_t i, n = (uint32_t)tu_scaled(120, 40);
	rdb_rc rc = RDB_OK;

	for (i = 0; i < n && rc == RDB_OK; i++) {
		rc = random_op(t, m, s, &rs, &g, 20, 90);
		/* Savepoint 1 belongs to the test. */
		if (rc == RDB_OK && s->depth == 0)
			rc = op_savepoint(t, m, s);
	}
	return rc;
}

START_TEST(test_savepoint_nomem_at_each_allocation_rolls_back)
{
	pager_opts o = opts(16, 1000000);
	pager *p = open_ok(&o);
	pager_txn *t = begin_ok(p, 1);
	mstate base, m;
	mstack s;
	uint64_t g = 0;
	long n;
	uint32_t i, broke = 0;
	int done = 0;

	ms_init(&base);
	ms_init(&m);
	memset(&s, 0, sizeof(s));
	for (i = 0; i < 60; i++)
		OK(op_alloc(t, &base, ++g));
	OK(pager_commit(t));
	for (n = 1; !done; n++) {
		rdb_rc rc;

		ck_assert_msg(n < 100000, "the workload never completes");
		ms_copy(&m, &base);
		s.depth = 0;
		t = begin_ok(p, 1);
		OK(op_rewrite(t, &m, 1, ++g));
		OK(op_savepoint(t, &m, &s));
		rdb_mem_fail_at(n, 0);
		rc = nomem_workload(t, &m, &s);
		done = !rdb_mem_failed();
		rdb_mem_fail_at(0, 0);
		ck_assert_msg(rc == RDB_OK || (!done && rc == RDB_NOMEM),
			      "n %ld: rc %d: %s", n, rc, err.msg);
		if (s.depth == 0) {
			/* It released savepoint 1 and failed to open it. */
			pager_rollback(t);
			continue;
		}
		rc = pager_savepoint_rollback(t, 1);
		if (rc != RDB_OK) {
			/* A rollback inside the workload failed. */
			ck_assert_int_eq(rc, RDB_NOMEM);
			ck_assert_int_ne(op_alloc(t, &m, ++g), RDB_OK);
			ck_assert_int_eq(pager_commit(t), RDB_NOMEM);
			broke++;
		} else {
			ms_verify(t, &s.lv[0], "after rolling back");
			OK(op_alloc(t, &s.lv[0], ++g));
			OK(pager_commit(t));
			ms_copy(&base, &s.lv[0]);
		}
		t = begin_ok(p, 0);
		ms_verify(t, &base, "committed");
		pager_rollback(t);
	}
	OK(pager_close(p));
	p = open_ok(&o);
	t = begin_ok(p, 0);
	ms_verify(t, &base, "after reopen");
	pager_rollback(t);
	OK(pager_close(p));
	ms_free(&base);
	ms_free(&m);
	stack_free(&s);
}
END_TEST

/* A rollback that must spill to give pages their frames back (fresh
 * pages, each restored from its copy, more than the pool holds), with the
 * Nth file call (or allocation) failing inside it, for every N: either it
 * succeeds with the savepoint's state, or it fails and leaves a
 * transaction that refuses every change and commit, and rolling it back
 * keeps the last commit. */
static int failing_rollback(pager *p, const mstate *base, uint32_t n, int io)
{
	pager_txn *t = begin_ok(p, 1);
	mstate m, at;
	uint64_t g = 5000;
	uint32_t i, id;
	rdb_rc rc;

	ms_init(&m);
	ms_init(&at);
	ms_copy(&m, base);
	for (i = 0; i < 100; i++)
		OK(op_alloc(t, &m, ++g));
	OK(pager_savepoint(t, &id));
	ms_copy(&at, &m);
	for (i = base->page_count; i < m.page_count; i++)
		OK(op_rewrite(t, &m, i, ++g));
	if (io)
		os_mem_set_fault(vfs, OS_FAULT_EIO, n, 1, 0);
	else
		rdb_mem_fail_at(n, 1);
	rc = pager_savepoint_rollback(t, id);
	os_mem_set_fault(vfs, OS_FAULT_NONE, 0, 0, 0);
	rdb_mem_fail_at(0, 0);
	if (rc == RDB_OK) {
		ms_verify(t, &at, "after the rollback");
		pager_rollback(t);
	} else {
		ck_assert_int_eq(rc, io ? RDB_IOERR : RDB_NOMEM);
		ck_assert_int_eq(op_rewrite(t, &m, 1, ++g), rc);
		ck_assert_int_eq(pager_set_anchor(t, 2, 1), rc);
		ck_assert_int_eq(pager_savepoint_rollback(t, id), rc);
		ck_assert_int_eq(pager_commit(t), rc);
	}
	ms_free(&m);
	ms_free(&at);
	return rc != RDB_OK;
}

START_TEST(test_savepoint_failed_rollback_leaves_only_rollback)
{
	pager_opts o = opts(16, 1000000);
	pager *p = open_ok(&o);
	pager_txn *t = begin_ok(p, 1);
	mstate m;
	uint32_t i, n, failed = 0;
	int io;

	ms_init(&m);
	for (i = 1; i <= 200; i++)
		OK(op_alloc(t, &m, i));
	OK(pager_commit(t));
	for (io = 0; io <= 1; io++) {
		for (n = 1; n < 200 && failing_rollback(p, &m, n, io); n++)
			failed++;
		ck_assert_msg(n < 200, "the rollback never succeeds");
		t = begin_ok(p, 0);
		ms_verify(t, &m, "the last commit");
		pager_rollback(t);
	}
	ck_assert_msg(failed >= 2, "only %u rollbacks failed", failed);
	OK(pager_close(p));
	ms_free(&m);
}
END_TEST

Suite *savepoint_suite(void)
{
	Suite *s = suite_create("savepoint");
	TCase *tc;

	tc = tcase_create("api");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_savepoint_read_txn_is_misuse);
	tcase_add_test(tc, test_savepoint_ids_count_depth_and_bad_ids_are_misuse);
	tcase_add_test(tc,
		test_savepoint_statement_rollback_keeps_earlier_changes);
	tcase_add_test(tc, test_savepoint_pinned_page_is_stale_after_rollback);
	tcase_add_test(tc, test_savepoint_failed_open_changes_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_savepoint_model_small_pool_matches);
	tcase_add_test(tc, test_savepoint_model_large_pool_matches);
	tcase_add_test(tc, test_savepoint_repeated_rollback_reuses_log_slots);
	suite_add_tcase(s, tc);

	tc = tcase_create("layers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_savepoint_btree_rollback_restores_exact_keys);
	tcase_add_test(tc, test_savepoint_btree_created_inside_is_gone);
	tcase_add_test(tc, test_savepoint_kv_rollback_restores_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_savepoint_readers_never_see_rolled_back_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("crash");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_savepoint_crash_reopens_at_a_commit);
	suite_add_tcase(s, tc);

	tc = tcase_create("nomem");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_savepoint_nomem_at_each_allocation_rolls_back);
	tcase_add_test(tc, test_savepoint_failed_rollback_leaves_only_rollback);
	suite_add_tcase(s, tc);
	return s;
}
