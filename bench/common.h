/*
 * common.h -- what the benchmark programs share: clocks, a seeded
 * mixer for keys, and removing a store with its side files.  Linked
 * into every benchmark program (Makefile: BENCH_COMMON, the files of
 * bench/ whose names do not start with bench_).
 */
#ifndef RDB_BENCH_COMMON_H
#define RDB_BENCH_COMMON_H
#include <stdint.h>

/* Monotonic wall clock, ns. */
uint64_t now_ns(void);
/* Wall ms since t0 (a now_ns() value). */
double ms_since(uint64_t t0);
/* CPU time of the process, ns. */
uint64_t cpu_ns(void);
/* splitmix64's finalizer: a well-mixed 64-bit value of x. */
uint64_t mix64(uint64_t x);
/* Unlink path and its -wal, -shm, -lock and -journal files (rdb's,
 * SQLite's and LMDB's); missing files are fine. */
void remove_store(const char *path);

#endif
