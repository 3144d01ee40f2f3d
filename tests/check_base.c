/*
 * check_base.c -- the shared leaf modules: error recording and error
 * strings (src/err.c) and the allocator with its failure injector
 * (src/mem.c), the growable buffer (src/buf.c).  Cases: err, mem, buf,
 * concurrency.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rdb.h"
#include "buf.h"
#include "err.h"
#include "mem.h"

/* Every code of rdb_rc in include/rdb.h. */
static const int all_codes[] = {
	RDB_OK, RDB_ERROR, RDB_INTERNAL, RDB_BUSY, RDB_NOMEM, RDB_READONLY,
	RDB_INTERRUPT, RDB_IOERR, RDB_CORRUPT, RDB_NOTFOUND, RDB_FULL,
	RDB_CANTOPEN, RDB_TOOBIG, RDB_CONSTRAINT, RDB_MISMATCH, RDB_MISUSE,
	RDB_RANGE, RDB_NOTADB, RDB_ROW, RDB_DONE,
};
#define N_CODES ((int)(sizeof(all_codes) / sizeof(all_codes[0])))

/* A value no rdb_rc uses, for the "unknown code" string. */
#define NOT_A_CODE 12345

/* ---- err --------------------------------------------------------------- */

START_TEST(test_err_set_formats_message_and_returns_code)
{
	rdb_err err = { 0 };
	rdb_rc rc;

	rc = rdb_err_set(&err, RDB_CORRUPT, "page %u: bad type %#x in '%s'",
			 7u, 0x42u, "t.rdb");
	ck_assert_int_eq(rc, RDB_CORRUPT);
	ck_assert_int_eq(err.rc, RDB_CORRUPT);
	ck_assert_str_eq(err.msg, "page 7: bad type 0x42 in 't.rdb'");
}
END_TEST

START_TEST(test_err_set_again_replaces_code_and_message)
{
	rdb_err err = { 0 };

	(void)rdb_err_set(&err, RDB_IOERR, "a much longer first message");
	ck_assert_int_eq(rdb_err_set(&err, RDB_FULL, "short"), RDB_FULL);
	ck_assert_int_eq(err.rc, RDB_FULL);
	ck_assert_str_eq(err.msg, "short");
}
END_TEST

START_TEST(test_err_set_null_err_returns_code)
{
	ck_assert_int_eq(rdb_err_set(NULL, RDB_FULL, "disk %s", "full"),
			 RDB_FULL);
	ck_assert_int_eq(rdb_err_set(NULL, RDB_OK, "nothing"), RDB_OK);
}
END_TEST

START_TEST(test_err_set_long_message_truncated_and_terminated)
{
	/* The guard bytes after the struct catch a write past msg[]. */
	struct {
		rdb_err err;
		unsigned char guard[64];
	} box;
	char long_msg[3 * RDB_ERR_MSG_MAX];
	size_t i;

	memset(&box, 0xA5, sizeof(box));
	for (i = 0; i < sizeof(long_msg) - 1; i++)
		long_msg[i] = (char)('a' + i % 26);
	long_msg[sizeof(long_msg) - 1] = '\0';

	ck_assert_int_eq(rdb_err_set(&box.err, RDB_TOOBIG, "%s", long_msg),
			 RDB_TOOBIG);
	ck_assert_int_eq(box.err.rc, RDB_TOOBIG);
	ck_assert_uint_eq(strlen(box.err.msg), RDB_ERR_MSG_MAX - 1);
	ck_assert_int_eq(box.err.msg[RDB_ERR_MSG_MAX - 1], '\0');
	ck_assert_int_eq(memcmp(box.err.msg, long_msg, RDB_ERR_MSG_MAX - 1), 0);
	for (i = 0; i < sizeof(box.guard); i++)
		ck_assert_uint_eq(box.guard[i], 0xA5);
}
END_TEST

START_TEST(test_err_clear_resets_code_and_message)
{
	rdb_err err = { 0 };

	(void)rdb_err_set(&err, RDB_BUSY, "database is locked by pid %d", 42);
	rdb_err_clear(&err);
	ck_assert_int_eq(err.rc, RDB_OK);
	ck_assert_str_eq(err.msg, "");
	rdb_err_clear(NULL);    /* must not crash */
}
END_TEST

START_TEST(test_err_errstr_each_code_distinct_nonempty)
{
	const char *unknown = rdb_errstr(NOT_A_CODE);
	int i, j;

	for (i = 0; i < N_CODES; i++) {
		const char *s = rdb_errstr(all_codes[i]);

		ck_assert_ptr_nonnull(s);
		ck_assert_msg(s[0] != '\0', "code %d has an empty string",
			      all_codes[i]);
		ck_assert_msg(strcmp(s, unknown) != 0,
			      "code %d has no string of its own", all_codes[i]);
		for (j = 0; j < i; j++)
			ck_assert_msg(strcmp(s, rdb_errstr(all_codes[j])) != 0,
				      "codes %d and %d share \"%s\"",
				      all_codes[j], all_codes[i], s);
	}
}
END_TEST

START_TEST(test_err_errstr_strings_are_lower_case)
{
	int i;

	for (i = 0; i < N_CODES; i++) {
		const char *s = rdb_errstr(all_codes[i]);

		ck_assert_msg(s[0] >= 'a' && s[0] <= 'z',
			      "code %d: \"%s\" does not start lower-case",
			      all_codes[i], s);
	}
}
END_TEST

START_TEST(test_err_errstr_unknown_code_gives_nonempty_string)
{
	const int odd[] = { -1, 3, 99, 102, NOT_A_CODE };
	size_t i;

	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		ck_assert_ptr_nonnull(rdb_errstr(odd[i]));
		ck_assert_int_ne(rdb_errstr(odd[i])[0], '\0');
	}
}
END_TEST

/* all_codes[] above must follow include/rdb.h: read the header (make check
 * runs from the repository root) and look for a code the list lacks. */
START_TEST(test_err_code_list_matches_public_header)
{
	FILE *f = fopen("include/rdb.h", "r");
	char line[256];
	int n_found = 0;

	ck_assert_msg(f != NULL, "cannot open include/rdb.h: run the tests "
		      "from the repository root");
	while (fgets(line, sizeof(line), f) != NULL) {
		char name[64];
		int value, i, known = 0;

		if (sscanf(line, " RDB_%63[A-Z_] = %d", name, &value) != 2)
			continue;
		n_found++;
		for (i = 0; i < N_CODES; i++)
			known |= all_codes[i] == value;
		ck_assert_msg(known, "RDB_%s = %d is missing from "
			      "all_codes[]", name, value);
	}
	fclose(f);
	ck_assert_int_eq(n_found, N_CODES);
}
END_TEST

START_TEST(test_err_libversion_equals_header_version)
{
	char num[32];

	ck_assert_str_eq(rdb_libversion(), RDB_VERSION);
	snprintf(num, sizeof(num), "%d.%d.%d", RDB_VERSION_MAJOR,
		 RDB_VERSION_MINOR, RDB_VERSION_PATCH);
	ck_assert_str_eq(num, RDB_VERSION);
	ck_assert_int_eq(RDB_VERSION_NUMBER,
			 RDB_VERSION_MAJOR * 1000000 +
			 RDB_VERSION_MINOR * 1000 + RDB_VERSION_PATCH);
}
END_TEST

/* ---- mem --------------------------------------------------------------- */

/* The injector is process-wide: start and end every test with it off. */
static void mem_reset(void)
{
	rdb_mem_fail_at(0, 0);
}

enum alloc_kind { BY_MALLOC, BY_CALLOC, BY_REALLOC };

static void *alloc_by(enum alloc_kind kind, size_t n)
{
	switch (kind) {
	case BY_MALLOC: return rdb_malloc(n);
	case BY_CALLOC: return rdb_calloc(1, n);
	case BY_REALLOC: return rdb_realloc(NULL, n);
	}
	return NULL;
}

/* Loop test: _i selects malloc, calloc or realloc. */
START_TEST(test_mem_fail_at_fails_exactly_the_nth_allocation)
{
	enum alloc_kind kind = (enum alloc_kind)_i;
	void *p[8];
	int i;

	rdb_mem_fail_at(3, 0);
	for (i = 0; i < 8; i++) {
		p[i] = alloc_by(kind, 16);
		if (i == 2)
			ck_assert_msg(p[i] == NULL,
				      "kind %d: call 3 not failed", _i);
		else
			ck_assert_msg(p[i] != NULL, "kind %d: call %d failed",
				      _i, i + 1);
	}
	ck_assert_int_eq(rdb_mem_count(), 8);
	ck_assert_int_eq(rdb_mem_failed(), 1);
	for (i = 0; i < 8; i++)
		rdb_free(p[i]);
}
END_TEST

START_TEST(test_mem_fail_at_counts_across_malloc_calloc_realloc)
{
	void *a, *b, *c, *d;

	rdb_mem_fail_at(3, 0);
	a = rdb_malloc(8);
	b = rdb_calloc(2, 8);
	c = rdb_realloc(NULL, 8);     /* the 3rd call, whatever its kind */
	d = rdb_malloc(8);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(d);
	rdb_free(a);
	rdb_free(b);
	rdb_free(d);
}
END_TEST

START_TEST(test_mem_fail_at_sticky_fails_every_later_allocation)
{
	void *keep[2];
	int i;

	rdb_mem_fail_at(3, 1);
	keep[0] = rdb_malloc(8);
	keep[1] = rdb_calloc(1, 8);
	ck_assert_ptr_nonnull(keep[0]);
	ck_assert_ptr_nonnull(keep[1]);
	for (i = 0; i < 30; i++)
		ck_assert_ptr_null(alloc_by((enum alloc_kind)(i % 3), 8));
	ck_assert_int_eq(rdb_mem_count(), 32);
	ck_assert_int_eq(rdb_mem_failed(), 1);
	rdb_free(keep[0]);
	rdb_free(keep[1]);
}
END_TEST

START_TEST(test_mem_fail_at_zero_turns_failures_off)
{
	void *p;
	int i;

	rdb_mem_fail_at(1, 1);
	ck_assert_ptr_null(rdb_malloc(8));
	rdb_mem_fail_at(0, 0);
	for (i = 0; i < 100; i++) {
		p = alloc_by((enum alloc_kind)(i % 3), 8);
		ck_assert_ptr_nonnull(p);
		rdb_free(p);
	}
	ck_assert_int_eq(rdb_mem_failed(), 0);
}
END_TEST

START_TEST(test_mem_count_counts_allocation_calls_not_frees)
{
	void *a, *b, *c;

	ck_assert_int_eq(rdb_mem_count(), 0);
	a = rdb_malloc(8);
	b = rdb_calloc(4, 4);
	c = rdb_realloc(a, 64);
	ck_assert_int_eq(rdb_mem_count(), 3);
	rdb_free(b);
	rdb_free(c);
	rdb_free(NULL);
	ck_assert_int_eq(rdb_mem_count(), 3);
	rdb_mem_fail_at(5, 0);          /* restarts the count */
	ck_assert_int_eq(rdb_mem_count(), 0);
}
END_TEST

START_TEST(test_mem_failed_set_only_after_injected_failure)
{
	void *a;

	rdb_mem_fail_at(2, 0);
	a = rdb_malloc(8);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(rdb_mem_failed(), 0);
	ck_assert_ptr_null(rdb_malloc(8));
	ck_assert_int_eq(rdb_mem_failed(), 1);
	rdb_mem_fail_at(0, 0);          /* clears the flag */
	ck_assert_int_eq(rdb_mem_failed(), 0);
	rdb_free(a);
}
END_TEST

START_TEST(test_mem_realloc_failure_keeps_old_block)
{
	unsigned char *p, *q;
	int i;

	p = rdb_malloc(64);
	ck_assert_ptr_nonnull(p);
	for (i = 0; i < 64; i++)
		p[i] = (unsigned char)i;
	rdb_mem_fail_at(1, 0);
	q = rdb_realloc(p, 1 << 20);
	ck_assert_ptr_null(q);
	/* p must still be ours, intact (ASan reports a use after free). */
	for (i = 0; i < 64; i++)
		ck_assert_uint_eq(p[i], (unsigned)i);
	q = rdb_realloc(p, 1 << 20);
	ck_assert_ptr_nonnull(q);
	for (i = 0; i < 64; i++)
		ck_assert_uint_eq(q[i], (unsigned)i);
	rdb_free(q);
}
END_TEST

START_TEST(test_mem_calloc_returns_zeroed_memory)
{
	unsigned char *p = rdb_calloc(100, 3);
	int i;

	ck_assert_ptr_nonnull(p);
	for (i = 0; i < 300; i++)
		ck_assert_uint_eq(p[i], 0);
	rdb_free(p);
}
END_TEST

START_TEST(test_mem_zero_size_gives_freeable_block)
{
	void *a = rdb_malloc(0);
	void *b = rdb_calloc(0, 8);
	void *c = rdb_realloc(NULL, 0);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(c);
	rdb_free(a);
	rdb_free(b);
	rdb_free(c);
}
END_TEST

/* ---- concurrency ------------------------------------------------------- */

#define N_THREADS 4
#define N_ALLOCS_PER_THREAD 2000

static void *alloc_loop(void *arg)
{
	long *n_null = arg;
	int i;

	for (i = 0; i < N_ALLOCS_PER_THREAD; i++) {
		void *p = alloc_by((enum alloc_kind)(i % 3), 32);

		if (p == NULL)
			(*n_null)++;
		rdb_free(p);
	}
	return NULL;
}

START_TEST(test_mem_concurrent_allocations_counted_and_failed_once)
{
	pthread_t th[N_THREADS];
	long n_null[N_THREADS] = { 0 };
	long total = 0;
	int i;

	rdb_mem_fail_at(N_ALLOCS_PER_THREAD, 0);
	for (i = 0; i < N_THREADS; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, alloc_loop,
						&n_null[i]), 0);
	for (i = 0; i < N_THREADS; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		total += n_null[i];
	}
	ck_assert_int_eq(rdb_mem_count(), N_THREADS * N_ALLOCS_PER_THREAD);
	ck_assert_int_eq(total, 1);
	ck_assert_int_eq(rdb_mem_failed(), 1);
}
END_TEST

/* ---- buf --------------------------------------------------------------- */

START_TEST(test_buf_appends_grow_and_keep_content)
{
	rdb_buf b = {0};
	size_t i;

	for (i = 0; i < 10000; i++)
		ck_assert_int_eq(rdb_buf_putc(&b, (unsigned char)i), RDB_OK);
	ck_assert_int_eq(rdb_buf_puts(&b, "xyz"), RDB_OK);
	ck_assert_int_eq(rdb_buf_append(&b, "ab", 2), RDB_OK);
	ck_assert_uint_eq(b.n, 10005);
	ck_assert(b.cap > b.n);
	for (i = 0; i < 10000; i++)
		ck_assert_uint_eq(b.p[i], (unsigned char)i);
	ck_assert(memcmp(b.p + 10000, "xyzab", 5) == 0);
	ck_assert_int_eq(rdb_buf_terminate(&b), RDB_OK);
	ck_assert_uint_eq(b.p[b.n], 0);
	ck_assert_uint_eq(b.n, 10005);
	rdb_buf_reset(&b);
	ck_assert_uint_eq(b.n, 0);
	rdb_buf_free(&b);
	ck_assert_ptr_null(b.p);
	ck_assert_uint_eq(b.cap, 0);
	rdb_buf_free(NULL);
}
END_TEST

START_TEST(test_buf_failed_growth_changes_nothing)
{
	rdb_buf b = {0};
	unsigned char *p;

	ck_assert_int_eq(rdb_buf_puts(&b, "keep"), RDB_OK);
	p = b.p;
	rdb_mem_fail_at(1, 1);
	ck_assert_int_eq(rdb_buf_reserve(&b, 1000), RDB_NOMEM);
	ck_assert_int_eq(rdb_buf_append(&b, "x", 100), RDB_NOMEM);
	ck_assert_int_eq(rdb_buf_reserve(&b, (size_t)-1), RDB_NOMEM);
	rdb_mem_fail_at(0, 0);
	ck_assert_ptr_eq(b.p, p);
	ck_assert_uint_eq(b.n, 4);
	ck_assert(memcmp(b.p, "keep", 4) == 0);
	rdb_buf_free(&b);
}
END_TEST

START_TEST(test_buf_detach_hands_over_memory_and_empties)
{
	rdb_buf b = {0};
	unsigned char *p;

	ck_assert_int_eq(rdb_buf_puts(&b, "owned"), RDB_OK);
	p = rdb_buf_detach(&b);
	ck_assert_ptr_null(b.p);
	ck_assert_uint_eq(b.n, 0);
	ck_assert(memcmp(p, "owned", 5) == 0);
	rdb_free(p);
}
END_TEST

Suite *base_suite(void)
{
	Suite *s = suite_create("base");
	TCase *tc;

	tc = tcase_create("err");
	tcase_add_test(tc, test_err_set_formats_message_and_returns_code);
	tcase_add_test(tc, test_err_set_again_replaces_code_and_message);
	tcase_add_test(tc, test_err_set_null_err_returns_code);
	tcase_add_test(tc, test_err_set_long_message_truncated_and_terminated);
	tcase_add_test(tc, test_err_clear_resets_code_and_message);
	tcase_add_test(tc, test_err_errstr_each_code_distinct_nonempty);
	tcase_add_test(tc, test_err_errstr_strings_are_lower_case);
	tcase_add_test(tc, test_err_errstr_unknown_code_gives_nonempty_string);
	tcase_add_test(tc, test_err_code_list_matches_public_header);
	tcase_add_test(tc, test_err_libversion_equals_header_version);
	suite_add_tcase(s, tc);

	tc = tcase_create("mem");
	tcase_add_checked_fixture(tc, mem_reset, mem_reset);
	tcase_add_loop_test(tc,
			    test_mem_fail_at_fails_exactly_the_nth_allocation,
			    BY_MALLOC, BY_REALLOC + 1);
	tcase_add_test(tc,
		       test_mem_fail_at_counts_across_malloc_calloc_realloc);
	tcase_add_test(tc,
		       test_mem_fail_at_sticky_fails_every_later_allocation);
	tcase_add_test(tc, test_mem_fail_at_zero_turns_failures_off);
	tcase_add_test(tc, test_mem_count_counts_allocation_calls_not_frees);
	tcase_add_test(tc, test_mem_failed_set_only_after_injected_failure);
	tcase_add_test(tc, test_mem_realloc_failure_keeps_old_block);
	tcase_add_test(tc, test_mem_calloc_returns_zeroed_memory);
	tcase_add_test(tc, test_mem_zero_size_gives_freeable_block);
	suite_add_tcase(s, tc);

	tc = tcase_create("buf");
	tcase_add_checked_fixture(tc, mem_reset, mem_reset);
	tcase_add_test(tc, test_buf_appends_grow_and_keep_content);
	tcase_add_test(tc, test_buf_failed_growth_changes_nothing);
	tcase_add_test(tc, test_buf_detach_hands_over_memory_and_empties);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrency");
	tcase_add_checked_fixture(tc, mem_reset, mem_reset);
	tcase_add_test(tc,
		       test_mem_concurrent_allocations_counted_and_failed_once);
	suite_add_tcase(s, tc);
	return s;
}
