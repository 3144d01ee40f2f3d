/*
 * check_btree.c -- the B+ tree's contract (src/btree/btree.h).  Cases:
 * basic (codes, sizes, overflow values, several trees, drop, no leaks),
 * cursor (walks, seeks, changes under a cursor, snapshots, rollback),
 * model (random operations against a sorted array at three page sizes),
 * space (fill of an ascending load, delete-all, reload), concurrency
 * (readers beside one writer; CI runs it under ThreadSanitizer) and
 * corrupt (damaged pages: RDB_CORRUPT, never a wrong answer or a crash).
 * Design of the tree: src/btree/README.md; bytes: docs/format.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>
#include "btree/btree.h"
#include "pager/pager.h"
#include "format.h"
#include "mem.h"
#include "test_util.h"

/* ==== fixture ========================================================= */

static char path[256];     /* the current test's database */
static rdb_err err;        /* borrowed by the pager and main-thread txns */
static os_vfs *mem;        /* a fresh in-memory file system */

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

/* ==== helpers: return codes, pager ===================================== */

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

static pager_opts db_opts(uint32_t ps, uint32_t cache, pager_sync sync)
{
	pager_opts o;

	pager_opts_default(&o);
	o.page_size = ps;
	o.cache_pages = cache;
	o.sync = sync;
	return o;
}

static pager *open_on(os_vfs *v, uint32_t ps, uint32_t cache,
		      pager_sync sync)
{
	pager_opts o = db_opts(ps, cache, sync);
	pager *p = NULL;

	OK(pager_open(v, path, &o, &err, &p));
	ck_assert_ptr_nonnull(p);
	return p;
}

/* The usual database: in memory, sync NORMAL. */
static pager *open_db(uint32_t ps, uint32_t cache)
{
	return open_on(mem, ps, cache, PAGER_SYNC_NORMAL);
}

static void close_db(pager *p)
{
	OK(pager_close(p));
}

/* Remove the (closed) database, so that the next open creates a new one
 * with its own page size. */
static void remove_db(void)
{
	char wal[300];

	snprintf(wal, sizeof(wal), "%s-wal", path);
	OK(mem->remove(mem, path, &err));
	OK(mem->remove(mem, wal, &err));
}

static pager_txn *begin(pager *p, int write)
{
	pager_txn *t = NULL;

	OK(pager_begin(p, write, &err, &t));
	ck_assert_ptr_nonnull(t);
	return t;
}

static void commit(pager_txn *t)
{
	OK(pager_commit(t));
}

static rdb_pgno create_tree(pager_txn *t)
{
	rdb_pgno root = 0;

	OK(bt_create(t, &root));
	ck_assert_uint_ne(root, 0);
	return root;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ==== helpers: keys and values ========================================= */

/* 8-byte big-endian integer key, so memcmp order is numeric order. */
static unsigned char *ikey(uint64_t v, unsigned char k[8])
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		k[i] = (unsigned char)v;
	return k;
}

static uint64_t ikey_get(const unsigned char *k)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | k[i];
	return v;
}

/* Byte i of the value named tag: not periodic at any page size, so an
 * overflow page read in the wrong place shows. */
static unsigned char vbyte(uint64_t tag, size_t i)
{
	uint32_t v = (uint32_t)i * 2654435761u + (uint32_t)tag * 40503u;

	return (unsigned char)(v >> 24 ^ (uint32_t)(i >> 16) ^
			       (uint32_t)(tag >> 3));
}

static void vfill(unsigned char *b, size_t n, uint64_t tag, size_t off)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = vbyte(tag, off + i);
}

/* A value of n bytes named tag; caller frees with free(). */
static unsigned char *vmake(size_t n, uint64_t tag)
{
	unsigned char *b = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(b);
	vfill(b, n, tag, 0);
	return b;
}

/* memcmp order, a proper prefix first (the tree's key order). */
static int key_cmp(const void *a, size_t an, const void *b, size_t bn)
{
	size_t m = an < bn ? an : bn;
	int c = m ? memcmp(a, b, m) : 0;

	if (c != 0)
		return c;
	return an < bn ? -1 : an > bn;
}

/* bt_get must give exactly (v, vl). */
static void expect_val(pager_txn *t, rdb_pgno root, const void *k, size_t kl,
		       const void *v, size_t vl)
{
	void *got = NULL;
	size_t n = 0;

	OK(bt_get(t, root, k, kl, &got, &n));
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(n, vl);
	ck_assert(vl == 0 || memcmp(got, v, vl) == 0);
	rdb_free(got);
}

/* bt_get must say RDB_NOTFOUND with NULL/0 out-parameters. */
static void expect_missing(pager_txn *t, rdb_pgno root, const void *k,
			   size_t kl)
{
	void *got = &got;
	size_t n = 7;

	RC(RDB_NOTFOUND, bt_get(t, root, k, kl, &got, &n));
	ck_assert_ptr_null(got);
	ck_assert_uint_eq(n, 0);
}

/* The cursor must be on (k, v). */
static void expect_at(bt_cursor *c, const void *k, size_t kl, const void *v,
		      size_t vl)
{
	const void *ck, *cv;
	size_t ckl, cvl;

	ck_assert(bt_valid(c));
	OK(bt_key(c, &ck, &ckl));
	ck_assert_uint_eq(ckl, kl);
	ck_assert(kl == 0 || memcmp(ck, k, kl) == 0);
	if (v == NULL)
		return;
	OK(bt_value_size(c, &cvl));
	ck_assert_uint_eq(cvl, vl);
	OK(bt_value(c, &cv, &cvl));
	ck_assert_uint_eq(cvl, vl);
	ck_assert(vl == 0 || memcmp(cv, v, vl) == 0);
}

/* The cursor's key as an integer key. */
static uint64_t cur_ikey(bt_cursor *c)
{
	const void *k;
	size_t kl;

	OK(bt_key(c, &k, &kl));
	ck_assert_uint_eq(kl, 8);
	return ikey_get(k);
}

/* ==== helpers: whole-tree dumps ======================================== */

typedef struct dump {
	unsigned char *b;     /* owned: (klen u64, key, vlen u64, value)* */
	size_t n, cap;
	uint64_t *h;          /* owned: a hash per entry, in key order */
	size_t n_keys, cap_h;
} dump;

static void dump_add(dump *d, const void *p, size_t n)
{
	if (d->n + n > d->cap) {
		d->cap = (d->n + n) * 2 + 64;
		d->b = realloc(d->b, d->cap);
		ck_assert_ptr_nonnull(d->b);
	}
	if (n > 0)
		memcpy(d->b + d->n, p, n);
	d->n += n;
}

static void dump_entry(dump *d, const void *k, size_t kl, const void *v,
		       size_t vl)
{
	uint64_t len = kl;

	if (d->n_keys == d->cap_h) {
		d->cap_h = d->cap_h * 2 + 64;
		d->h = realloc(d->h, d->cap_h * sizeof(*d->h));
		ck_assert_ptr_nonnull(d->h);
	}
	d->h[d->n_keys++] = XXH3_64bits(k, kl) ^ XXH3_64bits(v, vl) * 3;
	dump_add(d, &len, sizeof(len));
	dump_add(d, k, kl);
	len = vl;
	dump_add(d, &len, sizeof(len));
	dump_add(d, v, vl);
}

static void dump_free(dump *d)
{
	free(d->b);
	free(d->h);
	memset(d, 0, sizeof(*d));
}

/* Scan the whole tree forward into d, then backward, and check that the
 * backward scan met the same entries in reverse order. */
static void dump_tree(pager_txn *t, rdb_pgno root, dump *d)
{
	bt_cursor *c = NULL;
	const void *k, *v;
	size_t kl, vl, i;
	rdb_rc rc;

	memset(d, 0, sizeof(*d));
	OK(bt_cursor_open(t, root, &c));
	for (rc = bt_first(c); rc == RDB_OK; rc = bt_next(c)) {
		OK(bt_key(c, &k, &kl));    /* valid until the cursor moves */
		OK(bt_value(c, &v, &vl));
		dump_entry(d, k, kl, v, vl);
	}
	RC(RDB_NOTFOUND, rc);
	ck_assert(!bt_valid(c));
	i = d->n_keys;
	for (rc = bt_last(c); rc == RDB_OK; rc = bt_prev(c)) {
		ck_assert_msg(i > 0, "backward scan has more keys");
		OK(bt_key(c, &k, &kl));
		OK(bt_value(c, &v, &vl));
		i--;
		ck_assert_msg(d->h[i] == (XXH3_64bits(k, kl) ^
					  XXH3_64bits(v, vl) * 3),
			      "backward scan differs at entry %zu", i);
	}
	RC(RDB_NOTFOUND, rc);
	ck_assert_msg(i == 0, "backward scan missed %zu keys", i);
	bt_cursor_close(c);
}

static void expect_same_dump(const dump *a, const dump *b)
{
	ck_assert_uint_eq(a->n_keys, b->n_keys);
	ck_assert_uint_eq(a->n, b->n);
	ck_assert(a->n == 0 || memcmp(a->b, b->b, a->n) == 0);
}

/* ==== helpers: page accounting ========================================= */

typedef struct marks {
	unsigned char *seen;  /* owned: one bit per page of the snapshot */
	rdb_pgno n;           /* pages in the snapshot */
	rdb_pgno clash;       /* first free page also marked elsewhere */
	uint32_t n_free;
} marks;

static int bit_get(const unsigned char *seen, rdb_pgno p)
{
	return seen[p / 8] >> (p % 8) & 1;
}

static uint32_t bits_count(const unsigned char *seen, rdb_pgno n)
{
	uint32_t c = 0;
	rdb_pgno p;

	for (p = 0; p < n; p++)
		c += (uint32_t)bit_get(seen, p);
	return c;
}

static int mark_free(void *arg, rdb_pgno pgno, int is_trunk)
{
	marks *m = arg;

	(void)is_trunk;
	m->n_free++;
	if (pgno == 0 || pgno >= m->n || bit_get(m->seen, pgno)) {
		if (m->clash == 0)
			m->clash = pgno == 0 ? m->n : pgno;
		return 0;
	}
	m->seen[pgno / 8] |= (unsigned char)(1u << (pgno % 8));
	return 0;
}

/* bt_verify one tree into m->seen; returns how many pages it marked. */
static uint32_t verify_into(pager_txn *t, rdb_pgno root, marks *m)
{
	uint32_t before = bits_count(m->seen, m->n);
	bt_stats st;

	OK(bt_verify(t, root, m->seen, &st));
	ck_assert_msg(bit_get(m->seen, root), "root %u not marked", root);
	return bits_count(m->seen, m->n) - before;
}

/* The pages of one tree, counted by bt_verify's bitmap. */
static uint32_t tree_pages(pager_txn *t, rdb_pgno root)
{
	marks m = { NULL, pager_txn_page_count(t), 0, 0 };
	uint32_t n;

	m.seen = calloc(m.n / 8 + 1, 1);
	ck_assert_ptr_nonnull(m.seen);
	n = verify_into(t, root, &m);
	free(m.seen);
	return n;
}

/* Every page 1 .. page_count-1 is in exactly one of the trees or in the
 * free list, and page 0 in none.  Returns the pages the trees hold. */
static uint32_t check_no_leaks(pager_txn *t, const rdb_pgno *roots,
			       int n_roots)
{
	marks m = { NULL, pager_txn_page_count(t), 0, 0 };
	uint32_t in_trees;
	rdb_pgno p;
	int i;

	m.seen = calloc(m.n / 8 + 1, 1);
	ck_assert_ptr_nonnull(m.seen);
	for (i = 0; i < n_roots; i++)
		(void)verify_into(t, roots[i], &m);
	in_trees = bits_count(m.seen, m.n);
	OK(pager_freelist_walk(t, mark_free, &m));
	ck_assert_msg(m.clash == 0, "page %u is free and in a tree (or bad)",
		      m.clash);
	ck_assert_uint_eq(m.n_free, pager_txn_free_count(t));
	ck_assert_msg(!bit_get(m.seen, 0), "page 0 marked");
	for (p = 1; p < m.n; p++)
		ck_assert_msg(bit_get(m.seen, p),
			      "page %u leaked: in no tree and not free "
			      "(page count %u)", p, m.n);
	free(m.seen);
	return in_trees;
}

static bt_stats verify(pager_txn *t, rdb_pgno root)
{
	bt_stats st;

	OK(bt_verify(t, root, NULL, &st));
	return st;
}

/* ==== basic ============================================================ */

START_TEST(test_btree_ops_on_missing_and_present_keys_give_codes)
{
	pager *p = open_db(4096, 0);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t);
	int replaced = -1;

	expect_missing(t, root, "a", 1);
	RC(RDB_NOTFOUND, bt_update(t, root, "a", 1, "x", 1));
	expect_missing(t, root, "a", 1);
	RC(RDB_NOTFOUND, bt_delete(t, root, "a", 1));

	OK(bt_insert(t, root, "a", 1, "one", 3));
	expect_val(t, root, "a", 1, "one", 3);
	rdb_err_clear(&err);
	RC(RDB_CONSTRAINT, bt_insert(t, root, "a", 1, "two", 3));
	ck_assert_int_eq(err.rc, RDB_CONSTRAINT);    /* recorded in the txn */
	ck_assert_str_ne(err.msg, "");
	expect_val(t, root, "a", 1, "one", 3);       /* nothing changed */

	OK(bt_update(t, root, "a", 1, "three", 5));
	expect_val(t, root, "a", 1, "three", 5);

	OK(bt_upsert(t, root, "b", 1, "bee", 3, &replaced));
	ck_assert_int_eq(replaced, 0);
	OK(bt_upsert(t, root, "b", 1, "bees", 4, &replaced));
	ck_assert_int_eq(replaced, 1);
	OK(bt_upsert(t, root, "b", 1, "B", 1, NULL));
	expect_val(t, root, "b", 1, "B", 1);
	OK(bt_upsert(t, root, "c", 1, "C", 1, NULL));

	OK(bt_delete(t, root, "a", 1));
	expect_missing(t, root, "a", 1);
	RC(RDB_NOTFOUND, bt_delete(t, root, "a", 1));
	RC(RDB_NOTFOUND, bt_update(t, root, "a", 1, "x", 1));
	expect_missing(t, root, "a", 1);
	expect_missing(t, root, "bb", 2);
	expect_missing(t, root, "", 0);
	ck_assert_uint_eq(verify(t, root).keys, 2);
	commit(t);

	t = begin(p, 0);                             /* survives the commit */
	expect_val(t, root, "b", 1, "B", 1);
	expect_val(t, root, "c", 1, "C", 1);
	expect_missing(t, root, "a", 1);
	commit(t);
	close_db(p);
}
END_TEST

START_TEST(test_btree_get_buf_copies_or_says_range_with_length)
{
	static const uint32_t sizes[] = { 512, 4096 };
	static const size_t lens[] = { 0, 1, 50, 511, 512, 5000, 70000 };
	unsigned char *buf = malloc(70001), *v;
	unsigned s, i;
	size_t vl;

	ck_assert_ptr_nonnull(buf);
	for (s = 0; s < 2; s++) {
		pager *p = open_db(sizes[s], 64);
		pager_txn *t = begin(p, 1);
		rdb_pgno root = create_tree(t);
		unsigned char k[8];

		for (i = 0; i < 7; i++) {
			v = vmake(lens[i], i);
			OK(bt_insert(t, root, ikey(i, k), 8, v, lens[i]));
			vl = 12345;
			OK(bt_get_buf(t, root, k, 8, buf, lens[i], &vl));
			ck_assert_uint_eq(vl, lens[i]);        /* exact fit */
			ck_assert(memcmp(buf, v, lens[i]) == 0);
			OK(bt_get_buf(t, root, k, 8, buf, 70001, &vl));
			ck_assert_uint_eq(vl, lens[i]);
			ck_assert(memcmp(buf, v, lens[i]) == 0);
			if (lens[i] > 0) {        /* one byte short */
				memset(buf, 0xa5, 70001);
				vl = 0;
				RC(RDB_RANGE, bt_get_buf(t, root, k, 8, buf,
							 lens[i] - 1, &vl));
				ck_assert_uint_eq(vl, lens[i]);
				ck_assert_msg(buf[0] == 0xa5 &&
					      buf[lens[i] / 2] == 0xa5,
					      "RDB_RANGE copied bytes");
			}
			free(v);
		}
		vl = 9;
		RC(RDB_NOTFOUND, bt_get_buf(t, root, "nope", 4, buf, 70001,
					    &vl));
		ck_assert_uint_eq(vl, 0);
		commit(t);
		close_db(p);
		remove_db();
	}
	free(buf);
}
END_TEST

START_TEST(test_btree_key_longer_than_max_toobig_nothing_changes)
{
	static const uint32_t sizes[] = { 512, 4096, 65536 };
	unsigned i;

	for (i = 0; i < 3; i++) {
		uint32_t ps = sizes[i];
		size_t mk = bt_max_key(ps);
		unsigned char *k = malloc(mk + 1);
		pager *p;
		pager_txn *t;
		bt_cursor *c = NULL;
		rdb_pgno root;
		rdb_rc rc;
		void *got = NULL;
		size_t n;

		ck_assert_msg(mk >= ps / 8 && mk <= ps / 2,
			      "bt_max_key(%u) = %zu is not about a quarter",
			      ps, mk);
		ck_assert(i == 0 || mk > bt_max_key(sizes[i - 1]));
		ck_assert_ptr_nonnull(k);
		memset(k, 'k', mk + 1);
		p = open_db(ps, 64);
		t = begin(p, 1);
		root = create_tree(t);
		OK(bt_insert(t, root, k, mk, "max", 3));
		rdb_err_clear(&err);
		RC(RDB_TOOBIG, bt_insert(t, root, k, mk + 1, "v", 1));
		ck_assert_int_eq(err.rc, RDB_TOOBIG);
		ck_assert_str_ne(err.msg, "");
		RC(RDB_TOOBIG, bt_upsert(t, root, k, mk + 1, "v", 1, NULL));
		RC(RDB_TOOBIG, bt_update(t, root, k, mk + 1, "v", 1));
		OK(bt_cursor_open(t, root, &c));
		RC(RDB_TOOBIG, bt_cursor_put(c, k, mk + 1, "v", 1));
		bt_cursor_close(c);
		/* A lookup of a key that cannot exist may say either. */
		rc = bt_get(t, root, k, mk + 1, &got, &n);
		ck_assert_msg(rc == RDB_TOOBIG || rc == RDB_NOTFOUND,
			      "get of too long key: rc %d", rc);
		rc = bt_delete(t, root, k, mk + 1);
		ck_assert_msg(rc == RDB_TOOBIG || rc == RDB_NOTFOUND,
			      "delete of too long key: rc %d", rc);
		/* a value past BT_MAX_VALUE is refused before it is read */
		RC(RDB_TOOBIG, bt_insert(t, root, "v", 1, k,
					 (size_t)BT_MAX_VALUE + 1));
		RC(RDB_TOOBIG, bt_upsert(t, root, "v", 1, k,
					 (size_t)BT_MAX_VALUE + 1, NULL));
		RC(RDB_TOOBIG, bt_update(t, root, k, mk, k,
					 (size_t)BT_MAX_VALUE + 1));
		expect_missing(t, root, "v", 1);
		expect_val(t, root, k, mk, "max", 3);
		ck_assert_uint_eq(verify(t, root).keys, 1);
		commit(t);
		close_db(p);
		remove_db();
		free(k);
	}
}
END_TEST

START_TEST(test_btree_empty_key_and_empty_values_roundtrip)
{
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t);
	bt_cursor *c = NULL;
	const void *v;
	size_t vl = 9;

	OK(bt_insert(t, root, "", 0, "", 0));
	RC(RDB_CONSTRAINT, bt_insert(t, root, "", 0, "x", 1));
	OK(bt_insert(t, root, "\0", 1, "", 0));
	OK(bt_insert(t, root, "a", 1, "", 0));
	expect_val(t, root, "", 0, "", 0);
	expect_val(t, root, "\0", 1, "", 0);
	expect_val(t, root, "a", 1, "", 0);
	commit(t);

	t = begin(p, 1);
	OK(bt_cursor_open(t, root, &c));
	OK(bt_first(c));                     /* "" sorts before "\0" */
	expect_at(c, "", 0, "", 0);
	OK(bt_value_read(c, 0, NULL, 0));
	OK(bt_next(c));
	expect_at(c, "\0", 1, "", 0);
	OK(bt_seek_le(c, "", 0));
	expect_at(c, "", 0, "", 0);
	OK(bt_seek_ge(c, "", 0));
	expect_at(c, "", 0, "", 0);
	RC(RDB_NOTFOUND, bt_prev(c));
	bt_cursor_close(c);

	OK(bt_update(t, root, "", 0, "full", 4));
	expect_val(t, root, "", 0, "full", 4);
	OK(bt_update(t, root, "", 0, "", 0));
	expect_val(t, root, "", 0, "", 0);
	OK(bt_cursor_open(t, root, &c));
	OK(bt_first(c));
	OK(bt_value(c, &v, &vl));
	ck_assert_uint_eq(vl, 0);
	bt_cursor_close(c);
	OK(bt_delete(t, root, "", 0));
	expect_missing(t, root, "", 0);
	expect_val(t, root, "\0", 1, "", 0);
	ck_assert_uint_eq(verify(t, root).keys, 2);
	commit(t);
	close_db(p);
}
END_TEST

/* Key i of a set of max-length keys that differ at the front, the middle
 * or only in the last byte, plus shorter keys that are their prefixes. */
static size_t maxkey(unsigned i, size_t mk, unsigned char *k)
{
	size_t len = i % 5 == 4 ? mk / 2 + i % 7 : mk;

	memset(k, 'p', mk);
	switch (i % 3) {
	case 0:
		k[0] = (unsigned char)(i / 3 * 7);
		k[1] = (unsigned char)(i / 3 / 256);
		break;
	case 1:
		k[mk / 2] = (unsigned char)(i / 3);
		k[mk / 2 + 1] = (unsigned char)(i / 3 / 256);
		break;
	default:
		k[mk - 2] = (unsigned char)(i / 3 / 256);
		k[mk - 1] = (unsigned char)(i / 3);
		break;
	}
	return len;
}

typedef struct kref {
	unsigned char *k;
	size_t kl;
} kref;

static int kref_cmp(const void *a, const void *b)
{
	const kref *x = a, *y = b;

	return key_cmp(x->k, x->kl, y->k, y->kl);
}

START_TEST(test_btree_max_size_keys_sort_and_verify_at_every_page_size)
{
	static const uint32_t sizes[] = { 512, 4096, 65536 };
	static const unsigned counts[] = { 600, 400, 120 };
	unsigned s, i, n_keys;

	for (s = 0; s < 3; s++) {
		size_t mk = bt_max_key(sizes[s]);
		pager *p = open_db(sizes[s], 64);
		pager_txn *t = begin(p, 1);
		rdb_pgno root = create_tree(t);
		kref *ks = calloc(counts[s], sizeof(*ks));
		bt_cursor *c = NULL;
		bt_stats st;
		rdb_rc rc;

		ck_assert_ptr_nonnull(ks);
		for (i = n_keys = 0; i < counts[s]; i++) {
			unsigned char *k = malloc(mk);

			ck_assert_ptr_nonnull(k);
			ks[n_keys].kl = maxkey(i, mk, k);
			ks[n_keys].k = k;
			rc = bt_insert(t, root, k, ks[n_keys].kl, &i,
				       sizeof(i));
			if (rc == RDB_CONSTRAINT) {  /* a repeated short key */
				free(k);
				continue;
			}
			OK(rc);
			n_keys++;
		}
		st = verify(t, root);
		ck_assert_uint_eq(st.keys, n_keys);
		ck_assert_uint_ge(st.depth, 2);
		commit(t);

		qsort(ks, n_keys, sizeof(*ks), kref_cmp);
		t = begin(p, 0);
		OK(bt_cursor_open(t, root, &c));
		for (i = 0, rc = bt_first(c); rc == RDB_OK;
		     rc = bt_next(c), i++) {
			ck_assert_uint_lt(i, n_keys);
			expect_at(c, ks[i].k, ks[i].kl, NULL, 0);
		}
		RC(RDB_NOTFOUND, rc);
		ck_assert_uint_eq(i, n_keys);
		bt_cursor_close(c);
		for (i = 0; i < n_keys; i++) {
			void *v = NULL;
			size_t vl;

			OK(bt_get(t, root, ks[i].k, ks[i].kl, &v, &vl));
			ck_assert_uint_eq(vl, sizeof(unsigned));
			rdb_free(v);
			free(ks[i].k);
		}
		free(ks);
		commit(t);
		close_db(p);
		remove_db();
	}
}
END_TEST

/* Read the value under the cursor whole, at random pieces and in order
 * in random-sized chunks; it must be value tag of length len. */
static void expect_value_pieces(bt_cursor *c, size_t len, uint64_t tag,
				uint32_t ps, uint64_t *rng)
{
	unsigned char *want = vmake(len, tag);
	unsigned char *buf = malloc(len + 1);
	const void *v;
	size_t vl, off, n;
	int i;

	ck_assert_ptr_nonnull(buf);
	OK(bt_value_size(c, &vl));
	ck_assert_uint_eq(vl, len);
	OK(bt_value(c, &v, &vl));
	ck_assert_uint_eq(vl, len);
	ck_assert_msg(len == 0 || memcmp(v, want, len) == 0,
		      "value of %zu bytes differs (page size %u)", len, ps);
	for (i = 0; i < 40; i++) {
		off = (size_t)tu_rand_below(rng, len + 1);
		n = (size_t)tu_rand_below(rng, len - off + 1);
		if (i % 4 == 0)      /* often across a page boundary */
			n = (size_t)tu_rand_below(rng, 2 * ps) %
			    (len - off + 1);
		OK(bt_value_read(c, off, buf, n));
		ck_assert_msg(n == 0 || memcmp(buf, want + off, n) == 0,
			      "bt_value_read(%zu, %zu) of %zu wrong (ps %u)",
			      off, n, len, ps);
	}
	OK(bt_value_read(c, len, buf, 0));
	for (off = 0; off < len; off += n) {
		n = 1 + (size_t)tu_rand_below(rng, 3 * ps);
		if (n > len - off)
			n = len - off;
		OK(bt_value_read(c, off, buf, n));
		ck_assert_msg(memcmp(buf, want + off, n) == 0,
			      "in-order read at %zu of %zu wrong (ps %u)",
			      off, len, ps);
	}
	free(want);
	free(buf);
}

START_TEST(test_btree_overflow_values_read_whole_and_in_pieces)
{
	static const uint32_t sizes[] = { 512, 4096, 65536 };
	uint64_t seed = tu_seed(), rng = seed;
	unsigned s, i;

	tu_seed_note("btree overflow values", seed);
	for (s = 0; s < 3; s++) {
		uint32_t ps = sizes[s];
		size_t lens[] = { 0, 1, 100, ps / 4, ps / 2, ps - 1, ps,
				  ps + 1, 2 * ps, 10 * ps + 3, 200000,
				  (1u << 20) + 5, 3 * (1u << 20) + 17 };
		unsigned n_lens = sizeof(lens) / sizeof(lens[0]);
		pager *p = open_db(ps, 64);
		pager_txn *t = begin(p, 1);
		rdb_pgno root = create_tree(t);
		bt_cursor *c = NULL;
		unsigned char k[8];
		bt_stats st;

		for (i = 0; i < n_lens; i++) {
			unsigned char *v = vmake(lens[i], i + 1000 * s);

			OK(bt_insert(t, root, ikey(i, k), 8, v, lens[i]));
			free(v);
		}
		commit(t);
		close_db(p);                 /* read back from the file */

		p = open_db(ps, 64);
		t = begin(p, 0);
		st = verify(t, root);
		ck_assert_uint_eq(st.keys, n_lens);
		ck_assert_uint_gt(st.overflow_pages, 0);
		OK(bt_cursor_open(t, root, &c));
		for (i = 0; i < n_lens; i++) {
			unsigned char *v = vmake(lens[i], i + 1000 * s);

			expect_val(t, root, ikey(i, k), 8, v, lens[i]);
			free(v);
			OK(bt_seek_ge(c, ikey(i, k), 8));
			expect_value_pieces(c, lens[i], i + 1000 * s, ps,
					    &rng);
		}
		bt_cursor_close(c);
		(void)check_no_leaks(t, &root, 1);
		commit(t);
		close_db(p);
		remove_db();
	}
}
END_TEST

/* Key number i (of klen bytes, klen >= 2 or 0 for the only empty key). */
static void lenkey(unsigned char *k, size_t klen, unsigned i)
{
	memset(k, 'L', klen);
	if (klen >= 2) {
		k[klen - 2] = (unsigned char)(i >> 8);
		k[klen - 1] = (unsigned char)i;
	}
}

/* Every value length from 0 to past two pages, with keys of every class
 * of length: the boundary between inline and overflow values, the part
 * kept in the cell (length mod the chain page's room) and cells that just
 * fit are where sizes go wrong. */
START_TEST(test_btree_values_of_every_length_around_the_page_size)
{
	static const uint32_t sizes[] = { 512, 4096 };
	unsigned char k[2048];
	unsigned s, c, i;

	for (s = 0; s < 2; s++) {
		uint32_t ps = sizes[s];
		size_t mk = bt_max_key(ps);
		size_t klens[] = { 2, 9, mk / 2, mk - 1, mk };
		unsigned n_len = 2 * ps + 40, step = ps == 512 ? 1 : 13;
		pager *p = open_db(ps, 64);
		pager_txn *t = begin(p, 1);
		rdb_pgno root = create_tree(t);

		for (c = 0; c < 5; c++)
			for (i = 0; i < n_len; i += step) {
				unsigned char *v = vmake(i, i * 5 + c);

				lenkey(k, klens[c], i);
				OK(bt_insert(t, root, k, klens[c], v, i));
				free(v);
			}
		ck_assert_uint_eq(verify(t, root).keys, 5 * ((n_len + step -
							     1) / step));
		for (c = 0; c < 5; c++)      /* every length becomes another */
			for (i = 0; i < n_len; i += step) {
				unsigned char *v = vmake(n_len - i, i);

				lenkey(k, klens[c], i);
				OK(bt_update(t, root, k, klens[c], v,
					     n_len - i));
				free(v);
			}
		(void)verify(t, root);
		commit(t);
		t = begin(p, 1);
		for (c = 0; c < 5; c++)
			for (i = 0; i < n_len; i += step) {
				unsigned char *v = vmake(n_len - i, i);

				lenkey(k, klens[c], i);
				expect_val(t, root, k, klens[c], v, n_len - i);
				free(v);
				if (i % 2)
					OK(bt_delete(t, root, k, klens[c]));
			}
		(void)check_no_leaks(t, &root, 1);
		commit(t);
		close_db(p);
		remove_db();
	}
}
END_TEST

/* "Reading a long value in order costs one page read per page": from a
 * cold cache, in 1000-byte pieces, in a read and in a write transaction:
 * one miss per chain page, and page requests linear in the calls. */
START_TEST(test_btree_value_read_in_order_reads_each_page_once)
{
	const size_t len = (size_t)1 << 20, piece = 1000;
	size_t chain = len / (4096 - 20) + 1, calls = (len + piece - 1) / piece;
	unsigned char *v = vmake(len, 5), buf[1000];
	pager *p = open_db(4096, 2000);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t);
	pager_stats a, b;
	bt_cursor *c = NULL;
	size_t off, n;
	int w;

	OK(bt_insert(t, root, "k", 1, v, len));
	commit(t);
	close_db(p);
	for (w = 0; w < 2; w++) {
		p = open_db(4096, 2000);
		t = begin(p, w);
		OK(bt_cursor_open(t, root, &c));
		OK(bt_seek_ge(c, "k", 1));
		pager_get_stats(p, &a);
		for (off = 0; off < len; off += n) {
			n = len - off < piece ? len - off : piece;
			OK(bt_value_read(c, off, buf, n));
			ck_assert(memcmp(buf, v + off, n) == 0);
		}
		pager_get_stats(p, &b);
		ck_assert_msg(b.misses - a.misses <= chain + 1, "%s txn: %llu "
			      "misses for %zu chain pages",
			      w ? "write" : "read",
			      (unsigned long long)(b.misses - a.misses), chain);
		ck_assert_msg(b.hits + b.misses - a.hits - a.misses <=
			      3 * calls + chain, "%s txn: %llu page requests "
			      "for %zu calls", w ? "write" : "read",
			      (unsigned long long)(b.hits + b.misses - a.hits -
						   a.misses), calls);
		bt_cursor_close(c);
		pager_rollback(t);
		close_db(p);
	}
	free(v);
}
END_TEST

/* A 64 MiB value at 4096-byte pages, only at RDB_TEST_SCALE >= 1. */
START_TEST(test_btree_value_64mib_roundtrip_and_delete_frees_pages)
{
	const size_t len = (size_t)64 << 20, chunk = 1 << 20;
	uint64_t seed = tu_seed(), rng = seed;
	unsigned char *v, *buf;
	pager *p;
	pager_txn *t;
	bt_cursor *c = NULL;
	rdb_pgno root;
	const void *cv;
	size_t off, n;
	void *got;
	uint32_t free_before;
	int i;

	if (tu_scale() < 1.0)
		return;
	tu_seed_note("btree 64 MiB value", seed);
	p = open_on(mem, 4096, 2000, PAGER_SYNC_OFF);
	t = begin(p, 1);
	root = create_tree(t);
	v = vmake(len, 64);
	OK(bt_insert(t, root, "big", 3, v, len));
	OK(bt_insert(t, root, "small", 5, "s", 1));
	commit(t);
	free(v);
	close_db(p);

	p = open_on(mem, 4096, 2000, PAGER_SYNC_OFF);
	t = begin(p, 1);
	buf = malloc(chunk);
	ck_assert_ptr_nonnull(buf);
	v = malloc(chunk);
	ck_assert_ptr_nonnull(v);
	OK(bt_cursor_open(t, root, &c));
	OK(bt_seek_ge(c, "big", 3));
	OK(bt_value_size(c, &n));
	ck_assert_uint_eq(n, len);
	for (off = 0; off < len; off += chunk) {
		OK(bt_value_read(c, off, buf, chunk));
		vfill(v, chunk, 64, off);
		ck_assert_msg(memcmp(buf, v, chunk) == 0, "chunk at %zu", off);
	}
	for (i = 0; i < 20; i++) {
		off = (size_t)tu_rand_below(&rng, len);
		n = 1 + (size_t)tu_rand_below(&rng, chunk);
		if (n > len - off)
			n = len - off;
		OK(bt_value_read(c, off, buf, n));
		vfill(v, n, 64, off);
		ck_assert_msg(memcmp(buf, v, n) == 0, "read(%zu, %zu)", off, n);
	}
	OK(bt_value(c, &cv, &n));
	ck_assert_uint_eq(n, len);
	for (off = 0; off < len; off += chunk) {
		vfill(v, chunk, 64, off);
		ck_assert(memcmp((const unsigned char *)cv + off, v,
				 chunk) == 0);
	}
	bt_cursor_close(c);
	OK(bt_get(t, root, "big", 3, &got, &n));
	ck_assert_uint_eq(n, len);
	vfill(v, chunk, 64, len - chunk);
	ck_assert(memcmp((unsigned char *)got + len - chunk, v, chunk) == 0);
	rdb_free(got);

	free_before = pager_txn_free_count(t);
	OK(bt_delete(t, root, "big", 3));
	ck_assert_uint_ge(pager_txn_free_count(t) - free_before, len / 4096);
	expect_val(t, root, "small", 5, "s", 1);
	(void)check_no_leaks(t, &root, 1);
	commit(t);
	close_db(p);
	free(buf);
	free(v);
}
END_TEST

static size_t size_class(uint64_t *rng)
{
	static const size_t sizes[] = { 0, 5, 150, 600, 3000, 20000 };

	return sizes[tu_rand_below(rng, 6)];
}

START_TEST(test_btree_value_size_changes_leak_no_pages)
{
	uint64_t seed = tu_seed(), rng = seed;
	size_t lens[50];
	unsigned char k[8];
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t);
	unsigned i, round;

	tu_seed_note("btree value size changes", seed);
	for (i = 0; i < 50; i++) {
		unsigned char *v = vmake(lens[i] = size_class(&rng), i);

		OK(bt_insert(t, root, ikey(i, k), 8, v, lens[i]));
		free(v);
	}
	commit(t);
	for (round = 1; round <= 30; round++) {
		t = begin(p, 1);
		for (i = 0; i < 50; i++) {
			unsigned char *v;

			lens[i] = size_class(&rng);
			v = vmake(lens[i], i + 50 * round);
			if (round % 2)
				OK(bt_update(t, root, ikey(i, k), 8, v,
					     lens[i]));
			else
				OK(bt_upsert(t, root, ikey(i, k), 8, v,
					     lens[i], NULL));
			free(v);
		}
		for (i = 0; i < 50; i++) {
			unsigned char *v = vmake(lens[i], i + 50 * round);

			expect_val(t, root, ikey(i, k), 8, v, lens[i]);
			free(v);
		}
		(void)check_no_leaks(t, &root, 1);
		commit(t);
	}
	close_db(p);
}
END_TEST

START_TEST(test_btree_trees_in_one_file_stay_independent)
{
	enum { N_TREES = 4, N_KEYS = 1500 };
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno roots[N_TREES];
	unsigned char k[8], v[40];
	unsigned i, j;
	uint32_t free_before, n_tree;

	for (j = 0; j < N_TREES; j++)
		roots[j] = create_tree(t);
	for (i = 0; i < N_KEYS; i++)
		for (j = 0; j < N_TREES; j++) {
			vfill(v, sizeof(v), j * 100000 + i, 0);
			OK(bt_insert(t, roots[j], ikey(i, k), 8, v,
				     10 + (i + j) % 30));
		}
	for (i = 0; i < N_KEYS; i += 2)       /* tree 1 loses even keys */
		OK(bt_delete(t, roots[1], ikey(i, k), 8));
	commit(t);

	t = begin(p, 1);
	ck_assert_uint_eq(verify(t, roots[0]).keys, N_KEYS);
	ck_assert_uint_eq(verify(t, roots[1]).keys, N_KEYS / 2);
	(void)check_no_leaks(t, roots, N_TREES);
	n_tree = tree_pages(t, roots[3]);
	free_before = pager_txn_free_count(t);
	OK(bt_drop(t, roots[3]));
	ck_assert_uint_eq(pager_txn_free_count(t) - free_before, n_tree);
	(void)check_no_leaks(t, roots, N_TREES - 1);
	for (i = 0; i < N_KEYS; i++)
		for (j = 0; j < N_TREES - 1; j++) {
			vfill(v, sizeof(v), j * 100000 + i, 0);
			if (j == 1 && i % 2 == 0)
				expect_missing(t, roots[j], ikey(i, k), 8);
			else
				expect_val(t, roots[j], ikey(i, k), 8, v,
					   10 + (i + j) % 30);
		}
	commit(t);
	close_db(p);
}
END_TEST

/* A tree of n keys at 512-byte pages, every 7th value on overflow pages. */
static void fill_tree(pager_txn *t, rdb_pgno root, unsigned n, uint64_t tag)
{
	unsigned char k[8];
	unsigned i;

	for (i = 0; i < n; i++) {
		size_t len = i % 7 == 0 ? 1200 + i % 900 : i % 40;
		unsigned char *v = vmake(len, tag + i);

		OK(bt_insert(t, root, ikey(i * 3, k), 8, v, len));
		free(v);
	}
}

START_TEST(test_btree_drop_frees_exactly_the_tree_pages)
{
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t), other = create_tree(t), empty;
	rdb_pgno roots[2];
	uint32_t n_tree, free_before, pages;
	dump before, after;
	bt_stats st;

	fill_tree(t, root, 3000, 0);
	fill_tree(t, other, 200, 7);
	commit(t);

	t = begin(p, 1);
	dump_tree(t, root, &before);
	roots[0] = root;
	roots[1] = other;
	(void)check_no_leaks(t, roots, 2);
	st = verify(t, root);
	n_tree = tree_pages(t, root);
	ck_assert_uint_gt(st.depth, 2);
	free_before = pager_txn_free_count(t);
	OK(bt_drop(t, root));
	ck_assert_uint_eq(pager_txn_free_count(t), free_before + n_tree);
	(void)check_no_leaks(t, &other, 1);
	pager_rollback(t);                   /* the drop is undone */

	t = begin(p, 1);
	dump_tree(t, root, &after);
	expect_same_dump(&before, &after);
	dump_free(&after);
	OK(bt_drop(t, root));
	ck_assert_uint_eq(pager_txn_free_count(t), free_before + n_tree);
	empty = create_tree(t);              /* a root of its own */
	free_before = pager_txn_free_count(t);
	OK(bt_drop(t, empty));
	ck_assert_uint_eq(pager_txn_free_count(t), free_before + 1);
	commit(t);

	t = begin(p, 1);
	(void)check_no_leaks(t, &other, 1);
	pages = pager_txn_page_count(t);
	root = create_tree(t);               /* the same again reuses pages */
	fill_tree(t, root, 3000, 0);
	ck_assert_uint_eq(pager_txn_page_count(t), pages);
	dump_tree(t, root, &after);
	expect_same_dump(&before, &after);
	roots[0] = root;
	(void)check_no_leaks(t, roots, 2);
	commit(t);
	dump_free(&before);
	dump_free(&after);
	close_db(p);
}
END_TEST

/* bt_stats counts the pages bt_verify marks: leaves + inners + overflow
 * pages is the tree's page count (the root included, leaf or inner). */
/* Changes need a write transaction: in a read one every change fails
 * (the code is not specified) and the tree stays as it was. */
START_TEST(test_btree_changes_in_read_txn_fail_and_change_nothing)
{
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t), r2 = 0;
	unsigned char k[8];
	bt_cursor *c = NULL;
	dump before, after;

	fill_tree(t, root, 300, 4);
	commit(t);
	t = begin(p, 0);
	dump_tree(t, root, &before);
	ck_assert_int_ne(bt_insert(t, root, "new", 3, "v", 1), RDB_OK);
	ck_assert_int_ne(bt_upsert(t, root, ikey(3, k), 8, "v", 1, NULL),
			 RDB_OK);
	ck_assert_int_ne(bt_update(t, root, ikey(3, k), 8, "v", 1), RDB_OK);
	ck_assert_int_ne(bt_delete(t, root, ikey(3, k), 8), RDB_OK);
	ck_assert_int_ne(bt_create(t, &r2), RDB_OK);
	ck_assert_uint_eq(r2, 0);
	ck_assert_int_ne(bt_drop(t, root), RDB_OK);
	OK(bt_cursor_open(t, root, &c));
	OK(bt_seek_ge(c, ikey(3, k), 8));
	ck_assert_int_ne(bt_cursor_delete(c), RDB_OK);
	ck_assert_int_ne(bt_cursor_put(c, "new", 3, "v", 1), RDB_OK);
	bt_cursor_close(c);
	dump_tree(t, root, &after);
	expect_same_dump(&before, &after);
	dump_free(&after);
	commit(t);
	t = begin(p, 1);
	dump_tree(t, root, &after);
	expect_same_dump(&before, &after);
	(void)check_no_leaks(t, &root, 1);
	commit(t);
	dump_free(&before);
	dump_free(&after);
	close_db(p);
}
END_TEST

START_TEST(test_btree_trees_survive_reopen_on_real_files)
{
	pager *p = open_on(os_unix_vfs(), 4096, 100, PAGER_SYNC_NORMAL);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t);
	dump before, after;
	unsigned char k[8];
	unsigned i;

	fill_tree(t, root, 5000, 3);
	commit(t);
	t = begin(p, 1);
	for (i = 0; i < 5000; i += 2)
		OK(bt_delete(t, root, ikey(i * 3, k), 8));
	dump_tree(t, root, &before);
	commit(t);
	close_db(p);

	p = open_on(os_unix_vfs(), 4096, 100, PAGER_SYNC_NORMAL);
	t = begin(p, 0);
	dump_tree(t, root, &after);
	expect_same_dump(&before, &after);
	ck_assert_uint_eq(after.n_keys, 2500);
	(void)check_no_leaks(t, &root, 1);
	commit(t);
	close_db(p);
	dump_free(&before);
	dump_free(&after);
}
END_TEST

START_TEST(test_btree_verify_stats_count_every_page_of_the_tree)
{
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t);
	bt_stats st;
	unsigned n;

	st = verify(t, root);
	ck_assert_uint_eq(st.leaves + st.inners + st.overflow_pages, 1);
	ck_assert_uint_eq(st.depth, 1);
	for (n = 100; n <= 3000; n *= 30) {
		fill_tree(t, root, n, 0);
		st = verify(t, root);
		ck_assert_uint_eq(st.keys, n);
		ck_assert_uint_gt(st.depth, 1);
		ck_assert_uint_gt(st.overflow_pages, 0);
		ck_assert_msg(st.leaves + st.inners + st.overflow_pages ==
			      tree_pages(t, root), "%u keys: %u leaves + %u "
			      "inners + %u overflow pages, but the tree has "
			      "%u pages", n, st.leaves, st.inners,
			      st.overflow_pages, tree_pages(t, root));
		OK(bt_drop(t, root));
		root = create_tree(t);
	}
	commit(t);
	close_db(p);
}
END_TEST

START_TEST(test_btree_verify_page_already_marked_is_corrupt)
{
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t);
	rdb_pgno n;
	unsigned char *seen;

	fill_tree(t, root, 500, 0);
	n = pager_txn_page_count(t);
	seen = calloc(n / 8 + 1, 1);
	ck_assert_ptr_nonnull(seen);
	OK(bt_verify(t, root, seen, NULL));
	RC(RDB_CORRUPT, bt_verify(t, root, seen, NULL));  /* overlap */
	free(seen);
	commit(t);
	close_db(p);
}
END_TEST

/* Leaves filled completely by an ascending load (and leaves made by a
 * descending one) must take values that grow, shrink and go away. */
START_TEST(test_btree_full_leaves_take_growing_then_shrinking_values)
{
	enum { N = 20000 };
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno up = create_tree(t), down = create_tree(t), roots[2];
	unsigned char k[8], v[300];
	uint64_t i, r;
	unsigned pass;
	bt_stats st;

	for (i = 0; i < N; i++) {
		vfill(v, 16, i, 0);
		OK(bt_insert(t, up, ikey(i, k), 8, v, 16));
		OK(bt_insert(t, down, ikey(N - 1 - i, k), 8, v, 16));
	}
	ck_assert_uint_eq(verify(t, up).keys, N);
	ck_assert_uint_eq(verify(t, down).keys, N);
	for (pass = 0; pass < 3; pass++) {
		static const size_t lens[] = { 120, 3, 290 };

		for (i = 0; i < N; i++) {
			r = (i * 7919 + pass) % N;     /* a shuffled order */
			vfill(v, lens[pass], r + pass, 0);
			OK(bt_update(t, up, ikey(r, k), 8, v, lens[pass]));
			OK(bt_update(t, down, ikey(N - 1 - r, k), 8, v,
				     lens[pass]));
		}
		(void)verify(t, up);
		(void)verify(t, down);
		for (i = 0; i < N; i += 97) {
			vfill(v, lens[pass], i + pass, 0);
			expect_val(t, up, ikey(i, k), 8, v, lens[pass]);
		}
	}
	for (i = 0; i < N; i++) {
		r = (i * 7919) % N;
		if (r % 3)
			OK(bt_delete(t, up, ikey(r, k), 8));
		OK(bt_delete(t, down, ikey(r, k), 8));
	}
	ck_assert_uint_eq(verify(t, up).keys, N / 3 + 1);
	st = verify(t, down);          /* emptied in shuffled order */
	ck_assert_uint_eq(st.keys, 0);
	ck_assert_uint_eq(st.depth, 1);
	ck_assert_uint_eq(st.leaves, 1);
	ck_assert_uint_eq(tree_pages(t, down), 1);
	roots[0] = up;
	roots[1] = down;
	(void)check_no_leaks(t, roots, 2);
	commit(t);
	close_db(p);
}
END_TEST

/* ==== cursor =========================================================== */

START_TEST(test_btree_cursor_on_empty_tree_notfound_everywhere)
{
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t);
	bt_cursor *c = NULL;

	OK(bt_cursor_open(t, root, &c));
	ck_assert(!bt_valid(c));
	RC(RDB_NOTFOUND, bt_first(c));
	ck_assert(!bt_valid(c));
	RC(RDB_NOTFOUND, bt_last(c));
	RC(RDB_NOTFOUND, bt_seek_ge(c, "", 0));
	RC(RDB_NOTFOUND, bt_seek_ge(c, "m", 1));
	RC(RDB_NOTFOUND, bt_seek_le(c, "m", 1));
	RC(RDB_NOTFOUND, bt_seek_le(c, "\xff\xff", 2));
	ck_assert(!bt_valid(c));
	bt_cursor_close(c);
	bt_cursor_close(NULL);

	/* emptied by deletes: the same */
	OK(bt_insert(t, root, "x", 1, "1", 1));
	OK(bt_delete(t, root, "x", 1));
	OK(bt_cursor_open(t, root, &c));
	RC(RDB_NOTFOUND, bt_first(c));
	RC(RDB_NOTFOUND, bt_last(c));
	bt_cursor_close(c);
	commit(t);
	close_db(p);
}
END_TEST

START_TEST(test_btree_cursor_walks_all_keys_forward_and_backward)
{
	enum { N = 5000 };
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t);
	bt_cursor *c = NULL;
	unsigned char k[8], v[8];
	uint64_t i;
	rdb_rc rc;

	for (i = 0; i < N; i++)      /* a shuffled order */
		OK(bt_insert(t, root, ikey((i * 7919) % N * 10, k), 8,
			     ikey((i * 7919) % N, v), 8));
	commit(t);

	t = begin(p, 0);
	OK(bt_cursor_open(t, root, &c));
	for (i = 0, rc = bt_first(c); rc == RDB_OK; rc = bt_next(c), i++)
		expect_at(c, ikey(i * 10, k), 8, ikey(i, v), 8);
	RC(RDB_NOTFOUND, rc);
	ck_assert_uint_eq(i, N);
	ck_assert(!bt_valid(c));
	for (rc = bt_last(c); rc == RDB_OK; rc = bt_prev(c)) {
		i--;
		expect_at(c, ikey(i * 10, k), 8, ikey(i, v), 8);
	}
	RC(RDB_NOTFOUND, rc);
	ck_assert_uint_eq(i, 0);
	/* turning around in the middle */
	OK(bt_seek_ge(c, ikey(2500 * 10, k), 8));
	OK(bt_next(c));
	OK(bt_prev(c));
	OK(bt_prev(c));
	ck_assert_uint_eq(cur_ikey(c), 2499 * 10);
	bt_cursor_close(c);
	commit(t);
	close_db(p);
}
END_TEST

START_TEST(test_btree_cursor_seek_ge_le_at_between_and_outside_keys)
{
	enum { N = 3000 };
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t);
	bt_cursor *c = NULL;
	unsigned char k[8];
	uint64_t i;

	for (i = 1; i <= N; i++)          /* keys 10, 20, ..., N*10 */
		OK(bt_insert(t, root, ikey(i * 10, k), 8, "v", 1));
	OK(bt_cursor_open(t, root, &c));
	for (i = 1; i <= N; i++) {
		OK(bt_seek_ge(c, ikey(i * 10, k), 8));      /* at */
		ck_assert_uint_eq(cur_ikey(c), i * 10);
		OK(bt_seek_le(c, ikey(i * 10, k), 8));
		ck_assert_uint_eq(cur_ikey(c), i * 10);
		OK(bt_seek_le(c, ikey(i * 10 + 5, k), 8)); /* between */
		ck_assert_uint_eq(cur_ikey(c), i * 10);
		if (i < N) {
			OK(bt_seek_ge(c, ikey(i * 10 + 5, k), 8));
			ck_assert_uint_eq(cur_ikey(c), i * 10 + 10);
			OK(bt_prev(c));
			ck_assert_uint_eq(cur_ikey(c), i * 10);
		}
	}
	OK(bt_seek_ge(c, ikey(3, k), 8));                   /* before */
	ck_assert_uint_eq(cur_ikey(c), 10);
	RC(RDB_NOTFOUND, bt_seek_le(c, ikey(3, k), 8));
	ck_assert(!bt_valid(c));
	RC(RDB_NOTFOUND, bt_seek_le(c, "", 0));
	OK(bt_seek_ge(c, "", 0));
	ck_assert_uint_eq(cur_ikey(c), 10);
	RC(RDB_NOTFOUND, bt_seek_ge(c, ikey(N * 10 + 1, k), 8)); /* after */
	ck_assert(!bt_valid(c));
	OK(bt_seek_le(c, ikey(N * 10 + 1, k), 8));
	ck_assert_uint_eq(cur_ikey(c), N * 10);
	RC(RDB_NOTFOUND, bt_next(c));
	/* keys of other lengths: 7 bytes is a prefix, 9 bytes an extension */
	OK(bt_seek_ge(c, ikey(500, k), 7));   /* before 256 .. 511 */
	ck_assert_uint_eq(cur_ikey(c), 260);
	OK(bt_seek_le(c, "\0\0\0\0\0\0\x01\xf4\0", 9));      /* 500 + "\0" */
	ck_assert_uint_eq(cur_ikey(c), 500);
	OK(bt_seek_ge(c, "\0\0\0\0\0\0\x01\xf4\0", 9));
	ck_assert_uint_eq(cur_ikey(c), 510);
	bt_cursor_close(c);
	commit(t);
	close_db(p);
}
END_TEST

START_TEST(test_btree_cursor_seek_on_prefix_keys_follows_memcmp_order)
{
	static const char *keys[] = { "a", "ab", "ab\0", "abc", "abd", "b",
				      "ba", "b\xff" };
	static const size_t lens[] = { 1, 2, 3, 3, 3, 1, 2, 2 };
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t);
	bt_cursor *c = NULL;
	unsigned i;

	for (i = 8; i-- > 0;)
		OK(bt_insert(t, root, keys[i], lens[i], keys[i], lens[i]));
	OK(bt_cursor_open(t, root, &c));
	OK(bt_first(c));
	for (i = 0; i < 8; i++) {
		expect_at(c, keys[i], lens[i], keys[i], lens[i]);
		RC(i < 7 ? RDB_OK : RDB_NOTFOUND, bt_next(c));
	}
	OK(bt_seek_ge(c, "aa", 2));
	expect_at(c, "ab", 2, NULL, 0);
	OK(bt_seek_ge(c, "ab\0\0", 4));
	expect_at(c, "abc", 3, NULL, 0);
	OK(bt_seek_le(c, "ab\0\0", 4));
	expect_at(c, "ab\0", 3, NULL, 0);
	OK(bt_seek_le(c, "abz", 3));
	expect_at(c, "abd", 3, NULL, 0);
	OK(bt_seek_le(c, "b\xfe", 2));
	expect_at(c, "ba", 2, NULL, 0);
	OK(bt_seek_ge(c, "b\xfe", 2));
	expect_at(c, "b\xff", 2, NULL, 0);
	OK(bt_seek_ge(c, "bb", 2));
	expect_at(c, "b\xff", 2, NULL, 0);
	OK(bt_seek_le(c, "b\x01", 2));
	expect_at(c, "b", 1, NULL, 0);
	RC(RDB_NOTFOUND, bt_seek_ge(c, "b\xff\0", 3));
	RC(RDB_NOTFOUND, bt_seek_le(c, "\x01", 1));
	bt_cursor_close(c);
	commit(t);
	close_db(p);
}
END_TEST

/* Keys that are prefixes of each other ("p", "p\0", "p\0\0", ... and
 * the same with 0x01 and 0xff), so that leaves split between a key and
 * its extension and separators cannot be shortened. */
START_TEST(test_btree_prefix_chain_keys_split_scan_and_seek_in_order)
{
	static const unsigned char fill[] = { 0x00, 0x01, 0xff };
	size_t mk = bt_max_key(512);
	kref ks[3 * 128];
	unsigned char probe[128];
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t);
	bt_cursor *c = NULL;
	unsigned n = 0, i, f;
	size_t len;
	rdb_rc rc;

	ck_assert_uint_lt(mk, sizeof(probe));
	for (f = 0; f < 3; f++)
		for (len = f == 0 ? 1 : 2; len <= mk; len++, n++) {
			ks[n].k = malloc(len);
			ck_assert_ptr_nonnull(ks[n].k);
			memset(ks[n].k, fill[f], len);
			ks[n].k[0] = 'p';
			ks[n].kl = len;
		}
	for (i = 0; i < n; i++)         /* an order unlike key order */
		OK(bt_insert(t, root, ks[(i * 37) % n].k, ks[(i * 37) % n].kl,
			     "0123456789012345678901234567890123456789", 40));
	qsort(ks, n, sizeof(*ks), kref_cmp);
	ck_assert_uint_eq(verify(t, root).keys, n);
	ck_assert_uint_ge(verify(t, root).depth, 3);
	OK(bt_cursor_open(t, root, &c));
	for (i = 0, rc = bt_first(c); rc == RDB_OK; rc = bt_next(c), i++)
		expect_at(c, ks[i].k, ks[i].kl, NULL, 0);
	ck_assert_uint_eq(i, n);
	for (i = 0; i < n; i++) {
		OK(bt_seek_ge(c, ks[i].k, ks[i].kl));       /* at */
		expect_at(c, ks[i].k, ks[i].kl, NULL, 0);
		OK(bt_seek_le(c, ks[i].k, ks[i].kl));
		expect_at(c, ks[i].k, ks[i].kl, NULL, 0);
		/* just after the key: its extension by 0x00 (itself the
		 * next key in the 0x00 chain) */
		memcpy(probe, ks[i].k, ks[i].kl);
		probe[ks[i].kl] = 0;
		OK(bt_seek_le(c, probe, ks[i].kl + 1));
		if (i + 1 < n && key_cmp(probe, ks[i].kl + 1, ks[i + 1].k,
					 ks[i + 1].kl) == 0)
			expect_at(c, ks[i + 1].k, ks[i + 1].kl, NULL, 0);
		else
			expect_at(c, ks[i].k, ks[i].kl, NULL, 0);
		RC(i + 1 < n ? RDB_OK : RDB_NOTFOUND,
		   bt_seek_ge(c, probe, ks[i].kl + 1));
		if (i + 1 < n)
			expect_at(c, ks[i + 1].k, ks[i + 1].kl, NULL, 0);
	}
	bt_cursor_close(c);
	for (i = 0; i < n; i += 2)
		OK(bt_delete(t, root, ks[i].k, ks[i].kl));
	ck_assert_uint_eq(verify(t, root).keys, n / 2);
	for (i = 0; i < n; i++) {
		if (i % 2 == 0)
			expect_missing(t, root, ks[i].k, ks[i].kl);
		else
			expect_val(t, root, ks[i].k, ks[i].kl,
				   "0123456789012345678901234567890123456789",
				   40);
		free(ks[i].k);
	}
	commit(t);
	close_db(p);
}
END_TEST

/* How many of the sorted keys ks[0..n) are <= (k, kl). */
static size_t kref_count_le(const kref *ks, size_t n, const void *k,
			    size_t kl)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(ks[mid].k, ks[mid].kl, k, kl) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Keys of every length 1..40 that differ from a base in one byte, at
 * every position, by values either side of 0x80: word-at-a-time compares
 * must still give memcmp order. */
START_TEST(test_btree_keys_differing_at_any_byte_sort_by_memcmp)
{
	static const unsigned char vals[] = { 0x00, 0x01, 0x7f, 0x81, 0xfe,
					      0xff };
	kref *ks = calloc(40 * 40 * 6 + 40, sizeof(*ks));
	pager *p = open_db(4096, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t);
	bt_cursor *c = NULL;
	unsigned n = 0, len, pos, j, i;
	rdb_rc rc;

	ck_assert_ptr_nonnull(ks);
	for (len = 1; len <= 40; len++)
		for (pos = 0; pos <= len; pos++)
			for (j = 0; j < 6; j++) {
				if (pos == len && j > 0)
					break;    /* the base key itself */
				ks[n].k = malloc(len);
				ck_assert_ptr_nonnull(ks[n].k);
				memset(ks[n].k, 0x80, len);
				if (pos < len)
					ks[n].k[pos] = vals[j];
				ks[n].kl = len;
				OK(bt_insert(t, root, ks[n].k, len, &n,
					     sizeof(n)));
				n++;
			}
	qsort(ks, n, sizeof(*ks), kref_cmp);
	ck_assert_uint_eq(verify(t, root).keys, n);
	OK(bt_cursor_open(t, root, &c));
	for (i = 0, rc = bt_first(c); rc == RDB_OK; rc = bt_next(c), i++)
		expect_at(c, ks[i].k, ks[i].kl, NULL, 0);
	RC(RDB_NOTFOUND, rc);
	ck_assert_uint_eq(i, n);
	for (i = 0; i < n; i++) {
		OK(bt_seek_ge(c, ks[i].k, ks[i].kl));
		expect_at(c, ks[i].k, ks[i].kl, NULL, 0);
		/* one byte shorter: the last key at or before it */
		if (ks[i].kl > 1) {
			size_t le = kref_count_le(ks, n, ks[i].k,
						  ks[i].kl - 1);

			RC(le > 0 ? RDB_OK : RDB_NOTFOUND,
			   bt_seek_le(c, ks[i].k, ks[i].kl - 1));
			if (le > 0)
				expect_at(c, ks[le - 1].k, ks[le - 1].kl,
					  NULL, 0);
		}
	}
	for (i = 0; i < n; i++)
		free(ks[i].k);
	bt_cursor_close(c);
	free(ks);
	commit(t);
	close_db(p);
}
END_TEST

START_TEST(test_btree_cursor_delete_every_other_in_forward_scan)
{
	enum { N = 6000 };
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t);
	bt_cursor *c = NULL;
	unsigned char k[8], v[64];
	uint64_t i;
	bt_stats st;
	rdb_rc rc;

	for (i = 0; i < N; i++) {
		vfill(v, sizeof(v), i, 0);
		OK(bt_insert(t, root, ikey(i, k), 8, v, 20 + i % 40));
	}
	commit(t);

	t = begin(p, 1);
	OK(bt_cursor_open(t, root, &c));
	rc = bt_first(c);
	for (i = 0; rc == RDB_OK; i++) {
		ck_assert_uint_eq(cur_ikey(c), i);
		rc = i % 2 == 0 ? bt_cursor_delete(c) : bt_next(c);
	}
	RC(RDB_NOTFOUND, rc);
	ck_assert_uint_eq(i, N);
	ck_assert(!bt_valid(c));
	for (i = 0, rc = bt_first(c); rc == RDB_OK; rc = bt_next(c), i++) {
		vfill(v, sizeof(v), 2 * i + 1, 0);
		expect_at(c, ikey(2 * i + 1, k), 8, v, 20 + (2 * i + 1) % 40);
	}
	ck_assert_uint_eq(i, N / 2);
	bt_cursor_close(c);
	st = verify(t, root);
	ck_assert_uint_eq(st.keys, N / 2);
	commit(t);

	t = begin(p, 1);                 /* now delete all through one cursor */
	OK(bt_cursor_open(t, root, &c));
	for (i = 0, rc = bt_first(c); rc == RDB_OK; i++)
		rc = bt_cursor_delete(c);
	RC(RDB_NOTFOUND, rc);
	ck_assert_uint_eq(i, N / 2);
	RC(RDB_NOTFOUND, bt_first(c));
	bt_cursor_close(c);
	st = verify(t, root);
	ck_assert_uint_eq(st.keys, 0);
	ck_assert_uint_eq(st.depth, 1);
	ck_assert_uint_eq(st.leaves, 1);
	(void)check_no_leaks(t, &root, 1);
	commit(t);
	close_db(p);
}
END_TEST

START_TEST(test_btree_cursor_put_inserts_or_replaces_and_stays_on_key)
{
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t);
	bt_cursor *c = NULL;
	unsigned char k[8];
	unsigned char *big = vmake(5000, 9);
	uint64_t i;

	for (i = 0; i < 500; i++)
		OK(bt_insert(t, root, ikey(i * 2, k), 8, "old", 3));
	OK(bt_cursor_open(t, root, &c));
	OK(bt_cursor_put(c, ikey(501, k), 8, "new", 3));    /* insert */
	expect_at(c, ikey(501, k), 8, "new", 3);
	OK(bt_next(c));
	ck_assert_uint_eq(cur_ikey(c), 502);
	OK(bt_cursor_put(c, ikey(100, k), 8, "rep", 3));    /* replace */
	expect_at(c, ikey(100, k), 8, "rep", 3);
	OK(bt_prev(c));
	ck_assert_uint_eq(cur_ikey(c), 98);
	OK(bt_cursor_put(c, ikey(7, k), 8, big, 5000));     /* overflow */
	expect_at(c, ikey(7, k), 8, big, 5000);
	OK(bt_cursor_put(c, ikey(7, k), 8, "", 0));
	expect_at(c, ikey(7, k), 8, "", 0);
	for (i = 0; i < 600; i++) {      /* many puts: splits under it */
		OK(bt_cursor_put(c, ikey(2000 + i, k), 8, big, 100));
		expect_at(c, ikey(2000 + i, k), 8, big, 100);
	}
	RC(RDB_NOTFOUND, bt_next(c));       /* 2599 is the last key */
	bt_cursor_close(c);
	expect_val(t, root, ikey(501, k), 8, "new", 3);
	expect_val(t, root, ikey(100, k), 8, "rep", 3);
	ck_assert_uint_eq(verify(t, root).keys, 500 + 2 + 600);
	commit(t);
	close_db(p);
	free(big);
}
END_TEST

/* Integer-key model for cursor tests: present[i] for keys 0..n-1. */
static long succ(const unsigned char *present, long n, long k)
{
	for (k++; k < n && !present[k]; k++)
		;
	return k < n ? k : -1;
}

static long pred(const unsigned char *present, long k)
{
	for (k--; k >= 0 && !present[k]; k--)
		;
	return k;
}

/* Delete integer key k (present) or put it with 32-byte value v through
 * cursor c. */
static void other_cursor_toggle(bt_cursor *c, const unsigned char *k,
				const unsigned char *v, int present)
{
	rdb_rc rc;

	if (!present) {
		OK(bt_cursor_put(c, k, 8, v, 32));
		return;
	}
	OK(bt_seek_ge(c, k, 8));
	expect_at(c, k, 8, NULL, 0);
	rc = bt_cursor_delete(c);
	ck_assert(rc == RDB_OK || rc == RDB_NOTFOUND);
}

START_TEST(test_btree_cursor_continues_from_its_key_after_other_changes)
{
	enum { N = 8000 };
	uint64_t seed = tu_seed(), rng = seed;
	unsigned char *present = calloc(N, 1), k[8], v[32];
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t);
	bt_cursor *c = NULL, *c2 = NULL;
	long cur, want, i, steps = 0;
	int fwd;
	rdb_rc rc;

	tu_seed_note("btree cursor after changes", seed);
	ck_assert_ptr_nonnull(present);
	OK(bt_cursor_open(t, root, &c2));
	for (i = 0; i < N; i += 4) {
		OK(bt_insert(t, root, ikey((uint64_t)i, k), 8, "x", 1));
		present[i] = 1;
	}
	OK(bt_cursor_open(t, root, &c));
	for (fwd = 1; fwd >= 0; fwd--) {
		rc = fwd ? bt_first(c) : bt_last(c);
		cur = fwd ? succ(present, N, -1) : pred(present, N);
		while (rc == RDB_OK) {
			long j, n_changes = (long)tu_rand_below(&rng, 30);

			ck_assert_uint_eq(cur_ikey(c), (uint64_t)cur);
			/* other calls: inserts and deletes nearby and far,
			 * enough to split and merge the cursor's leaf */
			for (j = 0; j < n_changes; j++) {
				long x = cur + (long)tu_rand_below(&rng, 200) -
					 100;

				if (j % 5 == 4)
					x = (long)tu_rand_below(&rng, N);
				if (x < 0 || x >= N || x == cur)
					continue;
				ikey((uint64_t)x, k);
				vfill(v, sizeof(v), (uint64_t)x, 0);
				if (j % 3 == 1)      /* by a second cursor */
					other_cursor_toggle(c2, k, v,
							    present[x]);
				else if (present[x])
					OK(bt_delete(t, root, k, 8));
				else
					OK(bt_insert(t, root, k, 8, v,
						     sizeof(v)));
				present[x] ^= 1;
			}
			if (tu_rand_below(&rng, 10) == 0) {
				/* its value changed by another call */
				OK(bt_update(t, root, ikey((uint64_t)cur, k),
					     8, "upd", 3));
				expect_at(c, k, 8, "upd", 3);
			} else if (tu_rand_below(&rng, 10) == 0) {
				/* its own key deleted by another call */
				OK(bt_delete(t, root, ikey((uint64_t)cur, k),
					     8));
				present[cur] = 0;
			} else {
				ck_assert_uint_eq(cur_ikey(c), (uint64_t)cur);
			}
			want = fwd ? succ(present, N, cur) : pred(present, cur);
			rc = fwd ? bt_next(c) : bt_prev(c);
			if (want < 0)
				break;
			ck_assert_msg(rc == RDB_OK, "step %ld: rc %d: %s",
				      steps, rc, err.msg);
			cur = want;
			steps++;
		}
		RC(RDB_NOTFOUND, rc);
		ck_assert_msg(want < 0, "scan ended early at %ld", cur);
	}
	bt_cursor_close(c);
	bt_cursor_close(c2);
	ck_assert_uint_gt(steps, 1000);
	for (i = 0, want = 0; i < N; i++)
		want += present[i];
	ck_assert_uint_eq(verify(t, root).keys, (uint64_t)want);
	commit(t);
	close_db(p);
	free(present);
}
END_TEST

START_TEST(test_btree_reader_keeps_snapshot_while_writer_commits)
{
	pager *p = open_db(512, 64);      /* small pool: the writer spills */
	pager_txn *t = begin(p, 1), *r, *r2;
	rdb_pgno root = create_tree(t);
	bt_cursor *rc_cur = NULL;
	dump before, seen, after;
	unsigned char k[8];
	uint64_t i, pos = 0;
	rdb_rc rc;

	fill_tree(t, root, 2000, 0);
	commit(t);

	r = begin(p, 0);
	dump_tree(r, root, &before);
	OK(bt_cursor_open(r, root, &rc_cur));
	OK(bt_first(rc_cur));
	t = begin(p, 1);
	r2 = begin(p, 0);        /* begun while the writer is at work */
	for (i = 0; i < 2000; i += 2)
		OK(bt_delete(t, root, ikey(i * 3, k), 8));
	for (i = 0; i < 3000; i++)
		OK(bt_insert(t, root, ikey(i * 3 + 1, k), 8, "new", 3));
	dump_tree(r, root, &seen);
	expect_same_dump(&before, &seen);
	dump_free(&seen);
	commit(t);

	/* the reader's cursor, begun before the commit, sees the old tree */
	for (rc = RDB_OK; rc == RDB_OK; rc = bt_next(rc_cur), pos++)
		ck_assert_uint_eq(cur_ikey(rc_cur), pos * 3);
	RC(RDB_NOTFOUND, rc);
	ck_assert_uint_eq(pos, 2000);
	bt_cursor_close(rc_cur);
	dump_tree(r, root, &seen);
	expect_same_dump(&before, &seen);
	dump_free(&seen);
	dump_tree(r2, root, &seen);
	expect_same_dump(&before, &seen);
	dump_free(&seen);
	ck_assert_uint_eq(verify(r, root).keys, 2000);
	commit(r);
	commit(r2);

	r = begin(p, 0);         /* a new reader sees the commit */
	dump_tree(r, root, &after);
	ck_assert_uint_eq(after.n_keys, 1000 + 3000);
	expect_missing(r, root, ikey(0, k), 8);
	expect_val(r, root, ikey(1, k), 8, "new", 3);
	commit(r);
	dump_free(&before);
	dump_free(&after);
	close_db(p);
}
END_TEST

/* A cursor half-way through a long value reads the new value after other
 * calls replace it (their old overflow pages freed and reused). */
START_TEST(test_btree_cursor_value_read_sees_value_replaced_by_other_call)
{
	enum { LEN = 20000 };
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t);
	unsigned char *buf = malloc(2 * LEN), *w;
	bt_cursor *c = NULL;
	unsigned char k[8];
	size_t len = LEN, n;
	unsigned i;

	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < 4; i++) {
		w = vmake(LEN, i);
		OK(bt_insert(t, root, ikey(i, k), 8, w, LEN));
		free(w);
	}
	commit(t);
	t = begin(p, 1);
	OK(bt_cursor_open(t, root, &c));
	OK(bt_seek_ge(c, ikey(1, k), 8));
	for (i = 0; i < 6; i++) {
		OK(bt_value_read(c, 0, buf, len / 2));
		/* free other chains, then replace this one: the new chain
		 * takes the freed pages in another order */
		OK(bt_delete(t, root, ikey(i % 2 ? 2 : 3, k), 8));
		len = i % 2 ? LEN : LEN + 3000 * (i + 1);
		w = vmake(len, 100 + i);
		OK(bt_update(t, root, ikey(1, k), 8, w, len));
		OK(bt_value_size(c, &n));
		ck_assert_uint_eq(n, len);
		OK(bt_value_read(c, len / 2, buf + len / 2, len - len / 2));
		ck_assert_msg(memcmp(buf + len / 2, w + len / 2,
				     len - len / 2) == 0,
			      "round %u: second half is not the new value's",
			      i);
		OK(bt_value_read(c, 0, buf, len));
		ck_assert(memcmp(buf, w, len) == 0);
		expect_at(c, ikey(1, k), 8, w, len);
		w[0] ^= 1;
		OK(bt_upsert(t, root, ikey(i % 2 ? 2 : 3, k), 8, w, len,
			     NULL));
		free(w);
	}
	bt_cursor_close(c);
	(void)check_no_leaks(t, &root, 1);
	commit(t);
	free(buf);
	close_db(p);
}
END_TEST

/* A reader half-way through a long value keeps reading the old bytes
 * while the writer replaces it, frees its overflow pages and reuses
 * them in later commits. */
START_TEST(test_btree_reader_reads_old_value_after_writer_reuses_pages)
{
	enum { LEN = 40000 };
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1), *r;
	rdb_pgno root = create_tree(t);
	unsigned char *v = vmake(LEN, 1), *buf = malloc(LEN);
	bt_cursor *c = NULL;
	unsigned char k[8];
	unsigned i;

	ck_assert_ptr_nonnull(buf);
	OK(bt_insert(t, root, "long", 4, v, LEN));
	commit(t);
	r = begin(p, 0);
	OK(bt_cursor_open(r, root, &c));
	OK(bt_seek_ge(c, "long", 4));
	OK(bt_value_read(c, 0, buf, LEN / 2));
	for (i = 0; i < 3; i++) {
		unsigned char *w = vmake(LEN, 10 + i);

		t = begin(p, 1);
		if (i == 0)
			OK(bt_delete(t, root, "long", 4));
		else
			OK(bt_upsert(t, root, ikey(i, k), 8, w, LEN, NULL));
		commit(t);
		free(w);
	}
	OK(bt_value_read(c, LEN / 2, buf + LEN / 2, LEN - LEN / 2));
	ck_assert(memcmp(buf, v, LEN) == 0);
	expect_at(c, "long", 4, v, LEN);
	bt_cursor_close(c);
	commit(r);
	free(v);
	free(buf);
	close_db(p);
}
END_TEST

/* The writer drops a tree and fills its pages with another; a reader
 * that began before still scans the dropped tree whole. */
START_TEST(test_btree_reader_scans_tree_dropped_after_it_began)
{
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1), *r;
	rdb_pgno root = create_tree(t), other;
	dump before, seen;

	fill_tree(t, root, 2000, 11);
	commit(t);
	r = begin(p, 0);
	dump_tree(r, root, &before);
	t = begin(p, 1);
	OK(bt_drop(t, root));
	commit(t);
	t = begin(p, 1);
	other = create_tree(t);
	fill_tree(t, other, 2000, 99);       /* reuses the freed pages */
	commit(t);
	dump_tree(r, root, &seen);
	expect_same_dump(&before, &seen);
	ck_assert_uint_eq(verify(r, root).keys, 2000);
	commit(r);
	t = begin(p, 0);
	(void)check_no_leaks(t, &other, 1);
	commit(t);
	dump_free(&before);
	dump_free(&seen);
	close_db(p);
}
END_TEST

/* With the smallest pool (16 frames), thousands of seeks, steps, value
 * reads and gets through one cursor must not run out of frames: a cursor
 * pins at most one leaf between calls. */
START_TEST(test_btree_cursor_pins_at_most_one_page_smallest_pool)
{
	uint64_t seed = tu_seed(), rng = seed;
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t);
	unsigned char k[8], buf[64];
	bt_cursor *c = NULL;
	const void *v;
	size_t vl;
	int w, i;
	rdb_rc rc;

	tu_seed_note("btree cursor pins", seed);
	fill_tree(t, root, 3000, 0);
	commit(t);
	close_db(p);
	p = open_db(512, 16);
	for (w = 0; w < 2; w++) {
		t = begin(p, w);
		OK(bt_cursor_open(t, root, &c));
		for (i = 0; i < 5000; i++) {
			uint64_t x = tu_rand_below(&rng, 3000 * 3 + 10);

			ikey(x, k);
			rc = i % 2 ? bt_seek_ge(c, k, 8) : bt_seek_le(c, k, 8);
			ck_assert_msg(rc == RDB_OK || rc == RDB_NOTFOUND,
				      "seek %d: rc %d: %s", i, rc, err.msg);
			if (rc == RDB_OK)
				rc = i % 3 ? bt_next(c) : bt_prev(c);
			ck_assert_msg(rc == RDB_OK || rc == RDB_NOTFOUND,
				      "step %d: rc %d: %s", i, rc, err.msg);
			if (rc == RDB_OK) {
				OK(bt_value(c, &v, &vl));
				OK(bt_value_read(c, 0, buf, vl < 64 ? vl : 64));
			}
			rc = bt_get_buf(t, root, k, 8, buf, sizeof(buf), &vl);
			ck_assert_msg(rc == RDB_OK || rc == RDB_NOTFOUND ||
				      rc == RDB_RANGE, "get %d: rc %d: %s", i,
				      rc, err.msg);
		}
		bt_cursor_close(c);
		pager_rollback(t);
	}
	close_db(p);
}
END_TEST

START_TEST(test_btree_rollback_restores_tree_exactly)
{
	uint64_t seed = tu_seed(), rng = seed;
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t), extra;
	dump before, after;
	unsigned char k[8];
	rdb_pgno pages;
	uint32_t n_free;
	int i;

	tu_seed_note("btree rollback", seed);
	fill_tree(t, root, 3000, 0);
	commit(t);

	t = begin(p, 1);
	dump_tree(t, root, &before);
	pages = pager_txn_page_count(t);
	n_free = pager_txn_free_count(t);
	for (i = 0; i < 4000; i++) {
		uint64_t x = tu_rand_below(&rng, 12000);
		size_t len = i % 9 == 0 ? 2500 : x % 50;
		unsigned char *v = vmake(len, x);

		OK(bt_upsert(t, root, ikey(x, k), 8, v, len, NULL));
		free(v);
		if (i % 3 == 0) {
			rdb_rc rc = bt_delete(t, root, ikey(tu_rand_below(
						&rng, 9000), k), 8);

			ck_assert(rc == RDB_OK || rc == RDB_NOTFOUND);
		}
	}
	extra = create_tree(t);
	fill_tree(t, extra, 300, 5);
	pager_rollback(t);

	t = begin(p, 0);
	dump_tree(t, root, &after);
	expect_same_dump(&before, &after);
	ck_assert_uint_eq(pager_txn_page_count(t), pages);
	ck_assert_uint_eq(pager_txn_free_count(t), n_free);
	(void)check_no_leaks(t, &root, 1);
	commit(t);
	dump_free(&before);
	dump_free(&after);
	close_db(p);
}
END_TEST

/* ==== model ============================================================ *
 * Random operations on one tree at 512-byte pages against a sorted array
 * of immutable, reference-counted entries; the model of the last commit is
 * a copy of the array, so rollback is a copy back. */

typedef struct ment {
	uint32_t ref;
	uint32_t klen, vlen;
	unsigned char b[];           /* key, then value */
} ment;

typedef struct model {
	ment **e;                    /* owned array; entries shared by ref */
	size_t n, cap;
} model;

static ment *ment_new(const void *k, size_t kl, const void *v, size_t vl)
{
	ment *e = malloc(sizeof(*e) + kl + vl + 1);

	ck_assert_ptr_nonnull(e);
	e->ref = 1;
	e->klen = (uint32_t)kl;
	e->vlen = (uint32_t)vl;
	if (kl)
		memcpy(e->b, k, kl);
	if (vl)
		memcpy(e->b + kl, v, vl);
	return e;
}

static void ment_unref(ment *e)
{
	if (--e->ref == 0)
		free(e);
}

/* Index of the first entry >= key; *found tells whether it is equal. */
static size_t model_lb(const model *m, const void *k, size_t kl, int *found)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(m->e[mid]->b, m->e[mid]->klen, k, kl) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < m->n &&
		 key_cmp(m->e[lo]->b, m->e[lo]->klen, k, kl) == 0;
	return lo;
}

/* Put e at index i (replacing the equal key if found). */
static void model_put(model *m, size_t i, int found, ment *e)
{
	if (found) {
		ment_unref(m->e[i]);
		m->e[i] = e;
		return;
	}
	if (m->n == m->cap) {
		m->cap = m->cap * 2 + 256;
		m->e = realloc(m->e, m->cap * sizeof(*m->e));
		ck_assert_ptr_nonnull(m->e);
	}
	memmove(m->e + i + 1, m->e + i, (m->n - i) * sizeof(*m->e));
	m->e[i] = e;
	m->n++;
}

static void model_del(model *m, size_t i)
{
	ment_unref(m->e[i]);
	memmove(m->e + i, m->e + i + 1, (m->n - i - 1) * sizeof(*m->e));
	m->n--;
}

static void model_clear(model *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		ment_unref(m->e[i]);
	m->n = 0;
}

static void model_copy(model *dst, const model *src)
{
	size_t i;

	model_clear(dst);
	if (dst->cap < src->n) {
		dst->cap = src->n + 256;
		dst->e = realloc(dst->e, dst->cap * sizeof(*dst->e));
		ck_assert_ptr_nonnull(dst->e);
	}
	for (i = 0; i < src->n; i++) {
		dst->e[i] = src->e[i];
		dst->e[i]->ref++;
	}
	dst->n = src->n;
}

typedef struct mt {
	uint64_t seed, rng;
	long op;                     /* operations done */
	size_t maxk;                 /* bt_max_key(512) */
	size_t target;               /* the model grows toward this size */
	pager *p;
	pager_txn *t;
	rdb_pgno root;
	model cur, saved;            /* now; as of the last commit */
	pager_txn *rd;               /* a reader held across write txns */
	model rd_model;              /* what it must see */
	int rd_left;                 /* write txns until it is checked */
	long n_held;
	bt_cursor *pc;               /* a cursor living through a write txn */
	int p_on;                    /* pc is on key pk */
	unsigned char pk[16384];
	size_t pkl;
	long n_psteps;
	long n_commits, n_rollbacks, n_reopens, n_verifies;
	size_t max_keys;             /* largest model seen at a verify */
	uint32_t max_depth;
	uint32_t ps;                 /* page size */
	unsigned big_min, big_span;  /* overflow values: big_min + [0, span) */
	unsigned char k[16384], v[32768];
	size_t kl, vl;
} mt;

#define MOK(m, call) do {						\
	rdb_rc mok_rc_ = (call);					\
	ck_assert_msg(mok_rc_ == RDB_OK, "seed %llu op %ld: %s: rc %d: %s", \
		      (unsigned long long)(m)->seed, (m)->op, #call,	\
		      (int)mok_rc_, err.msg);				\
} while (0)

#define MRC(m, want, call) do {						\
	rdb_rc mrc_rc_ = (call);					\
	ck_assert_msg(mrc_rc_ == (want),				\
		      "seed %llu op %ld: %s: rc %d, want %d: %s",	\
		      (unsigned long long)(m)->seed, (m)->op, #call,	\
		      (int)mrc_rc_, (int)(want), err.msg);		\
} while (0)

static unsigned rnd(mt *m, unsigned n)
{
	return (unsigned)tu_rand_below(&m->rng, n);
}

/* A new random key in m->k: mostly long shared prefixes, some random
 * bytes, some empty, some of the largest size. */
static void gen_key(mt *m)
{
	static const unsigned char alpha[] = { 0, 1, 'u', 0x7f, 0x80, 0xff };
	unsigned r = rnd(m, 100), i;

	if (r < 55) {
		m->kl = (size_t)sprintf((char *)m->k,
					"user/%06u/orders/%05u", rnd(m, 300),
					rnd(m, 100));
	} else if (r < 62) {
		m->kl = (size_t)sprintf((char *)m->k, "user/%06u",
					rnd(m, 300));
	} else if (r < 68) {
		m->kl = (size_t)sprintf((char *)m->k, "user/%06u/orders/%05u/",
					rnd(m, 300), rnd(m, 100));
		for (i = rnd(m, 30); i > 0; i--)
			m->k[m->kl++] = (unsigned char)('a' + rnd(m, 4));
	} else if (r < 80) {
		for (m->kl = rnd(m, 12), i = 0; i < m->kl; i++)
			m->k[i] = alpha[rnd(m, sizeof(alpha))];
	} else if (r < 82) {
		m->kl = 0;
	} else {
		/* largest keys, differing in the middle or the last bytes */
		memset(m->k, 'm', m->maxk);
		(void)sprintf((char *)m->k, "user/%06u/", rnd(m, 300));
		m->k[12] = 'm';
		m->k[m->maxk / 2] = (unsigned char)rnd(m, 4);
		m->k[m->maxk - 1] = (unsigned char)rnd(m, 64);
		m->kl = r < 92 ? m->maxk : m->maxk - rnd(m, 3);
	}
}

/* A key for an operation: an existing one about half the time. */
static void pick_key(mt *m)
{
	if (m->cur.n > 0 && rnd(m, 100) < 45) {
		ment *e = m->cur.e[rnd(m, (unsigned)m->cur.n)];

		memcpy(m->k, e->b, e->klen);
		m->kl = e->klen;
		return;
	}
	gen_key(m);
}

/* A random value in m->v: empty, small, or ~5% overflow. */
static void gen_val(mt *m)
{
	unsigned r = rnd(m, 100), i;

	m->vl = r < 5 ? m->big_min + rnd(m, m->big_span) : r < 20 ? 0 :
		1 + rnd(m, 40);
	for (i = 0; i < m->vl; i += 8) {
		uint64_t x = tu_rand(&m->rng);

		memcpy(m->v + i, &x, 8);
	}
}

/* The cursor must be on model entry i; sometimes check its value too. */
static void mt_expect_at(mt *m, bt_cursor *c, size_t i)
{
	const ment *e = m->cur.e[i];
	const void *ck, *cv;
	size_t ckl, cvl;

	ck_assert_msg(bt_valid(c), "seed %llu op %ld: cursor not valid",
		      (unsigned long long)m->seed, m->op);
	MOK(m, bt_key(c, &ck, &ckl));
	ck_assert_msg(key_cmp(ck, ckl, e->b, e->klen) == 0,
		      "seed %llu op %ld: cursor on the wrong key (entry %zu "
		      "of %zu)", (unsigned long long)m->seed, m->op, i,
		      m->cur.n);
	if (rnd(m, 2))
		return;
	MOK(m, bt_value(c, &cv, &cvl));
	ck_assert_msg(cvl == e->vlen && memcmp(cv, e->b + e->klen, cvl) == 0,
		      "seed %llu op %ld: wrong value under the cursor",
		      (unsigned long long)m->seed, m->op);
	if (e->vlen > 100 && rnd(m, 4) == 0) {
		size_t off = rnd(m, e->vlen), n = rnd(m, e->vlen - off + 1);

		MOK(m, bt_value_read(c, off, m->v, n));
		ck_assert_msg(memcmp(m->v, e->b + e->klen + off, n) == 0,
			      "seed %llu op %ld: bt_value_read(%zu, %zu)",
			      (unsigned long long)m->seed, m->op, off, n);
	}
}

static void mt_insert(mt *m)
{
	int found;
	size_t i;

	pick_key(m);
	gen_val(m);
	i = model_lb(&m->cur, m->k, m->kl, &found);
	MRC(m, found ? RDB_CONSTRAINT : RDB_OK,
	    bt_insert(m->t, m->root, m->k, m->kl, m->v, m->vl));
	if (!found)
		model_put(&m->cur, i, 0, ment_new(m->k, m->kl, m->v, m->vl));
}

static void mt_upsert(mt *m)
{
	int found, replaced = -1;
	size_t i;

	pick_key(m);
	gen_val(m);
	i = model_lb(&m->cur, m->k, m->kl, &found);
	MOK(m, bt_upsert(m->t, m->root, m->k, m->kl, m->v, m->vl,
			 &replaced));
	ck_assert_msg(replaced == found, "seed %llu op %ld: replaced %d",
		      (unsigned long long)m->seed, m->op, replaced);
	model_put(&m->cur, i, found, ment_new(m->k, m->kl, m->v, m->vl));
}

static void mt_update(mt *m)
{
	int found;
	size_t i;

	pick_key(m);
	gen_val(m);
	i = model_lb(&m->cur, m->k, m->kl, &found);
	MRC(m, found ? RDB_OK : RDB_NOTFOUND,
	    bt_update(m->t, m->root, m->k, m->kl, m->v, m->vl));
	if (found)
		model_put(&m->cur, i, 1, ment_new(m->k, m->kl, m->v, m->vl));
}

static void mt_delete(mt *m)
{
	int found;
	size_t i;

	pick_key(m);
	i = model_lb(&m->cur, m->k, m->kl, &found);
	MRC(m, found ? RDB_OK : RDB_NOTFOUND,
	    bt_delete(m->t, m->root, m->k, m->kl));
	if (found)
		model_del(&m->cur, i);
}

/* bt_get_buf into m->v with a capacity that is sometimes too small. */
static void mt_get_buf(mt *m, size_t i, int found)
{
	const ment *e = found ? m->cur.e[i] : NULL;
	size_t cap = rnd(m, 2) ? sizeof(m->v) : rnd(m, 3000), vl = 7;
	int small = e != NULL && cap < e->vlen;

	MRC(m, !found ? RDB_NOTFOUND : small ? RDB_RANGE : RDB_OK,
	    bt_get_buf(m->t, m->root, m->k, m->kl, m->v, cap, &vl));
	if (found)
		ck_assert_msg(vl == e->vlen && (small ||
			      memcmp(m->v, e->b + e->klen, vl) == 0),
			      "seed %llu op %ld: bt_get_buf gave a wrong value",
			      (unsigned long long)m->seed, m->op);
}

static void mt_get(mt *m)
{
	void *v = NULL;
	size_t vl = 0, i;
	int found;
	const ment *e;

	pick_key(m);
	i = model_lb(&m->cur, m->k, m->kl, &found);
	if (rnd(m, 2)) {
		mt_get_buf(m, i, found);
		return;
	}
	MRC(m, found ? RDB_OK : RDB_NOTFOUND,
	    bt_get(m->t, m->root, m->k, m->kl, &v, &vl));
	if (!found)
		return;
	e = m->cur.e[i];
	ck_assert_msg(v != NULL && vl == e->vlen &&
		      memcmp(v, e->b + e->klen, vl) == 0,
		      "seed %llu op %ld: bt_get gave a wrong value",
		      (unsigned long long)m->seed, m->op);
	rdb_free(v);
}

/* Walk from model index i (cursor on it) up to n steps in random
 * directions, or in one direction when dir is 1 or -1. */
static void mt_steps(mt *m, bt_cursor *c, size_t i, int n, int dir)
{
	for (; n > 0; n--) {
		int d = dir ? dir : rnd(m, 2) ? 1 : -1;
		int off_end = d > 0 ? i + 1 >= m->cur.n : i == 0;

		MRC(m, off_end ? RDB_NOTFOUND : RDB_OK,
		    d > 0 ? bt_next(c) : bt_prev(c));
		if (off_end) {
			ck_assert(!bt_valid(c));
			return;
		}
		i = d > 0 ? i + 1 : i - 1;
		mt_expect_at(m, c, i);
	}
}

static void mt_seek(mt *m)
{
	bt_cursor *c = NULL;
	int found, ge = rnd(m, 2);
	size_t i;

	pick_key(m);
	i = model_lb(&m->cur, m->k, m->kl, &found);
	MOK(m, bt_cursor_open(m->t, m->root, &c));
	if (ge) {
		MRC(m, i < m->cur.n ? RDB_OK : RDB_NOTFOUND,
		    bt_seek_ge(c, m->k, m->kl));
	} else {
		if (!found)
			i--;      /* wraps to SIZE_MAX when nothing is <= */
		MRC(m, i < m->cur.n ? RDB_OK : RDB_NOTFOUND,
		    bt_seek_le(c, m->k, m->kl));
	}
	if (i < m->cur.n) {
		mt_expect_at(m, c, i);
		mt_steps(m, c, i, rnd(m, 6), 0);
	}
	bt_cursor_close(c);
}

static void mt_scan(mt *m)
{
	bt_cursor *c = NULL;
	int fwd = rnd(m, 2);

	MOK(m, bt_cursor_open(m->t, m->root, &c));
	MRC(m, m->cur.n ? RDB_OK : RDB_NOTFOUND,
	    fwd ? bt_first(c) : bt_last(c));
	if (m->cur.n) {
		mt_expect_at(m, c, fwd ? 0 : m->cur.n - 1);
		mt_steps(m, c, fwd ? 0 : m->cur.n - 1, 1 + rnd(m, 40),
			 fwd ? 1 : -1);
	}
	bt_cursor_close(c);
}

static void mt_cursor_put(mt *m)
{
	bt_cursor *c = NULL;
	int found;
	size_t i;

	pick_key(m);
	gen_val(m);
	i = model_lb(&m->cur, m->k, m->kl, &found);
	model_put(&m->cur, i, found, ment_new(m->k, m->kl, m->v, m->vl));
	MOK(m, bt_cursor_open(m->t, m->root, &c));
	MOK(m, bt_cursor_put(c, m->k, m->kl, m->v, m->vl));
	mt_expect_at(m, c, i);
	mt_steps(m, c, i, rnd(m, 4), 0);
	bt_cursor_close(c);
}

/* Seek, then delete a few keys in a row through the cursor. */
static void mt_cursor_delete(mt *m)
{
	bt_cursor *c = NULL;
	int found, n = 1 + (int)rnd(m, 5);
	size_t i;

	pick_key(m);
	i = model_lb(&m->cur, m->k, m->kl, &found);
	MOK(m, bt_cursor_open(m->t, m->root, &c));
	MRC(m, i < m->cur.n ? RDB_OK : RDB_NOTFOUND,
	    bt_seek_ge(c, m->k, m->kl));
	for (; n > 0 && i < m->cur.n; n--) {
		model_del(&m->cur, i);
		MRC(m, i < m->cur.n ? RDB_OK : RDB_NOTFOUND,
		    bt_cursor_delete(c));
		if (i < m->cur.n)
			mt_expect_at(m, c, i);
	}
	bt_cursor_close(c);
}

static void mt_verify(mt *m)
{
	bt_stats st;

	MOK(m, bt_verify(m->t, m->root, NULL, &st));
	ck_assert_msg(st.keys == m->cur.n,
		      "seed %llu op %ld: verify counts %llu keys, model %zu",
		      (unsigned long long)m->seed, m->op,
		      (unsigned long long)st.keys, m->cur.n);
	m->n_verifies++;
	if (m->cur.n > m->max_keys)
		m->max_keys = m->cur.n;
	if (st.depth > m->max_depth)
		m->max_depth = st.depth;
}

/* The held reader must still see the commit it began after: every key
 * and value, whatever the writer did since.  Then it ends. */
static void mt_check_reader(mt *m)
{
	const model *rm = &m->rd_model;
	bt_cursor *c = NULL;
	const void *k, *v;
	size_t kl, vl, i = 0;
	rdb_rc rc;

	MOK(m, bt_cursor_open(m->rd, m->root, &c));
	for (rc = bt_first(c); rc == RDB_OK; rc = bt_next(c), i++) {
		const ment *e = i < rm->n ? rm->e[i] : NULL;

		MOK(m, bt_key(c, &k, &kl));
		MOK(m, bt_value(c, &v, &vl));
		ck_assert_msg(e != NULL && key_cmp(k, kl, e->b, e->klen) == 0 &&
			      vl == e->vlen &&
			      memcmp(v, e->b + e->klen, vl) == 0,
			      "seed %llu op %ld: held reader: entry %zu of "
			      "%zu differs from its snapshot",
			      (unsigned long long)m->seed, m->op, i, rm->n);
	}
	MRC(m, RDB_NOTFOUND, rc);
	ck_assert_msg(i == rm->n, "seed %llu op %ld: held reader saw %zu "
		      "keys, its snapshot had %zu", (unsigned long long)m->seed,
		      m->op, i, rm->n);
	bt_cursor_close(c);
	MOK(m, pager_commit(m->rd));
	m->rd = NULL;
	m->n_held++;
}

/* Commit (or sometimes roll back), sometimes reopen, begin again; now and
 * then hold a reader on the new commit for the next few transactions. */
static void mt_end_txn(mt *m)
{
	int reopen = rnd(m, 40) == 0;

	bt_cursor_close(m->pc);
	m->pc = NULL;
	m->p_on = 0;
	if (rnd(m, 10) == 0) {
		pager_rollback(m->t);
		model_copy(&m->cur, &m->saved);
		m->n_rollbacks++;
	} else {
		MOK(m, pager_commit(m->t));
		model_copy(&m->saved, &m->cur);
		m->n_commits++;
	}
	m->t = NULL;
	if (m->rd != NULL && (--m->rd_left == 0 || reopen))
		mt_check_reader(m);
	if (reopen) {
		MOK(m, pager_close(m->p));
		/* mostly 64 frames; sometimes the smallest pool allowed */
		m->p = open_db(m->ps, rnd(m, 4) == 0 ? 16 : 64);
		m->n_reopens++;
	}
	if (m->rd == NULL && rnd(m, 8) == 0) {
		m->rd = begin(m->p, 0);
		model_copy(&m->rd_model, &m->saved);
		m->rd_left = 1 + (int)rnd(m, 3);
	}
	m->t = begin(m->p, 1);
	MOK(m, bt_cursor_open(m->t, m->root, &m->pc));
}

/* Step the long-lived cursor.  It was left on key pk; whatever other
 * calls did since (pk itself may be gone), the step lands on the model's
 * neighbour of pk. */
static void mt_pstep(mt *m)
{
	int found, fwd = rnd(m, 2);
	size_t i;

	if (!m->p_on) {
		pick_key(m);
		i = model_lb(&m->cur, m->k, m->kl, &found);
		MRC(m, i < m->cur.n ? RDB_OK : RDB_NOTFOUND,
		    bt_seek_ge(m->pc, m->k, m->kl));
	} else {
		i = model_lb(&m->cur, m->pk, m->pkl, &found);
		if (found && rnd(m, 4) == 0)
			mt_expect_at(m, m->pc, i);     /* still on pk */
		i = fwd ? i + (size_t)found : i - 1;  /* SIZE_MAX: none */
		MRC(m, i < m->cur.n ? RDB_OK : RDB_NOTFOUND,
		    fwd ? bt_next(m->pc) : bt_prev(m->pc));
	}
	m->p_on = i < m->cur.n;
	if (m->p_on) {
		mt_expect_at(m, m->pc, i);
		memcpy(m->pk, m->cur.e[i]->b, m->cur.e[i]->klen);
		m->pkl = m->cur.e[i]->klen;
	}
	m->n_psteps++;
}

/* Cumulative weights per 1000 for growing and for shrinking phases. */
enum { OP_INS, OP_UPS, OP_UPD, OP_DEL, OP_GET, OP_SEEK, OP_SCAN, OP_CPUT,
       OP_CDEL, OP_PSTEP, N_OPS };
static const unsigned grow_w[N_OPS] = { 250, 120, 100, 70, 110, 200, 40,
					30, 40, 40 };
static const unsigned shrink_w[N_OPS] = { 80, 60, 100, 300, 110, 200, 40,
					  20, 50, 40 };

static void mt_one(mt *m)
{
	const unsigned *w = m->cur.n < m->target ? grow_w : shrink_w;
	unsigned r = rnd(m, 1000), op = 0;

	while (r >= w[op]) {
		r -= w[op];
		op++;
	}
	switch (op) {
	case OP_INS: mt_insert(m); break;
	case OP_UPS: mt_upsert(m); break;
	case OP_UPD: mt_update(m); break;
	case OP_DEL: mt_delete(m); break;
	case OP_GET: mt_get(m); break;
	case OP_SEEK: mt_seek(m); break;
	case OP_SCAN: mt_scan(m); break;
	case OP_CPUT: mt_cursor_put(m); break;
	case OP_CDEL: mt_cursor_delete(m); break;
	default: mt_pstep(m); break;
	}
}

/* Run n_ops random operations at page size ps; overflow values are
 * big_min + [0, big_span) bytes. */
static void model_run(uint32_t ps, long n_ops, unsigned big_min,
		      unsigned big_span)
{
	long until_end = 1;
	mt *m = calloc(1, sizeof(*m));
	double t0 = now_ms();
	dump d;
	size_t i;
	bt_stats st;

	ck_assert_ptr_nonnull(m);
	m->seed = m->rng = tu_seed();
	tu_seed_note("btree model", m->seed);
	m->ps = ps;
	m->big_min = big_min;
	m->big_span = big_span;
	ck_assert_uint_le(big_min + big_span + 8, sizeof(m->v));
	m->maxk = bt_max_key(ps);
	ck_assert_uint_le(m->maxk, sizeof(m->k));
	m->p = open_db(ps, 64);
	m->t = begin(m->p, 1);
	m->root = create_tree(m->t);
	MOK(m, pager_commit(m->t));
	m->t = begin(m->p, 1);
	MOK(m, bt_cursor_open(m->t, m->root, &m->pc));
	for (m->op = 0; m->op < n_ops; m->op++) {
		if (m->op % 20000 == 0)     /* now and then, down to empty */
			m->target = rnd(m, 8) == 0 ? 0 : rnd(m, 6000);
		mt_one(m);
		if (--until_end == 0) {
			mt_end_txn(m);
			until_end = 1 + rnd(m, 2000);
		}
		if (m->op % 5000 == 4999)
			mt_verify(m);
	}
	mt_verify(m);
	bt_cursor_close(m->pc);
	MOK(m, pager_commit(m->t));
	model_copy(&m->saved, &m->cur);
	if (m->rd != NULL)
		mt_check_reader(m);

	m->t = begin(m->p, 0);
	st = verify(m->t, m->root);
	ck_assert_uint_eq(st.keys, m->cur.n);
	dump_tree(m->t, m->root, &d);
	ck_assert_uint_eq(d.n_keys, m->cur.n);
	for (i = 0; i < m->cur.n; i++) {
		const ment *e = m->cur.e[i];

		ck_assert(d.h[i] == (XXH3_64bits(e->b, e->klen) ^
				     XXH3_64bits(e->b + e->klen, e->vlen) * 3));
	}
	dump_free(&d);
	(void)check_no_leaks(m->t, &m->root, 1);
	commit(m->t);
	close_db(m->p);
	fprintf(stderr, "btree model (%u-byte pages): %ld ops in %.1f s (seed "
		"%llu): %zu keys "
		"at the end (at most %zu), depth at most %u, %ld commits, %ld "
		"rollbacks, %ld reopens, %ld verifies, %ld held readers, %ld "
		"steps of a long-lived cursor\n",
		ps, n_ops, (now_ms() - t0) / 1e3, (unsigned long long)m->seed,
		m->cur.n, m->max_keys, m->max_depth, m->n_commits,
		m->n_rollbacks, m->n_reopens, m->n_verifies, m->n_held,
		m->n_psteps);
	model_clear(&m->cur);
	model_clear(&m->saved);
	model_clear(&m->rd_model);
	free(m->rd_model.e);
	free(m->cur.e);
	free(m->saved.e);
	free(m);
}

/* 512-byte pages: deep trees, splits and merges all the time. */
START_TEST(test_btree_model_random_ops_match_sorted_array)
{
	model_run(512, tu_scaled(1000000, 20000), 1000, 2001);
}
END_TEST

/* 4096-byte pages: keys up to ~1 KB, overflow values up to 20 KB. */
START_TEST(test_btree_model_large_cells_match_sorted_array)
{
	model_run(4096, tu_scaled(400000, 5000), 4000, 16001);
}
END_TEST

/* The largest pages: keys up to 16 KB, offsets near the 16-bit limit. */
START_TEST(test_btree_model_64k_pages_match_sorted_array)
{
	model_run(65536, tu_scaled(40000, 3000), 17000, 15001);
}
END_TEST

/* ==== space ============================================================ */

/* Insert keys 0 .. n-1 with 16-byte values in n_txns transactions. */
static void load_ascending(pager *p, rdb_pgno root, uint64_t n, int n_txns)
{
	unsigned char k[8], v[16];
	uint64_t i, per = n / (uint64_t)n_txns + 1;
	pager_txn *t = NULL;

	for (i = 0; i < n; i++) {
		if (i % per == 0) {
			if (t)
				commit(t);
			t = begin(p, 1);
		}
		ikey(i * 3, v);
		ikey(~i, v + 8);
		OK(bt_insert(t, root, ikey(i, k), 8, v, 16));
	}
	commit(t);
}

START_TEST(test_btree_space_ascending_load_fills_and_delete_all_frees)
{
	uint64_t n = (uint64_t)tu_scaled(1000000, 50000), i, per = n / 4 + 1;
	pager *p = open_on(mem, 4096, 2000, PAGER_SYNC_OFF);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t), pages1, pages2;
	unsigned char k[8];
	double t0 = now_ms();
	bt_stats st;
	uint32_t in_tree;

	commit(t);
	load_ascending(p, root, n, 4);
	t = begin(p, 0);
	st = verify(t, root);
	pages1 = pager_txn_page_count(t);
	ck_assert_uint_eq(st.keys, n);
	fprintf(stderr, "btree space: %llu keys: leaf_fill %.3f (min %.3f), "
		"inner_fill %.3f, depth %u, %u leaves, %u inners, %u pages\n",
		(unsigned long long)n, st.leaf_fill, st.leaf_fill_min,
		st.inner_fill, st.depth, st.leaves, st.inners, pages1);
	ck_assert_msg(st.leaf_fill >= 0.90, "leaf_fill %.3f after an "
		      "ascending load", st.leaf_fill);
	commit(t);

	t = NULL;
	for (i = 0; i < n; i++) {
		if (i % per == 0) {
			if (t)
				commit(t);
			t = begin(p, 1);
		}
		OK(bt_delete(t, root, ikey(i, k), 8));
	}
	commit(t);
	t = begin(p, 0);
	st = verify(t, root);
	ck_assert_uint_eq(st.keys, 0);
	ck_assert_uint_eq(st.leaves, 1);
	ck_assert_uint_eq(st.inners, 0);
	ck_assert_uint_eq(st.depth, 1);
	ck_assert_uint_eq(pager_txn_page_count(t), pages1);
	ck_assert_uint_eq(pager_txn_free_count(t), pages1 - 2);
	in_tree = check_no_leaks(t, &root, 1);
	ck_assert_uint_eq(in_tree, 1);
	fprintf(stderr, "btree space: after deleting all: %u pages, %u free, "
		"tree %u page(s)\n", pager_txn_page_count(t),
		pager_txn_free_count(t), in_tree);
	commit(t);

	load_ascending(p, root, n, 4);
	t = begin(p, 0);
	st = verify(t, root);
	pages2 = pager_txn_page_count(t);
	ck_assert_uint_eq(st.keys, n);
	fprintf(stderr, "btree space: reload: %u pages (first load %u), "
		"leaf_fill %.3f; %.1f s in all\n", pages2, pages1,
		st.leaf_fill, (now_ms() - t0) / 1e3);
	ck_assert_msg(pages2 <= pages1 + pages1 / 10,
		      "reload grew the file from %u to %u pages", pages1,
		      pages2);
	(void)check_no_leaks(t, &root, 1);
	commit(t);
	close_db(p);
}
END_TEST

/* ==== concurrency ====================================================== *
 * The writer keeps the keys a contiguous range [lo, hi) of integers whose
 * values are (3*key, ~key), moving it forward in small transactions (and
 * rolling some back).  Every reader snapshot must show such a range, the
 * same forward and backward, never moving backward between snapshots. */

typedef struct cshared {
	pager *p;
	rdb_pgno root;
	long n_txns;                 /* writer transactions */
	long min_scans;              /* each reader scans at least this often */
	atomic_int done;             /* the writer has finished */
	atomic_int failed;
	pthread_mutex_t mu;
	char msg[RDB_ERR_MSG_MAX + 128];  /* first failure */
} cshared;

typedef struct creader {
	cshared *sh;
	int id;
	uint64_t rng;
	long scans;
	uint64_t max_len;
} creader;

static void cfail(cshared *sh, const char *what, rdb_rc rc, const char *m)
{
	pthread_mutex_lock(&sh->mu);
	if (!atomic_load(&sh->failed))
		snprintf(sh->msg, sizeof(sh->msg), "%s: rc %d: %s", what,
			 (int)rc, m);
	atomic_store(&sh->failed, 1);
	pthread_mutex_unlock(&sh->mu);
}

static int cval_ok(const void *v, size_t vl, uint64_t key)
{
	unsigned char want[16];

	ikey(key * 3, want);
	ikey(~key, want + 8);
	return vl == 16 && memcmp(v, want, 16) == 0;
}

/* Scan the whole tree in one direction; the keys must be a contiguous
 * range with the right values.  Gives the range as [*lo, *hi). */
static rdb_rc cscan(bt_cursor *c, int fwd, uint64_t *lo, uint64_t *hi,
		    const char **why)
{
	uint64_t first = 0, prev = 0, n = 0, key;
	const void *k, *v;
	size_t kl, vl;
	rdb_rc rc;

	for (rc = fwd ? bt_first(c) : bt_last(c); rc == RDB_OK;
	     rc = fwd ? bt_next(c) : bt_prev(c), n++) {
		if ((rc = bt_key(c, &k, &kl)) != RDB_OK)
			return rc;
		if (kl != 8)
			return *why = "key of wrong length", RDB_MISMATCH;
		key = ikey_get(k);
		if (n == 0)
			first = key;
		else if (key != (fwd ? prev + 1 : prev - 1))
			return *why = "range has a gap", RDB_MISMATCH;
		prev = key;
		if ((rc = bt_value(c, &v, &vl)) != RDB_OK)
			return rc;
		if (!cval_ok(v, vl, key))
			return *why = "wrong value", RDB_MISMATCH;
	}
	if (rc != RDB_NOTFOUND)
		return rc;
	*lo = n == 0 ? 0 : fwd ? first : prev;
	*hi = n == 0 ? 0 : (fwd ? prev : first) + 1;
	return RDB_OK;
}

/* Probe a snapshot holding [lo, hi) at random points around it with
 * bt_get, bt_seek_ge and bt_seek_le; now and then bt_verify it too. */
static rdb_rc cprobe(pager_txn *t, bt_cursor *c, rdb_pgno root, uint64_t lo,
		     uint64_t hi, uint64_t *rng, const char **why)
{
	unsigned char k[8];
	const void *ck;
	size_t kl, vl;
	uint64_t x, want;
	void *v;
	bt_stats st;
	int i, ge, none;
	rdb_rc rc;

	for (i = 0; i < 16; i++) {
		x = lo + tu_rand_below(rng, hi - lo + 16);
		x = x < 8 ? x : x - 8;
		v = NULL;
		rc = bt_get(t, root, ikey(x, k), 8, &v, &vl);
		if (rc == RDB_OK && !cval_ok(v, vl, x))
			*why = "get gave a wrong value", rc = RDB_MISMATCH;
		rdb_free(v);
		if (rc == RDB_OK ? x < lo || x >= hi :
		    rc == RDB_NOTFOUND && x >= lo && x < hi)
			*why = "get disagrees with the range",
			rc = RDB_MISMATCH;
		if (rc != RDB_OK && rc != RDB_NOTFOUND)
			return rc;
		ge = i % 2;
		none = lo == hi || (ge ? x >= hi : x < lo);
		want = ge ? (x < lo ? lo : x) : (x >= hi ? hi - 1 : x);
		rc = ge ? bt_seek_ge(c, k, 8) : bt_seek_le(c, k, 8);
		if (rc == RDB_OK)
			rc = bt_key(c, &ck, &kl);
		if (rc == RDB_OK && (none || kl != 8 || ikey_get(ck) != want))
			*why = "seek landed on the wrong key",
			rc = RDB_MISMATCH;
		if (rc == RDB_NOTFOUND && !none)
			*why = "seek found nothing", rc = RDB_MISMATCH;
		if (rc != RDB_OK && rc != RDB_NOTFOUND)
			return rc;
	}
	if (tu_rand_below(rng, 8) == 0) {
		if ((rc = bt_verify(t, root, NULL, &st)) != RDB_OK)
			return rc;
		if (st.keys != hi - lo)
			return *why = "verify counts other keys", RDB_MISMATCH;
	}
	return RDB_OK;
}

static void *reader_run(void *arg)
{
	creader *r = arg;
	cshared *sh = r->sh;
	uint64_t lo_f, hi_f, lo_b, hi_b, last_lo = 0, last_hi = 0;
	const char *why = "";
	rdb_err e = { 0 };
	pager_txn *t;
	bt_cursor *c;
	rdb_rc rc;

	while (!atomic_load(&sh->failed) &&
	       (!atomic_load(&sh->done) || r->scans < sh->min_scans)) {
		t = NULL;
		c = NULL;
		rc = pager_begin(sh->p, 0, &e, &t);
		if (rc == RDB_OK)
			rc = bt_cursor_open(t, sh->root, &c);
		if (rc == RDB_OK)
			rc = cscan(c, r->scans % 2 == 0, &lo_f, &hi_f, &why);
		if (rc == RDB_OK)
			rc = cscan(c, r->scans % 2 != 0, &lo_b, &hi_b, &why);
		if (rc == RDB_OK)
			rc = cprobe(t, c, sh->root, lo_f, hi_f, &r->rng, &why);
		bt_cursor_close(c);
		if (t)
			pager_rollback(t);
		if (rc == RDB_OK && (lo_f != lo_b || hi_f != hi_b))
			why = "forward and backward scans differ",
			rc = RDB_MISMATCH;
		if (rc == RDB_OK && hi_f > lo_f &&
		    (lo_f < last_lo || hi_f < last_hi))
			why = "a later snapshot went back", rc = RDB_MISMATCH;
		if (rc != RDB_OK) {
			cfail(sh, "reader", rc, rc == RDB_MISMATCH ? why :
			      e.msg);
			break;
		}
		if (hi_f > lo_f) {
			last_lo = lo_f;
			last_hi = hi_f;
			if (hi_f - lo_f > r->max_len)
				r->max_len = hi_f - lo_f;
		}
		r->scans++;
	}
	return NULL;
}

/* One writer transaction: append a few keys at hi (now and then
 * thousands, so that the writer spills uncommitted pages), drop a few at
 * lo (through bt_delete or a cursor), keeping 200..800 keys. */
static rdb_rc writer_txn(cshared *sh, pager_txn *t, uint64_t *rng,
			 uint64_t *lo, uint64_t *hi)
{
	unsigned char k[8], v[16];
	unsigned n_add = tu_rand_below(rng, 100) == 0 ?
		1000 + (unsigned)tu_rand_below(rng, 2000) :  /* spills */
		1 + (unsigned)tu_rand_below(rng, 8), i;
	unsigned n_del = (unsigned)tu_rand_below(rng, 9);
	bt_cursor *c = NULL;
	rdb_rc rc = RDB_OK;

	for (i = 0; i < n_add && rc == RDB_OK; i++, (*hi)++) {
		ikey(*hi * 3, v);
		ikey(~*hi, v + 8);
		rc = bt_insert(t, sh->root, ikey(*hi, k), 8, v, 16);
	}
	if (*hi - *lo < 200)
		n_del = 0;
	if (*hi - *lo > 800)
		n_del = (unsigned)(*hi - *lo - 500);
	if (rc == RDB_OK && tu_rand_below(rng, 2)) {
		rc = bt_cursor_open(t, sh->root, &c);
		if (rc == RDB_OK)
			rc = bt_first(c);
		for (i = 0; i < n_del && rc == RDB_OK; i++, (*lo)++)
			rc = bt_cursor_delete(c);
		bt_cursor_close(c);
	} else {
		for (i = 0; i < n_del && rc == RDB_OK; i++, (*lo)++)
			rc = bt_delete(t, sh->root, ikey(*lo, k), 8);
	}
	return rc;
}

/* Loop 0: in-memory files; loop 1: real files (sync NORMAL both). */
START_TEST(test_btree_readers_see_consistent_snapshots_beside_writer)
{
	enum { N_READERS = 3 };
	uint64_t seed = tu_seed(), rng = seed, lo = 0, hi = 0, l2, h2;
	cshared sh;
	pager_stats ps;
	creader rd[N_READERS];
	pthread_t th[N_READERS];
	pager_txn *t;
	rdb_err e = { 0 };
	long i;
	int j;
	rdb_rc rc = RDB_OK;

	tu_seed_note("btree concurrency", seed);
	memset(&sh, 0, sizeof(sh));
	pthread_mutex_init(&sh.mu, NULL);
	sh.p = open_on(_i ? os_unix_vfs() : mem, 512, 128, PAGER_SYNC_NORMAL);
	sh.n_txns = tu_scaled(3000, 200);
	sh.min_scans = tu_scaled(100, 10);
	t = begin(sh.p, 1);
	sh.root = create_tree(t);
	commit(t);
	for (j = 0; j < N_READERS; j++) {
		rd[j] = (creader){ &sh, j, seed + 2 * (uint64_t)j + 2, 0, 0 };
		ck_assert_int_eq(pthread_create(&th[j], NULL, reader_run,
						&rd[j]), 0);
	}
	for (i = 0; i < sh.n_txns && !atomic_load(&sh.failed); i++) {
		t = NULL;
		if ((rc = pager_begin(sh.p, 1, &e, &t)) != RDB_OK)
			break;
		l2 = lo;
		h2 = hi;
		rc = writer_txn(&sh, t, &rng, &l2, &h2);
		if (rc == RDB_OK && tu_rand_below(&rng, 8) == 0) {
			/* a gap that must never be seen */
			unsigned char k[8];

			rc = bt_insert(t, sh.root, ikey(h2 + 5, k), 8, "gap",
				       3);
			pager_rollback(t);
		} else if (rc == RDB_OK) {
			if ((rc = pager_commit(t)) == RDB_OK) {
				lo = l2;
				hi = h2;
			}
		} else {
			pager_rollback(t);
		}
		if (rc != RDB_OK)
			break;
	}
	if (rc != RDB_OK)
		cfail(&sh, "writer", rc, e.msg);
	atomic_store(&sh.done, 1);
	for (j = 0; j < N_READERS; j++)
		pthread_join(th[j], NULL);
	ck_assert_msg(!atomic_load(&sh.failed), "seed %llu: %s",
		      (unsigned long long)seed, sh.msg);

	t = begin(sh.p, 0);
	ck_assert_uint_eq(verify(t, sh.root).keys, hi - lo);
	commit(t);
	pager_get_stats(sh.p, &ps);
	close_db(sh.p);
	pthread_mutex_destroy(&sh.mu);
	fprintf(stderr, "btree concurrency (%s files): %ld writer txns, range "
		"[%llu, %llu), scans per reader %ld/%ld/%ld, %llu pages "
		"spilled\n", _i ? "real" : "memory",
		sh.n_txns, (unsigned long long)lo, (unsigned long long)hi,
		rd[0].scans, rd[1].scans, rd[2].scans,
		(unsigned long long)ps.spills);
}
END_TEST

/* ---- a writer moving money between random accounts -------------------- *
 * Accounts are random integer keys, so the writer splits and merges
 * leaves anywhere in the tree, not only at its edges.  A value is an
 * 8-byte balance and padding whose bytes all equal the balance's low byte
 * (some of it on overflow pages), so a value mixed from two versions
 * shows.  Transfers, splits and merges of accounts keep the total, which
 * every reader snapshot must add up to, forward and backward. */

enum { BANK_START = 2000, BANK_KEYS = 20000, BANK_TOTAL = 2000000 };

static size_t acct_val(uint64_t key, uint64_t bal, unsigned char *v)
{
	size_t pad = key % 13 == 0 ? 600 + key % 100 : key % 50;

	ikey(bal, v);
	memset(v + 8, (int)(bal & 0xff), pad);
	return 8 + pad;
}

static int acct_ok(uint64_t key, const void *v, size_t vl, uint64_t *bal)
{
	unsigned char want[720];

	if (vl < 8)
		return 0;
	*bal = ikey_get(v);
	return vl == acct_val(key, *bal, want) && memcmp(v, want, vl) == 0;
}

static rdb_rc acct_get(pager_txn *t, rdb_pgno root, uint64_t key,
		       uint64_t *bal)
{
	unsigned char k[8];
	void *v = NULL;
	size_t vl;
	rdb_rc rc = bt_get(t, root, ikey(key, k), 8, &v, &vl);

	if (rc == RDB_OK && !acct_ok(key, v, vl, bal))
		rc = RDB_MISMATCH;
	rdb_free(v);
	return rc;
}

static rdb_rc acct_put(pager_txn *t, rdb_pgno root, uint64_t key,
		       uint64_t bal)
{
	unsigned char k[8], v[720];

	return bt_upsert(t, root, ikey(key, k), 8, v, acct_val(key, bal, v),
			 NULL);
}

/* Some existing account: the first at or after a random key. */
static rdb_rc any_acct(pager_txn *t, rdb_pgno root, uint64_t *rng,
		       uint64_t *out)
{
	unsigned char k[8];
	bt_cursor *c = NULL;
	const void *ck;
	size_t kl;
	rdb_rc rc = bt_cursor_open(t, root, &c);

	if (rc == RDB_OK)
		rc = bt_seek_ge(c, ikey(tu_rand_below(rng, BANK_KEYS), k), 8);
	if (rc == RDB_NOTFOUND)
		rc = bt_first(c);
	if (rc == RDB_OK)
		rc = bt_key(c, &ck, &kl);
	if (rc == RDB_OK)
		*out = ikey_get(ck);
	bt_cursor_close(c);
	return rc;
}

/* One change that keeps the total: move money from an account to another
 * (opening it if new), or close an account into another. */
static rdb_rc bank_step(pager_txn *t, rdb_pgno root, uint64_t *rng,
			long *n_acct)
{
	uint64_t a, b = tu_rand_below(rng, BANK_KEYS), ba, bb, amt;
	int merge = tu_rand_below(rng, 3) == 0 && *n_acct > 1000;
	unsigned char k[8];
	rdb_rc rc;

	if ((rc = any_acct(t, root, rng, &a)) != RDB_OK)
		return rc;
	/* mostly to an existing account, so that merges keep up with
	 * the accounts opened */
	if (tu_rand_below(rng, 10) < 7 &&
	    (rc = any_acct(t, root, rng, &b)) != RDB_OK)
		return rc;
	if (a == b)
		return RDB_OK;
	if ((rc = acct_get(t, root, a, &ba)) != RDB_OK)
		return rc;
	rc = acct_get(t, root, b, &bb);
	if (rc == RDB_NOTFOUND) {
		if (*n_acct >= 3000)
			return RDB_OK;
		bb = 0;
		merge = 0;
		++*n_acct;
	} else if (rc != RDB_OK) {
		return rc;
	}
	amt = merge ? ba : tu_rand_below(rng, ba / 2 + 1);
	if (merge) {
		rc = bt_delete(t, root, ikey(a, k), 8);
		--*n_acct;
	} else {
		rc = acct_put(t, root, a, ba - amt);
	}
	return rc != RDB_OK ? rc : acct_put(t, root, b, bb + amt);
}

/* Add up every balance one way. */
static rdb_rc bank_sum(bt_cursor *c, int fwd, uint64_t *sum, uint64_t *n,
		       const char **why)
{
	const void *k, *v;
	size_t kl, vl;
	uint64_t bal;
	rdb_rc rc;

	*sum = *n = 0;
	for (rc = fwd ? bt_first(c) : bt_last(c); rc == RDB_OK;
	     rc = fwd ? bt_next(c) : bt_prev(c)) {
		if ((rc = bt_key(c, &k, &kl)) != RDB_OK ||
		    (rc = bt_value(c, &v, &vl)) != RDB_OK)
			return rc;
		if (kl != 8 || !acct_ok(ikey_get(k), v, vl, &bal))
			return *why = "an account's value is torn",
			       RDB_MISMATCH;
		*sum += bal;
		++*n;
	}
	return rc == RDB_NOTFOUND ? RDB_OK : rc;
}

static void *bank_reader(void *arg)
{
	creader *r = arg;
	cshared *sh = r->sh;
	uint64_t sum_f, sum_b, n_f, n_b;
	const char *why = "";
	rdb_err e = { 0 };
	pager_txn *t;
	bt_cursor *c;
	rdb_rc rc;

	while (!atomic_load(&sh->failed) &&
	       (!atomic_load(&sh->done) || r->scans < sh->min_scans)) {
		t = NULL;
		c = NULL;
		rc = pager_begin(sh->p, 0, &e, &t);
		if (rc == RDB_OK)
			rc = bt_cursor_open(t, sh->root, &c);
		if (rc == RDB_OK)
			rc = bank_sum(c, r->scans % 2, &sum_f, &n_f, &why);
		if (rc == RDB_OK)
			rc = bank_sum(c, r->scans % 2 == 0, &sum_b, &n_b, &why);
		bt_cursor_close(c);
		pager_rollback(t);
		if (rc == RDB_OK && (sum_f != BANK_TOTAL || sum_b != sum_f ||
				     n_b != n_f))
			why = "a snapshot does not add up", rc = RDB_MISMATCH;
		if (rc != RDB_OK) {
			cfail(sh, "reader", rc, rc == RDB_MISMATCH ? why :
			      e.msg);
			break;
		}
		if (n_f > r->max_len)
			r->max_len = n_f;
		r->scans++;
	}
	return NULL;
}

/* The writer: n_txns transactions of 1-20 steps, one in ten rolled back. */
static rdb_rc bank_write(cshared *sh, uint64_t *rng, long *n_acct)
{
	rdb_err e = { 0 };
	pager_txn *t;
	long i, n0;
	int j, n_steps;
	rdb_rc rc = RDB_OK;

	for (i = 0; i < sh->n_txns && !atomic_load(&sh->failed); i++) {
		if ((rc = pager_begin(sh->p, 1, &e, &t)) != RDB_OK)
			break;
		n0 = *n_acct;
		n_steps = 1 + (int)tu_rand_below(rng, 20);
		for (j = 0; j < n_steps && rc == RDB_OK; j++)
			rc = bank_step(t, sh->root, rng, n_acct);
		if (rc != RDB_OK || tu_rand_below(rng, 10) == 0) {
			pager_rollback(t);
			*n_acct = n0;
		} else {
			rc = pager_commit(t);
		}
		if (rc != RDB_OK) {
			cfail(sh, "writer", rc, e.msg);
			break;
		}
	}
	return rc;
}

START_TEST(test_btree_readers_see_constant_total_beside_random_writer)
{
	enum { N_READERS = 3 };
	uint64_t seed = tu_seed(), rng = seed, i;
	long n_acct = BANK_START;
	cshared sh;
	creader rd[N_READERS];
	pthread_t th[N_READERS];
	pager_txn *t;
	int j;

	tu_seed_note("btree concurrency bank", seed);
	memset(&sh, 0, sizeof(sh));
	pthread_mutex_init(&sh.mu, NULL);
	sh.p = open_db(512, 128);
	sh.n_txns = tu_scaled(3000, 200);
	sh.min_scans = tu_scaled(30, 5);
	t = begin(sh.p, 1);
	sh.root = create_tree(t);
	for (i = 0; i < BANK_START; i++)
		OK(acct_put(t, sh.root, i * (BANK_KEYS / BANK_START),
			    BANK_TOTAL / BANK_START));
	commit(t);
	for (j = 0; j < N_READERS; j++) {
		rd[j] = (creader){ &sh, j, 0, 0, 0 };
		ck_assert_int_eq(pthread_create(&th[j], NULL, bank_reader,
						&rd[j]), 0);
	}
	(void)bank_write(&sh, &rng, &n_acct);
	atomic_store(&sh.done, 1);
	for (j = 0; j < N_READERS; j++)
		pthread_join(th[j], NULL);
	ck_assert_msg(!atomic_load(&sh.failed), "seed %llu: %s",
		      (unsigned long long)seed, sh.msg);
	t = begin(sh.p, 0);
	ck_assert_uint_eq(verify(t, sh.root).keys, (uint64_t)n_acct);
	commit(t);
	close_db(sh.p);
	pthread_mutex_destroy(&sh.mu);
	fprintf(stderr, "btree concurrency (bank): %ld writer txns, %ld "
		"accounts at the end, scans per reader %ld/%ld/%ld\n",
		sh.n_txns, n_acct, rd[0].scans, rd[1].scans, rd[2].scans);
}
END_TEST

/* ==== corrupt ========================================================== *
 * A small tree at 512-byte pages is closed cleanly (one file, no WAL);
 * then one page of the file is damaged at a time and the tree reopened. */

enum { CK_KEYS = 300 };

static size_t ckey(unsigned i, unsigned char *k)
{
	return (size_t)sprintf((char *)k, "key/%05u", i * 7);
}

static size_t cvlen(unsigned i)
{
	return i % 10 == 0 ? 700 + i * 3 : i % 7 == 0 ? 0 : 5 + i % 50;
}

/* Build the tree, close, and give the file's bytes and the tree's pages
 * (a bitmap the caller frees). */
static rdb_pgno build_small_tree(unsigned char **file, size_t *len,
				 unsigned char **pages, rdb_pgno *n_pages)
{
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 1);
	rdb_pgno root = create_tree(t);
	unsigned char k[32];
	marks m;
	unsigned i;

	for (i = 0; i < CK_KEYS; i++) {
		unsigned char *v = vmake(cvlen(i), i);

		OK(bt_insert(t, root, k, ckey(i, k), v, cvlen(i)));
		free(v);
	}
	commit(t);
	t = begin(p, 0);
	m = (marks){ NULL, pager_txn_page_count(t), 0, 0 };
	m.seen = calloc(m.n / 8 + 1, 1);
	ck_assert_ptr_nonnull(m.seen);
	(void)verify_into(t, root, &m);
	commit(t);
	close_db(p);
	OK(os_mem_file_bytes(mem, path, file, len));
	ck_assert_uint_eq(*len, (size_t)m.n * 512);
	*pages = m.seen;
	*n_pages = m.n;
	return root;
}

typedef struct cres {
	int n_corrupt;   /* calls that said RDB_CORRUPT */
	int n_other;     /* calls with an unexpected code (named in why) */
	rdb_rc verify_rc;
	rdb_rc scan_rc;  /* how the full scan ended */
	char verify_msg[RDB_ERR_MSG_MAX];
	char why[160];
} cres;

static void cnote(cres *r, const char *what, rdb_rc rc, unsigned i)
{
	if (rc == RDB_CORRUPT) {
		r->n_corrupt++;
		return;
	}
	if (r->n_other++ == 0)
		snprintf(r->why, sizeof(r->why), "%s (key %u): rc %d", what,
			 i, (int)rc);
}

/* Reopen the damaged file and run bt_verify, a full scan with values and
 * a get of every key.  Every answer without an error must be right. */
static void check_damaged(rdb_pgno root, cres *r, int strict)
{
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 0);
	unsigned char k[32], *want;
	bt_cursor *c = NULL;
	const void *ck, *cv;
	size_t kl, ckl, cvl;
	void *v;
	unsigned i = 0, bound = strict ? CK_KEYS : 20 * CK_KEYS;
	rdb_rc rc;

	memset(r, 0, sizeof(*r));
	rdb_err_clear(&err);
	r->verify_rc = bt_verify(t, root, NULL, NULL);
	memcpy(r->verify_msg, err.msg, sizeof(r->verify_msg));
	rc = bt_cursor_open(t, root, &c);    /* may read the root */
	if (rc == RDB_OK)
		rc = bt_first(c);
	for (; rc == RDB_OK && i <= bound; rc = bt_next(c), i++) {
		if ((rc = bt_key(c, &ck, &ckl)) != RDB_OK)
			break;
		kl = ckey(i, k);
		if (strict && (i >= CK_KEYS || ckl != kl ||
			       memcmp(ck, k, kl) != 0)) {
			cnote(r, "scan: wrong key", RDB_OK, i);
			break;
		}
		if ((rc = bt_value(c, &cv, &cvl)) != RDB_OK)
			break;
		want = vmake(cvlen(i), i);
		if (strict && (cvl != cvlen(i) || memcmp(cv, want, cvl)))
			cnote(r, "scan: wrong value", RDB_OK, i);
		free(want);
	}
	r->scan_rc = rc;
	if (i > bound)
		cnote(r, "scan does not end", RDB_OK, i);
	else if (rc != RDB_NOTFOUND || (strict && i != CK_KEYS))
		cnote(r, rc == RDB_NOTFOUND ? "scan ended early" : "scan", rc,
		      i);
	bt_cursor_close(c);
	for (i = 0; i < CK_KEYS; i++) {
		v = NULL;
		rc = bt_get(t, root, k, ckey(i, k), &v, &cvl);
		if (rc == RDB_OK) {
			want = vmake(cvlen(i), i);
			if (strict && (cvl != cvlen(i) ||
				       memcmp(v, want, cvl) != 0))
				cnote(r, "get: wrong value", RDB_OK, i);
			free(want);
			rdb_free(v);
		} else if (rc != RDB_NOTFOUND || strict) {
			cnote(r, "get", rc, i);
		}
	}
	commit(t);
	close_db(p);
}

/* Whether a full scan with values must read page pg of the intact file. */
static int scan_reads(const unsigned char *file, rdb_pgno pg)
{
	unsigned type = file[(size_t)pg * 512 + FMT_PAGE_TYPE];

	return type == FMT_PT_BT_LEAF || type == FMT_PT_BT_OVERFLOW;
}

START_TEST(test_btree_corrupt_flipped_byte_in_any_tree_page_gives_corrupt)
{
	uint64_t seed = tu_seed(), rng = seed;
	unsigned char *file, *pages, *bad;
	size_t len;
	rdb_pgno n, pg;
	rdb_pgno root = build_small_tree(&file, &len, &pages, &n);
	uint32_t offs[12];
	unsigned j, n_trials = 0;
	char num[16];
	cres r;

	tu_seed_note("btree corrupt flips", seed);
	bad = malloc(len);
	ck_assert_ptr_nonnull(bad);
	for (pg = 1; pg < n; pg++) {
		if (!bit_get(pages, pg))
			continue;
		offs[0] = 0;                           /* checksum */
		offs[1] = 7;
		offs[2] = FMT_PAGE_TYPE;
		offs[3] = FMT_PAGE_OWNER;
		offs[4] = FMT_PAGE_BODY - 1;
		offs[5] = FMT_PAGE_BODY;
		offs[6] = FMT_PAGE_BODY + 1;
		offs[7] = 256;
		offs[8] = 511;                         /* often unused space */
		for (j = 9; j < 12; j++)
			offs[j] = (uint32_t)tu_rand_below(&rng, 512);
		for (j = 0; j < 12; j++) {
			memcpy(bad, file, len);
			bad[(size_t)pg * 512 + offs[j]] ^=
				(unsigned char)(1 + tu_rand_below(&rng, 255));
			OK(os_mem_file_set(mem, path, bad, len));
			check_damaged(root, &r, 1);
			ck_assert_msg(r.verify_rc == RDB_CORRUPT,
				      "seed %llu: page %u byte %u flipped: "
				      "bt_verify rc %d", (unsigned long long)
				      seed, pg, offs[j], r.verify_rc);
			snprintf(num, sizeof(num), "%u", pg);
			ck_assert_msg(strstr(r.verify_msg, num) != NULL,
				      "page %u not named: %s", pg,
				      r.verify_msg);
			ck_assert_msg(r.n_other == 0, "seed %llu: page %u "
				      "byte %u flipped: %s",
				      (unsigned long long)seed, pg, offs[j],
				      r.why);
			ck_assert_msg(r.n_corrupt > 0, "page %u byte %u "
				      "flipped: scan and gets never said "
				      "RDB_CORRUPT", pg, offs[j]);
			/* a full scan with values reads every leaf and
			 * overflow page */
			ck_assert_msg(r.scan_rc == RDB_CORRUPT ||
				      !scan_reads(file, pg), "page %u byte %u "
				      "flipped: full scan rc %d", pg, offs[j],
				      r.scan_rc);
			n_trials++;
		}
	}
	ck_assert_uint_gt(n_trials, 12 * 10);
	OK(os_mem_file_set(mem, path, file, len));
	check_damaged(root, &r, 1);            /* the intact file is fine */
	ck_assert_int_eq(r.verify_rc, RDB_OK);
	ck_assert_int_eq(r.n_corrupt + r.n_other, 0);
	free(bad);
	free(file);
	free(pages);
}
END_TEST

static void reseal(unsigned char *page, rdb_pgno pgno)
{
	fmt_put_u64(page + FMT_PAGE_CKSUM,
		    XXH3_64bits_withSeed(page + 8, 512 - 8, pgno));
}

/* Pages whose checksum is right but whose type byte is wrong: the tree
 * itself must notice, never answer wrongly. */
START_TEST(test_btree_corrupt_retyped_page_gives_corrupt_not_wrong_data)
{
	static const unsigned char types[] = { 0, FMT_PT_FREE,
		FMT_PT_BT_INNER, FMT_PT_BT_LEAF, FMT_PT_BT_OVERFLOW,
		FMT_PT_KV, 0xff };
	unsigned char *file, *pages, *bad;
	size_t len;
	rdb_pgno n, pg;
	rdb_pgno root = build_small_tree(&file, &len, &pages, &n);
	unsigned j, n_bad = 0, n_trials = 0;
	char first[400] = "";
	cres r;

	bad = malloc(len);
	ck_assert_ptr_nonnull(bad);
	for (pg = 1; pg < n; pg++) {
		if (!bit_get(pages, pg))
			continue;
		for (j = 0; j < sizeof(types); j++) {
			unsigned char *d = bad + (size_t)pg * 512;
			unsigned was = file[(size_t)pg * 512 + FMT_PAGE_TYPE];
			char msg[400];

			memcpy(bad, file, len);
			if (was == types[j])
				continue;
			d[FMT_PAGE_TYPE] = types[j];
			reseal(d, pg);
			OK(os_mem_file_set(mem, path, bad, len));
			check_damaged(root, &r, 1);
			n_trials++;
			if (r.verify_rc != RDB_CORRUPT)
				snprintf(msg, sizeof(msg), "bt_verify rc %d",
					 r.verify_rc);
			else if (r.n_other > 0)
				snprintf(msg, sizeof(msg), "%s (bt_verify: "
					 "%.200s)", r.why, r.verify_msg);
			else if (r.n_corrupt == 0)
				snprintf(msg, sizeof(msg), "scan and gets "
					 "never said RDB_CORRUPT");
			else if (r.scan_rc != RDB_CORRUPT &&
				 scan_reads(file, pg))
				snprintf(msg, sizeof(msg), "full scan rc %d",
					 r.scan_rc);
			else
				continue;
			/* every case is listed, then the test fails */
			fprintf(stderr, "btree corrupt: page %u%s (type 0x%02x)"
				" as type 0x%02x: %s\n", pg, pg == root ?
				" (root)" : "", was, types[j], msg);
			if (n_bad++ == 0)
				snprintf(first, sizeof(first), "page %u type "
					 "0x%02x as 0x%02x: %.300s", pg, was,
					 types[j], msg);
		}
	}
	ck_assert_msg(n_bad == 0, "%u of %u retyped pages answered wrongly; "
		      "first: %s", n_bad, n_trials, first);
	free(bad);
	free(file);
	free(pages);
}
END_TEST

/* Leaf links, from docs/format.md ("B+ tree nodes"). */
enum { LEAF_PREV = 16, LEAF_NEXT = 20 };

/* Scan the damaged tree one way; gives how it ended and the keys met (a
 * scan that goes on past every page of the file counts as endless). */
static rdb_rc scan_one_way(rdb_pgno root, int fwd, rdb_pgno n_pages,
			   unsigned *n_keys)
{
	pager *p = open_db(512, 64);
	pager_txn *t = begin(p, 0);
	bt_cursor *c = NULL;
	rdb_rc rc;

	*n_keys = 0;
	rc = bt_cursor_open(t, root, &c);
	if (rc == RDB_OK)
		rc = fwd ? bt_first(c) : bt_last(c);
	while (rc == RDB_OK && *n_keys <= CK_KEYS + 200 * n_pages) {
		++*n_keys;
		rc = fwd ? bt_next(c) : bt_prev(c);
	}
	bt_cursor_close(c);
	commit(t);
	close_db(p);
	return rc;
}

/* A leaf of the tree in file (n pages) with a previous leaf and two
 * next ones; gives its prev, next and next-but-one. */
static rdb_pgno middle_leaf(const unsigned char *file,
			    const unsigned char *pages, rdb_pgno n,
			    rdb_pgno *prev, rdb_pgno *next, rdb_pgno *next2)
{
	rdb_pgno pg;

	for (pg = 1; pg < n; pg++) {
		const unsigned char *d = file + (size_t)pg * 512;

		if (!bit_get(pages, pg) || d[FMT_PAGE_TYPE] != FMT_PT_BT_LEAF)
			continue;
		*prev = fmt_get_u32(d + LEAF_PREV);
		*next = fmt_get_u32(d + LEAF_NEXT);
		if (*prev == 0 || *next == 0 || *next >= n)
			continue;
		*next2 = fmt_get_u32(file + (size_t)*next * 512 + LEAF_NEXT);
		if (*next2 != 0)
			return pg;
	}
	ck_abort_msg("no leaf with a neighbour before and two after");
	return 0;
}

/* A middle leaf's next or prev link pointed at itself, back, or past its
 * neighbour (checksums made right): the scan that follows it must stop
 * with RDB_CORRUPT (src/btree/README.md, "Cursors"), bt_verify too. */
START_TEST(test_btree_corrupt_bad_leaf_links_give_corrupt_not_endless)
{
	unsigned char *file, *pages, *bad;
	size_t len;
	rdb_pgno n, leaf, prev, next, next2;
	rdb_pgno root = build_small_tree(&file, &len, &pages, &n);
	unsigned n_keys, j;
	rdb_rc rc;
	cres r;

	leaf = middle_leaf(file, pages, n, &prev, &next, &next2);
	bad = malloc(len);
	ck_assert_ptr_nonnull(bad);
	for (j = 0; j < 5; j++) {
		/* next: self, back, past; prev: self, forward */
		static const int fwd[5] = { 1, 1, 1, 0, 0 };
		rdb_pgno to[5] = { leaf, prev, next2, leaf, next };
		unsigned char *d = bad + (size_t)leaf * 512;

		memcpy(bad, file, len);
		fmt_put_u32(d + (fwd[j] ? LEAF_NEXT : LEAF_PREV), to[j]);
		reseal(d, leaf);
		OK(os_mem_file_set(mem, path, bad, len));
		rc = scan_one_way(root, fwd[j], n, &n_keys);
		ck_assert_msg(rc == RDB_CORRUPT, "leaf %u's %s link set to %u: "
			      "%s scan rc %d after %u keys", leaf,
			      fwd[j] ? "next" : "prev", to[j],
			      fwd[j] ? "forward" : "backward", rc, n_keys);
		check_damaged(root, &r, 1);
		ck_assert_msg(r.verify_rc == RDB_CORRUPT, "leaf %u's link set "
			      "to %u: bt_verify rc %d", leaf, to[j],
			      r.verify_rc);
		ck_assert_msg(r.n_other == 0, "leaf %u's link set to %u: %s",
			      leaf, to[j], r.why);
	}
	free(bad);
	free(file);
	free(pages);
}
END_TEST

/* A middle leaf's next link cut to 0 (checksum made right): a forward
 * scan must not end there as if the tree ended, silently short. */
START_TEST(test_btree_corrupt_cut_leaf_chain_gives_corrupt_not_short_scan)
{
	unsigned char *file, *pages;
	size_t len;
	rdb_pgno n, leaf, prev, next, next2;
	rdb_pgno root = build_small_tree(&file, &len, &pages, &n);
	unsigned n_keys;
	rdb_rc rc;

	leaf = middle_leaf(file, pages, n, &prev, &next, &next2);
	fmt_put_u32(file + (size_t)leaf * 512 + LEAF_NEXT, 0);
	reseal(file + (size_t)leaf * 512, leaf);
	OK(os_mem_file_set(mem, path, file, len));
	rc = scan_one_way(root, 1, n, &n_keys);
	ck_assert_msg(rc == RDB_CORRUPT, "leaf %u's next link (%u) cut: "
		      "forward scan rc %d after %u of %u keys", leaf, next, rc,
		      n_keys, CK_KEYS);
	rc = scan_one_way(root, 0, n, &n_keys);
	ck_assert_msg(rc == RDB_CORRUPT, "leaf %u's next link cut: backward "
		      "scan rc %d after %u keys", leaf, rc, n_keys);
	free(file);
	free(pages);
}
END_TEST

/* Damage page d in one of four ways: random bytes anywhere; random bytes
 * among the first (headers, counts); a 16-bit field set to an extreme; 32
 * bytes copied from a page of the intact file (of n pages). */
static void garble(unsigned char *d, const unsigned char *file, rdb_pgno n,
		   uint64_t *rng, unsigned how)
{
	static const uint16_t extremes[] = { 0, 1, 0xff, 0x100, 511, 512,
					     513, 0x7fff, 0xffff };
	unsigned b, n_bytes = 1 + (unsigned)tu_rand_below(rng, 4);
	uint32_t off;

	switch (how) {
	case 0:
	case 1:
		for (b = 0; b < n_bytes; b++) {
			off = 9 + (uint32_t)tu_rand_below(rng, how ? 40 : 503);
			d[off] = (unsigned char)tu_rand(rng);
		}
		break;
	case 2:
		off = 9 + (uint32_t)tu_rand_below(rng, 64);
		fmt_put_u16(d + off, extremes[tu_rand_below(rng, 9)]);
		break;
	default:
		off = 9 + (uint32_t)tu_rand_below(rng, 503 - 32);
		memcpy(d + off, file + 512 * (1 + tu_rand_below(rng, n - 1)) +
		       16 + tu_rand_below(rng, 512 - 48), 32);
		break;
	}
}

/* Damaged pages with a right checksum: anything may come back (a changed
 * value byte cannot be told), but no crash, no endless scan, and only
 * RDB_OK, RDB_NOTFOUND or RDB_CORRUPT.  Best under ASan. */
START_TEST(test_btree_corrupt_garbled_resealed_page_never_crashes)
{
	uint64_t seed = tu_seed(), rng = seed;
	unsigned char *file, *pages, *bad;
	size_t len;
	rdb_pgno n, pg;
	rdb_pgno root = build_small_tree(&file, &len, &pages, &n);
	unsigned j;
	cres r;

	tu_seed_note("btree corrupt garbled", seed);
	bad = malloc(len);
	ck_assert_ptr_nonnull(bad);
	for (pg = 1; pg < n; pg++) {
		if (!bit_get(pages, pg))
			continue;
		for (j = 0; j < 16; j++) {
			unsigned char *d = bad + (size_t)pg * 512;

			memcpy(bad, file, len);
			garble(d, file, n, &rng, j % 4);
			reseal(d, pg);
			OK(os_mem_file_set(mem, path, bad, len));
			check_damaged(root, &r, 0);
			ck_assert_msg(r.verify_rc == RDB_OK ||
				      r.verify_rc == RDB_CORRUPT,
				      "seed %llu page %u: bt_verify rc %d",
				      (unsigned long long)seed, pg,
				      r.verify_rc);
			ck_assert_msg(r.n_other == 0, "seed %llu page %u "
				      "trial %u: %s", (unsigned long long)seed,
				      pg, j, r.why);
		}
	}
	free(bad);
	free(file);
	free(pages);
}
END_TEST

/* ==== suite ============================================================ */

static TCase *tcase(Suite *s, const char *name, int timeout)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
	return tc;
}

Suite *btree_suite(void)
{
	Suite *s = suite_create("btree");
	TCase *tc;

	tc = tcase(s, "basic", 300);
	tcase_add_test(tc,
		test_btree_ops_on_missing_and_present_keys_give_codes);
	tcase_add_test(tc, test_btree_get_buf_copies_or_says_range_with_length);
	tcase_add_test(tc,
		test_btree_key_longer_than_max_toobig_nothing_changes);
	tcase_add_test(tc, test_btree_empty_key_and_empty_values_roundtrip);
	tcase_add_test(tc,
		test_btree_max_size_keys_sort_and_verify_at_every_page_size);
	tcase_add_test(tc, test_btree_overflow_values_read_whole_and_in_pieces);
	tcase_add_test(tc,
		test_btree_values_of_every_length_around_the_page_size);
	tcase_add_test(tc,
		test_btree_value_read_in_order_reads_each_page_once);
	tcase_add_test(tc,
		test_btree_value_64mib_roundtrip_and_delete_frees_pages);
	tcase_add_test(tc, test_btree_value_size_changes_leak_no_pages);
	tcase_add_test(tc, test_btree_trees_in_one_file_stay_independent);
	tcase_add_test(tc, test_btree_drop_frees_exactly_the_tree_pages);
	tcase_add_test(tc,
		test_btree_changes_in_read_txn_fail_and_change_nothing);
	tcase_add_test(tc, test_btree_trees_survive_reopen_on_real_files);
	tcase_add_test(tc,
		test_btree_verify_stats_count_every_page_of_the_tree);
	tcase_add_test(tc, test_btree_verify_page_already_marked_is_corrupt);
	tcase_add_test(tc,
		test_btree_full_leaves_take_growing_then_shrinking_values);

	tc = tcase(s, "cursor", 300);
	tcase_add_test(tc, test_btree_cursor_on_empty_tree_notfound_everywhere);
	tcase_add_test(tc,
		test_btree_cursor_walks_all_keys_forward_and_backward);
	tcase_add_test(tc,
		test_btree_cursor_seek_ge_le_at_between_and_outside_keys);
	tcase_add_test(tc,
		test_btree_cursor_seek_on_prefix_keys_follows_memcmp_order);
	tcase_add_test(tc,
		test_btree_prefix_chain_keys_split_scan_and_seek_in_order);
	tcase_add_test(tc,
		test_btree_keys_differing_at_any_byte_sort_by_memcmp);
	tcase_add_test(tc,
		test_btree_cursor_delete_every_other_in_forward_scan);
	tcase_add_test(tc,
		test_btree_cursor_put_inserts_or_replaces_and_stays_on_key);
	tcase_add_test(tc,
		test_btree_cursor_continues_from_its_key_after_other_changes);
	tcase_add_test(tc,
		test_btree_reader_keeps_snapshot_while_writer_commits);
	tcase_add_test(tc,
		test_btree_cursor_value_read_sees_value_replaced_by_other_call);
	tcase_add_test(tc,
		test_btree_reader_reads_old_value_after_writer_reuses_pages);
	tcase_add_test(tc, test_btree_reader_scans_tree_dropped_after_it_began);
	tcase_add_test(tc,
		test_btree_cursor_pins_at_most_one_page_smallest_pool);
	tcase_add_test(tc, test_btree_rollback_restores_tree_exactly);

	tc = tcase(s, "model", 600);
	tcase_add_test(tc, test_btree_model_random_ops_match_sorted_array);
	tcase_add_test(tc, test_btree_model_large_cells_match_sorted_array);
	tcase_add_test(tc, test_btree_model_64k_pages_match_sorted_array);

	tc = tcase(s, "space", 600);
	tcase_add_test(tc,
		test_btree_space_ascending_load_fills_and_delete_all_frees);

	tc = tcase(s, "concurrency", 600);
	tcase_add_loop_test(tc,
		test_btree_readers_see_consistent_snapshots_beside_writer,
		0, 2);
	tcase_add_test(tc,
		test_btree_readers_see_constant_total_beside_random_writer);

	tc = tcase(s, "corrupt", 300);
	tcase_add_test(tc,
		test_btree_corrupt_flipped_byte_in_any_tree_page_gives_corrupt);
	tcase_add_test(tc,
		test_btree_corrupt_retyped_page_gives_corrupt_not_wrong_data);
	tcase_add_test(tc,
		test_btree_corrupt_bad_leaf_links_give_corrupt_not_endless);
	tcase_add_test(tc,
		test_btree_corrupt_cut_leaf_chain_gives_corrupt_not_short_scan);
	tcase_add_test(tc,
		test_btree_corrupt_garbled_resealed_page_never_crashes);
	return s;
}
