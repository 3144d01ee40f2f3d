/*
 * check_objects.c -- views and triggers in the catalog (table layer):
 * their rows and lookups, rollback leaving no trace, view names shared
 * with tables and indexes (trigger names apart), refusals, a table's triggers dropped with it
 * ("catalog"); tbl_reindex rebuilding index trees ("reindex").  Contract
 * under test: src/table/table.h ("DDL", "schema").
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "table/table.h"
#include "format.h"
#include "test_util.h"
#include "tbl_util.h"

static tdb D;

static void setup(void) { tdb_open(&D, 4096, 0); }
static void teardown(void) { tdb_close(&D); }

#define OK(call) do {							\
	rdb_rc rc_ = (call);						\
	ck_assert_msg(rc_ == RDB_OK, "%s: rc %d: %s", #call, rc_,	\
		      D.terr.msg);					\
} while (0)

/* Expect call to fail with rc want and a message containing text. */
#define FAILS(call, want, text) do {					\
	rdb_rc rc_ = (call);						\
	ck_assert_msg(rc_ == (want), "%s: rc %d, want %d", #call, rc_,	\
		      (want));						\
	ck_assert_msg(strstr(D.terr.msg, (text)) != NULL, "%s: '%s' "	\
		      "lacks '%s'", #call, D.terr.msg, (text));		\
} while (0)

static void make_table(const char *name)
{
	tbl_column c[2] = { tcol("a", "INTEGER", 0, 0),
			    tcol("b", "TEXT", 0, 0) };
	tbl_table def = { .name = (char *)name, .ncols = 2, .cols = c };

	OK(tbl_create_table(D.t, D.s, &def));
	tdb_refresh(&D);
}

START_TEST(test_objects_create_lookup_drop_exact)
{
	const tbl_object *o;
	uint64_t v;

	OK(tdb_begin(&D, 1));
	make_table("t");
	v = tbl_schema_version(D.s);
	OK(tbl_create_view(D.t, D.s, "v", "CREATE VIEW v AS SELECT 1"));
	tdb_refresh(&D);
	ck_assert_uint_gt(tbl_schema_version(D.s), v);
	OK(tbl_create_trigger(D.t, D.s, "tr", "T", "CREATE TRIGGER tr ..."));
	tdb_refresh(&D);
	OK(tbl_create_trigger(D.t, D.s, "tv", "v", "CREATE TRIGGER tv ..."));
	tdb_refresh(&D);
	o = tbl_schema_view(D.s, "V");
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(o->sql, "CREATE VIEW v AS SELECT 1");
	ck_assert_ptr_null(o->table);
	ck_assert_ptr_null(tbl_schema_table(D.s, "v"));
	o = tbl_schema_trigger(D.s, "tr");
	ck_assert_str_eq(o->table, "t");      /* the table's own spelling */
	ck_assert_int_eq(tbl_schema_nviews(D.s), 1);
	ck_assert_int_eq(tbl_schema_ntriggers(D.s), 2);
	ck_assert_str_eq(tbl_schema_trigger_at(D.s, 1)->name, "tv");
	ck_assert(tbl_schema_has_triggers(D.s, "T"));
	OK(tdb_commit(&D));
	tdb_reopen(&D);
	OK(tdb_begin(&D, 1));
	ck_assert_int_eq(tbl_schema_ntriggers(D.s), 2);
	/* Dropping the view drops its trigger; the table's stays. */
	OK(tbl_drop_view(D.t, D.s, "v"));
	tdb_refresh(&D);
	ck_assert_int_eq(tbl_schema_nviews(D.s), 0);
	ck_assert_int_eq(tbl_schema_ntriggers(D.s), 1);
	OK(tbl_drop_table(D.t, D.s, "t"));
	tdb_refresh(&D);
	ck_assert_int_eq(tbl_schema_ntriggers(D.s), 0);
	ck_assert(!tbl_schema_has_triggers(D.s, "t"));
	OK(tdb_commit(&D));
}
END_TEST

START_TEST(test_objects_rollback_leaves_no_trace)
{
	rdb_rc rc;
	char *before, *after;
	uint64_t v;

	OK(tdb_begin(&D, 1));
	make_table("t");
	OK(tdb_commit(&D));
	OK(tdb_begin(&D, 1));
	before = tdb_dump(&D, &rc);
	OK(rc);
	v = tbl_schema_version(D.s);
	OK(tbl_create_view(D.t, D.s, "v", "CREATE VIEW v AS SELECT 1"));
	tdb_refresh(&D);
	OK(tbl_create_trigger(D.t, D.s, "tr", "t", "x"));
	tdb_refresh(&D);
	tdb_rollback(&D);
	OK(tdb_begin(&D, 0));
	ck_assert_uint_eq(tbl_schema_version(D.s), v);
	ck_assert_ptr_null(tbl_schema_view(D.s, "v"));
	ck_assert_ptr_null(tbl_schema_trigger(D.s, "tr"));
	after = tdb_dump(&D, &rc);
	OK(rc);
	ck_assert_str_eq(before, after);
	ck_assert_ptr_null(tdb_census(&D));
	tdb_rollback(&D);
	free(before);
	free(after);
}
END_TEST

START_TEST(test_objects_names_and_refusals)
{
	uint16_t col = 0;
	tbl_index ix = { .name = "v", .ncols = 1, .cols = &col };
	tbl_value row[3] = { tv_text("a"), tv_text("t"), tv_text("s") };

	OK(tdb_begin(&D, 1));
	make_table("t");
	OK(tbl_create_view(D.t, D.s, "v", "CREATE VIEW v AS SELECT 1"));
	tdb_refresh(&D);
	OK(tbl_create_trigger(D.t, D.s, "tr", "t", "x"));
	tdb_refresh(&D);
	FAILS(tbl_create_view(D.t, D.s, "t", "s"), RDB_ERROR, "table");
	FAILS(tbl_create_trigger(D.t, D.s, "TR", "t", "s"), RDB_ERROR,
	      "already a trigger named 'TR'");
	FAILS(tbl_create_trigger(D.t, D.s, "rdb_t", "t", "s"), RDB_ERROR,
	      "reserved");
	/* Triggers have a namespace of their own, as in SQLite. */
	OK(tbl_create_trigger(D.t, D.s, "V", "t", "s"));
	tdb_refresh(&D);
	OK(tbl_create_view(D.t, D.s, "tr", "s"));
	tdb_refresh(&D);
	FAILS(tbl_create_index(D.t, D.s, "t", &ix), RDB_ERROR,
	      "already a view");
	FAILS(tbl_create_view(D.t, D.s, "rdb_x", "s"), RDB_ERROR, "reserved");
	FAILS(tbl_create_trigger(D.t, D.s, "x", "nope", "s"), RDB_ERROR,
	      "no such table: 'nope'");
	FAILS(tbl_create_trigger(D.t, D.s, "x", "rdb_tables", "s"),
	      RDB_ERROR, "system table");
	FAILS(tbl_drop_view(D.t, D.s, "t"), RDB_ERROR, "no such view");
	FAILS(tbl_drop_trigger(D.t, D.s, "zz"), RDB_ERROR, "no such trigger");
	FAILS(tbl_insert(D.t, D.cx, tdb_table(&D, "rdb_triggers"), row,
			 TBL_ABORT, NULL), RDB_ERROR, "system table");
	/* A schema older than the catalog is refused. */
	{
		tbl_schema *old = D.s;

		D.s = NULL;
		tdb_refresh(&D);
		OK(tbl_drop_trigger(D.t, D.s, "V"));
		FAILS(tbl_create_view(D.t, D.s, "w", "s"), RDB_MISUSE,
		      "out of date");
		tbl_schema_unref(old);
	}
	tdb_rollback(&D);
}
END_TEST

START_TEST(test_objects_reindex_rebuilds_and_checks)
{
	uint16_t col = 0;
	tbl_index ix = { .name = "ta", .ncols = 1, .cols = &col, .unique = 1 };
	const tbl_index *got;
	tbl_value row[3];
	rdb_pgno root;
	int i, n = tu_scaled(2000, 50);

	OK(tdb_begin(&D, 1));
	make_table("t");
	for (i = 0; i < n; i++) {
		row[0] = tv_int(i * 7 % n);
		row[1] = tv_text(i % 2 ? "odd" : "even");
		row[2] = tv_null();
		OK(tbl_insert(D.t, D.cx, tdb_table(&D, "t"), row, TBL_ABORT,
			      NULL));
	}
	OK(tbl_create_index(D.t, D.s, "t", &ix));
	tdb_refresh(&D);
	root = tbl_schema_index(D.s, "ta", NULL)->root;
	OK(tbl_reindex(D.t, D.s, "ta"));
	tdb_refresh(&D);
	OK(tbl_reindex(D.t, D.s, "T"));
	tdb_refresh(&D);
	OK(tbl_reindex(D.t, D.s, NULL));
	tdb_refresh(&D);
	got = tbl_schema_index(D.s, "ta", NULL);
	ck_assert_ptr_nonnull(got);
	ck_assert(got->unique);
	(void)root;
	ck_assert_ptr_null(tdb_census(&D));   /* entries match, no leak */
	FAILS(tbl_reindex(D.t, D.s, "zz"), RDB_ERROR, "unable to identify");
	FAILS(tbl_reindex(D.t, D.s, "rdb_tables"), RDB_ERROR,
	      "unable to identify");
	OK(tdb_commit(&D));
}
END_TEST

Suite *objects_suite(void)
{
	Suite *s = suite_create("objects");
	TCase *tc = tcase_create("catalog");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_objects_create_lookup_drop_exact);
	tcase_add_test(tc, test_objects_rollback_leaves_no_trace);
	tcase_add_test(tc, test_objects_names_and_refusals);
	suite_add_tcase(s, tc);
	tc = tcase_create("reindex");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_objects_reindex_rebuilds_and_checks);
	suite_add_tcase(s, tc);
	return s;
}
