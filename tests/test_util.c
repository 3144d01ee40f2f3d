/* test_util.c -- see test_util.h. */
#include "test_util.h"
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stdatomic.h>

void tu_tmp_path(char *buf, size_t n)
{
	static atomic_uint counter;
	const char *dir = getenv("TMPDIR");
	struct timespec ts;

	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(buf, n, "%s/rdbtest-%ld-%u-%ld.rdb", dir, (long)getpid(),
		 atomic_fetch_add(&counter, 1), (long)ts.tv_nsec);
	tu_unlink_db(buf);
}

void tu_unlink_db(const char *path)
{
	char wal[1024];

	unlink(path);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
}

void tu_write_file(const char *path, const void *bytes, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_msg(f != NULL, "cannot create %s", path);
	if (len > 0)
		ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

uint64_t tu_seed(void)
{
	const char *s = getenv("RDB_TEST_SEED");
	struct timespec ts;
	uint64_t v;

	if (s != NULL && s[0] != '\0')
		return strtoull(s, NULL, 0) | 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	v = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^
	    (uint64_t)getpid() << 32;
	return v | 1;
}

void tu_seed_note(const char *what, uint64_t seed)
{
	fprintf(stderr, "%s: seed %llu (replay with RDB_TEST_SEED=%llu)\n",
		what, (unsigned long long)seed, (unsigned long long)seed);
}

uint64_t tu_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

uint64_t tu_rand_below(uint64_t *s, uint64_t n)
{
	return n <= 1 ? 0 : tu_rand(s) % n;
}

double tu_scale(void)
{
	const char *s = getenv("RDB_TEST_SCALE");
	double v;

	if (s == NULL || s[0] == '\0')
		return 1.0;
	v = strtod(s, NULL);
	if (!(v > 0.0))
		return 1.0;
	return v > 100.0 ? 100.0 : v;
}

long tu_scaled(long n, long min)
{
	long v = (long)((double)n * tu_scale());

	return v < min ? min : v;
}
