/*
 * check_cellfmt.c -- the compact on-disk encodings of format version 3:
 * B+ tree cells with varint lengths (docs/format.md, "B+ tree nodes"),
 * their bounds checks on damaged pages, and the refusal of files of
 * another format version.  The varint reader is internal to the btree
 * (bt_int.h), so this suite includes it to test it at its boundaries.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include "btree/btree.h"
#include "btree/bt_int.h"
#include "pager/pager.h"
#include "pager/os.h"
#include "format.h"
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

/* ==== varints =========================================================== */

static const uint32_t bounds[] = {
	0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 0x1fffff, 0x200000, 0xfffffff,
	0x10000000, 1u << 30, 0x7fffffff, 0x80000000u, UINT32_MAX
};
#define N_BOUNDS (sizeof(bounds) / sizeof(bounds[0]))

/* Every length boundary (7, 14, 21, 28 bits and the 32-bit end) and its
 * neighbours: written in bt_vsize() bytes, read back whole, refused when
 * one byte short or when the reader's limit is below its size. */
START_TEST(test_cellfmt_varint_round_trips_at_every_length_boundary)
{
	unsigned char b[8];
	uint32_t i, v, n, want;

	for (i = 0; i < N_BOUNDS; i++) {
		want = bounds[i] < 0x80u ? 1 : bounds[i] < 0x4000u ? 2 :
		       bounds[i] < 0x200000u ? 3 :
		       bounds[i] < 0x10000000u ? 4 : 5;
		memset(b, 0xee, sizeof(b));
		n = bt_vput(b, bounds[i]);
		ck_assert_uint_eq(n, want);
		ck_assert_uint_eq(bt_vsize(bounds[i]), want);
		ck_assert_uint_eq(b[n], 0xee);
		v = 12345;
		ck_assert_uint_eq(bt_vget(b, n, 5, &v), n);
		ck_assert_uint_eq(v, bounds[i]);
		ck_assert_uint_eq(bt_vget(b, sizeof(b), 5, &v), n);
		ck_assert_uint_eq(bt_vget(b, n - 1, 5, &v), 0);
		if (n > 1)
			ck_assert_uint_eq(bt_vget(b, n, n - 1, &v), 0);
	}
}
END_TEST

START_TEST(test_cellfmt_varint_refuses_padding_overflow_and_length)
{
	static const struct {
		unsigned char b[7];
		uint32_t n;
	} bad[] = {
		{ { 0x80, 0x00 }, 2 },                     /* padded 0 */
		{ { 0x85, 0x80, 0x00 }, 3 },               /* padded 5 */
		{ { 0xff, 0xff, 0xff, 0xff, 0x10 }, 5 },   /* 2^32 */
		{ { 0xff, 0xff, 0xff, 0xff, 0x7f }, 5 },   /* 2^35 - 1 */
		{ { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 }, 6 },  /* 6 bytes */
		{ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 7 },
	};
	unsigned char max[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
	uint32_t i, v;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(bt_vget(bad[i].b, bad[i].n, 5, &v) == 0,
			      "bad varint %u accepted", i);
	ck_assert_uint_eq(bt_vget(max, 5, 5, &v), 5);
	ck_assert_uint_eq(v, UINT32_MAX);
	ck_assert_uint_eq(bt_vget(max, 0, 5, &v), 0);
}
END_TEST

/* ==== cells ============================================================= */

/* A leaf cell takes its two varints, the key and the value: an empty
 * tree's root after one insert holds exactly that (plus its slot). */
START_TEST(test_cellfmt_leaf_cell_bytes_match_the_documented_format)
{
	static const uint32_t kl[] = { 0, 3, 127, 128 };
	static const uint32_t vl[] = { 0, 34, 127, 128, 300 };
	unsigned char key[200], val[400];
	uint32_t i, j;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(i * 7 + 1);
	for (i = 0; i < sizeof(val); i++)
		val[i] = (unsigned char)(i * 13 + 5);
	for (i = 0; i < sizeof(kl) / sizeof(kl[0]); i++) {
		for (j = 0; j < sizeof(vl) / sizeof(vl[0]); j++) {
			pager *p = open_db(4096);
			pager_txn *t = begin(p, 1);
			pager_page *pg;
			rdb_pgno root;
			const unsigned char *d, *c;
			uint32_t hk = kl[i] < 128 ? 1 : 2;
			uint32_t hv = vl[j] < 128 ? 1 : 2, off, x;

			OK(bt_create(t, &root));
			OK(bt_insert(t, root, key, kl[i], val, vl[j]));
			OK(pager_get(t, root, &pg));
			d = pager_data(pg);
			ck_assert_uint_eq(fmt_get_u16(d + 24), 1);
			off = fmt_get_u16(d + 32);
			ck_assert_uint_eq(off, 4096 - (hk + hv + kl[i] + vl[j]));
			ck_assert_uint_eq(fmt_get_u32(d + 28), off);
			c = d + off;
			ck_assert_uint_eq(bt_vget(c, hk, 2, &x), hk);
			ck_assert_uint_eq(x, kl[i]);
			ck_assert_uint_eq(bt_vget(c + hk, hv, 5, &x), hv);
			ck_assert_uint_eq(x, vl[j]);
			ck_assert(memcmp(c + hk + hv, key, kl[i]) == 0);
			ck_assert(memcmp(c + hk + hv + kl[i], val, vl[j]) == 0);
			pager_unref(pg);
			OK(pager_commit(t));
			OK(pager_close(p));
			OK(mem->remove(mem, path, &err));
		}
	}
}
END_TEST

/* Keys at 0, 1, 127, 128 and the largest length, values across the
 * varint and overflow boundaries, at the smallest and the default page
 * size: everything comes back and the tree verifies. */
START_TEST(test_cellfmt_keys_and_values_at_length_boundaries_round_trip)
{
	static const uint32_t sizes[] = { 512, 4096 };
	static const size_t vl[] = { 0, 1, 127, 128, 400, 1000, 5000, 16383,
				     16384, 70000 };
	unsigned char *val = malloc(70000), key[1100];
	uint32_t s, i, j;

	ck_assert_ptr_nonnull(val);
	for (i = 0; i < 70000; i++)
		val[i] = (unsigned char)(i * 31 + 7);
	for (s = 0; s < 2; s++) {
		uint32_t ps = sizes[s];
		size_t mk = bt_max_key(ps);
		size_t kl[] = { 0, 1, ps > 512 ? 127 : mk - 2,
				ps > 512 ? 128 : mk - 1, mk };
		pager *p = open_db(ps);
		pager_txn *t = begin(p, 1);
		rdb_pgno root;
		bt_stats st;

		ck_assert_uint_eq(mk, (ps - 32) / 4 - 2 - 11);
		OK(bt_create(t, &root));
		for (i = 0; i < 5; i++)
			for (j = 0; j < sizeof(vl) / sizeof(vl[0]); j++) {
				memset(key, (int)(0x40 + i), kl[i]);
				if (kl[i] > 0)
					key[kl[i] - 1] = (unsigned char)j;
				if (kl[i] == 0 && j > 0)
					continue;
				OK(bt_insert(t, root, key, kl[i], val, vl[j]));
			}
		ck_assert(bt_insert(t, root, key, mk + 1, val, 1) ==
			  RDB_TOOBIG);
		OK(pager_commit(t));
		t = begin(p, 0);
		OK(bt_verify(t, root, NULL, &st));
		ck_assert_uint_eq(st.keys, 4 * 10 + 1);
		for (i = 0; i < 5; i++)
			for (j = 0; j < sizeof(vl) / sizeof(vl[0]); j++) {
				void *got;
				size_t n;

				if (kl[i] == 0 && j > 0)
					continue;
				memset(key, (int)(0x40 + i), kl[i]);
				if (kl[i] > 0)
					key[kl[i] - 1] = (unsigned char)j;
				OK(bt_get(t, root, key, kl[i], &got, &n));
				ck_assert_uint_eq(n, vl[j]);
				ck_assert(n == 0 || memcmp(got, val, n) == 0);
				rdb_free(got);
			}
		OK(pager_commit(t));
		OK(pager_close(p));
		OK(mem->remove(mem, path, &err));
	}
	free(val);
}
END_TEST

/* ==== damaged cell headers ============================================== */

static void reseal(unsigned char *page, uint32_t ps, rdb_pgno pgno)
{
	fmt_put_u64(page + FMT_PAGE_CKSUM,
		    XXH3_64bits_withSeed(page + 8, ps - 8, pgno));
}

/* One leaf (the root) with keys "k0".."k9" and 20-byte values; returns
 * the file's bytes (caller frees with rdb_free). */
static unsigned char *one_leaf(rdb_pgno *root, size_t *len)
{
	pager *p = open_db(512);
	pager_txn *t = begin(p, 1);
	unsigned char *file, val[20];
	char key[16];
	int i;

	memset(val, 'v', sizeof(val));
	OK(bt_create(t, root));
	for (i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		OK(bt_insert(t, *root, key, 2, val, sizeof(val)));
	}
	OK(pager_commit(t));
	OK(pager_close(p));
	OK(os_mem_file_bytes(mem, path, &file, len));
	return file;
}

/* Every lookup gives the right value or RDB_CORRUPT; bt_verify says
 * RDB_CORRUPT.  Returns the lookups that said RDB_CORRUPT. */
static int lookups_after_damage(rdb_pgno root, const char *what)
{
	pager *p = open_db(512);
	pager_txn *t = begin(p, 0);
	int i, n_corrupt = 0;
	rdb_rc rc;

	rc = bt_verify(t, root, NULL, NULL);
	ck_assert_msg(rc == RDB_CORRUPT, "%s: bt_verify rc %d", what, rc);
	for (i = 0; i < 10; i++) {
		char key[16];
		void *got = NULL;
		size_t n = 0;

		snprintf(key, sizeof(key), "k%d", i);
		rc = bt_get(t, root, key, 2, &got, &n);
		ck_assert_msg(rc == RDB_CORRUPT || (rc == RDB_OK && n == 20 &&
			      memcmp(got, "vvvvvvvvvvvvvvvvvvvv", 20) == 0),
			      "%s: key %d: rc %d, %zu bytes", what, i, rc, n);
		n_corrupt += rc == RDB_CORRUPT;
		rdb_free(got);
	}
	(void)pager_commit(t);
	OK(pager_close(p));
	return n_corrupt;
}

START_TEST(test_cellfmt_damaged_cell_varints_are_corrupt)
{
	static const struct {
		const char *what;
		uint32_t at;          /* 0: klen, 1: vlen */
		unsigned char b[6];
		uint32_t n;
	} cases[] = {
		{ "padded key length", 0, { 0x82, 0x00 }, 2 },
		{ "three-byte key length", 0, { 0x82, 0x80, 0x00 }, 3 },
		{ "key length past the limit", 0, { 0xff, 0x7f }, 2 },
		{ "key past the page", 0, { 0x64 }, 1 },
		{ "padded value length", 1, { 0x94, 0x00 }, 2 },
		{ "six-byte value length", 1,
		  { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 }, 6 },
		{ "value length over 2^30", 1, { 0x81, 0x80, 0x80, 0x80, 0x04 },
		  5 },
		{ "value length over 32 bits", 1,
		  { 0xff, 0xff, 0xff, 0xff, 0x7f }, 5 },
		{ "value past the page", 1, { 0x64 }, 1 },
	};
	rdb_pgno root;
	size_t len, i;
	unsigned char *file = one_leaf(&root, &len), *bad = malloc(len);

	ck_assert_ptr_nonnull(bad);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char *d = bad + (size_t)root * 512;
		uint32_t off;

		/* Cell 0 ("k0", inserted first) ends the page: each damage
		 * makes it unreadable, and it overwrites only its own bytes
		 * (the 6-byte varints run into the key and value). */
		memcpy(bad, file, len);
		off = fmt_get_u16(d + 32);
		ck_assert_uint_eq(off, 512 - 2 - 2 - 20);
		ck_assert_uint_eq(d[off], 2);          /* klen 2 */
		ck_assert_uint_eq(d[off + 1], 20);     /* vlen 20 */
		memcpy(d + off + cases[i].at, cases[i].b, cases[i].n);
		reseal(d, 512, root);
		OK(os_mem_file_set(mem, path, bad, len));
		ck_assert_msg(lookups_after_damage(root, cases[i].what) > 0,
			      "%s: no lookup said RDB_CORRUPT", cases[i].what);
	}
	OK(os_mem_file_set(mem, path, file, len));
	{
		pager *p = open_db(512);
		pager_txn *t = begin(p, 0);

		OK(bt_verify(t, root, NULL, NULL));
		OK(pager_commit(t));
		OK(pager_close(p));
	}
	free(bad);
	rdb_free(file);
}
END_TEST

/* ==== format version ==================================================== */

START_TEST(test_cellfmt_other_format_version_is_refused_by_name)
{
	static const uint32_t versions[] = { 1, 2, FMT_VERSION + 1 };
	rdb_pgno root;
	size_t len, i;
	unsigned char *file = one_leaf(&root, &len);

	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		pager_opts o;
		pager *p = NULL;
		char want[64];
		rdb_rc rc;

		fmt_put_u32(file + FMT_HDR_VERSION, versions[i]);
		reseal(file, 512, 0);
		OK(os_mem_file_set(mem, path, file, len));
		pager_opts_default(&o);
		o.page_size = 512;
		rc = pager_open(mem, path, &o, &err, &p);
		ck_assert_msg(rc == RDB_CORRUPT, "version %u: rc %d %s",
			      versions[i], rc, err.msg);
		ck_assert_ptr_null(p);
		snprintf(want, sizeof(want), "file format version %u; this "
			 "build reads only version %u", versions[i],
			 FMT_VERSION);
		ck_assert_msg(strstr(err.msg, want) != NULL, "message: %s",
			      err.msg);
	}
	rdb_free(file);
}
END_TEST

Suite *cellfmt_suite(void)
{
	Suite *s = suite_create("cellfmt");
	TCase *tc = tcase_create("varint");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cellfmt_varint_round_trips_at_every_length_boundary);
	tcase_add_test(tc, test_cellfmt_varint_refuses_padding_overflow_and_length);
	suite_add_tcase(s, tc);
	tc = tcase_create("cells");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_cellfmt_leaf_cell_bytes_match_the_documented_format);
	tcase_add_test(tc, test_cellfmt_keys_and_values_at_length_boundaries_round_trip);
	tcase_add_test(tc, test_cellfmt_damaged_cell_varints_are_corrupt);
	tcase_add_test(tc, test_cellfmt_other_format_version_is_refused_by_name);
	suite_add_tcase(s, tc);
	return s;
}
