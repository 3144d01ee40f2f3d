/*
 * mem.c -- the allocator behind mem.h, with a failure injector for tests.
 * The counters are atomics so that concurrent tests stay race-free.
 */
#include "mem.h"
#include <stdatomic.h>
#include <stdlib.h>

static atomic_int armed;         /* rdb_mem_fail_at() was ever called */
static atomic_long fail_at;      /* 0 = never fail */
static atomic_long n_calls;      /* allocations since rdb_mem_fail_at() */
static atomic_int fail_sticky;
static atomic_int fail_fired;

/* Decide whether this allocation call is the one (or one of those) that
 * must fail. */
static int should_fail(void)
{
	long n, at;

	/* Programs that never use the injector pay one relaxed load. */
	if (!atomic_load_explicit(&armed, memory_order_relaxed))
		return 0;
	n = atomic_fetch_add(&n_calls, 1) + 1;
	at = atomic_load(&fail_at);

	if (at == 0 || n < at)
		return 0;
	if (n == at || atomic_load(&fail_sticky)) {
		atomic_store(&fail_fired, 1);
		return 1;
	}
	return 0;
}

void *rdb_malloc(size_t n)
{
	if (should_fail())
		return NULL;
	return malloc(n == 0 ? 1 : n);
}

void *rdb_calloc(size_t count, size_t size)
{
	if (should_fail())
		return NULL;
	if (count == 0 || size == 0)
		count = size = 1;
	return calloc(count, size);
}

void *rdb_realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	return realloc(p, n == 0 ? 1 : n);
}

void rdb_free(void *p)
{
	free(p);
}

void rdb_mem_fail_at(long n, int sticky)
{
	atomic_store(&armed, 1);
	atomic_store(&fail_at, 0);
	atomic_store(&n_calls, 0);
	atomic_store(&fail_sticky, sticky != 0);
	atomic_store(&fail_fired, 0);
	atomic_store(&fail_at, n < 0 ? 0 : n);
}

long rdb_mem_count(void)
{
	return atomic_load(&n_calls);
}

int rdb_mem_failed(void)
{
	return atomic_load(&fail_fired);
}
