/*
 * check_grouptop.c -- GROUP BY in key order (the groups aggregated one at
 * a time as the rows arrive, src/sql/select.c "GROUP BY in key order")
 * and top-N sorts for ORDER BY ... LIMIT (src/sql/sorter.c "top-N").
 * Cases: model (the sorter's limit against qsort, tiny and large
 * budgets), fixed (edge cases with known answers: NULL groups, empty
 * input, HAVING, DISTINCT aggregates, ties, OFFSET, directions, LIMIT 0,
 * a LIMIT past the input, NULL order), differential (random tables and
 * queries: rdb's streamed groups against its group table and against
 * libsqlite3, its top-N against a full sort and against libsqlite3, with
 * a large cache and with one so small that sorts spill), errors (a failed
 * allocation at every step).
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mem.h"
#include "rdb.h"
#include "pager/os.h"
#include "sql/sorter.h"
#include "sql_util.h"
#include "table/table.h"
#include "test_util.h"

/* ---- the sorter's limit against a model ----------------------------------- */

typedef struct mrow {
	tbl_value v[3];           /* text bytes: malloc'd */
	long seq;
} mrow;

static int m_ncols, m_cols[3], m_desc[3], m_nf[3];

static int model_cmp(const void *pa, const void *pb)
{
	const mrow *a = pa, *b = pb;
	int i, c;

	for (i = 0; i < m_ncols; i++) {
		const tbl_value *x = &a->v[m_cols[i]], *y = &b->v[m_cols[i]];
		int an = x->cls == TBL_NULL, bn = y->cls == TBL_NULL;

		if (an != bn)
			return (an ? -1 : 1) * (m_nf[i] ? 1 : -1);
		if ((c = tbl_value_cmp(x, y)) != 0)
			return m_desc[i] ? -c : c;
	}
	return (a->seq > b->seq) - (a->seq < b->seq);
}

static void gen_value(uint64_t *s, tbl_value *v, int wide)
{
	unsigned r = (unsigned)tu_rand_below(s, 8);
	size_t i, n;
	char *p;

	memset(v, 0, sizeof(*v));
	if (r == 0)
		return;
	if (r <= 4) {
		v->cls = TBL_INT;
		v->i = (int64_t)tu_rand_below(s, 15) - 7;
		return;
	}
	v->cls = TBL_TEXT;
	n = tu_rand_below(s, 4) + (wide ? 300 : 0);
	p = malloc(n + 1);
	ck_assert_ptr_nonnull(p);
	for (i = 0; i < n; i++)
		p[i] = (char)('a' + tu_rand_below(s, 3));
	v->p = p;
	v->n = n;
}

static int same_value(const tbl_value *a, const tbl_value *b)
{
	if (a->cls != b->cls)
		return 0;
	if (a->cls == TBL_INT)
		return a->i == b->i;
	if (a->cls == TBL_TEXT)
		return a->n == b->n && (a->n == 0 ||
					memcmp(a->p, b->p, a->n) == 0);
	return 1;
}

/* What a round's sizes are drawn for: anything, or a shape that must
 * give up the heap (at least 1,000 kept rows, about 3 in 8 of them
 * with a text of 300 bytes or more, under a budget of at most 20 KiB:
 * well past it, and the rows after that spill), or one that must keep
 * it and drop rows (a limit of at most 20 of at least 100 rows under
 * 16 MiB).  The forced shapes make what the test asserts of them
 * certain for every seed. */
enum { ROUND_ANY, ROUND_HEAP_OFF, ROUND_HEAP_KEPT };

/* Sort n random rows with a limit; the rows out must be the model's
 * first ones: exactly min(n, limit) of them unless the kept rows passed
 * the budget (then also the rest of the rows not dropped before). */
static void model_round(uint64_t *s, os_vfs *vfs, int shape,
			sorter_stats *st)
{
	rdb_err err = { 0 };
	long n, limit, i, want;
	int wide, k;
	size_t budget;
	mrow *rows;
	sorter_opts o;
	sorter *so;
	const tbl_value *row;

	switch (shape) {
	case ROUND_HEAP_OFF:
		n = 1500 + (long)tu_rand_below(s, 500);
		wide = 1;
		budget = 4096 + tu_rand_below(s, 16384);
		limit = 1000 + (long)tu_rand_below(s, 2000);
		break;
	case ROUND_HEAP_KEPT:
		n = 100 + (long)tu_rand_below(s, 1900);
		wide = tu_rand_below(s, 3) == 0;
		budget = (size_t)1 << 24;
		limit = 1 + (long)tu_rand_below(s, 20);
		break;
	default:
		n = (long)tu_rand_below(s, 2000);
		wide = tu_rand_below(s, 3) == 0;
		budget = tu_rand_below(s, 2) ? 4096 + tu_rand_below(s, 60000)
					     : (size_t)1 << 24;
		limit = 1 + (long)tu_rand_below(s, tu_rand_below(s, 2) ? 20
									 : 3000);
		break;
	}
	rows = calloc((size_t)n + 1, sizeof(*rows));
	ck_assert_ptr_nonnull(rows);
	m_ncols = 1 + (int)tu_rand_below(s, 3);
	for (k = 0; k < m_ncols; k++) {
		m_cols[k] = (int)tu_rand_below(s, 3);
		m_desc[k] = (int)tu_rand_below(s, 2);
		m_nf[k] = (int)tu_rand_below(s, 2);
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < 3; k++)
			gen_value(s, &rows[i].v[k], wide && k == 2);
		rows[i].seq = i;
	}
	memset(&o, 0, sizeof(o));
	o.width = 3;
	o.ncols = m_ncols;
	o.cols = m_cols;
	o.desc = m_desc;
	o.nulls_first = m_nf;
	o.budget = budget;
	o.page_size = 1024;
	o.vfs = vfs;
	o.limit = limit;
	ck_assert_int_eq(sorter_new(&o, &err, &so), RDB_OK);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(sorter_add(so, rows[i].v), RDB_OK);
	ck_assert_int_eq(sorter_finish(so), RDB_OK);
	sorter_get_stats(so, st);
	qsort(rows, (size_t)n, sizeof(*rows), model_cmp);
	want = n < limit ? n : limit;
	for (i = 0; i < want; i++) {
		ck_assert_int_eq(sorter_next(so, &row), RDB_ROW);
		for (k = 0; k < 3; k++)
			ck_assert_msg(same_value(&row[k], &rows[i].v[k]),
				      "row %ld of %ld (limit %ld) col %d", i,
				      n, limit, k);
	}
	/* Past the limit: nothing, or (once the heap was given up) the
	 * rows not dropped before. */
	while (sorter_next(so, &row) == RDB_ROW)
		i++;
	ck_assert_int_eq(i, st->topn_off ? n - st->dropped : want);
	ck_assert_int_eq(sorter_count(so), n);
	if (!st->topn_off)
		ck_assert_int_eq(st->dropped, n - want);
	sorter_free(so);
	for (i = 0; i < n; i++)
		for (k = 0; k < 3; k++)
			free((void *)rows[i].v[k].p);
	free(rows);
}

START_TEST(test_grouptop_sorter_limit_matches_qsort_prefix)
{
	uint64_t seed = tu_seed(), s = seed;
	os_vfs *vfs = os_mem_new();
	long iters = tu_scaled(80, 20), it;
	sorter_stats st;

	tu_seed_note("grouptop model", seed);
	ck_assert_ptr_nonnull(vfs);
	/* One round in four of each forced shape, the rest drawn freely. */
	for (it = 0; it < iters; it++) {
		int shape = it % 4 == 1 ? ROUND_HEAP_OFF
			  : it % 4 == 2 ? ROUND_HEAP_KEPT : ROUND_ANY;

		model_round(&s, vfs, shape, &st);
		if (shape == ROUND_HEAP_OFF) {
			ck_assert_msg(st.topn_off && st.runs > 0,
				      "round %ld: heap kept (off %d, runs %ld)",
				      it, (int)st.topn_off, (long)st.runs);
		} else if (shape == ROUND_HEAP_KEPT) {
			ck_assert_msg(!st.topn_off && st.dropped > 0,
				      "round %ld: heap given up or nothing "
				      "dropped", it);
		}
	}
	os_mem_free(vfs);
}
END_TEST

/* Many rows in descending order for an ascending limit: every row
 * enters the heap, and dead rows must be compacted away. */
START_TEST(test_grouptop_sorter_worst_order_stays_bounded)
{
	rdb_err err = { 0 };
	os_vfs *vfs = os_mem_new();
	int col = 0;
	sorter_opts o;
	sorter *so;
	sorter_stats st;
	const tbl_value *row;
	tbl_value v = { .cls = TBL_INT };
	long i, n = tu_scaled(200000, 20000);

	memset(&o, 0, sizeof(o));
	o.width = 1;
	o.ncols = 1;
	o.cols = &col;
	o.budget = 64 * 1024;
	o.page_size = 1024;
	o.vfs = vfs;
	o.limit = 10;
	ck_assert_int_eq(sorter_new(&o, &err, &so), RDB_OK);
	for (i = n; i > 0; i--) {
		v.i = i;
		ck_assert_int_eq(sorter_add(so, &v), RDB_OK);
	}
	ck_assert_int_eq(sorter_finish(so), RDB_OK);
	sorter_get_stats(so, &st);
	ck_assert_int_eq(st.topn_off, 0);
	ck_assert_int_eq(st.runs, 0);
	ck_assert_int_eq(st.dropped, n - 10);
	for (i = 1; i <= 10; i++) {
		ck_assert_int_eq(sorter_next(so, &row), RDB_ROW);
		ck_assert_int_eq(row[0].i, i);
	}
	ck_assert_int_eq(sorter_next(so, &row), RDB_DONE);
	sorter_free(so);
	os_mem_free(vfs);
}
END_TEST

START_TEST(test_grouptop_sorter_negative_limit_is_misuse)
{
	rdb_err err = { 0 };
	int col = 0;
	sorter_opts o;
	sorter *so = NULL;

	memset(&o, 0, sizeof(o));
	o.width = 1;
	o.ncols = 1;
	o.cols = &col;
	o.budget = SIZE_MAX;
	o.page_size = 1024;
	o.limit = -1;
	ck_assert_int_eq(sorter_new(&o, &err, &so), RDB_MISUSE);
	ck_assert_ptr_null(so);
}
END_TEST

/* ---- rows as text ----------------------------------------------------------- */

static void put_value(sbuf *b, int type, long long i, double r,
		      const unsigned char *p, int n)
{
	switch (type) {
	case 1: sb_add(b, "%lld", i); break;
	case 2: sb_add(b, "%.15g", r); break;
	case 3: case 4: sb_add(b, "%.*s", n, p ? (const char *)p : ""); break;
	default: sb_add(b, "NULL"); break;
	}
}

/* "<n> rows\n" and a line per row (values joined by '|'), sorted
 * unless ordered. */
static char *rdb_rows(rdb *db, const char *sql, int ordered)
{
	return su_rdb_rows(db, sql, put_value, "|", ordered);
}

static char *sqlite_rows(sqlite3 *db, const char *sql, int ordered)
{
	return su_sqlite_rows(db, sql, put_value, "|", ordered);
}

#define QEQ(db, sql, want)                                                   \
	do {                                                                 \
		char *got_ = rdb_rows((db), (sql), 1);                      \
		ck_assert_msg(strcmp(got_, (want)) == 0, "%s:\n%swant:\n%s", \
			      (sql), got_, (want));                          \
		free(got_);                                                  \
	} while (0)

#define PLAN_HAS(db, sql, text)                                              \
	do {                                                                 \
		char *p_ = su_plan((db), (sql));                             \
		ck_assert_msg(strstr(p_, (text)) != NULL, "%s: %s", (sql),   \
			      p_);                                           \
		free(p_);                                                    \
	} while (0)

/* ---- fixed cases -------------------------------------------------------------- */

static void fixture(rdb *db)
{
	su_ok(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER, b TEXT, "
		  "v INTEGER)");
	su_ok(db, "CREATE INDEX t_a ON t(a)");
	su_ok(db, "CREATE INDEX t_ba ON t(b, a)");
	su_ok(db, "INSERT INTO t VALUES (1, 2, 'x', 10), (2, NULL, 'y', 5), "
		  "(3, 2, 'x', 10), (4, 1, NULL, 7), (5, NULL, 'x', NULL), "
		  "(6, 3, 'y', 1), (7, 1, 'z', 7), (8, NULL, 'x', 3)");
}

START_TEST(test_grouptop_stream_group_edge_cases)
{
	rdb *db = su_open_mem("grouptop", 0);
	const char *q = "SELECT a, count(*), sum(v) FROM t WHERE b = 'x' "
			"GROUP BY a";

	fixture(db);
	PLAN_HAS(db, q, "SEARCH t USING INDEX t_ba (b=?);"
		 "USE KEY ORDER FOR GROUP BY");
	PLAN_HAS(db, "SELECT a, count(*) FROM t WHERE b = 'x' GROUP BY +a",
		 "USE TEMP B-TREE FOR GROUP BY");
	PLAN_HAS(db, "SELECT a, count(*) FROM t GROUP BY a",
		 "USE TEMP B-TREE FOR GROUP BY");
	/* NULL is a group of its own, first. */
	QEQ(db, q, "2 rows\nNULL|2|3\n2|2|20\n");
	QEQ(db, "SELECT a, count(DISTINCT v), count(*) FROM t WHERE b = 'x' "
		"GROUP BY a", "2 rows\nNULL|1|2\n2|1|2\n");
	QEQ(db, "SELECT a, max(id) FROM t WHERE b = 'x' GROUP BY a",
	    "2 rows\nNULL|8\n2|3\n");
	PLAN_HAS(db, "SELECT a, count(*) FROM t WHERE a > 0 GROUP BY a",
		 "USE KEY ORDER FOR GROUP BY");
	QEQ(db, "SELECT a, count(*) FROM t WHERE a > 0 GROUP BY a "
		"HAVING count(*) > 1", "2 rows\n1|2\n2|2\n");
	QEQ(db, "SELECT a, count(*) FROM t WHERE a > 0 GROUP BY a "
		"HAVING sum(v) < 0", "0 rows\n");
	QEQ(db, "SELECT a, count(DISTINCT v), sum(DISTINCT v), count(v) "
		"FROM t WHERE a > 0 GROUP BY a", "3 rows\n1|1|7|2\n"
		"2|1|10|2\n3|1|1|1\n");
	/* Two columns of an index. */
	PLAN_HAS(db, "SELECT b, a, count(*) FROM t WHERE b > 'a' "
		 "GROUP BY b, a", "USE KEY ORDER FOR GROUP BY");
	QEQ(db, "SELECT b, a, count(*) FROM t WHERE b > 'a' GROUP BY b, a",
	    "5 rows\nx|NULL|2\nx|2|2\ny|NULL|1\ny|3|1\nz|1|1\n");
	/* Not in the index's order: the table. */
	PLAN_HAS(db, "SELECT b, a, count(*) FROM t WHERE b > 'a' "
		 "GROUP BY a, b", "USE TEMP B-TREE FOR GROUP BY");
	/* The rowid is unique: any columns of the row may follow it. */
	PLAN_HAS(db, "SELECT id, b, v FROM t GROUP BY id, b",
		 "USE KEY ORDER FOR GROUP BY");
	QEQ(db, "SELECT id, b FROM t WHERE id < 3 GROUP BY id, b",
	    "2 rows\n1|x\n2|y\n");
	/* LIMIT stops early; empty input gives no groups. */
	QEQ(db, "SELECT a, count(*) FROM t WHERE a > 0 GROUP BY a "
		"LIMIT 2 OFFSET 1", "2 rows\n2|2\n3|1\n");
	QEQ(db, "SELECT a, count(*) FROM t WHERE a > 100 GROUP BY a",
	    "0 rows\n");
	QEQ(db, "SELECT count(*) FROM t WHERE v > 100", "1 rows\n0\n");
	su_ok(db, "CREATE TABLE e(k INTEGER PRIMARY KEY, w)");
	PLAN_HAS(db, "SELECT k, count(*) FROM e GROUP BY k",
		 "USE KEY ORDER FOR GROUP BY");
	QEQ(db, "SELECT k, count(*) FROM e GROUP BY k", "0 rows\n");
	/* A join: the outer source gives the order. */
	su_ok(db, "INSERT INTO e VALUES (1, 'one'), (2, 'two'), (3, 'three'), "
		  "(4, 'four')");
	PLAN_HAS(db, "SELECT e.k, count(t.id) FROM e LEFT JOIN t ON t.a = e.k "
		 "GROUP BY e.k", "USE KEY ORDER FOR GROUP BY");
	QEQ(db, "SELECT e.k, e.w, count(t.id), sum(t.v) FROM e LEFT JOIN t "
		"ON t.a = e.k GROUP BY e.k", "4 rows\n1|one|2|14\n"
		"2|two|2|20\n3|three|1|1\n4|four|0|NULL\n");
	QEQ(db, "SELECT e.k, count(*) FROM e JOIN t ON t.a = e.k "
		"GROUP BY e.k HAVING max(t.v) > 5 ORDER BY 2 DESC, 1 LIMIT 5",
	    "2 rows\n1|2\n2|2\n");
	/* A DESC index column: the table. */
	su_ok(db, "CREATE INDEX t_vd ON t(v DESC)");
	PLAN_HAS(db, "SELECT v, count(*) FROM t WHERE v > 0 GROUP BY v",
		 "USE TEMP B-TREE FOR GROUP BY");
	QEQ(db, "SELECT v, count(*) FROM t WHERE v > 0 GROUP BY v",
	    "5 rows\n1|1\n3|1\n5|1\n7|2\n10|2\n");
	ck_assert_int_eq(rdb_close(db), RDB_OK);
}
END_TEST

START_TEST(test_grouptop_topn_edge_cases)
{
	rdb *db = su_open_mem("grouptop", 0);

	fixture(db);
	PLAN_HAS(db, "SELECT id FROM t ORDER BY v LIMIT 3",
		 "USE TOP-N HEAP FOR ORDER BY");
	PLAN_HAS(db, "SELECT id FROM t ORDER BY v", "USE TEMP B-TREE FOR "
		 "ORDER BY");
	PLAN_HAS(db, "SELECT DISTINCT v FROM t ORDER BY v LIMIT 3",
		 "USE TEMP B-TREE FOR ORDER BY");
	/* Ties keep the order the rows came in (the table's), as a full
	 * sort does; NULLs first ascending, last descending. */
	QEQ(db, "SELECT id, v FROM t ORDER BY v LIMIT 3",
	    "3 rows\n5|NULL\n6|1\n8|3\n");
	QEQ(db, "SELECT id, v FROM t ORDER BY v DESC LIMIT 3",
	    "3 rows\n1|10\n3|10\n4|7\n");
	QEQ(db, "SELECT id, v FROM t ORDER BY v DESC LIMIT 2 OFFSET 1",
	    "2 rows\n3|10\n4|7\n");
	QEQ(db, "SELECT id, v FROM t ORDER BY v NULLS LAST LIMIT 2 OFFSET 6",
	    "2 rows\n3|10\n5|NULL\n");
	QEQ(db, "SELECT id, v FROM t ORDER BY v DESC NULLS FIRST LIMIT 2",
	    "2 rows\n5|NULL\n1|10\n");
	QEQ(db, "SELECT id, a, v FROM t ORDER BY a DESC, v ASC LIMIT 4",
	    "4 rows\n6|3|1\n1|2|10\n3|2|10\n4|1|7\n");
	QEQ(db, "SELECT id FROM t ORDER BY v LIMIT 0", "0 rows\n");
	QEQ(db, "SELECT id FROM t ORDER BY v LIMIT 100",
	    "8 rows\n5\n6\n8\n2\n4\n7\n1\n3\n");
	QEQ(db, "SELECT id FROM t ORDER BY v LIMIT 100 OFFSET 7",
	    "1 rows\n3\n");
	QEQ(db, "SELECT id FROM t ORDER BY v LIMIT -1 OFFSET 6",
	    "2 rows\n1\n3\n");
	QEQ(db, "SELECT id FROM t ORDER BY v LIMIT 2 OFFSET 10", "0 rows\n");
	/* After grouping, over a compound, and with DISTINCT. */
	QEQ(db, "SELECT b, sum(v) AS s FROM t GROUP BY b ORDER BY s DESC "
		"LIMIT 2", "2 rows\nx|23\nNULL|7\n");
	QEQ(db, "SELECT v FROM t UNION ALL SELECT a FROM t ORDER BY 1 DESC "
		"LIMIT 3", "3 rows\n10\n10\n7\n");
	QEQ(db, "SELECT DISTINCT v FROM t ORDER BY v DESC LIMIT 3",
	    "3 rows\n10\n7\n5\n");
	ck_assert_int_eq(rdb_close(db), RDB_OK);
}
END_TEST

/* ---- random queries ------------------------------------------------------------- */

typedef struct gen {
	uint64_t rng;
	sbuf sql;
} gen;

static long rnd(gen *g, long n)
{
	return (long)tu_rand_below(&g->rng, (uint64_t)n);
}

/* The same rows into rdb and SQLite: t(id, a, b, c, v) with indexes on
 * (a, b) and on c, and u(k, w) keyed by k; NULLs and duplicates. */
static void gen_data(gen *g, rdb *db, sqlite3 *s, long n)
{
	static const char *ddl =
		"CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, "
		"c TEXT, v INTEGER);"
		"CREATE INDEX t_ab ON t(a, b);"
		"CREATE INDEX t_c ON t(c);"
		"CREATE TABLE u(k INTEGER PRIMARY KEY, w TEXT);";
	sbuf b = {0};
	long i;
	int j;

	su_ok(db, ddl);
	ck_assert_int_eq(sqlite3_exec(s, ddl, NULL, NULL, NULL), SQLITE_OK);
	sb_add(&b, "BEGIN;");
	for (i = 1; i <= n; i++) {
		sb_add(&b, "INSERT INTO t VALUES (%ld, ", i);
		if (rnd(g, 8) == 0)
			sb_add(&b, "NULL, ");
		else
			sb_add(&b, "%ld, ", rnd(g, n / 6 + 2));
		if (rnd(g, 6) == 0)
			sb_add(&b, "NULL, ");
		else
			sb_add(&b, "%ld, ", rnd(g, 5));
		if (rnd(g, 7) == 0) {
			sb_add(&b, "NULL, ");
		} else {
			sb_add(&b, "'");
			for (j = (int)rnd(g, 3); j >= 0; j--)
				sb_add(&b, "%c", (char)('p' + rnd(g, 3)));
			if (rnd(g, 10) == 0)
				for (j = 0; j < 120; j++)
					sb_add(&b, "%c", (char)('a' + j % 26));
			sb_add(&b, "', ");
		}
		if (rnd(g, 9) == 0)
			sb_add(&b, "NULL);");
		else
			sb_add(&b, "%ld);", rnd(g, 200) - 100);
	}
	for (i = 0; i < n / 8 + 2; i++)
		sb_add(&b, "INSERT INTO u VALUES (%ld, 'w%ld');", i, rnd(g, 4));
	sb_add(&b, "COMMIT;");
	su_ok(db, b.p);
	ck_assert_int_eq(sqlite3_exec(s, b.p, NULL, NULL, NULL), SQLITE_OK);
	free(b.p);
}

/* A GROUP BY the plan streams: *stream gets it, *table the same query
 * grouping through the table (a unary + makes a term no column). */
static void gen_group(gen *g, sbuf *stream, sbuf *table)
{
	static const char *aggs[] = {
		"count(*)", "sum(t.v)", "min(t.c)", "max(t.v)",
		"count(DISTINCT t.b)", "sum(DISTINCT t.v)", "total(t.v)",
		"count(t.c)", "max(t.c)"
	};
	static const char *keys[][2] = {
		{ "t.a", "+t.a" }, { "t.a, t.b", "+t.a, t.b" },
		{ "t.c", "+t.c" }, { "t.id", "+t.id" },
		{ "t.id, t.c", "+t.id, t.c" }
	};
	static const char *outs[] = { "t.a", "t.a, t.b", "t.c", "t.id",
				      "t.id, t.c" };
	static const char *where[] = {
		"", " WHERE t.v > 0", " WHERE t.a = 3", " WHERE t.a > 2",
		" WHERE t.c = 'pq'", " WHERE t.c > 'p'", " WHERE t.a < 5"
	};
	static const char *having[] = {
		"", " HAVING count(*) > 1", " HAVING sum(t.v) < 0",
		" HAVING max(t.c) IS NULL"
	};
	int k = (int)rnd(g, 5), w = (int)rnd(g, 7), h = (int)rnd(g, 4), i;
	int join = (int)rnd(g, 3);
	sbuf *b[2] = { stream, table };
	const char *a1 = aggs[rnd(g, 9)], *a2 = aggs[rnd(g, 9)];
	long lim = rnd(g, 4) == 0 ? rnd(g, 10) : -1;

	for (i = 0; i < 2; i++) {
		sb_add(b[i], "SELECT %s, %s, %s", outs[k], a1, a2);
		if (join)
			sb_add(b[i], ", count(u.w), max(u.w)");
		sb_add(b[i], " FROM t");
		if (join)
			sb_add(b[i], " %sJOIN u ON u.k = t.b", join == 2 ?
			       "LEFT " : "");
		sb_add(b[i], "%s GROUP BY %s%s", where[w], keys[k][i],
		       having[h]);
		if (lim >= 0)
			sb_add(b[i], " ORDER BY %s LIMIT %ld", outs[k], lim);
	}
}

/* ORDER BY keys for a top-N query: t's columns in random directions,
 * the rowid last when unique (so SQLite's order is fully fixed). */
static void gen_order(gen *g, sbuf *b, int unique)
{
	static const char *cols[] = { "a", "b", "c", "v", "length(c)" };
	static const char *dirs[] = { "", " ASC", " DESC", " NULLS FIRST",
				      " DESC NULLS LAST", " ASC NULLS LAST" };
	int n = 1 + (int)rnd(g, 3), i;

	for (i = 0; i < n; i++)
		sb_add(b, "%s%s%s", i ? ", " : "", cols[rnd(g, 5)],
		       dirs[rnd(g, 6)]);
	if (unique)
		sb_add(b, ", id%s", rnd(g, 2) ? " DESC" : "");
}

static void gen_limit(gen *g, sbuf *b, long n)
{
	long lim = rnd(g, 3) == 0 ? rnd(g, n + 20) : rnd(g, 12);

	sb_add(b, " LIMIT %ld", lim);
	if (rnd(g, 2))
		sb_add(b, " OFFSET %ld", rnd(g, 3) ? rnd(g, 5) : rnd(g, n));
}

/* Top-N queries: against a full sort in rdb (ties included) and against
 * SQLite (a unique key last). */
static void check_topn(gen *g, rdb *db, sqlite3 *s, long n)
{
	sbuf order = {0}, lim = {0}, q1 = {0}, q2 = {0};
	int grouped = rnd(g, 4) == 0;
	char *x, *y;

	if (grouped) {
		sb_add(&order, "%s", rnd(g, 2) ? "2 DESC, 1" : "3, 1 DESC");
		sb_add(&q1, "SELECT a, count(*), sum(v) FROM t GROUP BY a");
	} else {
		gen_order(g, &order, rnd(g, 2));
		sb_add(&q1, "SELECT id, a, c, v FROM t");
	}
	gen_limit(g, &lim, n);
	sb_add(&q2, "SELECT * FROM (%s ORDER BY %s)%s", q1.p, order.p, lim.p);
	sb_add(&q1, " ORDER BY %s%s", order.p, lim.p);
	x = rdb_rows(db, q1.p, 1);
	y = rdb_rows(db, q2.p, 1);
	ck_assert_msg(strcmp(x, y) == 0, "%s\nrdb:\n%sfull sort:\n%s", q1.p,
		      x, y);
	free(y);
	if (grouped || strstr(order.p, ", id") != NULL) {
		y = sqlite_rows(s, q1.p, 1);
		ck_assert_msg(strcmp(x, y) == 0, "%s\nrdb:\n%ssqlite:\n%s",
			      q1.p, x, y);
		free(y);
	}
	free(x);
	free(order.p);
	free(lim.p);
	free(q1.p);
	free(q2.p);
}

static void check_group(gen *g, rdb *db, sqlite3 *s, long *streamed)
{
	sbuf a = {0}, b = {0};
	char *x, *y, *z, *plan;

	gen_group(g, &a, &b);
	plan = su_plan(db, a.p);
	*streamed += strstr(plan, "USE KEY ORDER FOR GROUP BY") != NULL;
	free(plan);
	/* Both in key order: compare them as they come. */
	x = rdb_rows(db, a.p, 1);
	y = rdb_rows(db, b.p, 1);
	ck_assert_msg(strcmp(x, y) == 0, "%s\nstreamed:\n%sgroup table:\n%s",
		      a.p, x, y);
	free(x);
	x = rdb_rows(db, a.p, 0);
	z = sqlite_rows(s, a.p, 0);
	ck_assert_msg(strcmp(x, z) == 0, "%s\nrdb:\n%ssqlite:\n%s", a.p, x,
		      z);
	free(x);
	free(y);
	free(z);
	free(a.p);
	free(b.p);
}

/* cache_pages 0: the default cache; 16: a sorter budget of 64 KiB, so
 * wide top-N sorts leave the heap and spill. */
static void differential(long cache_pages)
{
	uint64_t seed = tu_seed();
	gen g = { .rng = seed ? seed : 1 };
	long rounds = tu_scaled(4, 2), r, q, n, streamed = 0, total = 0;

	tu_seed_note("grouptop differential", seed);
	for (r = 0; r < rounds; r++) {
		rdb *db = su_open_mem("grouptop", cache_pages);
		sqlite3 *s = NULL;

		n = 50 + rnd(&g, r == 0 ? 3000 : 400);
		ck_assert_int_eq(sqlite3_open(":memory:", &s), SQLITE_OK);
		gen_data(&g, db, s, n);
		for (q = 0; q < 40; q++, total++) {
			check_group(&g, db, s, &streamed);
			check_topn(&g, db, s, n);
		}
		sqlite3_close(s);
		ck_assert_int_eq(rdb_close(db), RDB_OK);
	}
	ck_assert_int_gt(streamed, total / 5);
}

START_TEST(test_grouptop_random_queries_match_table_sort_and_sqlite)
{
	differential(0);
}
END_TEST

START_TEST(test_grouptop_random_queries_spilling_match)
{
	differential(16);
}
END_TEST

/* A wide top-N past the sorter's budget (64 KiB with 16 pages of
 * cache) becomes a full sort that spills, with the same rows. */
START_TEST(test_grouptop_wide_topn_past_budget_same_rows)
{
	rdb *big = su_open_mem("grouptop", 0);
	rdb *small = su_open_mem("grouptop", 16);
	const char *q = "SELECT id, substr(p, 1, 5) FROM w ORDER BY k DESC, "
			"id LIMIT 900 OFFSET 7";
	rdb *dbs[2] = { big, small };
	char *x, *y;
	int i;

	for (i = 0; i < 2; i++) {
		sbuf b = {0};
		long j;

		sb_add(&b, "CREATE TABLE w(id INTEGER PRIMARY KEY, k, p);BEGIN;");
		for (j = 0; j < 3000; j++)
			sb_add(&b, "INSERT INTO w VALUES (%ld, %ld, "
			       "printf('%%0400d', %ld));", j, (j * 7919) % 97,
			       j);
		sb_add(&b, "COMMIT;");
		su_ok(dbs[i], b.p);
		free(b.p);
	}
	x = rdb_rows(big, q, 1);
	y = rdb_rows(small, q, 1);
	ck_assert_str_eq(x, y);
	ck_assert_ptr_nonnull(strstr(x, "900 rows\n"));
	free(x);
	free(y);
	ck_assert_int_eq(rdb_close(big), RDB_OK);
	ck_assert_int_eq(rdb_close(small), RDB_OK);
}
END_TEST

/* ---- index joins ------------------------------------------------------------------ */

/* The bench's join (src/table/cursor.c: in a read transaction the rows an
 * index names are read through one B+ tree cursor that keeps its inner
 * nodes pinned; in a write transaction they are copied) on a table of
 * several levels: the same groups in a read transaction with a pool that
 * keeps paths, one too small to, and a write transaction, and each sum
 * equal to the one computed here. */
START_TEST(test_grouptop_index_join_rows_same_in_every_transaction)
{
	const char *q = "SELECT u.id, u.name, sum(o.amount) FROM u JOIN o ON "
			"o.uid = u.id GROUP BY u.id";
	enum { NU = 1500, NO = 9000 };
	static long sum[NU + 1];
	rdb *big = su_open_mem("gtjoin1", 2000);
	rdb *small = su_open_mem("gtjoin2", 20);
	rdb *dbs[2] = { big, small };
	sbuf b = { 0 }, w = { 0 };
	char *x, *y, *z;
	long i, uid;
	int d;

	for (i = 1; i <= NU; i++)
		sum[i] = 0;
	sb_add(&b, "BEGIN; CREATE TABLE u(id INTEGER PRIMARY KEY, name "
	       "TEXT); CREATE TABLE o(id INTEGER PRIMARY KEY, uid INTEGER, "
	       "amount INTEGER, pad TEXT); CREATE TABLE scratch(a);");
	for (i = 1; i <= NU; i++)
		sb_add(&b, "INSERT INTO u VALUES (%ld, 'user%ld');", i, i);
	for (i = 1; i <= NO; i++) {
		uid = 1 + (i * 7919) % NU;
		sum[uid] += i % 100;
		sb_add(&b, "INSERT INTO o VALUES (%ld, %ld, %ld, "
		       "printf('%%060d', %ld));", i, uid, i % 100, i);
	}
	sb_add(&b, "CREATE INDEX o_uid ON o(uid); COMMIT;");
	for (d = 0; d < 2; d++)
		su_ok(dbs[d], b.p);
	free(b.p);
	PLAN_HAS(big, q, "SEARCH o USING INDEX o_uid (uid=?)");
	x = rdb_rows(big, q, 1);
	y = rdb_rows(small, q, 1);
	su_ok(big, "BEGIN; INSERT INTO scratch VALUES (1);");
	z = rdb_rows(big, q, 1);        /* inside a write transaction */
	su_ok(big, "ROLLBACK;");
	ck_assert_str_eq(x, y);
	ck_assert_str_eq(x, z);
	sb_add(&w, "%d rows\n", NU);
	for (i = 1; i <= NU; i++)
		sb_add(&w, "%ld|user%ld|%ld\n", i, i, sum[i]);
	ck_assert_str_eq(x, w.p);
	free(w.p);
	free(x);
	free(y);
	free(z);
	ck_assert_int_eq(rdb_close(big), RDB_OK);
	ck_assert_int_eq(rdb_close(small), RDB_OK);
}
END_TEST

/* ---- errors ---------------------------------------------------------------------- */

static void fail_every_allocation(const char *q)
{
	rdb *db = su_open_mem("grouptop", 0);
	char *want, *got;
	long n, failures = 0;
	int rc, failed;

	fixture(db);
	want = su_run_failing(db, q, 0, put_value, &rc, &failed);
	ck_assert_ptr_nonnull(want);
	for (n = 1;; n++) {
		got = su_run_failing(db, q, n, put_value, &rc, &failed);
		if (got == NULL) {
			ck_assert_msg(rc == RDB_NOMEM && failed, "allocation "
				      "%ld: %d %s", n, rc, rdb_errmsg(db));
			failures++;
			continue;
		}
		ck_assert_msg(strcmp(got, want) == 0, "allocation %ld", n);
		free(got);
		if (!failed)
			break;
	}
	ck_assert_msg(failures > 5, "%ld failures", failures);
	free(want);
	ck_assert_int_eq(rdb_close(db), RDB_OK);
}

START_TEST(test_grouptop_alloc_failure_is_clean_error)
{
	fail_every_allocation("SELECT a, count(DISTINCT v), max(b) FROM t "
			      "GROUP BY a HAVING count(*) > 0");
	fail_every_allocation("SELECT a, sum(v) AS s FROM t GROUP BY a "
			      "ORDER BY s DESC, a LIMIT 2");
	fail_every_allocation("SELECT id, b FROM t ORDER BY b DESC, v "
			      "LIMIT 3 OFFSET 1");
	/* Rows through an index: the row lookups' own cursor. */
	fail_every_allocation("SELECT x.id, x.b, sum(y.v) FROM t x JOIN t y "
			      "ON y.a = x.id GROUP BY x.id");
}
END_TEST

Suite *grouptop_suite(void)
{
	Suite *s = suite_create("grouptop");
	TCase *tc = tcase_create("model");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_grouptop_sorter_limit_matches_qsort_prefix);
	tcase_add_test(tc, test_grouptop_sorter_worst_order_stays_bounded);
	tcase_add_test(tc, test_grouptop_sorter_negative_limit_is_misuse);
	suite_add_tcase(s, tc);
	tc = tcase_create("fixed");
	tcase_add_test(tc, test_grouptop_stream_group_edge_cases);
	tcase_add_test(tc, test_grouptop_topn_edge_cases);
	tcase_add_test(tc, test_grouptop_wide_topn_past_budget_same_rows);
	suite_add_tcase(s, tc);
	tc = tcase_create("differential");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_grouptop_random_queries_match_table_sort_and_sqlite);
	tcase_add_test(tc, test_grouptop_random_queries_spilling_match);
	tcase_add_test(tc,
		test_grouptop_index_join_rows_same_in_every_transaction);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_grouptop_alloc_failure_is_clean_error);
	suite_add_tcase(s, tc);
	return s;
}
