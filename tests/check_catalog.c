/*
 * check_catalog.c -- the system catalog and DDL: the system tables
 * describe themselves and every user table exactly ("describe"); DDL that
 * fails or rolls back leaves no trace in the catalog or the file's pages,
 * writes to system tables are refused, bad definitions are clear errors
 * ("ddl"); readers keep their snapshot while a writer drops a table, and
 * schemas are cached by version ("snapshot"); crash, power-loss,
 * torn-write, I/O-error and full-disk trials during DDL and row changes
 * ("crash"); an allocation failure at every allocation of a fixed
 * workload ("errors").
 *
 * Replay: RDB_TEST_SEED=<seed>; RDB_CATALOG_CRASH_TRIAL=<i> runs only
 * crash trial i.  Contract under test: src/table/table.h.
 */
#include <check.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "table/table.h"
#include "btree/btree.h"
#include "format.h"
#include "mem.h"
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

/* A table with every kind of column: composite DESC key, defaults,
 * NOT NULL, UNIQUE, VARCHAR(n), and an ANY column. */
static void def_people(tbl_table *t, tbl_column *c, uint16_t *pk)
{
	c[0] = tcol("last", "VARCHAR(20)", 0, 0);
	c[1] = tcol("first", "TEXT", 0, 0);
	c[2] = tcol("age", "INT", 1, 0);
	c[3] = tcol("email", "TEXT", 0, 1);
	c[4] = tcol("score", "DOUBLE", 0, 0);
	c[5] = tcol("extra", "ANY", 0, 0);
	c[6] = tcol("ok", "BOOLEAN", 1, 0);
	c[2].has_dflt = 1;
	c[2].dflt = tv_int(18);
	c[4].has_dflt = 1;
	c[4].dflt = tv_real(0.5);
	c[4].dflt_sql = "0.5";
	c[6].has_dflt = 1;
	c[6].dflt = tv_int(1);
	c[1].pk_desc = 1;
	pk[0] = 0;
	pk[1] = 1;
	*t = (tbl_table){ .name = "people", .ncols = 7, .cols = c,
			  .npk = 2, .pk = pk };
}

static void create_people(void)
{
	tbl_column c[7];
	uint16_t pk[2];
	tbl_table t;

	def_people(&t, c, pk);
	OK(tbl_create_table(D.t, D.s, &t));
	tdb_refresh(&D);
}

/* ==== describe ============================================================= */

/* The rdb_columns rows of table name, through a cursor with a key bound. */
static int columns_of(const char *name, tbl_value out[][16], int max)
{
	const tbl_table *sys = tdb_table(&D, "rdb_columns");
	tbl_value key = tv_text(name);
	tbl_bound b = { &key, 1, 1 };
	tbl_cursor *c = NULL;
	const tbl_value *row;
	static char store[64][16][64];
	int n = 0, i;

	OK(tbl_cursor_open(D.t, sys, NULL, &c));
	OK(tbl_cursor_range(c, &b, &b, 0));
	while (tbl_cursor_next(c) == RDB_ROW) {
		OK(tbl_cursor_row(c, &row));
		ck_assert_int_lt(n, max);
		for (i = 0; i < sys->ncols; i++) {
			out[n][i] = row[i];
			if (row[i].cls == TBL_TEXT || row[i].cls == TBL_BLOB) {
				ck_assert_uint_lt(row[i].n, 64);
				memcpy(store[n][i], row[i].p, row[i].n);
				out[n][i].p = store[n][i];
			}
		}
		n++;
	}
	tbl_cursor_close(c);
	return n;
}

static int text_is(const tbl_value *v, const char *s)
{
	return s == NULL ? v->cls == TBL_NULL
			 : v->cls == TBL_TEXT && v->n == strlen(s) &&
			   memcmp(v->p, s, v->n) == 0;
}

/* The rows of rdb_columns for tb say exactly what tb says. */
static void check_columns(const tbl_table *tb)
{
	tbl_value rows[64][16];
	const tbl_column *col;
	int n = columns_of(tb->name, rows, 64), i;

	ck_assert_int_eq(n, tb->ncols);
	for (i = 0; i < n; i++) {
		col = &tb->cols[i];
		ck_assert(text_is(&rows[i][0], tb->name));
		ck_assert_int_eq(rows[i][1].i, i);
		ck_assert_msg(text_is(&rows[i][2], col->name), "column %d of "
			      "%s: name %s", i, tb->name, tv_str(&rows[i][2]));
		ck_assert(text_is(&rows[i][3], col->decl));
		ck_assert_int_eq(rows[i][4].i, col->notnull);
		ck_assert(text_is(&rows[i][5], col->has_dflt ? col->dflt_sql
							     : NULL));
		ck_assert(tv_same(&rows[i][6], col->has_dflt ? &col->dflt
			  : &(tbl_value){ .cls = TBL_NULL }));
		ck_assert_int_eq(rows[i][7].i, col->pk);
		ck_assert_int_eq(rows[i][8].i, col->pk_desc);
		ck_assert_int_eq(rows[i][9].i, col->unique);
	}
}

START_TEST(test_catalog_system_tables_describe_themselves)
{
	static const char *const sys[] = { "rdb_tables", "rdb_columns",
		"rdb_indexes", "rdb_index_columns", "rdb_triggers" };
	const tbl_table *tb;
	tbl_cursor *c = NULL;
	const tbl_value *row;
	int i, n = 0;

	OK(tdb_begin(&D, 1));
	/* Before the first DDL the catalog is empty, but the system tables'
	 * schemas are compiled in. */
	ck_assert_int_eq(tbl_schema_count(D.s), 5);
	ck_assert_uint_eq(tbl_schema_version(D.s), 0);
	create_people();
	for (i = 0; i < 5; i++) {
		tb = tbl_schema_at(D.s, i);
		ck_assert_str_eq(tb->name, sys[i]);
		ck_assert(tb->system);
		check_columns(tb);
	}
	tb = tdb_table(&D, "RDB_TABLES");    /* names: case-insensitive */
	OK(tbl_cursor_open(D.t, tb, NULL, &c));
	while (tbl_cursor_next(c) == RDB_ROW) {
		OK(tbl_cursor_row(c, &row));
		if (text_is(&row[1], "system")) {
			ck_assert_int_eq(row[2].i, 0);
			for (i = 0; i < 5 && !text_is(&row[0], sys[i]); i++)
				;
			ck_assert_int_lt(i, 5);
			ck_assert(row[3].cls == TBL_TEXT && row[3].n > 20);
			n++;
		} else {
			ck_assert(text_is(&row[0], "people"));
			ck_assert(text_is(&row[1], "table"));
		}
	}
	tbl_cursor_close(c);
	ck_assert_int_eq(n, 5);
	/* Point lookups work on system tables too. */
	{
		tbl_value key[2] = { tv_text("people"), tv_int(3) };

		OK(tbl_get(D.t, D.cx, tdb_table(&D, "rdb_columns"), key,
			   &row));
		ck_assert(text_is(&row[2], "email") && row[9].i == 1);
		key[1] = tv_int(7);
		ck_assert_int_eq(tbl_get(D.t, D.cx, tdb_table(&D,
				 "rdb_columns"), key, &row), RDB_NOTFOUND);
		OK(tbl_get(D.t, D.cx, tb, key, &row));
		ck_assert(text_is(&row[1], "table") && row[4].i == 0);
	}
	OK(tdb_commit(&D));
}
END_TEST

/* Rows of system table sys whose first key column is name. */
static int count_rows(const char *sys, const char *name)
{
	tbl_value key = tv_text(name);
	tbl_bound b = { &key, 1, 1 };
	tbl_cursor *c = NULL;
	int n = 0;

	OK(tbl_cursor_open(D.t, tdb_table(&D, sys), NULL, &c));
	OK(tbl_cursor_range(c, &b, &b, 0));
	while (tbl_cursor_next(c) == RDB_ROW)
		n++;
	tbl_cursor_close(c);
	return n;
}

START_TEST(test_catalog_describes_user_tables_exactly)
{
	tbl_column c[7], ic[2] = { tcol("id", "INTEGER", 0, 0),
				   tcol("order", "TEXT", 0, 0) };
	uint16_t pk[2], ipk[1] = { 0 }, cols[2] = { 2, 4 };
	uint8_t desc[2] = { 1, 0 };
	tbl_index ix = { .name = "people_age", .ncols = 2, .cols = cols,
			 .desc = desc };
	tbl_table def, ids = { .name = "ids", .ncols = 2, .cols = ic,
			       .npk = 1, .pk = ipk };
	const tbl_table *tb, *owner;
	const tbl_index *x;
	int i;

	OK(tdb_begin(&D, 1));
	create_people();
	OK(tbl_create_index(D.t, D.s, "people", &ix));
	tdb_refresh(&D);
	OK(tbl_create_table(D.t, D.s, &ids));
	OK(tdb_commit(&D));
	tdb_reopen(&D);
	OK(tdb_begin(&D, 0));
	def_people(&def, c, pk);
	tb = tdb_table(&D, "People");
	ck_assert_str_eq(tb->sql, "CREATE TABLE people(last VARCHAR(20), "
			 "first TEXT, age INT NOT NULL DEFAULT 18, email TEXT "
			 "UNIQUE, score DOUBLE DEFAULT 0.5, extra ANY, ok "
			 "BOOLEAN NOT NULL DEFAULT 1, PRIMARY KEY(last, first "
			 "DESC))");
	ck_assert_int_eq(tb->ncols, 7);
	ck_assert_int_eq(tb->npk, 2);
	ck_assert_int_eq(tb->pk[0], 0);
	ck_assert_int_eq(tb->pk[1], 1);
	ck_assert(!tb->ipk && !tb->system && tb->root != 0);
	for (i = 0; i < 7; i++) {
		ck_assert_str_eq(tb->cols[i].name, c[i].name);
		ck_assert_str_eq(tb->cols[i].decl, c[i].decl);
		ck_assert_int_eq(tb->cols[i].notnull, c[i].notnull);
		ck_assert_int_eq(tb->cols[i].unique, c[i].unique);
		ck_assert_int_eq(tb->cols[i].has_dflt, c[i].has_dflt);
		if (c[i].has_dflt)
			ck_assert(tv_same(&tb->cols[i].dflt, &c[i].dflt));
		ck_assert_int_eq(tb->cols[i].pk, i < 2 ? i + 1 : 0);
		ck_assert_int_eq(tb->cols[i].pk_desc, i == 1);
	}
	ck_assert_int_eq(tb->cols[0].type, TBL_TY_TEXT);
	ck_assert_int_eq(tb->cols[0].maxlen, 20);
	ck_assert_int_eq(tb->cols[2].type, TBL_TY_INTEGER);
	ck_assert_int_eq(tb->cols[4].type, TBL_TY_REAL);
	ck_assert_int_eq(tb->cols[6].type, TBL_TY_BOOLEAN);
	ck_assert_str_eq(tb->cols[2].dflt_sql, "18");
	ck_assert_str_eq(tb->cols[4].dflt_sql, "0.5");
	check_columns(tb);
	ck_assert_int_eq(tb->nidx, 2);
	x = tbl_schema_index(D.s, "rdb_autoindex_people_1", &owner);
	ck_assert_ptr_eq(owner, tb);
	ck_assert(x->unique && x->origin == 'u');
	ck_assert_ptr_null(x->sql);
	ck_assert_int_eq(x->ncols, 1);
	ck_assert_int_eq(x->cols[0], 3);
	x = tbl_schema_index(D.s, "PEOPLE_AGE", &owner);
	ck_assert_ptr_eq(owner, tb);
	ck_assert(!x->unique && x->origin == 'c' && x->root != 0);
	ck_assert_str_eq(x->sql, "CREATE INDEX people_age ON people(age DESC, "
			 "score)");
	ck_assert_int_eq(x->ncols, 2);
	ck_assert(x->cols[0] == 2 && x->cols[1] == 4);
	ck_assert(x->desc[0] == 1 && x->desc[1] == 0);
	ck_assert_int_eq(count_rows("rdb_indexes", "people"), 2);
	ck_assert_int_eq(count_rows("rdb_index_columns", "people_age"), 2);
	ck_assert_int_eq(count_rows("rdb_index_columns",
				    "rdb_autoindex_people_1"), 1);
	tb = tdb_table(&D, "ids");
	ck_assert(tb->ipk && tb->npk == 1);
	ck_assert_str_eq(tb->sql, "CREATE TABLE ids(id INTEGER PRIMARY KEY, "
			 "\"order\" TEXT)");
	check_columns(tb);
	/* System tables first, then user tables by name. */
	ck_assert_int_eq(tbl_schema_count(D.s), 7);
	ck_assert_str_eq(tbl_schema_at(D.s, 5)->name, "ids");
	ck_assert_str_eq(tbl_schema_at(D.s, 6)->name, "people");
	tdb_rollback(&D);
}
END_TEST

/* UNIQUE table constraints (def.idx): one unique index of origin 'u' each,
 * none for one the key or an earlier constraint implies; they survive a
 * reopen, appear in the generated SQL and are enforced. */
START_TEST(test_catalog_unique_constraints_make_auto_indexes)
{
	tbl_column c[3] = { tcol("a", "INTEGER", 0, 0),
			    tcol("b", "TEXT", 0, 0),
			    tcol("c", "INTEGER", 0, 0) };
	uint16_t pk[1] = { 2 }, ab[2] = { 0, 1 }, ba[2] = { 1, 0 },
		 cc[1] = { 2 }, bad[2] = { 0, 0 };
	uint8_t desc[2] = { 0, 1 };
	tbl_index u[3] = { { .ncols = 2, .cols = ab, .desc = desc },
			   { .ncols = 2, .cols = ba },
			   { .ncols = 1, .cols = cc } };
	tbl_table def = { .name = "u", .ncols = 3, .cols = c, .npk = 1,
			  .pk = pk, .nidx = 3, .idx = u };
	tbl_value row[3];
	const tbl_table *tb;
	const tbl_index *x;
	int done;

	OK(tdb_begin(&D, 1));
	u[0].cols = bad;
	ck_assert_int_eq(tbl_create_table(D.t, D.s, &def), RDB_ERROR);
	ck_assert_ptr_null(tbl_schema_table(D.s, "u"));
	u[0].cols = ab;
	OK(tbl_create_table(D.t, D.s, &def));
	OK(tdb_commit(&D));
	tdb_reopen(&D);
	OK(tdb_begin(&D, 1));
	tb = tdb_table(&D, "u");
	ck_assert_int_eq(tb->nidx, 1);
	ck_assert_str_eq(tb->sql, "CREATE TABLE u(a INTEGER, b TEXT, c INTEGER "
			 "PRIMARY KEY, UNIQUE(a, b DESC))");
	x = tbl_schema_index(D.s, "rdb_autoindex_u_1", NULL);
	ck_assert(x != NULL && x->unique && x->origin == 'u' && !x->sql);
	ck_assert(x->ncols == 2 && x->cols[0] == 0 && x->cols[1] == 1);
	ck_assert(x->desc[0] == 0 && x->desc[1] == 1);
	ck_assert_int_eq(count_rows("rdb_index_columns", x->name), 2);
	row[0] = tv_int(1), row[1] = tv_text("x"), row[2] = tv_int(1);
	OK(tbl_insert(D.t, D.cx, tb, row, TBL_ABORT, NULL));
	row[2] = tv_int(2);
	ck_assert_int_eq(tbl_insert(D.t, D.cx, tb, row, TBL_ABORT, NULL),
			 RDB_CONSTRAINT);
	ck_assert_str_eq(D.terr.msg, "UNIQUE constraint failed: "
			 "u.a, u.b");
	OK(tbl_insert(D.t, D.cx, tb, row, TBL_IGNORE, &done));
	ck_assert_int_eq(done, 0);
	row[1] = tv_null();
	OK(tbl_insert(D.t, D.cx, tb, row, TBL_ABORT, NULL));
	row[2] = tv_int(3);
	OK(tbl_insert(D.t, D.cx, tb, row, TBL_ABORT, NULL));
	ck_assert_int_eq(tbl_drop_index(D.t, D.s, x->name), RDB_ERROR);
	tdb_rollback(&D);
}
END_TEST

/* ==== ddl ================================================================== */

typedef struct fstate {
	uint32_t pages, free;
	uint64_t version;
	char *dump;
} fstate;

static fstate state_of(void)
{
	fstate f;
	rdb_rc rc;

	f.pages = pager_txn_page_count(D.t);
	f.free = pager_txn_free_count(D.t);
	f.version = pager_anchor(D.t, FMT_ANCHOR_CATALOG);
	f.dump = tdb_dump(&D, &rc);
	ck_assert_msg(rc == RDB_OK, "dump: rc %d: %s", rc, D.terr.msg);
	return f;
}

static void same_state(fstate *a, const char *what)
{
	fstate b = state_of();

	ck_assert_msg(a->pages == b.pages && a->free == b.free, "%s: pages "
		      "%u (free %u) became %u (free %u)", what, a->pages,
		      a->free, b.pages, b.free);
	ck_assert_msg(a->version == b.version, "%s: catalog version moved",
		      what);
	ck_assert_msg(strcmp(a->dump, b.dump) == 0, "%s: contents changed",
		      what);
	free(b.dump);
}

static void insert_people(int n)
{
	tbl_value row[7];
	char last[16], mail[32];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(last, sizeof(last), "n%04d", i);
		snprintf(mail, sizeof(mail), "p%d@example.org", i % 50);
		row[0] = tv_text(last);
		row[1] = tv_text(i % 2 ? "ann" : "bob");
		row[2] = tv_int(20 + i % 60);
		row[3] = i % 50 == i ? tv_text(mail) : tv_null();
		row[4] = tv_real(i * 0.25);
		row[5] = i % 3 ? tv_int(i) : tv_text("x");
		row[6] = tv_int(i % 2);
		OK(tbl_insert(D.t, D.cx, tdb_table(&D, "people"), row,
			      TBL_ABORT, NULL));
	}
}

START_TEST(test_catalog_create_and_rollback_leaves_no_trace)
{
	uint16_t cols[1] = { 2 };
	uint8_t desc[1] = { 0 };
	tbl_index ix = { .name = "by_age", .ncols = 1, .cols = cols,
			 .desc = desc };
	fstate before;
	const char *why;

	/* On an empty database, then on one that has a catalog. */
	for (int round = 0; round < 2; round++) {
		OK(tdb_begin(&D, 1));
		before = state_of();
		create_people();
		insert_people(300);
		OK(tbl_create_index(D.t, D.s, "people", &ix));
		tdb_refresh(&D);
		ck_assert_uint_gt(pager_txn_page_count(D.t), before.pages);
		tdb_rollback(&D);
		OK(tdb_begin(&D, 0));
		ck_assert_ptr_null(tbl_schema_table(D.s, "people"));
		same_state(&before, "create, fill and roll back");
		why = tdb_census(&D);
		ck_assert_msg(why == NULL, "%s", why ? why : "");
		tdb_rollback(&D);
		free(before.dump);
		if (round == 1)
			break;
		/* Give the database a catalog for the second round. */
		OK(tdb_begin(&D, 1));
		OK(tbl_create_table(D.t, D.s, &(tbl_table){ .name = "other",
			.ncols = 1, .cols = &(tbl_column){ .name = "v",
			.decl = "TEXT" } }));
		OK(tdb_commit(&D));
	}
}
END_TEST

static int is_free(void *arg, rdb_pgno pgno, int is_trunk)
{
	unsigned char *seen = arg;

	(void)is_trunk;
	seen[pgno / 8] &= (unsigned char)~(1u << (pgno % 8));
	return 0;
}

START_TEST(test_catalog_drop_frees_every_page)
{
	uint16_t cols[2] = { 2, 4 };
	uint8_t desc[2] = { 0, 1 };
	tbl_index ix = { .name = "by_age", .ncols = 2, .cols = cols,
			 .desc = desc };
	const tbl_table *tb;
	unsigned char *seen;
	uint32_t used = 0, left = 0, n, p;
	bt_stats st;
	const char *why;
	int i;

	OK(tdb_begin(&D, 1));
	create_people();
	insert_people(1500);
	OK(tbl_create_index(D.t, D.s, "people", &ix));
	tdb_refresh(&D);
	OK(tdb_commit(&D));
	OK(tdb_begin(&D, 1));
	tb = tdb_table(&D, "people");
	n = pager_txn_page_count(D.t);
	seen = calloc(n / 8 + 1, 1);
	ck_assert_ptr_nonnull(seen);
	OK(bt_verify(D.t, tb->root, seen, &st));
	used += st.leaves + st.inners + st.overflow_pages;
	for (i = 0; i < tb->nidx; i++) {
		OK(bt_verify(D.t, tb->idx[i].root, seen, &st));
		used += st.leaves + st.inners + st.overflow_pages;
	}
	ck_assert_uint_gt(used, 10);
	OK(tbl_drop_table(D.t, D.s, "people"));
	tdb_refresh(&D);
	ck_assert_ptr_null(tbl_schema_table(D.s, "people"));
	ck_assert_ptr_null(tbl_schema_index(D.s, "by_age", NULL));
	ck_assert_int_eq(count_rows("rdb_columns", "people"), 0);
	ck_assert_int_eq(count_rows("rdb_indexes", "people"), 0);
	ck_assert_int_eq(count_rows("rdb_index_columns", "by_age"), 0);
	OK(tdb_commit(&D));
	OK(tdb_begin(&D, 0));
	/* Every page of the dropped trees is on the free list (but those
	 * the catalog's KV records took again). */
	OK(pager_freelist_walk(D.t, is_free, seen));
	why = tdb_census(&D);
	ck_assert_msg(why == NULL, "%s", why ? why : "");
	for (p = 1; p < n; p++)
		left += (seen[p / 8] >> (p % 8)) & 1;
	ck_assert_msg(left <= 2, "%u of %u pages of the dropped table are "
		      "not free", left, used);
	free(seen);
	tdb_rollback(&D);
}
END_TEST

static void refused(rdb_rc rc, const char *name)
{
	ck_assert_msg(rc == RDB_ERROR, "rc %d: %s", rc, D.terr.msg);
	ck_assert_msg(strstr(D.terr.msg, name) != NULL, "message '%s' does "
		      "not name '%s'", D.terr.msg, name);
}

START_TEST(test_catalog_system_tables_refuse_writes)
{
	static const char *const sys[] = { "rdb_tables", "rdb_columns",
		"rdb_indexes", "rdb_index_columns" };
	uint16_t cols[1] = { 0 };
	tbl_index ix = { .name = "sx", .ncols = 1, .cols = cols };
	tbl_value row[16];
	const tbl_table *tb;
	fstate before;
	int i, j;

	OK(tdb_begin(&D, 1));
	create_people();
	before = state_of();
	for (i = 0; i < 4; i++) {
		tb = tdb_table(&D, sys[i]);
		for (j = 0; j < tb->ncols; j++)
			row[j] = tv_text("x");
		refused(tbl_insert(D.t, D.cx, tb, row, TBL_REPLACE, NULL),
			sys[i]);
		refused(tbl_update(D.t, D.cx, tb, row, row, TBL_ABORT, NULL),
			sys[i]);
		refused(tbl_delete(D.t, D.cx, tb, row), sys[i]);
		refused(tbl_drop_table(D.t, D.s, sys[i]), sys[i]);
		refused(tbl_create_index(D.t, D.s, sys[i], &ix), sys[i]);
		OK(tbl_note_rows(D.t, tb, 5));
	}
	same_state(&before, "refused writes");
	free(before.dump);
	tdb_rollback(&D);
}
END_TEST

/* A definition that must be refused with want, naming what, and leave
 * nothing behind. */
static void bad_table(const tbl_table *def, rdb_rc want, const char *what)
{
	fstate before = state_of();
	rdb_rc rc = tbl_create_table(D.t, D.s, def);

	ck_assert_msg(rc == want, "%s: rc %d, want %d (%s)", def->name, rc,
		      want, D.terr.msg);
	ck_assert_msg(strstr(D.terr.msg, what) != NULL, "message '%s' "
		      "lacks '%s'", D.terr.msg, what);
	same_state(&before, def->name);
	free(before.dump);
}

START_TEST(test_catalog_bad_definitions_are_clear_errors)
{
	tbl_column c[3] = { tcol("a", "INTEGER", 0, 0), tcol("b", "TEXT", 0, 0),
			    tcol("c", "TEXT", 0, 0) };
	uint16_t pk[2] = { 0, 5 }, dup[2] = { 1, 1 };
	tbl_table t = { .name = "t", .ncols = 3, .cols = c };

	OK(tdb_begin(&D, 1));
	create_people();
	c[1].decl = "INTEGR";
	bad_table(&t, RDB_ERROR, "INTEGR");
	c[1].decl = "TEXT";
	c[2].name = "A";
	bad_table(&t, RDB_ERROR, "duplicate column name");
	c[2].name = "c";
	t.npk = 2;
	t.pk = pk;
	bad_table(&t, RDB_ERROR, "column 5");
	t.pk = dup;
	bad_table(&t, RDB_ERROR, "twice");
	t.npk = 0;
	t.ncols = 0;
	bad_table(&t, RDB_ERROR, "columns");
	t.ncols = 3;
	t.name = "PEOPLE";
	bad_table(&t, RDB_ERROR, "already");
	t.name = "rdb_mine";
	bad_table(&t, RDB_ERROR, "reserved");
	t.name = "t";
	c[0].has_dflt = 1;
	c[0].dflt = tv_text("abc");
	bad_table(&t, RDB_ERROR, "default");
	c[0].has_dflt = 0;
	/* A key made of the declared length cannot fit a 4096-byte page. */
	c[1].decl = "VARCHAR(3000)";
	t.npk = 1;
	t.pk = dup;
	bad_table(&t, RDB_TOOBIG, "key");
	c[1].decl = "TEXT";
	c[1].unique = 1;
	c[2].decl = "VARCHAR(2000)";
	c[2].unique = 1;
	t.npk = 0;
	bad_table(&t, RDB_TOOBIG, "rdb_autoindex_t_2");
	tdb_rollback(&D);
}
END_TEST

START_TEST(test_catalog_long_keys_and_names_are_toobig)
{
	tbl_column c[2] = { tcol("k", "TEXT", 0, 0), tcol("v", "TEXT", 0, 0) };
	uint16_t pk[1] = { 0 }, cols[1] = { 1 };
	tbl_table t = { .name = "t", .ncols = 2, .cols = c, .npk = 1,
			.pk = pk };
	tbl_index ix = { .name = "t_v", .ncols = 1, .cols = cols };
	char *name = malloc(3000), *big = malloc(3000);
	tbl_value row[2];
	fstate before;
	rdb_rc rc;

	ck_assert(name != NULL && big != NULL);
	memset(big, 'q', 2999);
	big[2999] = '\0';
	OK(tdb_begin(&D, 1));
	OK(tbl_create_table(D.t, D.s, &t));
	tdb_refresh(&D);
	row[0] = tv_text("short");
	row[1] = tv_text(big);
	OK(tbl_insert(D.t, D.cx, tdb_table(&D, "t"), row, TBL_ABORT, NULL));
	before = state_of();
	row[0] = tv_text(big);
	row[1] = tv_text("v");
	rc = tbl_insert(D.t, D.cx, tdb_table(&D, "t"), row, TBL_ABORT, NULL);
	ck_assert_msg(rc == RDB_TOOBIG, "rc %d: %s", rc, D.terr.msg);
	same_state(&before, "long key");
	/* An index whose entry for an existing row cannot fit. */
	rc = tbl_create_index(D.t, D.s, "t", &ix);
	ck_assert_msg(rc == RDB_TOOBIG, "rc %d: %s", rc, D.terr.msg);
	tdb_refresh(&D);
	ck_assert_ptr_null(tbl_schema_index(D.s, "t_v", NULL));
	free(before.dump);
	/* A name whose catalog key cannot fit. */
	memset(name, 'n', 2000);
	name[2000] = '\0';
	t.name = name;
	before = state_of();
	bad_table(&t, RDB_TOOBIG, "too long");
	free(before.dump);
	tdb_rollback(&D);
	free(name);
	free(big);
}
END_TEST

START_TEST(test_catalog_unique_index_on_duplicates_is_not_created)
{
	uint16_t cols[1] = { 1 };
	tbl_index ix = { .name = "u_first", .ncols = 1, .cols = cols,
			 .unique = 1 };
	const char *why;

	OK(tdb_begin(&D, 1));
	create_people();
	insert_people(200);
	OK(tdb_commit(&D));
	OK(tdb_begin(&D, 1));
	ck_assert_int_eq(tbl_create_index(D.t, D.s, "people", &ix),
			 RDB_CONSTRAINT);
	ck_assert_str_eq(D.terr.msg, "UNIQUE constraint failed: people.first");
	tdb_refresh(&D);
	ck_assert_ptr_null(tbl_schema_index(D.s, "u_first", NULL));
	OK(tdb_commit(&D));
	OK(tdb_begin(&D, 0));
	why = tdb_census(&D);
	ck_assert_msg(why == NULL, "%s", why ? why : "");
	tdb_rollback(&D);
	OK(tdb_begin(&D, 1));
	ck_assert_int_eq(tbl_drop_index(D.t, D.s, "rdb_autoindex_people_1"),
			 RDB_ERROR);
	ck_assert_int_eq(tbl_drop_index(D.t, D.s, "nope"), RDB_ERROR);
	ck_assert_int_eq(tbl_drop_table(D.t, D.s, "nope"), RDB_ERROR);
	ck_assert_int_eq(tbl_create_index(D.t, D.s, "nope", &ix), RDB_ERROR);
	tdb_rollback(&D);
}
END_TEST

/* ==== snapshot ============================================================== */

START_TEST(test_catalog_reader_keeps_snapshot_of_dropped_table)
{
	pager_txn *rt = NULL;
	rdb_err rerr = { 0 };
	tbl_schema *rs = NULL;
	tbl_cursor *c = NULL;
	const tbl_value *row;
	char *want, *got;
	rdb_rc rc;
	int n = 0;

	OK(tdb_begin(&D, 1));
	create_people();
	insert_people(800);
	OK(tdb_commit(&D));
	OK(tdb_begin(&D, 0));
	want = tdb_dump_table(&D, tdb_table(&D, "people"), &rc);
	ck_assert_ptr_nonnull(want);
	tdb_rollback(&D);
	/* The reader starts its scan ... */
	ck_assert_int_eq(pager_begin(D.p, 0, &rerr, &rt), RDB_OK);
	ck_assert_int_eq(tbl_schema_get(rt, NULL, &rs), RDB_OK);
	ck_assert_int_eq(tbl_cursor_open(rt, tbl_schema_table(rs, "people"),
					 NULL, &c), RDB_OK);
	ck_assert_int_eq(tbl_cursor_next(c), RDB_ROW);
	/* ... a writer drops the table and reuses its pages ... */
	OK(tdb_begin(&D, 1));
	OK(tbl_drop_table(D.t, D.s, "people"));
	tdb_refresh(&D);
	create_people();
	insert_people(800);
	OK(tbl_drop_table(D.t, D.s, "people"));
	OK(tdb_commit(&D));
	/* ... and the reader still sees every row of its snapshot. */
	do {
		ck_assert_int_eq(tbl_cursor_row(c, &row), RDB_OK);
		n++;
	} while ((rc = tbl_cursor_next(c)) == RDB_ROW);
	ck_assert_msg(rc == RDB_DONE, "rc %d: %s", rc, rerr.msg);
	ck_assert_int_eq(n, 800);
	tbl_cursor_close(c);
	/* A second scan of the old snapshot gives the same rows. */
	{
		pager_txn *wt = D.t;
		tbl_schema *ws = D.s;

		D.t = rt;
		D.s = rs;
		got = tdb_dump_table(&D, tbl_schema_table(rs, "people"), &rc);
		D.t = wt;
		D.s = ws;
	}
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	tbl_schema_unref(rs);
	pager_rollback(rt);
	/* A new snapshot has no such table. */
	OK(tdb_begin(&D, 0));
	ck_assert_ptr_null(tbl_schema_table(D.s, "people"));
	tdb_rollback(&D);
}
END_TEST

START_TEST(test_catalog_schema_cached_by_version)
{
	tbl_schema *a = NULL, *b = NULL, *lost = NULL;
	uint64_t v0, vlost;

	OK(tdb_begin(&D, 1));
	create_people();
	OK(tdb_commit(&D));
	OK(tdb_begin(&D, 0));
	a = D.s;
	v0 = tbl_schema_version(a);
	OK(tbl_schema_get(D.t, a, &b));
	ck_assert_ptr_eq(a, b);                    /* same version: reused */
	tbl_schema_unref(b);
	tdb_rollback(&D);
	/* A DDL that rolls back: its version number is never reused. */
	OK(tdb_begin(&D, 1));
	OK(tbl_create_table(D.t, D.s, &(tbl_table){ .name = "gone",
		.ncols = 1, .cols = &(tbl_column){ .name = "v",
		.decl = "TEXT" } }));
	OK(tbl_schema_get(D.t, D.s, &lost));
	vlost = tbl_schema_version(lost);
	ck_assert_uint_gt(vlost, v0);
	tdb_rollback(&D);
	OK(tdb_begin(&D, 1));
	ck_assert_uint_eq(tbl_schema_version(D.s), v0);
	OK(tbl_create_table(D.t, D.s, &(tbl_table){ .name = "kept",
		.ncols = 1, .cols = &(tbl_column){ .name = "w",
		.decl = "INTEGER" } }));
	OK(tbl_schema_get(D.t, lost, &b));
	ck_assert_ptr_ne(b, lost);
	ck_assert_uint_ne(tbl_schema_version(b), vlost);
	ck_assert_ptr_nonnull(tbl_schema_table(b, "kept"));
	ck_assert_ptr_null(tbl_schema_table(b, "gone"));
	/* DDL with a stale schema is refused. */
	ck_assert_int_eq(tbl_drop_table(D.t, lost, "people"), RDB_MISUSE);
	tbl_schema_unref(b);
	tbl_schema_unref(lost);
	OK(tdb_commit(&D));
}
END_TEST

/* Threads sharing one schema: each takes references through its own read
 * transaction and drops them (run under SANITIZE=thread too). */
typedef struct sharer {
	pager *p;
	tbl_schema *shared;
	int ok;
} sharer;

static void *share_schema(void *arg)
{
	sharer *sh = arg;
	pager_txn *t = NULL;
	tbl_schema *s;
	rdb_err e = { 0 };
	int i;

	if (pager_begin(sh->p, 0, &e, &t) != RDB_OK)
		return NULL;
	for (i = 0; i < 2000; i++) {
		s = NULL;
		if (tbl_schema_get(t, sh->shared, &s) != RDB_OK ||
		    s != sh->shared || tbl_schema_table(s, "people") == NULL)
			break;
		tbl_schema_unref(s);
	}
	sh->ok = i == 2000;
	pager_rollback(t);
	return NULL;
}

START_TEST(test_catalog_schema_shared_between_threads)
{
	pthread_t th[4];
	sharer sh[4];
	int i;

	OK(tdb_begin(&D, 1));
	create_people();
	OK(tdb_commit(&D));
	OK(tdb_begin(&D, 0));
	for (i = 0; i < 4; i++) {
		sh[i] = (sharer){ D.p, D.s, 0 };
		ck_assert_int_eq(pthread_create(&th[i], NULL, share_schema,
						&sh[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_msg(sh[i].ok, "thread %d", i);
	}
	/* A lost or an extra reference would show under SANITIZE=address
	 * as a leak or a use after free when the schema goes. */
	tdb_rollback(&D);
	tdb_reopen(&D);
	OK(tdb_begin(&D, 0));
	ck_assert_ptr_nonnull(tbl_schema_table(D.s, "people"));
	tdb_rollback(&D);
}
END_TEST

START_TEST(test_catalog_row_estimate_follows_changes)
{
	const tbl_table *tb;
	int i;

	OK(tdb_begin(&D, 1));
	create_people();
	OK(tbl_note_rows(D.t, tdb_table(&D, "people"), 40));
	OK(tdb_commit(&D));
	tdb_reopen(&D);
	OK(tdb_begin(&D, 1));
	tb = tdb_table(&D, "people");
	ck_assert_uint_eq(tb->rows, 40);
	OK(tbl_note_rows(D.t, tb, 10000));
	for (i = 0; i < 20000; i++)
		OK(tbl_note_rows(D.t, tb, 1));
	OK(tdb_commit(&D));
	tdb_reopen(&D);
	OK(tdb_begin(&D, 0));
	tb = tdb_table(&D, "people");
	/* Small steps move it by eighths, as often as makes the expected
	 * change right (the random source is deterministic in a fresh
	 * process: this range holds for it). */
	ck_assert_msg(tb->rows > 10040 + 8000 && tb->rows < 10040 + 40000,
		      "estimate %llu after 30040 rows",
		      (unsigned long long)tb->rows);
	tdb_rollback(&D);
}
END_TEST

/* ==== crash: faults through the in-memory file system ====================== *
 * Every write transaction stores its commit number K in header anchor 7
 * and a dump of every table (system tables included) as it is just before
 * the commit.  After a crash, power loss or torn write at a random call
 * and a reopen, the database must hold exactly the dump of commit K for
 * the K it says (the last commit that returned RDB_OK, or the one whose
 * commit failed), and pass the page census and tbl_check. */

#define CR_ANCHOR 7u
#define CR_MAXC 16

typedef struct crig {
	tdb d;
	uint64_t rng;
	char *snap[CR_MAXC + 4];  /* dump of commit K */
	uint64_t last_ok, last_try;
	int armed;
	const char *first_op;
	int first_rc;
	long ops;
	char ctx[256];
} crig;

static void cr_fail(const crig *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void cr_fail(const crig *r, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ck_abort_msg("%s [%s; first error: %s %d; txn err '%s']", msg, r->ctx,
		     r->first_op ? r->first_op : "none", r->first_rc,
		     r->d.terr.msg);
}

#define CR_CHECK(r, cond, ...) do {					\
	if (!(cond))							\
		cr_fail((r), __VA_ARGS__);				\
} while (0)

/* rc of op: RDB_OK, a statement error that changed nothing, or the
 * injected fault's RDB_IOERR (then returned).  Statement errors
 * (constraints, keys too long for an index) are part of the workload. */
static rdb_rc cr_err(crig *r, const char *op, rdb_rc rc)
{
	if (rc == RDB_OK || rc == RDB_CONSTRAINT || rc == RDB_NOTFOUND ||
	    rc == RDB_TOOBIG)
		return RDB_OK;
	CR_CHECK(r, r->armed && os_mem_fault_fired(r->d.vfs), "%s failed "
		 "with %d (%s) though no fault fired", op, rc, r->d.terr.msg);
	CR_CHECK(r, rc == RDB_IOERR || rc == RDB_FULL, "%s failed with %d "
		 "(%s), not the injected fault's RDB_IOERR or RDB_FULL", op, rc,
		 r->d.terr.msg);
	if (r->first_op == NULL) {
		r->first_op = op;
		r->first_rc = rc;
	}
	return rc;
}

static const char *const cr_tables[4] = { "c0", "c1", "c2", "c3" };

static rdb_rc cr_create(crig *r, int n)
{
	tbl_column c0[] = { tcol("k", "INTEGER", 0, 0), tcol("v", "TEXT", 0, 0),
			    tcol("w", "INTEGER", 0, 1) };
	tbl_column c1[] = { tcol("a", "TEXT", 0, 0), tcol("b", "INTEGER", 0, 0),
			    tcol("v", "BLOB", 0, 0) };
	tbl_column c2[] = { tcol("v", "TEXT", 0, 0), tcol("w", "INTEGER", 0, 0) };
	tbl_column c3[] = { tcol("k", "INTEGER", 0, 0), tcol("v", "TEXT", 1, 0) };
	uint16_t pk[2] = { 0, 1 };
	tbl_table defs[4] = {
		{ .ncols = 3, .cols = c0, .npk = 1, .pk = pk },
		{ .ncols = 3, .cols = c1, .npk = 2, .pk = pk },
		{ .ncols = 2, .cols = c2 },
		{ .ncols = 2, .cols = c3, .npk = 1, .pk = pk } };

	c1[0].pk_desc = 1;
	c3[0].pk_desc = 1;
	defs[n].name = (char *)cr_tables[n];
	return tbl_create_table(r->d.t, r->d.s, &defs[n]);
}

static int cr_vcol(const tbl_table *tb)
{
	int i;

	for (i = 0; i < tb->ncols; i++)
		if (strcmp(tb->cols[i].name, "v") == 0)
			return i;
	return 0;
}

static rdb_rc cr_index(crig *r, const tbl_table *tb)
{
	char name[16];
	uint16_t col[1] = { (uint16_t)cr_vcol(tb) };
	uint8_t desc[1] = { 1 };
	tbl_index ix = { .name = name, .ncols = 1, .cols = col, .desc = desc };

	snprintf(name, sizeof(name), "%s_v", tb->name);
	if (tbl_schema_index(r->d.s, name, NULL) != NULL)
		return tbl_drop_index(r->d.t, r->d.s, name);
	return tbl_create_index(r->d.t, r->d.s, tb->name, &ix);
}

static char cr_text[8192];

static tbl_value cr_val(crig *r, tbl_type ty)
{
	uint64_t c = tu_rand_below(&r->rng, 100);
	tbl_value v;

	if (ty == TBL_TY_INTEGER)
		return tv_int((int64_t)tu_rand_below(&r->rng, 300));
	v = tv_blob(cr_text, c < 80 ? tu_rand_below(&r->rng, 40)
			    : c < 95 ? 100 + tu_rand_below(&r->rng, 900)
				     : 2000 + tu_rand_below(&r->rng, 6000));
	if (ty == TBL_TY_TEXT)
		v.cls = TBL_TEXT;
	return v;
}

static rdb_rc cr_insert(crig *r, const tbl_table *tb)
{
	tbl_value row[4];
	int n = 1 + (int)tu_rand_below(&r->rng, 30), i, c;
	rdb_rc rc = RDB_OK;

	for (i = 0; i < n && rc == RDB_OK; i++) {
		for (c = 0; c < tb->ncols; c++)
			row[c] = cr_val(r, tb->cols[c].type);
		row[tb->ncols] = tv_null();
		if (tb->ipk && tu_rand_below(&r->rng, 2))
			row[tb->pk[0]] = tv_null();
		rc = cr_err(r, "tbl_insert", tbl_insert(r->d.t, r->d.cx, tb,
				row, TBL_REPLACE, NULL));
	}
	return rc;
}

/* Walk the table, deleting or rewriting (non-key value) some rows. */
static rdb_rc cr_walk(crig *r, const tbl_table *tb, int del)
{
	tbl_cursor *c = NULL;
	const tbl_value *row;
	tbl_value nw[4];
	int vc = cr_vcol(tb), i;
	rdb_rc rc = cr_err(r, "tbl_cursor_open", tbl_cursor_open(r->d.t, tb,
							NULL, &c));

	while (rc == RDB_OK && (rc = tbl_cursor_next(c)) == RDB_ROW) {
		rc = cr_err(r, "tbl_cursor_row", tbl_cursor_row(c, &row));
		if (rc != RDB_OK || tu_rand_below(&r->rng, 3) != 0)
			continue;
		for (i = 0; i < tbl_nvals(tb); i++)
			nw[i] = row[i];
		nw[vc] = cr_val(r, tb->cols[vc].type);
		rc = del ? cr_err(r, "tbl_delete", tbl_delete(r->d.t, r->d.cx,
				  tb, row))
			 : cr_err(r, "tbl_update", tbl_update(r->d.t, r->d.cx,
				  tb, row, nw, TBL_ABORT, NULL));
	}
	tbl_cursor_close(c);
	return rc == RDB_DONE ? RDB_OK : cr_err(r, "tbl_cursor_next", rc);
}

/* One statement on table n. */
static rdb_rc cr_op(crig *r)
{
	int n = (int)tu_rand_below(&r->rng, 4);
	const tbl_table *tb = tbl_schema_table(r->d.s, cr_tables[n]);
	uint64_t c = tu_rand_below(&r->rng, 100);
	rdb_rc rc;

	r->ops++;
	if (tb == NULL)
		rc = cr_err(r, "tbl_create_table", cr_create(r, n));
	else if (c < 8)
		rc = cr_err(r, "tbl_drop_table", tbl_drop_table(r->d.t,
				r->d.s, tb->name));
	else if (c < 20)
		rc = cr_err(r, "index", cr_index(r, tb));
	else if (c < 70)
		return cr_insert(r, tb);
	else
		return cr_walk(r, tb, c < 85);
	if (rc == RDB_OK) {
		tbl_schema *ns = NULL;

		rc = cr_err(r, "tbl_schema_get", tbl_schema_get(r->d.t, r->d.s,
							       &ns));
		if (ns != NULL) {
			tbl_schema_unref(r->d.s);
			r->d.s = ns;
		}
	}
	return rc;
}

static rdb_rc cr_txn(crig *r)
{
	uint64_t K = r->last_ok + 1;
	int n = 1 + (int)tu_rand_below(&r->rng, 5), i;
	char *dump;
	rdb_rc rc;

	rdb_err_clear(&r->d.terr);
	rc = cr_err(r, "tdb_begin", tdb_begin(&r->d, 1));
	if (rc != RDB_OK)
		return rc;
	for (i = 0; i < n && rc == RDB_OK; i++)
		rc = cr_op(r);
	if (rc == RDB_OK)
		rc = cr_err(r, "pager_set_anchor", pager_set_anchor(r->d.t,
				CR_ANCHOR, K));
	dump = rc == RDB_OK ? tdb_dump(&r->d, &rc) : NULL;
	if (rc != RDB_OK || dump == NULL) {
		cr_err(r, "tdb_dump", rc);
		tdb_rollback(&r->d);
		return rc ? rc : RDB_IOERR;
	}
	ck_assert_int_lt(K, CR_MAXC + 4);
	free(r->snap[K]);
	r->snap[K] = dump;
	r->last_try = K;
	rc = cr_err(r, "pager_commit", tdb_commit(&r->d));
	if (rc == RDB_OK)
		r->last_ok = K;
	return rc;
}

/* The reopened database holds commit last_ok (or last_try if that commit
 * failed) exactly, and passes the census. */
static void cr_verify(crig *r, int inflight)
{
	uint64_t K;
	const char *why;
	char *dump;
	rdb_rc rc;

	r->armed = 0;
	rc = tdb_begin(&r->d, 0);
	CR_CHECK(r, rc == RDB_OK, "read transaction: rc %d (%s)", rc,
		 r->d.terr.msg);
	K = pager_anchor(r->d.t, CR_ANCHOR);
	CR_CHECK(r, K == r->last_ok || (inflight && K == r->last_try),
		 "database is at commit %llu; allowed %llu%s (last tried "
		 "%llu)", (unsigned long long)K,
		 (unsigned long long)r->last_ok, inflight ? " or the failed "
		 "commit after it" : " only", (unsigned long long)r->last_try);
	dump = tdb_dump(&r->d, &rc);
	CR_CHECK(r, dump != NULL, "dump: rc %d (%s)", rc, r->d.terr.msg);
	CR_CHECK(r, strcmp(dump, r->snap[K]) == 0, "contents at commit %llu "
		 "differ from what that commit wrote",
		 (unsigned long long)K);
	free(dump);
	why = tdb_census(&r->d);
	CR_CHECK(r, why == NULL, "census at commit %llu: %s",
		 (unsigned long long)K, why ? why : "");
	tdb_rollback(&r->d);
	r->last_ok = r->last_try = K;
}

static void cr_reopen(crig *r)
{
	rdb_rc rc;

	tbl_schema_unref(r->d.s);
	r->d.s = NULL;
	rc = pager_open(r->d.vfs, r->d.path, &r->d.opts, &r->d.err, &r->d.p);
	CR_CHECK(r, rc == RDB_OK, "pager_open: rc %d (%s)", rc, r->d.err.msg);
}

/* A fresh in-memory database (page size 1024 or 4096, small caches and
 * checkpoints), its empty dump as commit 0, then 1..2 transactions. */
static void cr_setup(crig *r, uint64_t seed, long idx)
{
	rdb_rc rc;
	int i, n;

	memset(r, 0, sizeof(*r));
	r->rng = seed | 1;
	for (i = 0; i < (int)sizeof(cr_text); i++)
		cr_text[i] = (char)('a' + i * 7 % 26);
	tdb_open(&r->d, tu_rand_below(&r->rng, 2) ? 1024 : 4096, 1);
	snprintf(r->ctx, sizeof(r->ctx), "catalog crash trial %ld, seed "
		 "%llu, page size %u", idx, (unsigned long long)seed,
		 r->d.opts.page_size);
	tdb_rollback(&r->d);
	(void)pager_close(r->d.p);
	r->d.opts.cache_pages = 16 + (uint32_t)tu_rand_below(&r->rng, 33);
	r->d.opts.ckpt_frames = 8 + (uint32_t)tu_rand_below(&r->rng, 57);
	cr_reopen(r);
	ck_assert_int_eq(tdb_begin(&r->d, 0), RDB_OK);
	r->snap[0] = tdb_dump(&r->d, &rc);
	ck_assert_ptr_nonnull(r->snap[0]);
	tdb_rollback(&r->d);
	n = 1 + (int)tu_rand_below(&r->rng, 2);
	for (i = 0; i < n; i++)
		CR_CHECK(r, cr_txn(r) == RDB_OK, "setup transaction %d", i);
}

static void cr_workload(crig *r)
{
	int n = 2 + (int)tu_rand_below(&r->rng, 5), i;
	rdb_rc rc = RDB_OK;

	for (i = 0; i < n && rc == RDB_OK; i++)
		rc = cr_txn(r);
}

static void cr_done(crig *r)
{
	int i;

	for (i = 0; i < CR_MAXC + 4; i++)
		free(r->snap[i]);
	tdb_close(&r->d);
}

/* Calls of the fault-free workload and close. */
static uint64_t cr_measure(uint64_t seed, long idx)
{
	crig *r = calloc(1, sizeof(*r));
	uint64_t calls;

	ck_assert_ptr_nonnull(r);
	cr_setup(r, seed, idx);
	os_mem_set_fault(r->d.vfs, OS_FAULT_NONE, 0, 0, 0);
	cr_workload(r);
	CR_CHECK(r, pager_close(r->d.p) == RDB_OK, "fault-free close");
	r->d.p = NULL;
	calls = os_mem_calls(r->d.vfs);
	cr_done(r);
	free(r);
	return calls;
}

/* One trial: fault, close, reboot, verify; one more transaction on the
 * recovered database, verified after a clean reopen.  Returns whether
 * the fault fired. */
static int cr_run(uint64_t seed, long idx, os_fault kind, uint64_t at,
		  long *ops)
{
	crig *r = calloc(1, sizeof(*r));
	int fired;
	rdb_rc rc;

	ck_assert_ptr_nonnull(r);
	cr_setup(r, seed, idx);
	os_mem_set_fault(r->d.vfs, kind, at, 0, seed);
	r->armed = 1;
	cr_workload(r);
	tdb_rollback(&r->d);
	rc = pager_close(r->d.p);
	r->d.p = NULL;
	fired = os_mem_fault_fired(r->d.vfs);
	/* An I/O error or a full disk in the automatic checkpoint after a
	 * commit is not that commit's failure (pager_commit ignores it):
	 * such a fault may fire unseen. */
	CR_CHECK(r, fired == (rc != RDB_OK || r->first_op != NULL) ||
		 (fired && kind >= OS_FAULT_EIO), "close returned %d; the "
		 "fault %s", rc, fired ? "had fired" : "never fired");
	os_mem_restart(r->d.vfs);
	cr_reopen(r);
	cr_verify(r, 1);
	CR_CHECK(r, cr_txn(r) == RDB_OK, "transaction after recovery");
	CR_CHECK(r, pager_close(r->d.p) == RDB_OK, "clean close");
	cr_reopen(r);
	cr_verify(r, 0);
	*ops += r->ops;
	cr_done(r);
	free(r);
	return fired;
}

/* At scale 1: 150 trials (crash, power loss, torn write, I/O error, full
 * disk in turn) of about 17 statements each (2500 statements: DDL and
 * row changes); the faults of nearly all of them fire. */
START_TEST(test_catalog_crash_trials_reopen_at_a_committed_state)
{
	static const os_fault kinds[] = { OS_FAULT_CRASH, OS_FAULT_POWERLOSS,
					  OS_FAULT_TORN, OS_FAULT_EIO,
					  OS_FAULT_ENOSPC };
	long n = tu_scaled(150, 15), i, fired = 0, run = 0, ops = 0;
	const char *env = getenv("RDB_CATALOG_CRASH_TRIAL");
	long only = env ? atol(env) : -1;
	uint64_t base = tu_seed(), seed, s, calls;

	tu_seed_note("catalog crash trials", base);
	for (i = 0; i < n; i++) {
		if (only >= 0 && i != only)
			continue;
		seed = base + (uint64_t)i * 0x9E3779B97F4A7C15ull;
		calls = cr_measure(seed, i);
		s = seed ^ 0xfa17;
		fired += cr_run(seed, i, kinds[i % 5],
				1 + tu_rand_below(&s, calls), &ops);
		run++;
	}
	ck_assert_msg(run > 0 && fired * 10 >= run * 8, "seed %llu: %ld "
		      "trials, %ld faults fired, %ld statements",
		      (unsigned long long)base, run, fired, ops);
}
END_TEST

/* ==== errors: an allocation failure at every allocation ================= *
 * A fixed sequence of steps, each in its own write transaction, runs with
 * its nth allocation failing for n = 1, 2, ... until a run makes no
 * failing call: every failed run returns RDB_NOMEM, and after its
 * rollback the database holds exactly what it held before the step and
 * passes the census. */

#define NM_STEPS 10

static rdb_rc nm_refresh(void)
{
	tbl_schema *s = NULL;
	rdb_rc rc = tbl_schema_get(D.t, D.s, &s);

	if (rc == RDB_OK) {
		tbl_schema_unref(D.s);
		D.s = s;
	}
	return rc;
}

static rdb_rc nm_insert(const char *table, int from, int n, tbl_conflict on)
{
	static char big[900];
	const tbl_table *tb = tbl_schema_table(D.s, table);
	tbl_value row[5];
	char v[16];
	rdb_rc rc = RDB_OK;
	int i;

	memset(big, 'b', sizeof(big));
	for (i = from; i < from + n && rc == RDB_OK; i++) {
		snprintf(v, sizeof(v), "v%d", i % 7);
		row[0] = tv_int(i);
		row[1] = i % 5 == 4 ? tv_blob(big, sizeof(big)) : tv_text(v);
		row[1].cls = TBL_TEXT;
		row[2] = i % 3 ? tv_int(i * 10) : tv_null();
		row[3] = tv_real(i / 2.0);
		row[tb->ncols] = tv_null();
		rc = tbl_insert(D.t, D.cx, tb, row, on, NULL);
	}
	return rc;
}

/* Scan table (or its index ix) in both directions. */
static rdb_rc nm_scan(const tbl_table *tb, const tbl_index *ix)
{
	tbl_cursor *c = NULL;
	const tbl_value *row;
	tbl_value lo = tv_int(3);
	tbl_bound b = { &lo, 1, 0 };
	rdb_rc rc = tbl_cursor_open(D.t, tb, ix, &c);
	int rev;

	for (rev = 0; rev < 2 && rc == RDB_OK; rev++) {
		rc = tbl_cursor_range(c, ix ? NULL : &b, NULL, rev);
		while (rc == RDB_OK && (rc = tbl_cursor_next(c)) == RDB_ROW)
			rc = tbl_cursor_row(c, &row);
		rc = rc == RDB_DONE ? RDB_OK : rc;
	}
	tbl_cursor_close(c);
	return rc;
}

static rdb_rc nm_step0(void)
{
	tbl_column c[4] = { tcol("k", "INTEGER", 0, 0), tcol("v", "TEXT", 1, 0),
			    tcol("w", "INTEGER", 0, 1), tcol("z", "REAL", 0, 0) };
	uint16_t pk[1] = { 0 };
	tbl_table t = { .name = "t", .ncols = 4, .cols = c, .npk = 1,
			.pk = pk };

	c[1].has_dflt = 1;
	c[1].dflt = tv_text("x");
	return tbl_create_table(D.t, D.s, &t);
}

static rdb_rc nm_step3(void)
{
	const tbl_table *tb = tbl_schema_table(D.s, "t");
	tbl_value old[5], nw[5];
	rdb_rc rc = RDB_OK;
	int i;

	for (i = 0; i < 6 && rc == RDB_OK; i++) {
		old[0] = tv_int(i);
		nw[0] = tv_int(i % 2 ? i + 100 : i);
		nw[1] = tv_text(i % 3 ? "changed" : "v1");
		nw[2] = tv_int(i + 1000);
		nw[3] = tv_null();
		rc = tbl_update(D.t, D.cx, tb, old, nw, TBL_ABORT, NULL);
	}
	return rc;
}

static rdb_rc nm_step4(void)
{
	const tbl_table *tb = tbl_schema_table(D.s, "t");
	const tbl_value *row;
	tbl_value key = tv_int(8);
	rdb_rc rc = RDB_OK;
	int i;

	for (i = 6; i < 9 && rc == RDB_OK; i++) {
		key = tv_int(i);
		rc = tbl_delete(D.t, D.cx, tb, &key);
	}
	if (rc == RDB_OK)
		rc = nm_scan(tb, NULL);
	if (rc == RDB_OK)
		rc = nm_scan(tb, &tb->idx[0]);
	key = tv_int(10);
	return rc == RDB_OK ? tbl_get(D.t, D.cx, tb, &key, &row) : rc;
}

static rdb_rc nm_step5(void)
{
	tbl_column c[2] = { tcol("a", "TEXT", 0, 1), tcol("b", "ANY", 0, 0) };
	tbl_table u = { .name = "u", .ncols = 2, .cols = c };
	tbl_value row[3] = { tv_text("one"), tv_real(1.5), tv_null() };
	rdb_rc rc = tbl_note_rows(D.t, tbl_schema_table(D.s, "t"), 500);

	if (rc == RDB_OK)
		rc = tbl_create_table(D.t, D.s, &u);
	if (rc == RDB_OK)
		rc = nm_refresh();
	if (rc == RDB_OK)
		rc = tbl_insert(D.t, D.cx, tbl_schema_table(D.s, "u"), row,
				TBL_ABORT, NULL);
	return rc;
}

static rdb_rc nm_step(int i)
{
	uint16_t cols[2] = { 1, 3 };
	uint8_t desc[2] = { 0, 1 };
	tbl_index ix = { .name = "t_vz", .ncols = 2, .cols = cols,
			 .desc = desc };
	tbl_schema *s = NULL;
	rdb_rc rc;

	switch (i) {
	case 0:
		return nm_step0();
	case 1:
		rc = nm_insert("t", 0, 12, TBL_ABORT);
		if (rc == RDB_OK)
			rc = nm_insert("t", 3, 2, TBL_REPLACE);
		return rc == RDB_OK ? nm_insert("t", 4, 2, TBL_IGNORE) : rc;
	case 2:
		return tbl_create_index(D.t, D.s, "t", &ix);
	case 3:
		return nm_step3();
	case 4:
		return nm_step4();
	case 5:
		return nm_step5();
	case 6:
		return tbl_drop_index(D.t, D.s, "t_vz");
	case 7:
		return tbl_check(D.t, D.s, NULL);
	case 8:
		return tbl_drop_table(D.t, D.s, "t");
	default:
		rc = tbl_schema_get(D.t, NULL, &s);
		tbl_schema_unref(s);
		return rc;
	}
}

static char *nm_state(void)
{
	const char *why;
	char *dump;
	rdb_rc rc;

	ck_assert_int_eq(tdb_begin(&D, 0), RDB_OK);
	dump = tdb_dump(&D, &rc);
	ck_assert_msg(dump != NULL, "dump: rc %d: %s", rc, D.terr.msg);
	why = tdb_census(&D);
	ck_assert_msg(why == NULL, "%s", why ? why : "");
	tdb_rollback(&D);
	return dump;
}

/* The ten steps make about 420 runs with a failed allocation. */
START_TEST(test_catalog_alloc_failure_at_every_allocation_changes_nothing)
{
	char *before, *after;
	long n, runs = 0;
	int i, failed;
	rdb_rc rc;

	for (i = 0; i < NM_STEPS; i++) {
		before = nm_state();
		for (n = 1;; n++) {
			OK(tdb_begin(&D, 1));
			rdb_mem_fail_at(n, 0);
			rc = nm_step(i);
			failed = rdb_mem_failed();
			rdb_mem_fail_at(0, 0);
			if (rc == RDB_OK) {
				OK(tdb_commit(&D));
				break;
			}
			ck_assert_msg(rc == RDB_NOMEM && failed, "step %d, "
				      "allocation %ld: rc %d (%s)", i, n, rc,
				      D.terr.msg);
			tdb_rollback(&D);
			after = nm_state();
			ck_assert_msg(strcmp(before, after) == 0, "step %d, "
				      "allocation %ld: contents changed", i,
				      n);
			free(after);
			runs++;
		}
		free(before);
		ck_assert_msg(n > 1 || i == 7 || i == 9, "step %d allocated "
			      "nothing", i);
	}
	after = nm_state();
	free(after);
	ck_assert_msg(runs > 100, "%ld runs with a failed allocation", runs);
}
END_TEST

/* ==== suite ================================================================== */

static TCase *tcase(Suite *s, const char *name, int timeout)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
	return tc;
}

Suite *catalog_suite(void)
{
	Suite *s = suite_create("catalog");
	TCase *tc;

	tc = tcase(s, "describe", 60);
	tcase_add_test(tc, test_catalog_system_tables_describe_themselves);
	tcase_add_test(tc, test_catalog_describes_user_tables_exactly);
	tcase_add_test(tc, test_catalog_unique_constraints_make_auto_indexes);
	tc = tcase(s, "ddl", 60);
	tcase_add_test(tc, test_catalog_create_and_rollback_leaves_no_trace);
	tcase_add_test(tc, test_catalog_drop_frees_every_page);
	tcase_add_test(tc, test_catalog_system_tables_refuse_writes);
	tcase_add_test(tc, test_catalog_bad_definitions_are_clear_errors);
	tcase_add_test(tc, test_catalog_long_keys_and_names_are_toobig);
	tcase_add_test(tc, test_catalog_unique_index_on_duplicates_is_not_created);
	tc = tcase(s, "snapshot", 60);
	tcase_add_test(tc, test_catalog_reader_keeps_snapshot_of_dropped_table);
	tcase_add_test(tc, test_catalog_schema_cached_by_version);
	tcase_add_test(tc, test_catalog_schema_shared_between_threads);
	tcase_add_test(tc, test_catalog_row_estimate_follows_changes);
	tc = tcase(s, "crash", 600);
	tcase_add_test(tc, test_catalog_crash_trials_reopen_at_a_committed_state);
	tc = tcase(s, "errors", 600);
	tcase_add_test(tc,
		test_catalog_alloc_failure_at_every_allocation_changes_nothing);
	return s;
}
