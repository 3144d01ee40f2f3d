/*
 * bench_kv.c -- the key-value blob store (public API, rdb.h) against
 * SQLite and LMDB in the same run, on the same disk: 20,000 values of
 * 1 KiB .. 64 KiB (fixed seed; even-numbered values compressible log-like
 * text, odd-numbered ones random bytes) under keys "key:%08d".
 *
 *   put        all 20,000 values in one transaction, timed up to the
 *              durable commit (rdb: rdb_kv_batch under FULL; SQLite: WAL,
 *              synchronous=FULL, one BEGIN/COMMIT of a prepared INSERT;
 *              LMDB: one write txn of mdb_put, default sync)
 *   get        every key once in a random order, value read into memory,
 *              its length and checksum verified
 *   file size  after the put and a clean close, of a store holding only
 *              the compressible half and of one holding only the random
 *              half (two extra untimed put runs per engine)
 *   open_1m    rdb_open + one rdb_kv_get on a closed 1,000,000-key store
 *              with the file evicted from the page cache, against the
 *              time it took to write that store (100 batches of 10,000)
 *
 * Real files in the current directory, removed at the end.  Stdout: one
 * "kv.<phase>.<peer>: rdb X unit, <peer> Y unit, ratio R" line per phase
 * and peer (ratio = rdb / peer); every other line starts with '#'.
 * How to run, what each line means, last results: docs/benchmarks.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <lmdb.h>
#include <sqlite3.h>

#include "rdb.h"
#include "common.h"

#define N_VALS 20000u
#define MIN_VAL 1024u
#define MAX_VAL 65536u
#define KEY_LEN 12u               /* "key:%08d" */
#define SEED 0x6b765f62656e6368ull
#define PUT_ROUNDS 5              /* the median round counts */
#define GET_ROUNDS 3
#define LMDB_MAP (4ull << 30)     /* 4 GiB of address space */

#define OPEN_KEYS 1000000u
#define OPEN_BATCH 10000u
#define OPEN_KLEN 16u             /* "key:%012u" */
#define OPEN_VLEN 32u
#define OPEN_WARM 5               /* warm opens, # line only */

_Static_assert(PUT_ROUNDS <= 8 && GET_ROUNDS <= 8, "print_spread");

#define RDB_PATH "bench_kv.rdb"
#define SQL_PATH "bench_kv.sqlite"
#define MDB_PATH "bench_kv.mdb"
#define RDB_1M "bench_kv_1m.rdb"

enum { E_RDB, E_SQL, E_MDB, N_ENG };
static const char *const eng_name[N_ENG] = { "rdb", "sqlite", "lmdb" };
static const char *const eng_path[N_ENG] = { RDB_PATH, SQL_PATH, MDB_PATH };

/* ---- helpers ---------------------------------------------------------- */

static double cpu_ms_since(uint64_t c0)
{
	return (double)(cpu_ns() - c0) / 1e6;
}

/* ns this thread has waited on a run queue (runnable, no CPU free):
 * second field of /proc/thread-self/schedstat; 0 if unavailable. */
static uint64_t runq_ns(void)
{
	unsigned long long run = 0, wait = 0;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%llu %llu", &run, &wait) != 2)
		wait = 0;
	fclose(f);
	return wait;
}

/* splitmix64 stream. */
static uint64_t rng = SEED;

static uint64_t rnd(void)
{
	rng += 0x9E3779B97F4A7C15ull;
	return mix64(rng);
}

static void remove_all(void)
{
	int e;

	for (e = 0; e < N_ENG; e++)
		remove_store(eng_path[e]);
	remove_store(RDB_1M);
}

static void die(const char *what, int rc, const char *msg)
{
	printf("# error: %s: %d %s\n", what, rc, msg != NULL ? msg : "");
	fflush(stdout);
	remove_all();
	exit(1);
}

static void rdb_check(const char *what, int rc, rdb *db)
{
	if (rc != RDB_OK)
		die(what, rc, db != NULL ? rdb_errmsg(db) : rdb_errstr(rc));
}

static void mdb_check(const char *what, int rc)
{
	if (rc != MDB_SUCCESS)
		die(what, rc, mdb_strerror(rc));
}

static void sql_check(const char *what, int rc, sqlite3 *db, int want)
{
	if (rc != want)
		die(what, rc, db != NULL ? sqlite3_errmsg(db) :
					   sqlite3_errstr(rc));
}

static void sql_exec(sqlite3 *db, const char *sql)
{
	sql_check(sql, sqlite3_exec(db, sql, NULL, NULL, NULL), db,
		  SQLITE_OK);
}

/* Bytes of path plus its WAL, if one was left behind. */
static uint64_t store_size(const char *path)
{
	struct stat st;
	char wal[256];
	uint64_t n = 0;

	if (stat(path, &st) == 0)
		n += (uint64_t)st.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(wal, &st) == 0) {
		printf("# note: %s left behind (%llu bytes, counted)\n", wal,
		       (unsigned long long)st.st_size);
		n += (uint64_t)st.st_size;
	}
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *a, int n)
{
	qsort(a, (size_t)n, sizeof(*a), cmp_double);
	return a[n / 2];
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

/* What every engine does with a value it got: fold every byte into a
 * sum, compared with the sum taken when the value was made. */
static uint64_t touch(const void *v, size_t n)
{
	const unsigned char *p = v;
	uint64_t s = n, w;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		s += w;
	}
	for (; i < n; i++)
		s = s * 31 + p[i];
	return s;
}

/* ---- the data set ------------------------------------------------------ */

static char keys[N_VALS][KEY_LEN + 1];
static unsigned char *arena;
static size_t val_off[N_VALS];
static uint32_t val_len[N_VALS];
static uint64_t val_sum[N_VALS];

static const char *const words[] = {
	"request", "handled", "user", "session", "cache", "miss", "hit",
	"timeout", "retry", "connection", "opened", "closed", "query",
	"table", "index", "commit", "rollback", "page", "flush", "write",
	"read", "error", "warning", "started", "stopped", "worker", "queue",
	"job", "done", "failed", "latency", "bytes", "client", "server",
	"upstream", "backend", "config", "reload", "token", "expired",
	"shard", "replica", "leader", "heartbeat", "snapshot", "compaction",
	"for", "the", "after", "from"
};
#define N_WORDS (sizeof(words) / sizeof(words[0]))
static const char *const levels[] = { "INFO", "INFO", "INFO", "DEBUG",
				      "WARN", "ERROR", "INFO", "DEBUG" };

/* Log-like lines: a timestamp that advances, a level, a component, 4 to
 * 11 words of a 50-word vocabulary and a few small numbers. */
static void fill_text(unsigned char *p, size_t n, uint32_t *clock_ms)
{
	char line[512];
	size_t at = 0, len, w;
	uint64_t r;
	int k, nw;

	while (at < n) {
		r = rnd();
		*clock_ms += (uint32_t)(r % 50);
		len = (size_t)snprintf(line, sizeof(line),
			"2026-11-21 %02u:%02u:%02u.%03u %-5s [worker-%u] ",
			*clock_ms / 3600000 % 24, *clock_ms / 60000 % 60,
			*clock_ms / 1000 % 60, *clock_ms % 1000,
			levels[(r >> 8) & 7], (unsigned)((r >> 11) % 16));
		nw = 4 + (int)((r >> 15) % 8);
		for (k = 0; k < nw; k++) {
			w = (size_t)(rnd() % N_WORDS);
			len += (size_t)snprintf(line + len, sizeof(line) - len,
						"%s%s", k ? " " : "", words[w]);
		}
		r = rnd();
		len += (size_t)snprintf(line + len, sizeof(line) - len,
			" id=%u status=%u ms=%u\n", (unsigned)(r % 100000),
			(r >> 20) % 8 ? 200u : 500u,
			(unsigned)((r >> 24) % 1000));
		if (len > n - at)
			len = n - at;
		memcpy(p + at, line, len);
		at += len;
	}
}

static void fill_random(unsigned char *p, size_t n)
{
	uint64_t w;
	size_t i;

	for (i = 0; i < n; i += 8) {
		w = rnd();
		memcpy(p + i, &w, n - i < 8 ? n - i : 8);
	}
}

static int is_text(uint32_t i)
{
	return i % 2 == 0;
}

static void make_data(void)
{
	uint32_t i, clock_ms = 0;
	size_t total = 0;

	for (i = 0; i < N_VALS; i++) {
		snprintf(keys[i], sizeof(keys[i]), "key:%08u", (unsigned)i);
		val_len[i] = MIN_VAL + (uint32_t)(rnd() %
						  (MAX_VAL - MIN_VAL + 1));
		val_off[i] = total;
		total += val_len[i];
	}
	arena = malloc(total);
	if (arena == NULL)
		die("malloc", ENOMEM, "values");
	for (i = 0; i < N_VALS; i++) {
		if (is_text(i))
			fill_text(arena + val_off[i], val_len[i], &clock_ms);
		else
			fill_random(arena + val_off[i], val_len[i]);
		val_sum[i] = touch(arena + val_off[i], val_len[i]);
	}
	printf("# %u values, %.1f MiB in all (%u .. %u bytes, seed %#llx), "
	       "even-numbered ones log-like text, odd-numbered ones random\n",
	       N_VALS, (double)total / 1048576, MIN_VAL, MAX_VAL,
	       (unsigned long long)SEED);
}

/* A set of value numbers, put in this order (ascending keys). */
typedef struct subset {
	const char *name;
	uint32_t n;
	uint32_t *ids;
} subset;

static void make_subset(subset *s, const char *name, int which)
{
	uint32_t i;

	s->name = name;
	s->n = 0;
	s->ids = malloc(N_VALS * sizeof(*s->ids));
	if (s->ids == NULL)
		die("malloc", ENOMEM, "subset");
	for (i = 0; i < N_VALS; i++)
		if (which < 0 || is_text(i) == which)
			s->ids[s->n++] = i;
}

/* CPU ms of the timed part of the last get_all() / sql_get_all(). */
static double last_get_cpu_ms;

typedef struct put_res {
	double put_ms;       /* begin .. durable commit */
	double cpu_ms;       /* CPU time of the same */
	double runq_ms;      /* of the same, time runnable but not running */
	double close_ms;     /* close (checkpoint) */
	uint64_t size;       /* bytes after close */
} put_res;

/* ---- rdb -------------------------------------------------------------- */

static put_res rdb_put_set(const subset *s)
{
	rdb_kv_op *ops = malloc((size_t)s->n * sizeof(*ops));
	rdb_kv_stats st;
	put_res res;
	uint64_t t0, c0, q0;
	uint32_t i, id;
	rdb *db;

	if (ops == NULL)
		die("malloc", ENOMEM, "ops");
	remove_store(RDB_PATH);
	rdb_check("rdb_open", rdb_open(RDB_PATH, &db), db);
	for (i = 0; i < s->n; i++) {
		id = s->ids[i];
		ops[i].del = 0;
		ops[i].key = keys[id];
		ops[i].klen = KEY_LEN;
		ops[i].val = arena + val_off[id];
		ops[i].vlen = val_len[id];
	}
	q0 = runq_ns();
	c0 = cpu_ns();
	t0 = now_ns();
	rdb_check("rdb_kv_batch", rdb_kv_batch(db, ops, s->n), db);
	res.put_ms = ms_since(t0);
	res.cpu_ms = cpu_ms_since(c0);
	res.runq_ms = (double)(runq_ns() - q0) / 1e6;
	rdb_check("rdb_kv_stats_get", rdb_kv_stats_get(db, &st), db);
	if (st.live_keys != s->n)
		die("rdb_kv_stats_get", (int)st.live_keys, "wrong key count");
	printf("# rdb %s: %llu keys, %.1f MiB as stored, compression saved "
	       "%.1f MiB\n", s->name, (unsigned long long)st.live_keys,
	       (double)st.live_bytes / 1048576,
	       (double)st.saved_bytes / 1048576);
	t0 = now_ns();
	rdb_check("rdb_close", rdb_close(db), NULL);
	res.close_ms = ms_since(t0);
	res.size = store_size(RDB_PATH);
	free(ops);
	return res;
}

static double rdb_get_all(const uint32_t *order)
{
	unsigned char *buf = malloc(MAX_VAL);
	uint64_t t0, c0;
	uint32_t i, id;
	size_t vlen;
	rdb *db;

	if (buf == NULL)
		die("malloc", ENOMEM, "buffer");
	rdb_check("rdb_open", rdb_open(RDB_PATH, &db), db);
	c0 = cpu_ns();
	t0 = now_ns();
	for (i = 0; i < N_VALS; i++) {
		id = order[i];
		rdb_check("rdb_kv_get", rdb_kv_get(db, keys[id], KEY_LEN, buf,
						   MAX_VAL, &vlen), db);
		if (vlen != val_len[id] || touch(buf, vlen) != val_sum[id])
			die("rdb_kv_get", (int)id, "wrong value");
	}
	t0 = now_ns() - t0;
	last_get_cpu_ms = cpu_ms_since(c0);
	rdb_check("rdb_close", rdb_close(db), NULL);
	free(buf);
	return (double)t0 / 1e6;
}

/* ---- SQLite ----------------------------------------------------------- */

static sqlite3 *sql_open(void)
{
	sqlite3 *db = NULL;

	sql_check("sqlite3_open", sqlite3_open(SQL_PATH, &db), db, SQLITE_OK);
	sql_exec(db, "PRAGMA journal_mode=WAL");
	sql_exec(db, "PRAGMA synchronous=FULL");
	return db;
}

static put_res sql_put_set(const subset *s)
{
	sqlite3_stmt *st;
	put_res res;
	uint64_t t0, c0, q0;
	uint32_t i, id;
	sqlite3 *db;

	remove_store(SQL_PATH);
	db = sql_open();
	sql_exec(db, "CREATE TABLE t(k TEXT PRIMARY KEY, v BLOB)");
	sql_check("prepare", sqlite3_prepare_v2(db, "INSERT INTO t(k, v) "
		  "VALUES(?1, ?2)", -1, &st, NULL), db, SQLITE_OK);
	q0 = runq_ns();
	c0 = cpu_ns();
	t0 = now_ns();
	sql_exec(db, "BEGIN");
	for (i = 0; i < s->n; i++) {
		id = s->ids[i];
		sqlite3_bind_text(st, 1, keys[id], KEY_LEN, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, arena + val_off[id], (int)val_len[id],
				  SQLITE_STATIC);
		sql_check("INSERT", sqlite3_step(st), db, SQLITE_DONE);
		sqlite3_reset(st);
	}
	sql_exec(db, "COMMIT");
	res.put_ms = ms_since(t0);
	res.cpu_ms = cpu_ms_since(c0);
	res.runq_ms = (double)(runq_ns() - q0) / 1e6;
	sqlite3_finalize(st);
	t0 = now_ns();
	sql_check("sqlite3_close", sqlite3_close(db), NULL, SQLITE_OK);
	res.close_ms = ms_since(t0);
	res.size = store_size(SQL_PATH);
	return res;
}

/* in_txn: all SELECTs inside one BEGIN .. COMMIT (else each is its own
 * read transaction, like each rdb_kv_get). */
static double sql_get_all(const uint32_t *order, int in_txn)
{
	sqlite3_stmt *st;
	uint64_t t0, c0;
	uint32_t i, id;
	const void *v;
	sqlite3 *db;
	size_t n;

	db = sql_open();
	sql_check("prepare", sqlite3_prepare_v2(db, "SELECT v FROM t WHERE "
		  "k = ?1", -1, &st, NULL), db, SQLITE_OK);
	c0 = cpu_ns();
	t0 = now_ns();
	if (in_txn)
		sql_exec(db, "BEGIN");
	for (i = 0; i < N_VALS; i++) {
		id = order[i];
		sqlite3_bind_text(st, 1, keys[id], KEY_LEN, SQLITE_STATIC);
		sql_check("SELECT", sqlite3_step(st), db, SQLITE_ROW);
		v = sqlite3_column_blob(st, 0);
		n = (size_t)sqlite3_column_bytes(st, 0);
		if (n != val_len[id] || touch(v, n) != val_sum[id])
			die("SELECT", (int)id, "wrong value");
		sqlite3_reset(st);
	}
	if (in_txn)
		sql_exec(db, "COMMIT");
	t0 = now_ns() - t0;
	last_get_cpu_ms = cpu_ms_since(c0);
	sqlite3_finalize(st);
	sql_check("sqlite3_close", sqlite3_close(db), NULL, SQLITE_OK);
	return (double)t0 / 1e6;
}

/* ---- LMDB ------------------------------------------------------------- */

static MDB_env *mdb_open_env(void)
{
	MDB_env *env;

	mdb_check("mdb_env_create", mdb_env_create(&env));
	mdb_check("mdb_env_set_mapsize", mdb_env_set_mapsize(env, LMDB_MAP));
	mdb_check("mdb_env_open", mdb_env_open(env, MDB_PATH, MDB_NOSUBDIR,
					       0644));
	return env;
}

static put_res mdb_put_set(const subset *s)
{
	MDB_val kv, vv;
	put_res res;
	uint64_t t0, c0, q0;
	uint32_t i, id;
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi dbi;

	remove_store(MDB_PATH);
	env = mdb_open_env();
	q0 = runq_ns();
	c0 = cpu_ns();
	t0 = now_ns();
	mdb_check("mdb_txn_begin", mdb_txn_begin(env, NULL, 0, &t));
	mdb_check("mdb_dbi_open", mdb_dbi_open(t, NULL, 0, &dbi));
	for (i = 0; i < s->n; i++) {
		id = s->ids[i];
		kv.mv_size = KEY_LEN;
		kv.mv_data = keys[id];
		vv.mv_size = val_len[id];
		vv.mv_data = arena + val_off[id];
		mdb_check("mdb_put", mdb_put(t, dbi, &kv, &vv, 0));
	}
	mdb_check("mdb_txn_commit", mdb_txn_commit(t));
	res.put_ms = ms_since(t0);
	res.cpu_ms = cpu_ms_since(c0);
	res.runq_ms = (double)(runq_ns() - q0) / 1e6;
	t0 = now_ns();
	mdb_env_close(env);
	res.close_ms = ms_since(t0);
	res.size = store_size(MDB_PATH);
	return res;
}

static double mdb_get_all(const uint32_t *order)
{
	MDB_val kv, vv;
	uint64_t t0, c0;
	uint32_t i, id;
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi dbi;

	env = mdb_open_env();
	c0 = cpu_ns();
	t0 = now_ns();
	mdb_check("mdb_txn_begin", mdb_txn_begin(env, NULL, MDB_RDONLY, &t));
	mdb_check("mdb_dbi_open", mdb_dbi_open(t, NULL, 0, &dbi));
	for (i = 0; i < N_VALS; i++) {
		id = order[i];
		kv.mv_size = KEY_LEN;
		kv.mv_data = keys[id];
		mdb_check("mdb_get", mdb_get(t, dbi, &kv, &vv));
		if (vv.mv_size != val_len[id] ||
		    touch(vv.mv_data, vv.mv_size) != val_sum[id])
			die("mdb_get", (int)id, "wrong value");
	}
	mdb_txn_abort(t);
	t0 = now_ns() - t0;
	last_get_cpu_ms = cpu_ms_since(c0);
	mdb_env_close(env);
	return (double)t0 / 1e6;
}

/* ---- phases ------------------------------------------------------------ */

static put_res put_set(int e, const subset *s)
{
	switch (e) {
	case E_RDB:
		return rdb_put_set(s);
	case E_SQL:
		return sql_put_set(s);
	default:
		return mdb_put_set(s);
	}
}

static double get_all(int e, const uint32_t *order)
{
	switch (e) {
	case E_RDB:
		return rdb_get_all(order);
	case E_SQL:
		return sql_get_all(order, 0);
	default:
		return mdb_get_all(order);
	}
}

static void print_spread(const char *phase, double (*a)[N_ENG], int rounds)
{
	double s[N_ENG][8];
	int e, k;

	printf("# %s over %d rounds, ms (min / median / max):", phase,
	       rounds);
	for (e = 0; e < N_ENG; e++) {
		for (k = 0; k < rounds; k++)
			s[e][k] = a[k][e];
		qsort(s[e], (size_t)rounds, sizeof(double), cmp_double);
		printf("%s %s %.0f / %.0f / %.0f", e ? "," : "", eng_name[e],
		       s[e][0], s[e][rounds / 2], s[e][rounds - 1]);
	}
	printf("\n");
}

/* Each round puts the whole set into a fresh store of every engine, the
 * engines taking turns in a rotating order; the median round counts.
 * The stores of the last round stay for the get phase. */
static void phase_put(const subset *all, double med[N_ENG])
{
	double t[PUT_ROUNDS][N_ENG], cpu[PUT_ROUNDS][N_ENG], col[PUT_ROUNDS];
	double cmed[N_ENG];
	put_res r;
	int k, i, e;

	for (k = 0; k < PUT_ROUNDS; k++) {
		for (i = 0; i < N_ENG; i++) {
			e = (i + k) % N_ENG;
			r = put_set(e, all);
			t[k][e] = r.put_ms;
			cpu[k][e] = r.cpu_ms;
			printf("# round %d: %s put %.0f ms (CPU %.0f, "
			       "waiting for a CPU %.0f), close %.0f ms, "
			       "file %.1f MiB\n", k + 1, eng_name[e], r.put_ms,
			       r.cpu_ms, r.runq_ms, r.close_ms,
			       (double)r.size / 1048576);
			fflush(stdout);
		}
	}
	print_spread("put", t, PUT_ROUNDS);
	for (e = 0; e < N_ENG; e++) {
		for (k = 0; k < PUT_ROUNDS; k++)
			col[k] = t[k][e];
		med[e] = median(col, PUT_ROUNDS);
		for (k = 0; k < PUT_ROUNDS; k++)
			col[k] = cpu[k][e];
		cmed[e] = median(col, PUT_ROUNDS);
	}
	printf("# put CPU time, median of %d rounds: rdb %.0f ms, sqlite %.0f "
	       "ms, lmdb %.0f ms (rdb/sqlite %.2f, rdb/lmdb %.2f)\n",
	       PUT_ROUNDS, cmed[E_RDB], cmed[E_SQL], cmed[E_MDB],
	       cmed[E_RDB] / cmed[E_SQL], cmed[E_RDB] / cmed[E_MDB]);
}

static void phase_get(double med[N_ENG])
{
	double t[GET_ROUNDS][N_ENG], cpu[GET_ROUNDS][N_ENG], col[GET_ROUNDS];
	double cmed[N_ENG], one;
	uint32_t *order = shuffled(N_VALS, SEED ^ 1);
	int k, i, e;

	/* Untimed pass: every file is in the OS page cache for all. */
	for (e = 0; e < N_ENG; e++)
		(void)get_all(e, order);
	for (k = 0; k < GET_ROUNDS; k++)
		for (i = 0; i < N_ENG; i++) {
			e = (i + k) % N_ENG;
			t[k][e] = get_all(e, order);
			cpu[k][e] = last_get_cpu_ms;
		}
	print_spread("get", t, GET_ROUNDS);
	for (e = 0; e < N_ENG; e++) {
		for (k = 0; k < GET_ROUNDS; k++)
			col[k] = t[k][e];
		med[e] = median(col, GET_ROUNDS);
		for (k = 0; k < GET_ROUNDS; k++)
			col[k] = cpu[k][e];
		cmed[e] = median(col, GET_ROUNDS);
	}
	printf("# get CPU time, median of %d rounds: rdb %.0f ms, sqlite %.0f "
	       "ms, lmdb %.0f ms (rdb/sqlite %.2f, rdb/lmdb %.2f)\n",
	       GET_ROUNDS, cmed[E_RDB], cmed[E_SQL], cmed[E_MDB],
	       cmed[E_RDB] / cmed[E_SQL], cmed[E_RDB] / cmed[E_MDB]);
	one = sql_get_all(order, 1);
	printf("# sqlite get with all SELECTs in one BEGIN/COMMIT: %.0f ms\n",
	       one);
	free(order);
}

static void phase_sizes(const subset *text, const subset *random,
			uint64_t sz_text[N_ENG], uint64_t sz_rand[N_ENG])
{
	put_res r;
	int e;

	for (e = 0; e < N_ENG; e++) {
		r = put_set(e, text);
		sz_text[e] = r.size;
		printf("# %s compressible-only: put %.0f ms (CPU %.0f ms), "
		       "close %.0f ms, file %.1f MiB\n", eng_name[e], r.put_ms,
		       r.cpu_ms, r.close_ms, (double)r.size / 1048576);
		r = put_set(e, random);
		sz_rand[e] = r.size;
		printf("# %s random-only: put %.0f ms (CPU %.0f ms), close "
		       "%.0f ms, file %.1f MiB\n", eng_name[e], r.put_ms,
		       r.cpu_ms, r.close_ms, (double)r.size / 1048576);
		remove_store(eng_path[e]);
		fflush(stdout);
	}
}

/* ---- open time of a 1,000,000-key store ------------------------------- */

static void key_1m(uint32_t i, char *k)
{
	char tmp[OPEN_KLEN + 1];

	snprintf(tmp, sizeof(tmp), "key:%012u", (unsigned)i);
	memcpy(k, tmp, OPEN_KLEN);
}

static void val_1m(uint32_t i, unsigned char *v)
{
	uint64_t w;
	unsigned j;

	for (j = 0; j < OPEN_VLEN; j += 8) {
		w = mix64((uint64_t)i * 4 + j / 8);
		memcpy(v + j, &w, 8);
	}
}

/* Drop the file's pages from the OS page cache (clean pages only, so
 * sync first). */
static int evict(const char *path)
{
	int fd = open(path, O_RDONLY), rc;

	if (fd < 0)
		return errno;
	(void)fdatasync(fd);
	rc = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	return rc;
}

/* rdb_open + one rdb_kv_get (of key i, verified); rdb_close untimed. */
static double open_get(uint32_t i)
{
	unsigned char want[OPEN_VLEN], got[OPEN_VLEN];
	char k[OPEN_KLEN];
	uint64_t t0;
	size_t vlen;
	double ms;
	rdb *db;

	key_1m(i, k);
	val_1m(i, want);
	t0 = now_ns();
	rdb_check("rdb_open", rdb_open(RDB_1M, &db), db);
	rdb_check("rdb_kv_get", rdb_kv_get(db, k, OPEN_KLEN, got, sizeof(got),
					   &vlen), db);
	ms = ms_since(t0);
	if (vlen != OPEN_VLEN || memcmp(got, want, OPEN_VLEN) != 0)
		die("rdb_kv_get", (int)i, "wrong value in the 1M store");
	rdb_check("rdb_close", rdb_close(db), NULL);
	return ms;
}

static void phase_open(double *open_ms, double *write_ms)
{
	char (*k)[OPEN_KLEN] = malloc((size_t)OPEN_BATCH * sizeof(*k));
	unsigned char (*v)[OPEN_VLEN] = malloc((size_t)OPEN_BATCH *
					       sizeof(*v));
	rdb_kv_op *ops = malloc((size_t)OPEN_BATCH * sizeof(*ops));
	double warm[OPEN_WARM], close_ms;
	uint32_t b, j, id;
	uint64_t t0;
	rdb *db;
	int rc;

	if (k == NULL || v == NULL || ops == NULL)
		die("malloc", ENOMEM, "1M batch");
	remove_store(RDB_1M);
	rdb_check("rdb_open", rdb_open(RDB_1M, &db), db);
	t0 = now_ns();
	for (b = 0; b < OPEN_KEYS / OPEN_BATCH; b++) {
		for (j = 0; j < OPEN_BATCH; j++) {
			id = b * OPEN_BATCH + j;
			key_1m(id, k[j]);
			val_1m(id, v[j]);
			ops[j].del = 0;
			ops[j].key = k[j];
			ops[j].klen = OPEN_KLEN;
			ops[j].val = v[j];
			ops[j].vlen = OPEN_VLEN;
		}
		rdb_check("rdb_kv_batch", rdb_kv_batch(db, ops, OPEN_BATCH),
			  db);
	}
	*write_ms = ms_since(t0);
	t0 = now_ns();
	rdb_check("rdb_close", rdb_close(db), NULL);
	close_ms = ms_since(t0);
	printf("# 1M store: %u keys of %u bytes, values of %u bytes, %u "
	       "batches of %u (ascending keys): write %.0f ms, close %.0f ms, "
	       "file %.1f MiB\n", OPEN_KEYS, OPEN_KLEN, OPEN_VLEN,
	       OPEN_KEYS / OPEN_BATCH, OPEN_BATCH, *write_ms, close_ms,
	       (double)store_size(RDB_1M) / 1048576);

	rc = evict(RDB_1M);
	if (rc != 0)
		printf("# note: could not evict %s from the page cache (%s)\n",
		       RDB_1M, strerror(rc));
	*open_ms = open_get((uint32_t)(mix64(SEED) % OPEN_KEYS));
	for (j = 0; j < OPEN_WARM; j++)
		warm[j] = open_get((uint32_t)(mix64(SEED + 1 + j) % OPEN_KEYS));
	printf("# open_1m: cold open + get %.2f ms (%.3f%% of the write); "
	       "warm (file in the page cache), median of %d: %.2f ms\n",
	       *open_ms, 100 * *open_ms / *write_ms, OPEN_WARM,
	       median(warm, OPEN_WARM));
	remove_store(RDB_1M);
	free(k);
	free(v);
	free(ops);
}

/* ---- main --------------------------------------------------------------- */

/* The machine's load average (1, 5, 15 min): other work skews timings. */
static void print_load(const char *when)
{
	double l1, l5, l15;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f == NULL)
		return;
	if (fscanf(f, "%lf %lf %lf", &l1, &l5, &l15) == 3)
		printf("# load average at %s: %.2f %.2f %.2f (%ld CPUs)\n",
		       when, l1, l5, l15, sysconf(_SC_NPROCESSORS_ONLN));
	fclose(f);
}

static void line_ms(const char *phase, int e, const double *v)
{
	printf("kv.%s.%s: rdb %.1f ms, %s %.1f ms, ratio %.2f\n", phase,
	       eng_name[e], v[E_RDB], eng_name[e], v[e], v[E_RDB] / v[e]);
}

static void line_kib(const char *phase, int e, const uint64_t *v)
{
	printf("kv.%s.%s: rdb %.0f KiB, %s %.0f KiB, ratio %.2f\n", phase,
	       eng_name[e], (double)v[E_RDB] / 1024, eng_name[e],
	       (double)v[e] / 1024, (double)v[E_RDB] / (double)v[e]);
}

int main(void)
{
	double put[N_ENG], get[N_ENG], open_ms, write_ms;
	uint64_t sz_text[N_ENG], sz_rand[N_ENG], t0 = now_ns();
	subset all, text, random;
	int e;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# bench_kv: rdb %s, sqlite %s, %s; put/get: %d/%d rounds, "
	       "median\n", rdb_libversion(), sqlite3_libversion(),
	       mdb_version(NULL, NULL, NULL), PUT_ROUNDS, GET_ROUNDS);
	print_load("start");
	remove_all();
	make_data();
	make_subset(&all, "all", -1);
	make_subset(&text, "compressible", 1);
	make_subset(&random, "random", 0);

	phase_put(&all, put);
	phase_get(get);
	for (e = 0; e < N_ENG; e++)
		remove_store(eng_path[e]);
	printf("# file sizes: each engine puts the compressible half (10,000 "
	       "text values) into one fresh store and the random half into "
	       "another; size after a clean close (WAL folded in)\n");
	phase_sizes(&text, &random, sz_text, sz_rand);
	phase_open(&open_ms, &write_ms);

	line_ms("put", E_MDB, put);
	line_ms("put", E_SQL, put);
	line_ms("get", E_MDB, get);
	line_ms("get", E_SQL, get);
	line_kib("file_size_compressible", E_SQL, sz_text);
	line_kib("file_size_compressible", E_MDB, sz_text);
	line_kib("file_size_random", E_SQL, sz_rand);
	line_kib("file_size_random", E_MDB, sz_rand);
	printf("kv.open_1m: rdb %.2f ms, write %.0f ms, ratio %.2f\n",
	       open_ms, write_ms, open_ms / write_ms);
	remove_all();
	print_load("end");
	printf("# total %.1f s\n", ms_since(t0) / 1000);
	free(all.ids);
	free(text.ids);
	free(random.ids);
	free(arena);
	return 0;
}
