/*
 * test_util.h -- helpers shared by the Check suites: temporary paths,
 * whole-file writes, a seeded PRNG whose seed is printed on failure, and
 * the RDB_TEST_SCALE knob that shrinks long loops under sanitizers.
 */
#ifndef RDB_TEST_UTIL_H
#define RDB_TEST_UTIL_H
#include <stddef.h>
#include <stdint.h>

/* A fresh path under $TMPDIR (or /tmp) that does not exist yet. */
void tu_tmp_path(char *buf, size_t n);
/* Remove path and path-wal, ignoring errors. */
void tu_unlink_db(const char *path);
/* Write len bytes to path, replacing it.  Fails the test on error. */
void tu_write_file(const char *path, const void *bytes, size_t len);

/* The seed for this test run: $RDB_TEST_SEED if set, else time-based.
 * Printed to stderr by tu_seed_note() so a failure can be replayed. */
uint64_t tu_seed(void);
void tu_seed_note(const char *what, uint64_t seed);

/* xorshift64* PRNG.  *s must not be 0. */
uint64_t tu_rand(uint64_t *s);
/* Uniform in [0, n) for n >= 1. */
uint64_t tu_rand_below(uint64_t *s, uint64_t n);

/* $RDB_TEST_SCALE as a factor in (0, 100]; default 1.0.  Loops multiply
 * their counts by it (CI's sanitizer runs use smaller values). */
double tu_scale(void);
/* max(min, (long)(n * tu_scale())) */
long tu_scaled(long n, long min);

#endif /* RDB_TEST_UTIL_H */
