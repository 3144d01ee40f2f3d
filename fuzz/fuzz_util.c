/*
 * fuzz_util.c -- the helpers of fuzz_util.h.  The handle of
 * fz_open_files() is built as rdb_open_v2() builds an RDB_OPEN_MEMORY one
 * (src/api/db.c), but on a file system that already holds the fuzzed
 * bytes, so rdb_close() frees everything.  The watchdog is one thread
 * that interrupts the step running when an fz_run_sql() call has used
 * its FZ_RUN_MS: the engine has no progress callback, and inputs such as
 * an endless recursive CTE must not hang the fuzzer (nor, since they
 * find nothing new once past the budget, slow it down).
 */
#include "fuzz_util.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "api/api_int.h"
#include "api/api_test.h"
#include "mem.h"
#include "pager/os.h"

int fz_open_files(const void *db, size_t n_db, const void *wal,
		  size_t n_wal, rdb **out)
{
	pager_opts o;
	rdb *h;
	rdb_rc rc;

	*out = NULL;
	if ((h = rdb_calloc(1, sizeof(*h))) == NULL)
		return RDB_NOMEM;
	pthread_mutex_init(&h->mu, NULL);
	*out = h;
	if ((h->mem = os_mem_new()) == NULL)
		return RDB_NOMEM;
	if ((rc = os_mem_file_set(h->mem, FZ_DB, db, n_db)) != RDB_OK)
		return rc;
	if (wal != NULL &&
	    (rc = os_mem_file_set(h->mem, FZ_WAL, wal, n_wal)) != RDB_OK)
		return rc;
	pager_opts_default(&o);
	o.create = 0;
	o.cache_pages = FZ_CACHE_PAGES;
	o.busy_timeout_ms = 1;
	rc = pager_open(h->mem, FZ_DB, &o, &h->err, &h->p);
	if (rc == RDB_OK)
		rc = sql_conn_new(h->p, &h->err, &h->sql);
	if (rc == RDB_OK)
		rdb_limit(h, RDB_LIMIT_LENGTH, FZ_MAX_LENGTH);
	return rc;
}

void fz_image_build(const char *setup, fz_image *img)
{
	rdb_open_opts o = {0};
	os_vfs *vfs = os_mem_new();
	rdb *db = NULL;

	memset(img, 0, sizeof(*img));
	o.cache_pages = FZ_CACHE_PAGES;
	if (vfs == NULL || rdb_open_vfs(vfs, FZ_DB, &db, &o) != RDB_OK ||
	    rdb_exec(db, setup, NULL, NULL, NULL) != RDB_OK ||
	    rdb_close(db) != RDB_OK ||
	    os_mem_file_bytes(vfs, FZ_DB, &img->db, &img->n_db) != RDB_OK)
		abort();
	if (os_mem_file_bytes(vfs, FZ_WAL, &img->wal, &img->n_wal) != RDB_OK)
		img->wal = NULL;      /* no log left: the usual case */
	os_mem_free(vfs);
}

/* ---- the watchdog -------------------------------------------------------- */

static pthread_once_t wd_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t wd_mu = PTHREAD_MUTEX_INITIALIZER;
static rdb *wd_db;                   /* guarded by wd_mu */
static long long wd_deadline;        /* ms; guarded by wd_mu */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *wd_main(void *arg)
{
	struct timespec nap = {0, 5 * 1000000};

	(void)arg;
	for (;;) {
		nanosleep(&nap, NULL);
		pthread_mutex_lock(&wd_mu);
		if (wd_db != NULL && now_ms() > wd_deadline)
			rdb_interrupt(wd_db);
		pthread_mutex_unlock(&wd_mu);
	}
	return NULL;
}

static void wd_start(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, wd_main, NULL) == 0)
		pthread_detach(t);
}

static void wd_arm(rdb *db, long long deadline)
{
	pthread_once(&wd_once, wd_start);
	pthread_mutex_lock(&wd_mu);
	wd_db = db;
	wd_deadline = deadline;
	pthread_mutex_unlock(&wd_mu);
}

static void wd_disarm(void)
{
	pthread_mutex_lock(&wd_mu);
	wd_db = NULL;
	pthread_mutex_unlock(&wd_mu);
}

/* ---- SQL ----------------------------------------------------------------- */

static void read_row(rdb_stmt *st)
{
	int i, n = rdb_column_count(st);

	for (i = 0; i < n; i++) {
		(void)rdb_column_name(st, i);
		(void)rdb_column_decltype(st, i);
		switch (rdb_column_type(st, i)) {
		case RDB_INTEGER: (void)rdb_column_int64(st, i); break;
		case RDB_FLOAT: (void)rdb_column_double(st, i); break;
		case RDB_BLOB: (void)rdb_column_blob(st, i); break;
		default: (void)rdb_column_text(st, i); break;
		}
		(void)rdb_column_bytes(st, i);
	}
}

static void run_stmt(rdb_stmt *st, int max_rows, long long deadline)
{
	int rc, rows = 0, i, np = rdb_bind_parameter_count(st);

	for (i = 1; i <= np; i++)
		(void)rdb_bind_int64(st, i, i);
	do {
		rc = rdb_step(st);
		if (rc == RDB_ROW)
			read_row(st);
	} while (rc == RDB_ROW && ++rows < max_rows && now_ms() <= deadline);
}

void fz_run_sql(rdb *db, const char *sql, int max_stmts, int max_rows)
{
	const char *tail = sql;
	long long deadline = now_ms() + FZ_RUN_MS;
	int k;

	wd_arm(db, deadline);
	for (k = 0; k < max_stmts && *tail != '\0' && now_ms() <= deadline;
	     k++) {
		rdb_stmt *st = NULL;
		const char *next = NULL;
		int rc = rdb_prepare(db, tail, -1, &st, &next);

		if (st != NULL) {
			run_stmt(st, max_rows, deadline);
			(void)rdb_finalize(st);
		}
		if (rc != RDB_OK || next == NULL || next <= tail)
			break;
		tail = next;
	}
	wd_disarm();
}

char *fz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return NULL;
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}
