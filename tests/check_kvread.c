/*
 * check_kvread.c -- reading KV records in runs of log pages straight from
 * the database file (pager_read_run(), the KV store's run reads): which
 * pages a snapshot may read from the file (never its own uncommitted
 * copy, a WAL frame, a page the pool holds or one past its end), snapshot
 * isolation against a later writer that reuses the old log pages, records
 * on WAL-resident pages and the writer's own spilled pages, damaged bytes
 * (RDB_CORRUPT naming key and page), and I/O and allocation failures
 * through the os_mem file system.  Everything runs on the in-memory vfs.
 * Contracts under test: src/pager/pager.h (pager_read_run), src/kv/kv.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rdb.h"
#include "kv/kv.h"
#include "pager/pager.h"
#include "pager/os.h"
#include "err.h"
#include "format.h"
#include "mem.h"
#include "test_util.h"

#define PS 4096u
#define DB "kvread.db"
#define VAL_MAX (256u * 1024u)

typedef struct env {
	os_vfs *vfs;
	pager *p;
	rdb_err err;
} env;

static void env_open(env *e, uint32_t cache)
{
	pager_opts o;

	pager_opts_default(&o);
	o.cache_pages = cache;
	ck_assert_int_eq(pager_open(e->vfs, DB, &o, &e->err, &e->p), RDB_OK);
}

static void env_new(env *e, uint32_t cache)
{
	memset(e, 0, sizeof(*e));
	e->vfs = os_mem_new();
	ck_assert_ptr_nonnull(e->vfs);
	env_open(e, cache);
}

static void env_close(env *e)
{
	ck_assert_int_eq(pager_close(e->p), RDB_OK);
	e->p = NULL;
}

static void env_free(env *e)
{
	if (e->p != NULL)
		env_close(e);
	os_mem_free(e->vfs);
}

/* Incompressible bytes named by (seed, len): stored as they are, so a
 * value's bytes can be found in the file. */
static void fill(unsigned char *v, uint64_t seed, size_t len)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v[i] = (unsigned char)(x >> 24);
	}
}

static pager_txn *begin(env *e, int write)
{
	pager_txn *t;

	ck_assert_int_eq(pager_begin(e->p, write, &e->err, &t), RDB_OK);
	return t;
}

static void put(pager_txn *t, const char *key, uint64_t seed, size_t len)
{
	unsigned char *v = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(v);
	fill(v, seed, len);
	ck_assert_int_eq(kv_put(t, NULL, key, strlen(key), v, len), RDB_OK);
	free(v);
}

static void put_commit(env *e, const char *key, uint64_t seed, size_t len)
{
	pager_txn *t = begin(e, 1);

	put(t, key, seed, len);
	ck_assert_int_eq(pager_commit(t), RDB_OK);
}

/* Get key through cx (run reads) and compare with (seed, len). */
static void expect(pager_txn *t, kv_ctx *cx, const char *key, uint64_t seed,
		   size_t len)
{
	unsigned char *want = malloc(len + 1), *got = malloc(VAL_MAX);
	size_t n = 0;
	rdb_rc rc;

	ck_assert(want != NULL && got != NULL);
	fill(want, seed, len);
	rc = kv_get_into(t, cx, key, strlen(key), got, VAL_MAX, &n);
	ck_assert_msg(rc == RDB_OK, "get '%s': %d %s", key, rc,
		      pager_txn_err(t)->msg);
	ck_assert_uint_eq(n, len);
	ck_assert(memcmp(want, got, len) == 0);
	free(want);
	free(got);
}

/* ==== pager_read_run ================================================== */

/* A reopened pager (empty pool) reads every page of a checkpointed file in
 * one run, with the bytes pager_get() gives; a page the pool then holds
 * ends a run, as does the snapshot's end. */
START_TEST(test_kvread_run_file_pages_match_pager_get)
{
	env e;
	pager_txn *t;
	pager_page *pg;
	unsigned char *buf;
	uint32_t n, got, i;

	env_new(&e, 0);
	put_commit(&e, "a", 1, 40000);
	put_commit(&e, "b", 2, 70000);
	env_close(&e);
	env_open(&e, 0);
	t = begin(&e, 0);
	n = pager_txn_page_count(t) - 1;
	buf = malloc((size_t)(n + 4) * PS);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(pager_read_run(t, 1, n + 4, buf, &got), RDB_OK);
	ck_assert_uint_eq(got, n);
	for (i = 1; i <= n; i++) {
		ck_assert_int_eq(pager_get(t, i, &pg), RDB_OK);
		ck_assert(memcmp(pager_data(pg), buf + (size_t)(i - 1) * PS,
				 PS) == 0);
		pager_unref(pg);
	}
	/* Now the pool holds them: no run. */
	ck_assert_int_eq(pager_read_run(t, 1, 2, buf, &got), RDB_OK);
	ck_assert_uint_eq(got, 0);
	ck_assert_int_eq(pager_read_run(t, 0, 2, buf, &got), RDB_OK);
	ck_assert_uint_eq(got, 0);
	ck_assert_int_eq(pager_read_run(t, n + 1, 2, buf, &got), RDB_OK);
	ck_assert_uint_eq(got, 0);
	pager_rollback(t);
	free(buf);
	env_free(&e);
}
END_TEST

/* Evict page pgno's cached copies by reading other pages through a small
 * pool, until a run of t can read pgno again (bounded). */
static void evict(env *e, pager_txn *t, rdb_pgno pgno, rdb_pgno other,
		  unsigned char *buf)
{
	uint32_t got = 0, i;
	pager_page *pg;

	for (i = 0; i < 1000 && got == 0; i++) {
		ck_assert_int_eq(pager_get(t, other + i % 40, &pg), RDB_OK);
		pager_unref(pg);
		ck_assert_int_eq(pager_read_run(t, pgno, 1, buf, &got),
				 RDB_OK);
	}
	(void)e;
	ck_assert_uint_eq(got, 1);
}

/* The writer's private copy and, once committed, the WAL frame end a run
 * for the writer and for later readers; a reader that began before the
 * commit still reads the page's file copy: the old bytes. */
START_TEST(test_kvread_run_stops_at_private_and_wal_pages)
{
	env e;
	pager_txn *old, *w, *r;
	pager_page *pg;
	unsigned char *buf = malloc(8 * PS), before;
	uint32_t got;
	rdb_pgno p0 = 10;

	ck_assert_ptr_nonnull(buf);
	env_new(&e, 16);
	put_commit(&e, "a", 1, 200000);   /* about 50 log pages */
	env_close(&e);
	env_open(&e, 16);
	old = begin(&e, 0);
	w = begin(&e, 1);
	ck_assert_int_eq(pager_get(w, p0 + 2, &pg), RDB_OK);
	ck_assert_int_eq(pager_write(w, &pg), RDB_OK);
	before = pager_data(pg)[PS - 1];
	pager_data(pg)[PS - 1] = (unsigned char)(before ^ 0x5a);
	pager_unref(pg);
	ck_assert_int_eq(pager_read_run(w, p0, 5, buf, &got), RDB_OK);
	ck_assert_uint_eq(got, 2);
	ck_assert_int_eq(pager_commit(w), RDB_OK);
	r = begin(&e, 0);
	/* With the file's copy of p0 + 2 out of the pool, only its WAL
	 * frame ends r's run. */
	evict(&e, old, p0 + 2, 20, buf);
	ck_assert_int_eq(pager_read_run(r, p0, 5, buf, &got), RDB_OK);
	ck_assert_uint_eq(got, 2);
	ck_assert_int_eq(pager_read_run(old, p0, 5, buf, &got), RDB_OK);
	ck_assert_uint_eq(got, 5);
	ck_assert_uint_eq(buf[2 * PS + PS - 1], before);
	pager_rollback(old);
	pager_rollback(r);
	/* Checkpointed, the file holds the new bytes and runs read them. */
	ck_assert_int_eq(pager_checkpoint(e.p), RDB_OK);
	r = begin(&e, 0);
	evict(&e, r, p0 + 2, 20, buf);
	ck_assert_int_eq(pager_read_run(r, p0 + 2, 1, buf, &got), RDB_OK);
	ck_assert_uint_eq(buf[PS - 1], (unsigned char)(before ^ 0x5a));
	pager_rollback(r);
	free(buf);
	env_free(&e);
}
END_TEST

/* ==== the KV store's reads ============================================ */

/* A reader keeps its snapshot while a writer replaces and deletes its
 * records, compacts (freeing the old log pages) and reuses those pages
 * for new records (WAL frames); a checkpoint meanwhile cannot move them
 * home.  Later readers see the new values, read across WAL-resident
 * pages. */
START_TEST(test_kvread_snapshot_survives_reuse_of_log_pages)
{
	env e;
	kv_ctx cx = { 0 }, cy = { 0 };
	pager_txn *r, *w;
	int existed;

	env_new(&e, 16);
	put_commit(&e, "a", 1, 60000);
	put_commit(&e, "b", 2, 90000);
	put_commit(&e, "c", 3, 30000);
	env_close(&e);
	env_open(&e, 16);
	r = begin(&e, 0);
	expect(r, &cx, "a", 1, 60000);
	w = begin(&e, 1);
	ck_assert_int_eq(kv_delete(w, "b", 1, &existed), RDB_OK);
	ck_assert_int_eq(existed, 1);
	put(w, "a", 11, 45000);
	ck_assert_int_eq(kv_compact(w), RDB_OK);
	put(w, "d", 4, 120000);
	put(w, "e", 5, 50000);
	ck_assert_int_eq(pager_commit(w), RDB_OK);
	ck_assert_int_eq(pager_checkpoint(e.p), RDB_OK);
	expect(r, &cx, "b", 2, 90000);
	expect(r, &cx, "a", 1, 60000);
	expect(r, &cx, "c", 3, 30000);
	w = begin(&e, 0);
	expect(w, &cy, "a", 11, 45000);
	expect(w, &cy, "d", 4, 120000);
	expect(w, &cy, "e", 5, 50000);
	expect(w, &cy, "c", 3, 30000);
	ck_assert_int_eq(kv_get_into(w, &cy, "b", 1, NULL, 0, &(size_t){0}),
			 RDB_NOTFOUND);
	pager_rollback(w);
	expect(r, &cx, "b", 2, 90000);
	pager_rollback(r);
	ck_assert_int_eq(pager_checkpoint(e.p), RDB_OK);
	env_close(&e);
	env_open(&e, 16);
	r = begin(&e, 0);
	expect(r, &cx, "a", 11, 45000);
	expect(r, &cx, "d", 4, 120000);
	ck_assert_int_eq(kv_verify(r, NULL), RDB_OK);
	pager_rollback(r);
	kv_ctx_free(&cx);
	kv_ctx_free(&cy);
	env_free(&e);
}
END_TEST

/* The writer reads its own records: on fresh pages spilled to the file,
 * on private pages still in the pool, and on reused pages (WAL). */
START_TEST(test_kvread_writer_reads_its_own_records)
{
	env e;
	kv_ctx cx = { 0 };
	pager_txn *w;

	env_new(&e, 16);
	put_commit(&e, "old", 9, 100000);
	w = begin(&e, 1);
	put(w, "big", 1, 200000);
	put(w, "mid", 2, 20000);
	expect(w, &cx, "big", 1, 200000);
	expect(w, &cx, "mid", 2, 20000);
	expect(w, &cx, "old", 9, 100000);
	put(w, "old", 10, 30000);
	ck_assert_int_eq(kv_compact(w), RDB_OK);
	put(w, "new", 3, 90000);
	expect(w, &cx, "old", 10, 30000);
	expect(w, &cx, "new", 3, 90000);
	expect(w, &cx, "big", 1, 200000);
	ck_assert_int_eq(pager_commit(w), RDB_OK);
	w = begin(&e, 0);
	expect(w, &cx, "new", 3, 90000);
	expect(w, &cx, "big", 1, 200000);
	pager_rollback(w);
	kv_ctx_free(&cx);
	env_free(&e);
}
END_TEST

/* The store's file image with bytes [off, off + n) XORed with 0x40 (or
 * set to *set), written back durably. */
static void poke(env *e, size_t off, const unsigned char *set, size_t n)
{
	unsigned char *img;
	size_t len, i;

	ck_assert_int_eq(os_mem_file_bytes(e->vfs, DB, &img, &len), RDB_OK);
	ck_assert(off + n <= len);
	for (i = 0; i < n; i++)
		img[off + i] = set ? set[i] : (unsigned char)(img[off + i] ^ 0x40);
	ck_assert_int_eq(os_mem_file_set(e->vfs, DB, img, len), RDB_OK);
	rdb_free(img);
}

/* Where (seed, len)'s bytes [at, at + 64) are in the file. */
static size_t find(env *e, uint64_t seed, size_t len, size_t at)
{
	unsigned char *img, *v = malloc(len);
	size_t n, i, found = 0;

	ck_assert_ptr_nonnull(v);
	fill(v, seed, len);
	ck_assert_int_eq(os_mem_file_bytes(e->vfs, DB, &img, &n), RDB_OK);
	for (i = 0; i + 64 <= n && found == 0; i++)
		if (memcmp(img + i, v + at, 64) == 0)
			found = i;
	ck_assert_uint_ne(found, 0);
	rdb_free(img);
	free(v);
	return found;
}

/* Get key through a fresh pager: RDB_CORRUPT naming key and a page, and
 * key "ok" still readable. */
static void expect_corrupt(env *e, const char *key)
{
	kv_ctx cx = { 0 };
	unsigned char *buf = malloc(VAL_MAX);
	pager_txn *t;
	size_t n;
	rdb_rc rc;
	char want[64];

	env_open(e, 16);
	t = begin(e, 0);
	rc = kv_get_into(t, &cx, key, strlen(key), buf, VAL_MAX, &n);
	ck_assert_int_eq(rc, RDB_CORRUPT);
	snprintf(want, sizeof(want), "key '%s'", key);
	ck_assert_msg(strstr(e->err.msg, want) != NULL &&
		      strstr(e->err.msg, "page") != NULL,
		      "message: %s", e->err.msg);
	expect(t, &cx, "ok", 2, 50000);
	pager_rollback(t);
	kv_ctx_free(&cx);
	free(buf);
	env_close(e);
}

/* A damaged value byte, a log page's type and a log page's link in the
 * middle of a record: each is RDB_CORRUPT for that key only. */
START_TEST(test_kvread_damage_is_corrupt_naming_key)
{
	env e;
	size_t at, page;
	unsigned char bad_type = 0x7f, link[4];

	env_new(&e, 16);
	put_commit(&e, "ok", 2, 50000);
	put_commit(&e, "hurt", 1, 60000);
	env_close(&e);
	at = find(&e, 1, 60000, 30000);
	poke(&e, at + 5, NULL, 1);
	expect_corrupt(&e, "hurt");
	poke(&e, at + 5, NULL, 1);            /* repaired */
	page = at / PS;
	poke(&e, page * PS + FMT_PAGE_TYPE, &bad_type, 1);
	expect_corrupt(&e, "hurt");
	poke(&e, page * PS + FMT_PAGE_TYPE, (const unsigned char[]){ FMT_PT_KV },
	     1);
	/* Link the page to the record of "ok" instead of its successor. */
	fmt_put_u32(link, (uint32_t)(find(&e, 2, 50000, 20000) / PS));
	poke(&e, page * PS + 16, link, 4);
	expect_corrupt(&e, "hurt");
	env_free(&e);
}
END_TEST

/* An I/O error at every file call of a round of gets: each get returns
 * RDB_OK with the right bytes or RDB_IOERR, and after the fault the same
 * transaction reads every value. */
START_TEST(test_kvread_io_error_at_every_call)
{
	static const size_t lens[] = { 9000, 60000, 130000, 2000 };
	env e;
	kv_ctx cx = { 0 };
	unsigned char *buf = malloc(VAL_MAX), *want = malloc(VAL_MAX);
	char key[8];
	uint64_t at;
	int fired = 1;
	unsigned i;

	ck_assert(buf != NULL && want != NULL);
	env_new(&e, 16);
	for (i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		put_commit(&e, key, i + 1, lens[i]);
	}
	env_close(&e);
	for (at = 1; fired; at++) {
		pager_txn *t;
		size_t n;

		env_open(&e, 16);
		t = begin(&e, 0);
		os_mem_set_fault(e.vfs, OS_FAULT_EIO, at, (int)(at % 2), at);
		for (i = 0; i < 4; i++) {
			rdb_rc rc;

			snprintf(key, sizeof(key), "k%u", i);
			rc = kv_get_into(t, &cx, key, 2, buf, VAL_MAX, &n);
			fill(want, i + 1, lens[i]);
			ck_assert_msg(rc == RDB_OK || rc == RDB_IOERR,
				      "fault at %llu: %d",
				      (unsigned long long)at, rc);
			if (rc == RDB_OK)
				ck_assert(n == lens[i] &&
					  memcmp(buf, want, n) == 0);
		}
		fired = os_mem_fault_fired(e.vfs);
		os_mem_set_fault(e.vfs, OS_FAULT_NONE, 0, 0, 0);
		for (i = 0; i < 4; i++) {
			snprintf(key, sizeof(key), "k%u", i);
			expect(t, &cx, key, i + 1, lens[i]);
		}
		pager_rollback(t);
		env_close(&e);
	}
	ck_assert_uint_gt(at, 4);
	kv_ctx_free(&cx);
	free(buf);
	free(want);
	env_free(&e);
}
END_TEST

/* A file cut short in the middle of a record: RDB_CORRUPT for that get. */
START_TEST(test_kvread_truncated_file_is_corrupt)
{
	env e;
	kv_ctx cx = { 0 };
	unsigned char *img, *buf = malloc(VAL_MAX);
	pager_txn *t;
	size_t len, at, n;
	rdb_rc rc;

	ck_assert_ptr_nonnull(buf);
	env_new(&e, 16);
	put_commit(&e, "ok", 2, 5000);
	put_commit(&e, "long", 1, 150000);
	env_close(&e);
	at = find(&e, 1, 150000, 100000);
	ck_assert_int_eq(os_mem_file_bytes(e.vfs, DB, &img, &len), RDB_OK);
	ck_assert_int_eq(os_mem_file_set(e.vfs, DB, img, at / PS * PS),
			 RDB_OK);
	rdb_free(img);
	/* The header's page count is larger than the file: the open may
	 * refuse it; if it does not, the get must. */
	{
		pager_opts o;

		pager_opts_default(&o);
		o.cache_pages = 16;
		rc = pager_open(e.vfs, DB, &o, &e.err, &e.p);
	}
	if (rc == RDB_OK) {
		t = begin(&e, 0);
		rc = kv_get_into(t, &cx, "long", 4, buf, VAL_MAX, &n);
		ck_assert_int_eq(rc, RDB_CORRUPT);
		pager_rollback(t);
	} else {
		e.p = NULL;
		ck_assert(rc == RDB_CORRUPT || rc == RDB_NOTADB);
	}
	kv_ctx_free(&cx);
	free(buf);
	env_free(&e);
}
END_TEST

/* Without memory for the run buffer a get reads through the pool: every
 * injected failure is RDB_NOMEM or the right value, nothing leaks. */
START_TEST(test_kvread_nomem_falls_back_or_fails_cleanly)
{
	env e;
	unsigned char *buf = malloc(VAL_MAX), *want = malloc(VAL_MAX);
	long i;
	int failed = 1;

	ck_assert(buf != NULL && want != NULL);
	env_new(&e, 16);
	put_commit(&e, "v", 7, 100000);
	fill(want, 7, 100000);
	for (i = 1; failed; i++) {
		kv_ctx cx = { 0 };
		pager_txn *t = begin(&e, 0);
		size_t n;
		rdb_rc rc;

		rdb_mem_fail_at(i, 0);
		rc = kv_get_into(t, &cx, "v", 1, buf, VAL_MAX, &n);
		failed = rdb_mem_failed();
		rdb_mem_fail_at(0, 0);
		ck_assert(rc == RDB_OK || rc == RDB_NOMEM);
		if (rc == RDB_OK)
			ck_assert(n == 100000 && memcmp(buf, want, n) == 0);
		expect(t, &cx, "v", 7, 100000);
		pager_rollback(t);
		kv_ctx_free(&cx);
	}
	ck_assert_int_gt(i, 2);
	free(buf);
	free(want);
	env_free(&e);
}
END_TEST

Suite *kvread_suite(void)
{
	Suite *s = suite_create("kvread");
	TCase *tc = tcase_create("runs");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_kvread_run_file_pages_match_pager_get);
	tcase_add_test(tc, test_kvread_run_stops_at_private_and_wal_pages);
	tcase_add_test(tc, test_kvread_snapshot_survives_reuse_of_log_pages);
	tcase_add_test(tc, test_kvread_writer_reads_its_own_records);
	tcase_add_test(tc, test_kvread_damage_is_corrupt_naming_key);
	tcase_add_test(tc, test_kvread_io_error_at_every_call);
	tcase_add_test(tc, test_kvread_truncated_file_is_corrupt);
	tcase_add_test(tc, test_kvread_nomem_falls_back_or_fails_cleanly);
	suite_add_tcase(s, tc);
	return s;
}
