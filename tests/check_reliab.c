/*
 * check_reliab.c -- whole-engine reliability (issue 9): a fixed SQL and
 * KV workload through the public API on the fault-injecting in-memory
 * file system, with a crash, power loss, torn write or I/O error at each
 * I/O call in turn and an allocation failure at each allocation in turn
 * ("fault"); a disk that refuses to grow ("fault"); every byte of a
 * small database and bit flips of a WAL ("corrupt"); real SIGKILLs of a
 * child process ("kill"); one writer and eight readers on one handle
 * checking snapshot invariants ("concurrency").
 * What each proves and its figures: docs/testing.md.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "api/api_test.h"
#include "mem.h"
#include "pager/os.h"
#include "rdb.h"
#include "test_util.h"

#define DB_NAME "w.rdb"

/* ==== the workload ========================================================= *
 * Each step is one unit the application sees succeed or fail: an
 * autocommit statement, an explicit transaction, a KV batch, a checkpoint.
 * Between steps the database's contents are a pure function of the number
 * of steps that succeeded, captured by digest(). */

static int sql(rdb *db, const char *text)
{
	return rdb_exec(db, text, NULL, NULL, NULL);
}

/* Deterministic bytes for blob and KV values. */
static void fill(unsigned char *b, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (unsigned char)((i * 31u + seed * 7u) % 251u);
}

static int insert_big(rdb *db, int id, const char *name, size_t n)
{
	static unsigned char blob[9000];
	rdb_stmt *st = NULL;
	int rc;

	fill(blob, n, (unsigned)id);
	rc = rdb_prepare(db, "INSERT INTO t VALUES (?, ?, ?, ?)", -1, &st,
			 NULL);
	if (rc != RDB_OK)
		return rc;
	if ((rc = rdb_bind_int64(st, 1, id)) == RDB_OK &&
	    (rc = rdb_bind_text(st, 2, name, -1)) == RDB_OK &&
	    (rc = rdb_bind_int64(st, 3, id * 10)) == RDB_OK &&
	    (rc = rdb_bind_blob(st, 4, blob, (int)n)) == RDB_OK)
		rc = rdb_step(st);
	rdb_finalize(st);
	return rc == RDB_DONE ? RDB_OK : rc;
}

static int kv_batch1(rdb *db)
{
	static unsigned char big[5000];
	rdb_kv_op ops[4];

	fill(big, sizeof(big), 3);
	memset(ops, 0, sizeof(ops));
	ops[0] = (rdb_kv_op){ 0, "k1", 2, "one", 3 };
	ops[1] = (rdb_kv_op){ 0, "k2", 2, big, sizeof(big) };
	ops[2] = (rdb_kv_op){ 0, "k3", 2, "three", 5 };
	ops[3] = (rdb_kv_op){ 1, "k1", 2, NULL, 0 };
	return rdb_kv_batch(db, ops, 4);
}

static int kv_step2(rdb *db)
{
	int rc = rdb_kv_put(db, "k4", 2, "four", 4);

	return rc != RDB_OK ? rc : RDB_OK;
}

static int kv_step3(rdb *db)
{
	return rdb_kv_delete(db, "k2", 2, NULL);
}

static int step_sql(rdb *db, int i);

#define N_STEPS 17

static int step(rdb *db, int i)
{
	switch (i) {
	case 3: return insert_big(db, 5, "epsilon", 6000);
	case 5: return kv_batch1(db);
	case 6: return rdb_checkpoint_now(db);
	case 12: return kv_step2(db);
	case 14: return kv_step3(db);
	default: return step_sql(db, i);
	}
}

static int step_sql(rdb *db, int i)
{
	static const char *const text[N_STEPS] = {
		"CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, "
		"v INTEGER, pad BLOB)",
		"CREATE INDEX t_name ON t(name)",
		"INSERT INTO t VALUES (1, 'alpha', 10, NULL), "
		"(2, 'beta', 20, x'00ff'), (3, 'gamma', 30, NULL), "
		"(4, 'delta', 40, NULL)",
		NULL,
		"BEGIN; UPDATE t SET v = v + 1 WHERE id <= 3; "
		"INSERT INTO t VALUES (6, 'zeta', 60, NULL); "
		"DELETE FROM t WHERE id = 4; COMMIT",
		NULL, NULL,
		"CREATE TABLE u(k TEXT PRIMARY KEY, n INTEGER)",
		"INSERT INTO u SELECT name, v FROM t",
		"BEGIN; DELETE FROM t WHERE id = 2; ROLLBACK",
		"UPDATE t SET name = upper(name) WHERE v > 25",
		"CREATE UNIQUE INDEX u_n ON u(n)",
		NULL,
		"INSERT INTO t SELECT id + 100, name || '!', v, pad FROM t",
		NULL,
		"DROP TABLE u",
		"BEGIN; DELETE FROM t WHERE id > 104; "
		"UPDATE t SET pad = x'0102' WHERE id = 105; COMMIT",
	};
	int rc = sql(db, text[i]);

	if (rc != RDB_OK && !rdb_get_autocommit(db))
		/* A failed statement inside BEGIN leaves the transaction
		 * open, as in SQLite: the application rolls it back. */
		(void)sql(db, "ROLLBACK");
	return rc;
}

/* ---- digest: everything the workload can change ---------------------- */

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* Hash every row of query q; an absent table hashes a marker.  Any other
 * error is returned. */
static int digest_query(rdb *db, const char *q, uint64_t *h)
{
	rdb_stmt *st = NULL;
	int rc, i, n;

	rc = rdb_prepare(db, q, -1, &st, NULL);
	if (rc != RDB_OK) {
		if (rc == RDB_ERROR && strstr(rdb_errmsg(db), "no such"))
			rc = RDB_OK;
		*h = mix(*h, "absent", 6);
		return rc;
	}
	while ((rc = rdb_step(st)) == RDB_ROW) {
		n = rdb_column_count(st);
		for (i = 0; i < n; i++) {
			int ty = rdb_column_type(st, i);
			const void *b = rdb_column_blob(st, i);

			*h = mix(*h, &ty, sizeof(ty));
			*h = mix(*h, b, (size_t)rdb_column_bytes(st, i));
		}
		*h = mix(*h, "\n", 1);
	}
	rdb_finalize(st);
	return rc == RDB_DONE ? RDB_OK : rc;
}

static int digest(rdb *db, uint64_t *out)
{
	static const char *const q[] = {
		"SELECT * FROM t ORDER BY id",
		"SELECT name, id FROM t INDEXED BY t_name ORDER BY name",
		"SELECT * FROM u ORDER BY k",
		"SELECT n FROM u INDEXED BY u_n ORDER BY n",
		"SELECT name, type, sql FROM rdb_tables ORDER BY name",
		"SELECT name, table_name FROM rdb_indexes ORDER BY name",
	};
	static const char *const keys[] = { "k1", "k2", "k3", "k4" };
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		if ((rc = digest_query(db, q[i], &h)) != RDB_OK)
			return rc;
	for (i = 0; i < 4; i++) {
		void *v = NULL;
		size_t n = 0;

		rc = rdb_kv_get_alloc(db, keys[i], 2, &v, &n);
		if (rc == RDB_NOTFOUND)
			h = mix(h, "none", 4);
		else if (rc == RDB_OK)
			h = mix(h, v, n);
		rdb_kv_free(v);
		if (rc != RDB_OK && rc != RDB_NOTFOUND)
			return rc;
	}
	*out = h;
	return RDB_OK;
}

/* PRAGMA integrity_check's single row into buf. */
static int integrity(rdb *db, char *buf, size_t cap)
{
	rdb_stmt *st = NULL;
	int rc;

	snprintf(buf, cap, "(no row)");
	rc = rdb_prepare(db, "PRAGMA integrity_check", -1, &st, NULL);
	if (rc != RDB_OK)
		return rc;
	buf[0] = '\0';
	while ((rc = rdb_step(st)) == RDB_ROW)
		snprintf(buf + strlen(buf), cap - strlen(buf), "%s;",
			 (const char *)rdb_column_text(st, 0));
	rdb_finalize(st);
	return rc == RDB_DONE ? RDB_OK : rc;
}

/* ---- one run --------------------------------------------------------- */

typedef struct run_out {
	int n_ok;                 /* steps that returned RDB_OK */
	int open_rc, step_rc;     /* the first failure (RDB_OK: none) */
	int close_rc;
	char msg[200];            /* the first failure's message */
} run_out;

static rdb_open_opts small_opts(void)
{
	rdb_open_opts o;

	memset(&o, 0, sizeof(o));
	o.cache_pages = 16;      /* force spills and evictions */
	o.sync = RDB_SYNC_FULL;
	return o;
}

/* Open, run the steps until the first failure, close.  With d != NULL
 * (a fault-free run) record the digest after each step. */
static void run_workload(os_vfs *vfs, run_out *r, uint64_t *d)
{
	rdb_open_opts o = small_opts();
	rdb *db = NULL;
	int i, rc;

	memset(r, 0, sizeof(*r));
	r->open_rc = rdb_open_vfs(vfs, DB_NAME, &db, &o);
	if (r->open_rc != RDB_OK) {
		snprintf(r->msg, sizeof(r->msg), "open: %s", rdb_errmsg(db));
		rdb_close(db);
		return;
	}
	if (d != NULL)
		ck_assert_int_eq(digest(db, &d[0]), RDB_OK);
	for (i = 0; i < N_STEPS; i++) {
		rc = step(db, i);
		if (rc != RDB_OK) {
			r->step_rc = rc;
			snprintf(r->msg, sizeof(r->msg), "step %d: %s", i,
				 rdb_errmsg(db));
			break;
		}
		r->n_ok++;
		if (d != NULL)
			ck_assert_int_eq(digest(db, &d[i + 1]), RDB_OK);
	}
	r->close_rc = rdb_close(db);
}

/* Reopen after the fault and check: integrity ok, and the contents are
 * those after n_ok steps, or after n_ok + 1 if a failed step's commit
 * reached the disk before the failure was reported. */
static void verify_after(os_vfs *vfs, const run_out *r, const uint64_t *d,
			 const char *ctx)
{
	rdb_open_opts o = small_opts();
	char ic[512];
	uint64_t h = 0;
	rdb *db = NULL;
	int rc;

	rc = rdb_open_vfs(vfs, DB_NAME, &db, &o);
	ck_assert_msg(rc == RDB_OK, "%s: reopen: %d %s", ctx, rc,
		      db ? rdb_errmsg(db) : "");
	rc = integrity(db, ic, sizeof(ic));
	ck_assert_msg(rc == RDB_OK && strcmp(ic, "ok;") == 0,
		      "%s: integrity_check %d: %s", ctx, rc, ic);
	rc = digest(db, &h);
	ck_assert_msg(rc == RDB_OK, "%s: digest %d %s", ctx, rc,
		      rdb_errmsg(db));
	ck_assert_msg(h == d[r->n_ok] ||
		      (r->n_ok < N_STEPS && h == d[r->n_ok + 1]),
		      "%s: contents match neither step %d nor %d", ctx, r->n_ok,
		      r->n_ok + 1);
	ck_assert_int_eq(rdb_close(db), RDB_OK);
}

/* The fault-free digests d[0..N_STEPS] and the calls the run makes. */
static uint64_t reference(uint64_t *d)
{
	os_vfs *vfs = os_mem_new();
	run_out r;
	uint64_t calls;

	ck_assert_ptr_nonnull(vfs);
	os_mem_set_fault(vfs, OS_FAULT_NONE, 0, 0, 0);
	run_workload(vfs, &r, d);
	ck_assert_int_eq(r.n_ok, N_STEPS);
	ck_assert_int_eq(r.close_rc, RDB_OK);
	os_mem_free(vfs);
	/* count the calls of a run without digests */
	vfs = os_mem_new();
	os_mem_set_fault(vfs, OS_FAULT_NONE, 0, 0, 0);
	run_workload(vfs, &r, NULL);
	calls = os_mem_calls(vfs);
	os_mem_free(vfs);
	return calls;
}

/* ==== fault: I/O faults at every call ====================================== */

static const char *fault_name(os_fault k, int sticky)
{
	switch (k) {
	case OS_FAULT_CRASH: return "crash";
	case OS_FAULT_POWERLOSS: return "power loss";
	case OS_FAULT_TORN: return "torn write";
	case OS_FAULT_EIO: return sticky ? "sticky I/O error" : "I/O error";
	default: return "?";
	}
}

/* Every I/O call of the workload gets, in turn, a crash, a power loss, a
 * torn write, a one-off I/O error and a sticky one.  Each run fails only
 * with RDB_IOERR (no fault: no failure), and reopens at a committed
 * state. */
START_TEST(test_reliab_io_fault_at_every_call_reopens_committed)
{
	static const struct { os_fault k; int sticky; } kinds[] = {
		{ OS_FAULT_CRASH, 0 }, { OS_FAULT_POWERLOSS, 0 },
		{ OS_FAULT_TORN, 0 }, { OS_FAULT_EIO, 0 }, { OS_FAULT_EIO, 1 },
	};
	uint64_t d[N_STEPS + 1], calls, at, seed = tu_seed(), stride;
	long n_points[5] = { 0 }, n_fired = 0;
	size_t k;
	char ctx[128];

	tu_seed_note("reliab io faults", seed);
	calls = reference(d);
	/* every call at scale >= 1; a sample below */
	stride = (uint64_t)(1.0 / (tu_scale() < 1.0 ? tu_scale() : 1.0));
	for (at = 1; at <= calls + 1; at += stride) {
		for (k = 0; k < 5; k++) {
			os_vfs *vfs = os_mem_new();
			run_out r;
			int fired;

			snprintf(ctx, sizeof(ctx), "%s at call %llu",
				 fault_name(kinds[k].k, kinds[k].sticky),
				 (unsigned long long)at);
			os_mem_set_fault(vfs, kinds[k].k, at, kinds[k].sticky,
					 seed + at);
			run_workload(vfs, &r, NULL);
			fired = os_mem_fault_fired(vfs);
			if (!fired)
				ck_assert_msg(r.n_ok == N_STEPS && r.open_rc ==
					      RDB_OK, "%s: failed unfired", ctx);
			if (r.open_rc != RDB_OK || r.step_rc != RDB_OK)
				ck_assert_msg((r.open_rc == RDB_OK ||
					       r.open_rc == RDB_IOERR) &&
					      (r.step_rc == RDB_OK ||
					       r.step_rc == RDB_IOERR),
					      "%s: open %d step %d (%s)",
					      ctx, r.open_rc, r.step_rc, r.msg);
			n_fired += fired;
			n_points[k] += fired;
			os_mem_restart(vfs);
			verify_after(vfs, &r, d, ctx);
			os_mem_free(vfs);
		}
	}
	fprintf(stderr, "reliab: %llu I/O calls; fired: %ld crash, %ld "
		"power-loss, %ld torn-write, %ld I/O-error, %ld sticky "
		"I/O-error points\n", (unsigned long long)calls, n_points[0],
		n_points[1], n_points[2], n_points[3], n_points[4]);
	ck_assert_int_gt(n_fired, 0);
}
END_TEST

/* ==== fault: allocation failures at every allocation ======================= */

START_TEST(test_reliab_alloc_failure_at_every_allocation_is_clean)
{
	uint64_t d[N_STEPS + 1];
	long n_allocs, at, stride, n_points[2] = { 0 };
	int sticky;
	char ctx[128];
	run_out r;
	os_vfs *vfs;

	reference(d);
	vfs = os_mem_new();
	rdb_mem_fail_at(0, 0);
	run_workload(vfs, &r, NULL);
	n_allocs = rdb_mem_count();
	os_mem_free(vfs);
	/* at most ~2500 points per mode at scale 1 */
	stride = (long)((double)n_allocs / (2500.0 * tu_scale())) + 1;
	if (stride < 1)
		stride = 1;
	for (at = 1; at <= n_allocs + 1; at += stride) {
		for (sticky = 0; sticky < 2; sticky++) {
			int failed;

			snprintf(ctx, sizeof(ctx), "%sallocation failure at "
				 "%ld", sticky ? "sticky " : "", at);
			vfs = os_mem_new();
			ck_assert_ptr_nonnull(vfs);
			rdb_mem_fail_at(at, sticky);
			run_workload(vfs, &r, NULL);
			failed = rdb_mem_failed();
			rdb_mem_fail_at(0, 0);
			if (!failed)
				ck_assert_msg(r.n_ok == N_STEPS, "%s: failed "
					      "unfired", ctx);
			if (r.open_rc != RDB_OK || r.step_rc != RDB_OK)
				ck_assert_msg((r.open_rc == RDB_OK ||
					       r.open_rc == RDB_NOMEM) &&
					      (r.step_rc == RDB_OK ||
					       r.step_rc == RDB_NOMEM),
					      "%s: open %d step %d (%s)",
					      ctx, r.open_rc, r.step_rc, r.msg);
			n_points[sticky] += failed;
			os_mem_restart(vfs);
			verify_after(vfs, &r, d, ctx);
			os_mem_free(vfs);
		}
	}
	fprintf(stderr, "reliab: %ld allocations (stride %ld); failed: %ld "
		"once, %ld sticky points\n", n_allocs, stride, n_points[0],
		n_points[1]);
	ck_assert_int_gt(n_points[0], 0);
}
END_TEST

/* ==== full: a disk that refuses to grow ==================================== */

/* The disk fills up at each I/O call in turn (every later write or growing
 * truncate fails too).  The failing step returns RDB_FULL and changes
 * nothing visible but its own possible commit; once space returns, the same
 * handle finishes the workload, and a reopen finds the final contents. */
START_TEST(test_reliab_disk_full_at_every_call_rolls_back_and_recovers)
{
	uint64_t d[N_STEPS + 1], calls, at, h;
	rdb_open_opts o = small_opts();
	long n_points = 0, n_retry_after = 0;
	char ctx[128], ic[512];

	calls = reference(d);
	for (at = 1; at <= calls + 1; at++) {
		os_vfs *vfs = os_mem_new();
		rdb *db = NULL;
		int i = 0, rc = RDB_OK;

		snprintf(ctx, sizeof(ctx), "disk full at call %llu",
			 (unsigned long long)at);
		os_mem_set_fault(vfs, OS_FAULT_ENOSPC, at, 1, 0);
		rc = rdb_open_vfs(vfs, DB_NAME, &db, &o);
		if (rc != RDB_OK) {
			/* a new database that cannot get its first pages */
			ck_assert_msg(rc == RDB_FULL, "%s: open %d", ctx, rc);
			rdb_close(db);
			os_mem_set_fault(vfs, OS_FAULT_NONE, 0, 0, 0);
			ck_assert_int_eq(rdb_open_vfs(vfs, DB_NAME, &db, &o),
					 RDB_OK);
		}
		for (; i < N_STEPS; i++)
			if ((rc = step(db, i)) != RDB_OK)
				break;
		n_points += os_mem_fault_fired(vfs);
		ck_assert_msg(rc == RDB_OK || rc == RDB_FULL, "%s: step %d "
			      "gave %d (%s)", ctx, i, rc, rdb_errmsg(db));
		/* space returns */
		os_mem_set_fault(vfs, OS_FAULT_NONE, 0, 0, 0);
		if (i < N_STEPS) {
			ck_assert_int_eq(digest(db, &h), RDB_OK);
			ck_assert_msg(h == d[i] || h == d[i + 1], "%s: after "
				      "step %d: contents are neither", ctx, i);
			if (h == d[i + 1] && h != d[i]) {
				n_retry_after++;
				i++;
			}
			for (; i < N_STEPS; i++) {
				rc = step(db, i);
				ck_assert_msg(rc == RDB_OK, "%s: step %d after "
					      "space returned: %d (%s)", ctx, i,
					      rc, rdb_errmsg(db));
			}
		}
		ck_assert_int_eq(integrity(db, ic, sizeof(ic)), RDB_OK);
		ck_assert_msg(strcmp(ic, "ok;") == 0, "%s: %s", ctx, ic);
		ck_assert_int_eq(rdb_close(db), RDB_OK);
		ck_assert_int_eq(rdb_open_vfs(vfs, DB_NAME, &db, &o), RDB_OK);
		ck_assert_int_eq(digest(db, &h), RDB_OK);
		ck_assert_msg(h == d[N_STEPS], "%s: final contents", ctx);
		ck_assert_int_eq(rdb_close(db), RDB_OK);
		os_mem_free(vfs);
	}
	fprintf(stderr, "reliab: disk full at %ld of %llu calls fired (%ld "
		"failed steps had committed)\n", n_points,
		(unsigned long long)calls, n_retry_after);
	ck_assert_int_gt(n_points, 0);
}
END_TEST

/* ==== concurrency: 1 writer, 8 readers on one handle ======================= *
 * Every write is one atomic statement or KV call that keeps the invariants
 * the readers check on their snapshots: the balances sum to CC_TOTAL, the
 * index finds the same rows and sum as the table, each KV value carries
 * its own checksum.  (On one handle, BEGIN ... COMMIT would be shared by
 * every thread, as in SQLite, so the writer uses none.) */

#define CC_ROWS 40
#define CC_TOTAL (CC_ROWS * 100)
#define CC_KEYS 8
#define CC_READERS 8

typedef struct cc_ctx {
	rdb *db;
	long n_writes, n_reads;
	uint64_t seed;
	int id;
	long checks;             /* out: invariant checks made */
	char fail[256];          /* out: first violation */
} cc_ctx;

static void cc_value(unsigned char *b, size_t n, uint64_t *rng)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 8; i < n; i++)
		b[i] = (unsigned char)tu_rand(rng);
	h = mix(h, b + 8, n - 8);
	memcpy(b, &h, 8);
}

static int cc_value_ok(const unsigned char *b, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull, got;

	if (n < 8)
		return 0;
	memcpy(&got, b, 8);
	return mix(h, b + 8, n - 8) == got;
}

static int cc_write(cc_ctx *c, uint64_t *rng)
{
	char q[256];
	unsigned char v[600];
	char key[16];
	size_t n;
	long a = (long)tu_rand_below(rng, CC_ROWS) + 1;
	long b = (long)tu_rand_below(rng, CC_ROWS) + 1;
	long amt = (long)tu_rand_below(rng, 50);

	switch (tu_rand_below(rng, 4)) {
	case 0:
		if (a == b)
			return RDB_OK;
		snprintf(q, sizeof(q), "UPDATE acct SET bal = bal + CASE "
			 "WHEN id = %ld THEN %ld ELSE -%ld END WHERE id IN "
			 "(%ld, %ld)", a, amt, amt, a, b);
		return sql(c->db, q);
	case 1:
		snprintf(q, sizeof(q), "UPDATE acct SET tag = 't%llu' WHERE "
			 "id = %ld", (unsigned long long)tu_rand(rng) % 997, a);
		return sql(c->db, q);
	case 2:
		if (tu_rand_below(rng, 2))
			snprintf(q, sizeof(q), "DELETE FROM acct WHERE id >= "
				 "1000 AND id <= %ld", 1000 + a);
		else
			snprintf(q, sizeof(q), "INSERT OR REPLACE INTO acct "
				 "VALUES (%ld, 0, 'z%ld')", 1000 + a, b);
		return sql(c->db, q);
	default:
		snprintf(key, sizeof(key), "c%ld", a % CC_KEYS);
		n = 8 + (size_t)tu_rand_below(rng, sizeof(v) - 8);
		cc_value(v, n, rng);
		return rdb_kv_put(c->db, key, strlen(key), v, n);
	}
}

/* One statement's single row of integers into out[0..n). */
static int cc_row(rdb *db, const char *q, int64_t *out, int n)
{
	rdb_stmt *st = NULL;
	int rc, i;

	if ((rc = rdb_prepare(db, q, -1, &st, NULL)) != RDB_OK)
		return rc;
	rc = rdb_step(st);
	for (i = 0; rc == RDB_ROW && i < n; i++)
		out[i] = rdb_column_int64(st, i);
	if (rc == RDB_ROW)
		rc = rdb_step(st);
	rdb_finalize(st);
	return rc == RDB_DONE ? RDB_OK : rc;
}

#define CC_FAIL(c, ...) do {						\
	snprintf((c)->fail, sizeof((c)->fail), __VA_ARGS__);		\
	return 1;							\
} while (0)

/* A scan stepped one row at a time, the writer running in between: its
 * snapshot must still sum to CC_TOTAL. */
static int cc_slow_scan(cc_ctx *c)
{
	rdb_stmt *st = NULL;
	int64_t sum = 0;
	int rc;

	if ((rc = rdb_prepare(c->db, "SELECT bal FROM acct", -1, &st,
			      NULL)) != RDB_OK)
		CC_FAIL(c, "prepare scan: %d", rc);
	while ((rc = rdb_step(st)) == RDB_ROW)
		sum += rdb_column_int64(st, 0);
	rdb_finalize(st);
	if (rc != RDB_DONE || sum != CC_TOTAL)
		CC_FAIL(c, "slow scan: rc %d sum %lld", rc, (long long)sum);
	return 0;
}

static int cc_read(cc_ctx *c, uint64_t *rng)
{
	int64_t r[4] = { 0, 0, 0, 0 };
	char key[16], ic[160];
	void *v = NULL;
	size_t n = 0;
	int rc;

	c->checks++;
	switch (tu_rand_below(rng, 8)) {
	case 0:
		return cc_slow_scan(c);
	case 1:
		snprintf(key, sizeof(key), "c%d",
			 (int)tu_rand_below(rng, CC_KEYS));
		rc = rdb_kv_get_alloc(c->db, key, strlen(key), &v, &n);
		if (rc == RDB_OK && !cc_value_ok(v, n))
			rc = RDB_CORRUPT;
		rdb_kv_free(v);
		if (rc != RDB_OK)
			CC_FAIL(c, "kv get %s: %d", key, rc);
		return 0;
	case 2:
		if (tu_rand_below(rng, 8) != 0)
			return 0;
		rc = integrity(c->db, ic, sizeof(ic));
		if (rc != RDB_OK || strcmp(ic, "ok;") != 0)
			CC_FAIL(c, "integrity_check %d: %s", rc, ic);
		return 0;
	default:
		rc = cc_row(c->db, "SELECT (SELECT count(*) FROM acct), "
			    "(SELECT sum(bal) FROM acct), (SELECT count(*) "
			    "FROM acct WHERE tag >= ''), (SELECT sum(bal) FROM "
			    "acct WHERE tag >= '')", r, 4);
		if (rc != RDB_OK || r[1] != CC_TOTAL || r[0] != r[2] ||
		    r[1] != r[3])
			CC_FAIL(c, "sums: rc %d rows %lld/%lld sum %lld/%lld",
				rc, (long long)r[0], (long long)r[2],
				(long long)r[1], (long long)r[3]);
		return 0;
	}
}

static void *cc_writer(void *arg)
{
	cc_ctx *c = arg;
	uint64_t rng = c->seed;
	long i;
	int rc;

	for (i = 0; i < c->n_writes; i++)
		if ((rc = cc_write(c, &rng)) != RDB_OK) {
			snprintf(c->fail, sizeof(c->fail), "write %ld: %d %s",
				 i, rc, rdb_errmsg(c->db));
			break;
		}
	return NULL;
}

static void *cc_reader(void *arg)
{
	cc_ctx *c = arg;
	uint64_t rng = c->seed;
	long i;

	for (i = 0; i < c->n_reads; i++)
		if (cc_read(c, &rng))
			break;
	return NULL;
}

static void cc_setup(rdb *db)
{
	unsigned char v[100];
	uint64_t rng = 77;
	char q[128], key[16];
	int i;

	ck_assert_int_eq(sql(db, "CREATE TABLE acct(id INTEGER PRIMARY KEY, "
			     "bal INTEGER NOT NULL, tag TEXT NOT NULL); "
			     "CREATE INDEX acct_tag ON acct(tag)"), RDB_OK);
	for (i = 1; i <= CC_ROWS; i++) {
		snprintf(q, sizeof(q), "INSERT INTO acct VALUES (%d, 100, "
			 "'t%d')", i, i);
		ck_assert_int_eq(sql(db, q), RDB_OK);
	}
	for (i = 0; i < CC_KEYS; i++) {
		snprintf(key, sizeof(key), "c%d", i);
		cc_value(v, sizeof(v), &rng);
		ck_assert_int_eq(rdb_kv_put(db, key, strlen(key), v,
					    sizeof(v)), RDB_OK);
	}
}

START_TEST(test_reliab_concurrency_readers_see_consistent_snapshots)
{
	cc_ctx c[1 + CC_READERS];
	pthread_t th[1 + CC_READERS];
	char path[256], ic[256];
	uint64_t seed = tu_seed();
	long checks = 0;
	rdb *db = NULL;
	int i;

	tu_seed_note("reliab concurrency", seed);
	tu_tmp_path(path, sizeof(path));
	ck_assert_int_eq(rdb_open(path, &db), RDB_OK);
	cc_setup(db);
	memset(c, 0, sizeof(c));
	for (i = 0; i <= CC_READERS; i++) {
		c[i].db = db;
		c[i].id = i;
		c[i].seed = seed + (uint64_t)i * 0x9e3779b97f4a7c15ull;
		c[i].n_writes = tu_scaled(1500, 50);
		c[i].n_reads = tu_scaled(300, 20);
		ck_assert_int_eq(pthread_create(&th[i], NULL, i == 0 ?
						cc_writer : cc_reader, &c[i]),
				 0);
	}
	for (i = 0; i <= CC_READERS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i <= CC_READERS; i++) {
		ck_assert_msg(c[i].fail[0] == '\0', "thread %d: %s", i,
			      c[i].fail);
		checks += c[i].checks;
	}
	ck_assert_int_eq(integrity(db, ic, sizeof(ic)), RDB_OK);
	ck_assert_str_eq(ic, "ok;");
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	fprintf(stderr, "reliab: concurrency: %ld writes, %ld reader "
		"checks\n", c[0].n_writes, checks);
	tu_unlink_db(path);
}
END_TEST

/* ==== kill: real crashes ================================================== *
 * A child process runs transactions on a real file under FULL and reports
 * each one's id through a pipe after its commit returned RDB_OK; the
 * parent SIGKILLs it at a random moment, reopens, and checks integrity
 * and the contents.  Ids are consecutive and the child runs one
 * transaction at a time, so the database must hold every reported id and
 * at most one more: the next id, whose commit may have finished before
 * the kill but not been reported (or may be lost: it never returned).
 * Each id lives in the table `log` (one-statement or BEGIN ... COMMIT
 * transactions that also move a balance, keeping sum(bal) == 0) or as
 * the KV key "n:<id>". */

#define KL_PAD(id) ((size_t)((id) * 37 % 700))

static void kl_pad(unsigned char *b, int64_t id)
{
	fill(b, KL_PAD(id), (unsigned)id);
}

static int kl_txn(rdb *db, int64_t id, uint64_t *rng)
{
	unsigned char pad[700];
	char key[32], q[256];
	rdb_stmt *st = NULL;
	int rc, explicit_txn = (int)tu_rand_below(rng, 3) == 0;

	kl_pad(pad, id);
	if (tu_rand_below(rng, 4) == 0) {
		snprintf(key, sizeof(key), "n:%lld", (long long)id);
		return rdb_kv_put(db, key, strlen(key), pad, KL_PAD(id));
	}
	if (explicit_txn) {
		long a = (long)tu_rand_below(rng, 10) + 1;

		snprintf(q, sizeof(q), "BEGIN; UPDATE acct SET bal = bal + 5 "
			 "WHERE id = %ld; UPDATE acct SET bal = bal - 5 WHERE "
			 "id = %ld", a, a % 10 + 1);
		if ((rc = sql(db, q)) != RDB_OK)
			return rc;
	}
	rc = rdb_prepare(db, "INSERT INTO log VALUES (?, ?)", -1, &st, NULL);
	if (rc == RDB_OK && (rc = rdb_bind_int64(st, 1, id)) == RDB_OK &&
	    (rc = rdb_bind_blob(st, 2, pad, (int)KL_PAD(id))) == RDB_OK)
		rc = rdb_step(st) == RDB_DONE ? RDB_OK : RDB_ERROR;
	rdb_finalize(st);
	if (rc == RDB_OK && explicit_txn)
		rc = sql(db, "COMMIT");
	return rc;
}

/* The child: never returns. */
static void kl_child(const char *path, int fd, int64_t next, uint64_t seed)
{
	uint64_t rng = seed | 1;
	rdb *db = NULL;

	if (rdb_open(path, &db) != RDB_OK)
		_exit(2);
	for (;;) {
		if (kl_txn(db, next, &rng) != RDB_OK)
			_exit(3);
		if (write(fd, &next, sizeof(next)) != (ssize_t)sizeof(next))
			_exit(4);
		next++;
		if (tu_rand_below(&rng, 50) == 0 &&
		    rdb_checkpoint_now(db) != RDB_OK)
			_exit(5);
	}
}

/* Ids in the database: bit id of seen[] (ids < cap). */
static void kl_collect(rdb *db, unsigned char *seen, int64_t cap,
		       const char *ctx)
{
	unsigned char pad[700];
	rdb_stmt *st = NULL;
	rdb_kv_iter *it = NULL;
	const void *k;
	size_t kn;
	int rc;

	ck_assert_int_eq(rdb_prepare(db, "SELECT id, data FROM log", -1, &st,
				     NULL), RDB_OK);
	while ((rc = rdb_step(st)) == RDB_ROW) {
		int64_t id = rdb_column_int64(st, 0);

		if (id <= 0 || id >= cap)
			ck_abort_msg("%s: id %lld", ctx, (long long)id);
		kl_pad(pad, id);
		if ((size_t)rdb_column_bytes(st, 1) != KL_PAD(id) ||
		    (KL_PAD(id) != 0 && memcmp(rdb_column_blob(st, 1), pad,
					       KL_PAD(id)) != 0))
			ck_abort_msg("%s: row %lld has wrong bytes", ctx,
				     (long long)id);
		seen[id] = 1;
	}
	ck_assert_int_eq(rc, RDB_DONE);
	rdb_finalize(st);
	ck_assert_int_eq(rdb_kv_iter_open(db, "n:", 2, &it), RDB_OK);
	while ((rc = rdb_kv_iter_next(it, &k, &kn)) == RDB_ROW) {
		char key[32];
		void *v = NULL;
		size_t vn = 0;
		int64_t id;

		snprintf(key, sizeof(key), "%.*s", (int)kn, (const char *)k);
		id = strtoll(key + 2, NULL, 10);
		if (id <= 0 || id >= cap ||
		    rdb_kv_iter_value(it, &v, &vn) != RDB_OK)
			ck_abort_msg("%s: key %s", ctx, key);
		kl_pad(pad, id);
		if (vn != KL_PAD(id) || (vn != 0 && memcmp(v, pad, vn) != 0))
			ck_abort_msg("%s: key %s has wrong bytes", ctx, key);
		rdb_kv_free(v);
		seen[id] = 1;
	}
	ck_assert_int_eq(rc, RDB_DONE);
	rdb_kv_iter_close(it);
}

/* Reopen after kill `kill_no` and compare with the reported ids.
 * known[id]: reported (or seen after an earlier kill).  Returns the next
 * id to use. */
static int64_t kl_verify(const char *path, unsigned char *known,
			 unsigned char *seen, int64_t cap, int64_t next,
			 long kill_no, long *n_inflight)
{
	char ctx[64], ic[256];
	int64_t sum[1] = { -1 }, id;
	rdb *db = NULL;

	snprintf(ctx, sizeof(ctx), "after kill %ld", kill_no);
	ck_assert_msg(rdb_open(path, &db) == RDB_OK, "%s: reopen: %s", ctx,
		      rdb_errmsg(db));
	ck_assert_int_eq(integrity(db, ic, sizeof(ic)), RDB_OK);
	ck_assert_msg(strcmp(ic, "ok;") == 0, "%s: %s", ctx, ic);
	ck_assert_int_eq(cc_row(db, "SELECT sum(bal) FROM acct", sum, 1),
			 RDB_OK);
	ck_assert_msg(sum[0] == 0, "%s: sum(bal) %lld", ctx,
		      (long long)sum[0]);
	memset(seen, 0, (size_t)cap);
	kl_collect(db, seen, cap, ctx);
	/* (plain ifs: a ck_assert per id would cost a pipe write each) */
	for (id = 1; id < next; id++)
		if (known[id] && !seen[id])
			ck_abort_msg("%s: reported transaction %lld is "
				     "missing", ctx, (long long)id);
	for (id = 1; id < cap; id++)
		if (!known[id] && seen[id] && id != next)
			ck_abort_msg("%s: transaction %lld is there but was "
				     "never reported (next was %lld)", ctx,
				     (long long)id, (long long)next);
	if (next < cap && seen[next]) {
		known[next] = 1;
		next++;
		(*n_inflight)++;
	}
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	return next;
}

START_TEST(test_reliab_kill_at_random_moments_keeps_reported_commits)
{
	const int64_t cap = 1000000;
	unsigned char *known = calloc((size_t)cap, 1);
	unsigned char *seen = calloc((size_t)cap, 1);
	long kills = tu_scaled(200, 10), i, n_inflight = 0;
	uint64_t seed = tu_seed(), rng = seed;
	int64_t next = 1, n_reported = 0;
	char path[256];
	rdb *db = NULL;

	ck_assert_ptr_nonnull(known);
	ck_assert_ptr_nonnull(seen);
	tu_seed_note("reliab kills", seed);
	tu_tmp_path(path, sizeof(path));
	ck_assert_int_eq(rdb_open(path, &db), RDB_OK);
	ck_assert_int_eq(sql(db, "CREATE TABLE log(id INTEGER PRIMARY KEY, "
			     "data BLOB); CREATE TABLE acct(id INTEGER PRIMARY "
			     "KEY, bal INTEGER); INSERT INTO acct VALUES (1, 0), "
			     "(2, 0), (3, 0), (4, 0), (5, 0), (6, 0), (7, 0), "
			     "(8, 0), (9, 0), (10, 0)"), RDB_OK);
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	for (i = 0; i < kills; i++) {
		int fds[2], status;
		int64_t id;
		pid_t pid;

		ck_assert_int_eq(pipe(fds), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			close(fds[0]);
			kl_child(path, fds[1], next, tu_rand(&rng));
		}
		close(fds[1]);
		usleep((useconds_t)tu_rand_below(&rng, 120000));
		kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status), "child exited with %d "
			      "before the kill", WEXITSTATUS(status));
		while (read(fds[0], &id, sizeof(id)) == (ssize_t)sizeof(id)) {
			if (id != next || id >= cap - 1)
				ck_abort_msg("child reported %lld, expected "
					     "%lld", (long long)id,
					     (long long)next);
			known[id] = 1;
			next++;
			n_reported++;
		}
		close(fds[0]);
		next = kl_verify(path, known, seen, cap, next, i, &n_inflight);
	}
	fprintf(stderr, "reliab: %ld kills survived, %lld transactions "
		"reported, %ld unreported ones found committed\n", kills,
		(long long)n_reported, n_inflight);
	tu_unlink_db(path);
	free(known);
	free(seen);
}
END_TEST

/* ==== corrupt: every byte of a small database of every page type ========== *
 * 512-byte pages: a table of 120 rows (inner and leaf nodes), an index, a
 * 3000-byte blob (overflow pages), KV records (log and index), a dropped
 * table (free-list trunk and leaves), the header page.  Each byte of the
 * file (every third at scale 1) is overwritten in turn with 0x00, 0xff
 * and 0x5a; opening and querying (both tables in key order and through
 * their indexes, the catalog, KV gets, integrity_check) must then give an
 * error or exactly the original answers. */

static int cr_open_opts(os_vfs *vfs, rdb **db)
{
	rdb_open_opts o;

	memset(&o, 0, sizeof(o));
	o.page_size = 512;
	o.cache_pages = 16;
	return rdb_open_vfs(vfs, DB_NAME, db, &o);
}

static void cr_build(os_vfs *vfs)
{
	unsigned char v[1500];
	char q[400];
	rdb *db = NULL;
	int i;

	ck_assert_int_eq(cr_open_opts(vfs, &db), RDB_OK);
	ck_assert_int_eq(sql(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, "
			     "name TEXT, v INTEGER, pad BLOB); CREATE INDEX "
			     "t_name ON t(name); CREATE TABLE gone(a TEXT); "
			     "CREATE TABLE u(k TEXT PRIMARY KEY, n INTEGER)"),
			 RDB_OK);
	ck_assert_int_eq(sql(db, "BEGIN"), RDB_OK);
	for (i = 1; i <= 120; i++) {
		snprintf(q, sizeof(q), "INSERT INTO t VALUES (%d, 'name-%03d', "
			 "%d, NULL); INSERT INTO gone VALUES ('%0100d'); "
			 "INSERT INTO u VALUES ('u%d', %d)", i, (i * 7) % 120,
			 i * 3, i, i, i);
		ck_assert_int_eq(sql(db, q), RDB_OK);
	}
	ck_assert_int_eq(sql(db, "COMMIT"), RDB_OK);
	ck_assert_int_eq(insert_big(db, 500, "big", 3000), RDB_OK);
	for (i = 0; i < 4; i++) {
		char key[16];

		snprintf(key, sizeof(key), "k%d", i + 1);
		fill(v, sizeof(v), (unsigned)i);
		ck_assert_int_eq(rdb_kv_put(db, key, 2, v, (size_t)(i + 1) *
					    300), RDB_OK);
	}
	ck_assert_int_eq(sql(db, "DROP TABLE gone"), RDB_OK);
	ck_assert_int_eq(rdb_close(db), RDB_OK);
}

/* Open and query; 0 if every call succeeded (digest in *h), else 1 (an
 * error, as allowed).  A wrong answer is told by the caller. */
static int cr_query(os_vfs *vfs, uint64_t *h, int *ic_bad)
{
	char ic[512];
	rdb *db = NULL;
	int rc;

	*ic_bad = 0;
	rc = cr_open_opts(vfs, &db);
	if (rc == RDB_OK)
		rc = digest(db, h);
	if (rc == RDB_OK) {
		rc = integrity(db, ic, sizeof(ic));
		*ic_bad = rc == RDB_OK && strcmp(ic, "ok;") != 0;
	}
	rdb_close(db);
	return rc != RDB_OK || *ic_bad;
}

START_TEST(test_reliab_corrupt_byte_anywhere_is_an_error_or_right)
{
	static const unsigned char vals[] = { 0x00, 0xff, 0x5a };
	os_vfs *vfs = os_mem_new();
	unsigned char *orig = NULL;
	size_t len = 0, off, stride, k;
	long n_variants = 0, n_errors = 0;
	uint64_t ref = 0, h = 0;
	unsigned char save;
	int ic_bad;

	cr_build(vfs);
	ck_assert_int_eq(os_mem_file_bytes(vfs, DB_NAME, &orig, &len), RDB_OK);
	ck_assert_int_eq(cr_query(vfs, &ref, &ic_bad), 0);
	/* every third byte at scale 1 (~17 s); every byte from scale 3 */
	stride = tu_scale() >= 3.0 ? 1 : (size_t)(3.0 / tu_scale());
	for (off = 0; off < len; off += stride) {
		for (k = 0; k < sizeof(vals); k++) {
			if (orig[off] == vals[k])
				continue;
			save = orig[off];
			orig[off] = vals[k];
			ck_assert_int_eq(os_mem_file_set(vfs, DB_NAME, orig,
							 len), RDB_OK);
			ck_assert_int_eq(vfs->remove(vfs, DB_NAME "-wal",
						     NULL), RDB_OK);
			orig[off] = save;
			n_variants++;
			if (cr_query(vfs, &h, &ic_bad))
				n_errors++;
			else if (h != ref)
				ck_abort_msg("byte %zu (page %zu) = 0x%02x: "
					     "wrong answer without an error",
					     off, off / 512, vals[k]);
		}
	}
	fprintf(stderr, "reliab: corrupt: %zu bytes (stride %zu), %ld "
		"variants: %ld errors, %ld right answers\n", len, stride,
		n_variants, n_errors, n_variants - n_errors);
	ck_assert_int_gt(n_errors, 0);
	rdb_free(orig);
	os_mem_free(vfs);
}
END_TEST

/* A WAL of 6 commits over the database above; single-bit flips at a
 * sample of positions.  Recovery keeps a prefix of the commits, so the
 * answer must be an error or the contents after one of them. */
START_TEST(test_reliab_wal_bit_flip_is_an_error_or_a_committed_prefix)
{
	os_vfs *vfs = os_mem_new();
	unsigned char *db_bytes = NULL, *wal = NULL;
	size_t db_len = 0, wal_len = 0, n, i;
	uint64_t d[7], h, rng = tu_seed();
	long n_variants = 0, n_errors = 0, n_older = 0;
	char q[128];
	rdb *db = NULL;
	int c, ic_bad;

	cr_build(vfs);
	ck_assert_int_eq(cr_open_opts(vfs, &db), RDB_OK);
	ck_assert_int_eq(digest(db, &d[0]), RDB_OK);
	for (c = 1; c <= 6; c++) {
		/* one commit each: an UPDATE and DELETE in one transaction,
		 * or a KV put */
		snprintf(q, sizeof(q), "BEGIN; UPDATE t SET v = v + %d WHERE "
			 "id %% 7 = %d; DELETE FROM u WHERE n = %d; COMMIT", c,
			 c, c);
		if (c % 2)
			ck_assert_int_eq(sql(db, q), RDB_OK);
		else
			ck_assert_int_eq(rdb_kv_put(db, "k9", 2, q, strlen(q)),
					 RDB_OK);
		ck_assert_int_eq(digest(db, &d[c]), RDB_OK);
	}
	ck_assert_int_eq(os_mem_file_bytes(vfs, DB_NAME, &db_bytes, &db_len),
			 RDB_OK);
	ck_assert_int_eq(os_mem_file_bytes(vfs, DB_NAME "-wal", &wal,
					   &wal_len), RDB_OK);
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	n = (size_t)tu_scaled(3000, 100);
	for (i = 0; i < n; i++) {
		size_t bit = (size_t)tu_rand_below(&rng, wal_len * 8);

		wal[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		ck_assert_int_eq(os_mem_file_set(vfs, DB_NAME, db_bytes,
						 db_len), RDB_OK);
		ck_assert_int_eq(os_mem_file_set(vfs, DB_NAME "-wal", wal,
						 wal_len), RDB_OK);
		wal[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		n_variants++;
		if (cr_query(vfs, &h, &ic_bad)) {
			n_errors++;
			continue;
		}
		for (c = 0; c <= 6 && h != d[c]; c++)
			;
		if (c > 6)
			ck_abort_msg("WAL bit %zu flipped: contents of no "
				     "commit, and no error", bit);
		n_older += c < 6;
	}
	fprintf(stderr, "reliab: WAL of %zu bytes, %ld bit flips: %ld "
		"errors, %ld recovered an earlier commit, %ld all six\n",
		wal_len, n_variants, n_errors, n_older,
		n_variants - n_errors - n_older);
	ck_assert_int_gt(n_older, 0);
	rdb_free(db_bytes);
	rdb_free(wal);
	os_mem_free(vfs);
}
END_TEST

Suite *reliab_suite(void)
{
	Suite *s = suite_create("reliab");
	TCase *tc;

	tc = tcase_create("fault");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_reliab_io_fault_at_every_call_reopens_committed);
	tcase_add_test(tc, test_reliab_alloc_failure_at_every_allocation_is_clean);
	tcase_add_test(tc,
		test_reliab_disk_full_at_every_call_rolls_back_and_recovers);
	suite_add_tcase(s, tc);
	tc = tcase_create("corrupt");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_reliab_corrupt_byte_anywhere_is_an_error_or_right);
	tcase_add_test(tc,
		test_reliab_wal_bit_flip_is_an_error_or_a_committed_prefix);
	suite_add_tcase(s, tc);
	tc = tcase_create("kill");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc,
		test_reliab_kill_at_random_moments_keeps_reported_commits);
	suite_add_tcase(s, tc);
	tc = tcase_create("concurrency");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc,
		test_reliab_concurrency_readers_see_consistent_snapshots);
	suite_add_tcase(s, tc);
	return s;
}
