/*
 * check_kv.c -- the key-value blob store: every rdb_kv_* call on real files
 * ("api"), a randomized model test against an in-memory map ("model"),
 * damaged records ("corrupt"), crash, power-loss and torn-write trials
 * through the internal kv_* API on the in-memory VFS ("crash"), an
 * allocation failure at every allocation ("errors"), and copy and
 * transfer between two databases ("twodb"), and the user namespace: system
 * records written through kv_* stay invisible to every rdb_kv_* call
 * ("namespace").
 *
 * Replay: RDB_TEST_SEED=<seed> reruns the randomized cases with the seed
 * they print; RDB_KV_CRASH_TRIAL=<i> runs only crash trial i.
 * Contracts under test: include/rdb.h ("Key-value blob store"),
 * src/kv/kv.h, src/pager/pager.h, src/pager/os.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "rdb.h"
#include "kv/kv.h"
#include "pager/pager.h"
#include "pager/os.h"
#include "err.h"
#include "format.h"
#include "mem.h"
#include "test_util.h"

#define KIB 1024u
#define MIB (1024u * 1024u)
#define CHUNK_MAX 65536u      /* streaming chunks are at most 64 KiB */
#define KEY_BUF 4096u         /* longest key a test builds */

/* ==== values: (kind, seed, length) names their bytes =================== */

enum { VK_RAND = 0, VK_TEXT = 1 };

typedef struct vdesc {
	int kind;             /* VK_RAND: incompressible; VK_TEXT: English */
	uint64_t seed;
	uint64_t len;
} vdesc;

static uint64_t mix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

/* Eight 64-byte lines; a VK_TEXT value is a random sequence of them, which
 * any compressor shrinks several times over. */
static const char text_lines[] =
	"The store appends records to a chain of log pages, one after   \n"
	"another; an index maps every key to the page of its record.    \n"
	"Compaction copies the live records forward and frees the old   \n"
	"pages, so replaced and deleted values stop taking up space.    \n"
	"Every record carries a checksum of its own: a damaged record   \n"
	"is reported with its key while the others stay readable.       \n"
	"Values above a few hundred bytes are compressed when that      \n"
	"saves space, and streamed in chunks of at most 64 KiB each.    \n";
_Static_assert(sizeof(text_lines) == 8 * 64 + 1, "eight 64-byte lines");

/* Bytes [off, off + n) of the value d. */
static void gen(const vdesc *d, uint64_t off, void *out, size_t n)
{
	unsigned char *b = out;
	uint64_t w = 0, p;
	size_t i;

	for (i = 0; i < n; i++) {
		p = off + i;
		if (d->kind == VK_TEXT) {
			b[i] = (unsigned char)text_lines[
				mix64(d->seed ^ (p / 64)) % 8 * 64 + p % 64];
			continue;
		}
		if (i == 0 || p % 8 == 0)
			w = mix64(d->seed * 0x100000001B3ull ^ (p / 8));
		b[i] = (unsigned char)(w >> (p % 8 * 8));
	}
}

/* The whole value in a new buffer (at least 1 byte); free() it. */
static unsigned char *gen_alloc(const vdesc *d)
{
	unsigned char *b = malloc(d->len ? d->len : 1);

	ck_assert_ptr_nonnull(b);
	gen(d, 0, b, d->len);
	return b;
}

/* The offset of the first byte of got[0, n) that differs from d's bytes
 * at [off, off + n), or UINT64_MAX if they agree. */
static uint64_t gen_diff(const vdesc *d, uint64_t off, const void *got,
			 size_t n)
{
	const unsigned char *g = got;
	unsigned char want[4096];
	size_t done = 0, m, i;

	while (done < n) {
		m = n - done < sizeof(want) ? n - done : sizeof(want);
		gen(d, off + done, want, m);
		if (memcmp(want, g + done, m) != 0) {
			for (i = 0; want[i] == g[done + i]; i++)
				;
			return off + done + i;
		}
		done += m;
	}
	return UINT64_MAX;
}

/* Fail unless (got, glen) is the value d. */
static void check_val(const void *got, size_t glen, const vdesc *d,
		      const char *what)
{
	uint64_t at;

	ck_assert_msg(glen == d->len, "%s: length %zu, want %llu", what, glen,
		      (unsigned long long)d->len);
	at = gen_diff(d, 0, got, glen);
	ck_assert_msg(at == UINT64_MAX, "%s: value differs at byte %llu of "
		      "%llu (kind %d, seed %llu)", what, (unsigned long long)at,
		      (unsigned long long)d->len, d->kind,
		      (unsigned long long)d->seed);
}

/* ==== streaming callbacks ============================================== */

/* Reader: serves d, optionally in short pieces, optionally failing once
 * fail_pos bytes were served. */
typedef struct src_state {
	vdesc d;
	uint64_t pos;
	size_t max_cap;       /* largest cap the store offered */
	long calls;
	int short_reads;      /* serve 1 .. cap bytes at random */
	uint64_t rng;
	int fail;             /* return non-zero once pos >= fail_pos */
	uint64_t fail_pos;
} src_state;

static src_state src_make(const vdesc *d, int short_reads, uint64_t rng)
{
	src_state s;

	memset(&s, 0, sizeof(s));
	s.d = *d;
	s.short_reads = short_reads;
	s.rng = rng | 1;
	return s;
}

static int src_read(void *arg, void *buf, size_t cap, size_t *got)
{
	src_state *s = arg;
	uint64_t left = s->d.len - s->pos;
	size_t n = cap;

	s->calls++;
	if (cap > s->max_cap)
		s->max_cap = cap;
	*got = 0;
	if (s->fail && s->pos >= s->fail_pos)
		return 1;
	if (n > left)
		n = (size_t)left;
	if (s->short_reads && n > 1)
		n = 1 + (size_t)tu_rand_below(&s->rng, n);
	gen(&s->d, s->pos, buf, n);
	s->pos += n;
	*got = n;
	return 0;
}

/* Writer: compares what it is pushed with d as it arrives. */
typedef struct sink {
	vdesc d;
	uint64_t pos;         /* bytes received */
	size_t max_n;         /* largest chunk */
	long calls;
	uint64_t bad_at;      /* first wrong byte, UINT64_MAX if none */
	long stop_after;      /* return non-zero on this call (0 = never) */
} sink;

static sink sink_make(const vdesc *d)
{
	sink k;

	memset(&k, 0, sizeof(k));
	if (d != NULL)
		k.d = *d;
	k.bad_at = UINT64_MAX;
	return k;
}

static int sink_write(void *arg, const void *buf, size_t n)
{
	sink *k = arg;
	uint64_t at;

	k->calls++;
	if (n > k->max_n)
		k->max_n = n;
	if (k->bad_at == UINT64_MAX) {
		if (k->pos + n > k->d.len)
			k->bad_at = k->d.len;
		else if ((at = gen_diff(&k->d, k->pos, buf, n)) != UINT64_MAX)
			k->bad_at = at;
	}
	k->pos += n;
	return k->stop_after > 0 && k->calls >= k->stop_after;
}

static void check_sink(const sink *k, const char *what)
{
	ck_assert_msg(k->max_n <= CHUNK_MAX, "%s: a chunk of %zu bytes was "
		      "pushed (limit 64 KiB)", what, k->max_n);
	ck_assert_msg(k->pos == k->d.len, "%s: %llu bytes pushed, want %llu",
		      what, (unsigned long long)k->pos,
		      (unsigned long long)k->d.len);
	ck_assert_msg(k->bad_at == UINT64_MAX, "%s: pushed value differs at "
		      "byte %llu", what, (unsigned long long)k->bad_at);
}

/* ==== fixture and helpers on the public API ============================ */

static char path[256];        /* the current test's database */
static char path2[256];       /* a second database (twodb) */

static void setup(void)
{
	tu_tmp_path(path, sizeof(path));
	tu_tmp_path(path2, sizeof(path2));
}

static void teardown(void)
{
	tu_unlink_db(path);
	tu_unlink_db(path2);
}

/* rc of call on db must be want; the message is printed if not. */
#define RC(db, want, call) do {						\
	int rc_rc_ = (call);						\
	ck_assert_msg(rc_rc_ == (int)(want), "%s: rc %d (%s), want %d "	\
		      "(%s): %s", #call, rc_rc_, rdb_errstr(rc_rc_),	\
		      (int)(want), rdb_errstr(want), rdb_errmsg(db));	\
} while (0)
#define OK(db, call) RC(db, RDB_OK, call)

static rdb *db_open(const char *p)
{
	rdb *db = NULL;
	int rc = rdb_open(p, &db);

	ck_assert_msg(rc == RDB_OK, "rdb_open('%s'): rc %d (%s): %s", p, rc,
		      rdb_errstr(rc), db != NULL ? rdb_errmsg(db) : "");
	ck_assert_ptr_nonnull(db);
	return db;
}

static void db_close(rdb *db)
{
	int rc = rdb_close(db);

	ck_assert_msg(rc == RDB_OK, "rdb_close: rc %d (%s)", rc,
		      rdb_errstr(rc));
}

static rdb *db_reopen(rdb *db, const char *p)
{
	db_close(db);
	return db_open(p);
}

static void put_str(rdb *db, const char *k, const char *v)
{
	OK(db, rdb_kv_put(db, k, strlen(k), v, strlen(v)));
}

/* key (kl bytes) must hold (v, vl); v NULL: be missing. */
static void expect_raw(rdb *db, const void *k, size_t kl, const void *v,
		       size_t vl)
{
	void *got = NULL;
	size_t n = 12345;
	int rc = rdb_kv_get_alloc(db, k, kl, &got, &n);

	if (v == NULL) {
		ck_assert_msg(rc == RDB_NOTFOUND, "get '%.*s': rc %d (%s), "
			      "want RDB_NOTFOUND: %s", (int)kl, (char *)k, rc,
			      rdb_errstr(rc), rdb_errmsg(db));
		return;
	}
	ck_assert_msg(rc == RDB_OK, "get '%.*s': rc %d (%s): %s", (int)kl,
		      (char *)k, rc, rdb_errstr(rc), rdb_errmsg(db));
	ck_assert_ptr_nonnull(got);
	ck_assert_msg(n == vl && memcmp(got, v, n) == 0, "get '%.*s': '%.*s', "
		      "want '%.*s'", (int)kl, (char *)k, (int)n, (char *)got,
		      (int)vl, (const char *)v);
	rdb_kv_free(got);
}

/* key must hold v (NULL: be missing). */
static void expect_str(rdb *db, const char *k, const char *v)
{
	expect_raw(db, k, strlen(k), v, v != NULL ? strlen(v) : 0);
}

static void put_d(rdb *db, const void *k, size_t kl, const vdesc *d)
{
	unsigned char *v = gen_alloc(d);

	OK(db, rdb_kv_put(db, k, kl, v, d->len));
	free(v);
}

static void put_stream_d(rdb *db, const void *k, size_t kl, const vdesc *d,
			 int short_reads)
{
	src_state s = src_make(d, short_reads, d->seed);

	OK(db, rdb_kv_put_stream(db, k, kl, src_read, &s));
	ck_assert_msg(s.max_cap <= CHUNK_MAX, "put_stream offered cap %zu "
		      "(limit 64 KiB)", s.max_cap);
	ck_assert_uint_eq(s.pos, d->len);
}

/* key (kl bytes) must hold d, read by rdb_kv_get_alloc (NULL: missing). */
static void expect_d(rdb *db, const void *k, size_t kl, const vdesc *d)
{
	void *got = NULL;
	size_t n = 0;
	int rc = rdb_kv_get_alloc(db, k, kl, &got, &n);

	if (d == NULL) {
		ck_assert_msg(rc == RDB_NOTFOUND, "get_alloc: rc %d (%s), want "
			      "RDB_NOTFOUND: %s", rc, rdb_errstr(rc),
			      rdb_errmsg(db));
		return;
	}
	ck_assert_msg(rc == RDB_OK, "get_alloc: rc %d (%s): %s", rc,
		      rdb_errstr(rc), rdb_errmsg(db));
	ck_assert_ptr_nonnull(got);
	check_val(got, n, d, "get_alloc");
	rdb_kv_free(got);
}

/* key must hold d, read through rdb_kv_get_stream. */
static void expect_stream_d(rdb *db, const void *k, size_t kl,
			    const vdesc *d)
{
	sink s = sink_make(d);

	OK(db, rdb_kv_get_stream(db, k, kl, sink_write, &s));
	check_sink(&s, "get_stream");
}

/* key must hold d, read with rdb_kv_get into a buffer of exactly its
 * length, after a buffer one byte short gave RDB_RANGE. */
static void expect_get_d(rdb *db, const void *k, size_t kl, const vdesc *d)
{
	unsigned char *buf = malloc(d->len + 1);
	size_t n = 0;

	ck_assert_ptr_nonnull(buf);
	if (d->len > 0) {
		RC(db, RDB_RANGE, rdb_kv_get(db, k, kl, buf, d->len - 1, &n));
		ck_assert_uint_eq(n, d->len);
		n = 0;
	}
	OK(db, rdb_kv_get(db, k, kl, buf, d->len, &n));
	check_val(buf, n, d, "get");
	free(buf);
}

static rdb_kv_stats stats_of(rdb *db)
{
	rdb_kv_stats st;

	memset(&st, 0xa5, sizeof(st));
	OK(db, rdb_kv_stats_get(db, &st));
	return st;
}

static uint64_t file_size(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long env_long(const char *name, long dflt)
{
	const char *s = getenv(name);

	return s != NULL && s[0] != '\0' ? strtol(s, NULL, 0) : dflt;
}

/* ==== api: connections ================================================= */

START_TEST(test_kv_open_missing_file_creates_empty_store)
{
	rdb_kv_stats st;
	rdb *db;

	ck_assert_uint_eq(file_size(path), 0);
	db = db_open(path);
	st = stats_of(db);
	ck_assert_uint_eq(st.live_keys, 0);
	ck_assert_uint_eq(st.live_bytes, 0);
	ck_assert_uint_eq(st.dead_bytes, 0);
	expect_str(db, "nothing", NULL);
	ck_assert_uint_ge(rdb_kv_max_key(db), 1000);
	db_close(db);
	db = db_open(path);
	expect_str(db, "nothing", NULL);
	db_close(db);
}
END_TEST

START_TEST(test_kv_open_same_path_twice_is_busy)
{
	rdb *db = db_open(path), *db2 = NULL;
	int rc = rdb_open(path, &db2);

	ck_assert_msg(rc == RDB_BUSY, "second rdb_open: rc %d (%s), want "
		      "RDB_BUSY", rc, rdb_errstr(rc));
	(void)rdb_close(db2);     /* a handle may come back to explain */
	put_str(db, "k", "still usable");
	db_close(db);
	db = db_open(path);       /* and free again after the close */
	expect_str(db, "k", "still usable");
	db_close(db);
	ck_assert_int_eq(rdb_close(NULL), RDB_OK);
}
END_TEST

START_TEST(test_kv_open_junk_is_notadb_missing_folder_cantopen)
{
	char junk[8192], bad[300];
	rdb *db = NULL;
	int rc;

	memset(junk, 'j', sizeof(junk));
	tu_write_file(path, junk, sizeof(junk));
	rc = rdb_open(path, &db);
	ck_assert_msg(rc == RDB_NOTADB, "rdb_open of junk: rc %d (%s)", rc,
		      rdb_errstr(rc));
	(void)rdb_close(db);
	db = NULL;
	snprintf(bad, sizeof(bad), "%s.missing-folder/x.rdb", path);
	rc = rdb_open(bad, &db);
	ck_assert_msg(rc == RDB_CANTOPEN, "rdb_open in a missing folder: rc "
		      "%d (%s)", rc, rdb_errstr(rc));
	(void)rdb_close(db);
	db = NULL;
	ck_assert_int_eq(rdb_open(NULL, &db), RDB_MISUSE);
	ck_assert_int_eq(rdb_open(path2, NULL), RDB_MISUSE);
}
END_TEST

START_TEST(test_kv_errmsg_follows_last_call)
{
	rdb *db = db_open(path);
	size_t big = rdb_kv_max_key(db) + 1;
	char *key = calloc(1, big);

	ck_assert_ptr_nonnull(key);
	RC(db, RDB_TOOBIG, rdb_kv_put(db, key, big, "v", 1));
	ck_assert_int_eq(rdb_errcode(db), RDB_TOOBIG);
	ck_assert_str_ne(rdb_errmsg(db), "");
	ck_assert_str_ne(rdb_errmsg(db), "not an error");
	put_str(db, "k", "v");
	ck_assert_int_eq(rdb_errcode(db), RDB_OK);
	ck_assert_str_eq(rdb_errmsg(db), "not an error");
	free(key);
	db_close(db);
}
END_TEST

START_TEST(test_kv_null_handle_or_arguments_are_misuse)
{
	rdb *db = db_open(path);
	rdb_kv_stats st;
	rdb_kv_iter *it = NULL;
	size_t n;
	void *v;
	int ex;

	ck_assert_int_eq(rdb_kv_put(NULL, "k", 1, "v", 1), RDB_MISUSE);
	ck_assert_int_eq(rdb_kv_get(NULL, "k", 1, &n, 1, &n), RDB_MISUSE);
	ck_assert_int_eq(rdb_kv_get_alloc(NULL, "k", 1, &v, &n), RDB_MISUSE);
	ck_assert_int_eq(rdb_kv_exists(NULL, "k", 1, &ex), RDB_MISUSE);
	ck_assert_int_eq(rdb_kv_delete(NULL, "k", 1, &ex), RDB_MISUSE);
	ck_assert_int_eq(rdb_kv_stats_get(NULL, &st), RDB_MISUSE);
	ck_assert_int_eq(rdb_kv_compact(NULL), RDB_MISUSE);
	ck_assert_int_eq(rdb_kv_iter_open(NULL, "", 0, &it), RDB_MISUSE);
	RC(db, RDB_MISUSE, rdb_kv_put(db, NULL, 1, "v", 1));
	RC(db, RDB_MISUSE, rdb_kv_get_alloc(db, "k", 1, NULL, &n));
	RC(db, RDB_MISUSE, rdb_kv_stats_get(db, NULL));
	RC(db, RDB_MISUSE, rdb_kv_put_stream(db, "k", 1, NULL, NULL));
	RC(db, RDB_MISUSE, rdb_kv_get_stream(db, "k", 1, NULL, NULL));
	RC(db, RDB_MISUSE, rdb_kv_batch(db, NULL, 1));
	rdb_kv_free(NULL);
	rdb_kv_iter_close(NULL);
	expect_str(db, "k", NULL);
	db_close(db);
}
END_TEST

/* One thread's share of test_kv_handle_shared_by_threads: puts, gets,
 * deletes of its own keys; returns a message on the first wrong result. */
typedef struct thr_arg {
	rdb *db;
	int id;
	char fail[160];
	long rows;            /* scanner: rows checked */
} thr_arg;

static atomic_int thr_writers_done;

/* Value i of thread t: short, or 600 bytes of text (compressed). */
static size_t thr_val(char *buf, size_t n, int t, int i)
{
	size_t len = (size_t)snprintf(buf, n, "value %d of thread %d", i, t);

	if (i % 2 == 1) {
		while (len + 64 < 600) {
			memcpy(buf + len, text_lines + (len + (size_t)t) % 8 *
			       64, 64);
			len += 64;
		}
	}
	return len;
}

static void *thr_work(void *p)
{
	thr_arg *a = p;
	char key[32], val[640], got[640];
	size_t n, vl;
	int i, rc, ex;

	for (i = 0; i < 40 && a->fail[0] == '\0'; i++) {
		snprintf(key, sizeof(key), "t%d-%03d", a->id, i);
		vl = thr_val(val, sizeof(val), a->id, i);
		rc = rdb_kv_put(a->db, key, strlen(key), val, vl);
		if (rc == RDB_OK)
			rc = rdb_kv_get(a->db, key, strlen(key), got,
					sizeof(got), &n);
		if (rc == RDB_OK && (n != vl || memcmp(got, val, n)))
			rc = -1;
		if (rc == RDB_OK && i % 4 == 3)
			rc = rdb_kv_delete(a->db, key, strlen(key), &ex);
		if (rc != RDB_OK)
			snprintf(a->fail, sizeof(a->fail), "thread %d, key "
				 "'%s': rc %d", a->id, key, rc);
	}
	return NULL;
}

/* Scans the writers' keys with values while they write: every key it
 * sees must hold one of its thread's values. */
static void *thr_scan(void *p)
{
	thr_arg *a = p;
	rdb_kv_iter *it;
	const void *k;
	size_t kl, vl;
	void *v;
	int round, rc, t, i;

	for (round = 0; (round < 3 || !atomic_load(&thr_writers_done)) &&
	     a->fail[0] == '\0'; round++) {
		it = NULL;
		rc = rdb_kv_iter_open(a->db, "t", 1, &it);
		while (rc == RDB_OK &&
		       (rc = rdb_kv_iter_next(it, &k, &kl)) == RDB_ROW) {
			char want[640], name[8];

			memcpy(name, k, kl < 7 ? kl : 7);
			name[kl < 7 ? kl : 7] = '\0';
			rc = kl == 6 && sscanf(name, "t%d-%3d", &t, &i) == 2 ?
				RDB_OK : -1;
			a->rows++;
			if (rc == RDB_OK)
				rc = rdb_kv_iter_value(it, &v, &vl);
			if (rc == RDB_OK) {
				if (vl != thr_val(want, sizeof(want), t, i) ||
				    memcmp(v, want, vl) != 0)
					rc = -1;
				rdb_kv_free(v);
			}
		}
		if (rc != RDB_DONE)
			snprintf(a->fail, sizeof(a->fail), "scan %d: rc %d",
				 round, rc);
		rdb_kv_iter_close(it);
	}
	return NULL;
}

START_TEST(test_kv_handle_shared_by_threads_serialises_calls)
{
	enum { NT = 4 };
	pthread_t th[NT + 1];
	thr_arg args[NT + 1];
	rdb *db = db_open(path);
	char key[32];
	int t, i;

	atomic_store(&thr_writers_done, 0);
	for (t = 0; t <= NT; t++) {
		args[t] = (thr_arg){ db, t, "", 0 };
		ck_assert_int_eq(pthread_create(&th[t], NULL, t < NT ?
						thr_work : thr_scan,
						&args[t]), 0);
	}
	for (t = 0; t < NT; t++)
		ck_assert_int_eq(pthread_join(th[t], NULL), 0);
	atomic_store(&thr_writers_done, 1);
	ck_assert_int_eq(pthread_join(th[NT], NULL), 0);
	for (t = 0; t <= NT; t++)
		ck_assert_msg(args[t].fail[0] == '\0', "%s", args[t].fail);
	ck_assert_int_gt(args[NT].rows, 0);
	ck_assert_uint_eq(stats_of(db).live_keys, NT * 30);
	db = db_reopen(db, path);
	for (t = 0; t < NT; t++) {
		for (i = 0; i < 40; i++) {
			char val[640];
			size_t vl = thr_val(val, sizeof(val), t, i);

			snprintf(key, sizeof(key), "t%d-%03d", t, i);
			expect_raw(db, key, strlen(key), i % 4 == 3 ? NULL :
				   val, vl);
		}
	}
	db_close(db);
}
END_TEST

/* ==== api: put, get, exists, delete ==================================== */

START_TEST(test_kv_put_get_persists_across_reopen)
{
	rdb *db = db_open(path);
	int ex = -1;

	put_str(db, "alpha", "one");
	put_str(db, "beta", "two");
	expect_str(db, "alpha", "one");
	OK(db, rdb_kv_exists(db, "beta", 4, &ex));
	ck_assert_int_eq(ex, 1);
	db = db_reopen(db, path);
	expect_str(db, "alpha", "one");
	expect_str(db, "beta", "two");
	expect_str(db, "gamma", NULL);
	ck_assert_uint_eq(stats_of(db).live_keys, 2);
	db_close(db);
}
END_TEST

START_TEST(test_kv_put_existing_key_replaces_value)
{
	rdb *db = db_open(path);
	vdesc big = { VK_RAND, 7, 300 * KIB };

	put_str(db, "k", "first");
	put_str(db, "k", "second, longer than the first");
	expect_str(db, "k", "second, longer than the first");
	put_d(db, "k", 1, &big);
	expect_d(db, "k", 1, &big);
	put_str(db, "k", "");
	expect_str(db, "k", "");
	ck_assert_uint_eq(stats_of(db).live_keys, 1);
	db = db_reopen(db, path);
	expect_str(db, "k", "");
	ck_assert_uint_eq(stats_of(db).live_keys, 1);
	db_close(db);
}
END_TEST

START_TEST(test_kv_get_small_buffer_is_range_with_length)
{
	rdb *db = db_open(path);
	char buf[64];
	size_t n = 0;

	put_str(db, "k", "0123456789");
	memset(buf, '#', sizeof(buf));
	RC(db, RDB_RANGE, rdb_kv_get(db, "k", 1, buf, 9, &n));
	ck_assert_uint_eq(n, 10);
	ck_assert_int_eq(buf[0], '#');        /* nothing copied */
	n = 0;
	RC(db, RDB_RANGE, rdb_kv_get(db, "k", 1, buf, 0, &n));
	ck_assert_uint_eq(n, 10);
	n = 0;
	OK(db, rdb_kv_get(db, "k", 1, buf, 10, &n));
	ck_assert_uint_eq(n, 10);
	ck_assert_int_eq(memcmp(buf, "0123456789", 10), 0);
	n = 0;
	OK(db, rdb_kv_get(db, "k", 1, buf, sizeof(buf), &n));
	ck_assert_uint_eq(n, 10);
	ck_assert_int_eq(buf[10], '#');       /* no byte past the value */
	db_close(db);
}
END_TEST

START_TEST(test_kv_missing_key_is_notfound_everywhere)
{
	rdb *db = db_open(path);
	sink s = sink_make(NULL);
	char buf[16];
	size_t n;
	void *v = NULL;
	int ex = -1;

	put_str(db, "present", "x");
	RC(db, RDB_NOTFOUND, rdb_kv_get(db, "absent", 6, buf, 16, &n));
	RC(db, RDB_NOTFOUND, rdb_kv_get_alloc(db, "absent", 6, &v, &n));
	ck_assert_ptr_null(v);
	RC(db, RDB_NOTFOUND, rdb_kv_get_stream(db, "absent", 6, sink_write,
					       &s));
	ck_assert_int_eq(s.calls, 0);
	OK(db, rdb_kv_exists(db, "absent", 6, &ex));
	ck_assert_int_eq(ex, 0);
	/* a prefix or an extension of a stored key is another key */
	RC(db, RDB_NOTFOUND, rdb_kv_get(db, "presen", 6, buf, 16, &n));
	RC(db, RDB_NOTFOUND, rdb_kv_get(db, "presentx", 8, buf, 16, &n));
	db_close(db);
}
END_TEST

START_TEST(test_kv_get_alloc_empty_value_is_non_null)
{
	rdb *db = db_open(path);
	void *v = NULL;
	size_t n = 99;
	char buf[1];

	OK(db, rdb_kv_put(db, "empty", 5, "", 0));
	OK(db, rdb_kv_get_alloc(db, "empty", 5, &v, &n));
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(n, 0);
	rdb_kv_free(v);
	n = 99;
	OK(db, rdb_kv_get(db, "empty", 5, buf, 0, &n));
	ck_assert_uint_eq(n, 0);
	db = db_reopen(db, path);
	expect_str(db, "empty", "");
	ck_assert_uint_eq(stats_of(db).live_keys, 1);
	db_close(db);
}
END_TEST

START_TEST(test_kv_delete_reports_whether_key_existed)
{
	rdb *db = db_open(path);
	int existed = -1, ex = -1;

	put_str(db, "a", "1");
	put_str(db, "b", "2");
	OK(db, rdb_kv_delete(db, "a", 1, &existed));
	ck_assert_int_eq(existed, 1);
	expect_str(db, "a", NULL);
	OK(db, rdb_kv_exists(db, "a", 1, &ex));
	ck_assert_int_eq(ex, 0);
	existed = -1;
	OK(db, rdb_kv_delete(db, "a", 1, &existed));
	ck_assert_int_eq(existed, 0);
	OK(db, rdb_kv_delete(db, "never", 5, &existed));
	ck_assert_int_eq(existed, 0);
	OK(db, rdb_kv_delete(db, "never", 5, NULL));
	OK(db, rdb_kv_delete(db, "b", 1, NULL));
	ck_assert_uint_eq(stats_of(db).live_keys, 0);
	db = db_reopen(db, path);
	expect_str(db, "a", NULL);
	expect_str(db, "b", NULL);
	put_str(db, "a", "again");
	expect_str(db, "a", "again");
	db_close(db);
}
END_TEST

START_TEST(test_kv_empty_key_is_rejected)
{
	rdb *db = db_open(path);
	int rc = rdb_kv_put(db, "", 0, "v", 1);

	ck_assert_msg(rc != RDB_OK, "put of an empty key succeeded");
	ck_assert_uint_eq(stats_of(db).live_keys, 0);
	db_close(db);
}
END_TEST

START_TEST(test_kv_key_of_max_length_round_trips_longer_is_toobig)
{
	rdb *db = db_open(path);
	size_t max = rdb_kv_max_key(db), i;
	unsigned char *k = malloc(max + 2), *k2 = malloc(max + 2);
	vdesc d = { VK_TEXT, 3, 2000 };
	int ex = -1;

	ck_assert_ptr_nonnull(k);
	ck_assert_ptr_nonnull(k2);
	for (i = 0; i < max + 1; i++)
		k[i] = (unsigned char)(i * 31 + 7);
	memcpy(k2, k, max + 1);
	k2[max - 1] ^= 1;                     /* differs in its last byte */
	put_str(db, "x", "small");
	OK(db, rdb_kv_put(db, k, max, "max key", 7));
	OK(db, rdb_kv_put(db, k2, max, "other", 5));
	RC(db, RDB_TOOBIG, rdb_kv_put(db, k, max + 1, "too long", 8));
	OK(db, rdb_kv_exists(db, k, max, &ex));
	ck_assert_int_eq(ex, 1);
	ck_assert_uint_eq(stats_of(db).live_keys, 3);
	db = db_reopen(db, path);
	expect_raw(db, k, max, "max key", 7);
	expect_raw(db, k2, max, "other", 5);
	expect_raw(db, k, max - 1, NULL, 0);
	put_d(db, k, max, &d);
	expect_d(db, k, max, &d);
	expect_raw(db, k2, max, "other", 5);
	expect_str(db, "x", "small");
	free(k);
	free(k2);
	db_close(db);
}
END_TEST

START_TEST(test_kv_binary_keys_with_nul_bytes_are_distinct)
{
	static const unsigned char k1[] = { 'a', 0, 'b' };
	static const unsigned char k2[] = { 'a', 0, 'c' };
	static const unsigned char k3[] = { 'a', 0 };
	static const unsigned char k4[] = { 0 };
	static const unsigned char k5[] = { 0, 0, 0 };
	static const unsigned char k6[] = { 0xff, 0, 0xfe };
	rdb *db = db_open(path);
	int ex = -1;

	OK(db, rdb_kv_put(db, k1, 3, "k1", 2));
	OK(db, rdb_kv_put(db, k2, 3, "k2", 2));
	OK(db, rdb_kv_put(db, k3, 2, "k3", 2));
	OK(db, rdb_kv_put(db, k4, 1, "k4", 2));
	OK(db, rdb_kv_put(db, k5, 3, "k5", 2));
	OK(db, rdb_kv_put(db, k6, 3, "k6", 2));
	OK(db, rdb_kv_exists(db, "a", 1, &ex));
	ck_assert_int_eq(ex, 0);
	OK(db, rdb_kv_exists(db, k5, 2, &ex));
	ck_assert_int_eq(ex, 0);
	ck_assert_uint_eq(stats_of(db).live_keys, 6);
	db = db_reopen(db, path);
	expect_raw(db, k1, 3, "k1", 2);
	expect_raw(db, k2, 3, "k2", 2);
	expect_raw(db, k3, 2, "k3", 2);
	expect_raw(db, k4, 1, "k4", 2);
	expect_raw(db, k5, 3, "k5", 2);
	expect_raw(db, k6, 3, "k6", 2);
	OK(db, rdb_kv_delete(db, k3, 2, &ex));
	ck_assert_int_eq(ex, 1);
	expect_raw(db, k1, 3, "k1", 2);
	expect_raw(db, k3, 2, NULL, 0);
	db_close(db);
}
END_TEST

/* ==== api: value sizes, streaming ====================================== */

static const uint64_t value_sizes[] = { 0, 1, 64 * KIB, MIB, 16 * MIB };
#define N_VALUE_SIZES (sizeof(value_sizes) / sizeof(value_sizes[0]))

/* Loop index i: size value_sizes[i / 2], random bytes (even i) or text.
 * Four keys: put/get, put/get_stream, put_stream/get_alloc and
 * put_stream/get_stream, all read again after a reopen. */
START_TEST(test_kv_value_sizes_round_trip_put_and_stream)
{
	vdesc d = { _i % 2 ? VK_TEXT : VK_RAND, 1000u + (uint64_t)_i,
		    value_sizes[_i / 2] };
	rdb *db = db_open(path);
	int pass;

	put_d(db, "put", 3, &d);
	put_stream_d(db, "stream", 6, &d, 0);
	put_stream_d(db, "short reads", 11, &d, 1);
	put_str(db, "neighbour", "n");
	for (pass = 0; pass < 2; pass++) {
		expect_get_d(db, "put", 3, &d);
		expect_stream_d(db, "put", 3, &d);
		expect_d(db, "stream", 6, &d);
		expect_stream_d(db, "stream", 6, &d);
		expect_get_d(db, "short reads", 11, &d);
		expect_str(db, "neighbour", "n");
		ck_assert_uint_eq(stats_of(db).live_keys, 4);
		if (pass == 0)
			db = db_reopen(db, path);
	}
	db_close(db);
}
END_TEST

START_TEST(test_kv_put_stream_offers_at_most_64k_and_takes_short_reads)
{
	vdesc d = { VK_RAND, 55, 3 * MIB + 12345 };
	src_state s = src_make(&d, 1, 99);
	rdb *db = db_open(path);

	OK(db, rdb_kv_put_stream(db, "k", 1, src_read, &s));
	ck_assert_uint_eq(s.pos, d.len);
	ck_assert_uint_le(s.max_cap, CHUNK_MAX);
	ck_assert_uint_gt(s.max_cap, 0);
	ck_assert_int_gt(s.calls, (long)(d.len / CHUNK_MAX));
	expect_d(db, "k", 1, &d);
	db_close(db);
}
END_TEST

START_TEST(test_kv_get_stream_pushes_chunks_of_at_most_64k)
{
	vdesc d = { VK_TEXT, 56, 5 * MIB + 3 };
	sink k = sink_make(&d);
	rdb *db = db_open(path);

	put_d(db, "k", 1, &d);
	OK(db, rdb_kv_get_stream(db, "k", 1, sink_write, &k));
	check_sink(&k, "get_stream");
	ck_assert_int_ge(k.calls, (long)(d.len / CHUNK_MAX));
	db_close(db);
}
END_TEST

START_TEST(test_kv_put_stream_reader_abort_is_interrupt_nothing_stored)
{
	vdesc old = { VK_TEXT, 1, 5000 }, d = { VK_RAND, 2, 2 * MIB };
	rdb *db = db_open(path);
	rdb_kv_stats before, after;
	src_state s;

	put_d(db, "old", 3, &old);
	put_d(db, "replaced", 8, &old);
	before = stats_of(db);
	/* abort at the first call, after some chunks, and at the very end */
	s = src_make(&d, 0, 1);
	s.fail = 1;
	RC(db, RDB_INTERRUPT, rdb_kv_put_stream(db, "new", 3, src_read, &s));
	s = src_make(&d, 0, 1);
	s.fail = 1;
	s.fail_pos = MIB + 100;
	RC(db, RDB_INTERRUPT, rdb_kv_put_stream(db, "new", 3, src_read, &s));
	s = src_make(&d, 1, 1);
	s.fail = 1;
	s.fail_pos = d.len;
	RC(db, RDB_INTERRUPT, rdb_kv_put_stream(db, "replaced", 8, src_read,
						&s));
	expect_d(db, "new", 3, NULL);
	expect_d(db, "replaced", 8, &old);
	expect_d(db, "old", 3, &old);
	after = stats_of(db);
	ck_assert_uint_eq(after.live_keys, before.live_keys);
	ck_assert_uint_eq(after.live_bytes, before.live_bytes);
	db = db_reopen(db, path);
	expect_d(db, "new", 3, NULL);
	expect_d(db, "replaced", 8, &old);
	ck_assert_uint_eq(stats_of(db).live_keys, 2);
	db_close(db);
}
END_TEST

START_TEST(test_kv_get_stream_writer_stop_is_interrupt)
{
	vdesc d = { VK_RAND, 9, MIB };
	sink k = sink_make(&d);
	rdb *db = db_open(path);

	put_d(db, "k", 1, &d);
	k.stop_after = 3;
	RC(db, RDB_INTERRUPT, rdb_kv_get_stream(db, "k", 1, sink_write, &k));
	ck_assert_int_eq(k.calls, 3);
	ck_assert_uint_eq(k.bad_at, UINT64_MAX);
	expect_d(db, "k", 1, &d);             /* the value is untouched */
	db_close(db);
}
END_TEST

START_TEST(test_kv_value_over_1gib_put_is_toobig_before_reading)
{
	rdb *db = db_open(path);
	char small[16] = "";

	/* the length alone must be refused: only 16 bytes are readable */
	RC(db, RDB_TOOBIG, rdb_kv_put(db, "k", 1, small,
				      ((size_t)1 << 30) + 1));
	expect_str(db, "k", NULL);
	db_close(db);
}
END_TEST

/* ==== api: batch, rename =============================================== */

START_TEST(test_kv_batch_applies_ops_in_order)
{
	rdb *db = db_open(path);
	rdb_kv_op ops[6];

	put_str(db, "gone", "will be deleted");
	put_str(db, "kept", "untouched");
	memset(ops, 0, sizeof(ops));
	ops[0] = (rdb_kv_op){ 0, "a", 1, "first", 5 };
	ops[1] = (rdb_kv_op){ 0, "b", 1, "bee", 3 };
	ops[2] = (rdb_kv_op){ 1, "gone", 4, NULL, 0 };
	ops[3] = (rdb_kv_op){ 0, "a", 1, "second", 6 };   /* later op wins */
	ops[4] = (rdb_kv_op){ 1, "b", 1, NULL, 0 };
	ops[5] = (rdb_kv_op){ 1, "never", 5, NULL, 0 };   /* missing: fine */
	OK(db, rdb_kv_batch(db, ops, 6));
	expect_str(db, "a", "second");
	expect_str(db, "b", NULL);
	expect_str(db, "gone", NULL);
	expect_str(db, "kept", "untouched");
	ck_assert_uint_eq(stats_of(db).live_keys, 2);
	db = db_reopen(db, path);
	expect_str(db, "a", "second");
	expect_str(db, "gone", NULL);
	ck_assert_uint_eq(stats_of(db).live_keys, 2);
	db_close(db);
}
END_TEST

START_TEST(test_kv_batch_with_toobig_fifth_op_applies_none)
{
	rdb *db = db_open(path);
	size_t big = rdb_kv_max_key(db) + 1;
	char *bigkey = malloc(big);
	vdesc d = { VK_RAND, 5, 200 * KIB };
	unsigned char *v = gen_alloc(&d);
	rdb_kv_stats before, after;
	rdb_kv_op ops[7];

	ck_assert_ptr_nonnull(bigkey);
	memset(bigkey, 'z', big);
	put_str(db, "x", "old x");
	put_str(db, "y", "old y");
	before = stats_of(db);
	ops[0] = (rdb_kv_op){ 0, "x", 1, "new x", 5 };
	ops[1] = (rdb_kv_op){ 1, "y", 1, NULL, 0 };
	ops[2] = (rdb_kv_op){ 0, "big", 3, v, d.len };
	ops[3] = (rdb_kv_op){ 0, "z", 1, "zed", 3 };
	ops[4] = (rdb_kv_op){ 0, bigkey, big, "too long key", 12 };
	ops[5] = (rdb_kv_op){ 0, "w", 1, "w", 1 };
	ops[6] = (rdb_kv_op){ 1, "x", 1, NULL, 0 };
	RC(db, RDB_TOOBIG, rdb_kv_batch(db, ops, 7));
	expect_str(db, "x", "old x");
	expect_str(db, "y", "old y");
	expect_str(db, "z", NULL);
	expect_str(db, "w", NULL);
	expect_d(db, "big", 3, NULL);
	after = stats_of(db);
	ck_assert_uint_eq(after.live_keys, before.live_keys);
	ck_assert_uint_eq(after.live_bytes, before.live_bytes);
	ck_assert_uint_eq(after.dead_bytes, before.dead_bytes);
	/* the same ops without the bad one all apply */
	ops[4] = (rdb_kv_op){ 0, "v", 1, "vee", 3 };
	OK(db, rdb_kv_batch(db, ops, 7));
	db = db_reopen(db, path);
	expect_str(db, "x", NULL);
	expect_str(db, "y", NULL);
	expect_str(db, "z", "zed");
	expect_str(db, "v", "vee");
	expect_str(db, "w", "w");
	expect_d(db, "big", 3, &d);
	ck_assert_uint_eq(stats_of(db).live_keys, 4);
	free(v);
	free(bigkey);
	db_close(db);
}
END_TEST

/* A large batch (its values compressed ahead on a helper thread): text
 * and random values, a value given twice, deletes and overwrites between,
 * a bad key at op `bad` (or none for bad < 0). */
#define AH_N 96u
static void ahead_ops(rdb_kv_op *ops, char (*keys)[16], unsigned char **v,
		      vdesc *d, int bad)
{
	unsigned i;

	for (i = 0; i < AH_N; i++) {
		d[i] = (vdesc){ i % 3 == 2 ? VK_RAND : VK_TEXT, 100 + i,
				(i * 7919u) % (40 * KIB) + 200 };
		v[i] = gen_alloc(&d[i]);
		snprintf(keys[i], 16, "ah%03u", i % 80);    /* 16 rewrites */
		ops[i] = (rdb_kv_op){ 0, keys[i], strlen(keys[i]), v[i],
				      d[i].len };
		if (i % 17 == 16)      /* delete what op i - 1 put */
			ops[i] = (rdb_kv_op){ 1, keys[i - 1],
					      strlen(keys[i - 1]), NULL, 0 };
		if (i % 23 == 22)      /* op i - 2's value again */
			ops[i].val = v[i - 2], ops[i].vlen = d[i - 2].len;
	}
	if (bad >= 0)
		ops[bad].klen = 0;
}

static void ahead_free(unsigned char **v)
{
	unsigned i;

	for (i = 0; i < AH_N; i++)
		free(v[i]);
}

START_TEST(test_kv_batch_compressed_ahead_stores_what_single_puts_store)
{
	static rdb_kv_op ops[AH_N];
	static char keys[AH_N][16];
	static unsigned char *v[AH_N];
	static vdesc d[AH_N];
	rdb *a = db_open(path), *b = db_open(path2);
	rdb_kv_stats sa, sb;
	void *got, *want;
	size_t gl, wl;
	unsigned i;
	int ex;

	ahead_ops(ops, keys, v, d, -1);
	OK(a, rdb_kv_batch(a, ops, AH_N));
	for (i = 0; i < AH_N; i++)
		if (ops[i].del)
			OK(b, rdb_kv_delete(b, ops[i].key, ops[i].klen, &ex));
		else
			OK(b, rdb_kv_put(b, ops[i].key, ops[i].klen,
					 ops[i].val, ops[i].vlen));
	a = db_reopen(a, path);
	sa = stats_of(a);
	sb = stats_of(b);
	ck_assert_uint_eq(sa.live_keys, sb.live_keys);
	ck_assert_uint_eq(sa.live_bytes, sb.live_bytes);
	ck_assert_uint_eq(sa.saved_bytes, sb.saved_bytes);
	ck_assert_uint_gt(sa.saved_bytes, 0);
	for (i = 0; i < 80; i++) {
		snprintf(keys[0], 16, "ah%03u", i);
		RC(a, rdb_kv_get_alloc(b, keys[0], 5, &want, &wl),
		   rdb_kv_get_alloc(a, keys[0], 5, &got, &gl));
		if (want != NULL)
			ck_assert_msg(gl == wl && memcmp(got, want, gl) == 0,
				      "key %s differs", keys[0]);
		rdb_kv_free(got);
		rdb_kv_free(want);
	}
	ahead_free(v);
	db_close(a);
	db_close(b);
}
END_TEST

START_TEST(test_kv_batch_compressed_ahead_with_bad_op_applies_none)
{
	static rdb_kv_op ops[AH_N];
	static char keys[AH_N][16];
	static unsigned char *v[AH_N];
	static vdesc d[AH_N];
	rdb *db = db_open(path);
	int bad = _i == 0 ? 1 : _i == 1 ? (int)AH_N / 2 : (int)AH_N - 1;

	put_str(db, "ah000", "old");
	ahead_ops(ops, keys, v, d, bad);
	RC(db, RDB_TOOBIG, rdb_kv_batch(db, ops, AH_N));
	expect_str(db, "ah000", "old");
	ck_assert_uint_eq(stats_of(db).live_keys, 1);
	ops[bad].klen = strlen(ops[bad].key);
	OK(db, rdb_kv_batch(db, ops, AH_N));
	expect_d(db, "ah001", 5, &d[81]);     /* op 81 rewrote op 1 */
	ahead_free(v);
	db_close(db);
}
END_TEST

START_TEST(test_kv_batch_with_empty_key_applies_none)
{
	rdb *db = db_open(path);
	rdb_kv_op ops[3] = {
		{ 0, "a", 1, "a", 1 },
		{ 0, "", 0, "empty key", 9 },
		{ 0, "b", 1, "b", 1 },
	};

	ck_assert_int_ne(rdb_kv_batch(db, ops, 3), RDB_OK);
	expect_str(db, "a", NULL);
	expect_str(db, "b", NULL);
	ck_assert_uint_eq(stats_of(db).live_keys, 0);
	db_close(db);
}
END_TEST

START_TEST(test_kv_rename_moves_value_and_replaces_target)
{
	vdesc d = { VK_TEXT, 77, 100 * KIB };
	rdb *db = db_open(path);

	put_d(db, "from", 4, &d);
	put_str(db, "to", "old target");
	put_str(db, "other", "o");
	OK(db, rdb_kv_rename(db, "from", 4, "to", 2));
	expect_d(db, "from", 4, NULL);
	expect_d(db, "to", 2, &d);
	ck_assert_uint_eq(stats_of(db).live_keys, 2);
	OK(db, rdb_kv_rename(db, "to", 2, "fresh", 5));
	expect_d(db, "to", 2, NULL);
	expect_d(db, "fresh", 5, &d);
	db = db_reopen(db, path);
	expect_d(db, "fresh", 5, &d);
	expect_d(db, "to", 2, NULL);
	expect_d(db, "from", 4, NULL);
	expect_str(db, "other", "o");
	ck_assert_uint_eq(stats_of(db).live_keys, 2);
	db_close(db);
}
END_TEST

START_TEST(test_kv_rename_missing_is_notfound_same_name_is_misuse)
{
	rdb *db = db_open(path);

	put_str(db, "a", "1");
	put_str(db, "b", "2");
	RC(db, RDB_NOTFOUND, rdb_kv_rename(db, "missing", 7, "b", 1));
	RC(db, RDB_MISUSE, rdb_kv_rename(db, "a", 1, "a", 1));
	{
		size_t big = rdb_kv_max_key(db) + 1;
		char *k = calloc(1, big);

		ck_assert_ptr_nonnull(k);
		RC(db, RDB_TOOBIG, rdb_kv_rename(db, "a", 1, k, big));
		free(k);
	}
	expect_str(db, "a", "1");
	expect_str(db, "b", "2");
	ck_assert_uint_eq(stats_of(db).live_keys, 2);
	db_close(db);
}
END_TEST

/* ==== api: iteration =================================================== */

/* Iterate prefix (plen bytes) and expect exactly keys[0..n) in that order,
 * each holding the value "v:" + key when check_values is set. */
static void expect_iter(rdb *db, const void *prefix, size_t plen,
			const char *const *keys, size_t n, int check_values)
{
	rdb_kv_iter *it = NULL;
	const void *k;
	size_t kl, i, vl;
	void *v;
	char want[256];
	int rc;

	OK(db, rdb_kv_iter_open(db, prefix, plen, &it));
	ck_assert_ptr_nonnull(it);
	for (i = 0;; i++) {
		k = NULL;
		rc = rdb_kv_iter_next(it, &k, &kl);
		if (rc != RDB_ROW)
			break;
		ck_assert_msg(i < n, "iteration returned extra key '%.*s'",
			      (int)kl, (const char *)k);
		ck_assert_msg(kl == strlen(keys[i]) &&
			      memcmp(k, keys[i], kl) == 0, "iteration key %zu "
			      "is '%.*s', want '%s'", i, (int)kl,
			      (const char *)k, keys[i]);
		if (!check_values)
			continue;
		v = NULL;
		OK(db, rdb_kv_iter_value(it, &v, &vl));
		snprintf(want, sizeof(want), "v:%s", keys[i]);
		ck_assert_msg(vl == strlen(want) && memcmp(v, want, vl) == 0,
			      "value of '%s' is '%.*s'", keys[i], (int)vl,
			      (char *)v);
		rdb_kv_free(v);
	}
	ck_assert_msg(rc == RDB_DONE, "iter_next: rc %d (%s) after %zu keys",
		      rc, rdb_errstr(rc), i);
	ck_assert_msg(i == n, "iteration gave %zu keys, want %zu", i, n);
	/* after the end (not specified: RDB_DONE again or RDB_MISUSE), never
	 * another row */
	rc = rdb_kv_iter_next(it, &k, &kl);
	ck_assert_msg(rc == RDB_DONE || rc == RDB_MISUSE, "iter_next after "
		      "RDB_DONE: rc %d (%s)", rc, rdb_errstr(rc));
	rdb_kv_iter_close(it);
}

static void put_keys(rdb *db, const char *const *keys, size_t n)
{
	char v[256];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(v, sizeof(v), "v:%s", keys[i]);
		put_str(db, keys[i], v);
	}
}

START_TEST(test_kv_iter_prefix_gives_keys_in_order)
{
	/* stored out of order; sorted: memcmp, shorter prefix first */
	static const char *const stored[] = {
		"user:10", "apple", "user:2", "user:", "user", "users",
		"user:1", "zebra", "user:1:name", "usex", "a",
	};
	static const char *const all[] = {
		"a", "apple", "user", "user:", "user:1", "user:10",
		"user:1:name", "user:2", "users", "usex", "zebra",
	};
	static const char *const user_colon[] = {
		"user:", "user:1", "user:10", "user:1:name", "user:2",
	};
	static const char *const user1[] = { "user:1", "user:10",
					     "user:1:name" };
	rdb *db = db_open(path);

	expect_iter(db, "", 0, NULL, 0, 0);     /* empty store */
	put_keys(db, stored, sizeof(stored) / sizeof(stored[0]));
	expect_iter(db, "", 0, all, 11, 1);
	expect_iter(db, "user:", 5, user_colon, 5, 1);
	expect_iter(db, "user:1", 6, user1, 3, 1);
	expect_iter(db, "user:1:name", 11, user1 + 2, 1, 1);
	expect_iter(db, "use", 3, all + 2, 8, 0);
	expect_iter(db, "b", 1, NULL, 0, 0);    /* between keys */
	expect_iter(db, "zz", 2, NULL, 0, 0);   /* past the last key */
	expect_iter(db, "user:1:name:x", 13, NULL, 0, 0);
	expect_iter(db, "\x01", 1, NULL, 0, 0); /* before the first key */
	db = db_reopen(db, path);
	expect_iter(db, "", 0, all, 11, 1);
	db_close(db);
}
END_TEST

START_TEST(test_kv_iter_binary_prefix_and_ff_bytes)
{
	static const unsigned char k[][3] = {
		{ 0, 0, 1 }, { 0, 1, 0 }, { 0, 0xff, 0 }, { 0xff, 0, 0 },
		{ 0xff, 0xff, 0 }, { 0xff, 0xff, 0xff },
	};
	rdb_kv_iter *it = NULL;
	const void *key;
	size_t kl, i, n;
	int rc;
	rdb *db = db_open(path);

	for (i = 0; i < 6; i++)
		OK(db, rdb_kv_put(db, k[5 - i], 3, &i, sizeof(i)));
	/* prefix 00: the first three; prefix ff ff: the last two */
	OK(db, rdb_kv_iter_open(db, "\0", 1, &it));
	for (n = 0; (rc = rdb_kv_iter_next(it, &key, &kl)) == RDB_ROW; n++) {
		ck_assert_uint_eq(kl, 3);
		ck_assert_int_eq(memcmp(key, k[n], 3), 0);
	}
	ck_assert_int_eq(rc, RDB_DONE);
	ck_assert_uint_eq(n, 3);
	rdb_kv_iter_close(it);
	OK(db, rdb_kv_iter_open(db, "\xff\xff", 2, &it));
	for (n = 0; (rc = rdb_kv_iter_next(it, &key, &kl)) == RDB_ROW; n++)
		ck_assert_int_eq(memcmp(key, k[4 + n], 3), 0);
	ck_assert_int_eq(rc, RDB_DONE);
	ck_assert_uint_eq(n, 2);
	rdb_kv_iter_close(it);
	db_close(db);
}
END_TEST

START_TEST(test_kv_iter_sees_snapshot_taken_at_open)
{
	static const char *const before[] = { "k1", "k2", "k3" };
	static const char *const after[] = { "k1", "k3", "k4" };
	rdb_kv_iter *it = NULL;
	const void *k;
	size_t kl, n = 0;
	int rc;
	rdb *db = db_open(path);

	put_keys(db, before, 3);
	OK(db, rdb_kv_iter_open(db, "k", 1, &it));
	OK(db, rdb_kv_delete(db, "k2", 2, NULL));
	put_str(db, "k4", "v:k4");
	put_str(db, "k1", "changed");
	while ((rc = rdb_kv_iter_next(it, &k, &kl)) == RDB_ROW) {
		ck_assert_uint_lt(n, 3);
		ck_assert_int_eq(memcmp(k, before[n], 2), 0);
		n++;
	}
	ck_assert_int_eq(rc, RDB_DONE);
	ck_assert_uint_eq(n, 3);
	rdb_kv_iter_close(it);
	put_str(db, "k1", "v:k1");
	expect_iter(db, "k", 1, after, 3, 1);
	db_close(db);
}
END_TEST

/* An iterator opened before a compaction and many new puts (which reuse
 * the freed log pages) still reads every value of its snapshot. */
START_TEST(test_kv_iter_reads_snapshot_values_after_compaction)
{
	rdb *db = db_open(path);
	rdb_kv_iter *it = NULL;
	const void *k;
	size_t kl, vl, n;
	char key[16];
	vdesc d;
	void *v;
	int i, rc;

	for (i = 0; i < 60; i++) {
		d = (vdesc){ VK_RAND, (uint64_t)i, 3000 };
		snprintf(key, sizeof(key), "s%02d", i);
		put_d(db, key, strlen(key), &d);
	}
	OK(db, rdb_kv_iter_open(db, "s", 1, &it));
	for (i = 0; i < 60; i++) {            /* half dead, then compact */
		snprintf(key, sizeof(key), "s%02d", i);
		if (i % 2)
			OK(db, rdb_kv_delete(db, key, strlen(key), NULL));
	}
	OK(db, rdb_kv_compact(db));
	for (i = 0; i < 60; i++) {            /* new records everywhere */
		d = (vdesc){ VK_RAND, 1000u + (uint64_t)i, 3000 };
		snprintf(key, sizeof(key), "s%02d", i);
		put_d(db, key, strlen(key), &d);
	}
	for (n = 0; (rc = rdb_kv_iter_next(it, &k, &kl)) == RDB_ROW; n++) {
		ck_assert_uint_lt(n, 60);
		v = NULL;
		OK(db, rdb_kv_iter_value(it, &v, &vl));
		d = (vdesc){ VK_RAND, n, 3000 };
		check_val(v, vl, &d, "iter_value from the old snapshot");
		rdb_kv_free(v);
	}
	ck_assert_int_eq(rc, RDB_DONE);
	ck_assert_uint_eq(n, 60);
	rdb_kv_iter_close(it);
	d = (vdesc){ VK_RAND, 1007, 3000 };
	expect_d(db, "s07", 3, &d);
	db_close(db);
}
END_TEST

START_TEST(test_kv_iter_large_values_through_iter_value)
{
	rdb *db = db_open(path);
	rdb_kv_iter *it = NULL;
	const void *k;
	size_t kl, vl, n = 0;
	void *v;
	vdesc d[3] = { { VK_RAND, 1, 3 * MIB }, { VK_TEXT, 2, 700 * KIB },
		       { VK_RAND, 3, 0 } };
	char key[8];
	int rc;

	for (n = 0; n < 3; n++) {
		snprintf(key, sizeof(key), "big%zu", n);
		put_d(db, key, 4, &d[n]);
	}
	OK(db, rdb_kv_iter_open(db, "big", 3, &it));
	for (n = 0; (rc = rdb_kv_iter_next(it, &k, &kl)) == RDB_ROW; n++) {
		ck_assert_uint_lt(n, 3);
		v = NULL;
		OK(db, rdb_kv_iter_value(it, &v, &vl));
		ck_assert_ptr_nonnull(v);
		check_val(v, vl, &d[n], "iter_value");
		rdb_kv_free(v);
	}
	ck_assert_int_eq(rc, RDB_DONE);
	ck_assert_uint_eq(n, 3);
	rdb_kv_iter_close(it);
	db_close(db);
}
END_TEST

START_TEST(test_kv_iter_many_keys_across_pages_in_order)
{
	enum { N = 3000 };
	rdb_kv_op *ops = calloc(N, sizeof(*ops));
	char (*keys)[16] = calloc(N, sizeof(*keys));
	rdb_kv_iter *it = NULL;
	const void *k;
	size_t kl, n, i;
	rdb *db = db_open(path);
	int rc;

	ck_assert_ptr_nonnull(ops);
	ck_assert_ptr_nonnull(keys);
	for (i = 0; i < N; i++) {
		/* stored in a scrambled order; named in sorted order */
		size_t j = i * 1847 % N;

		snprintf(keys[j], sizeof(keys[j]), "m%03zu/%05zu", j / 100, j);
		ops[i] = (rdb_kv_op){ 0, keys[j], strlen(keys[j]), keys[j],
				      strlen(keys[j]) };
	}
	OK(db, rdb_kv_batch(db, ops, N));
	ck_assert_uint_eq(stats_of(db).live_keys, N);
	OK(db, rdb_kv_iter_open(db, "", 0, &it));
	for (n = 0; (rc = rdb_kv_iter_next(it, &k, &kl)) == RDB_ROW; n++) {
		ck_assert_uint_lt(n, N);
		ck_assert_msg(kl == strlen(keys[n]) &&
			      memcmp(k, keys[n], kl) == 0, "key %zu is "
			      "'%.*s', want '%s'", n, (int)kl, (const char *)k,
			      keys[n]);
	}
	ck_assert_int_eq(rc, RDB_DONE);
	ck_assert_uint_eq(n, N);
	rdb_kv_iter_close(it);
	OK(db, rdb_kv_iter_open(db, "m017/", 5, &it));
	for (n = 0; (rc = rdb_kv_iter_next(it, &k, &kl)) == RDB_ROW; n++)
		ck_assert_int_eq(memcmp(k, keys[1700 + n], kl), 0);
	ck_assert_int_eq(rc, RDB_DONE);
	ck_assert_uint_eq(n, 100);
	rdb_kv_iter_close(it);
	free(keys);
	free(ops);
	db_close(db);
}
END_TEST

/* ==== api: stats and compaction ======================================== */

START_TEST(test_kv_stats_text_saves_bytes_random_does_not)
{
	vdesc text = { VK_TEXT, 1, 100 * KIB }, rnd = { VK_RAND, 2, 100 * KIB };
	rdb_kv_stats st;
	rdb *db = db_open(path);

	put_d(db, "text", 4, &text);
	st = stats_of(db);
	ck_assert_uint_eq(st.live_keys, 1);
	ck_assert_msg(st.saved_bytes > text.len / 2, "text of %llu bytes "
		      "saved only %llu", (unsigned long long)text.len,
		      (unsigned long long)st.saved_bytes);
	ck_assert_uint_lt(st.live_bytes, text.len / 2);
	ck_assert_uint_gt(st.live_bytes, 0);
	ck_assert_uint_eq(st.dead_bytes, 0);
	OK(db, rdb_kv_delete(db, "text", 4, NULL));
	st = stats_of(db);
	ck_assert_uint_eq(st.live_keys, 0);
	ck_assert_uint_eq(st.live_bytes, 0);
	ck_assert_uint_eq(st.saved_bytes, 0);
	ck_assert_uint_gt(st.dead_bytes, 0);
	OK(db, rdb_kv_compact(db));
	put_d(db, "random", 6, &rnd);
	st = stats_of(db);
	ck_assert_uint_eq(st.live_keys, 1);
	ck_assert_msg(st.saved_bytes < rnd.len / 100, "random bytes saved "
		      "%llu", (unsigned long long)st.saved_bytes);
	ck_assert_uint_ge(st.live_bytes, rnd.len);
	ck_assert_uint_lt(st.live_bytes, rnd.len + 4 * KIB);
	put_d(db, "text", 4, &text);          /* saved bytes are kept */
	db = db_reopen(db, path);
	st = stats_of(db);
	ck_assert_uint_eq(st.live_keys, 2);
	ck_assert_uint_gt(st.saved_bytes, text.len / 2);
	expect_d(db, "text", 4, &text);
	expect_d(db, "random", 6, &rnd);
	/* a streamed text value is compressed too */
	text.len = MIB;
	put_stream_d(db, "streamed", 8, &text, 1);
	ck_assert_uint_gt(stats_of(db).saved_bytes, st.saved_bytes + MIB / 2);
	expect_d(db, "streamed", 8, &text);
	db_close(db);
}
END_TEST

START_TEST(test_kv_stats_replace_and_delete_grow_dead_bytes)
{
	rdb *db = db_open(path);
	rdb_kv_stats st0, st1, st2;
	char key[16];
	vdesc d;
	int i;

	/* 40 KiB live, so that the few dead bytes below do not trigger the
	 * automatic compaction */
	for (i = 0; i < 20; i++) {
		d = (vdesc){ VK_RAND, (uint64_t)i, 2 * KIB };
		snprintf(key, sizeof(key), "key%02d", i);
		put_d(db, key, strlen(key), &d);
	}
	st0 = stats_of(db);
	ck_assert_uint_eq(st0.live_keys, 20);
	ck_assert_uint_ge(st0.live_bytes, 40 * KIB);
	ck_assert_uint_eq(st0.dead_bytes, 0);
	d = (vdesc){ VK_RAND, 100, 2 * KIB };
	put_d(db, "key03", 5, &d);            /* replace */
	st1 = stats_of(db);
	ck_assert_uint_eq(st1.live_keys, 20);
	ck_assert_uint_ge(st1.dead_bytes, 2 * KIB);
	ck_assert_uint_eq(st1.live_bytes, st0.live_bytes);
	OK(db, rdb_kv_delete(db, "key04", 5, NULL));
	st2 = stats_of(db);
	ck_assert_uint_eq(st2.live_keys, 19);
	ck_assert_uint_ge(st2.dead_bytes, st1.dead_bytes + 2 * KIB);
	ck_assert_uint_le(st2.live_bytes, st1.live_bytes - 2 * KIB);
	db = db_reopen(db, path);             /* stats persist */
	st1 = stats_of(db);
	ck_assert_uint_eq(st1.live_keys, st2.live_keys);
	ck_assert_uint_eq(st1.live_bytes, st2.live_bytes);
	ck_assert_uint_eq(st1.dead_bytes, st2.dead_bytes);
	ck_assert_uint_eq(st1.saved_bytes, st2.saved_bytes);
	db_close(db);
}
END_TEST

START_TEST(test_kv_compact_zeroes_dead_bytes_keeps_every_value)
{
	rdb *db = db_open(path);
	rdb_kv_stats st, st2;
	char key[16];
	vdesc d;
	int i, round;

	for (round = 0; round < 3; round++) {
		for (i = 0; i < 30; i++) {
			if (round > 0 && i % 3 != round)
				continue;
			d = (vdesc){ i % 2, (uint64_t)(i + 100 * round),
				     (uint64_t)(i * 997 % 9000) };
			snprintf(key, sizeof(key), "key%02d", i);
			put_d(db, key, strlen(key), &d);
		}
	}
	OK(db, rdb_kv_delete(db, "key05", 5, NULL));
	OK(db, rdb_kv_delete(db, "key06", 5, NULL));
	st = stats_of(db);
	ck_assert_uint_gt(st.dead_bytes, 0);
	OK(db, rdb_kv_compact(db));
	st2 = stats_of(db);
	ck_assert_uint_eq(st2.dead_bytes, 0);
	ck_assert_uint_eq(st2.live_keys, 28);
	ck_assert_uint_eq(st2.live_bytes, st.live_bytes);
	ck_assert_uint_eq(st2.saved_bytes, st.saved_bytes);
	OK(db, rdb_kv_compact(db));           /* nothing to do: still fine */
	for (round = 0; round < 2; round++) {
		for (i = 0; i < 30; i++) {
			int last = i % 3 == 1 ? 1 : i % 3 == 2 ? 2 : 0;

			d = (vdesc){ i % 2, (uint64_t)(i + 100 * last),
				     (uint64_t)(i * 997 % 9000) };
			snprintf(key, sizeof(key), "key%02d", i);
			expect_d(db, key, strlen(key),
				 i == 5 || i == 6 ? NULL : &d);
		}
		if (round == 0)
			db = db_reopen(db, path);
	}
	ck_assert_uint_eq(stats_of(db).dead_bytes, 0);
	db_close(db);
}
END_TEST

/* Overwriting the same 100 keys with 4 KiB values: the automatic
 * compaction keeps dead bytes near the live ones and the file under a
 * fixed multiple of the live data. */
START_TEST(test_kv_overwrites_auto_compact_bound_file_size)
{
	long rounds = tu_scaled(40, 12), r;
	uint64_t live = 100 * 4 * KIB, size, max_size = 0;
	unsigned char *vals = malloc(100 * 4 * KIB);
	rdb_kv_op ops[100];
	char keys[100][16];
	rdb_kv_stats st;
	rdb *db = db_open(path);
	vdesc d;
	int i;

	ck_assert_ptr_nonnull(vals);
	for (i = 0; i < 100; i++)
		snprintf(keys[i], sizeof(keys[i]), "ow%03d", i);
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < 100; i++) {
			d = (vdesc){ VK_RAND, (uint64_t)(r * 100 + i),
				     4 * KIB };
			gen(&d, 0, vals + i * 4 * KIB, 4 * KIB);
			ops[i] = (rdb_kv_op){ 0, keys[i], 5,
					      vals + i * 4 * KIB, 4 * KIB };
		}
		if (r < 2 || r % 10 == 5) {   /* one put per call */
			for (i = 0; i < 100; i++)
				OK(db, rdb_kv_put(db, keys[i], 5, ops[i].val,
						  4 * KIB));
		} else {
			OK(db, rdb_kv_batch(db, ops, 100));
		}
		st = stats_of(db);
		ck_assert_uint_eq(st.live_keys, 100);
		ck_assert_msg(st.dead_bytes <= st.live_bytes + live, "round "
			      "%ld: %llu dead bytes beside %llu live", r,
			      (unsigned long long)st.dead_bytes,
			      (unsigned long long)st.live_bytes);
		size = file_size(path);
		if (size > max_size)
			max_size = size;
		ck_assert_msg(size <= 8 * live + MIB, "round %ld: file of %llu "
			      "bytes for %llu live", r,
			      (unsigned long long)size,
			      (unsigned long long)live);
	}
	db = db_reopen(db, path);
	size = file_size(path);
	ck_assert_msg(size <= 6 * live + 256 * KIB, "after %ld rounds and a "
		      "checkpoint: file of %llu bytes for %llu live (%llu "
		      "written)", rounds, (unsigned long long)size,
		      (unsigned long long)live,
		      (unsigned long long)(live * (uint64_t)rounds));
	for (i = 0; i < 100; i++) {
		d = (vdesc){ VK_RAND, (uint64_t)((rounds - 1) * 100 + i),
			     4 * KIB };
		expect_d(db, keys[i], 5, &d);
	}
	fprintf(stderr, "kv auto-compaction: %ld rounds of 100 x 4 KiB, file "
		"%llu bytes at the end, %llu at most\n", rounds,
		(unsigned long long)size, (unsigned long long)max_size);
	free(vals);
	db_close(db);
}
END_TEST

/* ==== corrupt ========================================================== */

#define CR_KEYS 50

static void corrupt_key(char *buf, size_t n, int i)
{
	snprintf(buf, n, "corrupt-key-%03d", i);
}

/* Values of 300..499 random bytes: several records per page, never
 * compressed, and each findable in the file by its bytes.  Key CR_TEXT
 * holds compressible text instead (stored compressed). */
#define CR_TEXT 40
static vdesc corrupt_val(int i)
{
	if (i == CR_TEXT)
		return (vdesc){ VK_TEXT, 0xc0ffee00u, 3000 };
	return (vdesc){ VK_RAND, 0xc0ffee00u + (uint64_t)i,
			300 + (uint64_t)(mix64((uint64_t)i) % 200) };
}

static unsigned char *read_file(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	unsigned char *b;
	long n;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_gt(n, 0);
	rewind(f);
	b = malloc((size_t)n);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* Store the CR_KEYS keys and close. */
static void corrupt_store(void)
{
	char key[32];
	rdb *db = db_open(path);
	int i;

	for (i = 0; i < CR_KEYS; i++) {
		vdesc e = corrupt_val(i);

		corrupt_key(key, sizeof(key), i);
		put_d(db, key, strlen(key), &e);
	}
	ck_assert_uint_gt(stats_of(db).saved_bytes, 0);    /* CR_TEXT */
	db_close(db);
}

/* The offset of the only copy of (p, n) in the file's KV log pages
 * (FMT_PT_KV), or SIZE_MAX if there is none; fails if there are more. */
static size_t find_in_log(const unsigned char *file, size_t len,
			  const void *p, size_t n)
{
	uint32_t ps = fmt_get_u32(file + FMT_HDR_PAGE_SIZE);
	size_t off = SIZE_MAX, hits = 0, i;

	ck_assert_msg(fmt_page_size_ok(ps), "page size %u in the header", ps);
	for (i = 0; i + n <= len; i++) {
		if (memcmp(file + i, p, n) != 0 ||
		    file[i / ps * ps + FMT_PAGE_TYPE] != FMT_PT_KV)
			continue;
		off = i;
		hits++;
	}
	ck_assert_msg(hits <= 1, "%zu bytes found %zu times in log pages", n,
		      hits);
	return off;
}

/* Store the keys, close, and flip byte `at` of key victim's stored value
 * (found by a 16-byte window of the value around it: a record may
 * continue on another page). */
static void corrupt_build(int victim, uint64_t at)
{
	unsigned char *file, *v;
	size_t len, off = SIZE_MAX, ws = 0;
	vdesc d = corrupt_val(victim);
	int back;

	ck_assert(d.kind == VK_RAND && d.len >= 16 && at < d.len);
	corrupt_store();
	file = read_file(path, &len);
	v = gen_alloc(&d);
	for (back = 0; back < 16 && off == SIZE_MAX; back += 15) {
		ws = at >= (uint64_t)back ? at - (uint64_t)back : 0;
		if (ws + 16 > d.len)
			ws = d.len - 16;
		off = find_in_log(file, len, v + ws, 16);
	}
	ck_assert_msg(off != SIZE_MAX, "byte %llu of the value of key %d is "
		      "not in the file", (unsigned long long)at, victim);
	file[off + (at - ws)] ^= 0x5a;
	tu_write_file(path, file, len);
	free(v);
	free(file);
}

/* Store the keys, close, and flip the byte at `rel` from the first byte
 * of key victim's copy of its key in its record (negative: the record
 * header before the key). */
static void corrupt_build_near_key(int victim, long rel)
{
	unsigned char *file;
	size_t len, off;
	char key[32];

	corrupt_key(key, sizeof(key), victim);
	corrupt_store();
	file = read_file(path, &len);
	off = find_in_log(file, len, key, strlen(key));
	ck_assert_msg(off != SIZE_MAX, "key '%s' is not whole in a log page",
		      key);
	ck_assert((long)off + rel >= 0 && off + (size_t)rel < len);
	file[off + (size_t)rel] ^= 0x5a;
	tu_write_file(path, file, len);
	free(file);
}

/* Every key but victim reads back right, by get, get_alloc and
 * get_stream; victim is RDB_CORRUPT naming the key. */
static void corrupt_check(rdb *db, int victim)
{
	vdesc d;
	char key[32], buf[4096];
	size_t n;
	void *v;
	sink s;
	int i, rc;

	for (i = 0; i < CR_KEYS; i++) {
		d = corrupt_val(i);
		corrupt_key(key, sizeof(key), i);
		if (i != victim) {
			expect_get_d(db, key, strlen(key), &d);
			expect_d(db, key, strlen(key), &d);
			expect_stream_d(db, key, strlen(key), &d);
			continue;
		}
		rc = rdb_kv_get(db, key, strlen(key), buf, sizeof(buf), &n);
		ck_assert_msg(rc == RDB_CORRUPT, "get of the damaged key: rc "
			      "%d (%s)", rc, rdb_errstr(rc));
		ck_assert_msg(strstr(rdb_errmsg(db), key) != NULL, "message "
			      "'%s' does not name key '%s'", rdb_errmsg(db),
			      key);
		v = NULL;
		RC(db, RDB_CORRUPT, rdb_kv_get_alloc(db, key, strlen(key), &v,
						     &n));
		ck_assert_ptr_null(v);
		ck_assert_ptr_nonnull(strstr(rdb_errmsg(db), key));
		s = sink_make(&d);
		RC(db, RDB_CORRUPT, rdb_kv_get_stream(db, key, strlen(key),
						      sink_write, &s));
		ck_assert_ptr_nonnull(strstr(rdb_errmsg(db), key));
	}
}

/* Loop index: which key is damaged and where in its value. */
START_TEST(test_kv_corrupt_value_byte_is_corrupt_naming_key_others_read)
{
	static const int victims[] = { 17, 0, 49, 31 };
	int victim = victims[_i % 4];
	uint64_t len = corrupt_val(victim).len;
	uint64_t at = _i < 4 ? len / 2 : _i < 6 ? 0 : len - 1;
	rdb *db;

	corrupt_build(victim, at);
	db = db_open(path);
	corrupt_check(db, victim);
	db = db_reopen(db, path);
	corrupt_check(db, victim);            /* nothing was "repaired" */
	db_close(db);
}
END_TEST

START_TEST(test_kv_corrupt_record_leaves_iteration_and_new_keys_working)
{
	rdb_kv_iter *it = NULL;
	const void *k;
	size_t kl, n = 0;
	vdesc d = { VK_TEXT, 5, 1000 };
	int rc;
	rdb *db;

	corrupt_build(23, 100);
	db = db_open(path);
	OK(db, rdb_kv_iter_open(db, "corrupt-key-", 12, &it));
	while ((rc = rdb_kv_iter_next(it, &k, &kl)) == RDB_ROW)
		n++;
	ck_assert_int_eq(rc, RDB_DONE);
	ck_assert_uint_eq(n, CR_KEYS);
	rdb_kv_iter_close(it);
	put_d(db, "new key", 7, &d);
	expect_d(db, "new key", 7, &d);
	db = db_reopen(db, path);
	expect_d(db, "new key", 7, &d);
	corrupt_check(db, 23);
	db_close(db);
}
END_TEST

/* Loop index: a byte of a record's header (just before its key: lengths,
 * flags), of its copy of the key, or of a compressed value. */
START_TEST(test_kv_corrupt_record_header_or_key_is_corrupt_not_crash)
{
	static const struct { int victim; long rel; } cases[] = {
		{ 17, -1 }, { 17, -4 }, { 17, -8 }, { 17, -12 }, { 17, -16 },
		{ 17, 0 }, { 17, 14 }, { CR_TEXT, -1 }, { CR_TEXT, 15 },
		{ CR_TEXT, 40 },
	};
	int victim = cases[_i].victim;
	rdb *db;

	corrupt_build_near_key(victim, cases[_i].rel);
	db = db_open(path);
	corrupt_check(db, victim);
	db_close(db);
}
END_TEST

/* ==== twodb ============================================================ */

/* Key i of database side ('a' or 'b') and its value: mixed text and
 * random, some large, one empty. */
static void two_key(char *buf, size_t n, char side, int i)
{
	snprintf(buf, n, "%c-key-%02d", side, i);
}

static vdesc two_val(char side, int i)
{
	static const uint64_t lens[] = { 10, 0, 5000, 300 * KIB, 900, 2 * MIB,
					 77, 64 * KIB };

	return (vdesc){ i % 3 == 0 ? VK_TEXT : VK_RAND,
			(uint64_t)side * 1000 + (uint64_t)i, lens[i % 8] };
}

static void two_fill(rdb *db, char side)
{
	char key[32];
	vdesc d;
	int i;

	for (i = 0; i < 10; i++) {
		two_key(key, sizeof(key), side, i);
		d = two_val(side, i);
		put_d(db, key, strlen(key), &d);
	}
}

/* db holds its own keys 0..9 except the one named by gone (-1: none) and
 * extra keys of the other side given by the bitmask `have`. */
static void two_check(rdb *db, char side, int gone, unsigned have)
{
	char key[32], other = side == 'a' ? 'b' : 'a';
	unsigned n = 0;
	vdesc d;
	int i;

	for (i = 0; i < 10; i++) {
		two_key(key, sizeof(key), side, i);
		d = two_val(side, i);
		expect_d(db, key, strlen(key), i == gone ? NULL : &d);
		n += i != gone;
		two_key(key, sizeof(key), other, i);
		d = two_val(other, i);
		expect_d(db, key, strlen(key), have >> i & 1 ? &d : NULL);
		n += have >> i & 1;
	}
	ck_assert_uint_eq(stats_of(db).live_keys, n);
}

START_TEST(test_kv_copy_adds_exactly_one_key_to_dst)
{
	rdb *a = db_open(path), *b = db_open(path2);
	char key[32];
	int i;

	two_fill(a, 'a');
	two_fill(b, 'b');
	two_key(key, sizeof(key), 'a', 3);    /* 300 KiB text */
	OK(a, rdb_kv_copy(a, b, key, strlen(key)));
	two_check(a, 'a', -1, 0);
	two_check(b, 'b', -1, 1u << 3);
	for (i = 0; i < 2; i++) {             /* 2 MiB random, empty */
		two_key(key, sizeof(key), 'a', i == 0 ? 5 : 1);
		OK(a, rdb_kv_copy(a, b, key, strlen(key)));
	}
	two_check(b, 'b', -1, 1u << 3 | 1u << 5 | 1u << 1);
	ck_assert_uint_gt(stats_of(b).saved_bytes, 0);
	db_close(a);
	db_close(b);
	a = db_open(path);
	b = db_open(path2);
	two_check(a, 'a', -1, 0);
	two_check(b, 'b', -1, 1u << 3 | 1u << 5 | 1u << 1);
	db_close(a);
	db_close(b);
}
END_TEST

START_TEST(test_kv_copy_replaces_existing_value_in_dst)
{
	rdb *a = db_open(path), *b = db_open(path2);
	vdesc d = { VK_TEXT, 1, 50 * KIB }, e = { VK_RAND, 2, 20 * KIB };

	put_d(a, "shared", 6, &d);
	put_d(b, "shared", 6, &e);
	put_str(b, "other", "o");
	OK(a, rdb_kv_copy(a, b, "shared", 6));
	expect_d(b, "shared", 6, &d);
	expect_d(a, "shared", 6, &d);
	expect_str(b, "other", "o");
	ck_assert_uint_eq(stats_of(b).live_keys, 2);
	OK(b, rdb_kv_copy(b, a, "other", 5));
	expect_str(a, "other", "o");
	db_close(a);
	db_close(b);
	b = db_open(path2);
	expect_d(b, "shared", 6, &d);
	db_close(b);
}
END_TEST

START_TEST(test_kv_transfer_moves_exactly_one_key)
{
	rdb *a = db_open(path), *b = db_open(path2);
	char key[32];

	two_fill(a, 'a');
	two_fill(b, 'b');
	two_key(key, sizeof(key), 'a', 5);    /* 2 MiB random */
	OK(a, rdb_kv_transfer(a, b, key, strlen(key)));
	two_check(a, 'a', 5, 0);
	two_check(b, 'b', -1, 1u << 5);
	RC(a, RDB_NOTFOUND, rdb_kv_transfer(a, b, key, strlen(key)));
	two_key(key, sizeof(key), 'b', 6);    /* and back the other way */
	OK(b, rdb_kv_transfer(b, a, key, strlen(key)));
	db_close(a);
	db_close(b);
	a = db_open(path);
	b = db_open(path2);
	two_check(b, 'b', 6, 1u << 5);
	{
		vdesc d = two_val('b', 6);

		expect_d(a, key, strlen(key), &d);
		two_key(key, sizeof(key), 'a', 5);
		expect_d(a, key, strlen(key), NULL);
		ck_assert_uint_eq(stats_of(a).live_keys, 10);
	}
	db_close(a);
	db_close(b);
}
END_TEST

START_TEST(test_kv_copy_missing_key_is_notfound_nothing_changes)
{
	rdb *a = db_open(path), *b = db_open(path2);

	two_fill(a, 'a');
	two_fill(b, 'b');
	RC(a, RDB_NOTFOUND, rdb_kv_copy(a, b, "missing", 7));
	RC(a, RDB_NOTFOUND, rdb_kv_transfer(a, b, "missing", 7));
	RC(a, RDB_NOTFOUND, rdb_kv_copy(a, b, "b-key-01", 8));
	two_check(a, 'a', -1, 0);
	two_check(b, 'b', -1, 0);
	db_close(a);
	db_close(b);
}
END_TEST

START_TEST(test_kv_copy_to_same_db_is_misuse)
{
	rdb *a = db_open(path);

	two_fill(a, 'a');
	RC(a, RDB_MISUSE, rdb_kv_copy(a, a, "a-key-02", 8));
	RC(a, RDB_MISUSE, rdb_kv_transfer(a, a, "a-key-02", 8));
	RC(a, RDB_MISUSE, rdb_kv_copy(NULL, a, "a-key-02", 8));
	RC(a, RDB_MISUSE, rdb_kv_transfer(a, NULL, "a-key-02", 8));
	two_check(a, 'a', -1, 0);
	db_close(a);
}
END_TEST

/* ==== model: random operations against an in-memory map =============== *
 * Key ids 0 .. MD_NKEYS-1 name fixed keys (binary, some with NUL bytes,
 * some of the maximum length; see md_key); the model records which ids
 * are stored and the vdesc of each value. */

#define MD_NKEYS 400u
#define MD_BIG_MAX 3          /* streamed values of 1..16 MiB per run */

typedef struct mstate {
	rdb *db;
	size_t max_key;
	unsigned char *key[MD_NKEYS];   /* owned */
	size_t klen[MD_NKEYS];
	uint32_t order[MD_NKEYS];       /* ids sorted by key */
	int present[MD_NKEYS];
	vdesc val[MD_NKEYS];
	uint32_t n;                     /* ids present */
	uint64_t rng;
	uint64_t seed;
	long step;
	const char *op;
	int n_big;
	long counts[16];                /* per operation, for the summary */
} mstate;

static mstate *md;                  /* for md_cmp_ids */

static uint32_t below(uint64_t *rng, uint64_t n)
{
	return (uint32_t)tu_rand_below(rng, n);
}

#define MD_CHECK(m, cond, ...) do {					\
	if (!(cond)) {							\
		char md_msg_[512];					\
		snprintf(md_msg_, sizeof(md_msg_), __VA_ARGS__);	\
		ck_abort_msg("kv model seed %llu step %ld (%s): %s [%s]", \
			     (unsigned long long)(m)->seed, (m)->step,	\
			     (m)->op, md_msg_, rdb_errmsg((m)->db));	\
	}								\
} while (0)

static size_t md_key(size_t max_key, uint32_t id, unsigned char *buf)
{
	uint64_t h = mix64(id ^ 0x6b657900ull);
	size_t n = id % 53 == 7 ? max_key : 6 + (size_t)(h % 25), i;

	buf[0] = id % 6 == 5 ? 0 : (unsigned char)('a' + id % 6);
	buf[1] = (unsigned char)(id / 6 % 4);
	buf[2] = (unsigned char)(id >> 24);
	buf[3] = (unsigned char)(id >> 16);
	buf[4] = (unsigned char)(id >> 8);
	buf[5] = (unsigned char)id;
	for (i = 6; i < n; i++)
		buf[i] = (unsigned char)mix64(h + i);
	return n;
}

static int key_cmp(const void *a, size_t al, const void *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c != 0)
		return c;
	return al < bl ? -1 : al > bl;
}

static int md_cmp_ids(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return key_cmp(md->key[a], md->klen[a], md->key[b], md->klen[b]);
}

static void md_init(mstate *m, uint64_t seed)
{
	unsigned char buf[KEY_BUF];
	uint32_t i;

	memset(m, 0, sizeof(*m));
	m->seed = seed;
	m->rng = mix64(seed) | 1;
	m->db = db_open(path);
	m->max_key = rdb_kv_max_key(m->db);
	ck_assert_uint_le(m->max_key, KEY_BUF);
	for (i = 0; i < MD_NKEYS; i++) {
		m->klen[i] = md_key(m->max_key, i, buf);
		m->key[i] = malloc(m->klen[i]);
		ck_assert_ptr_nonnull(m->key[i]);
		memcpy(m->key[i], buf, m->klen[i]);
		m->order[i] = i;
	}
	md = m;
	qsort(m->order, MD_NKEYS, sizeof(m->order[0]), md_cmp_ids);
	m->op = "init";
}

static void md_free(mstate *m)
{
	uint32_t i;

	db_close(m->db);
	for (i = 0; i < MD_NKEYS; i++)
		free(m->key[i]);
	md = NULL;
}

static void md_set(mstate *m, uint32_t id, const vdesc *d)
{
	if (d == NULL) {
		m->n -= m->present[id];
		m->present[id] = 0;
		return;
	}
	m->n += !m->present[id];
	m->present[id] = 1;
	m->val[id] = *d;
}

/* Mostly small values, a quarter up to 40 KB, some up to 200 KB; half of
 * them compressible text. */
static vdesc md_val(mstate *m)
{
	uint32_t c = below(&m->rng, 100);
	uint64_t len;

	if (c < 5)
		len = 0;
	else if (c < 30)
		len = 1 + below(&m->rng, 128);
	else if (c < 60)
		len = 129 + below(&m->rng, 4096 - 128);
	else if (c < 85)
		len = 4097 + below(&m->rng, 40000 - 4096);
	else
		len = 40001 + below(&m->rng, 160000);
	return (vdesc){ (int)below(&m->rng, 2), tu_rand(&m->rng), len };
}

/* Read id's value one of several ways and compare with the model. */
static void md_check_id(mstate *m, uint32_t id)
{
	const vdesc *d = &m->val[id];
	uint32_t how = below(&m->rng, 5);
	const void *k = m->key[id];
	size_t kl = m->klen[id], n = 0;
	void *v = NULL;
	uint64_t at;
	int rc, ex = -1;
	sink s;

	if (!m->present[id]) {
		rc = how % 2 ? rdb_kv_get_alloc(m->db, k, kl, &v, &n) :
			rdb_kv_exists(m->db, k, kl, &ex);
		MD_CHECK(m, how % 2 ? rc == RDB_NOTFOUND : rc == RDB_OK &&
			 ex == 0, "id %u is not stored: rc %d, exists %d", id,
			 rc, ex);
		return;
	}
	if (d->len > 4 * MIB || how == 0) {
		s = sink_make(d);
		rc = rdb_kv_get_stream(m->db, k, kl, sink_write, &s);
		MD_CHECK(m, rc == RDB_OK && s.pos == d->len && s.bad_at ==
			 UINT64_MAX && s.max_n <= CHUNK_MAX, "get_stream of id "
			 "%u: rc %d, %llu of %llu bytes, bad at %lld, chunk "
			 "%zu", id, rc, (unsigned long long)s.pos,
			 (unsigned long long)d->len, (long long)s.bad_at,
			 s.max_n);
		return;
	}
	if (how == 1) {
		v = malloc(d->len + 1);
		ck_assert_ptr_nonnull(v);
		if (d->len > 0) {
			rc = rdb_kv_get(m->db, k, kl, v, d->len - 1, &n);
			MD_CHECK(m, rc == RDB_RANGE && n == d->len, "get of id "
				 "%u into %llu bytes: rc %d, length %zu", id,
				 (unsigned long long)d->len - 1, rc, n);
		}
		rc = rdb_kv_get(m->db, k, kl, v, d->len, &n);
	} else {
		rc = rdb_kv_get_alloc(m->db, k, kl, &v, &n);
	}
	MD_CHECK(m, rc == RDB_OK && n == d->len, "get of id %u: rc %d, length "
		 "%zu, want %llu", id, rc, n, (unsigned long long)d->len);
	at = gen_diff(d, 0, v, n);
	MD_CHECK(m, at == UINT64_MAX, "id %u: value differs at byte %llu of "
		 "%llu", id, (unsigned long long)at, (unsigned long long)n);
	if (how == 1)
		free(v);
	else
		rdb_kv_free(v);
}

static void md_check_stats(mstate *m)
{
	rdb_kv_stats st;
	int rc = rdb_kv_stats_get(m->db, &st);

	MD_CHECK(m, rc == RDB_OK && st.live_keys == m->n, "stats: rc %d, "
		 "live_keys %llu, model %u", rc,
		 (unsigned long long)st.live_keys, m->n);
}

/* Iterate prefix (p, pl) and compare with the model: every present id
 * whose key starts with it, in key order; values of 1 in `every`. */
static void md_scan(mstate *m, const void *p, size_t pl, uint32_t every)
{
	rdb_kv_iter *it = NULL;
	const void *k;
	size_t kl, vl;
	uint32_t i = 0, id, seen = 0;
	uint64_t at;
	void *v;
	int rc = rdb_kv_iter_open(m->db, p, pl, &it);

	MD_CHECK(m, rc == RDB_OK, "iter_open: rc %d", rc);
	for (;;) {
		rc = rdb_kv_iter_next(it, &k, &kl);
		while (i < MD_NKEYS && !(m->present[m->order[i]] &&
		       m->klen[m->order[i]] >= pl &&
		       memcmp(m->key[m->order[i]], p, pl) == 0))
			i++;
		if (rc != RDB_ROW)
			break;
		MD_CHECK(m, i < MD_NKEYS, "iteration (prefix of %zu bytes) "
			 "gives an extra key of %zu bytes after %u", pl, kl,
			 seen);
		id = m->order[i++];
		MD_CHECK(m, kl == m->klen[id] && memcmp(k, m->key[id], kl) ==
			 0, "iteration key %u (prefix of %zu bytes) is not id "
			 "%u", seen, pl, id);
		seen++;
		if (every == 0 || below(&m->rng, every) != 0 ||
		    m->val[id].len > 4 * MIB)
			continue;
		v = NULL;
		rc = rdb_kv_iter_value(it, &v, &vl);
		MD_CHECK(m, rc == RDB_OK && vl == m->val[id].len, "iter_value "
			 "of id %u: rc %d, length %zu", id, rc, vl);
		at = gen_diff(&m->val[id], 0, v, vl);
		MD_CHECK(m, at == UINT64_MAX, "iter_value of id %u differs at "
			 "%llu", id, (unsigned long long)at);
		rdb_kv_free(v);
	}
	MD_CHECK(m, rc == RDB_DONE, "iteration ended with rc %d after %u keys",
		 rc, seen);
	MD_CHECK(m, i >= MD_NKEYS, "iteration (prefix of %zu bytes) ended "
		 "after %u keys; id %u missing", pl, seen, m->order[i]);
	rdb_kv_iter_close(it);
}

static void md_check_all(mstate *m)
{
	uint32_t id;

	for (id = 0; id < MD_NKEYS; id++)
		md_check_id(m, id);
	md_scan(m, "", 0, 4);
	md_check_stats(m);
}

enum { MD_PUT, MD_PUT_STREAM, MD_PUT_BIG, MD_DELETE, MD_BATCH, MD_BAD_BATCH,
       MD_RENAME, MD_GET, MD_GET_STREAM, MD_SCAN, MD_COMPACT, MD_REOPEN,
       MD_STATS, MD_N_OPS };

static const char *const md_op_names[MD_N_OPS] = {
	"put", "put_stream", "put_big", "delete", "batch", "bad batch",
	"rename", "get", "get_stream", "scan", "compact", "reopen", "stats",
};

/* An id: 3 in 4 times a stored one (if any), else any. */
static uint32_t md_pick(mstate *m)
{
	uint32_t id, tries;

	if (m->n > 0 && below(&m->rng, 4) != 0) {
		for (tries = 0; tries < 64; tries++) {
			id = below(&m->rng, MD_NKEYS);
			if (m->present[id])
				return id;
		}
	}
	return below(&m->rng, MD_NKEYS);
}

static void md_put(mstate *m, int stream)
{
	/* any id 2 in 3 times, so that the store fills up */
	uint32_t id = below(&m->rng, 3) ? below(&m->rng, MD_NKEYS) :
		md_pick(m);
	vdesc d = md_val(m);
	src_state s;
	void *v;
	int rc;

	if (stream) {
		s = src_make(&d, (int)below(&m->rng, 2), tu_rand(&m->rng));
		rc = rdb_kv_put_stream(m->db, m->key[id], m->klen[id],
				       src_read, &s);
		MD_CHECK(m, s.max_cap <= CHUNK_MAX, "put_stream offered %zu",
			 s.max_cap);
	} else {
		v = gen_alloc(&d);
		rc = rdb_kv_put(m->db, m->key[id], m->klen[id], v, d.len);
		free(v);
	}
	MD_CHECK(m, rc == RDB_OK, "put of id %u (%llu bytes): rc %d", id,
		 (unsigned long long)d.len, rc);
	md_set(m, id, &d);
	md_check_id(m, id);
}

/* A streamed value of 1 .. 16 MiB. */
static void md_put_big(mstate *m)
{
	uint32_t id = md_pick(m);
	vdesc d = { (int)below(&m->rng, 2), tu_rand(&m->rng),
		    MIB + below(&m->rng, 15 * MIB + 1) };
	src_state s;
	int rc;

	if (m->n_big == 0)
		d.len = 16 * MIB;     /* the first one is the largest */
	s = src_make(&d, (int)below(&m->rng, 2), tu_rand(&m->rng));
	rc = rdb_kv_put_stream(m->db, m->key[id], m->klen[id], src_read, &s);
	MD_CHECK(m, rc == RDB_OK && s.pos == d.len, "put_stream of %llu bytes "
		 "to id %u: rc %d", (unsigned long long)d.len, id, rc);
	m->n_big++;
	md_set(m, id, &d);
	md_check_id(m, id);
}

static void md_delete(mstate *m)
{
	uint32_t id = md_pick(m);
	int existed = -1, rc;

	rc = rdb_kv_delete(m->db, m->key[id], m->klen[id], &existed);
	MD_CHECK(m, rc == RDB_OK && existed == m->present[id], "delete of id "
		 "%u: rc %d, existed %d, model %d", id, rc, existed,
		 m->present[id]);
	md_set(m, id, NULL);
	md_check_id(m, id);
}

/* 1..8 puts and deletes in one batch.  With bad, one op (at a random
 * place) has a key one byte too long: RDB_TOOBIG and nothing applies. */
static void md_batch(mstate *m, int bad)
{
	uint32_t n = 1 + below(&m->rng, 8), i, badi = below(&m->rng, n);
	uint32_t ids[8];
	rdb_kv_op ops[8];
	vdesc d[8];
	void *v[8];
	unsigned char *badkey = NULL;
	int rc;

	memset(d, 0, sizeof(d));
	for (i = 0; i < n; i++) {
		ids[i] = below(&m->rng, 2) ? below(&m->rng, MD_NKEYS) :
			md_pick(m);
		v[i] = NULL;
		ops[i] = (rdb_kv_op){ below(&m->rng, 10) < 3, m->key[ids[i]],
				      m->klen[ids[i]], NULL, 0 };
		if (ops[i].del)
			continue;
		d[i] = md_val(m);
		if (d[i].len > 40000)
			d[i].len /= 4;
		v[i] = gen_alloc(&d[i]);
		ops[i].val = v[i];
		ops[i].vlen = d[i].len;
	}
	if (bad) {
		badkey = calloc(1, m->max_key + 1);
		ck_assert_ptr_nonnull(badkey);
		ops[badi].key = badkey;
		ops[badi].klen = m->max_key + 1;
	}
	rc = rdb_kv_batch(m->db, ops, n);
	MD_CHECK(m, rc == (bad ? RDB_TOOBIG : RDB_OK), "batch of %u ops%s: "
		 "rc %d", n, bad ? " with a long key" : "", rc);
	for (i = 0; i < n && !bad; i++)
		md_set(m, ids[i], ops[i].del ? NULL : &d[i]);
	for (i = 0; i < n; i++) {
		md_check_id(m, ids[i]);
		free(v[i]);
	}
	free(badkey);
}

static void md_rename(mstate *m)
{
	uint32_t from = md_pick(m), to = below(&m->rng, MD_NKEYS);
	int want, rc;
	vdesc d;

	if (below(&m->rng, 20) == 0)
		to = from;
	want = from == to ? RDB_MISUSE : m->present[from] ? RDB_OK :
		RDB_NOTFOUND;
	rc = rdb_kv_rename(m->db, m->key[from], m->klen[from], m->key[to],
			   m->klen[to]);
	MD_CHECK(m, rc == want, "rename of id %u (%s) to %u: rc %d, want %d",
		 from, m->present[from] ? "stored" : "missing", to, rc, want);
	if (rc == RDB_OK) {
		d = m->val[from];
		md_set(m, from, NULL);
		md_set(m, to, &d);
	}
	md_check_id(m, from);
	md_check_id(m, to);
}

static void md_get_stream(mstate *m)
{
	uint32_t id = md_pick(m);
	sink s = sink_make(&m->val[id]);
	int rc = rdb_kv_get_stream(m->db, m->key[id], m->klen[id], sink_write,
				   &s);

	if (!m->present[id]) {
		MD_CHECK(m, rc == RDB_NOTFOUND && s.calls == 0, "get_stream of "
			 "missing id %u: rc %d", id, rc);
		return;
	}
	MD_CHECK(m, rc == RDB_OK && s.pos == s.d.len && s.bad_at == UINT64_MAX
		 && s.max_n <= CHUNK_MAX, "get_stream of id %u: rc %d, %llu "
		 "bytes of %llu, bad at %lld, chunk %zu", id, rc,
		 (unsigned long long)s.pos, (unsigned long long)s.d.len,
		 (long long)s.bad_at, s.max_n);
}

/* A prefix: empty, a key's first 1, 2 or 6 bytes, a whole key, or three
 * bytes that (nearly always) match nothing. */
static void md_scan_random(mstate *m)
{
	uint32_t id = md_pick(m), c = below(&m->rng, 6);
	unsigned char p[8];
	uint64_t r;

	switch (c) {
	case 0:
		md_scan(m, "", 0, 8);
		return;
	case 1:
	case 2:
	case 3:
		md_scan(m, m->key[id], c == 3 ? 6 : c, 4);
		return;
	case 4:
		md_scan(m, m->key[id], m->klen[id], 1);
		return;
	default:
		r = tu_rand(&m->rng);
		p[0] = (unsigned char)('a' + r % 5);
		p[1] = (unsigned char)(4 + (r >> 8) % 200);  /* never used */
		p[2] = (unsigned char)(r >> 16);
		md_scan(m, p, 3, 1);
	}
}

static void md_compact(mstate *m)
{
	rdb_kv_stats st;
	int rc = rdb_kv_compact(m->db);

	MD_CHECK(m, rc == RDB_OK, "compact: rc %d", rc);
	rc = rdb_kv_stats_get(m->db, &st);
	MD_CHECK(m, rc == RDB_OK && st.dead_bytes == 0 && st.live_keys ==
		 m->n, "after compact: rc %d, dead %llu, live keys %llu, "
		 "model %u", rc, (unsigned long long)st.dead_bytes,
		 (unsigned long long)st.live_keys, m->n);
}

static int md_choose(mstate *m)
{
	/* cumulative weights out of 1000 */
	static const struct { int op; int upto; } w[] = {
		{ MD_PUT, 330 }, { MD_PUT_STREAM, 380 }, { MD_PUT_BIG, 383 },
		{ MD_DELETE, 500 }, { MD_BATCH, 590 }, { MD_BAD_BATCH, 605 },
		{ MD_RENAME, 665 }, { MD_GET, 765 }, { MD_GET_STREAM, 815 },
		{ MD_SCAN, 895 }, { MD_COMPACT, 910 }, { MD_REOPEN, 925 },
		{ MD_STATS, 1000 },
	};
	uint32_t r = below(&m->rng, 1000), i;

	for (i = 0; r >= (uint32_t)w[i].upto; i++)
		;
	if (w[i].op == MD_PUT_BIG && m->n_big >= MD_BIG_MAX)
		return MD_PUT;
	return w[i].op;
}

static void md_step(mstate *m, int op)
{
	m->op = md_op_names[op];
	m->counts[op]++;
	switch (op) {
	case MD_PUT:
	case MD_PUT_STREAM:
		md_put(m, op == MD_PUT_STREAM);
		break;
	case MD_PUT_BIG:
		md_put_big(m);
		break;
	case MD_DELETE:
		md_delete(m);
		break;
	case MD_BATCH:
	case MD_BAD_BATCH:
		md_batch(m, op == MD_BAD_BATCH);
		break;
	case MD_RENAME:
		md_rename(m);
		break;
	case MD_GET:
		md_check_id(m, md_pick(m));
		break;
	case MD_GET_STREAM:
		md_get_stream(m);
		break;
	case MD_SCAN:
		md_scan_random(m);
		break;
	case MD_COMPACT:
		md_compact(m);
		break;
	case MD_REOPEN:
		m->db = db_reopen(m->db, path);
		break;
	default:
		md_check_stats(m);
	}
}

START_TEST(test_kv_model_random_ops_match_map)
{
	long steps = tu_scaled(4000, 300);
	uint64_t seed = tu_seed();
	double t0 = now_s();
	mstate *m = malloc(sizeof(*m));
	char line[512];
	size_t used = 0;
	int op;

	ck_assert_ptr_nonnull(m);
	tu_seed_note("kv model", seed);
	md_init(m, seed);
	for (m->step = 0; m->step < steps; m->step++) {
		md_step(m, md_choose(m));
		if (m->step % 50 == 49) {
			m->op = "full check";
			md_check_all(m);
		}
	}
	m->op = "final reopen";
	m->db = db_reopen(m->db, path);
	md_check_all(m);
	for (op = 0; op < MD_N_OPS; op++)
		used += (size_t)snprintf(line + used, sizeof(line) - used,
					 " %s %ld", md_op_names[op],
					 m->counts[op]);
	fprintf(stderr, "kv model: %ld steps, %u keys at the end, %.1f s;%s\n",
		steps, m->n, now_s() - t0, line);
	md_free(m);
	free(m);
}
END_TEST

/* ==== crash: faults through the in-memory VFS (internal kv_* API) ====== *
 * Every write transaction also stores CT_COUNTER = its commit number K, so
 * a reopened database tells which commit it holds: the last one that
 * returned RDB_OK, or the one whose commit failed (never a mixture). */

#define CT_DB "kvcrash.db"
#define CT_NKEYS 40u
#define CT_COUNTER "\xff\xff" "commit"
#define CT_COUNTER_LEN 8u

typedef struct ctstate {
	int present[CT_NKEYS];
	vdesc val[CT_NKEYS];
	uint32_t n;
} ctstate;

typedef struct ct_trial {
	uint64_t base_seed, seed;
	long idx, n;
	os_fault kind;
	uint64_t at;          /* call number of the fault; 0 = none */
	uint64_t calls;       /* calls of the fault-free workload and close */
} ct_trial;

typedef struct ctrig {
	os_vfs *vfs;          /* owned */
	pager *p;             /* owned */
	pager_opts opts;
	rdb_err err;          /* pager_open()'s; outlives p */
	rdb_err terr;         /* the current transaction's */
	ctstate cur;          /* the open transaction's state */
	ctstate ok;           /* state of commit last_ok */
	ctstate tried;        /* state of commit last_try, if it failed */
	uint64_t last_ok, last_try;
	uint64_t rng;
	kv_ctx cx;            /* owned; used by half of the puts and gets */
	int armed;            /* a fault is armed: I/O errors may happen */
	const char *first_op; /* the call that returned the first error */
	int first_rc;
	char ctx[384];        /* how to replay, for messages */
	unsigned char key[CT_NKEYS][40];
	size_t klen[CT_NKEYS];
} ctrig;

static void ct_fail(const ctrig *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ct_fail(const ctrig *r, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ck_abort_msg("%s [%s; first error: %s %d; pager err '%s'; txn err "
		     "'%s']", msg, r->ctx, r->first_op ? r->first_op : "none",
		     r->first_rc, r->err.msg, r->terr.msg);
}

#define CT_CHECK(r, cond, ...) do {					\
	if (!(cond))							\
		ct_fail((r), __VA_ARGS__);				\
} while (0)

/* rc from op: RDB_OK, or the injected fault's RDB_IOERR once it fired. */
static rdb_rc ct_err(ctrig *r, const char *op, rdb_rc rc)
{
	if (rc == RDB_OK)
		return rc;
	CT_CHECK(r, r->armed && os_mem_fault_fired(r->vfs), "%s failed with "
		 "%d (%s) though no fault fired", op, rc, rdb_errstr(rc));
	CT_CHECK(r, rc == RDB_IOERR, "%s failed with %d (%s), not the "
		 "injected fault's RDB_IOERR", op, rc, rdb_errstr(rc));
	if (r->first_op == NULL) {
		r->first_op = op;
		r->first_rc = rc;
	}
	return rc;
}

static void ct_state_set(ctstate *s, uint32_t id, const vdesc *d)
{
	if (d == NULL) {
		s->n -= s->present[id];
		s->present[id] = 0;
		return;
	}
	s->n += !s->present[id];
	s->present[id] = 1;
	s->val[id] = *d;
}

static vdesc ct_val(ctrig *r)
{
	uint32_t c = below(&r->rng, 100);
	uint64_t len;

	if (c < 10)
		len = below(&r->rng, 50);
	else if (c < 60)
		len = 50 + below(&r->rng, 2000);
	else if (c < 90)
		len = 2000 + below(&r->rng, 10000);
	else
		len = 12000 + below(&r->rng, 50000);
	return (vdesc){ (int)below(&r->rng, 2), tu_rand(&r->rng), len };
}

/* Compare key id's stored value with state s: kv_get without and with
 * the rig's kv_ctx, or kv_get_into a buffer of the expected length.
 * Returns the call's error (an injected fault) or RDB_OK. */
static rdb_rc ct_check_id(ctrig *r, pager_txn *t, const ctstate *s,
			  uint32_t id)
{
	uint32_t how = below(&r->rng, 3);
	uint64_t want = s->present[id] ? s->val[id].len : 0, at;
	void *v = NULL;
	size_t n = 0;
	rdb_rc rc;

	if (how == 2) {
		v = malloc(want + 1);
		ck_assert_ptr_nonnull(v);
		rc = kv_get_into(t, &r->cx, r->key[id], r->klen[id], v,
				 (size_t)want, &n);
	} else {
		rc = kv_get(t, how ? &r->cx : NULL, r->key[id], r->klen[id],
			    &v, &n);
	}
	if (!s->present[id] || rc == RDB_NOTFOUND) {
		if (how == 2)
			free(v);
		else
			rdb_free(v);
		CT_CHECK(r, s->present[id] ? rc != RDB_NOTFOUND : rc !=
			 RDB_OK, "id %u should %s: kv_get returned %d", id,
			 s->present[id] ? "be there" : "be missing", rc);
		return rc == RDB_NOTFOUND ? RDB_OK : ct_err(r, "kv_get", rc);
	}
	if (ct_err(r, "kv_get", rc) == RDB_OK) {
		CT_CHECK(r, n == want, "id %u: length %zu, want %llu", id, n,
			 (unsigned long long)want);
		at = gen_diff(&s->val[id], 0, v, n);
		CT_CHECK(r, at == UINT64_MAX, "id %u: value differs at byte "
			 "%llu", id, (unsigned long long)at);
	}
	if (how == 2)
		free(v);
	else
		rdb_free(v);
	return rc;
}

static rdb_rc ct_put(ctrig *r, pager_txn *t)
{
	uint32_t id = below(&r->rng, CT_NKEYS);
	vdesc d = ct_val(r);
	unsigned char *v;
	src_state s;
	rdb_rc rc;

	if (below(&r->rng, 12) == 0) {       /* several chunks */
		d.len = 100 * KIB + below(&r->rng, 200 * KIB);
		s = src_make(&d, 1, tu_rand(&r->rng));
		rc = ct_err(r, "kv_put_stream", kv_put_stream(t, r->key[id],
				r->klen[id], src_read, &s));
	} else {
		v = gen_alloc(&d);
		rc = ct_err(r, "kv_put", kv_put(t, below(&r->rng, 2) ?
				&r->cx : NULL, r->key[id], r->klen[id], v,
				d.len));
		free(v);
	}
	if (rc == RDB_OK)
		ct_state_set(&r->cur, id, &d);
	return rc;
}

static rdb_rc ct_delete(ctrig *r, pager_txn *t)
{
	uint32_t id = below(&r->rng, CT_NKEYS);
	int existed = -1;
	rdb_rc rc = ct_err(r, "kv_delete", kv_delete(t, r->key[id],
				r->klen[id], &existed));

	if (rc != RDB_OK)
		return rc;
	CT_CHECK(r, existed == r->cur.present[id], "kv_delete of id %u: "
		 "existed %d, model %d", id, existed, r->cur.present[id]);
	ct_state_set(&r->cur, id, NULL);
	return rc;
}

static rdb_rc ct_rename(ctrig *r, pager_txn *t)
{
	uint32_t from = below(&r->rng, CT_NKEYS), to, i;
	vdesc d;
	rdb_rc rc;

	for (i = 0; i < CT_NKEYS && !r->cur.present[from]; i++)
		from = (from + 1) % CT_NKEYS;
	if (!r->cur.present[from])
		return RDB_OK;
	to = (from + 1 + below(&r->rng, CT_NKEYS - 1)) % CT_NKEYS;
	rc = ct_err(r, "kv_rename", kv_rename(t, r->key[from], r->klen[from],
					      r->key[to], r->klen[to]));
	if (rc != RDB_OK)
		return rc;
	d = r->cur.val[from];
	ct_state_set(&r->cur, from, NULL);
	ct_state_set(&r->cur, to, &d);
	return rc;
}

/* The work of one transaction: kind 0 puts, deletes, renames and reads
 * then kv_maybe_compact (as the API does); 1 kv_compact alone; 2 puts and
 * then kv_compact. */
static rdb_rc ct_ops(ctrig *r, pager_txn *t, int kind)
{
	uint32_t n = 1 + below(&r->rng, 6), i, c;
	rdb_rc rc = RDB_OK;

	if (kind == 1)
		return ct_err(r, "kv_compact", kv_compact(t));
	for (i = 0; i < n && rc == RDB_OK; i++) {
		c = kind == 2 ? 0 : below(&r->rng, 10);
		if (c < 6)
			rc = ct_put(r, t);
		else if (c < 8)
			rc = ct_delete(r, t);
		else if (c < 9)
			rc = ct_rename(r, t);
		else
			rc = ct_check_id(r, t, &r->cur,
					 below(&r->rng, CT_NKEYS));
	}
	if (rc != RDB_OK)
		return rc;
	if (kind == 2)
		return ct_err(r, "kv_compact", kv_compact(t));
	return ct_err(r, "kv_maybe_compact", kv_maybe_compact(t));
}

/* One write transaction of the given kind, committed as number
 * last_ok + 1.  Stops at the first error (rolled back). */
static rdb_rc ct_txn(ctrig *r, int kind)
{
	unsigned char cnt[CT_COUNTER_LEN];
	pager_txn *t = NULL;
	uint64_t K = r->last_ok + 1;
	rdb_rc rc;
	int i;

	rdb_err_clear(&r->terr);
	rc = ct_err(r, "pager_begin", pager_begin(r->p, 1, &r->terr, &t));
	if (rc != RDB_OK)
		return rc;
	r->cur = r->ok;
	rc = ct_ops(r, t, kind);
	for (i = 0; i < (int)CT_COUNTER_LEN; i++)
		cnt[i] = (unsigned char)(K >> (8 * i));
	if (rc == RDB_OK)
		rc = ct_err(r, "kv_put(counter)", kv_put(t, NULL, CT_COUNTER,
				CT_COUNTER_LEN, cnt, CT_COUNTER_LEN));
	if (rc != RDB_OK) {
		pager_rollback(t);
		return rc;
	}
	r->tried = r->cur;
	r->last_try = K;
	rc = ct_err(r, "pager_commit", pager_commit(t));
	if (rc == RDB_OK) {
		r->ok = r->cur;
		r->last_ok = K;
	}
	return rc;
}

static int ct_txn_kind(ctrig *r)
{
	uint32_t c = below(&r->rng, 8);

	return c < 4 ? 0 : c < 6 ? 1 : 2;
}

static int census_mark(void *arg, rdb_pgno pgno, int is_trunk)
{
	unsigned char *seen = arg;

	(void)is_trunk;
	if (seen[pgno / 8] & (1u << (pgno % 8)))
		return 1;
	seen[pgno / 8] |= (unsigned char)(1u << (pgno % 8));
	return 0;
}

/* The reopened database must hold commit last_ok (or last_try, if that
 * commit failed): the counter, kv_verify, every key, live_keys. */
static uint64_t ct_verify(ctrig *r, int inflight)
{
	pager_txn *t = NULL;
	unsigned char *seen;
	const ctstate *s;
	void *v = NULL;
	size_t n = 0;
	uint64_t K = 0;
	uint32_t id, pages;
	kv_stats st;
	rdb_rc rc;
	int i;

	r->armed = 0;
	rdb_err_clear(&r->terr);
	rc = pager_begin(r->p, 0, &r->terr, &t);
	CT_CHECK(r, rc == RDB_OK, "read txn for verification: %d", rc);
	rc = kv_get(t, NULL, CT_COUNTER, CT_COUNTER_LEN, &v, &n);
	CT_CHECK(r, rc == RDB_OK && n == CT_COUNTER_LEN, "commit counter: rc "
		 "%d (%s), %zu bytes", rc, rdb_errstr(rc), n);
	for (i = 0; i < (int)CT_COUNTER_LEN; i++)
		K |= (uint64_t)((unsigned char *)v)[i] << (8 * i);
	rdb_free(v);
	CT_CHECK(r, K == r->last_ok || (inflight && K == r->last_try &&
		 r->last_try > r->last_ok), "database is at commit %llu; "
		 "allowed: %llu%s (last attempted %llu)",
		 (unsigned long long)K, (unsigned long long)r->last_ok,
		 inflight ? " or a failed commit after it" : " only",
		 (unsigned long long)r->last_try);
	s = K == r->last_ok ? &r->ok : &r->tried;
	pages = pager_txn_page_count(t);
	seen = calloc(pages / 8 + 1, 1);
	ck_assert_ptr_nonnull(seen);
	rc = pager_freelist_walk(t, census_mark, seen);
	CT_CHECK(r, rc == RDB_OK, "free list: rc %d (%s)", rc,
		 rdb_errstr(rc));
	rc = kv_verify(t, seen);
	CT_CHECK(r, rc == RDB_OK, "kv_verify at commit %llu: rc %d (%s)",
		 (unsigned long long)K, rc, rdb_errstr(rc));
	for (id = 1; id < pages; id++)
		CT_CHECK(r, seen[id / 8] & (1u << (id % 8)), "page %u of %u is "
			 "neither free nor used by the store", id, pages);
	free(seen);
	for (id = 0; id < CT_NKEYS; id++)
		CT_CHECK(r, ct_check_id(r, t, s, id) == RDB_OK, "kv_get");
	rc = kv_get_stats(t, &st);
	CT_CHECK(r, rc == RDB_OK && st.live_keys == s->n + 1u, "stats: rc %d, "
		 "live_keys %llu, model %u + counter", rc,
		 (unsigned long long)st.live_keys, s->n);
	pager_rollback(t);
	r->ok = *s;
	r->last_ok = K;
	r->last_try = K;
	return K;
}

static const char *fault_name(os_fault k)
{
	static const char *const names[] = { "none", "crash", "powerloss",
					     "torn", "eio", "enospc" };

	return (unsigned)k < 6 ? names[k] : "?";
}

static void ct_open(ctrig *r)
{
	pager *p = NULL;
	rdb_rc rc = pager_open(r->vfs, CT_DB, &r->opts, &r->err, &p);

	CT_CHECK(r, rc == RDB_OK, "pager_open: rc %d (%s)", rc,
		 rdb_errstr(rc));
	r->p = p;
}

/* Fresh vfs and database (page size 1024 or 4096, cache 16..48 pages,
 * checkpoint past 8..64 frames), then 1..3 fault-free transactions. */
static void ct_setup(ctrig *r, const ct_trial *ct)
{
	uint64_t s = ct->seed;
	uint32_t i, n;
	rdb_rc rc;

	memset(r, 0, sizeof(*r));
	r->rng = mix64(s) | 1;
	r->vfs = os_mem_new();
	ck_assert_ptr_nonnull(r->vfs);
	pager_opts_default(&r->opts);
	r->opts.page_size = below(&r->rng, 3) == 0 ? 1024 : 4096;
	r->opts.cache_pages = 16 + below(&r->rng, 33);
	r->opts.ckpt_frames = 8 + below(&r->rng, 57);
	r->opts.sync = PAGER_SYNC_FULL;
	r->opts.create = 1;
	for (i = 0; i < CT_NKEYS; i++) {
		uint64_t h = mix64(i ^ 0xc7a5ull);

		r->klen[i] = (size_t)snprintf((char *)r->key[i], 40, "ck%02u-",
					      i);
		n = (uint32_t)(h % 30);
		while (n-- > 0)
			r->key[i][r->klen[i]++] = (unsigned char)(h >> n % 8);
	}
	snprintf(r->ctx, sizeof(r->ctx), "kv crash trial %ld of %ld: base seed "
		 "%llu (RDB_TEST_SEED), RDB_KV_CRASH_TRIAL=%ld, trial seed "
		 "%llu, fault %s at call %llu of %llu, page size %u, cache "
		 "%u, ckpt_frames %u", ct->idx, ct->n,
		 (unsigned long long)ct->base_seed, ct->idx,
		 (unsigned long long)ct->seed, fault_name(ct->kind),
		 (unsigned long long)ct->at, (unsigned long long)ct->calls,
		 r->opts.page_size, r->opts.cache_pages, r->opts.ckpt_frames);
	ct_open(r);
	n = 1 + below(&r->rng, 3);
	for (i = 0; i < n; i++) {
		rc = ct_txn(r, i == 0 ? 2 : 0);
		CT_CHECK(r, rc == RDB_OK, "setup txn %u: rc %d", i, rc);
	}
}

/* 2..6 transactions; stops at the first error. */
static void ct_workload(ctrig *r)
{
	uint32_t n = 2 + below(&r->rng, 5), i;
	rdb_rc rc = RDB_OK;

	for (i = 0; i < n && rc == RDB_OK; i++)
		rc = ct_txn(r, ct_txn_kind(r));
}

static void ct_done(ctrig *r)
{
	if (r->p != NULL)
		(void)pager_close(r->p);
	r->p = NULL;
	kv_ctx_free(&r->cx);
	os_mem_free(r->vfs);
	r->vfs = NULL;
}

/* Calls made by the workload and close when nothing fails. */
static uint64_t ct_measure(const ct_trial *ct)
{
	ctrig *r = malloc(sizeof(*r));
	uint64_t calls;
	rdb_rc rc;

	ck_assert_ptr_nonnull(r);
	ct_setup(r, ct);
	os_mem_set_fault(r->vfs, OS_FAULT_NONE, 0, 0, 0);
	ct_workload(r);
	rc = pager_close(r->p);
	r->p = NULL;
	CT_CHECK(r, rc == RDB_OK, "fault-free close: rc %d", rc);
	calls = os_mem_calls(r->vfs);
	ct_done(r);
	free(r);
	return calls;
}

typedef struct ct_tally {
	long fired, inflight_kept, in_commit, in_kv, in_close, compactions;
} ct_tally;

/* One trial: fault, close, reboot, verify; then one more transaction on
 * the recovered store, verified again after a clean reopen. */
static void ct_run(const ct_trial *ct, ct_tally *ty)
{
	ctrig *r = malloc(sizeof(*r));
	uint64_t K, ok_before;
	int fired;
	rdb_rc rc;

	ck_assert_ptr_nonnull(r);
	ct_setup(r, ct);
	os_mem_set_fault(r->vfs, ct->kind, ct->at, 0, ct->seed);
	r->armed = 1;
	ct_workload(r);
	rc = pager_close(r->p);
	r->p = NULL;
	fired = os_mem_fault_fired(r->vfs);
	CT_CHECK(r, fired == (rc != RDB_OK || r->first_op != NULL),
		 "pager_close returned %d (%s); the fault %s", rc,
		 rdb_errstr(rc), fired ? "had fired" : "never fired");
	if (rc != RDB_OK && r->first_op == NULL)
		r->first_op = "pager_close";
	os_mem_restart(r->vfs);
	ct_open(r);
	ok_before = r->last_ok;
	K = ct_verify(r, 1);
	ty->fired += fired;
	ty->inflight_kept += K != ok_before;
	ty->in_commit += r->first_op != NULL &&
		strcmp(r->first_op, "pager_commit") == 0;
	ty->in_kv += r->first_op != NULL && strncmp(r->first_op, "kv_", 3)
		== 0;
	ty->in_close += r->first_op != NULL &&
		strcmp(r->first_op, "pager_close") == 0;
	ty->compactions += r->first_op != NULL &&
		strcmp(r->first_op, "kv_compact") == 0;
	rc = ct_txn(r, ct_txn_kind(r));
	CT_CHECK(r, rc == RDB_OK, "txn on the recovered store: rc %d", rc);
	rc = pager_close(r->p);
	r->p = NULL;
	CT_CHECK(r, rc == RDB_OK, "clean close: rc %d", rc);
	ct_open(r);
	ct_verify(r, 0);
	ct_done(r);
	free(r);
}

START_TEST(test_kv_crash_trials_reopen_at_a_committed_state)
{
	static const os_fault kinds[] = { OS_FAULT_CRASH, OS_FAULT_POWERLOSS,
					  OS_FAULT_TORN };
	long n = tu_scaled(1000, 100);
	long only = env_long("RDB_KV_CRASH_TRIAL", -1);
	uint64_t base = tu_seed(), s;
	double t0 = now_s();
	ct_tally ty = { 0 };
	ct_trial ct;
	long i, run = 0;

	tu_seed_note("kv crash trials", base);
	for (i = 0; i < n; i++) {
		if (only >= 0 && i != only)
			continue;
		ct = (ct_trial){ base, mix64(base + (uint64_t)i) | 1, i, n,
				 kinds[i % 3], 0, 0 };
		ct.calls = ct_measure(&ct);
		s = ct.seed ^ 0xfa17;
		ct.at = 1 + tu_rand_below(&s, ct.calls);
		ct_run(&ct, &ty);
		run++;
	}
	fprintf(stderr, "kv crash trials: %ld run, %ld faults fired, first "
		"error in a kv call %ld (in kv_compact %ld), in commit %ld "
		"(reopened at that commit %ld), in close %ld; seed %llu "
		"(%.1f s)\n", run, ty.fired, ty.in_kv, ty.compactions,
		ty.in_commit, ty.inflight_kept, ty.in_close,
		(unsigned long long)base, now_s() - t0);
	ck_assert_msg(run > 0 && ty.fired * 10 >= run * 9, "only %ld of %ld "
		      "faults fired (seed %llu)", ty.fired, run,
		      (unsigned long long)base);
}
END_TEST

/* ==== errors: an allocation failure at every allocation =============== *
 * A fixed sequence of steps through the internal API on a real file
 * (sync off: the in-memory VFS allocates too).  Step i runs with its nth
 * allocation failing, for every n until a run makes no failing call: each
 * call returns RDB_OK or RDB_NOMEM, and the store then holds exactly the
 * state before the step (failed) or after it, also after a reopen. */

#define NM_KEYS 5             /* keys "a" .. "e" */
#define NM_STEPS 9

typedef struct nmstate {
	int present[NM_KEYS];
	vdesc val[NM_KEYS];
} nmstate;

static rdb_rc nm_put(pager_txn *t, kv_ctx *cx, nmstate *s, int k,
		     vdesc d)
{
	unsigned char *v = gen_alloc(&d);
	char key = (char)('a' + k);
	rdb_rc rc = kv_put(t, cx, &key, 1, v, d.len);

	free(v);
	if (rc == RDB_OK) {
		s->present[k] = 1;
		s->val[k] = d;
	}
	return rc;
}

/* Step i's calls in t (a read transaction for step 4); s gets its
 * effect. */
static rdb_rc nm_step(pager_txn *t, kv_ctx *cx, int i, nmstate *s)
{
	vdesc d = { VK_TEXT, 9, 200 * KIB };
	src_state rd;
	rdb_rc rc = RDB_OK;
	char buf[64];
	size_t n;
	kv_stats st;
	void *v = NULL;
	sink k;
	int ex;

	switch (i) {
	case 0:
		return nm_put(t, NULL, s, 0, (vdesc){ VK_TEXT, 1, 50 });
	case 1:
		return nm_put(t, cx, s, 1, (vdesc){ VK_TEXT, 2, 5000 });
	case 2:
		return nm_put(t, NULL, s, 2, (vdesc){ VK_RAND, 3, 70 * KIB });
	case 3:
		rd = src_make(&d, 0, 1);
		rc = kv_put_stream(t, "d", 1, src_read, &rd);
		if (rc == RDB_OK) {
			s->present[3] = 1;
			s->val[3] = d;
		}
		return rc;
	case 4:
		rc = kv_get(t, cx, "b", 1, &v, &n);
		rdb_free(v);
		if (rc == RDB_OK)
			rc = kv_get_into(t, cx, "a", 1, buf, sizeof(buf), &n);
		if (rc == RDB_OK) {
			k = sink_make(&s->val[3]);
			rc = kv_get_stream(t, "d", 1, sink_write, &k);
		}
		if (rc == RDB_OK)
			rc = kv_get_stats(t, &st);
		return rc;
	case 5:
		rc = kv_rename(t, "b", 1, "e", 1);
		if (rc == RDB_OK) {
			s->present[4] = 1;
			s->val[4] = s->val[1];
			s->present[1] = 0;
		}
		return rc;
	case 6:
		rc = kv_delete(t, "a", 1, &ex);
		if (rc == RDB_OK)
			s->present[0] = 0;
		return rc;
	case 7:
		return kv_compact(t);
	default:
		rc = nm_put(t, cx, s, 0, (vdesc){ VK_RAND, 4, 300 });
		return rc == RDB_OK ? kv_maybe_compact(t) : rc;
	}
}

/* The store in p must hold exactly s (and pass kv_verify). */
static void nm_verify(pager *p, const nmstate *s, const char *ctx)
{
	pager_txn *t = NULL;
	rdb_err e = { 0 };
	void *v;
	size_t n;
	char key;
	int k;
	rdb_rc rc;

	ck_assert_int_eq(pager_begin(p, 0, &e, &t), RDB_OK);
	rc = kv_verify(t, NULL);
	ck_assert_msg(rc == RDB_OK, "%s: kv_verify: rc %d: %s", ctx, rc,
		      e.msg);
	for (k = 0; k < NM_KEYS; k++) {
		key = (char)('a' + k);
		v = NULL;
		rc = kv_get(t, NULL, &key, 1, &v, &n);
		ck_assert_msg(rc == (s->present[k] ? RDB_OK : RDB_NOTFOUND),
			      "%s: key '%c': rc %d, model %s", ctx, key, rc,
			      s->present[k] ? "present" : "missing");
		if (rc == RDB_OK)
			check_val(v, n, &s->val[k], ctx);
		rdb_free(v);
	}
	pager_rollback(t);
}

/* Run step `step` with allocation n failing.  Returns whether it did. */
static int nm_trial(int step, long n)
{
	pager_opts o;
	pager *p = NULL;
	pager_txn *t = NULL;
	rdb_err e = { 0 }, te = { 0 };
	kv_ctx cx;
	nmstate before, after;
	char ctx[96];
	int i, failed = 0;
	rdb_rc rc;

	memset(&cx, 0, sizeof(cx));
	memset(&before, 0, sizeof(before));
	snprintf(ctx, sizeof(ctx), "step %d with allocation %ld failing",
		 step, n);
	pager_opts_default(&o);
	o.sync = PAGER_SYNC_OFF;
	o.create = 1;
	ck_assert_int_eq(pager_open(os_unix_vfs(), path, &o, &e, &p), RDB_OK);
	for (i = 0; i <= step; i++) {
		after = before;
		if (i == step)
			rdb_mem_fail_at(n, 0);
		rc = pager_begin(p, i != 4, &te, &t);
		if (rc == RDB_OK) {
			rc = nm_step(t, &cx, i, &after);
			if (rc == RDB_OK)
				rc = pager_commit(t);
			else
				pager_rollback(t);
		}
		failed = rdb_mem_failed();
		if (i == step)
			rdb_mem_fail_at(0, 0);
		ck_assert_msg(rc == RDB_OK || (i == step && rc == RDB_NOMEM &&
			      failed), "%s: step %d returned %d (%s): %s", ctx,
			      i, rc, rdb_errstr(rc), te.msg);
		if (rc == RDB_OK)
			before = after;
	}
	nm_verify(p, &before, ctx);
	kv_ctx_free(&cx);
	ck_assert_int_eq(pager_close(p), RDB_OK);
	p = NULL;
	ck_assert_int_eq(pager_open(os_unix_vfs(), path, &o, &e, &p), RDB_OK);
	nm_verify(p, &before, ctx);
	ck_assert_int_eq(pager_close(p), RDB_OK);
	tu_unlink_db(path);
	return failed;
}

START_TEST(test_kv_nomem_at_every_allocation_is_nomem_and_atomic)
{
	long n, total = 0;
	int step;

	for (step = 0; step < NM_STEPS; step++) {
		for (n = 1; nm_trial(step, n); n++)
			;
		total += n - 1;
	}
	fprintf(stderr, "kv nomem: %ld allocation failures in %d steps\n",
		total, NM_STEPS);
}
END_TEST

/* The public calls, each with its nth allocation failing for every n
 * until it succeeds: RDB_NOMEM leaves both databases as they were (a
 * failed transfer may leave the key in both, never in neither). */

typedef struct am_state {
	int in_a[4], in_b[4];         /* keys "a" .. "d" in db / db2 */
	vdesc val[4];
} am_state;

static const vdesc am_vals[4] = {
	{ VK_TEXT, 31, 3000 }, { VK_RAND, 32, 150 * KIB },
	{ VK_TEXT, 33, 900 }, { VK_RAND, 34, 10 },
};

static void am_check(rdb *db, rdb *db2, const am_state *s)
{
	char key[2] = "a";
	int k;

	for (k = 0; k < 4; k++) {
		key[0] = (char)('a' + k);
		expect_d(db, key, 1, s->in_a[k] ? &s->val[k] : NULL);
		expect_d(db2, key, 1, s->in_b[k] ? &s->val[k] : NULL);
	}
}

/* Call number c once on (db, db2); s gets its effect if it succeeds. */
static int am_call(rdb *db, rdb *db2, int c, am_state *s)
{
	unsigned char *v = NULL;
	src_state rd;
	rdb_kv_iter *it = NULL;
	rdb_kv_stats st;
	rdb_kv_op ops[2];
	const void *k;
	size_t kl, n;
	void *got = NULL;
	sink sk;
	int rc;

	switch (c) {
	case 0:
		v = gen_alloc(&am_vals[0]);
		rc = rdb_kv_put(db, "a", 1, v, am_vals[0].len);
		s->in_a[0] |= rc == RDB_OK;
		break;
	case 1:
		rd = src_make(&am_vals[1], 0, 1);
		rc = rdb_kv_put_stream(db, "b", 1, src_read, &rd);
		s->in_a[1] |= rc == RDB_OK;
		break;
	case 2:
		rc = rdb_kv_get_alloc(db, "a", 1, &got, &n);
		if (rc == RDB_OK)
			check_val(got, n, &am_vals[0], "get_alloc");
		break;
	case 3:
		v = malloc(am_vals[1].len);
		ck_assert_ptr_nonnull(v);
		rc = rdb_kv_get(db, "b", 1, v, am_vals[1].len, &n);
		if (rc == RDB_OK)
			check_val(v, n, &am_vals[1], "get");
		break;
	case 4:
		sk = sink_make(&am_vals[1]);
		rc = rdb_kv_get_stream(db, "b", 1, sink_write, &sk);
		break;
	case 5:
		v = gen_alloc(&am_vals[2]);
		ops[0] = (rdb_kv_op){ 0, "c", 1, v, am_vals[2].len };
		ops[1] = (rdb_kv_op){ 1, "a", 1, NULL, 0 };
		rc = rdb_kv_batch(db, ops, 2);
		if (rc == RDB_OK) {
			s->in_a[2] = 1;
			s->in_a[0] = 0;
		}
		break;
	case 6:
		rc = rdb_kv_rename(db, "b", 1, "d", 1);
		if (rc == RDB_OK) {
			s->in_a[1] = 0;
			s->in_a[3] = 1;
			s->val[3] = s->val[1];
		}
		break;
	case 7:
		rc = rdb_kv_iter_open(db, "", 0, &it);
		while (rc == RDB_OK &&
		       (rc = rdb_kv_iter_next(it, &k, &kl)) == RDB_ROW) {
			rc = rdb_kv_iter_value(it, &got, &n);
			rdb_kv_free(got);
			got = NULL;
		}
		rc = rc == RDB_DONE ? RDB_OK : rc;
		rdb_kv_iter_close(it);
		break;
	case 8:
		rc = rdb_kv_compact(db);
		break;
	case 9:
		rc = rdb_kv_copy(db, db2, "c", 1);
		s->in_b[2] |= rc == RDB_OK;
		break;
	case 10:
		rc = rdb_kv_transfer(db, db2, "d", 1);
		if (rc == RDB_OK) {
			s->in_a[3] = 0;
			s->in_b[3] = 1;
		}
		break;
	default:
		rc = rdb_kv_stats_get(db, &st);
		break;
	}
	free(v);
	rdb_kv_free(got);
	return rc;
}

START_TEST(test_kv_api_nomem_in_each_call_is_nomem_and_atomic)
{
	rdb *db = db_open(path), *db2 = db_open(path2);
	am_state s, after;
	long n, total = 0;
	int c, rc, failed, in_dst;

	memset(&s, 0, sizeof(s));
	memcpy(s.val, am_vals, sizeof(am_vals));
	for (c = 0; c < 12; c++) {
		for (n = 1;; n++) {
			after = s;
			rdb_mem_fail_at(n, 0);
			rc = am_call(db, db2, c, &after);
			failed = rdb_mem_failed();
			rdb_mem_fail_at(0, 0);
			ck_assert_msg(rc == RDB_OK || (rc == RDB_NOMEM &&
				      failed), "call %d with allocation %ld "
				      "failing: rc %d (%s): %s", c, n, rc,
				      rdb_errstr(rc), rdb_errmsg(db));
			if (rc == RDB_OK)
				s = after;
			if (rc != RDB_OK && c == 10 && rdb_kv_exists(db2, "d",
					1, &in_dst) == RDB_OK && in_dst) {
				/* dst committed, src kept it: in both */
				s.in_b[3] = 1;
			}
			am_check(db, db2, &s);
			if (rc == RDB_OK)
				break;
			total++;
		}
	}
	db_close(db);
	db_close(db2);
	db = db_open(path);
	db2 = db_open(path2);
	am_check(db, db2, &s);
	db_close(db);
	db_close(db2);
	fprintf(stderr, "kv api nomem: %ld allocation failures in 12 calls\n",
		total);
}
END_TEST

/* ==== suite ============================================================ */

/* ==== namespace: users' keys never meet the system's ==================== */

/*
 * Records written through kv_* directly, as the system tables write them:
 * two in the system namespace (one is 's' + "k", the bytes of a user key
 * "sk" without its namespace byte), and raw keys just before and after
 * the user namespace ("tail", "v1"), the namespace byte alone ("u"), and
 * a user key's bytes with no namespace at all ("k").
 */
static const struct {
	const char *k;
	const char *v;
} ns_sys[] = {
	{ "sk", "system k" },
	{ "s\x01" "catalog", "system catalog row" },
	{ "tail", "raw t" },
	{ "v1", "raw v" },
	{ "k", "raw k" },
	{ "u", "raw u alone" },
};
#define N_NS_SYS (sizeof(ns_sys) / sizeof(ns_sys[0]))

static rdb_err ns_err;        /* pager_open()'s; outlives the pager */

static pager *ns_pager(const char *p)
{
	pager_opts o;
	pager *pg = NULL;

	pager_opts_default(&o);
	o.create = 1;
	ck_assert_int_eq(pager_open(os_unix_vfs(), p, &o, &ns_err, &pg),
			 RDB_OK);
	return pg;
}

/* Write ns_sys[] into the database at p (creating it). */
static void ns_sys_write(const char *p)
{
	pager *pg = ns_pager(p);
	pager_txn *t;
	rdb_err te;
	size_t i;

	ck_assert_int_eq(pager_begin(pg, 1, &te, &t), RDB_OK);
	for (i = 0; i < N_NS_SYS; i++)
		ck_assert_msg(kv_put(t, NULL, ns_sys[i].k, strlen(ns_sys[i].k),
				     ns_sys[i].v, strlen(ns_sys[i].v)) ==
			      RDB_OK, "kv_put: %s", te.msg);
	ck_assert_int_eq(pager_commit(t), RDB_OK);
	ck_assert_int_eq(pager_close(pg), RDB_OK);
}

/* The database at p still holds every ns_sys[] record unchanged, passes
 * kv_verify, and its statistics count user_keys user keys beside them.
 * Returns kv_max_key() of the store. */
static size_t ns_sys_check(const char *p, uint64_t user_keys)
{
	pager *pg = ns_pager(p);
	pager_txn *t;
	kv_stats all, user;
	rdb_err te;
	size_t i, n, max;
	void *v;

	ck_assert_int_eq(pager_begin(pg, 0, &te, &t), RDB_OK);
	for (i = 0; i < N_NS_SYS; i++) {
		ck_assert_msg(kv_get(t, NULL, ns_sys[i].k, strlen(ns_sys[i].k),
				     &v, &n) == RDB_OK, "kv_get '%s': %s",
			      ns_sys[i].k, te.msg);
		ck_assert_msg(n == strlen(ns_sys[i].v) &&
			      memcmp(v, ns_sys[i].v, n) == 0, "system key '%s' "
			      "holds '%.*s'", ns_sys[i].k, (int)n, (char *)v);
		rdb_free(v);
	}
	ck_assert_msg(kv_verify(t, NULL) == RDB_OK, "kv_verify: %s", te.msg);
	ck_assert_int_eq(kv_get_stats(t, &all), RDB_OK);
	ck_assert_int_eq(kv_get_user_stats(t, &user), RDB_OK);
	ck_assert_uint_eq(user.live_keys, user_keys);
	ck_assert_uint_eq(all.live_keys, user_keys + N_NS_SYS);
	ck_assert_uint_le(user.live_bytes, all.live_bytes);
	ck_assert_uint_le(user.dead_bytes, all.dead_bytes);
	max = kv_max_key(t);
	pager_rollback(t);
	ck_assert_int_eq(pager_close(pg), RDB_OK);
	return max;
}

static int ns_count(void *arg, const void *buf, size_t n)
{
	(void)buf;
	*(size_t *)arg += n;
	return 0;
}

/* Every rdb_kv_* call that takes a key, given the bytes of ns_sys[i]'s
 * key (and that key without its first byte), finds nothing. */
static void ns_expect_unseen(rdb *db, rdb *db2, size_t i)
{
	const char *k = ns_sys[i].k;
	size_t kl = strlen(k), n = 0, pushed = 0, j;
	unsigned char buf[64];
	void *v = NULL;
	int ex = 1;

	for (j = 0; j < 2 && kl > 0; j++, k++, kl--) {
		OK(db, rdb_kv_exists(db, k, kl, &ex));
		ck_assert_int_eq(ex, 0);
		RC(db, RDB_NOTFOUND, rdb_kv_get(db, k, kl, buf, sizeof(buf),
						&n));
		RC(db, RDB_NOTFOUND, rdb_kv_get_alloc(db, k, kl, &v, &n));
		RC(db, RDB_NOTFOUND, rdb_kv_get_stream(db, k, kl, ns_count,
						       &pushed));
		ck_assert_uint_eq(pushed, 0);
		RC(db, RDB_NOTFOUND, rdb_kv_rename(db, k, kl, "renamed", 7));
		OK(db, rdb_kv_delete(db, k, kl, &ex));
		ck_assert_int_eq(ex, 0);
		RC(db, RDB_NOTFOUND, rdb_kv_copy(db, db2, k, kl));
		RC(db, RDB_NOTFOUND, rdb_kv_transfer(db, db2, k, kl));
		expect_iter(db, k, kl, NULL, 0, 0);
	}
}

START_TEST(test_kv_ns_system_records_invisible_to_every_user_call)
{
	static const char *const sorted[] = {   /* ns_sys[] keys, memcmp order */
		"k", ("s\x01" "catalog"), "sk", "tail", "u", "v1",
	};
	rdb *db, *db2;
	rdb_kv_stats st;
	size_t i, max;

	ns_sys_write(path);
	ns_sys_write(path2);
	db = db_open(path);
	db2 = db_open(path2);
	expect_iter(db, "", 0, NULL, 0, 0);
	st = stats_of(db);
	ck_assert_uint_eq(st.live_keys, 0);
	ck_assert_uint_eq(st.live_bytes, 0);
	ck_assert_uint_eq(st.dead_bytes, 0);
	for (i = 0; i < N_NS_SYS; i++)
		ns_expect_unseen(db, db2, i);
	/* nothing above wrote a byte in the user namespace */
	st = stats_of(db);
	ck_assert_uint_eq(st.live_keys, 0);
	ck_assert_uint_eq(st.dead_bytes, 0);
	ck_assert_uint_eq(stats_of(db2).live_keys, 0);
	OK(db, rdb_kv_compact(db));
	/* the user's keys of the same bytes are the user's own */
	put_keys(db, sorted, N_NS_SYS);
	expect_iter(db, "", 0, sorted, N_NS_SYS, 1);
	expect_iter(db, "s", 1, sorted + 1, 2, 1);
	ck_assert_uint_eq(stats_of(db).live_keys, N_NS_SYS);
	max = rdb_kv_max_key(db);
	db_close(db);
	db_close(db2);
	ck_assert_uint_eq(ns_sys_check(path, N_NS_SYS), max + 1);
	ck_assert_uint_eq(ns_sys_check(path2, 0), max + 1);
}
END_TEST

START_TEST(test_kv_ns_user_changes_leave_system_records_alone)
{
	static const char *const left[] = { "k2", "sk", "v1" };
	rdb *db, *db2;
	rdb_kv_op ops[3] = {
		{ 0, "sk", 2, "batch sk", 8 },
		{ 1, "k", 1, NULL, 0 },
		{ 0, "k2", 2, "v:k2", 4 },
	};
	vdesc d = { VK_TEXT, 7, 200 * KIB };
	rdb_kv_stats st;
	size_t max;
	int ex = 0;

	ns_sys_write(path);
	ns_sys_write(path2);
	db = db_open(path);
	db2 = db_open(path2);
	put_str(db, "k", "v:k");
	put_stream_d(db, "tail", 4, &d, 0);
	OK(db, rdb_kv_batch(db, ops, 3));
	expect_str(db, "sk", "batch sk");
	OK(db, rdb_kv_rename(db, "tail", 4, "v1", 2));
	expect_stream_d(db, "v1", 2, &d);
	put_str(db, "sk", "v:sk");
	OK(db, rdb_kv_delete(db, "k", 1, &ex));
	ck_assert_int_eq(ex, 0);              /* the batch deleted it */
	expect_iter(db, "", 0, left, 3, 0);
	/* copy and transfer keep the key in the user namespace */
	OK(db, rdb_kv_copy(db, db2, "sk", 2));
	OK(db, rdb_kv_transfer(db, db2, "v1", 2));
	expect_str(db2, "sk", "v:sk");
	expect_d(db2, "v1", 2, &d);
	expect_d(db, "v1", 2, NULL);
	OK(db, rdb_kv_compact(db));
	st = stats_of(db);
	ck_assert_uint_eq(st.live_keys, 2);
	ck_assert_uint_eq(st.dead_bytes, 0);
	expect_iter(db, "", 0, left, 2, 1);
	max = rdb_kv_max_key(db);
	db_close(db);
	db_close(db2);
	/* the system's records, with the user's two and two keys beside */
	ck_assert_uint_eq(ns_sys_check(path, 2), max + 1);
	ck_assert_uint_eq(ns_sys_check(path2, 2), max + 1);
}
END_TEST

START_TEST(test_kv_ns_stats_count_user_keys_only)
{
	vdesc text = { VK_TEXT, 3, 64 * KIB };
	rdb_kv_stats st, st2;
	pager *pg;
	pager_txn *t;
	kv_stats all;
	rdb_err te;
	rdb *db;
	unsigned char *v = gen_alloc(&text);

	ns_sys_write(path);
	db = db_open(path);
	put_d(db, "text", 4, &text);
	put_d(db, "text", 4, &text);          /* one dead record */
	st = stats_of(db);
	db_close(db);
	ck_assert_uint_eq(st.live_keys, 1);
	ck_assert_uint_gt(st.saved_bytes, text.len / 2);
	ck_assert_uint_gt(st.dead_bytes, 0);
	/* system records replaced and deleted: the store's dead bytes grow,
	 * the user's do not */
	pg = ns_pager(path);
	ck_assert_int_eq(pager_begin(pg, 1, &te, &t), RDB_OK);
	ck_assert_int_eq(kv_put(t, NULL, "sbig", 4, v, text.len), RDB_OK);
	ck_assert_int_eq(kv_put(t, NULL, "sbig", 4, v, text.len), RDB_OK);
	ck_assert_int_eq(kv_delete(t, "sk", 2, NULL), RDB_OK);
	ck_assert_int_eq(kv_get_stats(t, &all), RDB_OK);
	ck_assert_int_eq(pager_commit(t), RDB_OK);
	ck_assert_int_eq(pager_close(pg), RDB_OK);
	ck_assert_uint_eq(all.live_keys, 1 + N_NS_SYS);
	ck_assert_uint_gt(all.live_bytes, st.live_bytes);
	ck_assert_uint_gt(all.dead_bytes, st.dead_bytes);
	ck_assert_uint_gt(all.saved_bytes, st.saved_bytes + text.len / 2);
	db = db_open(path);
	st2 = stats_of(db);
	db_close(db);
	ck_assert_uint_eq(st2.live_keys, st.live_keys);
	ck_assert_uint_eq(st2.live_bytes, st.live_bytes);
	ck_assert_uint_eq(st2.dead_bytes, st.dead_bytes);
	ck_assert_uint_eq(st2.saved_bytes, st.saved_bytes);
	free(v);
}
END_TEST

static TCase *tcase(Suite *s, const char *name, int timeout)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
	return tc;
}

/* Closing a handle with an iterator open closes nothing: the handle and
 * the iterator both keep working, and a later close succeeds. */
START_TEST(test_kv_close_with_open_iterator_is_misuse_and_closes_nothing)
{
	rdb *db = db_open(path);
	rdb_kv_iter *it = NULL;
	const void *k;
	size_t kl;
	int rc;

	put_str(db, "a", "1");
	ck_assert_int_eq(rdb_kv_iter_open(db, "", 0, &it), RDB_OK);
	ck_assert_int_eq(rdb_close(db), RDB_MISUSE);
	rc = rdb_kv_iter_next(it, &k, &kl);
	ck_assert_int_eq(rc, RDB_ROW);
	ck_assert_uint_eq(kl, 1);
	expect_str(db, "a", "1");
	rdb_kv_iter_close(it);
	ck_assert_int_eq(rdb_close(db), RDB_OK);
}
END_TEST

Suite *kv_suite(void)
{
	Suite *s = suite_create("kv");
	TCase *tc;

	tc = tcase(s, "api", 300);
	tcase_add_test(tc, test_kv_open_missing_file_creates_empty_store);
	tcase_add_test(tc, test_kv_open_same_path_twice_is_busy);
	tcase_add_test(tc,
		test_kv_open_junk_is_notadb_missing_folder_cantopen);
	tcase_add_test(tc, test_kv_errmsg_follows_last_call);
	tcase_add_test(tc, test_kv_null_handle_or_arguments_are_misuse);
	tcase_add_test(tc, test_kv_handle_shared_by_threads_serialises_calls);
	tcase_add_test(tc, test_kv_put_get_persists_across_reopen);
	tcase_add_test(tc, test_kv_put_existing_key_replaces_value);
	tcase_add_test(tc, test_kv_get_small_buffer_is_range_with_length);
	tcase_add_test(tc, test_kv_missing_key_is_notfound_everywhere);
	tcase_add_test(tc, test_kv_get_alloc_empty_value_is_non_null);
	tcase_add_test(tc, test_kv_delete_reports_whether_key_existed);
	tcase_add_test(tc, test_kv_empty_key_is_rejected);
	tcase_add_test(tc,
		test_kv_key_of_max_length_round_trips_longer_is_toobig);
	tcase_add_test(tc, test_kv_binary_keys_with_nul_bytes_are_distinct);
	tcase_add_loop_test(tc, test_kv_value_sizes_round_trip_put_and_stream,
			    0, 2 * (int)N_VALUE_SIZES);
	tcase_add_test(tc,
		test_kv_put_stream_offers_at_most_64k_and_takes_short_reads);
	tcase_add_test(tc, test_kv_get_stream_pushes_chunks_of_at_most_64k);
	tcase_add_test(tc,
		test_kv_put_stream_reader_abort_is_interrupt_nothing_stored);
	tcase_add_test(tc, test_kv_get_stream_writer_stop_is_interrupt);
	tcase_add_test(tc,
		test_kv_value_over_1gib_put_is_toobig_before_reading);
	tcase_add_test(tc, test_kv_batch_applies_ops_in_order);
	tcase_add_test(tc, test_kv_batch_with_toobig_fifth_op_applies_none);
	tcase_add_test(tc, test_kv_batch_with_empty_key_applies_none);
	tcase_add_test(tc,
		test_kv_batch_compressed_ahead_stores_what_single_puts_store);
	tcase_add_loop_test(tc,
		test_kv_batch_compressed_ahead_with_bad_op_applies_none, 0, 3);
	tcase_add_test(tc, test_kv_rename_moves_value_and_replaces_target);
	tcase_add_test(tc,
		test_kv_rename_missing_is_notfound_same_name_is_misuse);
	tcase_add_test(tc, test_kv_iter_prefix_gives_keys_in_order);
	tcase_add_test(tc, test_kv_iter_binary_prefix_and_ff_bytes);
	tcase_add_test(tc, test_kv_iter_sees_snapshot_taken_at_open);
	tcase_add_test(tc,
		test_kv_close_with_open_iterator_is_misuse_and_closes_nothing);
	tcase_add_test(tc, test_kv_iter_reads_snapshot_values_after_compaction);
	tcase_add_test(tc, test_kv_iter_large_values_through_iter_value);
	tcase_add_test(tc, test_kv_iter_many_keys_across_pages_in_order);
	tcase_add_test(tc, test_kv_stats_text_saves_bytes_random_does_not);
	tcase_add_test(tc, test_kv_stats_replace_and_delete_grow_dead_bytes);
	tcase_add_test(tc,
		test_kv_compact_zeroes_dead_bytes_keeps_every_value);
	tcase_add_test(tc, test_kv_overwrites_auto_compact_bound_file_size);

	tc = tcase(s, "model", 600);
	tcase_add_test(tc, test_kv_model_random_ops_match_map);

	tc = tcase(s, "corrupt", 300);
	tcase_add_loop_test(tc,
		test_kv_corrupt_value_byte_is_corrupt_naming_key_others_read,
		0, 8);
	tcase_add_test(tc,
		test_kv_corrupt_record_leaves_iteration_and_new_keys_working);
	tcase_add_loop_test(tc,
		test_kv_corrupt_record_header_or_key_is_corrupt_not_crash, 0,
		10);

	tc = tcase(s, "crash", 600);
	tcase_add_test(tc, test_kv_crash_trials_reopen_at_a_committed_state);

	tc = tcase(s, "errors", 300);
	tcase_add_test(tc,
		test_kv_nomem_at_every_allocation_is_nomem_and_atomic);
	tcase_add_test(tc, test_kv_api_nomem_in_each_call_is_nomem_and_atomic);

	tc = tcase(s, "namespace", 300);
	tcase_add_test(tc,
		test_kv_ns_system_records_invisible_to_every_user_call);
	tcase_add_test(tc, test_kv_ns_user_changes_leave_system_records_alone);
	tcase_add_test(tc, test_kv_ns_stats_count_user_keys_only);

	tc = tcase(s, "twodb", 300);
	tcase_add_test(tc, test_kv_copy_adds_exactly_one_key_to_dst);
	tcase_add_test(tc, test_kv_copy_replaces_existing_value_in_dst);
	tcase_add_test(tc, test_kv_transfer_moves_exactly_one_key);
	tcase_add_test(tc,
		test_kv_copy_missing_key_is_notfound_nothing_changes);
	tcase_add_test(tc, test_kv_copy_to_same_db_is_misuse);
	return s;
}
