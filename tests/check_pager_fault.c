/*
 * check_pager_fault.c -- the pager under injected faults: randomized crash,
 * power-loss and torn-write trials (tcase crash); an I/O error or a full
 * disk at every call of a fixed workload, of WAL recovery and of database
 * creation (ioerr); an allocation failure at every allocation (nomem); and
 * transactions 100 times larger than the cache (bigtxn).  Every run is
 * checked against a model of the committed transactions ("model" below).
 *
 * Replay: RDB_TEST_SEED=<base seed> reruns the same crash trials;
 * RDB_PAGER_FAULT_TRIAL=<i> runs only trial i of them.
 * Contracts under test: src/pager/pager.h, src/pager/os.h.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pager/pager.h"
#include "pager/os.h"
#include "format.h"
#include "mem.h"
#include "test_util.h"

#define PS 512u              /* page size of every test database */
#define DB "fault.db"
#define IO_TXNS 30           /* transactions of the fixed workload */
#define MEM_TXNS 12          /* ... and of its smaller nomem variant */
#ifndef FIXED_SEED          /* the fixed workloads' seed; -D to vary it */
#define FIXED_SEED 0x5eed0f1e1dull
#endif

/* ---- page bytes ------------------------------------------------------ *
 * Transaction k writes to page pgno: type FMT_PT_BT_LEAF, zero owner bytes,
 * then u64 k, u32 pgno and bytes derived from a hash of (pgno, k). */

static uint64_t mix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

/* The bytes of page pgno as written by transaction k.  [0, 8) belongs to
 * the pager (checksum): left zero here and never compared. */
static void page_image(unsigned char *buf, uint32_t pgno, uint32_t k)
{
	uint64_t s = mix64((uint64_t)pgno << 32 | k) | 1;
	uint32_t i;

	memset(buf, 0, FMT_PAGE_BODY);
	buf[FMT_PAGE_TYPE] = FMT_PT_BT_LEAF;
	fmt_put_u64(buf + FMT_PAGE_BODY, k);
	fmt_put_u32(buf + FMT_PAGE_BODY + 8, pgno);
	for (i = FMT_PAGE_BODY + 12; i < PS; i += 4)
		fmt_put_u32(buf + i, (uint32_t)(tu_rand(&s) >> 32));
}

/* 0 if data holds page_image(pgno, k) from byte 8 on; else 1 and a
 * description of what it holds in why. */
static int page_differs(const unsigned char *data, uint32_t pgno, uint32_t k,
			char *why, size_t n)
{
	unsigned char want[PS];
	uint32_t i;

	page_image(want, pgno, k);
	for (i = FMT_PAGE_TYPE; i < PS && data[i] == want[i]; i++)
		;
	if (i == PS)
		return 0;
	snprintf(why, n, "page %u should hold txn %u's bytes but differs at "
		 "byte %u (it holds type 0x%02x, txn %llu, page %u)", pgno, k,
		 i, data[FMT_PAGE_TYPE],
		 (unsigned long long)fmt_get_u64(data + FMT_PAGE_BODY),
		 fmt_get_u32(data + FMT_PAGE_BODY + 8));
	return 1;
}

/* ---- model ----------------------------------------------------------- *
 * The working state (page -> last transaction that wrote it, live pages)
 * of the transaction being built, and a snapshot of the full state after
 * every transaction k whose commit was called.  Every commit rewrites
 * page 1 (the first page a new database allocates, never freed), so the
 * state K of a reopened database is the k that page 1 holds; the database
 * must then equal snapshot K exactly.  Anchor 0 is set to k by half of the
 * commits only, so that the others leave the header unchanged. */

enum { SNAP_NONE = 0, SNAP_ATTEMPTED, SNAP_COMMITTED };

typedef struct snap {
	uint32_t *klast;     /* owned; [pgno] = last writer, 0 = not live */
	uint32_t page_count; /* pager_txn_page_count() before the commit */
	uint32_t n_live;
	uint64_t anchor;     /* anchor 0 */
	int state;           /* SNAP_* */
} snap;

typedef struct model {
	uint32_t *klast;     /* owned; working state, cap entries */
	uint32_t *live;      /* owned; the n_live live pages, any order */
	uint32_t cap;
	uint32_t n_live;
	uint64_t anchor;     /* working anchor 0 */
	snap *snaps;         /* owned; indexed by transaction number */
	uint32_t n_snaps;
	uint32_t base;       /* committed state the working state extends */
	uint32_t next_k;     /* number of the next transaction to commit */
	uint32_t last_ok;    /* last commit that returned RDB_OK */
	uint32_t last_try;   /* last transaction whose commit was called */
	uint32_t ckpt_ok;    /* last_ok at the last good pager_checkpoint() */
	uint32_t dur_crash;  /* last commit promised to survive a crash */
	uint32_t dur_power;  /* ... and a power loss or torn write */
} model;

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n == 0 ? 1 : n);

	ck_assert_ptr_nonnull(q);
	return q;
}

static void *xcalloc(size_t n, size_t size)
{
	void *q = calloc(n == 0 ? 1 : n, size);

	ck_assert_ptr_nonnull(q);
	return q;
}

static void model_init(model *m)
{
	memset(m, 0, sizeof(*m));
	m->n_snaps = 16;
	m->snaps = xcalloc(m->n_snaps, sizeof(snap));
	m->snaps[0].klast = xcalloc(1, sizeof(uint32_t));
	m->snaps[0].page_count = 1;     /* a new database: the header only */
	m->snaps[0].state = SNAP_COMMITTED;
	m->next_k = 1;
}

static void model_free(model *m)
{
	uint32_t i;

	for (i = 0; i < m->n_snaps; i++)
		free(m->snaps[i].klast);
	free(m->snaps);
	free(m->klast);
	free(m->live);
	memset(m, 0, sizeof(*m));
}

static void model_grow(model *m, uint32_t pgno)
{
	uint32_t cap = m->cap ? m->cap : 64;

	if (pgno < m->cap)
		return;
	while (cap <= pgno)
		cap *= 2;
	m->klast = xrealloc(m->klast, cap * sizeof(uint32_t));
	memset(m->klast + m->cap, 0, (cap - m->cap) * sizeof(uint32_t));
	m->live = xrealloc(m->live, cap * sizeof(uint32_t));
	m->cap = cap;
}

static int model_live(const model *m, uint32_t pgno)
{
	return pgno < m->cap && m->klast[pgno] != 0;
}

static void model_set(model *m, uint32_t pgno, uint32_t k)
{
	model_grow(m, pgno);
	if (m->klast[pgno] == 0)
		m->live[m->n_live++] = pgno;
	m->klast[pgno] = k;
}

static void model_drop(model *m, uint32_t idx)
{
	m->klast[m->live[idx]] = 0;
	m->live[idx] = m->live[--m->n_live];
}

/* Snapshot the working state as transaction k's.  Returns 0 if a live page
 * lies beyond page_count (the pager lost track of a page). */
static int model_record(model *m, uint32_t k, uint32_t page_count, int state)
{
	uint32_t i, n = page_count < m->cap ? page_count : m->cap;
	snap *s;

	for (i = 0; i < m->n_live; i++)
		if (m->live[i] >= page_count)
			return 0;
	if (k >= m->n_snaps) {
		m->snaps = xrealloc(m->snaps, 2 * k * sizeof(snap));
		memset(m->snaps + m->n_snaps, 0,
		       (2 * k - m->n_snaps) * sizeof(snap));
		m->n_snaps = 2 * k;
	}
	s = &m->snaps[k];
	free(s->klast);
	s->klast = xcalloc(page_count, sizeof(uint32_t));
	memcpy(s->klast, m->klast, n * sizeof(uint32_t));
	s->page_count = page_count;
	s->n_live = m->n_live;
	s->anchor = m->anchor;
	s->state = state;
	return 1;
}

/* Reset the working state to snapshot k. */
static void model_restore(model *m, uint32_t k)
{
	const snap *s = &m->snaps[k];
	uint32_t pgno;

	if (m->cap > 0)
		memset(m->klast, 0, m->cap * sizeof(uint32_t));
	model_grow(m, s->page_count);
	memcpy(m->klast, s->klast, s->page_count * sizeof(uint32_t));
	m->anchor = s->anchor;
	m->n_live = 0;
	for (pgno = 1; pgno < s->page_count; pgno++)
		if (m->klast[pgno] != 0)
			m->live[m->n_live++] = pgno;
}

/* May a reopened database be at state K?  Committed states from floor on,
 * or a later one whose commit failed (its outcome was unknown). */
static int model_allows(const model *m, uint32_t K, uint32_t floor)
{
	if (K >= m->next_k || K >= m->n_snaps)
		return 0;
	if (K <= m->last_ok)
		return K >= floor && m->snaps[K].state == SNAP_COMMITTED;
	return m->snaps[K].state == SNAP_ATTEMPTED;
}

/* ---- rig: one vfs, one pager, one model ----------------------------- */

typedef enum rig_mode {
	MODE_CLEAN,   /* no fault: every error is a failure */
	MODE_CRASH,   /* CRASH / POWERLOSS / TORN: errors are RDB_IOERR */
	MODE_IO,      /* EIO / ENOSPC: errors are want_rc */
	MODE_MEM      /* allocation failures: RDB_NOMEM or RDB_IOERR */
} rig_mode;

typedef struct rig {
	os_vfs *vfs;          /* owned */
	pager *p;             /* owned */
	pager_opts opts;
	rdb_err err;          /* pager_open()'s; outlives p */
	rdb_err terr;         /* the current write transaction's */
	rdb_err rerr;         /* the held read transaction's */
	pager_txn *rd;        /* a read transaction held across commits */
	uint32_t rd_k;        /* the state rd must keep seeing */
	model m;
	uint64_t rng;         /* drives the workload */
	rig_mode mode;
	int sticky;           /* the injected fault repeats */
	rdb_rc want_rc;       /* MODE_IO: the code the fault must produce */
	rdb_rc first_rc;      /* first error returned, RDB_OK if none */
	const char *first_op;
	char ctx[320];        /* how to replay, for failure messages */
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
	ck_abort_msg("%s [%s; pager err '%s'; txn err '%s']", msg, r->ctx,
		     r->err.msg, r->terr.msg);
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
	r->vfs = os_mem_new();
	ck_assert_ptr_nonnull(r->vfs);
	pager_opts_default(&r->opts);
	r->opts.page_size = PS;
	r->opts.cache_pages = cache;
	r->opts.ckpt_frames = ckpt;
	r->opts.sync = PAGER_SYNC_FULL;
	r->opts.create = 1;
	r->mode = mode;
	r->rng = mix64(seed) | 1;
	model_init(&r->m);
}

static void rig_done(rig *r)
{
	pager_rollback(r->rd);
	(void)pager_close(r->p);
	r->p = NULL;
	os_mem_free(r->vfs);
	r->vfs = NULL;
	model_free(&r->m);
}

static int rig_fired(const rig *r)
{
	return os_mem_fault_fired(r->vfs) ||
	       (r->mode == MODE_MEM && rdb_mem_failed());
}

static int rc_expected(const rig *r, const char *op, rdb_rc rc)
{
	switch (r->mode) {
	case MODE_CRASH:
		return rc == RDB_IOERR;
	case MODE_IO:
		return rc == r->want_rc;
	case MODE_MEM:
		return rc == RDB_NOMEM || rc == RDB_IOERR ||
		       (rc == RDB_CANTOPEN && strcmp(op, "pager_open") == 0);
	default:
		return 0;
	}
}

/* Where the pager reports the reason for a failure of op (pager.h). */
static const rdb_err *op_err(const rig *r, const char *op)
{
	if (strcmp(op, "pager_open") == 0 || strcmp(op, "pager_close") == 0 ||
	    strcmp(op, "pager_checkpoint") == 0)
		return &r->err;
	if (strstr(op, "(read)") != NULL)
		return &r->rerr;
	return &r->terr;
}

/*
 * Every pager call of a workload passes its result through here.  An error
 * needs an injected fault that has fired, must carry the code that fault
 * produces and, once a non-sticky fault has passed, must repeat the first
 * error's code (a pager that cannot go on refuses with the original code).
 */
static rdb_rc rig_note(rig *r, const char *op, rdb_rc rc)
{
	const rdb_err *e = op_err(r, op);

	if (rc == RDB_OK)
		return RDB_OK;
	RIG_CHECK(r, rig_fired(r), "%s failed with %d (%s) though no fault "
		  "was injected yet", op, rc, rdb_errstr(rc));
	RIG_CHECK(r, e->rc == rc && e->msg[0] != '\0', "%s failed with %d "
		  "but its rdb_err holds %d '%s'", op, rc, e->rc, e->msg);
	if (r->first_rc == RDB_OK) {
		r->first_rc = rc;
		r->first_op = op;
		RIG_CHECK(r, rc_expected(r, op, rc), "%s failed with %d (%s): "
			  "not the code of the injected fault", op, rc,
			  rdb_errstr(rc));
	} else if (!r->sticky) {
		RIG_CHECK(r, rc == r->first_rc, "%s failed with %d (%s) after "
			  "%s had failed with %d; a pager that refuses must "
			  "give the original code", op, rc, rdb_errstr(rc),
			  r->first_op, r->first_rc);
	} else {
		RIG_CHECK(r, rc_expected(r, op, rc), "%s failed with %d (%s): "
			  "not the code of the injected fault", op, rc,
			  rdb_errstr(rc));
	}
	return rc;
}

static rdb_rc rig_open(rig *r)
{
	pager *p = (pager *)r;     /* must come back NULL on failure */
	rdb_rc rc;

	rdb_err_clear(&r->err);
	rc = pager_open(r->vfs, DB, &r->opts, &r->err, &p);

	RIG_CHECK(r, rc == RDB_OK || p == NULL, "pager_open failed with %d "
		  "but left *out set", rc);
	r->p = rc == RDB_OK ? p : NULL;
	return rc;
}

/* Simulate the reboot and reopen without faults. */
static void rig_reopen(rig *r)
{
	rdb_rc rc;

	os_mem_restart(r->vfs);
	rc = rig_open(r);
	RIG_CHECK(r, rc == RDB_OK, "reopen after the fault failed with %d (%s)",
		  rc, rdb_errstr(rc));
}

static void rig_close_ok(rig *r)
{
	rdb_rc rc = pager_close(r->p);

	r->p = NULL;
	RIG_CHECK(r, rc == RDB_OK, "fault-free pager_close failed with %d (%s)",
		  rc, rdb_errstr(rc));
}

/* ---- transactions ---------------------------------------------------- */

static rdb_rc op_alloc(rig *r, pager_txn *t, uint32_t k)
{
	unsigned char img[PS], *d;
	pager_page *pg = (pager_page *)img;   /* must come back NULL on error */
	uint32_t pgno, pc, i;
	rdb_rc rc;

	rc = rig_note(r, "pager_alloc", pager_alloc(t, FMT_PT_BT_LEAF, &pg));
	if (rc != RDB_OK) {
		RIG_CHECK(r, pg == NULL, "failed pager_alloc left *out set");
		return rc;
	}
	pgno = pager_pgno(pg);
	pc = pager_txn_page_count(t);
	d = pager_data(pg);
	RIG_CHECK(r, pgno >= 1 && pgno < pc, "pager_alloc gave page %u; "
		  "transaction has %u pages", pgno, pc);
	RIG_CHECK(r, !model_live(&r->m, pgno), "pager_alloc gave page %u, "
		  "which is in use (written by txn %u)", pgno,
		  r->m.klast[pgno]);
	for (i = FMT_PAGE_TYPE + 1; i < PS && d[i] == 0; i++)
		;
	RIG_CHECK(r, d[FMT_PAGE_TYPE] == FMT_PT_BT_LEAF && i == PS,
		  "page %u from pager_alloc: type 0x%02x, first nonzero body "
		  "byte %u", pgno, d[FMT_PAGE_TYPE], i);
	page_image(img, pgno, k);
	memcpy(d + FMT_PAGE_TYPE, img + FMT_PAGE_TYPE, PS - FMT_PAGE_TYPE);
	pager_unref(pg);
	model_set(&r->m, pgno, k);
	return RDB_OK;
}

/* Read live page number idx, check it, and rewrite it as txn k's. */
static rdb_rc op_rewrite(rig *r, pager_txn *t, uint32_t idx, uint32_t k)
{
	uint32_t pgno = r->m.live[idx], kold = r->m.klast[pgno];
	unsigned char img[PS];
	pager_page *pg = (pager_page *)img;
	char why[256];
	rdb_rc rc;

	rc = rig_note(r, "pager_get", pager_get(t, pgno, &pg));
	if (rc != RDB_OK) {
		RIG_CHECK(r, pg == NULL, "failed pager_get left *out set");
		return rc;
	}
	if (page_differs(pager_data(pg), pgno, kold, why, sizeof(why)))
		rig_fail(r, "pager_get in txn %u: %s", k, why);
	rc = rig_note(r, "pager_write", pager_write(t, &pg));
	if (rc != RDB_OK) {
		pager_unref(pg);
		return rc;
	}
	if (page_differs(pager_data(pg), pgno, kold, why, sizeof(why)))
		rig_fail(r, "copy made by pager_write in txn %u: %s", k, why);
	page_image(img, pgno, k);
	memcpy(pager_data(pg) + FMT_PAGE_TYPE, img + FMT_PAGE_TYPE,
	       PS - FMT_PAGE_TYPE);
	pager_unref(pg);
	model_set(&r->m, pgno, k);
	return RDB_OK;
}

/* Free live page number idx, or the next one if that is page 1 (the
 * marker, never freed). */
static rdb_rc op_free(rig *r, pager_txn *t, uint32_t idx)
{
	rdb_rc rc;

	if (r->m.live[idx] == 1 && r->m.n_live == 1)
		return RDB_OK;
	if (r->m.live[idx] == 1)
		idx = (idx + 1) % r->m.n_live;
	rc = rig_note(r, "pager_free_page", pager_free_page(t, r->m.live[idx]));
	if (rc == RDB_OK)
		model_drop(&r->m, idx);
	return rc;
}

/* One random page operation: 40% alloc, 40% rewrite, 20% free. */
static rdb_rc op_random(rig *r, pager_txn *t, uint32_t k)
{
	uint64_t c = tu_rand_below(&r->rng, 10);
	uint32_t idx;

	if (r->m.n_live == 0 || c < 4)
		return op_alloc(r, t, k);
	idx = (uint32_t)tu_rand_below(&r->rng, r->m.n_live);
	return c < 8 ? op_rewrite(r, t, idx, k) : op_free(r, t, idx);
}

/* Begin a write transaction; it must see exactly the last commit. */
static rdb_rc txn_begin(rig *r, pager_txn **t)
{
	const snap *s = &r->m.snaps[r->m.base];
	uint32_t pc, nfree;
	uint64_t a;
	rdb_rc rc;

	*t = NULL;
	rdb_err_clear(&r->terr);
	rc = rig_note(r, "pager_begin", pager_begin(r->p, 1, &r->terr, t));
	if (rc != RDB_OK)
		return rc;
	a = pager_anchor(*t, 0);
	pc = pager_txn_page_count(*t);
	nfree = pager_txn_free_count(*t);
	RIG_CHECK(r, a == s->anchor && pc == s->page_count &&
		  nfree == pc - 1 - s->n_live, "write txn after commit %u "
		  "sees anchor %llu, %u pages, %u free; want %llu, %u pages, "
		  "%u live", r->m.base, (unsigned long long)a, pc, nfree,
		  (unsigned long long)s->anchor, s->page_count, s->n_live);
	return RDB_OK;
}

/*
 * After a successful commit (or checkpoint) under sync level s: what the
 * level promises (pager.h).  FULL: durable at commit.  NORMAL: the WAL is
 * written at commit (survives a process crash) and synced at checkpoint.
 * OFF: written at checkpoint at the latest.
 */
static void note_durable(model *m, pager_sync s, int checkpoint)
{
	if (s == PAGER_SYNC_FULL || (s == PAGER_SYNC_NORMAL && checkpoint))
		m->dur_power = m->last_ok;
	if (s != PAGER_SYNC_OFF || checkpoint)
		m->dur_crash = m->last_ok;
}

static rdb_rc txn_abort(rig *r, pager_txn *t, rdb_rc rc)
{
	pager_rollback(t);
	model_restore(&r->m, r->m.base);
	return rc;
}

/* Rewrite page 1 as txn k's (it is live: a new database's first page). */
static rdb_rc mark_page1(rig *r, pager_txn *t, uint32_t k)
{
	uint32_t i;

	for (i = 0; i < r->m.n_live && r->m.live[i] != 1; i++)
		;
	RIG_CHECK(r, i < r->m.n_live, "page 1 is not in use before commit "
		  "%u (the first page allocated was another)", k);
	return op_rewrite(r, t, i, k);
}

/* Commit t as transaction k: page 1 and, 1 in 2, anchor 0 say k;
 * snapshot; commit. */
static rdb_rc txn_commit(rig *r, pager_txn *t, uint32_t k)
{
	pager_stats st;
	uint32_t pc, nfree;
	rdb_rc rc;

	rc = mark_page1(r, t, k);
	if (rc == RDB_OK && tu_rand_below(&r->rng, 2) == 0) {
		rc = rig_note(r, "pager_set_anchor",
			      pager_set_anchor(t, 0, k));
		if (rc == RDB_OK)
			r->m.anchor = k;
	}
	if (rc != RDB_OK)
		return txn_abort(r, t, rc);
	pc = pager_txn_page_count(t);
	nfree = pager_txn_free_count(t);
	RIG_CHECK(r, pc - 1 == r->m.n_live + nfree, "txn %u before commit: "
		  "%u pages but %u live + %u free", k, pc, r->m.n_live, nfree);
	RIG_CHECK(r, model_record(&r->m, k, pc, SNAP_ATTEMPTED),
		  "txn %u: a live page lies beyond page count %u", k, pc);
	r->m.last_try = k;
	r->m.next_k = k + 1;
	rc = rig_note(r, "pager_commit", pager_commit(t));
	if (rc != RDB_OK) {
		model_restore(&r->m, r->m.base);
		return rc;
	}
	r->m.snaps[k].state = SNAP_COMMITTED;
	r->m.last_ok = r->m.base = k;
	note_durable(&r->m, pager_get_sync(r->p), 0);
	pager_get_stats(r->p, &st);
	RIG_CHECK(r, st.page_count == pc && st.free_pages == nfree,
		  "after commit %u stats say %u pages, %u free; the txn had "
		  "%u, %u", k, st.page_count, st.free_pages, pc, nfree);
	return RDB_OK;
}

/* A write transaction of n_ops random page operations, then commit (or
 * rollback).  On any error the transaction is ended and the error
 * returned. */
static rdb_rc run_txn(rig *r, uint32_t n_ops, int rollback)
{
	uint32_t k = r->m.next_k, i;
	pager_txn *t;
	rdb_rc rc = txn_begin(r, &t);

	if (rc != RDB_OK)
		return rc;
	for (i = 0; i < n_ops && rc == RDB_OK; i++)
		rc = op_random(r, t, k);
	if (rc != RDB_OK || rollback)
		return txn_abort(r, t, rc);
	return txn_commit(r, t, k);
}

/* Close through rig_note(). */
static rdb_rc rig_close_noted(rig *r)
{
	rdb_rc rc;

	rdb_err_clear(&r->err);
	rc = rig_note(r, "pager_close", pager_close(r->p));
	r->p = NULL;
	return rc;
}

static rdb_rc rig_checkpoint(rig *r)
{
	rdb_rc rc;

	rdb_err_clear(&r->err);
	rc = rig_note(r, "pager_checkpoint", pager_checkpoint(r->p));

	if (rc == RDB_OK) {
		r->m.ckpt_ok = r->m.last_ok;
		note_durable(&r->m, pager_get_sync(r->p), 1);
	}
	return rc;
}

/* ---- a reader held across commits ------------------------------------ *
 * It keeps checkpoints from copying or restarting past its snapshot, and
 * must go on seeing exactly the state that was committed when it began. */

static rdb_rc reader_begin(rig *r)
{
	const snap *s = &r->m.snaps[r->m.base];
	uint64_t a;
	rdb_rc rc;

	rdb_err_clear(&r->rerr);
	rc = rig_note(r, "pager_begin(read)",
		      pager_begin(r->p, 0, &r->rerr, &r->rd));
	if (rc != RDB_OK) {
		RIG_CHECK(r, r->rd == NULL, "failed pager_begin left *out set");
		return rc;
	}
	r->rd_k = r->m.base;
	a = pager_anchor(r->rd, 0);
	RIG_CHECK(r, a == s->anchor && pager_txn_page_count(r->rd) ==
		  s->page_count, "read txn after commit %u sees anchor %llu, "
		  "%u pages; want %llu, %u", r->rd_k, (unsigned long long)a,
		  pager_txn_page_count(r->rd), (unsigned long long)s->anchor,
		  s->page_count);
	return RDB_OK;
}

/* Check up to n random pages of the reader's snapshot, then end it. */
static rdb_rc reader_end(rig *r, uint32_t n)
{
	const snap *s = &r->m.snaps[r->rd_k];
	uint32_t i, pgno;
	pager_page *pg;
	char why[256];
	rdb_rc rc = RDB_OK;

	for (i = 0; i < n && rc == RDB_OK && s->page_count > 1; i++) {
		pgno = 1 + (uint32_t)tu_rand_below(&r->rng, s->page_count - 1);
		if (s->klast[pgno] == 0)
			continue;
		rc = rig_note(r, "pager_get(read)",
			      pager_get(r->rd, pgno, &pg));
		if (rc != RDB_OK)
			break;
		if (page_differs(pager_data(pg), pgno, s->klast[pgno], why,
				 sizeof(why)))
			rig_fail(r, "reader of txn %u (last commit %u): %s",
				 r->rd_k, r->m.last_ok, why);
		pager_unref(pg);
	}
	pager_rollback(r->rd);
	r->rd = NULL;
	return rc;
}

/* ---- verification after reopen --------------------------------------- */

typedef struct free_walk {
	unsigned char *seen;  /* owned; [pgno] = listed already */
	uint32_t page_count;
	uint32_t n;
	uint32_t bad;         /* first out-of-range or repeated page */
} free_walk;

static int free_walk_cb(void *arg, rdb_pgno pgno, int is_trunk)
{
	free_walk *w = arg;

	(void)is_trunk;
	if (pgno == 0 || pgno >= w->page_count || w->seen[pgno]) {
		w->bad = pgno == 0 ? UINT32_MAX : pgno;
		return 1;
	}
	w->seen[pgno] = 1;
	w->n++;
	return 0;
}

/* The free list must hold exactly the pages of 1..page_count-1 that are
 * not live in s. */
static void verify_freelist(rig *r, pager_txn *t, const snap *s)
{
	free_walk w = { xcalloc(s->page_count, 1), s->page_count, 0, 0 };
	rdb_rc rc = pager_freelist_walk(t, free_walk_cb, &w);
	uint32_t pgno;

	RIG_CHECK(r, rc == RDB_OK && w.bad == 0, "free-list walk: rc %d, "
		  "bad or repeated page %u", rc, w.bad);
	for (pgno = 1; pgno < s->page_count; pgno++)
		RIG_CHECK(r, w.seen[pgno] != (s->klast[pgno] != 0),
			  "page %u is %s", pgno, w.seen[pgno] ?
			  "both live and free" : "neither live nor free");
	RIG_CHECK(r, w.n == pager_txn_free_count(t), "free list holds %u "
		  "pages, pager_txn_free_count says %u", w.n,
		  pager_txn_free_count(t));
	free(w.seen);
}

static void verify_pages(rig *r, pager_txn *t, const snap *s)
{
	pager_page *pg;
	char why[256];
	uint32_t pgno;
	rdb_rc rc;

	for (pgno = 1; pgno < s->page_count; pgno++) {
		if (s->klast[pgno] == 0)
			continue;
		rc = pager_get(t, pgno, &pg);
		RIG_CHECK(r, rc == RDB_OK, "reading live page %u after "
			  "reopen: %d (%s)", pgno, rc, rdb_errstr(rc));
		if (page_differs(pager_data(pg), pgno, s->klast[pgno], why,
				 sizeof(why)))
			rig_fail(r, "after reopen: %s", why);
		pager_unref(pg);
	}
}

/* The transaction that wrote page 1 (0 for a database without pages). */
static uint64_t state_of(rig *r, pager_txn *t)
{
	pager_page *pg;
	uint64_t K;
	rdb_rc rc;

	if (pager_txn_page_count(t) <= 1)
		return 0;
	rc = pager_get(t, 1, &pg);
	RIG_CHECK(r, rc == RDB_OK, "reading page 1 after reopen: %d (%s)", rc,
		  rdb_errstr(rc));
	K = fmt_get_u64(pager_data(pg) + FMT_PAGE_BODY);
	pager_unref(pg);
	return K;
}

/*
 * The database must be at a state K allowed by the model (committed from
 * floor on, or an in-flight commit), equal to snapshot K page for page, with
 * a consistent free list.  Returns K.
 */
static uint32_t rig_verify(rig *r, uint32_t floor)
{
	pager_txn *t = NULL;
	uint64_t K;
	const snap *s;
	rdb_rc rc;

	rdb_err_clear(&r->terr);
	rc = pager_begin(r->p, 0, &r->terr, &t);
	RIG_CHECK(r, rc == RDB_OK, "read txn after reopen: %d", rc);
	K = state_of(r, t);
	RIG_CHECK(r, K <= UINT32_MAX && model_allows(&r->m, (uint32_t)K, floor),
		  "reopened database is at txn %llu; allowed: committed %u..%u "
		  "or a failed commit after %u (last attempted %u)",
		  (unsigned long long)K, floor, r->m.last_ok, r->m.last_ok,
		  r->m.last_try);
	s = &r->m.snaps[K];
	RIG_CHECK(r, pager_txn_page_count(t) == s->page_count &&
		  pager_anchor(t, 0) == s->anchor, "state %llu has %u pages, "
		  "anchor %llu; model %u, %llu", (unsigned long long)K,
		  pager_txn_page_count(t),
		  (unsigned long long)pager_anchor(t, 0), s->page_count,
		  (unsigned long long)s->anchor);
	verify_pages(r, t, s);
	verify_freelist(r, t, s);
	pager_rollback(t);
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
	int early;           /* count calls from before the first open */
} crash_trial;

static const char *fault_name(os_fault k)
{
	static const char *names[] = { "none", "crash", "powerloss", "torn",
				       "eio", "enospc" };
	return (unsigned)k < 6 ? names[k] : "?";
}

static const char *sync_name(pager_sync s)
{
	return s == PAGER_SYNC_FULL ? "full" :
	       s == PAGER_SYNC_NORMAL ? "normal" : "off";
}

/* A random transaction: 1..8 pages or 1..3x the cache, 1 in 8 rolled back,
 * 1 in 8 followed by an explicit checkpoint. */
static rdb_rc random_txn(rig *r)
{
	uint32_t big = 3 * r->opts.cache_pages, n;
	int rollback;
	rdb_rc rc;

	n = 1 + (uint32_t)(tu_rand_below(&r->rng, 2) ?
			   tu_rand_below(&r->rng, 8) :
			   tu_rand_below(&r->rng, big));
	rollback = tu_rand_below(&r->rng, 8) == 0;
	rc = run_txn(r, n, rollback);
	if (rc == RDB_OK && tu_rand_below(&r->rng, 8) == 0)
		rc = rig_checkpoint(r);
	return rc;
}

/* Fresh vfs and rig for the trial, and its replay information. */
static void crash_rig(rig *r, const crash_trial *ct)
{
	uint64_t s = ct->seed;
	uint32_t ckpt = 8 + (uint32_t)tu_rand_below(&s, 57);

	rig_init(r, MODE_CRASH, 16, ckpt, s);
	snprintf(r->ctx, sizeof(r->ctx), "crash trial %ld of %ld%s: base "
		 "seed %llu, trial seed %llu, fault %s%s, sync %s, at call "
		 "%llu of %llu, ckpt_frames %u", ct->idx, ct->n,
		 ct->at ? "" : " (fault-free run counting calls)",
		 (unsigned long long)ct->base_seed,
		 (unsigned long long)ct->seed, fault_name(ct->kind),
		 ct->early ? " (calls counted from creation)" : "",
		 sync_name(ct->sync), (unsigned long long)ct->at,
		 (unsigned long long)ct->calls, ckpt);
}

/* Create the database and commit 1-4 transactions under FULL, then switch
 * to the trial's sync level.  Stops at the first error. */
static rdb_rc crash_prepare(rig *r, const crash_trial *ct)
{
	rdb_rc rc = rig_note(r, "pager_open", rig_open(r));
	uint32_t i, n = 1 + (uint32_t)tu_rand_below(&r->rng, 4);

	for (i = 0; i < n && rc == RDB_OK; i++)
		rc = random_txn(r);
	if (rc == RDB_OK)
		pager_set_sync(r->p, ct->sync);
	return rc;
}

/* 2-8 random transactions.  Before each, 1 in 4 begins a reader (if none
 * is held) and 1 in 3 ends it; 1 in 6 switches to a random sync level.
 * The reader always ends before close. */
static void crash_workload(rig *r)
{
	uint32_t n = 2 + (uint32_t)tu_rand_below(&r->rng, 7), i;
	rdb_rc rc = RDB_OK;

	for (i = 0; i < n && rc == RDB_OK; i++) {
		if (r->rd == NULL && tu_rand_below(&r->rng, 4) == 0)
			rc = reader_begin(r);
		else if (r->rd != NULL && tu_rand_below(&r->rng, 3) == 0)
			rc = reader_end(r, 16);
		if (tu_rand_below(&r->rng, 6) == 0)
			pager_set_sync(r->p, (pager_sync)tu_rand_below(&r->rng,
								       3));
		if (rc == RDB_OK)
			rc = random_txn(r);
	}
	if (r->rd != NULL)
		(void)reader_end(r, rc == RDB_OK ? 16 : 0);
}

/* Arm the trial's fault (none when counting) before the first open of an
 * early trial, else after crash_prepare(); then run the workload. */
static void crash_play(rig *r, const crash_trial *ct)
{
	os_fault kind = ct->at ? ct->kind : OS_FAULT_NONE;
	rdb_rc rc;

	if (ct->early)
		os_mem_set_fault(r->vfs, kind, ct->at, 0, ct->seed);
	rc = crash_prepare(r, ct);
	RIG_CHECK(r, rc == RDB_OK || ct->early, "setup: %d (%s)", rc,
		  rdb_errstr(rc));
	if (!ct->early)
		os_mem_set_fault(r->vfs, kind, ct->at, 0, ct->seed);
	if (rc == RDB_OK)
		crash_workload(r);
}

/* Calls made by the trial's workload and close when nothing fails. */
static uint64_t crash_measure(const crash_trial *ct)
{
	uint64_t calls;
	rig r;

	crash_rig(&r, ct);
	crash_play(&r, ct);
	rig_close_ok(&r);
	calls = os_mem_calls(r.vfs);
	rig_done(&r);
	return calls;
}

/* The last transaction the fault must keep (see note_durable()); after a
 * clean close, every commit. */
static uint32_t crash_floor(const crash_trial *ct, int fired, const model *m)
{
	if (!fired)
		return m->last_ok;
	return ct->kind == OS_FAULT_CRASH ? m->dur_crash : m->dur_power;
}

/* The same fault again at call `at` of the reopen (recovery) and close
 * that follow; the next reopen must still find an allowed state. */
static void crash_in_recovery(rig *r, const crash_trial *ct, uint64_t at)
{
	size_t len = strlen(r->ctx);
	int fired;
	rdb_rc rc;

	snprintf(r->ctx + len, sizeof(r->ctx) - len, "; again at call %llu "
		 "of reopen + close", (unsigned long long)at);
	os_mem_restart(r->vfs);
	os_mem_set_fault(r->vfs, ct->kind, at, 0, ct->seed + 1);
	rc = rig_open(r);
	RIG_CHECK(r, rc == RDB_OK || rc == RDB_IOERR || rc == RDB_CANTOPEN,
		  "pager_open with a fault failed with %d (%s)", rc,
		  rdb_errstr(rc));
	if (rc != RDB_OK)
		return;
	rc = pager_close(r->p);
	r->p = NULL;
	fired = os_mem_fault_fired(r->vfs);
	RIG_CHECK(r, fired == (rc != RDB_OK), "pager_close after recovery "
		  "returned %d (%s); the fault %s", rc, rdb_errstr(rc),
		  fired ? "had fired" : "never fired");
}

/*
 * Writing on after a recovery: the recovered state K becomes the base, the
 * lost transactions are forgotten, and 1-2 more commit under FULL.  A crash
 * at close then leaves them in the WAL behind whatever the first fault cut
 * short; the next reopen must find exactly the last of them.
 */
static void crash_write_on(rig *r, uint32_t K)
{
	model *m = &r->m;
	uint32_t k, n = 1 + (uint32_t)tu_rand_below(&r->rng, 2);
	size_t len = strlen(r->ctx);
	rdb_rc rc;

	snprintf(r->ctx + len, sizeof(r->ctx) - len, "; writing on from %u", K);
	for (k = K + 1; k < m->next_k; k++)
		m->snaps[k].state = SNAP_NONE;
	m->snaps[K].state = SNAP_COMMITTED;
	m->base = m->last_ok = m->last_try = K;
	m->ckpt_ok = m->dur_crash = m->dur_power = K;
	model_restore(m, K);
	os_mem_set_fault(r->vfs, OS_FAULT_NONE, 0, 0, 0);
	while (n-- > 0) {
		rc = random_txn(r);
		RIG_CHECK(r, rc == RDB_OK, "commit after recovery: %d (%s)", rc,
			  rdb_errstr(rc));
	}
	os_mem_set_fault(r->vfs, OS_FAULT_CRASH, 1, 0, 1);
	rc = pager_close(r->p);
	r->p = NULL;
	RIG_CHECK(r, os_mem_fault_fired(r->vfs) == (rc != RDB_OK),
		  "pager_close returned %d (%s); the crash %s", rc,
		  rdb_errstr(rc), os_mem_fault_fired(r->vfs) ? "had fired" :
		  "never fired");
	rig_reopen(r);
	rig_verify(r, m->last_ok);
}

/* Open read-only (recovering without writing), verify, close; returns the
 * state found.  A database never created cannot be opened read-only: that
 * is state 0. */
static uint32_t crash_verify_readonly(rig *r, uint32_t floor)
{
	uint32_t K;
	rdb_rc rc;

	os_mem_restart(r->vfs);
	r->opts.readonly = 1;
	rc = rig_open(r);
	r->opts.readonly = 0;
	if (rc == RDB_CANTOPEN && model_allows(&r->m, 0, floor))
		return 0;
	RIG_CHECK(r, rc == RDB_OK, "read-only reopen after the fault failed "
		  "with %d (%s)", rc, rdb_errstr(rc));
	K = rig_verify(r, floor);
	rig_close_ok(r);
	return K;
}

/* Run one trial; returns 1 if the fault fired.  1 in 4 trials crash once
 * more during the recovery; 1 in 4 first recover read-only, which must
 * find the same state; 1 in 2 write on after it. */
static int crash_run(const crash_trial *ct)
{
	uint64_t s = ct->seed ^ 0xec0;
	uint32_t K, K_ro;
	int fired;
	rdb_rc rc;
	rig r;

	crash_rig(&r, ct);
	crash_play(&r, ct);
	rc = r.p != NULL ? pager_close(r.p) : RDB_IOERR;
	r.p = NULL;
	fired = os_mem_fault_fired(r.vfs);
	RIG_CHECK(&r, fired == (rc != RDB_OK), "pager_close returned %d "
		  "(%s); the fault %s", rc, rdb_errstr(rc),
		  fired ? "had fired" : "never fired");
	if (tu_rand_below(&s, 4) == 0)
		crash_in_recovery(&r, ct, 1 + tu_rand_below(&s, 40));
	K_ro = UINT32_MAX;
	if (tu_rand_below(&s, 4) == 0)
		K_ro = crash_verify_readonly(&r, crash_floor(ct, fired, &r.m));
	rig_reopen(&r);
	K = rig_verify(&r, crash_floor(ct, fired, &r.m));
	RIG_CHECK(&r, K_ro == UINT32_MAX || K == K_ro, "read-only open found "
		  "state %u, then the writable open %u", K_ro, K);
	if (tu_rand_below(&s, 2) == 0)
		crash_write_on(&r, K);
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

START_TEST(test_pager_crash_trials_reopen_at_committed_prefix)
{
	static const os_fault kinds[] = { OS_FAULT_CRASH, OS_FAULT_POWERLOSS,
					  OS_FAULT_TORN };
	static const pager_sync syncs[] = { PAGER_SYNC_FULL,
					    PAGER_SYNC_NORMAL, PAGER_SYNC_OFF };
	long n = tu_scaled(10000, 200), only = env_long(
		"RDB_PAGER_FAULT_TRIAL", -1), i, run = 0, fired = 0;
	uint64_t base = tu_seed(), s;
	double t0 = now_s();
	crash_trial ct;

	tu_seed_note("pager crash trials", base);
	for (i = 0; i < n; i++) {
		if (only >= 0 && i != only)
			continue;
		ct = (crash_trial){ base, mix64(base + (uint64_t)i) | 1, i, n,
				    kinds[i % 3], syncs[i / 3 % 3], 0, 0,
				    i % 8 == 7 };
		ct.calls = crash_measure(&ct);
		s = ct.seed ^ 0xfa17;
		ct.at = 1 + tu_rand_below(&s, ct.calls);
		fired += crash_run(&ct);
		run++;
	}
	fprintf(stderr, "pager crash trials: %ld run, %ld faults fired, seed "
		"%llu (%.1f s)\n", run, fired, (unsigned long long)base,
		now_s() - t0);
	ck_assert_msg(run > 0 && fired * 10 >= run * 9, "only %ld of %ld "
		      "faults fired (seed %llu)", fired, run,
		      (unsigned long long)base);
}
END_TEST

/* ---- I/O errors and full disk at every call ------------------------- */

static const struct io_kind {
	os_fault kind;
	int sticky;
	const char *name;
} io_kinds[] = {
	{ OS_FAULT_EIO, 0, "eio once" },
	{ OS_FAULT_EIO, 1, "eio sticky" },
	{ OS_FAULT_ENOSPC, 0, "enospc once" },
	{ OS_FAULT_ENOSPC, 1, "enospc sticky" },
};

/* Transaction j of the fixed workload of n: small ones of 1-10 page
 * operations, one of 3x the cache, every 7th rolled back, one explicit
 * checkpoint, a reader held from n/6 to n/2.  With keep_going, errors do
 * not stop it. */
static void fixed_workload(rig *r, int n, int keep_going)
{
	rdb_rc rc = RDB_OK;
	uint32_t size;
	int j;

	for (j = 0; j < n && (rc == RDB_OK || keep_going); j++) {
		rc = RDB_OK;
		if (j == n / 6)
			rc = reader_begin(r);
		else if (j == n / 2 && r->rd != NULL)
			rc = reader_end(r, 32);
		if (rc != RDB_OK && !keep_going)
			break;
		size = j == n * 2 / 5 ? 3 * r->opts.cache_pages + 5 :
		       1 + (uint32_t)tu_rand_below(&r->rng, 10);
		rc = run_txn(r, size, j % 7 == 3);
		if (rc == RDB_OK && j == n * 2 / 3)
			rc = rig_checkpoint(r);
	}
	if (r->rd != NULL)
		(void)reader_end(r, rc == RDB_OK ? 32 : 0);
}

static const pager_sync io_syncs[] = { PAGER_SYNC_FULL, PAGER_SYNC_NORMAL,
					PAGER_SYNC_OFF };

/* Variant v: io_kinds[v % 4] under io_syncs[v / 4]. */
static void io_rig(rig *r, int v, uint64_t at, uint64_t calls)
{
	const struct io_kind *k = &io_kinds[v % 4];
	rdb_rc rc;

	rig_init(r, MODE_IO, 16, 16, FIXED_SEED);
	r->opts.sync = io_syncs[v / 4];
	snprintf(r->ctx, sizeof(r->ctx), "%s, sync %s, at call %llu of %llu%s",
		 k->name, sync_name(r->opts.sync), (unsigned long long)at,
		 (unsigned long long)calls,
		 at ? "" : " (fault-free run counting calls)");
	r->sticky = k->sticky;
	r->want_rc = k->kind == OS_FAULT_EIO ? RDB_IOERR : RDB_FULL;
	rc = rig_open(r);
	RIG_CHECK(r, rc == RDB_OK, "pager_open: %d", rc);
}

static uint64_t io_measure(int v)
{
	uint64_t calls;
	rig r;

	io_rig(&r, v, 0, 0);
	os_mem_set_fault(r.vfs, OS_FAULT_NONE, 0, 0, 0);
	fixed_workload(&r, IO_TXNS, 0);
	rig_close_ok(&r);
	calls = os_mem_calls(r.vfs);
	rig_done(&r);
	return calls;
}

/* Nothing is lost without a crash: every commit the sync level has
 * written survives (see note_durable()); after a clean close, every one. */
static uint32_t io_floor(const rig *r, int close_ok)
{
	return close_ok ? r->m.last_ok : r->m.dur_crash;
}

/* Fault at call `at`; after a non-sticky fault the workload goes on, and the
 * pager must either keep working correctly or keep refusing.  Returns bit 0:
 * the fault fired, bit 1: an error reached the caller. */
static int io_trial(int v, uint64_t at, uint64_t calls)
{
	const struct io_kind *k = &io_kinds[v % 4];
	int fired, reported, close_ok;
	rig r;

	io_rig(&r, v, at, calls);
	os_mem_set_fault(r.vfs, k->kind, at, k->sticky, at);
	fixed_workload(&r, IO_TXNS, !k->sticky);
	close_ok = rig_close_noted(&r) == RDB_OK;
	fired = os_mem_fault_fired(r.vfs);
	reported = r.first_rc != RDB_OK;
	rig_reopen(&r);
	rig_verify(&r, io_floor(&r, close_ok));
	rig_close_ok(&r);
	rig_done(&r);
	return fired | reported << 1;
}

START_TEST(test_pager_ioerr_at_every_call_keeps_last_commit)
{
	const struct io_kind *k = &io_kinds[_i % 4];
	uint64_t calls = io_measure(_i), at, fired = 0, reported = 0;
	double t0 = now_s();
	int res;

	for (at = 1; at <= calls; at++) {
		res = io_trial(_i, at, calls);
		fired += res & 1;
		reported += res >> 1 & 1;
	}
	fprintf(stderr, "pager %s, sync %s: %llu calls, %llu faults fired, "
		"%llu reached the caller (%.1f s)\n", k->name,
		sync_name(io_syncs[_i / 4]), (unsigned long long)calls,
		(unsigned long long)fired, (unsigned long long)reported,
		now_s() - t0);
	ck_assert_uint_gt(calls, 20);
	/* Replays are deterministic up to the fault, so every EIO fires; an
	 * ENOSPC needs a write at or after its call. */
	if (k->kind == OS_FAULT_EIO)
		ck_assert_uint_eq(fired, calls);
	else
		ck_assert_uint_gt(fired, calls / 2);
	ck_assert_uint_gt(reported, 0);
}
END_TEST

/* ---- allocation failures at every allocation ------------------------ */

/* Fail allocation n (and later ones if sticky) through open, the workload
 * and close; then reopen without failures and verify.  Returns whether the
 * failure fired. */
static int nomem_trial(long n, int sticky)
{
	int failed;
	rdb_rc rc;
	rig r;

	rig_init(&r, MODE_MEM, 16, 16, FIXED_SEED);
	snprintf(r.ctx, sizeof(r.ctx), "allocation %ld fails%s", n,
		 sticky ? ", and every later one" : "");
	r.sticky = sticky;
	rdb_mem_fail_at(n, sticky);
	rc = rig_note(&r, "pager_open", rig_open(&r));
	if (rc == RDB_OK) {
		fixed_workload(&r, MEM_TXNS, !sticky);
		rig_close_noted(&r);
	}
	failed = rdb_mem_failed();
	rdb_mem_fail_at(0, 0);
	rig_reopen(&r);
	rig_verify(&r, r.m.last_ok);
	rig_close_ok(&r);
	rig_done(&r);
	return failed;
}

START_TEST(test_pager_nomem_at_every_allocation_keeps_last_commit)
{
	int sticky = _i;
	double t0 = now_s();
	long n;

	for (n = 1; nomem_trial(n, sticky); n++)
		ck_assert_int_lt(n, 1000000);
	fprintf(stderr, "pager nomem%s: %ld allocation points (%.1f s)\n",
		sticky ? " sticky" : "", n - 1, now_s() - t0);
	ck_assert_int_gt(n, 10);
}
END_TEST

/* ---- faults while the WAL is recovered ------------------------------- */

/* A database whose WAL holds committed transactions: the small fixed
 * workload under FULL without automatic checkpoints, then a crash. */
static void recovery_setup(rig *r, rig_mode mode, const char *what)
{
	rdb_rc rc;

	rig_init(r, mode, 16, 1u << 20, FIXED_SEED);
	snprintf(r->ctx, sizeof(r->ctx), "recovery: %s", what);
	rc = rig_open(r);
	RIG_CHECK(r, rc == RDB_OK, "pager_open: %d", rc);
	fixed_workload(r, MEM_TXNS, 0);
	RIG_CHECK(r, r->first_rc == RDB_OK && r->m.last_ok > r->m.ckpt_ok,
		  "setup: rc %d, last commit %u, checkpointed %u", r->first_rc,
		  r->m.last_ok, r->m.ckpt_ok);
	os_mem_set_fault(r->vfs, OS_FAULT_CRASH, 1, 0, 1);
	(void)pager_close(r->p);
	r->p = NULL;
	os_mem_restart(r->vfs);
	os_mem_set_fault(r->vfs, OS_FAULT_NONE, 0, 0, 0);
}

/* Open (creating the database or replaying its WAL), two or three
 * transactions, close: under whatever fault is armed. */
static void open_run(rig *r, int keep_going)
{
	rdb_rc rc = rig_note(r, "pager_open", rig_open(r));
	int i;

	for (i = 0; i < 2 && rc == RDB_OK; i++)
		rc = run_txn(r, 6, 0);
	if (r->p != NULL && (rc == RDB_OK || keep_going))
		rc = run_txn(r, 6, 0);
	if (r->p != NULL)
		rig_close_noted(r);
}

/* Calls of a fault-free open_run(). */
static uint64_t recovery_calls(void)
{
	uint64_t calls;
	rig r;

	recovery_setup(&r, MODE_CLEAN, "measuring");
	open_run(&r, 0);
	calls = os_mem_calls(r.vfs);
	rig_done(&r);
	return calls;
}

START_TEST(test_pager_ioerr_during_recovery_keeps_last_commit)
{
	const struct io_kind *k = &io_kinds[_i];
	uint64_t calls = recovery_calls(), at, fired = 0;
	char what[64];
	rig r;

	for (at = 1; at <= calls; at++) {
		snprintf(what, sizeof(what), "%s at call %llu of %llu", k->name,
			 (unsigned long long)at, (unsigned long long)calls);
		recovery_setup(&r, MODE_IO, what);
		r.sticky = k->sticky;
		r.want_rc = k->kind == OS_FAULT_EIO ? RDB_IOERR : RDB_FULL;
		os_mem_set_fault(r.vfs, k->kind, at, k->sticky, at);
		open_run(&r, !k->sticky);
		fired += os_mem_fault_fired(r.vfs) != 0;
		rig_reopen(&r);
		rig_verify(&r, r.m.last_ok);
		rig_close_ok(&r);
		rig_done(&r);
	}
	fprintf(stderr, "pager %s in recovery: %llu calls, %llu faults "
		"fired\n", k->name, (unsigned long long)calls,
		(unsigned long long)fired);
	ck_assert_uint_gt(calls, 10);
	ck_assert_uint_gt(fired, calls / 2);
}
END_TEST

/* An I/O error or a full disk at every call that creates a database. */
START_TEST(test_pager_ioerr_during_creation_leaves_a_database)
{
	const struct io_kind *k = &io_kinds[_i];
	uint64_t calls, at, fired = 0;
	rig r;

	rig_init(&r, MODE_CLEAN, 16, 16, FIXED_SEED);
	open_run(&r, 0);
	calls = os_mem_calls(r.vfs);
	rig_done(&r);
	for (at = 1; at <= calls; at++) {
		rig_init(&r, MODE_IO, 16, 16, FIXED_SEED);
		snprintf(r.ctx, sizeof(r.ctx), "creation: %s at call %llu of "
			 "%llu", k->name, (unsigned long long)at,
			 (unsigned long long)calls);
		r.sticky = k->sticky;
		r.want_rc = k->kind == OS_FAULT_EIO ? RDB_IOERR : RDB_FULL;
		os_mem_set_fault(r.vfs, k->kind, at, k->sticky, at);
		open_run(&r, !k->sticky);
		fired += os_mem_fault_fired(r.vfs) != 0;
		rig_reopen(&r);
		rig_verify(&r, r.m.last_ok);
		rig_close_ok(&r);
		rig_done(&r);
	}
	fprintf(stderr, "pager %s in creation: %llu calls, %llu faults "
		"fired\n", k->name, (unsigned long long)calls,
		(unsigned long long)fired);
	ck_assert_uint_gt(calls, 5);
	ck_assert_uint_gt(fired, calls / 2);
}
END_TEST

START_TEST(test_pager_nomem_during_recovery_keeps_last_commit)
{
	int sticky = _i, failed = 1;
	char what[64];
	long n;
	rig r;

	for (n = 1; failed; n++) {
		snprintf(what, sizeof(what), "allocation %ld fails%s", n,
			 sticky ? ", and every later one" : "");
		recovery_setup(&r, MODE_MEM, what);
		r.sticky = sticky;
		rdb_mem_fail_at(n, sticky);
		open_run(&r, !sticky);
		failed = rdb_mem_failed();
		rdb_mem_fail_at(0, 0);
		rig_reopen(&r);
		rig_verify(&r, r.m.last_ok);
		rig_close_ok(&r);
		rig_done(&r);
		ck_assert_int_lt(n, 1000000);
	}
	fprintf(stderr, "pager nomem%s in recovery: %ld allocation points\n",
		sticky ? " sticky" : "", n - 2);
	ck_assert_int_gt(n, 5);
}
END_TEST

/* ---- transactions far larger than the cache ------------------------- */

static void big_commit(rig *r, uint32_t n)
{
	uint32_t k = r->m.next_k, i;
	pager_stats before, after;
	pager_txn *t;

	pager_get_stats(r->p, &before);
	ck_assert_int_eq(txn_begin(r, &t), RDB_OK);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(op_alloc(r, t, k), RDB_OK);
	ck_assert_int_eq(txn_commit(r, t, k), RDB_OK);
	pager_get_stats(r->p, &after);
	RIG_CHECK(r, after.spills > before.spills, "a %u-page txn with %u "
		  "cache frames spilled nothing", n, r->opts.cache_pages);
}

/* Rewrite every live page and add n more, then roll back. */
static void big_rollback(rig *r, uint32_t n)
{
	uint32_t k = r->m.next_k, i, n_live = r->m.n_live;
	pager_stats before, after;
	pager_txn *t;

	pager_get_stats(r->p, &before);
	ck_assert_int_eq(txn_begin(r, &t), RDB_OK);
	for (i = 0; i < n_live; i++)
		ck_assert_int_eq(op_rewrite(r, t, i, k), RDB_OK);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(op_alloc(r, t, k), RDB_OK);
	txn_abort(r, t, RDB_OK);
	pager_get_stats(r->p, &after);
	RIG_CHECK(r, after.spills > before.spills, "a %u-page txn with %u "
		  "cache frames spilled nothing", n_live + n,
		  r->opts.cache_pages);
}

START_TEST(test_pager_bigtxn_beyond_cache_commits_and_rolls_back)
{
	uint32_t cache = _i == 0 ? 16 : 64, n = 100 * cache;
	rdb_rc rc;
	rig r;

	rig_init(&r, MODE_CLEAN, cache, 0, FIXED_SEED);
	snprintf(r.ctx, sizeof(r.ctx), "bigtxn: %u pages, cache %u", n, cache);
	ck_assert_int_eq(rig_open(&r), RDB_OK);
	big_commit(&r, n);
	rig_close_ok(&r);
	rig_reopen(&r);
	ck_assert_uint_eq(rig_verify(&r, r.m.last_ok), 1);
	big_rollback(&r, n);
	ck_assert_uint_eq(rig_verify(&r, r.m.last_ok), 1);
	/* The rolled-back pages spilled to the WAL must not come back after
	 * a crash either. */
	os_mem_set_fault(r.vfs, OS_FAULT_CRASH, 1, 0, 1);
	rc = pager_close(r.p);
	r.p = NULL;
	ck_assert_int_ne(rc, RDB_OK);
	rig_reopen(&r);
	ck_assert_uint_eq(rig_verify(&r, r.m.last_ok), 1);
	rig_close_ok(&r);
	rig_done(&r);
}
END_TEST

static uint32_t rig_free_pages(rig *r)
{
	pager_stats st;

	pager_get_stats(r->p, &st);
	return st.free_pages;
}

/* Free n random live pages (enough for several free-list trunks) and
 * rewrite every 7th survivor in one transaction. */
static void big_free(rig *r, uint32_t n)
{
	uint32_t k = r->m.next_k, i;
	pager_txn *t;

	ck_assert_int_eq(txn_begin(r, &t), RDB_OK);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(op_free(r, t, (uint32_t)tu_rand_below(&r->rng,
					 r->m.n_live)), RDB_OK);
	for (i = 0; i < r->m.n_live; i += 7)
		ck_assert_int_eq(op_rewrite(r, t, i, k), RDB_OK);
	ck_assert_int_eq(txn_commit(r, t, k), RDB_OK);
}

/* Close with a fault at its first call, reopen, and check that the last
 * commit is there (every commit here is under FULL). */
static void big_crash_reopen(rig *r, os_fault kind)
{
	rdb_rc rc;

	os_mem_set_fault(r->vfs, kind, 1, 0, 1);
	rc = pager_close(r->p);
	r->p = NULL;
	ck_assert_int_ne(rc, RDB_OK);
	rig_reopen(r);
	ck_assert_uint_eq(rig_verify(r, r->m.last_ok), r->m.last_ok);
}

START_TEST(test_pager_bigtxn_frees_and_reuses_many_pages)
{
	uint32_t cache = _i == 0 ? 16 : 64, n = 100 * cache, pc;
	rig r;

	rig_init(&r, MODE_CLEAN, cache, 0, FIXED_SEED);
	snprintf(r.ctx, sizeof(r.ctx), "bigtxn free: %u pages, cache %u", n,
		 cache);
	ck_assert_int_eq(rig_open(&r), RDB_OK);
	big_commit(&r, n);
	big_free(&r, n * 2 / 3);
	big_crash_reopen(&r, OS_FAULT_CRASH);
	pc = r.m.snaps[r.m.last_ok].page_count;
	ck_assert_uint_gt(rig_free_pages(&r), FMT_FREE_CAPACITY(PS) * 2);
	/* Fewer pages than are free: all of them come from the free list. */
	big_commit(&r, n / 2);
	RIG_CHECK(&r, r.m.snaps[r.m.last_ok].page_count == pc, "allocating "
		  "%u pages with %u free grew the file from %u to %u pages",
		  n / 2, n * 2 / 3, pc, r.m.snaps[r.m.last_ok].page_count);
	big_crash_reopen(&r, OS_FAULT_POWERLOSS);
	rig_close_ok(&r);
	rig_done(&r);
}
END_TEST

/* A failed nomem test must not leave allocation failures armed (matters
 * with CK_FORK=no). */
static void mem_fail_off(void)
{
	rdb_mem_fail_at(0, 0);
}

Suite *pager_fault_suite(void)
{
	Suite *s = suite_create("pager_fault");
	TCase *tc;

	tc = tcase_create("crash");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_pager_crash_trials_reopen_at_committed_prefix);
	suite_add_tcase(s, tc);

	tc = tcase_create("ioerr");
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc,
		test_pager_ioerr_at_every_call_keeps_last_commit, 0, 12);
	tcase_add_loop_test(tc,
		test_pager_ioerr_during_recovery_keeps_last_commit, 0, 4);
	tcase_add_loop_test(tc,
		test_pager_ioerr_during_creation_leaves_a_database, 0, 4);
	suite_add_tcase(s, tc);

	tc = tcase_create("nomem");
	tcase_set_timeout(tc, 600);
	tcase_add_checked_fixture(tc, NULL, mem_fail_off);
	tcase_add_loop_test(tc,
		test_pager_nomem_at_every_allocation_keeps_last_commit, 0, 2);
	tcase_add_loop_test(tc,
		test_pager_nomem_during_recovery_keeps_last_commit, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("bigtxn");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc,
		test_pager_bigtxn_beyond_cache_commits_and_rolls_back, 0, 2);
	tcase_add_loop_test(tc,
		test_pager_bigtxn_frees_and_reuses_many_pages, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
