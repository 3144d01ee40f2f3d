/*
 * sql_util.c -- SQL test helpers; see sql_util.h.
 */
#include "sql_util.h"
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "mem.h"
#include "test_util.h"

static char out[65536];

void su_ok(rdb *db, const char *sql)
{
	char *msg = NULL;
	int rc = rdb_exec(db, sql, NULL, NULL, &msg);

	ck_assert_msg(rc == RDB_OK, "%s: %s", sql, msg ? msg : "?");
	rdb_free_msg(msg);
}

static int collect(void *arg, int n, char **vals, char **names)
{
	size_t len = strlen(out);
	int i;

	(void)arg;
	(void)names;
	if (len > 0)
		out[len++] = '\n';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s",
					i ? "|" : "", vals[i] ? vals[i]
							      : "NULL");
	out[len] = '\0';
	return 0;
}

const char *su_query(rdb *db, const char *sql)
{
	char *msg = NULL;
	int rc;

	out[0] = '\0';
	rc = rdb_exec(db, sql, collect, NULL, &msg);
	ck_assert_msg(rc == RDB_OK, "%s: %s", sql, msg ? msg : "?");
	rdb_free_msg(msg);
	return out;
}

void sb_add(sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int need;

	for (;;) {
		size_t room = b->cap - b->n;

		va_start(ap, fmt);
		need = vsnprintf(b->p ? b->p + b->n : NULL, room, fmt, ap);
		va_end(ap);
		ck_assert_int_ge(need, 0);
		if ((size_t)need < room) {
			b->n += (size_t)need;
			return;
		}
		b->cap = (b->cap + (size_t)need + 64) * 2;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
}

char *sb_take(sbuf *b)
{
	char *p = b->p ? b->p : strdup("");

	*b = (sbuf){0};
	return p;
}

int su_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void su_pair_open(su_pair *p)
{
	tu_tmp_path(p->path, sizeof(p->path));
	ck_assert_int_eq(rdb_open(p->path, &p->db), RDB_OK);
	ck_assert_int_eq(sqlite3_open(":memory:", &p->lite), SQLITE_OK);
}

void su_pair_close(su_pair *p)
{
	ck_assert_int_eq(rdb_close(p->db), RDB_OK);
	ck_assert_int_eq(sqlite3_close(p->lite), SQLITE_OK);
	tu_unlink_db(p->path);
}

rdb *su_open_mem(const char *name, long cache_pages)
{
	rdb_open_opts o = { .flags = RDB_OPEN_MEMORY,
			    .cache_pages = cache_pages };
	rdb *db = NULL;

	ck_assert_int_eq(rdb_open_v2(name, &db, &o), RDB_OK);
	return db;
}

char *su_plan(rdb *db, const char *sql)
{
	sbuf q = {0}, b = {0};
	rdb_stmt *st = NULL;

	sb_add(&q, "EXPLAIN QUERY PLAN %s", sql);
	ck_assert_int_eq(rdb_prepare(db, q.p, -1, &st, NULL), RDB_OK);
	while (rdb_step(st) == RDB_ROW)
		sb_add(&b, "%s;", (const char *)rdb_column_text(st, 3));
	rdb_finalize(st);
	free(q.p);
	return sb_take(&b);
}

void su_expect_plan(rdb *db, const char *sql, const char *want)
{
	char *plan = su_plan(db, sql);

	ck_assert_msg(strcmp(plan, want) == 0, "plan of %s: %s, not %s", sql,
		      plan, want);
	free(plan);
}

char *su_run_failing(rdb *db, const char *q, long n, su_put_fn put,
		     int *rc_out, int *failed)
{
	rdb_stmt *st = NULL;
	sbuf b = {0};
	int rc, i;

	rdb_mem_fail_at(n, 0);
	rc = rdb_prepare(db, q, -1, &st, NULL);
	while (rc == RDB_OK || rc == RDB_ROW) {
		if ((rc = rdb_step(st)) != RDB_ROW)
			break;
		for (i = 0; i < rdb_column_count(st); i++)
			put(&b, rdb_column_type(st, i),
			    (long long)rdb_column_int64(st, i),
			    rdb_column_double(st, i), NULL, 0);
		sb_add(&b, "\n");
	}
	rdb_finalize(st);
	*failed = rdb_mem_failed();
	rdb_mem_fail_at(0, 0);
	*rc_out = rc;
	if (rc != RDB_DONE) {
		free(b.p);
		return NULL;
	}
	return sb_take(&b);
}

/* ---- rows of rdb and SQLite as text ------------------------------------------ */

void su_put_typed(sbuf *b, int type, long long i, double r,
		  const unsigned char *p, int n)
{
	int k;

	switch (type) {
	case 1: sb_add(b, "I%lld|", i); break;
	case 2: sb_add(b, "R%.15g|", r); break;
	case 3: case 4:
		sb_add(b, "%c", type == 3 ? 'T' : 'B');
		for (k = 0; k < n; k++)
			sb_add(b, "%02x", p[k]);
		sb_add(b, "|");
		break;
	default: sb_add(b, "N|"); break;
	}
}

typedef struct lines {
	char **line;
	int n;
} lines;

static void lines_add(lines *l, sbuf *b)
{
	l->line = realloc(l->line, sizeof(char *) * (size_t)(l->n + 1));
	ck_assert_ptr_nonnull(l->line);
	l->line[l->n++] = sb_take(b);
}

/* "<n> rows\n" and the lines, sorted unless ordered; frees the lines. */
static char *lines_text(lines *l, int ordered)
{
	sbuf b = {0};
	int i;

	if (!ordered && l->n > 1)
		qsort(l->line, (size_t)l->n, sizeof(char *), su_cmp_str);
	sb_add(&b, "%d rows\n", l->n);
	for (i = 0; i < l->n; i++) {
		sb_add(&b, "%s\n", l->line[i]);
		free(l->line[i]);
	}
	free(l->line);
	return sb_take(&b);
}

char *su_rdb_rows(rdb *db, const char *sql, su_put_fn put, const char *sep,
		  int ordered)
{
	rdb_stmt *st = NULL;
	lines l = {0};
	int rc, i, t, nc;

	rc = rdb_prepare(db, sql, -1, &st, NULL);
	ck_assert_msg(rc == RDB_OK, "%s: %s", sql, rdb_errmsg(db));
	while ((rc = rdb_step(st)) == RDB_ROW) {
		sbuf b = {0};

		nc = rdb_column_count(st);
		for (i = 0; i < nc; i++) {
			t = rdb_column_type(st, i);
			put(&b, t, (long long)rdb_column_int64(st, i),
			    rdb_column_double(st, i),
			    t == RDB_BLOB ? rdb_column_blob(st, i)
					  : rdb_column_text(st, i),
			    rdb_column_bytes(st, i));
			sb_add(&b, "%s", i + 1 < nc ? sep : "");
		}
		lines_add(&l, &b);
	}
	ck_assert_msg(rc == RDB_DONE, "%s: %s", sql, rdb_errmsg(db));
	rdb_finalize(st);
	return lines_text(&l, ordered);
}

char *su_sqlite_rows(sqlite3 *db, const char *sql, su_put_fn put,
		     const char *sep, int ordered)
{
	sqlite3_stmt *st = NULL;
	lines l = {0};
	int rc, i, t, nc;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sbuf b = {0};

		nc = sqlite3_column_count(st);
		for (i = 0; i < nc; i++) {
			t = sqlite3_column_type(st, i);
			put(&b, t, sqlite3_column_int64(st, i),
			    sqlite3_column_double(st, i),
			    t == SQLITE_BLOB ? sqlite3_column_blob(st, i)
					     : sqlite3_column_text(st, i),
			    sqlite3_column_bytes(st, i));
			sb_add(&b, "%s", i + 1 < nc ? sep : "");
		}
		lines_add(&l, &b);
	}
	ck_assert_msg(rc == SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return lines_text(&l, ordered);
}
