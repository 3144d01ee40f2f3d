/*
 * check_fuzzseeds.c -- the generated seeds of the file, wal and kv fuzz
 * targets (fuzz/corpus/{file,wal,kv}, written by `make fuzz-seeds` from
 * fuzz/seeds.c) are databases of the current file format holding what
 * seeds.c put in them.  A format change that leaves them stale makes the
 * fuzzers start from inputs the library refuses at the header; this
 * suite fails then, and `make fuzz-seeds` rewrites them.
 *
 * The suite reads the seeds relative to the current folder: `make check`
 * runs it from the repository's root.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rdb.h"
#include "test_util.h"

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b;
	long n;

	ck_assert_msg(f != NULL, "cannot open seed '%s' (run make check from "
		      "the repository's root)", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	ck_assert_int_eq(fseek(f, 0, SEEK_SET), 0);
	b = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* The first column of the first row of sql, as an integer or text. */
static int64_t one_int(rdb *db, const char *sql)
{
	rdb_stmt *st = NULL;
	int64_t v;

	ck_assert_msg(rdb_prepare(db, sql, -1, &st, NULL) == RDB_OK, "%s: %s",
		      sql, rdb_errmsg(db));
	ck_assert_msg(rdb_step(st) == RDB_ROW, "%s: %s", sql, rdb_errmsg(db));
	v = rdb_column_int64(st, 0);
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
	return v;
}

static void integrity_ok(rdb *db, const char *seed)
{
	rdb_stmt *st = NULL;

	ck_assert_int_eq(rdb_prepare(db, "PRAGMA integrity_check", -1, &st,
				     NULL), RDB_OK);
	ck_assert_msg(rdb_step(st) == RDB_ROW, "%s: %s", seed,
		      rdb_errmsg(db));
	ck_assert_str_eq((const char *)rdb_column_text(st, 0), "ok");
	ck_assert_int_eq(rdb_finalize(st), RDB_OK);
}

/* Copy seed to a fresh path (a database plus, if wal, its log) and open
 * it; *path receives the copy's path. */
static rdb *open_copy(const unsigned char *db_bytes, size_t nd,
		      const unsigned char *wal, size_t nw, char *path,
		      size_t cap)
{
	char wpath[600];
	rdb *db = NULL;

	tu_tmp_path(path, cap);
	tu_write_file(path, db_bytes, nd);
	if (wal != NULL) {
		snprintf(wpath, sizeof(wpath), "%s-wal", path);
		tu_write_file(wpath, wal, nw);
	}
	ck_assert_msg(rdb_open(path, &db) == RDB_OK, "open: %s",
		      rdb_errmsg(db));
	return db;
}

/* fuzz/corpus/file: t1 holds rows 1..n less those with a % 3 = 0 when
 * n > 20, t2 all n rows (seeds.c, file_seeds). */
START_TEST(test_fuzzseeds_file_seeds_open_at_the_current_format)
{
	static const struct { const char *name; int n; } s[] = {
		{ "small512.rdb", 3 }, { "rows1k.rdb", 60 },
		{ "page4k.rdb", 5 },
	};
	char seed[256], path[512];
	unsigned char *b;
	size_t len;
	rdb *db;

	snprintf(seed, sizeof(seed), "fuzz/corpus/file/%s", s[_i].name);
	b = slurp(seed, &len);
	db = open_copy(b, len, NULL, 0, path, sizeof(path));
	integrity_ok(db, seed);
	ck_assert_int_eq(one_int(db, "SELECT count(*) FROM t1"),
			 s[_i].n > 20 ? s[_i].n - s[_i].n / 3 : s[_i].n);
	ck_assert_int_eq(one_int(db, "SELECT count(*) FROM t2"), s[_i].n);
	ck_assert_int_eq(one_int(db, "SELECT count(*) FROM t1 "
				 "WHERE b >= 'row'"),
			 one_int(db, "SELECT count(*) FROM t1"));
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	tu_unlink_db(path);
	free(b);
}
END_TEST

/* fuzz/corpus/wal: a 4-byte little-endian length, the database file of
 * that length, then its log (seeds.c, wal_seed): 10 rows checkpointed,
 * n more in the log, rows 1-4 updated in the log. */
START_TEST(test_fuzzseeds_wal_seeds_recover_their_log)
{
	static const struct { const char *name; int more; } s[] = {
		{ "wal-small", 3 }, { "wal-rows", 25 },
	};
	char seed[256], path[512];
	unsigned char *b;
	size_t len, nd;
	rdb *db;

	snprintf(seed, sizeof(seed), "fuzz/corpus/wal/%s", s[_i].name);
	b = slurp(seed, &len);
	ck_assert_uint_ge(len, 4);
	nd = (size_t)b[0] | (size_t)b[1] << 8 | (size_t)b[2] << 16 |
	     (size_t)b[3] << 24;
	ck_assert_uint_le(4 + nd, len);
	ck_assert_uint_gt(len - 4 - nd, 0);         /* the log is there */
	db = open_copy(b + 4, nd, b + 4 + nd, len - 4 - nd, path,
		       sizeof(path));
	integrity_ok(db, seed);
	ck_assert_int_eq(one_int(db, "SELECT count(*) FROM t1"),
			 10 + s[_i].more);
	ck_assert_int_eq(one_int(db, "SELECT count(*) FROM t1 "
				 "WHERE b = 'changed'"), 4);
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	tu_unlink_db(path);
	free(b);
}
END_TEST

/* fuzz/corpus/kv: keys k0..k29 ("value <7i>"); the big seed adds "big"
 * (20,000 bytes) and "stream" (70,000 bytes of 'r') and deletes k3
 * (seeds.c, kv_seed). */
START_TEST(test_fuzzseeds_kv_seeds_hold_their_keys)
{
	static const char *name[] = { "kv-small.rdb", "kv-big.rdb" };
	int big = _i == 1, keys = 0;
	char seed[256], path[512], want[64];
	const void *k;
	size_t len, klen, vlen;
	rdb_kv_iter *it = NULL;
	unsigned char *b;
	void *v;
	rdb *db;

	snprintf(seed, sizeof(seed), "fuzz/corpus/kv/%s", name[_i]);
	b = slurp(seed, &len);
	db = open_copy(b, len, NULL, 0, path, sizeof(path));
	integrity_ok(db, seed);
	ck_assert_int_eq(rdb_kv_iter_open(db, "", 0, &it), RDB_OK);
	while (rdb_kv_iter_next(it, &k, &klen) == RDB_ROW) {
		ck_assert_int_eq(rdb_kv_iter_value(it, &v, &vlen), RDB_OK);
		if (klen == 3 && memcmp(k, "big", 3) == 0) {
			ck_assert_uint_eq(vlen, 20000);
		} else if (klen == 6 && memcmp(k, "stream", 6) == 0) {
			ck_assert_uint_eq(vlen, 70000);
			ck_assert_int_eq(((unsigned char *)v)[69999], 'r');
		} else {
			char num[16] = { 0 };
			int i;

			ck_assert(klen >= 2 && klen < sizeof(num) &&
				  ((const char *)k)[0] == 'k');
			memcpy(num, (const char *)k + 1, klen - 1);
			i = atoi(num);

			snprintf(want, sizeof(want), "value %d", i * 7);
			ck_assert_uint_eq(vlen, strlen(want));
			ck_assert_int_eq(memcmp(v, want, vlen), 0);
			ck_assert(!(big && i == 3));
		}
		rdb_kv_free(v);
		keys++;
	}
	rdb_kv_iter_close(it);
	ck_assert_int_eq(keys, big ? 31 : 30);
	ck_assert_int_eq(rdb_close(db), RDB_OK);
	tu_unlink_db(path);
	free(b);
}
END_TEST

Suite *fuzzseeds_suite(void)
{
	Suite *s = suite_create("fuzzseeds");
	TCase *tc = tcase_create("seeds");

	tcase_add_loop_test(tc,
		test_fuzzseeds_file_seeds_open_at_the_current_format, 0, 3);
	tcase_add_loop_test(tc, test_fuzzseeds_wal_seeds_recover_their_log,
			    0, 2);
	tcase_add_loop_test(tc, test_fuzzseeds_kv_seeds_hold_their_keys, 0,
			    2);
	suite_add_tcase(s, tc);
	return s;
}
