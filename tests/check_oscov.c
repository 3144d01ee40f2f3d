/*
 * check_oscov.c -- the POSIX file layer's error paths on real files (found
 * with `make coverage COV_SUITES=...`, docs/testing.md "Coverage"):
 * offsets and sizes past what the system can address, a full device
 * (/dev/full), calls a device does not support, and paths that cannot be
 * checked or removed.  Each error is the documented code with a message
 * naming the file.  Contract under test: src/pager/os.h.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pager/os.h"
#include "err.h"
#include "test_util.h"

static char path[256];
static rdb_err err;

static void setup(void)
{
	tu_tmp_path(path, sizeof(path));
	memset(&err, 0, sizeof(err));
}

static void teardown(void)
{
	(void)unlink(path);
}

static void has(const char *what)
{
	ck_assert_msg(strstr(err.msg, what) != NULL, "message '%s' lacks '%s'",
		      err.msg, what);
}

static os_file *open_tmp(void)
{
	os_file *f = NULL;

	ck_assert_int_eq(os_unix_vfs()->open(os_unix_vfs(), path,
					     OS_OPEN_CREATE, &f, &err),
			 RDB_OK);
	return f;
}

/* Offsets and sizes past INT64_MAX: a read is an I/O error, a write and a
 * growing truncate are a full disk; the file is unchanged. */
START_TEST(test_oscov_offsets_past_int64_fail_before_any_system_call)
{
	os_file *f = open_tmp();
	unsigned char b[4] = { 1, 2, 3, 4 };
	uint64_t size = 1;
	size_t got = 9;

	ck_assert_int_eq(os_write(f, 0, b, 4, &err), RDB_OK);
	ck_assert_int_eq(os_read(f, (uint64_t)INT64_MAX, b, 4, &got, &err),
			 RDB_IOERR);
	ck_assert_uint_eq(got, 0);
	has("offset out of range");
	ck_assert_int_eq(os_write(f, UINT64_MAX - 1, b, 4, &err), RDB_FULL);
	has("disk full writing");
	ck_assert_int_eq(os_truncate(f, (uint64_t)INT64_MAX + 1, &err),
			 RDB_FULL);
	has("disk full growing");
	ck_assert_int_eq(os_size(f, &size, &err), RDB_OK);
	ck_assert_uint_eq(size, 4);
	os_close(f);
}
END_TEST

/* /dev/full: a write is RDB_FULL; sync and truncate, which a character
 * device refuses, are I/O errors naming the device; reads give zeros. */
START_TEST(test_oscov_dev_full_write_is_full_sync_truncate_are_ioerr)
{
	os_vfs *v = os_unix_vfs();
	unsigned char b[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	const os_file_methods *m;
	size_t got = 0;
	os_file *f = NULL;
	rdb_rc rc;

	if (access("/dev/full", W_OK) != 0)
		return;            /* no such device here: nothing to prove */
	ck_assert_int_eq(v->open(v, "/dev/full", 0, &f, &err), RDB_OK);
	ck_assert_int_eq(os_write(f, 0, b, sizeof(b), &err), RDB_FULL);
	has("/dev/full");
	ck_assert_int_eq(os_read(f, 0, b, sizeof(b), &got, &err), RDB_OK);
	ck_assert_uint_eq(got, sizeof(b));
	ck_assert_uint_eq(b[0] | b[7], 0);
	ck_assert_int_eq(os_truncate(f, 0, &err), RDB_IOERR);
	has("cannot truncate");
	rc = os_sync(f, &err);
	ck_assert(rc == RDB_OK || rc == RDB_IOERR);
	if (rc == RDB_IOERR)
		has("cannot sync");
	m = f->m;
	m->close(f);
	m->close(NULL);           /* NULL-safe, as promised */
}
END_TEST

/* A path through a regular file is simply missing (ENOTDIR); a name
 * longer than the system allows cannot be checked; a folder cannot be
 * removed as a file, nor read. */
START_TEST(test_oscov_exists_and_remove_report_what_they_cannot_do)
{
	os_vfs *v = os_unix_vfs();
	char sub[300], longp[5000];
	os_file *f = open_tmp();
	int there = 1;

	os_close(f);
	snprintf(sub, sizeof(sub), "%s/below", path);
	ck_assert_int_eq(v->exists(v, sub, &there, &err), RDB_OK);
	ck_assert_int_eq(there, 0);
	memset(longp, 'x', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	there = 1;
	ck_assert_int_eq(v->exists(v, longp, &there, &err), RDB_IOERR);
	ck_assert_int_eq(there, 0);
	has("cannot check");
	ck_assert_int_eq(v->remove(v, longp, &err), RDB_IOERR);
	has("cannot remove");
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(v->remove(v, path, &err), RDB_IOERR);
	has("cannot remove");
	/* A folder opens read-only, but reading it is an I/O error. */
	ck_assert_int_eq(v->open(v, path, OS_OPEN_READONLY, &f, &err),
			 RDB_OK);
	ck_assert_int_eq(os_read(f, 0, sub, 16, &(size_t){ 0 }, &err),
			 RDB_IOERR);
	has("cannot read");
	os_close(f);
	ck_assert_int_eq(rmdir(path), 0);
	ck_assert_int_eq(v->remove(v, path, &err), RDB_OK);  /* missing */
}
END_TEST

Suite *oscov_suite(void)
{
	Suite *s = suite_create("oscov");
	TCase *tc = tcase_create("errors");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc,
		       test_oscov_offsets_past_int64_fail_before_any_system_call);
	tcase_add_test(tc,
		       test_oscov_dev_full_write_is_full_sync_truncate_are_ioerr);
	tcase_add_test(tc,
		       test_oscov_exists_and_remove_report_what_they_cannot_do);
	suite_add_tcase(s, tc);
	return s;
}
