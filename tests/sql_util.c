/*
 * sql_util.c -- SQL test helpers; see sql_util.h.
 */
#include "sql_util.h"
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mem.h"

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
