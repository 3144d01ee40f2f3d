/*
 * check_btree_fault.c -- the B+ tree under injected faults: randomized
 * crash, power-loss and torn-write trials while splits and merges are in
 * progress, and an allocation failure at every allocation of a fixed
 * workload; a second tree in the same file is built, dropped and rebuilt
 * meanwhile.  Every reopened database is checked against a model of the
 * committed key -> value state (see "model" below) with bt_verify, full
 * scans and a page census (tree pages + free list = every page, once).
 *
 * Replay: RDB_TEST_SEED=<base seed> reruns the same crash trials;
 * RDB_BTREE_FAULT_TRIAL=<i> runs only trial i of them.
 * Contracts under test: src/btree/btree.h, src/pager/pager.h, os.h.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "btree/btree.h"
#include "pager/pager.h"
#include "pager/os.h"
#include "mem.h"
#include "test_util.h"

#define PS 512u               /* page size of every test database */
#define DB "btfault.db"
#define NKEYS 2048u           /* keys are named by ids 0 .. NKEYS-1 */
#define KEY_BUF 256u          /* longest key the tests build */
#define VAL_MAX 12000u        /* longest value the tests build */
#define ABSENT UINT32_MAX     /* ent.vlen of a key that is not there */
#define ANCHOR_ROOT 0u        /* the tree's root page, 0 = no tree */
#define ANCHOR_COMMIT 1u      /* number of the commit that made the state */
#define ANCHOR_AUX 2u         /* a second tree's root page, 0 = none */
#define AUX_MAX 200u          /* keys of the second tree */
#define FIXED_SEED 0xb7ee5eedull

/* ---- keys and values ------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static uint32_t below(uint64_t *rng, uint64_t n)
{
	return (uint32_t)tu_rand_below(rng, n);
}

/* The key of id: pre bytes common to every key of the database (a long
 * common prefix makes long separators, hence low fan-out and deep trees
 * with few keys), the id as 4 big-endian bytes (so that keys sort as ids
 * do), then 0..20 bytes of filler from a hash of id; every 17th id has the
 * longest key the page size allows. */
static size_t key_of(size_t max_key, size_t pre, uint32_t id,
		     unsigned char *buf)
{
	uint64_t h = mix64(id ^ 0x6b657900000000ull);
	size_t n = id % 17 == 7 ? max_key : pre + 4 + (size_t)(h % 21), i;

	memset(buf, 0x70, pre);
	buf[pre] = (unsigned char)(id >> 24);
	buf[pre + 1] = (unsigned char)(id >> 16);
	buf[pre + 2] = (unsigned char)(id >> 8);
	buf[pre + 3] = (unsigned char)id;
	for (i = pre + 4; i < n; i++)
		buf[i] = (unsigned char)(h >> (i % 8 * 8));
	return n;
}

/* The id in a key, for messages; UINT32_MAX if the key is short. */
static uint32_t key_id(size_t pre, const void *key, size_t klen)
{
	const unsigned char *k = (const unsigned char *)key + pre;

	if (klen < pre + 4)
		return UINT32_MAX;
	return (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 |
	       (uint32_t)k[2] << 8 | k[3];
}

/* The bytes of the value written with seed vseed. */
static void val_fill(unsigned char *buf, uint32_t vseed, uint32_t len)
{
	uint64_t s = mix64(0x76616c00000000ull | vseed) | 1, w = 0;
	uint32_t i;

	for (i = 0; i < len; i++) {
		if (i % 8 == 0)
			w = tu_rand(&s);
		buf[i] = (unsigned char)(w >> (i % 8 * 8));
	}
}

/* Mostly short values, some around a page, 1 in 20 on overflow pages. */
static uint32_t pick_vlen(uint64_t *rng)
{
	uint32_t c = below(rng, 100);

	if (c < 3)
		return 0;
	if (c < 78)
		return 1 + below(rng, 40);
	if (c < 95)
		return 40 + below(rng, 460);
	if (c < 99)
		return 500 + below(rng, 3000);
	return 4000 + below(rng, VAL_MAX - 4000);
}

/* ---- model ----------------------------------------------------------- *
 * The working state of the open transaction (which ids hold which value)
 * and a snapshot of the whole state after every commit k that was called.
 * A reopened database whose anchor 1 is K must equal snapshot K exactly. */

typedef struct ent {
	uint32_t vlen;        /* ABSENT if the key is not in the tree */
	uint32_t vseed;       /* its bytes: val_fill(vseed, vlen) */
} ent;

typedef struct kvstate {
	rdb_pgno root;        /* 0 = no tree */
	uint32_t n;           /* keys present */
	rdb_pgno aux_root;    /* the second tree, 0 = none */
	uint32_t aux_gen;     /* its keys 0 .. aux_n-1 hold aux_val(gen, i) */
	uint32_t aux_n;
	ent e[NKEYS];
} kvstate;

enum { SNAP_NONE = 0, SNAP_ATTEMPTED, SNAP_COMMITTED };

typedef struct snap {
	kvstate st;
	int state;            /* SNAP_* */
} snap;

typedef struct model {
	kvstate cur;          /* working state */
	snap *snaps;          /* owned; [k] = state after commit k */
	uint32_t n_snaps;
	uint32_t base;        /* committed state cur extends */
	uint32_t next_k;      /* number of the next commit */
	uint32_t last_ok;     /* last commit that returned RDB_OK */
	uint32_t last_try;    /* last commit that was called */
	uint32_t vseed;       /* seed of the last value made */
} model;

static void state_clear(kvstate *s, rdb_pgno root)
{
	uint32_t i;

	s->root = root;
	s->n = 0;
	s->aux_root = 0;
	s->aux_gen = s->aux_n = 0;
	for (i = 0; i < NKEYS; i++)
		s->e[i] = (ent){ ABSENT, 0 };
}

static void model_init(model *m)
{
	memset(m, 0, sizeof(*m));
	m->n_snaps = 16;
	m->snaps = calloc(m->n_snaps, sizeof(snap));
	ck_assert_ptr_nonnull(m->snaps);
	state_clear(&m->cur, 0);
	m->snaps[0].st = m->cur;
	m->snaps[0].state = SNAP_COMMITTED;
	m->next_k = 1;
}

static void model_free(model *m)
{
	free(m->snaps);
	m->snaps = NULL;
}

static int present(const kvstate *s, uint32_t id)
{
	return s->e[id].vlen != ABSENT;
}

static void model_put(kvstate *s, uint32_t id, ent v)
{
	if (!present(s, id))
		s->n++;
	s->e[id] = v;
}

static void model_del(kvstate *s, uint32_t id)
{
	if (present(s, id))
		s->n--;
	s->e[id].vlen = ABSENT;
}

/* The first present id >= id, NKEYS if none. */
static uint32_t model_next(const kvstate *s, uint32_t id)
{
	while (id < NKEYS && !present(s, id))
		id++;
	return id;
}

/* The last present id <= id, UINT32_MAX if none. */
static uint32_t model_prev(const kvstate *s, uint32_t id)
{
	if (id >= NKEYS)
		id = NKEYS - 1;
	for (;;) {
		if (present(s, id))
			return id;
		if (id-- == 0)
			return UINT32_MAX;
	}
}

static void model_record(model *m, uint32_t k, int state)
{
	if (k >= m->n_snaps) {
		m->snaps = realloc(m->snaps, 2 * k * sizeof(snap));
		ck_assert_ptr_nonnull(m->snaps);
		memset(m->snaps + m->n_snaps, 0,
		       (2 * k - m->n_snaps) * sizeof(snap));
		m->n_snaps = 2 * k;
	}
	m->snaps[k].st = m->cur;
	m->snaps[k].state = state;
}

/* After a reopen at state K: go on from there. */
static void model_resume(model *m, uint32_t K)
{
	m->cur = m->snaps[K].st;
	m->base = m->last_ok = m->last_try = K;
	m->next_k = K + 1;
}

/* ---- real files without fsync, for the allocation-failure loop ------ *
 * Forwards every call to os_unix_vfs() except sync and sync_dir, which do
 * nothing: that loop checks allocation failures, not durability, and a
 * thousand rounds of fsyncs would make it slow.  (The in-memory vfs would
 * not do: it allocates through rdb_malloc, and its failed syncs would
 * break the pager before the tree is reached.)  Its own structs come from
 * malloc, so that rdb_mem_fail_at() hits only the pager and the tree. */

typedef struct nosync_file {
	os_file base;
	os_file *in;          /* owned; the os_unix file */
} nosync_file;

static os_file *ns_in(os_file *f)
{
	return ((nosync_file *)f)->in;
}

static rdb_rc ns_read(os_file *f, uint64_t off, void *buf, size_t n,
		      size_t *got, rdb_err *err)
{
	return os_read(ns_in(f), off, buf, n, got, err);
}

static rdb_rc ns_write(os_file *f, uint64_t off, const void *buf, size_t n,
		       rdb_err *err)
{
	return os_write(ns_in(f), off, buf, n, err);
}

static rdb_rc ns_sync(os_file *f, rdb_err *err)
{
	(void)f;
	(void)err;
	return RDB_OK;
}

static rdb_rc ns_truncate(os_file *f, uint64_t size, rdb_err *err)
{
	return os_truncate(ns_in(f), size, err);
}

static rdb_rc ns_size(os_file *f, uint64_t *out, rdb_err *err)
{
	return os_size(ns_in(f), out, err);
}

static rdb_rc ns_lock(os_file *f, rdb_err *err)
{
	return os_lock(ns_in(f), err);
}

static void ns_close(os_file *f)
{
	if (f == NULL)
		return;
	os_close(ns_in(f));
	free(f);
}

static const os_file_methods ns_methods = {
	ns_read, ns_write, ns_sync, ns_truncate, ns_size, ns_lock, ns_close
};

static rdb_rc ns_open(os_vfs *v, const char *path, int flags, os_file **out,
		      rdb_err *err)
{
	os_vfs *u = os_unix_vfs();
	nosync_file *f = malloc(sizeof(*f));
	rdb_rc rc;

	(void)v;
	*out = NULL;
	ck_assert_ptr_nonnull(f);
	f->base.m = &ns_methods;
	rc = u->open(u, path, flags, &f->in, err);
	if (rc != RDB_OK) {
		free(f);
		return rc;
	}
	*out = &f->base;
	return RDB_OK;
}

static rdb_rc ns_remove(os_vfs *v, const char *path, rdb_err *err)
{
	(void)v;
	return os_unix_vfs()->remove(os_unix_vfs(), path, err);
}

static rdb_rc ns_exists(os_vfs *v, const char *path, int *out, rdb_err *err)
{
	(void)v;
	return os_unix_vfs()->exists(os_unix_vfs(), path, out, err);
}

static rdb_rc ns_sync_dir(os_vfs *v, const char *path, rdb_err *err)
{
	(void)v;
	(void)path;
	(void)err;
	return RDB_OK;
}

static os_vfs nosync_vfs = { ns_open, ns_remove, ns_exists, ns_sync_dir };

/* ---- rig: one vfs, one pager, one tree, one model -------------------- */

typedef enum rig_mode {
	MODE_CLEAN,   /* no fault: every error is a failure */
	MODE_CRASH,   /* CRASH / POWERLOSS / TORN: errors are RDB_IOERR */
	MODE_MEM      /* one allocation fails: the error is RDB_NOMEM */
} rig_mode;

typedef struct rig {
	os_vfs *vfs;          /* owned if in memory; else &nosync_vfs */
	char path[256];       /* the database's name in vfs */
	int on_disk;          /* vfs is &nosync_vfs */
	pager *p;             /* owned */
	pager_opts opts;
	rdb_err err;          /* pager_open()'s; outlives p */
	rdb_err terr;         /* the current transaction's */
	model m;
	uint64_t rng;         /* drives the workload */
	rig_mode mode;
	rdb_rc first_rc;      /* first error returned, RDB_OK if none */
	const char *first_op;
	size_t max_key;
	size_t kpre;          /* bytes of the prefix common to all keys */
	bt_stats vstats;      /* of the last rig_verify() */
	char ctx[320];        /* how to replay, for failure messages */
	unsigned char kbuf[KEY_BUF], kbuf2[KEY_BUF];
	unsigned char vbuf[VAL_MAX], vbuf2[VAL_MAX];
} rig;

static void rig_fail(const rig *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void rig_fail(const rig *r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ck_abort_msg("%s [%s; first error: %s %d; pager err '%s'; txn err "
		     "'%s']", msg, r->ctx, r->first_op ? r->first_op : "none",
		     r->first_rc, r->err.msg, r->terr.msg);
}

#define RIG_CHECK(r, cond, ...) \
	do { \
		if (!(cond)) \
			rig_fail((r), __VA_ARGS__); \
	} while (0)

static void rig_init(rig *r, rig_mode mode, uint32_t cache, uint32_t ckpt,
		     uint64_t seed)
{
	memset(r, 0, sizeof(*r));
	if (mode == MODE_MEM) {
		r->vfs = &nosync_vfs;
		r->on_disk = 1;
		tu_tmp_path(r->path, sizeof(r->path));
	} else {
		r->vfs = os_mem_new();
		ck_assert_ptr_nonnull(r->vfs);
		snprintf(r->path, sizeof(r->path), "%s", DB);
	}
	pager_opts_default(&r->opts);
	r->opts.page_size = PS;
	r->opts.cache_pages = cache;
	r->opts.ckpt_frames = ckpt;
	r->opts.sync = PAGER_SYNC_FULL;
	r->opts.create = 1;
	r->mode = mode;
	r->rng = mix64(seed) | 1;
	r->max_key = bt_max_key(PS);
	if (r->max_key > KEY_BUF)
		r->max_key = KEY_BUF;
	ck_assert_uint_ge(r->max_key, 64);
	model_init(&r->m);
}

static void rig_done(rig *r)
{
	(void)pager_close(r->p);
	r->p = NULL;
	if (r->on_disk)
		tu_unlink_db(r->path);
	else
		os_mem_free(r->vfs);
	r->vfs = NULL;
	model_free(&r->m);
}

static int rig_fired(const rig *r)
{
	if (r->mode == MODE_CRASH)
		return os_mem_fault_fired(r->vfs);
	return r->mode == MODE_MEM && rdb_mem_failed();
}

/*
 * A call failed with rc: that needs an injected fault that has fired, and
 * the code of that fault.  Returns rc.
 */
static rdb_rc rig_err(rig *r, const char *op, rdb_rc rc)
{
	rdb_rc want = r->mode == MODE_CRASH ? RDB_IOERR : RDB_NOMEM;

	RIG_CHECK(r, rc != RDB_OK, "%s: rig_err(RDB_OK)", op);
	RIG_CHECK(r, rig_fired(r), "%s failed with %d (%s) though no fault "
		  "was injected yet", op, rc, rdb_errstr(rc));
	RIG_CHECK(r, rc == want, "%s failed with %d (%s): not the code of the "
		  "injected fault (%s)", op, rc, rdb_errstr(rc),
		  rdb_errstr(want));
	if (r->first_rc == RDB_OK) {
		r->first_rc = rc;
		r->first_op = op;
	}
	return rc;
}

/* rc from op on key id, for which the model predicts want (RDB_OK,
 * RDB_NOTFOUND or RDB_CONSTRAINT).  RDB_OK if rc is want, rc if it is the
 * injected fault's error; any other outcome fails the test. */
static rdb_rc expect(rig *r, const char *op, uint32_t id, rdb_rc rc,
		     rdb_rc want)
{
	if (rc == want)
		return RDB_OK;
	if (rc != RDB_OK && rc != RDB_NOTFOUND && rc != RDB_CONSTRAINT)
		return rig_err(r, op, rc);
	rig_fail(r, "%s of key %u returned %d (%s); the model says %d (%s)",
		 op, id, rc, rdb_errstr(rc), want, rdb_errstr(want));
	return rc;
}

static rdb_rc rig_open(rig *r)
{
	pager *p = (pager *)r;     /* must come back NULL on failure */
	rdb_rc rc = pager_open(r->vfs, r->path, &r->opts, &r->err, &p);

	RIG_CHECK(r, rc == RDB_OK || p == NULL, "pager_open failed with %d "
		  "but left *out set", rc);
	r->p = rc == RDB_OK ? p : NULL;
	return rc;
}

static void rig_close_ok(rig *r)
{
	rdb_rc rc = pager_close(r->p);

	r->p = NULL;
	RIG_CHECK(r, rc == RDB_OK, "fault-free pager_close failed with %d (%s)",
		  rc, rdb_errstr(rc));
}

/* Simulate a reboot (in memory) and reopen without faults. */
static void rig_reopen(rig *r)
{
	rdb_rc rc;

	if (!r->on_disk)
		os_mem_restart(r->vfs);
	rc = rig_open(r);
	RIG_CHECK(r, rc == RDB_OK, "reopen failed with %d (%s)", rc,
		  rdb_errstr(rc));
}

/* ---- checking a cursor against the model ----------------------------- */

/* 0 if (v, vlen) is the value e; else 1 and what differs in why. */
static int val_differs(rig *r, ent e, const void *v, size_t vlen,
		       char *why, size_t n)
{
	size_t i;

	if (vlen != e.vlen) {
		snprintf(why, n, "value of %zu bytes, want %u", vlen, e.vlen);
		return 1;
	}
	val_fill(r->vbuf2, e.vseed, e.vlen);
	if (vlen == 0 || memcmp(v, r->vbuf2, vlen) == 0)
		return 0;
	for (i = 0; ((const unsigned char *)v)[i] == r->vbuf2[i]; i++)
		;
	snprintf(why, n, "value of %zu bytes differs at byte %zu", vlen, i);
	return 1;
}

/* The cursor must be on key id (NKEYS: the model has no key there). */
static rdb_rc check_key(rig *r, bt_cursor *c, uint32_t id, const char *what)
{
	const void *k = NULL;
	size_t kl = 0, want;
	rdb_rc rc = bt_key(c, &k, &kl);

	if (rc != RDB_OK)
		return rig_err(r, "bt_key", rc);
	RIG_CHECK(r, id < NKEYS, "%s: cursor on key %u (%zu bytes); the model "
		  "has no key there", what, key_id(r->kpre, k, kl), kl);
	want = key_of(r->max_key, r->kpre, id, r->kbuf2);
	RIG_CHECK(r, kl == want && memcmp(k, r->kbuf2, kl) == 0, "%s: cursor "
		  "on key %u (%zu bytes); the model says key %u (%zu bytes)",
		  what, key_id(r->kpre, k, kl), kl, id, want);
	return RDB_OK;
}

/* The cursor must be on key id of s, with its value; 1 in 4 overflow-size
 * values is also read in pieces through bt_value_read. */
static rdb_rc check_at(rig *r, bt_cursor *c, const kvstate *s, uint32_t id,
		       const char *what)
{
	const void *v = NULL;
	size_t vl = 0, off, n;
	char why[128];
	rdb_rc rc = check_key(r, c, id, what);

	if (rc != RDB_OK)
		return rc;
	rc = bt_value(c, &v, &vl);
	if (rc != RDB_OK)
		return rig_err(r, "bt_value", rc);
	if (val_differs(r, s->e[id], v, vl, why, sizeof(why)))
		rig_fail(r, "%s: key %u: %s", what, id, why);
	if (vl < PS || below(&r->rng, 4) != 0)
		return RDB_OK;
	off = below(&r->rng, vl);
	n = 1 + below(&r->rng, vl - off);
	rc = bt_value_read(c, off, r->vbuf, n);
	if (rc != RDB_OK)
		return rig_err(r, "bt_value_read", rc);
	RIG_CHECK(r, memcmp(r->vbuf, r->vbuf2 + off, n) == 0, "%s: key %u: "
		  "bt_value_read(%zu, %zu) differs from the value", what, id,
		  off, n);
	return RDB_OK;
}

static rdb_rc cursor_open(rig *r, pager_txn *t, rdb_pgno root,
			  bt_cursor **c)
{
	rdb_rc rc;

	*c = (bt_cursor *)r;       /* must come back NULL on failure */
	rc = bt_cursor_open(t, root, c);
	if (rc == RDB_OK)
		return RDB_OK;
	RIG_CHECK(r, *c == NULL, "failed bt_cursor_open left *out set");
	return rig_err(r, "bt_cursor_open", rc);
}

/* ---- operations of a write transaction ------------------------------- */

static const char *const put_names[] = { "bt_insert", "bt_upsert",
					 "bt_update" };

/* Give id a fresh value through bt_insert (how 0), bt_upsert (1) or
 * bt_update (2), as the model predicts. */
static rdb_rc put_key(rig *r, pager_txn *t, uint32_t id, int how)
{
	int had = present(&r->m.cur, id), replaced = -1;
	ent v = { pick_vlen(&r->rng), ++r->m.vseed };
	size_t klen = key_of(r->max_key, r->kpre, id, r->kbuf);
	rdb_pgno root = r->m.cur.root;
	rdb_rc rc, want = RDB_OK;

	val_fill(r->vbuf, v.vseed, v.vlen);
	if (how == 0) {
		rc = bt_insert(t, root, r->kbuf, klen, r->vbuf, v.vlen);
		want = had ? RDB_CONSTRAINT : RDB_OK;
	} else if (how == 1) {
		rc = bt_upsert(t, root, r->kbuf, klen, r->vbuf, v.vlen,
			       &replaced);
	} else {
		rc = bt_update(t, root, r->kbuf, klen, r->vbuf, v.vlen);
		want = had ? RDB_OK : RDB_NOTFOUND;
	}
	rc = expect(r, put_names[how], id, rc, want);
	if (rc != RDB_OK || want != RDB_OK)
		return rc;
	RIG_CHECK(r, how != 1 || replaced == had, "bt_upsert of key %u says "
		  "replaced=%d; the key was %s", id, replaced,
		  had ? "there" : "missing");
	model_put(&r->m.cur, id, v);
	return RDB_OK;
}

/* Put id through a cursor, which must be left on it. */
static rdb_rc put_cursor(rig *r, bt_cursor *c, uint32_t id)
{
	ent v = { pick_vlen(&r->rng), ++r->m.vseed };
	size_t klen = key_of(r->max_key, r->kpre, id, r->kbuf);
	rdb_rc rc;

	val_fill(r->vbuf, v.vseed, v.vlen);
	rc = bt_cursor_put(c, r->kbuf, klen, r->vbuf, v.vlen);
	if (rc != RDB_OK)
		return rig_err(r, "bt_cursor_put", rc);
	model_put(&r->m.cur, id, v);
	return check_at(r, c, &r->m.cur, id, "after bt_cursor_put");
}

static rdb_rc del_key(rig *r, pager_txn *t, uint32_t id)
{
	size_t klen = key_of(r->max_key, r->kpre, id, r->kbuf);
	rdb_rc rc = bt_delete(t, r->m.cur.root, r->kbuf, klen);

	rc = expect(r, "bt_delete", id, rc,
		    present(&r->m.cur, id) ? RDB_OK : RDB_NOTFOUND);
	if (rc == RDB_OK)
		model_del(&r->m.cur, id);
	return rc;
}

/* Look id up with bt_get. */
static rdb_rc get_key(rig *r, pager_txn *t, const kvstate *s, uint32_t id)
{
	size_t klen = key_of(r->max_key, r->kpre, id, r->kbuf), vl = 0;
	void *v = NULL;
	char why[128];
	rdb_rc rc = bt_get(t, s->root, r->kbuf, klen, &v, &vl);

	rc = expect(r, "bt_get", id, rc,
		    present(s, id) ? RDB_OK : RDB_NOTFOUND);
	if (rc != RDB_OK || !present(s, id)) {
		RIG_CHECK(r, v == NULL, "failed bt_get left *val set");
		return rc;
	}
	RIG_CHECK(r, v != NULL, "bt_get of key %u gave a NULL value", id);
	if (val_differs(r, s->e[id], v, vl, why, sizeof(why))) {
		rdb_free(v);
		rig_fail(r, "bt_get of key %u: %s", id, why);
	}
	rdb_free(v);
	return RDB_OK;
}

/* bt_seek_ge (or, with le, bt_seek_le) to id: the cursor must land on the
 * model's next (previous) key, or report RDB_NOTFOUND if there is none. */
static rdb_rc seek_key(rig *r, bt_cursor *c, const kvstate *s, uint32_t id,
		       int le)
{
	size_t klen = key_of(r->max_key, r->kpre, id, r->kbuf);
	uint32_t want = le ? model_prev(s, id) : model_next(s, id);
	int none = le ? want == UINT32_MAX : want == NKEYS;
	rdb_rc rc = le ? bt_seek_le(c, r->kbuf, klen) :
			 bt_seek_ge(c, r->kbuf, klen);

	if (rc == RDB_NOTFOUND) {
		RIG_CHECK(r, none, "%s to key %u: not found; the model has key "
			  "%u", le ? "bt_seek_le" : "bt_seek_ge", id, want);
		RIG_CHECK(r, !bt_valid(c), "cursor positioned after "
			  "RDB_NOTFOUND");
		return RDB_OK;
	}
	if (rc != RDB_OK)
		return rig_err(r, le ? "bt_seek_le" : "bt_seek_ge", rc);
	return check_at(r, c, s, none ? NKEYS : want,
			le ? "bt_seek_le" : "bt_seek_ge");
}

/* ---- batches of operations ------------------------------------------- */

/* The id of step i of a run from lo: ascending, descending, random or by
 * a stride of 2..5. */
static uint32_t run_id(rig *r, uint32_t order, uint32_t lo, uint32_t i)
{
	switch (order) {
	case 0:
		return (lo + i) % NKEYS;
	case 1:
		return (lo + NKEYS - i % NKEYS) % NKEYS;
	case 2:
		return below(&r->rng, NKEYS);
	default:
		return (lo + i * (2 + lo % 4)) % NKEYS;
	}
}

/* Put 10..200 keys in one of four orders through one of four calls. */
static rdb_rc batch_insert(rig *r, pager_txn *t)
{
	uint32_t count = 10 + below(&r->rng, 191), lo = below(&r->rng, NKEYS);
	uint32_t order = below(&r->rng, 4), how = below(&r->rng, 4), i, id;
	bt_cursor *c = NULL;
	rdb_rc rc = RDB_OK;

	if (how == 3)
		rc = cursor_open(r, t, r->m.cur.root, &c);
	for (i = 0; i < count && rc == RDB_OK; i++) {
		id = run_id(r, order, lo, i);
		rc = how == 3 ? put_cursor(r, c, id) :
				put_key(r, t, id, how == 2 ? 1 : (int)how);
	}
	bt_cursor_close(c);
	return rc;
}

/* Delete the keys of [lo, hi) through a cursor: seek to lo, then
 * bt_cursor_delete until the cursor leaves the range. */
static rdb_rc del_range_cursor(rig *r, pager_txn *t, uint32_t lo,
			       uint32_t hi)
{
	size_t klen = key_of(r->max_key, r->kpre, lo, r->kbuf);
	uint32_t id = model_next(&r->m.cur, lo);
	bt_cursor *c;
	rdb_rc rc = cursor_open(r, t, r->m.cur.root, &c);

	if (rc != RDB_OK)
		return rc;
	rc = bt_seek_ge(c, r->kbuf, klen);
	while (rc == RDB_OK) {
		rc = check_key(r, c, id, "bt_seek_ge/bt_cursor_delete");
		if (rc != RDB_OK || id >= hi)
			break;
		rc = bt_cursor_delete(c);
		if (rc == RDB_OK || rc == RDB_NOTFOUND) {
			model_del(&r->m.cur, id);
			id = model_next(&r->m.cur, id + 1);
		}
	}
	if (rc == RDB_NOTFOUND) {
		RIG_CHECK(r, id == NKEYS, "cursor at the end of the tree; the "
			  "model still has key %u", id);
		rc = RDB_OK;
	} else if (rc != RDB_OK) {
		rc = rig_err(r, "bt_seek_ge/bt_cursor_delete", rc);
	}
	bt_cursor_close(c);
	return rc;
}

/* Delete the keys of [lo, hi) one by one, ascending or descending; 1 in 8
 * missing keys is deleted too (RDB_NOTFOUND). */
static rdb_rc del_range_keys(rig *r, pager_txn *t, uint32_t lo, uint32_t hi,
			     int down)
{
	uint32_t i, id;
	rdb_rc rc = RDB_OK;

	for (i = 0; i < hi - lo && rc == RDB_OK; i++) {
		id = down ? hi - 1 - i : lo + i;
		if (present(&r->m.cur, id) || below(&r->rng, 8) == 0)
			rc = del_key(r, t, id);
	}
	return rc;
}

/* Delete a range of 10..500 ids, or 1 time in 6 nearly every key, so that
 * leaves merge and the tree loses height. */
static rdb_rc batch_delete(rig *r, pager_txn *t)
{
	uint32_t lo, hi, how = below(&r->rng, 3);

	if (below(&r->rng, 6) == 0) {
		lo = below(&r->rng, 20);
		hi = NKEYS - below(&r->rng, 20);
	} else {
		lo = below(&r->rng, NKEYS);
		hi = lo + 10 + below(&r->rng, 491);
		if (hi > NKEYS)
			hi = NKEYS;
	}
	if (how == 2)
		return del_range_cursor(r, t, lo, hi);
	return del_range_keys(r, t, lo, hi, (int)how);
}

/* Delete 5..80 keys picked at random (mostly present ones). */
static rdb_rc batch_scatter_delete(rig *r, pager_txn *t)
{
	uint32_t n = 5 + below(&r->rng, 76), i, id;
	rdb_rc rc = RDB_OK;

	for (i = 0; i < n && rc == RDB_OK; i++) {
		id = model_next(&r->m.cur, below(&r->rng, NKEYS));
		if (id == NKEYS || below(&r->rng, 10) == 0)
			id = below(&r->rng, NKEYS);
		rc = del_key(r, t, id);
	}
	return rc;
}

/* Give 5..40 keys new values (small ones and overflow ones) with
 * bt_update; 1 in 10 targets a missing key (RDB_NOTFOUND). */
static rdb_rc batch_update(rig *r, pager_txn *t)
{
	uint32_t n = 5 + below(&r->rng, 36), i, id;
	rdb_rc rc = RDB_OK;

	for (i = 0; i < n && rc == RDB_OK; i++) {
		id = model_next(&r->m.cur, below(&r->rng, NKEYS));
		if (id == NKEYS || below(&r->rng, 10) == 0)
			id = below(&r->rng, NKEYS);
		rc = put_key(r, t, id, 2);
	}
	return rc;
}

/* 10..30 lookups by bt_get, bt_seek_ge and bt_seek_le. */
static rdb_rc batch_read(rig *r, pager_txn *t)
{
	uint32_t n = 10 + below(&r->rng, 21), i, id, how;
	bt_cursor *c;
	rdb_rc rc = cursor_open(r, t, r->m.cur.root, &c);

	for (i = 0; i < n && rc == RDB_OK; i++) {
		id = below(&r->rng, NKEYS);
		how = below(&r->rng, 3);
		rc = how == 0 ? get_key(r, t, &r->m.cur, id) :
				seek_key(r, c, &r->m.cur, id, how == 2);
	}
	bt_cursor_close(c);
	return rc;
}

/* ---- the second tree ------------------------------------------------ *
 * Built, dropped and rebuilt whole, so that pages move between two trees
 * through the free list, and the overlap check of bt_verify covers two
 * trees in one file.  Its keys are ids 0 .. aux_n-1; 1 in 5 values is on
 * overflow pages. */

static ent aux_val(uint32_t gen, uint32_t i)
{
	uint64_t h = mix64((uint64_t)gen << 32 | i);
	uint32_t x = (uint32_t)(h >> 8);
	ent v = { h % 5 == 0 ? 600 + x % 2500 : x % 60,
		  0x80000000u | gen << 8 | i };

	return v;
}

/* Create the second tree and fill it with n keys of generation gen. */
static rdb_rc aux_build(rig *r, pager_txn *t, uint32_t n, uint32_t gen)
{
	rdb_pgno root = 0;
	uint32_t i;
	size_t klen;
	ent v;
	rdb_rc rc = bt_create(t, &root);

	if (rc != RDB_OK)
		return rig_err(r, "bt_create (second tree)", rc);
	r->m.cur.aux_root = root;
	r->m.cur.aux_gen = gen;
	r->m.cur.aux_n = n;
	for (i = 0; i < n && rc == RDB_OK; i++) {
		klen = key_of(r->max_key, r->kpre, i, r->kbuf);
		v = aux_val(gen, i);
		val_fill(r->vbuf, v.vseed, v.vlen);
		rc = expect(r, "bt_insert (second tree)", i,
			    bt_insert(t, root, r->kbuf, klen, r->vbuf, v.vlen),
			    RDB_OK);
	}
	return rc;
}

static rdb_rc aux_drop(rig *r, pager_txn *t)
{
	rdb_rc rc = bt_drop(t, r->m.cur.aux_root);

	if (rc != RDB_OK)
		return rig_err(r, "bt_drop (second tree)", rc);
	r->m.cur.aux_root = 0;
	r->m.cur.aux_n = 0;
	return RDB_OK;
}

/* Build the second tree if there is none; else drop it, and half the
 * time build a new generation in the same transaction. */
static rdb_rc batch_aux(rig *r, pager_txn *t)
{
	uint32_t n = 1 + below(&r->rng, AUX_MAX), gen = r->m.cur.aux_gen + 1;
	rdb_rc rc;

	if (r->m.cur.aux_root == 0)
		return aux_build(r, t, n, gen);
	rc = aux_drop(r, t);
	if (rc == RDB_OK && below(&r->rng, 2) == 0)
		rc = aux_build(r, t, n, gen);
	return rc;
}

/* 1..5 single puts or deletes: with them commits are a good share of the
 * calls the faults can hit. */
static rdb_rc batch_small(rig *r, pager_txn *t)
{
	uint32_t n = 1 + below(&r->rng, 5), i, id;
	rdb_rc rc = RDB_OK;

	for (i = 0; i < n && rc == RDB_OK; i++) {
		id = below(&r->rng, NKEYS);
		rc = below(&r->rng, 2) ? put_key(r, t, id, 1) :
					 del_key(r, t, id);
	}
	return rc;
}

/* One batch; the mix leans towards inserts while the tree is small and
 * towards deletes while it is large. */
static rdb_rc batch_random(rig *r, pager_txn *t)
{
	uint32_t c = below(&r->rng, 100), n = r->m.cur.n;

	if (n < 150 && c < 60)
		return batch_insert(r, t);
	if (n > 1100 && c < 50)
		return batch_delete(r, t);
	if (c < 35)
		return batch_insert(r, t);
	if (c < 55)
		return batch_delete(r, t);
	if (c < 65)
		return batch_scatter_delete(r, t);
	if (c < 82)
		return batch_update(r, t);
	if (c < 90)
		return batch_aux(r, t);
	return batch_read(r, t);
}

/* ---- transactions ---------------------------------------------------- */

/* Begin a write transaction; it must see exactly the last commit. */
static rdb_rc txn_begin(rig *r, pager_txn **t)
{
	const kvstate *s = &r->m.snaps[r->m.base].st;
	uint64_t k, root;
	rdb_rc rc;

	*t = NULL;
	rdb_err_clear(&r->terr);
	rc = pager_begin(r->p, 1, &r->terr, t);
	if (rc != RDB_OK)
		return rig_err(r, "pager_begin", rc);
	k = pager_anchor(*t, ANCHOR_COMMIT);
	root = pager_anchor(*t, ANCHOR_ROOT);
	RIG_CHECK(r, k == r->m.base && root == s->root &&
		  pager_anchor(*t, ANCHOR_AUX) == s->aux_root, "write txn "
		  "after commit %u sees commit %llu, root %llu, second root "
		  "%llu; want roots %u, %u", r->m.base, (unsigned long long)k,
		  (unsigned long long)root,
		  (unsigned long long)pager_anchor(*t, ANCHOR_AUX), s->root,
		  s->aux_root);
	return RDB_OK;
}

static rdb_rc txn_abort(rig *r, pager_txn *t, rdb_rc rc)
{
	pager_rollback(t);
	r->m.cur = r->m.snaps[r->m.base].st;
	return rc;
}

/* Commit t with anchor 1 = its number; snapshot the model first. */
static rdb_rc txn_commit(rig *r, pager_txn *t)
{
	uint32_t k = r->m.next_k;
	rdb_rc rc = pager_set_anchor(t, ANCHOR_COMMIT, k);

	if (rc == RDB_OK)
		rc = pager_set_anchor(t, ANCHOR_ROOT, r->m.cur.root);
	if (rc == RDB_OK)
		rc = pager_set_anchor(t, ANCHOR_AUX, r->m.cur.aux_root);
	if (rc != RDB_OK)
		return txn_abort(r, t, rig_err(r, "pager_set_anchor", rc));
	model_record(&r->m, k, SNAP_ATTEMPTED);
	r->m.last_try = k;
	r->m.next_k = k + 1;
	rc = pager_commit(t);
	if (rc != RDB_OK) {
		r->m.cur = r->m.snaps[r->m.base].st;
		return rig_err(r, "pager_commit", rc);
	}
	r->m.snaps[k].state = SNAP_COMMITTED;
	r->m.last_ok = r->m.base = k;
	return RDB_OK;
}

/* Create the tree in a transaction of its own. */
static rdb_rc txn_create(rig *r)
{
	rdb_pgno root = 0;
	pager_txn *t;
	rdb_rc rc = txn_begin(r, &t);

	if (rc != RDB_OK)
		return rc;
	rc = bt_create(t, &root);
	if (rc != RDB_OK) {
		RIG_CHECK(r, root == 0, "failed bt_create left *root set");
		return txn_abort(r, t, rig_err(r, "bt_create", rc));
	}
	RIG_CHECK(r, root >= 1 && root < pager_txn_page_count(t), "bt_create "
		  "gave root %u of %u pages", root, pager_txn_page_count(t));
	state_clear(&r->m.cur, root);
	return txn_commit(r, t);
}

/* n batches (0: one small one), then commit, or roll back if asked to or
 * on an error. */
static rdb_rc run_txn(rig *r, uint32_t n, int rollback)
{
	uint32_t i;
	pager_txn *t;
	rdb_rc rc = txn_begin(r, &t);

	if (rc != RDB_OK)
		return rc;
	if (n == 0)
		rc = batch_small(r, t);
	for (i = 0; i < n && rc == RDB_OK; i++)
		rc = batch_random(r, t);
	if (rc != RDB_OK || rollback)
		return txn_abort(r, t, rc);
	return txn_commit(r, t);
}

/* 1..4 batches or (1 in 3) a few single operations; 1 in 8 rolled back,
 * 1 in 10 followed by a checkpoint. */
static rdb_rc random_txn(rig *r)
{
	uint32_t n = below(&r->rng, 3) == 0 ? 0 : 1 + below(&r->rng, 4);
	int rollback = below(&r->rng, 8) == 0;
	rdb_rc rc = run_txn(r, n, rollback);

	if (rc == RDB_OK && below(&r->rng, 10) == 0) {
		rc = pager_checkpoint(r->p);
		if (rc != RDB_OK)
			rc = rig_err(r, "pager_checkpoint", rc);
	}
	return rc;
}

/* ---- verification after reopen --------------------------------------- */

static int bit_get(const unsigned char *map, rdb_pgno p)
{
	return map[p >> 3] >> (p & 7) & 1;
}

typedef struct census {
	unsigned char *seen;  /* borrowed; bt_verify's bitmap */
	rdb_pgno page_count;
	uint32_t n_free;
	rdb_pgno bad;         /* first out-of-range or doubly used page */
} census;

static int census_free(void *arg, rdb_pgno pgno, int is_trunk)
{
	census *w = arg;

	(void)is_trunk;
	if (pgno == 0 || pgno >= w->page_count || bit_get(w->seen, pgno)) {
		w->bad = pgno == 0 ? UINT32_MAX : pgno;
		return 1;
	}
	w->seen[pgno >> 3] |= (unsigned char)(1u << (pgno & 7));
	w->n_free++;
	return 0;
}

/* bt_verify, and the tree's pages plus the free list must be every page
 * 1 .. page_count-1, each once. */
static void verify_pages(rig *r, pager_txn *t, const kvstate *s)
{
	census w = { NULL, pager_txn_page_count(t), 0, 0 };
	bt_stats st;
	rdb_pgno p;
	rdb_rc rc;

	w.seen = calloc(w.page_count / 8 + 1, 1);
	ck_assert_ptr_nonnull(w.seen);
	if (s->root != 0) {
		memset(&st, 0, sizeof(st));
		rc = bt_verify(t, s->root, w.seen, &st);
		RIG_CHECK(r, rc == RDB_OK, "bt_verify: %d (%s)", rc,
			  rdb_errstr(rc));
		RIG_CHECK(r, st.keys == s->n, "bt_verify counts %llu keys; the "
			  "model has %u", (unsigned long long)st.keys, s->n);
		RIG_CHECK(r, bit_get(w.seen, s->root), "bt_verify did not mark "
			  "the root page %u", s->root);
		r->vstats = st;
	}
	if (s->aux_root != 0) {
		memset(&st, 0, sizeof(st));
		rc = bt_verify(t, s->aux_root, w.seen, &st);
		RIG_CHECK(r, rc == RDB_OK, "bt_verify of the second tree (which "
			  "also checks that it shares no page with the first): "
			  "%d (%s)", rc, rdb_errstr(rc));
		RIG_CHECK(r, st.keys == s->aux_n, "bt_verify counts %llu keys "
			  "in the second tree; the model has %u",
			  (unsigned long long)st.keys, s->aux_n);
	}
	rc = pager_freelist_walk(t, census_free, &w);
	RIG_CHECK(r, rc == RDB_OK && w.bad == 0, "free-list walk: rc %d; page "
		  "%u is out of range or also in the tree", rc, w.bad);
	RIG_CHECK(r, w.n_free == pager_txn_free_count(t), "free list holds %u "
		  "pages, pager_txn_free_count says %u", w.n_free,
		  pager_txn_free_count(t));
	for (p = 1; p < w.page_count; p++)
		RIG_CHECK(r, bit_get(w.seen, p), "page %u of %u is neither in "
			  "the tree nor free (leaked)", p, w.page_count);
	free(w.seen);
}

/* A full scan, forward or backward, must give s's keys and values. */
static void verify_scan(rig *r, pager_txn *t, const kvstate *s, int back)
{
	uint32_t id = back ? model_prev(s, NKEYS) : model_next(s, 0), n = 0;
	bt_cursor *c;
	rdb_rc rc;

	ck_assert_int_eq(cursor_open(r, t, s->root, &c), RDB_OK);
	rc = back ? bt_last(c) : bt_first(c);
	while (rc == RDB_OK) {
		rc = check_at(r, c, s, id == UINT32_MAX ? NKEYS : id,
			      back ? "backward scan" : "forward scan");
		RIG_CHECK(r, rc == RDB_OK, "scan: %d", rc);
		n++;
		id = back ? (id == 0 ? UINT32_MAX : model_prev(s, id - 1)) :
			    model_next(s, id + 1);
		rc = back ? bt_prev(c) : bt_next(c);
	}
	RIG_CHECK(r, rc == RDB_NOTFOUND, "%s scan: %d (%s) after %u keys",
		  back ? "backward" : "forward", rc, rdb_errstr(rc), n);
	RIG_CHECK(r, n == s->n, "%s scan saw %u keys; the model has %u",
		  back ? "backward" : "forward", n, s->n);
	RIG_CHECK(r, !bt_valid(c), "cursor positioned after the end");
	bt_cursor_close(c);
}

/* The second tree must hold exactly keys 0 .. aux_n-1 of its generation. */
static void verify_aux(rig *r, pager_txn *t, const kvstate *s)
{
	const void *k, *v;
	size_t kl, vl, want;
	char why[128];
	bt_cursor *c;
	uint32_t i = 0;
	rdb_rc rc;

	ck_assert_int_eq(cursor_open(r, t, s->aux_root, &c), RDB_OK);
	for (rc = bt_first(c); rc == RDB_OK; rc = bt_next(c), i++) {
		RIG_CHECK(r, bt_key(c, &k, &kl) == RDB_OK &&
			  bt_value(c, &v, &vl) == RDB_OK, "second tree: "
			  "reading entry %u", i);
		want = key_of(r->max_key, r->kpre, i, r->kbuf);
		RIG_CHECK(r, i < s->aux_n && kl == want &&
			  memcmp(k, r->kbuf, kl) == 0, "second tree: entry %u "
			  "is key %u (%zu bytes); want key %u of %u", i,
			  key_id(r->kpre, k, kl), kl, i, s->aux_n);
		if (val_differs(r, aux_val(s->aux_gen, i), v, vl, why,
				sizeof(why)))
			rig_fail(r, "second tree: key %u: %s", i, why);
	}
	RIG_CHECK(r, rc == RDB_NOTFOUND && i == s->aux_n, "second tree scan "
		  "ended with %d after %u of %u keys", rc, i, s->aux_n);
	bt_cursor_close(c);
}

/* May the reopened database be at commit K?  The last commit that
 * returned RDB_OK, or with inflight a later one whose commit failed. */
static int allowed(const model *m, uint64_t K, int inflight)
{
	if (K == m->last_ok)
		return 1;
	return inflight && K == m->last_try && m->last_try > m->last_ok &&
	       m->snaps[K].state == SNAP_ATTEMPTED;
}

/*
 * The database must be at a commit K allowed by the model and equal its
 * snapshot: anchors, bt_verify, page census, scans and lookups.  Returns K.
 */
static uint32_t rig_verify(rig *r, int inflight)
{
	rig_mode mode = r->mode;
	const kvstate *s;
	pager_txn *t = NULL;
	uint64_t K, root;
	uint32_t i;
	rdb_rc rc;

	r->mode = MODE_CLEAN;
	rdb_err_clear(&r->terr);
	rc = pager_begin(r->p, 0, &r->terr, &t);
	RIG_CHECK(r, rc == RDB_OK, "read txn for verification: %d", rc);
	K = pager_anchor(t, ANCHOR_COMMIT);
	RIG_CHECK(r, allowed(&r->m, K, inflight), "database is at commit "
		  "%llu; allowed: %u%s (last attempted %u)",
		  (unsigned long long)K, r->m.last_ok, inflight ?
		  " or a failed commit after it" : " only", r->m.last_try);
	s = &r->m.snaps[K].st;
	root = pager_anchor(t, ANCHOR_ROOT);
	RIG_CHECK(r, root == s->root, "commit %llu has root %llu; model %u",
		  (unsigned long long)K, (unsigned long long)root, s->root);
	root = pager_anchor(t, ANCHOR_AUX);
	RIG_CHECK(r, root == s->aux_root, "commit %llu has second root %llu; "
		  "model %u", (unsigned long long)K, (unsigned long long)root,
		  s->aux_root);
	verify_pages(r, t, s);
	if (s->aux_root != 0)
		verify_aux(r, t, s);
	if (s->root != 0) {
		verify_scan(r, t, s, 0);
		verify_scan(r, t, s, 1);
		for (i = 0; i < 16; i++)
			RIG_CHECK(r, get_key(r, t, s, below(&r->rng, NKEYS))
				  == RDB_OK, "bt_get during verification");
	}
	pager_rollback(t);
	r->mode = mode;
	return (uint32_t)K;
}

/* ---- crash trials ---------------------------------------------------- */

typedef struct crash_trial {
	uint64_t base_seed;
	uint64_t seed;
	long idx, n;
	os_fault kind;
	pager_sync sync;
	uint64_t at;         /* call number of the fault; 0 = none */
	uint64_t calls;      /* calls of the fault-free workload */
} crash_trial;

static const char *fault_name(os_fault k)
{
	static const char *names[] = { "none", "crash", "powerloss", "torn",
				       "eio", "enospc" };
	return (unsigned)k < 6 ? names[k] : "?";
}

/* Fresh vfs (cache 16..32 pages, checkpoint past 8..64 frames), key
 * prefix 0, 16 or 48 bytes (deeper trees), the tree, 1-3 fault-free
 * transactions under FULL, then the trial's sync level. */
static void crash_setup(rig *r, const crash_trial *ct)
{
	static const size_t pres[] = { 0, 0, 16, 48 };
	uint64_t s = ct->seed;
	uint32_t cache = 16 + below(&s, 17), ckpt = 8 + below(&s, 57), i, n;
	size_t pre = pres[below(&s, 4)];
	rdb_rc rc;

	rig_init(r, MODE_CRASH, cache, ckpt, s);
	r->kpre = pre;
	snprintf(r->ctx, sizeof(r->ctx), "btree crash trial %ld of %ld: base "
		 "seed %llu (RDB_TEST_SEED), RDB_BTREE_FAULT_TRIAL=%ld, trial "
		 "seed %llu, fault %s, sync %s, at call %llu of %llu, cache "
		 "%u, ckpt_frames %u, key prefix %zu", ct->idx, ct->n,
		 (unsigned long long)ct->base_seed, ct->idx,
		 (unsigned long long)ct->seed, fault_name(ct->kind),
		 ct->sync == PAGER_SYNC_FULL ? "full" : "normal",
		 (unsigned long long)ct->at, (unsigned long long)ct->calls,
		 cache, ckpt, pre);
	rc = rig_open(r);
	RIG_CHECK(r, rc == RDB_OK, "pager_open: %d", rc);
	RIG_CHECK(r, txn_create(r) == RDB_OK, "creating the tree failed");
	n = 1 + below(&r->rng, 3);
	for (i = 0; i < n; i++) {
		rc = random_txn(r);
		RIG_CHECK(r, rc == RDB_OK, "setup txn %u: %d", i, rc);
	}
	pager_set_sync(r->p, ct->sync);
}

/* 2-7 random transactions; stops at the first error. */
static void crash_workload(rig *r)
{
	uint32_t n = 2 + below(&r->rng, 6), i;
	rdb_rc rc = RDB_OK;

	for (i = 0; i < n && rc == RDB_OK; i++)
		rc = random_txn(r);
}

/* Calls made by the trial's workload and close when nothing fails. */
static uint64_t crash_measure(const crash_trial *ct)
{
	uint64_t calls;
	rig r;

	crash_setup(&r, ct);
	os_mem_set_fault(r.vfs, OS_FAULT_NONE, 0, 0, 0);
	crash_workload(&r);
	rig_close_ok(&r);
	calls = os_mem_calls(r.vfs);
	rig_done(&r);
	return calls;
}

/* What the trials covered, for the summary line. */
typedef struct crash_tally {
	long inflight_kept;   /* reopened at a commit that had failed */
	long in_commit;       /* first error from pager_commit */
	long in_tree;         /* first error from a bt_* call */
	long in_close;        /* no error before pager_close */
	uint32_t max_depth;
	uint32_t max_keys;
} crash_tally;

static void crash_count(crash_tally *ty, const rig *r, uint32_t K)
{
	const char *op = r->first_op;

	ty->inflight_kept += K != r->m.last_ok;
	ty->in_commit += op != NULL && strcmp(op, "pager_commit") == 0;
	ty->in_tree += op != NULL && strncmp(op, "bt_", 3) == 0;
	ty->in_close += op == NULL;
	if (r->vstats.depth > ty->max_depth)
		ty->max_depth = r->vstats.depth;
	if (r->vstats.keys > ty->max_keys)
		ty->max_keys = (uint32_t)r->vstats.keys;
}

/* Run one trial: fault, close, reboot, verify; then one more transaction
 * on the recovered tree, verified again.  Returns 1 if the fault fired. */
static int crash_run(const crash_trial *ct, crash_tally *ty)
{
	uint32_t K;
	int fired;
	rdb_rc rc;
	rig r;

	crash_setup(&r, ct);
	os_mem_set_fault(r.vfs, ct->kind, ct->at, 0, ct->seed);
	crash_workload(&r);
	rc = pager_close(r.p);
	r.p = NULL;
	fired = os_mem_fault_fired(r.vfs);
	RIG_CHECK(&r, fired == (rc != RDB_OK), "pager_close returned %d "
		  "(%s); the fault %s", rc, rdb_errstr(rc),
		  fired ? "had fired" : "never fired");
	rig_reopen(&r);
	K = rig_verify(&r, 1);
	crash_count(ty, &r, K);
	model_resume(&r.m, K);
	r.mode = MODE_CLEAN;
	rc = run_txn(&r, 1 + below(&r.rng, 3), 0);
	RIG_CHECK(&r, rc == RDB_OK, "txn on the recovered tree: %d", rc);
	rig_verify(&r, 0);
	rig_close_ok(&r);
	rig_done(&r);
	return fired;
}

static long env_long(const char *name, long dflt)
{
	const char *s = getenv(name);

	return s != NULL && s[0] != '\0' ? strtol(s, NULL, 0) : dflt;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Trial i: FULL with crash, power loss and torn write in turn, and every
 * fourth trial NORMAL with a crash (which NORMAL survives). */
static crash_trial crash_plan(uint64_t base, long i, long n)
{
	static const os_fault kinds[] = { OS_FAULT_CRASH, OS_FAULT_POWERLOSS,
					  OS_FAULT_TORN };
	crash_trial ct = { base, mix64(base + (uint64_t)i) | 1, i, n,
			   kinds[i % 3], PAGER_SYNC_FULL, 0, 0 };
	uint64_t s;

	if (i % 4 == 3) {
		ct.kind = OS_FAULT_CRASH;
		ct.sync = PAGER_SYNC_NORMAL;
	}
	ct.calls = crash_measure(&ct);
	s = ct.seed ^ 0xfa17;
	ct.at = 1 + tu_rand_below(&s, ct.calls);
	return ct;
}

START_TEST(test_btree_crash_trials_reopen_at_committed_tree)
{
	long n = tu_scaled(2000, 100), only = env_long(
		"RDB_BTREE_FAULT_TRIAL", -1), i, run = 0, fired = 0;
	uint64_t base = tu_seed();
	double t0 = now_s();
	crash_tally ty = { 0 };
	crash_trial ct;

	tu_seed_note("btree crash trials", base);
	for (i = 0; i < n; i++) {
		if (only >= 0 && i != only)
			continue;
		ct = crash_plan(base, i, n);
		fired += crash_run(&ct, &ty);
		run++;
	}
	fprintf(stderr, "btree crash trials: %ld run, %ld faults fired, seed "
		"%llu (%.1f s)\n", run, fired, (unsigned long long)base,
		now_s() - t0);
	fprintf(stderr, "btree crash trials: first error in a tree call %ld, "
		"in commit %ld, only at close %ld; reopened at the failed "
		"commit %ld; up to depth %u, %u keys\n", ty.in_tree,
		ty.in_commit, ty.in_close, ty.inflight_kept, ty.max_depth,
		ty.max_keys);
	ck_assert_msg(run > 0 && fired * 10 >= run * 9, "only %ld of %ld "
		      "faults fired (seed %llu)", fired, run,
		      (unsigned long long)base);
}
END_TEST

/* ---- allocation failures at every allocation ------------------------- */

/* Put ids lo, lo+step, ... (n of them) with bt_upsert. */
static rdb_rc put_run(rig *r, pager_txn *t, uint32_t lo, uint32_t step,
		      uint32_t n)
{
	uint32_t i;
	rdb_rc rc = RDB_OK;

	for (i = 0; i < n && rc == RDB_OK; i++)
		rc = put_key(r, t, (lo + i * step) % NKEYS, 1);
	return rc;
}

/* Transaction j of the fixed workload: the operations in t. */
static rdb_rc fixed_ops(rig *r, pager_txn *t, int j)
{
	switch (j) {
	case 0:    /* ascending inserts: splits at the right edge */
		return put_run(r, t, 0, 1, 300);
	case 1:    /* scattered inserts, overflow updates, a second tree */
	{
		rdb_rc rc = put_run(r, t, 301, 7, 200);

		if (rc == RDB_OK)
			rc = batch_update(r, t);
		return rc != RDB_OK ? rc : aux_build(r, t, 120, 1);
	}
	case 2:    /* rolled back: a large delete */
		return del_range_keys(r, t, 0, 250, 0);
	case 3:    /* merges through a cursor, lookups, second tree dropped */
	{
		rdb_rc rc = del_range_cursor(r, t, 40, 700);

		if (rc == RDB_OK)
			rc = batch_read(r, t);
		return rc != RDB_OK ? rc : aux_drop(r, t);
	}
	case 4:    /* nearly everything goes: the tree loses height */
		return del_range_keys(r, t, 2, NKEYS - 3, 1);
	default:
		return RDB_OK;
	}
}

/* Create the tree, five transactions (the third rolled back), drop it.
 * Stops at the first error. */
static rdb_rc fixed_workload(rig *r)
{
	pager_txn *t;
	rdb_rc rc = txn_create(r);
	int j;

	for (j = 0; j < 5 && rc == RDB_OK; j++) {
		rc = txn_begin(r, &t);
		if (rc != RDB_OK)
			break;
		rc = fixed_ops(r, t, j);
		if (rc != RDB_OK || j == 2)
			rc = txn_abort(r, t, rc);
		else
			rc = txn_commit(r, t);
	}
	if (rc != RDB_OK)
		return rc;
	rc = txn_begin(r, &t);
	if (rc != RDB_OK)
		return rc;
	rc = bt_drop(t, r->m.cur.root);
	if (rc != RDB_OK)
		return txn_abort(r, t, rig_err(r, "bt_drop", rc));
	state_clear(&r->m.cur, 0);
	return txn_commit(r, t);
}

/* Fail allocation n of the workload; roll back, then the database must be
 * at the last commit, in this pager and after a reopen.  Returns whether
 * the failure fired. */
static int nomem_trial(long n)
{
	int failed;
	rdb_rc rc;
	rig r;

	rig_init(&r, MODE_MEM, 16, 32, FIXED_SEED);
	snprintf(r.ctx, sizeof(r.ctx), "btree nomem: allocation %ld fails", n);
	ck_assert_int_eq(rig_open(&r), RDB_OK);
	rdb_mem_fail_at(n, 0);
	rc = fixed_workload(&r);
	failed = rdb_mem_failed();
	rdb_mem_fail_at(0, 0);
	RIG_CHECK(&r, rc == RDB_OK || r.first_rc == RDB_NOMEM, "workload "
		  "failed with %d", rc);
	rig_verify(&r, 0);
	rig_close_ok(&r);
	rig_reopen(&r);
	rig_verify(&r, 0);
	rig_close_ok(&r);
	rig_done(&r);
	return failed;
}

START_TEST(test_btree_nomem_at_every_allocation_keeps_last_commit)
{
	double t0 = now_s();
	long n;

	for (n = 1; nomem_trial(n); n++)
		ck_assert_int_lt(n, 1000000);
	fprintf(stderr, "btree nomem: %ld allocation points (%.1f s)\n",
		n - 1, now_s() - t0);
	ck_assert_int_gt(n, 10);
}
END_TEST

Suite *btree_fault_suite(void)
{
	Suite *s = suite_create("btree_fault");
	TCase *tc;

	tc = tcase_create("crash");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_btree_crash_trials_reopen_at_committed_tree);
	suite_add_tcase(s, tc);

	tc = tcase_create("nomem");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc,
		       test_btree_nomem_at_every_allocation_keeps_last_commit);
	suite_add_tcase(s, tc);
	return s;
}
