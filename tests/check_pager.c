/*
 * check_pager.c -- the pager's contract (src/pager/pager.h): opening and
 * creating files, pages and the free list, snapshot transactions, WAL
 * recovery and checkpoints, damaged files, threads, and transactions larger
 * than the cache.  Damaged files are built byte by byte with format.h.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>
#include "pager/pager.h"
#include "format.h"
#include "mem.h"
#include "test_util.h"

/* ==== fixture ========================================================= */

static char path[256];     /* the current test's database */
static char wal[300];      /* and its WAL */
static rdb_err err;        /* borrowed by pagers and main-thread txns */
static os_vfs *mem;        /* a fresh in-memory file system */
static uint32_t ps_now;    /* page size of the last pager opened */

static void setup(void)
{
	tu_tmp_path(path, sizeof(path));
	snprintf(wal, sizeof(wal), "%s-wal", path);
	rdb_err_clear(&err);
	ps_now = 0;
	mem = os_mem_new();
	ck_assert_ptr_nonnull(mem);
}

static void teardown(void)
{
	os_mem_free(mem);
	tu_unlink_db(path);
}

/* ==== helpers: open, begin, commit ==================================== */

/* Defaults, but no automatic checkpoint unless a test asks for one. */
static pager_opts opts(uint32_t page_size, uint32_t cache_pages)
{
	pager_opts o;

	pager_opts_default(&o);
	o.page_size = page_size;
	o.cache_pages = cache_pages;
	o.ckpt_frames = 1000000;
	return o;
}

static rdb_rc open_rc(os_vfs *v, const pager_opts *o, pager **out)
{
	rdb_rc rc = pager_open(v, path, o, &err, out);

	if (rc == RDB_OK)
		ps_now = pager_page_size(*out);
	return rc;
}

static pager *open_ok(os_vfs *v, const pager_opts *o)
{
	pager *p = NULL;
	rdb_rc rc = open_rc(v, o, &p);

	ck_assert_msg(rc == RDB_OK, "open: rc %d: %s", rc, err.msg);
	ck_assert_ptr_nonnull(p);
	return p;
}

static void close_ok(pager *p)
{
	rdb_rc rc = pager_close(p);

	ck_assert_msg(rc == RDB_OK, "close: rc %d: %s", rc, err.msg);
}

static pager_txn *begin_ok(pager *p, int write)
{
	pager_txn *t = NULL;
	rdb_rc rc = pager_begin(p, write, &err, &t);

	ck_assert_msg(rc == RDB_OK, "begin(%d): rc %d: %s", write, rc,
		      err.msg);
	ck_assert_ptr_nonnull(t);
	return t;
}

static void commit_ok(pager_txn *t)
{
	rdb_rc rc = pager_commit(t);

	ck_assert_msg(rc == RDB_OK, "commit: rc %d: %s", rc, err.msg);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ==== helpers: page contents ========================================== *
 * A page holding value v has v at FMT_PAGE_BODY and every later byte
 * derived from v and its page number, so a stray byte anywhere shows. */

static void stamp(unsigned char *d, rdb_pgno pgno, uint64_t v)
{
	uint32_t i;

	fmt_put_u64(d + FMT_PAGE_BODY, v);
	for (i = FMT_PAGE_BODY + 8; i < ps_now; i++)
		d[i] = (unsigned char)(v * 131u + pgno * 7u + i);
}

static int stamp_ok(const unsigned char *d, rdb_pgno pgno, uint64_t v)
{
	uint32_t i;

	if (fmt_get_u64(d + FMT_PAGE_BODY) != v)
		return 0;
	for (i = FMT_PAGE_BODY + 8; i < ps_now; i++)
		if (d[i] != (unsigned char)(v * 131u + pgno * 7u + i))
			return 0;
	return 1;
}

/* Set page pgno of write transaction t to v.  No asserts: threads use it. */
static rdb_rc put_page(pager_txn *t, rdb_pgno pgno, uint64_t v)
{
	pager_page *pg = NULL;
	rdb_rc rc = pager_get(t, pgno, &pg);

	if (rc == RDB_OK)
		rc = pager_write(t, &pg);
	if (rc == RDB_OK)
		stamp(pager_data(pg), pgno, v);
	pager_unref(pg);
	return rc;
}

/* Value of page pgno in t; RDB_MISMATCH if its bytes are not a stamp. */
static rdb_rc get_page(pager_txn *t, rdb_pgno pgno, uint64_t *v)
{
	pager_page *pg = NULL;
	rdb_rc rc = pager_get(t, pgno, &pg);

	*v = 0;
	if (rc != RDB_OK)
		return rc;
	*v = fmt_get_u64(pager_data(pg) + FMT_PAGE_BODY);
	if (!stamp_ok(pager_data(pg), pgno, *v))
		rc = RDB_MISMATCH;
	pager_unref(pg);
	return rc;
}

static void put_ok(pager_txn *t, rdb_pgno pgno, uint64_t v)
{
	rdb_rc rc = put_page(t, pgno, v);

	ck_assert_msg(rc == RDB_OK, "put page %u: rc %d: %s", pgno, rc,
		      err.msg);
}

static uint64_t get_ok(pager_txn *t, rdb_pgno pgno)
{
	uint64_t v;
	rdb_rc rc = get_page(t, pgno, &v);

	ck_assert_msg(rc == RDB_OK, "get page %u: rc %d: %s", pgno, rc,
		      rc == RDB_MISMATCH ? "wrong bytes" : err.msg);
	return v;
}

/* Allocate n pages in t (the file has no free pages, so they come at the
 * end); page i holds base + i. */
static void append_txn(pager_txn *t, unsigned n, uint64_t base)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		rdb_pgno want = pager_txn_page_count(t);
		pager_page *pg = NULL;
		rdb_rc rc = pager_alloc(t, FMT_PT_KV, &pg);

		ck_assert_msg(rc == RDB_OK, "alloc: rc %d: %s", rc, err.msg);
		ck_assert_uint_eq(pager_pgno(pg), want);
		ck_assert_uint_eq(pager_txn_page_count(t), want + 1);
		stamp(pager_data(pg), want, base + want);
		pager_unref(pg);
	}
}

static void append_pages(pager *p, unsigned n, uint64_t base)
{
	pager_txn *t = begin_ok(p, 1);

	append_txn(t, n, base);
	commit_ok(t);
}

/* One transaction setting pages 1..n to base + pgno. */
static void set_all(pager *p, unsigned n, uint64_t base)
{
	pager_txn *t = begin_ok(p, 1);
	rdb_pgno i;

	for (i = 1; i <= n; i++)
		put_ok(t, i, base + i);
	commit_ok(t);
}

/* t's snapshot has exactly pages 1..n, page i holding base + i. */
static void expect_txn(pager_txn *t, unsigned n, uint64_t base)
{
	rdb_pgno i;

	ck_assert_uint_eq(pager_txn_page_count(t), n + 1);
	for (i = 1; i <= n; i++) {
		uint64_t v = get_ok(t, i);

		ck_assert_msg(v == base + i, "page %u holds %llu, want %llu",
			      i, (unsigned long long)v,
			      (unsigned long long)(base + i));
	}
}

static void expect(pager *p, unsigned n, uint64_t base)
{
	pager_txn *t = begin_ok(p, 0);

	expect_txn(t, n, base);
	commit_ok(t);
}

/* ==== helpers: files ================================================== */

/* Whole file into a malloc'ed buffer; NULL (and *len 0) if missing. */
static unsigned char *slurp(const char *f, size_t *len)
{
	FILE *fp = fopen(f, "rb");
	unsigned char *buf;
	long n;

	*len = 0;
	if (fp == NULL)
		return NULL;
	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static int file_exists(const char *f)
{
	return access(f, F_OK) == 0;
}

static int mem_exists(const char *f)
{
	int out = -1;

	ck_assert_int_eq(mem->exists(mem, f, &out, NULL), RDB_OK);
	return out;
}

/* The database and WAL files as a crash would leave them right now. */
typedef struct snap {
	unsigned char *db, *wal;
	size_t n_db, n_wal;
} snap;

static snap snap_take(void)
{
	snap s;

	s.db = slurp(path, &s.n_db);
	s.wal = slurp(wal, &s.n_wal);
	return s;
}

static void snap_restore(snap *s)
{
	tu_write_file(path, s->db, s->n_db);
	if (s->wal != NULL)
		tu_write_file(wal, s->wal, s->n_wal);
	else
		unlink(wal);
	free(s->db);
	free(s->wal);
}

/* Recompute a page's checksum (format.h: XXH3-64 of [8, ps), seed pgno). */
static void reseal(unsigned char *page, rdb_pgno pgno)
{
	fmt_put_u64(page + FMT_PAGE_CKSUM,
		    XXH3_64bits_withSeed(page + 8, ps_now - 8, pgno));
}

/* Crash the mem file system now: every later call fails, p is freed, and
 * the "reboot" keeps what was written (or synced, after POWERLOSS). */
static void mem_crash(pager *p, os_fault kind)
{
	os_mem_set_fault(mem, kind, 1, 1, 1);
	(void)pager_close(p);
	ck_assert(os_mem_crashed(mem));
	os_mem_restart(mem);
}

/* ==== open ============================================================ */

START_TEST(test_pager_opts_default_documented_values)
{
	pager_opts o;
	pager_stats st;
	pager *p;

	memset(&o, 0xff, sizeof(o));
	pager_opts_default(&o);
	ck_assert_int_eq(o.sync, PAGER_SYNC_FULL);
	ck_assert_int_eq(o.readonly, 0);
	ck_assert_int_eq(o.create, 1);
	p = open_ok(mem, &o);
	pager_get_stats(p, &st);
	ck_assert_uint_eq(st.page_size, FMT_DEFAULT_PAGE_SIZE);
	ck_assert_uint_eq(pager_page_size(p), FMT_DEFAULT_PAGE_SIZE);
	ck_assert_uint_eq(st.cache_pages, 2000);
	ck_assert_int_eq(pager_get_sync(p), PAGER_SYNC_FULL);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_open_missing_without_create_cantopen)
{
	pager_opts o = opts(0, 0);
	pager *p = (pager *)&o;    /* must come back NULL */

	o.create = 0;
	ck_assert_int_eq(open_rc(os_unix_vfs(), &o, &p), RDB_CANTOPEN);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(err.rc, RDB_CANTOPEN);
	ck_assert(!file_exists(path));
}
END_TEST

START_TEST(test_pager_open_missing_creates_db_with_header_in_wal)
{
	pager_opts o = opts(0, 0);
	pager *p = open_ok(os_unix_vfs(), &o);
	pager_txn *t;
	pager_stats st;

	ck_assert_msg(file_exists(wal), "new database has no WAL");
	t = begin_ok(p, 0);
	ck_assert_uint_eq(pager_txn_page_count(t), 1);
	ck_assert_uint_eq(pager_txn_free_count(t), 0);
	commit_ok(t);
	pager_get_stats(p, &st);
	ck_assert_uint_eq(st.page_count, 1);
	ck_assert_uint_eq(st.free_pages, 0);
	close_ok(p);
	o.create = 0;
	p = open_ok(os_unix_vfs(), &o);
	expect(p, 0, 0);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_open_empty_file_creates_db)
{
	pager_opts o = opts(1024, 0);
	pager *p;

	tu_write_file(path, "", 0);
	p = open_ok(os_unix_vfs(), &o);
	ck_assert_uint_eq(pager_page_size(p), 1024);
	append_pages(p, 2, 40);
	close_ok(p);
	o.create = 0;
	p = open_ok(os_unix_vfs(), &o);
	expect(p, 2, 40);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_open_readonly_empty_or_missing_cantopen)
{
	pager_opts o = opts(0, 0);
	pager *p = NULL;

	o.readonly = 1;
	ck_assert_int_eq(open_rc(os_unix_vfs(), &o, &p), RDB_CANTOPEN);
	ck_assert_ptr_null(p);
	tu_write_file(path, "", 0);
	ck_assert_int_eq(open_rc(os_unix_vfs(), &o, &p), RDB_CANTOPEN);
	ck_assert_ptr_null(p);
}
END_TEST

START_TEST(test_pager_close_leaves_single_file)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(os_unix_vfs(), &o);
	unsigned char *db;
	size_t n;

	append_pages(p, 10, 0);
	set_all(p, 10, 100);
	ck_assert(file_exists(wal));
	close_ok(p);
	ck_assert_msg(!file_exists(wal), "WAL left after a clean close");
	db = slurp(path, &n);
	ck_assert_ptr_nonnull(db);
	ck_assert_uint_ge(n, 11 * 512);
	ck_assert_uint_eq(n % 512, 0);
	free(db);
	p = open_ok(os_unix_vfs(), &o);
	expect(p, 10, 100);
	close_ok(p);
	ck_assert(!file_exists(wal));
}
END_TEST

START_TEST(test_pager_close_mem_leaves_single_file)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);

	ck_assert_int_eq(mem_exists(wal), 1);
	append_pages(p, 10, 0);
	close_ok(p);
	ck_assert_int_eq(mem_exists(path), 1);
	ck_assert_int_eq(mem_exists(wal), 0);
	p = open_ok(mem, &o);
	expect(p, 10, 0);
	close_ok(p);
}
END_TEST

/* Loop: page size 512 << _i, reopened asking for another size. */
START_TEST(test_pager_open_valid_page_size_kept)
{
	uint32_t ps = 512u << _i;
	pager_opts o = opts(ps, 16);
	pager *p = open_ok(os_unix_vfs(), &o);

	ck_assert_uint_eq(pager_page_size(p), ps);
	append_pages(p, 3, ps);
	close_ok(p);
	o.page_size = ps == 4096 ? 512 : 4096;
	p = open_ok(os_unix_vfs(), &o);
	ck_assert_uint_eq(pager_page_size(p), ps);
	expect(p, 3, ps);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_open_invalid_page_size_misuse)
{
	static const uint32_t bad[] = { 1, 256, 511, 513, 1000, 4095, 4097,
					6144, 131072, 0x80000000u };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pager_opts o = opts(bad[i], 0);
		pager *p = NULL;
		rdb_rc rc = open_rc(os_unix_vfs(), &o, &p);

		ck_assert_msg(rc == RDB_MISUSE, "page size %u: rc %d",
			      bad[i], rc);
		ck_assert_ptr_null(p);
		tu_unlink_db(path);
	}
}
END_TEST

START_TEST(test_pager_open_readonly_rejects_writes_changes_nothing)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(os_unix_vfs(), &o);
	pager_txn *t = (pager_txn *)&o;
	unsigned char *before, *after;
	size_t n_before, n_after;

	append_pages(p, 4, 9);
	close_ok(p);
	before = slurp(path, &n_before);
	o.readonly = 1;
	p = open_ok(os_unix_vfs(), &o);
	ck_assert_int_eq(pager_begin(p, 1, &err, &t), RDB_READONLY);
	ck_assert_ptr_null(t);
	expect(p, 4, 9);
	close_ok(p);
	after = slurp(path, &n_after);
	ck_assert_uint_eq(n_after, n_before);
	ck_assert(memcmp(before, after, n_before) == 0);
	ck_assert(!file_exists(wal));
	free(before);
	free(after);
}
END_TEST

/* Both files hold the bytes of s (which keeps them). */
static void expect_files_unchanged(const snap *s)
{
	snap now = snap_take();

	ck_assert_msg(now.wal != NULL, "the WAL is gone");
	ck_assert_msg(now.n_db == s->n_db &&
		      memcmp(now.db, s->db, s->n_db) == 0,
		      "the database file changed");
	ck_assert_msg(now.n_wal == s->n_wal &&
		      memcmp(now.wal, s->wal, s->n_wal) == 0,
		      "the WAL changed");
	free(now.db);
	free(now.wal);
}

START_TEST(test_pager_readonly_wal_sees_commits_keeps_wal)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(os_unix_vfs(), &o);
	rdb_rc rc;
	snap s;

	append_pages(p, 5, 100);
	set_all(p, 5, 200);
	s = snap_take();
	ck_assert_ptr_nonnull(s.wal);
	close_ok(p);
	snap_restore(&s);
	s = snap_take();
	o.readonly = 1;
	p = open_ok(os_unix_vfs(), &o);
	expect(p, 5, 200);
	rc = pager_checkpoint(p);
	ck_assert_msg(rc == RDB_OK || rc == RDB_READONLY, "checkpoint rc %d",
		      rc);
	expect(p, 5, 200);
	close_ok(p);
	expect_files_unchanged(&s);
	free(s.db);
	free(s.wal);
	o.readonly = 0;
	p = open_ok(os_unix_vfs(), &o);
	expect(p, 5, 200);
	close_ok(p);
	ck_assert(!file_exists(wal));
}
END_TEST

START_TEST(test_pager_open_text_or_random_file_notadb)
{
	char text[1000];
	unsigned char rnd[4096];
	uint64_t seed = tu_seed();
	pager_opts o = opts(0, 0);
	pager *p = (pager *)&o;
	size_t i;

	tu_seed_note("open_text_or_random", seed);
	for (i = 0; i < sizeof(text); i++)
		text[i] = "a database of words, not pages\n"[i % 31];
	tu_write_file(path, text, sizeof(text));
	ck_assert_int_eq(open_rc(os_unix_vfs(), &o, &p), RDB_NOTADB);
	ck_assert_ptr_null(p);
	for (i = 0; i < sizeof(rnd); i++)
		rnd[i] = (unsigned char)tu_rand(&seed);
	tu_write_file(path, rnd, sizeof(rnd));
	ck_assert_int_eq(open_rc(os_unix_vfs(), &o, &p), RDB_NOTADB);
	ck_assert_ptr_null(p);
}
END_TEST

START_TEST(test_pager_open_twice_same_process_busy)
{
	pager_opts o = opts(0, 0);
	pager *p = open_ok(os_unix_vfs(), &o);
	pager *q = (pager *)&o;
	rdb_err e2 = { 0 };

	ck_assert_int_eq(pager_open(os_unix_vfs(), path, &o, &e2, &q),
			 RDB_BUSY);
	ck_assert_ptr_null(q);
	ck_assert_msg(strstr(e2.msg, "locked") != NULL, "msg: %s", e2.msg);
	close_ok(p);
	p = open_ok(os_unix_vfs(), &o);
	close_ok(p);
}
END_TEST

/* The lock is the file's, not the path string's, and read-only opens
 * respect it too. */
START_TEST(test_pager_open_twice_other_spelling_or_readonly_busy)
{
	pager_opts o = opts(0, 0);
	pager *p = open_ok(os_unix_vfs(), &o);
	pager *q = NULL;
	rdb_err e2 = { 0 };
	char alt[300];
	char *slash;

	snprintf(alt, sizeof(alt), "%s", path);
	slash = strrchr(alt, '/');
	ck_assert_ptr_nonnull(slash);
	snprintf(slash, sizeof(alt) - (size_t)(slash - alt), "/./%s",
		 strrchr(path, '/') + 1);
	ck_assert_int_eq(pager_open(os_unix_vfs(), alt, &o, &e2, &q),
			 RDB_BUSY);
	ck_assert_ptr_null(q);
	o.readonly = 1;
	ck_assert_int_eq(pager_open(os_unix_vfs(), path, &o, &e2, &q),
			 RDB_BUSY);
	ck_assert_ptr_null(q);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_open_twice_mem_busy)
{
	pager_opts o = opts(0, 0);
	pager *p = open_ok(mem, &o);
	pager *q = (pager *)&o;
	rdb_err e2 = { 0 };

	ck_assert_int_eq(pager_open(mem, path, &o, &e2, &q), RDB_BUSY);
	ck_assert_ptr_null(q);
	ck_assert_msg(strstr(e2.msg, "locked") != NULL, "msg: %s", e2.msg);
	close_ok(p);
}
END_TEST

/* The child holds the database open until the parent writes a byte. */
static void child_hold_open(const pager_opts *o, int to_parent, int from_parent)
{
	rdb_err e = { 0 };
	pager *p = NULL;
	char c = 'e';

	if (pager_open(os_unix_vfs(), path, o, &e, &p) == RDB_OK)
		c = 'k';

	if (write(to_parent, &c, 1) != 1 || read(from_parent, &c, 1) < 0)
		c = 'e';
	(void)pager_close(p);
	_exit(c == 'e');
}

START_TEST(test_pager_open_locked_by_other_process_busy)
{
	pager_opts o = opts(0, 0);
	pager *p = open_ok(os_unix_vfs(), &o);
	int up[2], down[2], status = -1;
	pid_t pid;
	char c = 0;

	close_ok(p);
	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(down), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0)
		child_hold_open(&o, up[1], down[0]);
	ck_assert_int_eq(read(up[0], &c, 1), 1);
	ck_assert_msg(c == 'k', "child could not open the database");
	ck_assert_int_eq(open_rc(os_unix_vfs(), &o, &p), RDB_BUSY);
	ck_assert_ptr_null(p);
	ck_assert_msg(strstr(err.msg, "locked") != NULL, "msg: %s", err.msg);
	ck_assert_int_eq(write(down[1], "x", 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	p = open_ok(os_unix_vfs(), &o);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_open_in_child_while_parent_holds_busy)
{
	pager_opts o = opts(0, 0);
	pager *p = open_ok(os_unix_vfs(), &o);
	int status = -1;
	pid_t pid = fork();

	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		rdb_err e = { 0 };
		pager *q = NULL;
		rdb_rc rc = pager_open(os_unix_vfs(), path, &o, &e, &q);

		(void)pager_close(q);
		_exit(rc == RDB_BUSY && q == NULL &&
		      strstr(e.msg, "locked") != NULL ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "the child's open was not RDB_BUSY (\"locked\")");
	append_pages(p, 1, 0);
	close_ok(p);
}
END_TEST

/* ==== pages =========================================================== */

START_TEST(test_pager_alloc_gives_zeroed_typed_writable_page)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_txn *t = begin_ok(p, 1);
	pager_page *pg = NULL;
	unsigned char *d;
	uint32_t i;

	ck_assert_int_eq(pager_alloc(t, FMT_PT_BT_LEAF, &pg), RDB_OK);
	ck_assert_uint_eq(pager_pgno(pg), 1);
	ck_assert_uint_eq(pager_txn_page_count(t), 2);
	d = pager_data(pg);
	ck_assert_uint_eq(d[FMT_PAGE_TYPE], FMT_PT_BT_LEAF);
	for (i = FMT_PAGE_OWNER; i < 512; i++)
		ck_assert_msg(d[i] == 0, "new page: byte %u is %u", i, d[i]);
	stamp(d, 1, 5);
	pager_unref(pg);
	ck_assert_uint_eq(get_ok(t, 1), 5);
	commit_ok(t);
	expect(p, 1, 4);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_get_out_of_range_corrupt)
{
	static const rdb_pgno bad[] = { 0, 4, 5, 1000, 0xffffffffu };
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	int write;
	size_t i;

	append_pages(p, 3, 0);
	for (write = 0; write <= 1; write++) {
		pager_txn *t = begin_ok(p, write);

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			pager_page *pg = (pager_page *)&o;

			rdb_err_clear(&err);
			ck_assert_msg(pager_get(t, bad[i], &pg) == RDB_CORRUPT,
				      "get page %u", bad[i]);
			ck_assert_ptr_null(pg);
			ck_assert_int_eq(err.rc, RDB_CORRUPT);
		}
		pager_rollback(t);
	}
	close_ok(p);
}
END_TEST

START_TEST(test_pager_write_twice_keeps_changes)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_txn *t;
	pager_page *pg = NULL;

	append_pages(p, 2, 0);
	t = begin_ok(p, 1);
	ck_assert_int_eq(pager_get(t, 2, &pg), RDB_OK);
	ck_assert_int_eq(pager_write(t, &pg), RDB_OK);
	stamp(pager_data(pg), 2, 77);
	ck_assert_int_eq(pager_write(t, &pg), RDB_OK);
	ck_assert_uint_eq(pager_pgno(pg), 2);
	ck_assert(stamp_ok(pager_data(pg), 2, 77));
	pager_unref(pg);
	commit_ok(t);
	t = begin_ok(p, 0);
	ck_assert_uint_eq(get_ok(t, 1), 1);
	ck_assert_uint_eq(get_ok(t, 2), 77);
	commit_ok(t);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_free_then_alloc_reuses_before_growing)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_txn *t;
	unsigned char was_free[21] = { 0 };
	rdb_pgno i;

	append_pages(p, 20, 0);
	t = begin_ok(p, 1);
	for (i = 2; i <= 20; i += 3) {
		ck_assert_int_eq(pager_free_page(t, i), RDB_OK);
		was_free[i] = 1;
	}
	ck_assert_uint_eq(pager_txn_free_count(t), 7);
	commit_ok(t);
	t = begin_ok(p, 1);
	ck_assert_uint_eq(pager_txn_free_count(t), 7);
	for (i = 0; i < 7; i++) {
		pager_page *pg = NULL;
		rdb_pgno got;
		uint32_t b;

		ck_assert_int_eq(pager_alloc(t, FMT_PT_BT_INNER, &pg), RDB_OK);
		got = pager_pgno(pg);
		ck_assert_msg(got <= 20 && was_free[got], "alloc gave %u", got);
		was_free[got] = 0;
		ck_assert_uint_eq(pager_data(pg)[FMT_PAGE_TYPE],
				  FMT_PT_BT_INNER);
		for (b = FMT_PAGE_OWNER; b < 512; b++)
			ck_assert_uint_eq(pager_data(pg)[b], 0);
		pager_unref(pg);
		ck_assert_uint_eq(pager_txn_page_count(t), 21);
	}
	ck_assert_uint_eq(pager_txn_free_count(t), 0);
	append_txn(t, 1, 0);
	ck_assert_uint_eq(pager_txn_page_count(t), 22);
	commit_ok(t);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_alloc_free_cycles_keep_page_count)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	rdb_pgno got[10];
	pager_stats st;
	pager_txn *t;
	int round, i;

	append_pages(p, 3, 0);
	for (round = 0; round < 50; round++) {
		t = begin_ok(p, 1);
		for (i = 0; i < 10; i++) {
			pager_page *pg = NULL;

			ck_assert_int_eq(pager_alloc(t, FMT_PT_KV, &pg),
					 RDB_OK);
			got[i] = pager_pgno(pg);
			stamp(pager_data(pg), got[i], 7);
			pager_unref(pg);
		}
		commit_ok(t);
		t = begin_ok(p, 1);
		for (i = 0; i < 10; i++)
			ck_assert_uint_eq(get_ok(t, got[i]), 7);
		for (i = 0; i < 10; i++)
			ck_assert_int_eq(pager_free_page(t, got[i]), RDB_OK);
		commit_ok(t);
	}
	pager_get_stats(p, &st);
	ck_assert_msg(st.page_count <= 4 + 10 + 1, "page count %u",
		      st.page_count);
	ck_assert_uint_eq(st.free_pages, st.page_count - 4);
	t = begin_ok(p, 0);
	for (i = 1; i <= 3; i++)
		ck_assert_uint_eq(get_ok(t, (rdb_pgno)i), (uint64_t)i);
	commit_ok(t);
	close_ok(p);
}
END_TEST

/* Loop: read, then write.  Pinning 40 pages with 16 frames: each get
 * (and write) either fails cleanly or gives a page no other pin shares.
 * A failed pager_write leaves *pg NULL or still the pinned original. */
START_TEST(test_pager_pins_beyond_cache_never_share_frames)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_page *pg[41] = { NULL };
	pager_txn *t;
	rdb_pgno i, n_ok = 0;

	append_pages(p, 40, 0);
	t = begin_ok(p, _i);
	for (i = 1; i <= 40; i++) {
		rdb_rc rc = pager_get(t, i, &pg[i]);
		pager_page *was = pg[i];

		if (rc == RDB_OK && _i == 1)
			rc = pager_write(t, &pg[i]);
		if (rc != RDB_OK) {
			ck_assert_msg(pg[i] == NULL || pg[i] == was,
				      "failed write left a new handle");
			pager_unref(pg[i]);
			pg[i] = NULL;
			break;
		}
		n_ok++;
		if (_i == 1)
			stamp(pager_data(pg[i]), i, 500 + i);
	}
	ck_assert_uint_ge(n_ok, 8);    /* the pool may refuse past its size */
	for (i = 1; i <= n_ok; i++) {
		ck_assert_msg(stamp_ok(pager_data(pg[i]), i,
				       (_i == 1 ? 500 : 0) + i),
			      "pinned page %u changed under its pin", i);
		ck_assert_uint_eq(pager_pgno(pg[i]), i);
	}
	for (i = 1; i <= n_ok; i++)
		pager_unref(pg[i]);
	commit_ok(t);
	if (_i == 1 && n_ok == 40)
		expect(p, 40, 500);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_same_page_pinned_twice_reads_same)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_page *a = NULL, *b = NULL;
	pager_txn *t;

	append_pages(p, 2, 0);
	t = begin_ok(p, 0);
	ck_assert_int_eq(pager_get(t, 2, &a), RDB_OK);
	ck_assert_int_eq(pager_get(t, 2, &b), RDB_OK);
	ck_assert(stamp_ok(pager_data(a), 2, 2));
	ck_assert(stamp_ok(pager_data(b), 2, 2));
	pager_unref(a);
	ck_assert(stamp_ok(pager_data(b), 2, 2));
	pager_unref(b);
	commit_ok(t);
	close_ok(p);
}
END_TEST

typedef struct walk {
	unsigned char *seen;   /* per page: times reported */
	rdb_pgno limit;        /* page count */
	unsigned n, trunks, bad, stop_after;
} walk;

static int walk_fn(void *arg, rdb_pgno pgno, int is_trunk)
{
	walk *w = arg;

	if (pgno == 0 || pgno >= w->limit || w->seen[pgno]++)
		w->bad++;
	w->n++;
	w->trunks += is_trunk != 0;
	return w->stop_after != 0 && w->n >= w->stop_after;
}

/* Walk t's free list and check it lists exactly the pages in `freed`. */
static void expect_free_list(pager_txn *t, const unsigned char *freed,
			     unsigned n_freed)
{
	walk w = { 0 };
	rdb_pgno i;

	w.limit = pager_txn_page_count(t);
	w.seen = calloc(w.limit, 1);
	ck_assert_ptr_nonnull(w.seen);
	ck_assert_int_eq(pager_freelist_walk(t, walk_fn, &w), RDB_OK);
	ck_assert_uint_eq(w.bad, 0);
	ck_assert_uint_eq(w.n, n_freed);
	ck_assert_uint_eq(pager_txn_free_count(t), n_freed);
	ck_assert(n_freed == 0 || w.trunks >= 1);
	for (i = 1; i < w.limit; i++)
		ck_assert_msg(w.seen[i] == freed[i], "page %u listed %u times",
			      i, w.seen[i]);
	free(w.seen);
}

/* Loop: free 1, 5, 122, 123 and 300 of 400 pages of 512 bytes (one trunk
 * holds 122 entries). */
START_TEST(test_pager_freelist_walk_lists_every_freed_page)
{
	static const unsigned counts[] = { 1, 5, 122, 123, 300 };
	unsigned n = counts[_i], i;
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	unsigned char freed[401] = { 0 };
	pager_txn *t;
	pager_stats st;

	append_pages(p, 400, 0);
	t = begin_ok(p, 1);
	for (i = 0; i < n; i++) {
		rdb_pgno pg = (i * 7) % 400 + 1;

		ck_assert_int_eq(pager_free_page(t, pg), RDB_OK);
		freed[pg] = 1;
	}
	expect_free_list(t, freed, n);
	commit_ok(t);
	pager_get_stats(p, &st);
	ck_assert_uint_eq(st.free_pages, n);
	close_ok(p);
	p = open_ok(mem, &o);
	t = begin_ok(p, 0);
	expect_free_list(t, freed, n);
	commit_ok(t);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_freelist_walk_stops_when_fn_nonzero)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_txn *t;
	walk w = { 0 };
	unsigned char seen[11] = { 0 };
	rdb_pgno i;

	append_pages(p, 10, 0);
	t = begin_ok(p, 1);
	for (i = 1; i <= 10; i++)
		ck_assert_int_eq(pager_free_page(t, i), RDB_OK);
	commit_ok(t);
	t = begin_ok(p, 0);
	w.seen = seen;
	w.limit = 11;
	w.stop_after = 3;
	ck_assert_int_eq(pager_freelist_walk(t, walk_fn, &w), RDB_OK);
	ck_assert_uint_eq(w.n, 3);
	ck_assert_uint_eq(w.bad, 0);
	commit_ok(t);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_page_types_survive_reopen)
{
	static const uint8_t types[] = { FMT_PT_BT_INNER, FMT_PT_BT_LEAF,
					 FMT_PT_BT_OVERFLOW, FMT_PT_KV };
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_txn *t = begin_ok(p, 1);
	rdb_pgno i;

	for (i = 0; i < 4; i++) {
		pager_page *pg = NULL;

		ck_assert_int_eq(pager_alloc(t, types[i], &pg), RDB_OK);
		ck_assert_uint_eq(pager_pgno(pg), i + 1);
		pager_data(pg)[FMT_PAGE_OWNER] = (unsigned char)(0xA0 + i);
		pager_unref(pg);
	}
	commit_ok(t);
	close_ok(p);
	p = open_ok(mem, &o);
	t = begin_ok(p, 0);
	for (i = 0; i < 4; i++) {
		pager_page *pg = NULL;

		ck_assert_int_eq(pager_get(t, i + 1, &pg), RDB_OK);
		ck_assert_uint_eq(pager_data(pg)[FMT_PAGE_TYPE], types[i]);
		ck_assert_uint_eq(pager_data(pg)[FMT_PAGE_OWNER], 0xA0 + i);
		pager_unref(pg);
	}
	commit_ok(t);
	close_ok(p);
}
END_TEST

#define ANCHOR(i) (0x1111111111ull * ((i) + 1))

START_TEST(test_pager_anchors_commit_with_txn)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_txn *w, *r;
	unsigned i;

	w = begin_ok(p, 1);
	r = begin_ok(p, 0);
	for (i = 0; i < FMT_N_ANCHORS; i++) {
		ck_assert_uint_eq(pager_anchor(w, i), 0);
		ck_assert_int_eq(pager_set_anchor(w, i, ANCHOR(i)), RDB_OK);
	}
	for (i = 0; i < FMT_N_ANCHORS; i++) {
		ck_assert_uint_eq(pager_anchor(w, i), ANCHOR(i));
		ck_assert_uint_eq(pager_anchor(r, i), 0);
	}
	commit_ok(w);
	ck_assert_uint_eq(pager_anchor(r, 7), 0);
	commit_ok(r);
	w = begin_ok(p, 1);
	ck_assert_int_eq(pager_set_anchor(w, 2, 42), RDB_OK);
	pager_rollback(w);
	close_ok(p);
	p = open_ok(mem, &o);
	r = begin_ok(p, 0);
	for (i = 0; i < FMT_N_ANCHORS; i++)
		ck_assert_uint_eq(pager_anchor(r, i), ANCHOR(i));
	commit_ok(r);
	close_ok(p);
}
END_TEST

/* ==== txn ============================================================= */

START_TEST(test_pager_reader_keeps_snapshot_after_writer_commits)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_txn *r, *w;

	append_pages(p, 3, 10);
	r = begin_ok(p, 0);
	ck_assert(!pager_txn_is_write(r));
	set_all(p, 3, 20);
	w = begin_ok(p, 1);
	ck_assert(pager_txn_is_write(w));
	append_txn(w, 2, 20);
	commit_ok(w);
	expect_txn(r, 3, 10);
	ck_assert_int_eq(pager_get(r, 4, &(pager_page *){ NULL }), RDB_CORRUPT);
	commit_ok(r);
	expect(p, 5, 20);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_writer_sees_own_writes_others_do_not)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_txn *r, *w;

	append_pages(p, 3, 10);
	w = begin_ok(p, 1);
	put_ok(w, 2, 99);
	append_txn(w, 1, 0);
	r = begin_ok(p, 0);
	ck_assert_uint_eq(get_ok(w, 2), 99);
	ck_assert_uint_eq(get_ok(w, 4), 4);
	ck_assert_uint_eq(pager_txn_page_count(w), 5);
	expect_txn(r, 3, 10);
	commit_ok(w);
	expect_txn(r, 3, 10);
	commit_ok(r);
	r = begin_ok(p, 0);
	ck_assert_uint_eq(get_ok(r, 2), 99);
	ck_assert_uint_eq(pager_txn_page_count(r), 5);
	commit_ok(r);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_rollback_discards_all_changes)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_txn *t;

	append_pages(p, 10, 0);
	t = begin_ok(p, 1);
	ck_assert_int_eq(pager_set_anchor(t, 3, 33), RDB_OK);
	commit_ok(t);
	t = begin_ok(p, 1);
	put_ok(t, 1, 50);
	put_ok(t, 5, 50);
	append_txn(t, 3, 0);
	ck_assert_int_eq(pager_free_page(t, 6), RDB_OK);
	ck_assert_int_eq(pager_free_page(t, 7), RDB_OK);
	ck_assert_int_eq(pager_set_anchor(t, 3, 99), RDB_OK);
	pager_rollback(t);
	t = begin_ok(p, 1);
	expect_txn(t, 10, 0);
	ck_assert_uint_eq(pager_txn_free_count(t), 0);
	ck_assert_uint_eq(pager_anchor(t, 3), 33);
	append_txn(t, 1, 0);    /* the rolled-back allocs are gone */
	pager_rollback(t);
	close_ok(p);
	p = open_ok(mem, &o);
	expect(p, 10, 0);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_reader_keeps_freed_page_after_reuse)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_txn *r, *w;
	pager_page *pg = NULL;

	append_pages(p, 5, 0);
	r = begin_ok(p, 0);
	w = begin_ok(p, 1);
	ck_assert_int_eq(pager_free_page(w, 3), RDB_OK);
	commit_ok(w);
	w = begin_ok(p, 1);
	ck_assert_int_eq(pager_alloc(w, FMT_PT_KV, &pg), RDB_OK);
	ck_assert_uint_eq(pager_pgno(pg), 3);
	stamp(pager_data(pg), 3, 999);
	pager_unref(pg);
	commit_ok(w);
	ck_assert_int_eq(pager_checkpoint(p), RDB_OK);
	expect_txn(r, 5, 0);
	commit_ok(r);
	r = begin_ok(p, 0);
	ck_assert_uint_eq(get_ok(r, 3), 999);
	commit_ok(r);
	close_ok(p);
}
END_TEST

typedef struct second_writer {
	pager *p;
	rdb_rc rc;
	int got_txn;
	double ms;      /* time pager_begin took */
	uint64_t v1;    /* page 1 as the writer saw it */
	rdb_err e;
} second_writer;

static void *second_writer_run(void *arg)
{
	second_writer *w = arg;
	pager_txn *t = NULL;
	double t0 = now_ms();

	w->rc = pager_begin(w->p, 1, &w->e, &t);
	w->ms = now_ms() - t0;
	w->got_txn = t != NULL;
	if (w->rc == RDB_OK) {
		(void)get_page(t, 1, &w->v1);
		pager_rollback(t);
	}
	return NULL;
}

static pthread_t start_second_writer(second_writer *w, pager *p)
{
	pthread_t th;

	memset(w, 0, sizeof(*w));
	w->p = p;
	ck_assert_int_eq(pthread_create(&th, NULL, second_writer_run, w), 0);
	return th;
}

static void run_second_writer(second_writer *w, pager *p)
{
	ck_assert_int_eq(pthread_join(start_second_writer(w, p), NULL), 0);
}

START_TEST(test_pager_second_writer_busy_after_timeout)
{
	pager_opts o = opts(512, 16);
	pager *p;
	pager_txn *t;
	second_writer w;

	o.busy_timeout_ms = 100;
	p = open_ok(mem, &o);
	append_pages(p, 1, 0);
	t = begin_ok(p, 1);
	run_second_writer(&w, p);
	ck_assert_int_eq(w.rc, RDB_BUSY);
	ck_assert(!w.got_txn);
	ck_assert_msg(w.ms >= 90 && w.ms < 3000, "waited %.1f ms", w.ms);
	put_ok(t, 1, 5);
	commit_ok(t);
	run_second_writer(&w, p);
	ck_assert_int_eq(w.rc, RDB_OK);
	ck_assert_uint_eq(w.v1, 5);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_second_writer_gets_lock_when_first_commits)
{
	pager_opts o = opts(512, 16);
	pager *p;
	pager_txn *t;
	second_writer w;
	pthread_t th;

	o.busy_timeout_ms = 5000;
	p = open_ok(mem, &o);
	append_pages(p, 1, 0);
	t = begin_ok(p, 1);
	put_ok(t, 1, 77);
	th = start_second_writer(&w, p);
	sleep_ms(100);
	commit_ok(t);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_msg(w.rc == RDB_OK, "rc %d: %s", w.rc, w.e.msg);
	ck_assert_uint_eq(w.v1, 77);
	close_ok(p);
}
END_TEST

/* ==== wal ============================================================= */

START_TEST(test_pager_wal_unix_crash_recovers_all_commits)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(os_unix_vfs(), &o);
	snap s;
	unsigned k;

	append_pages(p, 6, 0);
	for (k = 1; k <= 5; k++)
		set_all(p, 6, 100 * k);
	s = snap_take();
	ck_assert_msg(s.n_wal > FMT_WAL_HDR_SIZE, "WAL has %zu bytes", s.n_wal);
	close_ok(p);
	snap_restore(&s);
	p = open_ok(os_unix_vfs(), &o);
	expect(p, 6, 500);
	close_ok(p);
	ck_assert(!file_exists(wal));
}
END_TEST

/* Loop: CRASH then POWERLOSS; under FULL every commit survives both. */
START_TEST(test_pager_wal_mem_crash_recovers_all_commits)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	unsigned k;

	append_pages(p, 6, 0);
	for (k = 1; k <= 5; k++)
		set_all(p, 6, 100 * k);
	mem_crash(p, _i == 0 ? OS_FAULT_CRASH : OS_FAULT_POWERLOSS);
	p = open_ok(mem, &o);
	expect(p, 6, 500);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_checkpoint_keeps_live_reader_snapshot)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_txn *r;
	pager_stats a, b;

	append_pages(p, 40, 100);
	ck_assert_int_eq(pager_checkpoint(p), RDB_OK);
	r = begin_ok(p, 0);
	set_all(p, 40, 200);
	ck_assert_int_eq(pager_checkpoint(p), RDB_OK);
	expect_txn(r, 40, 100);    /* 40 pages > 16 frames: rereads files */
	expect_txn(r, 40, 100);
	commit_ok(r);
	pager_get_stats(p, &a);
	ck_assert_int_eq(pager_checkpoint(p), RDB_OK);
	pager_get_stats(p, &b);
	ck_assert_uint_gt(b.checkpoints, a.checkpoints);
	ck_assert_uint_eq(b.wal_frames_now, 0);
	expect(p, 40, 200);
	close_ok(p);
	p = open_ok(mem, &o);
	expect(p, 40, 200);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_auto_checkpoint_past_ckpt_frames)
{
	pager_opts o = opts(512, 16);
	pager *p;
	pager_stats st;
	unsigned k;

	o.ckpt_frames = 20;
	p = open_ok(mem, &o);
	append_pages(p, 8, 0);
	for (k = 1; k <= 40; k++)
		set_all(p, 8, 10 * k);
	pager_get_stats(p, &st);
	ck_assert_uint_ge(st.checkpoints, 1);
	ck_assert_uint_lt(st.wal_frames_now, st.wal_frames);
	ck_assert_msg(st.wal_frames_now <= 2 * 20, "%u frames in the WAL",
		      st.wal_frames_now);
	close_ok(p);
	p = open_ok(mem, &o);
	expect(p, 8, 400);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_auto_checkpoint_spares_live_reader)
{
	pager_opts o = opts(512, 16);
	pager *p;
	pager_txn *r;
	pager_stats st;
	unsigned k;

	o.ckpt_frames = 20;
	p = open_ok(mem, &o);
	append_pages(p, 8, 0);
	ck_assert_int_eq(pager_checkpoint(p), RDB_OK);
	r = begin_ok(p, 0);
	for (k = 1; k <= 40; k++)
		set_all(p, 8, 10 * k);
	expect_txn(r, 8, 0);
	commit_ok(r);
	for (k = 41; k <= 50; k++)
		set_all(p, 8, 10 * k);
	pager_get_stats(p, &st);
	ck_assert_msg(st.wal_frames_now <= 2 * 20, "%u frames in the WAL",
		      st.wal_frames_now);
	expect(p, 8, 500);
	close_ok(p);
	p = open_ok(mem, &o);
	expect(p, 8, 500);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_no_auto_checkpoint_below_ckpt_frames)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_stats st, st0;
	unsigned k;

	/* Creating the database checkpoints its first header once. */
	pager_get_stats(p, &st0);
	append_pages(p, 8, 0);
	for (k = 1; k <= 40; k++)
		set_all(p, 8, 10 * k);
	pager_get_stats(p, &st);
	ck_assert_uint_eq(st.checkpoints, st0.checkpoints);
	ck_assert_uint_ge(st.wal_frames_now, 40 * 8);
	close_ok(p);
}
END_TEST

/* Frames of the current generation in a WAL image, and the number of
 * commit frames among the first i frames, for each i. */
typedef struct wal_map {
	size_t frame_size;
	unsigned n;
	unsigned commits_upto[65];
} wal_map;

static void map_wal(const unsigned char *w, size_t len, wal_map *m)
{
	uint64_t salt;
	unsigned commits = 0;

	ck_assert_uint_ge(len, FMT_WAL_HDR_SIZE);
	ck_assert_uint_eq(fmt_get_u32(w + FMT_WALH_MAGIC), FMT_WAL_MAGIC);
	ck_assert_uint_eq(fmt_get_u32(w + FMT_WALH_PAGE_SIZE), ps_now);
	salt = fmt_get_u64(w + FMT_WALH_SALT);
	m->frame_size = FMT_WAL_FRAME_HDR + ps_now;
	m->n = 0;
	m->commits_upto[0] = 0;
	while (m->n < 64 &&
	       FMT_WAL_HDR_SIZE + (m->n + 1) * m->frame_size <= len) {
		const unsigned char *f = w + FMT_WAL_HDR_SIZE +
					 m->n * m->frame_size;

		if (fmt_get_u64(f + FMT_WALF_SALT) != salt)
			break;
		commits += fmt_get_u32(f + FMT_WALF_COMMIT) != 0;
		m->commits_upto[++m->n] = commits;
	}
}

/* Install db and WAL images, reopen: pages 1, 2 must hold the state after
 * `commits` of the commits set_all(p, 2, 10 * k) for k = 1, 2, ... */
static void expect_recovery(const unsigned char *db, size_t n_db,
			    const unsigned char *w, size_t n_w,
			    unsigned commits, const char *what, size_t where)
{
	pager_opts o = opts(512, 16);
	pager *p = NULL;
	pager_txn *t;
	rdb_rc rc;
	uint64_t v1 = 0, v2 = 0;

	ck_assert_int_eq(os_mem_file_set(mem, path, db, n_db), RDB_OK);
	ck_assert_int_eq(os_mem_file_set(mem, wal, w, n_w), RDB_OK);
	rc = open_rc(mem, &o, &p);
	ck_assert_msg(rc == RDB_OK, "%s at %zu: open rc %d: %s", what, where,
		      rc, err.msg);
	t = begin_ok(p, 0);
	ck_assert_uint_eq(pager_txn_page_count(t), 3);
	rc = get_page(t, 1, &v1);
	if (rc == RDB_OK)
		rc = get_page(t, 2, &v2);
	ck_assert_msg(rc == RDB_OK && v1 == 10 * commits + 1 &&
		      v2 == 10 * commits + 2,
		      "%s at %zu: rc %d, pages hold %llu %llu; want commit %u",
		      what, where, rc, (unsigned long long)v1,
		      (unsigned long long)v2, commits);
	commit_ok(t);
	close_ok(p);
}

/* A checkpointed 2-page database, then 5 commits left in the WAL by a
 * crash; *db and *w get the files (rdb_free them). */
static void crashed_with_5_commits(unsigned char **db, size_t *n_db,
				   unsigned char **w, size_t *n_w)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	unsigned k;

	append_pages(p, 2, 0);
	ck_assert_int_eq(pager_checkpoint(p), RDB_OK);
	for (k = 1; k <= 5; k++)
		set_all(p, 2, 10 * k);
	mem_crash(p, OS_FAULT_CRASH);
	ck_assert_int_eq(os_mem_file_bytes(mem, path, db, n_db), RDB_OK);
	ck_assert_int_eq(os_mem_file_bytes(mem, wal, w, n_w), RDB_OK);
}

START_TEST(test_pager_wal_damaged_frame_recovers_commits_before_it)
{
	static const size_t at[] = { FMT_WALF_PGNO, FMT_WALF_COMMIT,
				     FMT_WALF_SALT, FMT_WALF_CKSUM,
				     FMT_WAL_FRAME_HDR + FMT_PAGE_CKSUM,
				     FMT_WAL_FRAME_HDR + FMT_PAGE_TYPE,
				     FMT_WAL_FRAME_HDR + FMT_PAGE_BODY,
				     FMT_WAL_FRAME_HDR + 511 };
	static const size_t hdr_at[] = { FMT_WALH_MAGIC, FMT_WALH_VERSION,
					  FMT_WALH_PAGE_SIZE, FMT_WALH_GEN,
					  FMT_WALH_SALT, FMT_WALH_CKSUM };
	unsigned char *db, *w;
	size_t n_db, n_w, i, j;
	wal_map m;

	crashed_with_5_commits(&db, &n_db, &w, &n_w);
	map_wal(w, n_w, &m);
	ck_assert_msg(m.commits_upto[m.n] == 5,
		      "WAL holds %u commits after a checkpoint, want 5",
		      m.commits_upto[m.n]);
	expect_recovery(db, n_db, w, n_w, 5, "intact", 0);
	for (i = 0; i < m.n; i++) {
		for (j = 0; j < sizeof(at) / sizeof(at[0]); j++) {
			size_t off = FMT_WAL_HDR_SIZE + i * m.frame_size +
				     at[j];

			w[off] ^= 0x01;
			expect_recovery(db, n_db, w, n_w, m.commits_upto[i],
					"flipped byte", off);
			w[off] ^= 0x01;
		}
	}
	for (j = 0; j < sizeof(hdr_at) / sizeof(hdr_at[0]); j++) {
		w[hdr_at[j]] ^= 0x01;
		expect_recovery(db, n_db, w, n_w, 0, "flipped header",
				hdr_at[j]);
		w[hdr_at[j]] ^= 0x01;
	}
	rdb_free(db);
	rdb_free(w);
}
END_TEST

START_TEST(test_pager_wal_cut_tail_recovers_last_whole_commit)
{
	unsigned char *db, *w;
	size_t n_db, n_w, len;
	wal_map m;

	crashed_with_5_commits(&db, &n_db, &w, &n_w);
	map_wal(w, n_w, &m);
	ck_assert_uint_eq(m.commits_upto[m.n], 5);
	for (len = 0; len < n_w; len += len % m.frame_size < 40 ? 1 : 37) {
		size_t whole = len < FMT_WAL_HDR_SIZE ? 0 :
			       (len - FMT_WAL_HDR_SIZE) / m.frame_size;

		if (whole > m.n)
			whole = m.n;
		expect_recovery(db, n_db, w, len, m.commits_upto[whole],
				"truncated", len);
	}
	rdb_free(db);
	rdb_free(w);
}
END_TEST

START_TEST(test_pager_wal_garbage_after_last_commit_ignored)
{
	unsigned char *db, *w, *big;
	size_t n_db, n_w, end, i, first;
	uint64_t seed = tu_seed();
	wal_map m;

	tu_seed_note("wal_garbage_after_last_commit", seed);
	crashed_with_5_commits(&db, &n_db, &w, &n_w);
	map_wal(w, n_w, &m);
	end = FMT_WAL_HDR_SIZE + m.n * m.frame_size;
	big = malloc(end + 3 * m.frame_size);
	ck_assert_ptr_nonnull(big);
	memcpy(big, w, end);
	for (i = end; i < end + 3 * m.frame_size; i++)
		big[i] = (unsigned char)tu_rand(&seed);
	expect_recovery(db, n_db, big, end + 1000, 5, "random tail", end);
	/* commit 1's frames again: right salt, broken chain */
	for (first = 1; m.commits_upto[first] == 0; first++)
		;
	ck_assert_uint_le(first, 3);
	memcpy(big + end, w + FMT_WAL_HDR_SIZE, first * m.frame_size);
	expect_recovery(db, n_db, big, end + first * m.frame_size, 5,
			"copied commit", end);
	free(big);
	rdb_free(db);
	rdb_free(w);
}
END_TEST

/* Recompute the chained checksums of the first n frames (format.md). */
static void rechain(unsigned char *w, unsigned n, size_t frame_size)
{
	uint64_t c = fmt_get_u64(w + FMT_WALH_CKSUM);
	unsigned k;

	for (k = 0; k < n; k++) {
		unsigned char *f = w + FMT_WAL_HDR_SIZE + k * frame_size;
		uint64_t h = XXH3_64bits_withSeed(f, 16, c);

		c = XXH3_64bits_withSeed(f + FMT_WAL_FRAME_HDR, ps_now, h);
		fmt_put_u64(f + FMT_WALF_CKSUM, c);
	}
}

/* Loop: a frame of the last commit, its chain made valid again, names a
 * page out of range (from _i 4 on, with its page checksum made valid for
 * that number too).  Recovery must not trust it: RDB_CORRUPT at open, on
 * reading, or at the checkpoint, or the commit dropped; never a huge file,
 * a torn commit, another error, or a crash.  Real files: if the pager
 * writes where it should not, a sparse file costs no memory. */
START_TEST(test_pager_wal_forged_frame_bad_pgno_rejected)
{
	static const rdb_pgno bad_pgno[] = { 3, 1000, 0x00ffffffu,
					     0xffffffffu };
	rdb_pgno bad = bad_pgno[_i % 4];
	pager_opts o = opts(512, 16);
	unsigned char *db, *w, *copy, *f;
	size_t n_db, n_w;
	struct stat st;
	rdb_rc open, get1 = RDB_OK, get2 = RDB_OK, ck = RDB_OK, cl;
	uint64_t v1 = 0, v2 = 0;
	pager *p = NULL;
	pager_txn *t;
	wal_map m;

	crashed_with_5_commits(&db, &n_db, &w, &n_w);
	map_wal(w, n_w, &m);
	copy = malloc(n_w);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, w, n_w);
	rechain(copy, m.n, m.frame_size);
	ck_assert_msg(memcmp(copy, w, n_w) == 0, "rechain disagrees");
	f = w + FMT_WAL_HDR_SIZE + (m.n - 2) * m.frame_size;
	ck_assert_uint_eq(fmt_get_u32(f + FMT_WALF_COMMIT), 0);
	ck_assert_uint_ge(fmt_get_u32(f + FMT_WALF_PGNO), 1);
	fmt_put_u32(f + FMT_WALF_PGNO, bad);
	if (_i >= 4)
		reseal(f + FMT_WAL_FRAME_HDR, bad);
	rechain(w, m.n, m.frame_size);
	tu_write_file(path, db, n_db);
	tu_write_file(wal, w, n_w);
	o.create = 0;
	open = open_rc(os_unix_vfs(), &o, &p);
	if (open == RDB_OK) {
		t = begin_ok(p, 0);
		get1 = get_page(t, 1, &v1);
		get2 = get_page(t, 2, &v2);
		pager_rollback(t);
		ck = pager_checkpoint(p);
	}
	cl = pager_close(p);
	free(copy);
	ck_assert_int_eq(stat(path, &st), 0);
	tu_unlink_db(path);    /* before any failure: it may be huge */
	ck_assert_msg(st.st_size <= 64 * 512, "pgno %u: database grew to %lld",
		      bad, (long long)st.st_size);
	/* pages that read must come from one commit, not a torn mix (when
	 * the open refused the log, nothing was read) */
	ck_assert_msg(open != RDB_OK || get1 != RDB_OK || get2 != RDB_OK ||
		      (v1 == 41 && v2 == 42) || (v1 == 51 && v2 == 52),
		      "pgno %u: pages read %llu and %llu without error",
		      bad, (unsigned long long)v1,
		      (unsigned long long)v2);
	ck_assert_msg(open == RDB_CORRUPT || get1 == RDB_CORRUPT ||
		      get2 == RDB_CORRUPT || ck == RDB_CORRUPT ||
		      cl == RDB_CORRUPT || (open == RDB_OK && v1 == 41 &&
					    v2 == 42 && ck == RDB_OK),
		      "pgno %u: open %d, get %d %d (%llu %llu), checkpoint %d,"
		      " close %d: %s", bad, open, get1, get2,
		      (unsigned long long)v1, (unsigned long long)v2, ck, cl,
		      err.msg);
	rdb_free(db);
	rdb_free(w);
}
END_TEST

/* The newest header frame, resealed and rechained, claims 10 pages where
 * 3 exist: pages 3..9 are in neither file, so reading them is
 * RDB_CORRUPT, never a page of zeros.  (Only commits that change the
 * header log page 0, so the newest header frame need not end the log.) */
START_TEST(test_pager_wal_forged_header_pages_past_end_corrupt)
{
	pager_opts o = opts(512, 16);
	unsigned char *db, *w, *f = NULL;
	size_t n_db, n_w;
	pager *p = NULL;
	pager_txn *t;
	rdb_pgno i;
	unsigned k;
	rdb_rc rc;
	wal_map m;

	crashed_with_5_commits(&db, &n_db, &w, &n_w);
	map_wal(w, n_w, &m);
	for (k = m.n; k-- > 0;) {
		f = w + FMT_WAL_HDR_SIZE + (size_t)k * m.frame_size;
		if (fmt_get_u32(f + FMT_WALF_PGNO) == 0)
			break;
		f = NULL;
	}
	if (f != NULL) {
		/* The log holds the newest header: forge it there. */
		ck_assert_uint_eq(fmt_get_u32(f + FMT_WAL_FRAME_HDR +
					      FMT_HDR_PAGE_COUNT), 3);
		if (fmt_get_u32(f + FMT_WALF_COMMIT) != 0)
			fmt_put_u32(f + FMT_WALF_COMMIT, 10);
		fmt_put_u32(f + FMT_WAL_FRAME_HDR + FMT_HDR_PAGE_COUNT, 10);
		reseal(f + FMT_WAL_FRAME_HDR, 0);
		rechain(w, m.n, m.frame_size);
	} else {
		/* The database file holds it. */
		ck_assert_uint_eq(fmt_get_u32(db + FMT_HDR_PAGE_COUNT), 3);
		fmt_put_u32(db + FMT_HDR_PAGE_COUNT, 10);
		reseal(db, 0);
	}
	ck_assert_int_eq(os_mem_file_set(mem, path, db, n_db), RDB_OK);
	ck_assert_int_eq(os_mem_file_set(mem, wal, w, n_w), RDB_OK);
	o.create = 0;
	rc = open_rc(mem, &o, &p);
	if (rc == RDB_OK) {
		t = begin_ok(p, 0);
		ck_assert_uint_eq(pager_txn_page_count(t), 10);
		ck_assert_uint_eq(get_ok(t, 1), 51);
		ck_assert_uint_eq(get_ok(t, 2), 52);
		for (i = 3; i < 10; i++) {
			pager_page *pg = NULL;

			rc = pager_get(t, i, &pg);
			pager_unref(pg);
			ck_assert_msg(rc == RDB_CORRUPT,
				      "page %u past the end: rc %d", i, rc);
		}
		pager_rollback(t);
		(void)pager_close(p);
	} else {
		ck_assert_int_eq(rc, RDB_CORRUPT);
	}
	rdb_free(db);
	rdb_free(w);
}
END_TEST

START_TEST(test_pager_wal_old_generation_frames_ignored)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	unsigned k;

	append_pages(p, 2, 0);
	for (k = 1; k <= 10; k++)
		set_all(p, 2, 10 * k);
	ck_assert_int_eq(pager_checkpoint(p), RDB_OK);
	set_all(p, 2, 110);
	set_all(p, 2, 120);
	mem_crash(p, OS_FAULT_CRASH);
	p = open_ok(mem, &o);
	expect(p, 2, 120);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_wal_garbage_file_ignored)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	unsigned char junk[5000];
	uint64_t seed = tu_seed();
	size_t i;

	tu_seed_note("wal_garbage_file", seed);
	append_pages(p, 3, 7);
	close_ok(p);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)tu_rand(&seed);
	ck_assert_int_eq(os_mem_file_set(mem, wal, junk, sizeof(junk)), RDB_OK);
	p = open_ok(mem, &o);
	expect(p, 3, 7);
	close_ok(p);
}
END_TEST

/* Write pages 1, 2 := base + pgno in one transaction; no asserts. */
static rdb_rc try_set_two(pager *p, uint64_t base)
{
	pager_txn *t = NULL;
	rdb_rc rc = pager_begin(p, 1, &err, &t);

	if (rc != RDB_OK)
		return rc;
	rc = put_page(t, 1, base + 1);
	if (rc == RDB_OK)
		rc = put_page(t, 2, base + 2);
	if (rc != RDB_OK) {
		pager_rollback(t);
		return rc;
	}
	return pager_commit(t);
}

/* A write to a file nobody reads, so that a torn "most recent write"
 * before the pager writes anything harms no one. */
static void decoy_write(os_vfs *v)
{
	os_file *f = NULL;

	ck_assert_int_eq(v->open(v, "decoy", OS_OPEN_CREATE, &f, NULL), RDB_OK);
	ck_assert_int_eq(os_write(f, 0, "decoy", 5, NULL), RDB_OK);
	os_close(f);
}

/* One run with the fault at call `at`; 1 if the fault fired. */
static int commit_with_fault_at(os_fault kind, uint64_t at, uint64_t seed)
{
	os_vfs *v = os_mem_new();
	pager_opts o = opts(512, 16);
	pager *p;
	pager_txn *t;
	rdb_rc rc;
	uint64_t v1, v2;
	int fired;

	ck_assert_ptr_nonnull(v);
	p = open_ok(v, &o);
	append_pages(p, 2, 0);
	decoy_write(v);
	os_mem_set_fault(v, kind, at, 0, seed);
	rc = try_set_two(p, 100);
	(void)pager_close(p);
	fired = os_mem_fault_fired(v);
	os_mem_restart(v);
	p = open_ok(v, &o);
	t = begin_ok(p, 0);
	v1 = get_ok(t, 1);
	v2 = get_ok(t, 2);
	ck_assert_msg((v1 == 101 && v2 == 102) ||
		      (rc != RDB_OK && v1 == 1 && v2 == 2),
		      "fault %d at call %llu: commit rc %d, pages %llu %llu",
		      (int)kind, (unsigned long long)at, rc,
		      (unsigned long long)v1, (unsigned long long)v2);
	commit_ok(t);
	close_ok(p);
	os_mem_free(v);
	return fired;
}

/* Loop: CRASH, POWERLOSS, TORN at every call of a FULL commit and close. */
START_TEST(test_pager_wal_fault_during_commit_gives_old_or_new)
{
	static const os_fault kinds[] = { OS_FAULT_CRASH, OS_FAULT_POWERLOSS,
					  OS_FAULT_TORN };
	uint64_t seed = tu_seed(), at;

	tu_seed_note("wal_fault_during_commit", seed);
	for (at = 1; at < 1000; at++)
		if (!commit_with_fault_at(kinds[_i], at, seed + at))
			break;
	ck_assert_msg(at < 1000, "the fault kept firing");
}
END_TEST

/* Loop: OFF then NORMAL.  A crash (OFF) or power loss (NORMAL) may lose
 * recent commits, but what remains is one whole commit, anchor included. */
START_TEST(test_pager_lazy_sync_crash_keeps_whole_commit)
{
	pager_opts o = opts(512, 16);
	pager *p;
	pager_txn *t;
	uint64_t v, k;
	rdb_pgno i;

	o.sync = _i == 0 ? PAGER_SYNC_OFF : PAGER_SYNC_NORMAL;
	o.ckpt_frames = 40;
	p = open_ok(mem, &o);
	append_pages(p, 4, 0);
	pager_set_sync(p, PAGER_SYNC_FULL);
	set_all(p, 4, 0);
	pager_set_sync(p, o.sync);
	for (k = 1; k <= 50; k++) {
		t = begin_ok(p, 1);
		for (i = 1; i <= 4; i++)
			put_ok(t, i, 10 * k + i);
		ck_assert_int_eq(pager_set_anchor(t, 5, k), RDB_OK);
		commit_ok(t);
	}
	mem_crash(p, _i == 0 ? OS_FAULT_CRASH : OS_FAULT_POWERLOSS);
	p = open_ok(mem, &o);
	t = begin_ok(p, 0);
	v = get_ok(t, 1);
	k = (v - 1) / 10;
	ck_assert_msg(v % 10 == 1 && k <= 50, "page 1 holds %llu",
		      (unsigned long long)v);
	for (i = 2; i <= 4; i++)
		ck_assert_uint_eq(get_ok(t, i), 10 * k + i);
	ck_assert_uint_eq(pager_anchor(t, 5), k);
	commit_ok(t);
	close_ok(p);
}
END_TEST

/* A reader whose snapshot lies in the WAL keeps it while a checkpoint
 * copies everything, the WAL restarts and new commits reuse its space. */
START_TEST(test_pager_reader_spans_wal_restart)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_txn *r;
	pager_stats st;

	append_pages(p, 40, 100);
	r = begin_ok(p, 0);
	ck_assert_int_eq(pager_checkpoint(p), RDB_OK);
	set_all(p, 40, 200);
	expect_txn(r, 40, 100);
	ck_assert_int_eq(pager_checkpoint(p), RDB_OK);
	set_all(p, 40, 300);
	ck_assert_int_eq(pager_checkpoint(p), RDB_OK);
	expect_txn(r, 40, 100);
	commit_ok(r);
	ck_assert_int_eq(pager_checkpoint(p), RDB_OK);
	pager_get_stats(p, &st);
	ck_assert_uint_eq(st.wal_frames_now, 0);
	expect(p, 40, 300);
	close_ok(p);
	p = open_ok(mem, &o);
	expect(p, 40, 300);
	close_ok(p);
}
END_TEST

/* Readers begun after each of six commits, checkpoints in between: each
 * keeps its own snapshot until it ends, in any order. */
START_TEST(test_pager_many_snapshots_survive_checkpoints)
{
	static const int end_order[] = { 3, 0, 5, 1, 4, 2 };
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_txn *r[6];
	int k;

	append_pages(p, 40, 0);
	for (k = 0; k < 6; k++) {
		set_all(p, 40, 100 * (k + 1));
		r[k] = begin_ok(p, 0);
		if (k % 2 == 1)
			ck_assert_int_eq(pager_checkpoint(p), RDB_OK);
	}
	set_all(p, 40, 1000);
	for (k = 0; k < 6; k++) {
		int j = end_order[k];

		ck_assert_int_eq(pager_checkpoint(p), RDB_OK);
		expect_txn(r[j], 40, 100 * (j + 1));
		commit_ok(r[j]);
		set_all(p, 40, 1000 + k);
	}
	ck_assert_int_eq(pager_checkpoint(p), RDB_OK);
	expect(p, 40, 1005);
	close_ok(p);
	p = open_ok(mem, &o);
	expect(p, 40, 1005);
	close_ok(p);
}
END_TEST

/* A new database crashes before anything was checkpointed: the WAL alone
 * holds it, and opening without create recovers it. */
START_TEST(test_pager_crash_before_first_checkpoint_recovers)
{
	pager_opts o = opts(1024, 16);
	pager *p = open_ok(mem, &o);

	append_pages(p, 3, 70);
	mem_crash(p, OS_FAULT_POWERLOSS);
	o.create = 0;
	o.page_size = 0;
	p = open_ok(mem, &o);
	ck_assert_uint_eq(pager_page_size(p), 1024);
	expect(p, 3, 70);
	close_ok(p);
	p = open_ok(mem, &o);
	ck_assert_uint_eq(pager_page_size(p), 1024);
	expect(p, 3, 70);
	close_ok(p);
}
END_TEST

typedef struct ckpt_try {
	pager *p;
	rdb_rc rc;
	double ms;
} ckpt_try;

static void *ckpt_try_run(void *arg)
{
	ckpt_try *c = arg;
	double t0 = now_ms();

	c->rc = pager_checkpoint(c->p);
	c->ms = now_ms() - t0;
	return NULL;
}

START_TEST(test_pager_checkpoint_busy_while_writer_holds_lock)
{
	pager_opts o = opts(512, 16);
	ckpt_try c = { NULL, RDB_OK, 0 };
	pthread_t th;
	pager_txn *t;

	o.busy_timeout_ms = 100;
	c.p = open_ok(mem, &o);
	append_pages(c.p, 2, 0);
	t = begin_ok(c.p, 1);
	put_ok(t, 1, 3);
	ck_assert_int_eq(pthread_create(&th, NULL, ckpt_try_run, &c), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(c.rc, RDB_BUSY);
	ck_assert_msg(c.ms >= 90, "waited %.1f ms", c.ms);
	commit_ok(t);
	ck_assert_int_eq(pager_checkpoint(c.p), RDB_OK);
	close_ok(c.p);
}
END_TEST

START_TEST(test_pager_stats_count_hits_misses_evictions)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_txn *t;
	pager_stats a, b, c;
	rdb_pgno i;

	append_pages(p, 64, 0);
	close_ok(p);
	p = open_ok(mem, &o);
	t = begin_ok(p, 0);
	pager_get_stats(p, &a);
	ck_assert_uint_eq(a.cache_pages, 16);
	ck_assert_uint_eq(a.page_size, 512);
	ck_assert_uint_eq(a.page_count, 65);
	ck_assert_uint_eq(a.free_pages, 0);
	get_ok(t, 1);
	pager_get_stats(p, &b);
	ck_assert_uint_eq(b.misses, a.misses + 1);
	ck_assert_uint_eq(b.hits, a.hits);
	get_ok(t, 1);
	pager_get_stats(p, &c);
	ck_assert_uint_eq(c.hits, b.hits + 1);
	ck_assert_uint_eq(c.misses, b.misses);
	for (i = 1; i <= 64; i++)
		get_ok(t, i);
	pager_get_stats(p, &a);
	ck_assert_uint_ge(a.misses, c.misses + 63);
	ck_assert_uint_gt(a.evictions, c.evictions);
	commit_ok(t);
	close_ok(p);
}
END_TEST

/* The pool's clock (pool.c): a page used between every two misses stays
 * in a pool of 16 frames while 63 other pages pass through it, once and
 * again. */
START_TEST(test_pager_pool_hot_page_stays_while_others_pass)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_txn *t;
	pager_stats a, b;
	rdb_pgno i;
	int round;

	append_pages(p, 64, 5);
	close_ok(p);
	p = open_ok(mem, &o);
	t = begin_ok(p, 0);
	ck_assert_uint_eq(get_ok(t, 1), 6);
	for (round = 0; round < 3; round++) {
		for (i = 2; i <= 64; i++) {
			ck_assert_uint_eq(get_ok(t, i), 5 + i);
			pager_get_stats(p, &a);
			ck_assert_uint_eq(get_ok(t, 1), 6);
			pager_get_stats(p, &b);
			ck_assert_msg(b.misses == a.misses, "round %d page %u: "
				      "page 1 was evicted", round, i);
		}
	}
	pager_get_stats(p, &a);
	ck_assert_uint_ge(a.evictions, 3 * 63 - 16);
	commit_ok(t);
	close_ok(p);
}
END_TEST

/* Random pins and unpins in a small pool against the pages' stamps: the
 * clock never hands out a pinned frame, a full pool is RDB_NOMEM (and
 * usable after unpinning), and the invariants hold throughout. */
START_TEST(test_pager_pool_random_pins_match_model)
{
	uint64_t seed = tu_seed(), s = seed;
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_txn *t;
	pager_page *held[32] = { 0 };
	long step, nsteps = tu_scaled(20000, 4000);
	int nheld = 0, full = 0;

	tu_seed_note("pager pool pins", seed);
	append_pages(p, 200, 1000);
	close_ok(p);
	p = open_ok(mem, &o);
	t = begin_ok(p, 0);
	for (step = 0; step < nsteps; step++) {
		unsigned r = (unsigned)tu_rand_below(&s, 10);

		if (r < 4 && nheld > 0) {
			int j = (int)tu_rand_below(&s, (uint64_t)nheld);

			pager_unref(held[j]);
			held[j] = held[--nheld];
		} else {
			/* Mostly a few hot pages, sometimes any. */
			rdb_pgno pg = (rdb_pgno)(1 + (r < 7 ?
				tu_rand_below(&s, 10) :
				tu_rand_below(&s, 200)));
			pager_page *x = NULL;
			rdb_rc rc = pager_get(t, pg, &x);

			int j, k, among = 0, frames = 0;

			for (j = 0; j < nheld; j++) {
				among |= pager_pgno(held[j]) == pg;
				for (k = 0; k < j && held[k] != held[j]; k++)
					;
				frames += k == j;   /* distinct frames */
			}
			if (rc == RDB_NOMEM) {
				/* Every frame is pinned, none by pg. */
				ck_assert(frames == 16 && !among);
				ck_assert_ptr_null(x);
				full++;
				continue;
			}
			ck_assert_int_eq(rc, RDB_OK);
			ck_assert(frames < 16 || among);
			if (nheld == 32) {
				pager_unref(x);
				continue;
			}
			ck_assert_int_eq(rc, RDB_OK);
			ck_assert_uint_eq(pager_pgno(x), pg);
			ck_assert(stamp_ok(pager_data(x), pg, 1000 + pg));
			held[nheld++] = x;
		}
		if (step % 256 == 0)
			ck_assert(pager_check(p));
	}
	while (nheld > 0)
		pager_unref(held[--nheld]);
	ck_assert(pager_check(p));
	ck_assert_int_gt(full, 0);
	commit_ok(t);
	close_ok(p);
}
END_TEST

/* Stats around one commit of 4 pages at sync level s. */
static void commit_at_level(pager *p, pager_sync s, pager_stats *a,
			    pager_stats *b)
{
	pager_set_sync(p, s);
	ck_assert_int_eq(pager_get_sync(p), s);
	pager_get_stats(p, a);
	set_all(p, 4, 10 * (uint64_t)s);
	pager_get_stats(p, b);
	ck_assert_uint_eq(b->commits, a->commits + 1);
}

START_TEST(test_pager_stats_commit_counters_follow_sync_level)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_stats a, b;
	pager_txn *t;

	append_pages(p, 4, 0);
	commit_at_level(p, PAGER_SYNC_FULL, &a, &b);
	ck_assert_uint_gt(b.syncs, a.syncs);
	ck_assert_uint_ge(b.wal_frames, a.wal_frames + 4);
	ck_assert_uint_ge(b.wal_frames_now, a.wal_frames_now + 4);
	commit_at_level(p, PAGER_SYNC_NORMAL, &a, &b);
	ck_assert_uint_eq(b.syncs, a.syncs);
	ck_assert_uint_ge(b.wal_frames, a.wal_frames + 4);
	commit_at_level(p, PAGER_SYNC_OFF, &a, &b);
	ck_assert_uint_eq(b.syncs, a.syncs);
	t = begin_ok(p, 0);
	ck_assert_uint_eq(get_ok(t, 1), 1);
	commit_ok(t);
	t = begin_ok(p, 1);
	put_ok(t, 2, 0);
	pager_rollback(t);
	pager_get_stats(p, &a);
	ck_assert_uint_eq(a.commits, b.commits);
	ck_assert_int_eq(pager_checkpoint(p), RDB_OK);
	pager_get_stats(p, &b);
	ck_assert_uint_eq(b.checkpoints, a.checkpoints + 1);
	ck_assert_uint_eq(b.wal_frames_now, 0);
	close_ok(p);
	p = open_ok(mem, &o);
	expect(p, 4, 0);
	close_ok(p);
}
END_TEST

/* Loop: OFF, NORMAL, FULL, on real files. */
START_TEST(test_pager_sync_level_data_survives_reopen)
{
	pager_opts o = opts(1024, 16);
	pager *p = open_ok(os_unix_vfs(), &o);
	unsigned k;

	pager_set_sync(p, (pager_sync)_i);
	ck_assert_int_eq(pager_get_sync(p), (pager_sync)_i);
	append_pages(p, 30, 0);
	for (k = 1; k <= 5; k++)
		set_all(p, 30, 1000 * k);
	close_ok(p);
	o.sync = (pager_sync)_i;
	p = open_ok(os_unix_vfs(), &o);
	expect(p, 30, 5000);
	set_all(p, 30, 6000);
	close_ok(p);
	p = open_ok(os_unix_vfs(), &o);
	expect(p, 30, 6000);
	close_ok(p);
}
END_TEST

/* ==== bad ============================================================= */

#define SMALL_PAGES 8u   /* page 0 and 7 pages of 512 bytes */

/* A cleanly closed 8-page database of 512-byte pages in mem, page i
 * holding i; caller frees *out with rdb_free. */
static void small_db(unsigned char **out, size_t *len)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);

	append_pages(p, SMALL_PAGES - 1, 0);
	close_ok(p);
	ck_assert_int_eq(os_mem_file_bytes(mem, path, out, len), RDB_OK);
	ck_assert_uint_ge(*len, SMALL_PAGES * 512);
	ck_assert_uint_eq(*len % 512, 0);
	ck_assert_int_eq(mem_exists(wal), 0);
}

typedef struct probe {
	rdb_rc open;                /* pager_open */
	rdb_pgno count;             /* pages in the snapshot */
	rdb_rc page[SMALL_PAGES];   /* pager_get of each page; RDB_MISMATCH if
				     * it read without error but wrongly */
	char msg[SMALL_PAGES][RDB_ERR_MSG_MAX];
} probe;

/* Install bytes as the database (no WAL), open it without creating, and
 * read every page. */
static void probe_small_db(const unsigned char *bytes, size_t len, probe *pr)
{
	pager_opts o = opts(512, 16);
	pager *p = NULL;
	pager_txn *t = NULL;
	rdb_pgno i;

	memset(pr, 0, sizeof(*pr));
	ck_assert_int_eq(os_mem_file_set(mem, path, bytes, len), RDB_OK);
	ck_assert_int_eq(mem->remove(mem, wal, NULL), RDB_OK);
	o.create = 0;
	rdb_err_clear(&err);
	pr->open = open_rc(mem, &o, &p);
	if (pr->open != RDB_OK) {
		ck_assert_ptr_null(p);
		return;
	}
	pr->open = pager_begin(p, 0, &err, &t);
	if (pr->open != RDB_OK) {
		(void)pager_close(p);
		return;
	}
	pr->count = pager_txn_page_count(t);
	for (i = 1; i < pr->count && i < SMALL_PAGES; i++) {
		uint64_t v;

		rdb_err_clear(&err);
		pr->page[i] = get_page(t, i, &v);
		if (pr->page[i] == RDB_OK && v != i)
			pr->page[i] = RDB_MISMATCH;
		memcpy(pr->msg[i], err.msg, sizeof(err.msg));
	}
	pager_rollback(t);
	(void)pager_close(p);
}

START_TEST(test_pager_bad_empty_file_is_new_db_not_readonly)
{
	pager_opts o = opts(512, 16);
	pager *p = NULL;

	ck_assert_int_eq(os_mem_file_set(mem, path, "", 0), RDB_OK);
	o.readonly = 1;
	ck_assert_int_eq(open_rc(mem, &o, &p), RDB_CANTOPEN);
	ck_assert_ptr_null(p);
	o.readonly = 0;
	p = open_ok(mem, &o);
	expect(p, 0, 0);
	append_pages(p, 1, 3);
	close_ok(p);
	p = open_ok(mem, &o);
	expect(p, 1, 3);
	close_ok(p);
}
END_TEST

/* Open bytes as a database (create allowed): the rc; the file must be
 * left as it was. */
static rdb_rc open_junk(const unsigned char *bytes, size_t len)
{
	pager_opts o = opts(512, 16);
	pager *p = NULL;
	unsigned char *after;
	size_t n_after;
	rdb_rc rc;

	ck_assert_int_eq(os_mem_file_set(mem, path, bytes, len), RDB_OK);
	ck_assert_int_eq(mem->remove(mem, wal, NULL), RDB_OK);
	rc = open_rc(mem, &o, &p);
	if (rc == RDB_OK) {
		(void)pager_close(p);
		return rc;
	}
	ck_assert_ptr_null(p);
	ck_assert_int_eq(os_mem_file_bytes(mem, path, &after, &n_after),
			 RDB_OK);
	ck_assert_msg(n_after == len && memcmp(after, bytes, len) == 0,
		      "failed open changed a %zu-byte file", len);
	rdb_free(after);
	return rc;
}

static const size_t junk_sizes[] = { 1, 16, 31, 32, 136, 511, 512, 1024,
				     4096, 4097, 65536, 70000 };
#define N_JUNK_SIZES (sizeof(junk_sizes) / sizeof(junk_sizes[0]))

START_TEST(test_pager_bad_random_bytes_rejected)
{
	uint64_t seed = tu_seed();
	unsigned char *buf = malloc(70000);
	size_t s, i, k;

	tu_seed_note("bad_random_bytes", seed);
	ck_assert_ptr_nonnull(buf);
	for (k = 0; k < 4; k++) {
		for (s = 0; s < N_JUNK_SIZES; s++) {
			size_t n = junk_sizes[s];
			rdb_rc rc;

			for (i = 0; i < n; i++)
				buf[i] = (unsigned char)tu_rand(&seed);
			rc = open_junk(buf, n);
			if (n >= FMT_MIN_PAGE_SIZE)
				ck_assert_msg(rc == RDB_NOTADB,
					      "%zu random bytes: rc %d", n, rc);
			else
				ck_assert_msg(rc == RDB_NOTADB ||
					      rc == RDB_CORRUPT,
					      "%zu random bytes: rc %d", n, rc);
		}
	}
	free(buf);
}
END_TEST

START_TEST(test_pager_bad_random_bytes_with_magic_corrupt)
{
	uint64_t seed = tu_seed();
	unsigned char *buf = malloc(70000);
	size_t s, i, k;

	tu_seed_note("bad_random_with_magic", seed);
	ck_assert_ptr_nonnull(buf);
	for (k = 0; k < 4; k++) {
		for (s = 3; s < N_JUNK_SIZES; s++) {
			size_t n = junk_sizes[s];
			rdb_rc rc;

			for (i = 0; i < n; i++)
				buf[i] = (unsigned char)tu_rand(&seed);
			memcpy(buf + FMT_HDR_MAGIC, FMT_MAGIC, FMT_MAGIC_LEN);
			rc = open_junk(buf, n);
			ck_assert_msg(rc == RDB_CORRUPT,
				      "%zu random bytes after the magic: rc %d",
				      n, rc);
		}
	}
	free(buf);
}
END_TEST

/* Every length 1 .. size-1: an error, or every page reads back right. */
START_TEST(test_pager_bad_truncated_every_length_never_wrong_data)
{
	unsigned char *db;
	size_t len, n;
	probe pr;
	rdb_pgno i;

	small_db(&db, &n);
	for (len = 1; len < n; len++) {
		int failed = 0;

		probe_small_db(db, len, &pr);
		if (pr.open != RDB_OK) {
			ck_assert_msg(pr.open == RDB_CORRUPT ||
				      pr.open == RDB_NOTADB,
				      "cut at %zu: open rc %d", len, pr.open);
			continue;
		}
		for (i = 1; i < pr.count && i < SMALL_PAGES; i++) {
			ck_assert_msg(pr.page[i] == RDB_OK ||
				      pr.page[i] == RDB_CORRUPT,
				      "cut at %zu: page %u rc %d", len, i,
				      pr.page[i]);
			failed |= pr.page[i] != RDB_OK;
		}
		ck_assert_msg(failed || pr.count == SMALL_PAGES,
			      "cut at %zu: opened with %u pages, no error",
			      len, pr.count);
	}
	rdb_free(db);
}
END_TEST

/* A header whose page count exceeds the file (no WAL) is corrupt; a file
 * shorter than a page is too (a cut magic may say NOTADB). */
START_TEST(test_pager_bad_short_or_cut_at_page_corrupt)
{
	unsigned char *db;
	size_t len, n;
	probe pr;

	small_db(&db, &n);
	for (len = 512; len < n; len += 512) {
		probe_small_db(db, len, &pr);
		ck_assert_msg(pr.open == RDB_CORRUPT, "cut at %zu: rc %d", len,
			      pr.open);
	}
	for (len = 1; len < 512; len++) {
		probe_small_db(db, len, &pr);
		if (len < FMT_HDR_MAGIC + FMT_MAGIC_LEN)
			ck_assert_msg(pr.open == RDB_CORRUPT ||
				      pr.open == RDB_NOTADB,
				      "cut at %zu: rc %d", len, pr.open);
		else
			ck_assert_msg(pr.open == RDB_CORRUPT,
				      "cut at %zu: rc %d", len, pr.open);
	}
	rdb_free(db);
}
END_TEST

/* The flipped byte at off is noticed: at open for page 0 (NOTADB in the
 * magic), else by pager_get of that page, naming it; other pages read. */
static void expect_flip_caught(const probe *pr, size_t off, unsigned mask)
{
	rdb_pgno bad = (rdb_pgno)(off / 512), i;
	char num[16];

	if (bad == 0) {
		rdb_rc want = off >= FMT_HDR_MAGIC &&
			      off < FMT_HDR_MAGIC + FMT_MAGIC_LEN ?
			      RDB_NOTADB : RDB_CORRUPT;

		ck_assert_msg(pr->open == want, "flip %#x at %zu: open rc %d",
			      mask, off, pr->open);
		return;
	}
	ck_assert_msg(pr->open == RDB_OK || pr->open == RDB_CORRUPT,
		      "flip %#x at %zu: open rc %d", mask, off, pr->open);
	if (pr->open != RDB_OK)
		return;
	ck_assert_uint_eq(pr->count, SMALL_PAGES);
	ck_assert_msg(pr->page[bad] == RDB_CORRUPT,
		      "flip %#x at %zu: page %u rc %d", mask, off, bad,
		      pr->page[bad]);
	snprintf(num, sizeof(num), "%u", bad);
	ck_assert_msg(strstr(pr->msg[bad], num) != NULL,
		      "flip at %zu: message lacks page %u: %s", off, bad,
		      pr->msg[bad]);
	for (i = 1; i < SMALL_PAGES; i++)
		ck_assert_msg(i == bad || pr->page[i] == RDB_OK,
			      "flip at %zu in page %u: page %u rc %d", off,
			      bad, i, pr->page[i]);
}

/* Loop: masks 0x01, 0x80, 0xff at every byte of every page. */
START_TEST(test_pager_bad_flipped_byte_every_offset_detected)
{
	static const unsigned masks[] = { 0x01, 0x80, 0xff };
	unsigned mask = masks[_i];
	unsigned char *db;
	size_t off, n;
	probe pr;

	small_db(&db, &n);
	for (off = 0; off < n; off++) {
		db[off] ^= (unsigned char)mask;
		probe_small_db(db, n, &pr);
		db[off] ^= (unsigned char)mask;
		expect_flip_caught(&pr, off, mask);
	}
	probe_small_db(db, n, &pr);
	ck_assert_int_eq(pr.open, RDB_OK);
	rdb_free(db);
}
END_TEST

/* Walk callback: remember the last trunk, never stop. */
static int note_trunk(void *arg, rdb_pgno pgno, int is_trunk)
{
	if (is_trunk)
		*(rdb_pgno *)arg = pgno;
	return 0;
}

static const struct { unsigned off; uint32_t v; } bad_header[] = {
	{ FMT_HDR_VERSION, 0 }, { FMT_HDR_VERSION, FMT_VERSION + 1 },
	{ FMT_HDR_PAGE_SIZE, 0 }, { FMT_HDR_PAGE_SIZE, 256 },
	{ FMT_HDR_PAGE_SIZE, 513 }, { FMT_HDR_PAGE_SIZE, 1024 },
	{ FMT_HDR_PAGE_SIZE, 131072 }, { FMT_HDR_PAGE_COUNT, 0 },
	{ FMT_HDR_PAGE_COUNT, SMALL_PAGES + 1 },
	{ FMT_HDR_PAGE_COUNT, 0xffffffffu },
};
#define N_BAD_HEADER_FIELDS (sizeof(bad_header) / sizeof(bad_header[0]))

/* Loop: one header field at a time gets a bad value, resealed. */
START_TEST(test_pager_bad_header_field_valid_checksum_corrupt)
{
	unsigned char *db;
	size_t n;
	probe pr;

	small_db(&db, &n);
	ck_assert_uint_eq(fmt_get_u64(db + FMT_PAGE_CKSUM),
			  XXH3_64bits_withSeed(db + 8, 512 - 8, 0));
	fmt_put_u32(db + bad_header[_i].off, bad_header[_i].v);
	reseal(db, 0);
	probe_small_db(db, n, &pr);
	ck_assert_msg(pr.open == RDB_CORRUPT, "header field %u = %u: rc %d",
		      bad_header[_i].off, bad_header[_i].v, pr.open);
	rdb_free(db);
}
END_TEST

/* The small database with pages 5..7 freed; caller rdb_frees *out. */
static void small_db_with_free_pages(unsigned char **out, size_t *len,
				     rdb_pgno *trunk)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_txn *t;
	rdb_pgno i;

	append_pages(p, SMALL_PAGES - 1, 0);
	t = begin_ok(p, 1);
	for (i = 5; i < SMALL_PAGES; i++)
		ck_assert_int_eq(pager_free_page(t, i), RDB_OK);
	commit_ok(t);
	t = begin_ok(p, 0);
	*trunk = 0;
	ck_assert_int_eq(pager_freelist_walk(t, note_trunk, trunk), RDB_OK);
	ck_assert_uint_ge(*trunk, 5);
	commit_ok(t);
	close_ok(p);
	ck_assert_int_eq(os_mem_file_bytes(mem, path, out, len), RDB_OK);
}

/* Install bytes and open: the free list must be reported corrupt by the
 * open or by the walk.  Allocations never hand out a page in use (1..4 of
 * the small database) or one twice; with `strict` the first one fails. */
static void expect_free_list_corrupt(const unsigned char *bytes, size_t n,
				     int strict, const char *what,
				     size_t where)
{
	pager_opts o = opts(512, 16);
	pager *p = NULL;
	pager_txn *t;
	rdb_rc open, walk_rc, alloc_rc = RDB_OK;
	rdb_pgno trunk = 0, got[4] = { 0 };
	int i, j;

	ck_assert_int_eq(os_mem_file_set(mem, path, bytes, n), RDB_OK);
	o.create = 0;
	open = open_rc(mem, &o, &p);
	if (open != RDB_OK) {
		ck_assert_msg(open == RDB_CORRUPT, "%s %zu: open rc %d", what,
			      where, open);
		return;
	}
	t = begin_ok(p, 1);
	walk_rc = pager_freelist_walk(t, note_trunk, &trunk);
	for (i = 0; i < 4 && alloc_rc == RDB_OK; i++) {
		pager_page *pg = NULL;

		alloc_rc = pager_alloc(t, FMT_PT_KV, &pg);
		if (alloc_rc != RDB_OK) {
			ck_assert_ptr_null(pg);
			break;
		}
		got[i] = pager_pgno(pg);
		pager_unref(pg);
		ck_assert_msg(got[i] >= 5 &&
			      got[i] < pager_txn_page_count(t),
			      "%s %zu: alloc gave page %u", what, where,
			      got[i]);
		ck_assert_msg(pager_txn_free_count(t) <
			      pager_txn_page_count(t),
			      "%s %zu: free count %u after alloc", what, where,
			      pager_txn_free_count(t));
		for (j = 0; j < i; j++)
			ck_assert_msg(got[j] != got[i], "%s %zu: page %u twice",
				      what, where, got[i]);
	}
	pager_rollback(t);
	(void)pager_close(p);
	ck_assert_msg(walk_rc == RDB_CORRUPT, "%s %zu: walk rc %d", what,
		      where, walk_rc);
	ck_assert_msg(alloc_rc == RDB_OK || alloc_rc == RDB_CORRUPT,
		      "%s %zu: alloc rc %d", what, where, alloc_rc);
	ck_assert_msg(!strict || (i == 0 && alloc_rc == RDB_CORRUPT),
		      "%s %zu: %d allocs passed, then rc %d", what, where, i,
		      alloc_rc);
}

START_TEST(test_pager_bad_free_list_trunk_flip_corrupt)
{
	unsigned char *db, *pg;
	size_t n, off;
	rdb_pgno trunk;

	small_db_with_free_pages(&db, &n, &trunk);
	pg = db + trunk * 512;
	for (off = 0; off < 512; off += off < FMT_FREE_ENTRIES + 16 ? 1 : 61) {
		pg[off] ^= 0x40;
		expect_free_list_corrupt(db, n, 1, "flipped trunk byte", off);
		pg[off] ^= 0x40;
	}
	rdb_free(db);
}
END_TEST

/* Loop: a trunk page or header that lies about the free list, resealed
 * so that only the free-list checks can catch it. */
START_TEST(test_pager_bad_free_list_resealed_lie_corrupt)
{
	unsigned char *db, *pg;
	size_t n;
	rdb_pgno trunk;

	small_db_with_free_pages(&db, &n, &trunk);
	pg = db + trunk * 512;
	switch (_i) {
	case 0: fmt_put_u32(pg + FMT_FREE_COUNT, 1000); break;
	case 1: fmt_put_u32(pg + FMT_FREE_NEXT, 99); break;
	case 2: fmt_put_u32(pg + FMT_FREE_NEXT, trunk); break;
	case 3: fmt_put_u32(pg + FMT_FREE_ENTRIES, 0); break;
	case 4: fmt_put_u32(pg + FMT_FREE_ENTRIES, 5000); break;
	case 5: fmt_put_u32(pg + FMT_FREE_ENTRIES, trunk); break;
	case 6: pg[FMT_PAGE_TYPE] = FMT_PT_KV; break;
	case 7: fmt_put_u32(db + FMT_HDR_FREE_HEAD, 99); break;
	case 8: fmt_put_u32(db + FMT_HDR_FREE_COUNT, 1); break;
	case 9: fmt_put_u32(db + FMT_HDR_FREE_HEAD, 1); break;
	}
	reseal(pg, trunk);
	reseal(db, 0);
	expect_free_list_corrupt(db, n, 0, "resealed lie", (size_t)_i);
	rdb_free(db);
}
END_TEST

/* ==== concurrency ===================================================== */

#define BANK_PAGES 64u
#define BANK_BASE 1000u
#define BANK_TOTAL (BANK_PAGES * BANK_BASE + BANK_PAGES * (BANK_PAGES + 1) / 2)

typedef struct bank {
	pager *p;
	long n_transfers;
	uint64_t seed;
	atomic_int writer_done;
	atomic_int failed;
	atomic_long reads;
	pthread_mutex_t mu;
	char why[RDB_ERR_MSG_MAX + 64];
	int churn;               /* the writer also allocates and frees */
	rdb_pgno scratch[32];    /* pages it allocated (writer only) */
	unsigned n_scratch;
} bank;

static void bank_fail(bank *b, const char *what, rdb_rc rc, const rdb_err *e)
{
	pthread_mutex_lock(&b->mu);
	if (atomic_fetch_add(&b->failed, 1) == 0)
		snprintf(b->why, sizeof(b->why), "%s: rc %d: %s", what, rc,
			 e->msg);
	pthread_mutex_unlock(&b->mu);
}

/* Allocate or free one scratch page, so that the page count and the
 * free list change under the readers too. */
static rdb_rc churn(pager_txn *t, bank *b, uint64_t *seed)
{
	pager_page *pg = NULL;
	rdb_rc rc;

	if (b->n_scratch == 32 ||
	    (b->n_scratch > 0 && tu_rand_below(seed, 2) == 0)) {
		unsigned k = (unsigned)tu_rand_below(seed, b->n_scratch);

		rc = pager_free_page(t, b->scratch[k]);
		if (rc == RDB_OK)
			b->scratch[k] = b->scratch[--b->n_scratch];
		return rc;
	}
	rc = pager_alloc(t, FMT_PT_KV, &pg);
	if (rc != RDB_OK)
		return rc;
	b->scratch[b->n_scratch++] = pager_pgno(pg);
	stamp(pager_data(pg), pager_pgno(pg), 0);
	pager_unref(pg);
	return RDB_OK;
}

/* Move a random amount between two random accounts, in one commit. */
static rdb_rc transfer(bank *bk, uint64_t *seed, rdb_err *e)
{
	pager *p = bk->p;
	rdb_pgno a = 1 + (rdb_pgno)tu_rand_below(seed, BANK_PAGES);
	rdb_pgno b = 1 + (rdb_pgno)tu_rand_below(seed, BANK_PAGES - 1);
	pager_txn *t = NULL;
	uint64_t va, vb, amt = 0;
	rdb_rc rc = pager_begin(p, 1, e, &t);

	if (rc != RDB_OK)
		return rc;
	b += b >= a;
	rc = get_page(t, a, &va);
	if (rc == RDB_OK)
		rc = get_page(t, b, &vb);
	if (rc == RDB_OK) {
		amt = tu_rand_below(seed, va + 1);
		rc = put_page(t, a, va - amt);
	}
	if (rc == RDB_OK)
		rc = put_page(t, b, vb + amt);
	if (rc == RDB_OK && bk->churn)
		rc = churn(t, bk, seed);
	if (rc != RDB_OK) {
		pager_rollback(t);
		return rc;
	}
	return pager_commit(t);
}

static void *bank_writer(void *arg)
{
	bank *b = arg;
	rdb_err e = { 0 };
	uint64_t seed = b->seed;
	long i;

	for (i = 0; i < b->n_transfers && !atomic_load(&b->failed); i++) {
		rdb_rc rc = transfer(b, &seed, &e);

		if (rc != RDB_OK)
			bank_fail(b, "transfer", rc, &e);
	}
	atomic_store(&b->writer_done, 1);
	return NULL;
}

static rdb_rc bank_sum(pager *p, rdb_err *e, uint64_t *total)
{
	pager_txn *t = NULL;
	rdb_rc rc = pager_begin(p, 0, e, &t);
	rdb_pgno i;

	*total = 0;
	if (rc != RDB_OK)
		return rc;
	if (pager_txn_page_count(t) < BANK_PAGES + 1)
		rc = rdb_err_set(e, RDB_MISMATCH, "snapshot has %u pages",
				 pager_txn_page_count(t));
	for (i = 1; i <= BANK_PAGES && rc == RDB_OK; i++) {
		uint64_t v;

		rc = get_page(t, i, &v);
		if (rc == RDB_MISMATCH)
			rdb_err_set(e, rc, "page %u has wrong bytes", i);
		*total += v;
	}
	if (rc != RDB_OK) {
		pager_rollback(t);
		return rc;
	}
	return pager_commit(t);
}

static void *bank_reader(void *arg)
{
	bank *b = arg;
	rdb_err e = { 0 };
	int done;

	do {
		uint64_t total;
		rdb_rc rc;

		done = atomic_load(&b->writer_done);
		rc = bank_sum(b->p, &e, &total);
		if (rc == RDB_OK && total != BANK_TOTAL)
			rc = rdb_err_set(&e, RDB_MISMATCH, "total %llu",
					 (unsigned long long)total);
		if (rc != RDB_OK)
			bank_fail(b, "reader", rc, &e);
		atomic_fetch_add(&b->reads, 1);
	} while (!done && !atomic_load(&b->failed));
	return NULL;
}

/* Explicit checkpoints racing the writer and the readers. */
static void *bank_checkpointer(void *arg)
{
	bank *b = arg;
	rdb_err e = { 0 };

	while (!atomic_load(&b->writer_done) && !atomic_load(&b->failed)) {
		rdb_rc rc = pager_checkpoint(b->p);

		if (rc != RDB_OK && rc != RDB_BUSY)
			bank_fail(b, "checkpoint", rc, &e);
		sleep_ms(1);
	}
	return NULL;
}

/* Loop: mem FULL, real files NORMAL, mem OFF, mem FULL with a thread
 * checkpointing too, and mem NORMAL with that thread and a writer that
 * also allocates and frees pages. */
START_TEST(test_pager_concurrent_readers_see_constant_total)
{
	static const pager_sync level[] = { PAGER_SYNC_FULL,
		PAGER_SYNC_NORMAL, PAGER_SYNC_OFF, PAGER_SYNC_FULL,
		PAGER_SYNC_NORMAL };
	os_vfs *v = _i == 1 ? os_unix_vfs() : mem;
	pager_opts o = opts(512, 16);
	int n_th = _i >= 3 ? 6 : 5;
	pthread_t th[6];
	bank b;
	uint64_t total;
	int i;

	o.sync = level[_i];
	o.ckpt_frames = 64;
	memset(&b, 0, sizeof(b));
	pthread_mutex_init(&b.mu, NULL);
	b.p = open_ok(v, &o);
	b.churn = _i == 4;
	b.n_transfers = tu_scaled(2000, 50);
	b.seed = tu_seed();
	tu_seed_note("concurrent_readers", b.seed);
	append_pages(b.p, BANK_PAGES, BANK_BASE);
	ck_assert_int_eq(pthread_create(&th[0], NULL, bank_writer, &b), 0);
	for (i = 1; i < 5; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, bank_reader, &b),
				 0);
	if (n_th == 6)
		ck_assert_int_eq(pthread_create(&th[5], NULL,
						bank_checkpointer, &b), 0);
	for (i = 0; i < n_th; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	ck_assert_msg(atomic_load(&b.failed) == 0, "%d failures, first: %s",
		      atomic_load(&b.failed), b.why);
	ck_assert_int_ge(atomic_load(&b.reads), 4);
	ck_assert_int_eq(bank_sum(b.p, &err, &total), RDB_OK);
	ck_assert_uint_eq(total, BANK_TOTAL);
	close_ok(b.p);
	b.p = open_ok(v, &o);
	ck_assert_int_eq(bank_sum(b.p, &err, &total), RDB_OK);
	ck_assert_uint_eq(total, BANK_TOTAL);
	close_ok(b.p);
	pthread_mutex_destroy(&b.mu);
}
END_TEST

typedef struct counter {
	pager *p;
	rdb_pgno pgno;
	long n;
	rdb_rc rc;
	rdb_err e;
} counter;

static void *count_up(void *arg)
{
	counter *c = arg;
	long i;

	for (i = 0; i < c->n && c->rc == RDB_OK; i++) {
		pager_txn *t = NULL;
		uint64_t v;

		c->rc = pager_begin(c->p, 1, &c->e, &t);
		if (c->rc != RDB_OK)
			break;
		c->rc = get_page(t, c->pgno, &v);
		if (c->rc == RDB_OK)
			c->rc = put_page(t, c->pgno, v + 1);
		if (c->rc == RDB_OK)
			c->rc = pager_commit(t);
		else
			pager_rollback(t);
	}
	return NULL;
}

/* Loop: mem vfs, then real files; four threads commit under FULL. */
START_TEST(test_pager_group_commit_full_counts_all)
{
	os_vfs *v = _i == 0 ? mem : os_unix_vfs();
	pager_opts o = opts(512, 16);
	long n = tu_scaled(_i == 0 ? 200 : 40, 5);
	pthread_t th[4];
	counter c[4];
	pager *p;
	pager_stats a, b;
	pager_txn *t;
	int i;

	o.busy_timeout_ms = 30000;
	o.ckpt_frames = 100;
	p = open_ok(v, &o);
	append_pages(p, 4, 0);
	pager_get_stats(p, &a);
	for (i = 0; i < 4; i++) {
		c[i] = (counter){ .p = p, .pgno = (rdb_pgno)i + 1, .n = n };
		ck_assert_int_eq(pthread_create(&th[i], NULL, count_up, &c[i]),
				 0);
	}
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	for (i = 0; i < 4; i++)
		ck_assert_msg(c[i].rc == RDB_OK, "thread %d: rc %d: %s", i,
			      c[i].rc, c[i].e.msg);
	pager_get_stats(p, &b);
	ck_assert_uint_eq(b.commits, a.commits + 4 * (uint64_t)n);
	t = begin_ok(p, 0);
	for (i = 1; i <= 4; i++)
		ck_assert_uint_eq(get_ok(t, (rdb_pgno)i), (uint64_t)(i + n));
	commit_ok(t);
	close_ok(p);
	p = open_ok(v, &o);
	expect(p, 4, (uint64_t)n);
	close_ok(p);
}
END_TEST

/* ==== large =========================================================== */

#define LARGE_CACHE 16u
#define LARGE_PAGES (100u * LARGE_CACHE)

START_TEST(test_pager_large_txn_commits_and_reads_back)
{
	pager_opts o = opts(1024, LARGE_CACHE);
	pager *p = open_ok(os_unix_vfs(), &o);
	pager_txn *t;
	pager_stats st;

	o.sync = PAGER_SYNC_NORMAL;
	pager_set_sync(p, o.sync);
	t = begin_ok(p, 1);
	append_txn(t, LARGE_PAGES, 3);
	pager_get_stats(p, &st);
	ck_assert_uint_gt(st.spills, 0);
	expect_txn(t, LARGE_PAGES, 3);    /* spilled pages read back */
	commit_ok(t);
	expect(p, LARGE_PAGES, 3);
	close_ok(p);
	p = open_ok(os_unix_vfs(), &o);
	expect(p, LARGE_PAGES, 3);
	close_ok(p);
}
END_TEST

/* A large write is rolled back under a live reader: nothing changes. */
static void large_rollback(pager *p)
{
	pager_txn *r, *w;
	pager_stats st;
	rdb_pgno i;

	append_pages(p, 32, 7);
	r = begin_ok(p, 0);
	w = begin_ok(p, 1);
	for (i = 1; i <= 32; i++)
		put_ok(w, i, 9 + i);
	append_txn(w, LARGE_PAGES, 9);
	pager_get_stats(p, &st);
	ck_assert_uint_gt(st.spills, 0);
	ck_assert_uint_eq(get_ok(w, 1), 10);
	ck_assert_uint_eq(get_ok(w, 40), 49);
	expect_txn(r, 32, 7);
	pager_rollback(w);
	expect_txn(r, 32, 7);
	commit_ok(r);
	expect(p, 32, 7);
	pager_get_stats(p, &st);
	ck_assert_uint_eq(st.page_count, 33);
	ck_assert_uint_eq(st.free_pages, 0);
}

START_TEST(test_pager_large_txn_rollback_leaves_db_unchanged)
{
	pager_opts o = opts(1024, LARGE_CACHE);
	pager *p = open_ok(os_unix_vfs(), &o);

	large_rollback(p);
	close_ok(p);
	p = open_ok(os_unix_vfs(), &o);
	expect(p, 32, 7);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_large_txn_rollback_then_crash_recovers_old)
{
	pager_opts o = opts(1024, LARGE_CACHE);
	pager *p = open_ok(mem, &o);

	large_rollback(p);
	mem_crash(p, OS_FAULT_CRASH);
	p = open_ok(mem, &o);
	expect(p, 32, 7);
	close_ok(p);
}
END_TEST

START_TEST(test_pager_large_txn_commit_then_crash_recovers_all)
{
	pager_opts o = opts(512, LARGE_CACHE);
	pager *p = open_ok(mem, &o);
	pager_txn *t = begin_ok(p, 1);

	append_txn(t, LARGE_PAGES, 5);
	commit_ok(t);
	mem_crash(p, OS_FAULT_POWERLOSS);
	p = open_ok(mem, &o);
	expect(p, LARGE_PAGES, 5);
	close_ok(p);
}
END_TEST

/* Frames spilled by a rolled-back transaction must not join the next
 * commit when the WAL is replayed. */
START_TEST(test_pager_large_rollback_commit_crash_keeps_commit)
{
	pager_opts o = opts(512, LARGE_CACHE);
	pager *p = open_ok(mem, &o);
	pager_txn *t;

	large_rollback(p);
	t = begin_ok(p, 1);
	put_ok(t, 1, 501);
	commit_ok(t);
	mem_crash(p, OS_FAULT_POWERLOSS);
	p = open_ok(mem, &o);
	t = begin_ok(p, 0);
	ck_assert_uint_eq(pager_txn_page_count(t), 33);
	ck_assert_uint_eq(get_ok(t, 1), 501);
	ck_assert_uint_eq(get_ok(t, 2), 9);
	ck_assert_uint_eq(get_ok(t, 32), 39);
	commit_ok(t);
	close_ok(p);
}
END_TEST

/* Under OFF two small commits wait in memory, then a transaction larger
 * than the cache spills (loop: and commits, or rolls back and a small one
 * commits).  After a crash the database is one of the commits, whole;
 * after a clean close it is the last. */
static void off_spill(int rollback, int crash)
{
	pager_opts o = opts(512, LARGE_CACHE);
	pager *p = open_ok(mem, &o);
	pager_txn *t;
	uint64_t base;
	rdb_pgno i, n;

	append_pages(p, 8, 0);
	pager_set_sync(p, PAGER_SYNC_OFF);
	set_all(p, 8, 10);
	set_all(p, 8, 20);
	t = begin_ok(p, 1);
	for (i = 1; i <= 8; i++)
		put_ok(t, i, 30 + i);
	append_txn(t, 400, 1000);
	if (rollback) {
		pager_rollback(t);
		set_all(p, 8, 40);
	} else {
		commit_ok(t);
	}
	if (crash)
		mem_crash(p, OS_FAULT_CRASH);
	else
		close_ok(p);
	p = open_ok(mem, &o);
	t = begin_ok(p, 0);
	n = pager_txn_page_count(t);
	base = get_ok(t, 1) - 1;
	ck_assert_msg(base % 10 == 0 && base <= 40, "page 1: %llu",
		      (unsigned long long)base + 1);
	ck_assert_msg(n == (base == 30 ? 409u : 9u), "%u pages with base %llu",
		      n, (unsigned long long)base);
	if (!crash)
		ck_assert_uint_eq(base, rollback ? 40 : 30);
	for (i = 2; i < n; i++)
		ck_assert_uint_eq(get_ok(t, i), (i <= 8 ? base : 1000) + i);
	commit_ok(t);
	close_ok(p);
}

/* Loop: _i bit 0 = roll back the big one, bit 1 = crash. */
START_TEST(test_pager_off_commits_then_spill_stay_whole)
{
	off_spill(_i & 1, _i >> 1);
}
END_TEST


/* A damaged page: strict reads refuse it, lenient reads hand it over
 * marked, and it stays suspect for strict reads afterwards. */
START_TEST(test_pager_get_lenient_reports_damage_strict_get_refuses)
{
	pager_opts o = opts(512, 16);
	pager *p = open_ok(mem, &o);
	pager_txn *t;
	pager_page *pg;
	unsigned char *b;
	size_t n;
	int intact = -1;

	append_pages(p, 3, 100);
	close_ok(p);
	ck_assert_int_eq(os_mem_file_bytes(mem, path, &b, &n), RDB_OK);
	ck_assert_uint_ge(n, 4 * 512);
	b[2 * 512 + 200] ^= 0x40;
	ck_assert_int_eq(os_mem_file_set(mem, path, b, n), RDB_OK);
	rdb_free(b);
	p = open_ok(mem, &o);
	t = begin_ok(p, 0);
	ck_assert_int_eq(pager_get(t, 2, &pg), RDB_CORRUPT);
	ck_assert_int_eq(pager_get_lenient(t, 2, &pg, &intact), RDB_OK);
	ck_assert_int_eq(intact, 0);
	ck_assert_uint_eq(fmt_get_u64(pager_data(pg) + FMT_PAGE_BODY), 102);
	pager_unref(pg);
	ck_assert_int_eq(pager_get(t, 2, &pg), RDB_CORRUPT);
	ck_assert_int_eq(pager_get_lenient(t, 1, &pg, &intact), RDB_OK);
	ck_assert_int_eq(intact, 1);
	pager_unref(pg);
	pager_rollback(t);
	close_ok(p);
}
END_TEST

/* Database `name` on mem with pages 1..4 = base + i, crashed so that its
 * last commits are only in its WAL. */
static void crashed_db(const char *name, uint64_t base)
{
	pager_opts o = opts(512, 16);
	pager *p = NULL;
	pager_txn *t;

	ck_assert_int_eq(pager_open(mem, name, &o, &err, &p), RDB_OK);
	ps_now = 512;
	t = begin_ok(p, 1);
	append_txn(t, 4, base);
	commit_ok(t);
	set_all(p, 4, base + 1000);
	mem_crash(p, OS_FAULT_CRASH);
}

/* A WAL that belongs to another database is not replayed. */
START_TEST(test_pager_wal_of_another_database_ignored)
{
	pager_opts o = opts(512, 16);
	char other[300], other_wal[320];
	unsigned char *w;
	size_t nw;
	pager *p = open_ok(mem, &o);
	pager_txn *t;

	append_pages(p, 4, 10);
	close_ok(p);
	snprintf(other, sizeof(other), "%s.other", path);
	snprintf(other_wal, sizeof(other_wal), "%s-wal", other);
	crashed_db(other, 500);
	ck_assert_int_eq(os_mem_file_bytes(mem, other_wal, &w, &nw), RDB_OK);
	ck_assert_int_eq(os_mem_file_set(mem, wal, w, nw), RDB_OK);
	rdb_free(w);
	p = open_ok(mem, &o);
	t = begin_ok(p, 0);
	expect_txn(t, 4, 10);
	pager_rollback(t);
	close_ok(p);
}
END_TEST

/* A WAL left beside a database file that is now empty is stale: the file
 * opens as a new database. */
START_TEST(test_pager_wal_beside_empty_file_ignored)
{
	pager_opts o = opts(512, 16);
	pager *p;
	pager_txn *t;

	crashed_db(path, 700);
	ck_assert_int_eq(os_mem_file_set(mem, path, "", 0), RDB_OK);
	p = open_ok(mem, &o);
	t = begin_ok(p, 0);
	ck_assert_uint_eq(pager_txn_page_count(t), 1);
	pager_rollback(t);
	close_ok(p);
}
END_TEST

/* ==== cache size ====================================================== */

static uint32_t cache_frames(pager *p)
{
	pager_stats st;

	pager_get_stats(p, &st);
	return st.cache_pages;
}

/* pager_set_cache: at once when idle; while a transaction is open, when
 * the last one ends (asked size visible at once); clamped; the data
 * stays, including pages written under a smaller cache than they need. */
START_TEST(test_pager_set_cache_resizes_when_idle)
{
	pager_opts o = opts(1024, 64);
	pager *p = open_ok(mem, &o);
	pager_txn *r, *w;

	append_pages(p, 300, 7);
	pager_set_cache(p, 500);
	ck_assert_uint_eq(cache_frames(p), 500);
	expect(p, 300, 7);
	r = begin_ok(p, 0);
	pager_set_cache(p, 20);
	ck_assert_uint_eq(pager_cache_size(p), 20);
	ck_assert_uint_eq(cache_frames(p), 500);
	w = begin_ok(p, 1);
	pager_set_cache(p, 24);
	put_ok(w, 5, 99);
	commit_ok(w);
	ck_assert_uint_eq(cache_frames(p), 500);    /* r is still open */
	expect_txn(r, 300, 7);
	commit_ok(r);
	ck_assert_uint_eq(cache_frames(p), 24);
	ck_assert_uint_eq(pager_cache_size(p), 24);
	/* 200 dirty pages through a 24-frame pool spill; all kept. */
	set_all(p, 300, 1000);
	expect(p, 300, 1000);
	pager_set_cache(p, 1);
	ck_assert_uint_eq(cache_frames(p), 16);
	pager_set_cache(p, 0);
	ck_assert_uint_eq(cache_frames(p), 2000);
	r = begin_ok(p, 0);         /* (the clamp, without allocating it) */
	pager_set_cache(p, UINT32_MAX);
	ck_assert_uint_eq(pager_cache_size(p), 1u << 24);
	pager_set_cache(p, 100);
	expect_txn(r, 300, 1000);
	commit_ok(r);
	ck_assert_uint_eq(cache_frames(p), 100);
	close_ok(p);
}
END_TEST

/* Threads reading and a writer committing while another thread keeps
 * changing the cache size: every reader sees a consistent snapshot (all
 * pages of one commit), and the last commit is all there at the end. */
typedef struct cs_state {
	pager *p;
	atomic_int stop;
	atomic_long reads;
} cs_state;

static void *cs_reader(void *arg)
{
	cs_state *cs = arg;

	while (!atomic_load(&cs->stop)) {
		pager_txn *t = NULL;
		rdb_err e = { 0 };
		uint64_t v0 = 0, v;
		rdb_pgno i;

		if (pager_begin(cs->p, 0, &e, &t) != RDB_OK)
			return "begin";
		for (i = 1; i <= 64; i++) {
			pager_page *pg = NULL;

			if (pager_get(t, i, &pg) != RDB_OK)
				return "get";
			memcpy(&v, pager_data(pg) + 32, sizeof(v));
			pager_unref(pg);
			if (i == 1)
				v0 = v;
			else if (v != v0)
				return "torn snapshot";
		}
		pager_commit(t);
		atomic_fetch_add(&cs->reads, 1);
		usleep(100);    /* idle moments: the pool is rebuilt in one */
	}
	return NULL;
}

/* One commit writing k at byte 32 of pages 1..64. */
static void cs_commit(pager *p, uint64_t k)
{
	pager_txn *w = begin_ok(p, 1);
	rdb_pgno pg;

	for (pg = 1; pg <= 64; pg++) {
		pager_page *page = NULL;

		ck_assert_int_eq(pager_get(w, pg, &page), RDB_OK);
		ck_assert_int_eq(pager_write(w, &page), RDB_OK);
		memcpy(pager_data(page) + 32, &k, sizeof(k));
		pager_unref(page);
	}
	commit_ok(w);
}

START_TEST(test_pager_set_cache_under_concurrent_use)
{
	pager_opts o = opts(1024, 32);
	cs_state cs = { .p = NULL };
	pthread_t th[2];
	uint64_t rng = tu_seed(), k, n = (uint64_t)tu_scaled(300, 40);
	uint32_t last = 32;
	void *why;
	int i, resized = 0;

	tu_seed_note("pager cache", rng);
	cs.p = open_ok(mem, &o);
	append_pages(cs.p, 64, 0);
	cs_commit(cs.p, 0);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, cs_reader, &cs),
				 0);
	for (k = 1; k <= n; k++) {
		pager_set_cache(cs.p, 16 + (uint32_t)tu_rand_below(&rng, 200));
		cs_commit(cs.p, k);
		if (cache_frames(cs.p) != last)
			resized++;
		last = cache_frames(cs.p);
	}
	ck_assert_int_gt(resized, 0);
	atomic_store(&cs.stop, 1);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(pthread_join(th[i], &why), 0);
		ck_assert_msg(why == NULL, "reader: %s", (char *)why);
	}
	ck_assert_int_gt(atomic_load(&cs.reads), 0);
	{
		pager_txn *t = begin_ok(cs.p, 0);
		pager_page *page = NULL;
		uint64_t v;

		ck_assert_int_eq(pager_get(t, 64, &page), RDB_OK);
		memcpy(&v, pager_data(page) + 32, sizeof(v));
		pager_unref(page);
		ck_assert_uint_eq(v, n);
		commit_ok(t);
	}
	close_ok(cs.p);
}
END_TEST

/* ==== suite =========================================================== */

static TCase *tcase(Suite *s, const char *name, double timeout)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
	return tc;
}

Suite *pager_suite(void)
{
	Suite *s = suite_create("pager");
	TCase *tc = tcase(s, "open", 60);

	tcase_add_test(tc, test_pager_opts_default_documented_values);
	tcase_add_test(tc, test_pager_open_missing_without_create_cantopen);
	tcase_add_test(tc,
		       test_pager_open_missing_creates_db_with_header_in_wal);
	tcase_add_test(tc, test_pager_open_empty_file_creates_db);
	tcase_add_test(tc, test_pager_open_readonly_empty_or_missing_cantopen);
	tcase_add_test(tc, test_pager_close_leaves_single_file);
	tcase_add_test(tc, test_pager_close_mem_leaves_single_file);
	tcase_add_loop_test(tc, test_pager_open_valid_page_size_kept, 0, 8);
	tcase_add_test(tc, test_pager_open_invalid_page_size_misuse);
	tcase_add_test(tc,
		       test_pager_open_readonly_rejects_writes_changes_nothing);
	tcase_add_test(tc,
		       test_pager_readonly_wal_sees_commits_keeps_wal);
	tcase_add_test(tc, test_pager_open_text_or_random_file_notadb);
	tcase_add_test(tc, test_pager_open_twice_same_process_busy);
	tcase_add_test(tc,
		       test_pager_open_twice_other_spelling_or_readonly_busy);
	tcase_add_test(tc, test_pager_open_twice_mem_busy);
	tcase_add_test(tc, test_pager_open_locked_by_other_process_busy);
	tcase_add_test(tc, test_pager_open_in_child_while_parent_holds_busy);

	tc = tcase(s, "pages", 60);
	tcase_add_test(tc, test_pager_alloc_gives_zeroed_typed_writable_page);
	tcase_add_test(tc, test_pager_get_out_of_range_corrupt);
	tcase_add_test(tc, test_pager_write_twice_keeps_changes);
	tcase_add_test(tc, test_pager_free_then_alloc_reuses_before_growing);
	tcase_add_test(tc, test_pager_alloc_free_cycles_keep_page_count);
	tcase_add_loop_test(tc, test_pager_pins_beyond_cache_never_share_frames,
			    0, 2);
	tcase_add_test(tc, test_pager_same_page_pinned_twice_reads_same);
	tcase_add_loop_test(tc, test_pager_freelist_walk_lists_every_freed_page,
			    0, 5);
	tcase_add_test(tc, test_pager_freelist_walk_stops_when_fn_nonzero);
	tcase_add_test(tc, test_pager_page_types_survive_reopen);
	tcase_add_test(tc, test_pager_anchors_commit_with_txn);

	tc = tcase(s, "cache", 120);
	tcase_add_test(tc, test_pager_set_cache_resizes_when_idle);
	tcase_add_test(tc, test_pager_set_cache_under_concurrent_use);

	tc = tcase(s, "txn", 60);
	tcase_add_test(tc,
		       test_pager_reader_keeps_snapshot_after_writer_commits);
	tcase_add_test(tc, test_pager_writer_sees_own_writes_others_do_not);
	tcase_add_test(tc,
		       test_pager_rollback_discards_all_changes);
	tcase_add_test(tc, test_pager_reader_keeps_freed_page_after_reuse);
	tcase_add_test(tc, test_pager_second_writer_busy_after_timeout);
	tcase_add_test(tc,
		       test_pager_second_writer_gets_lock_when_first_commits);

	tc = tcase(s, "wal", 300);
	tcase_add_test(tc, test_pager_wal_unix_crash_recovers_all_commits);
	tcase_add_loop_test(tc, test_pager_wal_mem_crash_recovers_all_commits,
			    0, 2);
	tcase_add_test(tc, test_pager_checkpoint_keeps_live_reader_snapshot);
	tcase_add_test(tc, test_pager_auto_checkpoint_past_ckpt_frames);
	tcase_add_test(tc, test_pager_auto_checkpoint_spares_live_reader);
	tcase_add_test(tc, test_pager_no_auto_checkpoint_below_ckpt_frames);
	tcase_add_test(tc,
		       test_pager_wal_damaged_frame_recovers_commits_before_it);
	tcase_add_test(tc,
		       test_pager_wal_cut_tail_recovers_last_whole_commit);
	tcase_add_test(tc, test_pager_wal_garbage_after_last_commit_ignored);
	tcase_add_test(tc, test_pager_wal_old_generation_frames_ignored);
	tcase_add_test(tc,
		       test_pager_wal_forged_header_pages_past_end_corrupt);
	tcase_add_loop_test(tc,
			    test_pager_wal_forged_frame_bad_pgno_rejected,
			    0, 8);
	tcase_add_test(tc, test_pager_wal_garbage_file_ignored);
	tcase_add_test(tc,
		       test_pager_get_lenient_reports_damage_strict_get_refuses);
	tcase_add_test(tc, test_pager_wal_of_another_database_ignored);
	tcase_add_test(tc, test_pager_wal_beside_empty_file_ignored);
	tcase_add_loop_test(tc,
			    test_pager_wal_fault_during_commit_gives_old_or_new,
			    0, 3);
	tcase_add_loop_test(tc,
			    test_pager_lazy_sync_crash_keeps_whole_commit,
			    0, 2);
	tcase_add_test(tc, test_pager_many_snapshots_survive_checkpoints);
	tcase_add_test(tc, test_pager_reader_spans_wal_restart);
	tcase_add_test(tc, test_pager_crash_before_first_checkpoint_recovers);
	tcase_add_test(tc, test_pager_checkpoint_busy_while_writer_holds_lock);
	tcase_add_test(tc, test_pager_stats_count_hits_misses_evictions);
	tcase_add_test(tc, test_pager_pool_hot_page_stays_while_others_pass);
	tcase_add_test(tc, test_pager_pool_random_pins_match_model);
	tcase_add_test(tc, test_pager_stats_commit_counters_follow_sync_level);
	tcase_add_loop_test(tc, test_pager_sync_level_data_survives_reopen,
			    0, 3);

	tc = tcase(s, "bad", 600);
	tcase_add_test(tc, test_pager_bad_empty_file_is_new_db_not_readonly);
	tcase_add_test(tc, test_pager_bad_random_bytes_rejected);
	tcase_add_test(tc, test_pager_bad_random_bytes_with_magic_corrupt);
	tcase_add_test(tc,
		       test_pager_bad_truncated_every_length_never_wrong_data);
	tcase_add_test(tc,
		       test_pager_bad_short_or_cut_at_page_corrupt);
	tcase_add_loop_test(tc,
			    test_pager_bad_header_field_valid_checksum_corrupt,
			    0, N_BAD_HEADER_FIELDS);
	tcase_add_test(tc, test_pager_bad_free_list_trunk_flip_corrupt);
	tcase_add_loop_test(tc, test_pager_bad_free_list_resealed_lie_corrupt,
			    0, 10);
	tcase_add_loop_test(tc,
			    test_pager_bad_flipped_byte_every_offset_detected,
			    0, 3);

	tc = tcase(s, "concurrency", 600);
	tcase_add_loop_test(tc,
			    test_pager_concurrent_readers_see_constant_total,
			    0, 5);
	tcase_add_loop_test(tc, test_pager_group_commit_full_counts_all, 0, 2);

	tc = tcase(s, "large", 300);
	tcase_add_test(tc, test_pager_large_txn_commits_and_reads_back);
	tcase_add_test(tc, test_pager_large_txn_rollback_leaves_db_unchanged);
	tcase_add_test(tc,
		       test_pager_large_txn_rollback_then_crash_recovers_old);
	tcase_add_test(tc,
		       test_pager_large_txn_commit_then_crash_recovers_all);
	tcase_add_loop_test(tc,
			    test_pager_off_commits_then_spill_stay_whole,
			    0, 4);
	tcase_add_test(tc,
		       test_pager_large_rollback_commit_crash_keeps_commit);
	return s;
}
