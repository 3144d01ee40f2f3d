/*
 * check_os.c -- os: POSIX files (os_unix.c), in-memory files (os_mem.c)
 * and the in-memory fault injector.  The behaviour both vfs share is
 * written once as check_* helpers and run over each.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "pager/os.h"
#include "mem.h"
#include "test_util.h"

static char path[256];  /* a fresh file name for each test */
static os_vfs *mv;      /* the mem tcases' vfs, fresh for each test */
static rdb_err err;

static void unix_setup(void)
{
	tu_tmp_path(path, sizeof(path));
	err = (rdb_err){ 0 };
}

static void unix_teardown(void)
{
	tu_unlink_db(path);
}

/* A fresh mem vfs as well as a fresh path (which names a mem file in the
 * mem tests and a real one in the unix tests of mixed cases). */
static void mem_setup(void)
{
	unix_setup();
	mv = os_mem_new();
	ck_assert_ptr_nonnull(mv);
}

static void mem_teardown(void)
{
	os_mem_free(mv);
	mv = NULL;
	unix_teardown();
}

/* ---- helpers ---------------------------------------------------------- */

static os_file *open_ok(os_vfs *v, const char *p, int flags)
{
	os_file *f = NULL;

	ck_assert_int_eq(v->open(v, p, flags, &f, &err), RDB_OK);
	ck_assert_ptr_nonnull(f);
	return f;
}

static void write_ok(os_file *f, uint64_t off, const void *buf, size_t n)
{
	ck_assert_int_eq(os_write(f, off, buf, n, &err), RDB_OK);
}

static size_t read_ok(os_file *f, uint64_t off, void *buf, size_t n)
{
	size_t got = 12345;

	ck_assert_int_eq(os_read(f, off, buf, n, &got, &err), RDB_OK);
	return got;
}

static uint64_t size_ok(os_file *f)
{
	uint64_t sz = 12345;

	ck_assert_int_eq(os_size(f, &sz, &err), RDB_OK);
	return sz;
}

static int exists_ok(os_vfs *v, const char *p)
{
	int e = -1;

	ck_assert_int_eq(v->exists(v, p, &e, &err), RDB_OK);
	return e;
}

static int has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* The mem file's current bytes; caller frees with rdb_free. */
static unsigned char *mem_bytes(const char *p, size_t *len)
{
	unsigned char *b = NULL;

	ck_assert_int_eq(os_mem_file_bytes(mv, p, &b, len), RDB_OK);
	ck_assert_ptr_nonnull(b);
	return b;
}

/* Length of the run of byte c at the start of b[0..n). */
static size_t run_of(const unsigned char *b, size_t n, unsigned char c)
{
	size_t i = 0;

	while (i < n && b[i] == c)
		i++;
	return i;
}

/* ---- behaviour shared by both vfs ------------------------------------- */

static void check_round_trip(os_vfs *v, const char *p)
{
	os_file *f = open_ok(v, p, OS_OPEN_CREATE);
	unsigned char buf[64];

	ck_assert_uint_eq(size_ok(f), 0);
	write_ok(f, 0, "hello ", 6);
	write_ok(f, 6, "world", 5);
	ck_assert_int_eq(os_sync(f, &err), RDB_OK);
	ck_assert_uint_eq(size_ok(f), 11);
	ck_assert_uint_eq(read_ok(f, 0, buf, 11), 11);
	ck_assert_int_eq(memcmp(buf, "hello world", 11), 0);
	write_ok(f, 2, "LL", 2);
	ck_assert_uint_eq(read_ok(f, 1, buf, 4), 4);
	ck_assert_int_eq(memcmp(buf, "eLLo", 4), 0);

	ck_assert_int_eq(os_truncate(f, 5, &err), RDB_OK);
	ck_assert_uint_eq(size_ok(f), 5);
	ck_assert_int_eq(os_truncate(f, 9, &err), RDB_OK);
	ck_assert_uint_eq(read_ok(f, 0, buf, sizeof(buf)), 9);
	ck_assert_int_eq(memcmp(buf, "heLLo\0\0\0\0", 9), 0);
	os_close(f);

	f = open_ok(v, p, OS_OPEN_READONLY);
	ck_assert_uint_eq(read_ok(f, 0, buf, sizeof(buf)), 9);
	ck_assert_int_eq(memcmp(buf, "heLLo", 5), 0);
	os_close(f);
}

static void check_read_past_eof(os_vfs *v, const char *p)
{
	os_file *f = open_ok(v, p, OS_OPEN_CREATE);
	unsigned char buf[32];

	write_ok(f, 0, "0123456789", 10);
	ck_assert_uint_eq(read_ok(f, 5, buf, 20), 5);
	ck_assert_int_eq(memcmp(buf, "56789", 5), 0);
	ck_assert_uint_eq(read_ok(f, 10, buf, 20), 0);
	ck_assert_uint_eq(read_ok(f, 1000, buf, 20), 0);
	ck_assert_uint_eq(read_ok(f, 3, buf, 0), 0);
	os_close(f);
}

static void check_write_past_eof_zero_fills(os_vfs *v, const char *p)
{
	static const unsigned char zero[100];
	os_file *f = open_ok(v, p, OS_OPEN_CREATE);
	unsigned char buf[128];

	write_ok(f, 0, "ab", 2);
	write_ok(f, 102, "yz", 2);
	ck_assert_uint_eq(size_ok(f), 104);
	ck_assert_uint_eq(read_ok(f, 0, buf, sizeof(buf)), 104);
	ck_assert_int_eq(memcmp(buf, "ab", 2), 0);
	ck_assert_int_eq(memcmp(buf + 2, zero, 100), 0);
	ck_assert_int_eq(memcmp(buf + 102, "yz", 2), 0);
	os_close(f);
}

static void check_missing_is_cantopen(os_vfs *v, const char *p)
{
	os_file *f = (os_file *)&err;   /* non-NULL; must come back NULL */

	ck_assert_int_eq(v->open(v, p, 0, &f, &err), RDB_CANTOPEN);
	ck_assert_ptr_null(f);
	ck_assert_int_eq(err.rc, RDB_CANTOPEN);
	ck_assert(has(err.msg, "cannot open"));
	ck_assert(has(err.msg, p));
	ck_assert_int_eq(exists_ok(v, p), 0);
}

static void check_second_lock_busy(os_vfs *v, const char *p)
{
	os_file *a = open_ok(v, p, OS_OPEN_CREATE);
	os_file *b = open_ok(v, p, 0);

	ck_assert_int_eq(os_lock(a, &err), RDB_OK);
	ck_assert_int_eq(os_lock(a, &err), RDB_OK);    /* again: still ours */
	ck_assert_int_eq(os_lock(b, &err), RDB_BUSY);
	ck_assert(has(err.msg, "locked"));
	ck_assert(has(err.msg, p));
	os_close(b);
	os_close(a);
}

static void check_lock_released_on_close(os_vfs *v, const char *p)
{
	os_file *a = open_ok(v, p, OS_OPEN_CREATE);
	os_file *b = open_ok(v, p, 0);

	ck_assert_int_eq(os_lock(a, &err), RDB_OK);
	ck_assert_int_eq(os_lock(b, &err), RDB_BUSY);
	os_close(a);
	ck_assert_int_eq(os_lock(b, &err), RDB_OK);
	os_close(b);
}

static void check_exists_and_remove(os_vfs *v, const char *p)
{
	os_file *f;

	ck_assert_int_eq(exists_ok(v, p), 0);
	ck_assert_int_eq(v->remove(v, p, &err), RDB_OK);   /* missing: ok */
	f = open_ok(v, p, OS_OPEN_CREATE);
	os_close(f);
	ck_assert_int_eq(exists_ok(v, p), 1);
	ck_assert_int_eq(v->sync_dir(v, p, &err), RDB_OK);
	ck_assert_int_eq(v->remove(v, p, &err), RDB_OK);
	ck_assert_int_eq(exists_ok(v, p), 0);
	ck_assert_int_eq(v->remove(v, p, &err), RDB_OK);
	ck_assert_int_eq(v->sync_dir(v, p, &err), RDB_OK);
}

static void check_readonly_rejects_writes(os_vfs *v, const char *p)
{
	os_file *f = open_ok(v, p, OS_OPEN_CREATE);
	unsigned char buf[8];

	write_ok(f, 0, "abc", 3);
	os_close(f);
	f = open_ok(v, p, OS_OPEN_READONLY);
	ck_assert_int_eq(os_write(f, 0, "x", 1, &err), RDB_READONLY);
	ck_assert(has(err.msg, p));
	ck_assert_int_eq(os_truncate(f, 0, &err), RDB_READONLY);
	ck_assert_uint_eq(read_ok(f, 0, buf, sizeof(buf)), 3);
	ck_assert_int_eq(memcmp(buf, "abc", 3), 0);
	os_close(f);
}

/* Removing an open file keeps its bytes for that handle; a new file of the
 * same name is a different file. */
static void check_remove_while_open(os_vfs *v, const char *p)
{
	os_file *a = open_ok(v, p, OS_OPEN_CREATE);
	os_file *b;
	unsigned char buf[8];

	write_ok(a, 0, "abc", 3);
	ck_assert_int_eq(os_lock(a, &err), RDB_OK);
	ck_assert_int_eq(v->remove(v, p, &err), RDB_OK);
	ck_assert_int_eq(exists_ok(v, p), 0);
	ck_assert_uint_eq(read_ok(a, 0, buf, sizeof(buf)), 3);
	ck_assert_int_eq(memcmp(buf, "abc", 3), 0);

	b = open_ok(v, p, OS_OPEN_CREATE);
	ck_assert_uint_eq(size_ok(b), 0);
	ck_assert_int_eq(os_lock(b, &err), RDB_OK);
	write_ok(a, 3, "d", 1);
	ck_assert_uint_eq(size_ok(b), 0);
	os_close(a);
	ck_assert_uint_eq(size_ok(b), 0);
	os_close(b);
}

/* ---- unix ------------------------------------------------------------- */

START_TEST(test_os_unix_write_then_read_returns_same_bytes)
{
	check_round_trip(os_unix_vfs(), path);
}
END_TEST

START_TEST(test_os_unix_read_past_eof_returns_bytes_available)
{
	check_read_past_eof(os_unix_vfs(), path);
}
END_TEST

START_TEST(test_os_unix_write_past_eof_fills_gap_with_zeros)
{
	check_write_past_eof_zero_fills(os_unix_vfs(), path);
}
END_TEST

START_TEST(test_os_unix_missing_file_without_create_is_cantopen)
{
	check_missing_is_cantopen(os_unix_vfs(), path);
}
END_TEST

START_TEST(test_os_unix_second_lock_in_same_process_is_busy)
{
	check_second_lock_busy(os_unix_vfs(), path);
}
END_TEST

START_TEST(test_os_unix_lock_from_child_process_is_busy)
{
	os_vfs *v = os_unix_vfs();
	os_file *f = open_ok(v, path, OS_OPEN_CREATE);
	int status = 0;
	pid_t pid;

	ck_assert_int_eq(os_lock(f, &err), RDB_OK);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* No ck_assert here: report through the exit status. */
		os_file *g = NULL;
		rdb_err e = { 0 };
		int code = 3;

		if (v->open(v, path, 0, &g, &e) == RDB_OK) {
			rdb_rc rc = os_lock(g, &e);

			code = rc == RDB_BUSY && has(e.msg, "locked") ? 0 : 1;
		}
		_exit(code);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	os_close(f);
}
END_TEST

START_TEST(test_os_unix_lock_released_on_close_can_be_retaken)
{
	check_lock_released_on_close(os_unix_vfs(), path);
}
END_TEST

START_TEST(test_os_unix_exists_follows_create_and_remove)
{
	check_exists_and_remove(os_unix_vfs(), path);
}
END_TEST

START_TEST(test_os_unix_readonly_file_rejects_writes)
{
	check_readonly_rejects_writes(os_unix_vfs(), path);
}
END_TEST

START_TEST(test_os_unix_removed_open_file_keeps_its_bytes)
{
	check_remove_while_open(os_unix_vfs(), path);
}
END_TEST

START_TEST(test_os_unix_sync_dir_of_bare_name_uses_current_folder)
{
	os_vfs *v = os_unix_vfs();

	ck_assert_int_eq(v->sync_dir(v, "no-such-file.db", &err), RDB_OK);
	ck_assert_int_eq(v->sync_dir(v, "/no-such-file.db", &err), RDB_OK);
}
END_TEST

/* ---- mem -------------------------------------------------------------- */

START_TEST(test_os_mem_write_then_read_returns_same_bytes)
{
	check_round_trip(mv, path);
}
END_TEST

START_TEST(test_os_mem_read_past_eof_returns_bytes_available)
{
	check_read_past_eof(mv, path);
}
END_TEST

START_TEST(test_os_mem_write_past_eof_fills_gap_with_zeros)
{
	check_write_past_eof_zero_fills(mv, path);
}
END_TEST

START_TEST(test_os_mem_missing_file_without_create_is_cantopen)
{
	check_missing_is_cantopen(mv, path);
}
END_TEST

START_TEST(test_os_mem_second_lock_is_busy)
{
	check_second_lock_busy(mv, path);
}
END_TEST

START_TEST(test_os_mem_lock_released_on_close_can_be_retaken)
{
	check_lock_released_on_close(mv, path);
}
END_TEST

START_TEST(test_os_mem_exists_follows_create_and_remove)
{
	check_exists_and_remove(mv, path);
}
END_TEST

START_TEST(test_os_mem_readonly_file_rejects_writes)
{
	check_readonly_rejects_writes(mv, path);
}
END_TEST

START_TEST(test_os_mem_removed_open_file_keeps_its_bytes)
{
	check_remove_while_open(mv, path);
}
END_TEST

START_TEST(test_os_mem_file_set_then_file_bytes_round_trips)
{
	unsigned char *b;
	unsigned char buf[8];
	size_t len = 99;
	os_file *f;

	b = (unsigned char *)&len;
	ck_assert_int_eq(os_mem_file_bytes(mv, "nope", &b, &len),
			 RDB_CANTOPEN);
	ck_assert_ptr_null(b);
	ck_assert_uint_eq(len, 0);

	ck_assert_int_eq(os_mem_file_set(mv, path, "abcdef", 6), RDB_OK);
	f = open_ok(mv, path, 0);
	ck_assert_uint_eq(read_ok(f, 0, buf, sizeof(buf)), 6);
	write_ok(f, 0, "X", 1);
	ck_assert_int_eq(os_mem_file_set(mv, path, "12", 2), RDB_OK);
	ck_assert_uint_eq(size_ok(f), 2);      /* the same file, replaced */
	os_close(f);
	b = mem_bytes(path, &len);
	ck_assert_uint_eq(len, 2);
	ck_assert_int_eq(memcmp(b, "12", 2), 0);
	rdb_free(b);

	ck_assert_int_eq(os_mem_file_set(mv, "empty", NULL, 0), RDB_OK);
	b = mem_bytes("empty", &len);
	ck_assert_uint_eq(len, 0);
	rdb_free(b);
}
END_TEST

START_TEST(test_os_mem_file_set_is_durable_across_power_loss)
{
	unsigned char *b;
	size_t len;

	ck_assert_int_eq(os_mem_file_set(mv, path, "abc", 3), RDB_OK);
	os_mem_set_fault(mv, OS_FAULT_POWERLOSS, 1, 0, 1);
	ck_assert_int_eq(mv->sync_dir(mv, path, &err), RDB_IOERR);
	os_mem_restart(mv);
	b = mem_bytes(path, &len);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(memcmp(b, "abc", 3), 0);
	rdb_free(b);
}
END_TEST

START_TEST(test_os_mem_each_call_but_close_is_counted)
{
	unsigned char buf[4];
	uint64_t sz;
	size_t got;
	os_file *f = NULL;
	int e;

	ck_assert_uint_eq(os_mem_calls(mv), 0);
	ck_assert_int_eq(mv->open(mv, path, OS_OPEN_CREATE, &f, &err), RDB_OK);
	ck_assert_int_eq(os_write(f, 0, "ab", 2, &err), RDB_OK);
	ck_assert_int_eq(os_read(f, 0, buf, 2, &got, &err), RDB_OK);
	ck_assert_int_eq(os_size(f, &sz, &err), RDB_OK);
	ck_assert_int_eq(os_sync(f, &err), RDB_OK);
	ck_assert_int_eq(os_truncate(f, 1, &err), RDB_OK);
	ck_assert_int_eq(os_lock(f, &err), RDB_OK);
	ck_assert_int_eq(mv->exists(mv, path, &e, &err), RDB_OK);
	ck_assert_int_eq(mv->sync_dir(mv, path, &err), RDB_OK);
	ck_assert_int_eq(mv->remove(mv, path, &err), RDB_OK);
	ck_assert_uint_eq(os_mem_calls(mv), 10);
	os_close(f);
	ck_assert_uint_eq(os_mem_calls(mv), 10);
	/* A failing call counts too. */
	ck_assert_int_eq(mv->open(mv, path, 0, &f, &err), RDB_CANTOPEN);
	ck_assert_uint_eq(os_mem_calls(mv), 11);
	os_mem_set_fault(mv, OS_FAULT_NONE, 0, 0, 0);
	ck_assert_uint_eq(os_mem_calls(mv), 0);
	ck_assert_int_eq(os_mem_fault_fired(mv), 0);
	ck_assert_int_eq(os_mem_crashed(mv), 0);
}
END_TEST

/* ---- fault ------------------------------------------------------------ */

START_TEST(test_os_fault_crash_fails_later_calls_and_keeps_bytes)
{
	os_file *f = open_ok(mv, path, OS_OPEN_CREATE), *g = NULL;
	unsigned char *b;
	uint64_t sz;
	size_t len;
	int e;

	write_ok(f, 0, "aaaa", 4);
	os_mem_set_fault(mv, OS_FAULT_CRASH, 2, 0, 7);
	write_ok(f, 4, "bbbb", 4);                                  /* 1 */
	ck_assert_int_eq(os_mem_crashed(mv), 0);
	ck_assert_int_eq(os_write(f, 8, "cccc", 4, &err), RDB_IOERR); /* 2 */
	ck_assert(has(err.msg, "simulated crash"));
	ck_assert_int_eq(os_size(f, &sz, &err), RDB_IOERR);
	ck_assert_int_eq(os_sync(f, &err), RDB_IOERR);
	ck_assert_int_eq(mv->exists(mv, path, &e, &err), RDB_IOERR);
	ck_assert_int_eq(mv->open(mv, "other", OS_OPEN_CREATE, &g, &err),
			 RDB_IOERR);
	ck_assert_ptr_null(g);
	ck_assert_int_eq(os_mem_crashed(mv), 1);
	ck_assert_int_eq(os_mem_fault_fired(mv), 1);
	os_close(f);

	os_mem_restart(mv);
	ck_assert_int_eq(os_mem_crashed(mv), 0);
	ck_assert_int_eq(exists_ok(mv, "other"), 0);
	b = mem_bytes(path, &len);      /* unsynced bytes survive a crash */
	ck_assert_uint_eq(len, 8);
	ck_assert_int_eq(memcmp(b, "aaaabbbb", 8), 0);
	rdb_free(b);
	f = open_ok(mv, path, 0);
	write_ok(f, 8, "cccc", 4);
	ck_assert_uint_eq(size_ok(f), 12);
	os_close(f);
}
END_TEST

START_TEST(test_os_fault_powerloss_drops_unsynced_writes_after_restart)
{
	os_file *f = open_ok(mv, path, OS_OPEN_CREATE);
	os_file *g = open_ok(mv, "shrunk", OS_OPEN_CREATE);
	os_file *h = open_ok(mv, "fresh", OS_OPEN_CREATE);
	unsigned char *b;
	uint64_t sz;
	size_t len;

	write_ok(f, 0, "AAAAAAAA", 8);
	ck_assert_int_eq(os_sync(f, &err), RDB_OK);
	write_ok(f, 2, "BB", 2);        /* unsynced overwrite */
	write_ok(f, 20, "CC", 2);       /* unsynced growth */
	write_ok(g, 0, "0123456789", 10);
	ck_assert_int_eq(os_sync(g, &err), RDB_OK);
	ck_assert_int_eq(os_truncate(g, 3, &err), RDB_OK);  /* unsynced */
	write_ok(h, 0, "zz", 2);        /* a file never synced */

	os_mem_set_fault(mv, OS_FAULT_POWERLOSS, 2, 0, 0);
	ck_assert_uint_eq(size_ok(f), 22);                          /* 1 */
	ck_assert_int_eq(os_size(f, &sz, &err), RDB_IOERR);         /* 2 */
	ck_assert(has(err.msg, "simulated crash"));
	ck_assert_int_eq(os_write(f, 0, "x", 1, &err), RDB_IOERR);
	ck_assert_int_eq(os_mem_crashed(mv), 1);
	b = mem_bytes(path, &len);      /* still there until the reboot */
	ck_assert_uint_eq(len, 22);
	rdb_free(b);
	os_close(f);
	os_close(g);
	os_close(h);

	os_mem_restart(mv);
	b = mem_bytes(path, &len);
	ck_assert_uint_eq(len, 8);
	ck_assert_int_eq(memcmp(b, "AAAAAAAA", 8), 0);
	rdb_free(b);
	b = mem_bytes("shrunk", &len);
	ck_assert_uint_eq(len, 10);
	ck_assert_int_eq(memcmp(b, "0123456789", 10), 0);
	rdb_free(b);
	b = mem_bytes("fresh", &len);   /* creation was durable at once */
	ck_assert_uint_eq(len, 0);
	rdb_free(b);
}
END_TEST

START_TEST(test_os_fault_powerloss_survives_disarm_before_restart)
{
	os_file *f = open_ok(mv, path, OS_OPEN_CREATE);
	unsigned char *b;
	size_t len;

	write_ok(f, 0, "abc", 3);
	os_mem_set_fault(mv, OS_FAULT_POWERLOSS, 1, 0, 0);
	ck_assert_int_eq(os_sync(f, &err), RDB_IOERR);   /* sync never ran */
	os_mem_set_fault(mv, OS_FAULT_NONE, 0, 0, 0);
	ck_assert_int_eq(os_mem_crashed(mv), 1);
	os_close(f);
	os_mem_restart(mv);
	b = mem_bytes(path, &len);
	ck_assert_uint_eq(len, 0);
	rdb_free(b);
}
END_TEST

/* Random writes, truncates and syncs, mirrored in a model of the current
 * and durable bytes; after a power loss the file must equal the model's
 * durable bytes.  (Syncs copy only what changed, so this checks that.) */
enum { MODEL_MAX = 3000 };

static void model_trial(uint64_t *rng)
{
	static unsigned char cur[MODEL_MAX], dur[MODEL_MAX], buf[MODEL_MAX];
	size_t cur_len = 0, dur_len = 0, len;
	os_file *f = open_ok(mv, path, OS_OPEN_CREATE);
	unsigned char *b;
	int op;

	for (op = 0; op < 60; op++) {
		uint64_t k = tu_rand_below(rng, 10);
		size_t off = (size_t)tu_rand_below(rng, MODEL_MAX / 2);
		size_t n = (size_t)tu_rand_below(rng, MODEL_MAX / 2);

		if (k < 6) {
			memset(buf, (int)(op + 1), n);
			write_ok(f, off, buf, n);
			if (n > 0 && off > cur_len)
				memset(cur + cur_len, 0, off - cur_len);
			memcpy(cur + off, buf, n);
			if (n > 0 && off + n > cur_len)
				cur_len = off + n;
		} else if (k < 8) {
			ck_assert_int_eq(os_truncate(f, off, &err), RDB_OK);
			if (off > cur_len)
				memset(cur + cur_len, 0, off - cur_len);
			cur_len = off;
		} else {
			ck_assert_int_eq(os_sync(f, &err), RDB_OK);
			memcpy(dur, cur, cur_len);
			dur_len = cur_len;
		}
	}
	b = mem_bytes(path, &len);
	ck_assert_uint_eq(len, cur_len);
	ck_assert_int_eq(memcmp(b, cur, len), 0);
	rdb_free(b);
	os_close(f);

	os_mem_set_fault(mv, OS_FAULT_POWERLOSS, 1, 0, 0);
	ck_assert_int_eq(mv->sync_dir(mv, path, &err), RDB_IOERR);
	os_mem_restart(mv);
	b = mem_bytes(path, &len);
	ck_assert_uint_eq(len, dur_len);
	ck_assert_int_eq(memcmp(b, dur, len), 0);
	rdb_free(b);
	ck_assert_int_eq(mv->remove(mv, path, &err), RDB_OK);
}

START_TEST(test_os_fault_powerloss_after_random_ops_matches_model)
{
	uint64_t seed = tu_seed(), rng = seed;
	long i, n = tu_scaled(200, 20);

	tu_seed_note("powerloss model", seed);
	for (i = 0; i < n; i++)
		model_trial(&rng);
}
END_TEST

enum { TORN_N = 4096, TORN_SEED = 42 };

/* A file of n bytes of 0xAA, synced, then a TORN fault at call `at`. */
static os_file *torn_setup(size_t n, uint64_t at, uint64_t seed)
{
	static unsigned char old[TORN_N];
	os_file *f;

	ck_assert_uint_le(n, sizeof(old));
	memset(old, 0xAA, n);
	f = open_ok(mv, path, OS_OPEN_CREATE);
	write_ok(f, 0, old, n);
	ck_assert_int_eq(os_sync(f, &err), RDB_OK);
	os_mem_set_fault(mv, OS_FAULT_TORN, at, 0, seed);
	return f;
}

/* After a torn write of 0x55 over [0, n) of 0xAA: the cut point. */
static size_t torn_cut(size_t n)
{
	size_t len, cut;
	unsigned char *b = mem_bytes(path, &len);

	ck_assert_uint_eq(len, n);
	cut = run_of(b, len, 0x55);
	ck_assert_uint_eq(cut + run_of(b + cut, len - cut, 0xAA), n);
	rdb_free(b);
	return cut;
}

START_TEST(test_os_fault_torn_write_keeps_prefix_of_new_bytes)
{
	unsigned char nw[TORN_N];
	os_file *f = torn_setup(TORN_N, 1, TORN_SEED);
	size_t cut;

	memset(nw, 0x55, sizeof(nw));
	ck_assert_int_eq(os_write(f, 0, nw, sizeof(nw), &err), RDB_IOERR);
	ck_assert(has(err.msg, "simulated crash"));
	ck_assert_int_eq(os_mem_crashed(mv), 1);
	ck_assert_int_eq(os_write(f, 0, nw, sizeof(nw), &err), RDB_IOERR);
	os_close(f);
	os_mem_restart(mv);
	cut = torn_cut(TORN_N);
	ck_assert_uint_gt(cut, 0);                /* strictly inside */
	ck_assert_uint_lt(cut, TORN_N);
}
END_TEST

START_TEST(test_os_fault_torn_after_write_reverts_its_suffix)
{
	unsigned char nw[TORN_N];
	os_file *f = torn_setup(TORN_N, 2, TORN_SEED);
	uint64_t sz;
	size_t cut;

	memset(nw, 0x55, sizeof(nw));
	write_ok(f, 0, nw, sizeof(nw));                         /* 1 */
	ck_assert_int_eq(os_size(f, &sz, &err), RDB_IOERR);     /* 2 */
	os_close(f);
	os_mem_restart(mv);
	cut = torn_cut(TORN_N);
	ck_assert_uint_gt(cut, 0);
	ck_assert_uint_lt(cut, TORN_N);
}
END_TEST

START_TEST(test_os_fault_torn_after_sync_leaves_write_whole)
{
	unsigned char nw[TORN_N];
	os_file *f = torn_setup(TORN_N, 3, TORN_SEED);
	uint64_t sz;

	memset(nw, 0x55, sizeof(nw));
	write_ok(f, 0, nw, sizeof(nw));                         /* 1 */
	ck_assert_int_eq(os_sync(f, &err), RDB_OK);             /* 2 */
	ck_assert_int_eq(os_size(f, &sz, &err), RDB_IOERR);     /* 3 */
	os_close(f);
	os_mem_restart(mv);
	ck_assert_uint_eq(torn_cut(TORN_N), TORN_N);
}
END_TEST

START_TEST(test_os_fault_torn_appending_write_keeps_prefix_length)
{
	unsigned char nw[1000], *b;
	os_file *f = torn_setup(100, 1, TORN_SEED);
	size_t len;

	memset(nw, 0x55, sizeof(nw));
	ck_assert_int_eq(os_write(f, 100, nw, sizeof(nw), &err), RDB_IOERR);
	os_close(f);
	os_mem_restart(mv);
	b = mem_bytes(path, &len);
	ck_assert_uint_gt(len, 100);
	ck_assert_uint_lt(len, 1100);
	ck_assert_uint_eq(run_of(b, len, 0xAA), 100);
	ck_assert_uint_eq(run_of(b + 100, len - 100, 0x55), len - 100);
	rdb_free(b);
}
END_TEST

/* Over many seeds: always a prefix, never the whole write; the same seed
 * always cuts at the same place, and different seeds at different ones. */
START_TEST(test_os_fault_torn_cut_depends_only_on_seed)
{
	unsigned char nw[256];
	uint64_t seed = tu_seed(), s;
	size_t first = 0, cut;
	int i, varied = 0;

	tu_seed_note("torn cut", seed);
	memset(nw, 0x55, sizeof(nw));
	for (i = 0; i < 64; i++) {
		os_file *f;

		s = seed + (uint64_t)(i / 2);
		os_mem_free(mv);
		mv = os_mem_new();
		ck_assert_ptr_nonnull(mv);
		f = torn_setup(sizeof(nw), 1, s);
		ck_assert_int_eq(os_write(f, 0, nw, sizeof(nw), &err),
				 RDB_IOERR);
		os_close(f);
		cut = torn_cut(sizeof(nw));
		ck_assert_uint_lt(cut, sizeof(nw));
		if (i % 2 == 1)
			ck_assert_uint_eq(cut, first);
		varied |= i > 0 && cut != first;
		first = i % 2 == 0 ? cut : first;
	}
	ck_assert(varied);
}
END_TEST

START_TEST(test_os_fault_torn_with_no_write_changes_nothing)
{
	os_file *f = torn_setup(64, 1, TORN_SEED);
	uint64_t sz;

	ck_assert_int_eq(os_size(f, &sz, &err), RDB_IOERR);
	ck_assert_int_eq(os_mem_crashed(mv), 1);
	os_close(f);
	os_mem_restart(mv);
	ck_assert_uint_eq(torn_cut(64), 0);
}
END_TEST

START_TEST(test_os_fault_eio_once_fails_one_call_without_effect)
{
	os_file *f = open_ok(mv, path, OS_OPEN_CREATE), *g = NULL;
	unsigned char buf[8];

	os_mem_set_fault(mv, OS_FAULT_EIO, 2, 0, 0);
	write_ok(f, 0, "x", 1);                                     /* 1 */
	ck_assert_int_eq(os_write(f, 1, "yyy", 3, &err), RDB_IOERR); /* 2 */
	ck_assert(has(err.msg, "simulated I/O error"));
	ck_assert_int_eq(os_mem_fault_fired(mv), 1);
	ck_assert_int_eq(os_mem_crashed(mv), 0);
	ck_assert_uint_eq(size_ok(f), 1);                           /* 3 */
	ck_assert_uint_eq(read_ok(f, 0, buf, sizeof(buf)), 1);
	os_close(f);

	os_mem_set_fault(mv, OS_FAULT_EIO, 1, 0, 0);
	ck_assert_int_eq(mv->open(mv, "new", OS_OPEN_CREATE, &g, &err),
			 RDB_IOERR);
	ck_assert_ptr_null(g);
	ck_assert_int_eq(exists_ok(mv, "new"), 0);
}
END_TEST

START_TEST(test_os_fault_eio_sticky_fails_every_later_call)
{
	os_file *f = open_ok(mv, path, OS_OPEN_CREATE);
	unsigned char buf[4];
	uint64_t sz;
	size_t got;
	int e;

	write_ok(f, 0, "ab", 2);
	os_mem_set_fault(mv, OS_FAULT_EIO, 2, 1, 0);
	ck_assert_uint_eq(size_ok(f), 2);                           /* 1 */
	ck_assert_int_eq(os_read(f, 0, buf, 2, &got, &err), RDB_IOERR);
	ck_assert_uint_eq(got, 0);
	ck_assert_int_eq(os_size(f, &sz, &err), RDB_IOERR);
	ck_assert_int_eq(os_write(f, 0, "c", 1, &err), RDB_IOERR);
	ck_assert_int_eq(mv->exists(mv, path, &e, &err), RDB_IOERR);
	ck_assert_int_eq(os_mem_crashed(mv), 0);
	os_mem_set_fault(mv, OS_FAULT_NONE, 0, 0, 0);               /* disarm */
	ck_assert_uint_eq(read_ok(f, 0, buf, 4), 2);
	ck_assert_int_eq(memcmp(buf, "ab", 2), 0);
	os_close(f);
}
END_TEST

START_TEST(test_os_fault_enospc_fails_first_write_at_or_after_call)
{
	os_file *f = open_ok(mv, path, OS_OPEN_CREATE);
	unsigned char buf[16];

	write_ok(f, 0, "0123456789", 10);
	os_mem_set_fault(mv, OS_FAULT_ENOSPC, 1, 0, 0);
	ck_assert_uint_eq(read_ok(f, 0, buf, 4), 4);                /* 1 */
	ck_assert_int_eq(os_mem_fault_fired(mv), 0);
	ck_assert_int_eq(os_write(f, 8, "abcdef", 6, &err), RDB_FULL);
	ck_assert(has(err.msg, "simulated disk full"));
	ck_assert_int_eq(os_mem_fault_fired(mv), 1);
	ck_assert_int_eq(os_mem_crashed(mv), 0);
	ck_assert_uint_eq(size_ok(f), 10);                 /* wrote nothing */
	ck_assert_uint_eq(read_ok(f, 0, buf, sizeof(buf)), 10);
	ck_assert_int_eq(memcmp(buf, "0123456789", 10), 0);
	write_ok(f, 8, "abcdef", 6);                        /* once only */
	ck_assert_uint_eq(size_ok(f), 14);
	os_close(f);
}
END_TEST

START_TEST(test_os_fault_enospc_fails_growing_truncate_only)
{
	os_file *f = open_ok(mv, path, OS_OPEN_CREATE);

	write_ok(f, 0, "0123456789", 10);
	os_mem_set_fault(mv, OS_FAULT_ENOSPC, 1, 0, 0);
	ck_assert_int_eq(os_truncate(f, 5, &err), RDB_OK);         /* shrink */
	ck_assert_int_eq(os_truncate(f, 5, &err), RDB_OK);         /* same */
	ck_assert_int_eq(os_mem_fault_fired(mv), 0);
	ck_assert_int_eq(os_truncate(f, 100, &err), RDB_FULL);
	ck_assert_uint_eq(size_ok(f), 5);
	ck_assert_int_eq(os_truncate(f, 100, &err), RDB_OK);
	ck_assert_uint_eq(size_ok(f), 100);
	os_close(f);
}
END_TEST

START_TEST(test_os_fault_enospc_sticky_fails_writes_but_not_reads)
{
	os_file *f = open_ok(mv, path, OS_OPEN_CREATE);
	unsigned char buf[16];

	write_ok(f, 0, "0123456789", 10);
	os_mem_set_fault(mv, OS_FAULT_ENOSPC, 2, 1, 0);
	write_ok(f, 0, "ab", 2);                                    /* 1 */
	ck_assert_int_eq(os_write(f, 0, "cd", 2, &err), RDB_FULL);  /* 2 */
	ck_assert_int_eq(os_write(f, 20, "cd", 2, &err), RDB_FULL);
	ck_assert_int_eq(os_truncate(f, 50, &err), RDB_FULL);
	ck_assert_int_eq(os_truncate(f, 4, &err), RDB_OK);
	ck_assert_int_eq(os_sync(f, &err), RDB_OK);
	ck_assert_uint_eq(read_ok(f, 0, buf, sizeof(buf)), 4);
	ck_assert_int_eq(memcmp(buf, "ab23", 4), 0);
	ck_assert_int_eq(os_write(f, 0, "ef", 2, &err), RDB_FULL);
	os_mem_restart(mv);                           /* clears the fault */
	os_close(f);
	f = open_ok(mv, path, 0);
	write_ok(f, 0, "ef", 2);
	os_close(f);
}
END_TEST

START_TEST(test_os_fault_restart_releases_locks_and_retires_handles)
{
	os_file *a = open_ok(mv, path, OS_OPEN_CREATE), *b, *c;
	unsigned char buf[4];
	size_t got;

	write_ok(a, 0, "abc", 3);
	ck_assert_int_eq(os_lock(a, &err), RDB_OK);
	os_mem_restart(mv);
	b = open_ok(mv, path, 0);
	ck_assert_int_eq(os_lock(b, &err), RDB_OK);
	ck_assert_int_eq(os_read(a, 0, buf, 3, &got, &err), RDB_IOERR);
	ck_assert(has(err.msg, "restart"));
	ck_assert_int_eq(os_write(a, 0, "x", 1, &err), RDB_IOERR);
	ck_assert_int_eq(os_lock(a, &err), RDB_IOERR);
	os_close(a);                  /* must not release b's lock */
	c = open_ok(mv, path, 0);
	ck_assert_int_eq(os_lock(c, &err), RDB_BUSY);
	os_close(c);
	ck_assert_uint_eq(read_ok(b, 0, buf, 4), 3);
	os_close(b);
}
END_TEST

START_TEST(test_os_fault_free_with_open_handles_does_not_leak)
{
	os_file *a = open_ok(mv, path, OS_OPEN_CREATE);

	write_ok(a, 0, "abc", 3);
	(void)open_ok(mv, "second", OS_OPEN_CREATE);
	ck_assert_int_eq(mv->remove(mv, path, &err), RDB_OK);
	os_mem_free(mv);               /* frees a, the second handle, nodes */
	mv = NULL;
}
END_TEST

/* ---- errors ----------------------------------------------------------- */

/* One open/write/sync/grow/copy sequence over a fresh mem vfs; every step
 * may fail only with RDB_NOMEM, and only if an allocation failed. */
static rdb_rc mem_sequence(void)
{
	static unsigned char big[10000];
	os_vfs *v = os_mem_new();
	os_file *f = NULL;
	unsigned char *b = NULL;
	size_t len;
	rdb_rc rc;

	if (v == NULL)
		return RDB_NOMEM;
	/* TORN armed far away makes writes keep a pre-image. */
	os_mem_set_fault(v, OS_FAULT_TORN, 1000, 0, 1);
	rc = v->open(v, "a.db", OS_OPEN_CREATE, &f, &err);
	if (rc == RDB_OK)
		rc = os_write(f, 0, big, sizeof(big), &err);
	if (rc == RDB_OK)
		rc = os_write(f, 5000, big, sizeof(big), &err);
	if (rc == RDB_OK)
		rc = os_sync(f, &err);
	if (rc == RDB_OK)
		rc = os_truncate(f, 40000, &err);
	if (rc == RDB_OK)
		rc = os_mem_file_set(v, "b.db", big, 100);
	if (rc == RDB_OK)
		rc = os_mem_file_bytes(v, "a.db", &b, &len);
	rdb_free(b);
	os_close(f);
	os_mem_free(v);
	return rc;
}

static rdb_rc unix_sequence(void)
{
	os_vfs *v = os_unix_vfs();
	os_file *f = NULL;
	rdb_rc rc;

	rc = v->open(v, path, OS_OPEN_CREATE, &f, &err);
	if (rc == RDB_OK)
		rc = os_write(f, 0, "abc", 3, &err);
	if (rc == RDB_OK)
		rc = v->sync_dir(v, path, &err);
	os_close(f);
	return rc;
}

static void alloc_failure_loop(rdb_rc (*seq)(void))
{
	long n;

	for (n = 1; n < 1000; n++) {
		rdb_rc rc;

		rdb_mem_fail_at(n, 0);
		rc = seq();
		if (!rdb_mem_failed()) {
			rdb_mem_fail_at(0, 0);
			ck_assert_int_eq(rc, RDB_OK);
			ck_assert_int_gt(n, 1);   /* something did allocate */
			return;
		}
		rdb_mem_fail_at(0, 0);
		ck_assert_int_eq(rc, RDB_NOMEM);
	}
	ck_abort_msg("sequence never finished without a failure");
}

START_TEST(test_os_mem_alloc_failure_anywhere_is_nomem)
{
	alloc_failure_loop(mem_sequence);
}
END_TEST

START_TEST(test_os_unix_alloc_failure_anywhere_is_nomem)
{
	alloc_failure_loop(unix_sequence);
}
END_TEST

/* The EIO-at-call-_i sequence: exactly one call fails, with RDB_IOERR. */
START_TEST(test_os_mem_eio_at_any_call_fails_that_call_only)
{
	uint64_t at = (uint64_t)_i;
	os_file *f = NULL;
	unsigned char buf[8];
	int n_fail = 0, e;
	size_t got;
	uint64_t sz;
	rdb_rc rcs[8];
	int i, n = 0;

	os_mem_set_fault(mv, OS_FAULT_EIO, at, 0, 0);
	rcs[n++] = mv->open(mv, path, OS_OPEN_CREATE, &f, &err);
	if (f == NULL)
		rcs[n++] = mv->open(mv, path, OS_OPEN_CREATE, &f, &err);
	ck_assert_ptr_nonnull(f);
	rcs[n++] = os_write(f, 0, "abcd", 4, &err);
	rcs[n++] = os_sync(f, &err);
	rcs[n++] = os_read(f, 0, buf, 4, &got, &err);
	rcs[n++] = os_size(f, &sz, &err);
	rcs[n++] = mv->exists(mv, path, &e, &err);
	os_close(f);
	for (i = 0; i < n; i++) {
		ck_assert(rcs[i] == RDB_OK || rcs[i] == RDB_IOERR);
		n_fail += rcs[i] != RDB_OK;
	}
	ck_assert_int_eq(n_fail, 1);
	ck_assert_int_eq(os_mem_fault_fired(mv), 1);
	ck_assert_int_eq(os_mem_crashed(mv), 0);
}
END_TEST

START_TEST(test_os_unix_write_to_full_device_is_full)
{
	os_vfs *v = os_unix_vfs();
	os_file *f = NULL;

	if (access("/dev/full", W_OK) != 0)
		return;         /* no /dev/full here: nothing to check */
	ck_assert_int_eq(v->open(v, "/dev/full", 0, &f, &err), RDB_OK);
	ck_assert_int_eq(os_write(f, 0, "abc", 3, &err), RDB_FULL);
	ck_assert(has(err.msg, "disk full"));
	ck_assert(has(err.msg, "'/dev/full'"));
	os_close(f);
}
END_TEST

/* Past RLIMIT_FSIZE, pwrite fails with EFBIG: a full disk for the caller.
 * In a child, so that the limit does not leak into other tests. */
START_TEST(test_os_unix_write_past_file_size_limit_is_full)
{
	os_vfs *v = os_unix_vfs();
	int status = 0;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit rl = { 4096, 4096 };
		os_file *f = NULL;
		rdb_err e = { 0 };
		int code = 3;

		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) == 0 &&
		    v->open(v, path, OS_OPEN_CREATE, &f, &e) == RDB_OK)
			code = os_write(f, 8192, "x", 1, &e) == RDB_FULL &&
			       has(e.msg, "disk full") ? 0 : 1;
		_exit(code);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

START_TEST(test_os_unix_open_folder_for_writing_is_cantopen)
{
	os_vfs *v = os_unix_vfs();
	os_file *f = NULL;

	ck_assert_int_eq(v->open(v, "/", 0, &f, &err), RDB_CANTOPEN);
	ck_assert_ptr_null(f);
	ck_assert(has(err.msg, "cannot open '/'"));
}
END_TEST

START_TEST(test_os_unix_sync_dir_in_missing_folder_is_ioerr)
{
	os_vfs *v = os_unix_vfs();
	char p[300];

	snprintf(p, sizeof(p), "%s.missing/x.db", path);
	ck_assert_int_eq(v->sync_dir(v, p, &err), RDB_IOERR);
	ck_assert(has(err.msg, p));
}
END_TEST

/* ---- concurrency ------------------------------------------------------- */

enum { N_THREADS = 4, REGION = 4096 };

typedef struct worker {
	pthread_t tid;
	os_file *f;
	int id;
	int rounds;
	int failures;           /* checked by the main thread */
} worker;

/* Write and re-read this thread's own region, round after round. */
static void *worker_main(void *arg)
{
	worker *w = arg;
	unsigned char out[REGION], in[REGION];
	uint64_t off = (uint64_t)w->id * REGION, sz;
	int r;

	for (r = 0; r < w->rounds; r++) {
		size_t got = 0;

		memset(out, (w->id * 31 + r) & 0xff, sizeof(out));
		if (os_write(w->f, off, out, sizeof(out), NULL) != RDB_OK ||
		    os_read(w->f, off, in, sizeof(in), &got, NULL) != RDB_OK ||
		    got != sizeof(in) || memcmp(in, out, sizeof(in)) != 0 ||
		    os_size(w->f, &sz, NULL) != RDB_OK || sz < off + REGION)
			w->failures++;
		if (r % 16 == 0 && os_sync(w->f, NULL) != RDB_OK)
			w->failures++;
	}
	return NULL;
}

static void run_workers(os_file *f)
{
	worker ws[N_THREADS];
	unsigned char in[REGION];
	int i, rounds = (int)tu_scaled(200, 20);

	for (i = 0; i < N_THREADS; i++) {
		ws[i] = (worker){ .f = f, .id = i, .rounds = rounds };
		ck_assert_int_eq(pthread_create(&ws[i].tid, NULL, worker_main,
						&ws[i]), 0);
	}
	for (i = 0; i < N_THREADS; i++) {
		ck_assert_int_eq(pthread_join(ws[i].tid, NULL), 0);
		ck_assert_int_eq(ws[i].failures, 0);
	}
	for (i = 0; i < N_THREADS; i++) {
		unsigned char want = (unsigned char)((i * 31 + rounds - 1) &
						     0xff);

		ck_assert_uint_eq(read_ok(f, (uint64_t)i * REGION, in, REGION),
				  REGION);
		ck_assert_uint_eq(run_of(in, REGION, want), REGION);
	}
}

START_TEST(test_os_mem_threads_on_disjoint_regions_keep_their_bytes)
{
	os_file *f = open_ok(mv, path, OS_OPEN_CREATE);

	run_workers(f);
	os_close(f);
}
END_TEST

START_TEST(test_os_unix_threads_on_disjoint_regions_keep_their_bytes)
{
	os_file *f = open_ok(os_unix_vfs(), path, OS_OPEN_CREATE);

	run_workers(f);
	os_close(f);
}
END_TEST

typedef struct locker {
	pthread_t tid;
	os_file *f;
	rdb_rc rc;
} locker;

static void *locker_main(void *arg)
{
	locker *l = arg;

	l->rc = os_lock(l->f, NULL);
	return NULL;
}

START_TEST(test_os_mem_racing_lockers_one_wins)
{
	locker ls[N_THREADS];
	int i, n_ok = 0;

	for (i = 0; i < N_THREADS; i++)
		ls[i].f = open_ok(mv, path, OS_OPEN_CREATE);
	for (i = 0; i < N_THREADS; i++)
		ck_assert_int_eq(pthread_create(&ls[i].tid, NULL, locker_main,
						&ls[i]), 0);
	for (i = 0; i < N_THREADS; i++) {
		ck_assert_int_eq(pthread_join(ls[i].tid, NULL), 0);
		ck_assert(ls[i].rc == RDB_OK || ls[i].rc == RDB_BUSY);
		n_ok += ls[i].rc == RDB_OK;
	}
	ck_assert_int_eq(n_ok, 1);
	ck_assert_uint_eq(os_mem_calls(mv), 2 * N_THREADS);
	for (i = 0; i < N_THREADS; i++)
		os_close(ls[i].f);
}
END_TEST

/* ---- suite ------------------------------------------------------------- */

Suite *os_suite(void)
{
	Suite *s = suite_create("os");
	TCase *tc;

	tc = tcase_create("unix");
	tcase_add_checked_fixture(tc, unix_setup, unix_teardown);
	tcase_add_test(tc, test_os_unix_write_then_read_returns_same_bytes);
	tcase_add_test(tc, test_os_unix_read_past_eof_returns_bytes_available);
	tcase_add_test(tc, test_os_unix_write_past_eof_fills_gap_with_zeros);
	tcase_add_test(tc, test_os_unix_missing_file_without_create_is_cantopen);
	tcase_add_test(tc, test_os_unix_second_lock_in_same_process_is_busy);
	tcase_add_test(tc, test_os_unix_lock_from_child_process_is_busy);
	tcase_add_test(tc, test_os_unix_lock_released_on_close_can_be_retaken);
	tcase_add_test(tc, test_os_unix_exists_follows_create_and_remove);
	tcase_add_test(tc, test_os_unix_readonly_file_rejects_writes);
	tcase_add_test(tc, test_os_unix_removed_open_file_keeps_its_bytes);
	tcase_add_test(tc,
		test_os_unix_sync_dir_of_bare_name_uses_current_folder);
	suite_add_tcase(s, tc);

	tc = tcase_create("mem");
	tcase_add_checked_fixture(tc, mem_setup, mem_teardown);
	tcase_add_test(tc, test_os_mem_write_then_read_returns_same_bytes);
	tcase_add_test(tc, test_os_mem_read_past_eof_returns_bytes_available);
	tcase_add_test(tc, test_os_mem_write_past_eof_fills_gap_with_zeros);
	tcase_add_test(tc, test_os_mem_missing_file_without_create_is_cantopen);
	tcase_add_test(tc, test_os_mem_second_lock_is_busy);
	tcase_add_test(tc, test_os_mem_lock_released_on_close_can_be_retaken);
	tcase_add_test(tc, test_os_mem_exists_follows_create_and_remove);
	tcase_add_test(tc, test_os_mem_readonly_file_rejects_writes);
	tcase_add_test(tc, test_os_mem_removed_open_file_keeps_its_bytes);
	tcase_add_test(tc, test_os_mem_file_set_then_file_bytes_round_trips);
	tcase_add_test(tc, test_os_mem_file_set_is_durable_across_power_loss);
	tcase_add_test(tc, test_os_mem_each_call_but_close_is_counted);
	suite_add_tcase(s, tc);

	tc = tcase_create("fault");
	tcase_add_checked_fixture(tc, mem_setup, mem_teardown);
	tcase_add_test(tc, test_os_fault_crash_fails_later_calls_and_keeps_bytes);
	tcase_add_test(tc,
		test_os_fault_powerloss_drops_unsynced_writes_after_restart);
	tcase_add_test(tc,
		test_os_fault_powerloss_survives_disarm_before_restart);
	tcase_add_test(tc,
		test_os_fault_powerloss_after_random_ops_matches_model);
	tcase_add_test(tc, test_os_fault_torn_write_keeps_prefix_of_new_bytes);
	tcase_add_test(tc, test_os_fault_torn_after_write_reverts_its_suffix);
	tcase_add_test(tc, test_os_fault_torn_after_sync_leaves_write_whole);
	tcase_add_test(tc,
		test_os_fault_torn_appending_write_keeps_prefix_length);
	tcase_add_test(tc, test_os_fault_torn_cut_depends_only_on_seed);
	tcase_add_test(tc, test_os_fault_torn_with_no_write_changes_nothing);
	tcase_add_test(tc, test_os_fault_eio_once_fails_one_call_without_effect);
	tcase_add_test(tc, test_os_fault_eio_sticky_fails_every_later_call);
	tcase_add_test(tc,
		test_os_fault_enospc_fails_first_write_at_or_after_call);
	tcase_add_test(tc, test_os_fault_enospc_fails_growing_truncate_only);
	tcase_add_test(tc,
		test_os_fault_enospc_sticky_fails_writes_but_not_reads);
	tcase_add_test(tc,
		test_os_fault_restart_releases_locks_and_retires_handles);
	tcase_add_test(tc, test_os_fault_free_with_open_handles_does_not_leak);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, mem_setup, mem_teardown);
	tcase_add_test(tc, test_os_mem_alloc_failure_anywhere_is_nomem);
	tcase_add_test(tc, test_os_unix_alloc_failure_anywhere_is_nomem);
	tcase_add_loop_test(tc, test_os_mem_eio_at_any_call_fails_that_call_only,
			    1, 7);
	tcase_add_test(tc, test_os_unix_write_to_full_device_is_full);
	tcase_add_test(tc, test_os_unix_write_past_file_size_limit_is_full);
	tcase_add_test(tc, test_os_unix_open_folder_for_writing_is_cantopen);
	tcase_add_test(tc, test_os_unix_sync_dir_in_missing_folder_is_ioerr);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrency");
	tcase_add_checked_fixture(tc, mem_setup, mem_teardown);
	tcase_add_test(tc,
		test_os_mem_threads_on_disjoint_regions_keep_their_bytes);
	tcase_add_test(tc,
		test_os_unix_threads_on_disjoint_regions_keep_their_bytes);
	tcase_add_test(tc, test_os_mem_racing_lockers_one_wins);
	suite_add_tcase(s, tc);
	return s;
}
