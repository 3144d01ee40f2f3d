/*
 * mem.h -- the one allocator interface of rdb.
 *
 * Leaf header: any module may include it.  Every allocation in src/ goes
 * through these functions so that a test can make the Nth allocation fail
 * and check that each failure path returns RDB_NOMEM without leaking.
 * The functions are thread-safe.  rdb_free(NULL) is a no-op.
 */
#ifndef RDB_MEM_H
#define RDB_MEM_H
#include <stddef.h>

void *rdb_malloc(size_t n);
void *rdb_calloc(size_t count, size_t size);
void *rdb_realloc(void *p, size_t n);   /* NULL on failure; p kept */
void rdb_free(void *p);

/*
 * Testing hooks.  rdb_mem_fail_at(n, sticky) makes the nth allocation
 * counted from this call fail (n >= 1); with sticky every later one fails
 * too.  n == 0 turns failures off.  rdb_mem_count() is the number of
 * allocation calls made since the last rdb_mem_fail_at(); rdb_mem_failed()
 * tells whether an injected failure has happened since then.  Counting
 * starts with the first rdb_mem_fail_at() call of the process: before it,
 * allocations cost no shared-counter update.
 */
void rdb_mem_fail_at(long n, int sticky);
long rdb_mem_count(void);
int rdb_mem_failed(void);

#endif /* RDB_MEM_H */
