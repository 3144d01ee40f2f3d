/*
 * check_btshift.c -- a leaf that overflows beside a neighbour with room
 * moves cells into that neighbour instead of rewriting a window of leaves
 * (src/btree/README.md, "Rebalancing"): both directions at 512- and
 * 4096-byte pages, what changes and what does not, allocation failures
 * in the middle of it, and a randomized model run with cells of every
 * size.  The leaf level is read through bt_int.h (white box).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "btree/btree.h"
#include "btree/bt_int.h"
#include "pager/pager.h"
#include "pager/os.h"
#include "mem.h"
#include "rdb.h"
#include "test_util.h"

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

static const uint32_t page_sizes[] = { 512, 4096 };

static pager *open_db(uint32_t ps)
{
	pager_opts o;
	pager *p = NULL;

	pager_opts_default(&o);
	o.page_size = ps;
	o.cache_pages = 64;
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

/* Key of id: 8 bytes, big-endian, so that keys sort as ids. */
static unsigned char *ikey(uint64_t v, unsigned char k[8])
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		k[i] = (unsigned char)v;
	return k;
}

/* ---- the leaf level ------------------------------------------------- */

#define MAX_LEAVES 64

typedef struct leaves {
	uint32_t n;
	rdb_pgno pgno[MAX_LEAVES];
	uint32_t cells[MAX_LEAVES];
	uint32_t used[MAX_LEAVES];      /* cells plus slots */
} leaves;

/* The leaves of tree root from left to right (the leftmost leaf by the
 * first children, then the next links). */
static leaves leaf_level(pager_txn *t, rdb_pgno root)
{
	uint32_t ps = pager_page_size(pager_txn_pager(t));
	rdb_pgno pg = root;
	pager_page *p;
	leaves L;

	memset(&L, 0, sizeof(L));
	for (;;) {
		unsigned char *d;

		OK(pager_get(t, pg, &p));
		d = pager_data(p);
		if (nd_is_leaf(d)) {
			pager_unref(p);
			break;
		}
		OK(nd_child(d, ps, pg, 0, &pg, &err));
		pager_unref(p);
	}
	while (pg != 0) {
		unsigned char *d;

		ck_assert_uint_lt(L.n, MAX_LEAVES);
		OK(pager_get(t, pg, &p));
		d = pager_data(p);
		L.pgno[L.n] = pg;
		L.cells[L.n] = nd_n(d);
		L.used[L.n] = nd_used(d, ps);
		L.n++;
		pg = fmt_get_u32(d + BT_LINK_B);
		pager_unref(p);
	}
	return L;
}

/* ---- a tree of five leaves ---------------------------------------------
 * Keys are even ids (2i) with 16-byte values, loaded at 100% fill, so an
 * odd id fits between any two keys.  per is the number of such cells a
 * leaf holds. */

#define VLEN 16u

static uint32_t per_leaf(uint32_t ps)
{
	return bt_usable(ps) / (bt_leaf_cell_size(ps, 8, VLEN) + 2);
}

static void value_of(uint64_t id, unsigned char *v)
{
	uint32_t i;

	for (i = 0; i < VLEN; i++)
		v[i] = (unsigned char)(id * 7 + i);
}

/* Load even ids 0, 2, .. 2(n-1) into a new tree; its root. */
static rdb_pgno load_even(pager *p, uint32_t n)
{
	unsigned char k[8], v[VLEN];
	pager_txn *t = begin(p, 1);
	bt_loader *l = NULL;
	rdb_pgno root;
	uint32_t i;

	OK(bt_create(t, &root));
	OK(bt_load_begin(t, root, 100, &l));
	for (i = 0; i < n; i++) {
		value_of(2 * i, v);
		OK(bt_load_add(l, ikey(2 * i, k), 8, v, VLEN));
	}
	OK(bt_load_finish(l));
	OK(pager_commit(t));
	return root;
}

/* Every key of the tree in order: even ids below 2n but those in gone
 * (one flag per id, NULL: none), plus the odd id extra (0: none). */
static void check_keys(pager_txn *t, rdb_pgno root, uint32_t n,
		       const unsigned char *gone, uint64_t extra)
{
	bt_cursor *c = NULL;
	uint64_t id;
	rdb_rc rc;

	OK(bt_cursor_open(t, root, &c));
	rc = bt_first(c);
	for (id = 0; id < 2 * (uint64_t)n; id++) {
		const void *key, *val;
		unsigned char k[8], v[VLEN];
		size_t kl, vl;

		if (id % 2 ? id != extra : gone != NULL && gone[id / 2])
			continue;
		ck_assert_int_eq(rc, RDB_OK);
		OK(bt_key(c, &key, &kl));
		ck_assert_uint_eq(kl, 8);
		ck_assert_mem_eq(key, ikey(id, k), 8);
		OK(bt_value(c, &val, &vl));
		ck_assert_uint_eq(vl, VLEN);
		value_of(id, v);
		ck_assert_mem_eq(val, v, VLEN);
		rc = bt_next(c);
	}
	ck_assert_int_eq(rc, RDB_NOTFOUND);
	bt_cursor_close(c);
	OK(bt_verify(t, root, NULL, NULL));
}

/* Insert odd id x with the value of x. */
static rdb_rc insert_odd(pager_txn *t, rdb_pgno root, uint64_t x)
{
	unsigned char k[8], v[VLEN];

	value_of(x, v);
	return bt_insert(t, root, ikey(x, k), 8, v, VLEN);
}

/* Leaves a and b hold cells the neighbours' way: as even as whole cells
 * allow (fixed-size cells: counts differ by at most one) and together
 * total cells. */
static void check_even(const leaves *L, uint32_t a, uint32_t b,
		       uint32_t total)
{
	uint32_t x = L->cells[a], y = L->cells[b];

	ck_assert_uint_eq(x + y, total);
	ck_assert_msg(x <= y + 1 && y <= x + 1, "leaves %u and %u hold %u "
		      "and %u cells", a, b, x, y);
}

/* Five leaves, the last one half full; an insert into the full fourth
 * leaf moves cells into the fifth: no page allocated, the first three
 * leaves untouched, every key in place. */
START_TEST(test_btshift_full_leaf_moves_cells_into_right_neighbour)
{
	uint32_t ps = page_sizes[_i], per = per_leaf(ps), n = 4 * per + per / 2;
	pager *p = open_db(ps);
	rdb_pgno root = load_even(p, n), pages;
	uint64_t x = 2 * (3 * (uint64_t)per + per / 2) + 1;
	pager_txn *t = begin(p, 1);
	leaves before = leaf_level(t, root), after;
	uint32_t i;

	ck_assert_uint_eq(before.n, 5);
	for (i = 0; i < 4; i++)
		ck_assert_uint_eq(before.cells[i], per);
	pages = pager_txn_page_count(t);
	OK(insert_odd(t, root, x));
	after = leaf_level(t, root);
	ck_assert_uint_eq(after.n, 5);
	ck_assert_uint_eq(pager_txn_page_count(t), pages);
	for (i = 0; i < 5; i++)
		ck_assert_uint_eq(after.pgno[i], before.pgno[i]);
	for (i = 0; i < 3; i++)
		ck_assert_uint_eq(after.cells[i], per);
	check_even(&after, 3, 4, per + per / 2 + 1);
	check_keys(t, root, n, NULL, x);
	OK(pager_commit(t));
	t = begin(p, 0);
	check_keys(t, root, n, NULL, x);
	OK(pager_commit(t));
	OK(pager_close(p));
}
END_TEST

/* Five full leaves, half of the first deleted; an insert into the full
 * second leaf moves cells into the first (its right neighbour is full). */
START_TEST(test_btshift_full_leaf_moves_cells_into_left_neighbour)
{
	uint32_t ps = page_sizes[_i], per = per_leaf(ps), n = 5 * per, i;
	pager *p = open_db(ps);
	rdb_pgno root = load_even(p, n), pages;
	uint64_t x = 2 * ((uint64_t)per + per / 2) + 1;
	unsigned char k[8], *gone = calloc(n, 1);
	pager_txn *t = begin(p, 1);
	leaves before, after;

	ck_assert_ptr_nonnull(gone);
	for (i = 0; i < per / 2; i++) {
		OK(bt_delete(t, root, ikey(2 * i, k), 8));
		gone[i] = 1;
	}
	OK(pager_commit(t));
	t = begin(p, 1);
	before = leaf_level(t, root);
	ck_assert_uint_eq(before.n, 5);
	ck_assert_uint_eq(before.cells[0], per - per / 2);
	pages = pager_txn_page_count(t);
	OK(insert_odd(t, root, x));
	after = leaf_level(t, root);
	ck_assert_uint_eq(after.n, 5);
	ck_assert_uint_eq(pager_txn_page_count(t), pages);
	for (i = 2; i < 5; i++)
		ck_assert_uint_eq(after.cells[i], per);
	check_even(&after, 0, 1, per - per / 2 + per + 1);
	check_keys(t, root, n, gone, x);
	OK(pager_commit(t));
	OK(pager_close(p));
	free(gone);
}
END_TEST

/* ---- failures in the middle -------------------------------------------
 * Two inserts into a full leaf: one beside a half-full neighbour (the
 * cells shift), one among full leaves (the window spreads over one page
 * more).  Each runs with the nth allocation failing, or the nth file
 * system call failing with an I/O error on a freshly opened database (so
 * that the parent and the neighbours are read from the file), for every n
 * until it succeeds: each failure is RDB_NOMEM or RDB_IOERR and, rolled
 * back, leaves the committed tree as it was. */

enum { F_NOMEM, F_EIO, N_FAULTS };

/* One attempt of inserting x with fault `at` of kind f armed; the rc. */
static rdb_rc faulty_insert(pager *p, rdb_pgno root, uint64_t x, int f,
			    long at)
{
	pager_txn *t = begin(p, 1);
	rdb_rc rc;

	if (f == F_NOMEM)
		rdb_mem_fail_at(at, 0);
	else
		os_mem_set_fault(mem, OS_FAULT_EIO, (uint64_t)at, 0, 1);
	rc = insert_odd(t, root, x);
	rdb_mem_fail_at(0, 0);
	os_mem_set_fault(mem, OS_FAULT_NONE, 0, 0, 0);
	if (rc == RDB_OK)
		OK(pager_commit(t));
	else
		pager_rollback(t);
	return rc;
}

static void fault_loop(uint32_t ps, uint32_t n, uint64_t x, int f)
{
	pager *p = open_db(ps);
	rdb_pgno root = load_even(p, n);
	pager_txn *t = begin(p, 0);
	leaves before = leaf_level(t, root), after;
	long at, fails = 0;
	rdb_rc rc = RDB_NOMEM;

	OK(pager_commit(t));
	for (at = 1; rc != RDB_OK; at++) {
		ck_assert_int_lt(at, 5000);
		if (f == F_EIO) {          /* a cold pool: pages come from the file */
			OK(pager_close(p));
			p = open_db(ps);
		}
		rc = faulty_insert(p, root, x, f, at);
		if (rc == RDB_OK)
			break;
		ck_assert_msg(rc == (f == F_NOMEM ? RDB_NOMEM : RDB_IOERR),
			      "fault %d at %ld: rc %d: %s", f, at, (int)rc,
			      err.msg);
		fails++;
		t = begin(p, 0);
		after = leaf_level(t, root);
		ck_assert_mem_eq(&after, &before, sizeof(after));
		check_keys(t, root, n, NULL, 0);
		OK(pager_commit(t));
	}
	t = begin(p, 0);
	check_keys(t, root, n, NULL, x);
	OK(pager_commit(t));
	OK(pager_close(p));
	fprintf(stderr, "btshift faults (%u-byte pages, %s): %ld failed "
		"attempts\n", ps, f == F_NOMEM ? "memory" : "I/O", fails);
	/* The shift allocates nothing; everything else fails somewhere. */
	ck_assert(fails > 0 || f == F_NOMEM);
}

START_TEST(test_btshift_faults_during_shift_keep_committed_tree)
{
	uint32_t ps = page_sizes[_i / N_FAULTS], per = per_leaf(ps);

	fault_loop(ps, 4 * per + per / 2, 2 * (3 * (uint64_t)per + per / 2) + 1,
		   _i % N_FAULTS);
}
END_TEST

START_TEST(test_btshift_faults_during_spread_keep_committed_tree)
{
	uint32_t ps = page_sizes[_i / N_FAULTS], per = per_leaf(ps);

	fault_loop(ps, 5 * per, 2 * (2 * (uint64_t)per + per / 2) + 1,
		   _i % N_FAULTS);
}
END_TEST

/* A full root leaf with two cells deleted (their bytes are fragments)
 * and the length of another damaged: an insert that needs the page
 * compacted says RDB_CORRUPT naming the page instead of moving bytes by
 * the damaged length. */
START_TEST(test_btshift_compacting_damaged_leaf_is_corrupt_not_crash)
{
	uint32_t ps = page_sizes[_i], per = per_leaf(ps);
	pager *p = open_db(ps);
	rdb_pgno root = load_even(p, per);
	pager_txn *t = begin(p, 1);
	unsigned char k[8], *d;
	pager_page *pg = NULL;
	char want[32];

	OK(bt_delete(t, root, ikey(0, k), 8));
	OK(bt_delete(t, root, ikey(2, k), 8));
	OK(pager_get(t, root, &pg));
	OK(pager_write(t, &pg));
	d = pager_data(pg);
	ck_assert(nd_is_leaf(d));
	ck_assert_uint_lt(nd_gap(d), bt_leaf_cell_size(ps, 8, VLEN) + 2);
	memset(d + nd_off(d, 0), 0xff, 3);     /* an over-long varint */
	pager_unref(pg);
	ck_assert_int_eq(insert_odd(t, root, 2 * (uint64_t)(per / 2) + 1),
			 RDB_CORRUPT);
	snprintf(want, sizeof(want), "page %u", root);
	ck_assert_ptr_nonnull(strstr(err.msg, want));
	pager_rollback(t);
	OK(pager_close(p));
}
END_TEST

/* ---- randomized: cells of every size ----------------------------------
 * Random inserts (mostly), replacements and deletes of ids below NIDS,
 * with values from empty to past the page size (overflow chains), against
 * a model of each id's value length; the tree is verified often and read
 * back whole now and then. */

#define NIDS 3000u

static size_t key_len(uint32_t id)
{
	return 4 + id % 13;                 /* 4 .. 16 bytes */
}

static void make_key(uint32_t id, unsigned char *k)
{
	size_t i;

	ikey((uint64_t)id << 32, k);        /* 4 bytes of id, then filler */
	for (i = 4; i < key_len(id); i++)
		k[i] = (unsigned char)(id * 31 + i);
}

static void make_val(uint32_t id, uint32_t len, uint32_t gen,
		     unsigned char *v)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		v[i] = (unsigned char)(id ^ gen ^ (i * 13));
}

typedef struct ment {
	uint32_t len, gen;       /* len UINT32_MAX: absent */
} ment;

/* The whole tree against the model. */
static void model_check(pager_txn *t, rdb_pgno root, const ment *m,
			unsigned char *buf)
{
	unsigned char k[16];
	bt_cursor *c = NULL;
	uint32_t id;
	rdb_rc rc;

	OK(bt_verify(t, root, NULL, NULL));
	OK(bt_cursor_open(t, root, &c));
	rc = bt_first(c);
	for (id = 0; id < NIDS; id++) {
		const void *key, *val;
		size_t kl, vl;

		if (m[id].len == UINT32_MAX)
			continue;
		ck_assert_int_eq(rc, RDB_OK);
		OK(bt_key(c, &key, &kl));
		make_key(id, k);
		ck_assert_uint_eq(kl, key_len(id));
		ck_assert_mem_eq(key, k, kl);
		OK(bt_value(c, &val, &vl));
		ck_assert_uint_eq(vl, m[id].len);
		make_val(id, m[id].len, m[id].gen, buf);
		ck_assert(vl == 0 || memcmp(val, buf, vl) == 0);
		rc = bt_next(c);
	}
	ck_assert_int_eq(rc, RDB_NOTFOUND);
	bt_cursor_close(c);
}

/* A value length: mostly small (many cells to a leaf), sometimes up to a
 * quarter page (few, uneven cells), rarely past a page (overflow). */
static uint32_t rand_len(uint64_t *rng, uint32_t ps)
{
	uint64_t r = tu_rand_below(rng, 100);

	if (r < 70)
		return (uint32_t)tu_rand_below(rng, 40);
	if (r < 97)
		return (uint32_t)tu_rand_below(rng, ps / 4);
	return (uint32_t)tu_rand_below(rng, 3 * ps);
}

static void model_step(pager_txn *t, rdb_pgno root, ment *m, uint64_t *rng,
		       uint32_t ps, unsigned char *buf)
{
	uint32_t id = (uint32_t)tu_rand_below(rng, NIDS), len;
	uint64_t op = tu_rand_below(rng, 10);
	unsigned char k[16];

	make_key(id, k);
	if (op < 2 && m[id].len != UINT32_MAX) {
		OK(bt_delete(t, root, k, key_len(id)));
		m[id].len = UINT32_MAX;
		return;
	}
	len = rand_len(rng, ps);
	make_val(id, len, m[id].gen + 1, buf);
	OK(bt_upsert(t, root, k, key_len(id), buf, len, NULL));
	m[id].len = len;
	m[id].gen++;
}

START_TEST(test_btshift_model_variable_cells_match_and_verify)
{
	uint32_t ps = page_sizes[_i], id;
	uint64_t seed = tu_seed(), rng = seed;
	long n_ops = tu_scaled(30000, 3000), op;
	ment *m = calloc(NIDS, sizeof(*m));
	unsigned char *buf = malloc(3 * 65536);
	pager *p = open_db(ps);
	pager_txn *t = begin(p, 1);
	rdb_pgno root;

	tu_seed_note("btshift model", seed);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(buf);
	for (id = 0; id < NIDS; id++)
		m[id].len = UINT32_MAX;
	OK(bt_create(t, &root));
	for (op = 0; op < n_ops; op++) {
		model_step(t, root, m, &rng, ps, buf);
		if (op % 97 == 0)
			OK(bt_verify(t, root, NULL, NULL));
		if (op % 5000 == 4999) {
			model_check(t, root, m, buf);
			OK(pager_commit(t));
			t = begin(p, 1);
		}
	}
	model_check(t, root, m, buf);
	OK(pager_commit(t));
	OK(pager_close(p));
	free(buf);
	free(m);
}
END_TEST

Suite *btshift_suite(void)
{
	Suite *s = suite_create("btshift");
	TCase *tc = tcase_create("shift");
	int n = (int)(sizeof(page_sizes) / sizeof(page_sizes[0]));

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc,
		test_btshift_full_leaf_moves_cells_into_right_neighbour, 0, n);
	tcase_add_loop_test(tc,
		test_btshift_full_leaf_moves_cells_into_left_neighbour, 0, n);
	tcase_add_loop_test(tc,
		test_btshift_faults_during_shift_keep_committed_tree, 0,
		n * N_FAULTS);
	tcase_add_loop_test(tc,
		test_btshift_faults_during_spread_keep_committed_tree, 0,
		n * N_FAULTS);
	tcase_add_loop_test(tc,
		test_btshift_compacting_damaged_leaf_is_corrupt_not_crash, 0, n);
	tcase_add_loop_test(tc,
		test_btshift_model_variable_cells_match_and_verify, 0, n);
	suite_add_tcase(s, tc);
	return s;
}
