/*
 * bench_btree.c -- the B+ tree against LMDB in the same run: 1,000,000
 * keys (8-byte big-endian integers) with 100-byte values, 4096-byte pages,
 * each write phase one transaction timed with its commit (rdb: FULL sync,
 * LMDB: its default sync).  Real files in the current directory, removed
 * at the end.  Stdout: one "btree.<phase>: rdb X unit, lmdb Y unit, ratio
 * R" line per phase (ratio = rdb / lmdb, the median of ROUNDS rounds in
 * which the engines take turns); every other line starts with '#'.
 * How to run, what each line means, last results: docs/benchmarks.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <lmdb.h>

#include "rdb.h"
#include "err.h"
#include "mem.h"
#include "pager/os.h"
#include "pager/pager.h"
#include "btree/btree.h"
#include "common.h"

#define N_KEYS 1000000u
#define KEY_LEN 8u
#define VAL_LEN 100u
#define PAGE 4096u
#define RDB_CACHE 60000u          /* 234 MiB: the whole tree fits */
#define LMDB_MAP (2ull << 30)     /* 2 GiB */
#define ROUNDS 3
#define SCAN_REPS 5               /* scans per round; the best counts */
#define N_RANGES 10000u
#define RANGE_STEPS 100u
#define RDB_SEQ "bench_btree_seq.rdb"
#define RDB_RND "bench_btree_rnd.rdb"
#define LMDB_SEQ "bench_btree_seq.mdb"
#define LMDB_RND "bench_btree_rnd.mdb"

/* ---- helpers ---------------------------------------------------------- */

static void die(const char *what, int rc, const char *msg)
{
	printf("# error: %s: %d %s\n", what, rc, msg != NULL ? msg : "");
	fflush(stdout);
	exit(1);
}

static void rdb_check(const char *what, rdb_rc rc, const rdb_err *err)
{
	if (rc != RDB_OK)
		die(what, rc, err != NULL && err->msg[0] ? err->msg :
			      rdb_errstr(rc));
}

static void mdb_check(const char *what, int rc)
{
	if (rc != MDB_SUCCESS)
		die(what, rc, mdb_strerror(rc));
}

static void key_of(uint64_t i, unsigned char *k)
{
	int j;

	for (j = 7; j >= 0; j--, i >>= 8)
		k[j] = (unsigned char)i;
}

/* The 100 value bytes of key i. */
static void val_of(uint64_t i, unsigned char *v)
{
	uint64_t w;
	unsigned j;

	for (j = 0; j < VAL_LEN; j += 8) {
		w = mix64(i * 16 + j);
		memcpy(v + j, &w, VAL_LEN - j < 8 ? VAL_LEN - j : 8);
	}
}

/* A fixed random permutation of 0 .. n-1 (Fisher-Yates). */
static uint32_t *shuffled(uint32_t n, uint64_t seed)
{
	uint32_t *a = malloc((size_t)n * sizeof(*a)), i, j, x;

	if (a == NULL)
		die("malloc", ENOMEM, "permutation");
	for (i = 0; i < n; i++)
		a[i] = i;
	for (i = n - 1; i > 0; i--) {
		seed = mix64(seed);
		j = (uint32_t)(seed % (i + 1));
		x = a[i];
		a[i] = a[j];
		a[j] = x;
	}
	return a;
}

/* What a scan does with each entry, the same for both engines: fold the
 * key and every value byte into a sum, so nothing is skipped. */
static uint64_t touch(const void *k, size_t kl, const void *v, size_t vl)
{
	const unsigned char *p = v;
	uint64_t s = kl + vl, w;
	size_t i;

	memcpy(&w, k, 8);
	s ^= w;
	for (i = 0; i + 8 <= vl; i += 8) {
		memcpy(&w, p + i, 8);
		s += w;
	}
	for (; i < vl; i++)
		s += p[i];
	return s;
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		die("stat", errno, path);
	return (uint64_t)st.st_size;
}

static void line(const char *phase, double r, double l, const char *unit)
{
	printf("btree.%s: rdb %.0f %s, lmdb %.0f %s, ratio %.2f\n", phase, r,
	       unit, l, unit, l > 0 ? r / l : 0.0);
	fflush(stdout);
}

/* ---- rdb -------------------------------------------------------------- */

typedef struct rdb_db {
	pager *p;
	rdb_err err;          /* pager_open()'s */
	rdb_err terr;         /* the current transaction's */
	rdb_pgno root;
	double commit_ms;     /* time in pager_commit of the last write */
} rdb_db;

static void rdb_open_db(rdb_db *d, const char *path)
{
	pager_opts o;

	pager_opts_default(&o);
	o.page_size = PAGE;
	o.cache_pages = RDB_CACHE;
	o.sync = PAGER_SYNC_FULL;
	o.create = 1;
	memset(d, 0, sizeof(*d));
	rdb_check("pager_open", pager_open(os_unix_vfs(), path, &o, &d->err,
					   &d->p), &d->err);
}

static pager_txn *rdb_begin(rdb_db *d, int write)
{
	pager_txn *t;

	rdb_err_clear(&d->terr);
	rdb_check("pager_begin", pager_begin(d->p, write, &d->terr, &t),
		  &d->terr);
	if (d->root == 0)
		d->root = (rdb_pgno)pager_anchor(t, 0);
	return t;
}

static void rdb_commit(rdb_db *d, pager_txn *t)
{
	uint64_t t0 = now_ns();

	rdb_check("pager_commit", pager_commit(t), &d->terr);
	d->commit_ms = ms_since(t0);
}

/* A new database holding one empty tree (its root in anchor 0). */
static void rdb_create(rdb_db *d, const char *path)
{
	pager_txn *t;

	rdb_open_db(d, path);
	t = rdb_begin(d, 1);
	rdb_check("bt_create", bt_create(t, &d->root), &d->terr);
	rdb_check("pager_set_anchor", pager_set_anchor(t, 0, d->root),
		  &d->terr);
	rdb_commit(d, t);
}

static void rdb_close_db(rdb_db *d)
{
	rdb_check("pager_close", pager_close(d->p), &d->err);
	d->p = NULL;
}

/* Insert keys[0..n) (or 0..n-1 in order if keys is NULL) in one write
 * transaction; ms including the commit. */
static double rdb_load(rdb_db *d, const uint32_t *keys, uint32_t n)
{
	unsigned char k[KEY_LEN], v[VAL_LEN];
	uint64_t t0 = now_ns();
	pager_txn *t = rdb_begin(d, 1);
	uint32_t i, id;

	for (i = 0; i < n; i++) {
		id = keys != NULL ? keys[i] : i;
		key_of(id, k);
		val_of(id, v);
		rdb_check("bt_insert", bt_insert(t, d->root, k, KEY_LEN, v,
						 VAL_LEN), &d->terr);
	}
	rdb_commit(d, t);
	return ms_since(t0);
}

/* Gets of keys[0..n) through bt_get, checking every value. */
static double rdb_get_all(rdb_db *d, const uint32_t *keys, uint32_t n)
{
	unsigned char k[KEY_LEN], want[VAL_LEN];
	uint64_t t0 = now_ns();
	pager_txn *t = rdb_begin(d, 0);
	size_t vl;
	void *v;
	uint32_t i;

	for (i = 0; i < n; i++) {
		key_of(keys[i], k);
		rdb_check("bt_get", bt_get(t, d->root, k, KEY_LEN, &v, &vl),
			  &d->terr);
		val_of(keys[i], want);
		if (vl != VAL_LEN || memcmp(v, want, VAL_LEN) != 0)
			die("bt_get", keys[i], "wrong value");
		rdb_free(v);
	}
	pager_rollback(t);
	return ms_since(t0);
}

/* The same through bt_get_buf, into a buffer of the caller's. */
static double rdb_getbuf_all(rdb_db *d, const uint32_t *keys, uint32_t n)
{
	unsigned char k[KEY_LEN], want[VAL_LEN], v[VAL_LEN];
	uint64_t t0 = now_ns();
	pager_txn *t = rdb_begin(d, 0);
	size_t vl;
	uint32_t i;

	for (i = 0; i < n; i++) {
		key_of(keys[i], k);
		rdb_check("bt_get_buf", bt_get_buf(t, d->root, k, KEY_LEN, v,
						   sizeof(v), &vl), &d->terr);
		val_of(keys[i], want);
		if (vl != VAL_LEN || memcmp(v, want, VAL_LEN) != 0)
			die("bt_get_buf", keys[i], "wrong value");
	}
	pager_rollback(t);
	return ms_since(t0);
}

/* The same through one cursor: bt_seek_ge + bt_key + bt_value. */
static double rdb_seek_all(rdb_db *d, const uint32_t *keys, uint32_t n)
{
	unsigned char k[KEY_LEN], want[VAL_LEN];
	uint64_t t0 = now_ns();
	pager_txn *t = rdb_begin(d, 0);
	const void *kp, *vp;
	size_t kl, vl;
	bt_cursor *c;
	uint32_t i;

	rdb_check("bt_cursor_open", bt_cursor_open(t, d->root, &c), &d->terr);
	for (i = 0; i < n; i++) {
		key_of(keys[i], k);
		rdb_check("bt_seek_ge", bt_seek_ge(c, k, KEY_LEN), &d->terr);
		rdb_check("bt_key", bt_key(c, &kp, &kl), &d->terr);
		rdb_check("bt_value", bt_value(c, &vp, &vl), &d->terr);
		val_of(keys[i], want);
		if (kl != KEY_LEN || memcmp(kp, k, KEY_LEN) != 0 ||
		    vl != VAL_LEN || memcmp(vp, want, VAL_LEN) != 0)
			die("bt_seek_ge", keys[i], "wrong key or value");
	}
	bt_cursor_close(c);
	pager_rollback(t);
	return ms_since(t0);
}

/* Forward cursor over every key; *n_out keys, *sum their touch(). */
static double rdb_scan(rdb_db *d, uint64_t *n_out, uint64_t *sum)
{
	uint64_t t0 = now_ns(), n = 0, s = 0;
	pager_txn *t = rdb_begin(d, 0);
	const void *kp, *vp;
	size_t kl, vl;
	bt_cursor *c;
	rdb_rc rc;

	rdb_check("bt_cursor_open", bt_cursor_open(t, d->root, &c), &d->terr);
	for (rc = bt_first(c); rc == RDB_OK; rc = bt_next(c)) {
		rdb_check("bt_key", bt_key(c, &kp, &kl), &d->terr);
		rdb_check("bt_value", bt_value(c, &vp, &vl), &d->terr);
		s += touch(kp, kl, vp, vl);
		n++;
	}
	if (rc != RDB_NOTFOUND)
		rdb_check("bt_next", rc, &d->terr);
	bt_cursor_close(c);
	pager_rollback(t);
	*n_out = n;
	*sum = s;
	return ms_since(t0);
}

/* N_RANGES seeks to starts[i], each followed by up to RANGE_STEPS nexts. */
static double rdb_ranges(rdb_db *d, const uint32_t *starts, uint64_t *n_out,
			 uint64_t *sum)
{
	unsigned char k[KEY_LEN];
	uint64_t t0 = now_ns(), n = 0, s = 0;
	pager_txn *t = rdb_begin(d, 0);
	const void *kp, *vp;
	size_t kl, vl;
	bt_cursor *c;
	uint32_t i, j;
	rdb_rc rc;

	rdb_check("bt_cursor_open", bt_cursor_open(t, d->root, &c), &d->terr);
	for (i = 0; i < N_RANGES; i++) {
		key_of(starts[i], k);
		rc = bt_seek_ge(c, k, KEY_LEN);
		for (j = 0; j <= RANGE_STEPS && rc == RDB_OK; j++) {
			rdb_check("bt_key", bt_key(c, &kp, &kl), &d->terr);
			rdb_check("bt_value", bt_value(c, &vp, &vl), &d->terr);
			s += touch(kp, kl, vp, vl);
			n++;
			if (j < RANGE_STEPS)
				rc = bt_next(c);
		}
		if (rc != RDB_OK && rc != RDB_NOTFOUND)
			rdb_check("range scan", rc, &d->terr);
	}
	bt_cursor_close(c);
	pager_rollback(t);
	*n_out = n;
	*sum = s;
	return ms_since(t0);
}

static double rdb_delete(rdb_db *d, const uint32_t *keys, uint32_t n)
{
	unsigned char k[KEY_LEN];
	uint64_t t0 = now_ns();
	pager_txn *t = rdb_begin(d, 1);
	uint32_t i;

	for (i = 0; i < n; i++) {
		key_of(keys[i], k);
		rdb_check("bt_delete", bt_delete(t, d->root, k, KEY_LEN),
			  &d->terr);
	}
	rdb_commit(d, t);
	return ms_since(t0);
}

static void rdb_note_stats(rdb_db *d, const char *what)
{
	pager_txn *t = rdb_begin(d, 0);
	pager_stats ps;
	bt_stats st;

	rdb_check("bt_verify", bt_verify(t, d->root, NULL, &st), &d->terr);
	pager_rollback(t);
	pager_get_stats(d->p, &ps);
	printf("# rdb %s: %llu keys, depth %u, %u leaves (fill %.2f, min "
	       "%.2f), %u inner (fill %.2f); %u pages, %u free; spills %llu, "
	       "wal frames %llu, checkpoints %llu, syncs %llu\n", what,
	       (unsigned long long)st.keys, st.depth, st.leaves, st.leaf_fill,
	       st.leaf_fill_min, st.inners, st.inner_fill, ps.page_count,
	       ps.free_pages, (unsigned long long)ps.spills,
	       (unsigned long long)ps.wal_frames,
	       (unsigned long long)ps.checkpoints,
	       (unsigned long long)ps.syncs);
}

/* ---- LMDB ------------------------------------------------------------- */

typedef struct mdb_db {
	MDB_env *env;
	MDB_dbi dbi;
} mdb_db;

static void mdb_open_db(mdb_db *d, const char *path)
{
	MDB_txn *t;

	mdb_check("mdb_env_create", mdb_env_create(&d->env));
	mdb_check("mdb_env_set_mapsize", mdb_env_set_mapsize(d->env,
							     LMDB_MAP));
	mdb_check("mdb_env_open", mdb_env_open(d->env, path, MDB_NOSUBDIR,
					       0644));
	mdb_check("mdb_txn_begin", mdb_txn_begin(d->env, NULL, 0, &t));
	mdb_check("mdb_dbi_open", mdb_dbi_open(t, NULL, 0, &d->dbi));
	mdb_check("mdb_txn_commit", mdb_txn_commit(t));
}

static void mdb_close_db(mdb_db *d)
{
	mdb_check("mdb_env_sync", mdb_env_sync(d->env, 1));
	mdb_env_close(d->env);
	d->env = NULL;
}

static void mdb_remove(const char *path)
{
	char lock[256];

	snprintf(lock, sizeof(lock), "%s-lock", path);
	unlink(path);
	unlink(lock);
}

static double mdb_load(mdb_db *d, const uint32_t *keys, uint32_t n)
{
	unsigned char k[KEY_LEN], v[VAL_LEN];
	MDB_val kv = { KEY_LEN, k }, vv = { VAL_LEN, v };
	uint64_t t0 = now_ns();
	uint32_t i, id;
	MDB_txn *t;

	mdb_check("mdb_txn_begin", mdb_txn_begin(d->env, NULL, 0, &t));
	for (i = 0; i < n; i++) {
		id = keys != NULL ? keys[i] : i;
		key_of(id, k);
		val_of(id, v);
		mdb_check("mdb_put", mdb_put(t, d->dbi, &kv, &vv, 0));
	}
	mdb_check("mdb_txn_commit", mdb_txn_commit(t));
	return ms_since(t0);
}

static double mdb_get_all(mdb_db *d, const uint32_t *keys, uint32_t n)
{
	unsigned char k[KEY_LEN], want[VAL_LEN];
	MDB_val kv = { KEY_LEN, k }, vv;
	uint64_t t0 = now_ns();
	uint32_t i;
	MDB_txn *t;

	mdb_check("mdb_txn_begin", mdb_txn_begin(d->env, NULL, MDB_RDONLY,
						 &t));
	for (i = 0; i < n; i++) {
		key_of(keys[i], k);
		mdb_check("mdb_get", mdb_get(t, d->dbi, &kv, &vv));
		val_of(keys[i], want);
		if (vv.mv_size != VAL_LEN ||
		    memcmp(vv.mv_data, want, VAL_LEN) != 0)
			die("mdb_get", keys[i], "wrong value");
	}
	mdb_txn_abort(t);
	return ms_since(t0);
}

static double mdb_scan(mdb_db *d, uint64_t *n_out, uint64_t *sum)
{
	uint64_t t0 = now_ns(), n = 0, s = 0;
	MDB_val kv, vv;
	MDB_cursor *c;
	MDB_txn *t;
	int rc;

	mdb_check("mdb_txn_begin", mdb_txn_begin(d->env, NULL, MDB_RDONLY,
						 &t));
	mdb_check("mdb_cursor_open", mdb_cursor_open(t, d->dbi, &c));
	for (rc = mdb_cursor_get(c, &kv, &vv, MDB_FIRST); rc == MDB_SUCCESS;
	     rc = mdb_cursor_get(c, &kv, &vv, MDB_NEXT)) {
		s += touch(kv.mv_data, kv.mv_size, vv.mv_data, vv.mv_size);
		n++;
	}
	if (rc != MDB_NOTFOUND)
		mdb_check("mdb_cursor_get", rc);
	mdb_cursor_close(c);
	mdb_txn_abort(t);
	*n_out = n;
	*sum = s;
	return ms_since(t0);
}

static double mdb_ranges(mdb_db *d, const uint32_t *starts, uint64_t *n_out,
			 uint64_t *sum)
{
	unsigned char k[KEY_LEN];
	uint64_t t0 = now_ns(), n = 0, s = 0;
	MDB_val kv, vv;
	MDB_cursor *c;
	MDB_txn *t;
	uint32_t i, j;
	int rc;

	mdb_check("mdb_txn_begin", mdb_txn_begin(d->env, NULL, MDB_RDONLY,
						 &t));
	mdb_check("mdb_cursor_open", mdb_cursor_open(t, d->dbi, &c));
	for (i = 0; i < N_RANGES; i++) {
		key_of(starts[i], k);
		kv = (MDB_val){ KEY_LEN, k };
		rc = mdb_cursor_get(c, &kv, &vv, MDB_SET_RANGE);
		for (j = 0; j <= RANGE_STEPS && rc == MDB_SUCCESS; j++) {
			s += touch(kv.mv_data, kv.mv_size, vv.mv_data,
				   vv.mv_size);
			n++;
			if (j < RANGE_STEPS)
				rc = mdb_cursor_get(c, &kv, &vv, MDB_NEXT);
		}
		if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
			mdb_check("range scan", rc);
	}
	mdb_cursor_close(c);
	mdb_txn_abort(t);
	*n_out = n;
	*sum = s;
	return ms_since(t0);
}

static double mdb_delete(mdb_db *d, const uint32_t *keys, uint32_t n)
{
	unsigned char k[KEY_LEN];
	MDB_val kv = { KEY_LEN, k };
	uint64_t t0 = now_ns();
	uint32_t i;
	MDB_txn *t;

	mdb_check("mdb_txn_begin", mdb_txn_begin(d->env, NULL, 0, &t));
	for (i = 0; i < n; i++) {
		key_of(keys[i], k);
		mdb_check("mdb_del", mdb_del(t, d->dbi, &kv, NULL));
	}
	mdb_check("mdb_txn_commit", mdb_txn_commit(t));
	return ms_since(t0);
}

static void mdb_note_stats(mdb_db *d, const char *what)
{
	MDB_stat st;
	MDB_txn *t;

	mdb_check("mdb_txn_begin", mdb_txn_begin(d->env, NULL, MDB_RDONLY,
						 &t));
	mdb_check("mdb_stat", mdb_stat(t, d->dbi, &st));
	mdb_txn_abort(t);
	printf("# lmdb %s: %zu keys, depth %u, %zu leaves, %zu branch pages, "
	       "%zu overflow pages\n", what, st.ms_entries, st.ms_depth,
	       st.ms_leaf_pages, st.ms_branch_pages, st.ms_overflow_pages);
}

/* ---- rounds ----------------------------------------------------------- *
 * Every phase runs ROUNDS times; in each round the two engines take turns
 * (which goes first alternates), so that load from other processes hits
 * both alike.  The lines give the median round; '#' lines the spread. */

enum { P_SEQ, P_RND, P_GET, P_GETBUF, P_SEEK, P_SCAN, P_RANGE, P_DEL,
       N_PHASE };

static const char *const phase_names[N_PHASE] = {
	"sequential_insert", "random_insert", "random_get (bt_get)",
	"random_get (bt_get_buf)", "random_get (bt_seek_ge)", "full_scan",
	"range_scan", "random_delete"
};

typedef struct results {
	double rdb[N_PHASE][ROUNDS];
	double lmdb[N_PHASE][ROUNDS];
	uint64_t rdb_size, lmdb_size;   /* file_size, last round */
} results;

typedef struct keysets {
	const uint32_t *perm;     /* random_insert order */
	const uint32_t *gets;     /* random_get order */
	const uint32_t *dels;     /* random_delete: the first half */
	const uint32_t *starts;   /* range_scan: the first N_RANGES */
} keysets;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts a[0..ROUNDS) and returns its median. */
static double median(double *a)
{
	qsort(a, ROUNDS, sizeof(*a), cmp_double);
	return a[ROUNDS / 2];
}

/* Ascending keys into a fresh database of each engine. */
static void round_sequential(int k, results *res)
{
	rdb_db rd;
	mdb_db md;
	int i;

	unlink(RDB_SEQ);
	mdb_remove(LMDB_SEQ);
	rdb_create(&rd, RDB_SEQ);
	mdb_open_db(&md, LMDB_SEQ);
	for (i = 0; i < 2; i++) {
		if ((i + k) % 2 == 0)
			res->rdb[P_SEQ][k] = rdb_load(&rd, NULL, N_KEYS);
		else
			res->lmdb[P_SEQ][k] = mdb_load(&md, NULL, N_KEYS);
	}
	printf("# round %d: rdb sequential_insert commit %.0f ms\n", k + 1,
	       rd.commit_ms);
	if (k == 0) {
		rdb_note_stats(&rd, "after sequential_insert");
		mdb_note_stats(&md, "after sequential_insert");
	}
	rdb_close_db(&rd);
	mdb_close_db(&md);
	if (k == 0)
		printf("# file size after sequential_insert: rdb %llu, lmdb "
		       "%llu\n", (unsigned long long)file_size(RDB_SEQ),
		       (unsigned long long)file_size(LMDB_SEQ));
	unlink(RDB_SEQ);
	mdb_remove(LMDB_SEQ);
}

/* Shuffled keys into a fresh database of each engine; both are closed
 * (rdb's WAL checkpointed into its file) and their sizes taken. */
static void round_random_insert(int k, const keysets *ks, results *res)
{
	rdb_db rd;
	mdb_db md;
	int i;

	unlink(RDB_RND);
	mdb_remove(LMDB_RND);
	rdb_create(&rd, RDB_RND);
	mdb_open_db(&md, LMDB_RND);
	for (i = 0; i < 2; i++) {
		if ((i + k) % 2 == 0)
			res->rdb[P_RND][k] = rdb_load(&rd, ks->perm, N_KEYS);
		else
			res->lmdb[P_RND][k] = mdb_load(&md, ks->perm, N_KEYS);
	}
	printf("# round %d: rdb random_insert commit %.0f ms\n", k + 1,
	       rd.commit_ms);
	if (k == 0) {
		rdb_note_stats(&rd, "after random_insert");
		mdb_note_stats(&md, "after random_insert");
	}
	rdb_close_db(&rd);
	mdb_close_db(&md);
	res->rdb_size = file_size(RDB_RND);
	res->lmdb_size = file_size(LMDB_RND);
}

static double min2(double a, double b)
{
	return a < b ? a : b;
}

/* The scans take about 100 ms, short enough for a burst of outside load to
 * double one: each round keeps the best of SCAN_REPS alternating runs. */
static void round_scans(int k, rdb_db *rd, mdb_db *md, const keysets *ks,
			results *res)
{
	uint64_t rn, rs, ln, ls;
	double r_scan = 1e30, l_scan = 1e30, r_range = 1e30, l_range = 1e30;
	int i;

	for (i = 0; i < SCAN_REPS; i++) {
		r_scan = min2(r_scan, rdb_scan(rd, &rn, &rs));
		l_scan = min2(l_scan, mdb_scan(md, &ln, &ls));
		if (rn != N_KEYS || ln != N_KEYS || rs != ls)
			die("full_scan", 0, "the engines saw different data");
		r_range = min2(r_range, rdb_ranges(rd, ks->starts, &rn, &rs));
		l_range = min2(l_range, mdb_ranges(md, ks->starts, &ln, &ls));
		if (rn != ln || rs != ls)
			die("range_scan", 0, "the engines saw different data");
	}
	res->rdb[P_SCAN][k] = r_scan;
	res->lmdb[P_SCAN][k] = l_scan;
	res->rdb[P_RANGE][k] = r_range;
	res->lmdb[P_RANGE][k] = l_range;
}

/* The read phases on the reopened random databases, after one untimed
 * full scan of each so that both start from a warm cache. */
static void round_reads(int k, rdb_db *rd, mdb_db *md, const keysets *ks,
			results *res)
{
	uint64_t rn, rs, ln, ls;

	rdb_scan(rd, &rn, &rs);
	mdb_scan(md, &ln, &ls);
	if (k % 2 == 0) {
		res->rdb[P_GET][k] = rdb_get_all(rd, ks->gets, N_KEYS);
		res->rdb[P_GETBUF][k] = rdb_getbuf_all(rd, ks->gets, N_KEYS);
		res->rdb[P_SEEK][k] = rdb_seek_all(rd, ks->gets, N_KEYS);
		res->lmdb[P_GET][k] = mdb_get_all(md, ks->gets, N_KEYS);
	} else {
		res->lmdb[P_GET][k] = mdb_get_all(md, ks->gets, N_KEYS);
		res->rdb[P_SEEK][k] = rdb_seek_all(rd, ks->gets, N_KEYS);
		res->rdb[P_GETBUF][k] = rdb_getbuf_all(rd, ks->gets, N_KEYS);
		res->rdb[P_GET][k] = rdb_get_all(rd, ks->gets, N_KEYS);
	}
	res->lmdb[P_SEEK][k] = res->lmdb[P_GETBUF][k] = res->lmdb[P_GET][k];
	round_scans(k, rd, md, ks, res);
}

static void round_delete(int k, rdb_db *rd, mdb_db *md, const keysets *ks,
			 results *res)
{
	int i;

	for (i = 0; i < 2; i++) {
		if ((i + k) % 2 == 0)
			res->rdb[P_DEL][k] = rdb_delete(rd, ks->dels,
							N_KEYS / 2);
		else
			res->lmdb[P_DEL][k] = mdb_delete(md, ks->dels,
							 N_KEYS / 2);
	}
	printf("# round %d: rdb random_delete commit %.0f ms\n", k + 1,
	       rd->commit_ms);
	if (k == 0) {
		rdb_note_stats(rd, "after random_delete");
		mdb_note_stats(md, "after random_delete");
	}
}

static void round_run(int k, const keysets *ks, results *res)
{
	rdb_db rd;
	mdb_db md;

	round_sequential(k, res);
	round_random_insert(k, ks, res);
	rdb_open_db(&rd, RDB_RND);
	mdb_open_db(&md, LMDB_RND);
	round_reads(k, &rd, &md, ks, res);
	round_delete(k, &rd, &md, ks, res);
	rdb_close_db(&rd);
	mdb_close_db(&md);
	unlink(RDB_RND);
	mdb_remove(LMDB_RND);
}

/* Medians into the result lines; min / median / max as '#' lines. */
static void report(results *res)
{
	double r[N_PHASE], l[N_PHASE];
	int p;

	for (p = 0; p < N_PHASE; p++) {
		r[p] = median(res->rdb[p]);
		l[p] = median(res->lmdb[p]);
		printf("# %s over %d rounds, ms: rdb %.0f / %.0f / %.0f, lmdb "
		       "%.0f / %.0f / %.0f (min / median / max)\n",
		       phase_names[p], ROUNDS, res->rdb[p][0], r[p],
		       res->rdb[p][ROUNDS - 1], res->lmdb[p][0], l[p],
		       res->lmdb[p][ROUNDS - 1]);
	}
	line("sequential_insert", r[P_SEQ], l[P_SEQ], "ms");
	line("random_insert", r[P_RND], l[P_RND], "ms");
	line("file_size", (double)res->rdb_size, (double)res->lmdb_size,
	     "bytes");
	line("random_get", min2(r[P_GET], min2(r[P_GETBUF], r[P_SEEK])),
	     l[P_GET], "ms");
	line("full_scan", r[P_SCAN], l[P_SCAN], "ms");
	line("range_scan", r[P_RANGE], l[P_RANGE], "ms");
	line("random_delete", r[P_DEL], l[P_DEL], "ms");
}

int main(void)
{
	uint32_t *perm = shuffled(N_KEYS, 1), *gets = shuffled(N_KEYS, 2);
	uint32_t *dels = shuffled(N_KEYS, 3), *starts = shuffled(N_KEYS, 4);
	keysets ks = { perm, gets, dels, starts };
	uint64_t t0 = now_ns();
	results res;
	int k;

	printf("# bench_btree: %u keys of %u bytes, values of %u bytes, "
	       "pages of %u bytes; rdb FULL sync, %u cache pages; lmdb "
	       "default sync, no WRITEMAP; %d rounds (scans: best of %d "
	       "per round)\n", N_KEYS, KEY_LEN, VAL_LEN, PAGE, RDB_CACHE,
	       ROUNDS, SCAN_REPS);
	memset(&res, 0, sizeof(res));
	for (k = 0; k < ROUNDS; k++)
		round_run(k, &ks, &res);
	report(&res);
	printf("# total %.1f s\n", ms_since(t0) / 1000);
	free(perm);
	free(gets);
	free(dels);
	free(starts);
	return 0;
}
