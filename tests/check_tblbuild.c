/*
 * check_tblbuild.c -- index builds (CREATE INDEX, REINDEX) that sort their
 * entries and bulk-load them: exact indexes (tbl_check through the page
 * census) in one run and in many (a small build budget), unique
 * violations and over-long entries creating nothing, and allocation
 * failures at every allocation of a build changing nothing, room left in
 * a built index's leaves for later inserts.
 * Contract under test: src/table/table.h (tbl_create_index, tbl_reindex,
 * tbl_set_build_budget).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "table/table.h"
#include "btree/btree.h"
#include "mem.h"
#include "tbl_util.h"
#include "test_util.h"

static tdb D;

static void setup(void)
{
	tdb_open(&D, 512, 0);
}

static void teardown(void)
{
	tbl_set_build_budget(0);
	tdb_close(&D);
}

#define OK(call) do {							\
	rdb_rc rc_ = (call);						\
	ck_assert_msg(rc_ == RDB_OK, "%s: rc %d: %s", #call, rc_,	\
		      D.terr.msg);					\
} while (0)

/* In a read transaction of its own. */
static void census(void)
{
	const char *why;

	OK(tdb_begin(&D, 0));
	why = tdb_census(&D);
	ck_assert_msg(why == NULL, "%s", why ? why : "");
	tdb_rollback(&D);
}

/* t(id INTEGER PRIMARY KEY, name TEXT, n INTEGER, v ANY) with rows
 * rows: names from a small set (so that a unique index on them fails),
 * or distinct when distinct is set; some NULLs. */
static void fill_table(long rows, int distinct, uint64_t seed)
{
	tbl_column c[4] = { tcol("id", "INTEGER", 0, 0),
			    tcol("name", "TEXT", 0, 0),
			    tcol("n", "INTEGER", 0, 0),
			    tcol("v", "ANY", 0, 0) };
	uint16_t pk[1] = { 0 };
	tbl_table def = { .name = "t", .ncols = 4, .cols = c, .npk = 1,
			  .pk = pk };
	const tbl_table *tb;
	uint64_t rng = seed;
	tbl_value row[4];
	char name[64];
	long i;

	OK(tdb_begin(&D, 1));
	OK(tbl_create_table(D.t, D.s, &def));
	tdb_refresh(&D);
	tb = tdb_table(&D, "t");
	for (i = 0; i < rows; i++) {
		uint64_t r = tu_rand(&rng);

		if (distinct)
			snprintf(name, sizeof(name), "name-%08llx-%ld",
				 (unsigned long long)(r >> 32), i);
		else
			snprintf(name, sizeof(name), "n%llu",
				 (unsigned long long)(r % 97));
		row[0] = tv_int(i * 3 - 1000);
		row[1] = r % 13 == 0 ? tv_null() : tv_text(name);
		row[2] = r % 11 == 0 ? tv_null() : tv_int((int64_t)(r >> 40));
		row[3] = r % 3 ? tv_real((double)(r % 1000) / 7)
			       : tv_text(name + 1);
		OK(tbl_insert(D.t, D.cx, tb, row, TBL_ABORT, NULL));
	}
	OK(tdb_commit(&D));
}

static rdb_rc make_index(const char *name, int unique, uint16_t c0,
			 uint16_t c1, int ncols)
{
	uint16_t cols[2] = { c0, c1 };
	uint8_t desc[2] = { 0, 1 };
	tbl_index ix = { .name = (char *)name, .unique = (uint8_t)unique,
			 .ncols = (uint16_t)ncols, .cols = cols,
			 .desc = desc };

	return tbl_create_index(D.t, D.s, "t", &ix);
}

static const size_t budgets[] = { 0, 1, 3000 };

/* Non-unique indexes (text, integer with NULLs, ANY mixing classes) are
 * exact after CREATE INDEX and after REINDEX, whether their entries were
 * loaded in one run or inserted run by run. */
START_TEST(test_tblbuild_indexes_are_exact_in_one_or_many_runs)
{
	long rows = tu_scaled(20000, 2000);

	tbl_set_build_budget(budgets[_i]);
	fill_table(rows, 0, tu_seed());
	OK(tdb_begin(&D, 1));
	OK(make_index("t_name", 0, 1, 2, 2));
	tdb_refresh(&D);
	OK(make_index("t_v", 0, 3, 0, 1));
	tdb_refresh(&D);
	OK(make_index("t_n", 0, 2, 0, 1));
	tdb_refresh(&D);
	OK(tdb_commit(&D));
	census();
	OK(tdb_begin(&D, 1));
	OK(tbl_reindex(D.t, D.s, "t"));
	OK(tdb_commit(&D));
	census();
	tdb_reopen(&D);
	census();
}
END_TEST

/* A unique index over distinct values (NULLs repeated) builds; over
 * repeated values it fails and nothing is created, wherever the two
 * equal entries fall (one run or different runs). */
START_TEST(test_tblbuild_unique_violation_creates_nothing)
{
	long rows = tu_scaled(5000, 1000);
	tbl_value row[4];
	const tbl_table *tb;

	tbl_set_build_budget(budgets[_i]);
	fill_table(rows, 1, 99);
	OK(tdb_begin(&D, 1));
	OK(make_index("t_uname", 1, 1, 0, 1));
	OK(tdb_commit(&D));
	census();
	OK(tdb_begin(&D, 1));
	OK(tbl_drop_index(D.t, D.s, "t_uname"));
	tdb_refresh(&D);
	tb = tdb_table(&D, "t");
	row[0] = tv_int(-5000);
	row[1] = tv_text("name-00000000-zzz");
	row[2] = tv_null();
	row[3] = tv_null();
	OK(tbl_insert(D.t, D.cx, tb, row, TBL_ABORT, NULL));
	row[0] = tv_int(1000000);
	OK(tbl_insert(D.t, D.cx, tb, row, TBL_ABORT, NULL));
	ck_assert_int_eq(make_index("t_uname", 1, 1, 0, 1), RDB_CONSTRAINT);
	ck_assert_str_eq(D.terr.msg, "UNIQUE constraint failed: t.name");
	OK(tdb_commit(&D));
	census();
	OK(tdb_begin(&D, 0));
	ck_assert_ptr_null(tbl_schema_index(D.s, "t_uname", NULL));
	tdb_rollback(&D);
}
END_TEST

/* An entry longer than the key limit: RDB_TOOBIG, nothing created. */
START_TEST(test_tblbuild_too_long_entry_creates_nothing)
{
	char big[400];
	tbl_value row[4];
	const tbl_table *tb;

	tbl_set_build_budget(budgets[_i]);
	fill_table(300, 0, 5);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	OK(tdb_begin(&D, 1));
	tb = tdb_table(&D, "t");
	row[0] = tv_int(77777);
	row[1] = tv_text(big);
	row[2] = tv_null();
	row[3] = tv_null();
	OK(tbl_insert(D.t, D.cx, tb, row, TBL_ABORT, NULL));
	ck_assert_int_eq(make_index("t_name", 0, 1, 0, 1), RDB_TOOBIG);
	OK(tdb_commit(&D));
	census();
	OK(tdb_begin(&D, 0));
	ck_assert_ptr_null(tbl_schema_index(D.s, "t_name", NULL));
	tdb_rollback(&D);
}
END_TEST

/* Shape of the tree of index name (verified) in the open transaction. */
static bt_stats index_stats(const char *name)
{
	const tbl_index *ix = tbl_schema_index(D.s, name, NULL);
	bt_stats st;

	ck_assert_ptr_nonnull(ix);
	OK(bt_verify(D.t, ix->root, NULL, &st));
	return st;
}

/* A built index leaves room in its leaves (README "Index builds"): 1%
 * more rows inserted at random places split almost none of them (packed
 * leaves split at most of them), and the index stays exact under later
 * inserts and deletes. */
START_TEST(test_tblbuild_index_leaves_keep_room_for_inserts)
{
	long rows = tu_scaled(20000, 4000), extra = rows / 100, i;
	uint64_t rng = tu_seed();
	const tbl_table *tb;
	tbl_value row[4];
	char name[64];
	bt_stats a, b;
	rdb_rc rc;

	tu_seed_note("tblbuild room", rng);
	tdb_close(&D);
	tdb_open(&D, 4096, 0);
	fill_table(rows, 1, rng);
	OK(tdb_begin(&D, 1));
	OK(make_index("t_name", 0, 1, 0, 1));
	tdb_refresh(&D);
	tb = tdb_table(&D, "t");
	a = index_stats("t_name");
	ck_assert_msg(a.leaf_fill > 0.80 && a.leaf_fill < 0.905,
		      "leaf fill %.3f after the build", a.leaf_fill);
	for (i = 0; i < extra; i++) {
		snprintf(name, sizeof(name), "name-%08llx-x%ld",
			 (unsigned long long)(tu_rand(&rng) >> 32), i);
		row[0] = tv_int(rows * 3 + i);
		row[1] = tv_text(name);
		row[2] = tv_null();
		row[3] = tv_int(i);
		OK(tbl_insert(D.t, D.cx, tb, row, TBL_ABORT, NULL));
	}
	b = index_stats("t_name");
	ck_assert_msg(b.leaves <= a.leaves + a.leaves / 50, "%ld inserts "
		      "took the index from %u to %u leaves", extra, a.leaves,
		      b.leaves);
	for (i = 0; i < rows / 4; i++) {
		row[0] = tv_int((int64_t)tu_rand_below(&rng, (uint64_t)rows) *
				3 - 1000);
		rc = tbl_delete(D.t, D.cx, tb, row);
		ck_assert_msg(rc == RDB_OK || rc == RDB_NOTFOUND, "rc %d", rc);
	}
	OK(tdb_commit(&D));
	census();
}
END_TEST

/* A failed allocation anywhere in CREATE INDEX or REINDEX: RDB_NOMEM,
 * and after rollback the database is as before. */
START_TEST(test_tblbuild_nomem_at_every_allocation_changes_nothing)
{
	long n, runs = 0;
	int step, failed;
	char *before, *after;
	rdb_rc rc;

	tbl_set_build_budget(budgets[_i]);
	fill_table(400, 1, 11);
	for (step = 0; step < 2; step++) {
		OK(tdb_begin(&D, 0));
		before = tdb_dump(&D, &rc);
		tdb_rollback(&D);
		ck_assert_ptr_nonnull(before);
		for (n = 1;; n++) {
			OK(tdb_begin(&D, 1));
			rdb_mem_fail_at(n, 0);
			rc = step == 0 ? make_index("t_uname", 1, 1, 0, 1)
				       : tbl_reindex(D.t, D.s, NULL);
			failed = rdb_mem_failed();
			rdb_mem_fail_at(0, 0);
			if (rc == RDB_OK) {
				OK(tdb_commit(&D));
				break;
			}
			ck_assert_msg(rc == RDB_NOMEM && failed, "step %d, "
				      "allocation %ld: rc %d (%s)", step, n,
				      rc, D.terr.msg);
			tdb_rollback(&D);
			OK(tdb_begin(&D, 0));
			after = tdb_dump(&D, &rc);
			tdb_rollback(&D);
			ck_assert_ptr_nonnull(after);
			ck_assert_str_eq(before, after);
			free(after);
			census();
			runs++;
		}
		free(before);
		census();
	}
	ck_assert_int_gt(runs, 20);
}
END_TEST

Suite *tblbuild_suite(void)
{
	Suite *s = suite_create("tblbuild");
	TCase *tc = tcase_create("build");

	tcase_set_timeout(tc, 600);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc,
		test_tblbuild_indexes_are_exact_in_one_or_many_runs, 0, 3);
	tcase_add_loop_test(tc,
		test_tblbuild_unique_violation_creates_nothing, 0, 3);
	tcase_add_loop_test(tc, test_tblbuild_too_long_entry_creates_nothing,
			    0, 3);
	tcase_add_test(tc, test_tblbuild_index_leaves_keep_room_for_inserts);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_set_timeout(tc, 600);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc,
		test_tblbuild_nomem_at_every_allocation_changes_nothing, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}
