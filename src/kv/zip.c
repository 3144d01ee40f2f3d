/*
 * zip.c -- compression of values for the KV store: the store's zstd
 * parameters, the rule that decides whether a value is stored compressed,
 * and batches compressed ahead on a helper thread while the caller appends
 * (so a large batch is not bound by one thread's zstd speed).
 * Design: src/kv/README.md ("Compression").
 */
#include "kv/kv_int.h"
#include <assert.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>
#include "mem.h"

/* ==== contexts ========================================================= */

/*
 * Making a zstd context costs more than compressing or decompressing a
 * small value (a catalog row: ZSTD_createDCtx was a fifth of the time of
 * a CREATE TABLE), and calls without a kv_ctx make one per call.  So the
 * contexts are kept for reuse in a small process-wide pool.  A pooled
 * context stays reachable from pool[] (never a leak report) and is reset
 * (session only: the store's parameters stay) when it comes back.
 */
#define POOL_MAX 8

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static ZSTD_CCtx *cz_pool[POOL_MAX];
static ZSTD_DCtx *dz_pool[POOL_MAX];
static int n_cz, n_dz;

static ZSTD_CCtx *cz_make(void)
{
	ZSTD_CCtx *cz = ZSTD_createCCtx();

	if (cz != NULL &&
	    (ZSTD_isError(ZSTD_CCtx_setParameter(cz, ZSTD_c_compressionLevel,
						 KV_ZSTD_LEVEL)) ||
	     ZSTD_isError(ZSTD_CCtx_setParameter(cz, ZSTD_c_minMatch,
						 KV_ZSTD_MIN_MATCH)))) {
		ZSTD_freeCCtx(cz);
		cz = NULL;
	}
	return cz;
}

void *kv_cz_new(void)
{
	ZSTD_CCtx *cz = NULL;

	pthread_mutex_lock(&pool_mu);
	if (n_cz > 0)
		cz = cz_pool[--n_cz];
	pthread_mutex_unlock(&pool_mu);
	return cz != NULL ? cz : cz_make();
}

void kv_cz_free(void *cz)
{
	if (cz == NULL)
		return;
	ZSTD_CCtx_reset(cz, ZSTD_reset_session_only);
	pthread_mutex_lock(&pool_mu);
	if (n_cz < POOL_MAX) {
		cz_pool[n_cz++] = cz;
		cz = NULL;
	}
	pthread_mutex_unlock(&pool_mu);
	ZSTD_freeCCtx(cz);
}

void *kv_dz_new(void)
{
	ZSTD_DCtx *dz = NULL;

	pthread_mutex_lock(&pool_mu);
	if (n_dz > 0)
		dz = dz_pool[--n_dz];
	pthread_mutex_unlock(&pool_mu);
	return dz != NULL ? dz : ZSTD_createDCtx();
}

void kv_dz_free(void *dz)
{
	if (dz == NULL)
		return;
	ZSTD_DCtx_reset(dz, ZSTD_reset_session_only);
	pthread_mutex_lock(&pool_mu);
	if (n_dz < POOL_MAX) {
		dz_pool[n_dz++] = dz;
		dz = NULL;
	}
	pthread_mutex_unlock(&pool_mu);
	ZSTD_freeDCtx(dz);
}

/* ==== the rule ========================================================= */

size_t kv_zip_bound(size_t vlen)
{
	return ZSTD_compressBound(vlen) + ZSTD_compressBound(KV_SAMPLE);
}

/*
 * A value of two samples or more is compressed as two zstd frames, its
 * first KV_SAMPLE bytes and the rest: the first frame is the sample that
 * decided (random bytes do not shrink, and are rejected after compressing
 * only the sample), so a value worth compressing costs no extra work.
 */
size_t kv_zip(void *cz, unsigned char *buf, size_t cap, const void *val,
	      size_t vlen)
{
	const unsigned char *v = val;
	size_t c = 0, head = 0, rest;

	assert(cap >= kv_zip_bound(vlen));
	if (vlen < KV_COMPRESS_MIN)
		return 0;
	if (vlen >= 2 * KV_SAMPLE) {
		c = ZSTD_compress2(cz, buf, cap, v, KV_SAMPLE);
		if (ZSTD_isError(c) || c > KV_SAMPLE - KV_SAMPLE / 16)
			return 0;
		head = KV_SAMPLE;
	}
	rest = ZSTD_compress2(cz, buf + c, cap - c, v + head, vlen - head);
	if (ZSTD_isError(rest) || c + rest >= vlen)
		return 0;
	return c + rest;
}

/* ==== batches compressed ahead ========================================= */

/* Jobs compressed before the caller reaches them (bounds the memory). */
#define AHEAD_WINDOW 8u
/* Batches with less to compress are compressed by the caller alone. */
#define AHEAD_MIN_BYTES (1u << 20)
/* Larger values are compressed by the caller (memory per job). */
#define AHEAD_MAX_VALUE (4u << 20)

enum { J_WAITING, J_BUSY, J_DONE, J_FAILED };

typedef struct job {
	const unsigned char *val; /* borrowed from the batch */
	size_t vlen;
	int state;
	unsigned char *out;       /* owned: the stored form, NULL: raw */
	size_t n;
} job;

/*
 * Jobs are the batch's puts that may compress, in order.  Either thread
 * claims the next job (claim++) while it is within the window ahead of
 * the caller (use); the caller takes job `use` when it is done, and
 * compresses later jobs itself while it waits, so both threads work.
 * Results are the same bytes whichever thread made them.
 */
struct kv_ahead {
	pthread_mutex_t mu;
	pthread_cond_t cv;        /* a job finished, or use moved */
	pthread_t th;
	job *jobs;                /* owned */
	size_t n_jobs;
	size_t claim;             /* next job nobody claimed */
	size_t use;               /* next job the caller takes */
	int stop;
	ZSTD_CCtx *cz;            /* owned: the helper's */
};

static int eligible(const rdb_kv_op *op)
{
	return !op->del && op->val != NULL &&
	       op->vlen >= KV_COMPRESS_MIN && op->vlen <= AHEAD_MAX_VALUE;
}

/* Compress j with cz (outside the mutex). */
static int run_job(void *cz, job *j)
{
	size_t cap = kv_zip_bound(j->vlen);

	if (cz == NULL || (j->out = rdb_malloc(cap)) == NULL)
		return J_FAILED;
	j->n = kv_zip(cz, j->out, cap, j->val, j->vlen);
	if (j->n == 0) {
		rdb_free(j->out);
		j->out = NULL;
	}
	return J_DONE;
}

/* With ah->mu held: claim and run one job if the window allows; 1 if it
 * did. */
static int work_one(kv_ahead *ah, void *cz)
{
	job *j;
	int state;

	if (ah->claim >= ah->n_jobs || ah->claim >= ah->use + AHEAD_WINDOW)
		return 0;
	j = &ah->jobs[ah->claim++];
	j->state = J_BUSY;
	pthread_mutex_unlock(&ah->mu);
	state = run_job(cz, j);
	pthread_mutex_lock(&ah->mu);
	j->state = state;
	pthread_cond_broadcast(&ah->cv);
	return 1;
}

static void *helper(void *arg)
{
	kv_ahead *ah = arg;

	pthread_mutex_lock(&ah->mu);
	while (!ah->stop && ah->claim < ah->n_jobs)
		if (!work_one(ah, ah->cz))
			pthread_cond_wait(&ah->cv, &ah->mu);
	pthread_mutex_unlock(&ah->mu);
	return NULL;
}

/* A helper is worth starting: a second CPU, and enough to compress. */
static size_t count_jobs(const rdb_kv_op *ops, size_t n)
{
	uint64_t bytes = 0;
	size_t i, jobs = 0;

	for (i = 0; i < n; i++)
		if (eligible(&ops[i])) {
			jobs++;
			bytes += ops[i].vlen;
		}
	/* Asked only for batches that qualify: it reads a file. */
	if (jobs < 2 || bytes < AHEAD_MIN_BYTES ||
	    sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return 0;
	return jobs;
}

void kv_ahead_begin(kv_ctx *cx, const rdb_kv_op *ops, size_t n)
{
	size_t i, k = 0, n_jobs = count_jobs(ops, n);
	kv_ahead *ah;

	assert(cx->ahead == NULL);
	if (n_jobs == 0 || (ah = rdb_calloc(1, sizeof(*ah))) == NULL)
		return;
	ah->jobs = rdb_calloc(n_jobs, sizeof(*ah->jobs));
	ah->cz = kv_cz_new();
	if (cx->cz == NULL)
		cx->cz = kv_cz_new();
	if (ah->jobs == NULL || ah->cz == NULL || cx->cz == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		if (eligible(&ops[i])) {
			ah->jobs[k].val = ops[i].val;
			ah->jobs[k++].vlen = ops[i].vlen;
		}
	ah->n_jobs = n_jobs;
	pthread_mutex_init(&ah->mu, NULL);
	pthread_cond_init(&ah->cv, NULL);
	if (pthread_create(&ah->th, NULL, helper, ah) != 0) {
		pthread_cond_destroy(&ah->cv);
		pthread_mutex_destroy(&ah->mu);
		goto fail;
	}
	cx->ahead = ah;
	return;
fail:
	kv_cz_free(ah->cz);
	rdb_free(ah->jobs);
	rdb_free(ah);
}

void kv_ahead_end(kv_ctx *cx)
{
	kv_ahead *ah = cx->ahead;
	size_t i;

	if (ah == NULL)
		return;
	pthread_mutex_lock(&ah->mu);
	ah->stop = 1;
	pthread_cond_broadcast(&ah->cv);
	pthread_mutex_unlock(&ah->mu);
	pthread_join(ah->th, NULL);
	for (i = 0; i < ah->n_jobs; i++)
		rdb_free(ah->jobs[i].out);
	pthread_cond_destroy(&ah->cv);
	pthread_mutex_destroy(&ah->mu);
	kv_cz_free(ah->cz);
	rdb_free(ah->jobs);
	rdb_free(ah);
	cx->ahead = NULL;
}

int kv_ahead_take(kv_ctx *cx, const void *val, size_t vlen,
		  const unsigned char **out, size_t *n)
{
	kv_ahead *ah = cx->ahead;
	job *j;

	if (ah == NULL || vlen < KV_COMPRESS_MIN || vlen > AHEAD_MAX_VALUE)
		return 0;
	pthread_mutex_lock(&ah->mu);
	/* The previous job's result was borrowed until this call. */
	if (ah->use > 0) {
		rdb_free(ah->jobs[ah->use - 1].out);
		ah->jobs[ah->use - 1].out = NULL;
	}
	if (ah->use >= ah->n_jobs || ah->jobs[ah->use].val != val ||
	    ah->jobs[ah->use].vlen != vlen) {
		pthread_mutex_unlock(&ah->mu);
		return 0;         /* not the batch's next value */
	}
	j = &ah->jobs[ah->use];
	while (j->state != J_DONE && j->state != J_FAILED)
		if (!work_one(ah, cx->cz))
			pthread_cond_wait(&ah->cv, &ah->mu);
	ah->use++;
	pthread_cond_broadcast(&ah->cv);
	pthread_mutex_unlock(&ah->mu);
	*out = j->out;
	*n = j->n;
	return j->state == J_DONE;
}
